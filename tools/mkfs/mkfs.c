/*
 * pmemnfs-mkfs - format a device or file as a pmemnfsd volume.
 *
 * Exit status: 0 formatted; 1 the volume could not be formatted (the
 * message names the file and the problem); 2 bad command line.
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
#include "vol.h"

#define PROG		"pmemnfs-mkfs"
#define EXIT_USAGE	2
/* Volumes from this size on get progress lines (smaller ones are instant). */
#define PROGRESS_MIN	(16ull << 30)

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: " PROG " [options] DEVICE-OR-FILE\n"
"Format DEVICE-OR-FILE as a pmemnfsd volume.  A file that does not exist\n"
"is created sparse; only the superblock, an empty checkpoint and the head\n"
"of the log are written, so any size formats in about the same time.\n"
"\n"
"Options:\n"
"  -s SIZE     volume size (suffix K, M, G, T); required for a new file;\n"
"              an existing file is resized; default: the current size\n"
"  -b SIZE     block size, a power of two from 4K to 64K (default 4K)\n"
"  -l SIZE     log size (default: 1/64 of the volume, 1M..1G)\n"
"  -c SIZE     size of each checkpoint area (default: 1/32, 1M..4G)\n"
"  -L LABEL    volume label (up to %d bytes)\n"
"  -U UUID     use this volume UUID instead of a random one\n"
"  -f          format even if DEVICE-OR-FILE holds a file system\n"
"  -q          quiet: print nothing on success\n"
"  -h          show this help\n",
		VOL_LABEL_LEN - 1);
}

static NORETURN PRINTF_LIKE(1, 2) void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" PROG " -h' for more information.\n");
	exit(EXIT_USAGE);
}

/* "123", "64K", "16M", "64G", "1T" (powers of 1024).  Returns 0 or -EINVAL. */
static int
parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned shift = 0;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default:
		return -EINVAL;
	}
	if (*end == 'i' || *end == 'B')		/* accept KiB, KB */
		end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx */
static int
parse_uuid(const char *s, uint8_t *uuid)
{
	int n = 0;

	for (const char *p = s; *p; ) {
		int hi, lo;

		if (*p == '-' && (p - s == 8 || p - s == 13 || p - s == 18 ||
				  p - s == 23)) {
			p++;
			continue;
		}
		if (n == VOL_UUID_LEN)
			return -EINVAL;
		hi = hexval(p[0]);
		lo = hi < 0 ? -1 : hexval(p[1]);
		if (lo < 0)
			return -EINVAL;
		uuid[n++] = (uint8_t)(hi << 4 | lo);
		p += 2;
	}
	return n == VOL_UUID_LEN && strlen(s) == 36 ? 0 : -EINVAL;
}

static void
format_uuid(const uint8_t *u, char *buf)
{
	sprintf(buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
		"%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3], u[4], u[5],
		u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static void
show_progress(void *ctx, uint64_t done, uint64_t total)
{
	printf("  writing metadata: %3u%%\n",
	       (unsigned)(total ? done * 100 / total : 100));
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct vol_mkfs_opts o = { 0 };
	uint64_t size = 0, bs = 0;
	bool quiet = false, want_progress;
	const char *path;
	struct vol *v;
	struct vol_info info;
	char uuid[40];
	int c, err;

	log_init(PROG, LOG_LVL_NOTICE, false);
	while ((c = getopt(argc, argv, "s:b:l:c:L:U:fqh")) != -1) {
		switch (c) {
		case 's':
			if (parse_size(optarg, &size) || size == 0)
				usage_error("invalid size '%s' (a number with an "
					    "optional K, M, G or T suffix)",
					    optarg);
			break;
		case 'b':
			if (parse_size(optarg, &bs) || bs < VOL_BLOCK_SIZE_MIN ||
			    bs > VOL_BLOCK_SIZE_MAX || (bs & (bs - 1)))
				usage_error("invalid block size '%s' (a power "
					    "of two from 4K to 64K)", optarg);
			o.block_size = (uint32_t)bs;
			break;
		case 'l':
			if (parse_size(optarg, &o.log_size) || o.log_size == 0)
				usage_error("invalid log size '%s'", optarg);
			break;
		case 'c':
			if (parse_size(optarg, &o.ckpt_size) || o.ckpt_size == 0)
				usage_error("invalid checkpoint size '%s'",
					    optarg);
			break;
		case 'L':
			if (strlen(optarg) >= VOL_LABEL_LEN)
				usage_error("label '%s' is too long", optarg);
			strncpy(o.label, optarg, VOL_LABEL_LEN);
			break;
		case 'U':
			if (parse_uuid(optarg, o.uuid))
				usage_error("invalid UUID '%s' (expected "
					    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
					    optarg);
			o.have_uuid = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '" PROG " -h' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1)
		usage_error("%s", optind == argc ? "missing DEVICE-OR-FILE" :
			    "too many arguments");
	path = argv[optind];
	if (size == 0 && access(path, F_OK) != 0)
		usage_error("%s does not exist: give its size with -s", path);

	want_progress = !quiet && size >= PROGRESS_MIN;
	if (want_progress) {
		o.progress = show_progress;
		printf("Formatting %s (%" PRIu64 " bytes)\n", path, size);
	}
	err = vol_create(path, size, &o);
	if (err)
		return 1;	/* vol_create() logged the reason, naming the file */
	if (quiet)
		return 0;
	err = vol_open(path, VOL_OPEN_RDONLY, &v);
	if (err) {
		fprintf(stderr, PROG ": %s: formatted but cannot be opened: %s\n",
			path, strerror(-err));
		return 1;
	}
	vol_get_info(v, &info);
	vol_close(v);
	format_uuid(info.uuid, uuid);
	printf("%s: pmemnfsd volume, format %u\n"
	       "  uuid          %s\n"
	       "  label         %s\n"
	       "  size          %" PRIu64 " bytes\n"
	       "  block size    %u\n"
	       "  data blocks   %" PRIu64 " at offset %" PRIu64 "\n"
	       "  log           %" PRIu64 " bytes at offset %" PRIu64 "\n"
	       "  checkpoints   2 x %" PRIu64 " bytes at offsets %" PRIu64
	       ", %" PRIu64 "\n",
	       path, info.version, uuid, info.label, info.vol_size,
	       info.block_size, info.data_blocks, info.data_off,
	       info.log_size, info.log_off, info.ckpt_size, info.ckpt_off[0],
	       info.ckpt_off[1]);
	return 0;
}
