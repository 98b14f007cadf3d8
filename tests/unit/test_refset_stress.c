/*
 * test_refset_stress.c - many threads take and drop pins and layout grants
 * on one inode while others truncate, punch and write through the MDS on
 * a fake block map kept here.  The map changers free and reallocate
 * blocks only after fs_break_layouts() returned 0, holding the exclusive
 * locks, as the engine does.  A checker thread verifies rule 6 all along:
 * no block reachable through a live pin or grant is ever freed or handed
 * to another file offset.  A watchdog fails the test if anything
 * deadlocks.  Run time: REFSET_STRESS_SECS (default 2).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>

#include "common.h"
#include "fs/inode.h"
#include "../testlib.h"
#include "test_refset_util.h"

#define BLK		4096ULL
#define NFBLK		64	/* file blocks */
#define NPBLK		160	/* physical blocks: enough for the file + slack */
#define MAXREF		8	/* blocks one reference covers at most */
#define NPINNERS	3
#define NCLIENTS	4
#define NCHANGERS	2
/* Short recall bound so silent clients get expired during the run. */
#define STRESS_RECALL_NS	(20 * NSEC_PER_MSEC)
/* The watchdog's margin after the planned run time. */
#define WATCHDOG_NS		(30ULL * NSEC_PER_SEC)

/* The fake block map; all of it under the inode's ILOCK. */
static int32_t fmap[NFBLK];		/* file block -> phys, -1 hole */
static int32_t powner[NPBLK];		/* phys -> file block, -1 free */
static uint32_t pgen[NPBLK];		/* bumped whenever phys is freed */

static struct fs_inode *ip;
static atomic_bool stop;
static atomic_long violations;

/* What one live reference reaches, as the holder saw it when it took it. */
struct live {
	bool		active;
	int		n;
	int32_t		fblk[MAXREF];
	int32_t		pblk[MAXREF];
	uint32_t	gen[MAXREF];
};

/* Registry of live references: innermost lock of this test. */
static struct mutex reg_mu;

static atomic_long n_pins, n_grants, n_conflicts, n_truncates, n_punches,
	n_writes, n_break_timeouts, n_checks, n_recalls, n_expired,
	n_pin_timeouts;

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* Is every block of l still the one it saw?  ILOCK shared + reg_mu held. */
static bool
live_intact(const struct live *l)
{
	for (int i = 0; i < l->n; i++) {
		int32_t p = l->pblk[i];

		if (powner[p] != l->fblk[i] || pgen[p] != l->gen[i] ||
		    fmap[l->fblk[i]] != p)
			return false;
	}
	return true;
}

/* Record the blocks of file blocks [a, a+k) into l.  ILOCK held. */
static void
live_snapshot(struct live *l, int a, int k)
{
	l->n = 0;
	for (int f = a; f < a + k && f < NFBLK; f++) {
		if (fmap[f] < 0)
			continue;
		l->fblk[l->n] = f;
		l->pblk[l->n] = fmap[f];
		l->gen[l->n] = pgen[fmap[f]];
		l->n++;
	}
}

static void
live_publish(struct live *l, bool on)
{
	mutex_lock(&reg_mu);
	l->active = on;
	mutex_unlock(&reg_mu);
}

/* ---- pinners: local DMA pins ---- */

struct pinner {
	struct live		live;
	struct fs_layoutref	pin;
	uint32_t		seed;
};

static void *
pinner_main(void *arg)
{
	struct pinner *pn = arg;
	struct live *l = &pn->live;
	uint32_t seed = pn->seed;

	while (!atomic_load(&stop)) {
		int a = (int)(rnd(&seed) % NFBLK);
		int k = 1 + (int)(rnd(&seed) % MAXREF);
		unsigned held = FS_MAPLOCK_SHARED;
		uint64_t deadline = rnd(&seed) % 2 ? 0 :
			clock_now_ns() + 5 * NSEC_PER_MSEC;
		int rc;

		fs_ilock(ip, held);
		rc = fs_pin_range(ip, &held, &pn->pin, (uint64_t)a * BLK,
				  (uint64_t)k * BLK, NULL, l, deadline);
		if (rc != 0) {
			CHECK_EQ(rc, -EAGAIN);
			fs_iunlock(ip, held);
			atomic_fetch_add(&n_pin_timeouts, 1);
			continue;
		}
		/* Pinned first, then look the blocks up: they can not move. */
		fs_ilock(ip, FS_ILOCK_SHARED);
		live_snapshot(l, a, k);
		fs_iunlock(ip, FS_ILOCK_SHARED | held);
		live_publish(l, true);
		for (int i = 0; i < 1 + (int)(rnd(&seed) % 20); i++)
			sched_yield();	/* "DMA in flight" */
		fs_ilock(ip, FS_ILOCK_SHARED);
		if (!live_intact(l))
			atomic_fetch_add(&violations, 1);
		fs_iunlock(ip, FS_ILOCK_SHARED);
		live_publish(l, false);
		fs_unpin(ip, &pn->pin);
		atomic_fetch_add(&n_pins, 1);
	}
	return NULL;
}

