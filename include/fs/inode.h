/*
 * fs/inode.h - the in-memory inode.
 *
 * Locking: per inode, IOLOCK -> MAPLOCK -> ILOCK (see fs/ilock.h, where the
 * order is written once and asserted).
 * Ownership: inodes are owned by the engine's inode table; others hold
 * counted references.
 *
 * The storage-engine namespace code owns this structure and adds its
 * fields; the lock set and the reference set are embedded here so that
 * break_layouts() can work on any inode.
 */
#ifndef PMEMNFS_FS_INODE_H
#define PMEMNFS_FS_INODE_H

#include <stdint.h>

#include "fs/ilock.h"
#include "fs/refset.h"

struct fs_inode {
	uint64_t		ino;
	struct fs_ilocks	locks;
	struct fs_refset	refs;
	/* namespace fields follow (owned by src/fs/inode.c) */
};

#endif
