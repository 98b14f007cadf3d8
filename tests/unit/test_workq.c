/*
 * test_workq.c - the worker pool: every item runs once, the block budget
 * is enforced, and a full budget of blocked workers does not stop other
 * items from running.
 */
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>

#include "common.h"
#include "common/workq.h"
#include "../testlib.h"

#define TEST_DEADLINE_NS	(5 * NSEC_PER_SEC)

static atomic_int runs;

struct count_item {
	struct workq_item it;
};

static void
count_fn(struct workq_item *it)
{
	atomic_fetch_add(&runs, 1);
}

static void
test_create_limits(void)
{
	struct workq *wq = NULL;

	CHECK_EQ(workq_create("t", 1, 0, &wq), -EINVAL);
	CHECK_EQ(workq_create("t", 4, 4, &wq), -EINVAL);
}

static void
test_all_run(void)
{
	enum { N = 10000 };
	static struct count_item items[N];
	struct workq *wq;

	REQUIRE(workq_create("t", 4, 1, &wq) == 0);
	atomic_store(&runs, 0);
	for (int i = 0; i < N; i++) {
		items[i].it.fn = count_fn;
		workq_queue(wq, &items[i].it);
	}
	workq_drain(wq);
	CHECK_EQ(atomic_load(&runs), N);
	workq_destroy(wq);
}

/* Blockers wait on this until released by the test. */
static struct mutex gate_lock;
static struct condvar gate_cv;
static bool gate_open;
static int nblocked_now, denied;

static void
blocker_fn(struct workq_item *it)
{
	if (!workq_may_block()) {
		mutex_lock(&gate_lock);
		denied++;
		condvar_broadcast(&gate_cv);
		mutex_unlock(&gate_lock);
		return;
	}
	mutex_lock(&gate_lock);
	nblocked_now++;
	condvar_broadcast(&gate_cv);
	while (!gate_open)
		condvar_wait(&gate_cv, &gate_lock);
	mutex_unlock(&gate_lock);
	workq_unblock();
}

static void
test_block_budget(void)
{
	struct count_item b[3], c[50];
	struct workq *wq;
	uint64_t deadline = clock_now_ns() + TEST_DEADLINE_NS;
	int err = 0;

	mutex_init(&gate_lock, "gate");
	condvar_init(&gate_cv);
	REQUIRE(workq_create("t", 3, 2, &wq) == 0);
	for (int i = 0; i < 3; i++) {
		b[i].it.fn = blocker_fn;
		workq_queue(wq, &b[i].it);
	}
	/* Two block, the third is told no. */
	mutex_lock(&gate_lock);
	while ((nblocked_now < 2 || denied < 1) && !err)
		err = condvar_wait_until(&gate_cv, &gate_lock, deadline);
	CHECK_EQ(nblocked_now, 2);
	CHECK_EQ(denied, 1);
	mutex_unlock(&gate_lock);
	/* The free worker still runs other items while two are blocked. */
	atomic_store(&runs, 0);
	for (int i = 0; i < 50; i++) {
		c[i].it.fn = count_fn;
		workq_queue(wq, &c[i].it);
	}
	while (atomic_load(&runs) < 50 && clock_now_ns() < deadline)
		sched_yield();
	CHECK_EQ(atomic_load(&runs), 50);
	/* Non-worker threads may always block. */
	CHECK(workq_may_block());
	workq_unblock();
	mutex_lock(&gate_lock);
	gate_open = true;
	condvar_broadcast(&gate_cv);
	mutex_unlock(&gate_lock);
	workq_destroy(wq);
	condvar_destroy(&gate_cv);
	mutex_destroy(&gate_lock);
}

/* Items that record the order they ran in. */
static struct mutex order_lock;
static int order[8], norder;
struct order_item {
	struct workq_item	it;
	int			id;
};

static void
order_fn(struct workq_item *it)
{
	struct order_item *o = container_of(it, struct order_item, it);

	mutex_lock(&order_lock);
	order[norder++] = o->id;
	mutex_unlock(&order_lock);
}

/* Two gates, one per worker, so the test controls which worker is free. */
static struct mutex g2_lock;
static struct condvar g2_cv;
static int g2_open;		/* bit i: gate i open */
static int g2_waiting;

static void
gate_fn(struct workq_item *it)
{
	struct order_item *o = container_of(it, struct order_item, it);

	mutex_lock(&g2_lock);
	g2_waiting++;
	condvar_broadcast(&g2_cv);
	while (!(g2_open & (1 << o->id)))
		condvar_wait(&g2_cv, &g2_lock);
	mutex_unlock(&g2_lock);
}

/*
 * With one worker free, urgent items run before normal ones queued
 * earlier, each kind in FIFO order.
 */
