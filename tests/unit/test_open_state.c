/*
 * test_open_state.c - opens, share reservations and byte-range locks
 * through the state API (RFC 8881 §9, §18.10-18.12, §18.16, §18.18),
 * without an engine: range merging and splitting, lock type changes,
 * LOCK4denied details, OPEN_DOWNGRADE's mode rules, that a client's
 * expiry frees its opens and locks (§8.3), and the count of write
 * delegations (§10.4.3) through grant, return, revocation and expiry.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/state/state_int.h"
#include "../testlib.h"

#define LEASE_SEC	2
#define INO		7

static struct state_server *srv;
static struct state_client *cla, *clb;

/* A confirmed client (EXCHANGE_ID + CREATE_SESSION), referenced. */
static struct state_client *
new_client(const char *owner)
{
	EXCHANGE_ID4args a;
	EXCHANGE_ID4resok eok;
	CREATE_SESSION4args c;
	CREATE_SESSION4resok cok;
	callback_sec_parms4 sp;
	struct rpc_cred cred;
	struct state_client *clp;

	memset(&cred, 0, sizeof(cred));
	cred.flavor = AUTH_NONE;
	memset(&a, 0, sizeof(a));
	memcpy(a.eia_clientowner.co_verifier, "verifier", NFS4_VERIFIER_SIZE);
	a.eia_clientowner.co_ownerid.co_ownerid_len = strlen(owner);
	a.eia_clientowner.co_ownerid.co_ownerid_val = (char *)owner;
	a.eia_state_protect.spa_how = SP4_NONE;
	REQUIRE(state_exchange_id(srv, &a, &cred, &eok) == NFS4_OK);

	memset(&c, 0, sizeof(c));
	memset(&sp, 0, sizeof(sp));
	sp.cb_secflavor = AUTH_NONE;
	c.csa_clientid = eok.eir_clientid;
	c.csa_sequence = eok.eir_sequenceid;
	c.csa_fore_chan_attrs.ca_maxrequestsize = 8192;
	c.csa_fore_chan_attrs.ca_maxresponsesize = 8192;
	c.csa_fore_chan_attrs.ca_maxoperations = 8;
	c.csa_fore_chan_attrs.ca_maxrequests = 4;
	c.csa_back_chan_attrs = c.csa_fore_chan_attrs;
	c.csa_sec_parms.csa_sec_parms_len = 1;
	c.csa_sec_parms.csa_sec_parms_val = &sp;
	REQUIRE(state_create_session(srv, &c, &cred, NULL, &cok) == NFS4_OK);
	REQUIRE(state_client_lookup(srv, eok.eir_clientid, &clp) == NFS4_OK);
	return clp;
}

static void
setup(void)
{
	struct state_config cfg;

	state_config_defaults(&cfg);
	cfg.lease_sec = LEASE_SEC;
	cfg.start_reaper = false;
	cfg.server_owner = "test-server";
	REQUIRE(state_server_create(&cfg, &srv) == 0);
	cla = new_client("client-a");
	clb = new_client("client-b");
}

static void
teardown(void)
{
	state_client_put(cla);
	state_client_put(clb);
	state_server_destroy(srv);
	srv = NULL;
}

static nfsstat4
do_open(struct state_client *clp, const char *owner, uint32_t access,
	uint32_t deny, stateid4 *sid)
{
	open_owner4 oo;
	struct state_open_req req = { 0 };
	open_delegation4 d;

	memset(&oo, 0, sizeof(oo));
	oo.owner.owner_val = (char *)owner;
	oo.owner.owner_len = strlen(owner);
	req.ino = INO;
	req.owner = &oo;
	req.access = access;
	req.deny = deny;
	return state_open(clp, &req, sid, &d);
}

