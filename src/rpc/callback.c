/*
 * callback.c - calls the server sends on a client's connection (the
 * NFSv4.1 back channel, RFC 8881 §2.10.3.1) and the matching of their
 * replies by xid.
 *
 * A pending call is on conn->pending from the moment it is queued until
 * exactly one of three things takes it off, each under conn->lock on the
 * loop thread: its reply arrives, its timer fires, or the connection
 * closes.  Whoever takes it off queues the completion, so done() runs
 * exactly once, on a worker.
 */
#include "config.h"

#include "rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void
pending_complete(struct workq_item *it)
{
	struct rpc_pending *p = container_of(it, struct rpc_pending, item);
	uint32_t reply_stat, vflavor, vlen, accept_stat;
	XDR x;

	if (p->err || !p->rec) {
		p->done(p->ctx, p->err ? p->err : -EPROTO, NULL);
		goto out_free;
	}
	/* RFC 5531 §9: reply_stat, then verifier and accept_stat. */
	xdrmem_create(&x, (char *)p->rec, p->reclen, XDR_DECODE);
	if (!xdr_setpos(&x, 8) || !xdr_uint32_t(&x, &reply_stat) ||
	    reply_stat != 0 || !xdr_uint32_t(&x, &vflavor) ||
	    !xdr_uint32_t(&x, &vlen) || vlen > MAX_AUTH_BYTES ||
	    !xdr_setpos(&x, xdr_getpos(&x) + ROUND_UP(vlen, 4)) ||
	    !xdr_uint32_t(&x, &accept_stat) || accept_stat != SUCCESS) {
		log_info("rpc: back-channel call xid %#x was not accepted",
			 p->xid);
		p->done(p->ctx, -EPROTO, NULL);
	} else {
		p->done(p->ctx, 0, &x);
	}
	xdr_destroy(&x);
out_free:
	lock_assert_none_held();
	free(p->rec);
	rpc_conn_put(p->conn);
	free(p);
}

static void
pending_queue_completion(struct rpc_pending *p, int err)
{
	p->err = err;
	p->item.fn = pending_complete;
	/* Completions end waits (a recall, say): ahead of new calls. */
	workq_queue_urgent(p->conn->srv->wq, &p->item);
}

/* Caller holds conn->lock: unlink the pending call with xid, or NULL. */
static struct rpc_pending *
pending_take_locked(struct rpc_conn *conn, uint32_t xid)
{
	struct rpc_pending **pp, *p;

	mutex_assert_held(&conn->lock);
	for (pp = &conn->pending; (p = *pp); pp = &p->next) {
		if (p->xid == xid) {
			*pp = p->next;
			p->next = NULL;
			return p;
		}
	}
	return NULL;
}

static void
pending_timeout(struct evloop *loop, struct evloop_timer *t)
{
	struct rpc_pending *p = container_of(t, struct rpc_pending, timer);
	struct rpc_conn *conn = p->conn;
	struct rpc_pending *took;

	mutex_lock(&conn->lock);
	took = pending_take_locked(conn, p->xid);
	mutex_unlock(&conn->lock);
	/* Armed implies still listed: reply and close cancel the timer. */
	VERIFY(took == p);
	log_info("rpc: back-channel call xid %#x timed out", p->xid);
	RPC_STAT_INC(conn->srv, cb_timeouts);
	pending_queue_completion(p, -ETIMEDOUT);
}

/*
 * Loop thread: a REPLY record arrived on conn.  Complete the call it
 * answers, or drop it with a log line if no call of ours has that xid
 * (late after a timeout, or a confused peer).  Takes ownership of rec.
 */
void
rpc_pending_reply(struct rpc_conn *conn, uint32_t xid, uint8_t *rec,
		  uint32_t len)
{
	struct rpc_pending *p;

	mutex_lock(&conn->lock);
	p = pending_take_locked(conn, xid);
	mutex_unlock(&conn->lock);
	if (!p) {
		log_info("rpc: reply with unknown xid %#x; dropped", xid);
		RPC_STAT_INC(conn->srv, cb_stray_replies);
		free(rec);
		return;
	}
	evloop_timer_cancel(conn->srv->loop, &p->timer);
	p->rec = rec;
	p->reclen = len;
	pending_queue_completion(p, 0);
}

/*
 * Loop thread: arm the timers of calls queued since the last wakeup.
 * Timers live on the loop, so a worker that sends a call only records the
 * deadline and kicks the loop.
 */
void
rpc_pending_arm_timers(struct rpc_conn *conn)
{
	struct rpc_pending *p, *failed = NULL;

	mutex_lock(&conn->lock);
	for (p = conn->pending; p; p = p->next) {
		if (p->timer_armed)
			continue;
		p->timer_armed = true;
		if (evloop_timer_arm(conn->srv->loop, &p->timer,
				     p->deadline_ns) < 0 && !failed)
			failed = p;	/* fail after unlocking */
	}
	if (failed)
		failed = pending_take_locked(conn, failed->xid);
	mutex_unlock(&conn->lock);
	/* One at a time is enough: ENOMEM here is extraordinary. */
	if (failed)
		pending_queue_completion(failed, -ENOMEM);
}

/* Loop thread, at close: complete every call in list with -ECONNRESET. */
void
rpc_pending_fail_all(struct rpc_pending *list)
{
	while (list) {
		struct rpc_pending *p = list;

		list = p->next;
		p->next = NULL;
		evloop_timer_cancel(p->conn->srv->loop, &p->timer);
		pending_queue_completion(p, -ECONNRESET);
	}
}

