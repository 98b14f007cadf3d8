/*
 * lock.c - byte-range locks (RFC 8881 §9, §18.10-18.12).
 *
 * A lock stateid belongs to one lock-owner on one file and was created
 * from one open stateid (§9.1.4.2).  Its ranges follow POSIX semantics
 * for the owner: locking over ranges the owner holds replaces them (an
 * upgrade or downgrade of that part), adjacent ranges of one type merge,
 * unlocking a sub-range splits (the server supports sub-range unlock, so
 * it never answers NFS4ERR_LOCK_RANGE).  Two owners conflict when their
 * ranges overlap and either is a write lock; blocking requests
 * (READW_LT/WRITEW_LT) are answered NFS4ERR_DENIED too, and the client
 * polls (no CB_NOTIFY_LOCK).  Locks are advisory: READ and WRITE do not
 * check them.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"

/* The lock type a request means (the blocking variants lock the same). */
static nfs_lock_type4
lock_kind(nfs_lock_type4 t)
{
	return (t == WRITE_LT || t == WRITEW_LT) ? WRITE_LT : READ_LT;
}

static bool
locktype_ok(nfs_lock_type4 t)
{
	return t == READ_LT || t == WRITE_LT || t == READW_LT ||
	       t == WRITEW_LT;
}

/*
 * [offset, offset + length) as [start, end); length NFS4_UINT64_MAX is
 * "to the end of file" (end UINT64_MAX).  §18.10.4: length 0, or an
 * offset + length beyond 2^64 - 1, is NFS4ERR_INVAL.
 */
static nfsstat4
range_of(uint64_t offset, uint64_t length, uint64_t *start, uint64_t *end)
{
	if (length == 0)
		return NFS4ERR_INVAL;
	if (length == NFS4_UINT64_MAX) {
		*start = offset;
		*end = UINT64_MAX;
		return NFS4_OK;
	}
	if (length > UINT64_MAX - offset)
		return NFS4ERR_INVAL;
	*start = offset;
	*end = offset + length;
	return NFS4_OK;
}

/*
 * Fill *denied with the conflicting range r of owner st (§18.10.5).
 * Returns NFS4ERR_DELAY when the owner bytes cannot be copied.
 */
static nfsstat4
fill_denied(const struct state_stid *st, const struct state_range *r,
	    LOCK4denied *denied)
{
	memset(denied, 0, sizeof(*denied));
	denied->offset = r->start;
	denied->length = r->end == UINT64_MAX ? NFS4_UINT64_MAX :
			 r->end - r->start;
	denied->locktype = r->type;
	denied->owner.clientid = st->cst->clp->clientid;
	if (st->owner && st->owner->len) {
		denied->owner.owner.owner_val = malloc(st->owner->len);
		if (!denied->owner.owner.owner_val)
			return NFS4ERR_DELAY;
		memcpy(denied->owner.owner.owner_val, st->owner->data,
		       st->owner->len);
		denied->owner.owner.owner_len = st->owner->len;
	}
	return NFS4ERR_DENIED;
}

/* See state.h. */
void
state_lock_denied_free(LOCK4denied *denied)
{
	free(denied->owner.owner.owner_val);
	denied->owner.owner.owner_val = NULL;
	denied->owner.owner.owner_len = 0;
}

/*
 * The first lock of another owner on fp that conflicts with type on
 * [start, end), or NFS4_OK.  mine is the requester's lock-owner
 * (identified by client and owner: a lock-owner has one lock stateid per
 * file).  Requires: fp->lock.
 */
static nfsstat4
find_conflict_locked(struct state_file *fp, const struct state_client *clp,
		     const void *owner, uint32_t owner_len,
		     nfs_lock_type4 type, uint64_t start, uint64_t end,
		     LOCK4denied *denied)
{
	struct state_list *pos;

	mutex_assert_held(&fp->lock);
	state_list_for_each(pos, &fp->locks) {
		struct state_stid *l = container_of(pos, struct state_stid,
						    file_link);

		if (l->cst->clp == clp && l->owner &&
		    l->owner->len == owner_len &&
		    memcmp(l->owner->data, owner, owner_len) == 0)
			continue;
		for (uint32_t i = 0; i < l->nranges; i++) {
			const struct state_range *r = &l->ranges[i];

			if (r->start >= end || start >= r->end)
				continue;
			if (type == WRITE_LT || r->type == WRITE_LT)
				return fill_denied(l, r, denied);
		}
	}
	return NFS4_OK;
}

