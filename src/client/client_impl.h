/*
 * client_impl.h - the client library's private structures, shared by
 * conn.c (sockets, calls, the receive thread), session.c (EXCHANGE_ID,
 * CREATE_SESSION, slots) and cb.c (the back channel).
 *
 * Locking: conn->lock protects the pending-call table, the closed state,
 * the credential, the back-channel configuration and the statistics;
 * conn->send_lock serialises whole records on the socket and is taken
 * after conn->lock is released (never both).  The back-channel slot table
 * (conn->cb) is written by the receive thread under conn->lock.  sess->lock
 * protects the fore-channel slot table.  Order: sess->lock before
 * conn->lock; neither is held while sending.
 * Ownership: see nfsclient.h.
 */
#ifndef PMEMNFS_CLIENT_IMPL_H
#define PMEMNFS_CLIENT_IMPL_H

#include <pthread.h>

#include "nfsclient.h"
#include "rpc.h"

/* RFC 5531 §8.2: an opaque_auth body is at most 400 bytes. */
#define NC_MAX_AUTH_BYTES	400u

/* Pending calls hash by xid; the benchmark keeps a few hundred in flight. */
#define NC_PENDING_BUCKETS	256

struct nc_call {
	struct nc_conn	*conn;
	struct nc_call	*hnext;		/* pending-table chain */
	uint32_t	xid;
	bool		pending;	/* in conn's table (under conn->lock) */
	bool		completed;	/* reply or error recorded */
	int		err;
	uint8_t		*reply;
	uint32_t	reply_len;
	nc_done_fn	done;
	void		*ctx;
	/*
	 * Runs on the receive thread with conn->lock held, after the reply is
	 * attached and before anything after it on the stream is read: lets
	 * CREATE_SESSION / BIND_CONN_TO_SESSION bind the back channel before
	 * the server's first callback (which may follow the reply at once) is
	 * looked at.  Such calls have no done function; ctx is the hook's.
	 */
	void		(*peek_locked)(struct nc_call *call);
};

/* One back-channel slot: the last seqid answered and its reply (§2.10.6.1). */
struct nc_cb_slot {
	sequenceid4	seqid;
	uint8_t		*cached;	/* CB_COMPOUND4res body bytes */
	uint32_t	cached_len;
};

struct nc_cb_chan {
	bool		bound;		/* a session uses this conn for callbacks */
	sessionid4	sessionid;
	uint32_t	nslots;		/* negotiated back-channel ca_maxrequests */
	struct nc_cb_slot slots[NC_MAX_CB_SLOTS];
};

/*
 * A registered CB_GETATTR answer (nc_conn_set_cb_getattr): the filehandle
 * and the fattr4 already encoded, so the receive thread only copies it.
 */
struct nc_cb_getattr_ent {
	struct nc_cb_getattr_ent *next;
	uint32_t	fhlen;
	uint8_t		fh[NFS4_FHSIZE];
	uint32_t	nwords;		/* attrmask words sent */
	uint32_t	mask[NC_CB_ATTR_WORDS];
	uint32_t	vals_len;	/* unpadded */
	uint8_t		vals[NC_CB_ATTR_VALS_MAX];
};

/* A callback reply held back by the test (NC_CB_DEFER). */
struct nc_deferred {
	struct nc_deferred *next;
	uint32_t	len;
	uint8_t		msg[];		/* the whole RPC reply */
};

struct nc_conn {
	int		fd;
	pthread_t	rx;
	bool		rx_started;
	struct mutex	lock;
	struct mutex	send_lock;
	struct condvar	cond;		/* completions, close, callbacks */
	uint32_t	next_xid;
	struct nc_call	*pending[NC_PENDING_BUCKETS];
	bool		closed;
	int		close_err;

	/* credential (owned copies) */
	uint32_t	cred_flavor;
	uint32_t	cred_stamp;
	char		*cred_machine;
	uint32_t	cred_uid, cred_gid;
	uint32_t	cred_ngids;
	uint32_t	*cred_gids;

	/* back channel */
	bool		cb_silent;	/* drop all incoming calls */
	bool		cb_program_set;
	uint32_t	cb_program;
	nc_cb_hook_fn	cb_hook;
	void		*cb_hook_ctx;
	struct nc_cb_chan cb;
	struct nc_deferred *deferred;	/* NC_CB_DEFER replies, newest first */
	struct nc_cb_getattr_ent *cb_getattr;	/* registered answers */
	struct nc_cb_stats stats;

	struct rpc_record_reader rr;	/* receive thread only */
};

struct nc_fore_slot {
	bool		busy;
	sequenceid4	seqid;		/* next seqid to send on this slot */
};

struct nc_session {
	struct nc_conn	*conn;
	struct mutex	lock;
	struct condvar	cond;		/* a slot was released */
	struct nc_session_info info;
	uint32_t	nslots;
	slotid4		target_highest;	/* server's sr_target_highest_slotid */
	struct nc_fore_slot slots[NC_MAX_SLOTS];
};

/*
 * Handle an incoming CALL record on the back channel (receive thread).
 * Takes and drops c->lock itself; called with no lock held.
 */
void nc_cb_handle_call(struct nc_conn *c, const uint8_t *rec, uint32_t len);
/*
 * Start a call like nc_call_start() with a peek_locked hook (see struct
 * nc_call).  Internal to the library.
 */
int nc_call_start_peek(struct nc_conn *c, uint32_t prog, uint32_t vers,
		       uint32_t proc, xdrproc_t enc, const void *args,
		       void (*peek_locked)(struct nc_call *call),
		       void *peek_ctx, struct nc_call **out) MUST_CHECK;
/* Bind c's back channel to a session; caller holds c->lock. */
void nc_cb_bind_locked(struct nc_conn *c, const sessionid4 sid,
		       uint32_t nslots);
/* Forget the binding if it is for sid. */
void nc_cb_unbind(struct nc_conn *c, const sessionid4 sid);
/* Free cached callback replies and CB_GETATTR answers (conn teardown). */
void nc_cb_free(struct nc_conn *c);

/* Big-endian helpers for hand-parsed headers. */
static inline uint32_t
nc_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void
nc_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
