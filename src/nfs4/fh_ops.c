/*
 * fh_ops.c - namespace: filehandles, exports, lookup, secinfo (RFC 8881
 * §18.13-18.14, §18.19-18.21, §18.29, §18.45).  The handle format, the
 * export set and the pseudo filesystem are fh.c's; these handlers only
 * walk them.
 *
 * Ownership: SECINFO results own a malloc'ed flavour array, freed by
 * nfs4_release_secinfo() after encoding.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "fsvc.h"
#include "common/exports.h"

/* RPCSEC_GSS (RFC 2203): never offered by SECINFO yet. */
#define FLAVOR_RPCSEC_GSS	6

/*
 * PUTFH (§18.19): validate now, so a malformed or stale handle fails here
 * (NFS4ERR_BADHANDLE / NFS4ERR_STALE), not on the op after it.  A handle
 * of an export whose flavours the caller does not use is accepted: the
 * next op that uses it answers NFS4ERR_WRONGSEC (§2.6.3.1.1.2), which
 * leaves SECINFO possible.
 */
nfsstat4
nfs4_op_putfh(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	const nfs_fh4 *fh = &arg->nfs_argop4_u.opputfh.object;
	nfsstat4 status;

	(void)res;
	status = nfs4_set_current_fh(cs, fh->nfs_fh4_val, fh->nfs_fh4_len);
	if (status != NFS4_OK)
		return status;
	status = nfs4_fh_check_cur(cs);
	if (status != NFS4_OK)
		cs->current_fh.len = 0;
	return status;
}

/* PUTROOTFH (§18.21): the root of the pseudo filesystem (or export "/"). */
nfsstat4
nfs4_op_putrootfh(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	(void)arg;
	(void)res;
	if (!nfs4_fs(cs))
		return NFS4ERR_SERVERFAULT;
	return nfs4_fh_set_root(cs);
}

/*
 * PUTPUBFH (§18.20): NFSv4.1 lets the public filehandle be the root
 * filehandle; ours is.
 */
nfsstat4
nfs4_op_putpubfh(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_putrootfh(cs, arg, res);
}

/*
 * The current filehandle must be a directory for LOOKUP/LOOKUPP/SECINFO:
 * NFS4ERR_SYMLINK for a symbolic link, NFS4ERR_NOTDIR otherwise
 * (§18.13.4, §18.14.4).  On NFS4_OK *dirp is a reference (NULL for a
 * pseudo directory).
 */
static nfsstat4
cur_dir(struct nfs4_compound *cs, struct fs_inode **dirp)
{
	struct fs_inode *dir;
	struct fs_attr a;
	nfsstat4 status;
	int err;

	*dirp = NULL;
	status = nfs4_fh_check_cur(cs);
	if (status != NFS4_OK)
		return status;
	if (nfs4_cur_is_pseudo(cs))
		return NFS4_OK;
	status = nfs4_cur_inode(cs, &dir);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(nfs4_fs(cs), dir, &a);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	if (a.type == FS_TYPE_LNK) {
		status = NFS4ERR_SYMLINK;
		goto out_put;
	}
	if (a.type != FS_TYPE_DIR) {
		status = NFS4ERR_NOTDIR;
		goto out_put;
	}
	*dirp = dir;
	return NFS4_OK;
out_put:
	fs_iput(nfs4_fs(cs), dir);
	return status;
}

/*
 * LOOKUP (§18.13): a name in the current directory becomes the current
 * filehandle; in the pseudo filesystem it leads towards the exports, and
 * an export's root inside another export crosses into it.
 */
nfsstat4
nfs4_op_lookup(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	char name[FS_NAME_MAX + 1];
	struct fs_inode *dir, *ip;
	nfsstat4 status;
	int err;

	(void)res;
	status = cur_dir(cs, &dir);
	if (status != NFS4_OK)
		return status;
	status = nfs4_check_name(&arg->nfs_argop4_u.oplookup.objname, name);
	if (status != NFS4_OK)
		goto out_put;
	if (!dir) {
		status = nfs4_fh_lookup_pseudo(cs, name);
		goto out_put;
	}
	status = nfs4_check_access(cs, dir, ACCESS4_LOOKUP);
	if (status != NFS4_OK)
		goto out_put;
	err = fs_lookup(nfs4_fs(cs), dir, name, &ip);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	status = nfs4_fh_enter(cs, ip);
	fs_iput(nfs4_fs(cs), ip);
out_put:
	if (dir)
		fs_iput(nfs4_fs(cs), dir);
	return status;
}