/* LOCK: with the open stateid (new owner) or the lock stateid. */
static nfsstat4
do_lock(struct state_client *clp, const char *owner, const stateid4 *osid,
	stateid4 *lsid, nfs_lock_type4 type, uint64_t off, uint64_t len)
{
	LOCK4args a;
	LOCK4denied d;
	nfsstat4 st;

	memset(&a, 0, sizeof(a));
	a.locktype = type;
	a.offset = off;
	a.length = len;
	if (osid) {
		a.locker.new_lock_owner = TRUE;
		a.locker.locker4_u.open_owner.open_stateid = *osid;
		a.locker.locker4_u.open_owner.lock_owner.owner.owner_val =
			(char *)owner;
		a.locker.locker4_u.open_owner.lock_owner.owner.owner_len =
			strlen(owner);
	} else {
		a.locker.locker4_u.lock_owner.lock_stateid = *lsid;
	}
	memset(&d, 0, sizeof(d));
	st = state_lock(clp, INO, &a, lsid, &d);
	state_lock_denied_free(&d);
	return st;
}

/* LOCKT by owner; *d (may be NULL) gets offset/length/type on DENIED. */
static nfsstat4
do_lockt(struct state_client *clp, const char *owner, nfs_lock_type4 type,
	 uint64_t off, uint64_t len, LOCK4denied *out)
{
	LOCKT4args a;
	LOCK4denied d;
	nfsstat4 st;

	memset(&a, 0, sizeof(a));
	a.locktype = type;
	a.offset = off;
	a.length = len;
	a.owner.owner.owner_val = (char *)owner;
	a.owner.owner.owner_len = strlen(owner);
	memset(&d, 0, sizeof(d));
	st = state_lockt(clp, INO, &a, &d);
	if (out) {
		*out = d;
		out->owner.owner.owner_val = NULL;
		out->owner.owner.owner_len = 0;
	}
	state_lock_denied_free(&d);
	return st;
}

static nfsstat4
do_locku(struct state_client *clp, stateid4 *lsid, uint64_t off,
	 uint64_t len)
{
	LOCKU4args a;

	memset(&a, 0, sizeof(a));
	a.locktype = WRITE_LT;
	a.lock_stateid = *lsid;
	a.offset = off;
	a.length = len;
	return state_locku(clp, INO, &a, lsid);
}

/*
 * §18.10.3 POSIX per owner: a lock over owned ranges changes their type,
 * touching ranges of one type merge, an unlock in the middle splits;
 * LOCK4denied reports the holder's whole (merged) range.
 */
