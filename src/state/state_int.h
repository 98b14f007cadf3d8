/*
 * state_int.h - the state subsystem's private structures: hash tables,
 * lock-order ranks, client records, sessions, slot tables, callbacks.
 *
 * Locking: the rank order MGMT < CLIENT < SESSION < CSTATE < FILE < GRACE
 * < HTAB is checked by
 * state_order_acquire() in debug builds; each field below names the lock
 * that protects it ("const" fields are set before the object is published
 * and never change).
 * Ownership: see include/state.h.  The slot table functions are exposed
 * here (not in state.h) so unit tests can drive them directly.
 */
#ifndef PMEMNFS_STATE_INT_H
#define PMEMNFS_STATE_INT_H

#include <stdatomic.h>
#include <pthread.h>

#include "state.h"

/* --- lock order ---------------------------------------------------------- */

enum state_lock_rank {
	STATE_RANK_MGMT = 1,
	STATE_RANK_CLIENT = 2,
	STATE_RANK_SESSION = 3,
	STATE_RANK_CSTATE = 4,	/* a client's opens, locks, owners */
	STATE_RANK_FILE = 5,	/* one file's share/lock state */
	STATE_RANK_GRACE = 6,	/* the grace period and reclaim list */
	STATE_RANK_HTAB = 7,	/* leaf: nothing is taken under a stripe */
};

#ifdef PMEMNFS_DEBUG
/* VERIFY that every state lock this thread holds ranks below r, record r. */
void state_order_acquire(enum state_lock_rank r);
void state_order_release(enum state_lock_rank r);
/* Rank of the innermost state lock held (0: none). */
int state_order_top(void);
#else
#define state_order_acquire(r)	((void)(r))
#define state_order_release(r)	((void)(r))
#define state_order_top()	0
#endif

/* --- hash tables ----------------------------------------------------------- */

/*
 * Chained hash table with striped reader/writer locks: lookups take one
 * stripe shared, insert/remove take it exclusively.  Stripe locks are the
 * innermost state locks (STATE_RANK_HTAB).
 */
struct state_hnode {
	struct state_hnode *next;
};

struct state_htab {
	struct state_hnode **buckets;
	uint32_t	mask;		/* nbuckets - 1 */
	struct rwlock	*stripes;
	uint32_t	stripe_mask;	/* nstripes - 1 */
	atomic_uint	count;
};

/* 2^17 buckets: 100,000 clients at load factor < 1 (DESIGN.md §4). */
#define STATE_HTAB_BUCKETS	(1u << 17)
/* Enough stripes that 2 cores x a few workers rarely meet on one. */
#define STATE_HTAB_STRIPES	256u

int state_htab_init(struct state_htab *h, uint32_t nbuckets,
		    uint32_t nstripes) MUST_CHECK;
void state_htab_destroy(struct state_htab *h);
void state_htab_lock(struct state_htab *h, uint64_t hash, enum lock_mode mode);
void state_htab_unlock(struct state_htab *h, uint64_t hash);
/* Bucket head for hash; the stripe for hash must be held. */
struct state_hnode **state_htab_bucket(struct state_htab *h, uint64_t hash);
void state_htab_insert_locked(struct state_htab *h, uint64_t hash,
			      struct state_hnode *n);
void state_htab_remove_locked(struct state_htab *h, uint64_t hash,
			      struct state_hnode *n);
bool state_htab_lock_held(struct state_htab *h, uint64_t hash);

uint64_t state_hash_u64(uint64_t v);
uint64_t state_hash_bytes(const void *p, size_t len);

/* --- slot tables and the reply cache (RFC 8881 §2.10.6) --------------------- */

struct state_slot {
	uint32_t seqid;		/* of the last request accepted on the slot */
	bool	used;		/* a request was ever accepted */
	bool	busy;		/* a request holds the slot */
	bool	cached;		/* buf holds the reply to seqid */
	uint32_t len;		/* reply bytes in buf */
	uint32_t cap;
	uint8_t	*buf;
};

struct state_slot_table {
	uint32_t nslots;
	uint32_t max_cached;	/* bytes per slot reply cache */
	struct state_slot *slots;
};

int state_slot_table_init(struct state_slot_table *t, uint32_t nslots,
			  uint32_t max_cached) MUST_CHECK;
