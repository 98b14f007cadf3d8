/*
 * lock_ops.c - byte-range locks (RFC 8881 §18.10-18.12).
 *
 * The handlers check the current filehandle (a regular file), resolve
 * the "current stateid", apply the grace rules (§8.4.2) and leave the
 * lock logic to src/state/lock.c.
 *
 * Ownership: a LOCK4denied's owner bytes live in a per-thread buffer:
 * NFS4ERR_DENIED ends the COMPOUND and its result is encoded by the same
 * worker before it runs another op, and error results have no release()
 * (nfs4.h), so they may not point at malloc'ed memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "fsvc.h"

/* Owner bytes of the last LOCK4denied this worker produced. */
static __thread char lock_denied_owner[NFS4_OPAQUE_LIMIT];

/*
 * What LOCK, LOCKT and LOCKU all start with, in the order of their
 * errors: the calling client (NFS4ERR_OP_NOT_IN_SESSION without a
 * session), then the current file, which must be a regular one
 * (nfs4_cur_regular_fileid(), §18.10.4).  No locks.
 */
static nfsstat4
lock_target(struct nfs4_compound *cs, struct state_client **clpp,
	    uint64_t *ino)
{
	*clpp = nfs4_in_session(cs) ? state_session_client(cs->seq.ses) :
				      NULL;
	if (!*clpp)
		return NFS4ERR_OP_NOT_IN_SESSION;
	return nfs4_cur_regular_fileid(cs, ino);
}

/* Move the state layer's LOCK4denied owner into the per-thread buffer. */
static void
lock_denied_keep(LOCK4denied *d)
{
	uint32_t len = d->owner.owner.owner_len;

	if (len > sizeof(lock_denied_owner))
		len = sizeof(lock_denied_owner);
	if (len)
		memcpy(lock_denied_owner, d->owner.owner.owner_val, len);
	state_lock_denied_free(d);
	d->owner.owner.owner_val = lock_denied_owner;
	d->owner.owner.owner_len = len;
}

/*
 * LOCK (RFC 8881 §18.10): reclaims only in grace (NFS4ERR_NO_GRACE
 * otherwise), new locks not in grace (NFS4ERR_GRACE); conflicts are
 * NFS4ERR_DENIED with the holder's range, type and owner.
 */
nfsstat4
nfs4_op_lock(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	LOCK4args args = arg->nfs_argop4_u.oplock;
	LOCK4res *r = &res->nfs_resop4_u.oplock;
	struct state_client *clp;
	stateid4 *sidp;
	nfsstat4 status;
	uint64_t ino;

	status = lock_target(cs, &clp, &ino);
	if (status != NFS4_OK)
		return status;
	sidp = args.locker.new_lock_owner ?
	       &args.locker.locker4_u.open_owner.open_stateid :
	       &args.locker.locker4_u.lock_owner.lock_stateid;
	status = nfs4_resolve_stateid(cs, sidp, sidp);
	if (status != NFS4_OK)
		return status;
	status = state_grace_check(clp, args.reclaim);
	if (status != NFS4_OK)
		return status;
	status = state_lock(clp, ino, &args, &r->LOCK4res_u.resok4.lock_stateid,
			    &r->LOCK4res_u.denied);
	if (status == NFS4ERR_DENIED)
		lock_denied_keep(&r->LOCK4res_u.denied);
	else if (status == NFS4_OK)
		nfs4_set_current_stateid(cs, &r->LOCK4res_u.resok4.lock_stateid);
	return status;
}

/* LOCKT (RFC 8881 §18.11): no state is created; grace does not apply. */
nfsstat4
nfs4_op_lockt(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	LOCKT4res *r = &res->nfs_resop4_u.oplockt;
	struct state_client *clp;
	nfsstat4 status;
	uint64_t ino;

	status = lock_target(cs, &clp, &ino);
	if (status != NFS4_OK)
		return status;
	status = state_lockt(clp, ino, &arg->nfs_argop4_u.oplockt,
			     &r->LOCKT4res_u.denied);
	if (status == NFS4ERR_DENIED)
		lock_denied_keep(&r->LOCKT4res_u.denied);
	return status;
}

/* LOCKU (RFC 8881 §18.12). */
nfsstat4
nfs4_op_locku(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	LOCKU4args args = arg->nfs_argop4_u.oplocku;
	stateid4 *out = &res->nfs_resop4_u.oplocku.LOCKU4res_u.lock_stateid;
	struct state_client *clp;
	nfsstat4 status;
	uint64_t ino;

	status = lock_target(cs, &clp, &ino);
	if (status != NFS4_OK)
		return status;
	status = nfs4_resolve_stateid(cs, &args.lock_stateid,
				      &args.lock_stateid);
	if (status != NFS4_OK)
		return status;
	status = state_locku(clp, ino, &args, out);
	if (status == NFS4_OK)
		nfs4_set_current_stateid(cs, out);
	return status;
}
