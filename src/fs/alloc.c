/*
 * alloc.c - extent-based free-space allocator (see include/fs/alloc.h).
 *
 * Each free extent is one node linked into two AVL trees: by start block
 * (neighbours for merging, the extent at or near a goal) and by
 * (length, start) (the smallest extent that fits, the largest one).  Every
 * operation is a constant number of O(log n) tree walks; nothing scans a
 * bitmap or the list of extents.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "common.h"
#include "fs/alloc.h"

struct fs_alloc_avl {
	struct fs_alloc_avl	*left;
	struct fs_alloc_avl	*right;
	int			height;
};

struct fs_alloc_ext {
	struct fs_alloc_avl	bs;	/* in a->by_start */
	struct fs_alloc_avl	bz;	/* in a->by_size */
	uint64_t		start;
	uint64_t		len;
};

#define EXT_BS(n)	container_of(n, struct fs_alloc_ext, bs)
#define EXT_BZ(n)	container_of(n, struct fs_alloc_ext, bz)

typedef int (*avl_cmp_fn)(const struct fs_alloc_avl *a,
			  const struct fs_alloc_avl *b);

/* ---- a small generic AVL tree over embedded links ---- */

static int
avl_h(const struct fs_alloc_avl *n)
{
	return n ? n->height : 0;
}

static void
avl_fix(struct fs_alloc_avl *n)
{
	n->height = 1 + MAX(avl_h(n->left), avl_h(n->right));
}

static struct fs_alloc_avl *
avl_rot_right(struct fs_alloc_avl *n)
{
	struct fs_alloc_avl *l = n->left;

	n->left = l->right;
	l->right = n;
	avl_fix(n);
	avl_fix(l);
	return l;
}

static struct fs_alloc_avl *
avl_rot_left(struct fs_alloc_avl *n)
{
	struct fs_alloc_avl *r = n->right;

	n->right = r->left;
	r->left = n;
	avl_fix(n);
	avl_fix(r);
	return r;
}

static struct fs_alloc_avl *
avl_balance(struct fs_alloc_avl *n)
{
	int bf;

	avl_fix(n);
	bf = avl_h(n->left) - avl_h(n->right);
	if (bf > 1) {
		if (avl_h(n->left->left) < avl_h(n->left->right))
			n->left = avl_rot_left(n->left);
		return avl_rot_right(n);
	}
	if (bf < -1) {
		if (avl_h(n->right->right) < avl_h(n->right->left))
			n->right = avl_rot_right(n->right);
		return avl_rot_left(n);
	}
	return n;
}

static struct fs_alloc_avl *
avl_insert(struct fs_alloc_avl *root, struct fs_alloc_avl *n, avl_cmp_fn cmp)
{
	if (root == NULL) {
		n->left = n->right = NULL;
		n->height = 1;
		return n;
	}
	VERIFY(cmp(n, root) != 0);	/* keys are unique */
	if (cmp(n, root) < 0)
		root->left = avl_insert(root->left, n, cmp);
	else
		root->right = avl_insert(root->right, n, cmp);
	return avl_balance(root);
}

static struct fs_alloc_avl *
avl_remove_min(struct fs_alloc_avl *root, struct fs_alloc_avl **min)
{
	if (root->left == NULL) {
		*min = root;
		return root->right;
	}
	root->left = avl_remove_min(root->left, min);
	return avl_balance(root);
}

static struct fs_alloc_avl *
avl_remove(struct fs_alloc_avl *root, struct fs_alloc_avl *n, avl_cmp_fn cmp)
{
	struct fs_alloc_avl *min, *rest;
	int c;

	VERIFY(root != NULL);	/* n must be in the tree */
	c = cmp(n, root);
	if (c < 0) {
		root->left = avl_remove(root->left, n, cmp);
		return avl_balance(root);
	}
	if (c > 0) {
		root->right = avl_remove(root->right, n, cmp);
		return avl_balance(root);
	}
	VERIFY(root == n);
	if (n->right == NULL)
		return n->left;
	rest = avl_remove_min(n->right, &min);
	min->right = rest;
	min->left = n->left;
	return avl_balance(min);
}

/* ---- the two orderings ---- */

