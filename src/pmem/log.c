/*
 * log.c - the operation log.
 *
 * The log area holds the records of the current generation (the epoch of
 * the active checkpoint) from its first byte on, one after the other,
 * 8-byte aligned.  Records of older generations may lie beyond the end;
 * they are told apart by their epoch.  A record is valid iff its magic,
 * epoch, LSN (the next one in sequence), boot number (never lower than
 * the previous record's), type and length are right and its CRC-32C
 * (seeded by the volume UUID, over header and payload) matches.  The log
 * ends at the first record that is not valid.
 *
 * Why the boot number: after a crash, a record in the middle of the tail
 * may be torn while a later one (never acknowledged, see
 * vol_log_append()) is intact.  The next boot appends over the torn one
 * with the same LSN; if the new record happens to end exactly where the
 * old later one starts, that old record would be next in sequence.  It
 * carries the older boot number and so ends the log.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common.h"
#include "vol_impl.h"

uint64_t
vol_log_record_size(uint32_t len)
{
	return VOL_LOG_HDR_SIZE + ROUND_UP((uint64_t)len, 8);
}

static uint32_t
record_crc(uint32_t seed, const struct vol_log_hdr *h, const void *payload)
{
	struct vol_log_hdr c = *h;
	uint32_t crc;

	c.crc = 0;
	crc = vol_crc32c(seed, &c, sizeof(c));
	return vol_crc32c(crc, payload, h->len);
}

/*
 * Is the record at byte pos of the log valid as the one with LSN lsn,
 * following a record written at boot prev_boot?  Returns its header or
 * NULL.
 */
static const struct vol_log_hdr *
record_at(const struct vol *v, uint64_t pos, uint64_t lsn, uint32_t prev_boot)
{
	const struct vol_log_hdr *h;

	if (pos + VOL_LOG_HDR_SIZE > v->log_size)
		return NULL;
	h = (const void *)(v->base + v->log_off + pos);
	if (h->magic != VOL_LOG_MAGIC || h->epoch != (uint32_t)v->epoch ||
	    h->lsn != lsn || h->type == 0 || h->flags != 0 ||
	    h->len > VOL_LOG_PAYLOAD_MAX ||
	    pos + vol_log_record_size(h->len) > v->log_size ||
	    h->boot < prev_boot || h->boot > (uint32_t)v->boot)
		return NULL;
	if (h->crc != record_crc(v->seed, h, h + 1))
		return NULL;
	return h;
}

/*
 * Find the end of the current generation (at open, before any append).
 * Locks: none; the volume is not shared yet.
 */
void
vol_log_scan(struct vol *v)
{
	const struct vol_log_hdr *h;
	uint64_t pos = 0, lsn = v->first_lsn;
	uint32_t boot = 0;

	while ((h = record_at(v, pos, lsn, boot)) != NULL) {
		pos += vol_log_record_size(h->len);
		boot = h->boot;
		lsn++;
	}
	v->log_tail = pos;
	v->next_lsn = lsn;
	v->durable_lsn = lsn - 1;
	v->nrecords = lsn - v->first_lsn;
}

/* See vol.h. */
int
vol_log_append(struct vol *v, uint16_t type, const void *payload, uint32_t len)
{
	struct vol_log_hdr h;
	uint64_t size = vol_log_record_size(len), pos, lsn;
	uint8_t *dst;
	int err = 0;

	if (type == 0 || len > VOL_LOG_PAYLOAD_MAX || (len && payload == NULL))
		return -EINVAL;
	if (v->rdonly)
		return -EROFS;

	/* Reserve space and an LSN: the only work under the lock. */
	mutex_lock(&v->lock);
	if (vol_is_shutdown(v)) {
		err = -EIO;
	} else if (v->ckpt_running) {
		err = -EBUSY;	/* caller broke the contract (vol.h) */
	} else if (v->log_tail + size > v->log_size) {
		err = -ENOSPC;
	} else {
		pos = v->log_tail;
		lsn = v->next_lsn++;
		/* atomic store: vol_log_used() reads it without the lock */
		__atomic_store_n(&v->log_tail, pos + size, __ATOMIC_RELAXED);
		v->inflight++;
	}
	mutex_unlock(&v->lock);
	if (err)
		return err;

	memset(&h, 0, sizeof(h));
	h.magic = VOL_LOG_MAGIC;
	h.type = type;
	h.len = len;
	h.epoch = (uint32_t)v->epoch;
	h.boot = (uint32_t)v->boot;
	h.lsn = lsn;
	h.crc = record_crc(v->seed, &h, payload);
	dst = v->base + v->log_off + pos;
	memcpy(dst, &h, sizeof(h));
	if (len)
		memcpy(dst + sizeof(h), payload, len);
	memset(dst + sizeof(h) + len, 0, size - sizeof(h) - len);
	/*
	 * One persist for the whole record.  The media may receive its
	 * cache lines (or, with msync, its sectors) in any order and a crash
	 * may keep any subset of them.  The CRC covers header and payload,
	 * so any subset that leaves the record different from what we wrote
	 * fails the check and ends the log at this record; bytes that did
	 * not reach the media but already held the right value do no harm.
	 * No separate "commit" store and second barrier are needed.
	 */
	vol_persist_point(v, dst, size, "log.append");

	/*
	 * Acknowledge in LSN order: a record whose predecessor is not yet
	 * durable could be cut off by a torn predecessor at replay, so its
	 * caller must not be told it is durable before that one is.
	 */
	mutex_lock(&v->lock);
	while (v->durable_lsn != lsn - 1)
		condvar_wait(&v->durable_cv, &v->lock);
	v->durable_lsn = lsn;
	__atomic_store_n(&v->nrecords, v->nrecords + 1, __ATOMIC_RELAXED);
	v->inflight--;
	condvar_broadcast(&v->durable_cv);
	if (vol_is_shutdown(v))
		err = -EIO;	/* this or an earlier record may not be durable */
	mutex_unlock(&v->lock);
	return err;
}

/* See vol.h. */
int
vol_log_replay(struct vol *v,
	       int (*apply)(void *ctx, uint16_t type, const void *payload,
			    uint32_t len),
	       void *ctx)
{
	const struct vol_log_hdr *h;
	uint64_t pos = 0, lsn = v->first_lsn, end;
	uint32_t boot = 0;
	int err;

	mutex_lock(&v->lock);
	end = v->log_tail;
	mutex_unlock(&v->lock);
	while (pos < end) {
		h = record_at(v, pos, lsn, boot);
		if (h == NULL) {
			/* The log changed under us since open: corrupt media. */
			log_error("%s: log record %" PRIu64 " at %" PRIu64
				  " no longer valid during replay", v->path,
				  lsn, pos);
			vol_shutdown(v, "log corrupted during replay");
			return -EUCLEAN;
		}
		err = apply(ctx, h->type, h + 1, h->len);
		if (err)
			return err;
		pos += vol_log_record_size(h->len);
		boot = h->boot;
		lsn++;
	}
	return 0;
}

uint64_t
vol_log_size(const struct vol *v)
{
	return v->log_size;
}

uint64_t
vol_log_used(const struct vol *v)
{
	return __atomic_load_n(&v->log_tail, __ATOMIC_RELAXED);
}

uint64_t
vol_log_records(const struct vol *v)
{
	return __atomic_load_n(&v->nrecords, __ATOMIC_RELAXED);
}