void state_slot_table_destroy(struct state_slot_table *t);
/*
 * Classify a request on slotid with seqid (RFC 8881 §2.10.6.1): NFS4_OK
 * with *replay false for the next request, true for a retry whose reply is
 * cached; NFS4ERR_BADSLOT, NFS4ERR_SEQ_MISORDERED, NFS4ERR_DELAY (retry of
 * the request in progress), NFS4ERR_RETRY_UNCACHED_REP.  Seqids are modulo
 * 2^32.  Caller serialises access to t (the session lock).
 */
nfsstat4 state_slot_check(const struct state_slot_table *t, uint32_t slotid,
			  uint32_t seqid, bool *replay) MUST_CHECK;
/* Take the slot for a new request (after NFS4_OK, !replay). */
void state_slot_begin(struct state_slot_table *t, uint32_t slotid,
		      uint32_t seqid);
/* Slot buffer of at least len bytes for the holder, NULL if too big/ENOMEM. */
void *state_slot_buf(struct state_slot_table *t, uint32_t slotid, uint32_t len);
/* Release the slot; cached: its buffer holds len bytes of reply. */
void state_slot_end(struct state_slot_table *t, uint32_t slotid, bool cached,
		    uint32_t len);
/* Number of busy slots. */
uint32_t state_slot_busy_count(const struct state_slot_table *t);

/* --- file-service state: stateids, opens, locks (stateid.c, open.c, lock.c) --- */

/* Intrusive doubly linked list (circular, with a head node). */
struct state_list {
	struct state_list *prev, *next;
};

static inline void
state_list_init(struct state_list *h)
{
	h->prev = h->next = h;
}

static inline bool
state_list_empty(const struct state_list *h)
{
	return h->next == h;
}

static inline void
state_list_add(struct state_list *h, struct state_list *n)
{
	n->next = h;
	n->prev = h->prev;
	h->prev->next = n;
	h->prev = n;
}

static inline void
state_list_del(struct state_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}

#define state_list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define state_list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

/*
 * Per-file state: every open, lock and delegation stateid on one inode.
 * Keyed by inode number in fsvc.files; a counted object (each stateid
 * holds a reference, lookups take one).  Unhashed and freed when the last
 * reference goes (under the files stripe, so a lookup never finds a dying
 * file).
 */
struct state_file {
	struct state_hnode node;		/* fsvc.files */
	uint64_t	ino;			/* const */
	atomic_uint	ref;			/* files stripe for 1 -> 0 */
	struct mutex	lock;			/* STATE_RANK_FILE */
	/* Broadcast when a delegation leaves the file (returned, revoked). */
	struct condvar	deleg_cv;
	struct state_list opens;		/* lock: state_stid.file_link */
	struct state_list locks;		/* lock */
	struct state_list delegs;		/* lock */
	/*
	 * The engine's inode, referenced while the file has state: an open
	 * file stays reachable (and its blocks allocated) after its last
	 * name is removed, as POSIX and RFC 8881 §9.9 expect.  Set once
	 * under lock; dropped with the file.
	 */
	struct fs_inode	*ip;
};

enum state_owner_type {
	STATE_OWNER_OPEN = 1,
	STATE_OWNER_LOCK = 2,
};

/* An open-owner or lock-owner of one client (RFC 8881 §2.4.1). */
struct state_owner {
	struct state_list link;			/* cstate.owners */
	enum state_owner_type type;		/* const */
	uint32_t	len;			/* const */
	uint8_t		*data;			/* const */
	uint32_t	nstids;			/* cstate lock */
};

enum state_stid_type {
	STATE_STID_OPEN = 1,
	STATE_STID_LOCK = 2,
	STATE_STID_DELEG = 3,
};

/* One byte range of a lock stateid: [start, end), end UINT64_MAX = EOF. */
struct state_range {
	uint64_t	start;
	uint64_t	end;
	nfs_lock_type4	type;			/* READ_LT or WRITE_LT */
};

/*
 * A stateid (RFC 8881 §8.2).  "other" is a random instance number and a
 * 64-bit counter, unique per server instance.  Mutable fields change with
 * both the owning client's cstate lock and the file's lock held, so either
 * lock is enough to read them.
 */
