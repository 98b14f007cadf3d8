/*
 * test_rpc_server.c - the RPC server over real sockets on 127.0.0.1 and
 * ::1: call decoding and every rejection RFC 5531 §9 defines, AUTH_SYS
 * limits (appendix A), pipelining, flow control, the worker block budget,
 * back-channel calls answered / timed out / cut off, stray replies,
 * connection limits and close hooks.
 *
 * The server runs in-process with a test program; the client side is raw
 * sockets and hand-built records, so the test does not trust our own
 * client code to check the server.
 */
#include "config.h"

#include <rpc/rpc.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <stdatomic.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "rpc.h"
#include "../testlib.h"

#define TEST_PROG		0x20000099u
#define TEST_PROG_SYSONLY	0x2000009au
#define TEST_CB_PROG		0x40000099u
#define TEST_PROG_INLINE	0x2000009bu
/* Every wait in this test ends by this bound; real latencies are ms. */
#define TEST_DEADLINE_MS	5000
#define TEST_MAX_RECORD		(64 * 1024)
#define TEST_MAX_REPLY		(32 * 1024)
/* Small, so a client that does not read hits it quickly. */
#define TEST_MAX_CONN_MEMORY	(256 * 1024)

enum { P_NULL, P_ECHO, P_BLOCK, P_CALLBACK, P_PARK, P_REF, P_NPROCS };

static struct rpc_server *srv;
static pthread_t srv_thread;
static uint16_t port4, port6;
static bool have_ipv6;

/* --- state shared with the dispatch functions ----------------------- */

static struct mutex tlock;
static struct condvar tcv;
static int nblocked;		/* proc 2 callers waiting at the gate */
static bool gate_open;
static int close_hooks_run;
static int last_cb_err = 1;	/* 1: no back-channel result yet */
static atomic_int dispatch_errors;	/* checks that failed inside dispatch */
static struct {
	uint32_t xid, reclen, argend;
} last_echo;				/* what proc 1 saw of its call */

static void
wait_until(bool (*cond)(void))
{
	uint64_t deadline = clock_now_ns() + TEST_DEADLINE_MS * NSEC_PER_MSEC;

	mutex_lock(&tlock);
	while (!cond())
		if (condvar_wait_until(&tcv, &tlock, deadline) == -ETIMEDOUT)
			break;
	mutex_unlock(&tlock);
}

static void
close_hook(struct rpc_conn *conn, void *ctx)
{
	mutex_lock(&tlock);
	close_hooks_run++;
	condvar_broadcast(&tcv);
	mutex_unlock(&tlock);
}

static enum rpc_disp
proc_null(struct rpc_call *call)
{
	uint64_t id;

	/* Version 2 NULL also registers a close hook. */
	if (call->vers == 2 &&
	    rpc_conn_add_close_hook(call->conn, close_hook, NULL, &id) < 0)
		return RPC_DISP_SYSTEM_ERR;
	return RPC_DISP_REPLY;
}

/* Echo the opaque, then the caller's flavor, uid and gid count. */
static enum rpc_disp
proc_echo(struct rpc_call *call)
{
	char *data = NULL;
	u_int len = 0;
	uint32_t junk = 0xdeadbeef, tail[3], pos;
	uint8_t copy[8];
	enum rpc_disp d = RPC_DISP_SYSTEM_ERR;

	if (!xdr_bytes(call->args, &data, &len, TEST_MAX_RECORD))
		return RPC_DISP_GARBAGE;
	mutex_lock(&tlock);
	last_echo.xid = call->xid;
	last_echo.reclen = rpc_call_record_len(call);
	last_echo.argend = xdr_getpos(call->args);
	mutex_unlock(&tlock);
	/* Encode something, roll it back: only the real result must remain. */
	if (rpc_call_res_pos(call) != 0 || !xdr_uint32_t(call->res, &junk) ||
	    rpc_call_res_pos(call) != 4 || rpc_call_res_truncate(call, 0) < 0 ||
	    rpc_call_res_truncate(call, 4) != -ERANGE)
		atomic_fetch_add(&dispatch_errors, 1);
	/* Big echoes reserve first; past max_reply that fails up front. */
	if (len > 8192 && rpc_call_res_reserve(call, 4 + ROUND_UP(len, 4) + 12)) {
		if (len + 16 <= TEST_MAX_REPLY)
			atomic_fetch_add(&dispatch_errors, 1);
		goto out;
	}
	if (!xdr_bytes(call->res, &data, &len, ~0u))
		goto out;	/* past max_reply: SYSTEM_ERR */
	pos = rpc_call_res_pos(call);
	if (pos != 4 + ROUND_UP(len, 4) || rpc_call_res_copy(call, 0, 4, copy) ||
	    copy[0] != (len >> 24 & 0xff) || copy[3] != (len & 0xff) ||
	    rpc_call_res_copy(call, pos - 2, 4, copy) != -ERANGE)
		atomic_fetch_add(&dispatch_errors, 1);
	tail[0] = call->cred.flavor;
	tail[1] = call->cred.uid;
	tail[2] = call->cred.ngids;
	for (int i = 0; i < 3; i++)
		if (!xdr_uint32_t(call->res, &tail[i]))
			goto out;
	d = RPC_DISP_REPLY;
out:
	free(data);
	return d;
}

static bool
gate_cond(void)
{
	return gate_open;
}

/* Block at the gate if the budget allows: reply 0; else reply 1 at once. */
static enum rpc_disp
proc_block(struct rpc_call *call)
{
	uint32_t r = 1;

	if (rpc_worker_may_block()) {
		mutex_lock(&tlock);
		nblocked++;
		condvar_broadcast(&tcv);
		mutex_unlock(&tlock);
		wait_until(gate_cond);
		mutex_lock(&tlock);
		nblocked--;
		condvar_broadcast(&tcv);
		mutex_unlock(&tlock);
		rpc_worker_unblock();
		r = 0;
	}
	return xdr_uint32_t(call->res, &r) ? RPC_DISP_REPLY :
	       RPC_DISP_SYSTEM_ERR;
}

struct cb_wait {
	bool	done;
	int	err;
	char	*body;
	u_int	len;
};

static bool
cb_encode(XDR *x, void *arg)
{
	struct { char *p; u_int len; } *a = arg;

	return xdr_bytes(x, &a->p, &a->len, ~0u);
}

static void
cb_done(void *ctx, int err, XDR *reply)
{
	struct cb_wait *w = ctx;

	mutex_lock(&tlock);
	if (w->done)
		atomic_fetch_add(&dispatch_errors, 1);	/* not exactly once */
	w->err = err;
	if (!err && !xdr_bytes(reply, &w->body, &w->len, 4096))
		w->err = -EBADMSG;
	if (err && reply)
		atomic_fetch_add(&dispatch_errors, 1);
	w->done = true;
	last_cb_err = w->err;
	condvar_broadcast(&tcv);
	mutex_unlock(&tlock);
}

/*
 * Args: timeout in ms, opaque payload.  Sends the payload to the caller's
 * connection as a back-channel call and replies with (err, reply opaque).
 */
static enum rpc_disp
proc_callback(struct rpc_call *call)
{
	struct { char *p; u_int len; } a = { NULL, 0 };
	struct cb_wait *w;
	uint32_t tmo;
	int32_t err;
	uint64_t deadline;
	enum rpc_disp d = RPC_DISP_SYSTEM_ERR;
	struct rpc_cred cred = { .flavor = AUTH_SYS, .uid = 7, .gid = 8,
				 .ngids = 1, .gids = { 9 }, .machine = "srv" };

	if (!xdr_uint32_t(call->args, &tmo) ||
	    !xdr_bytes(call->args, &a.p, &a.len, 4096)) {
		free(a.p);
		return RPC_DISP_GARBAGE;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !rpc_worker_may_block())
		goto out;
	err = rpc_conn_call(call->conn, TEST_CB_PROG, 1, 1, &cred, cb_encode,
			    &a, tmo * NSEC_PER_MSEC, cb_done, w);
	if (err == 0) {
		deadline = clock_now_ns() + 2 * TEST_DEADLINE_MS * NSEC_PER_MSEC;
		mutex_lock(&tlock);
		while (!w->done &&
		       condvar_wait_until(&tcv, &tlock, deadline) != -ETIMEDOUT)
			;
		err = w->done ? w->err : -EDEADLK;
		mutex_unlock(&tlock);
	}
	rpc_worker_unblock();
	if (xdr_int32_t(call->res, &err) &&
	    xdr_bytes(call->res, &w->body, &w->len, 4096))
		d = RPC_DISP_REPLY;
out:
	if (w)
		free(w->body);
	free(w);
	free(a.p);
	return d;
}

static struct rpc_call *parked;		/* proc 4's call, until finished */

/* Park the call; the test finishes it with rpc_call_finish(). */
static enum rpc_disp
proc_park(struct rpc_call *call)
{
	mutex_lock(&tlock);
	parked = call;
	condvar_broadcast(&tcv);
	mutex_unlock(&tlock);
	return RPC_DISP_ASYNC;
}

/* Bulk data proc 5 sends by reference, and its release accounting. */
#define REF_DATA	(TEST_MAX_REPLY - 64)
static uint8_t ref_data[REF_DATA];
static atomic_int refs_taken, refs_released;

static void
ref_release(void *ctx)
{
	if (ctx != ref_data)
		atomic_fetch_add(&dispatch_errors, 1);
	atomic_fetch_add(&refs_released, 1);
}

enum { REF_PLAIN, REF_TRAILER, REF_TRUNCATE, REF_COPY, REF_SYSERR, REF_TOO_BIG };

/*
 * Args: mode, length.  Replies opaque<length> of ref_data by reference,
 * then per mode: nothing, a trailing word (copies the data in), a rollback
 * to before it and a word 5, a check of res_copy across it, SYSTEM_ERR, or
 * a length past max_reply (must fail without taking the reference).
 */
