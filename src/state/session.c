/*
 * session.c - sessions (RFC 8881 §2.10): CREATE_SESSION, DESTROY_SESSION,
 * BIND_CONN_TO_SESSION, BACKCHANNEL_CTL and SEQUENCE.
 *
 * SEQUENCE is the hot path: one stripe lock taken shared to find the
 * session, then the session mutex for the slot check.  Nothing global.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"

/*
 * Smallest channel sizes we accept (RFC 8881 §18.36.3 lets the server
 * answer NFS4ERR_TOOSMALL): a fore-channel request must hold an RPC header
 * with an AUTH_SYS credential plus SEQUENCE and one small op; a reply
 * likewise.  A back channel must carry CB_SEQUENCE plus a CB_LAYOUTRECALL.
 */
#define STATE_MIN_REQ_SIZE	256u
#define STATE_MIN_RESP_SIZE	256u
#define STATE_MIN_CB_REQ_SIZE	256u
#define STATE_MIN_CB_RESP_SIZE	128u
/* SEQUENCE plus one op. */
#define STATE_MIN_OPS		2u

static void
session_lock(struct state_session *ses)
{
	state_order_acquire(STATE_RANK_SESSION);
	mutex_lock(&ses->lock);
}

static void
session_unlock(struct state_session *ses)
{
	mutex_unlock(&ses->lock);
	state_order_release(STATE_RANK_SESSION);
}

static void
client_lock(struct state_client *clp)
{
	state_order_acquire(STATE_RANK_CLIENT);
	mutex_lock(&clp->lock);
}

static void
client_unlock(struct state_client *clp)
{
	mutex_unlock(&clp->lock);
	state_order_release(STATE_RANK_CLIENT);
}

/*
 * Take a reference; the caller already holds one.  Lock-free.
 */
void
state_session_get(struct state_session *ses)
{
	unsigned int old = atomic_fetch_add(&ses->ref, 1);

	VERIFY(old > 0);
}

/*
 * Drop a reference; the last one frees the (dead) session and drops its
 * client reference.  Requires: no state locks held.
 */
void
state_session_put(struct state_session *ses)
{
	unsigned int old = atomic_fetch_sub(&ses->ref, 1);

	VERIFY(old > 0);
	if (old != 1)
		return;
	ASSERT(ses->dead);
	ASSERT(!ses->cb_conn && !ses->cb_queue_head);
	state_slot_table_destroy(&ses->slots);
	free(ses->cb_slots);
	mutex_destroy(&ses->lock);
	state_client_put(ses->clp);
	free(ses);
}

/*
 * See state.h.  No locks.
 */
struct state_client *
state_session_client(struct state_session *ses)
{
	return ses->clp;
}

/*
 * See state.h.  No locks.
 */
const char *
state_session_id(const struct state_session *ses)
{
	return ses->id;
}

/*
 * See state.h.  Takes one sessionid stripe (shared): the only table lock
 * on the SEQUENCE path.
 */
nfsstat4
state_session_lookup(struct state_server *srv,
		     const char sessionid[NFS4_SESSIONID_SIZE],
		     struct state_session **out)
{
	uint64_t h = state_hash_bytes(sessionid, NFS4_SESSIONID_SIZE);
	struct state_session *found = NULL;

	state_htab_lock(&srv->sessions, h, LOCK_SHARED);
	for (struct state_hnode *n = *state_htab_bucket(&srv->sessions, h); n;
	     n = n->next) {
		struct state_session *ses =
			container_of(n, struct state_session, node);

		if (!memcmp(ses->id, sessionid, NFS4_SESSIONID_SIZE)) {
			state_session_get(ses);
			found = ses;
			break;
		}
	}
	state_htab_unlock(&srv->sessions, h);
	*out = found;
	return found ? NFS4_OK : NFS4ERR_BADSESSION;
}

/* cb_ok: a back channel that is not known to be broken. */
static bool
cb_state_ok(enum state_cb_state st)
{
	return st == STATE_CB_PROBING || st == STATE_CB_UP;
}

/* Requires ses->lock. */
void
state_session_set_cb_state_locked(struct state_session *ses,
				  enum state_cb_state st)
{
	bool was_ok, now_ok;

