/*
 * nfsclient.h - a small NFSv4.1 client library (prefix nc_) for the protocol
 * tests and the benchmark tool: TCP connections with pipelined ONC RPC calls
 * matched by xid, AUTH_NONE/AUTH_SYS credentials, COMPOUND helpers,
 * EXCHANGE_ID / CREATE_SESSION / SEQUENCE slot management, and a back
 * channel that answers CB_NULL and CB_COMPOUND (CB_SEQUENCE) on the same
 * connection, with a hook through which a test answers the other callback
 * operations its own way (or never), and the attributes CB_GETATTR answers
 * with for the filehandles a test registered.
 *
 * Locking: each struct nc_conn has one receive thread that reads every
 * record, completes calls and answers callbacks.  All nc_ functions are
 * thread safe per connection and per session; the library's own locks
 * (conn->lock, conn->send_lock, sess->lock) are never held while a caller's
 * function runs, except that completion functions (nc_done_fn) and the
 * callback hook (nc_cb_hook_fn) run on the receive thread: they must not
 * wait for a reply on the same connection (that thread delivers it) and
 * should return quickly.
 * Ownership: the caller owns struct nc_conn, struct nc_call and struct
 * nc_session objects it obtained and frees them with the matching _close /
 * _free / nc_session_free.  A session refers to its connection; close the
 * session (nc_session_free) before the connection.  Reply buffers belong to
 * the call; decoded results belong to the caller and are released with
 * nc_res_free().
 */
#ifndef PMEMNFS_NFSCLIENT_H
#define PMEMNFS_NFSCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <rpc/rpc.h>

#include "common.h"
#include "nfs4_prot.h"

struct nc_conn;
struct nc_call;
struct nc_session;

/* ONC RPC program numbers (RFC 8881 §16.1, RFC 5531). */
#define NC_NFS_PROGRAM		100003u
#define NC_NFS_VERSION		4u
#define NC_NFSPROC_NULL		0u
#define NC_NFSPROC_COMPOUND	1u
#define NC_CB_PROC_NULL		0u
#define NC_CB_PROC_COMPOUND	1u

/*
 * Default wait for one reply.  The server answers in milliseconds; a test
 * must fail in bounded time rather than hang when it does not.  Overridable
 * per call; the benchmark uses its own.
 */
#define NC_DEFAULT_TIMEOUT_NS	(10 * NSEC_PER_SEC)

/* Largest record we accept from the server (a READ of 1 MiB plus slack). */
#define NC_MAX_RECORD		(4u * 1024 * 1024)

/* Most operations a struct nc_compound can carry (well above server limits). */
#define NC_MAX_OPS		128

/* Fore/back channel slot tables we track (server negotiates down). */
#define NC_MAX_SLOTS		64
#define NC_MAX_CB_SLOTS		16

/* --- credentials --------------------------------------------------------- */

/*
 * The credential sent with every call on a connection.  Nothing is checked
 * here: tests send over-long machine names or too many gids on purpose to
 * see the server refuse them (RFC 5531 appendix A limits 255 / 16).
 */
struct nc_cred {
	uint32_t	flavor;		/* AUTH_NONE or AUTH_SYS */
	uint32_t	stamp;
	const char	*machine;	/* AUTH_SYS machine name, NULL = "" */
	uint32_t	uid, gid;
	uint32_t	ngids;
	const uint32_t	*gids;
};

/* --- connections --------------------------------------------------------- */

/*
 * Connect over TCP to host (IPv4/IPv6 literal or name) and port, start the
 * receive thread.  The credential starts as AUTH_NONE.
 * Returns 0, or -errno (-ECONNREFUSED, -ETIMEDOUT, -ENOMEM, ...).
 */
int nc_conn_open(const char *host, uint16_t port,
		 struct nc_conn **out) MUST_CHECK;
/*
 * Close the socket, join the receive thread, fail every pending call with
 * -ECONNRESET (their completions run), free the connection.  Any session
 * using it must be freed first.
 */