static enum rpc_disp
proc_ref(struct rpc_call *call)
{
	static uint8_t copy[REF_DATA + 8];
	uint32_t mode, len, w = 0xabcd, pos, five = 5;
	int err;

	if (!xdr_uint32_t(call->args, &mode) || !xdr_uint32_t(call->args, &len))
		return RPC_DISP_GARBAGE;
	if (mode == REF_TOO_BIG) {
		err = rpc_call_res_put_ref(call, ref_data, TEST_MAX_REPLY,
					   ref_release, ref_data);
		if (err != -EMSGSIZE)
			atomic_fetch_add(&dispatch_errors, 1);
		return RPC_DISP_SYSTEM_ERR;
	}
	if (len > REF_DATA)
		return RPC_DISP_GARBAGE;
	pos = rpc_call_res_pos(call);
	atomic_fetch_add(&refs_taken, 1);
	if (rpc_call_res_put_ref(call, ref_data, len, ref_release, ref_data)) {
		atomic_fetch_add(&refs_released, 1);	/* not taken after all */
		return RPC_DISP_SYSTEM_ERR;
	}
	if (rpc_call_res_pos(call) != pos + 4 + ROUND_UP(len, 4))
		atomic_fetch_add(&dispatch_errors, 1);
	switch (mode) {
	case REF_TRAILER:
		return xdr_uint32_t(call->res, &w) ? RPC_DISP_REPLY :
		       RPC_DISP_SYSTEM_ERR;
	case REF_TRUNCATE:
		if (rpc_call_res_truncate(call, pos) ||
		    !xdr_uint32_t(call->res, &five))
			return RPC_DISP_SYSTEM_ERR;
		return RPC_DISP_REPLY;
	case REF_COPY:
		/* From inside the length word to the end of the padding. */
		if (rpc_call_res_copy(call, pos + 2, 2 + ROUND_UP(len, 4), copy) ||
		    copy[0] != (len >> 8 & 0xff) || copy[1] != (len & 0xff) ||
		    memcmp(copy + 2, ref_data, len) != 0 ||
		    (len % 4 && copy[2 + len] != 0) ||
		    rpc_call_res_copy(call, pos, 8 + ROUND_UP(len, 4), copy) !=
		    -ERANGE)
			atomic_fetch_add(&dispatch_errors, 1);
		return RPC_DISP_REPLY;
	case REF_SYSERR:
		return RPC_DISP_SYSTEM_ERR;
	default:
		return RPC_DISP_REPLY;
	}
}

static enum rpc_disp
test_dispatch(struct rpc_call *call)
{
	switch (call->proc) {
	case P_NULL:		return proc_null(call);
	case P_ECHO:		return proc_echo(call);
	case P_BLOCK:		return proc_block(call);
	case P_CALLBACK:	return proc_callback(call);
	case P_PARK:		return proc_park(call);
	case P_REF:		return proc_ref(call);
	}
	return RPC_DISP_SYSTEM_ERR;
}

static const struct rpc_program test_prog = {
	.name = "test", .prog = TEST_PROG, .vers_low = 1, .vers_high = 2,
	.nprocs = P_NPROCS,
	.flavors_ok = 1u << AUTH_NONE | 1u << AUTH_SYS,
	.dispatch = test_dispatch,
};

static const struct rpc_program test_prog_sysonly = {
	.name = "sysonly", .prog = TEST_PROG_SYSONLY, .vers_low = 1,
	.vers_high = 1, .nprocs = 1, .flavors_ok = 1u << AUTH_SYS,
	.dispatch = test_dispatch,
};

/*
 * A program whose proc 0 the loop may run itself (inline_ok) and proc 1
 * not.  Both answer where they ran: on the loop or not, and whether the
 * block budget was offered; inline_ok also sees exactly the arguments.
 */
enum { PI_FAST, PI_SLOW, PI_NPROCS };

static uint32_t
rpc_get_u32_for_test(const void *p)
{
	const uint8_t *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}
static atomic_int inline_ok_bad_args;	/* inline_ok saw wrong bytes */

static bool
inline_test_ok(void *ctx, uint32_t vers, uint32_t proc, const void *args,
	       uint32_t len)
{
	/* Every call of this program carries one word: 0xfeed0000 + proc. */
	if (ctx != &inline_ok_bad_args || vers != 1 || len != 4 ||
	    rpc_get_u32_for_test(args) != 0xfeed0000u + proc)
		atomic_fetch_add(&inline_ok_bad_args, 1);
	return proc == PI_FAST;
}

static enum rpc_disp
inline_test_dispatch(struct rpc_call *call)
{
	uint32_t arg, where[2];
	bool mb;

	if (!xdr_uint32_t(call->args, &arg) || arg != 0xfeed0000u + call->proc)
		return RPC_DISP_GARBAGE;
	mb = rpc_worker_may_block();
	if (mb)
		rpc_worker_unblock();
	where[0] = rpc_on_loop_thread();
	where[1] = mb;
	if (!xdr_uint32_t(call->res, &where[0]) ||
	    !xdr_uint32_t(call->res, &where[1]))
		return RPC_DISP_SYSTEM_ERR;
	return RPC_DISP_REPLY;
}

static const struct rpc_program test_prog_inline = {
	.name = "inline", .prog = TEST_PROG_INLINE, .vers_low = 1,
	.vers_high = 1, .nprocs = PI_NPROCS,
	.flavors_ok = 1u << AUTH_NONE | 1u << AUTH_SYS,
	.dispatch = inline_test_dispatch,
	.inline_ok = inline_test_ok, .inline_ctx = &inline_ok_bad_args,
};

/* --- raw client ------------------------------------------------------- */

static int
connect_to(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_addr = in6addr_loopback;
		s6->sin6_port = htons(port);
		len = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		s4->sin_port = htons(port);
		len = sizeof(*s4);
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	/* Fragments go out in several writes: do not let Nagle hold them. */
	REQUIRE(setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0);
	REQUIRE(connect(fd, (struct sockaddr *)&ss, len) == 0);
	return fd;
}

static void
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		REQUIRE(n > 0);
		p += n;
		len -= (size_t)n;
	}
}

/* Send body as one record split into nfrag fragments. */
static void
send_record(int fd, const void *body, uint32_t len, uint32_t nfrag)
{
	const uint8_t *p = body;
	uint32_t per = nfrag > 1 ? len / nfrag : len;
	uint8_t hdr[4];

	for (uint32_t i = 0; i < nfrag; i++) {
		uint32_t l = i + 1 == nfrag ? len - per * i : per;

		rpc_record_mark(hdr, l, i + 1 == nfrag);
		write_all(fd, hdr, 4);
		write_all(fd, p + per * i, l);
	}
}

