/*
 * ckpt.c - the checkpoint image: the whole in-memory metadata serialized
 * (save) and rebuilt (load).  Format in docs/format-records.md.
 *
 * Locking: save runs under fs->quiesce held exclusively (fs_checkpoint()),
 * so no change is in flight and inode contents are stable without their
 * ILOCKs; load runs at mount, single-threaded.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"

#define CKPT_MAGIC	0x54504b4353464e50ULL	/* "PNFSCKPT" */
#define CKPT_END_MAGIC	0x444e4543534e4650ULL	/* "PFNSCEND" as bytes */
#define CKPT_VERSION	1

struct ck_header {
	uint64_t	magic;
	uint32_t	version;
	uint32_t	pad;
	uint64_t	next_ino;
	uint64_t	root_ino;
	uint64_t	ninodes;
	uint64_t	nsrvrecs;
};

struct ck_inode {
	uint64_t		ino;
	uint64_t		gen;
	uint32_t		type;
	uint32_t		mode;
	uint32_t		uid;
	uint32_t		gid;
	uint32_t		nlink;
	uint32_t		rdev_major;
	uint32_t		rdev_minor;
	uint32_t		nxattrs;
	uint64_t		size;
	uint64_t		change;
	struct fs_rec_time	atime;
	struct fs_rec_time	mtime;
	struct fs_rec_time	ctime;
	struct fs_rec_time	btime;
	uint64_t		parent;
	uint64_t		next_cookie;
	uint64_t		nchildren;	/* dir: entries that follow */
	uint64_t		nextents;	/* reg: extents that follow */
	uint64_t		targetlen;	/* lnk: bytes that follow */
};

struct ck_dirent {
	uint64_t	ino;
	uint64_t	cookie;
	uint8_t		type;
	uint8_t		pad;
	uint16_t	namelen;
	uint32_t	pad2;
};

struct ck_xattr {
	uint16_t	namelen;
	uint16_t	pad;
	uint32_t	vlen;
};

struct ck_srv {
	uint32_t	klen;
	uint32_t	vlen;
};

/* The sizes docs/format-records.md gives. */
_Static_assert(sizeof(struct ck_header) == 48, "checkpoint header");
_Static_assert(sizeof(struct ck_inode) == 168, "checkpoint inode");
_Static_assert(sizeof(struct ck_dirent) == 24, "checkpoint entry");
_Static_assert(sizeof(struct fs_ext) == 32, "checkpoint extent");

/* Pad variable-length data to 8 bytes so every struct stays aligned. */
static const uint8_t zero_pad[8];

static int
put_padded(struct vol_ckpt_writer *w, const void *buf, size_t len)
{
	int rc = len ? vol_ckpt_put(w, buf, len) : 0;

	if (rc == 0 && (len & 7))
		rc = vol_ckpt_put(w, zero_pad, 8 - (len & 7));
	return rc;
}

static int
get_padded(struct vol_ckpt_reader *r, void *buf, size_t len)
{
	uint8_t pad[8];
	int rc = len ? vol_ckpt_get(r, buf, len) : 0;

	if (rc == 0 && (len & 7))
		rc = vol_ckpt_get(r, pad, 8 - (len & 7));
	return rc;
}

struct save_ctx {
	struct fs		*fs;
	struct vol_ckpt_writer	*w;
};

static int
save_dirent(void *ctx, const struct fs_dirent *de)
{
	struct vol_ckpt_writer *w = ctx;
	struct ck_dirent cd = {
		.ino = de->ino,
		.cookie = de->cookie,
		.type = de->type,
		.namelen = de->namelen,
	};
	int rc = vol_ckpt_put(w, &cd, sizeof(cd));

	return rc ? rc : put_padded(w, de->name, de->namelen);
}

static int
save_ext(void *ctx, const struct fs_ext *e)
{
	return vol_ckpt_put(ctx, e, sizeof(*e));
}

