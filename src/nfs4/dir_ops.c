/*
 * dir_ops.c - directory changes and reads (RFC 8881 §18.4, §18.9,
 * §18.17, §18.23-18.26): CREATE, LINK, REMOVE, RENAME, READDIR,
 * READLINK, OPENATTR.
 *
 * change_info4: the engine bumps a directory's change attribute by one
 * per operation and never otherwise, so "after == before + 1" proves that
 * nothing else changed the directory between the two reads: only then is
 * the answer marked atomic (§3.3.6).
 *
 * Ownership: READDIR results own their entry chain (nfs4_release_readdir),
 * READLINK its text (nfs4_release_readlink), CREATE its attrset
 * (nfs4_release_create); handlers leave nothing allocated on an error.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileops.h"
#include "fsvc.h"

/* Directory defaults when createattrs carry no mode (umask 022). */
#define NFS4_CREATE_MODE_DIR	0755u
#define NFS4_CREATE_MODE_LNK	0777u
#define NFS4_CREATE_MODE_OTHER	0644u

/* READDIR4resok without entries: cookieverf, "no entry" flag, eof. */
#define READDIR_RESOK_FIXED	(8u + 4u + 4u)
/* Per entry before name and attributes: "entry follows" and cookie. */
#define READDIR_ENTRY_FIXED	(4u + 8u)

/* The COMPOUND's client (NULL without a session). */
static struct state_client *
cs_client(struct nfs4_compound *cs)
{
	return cs->seq.ses ? state_session_client(cs->seq.ses) : NULL;
}

static nfsstat4
dir_change(struct nfs4_compound *cs, struct fs_inode *dir, uint64_t *change)
{
	struct fs_attr a;
	int err;

	err = fs_getattr(nfs4_fs(cs), dir, &a);
	if (err)
		return nfs4_errno_to_status(err);
	*change = a.change;
	return NFS4_OK;
}

static void
cinfo_set(change_info4 *ci, uint64_t before, uint64_t after)
{
	ci->before = before;
	ci->after = after;
	ci->atomic = after == before + 1;
}

/*
 * The current (or saved) filehandle as a directory we may change:
 * NFS4ERR_NOTDIR (§18.4.3, §18.25.3, §18.26.3), NFS4ERR_ROFS
 * in the pseudo filesystem and on read-only exports, NFS4ERR_ACCESS
 * without write and search permission.  *dirp is a reference on NFS4_OK.
 */
static nfsstat4
dir_for_change(struct nfs4_compound *cs, bool saved, struct fs_inode **dirp)
{
	struct fs_inode *dir;
	struct fs_attr a;
	nfsstat4 status;
	int err;

	status = saved ? nfs4_saved_inode(cs, &dir) : nfs4_cur_inode(cs, &dir);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(nfs4_fs(cs), dir, &a);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	if (a.type != FS_TYPE_DIR) {
		status = NFS4ERR_NOTDIR;
		goto out_put;
	}
	if ((saved ? cs->saved_fh.pseudo : cs->current_fh.pseudo) ||
	    nfs4_export_read_only(cs)) {
		status = NFS4ERR_ROFS;
		goto out_put;
	}
	if (nfs4_access_allowed(cs, &a, ACCESS4_MODIFY | ACCESS4_LOOKUP) !=
	    (ACCESS4_MODIFY | ACCESS4_LOOKUP)) {
		status = NFS4ERR_ACCESS;
		goto out_put;
	}
	*dirp = dir;
	return NFS4_OK;
out_put:
	fs_iput(nfs4_fs(cs), dir);
	return status;
}

