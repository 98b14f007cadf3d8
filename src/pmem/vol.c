/*
 * vol.c - mapping a volume, opening and closing it, persistence, the
 * forced shutdown, and the geometry accessors.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "vol_impl.h"

/*
 * Map the whole of path.  Regular files and DAX character devices go
 * through pmem_map_file(), which uses MAP_SYNC where the kernel offers it;
 * pmem_is_pmem() (which honours PMEM_IS_PMEM_FORCE) then picks flush+drain
 * or msync.  Read-only opens of files and every block device use a plain
 * shared mmap() with msync.  Returns 0 or a negative errno (logged).
 */
int
vol_map(const char *path, bool rdonly, uint8_t **base, size_t *len,
	bool *is_pmem, bool *own_map)
{
	struct stat st;
	uint64_t size;
	void *addr;
	int fd, err;

	if (stat(path, &st) < 0) {
		err = -errno;
		log_error("%s: %s", path, strerror(errno));
		return err;
	}
	if (S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && !rdonly)) {
		addr = pmem_map_file(path, 0, 0, 0, len, NULL);
		if (addr == NULL) {
			err = errno ? -errno : -EIO;
			log_error("%s: cannot map: %s", path, pmem_errormsg());
			return err;
		}
		*base = addr;
		*is_pmem = pmem_is_pmem(addr, *len) != 0;
		*own_map = false;
		return 0;
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		log_error("%s: not a regular file or a device", path);
		return -ENODEV;
	}
	fd = open(path, (rdonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error("%s: cannot open: %s", path, strerror(errno));
		return err;
	}
	if (S_ISBLK(st.st_mode)) {
		if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
			err = -errno;
			log_error("%s: cannot get the device size: %s", path,
				  strerror(errno));
			goto out_close;
		}
	} else {
		size = (uint64_t)st.st_size;
	}
	if (size == 0 || size > SIZE_MAX) {
		log_error("%s: size %" PRIu64 " cannot be mapped", path, size);
		err = -EINVAL;
		goto out_close;
	}
	addr = mmap(NULL, (size_t)size, rdonly ? PROT_READ : PROT_READ | PROT_WRITE,
		    MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		err = -errno;
		log_error("%s: cannot map: %s", path, strerror(errno));
		goto out_close;
	}
	close(fd);	/* the mapping keeps the file */
	*base = addr;
	*len = (size_t)size;
	*is_pmem = false;
	*own_map = true;
	return 0;
out_close:
	close(fd);
	return err;
}

/*
 * One user per volume: an advisory flock() on the path, exclusive for
 * read-write use and for formatting, shared for read-only inspection,
 * held until the returned descriptor is closed.  Two servers on one
 * volume, or mkfs under a running server, would destroy it.  Returns the
 * locked descriptor, -EBUSY if another process holds a conflicting lock,
 * or another negative errno (logged).  Locks: none.
 */
