/*
 * fuzz_rpc.c - libFuzzer target: everything the RPC layer decodes from a
 * client's TCP stream (src/rpc: record.c's record reader, call.c's call
 * header and AUTH_NONE/AUTH_SYS credential decoding and the rejections,
 * conn.c's record routing and flow control, callback.c's matching of
 * back-channel replies and their reply header).
 *
 * Those decoders are reachable only through a connection, so the target
 * runs a real rpc_server in-process on 127.0.0.1 (an ephemeral port) with
 * small limits (so the record limit, the in-flight limit and the backlog
 * are reached by small inputs) and a test program:
 *
 *	proc 0	NULL
 *	proc 1	echo opaque<>; its first byte picks a reply-stream exercise
 *		(put_ref, truncate, copy, reserve) from rpc.h's reply API
 *	proc 2	sends a back-channel call on the caller's connection; its
 *		reply is decoded as CB_COMPOUND4res (what the state layer
 *		does with a real one)
 *
 * and the NFS program itself (100003 v4, nfs4_server_init() on a scratch
 * engine volume, "/" exported rw to 127.0.0.1), so COMPOUNDs arrive with
 * a real connection: export rules by peer address, back channels bound
 * to the connection, the CB_NULL probe and CB_COMPOUND recalls the
 * server sends to the harness, whose replies the input supplies.  NFS
 * replies the harness reads are decoded and the placeholders of
 * fuzz_nfs.h (client ID, session ID, stateid; not the handle, which would
 * change a record's length) are replaced in every segment before it is
 * written; a TAG 3 segment waits for the replies first.
 *
 * Input format: a sequence of segments, TAG (1 byte) LEN (2 bytes, big
 * endian) and LEN bytes (cut short at the end of the input).  TAG % 4:
 *	0, 1	the bytes are written to the stream as they are
 *	2	one REPLY record is sent: record mark, the xid of the oldest
 *		back-channel call the server sent that was not answered yet
 *		(or the segment's first 4 bytes when there is none), then the
 *		bytes (reply_stat onwards)
 *	3	the same bytes as raw, but first the harness waits for every
 *		complete call sent so far to be answered (ordering races)
 * At the end, if the stream is at a record boundary, a NULL call is sent
 * and its reply awaited; then the connection is closed and the harness
 * waits until the server has answered or dropped every call it read and
 * every back-channel call completed, so inputs never overlap and a leak or
 * a hang is this input's.  A call never answered within
 * FUZZ_QUIESCE_NS is reported as a hang (abort).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "common/log.h"
#include "rpc.h"
#include "nfs4_prot.h"
#include "fuzz.h"
#include "fuzz_nfs.h"

#define FUZZ_PROG		0x2ffff0f0u
#define FUZZ_PROG_SYSONLY	0x2ffff0f1u	/* AUTH_SYS only: AUTH_TOOWEAK */
#define FUZZ_CB_PROG		0x2ffff0f2u
#define FUZZ_SENTINEL_XID	0x5e471e11u

/* Small limits: a few kilobytes of input reach each of them. */
#define FUZZ_MAX_RECORD		(16u * 1024)
#define FUZZ_MAX_REPLY		(16u * 1024)
#define FUZZ_MAX_INFLIGHT	3
#define FUZZ_MAX_CONN_MEMORY	(48u * 1024)
/* Back-channel calls time out fast, so an unanswered one ends in time. */
#define FUZZ_CB_TIMEOUT_NS	(50 * NSEC_PER_MSEC)
/* Waiting for a back-channel call to show up before answering it. */
#define FUZZ_CB_WAIT_NS		(50 * NSEC_PER_MSEC)
/*
 * A TAG 3 segment waits this long at most for the replies to the calls
 * before it: they normally come in microseconds, but a sanitizer build on
 * a loaded machine is slow, and calls parked behind a recall never come.
 */
#define FUZZ_REPLIES_WAIT_NS	(1 * NSEC_PER_SEC)
/*
 * All the optional waits of one input (TAG 2 and TAG 3 segments) together
 * stop after this, so an input of thousands of tiny segments stays fast.
 */