void nc_conn_close(struct nc_conn *c);
/* Copy cred (and its strings/arrays) for all later calls.  -ENOMEM. */
int nc_conn_set_cred(struct nc_conn *c, const struct nc_cred *cred) MUST_CHECK;
/* Use AUTH_SYS with uid/gid and machine name "nc-<pid>". */
int nc_conn_set_auth_sys(struct nc_conn *c, uint32_t uid,
			 uint32_t gid) MUST_CHECK;
/* True once the peer closed the connection or a read failed. */
bool nc_conn_is_closed(struct nc_conn *c);
/*
 * Wait until the server closes the connection (EOF or reset).  Returns 0
 * when closed, -ETIMEDOUT if still open at the deadline.
 */
int nc_conn_wait_closed(struct nc_conn *c, uint64_t timeout_ns) MUST_CHECK;
/* A fresh xid unique on this connection. */
uint32_t nc_conn_next_xid(struct nc_conn *c);

/* --- calls --------------------------------------------------------------- */

/*
 * Runs on the receive thread once the call completed (reply or error, see
 * nc_call_error()).  It may free the call.
 */
typedef void (*nc_done_fn)(struct nc_call *call, void *ctx);

/*
 * Send a call: RPC header with a fresh xid and the connection's credential,
 * then enc(args) as the body.  Many calls may be outstanding on one
 * connection; replies are matched by xid in any order.  done == NULL: wait
 * with nc_call_wait().  Returns 0 with *out set (the caller owns it even when
 * done != NULL: free it in done or after), or -errno when nothing was sent.
 */
int nc_call_start(struct nc_conn *c, uint32_t prog, uint32_t vers,
		  uint32_t proc, xdrproc_t enc, const void *args,
		  nc_done_fn done, void *ctx, struct nc_call **out) MUST_CHECK;
/*
 * Send msg (a complete RPC message, starting with its xid) as one record and
 * wait for the reply with that xid like any other call.  For malformed-input
 * tests that still expect an answer.
 */
int nc_call_start_raw(struct nc_conn *c, const void *msg, size_t len,
		      nc_done_fn done, void *ctx,
		      struct nc_call **out) MUST_CHECK;
/*
 * Wait for the call's reply.  Returns 0 when a reply arrived, the call's
 * error (-ECONNRESET: connection closed first), or -ETIMEDOUT (the call
 * stays pending: free it to abandon it).  Only for calls without done.
 */
int nc_call_wait(struct nc_call *call, uint64_t timeout_ns) MUST_CHECK;
/* 0 with a reply, -EINPROGRESS while pending, or the transport error. */
int nc_call_error(struct nc_call *call);
uint32_t nc_call_xid(const struct nc_call *call);
/* The raw reply record (RPC header included); NULL before completion. */
const uint8_t *nc_call_reply(const struct nc_call *call, uint32_t *len);
/* Forget a pending call (a late reply is dropped) and free it. */
void nc_call_free(struct nc_call *call);

/* What the RPC reply header said (RFC 5531 §9). */
struct nc_rpc_reply {
	uint32_t	xid;
	uint32_t	reply_stat;	/* MSG_ACCEPTED or MSG_DENIED */
	uint32_t	accept_stat;	/* if accepted: SUCCESS, PROG_UNAVAIL, ... */
	uint32_t	reject_stat;	/* if denied: RPC_MISMATCH or AUTH_ERROR */
	uint32_t	auth_stat;	/* if AUTH_ERROR */
	uint32_t	low, high;	/* PROG_MISMATCH or RPC_MISMATCH */
	uint32_t	body_off;	/* offset of the result body in the record */
};

/*
 * Parse the reply header of a completed call.  Returns 0, -EINPROGRESS or
 * the call's error, -EBADMSG when the record is not a well-formed reply.
 */
int nc_call_parse(const struct nc_call *call,
		  struct nc_rpc_reply *out) MUST_CHECK;
