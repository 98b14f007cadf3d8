/*
 * evloop.h - a small epoll event loop: fd readiness callbacks, one-shot
 * timers, and cross-thread posting through an eventfd.  Modelled on the
 * size of Redis' ae.c: one loop per thread, callbacks run on that thread.
 *
 * Locking: every function except evloop_post(), evloop_stop() and
 * evloop_in_loop_thread() must be called on the loop's own thread (or
 * before evloop_run() starts, or after it returns); this is asserted.
 * Callbacks run with no loop lock held, so they may add, modify or delete
 * fds and timers, including their own.  evloop_post() may be called from
 * any thread; evloop_stop() also from a signal handler.
 * Ownership: the loop never owns the objects its callbacks point at.
 * struct evloop_timer and struct evloop_work are embedded in the caller's
 * objects and must stay valid while armed / posted.
 */
#ifndef PMEMNFS_COMMON_EVLOOP_H
#define PMEMNFS_COMMON_EVLOOP_H

#include <stdbool.h>
#include <stdint.h>
#include "common/compiler.h"

struct evloop;

/* Interest and readiness bits for fd callbacks. */
#define EVLOOP_READ	0x1u
#define EVLOOP_WRITE	0x2u
#define EVLOOP_ERROR	0x4u	/* reported only: hang-up or socket error */

typedef void (*evloop_fd_fn)(struct evloop *loop, int fd, uint32_t events,
			     void *ctx);

/* A one-shot timer; the caller embeds it and keeps it alive while armed. */
struct evloop_timer {
	uint64_t	deadline_ns;	/* CLOCK_MONOTONIC */
	void		(*fn)(struct evloop *loop, struct evloop_timer *t);
	uint32_t	heap_idx;	/* private: position in the loop's heap */
	bool		armed;		/* private */
};

/* A function posted to run once on the loop thread. */
struct evloop_work {
	void			(*fn)(struct evloop *loop,
				      struct evloop_work *w);
	struct evloop_work	*next;	/* private */
};

int evloop_create(struct evloop **out) MUST_CHECK;
/* Frees the loop; posted work that never ran is dropped (not run). */
void evloop_destroy(struct evloop *loop);

/* Start watching fd for events (EVLOOP_READ / EVLOOP_WRITE, may be 0). */
int evloop_fd_add(struct evloop *loop, int fd, uint32_t events,
		  evloop_fd_fn fn, void *ctx) MUST_CHECK;
/* Change the interest set of a watched fd. */
int evloop_fd_mod(struct evloop *loop, int fd, uint32_t events) MUST_CHECK;
/* Stop watching fd (before closing it).  No callback runs for it afterwards. */
void evloop_fd_del(struct evloop *loop, int fd);

/* Arm t (not armed) to run t->fn once at deadline_ns. */
int evloop_timer_arm(struct evloop *loop, struct evloop_timer *t,
		     uint64_t deadline_ns) MUST_CHECK;
/* Disarm t if armed; harmless otherwise. */
void evloop_timer_cancel(struct evloop *loop, struct evloop_timer *t);

/*
 * Any thread: run w->fn once on the loop thread, soon.  w must not already
 * be posted.  Work posted after evloop_run() returned runs only if the loop
 * is run again (see evloop_run_posted()).
 */
void evloop_post(struct evloop *loop, struct evloop_work *w);
/* Loop thread (or no loop running): run all posted work now. */
void evloop_run_posted(struct evloop *loop);

/*
 * Before evloop_run(): after a batch of events, poll (epoll_wait() with no
 * timeout) for up to usec microseconds before sleeping.  A sleeping thread
 * costs a wake-up on the next event - on a virtual machine without guest
 * halt polling that is a VM exit and tens to hundreds of microseconds,
 * more than a whole GETATTR - so a server answering a client that sends
 * its next call right after the last reply is faster when it does not
 * sleep in between.  The poll burns CPU only within usec of the last
 * event.  0 (the default): never poll.
 */
void evloop_set_busy_poll(struct evloop *loop, uint32_t usec);

/* Run until evloop_stop(); returns 0, or a negative errno if epoll fails. */
int evloop_run(struct evloop *loop) MUST_CHECK;
/* Async-signal-safe and thread-safe: make evloop_run() return soon. */
void evloop_stop(struct evloop *loop);
/* True on the thread currently inside evloop_run() for this loop. */
bool evloop_in_loop_thread(const struct evloop *loop);

#endif
