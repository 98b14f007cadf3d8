/*
 * test_proto_backchannel.c - the NFSv4.1 back channel on the client's own
 * connection (RFC 8881 §2.10.3.1, §18.36, §18.46.3) against a running
 * pmemnfsd: the server probes it with CB_NULL, and SEQUENCE reports
 * SEQ4_STATUS_CB_PATH_DOWN(_SESSION) while the client has no working back
 * channel - none requested, the client never answers, or the connection
 * carrying it closed.
 *
 * The server runs with a short lease so that its callback timeouts (bounded
 * by the lease, DESIGN.md §3 rule 5) end within the test's budget.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "harness.h"
#include "../testlib.h"

#define LEASE_SEC		3
/* A dead back channel must be noticed within a couple of lease periods. */
#define PATH_DOWN_WAIT_NS	(4ULL * LEASE_SEC * NSEC_PER_SEC)
#define POLL_NS			(100 * NSEC_PER_MSEC)
#define PATH_DOWN_BITS	(SEQ4_STATUS_CB_PATH_DOWN | \
			 SEQ4_STATUS_CB_PATH_DOWN_SESSION)

static struct h_server srv;

/* SEQUENCE alone on s; returns sr_status_flags, or UINT32_MAX on error. */
static uint32_t
seq_flags(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	uint32_t flags = UINT32_MAX;

	nc_session_compound_init(&cp, "flags");
	if (nc_session_compound(s, &cp, 0, &res, &flags))
		return UINT32_MAX;
	if (res.status != NFS4_OK)
		flags = UINT32_MAX;
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return flags;
}

/* Poll SEQUENCE until (flags & bits) == want or the deadline passes. */
static bool
wait_flags(struct nc_session *s, uint32_t bits, uint32_t want, uint64_t ns)
{
	uint64_t deadline = clock_now_ns() + ns;
	uint32_t f;

	for (;;) {
		f = seq_flags(s);
		if (f != UINT32_MAX && (f & bits) == want)
			return true;
		if (clock_now_ns() > deadline)
			return false;
		h_sleep_ns(POLL_NS);
	}
}

/*
 * CREATE_SESSION4_FLAG_CONN_BACK_CHAN: the creating connection is the back
 * channel (§18.36.3) and the server confirms the flag in csr_flags.  The
 * server probes a new back channel with CB_NULL (RFC 8881 §20.1 procedure
 * 0, as knfsd does); once answered, SEQUENCE shows no path-down bits.
 */
