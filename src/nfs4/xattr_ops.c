/*
 * xattr_ops.c - extended attributes (RFC 8276 §8): GETXATTR, SETXATTR,
 * LISTXATTRS, REMOVEXATTR on the engine's fs_xattr_*().
 *
 * Keys are stored as the client sends them (RFC 8276 §5: the protocol
 * carries only the "user" namespace and leaves naming to the client; a
 * Linux client sends the name without its "user." prefix).  A key must be
 * non-empty valid UTF-8 without NUL (NFS4ERR_INVAL) of at most
 * FS_XATTR_NAME_MAX bytes (NFS4ERR_NAMETOOLONG); a value at most
 * FS_XATTR_VALUE_MAX bytes (NFS4ERR_XATTR2BIG, §8.4.2.3).  Every object
 * type may carry extended attributes; the xattr_support attribute is TRUE
 * on every object of the file system.
 *
 * Permissions: reading and listing need read permission on the object,
 * changing needs write permission, checked on the mode bits as for
 * ACCESS4_READ / ACCESS4_MODIFY (RFC 8276 §6 ties ACCESS4_XAREAD, XALIST
 * and XAWRITE to the same rights).  Changes recall other clients'
 * delegations first (RFC 8881 §10.4), like any change of the file.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "fsvc.h"
#include "fs.h"
#include "state.h"

/* LISTXATTRS4resok without names: cookie, array length, eof. */
#define XATTR_LIST_OVERHEAD	(8u + 4u + 4u)
/*
 * Most names one LISTXATTRS gathers before it looks at maxcount: bounds
 * the memory of one call however many attributes a file has (the engine
 * keeps them few: its per-inode list is short by design).
 */
#define XATTR_LIST_MAX_NAMES	4096u

/*
 * Check that s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF) and has no NUL.
 */
static bool
xattr_utf8_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t n;

		if (c == 0)
			return false;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i <= n)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/*
 * A key from the wire as a C string in buf (FS_XATTR_NAME_MAX + 1 bytes):
 * NFS4ERR_INVAL for an empty, NUL-containing or non-UTF-8 key,
 * NFS4ERR_NAMETOOLONG for one too long (RFC 8276 §8.3, RFC 8881 §1.7.3).
 */
static nfsstat4
xattr_key(const xattrkey4 *key, char buf[FS_XATTR_NAME_MAX + 1])
{
	if (key->utf8string_len == 0)
		return NFS4ERR_INVAL;
	if (key->utf8string_len > FS_XATTR_NAME_MAX)
		return NFS4ERR_NAMETOOLONG;
	if (!xattr_utf8_ok((const unsigned char *)key->utf8string_val,
			   key->utf8string_len))
		return NFS4ERR_INVAL;
	memcpy(buf, key->utf8string_val, key->utf8string_len);
	buf[key->utf8string_len] = '\0';
	return NFS4_OK;
}

/*
 * The current filehandle's inode for an xattr op, with permission
 * access4 (ACCESS4_READ or ACCESS4_MODIFY); a change also needs a
 * writable export (NFS4ERR_ROFS) and recalls delegations.  *ipp
 * referenced on NFS4_OK.  No locks.
 */
static nfsstat4
xattr_inode(struct nfs4_compound *cs, bool change, struct fs_inode **ipp)
{
	nfsstat4 st;

	st = nfs4_cur_inode(cs, ipp);
	if (st != NFS4_OK)
		return st;
	/*
	 * A pseudo-filesystem directory stands for a volume directory that
	 * is not exported: it can not be changed (as SETATTR) and shows no
	 * attributes of its own (the callers answer "none").
	 */
	if (change && (nfs4_cur_is_pseudo(cs) || nfs4_export_read_only(cs))) {
		st = NFS4ERR_ROFS;
		goto out_iput;
	}
	st = nfs4_check_access(cs, *ipp, change ? ACCESS4_MODIFY :
						  ACCESS4_READ);
	if (st != NFS4_OK)
		goto out_iput;
	if (change) {
		st = state_break_delegations(cs->seq.ses ?
				state_session_client(cs->seq.ses) : NULL,
				fs_inode_number(*ipp), true);
		if (st != NFS4_OK)
			goto out_iput;
	}
	return NFS4_OK;

out_iput:
	fs_iput(nfs4_fs(cs), *ipp);
	*ipp = NULL;
	return st;
}

/* The change attribute now, for change_info4. */
static int
xattr_change(struct fs *fs, struct fs_inode *ip, uint64_t *change)
{
	struct fs_attr a;
	int err;

	err = fs_getattr(fs, ip, &a);
	if (!err)
		*change = a.change;
	return err;
}

