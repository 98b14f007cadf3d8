/*
 * open_ops.c - opens, stateids and delegations (RFC 8881 §18.2, §18.5-18.6,
 * §18.16, §18.18, §18.38-18.39, §18.48-18.49).
 *
 * The handlers decode what the client asked, do the namespace part
 * through the engine (lookup, create, truncate) and the state part
 * through include/state.h (share reservations, stateids, grace).  The
 * exclusive-create verifier (EXCLUSIVE4, EXCLUSIVE4_1) is stored in the
 * new file's atime and mtime seconds (4 bytes each), as RFC 8881
 * §18.16.4 suggests; OPEN says so in attrset, and those two attributes
 * are therefore not settable in EXCLUSIVE4_1's createattrs.
 *
 * Delegations: OPEN grants read and write delegations when the client
 * asks with the OPEN4_SHARE_ACCESS_WANT_* bits and the state layer finds
 * it safe (src/state/deleg.c), and recalls conflicting ones of other
 * clients; DELEGRETURN gives one back.  WANT_DELEGATION and
 * GET_DIR_DELEGATION decline as §18.49.3 and §18.39.3 allow; DELEGPURGE
 * is NFS4ERR_NOTSUPP (no delegations survive a client restart).
 *
 * Ownership: OPEN's attrset words are malloc'ed (nfs4_release_open frees
 * them), TEST_STATEID's status array likewise (nfs4_release_test_stateid).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "fsvc.h"

/* fattr4 numbers of the attributes holding the exclusive-create verifier. */
#define OPEN_VERF_ATTR_ATIME	FATTR4_TIME_ACCESS
#define OPEN_VERF_ATTR_MTIME	FATTR4_TIME_MODIFY
/*
 * How long OPEN waits for a recalled delegation before it answers
 * NFS4ERR_DELAY: a client that answers CB_RECALL returns the delegation
 * well within this; one that does not holds one worker no longer.
 */
#define OPEN_RECALL_WAIT_NS	(1 * NSEC_PER_SEC)
/* Mode of a created file whose createattrs carry none (POSIX-ish 0644). */
#define OPEN_DEFAULT_MODE	0644
/*
 * RFC 9754 §4 adds two wishes to share_access (not in our .x, which follows
 * RFC 8881).  Wishes are hints (RFC 8881 §18.16.3): we accept and ignore
 * these, as open_arguments says we do not offer them, rather than failing
 * an OPEN with NFS4ERR_INVAL.
 */
#define OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS	0x100000
#define OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION	0x200000
/* The share_access bits that are not the access itself (§18.16.3). */
#define OPEN_WANT_BITS		(OPEN4_SHARE_ACCESS_WANT_DELEG_MASK | \
				 OPEN4_SHARE_ACCESS_WANT_SIGNAL_DELEG_WHEN_RESRC_AVAIL | \
				 OPEN4_SHARE_ACCESS_WANT_PUSH_DELEG_WHEN_UNCONTENDED | \
				 OPEN4_SHARE_ACCESS_WANT_DELEG_TIMESTAMPS | \
				 OPEN4_SHARE_ACCESS_WANT_OPEN_XOR_DELEGATION)

/* The COMPOUND's client (its SEQUENCE's session), or NULL. */
static struct state_client *
open_client(struct nfs4_compound *cs)
{
	return nfs4_in_session(cs) ? state_session_client(cs->seq.ses) : NULL;
}

static void
bitmap_set(bitmap4 *b, uint32_t bit, uint32_t *words, uint32_t nwords)
{
	uint32_t w = bit / 32;

	if (w >= nwords)
		return;
	if (b->bitmap4_len <= w)
		b->bitmap4_len = w + 1;
	words[w] |= 1u << (bit % 32);
}

/* Verifier <-> the two timestamps that keep it. */
static void
verf_to_times(const verifier4 v, struct fs_setattr *sa)
{
	uint32_t a, m;

	memcpy(&a, v, sizeof(a));
	memcpy(&m, v + sizeof(a), sizeof(m));
	sa->mask |= FS_SET_ATIME | FS_SET_MTIME;
	sa->mask &= ~(unsigned)(FS_SET_ATIME_NOW | FS_SET_MTIME_NOW);
	sa->atime.sec = a;
	sa->atime.nsec = 0;
	sa->mtime.sec = m;
	sa->mtime.nsec = 0;
}

