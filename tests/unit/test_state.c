/*
 * test_state.c - client records (the EXCHANGE_ID cases of RFC 8881
 * §18.35.5), CREATE_SESSION (§18.36.4), SEQUENCE (§18.46.3), the destroy
 * operations and lease expiry (§8.3), driven through the state API.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/state/state_int.h"
#include "../testlib.h"

#define LEASE_SEC	2

static struct state_server *srv;
static int expired_calls;

static struct rpc_cred
cred_uid(uint32_t uid)
{
	struct rpc_cred c;

	memset(&c, 0, sizeof(c));
	c.flavor = AUTH_SYS;
	c.uid = uid;
	return c;
}

static nfsstat4
exid(const char *owner, const char *verf, uint32_t flags, uint32_t uid,
     EXCHANGE_ID4resok *ok)
{
	EXCHANGE_ID4args a;
	struct rpc_cred c = cred_uid(uid);

	memset(&a, 0, sizeof(a));
	memset(ok, 0, sizeof(*ok));
	memcpy(a.eia_clientowner.co_verifier, verf, NFS4_VERIFIER_SIZE);
	a.eia_clientowner.co_ownerid.co_ownerid_len = strlen(owner);
	a.eia_clientowner.co_ownerid.co_ownerid_val = (char *)owner;
	a.eia_flags = flags;
	a.eia_state_protect.spa_how = SP4_NONE;
	return state_exchange_id(srv, &a, &c, ok);
}

static void
chan(channel_attrs4 *ca, uint32_t maxreq, uint32_t nslots)
{
	memset(ca, 0, sizeof(*ca));
	ca->ca_maxrequestsize = maxreq;
	ca->ca_maxresponsesize = maxreq;
	ca->ca_maxresponsesize_cached = 4096;
	ca->ca_maxoperations = 16;
	ca->ca_maxrequests = nslots;
}

static nfsstat4
csess(uint64_t clientid, uint32_t seq, uint32_t uid, CREATE_SESSION4resok *ok)
{
	CREATE_SESSION4args a;
	callback_sec_parms4 sp;
	struct rpc_cred c = cred_uid(uid);

	memset(&a, 0, sizeof(a));
	memset(&sp, 0, sizeof(sp));
	sp.cb_secflavor = AUTH_NONE;
	a.csa_clientid = clientid;
	a.csa_sequence = seq;
	a.csa_flags = 0;
	chan(&a.csa_fore_chan_attrs, 1 << 20, 1000);
	chan(&a.csa_back_chan_attrs, 4096, 4);
	a.csa_cb_program = 0x40000000;
	a.csa_sec_parms.csa_sec_parms_len = 1;
	a.csa_sec_parms.csa_sec_parms_val = &sp;
	memset(ok, 0, sizeof(*ok));
	return state_create_session(srv, &a, &c, NULL, ok);
}

static bool
client_exists(uint64_t clientid)
{
	struct state_client *clp;

	if (state_client_lookup(srv, clientid, &clp) != NFS4_OK)
		return false;
	state_client_put(clp);
	return true;
}

static bool
session_exists(const char *id)
{
	struct state_session *ses;

	if (state_session_lookup(srv, id, &ses) != NFS4_OK)
		return false;
	state_session_put(ses);
	return true;
}

static void
on_expire(struct state_client *clp, void *ctx)
{
	(void)clp;
	(void)ctx;
	expired_calls++;
}

static void
setup(void)
{
	struct state_config cfg;
	struct state_client_hooks hooks = {
		.name = "test", .expire = on_expire,
	};

	state_config_defaults(&cfg);
	cfg.lease_sec = LEASE_SEC;
	cfg.start_reaper = false;
	cfg.server_owner = "test-server";
	REQUIRE(state_server_create(&cfg, &srv) == 0);
	/* Index 0 is the file service's own (stateid.c); any slot will do. */
	REQUIRE(state_register_client_hooks(srv, &hooks) >= 0);
	expired_calls = 0;
}

static void
teardown(void)
{
	state_server_destroy(srv);
	srv = NULL;
}

