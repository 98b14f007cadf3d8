/*
 * workq.c - worker pool: N threads, one mutex, an urgent FIFO and a ring
 * of flows served round-robin.
 *
 * Each flow (one per client connection) is a FIFO of its own, and workers
 * take one item from each flow with work in turn, so a client that
 * pipelines 64 calls gets one worker turn per round like a client with one
 * call: it cannot push the other clients' calls behind its own.  Items
 * queued without a flow share the queue's default flow.  The mutex is held
 * only to link/unlink an item, so contention stays low at the worker counts
 * a 2-64 core machine runs.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "common/workq.h"

struct workq {
	const char		*name;
	struct mutex		lock;		/* protects all below */
	struct condvar		more;		/* queue non-empty or stopping */
	struct condvar		idle;		/* queue empty and none running */
	struct workq_flow	dflt;		/* items queued without a flow */
	struct workq_flow	*ring, *ring_tail; /* flows with items */
	struct workq_item	*uhead, *utail;	/* urgent: run first */
	uint32_t		nrunning;	/* items being run */
	uint32_t		nblocked;	/* workers inside may_block..unblock */
	uint32_t		nblocking;	/* budget */
	uint32_t		nworkers;
	bool			stopping;
	pthread_t		*threads;
};

/* The queue the calling thread works for; NULL on non-worker threads. */
static __thread struct workq *cur_wq;
/* Whether this worker currently holds a block budget slot. */
static __thread bool cur_blocked;

/*
 * Take the next item round-robin: the head of the first flow in the ring;
 * that flow then goes to the back of the ring, or leaves it if empty.
 */
static struct workq_item *
ring_take_locked(struct workq *wq)
{
	struct workq_flow *f = wq->ring;
	struct workq_item *it = f->head;

	mutex_assert_held(&wq->lock);
	f->head = it->next;
	if (!f->head)
		f->tail = NULL;
	wq->ring = f->next;
	if (!wq->ring)
		wq->ring_tail = NULL;
	f->next = NULL;
	if (f->head) {			/* more to do: back of the ring */
		if (wq->ring_tail)
			wq->ring_tail->next = f;
		else
			wq->ring = f;
		wq->ring_tail = f;
	} else {
		f->active = false;
	}
	return it;
}

static void *
worker_main(void *arg)
{
	struct workq *wq = arg;

	cur_wq = wq;
	mutex_lock(&wq->lock);
	for (;;) {
		struct workq_item *it;

		while (!wq->ring && !wq->uhead && !wq->stopping)
			condvar_wait(&wq->more, &wq->lock);
		if (wq->uhead) {
			it = wq->uhead;
			wq->uhead = it->next;
			if (!wq->uhead)
				wq->utail = NULL;
		} else if (wq->ring) {
			it = ring_take_locked(wq);
		} else {
			break;		/* stopping and nothing left */
		}
		wq->nrunning++;
		mutex_unlock(&wq->lock);

		it->fn(it);
		/* An item must give back its budget before returning. */
		VERIFY(!cur_blocked);
		lock_assert_none_held();

		mutex_lock(&wq->lock);
		wq->nrunning--;
		if (!wq->ring && !wq->uhead && !wq->nrunning)
			condvar_broadcast(&wq->idle);
	}
	mutex_unlock(&wq->lock);
	return NULL;
}

/*
 * Start the pool; see workq.h for the limits.  No locks held by the
 * caller are needed or touched.
 */
int
workq_create(const char *name, uint32_t nworkers, uint32_t nblocking,
	     struct workq **out)
{
	struct workq *wq;
	int err;

	if (nworkers < 2 || nblocking >= nworkers)
		return -EINVAL;
	wq = calloc(1, sizeof(*wq));
	if (!wq)
		return -ENOMEM;
	wq->threads = calloc(nworkers, sizeof(*wq->threads));
	if (!wq->threads) {
		err = -ENOMEM;
		goto out_free;
	}
	wq->name = name;
	wq->nblocking = nblocking;
	mutex_init(&wq->lock, "workq");
	condvar_init(&wq->more);
	condvar_init(&wq->idle);
	for (uint32_t i = 0; i < nworkers; i++) {
		err = pthread_create(&wq->threads[i], NULL, worker_main, wq);
		if (err) {
			err = -err;
			goto out_stop;
		}
		wq->nworkers++;
	}
	*out = wq;
	return 0;

out_stop:
	workq_destroy(wq);
	return err;
out_free:
	free(wq);
	return err;
}

