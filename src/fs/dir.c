/*
 * dir.c - directory entries: a name hash table plus a cookie-ordered array
 * (see dir.h).
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "dir.h"

/* First hash table size; doubles when entries outnumber buckets. */
#define DIR_BUCKETS_MIN	8

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

/*
 * FNV-1a over the name, then a seeded finalizer: names are chosen by
 * clients, so a per-directory seed keeps one from building long chains
 * on purpose.
 */
static uint64_t
name_hash(const struct fs_dir *d, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ d->seed;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)name[i];
		h *= 0x100000001b3ULL;
	}
	return mix64(h);
}

/*
 * An empty directory with a fresh hash seed; NULL without memory.
 */
struct fs_dir *
fs_dir_alloc(void)
{
	static atomic_uint_fast64_t seed_ctr;
	struct fs_dir *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->nbuckets = DIR_BUCKETS_MIN;
	d->buckets = calloc(d->nbuckets, sizeof(d->buckets[0]));
	if (!d->buckets) {
		free(d);
		return NULL;
	}
	d->next_cookie = FS_COOKIE_FIRST;
	d->seed = mix64(clock_now_ns() ^ (uintptr_t)d ^
			atomic_fetch_add(&seed_ctr, 0x9e3779b97f4a7c15ULL));
	return d;
}

/*
 * Free d and its entries.
 */
void
fs_dir_free(struct fs_dir *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nbuckets; i++) {
		struct fs_dirent *de = d->buckets[i], *n;

		for (; de; de = n) {
			n = de->hnext;
			free(de);
		}
	}
	free(d->buckets);
	free(d->order);
	free(d);
}

/*
 * fs_dir_lookup() that adds the chain entries it looked at to *probes
 * (complexity tests).  Locks: the directory's ILOCK (shared suffices).
 */
struct fs_dirent *
fs_dir_lookup_counted(const struct fs_dir *d, const char *name, size_t len,
		      uint64_t *probes)
{
	uint64_t h = name_hash(d, name, len);
	struct fs_dirent *de = d->buckets[h & (d->nbuckets - 1)];

	for (; de; de = de->hnext) {
		(*probes)++;
		if (de->hash == h && de->namelen == len &&
		    memcmp(de->name, name, len) == 0)
			return de;
	}
	return NULL;
}

/*
 * See dir.h.  Locks: the directory's ILOCK (shared suffices; counts into
 * a local so concurrent lookups share no written memory).
 */
struct fs_dirent *
fs_dir_lookup(const struct fs_dir *d, const char *name, size_t len)
{
	uint64_t probes = 0;

	return fs_dir_lookup_counted(d, name, len, &probes);
}

static int
dir_grow(struct fs_dir *d)
{
	size_t nb = d->nbuckets * 2;
	struct fs_dirent **b = calloc(nb, sizeof(b[0]));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < d->nbuckets; i++) {
		struct fs_dirent *de = d->buckets[i], *n;

		for (; de; de = n) {
			n = de->hnext;
			de->hnext = b[de->hash & (nb - 1)];
			b[de->hash & (nb - 1)] = de;
		}
	}
	free(d->buckets);
	d->buckets = b;
	d->nbuckets = nb;
	return 0;
}

/* Squeeze removed slots out of the order array; keeps cookie order. */
static void
order_compact(struct fs_dir *d)
{
	struct fs_dir_slot *o = d->order;
	size_t j = 0;

	for (size_t i = 0; i < d->norder; i++)
		if (o[i].de)
			o[j++] = o[i];
	d->norder = j;
	d->nholes = 0;
}

/* Index of the first slot with a cookie > cookie. */
static size_t
order_upper(const struct fs_dir *d, uint64_t cookie)
{
	const struct fs_dir_slot *o = d->order;
	size_t lo = 0, hi = d->norder;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o[mid].cookie > cookie)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/*
 * See dir.h.  Locks: the directory's ILOCK exclusive.
 */
int
fs_dir_add(struct fs_dir *d, const char *name, size_t len, uint64_t ino,
	   enum fs_ftype type, uint64_t cookie)
{
	struct fs_dirent *de;
	struct fs_dir_slot *o;
	uint64_t h;

	if (len == 0)
		return -EINVAL;
	if (len > FS_NAME_MAX)
		return -ENAMETOOLONG;
	if (cookie != 0 && cookie < d->next_cookie)
		return -EINVAL;
	if (fs_dir_lookup(d, name, len))
		return -EEXIST;
	if (d->norder == d->ordercap) {
		if (d->nholes > d->norder / 2) {
			order_compact(d);
		} else {
			size_t nc = d->ordercap ? d->ordercap * 2 : 8;
			void *no = realloc(d->order, nc * sizeof(struct fs_dir_slot));

			if (!no)
				return -ENOMEM;
			d->order = no;
			d->ordercap = nc;
		}
	}
	if (d->count + 1 > d->nbuckets) {
		int rc = dir_grow(d);

		if (rc)
			return rc;
	}
	de = malloc(sizeof(*de) + len + 1);
	if (!de)
		return -ENOMEM;
	h = name_hash(d, name, len);
	de->hash = h;
	de->cookie = cookie ? cookie : d->next_cookie;
	d->next_cookie = de->cookie + 1;
	de->ino = ino;
	de->type = (uint8_t)type;
	de->namelen = (uint16_t)len;
	memcpy(de->name, name, len);
	de->name[len] = '\0';
	de->hnext = d->buckets[h & (d->nbuckets - 1)];
	d->buckets[h & (d->nbuckets - 1)] = de;
	o = d->order;
	o[d->norder].cookie = de->cookie;
	o[d->norder].de = de;
	d->norder++;
	d->count++;
	return 0;
}

/*
 * See dir.h.  Locks: the directory's ILOCK exclusive.
 */
int
fs_dir_remove(struct fs_dir *d, const char *name, size_t len)
{
	uint64_t h = name_hash(d, name, len);
	struct fs_dirent **pp = &d->buckets[h & (d->nbuckets - 1)];
	struct fs_dirent *de;
	struct fs_dir_slot *o = d->order;
	size_t i;

	for (; (de = *pp); pp = &de->hnext) {
		d->probes++;
		if (de->hash == h && de->namelen == len &&
		    memcmp(de->name, name, len) == 0)
			break;
	}
	if (!de)
		return -ENOENT;
	*pp = de->hnext;
	i = order_upper(d, de->cookie);
	VERIFY(i > 0 && o[i - 1].de == de);
	o[i - 1].de = NULL;
	d->nholes++;
	d->count--;
	free(de);
	if (d->nholes > 64 && d->nholes > d->norder / 2)
		order_compact(d);
	return 0;
}

/*
 * Live entries.
 */
size_t
fs_dir_count(const struct fs_dir *d)
{
	return d->count;
}

/*
 * See dir.h.
 */
void
fs_dir_set_next_cookie(struct fs_dir *d, uint64_t next)
{
	if (next > d->next_cookie)
		d->next_cookie = next;
}

/*
 * See dir.h.  Locks: the directory's ILOCK (shared suffices).
 */
int
fs_dir_iterate(const struct fs_dir *d, uint64_t cookie,
	       int (*fn)(void *ctx, const struct fs_dirent *de), void *ctx)
{
	const struct fs_dir_slot *o = d->order;

	if (cookie != 0 && (cookie < FS_COOKIE_FIRST || cookie >= d->next_cookie))
		return -EBADR;
	for (size_t i = order_upper(d, cookie); i < d->norder; i++) {
		int rc;

		if (!o[i].de)
			continue;
		rc = fn(ctx, o[i].de);
		if (rc)
			return rc;
	}
	return 0;
}