static int
cmp_u64(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int
cmp_start(const struct fs_alloc_avl *a, const struct fs_alloc_avl *b)
{
	return cmp_u64(EXT_BS(a)->start, EXT_BS(b)->start);
}

static int
cmp_size(const struct fs_alloc_avl *a, const struct fs_alloc_avl *b)
{
	const struct fs_alloc_ext *x = EXT_BZ(a), *y = EXT_BZ(b);

	return x->len != y->len ? cmp_u64(x->len, y->len) :
				  cmp_u64(x->start, y->start);
}

/* The free extent with the greatest start <= blk, or NULL. */
static struct fs_alloc_ext *
find_floor(const struct fs_alloc *a, uint64_t blk)
{
	struct fs_alloc_avl *n = a->by_start, *best = NULL;

	while (n) {
		if (EXT_BS(n)->start <= blk) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best ? EXT_BS(best) : NULL;
}

/* The free extent with the smallest start > blk, or NULL. */
static struct fs_alloc_ext *
find_after(const struct fs_alloc *a, uint64_t blk)
{
	struct fs_alloc_avl *n = a->by_start, *best = NULL;

	while (n) {
		if (EXT_BS(n)->start > blk) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best ? EXT_BS(best) : NULL;
}

/* The smallest free extent of at least want blocks (lowest start on ties). */
static struct fs_alloc_ext *
find_fit(const struct fs_alloc *a, uint64_t want)
{
	struct fs_alloc_avl *n = a->by_size, *best = NULL;

	while (n) {
		if (EXT_BZ(n)->len >= want) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best ? EXT_BZ(best) : NULL;
}

static struct fs_alloc_ext *
find_largest(const struct fs_alloc *a)
{
	struct fs_alloc_avl *n = a->by_size;

	if (n == NULL)
		return NULL;
	while (n->right)
		n = n->right;
	return EXT_BZ(n);
}

static uint64_t
ext_end(const struct fs_alloc_ext *e)
{
	return e->start + e->len;
}

static void
ext_insert(struct fs_alloc *a, struct fs_alloc_ext *e)
{
	a->by_start = avl_insert(a->by_start, &e->bs, cmp_start);
	a->by_size = avl_insert(a->by_size, &e->bz, cmp_size);
	a->next++;
}

static void
ext_delete(struct fs_alloc *a, struct fs_alloc_ext *e)
{
	a->by_start = avl_remove(a->by_start, &e->bs, cmp_start);
	a->by_size = avl_remove(a->by_size, &e->bz, cmp_size);
	a->next--;
	free(e);
}

/*
 * Change e to [start, start + len).  Its position among the other free
 * extents by start does not change (the range stays between the same
 * neighbours), so only the by-size tree is re-sorted.
 */
static void
ext_resize(struct fs_alloc *a, struct fs_alloc_ext *e, uint64_t start,
	   uint64_t len)
{
	a->by_size = avl_remove(a->by_size, &e->bz, cmp_size);
	e->start = start;
	e->len = len;
	a->by_size = avl_insert(a->by_size, &e->bz, cmp_size);
}

/*
 * Take [start, start + len), which lies inside free extent e, out of the
 * free space.  *spare is a preallocated node, consumed (set to NULL) if
 * the range splits e in two.
 */
static void
take_range(struct fs_alloc *a, struct fs_alloc_ext *e, uint64_t start,
	   uint64_t len, struct fs_alloc_ext **spare)
{
	uint64_t end = start + len, e_end = ext_end(e);

	mutex_assert_held(&a->lock);
	VERIFY(start >= e->start && end <= e_end && len > 0);
	if (start == e->start && end == e_end) {
		ext_delete(a, e);
	} else if (start == e->start) {
		ext_resize(a, e, end, e_end - end);
	} else if (end == e_end) {
		ext_resize(a, e, e->start, start - e->start);
	} else {
		struct fs_alloc_ext *tail = *spare;

		VERIFY(tail != NULL);
		*spare = NULL;
		ext_resize(a, e, e->start, start - e->start);
		tail->start = end;
		tail->len = e_end - end;
		ext_insert(a, tail);
	}
	a->nfree -= len;
}

/* See fs/alloc.h. */
int
fs_alloc_init(struct fs_alloc *a, uint64_t nblocks)
{
	struct fs_alloc_ext *e;

	if (nblocks == 0)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	mutex_init(&a->lock, "fs_alloc");
	a->nblocks = nblocks;
	a->nfree = 0;
	a->next = 0;
	a->by_start = NULL;
	a->by_size = NULL;
	e->start = 0;
	e->len = nblocks;
	ext_insert(a, e);
	a->nfree = nblocks;
	return 0;
}

/* See fs/alloc.h. */
void
fs_alloc_destroy(struct fs_alloc *a)
{
	struct fs_alloc_avl *min;

	while (a->by_start) {
		a->by_start = avl_remove_min(a->by_start, &min);
		free(EXT_BS(min));
	}
	a->by_size = NULL;
	a->next = 0;
	a->nfree = 0;
	mutex_destroy(&a->lock);
}

/*
 * Choose where to allocate up to want blocks near goal.  Returns the
 * extent and sets *start and *got, or NULL if nothing is free.
 */
static struct fs_alloc_ext *
choose(struct fs_alloc *a, uint64_t goal, uint64_t want, uint64_t *start,
       uint64_t *got)
{
	struct fs_alloc_ext *f, *n, *e;

	mutex_assert_held(&a->lock);
	f = find_floor(a, goal);
	if (f && goal < ext_end(f)) {
		/* goal is free: start there, or end the run at the extent's end */
		if (ext_end(f) - goal >= want) {
			*start = goal;
			*got = want;
			return f;
		}
		if (f->len >= want) {
			*start = ext_end(f) - want;
			*got = want;
			return f;
		}
	}
	/*
	 * The next extent after goal, else the one before it (its end, the
	 * part nearest goal).  Forward first: goal is usually the end of a
	 * file's previous run, and a file grows forward.
	 */
	n = find_after(a, goal);
	if (n && n->len >= want) {
		*start = n->start;
		*got = want;
		return n;
	}
	if (f && goal >= ext_end(f) && f->len >= want) {
		*start = ext_end(f) - want;
		*got = want;
		return f;
	}
	/* Best fit anywhere, else the longest run there is. */
	e = find_fit(a, want);
	if (e) {
		*start = e->start;
		*got = want;
		return e;
	}
	e = find_largest(a);
	if (e) {
		*start = e->start;
		*got = e->len;
	}
	return e;
}

/* See fs/alloc.h. */
int
fs_alloc_blocks(struct fs_alloc *a, uint64_t goal, uint64_t want,
		uint64_t *start, uint64_t *got)
{
	struct fs_alloc_ext *spare, *e;
	int err = 0;

	if (want == 0)
		return -EINVAL;
	/* Allocated outside the lock; used only if the run splits an extent. */
	spare = malloc(sizeof(*spare));
	if (spare == NULL)
		return -ENOMEM;
	mutex_lock(&a->lock);
	e = choose(a, goal, want, start, got);
	if (e)
		take_range(a, e, *start, *got, &spare);
	else
		err = -ENOSPC;
	mutex_unlock(&a->lock);
	free(spare);
	return err;
}

/* See fs/alloc.h. */
int
fs_alloc_free(struct fs_alloc *a, uint64_t start, uint64_t len)
{
	struct fs_alloc_ext *p, *n, *e;
	uint64_t end = start + len;
	int err = 0;

	if (len == 0 || end < start || end > a->nblocks)
		return -EINVAL;
	e = malloc(sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	mutex_lock(&a->lock);
	p = find_floor(a, start);
	n = find_after(a, start);
	if ((p && ext_end(p) > start) || (n && n->start < end)) {
		err = -EINVAL;	/* part of it is free already */
		goto out_unlock;
	}
	if (p && ext_end(p) != start)
		p = NULL;	/* not adjacent */
	if (n && n->start != end)
		n = NULL;
	if (p && n) {
		uint64_t total = p->len + len + n->len;

		ext_delete(a, n);
		ext_resize(a, p, p->start, total);
	} else if (p) {
		ext_resize(a, p, p->start, p->len + len);
	} else if (n) {
		ext_resize(a, n, start, n->len + len);
	} else {
		e->start = start;
		e->len = len;
		ext_insert(a, e);
		e = NULL;
	}
	a->nfree += len;
out_unlock:
	mutex_unlock(&a->lock);
	free(e);
	return err;
}

/* See fs/alloc.h. */
int
fs_alloc_mark_used(struct fs_alloc *a, uint64_t start, uint64_t len)
{
	struct fs_alloc_ext *spare, *f;
	uint64_t end = start + len;
	int err = 0;

	if (len == 0 || end < start || end > a->nblocks)
		return -EINVAL;
	spare = malloc(sizeof(*spare));
	if (spare == NULL)
		return -ENOMEM;
	mutex_lock(&a->lock);
	f = find_floor(a, start);
	if (f == NULL || ext_end(f) < end)
		err = -EEXIST;
	else
		take_range(a, f, start, len, &spare);
	mutex_unlock(&a->lock);
	free(spare);
	return err;
}

/*
 * The const queries still take the lock: the counters and trees change
 * under concurrent allocations.
 */
static struct mutex *
lock_of(const struct fs_alloc *a)
{
	return &((struct fs_alloc *)a)->lock;
}

uint64_t
fs_alloc_free_count(const struct fs_alloc *a)
{
	uint64_t n;

	mutex_lock(lock_of(a));
	n = a->nfree;
	mutex_unlock(lock_of(a));
	return n;
}

uint64_t
fs_alloc_extent_count(const struct fs_alloc *a)
{
	uint64_t n;

	mutex_lock(lock_of(a));
	n = a->next;
	mutex_unlock(lock_of(a));
	return n;
}

uint64_t
fs_alloc_largest(const struct fs_alloc *a)
{
	struct fs_alloc_ext *e;
	uint64_t n;

	mutex_lock(lock_of(a));
	e = find_largest(a);
	n = e ? e->len : 0;
	mutex_unlock(lock_of(a));
	return n;
}

int
fs_alloc_is_free(const struct fs_alloc *a, uint64_t start, uint64_t len)
{
	struct fs_alloc_ext *f;
	int ret;

	if (len == 0 || start + len < start || start + len > a->nblocks)
		return 0;
	mutex_lock(lock_of(a));
	f = find_floor(a, start);
	ret = f && ext_end(f) >= start + len;
	mutex_unlock(lock_of(a));
	return ret;
}

/* ---- invariant check ---- */

struct check_state {
	const struct fs_alloc	*a;
	bool			have_prev;
	uint64_t		prev_end;
	const struct fs_alloc_ext *prev_bz;
	uint64_t		count;
	uint64_t		blocks;
	bool			bad;
};

/* Height of subtree n if it is a valid AVL tree under cmp, else -1. */
static int
check_avl(const struct fs_alloc_avl *n, avl_cmp_fn cmp)
{
	int hl, hr;

	if (n == NULL)
		return 0;
	hl = check_avl(n->left, cmp);
	hr = check_avl(n->right, cmp);
	if (hl < 0 || hr < 0 || hl - hr > 1 || hr - hl > 1 ||
	    n->height != 1 + MAX(hl, hr))
		return -1;
	if ((n->left && cmp(n->left, n) >= 0) ||
	    (n->right && cmp(n->right, n) <= 0))
		return -1;
	return n->height;
}

static void
walk_start(const struct fs_alloc_avl *n, struct check_state *s)
{
	const struct fs_alloc_ext *e;

	if (n == NULL)
		return;
	walk_start(n->left, s);
	e = EXT_BS(n);
	/* adjacent free extents must have been merged: hence >=, not > */
	if (e->len == 0 || ext_end(e) > s->a->nblocks || ext_end(e) < e->start ||
	    (s->have_prev && s->prev_end >= e->start))
		s->bad = true;
	s->have_prev = true;
	s->prev_end = ext_end(e);
	s->count++;
	s->blocks += e->len;
	walk_start(n->right, s);
}

static void
walk_size(const struct fs_alloc_avl *n, struct check_state *s)
{
	const struct fs_alloc_ext *e;

	if (n == NULL)
		return;
	walk_size(n->left, s);
	e = EXT_BZ(n);
	if (s->prev_bz && cmp_size(&s->prev_bz->bz, &e->bz) >= 0)
		s->bad = true;
	if (find_floor(s->a, e->start) != e)	/* same node in both trees */
		s->bad = true;
	s->prev_bz = e;
	s->count++;
	walk_size(n->right, s);
}

/* See fs/alloc.h. */
int
fs_alloc_check(const struct fs_alloc *a)
{
	struct check_state s = { .a = a };
	uint64_t n_start;
	int bad;

	mutex_lock(lock_of(a));
	bad = check_avl(a->by_start, cmp_start) < 0 ||
	      check_avl(a->by_size, cmp_size) < 0;
	walk_start(a->by_start, &s);
	n_start = s.count;
	bad |= s.bad || n_start != a->next || s.blocks != a->nfree;
	s.count = 0;
	s.bad = false;
	walk_size(a->by_size, &s);
	bad |= s.bad || s.count != n_start;
	mutex_unlock(lock_of(a));
	return bad ? -EUCLEAN : 0;
}