/* The body length of an AUTH_SYS credential (RFC 5531 appendix A). */
static uint32_t
auth_sys_len(const struct rpc_cred *cred, uint32_t mlen)
{
	return 4 + 4 + ROUND_UP(mlen, 4) + 4 + 4 + 4 + 4 * cred->ngids;
}

static bool
encode_cred(XDR *x, const struct rpc_cred *cred)
{
	uint32_t zero = 0, flavor = AUTH_SYS, len, mlen;
	char *m;

	if (!cred || cred->flavor == AUTH_NONE)
		return xdr_uint32_t(x, &zero) && xdr_uint32_t(x, &zero);
	if (cred->flavor != AUTH_SYS || cred->ngids > RPC_AUTH_SYS_MAX_GIDS)
		return false;
	mlen = (uint32_t)strnlen(cred->machine, RPC_AUTH_SYS_MAX_MACHINE);
	len = auth_sys_len(cred, mlen);
	m = (char *)cred->machine;
	if (!xdr_uint32_t(x, &flavor) || !xdr_uint32_t(x, &len) ||
	    !xdr_uint32_t(x, &zero) ||	/* stamp */
	    !xdr_bytes(x, &m, &mlen, RPC_AUTH_SYS_MAX_MACHINE) ||
	    !xdr_uint32_t(x, (uint32_t *)&cred->uid) ||
	    !xdr_uint32_t(x, (uint32_t *)&cred->gid) ||
	    !xdr_uint32_t(x, (uint32_t *)&cred->ngids))
		return false;
	for (uint32_t i = 0; i < cred->ngids; i++)
		if (!xdr_uint32_t(x, (uint32_t *)&cred->gids[i]))
			return false;
	return true;
}

/*
 * Send a call on conn; see rpc.h.  Any thread, no conn lock held.  Takes a
 * reference on conn for the pending call.  Returns 0 (done() will run once),
 * -EINVAL for a credential it cannot encode or an encode() failure,
 * -ENOTCONN if conn is closed, -ENOBUFS if conn already buffers more than
 * max_conn_memory, -ENOMEM.
 */
int
rpc_conn_call(struct rpc_conn *conn, uint32_t prog, uint32_t vers,
	      uint32_t proc, const struct rpc_cred *cred,
	      bool (*encode)(XDR *xdrs, void *arg), void *arg,
	      uint64_t timeout_ns, rpc_callback_done_fn done, void *ctx)
{
	struct rpc_server *srv;
	uint32_t hdr[5] = { 0, RPC_MSG_CALL, 2, prog, vers };
	struct rpc_outbuf *o;
	struct rpc_pending *p;
	struct rpc_xbuf xb;
	XDR x;
	int err;

	/*
	 * Checked again under the lock; this early test keeps a holder of a
	 * stale reference from touching the server after it has stopped.
	 */
	mutex_assert_not_held(&conn->lock);
	if (atomic_load(&conn->closed))
		return -ENOTCONN;
	srv = conn->srv;
	p = calloc(1, sizeof(*p));
	o = malloc(sizeof(*o));
	if (!p || !o) {
		err = -ENOMEM;
		goto out_free;
	}
	err = rpc_xbuf_init(&xb, &x, 4, 4 + srv->cfg.max_reply);
	if (err)
		goto out_free;
	/* Zero is never used, so a zeroed xid in a reply matches nothing. */
	do {
		p->xid = atomic_fetch_add(&srv->next_xid, 1);
	} while (p->xid == 0);
	hdr[0] = p->xid;
	for (int i = 0; i < 5; i++)
		if (!xdr_uint32_t(&x, &hdr[i]))
			goto out_inval;
	if (!xdr_uint32_t(&x, &proc) || !encode_cred(&x, cred))
		goto out_inval;
	hdr[0] = AUTH_NONE;	/* verifier: flavor, length */
	hdr[1] = 0;
	if (!xdr_uint32_t(&x, &hdr[0]) || !xdr_uint32_t(&x, &hdr[1]) ||
	    !encode(&x, arg))
		goto out_inval;
	rpc_record_mark(xb.buf, xb.len - 4, true);

	p->done = done;
	p->ctx = ctx;
	p->deadline_ns = clock_now_ns() + timeout_ns;
	p->timer.fn = pending_timeout;
	*o = (struct rpc_outbuf){ .data = xb.buf, .len = xb.len };

	mutex_lock(&conn->lock);
	if (atomic_load(&conn->closed)) {
		err = -ENOTCONN;
		goto out_unlock;
	}
	if (conn->out_bytes > srv->cfg.max_conn_memory) {
		err = -ENOBUFS;
		goto out_unlock;
	}
	rpc_conn_get(conn);
	p->conn = conn;
	p->next = conn->pending;
	conn->pending = p;
	if (conn->q_tail)
		conn->q_tail->next = o;
	else
		conn->q_head = o;
	conn->q_tail = o;
	conn->out_bytes += xb.len;
	rpc_conn_kick_locked(conn);
	RPC_STAT_INC(srv, cb_calls);
	mutex_unlock(&conn->lock);
	return 0;

out_unlock:
	mutex_unlock(&conn->lock);
	rpc_xbuf_free(&xb);
	goto out_free;
out_inval:
	rpc_xbuf_free(&xb);
	err = -EINVAL;
out_free:
	free(o);
	free(p);
	return err;
}