	mutex_assert_held(&ses->lock);
	was_ok = cb_state_ok(ses->cb_state);
	now_ok = cb_state_ok(st);
	if (was_ok && !now_ok)
		atomic_fetch_sub(&ses->clp->cb_ok_sessions, 1);
	else if (!was_ok && now_ok)
		atomic_fetch_add(&ses->clp->cb_ok_sessions, 1);
	if (st == STATE_CB_DOWN && ses->cb_state != STATE_CB_DOWN)
		log_info("state: back channel of a session of client %016llx is down",
			 (unsigned long long)ses->clp->clientid);
	ses->cb_state = st;
}

/*
 * Requires: the client lock of ses->clp (the caller unlinks ses from the
 * client's list).  Marks the session dead and unhashes it; the back-channel
 * connection and queued callbacks are dropped by state_cb_flush() after
 * the caller has released its locks.
 */
void
state_session_kill(struct state_session *ses)
{
	struct state_server *srv = ses->srv;

	mutex_assert_held(&ses->clp->lock);
	session_lock(ses);
	VERIFY(!ses->dead);
	ses->dead = true;
	state_session_set_cb_state_locked(ses, STATE_CB_NONE);
	session_unlock(ses);
	state_htab_lock(&srv->sessions, ses->hash, LOCK_EXCL);
	state_htab_remove_locked(&srv->sessions, ses->hash, &ses->node);
	state_htab_unlock(&srv->sessions, ses->hash);
}

/* --- CREATE_SESSION ------------------------------------------------------------ */

/*
 * The first AUTH_NONE or AUTH_SYS entry becomes the callback credential
 * (RFC 8881 §18.36.3: the client lists what it accepts on its callback
 * service).  AUTH_SYS callbacks carry the uid, gid and machine name the
 * client gave us; its supplementary gids are not needed for callbacks.
 */
static nfsstat4
cb_cred_from_parms(const callback_sec_parms4 *parms, uint32_t n,
		   struct rpc_cred *cred)
{
	memset(cred, 0, sizeof(*cred));
	for (uint32_t i = 0; i < n; i++) {
		const authsys_parms4 *sys;

		if (parms[i].cb_secflavor == AUTH_NONE) {
			cred->flavor = AUTH_NONE;
			return NFS4_OK;
		}
		if (parms[i].cb_secflavor != AUTH_SYS)
			continue;
		sys = &parms[i].callback_sec_parms4_u.cbsp_sys_cred;
		cred->flavor = AUTH_SYS;
		cred->uid = sys->uid;
		cred->gid = sys->gid;
		snprintf(cred->machine, sizeof(cred->machine), "%s",
			 sys->machinename ? sys->machinename : "");
		return NFS4_OK;
	}
	/*
	 * An empty list offers no flavour to refuse: callbacks go with
	 * AUTH_NONE (the client said nothing about them; knfsd does the
	 * same).  Only a list of flavours we cannot use is refused.
	 */
	if (n == 0) {
		cred->flavor = AUTH_NONE;
		return NFS4_OK;
	}
	return NFS4ERR_ENCR_ALG_UNSUPP;
}

/*
 * Negotiate one channel's attributes down to our limits (RFC 8881
 * §18.36.3: the server may lower, never raise them).
 */
static nfsstat4
negotiate_fore(const struct state_config *cfg, const channel_attrs4 *in,
	       channel_attrs4 *out)
{
	memset(out, 0, sizeof(*out));
	out->ca_headerpadsize = 0;	/* we never pad */
	out->ca_maxrequestsize = MIN(in->ca_maxrequestsize, cfg->max_req_size);
	out->ca_maxresponsesize = MIN(in->ca_maxresponsesize,
				      cfg->max_resp_size);
	out->ca_maxresponsesize_cached =
		MIN(MIN(in->ca_maxresponsesize_cached, cfg->max_resp_cached),
		    out->ca_maxresponsesize);
	out->ca_maxoperations = MIN(in->ca_maxoperations, cfg->max_ops);
	out->ca_maxrequests = MIN(in->ca_maxrequests, cfg->max_slots);
	if (out->ca_maxrequestsize < STATE_MIN_REQ_SIZE ||
	    out->ca_maxresponsesize < STATE_MIN_RESP_SIZE ||
	    out->ca_maxoperations < STATE_MIN_OPS ||
	    out->ca_maxrequests < 1)
		return NFS4ERR_TOOSMALL;
	return NFS4_OK;
}

