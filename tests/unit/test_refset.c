/*
 * test_refset.c - the reference set and fs_break_layouts() with real
 * threads: a pin delays a truncate until it is released, grants are
 * refused while a break is pending, a recall is sent once and completed by
 * LAYOUTRETURN, a silent holder is expired after the bound, the caller's
 * deadline gives -EAGAIN with the locks restored exactly.  Every wait is
 * on an observable condition with a deadline, never a guessed sleep.
 */
#include "config.h"

#include <stdatomic.h>

#include "common.h"
#include "fs/inode.h"
#include "../testlib.h"
#include "test_refset_util.h"

/* A holder that can answer a break inline, later, or never. */
enum answer {
	ANSWER_LATER,	/* the test returns it (LAYOUTRETURN) */
	ANSWER_INLINE,	/* break_ref returns it at once */
};

struct holder {
	struct fs_layoutref	ref;
	struct fs_inode		*ip;
	enum answer		answer;
	atomic_int		breaks;
	atomic_int		expires;
	atomic_int		in_set;	/* 1 while we believe we hold it */
};

static void
holder_break(struct fs_layoutref *ref)
{
	struct holder *h = ref->owner;

	CHECK(ref == &h->ref);
	/* The deadline is set before the recall goes out (timer arming). */
	CHECK(ref->break_time_ns != 0);
	CHECK_EQ(ref->break_deadline_ns,
		 ref->break_time_ns + fs_refset_recall_timeout());
	atomic_fetch_add(&h->breaks, 1);
	if (h->answer == ANSWER_INLINE) {
		fs_layoutref_remove(h->ip, ref);
		atomic_store(&h->in_set, 0);
	}
}

static void
holder_expire(struct fs_layoutref *ref)
{
	struct holder *h = ref->owner;

	atomic_fetch_add(&h->expires, 1);
	atomic_store(&h->in_set, 0);
}

static const struct fs_layoutref_ops holder_ops = {
	.break_ref = holder_break,
	.expire_ref = holder_expire,
};

static void
holder_init(struct holder *h, struct fs_inode *ip, enum answer answer)
{
	memset(h, 0, sizeof(*h));
	h->ip = ip;
	h->answer = answer;
}

/* LAYOUTGET: MAPLOCK shared around the add, as the NFS layer does. */
static int
holder_grant(struct holder *h, enum fs_layoutref_kind kind, uint64_t off,
	     uint64_t len)
{
	int rc;

	fs_ilock(h->ip, FS_MAPLOCK_SHARED);
	rc = fs_layoutref_add(h->ip, &h->ref, kind, off, len, &holder_ops, h);
	fs_iunlock(h->ip, FS_MAPLOCK_SHARED);
	if (rc == 0)
		atomic_store(&h->in_set, 1);
	return rc;
}

static void
holder_return(struct holder *h)
{
	fs_layoutref_remove(h->ip, &h->ref);
	atomic_store(&h->in_set, 0);
}

/* A truncate-like map changer running fs_break_layouts in a thread. */
struct breaker {
	pthread_t		thread;
	struct fs_inode		*ip;
	unsigned		held;
	uint64_t		off, len;
	enum fs_break_reason	reason;
	uint64_t		timeout_ns;	/* 0: wait until done */
	int			rc;
	bool			held_ok;	/* locks restored exactly */
	uint64_t		t_start, t_done;
	atomic_bool		done;
};

static void *
breaker_main(void *p)
{
	struct breaker *b = p;
	uint64_t deadline;

	fs_ilock(b->ip, b->held);
	b->t_start = clock_now_ns();
	deadline = b->timeout_ns ? b->t_start + b->timeout_ns : 0;
	b->rc = fs_break_layouts(b->ip, &b->held, b->off, b->len, b->reason,
				 deadline);
	b->t_done = clock_now_ns();
	b->held_ok = true;
#ifdef PMEMNFS_DEBUG
	b->held_ok = fs_ilock_held(b->ip) == b->held;
#endif
	fs_iunlock(b->ip, b->held);
	atomic_store(&b->done, true);
	return NULL;
}

