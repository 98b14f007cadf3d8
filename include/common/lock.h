/*
 * lock.h - mutexes, reader/writer locks and condition variables whose
 * holders are tracked in debug builds.
 *
 * Locking: in debug builds (PMEMNFS_DEBUG) every thread keeps a small list
 * of the locks it holds, so a function can assert its lock contract
 * (mutex_assert_held(), rwlock_assert_held(l, LOCK_EXCL), ...) instead of
 * only stating it in a comment.  In release builds the asserts compile to
 * nothing and the wrappers are plain pthread calls.
 * Ownership: the caller owns the lock object's memory.
 */
#ifndef PMEMNFS_COMMON_LOCK_H
#define PMEMNFS_COMMON_LOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "common/compiler.h"

enum lock_mode {
	LOCK_NONE = 0,
	LOCK_SHARED = 1,
	LOCK_EXCL = 2,
};

struct mutex {
	pthread_mutex_t	m;
	const char	*name;
};

struct rwlock {
	pthread_rwlock_t rw;
	const char	*name;
};

struct condvar {
	pthread_cond_t	c;	/* CLOCK_MONOTONIC */
};

void mutex_init(struct mutex *m, const char *name);
void mutex_destroy(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);

void rwlock_init(struct rwlock *l, const char *name);
void rwlock_destroy(struct rwlock *l);
/* mode is LOCK_SHARED or LOCK_EXCL. */
void rwlock_lock(struct rwlock *l, enum lock_mode mode);
bool rwlock_trylock(struct rwlock *l, enum lock_mode mode);
void rwlock_unlock(struct rwlock *l);

void condvar_init(struct condvar *c);
void condvar_destroy(struct condvar *c);
void condvar_wait(struct condvar *c, struct mutex *m);
/*
 * Wait until signalled or until the CLOCK_MONOTONIC deadline (ns).
 * Returns 0 when woken, -ETIMEDOUT when the deadline passed.
 */
int condvar_wait_until(struct condvar *c, struct mutex *m, uint64_t deadline_ns);
void condvar_signal(struct condvar *c);
void condvar_broadcast(struct condvar *c);

/* CLOCK_MONOTONIC now, in nanoseconds. */
uint64_t clock_now_ns(void);

#define NSEC_PER_SEC	1000000000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_USEC	1000ULL

#ifdef PMEMNFS_DEBUG
/* Mode in which the calling thread holds l (LOCK_NONE if not held). */
enum lock_mode lock_held_mode(const void *lock);
/* Number of locks the calling thread holds (0 before blocking waits). */
int lock_held_count(void);

#define mutex_assert_held(m) \
	VERIFY(lock_held_mode(m) == LOCK_EXCL)
#define mutex_assert_not_held(m) \
	VERIFY(lock_held_mode(m) == LOCK_NONE)
/* LOCK_SHARED: held in either mode; LOCK_EXCL: held exclusively. */
#define rwlock_assert_held(l, mode) \
	VERIFY(lock_held_mode(l) >= (mode) && lock_held_mode(l) != LOCK_NONE)
#define rwlock_assert_not_held(l) \
	VERIFY(lock_held_mode(l) == LOCK_NONE)
#define lock_assert_none_held() VERIFY(lock_held_count() == 0)
#else
#define mutex_assert_held(m)		((void)(m))
#define mutex_assert_not_held(m)	((void)(m))
#define rwlock_assert_held(l, mode)	((void)(l), (void)(mode))
#define rwlock_assert_not_held(l)	((void)(l))
#define lock_assert_none_held()		((void)0)
#endif

#endif
