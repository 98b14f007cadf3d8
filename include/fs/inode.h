/*
 * fs/inode.h - the in-memory inode.
 *
 * Locking: per inode, IOLOCK -> MAPLOCK -> ILOCK (see fs/ilock.h, where the
 * order is written once and asserted).  The engine's quiesce lock (struct
 * fs) sits between MAPLOCK and ILOCK.  Every field below the lock set is
 * protected by ILOCK (read: shared, change: exclusive) unless its comment
 * says otherwise; changes additionally need the quiesce lock shared so a
 * checkpoint never sees a half-done operation.
 * Ownership: inodes are owned by the engine's inode table; others hold
 * counted references (fs_iget()/fs_ihold()/fs_iput()).
 *
 * The storage-engine namespace code owns this structure and adds its
 * fields; the lock set and the reference set are embedded here so that
 * break_layouts() can work on any inode.
 */
#ifndef PMEMNFS_FS_INODE_H
#define PMEMNFS_FS_INODE_H

#include <stdatomic.h>
#include <stdint.h>

#include "fs.h"
#include "fs/ilock.h"
#include "fs/refset.h"

struct fs_dir;		/* src/fs/dir.h */
struct fs_extmap;	/* src/fs/extmap.h */
struct fs_xattr;	/* src/fs/xattr.c */

/*
 * Most dirty ranges an inode tracks.  Above it the two closest neighbours
 * merge (the gap between them is flushed too, which is correct, only
 * extra work).  16 covers the 16 writes between COMMITs of the
 * write4k-unstable benchmark and keeps the list inline (280 bytes): no
 * allocation after a write's record is durable, nothing to free.
 */
#define FS_DIRTY_MAX		16

/* One dirty byte range [lo, hi), lo < hi. */
struct fs_dirty_range {
	uint64_t		lo;
	uint64_t		hi;
};

/*
 * The dirty ranges of one inode: sorted by lo, disjoint and not adjacent
 * (touching ranges merge).  The one spare slot lets an operation split a
 * range before it merges back down to FS_DIRTY_MAX.
 */
struct fs_dirty {
	uint32_t		n;
	struct fs_dirty_range	r[FS_DIRTY_MAX + 1];
};

struct fs_inode {
	uint64_t		ino;
	struct fs_ilocks	locks;
	struct fs_refset	refs;
	/* namespace fields follow (owned by src/fs/inode.c) */
	struct fs		*fs;
	uint64_t		gen;
	enum fs_ftype		type;
	uint32_t		mode;
	uint32_t		uid;
	uint32_t		gid;
	uint32_t		nlink;
	uint32_t		rdev_major;
	uint32_t		rdev_minor;
	uint64_t		size;
	uint64_t		change;
	struct fs_time		atime;
	struct fs_time		mtime;
	struct fs_time		ctime;
	struct fs_time		btime;
	/* FS_TYPE_DIR: entries and the parent's inode number. */
	struct fs_dir		*dir;
	uint64_t		parent;
	/* FS_TYPE_REG: the block map. */
	struct fs_extmap	*map;
	/* FS_TYPE_LNK: the link text (NUL-terminated). */
	char			*target;
	/* Extended attributes, a short list (RFC 8276 values are small). */
	struct fs_xattr		*xattrs;
	/*
	 * Byte ranges of FS_UNSTABLE overwrites not yet flushed by
	 * fs_commit() (src/fs/dirty.h; ILOCK, changed exclusive).
	 */
	struct fs_dirty		dirty;
	/* References (fs_iget ...); the inode table's shard lock for 0->1. */
	atomic_uint		iref;
	/* Inode table hash chain: the shard lock. */
	struct fs_inode		*hnext;
};

#endif
