/*
 * break.c - fs_break_layouts(): drain every external reference to a range
 * of an inode's block map before the map changes (DESIGN.md section 3).
 * The step-by-step description is in docs/refset.md.
 */
#include "config.h"

#include <errno.h>

#include "common.h"
#include "fs/inode.h"
#include "refset_int.h"

/* Is any reference that conflicts with reason still on [off, end)? */
static bool
break_conflicts_remain_locked(struct fs_refset *rs, uint64_t off,
			      uint64_t end, enum fs_break_reason reason)
{
	mutex_assert_held(&rs->mu);
	if (off >= rs->max_end)
		return false;	/* past every reference */
	for (struct fs_layoutref *ref = rs->head;
	     ref != NULL && ref->off < end; ref = ref->next) {
		if (fs_break_conflicts(reason, ref->kind) &&
		    fs_ranges_overlap(ref->off, fs_layoutref_end(ref),
				      off, end))
			return true;
	}
	return false;
}

/*
 * One pass over the set with the caller's inode locks held: every
 * conflicting ACTIVE reference on the range becomes BREAKING and gets its
 * break_ref called once.  A reference already BREAKING for a write that
 * an unmap now also needs is upgraded, so that new pins wait for it too.
 * No new reference can appear meanwhile (MAPLOCK exclusive + our range
 * registered), so references are only ever removed under us; the op calls
 * drop rs->mu, so rescan from the head after each batch.
 */
static void
break_pass_locked(struct fs_refset *rs, uint64_t off, uint64_t end,
		  enum fs_break_reason reason)
{
	uint64_t now = clock_now_ns();
	bool full;

	mutex_assert_held(&rs->mu);
	do {
		struct fs_refset_call call;
		struct fs_layoutref *ref;

		call.op = FS_REFSET_OP_BREAK;
		call.n = 0;
		full = false;
		for (ref = rs->head; ref != NULL && ref->off < end;
		     ref = ref->next) {
			if (!fs_break_conflicts(reason, ref->kind) ||
			    !fs_ranges_overlap(ref->off, fs_layoutref_end(ref),
					       off, end))
				continue;
			if (ref->state == FS_REF_BREAKING &&
			    reason == FS_BREAK_UNMAP)
				ref->break_reason = FS_BREAK_UNMAP;
			if (ref->state != FS_REF_ACTIVE)
				continue;
			if (call.n == FS_REFSET_CALL_BATCH) {
				full = true;
				break;
			}
			fs_refset_mark_breaking_locked(rs, ref, reason, now);
			if (ref->ops == NULL || ref->ops->break_ref == NULL)
				continue;	/* a pin: the holder finishes */
			ref->call = &call;
			ref->call_slot = call.n;
			call.refs[call.n++] = ref;
		}
		if (call.n > 0)
			fs_refset_run_calls_locked(rs, &call);
	} while (full);
}

/*
 * Wait, with the inode locks dropped, until no conflicting reference is
 * left on the range or deadline_ns passes.  Revocable references past
 * their break deadline are expired here (rule 5).  rs->mu held.
 * Returns 0 or -EAGAIN (deadline passed).
 */
static int
break_wait_locked(struct fs_refset *rs, uint64_t off, uint64_t end,
		  enum fs_break_reason reason, uint64_t deadline_ns)
{
	mutex_assert_held(&rs->mu);
	for (;;) {
		uint64_t now, wake;

		if (!break_conflicts_remain_locked(rs, off, end, reason))
			return 0;
		now = clock_now_ns();
		if (fs_refset_expire_locked(rs, now) > 0)
			continue;	/* the set changed: re-check first */
		if (deadline_ns != 0 && now >= deadline_ns)
			return -EAGAIN;
		wake = fs_refset_next_deadline_locked(rs, off, end);
		if (deadline_ns != 0 && (wake == 0 || deadline_ns < wake))
			wake = deadline_ns;
		fs_refset_wait_locked(rs, wake);
	}
}