static int
save_inode(void *ctx, struct fs_inode *ip)
{
	struct save_ctx *sc = ctx;
	struct ck_inode ci;
	struct fs_xattr *x;
	int rc;

	memset(&ci, 0, sizeof(ci));
	ci.ino = ip->ino;
	ci.gen = ip->gen;
	ci.type = ip->type;
	ci.mode = ip->mode;
	ci.uid = ip->uid;
	ci.gid = ip->gid;
	ci.nlink = ip->nlink;
	ci.rdev_major = ip->rdev_major;
	ci.rdev_minor = ip->rdev_minor;
	for (x = ip->xattrs; x; x = x->next)
		ci.nxattrs++;
	ci.size = ip->size;
	ci.change = ip->change;
	fs_time_to_rec(&ci.atime, &ip->atime);
	fs_time_to_rec(&ci.mtime, &ip->mtime);
	fs_time_to_rec(&ci.ctime, &ip->ctime);
	fs_time_to_rec(&ci.btime, &ip->btime);
	ci.parent = ip->parent;
	if (ip->dir) {
		ci.next_cookie = ip->dir->next_cookie;
		ci.nchildren = fs_dir_count(ip->dir);
	}
	if (ip->map)
		ci.nextents = fs_extmap_count(ip->map);
	if (ip->target)
		ci.targetlen = strlen(ip->target);
	rc = vol_ckpt_put(sc->w, &ci, sizeof(ci));
	if (rc)
		return rc;
	if (ip->dir) {
		rc = fs_dir_iterate(ip->dir, 0, save_dirent, sc->w);
		if (rc)
			return rc;
	}
	if (ip->map) {
		rc = fs_extmap_walk(ip->map, 0, UINT64_MAX, save_ext, sc->w);
		if (rc)
			return rc;
	}
	if (ip->target) {
		rc = put_padded(sc->w, ip->target, ci.targetlen);
		if (rc)
			return rc;
	}
	for (x = ip->xattrs; x; x = x->next) {
		struct ck_xattr cx = { .namelen = x->namelen, .vlen = x->vlen };

		if ((rc = vol_ckpt_put(sc->w, &cx, sizeof(cx))) ||
		    (rc = put_padded(sc->w, x->name, x->namelen)) ||
		    (rc = put_padded(sc->w, x->val, x->vlen)))
			return rc;
	}
	return 0;
}

/*
 * vol_checkpoint() callback: stream the whole metadata image.
 * Locks: fs->quiesce held exclusively (asserted).
 */
int
fs_ckpt_save(void *ctx, struct vol_ckpt_writer *w)
{
	struct fs *fs = ctx;
	struct save_ctx sc = { .fs = fs, .w = w };
	struct ck_header h = {
		.magic = CKPT_MAGIC,
		.version = CKPT_VERSION,
		.next_ino = atomic_load(&fs->next_ino),
		.root_ino = fs->root_ino,
		.ninodes = atomic_load(&fs->ninodes),
		.nsrvrecs = fs->srv_count,
	};
	uint64_t end = CKPT_END_MAGIC;
	int rc;

	rwlock_assert_held(&fs->quiesce, LOCK_EXCL);
	rc = vol_ckpt_put(w, &h, sizeof(h));
	if (rc)
		return rc;
	rc = fs_itable_walk(fs, save_inode, &sc);
	if (rc)
		return rc;
	mutex_lock(&fs->srv_lock);
	for (size_t b = 0; b < fs->srv_nbuckets && !rc; b++) {
		for (struct fs_srvrec *s = fs->srv_buckets[b]; s && !rc;
		     s = s->next) {
			struct ck_srv cs = { .klen = s->klen, .vlen = s->vlen };

			rc = vol_ckpt_put(w, &cs, sizeof(cs));
			if (!rc)
				rc = put_padded(w, s->data, s->klen);
			if (!rc)
				rc = put_padded(w, s->data + s->klen, s->vlen);
		}
	}
	mutex_unlock(&fs->srv_lock);
	if (rc)
		return rc;
	return vol_ckpt_put(w, &end, sizeof(end));
}

