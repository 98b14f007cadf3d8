/*
 * refset_int.h - what src/fs/refset.c and src/fs/break.c share and nobody
 * else may use.
 *
 * Locking: every *_locked function here requires the set's mutex (rs->mu)
 * held and asserts it; the ones that call a reference's ops drop and
 * retake rs->mu around each call (said in their comments).
 * Ownership: the private structures below live on their creator's stack
 * for the duration of one call (a break, a batch of op calls).
 */
#ifndef PMEMNFS_FS_REFSET_INT_H
#define PMEMNFS_FS_REFSET_INT_H

#include <pthread.h>

#include "common.h"
#include "fs/inode.h"

/* A break in progress: its range is "breaking" (rule 4). */
struct fs_break_wait {
	uint64_t		off;
	uint64_t		end;	/* exclusive, saturated at UINT64_MAX */
	enum fs_break_reason	reason;
	struct fs_break_wait	*next;
};

/*
 * Most op calls queued in one batch.  The break pass marks and queues at
 * most this many references per scan of the list; 64 keeps the batch on
 * the stack and the rescans cheap (a 1,000-reference break rescans 16x).
 */
#define FS_REFSET_CALL_BATCH	64

enum fs_refset_op {
	FS_REFSET_OP_BREAK,
	FS_REFSET_OP_EXPIRE,
};

/*
 * A batch of op calls made with rs->mu dropped.  A reference queued here
 * points back at its slot (ref->call_slot), so that fs_layoutref_remove()
 * can tell "not called yet" (drop it from the batch), "being called on my
 * own thread" (the op returned it inline) and "being called on another
 * thread" (wait: the holder may free it when remove returns).
 */
struct fs_refset_call {
	struct fs_layoutref	*refs[FS_REFSET_CALL_BATCH];
	unsigned		n;
	unsigned		cur;	/* slot being called */
	bool			running; /* refs[cur]'s op is executing */
	pthread_t		thread;
	enum fs_refset_op	op;
	struct fs_refset_call	*next;
};

/* Exclusive end of [off, off+len), saturated (FS_RANGE_EOF and overflow). */
static inline uint64_t
fs_range_end(uint64_t off, uint64_t len)
{
	return len > UINT64_MAX - off ? UINT64_MAX : off + len;
}

static inline bool
fs_ranges_overlap(uint64_t a_off, uint64_t a_end, uint64_t b_off,
		  uint64_t b_end)
{
	return a_off < b_end && b_off < a_end;
}

static inline uint64_t
fs_layoutref_end(const struct fs_layoutref *ref)
{
	return fs_range_end(ref->off, ref->len);
}

/*
 * Does a break for reason have to drain a reference of kind?  A write
 * through the MDS conflicts only with clients that may write the same
 * blocks directly; an unmap conflicts with every reference.
 */
static inline bool
fs_break_conflicts(enum fs_break_reason reason, enum fs_layoutref_kind kind)
{
	if (reason == FS_BREAK_UNMAP)
		return true;
	return kind == FS_REF_LAYOUT_RW;
}

/* The global counters (struct fs_refset_stats), updated with atomics. */
extern struct fs_refset_stats fs_refset_counters;
#define FS_REFSET_STAT_ADD(field, v) \
	__atomic_fetch_add(&fs_refset_counters.field, (uint64_t)(v), \
			   __ATOMIC_RELAXED)
#define FS_REFSET_STAT_SUB(field, v) \
	__atomic_fetch_sub(&fs_refset_counters.field, (uint64_t)(v), \
			   __ATOMIC_RELAXED)

/* ACTIVE -> BREAKING: stamp the break deadline (rule 5).  rs->mu held. */
void fs_refset_mark_breaking_locked(struct fs_refset *rs,
				    struct fs_layoutref *ref,
				    enum fs_break_reason reason,
				    uint64_t now_ns);

/*
 * Call the batch's op on each queued reference with rs->mu dropped around
 * each call; after an expire, drop the reference.  rs->mu held on entry
 * and on return.
 */
void fs_refset_run_calls_locked(struct fs_refset *rs, struct fs_refset_call *c);

/*
 * Expire every overdue BREAKING reference that can be revoked (drops rs->mu
 * around each expire_ref).  Returns how many.  rs->mu held.
 */
unsigned fs_refset_expire_locked(struct fs_refset *rs, uint64_t now_ns);

/*
 * Earliest break deadline of a revocable BREAKING reference overlapping
 * [off, end) (all of them: off 0, end UINT64_MAX), 0 if none.  rs->mu held.
 */
uint64_t fs_refset_next_deadline_locked(struct fs_refset *rs, uint64_t off,
					uint64_t end);

/*
 * Sleep on rs->cv until woken or until wake_ns (0: no timeout).  rs->mu
 * held; it is released while asleep, as with any condvar.
 */
void fs_refset_wait_locked(struct fs_refset *rs, uint64_t wake_ns);

/* Wake every thread sleeping on rs->cv, if any.  rs->mu held. */
void fs_refset_wake_locked(struct fs_refset *rs);

#endif
