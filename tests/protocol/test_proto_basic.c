/*
 * test_proto_basic.c - RPC and COMPOUND basics against a running pmemnfsd:
 * NULL, RPC-level errors, tag echo, minor version, illegal operations,
 * operations outside a session, and pipelined calls on one connection.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "harness.h"
#include "../testlib.h"

static struct h_server srv;

/* Wait for a reply to the call; returns its parsed header. */
static struct nc_rpc_reply
reply_of(struct nc_conn *c, uint32_t prog, uint32_t vers, uint32_t proc)
{
	struct nc_rpc_reply r;

	memset(&r, 0xff, sizeof(r));
	CHECK_EQ(h_call(c, prog, vers, proc, NULL, 0, &r, NULL), 0);
	return r;
}

/*
 * RFC 8881 §16.1: "The NFSv4 protocol has two procedures: NULL and
 * COMPOUND"; NULL takes and returns nothing.  RFC 5531 §9 for the
 * program/version/procedure errors.
 */
static void
test_null_and_rpc_errors(void)
{
	struct nc_conn *c;
	struct nc_rpc_reply r;
	struct nc_call *call;
	uint32_t len;

	REQUIRE(h_connect(&srv, &c) == 0);
	CHECK_EQ(h_call(c, NC_NFS_PROGRAM, NC_NFS_VERSION, 0, NULL, 0, &r,
			&call), 0);
	CHECK_EQ(r.reply_stat, MSG_ACCEPTED);
	CHECK_EQ(r.accept_stat, SUCCESS);
	(void)nc_call_reply(call, &len);
	CHECK_EQ(r.body_off, len);	/* NULL returns void */
	nc_call_free(call);

	r = reply_of(c, 100099, 1, 0);
	CHECK_EQ(r.reply_stat, MSG_ACCEPTED);
	CHECK_EQ(r.accept_stat, PROG_UNAVAIL);

	/* Only version 4 is served: PROG_MISMATCH names the range 4..4. */
	r = reply_of(c, NC_NFS_PROGRAM, 3, 0);
	CHECK_EQ(r.accept_stat, PROG_MISMATCH);
	CHECK_EQ(r.low, 4);
	CHECK_EQ(r.high, 4);

	r = reply_of(c, NC_NFS_PROGRAM, NC_NFS_VERSION, 2);
	CHECK_EQ(r.reply_stat, MSG_ACCEPTED);
	CHECK_EQ(r.accept_stat, PROC_UNAVAIL);
	nc_conn_close(c);
}

/*
 * RFC 8881 §16.2.3: "the value of 'tag' in the response SHOULD be the same
 * value as provided in the request" - we hold the server to it, for
 * successful and failing compounds alike.
 */
static void
test_tag_echo(void)
{
	static const char tag[] = "pmemnfs tag echo \xc3\xa9 0123456789";
	struct nc_conn *c;
	struct nc_compound cp;
	COMPOUND4res res;

	REQUIRE(h_connect(&srv, &c) == 0);
	nc_compound_init(&cp, tag, 1);
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	REQUIRE(nc_compound(c, &cp, &res, NULL) == 0);
	CHECK_EQ(res.tag.utf8string_len, strlen(tag));
	CHECK(res.tag.utf8string_len == strlen(tag) &&
	      !memcmp(res.tag.utf8string_val, tag, strlen(tag)));
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);

	/* An empty tag comes back empty. */
	nc_compound_init(&cp, NULL, 1);
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	REQUIRE(nc_compound(c, &cp, &res, NULL) == 0);
	CHECK_EQ(res.tag.utf8string_len, 0);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	nc_conn_close(c);
}

/*
 * RFC 8881 §16.2.3 (COMPOUND): a minor version the server does not support
 * gets NFS4ERR_MINOR_VERS_MISMATCH with a zero-length result array; the
 * tag is still echoed.  This server serves minor versions 1 and 2 only.
 */
