/*
 * test_refset_util.h - helpers shared by the inode-lock and reference-set
 * tests: make a bare inode, wait for a condition with a deadline, run a
 * function in a child process and report how it ended, and the two
 * helper threads of the stress tests: a watchdog that fails a deadlocked
 * test and the NFS layer's recall timer.
 *
 * Locking: each helper thread has its own state; test_watchdog's mutex is
 * a leaf taken by nothing else.
 * Ownership: the caller owns struct test_watchdog and struct
 * test_recall_timer (on its stack or static) from _start to _stop.
 */
#ifndef PMEMNFS_TEST_REFSET_UTIL_H
#define PMEMNFS_TEST_REFSET_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "fs/inode.h"

/* How long any single wait in a test may take before the test fails. */
#define TEST_WAIT_NS	(10ULL * NSEC_PER_SEC)

static inline struct fs_inode *
test_inode_new(uint64_t ino)
{
	struct fs_inode *ip = calloc(1, sizeof(*ip));

	if (ip == NULL)
		abort();
	ip->ino = ino;
	fs_ilock_init(ip);
	return ip;
}

static inline void
test_inode_free(struct fs_inode *ip)
{
	fs_ilock_destroy(ip);
	free(ip);
}

/* Pause briefly without holding anything: polling granularity. */
static inline void
test_pause(void)
{
	struct timespec ts = { 0, 200 * 1000 };	/* 200 us */

	nanosleep(&ts, NULL);
}

/*
 * Poll cond(arg) until it holds or TEST_WAIT_NS passes.  This waits for
 * an observable state, it does not guess how long something takes.
 */
static inline bool
test_wait_for(bool (*cond)(void *), void *arg)
{
	uint64_t deadline = clock_now_ns() + TEST_WAIT_NS;

	while (!cond(arg)) {
		if (clock_now_ns() > deadline)
			return false;
		test_pause();
	}
	return true;
}

/*
 * Run fn(arg) in a child process.  Returns the signal that killed the
 * child, or 0 if it exited (exit status in *status).
 */
static inline int
test_in_child(void (*fn)(void *), void *arg, int *status)
{
	pid_t pid = fork();
	int ws;

	if (pid < 0)
		abort();
	if (pid == 0) {
		/* The child's abort is expected: keep its core out. */
		struct rlimit nocore = { 0, 0 };

		(void)setrlimit(RLIMIT_CORE, &nocore);
		fn(arg);
		_exit(0);
	}
	if (waitpid(pid, &ws, 0) != pid)
		abort();
	*status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	return WIFSIGNALED(ws) ? WTERMSIG(ws) : 0;
}

/*
 * A watchdog thread: if test_watchdog_stop() has not been called by the
 * deadline, it prints why, calls report() (the test's counters, to show
 * who stopped making progress) and aborts.  A deadlocked stress test then
 * fails with a message instead of hanging until CI kills it.
 */
struct test_watchdog {
	struct mutex	mu;
	struct condvar	cv;
	bool		done;		/* mu */
	uint64_t	deadline;	/* clock_now_ns() time */
	void		(*report)(void);
	pthread_t	thread;
};

static inline void *
test_watchdog_main(void *arg)
{
	struct test_watchdog *wd = arg;
	int rc = 0;

	mutex_lock(&wd->mu);
	while (!wd->done && rc == 0)
		rc = condvar_wait_until(&wd->cv, &wd->mu, wd->deadline);
	if (!wd->done) {
		fprintf(stderr, "FATAL watchdog: no end by the deadline, "
			"deadlock?\n");
		if (wd->report)
			wd->report();
		abort();
	}
	mutex_unlock(&wd->mu);
	return NULL;
}

/* Arm wd to fire timeout_ns from now; report may be NULL. */
static inline void
test_watchdog_start(struct test_watchdog *wd, uint64_t timeout_ns,
		    void (*report)(void))
{
	mutex_init(&wd->mu, "watchdog");
	condvar_init(&wd->cv);
	wd->done = false;
	wd->report = report;
	wd->deadline = clock_now_ns() + timeout_ns;
	if (pthread_create(&wd->thread, NULL, test_watchdog_main, wd) != 0)
		abort();
}

/* Disarm wd and join its thread.  Locks: takes wd->mu. */
static inline void
test_watchdog_stop(struct test_watchdog *wd)
{
	mutex_lock(&wd->mu);
	wd->done = true;
	condvar_broadcast(&wd->cv);
	mutex_unlock(&wd->mu);
	pthread_join(wd->thread, NULL);
	condvar_destroy(&wd->cv);
	mutex_destroy(&wd->mu);
}

/*
 * The NFS layer's recall timer as the stress tests play it: expires the
 * overdue references of ip (fs_refset_expire_overdue()) until stopped,
 * so silent clients lose their layouts without a breaker waiting.  It
 * polls (test_pause()) instead of sleeping to the next deadline so that a
 * deadline set meanwhile is never missed.  No inode lock held.
 */
struct test_recall_timer {
	struct fs_inode	*ip;
	atomic_bool	stop;
	pthread_t	thread;
};

static inline void *
test_recall_timer_main(void *arg)
{
	struct test_recall_timer *t = arg;

	while (!atomic_load(&t->stop)) {
		uint64_t next = fs_refset_next_deadline(t->ip);
		uint64_t now = clock_now_ns();

		if (next != 0 && next <= now)
			(void)fs_refset_expire_overdue(t->ip, now);
		test_pause();
	}
	return NULL;
}

static inline void
test_recall_timer_start(struct test_recall_timer *t, struct fs_inode *ip)
{
	t->ip = ip;
	atomic_store(&t->stop, false);
	if (pthread_create(&t->thread, NULL, test_recall_timer_main, t) != 0)
		abort();
}

static inline void
test_recall_timer_stop(struct test_recall_timer *t)
{
	atomic_store(&t->stop, true);
	pthread_join(t->thread, NULL);
}

#endif
