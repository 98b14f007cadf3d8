/*
 * test_fs_replay.c - replay rebuilds exactly the state the server had.
 *
 * A child runs a seeded random mix of every operation (all inode types,
 * links, renames, setattr, writes, truncates, punches, preallocation,
 * clones, RW layouts and LAYOUTCOMMIT, xattrs, server records) on a volume
 * with a small log (so checkpoints happen in between), writes a canonical
 * dump of the whole metadata - every inode's attributes including the
 * change attribute and times, every extent with its volume block, every
 * directory entry with its cookie, xattrs, link texts, server records -
 * and exits without unmounting.  The parent mounts (checkpoint + replay)
 * and dumps again: the two dumps must be identical, byte for byte.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../testlib.h"
#include "test_fs_util.h"
#include "../../src/fs/fs_impl.h"

#define BS		4096u
#define NNAMES		12
#define NOPS		3000

static uint64_t rng = 0x2545f4914f6cdd1dULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* ---- canonical dump ---- */

struct dump {
	FILE		*f;
	struct fs	*fs;
};

static int
dump_ext(void *ctx, const struct fs_ext *e)
{
	fprintf(ctx, "  ext %" PRIu64 "+%" PRIu64 " -> %" PRIu64 " st %u\n",
		e->fblk, e->len, e->vblk, e->state);
	return 0;
}

static int
dump_dirent(void *ctx, const struct fs_dirent *de)
{
	fprintf(ctx, "  ent %s ino %" PRIu64 " type %u cookie %" PRIu64 "\n",
		de->name, de->ino, de->type, de->cookie);
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct inos {
	uint64_t	*v;
	size_t		n;
	size_t		cap;
};

static int
collect(void *ctx, struct fs_inode *ip)
{
	struct inos *s = ctx;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			return -ENOMEM;
	}
	s->v[s->n++] = ip->ino;
	return 0;
}

static int
dump_srv(void *ctx, const void *key, size_t klen, const void *val, size_t vlen)
{
	FILE *f = ctx;

	fprintf(f, "srv %.*s = %.*s\n", (int)klen, (const char *)key,
		(int)vlen, (const char *)val);
	return 0;
}

/* Server records come out in hash order: sort the lines. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
dump_state(struct fs *fs, const char *path)
{
	FILE *f = fopen(path, "w");
	struct inos s = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *mem;

	REQUIRE(f);
	REQUIRE(fs_itable_walk(fs, collect, &s) == 0);
	qsort(s.v, s.n, sizeof(s.v[0]), cmp_u64);
	fprintf(f, "next_ino %" PRIu64 " root %" PRIu64 "\n",
		(uint64_t)atomic_load(&fs->next_ino), fs->root_ino);
	for (size_t i = 0; i < s.n; i++) {
		struct fs_inode *ip = fs_itable_find(fs, s.v[i]);

		REQUIRE(ip);
		fprintf(f, "ino %" PRIu64 " gen %" PRIu64 " type %u mode %o "
			"uid %u gid %u nlink %u rdev %u:%u size %" PRIu64
			" change %" PRIu64 " a %" PRId64 ".%u m %" PRId64 ".%u"
			" c %" PRId64 ".%u b %" PRId64 ".%u parent %" PRIu64 "\n",
			ip->ino, ip->gen, ip->type, ip->mode, ip->uid, ip->gid,
			ip->nlink, ip->rdev_major, ip->rdev_minor, ip->size,
			ip->change, ip->atime.sec, ip->atime.nsec,
			ip->mtime.sec, ip->mtime.nsec, ip->ctime.sec,
			ip->ctime.nsec, ip->btime.sec, ip->btime.nsec,
			ip->parent);
		if (ip->map)
			REQUIRE(fs_extmap_walk(ip->map, 0, UINT64_MAX, dump_ext,
					       f) == 0);
		if (ip->dir) {
			fprintf(f, "  next_cookie %" PRIu64 "\n",
				ip->dir->next_cookie);
			REQUIRE(fs_dir_iterate(ip->dir, 0, dump_dirent, f) == 0);
		}
		if (ip->target)
			fprintf(f, "  target %s\n", ip->target);
		/* xattrs: a list in insertion order, which replay keeps. */
		for (struct fs_xattr *x = ip->xattrs; x; x = x->next)
			fprintf(f, "  xattr %s = %.*s\n", x->name, (int)x->vlen,
				(const char *)x->val);
	}
	mem = open_memstream(&buf, &len);
	REQUIRE(mem);
	REQUIRE(fs_srvrec_iterate(fs, dump_srv, mem) == 0);
	fclose(mem);
	{
		char *lines[256];
		int n = 0;

		for (char *p = strtok(buf, "\n"); p && n < 256;
		     p = strtok(NULL, "\n"))
			lines[n++] = p;
		qsort(lines, (size_t)n, sizeof(lines[0]), cmp_str);
		for (int i = 0; i < n; i++)
			fprintf(f, "%s\n", lines[i]);
	}
	free(buf);
	free(s.v);
	fclose(f);
}

