/*
 * inode.c - the inode table (sharded hash by inode number), inode life
 * cycle and references, getattr.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs_impl.h"

/* First bucket count per shard; a shard doubles when it gets full. */
#define ISHARD_BUCKETS_MIN	64

static inline uint64_t
ino_hash(uint64_t ino)
{
	ino ^= ino >> 31;
	ino *= 0x9e3779b97f4a7c15ULL;
	return ino ^ (ino >> 29);
}

static struct fs_ishard *
shard_of(struct fs *fs, uint64_t ino)
{
	return &fs->shards[ino_hash(ino) % FS_ITABLE_SHARDS];
}

/*
 * Set up the empty inode table.  Locks: none (mount).
 */
void
fs_itable_init(struct fs *fs)
{
	for (int i = 0; i < FS_ITABLE_SHARDS; i++) {
		struct fs_ishard *s = &fs->shards[i];

		mutex_init(&s->lock, "fs.ishard");
		s->buckets = NULL;
		s->nbuckets = 0;
		s->count = 0;
	}
	atomic_store(&fs->ninodes, 0);
}

/*
 * Free every inode of the table.  Locks: no other thread uses fs.
 */
void
fs_itable_destroy(struct fs *fs)
{
	for (int i = 0; i < FS_ITABLE_SHARDS; i++) {
		struct fs_ishard *s = &fs->shards[i];

		for (size_t b = 0; b < s->nbuckets; b++) {
			struct fs_inode *ip = s->buckets[b], *n;

			for (; ip; ip = n) {
				n = ip->hnext;
				fs_inode_destroy(ip);
			}
		}
		free(s->buckets);
		mutex_destroy(&s->lock);
	}
}

/*
 * A new inode of type with its lock and reference sets initialized, not
 * in the table yet.  Returns NULL when out of memory.
 */
struct fs_inode *
fs_inode_alloc(struct fs *fs, uint64_t ino, enum fs_ftype type)
{
	struct fs_inode *ip = calloc(1, sizeof(*ip));

	if (!ip)
		return NULL;
	ip->ino = ino;
	ip->fs = fs;
	ip->type = type;
	if (type == FS_TYPE_DIR) {
		ip->dir = fs_dir_alloc();
		if (!ip->dir)
			goto out_free;
	} else if (type == FS_TYPE_REG) {
		ip->map = fs_extmap_alloc();
		if (!ip->map)
			goto out_free;
	}
	atomic_init(&ip->iref, 0);
	fs_ilock_init(ip);
	return ip;

out_free:
	free(ip);
	return NULL;
}

/*
 * Free ip and everything it owns.  Locks: none of ip's held, its
 * reference set empty (fs_ilock_destroy() verifies).
 */
void
fs_inode_destroy(struct fs_inode *ip)
{
	struct fs_xattr *x, *n;

	fs_ilock_destroy(ip);
	fs_dir_free(ip->dir);
	fs_extmap_free(ip->map);
	free(ip->target);
	for (x = ip->xattrs; x; x = n) {
		n = x->next;
		free(x->name);
		free(x->val);
		free(x);
	}
	free(ip);
}

/* Locks: the shard's lock. */
static int
shard_grow(struct fs_ishard *s)
{
	size_t nb = s->nbuckets ? s->nbuckets * 2 : ISHARD_BUCKETS_MIN;
	struct fs_inode **b = calloc(nb, sizeof(b[0]));

	mutex_assert_held(&s->lock);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < s->nbuckets; i++) {
		struct fs_inode *ip = s->buckets[i], *n;

		for (; ip; ip = n) {
			size_t h = ino_hash(ip->ino) / FS_ITABLE_SHARDS & (nb - 1);

			n = ip->hnext;
			ip->hnext = b[h];
			b[h] = ip;
		}
	}
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
	return 0;
}

static size_t
shard_bucket(const struct fs_ishard *s, uint64_t ino)
{
	return ino_hash(ino) / FS_ITABLE_SHARDS & (s->nbuckets - 1);
}

/*
 * Add ip to the table.  Growing a shard can fail for memory only when
 * the table already has buckets: then the chains just get longer, so the
 * insert itself never fails once the first allocation worked.
 */
void
fs_itable_insert(struct fs *fs, struct fs_inode *ip)
{
	struct fs_ishard *s = shard_of(fs, ip->ino);
	size_t h;

	mutex_lock(&s->lock);
	if (s->count + 1 > s->nbuckets) {
		int rc = shard_grow(s);

		VERIFY(rc == 0 || s->nbuckets > 0);
	}
	h = shard_bucket(s, ip->ino);
	ip->hnext = s->buckets[h];
	s->buckets[h] = ip;
	s->count++;
	atomic_fetch_add(&fs->ninodes, 1);
	mutex_unlock(&s->lock);
}

/*
 * Take ip out of the table.  Locks: takes the shard lock.
 */
void
fs_itable_remove(struct fs *fs, struct fs_inode *ip)
{
	struct fs_ishard *s = shard_of(fs, ip->ino);
	struct fs_inode **pp;

	mutex_lock(&s->lock);
	pp = &s->buckets[shard_bucket(s, ip->ino)];
	while (*pp && *pp != ip)
		pp = &(*pp)->hnext;
	VERIFY(*pp == ip);
	*pp = ip->hnext;
	s->count--;
	atomic_fetch_sub(&fs->ninodes, 1);
	mutex_unlock(&s->lock);
}

/* Locks: the shard's lock. */
static struct fs_inode *
shard_find(struct fs_ishard *s, uint64_t ino)
{
	struct fs_inode *ip;

	mutex_assert_held(&s->lock);
	if (s->nbuckets == 0)
		return NULL;
	for (ip = s->buckets[shard_bucket(s, ino)]; ip; ip = ip->hnext)
		if (ip->ino == ino)
			return ip;
	return NULL;
}

