/*
 * test_fs_stress.c - several threads change one namespace and a few
 * files at once (creates, unlinks, renames within and across directories,
 * links, writes, truncates, punches, clones, xattrs) on a volume with a
 * 64 KiB log, so checkpoints run in the middle of it all.  In debug builds
 * every lock-order and lock-held assertion is live.  Afterwards fs_check()
 * must find nothing, before and after a remount.  FS_STRESS_OPS sets the
 * operations per thread.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testlib.h"
#include "test_fs_util.h"

#define NTHREADS	4
#define NNAMES		16
#define NDIRS		3
#define BS		4096u

static struct fs *gfs;
static struct fs_inode *dirs[NDIRS];
static int ops_per_thread = 3000;

struct tstate {
	uint64_t	rng;
	int		bad;
	int		ok;
	int		last_bad_rc;
	int		id;
};

static uint64_t
trnd(struct tstate *t)
{
	t->rng ^= t->rng << 13;
	t->rng ^= t->rng >> 7;
	t->rng ^= t->rng << 17;
	return t->rng;
}

/* Errors a racing namespace legitimately produces. */
static bool
expected(int rc)
{
	return rc == 0 || rc == -ENOENT || rc == -EEXIST || rc == -ENOTEMPTY ||
	       rc == -EISDIR || rc == -ENOTDIR || rc == -EINVAL ||
	       rc == -ENODATA || rc == -EMLINK;
}

static void
one_op(struct tstate *t)
{
	char a[16], b[16];
	struct fs_inode *d1 = dirs[trnd(t) % NDIRS], *d2 = dirs[trnd(t) % NDIRS];
	struct fs_inode *ip = NULL, *jp = NULL;
	uint8_t buf[3 * BS];
	size_t n;
	int rc = 0;

	snprintf(a, sizeof(a), "n%u", (unsigned)(trnd(t) % NNAMES));
	snprintf(b, sizeof(b), "n%u", (unsigned)(trnd(t) % NNAMES));
	switch (trnd(t) % 12) {
	case 0:
	case 1:
		rc = fs_create(gfs, d1, a, &(struct fs_create_args){
			.type = (trnd(t) % 4) ? FS_TYPE_REG : FS_TYPE_DIR,
			.mode = 0644, .exclusive = true }, &ip);
		break;
	case 2:
		rc = fs_unlink(gfs, d1, a);
		break;
	case 3:
	case 4:
		rc = fs_rename(gfs, d1, a, d2, b);
		break;
	case 5:
		rc = fs_lookup(gfs, d1, a, &ip);
		if (!rc)
			rc = fs_link(gfs, ip, d2, b);
		break;
	default:
		rc = fs_lookup(gfs, d1, a, &ip);
		if (rc || ip->type != FS_TYPE_REG)
			break;
		switch (trnd(t) % 6) {
		case 0:
		case 1:
			memset(buf, t->id, sizeof(buf));
			rc = fs_write(gfs, ip, trnd(t) % (32 * BS),
				      1 + trnd(t) % sizeof(buf), buf,
				      (trnd(t) & 1) ? FS_FILE_SYNC : FS_UNSTABLE,
				      &n);
			if (!rc)
				rc = fs_commit(gfs, ip, 0, 0);
			break;
		case 2:
			rc = fs_setattr(gfs, ip, &(struct fs_setattr){
				.mask = FS_SET_SIZE | FS_SET_MODE,
				.size = trnd(t) % (32 * BS), .mode = 0600 }, NULL);
			break;
		case 3:
			rc = fs_deallocate(gfs, ip, trnd(t) % (32 * BS),
					   1 + trnd(t) % (8 * BS));
			break;
		case 4:
			rc = fs_lookup(gfs, d2, b, &jp);
			if (!rc && jp->type == FS_TYPE_REG && jp != ip)
				rc = fs_clone(gfs, ip, 0, jp, BS * (trnd(t) % 8),
					      BS * (1 + trnd(t) % 4));
			if (rc == -EINVAL)	/* source shorter than asked */
				rc = 0;
			break;
		default:
			rc = fs_xattr_set(gfs, ip, "user.t", "v", 1, 0);
			break;
		}
		break;
	}
	if (ip)
		fs_iput(gfs, ip);
	if (jp)
		fs_iput(gfs, jp);
	if (rc == 0)
		t->ok++;
	if (!expected(rc)) {
		t->bad++;
		t->last_bad_rc = rc;
	}
}

static void *
worker(void *arg)
{
	struct tstate *t = arg;

	for (int i = 0; i < ops_per_thread; i++)
		one_op(t);
	return NULL;
}

static void
check_clean(struct fs *fs)
{
	struct fs_check_result res;

	CHECK_EQ(fs_check(fs, &(struct fs_check_opts){ 0 }, &res), 0);
	CHECK_EQ(res.problems, 0);
}

static void
test_stress(void)
{
	struct tstate ts[NTHREADS];
	pthread_t tid[NTHREADS];
	struct fs_inode *root;

	tf_mkfs(64ull << 20, 64 << 10);
	gfs = tf_mount();
	root = tf_root(gfs);
	dirs[0] = root;
	dirs[1] = tf_create(gfs, root, "d1", FS_TYPE_DIR);
	dirs[2] = tf_create(gfs, dirs[1], "d2", FS_TYPE_DIR);
	for (int i = 0; i < NTHREADS; i++) {
		ts[i] = (struct tstate){ .rng = 0x9e3779b97f4a7c15ULL * (i + 1),
					 .id = i };
		REQUIRE(pthread_create(&tid[i], NULL, worker, &ts[i]) == 0);
	}
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(tid[i], NULL);
		CHECK_EQ(ts[i].bad, 0);
		/* The mix must do real work, not mostly fail on races. */
		CHECK(ts[i].ok > ops_per_thread / 4);
		if (ts[i].bad)
			fprintf(stderr, "thread %d: unexpected error %d\n", i,
				ts[i].last_bad_rc);
	}
	CHECK(!fs_is_shutdown(gfs));
	/* With the default op count the 64 KiB log filled several times:
	 * checkpoints ran in the middle of it. */
	if (ops_per_thread >= 3000)
		CHECK(vol_epoch(fs_vol(gfs)) > 2);
	check_clean(gfs);
	for (int i = 0; i < NDIRS; i++)
		fs_iput(gfs, dirs[i]);
	CHECK_EQ(fs_unmount(gfs), 0);
	gfs = tf_mount();
	check_clean(gfs);
	CHECK_EQ(fs_unmount(gfs), 0);
}

int
main(void)
{
	const char *e = getenv("FS_STRESS_OPS");

	if (e)
		ops_per_thread = atoi(e);
	tf_setup();
	TEST_RUN(test_stress);
	tf_cleanup();
	TEST_EXIT();
}
