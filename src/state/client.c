/*
 * client.c - the state server, client records (EXCHANGE_ID, RFC 8881
 * §18.35), DESTROY_CLIENTID, RECLAIM_COMPLETE, leases and their reaper.
 *
 * Client records change only under srv->mgmt, so EXCHANGE_ID sees a
 * consistent picture of the confirmed and unconfirmed records of one
 * co_ownerid.  Lookups by clientid (CREATE_SESSION, DESTROY_CLIENTID) and
 * the SEQUENCE path do not take mgmt.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "state_int.h"

/*
 * The reaper wakes every lease/4, within these bounds: often enough that a
 * short test lease expires promptly, rarely enough that scanning 100,000
 * clients stays far below 1% of a core.
 */
#define STATE_REAPER_MIN_MS	100u
#define STATE_REAPER_MAX_MS	5000u
/*
 * eia_flags a client may send (RFC 5662's EXCHGID4_FLAG_MASK_A plus
 * SUPP_FENCE_OPS): the _R bits are the server's alone (§18.35.3).
 */
#define STATE_EXCHGID_FLAGS_A \
	(EXCHGID4_FLAG_SUPP_MOVED_REFER | EXCHGID4_FLAG_SUPP_MOVED_MIGR | \
	 EXCHGID4_FLAG_SUPP_FENCE_OPS | EXCHGID4_FLAG_BIND_PRINC_STATEID | \
	 EXCHGID4_FLAG_MASK_PNFS | EXCHGID4_FLAG_UPD_CONFIRMED_REC_A)
/* Clients expired per mgmt-lock hold, so EXCHANGE_ID never waits long. */
#define STATE_EXPIRE_BATCH	64u

/*
 * See state.h.  No locks.
 */
void
state_config_defaults(struct state_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->lease_sec = STATE_LEASE_DEFAULT_SEC;
	cfg->grace_sec = STATE_GRACE_DEFAULT_SEC;
	cfg->max_slots = STATE_MAX_SLOTS_DEFAULT;
	cfg->max_cb_slots = STATE_MAX_CB_SLOTS_DEFAULT;
	cfg->max_clients = STATE_MAX_CLIENTS_DEFAULT;
	cfg->max_sessions = STATE_MAX_SESSIONS_DEFAULT;
	cfg->max_ops = STATE_MAX_OPS_DEFAULT;
	cfg->max_req_size = STATE_MAX_REQ_DEFAULT;
	cfg->max_resp_size = STATE_MAX_RESP_DEFAULT;
	cfg->max_resp_cached = STATE_MAX_RESP_CACHED_DEFAULT;
	cfg->cb_timeout_ms = STATE_CB_TIMEOUT_DEFAULT_MS;
	cfg->server_owner = NULL;
	cfg->start_reaper = true;
}

/*
 * The effective configuration (server_owner filled in).  No locks.
 */
const struct state_config *
state_server_config(const struct state_server *srv)
{
	return &srv->cfg;
}

/* --- references ------------------------------------------------------------ */

/*
 * Take a reference; the caller already holds one.  Lock-free.
 */
void
state_client_get(struct state_client *clp)
{
	unsigned int old = atomic_fetch_add(&clp->ref, 1);

	VERIFY(old > 0);
}

/*
 * Drop a reference; the last one frees the record (unhashed by then).
 * Lock-free; no state lock may be held by the caller for the free path.
 */
void
state_client_put(struct state_client *clp)
{
	unsigned int old = atomic_fetch_sub(&clp->ref, 1);

	VERIFY(old > 0);
	if (old != 1)
		return;
	ASSERT(clp->nsessions == 0);
	mutex_destroy(&clp->lock);
	free(clp->owner);
	free(clp);
}

/*
 * The clientid.  Constant; no locks.
 */
uint64_t
state_client_id(const struct state_client *clp)
{
	return clp->clientid;
}

/*
 * See state.h.  No locks: the owning subsystem serialises its slot.
 */
