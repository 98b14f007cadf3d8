/*
 * exports.c - parse the exports file and match client addresses.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "common/exports.h"

#define EXPORTS_LINE_MAX 4096
#define EXPORTS_AUTH_NONE 0
#define EXPORTS_AUTH_SYS 1
#define EXPORTS_RPCSEC_GSS 6

struct parse_ctx {
	const char	*file;
	unsigned	line;
	char		*err;
};

static int PRINTF_LIKE(2, 3)
perr(struct parse_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, CONF_ERR_MAX, "%s:%u: ", c->file, c->line);
	if (n < 0 || n >= CONF_ERR_MAX)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(c->err + n, CONF_ERR_MAX - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int
parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_client(struct parse_ctx *c, const char *spec, struct exports_rule *r)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	unsigned maxbits;

	if (strcmp(spec, "*") == 0) {
		r->any = true;
		return 0;
	}
	if (strlen(spec) >= sizeof(buf))
		return perr(c, "client '%s' is not an address", spec);
	strcpy(buf, spec);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, r->addr) == 1) {
		r->family = AF_INET;
		maxbits = 32;
	} else if (inet_pton(AF_INET6, buf, r->addr) == 1) {
		r->family = AF_INET6;
		maxbits = 128;
	} else {
		/* Host names would need DNS at every mount; we do not guess. */
		return perr(c, "client '%s' is not '*', an IP address or ADDR/PREFIX",
			    spec);
	}
	r->prefix = maxbits;
	if (slash) {
		uint32_t bits;

		if (parse_u32(slash + 1, &bits) != 0 || bits > maxbits)
			return perr(c, "client '%s': prefix must be 0..%u", spec,
				    maxbits);
		r->prefix = bits;
	}
	return 0;
}

static int
parse_flavors(struct parse_ctx *c, const char *v, struct exports_rule *r)
{
	char buf[128];
	char *save = NULL, *tok;

	if (strlen(v) >= sizeof(buf))
		return perr(c, "sec=%s: too long", v);
	strcpy(buf, v);
	r->nflavors = 0;
	for (tok = strtok_r(buf, ":", &save); tok;
	     tok = strtok_r(NULL, ":", &save)) {
		uint32_t f;

		if (strcmp(tok, "sys") == 0)
			f = EXPORTS_AUTH_SYS;
		else if (strcmp(tok, "none") == 0)
			f = EXPORTS_AUTH_NONE;
		else if (!strcmp(tok, "krb5") || !strcmp(tok, "krb5i") ||
			 !strcmp(tok, "krb5p"))
			return perr(c, "sec=%s: Kerberos is not supported yet",
				    tok);
		else
			return perr(c, "sec=%s: unknown flavour (sys, none)", tok);
		if (r->nflavors == EXPORTS_MAX_FLAVORS)
			return perr(c, "sec=: too many flavours");
		r->flavors[r->nflavors++] = f;
	}
	if (r->nflavors == 0)
		return perr(c, "sec= needs at least one flavour");
	return 0;
}

static int
parse_options(struct parse_ctx *c, char *opts, struct exports_rule *r,
	      struct exports_entry *e, bool *fsid_set)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(opts, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		const char *val = NULL;

		if (eq) {
			*eq = '\0';
			val = eq + 1;
		}
		if (!strcmp(tok, "ro") && !val) {
			r->read_only = true;
		} else if (!strcmp(tok, "rw") && !val) {
			r->read_only = false;
		} else if (!strcmp(tok, "root_squash") && !val) {
			r->squash = EXPORTS_ROOT_SQUASH;
		} else if (!strcmp(tok, "no_root_squash") && !val) {
			r->squash = EXPORTS_NO_ROOT_SQUASH;
		} else if (!strcmp(tok, "all_squash") && !val) {
			r->squash = EXPORTS_ALL_SQUASH;
		} else if (!strcmp(tok, "anonuid") && val) {
			if (parse_u32(val, &r->anonuid))
				return perr(c, "anonuid=%s: not a number", val);
		} else if (!strcmp(tok, "anongid") && val) {
			if (parse_u32(val, &r->anongid))
				return perr(c, "anongid=%s: not a number", val);
		} else if (!strcmp(tok, "sec") && val) {
			int rc = parse_flavors(c, val, r);

			if (rc)
				return rc;
		} else if (!strcmp(tok, "fsid") && val) {
			uint32_t id;

			if (parse_u32(val, &id))
				return perr(c, "fsid=%s: not a number", val);
			if (*fsid_set && e->fsid != id)
				return perr(c, "fsid given twice with different values");
			e->fsid = id;
			*fsid_set = true;
		} else {
			return perr(c, "unknown export option '%s%s%s'", tok,
				    val ? "=" : "", val ? val : "");
		}
	}
	return 0;
}

