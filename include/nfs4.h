/*
 * nfs4.h - the NFSv4.1/4.2 COMPOUND layer (RFC 8881 §16.2, §2.10): the RPC
 * program, the COMPOUND loop, the per-op table and the compound context
 * that op handlers work on.
 *
 * Locking: the COMPOUND layer holds no locks of its own while an op runs.
 * Handlers are called with no locks held and must return with none held;
 * they take state/fs locks through those subsystems' APIs.  A handler that
 * may wait asks rpc_worker_may_block() first (its table entry carries
 * NFS4_OPF_MAY_BLOCK) and answers NFS4ERR_DELAY when told no.
 * Ownership: struct nfs4_compound lives on the worker's stack for one
 * COMPOUND; it holds the SEQUENCE slot (struct state_seq, a session
 * reference) until the reply is encoded and cached.  Decoded arguments
 * belong to the COMPOUND loop and are freed after the op ran; a handler's
 * result memory is released by the op's release() after encoding.
 */
#ifndef PMEMNFS_NFS4_H
#define PMEMNFS_NFS4_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "rpc.h"
#include "nfs4_prot.h"
#include "state.h"

struct nfs4_server;
struct fs;
struct exports_table;

/*
 * Where the file service finds the exports table (the daemon's storage,
 * reloaded on SIGHUP).  get() returns the current table with a counted
 * reference (the table stays valid and unchanged until the matching
 * put(tok)) and *gen, a number that changes whenever the table is
 * replaced; it may be called from any worker thread at any time.
 */
struct nfs4_exports_src {
	const struct exports_table *(*get)(void *ctx, void **tok,
					   uint64_t *gen);
	void	(*put)(void *ctx, void *tok);
	/*
	 * The generation get() would return now, without a lock: every
	 * COMPOUND asks, and only a changed number costs a get().
	 */
	uint64_t (*gen)(void *ctx);
	void	*ctx;
};

/* Minor versions served (RFC 8881 §2.7; RFC 7862 for 2). */
#define NFS4_MINOR_MIN	1u
#define NFS4_MINOR_MAX	2u

struct nfs4_config {
	uint32_t lease_sec;
	uint32_t grace_sec;
	uint32_t max_slots;		/* fore-channel slots per session */
	uint32_t max_ops;		/* ops per COMPOUND */
	uint32_t max_cb_slots;
	uint32_t max_req_size;
	uint32_t max_resp_size;
	uint32_t max_resp_cached;
	uint32_t cb_timeout_ms;
	uint32_t max_clients;		/* client records (STATE_MAX_CLIENTS_DEFAULT) */
	uint32_t max_sessions;		/* sessions per client */
	const char *server_owner;	/* so_major_id / scope; NULL: hostname */
};

/* Defaults: the STATE_*_DEFAULT values of state.h. */
void nfs4_config_defaults(struct nfs4_config *cfg);

/*
 * Create the state server (lease reaper included) and register program
 * 100003 version 4 (procs NULL and COMPOUND, AUTH_NONE and AUTH_SYS) with
 * srv.  Call before rpc_server_run().  One NFS server per process: the RPC
 * dispatch function finds it through a process-wide pointer, because
 * struct rpc_program carries no context.  fs is the mounted engine the
 * file service serves (borrowed: it must outlive the server), exports
 * where it finds the exports (copied); both NULL give a server of
 * sessions only, whose file ops answer NFS4ERR_SERVERFAULT (tests).  Reads or creates the filehandle
 * key in fs's server records.  Returns 0, -EBUSY if one exists, -EINVAL,
 * -ENOMEM, the engine's error, or rpc_server_register()'s error.
 */
int nfs4_server_init(const struct nfs4_config *cfg, struct rpc_server *srv,
		     struct fs *fs, const struct nfs4_exports_src *exports,
		     struct nfs4_server **out) MUST_CHECK;
/*
 * After rpc_server_run() returned: expire all clients and free.  Waits for
 * COMPOUNDs still running on RPC workers; calls that arrive later are
 * answered SYSTEM_ERR.  Safe before or after rpc_server_destroy().
 */
void nfs4_server_shutdown(struct nfs4_server *nsrv);
struct state_server *nfs4_server_state(struct nfs4_server *nsrv);

/* --- the compound context (what op handlers see) --------------------------- */

struct exports_entry;
struct exports_rule;

struct nfs4_fh {
	uint32_t len;			/* 0: no filehandle */
	uint8_t	data[NFS4_FHSIZE];
	/*
	 * What src/nfs4/fh.c learned from data (valid when checked):
	 * saves decoding and validating the handle again for every op
	 * that uses it.  Points into the COMPOUND's exports table.
	 */
	bool	checked;
	bool	pseudo;			/* a pseudo-filesystem directory */
	uint64_t ino;
	uint64_t gen;
	const struct exports_entry *exp;	/* NULL for pseudo */
	const struct exports_rule *rule;	/* the client's rule, or NULL */
};