static void
breaker_start(struct breaker *b, struct fs_inode *ip, uint64_t off,
	      uint64_t len, enum fs_break_reason reason, uint64_t timeout_ns)
{
	memset(b, 0, sizeof(*b));
	b->ip = ip;
	b->held = FS_BREAK_LOCKS;
	b->off = off;
	b->len = len;
	b->reason = reason;
	b->timeout_ns = timeout_ns;
	REQUIRE(pthread_create(&b->thread, NULL, breaker_main, b) == 0);
}

static void
breaker_join(struct breaker *b)
{
	pthread_join(b->thread, NULL);
	CHECK(b->held_ok);
}

/* Someone is asleep on the set's condvar (a breaker or pinner waiting). */
static bool
set_has_waiter(void *p)
{
	struct fs_inode *ip = p;

	return __atomic_load_n(&ip->refs.nwaiters, __ATOMIC_ACQUIRE) > 0;
}

static bool
set_has_two_waiters(void *p)
{
	struct fs_inode *ip = p;

	return __atomic_load_n(&ip->refs.nwaiters, __ATOMIC_ACQUIRE) >= 2;
}

/* A reference's state, read under the set's mutex as the engine writes it. */
static enum fs_layoutref_state
ref_state(struct fs_inode *ip, struct fs_layoutref *ref)
{
	enum fs_layoutref_state st;

	mutex_lock(&ip->refs.mu);
	st = ref->state;
	mutex_unlock(&ip->refs.mu);
	return st;
}

static bool
breaker_done(void *p)
{
	return atomic_load(&((struct breaker *)p)->done);
}

static bool
holder_broken(void *p)
{
	return atomic_load(&((struct holder *)p)->breaks) > 0;
}

/* ---- the tests ---- */

/* Local pin state for the pin test's holder thread. */
struct pinner {
	struct fs_inode		*ip;
	struct fs_layoutref	pin;
	uint64_t		off, len, timeout_ns;
	int			rc;
	bool			held_ok;
	atomic_bool		pinned, done;
};

static void *
pinner_main(void *p)
{
	struct pinner *pn = p;
	unsigned held = FS_MAPLOCK_SHARED;
	uint64_t deadline = pn->timeout_ns ? clock_now_ns() + pn->timeout_ns : 0;

	fs_ilock(pn->ip, held);
	pn->rc = fs_pin_range(pn->ip, &held, &pn->pin, pn->off, pn->len, NULL,
			      pn, deadline);
	pn->held_ok = held == FS_MAPLOCK_SHARED;
#ifdef PMEMNFS_DEBUG
	pn->held_ok = pn->held_ok && fs_ilock_held(pn->ip) == held;
#endif
	fs_iunlock(pn->ip, held);
	atomic_store(&pn->pinned, pn->rc == 0);
	atomic_store(&pn->done, true);
	return NULL;
}

static bool
pinner_done(void *p)
{
	return atomic_load(&((struct pinner *)p)->done);
}

/*
 * A pin held by one thread makes a truncate in another wait; it proceeds
 * as soon as the pin is released.
 */
static void
test_pin_delays_truncate(void)
{
	struct fs_inode *ip = test_inode_new(100);
	struct fs_layoutref pin;
	struct breaker b;
	unsigned held = FS_MAPLOCK_SHARED;
	uint64_t t_unpin;

	memset(&pin, 0, sizeof(pin));
	fs_ilock(ip, held);
	CHECK_EQ(fs_pin_range(ip, &held, &pin, 8192, 4096, NULL, NULL, 0), 0);
	fs_iunlock(ip, held);
	CHECK_EQ(fs_refset_count(ip), 1);

	breaker_start(&b, ip, 4096, FS_RANGE_EOF, FS_BREAK_UNMAP, 0);
	REQUIRE(test_wait_for(set_has_waiter, ip));
	/* Asleep on the set with the pin still there: it is waiting. */
	CHECK(!atomic_load(&b.done));
	CHECK_EQ(ref_state(ip, &pin), FS_REF_BREAKING);
	t_unpin = clock_now_ns();
	fs_unpin(ip, &pin);
	REQUIRE(test_wait_for(breaker_done, &b));
	breaker_join(&b);
	CHECK_EQ(b.rc, 0);
	CHECK(b.t_done >= t_unpin);
	CHECK_EQ(fs_refset_count(ip), 0);
	test_inode_free(ip);
}

