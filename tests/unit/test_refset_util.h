/*
 * test_refset_util.h - helpers shared by the inode-lock and reference-set
 * tests: make a bare inode, wait for a condition with a deadline, run a
 * function in a child process and report how it ended.
 */
#ifndef PMEMNFS_TEST_REFSET_UTIL_H
#define PMEMNFS_TEST_REFSET_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
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

#endif