/*
 * Where the compound's reply goes.  The RPC dispatch wires it to
 * rpc_call_res_*(); unit tests to an xdrmem buffer.
 */
struct nfs4_reply_io {
	/* Bytes of reply body encoded so far. */
	uint32_t (*pos)(void *ctx);
	/* Copy encoded reply-body bytes [from, from + len) to dst; 0/-errno. */
	int	(*copy)(void *ctx, uint32_t from, uint32_t len, void *dst);
	/*
	 * Optional (NULL: encode everything by copying): encode opaque<len>
	 * whose bytes are sent from ptr itself, as rpc_call_res_put_ref()
	 * does.  ptr stays untouched until release(rctx), which runs exactly
	 * once, on any thread but an event loop, when the bytes were sent or
	 * the reply dropped.  At most one per reply and only last: anything
	 * encoded after it copies the bytes in.  copy() sees the bytes too.
	 * 0; on -errno nothing was encoded and release is not called.
	 */
	int	(*put_ref)(void *ctx, const void *ptr, uint32_t len,
			   void (*release)(void *rctx), void *rctx);
	void	*ctx;
};

struct nfs4_compound {
	struct nfs4_server	*srv;
	struct state_server	*state;
	const struct rpc_cred	*cred;
	struct rpc_conn		*conn;		/* NULL in unit tests */
	uint32_t		minorversion;
	uint32_t		opcnt;		/* ops in the request */
	uint32_t		opidx;		/* op being processed */
	uint32_t		req_len;	/* bytes of the RPC call */

	struct nfs4_fh		current_fh;
	struct nfs4_fh		saved_fh;
	stateid4		current_stateid;
	stateid4		saved_stateid;
	bool			have_current_stateid;
	bool			have_saved_stateid;

	/* SEQUENCE's hold on the slot (seq.ses NULL: no session). */
	struct state_seq	seq;
	/* Reply size accounting (RFC 8881 §2.10.6.4, §18.46.3). */
	uint32_t		resp_size;	/* encoded-size bound so far */

	/*
	 * The file service's view of the exports (src/nfs4/fh.c): a
	 * counted reference taken on first use, dropped by
	 * nfs4_compound_run() when the COMPOUND ends.
	 */
	struct nfs4_export_set	*exports;
};

/* Whether this COMPOUND is in a session (it began with a good SEQUENCE). */
static inline bool
nfs4_in_session(const struct nfs4_compound *cs)
{
	return cs->seq.ses != NULL && !cs->seq.replay;
}

/*
 * Set the current filehandle (PUTFH, PUTROOTFH, LOOKUP, ... call this with
 * a handle the file system produced or accepted).  The current stateid is
 * left unset (RFC 8881 §16.2.3.1.2).  NFS4ERR_BADHANDLE for an empty or
 * over-long handle.  No locks.
 */
nfsstat4 nfs4_set_current_fh(struct nfs4_compound *cs, const void *fh,
			     uint32_t len) MUST_CHECK;
/* Make sid the current stateid (OPEN, LOCK, LAYOUTGET ... on success). */
void nfs4_set_current_stateid(struct nfs4_compound *cs, const stateid4 *sid);
/*
 * The stateid an op should use for in (RFC 8881 §8.2.3, §16.2.3.1.2): the
 * special "current stateid" (seqid 1, other 0) becomes the current stateid
 * or NFS4ERR_BAD_STATEID when there is none; the "invalid" special
 * stateid is NFS4ERR_BAD_STATEID; anything else is itself.
 */
nfsstat4 nfs4_resolve_stateid(const struct nfs4_compound *cs,
			      const stateid4 *in, stateid4 *out) MUST_CHECK;

/* --- the op table -------------------------------------------------------------- */

enum nfs4_op_flags {
	/* May open a COMPOUND without SEQUENCE, then as its only op. */
	NFS4_OPF_SESSIONLESS	= 1u << 0,
	/* Must be the only op of its COMPOUND, SEQUENCE or not. */
	NFS4_OPF_SOLO		= 1u << 1,
	/* Needs a current filehandle (else NFS4ERR_NOFILEHANDLE). */
	NFS4_OPF_NEEDS_FH	= 1u << 2,
	/*
	 * Changes state: a retry must be answered from the reply cache, so
	 * its reply size is checked against the cache limit before the op
	 * runs, not after (RFC 8881 §2.10.6.4).
	 */
	NFS4_OPF_MODIFIES	= 1u << 3,
	/* May wait (recall, pin): asks rpc_worker_may_block(). */
	NFS4_OPF_MAY_BLOCK	= 1u << 4,
	/* NFSv4.0 only: NFS4ERR_NOTSUPP in 4.1 (RFC 8881 §15.2). */
	NFS4_OPF_V40_ONLY	= 1u << 5,
	/*
	 * Puts a filehandle (PUTFH, PUTROOTFH, PUTPUBFH, RESTOREFH): when
	 * the op after it is not NFS4_OPF_SECINFO_NEXT, a handle whose
	 * export refuses the caller's flavour fails here with
	 * NFS4ERR_WRONGSEC (RFC 8881 §2.6.3.1.1).
	 */
	NFS4_OPF_PUTFH		= 1u << 6,
	/*
	 * May follow a put-filehandle op without the flavour check
	 * (LOOKUP, LOOKUPP, SECINFO, SECINFO_NO_NAME: §2.6.3.1.1): they
	 * are how a client finds out which flavours to use.
	 */
	NFS4_OPF_SECINFO_NEXT	= 1u << 7,
	/*
	 * Cheap and never waits for a client or a long local wait: a
	 * COMPOUND made only of such ops may run on the RPC event-loop
	 * thread instead of a worker (nfs4_compound_inline_ok()), which
	 * saves two thread hand-offs per call.  An op that is also
	 * NFS4_OPF_MAY_BLOCK is refused the block budget there
	 * (rpc_worker_may_block() is false on the loop) and takes its
	 * non-waiting path, which must be correct on its own.
	 */
	NFS4_OPF_INLINE		= 1u << 8,
};

