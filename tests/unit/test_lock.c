/*
 * test_lock.c - the debug lock tracker reports what this thread holds.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>

#include "common.h"
#include "../testlib.h"

static void
test_tracking(void)
{
#ifdef PMEMNFS_DEBUG
	struct mutex m;
	struct rwlock l;

	mutex_init(&m, "m");
	rwlock_init(&l, "l");
	CHECK_EQ(lock_held_count(), 0);
	mutex_lock(&m);
	CHECK_EQ(lock_held_mode(&m), LOCK_EXCL);
	rwlock_lock(&l, LOCK_SHARED);
	CHECK_EQ(lock_held_mode(&l), LOCK_SHARED);
	CHECK_EQ(lock_held_count(), 2);
	rwlock_unlock(&l);
	mutex_unlock(&m);
	CHECK_EQ(lock_held_count(), 0);
	rwlock_lock(&l, LOCK_EXCL);
	CHECK_EQ(lock_held_mode(&l), LOCK_EXCL);
	rwlock_unlock(&l);
	rwlock_destroy(&l);
	mutex_destroy(&m);
#endif
}

static struct rwlock shared_l;

static void *
try_excl(void *arg)
{
	(void)arg;
	/* Another thread's shared hold must keep us out. */
	return (void *)(long)rwlock_trylock(&shared_l, LOCK_EXCL);
}

static void
test_exclusion(void)
{
	pthread_t t;
	void *got;

	rwlock_init(&shared_l, "shared");
	rwlock_lock(&shared_l, LOCK_SHARED);
	pthread_create(&t, NULL, try_excl, NULL);
	pthread_join(t, &got);
	CHECK(got == NULL);
	rwlock_unlock(&shared_l);
	rwlock_destroy(&shared_l);
}

static void
test_timedwait(void)
{
	struct mutex m;
	struct condvar c;
	uint64_t start = clock_now_ns();

	mutex_init(&m, "m");
	condvar_init(&c);
	mutex_lock(&m);
	CHECK_EQ(condvar_wait_until(&c, &m, start + 20 * NSEC_PER_MSEC),
		 -ETIMEDOUT);
	mutex_unlock(&m);
	CHECK(clock_now_ns() - start >= 20 * NSEC_PER_MSEC);
	condvar_destroy(&c);
	mutex_destroy(&m);
}

int
main(void)
{
	TEST_RUN(test_tracking);
	TEST_RUN(test_exclusion);
	TEST_RUN(test_timedwait);
	TEST_EXIT();
}