static void
test_cb_null_probe(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_cb_stats st;

	REQUIRE(h_session(&srv, h_owner("cbnull"), NULL, &c, &s) == 0);
	CHECK(nc_session_info(s)->flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
	CHECK_EQ(nc_conn_wait_cb(c, offsetof(struct nc_cb_stats, cb_null), 1,
				 PATH_DOWN_WAIT_NS), 0);
	CHECK(wait_flags(s, PATH_DOWN_BITS, 0, PATH_DOWN_WAIT_NS));
	nc_conn_cb_stats(c, &st);
	CHECK_EQ(st.bad, 0);	/* right program, version, procedure */
	h_session_free(c, s);
}

/*
 * §18.46.3: SEQ4_STATUS_CB_PATH_DOWN "indicates that the client has no
 * operational back channel path for any of the sessions associated with
 * the client ID"; _SESSION the same for this session.  A session created
 * without a back channel has none.
 */
static void
test_no_back_channel(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_session_opts o;
	uint32_t f;

	nc_session_opts_init(&o);
	o.flags = 0;
	REQUIRE(h_session(&srv, h_owner("noback"), &o, &c, &s) == 0);
	CHECK(!(nc_session_info(s)->flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN));
	f = seq_flags(s);
	CHECK(f != UINT32_MAX);
	CHECK(f & PATH_DOWN_BITS);
	h_session_free(c, s);
}

/* Poll SEQUENCE until some path-down bit shows or the deadline passes. */
static bool
wait_path_down(struct nc_session *s, uint64_t ns)
{
	uint64_t deadline = clock_now_ns() + ns;
	uint32_t f;

	for (;;) {
		f = seq_flags(s);
		if (f != UINT32_MAX && (f & PATH_DOWN_BITS))
			return true;
		if (clock_now_ns() > deadline)
			return false;
		h_sleep_ns(POLL_NS);
	}
}

/*
 * A client that never answers (its back channel is dead although the
 * connection is up): the server's probe goes unanswered and SEQUENCE must
 * start reporting the path down (§18.46.3; DESIGN.md §3 rule 5 bounds how
 * long the server may wait for a callback reply).
 */
static void
test_silent_client(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_session_opts o;
	struct nc_clientid cl;
	verifier4 v = { 's', 'i', 'l', 0, 0, 0, 0, 1 };
	nfsstat4 st = NFS4ERR_IO;

	REQUIRE(h_connect(&srv, &c) == 0);
	/* Silent before CREATE_SESSION so the very first probe is ignored. */
	nc_conn_set_cb_silent(c, true);
	REQUIRE(nc_exchange_id(c, h_owner("silent"), v, 0, &cl, &st) == 0);
	REQUIRE(st == NFS4_OK);
	nc_session_opts_init(&o);
	REQUIRE(nc_create_session(c, &cl, &o, &s, &st) == 0);
	REQUIRE(st == NFS4_OK && s);
	CHECK_EQ(nc_conn_wait_cb(c, offsetof(struct nc_cb_stats, dropped), 1,
				 PATH_DOWN_WAIT_NS), 0);
	CHECK(wait_path_down(s, PATH_DOWN_WAIT_NS));
	h_session_free(c, s);
}

/* SEQUENCE for session sid on connection c with an explicit slot. */
static uint32_t
raw_seq_flags(struct nc_conn *c, const sessionid4 sid, slotid4 slot,
	      sequenceid4 *seqid)
{
	struct nc_compound cp;
	COMPOUND4res res;
	SEQUENCE4args *sa;
	uint32_t f = UINT32_MAX;

	nc_compound_init(&cp, "raw-flags", 1);
	sa = &nc_compound_add(&cp, OP_SEQUENCE)->nfs_argop4_u.opsequence;
	memcpy(sa->sa_sessionid, sid, NFS4_SESSIONID_SIZE);
	sa->sa_sequenceid = *seqid;
	sa->sa_slotid = slot;
	sa->sa_highest_slotid = slot;
	if (nc_compound(c, &cp, &res, NULL))
		return UINT32_MAX;
	if (res.status == NFS4_OK) {
		f = res.resarray.resarray_val[0].nfs_resop4_u.opsequence
			    .SEQUENCE4res_u.sr_resok4.sr_status_flags;
		(*seqid)++;
	}
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return f;
}

/*
 * The connection carrying the back channel closes while the session goes
 * on over a second connection bound for the fore channel only
 * (BIND_CONN_TO_SESSION CDFC4_FORE, §18.34): the session has no back
 * channel any more and SEQUENCE on the other connection must say so
 * (§18.46.3 SEQ4_STATUS_CB_PATH_DOWN_SESSION / CB_PATH_DOWN).
 */
static void
test_back_channel_conn_closed(void)
{
	struct nc_conn *a, *b;
	struct nc_session *s;
	struct nc_compound cp;
	COMPOUND4res res;
	BIND_CONN_TO_SESSION4args *bind;
	sessionid4 sid;
	sequenceid4 seq = 1;
	uint64_t deadline;
	uint32_t f;

	REQUIRE(h_session(&srv, h_owner("cbclose"), NULL, &a, &s) == 0);
	memcpy(sid, nc_session_info(s)->sessionid, NFS4_SESSIONID_SIZE);
	CHECK_EQ(nc_conn_wait_cb(a, offsetof(struct nc_cb_stats, cb_null), 1,
				 PATH_DOWN_WAIT_NS), 0);
	CHECK(wait_flags(s, PATH_DOWN_BITS, 0, PATH_DOWN_WAIT_NS));

	REQUIRE(h_connect(&srv, &b) == 0);
	nc_compound_init(&cp, "bind-fore", 1);
	bind = &nc_compound_add(&cp, OP_BIND_CONN_TO_SESSION)
			->nfs_argop4_u.opbind_conn_to_session;
	memcpy(bind->bctsa_sessid, sid, NFS4_SESSIONID_SIZE);
	bind->bctsa_dir = CDFC4_FORE;
	REQUIRE(nc_compound(b, &cp, &res, NULL) == 0);
	CHECK_EQ(res.status, NFS4_OK);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);

	f = raw_seq_flags(b, sid, 1, &seq);
	CHECK(f != UINT32_MAX && !(f & PATH_DOWN_BITS));

	/* Close connection a, the only back channel. */
	h_session_free(a, s);
	deadline = clock_now_ns() + PATH_DOWN_WAIT_NS;
	for (;;) {
		f = raw_seq_flags(b, sid, 1, &seq);
		if (f != UINT32_MAX && (f & PATH_DOWN_BITS))
			break;
		if (clock_now_ns() > deadline)
			break;
		h_sleep_ns(POLL_NS);
	}
	CHECK(f != UINT32_MAX);
	CHECK(f & PATH_DOWN_BITS);
	nc_conn_close(b);
}