#define FUZZ_WAIT_BUDGET_NS	(2 * NSEC_PER_SEC)
/* Every call answered and every connection gone within this, or a hang. */
#define FUZZ_QUIESCE_NS		(10 * NSEC_PER_SEC)
/* The sentinel reply (or the close) comes within this, or a hang. */
#define FUZZ_REPLY_WAIT_NS	(10 * NSEC_PER_SEC)
/* NFS clients the inputs leave behind expire soon. */
#define FUZZ_LEASE_SEC		3
/* Back-channel xids remembered per input. */
#define FUZZ_MAX_CB_XIDS	64

static struct rpc_server *fuzz_srv;
static struct nfs4_server *fuzz_nfs;
static uint16_t fuzz_port;
static uint64_t inputs_run;
/* FUZZ_VERBOSE set: print what the server sends (to check seeds). */
static bool verbose;
static atomic_uint_fast64_t cb_sent, cb_done;

/* --- the test program ---------------------------------------------------- */

struct ref_buf {
	uint8_t	*p;
};

static void
ref_release(void *ctx)
{
	struct ref_buf *r = ctx;

	free(r->p);
	free(r);
}

/* Exercise the reply-stream API with what the client sent. */
static enum rpc_disp
prog_echo(struct rpc_call *call)
{
	char *buf = NULL;
	u_int len = 0;
	enum rpc_disp disp = RPC_DISP_REPLY;
	uint8_t mode;

	if (!xdr_bytes(call->args, &buf, &len, FUZZ_MAX_RECORD))
		return RPC_DISP_GARBAGE;
	mode = len ? (uint8_t)buf[0] % 5 : 0;
	switch (mode) {
	case 0:
		if (!xdr_bytes(call->res, &buf, &len, ~0u))
			disp = RPC_DISP_SYSTEM_ERR;
		break;
	case 1: {
		/* By reference, then maybe more after it (copies it in). */
		struct ref_buf *r = malloc(sizeof(*r));
		uint32_t word = len;
		/* Read now: a small reference is released before return. */
		bool more = len > 1 && (buf[1] & 1);

		if (!r) {
			disp = RPC_DISP_SYSTEM_ERR;
			break;
		}
		r->p = (uint8_t *)buf;
		buf = NULL;
		if (rpc_call_res_put_ref(call, r->p, len, ref_release, r) < 0) {
			ref_release(r);
			disp = RPC_DISP_SYSTEM_ERR;
			break;
		}
		if (more && !xdr_uint32_t(call->res, &word))
			disp = RPC_DISP_SYSTEM_ERR;
		break;
	}
	case 2: {
		/* Encode, cut back to a position the client picked, copy. */
		uint32_t pos, cut, keep;
		uint8_t *copy;

		if (!xdr_bytes(call->res, &buf, &len, ~0u)) {
			disp = RPC_DISP_SYSTEM_ERR;
			break;
		}
		pos = rpc_call_res_pos(call);
		cut = len > 1 ? (uint8_t)buf[1] : 0;
		keep = cut <= pos ? pos - cut : 0;
		VERIFY(rpc_call_res_truncate(call, keep) == 0);
		VERIFY(rpc_call_res_pos(call) == keep);
		VERIFY(rpc_call_res_truncate(call, keep + 1) == -ERANGE);
		copy = malloc(keep + 1);
		if (!copy) {
			disp = RPC_DISP_SYSTEM_ERR;
			break;
		}
		VERIFY(rpc_call_res_copy(call, 0, keep, copy) == 0);
		VERIFY(rpc_call_res_copy(call, 0, keep + 1, copy) == -ERANGE);
		free(copy);
		/* XDR alignment after a cut anywhere: pad back to 4. */
		while (rpc_call_res_pos(call) % 4) {
			VERIFY(rpc_call_res_truncate(call,
				rpc_call_res_pos(call) - 1) == 0);
		}
		break;
	}
	case 3: {
		/* Reserve what the client asks for (may pass max_reply). */
		uint32_t want = 0;

		if (len >= 5)
			memcpy(&want, buf + 1, 4);
		if (rpc_call_res_reserve(call, want) < 0)
			disp = RPC_DISP_SYSTEM_ERR;
		else if (!xdr_bytes(call->res, &buf, &len, ~0u))
			disp = RPC_DISP_SYSTEM_ERR;
		break;
	}
	default:
		disp = RPC_DISP_DROP;
		break;
	}
	free(buf);
	return disp;
}

