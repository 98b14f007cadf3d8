/*
 * format.c - the superblock: geometry from the volume size, encoding,
 * validation, and formatting a volume (vol_create, used by pmemnfs-mkfs).
 * The byte layout is in docs/format.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "vol_impl.h"

/* How much of the start of a device we read to recognize a file system. */
#define PROBE_LEN	2048
/* Foreign file-system magics we refuse to format over without -f. */
#define PROBE_EXT_MAGIC_OFF	1080	/* ext2/3/4 s_magic */
#define PROBE_EXT_MAGIC		0xef53
/*
 * mkfs zeroes this much of the log head.  Not needed for correctness
 * (older records fail their UUID-seeded checksums) but it makes a fresh
 * volume look fresh to a hex dump, at no cost.
 */
#define MKFS_LOG_CLEAR_LEN	4096u

static uint64_t
clamp_u64(uint64_t x, uint64_t lo, uint64_t hi)
{
	return x < lo ? lo : (x > hi ? hi : x);
}

static uint64_t
round_down(uint64_t x, uint64_t a)
{
	return x / a * a;
}

/*
 * Lay out a volume of size bytes (docs/format.md, "Geometry"): the
 * superblock area, checkpoint A, checkpoint B, the log, the data area.
 * log_size/ckpt_size 0 mean "from the formula".  The result may be
 * unusable (data_blocks 0); vol_sb_validate() says so.  Locks: none.
 */
void
vol_geometry(uint64_t size, uint32_t bs, uint64_t log_size, uint64_t ckpt_size,
	     struct vol_sb_disk *sb)
{
	uint64_t off, dalign;

	if (log_size == 0)
		log_size = clamp_u64(round_down(size / VOL_LOG_DIV, VOL_AREA_ALIGN),
				     VOL_LOG_MIN, VOL_LOG_MAX);
	if (ckpt_size == 0)
		ckpt_size = clamp_u64(round_down(size / VOL_CKPT_DIV,
						 VOL_AREA_ALIGN),
				      VOL_CKPT_MIN, VOL_CKPT_MAX);
	dalign = size >= VOL_HUGE_ALIGN_MIN ? VOL_HUGE_ALIGN : VOL_AREA_ALIGN;

	sb->block_size = bs;
	off = VOL_AREA_ALIGN;			/* the superblock area */
	sb->ckpt_off[0] = off;
	off += ckpt_size;
	sb->ckpt_off[1] = off;
	off += ckpt_size;
	sb->ckpt_size = ckpt_size;
	sb->log_off = off;
	sb->log_size = log_size;
	off += log_size;
	sb->data_off = ROUND_UP(off, dalign);
	sb->data_blocks = size > sb->data_off ? (size - sb->data_off) / bs : 0;
	sb->vol_size = sb->data_off + sb->data_blocks * bs;
}

/* Checksum of the static part of the superblock.  Locks: none. */
uint32_t
vol_sb_csum(const struct vol_sb_disk *sb)
{
	return vol_crc32c(0, sb, VOL_SB_CSUM_OFF);
}

/*
 * The epoch word: the epoch in the low half, a checksum of it (seeded by
 * the UUID) in the high half, so that the one 8-byte store that flips it
 * is self-validating and a torn or stray write is detected.
 */
uint64_t
vol_epoch_word(uint32_t seed, uint32_t epoch)
{
	return (uint64_t)vol_crc32c(seed, &epoch, sizeof(epoch)) << 32 | epoch;
}

int
vol_epoch_decode(uint32_t seed, uint64_t word, uint32_t *epoch)
{
	uint32_t e = (uint32_t)word;

	if (word != vol_epoch_word(seed, e) || e == 0)
		return -EUCLEAN;
	*epoch = e;
	return 0;
}

/* The RFC 5663 signature bytes: a fixed prefix and the UUID. */
void
vol_sig_make(const uint8_t *uuid, uint8_t *sig)
{
	memcpy(sig, VOL_SIG_PREFIX, 16);
	memcpy(sig + 16, uuid, VOL_UUID_LEN);
}

uint32_t
vol_ckpt_hdr_crc(uint32_t seed, const struct vol_ckpt_hdr *h)
{
	struct vol_ckpt_hdr c = *h;

	c.hdr_crc = 0;
	return vol_crc32c(seed, &c, sizeof(c));
}

static bool
is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

