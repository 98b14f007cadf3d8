/*
 * conn.c - client connections: TCP setup, record-marked sends, the receive
 * thread that matches replies to pending calls by xid (so any number of
 * calls may be outstanding on one connection) and hands CALL records to the
 * back channel, and RPC reply header parsing (RFC 5531 §9).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_impl.h"

/* Receive buffer per read; records larger than this are reassembled. */
#define NC_RX_CHUNK		(64u * 1024)
/* First guess for an encoded call; grown by doubling up to NC_MAX_RECORD. */
#define NC_ENCODE_INITIAL	4096u
/*
 * Encoded AUTH_SYS body limit.  Legal ones are <= 400 bytes (RFC 5531 §8.2);
 * we allow more so tests can send illegal ones and see them refused.
 */
#define NC_CRED_BODY_MAX	1024u
/* RPC protocol version (RFC 5531 §9). */
#define NC_RPC_VERSION		2u

/* Hash an xid into the pending table (multiplicative, top bits). */
static unsigned
xid_bucket(uint32_t xid)
{
	return (xid * 2654435761u) >> 24 & (NC_PENDING_BUCKETS - 1);
}

/* Link call into the pending table.  Caller holds c->lock. */
static void
pending_add_locked(struct nc_conn *c, struct nc_call *call)
{
	unsigned b = xid_bucket(call->xid);

	mutex_assert_held(&c->lock);
	call->hnext = c->pending[b];
	c->pending[b] = call;
	call->pending = true;
}

/* Unlink call if it is pending.  Caller holds c->lock. */
static void
pending_del_locked(struct nc_conn *c, struct nc_call *call)
{
	struct nc_call **pp;

	mutex_assert_held(&c->lock);
	if (!call->pending)
		return;
	for (pp = &c->pending[xid_bucket(call->xid)]; *pp; pp = &(*pp)->hnext) {
		if (*pp == call) {
			*pp = call->hnext;
			break;
		}
	}
	call->pending = false;
	call->hnext = NULL;
}

/* The pending call with xid, or NULL.  Caller holds c->lock. */
static struct nc_call *
pending_find_locked(struct nc_conn *c, uint32_t xid)
{
	struct nc_call *call;

	mutex_assert_held(&c->lock);
	for (call = c->pending[xid_bucket(xid)]; call; call = call->hnext)
		if (call->xid == xid)
			return call;
	return NULL;
}

/*
 * Send one record: a single last fragment.  Locks: takes c->send_lock;
 * the caller must not hold c->lock (the receive thread needs it to make
 * progress while we may block on a full socket).
 */
int
nc_conn_send_record(struct nc_conn *c, const void *msg, size_t len)
{
	uint8_t hdr[4];
	int err;

	mutex_assert_not_held(&c->lock);
	if (len > RPC_FRAG_LEN_MASK)
		return -EMSGSIZE;
	rpc_record_mark(hdr, (uint32_t)len, true);
	mutex_lock(&c->send_lock);
	err = nc_conn_send_raw(c, hdr, sizeof(hdr));
	if (!err)
		err = nc_conn_send_raw(c, msg, len);
	mutex_unlock(&c->send_lock);
	return err;
}

/*
 * Write all bytes.  Used inside nc_conn_send_record() under send_lock and by
 * tests directly (then interleaving with other senders is theirs to avoid).
 */