static void
test_ranges(void)
{
	stateid4 osid, lsid;
	LOCK4denied d;

	setup();
	REQUIRE(do_open(cla, "oa", OPEN4_SHARE_ACCESS_BOTH,
			OPEN4_SHARE_DENY_NONE, &osid) == NFS4_OK);
	REQUIRE(do_lock(cla, "la", &osid, &lsid, WRITE_LT, 0, 10) == NFS4_OK);
	REQUIRE(do_lock(cla, NULL, NULL, &lsid, READ_LT, 10, 10) == NFS4_OK);
	CHECK_EQ(lsid.seqid, 2);
	CHECK_EQ(do_lockt(clb, "lb", WRITE_LT, 0, 1, &d), NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 0);
	CHECK_EQ(d.length, 10);
	CHECK_EQ(d.locktype, WRITE_LT);
	CHECK_EQ(do_lockt(clb, "lb", READ_LT, 10, 1, NULL), NFS4_OK);
	CHECK_EQ(do_lockt(clb, "lb", READ_LT, 5, 1, NULL), NFS4ERR_DENIED);
	/* The same lock-owner of another client is another owner. */
	CHECK_EQ(do_lockt(clb, "la", READ_LT, 5, 1, NULL), NFS4ERR_DENIED);
	CHECK_EQ(do_lockt(cla, "la", WRITE_LT, 0, 20, NULL), NFS4_OK);

	/* Downgrade [0,10) to read: [0,20) is one read range now. */
	REQUIRE(do_lock(cla, NULL, NULL, &lsid, READ_LT, 0, 10) == NFS4_OK);
	CHECK_EQ(do_lockt(clb, "lb", WRITE_LT, 15, 1, &d), NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 0);
	CHECK_EQ(d.length, 20);
	CHECK_EQ(d.locktype, READ_LT);
	CHECK_EQ(do_lockt(clb, "lb", READ_LT, 0, 20, NULL), NFS4_OK);

	/* Unlock the middle: [0,5) and [15,20) stay. */
	REQUIRE(do_locku(cla, &lsid, 5, 10) == NFS4_OK);
	CHECK_EQ(do_lockt(clb, "lb", WRITE_LT, 5, 10, NULL), NFS4_OK);
	CHECK_EQ(do_lockt(clb, "lb", WRITE_LT, 4, 1, &d), NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 0);
	CHECK_EQ(d.length, 5);
	CHECK_EQ(do_lockt(clb, "lb", WRITE_LT, 15, 100, &d), NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 15);
	CHECK_EQ(d.length, 5);

	/* To EOF (§18.10.4: length all ones). */
	REQUIRE(do_lock(cla, NULL, NULL, &lsid, WRITE_LT, 100,
			NFS4_UINT64_MAX) == NFS4_OK);
	CHECK_EQ(do_lockt(clb, "lb", READ_LT, UINT64_MAX - 1, 1, &d),
		 NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 100);
	CHECK_EQ(d.length, NFS4_UINT64_MAX);
	/* Range errors. */
	CHECK_EQ(do_lock(cla, NULL, NULL, &lsid, WRITE_LT, 1, 0), NFS4ERR_INVAL);
	CHECK_EQ(do_lock(cla, NULL, NULL, &lsid, WRITE_LT, UINT64_MAX, 2),
		 NFS4ERR_INVAL);
	CHECK_EQ(do_lock(cla, NULL, NULL, &lsid, 9, 0, 1), NFS4ERR_INVAL);

	/* Everything unlocked: free the lock stateid, close the open. */
	REQUIRE(do_locku(cla, &lsid, 0, NFS4_UINT64_MAX) == NFS4_OK);
	CHECK_EQ(do_lockt(clb, "lb", WRITE_LT, 0, NFS4_UINT64_MAX, NULL),
		 NFS4_OK);
	CHECK_EQ(state_free_stateid(cla, &lsid), NFS4_OK);
	CHECK_EQ(state_close(cla, INO, &osid, &lsid), NFS4_OK);
	CHECK_EQ(atomic_load(&srv->fsvc.stids.count), 0);
	CHECK_EQ(atomic_load(&srv->fsvc.files.count), 0);
	teardown();
}

/*
 * §18.18.3: OPEN_DOWNGRADE to modes the open used (INVAL otherwise);
 * §9.7 share conflicts between owners, not within one.
 */
static void
test_share_modes(void)
{
	stateid4 s1, s2, s3;

	setup();
	REQUIRE(do_open(cla, "o1", OPEN4_SHARE_ACCESS_READ,
			OPEN4_SHARE_DENY_NONE, &s1) == NFS4_OK);
	REQUIRE(do_open(cla, "o1", OPEN4_SHARE_ACCESS_BOTH,
			OPEN4_SHARE_DENY_WRITE, &s2) == NFS4_OK);
	CHECK(memcmp(s1.other, s2.other, NFS4_OTHER_SIZE) == 0);
	CHECK_EQ(s2.seqid, 2);
	/* Another owner, even of the same client, is denied writing. */
	CHECK_EQ(do_open(cla, "o2", OPEN4_SHARE_ACCESS_WRITE,
			 OPEN4_SHARE_DENY_NONE, &s3), NFS4ERR_SHARE_DENIED);
	CHECK_EQ(do_open(clb, "o3", OPEN4_SHARE_ACCESS_READ,
			 OPEN4_SHARE_DENY_READ, &s3), NFS4ERR_SHARE_DENIED);
	CHECK_EQ(state_open_downgrade(cla, INO, &s2, OPEN4_SHARE_ACCESS_WRITE,
				      OPEN4_SHARE_DENY_NONE, &s3),
		 NFS4ERR_INVAL);
	CHECK_EQ(state_open_downgrade(cla, INO, &s2, OPEN4_SHARE_ACCESS_READ,
				      OPEN4_SHARE_DENY_READ, &s3),
		 NFS4ERR_INVAL);
	CHECK_EQ(state_open_downgrade(cla, INO, &s1, OPEN4_SHARE_ACCESS_READ,
				      OPEN4_SHARE_DENY_NONE, &s3),
		 NFS4ERR_OLD_STATEID);
	REQUIRE(state_open_downgrade(cla, INO, &s2, OPEN4_SHARE_ACCESS_READ,
				     OPEN4_SHARE_DENY_NONE, &s3) == NFS4_OK);
	CHECK_EQ(s3.seqid, 3);
	CHECK_EQ(do_open(clb, "o3", OPEN4_SHARE_ACCESS_WRITE,
			 OPEN4_SHARE_DENY_NONE, &s1), NFS4_OK);
	/* Write through a read-only open stateid: OPENMODE. */
	CHECK_EQ(state_check_io(cla, INO, &s3, true), NFS4ERR_OPENMODE);
	CHECK_EQ(state_check_io(cla, INO, &s3, false), NFS4_OK);
	CHECK_EQ(state_check_io(cla, INO + 1, &s3, false), NFS4ERR_BAD_STATEID);
	CHECK_EQ(state_check_io(clb, INO, &s3, false), NFS4ERR_BAD_STATEID);
	teardown();
}

