/*
 * test_exports.c - exports file parsing, its error messages, and client
 * address matching (IPv4, IPv6, prefixes, v4-mapped, first match wins).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>

#include "common.h"
#include "common/exports.h"
#include "../testlib.h"

static char tmpl[] = "/tmp/pmemnfs-exports-XXXXXX";

static int
parse_text(const char *text, struct exports_table **t, char *err)
{
	FILE *f = fopen(tmpl, "w");

	REQUIRE(f);
	fputs(text, f);
	fclose(f);
	err[0] = '\0';
	return exports_parse(tmpl, t, err);
}

static struct sockaddr_storage
addr(const char *s)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(s, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		REQUIRE(inet_pton(AF_INET6, s, &a->sin6_addr) == 1);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		REQUIRE(inet_pton(AF_INET, s, &a->sin_addr) == 1);
	}
	return ss;
}

static void
test_good(void)
{
	struct exports_table *t = NULL;
	char err[CONF_ERR_MAX];
	struct sockaddr_storage a;
	const struct exports_rule *r;

	CHECK_EQ(parse_text("# exports\n"
			    "/      127.0.0.1(rw,no_root_squash) 10.1.0.0/16(ro,all_squash,anonuid=7,anongid=8)  # c\n"
			    "\n/data  *(rw,sec=sys:none,fsid=42) ::1(ro)\n",
			    &t, err), 0);
	REQUIRE(t);
	CHECK_EQ(t->nentries, 2);
	CHECK(!strcmp(t->entries[0].path, "/"));
	CHECK_EQ(t->entries[0].fsid, 1);
	CHECK_EQ(t->entries[1].fsid, 42);
	a = addr("127.0.0.1");
	r = exports_match(&t->entries[0], &a);
	CHECK(r && !r->read_only && r->squash == EXPORTS_NO_ROOT_SQUASH);
	a = addr("10.1.200.3");
	r = exports_match(&t->entries[0], &a);
	CHECK(r && r->read_only && r->squash == EXPORTS_ALL_SQUASH &&
	      r->anonuid == 7 && r->anongid == 8);
	a = addr("10.2.0.1");
	CHECK(exports_match(&t->entries[0], &a) == NULL);
	a = addr("::ffff:127.0.0.1");
	CHECK(exports_match(&t->entries[0], &a) != NULL);
	/* '*' comes first on /data: it wins over the later ::1 rule. */
	a = addr("::1");
	r = exports_match(&t->entries[1], &a);
	CHECK(r && r->any && !r->read_only && r->nflavors == 2);
	exports_free(t);
}

static void
expect_bad(const char *text, const char *needle)
{
	struct exports_table *t = (struct exports_table *)1;
	char err[CONF_ERR_MAX];

	CHECK_EQ(parse_text(text, &t, err), -EINVAL);
	CHECK(t == NULL);
	if (!strstr(err, needle)) {
		fprintf(stderr, "FAIL: error '%s' lacks '%s'\n", err, needle);
		test_failures++;
	}
}

static void
test_bad(void)
{
	expect_bad("relative *(rw)\n", ":1: export path 'relative' must be absolute");
	expect_bad("/a\n", ":1: export '/a' names no clients");
	expect_bad("/a host.example(rw)\n", ":1: client 'host.example' is not");
	expect_bad("/a 10.0.0.0/33(rw)\n", ":1: client '10.0.0.0/33': prefix must be 0..32");
	expect_bad("/a *(rw,bogus)\n", ":1: unknown export option 'bogus'");
	expect_bad("/a *(rw\n", ":1: missing ')'");
	expect_bad("/a *\n", ":1: client '*' has no (options)");
	expect_bad("/a *(anonuid=x)\n", ":1: anonuid=x: not a number");
	expect_bad("/a *(sec=krb9)\n", ":1: sec=krb9: unknown flavour");
	expect_bad("/a *(rw)\n/a *(ro)\n", ":2: '/a' exported twice");
	expect_bad("/a *(fsid=3)\n/b *(fsid=3)\n", ":2: fsid 3 already used");
	expect_bad("/a/../b *(rw)\n", ":1: export path '/a/../b' must not contain");
}

static void
test_default_and_missing(void)
{
	struct exports_table *t = NULL;
	char err[CONF_ERR_MAX] = "";
	struct sockaddr_storage a = addr("192.168.1.1");

	CHECK_EQ(exports_default(&t), 0);
	REQUIRE(t && t->nentries == 1);
	CHECK(exports_match(&t->entries[0], &a) == NULL);
	a = addr("::1");
	CHECK(exports_match(&t->entries[0], &a) != NULL);
	exports_free(t);
	CHECK_EQ(exports_parse("/nonexistent/exports", &t, err), -ENOENT);
	CHECK(strstr(err, "/nonexistent/exports: cannot open") != NULL);
}

int
main(void)
{
	int fd = mkstemp(tmpl);

	REQUIRE(fd >= 0);
	close(fd);
	TEST_RUN(test_good);
	TEST_RUN(test_bad);
	TEST_RUN(test_default_and_missing);
	unlink(tmpl);
	TEST_EXIT();
}
