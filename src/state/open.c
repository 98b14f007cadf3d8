/*
 * open.c - opens and share reservations (RFC 8881 §9.7, §18.16, §18.2,
 * §18.18), FREE_STATEID and TEST_STATEID (§18.38, §18.48), and the
 * stateid check of READ/WRITE/SETATTR (§8.2, §9.1.4).
 *
 * One open stateid per open-owner and file: a second OPEN by the same
 * owner upgrades it (seqid bumped).  Its access and deny are kept as
 * bitmaps of the values used, so OPEN_DOWNGRADE can refuse a mode the
 * owner never opened with (§18.18.3) - the way knfsd keeps them.
 *
 * Delegations (deleg.c) take part twice: an OPEN, READ or WRITE of
 * another client that conflicts with one recalls it (NFS4ERR_DELAY), and
 * OPEN grants one when asked and safe.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "state_int.h"

/* Access or deny value -> the two OPEN4_SHARE_* bits it means. */
static uint32_t
bmap_union(uint8_t bmap)
{
	uint32_t u = 0;

	for (uint32_t v = 0; v <= OPEN4_SHARE_ACCESS_BOTH; v++)
		if (bmap & (1u << v))
			u |= v;
	return u;
}

/* Whether a stateid's client is clp (stateids are per client, §8.2.1). */
static bool
stid_of(const struct state_stid *st, const struct state_client *clp)
{
	return st->cst->clp == clp;
}

/*
 * Whether an open with access/deny conflicts with fp's other opens
 * (§9.7): its access against their deny, its deny against their access.
 * self (may be NULL) is the stateid being upgraded.  Requires: fp->lock.
 */
static bool
share_conflict_locked(struct state_file *fp, const struct state_stid *self,
		      uint32_t access, uint32_t deny)
{
	struct state_list *pos;

	mutex_assert_held(&fp->lock);
	state_list_for_each(pos, &fp->opens) {
		struct state_stid *o = container_of(pos, struct state_stid,
						    file_link);

		if (o == self)
			continue;
		if ((access & bmap_union(o->deny_bmap)) ||
		    (deny & bmap_union(o->access_bmap)))
			return true;
	}
	return false;
}

static bool
share_args_ok(uint32_t access, uint32_t deny)
{
	return access >= OPEN4_SHARE_ACCESS_READ &&
	       access <= OPEN4_SHARE_ACCESS_BOTH &&
	       deny <= OPEN4_SHARE_DENY_BOTH;
}

/* The open stateid of owner on fp, or NULL.  Requires: fp->lock. */
static struct state_stid *
open_of_owner_locked(struct state_file *fp, const struct state_owner *ow)
{
	struct state_list *pos;

	mutex_assert_held(&fp->lock);
	state_list_for_each(pos, &fp->opens) {
		struct state_stid *o = container_of(pos, struct state_stid,
						    file_link);

		if (o->owner == ow)
			return o;
	}
	return NULL;
}

/*
 * See state.h (RFC 8881 §9.7).  Takes the client's cstate lock and the
 * file's lock.
 */
nfsstat4
state_open_check_share(struct state_client *clp, uint64_t ino,
		       const open_owner4 *owner, uint32_t access,
		       uint32_t deny)
{
	struct state_server *srv = clp->srv;
	struct state_recall_batch rb = { .n = 0 };
	struct state_cstate *cst;
	struct state_owner *ow;
	struct state_file *fp;
	nfsstat4 status = NFS4_OK;

	if (!share_args_ok(access, deny))
		return NFS4ERR_INVAL;
	cst = state_cstate_get(clp);
	if (!cst)
		return NFS4ERR_DELAY;
	if (state_file_find(srv, ino, false, &fp) != 0)
		return NFS4_OK;			/* nobody has it open */
	state_cstate_lock(cst);
	ow = state_owner_find(cst, STATE_OWNER_OPEN, owner->owner.owner_val,
			      owner->owner.owner_len, false);
	state_file_lock(fp);
	if (share_conflict_locked(fp, ow ? open_of_owner_locked(fp, ow) : NULL,
				  access, deny))
		status = NFS4ERR_SHARE_DENIED;
	else if (state_deleg_conflict_locked(srv, fp, clp,
					     access & OPEN4_SHARE_ACCESS_WRITE,
					     &rb))
		status = NFS4ERR_DELAY;
	state_file_unlock(fp);
	state_cstate_unlock(cst);
	state_file_put(srv, fp);
	state_recall_send(srv, &rb);
	return status;
}

