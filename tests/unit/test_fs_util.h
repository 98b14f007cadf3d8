/*
 * test_fs_util.h - helpers for engine tests: a scratch volume, mount and
 * remount, and short wrappers that fail the test on an error.
 */
#ifndef PMEMNFS_TEST_FS_UTIL_H
#define PMEMNFS_TEST_FS_UTIL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "fs/inode.h"
#include "vol.h"

static char tf_dir[256];
static char tf_vol[300];

static inline void
tf_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tf_dir, sizeof(tf_dir), "%s/pmemnfs-fs-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	REQUIRE(mkdtemp(tf_dir) != NULL);
	snprintf(tf_vol, sizeof(tf_vol), "%s/vol", tf_dir);
}

static inline void
tf_cleanup(void)
{
	unlink(tf_vol);
	rmdir(tf_dir);
}

/* Format the scratch volume: size bytes, log_size 0 for the default. */
static inline void
tf_mkfs(uint64_t size, uint64_t log_size)
{
	struct vol_mkfs_opts o;

	memset(&o, 0, sizeof(o));
	o.force = true;
	o.log_size = log_size;
	unlink(tf_vol);
	REQUIRE(vol_create(tf_vol, size, &o) == 0);
}

static inline struct fs *
tf_mount(void)
{
	struct fs *fs = NULL;
	int rc = fs_mount(tf_vol, 0, &fs);

	if (rc)
		fprintf(stderr, "fs_mount: %d\n", rc);
	REQUIRE(rc == 0);
	return fs;
}

static inline struct fs_inode *
tf_root(struct fs *fs)
{
	struct fs_inode *ip = NULL;

	REQUIRE(fs_iget(fs, fs_root_ino(fs), 0, &ip) == 0);
	return ip;
}

static inline struct fs_inode *
tf_create(struct fs *fs, struct fs_inode *dir, const char *name,
	  enum fs_ftype type)
{
	struct fs_create_args a = {
		.type = type, .mode = 0644, .uid = 1, .gid = 2,
		.target = type == FS_TYPE_LNK ? "target/of/link" : NULL,
		.exclusive = true,
	};
	struct fs_inode *ip = NULL;
	int rc = fs_create(fs, dir, name, &a, &ip);

	if (rc)
		fprintf(stderr, "fs_create(%s): %d\n", name, rc);
	REQUIRE(rc == 0);
	return ip;
}

static inline struct fs_inode *
tf_lookup(struct fs *fs, struct fs_inode *dir, const char *name)
{
	struct fs_inode *ip = NULL;

	return fs_lookup(fs, dir, name, &ip) == 0 ? ip : NULL;
}

static inline uint64_t
tf_size(struct fs *fs, struct fs_inode *ip)
{
	struct fs_attr a;

	REQUIRE(fs_getattr(fs, ip, &a) == 0);
	return a.size;
}

#endif
