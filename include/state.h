/*
 * state.h - NFSv4.1 server state: client records (EXCHANGE_ID), sessions
 * with their slot tables and reply cache (CREATE_SESSION, SEQUENCE), leases
 * and their reaper, and the back channel (CB_NULL probe, CB_COMPOUND with
 * CB_SEQUENCE).  RFC 8881 sections are cited at each function.
 *
 * Locking: the lock order, outermost first, is
 *     state mgmt mutex -> client lock -> session lock -> hash stripe lock
 * and is asserted in debug builds (src/state/lockorder.c).  The mgmt mutex
 * serialises only client-record life cycle changes (EXCHANGE_ID, confirming
 * CREATE_SESSION, DESTROY_CLIENTID, lease expiry); the SEQUENCE hot path
 * takes one hash stripe lock shared (session lookup) and the session's own
 * mutex, nothing global.  No function in this header is called with any
 * state lock held and none returns with one held: they are taken and
 * dropped inside.  Completions (state_cb_done_fn, expiry hooks) run without
 * state locks held.
 *
 * Ownership: clients and sessions are reference counted
 * (state_client_get/put, state_session_get/put); a lookup returns a
 * reference the caller puts.  A hashed client holds one reference for
 * its two tables (clientid, owner); a live session one for the session
 * table and its client's list.  A session holds a reference on its client.  struct state_seq holds a session
 * reference from state_sequence() to state_sequence_done().
 */
#ifndef PMEMNFS_STATE_H
#define PMEMNFS_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "rpc.h"
#include "nfs4_prot.h"

struct state_server;
struct state_client;
struct state_session;
struct fs;
struct fs_inode;

/* Lease default: RFC 8881 §8.3 leaves it to the server; 90 s like knfsd. */
#define STATE_LEASE_DEFAULT_SEC		90
#define STATE_GRACE_DEFAULT_SEC		90
/* Fore-channel slots per session; Linux asks for 64 and copes with fewer. */
#define STATE_MAX_SLOTS_DEFAULT		64
/*
 * ca_maxoperations cap.  COMPOUNDs are decoded op by op (docs/nfs4.md), so
 * this, not the XDR argarray bound, limits what a session may send.
 */
#define STATE_MAX_OPS_DEFAULT		64
/* Largest request / reply: 1 MiB of READ/WRITE data plus headers. */
#define STATE_MAX_REQ_DEFAULT		(1024 * 1024 + 4096)
#define STATE_MAX_RESP_DEFAULT		(1024 * 1024 + 4096)
/*
 * Largest reply kept in a slot's reply cache.  Every cached reply is held
 * per slot until the slot is reused, so this times the slot count is the
 * worst-case cache memory of a session; non-idempotent ops have small
 * replies, so 8 KiB is plenty (Linux asks for less).
 */
#define STATE_MAX_RESP_CACHED_DEFAULT	8192
/* Back-channel slots: CB_LAYOUTRECALL/CB_RECALL rarely overlap much. */
#define STATE_MAX_CB_SLOTS_DEFAULT	8
/*
 * How long one back-channel call may go unanswered before the back channel
 * counts as down (SEQ4_STATUS_CB_PATH_DOWN).  Recall deadlines are the
 * caller's business and longer (at least a lease, RFC 8881 §12.5.5).
 */
#define STATE_CB_TIMEOUT_DEFAULT_MS	10000

/*
 * Client records the server keeps at most.  Each is a few hundred bytes
 * plus its sessions; the cap stops a client that invents owners from
 * exhausting memory (new owners get NFS4ERR_DELAY until leases expire).
 * Twice the 100,000 clients the tables are sized for.
 */
#define STATE_MAX_CLIENTS_DEFAULT	200000
/*
 * Sessions per client: Linux uses one (more with trunking); each costs a
 * slot table and up to max_slots cached replies.  More: NFS4ERR_DELAY.
 */
#define STATE_MAX_SESSIONS_DEFAULT	16

