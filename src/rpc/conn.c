/*
 * conn.c - one TCP connection: reading records, queueing and writing
 * replies, flow control, closing, and the close hooks.
 *
 * The event loop owns the socket: only the loop thread reads, writes and
 * closes it.  Workers hand finished replies over through conn->q_head under
 * conn->lock and post conn->wake to the loop, so a slow reader only ever
 * delays its own replies: the loop writes what the socket takes, keeps the
 * rest, and asks epoll for writability.
 *
 * Flow control: at most max_inflight_per_conn calls of a connection are
 * on workers at once; further calls wait in the connection's backlog, so
 * one client cannot take every worker.  Reading itself goes on, because a
 * back-channel reply on the same connection may be what those calls wait
 * for (an NFSv4.1 client whose slots all wait on a recall), and it stops
 * only when the backlog plus unwritten replies pass max_conn_memory; it
 * resumes when they drain.  Bytes already read past the record that hit
 * the limit are stashed (at most one read's worth) and consumed first.
 */
#include "config.h"

#include "rpc_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <arpa/inet.h>

/* Reads per readiness event: level-triggered epoll brings us back, and
 * other connections get a turn in between. */
#define RPC_READS_PER_EVENT	4
/* iovecs per sendmsg(): up to 3 per message (data, referenced bytes, pad). */
#define RPC_WRITE_IOV		64

static void conn_wake(struct evloop *loop, struct evloop_work *w);
static void conn_service(struct rpc_conn *conn);
static void conn_event(struct evloop *loop, int fd, uint32_t events,
		       void *ctx);
static void conn_idle(struct evloop *loop, struct evloop_timer *t);