static void
test_minor_version(void)
{
	static const uint32_t bad[] = { 0, 3, 99, 0xffffffffu };
	struct nc_conn *c;
	struct nc_compound cp;
	COMPOUND4res res;
	unsigned i;

	REQUIRE(h_connect(&srv, &c) == 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		nc_compound_init(&cp, "minorvers", bad[i]);
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		REQUIRE(nc_compound(c, &cp, &res, NULL) == 0);
		CHECK_EQ(res.status, NFS4ERR_MINOR_VERS_MISMATCH);
		CHECK_EQ(res.resarray.resarray_len, 0);
		CHECK_EQ(res.tag.utf8string_len, strlen("minorvers"));
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	nc_conn_close(c);
}

/*
 * RFC 8881 §18.52 (ILLEGAL): an operation number outside the
 * defined range gets NFS4ERR_OP_ILLEGAL, and the result carries the op
 * code OP_ILLEGAL, not the number sent.  As the only op (no SEQUENCE) and
 * after a SEQUENCE alike.
 */
static void
test_illegal_op(void)
{
	static const uint32_t ops[] = { 0, 1, 2, 9999, OP_ILLEGAL + 1 };
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;
	unsigned i;

	REQUIRE(h_session(&srv, h_owner("illegal"), NULL, &c, &s) == 0);
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		nc_compound_init(&cp, "illegal", 1);
		REQUIRE(nc_compound_add(&cp, (nfs_opnum4)ops[i]));
		REQUIRE(nc_compound(c, &cp, &res, NULL) == 0);
		CHECK_EQ(res.status, NFS4ERR_OP_ILLEGAL);
		CHECK_EQ(res.resarray.resarray_len, 1);
		if (res.resarray.resarray_len == 1)
			CHECK_EQ(res.resarray.resarray_val[0].resop, OP_ILLEGAL);
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);

		nc_session_compound_init(&cp, "illegal-in-session");
		REQUIRE(nc_compound_add(&cp, (nfs_opnum4)ops[i]));
		REQUIRE(nc_session_compound(s, &cp, 0, &res, NULL) == 0);
		CHECK_EQ(res.status, NFS4ERR_OP_ILLEGAL);
		CHECK_EQ(res.resarray.resarray_len, 2);
		CHECK_EQ(nc_res_status(&res, 0), NFS4_OK);
		if (res.resarray.resarray_len == 2)
			CHECK_EQ(res.resarray.resarray_val[1].resop, OP_ILLEGAL);
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	h_session_free(c, s);
}

/*
 * RFC 8881 §2.10.6.4 / §18.46.3: in minor version 1 every COMPOUND that is
 * not one of the session-less forms (a lone EXCHANGE_ID, CREATE_SESSION,
 * DESTROY_SESSION, DESTROY_CLIENTID, BIND_CONN_TO_SESSION) must start with
 * SEQUENCE: "If SEQUENCE is not the first operation ... the server MUST
 * return NFS4ERR_OP_NOT_IN_SESSION".
 */
