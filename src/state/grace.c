/*
 * grace.c - client records on the volume and the grace period after a
 * restart (RFC 8881 §8.4.2, §8.4.2.1, §18.51).
 *
 * A client is recorded (a server record "clnt" + its co_ownerid, value:
 * its clientid) when it sends RECLAIM_COMPLETE, which every NFSv4.1
 * client must send before it obtains non-reclaim state (§18.51.3); the
 * record goes when the client is destroyed or its lease expires, not when
 * the server shuts down.  At start the records found are the clients that
 * may reclaim: if there are any, the server is in grace for grace_sec
 * seconds, or until each of them sent RECLAIM_COMPLETE; records of
 * clients that did not come back are dropped when grace ends.
 *
 * Locking: the grace lock (STATE_RANK_GRACE) protects the reclaim list
 * and the grace flag; it is taken with no lock of higher rank held, and
 * the engine's server-record calls made under it take only engine locks.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "state_int.h"

#define RECORD_PREFIX		"clnt"
#define RECORD_PREFIX_LEN	4
/*
 * Owners longer than a record key allows (co_ownerid may be 1024 bytes,
 * keys FS_SRVREC_KEY_MAX) keep their head and end in a hash of the whole.
 */
#define RECORD_OWNER_MAX	(FS_SRVREC_KEY_MAX - RECORD_PREFIX_LEN)

/* The record key of an owner; returns its length. */
static uint32_t
record_key(const uint8_t *owner, uint32_t len, uint8_t key[FS_SRVREC_KEY_MAX])
{
	uint64_t h;

	memcpy(key, RECORD_PREFIX, RECORD_PREFIX_LEN);
	if (len <= RECORD_OWNER_MAX) {
		memcpy(key + RECORD_PREFIX_LEN, owner, len);
		return RECORD_PREFIX_LEN + len;
	}
	h = state_hash_bytes(owner, len);
	memcpy(key + RECORD_PREFIX_LEN, owner, RECORD_OWNER_MAX - sizeof(h));
	memcpy(key + FS_SRVREC_KEY_MAX - sizeof(h), &h, sizeof(h));
	return FS_SRVREC_KEY_MAX;
}

struct load_ctx {
	struct state_fsvc *fsvc;
	int err;
};

/* fs_srvrec_iterate() callback: remember each client record. */
static int
load_one(void *vctx, const void *key, size_t klen, const void *val,
	 size_t vlen)
{
	struct load_ctx *ctx = vctx;
	struct state_fsvc *fsvc = ctx->fsvc;
	struct state_reclaimer *r, *arr;

	if (klen < RECORD_PREFIX_LEN ||
	    memcmp(key, RECORD_PREFIX, RECORD_PREFIX_LEN) != 0)
		return 0;		/* another subsystem's record */
	arr = realloc(fsvc->reclaim, (fsvc->nreclaim + 1) * sizeof(*arr));
	if (!arr)
		goto nomem;
	fsvc->reclaim = arr;
	r = &arr[fsvc->nreclaim];
	memset(r, 0, sizeof(*r));
	r->key = malloc(klen);
	if (!r->key)
		goto nomem;
	memcpy(r->key, key, klen);
	r->klen = (uint32_t)klen;
	if (vlen == sizeof(r->clientid))
		memcpy(&r->clientid, val, sizeof(r->clientid));
	fsvc->nreclaim++;
	return 0;
nomem:
	ctx->err = -ENOMEM;
	return 1;
}

/*
 * Load the client records and start the grace period when there are any.
 * Called from state_fsvc_init() before any client exists; no locks.
 * Returns 0, -ENOMEM, or the engine's error.
 */
