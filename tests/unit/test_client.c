/*
 * test_client.c - the client library against a scripted fake server: the
 * test thread accepts the library's connection and plays the server on the
 * raw socket, so each test controls exactly what the library sees (reply
 * order, DELAY answers, callbacks, a close with calls pending).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/client/client_impl.h"
#include "../testlib.h"

/* Every wait in this test is bounded; the library replies in microseconds. */
#define T_TIMEOUT_MS	5000
#define T_CB_PROG	0x40000123u

struct fake {
	int		lfd, fd;
	uint16_t	port;
	struct nc_conn	*c;
	struct rpc_record_reader rr;
};

static void
fake_open(struct fake *f)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->lfd = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(f->lfd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	REQUIRE(listen(f->lfd, 4) == 0);
	REQUIRE(getsockname(f->lfd, (struct sockaddr *)&sin, &sl) == 0);
	f->port = ntohs(sin.sin_port);
	REQUIRE(nc_conn_open("127.0.0.1", f->port, &f->c) == 0);
	f->fd = accept(f->lfd, NULL, NULL);
	REQUIRE(f->fd >= 0);
	rpc_record_reader_init(&f->rr, 1u << 20);
}

static void
fake_close(struct fake *f)
{
	nc_conn_close(f->c);
	if (f->fd >= 0)
		close(f->fd);
	close(f->lfd);
	rpc_record_reader_free(&f->rr);
}

/* Read one record from the library; NULL on timeout/EOF. */
static uint8_t *
fake_read(struct fake *f, uint32_t *len)
{
	uint8_t byte;

	for (;;) {
		struct pollfd p = { .fd = f->fd, .events = POLLIN };
		size_t used;
		int ret;

		if (poll(&p, 1, T_TIMEOUT_MS) != 1)
			return NULL;
		if (read(f->fd, &byte, 1) != 1)
			return NULL;
		/* Byte at a time: slow but keeps later records in the socket. */
		ret = rpc_record_reader_feed(&f->rr, &byte, 1, &used);
		if (ret < 0)
			return NULL;
		if (ret == 1) {
			uint8_t *buf;

			rpc_record_reader_take(&f->rr, &buf, len);
			return buf;
		}
	}
}

static void
fake_send(struct fake *f, const void *msg, uint32_t len)
{
	uint8_t hdr[4];

	rpc_record_mark(hdr, len, true);
	REQUIRE(write(f->fd, hdr, 4) == 4);
	REQUIRE(write(f->fd, msg, len) == (ssize_t)len);
}

/* Offset of the call body in a CALL record (after cred and verifier). */
static uint32_t
call_body_off(const uint8_t *rec, uint32_t len)
{
	uint32_t off = 24;
	int k;

	for (k = 0; k < 2; k++) {
		REQUIRE(len >= off + 8);
		off += 8 + ROUND_UP(nc_get32(rec + off + 4), 4);
	}
	REQUIRE(off <= len);
	return off;
}

/* Reply SUCCESS to xid with body produced by enc(arg). */
static void
fake_reply(struct fake *f, uint32_t xid, xdrproc_t enc, void *arg)
{
	uint8_t buf[8192];
	uint32_t hdr[6] = { xid, REPLY, MSG_ACCEPTED, AUTH_NONE, 0, SUCCESS };
	XDR x;
	unsigned i;

	xdrmem_create(&x, (char *)buf, sizeof(buf), XDR_ENCODE);
	for (i = 0; i < 6; i++)
		REQUIRE(xdr_u_int32_t(&x, &hdr[i]));
	if (enc)
		REQUIRE(enc(&x, arg));
	fake_send(f, buf, xdr_getpos(&x));
	xdr_destroy(&x);
}

/* Read a COMPOUND call and decode its args. */
static uint32_t
fake_read_compound(struct fake *f, COMPOUND4args *args)
{
	uint32_t len, off, xid;
	uint8_t *rec = fake_read(f, &len);
	XDR x;

	REQUIRE(rec);
	xid = nc_get32(rec);
	CHECK_EQ(nc_get32(rec + 12), NC_NFS_PROGRAM);
	CHECK_EQ(nc_get32(rec + 16), NC_NFS_VERSION);
	CHECK_EQ(nc_get32(rec + 20), NC_NFSPROC_COMPOUND);
	off = call_body_off(rec, len);
	memset(args, 0, sizeof(*args));
	xdrmem_create(&x, (char *)rec + off, len - off, XDR_DECODE);
	REQUIRE(xdr_COMPOUND4args(&x, args));
	xdr_destroy(&x);
	free(rec);
	return xid;
}

