/*
 * stateid.c - stateids (RFC 8881 §8.2), the per-file and per-client
 * tables of opens, locks and delegations, owners, and the client hooks
 * that free a client's file-service state when it goes away.
 *
 * A stateid's "other" is a random instance number (4 bytes) and a 64-bit
 * counter (8 bytes): unique per server instance, never reused, and an
 * "other" from an earlier instance is unknown (with odds of 2^-32 against
 * a collision; the boot time alone would repeat for two starts in one
 * second, which the tests do).  Seqids start at 1
 * and skip 0 on wrap (§8.2.2).
 *
 * Lock order (state_int.h): a client's cstate lock, then a file's lock,
 * then hash stripes.  Mutable stateid fields change with both the cstate
 * lock of the owning client and the file lock held, so a reader holds
 * either (a conflict check of another client's opens holds the file lock).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "fs.h"
#include "state_int.h"

/* Bytes 0-3 of "other": the instance number; bytes 4-11: the counter. */
#define STID_EPOCH_OFF	0
#define STID_ID_OFF	4

/* --- locks with rank bookkeeping ------------------------------------------ */

/* Take a client's cstate lock.  Requires: no FILE, GRACE or HTAB lock held. */
void
state_cstate_lock(struct state_cstate *cst)
{
	state_order_acquire(STATE_RANK_CSTATE);
	mutex_lock(&cst->lock);
}

/* Drop a cstate lock taken by state_cstate_lock(). */
void
state_cstate_unlock(struct state_cstate *cst)
{
	mutex_unlock(&cst->lock);
	state_order_release(STATE_RANK_CSTATE);
}

/* Take a file's lock.  Requires: no GRACE or HTAB lock held. */
void
state_file_lock(struct state_file *fp)
{
	state_order_acquire(STATE_RANK_FILE);
	mutex_lock(&fp->lock);
}

/* Drop a file lock taken by state_file_lock(). */
void
state_file_unlock(struct state_file *fp)
{
	mutex_unlock(&fp->lock);
	state_order_release(STATE_RANK_FILE);
}

/* --- files -------------------------------------------------------------------- */

/*
 * Find the state of inode ino, creating it when create is set.  Returns 0
 * and a reference in *out, -ENOENT (not found, !create) or -ENOMEM.
 * Locks: takes a files stripe; the caller may hold a cstate lock.
 */
int
state_file_find(struct state_server *srv, uint64_t ino, bool create,
		struct state_file **out)
{
	struct state_htab *h = &srv->fsvc.files;
	uint64_t hash = state_hash_u64(ino);
	struct state_file *fp, *nfp = NULL;

	for (;;) {
		state_htab_lock(h, hash, nfp ? LOCK_EXCL : LOCK_SHARED);
		for (struct state_hnode *n = *state_htab_bucket(h, hash); n;
		     n = n->next) {
			fp = container_of(n, struct state_file, node);
			if (fp->ino == ino) {
				atomic_fetch_add(&fp->ref, 1);
				state_htab_unlock(h, hash);
				if (nfp) {
					condvar_destroy(&nfp->deleg_cv);
					mutex_destroy(&nfp->lock);
					free(nfp);
				}
				*out = fp;
				return 0;
			}
		}
		if (nfp) {
			state_htab_insert_locked(h, hash, &nfp->node);
			state_htab_unlock(h, hash);
			*out = nfp;
			return 0;
		}
		state_htab_unlock(h, hash);
		if (!create)
			return -ENOENT;
		/* Allocate outside the stripe, then look again exclusively. */
		nfp = calloc(1, sizeof(*nfp));
		if (!nfp)
			return -ENOMEM;
		nfp->ino = ino;
		atomic_init(&nfp->ref, 1);
		mutex_init(&nfp->lock, "state-file");
		condvar_init(&nfp->deleg_cv);
		state_list_init(&nfp->opens);
		state_list_init(&nfp->locks);
		state_list_init(&nfp->delegs);
	}
}

/*
 * Drop a file reference; the last one unhashes and frees it, dropping
 * the engine inode reference (which may free a removed file).  The count
 * goes 1 -> 0 only under the exclusive stripe, so a lookup (which takes
 * its reference under the stripe) never finds a file being freed.
 * Locks: takes a files stripe; must not hold fp's lock, nor any engine
 * inode lock.
 */