static nfsstat4
negotiate_back(const struct state_config *cfg, const channel_attrs4 *in,
	       channel_attrs4 *out)
{
	memset(out, 0, sizeof(*out));
	out->ca_headerpadsize = 0;
	/* What the client accepts bounds what we send: keep its sizes. */
	out->ca_maxrequestsize = in->ca_maxrequestsize;
	out->ca_maxresponsesize = in->ca_maxresponsesize;
	out->ca_maxresponsesize_cached = in->ca_maxresponsesize_cached;
	out->ca_maxoperations = MIN(in->ca_maxoperations, cfg->max_ops);
	out->ca_maxrequests = MIN(in->ca_maxrequests, cfg->max_cb_slots);
	/*
	 * Checked whether or not this connection becomes the back channel:
	 * a later BIND_CONN_TO_SESSION may make one, and the attributes are
	 * the session's (pynfs CSESS29, as knfsd).
	 */
	if (out->ca_maxrequestsize < STATE_MIN_CB_REQ_SIZE ||
	    out->ca_maxresponsesize < STATE_MIN_CB_RESP_SIZE ||
	    out->ca_maxoperations < STATE_MIN_OPS ||
	    out->ca_maxrequests < 1)
		return NFS4ERR_TOOSMALL;
	return NFS4_OK;
}

static int
session_alloc(struct state_server *srv, struct state_client *clp,
	      const channel_attrs4 *fore, const channel_attrs4 *back,
	      struct state_session **out)
{
	struct state_session *ses;
	uint32_t n;
	int err;

	ses = calloc(1, sizeof(*ses));
	if (!ses)
		return -ENOMEM;
	err = state_slot_table_init(&ses->slots, fore->ca_maxrequests,
				    fore->ca_maxresponsesize_cached);
	if (err)
		goto out_free;
	ses->ncb_slots = MAX(back->ca_maxrequests, 1u);
	ses->cb_slots = calloc(ses->ncb_slots, sizeof(*ses->cb_slots));
	if (!ses->cb_slots) {
		err = -ENOMEM;
		goto out_slots;
	}
	for (uint32_t i = 0; i < ses->ncb_slots; i++)
		ses->cb_slots[i].seqid = 1;	/* first CB_SEQUENCE: 1 */
	ses->srv = srv;
	ses->clp = clp;
	state_client_get(clp);
	ses->fore = *fore;
	ses->back = *back;
	/*
	 * sessionid: clientid, a server-wide counter, and the boot epoch, so
	 * ids never repeat within or across server instances.
	 */
	n = atomic_fetch_add(&srv->next_sessionid, 1) + 1;
	memcpy(ses->id, &clp->clientid, 8);
	memcpy(ses->id + 8, &n, 4);
	memcpy(ses->id + 12, &srv->boot_epoch, 4);
	ses->hash = state_hash_bytes(ses->id, NFS4_SESSIONID_SIZE);
	atomic_init(&ses->ref, 1);	/* the live reference */
	mutex_init(&ses->lock, "state-session");
	ses->cb_state = STATE_CB_NONE;
	*out = ses;
	return 0;

out_slots:
	state_slot_table_destroy(&ses->slots);
out_free:
	free(ses);
	return err;
}

/* Remove the confirmed record that clp (unconfirmed) replaces (case 4). */
static struct state_client *
replaced_record_locked(struct state_server *srv, struct state_client *clp)
{
	uint64_t h = clp->owner_hash;
	struct state_client *old = NULL;

	mutex_assert_held(&srv->mgmt);
	state_htab_lock(&srv->owners, h, LOCK_SHARED);
	for (struct state_hnode *n = *state_htab_bucket(&srv->owners, h); n;
	     n = n->next) {
		struct state_client *c =
			container_of(n, struct state_client, owner_node);

		if (c != clp && c->st == STATE_CLIENT_CONFIRMED &&
		    c->owner_len == clp->owner_len &&
		    !memcmp(c->owner, clp->owner, c->owner_len)) {
			old = c;
			break;
		}
	}
	state_htab_unlock(&srv->owners, h);
	if (old)
		state_client_unhash_locked(old);
	return old;
}

/*
 * See state.h (RFC 8881 §18.36.4).  Takes the mgmt mutex, then the client
 * lock; binds and probes the back channel after dropping them.
 */