struct state_config {
	uint32_t lease_sec;
	uint32_t grace_sec;
	uint32_t max_slots;		/* fore channel ca_maxrequests cap */
	uint32_t max_cb_slots;		/* back channel ca_maxrequests cap */
	uint32_t max_clients;		/* client records, incl. unconfirmed */
	uint32_t max_sessions;		/* sessions per client */
	uint32_t max_ops;		/* ca_maxoperations cap */
	uint32_t max_req_size;		/* ca_maxrequestsize cap */
	uint32_t max_resp_size;		/* ca_maxresponsesize cap */
	uint32_t max_resp_cached;	/* ca_maxresponsesize_cached cap */
	uint32_t cb_timeout_ms;
	const char *server_owner;	/* so_major_id and server scope; NULL: hostname */
	bool start_reaper;		/* false in unit tests that expire by hand */
	/*
	 * The engine whose server records keep the client records for
	 * reclaim after a restart (RFC 8881 §8.4.2.1).  Borrowed: it must
	 * outlive the state server.  NULL: no records and no grace period.
	 */
	struct fs *fs;
};

void state_config_defaults(struct state_config *cfg);

/*
 * Create the state server: hash tables sized for 100,000 clients, the boot
 * epoch used in client and session ids, and (cfg->start_reaper) the lease
 * reaper thread.  Returns 0, -ENOMEM, -EINVAL for an unusable config, or
 * the pthread_create error.
 */
int state_server_create(const struct state_config *cfg,
			struct state_server **out) MUST_CHECK;
/* Stop the reaper, expire every client (running expiry hooks), free all. */
void state_server_destroy(struct state_server *srv);
const struct state_config *state_server_config(const struct state_server *srv);

/* --- client records (RFC 8881 §2.4, §18.35) ------------------------------ */

void state_client_get(struct state_client *clp);
void state_client_put(struct state_client *clp);
uint64_t state_client_id(const struct state_client *clp);

/*
 * Look up a client by clientid (confirmed or not).  Returns a reference in
 * *out, or NFS4ERR_STALE_CLIENTID if it is unknown, expired, or from an
 * earlier server instance.
 */
nfsstat4 state_client_lookup(struct state_server *srv, uint64_t clientid,
			     struct state_client **out) MUST_CHECK;

/*
 * Cleanup that later subsystems (opens, locks, delegations, layouts) need
 * when a client's state goes away.  has_state() answers "does this client
 * still hold state of yours" (DESTROY_CLIENTID answers CLIENTID_BUSY and an
 * EXCHANGE_ID principal collision CLID_INUSE while one says yes): it runs
 * with the state mgmt mutex held and must not call back into this header.
 * expire() frees the subsystem's state of that client: it runs without
 * state locks held, once per client, after the client is unreachable by
 * lookups and its sessions are gone.
 */
struct state_client_hooks {
	const char *name;
	bool	(*has_state)(struct state_client *clp, void *ctx);
	void	(*expire)(struct state_client *clp, void *ctx);
	void	*ctx;
};
#define STATE_MAX_HOOKS	8
/*
 * Register before clients exist (at daemon start).  Returns the hook's
 * index (>= 0; also the index of its state_client_private() slot) or
 * -ENOSPC when STATE_MAX_HOOKS are registered.
 */
int state_register_client_hooks(struct state_server *srv,
				const struct state_client_hooks *hooks) MUST_CHECK;

/*
 * Per-client opaque pointer for higher layers, indexed by the value
 * state_register_client_hooks() returned.
 * Not locked: the owning subsystem serialises its own use.
 */
void **state_client_private(struct state_client *clp, unsigned int idx);

/*
 * SEQ4_STATUS_* bits that other subsystems raise for a client
 * (e.g. SEQ4_STATUS_RECALLABLE_STATE_REVOKED) and clear when the condition
 * ends.  They are reported in every SEQUENCE reply of that client
 * (RFC 8881 §18.46.3).  Lock-free (atomic).
 */
void state_client_set_seq_flags(struct state_client *clp, uint32_t bits);
void state_client_clear_seq_flags(struct state_client *clp, uint32_t bits);

/*
 * EXCHANGE_ID (RFC 8881 §18.35.4, the client record cases of §18.35.5).
 * cred is the caller's RPC credential (the principal); state protection
 * other than SP4_NONE is refused with NFS4ERR_ENCR_ALG_UNSUPP.  Fills
 * resok->eir_clientid, eir_sequenceid and eir_flags; the server-owner,
 * scope and implementation fields are the caller's (they do not depend on
 * the client).  NFS4ERR_DELAY when a new record would exceed max_clients.
 * Takes the mgmt mutex.
 */