int
vol_lock_path(const char *path, bool excl)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error("%s: %s", path, strerror(errno));
		return err;
	}
	if (flock(fd, (excl ? LOCK_EX : LOCK_SH) | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		if (err == -EBUSY)
			log_error("%s: in use by another process (a running "
				  "server, mkfs or fsck)", path);
		else
			log_error("%s: cannot lock: %s", path, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

void
vol_unmap(uint8_t *base, size_t len, bool own_map)
{
	if (own_map)
		munmap(base, len);
	else
		pmem_unmap(base, len);
}

/* How a range reached persist_range(). */
enum persist_how {
	PERSIST_STORED,		/* plain stores: flush and drain */
	PERSIST_WORDS,		/* atomic 8-byte stores: flush and drain, never torn */
	PERSIST_COPIED,		/* pmem_memcpy_nodrain(): already flushed on pmem */
};

static void
msync_or_shutdown(struct vol *v, const void *addr, size_t len)
{
	if (pmem_msync(addr, len) != 0) {
		log_error("%s: msync failed at offset %td: %s", v->path,
			  (const uint8_t *)addr - v->base, strerror(errno));
		vol_shutdown(v, "cannot persist");
	}
}

/*
 * The one place that makes bytes of the mapping durable.  On pmem,
 * pmem_persist() is flush (CLWB/CLFLUSHOPT) + drain (SFENCE): when it
 * returns, every store to [addr, addr + len) made before the call is in
 * the persistence domain.  A range written by pmem_memcpy_nodrain() is
 * already flushed (non-temporal stores or flushes inside the copy), so it
 * needs only the drain.  On anything else msync() gives the same
 * guarantee for the pages covering the range.  A failed msync means we no
 * longer know what is on the media: shut down.  Locks: none.
 */
static void
persist_range(struct vol *v, const void *addr, size_t len, const char *tag,
	      enum persist_how how)
{
	VERIFY(!v->rdonly);
	ASSERT((const uint8_t *)addr >= v->base &&
	       (const uint8_t *)addr + len <= v->base + v->map_len);
	vol_inject_point(tag, how == PERSIST_WORDS ? NULL : (void *)addr, len);
	if (len == 0)
		return;
	if (!v->is_pmem)
		msync_or_shutdown(v, addr, len);
	else if (how == PERSIST_COPIED)
		pmem_drain();
	else
		pmem_persist(addr, len);
}

void
vol_persist_point(struct vol *v, const void *addr, size_t len, const char *tag)
{
	persist_range(v, addr, len, tag, PERSIST_STORED);
}

/* A range written with vol_copy_nodrain(): see persist_range(). */
void
vol_persist_copied(struct vol *v, const void *addr, size_t len,
		   const char *tag)
{
	persist_range(v, addr, len, tag, PERSIST_COPIED);
}

/*
 * Copy into the mapping for a later vol_persist_copied(): non-temporal on
 * pmem, so the data does not linger in the cache.
 */
void
vol_copy_nodrain(struct vol *v, void *dst, const void *src, size_t len)
{
	if (v->is_pmem)
		pmem_memcpy_nodrain(dst, src, len);
	else
		memcpy(dst, src, len);
}

/*
 * Persist aligned 8-byte words, each changed by one atomic store: a crash
 * leaves every word old or new, never torn, so ":torn" injection leaves
 * them alone.
 */
void
vol_persist_words(struct vol *v, const uint64_t *words, size_t n,
		  const char *tag)
{
	ASSERT(((uintptr_t)words & 7) == 0);
	persist_range(v, words, n * sizeof(uint64_t), tag, PERSIST_WORDS);
}

/* See vol.h. */
void
vol_persist(struct vol *v, const void *addr, size_t len, const char *tag)
{
	vol_persist_point(v, addr, len, tag);
}

/* See vol.h. */
void
vol_memcpy_persist(struct vol *v, void *dst, const void *src, size_t len,
		   const char *tag)
{
	VERIFY(!v->rdonly);
	vol_copy_nodrain(v, dst, src, len);
	vol_persist_copied(v, dst, len, tag);
}

/* See vol.h. */
void
vol_flush(struct vol *v, const void *addr, size_t len)
{
	VERIFY(!v->rdonly);
	if (len == 0)
		return;
	if (v->is_pmem)
		pmem_flush(addr, len);
	else
		msync_or_shutdown(v, addr, len);
}

/* See vol.h. */
void
vol_drain(struct vol *v, const char *tag)
{
	VERIFY(!v->rdonly);
	vol_inject_point(tag, NULL, 0);
	if (v->is_pmem)
		pmem_drain();
}

/*
 * Store one dynamic superblock word.  The word is 8-byte aligned, so the
 * store is atomic on the media: after a crash it holds the old or the new
 * value, never a mix.
 */
static void
sb_store_word(uint64_t *word, uint64_t val)
{
	__atomic_store_n(word, val, __ATOMIC_RELEASE);
}

/* See vol.h. */
int
vol_open(const char *path, unsigned flags, struct vol **out)
{
	struct vol *v;
	const struct vol_ckpt_hdr *ch;
	uint32_t epoch;
	int err;

	*out = NULL;
	if (flags & ~VOL_OPEN_RDONLY)
		return -EINVAL;
	err = vol_inject_env();
	if (err)
		return err;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	v->path = strdup(path);
	if (v->path == NULL) {
		err = -ENOMEM;
		goto out_free;
	}
	v->rdonly = flags & VOL_OPEN_RDONLY;
	v->lock_fd = vol_lock_path(path, !v->rdonly);
	if (v->lock_fd < 0) {
		err = v->lock_fd;
		goto out_free_path;
	}
	err = vol_map(path, v->rdonly, &v->base, &v->map_len, &v->is_pmem,
		      &v->own_map);
	if (err)
		goto out_unlock;
	v->sb = (struct vol_sb_disk *)v->base;
	err = vol_sb_validate(path, v->sb, v->map_len);
	if (err)
		goto out_unmap;

	v->block_size = v->sb->block_size;
	v->vol_size = v->sb->vol_size;
	v->ckpt_off[0] = v->sb->ckpt_off[0];
	v->ckpt_off[1] = v->sb->ckpt_off[1];
	v->ckpt_size = v->sb->ckpt_size;
	v->log_off = v->sb->log_off;
	v->log_size = v->sb->log_size;
	v->data_off = v->sb->data_off;
	v->data_blocks = v->sb->data_blocks;
	memcpy(v->uuid, v->sb->uuid, VOL_UUID_LEN);
	v->seed = vol_crc32c(0, v->uuid, VOL_UUID_LEN);
	err = vol_epoch_decode(v->seed, v->sb->epoch_word, &epoch);
	VERIFY(err == 0);	/* vol_sb_validate() checked it */
	v->epoch = epoch;
	v->was_clean = v->sb->clean_word == VOL_SB_CLEAN;
	v->boot = v->sb->boot_count;

	err = vol_ckpt_hdr_check(v, &ch);
	if (err)
		goto out_unmap;
	v->first_lsn = ch->first_lsn;

	mutex_init(&v->lock, "vol");
	condvar_init(&v->durable_cv);
	if (!v->rdonly) {
		/*
		 * Boot count and dirty flag share a cache line; one persist
		 * covers both.  Either may reach the media first; both are
		 * durable before vol_open() returns and thus before the first
		 * change, so a crash in between changed nothing and "clean"
		 * is still the truth.
		 */
		v->boot++;
		sb_store_word(&v->sb->boot_count, v->boot);
		sb_store_word(&v->sb->clean_word, VOL_SB_DIRTY);
		vol_persist_words(v, &v->sb->boot_count, 2, "sb.open");
		if (vol_is_shutdown(v)) {
			err = -EIO;	/* the media refused a write: logged */
			goto out_destroy;
		}
	}
	vol_log_scan(v);
	log_info("%s: opened%s, epoch %" PRIu64 ", %" PRIu64 " log records, "
		 "boot %" PRIu64 "%s", path, v->rdonly ? " read-only" : "",
		 v->epoch, v->nrecords, v->boot,
		 v->was_clean ? "" : " (was not shut down cleanly)");
	*out = v;
	return 0;
out_destroy:
	condvar_destroy(&v->durable_cv);
	mutex_destroy(&v->lock);
out_unmap:
	vol_unmap(v->base, v->map_len, v->own_map);
out_unlock:
	close(v->lock_fd);
out_free_path:
	free(v->path);
out_free:
	free(v);
	return err;
}

/* See vol.h. */
void
vol_close(struct vol *v)
{
	if (v == NULL)
		return;
	if (!v->rdonly && !vol_is_shutdown(v)) {
		VERIFY(v->inflight == 0);
		/* Every change is durable already; this store says so. */
		sb_store_word(&v->sb->clean_word, VOL_SB_CLEAN);
		vol_persist_words(v, &v->sb->clean_word, 1, "sb.close");
	}
	condvar_destroy(&v->durable_cv);
	mutex_destroy(&v->lock);
	vol_unmap(v->base, v->map_len, v->own_map);
	close(v->lock_fd);	/* the next user may come in */
	free(v->path);
	free(v);
}

/* See vol.h. */
void
vol_shutdown(struct vol *v, const char *reason)
{
	bool was = atomic_exchange(&v->shutdown, true);

	if (!was)
		log_error("%s: shutting down the volume: %s; no further "
			  "changes are written", v->path, reason);
	/* Wake appenders waiting on a predecessor so they can fail too. */
	mutex_lock(&v->lock);
	condvar_broadcast(&v->durable_cv);
	mutex_unlock(&v->lock);
}

bool
vol_is_shutdown(const struct vol *v)
{
	return atomic_load(&((struct vol *)v)->shutdown);
}

uint32_t
vol_block_size(const struct vol *v)
{
	return v->block_size;
}

uint64_t
vol_data_blocks(const struct vol *v)
{
	return v->data_blocks;
}

uint64_t
vol_size(const struct vol *v)
{
	return v->vol_size;
}

const uint8_t *
vol_uuid(const struct vol *v)
{
	return v->uuid;
}

const char *
vol_path(const struct vol *v)
{
	return v->path;
}

bool
vol_is_pmem(const struct vol *v)
{
	return v->is_pmem;
}

bool
vol_was_clean(const struct vol *v)
{
	return v->was_clean;
}

bool
vol_is_rdonly(const struct vol *v)
{
	return v->rdonly;
}

uint64_t
vol_boot_count(const struct vol *v)
{
	return v->boot;
}

/* See vol.h. */
void
vol_get_info(const struct vol *v, struct vol_info *info)
{
	const struct vol_ckpt_hdr *ch =
		(const void *)(v->base + v->ckpt_off[v->epoch & 1]);

	memset(info, 0, sizeof(*info));
	info->version = v->sb->version;
	info->block_size = v->block_size;
	memcpy(info->uuid, v->uuid, VOL_UUID_LEN);
	memcpy(info->label, v->sb->label, VOL_LABEL_LEN);	/* +1: NUL kept */
	info->vol_size = v->vol_size;
	info->ckpt_off[0] = v->ckpt_off[0];
	info->ckpt_off[1] = v->ckpt_off[1];
	info->ckpt_size = v->ckpt_size;
	info->log_off = v->log_off;
	info->log_size = v->log_size;
	info->data_off = v->data_off;
	info->data_blocks = v->data_blocks;
	info->ctime = v->sb->ctime;
	info->epoch = v->epoch;
	info->boot_count = v->boot;
	info->ckpt_len = ch->len;
	info->log_used = vol_log_used(v);
	info->log_records = vol_log_records(v);
	info->was_clean = v->was_clean;
	info->is_pmem = v->is_pmem;
}

/* See vol.h. */
void *
vol_block_ptr(struct vol *v, uint64_t blockno)
{
	VERIFY(blockno < v->data_blocks);
	return v->base + v->data_off + blockno * v->block_size;
}

/* See vol.h. */
uint64_t
vol_block_offset(const struct vol *v, uint64_t blockno)
{
	VERIFY(blockno <= v->data_blocks);	/* == : the end of the area */
	return v->data_off + blockno * v->block_size;
}

/* See vol.h. */
void
vol_signature(const struct vol *v, uint64_t *offset, const uint8_t **bytes,
	      uint32_t *len)
{
	*offset = VOL_SIG_OFF;
	*bytes = v->sb->sig;
	*len = VOL_SIG_LEN;
}