static void
rule_defaults(struct exports_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->read_only = true;	/* rw must be asked for, as in nfs-utils */
	r->squash = EXPORTS_ROOT_SQUASH;
	r->anonuid = EXPORTS_ANON_ID;
	r->anongid = EXPORTS_ANON_ID;
	r->nflavors = 1;
	r->flavors[0] = EXPORTS_AUTH_SYS;
}

static int
parse_line(struct parse_ctx *c, char *s, struct exports_entry *e,
	   unsigned index)
{
	char *path, *p;
	bool fsid_set = false;
	int rc;

	path = s;
	while (*s && !isspace((unsigned char)*s))
		s++;
	if (*s)
		*s++ = '\0';
	if (path[0] != '/')
		return perr(c, "export path '%s' must be absolute", path);
	if (strlen(path) >= EXPORTS_PATH_MAX)
		return perr(c, "export path longer than %d bytes",
			    EXPORTS_PATH_MAX - 1);
	if (strstr(path, "/../") || strstr(path, "/./") ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
		return perr(c, "export path '%s' must not contain '.' or '..'",
			    path);
	strcpy(e->path, path);
	e->fsid = index;
	p = s;
	while (*p) {
		char client[128], *open, *close;
		struct exports_rule *nr, *r;
		size_t clen;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		open = strchr(p, '(');
		if (!open)
			return perr(c, "client '%s' has no (options)", p);
		clen = (size_t)(open - p);
		if (clen == 0 || clen >= sizeof(client) ||
		    memchr(p, ' ', clen) || memchr(p, '\t', clen))
			return perr(c, "malformed client before '('");
		memcpy(client, p, clen);
		client[clen] = '\0';
		close = strchr(open, ')');
		if (!close)
			return perr(c, "missing ')' after options of '%s'",
				    client);
		*close = '\0';
		nr = realloc(e->rules, (e->nrules + 1) * sizeof(*nr));
		if (!nr)
			return perr(c, "out of memory");
		e->rules = nr;
		r = &e->rules[e->nrules++];
		rule_defaults(r);
		rc = parse_client(c, client, r);
		if (rc)
			return rc;
		rc = parse_options(c, open + 1, r, e, &fsid_set);
		if (rc)
			return rc;
		p = close + 1;
		if (*p && !isspace((unsigned char)*p))
			return perr(c, "expected a space after ')'");
	}
	if (e->nrules == 0)
		return perr(c, "export '%s' names no clients", e->path);
	return 0;
}

int
exports_parse(const char *path, struct exports_table **out,
	      char err[CONF_ERR_MAX])
{
	struct parse_ctx c = { .file = path, .line = 0, .err = err };
	struct exports_table *t;
	char line[EXPORTS_LINE_MAX];
	FILE *f;
	int rc = 0;

	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, CONF_ERR_MAX, "%s: cannot open: %s", path,
			 strerror(errno));
		return rc;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		rc = -ENOMEM;
		goto out_close;
	}
	while (fgets(line, sizeof(line), f)) {
		struct exports_entry *ne, *e;
		char *s, *hash;

		c.line++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = perr(&c, "line longer than %d bytes",
				  EXPORTS_LINE_MAX - 2);
			goto out_free;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		s = line;
		while (isspace((unsigned char)*s))
			s++;
		for (char *e2 = s + strlen(s);
		     e2 > s && isspace((unsigned char)e2[-1]); )
			*--e2 = '\0';
		if (!*s)
			continue;
		ne = realloc(t->entries, (t->nentries + 1) * sizeof(*ne));
		if (!ne) {
			rc = perr(&c, "out of memory");
			goto out_free;
		}
		t->entries = ne;
		e = &t->entries[t->nentries++];
		memset(e, 0, sizeof(*e));
		rc = parse_line(&c, s, e, t->nentries);
		if (rc)
			goto out_free;
		for (unsigned i = 0; i + 1 < t->nentries; i++) {
			if (!strcmp(t->entries[i].path, e->path)) {
				rc = perr(&c, "'%s' exported twice", e->path);
				goto out_free;
			}
			if (t->entries[i].fsid == e->fsid) {
				rc = perr(&c, "fsid %u already used by '%s'",
					  e->fsid, t->entries[i].path);
				goto out_free;
			}
		}
	}
	fclose(f);
	*out = t;
	return 0;