/* ---- clients: layout grants, answering recalls in three ways ---- */

enum client_kind {
	CLIENT_PROMPT,	/* LAYOUTRETURN from its own thread when recalled */
	CLIENT_INLINE,	/* returns from inside break_ref */
	CLIENT_SILENT,	/* never answers: gets expired */
};

struct client {
	struct fs_layoutref	ref;
	struct live		live;
	enum client_kind	kind;
	atomic_bool		recalled;
	atomic_bool		revoked;
	atomic_bool		returned_inline;
	uint32_t		seed;
};

static void
client_break(struct fs_layoutref *ref)
{
	struct client *c = ref->owner;

	atomic_fetch_add(&n_recalls, 1);
	if (c->kind == CLIENT_INLINE) {
		/*
		 * Return it from inside the op; touch nothing of ours after
		 * the remove: the client thread may reuse ref at once.
		 */
		live_publish(&c->live, false);
		atomic_store(&c->returned_inline, true);
		fs_layoutref_remove(ip, ref);
		return;
	}
	atomic_store(&c->recalled, true);
}

/* Revoke and "fence": after this the client can not reach the blocks. */
static void
client_expire(struct fs_layoutref *ref)
{
	struct client *c = ref->owner;

	live_publish(&c->live, false);
	atomic_fetch_add(&n_expired, 1);
	atomic_store(&c->revoked, true);
}

static const struct fs_layoutref_ops client_ops = {
	.break_ref = client_break,
	.expire_ref = client_expire,
};

static void *
client_main(void *arg)
{
	struct client *c = arg;

	while (!atomic_load(&stop)) {
		int a = (int)(rnd(&c->seed) % NFBLK);
		int k = 1 + (int)(rnd(&c->seed) % MAXREF);
		enum fs_layoutref_kind kind = rnd(&c->seed) % 2 ?
			FS_REF_LAYOUT_RW : FS_REF_LAYOUT_READ;
		int rc;

		atomic_store(&c->recalled, false);
		atomic_store(&c->revoked, false);
		atomic_store(&c->returned_inline, false);
		fs_ilock(ip, FS_MAPLOCK_SHARED);
		rc = fs_layoutref_add(ip, &c->ref, kind, (uint64_t)a * BLK,
				      (uint64_t)k * BLK, &client_ops, c);
		if (rc != 0) {
			CHECK_EQ(rc, -EAGAIN);
			fs_iunlock(ip, FS_MAPLOCK_SHARED);
			atomic_fetch_add(&n_conflicts, 1);
			sched_yield();
			continue;
		}
		fs_ilock(ip, FS_ILOCK_SHARED);
		live_snapshot(&c->live, a, k);
		/* Published before MAPLOCK goes: the ref is in the set now. */
		live_publish(&c->live, true);
		fs_iunlock(ip, FS_ILOCK_SHARED | FS_MAPLOCK_SHARED);
		atomic_fetch_add(&n_grants, 1);

		/* Direct I/O by the client until recalled or done. */
		for (int i = 0; i < 50 && !atomic_load(&stop); i++) {
			if (atomic_load(&c->revoked) ||
			    atomic_load(&c->returned_inline))
				break;
			if (atomic_load(&c->recalled) &&
			    c->kind == CLIENT_PROMPT)
				break;
			sched_yield();
		}
		if (c->kind == CLIENT_SILENT) {
			/* Ignore the recall until revoked (or the run ends). */
			while (atomic_load(&c->recalled) &&
			       !atomic_load(&c->revoked) &&
			       !atomic_load(&stop))
				test_pause();
		}
		/*
		 * LAYOUTRETURN: a no-op after revocation or an inline return,
		 * but it also waits for an op still running on the ref, so
		 * the ref is ours again when it returns.
		 */
		live_publish(&c->live, false);
		fs_layoutref_remove(ip, &c->ref);
	}
	return NULL;
}