static nfsstat4
create_type(const createtype4 *t, struct fs_create_args *ca,
	    char **target)
{
	*target = NULL;
	switch (t->type) {
	case NF4DIR:
		ca->type = FS_TYPE_DIR;
		ca->mode = NFS4_CREATE_MODE_DIR;
		return NFS4_OK;
	case NF4LNK: {
		const linktext4 *l = &t->createtype4_u.linkdata;

		/* §18.4.3: an empty link text is NFS4ERR_INVAL. */
		if (l->utf8string_len == 0 ||
		    memchr(l->utf8string_val, '\0', l->utf8string_len))
			return NFS4ERR_INVAL;
		if (l->utf8string_len > FS_SYMLINK_MAX)
			return NFS4ERR_NAMETOOLONG;
		*target = strndup(l->utf8string_val, l->utf8string_len);
		if (!*target)
			return NFS4ERR_DELAY;
		ca->type = FS_TYPE_LNK;
		ca->mode = NFS4_CREATE_MODE_LNK;
		ca->target = *target;
		return NFS4_OK;
	}
	case NF4BLK:
	case NF4CHR:
		ca->type = t->type == NF4BLK ? FS_TYPE_BLK : FS_TYPE_CHR;
		ca->mode = NFS4_CREATE_MODE_OTHER;
		ca->rdev_major = t->createtype4_u.devdata.specdata1;
		ca->rdev_minor = t->createtype4_u.devdata.specdata2;
		return NFS4_OK;
	case NF4SOCK:
		ca->type = FS_TYPE_SOCK;
		ca->mode = NFS4_CREATE_MODE_OTHER;
		return NFS4_OK;
	case NF4FIFO:
		ca->type = FS_TYPE_FIFO;
		ca->mode = NFS4_CREATE_MODE_OTHER;
		return NFS4_OK;
	default:
		/* Regular files come with OPEN; attribute dirs are declined. */
		return NFS4ERR_BADTYPE;
	}
}

/*
 * CREATE (§18.4): a non-regular object in the current directory, which
 * becomes the new current filehandle.  Owner and group are the squashed
 * caller's unless createattrs say otherwise (then only root may give a
 * file away, as in SETATTR).
 */
nfsstat4
nfs4_op_create(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	CREATE4args *args = &arg->nfs_argop4_u.opcreate;
	CREATE4resok *ok = &res->nfs_resop4_u.opcreate.CREATE4res_u.resok4;
	char name[FS_NAME_MAX + 1];
	struct fs_create_args ca;
	struct fs_setattr sa;
	struct fs_inode *dir, *ip;
	uint64_t before = 0, after = 0;
	uint32_t uid, gid;
	char *target = NULL;
	nfsstat4 status;
	int err;

	memset(&ca, 0, sizeof(ca));
	status = dir_for_change(cs, false, &dir);
	if (status != NFS4_OK)
		return status;
	status = create_type(&args->objtype, &ca, &target);
	if (status != NFS4_OK)
		goto out_put;
	status = nfs4_check_name(&args->objname, name);
	if (status != NFS4_OK)
		goto out_put;
	status = nfs4_attr_decode(cs, &args->createattrs, &sa, &ok->attrset);
	if (status != NFS4_OK)
		goto out_put;
	if (sa.mask & FS_SET_SIZE) {
		/* No size for a directory, link or device (§18.4.3). */
		status = NFS4ERR_INVAL;
		goto out_attrset;
	}
	nfs4_cred(cs, &uid, &gid);
	if (((sa.mask & FS_SET_UID) && sa.uid != uid && uid != 0) ||
	    ((sa.mask & FS_SET_GID) && sa.gid != gid && uid != 0)) {
		status = NFS4ERR_PERM;
		goto out_attrset;
	}
	ca.uid = uid;
	ca.gid = gid;
	if (sa.mask & FS_SET_MODE) {
		ca.mode = sa.mode;
		sa.mask &= ~(unsigned)FS_SET_MODE;
	}
	ca.exclusive = true;
	status = dir_change(cs, dir, &before);
	if (status != NFS4_OK)
		goto out_attrset;
	err = fs_create(nfs4_fs(cs), dir, name, &ca, &ip);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_attrset;
	}
	status = dir_change(cs, dir, &after);
	if (status != NFS4_OK)
		goto out_ip;
	if (sa.mask) {
		err = fs_setattr(nfs4_fs(cs), ip, &sa, NULL);
		if (err) {
			status = nfs4_errno_to_status(err);
			goto out_ip;
		}
	}
	cinfo_set(&ok->cinfo, before, after);
	status = nfs4_set_cur_inode(cs, ip);
	if (status != NFS4_OK)
		goto out_ip;
	fs_iput(nfs4_fs(cs), ip);
	fs_iput(nfs4_fs(cs), dir);
	free(target);
	return NFS4_OK;
out_ip:
	fs_iput(nfs4_fs(cs), ip);
out_attrset:
	nfs4_bitmap_free(&ok->attrset);
out_put:
	free(target);
	fs_iput(nfs4_fs(cs), dir);
	return status;
}

/* Frees CREATE's attrset after encoding. */
void
nfs4_release_create(nfs_resop4 *res)
{
	nfs4_bitmap_free(&res->nfs_resop4_u.opcreate.CREATE4res_u.resok4
				  .attrset);
}