nfsstat4 state_exchange_id(struct state_server *srv,
			   const EXCHANGE_ID4args *args,
			   const struct rpc_cred *cred,
			   EXCHANGE_ID4resok *resok) MUST_CHECK;

/*
 * DESTROY_CLIENTID (RFC 8881 §18.50): NFS4ERR_STALE_CLIENTID if unknown,
 * NFS4ERR_CLIENTID_BUSY while it has sessions or hook state.
 */
nfsstat4 state_destroy_clientid(struct state_server *srv, uint64_t clientid,
				const struct rpc_cred *cred) MUST_CHECK;

/*
 * RECLAIM_COMPLETE for the whole client (RFC 8881 §18.51.3): first call
 * NFS4_OK, later calls NFS4ERR_COMPLETE_ALREADY.  The first one ends the
 * client's reclaims (the grace period ends early once every client with a
 * record from before the restart sent it) and records the client on the
 * volume so that it may reclaim after the next restart (§8.4.2.1).
 */
nfsstat4 state_reclaim_complete(struct state_client *clp) MUST_CHECK;

/*
 * Expire every client whose lease ran out (RFC 8881 §8.3) and that has no
 * COMPOUND in flight.  The reaper thread calls this; tests call it directly
 * with an explicit now_ns.  Returns the number of clients expired.
 */
unsigned int state_expire_clients(struct state_server *srv, uint64_t now_ns);

/* A client as the administration tool (pmemnfsctl) shows it. */
struct state_client_info {
	uint64_t clientid;
	bool	confirmed;
	bool	cb_up;			/* a session has a working back channel */
	uint32_t nsessions;
	uint32_t seq_flags;		/* raised by other subsystems */
	uint64_t lease_left_ms;		/* 0: expired, waiting for the reaper */
	char	owner[64];		/* co_ownerid, printable, truncated */
};

/*
 * Snapshot of up to max clients into out (in no particular order); returns
 * how many were filled, and the number of clients in *total.  Takes each
 * clientid stripe shared, then each client's lock (never together).
 * Requires: no state locks held.
 */
unsigned int state_list_clients(struct state_server *srv,
				struct state_client_info *out,
				unsigned int max, unsigned int *total);

/* --- sessions (RFC 8881 §2.10, §18.36, §18.37) -------------------------- */

void state_session_get(struct state_session *ses);
void state_session_put(struct state_session *ses);
/* The session's client (no reference taken: valid while ses is). */
struct state_client *state_session_client(struct state_session *ses);
/* The session's id (NFS4_SESSIONID_SIZE bytes, valid while ses is). */
const char *state_session_id(const struct state_session *ses);

/*
 * Look up a live session.  Returns a reference, or NFS4ERR_BADSESSION.
 */
nfsstat4 state_session_lookup(struct state_server *srv,
			      const char sessionid[NFS4_SESSIONID_SIZE],
			      struct state_session **out) MUST_CHECK;

/*
 * CREATE_SESSION (RFC 8881 §18.36.4): the csa_sequence replay/misordered
 * rules, confirmation of an unconfirmed client record (removing a confirmed
 * record it replaces), channel attributes negotiated down to the server's
 * limits, CREATE_SESSION4_FLAG_CONN_BACK_CHAN (conn becomes the back
 * channel and is probed with CB_NULL).  The callback credential is the
 * first AUTH_NONE or AUTH_SYS entry of csa_sec_parms (an empty list means
 * AUTH_NONE); a non-empty list without one is refused with
 * NFS4ERR_ENCR_ALG_UNSUPP (RPCSEC_GSS callbacks are not supported).
 * Undefined csa_flags are NFS4ERR_INVAL; the principal must match only
 * when the call confirms an unconfirmed record (NFS4ERR_CLID_INUSE).  NFS4ERR_DELAY when the client has max_sessions already.
 * conn may be NULL (unit tests): no back channel then.
 */
nfsstat4 state_create_session(struct state_server *srv,
			      const CREATE_SESSION4args *args,
			      const struct rpc_cred *cred,
			      struct rpc_conn *conn,
			      CREATE_SESSION4resok *resok) MUST_CHECK;

/*
 * DESTROY_SESSION (RFC 8881 §18.37.3).  in_compound_of is the session of the
 * current COMPOUND's SEQUENCE (or NULL): its own slot does not count as
 * in use.  NFS4ERR_BADSESSION if unknown, NFS4ERR_DELAY while other
 * requests are still running on it.
 */