static bool
verf_matches(const verifier4 v, const struct fs_attr *a)
{
	uint32_t at, mt;

	memcpy(&at, v, sizeof(at));
	memcpy(&mt, v + sizeof(at), sizeof(mt));
	return a->atime.sec == (int64_t)at && a->mtime.sec == (int64_t)mt &&
	       a->atime.nsec == 0 && a->mtime.nsec == 0;
}

/* What one OPEN decided on the way (the handler's working state). */
struct open_ctx {
	struct nfs4_compound *cs;
	const OPEN4args *args;
	OPEN4resok	*ok;
	struct fs	*fs;
	struct state_client *clp;
	uint32_t	access;		/* share_access without want bits */
	uint32_t	want;
	struct fs_inode	*dir;		/* CLAIM_NULL: reference */
	struct fs_inode	*ip;		/* the file: reference */
	bool		created;
	bool		truncate;	/* UNCHECKED4 with size 0 on an existing file */
	uint32_t	attrwords[3];	/* ok->attrset storage before copy */
};

/*
 * Type rules for the opened object (§18.16.3): a directory is
 * NFS4ERR_ISDIR, a symbolic link NFS4ERR_SYMLINK, any other non-regular
 * file NFS4ERR_SYMLINK as well (what Linux and pynfs expect; §18.16.4
 * allows NFS4ERR_WRONG_TYPE too).
 */
static nfsstat4
open_type_check(const struct fs_attr *a)
{
	switch (a->type) {
	case FS_TYPE_REG:
		return NFS4_OK;
	case FS_TYPE_DIR:
		return NFS4ERR_ISDIR;
	default:
		return NFS4ERR_SYMLINK;
	}
}

/*
 * CLAIM_NULL with OPEN4_CREATE (§18.16.3, §18.16.4): create name in the
 * directory per createmode, or open the existing file as the mode
 * allows.  Fills ctx->ip, ctx->created, ctx->truncate and attrset.
 */
