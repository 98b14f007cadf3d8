/*
 * test_evloop.c - the event loop: fd readiness, timer order and cancel,
 * posting from another thread, stop from a signal handler.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "common.h"
#include "common/evloop.h"
#include "../testlib.h"

/* Upper bound for anything a test waits for; far above the real latency. */
#define TEST_DEADLINE_NS	(5 * NSEC_PER_SEC)

static struct evloop *loop;

struct pipe_ctx {
	int	fds[2];
	int	reads;
	char	last;
};

static void
on_readable(struct evloop *l, int fd, uint32_t events, void *ctx)
{
	struct pipe_ctx *p = ctx;
	char c;

	CHECK(events & EVLOOP_READ);
	if (read(fd, &c, 1) == 1) {
		p->reads++;
		p->last = c;
	}
	if (p->reads == 2)
		evloop_stop(l);
}

/* Stop backstop: a test that hangs fails instead. */
static bool deadline_hit;
static void
on_deadline(struct evloop *l, struct evloop_timer *t)
{
	deadline_hit = true;
	evloop_stop(l);
}

static void
test_fd_readable(void)
{
	struct pipe_ctx p = { .reads = 0 };
	struct evloop_timer backstop = { .fn = on_deadline };

	REQUIRE(pipe(p.fds) == 0);
	REQUIRE(evloop_fd_add(loop, p.fds[0], EVLOOP_READ, on_readable, &p) == 0);
	CHECK_EQ(evloop_fd_add(loop, p.fds[0], EVLOOP_READ, on_readable, &p),
		 -EEXIST);
	REQUIRE(write(p.fds[1], "ab", 2) == 2);
	deadline_hit = false;
	REQUIRE(evloop_timer_arm(loop, &backstop,
				 clock_now_ns() + TEST_DEADLINE_NS) == 0);
	CHECK_EQ(evloop_run(loop), 0);
	CHECK(!deadline_hit);
	CHECK_EQ(p.reads, 2);
	CHECK_EQ(p.last, 'b');
	evloop_timer_cancel(loop, &backstop);
	evloop_fd_del(loop, p.fds[0]);
	close(p.fds[0]);
	close(p.fds[1]);
}

/*
 * Writability is reported while asked for; after evloop_fd_mod() to READ
 * only, a readable event arrives instead.
 */
struct rw_ctx {
	int	writes, reads;
};

static void
on_rw(struct evloop *l, int fd, uint32_t events, void *ctx)
{
	struct rw_ctx *c = ctx;
	char b;

	if (events & EVLOOP_WRITE) {
		c->writes++;
		CHECK_EQ(evloop_fd_mod(l, fd, EVLOOP_READ), 0);
		REQUIRE(write(fd, "x", 1) == 1);	/* the peer echoes it */
	}
	if (events & EVLOOP_READ) {
		if (read(fd, &b, 1) == 1)
			c->reads++;
		evloop_stop(l);
	}
}

static void
on_echo(struct evloop *l, int fd, uint32_t events, void *ctx)
{
	char b;

	if (read(fd, &b, 1) == 1)
		REQUIRE(write(fd, &b, 1) == 1);
}

static void
test_fd_write_and_mod(void)
{
	struct rw_ctx c = { 0, 0 };
	struct evloop_timer backstop = { .fn = on_deadline };
	int sv[2];

	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	REQUIRE(evloop_fd_add(loop, sv[0], EVLOOP_WRITE, on_rw, &c) == 0);
	REQUIRE(evloop_fd_add(loop, sv[1], EVLOOP_READ, on_echo, NULL) == 0);
	CHECK_EQ(evloop_fd_mod(loop, 999, EVLOOP_READ), -ENOENT);
	deadline_hit = false;
	REQUIRE(evloop_timer_arm(loop, &backstop,
				 clock_now_ns() + TEST_DEADLINE_NS) == 0);
	CHECK_EQ(evloop_run(loop), 0);
	CHECK(!deadline_hit);
	CHECK_EQ(c.writes, 1);
	CHECK_EQ(c.reads, 1);
	evloop_timer_cancel(loop, &backstop);
	evloop_fd_del(loop, sv[0]);
	evloop_fd_del(loop, sv[1]);
	evloop_fd_del(loop, sv[1]);	/* harmless twice */
	close(sv[0]);
	close(sv[1]);
}

/*
 * A callback closes another watched fd and a new fd takes its number while
 * the old fd's event is still in the same epoll batch: the new fd's
 * callback must not get the stale event.
 */
static int reuse_p[2][2], reuse_newp[2] = { -1, -1 };
static int reuse_first = -1, reuse_stale;

static void
on_new_fd(struct evloop *l, int fd, uint32_t events, void *ctx)
{
	reuse_stale++;		/* nothing was ever written to it */
}