/* A pin outside the range, or a write break, does not stop the breaker. */
static void
test_no_conflict_no_wait(void)
{
	struct fs_inode *ip = test_inode_new(101);
	struct fs_layoutref pin;
	struct holder rd;
	unsigned held = FS_MAPLOCK_SHARED;
	struct breaker b;

	memset(&pin, 0, sizeof(pin));
	holder_init(&rd, ip, ANSWER_LATER);
	fs_ilock(ip, held);
	CHECK_EQ(fs_pin_range(ip, &held, &pin, 0, 4096, NULL, NULL, 0), 0);
	fs_iunlock(ip, held);
	CHECK_EQ(holder_grant(&rd, FS_REF_LAYOUT_READ, 0, 65536), 0);
	CHECK_EQ(ip->refs.max_end, 65536);	/* the no-scan bound */

	/* Unmap beyond both references. */
	breaker_start(&b, ip, 65536, FS_RANGE_EOF, FS_BREAK_UNMAP, 0);
	breaker_join(&b);
	CHECK_EQ(b.rc, 0);
	/* A write through the MDS: neither a pin nor a READ layout conflicts. */
	breaker_start(&b, ip, 0, FS_RANGE_EOF, FS_BREAK_WRITE, 0);
	breaker_join(&b);
	CHECK_EQ(b.rc, 0);
	CHECK_EQ(atomic_load(&rd.breaks), 0);
	CHECK_EQ(ref_state(ip, &pin), FS_REF_ACTIVE);
	CHECK_EQ(ref_state(ip, &rd.ref), FS_REF_ACTIVE);
	fs_unpin(ip, &pin);
	holder_return(&rd);
	CHECK_EQ(ip->refs.max_end, 0);
	test_inode_free(ip);
}

/* BREAK_WRITE recalls RW layouts only. */
static void
test_write_break_recalls_rw(void)
{
	struct fs_inode *ip = test_inode_new(102);
	struct holder rd, rw;
	struct breaker b;

	holder_init(&rd, ip, ANSWER_INLINE);
	holder_init(&rw, ip, ANSWER_INLINE);
	CHECK_EQ(holder_grant(&rd, FS_REF_LAYOUT_READ, 0, FS_RANGE_EOF), 0);
	CHECK_EQ(holder_grant(&rw, FS_REF_LAYOUT_RW, 0, FS_RANGE_EOF), 0);
	breaker_start(&b, ip, 0, 4096, FS_BREAK_WRITE, 0);
	breaker_join(&b);
	CHECK_EQ(b.rc, 0);
	CHECK_EQ(atomic_load(&rw.breaks), 1);
	CHECK_EQ(atomic_load(&rd.breaks), 0);
	CHECK_EQ(ref_state(ip, &rw.ref), FS_REF_UNUSED);
	CHECK_EQ(ref_state(ip, &rd.ref), FS_REF_ACTIVE);
	holder_return(&rd);
	test_inode_free(ip);
}

/*
 * A grant can not be taken on a range being broken (-EAGAIN), elsewhere it
 * can, and on the range again once the break is done.
 */
static void
test_grant_refused_while_breaking(void)
{
	struct fs_inode *ip = test_inode_new(103);
	struct holder old, again, elsewhere, retry;
	struct fs_refset_stats st0, st1;
	struct breaker b;

	holder_init(&old, ip, ANSWER_LATER);
	holder_init(&again, ip, ANSWER_LATER);
	holder_init(&elsewhere, ip, ANSWER_LATER);
	holder_init(&retry, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&old, FS_REF_LAYOUT_RW, 0, 1 << 20), 0);

	breaker_start(&b, ip, 0, 1 << 20, FS_BREAK_UNMAP, 0);
	REQUIRE(test_wait_for(set_has_waiter, ip));
	fs_refset_stats_get(&st0);
	/* The breaker dropped its locks to wait: we get MAPLOCK, not a grant. */
	CHECK_EQ(holder_grant(&again, FS_REF_LAYOUT_READ, 4096, 4096), -EAGAIN);
	CHECK_EQ(holder_grant(&again, FS_REF_LAYOUT_RW, 0, FS_RANGE_EOF),
		 -EAGAIN);
	CHECK_EQ(holder_grant(&elsewhere, FS_REF_LAYOUT_RW, 1 << 20, 4096), 0);
	fs_refset_stats_get(&st1);
	CHECK_EQ(st1.conflicts_total - st0.conflicts_total, 2);
	CHECK(!atomic_load(&b.done));

	holder_return(&old);
	REQUIRE(test_wait_for(breaker_done, &b));
	breaker_join(&b);
	CHECK_EQ(b.rc, 0);
	CHECK_EQ(ref_state(ip, &elsewhere.ref), FS_REF_ACTIVE);	/* never broken */
	CHECK_EQ(atomic_load(&elsewhere.breaks), 0);
	CHECK_EQ(holder_grant(&retry, FS_REF_LAYOUT_RW, 0, 1 << 20), 0);
	holder_return(&retry);
	holder_return(&elsewhere);
	test_inode_free(ip);
}