int
nc_conn_send_raw(struct nc_conn *c, const void *bytes, size_t len)
{
	const uint8_t *p = bytes;

	while (len > 0) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Mark the connection closed and fail every pending call with err.  Runs on
 * the receive thread as it exits.  Completion functions run after c->lock
 * is dropped.
 */
static void
conn_fail_all(struct nc_conn *c, int err)
{
	struct nc_call *failed = NULL, *call, *next;
	unsigned i;

	mutex_lock(&c->lock);
	if (!c->closed) {
		c->closed = true;
		c->close_err = err;
	}
	for (i = 0; i < NC_PENDING_BUCKETS; i++) {
		for (call = c->pending[i]; call; call = next) {
			next = call->hnext;
			call->pending = false;
			call->completed = true;
			call->err = -ECONNRESET;
			if (call->done) {
				call->hnext = failed;
				failed = call;
			} else {
				call->hnext = NULL;
			}
		}
		c->pending[i] = NULL;
	}
	condvar_broadcast(&c->cond);
	mutex_unlock(&c->lock);
	for (call = failed; call; call = next) {
		next = call->hnext;
		call->hnext = NULL;
		call->done(call, call->ctx);
	}
}

/* A REPLY record: give it to the call with its xid, or drop it. */
static void
conn_complete(struct nc_conn *c, uint8_t *rec, uint32_t len, uint32_t xid)
{
	struct nc_call *call;
	nc_done_fn done = NULL;
	void *ctx = NULL;

	mutex_lock(&c->lock);
	call = pending_find_locked(c, xid);
	if (!call) {
		mutex_unlock(&c->lock);
		log_debug("nc: dropping reply with unknown xid %#x", xid);
		free(rec);
		return;
	}
	pending_del_locked(c, call);
	call->reply = rec;
	call->reply_len = len;
	/* Waiters cannot see this before we unlock, peek included. */
	call->completed = true;
	call->err = 0;
	if (call->peek_locked)
		call->peek_locked(call);
	done = call->done;
	ctx = call->ctx;
	condvar_broadcast(&c->cond);
	mutex_unlock(&c->lock);
	/* A waiter may free a sync call as soon as the lock is dropped. */
	if (done)
		done(call, ctx);
}

/* Dispatch one record by message type; takes ownership of rec. */
static void
conn_handle_record(struct nc_conn *c, uint8_t *rec, uint32_t len)
{
	uint32_t xid, mtype;

	if (len < 8) {
		free(rec);
		return;
	}
	xid = nc_get32(rec);
	mtype = nc_get32(rec + 4);
	if (mtype == REPLY) {
		conn_complete(c, rec, len, xid);
		return;
	}
	if (mtype == CALL)
		nc_cb_handle_call(c, rec, len);
	free(rec);
}

/* The receive thread: read, reassemble records, dispatch, until EOF. */
static void *
conn_rx_main(void *arg)
{
	struct nc_conn *c = arg;
	uint8_t *buf;
	int err = 0;

	buf = malloc(NC_RX_CHUNK);
	if (!buf) {
		conn_fail_all(c, -ENOMEM);
		return NULL;
	}
	for (;;) {
		ssize_t n = recv(c->fd, buf, NC_RX_CHUNK, 0);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n == 0 ? -ECONNRESET : -errno;
			break;
		}
		while (off < (size_t)n) {
			size_t used = 0;
			uint8_t *rec;
			uint32_t rlen;
			int ret;

			ret = rpc_record_reader_feed(&c->rr, buf + off,
						     (size_t)n - off, &used);
			off += used;
			if (ret < 0) {
				err = ret;
				goto out;
			}
			if (ret == 0)
				break;
			rpc_record_reader_take(&c->rr, &rec, &rlen);
			conn_handle_record(c, rec, rlen);
		}
	}
out:
	free(buf);
	/* A framing error leaves the stream useless: close our side too. */
	shutdown(c->fd, SHUT_RDWR);
	conn_fail_all(c, err);
	return NULL;
}