struct state_stid {
	struct state_hnode node;		/* fsvc.stids */
	atomic_uint	ref;
	enum state_stid_type type;		/* const */
	uint64_t	id;			/* const: "other" bytes 4-11 */
	struct state_cstate *cst;		/* const: owning client */
	struct state_file *file;		/* const: holds a reference */
	struct state_owner *owner;		/* const */
	struct state_list file_link;		/* file lock */
	struct state_list client_link;		/* cstate lock */
	uint32_t	seqid;			/* both */
	bool		dead;			/* both: unhashed, unlinked */
	/* STATE_STID_OPEN: RFC 8881 §9.7 share reservation, as bitmaps of
	 * the OPEN4_SHARE_ACCESS / DENY values used (1 << value), so that
	 * OPEN_DOWNGRADE can tell which modes were opened (§18.18.3). */
	uint8_t		access_bmap;
	uint8_t		deny_bmap;
	/* STATE_STID_LOCK */
	struct state_stid *open;		/* const: its open stateid */
	struct state_range *ranges;		/* both; sorted by start */
	uint32_t	nranges;
	uint32_t	cap;
	/* STATE_STID_DELEG (RFC 8881 §10.2): */
	open_delegation_type4 dtype;		/* const: READ or WRITE */
	uint64_t	recall_ns;		/* file lock: CB_RECALL sent, 0 none */
	atomic_bool	revoked;		/* set once, under the file lock */
	uint8_t		*fh;			/* const: for CB_RECALL */
	uint32_t	fhlen;			/* const */
};

/* Per-client file-service state: state_client_private(fsvc.hook_idx). */
struct state_cstate {
	struct state_client *clp;		/* const; no reference */
	struct mutex	lock;			/* STATE_RANK_CSTATE */
	struct state_list owners;		/* lock */
	struct state_list stids;		/* lock: state_stid.client_link */
	bool		recorded;		/* lock: record on the volume */
	/* Revoked delegations not yet freed: SEQ4_STATUS_RECALLABLE_STATE_
	 * REVOKED is raised while this is not zero (RFC 8881 §18.46.3). */
	atomic_uint	nrevoked;
};

/* A client record found on the volume at start (may reclaim in grace). */
struct state_reclaimer {
	uint8_t		*key;
	uint32_t	klen;
	uint64_t	clientid;		/* of the instance that wrote it */
	bool		done;			/* RECLAIM_COMPLETE sent */
};

/* The server's file-service state (part of struct state_server). */
struct state_fsvc {
	struct fs	*fs;			/* const; NULL: no records */
	uint32_t	instance;		/* const: stateid "other" prefix */
	int		hook_idx;		/* const */
	atomic_uint_fast64_t next_stid;
	struct state_htab stids;		/* by "other" */
	struct state_htab files;		/* by inode number */

	struct mutex	grace_lock;		/* STATE_RANK_GRACE */
	/* Written under grace_lock; goes true -> false once, so a lock-free
	 * read of false is final (the OPEN/LOCK fast path). */
	atomic_bool	in_grace;
	uint64_t	grace_end_ns;		/* const */
	struct state_reclaimer *reclaim;	/* grace_lock */
	uint32_t	nreclaim;
	uint32_t	nreclaim_done;
	atomic_bool	stopping;		/* server shutdown: keep records */
	/*
	 * Write delegation stateids granted and not yet unhashed (returned,
	 * or revoked and then freed or expired): state_write_delegs().  Up
	 * in state_deleg_grant_locked(), down in state_stid_unhash(), which
	 * runs exactly once per stateid (its dead flag), so the count can
	 * neither leak nor go negative.
	 */
	atomic_uint	nwrite_delegs;
};

/* stateid.c */
int state_fsvc_init(struct state_server *srv) MUST_CHECK;
void state_fsvc_destroy(struct state_server *srv);
/* The client's cstate, created on first use; NULL on ENOMEM. */
struct state_cstate *state_cstate_get(struct state_client *clp);
/* Look up / create the file state of ino; reference in *out. */
int state_file_find(struct state_server *srv, uint64_t ino, bool create,
		    struct state_file **out) MUST_CHECK;
void state_file_put(struct state_server *srv, struct state_file *fp);
/* A new stateid, hashed and linked; cstate lock and file lock held. */
struct state_stid *state_stid_new(struct state_cstate *cst,
				  struct state_file *fp,
				  struct state_owner *owner,
				  enum state_stid_type type);
