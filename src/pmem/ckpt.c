/*
 * ckpt.c - the two checkpoint areas.
 *
 * The epoch E in the superblock's epoch word names the active area
 * (E & 1) and the log generation.  A checkpoint streams the metadata image
 * into the other area, persists it, writes and persists that area's
 * header (epoch E + 1, length, image checksum, first LSN of the new log
 * generation), and then flips the epoch word to E + 1 with one 8-byte
 * store and persists it.  Until that last persist completes, a crash
 * leaves E: the old, untouched area and the old log.  After it, E + 1: the
 * new image, and a log in which every record carries epoch E and so is
 * stale, i.e. empty.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "common.h"
#include "vol_impl.h"

struct vol_ckpt_writer {
	struct vol	*v;
	uint8_t		*base;		/* the image inside the area */
	uint64_t	cap;
	uint64_t	len;
	uint32_t	crc;
};

struct vol_ckpt_reader {
	const uint8_t	*base;
	uint64_t	len;
	uint64_t	pos;
};

static struct vol_ckpt_hdr *
area_hdr(struct vol *v, uint64_t epoch)
{
	return (struct vol_ckpt_hdr *)(v->base + v->ckpt_off[epoch & 1]);
}

/*
 * Check the header of the active area (not the image: see
 * vol_checkpoint_load()).  Returns 0 and *out, or -EUCLEAN (logged).
 * Locks: none; called at open or with appends kept out.
 */
int
vol_ckpt_hdr_check(struct vol *v, const struct vol_ckpt_hdr **out)
{
	const struct vol_ckpt_hdr *h = area_hdr(v, v->epoch);
	const char *what = NULL;

	if (h->magic != VOL_CKPT_MAGIC)
		what = "no header magic";
	else if (h->hdr_crc != vol_ckpt_hdr_crc(v->seed, h))
		what = "header checksum mismatch";
	else if (h->epoch != v->epoch)
		what = "epoch differs from the superblock's";
	else if (h->len > v->ckpt_size - VOL_CKPT_HDR_SIZE)
		what = "image longer than the area";
	else if (h->first_lsn == 0 || h->first_lsn > UINT64_MAX / 2)
		what = "first LSN out of range";
	if (what) {
		log_error("%s: active checkpoint (area %c, epoch %" PRIu64
			  ") is corrupt: %s", v->path,
			  (v->epoch & 1) ? 'B' : 'A', v->epoch, what);
		return -EUCLEAN;
	}
	*out = h;
	return 0;
}

/* See vol.h. */
int
vol_ckpt_put(struct vol_ckpt_writer *w, const void *buf, size_t len)
{
	if (len > w->cap - w->len)
		return -ENOSPC;
	/*
	 * No barrier per piece: the whole image is persisted once, before
	 * its header, in vol_checkpoint().  On pmem the non-temporal copy
	 * leaves nothing dirty in the cache for that flush to miss.
	 */
	vol_copy_nodrain(w->v, w->base + w->len, buf, len);
	w->crc = vol_crc32c(w->crc, buf, len);
	w->len += len;
	return 0;
}

