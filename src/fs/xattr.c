/*
 * xattr.c - extended attributes (RFC 8276) and the server state record
 * store (fs_srvrec_*).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"

/* Bucket count of the server record table at start; doubles when full. */
#define SRV_BUCKETS_MIN	64

static struct fs_xattr *
xattr_find(struct fs_inode *ip, const char *name, size_t namelen)
{
	for (struct fs_xattr *x = ip->xattrs; x; x = x->next)
		if (x->namelen == namelen && memcmp(x->name, name, namelen) == 0)
			return x;
	return NULL;
}

/* Locks: ILOCK exclusive, or mount. */
int
fs_xattr_apply_set(struct fs_inode *ip, const char *name, size_t namelen,
		   const void *val, size_t vlen)
{
	struct fs_xattr *x = xattr_find(ip, name, namelen);
	void *nv = malloc(vlen ? vlen : 1);

	if (!nv)
		return -ENOMEM;
	memcpy(nv, val, vlen);
	if (x) {
		free(x->val);
		x->val = nv;
		x->vlen = (uint32_t)vlen;
		return 0;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		goto out_val;
	x->name = malloc(namelen + 1);
	if (!x->name)
		goto out_x;
	memcpy(x->name, name, namelen);
	x->name[namelen] = '\0';
	x->namelen = (uint16_t)namelen;
	x->val = nv;
	x->vlen = (uint32_t)vlen;
	x->next = ip->xattrs;
	ip->xattrs = x;
	return 0;

out_x:
	free(x);
out_val:
	free(nv);
	return -ENOMEM;
}

/*
 * Remove an attribute (apply / repair).  Locks: ILOCK exclusive or mount.
 * Returns 0 or -ENODATA.
 */
int
fs_xattr_apply_del(struct fs_inode *ip, const char *name, size_t namelen)
{
	struct fs_xattr **pp = &ip->xattrs, *x;

	for (; (x = *pp); pp = &x->next) {
		if (x->namelen == namelen && memcmp(x->name, name, namelen) == 0) {
			*pp = x->next;
			free(x->name);
			free(x->val);
			free(x);
			return 0;
		}
	}
	return -ENODATA;
}

static int
xattr_name_check(const char *name, size_t *len)
{
	size_t l = strnlen(name, FS_XATTR_NAME_MAX + 1);

	if (l == 0)
		return -EINVAL;
	if (l > FS_XATTR_NAME_MAX)
		return -ENAMETOOLONG;
	*len = l;
	return 0;
}

/*
 * See include/fs.h (GETXATTR, RFC 8276).  Locks: takes ILOCK shared.
 */
int
fs_xattr_get(struct fs *fs, struct fs_inode *ip, const char *name, void *buf,
	     size_t bufsz, size_t *len)
{
	struct fs_xattr *x;
	size_t nl;
	int rc = xattr_name_check(name, &nl);

	if (rc)
		return rc;
	fs_ilock(ip, FS_ILOCK_SHARED);
	x = xattr_find(ip, name, nl);
	if (!x) {
		rc = -ENODATA;
	} else {
		*len = x->vlen;
		if (x->vlen > bufsz)
			rc = -ERANGE;
		else
			memcpy(buf, x->val, x->vlen);
	}
	fs_iunlock(ip, FS_ILOCK_SHARED);
	return rc;
}

static int
xattr_change(struct fs *fs, struct fs_inode *ip, const char *name,
	     const void *val, size_t vlen, unsigned flags, bool del)
{
	struct fs_rec_xattr *r;
	struct fs_time now;
	size_t nl, rlen;
	int rc = xattr_name_check(name, &nl);

	if (rc)
		return rc;
	if (vlen > FS_XATTR_VALUE_MAX)
		return -E2BIG;
	rlen = sizeof(*r) + nl + vlen;
	r = calloc(1, rlen);
	if (!r)
		return -ENOMEM;
	r->ino = ip->ino;
	r->namelen = (uint16_t)nl;
	r->vlen = (uint32_t)vlen;
	memcpy(r->data, name, nl);
	if (vlen)
		memcpy(r->data + nl, val, vlen);
	for (;;) {
		struct fs_xattr *x;

		rc = fs_tx_begin(fs);
		if (rc)
			break;
		fs_ilock(ip, FS_ILOCK_EXCL);
		x = xattr_find(ip, name, nl);
		if (del && !x)
			rc = -ENODATA;
		else if (!del && x && (flags & FS_XATTR_CREATE))
			rc = -EEXIST;
		else if (!del && !x && (flags & FS_XATTR_REPLACE))
			rc = -ENODATA;
		else if (ip->nlink == 0 && ip->type == FS_TYPE_DIR)
			rc = -ENOENT;
		if (!rc) {
			fs_time_now(&now);
			fs_time_to_rec(&r->time, &now);
			rc = fs_log_apply(fs, del ? FS_REC_XATTR_DEL :
					  FS_REC_XATTR_SET, r, (uint32_t)rlen);
		}
		fs_iunlock(ip, FS_ILOCK_EXCL);
		fs_tx_end(fs);
		if (rc != FS_ELOGFULL)
			break;
		rc = fs_checkpoint(fs);
		if (rc)
			break;
	}
	free(r);
	return rc;
}

/*
 * See include/fs.h (SETXATTR, RFC 8276).  Locks: takes quiesce shared and
 * ILOCK exclusive.
 */
int
fs_xattr_set(struct fs *fs, struct fs_inode *ip, const char *name,
	     const void *val, size_t len, unsigned flags)
{
	return xattr_change(fs, ip, name, val, len, flags, false);
}

/*
 * See include/fs.h (REMOVEXATTR, RFC 8276).  Locks as fs_xattr_set().
 */
int
fs_xattr_remove(struct fs *fs, struct fs_inode *ip, const char *name)
{
	return xattr_change(fs, ip, name, NULL, 0, 0, true);
}

/*
 * See include/fs.h (LISTXATTRS, RFC 8276).  Locks: takes ILOCK shared.
 */
int
fs_xattr_list(struct fs *fs, struct fs_inode *ip,
	      int (*fn)(void *ctx, const char *name), void *ctx)
{
	int rc = 0;

	fs_ilock(ip, FS_ILOCK_SHARED);
	for (struct fs_xattr *x = ip->xattrs; x && !rc; x = x->next)
		rc = fn(ctx, x->name);
	fs_iunlock(ip, FS_ILOCK_SHARED);
	return rc;
}

/* ---- server state records ---- */

static uint64_t
srv_hash(const void *key, size_t klen)
{
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < klen; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h ^ (h >> 32);
}

/*
 * Set up the empty server record store.  Locks: none (mount).
 */
void
fs_srv_init(struct fs *fs)
{
	mutex_init(&fs->srv_lock, "fs.srvrec");
	fs->srv_buckets = NULL;
	fs->srv_nbuckets = 0;
	fs->srv_count = 0;
}

/*
 * Free the server record store.  Locks: no other thread uses fs.
 */
void
fs_srv_destroy(struct fs *fs)
{
	for (size_t b = 0; b < fs->srv_nbuckets; b++) {
		struct fs_srvrec *s = fs->srv_buckets[b], *n;

		for (; s; s = n) {
			n = s->next;
			free(s);
		}
	}
	free(fs->srv_buckets);
	mutex_destroy(&fs->srv_lock);
}

/* Locks: srv_lock. */
static struct fs_srvrec **
srv_slot(struct fs *fs, const void *key, size_t klen, uint64_t h)
{
	struct fs_srvrec **pp;

	if (fs->srv_nbuckets == 0)
		return NULL;
	pp = &fs->srv_buckets[h & (fs->srv_nbuckets - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->klen == klen &&
		    memcmp((*pp)->data, key, klen) == 0)
			return pp;
	return pp;
}

static int
srv_grow(struct fs *fs)
{
	size_t nb = fs->srv_nbuckets ? fs->srv_nbuckets * 2 : SRV_BUCKETS_MIN;
	struct fs_srvrec **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < fs->srv_nbuckets; i++) {
		struct fs_srvrec *s = fs->srv_buckets[i], *n;

		for (; s; s = n) {
			n = s->next;
			s->next = b[s->hash & (nb - 1)];
			b[s->hash & (nb - 1)] = s;
		}
	}
	free(fs->srv_buckets);
	fs->srv_buckets = b;
	fs->srv_nbuckets = nb;
	return 0;
}

/*
 * Insert or replace a record in memory (apply, checkpoint load).
 * Locks: takes srv_lock.  Returns 0 or -ENOMEM.
 */
int
fs_srv_set(struct fs *fs, const void *key, size_t klen, const void *val,
	   size_t vlen)
{
	uint64_t h = srv_hash(key, klen);
	struct fs_srvrec *s, **pp;
	int rc = 0;

	s = malloc(sizeof(*s) + klen + vlen);
	if (!s)
		return -ENOMEM;
	s->hash = h;
	s->klen = (uint32_t)klen;
	s->vlen = (uint32_t)vlen;
	memcpy(s->data, key, klen);
	if (vlen)
		memcpy(s->data + klen, val, vlen);
	mutex_lock(&fs->srv_lock);
	if (fs->srv_count + 1 > fs->srv_nbuckets) {
		rc = srv_grow(fs);
		if (rc && fs->srv_nbuckets == 0) {
			mutex_unlock(&fs->srv_lock);
			free(s);
			return rc;
		}
	}
	pp = srv_slot(fs, key, klen, h);
	if (*pp) {
		s->next = (*pp)->next;
		free(*pp);
	} else {
		s->next = NULL;
		fs->srv_count++;
	}
	*pp = s;
	mutex_unlock(&fs->srv_lock);
	return 0;
}

/*
 * Remove a record from memory (apply).  Locks: takes srv_lock.
 * Returns 0 or -ENOENT.
 */
int
fs_srv_unset(struct fs *fs, const void *key, size_t klen)
{
	struct fs_srvrec **pp, *s;
	int rc = -ENOENT;

	mutex_lock(&fs->srv_lock);
	pp = srv_slot(fs, key, klen, srv_hash(key, klen));
	if (pp && (s = *pp)) {
		*pp = s->next;
		free(s);
		fs->srv_count--;
		rc = 0;
	}
	mutex_unlock(&fs->srv_lock);
	return rc;
}

static int
srv_change(struct fs *fs, const void *key, size_t klen, const void *val,
	   size_t vlen, bool del)
{
	size_t rlen = sizeof(struct fs_rec_srv) + klen + vlen;
	struct fs_rec_srv *r;
	int rc;

	if (klen == 0 || klen > FS_SRVREC_KEY_MAX || vlen > FS_SRVREC_VAL_MAX)
		return -EINVAL;
	r = malloc(rlen);
	if (!r)
		return -ENOMEM;
	r->klen = (uint32_t)klen;
	r->vlen = (uint32_t)vlen;
	memcpy(r->data, key, klen);
	if (vlen)
		memcpy(r->data + klen, val, vlen);
	for (;;) {
		rc = fs_tx_begin(fs);
		if (rc)
			break;
		/*
		 * The record store has no inode lock: srv_lock can not be held
		 * across the append (it is a leaf), so concurrent changes of
		 * one key are ordered by the log, and the NFS layer must not
		 * change one key from two threads at once.
		 */
		if (del) {
			mutex_lock(&fs->srv_lock);
			struct fs_srvrec **pp =
				srv_slot(fs, key, klen, srv_hash(key, klen));

			rc = (pp && *pp) ? 0 : -ENOENT;
			mutex_unlock(&fs->srv_lock);
		}
		if (!rc)
			rc = fs_log_apply(fs, del ? FS_REC_SRV_DEL : FS_REC_SRV_PUT,
					  r, (uint32_t)rlen);
		fs_tx_end(fs);
		if (rc != FS_ELOGFULL)
			break;
		rc = fs_checkpoint(fs);
		if (rc)
			break;
	}
	free(r);
	return rc;
}

/*
 * See include/fs.h.  Locks: takes quiesce shared.
 */
int
fs_srvrec_put(struct fs *fs, const void *key, size_t klen, const void *val,
	      size_t vlen)
{
	return srv_change(fs, key, klen, val, vlen, false);
}

/*
 * See include/fs.h.  Locks: takes quiesce shared.
 */
int
fs_srvrec_del(struct fs *fs, const void *key, size_t klen)
{
	return srv_change(fs, key, klen, NULL, 0, true);
}

/*
 * See include/fs.h.  Locks: takes srv_lock.
 */
int
fs_srvrec_get(struct fs *fs, const void *key, size_t klen, void *buf,
	      size_t bufsz, size_t *len)
{
	struct fs_srvrec **pp;
	int rc = -ENOENT;

	mutex_lock(&fs->srv_lock);
	pp = srv_slot(fs, key, klen, srv_hash(key, klen));
	if (pp && *pp) {
		*len = (*pp)->vlen;
		if ((*pp)->vlen > bufsz) {
			rc = -ERANGE;
		} else {
			memcpy(buf, (*pp)->data + klen, (*pp)->vlen);
			rc = 0;
		}
	}
	mutex_unlock(&fs->srv_lock);
	return rc;
}

/*
 * See include/fs.h.  Locks: srv_lock held while fn runs.
 */
int
fs_srvrec_iterate(struct fs *fs,
		  int (*fn)(void *ctx, const void *key, size_t klen,
			    const void *val, size_t vlen),
		  void *ctx)
{
	int rc = 0;

	mutex_lock(&fs->srv_lock);
	for (size_t b = 0; b < fs->srv_nbuckets && !rc; b++)
		for (struct fs_srvrec *s = fs->srv_buckets[b]; s && !rc;
		     s = s->next)
			rc = fn(ctx, s->data, s->klen, s->data + s->klen,
				s->vlen);
	mutex_unlock(&fs->srv_lock);
	return rc;
}