static const char *
peer_str(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void *a;
	uint16_t port;
	char ip[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	} else {
		a = &((const struct sockaddr_in *)ss)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	}
	if (!inet_ntop(ss->ss_family, a, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s port %u", ip, port);
	return buf;
}

/* Take a reference.  Any thread; the caller already holds one. */
void
rpc_conn_get(struct rpc_conn *conn)
{
	unsigned old = atomic_fetch_add(&conn->refs, 1);

	VERIFY(old > 0);
}

/* XDR padding after referenced bytes. */
static const uint8_t zero_pad[4];

static uint64_t
outbuf_total(const struct rpc_outbuf *o)
{
	return (uint64_t)o->len + (o->ref.ptr ? o->ref.len + o->ref.pad : 0);
}

static void
outbuf_release(struct workq_item *it)
{
	struct rpc_outbuf *o = container_of(it, struct rpc_outbuf,
					    release_item);

	o->ref.release(o->ref.ctx);
	free(o);
}

/*
 * Free a queued message.  A reference's release runs on a worker when wq
 * is given (the loop thread never runs higher layers' code), else here.
 */
void
rpc_outbuf_free(struct rpc_outbuf *o, struct workq *wq)
{
	free(o->data);
	o->data = NULL;
	if (!o->ref.ptr) {
		free(o);
	} else if (wq) {
		o->release_item.fn = outbuf_release;
		workq_queue_urgent(wq, &o->release_item);
	} else {
		outbuf_release(&o->release_item);
	}
}

/* A reference released on a worker after its bytes were copied. */
struct rpc_ref_release {
	struct workq_item	item;
	struct rpc_ref		ref;
};

static void
ref_release_run(struct workq_item *it)
{
	struct rpc_ref_release *rr = container_of(it, struct rpc_ref_release,
						  item);

	rr->ref.release(rr->ref.ctx);
	free(rr);
}

/*
 * The socket did not take o's referenced bytes now: copy them (and the
 * padding) into o's own buffer and move the reference to *ref for the
 * caller to release (outside conn->lock; on a worker, never on the loop).
 * A reference pins storage (a READ's blocks, which a truncate waits for),
 * and a client that does not read its socket must not hold that for as
 * long as TCP keeps the connection: with the copy, the pin lasts until
 * the first write attempt and the client holds only memory (bounded by
 * max_conn_memory).  Returns false with o unchanged when there is no
 * reference or no memory (then the pin just lasts longer).  No locks
 * needed: o is the caller's (loop list, or not yet queued).
 */
static bool
outbuf_detach_ref(struct rpc_outbuf *o, struct rpc_ref *ref)
{
	uint64_t total = outbuf_total(o);
	uint8_t *data;

	if (!o->ref.ptr)
		return false;
	data = malloc(total);
	if (!data)
		return false;
	memcpy(data, o->data, o->len);
	memcpy(data + o->len, o->ref.ptr, o->ref.len);
	memset(data + o->len + o->ref.len, 0, o->ref.pad);
	free(o->data);
	o->data = data;
	o->len = (uint32_t)total;
	*ref = o->ref;
	memset(&o->ref, 0, sizeof(o->ref));
	return true;
}

/* Loop thread: detach the references of every queued message (above). */
static void
conn_detach_refs(struct rpc_conn *conn)
{
	for (struct rpc_outbuf *o = conn->out_head; o; o = o->next) {
		struct rpc_ref_release *rr;

		if (!o->ref.ptr)
			continue;
		rr = malloc(sizeof(*rr));
		if (!rr)
			return;
		if (!outbuf_detach_ref(o, &rr->ref)) {
			free(rr);
			return;
		}
		rr->item.fn = ref_release_run;
		workq_queue_urgent(conn->srv->wq, &rr->item);
	}
}

static void
outbuf_free_list(struct rpc_outbuf *o, struct workq *wq)
{
	while (o) {
		struct rpc_outbuf *next = o->next;

		rpc_outbuf_free(o, wq);
		o = next;
	}
}

/* Fill iov from o's unwritten part: data, referenced bytes, padding. */
static int
outbuf_iov(const struct rpc_outbuf *o, struct iovec *iov)
{
	const struct { const uint8_t *p; uint32_t len; } seg[3] = {
		{ o->data, o->len },
		{ o->ref.ptr, o->ref.ptr ? o->ref.len : 0 },
		{ zero_pad, o->ref.ptr ? o->ref.pad : 0 },
	};
	uint32_t skip = o->off;
	int n = 0;

	for (int i = 0; i < 3; i++) {
		if (skip >= seg[i].len) {
			skip -= seg[i].len;
			continue;
		}
		iov[n].iov_base = (void *)(uintptr_t)(seg[i].p + skip);
		iov[n].iov_len = seg[i].len - skip;
		skip = 0;
		n++;
	}
	return n;
}

/*
 * Drop a reference; the last one frees the connection, which by then is
 * closed (the server's reference is dropped only by rpc_conn_close()).
 * Any thread, no conn lock held.
 */
void
rpc_conn_put(struct rpc_conn *conn)
{
	unsigned old = atomic_fetch_sub(&conn->refs, 1);

	VERIFY(old > 0);
	if (old > 1)
		return;
	VERIFY(atomic_load(&conn->closed));
	ASSERT(!conn->pending && !conn->hooks && conn->fd < 0);
	/* Emptied at close (references were released through the workers). */
	VERIFY(!conn->q_head && !conn->out_head);
	rpc_record_reader_free(&conn->rr);
	free(conn->stash);
	mutex_destroy(&conn->lock);
	free(conn);
}

/* The peer's address; constant for the connection's life.  No locks. */
const struct sockaddr_storage *
rpc_conn_peer(const struct rpc_conn *conn)
{
	return &conn->peer;
}

/* Lock-free snapshot: true once the server closed its side. */
bool
rpc_conn_is_closed(const struct rpc_conn *conn)
{
	return atomic_load(&conn->closed);
}

/* Loop thread: epoll interest follows read_paused and unwritten output. */
static void
conn_update_events(struct rpc_conn *conn)
{
	uint32_t want = (conn->read_paused ? 0 : EVLOOP_READ) |
			(conn->out_head ? EVLOOP_WRITE : 0);

	if (want == conn->events)
		return;
	if (evloop_fd_mod(conn->srv->loop, conn->fd, want) < 0) {
		rpc_conn_close(conn, "epoll_ctl failed");
		return;
	}
	conn->events = want;
}

/*
 * Loop thread: is too much buffered to read more?  Returns which limit
 * holds reading back, or NULL.
 */
static const char *
conn_over_limits(struct rpc_conn *conn)
{
	const struct rpc_server_config *cfg = &conn->srv->cfg;
	uint64_t out;

	mutex_lock(&conn->lock);
	out = conn->out_bytes;
	mutex_unlock(&conn->lock);
	return out + conn->backlog_bytes > cfg->max_conn_memory ?
	       "max_conn_memory" : NULL;
}

/*
 * Loop thread: move backlogged calls to the workers while the connection
 * has fewer than max_inflight_per_conn in progress, oldest first.  A call
 * the program lets the loop run (rpc_call_inline_ok()) runs right here;
 * its reply waits on q_head until conn_service() writes it.
 */
static void
conn_dispatch_backlog(struct rpc_conn *conn)
{
	uint32_t max = conn->srv->cfg.max_inflight_per_conn;
	struct rpc_call_priv *cp;

	while ((cp = conn->backlog_head) && !atomic_load(&conn->closed)) {
		mutex_lock(&conn->lock);
		if (conn->inflight >= max) {
			conn->backlog_waiting = true;
			mutex_unlock(&conn->lock);
			return;
		}
		conn->inflight++;
		mutex_unlock(&conn->lock);
		conn->backlog_head = cp->next;
		if (!conn->backlog_head)
			conn->backlog_tail = NULL;
		cp->next = NULL;
		conn->backlog_bytes -= RPC_CALL_COST(cp->reclen);
		if (rpc_call_inline_ok(cp))
			rpc_call_run_inline(cp);
		else
			rpc_call_queue(cp);
	}
}

/*
 * Loop thread: route one complete record.  A CALL goes to a worker; a
 * REPLY to the back-channel call it answers.  Takes ownership of rec.
 */
static void
conn_handle_record(struct rpc_conn *conn, uint8_t *rec, uint32_t len)
{
	char pbuf[80];
	uint32_t xid, mtype;

	if (len < 8) {
		log_warn("rpc: %u-byte record from %s has no RPC header; "
			 "dropped", len, peer_str(&conn->peer, pbuf,
						  sizeof(pbuf)));
		free(rec);
		return;
	}
	xid = rpc_get32(rec);
	mtype = rpc_get32(rec + 4);
	if (mtype == RPC_MSG_CALL) {
		struct rpc_call_priv *cp;

		RPC_STAT_INC(conn->srv, calls);
		if (rpc_call_new(conn, rec, len, &cp) < 0) {
			RPC_STAT_INC(conn->srv, dropped);
			log_warn("rpc: out of memory for a call from %s; "
				 "dropped", peer_str(&conn->peer, pbuf,
						     sizeof(pbuf)));
			return;
		}
		if (conn->backlog_tail)
			conn->backlog_tail->next = cp;
		else
			conn->backlog_head = cp;
		conn->backlog_tail = cp;
		conn->backlog_bytes += RPC_CALL_COST(len);
		conn_dispatch_backlog(conn);
	} else if (mtype == RPC_MSG_REPLY) {
		rpc_pending_reply(conn, xid, rec, len);
	} else {
		log_warn("rpc: message type %u from %s; dropped", mtype,
			 peer_str(&conn->peer, pbuf, sizeof(pbuf)));
		free(rec);
	}
}

/*
 * Loop thread: feed bytes to the record reader and route every complete
 * record, until the input is used up or the connection hits its limits (the
 * rest is stashed and reading paused) or closes.
 */
static void
conn_consume(struct rpc_conn *conn, const uint8_t *data, size_t n)
{
	char pbuf[80];
	size_t off = 0, used;
	uint8_t *rec;
	uint32_t len;
	int ret;

	while (!atomic_load(&conn->closed)) {
		const char *limit = conn_over_limits(conn);

		if (limit) {
			if (off < n) {
				conn->stash = malloc(n - off);
				if (!conn->stash) {
					rpc_conn_close(conn, "out of memory");
					return;
				}
				memcpy(conn->stash, data + off, n - off);
				conn->stash_len = n - off;
			}
			if (!conn->read_paused) {
				RPC_STAT_INC(conn->srv, read_pauses);
				log_debug("rpc: %s: at %s, reading paused",
					  peer_str(&conn->peer, pbuf,
						   sizeof(pbuf)), limit);
			}
			conn->read_paused = true;
			conn_update_events(conn);
			return;
		}
		ret = rpc_record_reader_feed(&conn->rr, data + off, n - off,
					     &used);
		off += used;
		if (ret == -EMSGSIZE) {
			log_warn("rpc: record from %s exceeds max_record %u "
				 "bytes; closing the connection",
				 peer_str(&conn->peer, pbuf, sizeof(pbuf)),
				 conn->srv->cfg.max_record);
			RPC_STAT_INC(conn->srv, records_too_big);
			rpc_conn_close(conn, "record too large");
			return;
		}
		if (ret < 0) {
			rpc_conn_close(conn, "out of memory");
			return;
		}
		if (ret == 0)
			return;
		rpc_record_reader_take(&conn->rr, &rec, &len);
		conn_handle_record(conn, rec, len);
	}
}

/* Loop thread: resume reading if the limits allow, stash first. */
static void
conn_maybe_resume(struct rpc_conn *conn)
{
	uint8_t *stash;
	size_t len;

	if (!conn->read_paused || atomic_load(&conn->closed) ||
	    conn_over_limits(conn))
		return;
	conn->read_paused = false;
	stash = conn->stash;
	len = conn->stash_len;
	conn->stash = NULL;
	conn->stash_len = 0;
	if (stash) {
		conn_consume(conn, stash, len);
		free(stash);
	}
	if (!atomic_load(&conn->closed))
		conn_update_events(conn);
}

static void
conn_read(struct rpc_conn *conn)
{
	struct rpc_server *srv = conn->srv;

	for (int i = 0; i < RPC_READS_PER_EVENT; i++) {
		ssize_t n;

		if (conn->read_paused || atomic_load(&conn->closed))
			return;
		n = read(conn->fd, srv->rbuf, RPC_READ_CHUNK);
		if (n > 0) {
			conn->last_active_ns = clock_now_ns();
			conn_consume(conn, srv->rbuf, (size_t)n);
			if (n < RPC_READ_CHUNK)
				return;
			continue;
		}
		if (n == 0) {
			rpc_conn_close(conn, conn->rr.len || conn->rr.hdr_have ||
					     conn->rr.in_frag ?
					     "peer closed mid-record" :
					     "peer closed");
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			rpc_conn_close(conn, strerror(errno));
		return;
	}
}

/* Loop thread: write what the socket takes without blocking. */
static void
conn_flush(struct rpc_conn *conn)
{
	struct iovec iov[RPC_WRITE_IOV];
	struct msghdr msg = { .msg_name = NULL };
	uint64_t written = 0;

	while (conn->out_head && !atomic_load(&conn->closed)) {
		struct rpc_outbuf *o = conn->out_head;
		int niov = 0;
		ssize_t n;

		for (; o && niov + 3 <= RPC_WRITE_IOV; o = o->next)
			niov += outbuf_iov(o, iov + niov);
		msg.msg_iov = iov;
		msg.msg_iovlen = (size_t)niov;
		/* A peer gone with replies unread must not SIGPIPE us. */
		n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				rpc_conn_close(conn, strerror(errno));
				break;
			}
			/* Full: nothing queued may pin storage while the
			 * client takes its time. */
			conn_detach_refs(conn);
			break;
		}
		written += (uint64_t)n;
		while (n > 0) {
			uint64_t left;

			o = conn->out_head;
			left = outbuf_total(o) - o->off;
			if ((uint64_t)n < left) {
				o->off += (uint32_t)n;
				break;
			}
			n -= (ssize_t)left;
			conn->out_head = o->next;
			if (!conn->out_head)
				conn->out_tail = NULL;
			rpc_outbuf_free(o, conn->srv->wq);
		}
	}
	if (atomic_load(&conn->closed))
		return;		/* close() zeroed out_bytes */
	if (written) {
		mutex_lock(&conn->lock);
		VERIFY(conn->out_bytes >= written);
		conn->out_bytes -= written;
		mutex_unlock(&conn->lock);
	}
	conn_update_events(conn);
	conn_maybe_resume(conn);
}

static void
conn_event(struct evloop *loop, int fd, uint32_t events, void *ctx)
{
	struct rpc_conn *conn = ctx;

	/* Closing drops the server's reference; keep ours until we return. */
	rpc_conn_get(conn);
	if (events & EVLOOP_WRITE)
		conn_flush(conn);
	if (events & EVLOOP_READ)
		conn_read(conn);
	else if ((events & EVLOOP_ERROR) && !atomic_load(&conn->closed))
		rpc_conn_close(conn, "socket error");
	/* Replies of calls run inline go out in one write per batch. */
	if (conn->inline_replies)
		conn_service(conn);
	rpc_conn_put(conn);
}

/*
 * Loop thread: arm timers of new back-channel calls, dispatch the backlog,
 * take what workers and inline calls queued, write it, maybe resume
 * reading; again while resumed reading ran calls inline.
 */
static void
conn_service(struct rpc_conn *conn)
{
	struct rpc_outbuf *q;

	do {
		conn->inline_replies = false;
		rpc_pending_arm_timers(conn);
		conn_dispatch_backlog(conn);
		mutex_lock(&conn->lock);
		q = conn->q_head;
		conn->q_head = conn->q_tail = NULL;
		mutex_unlock(&conn->lock);
		if (atomic_load(&conn->closed)) {
			outbuf_free_list(q, conn->srv->wq);
			return;
		}
		if (q) {
			if (conn->out_tail)
				conn->out_tail->next = q;
			else
				conn->out_head = q;
			while (q->next)
				q = q->next;
			conn->out_tail = q;
		}
		/* Flushing may resume reading, which may run more calls. */
		conn_flush(conn);
	} while (conn->inline_replies && !atomic_load(&conn->closed));
}

/* Loop thread: a posted wakeup; drops the reference the poster took. */
static void
conn_wake(struct evloop *loop, struct evloop_work *w)
{
	struct rpc_conn *conn = container_of(w, struct rpc_conn, wake);

	mutex_lock(&conn->lock);
	conn->wake_posted = false;
	mutex_unlock(&conn->lock);
	conn_service(conn);
	rpc_conn_put(conn);
}

/*
 * Ask the loop to look at conn (new output, fewer calls in flight, new
 * back-channel calls).  Caller holds conn->lock; at most one wakeup is
 * outstanding per connection, and it carries a reference.
 */
void
rpc_conn_kick_locked(struct rpc_conn *conn)
{
	mutex_assert_held(&conn->lock);
	if (conn->wake_posted || atomic_load(&conn->closed))
		return;
	conn->wake_posted = true;
	rpc_conn_get(conn);
	evloop_post(conn->srv->loop, &conn->wake);
}

/*
 * Worker, conn->lock held, nothing queued or unwritten (out_bytes == 0),
 * connection open: write the message now, without blocking, instead of
 * waking the loop to write it.  Returns the bytes written (0 when the
 * socket takes nothing now: EAGAIN, or an error the loop will find when it
 * next touches the socket).  Holding conn->lock keeps the socket open
 * (rpc_conn_close() takes it first) and keeps every other writer out: the
 * loop writes only what out_bytes counts, and it is zero.
 */
static uint64_t
conn_send_direct_locked(struct rpc_conn *conn, const struct rpc_outbuf *o)
{
	struct iovec iov[3];
	struct msghdr msg = { .msg_iov = iov };
	ssize_t n;

	mutex_assert_held(&conn->lock);
	msg.msg_iovlen = (size_t)outbuf_iov(o, iov);
	do {
		n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	return n > 0 ? (uint64_t)n : 0;
}

/*
 * Any thread, no conn lock held: queue a whole record-marked message for
 * the loop to write: len bytes of data (malloc'ed, now ours) and, if ref
 * is given, its referenced bytes and padding after them (the reference is
 * now ours too: released once written or dropped).  was_call marks the
 * reply (or the decision to send none, data NULL) to a call this
 * connection sent, which ends that call's inflight slot.  On a closed
 * connection the message is dropped.
 *
 * Two short cuts around the loop's wakeup (an eventfd write and a thread
 * switch per reply, docs/rpc.md): a worker whose reply finds nothing
 * queued ahead of it writes it itself (what the socket does not take is
 * queued as usual); a call run inline on the loop leaves its reply on
 * q_head for the loop to write once it is done reading, with no wakeup.
 */
void
rpc_conn_queue_out(struct rpc_conn *conn, uint8_t *data, uint32_t len,
		   const struct rpc_ref *ref, bool was_call)
{
	struct rpc_outbuf *o = NULL;
	struct rpc_ref ref_copied;
	bool sent = false, detached = false;

	mutex_assert_not_held(&conn->lock);
	if (data) {
		o = calloc(1, sizeof(*o));
		if (!o) {
			log_warn("rpc: out of memory queueing a reply; "
				 "dropped");
			free(data);
			data = NULL;
			if (ref)
				ref->release(ref->ctx);
		} else {
			o->data = data;
			o->len = len;
			if (ref)
				o->ref = *ref;
		}
	}
	mutex_lock(&conn->lock);
	if (was_call) {
		VERIFY(conn->inflight > 0);
		conn->inflight--;
	}
	if (atomic_load(&conn->closed)) {
		mutex_unlock(&conn->lock);
		if (o)
			rpc_outbuf_free(o, NULL);
		return;
	}
	if (o && was_call && !rpc_loop_inline && conn->out_bytes == 0) {
		o->off = (uint32_t)conn_send_direct_locked(conn, o);
		sent = o->off == outbuf_total(o);
		if (o->off)
			RPC_STAT_INC(conn->srv, replies_direct);
		/* The socket is full: as in conn_flush(), no pin waits
		 * for the client (released below, without the lock). */
		if (!sent)
			detached = outbuf_detach_ref(o, &ref_copied);
	}
	if (o && !sent) {
		if (conn->q_tail)
			conn->q_tail->next = o;
		else
			conn->q_head = o;
		conn->q_tail = o;
		conn->out_bytes += outbuf_total(o) - o->off;
	}
	if (rpc_loop_inline) {
		conn->inline_replies = true;	/* the loop is here already */
	} else if (!sent || !was_call || conn->backlog_waiting) {
		conn->backlog_waiting = false;
		rpc_conn_kick_locked(conn);
	}
	mutex_unlock(&conn->lock);
	if (sent)
		rpc_outbuf_free(o, NULL);	/* a worker: release here */
	if (detached)
		ref_copied.release(ref_copied.ctx);
}

static void
conn_run_hooks(struct workq_item *it)
{
	struct rpc_conn *conn = container_of(it, struct rpc_conn, hooks_item);
	struct rpc_close_hook *h;

	/* Closed: nobody adds hooks now; cancel may still remove some. */
	for (;;) {
		mutex_lock(&conn->lock);
		h = conn->hooks;
		if (h)
			conn->hooks = h->next;
		mutex_unlock(&conn->lock);
		if (!h)
			break;
		h->fn(conn, h->ctx);
		free(h);
	}
	rpc_conn_put(conn);
}

/*
 * Loop thread (or the loop has stopped): close conn now.  Unwritten output
 * is dropped, back-channel calls waiting for a reply complete with
 * -ECONNRESET and close hooks run, both on workers.  Calls still being
 * dispatched finish and their replies are dropped.  Drops the server's
 * reference.  Idempotent.
 */
void
rpc_conn_close(struct rpc_conn *conn, const char *why)
{
	struct rpc_server *srv = conn->srv;
	struct rpc_pending *pend;
	struct rpc_outbuf *q;
	bool hooks;
	char pbuf[80];

	mutex_assert_not_held(&conn->lock);
	mutex_lock(&conn->lock);
	if (atomic_load(&conn->closed)) {
		mutex_unlock(&conn->lock);
		return;
	}
	atomic_store(&conn->closed, true);
	pend = conn->pending;
	conn->pending = NULL;
	q = conn->q_head;
	conn->q_head = conn->q_tail = NULL;
	conn->out_bytes = 0;
	hooks = conn->hooks != NULL;
	mutex_unlock(&conn->lock);

	log_info("rpc: closing connection from %s: %s",
		 peer_str(&conn->peer, pbuf, sizeof(pbuf)), why);
	evloop_fd_del(srv->loop, conn->fd);
	close(conn->fd);
	conn->fd = -1;
	evloop_timer_cancel(srv->loop, &conn->idle_timer);
	outbuf_free_list(q, srv->wq);
	outbuf_free_list(conn->out_head, srv->wq);
	conn->out_head = conn->out_tail = NULL;
	rpc_record_reader_free(&conn->rr);
	free(conn->stash);
	conn->stash = NULL;
	conn->stash_len = 0;
	while (conn->backlog_head) {
		struct rpc_call_priv *cp = conn->backlog_head;

		conn->backlog_head = cp->next;
		rpc_call_discard(cp);
	}
	conn->backlog_tail = NULL;
	conn->backlog_bytes = 0;

	if (conn->prev)
		conn->prev->next = conn->next;
	else
		srv->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	conn->prev = conn->next = NULL;
	srv->nconns--;
	RPC_STAT_DEC(srv, conns_open);

	rpc_pending_fail_all(pend);
	if (hooks) {
		rpc_conn_get(conn);
		conn->hooks_item.fn = conn_run_hooks;
		workq_queue_urgent(srv->wq, &conn->hooks_item);
	}
	rpc_conn_put(conn);
}

/*
 * Loop thread: adopt an accepted socket (non-blocking already).  Over
 * max_connections the socket is closed with a log line.  Returns 0 or a
 * negative errno (the socket is closed in every case but 0).
 */
int
rpc_conn_accept(struct rpc_server *srv, int fd,
		const struct sockaddr_storage *peer)
{
	struct rpc_conn *conn;
	char pbuf[80];
	int err;

	if (srv->nconns >= srv->cfg.max_connections) {
		log_warn("rpc: connection from %s refused: max_connections "
			 "(%u) reached", peer_str(peer, pbuf, sizeof(pbuf)),
			 srv->cfg.max_connections);
		RPC_STAT_INC(srv, conns_refused);
		close(fd);
		return -EMFILE;
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		close(fd);
		return -ENOMEM;
	}
	conn->srv = srv;
	conn->fd = fd;
	atomic_init(&conn->refs, 1);
	atomic_init(&conn->closed, false);
	conn->peer = *peer;
	rpc_record_reader_init(&conn->rr, srv->cfg.max_record);
	mutex_init(&conn->lock, "rpc_conn");
	conn->wake.fn = conn_wake;
	conn->idle_timer.fn = conn_idle;
	conn->last_active_ns = clock_now_ns();
	conn->events = EVLOOP_READ;
	err = evloop_fd_add(srv->loop, fd, EVLOOP_READ, conn_event, conn);
	if (err)
		goto out_free;
	if (srv->cfg.idle_timeout_sec) {
		err = evloop_timer_arm(srv->loop, &conn->idle_timer,
				       conn->last_active_ns +
				       srv->cfg.idle_timeout_sec * NSEC_PER_SEC);
		if (err)
			goto out_del;
	}
	conn->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = conn;
	srv->conns = conn;
	srv->nconns++;
	RPC_STAT_INC(srv, conns_accepted);
	RPC_STAT_INC(srv, conns_open);
	log_debug("rpc: connection from %s", peer_str(peer, pbuf,
						       sizeof(pbuf)));
	return 0;

out_del:
	evloop_fd_del(srv->loop, fd);
out_free:
	mutex_destroy(&conn->lock);
	free(conn);
	close(fd);
	return err;
}

/* Loop thread: close a connection idle for idle_timeout_sec, else re-arm. */
static void
conn_idle(struct evloop *loop, struct evloop_timer *t)
{
	struct rpc_conn *conn = container_of(t, struct rpc_conn, idle_timer);
	uint64_t limit = conn->srv->cfg.idle_timeout_sec * NSEC_PER_SEC;
	uint64_t now = clock_now_ns();
	bool busy;

	mutex_lock(&conn->lock);
	busy = conn->inflight || conn->pending || conn->out_bytes ||
	       conn->backlog_head;
	mutex_unlock(&conn->lock);
	if (!busy && now - conn->last_active_ns >= limit) {
		rpc_conn_close(conn, "idle");
		return;
	}
	if (busy)
		conn->last_active_ns = now;
	if (evloop_timer_arm(loop, t, conn->last_active_ns + limit) < 0)
		log_warn("rpc: cannot re-arm an idle timer; connection "
			 "stays open");
}

/*
 * Register fn(conn, ctx) to run once on a worker when conn closes.
 * Any thread.  Returns 0 and *id, -ENOTCONN if already closed, -ENOMEM.
 */
int
rpc_conn_add_close_hook(struct rpc_conn *conn,
			void (*fn)(struct rpc_conn *, void *), void *ctx,
			uint64_t *id)
{
	struct rpc_close_hook *h;

	mutex_assert_not_held(&conn->lock);
	h = malloc(sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fn = fn;
	h->ctx = ctx;
	mutex_lock(&conn->lock);
	if (atomic_load(&conn->closed)) {
		mutex_unlock(&conn->lock);
		free(h);
		return -ENOTCONN;
	}
	h->id = ++conn->next_hook_id;
	h->next = conn->hooks;
	conn->hooks = h;
	*id = h->id;
	mutex_unlock(&conn->lock);
	return 0;
}

/*
 * Remove a close hook that has not started yet.  Any thread.  A hook that
 * already started is not waited for: its ctx must stay valid until it
 * returns (hold a reference in ctx).
 */
void
rpc_conn_cancel_close_hook(struct rpc_conn *conn, uint64_t id)
{
	struct rpc_close_hook **pp, *h = NULL;

	mutex_assert_not_held(&conn->lock);
	mutex_lock(&conn->lock);
	for (pp = &conn->hooks; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			h = *pp;
			*pp = h->next;
			break;
		}
	}
	mutex_unlock(&conn->lock);
	free(h);
}
