/*
 * conf.c - table-driven parser for the INI-style configuration file and
 * its -o command-line overrides.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "common/conf.h"

#define CONF_LINE_MAX	4096
#define CONF_SECTION_MAX 64

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static const struct conf_key *
conf_find(const struct conf_key *keys, size_t nkeys, const char *section,
	  const char *name)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

static bool
conf_section_known(const struct conf_key *keys, size_t nkeys,
		   const char *section)
{
	for (size_t i = 0; i < nkeys; i++)
		if (strcmp(keys[i].section, section) == 0)
			return true;
	return false;
}

static int
parse_u64(const char *v, bool allow_suffix, uint64_t *out, const char **why)
{
	char *end;
	unsigned long long n;
	uint64_t mult = 1;

	if (!isdigit((unsigned char)*v)) {
		*why = "not a non-negative integer";
		return -EINVAL;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno == ERANGE) {
		*why = "number too large";
		return -EINVAL;
	}
	if (allow_suffix && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		default:
			*why = "unknown size suffix (use K, M, G or T)";
			return -EINVAL;
		}
		end++;
		if (*end == 'i' || *end == 'B')
			end++;
		if (*end == 'B')
			end++;
	}
	if (*end) {
		*why = "trailing characters after the number";
		return -EINVAL;
	}
	if (mult > 1 && n > UINT64_MAX / mult) {
		*why = "size too large";
		return -EINVAL;
	}
	*out = (uint64_t)n * mult;
	return 0;
}

static int
conf_set(const struct conf_key *k, const char *v, void *base, char *why_buf,
	 size_t why_len)
{
	char *field = (char *)base + k->offset;
	const char *why = NULL;
	uint64_t n;
	int rc;

	switch (k->type) {
	case CONF_U32:
	case CONF_U64:
	case CONF_SIZE:
	case CONF_SIZE32:
		rc = parse_u64(v, k->type == CONF_SIZE ||
			       k->type == CONF_SIZE32, &n, &why);
		if (rc) {
			snprintf(why_buf, why_len, "%s.%s: '%s': %s",
				 k->section, k->name, v, why);
			return rc;
		}
		if (n < k->min || n > k->max) {
			snprintf(why_buf, why_len,
				 "%s.%s: %llu out of range [%llu, %llu]",
				 k->section, k->name, (unsigned long long)n,
				 (unsigned long long)k->min,
				 (unsigned long long)k->max);
			return -EINVAL;
		}
		if (k->type == CONF_U32 || k->type == CONF_SIZE32)
			*(uint32_t *)field = (uint32_t)n;
		else
			*(uint64_t *)field = n;
		return 0;
	case CONF_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") ||
		    !strcmp(v, "on") || !strcmp(v, "1")) {
			*(bool *)field = true;
		} else if (!strcmp(v, "no") || !strcmp(v, "false") ||
			   !strcmp(v, "off") || !strcmp(v, "0")) {
			*(bool *)field = false;
		} else {
			snprintf(why_buf, why_len,
				 "%s.%s: '%s' is not yes/no", k->section,
				 k->name, v);
			return -EINVAL;
		}
		return 0;
	case CONF_STRING: {
		char *dup = strdup(v);

		if (!dup) {
			snprintf(why_buf, why_len, "out of memory");
			return -ENOMEM;
		}
		free(*(char **)field);
		*(char **)field = dup;
		return 0;
	}
	case CONF_LOGLEVEL: {
		enum log_level lvl;

		if (log_level_parse(v, &lvl) != 0) {
			snprintf(why_buf, why_len,
				 "%s.%s: '%s' is not one of error, warn, notice, info, debug",
				 k->section, k->name, v);
			return -EINVAL;
		}
		*(enum log_level *)field = lvl;
		return 0;
	}
	}
	snprintf(why_buf, why_len, "internal: bad key type");
	return -EINVAL;
}

int
conf_parse_file(const char *path, const struct conf_key *keys, size_t nkeys,
		void *base, char *err, size_t errlen)
{
	char line[CONF_LINE_MAX];
	char section[CONF_SECTION_MAX] = "";
	char why[CONF_ERR_MAX];
	/* Duplicate detection: one bit per table entry. */
	bool *seen;
	unsigned lineno = 0;
	FILE *f;
	int rc = 0;

	f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return rc;
	}
	seen = calloc(nkeys ? nkeys : 1, sizeof(*seen));
	if (!seen) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -ENOMEM;
		goto out_close;
	}
	while (fgets(line, sizeof(line), f)) {
		char *s, *eq, *key, *val;
		const struct conf_key *k;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes",
				 path, lineno, CONF_LINE_MAX - 2);
			rc = -EINVAL;
			goto out_free;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (!close || close[1] != '\0' || close == s + 1 ||
			    (size_t)(close - s - 1) >= sizeof(section)) {
				snprintf(err, errlen,
					 "%s:%u: malformed section header '%s'",
					 path, lineno, s);
				rc = -EINVAL;
				goto out_free;
			}
			*close = '\0';
			snprintf(section, sizeof(section), "%s", trim(s + 1));
			if (!conf_section_known(keys, nkeys, section)) {
				snprintf(err, errlen,
					 "%s:%u: unknown section [%s]", path,
					 lineno, section);
				rc = -EINVAL;
				goto out_free;
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen,
				 "%s:%u: expected 'key = value', got '%s'",
				 path, lineno, s);
			rc = -EINVAL;
			goto out_free;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (section[0] == '\0') {
			snprintf(err, errlen,
				 "%s:%u: '%s' before any [section]", path,
				 lineno, key);
			rc = -EINVAL;
			goto out_free;
		}
		k = conf_find(keys, nkeys, section, key);
		if (!k) {
			snprintf(err, errlen, "%s:%u: unknown key '%s' in [%s]",
				 path, lineno, key, section);
			rc = -EINVAL;
			goto out_free;
		}
		if (seen[k - keys]) {
			snprintf(err, errlen,
				 "%s:%u: '%s' set twice in [%s]", path, lineno,
				 key, section);
			rc = -EINVAL;
			goto out_free;
		}
		seen[k - keys] = true;
		rc = conf_set(k, val, base, why, sizeof(why));
		if (rc) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out_free;
		}
	}
	if (ferror(f)) {
		rc = -EIO;
		snprintf(err, errlen, "%s: read error", path);
	}
out_free:
	free(seen);
out_close:
	fclose(f);
	return rc;
}

int
conf_parse_override(const char *spec, const struct conf_key *keys,
		    size_t nkeys, void *base, char *err, size_t errlen)
{
	char buf[CONF_LINE_MAX];
	char why[CONF_ERR_MAX];
	char *dot, *eq;
	const struct conf_key *k;
	int rc;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "-o: option too long");
		return -EINVAL;
	}
	strcpy(buf, spec);
	eq = strchr(buf, '=');
	dot = strchr(buf, '.');
	if (!eq || !dot || dot > eq) {
		snprintf(err, errlen, "-o %s: expected section.key=value", spec);
		return -EINVAL;
	}
	*dot = '\0';
	*eq = '\0';
	k = conf_find(keys, nkeys, trim(buf), trim(dot + 1));
	if (!k) {
		snprintf(err, errlen, "-o %s: unknown key", spec);
		return -EINVAL;
	}
	rc = conf_set(k, trim(eq + 1), base, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "-o %s: %s", spec, why);
	return rc;
}

void
conf_free_strings(const struct conf_key *keys, size_t nkeys, void *base)
{
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].type == CONF_STRING) {
			char **field = (char **)((char *)base + keys[i].offset);

			free(*field);
			*field = NULL;
		}
	}
}