/*
 * GETXATTR (RFC 8276 §8.4.1): the value, NFS4ERR_NOXATTR when there is
 * none.  A value that does not fit the reply is caught by the COMPOUND
 * loop (NFS4ERR_REP_TOO_BIG).  No locks.
 */
nfsstat4
nfs4_op_getxattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	GETXATTR4args *a = &arg->nfs_argop4_u.opgetxattr;
	xattrvalue4 *val = &res->nfs_resop4_u.opgetxattr.GETXATTR4res_u.gxr_value;
	char name[FS_XATTR_NAME_MAX + 1];
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	size_t len = 0;
	char *buf;
	nfsstat4 st;
	int err;

	st = xattr_key(&a->gxa_name, name);
	if (st != NFS4_OK)
		return st;
	st = xattr_inode(cs, false, &ip);
	if (st != NFS4_OK)
		return st;
	if (nfs4_cur_is_pseudo(cs)) {
		st = NFS4ERR_NOXATTR;
		goto out_iput;
	}
	buf = malloc(FS_XATTR_VALUE_MAX);
	if (!buf) {
		st = NFS4ERR_DELAY;
		goto out_iput;
	}
	err = fs_xattr_get(fs, ip, name, buf, FS_XATTR_VALUE_MAX, &len);
	if (err) {
		free(buf);
		st = nfs4_errno_to_status(err);
		goto out_iput;
	}
	val->xattrvalue4_len = (u_int)len;
	val->xattrvalue4_val = buf;
out_iput:
	fs_iput(fs, ip);
	return st;
}

/* Release a GETXATTR result after encoding (NFS4_OK only).  No locks. */
void
nfs4_release_getxattr(nfs_resop4 *res)
{
	xattrvalue4 *val =
		&res->nfs_resop4_u.opgetxattr.GETXATTR4res_u.gxr_value;

	free(val->xattrvalue4_val);
	val->xattrvalue4_val = NULL;
}

/*
 * SETXATTR (RFC 8276 §8.4.2): SETXATTR4_CREATE fails with NFS4ERR_EXIST
 * when the key exists, SETXATTR4_REPLACE with NFS4ERR_NOXATTR when it does
 * not, SETXATTR4_EITHER does either.  A value over FS_XATTR_VALUE_MAX is
 * NFS4ERR_XATTR2BIG.  change_info4 brackets the change (not atomic: the
 * two reads and the change are separate engine calls).  No locks.
 */
nfsstat4
nfs4_op_setxattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	SETXATTR4args *a = &arg->nfs_argop4_u.opsetxattr;
	change_info4 *ci = &res->nfs_resop4_u.opsetxattr.SETXATTR4res_u.sxr_info;
	char name[FS_XATTR_NAME_MAX + 1];
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	unsigned flags;
	nfsstat4 st;
	int err;

	switch (a->sxa_option) {
	case SETXATTR4_EITHER:
		flags = 0;
		break;
	case SETXATTR4_CREATE:
		flags = FS_XATTR_CREATE;
		break;
	case SETXATTR4_REPLACE:
		flags = FS_XATTR_REPLACE;
		break;
	default:
		return NFS4ERR_INVAL;
	}
	st = xattr_key(&a->sxa_key, name);
	if (st != NFS4_OK)
		return st;
	if (a->sxa_value.xattrvalue4_len > FS_XATTR_VALUE_MAX)
		return NFS4ERR_XATTR2BIG;
	st = xattr_inode(cs, true, &ip);
	if (st != NFS4_OK)
		return st;
	err = xattr_change(fs, ip, &ci->before);
	if (!err)
		err = fs_xattr_set(fs, ip, name, a->sxa_value.xattrvalue4_val,
				   a->sxa_value.xattrvalue4_len, flags);
	if (!err)
		err = xattr_change(fs, ip, &ci->after);
	ci->atomic = FALSE;
	st = nfs4_errno_to_status(err);
	fs_iput(fs, ip);
	return st;
}

/* Names gathered for one LISTXATTRS. */
struct xattr_names {
	xattrkey4	*v;
	u_int		n, cap;
	int		err;
};

static int
xattr_list_one(void *ctx, const char *name)
{
	struct xattr_names *xn = ctx;
	xattrkey4 *k;

	if (xn->n == XATTR_LIST_MAX_NAMES)
		return 1;
	if (xn->n == xn->cap) {
		u_int cap = xn->cap ? 2 * xn->cap : 16;
		xattrkey4 *v = realloc(xn->v, cap * sizeof(*v));

		if (!v) {
			xn->err = -ENOMEM;
			return 1;
		}
		xn->v = v;
		xn->cap = cap;
	}
	k = &xn->v[xn->n];
	k->utf8string_len = (u_int)strlen(name);
	k->utf8string_val = strdup(name);
	if (!k->utf8string_val) {
		xn->err = -ENOMEM;
		return 1;
	}
	xn->n++;
	return 0;
}

