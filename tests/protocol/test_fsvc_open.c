/*
 * test_fsvc_open.c - opens, share reservations, stateids and byte-range
 * locks end to end against a running pmemnfsd (RFC 8881 §8.2, §9, §18.2,
 * §18.10-18.12, §18.16, §18.18, §18.38, §18.48, §18.51).
 *
 * Each test names the RFC rule it enforces.  Two clients (two client IDs
 * on two connections) play the conflicting parties.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "../testlib.h"

static struct h_server srv;
static struct nc_conn *conn1, *conn2;
static struct nc_session *ses1, *ses2;

struct file {
	nfs_fh4		fh;
	char		fh_buf[NFS4_FHSIZE];
	stateid4	sid;
};

/*
 * Run [SEQUENCE + ops]: the COMPOUND status, -1 for a transport error.
 * NFS4ERR_DELAY comes back as it is (the tests check when it is due).
 */
static int
run(struct nc_session *s, struct nc_compound *cp, COMPOUND4res *res)
{
	int err = nc_session_compound(s, cp, NC_SEQ_NO_RETRY, res, NULL);

	if (err) {
		fprintf(stderr, "compound: transport error %d\n", err);
		memset(res, 0, sizeof(*res));
		return -1;
	}
	return res->status;
}

static void
done(COMPOUND4res *res)
{
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, res);
}

/* The result of op n (0 is SEQUENCE). */
static nfs_resop4 *
op_res(COMPOUND4res *res, unsigned n)
{
	REQUIRE(n < res->resarray.resarray_len);
	return &res->resarray.resarray_val[n];
}

static void
put_fh(struct nc_compound *cp, const struct file *f)
{
	nc_compound_add(cp, OP_PUTFH)->nfs_argop4_u.opputfh.object = f->fh;
}

/* RECLAIM_COMPLETE (§18.51): required before new opens (§18.51.3). */
static int
reclaim_complete(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "reclaim_complete");
	nc_compound_add(&cp, OP_RECLAIM_COMPLETE)->nfs_argop4_u
		.opreclaim_complete.rca_one_fs = FALSE;
	st = run(s, &cp, &res);
	done(&res);
	return st;
}

struct open_how {
	uint32_t	access;
	uint32_t	deny;
	bool		create;
	createmode4	mode;
	const char	*verf;		/* EXCLUSIVE4 / 4_1: 8 bytes */
	open_claim_type4 claim;		/* CLAIM_NULL unless set */
	const struct file *fh_of;	/* CLAIM_FH / CLAIM_PREVIOUS: the file */
};

/*
 * OPEN name in the root directory for open-owner owner; fills f (may be
 * NULL) and *ok_out (may be NULL, rflags/cinfo/delegation type only).
 * Returns the COMPOUND status.
 */
static int
open_file(struct nc_session *s, const char *owner, const char *name,
	  const struct open_how *h, struct file *f, OPEN4resok *ok_out)
{
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN4args *o;
	int st;

	nc_session_compound_init(&cp, "open");
	if (h->fh_of)
		put_fh(&cp, h->fh_of);
	else
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = h->access;
	o->share_deny = h->deny;
	o->owner.clientid = nc_session_info(s)->clientid;
	o->owner.owner.owner_val = (char *)owner;
	o->owner.owner.owner_len = strlen(owner);
	o->openhow.opentype = h->create ? OPEN4_CREATE : OPEN4_NOCREATE;
	o->openhow.openflag4_u.how.mode = h->mode;
	if (h->mode == EXCLUSIVE4)
		memcpy(o->openhow.openflag4_u.how.createhow4_u.createverf,
		       h->verf, NFS4_VERIFIER_SIZE);
	if (h->mode == EXCLUSIVE4_1)
		memcpy(o->openhow.openflag4_u.how.createhow4_u.ch_createboth
			       .cva_verf, h->verf, NFS4_VERIFIER_SIZE);
	o->claim.claim = h->claim;
	if (h->claim == CLAIM_NULL) {
		o->claim.open_claim4_u.file.utf8string_val = (char *)name;
		o->claim.open_claim4_u.file.utf8string_len = strlen(name);
	}
	REQUIRE(nc_compound_add(&cp, OP_GETFH));
	st = run(s, &cp, &res);
	if (st == NFS4_OK) {
		OPEN4resok *ok = &op_res(&res, 2)->nfs_resop4_u.opopen
					  .OPEN4res_u.resok4;
		GETFH4resok *fh = &op_res(&res, 3)->nfs_resop4_u.opgetfh
					   .GETFH4res_u.resok4;

		if (f) {
			memset(f, 0, sizeof(*f));
			f->sid = ok->stateid;
			REQUIRE(fh->object.nfs_fh4_len <= NFS4_FHSIZE);
			memcpy(f->fh_buf, fh->object.nfs_fh4_val,
			       fh->object.nfs_fh4_len);
			f->fh.nfs_fh4_val = f->fh_buf;
			f->fh.nfs_fh4_len = fh->object.nfs_fh4_len;
		}
		if (ok_out) {
			*ok_out = *ok;
			ok_out->attrset.bitmap4_len = 0;
			ok_out->attrset.bitmap4_val = NULL;
		}
	}
	done(&res);
	return st;
}

/* Open (creating, UNCHECKED4) with access and deny. */
static int
open_simple(struct nc_session *s, const char *owner, const char *name,
	    uint32_t access, uint32_t deny, struct file *f)
{
	struct open_how h = {
		.access = access | OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
		.deny = deny, .create = true, .mode = UNCHECKED4,
		.claim = CLAIM_NULL,
	};

	return open_file(s, owner, name, &h, f, NULL);
}

/* CLOSE; *out (may be NULL) gets the returned stateid. */
static int
close_file(struct nc_session *s, const struct file *f, const stateid4 *sid,
	   stateid4 *out)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "close");
	put_fh(&cp, f);
	nc_compound_add(&cp, OP_CLOSE)->nfs_argop4_u.opclose.open_stateid =
		*sid;
	st = run(s, &cp, &res);
	if (st == NFS4_OK && out)
		*out = op_res(&res, 2)->nfs_resop4_u.opclose.CLOSE4res_u
			       .open_stateid;
	done(&res);
	return st;
}

static int
downgrade(struct nc_session *s, const struct file *f, const stateid4 *sid,
	  uint32_t access, uint32_t deny, stateid4 *out)
{
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN_DOWNGRADE4args *a;
	int st;

	nc_session_compound_init(&cp, "open_downgrade");
	put_fh(&cp, f);
	a = &nc_compound_add(&cp, OP_OPEN_DOWNGRADE)->nfs_argop4_u
		     .opopen_downgrade;
	a->open_stateid = *sid;
	a->share_access = access;
	a->share_deny = deny;
	st = run(s, &cp, &res);
	if (st == NFS4_OK && out)
		*out = op_res(&res, 2)->nfs_resop4_u.opopen_downgrade
			       .OPEN_DOWNGRADE4res_u.resok4.open_stateid;
	done(&res);
	return st;
}

static int
write_file(struct nc_session *s, const struct file *f, const stateid4 *sid,
	   const char *data)
{
	struct nc_compound cp;
	COMPOUND4res res;
	WRITE4args *w;
	int st;

	nc_session_compound_init(&cp, "write");
	put_fh(&cp, f);
	w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
	w->stateid = *sid;
	w->offset = 0;
	w->stable = FILE_SYNC4;
	w->data.data_val = (char *)data;
	w->data.data_len = strlen(data);
	st = run(s, &cp, &res);
	done(&res);
	return st;
}

/* LOCK4denied as the test checks it. */
struct denied {
	uint64_t	offset, length;
	nfs_lock_type4	type;
	char		owner[64];
};

