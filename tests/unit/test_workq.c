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

int
main(void)
{
	TEST_RUN(test_create_limits);
	TEST_RUN(test_all_run);
	TEST_RUN(test_block_budget);
	TEST_EXIT();
}