/*
 * Replace the owner's ranges over [start, end) by one of type (type 0:
 * none, an unlock), splitting ranges that stick out and merging
 * neighbours of the same type.  Builds a new array so that a failure
 * (ENOMEM) changes nothing.  Requires: cstate and file locks.
 */
static int
set_range_locked(struct state_stid *l, uint64_t start, uint64_t end,
		 nfs_lock_type4 type)
{
	/* At most: every old range, one split more, the new one. */
	uint32_t cap = l->nranges + 2, n = 0;
	struct state_range *out;
	bool placed = (type == 0);

	mutex_assert_held(&l->file->lock);
	out = malloc(cap * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->nranges; i++) {
		struct state_range r = l->ranges[i];

		if (r.end <= start || r.start >= end) {
			if (!placed && r.start >= end) {
				out[n++] = (struct state_range){ start, end,
								 type };
				placed = true;
			}
			out[n++] = r;
			continue;
		}
		/* Overlap: keep the parts outside [start, end). */
		if (r.start < start)
			out[n++] = (struct state_range){ r.start, start,
							 r.type };
		if (!placed) {
			out[n++] = (struct state_range){ start, end, type };
			placed = true;
		}
		if (r.end > end)
			out[n++] = (struct state_range){ end, r.end, r.type };
	}
	if (!placed)
		out[n++] = (struct state_range){ start, end, type };
	/* Merge touching ranges of one type (the list is sorted). */
	uint32_t m = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (m && out[m - 1].type == out[i].type &&
		    out[m - 1].end == out[i].start)
			out[m - 1].end = out[i].end;
		else
			out[m++] = out[i];
	}
	free(l->ranges);
	l->ranges = out;
	l->nranges = m;
	l->cap = cap;
	return 0;
}

/*
 * The lock stateid of owner ow on fp, or NULL.  Requires: fp->lock.
 */
static struct state_stid *
lock_of_owner_locked(struct state_file *fp, const struct state_owner *ow)
{
	struct state_list *pos;

	state_list_for_each(pos, &fp->locks) {
		struct state_stid *l = container_of(pos, struct state_stid,
						    file_link);

		if (l->owner == ow)
			return l;
	}
	return NULL;
}

/*
 * See state.h (RFC 8881 §18.10.3, §18.10.4).  Takes the client's cstate
 * lock and the file's lock.
 */
nfsstat4
state_lock(struct state_client *clp, uint64_t ino, const LOCK4args *args,
	   stateid4 *out, LOCK4denied *denied)
{
	struct state_server *srv = clp->srv;
	const stateid4 *sid;
	struct state_stid *st, *l = NULL, *open;
	struct state_cstate *cst;
	struct state_owner *ow = NULL;
	struct state_file *fp;
	uint64_t start, end;
	nfs_lock_type4 type;
	nfsstat4 status;

	if (!locktype_ok(args->locktype))
		return NFS4ERR_INVAL;
	status = range_of(args->offset, args->length, &start, &end);
	if (status != NFS4_OK)
		return status;
	type = lock_kind(args->locktype);
	sid = args->locker.new_lock_owner ?
	      &args->locker.locker4_u.open_owner.open_stateid :
	      &args->locker.locker4_u.lock_owner.lock_stateid;
	st = state_stid_find(srv, sid);
	if (!st)
		return NFS4ERR_BAD_STATEID;
	cst = st->cst;
	fp = st->file;
	if (cst->clp != clp || fp->ino != ino ||
	    st->type != (args->locker.new_lock_owner ? STATE_STID_OPEN :
						       STATE_STID_LOCK)) {
		state_stid_put(srv, st);
		return NFS4ERR_BAD_STATEID;
	}
	state_cstate_lock(cst);
	if (args->locker.new_lock_owner) {
		const lock_owner4 *lo =
			&args->locker.locker4_u.open_owner.lock_owner;

		ow = state_owner_find(cst, STATE_OWNER_LOCK,
				      lo->owner.owner_val, lo->owner.owner_len,
				      true);
		if (!ow) {
			state_cstate_unlock(cst);
			state_stid_put(srv, st);
			return NFS4ERR_DELAY;
		}
	}
	state_file_lock(fp);
	if (st->dead) {
		status = NFS4ERR_BAD_STATEID;
		goto out;
	}
	status = state_stid_check_seqid(st, sid->seqid);
	if (status != NFS4_OK)
		goto out;
	open = args->locker.new_lock_owner ? st : st->open;
	/* §18.10.4: a write lock needs an open for writing. */
	if (type == WRITE_LT &&
	    !(open->access_bmap & ((1u << OPEN4_SHARE_ACCESS_WRITE) |
				   (1u << OPEN4_SHARE_ACCESS_BOTH)))) {
		status = NFS4ERR_OPENMODE;
		goto out;
	}
	if (args->locker.new_lock_owner) {
		/* An owner that already locks this file keeps its stateid. */
		l = lock_of_owner_locked(fp, ow);
	} else {
		l = st;
		ow = st->owner;
	}
	status = find_conflict_locked(fp, clp, ow->data, ow->len, type, start,
				      end, denied);
	if (status != NFS4_OK)
		goto out;
	if (!l) {
		l = state_stid_new(cst, fp, ow, STATE_STID_LOCK);
		if (!l) {
			status = NFS4ERR_DELAY;
			goto out;
		}
		l->open = open;
	} else {
		state_stid_bump(l);
	}
	if (set_range_locked(l, start, end, type) != 0) {
		status = NFS4ERR_DELAY;
		goto out;
	}
	state_stid_to_wire(srv, l, out);
out:
	state_file_unlock(fp);
	if (args->locker.new_lock_owner && ow)
		state_owner_release(cst, ow);	/* only if unused */
	state_cstate_unlock(cst);
	state_stid_put(srv, st);
	return status;
}

