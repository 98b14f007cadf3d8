/*
 * test_proto_exchange_id.c - EXCHANGE_ID client-record cases of RFC 8881
 * §18.35.5 against a running pmemnfsd, and the flag rules of §18.35.3.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "harness.h"
#include "../testlib.h"

static struct h_server srv;
static struct nc_conn *conn;

static const verifier4 verf_a = { 'v', 'e', 'r', 'f', '-', 'A', 0, 1 };
static const verifier4 verf_b = { 'v', 'e', 'r', 'f', '-', 'B', 0, 2 };

static nfsstat4
exid(const char *owner, const verifier4 v, uint32_t flags,
     struct nc_clientid *cl)
{
	nfsstat4 status = NFS4ERR_IO;

	memset(cl, 0, sizeof(*cl));
	CHECK_EQ(nc_exchange_id(conn, owner, v, flags, cl, &status), 0);
	return status;
}

static nfsstat4
confirm(struct nc_clientid *cl, struct nc_session **s)
{
	struct nc_session_opts o;
	nfsstat4 status = NFS4ERR_IO;

	nc_session_opts_init(&o);
	o.flags = 0;	/* no back channel needed here */
	*s = NULL;
	CHECK_EQ(nc_create_session(conn, cl, &o, s, &status), 0);
	return status;
}

/* A SEQUENCE on s: its status (BADSESSION once the session is gone). */
static int
ping(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "ping");
	if (nc_session_compound(s, &cp, NC_SEQ_NO_RETRY, &res, NULL))
		return -1;
	st = nc_res_status(&res, 0);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return st;
}

/*
 * Case 1 "New Owner ID": a new record, unconfirmed (no CONFIRMED_R), and
 * §13.1 / our design: an MDS advertises EXCHGID4_FLAG_USE_PNFS_MDS.
 * Case 2 "Non-Update on Existing Client ID": same owner, verifier and
 * principal on a confirmed record returns the same client ID with
 * EXCHGID4_FLAG_CONFIRMED_R.
 */
static void
test_new_and_confirmed(void)
{
	const char *owner = h_owner("exid-new");
	struct nc_clientid cl, again;
	struct nc_session *s;

	CHECK_EQ(exid(owner, verf_a, 0, &cl), NFS4_OK);
	CHECK(!(cl.flags & EXCHGID4_FLAG_CONFIRMED_R));
	CHECK(cl.flags & EXCHGID4_FLAG_USE_PNFS_MDS);
	CHECK(cl.clientid != 0);

	/*
	 * Case 4 applies to an unconfirmed record whatever the verifier: a
	 * record (maybe a new client ID) comes back, still unconfirmed, and
	 * the latest one is what CREATE_SESSION confirms.
	 */
	CHECK_EQ(exid(owner, verf_a, 0, &again), NFS4_OK);
	CHECK(!(again.flags & EXCHGID4_FLAG_CONFIRMED_R));
	cl = again;

	CHECK_EQ(confirm(&cl, &s), NFS4_OK);
	CHECK_EQ(exid(owner, verf_a, 0, &again), NFS4_OK);
	CHECK_EQ(again.clientid, cl.clientid);
	CHECK(again.flags & EXCHGID4_FLAG_CONFIRMED_R);
	if (s)
		CHECK_EQ(ping(s), NFS4_OK);	/* nothing was torn down */
	nc_session_free(s);
}

/*
 * Case 5 "Client Restart": a confirmed record and a new verifier give a new
 * client ID, unconfirmed; the old state survives until the new one is
 * confirmed by CREATE_SESSION, which then makes the old client ID stale
 * and its sessions go away (§18.35.5 case 5 and §18.36.4).
 */
static void
test_client_restart(void)
{
	const char *owner = h_owner("exid-restart");
	struct nc_clientid old, fresh;
	struct nc_session *s_old = NULL, *s_new = NULL, *s_stale = NULL;
	nfsstat4 st = NFS4ERR_IO;
	struct nc_session_opts o;

	CHECK_EQ(exid(owner, verf_a, 0, &old), NFS4_OK);
	CHECK_EQ(confirm(&old, &s_old), NFS4_OK);
	REQUIRE(s_old);

	CHECK_EQ(exid(owner, verf_b, 0, &fresh), NFS4_OK);
	CHECK(fresh.clientid != old.clientid);
	CHECK(!(fresh.flags & EXCHGID4_FLAG_CONFIRMED_R));
	/* Not confirmed yet: the old session still works. */
	CHECK_EQ(ping(s_old), NFS4_OK);

	CHECK_EQ(confirm(&fresh, &s_new), NFS4_OK);
	CHECK_EQ(ping(s_old), NFS4ERR_BADSESSION);
	if (s_new)
		CHECK_EQ(ping(s_new), NFS4_OK);
	nc_session_opts_init(&o);
	o.flags = 0;
	CHECK_EQ(nc_create_session(conn, &old, &o, &s_stale, &st), 0);
	CHECK_EQ(st, NFS4ERR_STALE_CLIENTID);
	nc_session_free(s_stale);
	nc_session_free(s_old);
	nc_session_free(s_new);
}

/*
 * Case 4 "Replacement of Unconfirmed Record": an unconfirmed record and a
 * new verifier: the old unconfirmed client ID is dropped, a new one given;
 * CREATE_SESSION with the old one is NFS4ERR_STALE_CLIENTID.
 */