static nfsstat4
open_create(struct open_ctx *ctx, const char *name, change_info4 *cinfo)
{
	struct nfs4_compound *cs = ctx->cs;
	const createhow4 *how = &ctx->args->openhow.openflag4_u.how;
	struct fs_create_args ca = { .type = FS_TYPE_REG };
	struct fs_setattr sa = { 0 };
	bitmap4 set = { 0, NULL };
	const verifier4 *verf = NULL;
	const fattr4 *attrs = NULL;
	struct fs_attr a, da;
	uint32_t uid, gid;
	nfsstat4 status;
	int err;

	switch (how->mode) {
	case UNCHECKED4:
	case GUARDED4:
		attrs = &how->createhow4_u.createattrs;
		break;
	case EXCLUSIVE4:
		verf = &how->createhow4_u.createverf;
		break;
	case EXCLUSIVE4_1:
		verf = &how->createhow4_u.ch_createboth.cva_verf;
		attrs = &how->createhow4_u.ch_createboth.cva_attrs;
		break;
	default:
		return NFS4ERR_INVAL;
	}
	if (nfs4_export_read_only(cs))
		return NFS4ERR_ROFS;
	if (attrs) {
		status = nfs4_attr_decode(cs, attrs, &sa, &set);
		if (status != NFS4_OK)
			return status;
		for (uint32_t w = 0; w < set.bitmap4_len && w < 3; w++) {
			ctx->attrwords[w] |= set.bitmap4_val[w];
			if (set.bitmap4_val[w] && ctx->ok->attrset.bitmap4_len <= w)
				ctx->ok->attrset.bitmap4_len = w + 1;
		}
		nfs4_bitmap_free(&set);
		/* The verifier lives in the times (§18.16.4). */
		if (verf && (sa.mask & (FS_SET_ATIME | FS_SET_ATIME_NOW |
					FS_SET_MTIME | FS_SET_MTIME_NOW)))
			return NFS4ERR_INVAL;
	}
	status = nfs4_check_access(cs, ctx->dir, ACCESS4_EXTEND |
				   ACCESS4_LOOKUP);
	if (status != NFS4_OK)
		return status;

	err = fs_getattr(ctx->fs, ctx->dir, &da);
	if (err)
		return nfs4_errno_to_status(err);
	cinfo->before = da.change;
	err = fs_lookup(ctx->fs, ctx->dir, name, &ctx->ip);
	if (err == 0) {
		/* The name exists. */
		err = fs_getattr(ctx->fs, ctx->ip, &a);
		if (err)
			return nfs4_errno_to_status(err);
		if (how->mode == GUARDED4)
			return NFS4ERR_EXIST;
		if (verf) {
			/* A retry of our own exclusive create succeeds. */
			if (a.type != FS_TYPE_REG || !verf_matches(*verf, &a))
				return NFS4ERR_EXIST;
			bitmap_set(&ctx->ok->attrset, OPEN_VERF_ATTR_ATIME,
				   ctx->attrwords, 3);
			bitmap_set(&ctx->ok->attrset, OPEN_VERF_ATTR_MTIME,
				   ctx->attrwords, 3);
		} else {
			/* UNCHECKED4: only a size of 0 applies (§18.16.3). */
			memset(ctx->attrwords, 0, sizeof(ctx->attrwords));
			ctx->ok->attrset.bitmap4_len = 0;
			if ((sa.mask & FS_SET_SIZE) && sa.size == 0) {
				ctx->truncate = true;
				bitmap_set(&ctx->ok->attrset, FATTR4_SIZE,
					   ctx->attrwords, 3);
			}
		}
		cinfo->after = cinfo->before;
		cinfo->atomic = TRUE;
		return NFS4_OK;
	}
	if (err != -ENOENT)
		return nfs4_errno_to_status(err);

	nfs4_cred(cs, &uid, &gid);
	ca.mode = (sa.mask & FS_SET_MODE) ? sa.mode : OPEN_DEFAULT_MODE;
	ca.uid = (sa.mask & FS_SET_UID) ? sa.uid : uid;
	ca.gid = (sa.mask & FS_SET_GID) ? sa.gid : gid;
	ca.exclusive = true;
	err = fs_create(ctx->fs, ctx->dir, name, &ca, &ctx->ip);
	if (err == -EEXIST)
		return NFS4ERR_EXIST;	/* created meanwhile: the client retries */
	if (err)
		return nfs4_errno_to_status(err);
	ctx->created = true;
	sa.mask &= ~(unsigned)(FS_SET_MODE | FS_SET_UID | FS_SET_GID);
	if (verf) {
		verf_to_times(*verf, &sa);
		bitmap_set(&ctx->ok->attrset, OPEN_VERF_ATTR_ATIME,
			   ctx->attrwords, 3);
		bitmap_set(&ctx->ok->attrset, OPEN_VERF_ATTR_MTIME,
			   ctx->attrwords, 3);
	}
	if (sa.mask) {
		err = fs_setattr(ctx->fs, ctx->ip, &sa, NULL);
		if (err)
			return nfs4_errno_to_status(err);
	}
	err = fs_getattr(ctx->fs, ctx->dir, &da);
	if (err)
		return nfs4_errno_to_status(err);
	cinfo->after = da.change;
	cinfo->atomic = FALSE;	/* other changes may have come between */
	return NFS4_OK;
}

/*
 * CLAIM_NULL: the current filehandle is the directory, the name is
 * looked up or created there.
 */
static nfsstat4
open_by_name(struct open_ctx *ctx, const component4 *file,
	     change_info4 *cinfo)
{
	struct nfs4_compound *cs = ctx->cs;
	char name[FS_NAME_MAX + 1];
	struct fs_attr da;
	nfsstat4 status;
	int err;

	if (nfs4_cur_is_pseudo(cs)) {
		/* The pseudo filesystem holds only directories. */
		status = nfs4_check_name(file, name);
		if (status != NFS4_OK)
			return status;
		return ctx->args->openhow.opentype == OPEN4_CREATE ?
		       NFS4ERR_ROFS : NFS4ERR_NOENT;
	}
	status = nfs4_cur_inode(cs, &ctx->dir);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(ctx->fs, ctx->dir, &da);
	if (err)
		return nfs4_errno_to_status(err);
	if (da.type == FS_TYPE_LNK)
		return NFS4ERR_SYMLINK;
	if (da.type != FS_TYPE_DIR)
		return NFS4ERR_NOTDIR;
	status = nfs4_check_name(file, name);
	if (status != NFS4_OK)
		return status;
	if (ctx->args->openhow.opentype == OPEN4_CREATE &&
	    ctx->args->claim.claim == CLAIM_NULL)
		return open_create(ctx, name, cinfo);
	status = nfs4_check_access(cs, ctx->dir, ACCESS4_LOOKUP);
	if (status != NFS4_OK)
		return status;
	err = fs_lookup(ctx->fs, ctx->dir, name, &ctx->ip);
	if (err)
		return nfs4_errno_to_status(err);
	cinfo->before = cinfo->after = da.change;
	cinfo->atomic = TRUE;
	return NFS4_OK;
}

