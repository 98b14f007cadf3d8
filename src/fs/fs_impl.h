/*
 * fs_impl.h - the namespace engine's private structures: struct fs, the
 * inode table, log record formats (docs/format-records.md) and the
 * functions the files of src/fs share.
 *
 * Locking: the order is IOLOCK -> MAPLOCK -> fs->quiesce -> ILOCK (several
 * inodes: class by class, ascending inode number; fs/ilock.h).
 * fs->quiesce is taken shared by every change (around building, appending
 * and applying its log record) and exclusively by a checkpoint, so a
 * checkpoint sees no half-applied operation.  Readers do not take it.
 * fs->rename_lock (a mutex, outermost) serializes renames that move an
 * entry between directories, which keeps directories' parent pointers
 * stable for the "not into its own subtree" walk.  Shard locks of the
 * inode table and fs->srv_lock are leaves.
 * Ownership: struct fs owns the volume, the allocator, the inode table and
 * with it every inode.
 */
#ifndef PMEMNFS_FS_IMPL_H
#define PMEMNFS_FS_IMPL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "fs.h"
#include "fs/alloc.h"
#include "fs/inode.h"
#include "vol.h"
#include "dir.h"
#include "extmap.h"

/* The root directory's inode number; numbers are never reused. */
#define FS_ROOT_INO		1
/* Inode table shards: enough that creates on different inodes rarely meet. */
#define FS_ITABLE_SHARDS	64
/*
 * Inodes live in DRAM and their numbers are never reused, so there is no
 * table to fill; statfs reports this many in all (FATTR4_FILES_TOTAL).
 */
#define FS_INODES_MAX		(1ULL << 40)
/* Most hard links to one inode (NFS reports it as FATTR4_MAXLINK). */
#define FS_LINK_MAX		65000
/*
 * Internal: vol_log_append() found the log full.  The operation drops its
 * locks, checkpoints and starts again; never returned to callers.
 */
#define FS_ELOGFULL		(-4096)

struct fs_ishard {
	struct mutex		lock;
	struct fs_inode		**buckets;
	size_t			nbuckets;
	size_t			count;
};

struct fs_srvrec;

struct fs {
	struct vol		*vol;
	struct fs_alloc		alloc;
	bool			alloc_ready;
	uint32_t		bsize;
	unsigned		bshift;
	unsigned		flags;		/* FS_MOUNT_* */
	atomic_bool		shutdown;
	/* Applying records at mount: the allocator is rebuilt afterwards. */
	bool			replaying;
	struct rwlock		quiesce;
	struct mutex		rename_lock;
	/* Next inode number: only grows (taken with fetch_add, raised by
	 * replay). */
	atomic_uint_fast64_t	next_ino;
	uint64_t		root_ino;
	struct fs_ishard	shards[FS_ITABLE_SHARDS];
	atomic_uint_fast64_t	ninodes;
	/* Server state records (fs_srvrec_*): srv_lock. */
	struct mutex		srv_lock;
	struct fs_srvrec	**srv_buckets;
	size_t			srv_nbuckets;
	size_t			srv_count;
	/* Longest wait for a layout break in one operation, 0: no limit
	 * (fs_set_break_wait()). */
	atomic_uint_fast64_t	break_wait_ns;
	/* Statistics. */
	atomic_uint_fast64_t	checkpoints;
	/* FS_MOUNT_FSCK: extents the allocator rebuild refused. */
	uint64_t		mount_conflicts;
};

/* Extended attribute, one list element (ILOCK of the inode). */
struct fs_xattr {
	struct fs_xattr		*next;
	uint16_t		namelen;
	uint32_t		vlen;
	char			*name;
	void			*val;
};

struct fs_srvrec {
	struct fs_srvrec	*next;
	uint64_t		hash;
	uint32_t		klen;
	uint32_t		vlen;
	uint8_t			data[];		/* key, then value */
};

/* ---- log records (docs/format-records.md) ---- */

enum fs_rec_type {
	FS_REC_CREATE = 1,
	FS_REC_LINK = 2,
	FS_REC_UNLINK = 3,
	FS_REC_RENAME = 4,
	FS_REC_SETATTR = 5,
	FS_REC_MAP = 6,
	FS_REC_IFREE = 7,
	FS_REC_XATTR_SET = 8,
	FS_REC_XATTR_DEL = 9,
	FS_REC_SRV_PUT = 10,
	FS_REC_SRV_DEL = 11,
	FS_REC_SETNLINK = 12,	/* fsck repair */
	FS_REC_DIRENT_DEL = 13,	/* fsck repair: an entry naming no inode */
	FS_REC_DIR_ADOPT = 14,	/* fsck repair: name a nameless directory */
};

struct fs_rec_time {
	int64_t		sec;
	uint32_t	nsec;
	uint32_t	pad;
};