/* Many calls outstanding, answered in reverse order: all matched by xid. */
#define T_PIPELINE	32
static void
test_pipelined_out_of_order(void)
{
	struct fake f;
	struct nc_call *calls[T_PIPELINE];
	uint32_t xids[T_PIPELINE];
	struct nc_rpc_reply r;
	int i;

	fake_open(&f);
	for (i = 0; i < T_PIPELINE; i++)
		REQUIRE(nc_call_start(f.c, NC_NFS_PROGRAM, NC_NFS_VERSION, 0,
				      NULL, NULL, NULL, NULL, &calls[i]) == 0);
	for (i = 0; i < T_PIPELINE; i++) {
		uint32_t len;
		uint8_t *rec = fake_read(&f, &len);

		REQUIRE(rec);
		xids[i] = nc_get32(rec);
		CHECK_EQ(xids[i], nc_call_xid(calls[i]));
		CHECK_EQ(nc_get32(rec + 4), CALL);
		CHECK_EQ(nc_get32(rec + 8), 2);
		free(rec);
	}
	for (i = T_PIPELINE - 1; i >= 0; i--)
		fake_reply(&f, xids[i], NULL, NULL);
	for (i = 0; i < T_PIPELINE; i++) {
		CHECK_EQ(nc_call_wait(calls[i], T_TIMEOUT_MS * NSEC_PER_MSEC), 0);
		CHECK_EQ(nc_call_parse(calls[i], &r), 0);
		CHECK_EQ(r.xid, xids[i]);
		CHECK_EQ(r.reply_stat, MSG_ACCEPTED);
		CHECK_EQ(r.accept_stat, SUCCESS);
		nc_call_free(calls[i]);
	}
	fake_close(&f);
}

/* Denied replies and PROG_MISMATCH are parsed into their fields. */
static void
test_reply_parse(void)
{
	struct fake f;
	struct nc_call *call;
	struct nc_rpc_reply r;
	uint8_t msg[32];
	uint32_t len;
	uint8_t *rec;

	fake_open(&f);
	REQUIRE(nc_call_start(f.c, 7, 1, 0, NULL, NULL, NULL, NULL, &call) == 0);
	rec = fake_read(&f, &len);
	REQUIRE(rec);
	nc_put32(msg, nc_get32(rec));
	nc_put32(msg + 4, REPLY);
	nc_put32(msg + 8, MSG_ACCEPTED);
	nc_put32(msg + 12, AUTH_NONE);
	nc_put32(msg + 16, 0);
	nc_put32(msg + 20, PROG_MISMATCH);
	nc_put32(msg + 24, 4);
	nc_put32(msg + 28, 4);
	fake_send(&f, msg, 32);
	free(rec);
	CHECK_EQ(nc_call_wait(call, T_TIMEOUT_MS * NSEC_PER_MSEC), 0);
	CHECK_EQ(nc_call_parse(call, &r), 0);
	CHECK_EQ(r.accept_stat, PROG_MISMATCH);
	CHECK_EQ(r.low, 4);
	CHECK_EQ(r.high, 4);
	nc_call_free(call);

	REQUIRE(nc_conn_set_auth_sys(f.c, 1000, 100) == 0);
	REQUIRE(nc_call_start(f.c, 7, 1, 0, NULL, NULL, NULL, NULL, &call) == 0);
	rec = fake_read(&f, &len);
	REQUIRE(rec);
	CHECK_EQ(nc_get32(rec + 24), AUTH_SYS);
	nc_put32(msg, nc_get32(rec));
	nc_put32(msg + 8, MSG_DENIED);
	nc_put32(msg + 12, AUTH_ERROR);
	nc_put32(msg + 16, AUTH_TOOWEAK);
	fake_send(&f, msg, 20);
	free(rec);
	CHECK_EQ(nc_call_wait(call, T_TIMEOUT_MS * NSEC_PER_MSEC), 0);
	CHECK_EQ(nc_call_parse(call, &r), 0);
	CHECK_EQ(r.reply_stat, MSG_DENIED);
	CHECK_EQ(r.reject_stat, AUTH_ERROR);
	CHECK_EQ(r.auth_stat, AUTH_TOOWEAK);
	nc_call_free(call);
	fake_close(&f);
}