nfsstat4
state_create_session(struct state_server *srv, const CREATE_SESSION4args *args,
		     const struct rpc_cred *cred, struct rpc_conn *conn,
		     CREATE_SESSION4resok *resok)
{
	bool want_back = args->csa_flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	struct state_client *clp, *old = NULL;
	struct state_session *ses = NULL;
	channel_attrs4 fore, back;
	struct rpc_cred cb_cred;
	uint32_t nsessions;
	nfsstat4 status;

	state_order_acquire(STATE_RANK_MGMT);
	mutex_lock(&srv->mgmt);
	status = state_client_lookup(srv, args->csa_clientid, &clp);
	if (status != NFS4_OK)
		goto out_unlock;
	/*
	 * §18.36.4: the principal that confirms an unconfirmed record must
	 * be the one that sent EXCHANGE_ID; once confirmed, SP4_NONE lets
	 * any principal create sessions (pynfs CSESS10, as knfsd).
	 */
	if (clp->st == STATE_CLIENT_UNCONFIRMED &&
	    (clp->principal.flavor != (cred ? cred->flavor : 0) ||
	     (cred && cred->flavor == AUTH_SYS &&
	      clp->principal.uid != cred->uid))) {
		status = NFS4ERR_CLID_INUSE;
		goto out_put;
	}
	/* §18.36.3: only the defined flags (PERSIST, CONN_BACK_CHAN, RDMA). */
	if (args->csa_flags & ~(uint32_t)(CREATE_SESSION4_FLAG_PERSIST |
					  CREATE_SESSION4_FLAG_CONN_BACK_CHAN |
					  CREATE_SESSION4_FLAG_CONN_RDMA)) {
		status = NFS4ERR_INVAL;
		goto out_put;
	}
	/* §18.36.4: the client record's one-slot CREATE_SESSION cache. */
	if (args->csa_sequence == clp->cs_seqid && clp->cs_cached) {
		*resok = clp->cs_reply;
		status = NFS4_OK;
		goto out_put;
	}
	if (args->csa_sequence != (uint32_t)(clp->cs_seqid + 1u)) {
		status = NFS4ERR_SEQ_MISORDERED;
		goto out_put;
	}
	client_lock(clp);
	nsessions = clp->nsessions;
	client_unlock(clp);
	/*
	 * A DESTROY_SESSION may lower the count meanwhile, never raise it:
	 * only CREATE_SESSION adds, under mgmt, which we hold.
	 */
	if (nsessions >= srv->cfg.max_sessions) {
		status = NFS4ERR_DELAY;
		goto out_put;
	}
	/* Channel sizes first: a too-small channel is TOOSMALL whatever the
	 * callback security says (pynfs CSESS28). */
	status = negotiate_fore(&srv->cfg, &args->csa_fore_chan_attrs, &fore);
	if (status != NFS4_OK)
		goto out_put;
	status = negotiate_back(&srv->cfg, &args->csa_back_chan_attrs, &back);
	if (status != NFS4_OK)
		goto out_put;
	status = cb_cred_from_parms(args->csa_sec_parms.csa_sec_parms_val,
				    args->csa_sec_parms.csa_sec_parms_len,
				    &cb_cred);
	if (status != NFS4_OK)
		goto out_put;
	if (session_alloc(srv, clp, &fore, &back, &ses)) {
		status = NFS4ERR_SERVERFAULT;
		goto out_put;
	}
	ses->cb_program = args->csa_cb_program;
	ses->cb_cred = cb_cred;
	/* We offer neither persistent reply caches nor RDMA. */
	ses->flags = args->csa_flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN;

	if (clp->st == STATE_CLIENT_UNCONFIRMED) {
		old = replaced_record_locked(srv, clp);
		clp->st = STATE_CLIENT_CONFIRMED;
	}
	clp->cs_seqid = args->csa_sequence;

	memset(resok, 0, sizeof(*resok));
	memcpy(resok->csr_sessionid, ses->id, NFS4_SESSIONID_SIZE);
	resok->csr_sequence = args->csa_sequence;
	resok->csr_flags = ses->flags;
	resok->csr_fore_chan_attrs = fore;
	resok->csr_back_chan_attrs = back;
	clp->cs_reply = *resok;
	clp->cs_cached = true;

	client_lock(clp);
	ses->client_next = clp->sessions;
	clp->sessions = ses;
	clp->nsessions++;
	state_htab_lock(&srv->sessions, ses->hash, LOCK_EXCL);
	state_htab_insert_locked(&srv->sessions, ses->hash, &ses->node);
	state_htab_unlock(&srv->sessions, ses->hash);
	client_unlock(clp);
	state_client_renew(clp);
	/* Hold the session past mgmt for the back-channel bind below. */
	state_session_get(ses);
out_put:
	state_client_put(clp);
out_unlock:
	mutex_unlock(&srv->mgmt);
	state_order_release(STATE_RANK_MGMT);
	if (old) {
		state_client_destroy_state(old);
		state_client_put(old);
	}
	if (ses && status == NFS4_OK) {
		if (want_back && conn)
			state_session_bind_back(ses, conn);
		state_session_put(ses);
	}
	return status;
}