/* Read exactly len bytes by the deadline: 0, -1 on EOF/error, -2 timeout. */
static int
read_exact(int fd, uint8_t *p, size_t len, uint64_t deadline)
{
	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		uint64_t now = clock_now_ns();
		ssize_t n;

		if (now >= deadline)
			return -2;
		if (poll(&pfd, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) <= 0)
			continue;
		n = read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read one record within the deadline, fragment by fragment, never past
 * its end.  Returns its length (*out malloc'ed), -1 on EOF or error, -2 on
 * timeout.
 */
static int
recv_record_ms(int fd, uint8_t **out, int timeout_ms)
{
	uint64_t deadline = clock_now_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
	uint8_t hdr[4], *buf = NULL, *nb;
	uint32_t h, flen, len = 0;
	int r;

	do {
		r = read_exact(fd, hdr, 4, deadline);
		if (r)
			goto fail;
		h = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
		    (uint32_t)hdr[2] << 8 | hdr[3];
		flen = h & RPC_FRAG_LEN_MASK;
		REQUIRE(len + flen <= (1u << 24));
		nb = realloc(buf, len + flen + 1);
		REQUIRE(nb);
		buf = nb;
		r = read_exact(fd, buf + len, flen, deadline);
		if (r)
			goto fail;
		len += flen;
	} while (!(h & RPC_LAST_FRAG));
	*out = buf;
	return (int)len;
fail:
	free(buf);
	return r;
}

static int
recv_record(int fd, uint8_t **out)
{
	return recv_record_ms(fd, out, TEST_DEADLINE_MS);
}

static uint32_t
rpc_get32_test(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* A call message under construction. */
struct msg {
	uint8_t	buf[TEST_MAX_RECORD * 2];
	XDR	x;
};

static void
msg_call(struct msg *m, uint32_t xid, uint32_t rpcvers, uint32_t prog,
	 uint32_t vers, uint32_t proc)
{
	uint32_t h[6] = { xid, 0, rpcvers, prog, vers, proc };

	xdrmem_create(&m->x, (char *)m->buf, sizeof(m->buf), XDR_ENCODE);
	for (int i = 0; i < 6; i++)
		REQUIRE(xdr_uint32_t(&m->x, &h[i]));
}

static void
msg_u32(struct msg *m, uint32_t v)
{
	REQUIRE(xdr_uint32_t(&m->x, &v));
}

static void
msg_opaque(struct msg *m, const void *p, uint32_t len)
{
	char *c = (char *)(uintptr_t)p;

	REQUIRE(xdr_bytes(&m->x, &c, &len, ~0u));
}

static void
msg_auth_none(struct msg *m)
{
	msg_u32(m, AUTH_NONE);
	msg_u32(m, 0);
	msg_u32(m, AUTH_NONE);
	msg_u32(m, 0);
}

/* AUTH_SYS credential with a machine name of mlen 'm's and ngids gids. */
static void
msg_auth_sys(struct msg *m, uint32_t uid, uint32_t mlen, uint32_t ngids)
{
	struct msg body;
	char name[512];
	uint32_t blen;

	memset(name, 'm', sizeof(name));
	xdrmem_create(&body.x, (char *)body.buf, sizeof(body.buf), XDR_ENCODE);
	msg_u32(&body, 12345);		/* stamp */
	msg_opaque(&body, name, mlen);
	msg_u32(&body, uid);
	msg_u32(&body, 100);
	msg_u32(&body, ngids);
	for (uint32_t i = 0; i < ngids; i++)
		msg_u32(&body, 1000 + i);
	blen = xdr_getpos(&body.x);
	msg_u32(m, AUTH_SYS);
	msg_opaque(m, body.buf, blen);
	msg_u32(m, AUTH_NONE);
	msg_u32(m, 0);
}

/* Append m as one record-marked record at dst; returns the bytes added. */
static size_t
msg_to_stream(struct msg *m, uint8_t *dst)
{
	uint32_t len = xdr_getpos(&m->x);

	rpc_record_mark(dst, len, true);
	memcpy(dst + 4, m->buf, len);
	return 4 + (size_t)len;
}

static void
msg_send(struct msg *m, int fd, uint32_t nfrag)
{
	send_record(fd, m->buf, xdr_getpos(&m->x), nfrag);
}

/* A parsed reply. */
struct reply {
	uint8_t		*rec;
	int		len;
	uint32_t	xid, reply_stat, stat;	/* accept or reject stat */
	uint32_t	body[8];		/* following words */
	uint32_t	nbody;
	XDR		x;			/* at the accepted body */
};

static bool
reply_parse(struct reply *r)
{
	uint32_t w[8], vlen;

	if (r->len < 12)
		return false;
	xdrmem_create(&r->x, (char *)r->rec, (u_int)r->len, XDR_DECODE);
	if (!xdr_uint32_t(&r->x, &r->xid) || !xdr_uint32_t(&r->x, &w[0]) ||
	    w[0] != 1 || !xdr_uint32_t(&r->x, &r->reply_stat))
		return false;
	if (r->reply_stat == MSG_ACCEPTED) {
		if (!xdr_uint32_t(&r->x, &w[1]) || !xdr_uint32_t(&r->x, &vlen) ||
		    w[1] != AUTH_NONE || vlen != 0 ||
		    !xdr_uint32_t(&r->x, &r->stat))
			return false;
	} else if (!xdr_uint32_t(&r->x, &r->stat)) {
		return false;
	}
	/* Peek at what follows without moving r->x. */
	{
		XDR peek;

		xdrmem_create(&peek, (char *)r->rec, (u_int)r->len, XDR_DECODE);
		REQUIRE(xdr_setpos(&peek, xdr_getpos(&r->x)));
		r->nbody = 0;
		while (r->nbody < 8 && xdr_uint32_t(&peek, &r->body[r->nbody]))
			r->nbody++;
	}
	return true;
}

/* Receive one reply on fd and parse it; REQUIREs success. */
static void
reply_recv(int fd, struct reply *r)
{
	memset(r, 0, sizeof(*r));
	r->len = recv_record(fd, &r->rec);
	REQUIRE(r->len > 0);
	REQUIRE(reply_parse(r));
}

static void
reply_free(struct reply *r)
{
	free(r->rec);
	r->rec = NULL;
}

/* Send call m on fd and expect (reply_stat, stat) with xid. */
static void
expect(int fd, struct msg *m, uint32_t xid, uint32_t reply_stat,
       uint32_t stat, struct reply *out)
{
	struct reply r;

	msg_send(m, fd, 1);
	reply_recv(fd, &r);
	CHECK_EQ(r.xid, xid);
	CHECK_EQ(r.reply_stat, reply_stat);
	CHECK_EQ(r.stat, stat);
	if (out)
		*out = r;
	else
		reply_free(&r);
}

/* --- server start/stop -------------------------------------------------- */

static void *
server_main(void *arg)
{
	struct rpc_server *s = arg;

	REQUIRE(rpc_server_run(s) == 0);
	return NULL;
}

static void
start_server(void)
{
	struct rpc_server_config cfg;
	int err;

	rpc_server_config_defaults(&cfg);
	cfg.max_record = TEST_MAX_RECORD;
	cfg.max_reply = TEST_MAX_REPLY;
	cfg.nworkers = 4;
	cfg.nblocking_workers = 2;
	cfg.max_inflight_per_conn = 2;
	cfg.max_conn_memory = TEST_MAX_CONN_MEMORY;
	REQUIRE(rpc_server_create(&cfg, &srv) == 0);
	REQUIRE(rpc_server_register(srv, &test_prog) == 0);
	REQUIRE(rpc_server_register(srv, &test_prog_sysonly) == 0);
	REQUIRE(rpc_server_register(srv, &test_prog_inline) == 0);
	CHECK_EQ(rpc_server_register(srv, &test_prog), -EEXIST);
	REQUIRE(rpc_server_listen(srv, "127.0.0.1", 0, &port4) == 0);
	CHECK(port4 != 0);
	err = rpc_server_listen(srv, "::1", 0, &port6);
	have_ipv6 = err == 0;
	if (!have_ipv6)
		fprintf(stderr, "note: no IPv6 loopback (%d); IPv6 test skipped\n",
			err);
	REQUIRE(pthread_create(&srv_thread, NULL, server_main, srv) == 0);
}

static void
stop_server(void)
{
	rpc_server_stop(srv);
	pthread_join(srv_thread, NULL);
	rpc_server_destroy(srv);
}

/* --- tests ---------------------------------------------------------------- */

static uint32_t next_xid = 0x1000;

static void
test_null(void)
{
	struct msg m;
	struct reply r;
	uint32_t xid = next_xid++;
	int fd = connect_to(AF_INET, port4);

	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, SUCCESS, &r);
	CHECK_EQ(r.len, 24);	/* no body */
	reply_free(&r);
	close(fd);
}

static void
test_ipv6(void)
{
	struct msg m;
	uint32_t xid = next_xid++;
	int fd;

	if (!have_ipv6)
		return;
	fd = connect_to(AF_INET6, port6);
	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, SUCCESS, NULL);
	close(fd);
}

/* Echo with AUTH_SYS, the call split into fragments; the reply is exact. */
static void
test_echo(void)
{
	static uint8_t data[20000];
	struct msg m;
	struct reply r;
	char *got = NULL;
	u_int glen = 0;
	uint32_t tail[3], xid = next_xid++;
	int fd = connect_to(AF_INET, port4);

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13);
	msg_call(&m, xid, 2, TEST_PROG, 1, P_ECHO);
	msg_auth_sys(&m, 4242, 255, 16);	/* both exactly at the limit */
	msg_opaque(&m, data, sizeof(data));
	msg_send(&m, fd, 5);
	reply_recv(fd, &r);
	CHECK_EQ(r.xid, xid);
	CHECK_EQ(r.reply_stat, MSG_ACCEPTED);
	CHECK_EQ(r.stat, SUCCESS);
	CHECK(xdr_bytes(&r.x, &got, &glen, ~0u));
	CHECK_EQ(glen, sizeof(data));
	CHECK(got && memcmp(got, data, sizeof(data)) == 0);
	for (int i = 0; i < 3; i++)
		CHECK(xdr_uint32_t(&r.x, &tail[i]));
	CHECK_EQ(tail[0], AUTH_SYS);
	CHECK_EQ(tail[1], 4242);
	CHECK_EQ(tail[2], 16);
	CHECK_EQ(xdr_getpos(&r.x), (u_int)r.len);
	/* The record held exactly the header and the opaque. */
	mutex_lock(&tlock);
	CHECK_EQ(last_echo.xid, xid);
	CHECK_EQ(last_echo.reclen, xdr_getpos(&m.x));
	CHECK_EQ(last_echo.argend, last_echo.reclen);
	mutex_unlock(&tlock);
	free(got);
	reply_free(&r);
	close(fd);
}

/* A reply that would pass max_reply becomes SYSTEM_ERR, not a crash. */
static void
test_reply_too_big(void)
{
	static uint8_t data[TEST_MAX_REPLY + 100];
	struct msg m;
	uint32_t xid = next_xid++;
	int fd = connect_to(AF_INET, port4);

	msg_call(&m, xid, 2, TEST_PROG, 1, P_ECHO);
	msg_auth_none(&m);
	msg_opaque(&m, data, sizeof(data));
	expect(fd, &m, xid, MSG_ACCEPTED, SYSTEM_ERR, NULL);
	close(fd);
}

static void
test_rejections(void)
{
	struct msg m;
	struct reply r;
	uint32_t xid;
	int fd = connect_to(AF_INET, port4);

	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG + 0x100, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, PROG_UNAVAIL, NULL);

	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 5, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, PROG_MISMATCH, &r);
	CHECK_EQ(r.nbody, 2);
	CHECK_EQ(r.body[0], 1);
	CHECK_EQ(r.body[1], 2);
	reply_free(&r);

	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, 9);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, PROC_UNAVAIL, NULL);

	/* Echo whose opaque claims 100 bytes but carries 4. */
	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, P_ECHO);
	msg_auth_none(&m);
	msg_u32(&m, 100);
	msg_u32(&m, 0x41414141);
	expect(fd, &m, xid, MSG_ACCEPTED, GARBAGE_ARGS, &r);
	CHECK_EQ(r.nbody, 0);
	reply_free(&r);

	/* RPC version 3: MSG_DENIED RPC_MISMATCH low = high = 2. */
	xid = next_xid++;
	msg_call(&m, xid, 3, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_DENIED, RPC_MISMATCH, &r);
	CHECK_EQ(r.nbody, 2);
	CHECK_EQ(r.body[0], 2);
	CHECK_EQ(r.body[1], 2);
	reply_free(&r);

	/* A program that wants AUTH_SYS refuses AUTH_NONE as too weak. */
	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG_SYSONLY, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_DENIED, AUTH_ERROR, &r);
	CHECK_EQ(r.body[0], AUTH_TOOWEAK);
	reply_free(&r);
	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG_SYSONLY, 1, P_NULL);
	msg_auth_sys(&m, 0, 4, 0);
	expect(fd, &m, xid, MSG_ACCEPTED, SUCCESS, NULL);
	close(fd);
}