void
state_file_put(struct state_server *srv, struct state_file *fp)
{
	struct state_htab *h = &srv->fsvc.files;
	uint64_t hash = state_hash_u64(fp->ino);
	unsigned int old;

	state_htab_lock(h, hash, LOCK_EXCL);
	old = atomic_fetch_sub(&fp->ref, 1);
	VERIFY(old > 0);
	if (old == 1)
		state_htab_remove_locked(h, hash, &fp->node);
	state_htab_unlock(h, hash);
	if (old != 1)
		return;
	VERIFY(state_list_empty(&fp->opens) && state_list_empty(&fp->locks) &&
	       state_list_empty(&fp->delegs));
	/* May free a removed file's blocks: no file lock is held here. */
	if (fp->ip)
		fs_iput(srv->fsvc.fs, fp->ip);
	condvar_destroy(&fp->deleg_cv);
	mutex_destroy(&fp->lock);
	free(fp);
}

/* --- owners ------------------------------------------------------------------- */

/*
 * Find the client's owner of type with the given bytes, or (create) make
 * one.  NULL when absent (!create) or on ENOMEM.  Owners live until the
 * last stateid naming them goes (state_owner_release()).
 * Requires: cst->lock.
 */
struct state_owner *
state_owner_find(struct state_cstate *cst, enum state_owner_type type,
		 const void *data, uint32_t len, bool create)
{
	struct state_list *pos;
	struct state_owner *ow;

	mutex_assert_held(&cst->lock);
	state_list_for_each(pos, &cst->owners) {
		ow = container_of(pos, struct state_owner, link);
		if (ow->type == type && ow->len == len &&
		    memcmp(ow->data, data, len) == 0)
			return ow;
	}
	if (!create)
		return NULL;
	ow = calloc(1, sizeof(*ow));
	if (!ow)
		return NULL;
	ow->data = malloc(len ? len : 1);
	if (!ow->data) {
		free(ow);
		return NULL;
	}
	/* An empty owner decodes as a NULL pointer: memcpy must not see it. */
	if (len)
		memcpy(ow->data, data, len);
	ow->len = len;
	ow->type = type;
	state_list_add(&cst->owners, &ow->link);
	return ow;
}

/*
 * Free an owner that no stateid names any more.  Requires: cst->lock.
 */
void
state_owner_release(struct state_cstate *cst, struct state_owner *ow)
{
	mutex_assert_held(&cst->lock);
	if (ow->nstids)
		return;
	state_list_del(&ow->link);
	free(ow->data);
	free(ow);
}

/* --- stateids ------------------------------------------------------------------ */

static uint64_t
stid_hash(uint64_t id)
{
	return state_hash_u64(id);
}

/*
 * The wire form of st.  Constant fields only: no locks.
 */
void
state_stid_to_wire(const struct state_server *srv,
		   const struct state_stid *st, stateid4 *out)
{
	memset(out, 0, sizeof(*out));
	out->seqid = st->seqid;
	memcpy(out->other + STID_EPOCH_OFF, &srv->fsvc.instance,
	       sizeof(srv->fsvc.instance));
	memcpy(out->other + STID_ID_OFF, &st->id, sizeof(st->id));
}

/*
 * Create a stateid of type on fp for owner, seqid 1, hashed and linked
 * into the file's and the client's lists.  Takes a file reference and
 * counts the owner.  NULL on ENOMEM.
 * Requires: cst->lock and fp->lock.
 */
struct state_stid *
state_stid_new(struct state_cstate *cst, struct state_file *fp,
	       struct state_owner *owner, enum state_stid_type type)
{
	struct state_server *srv = cst->clp->srv;
	struct state_stid *st;
	uint64_t hash;

	mutex_assert_held(&cst->lock);
	mutex_assert_held(&fp->lock);
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->type = type;
	st->id = atomic_fetch_add(&srv->fsvc.next_stid, 1);
	st->cst = cst;
	st->file = fp;
	st->owner = owner;
	st->seqid = 1;
	atomic_init(&st->ref, 1);		/* the hashed reference */
	atomic_fetch_add(&fp->ref, 1);
	if (owner)
		owner->nstids++;
	switch (type) {
	case STATE_STID_OPEN:
		state_list_add(&fp->opens, &st->file_link);
		break;
	case STATE_STID_LOCK:
		state_list_add(&fp->locks, &st->file_link);
		break;
	case STATE_STID_DELEG:
		state_list_add(&fp->delegs, &st->file_link);
		break;
	}
	state_list_add(&cst->stids, &st->client_link);
	hash = stid_hash(st->id);
	state_htab_lock(&srv->fsvc.stids, hash, LOCK_EXCL);
	state_htab_insert_locked(&srv->fsvc.stids, hash, &st->node);
	state_htab_unlock(&srv->fsvc.stids, hash);
	return st;
}

/*
 * Unhash st and unlink it from its file and client; its owner loses a
 * stateid (and is freed when that was the last).  Drops the hashed
 * reference; the caller holds one of its own (a lookup's), which it puts
 * after dropping the file lock, so st is never freed under that lock.
 * Requires: the owning cstate lock and the file lock.
 */