/*
 * §8.3: when a lease expires the client's opens and locks go, so their
 * conflicts go with them; DESTROY_CLIENTID refuses while they exist
 * (§18.50.3 CLIENTID_BUSY).
 */
static void
test_expiry_frees(void)
{
	struct rpc_cred cred;
	stateid4 osid, lsid, bsid, blsid;

	setup();
	memset(&cred, 0, sizeof(cred));
	cred.flavor = AUTH_NONE;
	REQUIRE(do_open(cla, "oa", OPEN4_SHARE_ACCESS_BOTH,
			OPEN4_SHARE_DENY_WRITE, &osid) == NFS4_OK);
	REQUIRE(do_lock(cla, "la", &osid, &lsid, WRITE_LT, 0, 100) == NFS4_OK);
	REQUIRE(do_open(clb, "ob", OPEN4_SHARE_ACCESS_READ,
			OPEN4_SHARE_DENY_NONE, &bsid) == NFS4_OK);
	CHECK_EQ(do_open(clb, "ob", OPEN4_SHARE_ACCESS_WRITE,
			 OPEN4_SHARE_DENY_NONE, &bsid), NFS4ERR_SHARE_DENIED);
	CHECK_EQ(do_lock(clb, "lb", &bsid, &blsid, READ_LT, 50, 1),
		 NFS4ERR_DENIED);
	/* §18.50.3: A's opens and locks keep it from being destroyed. */
	CHECK_EQ(state_destroy_clientid(srv, state_client_id(cla), &cred),
		 NFS4ERR_CLIENTID_BUSY);

	/* A's lease ran out, B's is fresh: the reaper takes A only. */
	atomic_store(&cla->renew_ns,
		     clock_now_ns() - 2 * LEASE_SEC * NSEC_PER_SEC);
	state_client_renew(clb);
	CHECK_EQ(state_expire_clients(srv, clock_now_ns()), 1);
	CHECK_EQ(do_open(clb, "ob", OPEN4_SHARE_ACCESS_WRITE,
			 OPEN4_SHARE_DENY_NONE, &bsid), NFS4_OK);
	CHECK_EQ(do_lock(clb, "lb", &bsid, &blsid, WRITE_LT, 0,
			 NFS4_UINT64_MAX), NFS4_OK);
	/* Only B's open and lock are left. */
	CHECK_EQ(atomic_load(&srv->fsvc.stids.count), 2);
	teardown();
}

/* OPEN of ino by owner asking for a delegation (want), back channel up. */
static nfsstat4
do_open_deleg(struct state_client *clp, const char *owner, uint64_t ino,
	      uint32_t access, uint32_t want, stateid4 *sid,
	      open_delegation4 *d)
{
	static const char fh[] = "file-handle";
	open_owner4 oo;
	struct state_open_req req = { 0 };

	memset(&oo, 0, sizeof(oo));
	oo.owner.owner_val = (char *)owner;
	oo.owner.owner_len = strlen(owner);
	req.ino = ino;
	req.owner = &oo;
	req.access = access;
	req.deny = OPEN4_SHARE_DENY_NONE;
	req.want = want;
	req.cb_up = true;
	req.fh = fh;
	req.fhlen = sizeof(fh);
	return state_open(clp, &req, sid, d);
}