static void
test_not_in_session(void)
{
	static const nfs_opnum4 ops[] = { OP_PUTROOTFH, OP_GETFH,
					  OP_RECLAIM_COMPLETE, OP_GETATTR };
	struct nc_conn *c;
	struct nc_compound cp;
	COMPOUND4res res;
	unsigned i;

	REQUIRE(h_connect(&srv, &c) == 0);
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		nc_compound_init(&cp, "nosession", 1);
		REQUIRE(nc_compound_add(&cp, ops[i]));
		REQUIRE(nc_compound_add(&cp, OP_GETFH));
		REQUIRE(nc_compound(c, &cp, &res, NULL) == 0);
		CHECK_EQ(res.status, NFS4ERR_OP_NOT_IN_SESSION);
		CHECK_EQ(res.resarray.resarray_len, 1);
		CHECK_EQ(nc_res_status(&res, 0), NFS4ERR_OP_NOT_IN_SESSION);
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	/*
	 * §18.35.3: "If EXCHANGE_ID is sent without a preceding SEQUENCE,
	 * then it MUST be the only operation in the COMPOUND procedure's
	 * request.  If it is not, the server MUST return NFS4ERR_NOT_ONLY_OP."
	 */
	{
		verifier4 v = { 1, 2, 3, 4, 5, 6, 7, 8 };
		EXCHANGE_ID4args *a;
		const char *owner = h_owner("notonly");

		nc_compound_init(&cp, "notonly", 1);
		a = &nc_compound_add(&cp, OP_EXCHANGE_ID)->nfs_argop4_u.opexchange_id;
		memcpy(a->eia_clientowner.co_verifier, v, sizeof(v));
		a->eia_clientowner.co_ownerid.co_ownerid_val = (char *)owner;
		a->eia_clientowner.co_ownerid.co_ownerid_len = strlen(owner);
		a->eia_state_protect.spa_how = SP4_NONE;
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		REQUIRE(nc_compound(c, &cp, &res, NULL) == 0);
		CHECK_EQ(res.status, NFS4ERR_NOT_ONLY_OP);
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	nc_conn_close(c);
}

/* Completion for the pipelining test: count replies that parse as NULL's. */
struct pipe_ctx {
	struct mutex	lock;
	struct condvar	cond;
	unsigned	done, good;
};

static void
pipe_done(struct nc_call *call, void *arg)
{
	struct pipe_ctx *p = arg;
	struct nc_rpc_reply r;
	bool good;

	good = nc_call_parse(call, &r) == 0 && r.accept_stat == SUCCESS &&
	       r.xid == nc_call_xid(call);
	mutex_lock(&p->lock);
	p->done++;
	p->good += good;
	condvar_broadcast(&p->cond);
	mutex_unlock(&p->lock);
}

/*
 * Many calls outstanding on each of several connections (the server must
 * read ahead and may answer in any order; RFC 5531 §9 matches by xid).
 */
#define PIPE_CONNS	4
#define PIPE_DEPTH	64
static void
test_pipelining(void)
{
	struct nc_conn *c[PIPE_CONNS];
	struct nc_call *calls[PIPE_CONNS][PIPE_DEPTH];
	struct pipe_ctx p;
	uint64_t deadline;
	unsigned i, j;

	memset(&p, 0, sizeof(p));
	mutex_init(&p.lock, "pipe");
	condvar_init(&p.cond);
	for (i = 0; i < PIPE_CONNS; i++)
		REQUIRE(h_connect(&srv, &c[i]) == 0);
	for (j = 0; j < PIPE_DEPTH; j++)
		for (i = 0; i < PIPE_CONNS; i++)
			REQUIRE(nc_call_start(c[i], NC_NFS_PROGRAM,
					      NC_NFS_VERSION, 0, NULL, NULL,
					      pipe_done, &p,
					      &calls[i][j]) == 0);
	deadline = clock_now_ns() + NC_DEFAULT_TIMEOUT_NS;
	mutex_lock(&p.lock);
	while (p.done < PIPE_CONNS * PIPE_DEPTH &&
	       condvar_wait_until(&p.cond, &p.lock, deadline) == 0)
		;
	CHECK_EQ(p.done, PIPE_CONNS * PIPE_DEPTH);
	CHECK_EQ(p.good, PIPE_CONNS * PIPE_DEPTH);
	mutex_unlock(&p.lock);
	for (i = 0; i < PIPE_CONNS; i++) {
		nc_conn_close(c[i]);	/* fails any stragglers first */
		for (j = 0; j < PIPE_DEPTH; j++)
			nc_call_free(calls[i][j]);
	}
	condvar_destroy(&p.cond);
	mutex_destroy(&p.lock);
}

/* Completion of one asynchronous session compound: count the good ones. */
static void
seq_done(struct nc_call *call, void *arg)
{
	struct pipe_ctx *p = arg;
	COMPOUND4res res;
	bool good;

	good = nc_call_decode(call, (xdrproc_t)xdr_COMPOUND4res, &res,
			      sizeof(res)) == 0;
	if (good) {
		good = res.status == NFS4_OK;
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	nc_call_free(call);
	mutex_lock(&p->lock);
	p->done++;
	p->good += good;
	condvar_broadcast(&p->cond);
	mutex_unlock(&p->lock);
}

/*
 * RFC 8881 §2.10.6: a session's slots allow that many requests in flight at
 * once.  Keep every slot busy for SEQ_TOTAL compounds: each must succeed,
 * whatever order the server finishes them in.
 */
#define SEQ_TOTAL	2000
static void
test_session_pipelining(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	struct nc_call *call;
	struct pipe_ctx p;
	uint64_t deadline;
	unsigned i;

	memset(&p, 0, sizeof(p));
	mutex_init(&p.lock, "seqpipe");
	condvar_init(&p.cond);
	REQUIRE(h_session(&srv, h_owner("seqpipe"), NULL, &c, &s) == 0);
	CHECK(nc_session_info(s)->fore.ca_maxrequests > 1);
	nc_session_compound_init(&cp, "seqpipe");
	for (i = 0; i < SEQ_TOTAL; i++)
		if (nc_session_compound_start(s, &cp, 0, seq_done, &p, &call))
			break;
	CHECK_EQ(i, SEQ_TOTAL);
	deadline = clock_now_ns() + NC_DEFAULT_TIMEOUT_NS;
	mutex_lock(&p.lock);
	while (p.done < i &&
	       condvar_wait_until(&p.cond, &p.lock, deadline) == 0)
		;
	CHECK_EQ(p.done, SEQ_TOTAL);
	CHECK_EQ(p.good, SEQ_TOTAL);
	mutex_unlock(&p.lock);
	h_session_free(c, s);
	condvar_destroy(&p.cond);
	mutex_destroy(&p.lock);
}

int
main(void)
{
	int err = h_server_start(&srv, NULL);

	REQUIRE(err == 0);
	TEST_RUN(test_null_and_rpc_errors);
	TEST_RUN(test_tag_echo);
	TEST_RUN(test_minor_version);
	TEST_RUN(test_illegal_op);
	TEST_RUN(test_not_in_session);
	TEST_RUN(test_pipelining);
	TEST_RUN(test_session_pipelining);
	CHECK(h_still_serving(&srv));
	CHECK_EQ(h_server_stop(&srv, test_failures != 0), 0);
	TEST_EXIT();
}
