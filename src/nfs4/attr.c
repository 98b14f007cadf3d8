/*
 * attr.c - fattr4 encode and decode (RFC 8881 §5).
 *
 * Encoding writes XDR by hand into one buffer: GETATTR runs on every
 * client stat() and is benchmarked, and an xdrmem stream per attribute
 * costs more than the attribute.  Which attributes are supported, which
 * are writable and which may be set by an EXCLUSIVE4_1 create is said
 * once, in the bitmaps below; docs/fsvc.md lists them with the reasons
 * for those we decline.
 *
 * Locking: no locks of its own; fs_getattr()/fs_statfs() take the
 * engine's.  Ownership: encode results are malloc'ed, freed with
 * nfs4_fattr_free().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fsvc.h"

#define BIT(n)		(1u << ((n) % 32))
#define ATTR_WORDS	3
/* RFC 9754 §5.1: the OPEN arguments this server takes (no XDR for it). */
#define FATTR4_OPEN_ARGUMENTS_NUM	86

/* The attributes we answer (RFC 8881 §5.6, §5.7; RFC 8276 §8.2 for 82). */
static const uint32_t attr_supported[ATTR_WORDS] = {
	BIT(FATTR4_SUPPORTED_ATTRS) | BIT(FATTR4_TYPE) |
	BIT(FATTR4_FH_EXPIRE_TYPE) | BIT(FATTR4_CHANGE) | BIT(FATTR4_SIZE) |
	BIT(FATTR4_LINK_SUPPORT) | BIT(FATTR4_SYMLINK_SUPPORT) |
	BIT(FATTR4_NAMED_ATTR) | BIT(FATTR4_FSID) |
	BIT(FATTR4_UNIQUE_HANDLES) | BIT(FATTR4_LEASE_TIME) |
	BIT(FATTR4_RDATTR_ERROR) | BIT(FATTR4_ACLSUPPORT) |
	BIT(FATTR4_CANSETTIME) | BIT(FATTR4_CASE_INSENSITIVE) |
	BIT(FATTR4_CASE_PRESERVING) | BIT(FATTR4_CHOWN_RESTRICTED) |
	BIT(FATTR4_FILEHANDLE) | BIT(FATTR4_FILEID) |
	BIT(FATTR4_FILES_AVAIL) | BIT(FATTR4_FILES_FREE) |
	BIT(FATTR4_FILES_TOTAL) | BIT(FATTR4_HOMOGENEOUS) |
	BIT(FATTR4_MAXFILESIZE) | BIT(FATTR4_MAXLINK) | BIT(FATTR4_MAXNAME) |
	BIT(FATTR4_MAXREAD) | BIT(FATTR4_MAXWRITE),
	BIT(FATTR4_MODE) | BIT(FATTR4_NO_TRUNC) | BIT(FATTR4_NUMLINKS) |
	BIT(FATTR4_OWNER) | BIT(FATTR4_OWNER_GROUP) | BIT(FATTR4_RAWDEV) |
	BIT(FATTR4_SPACE_AVAIL) | BIT(FATTR4_SPACE_FREE) |
	BIT(FATTR4_SPACE_TOTAL) | BIT(FATTR4_SPACE_USED) |
	BIT(FATTR4_TIME_ACCESS) | BIT(FATTR4_TIME_ACCESS_SET) |
	BIT(FATTR4_TIME_CREATE) | BIT(FATTR4_TIME_DELTA) |
	BIT(FATTR4_TIME_METADATA) | BIT(FATTR4_TIME_MODIFY) |
	BIT(FATTR4_TIME_MODIFY_SET) | BIT(FATTR4_MOUNTED_ON_FILEID) |
	BIT(FATTR4_FS_LAYOUT_TYPES),
	BIT(FATTR4_LAYOUT_BLKSIZE) | BIT(FATTR4_SUPPATTR_EXCLCREAT) |
	BIT(FATTR4_XATTR_SUPPORT) | BIT(FATTR4_OPEN_ARGUMENTS_NUM),
};
/* NFSv4.2-only attributes, hidden from 4.1 clients. */
static const uint32_t attr_v42_only[ATTR_WORDS] = {
	0, 0, BIT(FATTR4_XATTR_SUPPORT),
};
/* What SETATTR and createattrs may set (§5.5: the rest is read-only). */
static const uint32_t attr_writable[ATTR_WORDS] = {
	BIT(FATTR4_SIZE),
	BIT(FATTR4_MODE) | BIT(FATTR4_OWNER) | BIT(FATTR4_OWNER_GROUP) |
	BIT(FATTR4_TIME_ACCESS_SET) | BIT(FATTR4_TIME_CREATE) |
	BIT(FATTR4_TIME_MODIFY_SET),
	0,
};
/* Write-only: GETATTR of them is NFS4ERR_INVAL (§5.5). */
static const uint32_t attr_write_only[ATTR_WORDS] = {
	0, BIT(FATTR4_TIME_ACCESS_SET) | BIT(FATTR4_TIME_MODIFY_SET), 0,
};
/*
 * suppattr_exclcreat (§5.8.1.14, §18.16.3): the writable ones without the
 * times, which an EXCLUSIVE4 create may use to keep its verifier.
 */
