/*
 * test_fs_fsck.c - pmemnfs-fsck end to end: a clean volume passes; damage
 * planted in a checkpoint (a wrong link count, a block mapped by two
 * files) is named, makes the server's mount refuse the volume where it
 * must, and -y repairs what can be repaired.  Needs tools/fsck/pmemnfs-fsck
 * (built by "make all"); skipped (77) without it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "../testlib.h"
#include "test_fs_util.h"
#include "../../src/fs/extmap.h"

static char fsck[512];

/* Run the fsck binary; its exit status, with stdout in out. */
static int
run_fsck(const char *opt, char *out, size_t outsz)
{
	char cmd[1024];
	FILE *p;
	size_t n;
	int st;

	snprintf(cmd, sizeof(cmd), "'%s' %s '%s' 2>&1", fsck, opt, tf_vol);
	p = popen(cmd, "r");
	REQUIRE(p);
	n = fread(out, 1, outsz - 1, p);
	out[n] = '\0';
	st = pclose(p);
	if (getenv("FS_TEST_VERBOSE"))
		fprintf(stderr, "fsck %s -> %d:\n%s", opt, WEXITSTATUS(st), out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void
test_fsck(void)
{
	static char out[16384];
	struct fs *fs;
	struct fs_inode *root, *a, *b;
	char data[100] = "x";
	size_t n;

	tf_mkfs(32ull << 20, 0);
	fs = tf_mount();
	root = tf_root(fs);
	a = tf_create(fs, root, "a", FS_TYPE_REG);
	b = tf_create(fs, root, "b", FS_TYPE_REG);
	CHECK_EQ(fs_write(fs, a, 0, sizeof(data), data, FS_FILE_SYNC, &n), 0);
	fs_iput(fs, root);
	/* Damage 1: a wrong link count, written into the checkpoint. */
	a->nlink = 3;
	fs_iput(fs, a);
	fs_iput(fs, b);
	CHECK_EQ(fs_unmount(fs), 0);

	CHECK_EQ(run_fsck("-n", out, sizeof(out)), 4);
	CHECK(strstr(out, "link count 3, should be 1") != NULL);
	CHECK_EQ(run_fsck("-y", out, sizeof(out)), 1);
	CHECK_EQ(run_fsck("-n", out, sizeof(out)), 0);

	/* Damage 2: b maps a's block.  The server refuses to mount. */
	fs = tf_mount();
	root = tf_root(fs);
	a = tf_lookup(fs, root, "a");
	b = tf_lookup(fs, root, "b");
	REQUIRE(a && b);
	{
		struct fs_ext e;

		REQUIRE(fs_extmap_lookup(a->map, 0, &e) == 0);
		e.fblk = 7;
		REQUIRE(fs_extmap_insert(b->map, &e) == 0);
		b->size = 8 * 4096;
	}
	fs_iput(fs, a);
	fs_iput(fs, b);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
	{
		struct fs *f2 = NULL;

		CHECK_EQ(fs_mount(tf_vol, 0, &f2), -EUCLEAN);
	}
	CHECK_EQ(run_fsck("-n", out, sizeof(out)), 4);
	CHECK(strstr(out, "are mapped by inode 2 and inode 3") != NULL);
	/* -y leaves the block to its first owner and a hole in b. */
	CHECK_EQ(run_fsck("-y", out, sizeof(out)), 1);
	CHECK_EQ(run_fsck("-n", out, sizeof(out)), 0);
	fs = tf_mount();
	root = tf_root(fs);
	a = tf_lookup(fs, root, "a");
	b = tf_lookup(fs, root, "b");
	REQUIRE(a && b);
	{
		char got[100];
		uint64_t pos;
		bool eof;

		CHECK_EQ(fs_read(fs, a, 0, sizeof(got), got, &n, &eof), 0);
		CHECK_EQ(n, sizeof(got));
		CHECK(memcmp(got, data, sizeof(got)) == 0);
		CHECK_EQ(fs_seek(fs, b, 0, true, &pos), -ENXIO);
	}
	fs_iput(fs, a);
	fs_iput(fs, b);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);

	/* Not a volume at all. */
	{
		FILE *f = fopen(tf_vol, "w");

		REQUIRE(f);
		fputs("junk", f);
		fclose(f);
	}
	CHECK_EQ(run_fsck("-n", out, sizeof(out)), 8);
}

int
main(void)
{
	const char *b = getenv("top_builddir");

	snprintf(fsck, sizeof(fsck), "%s/tools/fsck/pmemnfs-fsck", b ? b : ".");
	if (access(fsck, X_OK) != 0) {
		fprintf(stderr, "%s not built: skipped\n", fsck);
		return 77;
	}
	tf_setup();
	TEST_RUN(test_fsck);
	tf_cleanup();
	TEST_EXIT();
}