/*
 * LOOKUPP (§18.14): the parent directory; from an export's root into the
 * pseudo filesystem; NFS4ERR_NOENT at the root of it all.
 */
nfsstat4
nfs4_op_lookupp(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	struct fs_inode *dir, *ip;
	nfsstat4 status;
	bool handled;
	int err;

	(void)arg;
	(void)res;
	status = cur_dir(cs, &dir);
	if (status != NFS4_OK)
		return status;
	status = nfs4_fh_lookupp_special(cs, &handled);
	if (status != NFS4_OK || handled || !dir)
		goto out_put;
	err = fs_lookup(nfs4_fs(cs), dir, "..", &ip);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	status = nfs4_set_cur_inode(cs, ip);
	fs_iput(nfs4_fs(cs), ip);
out_put:
	if (dir)
		fs_iput(nfs4_fs(cs), dir);
	return status;
}

/* Fill a SECINFO result with the current export's flavours. */
static nfsstat4
secinfo_fill(struct nfs4_compound *cs, nfs_resop4 *res)
{
	SECINFO4resok *ok = &res->nfs_resop4_u.opsecinfo.SECINFO4res_u.resok4;
	uint32_t flavors[EXPORTS_MAX_FLAVORS];
	uint32_t n, k = 0;

	n = nfs4_cur_flavors(cs, flavors, EXPORTS_MAX_FLAVORS);
	ok->SECINFO4resok_val = calloc(n ? n : 1, sizeof(secinfo4));
	if (!ok->SECINFO4resok_val)
		return NFS4ERR_DELAY;
	for (uint32_t i = 0; i < n; i++) {
		/*
		 * RPCSEC_GSS needs an OID, QOP and service per entry; we
		 * serve no GSS yet (docs/fsvc.md), so it is not offered.
		 */
		if (flavors[i] == FLAVOR_RPCSEC_GSS)
			continue;
		ok->SECINFO4resok_val[k++].flavor = flavors[i];
	}
	ok->SECINFO4resok_len = k;
	return NFS4_OK;
}

/* Frees a SECINFO / SECINFO_NO_NAME result after encoding. */
void
nfs4_release_secinfo(nfs_resop4 *res)
{
	SECINFO4resok *ok = &res->nfs_resop4_u.opsecinfo.SECINFO4res_u.resok4;

	free(ok->SECINFO4resok_val);
	ok->SECINFO4resok_val = NULL;
	ok->SECINFO4resok_len = 0;
}

/*
 * SECINFO (§18.29): the flavours for the named object.  Success consumes
 * the current filehandle (§2.6.3.1.1.8): the next op that needs one gets
 * NFS4ERR_NOFILEHANDLE.
 */
nfsstat4
nfs4_op_secinfo(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	struct nfs4_fh dirfh = cs->current_fh;
	nfs_argop4 lk;
	nfsstat4 status;

	memset(&lk, 0, sizeof(lk));
	lk.argop = OP_LOOKUP;
	lk.nfs_argop4_u.oplookup.objname =
		arg->nfs_argop4_u.opsecinfo.name;
	status = nfs4_op_lookup(cs, &lk, res);
	if (status == NFS4ERR_WRONGSEC || status == NFS4ERR_ACCESS) {
		/* SECINFO is how a client learns the flavours: answer. */
		cs->current_fh = dirfh;
		status = NFS4_OK;
	}
	if (status != NFS4_OK) {
		cs->current_fh = dirfh;
		return status;
	}
	status = secinfo_fill(cs, res);
	cs->current_fh.len = 0;
	cs->have_current_stateid = false;
	return status;
}

/*
 * SECINFO_NO_NAME (§18.45): the flavours for the current filehandle or
 * its parent; consumes the current filehandle like SECINFO.
 */
nfsstat4
nfs4_op_secinfo_no_name(struct nfs4_compound *cs, nfs_argop4 *arg,
			nfs_resop4 *res)
{
	secinfo_style4 style = arg->nfs_argop4_u.opsecinfo_no_name;
	nfsstat4 status;

	status = nfs4_fh_check_cur(cs);
	if (status != NFS4_OK)
		return status;
	if (style == SECINFO_STYLE4_PARENT) {
		status = nfs4_op_lookupp(cs, arg, res);
		if (status != NFS4_OK)
			return status;
	} else if (style != SECINFO_STYLE4_CURRENT_FH) {
		return NFS4ERR_INVAL;
	}
	status = secinfo_fill(cs, res);
	cs->current_fh.len = 0;
	cs->have_current_stateid = false;
	return status;
}