#define SB_BAD(...) do { \
	log_error("%s: corrupt superblock: " __VA_ARGS__); \
	return -EUCLEAN; \
} while (0)

/*
 * Range-check every field of the superblock of path, mapped over map_len
 * bytes.  Logs what is wrong.  Returns 0, -ENOTSUP (not ours), -EUCLEAN
 * (corrupt), -EPROTONOSUPPORT (other version).  Locks: none.
 */
int
vol_sb_validate(const char *path, const struct vol_sb_disk *sb, uint64_t map_len)
{
	uint64_t end[4], start[4];
	uint8_t sig[VOL_SIG_LEN];
	uint32_t seed, epoch;
	uint64_t need_data;

	if (map_len < VOL_AREA_ALIGN) {
		log_error("%s: %" PRIu64 " bytes is too small to hold a "
			  "pmemnfsd volume", path, map_len);
		return -ENOTSUP;
	}
	if (memcmp(sb->magic, VOL_SB_MAGIC, VOL_SB_MAGIC_LEN) != 0) {
		log_error("%s: not a pmemnfsd volume (no superblock magic)", path);
		return -ENOTSUP;
	}
	if (sb->csum != vol_sb_csum(sb))
		SB_BAD("checksum mismatch (stored %08x, computed %08x)", path,
		       sb->csum, vol_sb_csum(sb));
	if (sb->version != VOL_FORMAT_VERSION) {
		log_error("%s: format version %u, this program supports %u",
			  path, sb->version, VOL_FORMAT_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (!is_pow2(sb->block_size) || sb->block_size < VOL_BLOCK_SIZE_MIN ||
	    sb->block_size > VOL_BLOCK_SIZE_MAX)
		SB_BAD("block size %u", path, sb->block_size);
	if (sb->vol_size < VOL_SIZE_MIN || sb->vol_size > map_len)
		SB_BAD("volume size %" PRIu64 " (device holds %" PRIu64 ")",
		       path, sb->vol_size, map_len);
	if (sb->ckpt_size < VOL_CKPT_MIN_EXPLICIT || sb->ckpt_size % VOL_AREA_ALIGN)
		SB_BAD("checkpoint area size %" PRIu64, path, sb->ckpt_size);
	if (sb->log_size < VOL_LOG_MIN_EXPLICIT || sb->log_size % VOL_AREA_ALIGN)
		SB_BAD("log size %" PRIu64, path, sb->log_size);
	if (sb->ckpt_off[0] % VOL_AREA_ALIGN || sb->ckpt_off[1] % VOL_AREA_ALIGN ||
	    sb->log_off % VOL_AREA_ALIGN || sb->data_off % VOL_AREA_ALIGN)
		SB_BAD("area offsets not %u-aligned", path, VOL_AREA_ALIGN);
	/* Areas must lie in order, after the superblock area, not overlapping. */
	start[0] = sb->ckpt_off[0];
	start[1] = sb->ckpt_off[1];
	start[2] = sb->log_off;
	start[3] = sb->data_off;
	end[0] = start[0] + sb->ckpt_size;
	end[1] = start[1] + sb->ckpt_size;
	end[2] = start[2] + sb->log_size;
	if (sb->data_blocks == 0 ||
	    sb->data_blocks > (UINT64_MAX - sb->data_off) / sb->block_size)
		SB_BAD("data block count %" PRIu64, path, sb->data_blocks);
	end[3] = start[3] + sb->data_blocks * sb->block_size;
	if (start[0] < VOL_AREA_ALIGN)
		SB_BAD("checkpoint A overlaps the superblock", path);
	for (int i = 0; i < 4; i++) {
		if (end[i] < start[i] || end[i] > sb->vol_size)
			SB_BAD("area %d [%" PRIu64 ", %" PRIu64 ") outside the "
			       "volume", path, i, start[i], end[i]);
		if (i > 0 && start[i] < end[i - 1])
			SB_BAD("area %d overlaps area %d", path, i, i - 1);
	}
	need_data = sb->vol_size - sb->data_off;
	if (end[3] != sb->vol_size || need_data % sb->block_size)
		SB_BAD("data area does not end the volume", path);
	if (sb->sig_off != VOL_SIG_OFF || sb->sig_len != VOL_SIG_LEN)
		SB_BAD("signature at %u length %u", path, sb->sig_off, sb->sig_len);
	vol_sig_make(sb->uuid, sig);
	if (memcmp(sig, sb->sig, VOL_SIG_LEN) != 0)
		SB_BAD("volume signature does not match the UUID", path);
	seed = vol_crc32c(0, sb->uuid, VOL_UUID_LEN);
	if (vol_epoch_decode(seed, sb->epoch_word, &epoch))
		SB_BAD("checkpoint epoch word %016" PRIx64, path, sb->epoch_word);
	if (sb->clean_word != VOL_SB_CLEAN && sb->clean_word != VOL_SB_DIRTY)
		SB_BAD("clean flag %016" PRIx64, path, sb->clean_word);
	return 0;
}

/* What file system, if any, do these first bytes of a device hold? */
static const char *
probe_bytes(const uint8_t *buf, size_t len)
{
	const struct vol_sb_disk *sb = (const void *)buf;
	uint16_t ext;

	if (len >= VOL_SB_CSUM_OFF + 4 &&
	    memcmp(sb->magic, VOL_SB_MAGIC, VOL_SB_MAGIC_LEN) == 0)
		return "a pmemnfsd file system";
	if (len >= 4 && memcmp(buf, "XFSB", 4) == 0)
		return "an XFS file system";
	if (len >= PROBE_EXT_MAGIC_OFF + 2) {
		memcpy(&ext, buf + PROBE_EXT_MAGIC_OFF, 2);
		if (ext == PROBE_EXT_MAGIC)
			return "an ext2/3/4 file system";
	}
	return NULL;
}

/*
 * Does path hold a pmemnfsd superblock with a valid checksum?  Returns 1,
 * 0, or a negative errno.  Locks: none.
 */
int
vol_probe(const char *path)
{
	struct vol_sb_disk sb;
	struct stat st;
	ssize_t n;
	int fd;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISCHR(st.st_mode)) {
		/* a DAX device cannot be read(): map it */
		uint8_t *base;
		size_t len;
		bool is_pmem, own_map;
		int err = vol_map(path, true, &base, &len, &is_pmem, &own_map);

		if (err)
			return err;
		if (len < sizeof(sb)) {
			vol_unmap(base, len, own_map);
			return 0;
		}
		memcpy(&sb, base, sizeof(sb));
		vol_unmap(base, len, own_map);
		return memcmp(sb.magic, VOL_SB_MAGIC, VOL_SB_MAGIC_LEN) == 0 &&
		       sb.csum == vol_sb_csum(&sb);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = pread(fd, &sb, sizeof(sb), 0);
	close(fd);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(sb))
		return 0;
	return memcmp(sb.magic, VOL_SB_MAGIC, VOL_SB_MAGIC_LEN) == 0 &&
	       sb.csum == vol_sb_csum(&sb);
}

static int
fill_uuid(uint8_t *uuid)
{
	size_t got = 0;

	while (got < VOL_UUID_LEN) {
		ssize_t n = getrandom(uuid + got, VOL_UUID_LEN - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	/* RFC 4122 version 4 (random) UUID */
	uuid[6] = (uint8_t)((uuid[6] & 0x0f) | 0x40);
	uuid[8] = (uint8_t)((uuid[8] & 0x3f) | 0x80);
	return 0;
}

/*
 * Prepare path for formatting: create or resize a regular file, refuse
 * one that holds a file system unless forced.  Devices are probed after
 * mapping (a DAX character device cannot be read with pread()).
 */
static int
prepare_file(const char *path, uint64_t size, bool force, bool *created)
{
	uint8_t buf[PROBE_LEN];
	struct stat st;
	const char *what;
	ssize_t n;
	int fd, err = 0;

	*created = false;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST)
		fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		log_error("%s: cannot open: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		log_error("%s: cannot stat: %s", path, strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode))
		goto out_close;		/* a device: see vol_create() */
	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		log_error("%s: cannot read: %s", path, strerror(errno));
		goto out_close;
	}
	what = probe_bytes(buf, (size_t)n);
	if (what && !force) {
		log_error("%s already holds %s; use -f to format it anyway",
			  path, what);
		err = -EEXIST;
		goto out_close;
	}
	if (size == 0)
		size = (uint64_t)st.st_size;
	if (size < VOL_SIZE_MIN) {
		log_error("%s: size %" PRIu64 " is below the minimum of %llu "
			  "bytes", path, size, VOL_SIZE_MIN);
		err = -EINVAL;
		goto out_close;
	}
	/* ftruncate() leaves the new space sparse: mkfs writes no data area. */
	if ((uint64_t)st.st_size != size && ftruncate(fd, (off_t)size) < 0) {
		err = -errno;
		log_error("%s: cannot set size to %" PRIu64 ": %s", path, size,
			  strerror(errno));
		goto out_close;
	}
out_close:
	close(fd);
	return err;
}

static void
progress(const struct vol_mkfs_opts *o, uint64_t done, uint64_t total)
{
	if (o->progress)
		o->progress(o->progress_ctx, done, total);
}

/*
 * Write and persist one piece of the new volume (a mkfs persist point).
 * Returns 0 or -EIO (msync failed; logged).
 */
static int
put_persist(const char *path, uint8_t *base, bool is_pmem, uint64_t off,
	    const void *src, size_t len, const char *tag)
{
	if (src)
		memcpy(base + off, src, len);
	else
		memset(base + off, 0, len);
	vol_inject_point(tag, base + off, len);
	if (is_pmem) {
		pmem_persist(base + off, len);
	} else if (pmem_msync(base + off, len) != 0) {
		log_error("%s: cannot write at offset %" PRIu64 ": %s", path,
			  off, strerror(errno));
		return -EIO;
	}
	return 0;
}

/*
 * mkfs.  See vol.h.  The order of writes makes an interrupted mkfs leave
 * no valid superblock: the old superblock area is cleared first, the
 * checkpoint header and log head are written and persisted, and the
 * superblock (with its magic) goes last.
 */
int
vol_create(const char *path, uint64_t size, const struct vol_mkfs_opts *opts)
{
	struct vol_mkfs_opts defaults = { 0 };
	const struct vol_mkfs_opts *o = opts ? opts : &defaults;
	struct vol_sb_disk sb;
	struct vol_ckpt_hdr ch;
	uint32_t bs = o->block_size ? o->block_size : VOL_BLOCK_SIZE_DEFAULT;
	uint8_t *base;
	size_t map_len;
	bool is_pmem, own_map, created = false;
	int lock_fd = -1;
	const char *what;
	uint64_t total = VOL_AREA_ALIGN + 2 * VOL_CKPT_HDR_SIZE +
			 MKFS_LOG_CLEAR_LEN + sizeof(struct vol_sb_disk);
	uint32_t seed;
	int err;

	if (!is_pow2(bs) || bs < VOL_BLOCK_SIZE_MIN || bs > VOL_BLOCK_SIZE_MAX) {
		log_error("%s: block size %u: must be a power of two from %u to %u",
			  path, bs, VOL_BLOCK_SIZE_MIN, VOL_BLOCK_SIZE_MAX);
		return -EINVAL;
	}
	if ((o->log_size && (o->log_size < VOL_LOG_MIN_EXPLICIT ||
			     o->log_size % VOL_AREA_ALIGN)) ||
	    (o->ckpt_size && (o->ckpt_size < VOL_CKPT_MIN_EXPLICIT ||
			      o->ckpt_size % VOL_AREA_ALIGN))) {
		log_error("%s: log and checkpoint sizes must be multiples of "
			  "%u of at least %llu and %llu bytes", path,
			  VOL_AREA_ALIGN, (unsigned long long)VOL_LOG_MIN_EXPLICIT,
			  (unsigned long long)VOL_CKPT_MIN_EXPLICIT);
		return -EINVAL;
	}
	err = vol_inject_env();
	if (err)
		return err;
	/* Lock before looking at or resizing an existing file. */
	if (access(path, F_OK) == 0) {
		lock_fd = vol_lock_path(path, true);
		if (lock_fd < 0)
			return lock_fd;
	}
	err = prepare_file(path, size, o->force, &created);
	if (err)
		goto out_unlink;
	if (lock_fd < 0) {
		lock_fd = vol_lock_path(path, true);
		if (lock_fd < 0) {
			err = lock_fd;
			goto out_unlink;
		}
	}
	err = vol_map(path, false, &base, &map_len, &is_pmem, &own_map);
	if (err)
		goto out_unlink;
	if (size && size > map_len) {
		log_error("%s: size %" PRIu64 " exceeds the device (%zu bytes)",
			  path, size, map_len);
		err = -EINVAL;
		goto out_unmap;
	}
	if (size == 0)
		size = map_len;
	what = probe_bytes(base, MIN(map_len, (size_t)PROBE_LEN));
	if (what && !o->force) {
		log_error("%s already holds %s; use -f to format it anyway",
			  path, what);
		err = -EEXIST;
		goto out_unmap;
	}
	if (size < VOL_SIZE_MIN) {
		log_error("%s: size %" PRIu64 " is below the minimum of %llu bytes",
			  path, size, VOL_SIZE_MIN);
		err = -EINVAL;
		goto out_unmap;
	}

	memset(&sb, 0, sizeof(sb));
	memcpy(sb.magic, VOL_SB_MAGIC, VOL_SB_MAGIC_LEN);
	sb.version = VOL_FORMAT_VERSION;
	if (o->have_uuid) {
		memcpy(sb.uuid, o->uuid, VOL_UUID_LEN);
	} else {
		err = fill_uuid(sb.uuid);
		if (err) {
			log_error("%s: cannot generate a UUID: %s", path,
				  strerror(-err));
			goto out_unmap;
		}
	}
	vol_geometry(size, bs, o->log_size, o->ckpt_size, &sb);
	sb.ctime = (uint64_t)time(NULL);
	sb.sig_off = VOL_SIG_OFF;
	sb.sig_len = VOL_SIG_LEN;
	memcpy(sb.label, o->label, VOL_LABEL_LEN);
	seed = vol_crc32c(0, sb.uuid, VOL_UUID_LEN);
	sb.epoch_word = vol_epoch_word(seed, 1);
	sb.boot_count = 0;
	sb.clean_word = VOL_SB_CLEAN;
	vol_sig_make(sb.uuid, sb.sig);
	sb.csum = vol_sb_csum(&sb);
	/* Check what we are about to write with the same code that opens it. */
	err = vol_sb_validate(path, &sb, map_len);
	if (err) {
		log_error("%s: a volume of %" PRIu64 " bytes with these options "
			  "leaves no usable layout", path, size);
		err = -EINVAL;
		goto out_unmap;
	}

	/* 1. No valid superblock from here until step 3. */
	err = put_persist(path, base, is_pmem, 0, NULL, VOL_AREA_ALIGN,
			  "mkfs.sb.clear");
	if (err)
		goto out_unmap;
	progress(o, VOL_AREA_ALIGN, total);
	/*
	 * 2. Epoch 1 makes area 1 (B) active: write its header with an empty
	 * image; clear A's header and the head of the log.  Older log
	 * records further on fail their UUID-seeded checksum.
	 */
	memset(&ch, 0, sizeof(ch));
	ch.magic = VOL_CKPT_MAGIC;
	ch.epoch = 1;
	ch.len = 0;
	ch.data_crc = vol_crc32c(seed, NULL, 0);
	ch.first_lsn = 1;
	ch.ctime = sb.ctime;
	ch.hdr_crc = vol_ckpt_hdr_crc(seed, &ch);
	err = put_persist(path, base, is_pmem, sb.ckpt_off[0], NULL,
			  VOL_CKPT_HDR_SIZE, "mkfs.ckpt.clear");
	if (!err)
		err = put_persist(path, base, is_pmem, sb.ckpt_off[1], &ch,
				  sizeof(ch), "mkfs.ckpt.header");
	if (!err)
		err = put_persist(path, base, is_pmem, sb.log_off, NULL,
				  MKFS_LOG_CLEAR_LEN,
				  "mkfs.log.clear");
	if (err)
		goto out_unmap;
	progress(o, total - sizeof(sb), total);
	/*
	 * 3. The superblock last: once its persist completes the volume is
	 * valid, never before.
	 */
	err = put_persist(path, base, is_pmem, 0, &sb, sizeof(sb),
			  "mkfs.sb.write");
	if (err)
		goto out_unmap;
	progress(o, total, total);
	log_info("%s: formatted %" PRIu64 " bytes, %" PRIu64 " blocks of %u",
		 path, sb.vol_size, sb.data_blocks, bs);
out_unmap:
	vol_unmap(base, map_len, own_map);
out_unlink:
	/* Do not leave behind a file that we created and failed to format. */
	if (err && created)
		unlink(path);
	if (lock_fd >= 0)
		close(lock_fd);
	return err;
}
