/*
 * dir_ops.c - directory changes and reads (RFC 8881 §18.4, §18.9, §18.17, §18.23-18.26).
 *
 * Not implemented yet: every handler answers NFS4ERR_NOTSUPP through
 * nfs4_op_notsupp().
 */
#include "config.h"

#include "fileops.h"

nfsstat4
nfs4_op_create(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_link(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_remove(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_rename(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_readdir(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_readlink(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_openattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}