/*
 * Decode the body of an accepted SUCCESS reply with dec into res (zeroed
 * first; free it with nc_res_free(dec, res) after a 0 return).  Returns
 * -EPROTO when the reply was not accepted SUCCESS, -EBADMSG when the body
 * does not decode (nothing to free).
 */
int nc_call_decode(const struct nc_call *call, xdrproc_t dec, void *res,
		   size_t res_size) MUST_CHECK;
void nc_res_free(xdrproc_t dec, void *res);

/*
 * Encode a complete call message (header + enc(args)) into buf without
 * sending it, so a test can corrupt or truncate it first.  Returns 0 with
 * *len set, -ENOSPC if cap is too small.
 */
int nc_encode_call(struct nc_conn *c, uint32_t xid, uint32_t prog,
		   uint32_t vers, uint32_t proc, xdrproc_t enc,
		   const void *args, void *buf, size_t cap,
		   size_t *len) MUST_CHECK;
/*
 * Write bytes to the socket exactly as given (no record marking): for
 * framing tests.  Returns 0 or -errno.
 */
int nc_conn_send_raw(struct nc_conn *c, const void *bytes,
		     size_t len) MUST_CHECK;

/*
 * Send msg as one record (a single last fragment) without registering a
 * call: for messages no reply is expected to (stray replies, junk).
 * Returns 0 or -errno.  Locks: must not hold any nc_ lock.
 */
int nc_conn_send_record(struct nc_conn *c, const void *msg,
			size_t len) MUST_CHECK;

/* Synchronous RPC NULL to prog/vers; 0 or -errno, *reply filled. */
int nc_null(struct nc_conn *c, uint32_t prog, uint32_t vers,
	    struct nc_rpc_reply *reply) MUST_CHECK;

/* --- COMPOUND ------------------------------------------------------------ */

/* An argument array under construction (tag and ops are copied by pointer). */
struct nc_compound {
	COMPOUND4args	args;
	nfs_argop4	ops[NC_MAX_OPS];
};

/* Start an empty compound with tag (may be NULL) and minorversion. */
void nc_compound_init(struct nc_compound *cp, const char *tag,
		      uint32_t minorversion);
/* Append a zeroed op with argop = op; NULL when NC_MAX_OPS is reached. */
nfs_argop4 *nc_compound_add(struct nc_compound *cp, nfs_opnum4 op);

/*
 * Start cp on c without waiting (the arguments are encoded before this
 * returns, so cp may be reused at once); done runs on the receive thread.
 * Decode with nc_call_decode(call, (xdrproc_t)xdr_COMPOUND4res, ...).
 * This is the benchmark's building block: N connections x D calls.
 */
int nc_compound_start(struct nc_conn *c, const struct nc_compound *cp,
		      nc_done_fn done, void *ctx,
		      struct nc_call **out) MUST_CHECK;

/*
 * Send cp on c and wait for the COMPOUND4res (decoded into *res; free it
 * with nc_res_free((xdrproc_t)xdr_COMPOUND4res, res)).  Returns 0 when a
 * COMPOUND4res was decoded (look at res->status), -EPROTO if the RPC reply
 * was not accepted SUCCESS, or the transport error.  If call_out is not
 * NULL the completed call is handed over too (for raw reply bytes).
 */
int nc_compound(struct nc_conn *c, const struct nc_compound *cp,
		COMPOUND4res *res, struct nc_call **call_out) MUST_CHECK;

/* The n-th result's nfsstat4, or -1 if there is no such result. */
int nc_res_status(const COMPOUND4res *res, uint32_t n);

/* --- client ID and session ---------------------------------------------- */

struct nc_clientid {
	clientid4	clientid;
	sequenceid4	sequence;	/* eir_sequenceid: next csa_sequence */
	uint32_t	flags;		/* eir_flags */
};

/*
 * EXCHANGE_ID (RFC 8881 §18.35) with owner id, verifier and flags, SP4_NONE.
 * Returns 0 when a reply was decoded: *status is the op's status and *out is
 * filled when NFS4_OK.  Transport errors as nc_compound().
 */