/* A client that answers the recall from another thread completes it. */
struct client_thread {
	struct holder	*h;
	pthread_t	t;
	uint64_t	t_return;
	bool		saw_break;
};

static void *
client_main(void *p)
{
	struct client_thread *c = p;

	/* CB_LAYOUTRECALL arrives ... the client answers LAYOUTRETURN. */
	c->saw_break = test_wait_for(holder_broken, c->h);
	c->t_return = clock_now_ns();
	holder_return(c->h);
	return NULL;
}

static void
test_recall_then_layoutreturn(void)
{
	struct fs_inode *ip = test_inode_new(104);
	struct client_thread c;
	struct holder h;
	struct breaker b;

	holder_init(&h, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_RW, 0, FS_RANGE_EOF), 0);
	memset(&c, 0, sizeof(c));
	c.h = &h;
	REQUIRE(pthread_create(&c.t, NULL, client_main, &c) == 0);
	breaker_start(&b, ip, 1 << 16, FS_RANGE_EOF, FS_BREAK_UNMAP, 0);
	pthread_join(c.t, NULL);
	REQUIRE(test_wait_for(breaker_done, &b));
	breaker_join(&b);
	CHECK(c.saw_break);
	CHECK_EQ(b.rc, 0);
	CHECK(b.t_done >= c.t_return);
	CHECK_EQ(atomic_load(&h.breaks), 1);	/* once, not per wakeup */
	CHECK_EQ(atomic_load(&h.expires), 0);
	CHECK_EQ(ref_state(ip, &h.ref), FS_REF_UNUSED);
	test_inode_free(ip);
}

/* Immediate answers: no wait, every reference broken once, batches > 64. */
static void
test_inline_answers(void)
{
	enum { N = 200 };
	struct fs_inode *ip = test_inode_new(105);
	struct holder *h = calloc(N, sizeof(*h));
	unsigned held = FS_BREAK_LOCKS | FS_ILOCK_EXCL;
	struct fs_refset_stats st0, st1;

	REQUIRE(h != NULL);
	for (int i = 0; i < N; i++) {
		holder_init(&h[i], ip, ANSWER_INLINE);
		/* Overlapping and out-of-order ranges, to exercise sorting. */
		CHECK_EQ(holder_grant(&h[i], i % 2 ? FS_REF_LAYOUT_RW :
				      FS_REF_LAYOUT_READ,
				      (uint64_t)((i * 7919) % N) * 4096,
				      8192), 0);
	}
	CHECK_EQ(fs_refset_count(ip), N);
	fs_refset_stats_get(&st0);
	fs_ilock(ip, held);
	CHECK_EQ(fs_break_layouts(ip, &held, 0, FS_RANGE_EOF, FS_BREAK_UNMAP,
				  0), 0);
#ifdef PMEMNFS_DEBUG
	CHECK_EQ(fs_ilock_held(ip), held);
#endif
	fs_iunlock(ip, held);
	fs_refset_stats_get(&st1);
	CHECK_EQ(fs_refset_count(ip), 0);
	CHECK_EQ(st1.recalls_total - st0.recalls_total, N);
	CHECK_EQ(st1.timeouts_total, st0.timeouts_total);
	for (int i = 0; i < N; i++)
		CHECK_EQ(atomic_load(&h[i].breaks), 1);
	free(h);
	test_inode_free(ip);
}

/*
 * A reference whose owner never answers is expired after the configured
 * bound; expire_ref is called exactly once and the breaker then succeeds.
 */