void **
state_client_private(struct state_client *clp, unsigned int idx)
{
	VERIFY(idx < STATE_MAX_HOOKS);
	return &clp->private[idx];
}

/*
 * See state.h.  Lock-free.
 */
void
state_client_set_seq_flags(struct state_client *clp, uint32_t bits)
{
	atomic_fetch_or(&clp->seq_flags, bits);
}

/*
 * See state.h.  Lock-free.
 */
void
state_client_clear_seq_flags(struct state_client *clp, uint32_t bits)
{
	atomic_fetch_and(&clp->seq_flags, ~bits);
}

/*
 * See state.h.  Lock-free.
 */
void
state_client_set_minor(struct state_client *clp, uint32_t minor)
{
	atomic_store(&clp->cb_minor, minor);
}

/*
 * See state_int.h.  Lock-free: the lease is one atomic timestamp.
 */
void
state_client_renew(struct state_client *clp)
{
	atomic_store_explicit(&clp->renew_ns, clock_now_ns(),
			      memory_order_relaxed);
}

/*
 * See state.h.  Takes the mgmt mutex.
 */
int
state_register_client_hooks(struct state_server *srv,
			    const struct state_client_hooks *hooks)
{
	int idx;

	mutex_lock(&srv->mgmt);
	if (srv->nhooks >= STATE_MAX_HOOKS) {
		mutex_unlock(&srv->mgmt);
		return -ENOSPC;
	}
	idx = (int)srv->nhooks;
	srv->hooks[srv->nhooks++] = *hooks;
	mutex_unlock(&srv->mgmt);
	return idx;
}

/* --- lookups ---------------------------------------------------------------- */

static void
mgmt_lock(struct state_server *srv)
{
	state_order_acquire(STATE_RANK_MGMT);
	mutex_lock(&srv->mgmt);
}

static void
mgmt_unlock(struct state_server *srv)
{
	mutex_unlock(&srv->mgmt);
	state_order_release(STATE_RANK_MGMT);
}

/* Find by clientid; returns a reference or NULL.  Any lock but a stripe. */
static struct state_client *
client_find(struct state_server *srv, uint64_t clientid)
{
	uint64_t h = state_hash_u64(clientid);
	struct state_client *found = NULL;

	state_htab_lock(&srv->clients, h, LOCK_SHARED);
	for (struct state_hnode *n = *state_htab_bucket(&srv->clients, h); n;
	     n = n->next) {
		struct state_client *clp =
			container_of(n, struct state_client, id_node);

		if (clp->clientid == clientid) {
			state_client_get(clp);
			found = clp;
			break;
		}
	}
	state_htab_unlock(&srv->clients, h);
	return found;
}

/*
 * See state.h.  Takes one clientid stripe (shared); any other state
 * lock may be held.
 */
nfsstat4
state_client_lookup(struct state_server *srv, uint64_t clientid,
		    struct state_client **out)
{
	*out = client_find(srv, clientid);
	return *out ? NFS4_OK : NFS4ERR_STALE_CLIENTID;
}

/*
 * The confirmed and unconfirmed records of an owner.  Requires srv->mgmt:
 * records are only hashed and unhashed under it, so the pointers stay
 * valid (without references) until mgmt is dropped.
 */
static void
owner_find_locked(struct state_server *srv, const void *owner, uint32_t len,
		  struct state_client **conf, struct state_client **unconf)
{
	uint64_t h = state_hash_bytes(owner, len);

	mutex_assert_held(&srv->mgmt);
	*conf = *unconf = NULL;
	state_htab_lock(&srv->owners, h, LOCK_SHARED);
	for (struct state_hnode *n = *state_htab_bucket(&srv->owners, h); n;
	     n = n->next) {
		struct state_client *clp =
			container_of(n, struct state_client, owner_node);

		if (clp->owner_len != len || memcmp(clp->owner, owner, len))
			continue;
		if (clp->st == STATE_CLIENT_CONFIRMED)
			*conf = clp;
		else if (clp->st == STATE_CLIENT_UNCONFIRMED)
			*unconf = clp;
	}
	state_htab_unlock(&srv->owners, h);
}

