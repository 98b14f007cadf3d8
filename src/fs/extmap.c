/*
 * extmap.c - the per-file block map (see extmap.h for the structure).
 *
 * A position in the map is (chunk index, index in chunk).  Chunks are never
 * empty except transiently inside one call; an empty map has no chunk.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "extmap.h"

/*
 * A chunk's array grows by doubling from EXTMAP_CHUNK_MIN up to
 * FS_EXTMAP_CHUNK: most files have one or two extents, and a full 8 KiB
 * chunk for each of a million small files would be 8 GiB.
 */
#define EXTMAP_CHUNK_MIN	2

struct fs_extmap_chunk {
	uint32_t	n;
	uint32_t	cap;
	struct fs_ext	e[];
};

static struct fs_extmap_chunk *
chunk_alloc(uint32_t cap)
{
	struct fs_extmap_chunk *c = malloc(sizeof(*c) + cap * sizeof(c->e[0]));

	if (c) {
		c->n = 0;
		c->cap = cap;
	}
	return c;
}

static inline uint64_t
ext_end(const struct fs_ext *e)
{
	return e->fblk + e->len;
}

static bool
ext_mergeable(const struct fs_ext *a, const struct fs_ext *b)
{
	return ext_end(a) == b->fblk && a->vblk + a->len == b->vblk &&
	       a->state == b->state;
}

/*
 * An empty map; NULL without memory.
 */
struct fs_extmap *
fs_extmap_alloc(void)
{
	return calloc(1, sizeof(struct fs_extmap));
}

/*
 * Free m (the blocks it maps are the caller's business).
 */
void
fs_extmap_free(struct fs_extmap *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->nchunks; i++)
		free(m->chunks[i]);
	free(m->chunks);
	free(m);
}

/*
 * Position of the first extent whose end is > fblk (the extent holding
 * fblk, or the one after the hole holding it).  *ci == m->nchunks when
 * there is none.
 */
static void
ext_find(const struct fs_extmap *m, uint64_t fblk, uint32_t *ci, uint32_t *ei)
{
	uint32_t lo = 0, hi = m->nchunks;

	/* First chunk whose last extent ends after fblk. */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		const struct fs_extmap_chunk *c = m->chunks[mid];

		if (ext_end(&c->e[c->n - 1]) > fblk)
			hi = mid;
		else
			lo = mid + 1;
	}
	*ci = lo;
	*ei = 0;
	if (lo == m->nchunks)
		return;

	const struct fs_extmap_chunk *c = m->chunks[lo];
	uint32_t l = 0, h = c->n;

	while (l < h) {
		uint32_t mid = l + (h - l) / 2;

		if (ext_end(&c->e[mid]) > fblk)
			h = mid;
		else
			l = mid + 1;
	}
	*ei = l;
}

static struct fs_ext *
ext_at(const struct fs_extmap *m, uint32_t ci, uint32_t ei)
{
	if (ci >= m->nchunks || ei >= m->chunks[ci]->n)
		return NULL;
	return &m->chunks[ci]->e[ei];
}

/* Step to the next / previous position; false at the end / start. */
static bool
pos_next(const struct fs_extmap *m, uint32_t *ci, uint32_t *ei)
{
	if (*ci >= m->nchunks)
		return false;
	if (*ei + 1 < m->chunks[*ci]->n) {
		(*ei)++;
		return true;
	}
	if (*ci + 1 < m->nchunks) {
		(*ci)++;
		*ei = 0;
		return true;
	}
	return false;
}

static bool
pos_prev(const struct fs_extmap *m, uint32_t *ci, uint32_t *ei)
{
	if (*ei > 0) {
		(*ei)--;
		return true;
	}
	if (*ci > 0 && *ci - 1 < m->nchunks) {
		(*ci)--;
		*ei = m->chunks[*ci]->n - 1;
		return true;
	}
	return false;
}