/*
 * The access the caller needs for the share access asked (§18.16.3):
 * the file's creator is not checked (POSIX: an open that created the file
 * succeeds whatever its mode).
 */
static nfsstat4
open_check_perm(struct open_ctx *ctx)
{
	uint32_t need = 0;

	if (ctx->created)
		return NFS4_OK;
	if (ctx->access & OPEN4_SHARE_ACCESS_READ)
		need |= ACCESS4_READ;
	if (ctx->access & OPEN4_SHARE_ACCESS_WRITE)
		need |= ACCESS4_MODIFY;
	if (ctx->truncate && !(ctx->access & OPEN4_SHARE_ACCESS_WRITE))
		return NFS4ERR_INVAL;
	return nfs4_check_access(ctx->cs, ctx->ip, need);
}

/* The delegation part of OPEN's answer: none (§18.16.3, §10.4). */
static void
open_no_delegation(const struct open_ctx *ctx, open_delegation4 *d)
{
	uint32_t want = ctx->want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK;

	memset(d, 0, sizeof(*d));
	if (want == OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE) {
		d->delegation_type = OPEN_DELEGATE_NONE;
		return;
	}
	d->delegation_type = OPEN_DELEGATE_NONE_EXT;
	switch (want) {
	case OPEN4_SHARE_ACCESS_WANT_NO_DELEG:
		d->open_delegation4_u.od_whynone.ond_why = WND4_NOT_WANTED;
		break;
	case OPEN4_SHARE_ACCESS_WANT_CANCEL:
		d->open_delegation4_u.od_whynone.ond_why = WND4_CANCELLED;
		break;
	default:
		/* Delegations are not offered at all: a resource limit. */
		d->open_delegation4_u.od_whynone.ond_why = WND4_RESOURCE;
		d->open_delegation4_u.od_whynone.open_none_delegation4_u.
			ond_server_will_signal_avail = FALSE;
		break;
	}
}

/*
 * A conflicting delegation is being recalled: wait a little for it (a
 * client returns a delegation within milliseconds when it can), so that
 * the opener does not have to come back after NFS4ERR_DELAY - Linux backs
 * off at least 100 ms, pynfs a second.  Only while rpc_worker_may_block()
 * allows (workers for DELEGRETURN stay free); NFS4ERR_DELAY otherwise.
 */
static nfsstat4
open_wait_recall(struct open_ctx *ctx, uint64_t ino)
{
	nfsstat4 status;

	if (!rpc_worker_may_block())
		return NFS4ERR_DELAY;
	status = state_deleg_wait(ctx->clp, ino,
				  ctx->access & OPEN4_SHARE_ACCESS_WRITE,
				  OPEN_RECALL_WAIT_NS);
	rpc_worker_unblock();
	return status;
}

/*
 * OPEN (RFC 8881 §18.16).  Claims: CLAIM_NULL (by name, with or without
 * create), CLAIM_FH and CLAIM_PREVIOUS (the current filehandle is the
 * file; PREVIOUS is a reclaim in the grace period, §8.4.2.1),
 * CLAIM_DELEGATE_CUR (by name) and CLAIM_DELEG_CUR_FH (the client opens
 * under a delegation it holds, typically while returning it: the
 * delegation stateid must be its own on this file, and no grace rule
 * applies since no new conflicting state can arise), CLAIM_DELEGATE_PREV
 * and CLAIM_DELEG_PREV_FH (NFS4ERR_NOTSUPP: delegations do not survive a
 * client restart here, §18.16.3).  Order: grace, namespace (lookup or
 * create), type and permission, share and delegation check, truncate,
 * stateid and delegation.
 */
