/*
 * xattr_ops.c - extended attributes (RFC 8276 §8).
 *
 * Not implemented yet: every handler answers NFS4ERR_NOTSUPP through
 * nfs4_op_notsupp().
 */
#include "config.h"

#include "fileops.h"

nfsstat4
nfs4_op_getxattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_setxattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_listxattrs(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_removexattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}
