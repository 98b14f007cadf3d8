/*
 * htab.c - chained hash tables with striped reader/writer locks, used for
 * clientid -> client, co_ownerid -> client and sessionid -> session.
 *
 * Why striped rwlocks and not one table lock: SEQUENCE looks up its session
 * on every COMPOUND, so a single lock would be the one global lock on the
 * hot path.  With 256 stripes taken shared for lookups, two workers only
 * meet when they hash to the same stripe, and even then both proceed.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"

/*
 * Allocate nbuckets chains and nstripes locks (both powers of two).
 * Returns 0 or -ENOMEM.
 */
int
state_htab_init(struct state_htab *h, uint32_t nbuckets, uint32_t nstripes)
{
	VERIFY(nbuckets && (nbuckets & (nbuckets - 1)) == 0);
	VERIFY(nstripes && (nstripes & (nstripes - 1)) == 0);
	memset(h, 0, sizeof(*h));
	h->buckets = calloc(nbuckets, sizeof(*h->buckets));
	if (!h->buckets)
		return -ENOMEM;
	h->stripes = calloc(nstripes, sizeof(*h->stripes));
	if (!h->stripes) {
		free(h->buckets);
		h->buckets = NULL;
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nstripes; i++)
		rwlock_init(&h->stripes[i], "state-htab-stripe");
	h->mask = nbuckets - 1;
	h->stripe_mask = nstripes - 1;
	atomic_init(&h->count, 0);
	return 0;
}

/*
 * Free an empty (or abandoned) table.  No locks may be held on it.
 */
void
state_htab_destroy(struct state_htab *h)
{
	if (!h->buckets)
		return;
	for (uint32_t i = 0; i <= h->stripe_mask; i++)
		rwlock_destroy(&h->stripes[i]);
	free(h->stripes);
	free(h->buckets);
	h->buckets = NULL;
	h->stripes = NULL;
}

static struct rwlock *
stripe_of(struct state_htab *h, uint64_t hash)
{
	/* Buckets of one stripe share low bits, so one lock covers a bucket. */
	return &h->stripes[hash & h->mask & h->stripe_mask];
}

/*
 * Lock the stripe covering hash.  Stripe locks are leaves of the state
 * lock order: the caller may hold mgmt, a client and a session lock.
 */
void
state_htab_lock(struct state_htab *h, uint64_t hash, enum lock_mode mode)
{
	state_order_acquire(STATE_RANK_HTAB);
	rwlock_lock(stripe_of(h, hash), mode);
}

/*
 * Unlock the stripe taken by state_htab_lock().
 */
void
state_htab_unlock(struct state_htab *h, uint64_t hash)
{
	rwlock_unlock(stripe_of(h, hash));
	state_order_release(STATE_RANK_HTAB);
}

/*
 * Whether this thread holds the stripe of hash (always true in release
 * builds, where holders are not tracked).
 */
bool
state_htab_lock_held(struct state_htab *h, uint64_t hash)
{
#ifdef PMEMNFS_DEBUG
	return lock_held_mode(stripe_of(h, hash)) != LOCK_NONE;
#else
	(void)h;
	(void)hash;
	return true;
#endif
}

/* Requires: the stripe for hash held (either mode). */
struct state_hnode **
state_htab_bucket(struct state_htab *h, uint64_t hash)
{
	rwlock_assert_held(stripe_of(h, hash), LOCK_SHARED);
	return &h->buckets[hash & h->mask];
}

/* Requires: the stripe for hash held exclusively. */
void
state_htab_insert_locked(struct state_htab *h, uint64_t hash,
			 struct state_hnode *n)
{
	struct state_hnode **b;

	rwlock_assert_held(stripe_of(h, hash), LOCK_EXCL);
	b = &h->buckets[hash & h->mask];
	n->next = *b;
	*b = n;
	atomic_fetch_add(&h->count, 1);
}

/* Requires: the stripe for hash held exclusively; n must be in the table. */
void
state_htab_remove_locked(struct state_htab *h, uint64_t hash,
			 struct state_hnode *n)
{
	struct state_hnode **pp;

	rwlock_assert_held(stripe_of(h, hash), LOCK_EXCL);
	for (pp = &h->buckets[hash & h->mask]; *pp; pp = &(*pp)->next) {
		if (*pp == n) {
			*pp = n->next;
			n->next = NULL;
			atomic_fetch_sub(&h->count, 1);
			return;
		}
	}
	VERIFY(!"removing a node that is not in the hash table");
}

/* splitmix64's finaliser: clientids are sequential, buckets must not be. */
uint64_t
state_hash_u64(uint64_t v)
{
	v ^= v >> 30;
	v *= 0xbf58476d1ce4e5b9ULL;
	v ^= v >> 27;
	v *= 0x94d049bb133111ebULL;
	v ^= v >> 31;
	return v;
}

/* FNV-1a, then the finaliser so the low bits (bucket index) mix well. */
uint64_t
state_hash_bytes(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return state_hash_u64(h);
}