/* See vol.h. */
int
vol_checkpoint(struct vol *v, int (*save)(void *ctx, struct vol_ckpt_writer *w),
	       void *ctx)
{
	struct vol_ckpt_writer w;
	struct vol_ckpt_hdr *h;
	uint64_t new_epoch, first_lsn;
	int err = 0;

	if (v->rdonly)
		return -EROFS;
	mutex_lock(&v->lock);
	if (vol_is_shutdown(v))
		err = -EIO;
	else if (v->inflight || v->ckpt_running)
		err = -EBUSY;
	else
		v->ckpt_running = true;
	new_epoch = v->epoch + 1;
	first_lsn = v->next_lsn;
	mutex_unlock(&v->lock);
	if (err)
		return err;
	if (new_epoch > UINT32_MAX) {
		vol_shutdown(v, "checkpoint epoch exhausted");
		err = -EIO;
		goto out_done;
	}

	w.v = v;
	w.base = v->base + v->ckpt_off[new_epoch & 1] + VOL_CKPT_HDR_SIZE;
	w.cap = v->ckpt_size - VOL_CKPT_HDR_SIZE;
	w.len = 0;
	w.crc = v->seed;
	err = save(ctx, &w);
	if (err)
		goto out_done;	/* the inactive area is scratch: nothing to undo */
	if (vol_is_shutdown(v)) {
		err = -EIO;
		goto out_done;
	}

	/*
	 * 1. The image is durable before the header that validates it is
	 * written: a header can never describe bytes still in flight.
	 */
	vol_persist_copied(v, w.base, w.len, "ckpt.data");
	h = area_hdr(v, new_epoch);
	h->magic = VOL_CKPT_MAGIC;
	h->epoch = new_epoch;
	h->len = w.len;
	h->data_crc = w.crc;
	h->reserved0 = 0;
	h->first_lsn = first_lsn;
	h->ctime = (uint64_t)time(NULL);
	memset(h->reserved, 0, sizeof(h->reserved));
	h->hdr_crc = vol_ckpt_hdr_crc(v->seed, h);
	/*
	 * 2. The header is durable before the superblock points at this
	 * area.  It may be torn by a crash here; it is not yet active.
	 */
	vol_persist_point(v, h, sizeof(*h), "ckpt.header");
	if (vol_is_shutdown(v)) {
		err = -EIO;
		goto out_done;
	}
	/*
	 * 3. The flip: one aligned 8-byte store, atomic on the media, then
	 * its own barrier.  This persist is the commit point of the
	 * checkpoint and of the log truncation.
	 */
	__atomic_store_n(&v->sb->epoch_word,
			 vol_epoch_word(v->seed, (uint32_t)new_epoch),
			 __ATOMIC_RELEASE);
	vol_persist_words(v, &v->sb->epoch_word, 1, "ckpt.flip");
	if (vol_is_shutdown(v)) {
		err = -EIO;
		goto out_done;
	}

	mutex_lock(&v->lock);
	v->epoch = new_epoch;
	v->first_lsn = first_lsn;
	__atomic_store_n(&v->log_tail, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&v->nrecords, 0, __ATOMIC_RELAXED);
	mutex_unlock(&v->lock);
	log_debug("%s: checkpoint epoch %" PRIu64 ", %" PRIu64 " bytes",
		  v->path, new_epoch, w.len);
out_done:
	mutex_lock(&v->lock);
	v->ckpt_running = false;
	mutex_unlock(&v->lock);
	return err;
}

/* See vol.h. */
int
vol_checkpoint_load(struct vol *v,
		    int (*load)(void *ctx, struct vol_ckpt_reader *r), void *ctx)
{
	const struct vol_ckpt_hdr *h;
	struct vol_ckpt_reader r;
	int err;

	err = vol_ckpt_hdr_check(v, &h);
	if (err)
		return err;
	r.base = (const uint8_t *)h + VOL_CKPT_HDR_SIZE;
	r.len = h->len;
	r.pos = 0;
	if (vol_crc32c(v->seed, r.base, r.len) != h->data_crc) {
		log_error("%s: active checkpoint (epoch %" PRIu64 ", %" PRIu64
			  " bytes) fails its checksum", v->path, v->epoch,
			  r.len);
		return -EUCLEAN;
	}
	return load(ctx, &r);
}

/* See vol.h. */
int
vol_ckpt_get(struct vol_ckpt_reader *r, void *buf, size_t len)
{
	if (len > r->len - r->pos)
		return -ENODATA;
	memcpy(buf, r->base + r->pos, len);
	r->pos += len;
	return 0;
}

/* See vol.h. */
const void *
vol_ckpt_get_ptr(struct vol_ckpt_reader *r, size_t len)
{
	const void *p = r->base + r->pos;

	if (len > r->len - r->pos)
		return NULL;
	r->pos += len;
	return p;
}

uint64_t
vol_ckpt_remaining(const struct vol_ckpt_reader *r)
{
	return r->len - r->pos;
}

uint64_t
vol_epoch(const struct vol *v)
{
	return v->epoch;
}
