/*
 * check.c - fs_check(): verify every metadata invariant of a mounted
 * engine, and repair what can be repaired (pmemnfs-fsck, crash tests).
 *
 * The look runs under fs->quiesce held exclusively: no change is in
 * flight, so inodes are read without their ILOCKs.  Repairs are ordinary
 * log records appended afterwards, each through fs_log_apply(), so a
 * repair interrupted by a crash is itself consistent.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"

#define LOST_FOUND	"lost+found"
/* Progress is reported every this many inodes. */
#define CHECK_PROGRESS_EVERY	4096

/* What the walk learned about one inode. */
struct ck_ino {
	struct fs_inode	*ip;
	uint32_t	names;		/* directory entries naming it */
	uint32_t	subdirs;	/* dir: entries that are directories */
	uint64_t	named_by;	/* dir: the directory holding its name */
	bool		reached;	/* from the root */
};

struct ck_ext {
	uint64_t	vblk;
	uint64_t	len;
	uint64_t	ino;
	uint64_t	fblk;
};

/* Repairs decided while looking, done afterwards. */
enum ck_fix_kind {
	FIX_DIRENT_DEL = 1,
	FIX_LOST_FOUND,
	FIX_NLINK,
	FIX_IFREE,
	FIX_DROP,	/* unmap [fblk, +len) of ino without freeing */
	FIX_ADOPT,	/* a directory with no name: into lost+found */
};

struct ck_fix {
	enum ck_fix_kind	kind;
	uint64_t		ino;
	uint64_t		dir;
	uint32_t		nlink;
	uint64_t		fblk;
	uint64_t		len;
	char			name[FS_NAME_MAX + 1];
};

struct ck {
	struct fs			*fs;
	const struct fs_check_opts	*o;
	struct fs_check_result		*res;
	struct ck_ino			*inos;	/* sorted by inode number */
	size_t				n;
	size_t				cap;
	struct ck_ext			*exts;
	size_t				nexts;
	size_t				extcap;
	struct ck_fix			*fixes;
	size_t				nfixes;
	size_t				fixcap;
	bool				quiet;	/* re-look after repairs */
	bool				repair;
	int				err;
};

static void PRINTF_LIKE(2, 3)
problem(struct ck *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (c->quiet)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->res->problems++;
	if (c->o && c->o->problem)
		c->o->problem(c->o->ctx, msg);
	else
		log_warn("fsck: %s", msg);
}

static void
add_fix(struct ck *c, const struct ck_fix *f)
{
	if (c->nfixes == c->fixcap) {
		size_t nc = c->fixcap ? c->fixcap * 2 : 16;
		struct ck_fix *nf = realloc(c->fixes, nc * sizeof(*nf));

		if (!nf) {
			c->err = -ENOMEM;
			return;
		}
		c->fixes = nf;
		c->fixcap = nc;
	}
	c->fixes[c->nfixes++] = *f;
}