int nc_exchange_id(struct nc_conn *c, const char *owner,
		   const verifier4 verifier, uint32_t flags,
		   struct nc_clientid *out, nfsstat4 *status) MUST_CHECK;

struct nc_session_opts {
	uint32_t	flags;		/* CREATE_SESSION4_FLAG_* */
	uint32_t	cb_program;
	channel_attrs4	fore;		/* requested; see nc_session_opts_init */
	channel_attrs4	back;
};

/* Defaults: back channel on this connection, 64 fore slots, 1 MiB sizes. */
void nc_session_opts_init(struct nc_session_opts *o);

/* The state of a session the library keeps; read-only for callers. */
struct nc_session_info {
	sessionid4	sessionid;
	clientid4	clientid;
	uint32_t	flags;		/* csr_flags */
	channel_attrs4	fore, back;	/* as negotiated */
};

/*
 * CREATE_SESSION (§18.36) for clientid using cl->sequence, which advances
 * when the server processed the request.  With
 * CREATE_SESSION4_FLAG_CONN_BACK_CHAN the connection answers callbacks for
 * the session.  Returns 0 when a reply was decoded: *status says whether
 * *out was created.  Transport errors as nc_compound().
 */
int nc_create_session(struct nc_conn *c, struct nc_clientid *cl,
		      const struct nc_session_opts *o,
		      struct nc_session **out, nfsstat4 *status) MUST_CHECK;
/* EXCHANGE_ID + CREATE_SESSION; any non-OK status becomes -EPROTO. */
int nc_session_setup(struct nc_conn *c, const char *owner,
		     const struct nc_session_opts *o,
		     struct nc_session **out) MUST_CHECK;
const struct nc_session_info *nc_session_info(const struct nc_session *s);
struct nc_conn *nc_session_conn(const struct nc_session *s);
/* Detach from the connection's back channel and free (sends nothing). */
void nc_session_free(struct nc_session *s);

/*
 * Reserve a free fore-channel slot (waits up to timeout for one) and return
 * its id and the seqid to send.  Release it with nc_slot_release(): advanced
 * = the server processed SEQUENCE on it (the seqid is used up).
 * Returns 0 or -ETIMEDOUT.
 */
int nc_slot_acquire(struct nc_session *s, uint64_t timeout_ns,
		    slotid4 *slot, sequenceid4 *seqid) MUST_CHECK;
void nc_slot_release(struct nc_session *s, slotid4 slot, bool advanced);
/* Highest slot id currently in use + the server's target (for SEQUENCE). */
slotid4 nc_slot_highest(struct nc_session *s);

/* Flags for nc_session_compound(). */
#define NC_SEQ_CACHETHIS	0x1	/* sa_cachethis = TRUE */
#define NC_SEQ_NO_RETRY		0x2	/* hand back NFS4ERR_DELAY */

/*
 * Prepend SEQUENCE (a free slot, its next seqid) to the ops in cp (cp must
 * leave op 0 free: use nc_session_compound_init()), send, wait, release the
 * slot.  Retries on NFS4ERR_DELAY (§2.10.6.2: a DELAY from SEQUENCE reuses
 * the seqid, a DELAY from a later op needs a new one) with a short backoff,
 * up to NC_DELAY_RETRIES times, unless NC_SEQ_NO_RETRY.
 * *seq_flags (if not NULL) gets sr_status_flags.  Returns as nc_compound().
 */
int nc_session_compound(struct nc_session *s, struct nc_compound *cp,
			uint32_t flags, COMPOUND4res *res,
			uint32_t *seq_flags) MUST_CHECK;
/*
 * nc_session_compound() for callers that look at the status, as every
 * protocol test does: returns the COMPOUND status (an nfsstat4, >= 0)
 * when a reply was decoded, or the negative transport error with *res
 * zeroed, so nc_compound_res_free(res) is right after either.
 */
int nc_session_run(struct nc_session *s, struct nc_compound *cp,
		   uint32_t flags, COMPOUND4res *res) MUST_CHECK;
