/*
 * vol_impl.h - private to src/pmem: the on-volume structures (byte layout
 * documented in docs/format.md) and the in-memory volume.
 *
 * Locking: struct vol's lock protects the log reservation fields and the
 * checkpoint-in-progress flag; geometry is constant after open.
 * Ownership: struct vol is owned by whoever called vol_open().
 */
#ifndef PMEMNFS_PMEM_VOL_IMPL_H
#define PMEMNFS_PMEM_VOL_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <libpmem.h>

#include "common.h"
#include "vol.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the on-volume format is little-endian; add byte swapping for this host"
#endif

/*
 * Every area starts on this boundary: it is at least the largest block
 * size, so the data area is block aligned, and keeps areas on separate
 * pages for msync.
 */
#define VOL_AREA_ALIGN		(64u << 10)
/* Volumes of at least this size align the data area to 2 MiB (DAX huge pages). */
#define VOL_HUGE_ALIGN_MIN	(1ull << 30)
#define VOL_HUGE_ALIGN		(2u << 20)

/* Area size formula (docs/format.md): log 1/64, each checkpoint area 1/32. */
#define VOL_LOG_DIV		64
#define VOL_LOG_MIN		(1ull << 20)
#define VOL_LOG_MAX		(1ull << 30)
#define VOL_CKPT_DIV		32
#define VOL_CKPT_MIN		(1ull << 20)
#define VOL_CKPT_MAX		(4ull << 30)
/* Explicit (-l/-c) sizes may go down to these, for tests. */
#define VOL_LOG_MIN_EXPLICIT	((uint64_t)VOL_AREA_ALIGN)
#define VOL_CKPT_MIN_EXPLICIT	(2ull * VOL_AREA_ALIGN)

#define VOL_SB_MAGIC		"PMEMNFSV"
#define VOL_SB_MAGIC_LEN	8
#define VOL_SB_CSUM_OFF		252	/* checksum covers bytes [0, 252) */
#define VOL_SIG_OFF		512
#define VOL_SIG_LEN		32
#define VOL_SIG_PREFIX		"pmemnfsd-volsig\0"	/* 16 bytes, then the UUID */

/* Values of the clean word: "CLEAN\0\0\0" and "DIRTY\0\0\0" little-endian. */
#define VOL_SB_CLEAN		0x0000004e41454c43ull
#define VOL_SB_DIRTY		0x0000005954524944ull

struct vol_sb_disk {
	char		magic[VOL_SB_MAGIC_LEN];	/*   0 */
	uint32_t	version;			/*   8 */
	uint32_t	block_size;			/*  12 */
	uint8_t		uuid[VOL_UUID_LEN];		/*  16 */
	uint64_t	vol_size;			/*  32 */
	uint64_t	ckpt_off[2];			/*  40 */
	uint64_t	ckpt_size;			/*  56 */
	uint64_t	log_off;			/*  64 */
	uint64_t	log_size;			/*  72 */
	uint64_t	data_off;			/*  80 */
	uint64_t	data_blocks;			/*  88 */
	uint64_t	ctime;				/*  96 */
	uint32_t	sig_off;			/* 104 */
	uint32_t	sig_len;			/* 108 */
	char		label[VOL_LABEL_LEN];		/* 112 */
	uint8_t		reserved[108];			/* 144 */
	uint32_t	csum;				/* 252 */
	/* Dynamic words, each changed with one aligned 8-byte store. */
	uint64_t	epoch_word;			/* 256 */
	uint64_t	boot_count;			/* 264 */
	uint64_t	clean_word;			/* 272 */
	uint8_t		reserved2[232];			/* 280 */
	uint8_t		sig[VOL_SIG_LEN];		/* 512 */
};
_Static_assert(sizeof(struct vol_sb_disk) == 544, "superblock layout");
_Static_assert(offsetof(struct vol_sb_disk, csum) == VOL_SB_CSUM_OFF, "csum");
_Static_assert(offsetof(struct vol_sb_disk, epoch_word) == 256, "epoch word");
_Static_assert(offsetof(struct vol_sb_disk, sig) == VOL_SIG_OFF, "signature");

#define VOL_LOG_MAGIC		0x52474f4cu	/* "LOGR" */
#define VOL_LOG_HDR_SIZE	32u

