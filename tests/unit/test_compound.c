/*
 * test_compound.c - the COMPOUND loop (RFC 8881 §16.2.3, §2.6.3.1.1.8,
 * §2.10.6, §18.46.3) driven through real XDR: requests are encoded with the
 * generated routines into a buffer, run through nfs4_compound_run(), and
 * the reply decoded again.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nfs4.h"
#include "../../src/nfs4/nfs4_int.h"
#include "../testlib.h"

#define BUF_SIZE	65536
#define TAG		"test-tag"

static struct nfs4_server *nsrv;
static struct rpc_cred cred;

struct wire {
	char	req[BUF_SIZE];
	uint32_t req_len;
	char	res[BUF_SIZE];
	uint32_t res_len;
	XDR	enc;
	COMPOUND4res reply;
	bool	decoded;
};

static uint32_t
io_pos(void *ctx)
{
	return xdr_getpos((XDR *)ctx);
}

static int
io_copy(void *ctx, uint32_t from, uint32_t len, void *dst)
{
	XDR *x = ctx;

	if (from + len > xdr_getpos(x))
		return -ERANGE;
	/* x_base of an xdrmem stream is where it started. */
	memcpy(dst, (char *)x->x_base + from, len);
	return 0;
}

static void
req_begin(struct wire *w, uint32_t minor, uint32_t nops)
{
	utf8str_cs tag = { .utf8string_len = strlen(TAG),
			   .utf8string_val = (char *)TAG };

	xdrmem_create(&w->enc, w->req, sizeof(w->req), XDR_ENCODE);
	REQUIRE(xdr_utf8str_cs(&w->enc, &tag));
	REQUIRE(xdr_uint32_t(&w->enc, &minor));
	REQUIRE(xdr_uint32_t(&w->enc, &nops));
}

static void
req_op(struct wire *w, nfs_argop4 *op)
{
	REQUIRE(xdr_nfs_argop4(&w->enc, op));
}

static void
req_end(struct wire *w)
{
	w->req_len = xdr_getpos(&w->enc);
	xdr_destroy(&w->enc);
}

static void
wire_free(struct wire *w)
{
	if (w->decoded)
		xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&w->reply);
	w->decoded = false;
}

/* Run the request in w; decode the reply into w->reply. */
static enum rpc_disp
run_len(struct wire *w, uint32_t req_len)
{
	XDR args, res, dec;
	struct nfs4_reply_io io = { .pos = io_pos, .copy = io_copy };
	enum rpc_disp d;

	wire_free(w);
	xdrmem_create(&args, w->req, w->req_len, XDR_DECODE);
	xdrmem_create(&res, w->res, sizeof(w->res), XDR_ENCODE);
	io.ctx = &res;
	d = nfs4_compound_run(nsrv, &args, &res, &cred, NULL, req_len, &io);
	w->res_len = xdr_getpos(&res);
	xdr_destroy(&args);
	xdr_destroy(&res);
	if (d != RPC_DISP_REPLY)
		return d;
	memset(&w->reply, 0, sizeof(w->reply));
	xdrmem_create(&dec, w->res, w->res_len, XDR_DECODE);
	REQUIRE(xdr_COMPOUND4res(&dec, &w->reply));
	REQUIRE(xdr_getpos(&dec) == w->res_len);	/* nothing trailing */
	xdr_destroy(&dec);
	w->decoded = true;
	return d;
}

static enum rpc_disp
run(struct wire *w)
{
	return run_len(w, w->req_len + 40);	/* + an RPC call header */
}

static nfs_resop4 *
res_at(struct wire *w, uint32_t i)
{
	REQUIRE(i < w->reply.resarray.resarray_len);
	return &w->reply.resarray.resarray_val[i];
}

static nfsstat4
status_at(struct wire *w, uint32_t i)
{
	nfsstat4 st;

	memcpy(&st, &res_at(w, i)->nfs_resop4_u, sizeof(st));
	return st;
}

static void
op_void(nfs_argop4 *op, nfs_opnum4 num)
{
	memset(op, 0, sizeof(*op));
	op->argop = num;
}