static void
test_urgent_first(void)
{
	struct order_item gates[2], items[4];
	struct workq *wq;
	uint64_t deadline = clock_now_ns() + TEST_DEADLINE_NS;
	int err = 0;

	mutex_init(&order_lock, "order");
	mutex_init(&g2_lock, "g2");
	condvar_init(&g2_cv);
	REQUIRE(workq_create("t", 2, 1, &wq) == 0);
	for (int i = 0; i < 2; i++) {
		gates[i] = (struct order_item){ .it.fn = gate_fn, .id = i };
		workq_queue(wq, &gates[i].it);
	}
	mutex_lock(&g2_lock);
	while (g2_waiting < 2 && !err)
		err = condvar_wait_until(&g2_cv, &g2_lock, deadline);
	mutex_unlock(&g2_lock);
	REQUIRE(g2_waiting == 2);
	for (int i = 0; i < 4; i++) {
		items[i] = (struct order_item){ .it.fn = order_fn, .id = i };
		if (i < 2)
			workq_queue(wq, &items[i].it);		/* 0, 1 */
		else
			workq_queue_urgent(wq, &items[i].it);	/* 2, 3 */
	}
	mutex_lock(&g2_lock);
	g2_open = 1;		/* free one worker only */
	condvar_broadcast(&g2_cv);
	mutex_unlock(&g2_lock);
	for (int n = 0; n < 4 && clock_now_ns() < deadline; sched_yield()) {
		mutex_lock(&order_lock);
		n = norder;
		mutex_unlock(&order_lock);
	}
	CHECK_EQ(norder, 4);
	CHECK_EQ(order[0], 2);
	CHECK_EQ(order[1], 3);
	CHECK_EQ(order[2], 0);
	CHECK_EQ(order[3], 1);
	mutex_lock(&g2_lock);
	g2_open = 3;
	condvar_broadcast(&g2_cv);
	mutex_unlock(&g2_lock);
	workq_destroy(wq);
	condvar_destroy(&g2_cv);
	mutex_destroy(&g2_lock);
	mutex_destroy(&order_lock);
}

/*
 * With one worker free, a flow with many items and a flow with few that
 * queued later alternate: A0 B0 A1 B1 A2 A3 ...
 */
static void
test_flows_round_robin(void)
{
	struct order_item gates[2], a[5], b[2];
	struct workq_flow fa = { NULL }, fb = { NULL };
	static const int want[7] = { 0, 10, 1, 11, 2, 3, 4 };
	struct workq *wq;
	uint64_t deadline = clock_now_ns() + TEST_DEADLINE_NS;
	int err = 0;

	mutex_init(&order_lock, "order");
	mutex_init(&g2_lock, "g2");
	condvar_init(&g2_cv);
	norder = 0;
	g2_open = 0;
	g2_waiting = 0;
	REQUIRE(workq_create("t", 2, 1, &wq) == 0);
	for (int i = 0; i < 2; i++) {
		gates[i] = (struct order_item){ .it.fn = gate_fn, .id = i };
		workq_queue(wq, &gates[i].it);
	}
	mutex_lock(&g2_lock);
	while (g2_waiting < 2 && !err)
		err = condvar_wait_until(&g2_cv, &g2_lock, deadline);
	mutex_unlock(&g2_lock);
	REQUIRE(g2_waiting == 2);
	for (int i = 0; i < 5; i++) {
		a[i] = (struct order_item){ .it.fn = order_fn, .id = i };
		workq_queue_flow(wq, &fa, &a[i].it);
	}
	for (int i = 0; i < 2; i++) {
		b[i] = (struct order_item){ .it.fn = order_fn, .id = 10 + i };
		workq_queue_flow(wq, &fb, &b[i].it);
	}
	mutex_lock(&g2_lock);
	g2_open = 1;
	condvar_broadcast(&g2_cv);
	mutex_unlock(&g2_lock);
	for (int n = 0; n < 7 && clock_now_ns() < deadline; sched_yield()) {
		mutex_lock(&order_lock);
		n = norder;
		mutex_unlock(&order_lock);
	}
	CHECK_EQ(norder, 7);
	for (int i = 0; i < 7; i++)
		CHECK_EQ(order[i], want[i]);
	CHECK(!fa.active && !fb.active);
	mutex_lock(&g2_lock);
	g2_open = 3;
	condvar_broadcast(&g2_cv);
	mutex_unlock(&g2_lock);
	workq_destroy(wq);
	condvar_destroy(&g2_cv);
	mutex_destroy(&g2_lock);
	mutex_destroy(&order_lock);
}

int
main(void)
{
	TEST_RUN(test_create_limits);
	TEST_RUN(test_all_run);
	TEST_RUN(test_block_budget);
	TEST_RUN(test_urgent_first);
	TEST_RUN(test_flows_round_robin);
	TEST_EXIT();
}
