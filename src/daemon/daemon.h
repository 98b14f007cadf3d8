/*
 * daemon.h - private to pmemnfsd's main: the whole configuration of one
 * server process, as read from defaults, the config file and -o overrides.
 *
 * Locking: parsed once in main before any thread starts; read-only after.
 * Ownership: strings are owned by the struct (daemon_config_free()).
 */
#ifndef PMEMNFS_DAEMON_H
#define PMEMNFS_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "common/conf.h"
#include "rpc.h"
#include "nfs4.h"

#define DAEMON_DEFAULT_PORT		2049
#define DAEMON_DEFAULT_LISTEN		"127.0.0.1"
#define DAEMON_DEFAULT_VOLUME		"pmemnfs.vol"
/* A demo volume small enough for any disk, sparse so it costs nothing. */
#define DAEMON_DEFAULT_VOLUME_SIZE	(1ULL << 30)
/*
 * How long an NFS operation that removes blocks (SETATTR size, DEALLOCATE,
 * CLONE, REMOVE of the last name) waits for layouts and pins to drain
 * before it answers NFS4ERR_DELAY and lets the recall carry on (DESIGN.md
 * rule 5).  Short: a worker is held meanwhile.  Pins from zero-copy READs
 * drain in well under this; client layouts usually do not.
 */
#define DAEMON_DEFAULT_BREAK_WAIT_MS	200
/* Added to the lease period for the recall bound: a callback's round trip. */
#define DAEMON_RECALL_MARGIN_NS		(2 * NSEC_PER_SEC)

struct daemon_config {
	char		*listen;
	uint32_t	port;
	char		*volume;
	uint64_t	volume_size;	/* used when the volume must be created */
	char		*exports;	/* NULL: export "/" read-write to loopback */
	char		*pid_file;
	char		*control_socket;	/* "" disables; default VOLUME.ctl */
	enum log_level	log_level;
	bool		use_syslog;
	uint32_t	break_wait_ms;	/* NFS ops wait this long for a break */
	struct rpc_server_config rpc;
	struct nfs4_config nfs4;
};

void daemon_config_defaults(struct daemon_config *cfg);
void daemon_config_free(struct daemon_config *cfg);
/* Config file then overrides; err gets "FILE:LINE: problem". */
int daemon_config_load(struct daemon_config *cfg, const char *path,
		       char err[CONF_ERR_MAX]) MUST_CHECK;
int daemon_config_override(struct daemon_config *cfg, const char *spec,
			   char err[CONF_ERR_MAX]) MUST_CHECK;
/*
 * Fill in values derived from others and check the cross-key rules a
 * per-key range cannot express; run once after the file and all overrides
 * are applied.  where names the source for the message.
 */
int daemon_config_finish(struct daemon_config *cfg, const char *where,
			 char err[CONF_ERR_MAX]) MUST_CHECK;
/* Print every key with its meaning (for -h and the example config). */
void daemon_config_usage(FILE *out);


/*
 * The storage behind the server: the volume (created on first start), the
 * mounted engine, and the exports.  Owned by main; the NFS layer borrows
 * the engine through daemon_storage_fs().
 */
struct daemon_storage;
struct fs;

int daemon_storage_open(const struct daemon_config *cfg,
			struct daemon_storage **out) MUST_CHECK;
void daemon_storage_close(struct daemon_storage *st);
struct fs *daemon_storage_fs(struct daemon_storage *st);
/* Parse the exports file without applying it (for -n and before start). */
int daemon_storage_check_exports(const struct daemon_config *cfg,
				 char err[CONF_ERR_MAX]) MUST_CHECK;
/*
 * How the NFS layer reads the exports: a counted reference per reader, so
 * a reload never frees a table in use.  Valid until daemon_storage_close().
 */
void daemon_storage_exports_src(struct daemon_storage *st,
				struct nfs4_exports_src *out);
/* SIGHUP: re-read the exports file; on error the old exports stay. */
int daemon_storage_reload_exports(struct daemon_storage *st) MUST_CHECK;

/*
 * The administration socket pmemnfsctl talks to (control.c): a unix socket
 * at path, mode 0600, served by its own thread until daemon_control_stop().
 */
struct daemon_control;
int daemon_control_start(const char *path, struct fs *fs,
			 struct nfs4_server *nfs4, struct rpc_server *rpc,
			 struct daemon_control **out) MUST_CHECK;
void daemon_control_stop(struct daemon_control *c);

#endif