/*
 * See state.h (RFC 8881 §18.16.3, §9.7).  Takes the client's cstate lock
 * and the file's lock.
 */
nfsstat4
state_open(struct state_client *clp, const struct state_open_req *req,
	   stateid4 *out, open_delegation4 *deleg)
{
	struct state_server *srv = clp->srv;
	struct state_recall_batch rb = { .n = 0 };
	struct state_cstate *cst;
	struct state_owner *ow;
	struct state_stid *st;
	struct state_file *fp;
	nfsstat4 status = NFS4_OK;

	if (!share_args_ok(req->access, req->deny))
		return NFS4ERR_INVAL;
	cst = state_cstate_get(clp);
	if (!cst)
		return NFS4ERR_DELAY;
	if (state_file_find(srv, req->ino, true, &fp) != 0)
		return NFS4ERR_DELAY;
	state_cstate_lock(cst);
	ow = state_owner_find(cst, STATE_OWNER_OPEN,
			      req->owner->owner.owner_val,
			      req->owner->owner.owner_len, true);
	if (!ow) {
		status = NFS4ERR_DELAY;
		goto out_cst;
	}
	state_file_lock(fp);
	if (!fp->ip && req->ip && srv->fsvc.fs) {
		fs_ihold(req->ip);
		fp->ip = req->ip;
	}
	st = open_of_owner_locked(fp, ow);
	if (share_conflict_locked(fp, st, req->access, req->deny)) {
		status = NFS4ERR_SHARE_DENIED;
		goto out_file;
	}
	/* §10.4.2: another client's delegation is recalled first. */
	if (state_deleg_conflict_locked(srv, fp, clp,
					req->access & OPEN4_SHARE_ACCESS_WRITE,
					&rb)) {
		status = NFS4ERR_DELAY;
		goto out_file;
	}
	if (st) {
		state_stid_bump(st);
	} else {
		st = state_stid_new(cst, fp, ow, STATE_STID_OPEN);
		if (!st) {
			status = NFS4ERR_DELAY;
			goto out_file;
		}
	}
	st->access_bmap |= (uint8_t)(1u << req->access);
	st->deny_bmap |= (uint8_t)(1u << req->deny);
	state_stid_to_wire(srv, st, out);
	state_deleg_grant_locked(cst, fp, req, deleg);
out_file:
	state_file_unlock(fp);
	state_owner_release(cst, ow);		/* only if unused */
out_cst:
	state_cstate_unlock(cst);
	state_file_put(srv, fp);
	state_recall_send(srv, &rb);
	return status;
}

/*
 * Look up sid as a stateid of clp of type on ino and lock its client and
 * file.  On NFS4_OK *stp holds a reference and both locks are held
 * (release with stid_unlock()).  NFS4ERR_BAD_STATEID when unknown, not
 * this client's, of another type or file; the seqid rules of §8.2.2.
 */
static nfsstat4
stid_lock(struct state_client *clp, uint64_t ino, const stateid4 *sid,
	  enum state_stid_type type, bool check_seqid,
	  struct state_stid **stp)
{
	struct state_server *srv = clp->srv;
	struct state_stid *st;
	nfsstat4 status;

	st = state_stid_find(srv, sid);
	if (!st)
		return NFS4ERR_BAD_STATEID;
	if (!stid_of(st, clp) || st->type != type || st->file->ino != ino) {
		state_stid_put(srv, st);
		return NFS4ERR_BAD_STATEID;
	}
	state_cstate_lock(st->cst);
	state_file_lock(st->file);
	if (st->dead) {
		status = NFS4ERR_BAD_STATEID;
		goto fail;
	}
	if (atomic_load(&st->revoked)) {
		status = NFS4ERR_DELEG_REVOKED;
		goto fail;
	}
	if (check_seqid) {
		status = state_stid_check_seqid(st, sid->seqid);
		if (status != NFS4_OK)
			goto fail;
	}
	*stp = st;
	return NFS4_OK;
fail:
	state_file_unlock(st->file);
	state_cstate_unlock(st->cst);
	state_stid_put(srv, st);
	return status;
}

static void
stid_unlock(struct state_server *srv, struct state_stid *st)
{
	struct state_cstate *cst = st->cst;

	state_file_unlock(st->file);
	state_cstate_unlock(cst);
	state_stid_put(srv, st);
}