static void
on_reuse(struct evloop *l, int fd, uint32_t events, void *ctx)
{
	int me = (int)(intptr_t)ctx, other = !me;

	if (reuse_first >= 0)
		return;
	reuse_first = me;
	evloop_fd_del(l, reuse_p[other][0]);
	close(reuse_p[other][0]);
	REQUIRE(pipe(reuse_newp) == 0);
	/* Lowest free number: the one just closed. */
	CHECK_EQ(reuse_newp[0], reuse_p[other][0]);
	REQUIRE(evloop_fd_add(l, reuse_newp[0], EVLOOP_READ, on_new_fd,
			      NULL) == 0);
}

static void
test_fd_reuse_in_batch(void)
{
	struct evloop_timer stop = { .fn = on_deadline };

	for (int i = 0; i < 2; i++) {
		REQUIRE(pipe(reuse_p[i]) == 0);
		REQUIRE(write(reuse_p[i][1], "x", 1) == 1);
		REQUIRE(evloop_fd_add(loop, reuse_p[i][0], EVLOOP_READ, on_reuse,
				      (void *)(intptr_t)i) == 0);
	}
	REQUIRE(evloop_timer_arm(loop, &stop,
				 clock_now_ns() + 50 * NSEC_PER_MSEC) == 0);
	CHECK_EQ(evloop_run(loop), 0);
	CHECK(reuse_first >= 0);
	CHECK_EQ(reuse_stale, 0);
	evloop_fd_del(loop, reuse_p[reuse_first][0]);
	evloop_fd_del(loop, reuse_newp[0]);
	close(reuse_p[reuse_first][0]);
	close(reuse_p[0][1]);
	close(reuse_p[1][1]);
	close(reuse_newp[0]);
	close(reuse_newp[1]);
}

/* Timers fire in deadline order; a cancelled one never fires. */
static int fired[8], nfired;
struct tctx {
	struct evloop_timer t;
	int id;
};

static void
on_timer(struct evloop *l, struct evloop_timer *t)
{
	struct tctx *c = container_of(t, struct tctx, t);

	fired[nfired++] = c->id;
	if (c->id == 99)
		evloop_stop(l);
}

static void
test_timers(void)
{
	struct tctx t[6];
	uint64_t now = clock_now_ns();
	/* deadlines in ms, deliberately out of order */
	const int ms[6] = { 30, 10, 50, 20, 40, 60 };

	nfired = 0;
	for (int i = 0; i < 6; i++) {
		t[i] = (struct tctx){ .t = { .fn = on_timer }, .id = ms[i] };
		REQUIRE(evloop_timer_arm(loop, &t[i].t,
					 now + (uint64_t)ms[i] * NSEC_PER_MSEC) == 0);
	}
	evloop_timer_cancel(loop, &t[2].t);	/* 50 */
	evloop_timer_cancel(loop, &t[2].t);	/* harmless twice */
	t[5].id = 99;				/* 60 stops the loop */
	CHECK_EQ(evloop_run(loop), 0);
	CHECK_EQ(nfired, 5);
	CHECK_EQ(fired[0], 10);
	CHECK_EQ(fired[1], 20);
	CHECK_EQ(fired[2], 30);
	CHECK_EQ(fired[3], 40);
	CHECK_EQ(fired[4], 99);
	CHECK(clock_now_ns() - now >= 60 * NSEC_PER_MSEC);
}

/* Many timers, random deadlines, random cancels: heap order holds. */
#define HEAP_N	2000
static uint64_t heap_fired[HEAP_N];
static int heap_nfired;
static struct evloop_timer heap_t[HEAP_N];

static void
on_heap_timer(struct evloop *l, struct evloop_timer *t)
{
	heap_fired[heap_nfired++] = t->deadline_ns;
}

static void
on_stop_timer(struct evloop *l, struct evloop_timer *t)
{
	evloop_stop(l);
}

static void
test_timer_heap(void)
{
	struct evloop_timer stop = { .fn = on_stop_timer };
	uint64_t base = clock_now_ns() - NSEC_PER_SEC;	/* all already due */
	uint32_t seed = 7;
	int cancelled = 0;

	for (int i = 0; i < HEAP_N; i++) {
		seed = seed * 1103515245 + 12345;
		heap_t[i] = (struct evloop_timer){ .fn = on_heap_timer };
		REQUIRE(evloop_timer_arm(loop, &heap_t[i],
					 base + (seed >> 8) % 1000000) == 0);
	}
	for (int i = 0; i < HEAP_N; i += 3) {
		evloop_timer_cancel(loop, &heap_t[i]);
		cancelled++;
	}
	REQUIRE(evloop_timer_arm(loop, &stop, clock_now_ns() + NSEC_PER_MSEC) == 0);
	CHECK_EQ(evloop_run(loop), 0);
	CHECK_EQ(heap_nfired, HEAP_N - cancelled);
	for (int i = 1; i < heap_nfired; i++)
		CHECK(heap_fired[i - 1] <= heap_fired[i]);
}

/* Work posted from other threads runs on the loop thread, every item. */
#define POSTERS		4
#define POSTS_EACH	1000
static atomic_int posted_runs;
static atomic_bool wrong_thread;
struct post_item {
	struct evloop_work w;
};
static struct post_item items[POSTERS][POSTS_EACH];