/* --- DESTROY_SESSION, BIND_CONN_TO_SESSION, BACKCHANNEL_CTL ----------------- */

/*
 * See state.h (RFC 8881 §18.37.3).  Takes the client lock, then the
 * session lock.
 */
nfsstat4
state_destroy_session(struct state_server *srv,
		      const char sessionid[NFS4_SESSIONID_SIZE],
		      struct state_session *in_compound_of)
{
	struct state_session *ses, **pp;
	struct state_client *clp;
	uint32_t busy;
	nfsstat4 status;

	status = state_session_lookup(srv, sessionid, &ses);
	if (status != NFS4_OK)
		return status;
	clp = ses->clp;
	client_lock(clp);
	session_lock(ses);
	busy = state_slot_busy_count(&ses->slots);
	if (ses == in_compound_of && busy)
		busy--;		/* our own COMPOUND's slot */
	if (ses->dead)
		status = NFS4ERR_BADSESSION;
	else if (busy)
		status = NFS4ERR_DELAY;	/* §18.37.3: requests in progress */
	session_unlock(ses);
	if (status != NFS4_OK) {
		client_unlock(clp);
		state_session_put(ses);
		return status;
	}
	for (pp = &clp->sessions; *pp; pp = &(*pp)->client_next) {
		if (*pp == ses) {
			*pp = ses->client_next;
			ses->client_next = NULL;
			clp->nsessions--;
			break;
		}
	}
	state_session_kill(ses);
	client_unlock(clp);
	state_cb_flush(ses);
	state_session_put(ses);		/* the live reference */
	state_session_put(ses);		/* ours */
	return NFS4_OK;
}

/*
 * See state.h (RFC 8881 §18.34.3).  Takes the session lock (inside
 * state_session_bind_back()).
 */
nfsstat4
state_bind_conn(struct state_server *srv, const BIND_CONN_TO_SESSION4args *args,
		struct rpc_conn *conn, BIND_CONN_TO_SESSION4resok *resok)
{
	struct state_session *ses;
	channel_dir_from_server4 dir;
	bool back;
	nfsstat4 status;

	status = state_session_lookup(srv, args->bctsa_sessid, &ses);
	if (status != NFS4_OK)
		return status;
	/*
	 * §18.34.3: "*_OR_BOTH" lets us choose; we always take both, so a
	 * client that binds a new connection gets its back channel too.
	 */
	switch (args->bctsa_dir) {
	case CDFC4_FORE:
		dir = CDFS4_FORE;
		back = false;
		break;
	case CDFC4_BACK:
		dir = CDFS4_BACK;
		back = true;
		break;
	case CDFC4_FORE_OR_BOTH:
	case CDFC4_BACK_OR_BOTH:
		dir = CDFS4_BOTH;
		back = true;
		break;
	default:
		state_session_put(ses);
		return NFS4ERR_INVAL;
	}
	memset(resok, 0, sizeof(*resok));
	memcpy(resok->bctsr_sessid, ses->id, NFS4_SESSIONID_SIZE);
	resok->bctsr_dir = dir;
	resok->bctsr_use_conn_in_rdma_mode = FALSE;
	state_client_renew(ses->clp);
	if (back && conn)
		state_session_bind_back(ses, conn);
	state_session_put(ses);
	return NFS4_OK;
}

/*
 * See state.h (RFC 8881 §18.33.3).  Takes the session lock.
 */
nfsstat4
state_backchannel_ctl(struct state_session *ses,
		      const BACKCHANNEL_CTL4args *args)
{
	struct rpc_cred cred;
	nfsstat4 status;

	status = cb_cred_from_parms(args->bca_sec_parms.bca_sec_parms_val,
				    args->bca_sec_parms.bca_sec_parms_len,
				    &cred);
	if (status != NFS4_OK)
		return status;
	session_lock(ses);
	ses->cb_program = args->bca_cb_program;
	ses->cb_cred = cred;
	session_unlock(ses);
	return NFS4_OK;
}

/* --- SEQUENCE ------------------------------------------------------------------ */

/*
 * See state.h (RFC 8881 §18.46.3, §2.10.6.1).  Takes one stripe (shared)
 * and the session lock; no global lock.
 */
