/*
 * rpc_int.h - private structures of src/rpc, shared by its files only.
 *
 * Locking: struct rpc_conn's lock protects the fields marked "lock" below;
 * fields marked "loop" are touched only by the event-loop thread (or after
 * the loop stopped); fields marked "const" are set before the connection is
 * published.  conn->lock is a leaf: nothing else is taken while holding it,
 * except the event loop's post lock and the work queue's lock (both leaves).
 * Ownership: a connection is freed by the last rpc_conn_put(); the server's
 * list holds one reference until the connection is closed, and every call,
 * pending back-channel call, posted wakeup and queued close-hook run holds
 * one more.
 */
#ifndef PMEMNFS_RPC_INT_H
#define PMEMNFS_RPC_INT_H

#include <stdatomic.h>

#include "rpc.h"
#include "common/evloop.h"
#include "common/workq.h"

/* A few programs (NFS, the admin program, tests); a table scan is fine. */
#define RPC_MAX_PROGRAMS	8
/* IPv4 + IPv6 per address, a handful of addresses. */
#define RPC_MAX_LISTENERS	8
/* The loop's socket read buffer; also the most a paused connection stashes. */
#define RPC_READ_CHUNK		(64 * 1024)
/* Record-mark + accepted-reply header in front of every reply body. */
#define RPC_REPLY_HDR		(4 + 6 * 4)

enum {
	RPC_MSG_CALL = 0,
	RPC_MSG_REPLY = 1,
};

/* --- growable encoding buffer behind an XDR stream (xbuf.c) ----------- */

/*
 * Bytes [0, base) are header room the owner fills in directly; XDR
 * positions count from base.  Encoding past limit fails like a full
 * xdrmem stream, so a dispatch function sees an ordinary XDR error.
 */
/*
 * Bytes the stream refers to instead of holding (rpc_call_res_put_ref()),
 * followed by XDR padding; release(ctx) runs once they are not needed.
 */
struct rpc_ref {
	const uint8_t	*ptr;
	uint32_t	len, pad;
	void		(*release)(void *ctx);
	void		*ctx;
};

/*
 * At most one reference, and only at the end of the stream: anything
 * encoded after it first copies it into the buffer (and releases it), so
 * positions stay simple.  A READ, the last op of a Linux client's
 * compound, goes out without its data ever being copied into the buffer.
 */
struct rpc_xbuf {
	uint8_t		*buf;
	uint32_t	len;	/* bytes used, including the header room */
	uint32_t	cap;
	uint32_t	base;
	uint32_t	limit;	/* largest len + ref.len + ref.pad */
	struct rpc_ref	ref;	/* ref.ptr NULL: none */
};

int rpc_xbuf_init(struct rpc_xbuf *xb, XDR *xdrs, uint32_t base,
		  uint32_t limit) MUST_CHECK;
int rpc_xbuf_reserve(struct rpc_xbuf *xb, uint32_t n) MUST_CHECK;
int rpc_xbuf_put_ref(struct rpc_xbuf *xb, const void *ptr, uint32_t len,
		     void (*release)(void *), void *ctx) MUST_CHECK;
uint32_t rpc_xbuf_pos(const struct rpc_xbuf *xb);
bool rpc_xbuf_truncate(struct rpc_xbuf *xb, uint32_t pos);
int rpc_xbuf_copy(const struct rpc_xbuf *xb, uint32_t from, uint32_t len,
		  void *dst) MUST_CHECK;
void rpc_xbuf_drop_ref(struct rpc_xbuf *xb);
void rpc_xbuf_free(struct rpc_xbuf *xb);

/* --- connections (conn.c) --------------------------------------------- */

/*
 * One message waiting to be written: data, then ref's bytes and padding
 * if there is a reference.  off counts across all three.
 */
struct rpc_outbuf {
	struct rpc_outbuf	*next;
	uint8_t			*data;	/* malloc'ed; freed when written */
	uint32_t		len, off;
	struct rpc_ref		ref;
	struct workq_item	release_item;	/* ref released off the loop */
};

void rpc_outbuf_free(struct rpc_outbuf *o, struct workq *wq);

struct rpc_close_hook {
	struct rpc_close_hook	*next;
	uint64_t		id;
	void			(*fn)(struct rpc_conn *, void *);
	void			*ctx;
};

/* A call the server sent on a connection, waiting for its reply. */
struct rpc_pending {
	struct rpc_pending	*next;		/* conn->pending (lock) */
	struct rpc_conn		*conn;		/* holds a reference */
	uint32_t		xid;
	bool			timer_armed;	/* loop */
	uint64_t		deadline_ns;
	struct evloop_timer	timer;		/* loop */
	rpc_callback_done_fn	done;
	void			*ctx;
	int			err;		/* result for the completion */
	uint8_t			*rec;		/* the reply record, or NULL */
	uint32_t		reclen;
	struct workq_item	item;
};

struct rpc_conn {
	struct rpc_server	*srv;		/* const */
	int			fd;		/* loop; -1 once closed */
	atomic_uint		refs;
	atomic_bool		closed;		/* written under lock */
	struct sockaddr_storage	peer;		/* const */
	struct rpc_conn		*prev, *next;	/* srv->conns (loop) */

