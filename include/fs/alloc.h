/*
 * fs/alloc.h - the free-space allocator of the data area.
 *
 * Free space is a set of extents (start, length) in block numbers of the
 * data area, kept in two balanced trees: one ordered by start (to find
 * the run near a goal and to merge neighbours on free) and one ordered by
 * (length, start) (best fit in O(log n)).  The allocator lives only in
 * memory: the fs rebuilds it at mount from the extent maps with
 * fs_alloc_mark_used().
 *
 * The allocator knows nothing of references.  It never hands out a block
 * that is not free, and a block is free only once the fs has given it
 * back; the fs gives blocks back only after the operation that removed
 * them from a file is durable in the log AND after fs_break_layouts()
 * drained every layout and pin on that range (DESIGN.md section 3, rule 6).
 *
 * Locking: every function takes the allocator's internal mutex for its
 * duration (a leaf lock: it may be taken under any inode lock, and nothing
 * is taken under it).  Callers need hold nothing.
 * Ownership: the caller embeds struct fs_alloc and owns it; the extents are
 * owned by the allocator and freed by fs_alloc_destroy().
 */
#ifndef PMEMNFS_FS_ALLOC_H
#define PMEMNFS_FS_ALLOC_H

#include <stdint.h>

#include "common/compiler.h"
#include "common/lock.h"

struct fs_alloc_avl;

struct fs_alloc {
	struct mutex		lock;
	uint64_t		nblocks;	/* blocks managed: 0..nblocks-1 */
	uint64_t		nfree;		/* free blocks */
	uint64_t		next;		/* free extents */
	struct fs_alloc_avl	*by_start;	/* tree root, ordered by start */
	struct fs_alloc_avl	*by_size;	/* tree root, ordered by (len, start) */
};

/*
 * Set up a with blocks 0..nblocks-1 all free.  Returns 0, -EINVAL for
 * nblocks == 0, -ENOMEM.
 */
int fs_alloc_init(struct fs_alloc *a, uint64_t nblocks) MUST_CHECK;

/* Free every extent and the lock.  No other thread may use a. */
void fs_alloc_destroy(struct fs_alloc *a);

/*
 * Allocate one contiguous run of up to want blocks, preferring (in order)
 * a run starting at goal; the end of the free extent holding goal; the
 * start of the next free extent after goal; the end of the free extent
 * before goal; the smallest free extent that holds want blocks; and else
 * the largest free extent (then *got < want).  Only immediate neighbours
 * of goal are tried before best fit, so every call is O(log n).  goal is
 * a hint; any value is allowed.  Returns 0 with *start and *got (1 <= *got
 * <= want), -ENOSPC if no block is free, -EINVAL for want == 0, -ENOMEM.
 */
int fs_alloc_blocks(struct fs_alloc *a, uint64_t goal, uint64_t want,
		    uint64_t *start, uint64_t *got) MUST_CHECK;

/*
 * Give back [start, start + len) (merged with free neighbours).  Only for
 * blocks that are no longer reachable (see the note at the top).  Returns
 * 0; -EINVAL if the range is out of bounds or any block of it is already
 * free (a double free is metadata corruption: the fs shuts down);
 * -ENOMEM (nothing changed).
 */
int fs_alloc_free(struct fs_alloc *a, uint64_t start, uint64_t len) MUST_CHECK;

/*
 * Mark [start, start + len) in use, at mount or replay.  Returns 0;
 * -EEXIST if any block of it is already in use (nothing changed);
 * -EINVAL if out of bounds or len == 0; -ENOMEM.
 */
int fs_alloc_mark_used(struct fs_alloc *a, uint64_t start, uint64_t len)
	MUST_CHECK;

/* Free blocks, free extents, and the longest free run. */
uint64_t fs_alloc_free_count(const struct fs_alloc *a);
uint64_t fs_alloc_extent_count(const struct fs_alloc *a);
uint64_t fs_alloc_largest(const struct fs_alloc *a);

/*
 * Is every block of [start, start + len) free?  1 yes, 0 no (fsck and
 * tests).
 */
int fs_alloc_is_free(const struct fs_alloc *a, uint64_t start, uint64_t len);

/*
 * Check the trees' invariants: order, balance, no overlapping or adjacent
 * free extents, both trees holding the same extents, counts.  Returns 0 or
 * -EUCLEAN (tests, fsck).
 */
int fs_alloc_check(const struct fs_alloc *a) MUST_CHECK;

#endif