static void
op_exchange_id(nfs_argop4 *op, const char *owner)
{
	EXCHANGE_ID4args *a = &op->nfs_argop4_u.opexchange_id;

	op_void(op, OP_EXCHANGE_ID);
	memcpy(a->eia_clientowner.co_verifier, "verifier", 8);
	a->eia_clientowner.co_ownerid.co_ownerid_len = strlen(owner);
	a->eia_clientowner.co_ownerid.co_ownerid_val = (char *)owner;
	a->eia_state_protect.spa_how = SP4_NONE;
}

static callback_sec_parms4 sec_none = { .cb_secflavor = AUTH_NONE };

static void
op_create_session(nfs_argop4 *op, uint64_t clid, uint32_t seq,
		  uint32_t maxreq, uint32_t maxresp, uint32_t maxcached)
{
	CREATE_SESSION4args *a = &op->nfs_argop4_u.opcreate_session;

	op_void(op, OP_CREATE_SESSION);
	a->csa_clientid = clid;
	a->csa_sequence = seq;
	a->csa_fore_chan_attrs.ca_maxrequestsize = maxreq;
	a->csa_fore_chan_attrs.ca_maxresponsesize = maxresp;
	a->csa_fore_chan_attrs.ca_maxresponsesize_cached = maxcached;
	a->csa_fore_chan_attrs.ca_maxoperations = 8;
	a->csa_fore_chan_attrs.ca_maxrequests = 4;
	a->csa_back_chan_attrs = a->csa_fore_chan_attrs;
	a->csa_cb_program = 0x40000000;
	a->csa_sec_parms.csa_sec_parms_len = 1;
	a->csa_sec_parms.csa_sec_parms_val = &sec_none;
}

static void
op_sequence(nfs_argop4 *op, const char *sid, uint32_t slot, uint32_t seqid,
	    bool cachethis)
{
	SEQUENCE4args *a = &op->nfs_argop4_u.opsequence;

	op_void(op, OP_SEQUENCE);
	memcpy(a->sa_sessionid, sid, NFS4_SESSIONID_SIZE);
	a->sa_sequenceid = seqid;
	a->sa_slotid = slot;
	a->sa_highest_slotid = slot;
	a->sa_cachethis = cachethis;
}

/*
 * Run a COMPOUND of the n ops in ops (minorversion 1) and decode its reply
 * into w->reply, where the test looks further.  Returns the COMPOUND
 * status, or -1 (after a failed CHECK) when the server did not reply.
 */
static int
run_ops(struct wire *w, nfs_argop4 *ops, uint32_t n)
{
	req_begin(w, 1, n);
	for (uint32_t i = 0; i < n; i++)
		req_op(w, &ops[i]);
	req_end(w);
	CHECK_EQ(run(w), RPC_DISP_REPLY);
	return w->decoded ? (int)w->reply.status : -1;
}

/* run_ops() of one op. */
static int
run_op(struct wire *w, nfs_argop4 *op)
{
	return run_ops(w, op, 1);
}

/*
 * run_ops() of [SEQUENCE(sid, slot, seqid, cachethis), op], or of the
 * SEQUENCE alone when op is NULL.
 */
static int
run_seq(struct wire *w, const char *sid, uint32_t slot, uint32_t seqid,
	bool cachethis, const nfs_argop4 *op)
{
	nfs_argop4 ops[2];

	op_sequence(&ops[0], sid, slot, seqid, cachethis);
	if (op)
		ops[1] = *op;
	return run_ops(w, ops, op ? 2 : 1);
}