struct cb_arg {
	char	*body;
	u_int	len;
};

static bool
cb_encode(XDR *x, void *arg)
{
	struct cb_arg *a = arg;

	return xdr_bytes(x, &a->body, &a->len, ~0u);
}

static void
cb_complete(void *ctx, int err, XDR *reply)
{
	CB_COMPOUND4res res;

	VERIFY((err == 0) == (reply != NULL));
	if (reply) {
		memset(&res, 0, sizeof(res));
		/* A failed decode leaves what it allocated: free either way. */
		(void)xdr_CB_COMPOUND4res(reply, &res);
		xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, (char *)&res);
	}
	atomic_fetch_add(&cb_done, 1);
}

static enum rpc_disp
prog_callback(struct rpc_call *call)
{
	struct cb_arg a = { NULL, 0 };
	int err;

	if (!xdr_bytes(call->args, &a.body, &a.len, 1024))
		return RPC_DISP_GARBAGE;
	err = rpc_conn_call(call->conn, FUZZ_CB_PROG, 1, 1, &call->cred,
			    cb_encode, &a, FUZZ_CB_TIMEOUT_NS, cb_complete,
			    NULL);
	if (err == 0)
		atomic_fetch_add(&cb_sent, 1);
	free(a.body);
	return RPC_DISP_REPLY;
}

static enum rpc_disp
prog_dispatch(struct rpc_call *call)
{
	switch (call->proc) {
	case 0:
		return RPC_DISP_REPLY;
	case 1:
		return prog_echo(call);
	case 2:
		return prog_callback(call);
	default:
		return RPC_DISP_GARBAGE;
	}
}

/* The peer is 127.0.0.1: the first rule applies, not '*'. */
static const char nfs_exports[] =
	"/ 127.0.0.1(rw,no_root_squash,sec=sys:none) *(ro)\n"
	"/pub *(ro,root_squash)\n";

static const struct rpc_program fuzz_prog = {
	.name = "fuzz",
	.prog = FUZZ_PROG,
	.vers_low = 1,
	.vers_high = 3,
	.nprocs = 3,
	.flavors_ok = (1u << AUTH_NONE) | (1u << AUTH_SYS),
	.dispatch = prog_dispatch,
};

static const struct rpc_program fuzz_prog_sysonly = {
	.name = "fuzz-sys",
	.prog = FUZZ_PROG_SYSONLY,
	.vers_low = 4,
	.vers_high = 4,
	.nprocs = 1,
	.flavors_ok = 1u << AUTH_SYS,
	.dispatch = prog_dispatch,
};

static void *
server_thread(void *arg)
{
	int err = rpc_server_run(fuzz_srv);

	if (err)
		fuzz_die("rpc_server_run", err);
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct rpc_server_config cfg;
	pthread_t th;
	int err;

	log_init("fuzz_rpc", LOG_LVL_ERROR, false);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	rpc_server_config_defaults(&cfg);
	cfg.max_record = FUZZ_MAX_RECORD;
	cfg.max_reply = FUZZ_MAX_REPLY;
	cfg.max_inflight_per_conn = FUZZ_MAX_INFLIGHT;
	cfg.max_conn_memory = FUZZ_MAX_CONN_MEMORY;
	cfg.nworkers = 2;
	cfg.nblocking_workers = 1;
	err = rpc_server_create(&cfg, &fuzz_srv);
	if (err)
		fuzz_die("rpc_server_create", err);
	err = rpc_server_register(fuzz_srv, &fuzz_prog);
	if (!err)
		err = rpc_server_register(fuzz_srv, &fuzz_prog_sysonly);
	if (err)
		fuzz_die("rpc_server_register", err);
	fuzz_nfs_start("rpc", fuzz_srv, nfs_exports, FUZZ_LEASE_SEC, &fuzz_nfs);
	err = rpc_server_listen(fuzz_srv, "127.0.0.1", 0, &fuzz_port);
	if (err)
		fuzz_die("rpc_server_listen", err);
	err = pthread_create(&th, NULL, server_thread, NULL);
	if (err)
		fuzz_die("pthread_create", -err);
	pthread_detach(th);
	return 0;
}