/* ---- the random workload ---- */

static struct fs_inode *
pick_dir(struct fs *fs, struct fs_inode *root)
{
	char name[16];
	struct fs_inode *d = NULL;

	snprintf(name, sizeof(name), "d%u", (unsigned)(rnd() % 3));
	if (rnd() % 3 == 0 || fs_lookup(fs, root, name, &d) != 0 ||
	    d->type != FS_TYPE_DIR) {
		if (d)
			fs_iput(fs, d);
		fs_ihold(root);
		return root;
	}
	return d;
}

static void
one_op(struct fs *fs, struct fs_inode *root, uint8_t *buf)
{
	struct fs_inode *d1 = pick_dir(fs, root), *d2 = pick_dir(fs, root);
	struct fs_inode *ip = NULL, *jp = NULL;
	char a[16], b[16];
	/* 20..27 are more writes: the files should end up with data. */
	uint64_t r = rnd() % 28;
	size_t n;
	int rc = 0;

	snprintf(a, sizeof(a), "n%u", (unsigned)(rnd() % NNAMES));
	snprintf(b, sizeof(b), "n%u", (unsigned)(rnd() % NNAMES));
	if (r >= 20)
		r = 9;
	if (r < 4) {
		static const enum fs_ftype types[] = {
			FS_TYPE_REG, FS_TYPE_REG, FS_TYPE_REG, FS_TYPE_DIR,
			FS_TYPE_LNK, FS_TYPE_BLK, FS_TYPE_CHR, FS_TYPE_SOCK,
			FS_TYPE_FIFO,
		};
		struct fs_create_args ca = {
			.type = types[rnd() % ARRAY_SIZE(types)],
			.mode = (uint32_t)(rnd() & 0777), .uid = (uint32_t)rnd() % 5,
			.gid = 7, .rdev_major = 8, .rdev_minor = (uint32_t)rnd() % 9,
			.target = "some/link/text", .exclusive = true,
		};

		if (r == 0 && rnd() % 3 == 0) {
			snprintf(a, sizeof(a), "d%u", (unsigned)(rnd() % 3));
			ca.type = FS_TYPE_DIR;
			d1 = (fs_iput(fs, d1), fs_ihold(root), root);
		}
		rc = fs_create(fs, d1, a, &ca, &ip);
	} else if (r < 6) {
		rc = fs_unlink(fs, d1, a);
	} else if (r < 8) {
		rc = fs_rename(fs, d1, a, d2, b);
	} else if (r < 9) {
		rc = fs_lookup(fs, d1, a, &ip);
		if (!rc)
			rc = fs_link(fs, ip, d2, b);
	} else {
		rc = fs_lookup(fs, d1, a, &ip);
		if (rc || ip->type != FS_TYPE_REG)
			goto out;
		switch (r) {
		case 9:
		case 10:
			rc = fs_write(fs, ip, rnd() % (24 * BS),
				      1 + rnd() % (4 * BS), buf,
				      (rnd() & 1) ? FS_FILE_SYNC : FS_UNSTABLE, &n);
			break;
		case 11:
			rc = fs_setattr(fs, ip, &(struct fs_setattr){
				.mask = FS_SET_SIZE | FS_SET_MODE | FS_SET_ATIME,
				.size = rnd() % (24 * BS), .mode = 0640,
				.atime = { .sec = 1000, .nsec = 5 } }, NULL);
			break;
		case 12:
			rc = fs_deallocate(fs, ip, rnd() % (24 * BS),
					   1 + rnd() % (8 * BS));
			break;
		case 13:
			rc = fs_allocate(fs, ip, rnd() % (24 * BS),
					 1 + rnd() % (8 * BS));
			break;
		case 14:
			rc = fs_lookup(fs, d2, b, &jp);
			if (!rc && jp->type == FS_TYPE_REG && jp != ip)
				rc = fs_clone(fs, ip, 0, jp, BS * (rnd() % 8),
					      BS * (1 + rnd() % 3));
			break;
		case 15: {
			struct fs_layout_ext ext[16];
			unsigned nx;
			uint64_t off = BS * (rnd() % 24);

			fs_ilock(ip, FS_MAPLOCK_SHARED);
			rc = fs_layout_map(fs, ip, off, BS * (1 + rnd() % 6),
					   true, ext, 16, &nx);
			fs_iunlock(ip, FS_MAPLOCK_SHARED);
			if (!rc && (rnd() & 1))
				rc = fs_layout_commit(fs, ip, off, BS,
						      off + BS, NULL);
			break;
		}
		case 16:
			rc = fs_xattr_set(fs, ip, (rnd() & 1) ? "user.a" : "user.b",
					  "value", 1 + rnd() % 5, 0);
			break;
		case 17:
			rc = fs_xattr_remove(fs, ip, "user.a");
			break;
		case 18: {
			char key[8];

			snprintf(key, sizeof(key), "k%u", (unsigned)(rnd() % 5));
			rc = fs_srvrec_put(fs, key, strlen(key), "rec", 3);
			break;
		}
		default:
			rc = fs_commit(fs, ip, 0, 0);
			break;
		}
	}
out:
	if (ip)
		fs_iput(fs, ip);
	if (jp)
		fs_iput(fs, jp);
	fs_iput(fs, d1);
	fs_iput(fs, d2);
	/* Races with ourselves do not exist here: only real errors fail. */
	REQUIRE(rc == 0 || rc == -ENOENT || rc == -EEXIST || rc == -ENOTEMPTY ||
		rc == -EISDIR || rc == -ENOTDIR || rc == -EINVAL ||
		rc == -ENODATA || rc == -EMLINK);
}