/* EXCHANGE_ID + CREATE_SESSION as two sessionless COMPOUNDs. */
static void
make_session(const char *owner, uint32_t maxreq, uint32_t maxresp,
	     uint32_t maxcached, char sid[NFS4_SESSIONID_SIZE])
{
	static struct wire w;
	nfs_argop4 op;
	uint64_t clid;

	op_exchange_id(&op, owner);
	REQUIRE(run_op(&w, &op) == NFS4_OK);
	clid = res_at(&w, 0)->nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u
		       .eir_resok4.eir_clientid;

	op_create_session(&op, clid, 1, maxreq, maxresp, maxcached);
	REQUIRE(run_op(&w, &op) == NFS4_OK);
	memcpy(sid, res_at(&w, 0)->nfs_resop4_u.opcreate_session
		       .CREATE_SESSION4res_u.csr_resok4.csr_sessionid,
	       NFS4_SESSIONID_SIZE);
	wire_free(&w);
}

static void
test_minor_version_and_tag(void)
{
	static struct wire w;
	nfs_argop4 op;

	for (uint32_t minor = 0; minor <= 3; minor += 3) {
		req_begin(&w, minor, 1);
		op_void(&op, OP_PUTROOTFH);
		req_op(&w, &op);
		req_end(&w);
		CHECK_EQ(run(&w), RPC_DISP_REPLY);
		CHECK_EQ(w.reply.status, NFS4ERR_MINOR_VERS_MISMATCH);
		CHECK_EQ(w.reply.resarray.resarray_len, 0);
		CHECK_EQ(w.reply.tag.utf8string_len, strlen(TAG));
		CHECK(memcmp(w.reply.tag.utf8string_val, TAG,
			     strlen(TAG)) == 0);
	}
	/* An empty COMPOUND is fine and says NFS4_OK. */
	req_begin(&w, 2, 0);
	req_end(&w);
	CHECK_EQ(run(&w), RPC_DISP_REPLY);
	CHECK_EQ(w.reply.status, NFS4_OK);
	CHECK_EQ(w.reply.resarray.resarray_len, 0);
	/* A header that does not decode is GARBAGE_ARGS. */
	w.req_len = 3;
	CHECK_EQ(run(&w), RPC_DISP_GARBAGE);
	wire_free(&w);
}

static void
test_sessionless_rules(void)
{
	static struct wire w;
	nfs_argop4 ops[2];

	/* §2.6.3.1.1.8: ordinary ops need a SEQUENCE first. */
	op_void(&ops[0], OP_PUTROOTFH);
	CHECK_EQ(run_op(&w, &ops[0]), NFS4ERR_OP_NOT_IN_SESSION);
	CHECK_EQ(w.reply.resarray.resarray_len, 1);
	CHECK_EQ(res_at(&w, 0)->resop, OP_PUTROOTFH);

	/* Sessionless ops must stand alone; nothing runs otherwise. */
	op_exchange_id(&ops[0], "notonly");
	op_void(&ops[1], OP_PUTROOTFH);
	CHECK_EQ(run_ops(&w, ops, 2), NFS4ERR_NOT_ONLY_OP);
	CHECK_EQ(w.reply.resarray.resarray_len, 1);
	CHECK_EQ(res_at(&w, 0)->resop, OP_EXCHANGE_ID);

	/* A million announced ops costs nothing: the first one decides. */
	req_begin(&w, 1, 1000000);
	op_exchange_id(&ops[0], "million");
	req_op(&w, &ops[0]);
	req_end(&w);
	CHECK_EQ(run(&w), RPC_DISP_REPLY);
	CHECK_EQ(w.reply.status, NFS4ERR_NOT_ONLY_OP);
	CHECK_EQ(w.reply.resarray.resarray_len, 1);

	/* 4.0-only op: NOTSUPP inside a session, but first: not in session. */
	op_void(&ops[0], OP_RENEW);
	CHECK_EQ(run_op(&w, &ops[0]), NFS4ERR_OP_NOT_IN_SESSION);
	wire_free(&w);
}

static void
test_illegal(void)
{
	static struct wire w;
	const uint32_t nums[] = { 0, 2, 76, 9999, OP_ILLEGAL };
	nfs_argop4 ops[2];

	for (unsigned int i = 0; i < ARRAY_SIZE(nums); i++) {
		op_void(&ops[0], nums[i]);
		op_void(&ops[1], OP_PUTROOTFH);
		CHECK_EQ(run_ops(&w, ops, 2), NFS4ERR_OP_ILLEGAL);
		CHECK_EQ(w.reply.resarray.resarray_len, 1);
		CHECK_EQ(res_at(&w, 0)->resop, OP_ILLEGAL);
	}
	/* An NFSv4.2 op in a 4.1 COMPOUND does not exist there. */
	op_void(&ops[0], OP_SEEK);
	CHECK_EQ(run_op(&w, &ops[0]), NFS4ERR_OP_ILLEGAL);
	wire_free(&w);
}