/* The server closing the connection fails pending calls, it does not hang. */
static void
test_close_fails_pending(void)
{
	struct fake f;
	struct nc_call *call;
	uint32_t len;
	uint8_t *rec;

	fake_open(&f);
	REQUIRE(nc_call_start(f.c, 7, 1, 0, NULL, NULL, NULL, NULL, &call) == 0);
	rec = fake_read(&f, &len);
	REQUIRE(rec);
	free(rec);
	close(f.fd);
	f.fd = -1;
	CHECK_EQ(nc_call_wait(call, T_TIMEOUT_MS * NSEC_PER_MSEC), -ECONNRESET);
	CHECK_EQ(nc_conn_wait_closed(f.c, T_TIMEOUT_MS * NSEC_PER_MSEC), 0);
	CHECK(nc_conn_is_closed(f.c));
	nc_call_free(call);
	fake_close(&f);
}

/* The fake server's side of CREATE_SESSION, run on a helper thread. */
struct responder {
	struct fake	*f;
	unsigned char	*sid;
	int		result;		/* 0 when everything looked right */
};

static void *
create_session_responder(void *arg)
{
	struct responder *r = arg;
	struct fake *f = r->f;
	COMPOUND4args args;
	COMPOUND4res res;
	nfs_resop4 rop;
	CREATE_SESSION4resok *ok;
	uint32_t xid = fake_read_compound(f, &args);

	r->result = 2;
	if (args.argarray.argarray_len != 1 ||
	    args.argarray.argarray_val[0].argop != OP_CREATE_SESSION ||
	    args.argarray.argarray_val[0].nfs_argop4_u.opcreate_session
		    .csa_cb_program != T_CB_PROG)
		goto out;
	memset(&res, 0, sizeof(res));
	memset(&rop, 0, sizeof(rop));
	rop.resop = OP_CREATE_SESSION;
	ok = &rop.nfs_resop4_u.opcreate_session.CREATE_SESSION4res_u.csr_resok4;
	memcpy(ok->csr_sessionid, r->sid, NFS4_SESSIONID_SIZE);
	ok->csr_sequence = 1;
	ok->csr_flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	ok->csr_fore_chan_attrs.ca_maxrequests = 4;
	ok->csr_back_chan_attrs.ca_maxrequests = 2;
	res.resarray.resarray_len = 1;
	res.resarray.resarray_val = &rop;
	fake_reply(f, xid, (xdrproc_t)xdr_COMPOUND4res, &res);
	r->result = 0;
out:
	xdr_free((xdrproc_t)xdr_COMPOUND4args, &args);
	return NULL;
}