nfsstat4 state_destroy_session(struct state_server *srv,
			       const char sessionid[NFS4_SESSIONID_SIZE],
			       struct state_session *in_compound_of) MUST_CHECK;

/*
 * BIND_CONN_TO_SESSION (RFC 8881 §18.34.3): a back-channel direction binds
 * conn for callbacks (and probes it).  Fills resok.
 */
nfsstat4 state_bind_conn(struct state_server *srv,
			 const BIND_CONN_TO_SESSION4args *args,
			 struct rpc_conn *conn,
			 BIND_CONN_TO_SESSION4resok *resok) MUST_CHECK;

/*
 * BACKCHANNEL_CTL (RFC 8881 §18.33.3): new callback program and security
 * for the session's back channel.  NFS4ERR_ENCR_ALG_UNSUPP when none of the
 * offered flavors is AUTH_NONE or AUTH_SYS.
 */
nfsstat4 state_backchannel_ctl(struct state_session *ses,
			       const BACKCHANNEL_CTL4args *args) MUST_CHECK;

/* --- SEQUENCE and the slot table (RFC 8881 §2.10.6, §18.46) -------------- */

/* What the COMPOUND layer tells SEQUENCE about the request. */
struct state_seq_req {
	uint32_t	opcnt;		/* ops in the COMPOUND */
	uint32_t	req_len;	/* bytes of the whole RPC call */
	struct rpc_conn	*conn;		/* NULL in unit tests */
};

/*
 * One COMPOUND's hold on a slot, from state_sequence() to
 * state_sequence_done().  While held, the slot is busy: only its holder
 * writes the slot's reply cache.
 */
struct state_seq {
	struct state_session *ses;	/* reference */
	uint32_t	slotid;
	uint32_t	seqid;
	bool		cachethis;
	uint32_t	max_resp;	/* session ca_maxresponsesize */
	uint32_t	max_resp_cached;
	/* Set when the request is a retry answered from the cache. */
	bool		replay;
	void		*replay_buf;	/* malloc'ed copy; caller frees */
	uint32_t	replay_len;
};

/*
 * SEQUENCE (RFC 8881 §18.46.3, §2.10.6.1).  On NFS4_OK either
 * seq->replay is false: the slot is now busy, the lease renewed, resok
 * filled, and the caller must call state_sequence_done(); or seq->replay is
 * true: the reply of the retried request is in seq->replay_buf (send it
 * verbatim, free it) and the caller must call state_sequence_done() too
 * (it drops the reference; the slot was not taken).  Errors:
 * NFS4ERR_BADSESSION, NFS4ERR_BADSLOT, NFS4ERR_SEQ_MISORDERED,
 * NFS4ERR_RETRY_UNCACHED_REP, NFS4ERR_DELAY (retry of a request still in
 * progress), NFS4ERR_TOO_MANY_OPS, NFS4ERR_REQ_TOO_BIG; seq holds nothing.
 */
nfsstat4 state_sequence(struct state_server *srv, const SEQUENCE4args *args,
			const struct state_seq_req *req, SEQUENCE4resok *resok,
			struct state_seq *seq) MUST_CHECK;

/*
 * The slot's reply buffer, at least len bytes, for the holder to fill with
 * the encoded COMPOUND4res before state_sequence_done(seq, true, len).
 * NULL on ENOMEM (then finish with cached = false).
 */
void *state_seq_cache_buf(struct state_seq *seq, uint32_t len);

/*
 * Release the slot: cached says whether the slot buffer now holds the
 * reply (len bytes) for replays.  Drops seq's session reference.
 */
void state_sequence_done(struct state_seq *seq, bool cached, uint32_t len);

/* --- opens, byte-range locks, stateids (RFC 8881 §8, §9, §18) --------------
 *
 * Every function below takes the caller's client (the COMPOUND's session
 * client) and the inode number of the current filehandle, and is called
 * with no state lock held.  Stateids passed in are already resolved for
 * the "current stateid" (nfs4_resolve_stateid()).  Results that carry a
 * stateid fill *out.  Opens and locks live in memory only; the client
 * record on the volume is what lets a client reclaim them after a restart
 * (see the grace functions below).
 */