void
state_stid_unhash(struct state_stid *st)
{
	struct state_server *srv = st->cst->clp->srv;
	uint64_t hash = stid_hash(st->id);

	mutex_assert_held(&st->cst->lock);
	mutex_assert_held(&st->file->lock);
	VERIFY(!st->dead);
	state_htab_lock(&srv->fsvc.stids, hash, LOCK_EXCL);
	state_htab_remove_locked(&srv->fsvc.stids, hash, &st->node);
	state_htab_unlock(&srv->fsvc.stids, hash);
	st->dead = true;
	if (st->type == STATE_STID_DELEG) {
		condvar_broadcast(&st->file->deleg_cv);	/* state_deleg_wait() */
		/* The one place a write delegation stops counting: the dead
		 * flag above makes this run once per stateid. */
		if (st->dtype == OPEN_DELEGATE_WRITE)
			VERIFY(atomic_fetch_sub(&srv->fsvc.nwrite_delegs,
						1) > 0);
	}
	state_deleg_forget_revoked(st);
	state_list_del(&st->file_link);	/* a no-op if revoked (unlinked) */
	state_list_del(&st->client_link);
	if (st->owner) {
		st->owner->nstids--;
		state_owner_release(st->cst, st->owner);
		st->owner = NULL;
	}
	/* The file reference goes with the last stateid reference (put). */
	VERIFY(atomic_fetch_sub(&st->ref, 1) > 1);
}

/*
 * Drop a reference to st; the last frees it and drops its file
 * reference.  Locks: must not hold st's file lock (the file may go).
 */
void
state_stid_put(struct state_server *srv, struct state_stid *st)
{
	unsigned int old = atomic_fetch_sub(&st->ref, 1);

	VERIFY(old > 0);
	if (old != 1)
		return;
	VERIFY(st->dead);
	state_file_put(srv, st->file);
	free(st->ranges);
	free(st->fh);
	free(st);
}

/*
 * Find the live stateid whose "other" matches sid; a reference, or NULL
 * when unknown (an earlier instance's, a special one, freed).  Locks:
 * takes one stids stripe shared.
 */
struct state_stid *
state_stid_find(struct state_server *srv, const stateid4 *sid)
{
	struct state_stid *found = NULL;
	uint32_t epoch;
	uint64_t id, hash;

	memcpy(&epoch, sid->other + STID_EPOCH_OFF, sizeof(epoch));
	if (epoch != srv->fsvc.instance)
		return NULL;
	memcpy(&id, sid->other + STID_ID_OFF, sizeof(id));
	hash = stid_hash(id);
	state_htab_lock(&srv->fsvc.stids, hash, LOCK_SHARED);
	for (struct state_hnode *n = *state_htab_bucket(&srv->fsvc.stids,
							 hash); n; n = n->next) {
		struct state_stid *st = container_of(n, struct state_stid,
						     node);

		if (st->id == id) {
			atomic_fetch_add(&st->ref, 1);
			found = st;
			break;
		}
	}
	state_htab_unlock(&srv->fsvc.stids, hash);
	return found;
}

/*
 * RFC 8881 §8.2.2: seqid 0 means "the current one"; the current seqid
 * passes; an older one is NFS4ERR_OLD_STATEID, a newer one (never handed
 * out) NFS4ERR_BAD_STATEID.  Requires: the cstate or the file lock.
 */
nfsstat4
state_stid_check_seqid(const struct state_stid *st, uint32_t seqid)
{
	if (seqid == 0 || seqid == st->seqid)
		return NFS4_OK;
	/* Serial-number comparison: wrap-around keeps "older" meaningful. */
	if ((int32_t)(seqid - st->seqid) < 0)
		return NFS4ERR_OLD_STATEID;
	return NFS4ERR_BAD_STATEID;
}

/*
 * Advance st's seqid after a change of its state; 0 is skipped because it
 * means "current" on the wire (§8.2.2).  Requires: cstate and file lock.
 */
void
state_stid_bump(struct state_stid *st)
{
	mutex_assert_held(&st->cst->lock);
	mutex_assert_held(&st->file->lock);
	st->seqid++;
	if (st->seqid == 0)
		st->seqid = 1;
}

/* --- per-client state and the client hooks ---------------------------------------- */

/*
 * The client's cstate, created on first use (a compare-and-swap on the
 * private slot: two first uses race harmlessly).  NULL on ENOMEM.
 * Lock-free.
 */