static void
test_silent_holder_expired(void)
{
	const uint64_t bound = 50 * NSEC_PER_MSEC;
	struct fs_inode *ip = test_inode_new(106);
	struct holder h;
	struct breaker b;

	fs_refset_set_recall_timeout(bound);
	holder_init(&h, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_RW, 0, FS_RANGE_EOF), 0);
	breaker_start(&b, ip, 0, FS_RANGE_EOF, FS_BREAK_UNMAP, 0);
	REQUIRE(test_wait_for(breaker_done, &b));
	breaker_join(&b);
	CHECK_EQ(b.rc, 0);
	CHECK(b.t_done - b.t_start >= bound);
	CHECK_EQ(atomic_load(&h.breaks), 1);
	CHECK_EQ(atomic_load(&h.expires), 1);
	CHECK_EQ(ref_state(ip, &h.ref), FS_REF_UNUSED);
	/* The holder's late LAYOUTRETURN is harmless. */
	holder_return(&h);
	CHECK_EQ(atomic_load(&h.expires), 1);
	CHECK_EQ(fs_refset_count(ip), 0);
	fs_refset_set_recall_timeout(FS_RECALL_TIMEOUT_DEFAULT_NS);
	test_inode_free(ip);
}

/*
 * The caller's deadline passes: -EAGAIN with the locks restored exactly;
 * the recall carries on (new grants still refused); the NFS layer's timer
 * expires the silent holder; the retried break finds the work done.
 */
static void
test_deadline_then_timer_expiry(void)
{
	const uint64_t bound = 80 * NSEC_PER_MSEC;
	struct fs_inode *ip = test_inode_new(107);
	struct holder h, late;
	unsigned held = FS_BREAK_LOCKS | FS_ILOCK_SHARED;
	const unsigned held0 = held;
	uint64_t start, next;
	int rc;

	fs_refset_set_recall_timeout(bound);
	holder_init(&h, ip, ANSWER_LATER);
	holder_init(&late, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_READ, 4096, 4096), 0);

	fs_ilock(ip, held);
	start = clock_now_ns();
	rc = fs_break_layouts(ip, &held, 0, FS_RANGE_EOF, FS_BREAK_UNMAP,
			      start + 10 * NSEC_PER_MSEC);
	CHECK_EQ(rc, -EAGAIN);
	CHECK(clock_now_ns() - start >= 10 * NSEC_PER_MSEC);
	CHECK_EQ(held, held0);
#ifdef PMEMNFS_DEBUG
	CHECK_EQ(fs_ilock_held(ip), held0);
#endif
	fs_assert_ilocked(ip, FS_IOLOCK_EXCL | FS_MAPLOCK_EXCL |
			  FS_ILOCK_SHARED);
	fs_iunlock(ip, held);

	CHECK_EQ(atomic_load(&h.breaks), 1);
	CHECK_EQ(ref_state(ip, &h.ref), FS_REF_BREAKING);
	/* Rule 4 after the breaker gave up: the range is still breaking. */
	CHECK_EQ(holder_grant(&late, FS_REF_LAYOUT_READ, 0, 8192), -EAGAIN);

	next = fs_refset_next_deadline(ip);
	CHECK_EQ(next, h.ref.break_deadline_ns);
	CHECK_EQ(fs_refset_expire_overdue(ip, next - 1), 0);
	CHECK_EQ(atomic_load(&h.expires), 0);
	CHECK_EQ(fs_refset_expire_overdue(ip, next), 1);
	CHECK_EQ(atomic_load(&h.expires), 1);
	CHECK_EQ(fs_refset_expire_overdue(ip, next + NSEC_PER_SEC), 0);
	CHECK_EQ(fs_refset_next_deadline(ip), 0);

	fs_ilock(ip, held);
	CHECK_EQ(fs_break_layouts(ip, &held, 0, FS_RANGE_EOF, FS_BREAK_UNMAP,
				  clock_now_ns() + NSEC_PER_MSEC), 0);
	fs_iunlock(ip, held);
	CHECK_EQ(atomic_load(&h.breaks), 1);
	CHECK_EQ(holder_grant(&late, FS_REF_LAYOUT_READ, 0, 8192), 0);
	holder_return(&late);
	fs_refset_set_recall_timeout(FS_RECALL_TIMEOUT_DEFAULT_NS);
	test_inode_free(ip);
}

/* The caller's deadline with another thread checking the locks. */
struct lock_probe {
	struct fs_inode	*ip;
	bool		excl_free;
};