/* An OPEN's state part (RFC 8881 §18.16.3, §9.7). */
struct state_open_req {
	uint64_t	ino;
	/*
	 * The file (may be NULL without an engine): the state keeps a
	 * reference while the file has state, so that an open file removed
	 * by another client stays usable until CLOSE (RFC 8881 §9.9).
	 */
	struct fs_inode	*ip;
	const open_owner4 *owner;
	uint32_t	access;		/* OPEN4_SHARE_ACCESS_READ/WRITE/BOTH */
	uint32_t	deny;		/* OPEN4_SHARE_DENY_* */
	bool		reclaim;	/* CLAIM_PREVIOUS (checked by the caller
					 * with state_grace_check()) */
	/* Delegation wishes (RFC 8881 §18.16.3, §10.4): */
	uint32_t	want;		/* OPEN4_SHARE_ACCESS_WANT_* bits */
	bool		cb_up;		/* state_client_cb_up() before the call */
	const void	*fh;		/* the file's handle, for CB_RECALL */
	uint32_t	fhlen;
};

/*
 * Open (or upgrade the open of the same open-owner on the same file:
 * one stateid per open-owner and file, its seqid bumped).  Share
 * reservations: NFS4ERR_SHARE_DENIED when the access conflicts with
 * another open's deny or the deny with another open's access (§9.7).
 * A conflicting delegation of another client is recalled (CB_RECALL)
 * and the answer is NFS4ERR_DELAY until it is returned or revoked
 * (§10.4.2).  *deleg gets the delegation granted, or the reason for none
 * (a read delegation for a read-only open, a write delegation for a
 * writing one, when req->want asks and nothing conflicts; no delegation
 * without a working back channel).  NFS4ERR_INVAL for access 0 or values
 * out of range, NFS4ERR_DELAY on ENOMEM.
 */
nfsstat4 state_open(struct state_client *clp, const struct state_open_req *req,
		    stateid4 *out, open_delegation4 *deleg) MUST_CHECK;
/*
 * Whether an OPEN with access/deny would pass the share and delegation
 * checks now (recalling conflicting delegations: NFS4ERR_DELAY); for the
 * caller to refuse before it creates or truncates (§18.16.3).
 */
nfsstat4 state_open_check_share(struct state_client *clp, uint64_t ino,
				const open_owner4 *owner, uint32_t access,
				uint32_t deny) MUST_CHECK;
/*
 * CLOSE (§18.2.3): sid must be an open stateid of this client on ino.
 * NFS4ERR_LOCKS_HELD while lock stateids under it hold byte ranges.
 * *out gets the invalid special stateid (§18.2.4 SHOULD).
 */
nfsstat4 state_close(struct state_client *clp, uint64_t ino,
		     const stateid4 *sid, stateid4 *out) MUST_CHECK;
/*
 * OPEN_DOWNGRADE (§18.18.3): access/deny must be modes this open used
 * (else NFS4ERR_INVAL).
 */
nfsstat4 state_open_downgrade(struct state_client *clp, uint64_t ino,
			      const stateid4 *sid, uint32_t access,
			      uint32_t deny, stateid4 *out) MUST_CHECK;
/*
 * LOCK (§18.10.3) with a new lock-owner (from an open stateid) or an
 * existing lock stateid.  POSIX semantics per lock-owner: ranges merge
 * and split, a lock over an owned range changes its type.  Conflicts
 * answer NFS4ERR_DENIED with *denied filled (owner bytes malloc'ed:
 * free with state_lock_denied_free()).  reclaim must have been checked
 * with state_grace_check().
 */
nfsstat4 state_lock(struct state_client *clp, uint64_t ino,
		    const LOCK4args *args, stateid4 *out,
		    LOCK4denied *denied) MUST_CHECK;
/* LOCKT (§18.11.3): NFS4_OK or NFS4ERR_DENIED with *denied. */
nfsstat4 state_lockt(struct state_client *clp, uint64_t ino,
		     const LOCKT4args *args, LOCK4denied *denied) MUST_CHECK;
/* LOCKU (§18.12.3). */
nfsstat4 state_locku(struct state_client *clp, uint64_t ino,
		     const LOCKU4args *args, stateid4 *out) MUST_CHECK;
void state_lock_denied_free(LOCK4denied *denied);
/*
 * DELEGRETURN (§18.6.3): sid must be a delegation of this client on ino;
 * a revoked one is NFS4ERR_DELEG_REVOKED (free it with FREE_STATEID).
 */