static const uint32_t attr_exclcreat[ATTR_WORDS] = {
	BIT(FATTR4_SIZE),
	BIT(FATTR4_MODE) | BIT(FATTR4_OWNER) | BIT(FATTR4_OWNER_GROUP),
	0,
};

/* Largest READ/WRITE we advertise (the session limits bound it too). */
#define NFS4_ATTR_IO_MAX	(1u << 20)
/* Room for COMPOUND/RPC headers around READ data or WRITE data. */
#define NFS4_ATTR_IO_SLACK	1024u
/* Links per file: the engine counts in 32 bits; advertise a sane bound. */
#define NFS4_ATTR_MAXLINK	65000u
/* Pseudo filesystem's fsid: never an export's (their minor is 0). */
#define NFS4_PSEUDO_FSID_MAJOR	0
#define NFS4_PSEUDO_FSID_MINOR	1
/* Initial encode buffer: a full Linux GETATTR fits without growing. */
#define NFS4_ATTR_BUF_INIT	512

struct abuf {
	uint8_t	*p;
	size_t	len;
	size_t	cap;
	bool	oom;
};

static bool
abuf_room(struct abuf *b, size_t n)
{
	uint8_t *np;
	size_t cap;

	if (b->oom)
		return false;
	if (b->len + n <= b->cap)
		return true;
	cap = MAX(b->cap * 2, b->len + n + NFS4_ATTR_BUF_INIT);
	np = realloc(b->p, cap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = cap;
	return true;
}

static void
put32(struct abuf *b, uint32_t v)
{
	if (!abuf_room(b, 4))
		return;
	b->p[b->len++] = (uint8_t)(v >> 24);
	b->p[b->len++] = (uint8_t)(v >> 16);
	b->p[b->len++] = (uint8_t)(v >> 8);
	b->p[b->len++] = (uint8_t)v;
}

static void
put64(struct abuf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

static void
put_opaque(struct abuf *b, const void *data, uint32_t len)
{
	uint32_t pad = (4 - (len & 3)) & 3;

	put32(b, len);
	if (!abuf_room(b, (size_t)len + pad))
		return;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	memset(b->p + b->len, 0, pad);
	b->len += pad;
}

static void
put_time(struct abuf *b, const struct fs_time *t)
{
	put64(b, (uint64_t)t->sec);
	put32(b, t->nsec);
}

static void
put_bitmap(struct abuf *b, const uint32_t *w, unsigned n)
{
	while (n > 0 && w[n - 1] == 0)
		n--;
	put32(b, n);
	for (unsigned i = 0; i < n; i++)
		put32(b, w[i]);
}

static bool
bit_isset(const uint32_t *w, unsigned nw, unsigned attr)
{
	return attr / 32 < nw && (w[attr / 32] & BIT(attr));
}

static void
supported_for(const struct nfs4_compound *cs, uint32_t out[ATTR_WORDS])
{
	for (unsigned i = 0; i < ATTR_WORDS; i++) {
		out[i] = attr_supported[i];
		if (cs->minorversion < 2)
			out[i] &= ~attr_v42_only[i];
	}
}

static uint32_t
ftype4(enum fs_ftype t)
{
	switch (t) {
	case FS_TYPE_REG:
		return NF4REG;
	case FS_TYPE_DIR:
		return NF4DIR;
	case FS_TYPE_LNK:
		return NF4LNK;
	case FS_TYPE_BLK:
		return NF4BLK;
	case FS_TYPE_CHR:
		return NF4CHR;
	case FS_TYPE_SOCK:
		return NF4SOCK;
	case FS_TYPE_FIFO:
		return NF4FIFO;
	default:
		return NF4REG;
	}
}

static uint32_t
io_max(const struct nfs4_compound *cs)
{
	uint32_t m = NFS4_ATTR_IO_MAX;
	const struct nfs4_config *c = &cs->srv->cfg;

	if (c->max_resp_size > NFS4_ATTR_IO_SLACK)
		m = MIN(m, c->max_resp_size - NFS4_ATTR_IO_SLACK);
	if (c->max_req_size > NFS4_ATTR_IO_SLACK)
		m = MIN(m, c->max_req_size - NFS4_ATTR_IO_SLACK);
	return m;
}

/*
 * See fsvc.h.  Encodes the attributes of one object (a, with handle fh and
 * the export/pseudo facts) that are set in req into out.  rdattr_error is
 * the value for FATTR4_RDATTR_ERROR (READDIR) — NFS4_OK in GETATTR.
 * NFS4ERR_INVAL when req asks for a write-only attribute.
 * Locks: none held; may take the engine's (fs_statfs).
 */
nfsstat4
nfs4_attr_encode_obj(struct nfs4_compound *cs, const struct nfs4_attr_obj *o,
		     const bitmap4 *req, fattr4 *out)
{
	const uint32_t *rw = req->bitmap4_val;
	unsigned rn = req->bitmap4_len;
	uint32_t sup[ATTR_WORDS], got[ATTR_WORDS] = { 0, 0, 0 };
	const struct fs_attr *a = o->attr;
	struct fs_statfs sf;
	bool have_sf = false;
	struct abuf b = { NULL, 0, 0, false };
	char idbuf[256];
	size_t idlen;
	int err;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < MIN(rn, ATTR_WORDS); i++)
		if (rw[i] & attr_write_only[i])
			return NFS4ERR_INVAL;
	supported_for(cs, sup);
	if (!abuf_room(&b, NFS4_ATTR_BUF_INIT))
		return NFS4ERR_DELAY;
	for (unsigned w = 0; w < MIN(rn, ATTR_WORDS); w++) {
		uint32_t bits = rw[w] & sup[w];

		while (bits) {
			unsigned bit = (unsigned)__builtin_ctz(bits);
			unsigned attr = w * 32 + bit;

			bits &= bits - 1;
			got[w] |= 1u << bit;
			switch (attr) {
			case FATTR4_SUPPORTED_ATTRS:
				put_bitmap(&b, sup, ATTR_WORDS);
				break;
			case FATTR4_TYPE:
				put32(&b, ftype4(a->type));
				break;
			case FATTR4_FH_EXPIRE_TYPE:
				put32(&b, FH4_PERSISTENT);
				break;
			case FATTR4_CHANGE:
				put64(&b, a->change);
				break;
			case FATTR4_SIZE:
				put64(&b, a->size);
				break;
			case FATTR4_LINK_SUPPORT:
			case FATTR4_SYMLINK_SUPPORT:
			case FATTR4_UNIQUE_HANDLES:
			case FATTR4_CANSETTIME:
			case FATTR4_CASE_PRESERVING:
			case FATTR4_CHOWN_RESTRICTED:
			case FATTR4_HOMOGENEOUS:
			case FATTR4_NO_TRUNC:
				put32(&b, 1);
				break;
			case FATTR4_NAMED_ATTR:
			case FATTR4_CASE_INSENSITIVE:
				put32(&b, 0);
				break;
			case FATTR4_FSID:
				if (o->pseudo) {
					put64(&b, NFS4_PSEUDO_FSID_MAJOR);
					put64(&b, NFS4_PSEUDO_FSID_MINOR);
				} else {
					put64(&b, o->fsid);
					put64(&b, 0);
				}
				break;
			case FATTR4_LEASE_TIME:
				put32(&b, cs->srv->cfg.lease_sec);
				break;
			case FATTR4_RDATTR_ERROR:
				put32(&b, (uint32_t)o->rdattr_error);
				break;
			case FATTR4_ACLSUPPORT:
				put32(&b, 0);	/* no ACLs (docs/fsvc.md) */
				break;
			case FATTR4_FILEHANDLE:
				put_opaque(&b, o->fh, o->fhlen);
				break;
			case FATTR4_FILEID:
			case FATTR4_MOUNTED_ON_FILEID:
				/*
				 * Exports and pseudo directories are volume
				 * directories themselves, so what a mount
				 * covers has the same number.
				 */
				put64(&b, a->ino);
				break;
			case FATTR4_FILES_AVAIL:
			case FATTR4_FILES_FREE:
			case FATTR4_FILES_TOTAL:
			case FATTR4_SPACE_AVAIL:
			case FATTR4_SPACE_FREE:
			case FATTR4_SPACE_TOTAL:
				if (!have_sf) {
					err = fs_statfs(nfs4_fs(cs), &sf);
					if (err) {
						free(b.p);
						return nfs4_errno_to_status(err);
					}
					have_sf = true;
				}
				if (attr == FATTR4_FILES_AVAIL ||
				    attr == FATTR4_FILES_FREE)
					put64(&b, sf.inodes_free);
				else if (attr == FATTR4_FILES_TOTAL)
					put64(&b, sf.inodes_free +
						  sf.inodes_used);
				else if (attr == FATTR4_SPACE_TOTAL)
					put64(&b, sf.blocks_total *
						  sf.block_size);
				else
					put64(&b, sf.blocks_free *
						  sf.block_size);
				break;
			case FATTR4_MAXFILESIZE:
				put64(&b, FS_MAX_FILE_SIZE);
				break;
			case FATTR4_MAXLINK:
				put32(&b, NFS4_ATTR_MAXLINK);
				break;
			case FATTR4_MAXNAME:
				put32(&b, FS_NAME_MAX);
				break;
			case FATTR4_MAXREAD:
			case FATTR4_MAXWRITE:
				put64(&b, io_max(cs));
				break;
			case FATTR4_MODE:
				put32(&b, a->mode & 07777);
				break;
			case FATTR4_NUMLINKS:
				put32(&b, a->nlink);
				break;
			case FATTR4_OWNER:
			case FATTR4_OWNER_GROUP:
				idlen = nfs4_idmap_id_to_str(
					attr == FATTR4_OWNER ? a->uid : a->gid,
					attr == FATTR4_OWNER_GROUP, idbuf,
					sizeof(idbuf));
				put_opaque(&b, idbuf, (uint32_t)idlen);
				break;
			case FATTR4_RAWDEV:
				put32(&b, a->rdev_major);
				put32(&b, a->rdev_minor);
				break;
			case FATTR4_SPACE_USED:
				put64(&b, a->space_used);
				break;
			case FATTR4_TIME_ACCESS:
				put_time(&b, &a->atime);
				break;
			case FATTR4_TIME_CREATE:
				put_time(&b, &a->btime);
				break;
			case FATTR4_TIME_DELTA: {
				/* The engine keeps nanoseconds. */
				struct fs_time d = { 0, 1 };

				put_time(&b, &d);
				break;
			}
			case FATTR4_TIME_METADATA:
				put_time(&b, &a->ctime);
				break;
			case FATTR4_TIME_MODIFY:
				put_time(&b, &a->mtime);
				break;
			case FATTR4_FS_LAYOUT_TYPES:
				put32(&b, 0);	/* none until pNFS lands */
				break;
			case FATTR4_LAYOUT_BLKSIZE:
				put32(&b, fs_block_size(nfs4_fs(cs)));
				break;
			case FATTR4_SUPPATTR_EXCLCREAT:
				put_bitmap(&b, attr_exclcreat, ATTR_WORDS);
				break;
			case FATTR4_XATTR_SUPPORT:
				put32(&b, 1);
				break;
			case FATTR4_OPEN_ARGUMENTS_NUM: {
				/* open_arguments4: five one-word bitmap4s. */
				struct state_open_arguments oa;

				state_open_arguments(&oa);
				put32(&b, 1);
				put32(&b, oa.share_access);
				put32(&b, 1);
				put32(&b, oa.share_deny);
				put32(&b, 1);
				put32(&b, oa.share_access_want);
				put32(&b, 1);
				put32(&b, oa.open_claim);
				put32(&b, 1);
				put32(&b, oa.create_mode);
				break;
			}
			default:
				/* In sup but not encoded: a bug here. */
				VERIFY(0);
			}
		}
	}
	if (b.oom) {
		free(b.p);
		return NFS4ERR_DELAY;
	}
	{
		unsigned n = ATTR_WORDS;

		while (n > 0 && got[n - 1] == 0)
			n--;
		out->attrmask.bitmap4_len = n;
		out->attrmask.bitmap4_val = NULL;
		if (n) {
			out->attrmask.bitmap4_val = malloc(n * sizeof(uint32_t));
			if (!out->attrmask.bitmap4_val) {
				free(b.p);
				return NFS4ERR_DELAY;
			}
			memcpy(out->attrmask.bitmap4_val, got,
			       n * sizeof(uint32_t));
		}
	}
	out->attr_vals.attrlist4_len = (u_int)b.len;
	out->attr_vals.attrlist4_val = (char *)b.p;
	return NFS4_OK;
}

/* See fsvc.h.  Locks: none held; takes the engine's. */
nfsstat4
nfs4_attr_encode(struct nfs4_compound *cs, struct fs_inode *ip,
		 const bitmap4 *req, fattr4 *out)
{
	struct fs_attr a;
	int err;

	err = fs_getattr(nfs4_fs(cs), ip, &a);
	if (err)
		return nfs4_errno_to_status(err);
	return nfs4_attr_encode_attr(cs, &a, req, out);
}

/*
 * See fsvc.h: encode attributes a (already read, perhaps adjusted) of
 * the current filehandle's object.  Locks: none held.
 */
nfsstat4
nfs4_attr_encode_attr(struct nfs4_compound *cs, const struct fs_attr *a,
		      const bitmap4 *req, fattr4 *out)
{
	struct nfs4_attr_obj o;

	o.attr = a;
	o.pseudo = nfs4_cur_is_pseudo(cs);
	o.fsid = nfs4_cur_fsid(cs);
	o.fh = cs->current_fh.data;
	o.fhlen = cs->current_fh.len;
	o.rdattr_error = NFS4_OK;
	return nfs4_attr_encode_obj(cs, &o, req, out);
}

/* See fsvc.h. */
void
nfs4_fattr_free(fattr4 *f)
{
	free(f->attrmask.bitmap4_val);
	free(f->attr_vals.attrlist4_val);
	memset(f, 0, sizeof(*f));
}

/* See fsvc.h. */
void
nfs4_bitmap_free(bitmap4 *b)
{
	free(b->bitmap4_val);
	b->bitmap4_val = NULL;
	b->bitmap4_len = 0;
}

/* --- decode ------------------------------------------------------------------ */

struct dbuf {
	const uint8_t	*p;
	size_t		len;
	size_t		pos;
};

static bool
get32(struct dbuf *d, uint32_t *v)
{
	if (d->len - d->pos < 4)
		return false;
	*v = (uint32_t)d->p[d->pos] << 24 | (uint32_t)d->p[d->pos + 1] << 16 |
	     (uint32_t)d->p[d->pos + 2] << 8 | d->p[d->pos + 3];
	d->pos += 4;
	return true;
}

static bool
get64(struct dbuf *d, uint64_t *v)
{
	uint32_t hi, lo;

	if (!get32(d, &hi) || !get32(d, &lo))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

static bool
get_opaque(struct dbuf *d, const uint8_t **data, uint32_t *len)
{
	uint32_t pad;

	if (!get32(d, len))
		return false;
	pad = (4 - (*len & 3)) & 3;
	if (d->len - d->pos < (size_t)*len + pad)
		return false;
	*data = d->p + d->pos;
	d->pos += *len + pad;
	return true;
}

/* nfstime4 from the client: nseconds must be below a second (§3.3.1). */
static nfsstat4
get_time(struct dbuf *d, struct fs_time *t)
{
	uint64_t sec;
	uint32_t nsec;

	if (!get64(d, &sec) || !get32(d, &nsec))
		return NFS4ERR_BADXDR;
	if (nsec >= NSEC_PER_SEC)
		return NFS4ERR_INVAL;
	t->sec = (int64_t)sec;
	t->nsec = nsec;
	return NFS4_OK;
}

/* settime4: *now true for SET_TO_SERVER_TIME4. */
static nfsstat4
get_settime(struct dbuf *d, struct fs_time *t, bool *now)
{
	uint32_t how;

	if (!get32(d, &how))
		return NFS4ERR_BADXDR;
	if (how == SET_TO_SERVER_TIME4) {
		*now = true;
		return NFS4_OK;
	}
	if (how != SET_TO_CLIENT_TIME4)
		return NFS4ERR_BADXDR;
	*now = false;
	return get_time(d, t);
}

/*
 * See fsvc.h (RFC 8881 §5.5, §18.30.3): every attribute in the mask must
 * be supported (NFS4ERR_ATTRNOTSUPP) and writable (NFS4ERR_INVAL), values
 * must decode and fill attr_vals exactly (NFS4ERR_BADXDR), owners must
 * map (NFS4ERR_BADOWNER).  No locks.
 */
nfsstat4
nfs4_attr_decode(struct nfs4_compound *cs, const fattr4 *in,
		 struct fs_setattr *out, bitmap4 *attrsset)
{
	const uint32_t *w = in->attrmask.bitmap4_val;
	unsigned nw = in->attrmask.bitmap4_len;
	struct dbuf d = {
		(const uint8_t *)in->attr_vals.attrlist4_val,
		in->attr_vals.attrlist4_len, 0,
	};
	uint32_t sup[ATTR_WORDS], set[ATTR_WORDS] = { 0, 0, 0 };
	const uint8_t *s;
	uint32_t len, v32;
	nfsstat4 status;
	bool now;

	memset(out, 0, sizeof(*out));
	if (attrsset) {
		attrsset->bitmap4_len = 0;
		attrsset->bitmap4_val = NULL;
	}
	supported_for(cs, sup);
	/* First the mask: unsupported before read-only, whatever the values. */
	for (unsigned i = 0; i < nw; i++) {
		uint32_t s_i = i < ATTR_WORDS ? sup[i] : 0;
		uint32_t w_i = i < ATTR_WORDS ? attr_writable[i] : 0;

		if (w[i] & ~s_i)
			return NFS4ERR_ATTRNOTSUPP;
		if (w[i] & ~w_i)
			return NFS4ERR_INVAL;
	}
	for (unsigned attr = 0; attr < nw * 32 && attr < ATTR_WORDS * 32;
	     attr++) {
		if (!bit_isset(w, nw, attr))
			continue;
		switch (attr) {
		case FATTR4_SIZE:
			if (!get64(&d, &out->size))
				return NFS4ERR_BADXDR;
			out->mask |= FS_SET_SIZE;
			break;
		case FATTR4_MODE:
			if (!get32(&d, &v32))
				return NFS4ERR_BADXDR;
			if (v32 & ~07777u)
				return NFS4ERR_INVAL;
			out->mode = v32;
			out->mask |= FS_SET_MODE;
			break;
		case FATTR4_OWNER:
		case FATTR4_OWNER_GROUP:
			if (!get_opaque(&d, &s, &len))
				return NFS4ERR_BADXDR;
			status = nfs4_idmap_str_to_id((const char *)s, len,
						      attr == FATTR4_OWNER_GROUP,
						      attr == FATTR4_OWNER ?
						      &out->uid : &out->gid);
			if (status != NFS4_OK)
				return status;
			out->mask |= attr == FATTR4_OWNER ? FS_SET_UID :
							    FS_SET_GID;
			break;
		case FATTR4_TIME_ACCESS_SET:
			status = get_settime(&d, &out->atime, &now);
			if (status != NFS4_OK)
				return status;
			out->mask |= now ? FS_SET_ATIME_NOW : FS_SET_ATIME;
			break;
		case FATTR4_TIME_MODIFY_SET:
			status = get_settime(&d, &out->mtime, &now);
			if (status != NFS4_OK)
				return status;
			out->mask |= now ? FS_SET_MTIME_NOW : FS_SET_MTIME;
			break;
		case FATTR4_TIME_CREATE:
			status = get_time(&d, &out->btime);
			if (status != NFS4_OK)
				return status;
			out->mask |= FS_SET_BTIME;
			break;
		default:
			return NFS4ERR_ATTRNOTSUPP;
		}
		set[attr / 32] |= BIT(attr);
	}
	if (d.pos != d.len)
		return NFS4ERR_BADXDR;
	if (attrsset) {
		unsigned n = ATTR_WORDS;

		while (n > 0 && set[n - 1] == 0)
			n--;
		if (n) {
			attrsset->bitmap4_val = malloc(n * sizeof(uint32_t));
			if (!attrsset->bitmap4_val)
				return NFS4ERR_DELAY;
			memcpy(attrsset->bitmap4_val, set, n * sizeof(uint32_t));
		}
		attrsset->bitmap4_len = n;
	}
	return NFS4_OK;
}

/*
 * See fsvc.h: check a client's attribute mask for GETATTR-like use
 * (VERIFY, NVERIFY): NFS4ERR_ATTRNOTSUPP for an unsupported attribute,
 * NFS4ERR_INVAL for a write-only one or rdattr_error (§18.31.3).
 */
nfsstat4
nfs4_attr_check_verify_mask(struct nfs4_compound *cs, const bitmap4 *m)
{
	uint32_t sup[ATTR_WORDS];

	supported_for(cs, sup);
	for (unsigned i = 0; i < m->bitmap4_len; i++) {
		uint32_t v = m->bitmap4_val[i];

		if (i < ATTR_WORDS && (v & attr_write_only[i]))
			return NFS4ERR_INVAL;
		if (v & ~(i < ATTR_WORDS ? sup[i] : 0))
			return NFS4ERR_ATTRNOTSUPP;
	}
	if (bit_isset(m->bitmap4_val, m->bitmap4_len, FATTR4_RDATTR_ERROR))
		return NFS4ERR_INVAL;
	return NFS4_OK;
}

/*
 * See fsvc.h: READDIR's attr_request may name unsupported attributes
 * (they are left out), but not write-only ones (NFS4ERR_INVAL, §5.5).
 */
nfsstat4
nfs4_attr_check_readdir_mask(struct nfs4_compound *cs, const bitmap4 *m)
{
	(void)cs;
	for (unsigned i = 0; i < MIN(m->bitmap4_len, ATTR_WORDS); i++)
		if (m->bitmap4_val[i] & attr_write_only[i])
			return NFS4ERR_INVAL;
	return NFS4_OK;
}
