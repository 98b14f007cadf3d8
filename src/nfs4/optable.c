/*
 * optable.c - the one table that drives the COMPOUND loop: for every
 * operation number its handler, flags, first minor version and result-size
 * bound.  The loop never tests an op number itself (knfsd's nfsd4_ops[] is
 * the model).  File-service handlers live one file per op family
 * (fileops.h lists them); ops of features not built yet (pNFS, SSV,
 * NFSv4.0-only) point at nfs4_op_notsupp.
 *
 * res_max is resop + status + the largest body the op can encode, in
 * bytes, or 0 when it depends on data (then the COMPOUND loop measures the
 * encoded result after the op ran).
 */
#include "config.h"

#include "nfs4_int.h"
#include "fileops.h"

/*
 * EXCHANGE_ID4res at its largest: resop, status, clientid, sequenceid,
 * flags, spr_how, so_minor_id, so_major_id and scope (owner string of at
 * most 255 bytes each, padded), one impl id (domain, name, date).
 */
#define NFS4_EXCHANGE_ID_RES_MAX \
	(4 + 4 + 8 + 4 + 4 + 4 + 8 + 2 * (4 + 256) + 4 + \
	 (4 + ROUND_UP(sizeof(NFS4_IMPL_DOMAIN) - 1, 4)) + \
	 (4 + ROUND_UP(sizeof(NFS4_IMPL_NAME) - 1, 4)) + 12)

#define FH	NFS4_OPF_NEEDS_FH
#define MOD	NFS4_OPF_MODIFIES
#define BLK	NFS4_OPF_MAY_BLOCK
#define NOSES	NFS4_OPF_SESSIONLESS
#define SOLO	NFS4_OPF_SOLO
#define V40	NFS4_OPF_V40_ONLY
#define PUT	NFS4_OPF_PUTFH
#define SECN	NFS4_OPF_SECINFO_NEXT
#define INL	NFS4_OPF_INLINE

/* An op with a handler. */
#define OP(num, fn, fl, minor, max) \
	[OP_##num] = { .name = #num, .process = (fn), .flags = (fl), \
		       .min_minor = (minor), .res_max = (max) }
/* An op whose handler is still to come: NFS4ERR_NOTSUPP. */
#define TODO(num, fl, minor, max) OP(num, nfs4_op_notsupp, fl, minor, max)