static int
load_inode(struct fs *fs, struct vol_ckpt_reader *r)
{
	struct ck_inode ci;
	struct fs_inode *ip;
	char name[FS_NAME_MAX + 8];
	int rc;

	rc = vol_ckpt_get(r, &ci, sizeof(ci));
	if (rc)
		return -EUCLEAN;
	if (ci.type < FS_TYPE_REG || ci.type > FS_TYPE_FIFO || ci.ino == 0 ||
	    ci.ino >= atomic_load(&fs->next_ino) || fs_itable_find(fs, ci.ino))
		return -EUCLEAN;
	if ((ci.type != FS_TYPE_DIR && ci.nchildren) ||
	    (ci.type != FS_TYPE_REG && ci.nextents) ||
	    (ci.type != FS_TYPE_LNK && ci.targetlen) ||
	    ci.targetlen > FS_SYMLINK_MAX)
		return -EUCLEAN;
	ip = fs_inode_alloc(fs, ci.ino, ci.type);
	if (!ip)
		return -ENOMEM;
	ip->gen = ci.gen;
	ip->mode = ci.mode;
	ip->uid = ci.uid;
	ip->gid = ci.gid;
	ip->nlink = ci.nlink;
	ip->rdev_major = ci.rdev_major;
	ip->rdev_minor = ci.rdev_minor;
	ip->size = ci.size;
	ip->change = ci.change;
	fs_time_from_rec(&ip->atime, &ci.atime);
	fs_time_from_rec(&ip->mtime, &ci.mtime);
	fs_time_from_rec(&ip->ctime, &ci.ctime);
	fs_time_from_rec(&ip->btime, &ci.btime);
	ip->parent = ci.parent;
	for (uint64_t i = 0; i < ci.nchildren; i++) {
		struct ck_dirent cd;

		rc = vol_ckpt_get(r, &cd, sizeof(cd));
		if (rc || cd.namelen == 0 || cd.namelen > FS_NAME_MAX) {
			rc = -EUCLEAN;
			goto out_destroy;
		}
		rc = get_padded(r, name, cd.namelen);
		if (rc) {
			rc = -EUCLEAN;
			goto out_destroy;
		}
		rc = fs_dir_add(ip->dir, name, cd.namelen, cd.ino, cd.type,
				cd.cookie);
		if (rc) {
			rc = rc == -ENOMEM ? rc : -EUCLEAN;
			goto out_destroy;
		}
	}
	if (ip->dir)
		fs_dir_set_next_cookie(ip->dir, ci.next_cookie);
	for (uint64_t i = 0; i < ci.nextents; i++) {
		struct fs_ext e;

		rc = vol_ckpt_get(r, &e, sizeof(e));
		if (rc) {
			rc = -EUCLEAN;
			goto out_destroy;
		}
		rc = fs_extmap_insert(ip->map, &e);
		if (rc) {
			rc = rc == -ENOMEM ? rc : -EUCLEAN;
			goto out_destroy;
		}
	}
	if (ci.type == FS_TYPE_LNK) {
		ip->target = malloc(ci.targetlen + 1);
		if (!ip->target) {
			rc = -ENOMEM;
			goto out_destroy;
		}
		rc = get_padded(r, ip->target, ci.targetlen);
		if (rc) {
			rc = -EUCLEAN;
			goto out_destroy;
		}
		ip->target[ci.targetlen] = '\0';
	}
	for (uint32_t i = 0; i < ci.nxattrs; i++) {
		struct ck_xattr cx;
		void *val;

		rc = vol_ckpt_get(r, &cx, sizeof(cx));
		if (rc || cx.namelen == 0 || cx.namelen > FS_XATTR_NAME_MAX ||
		    cx.vlen > FS_XATTR_VALUE_MAX) {
			rc = -EUCLEAN;
			goto out_destroy;
		}
		val = malloc(cx.vlen + 8);
		if (!val) {
			rc = -ENOMEM;
			goto out_destroy;
		}
		rc = get_padded(r, name, cx.namelen);
		if (!rc)
			rc = get_padded(r, val, cx.vlen);
		if (!rc)
			rc = fs_xattr_apply_set(ip, name, cx.namelen, val, cx.vlen);
		free(val);
		if (rc) {
			rc = rc == -ENOMEM ? rc : -EUCLEAN;
			goto out_destroy;
		}
	}
	fs_itable_insert(fs, ip);
	return 0;

out_destroy:
	fs_inode_destroy(ip);
	return rc;
}

/*
 * vol_checkpoint_load() callback: rebuild the metadata from the image
 * (an empty image: a new volume).  Locks: none (mount).  Returns 0,
 * -EUCLEAN (bad image), -EPROTONOSUPPORT, -ENOMEM.
 */
int
fs_ckpt_load(void *ctx, struct vol_ckpt_reader *r)
{
	struct fs *fs = ctx;
	struct ck_header h;
	uint64_t end;
	int rc;

	if (vol_ckpt_remaining(r) == 0) {
		fs->root_ino = 0;	/* fresh volume: mount creates the root */
		return 0;
	}
	rc = vol_ckpt_get(r, &h, sizeof(h));
	if (rc || h.magic != CKPT_MAGIC) {
		log_error("fs: checkpoint image has no valid header");
		return -EUCLEAN;
	}
	if (h.version != CKPT_VERSION) {
		log_error("fs: checkpoint image version %u, want %u",
			  h.version, CKPT_VERSION);
		return -EPROTONOSUPPORT;
	}
	atomic_store(&fs->next_ino, h.next_ino);
	fs->root_ino = h.root_ino;
	for (uint64_t i = 0; i < h.ninodes; i++) {
		rc = load_inode(fs, r);
		if (rc) {
			log_error("fs: checkpoint: inode %llu of %llu is bad: %d",
				  (unsigned long long)i,
				  (unsigned long long)h.ninodes, rc);
			return rc;
		}
	}
	for (uint64_t i = 0; i < h.nsrvrecs; i++) {
		struct ck_srv cs;
		uint8_t *buf;

		rc = vol_ckpt_get(r, &cs, sizeof(cs));
		if (rc || cs.klen == 0 || cs.klen > FS_SRVREC_KEY_MAX ||
		    cs.vlen > FS_SRVREC_VAL_MAX)
			return -EUCLEAN;
		buf = malloc(cs.klen + cs.vlen + 16);
		if (!buf)
			return -ENOMEM;
		rc = get_padded(r, buf, cs.klen);
		if (!rc)
			rc = get_padded(r, buf + cs.klen + 8, cs.vlen);
		if (!rc)
			rc = fs_srv_set(fs, buf, cs.klen, buf + cs.klen + 8,
					cs.vlen);
		free(buf);
		if (rc)
			return rc == -ENOMEM ? rc : -EUCLEAN;
	}
	rc = vol_ckpt_get(r, &end, sizeof(end));
	if (rc || end != CKPT_END_MAGIC || !fs_itable_find(fs, fs->root_ino)) {
		log_error("fs: checkpoint image is truncated or has no root");
		return -EUCLEAN;
	}
	return 0;
}