/* --- life cycle ---------------------------------------------------------------- */

static void
principal_of(const struct rpc_cred *cred, struct state_principal *p)
{
	p->flavor = cred ? cred->flavor : 0;
	p->uid = (cred && cred->flavor == AUTH_SYS) ? cred->uid : 0;
}

static bool
principal_eq(const struct state_principal *a, const struct state_principal *b)
{
	return a->flavor == b->flavor && a->uid == b->uid;
}

/* Allocate and hash an unconfirmed record.  Requires srv->mgmt. */
static int
client_new_locked(struct state_server *srv, const EXCHANGE_ID4args *args,
		  const struct state_principal *pr, struct state_client **out)
{
	const client_owner4 *co = &args->eia_clientowner;
	struct state_client *clp;
	uint32_t seq;

	mutex_assert_held(&srv->mgmt);
	clp = calloc(1, sizeof(*clp));
	if (!clp)
		return -ENOMEM;
	clp->owner = malloc(co->co_ownerid.co_ownerid_len ?
			    co->co_ownerid.co_ownerid_len : 1);
	if (!clp->owner) {
		free(clp);
		return -ENOMEM;
	}
	memcpy(clp->owner, co->co_ownerid.co_ownerid_val,
	       co->co_ownerid.co_ownerid_len);
	clp->owner_len = co->co_ownerid.co_ownerid_len;
	clp->owner_hash = state_hash_bytes(clp->owner, clp->owner_len);
	memcpy(clp->verifier, co->co_verifier, sizeof(clp->verifier));
	clp->principal = *pr;
	clp->srv = srv;
	/*
	 * The boot epoch in the high half makes ids of an earlier server
	 * instance unknown (NFS4ERR_STALE_CLIENTID) instead of ambiguous.
	 */
	seq = atomic_fetch_add(&srv->next_clientid, 1) + 1;
	clp->clientid = ((uint64_t)srv->boot_epoch << 32) | seq;
	clp->st = STATE_CLIENT_UNCONFIRMED;
	clp->cs_seqid = 0;	/* eir_sequenceid 1 (RFC 8881 §18.35.4) */
	atomic_init(&clp->ref, 1);	/* the tables' reference */
	atomic_init(&clp->inflight, 0);
	atomic_init(&clp->seq_flags, 0);
	atomic_init(&clp->cb_ok_sessions, 0);
	atomic_init(&clp->cb_minor, 1);
	atomic_init(&clp->renew_ns, clock_now_ns());
	mutex_init(&clp->lock, "state-client");

	state_htab_lock(&srv->clients, state_hash_u64(clp->clientid),
			LOCK_EXCL);
	state_htab_insert_locked(&srv->clients, state_hash_u64(clp->clientid),
				 &clp->id_node);
	state_htab_unlock(&srv->clients, state_hash_u64(clp->clientid));
	state_htab_lock(&srv->owners, clp->owner_hash, LOCK_EXCL);
	state_htab_insert_locked(&srv->owners, clp->owner_hash,
				 &clp->owner_node);
	state_htab_unlock(&srv->owners, clp->owner_hash);
	*out = clp;
	return 0;
}

/*
 * Make the record unreachable by lookups.  Requires srv->mgmt.  The tables'
 * reference is now the caller's: it must call state_client_destroy_state()
 * and then state_client_put().
 */
void
state_client_unhash_locked(struct state_client *clp)
{
	struct state_server *srv = clp->srv;
	uint64_t h = state_hash_u64(clp->clientid);

	mutex_assert_held(&srv->mgmt);
	VERIFY(clp->st != STATE_CLIENT_DEAD);
	state_htab_lock(&srv->clients, h, LOCK_EXCL);
	state_htab_remove_locked(&srv->clients, h, &clp->id_node);
	state_htab_unlock(&srv->clients, h);
	state_htab_lock(&srv->owners, clp->owner_hash, LOCK_EXCL);
	state_htab_remove_locked(&srv->owners, clp->owner_hash,
				 &clp->owner_node);
	state_htab_unlock(&srv->owners, clp->owner_hash);
	clp->st = STATE_CLIENT_DEAD;
}