static void
test_exchange_id_reply(void)
{
	static struct wire w;
	EXCHANGE_ID4resok *ok;
	nfs_argop4 op;

	op_exchange_id(&op, "reply-fields");
	REQUIRE(run_op(&w, &op) == NFS4_OK);
	ok = &res_at(&w, 0)->nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u
		      .eir_resok4;
	CHECK(ok->eir_flags & EXCHGID4_FLAG_USE_PNFS_MDS);
	CHECK_EQ(ok->eir_state_protect.spr_how, SP4_NONE);
	CHECK_EQ(ok->eir_server_owner.so_major_id.so_major_id_len,
		 strlen("unit-test-owner"));
	CHECK(memcmp(ok->eir_server_owner.so_major_id.so_major_id_val,
		     "unit-test-owner", strlen("unit-test-owner")) == 0);
	CHECK_EQ(ok->eir_server_scope.eir_server_scope_len,
		 strlen("unit-test-owner"));
	CHECK_EQ(ok->eir_server_impl_id.eir_server_impl_id_len, 1);
	wire_free(&w);
}

static void
test_sequence_rules(void)
{
	static struct wire w;
	char sid[NFS4_SESSIONID_SIZE];
	nfs_argop4 op;

	make_session("seqrules", 4096, 65536, 4096, sid);

	/*
	 * SEQUENCE then a file op on a server without file service (the
	 * detached server has no engine): it runs and fails cleanly.
	 */
	op_void(&op, OP_PUTROOTFH);
	CHECK_EQ(run_seq(&w, sid, 0, 1, false, &op), NFS4ERR_SERVERFAULT);
	CHECK_EQ(w.reply.resarray.resarray_len, 2);
	CHECK_EQ(status_at(&w, 0), NFS4_OK);
	CHECK_EQ(res_at(&w, 1)->resop, OP_PUTROOTFH);

	/* A second SEQUENCE. */
	op_sequence(&op, sid, 1, 1, false);
	CHECK_EQ(run_seq(&w, sid, 0, 2, false, &op), NFS4ERR_SEQUENCE_POS);
	CHECK_EQ(w.reply.resarray.resarray_len, 2);

	/* More ops than ca_maxoperations (8): SEQUENCE refuses. */
	{
		nfs_argop4 ops[9];

		op_sequence(&ops[0], sid, 0, 3, false);
		for (int i = 1; i < 9; i++)
			op_void(&ops[i], OP_PUTROOTFH);
		CHECK_EQ(run_ops(&w, ops, 9), NFS4ERR_TOO_MANY_OPS);
		CHECK_EQ(w.reply.resarray.resarray_len, 1);
	}

	/* NFSv4.0-only ops are NOTSUPP in a session (RFC 8881 §15.2). */
	op_void(&op, OP_SETCLIENTID_CONFIRM);
	CHECK_EQ(run_seq(&w, sid, 0, 3, false, &op), NFS4ERR_NOTSUPP);
	CHECK_EQ(res_at(&w, 1)->resop, OP_SETCLIENTID_CONFIRM);

	/* BACKCHANNEL_CTL (§18.33): AUTH_SYS is fine, GSS alone is not. */
	{
		static callback_sec_parms4 gss = { .cb_secflavor = 6 };
		static callback_sec_parms4 sys = {
			.cb_secflavor = AUTH_SYS,
			.callback_sec_parms4_u.cbsp_sys_cred = {
				.machinename = (char *)"client", .uid = 0 },
		};
		callback_sec_parms4 *parms[2] = { &sys, &gss };
		nfsstat4 want[2] = { NFS4_OK, NFS4ERR_ENCR_ALG_UNSUPP };

		for (int i = 0; i < 2; i++) {
			op_void(&op, OP_BACKCHANNEL_CTL);
			op.nfs_argop4_u.opbackchannel_ctl.bca_cb_program = 0x40000001;
			op.nfs_argop4_u.opbackchannel_ctl.bca_sec_parms
				.bca_sec_parms_len = 1;
			op.nfs_argop4_u.opbackchannel_ctl.bca_sec_parms
				.bca_sec_parms_val = parms[i];
			CHECK_EQ(run_seq(&w, sid, 0, 4 + i, false, &op),
				 want[i]);
		}
		/* Not without a session. */
		CHECK_EQ(run_op(&w, &op), NFS4ERR_OP_NOT_IN_SESSION);
	}

	/* A request over ca_maxrequestsize (4096). */
	req_begin(&w, 1, 1);
	op_sequence(&op, sid, 0, 6, false);
	req_op(&w, &op);
	req_end(&w);
	CHECK_EQ(run_len(&w, 4097), RPC_DISP_REPLY);
	CHECK_EQ(w.reply.status, NFS4ERR_REQ_TOO_BIG);
	/* Refused requests did not consume seqid 6. */
	CHECK_EQ(run(&w), RPC_DISP_REPLY);
	CHECK_EQ(w.reply.status, NFS4_OK);

	/* BIND_CONN_TO_SESSION must be alone even after SEQUENCE. */
	op_void(&op, OP_BIND_CONN_TO_SESSION);
	memcpy(op.nfs_argop4_u.opbind_conn_to_session.bctsa_sessid, sid,
	       NFS4_SESSIONID_SIZE);
	op.nfs_argop4_u.opbind_conn_to_session.bctsa_dir = CDFC4_FORE;
	CHECK_EQ(run_seq(&w, sid, 0, 7, false, &op), NFS4ERR_NOT_ONLY_OP);

	/* DESTROY_SESSION of our own session must come last. */
	{
		nfs_argop4 ops[3];

		op_sequence(&ops[0], sid, 0, 8, false);
		op_void(&ops[1], OP_DESTROY_SESSION);
		memcpy(ops[1].nfs_argop4_u.opdestroy_session.dsa_sessionid,
		       sid, NFS4_SESSIONID_SIZE);
		op_void(&ops[2], OP_PUTROOTFH);
		CHECK_EQ(run_ops(&w, ops, 3), NFS4ERR_NOT_ONLY_OP);
		CHECK_EQ(w.reply.resarray.resarray_len, 2);

		/* ... and then it works; the session is gone afterwards. */
		CHECK_EQ(run_seq(&w, sid, 0, 9, false, &ops[1]), NFS4_OK);
	}
	CHECK_EQ(run_seq(&w, sid, 0, 10, false, NULL), NFS4ERR_BADSESSION);
	wire_free(&w);
}

