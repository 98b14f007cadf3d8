/*
 * io_ops.c - file data: read, write, commit and the NFSv4.2 map operations (RFC 8881 §18.3, §18.22, §18.32; RFC 7862 §15).
 *
 * Not implemented yet: every handler answers NFS4ERR_NOTSUPP through
 * nfs4_op_notsupp().
 */
#include "config.h"

#include "fileops.h"

nfsstat4
nfs4_op_read(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_write(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_commit(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_read_plus(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_seek(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_allocate(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_deallocate(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_clone(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_copy(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_copy_notify(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_offload_cancel(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_offload_status(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_io_advise(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

nfsstat4
nfs4_op_write_same(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}
