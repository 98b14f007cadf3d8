/*
 * test_conf.c - the configuration parser accepts good files and names the
 * file, line and problem for every bad one.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common.h"
#include "common/conf.h"
#include "../testlib.h"

struct cfg {
	uint32_t port;
	uint32_t rec;
	uint64_t size;
	bool flag;
	char *path;
	enum log_level level;
};

static const struct conf_key keys[] = {
	{ "server", "port", CONF_U32, offsetof(struct cfg, port), 1, 65535, "" },
	{ "server", "rec", CONF_SIZE32, offsetof(struct cfg, rec), 4096, 1U << 30, "" },
	{ "server", "size", CONF_SIZE, offsetof(struct cfg, size), 0, UINT64_MAX, "" },
	{ "server", "flag", CONF_BOOL, offsetof(struct cfg, flag), 0, 0, "" },
	{ "server", "path", CONF_STRING, offsetof(struct cfg, path), 0, 0, "" },
	{ "log", "level", CONF_LOGLEVEL, offsetof(struct cfg, level), 0, 0, "" },
};

static char tmpl[] = "/tmp/pmemnfs-conf-XXXXXX";

static int
parse_text(const char *text, struct cfg *c, char *err)
{
	FILE *f = fopen(tmpl, "w");

	REQUIRE(f);
	fputs(text, f);
	fclose(f);
	return conf_parse_file(tmpl, keys, ARRAY_SIZE(keys), c, err,
			       CONF_ERR_MAX);
}

static void
test_good(void)
{
	struct cfg c = { 0 };
	char err[CONF_ERR_MAX] = "";

	CHECK_EQ(parse_text("# comment\n[server]\nport = 2049\n"
			    "size = 64G\nrec = 1088K\nflag = yes\n  path = /a b  \n"
			    "[log]\nlevel = debug\n", &c, err), 0);
	CHECK_EQ(c.port, 2049);
	CHECK_EQ(c.size, 64ULL << 30);
	CHECK_EQ(c.rec, 1088 * 1024);
	CHECK(c.flag);
	CHECK(c.path && strcmp(c.path, "/a b") == 0);
	CHECK_EQ(c.level, LOG_LVL_DEBUG);
	CHECK_EQ(conf_parse_override("server.port=7", keys, ARRAY_SIZE(keys),
				     &c, err, sizeof(err)), 0);
	CHECK_EQ(c.port, 7);
	conf_free_strings(keys, ARRAY_SIZE(keys), &c);
	CHECK(c.path == NULL);
}

/* Each bad file must fail and the message must name the line. */
static void
expect_bad(const char *text, const char *needle)
{
	struct cfg c = { 0 };
	char err[CONF_ERR_MAX] = "";

	CHECK_EQ(parse_text(text, &c, err), -EINVAL);
	if (!strstr(err, needle)) {
		fprintf(stderr, "FAIL: error '%s' lacks '%s'\n", err, needle);
		test_failures++;
	}
	conf_free_strings(keys, ARRAY_SIZE(keys), &c);
}

static void
test_bad(void)
{
	expect_bad("[server]\nport = 70000\n", ":2: server.port: 70000 out of range");
	expect_bad("[server]\nport = 12x\n", ":2: server.port: '12x': trailing");
	expect_bad("[server]\nport = -1\n", ":2: server.port");
	expect_bad("[server]\nbogus = 1\n", ":2: unknown key 'bogus'");
	expect_bad("[nope]\n", ":1: unknown section [nope]");
	expect_bad("port = 1\n", ":1: 'port' before any [section]");
	expect_bad("[server]\njunk\n", ":2: expected 'key = value'");
	expect_bad("[server\n", ":1: malformed section header");
	expect_bad("[server]\nport=1\nport=2\n", ":3: 'port' set twice");
	expect_bad("[server]\nflag = maybe\n", ":2: server.flag: 'maybe' is not yes/no");
	expect_bad("[log]\nlevel = loud\n", ":2: log.level: 'loud'");
	expect_bad("[server]\nsize = 3Q\n", ":2: server.size: '3Q': unknown size suffix");
	expect_bad("[server]\nsize = 99999999999T\n", ":2: server.size");
	expect_bad("[server]\nrec = 2G\n", ":2: server.rec: 2147483648 out of range");
}

static void
test_missing_file(void)
{
	struct cfg c = { 0 };
	char err[CONF_ERR_MAX] = "";

	CHECK_EQ(conf_parse_file("/nonexistent/pmemnfsd.conf", keys,
				 ARRAY_SIZE(keys), &c, err, sizeof(err)),
		 -ENOENT);
	CHECK(strstr(err, "/nonexistent/pmemnfsd.conf: cannot open") != NULL);
	CHECK_EQ(conf_parse_override("server.port", keys, ARRAY_SIZE(keys),
				     &c, err, sizeof(err)), -EINVAL);
	CHECK_EQ(conf_parse_override("x.y=1", keys, ARRAY_SIZE(keys),
				     &c, err, sizeof(err)), -EINVAL);
}

int
main(void)
{
	int fd = mkstemp(tmpl);

	REQUIRE(fd >= 0);
	close(fd);
	TEST_RUN(test_good);
	TEST_RUN(test_bad);
	TEST_RUN(test_missing_file);
	unlink(tmpl);
	TEST_EXIT();
}