nfsstat4
nfs4_op_open(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	OPEN4args *args = &arg->nfs_argop4_u.opopen;
	OPEN4resok *ok = &res->nfs_resop4_u.opopen.OPEN4res_u.resok4;
	struct open_ctx ctx = {
		.cs = cs, .args = args, .ok = ok, .fs = nfs4_fs(cs),
		.clp = open_client(cs),
	};
	struct state_open_req req = { 0 };
	change_info4 cinfo = { 0 };
	const component4 *file = &args->claim.open_claim4_u.file;
	const stateid4 *dsid = NULL;
	struct fs_attr a;
	nfsstat4 status;
	bool reclaim = false, by_name = false;
	int err;

	memset(ok, 0, sizeof(*ok));
	if (!ctx.clp)
		return NFS4ERR_OP_NOT_IN_SESSION;
	if (!ctx.fs)
		return NFS4ERR_NOTSUPP;
	ctx.access = args->share_access & ~(uint32_t)OPEN_WANT_BITS;
	ctx.want = args->share_access & OPEN_WANT_BITS;
	if (ctx.access < OPEN4_SHARE_ACCESS_READ ||
	    ctx.access > OPEN4_SHARE_ACCESS_BOTH ||
	    args->share_deny > OPEN4_SHARE_DENY_BOTH)
		return NFS4ERR_INVAL;

	switch (args->claim.claim) {
	case CLAIM_NULL:
		by_name = true;
		break;
	case CLAIM_FH:
		break;
	case CLAIM_PREVIOUS:
		reclaim = true;
		break;
	case CLAIM_DELEGATE_CUR:
		by_name = true;
		file = &args->claim.open_claim4_u.delegate_cur_info.file;
		dsid = &args->claim.open_claim4_u.delegate_cur_info
				.delegate_stateid;
		break;
	case CLAIM_DELEG_CUR_FH:
		dsid = &args->claim.open_claim4_u.oc_delegate_stateid;
		break;
	case CLAIM_DELEGATE_PREV:
	case CLAIM_DELEG_PREV_FH:
		return NFS4ERR_NOTSUPP;
	default:
		return NFS4ERR_INVAL;
	}
	if (!dsid) {
		status = state_grace_check(ctx.clp, reclaim);
		if (status != NFS4_OK)
			return status;
	}

	if (by_name) {
		status = open_by_name(&ctx, file, &cinfo);
	} else {
		/* The current filehandle is the file (§18.16.3). */
		if (nfs4_cur_is_pseudo(cs))
			return NFS4ERR_ISDIR;
		status = nfs4_cur_inode(cs, &ctx.ip);
	}
	if (status != NFS4_OK)
		goto out;
	err = fs_getattr(ctx.fs, ctx.ip, &a);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out;
	}
	status = open_type_check(&a);
	if (status != NFS4_OK)
		goto out;
	status = open_check_perm(&ctx);
	if (status != NFS4_OK)
		goto out;
	if ((ctx.access & OPEN4_SHARE_ACCESS_WRITE) && !ctx.created &&
	    nfs4_export_read_only(cs)) {
		status = NFS4ERR_ROFS;
		goto out;
	}
	if (dsid) {
		status = state_deleg_check(ctx.clp, a.ino, dsid);
		if (status != NFS4_OK)
			goto out;
	}
	status = state_open_check_share(ctx.clp, a.ino, &args->owner,
					ctx.access, args->share_deny);
	if (status == NFS4ERR_DELAY)
		status = open_wait_recall(&ctx, a.ino);
	if (status == NFS4_OK)
		status = state_open_check_share(ctx.clp, a.ino, &args->owner,
						ctx.access, args->share_deny);
	if (status != NFS4_OK)
		goto out;
	if (ctx.truncate && a.size != 0) {
		struct fs_setattr sa = { .mask = FS_SET_SIZE, .size = 0 };

		status = state_break_delegations(ctx.clp, a.ino, true);
		if (status != NFS4_OK)
			goto out;
		err = fs_setattr(ctx.fs, ctx.ip, &sa, NULL);
		if (err) {
			status = nfs4_errno_to_status(err);
			goto out;
		}
	}
	/* The file becomes the current filehandle now: a delegation's
	 * CB_RECALL names it by this handle. */
	status = nfs4_set_cur_inode(cs, ctx.ip);
	if (status != NFS4_OK)
		goto out;
	req.ino = a.ino;
	req.ip = ctx.ip;
	req.owner = &args->owner;
	req.access = ctx.access;
	req.deny = args->share_deny;
	req.reclaim = reclaim;
	/* An OPEN under a delegation gets no second one. */
	req.want = dsid ? OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE : ctx.want;
	req.cb_up = state_client_cb_up(ctx.clp);
	state_client_set_minor(ctx.clp, cs->minorversion);
	req.fh = cs->current_fh.data;
	req.fhlen = cs->current_fh.len;
	status = state_open(ctx.clp, &req, &ok->stateid, &ok->delegation);
	if (status != NFS4_OK)
		goto out;
	nfs4_set_current_stateid(cs, &ok->stateid);
	ok->cinfo = cinfo;
	ok->rflags = OPEN4_RESULT_LOCKTYPE_POSIX;
	if (ok->attrset.bitmap4_len) {
		uint32_t *w = calloc(ok->attrset.bitmap4_len, sizeof(*w));

		if (!w) {
			/* The open stands; only the attrset report is lost. */
			ok->attrset.bitmap4_len = 0;
			ok->attrset.bitmap4_val = NULL;
		} else {
			memcpy(w, ctx.attrwords,
			       ok->attrset.bitmap4_len * sizeof(*w));
			ok->attrset.bitmap4_val = w;
		}
	}