/* Whether any lock stateid opened through st holds ranges.  fp->lock. */
static bool
open_has_locks_locked(struct state_stid *st)
{
	struct state_list *pos;

	mutex_assert_held(&st->file->lock);
	state_list_for_each(pos, &st->file->locks) {
		struct state_stid *l = container_of(pos, struct state_stid,
						    file_link);

		if (l->open == st && l->nranges)
			return true;
	}
	return false;
}

/*
 * Free st's lock stateids (which hold no ranges) and st itself.  Freeing
 * a lock stateid under the file lock is safe: st still holds a file
 * reference, so the put never frees the file.
 * Requires: cstate lock and file lock; the caller holds a reference on st.
 */
static void
open_unhash_locked(struct state_server *srv, struct state_stid *st)
{
	struct state_list *pos, *tmp;

	mutex_assert_held(&st->file->lock);
	state_list_for_each_safe(pos, tmp, &st->file->locks) {
		struct state_stid *l = container_of(pos, struct state_stid,
						    file_link);

		if (l->open != st)
			continue;
		atomic_fetch_add(&l->ref, 1);
		state_stid_unhash(l);
		state_stid_put(srv, l);
	}
	state_stid_unhash(st);
}

/* The invalid special stateid (§8.2.3): CLOSE's answer in NFSv4.1. */
static void
invalid_stateid(stateid4 *out)
{
	memset(out, 0, sizeof(*out));
	out->seqid = NFS4_UINT32_MAX;
}

/*
 * See state.h (RFC 8881 §18.2.3, §18.2.4).  Takes the cstate and file
 * locks.
 */
nfsstat4
state_close(struct state_client *clp, uint64_t ino, const stateid4 *sid,
	    stateid4 *out)
{
	struct state_server *srv = clp->srv;
	struct state_stid *st;
	nfsstat4 status;

	status = stid_lock(clp, ino, sid, STATE_STID_OPEN, true, &st);
	if (status != NFS4_OK)
		return status;
	if (open_has_locks_locked(st)) {
		status = NFS4ERR_LOCKS_HELD;
		goto out;
	}
	open_unhash_locked(srv, st);
	invalid_stateid(out);
out:
	stid_unlock(srv, st);
	return status;
}

/*
 * See state.h (RFC 8881 §18.18.3).  Takes the cstate and file locks.
 */
nfsstat4
state_open_downgrade(struct state_client *clp, uint64_t ino,
		     const stateid4 *sid, uint32_t access, uint32_t deny,
		     stateid4 *out)
{
	struct state_server *srv = clp->srv;
	struct state_stid *st;
	nfsstat4 status;

	if (!share_args_ok(access, deny))
		return NFS4ERR_INVAL;
	status = stid_lock(clp, ino, sid, STATE_STID_OPEN, true, &st);
	if (status != NFS4_OK)
		return status;
	/* The new modes must be ones this open used, and no wider. */
	if (!(st->access_bmap & (1u << access)) ||
	    !(st->deny_bmap & (1u << deny)) ||
	    (access & ~bmap_union(st->access_bmap)) ||
	    (deny & ~bmap_union(st->deny_bmap))) {
		status = NFS4ERR_INVAL;
		goto out;
	}
	/* Keep the modes that fit within the new ones (knfsd's rule). */
	for (uint32_t v = 0; v <= OPEN4_SHARE_ACCESS_BOTH; v++) {
		if (v & ~access)
			st->access_bmap &= (uint8_t)~(1u << v);
		if (v & ~deny)
			st->deny_bmap &= (uint8_t)~(1u << v);
	}
	st->access_bmap |= (uint8_t)(1u << access);
	st->deny_bmap |= (uint8_t)(1u << deny);
	state_stid_bump(st);
	state_stid_to_wire(srv, st, out);
out:
	stid_unlock(srv, st);
	return status;
}

/*
 * See state.h (RFC 8881 §18.38.3).  Takes the cstate and file locks.
 */
