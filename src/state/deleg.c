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
	condvar_broadcast(&st->file->deleg_cv);
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
	/* Counted from here: the unhash below (ENOMEM) uncounts it again. */
	if (type == OPEN_DELEGATE_WRITE)
		atomic_fetch_add(&clp->srv->fsvc.nwrite_delegs, 1);
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
 * See state.h (RFC 8881 §10.4.3).  A relaxed load is enough: a caller
 * that reads 0 while another worker grants a write delegation is ordered
 * before that grant, and the holder cannot have cached a change the
 * GETATTR should have asked about before its OPEN reply went out.
 * Lock-free.
 */
unsigned int
state_write_delegs(struct state_server *srv)
{
	return atomic_load_explicit(&srv->fsvc.nwrite_delegs,
				    memory_order_relaxed);
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

/*
 * How often a waiter looks at the recall deadlines again: revocation is
 * done by whoever finds the deadline passed, and a waiter may be the
 * only one left looking.
 */
#define STATE_DELEG_WAIT_POLL_NS	(100 * NSEC_PER_MSEC)

/*
 * See state.h (RFC 8881 §10.4.2).  Takes the file's lock and sleeps on
 * its delegation condvar (the lock is released while asleep); sends any
 * new recall after dropping it.
 */
nfsstat4
state_deleg_wait(struct state_client *clp, uint64_t ino, bool write,
		 uint64_t wait_ns)
{
	struct state_server *srv;
	struct state_recall_batch rb = { .n = 0 };
	struct state_file *fp;
	uint64_t deadline, now;
	bool conflict;

	if (!clp)
		return NFS4_OK;
	srv = clp->srv;
	if (state_file_find(srv, ino, false, &fp) != 0)
		return NFS4_OK;
	deadline = clock_now_ns() + wait_ns;
	state_file_lock(fp);
	for (;;) {
		conflict = state_deleg_conflict_locked(srv, fp, clp, write,
						       &rb);
		now = clock_now_ns();
		/* New recalls go out now, not after the wait. */
		if (!conflict || rb.n || now >= deadline)
			break;
		(void)condvar_wait_until(&fp->deleg_cv, &fp->lock,
					 MIN(deadline,
					     now + STATE_DELEG_WAIT_POLL_NS));
	}
	state_file_unlock(fp);
	state_file_put(srv, fp);
	state_recall_send(srv, &rb);
	return conflict ? NFS4ERR_DELAY : NFS4_OK;
}

/* --- CB_GETATTR (RFC 8881 §10.4.3, §20.1) --------------------------------- */

/*
 * How long GETATTR waits for the write-delegation holder's CB_GETATTR
 * reply: long enough for a client on the same network, short enough that
 * a silent client costs other clients' GETATTRs one second (then the
 * server's own values answer).
 */
#define STATE_CB_GETATTR_WAIT_NS	(1 * NSEC_PER_SEC)

/* One CB_GETATTR: shared by the waiting GETATTR and the completion. */
struct getattr_call {
	struct mutex	lock;		/* not a state-rank lock: a leaf */
	struct condvar	cv;
	unsigned int	refs;		/* lock: waiter + completion */
	bool		done;		/* lock */
	bool		have_size, have_change;	/* lock */
	uint64_t	size, change;	/* lock */
	struct state_client *clp;	/* reference */
	uint32_t	req[1];
	nfs_cb_argop4	op;
	uint8_t		fh[NFS4_FHSIZE];
};

static void
getattr_call_put(struct getattr_call *gc)
{
	unsigned int left;

	mutex_lock(&gc->lock);
	left = --gc->refs;
	mutex_unlock(&gc->lock);
	if (left)
		return;
	state_client_put(gc->clp);
	condvar_destroy(&gc->cv);
	mutex_destroy(&gc->lock);
	free(gc);
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Pick change and size out of the holder's fattr4 (§5: values in bitmap
 * order; change (3) comes before size (4), both uint64).  Requires
 * gc->lock.
 */
static void
getattr_parse_locked(struct getattr_call *gc, const fattr4 *fa)
{
	const uint8_t *p = (const uint8_t *)fa->attr_vals.attrlist4_val;
	uint32_t left = fa->attr_vals.attrlist4_len;
	uint32_t w0 = fa->attrmask.bitmap4_len ? fa->attrmask.bitmap4_val[0] : 0;

	/*
	 * Only change and size were asked for, but a client may add more (a
	 * Linux or pynfs client with delegated timestamps returns
	 * time_deleg_access/modify, attributes 84 and 85).  Values come in
	 * attribute order, so anything after size can be ignored; anything
	 * before change could not be skipped without decoding it.
	 */
	if (w0 & ((1u << FATTR4_CHANGE) - 1))
		return;
	if (w0 & (1u << FATTR4_CHANGE)) {
		if (left < 8)
			return;
		gc->change = get_be64(p);
		gc->have_change = true;
		p += 8;
		left -= 8;
	}
	if (w0 & (1u << FATTR4_SIZE)) {
		if (left < 8)
			return;
		gc->size = get_be64(p);
		gc->have_size = true;
	}
}

static void
getattr_done(void *ctx, int err, const CB_COMPOUND4res *res)
{
	struct getattr_call *gc = ctx;

	mutex_lock(&gc->lock);
	if (!err && res->status == NFS4_OK &&
	    res->resarray.resarray_len >= 2 &&
	    res->resarray.resarray_val[1].resop == OP_CB_GETATTR) {
		const CB_GETATTR4res *r =
			&res->resarray.resarray_val[1].nfs_cb_resop4_u
				.opcbgetattr;

		if (r->status == NFS4_OK)
			getattr_parse_locked(gc,
				&r->CB_GETATTR4res_u.resok4.obj_attributes);
	}
	gc->done = true;
	condvar_broadcast(&gc->cv);
	mutex_unlock(&gc->lock);
	getattr_call_put(gc);
}

/*
 * See state.h (RFC 8881 §10.4.3).  Takes the file's lock briefly, then
 * waits for the callback with no state lock held.
 */
bool
state_deleg_getattr(struct state_client *clp, uint64_t ino,
		    uint64_t srv_size, uint64_t srv_change, uint64_t *size,
		    uint64_t *change)
{
	struct state_server *srv;
	struct getattr_call *gc;
	struct state_list *pos;
	struct state_file *fp;
	uint64_t deadline;
	bool found = false;
	int err;

	*size = srv_size;
	*change = srv_change;
	if (!clp)
		return false;
	srv = clp->srv;
	if (state_file_find(srv, ino, false, &fp) != 0)
		return false;
	gc = calloc(1, sizeof(*gc));
	if (!gc) {
		state_file_put(srv, fp);
		return false;
	}
	state_file_lock(fp);
	state_list_for_each(pos, &fp->delegs) {
		struct state_stid *d = container_of(pos, struct state_stid,
						    file_link);

		if (d->dtype != OPEN_DELEGATE_WRITE || d->cst->clp == clp)
			continue;
		gc->clp = d->cst->clp;
		state_client_get(gc->clp);
		memcpy(gc->fh, d->fh, d->fhlen);
		gc->op.nfs_cb_argop4_u.opcbgetattr.fh.nfs_fh4_len = d->fhlen;
		found = true;
		break;
	}
	state_file_unlock(fp);
	state_file_put(srv, fp);
	if (!found) {
		free(gc);
		return false;
	}
	mutex_init(&gc->lock, "state-cb-getattr");
	condvar_init(&gc->cv);
	gc->refs = 2;
	gc->req[0] = (1u << FATTR4_CHANGE) | (1u << FATTR4_SIZE);
	gc->op.argop = OP_CB_GETATTR;
	gc->op.nfs_cb_argop4_u.opcbgetattr.fh.nfs_fh4_val = (char *)gc->fh;
	gc->op.nfs_cb_argop4_u.opcbgetattr.attr_request.bitmap4_len = 1;
	gc->op.nfs_cb_argop4_u.opcbgetattr.attr_request.bitmap4_val = gc->req;
	err = state_cb_compound(gc->clp, &gc->op, 1,
				(uint32_t)(STATE_CB_GETATTR_WAIT_NS /
					   NSEC_PER_MSEC), getattr_done, gc);
	if (err) {
		gc->refs = 1;		/* getattr_done() will not run */
		getattr_call_put(gc);
		return true;
	}
	deadline = clock_now_ns() + STATE_CB_GETATTR_WAIT_NS;
	mutex_lock(&gc->lock);
	while (!gc->done)
		if (condvar_wait_until(&gc->cv, &gc->lock, deadline) ==
		    -ETIMEDOUT)
			break;
	/* §10.4.3: a change the holder reports means the file changed. */
	if (gc->done && gc->have_change && gc->change != srv_change) {
		*change = srv_change + 1;
		if (gc->have_size)
			*size = gc->size;
	}
	mutex_unlock(&gc->lock);
	getattr_call_put(gc);
	return true;
}