/* Whether the saved and current handles are in the same export. */
static bool
same_export(const struct nfs4_compound *cs)
{
	return cs->saved_fh.pseudo == cs->current_fh.pseudo &&
	       nfs4_fh_fsid(&cs->saved_fh) == nfs4_fh_fsid(&cs->current_fh);
}

/*
 * LINK (§18.9): saved filehandle = the file, current = the directory
 * that gets the new name.  NFS4ERR_XDEV across exports, NFS4ERR_ISDIR
 * for a directory.
 */
nfsstat4
nfs4_op_link(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	LINK4resok *ok = &res->nfs_resop4_u.oplink.LINK4res_u.resok4;
	char name[FS_NAME_MAX + 1];
	struct fs_inode *src, *dir;
	uint64_t before = 0, after = 0;
	struct fs_attr a;
	nfsstat4 status;
	int err;

	if (cs->saved_fh.len == 0)
		return NFS4ERR_NOFILEHANDLE;
	status = nfs4_saved_inode(cs, &src);
	if (status != NFS4_OK)
		return status;
	status = dir_for_change(cs, false, &dir);
	if (status != NFS4_OK)
		goto out_src;
	if (!same_export(cs)) {
		status = NFS4ERR_XDEV;
		goto out_dir;
	}
	err = fs_getattr(nfs4_fs(cs), src, &a);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_dir;
	}
	if (a.type == FS_TYPE_DIR) {
		status = NFS4ERR_ISDIR;
		goto out_dir;
	}
	status = nfs4_check_name(&arg->nfs_argop4_u.oplink.newname, name);
	if (status != NFS4_OK)
		goto out_dir;
	status = dir_change(cs, dir, &before);
	if (status != NFS4_OK)
		goto out_dir;
	err = fs_link(nfs4_fs(cs), src, dir, name);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_dir;
	}
	status = dir_change(cs, dir, &after);
	if (status == NFS4_OK)
		cinfo_set(&ok->cinfo, before, after);
out_dir:
	fs_iput(nfs4_fs(cs), dir);
out_src:
	fs_iput(nfs4_fs(cs), src);
	return status;
}

/*
 * Recall other clients' delegations on name in dir before it is removed
 * or replaced (§10.4: NFS4ERR_DELAY while the recall runs).  A missing
 * name is not an error here: the operation itself reports it.
 */
static nfsstat4
break_name_delegations(struct nfs4_compound *cs, struct fs_inode *dir,
		       const char *name)
{
	struct fs_inode *ip;
	nfsstat4 status;

	if (fs_lookup(nfs4_fs(cs), dir, name, &ip) != 0)
		return NFS4_OK;
	status = state_break_delegations(cs_client(cs), fs_inode_number(ip),
					 true);
	fs_iput(nfs4_fs(cs), ip);
	return status;
}

/* REMOVE (§18.25): a name of any type; a directory must be empty. */
nfsstat4
nfs4_op_remove(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	REMOVE4resok *ok = &res->nfs_resop4_u.opremove.REMOVE4res_u.resok4;
	char name[FS_NAME_MAX + 1];
	struct fs_inode *dir;
	uint64_t before = 0, after = 0;
	nfsstat4 status;
	int err;

	status = dir_for_change(cs, false, &dir);
	if (status != NFS4_OK)
		return status;
	status = nfs4_check_name(&arg->nfs_argop4_u.opremove.target, name);
	if (status != NFS4_OK)
		goto out_put;
	status = break_name_delegations(cs, dir, name);
	if (status != NFS4_OK)
		goto out_put;
	status = dir_change(cs, dir, &before);
	if (status != NFS4_OK)
		goto out_put;
	err = fs_unlink(nfs4_fs(cs), dir, name);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	status = dir_change(cs, dir, &after);
	if (status == NFS4_OK)
		cinfo_set(&ok->cinfo, before, after);
out_put:
	fs_iput(nfs4_fs(cs), dir);
	return status;
}

/*
 * RENAME (§18.26): saved filehandle = source directory, current = target
 * directory.  NFS4ERR_XDEV across exports; a target that cannot be
 * replaced (type mismatch, a non-empty directory) is NFS4ERR_EXIST
 * (§18.26.3); a directory into its own subtree NFS4ERR_INVAL.  Renaming a
 * name onto another name of the same file succeeds and changes nothing.
 */