nfsstat4
state_free_stateid(struct state_client *clp, const stateid4 *sid)
{
	struct state_server *srv = clp->srv;
	struct state_stid *st;

	st = state_stid_find(srv, sid);
	if (!st)
		return NFS4ERR_BAD_STATEID;
	if (!stid_of(st, clp)) {
		state_stid_put(srv, st);
		return NFS4ERR_BAD_STATEID;
	}
	state_cstate_lock(st->cst);
	state_file_lock(st->file);
	if (st->dead) {
		stid_unlock(srv, st);
		return NFS4ERR_BAD_STATEID;
	}
	/* An open and a delegation not revoked are themselves locks. */
	if (st->type == STATE_STID_OPEN || st->nranges ||
	    (st->type == STATE_STID_DELEG && !atomic_load(&st->revoked))) {
		stid_unlock(srv, st);
		return NFS4ERR_LOCKS_HELD;
	}
	state_stid_unhash(st);
	stid_unlock(srv, st);
	return NFS4_OK;
}

static bool
sid_special(const stateid4 *sid)
{
	uint8_t b0 = (uint8_t)sid->other[0];

	if (b0 != 0 && b0 != 0xff)
		return false;
	for (unsigned int i = 1; i < NFS4_OTHER_SIZE; i++)
		if ((uint8_t)sid->other[i] != b0)
			return false;
	return true;
}

/*
 * See state.h (RFC 8881 §18.48.3).  Takes the cstate or nothing.
 */
nfsstat4
state_test_stateid(struct state_client *clp, const stateid4 *sid)
{
	struct state_server *srv = clp->srv;
	struct state_stid *st;
	nfsstat4 status;

	if (sid_special(sid))
		return NFS4ERR_BAD_STATEID;
	st = state_stid_find(srv, sid);
	if (!st)
		return NFS4ERR_BAD_STATEID;
	if (!stid_of(st, clp)) {
		state_stid_put(srv, st);
		return NFS4ERR_BAD_STATEID;
	}
	state_cstate_lock(st->cst);
	if (st->dead)
		status = NFS4ERR_BAD_STATEID;
	else if (atomic_load(&st->revoked))
		status = NFS4ERR_DELEG_REVOKED;
	else
		status = state_stid_check_seqid(st, sid->seqid);
	state_cstate_unlock(st->cst);
	state_stid_put(srv, st);
	return status;
}

/*
 * A special stateid's I/O: refused with NFS4ERR_LOCKED when an open of
 * the file denies it (§9.7).  Takes the file's lock.
 */
static nfsstat4
check_io_special(struct state_client *clp, uint64_t ino, bool write)
{
	struct state_server *srv = clp->srv;
	struct state_recall_batch rb = { .n = 0 };
	struct state_file *fp;
	struct state_list *pos;
	nfsstat4 status = NFS4_OK;
	uint32_t want = write ? OPEN4_SHARE_DENY_WRITE : OPEN4_SHARE_DENY_READ;

	if (state_file_find(srv, ino, false, &fp) != 0)
		return NFS4_OK;
	state_file_lock(fp);
	state_list_for_each(pos, &fp->opens) {
		struct state_stid *o = container_of(pos, struct state_stid,
						    file_link);

		if (bmap_union(o->deny_bmap) & want) {
			status = NFS4ERR_LOCKED;
			break;
		}
	}
	if (status == NFS4_OK &&
	    state_deleg_conflict_locked(srv, fp, clp, write, &rb))
		status = NFS4ERR_DELAY;
	state_file_unlock(fp);
	state_file_put(srv, fp);
	state_recall_send(srv, &rb);
	return status;
}

/*
 * See state.h (RFC 8881 §8.2.2, §8.2.3, §9.1.4).  Takes a file's lock
 * (no cstate lock: the fields read change only under both).
 */