/* Resolve host and connect to the first address that answers. */
static int MUST_CHECK
conn_connect(const char *host, uint16_t port, int *fdp)
{
	struct addrinfo hints, *res = NULL, *ai;
	char portstr[8];
	int fd = -1, err, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%u", port);
	err = getaddrinfo(host, portstr, &hints, &res);
	if (err)
		return err == EAI_MEMORY ? -ENOMEM : -EHOSTUNREACH;
	err = -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
			    ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return err;
	/* Small compounds go out at once; we never batch on purpose. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	return 0;
}

/* See nfsclient.h.  Locks: none held; starts the receive thread. */
int
nc_conn_open(const char *host, uint16_t port, struct nc_conn **out)
{
	struct nc_conn *c;
	struct timespec ts;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = conn_connect(host, port, &c->fd);
	if (err)
		goto out_free;
	mutex_init(&c->lock, "nc_conn");
	mutex_init(&c->send_lock, "nc_conn_send");
	condvar_init(&c->cond);
	rpc_record_reader_init(&c->rr, NC_MAX_RECORD);
	c->cred_flavor = AUTH_NONE;
	/* Distinct xids across connections and runs make traces readable. */
	clock_gettime(CLOCK_REALTIME, &ts);
	c->next_xid = (uint32_t)(ts.tv_nsec ^ (ts.tv_sec << 20) ^
				 ((uint32_t)getpid() << 8) ^
				 (uint32_t)(uintptr_t)c);
	err = -pthread_create(&c->rx, NULL, conn_rx_main, c);
	if (err)
		goto out_close;
	c->rx_started = true;
	*out = c;
	return 0;

out_close:
	rpc_record_reader_free(&c->rr);
	condvar_destroy(&c->cond);
	mutex_destroy(&c->send_lock);
	mutex_destroy(&c->lock);
	close(c->fd);
out_free:
	free(c);
	return err;
}

/* See nfsclient.h.  Locks: none held; joins the receive thread. */
void
nc_conn_close(struct nc_conn *c)
{
	if (!c)
		return;
	shutdown(c->fd, SHUT_RDWR);
	if (c->rx_started)
		pthread_join(c->rx, NULL);
	close(c->fd);
	rpc_record_reader_free(&c->rr);
	nc_cb_free(c);
	free(c->cred_machine);
	free(c->cred_gids);
	condvar_destroy(&c->cond);
	mutex_destroy(&c->send_lock);
	mutex_destroy(&c->lock);
	free(c);
}

/* See nfsclient.h.  Locks: takes c->lock. */
int
nc_conn_set_cred(struct nc_conn *c, const struct nc_cred *cred)
{
	char *machine = NULL;
	uint32_t *gids = NULL;

	machine = strdup(cred->machine ? cred->machine : "");
	if (!machine)
		return -ENOMEM;
	if (cred->ngids) {
		gids = calloc(cred->ngids, sizeof(*gids));
		if (!gids) {
			free(machine);
			return -ENOMEM;
		}
		memcpy(gids, cred->gids, cred->ngids * sizeof(*gids));
	}
	mutex_lock(&c->lock);
	free(c->cred_machine);
	free(c->cred_gids);
	c->cred_flavor = cred->flavor;
	c->cred_stamp = cred->stamp;
	c->cred_machine = machine;
	c->cred_uid = cred->uid;
	c->cred_gid = cred->gid;
	c->cred_ngids = cred->ngids;
	c->cred_gids = gids;
	mutex_unlock(&c->lock);
	return 0;
}

/* See nfsclient.h. */
int
nc_conn_set_auth_sys(struct nc_conn *c, uint32_t uid, uint32_t gid)
{
	struct nc_cred cred;
	char machine[32];

	snprintf(machine, sizeof(machine), "nc-%d", (int)getpid());
	memset(&cred, 0, sizeof(cred));
	cred.flavor = AUTH_SYS;
	cred.stamp = (uint32_t)time(NULL);
	cred.machine = machine;
	cred.uid = uid;
	cred.gid = gid;
	cred.ngids = 1;
	cred.gids = &gid;
	return nc_conn_set_cred(c, &cred);
}

/* See nfsclient.h.  Locks: takes c->lock. */
bool
nc_conn_is_closed(struct nc_conn *c)
{
	bool closed;

	mutex_lock(&c->lock);
	closed = c->closed;
	mutex_unlock(&c->lock);
	return closed;
}

/* See nfsclient.h.  Locks: takes c->lock. */
int
nc_conn_wait_closed(struct nc_conn *c, uint64_t timeout_ns)
{
	uint64_t deadline = clock_now_ns() + timeout_ns;
	int err = 0;

	mutex_lock(&c->lock);
	while (!c->closed && err == 0)
		err = condvar_wait_until(&c->cond, &c->lock, deadline);
	err = c->closed ? 0 : -ETIMEDOUT;
	mutex_unlock(&c->lock);
	return err;
}

/* See nfsclient.h.  Locks: takes c->lock. */
uint32_t
nc_conn_next_xid(struct nc_conn *c)
{
	uint32_t xid;

	mutex_lock(&c->lock);
	xid = c->next_xid++;
	mutex_unlock(&c->lock);
	return xid;
}

/*
 * Encode the call header (RFC 5531 §9 call_body up to the verifier) with
 * c's credential.  Locks: takes c->lock to read the credential.
 */
static bool
encode_call_header(struct nc_conn *c, XDR *x, uint32_t xid, uint32_t prog,
		   uint32_t vers, uint32_t proc)
{
	uint32_t v[6] = { xid, CALL, NC_RPC_VERSION, prog, vers, proc };
	/* Room for over-limit credentials that tests send on purpose. */
	uint8_t body[NC_CRED_BODY_MAX];
	XDR bx;
	uint32_t flavor, zero = 0, blen = 0, i;
	bool ok = true;
	unsigned k;

	for (k = 0; k < ARRAY_SIZE(v) && ok; k++)
		ok = xdr_u_int32_t(x, &v[k]);
	if (!ok)
		return false;
	mutex_lock(&c->lock);
	flavor = c->cred_flavor;
	if (flavor == AUTH_SYS) {
		char *m = c->cred_machine ? c->cred_machine : "";
		size_t mlen = strlen(m);

		/* Tests may send oversized credentials: let XDR fail cleanly
		 * rather than overflow, and say so below. */
		xdrmem_create(&bx, (char *)body, sizeof(body), XDR_ENCODE);
		ok = xdr_u_int32_t(&bx, &c->cred_stamp) &&
		     mlen < sizeof(body) / 2 &&
		     xdr_string(&bx, &m, (u_int)sizeof(body)) &&
		     xdr_u_int32_t(&bx, &c->cred_uid) &&
		     xdr_u_int32_t(&bx, &c->cred_gid) &&
		     xdr_u_int32_t(&bx, &c->cred_ngids);
		for (i = 0; ok && i < c->cred_ngids; i++)
			ok = xdr_u_int32_t(&bx, &c->cred_gids[i]);
		blen = xdr_getpos(&bx);
		xdr_destroy(&bx);
	}
	mutex_unlock(&c->lock);
	if (!ok)
		return false;
	if (!xdr_u_int32_t(x, &flavor) || !xdr_u_int32_t(x, &blen))
		return false;
	if (blen && !xdr_opaque(x, (char *)body, blen))
		return false;
	/* Verifier: AUTH_NONE, empty. */
	return xdr_u_int32_t(x, &zero) && xdr_u_int32_t(x, &zero);
}

/* See nfsclient.h.  Locks: takes c->lock briefly. */
int
nc_encode_call(struct nc_conn *c, uint32_t xid, uint32_t prog, uint32_t vers,
	       uint32_t proc, xdrproc_t enc, const void *args, void *buf,
	       size_t cap, size_t *len)
{
	XDR x;
	bool ok;

	if (cap > RPC_FRAG_LEN_MASK)
		cap = RPC_FRAG_LEN_MASK;
	xdrmem_create(&x, buf, (u_int)cap, XDR_ENCODE);
	ok = encode_call_header(c, &x, xid, prog, vers, proc);
	if (ok && enc)
		ok = enc(&x, (void *)args);
	*len = xdr_getpos(&x);
	xdr_destroy(&x);
	return ok ? 0 : -ENOSPC;
}

/* A new call, not yet pending; err says "in progress" until completed. */
static struct nc_call *
call_alloc(struct nc_conn *c, uint32_t xid, nc_done_fn done, void *ctx)
{
	struct nc_call *call = calloc(1, sizeof(*call));

	if (!call)
		return NULL;
	call->conn = c;
	call->xid = xid;
	call->done = done;
	call->ctx = ctx;
	call->err = -EINPROGRESS;
	return call;
}

/*
 * Register call, send msg as one record.  The call is in the table before
 * the first byte leaves so a fast reply always finds it.
 */
static int MUST_CHECK
call_send(struct nc_conn *c, struct nc_call *call, const void *msg,
	  size_t len)
{
	int err;

	mutex_lock(&c->lock);
	if (c->closed) {
		mutex_unlock(&c->lock);
		return -ECONNRESET;
	}
	if (pending_find_locked(c, call->xid)) {
		mutex_unlock(&c->lock);
		return -EEXIST;
	}
	pending_add_locked(c, call);
	mutex_unlock(&c->lock);
	err = nc_conn_send_record(c, msg, len);
	if (err) {
		mutex_lock(&c->lock);
		/* The receive thread may have failed it meanwhile. */
		if (call->pending)
			pending_del_locked(c, call);
		mutex_unlock(&c->lock);
	}
	return err;
}

/* Encode and send a call; the common part of the nc_call_start variants. */
static int MUST_CHECK
call_start(struct nc_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
	   xdrproc_t enc, const void *args, nc_done_fn done, void *ctx,
	   void (*peek_locked)(struct nc_call *call), struct nc_call **out)
{
	struct nc_call *call;
	size_t cap = NC_ENCODE_INITIAL, len = 0;
	uint8_t *buf = NULL;
	int err;

	call = call_alloc(c, nc_conn_next_xid(c), done, ctx);
	if (!call)
		return -ENOMEM;
	call->peek_locked = peek_locked;
	for (;;) {
		uint8_t *nbuf = realloc(buf, cap);

		if (!nbuf) {
			err = -ENOMEM;
			goto out_free;
		}
		buf = nbuf;
		err = nc_encode_call(c, call->xid, prog, vers, proc, enc, args,
				     buf, cap, &len);
		if (err != -ENOSPC)
			break;
		if (cap >= NC_MAX_RECORD)
			goto out_free;
		cap *= 2;
	}
	if (err)
		goto out_free;
	err = call_send(c, call, buf, len);
	if (err)
		goto out_free;
	free(buf);
	*out = call;
	return 0;

out_free:
	free(buf);
	free(call);
	return err;
}

/* See nfsclient.h.  Locks: none held by the caller. */
int
nc_call_start(struct nc_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
	      xdrproc_t enc, const void *args, nc_done_fn done, void *ctx,
	      struct nc_call **out)
{
	return call_start(c, prog, vers, proc, enc, args, done, ctx, NULL, out);
}

/* See client_impl.h.  Locks: none held by the caller. */
int
nc_call_start_peek(struct nc_conn *c, uint32_t prog, uint32_t vers,
		   uint32_t proc, xdrproc_t enc, const void *args,
		   void (*peek_locked)(struct nc_call *call), void *peek_ctx,
		   struct nc_call **out)
{
	return call_start(c, prog, vers, proc, enc, args, NULL, peek_ctx,
			  peek_locked, out);
}

/* See nfsclient.h.  Locks: none held by the caller. */
int
nc_call_start_raw(struct nc_conn *c, const void *msg, size_t len,
		  nc_done_fn done, void *ctx, struct nc_call **out)
{
	struct nc_call *call;
	int err;

	if (len < 4)
		return -EINVAL;
	call = call_alloc(c, nc_get32(msg), done, ctx);
	if (!call)
		return -ENOMEM;
	err = call_send(c, call, msg, len);
	if (err) {
		free(call);
		return err;
	}
	*out = call;
	return 0;
}

/* See nfsclient.h.  Locks: takes the call's connection lock. */
int
nc_call_wait(struct nc_call *call, uint64_t timeout_ns)
{
	struct nc_conn *c = call->conn;
	uint64_t deadline = clock_now_ns() + timeout_ns;
	int err;

	ASSERT(call->done == NULL);
	mutex_lock(&c->lock);
	while (!call->completed) {
		if (condvar_wait_until(&c->cond, &c->lock, deadline) &&
		    !call->completed) {
			mutex_unlock(&c->lock);
			return -ETIMEDOUT;
		}
	}
	err = call->err;
	mutex_unlock(&c->lock);
	return err;
}

/* See nfsclient.h.  Meaningful after completion (done ran / wait returned). */
int
nc_call_error(struct nc_call *call)
{
	return call->completed ? call->err : -EINPROGRESS;
}

/* See nfsclient.h.  No locks: the xid never changes. */
uint32_t
nc_call_xid(const struct nc_call *call)
{
	return call->xid;
}

/*
 * See nfsclient.h.  Call only after completion (done ran or wait returned
 * 0): the receive thread no longer writes the call then.
 */
const uint8_t *
nc_call_reply(const struct nc_call *call, uint32_t *len)
{
	*len = call->completed ? call->reply_len : 0;
	return call->completed ? call->reply : NULL;
}

/*
 * See nfsclient.h.  Locks: takes the connection lock only while the call is
 * pending; a completed call no longer touches its connection, so it may be
 * freed after nc_conn_close().
 */
void
nc_call_free(struct nc_call *call)
{
	if (!call)
		return;
	if (!call->completed) {
		mutex_lock(&call->conn->lock);
		pending_del_locked(call->conn, call);
		mutex_unlock(&call->conn->lock);
	}
	free(call->reply);
	free(call);
}

/* See nfsclient.h. */
int
nc_call_parse(const struct nc_call *call, struct nc_rpc_reply *out)
{
	const uint8_t *p = call->reply;
	uint32_t len = call->reply_len, off, vlen;

	if (!call->completed)
		return -EINPROGRESS;
	if (call->err)
		return call->err;
	memset(out, 0, sizeof(*out));
	if (len < 12 || nc_get32(p + 4) != REPLY)
		return -EBADMSG;
	out->xid = nc_get32(p);
	out->reply_stat = nc_get32(p + 8);
	off = 12;
	if (out->reply_stat == MSG_ACCEPTED) {
		if (len < off + 8)
			return -EBADMSG;
		vlen = nc_get32(p + off + 4);
		if (vlen > NC_MAX_AUTH_BYTES ||
		    len < off + 8 + ROUND_UP(vlen, 4) + 4)
			return -EBADMSG;
		off += 8 + ROUND_UP(vlen, 4);
		out->accept_stat = nc_get32(p + off);
		off += 4;
		if (out->accept_stat == PROG_MISMATCH) {
			if (len < off + 8)
				return -EBADMSG;
			out->low = nc_get32(p + off);
			out->high = nc_get32(p + off + 4);
			off += 8;
		}
		out->body_off = off;
		return 0;
	}
	if (out->reply_stat != MSG_DENIED || len < off + 4)
		return -EBADMSG;
	out->reject_stat = nc_get32(p + off);
	off += 4;
	if (out->reject_stat == RPC_MISMATCH) {
		if (len < off + 8)
			return -EBADMSG;
		out->low = nc_get32(p + off);
		out->high = nc_get32(p + off + 4);
	} else if (out->reject_stat == AUTH_ERROR) {
		if (len < off + 4)
			return -EBADMSG;
		out->auth_stat = nc_get32(p + off);
	} else {
		return -EBADMSG;
	}
	out->body_off = len;
	return 0;
}

/* See nfsclient.h. */
int
nc_call_decode(const struct nc_call *call, xdrproc_t dec, void *res,
	       size_t res_size)
{
	struct nc_rpc_reply r;
	XDR x;
	int err;

	err = nc_call_parse(call, &r);
	if (err)
		return err;
	if (r.reply_stat != MSG_ACCEPTED || r.accept_stat != SUCCESS)
		return -EPROTO;
	memset(res, 0, res_size);
	xdrmem_create(&x, (char *)call->reply + r.body_off,
		      call->reply_len - r.body_off, XDR_DECODE);
	if (!dec(&x, res)) {
		xdr_destroy(&x);
		xdr_free(dec, res);
		memset(res, 0, res_size);
		return -EBADMSG;
	}
	xdr_destroy(&x);
	return 0;
}

/* See nfsclient.h.  No locks. */
void
nc_res_free(xdrproc_t dec, void *res)
{
	xdr_free(dec, res);
}

/* See nfsclient.h.  Locks: none held by the caller. */
int
nc_null(struct nc_conn *c, uint32_t prog, uint32_t vers,
	struct nc_rpc_reply *reply)
{
	struct nc_call *call;
	int err;

	err = nc_call_start(c, prog, vers, 0, NULL, NULL, NULL, NULL, &call);
	if (err)
		return err;
	err = nc_call_wait(call, NC_DEFAULT_TIMEOUT_NS);
	if (!err)
		err = nc_call_parse(call, reply);
	nc_call_free(call);
	return err;
}