	/* loop */
	struct rpc_record_reader rr;
	uint8_t			*stash;		/* input read while paused */
	size_t			stash_len;
	struct rpc_outbuf	*out_head, *out_tail;
	uint32_t		events;
	bool			read_paused;
	/* Calls run inline queued replies on q_head: write them before
	 * going back to epoll. */
	bool			inline_replies;
	uint64_t		last_active_ns;
	struct evloop_timer	idle_timer;
	/*
	 * Calls read but not dispatched because max_inflight_per_conn are
	 * in progress.  Reading goes on (so back-channel replies get in)
	 * until backlog_bytes + out_bytes passes max_conn_memory.
	 */
	struct rpc_call_priv	*backlog_head, *backlog_tail;
	uint64_t		backlog_bytes;

	struct mutex		lock;
	struct rpc_outbuf	*q_head, *q_tail;	/* lock: to the loop */
	uint64_t		out_bytes;	/* lock: queued + unwritten */
	uint32_t		inflight;	/* lock: calls not yet replied */
	bool			wake_posted;	/* lock */
	/* lock: the loop holds calls back at max_inflight_per_conn, so a
	 * worker that ends a call must wake it (a direct send does not) */
	bool			backlog_waiting;
	struct rpc_pending	*pending;	/* lock */
	struct rpc_close_hook	*hooks;		/* lock */
	uint64_t		next_hook_id;	/* lock */

	struct evloop_work	wake;		/* posted with a reference */
	struct workq_item	hooks_item;	/* runs close hooks */
	/* This client's calls on the workers, round-robin with others'. */
	struct workq_flow	flow;
};

struct rpc_listener {
	struct rpc_server	*srv;
	int			fd;
	bool			backing_off;	/* loop: out of fds, paused */
	bool			warned;		/* loop: logged this episode */
	struct evloop_timer	backoff;	/* loop: resume accepting */
};

/* struct rpc_server_stats, field for field, as relaxed atomic counters. */
struct rpc_stats {
	atomic_uint_fast64_t calls, replies, rejected, dropped;
	atomic_uint_fast64_t conns_accepted, conns_refused, conns_open;
	atomic_uint_fast64_t records_too_big, read_pauses;
	atomic_uint_fast64_t cb_calls, cb_timeouts, cb_stray_replies;
	atomic_uint_fast64_t accept_backoffs;
	atomic_uint_fast64_t calls_inline, replies_direct;
};

#define RPC_STAT_INC(srv, field) \
	atomic_fetch_add_explicit(&(srv)->stats.field, 1, memory_order_relaxed)
#define RPC_STAT_DEC(srv, field) \
	atomic_fetch_sub_explicit(&(srv)->stats.field, 1, memory_order_relaxed)

struct rpc_server {
	struct rpc_server_config cfg;
	struct evloop		*loop;
	struct workq		*wq;
	const struct rpc_program *progs[RPC_MAX_PROGRAMS];
	uint32_t		nprogs;
	struct rpc_listener	listeners[RPC_MAX_LISTENERS];
	uint32_t		nlisteners;
	struct rpc_conn		*conns;		/* loop */
	uint32_t		nconns;		/* loop */
	uint8_t			*rbuf;		/* loop: socket read buffer */
	atomic_uint		next_xid;	/* back-channel xids */
	atomic_bool		running;
	atomic_uint		nparked;	/* RPC_DISP_ASYNC not finished */
	struct rpc_stats	stats;
};

/*
 * Set on the loop thread while it dispatches a call inline (call.c):
 * rpc_worker_may_block() is false and rpc_on_loop_thread() true.
 */
extern _Thread_local bool rpc_loop_inline;

/* conn.c */
int rpc_conn_accept(struct rpc_server *srv, int fd,
		    const struct sockaddr_storage *peer) MUST_CHECK;
void rpc_conn_close(struct rpc_conn *conn, const char *why);
void rpc_conn_queue_out(struct rpc_conn *conn, uint8_t *data, uint32_t len,
			const struct rpc_ref *ref, bool was_call);
void rpc_conn_kick_locked(struct rpc_conn *conn);

/* call.c: one incoming call, from its record to its reply. */
struct rpc_call_priv {
	struct rpc_call		call;
	struct rpc_call_priv	*next;		/* conn backlog (loop) */
	struct workq_item	item;
	XDR			args_x, res_x;
	struct rpc_xbuf		res;
	uint8_t			*rec;
	uint32_t		reclen;
};

/* What a backlogged call costs: the record plus our bookkeeping. */
#define RPC_CALL_COST(len)	((uint64_t)(len) + sizeof(struct rpc_call_priv))

int rpc_call_new(struct rpc_conn *conn, uint8_t *rec, uint32_t len,
		 struct rpc_call_priv **out) MUST_CHECK;
void rpc_call_queue(struct rpc_call_priv *cp);
bool rpc_call_inline_ok(struct rpc_call_priv *cp);
void rpc_call_run_inline(struct rpc_call_priv *cp);
void rpc_call_discard(struct rpc_call_priv *cp);

/* callback.c */
void rpc_pending_reply(struct rpc_conn *conn, uint32_t xid, uint8_t *rec,
		       uint32_t len);
void rpc_pending_arm_timers(struct rpc_conn *conn);
void rpc_pending_fail_all(struct rpc_pending *list);

static inline uint32_t
rpc_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
rpc_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
