/*
 * lock.c - pthread wrappers that record, in debug builds, which locks the
 * calling thread holds, so lock contracts can be asserted.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common.h"

#ifdef PMEMNFS_DEBUG
/*
 * Per-thread held-lock list.  Deep nesting is a design error in this code
 * base (the deepest legal chain is IOLOCK -> MAPLOCK -> ILOCK plus a couple
 * of table locks), so a fixed array is enough and overflowing it trips.
 */
#define LOCK_TRACK_MAX 32
struct held_lock {
	const void	*lock;
	enum lock_mode	mode;
};
static __thread struct held_lock held[LOCK_TRACK_MAX];
static __thread int nheld;

static void
track_acquire(const void *lock, enum lock_mode mode)
{
	VERIFY(lock_held_mode(lock) == LOCK_NONE);	/* no recursion */
	VERIFY(nheld < LOCK_TRACK_MAX);
	held[nheld].lock = lock;
	held[nheld].mode = mode;
	nheld++;
}

static void
track_release(const void *lock)
{
	for (int i = nheld - 1; i >= 0; i--) {
		if (held[i].lock == lock) {
			memmove(&held[i], &held[i + 1],
				(size_t)(nheld - i - 1) * sizeof(held[0]));
			nheld--;
			return;
		}
	}
	VERIFY(!"releasing a lock this thread does not hold");
}

enum lock_mode
lock_held_mode(const void *lock)
{
	for (int i = 0; i < nheld; i++)
		if (held[i].lock == lock)
			return held[i].mode;
	return LOCK_NONE;
}

int
lock_held_count(void)
{
	return nheld;
}
#else
#define track_acquire(l, m)	((void)0)
#define track_release(l)	((void)0)
#endif

void
mutex_init(struct mutex *m, const char *name)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
#ifdef PMEMNFS_DEBUG
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
#endif
	VERIFY(pthread_mutex_init(&m->m, &a) == 0);
	pthread_mutexattr_destroy(&a);
	m->name = name;
}

void
mutex_destroy(struct mutex *m)
{
	pthread_mutex_destroy(&m->m);
}

void
mutex_lock(struct mutex *m)
{
	VERIFY(pthread_mutex_lock(&m->m) == 0);
	track_acquire(m, LOCK_EXCL);
}

bool
mutex_trylock(struct mutex *m)
{
	if (pthread_mutex_trylock(&m->m) != 0)
		return false;
	track_acquire(m, LOCK_EXCL);
	return true;
}

void
mutex_unlock(struct mutex *m)
{
	track_release(m);
	VERIFY(pthread_mutex_unlock(&m->m) == 0);
}

void
rwlock_init(struct rwlock *l, const char *name)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	/*
	 * Writers first: a map changer waiting for MAPLOCK exclusively must
	 * not be starved by a stream of LAYOUTGETs taking it shared.
	 */
	pthread_rwlockattr_setkind_np(&a,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	VERIFY(pthread_rwlock_init(&l->rw, &a) == 0);
	pthread_rwlockattr_destroy(&a);
	l->name = name;
}

void
rwlock_destroy(struct rwlock *l)
{
	pthread_rwlock_destroy(&l->rw);
}

void
rwlock_lock(struct rwlock *l, enum lock_mode mode)
{
	ASSERT(mode == LOCK_SHARED || mode == LOCK_EXCL);
	if (mode == LOCK_EXCL)
		VERIFY(pthread_rwlock_wrlock(&l->rw) == 0);
	else
		VERIFY(pthread_rwlock_rdlock(&l->rw) == 0);
	track_acquire(l, mode);
}

bool
rwlock_trylock(struct rwlock *l, enum lock_mode mode)
{
	int rc;

	ASSERT(mode == LOCK_SHARED || mode == LOCK_EXCL);
	if (mode == LOCK_EXCL)
		rc = pthread_rwlock_trywrlock(&l->rw);
	else
		rc = pthread_rwlock_tryrdlock(&l->rw);
	if (rc != 0)
		return false;
	track_acquire(l, mode);
	return true;
}

void
rwlock_unlock(struct rwlock *l)
{
	track_release(l);
	VERIFY(pthread_rwlock_unlock(&l->rw) == 0);
}

void
condvar_init(struct condvar *c)
{
	pthread_condattr_t a;

	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	VERIFY(pthread_cond_init(&c->c, &a) == 0);
	pthread_condattr_destroy(&a);
}

void
condvar_destroy(struct condvar *c)
{
	pthread_cond_destroy(&c->c);
}

void
condvar_wait(struct condvar *c, struct mutex *m)
{
	/* The mutex stays "held" for tracking: pthread reacquires it. */
	mutex_assert_held(m);
	VERIFY(pthread_cond_wait(&c->c, &m->m) == 0);
}

int
condvar_wait_until(struct condvar *c, struct mutex *m, uint64_t deadline_ns)
{
	struct timespec ts;
	int rc;

	mutex_assert_held(m);
	ts.tv_sec = (time_t)(deadline_ns / NSEC_PER_SEC);
	ts.tv_nsec = (long)(deadline_ns % NSEC_PER_SEC);
	rc = pthread_cond_timedwait(&c->c, &m->m, &ts);
	if (rc == ETIMEDOUT)
		return -ETIMEDOUT;
	VERIFY(rc == 0);
	return 0;
}

void
condvar_signal(struct condvar *c)
{
	pthread_cond_signal(&c->c);
}

void
condvar_broadcast(struct condvar *c)
{
	pthread_cond_broadcast(&c->c);
}

uint64_t
clock_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}