/* ---- map changers ---- */

static uint64_t
range_end(uint64_t off, uint64_t len)
{
	return len > UINT64_MAX - off ? UINT64_MAX : off + len;
}

/* After a successful break, nothing conflicting may be left on the range. */
static void
check_range_clear(uint64_t off, uint64_t end, enum fs_break_reason reason)
{
	mutex_lock(&ip->refs.mu);
	for (struct fs_layoutref *r = ip->refs.head; r; r = r->next) {
		uint64_t rend = range_end(r->off, r->len);

		if (r->off >= end || rend <= off)
			continue;
		if (reason == FS_BREAK_UNMAP || r->kind == FS_REF_LAYOUT_RW)
			atomic_fetch_add(&violations, 1);
	}
	mutex_unlock(&ip->refs.mu);
}

/* Free file blocks [a, b) into the pool.  ILOCK exclusive held. */
static void
map_free(int a, int b)
{
	for (int f = a; f < b; f++) {
		int32_t p = fmap[f];

		if (p < 0)
			continue;
		powner[p] = -1;
		pgen[p]++;
		fmap[f] = -1;
	}
}

/* Fill up to n holes with free blocks, preferring recently freed ones. */
static void
map_fill(uint32_t *seed, int n)
{
	for (int i = 0; i < n; i++) {
		int f = (int)(rnd(seed) % NFBLK);
		int start = (int)(rnd(seed) % NPBLK);

		if (fmap[f] >= 0)
			continue;
		for (int j = 0; j < NPBLK; j++) {
			int p = (start + j) % NPBLK;

			if (powner[p] == -1) {
				powner[p] = f;
				fmap[f] = p;
				break;
			}
		}
	}
}

static void *
changer_main(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg * 40503u + 7;

	while (!atomic_load(&stop)) {
		unsigned held = FS_BREAK_LOCKS;
		int op = (int)(rnd(&seed) % 3);
		int a = (int)(rnd(&seed) % NFBLK);
		int k = 1 + (int)(rnd(&seed) % MAXREF);
		int b = op == 0 ? NFBLK : MIN(NFBLK, a + k);
		enum fs_break_reason reason = op == 2 ? FS_BREAK_WRITE :
			FS_BREAK_UNMAP;
		uint64_t off = (uint64_t)a * BLK;
		uint64_t len = op == 0 ? FS_RANGE_EOF : (uint64_t)(b - a) * BLK;
		/* NFS-style short bound half the time, local (0) otherwise. */
		uint64_t deadline = rnd(&seed) % 2 ? 0 :
			clock_now_ns() + 10 * NSEC_PER_MSEC;
		int rc;

		fs_ilock(ip, held);
		rc = fs_break_layouts(ip, &held, off, len, reason, deadline);
		if (rc != 0) {
			/* NFS4ERR_DELAY: nothing changes, the op is retried. */
			CHECK_EQ(rc, -EAGAIN);
			CHECK_EQ(held, FS_BREAK_LOCKS);
			fs_iunlock(ip, held);
			atomic_fetch_add(&n_break_timeouts, 1);
			continue;
		}
		check_range_clear(off, range_end(off, len), reason);
		fs_ilock(ip, FS_ILOCK_EXCL);
		if (reason == FS_BREAK_UNMAP) {
			map_free(a, b);
			map_fill(&seed, 4);
		}
		fs_iunlock(ip, FS_ILOCK_EXCL);
		fs_iunlock(ip, held);
		atomic_fetch_add(op == 0 ? &n_truncates :
				 op == 1 ? &n_punches : &n_writes, 1);
	}
	return NULL;
}

/* ---- checker and watchdog report ---- */

static struct live *all_lives[NPINNERS + NCLIENTS];
static int nlives;

static void *
checker_main(void *arg)
{
	while (!atomic_load(&stop)) {
		fs_ilock(ip, FS_ILOCK_SHARED);
		mutex_lock(&reg_mu);
		for (int i = 0; i < nlives; i++)
			if (all_lives[i]->active && !live_intact(all_lives[i]))
				atomic_fetch_add(&violations, 1);
		mutex_unlock(&reg_mu);
		fs_iunlock(ip, FS_ILOCK_SHARED);
		atomic_fetch_add(&n_checks, 1);
		sched_yield();
	}
	return NULL;
}

/* What the watchdog prints before it aborts a deadlocked run. */
static void
watchdog_report(void)
{
	fprintf(stderr, "  pins %ld grants %ld truncates %ld\n",
		atomic_load(&n_pins), atomic_load(&n_grants),
		atomic_load(&n_truncates));
}