/*
 * Whether a client holds state that a principal collision or
 * DESTROY_CLIENTID must not throw away: sessions, or state of a hook.
 * Requires srv->mgmt (hooks' has_state run under it).
 */
bool
state_client_has_state(struct state_client *clp)
{
	struct state_server *srv = clp->srv;
	uint32_t nsessions;

	mutex_assert_held(&srv->mgmt);
	state_order_acquire(STATE_RANK_CLIENT);
	mutex_lock(&clp->lock);
	nsessions = clp->nsessions;
	mutex_unlock(&clp->lock);
	state_order_release(STATE_RANK_CLIENT);
	if (nsessions)
		return true;
	for (unsigned int i = 0; i < srv->nhooks; i++)
		if (srv->hooks[i].has_state &&
		    srv->hooks[i].has_state(clp, srv->hooks[i].ctx))
			return true;
	return false;
}

/*
 * Tear down an unhashed client's sessions and let every subsystem free its
 * state (RFC 8881 §8.3: an expired lease loses all of it).  Requires: no
 * state locks held; clp is DEAD.
 */
void
state_client_destroy_state(struct state_client *clp)
{
	struct state_server *srv = clp->srv;
	struct state_session *list, *ses, *next;

	VERIFY(clp->st == STATE_CLIENT_DEAD);
	ASSERT(state_order_top() == 0);
	state_order_acquire(STATE_RANK_CLIENT);
	mutex_lock(&clp->lock);
	list = clp->sessions;
	clp->sessions = NULL;
	clp->nsessions = 0;
	for (ses = list; ses; ses = ses->client_next)
		state_session_kill(ses);
	mutex_unlock(&clp->lock);
	state_order_release(STATE_RANK_CLIENT);

	for (ses = list; ses; ses = next) {
		next = ses->client_next;
		ses->client_next = NULL;
		state_cb_flush(ses);
		state_session_put(ses);	/* the live reference */
	}
	for (unsigned int i = 0; i < srv->nhooks; i++)
		if (srv->hooks[i].expire)
			srv->hooks[i].expire(clp, srv->hooks[i].ctx);
}

/* Unhash under mgmt, then destroy after it: the common removal path. */
static void
client_remove_locked(struct state_client *clp, struct state_client **dead)
{
	state_client_unhash_locked(clp);
	*dead = clp;
}

static void
client_reap(struct state_client *dead)
{
	if (!dead)
		return;
	state_client_destroy_state(dead);
	state_client_put(dead);
}

/* --- EXCHANGE_ID ------------------------------------------------------------ */

/*
 * The client record cases of RFC 8881 §18.35.5, in the order the RFC lists
 * them.  "conf"/"unconf" are the owner's confirmed/unconfirmed records.
 */
