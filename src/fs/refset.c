/*
 * refset.c - the per-inode set of external references to the block map:
 * adding and removing client layout references and local pins, expiring
 * the ones whose holder did not answer a break in time, and the counters.
 * fs_break_layouts() itself is in break.c.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "common.h"
#include "fs/inode.h"
#include "refset_int.h"

struct fs_refset_stats fs_refset_counters;

/* The recall bound for references broken from now on (rule 5). */
static uint64_t recall_timeout_ns = FS_RECALL_TIMEOUT_DEFAULT_NS;

void
fs_refset_set_recall_timeout(uint64_t ns)
{
	VERIFY(ns > 0);
	__atomic_store_n(&recall_timeout_ns, ns, __ATOMIC_RELAXED);
}

uint64_t
fs_refset_recall_timeout(void)
{
	return __atomic_load_n(&recall_timeout_ns, __ATOMIC_RELAXED);
}

void
fs_refset_stats_get(struct fs_refset_stats *out)
{
	struct fs_refset_stats *c = &fs_refset_counters;

	out->refs = __atomic_load_n(&c->refs, __ATOMIC_RELAXED);
	out->pins = __atomic_load_n(&c->pins, __ATOMIC_RELAXED);
	out->breaking = __atomic_load_n(&c->breaking, __ATOMIC_RELAXED);
	out->breaks_in_flight = __atomic_load_n(&c->breaks_in_flight,
						__ATOMIC_RELAXED);
	out->breaks_total = __atomic_load_n(&c->breaks_total,
					    __ATOMIC_RELAXED);
	out->recalls_total = __atomic_load_n(&c->recalls_total,
					     __ATOMIC_RELAXED);
	out->expired_total = __atomic_load_n(&c->expired_total,
					     __ATOMIC_RELAXED);
	out->conflicts_total = __atomic_load_n(&c->conflicts_total,
					       __ATOMIC_RELAXED);
	out->pin_waits_total = __atomic_load_n(&c->pin_waits_total,
					       __ATOMIC_RELAXED);
	out->timeouts_total = __atomic_load_n(&c->timeouts_total,
					      __ATOMIC_RELAXED);
}

void
fs_refset_init(struct fs_inode *ip)
{
	struct fs_refset *rs = &ip->refs;

	mutex_init(&rs->mu, "refset");
	condvar_init(&rs->cv);
	rs->head = rs->tail = NULL;
	rs->breakers = NULL;
	rs->calls = NULL;
	rs->nrefs = 0;
	rs->nbreaking = 0;
	rs->nwaiters = 0;
	rs->max_end = 0;
}

/*
 * Tear down ip->refs.  An inode freed with references left would let its
 * blocks be reused under them (rule 6): that is always a bug, so VERIFY.
 */
void
fs_refset_destroy(struct fs_inode *ip)
{
	struct fs_refset *rs = &ip->refs;

	mutex_lock(&rs->mu);
	VERIFY(rs->nrefs == 0 && rs->head == NULL);
	VERIFY(rs->breakers == NULL && rs->calls == NULL);
	VERIFY(rs->nwaiters == 0);
	mutex_unlock(&rs->mu);
	condvar_destroy(&rs->cv);
	mutex_destroy(&rs->mu);
}

void
fs_refset_wake_locked(struct fs_refset *rs)
{
	mutex_assert_held(&rs->mu);
	if (rs->nwaiters > 0)
		condvar_broadcast(&rs->cv);
}

void
fs_refset_wait_locked(struct fs_refset *rs, uint64_t wake_ns)
{
	mutex_assert_held(&rs->mu);
	/* Atomic stores: admin and tests read the count without mu. */
	__atomic_store_n(&rs->nwaiters, rs->nwaiters + 1, __ATOMIC_RELEASE);
	if (wake_ns == 0)
		condvar_wait(&rs->cv, &rs->mu);
	else
		(void)condvar_wait_until(&rs->cv, &rs->mu, wake_ns);
	__atomic_store_n(&rs->nwaiters, rs->nwaiters - 1, __ATOMIC_RELEASE);
}

/*
 * Link ref into the list kept sorted by start offset.  Grants mostly come
 * in increasing offsets, so search from the tail.
 */