/* A write delegation of clp on ino: its stateid in *dsid. */
static void
grant_write(struct state_client *clp, const char *owner, uint64_t ino,
	    stateid4 *dsid)
{
	open_delegation4 d;
	stateid4 osid;

	REQUIRE(do_open_deleg(clp, owner, ino, OPEN4_SHARE_ACCESS_BOTH,
			      OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, &osid,
			      &d) == NFS4_OK);
	REQUIRE(d.delegation_type == OPEN_DELEGATE_WRITE);
	*dsid = d.open_delegation4_u.write.stateid;
}

/*
 * state_write_delegs() (the event loop's "no CB_GETATTR can happen"
 * test, RFC 8881 §10.4.3) counts a write delegation from its grant until
 * its stateid goes: DELEGRETURN; for a revoked one FREE_STATEID; the
 * client's expiry.  Read delegations do not count.
 */
static void
test_write_deleg_count(void)
{
	open_delegation4 d;
	stateid4 dsid, osid;
	struct state_stid *st;

	setup();
	CHECK_EQ(state_write_delegs(srv), 0);

	/* Granted, returned. */
	grant_write(cla, "oa", INO, &dsid);
	CHECK_EQ(state_write_delegs(srv), 1);
	CHECK_EQ(state_delegreturn(cla, INO, &dsid), NFS4_OK);
	CHECK_EQ(state_write_delegs(srv), 0);
	/* A second DELEGRETURN of it changes nothing. */
	CHECK(state_delegreturn(cla, INO, &dsid) != NFS4_OK);
	CHECK_EQ(state_write_delegs(srv), 0);

	/* A read delegation is not counted. */
	REQUIRE(do_open_deleg(clb, "ob", INO + 1, OPEN4_SHARE_ACCESS_READ,
			      OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &osid,
			      &d) == NFS4_OK);
	CHECK_EQ(d.delegation_type, OPEN_DELEGATE_READ);
	CHECK_EQ(state_write_delegs(srv), 0);

	/*
	 * Revoked: B's read conflicts, the recall (no back channel here)
	 * goes unanswered for a lease, the next conflict revokes it.  It
	 * counts until A frees the stateid.
	 */
	grant_write(cla, "oa", INO + 2, &dsid);
	CHECK_EQ(state_write_delegs(srv), 1);
	CHECK_EQ(state_break_delegations(clb, INO + 2, false), NFS4ERR_DELAY);
	st = state_stid_find(srv, &dsid);
	REQUIRE(st != NULL);
	state_file_lock(st->file);
	REQUIRE(st->recall_ns != 0);
	st->recall_ns -= 2 * LEASE_SEC * NSEC_PER_SEC;
	state_file_unlock(st->file);
	CHECK_EQ(state_break_delegations(clb, INO + 2, false), NFS4_OK);
	CHECK(atomic_load(&st->revoked));
	state_stid_put(srv, st);
	CHECK_EQ(state_write_delegs(srv), 1);
	CHECK_EQ(state_free_stateid(cla, &dsid), NFS4_OK);
	CHECK_EQ(state_write_delegs(srv), 0);

	/* Held by a client whose lease expires: the expiry frees it. */
	grant_write(cla, "oa", INO + 3, &dsid);
	CHECK_EQ(state_write_delegs(srv), 1);
	atomic_store(&cla->renew_ns,
		     clock_now_ns() - 2 * LEASE_SEC * NSEC_PER_SEC);
	state_client_renew(clb);
	CHECK_EQ(state_expire_clients(srv, clock_now_ns()), 1);
	CHECK_EQ(state_write_delegs(srv), 0);
	teardown();
}

int
main(void)
{
	TEST_RUN(test_ranges);
	TEST_RUN(test_share_modes);
	TEST_RUN(test_expiry_frees);
	TEST_RUN(test_write_deleg_count);
	TEST_EXIT();
}