nfsstat4
nfs4_op_rename(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	RENAME4args *args = &arg->nfs_argop4_u.oprename;
	RENAME4resok *ok = &res->nfs_resop4_u.oprename.RENAME4res_u.resok4;
	char oldname[FS_NAME_MAX + 1], newname[FS_NAME_MAX + 1];
	struct fs_inode *sdir, *ddir;
	uint64_t sb = 0, sa = 0, db = 0, da = 0;
	nfsstat4 status;
	int err;

	if (cs->saved_fh.len == 0)
		return NFS4ERR_NOFILEHANDLE;
	status = dir_for_change(cs, true, &sdir);
	if (status != NFS4_OK)
		return status;
	status = dir_for_change(cs, false, &ddir);
	if (status != NFS4_OK)
		goto out_sdir;
	if (!same_export(cs)) {
		status = NFS4ERR_XDEV;
		goto out_ddir;
	}
	status = nfs4_check_name(&args->oldname, oldname);
	if (status != NFS4_OK)
		goto out_ddir;
	status = nfs4_check_name(&args->newname, newname);
	if (status != NFS4_OK)
		goto out_ddir;
	status = break_name_delegations(cs, sdir, oldname);
	if (status == NFS4_OK)
		status = break_name_delegations(cs, ddir, newname);
	if (status != NFS4_OK)
		goto out_ddir;
	status = dir_change(cs, sdir, &sb);
	if (status == NFS4_OK)
		status = dir_change(cs, ddir, &db);
	if (status != NFS4_OK)
		goto out_ddir;
	err = fs_rename(nfs4_fs(cs), sdir, oldname, ddir, newname);
	switch (err) {
	case 0:
		break;
	case -ENOTEMPTY:
	case -EISDIR:
	case -ENOTDIR:
		/* §18.26.3: the target exists and cannot be replaced. */
		status = NFS4ERR_EXIST;
		goto out_ddir;
	default:
		status = nfs4_errno_to_status(err);
		goto out_ddir;
	}
	status = dir_change(cs, sdir, &sa);
	if (status == NFS4_OK)
		status = dir_change(cs, ddir, &da);
	if (status != NFS4_OK)
		goto out_ddir;
	cinfo_set(&ok->source_cinfo, sb, sa);
	cinfo_set(&ok->target_cinfo, db, da);
out_ddir:
	fs_iput(nfs4_fs(cs), ddir);
out_sdir:
	fs_iput(nfs4_fs(cs), sdir);
	return status;
}

/* --- READDIR ---------------------------------------------------------------- */

struct readdir_ctx {
	struct nfs4_compound	*cs;
	const bitmap4		*req;
	uint32_t		room;		/* bytes left under maxcount */
	uint32_t		dir_room;	/* bytes left under dircount */
	bool			want_rdattr_error;
	entry4			*head;
	entry4			**tail;
	unsigned		nentries;
	uint64_t		pseudo_cookie;	/* pseudo dirs: entry index */
	uint64_t		pseudo_after;
	nfsstat4		status;		/* why we stopped, if not OK */
	bool			stopped;	/* an entry did not fit */
};

static void
entries_free(entry4 *e)
{
	while (e) {
		entry4 *next = e->nextentry;

		free(e->name.utf8string_val);
		nfs4_fattr_free(&e->attrs);
		free(e);
		e = next;
	}
}

/* Frees READDIR's entry chain after encoding. */
void
nfs4_release_readdir(nfs_resop4 *res)
{
	READDIR4resok *ok = &res->nfs_resop4_u.opreaddir.READDIR4res_u.resok4;

	entries_free(ok->reply.entries);
	ok->reply.entries = NULL;
}

/*
 * Add one entry (name, ino) with its attributes, unless it does not fit
 * (returns 1: stop, the entry will be listed next time).  An entry whose
 * attributes cannot be read carries rdattr_error when the client asked
 * for it (§18.23.3), else the READDIR fails with that error.
 */