static void
keep_denied(const LOCK4denied *d, struct denied *out)
{
	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	out->offset = d->offset;
	out->length = d->length;
	out->type = d->locktype;
	if (d->owner.owner.owner_len < sizeof(out->owner))
		memcpy(out->owner, d->owner.owner.owner_val,
		       d->owner.owner.owner_len);
}

/*
 * LOCK with a new lock-owner (from open stateid osid) or an existing lock
 * stateid (lsid non-NULL).  *out gets the lock stateid, *den the denial.
 */
static int
lock_file(struct nc_session *s, const struct file *f, const char *lowner,
	  const stateid4 *osid, const stateid4 *lsid, nfs_lock_type4 type,
	  uint64_t off, uint64_t len, bool reclaim, stateid4 *out,
	  struct denied *den)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LOCK4args *l;
	int st;

	nc_session_compound_init(&cp, "lock");
	put_fh(&cp, f);
	l = &nc_compound_add(&cp, OP_LOCK)->nfs_argop4_u.oplock;
	l->locktype = type;
	l->reclaim = reclaim;
	l->offset = off;
	l->length = len;
	if (lsid) {
		l->locker.new_lock_owner = FALSE;
		l->locker.locker4_u.lock_owner.lock_stateid = *lsid;
	} else {
		open_to_lock_owner4 *o = &l->locker.locker4_u.open_owner;

		l->locker.new_lock_owner = TRUE;
		o->open_stateid = *osid;
		o->lock_owner.clientid = nc_session_info(s)->clientid;
		o->lock_owner.owner.owner_val = (char *)lowner;
		o->lock_owner.owner.owner_len = strlen(lowner);
	}
	st = run(s, &cp, &res);
	if (st == NFS4_OK && out)
		*out = op_res(&res, 2)->nfs_resop4_u.oplock.LOCK4res_u.resok4
			       .lock_stateid;
	if (st == NFS4ERR_DENIED)
		keep_denied(&op_res(&res, 2)->nfs_resop4_u.oplock.LOCK4res_u
				     .denied, den);
	done(&res);
	return st;
}

static int
lockt_file(struct nc_session *s, const struct file *f, const char *lowner,
	   nfs_lock_type4 type, uint64_t off, uint64_t len, struct denied *den)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LOCKT4args *l;
	int st;

	nc_session_compound_init(&cp, "lockt");
	put_fh(&cp, f);
	l = &nc_compound_add(&cp, OP_LOCKT)->nfs_argop4_u.oplockt;
	l->locktype = type;
	l->offset = off;
	l->length = len;
	l->owner.clientid = nc_session_info(s)->clientid;
	l->owner.owner.owner_val = (char *)lowner;
	l->owner.owner.owner_len = strlen(lowner);
	st = run(s, &cp, &res);
	if (st == NFS4ERR_DENIED)
		keep_denied(&op_res(&res, 2)->nfs_resop4_u.oplockt.LOCKT4res_u
				     .denied, den);
	done(&res);
	return st;
}

static int
locku_file(struct nc_session *s, const struct file *f, const stateid4 *lsid,
	   uint64_t off, uint64_t len, stateid4 *out)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LOCKU4args *l;
	int st;

	nc_session_compound_init(&cp, "locku");
	put_fh(&cp, f);
	l = &nc_compound_add(&cp, OP_LOCKU)->nfs_argop4_u.oplocku;
	l->locktype = WRITE_LT;
	l->lock_stateid = *lsid;
	l->offset = off;
	l->length = len;
	st = run(s, &cp, &res);
	if (st == NFS4_OK && out)
		*out = op_res(&res, 2)->nfs_resop4_u.oplocku.LOCKU4res_u
			       .lock_stateid;
	done(&res);
	return st;
}

static int
free_stateid(struct nc_session *s, const stateid4 *sid)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "free_stateid");
	nc_compound_add(&cp, OP_FREE_STATEID)->nfs_argop4_u.opfree_stateid
		.fsa_stateid = *sid;
	st = run(s, &cp, &res);
	done(&res);
	return st;
}

/* TEST_STATEID of n stateids; codes[] gets their statuses. */
static int
test_stateids(struct nc_session *s, stateid4 *sids, unsigned n,
	      nfsstat4 *codes)
{
	struct nc_compound cp;
	COMPOUND4res res;
	TEST_STATEID4args *t;
	int st;

	nc_session_compound_init(&cp, "test_stateid");
	t = &nc_compound_add(&cp, OP_TEST_STATEID)->nfs_argop4_u
		     .optest_stateid;
	t->ts_stateids.ts_stateids_len = n;
	t->ts_stateids.ts_stateids_val = sids;
	st = run(s, &cp, &res);
	if (st == NFS4_OK) {
		TEST_STATEID4resok *ok = &op_res(&res, 1)->nfs_resop4_u
			.optest_stateid.TEST_STATEID4res_u.tsr_resok4;

		REQUIRE(ok->tsr_status_codes.tsr_status_codes_len == n);
		memcpy(codes, ok->tsr_status_codes.tsr_status_codes_val,
		       n * sizeof(*codes));
	}
	done(&res);
	return st;
}

static bool
same_other(const stateid4 *a, const stateid4 *b)
{
	return memcmp(a->other, b->other, NFS4_OTHER_SIZE) == 0;
}

/*
 * §8.2.2: seqids start at 1 and grow with each change of the open; an
 * older seqid is NFS4ERR_OLD_STATEID, 0 means "current".  §18.2.4: CLOSE
 * answers the invalid special stateid; the closed stateid is gone.
 */
static void
test_open_close_seqid(void)
{
	struct file f, f2;
	stateid4 old, cur, closed, zero;

	REQUIRE(open_simple(ses1, "oc-owner", "oc-file",
			    OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			    &f) == NFS4_OK);
	CHECK_EQ(f.sid.seqid, 1);
	old = f.sid;
	/* The same owner opens again: one stateid, seqid 2 (§9.1.4.1). */
	REQUIRE(open_simple(ses1, "oc-owner", "oc-file",
			    OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE,
			    &f2) == NFS4_OK);
	CHECK_EQ(f2.sid.seqid, 2);
	CHECK(same_other(&old, &f2.sid));
	CHECK_EQ(close_file(ses1, &f, &old, NULL), NFS4ERR_OLD_STATEID);
	cur = f2.sid;
	cur.seqid = 5;
	CHECK_EQ(close_file(ses1, &f, &cur, NULL), NFS4ERR_BAD_STATEID);
	/* The stateid is not another client's to close (§8.2.1). */
	CHECK_EQ(close_file(ses2, &f, &f2.sid, NULL), NFS4ERR_BAD_STATEID);
	cur.seqid = 0;
	CHECK_EQ(close_file(ses1, &f, &cur, &closed), NFS4_OK);
	CHECK_EQ(closed.seqid, NFS4_UINT32_MAX);
	memset(&zero, 0, sizeof(zero));
	CHECK(same_other(&closed, &zero));
	CHECK_EQ(close_file(ses1, &f, &f2.sid, NULL), NFS4ERR_BAD_STATEID);
	/* I/O with a closed stateid (§8.2.4 BAD_STATEID). */
	CHECK_EQ(write_file(ses1, &f, &f2.sid, "x"), NFS4ERR_BAD_STATEID);
}

/* REMOVE name from the root directory. */
static int
remove_name(struct nc_session *s, const char *name)
{
	struct nc_compound cp;
	COMPOUND4res res;
	component4 *target;
	int st;

	nc_session_compound_init(&cp, "remove");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	target = &nc_compound_add(&cp, OP_REMOVE)->nfs_argop4_u.opremove
			  .target;
	target->utf8string_val = (char *)name;
	target->utf8string_len = strlen(name);
	st = run(s, &cp, &res);
	done(&res);
	return st;
}