nfsstat4
state_exchange_id(struct state_server *srv, const EXCHANGE_ID4args *args,
		  const struct rpc_cred *cred, EXCHANGE_ID4resok *resok)
{
	const client_owner4 *co = &args->eia_clientowner;
	struct state_client *conf, *unconf, *ret = NULL;
	struct state_client *dead1 = NULL, *dead2 = NULL;
	struct state_principal pr;
	bool update = args->eia_flags & EXCHGID4_FLAG_UPD_CONFIRMED_REC_A;
	nfsstat4 status = NFS4_OK;
	int err;

	/* §18.35.4: only SP4_NONE is offered; no SSV, no machine cred. */
	if (args->eia_state_protect.spa_how != SP4_NONE)
		return NFS4ERR_ENCR_ALG_UNSUPP;
	/* Flags the client may not send (server-only or undefined bits). */
	if (args->eia_flags & ~STATE_EXCHGID_FLAGS_A)
		return NFS4ERR_INVAL;
	if (co->co_ownerid.co_ownerid_len == 0)
		return NFS4ERR_INVAL;
	principal_of(cred, &pr);

	mgmt_lock(srv);
	owner_find_locked(srv, co->co_ownerid.co_ownerid_val,
			  co->co_ownerid.co_ownerid_len, &conf, &unconf);
	if (update) {
		/* Cases 6-9: an update needs a matching confirmed record. */
		if (!conf) {
			status = NFS4ERR_NOENT;		/* case 9 */
		} else if (!principal_eq(&conf->principal, &pr)) {
			status = NFS4ERR_PERM;		/* case 8 */
		} else if (memcmp(conf->verifier, co->co_verifier,
				  NFS4_VERIFIER_SIZE)) {
			status = NFS4ERR_NOT_SAME;	/* case 7 */
		} else {
			ret = conf;			/* case 6: update */
		}
		goto out_locked;
	}
	if (conf) {
		if (!principal_eq(&conf->principal, &pr)) {
			/*
			 * Case 3, client collision: another principal owns
			 * this id.  While the record holds state it wins;
			 * otherwise it is dropped and we go on as case 1.
			 */
			if (state_client_has_state(conf)) {
				status = NFS4ERR_CLID_INUSE;
				goto out_locked;
			}
			client_remove_locked(conf, &dead1);
			conf = NULL;
		} else if (!memcmp(conf->verifier, co->co_verifier,
				   NFS4_VERIFIER_SIZE)) {
			ret = conf;	/* case 2: non-update on existing */
			goto out_locked;
		}
		/*
		 * Case 4, client restart (new verifier): a new unconfirmed
		 * record; the confirmed one lives on until CREATE_SESSION
		 * confirms its successor (state_create_session()).
		 */
	}
	/* Case 5 / case 1: any older unconfirmed record is replaced. */
	if (unconf) {
		client_remove_locked(unconf, &dead2);
	} else if (atomic_load(&srv->clients.count) >= srv->cfg.max_clients) {
		/* Full: the reaper frees records as leases run out. */
		status = NFS4ERR_DELAY;
		goto out_locked;
	}
	err = client_new_locked(srv, args, &pr, &ret);
	if (err) {
		status = NFS4ERR_SERVERFAULT;
		ret = NULL;
	}
out_locked:
	if (ret) {
		state_client_renew(ret);
		resok->eir_clientid = ret->clientid;
		resok->eir_sequenceid = ret->cs_seqid + 1;
		resok->eir_flags = EXCHGID4_FLAG_USE_PNFS_MDS;
		if (ret->st == STATE_CLIENT_CONFIRMED)
			resok->eir_flags |= EXCHGID4_FLAG_CONFIRMED_R;
	}
	mgmt_unlock(srv);
	client_reap(dead1);
	client_reap(dead2);
	return status;
}

/* --- DESTROY_CLIENTID and RECLAIM_COMPLETE ----------------------------------- */

/*
 * See state.h (RFC 8881 §18.50.3).  Takes the mgmt mutex; runs expiry
 * hooks after dropping it.
 */
nfsstat4
state_destroy_clientid(struct state_server *srv, uint64_t clientid,
		       const struct rpc_cred *cred)
{
	struct state_client *clp, *dead = NULL;
	struct state_principal pr;
	nfsstat4 status = NFS4_OK;

	principal_of(cred, &pr);
	mgmt_lock(srv);
	clp = client_find(srv, clientid);
	if (!clp) {
		status = NFS4ERR_STALE_CLIENTID;
		goto out_locked;
	}
	/* §18.50.3: only the principal that created it may destroy it. */
	if (!principal_eq(&clp->principal, &pr))
		status = NFS4ERR_CLID_INUSE;
	else if (state_client_has_state(clp))
		status = NFS4ERR_CLIENTID_BUSY;
	else
		client_remove_locked(clp, &dead);
	state_client_put(clp);
out_locked:
	mgmt_unlock(srv);
	client_reap(dead);
	return status;
}