/* Free a decoded COMPOUND4res (nc_res_free with xdr_COMPOUND4res). */
void nc_compound_res_free(COMPOUND4res *res);

/*
 * Asynchronous nc_session_compound(): take a free slot (waiting up to
 * NC_DEFAULT_TIMEOUT_NS), fill SEQUENCE into cp->ops[0], send and return
 * (cp may be reused at once).  When the reply arrives the slot is released
 * - its seqid used up if the server processed SEQUENCE - and then done runs
 * on the receive thread.  No NFS4ERR_DELAY retries.  With D of these
 * outstanding per session on N connections this is the benchmark's load.
 * Returns 0, -ETIMEDOUT (no slot), or a send error (slot released).
 */
int nc_session_compound_start(struct nc_session *s, struct nc_compound *cp,
			      uint32_t flags, nc_done_fn done, void *ctx,
			      struct nc_call **out) MUST_CHECK;
/* nc_compound_init() leaving room for SEQUENCE as op 0. */
void nc_session_compound_init(struct nc_compound *cp, const char *tag);

/* How often and how far apart nc_session_compound() retries DELAY. */
#define NC_DELAY_RETRIES	50
#define NC_DELAY_BACKOFF_NS	(20 * NSEC_PER_MSEC)

/*
 * BIND_CONN_TO_SESSION (§18.34) of connection c to s, asking for dir.  A
 * granted back direction makes c answer the session's callbacks (bound on
 * the receive thread before any callback after the reply is read).
 * *granted (if not NULL) gets bctsr_dir when *status is NFS4_OK.
 */
int nc_bind_conn_to_session(struct nc_conn *c, struct nc_session *s,
			    channel_dir_from_client4 dir,
			    channel_dir_from_server4 *granted,
			    nfsstat4 *status) MUST_CHECK;
/* DESTROY_SESSION (§18.37) sent on the session's connection; *status. */
int nc_destroy_session(struct nc_session *s, nfsstat4 *status) MUST_CHECK;
/* DESTROY_CLIENTID (§18.50) as a lone op on c; *status. */
int nc_destroy_clientid(struct nc_conn *c, clientid4 clientid,
			nfsstat4 *status) MUST_CHECK;

/* --- back channel -------------------------------------------------------- */

enum nc_cb_action {
	NC_CB_ANSWER = 0,	/* reply with *status for this op */
	NC_CB_DROP,		/* send no reply to this CB_COMPOUND at all */
	/*
	 * Answer with *status, but hold the reply until the test calls
	 * nc_conn_cb_send_deferred() (a client that answers late).
	 */
	NC_CB_DEFER,
	/*
	 * Answer with *status, but cut the reply's last word: the
	 * CB_COMPOUND4res ends inside this op's result and does not decode
	 * (a client that answers garbage).  Later ops are not run.
	 */
	NC_CB_TRUNCATE,
};

/*
 * Called on the receive thread for every callback operation after a good
 * CB_SEQUENCE (CB_SEQUENCE itself is answered by the library).  *status
 * starts as the library's default (NFS4_OK for recalls and notifications;
 * for CB_GETATTR NFS4_OK when nc_conn_set_cb_getattr() registered the
 * filehandle, NFS4ERR_NOTSUPP otherwise).  A non-OK status ends the
 * compound as RFC 8881 §15.2 says; a CB_GETATTR answered NFS4_OK carries
 * the registered attributes (none when the filehandle is not registered).
 * Must not wait for fore-channel replies on c.
 */
typedef enum nc_cb_action (*nc_cb_hook_fn)(void *ctx, struct nc_conn *c,
					   const nfs_cb_argop4 *op,
					   nfsstat4 *status);
void nc_conn_set_cb_hook(struct nc_conn *c, nc_cb_hook_fn fn, void *ctx);

/*
 * silent: drop every incoming CALL unanswered (CB_NULL included), as a
 * client whose back channel is dead would.  Counted in stats.dropped.
 */
void nc_conn_set_cb_silent(struct nc_conn *c, bool silent);