/*
 * §18.34.3: BIND_CONN_TO_SESSION with CDFC4_BACK_OR_BOTH makes a second
 * connection a back channel of the session.  When the creating connection
 * (the first back channel) closes, the session still has a back channel, so
 * SEQUENCE must not report the path down; the server probes or uses the
 * new one (a CB_NULL there is not required, so only its health is checked).
 */
static void
test_bind_second_back_channel(void)
{
	struct nc_conn *a, *b;
	struct nc_session *s;
	channel_dir_from_server4 dir = 0;
	nfsstat4 st = NFS4ERR_IO;
	sessionid4 sid;
	sequenceid4 seq = 1;
	uint64_t deadline;
	uint32_t f;

	REQUIRE(h_session(&srv, h_owner("cbbind"), NULL, &a, &s) == 0);
	memcpy(sid, nc_session_info(s)->sessionid, NFS4_SESSIONID_SIZE);
	CHECK_EQ(nc_conn_wait_cb(a, offsetof(struct nc_cb_stats, cb_null), 1,
				 PATH_DOWN_WAIT_NS), 0);
	REQUIRE(h_connect(&srv, &b) == 0);
	CHECK_EQ(nc_bind_conn_to_session(b, s, CDFC4_BACK_OR_BOTH, &dir, &st),
		 0);
	CHECK_EQ(st, NFS4_OK);
	CHECK(dir == CDFS4_BACK || dir == CDFS4_BOTH);

	h_session_free(a, s);	/* the first back channel is gone */
	/*
	 * Give the server time to notice the close and, wrongly, flag the
	 * path down: poll for the whole window and fail on any down report.
	 */
	deadline = clock_now_ns() + 2ULL * LEASE_SEC * NSEC_PER_SEC;
	while (clock_now_ns() < deadline) {
		f = raw_seq_flags(b, sid, 1, &seq);
		CHECK(f != UINT32_MAX);
		if (f == UINT32_MAX || (f & PATH_DOWN_BITS)) {
			CHECK(!(f & PATH_DOWN_BITS));
			break;
		}
		h_sleep_ns(POLL_NS);
	}
	nc_conn_close(b);
}

int
main(void)
{
	static const char *const args[] = {
		"-o", "nfs4.lease_time=3", NULL
	};

	REQUIRE(h_server_start(&srv, args) == 0);
	TEST_RUN(test_cb_null_probe);
	TEST_RUN(test_no_back_channel);
	TEST_RUN(test_silent_client);
	TEST_RUN(test_back_channel_conn_closed);
	TEST_RUN(test_bind_second_back_channel);
	CHECK(h_still_serving(&srv));
	CHECK_EQ(h_server_stop(&srv, test_failures != 0), 0);
	TEST_EXIT();
}
