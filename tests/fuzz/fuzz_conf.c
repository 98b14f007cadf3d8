/*
 * fuzz_conf.c - libFuzzer target: the configuration parser
 * (src/common/conf.c).  The input is the file: it is written to a
 * temporary file and parsed with a key table that has one key of every
 * type, with ranges like the daemon's.  Its first line is also fed to
 * conf_parse_override(), which is what "-o section.key=value" reaches.
 *
 * Properties checked beyond "no crash, no leak, no UB": a failed parse
 * leaves a NUL-terminated message in err; values that parsed are within
 * their key's range; a CONF_BOOL is 0 or 1.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "common/conf.h"
#include "common/log.h"
#include "fuzz.h"

struct fuzz_cfg {
	uint32_t	port;
	uint32_t	rec;
	uint64_t	size;
	uint64_t	count;
	bool		flag;
	char		*path;
	char		*other;
	enum log_level	level;
};

#define OFF(f)	offsetof(struct fuzz_cfg, f)

static const struct conf_key keys[] = {
	{ "server", "port", CONF_U32, OFF(port), 1, 65535, "" },
	{ "server", "rec", CONF_SIZE32, OFF(rec), 4096, 1u << 30, "" },
	{ "server", "size", CONF_SIZE, OFF(size), 8u << 20, UINT64_MAX, "" },
	{ "server", "count", CONF_U64, OFF(count), 0, UINT64_MAX - 1, "" },
	{ "server", "flag", CONF_BOOL, OFF(flag), 0, 0, "" },
	{ "server", "path", CONF_STRING, OFF(path), 0, 0, "" },
	{ "log", "level", CONF_LOGLEVEL, OFF(level), 0, 0, "" },
	{ "log", "other", CONF_STRING, OFF(other), 0, 0, "" },
};

/* Longest -o argument we try; the command line has its own limits. */
#define FUZZ_OVERRIDE_MAX	4096

static void
check_ranges(const struct fuzz_cfg *c)
{
	VERIFY(c->port == 0 || (c->port >= 1 && c->port <= 65535));
	VERIFY(c->rec == 0 || (c->rec >= 4096 && c->rec <= (1u << 30)));
	VERIFY(c->size == 0 || c->size >= (8u << 20));
	VERIFY(c->count <= UINT64_MAX - 1);
	VERIFY(*(const uint8_t *)&c->flag <= 1);
	VERIFY(c->level <= LOG_LVL_DEBUG);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Parse errors are the point; keep libFuzzer's output readable. */
	log_init("fuzz_conf", LOG_LVL_ERROR, false);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_cfg c;
	char path[256], err[CONF_ERR_MAX];
	char spec[FUZZ_OVERRIDE_MAX];
	size_t n;
	int rc;

	memset(&c, 0, sizeof(c));
	rc = fuzz_write_tmp("conf", data, size, path, sizeof(path));
	if (rc < 0)
		fuzz_die("temporary file", rc);
	err[0] = '\0';
	rc = conf_parse_file(path, keys, ARRAY_SIZE(keys), &c, err,
			     sizeof(err));
	unlink(path);
	if (rc < 0)
		VERIFY(memchr(err, '\0', sizeof(err)) && err[0] != '\0');
	check_ranges(&c);
	conf_free_strings(keys, ARRAY_SIZE(keys), &c);

	/* The first line (NULs end it early, as on a command line). */
	for (n = 0; n < size && n < sizeof(spec) - 1; n++) {
		if (data[n] == '\n' || data[n] == '\0')
			break;
		spec[n] = (char)data[n];
	}
	spec[n] = '\0';
	memset(&c, 0, sizeof(c));
	err[0] = '\0';
	rc = conf_parse_override(spec, keys, ARRAY_SIZE(keys), &c, err,
				 sizeof(err));
	if (rc < 0)
		VERIFY(memchr(err, '\0', sizeof(err)) && err[0] != '\0');
	check_ranges(&c);
	conf_free_strings(keys, ARRAY_SIZE(keys), &c);
	return 0;
}
