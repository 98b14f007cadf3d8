/*
 * evloop.c - epoll event loop with a timer heap and an eventfd for posting
 * work from other threads (and for stopping from a signal handler).
 *
 * Everything but the post queue is touched only by the loop thread, so the
 * loop takes no lock on its hot path; the post queue has its own mutex,
 * held only to link or unlink a list.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common.h"
#include "common/evloop.h"

/* Events taken from the kernel per epoll_wait(); more just wait a turn. */
#define EVLOOP_BATCH		64
/* First size of the fd table; it doubles to cover the largest fd. */
#define EVLOOP_INITIAL_FDS	64

/*
 * gen tells registrations of the same fd number apart: a callback may close
 * an fd and another may accept a new one with the same number while events
 * for the old one are still in the batch epoll_wait() returned.
 */
struct fd_slot {
	evloop_fd_fn	fn;
	void		*ctx;
	uint32_t	events;
	uint32_t	gen;
	bool		used;
};

struct evloop {
	int			epfd;
	int			efd;		/* eventfd: post and stop */
	struct fd_slot		*fds;
	int			nfds;		/* size of fds[] */
	struct evloop_timer	**heap;		/* min-heap on deadline */
	uint32_t		heap_len, heap_cap;
	struct mutex		post_lock;	/* protects post_head/tail */
	struct evloop_work	*post_head, *post_tail;
	atomic_bool		stop;
	atomic_bool		running;
	uint64_t		busy_poll_ns;	/* set before running */
	pthread_t		thread;		/* valid while running */
};

/* epoll's per-registration cookie: generation above, fd below. */
static uint64_t
ev_key(int fd, uint32_t gen)
{
	return (uint64_t)gen << 32 | (uint32_t)fd;
}

static void
loop_assert_owner(const struct evloop *loop)
{
	VERIFY(!atomic_load(&loop->running) ||
	       pthread_equal(loop->thread, pthread_self()));
}

/*
 * Create a loop.  Returns 0 and *out, -ENOMEM, or the errno of
 * epoll_create1()/eventfd().
 */
int
evloop_create(struct evloop **out)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct evloop *loop;
	int err;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		err = -errno;
		goto out_free;
	}
	loop->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->efd < 0) {
		err = -errno;
		goto out_epoll;
	}
	ev.data.u64 = ev_key(loop->efd, 0);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->efd, &ev) < 0) {
		err = -errno;
		goto out_eventfd;
	}
	mutex_init(&loop->post_lock, "evloop.post");
	atomic_init(&loop->stop, false);
	atomic_init(&loop->running, false);
	*out = loop;
	return 0;

out_eventfd:
	close(loop->efd);
out_epoll:
	close(loop->epfd);
out_free:
	free(loop);
	return err;
}

/* Free the loop.  Not running; watched fds are not closed (not ours). */
void
evloop_destroy(struct evloop *loop)
{
	if (!loop)
		return;
	VERIFY(!atomic_load(&loop->running));
	mutex_destroy(&loop->post_lock);
	close(loop->efd);
	close(loop->epfd);
	free(loop->fds);
	free(loop->heap);
	free(loop);
}

static uint32_t
to_epoll(uint32_t events)
{
	return ((events & EVLOOP_READ) ? EPOLLIN | EPOLLRDHUP : 0) |
	       ((events & EVLOOP_WRITE) ? EPOLLOUT : 0);
}

/*
 * Watch fd.  Loop thread only.  Returns 0, -EEXIST if already watched,
 * -ENOMEM, or epoll_ctl()'s errno.
 */
int
evloop_fd_add(struct evloop *loop, int fd, uint32_t events, evloop_fd_fn fn,
	      void *ctx)
{
	struct epoll_event ev = { .events = to_epoll(events) };
	uint32_t gen;

	loop_assert_owner(loop);
	VERIFY(fd >= 0);
	if (fd >= loop->nfds) {
		int n = loop->nfds ? loop->nfds : EVLOOP_INITIAL_FDS;
		struct fd_slot *nf;

		while (n <= fd)
			n *= 2;
		nf = realloc(loop->fds, (size_t)n * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		memset(nf + loop->nfds, 0,
		       (size_t)(n - loop->nfds) * sizeof(*nf));
		loop->fds = nf;
		loop->nfds = n;
	}
	if (loop->fds[fd].used)
		return -EEXIST;
	/* Never 0: that is the eventfd's generation. */
	gen = loop->fds[fd].gen + 1 ? loop->fds[fd].gen + 1 : 1;
	ev.data.u64 = ev_key(fd, gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	loop->fds[fd] = (struct fd_slot){ fn, ctx, events, gen, true };
	return 0;
}

/* Change fd's interest set.  Loop thread only.  0, -ENOENT, or errno. */
int
evloop_fd_mod(struct evloop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = to_epoll(events) };

	loop_assert_owner(loop);
	if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].used)
		return -ENOENT;
	if (loop->fds[fd].events == events)
		return 0;
	ev.data.u64 = ev_key(fd, loop->fds[fd].gen);
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	loop->fds[fd].events = events;
	return 0;
}

