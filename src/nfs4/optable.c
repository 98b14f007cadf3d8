/*
 * optable.c - the one table that drives the COMPOUND loop: for every
 * operation number its handler, flags, first minor version and result-size
 * bound.  The loop never tests an op number itself (knfsd's nfsd4_ops[] is
 * the model).  File-service ops point at nfs4_op_notsupp until their
 * handlers land; filling one in is a one-line change here.
 *
 * res_max is resop + status + the largest body the op can encode, in
 * bytes, or 0 when it depends on data (then the COMPOUND loop measures the
 * encoded result after the op ran).
 */
#include "config.h"

#include "nfs4_int.h"

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

/* An op with a handler. */
#define OP(num, fn, fl, minor, max) \
	[OP_##num] = { .name = #num, .process = (fn), .flags = (fl), \
		       .min_minor = (minor), .res_max = (max) }
/* An op whose handler is still to come: NFS4ERR_NOTSUPP. */
#define TODO(num, fl, minor, max) OP(num, nfs4_op_notsupp, fl, minor, max)

static const struct nfs4_op_desc nfs4_ops[] = {
	/* NFSv4.0 operations (RFC 8881 §18.1-18.32) */
	TODO(ACCESS,		FH,		1, 16),
	TODO(CLOSE,		FH | MOD,	1, 24),
	TODO(COMMIT,		FH | MOD,	1, 16),
	TODO(CREATE,		FH | MOD,	1, 0),
	TODO(DELEGPURGE,	MOD,		1, 8),
	TODO(DELEGRETURN,	FH | MOD,	1, 8),
	TODO(GETATTR,		FH,		1, 0),
	[OP_GETFH] = { .name = "GETFH", .process = nfs4_op_getfh,
		       .release = nfs4_release_getfh, .flags = FH,
		       .min_minor = 1, .res_max = 12 + NFS4_FHSIZE },
	TODO(LINK,		FH | MOD | BLK,	1, 28),
	TODO(LOCK,		FH | MOD,	1, 0),
	TODO(LOCKT,		FH,		1, 0),
	TODO(LOCKU,		FH | MOD,	1, 24),
	TODO(LOOKUP,		FH,		1, 8),
	TODO(LOOKUPP,		FH,		1, 8),
	TODO(NVERIFY,		FH,		1, 8),
	TODO(OPEN,		FH | MOD | BLK,	1, 0),
	TODO(OPENATTR,		FH,		1, 8),
	TODO(OPEN_CONFIRM,	V40,		1, 24),
	TODO(OPEN_DOWNGRADE,	FH | MOD,	1, 24),
	TODO(PUTFH,		0,		1, 8),
	TODO(PUTPUBFH,		0,		1, 8),
	TODO(PUTROOTFH,		0,		1, 8),
	TODO(READ,		FH,		1, 0),
	TODO(READDIR,		FH,		1, 0),
	TODO(READLINK,		FH,		1, 0),
	TODO(REMOVE,		FH | MOD | BLK,	1, 28),
	TODO(RENAME,		FH | MOD | BLK,	1, 48),
	TODO(RENEW,		V40,		1, 8),
	OP(RESTOREFH,		nfs4_op_restorefh, 0,		1, 8),
	OP(SAVEFH,		nfs4_op_savefh,	FH,		1, 8),
	TODO(SECINFO,		FH,		1, 0),
	TODO(SETATTR,		FH | MOD | BLK,	1, 0),
	TODO(SETCLIENTID,	V40,		1, 0),
	TODO(SETCLIENTID_CONFIRM, V40,		1, 8),
	TODO(VERIFY,		FH,		1, 8),
	TODO(WRITE,		FH | MOD | BLK,	1, 24),
	TODO(RELEASE_LOCKOWNER,	V40,		1, 8),

	/* NFSv4.1 operations (RFC 8881 §18.33-18.51) */
	OP(BACKCHANNEL_CTL,	nfs4_op_backchannel_ctl, MOD,	1, 8),
	OP(BIND_CONN_TO_SESSION, nfs4_op_bind_conn_to_session,
				NOSES | SOLO | MOD,		1, 32),
	OP(EXCHANGE_ID,		nfs4_op_exchange_id, NOSES | MOD, 1,
	   NFS4_EXCHANGE_ID_RES_MAX),
	OP(CREATE_SESSION,	nfs4_op_create_session, NOSES | MOD, 1, 88),
	OP(DESTROY_SESSION,	nfs4_op_destroy_session, NOSES | MOD, 1, 8),
	TODO(FREE_STATEID,	MOD,		1, 8),
	TODO(GET_DIR_DELEGATION, FH | MOD,	1, 0),
	TODO(GETDEVICEINFO,	0,		1, 0),
	TODO(GETDEVICELIST,	FH,		1, 0),
	TODO(LAYOUTCOMMIT,	FH | MOD,	1, 20),
	TODO(LAYOUTGET,		FH | MOD | BLK,	1, 0),
	TODO(LAYOUTRETURN,	FH | MOD,	1, 28),
	TODO(SECINFO_NO_NAME,	FH,		1, 0),
	OP(SEQUENCE,		nfs4_op_sequence, MOD,		1, 44),
	TODO(SET_SSV,		MOD,		1, 0),
	TODO(TEST_STATEID,	0,		1, 0),
	TODO(WANT_DELEGATION,	FH | MOD,	1, 0),
	OP(DESTROY_CLIENTID,	nfs4_op_destroy_clientid, NOSES | MOD, 1, 8),
	OP(RECLAIM_COMPLETE,	nfs4_op_reclaim_complete, MOD,	1, 8),

	/* NFSv4.2 operations (RFC 7862 §15) */
	TODO(ALLOCATE,		FH | MOD | BLK,	2, 8),
	TODO(COPY,		FH | MOD | BLK,	2, 0),
	TODO(COPY_NOTIFY,	FH | MOD,	2, 0),
	TODO(DEALLOCATE,	FH | MOD | BLK,	2, 8),
	TODO(IO_ADVISE,		FH,		2, 0),
	TODO(LAYOUTERROR,	FH,		2, 8),
	TODO(LAYOUTSTATS,	FH,		2, 8),
	TODO(OFFLOAD_CANCEL,	FH | MOD,	2, 8),
	TODO(OFFLOAD_STATUS,	FH,		2, 0),
	TODO(READ_PLUS,		FH,		2, 0),
	TODO(SEEK,		FH,		2, 20),
	TODO(WRITE_SAME,	FH | MOD | BLK,	2, 0),
	TODO(CLONE,		FH | MOD | BLK,	2, 8),

	/* Extended attributes (RFC 8276 §8), an NFSv4.2 extension */
	TODO(GETXATTR,		FH,		2, 0),
	TODO(SETXATTR,		FH | MOD,	2, 28),
	TODO(LISTXATTRS,	FH,		2, 0),
	TODO(REMOVEXATTR,	FH | MOD,	2, 28),
};

/*
 * See nfs4.h.  The table is constant: no locks.
 */
const struct nfs4_op_desc *
nfs4_op_lookup(uint32_t opnum, uint32_t minor)
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
