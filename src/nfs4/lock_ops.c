/*
 * lock_ops.c - byte-range locks (RFC 8881 §18.10-18.12).
 *
 * Not implemented yet: every handler answers NFS4ERR_NOTSUPP through
 * nfs4_op_notsupp().
 */
#include "config.h"

#include "fileops.h"

nfsstat4
nfs4_op_lock(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_lockt(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_locku(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}