struct fs_rec_create {
	uint64_t		parent;
	uint64_t		ino;
	uint64_t		gen;
	struct fs_rec_time	time;
	struct fs_rec_time	atime;	/* the new inode's atime and mtime */
	struct fs_rec_time	mtime;
	uint32_t		type;
	uint32_t		mode;
	uint32_t		uid;
	uint32_t		gid;
	uint32_t		rdev_major;
	uint32_t		rdev_minor;
	uint16_t		namelen;
	uint16_t		targetlen;
	uint32_t		pad;
	char			data[];		/* name, then target */
};

/* LINK and UNLINK */
struct fs_rec_link {
	uint64_t		dir;
	uint64_t		ino;
	struct fs_rec_time	time;
	uint16_t		namelen;
	uint16_t		pad[3];
	char			name[];
};

struct fs_rec_rename {
	uint64_t		sdir;
	uint64_t		ddir;
	uint64_t		ino;
	uint64_t		victim;		/* 0: the target name was free */
	struct fs_rec_time	time;
	uint16_t		snamelen;
	uint16_t		dnamelen;
	uint32_t		pad;
	char			names[];	/* source name, then target name */
};

struct fs_rec_setattr {
	uint64_t		ino;
	uint32_t		mask;		/* FS_SET_*, _NOW resolved to times */
	uint32_t		mode;
	uint32_t		uid;
	uint32_t		gid;
	uint64_t		size;
	struct fs_rec_time	atime;
	struct fs_rec_time	mtime;
	struct fs_rec_time	btime;
	struct fs_rec_time	ctime;
};

enum fs_mapop_kind {
	FS_MAPOP_INSERT = 1,	/* map [fblk, +len) to vblk in state */
	FS_MAPOP_PUNCH = 2,	/* unmap [fblk, +len) */
	FS_MAPOP_STATE = 3,	/* set mapped blocks of [fblk, +len) to state */
	FS_MAPOP_DROP = 4,	/* fsck: unmap without freeing (another file
				 * owns the blocks, or they are out of range) */
};

struct fs_rec_mapop {
	uint32_t		kind;
	uint32_t		state;
	uint64_t		fblk;
	uint64_t		len;
	uint64_t		vblk;
};

#define FS_MAP_SET_SIZE		0x1	/* size = rec->size */
#define FS_MAP_SET_MTIME	0x2	/* mtime = rec->time (and ctime) */

struct fs_rec_map {
	uint64_t		ino;
	uint64_t		size;
	struct fs_rec_time	time;
	uint32_t		flags;
	uint32_t		nops;
	struct fs_rec_mapop	ops[];
};

struct fs_rec_ifree {
	uint64_t		ino;
};

/* XATTR_SET and XATTR_DEL (vlen 0) */
struct fs_rec_xattr {
	uint64_t		ino;
	struct fs_rec_time	time;
	uint16_t		namelen;
	uint16_t		pad;
	uint32_t		vlen;
	char			data[];		/* name, then value */
};

/* SRV_PUT and SRV_DEL (vlen 0) */
struct fs_rec_srv {
	uint32_t		klen;
	uint32_t		vlen;
	uint8_t			data[];		/* key, then value */
};

/* SETNLINK (fsck) */
struct fs_rec_setnlink {
	uint64_t		ino;
	uint32_t		nlink;
	uint32_t		pad;
};

/* DIRENT_DEL (fsck): dir, name; uses struct fs_rec_link with ino 0. */

/* The sizes docs/format-records.md gives; a change here is a format change. */
_Static_assert(sizeof(struct fs_rec_time) == 16, "record time");
_Static_assert(sizeof(struct fs_rec_create) == 104, "CREATE record");
_Static_assert(sizeof(struct fs_rec_link) == 40, "LINK record");
_Static_assert(sizeof(struct fs_rec_rename) == 56, "RENAME record");
_Static_assert(sizeof(struct fs_rec_setattr) == 96, "SETATTR record");
_Static_assert(sizeof(struct fs_rec_map) == 40, "MAP record");
_Static_assert(sizeof(struct fs_rec_mapop) == 32, "MAP operation");
_Static_assert(sizeof(struct fs_rec_xattr) == 32, "XATTR record");
_Static_assert(sizeof(struct fs_rec_srv) == 8, "SRV record");
_Static_assert(sizeof(struct fs_rec_setnlink) == 16, "SETNLINK record");

/* ---- inode.c ---- */
void fs_itable_init(struct fs *fs);
void fs_itable_destroy(struct fs *fs);
/* A new inode (locks and refset set up), not yet in the table. */
struct fs_inode *fs_inode_alloc(struct fs *fs, uint64_t ino,
				enum fs_ftype type);