/* Cases 1, 5, 2 of §18.35.5 and CREATE_SESSION's confirmation. */
static void
test_new_and_confirm(void)
{
	EXCHANGE_ID4resok e1, e2, e3;
	CREATE_SESSION4resok c1, c2;

	setup();
	CHECK_EQ(exid("alpha", "verf0001", 0, 0, &e1), NFS4_OK);
	CHECK_EQ(e1.eir_sequenceid, 1);
	CHECK(e1.eir_flags & EXCHGID4_FLAG_USE_PNFS_MDS);
	CHECK(!(e1.eir_flags & EXCHGID4_FLAG_CONFIRMED_R));
	/* Case 5: an unconfirmed record is replaced by a new one. */
	CHECK_EQ(exid("alpha", "verf0001", 0, 0, &e2), NFS4_OK);
	CHECK(e2.eir_clientid != e1.eir_clientid);
	CHECK(!client_exists(e1.eir_clientid));
	CHECK_EQ(csess(e1.eir_clientid, 1, 0, &c1), NFS4ERR_STALE_CLIENTID);

	/* §18.36.4 sequencing on the client record's slot. */
	CHECK_EQ(csess(e2.eir_clientid, 2, 0, &c1), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(csess(e2.eir_clientid, 1, 7, &c1), NFS4ERR_CLID_INUSE);
	CHECK_EQ(csess(e2.eir_clientid, 1, 0, &c1), NFS4_OK);
	CHECK(session_exists(c1.csr_sessionid));
	CHECK_EQ(c1.csr_sequence, 1);
	/* Negotiated down to the server's limits. */
	CHECK_EQ(c1.csr_fore_chan_attrs.ca_maxrequests,
		 STATE_MAX_SLOTS_DEFAULT);
	CHECK_EQ(c1.csr_back_chan_attrs.ca_maxrequests, 4);
	CHECK_EQ(c1.csr_fore_chan_attrs.ca_maxoperations, 16);
	/* A replay returns the cached result, not a new session. */
	CHECK_EQ(csess(e2.eir_clientid, 1, 0, &c2), NFS4_OK);
	CHECK(memcmp(c1.csr_sessionid, c2.csr_sessionid,
		     NFS4_SESSIONID_SIZE) == 0);
	CHECK_EQ(csess(e2.eir_clientid, 3, 0, &c2), NFS4ERR_SEQ_MISORDERED);

	/* Case 2: same owner, verifier, principal: the confirmed record. */
	CHECK_EQ(exid("alpha", "verf0001", 0, 0, &e3), NFS4_OK);
	CHECK_EQ(e3.eir_clientid, e2.eir_clientid);
	CHECK(e3.eir_flags & EXCHGID4_FLAG_CONFIRMED_R);
	CHECK_EQ(e3.eir_sequenceid, 2);
	teardown();
}

/* Case 3 (collision) and case 4 (client restart). */
static void
test_collision_and_restart(void)
{
	EXCHANGE_ID4resok e1, e2, e3;
	CREATE_SESSION4resok c1, c2;

	setup();
	REQUIRE(exid("beta", "verf0001", 0, 0, &e1) == NFS4_OK);
	REQUIRE(csess(e1.eir_clientid, 1, 0, &c1) == NFS4_OK);
	/* Another principal, while the record has a session: in use. */
	CHECK_EQ(exid("beta", "verf0001", 0, 1000, &e2), NFS4ERR_CLID_INUSE);
	CHECK(client_exists(e1.eir_clientid));

	/* Case 4: new verifier -> new unconfirmed record; old lives on. */
	CHECK_EQ(exid("beta", "verf0002", 0, 0, &e2), NFS4_OK);
	CHECK(e2.eir_clientid != e1.eir_clientid);
	CHECK(!(e2.eir_flags & EXCHGID4_FLAG_CONFIRMED_R));
	CHECK_EQ(e2.eir_sequenceid, 1);
	CHECK(client_exists(e1.eir_clientid));
	CHECK(session_exists(c1.csr_sessionid));
	/* Confirming the new record removes the old one and its state. */
	CHECK_EQ(csess(e2.eir_clientid, 1, 0, &c2), NFS4_OK);
	CHECK(!client_exists(e1.eir_clientid));
	CHECK(!session_exists(c1.csr_sessionid));
	CHECK_EQ(expired_calls, 1);

	/* Collision with a record that has no state: replaced. */
	REQUIRE(state_destroy_session(srv, c2.csr_sessionid, NULL) == NFS4_OK);
	CHECK_EQ(exid("beta", "verf0002", 0, 1000, &e3), NFS4_OK);
	CHECK(e3.eir_clientid != e2.eir_clientid);
	CHECK(!client_exists(e2.eir_clientid));
	teardown();
}

/* Cases 6-9: EXCHGID4_FLAG_UPD_CONFIRMED_REC_A. */
static void
test_update(void)
{
	const uint32_t upd = EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;
	EXCHANGE_ID4resok e1, e2;
	CREATE_SESSION4resok c1;

	setup();
	CHECK_EQ(exid("gamma", "verf0001", upd, 0, &e1), NFS4ERR_NOENT);
	REQUIRE(exid("gamma", "verf0001", 0, 0, &e1) == NFS4_OK);
	/* Unconfirmed is not enough for an update. */
	CHECK_EQ(exid("gamma", "verf0001", upd, 0, &e2), NFS4ERR_NOENT);
	REQUIRE(exid("gamma", "verf0001", 0, 0, &e1) == NFS4_OK);
	REQUIRE(csess(e1.eir_clientid, 1, 0, &c1) == NFS4_OK);
	CHECK_EQ(exid("gamma", "verf0002", upd, 0, &e2), NFS4ERR_NOT_SAME);
	CHECK_EQ(exid("gamma", "verf0001", upd, 5, &e2), NFS4ERR_PERM);
	CHECK_EQ(exid("gamma", "verf0001", upd, 0, &e2), NFS4_OK);
	CHECK_EQ(e2.eir_clientid, e1.eir_clientid);
	CHECK(e2.eir_flags & EXCHGID4_FLAG_CONFIRMED_R);
	teardown();
}

static void
test_bad_args(void)
{
	EXCHANGE_ID4args a;
	EXCHANGE_ID4resok ok;
	struct rpc_cred c = cred_uid(0);

	setup();
	memset(&a, 0, sizeof(a));
	a.eia_clientowner.co_ownerid.co_ownerid_len = 5;
	a.eia_clientowner.co_ownerid.co_ownerid_val = (char *)"delta";
	a.eia_state_protect.spa_how = SP4_MACH_CRED;
	CHECK_EQ(state_exchange_id(srv, &a, &c, &ok), NFS4ERR_ENCR_ALG_UNSUPP);
	a.eia_state_protect.spa_how = SP4_NONE;
	a.eia_flags = EXCHGID4_FLAG_CONFIRMED_R;	/* server-only bit */
	CHECK_EQ(state_exchange_id(srv, &a, &c, &ok), NFS4ERR_INVAL);
	teardown();
}

/* Resource caps: NFS4ERR_DELAY, not unbounded memory. */
static void
test_caps(void)
{
	struct state_config cfg;
	EXCHANGE_ID4resok e;
	CREATE_SESSION4resok c;
	char sid[NFS4_SESSIONID_SIZE];

	state_config_defaults(&cfg);
	cfg.start_reaper = false;
	cfg.max_clients = 2;
	cfg.max_sessions = 2;
	REQUIRE(state_server_create(&cfg, &srv) == 0);
	REQUIRE(exid("cap-a", "verf0001", 0, 0, &e) == NFS4_OK);
	CHECK_EQ(csess(e.eir_clientid, 1, 0, &c), NFS4_OK);
	CHECK_EQ(csess(e.eir_clientid, 2, 0, &c), NFS4_OK);
	memcpy(sid, c.csr_sessionid, NFS4_SESSIONID_SIZE);
	CHECK_EQ(csess(e.eir_clientid, 3, 0, &c), NFS4ERR_DELAY);
	REQUIRE(state_destroy_session(srv, sid, NULL) == NFS4_OK);
	CHECK_EQ(csess(e.eir_clientid, 3, 0, &c), NFS4_OK);
	REQUIRE(exid("cap-b", "verf0001", 0, 0, &e) == NFS4_OK);
	CHECK_EQ(exid("cap-c", "verf0001", 0, 0, &e), NFS4ERR_DELAY);
	/* Replacing an unconfirmed record does not need room. */
	CHECK_EQ(exid("cap-b", "verf0002", 0, 0, &e), NFS4_OK);
	teardown();
}

static void
test_create_session_limits(void)
{
	CREATE_SESSION4args a;
	CREATE_SESSION4resok ok;
	EXCHANGE_ID4resok e;
	callback_sec_parms4 sp;
	struct rpc_cred c = cred_uid(0);

	setup();
	REQUIRE(exid("eps", "verf0001", 0, 0, &e) == NFS4_OK);
	memset(&a, 0, sizeof(a));
	memset(&sp, 0, sizeof(sp));
	a.csa_clientid = e.eir_clientid;
	a.csa_sequence = 1;
	chan(&a.csa_fore_chan_attrs, 100, 8);	/* below our minimum */
	chan(&a.csa_back_chan_attrs, 4096, 1);
	sp.cb_secflavor = AUTH_SYS;
	a.csa_sec_parms.csa_sec_parms_len = 1;
	a.csa_sec_parms.csa_sec_parms_val = &sp;
	CHECK_EQ(state_create_session(srv, &a, &c, NULL, &ok), NFS4ERR_TOOSMALL);
	/* A failed CREATE_SESSION does not consume the sequence id. */
	chan(&a.csa_fore_chan_attrs, 8192, 8);
	sp.cb_secflavor = 6;	/* RPCSEC_GSS only */
	CHECK_EQ(state_create_session(srv, &a, &c, NULL, &ok),
		 NFS4ERR_ENCR_ALG_UNSUPP);
	sp.cb_secflavor = AUTH_SYS;
	CHECK_EQ(state_create_session(srv, &a, &c, NULL, &ok), NFS4_OK);
	CHECK_EQ(ok.csr_fore_chan_attrs.ca_maxrequests, 8);
	CHECK_EQ(ok.csr_fore_chan_attrs.ca_maxrequestsize, 8192);
	CHECK_EQ(ok.csr_fore_chan_attrs.ca_headerpadsize, 0);

	/* A back channel too small is TOOSMALL even without CONN_BACK_CHAN
	 * (it may be bound later). */
	a.csa_sequence = 2;
	chan(&a.csa_back_chan_attrs, 10, 1);
	CHECK_EQ(state_create_session(srv, &a, &c, NULL, &ok),
		 NFS4ERR_TOOSMALL);
	chan(&a.csa_back_chan_attrs, 4096, 1);
	/* §18.36.3: undefined csa_flags bits are NFS4ERR_INVAL. */
	a.csa_sequence = 2;
	a.csa_flags = 0x8;
	CHECK_EQ(state_create_session(srv, &a, &c, NULL, &ok), NFS4ERR_INVAL);
	a.csa_flags = 0;
	/* An empty csa_sec_parms refuses nothing: callbacks as AUTH_NONE. */
	a.csa_sec_parms.csa_sec_parms_len = 0;
	CHECK_EQ(state_create_session(srv, &a, &c, NULL, &ok), NFS4_OK);
	/* Confirmed (SP4_NONE): another principal may add a session. */
	CHECK_EQ(csess(e.eir_clientid, 3, 4242, &ok), NFS4_OK);
	teardown();
}

static nfsstat4
seq(const char *sid, uint32_t slot, uint32_t seqid, bool cachethis,
    uint32_t opcnt, SEQUENCE4resok *ok, struct state_seq *s)
{
	SEQUENCE4args a;
	struct state_seq_req req = { .opcnt = opcnt, .req_len = 200 };

	memset(&a, 0, sizeof(a));
	memcpy(a.sa_sessionid, sid, NFS4_SESSIONID_SIZE);
	a.sa_sequenceid = seqid;
	a.sa_slotid = slot;
	a.sa_highest_slotid = slot;
	a.sa_cachethis = cachethis;
	return state_sequence(srv, &a, &req, ok, s);
}

static void
test_sequence(void)
{
	EXCHANGE_ID4resok e;
	CREATE_SESSION4resok c;
	SEQUENCE4resok ok;
	struct state_seq s, s2;
	char bad[NFS4_SESSIONID_SIZE];
	const char reply[] = "reply bytes 0123";
	void *buf;

	setup();
	REQUIRE(exid("zeta", "verf0001", 0, 0, &e) == NFS4_OK);
	REQUIRE(csess(e.eir_clientid, 1, 0, &c) == NFS4_OK);
	memset(bad, 0xee, sizeof(bad));
	CHECK_EQ(seq(bad, 0, 1, false, 1, &ok, &s), NFS4ERR_BADSESSION);
	CHECK_EQ(seq(c.csr_sessionid, STATE_MAX_SLOTS_DEFAULT, 1, false, 1,
		     &ok, &s), NFS4ERR_BADSLOT);
	CHECK_EQ(seq(c.csr_sessionid, 0, 1, false, 17, &ok, &s),
		 NFS4ERR_TOO_MANY_OPS);
	CHECK_EQ(seq(c.csr_sessionid, 0, 2, false, 1, &ok, &s),
		 NFS4ERR_SEQ_MISORDERED);

	REQUIRE(seq(c.csr_sessionid, 0, 1, true, 2, &ok, &s) == NFS4_OK);
	CHECK(!s.replay);
	CHECK_EQ(ok.sr_sequenceid, 1);
	CHECK_EQ(ok.sr_slotid, 0);
	CHECK_EQ(ok.sr_highest_slotid, STATE_MAX_SLOTS_DEFAULT - 1);
	/* No back channel was ever bound: both path-down bits. */
	CHECK(ok.sr_status_flags & SEQ4_STATUS_CB_PATH_DOWN);
	CHECK(ok.sr_status_flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
	/* Retry while in progress, and DESTROY_SESSION, must wait. */
	CHECK_EQ(seq(c.csr_sessionid, 0, 1, true, 2, &ok, &s2), NFS4ERR_DELAY);
	CHECK_EQ(state_destroy_session(srv, c.csr_sessionid, NULL),
		 NFS4ERR_DELAY);
	buf = state_seq_cache_buf(&s, sizeof(reply));
	REQUIRE(buf);
	memcpy(buf, reply, sizeof(reply));
	state_sequence_done(&s, true, sizeof(reply));

	/* The retry gets the cached bytes. */
	REQUIRE(seq(c.csr_sessionid, 0, 1, true, 2, &ok, &s) == NFS4_OK);
	CHECK(s.replay);
	CHECK_EQ(s.replay_len, sizeof(reply));
	CHECK(memcmp(s.replay_buf, reply, sizeof(reply)) == 0);
	state_sequence_done(&s, false, 0);

	/* Uncached: a retry is refused. */
	REQUIRE(seq(c.csr_sessionid, 0, 2, false, 1, &ok, &s) == NFS4_OK);
	state_sequence_done(&s, false, 0);
	CHECK_EQ(seq(c.csr_sessionid, 0, 2, false, 1, &ok, &s),
		 NFS4ERR_RETRY_UNCACHED_REP);

	teardown();
}

static void
test_destroy_and_reclaim(void)
{
	EXCHANGE_ID4resok e;
	CREATE_SESSION4resok c;
	SEQUENCE4resok ok;
	struct state_seq s;
	struct state_client *clp;
	struct rpc_cred c0 = cred_uid(0);

	setup();
	REQUIRE(exid("eta", "verf0001", 0, 0, &e) == NFS4_OK);
	REQUIRE(csess(e.eir_clientid, 1, 0, &c) == NFS4_OK);
	CHECK_EQ(state_destroy_clientid(srv, e.eir_clientid + 1000, &c0),
		 NFS4ERR_STALE_CLIENTID);
	CHECK_EQ(state_destroy_clientid(srv, e.eir_clientid, &c0),
		 NFS4ERR_CLIENTID_BUSY);

	REQUIRE(state_client_lookup(srv, e.eir_clientid, &clp) == NFS4_OK);
	CHECK_EQ(state_reclaim_complete(clp), NFS4_OK);
	CHECK_EQ(state_reclaim_complete(clp), NFS4ERR_COMPLETE_ALREADY);
	state_client_set_seq_flags(clp, SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	REQUIRE(seq(c.csr_sessionid, 3, 1, false, 2, &ok, &s) == NFS4_OK);
	CHECK(ok.sr_status_flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	/* Destroying the session a COMPOUND runs on, from within it. */
	CHECK_EQ(state_destroy_session(srv, c.csr_sessionid, s.ses), NFS4_OK);
	state_sequence_done(&s, false, 0);
	state_client_clear_seq_flags(clp, SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	state_client_put(clp);
	CHECK(!session_exists(c.csr_sessionid));
	CHECK_EQ(seq(c.csr_sessionid, 0, 1, false, 1, &ok, &s),
		 NFS4ERR_BADSESSION);
	CHECK_EQ(state_destroy_session(srv, c.csr_sessionid, NULL),
		 NFS4ERR_BADSESSION);
	CHECK_EQ(state_destroy_clientid(srv, e.eir_clientid, &c0), NFS4_OK);
	CHECK(!client_exists(e.eir_clientid));
	CHECK_EQ(expired_calls, 1);
	teardown();
}

static void
test_lease_expiry(void)
{
	EXCHANGE_ID4resok e1, e2;
	CREATE_SESSION4resok c1, c2;
	SEQUENCE4resok ok;
	struct state_seq s;
	uint64_t later;

	setup();
	REQUIRE(exid("theta", "verf0001", 0, 0, &e1) == NFS4_OK);
	REQUIRE(csess(e1.eir_clientid, 1, 0, &c1) == NFS4_OK);
	REQUIRE(exid("iota", "verf0001", 0, 0, &e2) == NFS4_OK);
	REQUIRE(csess(e2.eir_clientid, 1, 0, &c2) == NFS4_OK);
	CHECK_EQ(state_expire_clients(srv, clock_now_ns()), 0);

	/* A COMPOUND in flight keeps its client alive past the lease. */
	REQUIRE(seq(c2.csr_sessionid, 0, 1, false, 1, &ok, &s) == NFS4_OK);
	later = clock_now_ns() + (LEASE_SEC + 1) * NSEC_PER_SEC;
	CHECK_EQ(state_expire_clients(srv, later), 1);
	CHECK(!client_exists(e1.eir_clientid));
	CHECK(!session_exists(c1.csr_sessionid));
	CHECK(client_exists(e2.eir_clientid));
	CHECK_EQ(expired_calls, 1);
	state_sequence_done(&s, false, 0);
	/* The lease of e2 was renewed by that SEQUENCE, just now. */
	CHECK_EQ(state_expire_clients(srv, clock_now_ns()), 0);
	CHECK_EQ(state_expire_clients(srv, later + LEASE_SEC * NSEC_PER_SEC),
		 1);
	CHECK(!client_exists(e2.eir_clientid));
	CHECK_EQ(seq(c2.csr_sessionid, 0, 2, false, 1, &ok, &s),
		 NFS4ERR_BADSESSION);
	CHECK_EQ(csess(e2.eir_clientid, 2, 0, &c2), NFS4ERR_STALE_CLIENTID);
	CHECK_EQ(expired_calls, 2);
	teardown();
}

/*
 * Concurrency: SEQUENCE on two sessions from two threads while a third
 * churns client records and runs the reaper.  In debug builds every lock
 * taken is checked against the state lock order, so an inversion on any
 * of these paths trips a VERIFY here.
 */
#define STRESS_MS	300

struct stress {
	char	sid[NFS4_SESSIONID_SIZE];
	uint64_t deadline;
	unsigned long iterations;
	int	failures;
};

static void *
stress_sequence(void *arg)
{
	struct stress *st = arg;
	SEQUENCE4resok ok;
	struct state_seq s;
	uint32_t seqid = 1;

	/* At least one round, however slow the machine (valgrind). */
	do {
		for (uint32_t slot = 0; slot < 4; slot++) {
			void *buf;

			if (seq(st->sid, slot, seqid, true, 2, &ok, &s) !=
			    NFS4_OK) {
				st->failures++;
				continue;
			}
			buf = state_seq_cache_buf(&s, 16);
			if (buf)
				memset(buf, (int)slot, 16);
			state_sequence_done(&s, buf != NULL, 16);
		}
		seqid++;
		st->iterations++;
	} while (clock_now_ns() < st->deadline);
	return NULL;
}

static void *
stress_churn(void *arg)
{
	struct stress *st = arg;
	char owner[32];
	EXCHANGE_ID4resok e;
	CREATE_SESSION4resok c;
	struct rpc_cred c0 = cred_uid(0);

	do {
		snprintf(owner, sizeof(owner), "churn-%lu",
			 st->iterations % 16);
		if (exid(owner, "verf0001", 0, 0, &e) != NFS4_OK ||
		    csess(e.eir_clientid, e.eir_sequenceid, 0, &c) != NFS4_OK ||
		    state_destroy_session(srv, c.csr_sessionid, NULL) !=
			    NFS4_OK ||
		    state_destroy_clientid(srv, e.eir_clientid, &c0) != NFS4_OK)
			st->failures++;
		(void)state_expire_clients(srv, clock_now_ns());
		st->iterations++;
	} while (clock_now_ns() < st->deadline);
	return NULL;
}

static void
test_concurrency(void)
{
	struct stress st[3];
	pthread_t th[3];
	EXCHANGE_ID4resok e;
	CREATE_SESSION4resok c;
	uint64_t deadline = clock_now_ns() + STRESS_MS * NSEC_PER_MSEC;

	setup();
	memset(st, 0, sizeof(st));
	for (int i = 0; i < 2; i++) {
		char owner[16];

		snprintf(owner, sizeof(owner), "stress-%d", i);
		REQUIRE(exid(owner, "verf0001", 0, 0, &e) == NFS4_OK);
		REQUIRE(csess(e.eir_clientid, 1, 0, &c) == NFS4_OK);
		memcpy(st[i].sid, c.csr_sessionid, NFS4_SESSIONID_SIZE);
	}
	for (int i = 0; i < 3; i++) {
		st[i].deadline = deadline;
		REQUIRE(pthread_create(&th[i], NULL,
				       i < 2 ? stress_sequence : stress_churn,
				       &st[i]) == 0);
	}
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(st[i].failures, 0);
		CHECK(st[i].iterations > 0);
	}
	teardown();
}

/*
 * Many clients: the tables are sized for 100,000 (DESIGN.md §4), and the
 * reaper expires in batches, re-scanning a bucket after a full batch.
 * STATE_TEST_LONG=1 runs the full 100,000.
 */
static void
test_many_clients(void)
{
	const char *env = getenv("STATE_TEST_LONG");
	unsigned int n = (env && *env == '1') ? 100000 : 5000;
	uint64_t *ids, later;
	EXCHANGE_ID4resok e;
	CREATE_SESSION4resok c;
	char owner[32];
	unsigned int bad = 0;

	setup();
	ids = calloc(n, sizeof(*ids));
	REQUIRE(ids);
	for (unsigned int i = 0; i < n; i++) {
		snprintf(owner, sizeof(owner), "many-%u", i);
		if (exid(owner, "verf0001", 0, 0, &e) != NFS4_OK ||
		    (i % 2 && csess(e.eir_clientid, 1, 0, &c) != NFS4_OK))
			bad++;
		ids[i] = e.eir_clientid;
	}
	CHECK_EQ(bad, 0);
	for (unsigned int i = 0; i < n; i += 97)
		CHECK(client_exists(ids[i]));
	{
		struct state_client_info info[10];
		unsigned int total = 0, got;

		got = state_list_clients(srv, info, 10, &total);
		CHECK_EQ(got, 10);
		CHECK_EQ(total, n);
		for (unsigned int i = 0; i < got; i++) {
			CHECK(strncmp(info[i].owner, "many-", 5) == 0);
			CHECK(info[i].lease_left_ms > 0);
			CHECK(!info[i].cb_up);
			/* Odd-numbered clients were confirmed by a session. */
			CHECK_EQ(info[i].nsessions, info[i].confirmed ? 1 : 0);
		}
	}
	CHECK_EQ(state_expire_clients(srv, clock_now_ns()), 0);
	later = clock_now_ns() + (LEASE_SEC + 1) * NSEC_PER_SEC;
	CHECK_EQ(state_expire_clients(srv, later), n);
	CHECK_EQ(expired_calls, n);
	for (unsigned int i = 0; i < n; i += 97)
		CHECK(!client_exists(ids[i]));
	free(ids);
	teardown();
}

int
main(void)
{
	log_init("test_state", LOG_LVL_WARN, false);
	TEST_RUN(test_new_and_confirm);
	TEST_RUN(test_collision_and_restart);
	TEST_RUN(test_update);
	TEST_RUN(test_bad_args);
	TEST_RUN(test_create_session_limits);
	TEST_RUN(test_caps);
	TEST_RUN(test_sequence);
	TEST_RUN(test_destroy_and_reclaim);
	TEST_RUN(test_lease_expiry);
	TEST_RUN(test_concurrency);
	TEST_RUN(test_many_clients);
	TEST_EXIT();
}