/* Stop watching fd.  Loop thread only.  Harmless if fd is not watched. */
void
evloop_fd_del(struct evloop *loop, int fd)
{
	loop_assert_owner(loop);
	if (fd < 0 || fd >= loop->nfds || !loop->fds[fd].used)
		return;
	/* Cannot fail for a watched fd that is still open. */
	(void)epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	loop->fds[fd].used = false;	/* keeps gen for the next add */
	loop->fds[fd].fn = NULL;
	loop->fds[fd].ctx = NULL;
}

/* --- timers: a binary min-heap of armed timers ------------------------ */

static void
heap_set(struct evloop *loop, uint32_t i, struct evloop_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void
heap_up(struct evloop *loop, uint32_t i)
{
	struct evloop_timer *t = loop->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (loop->heap[parent]->deadline_ns <= t->deadline_ns)
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void
heap_down(struct evloop *loop, uint32_t i)
{
	struct evloop_timer *t = loop->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= loop->heap_len)
			break;
		if (c + 1 < loop->heap_len &&
		    loop->heap[c + 1]->deadline_ns < loop->heap[c]->deadline_ns)
			c++;
		if (t->deadline_ns <= loop->heap[c]->deadline_ns)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

/*
 * Arm t to fire once at deadline_ns (CLOCK_MONOTONIC; a past deadline fires
 * on the next turn).  Loop thread only; t->fn must be set and t not armed.
 * Returns 0 or -ENOMEM.
 */
int
evloop_timer_arm(struct evloop *loop, struct evloop_timer *t,
		 uint64_t deadline_ns)
{
	loop_assert_owner(loop);
	VERIFY(!t->armed && t->fn);
	if (loop->heap_len == loop->heap_cap) {
		uint32_t ncap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		struct evloop_timer **nh;

		nh = realloc(loop->heap, ncap * sizeof(*nh));
		if (!nh)
			return -ENOMEM;
		loop->heap = nh;
		loop->heap_cap = ncap;
	}
	t->deadline_ns = deadline_ns;
	t->armed = true;
	heap_set(loop, loop->heap_len++, t);
	heap_up(loop, t->heap_idx);
	return 0;
}

/* Disarm t.  Loop thread only.  Harmless if t is not armed. */
void
evloop_timer_cancel(struct evloop *loop, struct evloop_timer *t)
{
	struct evloop_timer *moved;
	uint32_t i = t->heap_idx;

	loop_assert_owner(loop);
	if (!t->armed)
		return;
	VERIFY(i < loop->heap_len && loop->heap[i] == t);
	t->armed = false;
	loop->heap_len--;
	if (i == loop->heap_len)
		return;
	moved = loop->heap[loop->heap_len];
	heap_set(loop, i, moved);
	/* The last timer took t's place: it may belong above or below it. */
	heap_down(loop, i);
	heap_up(loop, moved->heap_idx);
}

static void
run_timers(struct evloop *loop)
{
	uint64_t now = clock_now_ns();

	while (loop->heap_len && loop->heap[0]->deadline_ns <= now &&
	       !atomic_load(&loop->stop)) {
		struct evloop_timer *t = loop->heap[0];

		evloop_timer_cancel(loop, t);
		t->fn(loop, t);
	}
}

/* epoll timeout in ms for the nearest timer, rounded up; -1 for none. */
static int
next_timeout_ms(struct evloop *loop)
{
	uint64_t now, d;

	if (!loop->heap_len)
		return -1;
	now = clock_now_ns();
	d = loop->heap[0]->deadline_ns;
	if (d <= now)
		return 0;
	d = (d - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return d > 60000 ? 60000 : (int)d;
}

/* --- posting from other threads ---------------------------------------- */

static void
kick(struct evloop *loop)
{
	uint64_t one = 1;
	ssize_t r;

	/* EAGAIN means the counter is already non-zero: a wakeup is pending. */
	r = write(loop->efd, &one, sizeof(one));
	(void)r;
}

/*
 * Queue w to run on the loop thread.  Any thread.  Takes post_lock briefly;
 * the caller may hold its own locks (post_lock is a leaf).
 */
void
evloop_post(struct evloop *loop, struct evloop_work *w)
{
	bool was_empty;

	mutex_lock(&loop->post_lock);
	w->next = NULL;
	was_empty = loop->post_head == NULL;
	if (loop->post_tail)
		loop->post_tail->next = w;
	else
		loop->post_head = w;
	loop->post_tail = w;
	mutex_unlock(&loop->post_lock);
	/* A non-empty queue already has a wakeup on its way. */
	if (was_empty)
		kick(loop);
}

/* Run what was posted so far.  Loop thread (or loop not running). */
void
evloop_run_posted(struct evloop *loop)
{
	struct evloop_work *w, *next;

	loop_assert_owner(loop);
	mutex_lock(&loop->post_lock);
	w = loop->post_head;
	loop->post_head = loop->post_tail = NULL;
	mutex_unlock(&loop->post_lock);
	for (; w; w = next) {
		next = w->next;	/* w may be freed or re-posted by its fn */
		w->fn(loop, w);
	}
}

/* Async-signal-safe: an atomic store and a write(2). */
void
evloop_stop(struct evloop *loop)
{
	int saved = errno;

	atomic_store(&loop->stop, true);
	kick(loop);
	errno = saved;
}

/* Any thread, lock-free: is the caller the thread running this loop? */
bool
evloop_in_loop_thread(const struct evloop *loop)
{
	return atomic_load(&loop->running) &&
	       pthread_equal(loop->thread, pthread_self());
}

/* See evloop.h.  Before evloop_run() only (asserted). */
void
evloop_set_busy_poll(struct evloop *loop, uint32_t usec)
{
	VERIFY(!atomic_load(&loop->running));
	loop->busy_poll_ns = (uint64_t)usec * 1000;
}

/*
 * Wait for events: first, within busy_poll_ns of the last batch, poll
 * without sleeping (evloop_set_busy_poll()); then sleep until an event or
 * the next timer.  Returns what epoll_wait() returned.
 */
static int
wait_events(struct evloop *loop, struct epoll_event *evs, uint64_t last_ns)
{
	if (loop->busy_poll_ns && last_ns) {
		uint64_t until = last_ns + loop->busy_poll_ns;

		while (clock_now_ns() < until && !atomic_load(&loop->stop)) {
			int n = epoll_wait(loop->epfd, evs, EVLOOP_BATCH, 0);

			if (n != 0)
				return n;
		}
	}
	return epoll_wait(loop->epfd, evs, EVLOOP_BATCH,
			  next_timeout_ms(loop));
}

/*
 * Dispatch events, timers and posted work on the calling thread until
 * evloop_stop().  The stop flag is cleared on return so the loop can run
 * again.  Returns 0, or -errno if epoll_wait() fails for a reason other
 * than a signal.
 */
int
evloop_run(struct evloop *loop)
{
	struct epoll_event evs[EVLOOP_BATCH];
	uint64_t last_ns = 0;	/* end of the last batch with events */
	int err = 0;

	VERIFY(!atomic_load(&loop->running));
	loop->thread = pthread_self();
	atomic_store(&loop->running, true);
	while (!atomic_load(&loop->stop)) {
		bool posted = false;
		int n;

		n = wait_events(loop, evs, last_ns);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			log_error("evloop: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			uint32_t e = 0;
			struct fd_slot *s;

			if (gen == 0 && fd == loop->efd) {
				uint64_t cnt;
				ssize_t r = read(loop->efd, &cnt, sizeof(cnt));

				(void)r;
				posted = true;
				continue;
			}
			/*
			 * An earlier callback in this batch may have removed
			 * it, or even reused the number for a new fd.
			 */
			if (fd >= loop->nfds || !loop->fds[fd].used ||
			    loop->fds[fd].gen != gen)
				continue;
			s = &loop->fds[fd];
			if (evs[i].events & (EPOLLIN | EPOLLRDHUP))
				e |= EVLOOP_READ;
			if (evs[i].events & EPOLLOUT)
				e |= EVLOOP_WRITE;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				e |= EVLOOP_ERROR;
			s->fn(loop, fd, e, s->ctx);
		}
		run_timers(loop);
		if (posted)
			evloop_run_posted(loop);
		if (n > 0 && loop->busy_poll_ns)
			last_ns = clock_now_ns();
	}
	atomic_store(&loop->running, false);
	atomic_store(&loop->stop, false);
	return err;
}
