/*
 * dirty.c - the dirty byte ranges of a file's unstable writes
 * (src/fs/dirty.h).
 *
 * A sorted array of at most FS_DIRTY_MAX ranges, inline in the inode.
 * Linear scans: the array is short, and every caller already holds ILOCK
 * exclusive while it copies or flushes far more bytes than it scans here.
 */
#include "config.h"

#include <string.h>

#include "fs_impl.h"
#include "dirty.h"

/* Check the list's invariants (debug builds). */
static void
dirty_check(const struct fs_dirty *d)
{
	ASSERT(d->n <= FS_DIRTY_MAX);
	for (uint32_t i = 0; i < d->n; i++) {
		ASSERT(d->r[i].lo < d->r[i].hi);
		/* Strictly apart: touching ranges would have merged. */
		ASSERT(i == 0 || d->r[i - 1].hi < d->r[i].lo);
	}
	(void)d;
}

static void
dirty_remove_at(struct fs_dirty *d, uint32_t i, uint32_t count)
{
	memmove(&d->r[i], &d->r[i + count],
		(d->n - i - count) * sizeof(d->r[0]));
	d->n -= count;
}

/*
 * Back to the cap: merge the pair with the smallest gap until at most
 * FS_DIRTY_MAX ranges remain.  The smallest gap adds the fewest durable
 * bytes to what the next commit flushes.
 */
static void
dirty_shrink(struct fs_dirty *d)
{
	while (d->n > FS_DIRTY_MAX) {
		uint32_t best = 0;
		uint64_t gap = UINT64_MAX;

		for (uint32_t i = 0; i + 1 < d->n; i++) {
			uint64_t g = d->r[i + 1].lo - d->r[i].hi;

			if (g < gap) {
				gap = g;
				best = i;
			}
		}
		d->r[best].hi = d->r[best + 1].hi;
		dirty_remove_at(d, best + 1, 1);
	}
}

/* See dirty.h.  Locks: ILOCK exclusive. */
void
fs_dirty_add(struct fs_inode *ip, uint64_t lo, uint64_t hi)
{
	struct fs_dirty *d = &ip->dirty;
	uint32_t i, j;

	fs_assert_ilocked(ip, FS_ILOCK_EXCL);
	ASSERT(lo < hi);
	/* First range that reaches lo (touching counts), then past hi. */
	for (i = 0; i < d->n && d->r[i].hi < lo; i++)
		;
	for (j = i; j < d->n && d->r[j].lo <= hi; j++)
		;
	if (i < j) {
		/* r[i..j) overlap or touch [lo, hi): fold them into r[i]. */
		d->r[i].lo = MIN(d->r[i].lo, lo);
		d->r[i].hi = MAX(d->r[j - 1].hi, hi);
		dirty_remove_at(d, i + 1, j - i - 1);
	} else {
		/* The spare slot makes room for one more before the shrink. */
		memmove(&d->r[i + 1], &d->r[i], (d->n - i) * sizeof(d->r[0]));
		d->r[i].lo = lo;
		d->r[i].hi = hi;
		d->n++;
		dirty_shrink(d);
	}
	dirty_check(d);
}

/* See dirty.h.  Locks: ILOCK exclusive. */
void
fs_dirty_clear(struct fs_inode *ip, uint64_t lo, uint64_t hi)
{
	struct fs_dirty *d = &ip->dirty;
	uint32_t i;

	fs_assert_ilocked(ip, FS_ILOCK_EXCL);
	if (lo >= hi)
		return;
	for (i = 0; i < d->n && d->r[i].hi <= lo; i++)
		;
	while (i < d->n && d->r[i].lo < hi) {
		struct fs_dirty_range *r = &d->r[i];

		if (r->lo < lo && r->hi > hi) {
			/* Split: [r->lo, lo) stays, [hi, r->hi) is new. */
			memmove(&d->r[i + 2], &d->r[i + 1],
				(d->n - i - 1) * sizeof(d->r[0]));
			d->r[i + 1].lo = hi;
			d->r[i + 1].hi = r->hi;
			r->hi = lo;
			d->n++;
			break;
		}
		if (r->lo < lo) {
			r->hi = lo;		/* keep the head */
			i++;
		} else if (r->hi > hi) {
			r->lo = hi;		/* keep the tail */
			break;
		} else {
			dirty_remove_at(d, i, 1);	/* all inside */
		}
	}
	/*
	 * A split can exceed the cap by one; merging the closest pair may
	 * re-mark bytes this call cleared, which only costs a flush.
	 */
	dirty_shrink(d);
	dirty_check(d);
}

/* See dirty.h.  Locks: ILOCK exclusive. */
int
fs_dirty_take(struct fs_inode *ip, uint64_t lo, uint64_t hi,
	      int (*fn)(void *ctx, uint64_t s, uint64_t t), void *ctx)
{
	const struct fs_dirty *d = &ip->dirty;

	fs_assert_ilocked(ip, FS_ILOCK_EXCL);
	for (uint32_t i = 0; i < d->n && d->r[i].lo < hi; i++) {
		uint64_t s = MAX(d->r[i].lo, lo), t = MIN(d->r[i].hi, hi);
		int rc;

		if (s >= t)
			continue;
		rc = fn(ctx, s, t);
		if (rc)
			return rc;
	}
	fs_dirty_clear(ip, lo, hi);
	return 0;
}

/* See dirty.h.  Locks: ILOCK shared. */
uint32_t
fs_dirty_count(const struct fs_inode *ip)
{
	fs_assert_ilocked(ip, FS_ILOCK_SHARED);
	return ip->dirty.n;
}

/* See dirty.h.  Locks: ILOCK shared. */
uint64_t
fs_dirty_bytes(const struct fs_inode *ip)
{
	uint64_t sum = 0;

	fs_assert_ilocked(ip, FS_ILOCK_SHARED);
	for (uint32_t i = 0; i < ip->dirty.n; i++)
		sum += ip->dirty.r[i].hi - ip->dirty.r[i].lo;
	return sum;
}

/* See dirty.h.  Locks: ILOCK shared. */
struct fs_dirty_range
fs_dirty_range(const struct fs_inode *ip, uint32_t i)
{
	fs_assert_ilocked(ip, FS_ILOCK_SHARED);
	VERIFY(i < ip->dirty.n);
	return ip->dirty.r[i];
}