/*
 * §9.9 (and POSIX): a file another client removes stays usable through
 * the open's filehandle until CLOSE; only then is it gone (STALE).
 */
static void
test_open_survives_remove(void)
{
	struct file f;

	REQUIRE(open_simple(ses1, "rm-owner", "rm-file",
			    OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			    &f) == NFS4_OK);
	CHECK_EQ(remove_name(ses2, "rm-file"), NFS4_OK);
	CHECK_EQ(write_file(ses1, &f, &f.sid, "still here"), NFS4_OK);
	CHECK_EQ(close_file(ses1, &f, &f.sid, NULL), NFS4_OK);
	CHECK_EQ(write_file(ses1, &f, &f.sid, "x"), NFS4ERR_STALE);
}

/*
 * §18.16.3 createmodes: GUARDED4 on an existing name is NFS4ERR_EXIST;
 * EXCLUSIVE4_1 with the same verifier is a retry that succeeds, another
 * verifier is NFS4ERR_EXIST; §18.16.4: attrset names the attributes that
 * keep the verifier.
 */
static void
test_create_modes(void)
{
	struct open_how h = {
		.access = OPEN4_SHARE_ACCESS_BOTH |
			  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
		.deny = OPEN4_SHARE_DENY_NONE, .create = true,
		.mode = GUARDED4, .claim = CLAIM_NULL,
	};
	struct file f, f2;
	OPEN4resok ok;

	REQUIRE(open_file(ses1, "cm-owner", "cm-guarded", &h, &f, &ok) ==
		NFS4_OK);
	CHECK(ok.rflags & OPEN4_RESULT_LOCKTYPE_POSIX);
	CHECK(!(ok.rflags & OPEN4_RESULT_CONFIRM));	/* §18.16.4 in 4.1 */
	CHECK(ok.cinfo.after != ok.cinfo.before);
	CHECK_EQ(ok.delegation.delegation_type, OPEN_DELEGATE_NONE_EXT);
	CHECK_EQ(open_file(ses1, "cm-owner", "cm-guarded", &h, NULL, NULL),
		 NFS4ERR_EXIST);
	CHECK_EQ(close_file(ses1, &f, &f.sid, NULL), NFS4_OK);

	h.mode = EXCLUSIVE4_1;
	h.verf = "verf0001";
	REQUIRE(open_file(ses1, "cm-owner", "cm-excl", &h, &f, NULL) ==
		NFS4_OK);
	CHECK_EQ(open_file(ses1, "cm-owner", "cm-excl", &h, &f2, NULL),
		 NFS4_OK);
	CHECK(memcmp(f.fh_buf, f2.fh_buf, f.fh.nfs_fh4_len) == 0);
	h.verf = "verf0002";
	CHECK_EQ(open_file(ses1, "cm-owner", "cm-excl", &h, NULL, NULL),
		 NFS4ERR_EXIST);
	h.mode = EXCLUSIVE4;
	h.verf = "verf0003";
	CHECK_EQ(open_file(ses1, "cm-owner", "cm-excl4", &h, NULL, NULL),
		 NFS4_OK);
	CHECK_EQ(open_file(ses1, "cm-owner", "cm-excl4", &h, NULL, NULL),
		 NFS4_OK);
	CHECK_EQ(close_file(ses1, &f, &f2.sid, NULL), NFS4_OK);

	/* OPEN4_NOCREATE of a missing name (§18.16.4 NOENT). */
	h.create = false;
	CHECK_EQ(open_file(ses1, "cm-owner", "cm-missing", &h, NULL, NULL),
		 NFS4ERR_NOENT);
	/* CLAIM_FH opens the current filehandle (§18.16.3). */
	h.claim = CLAIM_FH;
	h.fh_of = &f;
	CHECK_EQ(open_file(ses1, "cm-owner2", NULL, &h, &f2, NULL), NFS4_OK);
	CHECK_EQ(close_file(ses1, &f2, &f2.sid, NULL), NFS4_OK);
	/* CLAIM_PREVIOUS outside a grace period (§8.4.2.1, NO_GRACE). */
	h.claim = CLAIM_PREVIOUS;
	CHECK_EQ(open_file(ses1, "cm-owner2", NULL, &h, NULL, NULL),
		 NFS4ERR_NO_GRACE);
}

/*
 * §9.7: an OPEN whose access conflicts with another open's deny, or whose
 * deny conflicts with another open's access, is NFS4ERR_SHARE_DENIED;
 * I/O with the anonymous stateid against a deny is NFS4ERR_LOCKED.
 * §18.18.3: OPEN_DOWNGRADE only to modes the open used.
 */