static int
collect_inode(void *ctx, struct fs_inode *ip)
{
	struct ck *c = ctx;

	if (c->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		struct ck_ino *ni = realloc(c->inos, nc * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		c->inos = ni;
		c->cap = nc;
	}
	memset(&c->inos[c->n], 0, sizeof(c->inos[0]));
	c->inos[c->n++].ip = ip;
	return 0;
}

static int
cmp_ino(const void *a, const void *b)
{
	uint64_t x = ((const struct ck_ino *)a)->ip->ino;
	uint64_t y = ((const struct ck_ino *)b)->ip->ino;

	return x < y ? -1 : x > y;
}

static struct ck_ino *
find(struct ck *c, uint64_t ino)
{
	size_t lo = 0, hi = c->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->inos[mid].ip->ino == ino)
			return &c->inos[mid];
		if (c->inos[mid].ip->ino < ino)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct ext_walk {
	struct ck	*c;
	struct fs_inode	*ip;
};

static int
collect_ext(void *ctx, const struct fs_ext *e)
{
	struct ext_walk *w = ctx;
	struct ck *c = w->c;
	uint64_t nblocks = vol_data_blocks(c->fs->vol);
	uint64_t eof_blk = fs_blk_up(c->fs, w->ip->size);

	if (e->vblk >= nblocks || e->len > nblocks - e->vblk) {
		problem(c, "inode %llu: extent at file block %llu maps volume "
			"blocks %llu+%llu outside the data area (%llu blocks)",
			(unsigned long long)w->ip->ino,
			(unsigned long long)e->fblk,
			(unsigned long long)e->vblk, (unsigned long long)e->len,
			(unsigned long long)nblocks);
		if (c->repair)
			add_fix(c, &(struct ck_fix){ .kind = FIX_DROP,
				.ino = w->ip->ino, .fblk = e->fblk,
				.len = e->len });
		return 0;	/* not a block of the volume: not counted */
	}
	if (e->state == FS_EXT_RW && e->fblk + e->len > eof_blk)
		problem(c, "inode %llu: data blocks %llu+%llu lie past its "
			"size %llu", (unsigned long long)w->ip->ino,
			(unsigned long long)e->fblk, (unsigned long long)e->len,
			(unsigned long long)w->ip->size);
	if (c->nexts == c->extcap) {
		size_t nc = c->extcap ? c->extcap * 2 : 1024;
		struct ck_ext *ne = realloc(c->exts, nc * sizeof(*ne));

		if (!ne)
			return -ENOMEM;
		c->exts = ne;
		c->extcap = nc;
	}
	c->exts[c->nexts].vblk = e->vblk;
	c->exts[c->nexts].len = e->len;
	c->exts[c->nexts].ino = w->ip->ino;
	c->exts[c->nexts].fblk = e->fblk;
	c->nexts++;
	c->res->extents++;
	c->res->blocks_mapped += e->len;
	return 0;
}

static int
cmp_ext(const void *a, const void *b)
{
	uint64_t x = ((const struct ck_ext *)a)->vblk;
	uint64_t y = ((const struct ck_ext *)b)->vblk;

	return x < y ? -1 : x > y;
}

/* No volume block may belong to two files (or twice to one). */
static void
check_blocks(struct ck *c)
{
	struct fs *fs = c->fs;
	uint64_t end = 0, owner = 0, overlaps = 0;

	if (c->nexts)
		qsort(c->exts, c->nexts, sizeof(c->exts[0]), cmp_ext);
	for (size_t i = 0; i < c->nexts; i++) {
		const struct ck_ext *e = &c->exts[i];

		if (i > 0 && e->vblk < end) {
			uint64_t ov = MIN(end, e->vblk + e->len) - e->vblk;

			overlaps++;
			problem(c, "volume blocks %llu+%llu are mapped by inode "
				"%llu and inode %llu", (unsigned long long)e->vblk,
				(unsigned long long)ov,
				(unsigned long long)owner,
				(unsigned long long)e->ino);
			/* The first owner keeps them; the other file gets a
			 * hole there (its data in them is the owner's). */
			if (c->repair)
				add_fix(c, &(struct ck_fix){ .kind = FIX_DROP,
					.ino = e->ino, .fblk = e->fblk,
					.len = ov });
		}
		if (e->vblk + e->len > end) {
			end = e->vblk + e->len;
			owner = e->ino;
		}
	}
	/* The allocator must count exactly the unmapped blocks as free. */
	if (fs->alloc_ready && overlaps == 0 && fs->mount_conflicts == 0) {
		uint64_t total = vol_data_blocks(fs->vol);
		uint64_t nfree = fs_alloc_free_count(&fs->alloc);

		if (nfree + c->res->blocks_mapped != total)
			problem(c, "allocator: %llu blocks free, but %llu of "
				"%llu are mapped", (unsigned long long)nfree,
				(unsigned long long)c->res->blocks_mapped,
				(unsigned long long)total);
		for (size_t i = 0; i < c->nexts; i++)
			if (c->exts[i].vblk + c->exts[i].len <= total &&
			    fs_alloc_is_free(&fs->alloc, c->exts[i].vblk, 1))
				problem(c, "allocator: block %llu of inode %llu "
					"is marked free",
					(unsigned long long)c->exts[i].vblk,
					(unsigned long long)c->exts[i].ino);
		if (fs_alloc_check(&fs->alloc) != 0)
			problem(c, "allocator: internal trees inconsistent");
	}
}

struct dir_walk {
	struct ck	*c;
	struct ck_ino	*dir;
	bool		repair;
};

static int
check_dirent(void *ctx, const struct fs_dirent *de)
{
	struct dir_walk *w = ctx;
	struct ck *c = w->c;
	struct ck_ino *t = find(c, de->ino);
	uint64_t dino = w->dir->ip->ino;
	const struct fs_dir *d = w->dir->ip->dir;

	/* The directory's own indexes: found by name, cookie in range. */
	if (fs_dir_lookup(d, de->name, de->namelen) != de)
		problem(c, "directory %llu: entry \"%s\" is not found by its "
			"name (hash index damaged)", (unsigned long long)dino,
			de->name);
	if (de->cookie < FS_COOKIE_FIRST || de->cookie >= d->next_cookie)
		problem(c, "directory %llu: entry \"%s\" has cookie %llu "
			"outside [%u, %llu)", (unsigned long long)dino, de->name,
			(unsigned long long)de->cookie, FS_COOKIE_FIRST,
			(unsigned long long)d->next_cookie);
	if (!t) {
		problem(c, "directory %llu: entry \"%s\" names inode %llu, "
			"which does not exist", (unsigned long long)dino,
			de->name, (unsigned long long)de->ino);
		if (w->repair) {
			struct ck_fix f = { .kind = FIX_DIRENT_DEL, .dir = dino };

			memcpy(f.name, de->name, de->namelen + 1u);
			add_fix(c, &f);
		}
		return 0;
	}
	if (de->type != t->ip->type)
		problem(c, "directory %llu: entry \"%s\" says type %u, inode "
			"%llu has type %u", (unsigned long long)dino, de->name,
			de->type, (unsigned long long)de->ino, t->ip->type);
	t->names++;
	if (t->ip->type == FS_TYPE_DIR) {
		w->dir->subdirs++;
		if (t->names > 1)
			problem(c, "directory %llu has more than one name "
				"(another in directory %llu)",
				(unsigned long long)de->ino,
				(unsigned long long)dino);
		t->named_by = dino;
		if (t->ip->parent != dino)
			problem(c, "directory %llu: its \"..\" is %llu but its "
				"name is in %llu", (unsigned long long)de->ino,
				(unsigned long long)t->ip->parent,
				(unsigned long long)dino);
		if (de->ino == fs_root_ino(c->fs))
			problem(c, "directory %llu has an entry for the root",
				(unsigned long long)dino);
	}
	return 0;
}

/* Mark everything reachable from the root (iterative, no recursion). */
struct reach_ctx {
	struct ck	*c;
	uint64_t	*stack;
	size_t		n;
	size_t		cap;
	int		err;
};

static int
reach_push(void *ctx, const struct fs_dirent *de)
{
	struct reach_ctx *r = ctx;
	struct ck_ino *t = find(r->c, de->ino);

	if (!t || t->reached)
		return 0;
	t->reached = true;
	if (t->ip->type != FS_TYPE_DIR)
		return 0;
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 256;
		uint64_t *ns = realloc(r->stack, nc * sizeof(*ns));

		if (!ns)
			return -ENOMEM;
		r->stack = ns;
		r->cap = nc;
	}
	r->stack[r->n++] = de->ino;
	return 0;
}