/* --- the client side ------------------------------------------------------ */

struct client {
	int			fd;
	bool			eof;		/* the server closed */
	struct rpc_record_reader in;	/* the server's output */
	struct rpc_record_reader out;	/* what we sent, to know framing */
	bool			out_broken;	/* sent a record over the limit */
	uint32_t		cb_xids[FUZZ_MAX_CB_XIDS];
	unsigned		ncb, cb_next;
	uint64_t		calls_sent;	/* complete CALL records sent */
	uint64_t		calls_base;	/* the server's count before us */
	uint64_t		replies_seen;
	bool			sentinel_seen;
	struct fuzz_handed	h;		/* what NFS replies handed out */
	uint64_t		wait_end;	/* optional waits stop here */
};

/* Deadline for an optional wait of up to ns, within the input's budget. */
static uint64_t
wait_deadline(const struct client *c, uint64_t ns)
{
	uint64_t now = clock_now_ns();

	return MIN(now + ns, MAX(now, c->wait_end));
}

/* An accepted SUCCESS reply may be an NFS COMPOUND's: learn from it. */
static void
client_nfs_reply(struct client *c, const uint8_t *rec, uint32_t len)
{
	static const uint8_t ok[16];	/* MSG_ACCEPTED, AUTH_NONE, 0, SUCCESS */
	COMPOUND4res r;
	XDR x;

	if (len <= 24 || memcmp(rec + 8, ok, sizeof(ok)) != 0)
		return;
	memset(&r, 0, sizeof(r));
	xdrmem_create(&x, (char *)(uintptr_t)(rec + 24), len - 24, XDR_DECODE);
	if (xdr_COMPOUND4res(&x, &r)) {
		fuzz_harvest(&c->h, &r);
		if (verbose) {
			fprintf(stderr, "NFS reply: status %d:", r.status);
			for (u_int i = 0; i < r.resarray.resarray_len; i++) {
				const nfs_resop4 *op = &r.resarray.resarray_val[i];
				nfsstat4 st;

				memcpy(&st, &op->nfs_resop4_u, sizeof(st));
				fprintf(stderr, " %d=%d", op->resop, st);
			}
			fprintf(stderr, "\n");
		}
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&r);
	xdr_destroy(&x);
}

static void
client_record(struct client *c, uint8_t *rec, uint32_t len)
{
	if (len >= 8) {
		uint32_t xid = (uint32_t)rec[0] << 24 | rec[1] << 16 |
			       rec[2] << 8 | rec[3];
		uint32_t mtype = (uint32_t)rec[4] << 24 | rec[5] << 16 |
				 rec[6] << 8 | rec[7];

		if (mtype == 0 && c->ncb < FUZZ_MAX_CB_XIDS)
			c->cb_xids[c->ncb++] = xid;
		if (mtype == 0 && verbose)
			fprintf(stderr, "server call xid %#x, %u bytes\n",
				xid, len);
		if (mtype == 1) {
			c->replies_seen++;
			if (verbose && len >= 24)
				fprintf(stderr, "reply xid %#x: %02x%02x %02x %02x, %u bytes\n",
					xid, rec[11], rec[15], rec[19],
					rec[23], len);
			client_nfs_reply(c, rec, len);
			if (xid == FUZZ_SENTINEL_XID)
				c->sentinel_seen = true;
		}
	}
	free(rec);
}