/* Unhash and unlink; cstate lock and file lock held.  Drops the
 * hashed reference (the caller still has its own, if any). */
void state_stid_unhash(struct state_stid *st);
void state_stid_put(struct state_server *srv, struct state_stid *st);
/* Find by wire stateid: a reference, or NULL (unknown / special). */
struct state_stid *state_stid_find(struct state_server *srv,
				   const stateid4 *sid);
void state_stid_to_wire(const struct state_server *srv,
			const struct state_stid *st, stateid4 *out);
/* RFC 8881 §8.2.2 seqid check against st (cstate or file lock held). */
nfsstat4 state_stid_check_seqid(const struct state_stid *st, uint32_t seqid);
/* Next seqid, skipping 0 (§8.2.2). */
void state_stid_bump(struct state_stid *st);
/* Find/create an owner of the client (cstate lock held). */
struct state_owner *state_owner_find(struct state_cstate *cst,
				     enum state_owner_type type,
				     const void *data, uint32_t len,
				     bool create);
void state_owner_release(struct state_cstate *cst, struct state_owner *ow);
/* Lock / unlock with the rank bookkeeping. */
void state_cstate_lock(struct state_cstate *cst);
void state_cstate_unlock(struct state_cstate *cst);
void state_file_lock(struct state_file *fp);
void state_file_unlock(struct state_file *fp);

/* deleg.c */
/* Delegations to recall, collected under a file lock, sent after it. */
#define STATE_RECALL_BATCH	16
struct state_recall_batch {
	struct state_stid *st[STATE_RECALL_BATCH];	/* references */
	struct state_client *clp[STATE_RECALL_BATCH];	/* references */
	unsigned int	n;
};
/*
 * Whether a delegation of another client than clp conflicts with an
 * access by clp (write: any delegation; read: a write delegation).
 * Revokes those whose recall went unanswered for a lease, adds the ones
 * not yet recalled to rb.  clp NULL: every delegation counts.
 * Requires: fp->lock.
 */
bool state_deleg_conflict_locked(struct state_server *srv,
				 struct state_file *fp,
				 const struct state_client *clp, bool write,
				 struct state_recall_batch *rb);
/* Send the collected CB_RECALLs and drop the batch's references.  No
 * state locks held. */
void state_recall_send(struct state_server *srv, struct state_recall_batch *rb);
/* Grant a delegation with the open st if allowed (§10.4); fills *d. */
void state_deleg_grant_locked(struct state_cstate *cst, struct state_file *fp,
			      const struct state_open_req *req,
			      open_delegation4 *d);
/* Account for a revoked delegation leaving (FREE_STATEID, expiry). */
void state_deleg_forget_revoked(struct state_stid *st);

/* grace.c */
int state_grace_init(struct state_server *srv) MUST_CHECK;
void state_grace_destroy(struct state_server *srv);
/* Persist / drop the client's record (no state locks held). */
void state_record_client(struct state_client *clp);
void state_forget_client(struct state_client *clp);
void state_grace_client_done(struct state_client *clp);

/* --- server ----------------------------------------------------------------- */

struct state_server {
	struct state_config cfg;			/* const */
	uint32_t	boot_epoch;			/* const: seconds at start */
	char		owner[256];			/* const: so_major_id, scope */
	atomic_uint	next_clientid;
	atomic_uint	next_sessionid;

	struct mutex	mgmt;				/* STATE_RANK_MGMT */
	struct state_htab clients;			/* by clientid */
	struct state_htab owners;			/* by co_ownerid */
	struct state_htab sessions;			/* by sessionid */
	struct state_fsvc fsvc;				/* opens, locks, grace */

	struct state_client_hooks hooks[STATE_MAX_HOOKS]; /* set at start */
	unsigned int	nhooks;

	pthread_t	reaper;
	bool		reaper_started;
	struct mutex	reaper_lock;	/* reaper sleep only; never nested */
	struct condvar	reaper_cv;
	bool		stopping;	/* reaper_lock */
};

/* --- clients ------------------------------------------------------------------ */

enum state_client_st {
	STATE_CLIENT_UNCONFIRMED = 0,
	STATE_CLIENT_CONFIRMED,
	STATE_CLIENT_DEAD,	/* unhashed; waiting for the last reference */
};

struct state_principal {
	uint32_t flavor;
	uint32_t uid;
};