static int
check_reach(struct ck *c)
{
	struct reach_ctx r = { .c = c };
	struct ck_ino *root = find(c, fs_root_ino(c->fs));
	int rc = 0;

	if (!root) {
		problem(c, "the root directory %llu does not exist",
			(unsigned long long)fs_root_ino(c->fs));
		return 0;
	}
	/* The root is reached by definition; push it like an entry. */
	rc = reach_push(&r, &(struct fs_dirent){ .ino = root->ip->ino });
	while (rc == 0 && r.n > 0) {
		struct ck_ino *d = find(c, r.stack[--r.n]);

		if (d && d->ip->dir)
			rc = fs_dir_iterate(d->ip->dir, 0, reach_push, &r);
	}
	free(r.stack);
	return rc;
}

static void
check_inode(struct ck *c, struct ck_ino *ci, bool repair)
{
	struct fs_inode *ip = ci->ip;
	bool is_root = ip->ino == fs_root_ino(c->fs);
	uint32_t want;

	if (ip->map && fs_extmap_check(ip->map) != 0)
		problem(c, "inode %llu: extent map is malformed",
			(unsigned long long)ip->ino);
	if (ip->type == FS_TYPE_LNK &&
	    (!ip->target || strlen(ip->target) != ip->size))
		problem(c, "symlink %llu: size %llu does not match its text",
			(unsigned long long)ip->ino,
			(unsigned long long)ip->size);
	if (ip->type == FS_TYPE_DIR && ip->size != 0)
		problem(c, "directory %llu has a size", (unsigned long long)ip->ino);

	if (ip->nlink == 0) {
		if (atomic_load(&ip->iref) == 0) {
			problem(c, "inode %llu has no link and no user: an "
				"orphan not freed", (unsigned long long)ip->ino);
			if (repair && ci->names == 0)
				add_fix(c, &(struct ck_fix){ .kind = FIX_IFREE,
							     .ino = ip->ino });
		}
		if (ci->names)
			problem(c, "inode %llu has link count 0 but %u names",
				(unsigned long long)ip->ino, ci->names);
		return;
	}
	if (!ci->reached && !is_root) {
		problem(c, "inode %llu (type %u, %u links) is not reachable "
			"from the root", (unsigned long long)ip->ino, ip->type,
			ip->nlink);
		if (repair && ci->names == 0)
			add_fix(c, &(struct ck_fix){
				.kind = ip->type == FS_TYPE_DIR ? FIX_ADOPT :
					FIX_LOST_FOUND,
				.ino = ip->ino });
		return;
	}
	if (ip->type == FS_TYPE_DIR)
		want = (ci->names || is_root) ? 2 + ci->subdirs : 0;
	else
		want = ci->names;
	if (ip->nlink != want) {
		problem(c, "inode %llu: link count %u, should be %u",
			(unsigned long long)ip->ino, ip->nlink, want);
		if (repair && want > 0)
			add_fix(c, &(struct ck_fix){ .kind = FIX_NLINK,
						     .ino = ip->ino,
						     .nlink = want });
	}
}

