/*
 * deleg.c - read and write delegations (RFC 8881 §10.2, §10.4): grant
 * on OPEN, recall with CB_RECALL on a conflicting access by another
 * client, revocation when the recall goes unanswered, DELEGRETURN.
 *
 * A delegation is granted only when the client asks for one with the
 * OPEN4_SHARE_ACCESS_WANT_* bits, has a working back channel, and
 * nothing conflicts: a read delegation for a read-only open when no
 * other client has the file open for writing or holds a write
 * delegation; a write delegation for a writing open when no other client
 * has the file open or holds any delegation.  No new delegation while one
 * on the file is being recalled.
 *
 * Recall state machine per delegation: GRANTED (recall_ns 0) ->
 * RECALLING (recall_ns set when CB_RECALL goes out) -> RETURNED
 * (DELEGRETURN: freed) or REVOKED (the next conflicting access after
 * STATE_RECALL_GRACE_LEASES leases finds it unanswered: unlinked from the
 * file, its client flagged SEQ4_STATUS_RECALLABLE_STATE_REVOKED until it
 * frees the stateid).  The conflicting operation answers NFS4ERR_DELAY
 * meanwhile and the client retries, so no worker ever waits for a recall
 * (DESIGN.md rule 5) and revocation needs no timer: whoever still wants
 * the file finds the deadline passed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"

/*
 * How long a recalled delegation may stay out: one lease period after the
 * recall, the least RFC 8881 §10.4.6 / §12.5.5 allow, so a client that
 * never answers holds up the conflicting client for about a lease.
 */
#define STATE_RECALL_GRACE_LEASES	1

/* One CB_RECALL in flight: what its arguments point to. */
struct recall_call {
	struct state_server *srv;
	struct state_stid *st;		/* reference */
	struct state_client *clp;	/* reference */
	nfs_cb_argop4	op;
	uint8_t		fh[NFS4_FHSIZE];
};