/*
 * See state.h (RFC 8881 §18.51.3).  Takes the client lock, then (not
 * nested) the grace lock; writes the client record on the volume.
 */
nfsstat4
state_reclaim_complete(struct state_client *clp)
{
	nfsstat4 status = NFS4_OK;

	state_order_acquire(STATE_RANK_CLIENT);
	mutex_lock(&clp->lock);
	if (clp->reclaim_complete)
		status = NFS4ERR_COMPLETE_ALREADY;
	clp->reclaim_complete = true;
	mutex_unlock(&clp->lock);
	state_order_release(STATE_RANK_CLIENT);
	if (status == NFS4_OK) {
		/* Its reclaims are over (grace may end early) and it may now
		 * get new state, so it must be able to reclaim after a
		 * restart: record it on the volume (§8.4.2.1). */
		state_grace_client_done(clp);
		state_record_client(clp);
	}
	return status;
}

/* --- leases -------------------------------------------------------------------- */

static bool
client_expired(const struct state_client *clp, uint64_t now_ns,
	       uint64_t lease_ns)
{
	uint64_t renew = atomic_load_explicit(&clp->renew_ns,
					      memory_order_relaxed);

	if (atomic_load(&clp->inflight) != 0)
		return false;	/* a COMPOUND in flight renews on its own */
	return now_ns > renew && now_ns - renew > lease_ns;
}

/* Expire the candidates in batch (each holding a reference). */
static unsigned int
expire_batch(struct state_server *srv, struct state_client **batch,
	     unsigned int n, uint64_t now_ns, uint64_t lease_ns)
{
	struct state_client *dead[STATE_EXPIRE_BATCH];
	unsigned int ndead = 0;

	mgmt_lock(srv);
	for (unsigned int i = 0; i < n; i++) {
		/* Re-check: it may have renewed or gone since the scan. */
		if (batch[i]->st != STATE_CLIENT_DEAD &&
		    client_expired(batch[i], now_ns, lease_ns)) {
			log_info("state: lease of client %016llx expired",
				 (unsigned long long)batch[i]->clientid);
			state_client_unhash_locked(batch[i]);
			dead[ndead++] = batch[i];
		}
	}
	mgmt_unlock(srv);
	for (unsigned int i = 0; i < ndead; i++)
		client_reap(dead[i]);
	for (unsigned int i = 0; i < n; i++)
		state_client_put(batch[i]);
	return ndead;
}

/*
 * See state.h (RFC 8881 §8.3).  Requires: no state locks held (it takes
 * stripes, then mgmt per batch, and runs hooks).
 */
unsigned int
state_expire_clients(struct state_server *srv, uint64_t now_ns)
{
	uint64_t lease_ns = (uint64_t)srv->cfg.lease_sec * NSEC_PER_SEC;
	struct state_client *batch[STATE_EXPIRE_BATCH];
	unsigned int n = 0, expired = 0;

	/*
	 * Scan bucket by bucket with only that bucket's stripe held, so
	 * lookups never wait on the whole scan.
	 */
	for (uint32_t b = 0; b <= srv->clients.mask; b++) {
		state_htab_lock(&srv->clients, b, LOCK_SHARED);
		for (struct state_hnode *hn = *state_htab_bucket(&srv->clients, b);
		     hn; hn = hn->next) {
			struct state_client *clp =
				container_of(hn, struct state_client, id_node);

			if (n < STATE_EXPIRE_BATCH &&
			    client_expired(clp, now_ns, lease_ns)) {
				state_client_get(clp);
				batch[n++] = clp;
			}
		}
		state_htab_unlock(&srv->clients, b);
		if (n == STATE_EXPIRE_BATCH) {
			expired += expire_batch(srv, batch, n, now_ns, lease_ns);
			n = 0;
			b--;	/* the bucket may hold more */
		}
	}
	if (n)
		expired += expire_batch(srv, batch, n, now_ns, lease_ns);
	return expired;
}