/* The look: everything under the quiesce lock, decisions into c->fixes. */
static int
check_pass(struct ck *c, bool repair)
{
	struct fs *fs = c->fs;
	int rc;

	rc = fs_itable_walk(fs, collect_inode, c);
	if (rc)
		return rc;
	if (c->n)
		qsort(c->inos, c->n, sizeof(c->inos[0]), cmp_ino);
	c->res->inodes = c->n;
	/*
	 * fs->mount_conflicts (extents the allocator refused at mount) needs
	 * no message of its own: check_blocks() names each such extent, and
	 * skips the allocator comparison, which cannot hold then.
	 */
	for (size_t i = 0; i < c->n; i++) {
		struct ck_ino *ci = &c->inos[i];

		if (ci->ip->map) {
			struct ext_walk w = { .c = c, .ip = ci->ip };

			rc = fs_extmap_walk(ci->ip->map, 0, UINT64_MAX,
					    collect_ext, &w);
			if (rc)
				return rc;
		}
		if (ci->ip->dir) {
			struct dir_walk w = { .c = c, .dir = ci, .repair = repair };

			c->res->dirs++;
			rc = fs_dir_iterate(ci->ip->dir, 0, check_dirent, &w);
			if (rc)
				return rc;
		}
		if (c->o && c->o->progress && i % CHECK_PROGRESS_EVERY == 0)
			c->o->progress(c->o->ctx, i, c->n);
	}
	check_blocks(c);
	rc = check_reach(c);
	if (rc)
		return rc;
	for (size_t i = 0; i < c->n; i++)
		check_inode(c, &c->inos[i], repair);
	if (c->o && c->o->progress)
		c->o->progress(c->o->ctx, c->n, c->n);
	c->res->log_records = vol_log_records(fs->vol);
	c->res->log_used = vol_log_used(fs->vol);
	c->res->log_size = vol_log_size(fs->vol);
	if (c->res->log_used > c->res->log_size)
		problem(c, "log: %llu bytes used of %llu",
			(unsigned long long)c->res->log_used,
			(unsigned long long)c->res->log_size);
	return c->err;
}

