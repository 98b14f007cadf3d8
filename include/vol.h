/*
 * vol.h - the pmem volume: mapping, persistence, superblock, the operation
 * log, the two checkpoint areas, fault injection.  The on-volume format is
 * described byte by byte in docs/format.md.
 *
 * Locking: a struct vol has one internal mutex that serializes log space
 * reservation and checkpoint state; it is a leaf lock (nothing is taken
 * under it, no persist runs under it) and never held across a callback,
 * so any function here may be called with any fs lock held.
 * vol_log_append() may be called from many threads at once.  The metadata
 * owner (src/fs) must keep appends out while it runs vol_checkpoint() and
 * during vol_checkpoint_load()/vol_log_replay() at mount (it holds its own
 * metadata lock exclusively); vol_checkpoint() returns -EBUSY if an append
 * is in flight.  vol_persist() and the block accessors take no lock.
 * Ownership: vol_open() returns a volume the caller owns until
 * vol_close().  Pointers returned by vol_block_ptr() and passed to replay
 * callbacks point into the mapping and are valid until vol_close().
 * Checkpoint readers and writers live only for the duration of the
 * callback they are passed to.
 */
#ifndef PMEMNFS_VOL_H
#define PMEMNFS_VOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

struct vol;
struct vol_ckpt_writer;
struct vol_ckpt_reader;

/* On-volume format version written by this code (docs/format.md). */
#define VOL_FORMAT_VERSION	1
#define VOL_UUID_LEN		16
#define VOL_LABEL_LEN		32

/* File-system block size: power of two in this range; 4 KiB default. */
#define VOL_BLOCK_SIZE_MIN	4096u
#define VOL_BLOCK_SIZE_MAX	65536u
#define VOL_BLOCK_SIZE_DEFAULT	4096u

/*
 * The smallest volume we format: room for the superblock, two minimal
 * checkpoint areas, a minimal log and a few hundred data blocks.  Unit
 * tests use volumes of this order.
 */
#define VOL_SIZE_MIN		(8ull << 20)

/* A log record payload is metadata: one operation, never file data. */
#define VOL_LOG_PAYLOAD_MAX	(1u << 20)
/* Log record types: fs owns 1..0xffff; 0 is never valid. */
#define VOL_LOG_TYPE_MAX	0xffffu

struct vol_mkfs_opts {
	uint32_t	block_size;	/* 0: VOL_BLOCK_SIZE_DEFAULT */
	uint64_t	log_size;	/* 0: from the volume size (docs/format.md) */
	uint64_t	ckpt_size;	/* 0: from the volume size, per area */
	bool		force;		/* format over an existing file system */
	bool		have_uuid;	/* use uuid[] instead of a random one */
	uint8_t		uuid[VOL_UUID_LEN];
	char		label[VOL_LABEL_LEN];	/* NUL-padded, may be empty */
	/*
	 * Called while formatting, with done/total in bytes, so a tool can
	 * print progress on big volumes.  May be NULL.
	 */
	void		(*progress)(void *ctx, uint64_t done, uint64_t total);
	void		*progress_ctx;
};

/*
 * Create a file system on path (mkfs).  If path does not exist it is
 * created as a sparse file of size bytes; an existing regular file is
 * resized to size (size 0 keeps its current size); for a device size must
 * be 0 or not more than the device.  Writes only the superblock, an empty
 * checkpoint and the first log block, so it takes the same time for any
 * size.  Locks: none.
 * Returns 0, -EEXIST if path already holds a pmemnfsd file system and
 * !o->force (also for XFS and ext2/3/4), -EBUSY if another process has
 * the volume open (see vol_open()), -EINVAL for bad options or a size
 * below VOL_SIZE_MIN, or another negative errno from the system; every
 * failure is logged naming path and problem, and a file that vol_create()
 * itself created is removed again.  o may be NULL for defaults.
 */
int vol_create(const char *path, uint64_t size, const struct vol_mkfs_opts *o)
	MUST_CHECK;

/*
 * Does path hold a pmemnfsd superblock (magic and checksum valid)?
 * Returns 1 yes, 0 no, negative errno if it cannot be read.  Locks: none.
 */
int vol_probe(const char *path) MUST_CHECK;

/* vol_open() flags */
#define VOL_OPEN_RDONLY	(1u << 0)	/* fsck/inspection: no boot count bump, no writes */

/*
 * Map and validate a volume.  Every superblock field is range-checked; a
 * corrupt or foreign volume is refused with a log message naming path and
 * field (-EUCLEAN: corrupt, -EPROTONOSUPPORT: other format version,
 * -ENOTSUP: not a pmemnfsd volume).  Takes an advisory flock() on path
 * until vol_close(), exclusive (shared with VOL_OPEN_RDONLY): -EBUSY if
 * another user conflicts.  Unless VOL_OPEN_RDONLY: bumps the
 * boot count and marks the volume dirty (both persisted), and finds the
 * end of the current log generation so that appends may start at once.
 * Also reads PMEMNFS_INJECT (see vol_inject_parse()).  Locks: none.
 * Returns 0 and *out, or a negative errno.
 */
