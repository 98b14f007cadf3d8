/*
 * fuzz_util.c - small helpers shared by the fuzz targets (see fuzz.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

/* See fuzz.h.  No locks. */
int
fuzz_write_tmp(const char *tag, const uint8_t *data, size_t size, char *path,
	       size_t pathlen)
{
	const char *dir = getenv("TMPDIR");
	size_t off = 0;
	int fd, n;

	if (!dir || !*dir)
		dir = "/tmp";
	n = snprintf(path, pathlen, "%s/pmemnfs-fuzz-%s-XXXXXX", dir, tag);
	if (n < 0 || (size_t)n >= pathlen)
		return -ENAMETOOLONG;
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	while (off < size) {
		ssize_t w = write(fd, data + off, size - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int err = w < 0 ? -errno : -EIO;

			close(fd);
			unlink(path);
			return err;
		}
		off += (size_t)w;
	}
	if (close(fd) < 0) {
		int err = -errno;

		unlink(path);
		return err;
	}
	return 0;
}

/* See fuzz.h. */
void
fuzz_die(const char *what, int err)
{
	fprintf(stderr, "fuzz harness: %s: %s\n", what, strerror(-err));
	abort();
}