static int
readdir_add(struct readdir_ctx *c, const char *name, size_t namelen,
	    uint64_t ino, uint64_t cookie)
{
	struct nfs4_compound *cs = c->cs;
	struct nfs4_attr_obj o;
	struct nfs4_fh fh;
	struct fs_inode *ip = NULL;
	struct fs_attr a;
	nfsstat4 st;
	entry4 *e;
	uint32_t need, dneed;
	int err;

	e = calloc(1, sizeof(*e));
	if (!e) {
		c->status = NFS4ERR_DELAY;
		return -1;
	}
	memset(&a, 0, sizeof(a));
	err = fs_iget(nfs4_fs(cs), ino, 0, &ip);
	if (!err)
		err = fs_getattr(nfs4_fs(cs), ip, &a);
	st = err ? nfs4_errno_to_status(err) : NFS4_OK;
	if (st == NFS4_OK)
		st = nfs4_fh_child(cs, name, a.ino, a.gen, &fh);
	if (ip)
		fs_iput(nfs4_fs(cs), ip);
	if (st != NFS4_OK) {
		bitmap4 only_err;
		uint32_t w = 1u << FATTR4_RDATTR_ERROR;

		if (!c->want_rdattr_error) {
			free(e);
			c->status = st;
			return -1;
		}
		only_err.bitmap4_len = 1;
		only_err.bitmap4_val = &w;
		memset(&a, 0, sizeof(a));
		o.attr = &a;
		o.pseudo = false;
		o.fsid = 0;
		o.fh = NULL;
		o.fhlen = 0;
		o.rdattr_error = st;
		st = nfs4_attr_encode_obj(cs, &o, &only_err, &e->attrs);
	} else {
		o.attr = &a;
		o.pseudo = fh.pseudo;
		o.fsid = nfs4_fh_fsid(&fh);
		o.fh = fh.data;
		o.fhlen = fh.len;
		o.rdattr_error = NFS4_OK;
		st = nfs4_attr_encode_obj(cs, &o, c->req, &e->attrs);
	}
	if (st != NFS4_OK) {
		free(e);
		c->status = st;
		return -1;
	}
	need = READDIR_ENTRY_FIXED + 4 + ROUND_UP((uint32_t)namelen, 4) +
	       4 + 4 * e->attrs.attrmask.bitmap4_len +
	       4 + ROUND_UP(e->attrs.attr_vals.attrlist4_len, 4);
	dneed = 8 + 4 + ROUND_UP((uint32_t)namelen, 4);
	if (need > c->room || (c->nentries > 0 && dneed > c->dir_room)) {
		nfs4_fattr_free(&e->attrs);
		free(e);
		if (c->nentries == 0)
			c->status = NFS4ERR_TOOSMALL;
		c->stopped = true;
		return 1;
	}
	e->name.utf8string_val = malloc(namelen ? namelen : 1);
	if (!e->name.utf8string_val) {
		nfs4_fattr_free(&e->attrs);
		free(e);
		c->status = NFS4ERR_DELAY;
		return -1;
	}
	memcpy(e->name.utf8string_val, name, namelen);
	e->name.utf8string_len = (u_int)namelen;
	e->cookie = cookie;
	*c->tail = e;
	c->tail = &e->nextentry;
	c->room -= need;
	c->dir_room = dneed > c->dir_room ? 0 : c->dir_room - dneed;
	c->nentries++;
	return 0;
}

static int
readdir_fill(void *ctx, const char *name, size_t namelen, uint64_t ino,
	     enum fs_ftype type, uint64_t cookie)
{
	(void)type;
	return readdir_add(ctx, name, namelen, ino, cookie);
}

/* Pseudo directories: entry k has cookie FS_COOKIE_FIRST + k. */
static int
readdir_pseudo_fill(void *ctx, const char *name, uint64_t ino)
{
	struct readdir_ctx *c = ctx;
	uint64_t cookie = FS_COOKIE_FIRST + c->pseudo_cookie++;

	if (cookie <= c->pseudo_after)
		return 0;
	return readdir_add(c, name, strlen(name), ino, cookie);
}

/*
 * READDIR (§18.23): entries after cookie, each with the attributes asked
 * for, within maxcount (NFS4ERR_TOOSMALL when not even one entry fits)
 * and roughly dircount.  Cookies 1 and 2 are reserved
 * (NFS4ERR_BAD_COOKIE); a cookieverf not handed out for this directory is
 * NFS4ERR_NOT_SAME.
 */