/* Read what the server sent, without blocking; sets eof at its close. */
static void
client_drain(struct client *c)
{
	uint8_t buf[8192];

	while (!c->eof) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		size_t off = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			c->eof = true;
			return;
		}
		while (off < (size_t)n) {
			size_t used;
			int r = rpc_record_reader_feed(&c->in, buf + off,
						       (size_t)n - off, &used);
			uint8_t *rec;
			uint32_t len;

			off += used;
			/* Our replies are bounded: the server broke framing. */
			VERIFY(r >= 0);
			if (r == 0)
				break;
			rpc_record_reader_take(&c->in, &rec, &len);
			client_record(c, rec, len);
		}
	}
}

/* Wait for input (or deadline) and read it. */
static void
client_poll(struct client *c, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = c->fd, .events = (short)(POLLIN | events) };
	uint64_t now = clock_now_ns();
	int ms = now >= deadline ? 0 : (int)((deadline - now) / NSEC_PER_MSEC) + 1;

	if (poll(&p, 1, ms > 50 ? 50 : ms) > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
		client_drain(c);
}

/* Track the framing of what we send: count complete CALL records. */
static void
client_track(struct client *c, const uint8_t *data, size_t n)
{
	size_t off = 0;

	while (!c->out_broken && off < n) {
		size_t used;
		int r = rpc_record_reader_feed(&c->out, data + off, n - off,
					       &used);
		uint8_t *rec;
		uint32_t len;

		off += used;
		if (r < 0) {
			c->out_broken = true;
			return;
		}
		if (r == 0)
			return;
		rpc_record_reader_take(&c->out, &rec, &len);
		if (len >= 8 && rec[4] == 0 && rec[5] == 0 && rec[6] == 0 &&
		    rec[7] == 0)
			c->calls_sent++;
		free(rec);
	}
}

static void client_send_raw(struct client *c, const uint8_t *data, size_t n);

/* Raw bytes, with the NFS placeholders replaced (lengths kept). */
static void
client_send(struct client *c, const uint8_t *data, size_t n)
{
	size_t len;
	uint8_t *sub = fuzz_substitute(&c->h, data, n, false, &len);

	VERIFY(len == n);
	client_send_raw(c, sub, len);
	free(sub);
}

static void
client_send_raw(struct client *c, const uint8_t *data, size_t n)
{
	size_t off = 0;
	uint64_t deadline = clock_now_ns() + FUZZ_REPLY_WAIT_NS;

	client_track(c, data, n);
	while (off < n && !c->eof) {
		ssize_t w = send(c->fd, data + off, n - off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			c->eof = true;	/* the server closed on us */
			return;
		}
		/* The server paused reading: read its replies meanwhile. */
		if (clock_now_ns() > deadline) {
			fprintf(stderr, "fuzz_rpc: server stopped reading\n");
			abort();
		}
		client_poll(c, POLLOUT, deadline);
	}
	client_drain(c);
}

static bool
at_boundary(const struct rpc_record_reader *r)
{
	return r->hdr_have == 0 && !r->in_frag && r->len == 0;
}

static void
send_reply_segment(struct client *c, const uint8_t *p, size_t n)
{
	uint8_t *rec;
	uint32_t xid;
	uint64_t deadline = wait_deadline(c, FUZZ_CB_WAIT_NS);

	/* Only at a record boundary does a whole record make sense. */
	if (!at_boundary(&c->out) || c->out_broken) {
		client_send(c, p, n);
		return;
	}
	while (c->cb_next >= c->ncb && !c->eof && clock_now_ns() < deadline)
		client_poll(c, 0, deadline);
	if (c->cb_next < c->ncb) {
		xid = htonl(c->cb_xids[c->cb_next++]);
	} else if (n >= 4) {
		memcpy(&xid, p, 4);
		p += 4;
		n -= 4;
	} else {
		xid = 0;
	}
	rec = malloc(4 + 8 + n);
	if (!rec)
		fuzz_die("malloc", -ENOMEM);
	rpc_record_mark(rec, (uint32_t)(8 + n), true);
	memcpy(rec + 4, &xid, 4);
	memset(rec + 8, 0, 3);
	rec[11] = 1;			/* REPLY */
	if (n)
		memcpy(rec + 12, p, n);
	client_send(c, rec, 4 + 8 + n);
	free(rec);
}