out:
	if (status != NFS4_OK) {
		ok->attrset.bitmap4_len = 0;
		ok->attrset.bitmap4_val = NULL;
	}
	if (ctx.ip)
		fs_iput(ctx.fs, ctx.ip);
	if (ctx.dir)
		fs_iput(ctx.fs, ctx.dir);
	return status;
}

/* Frees OPEN's attrset after encoding. */
void
nfs4_release_open(nfs_resop4 *res)
{
	OPEN4resok *ok = &res->nfs_resop4_u.opopen.OPEN4res_u.resok4;

	free(ok->attrset.bitmap4_val);
	ok->attrset.bitmap4_val = NULL;
	ok->attrset.bitmap4_len = 0;
}

/*
 * See fileops.h.  Locks: none held; fs_getattr() takes the inode's
 * locks itself.  The inode reference is dropped before returning.
 */
nfsstat4
nfs4_cur_regular_fileid(struct nfs4_compound *cs, uint64_t *ino)
{
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	struct fs_attr a;
	nfsstat4 status;
	int err;

	if (!fs)
		return NFS4ERR_NOTSUPP;
	if (nfs4_cur_is_pseudo(cs))
		return NFS4ERR_ISDIR;	/* pseudo-fs nodes are directories */
	status = nfs4_cur_inode(cs, &ip);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(fs, ip, &a);
	fs_iput(fs, ip);
	if (err)
		return nfs4_errno_to_status(err);
	switch (a.type) {
	case FS_TYPE_REG:
		*ino = a.ino;
		return NFS4_OK;
	case FS_TYPE_DIR:
		return NFS4ERR_ISDIR;
	case FS_TYPE_LNK:
		return NFS4ERR_SYMLINK;
	default:
		return NFS4ERR_WRONG_TYPE;
	}
}

/*
 * The start every op that changes open or delegation state of the
 * current file shares (CLOSE, OPEN_DOWNGRADE, DELEGRETURN), in the order
 * their errors take: the calling client (NFS4ERR_OP_NOT_IN_SESSION
 * without a session), the stateid with the current stateid substituted
 * (§16.2.3.1.2), then the file (nfs4_cur_regular_fileid()).  No locks.
 */
static nfsstat4
open_state_target(struct nfs4_compound *cs, const stateid4 *in,
		  struct state_client **clpp, stateid4 *sid, uint64_t *ino)
{
	nfsstat4 status;

	*clpp = open_client(cs);
	if (!*clpp)
		return NFS4ERR_OP_NOT_IN_SESSION;
	status = nfs4_resolve_stateid(cs, in, sid);
	if (status != NFS4_OK)
		return status;
	return nfs4_cur_regular_fileid(cs, ino);
}