/* Fill one info record.  Takes the client lock. */
static void
client_info(struct state_client *clp, uint64_t now_ns, uint64_t lease_ns,
	    struct state_client_info *info)
{
	uint64_t renew = atomic_load(&clp->renew_ns);
	uint32_t n = MIN(clp->owner_len, (uint32_t)sizeof(info->owner) - 1);

	memset(info, 0, sizeof(*info));
	info->clientid = clp->clientid;
	/* st changes only under mgmt; a racy read is fine for a listing. */
	info->confirmed = clp->st == STATE_CLIENT_CONFIRMED;
	info->cb_up = state_client_cb_up(clp);
	info->seq_flags = atomic_load(&clp->seq_flags);
	if (renew + lease_ns > now_ns)
		info->lease_left_ms = (renew + lease_ns - now_ns) /
				      NSEC_PER_MSEC;
	for (uint32_t i = 0; i < n; i++)
		info->owner[i] = (clp->owner[i] >= 0x20 && clp->owner[i] < 0x7f) ?
				 (char)clp->owner[i] : '.';
	state_order_acquire(STATE_RANK_CLIENT);
	mutex_lock(&clp->lock);
	info->nsessions = clp->nsessions;
	mutex_unlock(&clp->lock);
	state_order_release(STATE_RANK_CLIENT);
}

unsigned int
state_list_clients(struct state_server *srv, struct state_client_info *out,
		   unsigned int max, unsigned int *total)
{
	uint64_t lease_ns = (uint64_t)srv->cfg.lease_sec * NSEC_PER_SEC;
	uint64_t now = clock_now_ns();
	struct state_client *batch[STATE_EXPIRE_BATCH];
	unsigned int filled = 0, count = 0;

	ASSERT(state_order_top() == 0);
	for (uint32_t b = 0; b <= srv->clients.mask; b++) {
		unsigned int n = 0;

		/* References under the stripe, client locks after it. */
		state_htab_lock(&srv->clients, b, LOCK_SHARED);
		for (struct state_hnode *hn = *state_htab_bucket(&srv->clients, b);
		     hn; hn = hn->next) {
			count++;
			if (filled + n < max && n < STATE_EXPIRE_BATCH) {
				batch[n] = container_of(hn, struct state_client,
							id_node);
				state_client_get(batch[n++]);
			}
		}
		state_htab_unlock(&srv->clients, b);
		for (unsigned int i = 0; i < n; i++) {
			client_info(batch[i], now, lease_ns, &out[filled++]);
			state_client_put(batch[i]);
		}
	}
	if (total)
		*total = count;
	return filled;
}

static void *
reaper_main(void *arg)
{
	struct state_server *srv = arg;
	uint64_t period_ms = (uint64_t)srv->cfg.lease_sec * 1000 / 4;

	period_ms = MAX(period_ms, STATE_REAPER_MIN_MS);
	period_ms = MIN(period_ms, STATE_REAPER_MAX_MS);
	mutex_lock(&srv->reaper_lock);
	while (!srv->stopping) {
		uint64_t deadline = clock_now_ns() + period_ms * NSEC_PER_MSEC;

		while (!srv->stopping &&
		       condvar_wait_until(&srv->reaper_cv, &srv->reaper_lock,
					  deadline) != -ETIMEDOUT)
			;
		if (srv->stopping)
			break;
		mutex_unlock(&srv->reaper_lock);
		(void)state_expire_clients(srv, clock_now_ns());
		mutex_lock(&srv->reaper_lock);
	}
	mutex_unlock(&srv->reaper_lock);
	return NULL;
}

/* --- server ---------------------------------------------------------------------- */

/*
 * See state.h.  No locks; starts the reaper thread when configured.
 */