static void
refset_link_locked(struct fs_refset *rs, struct fs_layoutref *ref)
{
	struct fs_layoutref *after = rs->tail;

	mutex_assert_held(&rs->mu);
	while (after != NULL && after->off > ref->off)
		after = after->prev;
	ref->prev = after;
	ref->next = after ? after->next : rs->head;
	if (ref->next)
		ref->next->prev = ref;
	else
		rs->tail = ref;
	if (after)
		after->next = ref;
	else
		rs->head = ref;
	__atomic_store_n(&rs->nrefs, rs->nrefs + 1, __ATOMIC_RELEASE);
	rs->max_end = MAX(rs->max_end, fs_layoutref_end(ref));
	FS_REFSET_STAT_ADD(refs, 1);
	if (ref->kind == FS_REF_PIN)
		FS_REFSET_STAT_ADD(pins, 1);
}

/* Take ref out of the list (any state -> UNUSED) and wake waiters. */
static void
refset_unlink_locked(struct fs_refset *rs, struct fs_layoutref *ref)
{
	mutex_assert_held(&rs->mu);
	ASSERT(ref->state != FS_REF_UNUSED);
	ASSERT(ref->call == NULL);
	if (ref->state == FS_REF_BREAKING || ref->state == FS_REF_EXPIRING) {
		rs->nbreaking--;
		FS_REFSET_STAT_SUB(breaking, 1);
	}
	if (ref->prev)
		ref->prev->next = ref->next;
	else
		rs->head = ref->next;
	if (ref->next)
		ref->next->prev = ref->prev;
	else
		rs->tail = ref->prev;
	ref->prev = ref->next = NULL;
	ref->state = FS_REF_UNUSED;
	__atomic_store_n(&rs->nrefs, rs->nrefs - 1, __ATOMIC_RELEASE);
	if (rs->nrefs == 0)
		rs->max_end = 0;
	FS_REFSET_STAT_SUB(refs, 1);
	if (ref->kind == FS_REF_PIN)
		FS_REFSET_STAT_SUB(pins, 1);
	fs_refset_wake_locked(rs);
}

void
fs_refset_mark_breaking_locked(struct fs_refset *rs, struct fs_layoutref *ref,
			       enum fs_break_reason reason, uint64_t now_ns)
{
	mutex_assert_held(&rs->mu);
	ASSERT(ref->state == FS_REF_ACTIVE);
	ref->state = FS_REF_BREAKING;
	ref->break_reason = reason;
	ref->break_time_ns = now_ns;
	ref->break_deadline_ns = now_ns + fs_refset_recall_timeout();
	rs->nbreaking++;
	FS_REFSET_STAT_ADD(breaking, 1);
	FS_REFSET_STAT_ADD(recalls_total, 1);
}

/* BREAKING -> EXPIRING: the bound passed; expire_ref will run. */
static void
refset_mark_expiring_locked(struct fs_refset *rs, struct fs_layoutref *ref)
{
	mutex_assert_held(&rs->mu);
	ASSERT(ref->state == FS_REF_BREAKING);
	ref->state = FS_REF_EXPIRING;
	FS_REFSET_STAT_ADD(expired_total, 1);
}

