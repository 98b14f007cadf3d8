/*
 * test_proto_session.c - sessions against a running pmemnfsd (RFC 8881
 * §2.10, §18.33-§18.37, §18.46, §18.50, §18.51): CREATE_SESSION
 * negotiation and replay, the SEQUENCE slot rules and reply cache,
 * compound limits, BIND_CONN_TO_SESSION, BACKCHANNEL_CTL, DESTROY_SESSION,
 * DESTROY_CLIENTID and RECLAIM_COMPLETE.
 *
 * The server runs with 8 operations and 4 slots per session so the limits
 * are known.  The extra operations in these compounds are session
 * operations (BACKCHANNEL_CTL), not file operations, so the tests depend on
 * the session layer only; REQ_TOO_BIG uses PUTROOTFH + WRITE because a big
 * WRITE is the natural large request and the size is checked before any op
 * after SEQUENCE runs.  Raw SEQUENCE tests use slots 1..3 with their own
 * seqids; the library's own compounds use slot 0 (it always takes the
 * lowest free one).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../testlib.h"

#define SRV_MAX_OPS	8
#define SRV_MAX_SLOTS	4

static struct h_server srv;

/* Send cp on c; res must be freed by the caller.  Returns res.status. */
static int
run(struct nc_conn *c, const struct nc_compound *cp, COMPOUND4res *res,
    struct nc_call **call)
{
	int err = nc_compound(c, cp, res, call);

	CHECK_EQ(err, 0);
	if (err) {
		memset(res, 0, sizeof(*res));
		return -1;
	}
	return res->status;
}

/*
 * A harmless session op that succeeds without a filehandle or file state,
 * so these tests exercise the session layer alone: BACKCHANNEL_CTL setting
 * the program the session already has (§18.33).
 */
static callback_sec_parms4 filler_sec = { .cb_secflavor = AUTH_NONE };

static void
add_filler(struct nc_compound *cp)
{
	BACKCHANNEL_CTL4args *a;
	struct nc_session_opts o;

	nc_session_opts_init(&o);
	a = &nc_compound_add(cp, OP_BACKCHANNEL_CTL)
		     ->nfs_argop4_u.opbackchannel_ctl;
	REQUIRE(a);
	a->bca_cb_program = o.cb_program;
	a->bca_sec_parms.bca_sec_parms_len = 1;
	a->bca_sec_parms.bca_sec_parms_val = &filler_sec;
}

/* Status of [SEQUENCE(slot, seqid)] followed by n_fill filler ops. */
static int
seq_status(struct nc_conn *c, struct nc_session *s, slotid4 slot,
	   sequenceid4 seqid, unsigned n_fill)
{
	struct nc_compound cp;
	COMPOUND4res res;
	unsigned i;
	int st;

	nc_compound_init(&cp, "seq", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, slot, seqid, slot,
		   false);
	for (i = 0; i < n_fill; i++)
		add_filler(&cp);
	st = run(c, &cp, &res, NULL);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return st;
}

static struct nc_session *
new_session(struct nc_conn *c, const char *owner, uint32_t flags,
	    struct nc_clientid *cl_out)
{
	struct nc_clientid cl;
	struct nc_session_opts o;
	struct nc_session *s = NULL;
	verifier4 v = { 's', 'e', 's', 's', 0, 0, 0, 1 };
	nfsstat4 st = NFS4ERR_IO;

	REQUIRE(nc_exchange_id(c, owner, v, 0, &cl, &st) == 0);
	REQUIRE(st == NFS4_OK);
	nc_session_opts_init(&o);
	o.flags = flags;
	REQUIRE(nc_create_session(c, &cl, &o, &s, &st) == 0);
	REQUIRE(st == NFS4_OK && s);
	if (cl_out)
		*cl_out = cl;
	return s;
}

/*
 * §18.36.3: the server may reduce the client's channel attributes, never
 * raise them; here it must cut ca_maxoperations and ca_maxrequests to its
 * configured limits (8 ops, 4 slots) and keep every size at or below what
 * was asked.
 */
