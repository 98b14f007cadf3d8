/*
 * load.h - nfsload, the NFSv4.1 load generator (prefix ld_).
 *
 * nfsload drives any NFSv4.1 server through the in-tree client library
 * (nfsclient.h): N connections, each with its own client ID and session,
 * and D requests outstanding on each (one fore-channel slot per request).
 * It builds its own tree under SERVER:PORT:/PATH, runs a warm-up, then
 * measures for T seconds and prints ops/s, MB/s, latency percentiles,
 * errors by status, and (given the server's PID) server CPU time per
 * operation and resident memory.
 *
 * Locking: a request (struct ld_req) is only ever touched by one thread
 * at a time: the main thread starts it, then its connection's receive
 * thread runs every later step from the completion callback.  Per
 * connection counters (struct ld_conn) are written by that receive thread
 * only and read by the main thread after every request has stopped
 * (run->lock + run->idle_cond order that hand-over).  The run phase is an
 * atomic read by every receive thread.
 * Ownership: main() owns struct ld_run and everything hanging off it
 * (connections, sessions, requests, file handles); receive threads borrow.
 */
#ifndef PMEMNFS_BENCH_LOAD_H
#define PMEMNFS_BENCH_LOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "nfsclient.h"

/* --- latency histogram (hist.c) ----------------------------------------- */

/*
 * Log-linear buckets: 2^LD_HIST_SUB_BITS buckets per power of two, so a
 * percentile is within ~3% of the true value; values up to 2^LD_HIST_MAX_BITS
 * ns (18 minutes) are kept, larger ones land in the last bucket.
 */
#define LD_HIST_SUB_BITS	5
#define LD_HIST_MAX_BITS	40
#define LD_HIST_BUCKETS \
	((LD_HIST_MAX_BITS - LD_HIST_SUB_BITS + 1) << LD_HIST_SUB_BITS)

struct ld_hist {
	uint64_t	count;
	uint64_t	sum_ns;
	uint64_t	max_ns;
	uint64_t	bucket[LD_HIST_BUCKETS];
};

void ld_hist_add(struct ld_hist *h, uint64_t ns);
void ld_hist_merge(struct ld_hist *into, const struct ld_hist *from);
/* The value at quantile q (0..1), as the upper edge of its bucket. */
uint64_t ld_hist_quantile(const struct ld_hist *h, double q);

/* --- reply parsing (reply.c) -------------------------------------------- */

/* What went wrong with a reply, before any NFS status. */
enum ld_fail {
	LD_OK = 0,
	LD_FAIL_TRANSPORT,	/* connection lost, no reply */
	LD_FAIL_RPC,		/* RPC not accepted SUCCESS */
	LD_FAIL_XDR,		/* reply does not parse */
	LD_FAIL_NFS,		/* an op answered non-OK: see status/op */
	LD_FAIL_CHECK,		/* OK, but the result is wrong (short read..) */
};

/*
 * The fields of a COMPOUND4res that nfsload looks at, read straight from
 * the reply bytes (no allocation, no copy of READ data).  Pointers point
 * into the call's reply buffer.
 */
struct ld_res {
	enum ld_fail	fail;
	nfsstat4	status;		/* compound status */
	nfs_opnum4	failed_op;	/* op that failed, if fail == NFS */
	uint32_t	nres;		/* results seen */
	stateid4	stateid;	/* from OPEN / CLOSE / LAYOUTGET */
	const uint8_t	*fh;		/* GETFH */
	uint32_t	fh_len;
	uint64_t	size;		/* GETATTR, when FATTR4_SIZE is first */
	bool		have_size;
	uint32_t	read_count;
	bool		read_eof;
	uint32_t	write_count;
	uint32_t	committed;	/* stable_how4 */
	uint8_t		verf[NFS4_VERIFIER_SIZE];	/* WRITE or COMMIT */
	bool		have_verf;
	uint32_t	layouts;	/* LAYOUTGET segments */
};

/*
 * Parse the reply of a completed COMPOUND call into *r.  r->fail says
 * whether it succeeded; a non-OK op stops the walk (RFC 8881 §15.2: it
 * is the last result).  Returns r->fail.
 */
enum ld_fail ld_reply_parse(struct nc_call *call, struct ld_res *r);
/*
 * The same for a COMPOUND4res body of len bytes (what follows the RPC
 * reply header); for ld_reply_parse() and the unit test.
 */
enum ld_fail ld_reply_parse_body(const uint8_t *body, uint32_t len,
				 struct ld_res *r);

/* Names for the report; numeric text for values the tables lack. */
const char *ld_status_name(uint32_t status, char *buf, size_t len);
const char *ld_op_name(uint32_t op, char *buf, size_t len);

/* --- the tree nfsload builds over NFS (setup.c) ------------------------- */

/* A file handle with its own storage. */
struct ld_fh {
	uint32_t	len;
	char		val[NFS4_FHSIZE];
};