/* CLOSE (RFC 8881 §18.2). */
nfsstat4
nfs4_op_close(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	CLOSE4args *args = &arg->nfs_argop4_u.opclose;
	stateid4 *out = &res->nfs_resop4_u.opclose.CLOSE4res_u.open_stateid;
	struct state_client *clp;
	stateid4 sid;
	nfsstat4 status;
	uint64_t ino;

	status = open_state_target(cs, &args->open_stateid, &clp, &sid, &ino);
	if (status != NFS4_OK)
		return status;
	status = state_close(clp, ino, &sid, out);
	if (status == NFS4_OK)
		nfs4_set_current_stateid(cs, out);
	return status;
}

/* OPEN_DOWNGRADE (RFC 8881 §18.18). */
nfsstat4
nfs4_op_open_downgrade(struct nfs4_compound *cs, nfs_argop4 *arg,
		       nfs_resop4 *res)
{
	OPEN_DOWNGRADE4args *args = &arg->nfs_argop4_u.opopen_downgrade;
	stateid4 *out = &res->nfs_resop4_u.opopen_downgrade.
			OPEN_DOWNGRADE4res_u.resok4.open_stateid;
	struct state_client *clp;
	stateid4 sid;
	nfsstat4 status;
	uint64_t ino;

	status = open_state_target(cs, &args->open_stateid, &clp, &sid, &ino);
	if (status != NFS4_OK)
		return status;
	/* Want bits mean nothing here (§18.18.3): only the access counts. */
	status = state_open_downgrade(clp, ino, &sid,
				      args->share_access &
				      ~(uint32_t)OPEN_WANT_BITS,
				      args->share_deny, out);
	if (status == NFS4_OK)
		nfs4_set_current_stateid(cs, out);
	return status;
}

/* FREE_STATEID (RFC 8881 §18.38). */
nfsstat4
nfs4_op_free_stateid(struct nfs4_compound *cs, nfs_argop4 *arg,
		     nfs_resop4 *res)
{
	struct state_client *clp = open_client(cs);
	stateid4 sid;
	nfsstat4 status;

	(void)res;
	if (!clp)
		return NFS4ERR_OP_NOT_IN_SESSION;
	status = nfs4_resolve_stateid(cs,
			&arg->nfs_argop4_u.opfree_stateid.fsa_stateid, &sid);
	if (status != NFS4_OK)
		return status;
	return state_free_stateid(clp, &sid);
}

/*
 * TEST_STATEID (RFC 8881 §18.48): one status per stateid; the op itself
 * succeeds.  The current stateid is not substituted here (§18.48.3
 * tests what the client holds; the special stateids are BAD_STATEID).
 */
nfsstat4
nfs4_op_test_stateid(struct nfs4_compound *cs, nfs_argop4 *arg,
		     nfs_resop4 *res)
{
	TEST_STATEID4args *args = &arg->nfs_argop4_u.optest_stateid;
	TEST_STATEID4resok *ok =
		&res->nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;
	struct state_client *clp = open_client(cs);
	uint32_t n = args->ts_stateids.ts_stateids_len;
	nfsstat4 *codes;

	if (!clp)
		return NFS4ERR_OP_NOT_IN_SESSION;
	codes = calloc(n ? n : 1, sizeof(*codes));
	if (!codes)
		return NFS4ERR_SERVERFAULT;
	for (uint32_t i = 0; i < n; i++)
		codes[i] = state_test_stateid(clp,
				&args->ts_stateids.ts_stateids_val[i]);
	ok->tsr_status_codes.tsr_status_codes_len = n;
	ok->tsr_status_codes.tsr_status_codes_val = codes;
	return NFS4_OK;
}

/* Frees TEST_STATEID's status array after encoding. */
void
nfs4_release_test_stateid(nfs_resop4 *res)
{
	TEST_STATEID4resok *ok =
		&res->nfs_resop4_u.optest_stateid.TEST_STATEID4res_u.tsr_resok4;

	free(ok->tsr_status_codes.tsr_status_codes_val);
	ok->tsr_status_codes.tsr_status_codes_val = NULL;
	ok->tsr_status_codes.tsr_status_codes_len = 0;
}

/*
 * DELEGRETURN (RFC 8881 §18.6): the delegation must be the client's on
 * the current file; a revoked one is NFS4ERR_DELEG_REVOKED.
 */