int
state_grace_init(struct state_server *srv)
{
	struct state_fsvc *fsvc = &srv->fsvc;
	struct load_ctx ctx = { .fsvc = fsvc, .err = 0 };
	int err;

	mutex_init(&fsvc->grace_lock, "state-grace");
	atomic_init(&fsvc->in_grace, false);
	if (!fsvc->fs)
		return 0;
	err = fs_srvrec_iterate(fsvc->fs, load_one, &ctx);
	if (ctx.err)
		err = ctx.err;
	if (err < 0) {
		state_grace_destroy(srv);
		return err;
	}
	if (fsvc->nreclaim && srv->cfg.grace_sec) {
		atomic_store(&fsvc->in_grace, true);
		fsvc->grace_end_ns = clock_now_ns() +
				     srv->cfg.grace_sec * NSEC_PER_SEC;
		log_info("state: grace period of %u s for %u client(s)",
			 srv->cfg.grace_sec, fsvc->nreclaim);
	}
	return 0;
}

/* Free the reclaim list.  No other thread uses srv. */
void
state_grace_destroy(struct state_server *srv)
{
	struct state_fsvc *fsvc = &srv->fsvc;

	for (uint32_t i = 0; i < fsvc->nreclaim; i++)
		free(fsvc->reclaim[i].key);
	free(fsvc->reclaim);
	fsvc->reclaim = NULL;
	fsvc->nreclaim = 0;
	mutex_destroy(&fsvc->grace_lock);
}

static void
grace_lock(struct state_fsvc *fsvc)
{
	state_order_acquire(STATE_RANK_GRACE);
	mutex_lock(&fsvc->grace_lock);
}

static void
grace_unlock(struct state_fsvc *fsvc)
{
	mutex_unlock(&fsvc->grace_lock);
	state_order_release(STATE_RANK_GRACE);
}

/*
 * End the grace period when its time is up or every recorded client
 * completed its reclaims; drop the records of clients that did not come
 * back (their state is gone for good).  Requires: the grace lock.
 */
static void
grace_update_locked(struct state_fsvc *fsvc)
{
	mutex_assert_held(&fsvc->grace_lock);
	if (!atomic_load(&fsvc->in_grace))
		return;
	if (fsvc->nreclaim_done < fsvc->nreclaim &&
	    clock_now_ns() < fsvc->grace_end_ns)
		return;
	atomic_store(&fsvc->in_grace, false);
	log_info("state: grace period over (%u of %u clients reclaimed)",
		 fsvc->nreclaim_done, fsvc->nreclaim);
	for (uint32_t i = 0; i < fsvc->nreclaim; i++) {
		struct state_reclaimer *r = &fsvc->reclaim[i];
		int err;

		if (r->done)
			continue;
		err = fs_srvrec_del(fsvc->fs, r->key, r->klen);
		if (err && err != -ENOENT)
			log_warn("state: dropping a stale client record: %d",
				 err);
	}
}

static struct state_reclaimer *
reclaimer_find_locked(struct state_fsvc *fsvc, const uint8_t *key,
		      uint32_t klen)
{
	mutex_assert_held(&fsvc->grace_lock);
	for (uint32_t i = 0; i < fsvc->nreclaim; i++)
		if (fsvc->reclaim[i].klen == klen &&
		    memcmp(fsvc->reclaim[i].key, key, klen) == 0)
			return &fsvc->reclaim[i];
	return NULL;
}

static bool
client_reclaim_complete(struct state_client *clp)
{
	bool rc;

	state_order_acquire(STATE_RANK_CLIENT);
	mutex_lock(&clp->lock);
	rc = clp->reclaim_complete;
	mutex_unlock(&clp->lock);
	state_order_release(STATE_RANK_CLIENT);
	return rc;
}

/*
 * See state.h (RFC 8881 §8.4.2, §18.51.3).  Takes the client lock, then
 * (only while in grace) the grace lock, not nested.
 */