out_free:
	exports_free(t);
out_close:
	fclose(f);
	if (rc == -ENOMEM && !err[0])
		snprintf(err, CONF_ERR_MAX, "%s: out of memory", path);
	return rc;
}

int
exports_default(struct exports_table **out)
{
	struct exports_table *t = calloc(1, sizeof(*t));
	struct exports_entry *e;

	if (!t)
		return -ENOMEM;
	t->entries = calloc(1, sizeof(*t->entries));
	if (!t->entries)
		goto out_free;
	t->nentries = 1;
	e = &t->entries[0];
	strcpy(e->path, "/");
	e->fsid = 1;
	e->rules = calloc(2, sizeof(*e->rules));
	if (!e->rules)
		goto out_free;
	e->nrules = 2;
	for (int i = 0; i < 2; i++) {
		rule_defaults(&e->rules[i]);
		e->rules[i].read_only = false;
		e->rules[i].squash = EXPORTS_NO_ROOT_SQUASH;
	}
	e->rules[0].family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", e->rules[0].addr);
	e->rules[0].prefix = 32;
	e->rules[1].family = AF_INET6;
	inet_pton(AF_INET6, "::1", e->rules[1].addr);
	e->rules[1].prefix = 128;
	*out = t;
	return 0;
out_free:
	exports_free(t);
	return -ENOMEM;
}

void
exports_free(struct exports_table *t)
{
	if (!t)
		return;
	for (unsigned i = 0; i < t->nentries; i++)
		free(t->entries[i].rules);
	free(t->entries);
	free(t);
}

static bool
prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned bytes = bits / 8, rem = bits % 8;

	if (memcmp(a, b, bytes) != 0)
		return false;
	if (rem == 0)
		return true;
	return ((a[bytes] ^ b[bytes]) & (uint8_t)(0xff << (8 - rem))) == 0;
}

const struct exports_rule *
exports_match(const struct exports_entry *e,
	      const struct sockaddr_storage *peer)
{
	uint8_t addr[16];
	int family = peer->ss_family;

	if (family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)peer)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 =
			&((const struct sockaddr_in6 *)peer)->sin6_addr;

		/* An IPv4 client on a dual-stack socket matches IPv4 rules. */
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			memcpy(addr, &a6->s6_addr[12], 4);
		} else {
			memcpy(addr, a6, 16);
		}
	} else {
		return NULL;
	}
	for (unsigned i = 0; i < e->nrules; i++) {
		const struct exports_rule *r = &e->rules[i];

		if (r->any)
			return r;
		if (r->family == family && prefix_match(r->addr, addr, r->prefix))
			return r;
	}
	return NULL;
}