static void
test_share_and_downgrade(void)
{
	struct file a, b, a2;
	stateid4 anon, sid;

	REQUIRE(open_simple(ses1, "sh-owner", "sh-file",
			    OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_WRITE,
			    &a) == NFS4_OK);
	CHECK_EQ(open_simple(ses2, "sh-other", "sh-file",
			     OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4ERR_SHARE_DENIED);
	/* Reading is fine, but denying READ conflicts with a's access. */
	CHECK_EQ(open_simple(ses2, "sh-other", "sh-file",
			     OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_READ,
			     NULL), NFS4ERR_SHARE_DENIED);
	REQUIRE(open_simple(ses2, "sh-other", "sh-file",
			    OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			    &b) == NFS4_OK);
	memset(&anon, 0, sizeof(anon));
	CHECK_EQ(write_file(ses2, &b, &anon, "x"), NFS4ERR_LOCKED);
	/* b is read-only: WRITE with it is NFS4ERR_OPENMODE (§8.2.4?). */
	CHECK_EQ(write_file(ses2, &b, &b.sid, "x"), NFS4ERR_OPENMODE);
	CHECK_EQ(write_file(ses1, &a, &a.sid, "hello"), NFS4_OK);
	CHECK_EQ(close_file(ses2, &b, &b.sid, NULL), NFS4_OK);

	/* a used (BOTH, DENY_WRITE); upgrade with (READ, NONE). */
	REQUIRE(open_simple(ses1, "sh-owner", "sh-file",
			    OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			    &a2) == NFS4_OK);
	CHECK(same_other(&a.sid, &a2.sid));
	/* WRITE alone was never opened: NFS4ERR_INVAL. */
	CHECK_EQ(downgrade(ses1, &a, &a2.sid, OPEN4_SHARE_ACCESS_WRITE,
			   OPEN4_SHARE_DENY_NONE, NULL), NFS4ERR_INVAL);
	CHECK_EQ(downgrade(ses1, &a, &a2.sid, OPEN4_SHARE_ACCESS_READ,
			   OPEN4_SHARE_DENY_NONE, &sid), NFS4_OK);
	CHECK_EQ(sid.seqid, a2.sid.seqid + 1);
	/* After the downgrade nothing denies writers any more. */
	REQUIRE(open_simple(ses2, "sh-other", "sh-file",
			    OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE,
			    &b) == NFS4_OK);
	/* Nor can a go back up through a downgrade (§18.18.3). */
	CHECK_EQ(downgrade(ses1, &a, &sid, OPEN4_SHARE_ACCESS_BOTH,
			   OPEN4_SHARE_DENY_NONE, NULL), NFS4ERR_INVAL);
	CHECK_EQ(write_file(ses1, &a, &sid, "x"), NFS4ERR_OPENMODE);
	CHECK_EQ(close_file(ses2, &b, &b.sid, NULL), NFS4_OK);
	CHECK_EQ(close_file(ses1, &a, &sid, NULL), NFS4_OK);
}

/*
 * §18.10-18.12: write locks exclude every other owner, read locks only
 * writers; LOCK4denied names the holder's range, type and owner;
 * unlocking a sub-range splits a lock; length 0 or an overflowing range
 * is NFS4ERR_INVAL; §18.38.3 FREE_STATEID and §18.2.3 CLOSE refuse with
 * NFS4ERR_LOCKS_HELD while ranges are held; §18.48.3 TEST_STATEID.
 */
static void
test_locks(void)
{
	struct file a, b;
	stateid4 la, la2, lb, sids[4];
	nfsstat4 codes[4];
	struct denied d;

	REQUIRE(open_simple(ses1, "lk-open1", "lk-file",
			    OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			    &a) == NFS4_OK);
	REQUIRE(open_simple(ses2, "lk-open2", "lk-file",
			    OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			    &b) == NFS4_OK);
	REQUIRE(lock_file(ses1, &a, "lk-owner1", &a.sid, NULL, WRITE_LT, 0,
			  100, false, &la, NULL) == NFS4_OK);
	CHECK_EQ(la.seqid, 1);
	CHECK(!same_other(&la, &a.sid));

	CHECK_EQ(lockt_file(ses2, &b, "lk-owner2", READ_LT, 50, 10, &d),
		 NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 0);
	CHECK_EQ(d.length, 100);
	CHECK_EQ(d.type, WRITE_LT);
	CHECK(strcmp(d.owner, "lk-owner1") == 0);
	/* The holder itself does not conflict with itself (LOCKT). */
	CHECK_EQ(lockt_file(ses1, &a, "lk-owner1", WRITE_LT, 0, 10, NULL),
		 NFS4_OK);
	CHECK_EQ(lock_file(ses2, &b, "lk-owner2", &b.sid, NULL, WRITEW_LT, 99,
			   1, false, NULL, &d), NFS4ERR_DENIED);
	REQUIRE(lock_file(ses2, &b, "lk-owner2", &b.sid, NULL, READ_LT, 100,
			  NFS4_UINT64_MAX, false, &lb, NULL) == NFS4_OK);
	/* A read lock held by owner2 blocks owner1 from writing there. */
	CHECK_EQ(lock_file(ses1, &a, NULL, NULL, &la, WRITE_LT, 1000, 1, false,
			   NULL, &d), NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 100);
	CHECK_EQ(d.length, NFS4_UINT64_MAX);
	CHECK_EQ(d.type, READ_LT);
	/* ... but reading there is shared. */
	REQUIRE(lock_file(ses1, &a, NULL, NULL, &la, READ_LT, 1000, 1, false,
			  &la2, NULL) == NFS4_OK);
	CHECK(same_other(&la, &la2));
	CHECK_EQ(la2.seqid, 2);
	CHECK_EQ(lock_file(ses1, &a, NULL, NULL, &la, READ_LT, 0, 1, false,
			   NULL, NULL), NFS4ERR_OLD_STATEID);

	/* Unlock the middle of [0, 100): [0, 40) and [60, 100) remain. */
	REQUIRE(locku_file(ses1, &a, &la2, 40, 20, &la) == NFS4_OK);
	CHECK_EQ(la.seqid, 3);
	CHECK_EQ(lockt_file(ses2, &b, "lk-owner2", WRITE_LT, 40, 20, NULL),
		 NFS4_OK);
	CHECK_EQ(lockt_file(ses2, &b, "lk-owner2", WRITE_LT, 39, 2, &d),
		 NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 0);
	CHECK_EQ(d.length, 40);
	CHECK_EQ(lockt_file(ses2, &b, "lk-owner2", WRITE_LT, 59, 2, &d),
		 NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 60);
	CHECK_EQ(d.length, 40);

	/* Bad ranges (§18.10.4). */
	CHECK_EQ(lock_file(ses1, &a, NULL, NULL, &la, WRITE_LT, 0, 0, false,
			   NULL, NULL), NFS4ERR_INVAL);
	CHECK_EQ(lock_file(ses1, &a, NULL, NULL, &la, WRITE_LT,
			   NFS4_UINT64_MAX - 10, 20, false, NULL, NULL),
		 NFS4ERR_INVAL);
	CHECK_EQ(lockt_file(ses2, &b, "lk-owner2", WRITE_LT, 5, 0, NULL),
		 NFS4ERR_INVAL);
	/* A lock stateid where an open one belongs, and a made-up one. */
	CHECK_EQ(lock_file(ses1, &a, "lk-owner9", &la, NULL, READ_LT, 0, 1,
			   false, NULL, NULL), NFS4ERR_BAD_STATEID);
	/* Reclaims outside grace (§8.4.2.1). */
	CHECK_EQ(lock_file(ses1, &a, NULL, NULL, &la, READ_LT, 0, 1, true,
			   NULL, NULL), NFS4ERR_NO_GRACE);

	/* TEST_STATEID: current, old seqid, another client's, special. */
	sids[0] = la;
	sids[1] = la;
	sids[1].seqid = 1;
	sids[2] = lb;
	memset(&sids[3], 0, sizeof(sids[3]));
	REQUIRE(test_stateids(ses1, sids, 4, codes) == NFS4_OK);
	CHECK_EQ(codes[0], NFS4_OK);
	CHECK_EQ(codes[1], NFS4ERR_OLD_STATEID);
	CHECK_EQ(codes[2], NFS4ERR_BAD_STATEID);
	CHECK_EQ(codes[3], NFS4ERR_BAD_STATEID);

	CHECK_EQ(free_stateid(ses1, &la), NFS4ERR_LOCKS_HELD);
	CHECK_EQ(free_stateid(ses1, &a.sid), NFS4ERR_LOCKS_HELD);
	CHECK_EQ(close_file(ses1, &a, &a.sid, NULL), NFS4ERR_LOCKS_HELD);
	REQUIRE(locku_file(ses1, &a, &la, 0, NFS4_UINT64_MAX, &la) == NFS4_OK);
	CHECK_EQ(lockt_file(ses2, &b, "lk-owner2", WRITE_LT, 0, 100, NULL),
		 NFS4_OK);
	CHECK_EQ(free_stateid(ses1, &la), NFS4_OK);
	CHECK_EQ(free_stateid(ses1, &la), NFS4ERR_BAD_STATEID);
	CHECK_EQ(close_file(ses1, &a, &a.sid, NULL), NFS4_OK);
	/* CLOSE with ranges still locked refuses; unlock, then close. */
	CHECK_EQ(close_file(ses2, &b, &b.sid, NULL), NFS4ERR_LOCKS_HELD);
	REQUIRE(locku_file(ses2, &b, &lb, 0, NFS4_UINT64_MAX, &lb) == NFS4_OK);
	CHECK_EQ(close_file(ses2, &b, &b.sid, NULL), NFS4_OK);
	/* Closing the open freed its lock stateids too. */
	CHECK_EQ(locku_file(ses2, &b, &lb, 0, 1, NULL), NFS4ERR_BAD_STATEID);
}

/*
 * Bad input: no filehandle (§15.1.2.2 NOFILEHANDLE), bad names
 * (§1.7.3, §18.16.4), a directory (§18.16.4 ISDIR), share values out of
 * range (INVAL), made-up stateids (BAD_STATEID), the "current stateid"
 * when there is none (§16.2.3.1.2).
 */
static void
test_bad_input(void)
{
	static const char *const names[] = { "", ".", "..", "a/b" };
	static const nfsstat4 want[] = { NFS4ERR_INVAL, NFS4ERR_BADNAME,
					 NFS4ERR_BADNAME, NFS4ERR_BADNAME };
	struct nc_compound cp;
	COMPOUND4res res;
	char longname[300];
	struct file f, root;
	stateid4 bogus, cur;
	OPEN4args *o;

	nc_session_compound_init(&cp, "open-nofh");
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_READ;
	o->owner.owner.owner_val = (char *)"x";
	o->owner.owner.owner_len = 1;
	o->claim.claim = CLAIM_NULL;
	o->claim.open_claim4_u.file.utf8string_val = (char *)"x";
	o->claim.open_claim4_u.file.utf8string_len = 1;
	CHECK_EQ(run(ses1, &cp, &res), NFS4ERR_NOFILEHANDLE);
	done(&res);

	for (unsigned i = 0; i < 4; i++)
		CHECK_EQ(open_simple(ses1, "bad-owner", names[i],
				     OPEN4_SHARE_ACCESS_READ,
				     OPEN4_SHARE_DENY_NONE, NULL), want[i]);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	CHECK_EQ(open_simple(ses1, "bad-owner", longname,
			     OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4ERR_NAMETOOLONG);
	CHECK_EQ(open_simple(ses1, "bad-owner", "bad-file", 0,
			     OPEN4_SHARE_DENY_NONE, NULL), NFS4ERR_INVAL);
	CHECK_EQ(open_simple(ses1, "bad-owner", "bad-file",
			     OPEN4_SHARE_ACCESS_READ, 7, NULL), NFS4ERR_INVAL);

	/* OPEN of a directory by CLAIM_FH: the root. */
	nc_session_compound_init(&cp, "root-fh");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	REQUIRE(nc_compound_add(&cp, OP_GETFH));
	REQUIRE(run(ses1, &cp, &res) == NFS4_OK);
	{
		GETFH4resok *fh = &op_res(&res, 2)->nfs_resop4_u.opgetfh
					   .GETFH4res_u.resok4;

		memcpy(root.fh_buf, fh->object.nfs_fh4_val,
		       fh->object.nfs_fh4_len);
		root.fh.nfs_fh4_val = root.fh_buf;
		root.fh.nfs_fh4_len = fh->object.nfs_fh4_len;
	}
	done(&res);
	{
		struct open_how h = {
			.access = OPEN4_SHARE_ACCESS_READ,
			.claim = CLAIM_FH, .fh_of = &root,
		};

		CHECK_EQ(open_file(ses1, "bad-owner", NULL, &h, NULL, NULL),
			 NFS4ERR_ISDIR);
	}

	REQUIRE(open_simple(ses1, "bad-owner", "bad-file",
			    OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			    &f) == NFS4_OK);
	bogus = f.sid;
	bogus.other[5] ^= 0x55;
	CHECK_EQ(close_file(ses1, &f, &bogus, NULL), NFS4ERR_BAD_STATEID);
	CHECK_EQ(free_stateid(ses1, &bogus), NFS4ERR_BAD_STATEID);
	/* The current stateid when none was set (§16.2.3.1.2). */
	memset(&cur, 0, sizeof(cur));
	cur.seqid = 1;
	CHECK_EQ(close_file(ses1, &f, &cur, NULL), NFS4ERR_BAD_STATEID);
	/* Lock ops on a directory. */
	CHECK_EQ(lockt_file(ses1, &root, "bad-owner", READ_LT, 0, 1, NULL),
		 NFS4ERR_ISDIR);
	/* CLOSE on the file's open, using the current stateid of OPEN. */
	{
		struct nc_compound cp2;
		OPEN4args *o2;

		nc_session_compound_init(&cp2, "open-close-current");
		REQUIRE(nc_compound_add(&cp2, OP_PUTROOTFH));
		o2 = &nc_compound_add(&cp2, OP_OPEN)->nfs_argop4_u.opopen;
		o2->share_access = OPEN4_SHARE_ACCESS_READ |
				   OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
		o2->owner.owner.owner_val = (char *)"cur-owner";
		o2->owner.owner.owner_len = strlen("cur-owner");
		o2->openhow.opentype = OPEN4_NOCREATE;
		o2->claim.claim = CLAIM_NULL;
		o2->claim.open_claim4_u.file.utf8string_val =
			(char *)"bad-file";
		o2->claim.open_claim4_u.file.utf8string_len =
			strlen("bad-file");
		nc_compound_add(&cp2, OP_CLOSE)->nfs_argop4_u.opclose
			.open_stateid = cur;
		CHECK_EQ(run(ses1, &cp2, &res), NFS4_OK);
		done(&res);
	}
	CHECK_EQ(close_file(ses1, &f, &f.sid, NULL), NFS4_OK);
}

/*
 * §18.51.3: a client that has not sent RECLAIM_COMPLETE gets
 * NFS4ERR_GRACE for a non-reclaim OPEN; the second RECLAIM_COMPLETE is
 * NFS4ERR_COMPLETE_ALREADY; a client with state cannot be destroyed
 * (§18.50.3 CLIENTID_BUSY).
 */
static void
test_reclaim_complete_rules(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct file f;
	nfsstat4 st;

	REQUIRE(h_session(&srv, h_owner("open-rc"), NULL, &c, &s) == 0);
	REQUIRE(nc_conn_set_auth_sys(c, 0, 0) == 0);
	CHECK_EQ(open_simple(s, "rc-owner", "rc-file",
			     OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4ERR_GRACE);
	CHECK_EQ(reclaim_complete(s), NFS4_OK);
	CHECK_EQ(reclaim_complete(s), NFS4ERR_COMPLETE_ALREADY);
	REQUIRE(open_simple(s, "rc-owner", "rc-file", OPEN4_SHARE_ACCESS_READ,
			    OPEN4_SHARE_DENY_NONE, &f) == NFS4_OK);
	REQUIRE(nc_destroy_session(s, &st) == 0);
	CHECK_EQ(st, NFS4_OK);
	/* The principal that sent EXCHANGE_ID (AUTH_NONE) destroys. */
	{
		struct nc_cred none = { .flavor = AUTH_NONE };

		REQUIRE(nc_conn_set_cred(c, &none) == 0);
	}
	REQUIRE(nc_destroy_clientid(c, nc_session_info(s)->clientid, &st) ==
		0);
	CHECK_EQ(st, NFS4ERR_CLIENTID_BUSY);
	nc_session_free(s);
	nc_conn_close(c);
}

/* --- delegations (RFC 8881 §10.2, §10.4) ---------------------------------- */

/*
 * Lease of the delegation server: revocation comes one lease after the
 * recall; an OPEN waits up to a second for a recalled delegation
 * (open_ops.c), and the read-recall test makes two such OPENs before it
 * returns the delegation, so the lease must be longer than that.
 */
#define DELEG_LEASE_SEC		4
#define DELEG_LEASE_OPT		"nfs4.lease_time=4"
#define CB_WAIT_NS		(5 * NSEC_PER_SEC)

/* OPEN asking for a delegation; *d gets what came back. */
static int
open_deleg(struct nc_session *s, const char *owner, const char *name,
	   uint32_t access, uint32_t want, struct file *f,
	   open_delegation4 *d)
{
	struct open_how h = {
		.access = access | want, .deny = OPEN4_SHARE_DENY_NONE,
		.create = true, .mode = UNCHECKED4, .claim = CLAIM_NULL,
	};
	OPEN4resok ok;
	int st;

	st = open_file(s, owner, name, &h, f, &ok);
	if (st == NFS4_OK && d)
		*d = ok.delegation;
	return st;
}

static int
delegreturn(struct nc_session *s, const struct file *f, const stateid4 *sid)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "delegreturn");
	put_fh(&cp, f);
	nc_compound_add(&cp, OP_DELEGRETURN)->nfs_argop4_u.opdelegreturn
		.deleg_stateid = *sid;
	st = run(s, &cp, &res);
	done(&res);
	return st;
}

static int
read_file(struct nc_session *s, const struct file *f, const stateid4 *sid)
{
	struct nc_compound cp;
	COMPOUND4res res;
	READ4args *r;
	int st;

	nc_session_compound_init(&cp, "read");
	put_fh(&cp, f);
	r = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
	r->stateid = *sid;
	r->offset = 0;
	r->count = 16;
	st = run(s, &cp, &res);
	done(&res);
	return st;
}

/* SEQUENCE alone: renews the lease; *flags gets sr_status_flags. */
static int
ping(struct nc_session *s, uint32_t *flags)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int err;

	nc_session_compound_init(&cp, "ping");
	err = nc_session_compound(s, &cp, NC_SEQ_NO_RETRY, &res, flags);
	if (err)
		return -1;
	err = res.status;
	done(&res);
	return err;
}