static void
on_post(struct evloop *l, struct evloop_work *w)
{
	if (!evloop_in_loop_thread(l))
		atomic_store(&wrong_thread, true);
	if (atomic_fetch_add(&posted_runs, 1) + 1 == POSTERS * POSTS_EACH)
		evloop_stop(l);
}

static void *
poster(void *arg)
{
	struct post_item *mine = arg;

	for (int i = 0; i < POSTS_EACH; i++) {
		mine[i].w.fn = on_post;
		evloop_post(loop, &mine[i].w);
	}
	return NULL;
}

static void
test_post(void)
{
	pthread_t th[POSTERS];
	struct evloop_timer backstop = { .fn = on_deadline };

	deadline_hit = false;
	REQUIRE(evloop_timer_arm(loop, &backstop,
				 clock_now_ns() + TEST_DEADLINE_NS) == 0);
	for (int i = 0; i < POSTERS; i++)
		REQUIRE(pthread_create(&th[i], NULL, poster, items[i]) == 0);
	CHECK_EQ(evloop_run(loop), 0);
	for (int i = 0; i < POSTERS; i++)
		pthread_join(th[i], NULL);
	CHECK(!deadline_hit);
	CHECK_EQ(atomic_load(&posted_runs), POSTERS * POSTS_EACH);
	CHECK(!atomic_load(&wrong_thread));
	evloop_timer_cancel(loop, &backstop);
}

static void
on_alarm(int sig)
{
	evloop_stop(loop);
}

/* A signal handler stops a loop that has nothing else to do. */
static void
test_stop_from_signal(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	uint64_t t0 = clock_now_ns();

	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGALRM, &sa, NULL) == 0);
	alarm(1);
	CHECK_EQ(evloop_run(loop), 0);
	CHECK(clock_now_ns() - t0 < TEST_DEADLINE_NS);
	signal(SIGALRM, SIG_DFL);
}

/*
 * Busy polling (evloop_set_busy_poll()): after an event the loop keeps
 * polling instead of sleeping for the window it was given, then sleeps;
 * events and timers are still dispatched and stop still works.  Seen
 * from outside as CPU time: the loop thread burns about the window after
 * its one event, and about nothing without a window.  The bounds are
 * wide (a loaded machine gives the thread less CPU than wall time).
 */
static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	REQUIRE(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint64_t
run_one_event(uint32_t poll_us, struct pipe_ctx *p)
{
	struct evloop *l;
	struct evloop_timer stop_t = { .fn = on_deadline };
	uint64_t cpu0;

	REQUIRE(evloop_create(&l) == 0);
	evloop_set_busy_poll(l, poll_us);
	REQUIRE(pipe(p->fds) == 0);
	REQUIRE(evloop_fd_add(l, p->fds[0], EVLOOP_READ, on_readable, p) == 0);
	REQUIRE(write(p->fds[1], "z", 1) == 1);
	/* Stop 150 ms from now, well after the 50 ms window closed. */
	REQUIRE(evloop_timer_arm(l, &stop_t,
				 clock_now_ns() + 150 * NSEC_PER_MSEC) == 0);
	cpu0 = thread_cpu_ns();
	CHECK_EQ(evloop_run(l), 0);
	cpu0 = thread_cpu_ns() - cpu0;
	evloop_fd_del(l, p->fds[0]);
	close(p->fds[0]);
	close(p->fds[1]);
	evloop_destroy(l);
	return cpu0;
}

static void
test_busy_poll(void)
{
	struct pipe_ctx p = { .reads = 0 };
	uint64_t polled, slept;

	deadline_hit = false;
	polled = run_one_event(50 * 1000, &p);
	CHECK(deadline_hit);		/* the timer ran (it stops the loop) */
	CHECK_EQ(p.reads, 1);
	CHECK_EQ(p.last, 'z');
	p.reads = 0;
	deadline_hit = false;
	slept = run_one_event(0, &p);
	CHECK(deadline_hit);
	CHECK_EQ(p.reads, 1);
	CHECK(polled >= 10 * NSEC_PER_MSEC);
	CHECK(slept < 5 * NSEC_PER_MSEC);
	if (polled < 10 * NSEC_PER_MSEC || slept >= 5 * NSEC_PER_MSEC)
		fprintf(stderr, "busy poll: %llu ns CPU polling, %llu sleeping\n",
			(unsigned long long)polled, (unsigned long long)slept);
}

int
main(void)
{
	REQUIRE(evloop_create(&loop) == 0);
	TEST_RUN(test_fd_readable);
	TEST_RUN(test_fd_write_and_mod);
	TEST_RUN(test_fd_reuse_in_batch);
	TEST_RUN(test_timers);
	TEST_RUN(test_timer_heap);
	TEST_RUN(test_post);
	TEST_RUN(test_stop_from_signal);
	TEST_RUN(test_busy_poll);
	evloop_destroy(loop);
	TEST_EXIT();
}