nfsstat4
state_grace_check(struct state_client *clp, bool reclaim)
{
	struct state_fsvc *fsvc = &clp->srv->fsvc;
	uint8_t key[FS_SRVREC_KEY_MAX];
	uint32_t klen = 0;
	bool rc = client_reclaim_complete(clp);
	bool in_grace, known = false;

	/* After grace (the common case) no lock: false is final. */
	in_grace = atomic_load(&fsvc->in_grace);
	if (in_grace) {
		if (reclaim)
			klen = record_key(clp->owner, clp->owner_len, key);
		grace_lock(fsvc);
		grace_update_locked(fsvc);
		in_grace = atomic_load(&fsvc->in_grace);
		if (reclaim && in_grace)
			known = reclaimer_find_locked(fsvc, key, klen) != NULL;
		grace_unlock(fsvc);
	}

	if (reclaim) {
		/* §18.51.3: reclaims after RECLAIM_COMPLETE; §8.4.2.1: no
		 * grace, or no record of the client from before. */
		if (!in_grace || rc || !known)
			return NFS4ERR_NO_GRACE;
		return NFS4_OK;
	}
	/* §8.4.2: no new state while others may still reclaim; §18.51.3:
	 * nor for a client that has not finished its own reclaims. */
	if (in_grace || !rc)
		return NFS4ERR_GRACE;
	return NFS4_OK;
}

/* See state.h.  Takes the grace lock only while in grace. */
bool
state_grace_active(struct state_server *srv)
{
	struct state_fsvc *fsvc = &srv->fsvc;
	if (!atomic_load(&fsvc->in_grace))
		return false;
	grace_lock(fsvc);
	grace_update_locked(fsvc);
	grace_unlock(fsvc);
	return atomic_load(&fsvc->in_grace);
}

/*
 * The client sent RECLAIM_COMPLETE: it counts as reclaimed, and grace
 * ends when it was the last.  Requires: no state lock of rank >= GRACE.
 */
void
state_grace_client_done(struct state_client *clp)
{
	struct state_fsvc *fsvc = &clp->srv->fsvc;
	uint8_t key[FS_SRVREC_KEY_MAX];
	uint32_t klen = record_key(clp->owner, clp->owner_len, key);
	struct state_reclaimer *r;

	grace_lock(fsvc);
	r = reclaimer_find_locked(fsvc, key, klen);
	if (r && !r->done) {
		r->done = true;
		fsvc->nreclaim_done++;
	}
	grace_update_locked(fsvc);
	grace_unlock(fsvc);
}

/*
 * Write the client's record on the volume (once per client record).
 * A failure is logged and otherwise ignored: the client's state now is
 * unaffected, it only could not reclaim after a restart.  Requires: no
 * state locks held.
 */
void
state_record_client(struct state_client *clp)
{
	struct state_fsvc *fsvc = &clp->srv->fsvc;
	uint8_t key[FS_SRVREC_KEY_MAX];
	struct state_cstate *cst;
	uint32_t klen;
	bool first;
	int err;

	if (!fsvc->fs)
		return;
	cst = state_cstate_get(clp);
	if (!cst) {
		log_error("state: no memory to record client %016llx",
			  (unsigned long long)clp->clientid);
		return;
	}
	state_cstate_lock(cst);
	first = !cst->recorded;
	cst->recorded = true;
	state_cstate_unlock(cst);
	if (!first)
		return;
	klen = record_key(clp->owner, clp->owner_len, key);
	err = fs_srvrec_put(fsvc->fs, key, klen, &clp->clientid,
			    sizeof(clp->clientid));
	if (err)
		log_error("state: cannot record client %016llx: %d",
			  (unsigned long long)clp->clientid, err);
}

/*
 * Drop the client's record (DESTROY_CLIENTID, lease expiry), but only if
 * it is this client's: a restarted client's new record (same owner) is
 * left alone.  Requires: no state locks held.
 */
void
state_forget_client(struct state_client *clp)
{
	struct state_fsvc *fsvc = &clp->srv->fsvc;
	uint8_t key[FS_SRVREC_KEY_MAX];
	uint64_t id = 0;
	uint32_t klen;
	size_t len = 0;
	int err;

	if (!fsvc->fs)
		return;
	klen = record_key(clp->owner, clp->owner_len, key);
	err = fs_srvrec_get(fsvc->fs, key, klen, &id, sizeof(id), &len);
	if (err || len != sizeof(id) || id != clp->clientid)
		return;
	err = fs_srvrec_del(fsvc->fs, key, klen);
	if (err && err != -ENOENT)
		log_error("state: cannot drop the record of client %016llx: %d",
			  (unsigned long long)clp->clientid, err);
}