/* Wait until every complete call sent so far got a reply (or none comes). */
static void
wait_replies(struct client *c)
{
	uint64_t deadline = wait_deadline(c, FUZZ_REPLIES_WAIT_NS);
	struct rpc_server_stats st;

	for (;;) {
		rpc_server_get_stats(fuzz_srv, &st);
		if (c->eof || (st.calls - c->calls_base >= c->calls_sent &&
				st.replies + st.dropped >= st.calls))
			return;
		if (clock_now_ns() > deadline)
			return;		/* a parked backlog; not a hang yet */
		client_poll(c, 0, deadline);
	}
}

static void
send_sentinel(struct client *c)
{
	static const uint32_t hdr[] = {
		FUZZ_SENTINEL_XID, 0, 2, FUZZ_PROG, 1, 0, 0, 0, 0, 0,
	};
	uint8_t rec[4 + sizeof(hdr)];
	uint64_t deadline;

	rpc_record_mark(rec, sizeof(hdr), true);
	for (size_t i = 0; i < ARRAY_SIZE(hdr); i++) {
		uint32_t be = htonl(hdr[i]);

		memcpy(rec + 4 + 4 * i, &be, 4);
	}
	client_send_raw(c, rec, sizeof(rec));
	deadline = clock_now_ns() + FUZZ_REPLY_WAIT_NS;
	while (!c->sentinel_seen && !c->eof) {
		if (clock_now_ns() > deadline) {
			fprintf(stderr, "fuzz_rpc: no reply to the NULL call\n");
			abort();
		}
		client_poll(c, 0, deadline);
	}
}

/* After the close: every call read is answered or dropped, no conns. */
static void
wait_quiescent(void)
{
	uint64_t deadline = clock_now_ns() + FUZZ_QUIESCE_NS;
	struct rpc_server_stats st;

	for (;;) {
		rpc_server_get_stats(fuzz_srv, &st);
		if (st.conns_open == 0 && st.replies + st.dropped == st.calls &&
		    atomic_load(&cb_done) == atomic_load(&cb_sent))
			return;
		if (clock_now_ns() > deadline) {
			fprintf(stderr, "fuzz_rpc: server not quiescent: "
				"conns %llu calls %llu replies %llu dropped "
				"%llu cb %llu/%llu\n",
				(unsigned long long)st.conns_open,
				(unsigned long long)st.calls,
				(unsigned long long)st.replies,
				(unsigned long long)st.dropped,
				(unsigned long long)atomic_load(&cb_done),
				(unsigned long long)atomic_load(&cb_sent));
			abort();
		}
		struct timespec ts = { 0, 200 * 1000 };

		nanosleep(&ts, NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct rpc_server_stats st;
	struct client c;
	size_t off = 0;
	int one = 1;

	memset(&c, 0, sizeof(c));
	fuzz_handed_init(&c.h, inputs_run++);
	c.wait_end = clock_now_ns() + FUZZ_WAIT_BUDGET_NS;
	rpc_server_get_stats(fuzz_srv, &st);
	c.calls_base = st.calls;
	rpc_record_reader_init(&c.in, 1u << 24);
	rpc_record_reader_init(&c.out, FUZZ_MAX_RECORD);
	sin.sin_port = htons(fuzz_port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c.fd < 0)
		fuzz_die("socket", -errno);
	if (connect(c.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		fuzz_die("connect", -errno);
	(void)setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

	while (off < size && !c.eof) {
		uint8_t tag = data[off++];
		size_t len = 0;

		if (off + 2 <= size)
			len = (size_t)data[off] << 8 | data[off + 1];
		off = MIN(off + 2, size);
		len = MIN(len, size - off);
		switch (tag % 4) {
		case 2:
			send_reply_segment(&c, data + off, len);
			break;
		case 3:
			wait_replies(&c);
			/* fall through */
		default:
			client_send(&c, data + off, len);
			break;
		}
		off += len;
	}
	if (!c.eof && !c.out_broken && at_boundary(&c.out))
		send_sentinel(&c);
	close(c.fd);
	wait_quiescent();
	rpc_record_reader_free(&c.in);
	rpc_record_reader_free(&c.out);
	return 0;
}
