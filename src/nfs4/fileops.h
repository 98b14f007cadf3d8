/*
 * fileops.h - private to src/nfs4: the file-service op handlers, one
 * file per op family.  Each has the nfs4_op_fn signature of nfs4.h: it
 * touches no XDR stream, fills res and returns the op status.
 *
 * Locking: handlers are entered with no locks held and return with none.
 * Ownership: see each family file.
 */
#ifndef PMEMNFS_NFS4_FILEOPS_H
#define PMEMNFS_NFS4_FILEOPS_H

#include "nfs4_int.h"

/* fh_ops.c: namespace: filehandles, exports, lookup, secinfo (RFC 8881 §18.13-18.14, §18.19-18.21, §18.29, §18.45) */
nfsstat4 nfs4_op_putfh(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_putpubfh(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_putrootfh(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_lookup(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_lookupp(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_secinfo(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_secinfo_no_name(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
/* Frees a SECINFO / SECINFO_NO_NAME flavour array after encoding. */
void nfs4_release_secinfo(nfs_resop4 *res);

/* attr_ops.c: attributes and access (RFC 8881 §18.1, §18.7, §18.15, §18.30, §18.31) */
nfsstat4 nfs4_op_access(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_getattr(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_setattr(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_verify(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_nverify(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
/* Free GETATTR's fattr4 / SETATTR's attrsset after encoding. */
void nfs4_release_getattr(nfs_resop4 *res);
void nfs4_release_setattr(nfs_resop4 *res);

/* dir_ops.c: directory changes and reads (RFC 8881 §18.4, §18.9, §18.17, §18.23-18.26) */
nfsstat4 nfs4_op_create(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_link(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_remove(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_rename(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_readdir(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_readlink(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_openattr(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
/* Free CREATE's attrset / READDIR's entries / READLINK's text after encoding. */
void nfs4_release_create(nfs_resop4 *res);
void nfs4_release_readdir(nfs_resop4 *res);
void nfs4_release_readlink(nfs_resop4 *res);

/* open_ops.c: opens, stateids and delegations (RFC 8881 §18.2, §18.5-18.6, §18.16, §18.18, §18.38-18.39, §18.48-18.49) */
nfsstat4 nfs4_op_open(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_close(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_open_downgrade(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_free_stateid(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_test_stateid(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_delegreturn(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_delegpurge(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_want_delegation(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_get_dir_delegation(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
/* Free OPEN's attrset / TEST_STATEID's status codes after encoding. */
void nfs4_release_open(nfs_resop4 *res);
void nfs4_release_test_stateid(nfs_resop4 *res);
/*
 * The inode number of the current filehandle for an op that keeps state
 * on a regular file (CLOSE, OPEN_DOWNGRADE, DELEGRETURN, WANT_DELEGATION,
 * LOCK, LOCKT, LOCKU): NFS4ERR_ISDIR for a directory (pseudo-filesystem
 * nodes included), NFS4ERR_SYMLINK for a link, NFS4ERR_WRONG_TYPE for
 * anything else (RFC 8881 §18.2.4, §18.10.4); the handle and export
 * errors of nfs4_cur_inode(); NFS4ERR_NOTSUPP without an engine.  No
 * locks held on entry or return; no reference kept.
 */
nfsstat4 nfs4_cur_regular_fileid(struct nfs4_compound *cs,
				 uint64_t *ino) MUST_CHECK;

/* lock_ops.c: byte-range locks (RFC 8881 §18.10-18.12) */
nfsstat4 nfs4_op_lock(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_lockt(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_locku(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);

/* io_ops.c: file data: read, write, commit and the NFSv4.2 map operations (RFC 8881 §18.3, §18.22, §18.32; RFC 7862 §15) */
nfsstat4 nfs4_op_read(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_write(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_commit(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_read_plus(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_seek(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_allocate(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_deallocate(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_clone(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_copy(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_copy_notify(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_offload_cancel(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_offload_status(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_io_advise(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_write_same(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
/* Free a READ / READ_PLUS result's data after encoding (op table release). */
void nfs4_release_read(nfs_resop4 *res);
void nfs4_release_read_plus(nfs_resop4 *res);

/* xattr_ops.c: extended attributes (RFC 8276 §8) */
nfsstat4 nfs4_op_getxattr(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_setxattr(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_listxattrs(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
nfsstat4 nfs4_op_removexattr(struct nfs4_compound *cs, nfs_argop4 *arg,
		nfs_resop4 *res);
/* Free a GETXATTR value / LISTXATTRS names after encoding. */
void nfs4_release_getxattr(nfs_resop4 *res);
void nfs4_release_listxattrs(nfs_resop4 *res);

#endif