static void
expect_badcred(int fd, struct msg *m, uint32_t xid, uint32_t auth_stat)
{
	struct reply r;

	expect(fd, m, xid, MSG_DENIED, AUTH_ERROR, &r);
	CHECK_EQ(r.nbody, 1);
	CHECK_EQ(r.body[0], auth_stat);
	reply_free(&r);
}

/* RFC 5531 appendix A limits: machine name <= 255 bytes, <= 16 gids. */
static void
test_bad_auth_sys(void)
{
	struct msg m;
	uint32_t xid;
	int fd = connect_to(AF_INET, port4);

	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_sys(&m, 1, 300, 0);
	expect_badcred(fd, &m, xid, AUTH_BADCRED);

	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_sys(&m, 1, 8, 17);
	expect_badcred(fd, &m, xid, AUTH_BADCRED);

	/* A 20-byte AUTH_SYS body whose machine name claims 100 bytes. */
	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_u32(&m, AUTH_SYS);
	msg_u32(&m, 20);
	msg_u32(&m, 1);		/* stamp */
	msg_u32(&m, 100);	/* machine name length */
	msg_u32(&m, 0x41414141);
	msg_u32(&m, 0);
	msg_u32(&m, 0);
	msg_u32(&m, AUTH_NONE);
	msg_u32(&m, 0);
	expect_badcred(fd, &m, xid, AUTH_BADCRED);

	/* A record that ends inside the credential. */
	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_u32(&m, AUTH_SYS);
	msg_u32(&m, 40);
	msg_u32(&m, 1);
	expect_badcred(fd, &m, xid, AUTH_BADCRED);

	/* RPCSEC_GSS is not implemented: a bad credential, not a crash. */
	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_u32(&m, RPCSEC_GSS);
	msg_u32(&m, 0);
	msg_u32(&m, AUTH_NONE);
	msg_u32(&m, 0);
	expect_badcred(fd, &m, xid, AUTH_BADCRED);

	/* The connection survived all of it. */
	xid = next_xid++;
	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, SUCCESS, NULL);
	close(fd);
}

/* A NULL call on a fresh connection succeeds: the server is still fine. */
static void
check_server_alive(void)
{
	struct msg m;
	uint32_t xid = next_xid++;
	int fd = connect_to(AF_INET, port4);

	msg_call(&m, xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, SUCCESS, NULL);
	close(fd);
}

static void
test_truncated_then_close(void)
{
	uint8_t hdr[4], junk[10] = { 0 };
	int fd = connect_to(AF_INET, port4);

	rpc_record_mark(hdr, 100, true);
	write_all(fd, hdr, 4);
	write_all(fd, junk, sizeof(junk));
	close(fd);
	check_server_alive();
}

/* A record over max_record closes that connection only. */
static void
test_oversized(void)
{
	static uint8_t junk[TEST_MAX_RECORD];
	uint8_t hdr[4], *rec = NULL;
	int fd = connect_to(AF_INET, port4);

	rpc_record_mark(hdr, TEST_MAX_RECORD / 2, false);
	write_all(fd, hdr, 4);
	write_all(fd, junk, TEST_MAX_RECORD / 2);
	rpc_record_mark(hdr, TEST_MAX_RECORD / 2 + 1, true);
	write_all(fd, hdr, 4);
	(void)!write(fd, junk, 8192);	/* may fail: server closed */
	CHECK_EQ(recv_record(fd, &rec), -1);	/* EOF, not a timeout */
	free(rec);
	close(fd);
	check_server_alive();
}

/*
 * Many calls in one write on one connection (far more than
 * max_inflight_per_conn, so most wait in the backlog): every call gets its
 * own reply.
 */
static void
test_pipelined(void)
{
	enum { N = 40 };
	static struct msg m;
	uint8_t *stream;
	size_t off = 0;
	bool seen[N] = { false };
	uint32_t base = next_xid;
	int fd = connect_to(AF_INET, port4);

	next_xid += N;
	stream = malloc(N * 64);
	REQUIRE(stream);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t v = i * 3;

		msg_call(&m, base + i, 2, TEST_PROG, 1, P_ECHO);
		msg_auth_none(&m);
		msg_opaque(&m, &v, sizeof(v));
		off += msg_to_stream(&m, stream + off);
	}
	write_all(fd, stream, off);
	for (int i = 0; i < N; i++) {
		struct reply r;
		char *got = NULL;
		u_int glen = 0;
		uint32_t idx;

		reply_recv(fd, &r);
		idx = r.xid - base;
		REQUIRE(idx < N);
		CHECK(!seen[idx]);
		seen[idx] = true;
		CHECK_EQ(r.stat, SUCCESS);
		CHECK(xdr_bytes(&r.x, &got, &glen, 64));
		CHECK(glen == 4 && got && memcmp(got, &(uint32_t){ idx * 3 }, 4) == 0);
		free(got);
		reply_free(&r);
	}
	free(stream);
	close(fd);
}

/* Send the inline test program's call proc (AUTH_SYS) and check where it ran. */
static void
inline_call(int fd, uint32_t proc, uint32_t on_loop, uint32_t may_block)
{
	struct msg m;
	struct reply r;
	uint32_t where[2] = { 9, 9 }, xid = next_xid++;

	msg_call(&m, xid, 2, TEST_PROG_INLINE, 1, proc);
	msg_auth_sys(&m, 1000, 12, 3);
	msg_u32(&m, 0xfeed0000u + proc);
	expect(fd, &m, xid, MSG_ACCEPTED, SUCCESS, &r);
	CHECK(xdr_uint32_t(&r.x, &where[0]) && xdr_uint32_t(&r.x, &where[1]));
	CHECK_EQ(where[0], on_loop);
	CHECK_EQ(where[1], may_block);
	reply_free(&r);
}

/*
 * Calls the program's inline_ok() accepts run on the event loop, where the
 * block budget is refused; others run on a worker, which writes its reply
 * itself when nothing is queued ahead of it.  Forty pipelined fast calls
 * all come back, each exactly once.  A call whose header is wrong never
 * reaches inline_ok() and gets its RPC error as before.
 */
static void
test_inline_calls(void)
{
	enum { N = 40 };
	struct rpc_server_stats st0, st1;
	static struct msg m;
	static uint8_t stream[N * 128];
	bool seen[N] = { false };
	uint32_t base;
	size_t off = 0;
	int fd = connect_to(AF_INET, port4);

	rpc_server_get_stats(srv, &st0);
	inline_call(fd, PI_FAST, 1, 0);
	inline_call(fd, PI_SLOW, 0, 1);
	rpc_server_get_stats(srv, &st1);
	CHECK_EQ(st1.calls_inline - st0.calls_inline, 1);
	/*
	 * Nothing was queued: the worker wrote the reply itself.  It counts
	 * the write after sendmsg() returns, which may be after we read the
	 * reply: wait for the count, within the deadline.
	 */
	for (uint64_t end = clock_now_ns() + TEST_DEADLINE_MS * NSEC_PER_MSEC;
	     st1.replies_direct == st0.replies_direct && clock_now_ns() < end;
	     usleep(1000))
		rpc_server_get_stats(srv, &st1);
	/* At least ours: the counter is server-wide, and a reply of an
	 * earlier test's connection may be counted in the same window. */
	CHECK(st1.replies_direct - st0.replies_direct >= 1);

	base = next_xid;
	next_xid += N;
	for (uint32_t i = 0; i < N; i++) {
		msg_call(&m, base + i, 2, TEST_PROG_INLINE, 1, PI_FAST);
		msg_auth_none(&m);
		msg_u32(&m, 0xfeed0000u + PI_FAST);
		off += msg_to_stream(&m, stream + off);
	}
	write_all(fd, stream, off);
	for (int i = 0; i < N; i++) {
		struct reply r;
		uint32_t idx, on_loop = 0;

		reply_recv(fd, &r);
		idx = r.xid - base;
		REQUIRE(idx < N);
		CHECK(!seen[idx]);
		seen[idx] = true;
		CHECK_EQ(r.stat, SUCCESS);
		CHECK(xdr_uint32_t(&r.x, &on_loop));
		CHECK_EQ(on_loop, 1);
		reply_free(&r);
	}
	rpc_server_get_stats(srv, &st0);
	CHECK_EQ(st0.calls_inline - st1.calls_inline, N);

	/* RPC version 3: rejected as always, inline_ok() never asked. */
	msg_call(&m, next_xid, 3, TEST_PROG_INLINE, 1, PI_FAST);
	msg_auth_none(&m);
	msg_u32(&m, 0xfeed0000u + PI_FAST);
	expect(fd, &m, next_xid++, MSG_DENIED, RPC_MISMATCH, NULL);
	/* A credential length past the record: a worker says BADCRED. */
	msg_call(&m, next_xid, 2, TEST_PROG_INLINE, 1, PI_FAST);
	msg_u32(&m, AUTH_SYS);
	msg_u32(&m, 4000);
	expect_badcred(fd, &m, next_xid++, AUTH_BADCRED);
	CHECK_EQ(atomic_load(&inline_ok_bad_args), 0);
	close(fd);
}

/* Writer thread of test_slow_reader: the calls, in one blocking stream. */
struct slow_writer {
	int		fd;
	uint8_t		*stream;
	size_t		len;
};

static void *
slow_writer_main(void *arg)
{
	struct slow_writer *w = arg;

	write_all(w->fd, w->stream, w->len);
	return NULL;
}

/*
 * A client that sends many calls with large replies and does not read:
 * the server queues replies up to max_conn_memory, then stops reading that
 * connection; other connections are served all the while, and once the
 * client reads, every reply arrives.
 */