/*
 * The inode numbered ino or NULL, without a reference: for callers that
 * already keep it alive (apply under ILOCKs, quiesced walks).
 */
struct fs_inode *
fs_itable_find(struct fs *fs, uint64_t ino)
{
	struct fs_ishard *s = shard_of(fs, ino);
	struct fs_inode *ip;

	mutex_lock(&s->lock);
	ip = shard_find(s, ino);
	mutex_unlock(&s->lock);
	return ip;
}

/*
 * Call fn on every inode, shard by shard, under each shard's lock (fn
 * must not block or take inode locks).  Returns fn's first non-zero.
 */
int
fs_itable_walk(struct fs *fs, int (*fn)(void *ctx, struct fs_inode *ip),
	       void *ctx)
{
	for (int i = 0; i < FS_ITABLE_SHARDS; i++) {
		struct fs_ishard *s = &fs->shards[i];
		int rc = 0;

		mutex_lock(&s->lock);
		for (size_t b = 0; b < s->nbuckets && !rc; b++) {
			struct fs_inode *ip = s->buckets[b], *n;

			for (; ip && !rc; ip = n) {
				n = ip->hnext;	/* fn may not free ip, but be safe */
				rc = fn(ctx, ip);
			}
		}
		mutex_unlock(&s->lock);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Take a reference.  An inode with no link and no reference is being
 * evicted (fs_iput() saw its last reference go): it is already gone for
 * filehandles, -ESTALE.
 */
int
fs_iget(struct fs *fs, uint64_t ino, uint64_t gen, struct fs_inode **out)
{
	struct fs_ishard *s = shard_of(fs, ino);
	struct fs_inode *ip;
	int rc = 0;

	mutex_lock(&s->lock);
	ip = shard_find(s, ino);
	/* nlink is read only when nobody holds a reference (and so nobody
	 * can be changing it). */
	if (!ip || (gen != 0 && ip->gen != gen) ||
	    (atomic_load(&ip->iref) == 0 && ip->nlink == 0)) {
		rc = -ESTALE;
	} else {
		atomic_fetch_add(&ip->iref, 1);
		*out = ip;
	}
	mutex_unlock(&s->lock);
	return rc;
}

/*
 * See include/fs.h: one more reference (the caller already holds one).
 */
void
fs_ihold(struct fs_inode *ip)
{
	VERIFY(atomic_fetch_add(&ip->iref, 1) > 0);
}

/*
 * Drop a reference.  The last reference of an inode without links frees
 * it (fs_inode_evict() logs that); the decision is made under the shard
 * lock so fs_iget() cannot revive it meanwhile.  nlink is stable here:
 * changing it needs a reference.
 * Locks: the caller holds no inode lock of ip (eviction takes them).
 */
void
fs_iput(struct fs *fs, struct fs_inode *ip)
{
	struct fs_ishard *s = shard_of(fs, ip->ino);
	bool evict;

	mutex_lock(&s->lock);
	VERIFY(atomic_load(&ip->iref) > 0);
	evict = atomic_fetch_sub(&ip->iref, 1) == 1 && ip->nlink == 0;
	mutex_unlock(&s->lock);
	if (evict)
		fs_inode_evict(fs, ip);
}

/*
 * See include/fs.h.
 */
uint64_t
fs_inode_number(const struct fs_inode *ip)
{
	return ip->ino;
}

/*
 * The server's time (CLOCK_REALTIME) for a new record.
 */
void
fs_time_now(struct fs_time *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	t->sec = ts.tv_sec;
	t->nsec = (uint32_t)ts.tv_nsec;
}

/*
 * Copy a time into its record form.
 */
void
fs_time_to_rec(struct fs_rec_time *r, const struct fs_time *t)
{
	r->sec = t->sec;
	r->nsec = t->nsec;
	r->pad = 0;
}

/*
 * Copy a record time out.
 */
void
fs_time_from_rec(struct fs_time *t, const struct fs_rec_time *r)
{
	t->sec = r->sec;
	t->nsec = r->nsec;
}

/*
 * See include/fs.h.  Locks: takes ILOCK shared.
 */
int
fs_getattr(struct fs *fs, struct fs_inode *ip, struct fs_attr *a)
{
	fs_ilock(ip, FS_ILOCK_SHARED);
	a->ino = ip->ino;
	a->gen = ip->gen;
	a->type = ip->type;
	a->mode = ip->mode;
	a->uid = ip->uid;
	a->gid = ip->gid;
	a->nlink = ip->nlink;
	a->size = ip->size;
	a->space_used = ip->map ? ip->map->nblocks * fs->bsize : 0;
	if (ip->type == FS_TYPE_LNK && ip->target)
		a->space_used = ip->size;
	a->atime = ip->atime;
	a->mtime = ip->mtime;
	a->ctime = ip->ctime;
	a->btime = ip->btime;
	a->change = ip->change;
	a->rdev_major = ip->rdev_major;
	a->rdev_minor = ip->rdev_minor;
	fs_iunlock(ip, FS_ILOCK_SHARED);
	return 0;
}

/*
 * A name a directory entry may have: not empty, "." or "..", no '/',
 * at most FS_NAME_MAX bytes.  Returns 0 and *len, -EINVAL, -ENAMETOOLONG.
 */
int
fs_name_check(const char *name, size_t *len)
{
	size_t l = strnlen(name, FS_NAME_MAX + 1);

	if (l == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return -EINVAL;
	if (l > FS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', l))
		return -EINVAL;
	*len = l;
	return 0;
}