static void
test_stress(void)
{
	pthread_t pins[NPINNERS], clients[NCLIENTS], changers[NCHANGERS];
	pthread_t checker;
	struct test_watchdog wd;
	struct test_recall_timer timer;
	struct client *cl = calloc(NCLIENTS, sizeof(*cl));
	const char *env = getenv("REFSET_STRESS_SECS");
	uint64_t secs = env ? strtoull(env, NULL, 10) : 2;
	struct pinner *pn = calloc(NPINNERS, sizeof(*pn));

	REQUIRE(cl != NULL && pn != NULL);
	if (secs == 0)
		secs = 2;
	ip = test_inode_new(1000);
	mutex_init(&reg_mu, "registry");
	fs_refset_set_recall_timeout(STRESS_RECALL_NS);
	for (int p = 0; p < NPBLK; p++)
		powner[p] = -1;
	for (int f = 0; f < NFBLK; f++) {
		fmap[f] = f;
		powner[f] = f;
	}

	test_watchdog_start(&wd, secs * NSEC_PER_SEC + WATCHDOG_NS,
			    watchdog_report);
	for (int i = 0; i < NCLIENTS; i++) {
		cl[i].kind = i == 0 ? CLIENT_SILENT :
			i == 1 ? CLIENT_INLINE : CLIENT_PROMPT;
		cl[i].seed = 977u * (uint32_t)(i + 1);
		all_lives[nlives++] = &cl[i].live;
		REQUIRE(pthread_create(&clients[i], NULL, client_main,
				       &cl[i]) == 0);
	}
	for (int i = 0; i < NPINNERS; i++) {
		pn[i].seed = 2654435761u * (uint32_t)(i + 1);
		all_lives[nlives++] = &pn[i].live;
		REQUIRE(pthread_create(&pins[i], NULL, pinner_main,
				       &pn[i]) == 0);
	}
	for (int i = 0; i < NCHANGERS; i++)
		REQUIRE(pthread_create(&changers[i], NULL, changer_main,
				       (void *)(uintptr_t)(i + 1)) == 0);
	REQUIRE(pthread_create(&checker, NULL, checker_main, NULL) == 0);
	test_recall_timer_start(&timer, ip);

	{
		struct timespec ts = { (time_t)secs, 0 };

		/* The planned run time, not a wait for a result. */
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NCHANGERS; i++)
		pthread_join(changers[i], NULL);
	for (int i = 0; i < NPINNERS; i++)
		pthread_join(pins[i], NULL);
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(clients[i], NULL);
	pthread_join(checker, NULL);
	test_recall_timer_stop(&timer);
	test_watchdog_stop(&wd);

	fprintf(stderr, "  %llus: pins %ld (timeouts %ld) grants %ld "
		"(refused %ld) recalls %ld expired %ld truncates %ld punches %ld "
		"writes %ld break timeouts %ld checks %ld violations %ld\n",
		(unsigned long long)secs, atomic_load(&n_pins),
		atomic_load(&n_pin_timeouts), atomic_load(&n_grants),
		atomic_load(&n_conflicts), atomic_load(&n_recalls),
		atomic_load(&n_expired), atomic_load(&n_truncates),
		atomic_load(&n_punches), atomic_load(&n_writes),
		atomic_load(&n_break_timeouts), atomic_load(&n_checks),
		atomic_load(&violations));
	CHECK_EQ(atomic_load(&violations), 0);
	/* Every party made progress: nobody was starved for the whole run. */
	CHECK(atomic_load(&n_pins) > 0);
	CHECK(atomic_load(&n_grants) > 0);
	CHECK(atomic_load(&n_truncates) > 0);
	CHECK(atomic_load(&n_punches) > 0);
	CHECK(atomic_load(&n_writes) > 0);
	CHECK(atomic_load(&n_recalls) > 0);
	CHECK(atomic_load(&n_checks) > 0);
	CHECK_EQ(fs_refset_count(ip), 0);
	fs_refset_set_recall_timeout(FS_RECALL_TIMEOUT_DEFAULT_NS);
	test_inode_free(ip);	/* VERIFYs the set is empty */
	mutex_destroy(&reg_mu);
	free(cl);
	free(pn);
}

int
main(void)
{
	log_set_level(LOG_LVL_WARN);
	TEST_RUN(test_stress);
	TEST_EXIT();
}