/* Create a session on the fake server; returns it bound for callbacks. */
static struct nc_session *
fake_session(struct fake *f, sessionid4 sid)
{
	struct nc_clientid cl = { .clientid = 0x1122334455667788ull,
				  .sequence = 1 };
	struct nc_session_opts o;
	struct nc_session *s = NULL;
	struct responder r = { f, (unsigned char *)sid, -1 };
	nfsstat4 status = NFS4ERR_IO;
	pthread_t t;

	memset(sid, 0xab, NFS4_SESSIONID_SIZE);
	nc_session_opts_init(&o);
	o.cb_program = T_CB_PROG;
	/* The library blocks for the reply: answer from a helper thread. */
	REQUIRE(pthread_create(&t, NULL, create_session_responder, &r) == 0);
	CHECK_EQ(nc_create_session(f->c, &cl, &o, &s, &status), 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	CHECK_EQ(r.result, 0);
	CHECK_EQ(status, NFS4_OK);
	CHECK_EQ(cl.sequence, 2);
	REQUIRE(s);
	CHECK(!memcmp(nc_session_info(s)->sessionid, sid, NFS4_SESSIONID_SIZE));
	CHECK_EQ(nc_session_info(s)->fore.ca_maxrequests, 4);
	return s;
}

/* Answer SEQUENCE with seq_status (and op 2 with op_status). */
static void
fake_answer_sequence(struct fake *f, uint32_t xid, const COMPOUND4args *a,
		     nfsstat4 seq_status, nfsstat4 op_status)
{
	COMPOUND4res res;
	nfs_resop4 rops[2];
	const SEQUENCE4args *sa = &a->argarray.argarray_val[0].nfs_argop4_u.opsequence;
	SEQUENCE4resok *ok;

	memset(&res, 0, sizeof(res));
	memset(rops, 0, sizeof(rops));
	rops[0].resop = OP_SEQUENCE;
	rops[0].nfs_resop4_u.opsequence.sr_status = seq_status;
	ok = &rops[0].nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4;
	memcpy(ok->sr_sessionid, sa->sa_sessionid, NFS4_SESSIONID_SIZE);
	ok->sr_sequenceid = sa->sa_sequenceid;
	ok->sr_slotid = sa->sa_slotid;
	ok->sr_highest_slotid = 3;
	ok->sr_target_highest_slotid = 3;
	ok->sr_status_flags = SEQ4_STATUS_CB_PATH_DOWN;
	res.status = seq_status;
	res.resarray.resarray_len = 1;
	res.resarray.resarray_val = rops;
	if (seq_status == NFS4_OK) {
		rops[1].resop = OP_PUTROOTFH;
		rops[1].nfs_resop4_u.opputrootfh.status = op_status;
		res.resarray.resarray_len = 2;
		res.status = op_status;
	}
	fake_reply(f, xid, (xdrproc_t)xdr_COMPOUND4res, &res);
}

/*
 * RFC 8881 §2.10.6.2: DELAY from SEQUENCE means the seqid was not used
 * (retry with the same one); DELAY from a later op means SEQUENCE was done
 * (the retry is a new request, next seqid).
 */
static void *
delay_responder(void *arg)
{
	struct responder *r = arg;
	static const nfsstat4 seq_st[3] = { NFS4ERR_DELAY, NFS4_OK, NFS4_OK };
	static const nfsstat4 op_st[3] = { NFS4_OK, NFS4ERR_DELAY, NFS4_OK };
	uint32_t seqs[3], xid;
	COMPOUND4args a;
	int i;

	r->result = 3;
	for (i = 0; i < 3; i++) {
		xid = fake_read_compound(r->f, &a);
		if (a.argarray.argarray_len != 2 ||
		    memcmp(a.argarray.argarray_val[0].nfs_argop4_u.opsequence
				   .sa_sessionid, r->sid, NFS4_SESSIONID_SIZE)) {
			xdr_free((xdrproc_t)xdr_COMPOUND4args, &a);
			return NULL;
		}
		seqs[i] = a.argarray.argarray_val[0].nfs_argop4_u.opsequence
				  .sa_sequenceid;
		fake_answer_sequence(r->f, xid, &a, seq_st[i], op_st[i]);
		xdr_free((xdrproc_t)xdr_COMPOUND4args, &a);
	}
	/* 1 (DELAY at SEQUENCE), 1 again, then 2 after the op's DELAY. */
	r->result = seqs[0] == 1 && seqs[1] == 1 && seqs[2] == 2 ? 0 : 4;
	return NULL;
}

static void
test_session_delay_retry(void)
{
	struct fake f;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;
	sessionid4 sid;
	struct responder r = { &f, (unsigned char *)sid, -1 };
	uint32_t flags = 0;
	slotid4 slot;
	sequenceid4 seq;
	pthread_t t;

	fake_open(&f);
	s = fake_session(&f, sid);
	REQUIRE(pthread_create(&t, NULL, delay_responder, &r) == 0);
	nc_session_compound_init(&cp, "delay");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	CHECK_EQ(nc_session_compound(s, &cp, 0, &res, &flags), 0);
	CHECK_EQ(res.status, NFS4_OK);
	CHECK_EQ(nc_res_status(&res, 1), NFS4_OK);
	CHECK_EQ(flags, SEQ4_STATUS_CB_PATH_DOWN);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	REQUIRE(pthread_join(t, NULL) == 0);
	CHECK_EQ(r.result, 0);
	/* The slot's next seqid is 3 now. */
	CHECK_EQ(nc_slot_acquire(s, NSEC_PER_SEC, &slot, &seq), 0);
	CHECK_EQ(slot, 0);
	CHECK_EQ(seq, 3);
	nc_slot_release(s, slot, false);
	nc_session_free(s);
	fake_close(&f);
}

/* Completions of the asynchronous session test. */
struct async_ctx {
	struct mutex	lock;
	struct condvar	cond;
	unsigned	done;
};

static void
async_done(struct nc_call *call, void *arg)
{
	struct async_ctx *a = arg;

	mutex_lock(&a->lock);
	a->done++;
	condvar_broadcast(&a->cond);
	mutex_unlock(&a->lock);
}

/*
 * nc_session_compound_start(): three compounds in flight take slots 0-2;
 * replies come back in reverse order; each releases its slot - seqid used
 * up on NFS4_OK, kept on a SEQUENCE error - before done runs.
 */
static void
test_session_async(void)
{
	struct fake f;
	struct nc_session *s;
	struct nc_compound cp;
	struct nc_call *calls[3];
	COMPOUND4args a[3];
	uint32_t xids[3];
	sessionid4 sid;
	struct async_ctx ac;
	uint64_t deadline;
	slotid4 slot[4];
	sequenceid4 seq[4];
	int i;

	memset(&ac, 0, sizeof(ac));
	mutex_init(&ac.lock, "async");
	condvar_init(&ac.cond);
	fake_open(&f);
	s = fake_session(&f, sid);
	nc_session_compound_init(&cp, "async");
	for (i = 0; i < 3; i++)
		REQUIRE(nc_session_compound_start(s, &cp, 0, async_done, &ac,
						  &calls[i]) == 0);
	for (i = 0; i < 3; i++) {
		xids[i] = fake_read_compound(&f, &a[i]);
		CHECK_EQ(a[i].argarray.argarray_val[0].nfs_argop4_u.opsequence
				 .sa_slotid, i);
		CHECK_EQ(a[i].argarray.argarray_val[0].nfs_argop4_u.opsequence
				 .sa_sequenceid, 1);
	}
	/* Slot 1's SEQUENCE fails (seqid not used); 2 and 0 succeed. */
	fake_answer_sequence(&f, xids[2], &a[2], NFS4_OK, NFS4_OK);
	fake_answer_sequence(&f, xids[1], &a[1], NFS4ERR_BADSLOT, 0);
	fake_answer_sequence(&f, xids[0], &a[0], NFS4_OK, NFS4_OK);
	deadline = clock_now_ns() + T_TIMEOUT_MS * NSEC_PER_MSEC;
	mutex_lock(&ac.lock);
	while (ac.done < 3 &&
	       condvar_wait_until(&ac.cond, &ac.lock, deadline) == 0)
		;
	CHECK_EQ(ac.done, 3);
	mutex_unlock(&ac.lock);
	for (i = 0; i < 4; i++)
		CHECK_EQ(nc_slot_acquire(s, NSEC_PER_SEC, &slot[i], &seq[i]), 0);
	CHECK_EQ(seq[0], 2);
	CHECK_EQ(seq[1], 1);
	CHECK_EQ(seq[2], 2);
	CHECK_EQ(seq[3], 1);
	for (i = 0; i < 4; i++)
		nc_slot_release(s, slot[i], false);
	for (i = 0; i < 3; i++) {
		xdr_free((xdrproc_t)xdr_COMPOUND4args, &a[i]);
		nc_call_free(calls[i]);
	}
	nc_session_free(s);
	fake_close(&f);
	condvar_destroy(&ac.cond);
	mutex_destroy(&ac.lock);
}

/* Send a CB_COMPOUND from the fake server. */
/* The tag fake_cb_compound() sends (empty decodes as a NULL pointer). */
static const char *fake_cb_tag = "cbtag";

static void
fake_cb_compound(struct fake *f, uint32_t xid, uint32_t prog,
		 const sessionid4 sid, uint32_t slot, uint32_t seq,
		 bool with_recall)
{
	uint8_t buf[2048];
	uint32_t hdr[10] = { xid, CALL, 2, prog, 1, NC_CB_PROC_COMPOUND,
			     AUTH_NONE, 0, AUTH_NONE, 0 };
	CB_COMPOUND4args a;
	nfs_cb_argop4 ops[2];
	XDR x;
	unsigned i;

	memset(&a, 0, sizeof(a));
	memset(ops, 0, sizeof(ops));
	a.tag.utf8string_val = (char *)fake_cb_tag;
	a.tag.utf8string_len = (u_int)strlen(fake_cb_tag);
	a.minorversion = 1;
	ops[0].argop = OP_CB_SEQUENCE;
	memcpy(ops[0].nfs_cb_argop4_u.opcbsequence.csa_sessionid, sid, 16);
	ops[0].nfs_cb_argop4_u.opcbsequence.csa_sequenceid = seq;
	ops[0].nfs_cb_argop4_u.opcbsequence.csa_slotid = slot;
	ops[1].argop = OP_CB_RECALL_ANY;
	ops[1].nfs_cb_argop4_u.opcbrecall_any.craa_objects_to_keep = 0;
	a.argarray.argarray_len = with_recall ? 2 : 1;
	a.argarray.argarray_val = ops;
	xdrmem_create(&x, (char *)buf, sizeof(buf), XDR_ENCODE);
	for (i = 0; i < 10; i++)
		REQUIRE(xdr_u_int32_t(&x, &hdr[i]));
	REQUIRE(xdr_CB_COMPOUND4args(&x, &a));
	fake_send(f, buf, xdr_getpos(&x));
	xdr_destroy(&x);
}

static void
fake_cb_null(struct fake *f, uint32_t xid, uint32_t prog)
{
	uint8_t buf[40];
	uint32_t hdr[10] = { xid, CALL, 2, prog, 1, NC_CB_PROC_NULL,
			     AUTH_NONE, 0, AUTH_NONE, 0 };
	unsigned i;

	for (i = 0; i < 10; i++)
		nc_put32(buf + 4 * i, hdr[i]);
	fake_send(f, buf, sizeof(buf));
}

/* Decode a CB reply: returns CB_COMPOUND4res status, or -accept_stat. */
static long
fake_cb_reply(struct fake *f, uint32_t xid, CB_COMPOUND4res *res,
	      uint8_t **raw, uint32_t *rawlen)
{
	uint32_t len;
	uint8_t *rec = fake_read(f, &len);
	XDR x;
	long ret;

	REQUIRE(rec);
	REQUIRE(len >= 24);
	CHECK_EQ(nc_get32(rec), xid);
	CHECK_EQ(nc_get32(rec + 4), REPLY);
	CHECK_EQ(nc_get32(rec + 8), MSG_ACCEPTED);
	if (nc_get32(rec + 20) != SUCCESS) {
		ret = -(long)nc_get32(rec + 20);
		free(rec);
		return ret;
	}
	memset(res, 0, sizeof(*res));
	if (len == 24) {
		free(rec);
		return 0;	/* CB_NULL */
	}
	xdrmem_create(&x, (char *)rec + 24, len - 24, XDR_DECODE);
	REQUIRE(xdr_CB_COMPOUND4res(&x, res));
	xdr_destroy(&x);
	ret = res->status;
	if (raw) {
		*raw = rec;
		*rawlen = len;
	} else {
		free(rec);
	}
	return ret;
}

static int hook_calls;
static enum nc_cb_action hook_action = NC_CB_ANSWER;
static nfsstat4 hook_status = NFS4_OK;

static enum nc_cb_action
test_hook(void *ctx, struct nc_conn *c, const nfs_cb_argop4 *op,
	  nfsstat4 *status)
{
	hook_calls++;
	if (op->argop == OP_CB_RECALL_ANY)
		*status = hook_status;
	return hook_action;
}

/*
 * Back channel: CB_NULL, CB_SEQUENCE slot rules (new, replay with identical
 * bytes, misordered, bad slot, bad session), the hook's status and drop.
 */
static void
test_back_channel(void)
{
	struct fake f;
	struct nc_session *s;
	sessionid4 sid, other;
	CB_COMPOUND4res res;
	uint8_t *raw1, *raw2;
	uint32_t len1, len2;
	struct nc_cb_stats st;

	fake_open(&f);
	s = fake_session(&f, sid);
	nc_conn_set_cb_hook(f.c, test_hook, NULL);

	fake_cb_null(&f, 100, T_CB_PROG);
	CHECK_EQ(fake_cb_reply(&f, 100, &res, NULL, NULL), 0);
	CHECK_EQ(nc_conn_wait_cb(f.c, offsetof(struct nc_cb_stats, cb_null), 1,
				 NSEC_PER_SEC), 0);
	fake_cb_null(&f, 101, T_CB_PROG + 1);
	CHECK_EQ(fake_cb_reply(&f, 101, &res, NULL, NULL), -(long)PROG_UNAVAIL);

	/* New request on slot 0 with seqid 1. */
	fake_cb_compound(&f, 102, T_CB_PROG, sid, 0, 1, true);
	CHECK_EQ(fake_cb_reply(&f, 102, &res, &raw1, &len1), NFS4_OK);
	CHECK_EQ(res.resarray.resarray_len, 2);
	CHECK_EQ(res.resarray.resarray_val[0].resop, OP_CB_SEQUENCE);
	CHECK_EQ(res.resarray.resarray_val[0].nfs_cb_resop4_u.opcbsequence
			 .CB_SEQUENCE4res_u.csr_resok4.csr_sequenceid, 1);
	CHECK_EQ(res.resarray.resarray_val[1].resop, OP_CB_RECALL_ANY);
	CHECK_EQ(res.tag.utf8string_len, 5);
	CHECK_EQ(hook_calls, 1);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);

	/* Same seqid again: the cached reply, byte for byte (past the xid). */
	fake_cb_compound(&f, 102, T_CB_PROG, sid, 0, 1, true);
	CHECK_EQ(fake_cb_reply(&f, 102, &res, &raw2, &len2), NFS4_OK);
	CHECK_EQ(len1, len2);
	CHECK(len1 == len2 && !memcmp(raw1, raw2, len1));
	CHECK_EQ(hook_calls, 1);	/* not executed again */
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);
	free(raw1);
	free(raw2);

	/* Skipping a seqid is misordered; slot 2 of 2 is bad; unknown session. */
	fake_cb_compound(&f, 103, T_CB_PROG, sid, 0, 3, false);
	CHECK_EQ(fake_cb_reply(&f, 103, &res, NULL, NULL), NFS4ERR_SEQ_MISORDERED);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);
	fake_cb_compound(&f, 104, T_CB_PROG, sid, 2, 1, false);
	CHECK_EQ(fake_cb_reply(&f, 104, &res, NULL, NULL), NFS4ERR_BADSLOT);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);
	memset(other, 0x11, sizeof(other));
	fake_cb_compound(&f, 105, T_CB_PROG, other, 0, 2, false);
	CHECK_EQ(fake_cb_reply(&f, 105, &res, NULL, NULL), NFS4ERR_BADSESSION);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);

	/* The hook answers DELAY. */
	hook_status = NFS4ERR_DELAY;
	fake_cb_compound(&f, 106, T_CB_PROG, sid, 0, 2, true);
	CHECK_EQ(fake_cb_reply(&f, 106, &res, NULL, NULL), NFS4ERR_DELAY);
	CHECK_EQ(res.resarray.resarray_len, 2);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);

	/* The hook drops: no reply; the next thing we read is CB_NULL's. */
	hook_action = NC_CB_DROP;
	fake_cb_compound(&f, 107, T_CB_PROG, sid, 1, 1, true);
	fake_cb_null(&f, 108, T_CB_PROG);
	CHECK_EQ(fake_cb_reply(&f, 108, &res, NULL, NULL), 0);
	nc_conn_cb_stats(f.c, &st);
	CHECK_EQ(st.dropped, 1);
	CHECK_EQ(st.cb_null, 2);
	CHECK_EQ(st.ops[OP_CB_RECALL_ANY], 3);
	/* Deferred: nothing until the test releases it, then the answer. */
	hook_action = NC_CB_DEFER;
	hook_status = NFS4_OK;
	fake_cb_compound(&f, 109, T_CB_PROG, sid, 1, 1, true);
	fake_cb_null(&f, 110, T_CB_PROG);
	CHECK_EQ(fake_cb_reply(&f, 110, &res, NULL, NULL), 0);
	CHECK_EQ(nc_conn_wait_cb(f.c, offsetof(struct nc_cb_stats, deferred),
				 1, NSEC_PER_SEC), 0);
	CHECK_EQ(nc_conn_cb_send_deferred(f.c), 1);
	CHECK_EQ(fake_cb_reply(&f, 109, &res, NULL, NULL), NFS4_OK);
	CHECK_EQ(res.resarray.resarray_len, 2);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);
	CHECK_EQ(nc_conn_cb_send_deferred(f.c), 0);
	hook_action = NC_CB_ANSWER;
	hook_status = NFS4_OK;

	/* An empty tag is echoed empty (it decodes as NULL: no memcpy from it). */
	fake_cb_tag = "";
	fake_cb_compound(&f, 111, T_CB_PROG, sid, 1, 2, false);
	CHECK_EQ(fake_cb_reply(&f, 111, &res, NULL, NULL), NFS4_OK);
	CHECK_EQ(res.tag.utf8string_len, 0);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, &res);
	fake_cb_tag = "cbtag";

	nc_session_free(s);
	fake_close(&f);
}

