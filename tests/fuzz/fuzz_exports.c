/*
 * fuzz_exports.c - libFuzzer target: the exports file parser
 * (src/common/exports.c).  The input is the file; every table that parses
 * is then matched against a few peer addresses (IPv4, IPv6, v4-mapped),
 * which walks every rule the parser produced.
 *
 * Properties checked beyond "no crash, no leak, no UB": an error names a
 * problem in err; a parsed table has absolute, NUL-terminated paths,
 * prefixes within the address family, at most EXPORTS_MAX_FLAVORS
 * flavours, and exports_match() returns one of the entry's own rules.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "common/exports.h"
#include "common/log.h"
#include "fuzz.h"

static struct sockaddr_storage peers[4];

static void
peer4(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	sin->sin_family = AF_INET;
	VERIFY(inet_pton(AF_INET, a, &sin->sin_addr) == 1);
}

static void
peer6(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	sin6->sin6_family = AF_INET6;
	VERIFY(inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_exports", LOG_LVL_ERROR, false);
	peer4(&peers[0], "127.0.0.1");
	peer4(&peers[1], "192.168.7.200");
	peer6(&peers[2], "::1");
	peer6(&peers[3], "::ffff:10.1.2.3");
	return 0;
}

static void
check_table(const struct exports_table *t)
{
	for (unsigned i = 0; i < t->nentries; i++) {
		const struct exports_entry *e = &t->entries[i];

		VERIFY(memchr(e->path, '\0', sizeof(e->path)));
		VERIFY(e->path[0] == '/');
		for (unsigned r = 0; r < e->nrules; r++) {
			const struct exports_rule *ru = &e->rules[r];

			VERIFY(ru->nflavors <= EXPORTS_MAX_FLAVORS);
			if (ru->any)
				continue;
			VERIFY(ru->family == AF_INET || ru->family == AF_INET6);
			VERIFY(ru->prefix <= (ru->family == AF_INET ? 32u : 128u));
		}
		for (unsigned p = 0; p < ARRAY_SIZE(peers); p++) {
			const struct exports_rule *m = exports_match(e, &peers[p]);

			VERIFY(!m || (m >= e->rules && m < e->rules + e->nrules));
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct exports_table *t = NULL;
	char path[256], err[CONF_ERR_MAX];
	int rc;

	rc = fuzz_write_tmp("exports", data, size, path, sizeof(path));
	if (rc < 0)
		fuzz_die("temporary file", rc);
	err[0] = '\0';
	rc = exports_parse(path, &t, err);
	unlink(path);
	if (rc < 0) {
		VERIFY(memchr(err, '\0', sizeof(err)) && err[0] != '\0');
		return 0;
	}
	VERIFY(t != NULL);
	check_table(t);
	exports_free(t);
	return 0;
}