/*
 * §10.4 / §10.4.2: a read delegation is granted to a read-only open that
 * asks; another client's READ open does not conflict, its WRITE open is
 * answered NFS4ERR_DELAY while CB_RECALL goes to the holder; after
 * DELEGRETURN the open succeeds; a write open by another client keeps
 * the next read delegation from being granted (contention).
 */
static void
test_deleg_read_recall(struct nc_session *s1, struct nc_conn *c1,
		       struct nc_session *s2)
{
	open_delegation4 d;
	struct file a, b;
	stateid4 dsid;
	struct nc_cb_stats before;

	REQUIRE(open_deleg(s1, "dl-owner1", "dl-read", OPEN4_SHARE_ACCESS_READ,
			   OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &a, &d) ==
		NFS4_OK);
	REQUIRE(d.delegation_type == OPEN_DELEGATE_READ);
	dsid = d.open_delegation4_u.read.stateid;
	CHECK(!same_other(&dsid, &a.sid));
	/* The holder may READ with the delegation stateid, not WRITE. */
	CHECK_EQ(read_file(s1, &a, &dsid), NFS4_OK);
	CHECK_EQ(write_file(s1, &a, &dsid, "x"), NFS4ERR_OPENMODE);
	/* A second delegation for the same client is not granted. */
	REQUIRE(open_deleg(s1, "dl-owner1", "dl-read", OPEN4_SHARE_ACCESS_READ,
			   OPEN4_SHARE_ACCESS_WANT_READ_DELEG, NULL, &d) ==
		NFS4_OK);
	CHECK_EQ(d.delegation_type, OPEN_DELEGATE_NONE_EXT);