static void
xattr_names_free(xattrkey4 *v, u_int n)
{
	for (u_int i = 0; i < n; i++)
		free(v[i].utf8string_val);
	free(v);
}

/*
 * LISTXATTRS (RFC 8276 §8.4.3): names from lxa_cookie on (0: the first;
 * a cookie is the number of names already returned, in the engine's
 * stable list order), as many as fit lxa_maxcount bytes of
 * LISTXATTRS4resok; lxr_eof when the last name is in.  A cookie past the
 * list is NFS4ERR_BAD_COOKIE; a maxcount too small for the next name is
 * NFS4ERR_TOOSMALL (§8.4.3.3).  No locks.
 */
nfsstat4
nfs4_op_listxattrs(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	LISTXATTRS4args *a = &arg->nfs_argop4_u.oplistxattrs;
	LISTXATTRS4resok *ok =
		&res->nfs_resop4_u.oplistxattrs.LISTXATTRS4res_u.lxr_value;
	struct xattr_names xn = { 0 };
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	uint64_t room, need;
	u_int first, n;
	nfsstat4 st;
	int err;

	st = xattr_inode(cs, false, &ip);
	if (st != NFS4_OK)
		return st;
	/* A positive return is xattr_list_one() stopping early. */
	err = 0;
	if (!nfs4_cur_is_pseudo(cs))
		err = fs_xattr_list(fs, ip, xattr_list_one, &xn);
	fs_iput(fs, ip);
	if (err > 0)
		err = 0;
	if (!err)
		err = xn.err;
	if (err) {
		st = nfs4_errno_to_status(err);
		goto out_free;
	}
	if (a->lxa_cookie > xn.n) {
		st = NFS4ERR_BAD_COOKIE;
		goto out_free;
	}
	first = (u_int)a->lxa_cookie;
	if (a->lxa_maxcount < XATTR_LIST_OVERHEAD) {
		st = NFS4ERR_TOOSMALL;
		goto out_free;
	}
	room = a->lxa_maxcount - XATTR_LIST_OVERHEAD;
	for (n = first; n < xn.n; n++) {
		need = 4 + ROUND_UP(xn.v[n].utf8string_len, 4);
		if (need > room)
			break;
		room -= need;
	}
	if (n == first && first < xn.n) {
		st = NFS4ERR_TOOSMALL;
		goto out_free;
	}
	/* Hand the returned names over to the result; free the rest. */
	for (u_int i = 0; i < first; i++)
		free(xn.v[i].utf8string_val);
	for (u_int i = n; i < xn.n; i++)
		free(xn.v[i].utf8string_val);
	if (first)
		memmove(xn.v, xn.v + first, (n - first) * sizeof(*xn.v));
	ok->lxr_cookie = n;
	ok->lxr_eof = n == xn.n;
	ok->lxr_names.lxr_names_len = n - first;
	ok->lxr_names.lxr_names_val = xn.v;
	return NFS4_OK;

out_free:
	xattr_names_free(xn.v, xn.n);
	return st;
}

/* Release a LISTXATTRS result after encoding (NFS4_OK only).  No locks. */
void
nfs4_release_listxattrs(nfs_resop4 *res)
{
	LISTXATTRS4resok *ok =
		&res->nfs_resop4_u.oplistxattrs.LISTXATTRS4res_u.lxr_value;

	xattr_names_free(ok->lxr_names.lxr_names_val,
			 ok->lxr_names.lxr_names_len);
	ok->lxr_names.lxr_names_val = NULL;
	ok->lxr_names.lxr_names_len = 0;
}

/*
 * REMOVEXATTR (RFC 8276 §8.4.4): NFS4ERR_NOXATTR when the key is not
 * there; change_info4 as for SETXATTR.  No locks.
 */
nfsstat4
nfs4_op_removexattr(struct nfs4_compound *cs, nfs_argop4 *arg,
		    nfs_resop4 *res)
{
	REMOVEXATTR4args *a = &arg->nfs_argop4_u.opremovexattr;
	change_info4 *ci =
		&res->nfs_resop4_u.opremovexattr.REMOVEXATTR4res_u.rxr_info;
	char name[FS_XATTR_NAME_MAX + 1];
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	nfsstat4 st;
	int err;

	st = xattr_key(&a->rxa_name, name);
	if (st != NFS4_OK)
		return st;
	st = xattr_inode(cs, true, &ip);
	if (st != NFS4_OK)
		return st;
	err = xattr_change(fs, ip, &ci->before);
	if (!err)
		err = fs_xattr_remove(fs, ip, name);
	if (!err)
		err = xattr_change(fs, ip, &ci->after);
	ci->atomic = FALSE;
	st = nfs4_errno_to_status(err);
	fs_iput(fs, ip);
	return st;
}