struct state_client {
	struct state_hnode id_node;		/* srv->clients */
	struct state_hnode owner_node;		/* srv->owners */
	atomic_uint	ref;
	struct state_server *srv;		/* const */
	uint64_t	clientid;		/* const */
	uint64_t	owner_hash;		/* const */
	uint32_t	owner_len;		/* const */
	uint8_t		*owner;			/* const */
	char		verifier[NFS4_VERIFIER_SIZE];	/* const */
	struct state_principal principal;	/* const */
	enum state_client_st st;		/* srv->mgmt */

	atomic_uint_fast64_t renew_ns;		/* lease: last renewal */
	atomic_uint	inflight;		/* COMPOUNDs holding a slot */
	atomic_uint	seq_flags;		/* SEQ4_STATUS_* raised by others */
	atomic_uint	cb_ok_sessions;		/* sessions whose cb is not down */
	atomic_uint	cb_minor;		/* CB_COMPOUND minorversion */

	struct mutex	lock;			/* STATE_RANK_CLIENT */
	struct state_session *sessions;		/* lock: list via client_next */
	uint32_t	nsessions;		/* lock */
	/* The CREATE_SESSION "slot" (RFC 8881 §18.36.4): srv->mgmt. */
	uint32_t	cs_seqid;
	bool		cs_cached;
	CREATE_SESSION4resok cs_reply;
	bool		reclaim_complete;	/* lock */
	void		*private[STATE_MAX_HOOKS];
};

/* Drop a client's state: unhash (mgmt held), then hooks and sessions. */
void state_client_unhash_locked(struct state_client *clp);
void state_client_destroy_state(struct state_client *clp);
bool state_client_has_state(struct state_client *clp);
/* Renew the lease (RFC 8881 §8.3): lock-free. */
void state_client_renew(struct state_client *clp);

/* --- sessions --------------------------------------------------------------------- */

enum state_cb_state {
	STATE_CB_NONE = 0,	/* no connection bound for callbacks */
	STATE_CB_PROBING,	/* CB_NULL in flight */
	STATE_CB_UP,
	STATE_CB_DOWN,		/* a call failed or the connection closed */
};

struct state_cb_call;

struct state_cb_slot {
	uint32_t seqid;		/* next seqid to send */
	bool	busy;
};

struct state_session {
	struct state_hnode node;		/* srv->sessions */
	atomic_uint	ref;
	struct state_server *srv;		/* const */
	struct state_client *clp;		/* const; holds a reference */
	struct state_session *client_next;	/* clp->lock */
	char		id[NFS4_SESSIONID_SIZE];	/* const */
	uint64_t	hash;			/* const */
	channel_attrs4	fore;			/* const (ca_rdma_ird empty) */
	channel_attrs4	back;			/* const (ca_rdma_ird empty) */
	uint32_t	flags;			/* const: csr_flags */

	struct mutex	lock;			/* STATE_RANK_SESSION */
	bool		dead;			/* lock */
	struct state_slot_table slots;		/* lock (busy slot: holder) */

	/* back channel, all under lock */
	uint32_t	cb_program;
	struct rpc_cred	cb_cred;
	struct rpc_conn	*cb_conn;		/* reference, or NULL */
	uint64_t	cb_hook_id;		/* close hook on cb_conn */
	uint64_t	cb_conn_gen;		/* bumps on every (re)bind */
	enum state_cb_state cb_state;
	struct state_cb_slot *cb_slots;
	uint32_t	ncb_slots;
	struct state_cb_call *cb_queue_head, *cb_queue_tail;
};

/*
 * Mark the session dead and unhash it; its back channel is shut and queued
 * callbacks fail with -ESHUTDOWN.  Caller holds the client lock (the
 * session is unlinked from the client's list by the caller).
 */
void state_session_kill(struct state_session *ses);
/* Change the back-channel state and keep clp->cb_ok_sessions in step. */
void state_session_set_cb_state_locked(struct state_session *ses,
				       enum state_cb_state st);
/*
 * Bind conn as the session's back channel (replacing an older one) and
 * start a CB_NULL probe.  Session lock not held (it is taken).
 */
void state_session_bind_back(struct state_session *ses, struct rpc_conn *conn);
/* Fail every queued callback of a dead session (lock not held). */
void state_cb_flush(struct state_session *ses);

#endif