/*
 * See state.h (RFC 8881 §18.11.3).  The owner is named by the caller's
 * client (NFSv4.1 ignores the clientid field, §18.11.3) and its bytes.
 * Takes the file's lock.
 */
nfsstat4
state_lockt(struct state_client *clp, uint64_t ino, const LOCKT4args *args,
	    LOCK4denied *denied)
{
	struct state_server *srv = clp->srv;
	struct state_file *fp;
	uint64_t start, end;
	nfsstat4 status;

	if (!locktype_ok(args->locktype))
		return NFS4ERR_INVAL;
	status = range_of(args->offset, args->length, &start, &end);
	if (status != NFS4_OK)
		return status;
	if (state_file_find(srv, ino, false, &fp) != 0)
		return NFS4_OK;
	state_file_lock(fp);
	status = find_conflict_locked(fp, clp, args->owner.owner.owner_val,
				      args->owner.owner.owner_len,
				      lock_kind(args->locktype), start, end,
				      denied);
	state_file_unlock(fp);
	state_file_put(srv, fp);
	return status;
}

/*
 * See state.h (RFC 8881 §18.12.3).  Takes the cstate and file locks.
 */
nfsstat4
state_locku(struct state_client *clp, uint64_t ino, const LOCKU4args *args,
	    stateid4 *out)
{
	struct state_server *srv = clp->srv;
	struct state_stid *l;
	uint64_t start, end;
	nfsstat4 status;

	if (!locktype_ok(args->locktype))
		return NFS4ERR_INVAL;
	status = range_of(args->offset, args->length, &start, &end);
	if (status != NFS4_OK)
		return status;
	l = state_stid_find(srv, &args->lock_stateid);
	if (!l)
		return NFS4ERR_BAD_STATEID;
	if (l->cst->clp != clp || l->type != STATE_STID_LOCK ||
	    l->file->ino != ino) {
		state_stid_put(srv, l);
		return NFS4ERR_BAD_STATEID;
	}
	state_cstate_lock(l->cst);
	state_file_lock(l->file);
	if (l->dead)
		status = NFS4ERR_BAD_STATEID;
	else
		status = state_stid_check_seqid(l, args->lock_stateid.seqid);
	if (status == NFS4_OK) {
		if (set_range_locked(l, start, end, 0) != 0) {
			status = NFS4ERR_DELAY;
		} else {
			state_stid_bump(l);
			state_stid_to_wire(srv, l, out);
		}
	}
	state_file_unlock(l->file);
	state_cstate_unlock(l->cst);
	state_stid_put(srv, l);
	return status;
}
