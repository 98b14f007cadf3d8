/*
 * workq.h - a fixed pool of worker threads running queued items in FIFO
 * order, with a budget of workers that may block at once.
 *
 * Why the budget: an item that waits (for a recall, a delegation return)
 * holds its worker.  If every worker could wait, the items that would end
 * the waits (LAYOUTRETURN, DELEGRETURN, callback replies) would find no
 * worker and the pool would deadlock.  workq_may_block() hands out at most
 * nblocking of nworkers (nblocking < nworkers), so at least
 * nworkers - nblocking workers always run non-blocking items.
 *
 * Order: urgent items first (FIFO), then one item from each flow with work
 * in turn (round-robin), each flow FIFO.  Plain workq_queue() items form
 * one flow of their own.
 *
 * Locking: workq_queue() and the block budget calls take the queue's
 * internal mutex only briefly; they may be called with any caller locks
 * held.  Items run with no workq lock held.
 * Ownership: items are embedded in the caller's objects; the queue holds a
 * pointer until the item starts running.  The item's fn owns it from then on.
 */
#ifndef PMEMNFS_COMMON_WORKQ_H
#define PMEMNFS_COMMON_WORKQ_H

#include <stdbool.h>
#include <stdint.h>
#include "common/compiler.h"

struct workq;

struct workq_item {
	void			(*fn)(struct workq_item *item);
	struct workq_item	*next;		/* private */
};

/*
 * A flow: the items of one client, served in FIFO order, flows served
 * round-robin one item at a time.  Embed it (zeroed) in the object whose
 * work it orders; it must outlive its queued items.
 */
struct workq_flow {
	struct workq_item	*head, *tail;	/* private */
	struct workq_flow	*next;		/* private: ring link */
	bool			active;		/* private: in the ring */
};

/*
 * Start nworkers threads (>= 2) of which at most nblocking (< nworkers) may
 * block at once.  Returns 0, -EINVAL, -ENOMEM or pthread_create()'s error.
 */
int workq_create(const char *name, uint32_t nworkers, uint32_t nblocking,
		 struct workq **out) MUST_CHECK;
/* Any thread: run item->fn(item) on a worker.  Never fails. */
void workq_queue(struct workq *wq, struct workq_item *item);
/* Same, as part of flow f (round-robin with the other flows). */
void workq_queue_flow(struct workq *wq, struct workq_flow *f,
		      struct workq_item *item);
/*
 * Same, ahead of every item queued with workq_queue(): for work that ends
 * other work's waits (callback completions), so a long queue of new
 * requests does not delay it.  Urgent items are FIFO among themselves.
 */
void workq_queue_urgent(struct workq *wq, struct workq_item *item);
/*
 * Wait until the queue is empty and no item is running (items queued while
 * draining are run too).  Not from a worker of wq.
 */
void workq_drain(struct workq *wq);
/* Drain, stop and join the workers, free wq. */
void workq_destroy(struct workq *wq);

/*
 * Ask to block the calling worker.  true: the caller may wait (bounded) and
 * must call workq_unblock() when done waiting.  false: the budget is used
 * up; do not wait.  A thread that is not a worker of any queue may always
 * block (returns true, and workq_unblock() is then a no-op).
 */
bool workq_may_block(void) MUST_CHECK;
void workq_unblock(void);
/* True on a worker thread of wq. */
bool workq_on_worker(const struct workq *wq);

#endif
