/*
 * open_ops.c - opens, stateids and delegations (RFC 8881 §18.2, §18.5-18.6, §18.16, §18.18, §18.38-18.39, §18.48-18.49).
 *
 * Not implemented yet: every handler answers NFS4ERR_NOTSUPP through
 * nfs4_op_notsupp().
 */
#include "config.h"

#include "fileops.h"

nfsstat4
nfs4_op_open(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_close(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_open_downgrade(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_free_stateid(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_test_stateid(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_delegreturn(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_delegpurge(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_want_delegation(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_get_dir_delegation(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}