int
state_server_create(const struct state_config *cfg, struct state_server **out)
{
	struct state_server *srv;
	int err;

	if (!cfg->lease_sec || !cfg->max_slots || !cfg->max_cb_slots ||
	    !cfg->max_ops || !cfg->max_req_size || !cfg->max_resp_size ||
	    !cfg->max_clients || !cfg->max_sessions)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->boot_epoch = (uint32_t)time(NULL);
	if (cfg->server_owner)
		snprintf(srv->owner, sizeof(srv->owner), "%s", cfg->server_owner);
	else if (gethostname(srv->owner, sizeof(srv->owner) - 1) != 0)
		snprintf(srv->owner, sizeof(srv->owner), "pmemnfsd");
	srv->owner[sizeof(srv->owner) - 1] = '\0';
	srv->cfg.server_owner = srv->owner;
	atomic_init(&srv->next_clientid, 0);
	atomic_init(&srv->next_sessionid, 0);
	mutex_init(&srv->mgmt, "state-mgmt");
	mutex_init(&srv->reaper_lock, "state-reaper");
	condvar_init(&srv->reaper_cv);

	err = state_htab_init(&srv->clients, STATE_HTAB_BUCKETS,
			      STATE_HTAB_STRIPES);
	if (err)
		goto out_free;
	err = state_htab_init(&srv->owners, STATE_HTAB_BUCKETS,
			      STATE_HTAB_STRIPES);
	if (err)
		goto out_clients;
	err = state_htab_init(&srv->sessions, STATE_HTAB_BUCKETS,
			      STATE_HTAB_STRIPES);
	if (err)
		goto out_owners;
	err = state_fsvc_init(srv);
	if (err)
		goto out_sessions;
	if (cfg->start_reaper) {
		err = -pthread_create(&srv->reaper, NULL, reaper_main, srv);
		if (err)
			goto out_fsvc;
		srv->reaper_started = true;
	}
	*out = srv;
	return 0;

out_fsvc:
	state_fsvc_destroy(srv);
out_sessions:
	state_htab_destroy(&srv->sessions);
out_owners:
	state_htab_destroy(&srv->owners);
out_clients:
	state_htab_destroy(&srv->clients);
out_free:
	condvar_destroy(&srv->reaper_cv);
	mutex_destroy(&srv->reaper_lock);
	mutex_destroy(&srv->mgmt);
	free(srv);
	return err;
}

/*
 * See state.h.  Requires: no other thread uses srv any more (the RPC
 * server stopped).  Expiry hooks run for every client.
 */
void
state_server_destroy(struct state_server *srv)
{
	if (!srv)
		return;
	if (srv->reaper_started) {
		mutex_lock(&srv->reaper_lock);
		srv->stopping = true;
		condvar_broadcast(&srv->reaper_cv);
		mutex_unlock(&srv->reaper_lock);
		pthread_join(srv->reaper, NULL);
	}
	/*
	 * Expire everyone, a batch at a time, as the reaper would; but a
	 * shutdown is not a lease expiry: client records on the volume stay
	 * so that the clients can reclaim after the restart (§8.4.2.1).
	 */
	atomic_store(&srv->fsvc.stopping, true);
	for (uint32_t b = 0; b <= srv->clients.mask;) {
		struct state_client *batch[STATE_EXPIRE_BATCH];
		unsigned int n = 0;

		mgmt_lock(srv);
		while (b <= srv->clients.mask && n < STATE_EXPIRE_BATCH) {
			struct state_client *clp = NULL;
			struct state_hnode *hn;

			state_htab_lock(&srv->clients, b, LOCK_SHARED);
			hn = *state_htab_bucket(&srv->clients, b);
			if (hn)
				clp = container_of(hn, struct state_client,
						   id_node);
			state_htab_unlock(&srv->clients, b);
			if (!clp) {
				b++;
				continue;
			}
			state_client_unhash_locked(clp);
			batch[n++] = clp;
		}
		mgmt_unlock(srv);
		for (unsigned int i = 0; i < n; i++)
			client_reap(batch[i]);
	}
	state_fsvc_destroy(srv);
	state_htab_destroy(&srv->sessions);
	state_htab_destroy(&srv->owners);
	state_htab_destroy(&srv->clients);
	condvar_destroy(&srv->reaper_cv);
	mutex_destroy(&srv->reaper_lock);
	mutex_destroy(&srv->mgmt);
	free(srv);
}
