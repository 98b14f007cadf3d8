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
	 * Bytes [dirty_lo, dirty_hi) cover every FS_UNSTABLE write
	 * since the last fs_commit(), which flushes only those (flushing
	 * blocks that are already durable is wasted work).  Empty when
	 * lo == hi.
	 */
	uint64_t		dirty_lo;
	uint64_t		dirty_hi;
	/* References (fs_iget ...); the inode table's shard lock for 0->1. */
	atomic_uint		iref;
	/* Inode table hash chain: the shard lock. */
	struct fs_inode		*hnext;
};

#endif