/* IPv6: the library connects to "::1" the same way (skipped without v6). */
static void
test_ipv6(void)
{
	struct sockaddr_in6 sin6;
	socklen_t sl = sizeof(sin6);
	struct nc_conn *c;
	struct nc_call *call;
	struct nc_rpc_reply r;
	uint8_t msg[24];
	uint32_t len;
	uint8_t *rec;
	struct fake f;
	int lfd;

	lfd = socket(AF_INET6, SOCK_STREAM, 0);
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	sin6.sin6_addr = in6addr_loopback;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin6, sizeof(sin6))) {
		fprintf(stderr, "  (no IPv6 loopback: case skipped)\n");
		if (lfd >= 0)
			close(lfd);
		return;
	}
	REQUIRE(listen(lfd, 1) == 0);
	REQUIRE(getsockname(lfd, (struct sockaddr *)&sin6, &sl) == 0);
	REQUIRE(nc_conn_open("::1", ntohs(sin6.sin6_port), &c) == 0);
	memset(&f, 0, sizeof(f));
	f.fd = accept(lfd, NULL, NULL);
	REQUIRE(f.fd >= 0);
	rpc_record_reader_init(&f.rr, 1u << 20);
	REQUIRE(nc_call_start(c, 7, 1, 0, NULL, NULL, NULL, NULL, &call) == 0);
	rec = fake_read(&f, &len);
	REQUIRE(rec);
	nc_put32(msg, nc_get32(rec));
	nc_put32(msg + 4, REPLY);
	nc_put32(msg + 8, MSG_ACCEPTED);
	nc_put32(msg + 12, AUTH_NONE);
	nc_put32(msg + 16, 0);
	nc_put32(msg + 20, SUCCESS);
	fake_send(&f, msg, sizeof(msg));
	free(rec);
	CHECK_EQ(nc_call_wait(call, T_TIMEOUT_MS * NSEC_PER_MSEC), 0);
	CHECK_EQ(nc_call_parse(call, &r), 0);
	CHECK_EQ(r.accept_stat, SUCCESS);
	nc_call_free(call);
	nc_conn_close(c);
	close(f.fd);
	close(lfd);
	rpc_record_reader_free(&f.rr);
	/* Nothing listens on this port any more: a clean error. */
	CHECK(nc_conn_open("::1", ntohs(sin6.sin6_port), &c) < 0);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	alarm(60);	/* a hang is a failure, not a stuck CI job */
	TEST_RUN(test_pipelined_out_of_order);
	TEST_RUN(test_reply_parse);
	TEST_RUN(test_close_fails_pending);
	TEST_RUN(test_session_delay_retry);
	TEST_RUN(test_session_async);
	TEST_RUN(test_back_channel);
	TEST_RUN(test_ipv6);
	TEST_EXIT();
}