static void
test_create_session_negotiation(void)
{
	struct nc_conn *c;
	struct nc_clientid cl;
	struct nc_session_opts o;
	struct nc_session *s = NULL;
	const channel_attrs4 *f, *b;
	nfsstat4 st = NFS4ERR_IO;
	verifier4 v = { 'n', 'e', 'g', 0, 0, 0, 0, 1 };

	REQUIRE(h_connect(&srv, &c) == 0);
	REQUIRE(nc_exchange_id(c, h_owner("neg"), v, 0, &cl, &st) == 0);
	REQUIRE(st == NFS4_OK);
	nc_session_opts_init(&o);
	o.fore.ca_maxoperations = 1000;
	o.fore.ca_maxrequests = 1000;
	CHECK_EQ(nc_create_session(c, &cl, &o, &s, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	REQUIRE(s);
	f = &nc_session_info(s)->fore;
	b = &nc_session_info(s)->back;
	CHECK_EQ(f->ca_maxoperations, SRV_MAX_OPS);
	CHECK_EQ(f->ca_maxrequests, SRV_MAX_SLOTS);
	CHECK(f->ca_maxrequestsize > 0 &&
	      f->ca_maxrequestsize <= o.fore.ca_maxrequestsize);
	CHECK(f->ca_maxresponsesize > 0 &&
	      f->ca_maxresponsesize <= o.fore.ca_maxresponsesize);
	CHECK(f->ca_maxresponsesize_cached <= o.fore.ca_maxresponsesize_cached);
	CHECK(b->ca_maxrequests >= 1 &&
	      b->ca_maxrequests <= o.back.ca_maxrequests);
	CHECK(b->ca_maxoperations <= o.back.ca_maxoperations);
	CHECK(b->ca_maxrequestsize <= o.back.ca_maxrequestsize);
	/* Asked for less than the limit: not raised. */
	nc_session_free(s);
	s = NULL;
	o.fore.ca_maxoperations = 3;
	o.fore.ca_maxrequests = 2;
	o.flags = 0;
	CHECK_EQ(nc_create_session(c, &cl, &o, &s, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	if (s) {
		CHECK(nc_session_info(s)->fore.ca_maxoperations <= 3);
		CHECK(nc_session_info(s)->fore.ca_maxrequests <= 2);
	}
	nc_session_free(s);
	nc_conn_close(c);
}

/*
 * §18.36.4: CREATE_SESSION's csa_sequence works like a one-slot table:
 * the same sequence again is a replay and gets the cached reply (the same
 * session ID, no new session); one too far is NFS4ERR_SEQ_MISORDERED; an
 * unknown client ID is NFS4ERR_STALE_CLIENTID.
 */
static void
test_create_session_replay(void)
{
	struct nc_conn *c;
	struct nc_clientid cl, bogus;
	struct nc_session_opts o;
	struct nc_session *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;
	nfsstat4 st = NFS4ERR_IO;
	sequenceid4 seq;
	verifier4 v = { 'r', 'e', 'p', 0, 0, 0, 0, 1 };

	REQUIRE(h_connect(&srv, &c) == 0);
	REQUIRE(nc_exchange_id(c, h_owner("csrep"), v, 0, &cl, &st) == 0);
	REQUIRE(st == NFS4_OK);
	nc_session_opts_init(&o);
	o.flags = 0;
	seq = cl.sequence;
	CHECK_EQ(nc_create_session(c, &cl, &o, &s1, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	REQUIRE(s1);

	cl.sequence = seq;	/* send the same request again */
	CHECK_EQ(nc_create_session(c, &cl, &o, &s2, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	if (s2)
		CHECK(!memcmp(nc_session_info(s1)->sessionid,
			      nc_session_info(s2)->sessionid,
			      NFS4_SESSIONID_SIZE));

	cl.sequence = seq + 2;
	CHECK_EQ(nc_create_session(c, &cl, &o, &s3, &st), 0);
	CHECK_EQ(st, NFS4ERR_SEQ_MISORDERED);

	cl.sequence = seq + 1;
	CHECK_EQ(nc_create_session(c, &cl, &o, &s4, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	if (s4)
		CHECK(memcmp(nc_session_info(s1)->sessionid,
			     nc_session_info(s4)->sessionid,
			     NFS4_SESSIONID_SIZE) != 0);

	bogus = cl;
	bogus.clientid ^= 0x5a5a5a5a00000000ull;
	CHECK_EQ(nc_create_session(c, &bogus, &o, &s3, &st), 0);
	CHECK_EQ(st, NFS4ERR_STALE_CLIENTID);

	nc_session_free(s1);
	nc_session_free(s2);
	nc_session_free(s4);
	nc_conn_close(c);
}

/*
 * §2.10.6.1.3 and §18.46.3: a retry (same slot, same seqid) of a request
 * whose reply was cached (sa_cachethis TRUE) gets the cached reply - the
 * same bytes - without executing again; the slot then expects seqid + 1.
 */
static void
test_sequence_replay_identical(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res1, res2;
	struct nc_call *call1 = NULL, *call2 = NULL;
	struct nc_rpc_reply r1, r2;
	const uint8_t *b1, *b2;
	uint32_t l1, l2;

	REQUIRE(h_connect(&srv, &c) == 0);
	s = new_session(c, h_owner("replay"), 0, NULL);
	nc_compound_init(&cp, "replay", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, 1, 1, 1, true);
	add_filler(&cp);
	CHECK_EQ(run(c, &cp, &res1, &call1), NFS4_OK);
	CHECK_EQ(run(c, &cp, &res2, &call2), NFS4_OK);
	if (call1 && call2 && nc_call_parse(call1, &r1) == 0 &&
	    nc_call_parse(call2, &r2) == 0) {
		b1 = nc_call_reply(call1, &l1);
		b2 = nc_call_reply(call2, &l2);
		CHECK_EQ(l1 - r1.body_off, l2 - r2.body_off);
		CHECK(l1 - r1.body_off == l2 - r2.body_off &&
		      !memcmp(b1 + r1.body_off, b2 + r2.body_off,
			      l1 - r1.body_off));
	} else {
		CHECK(!"both calls completed");
	}
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res1);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res2);
	nc_call_free(call1);
	nc_call_free(call2);
	/* The replay did not use up a seqid. */
	CHECK_EQ(seq_status(c, s, 1, 2, 1), NFS4_OK);
	h_session_free(c, s);
}

/*
 * §18.46.3: SEQUENCE's reply echoes the session, seqid and slot, reports
 * sr_highest_slotid as the highest slot the server will accept (below the
 * negotiated ca_maxrequests) and a target at or below it.
 */
static void
test_sequence_reply_fields(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;
	SEQUENCE4resok *ok;

	REQUIRE(h_connect(&srv, &c) == 0);
	REQUIRE(nc_conn_set_auth_sys(c, 4242, 4242) == 0);	/* AUTH_SYS too */
	s = new_session(c, h_owner("seqfields"), 0, NULL);
	nc_compound_init(&cp, "fields", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, 2, 1, 3, false);
	REQUIRE(run(c, &cp, &res, NULL) == NFS4_OK);
	ok = &res.resarray.resarray_val[0].nfs_resop4_u.opsequence
		      .SEQUENCE4res_u.sr_resok4;
	CHECK(!memcmp(ok->sr_sessionid, nc_session_info(s)->sessionid,
		      NFS4_SESSIONID_SIZE));
	CHECK_EQ(ok->sr_sequenceid, 1);
	CHECK_EQ(ok->sr_slotid, 2);
	CHECK(ok->sr_highest_slotid < nc_session_info(s)->fore.ca_maxrequests);
	CHECK(ok->sr_highest_slotid >= 2);
	CHECK(ok->sr_target_highest_slotid <= ok->sr_highest_slotid);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	h_session_free(c, s);
}

/*
 * §2.10.6.1: a seqid that is neither the slot's last (retry) nor last + 1
 * (new request) is NFS4ERR_SEQ_MISORDERED; a slot ID at or above the
 * negotiated ca_maxrequests is NFS4ERR_BADSLOT; an unknown session ID is
 * NFS4ERR_BADSESSION (§18.46.3).
 */
static void
test_sequence_errors(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;

	REQUIRE(h_connect(&srv, &c) == 0);
	s = new_session(c, h_owner("seqerr"), 0, NULL);
	/* A fresh slot starts at seqid 1 (§2.10.6.1). */
	CHECK_EQ(seq_status(c, s, 2, 2, 1), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(seq_status(c, s, 2, 0, 1), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(seq_status(c, s, 2, 1, 1), NFS4_OK);
	CHECK_EQ(seq_status(c, s, 2, 3, 1), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(seq_status(c, s, 2, 0, 1), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(seq_status(c, s, 2, 2, 1), NFS4_OK);
	/* Misordered attempts did not disturb the slot. */
	CHECK_EQ(seq_status(c, s, 2, 3, 0), NFS4_OK);

	CHECK_EQ(seq_status(c, s, SRV_MAX_SLOTS, 1, 1), NFS4ERR_BADSLOT);
	CHECK_EQ(seq_status(c, s, 1000, 1, 1), NFS4ERR_BADSLOT);
	CHECK_EQ(seq_status(c, s, 0xffffffffu, 1, 1), NFS4ERR_BADSLOT);

	nc_compound_init(&cp, "badsession", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, 0, 1, 0, false);
	cp.ops[0].nfs_argop4_u.opsequence.sa_sessionid[0] ^= 0xff;
	cp.ops[0].nfs_argop4_u.opsequence.sa_sessionid[15] ^= 0xff;
	CHECK_EQ(run(c, &cp, &res, NULL), NFS4ERR_BADSESSION);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	h_session_free(c, s);
}

/*
 * §2.10.6.1.3: when sa_cachethis was FALSE the server need not have kept
 * the reply; a retry then gets NFS4ERR_RETRY_UNCACHED_REP - or, if the
 * server cached it anyway, the identical reply.  Executing the request
 * again or calling it misordered is wrong either way.
 */
static void
test_sequence_retry_uncached(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res1, res2;
	struct nc_call *call1 = NULL, *call2 = NULL;
	struct nc_rpc_reply r1, r2;
	const uint8_t *b1, *b2;
	uint32_t l1, l2;
	int st;

	REQUIRE(h_connect(&srv, &c) == 0);
	s = new_session(c, h_owner("uncached"), 0, NULL);
	nc_compound_init(&cp, "uncached", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, 3, 1, 3, false);
	add_filler(&cp);
	CHECK_EQ(run(c, &cp, &res1, &call1), NFS4_OK);
	st = run(c, &cp, &res2, &call2);
	if (st == NFS4ERR_RETRY_UNCACHED_REP) {
		CHECK_EQ(nc_res_status(&res2, 0), NFS4ERR_RETRY_UNCACHED_REP);
	} else {
		CHECK_EQ(st, NFS4_OK);
		REQUIRE(call1 && call2);
		REQUIRE(nc_call_parse(call1, &r1) == 0);
		REQUIRE(nc_call_parse(call2, &r2) == 0);
		b1 = nc_call_reply(call1, &l1);
		b2 = nc_call_reply(call2, &l2);
		CHECK(l1 - r1.body_off == l2 - r2.body_off &&
		      !memcmp(b1 + r1.body_off, b2 + r2.body_off,
			      l1 - r1.body_off));
	}
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res1);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res2);
	nc_call_free(call1);
	nc_call_free(call2);
	CHECK_EQ(seq_status(c, s, 3, 2, 0), NFS4_OK);
	h_session_free(c, s);
}

/*
 * §2.10.6.4: more operations than the negotiated ca_maxoperations is
 * NFS4ERR_TOO_MANY_OPS; a request larger than ca_maxrequestsize is
 * NFS4ERR_REQ_TOO_BIG.  §18.46.3: SEQUENCE anywhere but first is
 * NFS4ERR_SEQUENCE_POS.
 */
static void
test_compound_limits(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_session_opts o;
	struct nc_compound cp;
	COMPOUND4res res;
	WRITE4args *w;
	uint32_t maxreq;
	char *data;

	REQUIRE(h_connect(&srv, &c) == 0);
	nc_session_opts_init(&o);
	o.flags = 0;
	o.fore.ca_maxrequestsize = 8192;
	REQUIRE(nc_session_setup(c, h_owner("limits"), &o, &s) == 0);
	CHECK_EQ(nc_session_info(s)->fore.ca_maxoperations, SRV_MAX_OPS);

	/* Exactly the limit is fine; one more is too many. */
	CHECK_EQ(seq_status(c, s, 1, 1, SRV_MAX_OPS - 1), NFS4_OK);
	CHECK_EQ(seq_status(c, s, 1, 2, SRV_MAX_OPS), NFS4ERR_TOO_MANY_OPS);
	CHECK_EQ(seq_status(c, s, 2, 1, 64), NFS4ERR_TOO_MANY_OPS);

	maxreq = nc_session_info(s)->fore.ca_maxrequestsize;
	CHECK(maxreq > 0 && maxreq <= 8192);
	data = calloc(1, maxreq + 1);
	REQUIRE(data);
	nc_session_compound_init(&cp, "toobig");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
	w->stable = UNSTABLE4;
	w->data.data_val = data;
	w->data.data_len = maxreq + 1;
	CHECK_EQ(nc_session_compound(s, &cp, NC_SEQ_NO_RETRY, &res, NULL), 0);
	CHECK_EQ(res.status, NFS4ERR_REQ_TOO_BIG);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	free(data);

	nc_session_compound_init(&cp, "seqpos");
	add_filler(&cp);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, 3, 1, 3, false);
	CHECK_EQ(nc_session_compound(s, &cp, NC_SEQ_NO_RETRY, &res, NULL), 0);
	CHECK_EQ(res.status, NFS4ERR_SEQUENCE_POS);
	CHECK_EQ(res.resarray.resarray_len, 3);
	CHECK_EQ(nc_res_status(&res, 0), NFS4_OK);
	CHECK_EQ(nc_res_status(&res, 1), NFS4_OK);
	CHECK_EQ(nc_res_status(&res, 2), NFS4ERR_SEQUENCE_POS);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	/* The errors did not break the session. */
	nc_session_compound_init(&cp, "after");
	CHECK_EQ(nc_session_compound(s, &cp, 0, &res, NULL), 0);
	CHECK_EQ(res.status, NFS4_OK);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	h_session_free(c, s);
}

/*
 * §18.34.3: BIND_CONN_TO_SESSION associates the connection it arrives on
 * with the session ("It MUST be the only operation in the COMPOUND");
 * afterwards SEQUENCE for the session works on that connection.  Unknown
 * session: NFS4ERR_BADSESSION.  Not alone: NFS4ERR_NOT_ONLY_OP.
 */
static void
test_bind_conn(void)
{
	struct nc_conn *c, *c2;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;
	BIND_CONN_TO_SESSION4args *a;
	BIND_CONN_TO_SESSION4resok *ok;

	REQUIRE(h_connect(&srv, &c) == 0);
	REQUIRE(h_connect(&srv, &c2) == 0);
	s = new_session(c, h_owner("bind"), 0, NULL);

	nc_compound_init(&cp, "bind", 1);
	a = &nc_compound_add(&cp, OP_BIND_CONN_TO_SESSION)
		     ->nfs_argop4_u.opbind_conn_to_session;
	memcpy(a->bctsa_sessid, nc_session_info(s)->sessionid,
	       NFS4_SESSIONID_SIZE);
	a->bctsa_dir = CDFC4_FORE_OR_BOTH;
	CHECK_EQ(run(c2, &cp, &res, NULL), NFS4_OK);
	if (res.status == NFS4_OK) {
		ok = &res.resarray.resarray_val[0].nfs_resop4_u
			      .opbind_conn_to_session.BIND_CONN_TO_SESSION4res_u
			      .bctsr_resok4;
		CHECK(!memcmp(ok->bctsr_sessid, nc_session_info(s)->sessionid,
			      NFS4_SESSIONID_SIZE));
		CHECK(ok->bctsr_dir == CDFS4_FORE || ok->bctsr_dir == CDFS4_BOTH);
		CHECK(!ok->bctsr_use_conn_in_rdma_mode);
	}
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	CHECK_EQ(seq_status(c2, s, 1, 1, 1), NFS4_OK);

	a->bctsa_sessid[3] ^= 0x55;
	CHECK_EQ(run(c2, &cp, &res, NULL), NFS4ERR_BADSESSION);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	a->bctsa_sessid[3] ^= 0x55;

	nc_compound_init(&cp, "bind-notonly", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, 1, 2, 1, false);
	a = &nc_compound_add(&cp, OP_BIND_CONN_TO_SESSION)
		     ->nfs_argop4_u.opbind_conn_to_session;
	memcpy(a->bctsa_sessid, nc_session_info(s)->sessionid,
	       NFS4_SESSIONID_SIZE);
	a->bctsa_dir = CDFC4_FORE;
	CHECK_EQ(run(c2, &cp, &res, NULL), NFS4ERR_NOT_ONLY_OP);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	nc_conn_close(c2);
	h_session_free(c, s);
}

/*
 * §18.33.3: BACKCHANNEL_CTL changes the callback program and security of
 * the session's back channel; with AUTH_NONE it succeeds.
 */
static void
test_backchannel_ctl(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;
	BACKCHANNEL_CTL4args *a;
	callback_sec_parms4 sec;

	REQUIRE(h_session(&srv, h_owner("bcctl"), NULL, &c, &s) == 0);
	memset(&sec, 0, sizeof(sec));
	sec.cb_secflavor = AUTH_NONE;
	nc_session_compound_init(&cp, "bcctl");
	a = &nc_compound_add(&cp, OP_BACKCHANNEL_CTL)
		     ->nfs_argop4_u.opbackchannel_ctl;
	a->bca_cb_program = 0x40000077;
	a->bca_sec_parms.bca_sec_parms_len = 1;
	a->bca_sec_parms.bca_sec_parms_val = &sec;
	nc_conn_set_cb_program(c, 0x40000077);
	CHECK_EQ(nc_session_compound(s, &cp, 0, &res, NULL), 0);
	CHECK_EQ(res.status, NFS4_OK);
	CHECK_EQ(nc_res_status(&res, 1), NFS4_OK);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	h_session_free(c, s);
}

/*
 * §18.51.3: RECLAIM_COMPLETE once per client (rca_one_fs FALSE); "If ...
 * RECLAIM_COMPLETE ... is done a second time, the error
 * NFS4ERR_COMPLETE_ALREADY will be returned".
 */
static void
test_reclaim_complete_twice(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;
	int i;

	REQUIRE(h_session(&srv, h_owner("rc"), NULL, &c, &s) == 0);
	for (i = 0; i < 2; i++) {
		nc_session_compound_init(&cp, "reclaim_complete");
		nc_compound_add(&cp, OP_RECLAIM_COMPLETE)
			->nfs_argop4_u.opreclaim_complete.rca_one_fs = FALSE;
		CHECK_EQ(nc_session_compound(s, &cp, 0, &res, NULL), 0);
		CHECK_EQ(res.status, i == 0 ? NFS4_OK : NFS4ERR_COMPLETE_ALREADY);
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	h_session_free(c, s);
}

/*
 * §18.37.3 DESTROY_SESSION (alone: no SEQUENCE needed) then the session is
 * gone (NFS4ERR_BADSESSION); §18.50.3 DESTROY_CLIENTID: "If there are
 * sessions ... the server MUST return NFS4ERR_CLIENTID_BUSY"; once
 * destroyed the client ID is NFS4ERR_STALE_CLIENTID.
 */
static void
test_destroy(void)
{
	struct nc_conn *c;
	struct nc_session *s, *s2 = NULL;
	struct nc_clientid cl;
	struct nc_session_opts o;
	nfsstat4 st = NFS4ERR_IO;

	REQUIRE(h_connect(&srv, &c) == 0);
	s = new_session(c, h_owner("destroy"), 0, &cl);
	CHECK_EQ(nc_destroy_clientid(c, cl.clientid, &st), 0);
	CHECK_EQ(st, NFS4ERR_CLIENTID_BUSY);
	CHECK_EQ(seq_status(c, s, 1, 1, 0), NFS4_OK);	/* untouched */

	CHECK_EQ(nc_destroy_session(s, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	CHECK_EQ(seq_status(c, s, 1, 2, 0), NFS4ERR_BADSESSION);
	CHECK_EQ(nc_destroy_session(s, &st), 0);
	CHECK_EQ(st, NFS4ERR_BADSESSION);

	CHECK_EQ(nc_destroy_clientid(c, cl.clientid, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	nc_session_opts_init(&o);
	o.flags = 0;
	CHECK_EQ(nc_create_session(c, &cl, &o, &s2, &st), 0);
	CHECK_EQ(st, NFS4ERR_STALE_CLIENTID);
	CHECK_EQ(nc_destroy_clientid(c, cl.clientid, &st), 0);
	CHECK_EQ(st, NFS4ERR_STALE_CLIENTID);
	nc_session_free(s2);
	h_session_free(c, s);
}

int
main(void)
{
	static const char *const args[] = {
		"-o", "nfs4.max_ops=8", "-o", "nfs4.max_slots=4", NULL
	};

	REQUIRE(h_server_start(&srv, args) == 0);
	TEST_RUN(test_create_session_negotiation);
	TEST_RUN(test_create_session_replay);
	TEST_RUN(test_sequence_replay_identical);
	TEST_RUN(test_sequence_reply_fields);
	TEST_RUN(test_sequence_errors);
	TEST_RUN(test_sequence_retry_uncached);
	TEST_RUN(test_compound_limits);
	TEST_RUN(test_bind_conn);
	TEST_RUN(test_backchannel_ctl);
	TEST_RUN(test_reclaim_complete_twice);
	TEST_RUN(test_destroy);
	CHECK(h_still_serving(&srv));
	CHECK_EQ(h_server_stop(&srv, test_failures != 0), 0);
	TEST_EXIT();
}
