/*
 * pmemnfs-fsck - check (and optionally repair) a pmemnfsd volume.
 *
 * Mounts the volume the way the server does (checkpoint + log replay),
 * but read-only unless -y, and tolerant of damage (FS_MOUNT_FSCK), then
 * runs fs_check(), which names every problem.
 *
 * Exit status (as e2fsck): 0 no problem; 1 problems were found and all
 * repaired; 4 problems remain; 8 the volume could not be checked (it
 * does not mount: the message says why); 16 bad command line.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "fs.h"
#include "vol.h"

#define PROG		"pmemnfs-fsck"
#define EXIT_CLEAN	0
#define EXIT_FIXED	1
#define EXIT_UNFIXED	4
#define EXIT_ERROR	8
#define EXIT_USAGE	16
/* Inode counts from which progress lines are printed without -P. */
#define PROGRESS_MIN_INODES	200000

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [-n | -y] [-P] [-q] [-v] DEVICE-OR-FILE\n"
"Check the pmemnfsd volume on DEVICE-OR-FILE: superblock, checkpoint and\n"
"log (by mounting it), then every metadata invariant.  Do not run it on a\n"
"volume a server is using.\n"
"\n"
"Options:\n"
"  -n    only report (the default): open the volume read-only\n"
"  -y    repair what can be repaired: remove entries that name no inode,\n"
"        move unreachable files to /lost+found, correct link counts, free\n"
"        orphans, unmap blocks that a second file maps\n"
"  -P    print progress lines (always on for large volumes)\n"
"  -q    print problems only\n"
"  -v    also print the log state and counts\n"
"  -h    show this help\n"
"\n"
"Exit status: 0 clean, 1 repaired, 4 problems left, 8 not checkable,\n"
"16 usage.\n");
}

struct opts {
	bool	repair;
	bool	progress;
	bool	quiet;
	bool	verbose;
};

static void
print_problem(void *ctx, const char *msg)
{
	printf("PROBLEM: %s\n", msg);
}

static void
print_progress(void *ctx, uint64_t done, uint64_t total)
{
	const struct opts *o = ctx;

	if (o->progress || total >= PROGRESS_MIN_INODES)
		fprintf(stderr, PROG ": checked %" PRIu64 " of %" PRIu64
			" inodes (%u%%)\n", done, total,
			total ? (unsigned)(done * 100 / total) : 100);
}

int
main(int argc, char **argv)
{
	struct opts o = { 0 };
	struct fs_check_opts co = { .problem = print_problem,
				    .progress = print_progress, .ctx = &o };
	struct fs_check_result res, after;
	const char *path;
	struct fs *fs;
	int c, rc, status;

	log_init(PROG, LOG_LVL_WARN, false);
	while ((c = getopt(argc, argv, "nyPqvh")) != -1) {
		switch (c) {
		case 'n':
			o.repair = false;
			break;
		case 'y':
			o.repair = true;
			break;
		case 'P':
			o.progress = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_CLEAN;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	path = argv[optind];

	rc = vol_probe(path);
	if (rc <= 0) {
		fprintf(stderr, PROG ": %s: %s\n", path, rc == 0 ?
			"no pmemnfsd superblock (not formatted, or the "
			"superblock is damaged)" : strerror(-rc));
		return EXIT_ERROR;
	}
	rc = fs_mount(path, FS_MOUNT_FSCK | (o.repair ? 0 : FS_MOUNT_RDONLY),
		      &fs);
	if (rc) {
		fprintf(stderr, PROG ": %s: cannot mount: %s (the checkpoint "
			"or a log record is damaged; see the messages above)\n",
			path, strerror(-rc));
		return EXIT_ERROR;
	}
	co.repair = o.repair;
	rc = fs_check(fs, &co, &res);
	if (rc) {
		fprintf(stderr, PROG ": %s: check failed: %s\n", path,
			strerror(-rc));
		if (fs_unmount(fs))
			fprintf(stderr, PROG ": %s: unmount failed too\n", path);
		return EXIT_ERROR;
	}
	status = res.problems ? EXIT_UNFIXED : EXIT_CLEAN;
	if (o.repair && res.problems) {
		struct fs_check_opts quiet = { .problem = print_problem };

		if (!o.quiet)
			printf("re-checking after %" PRIu64 " repairs\n",
			       res.fixed);
		rc = fs_check(fs, &quiet, &after);
		if (rc == 0 && after.problems == 0)
			status = EXIT_FIXED;
	}
	if (o.verbose)
		printf("log: %" PRIu64 " records, %" PRIu64 " of %" PRIu64
		       " bytes used\n", res.log_records, res.log_used,
		       res.log_size);
	if (!o.quiet)
		printf("%s: %" PRIu64 " inodes (%" PRIu64 " directories), %"
		       PRIu64 " extents, %" PRIu64 " blocks mapped; %" PRIu64
		       " problems%s\n", path, res.inodes, res.dirs, res.extents,
		       res.blocks_mapped, res.problems,
		       status == EXIT_FIXED ? ", all repaired" :
		       status == EXIT_UNFIXED ? ", NOT repaired" : "");
	rc = fs_unmount(fs);
	if (rc && o.repair) {
		fprintf(stderr, PROG ": %s: final checkpoint failed: %s\n",
			path, strerror(-rc));
		return EXIT_ERROR;
	}
	return status;
}