struct vol_log_hdr {
	uint32_t	magic;
	uint16_t	type;
	uint16_t	flags;		/* 0 */
	uint32_t	len;		/* payload bytes */
	uint32_t	crc;		/* over header (crc = 0) + payload */
	uint32_t	epoch;		/* log generation */
	uint32_t	boot;		/* low 32 bits of the boot count */
	uint64_t	lsn;
};
_Static_assert(sizeof(struct vol_log_hdr) == VOL_LOG_HDR_SIZE, "log header");

#define VOL_CKPT_MAGIC		0x54504b43u	/* "CKPT" */
/* The image starts one page into the area so that it is page aligned. */
#define VOL_CKPT_HDR_SIZE	4096u

struct vol_ckpt_hdr {
	uint32_t	magic;
	uint32_t	hdr_crc;	/* over these 64 bytes with hdr_crc = 0 */
	uint64_t	epoch;
	uint64_t	len;		/* image bytes */
	uint32_t	data_crc;	/* over the image */
	uint32_t	reserved0;
	uint64_t	first_lsn;	/* LSN of the first log record of this epoch */
	uint64_t	ctime;
	uint64_t	reserved[2];
};
_Static_assert(sizeof(struct vol_ckpt_hdr) == 64, "checkpoint header");

struct vol {
	char			*path;
	uint8_t			*base;
	size_t			map_len;
	bool			own_map;	/* mmap()ed by us, not pmem_map_file() */
	bool			is_pmem;
	bool			rdonly;
	bool			was_clean;
	int			lock_fd;	/* flock()ed: see vol_lock_path() */
	struct vol_sb_disk	*sb;

	/* validated geometry */
	uint32_t		block_size;
	uint32_t		seed;		/* crc32c of the UUID: seeds every checksum */
	uint64_t		vol_size;
	uint64_t		ckpt_off[2];
	uint64_t		ckpt_size;
	uint64_t		log_off;
	uint64_t		log_size;
	uint64_t		data_off;
	uint64_t		data_blocks;
	uint8_t			uuid[VOL_UUID_LEN];
	uint64_t		boot;

	_Atomic bool		shutdown;

	struct mutex		lock;
	struct condvar		durable_cv;	/* durable_lsn advanced */
	/* protected by lock */
	uint64_t		epoch;
	uint64_t		first_lsn;	/* of the current epoch */
	uint64_t		log_tail;	/* next free byte in the log area */
	uint64_t		next_lsn;	/* LSN of the next reservation */
	uint64_t		durable_lsn;	/* every LSN <= this one is durable */
	uint64_t		nrecords;
	unsigned		inflight;	/* reserved, not yet durable */
	bool			ckpt_running;
};

/* vol.c */
int vol_map(const char *path, bool rdonly, uint8_t **base, size_t *len,
	    bool *is_pmem, bool *own_map) MUST_CHECK;
void vol_unmap(uint8_t *base, size_t len, bool own_map);
int vol_lock_path(const char *path, bool excl) MUST_CHECK;
void vol_persist_point(struct vol *v, const void *addr, size_t len,
		       const char *tag);
void vol_persist_words(struct vol *v, const uint64_t *words, size_t n,
		       const char *tag);
void vol_copy_nodrain(struct vol *v, void *dst, const void *src, size_t len);
void vol_persist_copied(struct vol *v, const void *addr, size_t len,
			const char *tag);

/* inject.c */
void vol_inject_point(const char *tag, void *addr, size_t len);
int vol_inject_env(void) MUST_CHECK;

/* format.c */
void vol_geometry(uint64_t size, uint32_t bs, uint64_t log_size,
		  uint64_t ckpt_size, struct vol_sb_disk *sb);
uint32_t vol_sb_csum(const struct vol_sb_disk *sb);
uint64_t vol_epoch_word(uint32_t seed, uint32_t epoch);
int vol_epoch_decode(uint32_t seed, uint64_t word, uint32_t *epoch) MUST_CHECK;
void vol_sig_make(const uint8_t *uuid, uint8_t *sig);
uint32_t vol_ckpt_hdr_crc(uint32_t seed, const struct vol_ckpt_hdr *h);
int vol_sb_validate(const char *path, const struct vol_sb_disk *sb,
		    uint64_t map_len) MUST_CHECK;

/* log.c */
void vol_log_scan(struct vol *v);

/* ckpt.c */
int vol_ckpt_hdr_check(struct vol *v, const struct vol_ckpt_hdr **out)
	MUST_CHECK;

#endif