nfsstat4
nfs4_op_delegreturn(struct nfs4_compound *cs, nfs_argop4 *arg,
		    nfs_resop4 *res)
{
	struct state_client *clp;
	stateid4 sid;
	nfsstat4 status;
	uint64_t ino;

	(void)res;
	status = open_state_target(cs,
			&arg->nfs_argop4_u.opdelegreturn.deleg_stateid, &clp,
			&sid, &ino);
	if (status != NFS4_OK)
		return status;
	return state_delegreturn(clp, ino, &sid);
}

/*
 * DELEGPURGE (RFC 8881 §18.5): only for servers that keep delegations
 * over a client restart (CLAIM_DELEGATE_PREV); this one does not, so
 * NFS4ERR_NOTSUPP as §18.5.3 says.
 */
nfsstat4
nfs4_op_delegpurge(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	(void)cs;
	(void)arg;
	(void)res;
	return NFS4ERR_NOTSUPP;
}

/*
 * WANT_DELEGATION (RFC 8881 §18.49): the server may decline; it answers
 * OPEN_DELEGATE_NONE_EXT with the reason (§18.49.3).  The claim must be
 * CLAIM_FH or CLAIM_PREVIOUS (else NFS4ERR_INVAL); a PREVIOUS claim is a
 * reclaim and follows the grace rules.
 */
nfsstat4
nfs4_op_want_delegation(struct nfs4_compound *cs, nfs_argop4 *arg,
			nfs_resop4 *res)
{
	WANT_DELEGATION4args *args = &arg->nfs_argop4_u.opwant_delegation;
	open_delegation4 *d = &res->nfs_resop4_u.opwant_delegation.
			      WANT_DELEGATION4res_u.wdr_resok4;
	struct state_client *clp = open_client(cs);
	struct open_ctx ctx = { .want = args->wda_want };
	nfsstat4 status;
	uint64_t ino;

	if (!clp)
		return NFS4ERR_OP_NOT_IN_SESSION;
	switch (args->wda_claim.dc_claim) {
	case CLAIM_FH:
		break;
	case CLAIM_PREVIOUS:
		status = state_grace_check(clp, true);
		if (status != NFS4_OK)
			return status;
		break;
	default:
		return NFS4ERR_INVAL;
	}
	status = nfs4_cur_regular_fileid(cs, &ino);
	if (status != NFS4_OK)
		return status;
	if ((ctx.want & OPEN4_SHARE_ACCESS_WANT_DELEG_MASK) ==
	    OPEN4_SHARE_ACCESS_WANT_NO_PREFERENCE)
		ctx.want |= OPEN4_SHARE_ACCESS_WANT_ANY_DELEG;
	open_no_delegation(&ctx, d);
	return NFS4_OK;
}

/*
 * GET_DIR_DELEGATION (RFC 8881 §18.39): directory delegations are not
 * offered; §18.39.3 lets the server say so in gddr_status with
 * GDD4_UNAVAIL (will not signal) inside an NFS4_OK result, after the
 * current filehandle was checked to be a directory.
 */
nfsstat4
nfs4_op_get_dir_delegation(struct nfs4_compound *cs, nfs_argop4 *arg,
			   nfs_resop4 *res)
{
	GET_DIR_DELEGATION4res *r = &res->nfs_resop4_u.opget_dir_delegation;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	struct fs_attr a;
	nfsstat4 status;
	int err;

	(void)arg;
	if (!fs)
		return NFS4ERR_NOTSUPP;
	if (!nfs4_cur_is_pseudo(cs)) {
		status = nfs4_cur_inode(cs, &ip);
		if (status != NFS4_OK)
			return status;
		err = fs_getattr(fs, ip, &a);
		fs_iput(fs, ip);
		if (err)
			return nfs4_errno_to_status(err);
		if (a.type != FS_TYPE_DIR)
			return NFS4ERR_NOTDIR;
	}
	r->GET_DIR_DELEGATION4res_u.gddr_res_non_fatal4.gddrnf_status =
		GDD4_UNAVAIL;
	r->GET_DIR_DELEGATION4res_u.gddr_res_non_fatal4.
		GET_DIR_DELEGATION4res_non_fatal_u.gddrnf_will_signal_deleg_avail =
		FALSE;
	return NFS4_OK;
}
