/*
 * harness.h - start a real pmemnfsd for a protocol test and make sure it
 * stops, whatever happens to the test.
 *
 * h_server_start() makes a fresh temporary directory, starts
 * `pmemnfsd -f -l 127.0.0.1 -p 0 -v DIR/volume -P DIR/pid [extra...]` with
 * its stderr in DIR/server.log, reads the bound port from the
 * "pmemnfsd: listening on ADDR:PORT" line and waits until the port accepts
 * a connection.  The child dies with the test (PR_SET_PDEATHSIG), an atexit
 * handler and SIGINT/SIGTERM/SIGALRM handlers kill what is still running,
 * and a watchdog alarm ends a hung test.
 *
 * Locking: single-threaded use from the test's main thread.
 * Ownership: the caller owns struct h_server; h_server_stop() releases
 * everything it holds (process, directory).
 */
#ifndef PMEMNFS_TEST_HARNESS_H
#define PMEMNFS_TEST_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "nfsclient.h"

/* Startup includes creating the volume; sanitizer builds are slow. */
#define H_START_TIMEOUT_NS	(30 * NSEC_PER_SEC)
/* A clean shutdown after SIGTERM takes milliseconds; then SIGKILL. */
#define H_STOP_TIMEOUT_NS	(10 * NSEC_PER_SEC)
/* No protocol test may run longer than this (CI budget is 30 s each). */
#define H_WATCHDOG_SEC		120

struct h_server {
	pid_t		pid;		/* 0 when not running */
	uint16_t	port;
	char		dir[PATH_MAX / 2];	/* room for the names in it */
	char		volume[PATH_MAX];
	char		log[PATH_MAX];
	char		pidfile[PATH_MAX];
};

/*
 * Start a server.  extra is a NULL-terminated list of further arguments
 * (e.g. "-o", "lease_time=3") or NULL.  The daemon is $PMEMNFSD or
 * $top_builddir/src/daemon/pmemnfsd.  Returns 0, or -errno after printing
 * why (and the server's log) to stderr; nothing is left running.
 */
int h_server_start(struct h_server *s, const char *const *extra);
/*
 * Stop the server: SIGTERM, wait up to H_STOP_TIMEOUT_NS, then SIGKILL.
 * dump_log prints the server's log (do it when the test failed).  Removes
 * the directory.  Returns 0 when the server exited by itself with status 0
 * after SIGTERM, -1 otherwise (crashed earlier, non-zero exit, needed KILL).
 */
int h_server_stop(struct h_server *s, bool dump_log);
/* True while the server process has not exited. */
bool h_server_alive(struct h_server *s);
/* Connect a client to the server; 0 or -errno. */
int h_connect(const struct h_server *s, struct nc_conn **out);
/* Print the server's log to stderr. */
void h_server_dump_log(const struct h_server *s);
/*
 * A process-unique owner string for EXCHANGE_ID so tests in one run never
 * share client records by accident: "<prefix>-<pid>-<n>".
 */
const char *h_owner(const char *prefix);


/* --- helpers shared by the protocol tests -------------------------------- */

/*
 * Connect and set up a client ID and session (o NULL: library defaults,
 * back channel on this connection).  Returns 0 or -errno / -EPROTO.
 */
int h_session(const struct h_server *srv, const char *owner,
	      const struct nc_session_opts *o, struct nc_conn **c,
	      struct nc_session **s);
/* Tear down what h_session() made (DESTROY_SESSION is not sent). */
void h_session_free(struct nc_conn *c, struct nc_session *s);
/*
 * Fill op (already OP_SEQUENCE) with explicit SEQUENCE arguments so a test
 * can send exactly the slot and seqid it wants (RFC 8881 §18.46).
 */
void h_sequence(nfs_argop4 *op, const struct nc_session *s, slotid4 slot,
		sequenceid4 seqid, slotid4 highest, bool cachethis);
/*
 * Body bytes for nc_call_start(..., (xdrproc_t)h_xdr_bytes, &bytes, ...):
 * written verbatim (len a multiple of 4) for hand-made malformed bodies.
 */
struct h_bytes {
	const void	*p;
	u_int		len;
};
bool_t h_xdr_bytes(XDR *x, void *arg);
/*
 * Send an RPC call with prog/vers/proc and a verbatim body on c; wait for
 * the reply and parse its header into *r.  *call_out (if not NULL) gets the
 * call (caller frees).  Returns 0 or -errno.
 */
int h_call(struct nc_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
	   const void *body, u_int len, struct nc_rpc_reply *r,
	   struct nc_call **call_out);
/* RPC NULL on a new connection: proves the server still serves. */
bool h_still_serving(const struct h_server *srv);
/* Sleep; only for waiting out a protocol clock (a lease), never a race. */
void h_sleep_ns(uint64_t ns);

#endif