nfsstat4
nfs4_op_readdir(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	READDIR4args *args = &arg->nfs_argop4_u.opreaddir;
	READDIR4resok *ok = &res->nfs_resop4_u.opreaddir.READDIR4res_u.resok4;
	struct readdir_ctx c;
	struct fs_inode *dir;
	struct fs_attr a;
	uint64_t verf = 0, verf_out = 0;
	uint32_t limit;
	nfsstat4 status;
	bool eof = false;
	int err;

	memset(&c, 0, sizeof(c));
	status = nfs4_cur_inode(cs, &dir);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(nfs4_fs(cs), dir, &a);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	if (a.type != FS_TYPE_DIR) {
		status = NFS4ERR_NOTDIR;
		goto out_put;
	}
	if (args->cookie == 1 || args->cookie == 2) {
		status = NFS4ERR_BAD_COOKIE;
		goto out_put;
	}
	status = nfs4_attr_check_readdir_mask(cs, &args->attr_request);
	if (status != NFS4_OK)
		goto out_put;
	if (!(nfs4_access_allowed(cs, &a, ACCESS4_READ) & ACCESS4_READ)) {
		status = NFS4ERR_ACCESS;
		goto out_put;
	}
	/* maxcount bounds READDIR4resok; the session bounds the reply. */
	limit = args->maxcount;
	if (nfs4_in_session(cs)) {
		uint32_t left = cs->seq.max_resp > cs->resp_size + 8 ?
				cs->seq.max_resp - cs->resp_size - 8 : 0;

		limit = MIN(limit, left);
	}
	if (limit < READDIR_RESOK_FIXED) {
		status = NFS4ERR_TOOSMALL;
		goto out_put;
	}
	c.cs = cs;
	c.req = &args->attr_request;
	c.room = limit - READDIR_RESOK_FIXED;
	c.dir_room = args->dircount ? args->dircount : UINT32_MAX;
	c.want_rdattr_error = args->attr_request.bitmap4_len > 0 &&
		(args->attr_request.bitmap4_val[0] &
		 (1u << FATTR4_RDATTR_ERROR));
	c.tail = &c.head;
	c.status = NFS4_OK;
	memcpy(&verf, args->cookieverf, sizeof(verf));
	if (nfs4_cur_is_pseudo(cs)) {
		/* A pseudo directory's listing never moves: verifier 0. */
		if (args->cookie != 0 && verf != 0) {
			status = NFS4ERR_NOT_SAME;
			goto out_put;
		}
		c.pseudo_after = args->cookie;
		status = nfs4_pseudo_list(cs, readdir_pseudo_fill, &c);
		eof = !c.stopped;
	} else {
		err = fs_readdir(nfs4_fs(cs), dir, args->cookie,
				 args->cookie ? verf : 0, readdir_fill, &c,
				 &verf_out, &eof);
		if (err && c.status == NFS4_OK)
			status = nfs4_errno_to_status(err);
	}
	if (status == NFS4_OK)
		status = c.status;
	if (status != NFS4_OK) {
		entries_free(c.head);
		goto out_put;
	}
	memcpy(ok->cookieverf, &verf_out, sizeof(verf_out));
	ok->reply.entries = c.head;
	ok->reply.eof = eof;
out_put:
	fs_iput(nfs4_fs(cs), dir);
	return status;
}

/* READLINK (§18.24.3): NFS4ERR_WRONG_TYPE unless a symbolic link. */
nfsstat4
nfs4_op_readlink(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	linktext4 *l = &res->nfs_resop4_u.opreadlink.READLINK4res_u.resok4.link;
	struct fs_inode *ip;
	struct fs_attr a;
	nfsstat4 status;
	size_t len = 0;
	char *buf;
	int err;

	(void)arg;
	status = nfs4_cur_inode(cs, &ip);
	if (status != NFS4_OK)
		return status;
	err = fs_getattr(nfs4_fs(cs), ip, &a);
	if (err) {
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	if (a.type != FS_TYPE_LNK) {
		status = NFS4ERR_WRONG_TYPE;
		goto out_put;
	}
	buf = malloc(FS_SYMLINK_MAX + 1);
	if (!buf) {
		status = NFS4ERR_DELAY;
		goto out_put;
	}
	err = fs_readlink(nfs4_fs(cs), ip, buf, FS_SYMLINK_MAX + 1, &len);
	if (err) {
		free(buf);
		status = nfs4_errno_to_status(err);
		goto out_put;
	}
	l->utf8string_val = buf;
	l->utf8string_len = (u_int)len;
out_put:
	fs_iput(nfs4_fs(cs), ip);
	return status;
}

/* Frees READLINK's text after encoding. */
void
nfs4_release_readlink(nfs_resop4 *res)
{
	linktext4 *l = &res->nfs_resop4_u.opreadlink.READLINK4res_u.resok4.link;

	free(l->utf8string_val);
	l->utf8string_val = NULL;
	l->utf8string_len = 0;
}

/*
 * OPENATTR (§18.17): named attributes are declined (the named_attr
 * attribute says false; RFC 8276 extended attributes are offered
 * instead).
 */
nfsstat4
nfs4_op_openattr(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	(void)cs;
	(void)arg;
	(void)res;
	return NFS4ERR_NOTSUPP;
}