/* One repair record and the inodes whose ILOCKs it needs. */
struct fix_log_args {
	uint16_t	type;
	const void	*rec;
	uint32_t	len;
	uint64_t	lock_ino, lock_ino2;
};

/* fix_log()'s change, run by fs_tx_run(): takes the ILOCKs itself. */
static int
fix_log_body(struct fs *fs, void *arg)
{
	const struct fix_log_args *a = arg;
	struct fs_inode *ips[2] = { NULL, NULL };
	int rc;

	if (a->lock_ino)
		ips[0] = fs_itable_find(fs, a->lock_ino);
	if (a->lock_ino2)
		ips[1] = fs_itable_find(fs, a->lock_ino2);
	fs_ilock_many(ips, 2, FS_ILOCK_EXCL);
	rc = fs_log_apply(fs, a->type, a->rec, a->len);
	fs_iunlock_many(ips, 2, FS_ILOCK_EXCL);
	return rc;
}

/* Append one repair record (with the usual retry on a full log). */
static int
fix_log(struct fs *fs, uint16_t type, const void *rec, uint32_t len,
	uint64_t lock_ino, uint64_t lock_ino2)
{
	struct fix_log_args a = {
		.type = type, .rec = rec, .len = len,
		.lock_ino = lock_ino, .lock_ino2 = lock_ino2,
	};

	return fs_tx_run(fs, fix_log_body, &a);
}