void
fs_refset_run_calls_locked(struct fs_refset *rs, struct fs_refset_call *c)
{
	mutex_assert_held(&rs->mu);
	c->thread = pthread_self();
	c->running = false;
	c->next = rs->calls;
	rs->calls = c;
	for (c->cur = 0; c->cur < c->n; c->cur++) {
		struct fs_layoutref *ref = c->refs[c->cur];

		if (ref == NULL)	/* returned before its turn */
			continue;
		c->running = true;
		mutex_unlock(&rs->mu);
		/*
		 * Outside the mutex: the op may return ref inline
		 * (fs_layoutref_remove) or take its holder's locks.  A remove
		 * from another thread waits for us (c->running), so ref stays
		 * valid for the call.
		 */
		if (c->op == FS_REFSET_OP_BREAK)
			ref->ops->break_ref(ref);
		else
			ref->ops->expire_ref(ref);
		mutex_lock(&rs->mu);
		c->running = false;
		if (c->refs[c->cur] != NULL) {
			/* Not returned by the op itself: ref is still valid. */
			c->refs[c->cur] = NULL;
			ref->call = NULL;
			if (c->op == FS_REFSET_OP_EXPIRE)
				refset_unlink_locked(rs, ref);
		}
		fs_refset_wake_locked(rs);
	}
	/* Unlink the batch; every queued ref->call has been cleared. */
	for (struct fs_refset_call **pp = &rs->calls; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
}

/* Can ref be revoked now? */
static bool
refset_overdue(const struct fs_layoutref *ref, uint64_t now_ns)
{
	return ref->state == FS_REF_BREAKING && ref->call == NULL &&
	       ref->ops != NULL && ref->ops->expire_ref != NULL &&
	       ref->break_deadline_ns <= now_ns;
}

unsigned
fs_refset_expire_locked(struct fs_refset *rs, uint64_t now_ns)
{
	unsigned n = 0;

	mutex_assert_held(&rs->mu);
	if (rs->nbreaking == 0)
		return 0;
	for (;;) {
		struct fs_refset_call call;
		struct fs_layoutref *ref;

		for (ref = rs->head; ref != NULL; ref = ref->next)
			if (refset_overdue(ref, now_ns))
				break;
		if (ref == NULL)
			return n;
		refset_mark_expiring_locked(rs, ref);
		call.op = FS_REFSET_OP_EXPIRE;
		call.n = 1;
		call.refs[0] = ref;
		ref->call = &call;
		ref->call_slot = 0;
		/* Drops the mutex: rescan from the head afterwards. */
		fs_refset_run_calls_locked(rs, &call);
		n++;
	}
}

uint64_t
fs_refset_next_deadline_locked(struct fs_refset *rs, uint64_t off,
			       uint64_t end)
{
	uint64_t best = 0;

	mutex_assert_held(&rs->mu);
	if (rs->nbreaking == 0)
		return 0;
	for (struct fs_layoutref *ref = rs->head;
	     ref != NULL && ref->off < end; ref = ref->next) {
		if (ref->state != FS_REF_BREAKING || ref->ops == NULL ||
		    ref->ops->expire_ref == NULL)
			continue;
		if (!fs_ranges_overlap(ref->off, fs_layoutref_end(ref),
				       off, end))
			continue;
		if (best == 0 || ref->break_deadline_ns < best)
			best = ref->break_deadline_ns;
	}
	return best;
}

/*
 * Is a new reference of kind on [off, end) refused because a break is
 * pending there?  Pending means a break in progress (its range is
 * registered) or a reference still being recalled (BREAKING / EXPIRING),
 * so that the next LAYOUTGET after a breaker gave up with -EAGAIN does not
 * undo its work (rule 4).
 */
static bool
refset_blocked_locked(struct fs_refset *rs, enum fs_layoutref_kind kind,
		      uint64_t off, uint64_t end)
{
	mutex_assert_held(&rs->mu);
	for (struct fs_break_wait *bw = rs->breakers; bw; bw = bw->next)
		if (fs_break_conflicts(bw->reason, kind) &&
		    fs_ranges_overlap(bw->off, bw->end, off, end))
			return true;
	if (rs->nbreaking == 0)
		return false;
	for (struct fs_layoutref *ref = rs->head;
	     ref != NULL && ref->off < end; ref = ref->next) {
		if (ref->state != FS_REF_BREAKING &&
		    ref->state != FS_REF_EXPIRING)
			continue;
		if (fs_break_conflicts(ref->break_reason, kind) &&
		    fs_ranges_overlap(ref->off, fs_layoutref_end(ref),
				      off, end))
			return true;
	}
	return false;
}

static void
refset_fill(struct fs_inode *ip, struct fs_layoutref *ref,
	    enum fs_layoutref_kind kind, uint64_t off, uint64_t len,
	    const struct fs_layoutref_ops *ops, void *owner)
{
	ref->off = off;
	ref->len = len;
	ref->kind = kind;
	ref->state = FS_REF_ACTIVE;
	ref->break_reason = FS_BREAK_UNMAP;
	ref->ops = ops;
	ref->owner = owner;
	ref->break_time_ns = 0;
	ref->break_deadline_ns = 0;
	ref->ip = ip;
	ref->prev = ref->next = NULL;
	ref->call = NULL;
	ref->call_slot = 0;
}

int
fs_layoutref_add(struct fs_inode *ip, struct fs_layoutref *ref,
		 enum fs_layoutref_kind kind, uint64_t off, uint64_t len,
		 const struct fs_layoutref_ops *ops, void *owner)
{
	struct fs_refset *rs = &ip->refs;
	uint64_t end = fs_range_end(off, len);

	/* MAPLOCK keeps this add out of a map change's critical section. */
	fs_assert_ilocked(ip, FS_MAPLOCK_SHARED);
	if (len == 0 || off == UINT64_MAX ||
	    (kind != FS_REF_LAYOUT_READ && kind != FS_REF_LAYOUT_RW))
		return -EINVAL;
	ASSERT(ref->state == FS_REF_UNUSED);

	mutex_lock(&rs->mu);
	if (refset_blocked_locked(rs, kind, off, end)) {
		mutex_unlock(&rs->mu);
		FS_REFSET_STAT_ADD(conflicts_total, 1);
		return -EAGAIN;
	}
	refset_fill(ip, ref, kind, off, len, ops, owner);
	refset_link_locked(rs, ref);
	mutex_unlock(&rs->mu);
	return 0;
}

/*
 * Settle ref's place in a running op batch before it leaves the set.
 * Returns false if the caller must wait (the op runs on another thread)
 * and retry; true once ref is no longer queued anywhere.
 */
static bool
refset_detach_call_locked(struct fs_refset *rs, struct fs_layoutref *ref)
{
	struct fs_refset_call *c = ref->call;

	mutex_assert_held(&rs->mu);
	if (c == NULL)
		return true;
	if (c->running && c->cur == ref->call_slot &&
	    !pthread_equal(c->thread, pthread_self()))
		return false;
	/*
	 * Not called yet, or called on this very thread (the op returned it
	 * inline): take it out of the batch so the batch never touches it
	 * again - the holder may free it as soon as we return.
	 */
	c->refs[ref->call_slot] = NULL;
	ref->call = NULL;
	return true;
}

void
fs_layoutref_remove(struct fs_inode *ip, struct fs_layoutref *ref)
{
	struct fs_refset *rs = &ip->refs;

	mutex_lock(&rs->mu);
	ASSERT(ref->state == FS_REF_UNUSED || ref->ip == ip);
	while (!refset_detach_call_locked(rs, ref))
		fs_refset_wait_locked(rs, 0);
	if (ref->state != FS_REF_UNUSED)
		refset_unlink_locked(rs, ref);
	mutex_unlock(&rs->mu);
}

int
fs_layoutref_shrink(struct fs_inode *ip, struct fs_layoutref *ref,
		    uint64_t off, uint64_t len)
{
	struct fs_refset *rs = &ip->refs;
	uint64_t end = fs_range_end(off, len);
	int rc = 0;

	if (len == 0)
		return -EINVAL;
	mutex_lock(&rs->mu);
	if (ref->state == FS_REF_UNUSED) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (off < ref->off || end > fs_layoutref_end(ref)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	/*
	 * Only the start can move, and only up; re-sort by moving ref
	 * forward.  Keep the FS_RANGE_EOF marker when the end is unchanged.
	 */
	if (end != fs_layoutref_end(ref) || ref->len != FS_RANGE_EOF)
		ref->len = len;
	ref->off = off;
	while (ref->next != NULL && ref->next->off < ref->off) {
		struct fs_layoutref *n = ref->next;

		/* swap ref and n */
		n->prev = ref->prev;
		if (ref->prev)
			ref->prev->next = n;
		else
			rs->head = n;
		ref->next = n->next;
		if (n->next)
			n->next->prev = ref;
		else
			rs->tail = ref;
		n->next = ref;
		ref->prev = n;
	}
	fs_refset_wake_locked(rs);
out_unlock:
	mutex_unlock(&rs->mu);
	return rc;
}

/*
 * Must a new pin on [off, end) wait?  Only an unmap break is in its way
 * (a write through the MDS does not move blocks); both a break in progress
 * and references still being recalled for an unmap count (rule 4).
 */
static bool
refset_pin_blocked_locked(struct fs_refset *rs, uint64_t off, uint64_t end)
{
	return refset_blocked_locked(rs, FS_REF_PIN, off, end);
}

int
fs_pin_range(struct fs_inode *ip, unsigned *held, struct fs_layoutref *pin,
	     uint64_t off, uint64_t len, const struct fs_layoutref_ops *ops,
	     void *owner, uint64_t deadline_ns)
{
	struct fs_refset *rs = &ip->refs;
	uint64_t end = fs_range_end(off, len);
	bool waited = false;
	int rc = 0;

	fs_assert_ilocked(ip, FS_MAPLOCK_SHARED);
	ASSERT(*held & FS_MAPLOCK_MASK);
#ifdef PMEMNFS_DEBUG
	VERIFY(fs_ilock_held(ip) == *held);
#endif
	if (len == 0 || off == UINT64_MAX)
		return -EINVAL;
	ASSERT(pin->state == FS_REF_UNUSED);

	mutex_lock(&rs->mu);
	while (refset_pin_blocked_locked(rs, off, end)) {
		if (!waited)
			FS_REFSET_STAT_ADD(pin_waits_total, 1);
		waited = true;
		/*
		 * Wait with the inode locks dropped: the breaker needs MAPLOCK
		 * exclusive back to finish.  Mutex first, then the inode
		 * locks, so that no inode lock is ever taken under it.
		 */
		mutex_unlock(&rs->mu);
		fs_iunlock(ip, *held);
		mutex_lock(&rs->mu);
		for (;;) {
			uint64_t now, wake;

			if (!refset_pin_blocked_locked(rs, off, end))
				break;
			now = clock_now_ns();
			if (fs_refset_expire_locked(rs, now) > 0)
				continue;
			if (deadline_ns != 0 && now >= deadline_ns) {
				rc = -EAGAIN;
				break;
			}
			wake = fs_refset_next_deadline_locked(rs, off, end);
			if (deadline_ns != 0 &&
			    (wake == 0 || deadline_ns < wake))
				wake = deadline_ns;
			fs_refset_wait_locked(rs, wake);
		}
		mutex_unlock(&rs->mu);
		fs_ilock(ip, *held);
		mutex_lock(&rs->mu);
		/* Locks were dropped: re-check, even after a timeout. */
		if (rc != 0 && refset_pin_blocked_locked(rs, off, end))
			goto out_unlock;
		rc = 0;
	}
	refset_fill(ip, pin, FS_REF_PIN, off, len, ops, owner);
	refset_link_locked(rs, pin);
out_unlock:
	mutex_unlock(&rs->mu);
	return rc;
}

void
fs_unpin(struct fs_inode *ip, struct fs_layoutref *pin)
{
	ASSERT(pin->kind == FS_REF_PIN);
	fs_layoutref_remove(ip, pin);
}

unsigned
fs_refset_expire_overdue(struct fs_inode *ip, uint64_t now_ns)
{
	struct fs_refset *rs = &ip->refs;
	unsigned n;

	mutex_lock(&rs->mu);
	n = fs_refset_expire_locked(rs, now_ns);
	mutex_unlock(&rs->mu);
	return n;
}

uint64_t
fs_refset_next_deadline(struct fs_inode *ip)
{
	struct fs_refset *rs = &ip->refs;
	uint64_t d;

	mutex_lock(&rs->mu);
	d = fs_refset_next_deadline_locked(rs, 0, UINT64_MAX);
	mutex_unlock(&rs->mu);
	return d;
}

int
fs_refset_foreach(struct fs_inode *ip,
		  int (*fn)(void *ctx, const struct fs_layoutref_info *ri),
		  void *ctx)
{
	struct fs_refset *rs = &ip->refs;
	int rc = 0;

	mutex_lock(&rs->mu);
	for (struct fs_layoutref *ref = rs->head; ref && rc == 0;
	     ref = ref->next) {
		struct fs_layoutref_info ri = {
			.off = ref->off,
			.len = ref->len,
			.kind = ref->kind,
			.state = ref->state,
			.owner = ref->owner,
			.break_deadline_ns = ref->state == FS_REF_ACTIVE ? 0 :
				ref->break_deadline_ns,
		};

		rc = fn(ctx, &ri);
	}
	mutex_unlock(&rs->mu);
	return rc;
}

unsigned
fs_refset_count(struct fs_inode *ip)
{
	return __atomic_load_n(&ip->refs.nrefs, __ATOMIC_RELAXED);
}
