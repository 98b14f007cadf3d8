/*
 * cstate.c - the compound's current and saved filehandle and stateid
 * (RFC 8881 §16.2.3.1.1, §16.2.3.1.2) and the ops that only move them:
 * GETFH, SAVEFH, RESTOREFH.  Ops that produce filehandles (PUTFH,
 * PUTROOTFH, LOOKUP, ...) need the file system and come with it; they set
 * the current filehandle through nfs4_set_current_fh().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nfs4_int.h"

/* §8.2.3: seqid 1 with "other" all zero means "the current stateid". */
#define NFS4_CURRENT_STATEID_SEQID	1u

static bool
other_is(const stateid4 *sid, uint8_t byte)
{
	for (unsigned int i = 0; i < NFS4_OTHER_SIZE; i++)
		if ((uint8_t)sid->other[i] != byte)
			return false;
	return true;
}

/*
 * See nfs4.h.  The current stateid goes with the filehandle it was set for:
 * a new current filehandle leaves no current stateid (§16.2.3.1.2).
 */
nfsstat4
nfs4_set_current_fh(struct nfs4_compound *cs, const void *fh, uint32_t len)
{
	if (len == 0 || len > NFS4_FHSIZE)
		return NFS4ERR_BADHANDLE;
	memcpy(cs->current_fh.data, fh, len);
	cs->current_fh.len = len;
	cs->current_fh.checked = false;
	cs->have_current_stateid = false;
	return NFS4_OK;
}

/* See nfs4.h. */
void
nfs4_set_current_stateid(struct nfs4_compound *cs, const stateid4 *sid)
{
	cs->current_stateid = *sid;
	cs->have_current_stateid = true;
}

/*
 * See nfs4.h (RFC 8881 §8.2.3, §16.2.3.1.2).  Other special stateids
 * (anonymous, read bypass) pass through: what they allow is the op's
 * business.
 */
nfsstat4
nfs4_resolve_stateid(const struct nfs4_compound *cs, const stateid4 *in,
		     stateid4 *out)
{
	if (in->seqid == NFS4_CURRENT_STATEID_SEQID && other_is(in, 0)) {
		if (!cs->have_current_stateid)
			return NFS4ERR_BAD_STATEID;
		*out = cs->current_stateid;
		return NFS4_OK;
	}
	/* The "invalid" special stateid: never valid. */
	if (in->seqid == NFS4_UINT32_MAX && other_is(in, 0))
		return NFS4ERR_BAD_STATEID;
	*out = *in;
	return NFS4_OK;
}

/* GETFH (§18.8): the result owns a copy (later ops may change the fh). */
nfsstat4
nfs4_op_getfh(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	nfs_fh4 *obj = &res->nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;

	(void)arg;
	obj->nfs_fh4_val = malloc(cs->current_fh.len);
	if (!obj->nfs_fh4_val)
		return NFS4ERR_SERVERFAULT;
	memcpy(obj->nfs_fh4_val, cs->current_fh.data, cs->current_fh.len);
	obj->nfs_fh4_len = cs->current_fh.len;
	return NFS4_OK;
}

/* Frees GETFH's copy after encoding. */
void
nfs4_release_getfh(nfs_resop4 *res)
{
	nfs_fh4 *obj = &res->nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;

	free(obj->nfs_fh4_val);
	obj->nfs_fh4_val = NULL;
	obj->nfs_fh4_len = 0;
}

/* SAVEFH (§18.31): the stateid is saved with the filehandle. */
nfsstat4
nfs4_op_savefh(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	(void)arg;
	(void)res;
	cs->saved_fh = cs->current_fh;
	cs->saved_stateid = cs->current_stateid;
	cs->have_saved_stateid = cs->have_current_stateid;
	return NFS4_OK;
}

/* RESTOREFH (§18.27): NFS4ERR_RESTOREFH when nothing was saved. */
nfsstat4
nfs4_op_restorefh(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	(void)arg;
	(void)res;
	if (cs->saved_fh.len == 0)
		return NFS4ERR_RESTOREFH;
	cs->current_fh = cs->saved_fh;
	cs->current_stateid = cs->saved_stateid;
	cs->have_current_stateid = cs->have_saved_stateid;
	return NFS4_OK;
}