static void
break_register_locked(struct fs_refset *rs, struct fs_break_wait *bw)
{
	mutex_assert_held(&rs->mu);
	bw->next = rs->breakers;
	rs->breakers = bw;
	FS_REFSET_STAT_ADD(breaks_in_flight, 1);
}

/* Our range stops being "breaking": pins waiting on it may go. */
static void
break_unregister_locked(struct fs_refset *rs, struct fs_break_wait *bw)
{
	mutex_assert_held(&rs->mu);
	for (struct fs_break_wait **pp = &rs->breakers; *pp;
	     pp = &(*pp)->next) {
		if (*pp == bw) {
			*pp = bw->next;
			break;
		}
	}
	FS_REFSET_STAT_SUB(breaks_in_flight, 1);
	fs_refset_wake_locked(rs);
}

/*
 * See fs/refset.h for the contract.  The steps:
 *  1. assert the caller's locks (IOLOCK + MAPLOCK exclusive, as *held says);
 *  2. fast path: no reference at all -> 0 (nrefs can not grow under
 *     MAPLOCK exclusive, so reading it without the set's mutex is safe);
 *  3. register the range as breaking (rule 4) and run one break pass with
 *     the locks held;
 *  4. if nothing conflicting is left -> done (rule 3: no second pass
 *     while locks were held throughout);
 *  5. otherwise drop the inode locks, wait (expiring overdue references,
 *     rule 5) until the range is clear or the caller's deadline passes,
 *     retake the locks in order (*held exactly), and go back to 3's pass
 *     (rule 3: locks were dropped, so re-check).  After a timeout, return
 *     -EAGAIN unless the re-check finds the range clear.
 */
int
fs_break_layouts(struct fs_inode *ip, unsigned *held, uint64_t off,
		 uint64_t len, enum fs_break_reason reason,
		 uint64_t deadline_ns)
{
	struct fs_refset *rs = &ip->refs;
	struct fs_break_wait bw;
	int rc = 0;

	fs_assert_ilocked(ip, FS_BREAK_LOCKS);
	VERIFY((*held & FS_BREAK_LOCKS) == FS_BREAK_LOCKS);
#ifdef PMEMNFS_DEBUG
	VERIFY(fs_ilock_held(ip) == *held);
#endif
	VERIFY(reason == FS_BREAK_WRITE || reason == FS_BREAK_UNMAP);
	if (len == 0 || off == UINT64_MAX)
		return 0;
	if (__atomic_load_n(&rs->nrefs, __ATOMIC_ACQUIRE) == 0)
		return 0;

	bw.off = off;
	bw.end = fs_range_end(off, len);
	bw.reason = reason;
	mutex_lock(&rs->mu);
	if (!break_conflicts_remain_locked(rs, bw.off, bw.end, reason))
		goto out_unlock;
	FS_REFSET_STAT_ADD(breaks_total, 1);
	break_register_locked(rs, &bw);
	for (;;) {
		break_pass_locked(rs, bw.off, bw.end, reason);
		if (!break_conflicts_remain_locked(rs, bw.off, bw.end,
						   reason)) {
			rc = 0;
			break;
		}
		if (rc == -EAGAIN)
			break;	/* the wait already timed out, locks retaken */

		/*
		 * Wait without the inode locks: the holder's LAYOUTRETURN may
		 * need them.  Release the mutex before touching inode locks:
		 * it is innermost.
		 */
		mutex_unlock(&rs->mu);
		fs_iunlock(ip, *held);
		mutex_lock(&rs->mu);
		rc = break_wait_locked(rs, bw.off, bw.end, reason, deadline_ns);
		mutex_unlock(&rs->mu);
		fs_ilock(ip, *held);
		mutex_lock(&rs->mu);
		/* Locks were dropped: the loop re-checks (rule 3). */
	}
	break_unregister_locked(rs, &bw);
	if (rc == -EAGAIN)
		FS_REFSET_STAT_ADD(timeouts_total, 1);
out_unlock:
	mutex_unlock(&rs->mu);
	return rc;
}