static void
test_slow_reader(void)
{
	enum { N = 256, PAYLOAD = 16 * 1024 };	/* 4 MiB of replies */
	static struct msg m;
	static uint8_t data[PAYLOAD];
	struct rpc_server_stats st0, st;
	struct slow_writer w;
	pthread_t th;
	uint32_t base = next_xid;
	size_t off = 0, per;
	bool seen[N] = { false };
	int a, b = connect_to(AF_INET, port4), rcv = 64 * 1024;

	/* A small window, so the kernel cannot absorb all replies. */
	a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(a >= 0);
	REQUIRE(setsockopt(a, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) == 0);
	{
		struct sockaddr_in sa = { .sin_family = AF_INET,
					  .sin_port = htons(port4) };

		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		REQUIRE(connect(a, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	}
	rpc_server_get_stats(srv, &st0);

	next_xid += N;
	msg_call(&m, 0, 2, TEST_PROG, 1, P_ECHO);
	msg_auth_none(&m);
	msg_opaque(&m, data, PAYLOAD);
	per = 4 + xdr_getpos(&m.x);
	w.stream = malloc(per * N);
	REQUIRE(w.stream);
	for (uint32_t i = 0; i < N; i++) {
		msg_call(&m, base + i, 2, TEST_PROG, 1, P_ECHO);
		msg_auth_none(&m);
		memset(data, (int)i, 8);
		msg_opaque(&m, data, PAYLOAD);
		rpc_record_mark(w.stream + off, (uint32_t)(per - 4), true);
		memcpy(w.stream + off + 4, m.buf, per - 4);
		off += per;
	}
	w.fd = a;
	w.len = off;
	REQUIRE(pthread_create(&th, NULL, slow_writer_main, &w) == 0);

	/* While a is backed up, b is served. */
	for (int i = 0; i < 5; i++) {
		msg_call(&m, next_xid, 2, TEST_PROG, 1, P_NULL);
		msg_auth_none(&m);
		expect(b, &m, next_xid, MSG_ACCEPTED, SUCCESS, NULL);
		next_xid++;
	}
	for (int i = 0; i < N; i++) {
		struct reply r;
		char *got = NULL;
		u_int glen = 0;
		uint32_t idx;

		reply_recv(a, &r);
		idx = r.xid - base;
		REQUIRE(idx < N);
		CHECK(!seen[idx]);
		seen[idx] = true;
		CHECK_EQ(r.stat, SUCCESS);
		CHECK(xdr_bytes(&r.x, &got, &glen, PAYLOAD));
		CHECK(glen == PAYLOAD && got && got[0] == (char)idx &&
		      got[7] == (char)idx);
		free(got);
		reply_free(&r);
	}
	pthread_join(th, NULL);
	rpc_server_get_stats(srv, &st);
	CHECK(st.read_pauses > st0.read_pauses);	/* max_conn_memory hit */
	free(w.stream);
	close(a);
	close(b);
}

static bool
two_blocked(void)
{
	return nblocked == 2;
}

static bool
none_blocked(void)
{
	return nblocked == 0;
}

/*
 * Two workers block (the whole budget); other calls are still served, a
 * third blocker is told no at once, and with max_inflight_per_conn = 2 the
 * blocked connection dispatches no further call until one is answered.
 */
static void
test_blocked_workers(void)
{
	struct msg m;
	struct reply r;
	uint32_t xa = next_xid, xn = next_xid + 2;
	int a = connect_to(AF_INET, port4), b = connect_to(AF_INET, port4);
	uint8_t *rec = NULL;

	next_xid += 3;
	mutex_lock(&tlock);
	gate_open = false;
	mutex_unlock(&tlock);
	for (int i = 0; i < 2; i++) {
		msg_call(&m, xa + (uint32_t)i, 2, TEST_PROG, 1, P_BLOCK);
		msg_auth_none(&m);
		msg_send(&m, a, 1);
	}
	wait_until(two_blocked);
	mutex_lock(&tlock);
	CHECK_EQ(nblocked, 2);
	mutex_unlock(&tlock);

	/* Connection a is at its in-flight limit: this NULL waits. */
	msg_call(&m, xn, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	msg_send(&m, a, 1);

	/* Another connection is served while the budget is used up. */
	msg_call(&m, next_xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(b, &m, next_xid, MSG_ACCEPTED, SUCCESS, NULL);
	next_xid++;
	msg_call(&m, next_xid, 2, TEST_PROG, 1, P_BLOCK);
	msg_auth_none(&m);
	expect(b, &m, next_xid, MSG_ACCEPTED, SUCCESS, &r);
	CHECK_EQ(r.body[0], 1);		/* refused the budget, did not block */
	reply_free(&r);
	next_xid++;

	/* Nothing arrives on a while both its calls are blocked. */
	CHECK_EQ(recv_record_ms(a, &rec, 200), -2);

	mutex_lock(&tlock);
	gate_open = true;
	condvar_broadcast(&tcv);
	mutex_unlock(&tlock);
	for (int i = 0; i < 3; i++) {
		reply_recv(a, &r);
		CHECK_EQ(r.stat, SUCCESS);
		CHECK(r.xid >= xa && r.xid <= xn);
		if (r.xid != xn)
			CHECK_EQ(r.body[0], 0);	/* it did block */
		reply_free(&r);
	}
	wait_until(none_blocked);
	close(a);
	close(b);
}

/*
 * Client side of a back-channel test: send proc 3 with the timeout and
 * return the CALL record the server sends back (parsed for its xid).
 */
static uint32_t
start_callback(int fd, uint32_t xid, uint32_t tmo_ms, const char *payload)
{
	struct msg m;
	uint8_t *rec = NULL;
	uint32_t w[6], cxid, flavor, clen;
	char *got = NULL;
	u_int glen = 0;
	XDR x;
	int len;

	msg_call(&m, xid, 2, TEST_PROG, 1, P_CALLBACK);
	msg_auth_none(&m);
	msg_u32(&m, tmo_ms);
	msg_opaque(&m, payload, (uint32_t)strlen(payload));
	msg_send(&m, fd, 1);
	len = recv_record(fd, &rec);
	REQUIRE(len > 0);
	xdrmem_create(&x, (char *)rec, (u_int)len, XDR_DECODE);
	for (int i = 0; i < 6; i++)
		REQUIRE(xdr_uint32_t(&x, &w[i]));
	cxid = w[0];
	CHECK_EQ(w[1], 0);		/* CALL */
	CHECK_EQ(w[2], 2);
	CHECK_EQ(w[3], TEST_CB_PROG);
	CHECK_EQ(w[4], 1);
	CHECK_EQ(w[5], 1);
	/* AUTH_SYS credential as the server encoded it: skip its body. */
	REQUIRE(xdr_uint32_t(&x, &flavor) && xdr_uint32_t(&x, &clen));
	CHECK_EQ(flavor, AUTH_SYS);
	CHECK_EQ(clen, 4 + 4 + 4 + 4 + 4 + 4 + 4);	/* "srv", one gid */
	REQUIRE(xdr_setpos(&x, xdr_getpos(&x) + clen));
	REQUIRE(xdr_uint32_t(&x, &flavor) && xdr_uint32_t(&x, &clen));
	CHECK(flavor == AUTH_NONE && clen == 0);
	CHECK(xdr_bytes(&x, &got, &glen, 4096));
	CHECK(glen == strlen(payload) && memcmp(got, payload, glen) == 0);
	free(got);
	free(rec);
	return cxid;
}

static void
send_cb_reply(int fd, uint32_t xid, const char *payload)
{
	struct msg m;

	xdrmem_create(&m.x, (char *)m.buf, sizeof(m.buf), XDR_ENCODE);
	msg_u32(&m, xid);
	msg_u32(&m, 1);			/* REPLY */
	msg_u32(&m, MSG_ACCEPTED);
	msg_u32(&m, AUTH_NONE);
	msg_u32(&m, 0);
	msg_u32(&m, SUCCESS);
	msg_opaque(&m, payload, (uint32_t)strlen(payload));
	msg_send(&m, fd, 1);
}

/* The proc 3 reply: (err, opaque). */
static void
recv_cb_result(int fd, uint32_t xid, int32_t *err, char **body)
{
	struct reply r;
	u_int blen = 0;
	char *raw = NULL;

	reply_recv(fd, &r);
	CHECK_EQ(r.xid, xid);
	CHECK_EQ(r.stat, SUCCESS);
	*body = NULL;
	CHECK(xdr_int32_t(&r.x, err));
	CHECK(xdr_bytes(&r.x, &raw, &blen, 4096));
	/* xdr_bytes() does not terminate; the tests compare strings. */
	*body = calloc(1, blen + 1);
	REQUIRE(*body);
	if (blen)
		memcpy(*body, raw, blen);
	free(raw);
	reply_free(&r);
}

static void
test_callback_answered(void)
{
	uint32_t xid = next_xid++, cxid;
	int32_t err = 1;
	char *body = NULL;
	int fd = connect_to(AF_INET, port4);

	cxid = start_callback(fd, xid, TEST_DEADLINE_MS, "ping");
	/* A reply nobody asked for is dropped; the real one still counts. */
	send_cb_reply(fd, cxid + 1000, "stray");
	send_cb_reply(fd, cxid, "pong");
	recv_cb_result(fd, xid, &err, &body);
	CHECK_EQ(err, 0);
	CHECK(body && strcmp(body, "pong") == 0);
	free(body);
	close(fd);
}

/* A reply that is not an accepted SUCCESS completes the call with -EPROTO. */
static void
test_callback_rejected(void)
{
	static const uint32_t kinds[2][4] = {
		{ MSG_ACCEPTED, AUTH_NONE, 0, PROC_UNAVAIL },
		{ MSG_DENIED, AUTH_ERROR, AUTH_TOOWEAK, 0 },
	};
	int fd = connect_to(AF_INET, port4);

	for (int k = 0; k < 2; k++) {
		uint32_t xid = next_xid++, cxid;
		int32_t err = 1;
		char *body = NULL;
		struct msg m;

		cxid = start_callback(fd, xid, TEST_DEADLINE_MS, "ping");
		xdrmem_create(&m.x, (char *)m.buf, sizeof(m.buf), XDR_ENCODE);
		msg_u32(&m, cxid);
		msg_u32(&m, 1);			/* REPLY */
		for (int i = 0; i < (k ? 3 : 4); i++)
			msg_u32(&m, kinds[k][i]);
		msg_send(&m, fd, 1);
		recv_cb_result(fd, xid, &err, &body);
		CHECK_EQ(err, -EPROTO);
		free(body);
	}
	close(fd);
}

static void
test_callback_timeout(void)
{
	uint32_t xid = next_xid++, cxid;
	int32_t err = 1;
	char *body = NULL;
	struct msg m;
	uint64_t t0 = clock_now_ns();
	int fd = connect_to(AF_INET, port4);

	cxid = start_callback(fd, xid, 200, "ping");
	recv_cb_result(fd, xid, &err, &body);
	CHECK_EQ(err, -ETIMEDOUT);
	CHECK(clock_now_ns() - t0 >= 200 * NSEC_PER_MSEC);
	free(body);
	/* The late answer is a stray now: dropped, connection fine. */
	send_cb_reply(fd, cxid, "late");
	msg_call(&m, next_xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, next_xid, MSG_ACCEPTED, SUCCESS, NULL);
	next_xid++;
	close(fd);
}

/*
 * Mutated calls (bit flips and truncation anywhere after the procedure
 * number, in the credential, verifier and arguments): each gets a reply or
 * is dropped, and the connection keeps serving.  Run under ASan this is a
 * small fuzz of the header and credential decoders.
 */
static void
test_mutated_calls(void)
{
	enum { N = 400 };
	static struct msg m;
	static uint8_t data[64];
	uint32_t seed = 12345, first = next_xid;
	int fd = connect_to(AF_INET, port4);

	for (int i = 0; i < N; i++) {
		uint32_t len, nflip, xid = next_xid++, nxid = next_xid++;
		bool got_null = false;

		msg_call(&m, xid, 2, i % 3 ? TEST_PROG : TEST_PROG_SYSONLY,
			 1 + (uint32_t)(i % 2), P_ECHO);
		if (i % 2)
			msg_auth_sys(&m, 1, (uint32_t)i % 40, (uint32_t)i % 17);
		else
			msg_auth_none(&m);
		msg_opaque(&m, data, (uint32_t)(i % (int)sizeof(data)));
		len = xdr_getpos(&m.x);
		nflip = 1 + (uint32_t)i % 4;
		for (uint32_t f = 0; f < nflip; f++) {
			/* Bytes 24.. only: xid..proc stay, proc is never 3. */
			seed = seed * 1103515245 + 12345;
			m.buf[24 + (seed >> 8) % (len - 24)] ^=
				(uint8_t)(1u << (seed >> 4) % 8);
		}
		if (i % 5 == 0) {
			seed = seed * 1103515245 + 12345;
			len = 8 + (seed >> 8) % (len - 8);
		}
		send_record(fd, m.buf, len, 1 + (uint32_t)i % 3);
		msg_call(&m, nxid, 2, TEST_PROG, 1, P_NULL);
		msg_auth_none(&m);
		msg_send(&m, fd, 1);
		/* Whatever the mutated call got, the NULL after it is answered. */
		while (!got_null) {
			struct reply r;

			memset(&r, 0, sizeof(r));
			r.len = recv_record(fd, &r.rec);
			REQUIRE(r.len > 0);
			CHECK(reply_parse(&r));
			/* Replies may overtake: any xid of this test. */
			CHECK(r.xid >= first && r.xid <= nxid);
			got_null = r.xid == nxid;
			reply_free(&r);
		}
	}
	close(fd);
	check_server_alive();
}

/*
 * Calls waiting in a connection's backlog when it closes are discarded
 * (counted as dropped), while its dispatched calls finish normally.
 */
static void
test_backlog_discard_on_close(void)
{
	struct rpc_server_stats st0, st;
	struct msg m;
	uint64_t deadline;
	int fd = connect_to(AF_INET, port4);

	rpc_server_get_stats(srv, &st0);
	mutex_lock(&tlock);
	gate_open = false;
	mutex_unlock(&tlock);
	for (int i = 0; i < 2; i++) {		/* fill max_inflight_per_conn */
		msg_call(&m, next_xid++, 2, TEST_PROG, 1, P_BLOCK);
		msg_auth_none(&m);
		msg_send(&m, fd, 1);
	}
	wait_until(two_blocked);
	for (int i = 0; i < 3; i++) {		/* these wait in the backlog */
		msg_call(&m, next_xid++, 2, TEST_PROG, 1, P_NULL);
		msg_auth_none(&m);
		msg_send(&m, fd, 1);
	}
	close(fd);
	deadline = clock_now_ns() + TEST_DEADLINE_MS * NSEC_PER_MSEC;
	do {
		rpc_server_get_stats(srv, &st);
	} while (st.dropped < st0.dropped + 3 && clock_now_ns() < deadline &&
		 !usleep(1000));
	CHECK_EQ(st.dropped, st0.dropped + 3);
	CHECK_EQ(st.calls, st0.calls + 5);
	mutex_lock(&tlock);
	gate_open = true;
	condvar_broadcast(&tcv);
	mutex_unlock(&tlock);
	wait_until(none_blocked);
}

/*
 * Callback replies must get through on a connection at its in-flight
 * limit: both of its calls wait for back-channel replies that the client
 * sends on the same connection (an NFSv4.1 client whose every slot waits
 * on a recall).  Stopping to read there would turn every such wait into a
 * timeout.
 */
static void
test_callback_at_inflight_limit(void)
{
	uint32_t xid[2] = { next_xid, next_xid + 1 }, cxid[2];
	int fd = connect_to(AF_INET, port4);
	struct msg m;

	next_xid += 2;
	for (int i = 0; i < 2; i++) {
		msg_call(&m, xid[i], 2, TEST_PROG, 1, P_CALLBACK);
		msg_auth_none(&m);
		msg_u32(&m, TEST_DEADLINE_MS);
		msg_opaque(&m, "ping", 4);
		msg_send(&m, fd, 1);
	}
	/* Both callbacks arrive (the server has two calls in flight). */
	for (int i = 0; i < 2; i++) {
		uint8_t *rec = NULL;
		int len = recv_record(fd, &rec);

		REQUIRE(len >= 8);
		cxid[i] = rpc_get32_test(rec);
		free(rec);
	}
	/* A third call waits behind the limit; the replies still get in. */
	msg_call(&m, next_xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	msg_send(&m, fd, 1);
	send_cb_reply(fd, cxid[0], "pong");
	send_cb_reply(fd, cxid[1], "pong");
	for (int i = 0; i < 3; i++) {
		struct reply r;

		reply_recv(fd, &r);
		CHECK(r.xid == xid[0] || r.xid == xid[1] || r.xid == next_xid);
		CHECK_EQ(r.stat, SUCCESS);
		if (r.xid != next_xid)
			CHECK_EQ(r.body[0], 0);		/* err 0: answered */
		reply_free(&r);
	}
	next_xid++;
	close(fd);
}

static bool
cb_result_in(void)
{
	return last_cb_err != 1;
}

static void
test_callback_conn_closed(void)
{
	int fd = connect_to(AF_INET, port4);

	mutex_lock(&tlock);
	last_cb_err = 1;
	mutex_unlock(&tlock);
	(void)start_callback(fd, next_xid++, TEST_DEADLINE_MS, "ping");
	close(fd);
	wait_until(cb_result_in);
	mutex_lock(&tlock);
	CHECK_EQ(last_cb_err, -ECONNRESET);
	mutex_unlock(&tlock);
}

static bool
hook_ran(void)
{
	return close_hooks_run == 1;
}

static void
test_close_hook(void)
{
	struct msg m;
	uint32_t xid = next_xid++;
	int fd = connect_to(AF_INET, port4);

	msg_call(&m, xid, 2, TEST_PROG, 2, P_NULL);	/* adds the hook */
	msg_auth_none(&m);
	expect(fd, &m, xid, MSG_ACCEPTED, SUCCESS, NULL);
	mutex_lock(&tlock);
	CHECK_EQ(close_hooks_run, 0);
	mutex_unlock(&tlock);
	close(fd);
	wait_until(hook_ran);
	mutex_lock(&tlock);
	CHECK_EQ(close_hooks_run, 1);
	mutex_unlock(&tlock);
}

static struct rpc_server *sig_srv;

static void
on_sigusr1(int sig)
{
	rpc_server_stop(sig_srv);
}

/*
 * A second server: max_connections and the idle timeout; it is stopped
 * from a signal handler running on its loop thread.
 */
static void
test_connection_limits(void)
{
	struct rpc_server_config cfg;
	struct rpc_server *s2;
	pthread_t th;
	uint16_t port;
	struct msg m;
	uint8_t *rec = NULL;
	struct sigaction sa = { .sa_flags = 0 };
	struct rpc_server_stats st;
	uint64_t t0;
	int fds[3];

	rpc_server_config_defaults(&cfg);
	cfg.nworkers = 2;
	cfg.nblocking_workers = 1;
	cfg.max_connections = 2;
	cfg.idle_timeout_sec = 1;
	REQUIRE(rpc_server_create(&cfg, &s2) == 0);
	REQUIRE(rpc_server_register(s2, &test_prog) == 0);
	REQUIRE(rpc_server_listen(s2, "127.0.0.1", 0, &port) == 0);
	REQUIRE(pthread_create(&th, NULL, server_main, s2) == 0);
	for (int i = 0; i < 2; i++) {
		fds[i] = connect_to(AF_INET, port);
		msg_call(&m, next_xid, 2, TEST_PROG, 1, P_NULL);
		msg_auth_none(&m);
		expect(fds[i], &m, next_xid, MSG_ACCEPTED, SUCCESS, NULL);
		next_xid++;
	}
	/* The third is accepted and closed at once. */
	fds[2] = connect_to(AF_INET, port);
	CHECK_EQ(recv_record_ms(fds[2], &rec, 2000), -1);
	close(fds[2]);
	/* Idle connections are closed after about a second. */
	t0 = clock_now_ns();
	CHECK_EQ(recv_record_ms(fds[0], &rec, 3000), -1);
	CHECK(clock_now_ns() - t0 >= 500 * NSEC_PER_MSEC);
	CHECK_EQ(recv_record_ms(fds[1], &rec, 3000), -1);
	close(fds[0]);
	close(fds[1]);
	sig_srv = s2;
	sa.sa_handler = on_sigusr1;
	sigemptyset(&sa.sa_mask);
	REQUIRE(sigaction(SIGUSR1, &sa, NULL) == 0);
	REQUIRE(pthread_kill(th, SIGUSR1) == 0);
	pthread_join(th, NULL);
	signal(SIGUSR1, SIG_DFL);
	rpc_server_get_stats(s2, &st);
	CHECK_EQ(st.conns_accepted, 2);
	CHECK_EQ(st.conns_refused, 1);
	CHECK_EQ(st.conns_open, 0);
	CHECK_EQ(st.calls, 2);
	CHECK_EQ(st.replies, 2);
	rpc_server_destroy(s2);
}

static bool
have_parked(void)
{
	return parked != NULL;
}

/* Take the parked call (waiting for it by the deadline). */
static struct rpc_call *
take_parked(void)
{
	struct rpc_call *c;

	wait_until(have_parked);
	mutex_lock(&tlock);
	c = parked;
	parked = NULL;
	mutex_unlock(&tlock);
	REQUIRE(c);
	return c;
}

/*
 * A parked call holds its slot while other calls on the connection are
 * answered; finishing it from a non-worker thread sends its reply.  A call
 * parked on a connection that then closes can still be finished safely.
 */
static void
test_parked_call(void)
{
	struct msg m;
	struct reply r;
	struct rpc_call *c;
	uint32_t xp = next_xid++, v = 77;
	int fd = connect_to(AF_INET, port4);

	msg_call(&m, xp, 2, TEST_PROG, 1, P_PARK);
	msg_auth_none(&m);
	msg_send(&m, fd, 1);
	c = take_parked();
	msg_call(&m, next_xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	expect(fd, &m, next_xid, MSG_ACCEPTED, SUCCESS, NULL);
	next_xid++;
	CHECK(xdr_uint32_t(c->res, &v));
	rpc_call_finish(c, RPC_DISP_REPLY);
	reply_recv(fd, &r);
	CHECK_EQ(r.xid, xp);
	CHECK_EQ(r.stat, SUCCESS);
	CHECK_EQ(r.nbody, 1);
	CHECK_EQ(r.body[0], 77);
	reply_free(&r);

	/* Park, close, then finish: the reply goes nowhere, nothing leaks. */
	msg_call(&m, next_xid++, 2, TEST_PROG, 1, P_PARK);
	msg_auth_none(&m);
	msg_send(&m, fd, 1);
	c = take_parked();
	close(fd);
	check_server_alive();
	rpc_call_finish(c, RPC_DISP_SYSTEM_ERR);
}

static void
ref_call(struct msg *m, uint32_t xid, uint32_t mode, uint32_t len)
{
	msg_call(m, xid, 2, TEST_PROG, 1, P_REF);
	msg_auth_none(m);
	msg_u32(m, mode);
	msg_u32(m, len);
}

/* Expect opaque<len> of ref_data at r->x. */
static void
check_ref_body(struct reply *r, uint32_t len)
{
	char *got = NULL;
	u_int glen = 0;

	CHECK(xdr_bytes(&r->x, &got, &glen, REF_DATA));
	CHECK_EQ(glen, len);
	CHECK(len == 0 || (got && memcmp(got, ref_data, len) == 0));
	free(got);
}

static bool
refs_all_released(void)
{
	return atomic_load(&refs_released) == atomic_load(&refs_taken);
}

/* Wait (bounded) until every reference taken was released. */
static void
wait_refs_released(void)
{
	uint64_t deadline = clock_now_ns() + TEST_DEADLINE_MS * NSEC_PER_MSEC;

	while (!refs_all_released() && clock_now_ns() < deadline)
		usleep(1000);
	CHECK_EQ(atomic_load(&refs_released), atomic_load(&refs_taken));
}

/*
 * Replies carrying bytes by reference (rpc_call_res_put_ref): sent intact
 * with their padding, copied in when something follows, rolled back,
 * copied out, dropped with an error, refused past max_reply; written in
 * pieces to a client with a tiny receive buffer; and every reference is
 * released exactly once, also when the connection closes first.
 */
static void
test_ref_replies(void)
{
	static const uint32_t lens[] = { 0, 5, 1023, 1024, 1025, 4096, 20001,
					 REF_DATA };
	struct msg m;
	struct reply r;
	int fd = connect_to(AF_INET, port4), small, rcv = 4096;

	for (size_t i = 0; i < sizeof(ref_data); i++)
		ref_data[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		uint32_t w = 0;

		ref_call(&m, next_xid, REF_PLAIN, lens[i]);
		expect(fd, &m, next_xid++, MSG_ACCEPTED, SUCCESS, &r);
		check_ref_body(&r, lens[i]);
		CHECK_EQ(xdr_getpos(&r.x), (u_int)r.len);
		reply_free(&r);

		ref_call(&m, next_xid, REF_TRAILER, lens[i]);
		expect(fd, &m, next_xid++, MSG_ACCEPTED, SUCCESS, &r);
		check_ref_body(&r, lens[i]);
		CHECK(xdr_uint32_t(&r.x, &w));
		CHECK_EQ(w, 0xabcd);
		reply_free(&r);

		ref_call(&m, next_xid, REF_TRUNCATE, lens[i]);
		expect(fd, &m, next_xid++, MSG_ACCEPTED, SUCCESS, &r);
		CHECK_EQ(r.nbody, 1);
		CHECK_EQ(r.body[0], 5);
		reply_free(&r);

		ref_call(&m, next_xid, REF_COPY, lens[i]);
		expect(fd, &m, next_xid++, MSG_ACCEPTED, SUCCESS, &r);
		check_ref_body(&r, lens[i]);
		reply_free(&r);

		ref_call(&m, next_xid, REF_SYSERR, lens[i]);
		expect(fd, &m, next_xid++, MSG_ACCEPTED, SYSTEM_ERR, NULL);
	}
	ref_call(&m, next_xid, REF_TOO_BIG, 0);
	expect(fd, &m, next_xid++, MSG_ACCEPTED, SYSTEM_ERR, NULL);
	close(fd);
	wait_refs_released();

	/* Partial writes: a 4 KiB receive window splits every message. */
	small = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(small >= 0);
	REQUIRE(setsockopt(small, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)) == 0);
	{
		struct sockaddr_in a = { .sin_family = AF_INET,
					 .sin_port = htons(port4) };

		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		REQUIRE(connect(small, (struct sockaddr *)&a, sizeof(a)) == 0);
	}
	for (uint32_t i = 0; i < 16; i++) {
		ref_call(&m, next_xid + i, REF_PLAIN, 20000 + i);
		msg_send(&m, small, 1);
	}
	for (uint32_t i = 0; i < 16; i++) {
		reply_recv(small, &r);
		REQUIRE(r.xid >= next_xid && r.xid < next_xid + 16);
		CHECK_EQ(r.stat, SUCCESS);
		check_ref_body(&r, 20000 + (r.xid - next_xid));
		reply_free(&r);
	}
	next_xid += 16;

	/* Replies never read: the close releases what was not written. */
	for (uint32_t i = 0; i < 16; i++) {
		ref_call(&m, next_xid++, REF_PLAIN, REF_DATA);
		msg_send(&m, small, 1);
	}
	close(small);
	wait_refs_released();
}

/*
 * Many clients at once, each pipelining a window of mixed calls (NULL,
 * echo of random sizes, replies by reference) and checking every reply by
 * xid; now and then a client drops its connection with calls outstanding
 * and reconnects.  TEST_RPC_LONG=1 runs it much longer.
 */
#define CC_WINDOW	8

struct cc_client {
	pthread_t	th;
	uint32_t	id, ncalls, seed;
	int		failures;
};

static uint32_t
cc_rand(struct cc_client *c)
{
	c->seed = c->seed * 1103515245u + 12345u;
	return c->seed >> 8;
}

/* What call xid asked for: kind 0 NULL, 1 echo of len, 2 ref of len. */
struct cc_expect {
	uint32_t	kind, len;
};

static void
cc_send(struct cc_client *c, int fd, uint32_t xid, struct cc_expect *e,
	struct msg *m)
{
	static uint8_t zeros[8192];

	e->kind = cc_rand(c) % 3;
	e->len = cc_rand(c) % 6000;
	if (e->kind == 0) {
		msg_call(m, xid, 2, TEST_PROG, 1, P_NULL);
		msg_auth_none(m);
	} else if (e->kind == 1) {
		msg_call(m, xid, 2, TEST_PROG, 1, P_ECHO);
		msg_auth_sys(m, c->id, 8, c->id % 17);
		msg_opaque(m, zeros, e->len);
	} else {
		ref_call(m, xid, REF_PLAIN, e->len);
	}
	msg_send(m, fd, 1 + cc_rand(c) % 2);
}

static bool
cc_check(struct cc_client *c, struct reply *r, const struct cc_expect *e)
{
	char *got = NULL;
	u_int glen = 0;
	bool ok = r->reply_stat == MSG_ACCEPTED && r->stat == SUCCESS;

	if (ok && e->kind == 0)
		ok = xdr_getpos(&r->x) == (u_int)r->len;
	if (ok && e->kind != 0) {
		ok = xdr_bytes(&r->x, &got, &glen, 8192) && glen == e->len;
		if (ok && e->kind == 2)
			ok = glen == 0 || memcmp(got, ref_data, glen) == 0;
		free(got);
	}
	return ok;
}

static void *
cc_main(void *arg)
{
	struct cc_client *c = arg;
	struct cc_expect *exp = calloc(c->ncalls, sizeof(*exp));
	static __thread struct msg m;
	uint32_t base = 0x40000000u + c->id * 0x100000u, sent = 0, done = 0;
	int fd = connect_to(AF_INET, port4), outstanding = 0;

	REQUIRE(exp);
	while (done < c->ncalls) {
		struct reply r;

		while (outstanding < CC_WINDOW && sent < c->ncalls) {
			cc_send(c, fd, base + sent, &exp[sent], &m);
			sent++;
			outstanding++;
		}
		/* Sometimes walk away with calls in flight, then come back. */
		if (cc_rand(c) % 64 == 0) {
			close(fd);
			fd = connect_to(AF_INET, port4);
			/* Start over after the calls sent so far: their
			 * replies are lost with the old connection. */
			base += sent;
			c->ncalls -= sent;
			sent = done = 0;
			outstanding = 0;
			continue;
		}
		memset(&r, 0, sizeof(r));
		r.len = recv_record(fd, &r.rec);
		if (r.len <= 0 || !reply_parse(&r)) {
			c->failures++;
			free(r.rec);
			break;
		}
		if (r.xid < base || r.xid >= base + sent ||
		    !cc_check(c, &r, &exp[r.xid - base]))
			c->failures++;
		reply_free(&r);
		outstanding--;
		done++;
	}
	close(fd);
	free(exp);
	return NULL;
}

static void
test_concurrent_clients(void)
{
	bool lng = getenv("TEST_RPC_LONG") != NULL;
	uint32_t nclients = lng ? 16 : 4, ncalls = lng ? 20000 : 400;
	struct cc_client cl[16];

	for (uint32_t i = 0; i < nclients; i++) {
		cl[i] = (struct cc_client){ .id = i + 1, .ncalls = ncalls,
					    .seed = 77 + i };
		REQUIRE(pthread_create(&cl[i].th, NULL, cc_main, &cl[i]) == 0);
	}
	for (uint32_t i = 0; i < nclients; i++) {
		pthread_join(cl[i].th, NULL);
		CHECK_EQ(cl[i].failures, 0);
	}
	wait_refs_released();
}

/* The main server's counters agree with what the tests above did. */
static void
test_stats(void)
{
	struct rpc_server_stats st;
	uint64_t deadline = clock_now_ns() + TEST_DEADLINE_MS * NSEC_PER_MSEC;

	/* A mutated call may still be on a worker; wait for it by deadline. */
	do {
		rpc_server_get_stats(srv, &st);
	} while (st.calls != st.replies + st.dropped &&
		 clock_now_ns() < deadline && !usleep(1000));
	CHECK_EQ(st.records_too_big, 1);
	CHECK_EQ(st.cb_timeouts, 1);
	CHECK_EQ(st.cb_calls, 7);
	CHECK(st.cb_stray_replies >= 2);
	CHECK(st.read_pauses >= 1);		/* the slow reader */
	CHECK(st.rejected >= 12);
	CHECK(st.dropped >= 1);		/* mutated calls with a cut header */
	CHECK(st.calls > 500);
	/* Every call read was answered or dropped by now. */
	CHECK_EQ(st.calls, st.replies + st.dropped);
	CHECK(st.conns_accepted >= 20);
	CHECK_EQ(st.conns_refused, 0);
}

/* --- out of file descriptors (runs in a child process) --------------- */

static struct rpc_server *emfile_srv;
static int emfile_spare[2] = { -1, -1 };

static void
emfile_on_term(int sig)
{
	rpc_server_stop(emfile_srv);
}

/* SIGUSR1: free two fds (close() is async-signal-safe). */
static void
emfile_on_usr1(int sig)
{
	close(emfile_spare[0]);
	close(emfile_spare[1]);
}

/* Child: serve with every fd below RLIMIT_NOFILE in use. */
static void
emfile_child(int port_fd)
{
	struct rpc_server_config cfg;
	struct rpc_server_stats st;
	struct sigaction sa = { .sa_handler = emfile_on_term };
	struct sigaction su = { .sa_handler = emfile_on_usr1 };
	struct rlimit rl;
	uint16_t port;
	int fd, top;

	rpc_server_config_defaults(&cfg);
	cfg.nworkers = 2;
	cfg.nblocking_workers = 1;
	if (rpc_server_create(&cfg, &emfile_srv) < 0 ||
	    rpc_server_register(emfile_srv, &test_prog) < 0 ||
	    rpc_server_listen(emfile_srv, "127.0.0.1", 0, &port) < 0)
		goto out_skip;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&su.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 ||
	    sigaction(SIGUSR1, &su, NULL) < 0)
		goto out_skip;
	/* Lower the limit just above what is open, then use up the rest. */
	top = dup(0);
	if (top < 0)
		goto out_skip;
	close(top);
	rl.rlim_cur = rl.rlim_max = (rlim_t)top + 8;
	/* Fails under valgrind, which keeps fds of its own up high. */
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		goto out_skip;
	while ((fd = dup(0)) >= 0) {
		emfile_spare[0] = emfile_spare[1];
		emfile_spare[1] = fd;
	}
	if (emfile_spare[0] < 0 ||
	    write(port_fd, &port, sizeof(port)) != sizeof(port))
		_exit(2);
	if (rpc_server_run(emfile_srv) < 0)
		_exit(2);
	rpc_server_get_stats(emfile_srv, &st);
	rpc_server_destroy(emfile_srv);
	exit(st.accept_backoffs > 0 && st.conns_accepted == 1 ? 0 : 3);

out_skip:
	port = 0;	/* tells the parent to skip */
	if (write(port_fd, &port, sizeof(port)) != sizeof(port))
		_exit(2);
	rpc_server_destroy(emfile_srv);
	exit(77);
}

/* CPU ticks (user + system) the process pid has used. */
static long
proc_cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	long ut = 0, st = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %ld %ld", &ut, &st) != 2)
		return -1;
	return ut + st;
}

/*
 * With no fd left, accept() fails while the listener stays readable; the
 * server must pause accepting (not spin at 100% CPU) and accept the
 * waiting client once fds are free again.  Forks before any other server
 * thread exists, so the child inherits no held locks.
 */
static void
test_accept_out_of_fds(void)
{
	int port_pipe[2], fd, status = 0;
	long t0, t1;
	uint16_t port = 0;
	struct msg m;
	pid_t pid;

	REQUIRE(pipe(port_pipe) == 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		close(port_pipe[0]);
		emfile_child(port_pipe[1]);
	}
	close(port_pipe[1]);
	REQUIRE(read(port_pipe[0], &port, sizeof(port)) == sizeof(port));
	if (port == 0) {
		fprintf(stderr, "note: cannot lower RLIMIT_NOFILE here; "
			"out-of-fds test skipped\n");
		REQUIRE(waitpid(pid, &status, 0) == pid);
		close(port_pipe[0]);
		return;
	}
	fd = connect_to(AF_INET, port);	/* completes in the kernel backlog */
	msg_call(&m, next_xid, 2, TEST_PROG, 1, P_NULL);
	msg_auth_none(&m);
	msg_send(&m, fd, 1);

	/* A spinning loop burns ~50 ticks in half a second; a paused one ~0. */
	usleep(100 * 1000);	/* let the first accept fail */
	t0 = proc_cpu_ticks(pid);
	usleep(500 * 1000);
	t1 = proc_cpu_ticks(pid);
	CHECK(t0 >= 0 && t1 >= 0);
	CHECK(t1 - t0 < 10);

	REQUIRE(kill(pid, SIGUSR1) == 0);	/* free two fds */
	{
		struct reply r;

		reply_recv(fd, &r);
		CHECK_EQ(r.xid, next_xid);
		CHECK_EQ(r.stat, SUCCESS);
		reply_free(&r);
	}
	next_xid++;
	close(fd);
	REQUIRE(kill(pid, SIGTERM) == 0);
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	close(port_pipe[0]);
}

int
main(void)
{
	log_init("test_rpc_server", getenv("TEST_VERBOSE") ? LOG_LVL_DEBUG :
		 LOG_LVL_WARN, false);
	mutex_init(&tlock, "test");
	condvar_init(&tcv);
	TEST_RUN(test_accept_out_of_fds);	/* forks: before any thread */
	start_server();
	TEST_RUN(test_null);
	TEST_RUN(test_ipv6);
	TEST_RUN(test_echo);
	TEST_RUN(test_reply_too_big);
	TEST_RUN(test_rejections);
	TEST_RUN(test_bad_auth_sys);
	TEST_RUN(test_truncated_then_close);
	TEST_RUN(test_oversized);
	TEST_RUN(test_pipelined);
	TEST_RUN(test_inline_calls);
	TEST_RUN(test_slow_reader);
	TEST_RUN(test_blocked_workers);
	TEST_RUN(test_callback_answered);
	TEST_RUN(test_callback_rejected);
	TEST_RUN(test_callback_timeout);
	TEST_RUN(test_callback_conn_closed);
	TEST_RUN(test_callback_at_inflight_limit);
	TEST_RUN(test_backlog_discard_on_close);
	TEST_RUN(test_close_hook);
	TEST_RUN(test_mutated_calls);
	TEST_RUN(test_parked_call);
	TEST_RUN(test_ref_replies);
	TEST_RUN(test_concurrent_clients);
	TEST_RUN(test_connection_limits);
	TEST_RUN(test_stats);
	stop_server();
	CHECK_EQ(atomic_load(&dispatch_errors), 0);
	condvar_destroy(&tcv);
	mutex_destroy(&tlock);
	TEST_EXIT();
}