static void
test_unconfirmed_replaced(void)
{
	const char *owner = h_owner("exid-unconf");
	struct nc_clientid first, second;
	struct nc_session *s = NULL;

	CHECK_EQ(exid(owner, verf_a, 0, &first), NFS4_OK);
	CHECK_EQ(exid(owner, verf_b, 0, &second), NFS4_OK);
	CHECK(first.clientid != second.clientid);
	CHECK_EQ(confirm(&first, &s), NFS4ERR_STALE_CLIENTID);
	nc_session_free(s);
	s = NULL;
	CHECK_EQ(confirm(&second, &s), NFS4_OK);
	nc_session_free(s);
}

/*
 * Update cases (EXCHGID4_FLAG_UPD_CONFIRMED_REC_A): case 6 "Update" on a
 * confirmed record with the same verifier succeeds with the same client ID
 * and CONFIRMED_R; case 8 "Update but Wrong Verifier" is NFS4ERR_NOT_SAME;
 * case 7 "Update but No Confirmed Record" is NFS4ERR_NOENT.
 */
static void
test_update(void)
{
	const char *owner = h_owner("exid-upd");
	struct nc_clientid cl, upd;
	struct nc_session *s = NULL;

	CHECK_EQ(exid(h_owner("exid-upd-none"), verf_a,
		      EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, &upd), NFS4ERR_NOENT);

	CHECK_EQ(exid(owner, verf_a, 0, &cl), NFS4_OK);
	/* Unconfirmed only: still "no confirmed record". */
	CHECK_EQ(exid(owner, verf_a, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, &upd),
		 NFS4ERR_NOENT);
	CHECK_EQ(confirm(&cl, &s), NFS4_OK);
	CHECK_EQ(exid(owner, verf_a, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, &upd),
		 NFS4_OK);
	CHECK_EQ(upd.clientid, cl.clientid);
	CHECK(upd.flags & EXCHGID4_FLAG_CONFIRMED_R);
	CHECK_EQ(exid(owner, verf_b, EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, &upd),
		 NFS4ERR_NOT_SAME);
	if (s)
		CHECK_EQ(ping(s), NFS4_OK);
	nc_session_free(s);
}

/*
 * §18.35.3: EXCHGID4_FLAG_CONFIRMED_R "can only be set in eir_flags; it is
 * always off in eia_flags": a request with it set is invalid
 * (NFS4ERR_INVAL).  Undefined flag bits are refused the same way, as Linux
 * knfsd and pynfs's EXCHANGE_ID flag tests expect.
 */
static void
test_bad_flags(void)
{
	struct nc_clientid cl;

	CHECK_EQ(exid(h_owner("exid-flags"), verf_a, EXCHGID4_FLAG_CONFIRMED_R,
		      &cl), NFS4ERR_INVAL);
	CHECK_EQ(exid(h_owner("exid-flags2"), verf_a, 0x00000800, &cl),
		 NFS4ERR_INVAL);
}

/*
 * The principal matters (AUTH_SYS uid here).  Case 3 "Client Collision":
 * same owner, different principal, and the confirmed record still has
 * state (a session) - NFS4ERR_CLID_INUSE.  Case 9 "Update but Wrong
 * Principal" - NFS4ERR_PERM.  The original client is undisturbed.
 */
static void
test_principal(void)
{
	const char *owner = h_owner("exid-princ");
	struct nc_conn *c1, *c2;
	struct nc_clientid cl, other;
	struct nc_session_opts o;
	struct nc_session *s = NULL;
	nfsstat4 st = NFS4ERR_IO;

	REQUIRE(h_connect(&srv, &c1) == 0);
	REQUIRE(h_connect(&srv, &c2) == 0);
	REQUIRE(nc_conn_set_auth_sys(c1, 1000, 1000) == 0);
	REQUIRE(nc_conn_set_auth_sys(c2, 2000, 2000) == 0);
	REQUIRE(nc_exchange_id(c1, owner, verf_a, 0, &cl, &st) == 0);
	REQUIRE(st == NFS4_OK);
	nc_session_opts_init(&o);
	o.flags = 0;
	REQUIRE(nc_create_session(c1, &cl, &o, &s, &st) == 0);
	REQUIRE(st == NFS4_OK && s);

	CHECK_EQ(nc_exchange_id(c2, owner, verf_a, 0, &other, &st), 0);
	CHECK_EQ(st, NFS4ERR_CLID_INUSE);
	CHECK_EQ(nc_exchange_id(c2, owner, verf_a,
				EXCHGID4_FLAG_UPD_CONFIRMED_REC_A, &other, &st),
		 0);
	CHECK_EQ(st, NFS4ERR_PERM);
	/* The same principal still gets its record back. */
	CHECK_EQ(nc_exchange_id(c1, owner, verf_a, 0, &other, &st), 0);
	CHECK_EQ(st, NFS4_OK);
	CHECK_EQ(other.clientid, cl.clientid);
	nc_session_free(s);
	nc_conn_close(c2);
	nc_conn_close(c1);
}

int
main(void)
{
	REQUIRE(h_server_start(&srv, NULL) == 0);
	REQUIRE(h_connect(&srv, &conn) == 0);
	TEST_RUN(test_new_and_confirmed);
	TEST_RUN(test_client_restart);
	TEST_RUN(test_unconfirmed_replaced);
	TEST_RUN(test_update);
	TEST_RUN(test_bad_flags);
	TEST_RUN(test_principal);
	nc_conn_close(conn);
	CHECK(h_still_serving(&srv));
	CHECK_EQ(h_server_stop(&srv, test_failures != 0), 0);
	TEST_EXIT();
}