static void *
probe_main(void *p)
{
	struct lock_probe *lp = p;

	lp->excl_free = fs_ilock_nowait(lp->ip, FS_MAPLOCK_SHARED);
	if (lp->excl_free)
		fs_iunlock(lp->ip, FS_MAPLOCK_SHARED);
	return NULL;
}

static void
test_deadline_locks_really_held(void)
{
	struct fs_inode *ip = test_inode_new(108);
	struct lock_probe lp = { ip, true };
	unsigned held = FS_BREAK_LOCKS;
	struct holder h;
	pthread_t t;

	holder_init(&h, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_RW, 0, 4096), 0);
	fs_ilock(ip, held);
	CHECK_EQ(fs_break_layouts(ip, &held, 0, 4096, FS_BREAK_WRITE,
				  clock_now_ns() + 5 * NSEC_PER_MSEC), -EAGAIN);
	/* Not just recorded as held: another thread really is kept out. */
	REQUIRE(pthread_create(&t, NULL, probe_main, &lp) == 0);
	pthread_join(t, NULL);
	CHECK(!lp.excl_free);
	fs_iunlock(ip, held);
	holder_return(&h);
	test_inode_free(ip);
}

/* A new pin on a range being broken waits until the break is done. */
static void
test_pin_waits_for_break(void)
{
	struct fs_inode *ip = test_inode_new(109);
	struct pinner pn;
	struct holder h;
	struct breaker b;
	pthread_t t;

	holder_init(&h, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_RW, 0, FS_RANGE_EOF), 0);
	breaker_start(&b, ip, 0, FS_RANGE_EOF, FS_BREAK_UNMAP, 0);
	REQUIRE(test_wait_for(holder_broken, &h));
	REQUIRE(test_wait_for(set_has_waiter, ip));

	memset(&pn, 0, sizeof(pn));
	pn.ip = ip;
	pn.off = 0;
	pn.len = 4096;
	REQUIRE(pthread_create(&t, NULL, pinner_main, &pn) == 0);
	/* Two sleepers now: the breaker and the pinner. */
	REQUIRE(test_wait_for(set_has_two_waiters, ip));
	CHECK(!atomic_load(&pn.done));
	holder_return(&h);
	REQUIRE(test_wait_for(breaker_done, &b));
	breaker_join(&b);
	REQUIRE(test_wait_for(pinner_done, &pn));
	pthread_join(t, NULL);
	CHECK_EQ(b.rc, 0);
	CHECK_EQ(pn.rc, 0);
	CHECK(pn.held_ok);
	CHECK_EQ(ref_state(ip, &pn.pin), FS_REF_ACTIVE);
	fs_unpin(ip, &pn.pin);
	test_inode_free(ip);
}

/* A pin with a deadline gives up with -EAGAIN, locks restored. */
static void
test_pin_deadline(void)
{
	struct fs_inode *ip = test_inode_new(110);
	struct pinner pn;
	struct holder h;
	unsigned held = FS_BREAK_LOCKS;

	fs_refset_set_recall_timeout(NSEC_PER_SEC * 3600);
	holder_init(&h, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_RW, 0, FS_RANGE_EOF), 0);
	fs_ilock(ip, held);
	CHECK_EQ(fs_break_layouts(ip, &held, 0, FS_RANGE_EOF, FS_BREAK_UNMAP,
				  clock_now_ns() + NSEC_PER_MSEC), -EAGAIN);
	fs_iunlock(ip, held);

	memset(&pn, 0, sizeof(pn));
	pn.ip = ip;
	pn.off = 100;
	pn.len = 1;
	pn.timeout_ns = 10 * NSEC_PER_MSEC;
	pinner_main(&pn);
	CHECK_EQ(pn.rc, -EAGAIN);
	CHECK(pn.held_ok);
	CHECK_EQ(ref_state(ip, &pn.pin), FS_REF_UNUSED);
	holder_return(&h);
	fs_refset_set_recall_timeout(FS_RECALL_TIMEOUT_DEFAULT_NS);
	test_inode_free(ip);
}