/* Point an nfs_fh4 argument at f's bytes. */
void ld_fh_arg(const struct ld_fh *f, nfs_fh4 *out);
/* Copy a GETFH result; -EBADMSG if it is empty or too long. */
int ld_fh_set(struct ld_fh *f, const uint8_t *p, uint32_t len) MUST_CHECK;

/* The directory name under PATH and the names in it. */
#define LD_DIR_NAME		"nfsload"
#define LD_BIG_NAME		"big"

struct ld_tree {
	struct ld_fh	dir;		/* PATH/nfsload */
	struct ld_fh	big;		/* PATH/nfsload/big */
	uint32_t	nfiles;
	struct ld_fh	*files;		/* PATH/nfsload/f000000 .. */
	uint64_t	big_size;
};

/* File i's name (f%06u) into buf. */
void ld_file_name(uint32_t i, char *buf, size_t len);

/*
 * Look up path ("/a/b") from the root and create the tree: the directory,
 * nfiles empty files, and a file of big_size bytes (written with 1 MiB
 * FILE_SYNC writes unless it is already that large).  Synchronous compounds
 * on s.  Returns 0, -EOPNOTSUPP when the server answered NFS4ERR_NOTSUPP
 * (the file service is missing), -EPROTO for any other failure (printed).
 */
int ld_tree_setup(struct nc_session *s, const char *path, uint32_t nfiles,
		  uint64_t big_size, struct ld_tree *t) MUST_CHECK;
void ld_tree_free(struct ld_tree *t);

/*
 * OPEN (no create) of the file fh's parent dir/name for owner with
 * share_access; stateid and file handle returned.  Synchronous.
 * Returns 0, -EOPNOTSUPP, or -EPROTO.
 */
int ld_open_file(struct nc_session *s, const struct ld_fh *dir,
		 const char *name, const char *owner, uint32_t share_access,
		 stateid4 *sid, struct ld_fh *fh) MUST_CHECK;
/* CLOSE stateid on fh; 0 or -EPROTO. */
int ld_close_file(struct nc_session *s, const struct ld_fh *fh,
		  const stateid4 *sid) MUST_CHECK;

/*
 * Run cp (SEQUENCE + ops) synchronously on s and parse the reply.
 * Returns 0 when every op answered NFS4_OK, -EOPNOTSUPP when an op
 * answered NFS4ERR_NOTSUPP or NFS4ERR_LAYOUTUNAVAILABLE, -EEXIST for
 * NFS4ERR_EXIST (not printed), -EPROTO otherwise (what failed is printed,
 * prefixed with what).  The reply is freed before returning, so only the
 * scalar fields of *r are valid afterwards unless keep is not NULL: then
 * the call is handed over (free it with nc_call_free()).
 */
int ld_run_sync(struct nc_session *s, struct nc_compound *cp,
		const char *what, struct ld_res *r,
		struct nc_call **keep) MUST_CHECK;

/*
 * RECLAIM_COMPLETE (RFC 8881 §18.51): a fresh client has nothing to
 * reclaim and says so, so the server lets it OPEN during a grace period.
 * NFS4ERR_COMPLETE_ALREADY and NFS4ERR_NOTSUPP are fine.  0 or -EPROTO.
 */
int ld_reclaim_complete(struct nc_session *s) MUST_CHECK;

/* Where and as whom nfsload connects. */
struct ld_target {
	char		*host;
	uint16_t	port;
	uint32_t	uid, gid;	/* AUTH_SYS */
};

/*
 * Connect, EXCHANGE_ID with owner, CREATE_SESSION (library defaults: 64
 * slots, back channel on this connection), RECLAIM_COMPLETE.  Prints what
 * failed.  Returns 0 or -errno.
 */
int ld_session_open(const struct ld_target *t, const char *owner,
		    struct nc_conn **cp, struct nc_session **sp) MUST_CHECK;
/* DESTROY_SESSION + DESTROY_CLIENTID (the server forgets us now), free. */
void ld_session_close(struct nc_conn *c, struct nc_session *s);

/* Append the Linux client's usual GETATTR mask (what `stat` needs). */
void ld_add_getattr(struct nc_compound *cp, uint32_t mask_buf[3]);

/* --- the recall storm (recall.c) --------------------------------------- */

struct ld_recall_args {
	const struct ld_target *target;
	const struct ld_tree *tree;	/* its files are the F files */
	unsigned	nclients;	/* M */
	const char	*label;
};

/*
 * M clients open the tree's F files and take a READ block layout on each;
 * a further client writes 64 KiB to each file beforehand and then
 * truncates every file to 0 (8 threads, synchronous SETATTRs, DELAY
 * retried).  Clients answer CB_LAYOUTRECALL at once and return the layout
 * from a thread of their own.  Prints a RESULT line with the drain time
 * (first SETATTR sent to last reply) and the recall/return counts.
 * Returns 0; -EOPNOTSUPP when the server lacks an operation; -EPROTO when
 * a truncate or a return failed or no recall came.
 */
int ld_recall_storm(const struct ld_recall_args *a) MUST_CHECK;

#endif