static void
test_reply_cache(void)
{
	static struct wire w;
	static char first[BUF_SIZE];
	uint32_t first_len;
	char sid[NFS4_SESSIONID_SIZE];
	nfs_argop4 op;

	make_session("replay", 4096, 65536, 4096, sid);
	op_void(&op, OP_RECLAIM_COMPLETE);
	CHECK_EQ(run_seq(&w, sid, 2, 1, true, &op), NFS4_OK);
	memcpy(first, w.res, w.res_len);
	first_len = w.res_len;
	/*
	 * The retry is answered from the cache: the same bytes, although
	 * running RECLAIM_COMPLETE again would now fail.
	 */
	CHECK_EQ(run(&w), RPC_DISP_REPLY);
	CHECK_EQ(w.res_len, first_len);
	CHECK(memcmp(w.res, first, first_len) == 0);
	CHECK_EQ(w.reply.status, NFS4_OK);

	/* The next seqid runs it again: COMPLETE_ALREADY. */
	CHECK_EQ(run_seq(&w, sid, 2, 2, false, &op), NFS4ERR_COMPLETE_ALREADY);
	/* Not cached (sa_cachethis false): its retry is refused. */
	CHECK_EQ(run(&w), RPC_DISP_REPLY);
	CHECK_EQ(w.reply.status, NFS4ERR_RETRY_UNCACHED_REP);
	CHECK_EQ(w.reply.resarray.resarray_len, 1);
	/* Misordered and bad slot. */
	CHECK_EQ(run_seq(&w, sid, 2, 9, false, NULL), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(run_seq(&w, sid, 4, 1, false, NULL), NFS4ERR_BADSLOT);
	wire_free(&w);
}

static void
test_reply_limits(void)
{
	static struct wire w;
	char sid[NFS4_SESSIONID_SIZE];
	nfs_argop4 op;

	/* Replies up to 300 bytes, of which 200 may be cached. */
	make_session("limits", 4096, 300, 200, sid);
	op_exchange_id(&op, "inner");
	CHECK_EQ(run_seq(&w, sid, 0, 1, true, &op),
		 NFS4ERR_REP_TOO_BIG_TO_CACHE);
	CHECK_EQ(w.reply.resarray.resarray_len, 2);
	CHECK_EQ(res_at(&w, 1)->resop, OP_EXCHANGE_ID);

	CHECK_EQ(run_seq(&w, sid, 0, 2, false, &op), NFS4ERR_REP_TOO_BIG);

	/* Small results still fit. */
	op_void(&op, OP_RECLAIM_COMPLETE);
	CHECK_EQ(run_seq(&w, sid, 0, 3, true, &op), NFS4_OK);
	CHECK(w.res_len + 24 <= 200);
	wire_free(&w);
}

static void
test_bad_xdr(void)
{
	static struct wire w;
	char sid[NFS4_SESSIONID_SIZE];
	nfs_argop4 op;

	make_session("badxdr", 4096, 65536, 4096, sid);
	req_begin(&w, 1, 2);
	op_sequence(&op, sid, 0, 1, false);
	req_op(&w, &op);
	op_exchange_id(&op, "truncated");
	req_op(&w, &op);
	req_end(&w);
	w.req_len -= 8;		/* cut into EXCHANGE_ID's arguments */
	CHECK_EQ(run(&w), RPC_DISP_REPLY);
	CHECK_EQ(w.reply.status, NFS4ERR_BADXDR);
	CHECK_EQ(w.reply.resarray.resarray_len, 2);
	CHECK_EQ(status_at(&w, 0), NFS4_OK);
	CHECK_EQ(res_at(&w, 1)->resop, OP_EXCHANGE_ID);

	/*
	 * WRITE's data is decoded in place: data shorter than its length,
	 * or longer than NFS4_DATA_LIMIT, is BADXDR on the WRITE as the
	 * generated decoder would say.
	 */
	for (int big = 0; big < 2; big++) {
		static char data[100];

		req_begin(&w, 1, 2);
		op_sequence(&op, sid, 0, 2 + big, false);
		req_op(&w, &op);
		memset(&op, 0, sizeof(op));
		op.argop = OP_WRITE;
		op.nfs_argop4_u.opwrite.data.data_val = data;
		op.nfs_argop4_u.opwrite.data.data_len = sizeof(data);
		req_op(&w, &op);
		req_end(&w);
		if (big)	/* the length word is the 4 bytes before data */
			memcpy(w.req + w.req_len - sizeof(data) - 4,
			       "\x7f\xff\xff\xff", 4);
		else
			w.req_len -= 50;
		CHECK_EQ(run(&w), RPC_DISP_REPLY);
		CHECK_EQ(w.reply.status, NFS4ERR_BADXDR);
		CHECK_EQ(w.reply.resarray.resarray_len, 2);
		CHECK_EQ(res_at(&w, 1)->resop, OP_WRITE);
	}

	/* Ops announced but missing: BADXDR on the first missing one. */
	req_begin(&w, 1, 1000000);
	req_end(&w);
	CHECK_EQ(run(&w), RPC_DISP_REPLY);
	CHECK_EQ(w.reply.status, NFS4ERR_BADXDR);
	CHECK_EQ(w.reply.resarray.resarray_len, 1);
	CHECK_EQ(res_at(&w, 0)->resop, OP_ILLEGAL);
	wire_free(&w);
}

/* Current/saved filehandle and stateid rules, on a bare context. */
static void
test_current_state(void)
{
	static struct wire w;
	struct nfs4_compound cs;
	nfs_resop4 res;
	stateid4 sid, cur, out;
	char sessid[NFS4_SESSIONID_SIZE];
	nfs_argop4 op;
	const uint8_t fh1[] = { 1, 2, 3 }, fh2[] = { 9, 8, 7, 6, 5 };

	memset(&cs, 0, sizeof(cs));
	memset(&res, 0, sizeof(res));
	CHECK_EQ(nfs4_set_current_fh(&cs, fh1, 0), NFS4ERR_BADHANDLE);
	CHECK_EQ(nfs4_set_current_fh(&cs, fh1, NFS4_FHSIZE + 1),
		 NFS4ERR_BADHANDLE);
	CHECK_EQ(nfs4_op_restorefh(&cs, NULL, &res), NFS4ERR_RESTOREFH);
	REQUIRE(nfs4_set_current_fh(&cs, fh1, sizeof(fh1)) == NFS4_OK);

	/* The current-stateid special value needs a current stateid. */
	memset(&sid, 0, sizeof(sid));
	sid.seqid = 1;
	CHECK_EQ(nfs4_resolve_stateid(&cs, &sid, &out), NFS4ERR_BAD_STATEID);
	memset(&cur, 0, sizeof(cur));
	cur.seqid = 5;
	memset(cur.other, 0x42, sizeof(cur.other));
	nfs4_set_current_stateid(&cs, &cur);
	CHECK_EQ(nfs4_resolve_stateid(&cs, &sid, &out), NFS4_OK);
	CHECK(memcmp(&out, &cur, sizeof(out)) == 0);
	sid.seqid = NFS4_UINT32_MAX;	/* the invalid special stateid */
	CHECK_EQ(nfs4_resolve_stateid(&cs, &sid, &out), NFS4ERR_BAD_STATEID);
	sid.seqid = 0;			/* anonymous: passes through */
	CHECK_EQ(nfs4_resolve_stateid(&cs, &sid, &out), NFS4_OK);
	CHECK_EQ(out.seqid, 0);

	/* SAVEFH keeps fh and stateid; a new fh clears the stateid. */
	CHECK_EQ(nfs4_op_savefh(&cs, NULL, &res), NFS4_OK);
	REQUIRE(nfs4_set_current_fh(&cs, fh2, sizeof(fh2)) == NFS4_OK);
	sid.seqid = 1;
	CHECK_EQ(nfs4_resolve_stateid(&cs, &sid, &out), NFS4ERR_BAD_STATEID);
	CHECK_EQ(nfs4_op_getfh(&cs, NULL, &res), NFS4_OK);
	CHECK_EQ(res.nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object.nfs_fh4_len,
		 sizeof(fh2));
	CHECK(memcmp(res.nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object
			     .nfs_fh4_val, fh2, sizeof(fh2)) == 0);
	nfs4_release_getfh(&res);
	CHECK_EQ(nfs4_op_restorefh(&cs, NULL, &res), NFS4_OK);
	CHECK_EQ(cs.current_fh.len, sizeof(fh1));
	CHECK(memcmp(cs.current_fh.data, fh1, sizeof(fh1)) == 0);
	CHECK_EQ(nfs4_resolve_stateid(&cs, &sid, &out), NFS4_OK);
	CHECK_EQ(out.seqid, 5);

	/* Over the wire, with no filehandle yet. */
	make_session("cstate", 4096, 65536, 4096, sessid);
	op_void(&op, OP_GETFH);
	CHECK_EQ(run_seq(&w, sessid, 0, 1, false, &op), NFS4ERR_NOFILEHANDLE);
	op_void(&op, OP_RESTOREFH);
	CHECK_EQ(run_seq(&w, sessid, 0, 2, false, &op), NFS4ERR_RESTOREFH);
	wire_free(&w);
}

/*
 * Robustness: mutated requests (bit flips, overwritten words, truncation)
 * of a valid SEQUENCE + EXCHANGE_ID + CREATE_SESSION COMPOUND never crash,
 * and every REPLY decodes (run() REQUIREs that).  A fixed seed keeps it
 * reproducible; NFS4_TEST_LONG=1 runs 100 times as many.
 */
static void
test_mutations(void)
{
	static struct wire w;
	static char orig[BUF_SIZE];
	const char *env = getenv("NFS4_TEST_LONG");
	unsigned int rounds = (env && *env == '1') ? 300000 : 3000;
	uint32_t orig_len, seed = 12345, next_seqid = 1;
	unsigned int past_sequence = 0;
	char sid[NFS4_SESSIONID_SIZE];
	nfs_argop4 op;

	make_session("mutate", 65536, 65536, 4096, sid);
	for (unsigned int i = 0; i < rounds; i++) {
		enum rpc_disp d;

		/* The slot's next seqid, so that intact SEQUENCEs let ops run. */
		req_begin(&w, 1, 3);
		op_sequence(&op, sid, 0, next_seqid, (i & 1) != 0);
		req_op(&w, &op);
		op_exchange_id(&op, "mutant");
		req_op(&w, &op);
		op_create_session(&op, 42, 1, 4096, 4096, 1024);
		req_op(&w, &op);
		req_end(&w);
		memcpy(orig, w.req, w.req_len);
		orig_len = w.req_len;
		for (int k = 0; k < 3; k++) {
			uint32_t at;

			seed = seed * 1103515245u + 12345u;
			at = (seed >> 8) % orig_len;
			switch ((seed >> 4) % 3) {
			case 0:		/* flip a bit */
				w.req[at] ^= (char)(1u << (seed % 8));
				break;
			case 1:		/* a large word where a count may be */
				if (at + 4 <= orig_len)
					memcpy(w.req + (at & ~3u), "\xff\xff\xff\xf0", 4);
				break;
			default:	/* truncate */
				w.req_len = at;
				break;
			}
		}
		d = run(&w);
		CHECK(d == RPC_DISP_REPLY || d == RPC_DISP_GARBAGE);
		if (d == RPC_DISP_REPLY && w.reply.resarray.resarray_len >= 1 &&
		    res_at(&w, 0)->resop == OP_SEQUENCE &&
		    status_at(&w, 0) == NFS4_OK) {
			SEQUENCE4resok *ok = &res_at(&w, 0)->nfs_resop4_u
				.opsequence.SEQUENCE4res_u.sr_resok4;

			if (w.reply.resarray.resarray_len > 1)
				past_sequence++;
			if (ok->sr_slotid == 0 && ok->sr_sequenceid == next_seqid)
				next_seqid++;
		}
	}
	/*
	 * Enough rounds must get past SEQUENCE to test the other ops (about
	 * 15% do: most mutations hit the header or SEQUENCE, or truncate).
	 */
	CHECK(past_sequence > rounds / 10);
	wire_free(&w);
}

int
main(void)
{
	struct nfs4_config cfg;

	log_init("test_compound", LOG_LVL_WARN, false);
	nfs4_config_defaults(&cfg);
	cfg.server_owner = "unit-test-owner";
	REQUIRE(nfs4_server_create_detached(&cfg, &nsrv) == 0);
	memset(&cred, 0, sizeof(cred));
	cred.flavor = AUTH_SYS;

	TEST_RUN(test_minor_version_and_tag);
	TEST_RUN(test_sessionless_rules);
	TEST_RUN(test_illegal);
	TEST_RUN(test_exchange_id_reply);
	TEST_RUN(test_sequence_rules);
	TEST_RUN(test_reply_cache);
	TEST_RUN(test_reply_limits);
	TEST_RUN(test_bad_xdr);
	TEST_RUN(test_current_state);
	TEST_RUN(test_mutations);
	nfs4_server_shutdown(nsrv);
	TEST_EXIT();
}