/* Mark st revoked and unlink it from its file.  Requires: file lock. */
static void
deleg_revoke_locked(struct state_stid *st)
{
	struct state_client *clp = st->cst->clp;

	mutex_assert_held(&st->file->lock);
	if (atomic_exchange(&st->revoked, true))
		return;
	state_list_del(&st->file_link);
	atomic_fetch_add(&st->cst->nrevoked, 1);
	state_client_set_seq_flags(clp, SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	log_info("state: delegation of client %016llx on inode %llu revoked "
		 "(recall not answered within a lease)",
		 (unsigned long long)clp->clientid,
		 (unsigned long long)st->file->ino);
}

/*
 * See state_int.h.  Requires: fp->lock.
 */
bool
state_deleg_conflict_locked(struct state_server *srv, struct state_file *fp,
			    const struct state_client *clp, bool write,
			    struct state_recall_batch *rb)
{
	uint64_t now = clock_now_ns();
	uint64_t out_ns = (uint64_t)srv->cfg.lease_sec * NSEC_PER_SEC *
			  STATE_RECALL_GRACE_LEASES;
	struct state_list *pos, *tmp;
	bool conflict = false;

	mutex_assert_held(&fp->lock);
	state_list_for_each_safe(pos, tmp, &fp->delegs) {
		struct state_stid *d = container_of(pos, struct state_stid,
						    file_link);

		if (clp && d->cst->clp == clp)
			continue;
		if (!write && d->dtype != OPEN_DELEGATE_WRITE)
			continue;
		if (d->recall_ns && now - d->recall_ns >= out_ns) {
			deleg_revoke_locked(d);
			continue;
		}
		conflict = true;
		if (d->recall_ns || rb->n >= STATE_RECALL_BATCH)
			continue;
		d->recall_ns = now;
		atomic_fetch_add(&d->ref, 1);
		state_client_get(d->cst->clp);
		rb->st[rb->n] = d;
		rb->clp[rb->n] = d->cst->clp;
		rb->n++;
	}
	return conflict;
}

/* CB_RECALL's completion: the outcome only matters for the log; an
 * unanswered recall is revoked by the deadline. */
static void
recall_done(void *ctx, int err, const CB_COMPOUND4res *res)
{
	struct recall_call *rc = ctx;

	if (err)
		log_info("state: CB_RECALL to client %016llx failed: %d",
			 (unsigned long long)rc->clp->clientid, err);
	else if (res->status != NFS4_OK)
		log_info("state: CB_RECALL to client %016llx: status %d",
			 (unsigned long long)rc->clp->clientid,
			 (int)res->status);
	state_stid_put(rc->srv, rc->st);
	state_client_put(rc->clp);
	free(rc);
}

/*
 * See state_int.h (RFC 8881 §20.2).  No state locks held: the back
 * channel takes session locks.
 */
void
state_recall_send(struct state_server *srv, struct state_recall_batch *rb)
{
	for (unsigned int i = 0; i < rb->n; i++) {
		struct state_stid *st = rb->st[i];
		struct recall_call *rc = calloc(1, sizeof(*rc));
		CB_RECALL4args *a;
		int err = -ENOMEM;

		if (rc) {
			rc->srv = srv;
			rc->st = st;
			rc->clp = rb->clp[i];
			rc->op.argop = OP_CB_RECALL;
			a = &rc->op.nfs_cb_argop4_u.opcbrecall;
			state_stid_to_wire(srv, st, &a->stateid);
			a->truncate = FALSE;
			memcpy(rc->fh, st->fh, st->fhlen);
			a->fh.nfs_fh4_val = (char *)rc->fh;
			a->fh.nfs_fh4_len = st->fhlen;
			err = state_cb_compound(rc->clp, &rc->op, 1,
						srv->cfg.cb_timeout_ms,
						recall_done, rc);
			if (err == 0)
				continue;	/* recall_done() puts */
		}
		/* Not sent: the deadline revokes it if it is not returned. */
		log_info("state: cannot send CB_RECALL to client %016llx: %d",
			 (unsigned long long)rb->clp[i]->clientid, err);
		free(rc);
		state_stid_put(srv, st);
		state_client_put(rb->clp[i]);
	}
	rb->n = 0;
}

/*
 * See state_int.h (RFC 8881 §10.4, §18.16.3).  Requires: cst->lock and
 * fp->lock.
 */
void
state_deleg_grant_locked(struct state_cstate *cst, struct state_file *fp,
			 const struct state_open_req *req,
			 open_delegation4 *d)
{
	uint32_t want = req->want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;
	struct state_client *clp = cst->clp;
	open_delegation_type4 type;
	why_no_delegation4 why = WND4_CONTENTION;
	struct state_list *pos;
	struct state_stid *st;
	bool writing = req->access & OPEN4_SHARE_ACCESS_WRITE;

	mutex_assert_held(&cst->lock);
	mutex_assert_held(&fp->lock);
	memset(d, 0, sizeof(*d));
	switch (want) {
	case OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE:
		d->delegation_type = OPEN_DELEGATE_NONE;
		return;
	case OPEN4_SHARE_ACCESS_WANT_NO_DELEG:
		why = WND4_NOT_WANTED;
		goto none;
	case OPEN4_SHARE_ACCESS_WANT_CANCEL:
		why = WND4_CANCELLED;
		goto none;
	case OPEN4_SHARE_ACCESS_WANT_READ_DELEG:
		if (writing) {
			why = WND4_NOT_SUPP_UPGRADE;
			goto none;
		}
		type = OPEN_DELEGATE_READ;
		break;
	case OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG:
	case OPEN4_SHARE_ACCESS_WANT_ANY_DELEG:
		type = writing ? OPEN_DELEGATE_WRITE : OPEN_DELEGATE_READ;
		break;
	default:
		why = WND4_NOT_WANTED;
		goto none;
	}
	if (req->reclaim || !req->cb_up || !req->fh ||
	    req->fhlen > NFS4_FHSIZE) {
		why = WND4_RESOURCE;
		goto none;
	}
	/* Opens of other clients: any for a write delegation, writers for
	 * a read delegation (§10.4). */
	state_list_for_each(pos, &fp->opens) {
		struct state_stid *o = container_of(pos, struct state_stid,
						    file_link);
		uint32_t acc = 0;

		if (o->cst == cst)
			continue;
		for (uint32_t v = 1; v <= OPEN4_SHARE_ACCESS_BOTH; v++)
			if (o->access_bmap & (1u << v))
				acc |= v;
		if (type == OPEN_DELEGATE_WRITE ||
		    (acc & OPEN4_SHARE_ACCESS_WRITE))
			goto none;
	}
	/* Delegations: none while one is recalled, no second of ours, and
	 * none of another client that would conflict. */
	state_list_for_each(pos, &fp->delegs) {
		struct state_stid *o = container_of(pos, struct state_stid,
						    file_link);

		if (o->recall_ns)
			goto none;
		if (o->cst == cst) {
			why = WND4_NOT_SUPP_UPGRADE;
			goto none;
		}
		if (type == OPEN_DELEGATE_WRITE ||
		    o->dtype == OPEN_DELEGATE_WRITE)
			goto none;
	}
	st = state_stid_new(cst, fp, NULL, STATE_STID_DELEG);
	if (!st) {
		why = WND4_RESOURCE;
		goto none;
	}
	st->dtype = type;
	st->fh = malloc(req->fhlen);
	if (!st->fh) {
		/* The stateid is ours alone: unhash needs a spare reference. */
		atomic_fetch_add(&st->ref, 1);
		state_stid_unhash(st);
		state_stid_put(clp->srv, st);	/* fp still referenced */
		why = WND4_RESOURCE;
		goto none;
	}
	memcpy(st->fh, req->fh, req->fhlen);
	st->fhlen = req->fhlen;
	d->delegation_type = type;
	if (type == OPEN_DELEGATE_READ) {
		open_read_delegation4 *r = &d->open_delegation4_u.read;

		state_stid_to_wire(clp->srv, st, &r->stateid);
		r->recall = FALSE;
		r->permissions.type = ACE4_ACCESS_ALLOWED_ACE_TYPE;
	} else {
		open_write_delegation4 *w = &d->open_delegation4_u.write;

		state_stid_to_wire(clp->srv, st, &w->stateid);
		w->recall = FALSE;
		/* No space limit: the server never refuses a write for space
		 * it promised (§10.4.1). */
		w->space_limit.limitby = NFS_LIMIT_SIZE;
		w->space_limit.nfs_space_limit4_u.filesize = NFS4_UINT64_MAX;
		w->permissions.type = ACE4_ACCESS_ALLOWED_ACE_TYPE;
	}
	return;
none:
	d->delegation_type = OPEN_DELEGATE_NONE_EXT;
	d->open_delegation4_u.od_whynone.ond_why = why;
	if (why == WND4_CONTENTION || why == WND4_RESOURCE)
		d->open_delegation4_u.od_whynone.open_none_delegation4_u
			.ond_server_will_push_deleg = FALSE;
}

/*
 * See state_int.h.  A revoked delegation's stateid leaves (FREE_STATEID,
 * expiry): clear the client's flag when it was the last.  Lock-free.
 */
void
state_deleg_forget_revoked(struct state_stid *st)
{
	if (st->type != STATE_STID_DELEG || !atomic_load(&st->revoked))
		return;
	if (atomic_fetch_sub(&st->cst->nrevoked, 1) == 1)
		state_client_clear_seq_flags(st->cst->clp,
					     SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
}

/*
 * See state.h (RFC 8881 §10.4, §10.4.6).  Takes the file's lock; sends
 * CB_RECALLs after dropping it.
 */
nfsstat4
state_break_delegations(struct state_client *clp, uint64_t ino, bool write)
{
	struct state_server *srv;
	struct state_recall_batch rb = { .n = 0 };
	struct state_file *fp;
	bool conflict;

	if (!clp)
		return NFS4_OK;		/* no session, no client: nothing */
	srv = clp->srv;
	if (state_file_find(srv, ino, false, &fp) != 0)
		return NFS4_OK;
	state_file_lock(fp);
	conflict = state_deleg_conflict_locked(srv, fp, clp, write, &rb);
	state_file_unlock(fp);
	state_file_put(srv, fp);
	state_recall_send(srv, &rb);
	return conflict ? NFS4ERR_DELAY : NFS4_OK;
}