static const struct nfs4_op_desc nfs4_ops[] = {
	/* NFSv4.0 operations (RFC 8881 §18.1-18.32) */
	OP(ACCESS, nfs4_op_access,		FH | INL,		1, 16),
	OP(CLOSE, nfs4_op_close,		FH | MOD,	1, 24),
	OP(COMMIT, nfs4_op_commit,		FH | MOD,	1, 16),
	[OP_CREATE] = { .name = "CREATE", .process = nfs4_op_create,
			.release = nfs4_release_create, .flags = FH | MOD,
			.min_minor = 1, .res_max = 0 },
	OP(DELEGPURGE, nfs4_op_delegpurge,	MOD,		1, 8),
	OP(DELEGRETURN, nfs4_op_delegreturn,	FH | MOD,	1, 8),
	/* BLK: CB_GETATTR to a write-delegation holder (bounded wait). */
	[OP_GETATTR] = { .name = "GETATTR", .process = nfs4_op_getattr,
			 .release = nfs4_release_getattr, .flags = FH | BLK | INL,
			 .min_minor = 1, .res_max = 0 },
	[OP_GETFH] = { .name = "GETFH", .process = nfs4_op_getfh,
		       .release = nfs4_release_getfh, .flags = FH | INL,
		       .min_minor = 1, .res_max = 12 + NFS4_FHSIZE },
	OP(LINK, nfs4_op_link,		FH | MOD | BLK,	1, 28),
	OP(LOCK, nfs4_op_lock,		FH | MOD,	1, 0),
	OP(LOCKT, nfs4_op_lockt,		FH,		1, 0),
	OP(LOCKU, nfs4_op_locku,		FH | MOD,	1, 24),
	OP(LOOKUP, nfs4_op_lookup,		FH | SECN | INL,	1, 8),
	OP(LOOKUPP, nfs4_op_lookupp,		FH | SECN | INL,	1, 8),
	OP(NVERIFY, nfs4_op_nverify,		FH | INL,		1, 8),
	[OP_OPEN] = { .name = "OPEN", .process = nfs4_op_open,
		      .release = nfs4_release_open,
		      .flags = FH | MOD | BLK, .min_minor = 1, .res_max = 0 },
	OP(OPENATTR, nfs4_op_openattr,		FH,		1, 8),
	TODO(OPEN_CONFIRM,	V40,		1, 24),
	OP(OPEN_DOWNGRADE, nfs4_op_open_downgrade,	FH | MOD,	1, 24),
	OP(PUTFH, nfs4_op_putfh,		PUT | INL,		1, 8),
	OP(PUTPUBFH, nfs4_op_putpubfh,		PUT | INL,		1, 8),
	OP(PUTROOTFH, nfs4_op_putrootfh,		PUT | INL,		1, 8),
	[OP_READ] = { .name = "READ", .process = nfs4_op_read,
		      .release = nfs4_release_read,
		      .encode = nfs4_encode_read, .flags = FH | INL,
		      .min_minor = 1, .res_max = 0 },
	[OP_READDIR] = { .name = "READDIR", .process = nfs4_op_readdir,
			 .release = nfs4_release_readdir, .flags = FH,
			 .min_minor = 1, .res_max = 0 },
	[OP_READLINK] = { .name = "READLINK", .process = nfs4_op_readlink,
			  .release = nfs4_release_readlink, .flags = FH | INL,
			  .min_minor = 1, .res_max = 0 },
	OP(REMOVE, nfs4_op_remove,		FH | MOD | BLK,	1, 28),
	OP(RENAME, nfs4_op_rename,		FH | MOD | BLK,	1, 48),
	TODO(RENEW,		V40,		1, 8),
	OP(RESTOREFH,		nfs4_op_restorefh, PUT | INL,		1, 8),
	OP(SAVEFH,		nfs4_op_savefh,	FH | INL,		1, 8),
	[OP_SECINFO] = { .name = "SECINFO", .process = nfs4_op_secinfo,
			 .release = nfs4_release_secinfo,
			 .flags = FH | SECN, .min_minor = 1, .res_max = 0 },
	/* SETATTR4res: status and an attrsset of at most 3 words. */
	[OP_SETATTR] = { .name = "SETATTR", .process = nfs4_op_setattr,
			 .release = nfs4_release_setattr,
			 .flags = FH | MOD | BLK, .min_minor = 1,
			 .res_max = 8 + 4 + 3 * 4 },
	TODO(SETCLIENTID,	V40,		1, 0),
	TODO(SETCLIENTID_CONFIRM, V40,		1, 8),
	OP(VERIFY, nfs4_op_verify,		FH | INL,		1, 8),
	OP(WRITE, nfs4_op_write,		FH | MOD | BLK,	1, 24),
	TODO(RELEASE_LOCKOWNER,	V40,		1, 8),

	/* NFSv4.1 operations (RFC 8881 §18.33-18.51) */
	OP(BACKCHANNEL_CTL,	nfs4_op_backchannel_ctl, MOD,	1, 8),
	OP(BIND_CONN_TO_SESSION, nfs4_op_bind_conn_to_session,
				NOSES | SOLO | MOD,		1, 32),
	OP(EXCHANGE_ID,		nfs4_op_exchange_id, NOSES | MOD, 1,
	   NFS4_EXCHANGE_ID_RES_MAX),
	OP(CREATE_SESSION,	nfs4_op_create_session, NOSES | MOD, 1, 88),
	OP(DESTROY_SESSION,	nfs4_op_destroy_session, NOSES | MOD, 1, 8),
	OP(FREE_STATEID, nfs4_op_free_stateid,	MOD,		1, 8),
	OP(GET_DIR_DELEGATION, nfs4_op_get_dir_delegation, FH | MOD,	1, 0),
	TODO(GETDEVICEINFO,	0,		1, 0),
	TODO(GETDEVICELIST,	FH,		1, 0),
	TODO(LAYOUTCOMMIT,	FH | MOD,	1, 20),
	TODO(LAYOUTGET,		FH | MOD | BLK,	1, 0),
	TODO(LAYOUTRETURN,	FH | MOD,	1, 28),
	[OP_SECINFO_NO_NAME] = { .name = "SECINFO_NO_NAME",
				 .process = nfs4_op_secinfo_no_name,
				 .release = nfs4_release_secinfo,
				 .flags = FH | SECN, .min_minor = 1,
				 .res_max = 0 },
	OP(SEQUENCE,		nfs4_op_sequence, MOD | INL,		1, 44),
	TODO(SET_SSV,		MOD,		1, 0),
	[OP_TEST_STATEID] = { .name = "TEST_STATEID",
			      .process = nfs4_op_test_stateid,
			      .release = nfs4_release_test_stateid,
			      .flags = 0, .min_minor = 1, .res_max = 0 },
	OP(WANT_DELEGATION, nfs4_op_want_delegation,	FH | MOD,	1, 0),
	OP(DESTROY_CLIENTID,	nfs4_op_destroy_clientid, NOSES | MOD, 1, 8),
	OP(RECLAIM_COMPLETE,	nfs4_op_reclaim_complete, MOD,	1, 8),

	/* NFSv4.2 operations (RFC 7862 §15) */
	OP(ALLOCATE, nfs4_op_allocate,		FH | MOD | BLK,	2, 8),
	/* COPY4resok: status, empty callback id, count, committed, verf, reqs */
	OP(COPY, nfs4_op_copy,		FH | MOD | BLK,	2, 40),
	OP(COPY_NOTIFY, nfs4_op_copy_notify,	FH | MOD,	2, 0),
	OP(DEALLOCATE, nfs4_op_deallocate,	FH | MOD | BLK,	2, 8),
	OP(IO_ADVISE, nfs4_op_io_advise,		FH,		2, 0),
	TODO(LAYOUTERROR,	FH,		2, 8),
	TODO(LAYOUTSTATS,	FH,		2, 8),
	OP(OFFLOAD_CANCEL, nfs4_op_offload_cancel,	FH | MOD,	2, 8),
	OP(OFFLOAD_STATUS, nfs4_op_offload_status,	FH,		2, 0),
	[OP_READ_PLUS] = { .name = "READ_PLUS", .process = nfs4_op_read_plus,
			   .release = nfs4_release_read_plus, .flags = FH,
			   .min_minor = 2, .res_max = 0 },
	OP(SEEK, nfs4_op_seek,		FH | INL,		2, 20),
	OP(WRITE_SAME, nfs4_op_write_same,	FH | MOD | BLK,	2, 0),
	OP(CLONE, nfs4_op_clone,		FH | MOD | BLK,	2, 8),

	/* Extended attributes (RFC 8276 §8), an NFSv4.2 extension */
	[OP_GETXATTR] = { .name = "GETXATTR", .process = nfs4_op_getxattr,
			  .release = nfs4_release_getxattr, .flags = FH,
			  .min_minor = 2, .res_max = 0 },
	OP(SETXATTR, nfs4_op_setxattr,		FH | MOD,	2, 28),
	[OP_LISTXATTRS] = { .name = "LISTXATTRS",
			    .process = nfs4_op_listxattrs,
			    .release = nfs4_release_listxattrs, .flags = FH,
			    .min_minor = 2, .res_max = 0 },
	OP(REMOVEXATTR, nfs4_op_removexattr,	FH | MOD,	2, 28),
};

/*
 * See nfs4.h.  The table is constant: no locks.
 */
const struct nfs4_op_desc *
nfs4_optable_get(uint32_t opnum, uint32_t minor)
{
	const struct nfs4_op_desc *d;

	if (opnum >= ARRAY_SIZE(nfs4_ops))
		return NULL;
	d = &nfs4_ops[opnum];
	/* Holes (op numbers 0-2) and ops of a later minor version. */
	if (!d->process || minor < d->min_minor)
		return NULL;
	return d;
}

/*
 * See nfs4.h: the handler of every op still to be written.
 */
nfsstat4
nfs4_op_notsupp(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	(void)cs;
	(void)arg;
	(void)res;
	return NFS4ERR_NOTSUPP;
}