struct state_cstate *
state_cstate_get(struct state_client *clp)
{
	void **slot = state_client_private(clp,
					   (unsigned int)clp->srv->fsvc.hook_idx);
	struct state_cstate *cst, *expected = NULL;

	cst = __atomic_load_n((struct state_cstate **)slot, __ATOMIC_ACQUIRE);
	if (cst)
		return cst;
	cst = calloc(1, sizeof(*cst));
	if (!cst)
		return NULL;
	cst->clp = clp;
	mutex_init(&cst->lock, "state-cstate");
	state_list_init(&cst->owners);
	state_list_init(&cst->stids);
	if (!__atomic_compare_exchange_n((struct state_cstate **)slot,
					 &expected, cst, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		mutex_destroy(&cst->lock);
		free(cst);
		return expected;
	}
	return cst;
}

/*
 * has_state hook: the client holds opens, locks or delegations.  Runs
 * under the mgmt mutex; takes the cstate lock.
 */
static bool
fsvc_has_state(struct state_client *clp, void *ctx)
{
	struct state_server *srv = ctx;
	struct state_cstate *cst;
	bool busy;

	cst = __atomic_load_n((struct state_cstate **)state_client_private(
				      clp, (unsigned int)srv->fsvc.hook_idx),
			      __ATOMIC_ACQUIRE);
	if (!cst)
		return false;
	state_cstate_lock(cst);
	busy = !state_list_empty(&cst->stids);
	state_cstate_unlock(cst);
	return busy;
}

/*
 * expire hook: free every stateid and owner of the client (RFC 8881
 * §8.3: an expired lease loses all state), and drop its client record on
 * the volume (§8.4.2.1) unless the server is only shutting down.  Runs
 * without state locks, once, after the client is unreachable.
 */
static void
fsvc_expire(struct state_client *clp, void *ctx)
{
	struct state_server *srv = ctx;
	void **slot = state_client_private(clp,
					   (unsigned int)srv->fsvc.hook_idx);
	struct state_cstate *cst = *slot;

	if (!atomic_load(&srv->fsvc.stopping))
		state_forget_client(clp);
	if (!cst)
		return;
	*slot = NULL;
	state_cstate_lock(cst);
	while (!state_list_empty(&cst->stids)) {
		struct state_stid *st = container_of(cst->stids.next,
						     struct state_stid,
						     client_link);
		struct state_file *fp = st->file;

		atomic_fetch_add(&st->ref, 1);
		state_file_lock(fp);
		state_stid_unhash(st);
		state_file_unlock(fp);
		/* The cstate lock may stay: put takes only a stripe. */
		state_stid_put(srv, st);
	}
	VERIFY(state_list_empty(&cst->owners));
	state_cstate_unlock(cst);
	mutex_destroy(&cst->lock);
	free(cst);
}

/*
 * Set up the file-service tables and register the client hooks.
 * Called by state_server_create(); no locks.
 */
int
state_fsvc_init(struct state_server *srv)
{
	struct state_client_hooks hooks = {
		.name = "fsvc",
		.has_state = fsvc_has_state,
		.expire = fsvc_expire,
		.ctx = srv,
	};
	int err;

	srv->fsvc.fs = srv->cfg.fs;
	if (getrandom(&srv->fsvc.instance, sizeof(srv->fsvc.instance), 0) !=
	    (ssize_t)sizeof(srv->fsvc.instance))
		srv->fsvc.instance = srv->boot_epoch ^ ((uint32_t)getpid() << 16);
	atomic_init(&srv->fsvc.next_stid, 1);
	atomic_init(&srv->fsvc.stopping, false);
	atomic_init(&srv->fsvc.nwrite_delegs, 0);
	err = state_htab_init(&srv->fsvc.stids, STATE_HTAB_BUCKETS,
			      STATE_HTAB_STRIPES);
	if (err)
		return err;
	err = state_htab_init(&srv->fsvc.files, STATE_HTAB_BUCKETS,
			      STATE_HTAB_STRIPES);
	if (err)
		goto out_stids;
	err = state_register_client_hooks(srv, &hooks);
	if (err < 0)
		goto out_files;
	srv->fsvc.hook_idx = err;
	err = state_grace_init(srv);
	if (err)
		goto out_files;
	return 0;

out_files:
	state_htab_destroy(&srv->fsvc.files);
out_stids:
	state_htab_destroy(&srv->fsvc.stids);
	return err;
}

/*
 * Free the tables; every client has expired (their hooks ran).  No locks.
 */
void
state_fsvc_destroy(struct state_server *srv)
{
	state_grace_destroy(srv);
	VERIFY(atomic_load(&srv->fsvc.stids.count) == 0);
	VERIFY(atomic_load(&srv->fsvc.nwrite_delegs) == 0);
	VERIFY(atomic_load(&srv->fsvc.files.count) == 0);
	state_htab_destroy(&srv->fsvc.files);
	state_htab_destroy(&srv->fsvc.stids);
}
