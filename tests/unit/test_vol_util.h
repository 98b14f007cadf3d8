/*
 * test_vol_util.h - helpers shared by the volume tests: scratch files and
 * raw access to a closed volume's bytes.
 */
#ifndef PMEMNFS_TEST_VOL_UTIL_H
#define PMEMNFS_TEST_VOL_UTIL_H

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vol.h"
#include "../../src/pmem/vol_impl.h"

/* The volume size most tests use: just above the minimum. */
#define TV_SIZE		(16ull << 20)

static char tv_dir[256];

/* A private scratch directory under $TMPDIR, removed by tv_cleanup(). */
static inline void
tv_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tv_dir, sizeof(tv_dir), "%s/pmemnfs-vol-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	REQUIRE(mkdtemp(tv_dir) != NULL);
}

static inline void
tv_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", tv_dir, name);
}

static inline void
tv_cleanup(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tv_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tv_dir);
}

static inline void
tv_pread(const char *path, void *buf, size_t len, uint64_t off)
{
	int fd = open(path, O_RDONLY);

	REQUIRE(fd >= 0);
	REQUIRE(pread(fd, buf, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static inline void
tv_pwrite(const char *path, const void *buf, size_t len, uint64_t off)
{
	int fd = open(path, O_RDWR);

	REQUIRE(fd >= 0);
	REQUIRE(pwrite(fd, buf, len, (off_t)off) == (ssize_t)len);
	close(fd);
}

static inline void
tv_read_sb(const char *path, struct vol_sb_disk *sb)
{
	tv_pread(path, sb, sizeof(*sb), 0);
}

static inline void
tv_write_sb(const char *path, const struct vol_sb_disk *sb)
{
	tv_pwrite(path, sb, sizeof(*sb), 0);
}

/* Format path with a small explicit log (log_size 0: the default). */
static inline void
tv_mkfs(const char *path, uint64_t size, uint64_t log_size)
{
	struct vol_mkfs_opts o = { .log_size = log_size, .force = true };

	REQUIRE(vol_create(path, size, &o) == 0);
}

#endif
