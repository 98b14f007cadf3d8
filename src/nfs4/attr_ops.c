/*
 * attr_ops.c - attributes and access (RFC 8881 §18.1, §18.7, §18.15,
 * §18.30, §18.31).  The fattr4 format is attr.c's; these handlers check
 * who may do what and call the engine.
 *
 * Ownership: GETATTR results own their fattr4 (nfs4_release_getattr());
 * SETATTR results own attrsset (nfs4_release_setattr()); on an error a
 * handler leaves nothing allocated.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "fsvc.h"

/* ACCESS bits of RFC 8881 §18.1 and, for NFSv4.2, RFC 8276 §8.4.1. */
#define ACCESS_BITS_41	(ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY | \
			 ACCESS4_EXTEND | ACCESS4_DELETE | ACCESS4_EXECUTE)
#define ACCESS_XA_READ	0x40
#define ACCESS_XA_WRITE	0x80
#define ACCESS_XA_LIST	0x100
#define ACCESS_BITS_XA	(ACCESS_XA_READ | ACCESS_XA_WRITE | ACCESS_XA_LIST)

/*
 * ACCESS (§18.1): which of the asked bits the squashed caller has, from
 * the mode bits.  Bits that do not apply to the object's type (LOOKUP on
 * a file, EXECUTE on a directory) are reported as not granted; undefined
 * bits are NFS4ERR_INVAL.
 */
nfsstat4
nfs4_op_access(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	ACCESS4resok *ok = &res->nfs_resop4_u.opaccess.ACCESS4res_u.resok4;
	uint32_t want = arg->nfs_argop4_u.opaccess.access;
	uint32_t defined = ACCESS_BITS_41;
	uint32_t got, base;
	struct fs_inode *ip;
	struct fs_attr a;
	nfsstat4 status;
	int err;

	if (cs->minorversion >= 2)
		defined |= ACCESS_BITS_XA;
	if (want & ~defined)
		return NFS4ERR_INVAL;
	status = nfs4_cur_inode(cs, &ip);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(nfs4_fs(cs), ip, &a);
	fs_iput(nfs4_fs(cs), ip);
	if (err)
		return nfs4_errno_to_status(err);
	/* Extended attributes follow the file's read/write permission. */
	base = want & ACCESS_BITS_41;
	if (want & (ACCESS_XA_READ | ACCESS_XA_LIST))
		base |= ACCESS4_READ;
	if (want & ACCESS_XA_WRITE)
		base |= ACCESS4_MODIFY;
	got = nfs4_access_allowed(cs, &a, base);
	if (nfs4_cur_is_pseudo(cs))
		got &= ACCESS4_READ | ACCESS4_LOOKUP;
	ok->supported = want;
	ok->access = got & want & ACCESS_BITS_41;
	if ((want & (ACCESS_XA_READ | ACCESS_XA_LIST)) && (got & ACCESS4_READ))
		ok->access |= want & (ACCESS_XA_READ | ACCESS_XA_LIST);
	if ((want & ACCESS_XA_WRITE) && (got & ACCESS4_MODIFY))
		ok->access |= ACCESS_XA_WRITE;
	return NFS4_OK;
}

/* The COMPOUND's client (NULL without a session). */
static struct state_client *
cs_client(struct nfs4_compound *cs)
{
	return cs->seq.ses ? state_session_client(cs->seq.ses) : NULL;
}

/*
 * GETATTR (§18.7).  Size or change of a file another client holds a
 * write delegation on come from that client (CB_GETATTR, §10.4.3) when
 * this worker may wait for it (rpc_worker_may_block(); the wait is
 * bounded inside state_deleg_getattr()); otherwise the server's values.
 * state_write_delegs() comes first: with no write delegation anywhere
 * (the usual case) GETATTR neither asks for the block budget, whose
 * mutex every worker shares, nor looks the file up in the state layer.
 * On the event loop the budget is always refused (src/nfs4/inline.c).
 */