int vol_open(const char *path, unsigned flags, struct vol **out) MUST_CHECK;

/*
 * Mark the volume clean (unless shut down or read-only), unmap and free.
 * Locks: the caller guarantees no other thread uses v.
 */
void vol_close(struct vol *v);

/* Geometry; constant after open.  Locks: none. */
uint32_t vol_block_size(const struct vol *v);
uint64_t vol_data_blocks(const struct vol *v);
uint64_t vol_size(const struct vol *v);		/* bytes covered by the fs */
const uint8_t *vol_uuid(const struct vol *v);	/* VOL_UUID_LEN bytes */
const char *vol_path(const struct vol *v);
bool vol_is_pmem(const struct vol *v);		/* flush+drain rather than msync */
bool vol_was_clean(const struct vol *v);	/* clean flag as found at open */
bool vol_is_rdonly(const struct vol *v);

/* Everything the superblock says, for fsck, mkfs and pmemnfsctl output. */
struct vol_info {
	uint32_t	version;
	uint32_t	block_size;
	uint8_t		uuid[VOL_UUID_LEN];
	char		label[VOL_LABEL_LEN + 1];	/* NUL-terminated */
	uint64_t	vol_size;
	uint64_t	ckpt_off[2];
	uint64_t	ckpt_size;
	uint64_t	log_off;
	uint64_t	log_size;
	uint64_t	data_off;
	uint64_t	data_blocks;
	uint64_t	ctime;		/* format time, seconds since the epoch */
	uint64_t	epoch;		/* active checkpoint area = epoch & 1 */
	uint64_t	boot_count;
	uint64_t	ckpt_len;	/* bytes in the active checkpoint image */
	uint64_t	log_used;	/* bytes of the current log generation */
	uint64_t	log_records;
	bool		was_clean;
	bool		is_pmem;
};
/* Fill *info.  Locks: none (log fields are a racy snapshot). */
void vol_get_info(const struct vol *v, struct vol_info *info);

/*
 * The boot verifier: incremented and persisted by every read-write
 * vol_open(), so it differs across server restarts.  Locks: none.
 */
uint64_t vol_boot_count(const struct vol *v);

/*
 * Address of data block blockno in the mapping (blockno <
 * vol_data_blocks()).  Locks: none; the caller owns the block (it
 * allocated it, or holds the inode lock that covers it).
 */
void *vol_block_ptr(struct vol *v, uint64_t blockno);

/*
 * Byte offset of data block blockno from the start of the volume, for pNFS
 * block extents (RFC 5663 section 2.3, bex_storage_offset).  Locks: none.
 */
uint64_t vol_block_offset(const struct vol *v, uint64_t blockno);

/*
 * The RFC 5663 volume signature (section 2.2.1, pnfs_block_sig_component4):
 * *len bytes at byte *offset from the start of the volume, unique per
 * volume (derived from the UUID), inside the superblock block.  Locks: none.
 */
void vol_signature(const struct vol *v, uint64_t *offset,
		   const uint8_t **bytes, uint32_t *len);

/*
 * Make [addr, addr + len) of the mapping durable: flush + drain on pmem,
 * msync otherwise.  tag names the persist point for fault injection
 * ("fs.data.write", ...); every call site uses a distinct string literal
 * (it is kept by pointer for the counts of vol_inject_count()).  On a
 * read-only volume this is a bug (VERIFY).  A failed msync shuts the
 * volume down (see vol_shutdown()).  Locks: none.
 */
void vol_persist(struct vol *v, const void *addr, size_t len, const char *tag);

/*
 * Copy len bytes to dst (inside the mapping) and make them durable, as
 * one persist point named tag (non-temporal copy on pmem).  Locks: none.
 */
void vol_memcpy_persist(struct vol *v, void *dst, const void *src, size_t len,
			const char *tag);

/*
 * Batched persistence of several ranges: vol_flush() each range, then one
 * vol_drain(), which is the persist point (named tag).  After vol_drain()
 * returns, every range flushed before it by this thread is durable.  On
 * msync volumes vol_flush() already writes the pages and vol_drain() only
 * counts the point.  Locks: none.
 */
void vol_flush(struct vol *v, const void *addr, size_t len);
void vol_drain(struct vol *v, const char *tag);

/*
 * Append one log record and return once it, and every record appended
 * before it, is durable: an operation may be acknowledged once this
 * returns 0, never before.  type in 1..VOL_LOG_TYPE_MAX, len up
 * to VOL_LOG_PAYLOAD_MAX.  Locks: takes the volume mutex briefly; the copy
 * and the persist run outside it, so appends from several threads overlap.
 * Returns 0; -ENOSPC if the log is full (checkpoint, then retry); -EIO if
 * the volume is shut down; -EROFS on a read-only volume; -EINVAL for a bad
 * type or length.
 */