/* A partial LAYOUTRETURN of the conflicting part completes the break. */
static void
test_shrink_completes_break(void)
{
	struct fs_inode *ip = test_inode_new(111);
	struct holder h, other;
	struct breaker b;

	holder_init(&h, ip, ANSWER_LATER);
	holder_init(&other, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_RW, 0, 100 * 4096), 0);
	CHECK_EQ(holder_grant(&other, FS_REF_LAYOUT_READ, 10 * 4096, 4096), 0);
	breaker_start(&b, ip, 50 * 4096, FS_RANGE_EOF, FS_BREAK_UNMAP, 0);
	REQUIRE(test_wait_for(set_has_waiter, ip));
	CHECK_EQ(fs_layoutref_shrink(ip, &h.ref, 0, 200 * 4096), -EINVAL);
	/* Move the start past other's: the list must stay sorted. */
	CHECK_EQ(fs_layoutref_shrink(ip, &h.ref, 20 * 4096, 30 * 4096), 0);
	REQUIRE(test_wait_for(breaker_done, &b));
	breaker_join(&b);
	CHECK_EQ(b.rc, 0);
	CHECK(ip->refs.head == &other.ref && other.ref.next == &h.ref);
	holder_return(&h);
	holder_return(&other);
	test_inode_free(ip);
}

static void
test_bad_arguments(void)
{
	struct fs_inode *ip = test_inode_new(112);
	struct holder h;
	unsigned held = FS_BREAK_LOCKS;

	holder_init(&h, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&h, FS_REF_LAYOUT_RW, 0, 0), -EINVAL);
	CHECK_EQ(holder_grant(&h, FS_REF_PIN, 0, 1), -EINVAL);
	fs_ilock(ip, held);
	CHECK_EQ(fs_break_layouts(ip, &held, 0, 0, FS_BREAK_UNMAP, 0), 0);
	fs_iunlock(ip, held);
	CHECK_EQ(fs_refset_count(ip), 0);
	test_inode_free(ip);
}

/* A holder that frees its reference as soon as it learns of the expiry. */
struct freeing_holder {
	struct fs_layoutref	ref;
	atomic_bool		expired;
	atomic_bool		fenced;
};

static void
freeing_expire(struct fs_layoutref *ref)
{
	struct freeing_holder *h = ref->owner;
	struct timespec fence = { 0, 5 * 1000 * 1000 };

	atomic_store(&h->expired, true);
	/* The fence takes a while: the holder's thread is already awake. */
	nanosleep(&fence, NULL);
	atomic_store(&h->fenced, true);	/* still ours to touch */
}

static const struct fs_layoutref_ops freeing_ops = {
	.break_ref = NULL,
	.expire_ref = freeing_expire,
};

struct freeing_thread {
	struct fs_inode		*ip;
	struct freeing_holder	*h;
	enum fs_layoutref_state	state_after_remove;
	bool			fenced_before_free;
	bool			saw_expiry;
};

static bool
freeing_expired(void *p)
{
	return atomic_load(&((struct freeing_holder *)p)->expired);
}

static void *
freeing_main(void *p)
{
	struct freeing_thread *ft = p;

	ft->saw_expiry = test_wait_for(freeing_expired, ft->h);
	fs_layoutref_remove(ft->ip, &ft->h->ref);
	/* remove waited for the engine to let go: safe to look and free. */
	ft->state_after_remove = ft->h->ref.state;
	ft->fenced_before_free = atomic_load(&ft->h->fenced);
	free(ft->h);
	return NULL;
}

/*
 * The holder frees its reference right after fs_layoutref_remove() while
 * the engine is still finishing the expiry: remove must wait for it (an
 * engine touching the freed memory shows up under ASan / valgrind).
 */
static void
test_free_after_expire(void)
{
	struct fs_inode *ip = test_inode_new(114);
	struct freeing_thread ft;
	struct breaker b;
	pthread_t t;

	fs_refset_set_recall_timeout(10 * NSEC_PER_MSEC);
	memset(&ft, 0, sizeof(ft));
	ft.ip = ip;
	ft.h = calloc(1, sizeof(*ft.h));
	REQUIRE(ft.h != NULL);
	fs_ilock(ip, FS_MAPLOCK_SHARED);
	CHECK_EQ(fs_layoutref_add(ip, &ft.h->ref, FS_REF_LAYOUT_RW, 0, 4096,
				  &freeing_ops, ft.h), 0);
	fs_iunlock(ip, FS_MAPLOCK_SHARED);
	REQUIRE(pthread_create(&t, NULL, freeing_main, &ft) == 0);
	breaker_start(&b, ip, 0, FS_RANGE_EOF, FS_BREAK_UNMAP, 0);
	pthread_join(t, NULL);
	REQUIRE(test_wait_for(breaker_done, &b));
	breaker_join(&b);
	CHECK(ft.saw_expiry);
	CHECK_EQ(ft.state_after_remove, FS_REF_UNUSED);
	CHECK(ft.fenced_before_free);	/* remove waited for expire_ref */
	CHECK_EQ(b.rc, 0);
	CHECK_EQ(fs_refset_count(ip), 0);
	fs_refset_set_recall_timeout(FS_RECALL_TIMEOUT_DEFAULT_NS);
	test_inode_free(ip);
}