void fs_inode_destroy(struct fs_inode *ip);
void fs_itable_insert(struct fs *fs, struct fs_inode *ip);
void fs_itable_remove(struct fs *fs, struct fs_inode *ip);
/* The inode numbered ino, or NULL; no reference taken. */
struct fs_inode *fs_itable_find(struct fs *fs, uint64_t ino);
/* fn for every inode; shard locks held during fn, which must not block. */
int fs_itable_walk(struct fs *fs, int (*fn)(void *ctx, struct fs_inode *ip),
		   void *ctx) MUST_CHECK;
void fs_time_now(struct fs_time *t);
void fs_time_to_rec(struct fs_rec_time *r, const struct fs_time *t);
void fs_time_from_rec(struct fs_time *t, const struct fs_rec_time *r);
/* Blocks and bytes. */
static inline uint64_t
fs_blk_of(const struct fs *fs, uint64_t off)
{
	return off >> fs->bshift;
}

static inline uint64_t
fs_blk_up(const struct fs *fs, uint64_t off)
{
	return (off + fs->bsize - 1) >> fs->bshift;
}

/* ---- journal.c ---- */
/*
 * Begin / end a change: refuse after shutdown or on a read-only mount,
 * take fs->quiesce shared.  Locks: no ILOCK held (the quiesce lock comes
 * before ILOCK); IOLOCK/MAPLOCK may be held.
 */
int fs_tx_begin(struct fs *fs) MUST_CHECK;
void fs_tx_end(struct fs *fs);
/*
 * The log-full retry: run body(fs, arg) inside a transaction and, while
 * it reports a full log (FS_ELOGFULL), checkpoint and run it again from
 * the start.  Locks: around each call of body this takes fs->quiesce
 * shared (fs_tx_begin()) and nothing else; the checkpoint between
 * attempts takes it exclusive.  So the caller holds no ILOCK; IOLOCK and
 * MAPLOCK it holds stay held throughout.  body takes and drops the ILOCKs
 * it needs itself and undoes its own partial work before it returns an
 * error.  Returns body's result, or fs_tx_begin()'s / fs_checkpoint()'s
 * error.
 */
int fs_tx_run(struct fs *fs, int (*body)(struct fs *fs, void *arg),
	      void *arg) MUST_CHECK;
/*
 * Append a record: 0 when durable, FS_ELOGFULL when the log is full (the
 * caller unwinds, runs fs_checkpoint() and retries), -EIO after shutdown.
 * Locks: fs->quiesce shared.
 */
int fs_log(struct fs *fs, uint16_t type, const void *rec, uint32_t len)
	MUST_CHECK;
/*
 * Apply a durable record to the in-memory state: the one code path for
 * running operations and for replay, so both give the same result.
 * Locks: at run time the caller holds ILOCK exclusive on every inode the
 * record names and fs->quiesce shared; at mount nothing (single thread).
 * A failure after the record is durable is a metadata error: the caller
 * shuts down.
 */
int fs_apply(struct fs *fs, uint16_t type, const void *rec, uint32_t len)
	MUST_CHECK;
/* Append then apply; shuts down if apply fails. */
int fs_log_apply(struct fs *fs, uint16_t type, const void *rec, uint32_t len)
	MUST_CHECK;
/* Replay callback for vol_log_replay(). */
int fs_replay_one(void *ctx, uint16_t type, const void *payload, uint32_t len)
	MUST_CHECK;

/* ---- ckpt.c ---- */
int fs_ckpt_save(void *ctx, struct vol_ckpt_writer *w) MUST_CHECK;
int fs_ckpt_load(void *ctx, struct vol_ckpt_reader *r) MUST_CHECK;

/* ---- namei.c / file.c ---- */
/* Free blocks at run time (not during replay). */
void fs_blocks_release(struct fs *fs, uint64_t vblk, uint64_t len);
/* Log the freeing of an unlinked inode with no references left. */
void fs_inode_evict(struct fs *fs, struct fs_inode *ip);

/* ---- srvrec.c ---- */
void fs_srv_init(struct fs *fs);
void fs_srv_destroy(struct fs *fs);
/* Insert or replace (apply and checkpoint load); -ENOMEM. */
int fs_srv_set(struct fs *fs, const void *key, size_t klen, const void *val,
	       size_t vlen) MUST_CHECK;
int fs_srv_unset(struct fs *fs, const void *key, size_t klen) MUST_CHECK;

/* ---- xattr ---- */
int fs_xattr_apply_set(struct fs_inode *ip, const char *name, size_t namelen,
		       const void *val, size_t vlen) MUST_CHECK;
int fs_xattr_apply_del(struct fs_inode *ip, const char *name,
		       size_t namelen) MUST_CHECK;

/* CLOCK_MONOTONIC deadline for one fs_break_layouts() call, 0: none. */
uint64_t fs_break_deadline(struct fs *fs);

/* Validate a name for a directory entry: -EINVAL, -ENAMETOOLONG. */
int fs_name_check(const char *name, size_t *len) MUST_CHECK;

#endif