	CHECK_EQ(open_simple(s2, "dl-owner2", "dl-read",
			     OPEN4_SHARE_ACCESS_READ, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4_OK);
	nc_conn_cb_stats(c1, &before);
	CHECK_EQ(open_simple(s2, "dl-owner2", "dl-read",
			     OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4ERR_DELAY);
	CHECK_EQ(nc_conn_wait_cb_op(c1, OP_CB_RECALL,
				    before.ops[OP_CB_RECALL] + 1, CB_WAIT_NS),
		 0);
	/* Still out: still DELAY, and no second recall is sent. */
	CHECK_EQ(open_simple(s2, "dl-owner2", "dl-read",
			     OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4ERR_DELAY);
	/* DELEGRETURN by another client, or with an open stateid. */
	CHECK_EQ(delegreturn(s2, &a, &dsid), NFS4ERR_BAD_STATEID);
	CHECK_EQ(delegreturn(s1, &a, &a.sid), NFS4ERR_BAD_STATEID);
	CHECK_EQ(delegreturn(s1, &a, &dsid), NFS4_OK);
	CHECK_EQ(delegreturn(s1, &a, &dsid), NFS4ERR_BAD_STATEID);
	REQUIRE(open_simple(s2, "dl-owner2", "dl-read",
			    OPEN4_SHARE_ACCESS_WRITE, OPEN4_SHARE_DENY_NONE,
			    &b) == NFS4_OK);
	{
		struct nc_cb_stats after;

		nc_conn_cb_stats(c1, &after);
		CHECK_EQ(after.ops[OP_CB_RECALL], before.ops[OP_CB_RECALL] + 1);
	}
	/* §10.4: no read delegation while another client writes. */
	REQUIRE(open_deleg(s1, "dl-owner1", "dl-read", OPEN4_SHARE_ACCESS_READ,
			   OPEN4_SHARE_ACCESS_WANT_READ_DELEG, NULL, &d) ==
		NFS4_OK);
	CHECK_EQ(d.delegation_type, OPEN_DELEGATE_NONE_EXT);
	CHECK_EQ(d.open_delegation4_u.od_whynone.ond_why, WND4_CONTENTION);
}

/*
 * §10.4.6, §18.46.3: a delegation whose recall is not answered by a
 * DELEGRETURN within a lease is revoked; the conflicting OPEN then
 * succeeds, the holder's SEQUENCE reports RECALLABLE_STATE_REVOKED, its
 * stateid answers NFS4ERR_DELEG_REVOKED (READ, TEST_STATEID, DELEGRETURN)
 * until FREE_STATEID frees it and clears the flag.  A write delegation
 * conflicts with any access by another client, anonymous READs included.
 */
static void
test_deleg_write_revoke(struct nc_session *s1, struct nc_conn *c1,
			struct nc_session *s2)
{
	open_delegation4 d;
	struct file a;
	stateid4 dsid, anon;
	struct nc_cb_stats before;
	uint64_t deadline;
	uint32_t flags = 0;
	nfsstat4 code;
	int st;

	REQUIRE(open_deleg(s1, "dw-owner1", "dl-write", OPEN4_SHARE_ACCESS_BOTH,
			   OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, &a, &d) ==
		NFS4_OK);
	REQUIRE(d.delegation_type == OPEN_DELEGATE_WRITE);
	dsid = d.open_delegation4_u.write.stateid;
	CHECK_EQ(write_file(s1, &a, &dsid, "mine"), NFS4_OK);
	CHECK_EQ(free_stateid(s1, &dsid), NFS4ERR_LOCKS_HELD);

	memset(&anon, 0, sizeof(anon));
	nc_conn_cb_stats(c1, &before);
	CHECK_EQ(read_file(s2, &a, &anon), NFS4ERR_DELAY);
	CHECK_EQ(nc_conn_wait_cb_op(c1, OP_CB_RECALL,
				    before.ops[OP_CB_RECALL] + 1, CB_WAIT_NS),
		 0);
	/* The holder does not return it; it keeps its lease alive. */
	deadline = clock_now_ns() + 4 * DELEG_LEASE_SEC * NSEC_PER_SEC;
	do {
		CHECK_EQ(ping(s1, NULL), NFS4_OK);
		st = open_simple(s2, "dw-owner2", "dl-write",
				 OPEN4_SHARE_ACCESS_READ,
				 OPEN4_SHARE_DENY_NONE, NULL);
		if (st != NFS4ERR_DELAY)
			break;
		/* A protocol clock (the lease), not a race. */
		h_sleep_ns(100 * NSEC_PER_MSEC);
	} while (clock_now_ns() < deadline);
	CHECK_EQ(st, NFS4_OK);
	CHECK_EQ(read_file(s1, &a, &dsid), NFS4ERR_DELEG_REVOKED);
	CHECK_EQ(ping(s1, &flags), NFS4_OK);
	CHECK(flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	REQUIRE(test_stateids(s1, &dsid, 1, &code) == NFS4_OK);
	CHECK_EQ(code, NFS4ERR_DELEG_REVOKED);
	CHECK_EQ(delegreturn(s1, &a, &dsid), NFS4ERR_DELEG_REVOKED);
	CHECK_EQ(free_stateid(s1, &dsid), NFS4_OK);
	CHECK_EQ(ping(s1, &flags), NFS4_OK);
	CHECK(!(flags & SEQ4_STATUS_RECALLABLE_STATE_REVOKED));
	REQUIRE(test_stateids(s1, &dsid, 1, &code) == NFS4_OK);
	CHECK_EQ(code, NFS4ERR_BAD_STATEID);
}

/*
 * §18.16.3 CLAIM_DELEG_CUR_FH: an open under a delegation the client
 * holds (BAD_STATEID for one it does not); §18.49.3 WANT_DELEGATION and
 * §18.39.3 GET_DIR_DELEGATION decline; §18.5.3 DELEGPURGE is NOTSUPP.
 */
static void
test_deleg_claims_and_declines(struct nc_session *s1, struct nc_session *s2)
{
	struct open_how h = {
		.access = OPEN4_SHARE_ACCESS_READ |
			  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
		.deny = OPEN4_SHARE_DENY_NONE, .claim = CLAIM_DELEG_CUR_FH,
	};
	struct nc_compound cp;
	COMPOUND4res res;
	open_delegation4 d;
	struct file a;
	stateid4 dsid;
	OPEN4args *o;

	REQUIRE(open_deleg(s1, "dc-owner1", "dl-claims",
			   OPEN4_SHARE_ACCESS_READ,
			   OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &a, &d) ==
		NFS4_OK);
	REQUIRE(d.delegation_type == OPEN_DELEGATE_READ);
	dsid = d.open_delegation4_u.read.stateid;

	/* open_file() does not fill the delegation stateid: build it. */
	nc_session_compound_init(&cp, "open-deleg-cur-fh");
	put_fh(&cp, &a);
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = h.access;
	o->share_deny = h.deny;
	o->owner.owner.owner_val = (char *)"dc-owner2";
	o->owner.owner.owner_len = strlen("dc-owner2");
	o->openhow.opentype = OPEN4_NOCREATE;
	o->claim.claim = CLAIM_DELEG_CUR_FH;
	o->claim.open_claim4_u.oc_delegate_stateid = dsid;
	CHECK_EQ(run(s1, &cp, &res), NFS4_OK);
	done(&res);
	/* Another client cannot open under it. */
	CHECK_EQ(run(s2, &cp, &res), NFS4ERR_BAD_STATEID);
	done(&res);
	/* Nor can anyone with the open stateid in its place. */
	o->claim.open_claim4_u.oc_delegate_stateid = a.sid;
	CHECK_EQ(run(s1, &cp, &res), NFS4ERR_BAD_STATEID);
	done(&res);

	/* WANT_DELEGATION declines with a reason. */
	nc_session_compound_init(&cp, "want_delegation");
	put_fh(&cp, &a);
	{
		WANT_DELEGATION4args *w = &nc_compound_add(&cp,
			OP_WANT_DELEGATION)->nfs_argop4_u.opwant_delegation;

		w->wda_want = OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
		w->wda_claim.dc_claim = CLAIM_FH;
	}
	CHECK_EQ(run(s2, &cp, &res), NFS4_OK);
	if (res.status == NFS4_OK)
		CHECK_EQ(op_res(&res, 2)->nfs_resop4_u.opwant_delegation
				 .WANT_DELEGATION4res_u.wdr_resok4
				 .delegation_type, OPEN_DELEGATE_NONE_EXT);
	done(&res);

	/* GET_DIR_DELEGATION on the root: GDD4_UNAVAIL; on a file NOTDIR. */
	nc_session_compound_init(&cp, "get_dir_delegation");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	REQUIRE(nc_compound_add(&cp, OP_GET_DIR_DELEGATION));
	CHECK_EQ(run(s2, &cp, &res), NFS4_OK);
	if (res.status == NFS4_OK)
		CHECK_EQ(op_res(&res, 2)->nfs_resop4_u.opget_dir_delegation
				 .GET_DIR_DELEGATION4res_u.gddr_res_non_fatal4
				 .gddrnf_status, GDD4_UNAVAIL);
	done(&res);
	nc_session_compound_init(&cp, "get_dir_delegation-file");
	put_fh(&cp, &a);
	REQUIRE(nc_compound_add(&cp, OP_GET_DIR_DELEGATION));
	CHECK_EQ(run(s2, &cp, &res), NFS4ERR_NOTDIR);
	done(&res);

	nc_session_compound_init(&cp, "delegpurge");
	REQUIRE(nc_compound_add(&cp, OP_DELEGPURGE));
	CHECK_EQ(run(s1, &cp, &res), NFS4ERR_NOTSUPP);
	done(&res);

	CHECK_EQ(delegreturn(s1, &a, &dsid), NFS4_OK);
}

struct open_thread {
	struct nc_session *s;
	int status;
	uint64_t ns;
};

static void *
open_thread_main(void *arg)
{
	struct open_thread *ot = arg;
	uint64_t t0 = clock_now_ns();

	ot->status = open_simple(ot->s, "dt-owner2", "dl-wait",
				 OPEN4_SHARE_ACCESS_WRITE,
				 OPEN4_SHARE_DENY_NONE, NULL);
	ot->ns = clock_now_ns() - t0;
	return NULL;
}

/*
 * §10.4.2: a conflicting OPEN waits (briefly) for the recalled
 * delegation; when the holder returns it meanwhile, the OPEN succeeds
 * without an NFS4ERR_DELAY round trip.
 */
static void
test_deleg_open_waits(struct nc_session *s1, struct nc_conn *c1,
		      struct nc_session *s2)
{
	struct open_thread ot = { .s = s2, .status = -1 };
	struct nc_cb_stats before;
	open_delegation4 d;
	struct file a;
	pthread_t th;

	REQUIRE(open_deleg(s1, "dt-owner1", "dl-wait", OPEN4_SHARE_ACCESS_READ,
			   OPEN4_SHARE_ACCESS_WANT_READ_DELEG, &a, &d) ==
		NFS4_OK);
	REQUIRE(d.delegation_type == OPEN_DELEGATE_READ);
	nc_conn_cb_stats(c1, &before);
	REQUIRE(pthread_create(&th, NULL, open_thread_main, &ot) == 0);
	CHECK_EQ(nc_conn_wait_cb_op(c1, OP_CB_RECALL,
				    before.ops[OP_CB_RECALL] + 1, CB_WAIT_NS),
		 0);
	CHECK_EQ(delegreturn(s1, &a, &d.open_delegation4_u.read.stateid),
		 NFS4_OK);
	REQUIRE(pthread_join(th, NULL) == 0);
	CHECK_EQ(ot.status, NFS4_OK);
}

/* Run the delegation tests on a server with a short lease. */
static void
test_delegations(void)
{
	const char *extra[] = { "-o", DELEG_LEASE_OPT, NULL };
	struct h_server s;
	struct nc_conn *c1, *c2;
	struct nc_session *s1, *s2;

	REQUIRE(h_server_start(&s, extra) == 0);
	REQUIRE(h_session(&s, h_owner("deleg1"), NULL, &c1, &s1) == 0);
	REQUIRE(h_session(&s, h_owner("deleg2"), NULL, &c2, &s2) == 0);
	REQUIRE(nc_conn_set_auth_sys(c1, 0, 0) == 0);
	REQUIRE(nc_conn_set_auth_sys(c2, 0, 0) == 0);
	REQUIRE(reclaim_complete(s1) == NFS4_OK);
	REQUIRE(reclaim_complete(s2) == NFS4_OK);

	test_deleg_read_recall(s1, c1, s2);
	test_deleg_claims_and_declines(s1, s2);
	test_deleg_open_waits(s1, c1, s2);
	test_deleg_write_revoke(s1, c1, s2);

	h_session_free(c1, s1);
	h_session_free(c2, s2);
	if (h_server_stop(&s, test_failures > 0) != 0)
		test_failures++;
}

/* --- restart and reclaim (RFC 8881 §8.4.2, §18.51) --------------------------- */

/* Grace period of the restarted server: short, the test waits it out. */
#define RECLAIM_GRACE_SEC	3

static void
session_as_root(struct h_server *s, const char *owner, struct nc_conn **c,
		struct nc_session **ses)
{
	REQUIRE(h_session(s, owner, NULL, c, ses) == 0);
	REQUIRE(nc_conn_set_auth_sys(*c, 0, 0) == 0);
}

/*
 * §8.4.2.1: client records survive a restart; in the grace period only
 * clients with a record reclaim (CLAIM_PREVIOUS, LOCK with reclaim), new
 * state is NFS4ERR_GRACE, a reclaim by a client without a record or after
 * its RECLAIM_COMPLETE is NFS4ERR_NO_GRACE (§18.51.3); grace ends when
 * its time is up (a recorded client that does not come back does not
 * hold the server forever); reclaimed locks are enforced.
 */
static void
test_restart_reclaim(void)
{
	char dir[] = "/tmp/pmemnfs-open-XXXXXX", vol[64], grace[32];
	const char *extra[] = { "-v", vol, "-o", grace, NULL };
	struct h_server s;
	struct nc_conn *ca, *cb, *cc;
	struct nc_session *sa, *sb, *sc;
	char owner_a[64], owner_c[64];
	struct open_how h = {
		.access = OPEN4_SHARE_ACCESS_BOTH |
			  OPEN4_SHARE_ACCESS_WANT_NO_DELEG,
		.deny = OPEN4_SHARE_DENY_NONE, .claim = CLAIM_PREVIOUS,
	};
	struct file f, fr, fb;
	stateid4 lsid;
	struct denied d;
	uint64_t deadline;
	int st;

	REQUIRE(mkdtemp(dir));
	snprintf(vol, sizeof(vol), "%s/volume", dir);
	snprintf(grace, sizeof(grace), "nfs4.grace_time=%d", RECLAIM_GRACE_SEC);
	snprintf(owner_a, sizeof(owner_a), "%s", h_owner("reclaim-a"));
	snprintf(owner_c, sizeof(owner_c), "%s", h_owner("reclaim-c"));

	/* First life: A opens and locks, C only says it exists. */
	REQUIRE(h_server_start(&s, extra) == 0);
	session_as_root(&s, owner_a, &ca, &sa);
	session_as_root(&s, owner_c, &cc, &sc);
	REQUIRE(reclaim_complete(sa) == NFS4_OK);
	REQUIRE(reclaim_complete(sc) == NFS4_OK);
	REQUIRE(open_simple(sa, "ra-open", "reclaim-file",
			    OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			    &f) == NFS4_OK);
	REQUIRE(lock_file(sa, &f, "ra-lock", &f.sid, NULL, WRITE_LT, 0, 10,
			  false, &lsid, NULL) == NFS4_OK);
	h_session_free(ca, sa);
	h_session_free(cc, sc);
	CHECK_EQ(h_server_stop(&s, false), 0);

	/* Second life: grace. */
	REQUIRE(h_server_start(&s, extra) == 0);
	session_as_root(&s, h_owner("reclaim-b"), &cb, &sb);
	CHECK_EQ(reclaim_complete(sb), NFS4_OK);
	CHECK_EQ(open_simple(sb, "rb-open", "reclaim-new",
			     OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4ERR_GRACE);
	h.fh_of = &f;
	CHECK_EQ(open_file(sb, "rb-open", NULL, &h, NULL, NULL),
		 NFS4ERR_NO_GRACE);

	session_as_root(&s, owner_a, &ca, &sa);
	REQUIRE(open_file(sa, "ra-open", NULL, &h, &fr, NULL) == NFS4_OK);
	CHECK(memcmp(fr.fh_buf, f.fh_buf, f.fh.nfs_fh4_len) == 0);
	/* Before its RECLAIM_COMPLETE, A gets no new lock, only reclaims. */
	CHECK_EQ(lock_file(sa, &fr, "ra-lock", &fr.sid, NULL, WRITE_LT, 100, 1,
			   false, NULL, NULL), NFS4ERR_GRACE);
	REQUIRE(lock_file(sa, &fr, "ra-lock", &fr.sid, NULL, WRITE_LT, 0, 10,
			  true, &lsid, NULL) == NFS4_OK);
	CHECK_EQ(reclaim_complete(sa), NFS4_OK);
	CHECK_EQ(open_file(sa, "ra-open", NULL, &h, NULL, NULL),
		 NFS4ERR_NO_GRACE);
	/* C has not come back: still in grace for everyone else. */
	CHECK_EQ(open_simple(sb, "rb-open", "reclaim-new",
			     OPEN4_SHARE_ACCESS_BOTH, OPEN4_SHARE_DENY_NONE,
			     NULL), NFS4ERR_GRACE);
	/* ... until the grace time is up (a protocol clock: poll it). */
	deadline = clock_now_ns() + (RECLAIM_GRACE_SEC + 5) * NSEC_PER_SEC;
	do {
		h_sleep_ns(100 * NSEC_PER_MSEC);
		CHECK_EQ(ping(sa, NULL), NFS4_OK);
		st = open_simple(sb, "rb-open", "reclaim-file",
				 OPEN4_SHARE_ACCESS_BOTH,
				 OPEN4_SHARE_DENY_NONE, &fb);
	} while (st == NFS4ERR_GRACE && clock_now_ns() < deadline);
	REQUIRE(st == NFS4_OK);
	/* The reclaimed lock holds. */
	CHECK_EQ(lock_file(sb, &fb, "rb-lock", &fb.sid, NULL, READ_LT, 5, 1,
			   false, NULL, &d), NFS4ERR_DENIED);
	CHECK_EQ(d.offset, 0);
	CHECK_EQ(d.length, 10);
	CHECK(strcmp(d.owner, "ra-lock") == 0);
	/* C is too late now (§8.4.2.1). */
	session_as_root(&s, owner_c, &cc, &sc);
	CHECK_EQ(open_file(sc, "rc-open", NULL, &h, NULL, NULL),
		 NFS4ERR_NO_GRACE);

	h_session_free(ca, sa);
	h_session_free(cb, sb);
	h_session_free(cc, sc);
	CHECK_EQ(h_server_stop(&s, test_failures > 0), 0);
	unlink(vol);
	rmdir(dir);
}

int
main(void)
{
	REQUIRE(h_server_start(&srv, NULL) == 0);
	REQUIRE(h_session(&srv, h_owner("open1"), NULL, &conn1, &ses1) == 0);
	REQUIRE(h_session(&srv, h_owner("open2"), NULL, &conn2, &ses2) == 0);
	/* Root over AUTH_SYS, as a Linux client mounting as root. */
	REQUIRE(nc_conn_set_auth_sys(conn1, 0, 0) == 0);
	REQUIRE(nc_conn_set_auth_sys(conn2, 0, 0) == 0);
	REQUIRE(reclaim_complete(ses1) == NFS4_OK);
	REQUIRE(reclaim_complete(ses2) == NFS4_OK);

	TEST_RUN(test_open_close_seqid);
	TEST_RUN(test_open_survives_remove);
	TEST_RUN(test_create_modes);
	TEST_RUN(test_share_and_downgrade);
	TEST_RUN(test_locks);
	TEST_RUN(test_bad_input);
	TEST_RUN(test_reclaim_complete_rules);

	h_session_free(conn1, ses1);
	h_session_free(conn2, ses2);
	if (h_server_stop(&srv, test_failures > 0) != 0)
		test_failures++;

	TEST_RUN(test_delegations);
	TEST_RUN(test_restart_reclaim);
	TEST_EXIT();
}