static int
chunks_reserve(struct fs_extmap *m, uint32_t want)
{
	if (want <= m->cap)
		return 0;

	uint32_t ncap = m->cap ? m->cap * 2 : 4;

	while (ncap < want)
		ncap *= 2;
	struct fs_extmap_chunk **nc = realloc(m->chunks, ncap * sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	m->chunks = nc;
	m->cap = ncap;
	return 0;
}

/* Insert chunk c at top-level index ci. */
static int
chunk_insert(struct fs_extmap *m, uint32_t ci, struct fs_extmap_chunk *c)
{
	int rc = chunks_reserve(m, m->nchunks + 1);

	if (rc)
		return rc;
	memmove(&m->chunks[ci + 1], &m->chunks[ci],
		(m->nchunks - ci) * sizeof(m->chunks[0]));
	m->moved += m->nchunks - ci;
	m->chunks[ci] = c;
	m->nchunks++;
	return 0;
}

static void
chunk_delete(struct fs_extmap *m, uint32_t ci)
{
	free(m->chunks[ci]);
	memmove(&m->chunks[ci], &m->chunks[ci + 1],
		(m->nchunks - ci - 1) * sizeof(m->chunks[0]));
	m->moved += m->nchunks - ci - 1;
	m->nchunks--;
}

/*
 * Insert e before position (ci, ei); ei may equal the chunk's count
 * (append to that chunk).  Splits a full chunk in two halves.
 */
static int
ext_insert_at(struct fs_extmap *m, uint32_t ci, uint32_t ei,
	      const struct fs_ext *e)
{
	struct fs_extmap_chunk *c;
	int rc;

	if (m->nchunks == 0) {
		c = chunk_alloc(EXTMAP_CHUNK_MIN);
		if (!c)
			return -ENOMEM;
		rc = chunk_insert(m, 0, c);
		if (rc) {
			free(c);
			return rc;
		}
		ci = 0;
		ei = 0;
	}
	if (ci == m->nchunks) {		/* append at the very end */
		ci = m->nchunks - 1;
		ei = m->chunks[ci]->n;
	}
	c = m->chunks[ci];
	if (c->n == c->cap && c->cap < FS_EXTMAP_CHUNK) {
		uint32_t ncap = MIN(c->cap * 2, FS_EXTMAP_CHUNK);
		struct fs_extmap_chunk *g = realloc(c, sizeof(*c) +
						    ncap * sizeof(c->e[0]));

		if (!g)
			return -ENOMEM;
		g->cap = ncap;
		m->chunks[ci] = c = g;
	}
	if (c->n == FS_EXTMAP_CHUNK) {
		struct fs_extmap_chunk *nc = chunk_alloc(FS_EXTMAP_CHUNK);
		uint32_t half = FS_EXTMAP_CHUNK / 2;

		if (!nc)
			return -ENOMEM;
		/*
		 * Appending at the end of the last chunk (a file written
		 * sequentially) starts a fresh chunk instead of splitting,
		 * so sequential maps end up with full chunks.
		 */
		if (ci == m->nchunks - 1 && ei == c->n)
			half = c->n;
		nc->n = c->n - half;
		memcpy(nc->e, &c->e[half], nc->n * sizeof(c->e[0]));
		m->moved += nc->n;
		rc = chunk_insert(m, ci + 1, nc);
		if (rc) {
			free(nc);
			return rc;
		}
		c->n = half;
		if (ei > half) {
			ei -= half;
			c = nc;
		} else if (ei == half && half == FS_EXTMAP_CHUNK) {
			ei = 0;
			c = nc;
		}
	}
	memmove(&c->e[ei + 1], &c->e[ei], (c->n - ei) * sizeof(c->e[0]));
	m->moved += c->n - ei;
	c->e[ei] = *e;
	c->n++;
	m->nextents++;
	m->nblocks += e->len;
	return 0;
}

static void
ext_delete_at(struct fs_extmap *m, uint32_t ci, uint32_t ei)
{
	struct fs_extmap_chunk *c = m->chunks[ci];

	m->nblocks -= c->e[ei].len;
	m->nextents--;
	memmove(&c->e[ei], &c->e[ei + 1], (c->n - ei - 1) * sizeof(c->e[0]));
	m->moved += c->n - ei - 1;
	c->n--;
	if (c->n == 0)
		chunk_delete(m, ci);
}

/*
 * See extmap.h.  Locks: the inode's ILOCK (shared suffices).
 */
int
fs_extmap_lookup(const struct fs_extmap *m, uint64_t fblk, struct fs_ext *out)
{
	uint32_t ci, ei;
	const struct fs_ext *e;

	ext_find(m, fblk, &ci, &ei);
	e = ext_at(m, ci, ei);
	if (!e) {
		memset(out, 0, sizeof(*out));
		return -ENOENT;
	}
	*out = *e;
	return e->fblk <= fblk ? 0 : -ENOENT;
}

/*
 * Merge the extent at the position holding fblk with its successor and
 * predecessor when they continue each other.
 */
static void
ext_merge_around(struct fs_extmap *m, uint64_t fblk)
{
	uint32_t ci, ei, pci, pei;
	struct fs_ext *e, *p;

	ext_find(m, fblk, &ci, &ei);
	e = ext_at(m, ci, ei);
	if (!e || e->fblk > fblk)
		return;
	/* Successor into e. */
	pci = ci;
	pei = ei;
	if (pos_next(m, &pci, &pei)) {
		p = ext_at(m, pci, pei);
		if (ext_mergeable(e, p)) {
			uint64_t l = p->len;

			ext_delete_at(m, pci, pei);
			/* e may have moved only if its chunk was deleted:
			 * it was not (different or still non-empty chunk). */
			e = ext_at(m, ci, ei);
			e->len += l;
			m->nblocks += l;
		}
	}
	/* e into its predecessor. */
	pci = ci;
	pei = ei;
	if (pos_prev(m, &pci, &pei)) {
		p = ext_at(m, pci, pei);
		if (ext_mergeable(p, e)) {
			uint64_t l = e->len;

			ext_delete_at(m, ci, ei);
			p = ext_at(m, pci, pei);
			p->len += l;
			m->nblocks += l;
		}
	}
}

/*
 * See extmap.h.  Locks: the inode's ILOCK exclusive.
 */
int
fs_extmap_insert(struct fs_extmap *m, const struct fs_ext *e)
{
	uint32_t ci, ei;
	const struct fs_ext *next;
	int rc;

	if (e->len == 0 || e->fblk + e->len < e->fblk)
		return -EINVAL;
	ext_find(m, e->fblk, &ci, &ei);
	next = ext_at(m, ci, ei);
	if (next && next->fblk < ext_end(e))
		return -EEXIST;
	rc = ext_insert_at(m, ci, ei, e);
	if (rc)
		return rc;
	ext_merge_around(m, e->fblk);
	return 0;
}

/*
 * See extmap.h.  Locks: the inode's ILOCK exclusive.
 */
int
fs_extmap_remove(struct fs_extmap *m, uint64_t fblk, uint64_t len,
		 fs_extmap_freed_fn freed, void *ctx)
{
	uint64_t end = fblk + len;
	uint32_t ci, ei;
	struct fs_ext *e;

	if (len == 0)
		return 0;
	if (end < fblk)
		end = UINT64_MAX;
	ext_find(m, fblk, &ci, &ei);
	while ((e = ext_at(m, ci, ei)) && e->fblk < end) {
		uint64_t s = MAX(e->fblk, fblk);
		uint64_t t = MIN(ext_end(e), end);

		if (e->fblk < fblk && ext_end(e) > end) {
			/* Punch out of the middle: split in two. */
			struct fs_ext right = *e;
			int rc;

			right.fblk = end;
			right.vblk = e->vblk + (end - e->fblk);
			right.len = ext_end(e) - end;
			rc = ext_insert_at(m, ci, ei + 1, &right);
			if (rc)
				return rc;
			/* The insert counted right's blocks; e keeps its own
			 * until trimmed below. */
			ext_find(m, fblk, &ci, &ei);
			e = ext_at(m, ci, ei);
			if (freed)
				freed(ctx, e->vblk + (s - e->fblk), t - s);
			m->nblocks -= ext_end(e) - fblk;
			e->len = fblk - e->fblk;
			return 0;
		}
		if (freed)
			freed(ctx, e->vblk + (s - e->fblk), t - s);
		if (e->fblk < fblk) {
			/* Keep the head. */
			m->nblocks -= ext_end(e) - fblk;
			e->len = fblk - e->fblk;
			if (!pos_next(m, &ci, &ei))
				break;
		} else if (ext_end(e) > end) {
			/* Keep the tail. */
			uint64_t cut = end - e->fblk;

			e->fblk += cut;
			e->vblk += cut;
			e->len -= cut;
			m->nblocks -= cut;
			break;
		} else {
			ext_delete_at(m, ci, ei);
			/* The next extent is now at (ci, ei), or at the start
			 * of the next chunk. */
			if (ci < m->nchunks && ei >= m->chunks[ci]->n) {
				ci++;
				ei = 0;
			}
		}
	}
	return 0;
}

/*
 * See extmap.h.  Locks: the inode's ILOCK exclusive.
 */
int
fs_extmap_set_state(struct fs_extmap *m, uint64_t fblk, uint64_t len,
		    uint32_t state)
{
	uint64_t end = fblk + len;
	uint64_t cur = fblk;
	int rc;

	if (len == 0)
		return 0;
	if (end < fblk)
		end = UINT64_MAX;
	while (cur < end) {
		uint32_t ci, ei;
		struct fs_ext *e;

		ext_find(m, cur, &ci, &ei);
		e = ext_at(m, ci, ei);
		if (!e || e->fblk >= end)
			break;
		if (e->state == state) {
			cur = ext_end(e);
			continue;
		}
		if (e->fblk < cur) {
			/* Split off the head that keeps its state. */
			struct fs_ext right = *e;

			right.fblk = cur;
			right.vblk = e->vblk + (cur - e->fblk);
			right.len = ext_end(e) - cur;
			rc = ext_insert_at(m, ci, ei + 1, &right);
			if (rc)
				return rc;
			/* A chunk split may have moved e: find it again (it
			 * is the first extent ending after cur - 1). */
			ext_find(m, cur - 1, &ci, &ei);
			e = ext_at(m, ci, ei);
			m->nblocks -= right.len;
			e->len = cur - e->fblk;
			continue;
		}
		if (ext_end(e) > end) {
			/* Split off the tail that keeps its state. */
			struct fs_ext right = *e;
			uint64_t head = end - e->fblk;

			right.fblk = end;
			right.vblk = e->vblk + head;
			right.len = e->len - head;
			rc = ext_insert_at(m, ci, ei + 1, &right);
			if (rc)
				return rc;
			ext_find(m, cur, &ci, &ei);
			e = ext_at(m, ci, ei);
			m->nblocks -= right.len;
			e->len = head;
		}
		e->state = state;
		cur = ext_end(e);
		ext_merge_around(m, e->fblk);
	}
	/* The first changed extent may now merge with its predecessor (done
	 * above), and the last with its successor. */
	if (end != UINT64_MAX && end > 0)
		ext_merge_around(m, end - 1);
	return 0;
}

/*
 * See extmap.h.  Locks: the inode's ILOCK (shared suffices).
 */
int
fs_extmap_walk(const struct fs_extmap *m, uint64_t fblk, uint64_t len,
	       int (*fn)(void *ctx, const struct fs_ext *e), void *ctx)
{
	uint64_t end = fblk + len;
	uint32_t ci, ei;
	const struct fs_ext *e;

	if (len == 0)
		return 0;
	if (end < fblk)
		end = UINT64_MAX;
	ext_find(m, fblk, &ci, &ei);
	while ((e = ext_at(m, ci, ei)) && e->fblk < end) {
		int rc = fn(ctx, e);

		if (rc)
			return rc;
		if (!pos_next(m, &ci, &ei))
			break;
	}
	return 0;
}

/*
 * Extents in the map.
 */
uint64_t
fs_extmap_count(const struct fs_extmap *m)
{
	return m->nextents;
}

/*
 * First file block past the last extent.
 */
uint64_t
fs_extmap_end(const struct fs_extmap *m)
{
	if (m->nchunks == 0)
		return 0;

	const struct fs_extmap_chunk *c = m->chunks[m->nchunks - 1];

	return ext_end(&c->e[c->n - 1]);
}

/*
 * See extmap.h.
 */
int
fs_extmap_check(const struct fs_extmap *m)
{
	const struct fs_ext *prev = NULL;
	uint64_t n = 0, blocks = 0;

	for (uint32_t ci = 0; ci < m->nchunks; ci++) {
		const struct fs_extmap_chunk *c = m->chunks[ci];

		if (c->n == 0 || c->n > c->cap || c->cap > FS_EXTMAP_CHUNK)
			return -EUCLEAN;
		for (uint32_t i = 0; i < c->n; i++) {
			const struct fs_ext *e = &c->e[i];

			if (e->len == 0 || ext_end(e) < e->fblk)
				return -EUCLEAN;
			if (e->state != FS_EXT_RW && e->state != FS_EXT_INVALID)
				return -EUCLEAN;
			if (prev && (ext_end(prev) > e->fblk ||
				     ext_mergeable(prev, e)))
				return -EUCLEAN;
			prev = e;
			n++;
			blocks += e->len;
		}
	}
	if (n != m->nextents || blocks != m->nblocks)
		return -EUCLEAN;
	return 0;
}