struct walk {
	int		n;
	uint64_t	last_off;
	bool		sorted;
	int		breaking;
	int		pins;
};

static int
walk_one(void *ctx, const struct fs_layoutref_info *ri)
{
	struct walk *w = ctx;

	if (w->n > 0 && ri->off < w->last_off)
		w->sorted = false;
	w->last_off = ri->off;
	w->n++;
	if (ri->state == FS_REF_BREAKING) {
		w->breaking++;
		CHECK(ri->break_deadline_ns != 0);
	}
	if (ri->kind == FS_REF_PIN)
		w->pins++;
	return w->n == 4 ? 42 : 0;	/* stop at the fourth */
}

/* The admin walk sees every reference in order, with its state. */
static void
test_foreach(void)
{
	struct fs_inode *ip = test_inode_new(113);
	struct holder a, b, c;
	struct fs_layoutref pin;
	unsigned held = FS_MAPLOCK_SHARED;
	struct walk w = { .sorted = true };

	memset(&pin, 0, sizeof(pin));
	holder_init(&a, ip, ANSWER_LATER);
	holder_init(&b, ip, ANSWER_LATER);
	holder_init(&c, ip, ANSWER_LATER);
	CHECK_EQ(holder_grant(&a, FS_REF_LAYOUT_RW, 8192, 4096), 0);
	CHECK_EQ(holder_grant(&b, FS_REF_LAYOUT_READ, 0, 4096), 0);
	fs_ilock(ip, held);
	CHECK_EQ(fs_pin_range(ip, &held, &pin, 4096, 4096, NULL, NULL, 0), 0);
	fs_iunlock(ip, held);
	held = FS_BREAK_LOCKS;
	fs_ilock(ip, held);
	CHECK_EQ(fs_break_layouts(ip, &held, 8192, 4096, FS_BREAK_UNMAP,
				  clock_now_ns() + NSEC_PER_MSEC), -EAGAIN);
	fs_iunlock(ip, held);
	CHECK_EQ(fs_refset_foreach(ip, walk_one, &w), 0);
	CHECK_EQ(w.n, 3);
	CHECK(w.sorted);
	CHECK_EQ(w.breaking, 1);
	CHECK_EQ(w.pins, 1);
	CHECK_EQ(holder_grant(&c, FS_REF_LAYOUT_READ, 1 << 20, 4096), 0);
	memset(&w, 0, sizeof(w));
	w.sorted = true;
	CHECK_EQ(fs_refset_foreach(ip, walk_one, &w), 42);
	CHECK_EQ(w.n, 4);
	holder_return(&a);
	holder_return(&b);
	holder_return(&c);
	fs_unpin(ip, &pin);
	test_inode_free(ip);
}

int
main(void)
{
	log_set_level(LOG_LVL_WARN);
	TEST_RUN(test_pin_delays_truncate);
	TEST_RUN(test_no_conflict_no_wait);
	TEST_RUN(test_write_break_recalls_rw);
	TEST_RUN(test_grant_refused_while_breaking);
	TEST_RUN(test_recall_then_layoutreturn);
	TEST_RUN(test_inline_answers);
	TEST_RUN(test_silent_holder_expired);
	TEST_RUN(test_deadline_then_timer_expiry);
	TEST_RUN(test_deadline_locks_really_held);
	TEST_RUN(test_pin_waits_for_break);
	TEST_RUN(test_pin_deadline);
	TEST_RUN(test_shrink_completes_break);
	TEST_RUN(test_bad_arguments);
	TEST_RUN(test_foreach);
	TEST_RUN(test_free_after_expire);
	TEST_EXIT();
}
