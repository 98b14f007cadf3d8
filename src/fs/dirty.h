/*
 * dirty.h - the byte ranges of a file's unstable writes that are not yet
 * durable, so that fs_commit() flushes exactly those (RFC 8881 section
 * 18.3: COMMIT makes earlier UNSTABLE4 writes stable).  Private to src/fs.
 *
 * The list (struct fs_dirty, in fs/inode.h) is sorted, its ranges
 * disjoint and never adjacent; at most FS_DIRTY_MAX of them, above which
 * the two ranges with the smallest gap merge.  A merge only makes a later
 * commit flush a few durable bytes again; it never drops a dirty byte.
 *
 * Locking: every function here reads or changes ip->dirty and requires
 * ip's ILOCK exclusive (asserted), the lock fs_write() already holds
 * while it copies the data and fs_commit() holds while it flushes.
 * Ownership: the list is inline in the inode: nothing to allocate or free.
 */
#ifndef PMEMNFS_FS_DIRTY_H
#define PMEMNFS_FS_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"
#include "fs/inode.h"

/*
 * Mark [lo, hi) dirty (lo < hi; hi UINT64_MAX allowed).  Never fails:
 * over the cap, neighbours merge.  Locks: ILOCK exclusive.
 */
void fs_dirty_add(struct fs_inode *ip, uint64_t lo, uint64_t hi);

/*
 * Forget the dirty bytes in [lo, hi): they were persisted or left the
 * file (a stable overwrite, truncate, DEALLOCATE, CLONE onto the range).
 * A range that straddles lo or hi is clipped; one that covers both is
 * split.  Locks: ILOCK exclusive.
 */
void fs_dirty_clear(struct fs_inode *ip, uint64_t lo, uint64_t hi);

/*
 * Flush the dirty bytes in [lo, hi): fn(ctx, s, t) once per dirty piece
 * [s, t) inside the range, in ascending order; when every call returned
 * 0 the pieces leave the list (fs_dirty_clear()).  A nonzero return from
 * fn stops the walk, leaves the list as it was and is returned.
 * Locks: ILOCK exclusive (held across the calls of fn).
 */
int fs_dirty_take(struct fs_inode *ip, uint64_t lo, uint64_t hi,
		  int (*fn)(void *ctx, uint64_t s, uint64_t t), void *ctx)
	MUST_CHECK;

/*
 * Number of ranges and dirty bytes (tests, statistics).
 * Locks: ILOCK, shared at least.
 */
uint32_t fs_dirty_count(const struct fs_inode *ip);
uint64_t fs_dirty_bytes(const struct fs_inode *ip);

/*
 * The i-th range (i < fs_dirty_count()), for tests and checks.
 * Locks: ILOCK, shared at least.
 */
struct fs_dirty_range fs_dirty_range(const struct fs_inode *ip, uint32_t i);

#endif
