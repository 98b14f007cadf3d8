/*
 * exports.h - the exports file: which paths of the volume are exported, to
 * which clients, with which options.  Format, one export per line:
 *
 *     PATH  CLIENT(OPTIONS) [CLIENT(OPTIONS) ...]
 *
 * PATH is absolute inside the volume.  CLIENT is '*', an IPv4 or IPv6
 * address, or ADDR/PREFIX.  OPTIONS, comma separated: ro | rw,
 * root_squash | no_root_squash | all_squash, anonuid=N, anongid=N,
 * sec=sys:none (flavours allowed, in preference order), fsid=N (the export
 * id carried in filehandles; defaults to the line's position, so give fsid
 * explicitly if you reorder lines and want handles to stay valid).
 * '#' starts a comment.  The first matching client rule of an export wins.
 *
 * Locking: a parsed table is immutable; reload builds a new one and the
 * owner swaps pointers (readers keep a reference).
 * Ownership: exports_parse() returns a table owned by the caller
 * (exports_free()).
 */
#ifndef PMEMNFS_COMMON_EXPORTS_H
#define PMEMNFS_COMMON_EXPORTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/compiler.h"
#include "common/conf.h"

#define EXPORTS_PATH_MAX	1024
#define EXPORTS_MAX_FLAVORS	4
#define EXPORTS_ANON_ID		65534	/* nobody/nogroup on Debian */

enum exports_squash {
	EXPORTS_ROOT_SQUASH = 0,	/* the safe default, as in nfs-utils */
	EXPORTS_NO_ROOT_SQUASH,
	EXPORTS_ALL_SQUASH,
};

struct exports_rule {
	bool		any;		/* '*' */
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];
	unsigned	prefix;		/* bits */
	bool		read_only;
	enum exports_squash squash;
	uint32_t	anonuid, anongid;
	uint32_t	nflavors;
	uint32_t	flavors[EXPORTS_MAX_FLAVORS];	/* AUTH_SYS=1, AUTH_NONE=0, RPCSEC_GSS=6 */
};

struct exports_entry {
	char		path[EXPORTS_PATH_MAX];
	uint32_t	fsid;
	unsigned	nrules;
	struct exports_rule *rules;
};

struct exports_table {
	unsigned	nentries;
	struct exports_entry *entries;
};

/* Parse path; on error err holds "FILE:LINE: problem". */
int exports_parse(const char *path, struct exports_table **out,
		  char err[CONF_ERR_MAX]) MUST_CHECK;
/* The built-in default: "/" read-write, no_root_squash, for 127.0.0.1 and ::1. */
int exports_default(struct exports_table **out) MUST_CHECK;
void exports_free(struct exports_table *t);
/* First rule of e that matches the peer address, or NULL (no access). */
const struct exports_rule *exports_match(const struct exports_entry *e,
					 const struct sockaddr_storage *peer);

#endif