nfsstat4 state_delegreturn(struct state_client *clp, uint64_t ino,
			   const stateid4 *sid) MUST_CHECK;
/*
 * CLAIM_DELEGATE_CUR / CLAIM_DELEG_CUR_FH (§18.16.3): whether sid is a
 * current delegation of this client on ino (NFS4ERR_BAD_STATEID,
 * NFS4ERR_DELEG_REVOKED otherwise).
 */
nfsstat4 state_deleg_check(struct state_client *clp, uint64_t ino,
			   const stateid4 *sid) MUST_CHECK;
/* FREE_STATEID (§18.38.3): NFS4ERR_LOCKS_HELD for an open stateid, a
 * lock stateid that holds ranges or a delegation not revoked. */
nfsstat4 state_free_stateid(struct state_client *clp,
			    const stateid4 *sid) MUST_CHECK;
/* TEST_STATEID (§18.48.3): the status of one stateid for this client. */
nfsstat4 state_test_stateid(struct state_client *clp,
			    const stateid4 *sid) MUST_CHECK;
/*
 * Check a stateid for READ (write false), WRITE or SETATTR(size) on ino
 * (RFC 8881 §8.2, §9.1.4): the anonymous (all zeros) and read-bypass (all
 * ones) special stateids pass unless another open denies the access
 * (NFS4ERR_LOCKED); an open, lock or delegation stateid must be this
 * client's, for this file (NFS4ERR_BAD_STATEID), current
 * (NFS4ERR_OLD_STATEID / BAD_STATEID per §8.2.2), not revoked
 * (NFS4ERR_DELEG_REVOKED), and for WRITE carry write access
 * (NFS4ERR_OPENMODE).  A delegation of another client that conflicts is
 * recalled: NFS4ERR_DELAY meanwhile.  Byte-range locks are advisory: I/O
 * does not check them.  clp may be NULL (no session): only special
 * stateids pass then.
 */
nfsstat4 state_check_io(struct state_client *clp, uint64_t ino,
			const stateid4 *sid, bool write) MUST_CHECK;
/*
 * Conflicting delegations of ino: recall them before a change and answer
 * NFS4ERR_DELAY while the recall runs (RFC 8881 §10.4).  clp is the
 * client making the change (its own delegations do not conflict; NULL:
 * all do), write says whether the change writes (a read delegation
 * conflicts only with writes; REMOVE, RENAME and SETATTR pass true).  A
 * delegation whose recall has gone unanswered for a lease period is
 * revoked (SEQ4_STATUS_RECALLABLE_STATE_REVOKED for its client, §8.3,
 * §10.4.6) and no longer conflicts.  NFS4_OK when nothing conflicts.
 */
nfsstat4 state_break_delegations(struct state_client *clp, uint64_t ino,
				 bool write) MUST_CHECK;

/*
 * After NFS4ERR_DELAY for a delegation conflict (state_open_check_share(),
 * state_break_delegations()): wait up to wait_ns for the conflicting
 * delegations to be returned or revoked, so that the client need not
 * come back (RFC 8881 §10.4.2).  NFS4_OK when none conflicts any more,
 * NFS4ERR_DELAY otherwise.  The caller must have been allowed to block
 * (rpc_worker_may_block()) and holds no lock.
 */
nfsstat4 state_deleg_wait(struct state_client *clp, uint64_t ino, bool write,
			  uint64_t wait_ns) MUST_CHECK;

/*
 * GETATTR of size or change by clp of ino while another client holds a
 * write delegation (RFC 8881 §10.4.3): ask the holder with CB_GETATTR and
 * answer what it reports.  srv_size / srv_change are the server's own
 * values; *size / *change get what GETATTR should report: the server's,
 * or - when the holder's change attribute differs, i.e. it modified the
 * file in its cache - its size and a change attribute the server never
 * reported (srv_change + 1).  Returns whether a write delegation of
 * another client exists.  Waits up to one second for the holder, with no
 * lock held; then the server's values stand.  Not called with any lock.
 */
bool state_deleg_getattr(struct state_client *clp, uint64_t ino,
			 uint64_t srv_size, uint64_t srv_change,
			 uint64_t *size, uint64_t *change);