nfsstat4
state_sequence(struct state_server *srv, const SEQUENCE4args *args,
	       const struct state_seq_req *req, SEQUENCE4resok *resok,
	       struct state_seq *seq)
{
	struct state_session *ses;
	struct state_client *clp;
	struct state_slot *slot;
	uint32_t flags = 0;
	bool replay;
	nfsstat4 status;

	memset(seq, 0, sizeof(*seq));
	status = state_session_lookup(srv, args->sa_sessionid, &ses);
	if (status != NFS4_OK)
		return status;
	clp = ses->clp;
	/* §18.46.3: limits negotiated at CREATE_SESSION. */
	if (req->opcnt > ses->fore.ca_maxoperations) {
		status = NFS4ERR_TOO_MANY_OPS;
		goto out_put;
	}
	if (req->req_len > ses->fore.ca_maxrequestsize) {
		status = NFS4ERR_REQ_TOO_BIG;
		goto out_put;
	}
	session_lock(ses);
	if (ses->dead) {
		status = NFS4ERR_BADSESSION;
		goto out_unlock;
	}
	status = state_slot_check(&ses->slots, args->sa_slotid,
				  args->sa_sequenceid, &replay);
	if (status != NFS4_OK)
		goto out_unlock;
	if (replay) {
		/* §2.10.6.1.3: send the cached reply, byte for byte. */
		slot = &ses->slots.slots[args->sa_slotid];
		seq->replay_buf = malloc(slot->len ? slot->len : 1);
		if (!seq->replay_buf) {
			status = NFS4ERR_DELAY;
			goto out_unlock;
		}
		memcpy(seq->replay_buf, slot->buf, slot->len);
		seq->replay_len = slot->len;
		seq->replay = true;
		session_unlock(ses);
		state_client_renew(clp);
		seq->ses = ses;		/* our lookup reference */
		return NFS4_OK;
	}
	state_slot_begin(&ses->slots, args->sa_slotid, args->sa_sequenceid);
	atomic_fetch_add(&clp->inflight, 1);
	if (!cb_state_ok(ses->cb_state))
		flags |= SEQ4_STATUS_CB_PATH_DOWN_SESSION;
	session_unlock(ses);

	state_client_renew(clp);
	if (atomic_load(&clp->cb_ok_sessions) == 0)
		flags |= SEQ4_STATUS_CB_PATH_DOWN;
	flags |= atomic_load(&clp->seq_flags);

	memcpy(resok->sr_sessionid, ses->id, NFS4_SESSIONID_SIZE);
	resok->sr_sequenceid = args->sa_sequenceid;
	resok->sr_slotid = args->sa_slotid;
	resok->sr_highest_slotid = ses->slots.nslots - 1;
	resok->sr_target_highest_slotid = ses->slots.nslots - 1;
	resok->sr_status_flags = flags;

	seq->ses = ses;
	seq->slotid = args->sa_slotid;
	seq->seqid = args->sa_sequenceid;
	seq->cachethis = args->sa_cachethis;
	seq->max_resp = ses->fore.ca_maxresponsesize;
	seq->max_resp_cached = ses->fore.ca_maxresponsesize_cached;
	return NFS4_OK;

out_unlock:
	session_unlock(ses);
out_put:
	state_session_put(ses);
	return status;
}

/*
 * See state.h.  No lock: the caller owns the busy slot.
 */
void *
state_seq_cache_buf(struct state_seq *seq, uint32_t len)
{
	VERIFY(seq->ses && !seq->replay);
	/*
	 * No lock: the slot is busy and we hold it; only the holder touches
	 * a busy slot's buffer (retries get NFS4ERR_DELAY).
	 */
	return state_slot_buf(&seq->ses->slots, seq->slotid, len);
}

/*
 * See state.h.  Takes the session lock.  Drops seq's session reference.
 */
void
state_sequence_done(struct state_seq *seq, bool cached, uint32_t len)
{
	struct state_session *ses = seq->ses;

	if (!ses)
		return;
	if (seq->replay) {
		free(seq->replay_buf);
		seq->replay_buf = NULL;
	} else {
		session_lock(ses);
		state_slot_end(&ses->slots, seq->slotid, cached, len);
		session_unlock(ses);
		/* The lease runs from the end of the request (§8.3). */
		state_client_renew(ses->clp);
		atomic_fetch_sub(&ses->clp->inflight, 1);
	}
	seq->ses = NULL;
	state_session_put(ses);
}