/*
 * A handler runs one op: arg is the decoded nfs_argop4, res the result
 * union to fill (res->resop is already set).  It returns the op's status;
 * the COMPOUND loop stores it as the result's status (the first member of
 * every XXX4res) and stops the COMPOUND on anything but NFS4_OK.
 */
typedef nfsstat4 (*nfs4_op_fn)(struct nfs4_compound *cs, nfs_argop4 *arg,
			       nfs_resop4 *res);

struct nfs4_op_desc {
	const char	*name;
	nfs4_op_fn	process;
	/*
	 * Frees what process() allocated in res, after encoding; or NULL.
	 * Handlers allocate result memory only when they return NFS4_OK, so
	 * release() runs only for NFS4_OK results.
	 */
	void		(*release)(nfs_resop4 *res);
	uint32_t	flags;		/* enum nfs4_op_flags */
	uint32_t	min_minor;	/* first minor version with this op */
	/*
	 * Upper bound of the encoded result (resop + status + body), or 0
	 * when it depends on the data (measured exactly after the op ran).
	 */
	uint32_t	res_max;
	/*
	 * Optional: encode an NFS4_OK result (resop included) into xdrs
	 * instead of xdr_nfs_resop4(), to hand bulk data to the reply by
	 * reference (io->put_ref).  Called only for the COMPOUND's last
	 * result and only when io->put_ref is set.  Whatever it hands over
	 * is released by the reply, not by release(), which still runs and
	 * must skip it.  Returns false when the result did not encode (the
	 * reply fails like any encode error).
	 */
	bool		(*encode)(XDR *xdrs, nfs_resop4 *res,
				  const struct nfs4_reply_io *io);
};

/* The op's table entry, or NULL (NFS4ERR_OP_ILLEGAL) for minorversion. */
const struct nfs4_op_desc *nfs4_optable_get(uint32_t opnum, uint32_t minor);

/* The handler of every op not implemented yet: NFS4ERR_NOTSUPP. */
nfsstat4 nfs4_op_notsupp(struct nfs4_compound *cs, nfs_argop4 *arg,
			 nfs_resop4 *res);

/*
 * Run one COMPOUND: decode COMPOUND4args from args op by op, process, and
 * encode COMPOUND4res into res (RFC 8881 §16.2.3).  A retry that the
 * reply cache answers gets the cached bytes verbatim.  Returns
 * RPC_DISP_REPLY, RPC_DISP_GARBAGE (header undecodable) or
 * RPC_DISP_SYSTEM_ERR (the reply could not be encoded).  req_len is the
 * size of the whole RPC call (for NFS4ERR_REQ_TOO_BIG).  No locks held.
 */
enum rpc_disp nfs4_compound_run(struct nfs4_server *nsrv, XDR *args, XDR *res,
				const struct rpc_cred *cred,
				struct rpc_conn *conn, uint32_t req_len,
				const struct nfs4_reply_io *io);

/*
 * Whether the COMPOUND in the call arguments [args, args + len) may run
 * on the RPC event-loop thread: every op is NFS4_OPF_INLINE, a READ asks
 * for at most NFS4_INLINE_READ_MAX bytes, and nsrv's state has no write
 * delegation that a GETATTR could have to ask about (CB_GETATTR waits).
 * Decodes the ops' arguments into a scratch buffer and frees them; a
 * COMPOUND that does not decode is false (the worker answers it).  No
 * locks held; lock-free apart from what decoding allocates.
 */
bool nfs4_compound_inline_ok(struct nfs4_server *nsrv, const void *args,
			     uint32_t len);

/* A READ larger than this copies too long to hold the event loop. */
#define NFS4_INLINE_READ_MAX	(64u * 1024)

/*
 * For unit tests: a server without RPC registration (state as in cfg,
 * reaper off).  Free with nfs4_server_shutdown().
 */
int nfs4_server_create_detached(const struct nfs4_config *cfg,
				struct nfs4_server **out) MUST_CHECK;

#endif