nfsstat4
nfs4_op_getattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	fattr4 *out = &res->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4
			       .obj_attributes;
	const bitmap4 *req = &arg->nfs_argop4_u.opgetattr.attr_request;
	struct state_client *clp = cs_client(cs);
	struct fs_inode *ip;
	struct fs_attr a;
	nfsstat4 status;
	int err;

	status = nfs4_cur_inode(cs, &ip);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(nfs4_fs(cs), ip, &a);
	fs_iput(nfs4_fs(cs), ip);
	if (err)
		return nfs4_errno_to_status(err);
	if (clp && a.type == FS_TYPE_REG && req->bitmap4_len > 0 &&
	    (req->bitmap4_val[0] & ((1u << FATTR4_SIZE) |
				    (1u << FATTR4_CHANGE))) &&
	    state_write_delegs(cs->state) != 0 && rpc_worker_may_block()) {
		uint64_t size, change;

		if (state_deleg_getattr(clp, a.ino, a.size, a.change, &size,
					&change)) {
			a.size = size;
			a.change = change;
		}
		rpc_worker_unblock();
	}
	return nfs4_attr_encode_attr(cs, &a, req, out);
}

/* Frees a GETATTR result after encoding. */
void
nfs4_release_getattr(nfs_resop4 *res)
{
	nfs4_fattr_free(&res->nfs_resop4_u.opgetattr.GETATTR4res_u.resok4
				 .obj_attributes);
}

/* Frees SETATTR's attrsset after encoding. */
void
nfs4_release_setattr(nfs_resop4 *res)
{
	nfs4_bitmap_free(&res->nfs_resop4_u.opsetattr.attrsset);
}

static bool
caller_in_group(struct nfs4_compound *cs, uint32_t gid)
{
	struct fs_attr probe;

	/* nfs4_access_allowed() knows the groups: ask it with a probe. */
	memset(&probe, 0, sizeof(probe));
	probe.type = FS_TYPE_REG;
	probe.uid = UINT32_MAX;
	probe.gid = gid;
	probe.mode = 0040;
	return nfs4_access_allowed(cs, &probe, ACCESS4_READ) != 0;
}

/*
 * POSIX rules for who may change what (chown_restricted is true):
 * owner only root; group root, or the owner to a group it is in; mode,
 * times and creation time the owner or root; a time set to the server's
 * clock also whoever may write; size whoever may write.
 */
static nfsstat4
setattr_permitted(struct nfs4_compound *cs, const struct fs_attr *a,
		  const struct fs_setattr *sa)
{
	uint32_t uid, gid;
	bool owner, can_write;

	nfs4_cred(cs, &uid, &gid);
	if (uid == 0)
		return NFS4_OK;
	owner = uid == a->uid;
	can_write = nfs4_access_allowed(cs, a, ACCESS4_MODIFY) != 0;
	if ((sa->mask & FS_SET_UID) && sa->uid != a->uid)
		return NFS4ERR_PERM;
	if ((sa->mask & FS_SET_GID) && sa->gid != a->gid &&
	    (!owner || !caller_in_group(cs, sa->gid)))
		return NFS4ERR_PERM;
	if ((sa->mask & (FS_SET_MODE | FS_SET_ATIME | FS_SET_MTIME |
			 FS_SET_BTIME)) && !owner)
		return NFS4ERR_PERM;
	if ((sa->mask & (FS_SET_ATIME_NOW | FS_SET_MTIME_NOW)) && !owner &&
	    !can_write)
		return NFS4ERR_ACCESS;
	if ((sa->mask & FS_SET_SIZE) && !can_write && !owner)
		return NFS4ERR_ACCESS;
	return NFS4_OK;
}

/*
 * SETATTR (§18.30): decode, check the stateid when the size changes
 * (§18.30.3, §8.2: through the open engineer's state_check_io), recall
 * conflicting delegations, check permissions, then one fs_setattr() (a
 * truncate breaks layouts inside the engine).
 */