int vol_log_append(struct vol *v, uint16_t type, const void *payload,
		   uint32_t len) MUST_CHECK;

/*
 * Call apply() for every valid record of the current log generation, in
 * LSN order, up to the first invalid one (a torn or stale record ends the
 * log).  payload points into the mapping, 8-byte aligned, valid until
 * vol_close().  Stops and returns apply's value if it returns non-zero.
 * Locks: none held during the callbacks; the caller keeps appends out.
 * Returns 0 or a negative errno.
 */
int vol_log_replay(struct vol *v,
		   int (*apply)(void *ctx, uint16_t type, const void *payload,
				uint32_t len),
		   void *ctx) MUST_CHECK;

/* Log accounting, for deciding when to checkpoint.  Locks: none (racy read). */
uint64_t vol_log_size(const struct vol *v);	/* usable bytes of the log area */
uint64_t vol_log_used(const struct vol *v);	/* bytes of the current generation */
uint64_t vol_log_records(const struct vol *v);	/* records in the current generation */
/* Bytes one record of payload length len occupies in the log. */
uint64_t vol_log_record_size(uint32_t len);

/*
 * Write a checkpoint: save() streams the whole metadata image through
 * vol_ckpt_put() into the inactive area; then the area is persisted, its
 * header written and persisted, the superblock's epoch word (active area +
 * log generation) flipped with one 8-byte store and persisted, and the log
 * starts empty.  A crash anywhere leaves either the old checkpoint with
 * the old log or the new checkpoint with an empty log.  Locks: the caller
 * keeps appends out (-EBUSY otherwise).  Returns 0; save()'s error; -ENOSPC
 * if the image does not fit the area (then the volume is unchanged);
 * -EIO if shut down.
 */
int vol_checkpoint(struct vol *v,
		   int (*save)(void *ctx, struct vol_ckpt_writer *w),
		   void *ctx) MUST_CHECK;

/* Append len bytes to the image.  Returns 0 or -ENOSPC (area full). */
int vol_ckpt_put(struct vol_ckpt_writer *w, const void *buf, size_t len)
	MUST_CHECK;

/*
 * Validate the active checkpoint (header, epoch, checksum of the whole
 * image) and let load() read it with vol_ckpt_get().  A freshly formatted
 * volume has an empty image (vol_ckpt_remaining() == 0 at once): the fs
 * creates its root then.  Locks: none held during load().  Returns 0,
 * load()'s error, -EUCLEAN if the checkpoint is corrupt.
 */
int vol_checkpoint_load(struct vol *v,
			int (*load)(void *ctx, struct vol_ckpt_reader *r),
			void *ctx) MUST_CHECK;

/* Copy the next len bytes of the image.  Returns 0 or -ENODATA (past the end). */
int vol_ckpt_get(struct vol_ckpt_reader *r, void *buf, size_t len) MUST_CHECK;
/*
 * Zero-copy variant: the next len bytes in place (in the mapping, valid
 * until vol_close()), or NULL past the end.  No alignment is promised
 * beyond what the writer arranged.
 */
const void *vol_ckpt_get_ptr(struct vol_ckpt_reader *r, size_t len);
/* Bytes of the image not yet read. */
uint64_t vol_ckpt_remaining(const struct vol_ckpt_reader *r);
/* Checkpoint epoch (also the log generation). */
uint64_t vol_epoch(const struct vol *v);

/*
 * Forced shutdown: after a metadata error the volume refuses every further
 * change (log appends, checkpoints and persists of metadata return -EIO)
 * instead of writing bad metadata.  reason is logged once.  Locks: none.
 */
void vol_shutdown(struct vol *v, const char *reason);
bool vol_is_shutdown(const struct vol *v);

/*
 * Fault injection.  Every persist point has a tag.  The spec "N" makes the
 * process _exit(VOL_INJECT_EXIT) just before the Nth persist point of any
 * tag; "tag:N" before the Nth persist point named tag; a tag ending in '*'
 * matches by prefix ("ckpt.*:2").  vol_open() reads PMEMNFS_INJECT once
 * per process if vol_inject_parse() was not called.  NULL or "" disarms.
 * Locks: none (atomics).  Returns 0 or -EINVAL for a malformed spec.
 */
#define VOL_INJECT_EXIT	99
int vol_inject_parse(const char *spec) MUST_CHECK;
/*
 * Number of persist points reached so far in this process whose tag
 * matches pattern (same syntax as above; NULL: all).  Tests run a
 * sequence once to learn how many points it has, then crash at each.
 */
uint64_t vol_inject_count(const char *pattern);
/* Reset the counts (tests). */
void vol_inject_reset(void);

/* CRC-32C (Castagnoli) of buf, continuing from crc (0 to start). */
uint32_t vol_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