/*
 * Append item to flow f and put f in the ring if it was idle.  Any
 * thread; wq->lock is a leaf.  f must stay valid while it has items.
 */
void
workq_queue_flow(struct workq *wq, struct workq_flow *f,
		 struct workq_item *item)
{
	mutex_lock(&wq->lock);
	VERIFY(!wq->stopping);
	item->next = NULL;
	if (f->tail)
		f->tail->next = item;
	else
		f->head = item;
	f->tail = item;
	if (!f->active) {
		f->active = true;
		f->next = NULL;
		if (wq->ring_tail)
			wq->ring_tail->next = f;
		else
			wq->ring = f;
		wq->ring_tail = f;
	}
	condvar_signal(&wq->more);
	mutex_unlock(&wq->lock);
}

/*
 * Append item to the queue's default flow and wake one idle worker.  Any
 * thread; wq->lock is a leaf, so callers may hold their own locks.  Not
 * after workq_destroy() began (VERIFY).
 */
void
workq_queue(struct workq *wq, struct workq_item *item)
{
	workq_queue_flow(wq, &wq->dflt, item);
}

/*
 * Like workq_queue(), but item runs before every normal item (urgent items
 * among themselves stay FIFO).  For work that ends other work's waits.
 */
void
workq_queue_urgent(struct workq *wq, struct workq_item *item)
{
	mutex_lock(&wq->lock);
	VERIFY(!wq->stopping);
	item->next = NULL;
	if (wq->utail)
		wq->utail->next = item;
	else
		wq->uhead = item;
	wq->utail = item;
	condvar_signal(&wq->more);
	mutex_unlock(&wq->lock);
}

/* Block until nothing is queued or running.  Not on a worker of wq. */
void
workq_drain(struct workq *wq)
{
	VERIFY(cur_wq != wq);
	mutex_lock(&wq->lock);
	while (wq->ring || wq->uhead || wq->nrunning)
		condvar_wait(&wq->idle, &wq->lock);
	mutex_unlock(&wq->lock);
}

/*
 * Let the workers finish everything queued, join them, free wq.  Not on a
 * worker of wq; nobody may queue concurrently.
 */
void
workq_destroy(struct workq *wq)
{
	if (!wq)
		return;
	VERIFY(cur_wq != wq);
	mutex_lock(&wq->lock);
	wq->stopping = true;
	condvar_broadcast(&wq->more);
	mutex_unlock(&wq->lock);
	for (uint32_t i = 0; i < wq->nworkers; i++)
		pthread_join(wq->threads[i], NULL);
	VERIFY(!wq->ring && !wq->uhead && !wq->nrunning);
	condvar_destroy(&wq->idle);
	condvar_destroy(&wq->more);
	mutex_destroy(&wq->lock);
	free(wq->threads);
	free(wq);
}

/*
 * Take a slot of the calling worker's block budget if one is free.  See
 * workq.h.  Takes wq->lock briefly.
 */
bool
workq_may_block(void)
{
	struct workq *wq = cur_wq;
	bool ok;

	if (!wq)
		return true;
	VERIFY(!cur_blocked);	/* nested asks would leak budget */
	mutex_lock(&wq->lock);
	ok = wq->nblocked < wq->nblocking;
	if (ok)
		wq->nblocked++;
	mutex_unlock(&wq->lock);
	cur_blocked = ok;
	return ok;
}

/* Give back the slot taken by workq_may_block(). */
void
workq_unblock(void)
{
	struct workq *wq = cur_wq;

	if (!wq)
		return;
	VERIFY(cur_blocked);
	mutex_lock(&wq->lock);
	wq->nblocked--;
	mutex_unlock(&wq->lock);
	cur_blocked = false;
}

/* True when the caller is one of wq's workers.  Lock-free. */
bool
workq_on_worker(const struct workq *wq)
{
	return cur_wq == wq;
}