nfsstat4
nfs4_op_setattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	SETATTR4args *args = &arg->nfs_argop4_u.opsetattr;
	bitmap4 *attrsset = &res->nfs_resop4_u.opsetattr.attrsset;
	struct fs_setattr sa;
	struct fs_inode *ip;
	struct fs_attr a;
	stateid4 sid;
	nfsstat4 status;
	int err;

	status = nfs4_cur_inode(cs, &ip);
	if (status != NFS4_OK)
		return status;
	status = nfs4_attr_decode(cs, &args->obj_attributes, &sa, attrsset);
	if (status != NFS4_OK)
		goto out_put;
	if (nfs4_cur_is_pseudo(cs) || nfs4_export_read_only(cs)) {
		status = NFS4ERR_ROFS;
		goto out_free;
	}
	err = fs_getattr(nfs4_fs(cs), ip, &a);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_free;
	}
	if (sa.mask & FS_SET_SIZE) {
		if (a.type == FS_TYPE_DIR) {
			status = NFS4ERR_ISDIR;
			goto out_free;
		}
		if (a.type != FS_TYPE_REG) {
			status = NFS4ERR_INVAL;
			goto out_free;
		}
		status = nfs4_resolve_stateid(cs, &args->stateid, &sid);
		if (status != NFS4_OK)
			goto out_free;
		status = state_check_io(cs_client(cs), a.ino, &sid, true);
		if (status != NFS4_OK)
			goto out_free;
	}
	status = setattr_permitted(cs, &a, &sa);
	if (status != NFS4_OK)
		goto out_free;
	status = state_break_delegations(cs_client(cs), a.ino, true);
	if (status != NFS4_OK)
		goto out_free;
	if (sa.mask) {
		err = fs_setattr(nfs4_fs(cs), ip, &sa, NULL);
		if (err) {
			status = nfs4_errno_to_status(err);
			goto out_free;
		}
	}
	fs_iput(nfs4_fs(cs), ip);
	return NFS4_OK;
out_free:
	nfs4_bitmap_free(attrsset);
out_put:
	fs_iput(nfs4_fs(cs), ip);
	return status;
}

/*
 * VERIFY/NVERIFY: whether the client's attribute values equal ours, by
 * encoding ours for the same mask and comparing bytes (§18.31.3: equal
 * means "the same XDR").  *same gets the answer.
 */
static nfsstat4
attrs_same(struct nfs4_compound *cs, const fattr4 *theirs, bool *same)
{
	struct fs_inode *ip;
	fattr4 ours;
	nfsstat4 status;

	status = nfs4_cur_inode(cs, &ip);
	if (status != NFS4_OK)
		return status;
	status = nfs4_attr_check_verify_mask(cs, &theirs->attrmask);
	if (status != NFS4_OK)
		goto out_put;
	status = nfs4_attr_encode(cs, ip, &theirs->attrmask, &ours);
	if (status != NFS4_OK)
		goto out_put;
	*same = ours.attr_vals.attrlist4_len ==
			theirs->attr_vals.attrlist4_len &&
		memcmp(ours.attr_vals.attrlist4_val,
		       theirs->attr_vals.attrlist4_val,
		       ours.attr_vals.attrlist4_len) == 0;
	nfs4_fattr_free(&ours);
out_put:
	fs_iput(nfs4_fs(cs), ip);
	return status;
}

/* VERIFY (§18.31): NFS4ERR_NOT_SAME unless the attributes match. */
nfsstat4
nfs4_op_verify(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	nfsstat4 status;
	bool same = false;

	(void)res;
	status = attrs_same(cs, &arg->nfs_argop4_u.opverify.obj_attributes,
			    &same);
	if (status != NFS4_OK)
		return status;
	return same ? NFS4_OK : NFS4ERR_NOT_SAME;
}

/* NVERIFY (§18.15): NFS4ERR_SAME when the attributes match. */
nfsstat4
nfs4_op_nverify(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	nfsstat4 status;
	bool same = false;

	(void)res;
	status = attrs_same(cs, &arg->nfs_argop4_u.opnverify.obj_attributes,
			    &same);
	if (status != NFS4_OK)
		return status;
	return same ? NFS4ERR_SAME : NFS4_OK;
}