/*
 * How many write delegations are granted now: counted from the grant
 * until the stateid goes (DELEGRETURN; a revoked one until FREE_STATEID
 * or its client's expiry, so it may over-count, never under-count).
 * Zero means no GETATTR can need a CB_GETATTR (RFC 8881 §10.4.3): the
 * event loop asks this before it runs a COMPOUND inline, and GETATTR
 * before it asks for a worker that may block.  A grant racing with the
 * call may be missed, which is harmless: the holder has not seen its
 * OPEN reply yet, so it cannot have modified the file.  Lock-free.
 */
unsigned int state_write_delegs(struct state_server *srv);

/*
 * The open_arguments attribute (RFC 9754 §5.1, attribute 86): which OPEN
 * arguments this server supports, each a one-word bitmap4 of the values'
 * numbers - for the attribute encoder (the XDR has no open_arguments4,
 * so it is encoded by hand: five bitmap4s, each length 1 and this word).
 */
struct state_open_arguments {
	uint32_t share_access;		/* READ, WRITE, BOTH */
	uint32_t share_deny;		/* NONE .. BOTH */
	uint32_t share_access_want;	/* the WANT_* values OPEN honours */
	uint32_t open_claim;		/* the claim types OPEN takes */
	uint32_t create_mode;		/* UNCHECKED4 .. EXCLUSIVE4_1 */
};
void state_open_arguments(struct state_open_arguments *out);

/* --- grace period and reclaim (RFC 8881 §8.4.2, §18.51) ----------------------- */

/*
 * Whether an operation that obtains locking state may proceed: reclaim
 * (CLAIM_PREVIOUS, LOCK with reclaim) is NFS4ERR_NO_GRACE outside the grace
 * period, for a client without a record from before the restart, and after
 * the client's RECLAIM_COMPLETE; a non-reclaim one is NFS4ERR_GRACE during
 * the grace period and before the client's RECLAIM_COMPLETE (§18.51.3).
 * Takes the grace lock.
 */
nfsstat4 state_grace_check(struct state_client *clp, bool reclaim) MUST_CHECK;
/* Whether the server is in its grace period (REMOVE/RENAME may refuse). */
bool state_grace_active(struct state_server *srv);

/* --- back channel (RFC 8881 §2.10.3.1, §20) ------------------------------ */

/*
 * done() runs exactly once, on a worker thread, without state locks held.
 * err 0: res is the decoded CB_COMPOUND4res (valid during the call only;
 * res->status is the CB_COMPOUND status, resarray[0] the CB_SEQUENCE
 * result).  err < 0: -ETIMEDOUT (no reply in time), -ECONNRESET
 * (connection lost), -EPROTO (RPC-level error), -EBADMSG (undecodable
 * reply), -ESHUTDOWN (client expired before the call went out); res NULL.
 */
typedef void (*state_cb_done_fn)(void *ctx, int err,
				 const CB_COMPOUND4res *res);

/*
 * Send CB_COMPOUND { CB_SEQUENCE, ops... } to the client on a session with
 * a working back channel (RFC 8881 §20.9, §20.9.3).  ops are copied
 * shallowly: what they point to must stay valid until done() runs.  When
 * every callback slot is busy the call waits in a FIFO for one.  Returns 0
 * (done() will run, on a worker, never before this returns: the caller may
 * hold locks done() takes) or -ENOTCONN (no usable back channel, or the
 * connection refused the call), -EINVAL, -ENOMEM: done() will not run.
 * The callback slot's seqid advances only when the client answered
 * CB_SEQUENCE with NFS4_OK; a timed-out call leaves it (as knfsd does).
 */
int state_cb_compound(struct state_client *clp, const nfs_cb_argop4 *ops,
		      uint32_t nops, uint32_t timeout_ms,
		      state_cb_done_fn done, void *ctx) MUST_CHECK;

/*
 * The NFSv4 minor version the client uses (1 until told): CB_COMPOUNDs
 * carry it, since a client may refuse callbacks of another minor version
 * (RFC 8881 §16.2.3, NFS4ERR_MINOR_VERS_MISMATCH).  Ops that lead to
 * callbacks (OPEN granting a delegation, LAYOUTGET) set it from their
 * COMPOUND.  Lock-free.
 */
void state_client_set_minor(struct state_client *clp, uint32_t minor);

/* Whether the client has a session whose back channel works now. */
bool state_client_cb_up(struct state_client *clp);

#endif