static int
do_fix(struct fs *fs, const struct ck_fix *f)
{
	struct fs_inode *root = NULL, *lf = NULL, *ip = NULL;
	char name[32];
	int rc;

	switch (f->kind) {
	case FIX_DIRENT_DEL: {
		size_t nl = strlen(f->name);
		struct fs_rec_link *r = calloc(1, sizeof(*r) + nl);

		if (!r)
			return -ENOMEM;
		r->dir = f->dir;
		r->namelen = (uint16_t)nl;
		memcpy(r->name, f->name, nl);
		rc = fix_log(fs, FS_REC_DIRENT_DEL, r,
			     (uint32_t)(sizeof(*r) + nl), f->dir, 0);
		free(r);
		return rc;
	}
	case FIX_NLINK: {
		struct fs_rec_setnlink r = { .ino = f->ino, .nlink = f->nlink };

		return fix_log(fs, FS_REC_SETNLINK, &r, sizeof(r), f->ino, 0);
	}
	case FIX_DROP: {
		uint32_t len = sizeof(struct fs_rec_map) +
			       sizeof(struct fs_rec_mapop);
		struct fs_rec_map *r = calloc(1, len);

		if (!r)
			return -ENOMEM;
		r->ino = f->ino;
		r->nops = 1;
		r->ops[0].kind = FS_MAPOP_DROP;
		r->ops[0].fblk = f->fblk;
		r->ops[0].len = f->len;
		rc = fix_log(fs, FS_REC_MAP, r, len, f->ino, 0);
		free(r);
		return rc;
	}
	case FIX_IFREE: {
		struct fs_rec_ifree r = { .ino = f->ino };

		return fix_log(fs, FS_REC_IFREE, &r, sizeof(r), 0, 0);
	}
	case FIX_ADOPT:
	case FIX_LOST_FOUND:
		rc = fs_iget(fs, fs_root_ino(fs), 0, &root);
		if (rc)
			return rc;
		rc = fs_create(fs, root, LOST_FOUND, &(struct fs_create_args){
			.type = FS_TYPE_DIR, .mode = 0700 }, &lf);
		if (rc)
			goto out;
		ip = fs_itable_find(fs, f->ino);
		if (!ip) {
			rc = -ENOENT;
			goto out;
		}
		/*
		 * fs_link() refuses a name for an inode with no link; an
		 * unreachable one has links (in a lost directory), so it
		 * works and adds one; the next pass corrects the count.
		 */
		snprintf(name, sizeof(name), "#%llu", (unsigned long long)f->ino);
		if (f->kind == FIX_LOST_FOUND) {
			rc = fs_link(fs, ip, lf, name);
		} else {
			/* A directory cannot get a hard link: adopt it. */
			size_t nl = strlen(name);
			struct fs_rec_link *r = calloc(1, sizeof(*r) + nl);

			if (!r) {
				rc = -ENOMEM;
				goto out;
			}
			r->dir = lf->ino;
			r->ino = ip->ino;
			r->namelen = (uint16_t)nl;
			memcpy(r->name, name, nl);
			rc = fix_log(fs, FS_REC_DIR_ADOPT, r,
				     (uint32_t)(sizeof(*r) + nl), lf->ino,
				     ip->ino);
			free(r);
		}
out:
		if (lf)
			fs_iput(fs, lf);
		fs_iput(fs, root);
		return rc;
	}
	return -EINVAL;
}

static void
ck_reset(struct ck *c)
{
	free(c->inos);
	free(c->exts);
	free(c->fixes);
	c->inos = NULL;
	c->exts = NULL;
	c->fixes = NULL;
	c->n = c->cap = c->nexts = c->extcap = c->nfixes = c->fixcap = 0;
	c->err = 0;
}

/*
 * See include/fs.h.
 */
int
fs_check(struct fs *fs, const struct fs_check_opts *o,
	 struct fs_check_result *res)
{
	struct ck c = { .fs = fs, .o = o, .res = res };
	bool repair = o && o->repair;

	c.repair = repair;
	int rc;

	memset(res, 0, sizeof(*res));
	if (repair && (fs->flags & FS_MOUNT_RDONLY))
		return -EROFS;
	rwlock_lock(&fs->quiesce, LOCK_EXCL);
	rc = check_pass(&c, repair);
	rwlock_unlock(&fs->quiesce);
	if (rc || !repair || c.nfixes == 0)
		goto out;
	/*
	 * Repairs, in an order where each one makes the next possible:
	 * dangling entries first, then links into lost+found, then counts
	 * (recomputed by a second look, since links changed them).
	 */
	for (int pass = 0; pass < 3 && c.nfixes; pass++) {
		for (size_t i = 0; i < c.nfixes && rc == 0; i++) {
			rc = do_fix(fs, &c.fixes[i]);
			if (rc == 0)
				res->fixed++;
		}
		if (rc)
			break;
		/* Look again, silently, for what the repairs left to do. */
		struct fs_check_result again;

		ck_reset(&c);
		memset(&again, 0, sizeof(again));
		c.res = &again;
		c.quiet = true;
		c.repair = true;
		rwlock_lock(&fs->quiesce, LOCK_EXCL);
		rc = check_pass(&c, true);
		rwlock_unlock(&fs->quiesce);
		c.res = res;
		if (rc)
			break;
	}
out:
	ck_reset(&c);
	return rc;
}