/*
 * Send the replies held back by NC_CB_DEFER, oldest first.  Returns how
 * many were sent.  Locks: none held by the caller.
 */
unsigned nc_conn_cb_send_deferred(struct nc_conn *c);

/* Answer callbacks for program cb_program on c (set by create_session). */
void nc_conn_set_cb_program(struct nc_conn *c, uint32_t cb_program);

/*
 * CB_GETATTR answers (RFC 8881 §20.1).  The server asks the holder of a
 * write delegation for size and change when another client GETATTRs them
 * (§10.4.3); a test decides here what this client answers.
 */

/* bitmap4 words an answer carries at most: attributes 0 .. 63. */
#define NC_CB_ATTR_WORDS	2
/* Largest raw attr_vals of an answer (a malformed one; a few words do). */
#define NC_CB_ATTR_VALS_MAX	64

struct nc_cb_attrs {
	/*
	 * The fattr4 attrmask sent back as given, not intersected with the
	 * server's attr_request: a test may answer more or less than asked.
	 */
	uint32_t	mask[NC_CB_ATTR_WORDS];
	/*
	 * Values of FATTR4_CHANGE and FATTR4_SIZE, encoded as uint64 in
	 * attribute order (change (3) before size (4)) for the bits in mask.
	 */
	uint64_t	change;
	uint64_t	size;
	/*
	 * vals_len > 0: send these bytes as attr_vals instead, whatever mask
	 * says (XDR-padded to a word), for malformed answers.  Copied.
	 */
	const void	*vals;
	uint32_t	vals_len;
};

/*
 * Answer every later CB_GETATTR for filehandle fh on c with NFS4_OK and
 * the attributes in *a (copied; replaces an earlier registration of fh).
 * a == NULL forgets fh: its CB_GETATTR is answered NFS4ERR_NOTSUPP again.
 * The hook (nc_conn_set_cb_hook) still sees the op and may change the
 * status or drop the reply.  Returns 0, -EINVAL (fh longer than
 * NFS4_FHSIZE, vals_len above NC_CB_ATTR_VALS_MAX, or without vals a mask
 * bit other than FATTR4_CHANGE / FATTR4_SIZE), -ENOENT (a == NULL and fh
 * not registered) or -ENOMEM.  Locks: takes c->lock.
 */
int nc_conn_set_cb_getattr(struct nc_conn *c, const nfs_fh4 *fh,
			   const struct nc_cb_attrs *a) MUST_CHECK;

/* Callback op numbers are small (OP_CB_GETATTR 3 .. OP_CB_OFFLOAD 15). */
#define NC_CB_OP_MAX		32

/* What the back channel saw, for tests to wait on. */
struct nc_cb_stats {
	uint64_t	cb_null;	/* CB_NULL calls */
	uint64_t	cb_compound;	/* CB_COMPOUND calls */
	uint64_t	cb_sequence_ok;	/* CB_SEQUENCE answered NFS4_OK */
	uint64_t	cb_sequence_err; /* CB_SEQUENCE answered an error */
	uint64_t	dropped;	/* CB_COMPOUNDs the hook chose to drop */
	uint64_t	deferred;	/* replies held back by NC_CB_DEFER */
	uint64_t	bad;		/* undecodable or wrong program calls */
	uint64_t	ops[NC_CB_OP_MAX];	/* by op number; others in [0] */
};

void nc_conn_cb_stats(struct nc_conn *c, struct nc_cb_stats *out);
/*
 * Wait until the counter at offset field of struct nc_cb_stats (use
 * offsetof) reaches at least min.  Returns 0 or -ETIMEDOUT.
 */
int nc_conn_wait_cb(struct nc_conn *c, size_t field, uint64_t min,
		    uint64_t timeout_ns) MUST_CHECK;
/* Wait until callback op opnum was seen at least min times. */
int nc_conn_wait_cb_op(struct nc_conn *c, uint32_t opnum, uint64_t min,
		       uint64_t timeout_ns) MUST_CHECK;

#endif