nfsstat4
state_check_io(struct state_client *clp, uint64_t ino, const stateid4 *sid,
	       bool write)
{
	struct state_server *srv;
	struct state_recall_batch rb = { .n = 0 };
	struct state_stid *st, *open;
	nfsstat4 status;

	if (sid_special(sid)) {
		/* The anonymous (all zeros, seqid 0) and read-bypass (all
		 * ones, seqid all ones) stateids; other seqids are bad. */
		if ((uint8_t)sid->other[0] == 0 ? sid->seqid != 0 :
		    sid->seqid != NFS4_UINT32_MAX)
			return NFS4ERR_BAD_STATEID;
		if (!clp)
			return NFS4_OK;
		/* §8.2.3: read bypass ignores share denies for READ. */
		if ((uint8_t)sid->other[0] == 0xff && !write)
			return NFS4_OK;
		return check_io_special(clp, ino, write);
	}
	if (!clp)
		return NFS4ERR_BAD_STATEID;
	srv = clp->srv;
	st = state_stid_find(srv, sid);
	if (!st)
		return NFS4ERR_BAD_STATEID;
	if (!stid_of(st, clp) || st->file->ino != ino) {
		state_stid_put(srv, st);
		return NFS4ERR_BAD_STATEID;
	}
	state_file_lock(st->file);
	if (st->dead) {
		status = NFS4ERR_BAD_STATEID;
		goto out;
	}
	if (atomic_load(&st->revoked)) {
		status = NFS4ERR_DELEG_REVOKED;
		goto out;
	}
	status = state_stid_check_seqid(st, sid->seqid);
	if (status != NFS4_OK)
		goto out;
	open = st->type == STATE_STID_LOCK ? st->open : st;
	if (open->type == STATE_STID_OPEN && write &&
	    !(bmap_union(open->access_bmap) & OPEN4_SHARE_ACCESS_WRITE))
		status = NFS4ERR_OPENMODE;
	else if (open->type == STATE_STID_DELEG && write &&
		 open->dtype != OPEN_DELEGATE_WRITE)
		status = NFS4ERR_OPENMODE;
	else if (state_deleg_conflict_locked(srv, st->file, clp, write, &rb))
		status = NFS4ERR_DELAY;
out:
	state_file_unlock(st->file);
	state_stid_put(srv, st);
	state_recall_send(srv, &rb);
	return status;
}

/*
 * See state.h (RFC 8881 §18.6.3).  Takes the cstate and file locks.
 */
nfsstat4
state_delegreturn(struct state_client *clp, uint64_t ino, const stateid4 *sid)
{
	struct state_server *srv = clp->srv;
	struct state_stid *st;
	nfsstat4 status;

	status = stid_lock(clp, ino, sid, STATE_STID_DELEG, true, &st);
	if (status != NFS4_OK)
		return status;
	state_stid_unhash(st);
	stid_unlock(srv, st);
	return NFS4_OK;
}

/*
 * See state.h (RFC 8881 §18.16.3).  Takes the cstate and file locks.
 */
nfsstat4
state_deleg_check(struct state_client *clp, uint64_t ino, const stateid4 *sid)
{
	struct state_stid *st;
	nfsstat4 status;

	status = stid_lock(clp, ino, sid, STATE_STID_DELEG, false, &st);
	if (status != NFS4_OK)
		return status;
	stid_unlock(clp->srv, st);
	return NFS4_OK;
}

/*
 * See state.h (RFC 9754 §5.1).  Values are bit numbers: the share access
 * and deny values themselves, the WANT_* field (bits 8-15 of share_access)
 * shifted down, claim types and create modes.  Not offered: the
 * delegation signalling/push wishes, delegated timestamps, OPEN_XOR, and
 * the CLAIM_DELEGATE_PREV claims (NFS4ERR_NOTSUPP).  No locks.
 */
void
state_open_arguments(struct state_open_arguments *out)
{
	out->share_access = (1u << OPEN4_SHARE_ACCESS_READ) |
			    (1u << OPEN4_SHARE_ACCESS_WRITE) |
			    (1u << OPEN4_SHARE_ACCESS_BOTH);
	out->share_deny = (1u << OPEN4_SHARE_DENY_NONE) |
			  (1u << OPEN4_SHARE_DENY_READ) |
			  (1u << OPEN4_SHARE_DENY_WRITE) |
			  (1u << OPEN4_SHARE_DENY_BOTH);
	out->share_access_want =
		(1u << (OPEN4_SHARE_ACCESS_WANT_READ_DELEG >> 8)) |
		(1u << (OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG >> 8)) |
		(1u << (OPEN4_SHARE_ACCESS_WANT_ANY_DELEG >> 8)) |
		(1u << (OPEN4_SHARE_ACCESS_WANT_NO_DELEG >> 8)) |
		(1u << (OPEN4_SHARE_ACCESS_WANT_CANCEL >> 8));
	out->open_claim = (1u << CLAIM_NULL) | (1u << CLAIM_PREVIOUS) |
			  (1u << CLAIM_DELEGATE_CUR) | (1u << CLAIM_FH) |
			  (1u << CLAIM_DELEG_CUR_FH);
	out->create_mode = (1u << UNCHECKED4) | (1u << GUARDED4) |
			   (1u << EXCLUSIVE4) | (1u << EXCLUSIVE4_1);
}