static void
test_replay_exact(void)
{
	char before[400], after[400], cmd[900];
	pid_t pid;
	int status;

	snprintf(before, sizeof(before), "%s/before", tf_dir);
	snprintf(after, sizeof(after), "%s/after", tf_dir);
	tf_mkfs(64ull << 20, 64 << 10);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct fs *fs = tf_mount();
		struct fs_inode *root = tf_root(fs);
		uint8_t *buf = malloc(4 * BS);

		REQUIRE(buf);
		memset(buf, 0x61, 4 * BS);
		for (int i = 0; i < NOPS; i++)
			one_op(fs, root, buf);
		fs_iput(fs, root);
		/* Every reference is dropped, so nothing is an orphan. */
		REQUIRE(vol_epoch(fs_vol(fs)) > 2);	/* checkpoints ran */
		dump_state(fs, before);
		_exit(0);		/* no unmount: the log is replayed */
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	REQUIRE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		struct fs *fs = tf_mount();
		struct fs_check_result res;

		dump_state(fs, after);
		CHECK_EQ(fs_check(fs, &(struct fs_check_opts){ 0 }, &res), 0);
		CHECK_EQ(res.problems, 0);
		fprintf(stderr, "  %" PRIu64 " inodes, %" PRIu64 " dirs, %"
			PRIu64 " extents after %d operations\n", res.inodes,
			res.dirs, res.extents, NOPS);
		CHECK(res.inodes > 10);
		CHECK(res.extents > 5);
		CHECK_EQ(fs_unmount(fs), 0);
	}
	snprintf(cmd, sizeof(cmd), "cmp -s '%s' '%s'", before, after);
	if (system(cmd) != 0) {
		snprintf(cmd, sizeof(cmd), "diff '%s' '%s' | head -20 >&2",
			 before, after);
		if (system(cmd) != 0)
			fprintf(stderr, "(diff failed)\n");
		CHECK(!"state after replay differs");
	}
	unlink(before);
	unlink(after);
}

int
main(void)
{
	tf_setup();
	TEST_RUN(test_replay_exact);
	tf_cleanup();
	TEST_EXIT();
}
