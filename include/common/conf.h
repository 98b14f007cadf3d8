/*
 * conf.h - the one configuration format: an INI-style file of
 * "[section]" headers and "key = value" lines, '#' comments, read through a
 * table that maps each section.key to a typed field of a caller's struct.
 * The same table validates "-o section.key=value" command-line overrides,
 * so the file and the command line can never disagree about a key.
 *
 * Locking: none; parse before starting threads, or into a private copy.
 * Ownership: string values are strdup'ed into the caller's struct; free
 * them with conf_free_strings().
 */
#ifndef PMEMNFS_COMMON_CONF_H
#define PMEMNFS_COMMON_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/compiler.h"

enum conf_type {
	CONF_U32,	/* decimal integer in [min, max] */
	CONF_U64,	/* decimal integer in [min, max] */
	CONF_SIZE,	/* integer with optional K/M/G/T suffix (binary), u64 */
	CONF_SIZE32,	/* the same, stored in a uint32_t */
	CONF_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	CONF_STRING,	/* rest of the line, trimmed; char * (strdup'ed) */
	CONF_LOGLEVEL,	/* error|warn|notice|info|debug -> enum log_level */
};

struct conf_key {
	const char	*section;
	const char	*name;
	enum conf_type	type;
	size_t		offset;		/* into the caller's struct */
	uint64_t	min, max;	/* for the integer types */
	const char	*help;
};

#define CONF_ERR_MAX 512

/*
 * Parse path into base.  On error returns -EINVAL (or -errno for I/O) and
 * writes "FILE:LINE: problem" into err.  Unknown sections or keys,
 * duplicate keys, values out of range, and malformed lines are all errors:
 * a typo must not silently fall back to a default.
 */
int conf_parse_file(const char *path, const struct conf_key *keys, size_t nkeys,
		    void *base, char *err, size_t errlen) MUST_CHECK;

/* Parse one "section.key=value" override (from -o). Same errors. */
int conf_parse_override(const char *spec, const struct conf_key *keys,
			size_t nkeys, void *base, char *err,
			size_t errlen) MUST_CHECK;

/* Free every CONF_STRING field of base that the table names. */
void conf_free_strings(const struct conf_key *keys, size_t nkeys, void *base);

#endif
