/*
 * slot.c - the session slot table and its reply cache (RFC 8881 §2.10.6).
 *
 * Each slot remembers the seqid of the last request it accepted and, if the
 * client asked for it (sa_cachethis), the exact bytes of that request's
 * COMPOUND4res.  The table knows nothing about sessions or locks: the
 * session lock serialises every call here except that the holder of a busy
 * slot fills that slot's buffer without the lock (nobody else touches a busy
 * slot's buffer: retries of it get NFS4ERR_DELAY).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"

/*
 * Allocate nslots empty slots (seqid 0, never used).  Returns 0 or
 * -ENOMEM.  No locks.
 */
int
state_slot_table_init(struct state_slot_table *t, uint32_t nslots,
		      uint32_t max_cached)
{
	VERIFY(nslots > 0);
	t->slots = calloc(nslots, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->nslots = nslots;
	t->max_cached = max_cached;
	return 0;
}

/*
 * Free the slots and their reply buffers.  No request may hold a slot.
 */
void
state_slot_table_destroy(struct state_slot_table *t)
{
	if (!t->slots)
		return;
	for (uint32_t i = 0; i < t->nslots; i++)
		free(t->slots[i].buf);
	free(t->slots);
	t->slots = NULL;
	t->nslots = 0;
}

/*
 * The seqid rules of RFC 8881 §2.10.6.1: the next request on a slot carries
 * the slot's seqid + 1 (modulo 2^32, so 0xffffffff is followed by 0); the
 * same seqid is a retry; anything else is misordered.  A slot that never
 * accepted a request has seqid 0, so the first request must carry 1.
 */
nfsstat4
state_slot_check(const struct state_slot_table *t, uint32_t slotid,
		 uint32_t seqid, bool *replay)
{
	const struct state_slot *s;

	*replay = false;
	if (slotid >= t->nslots)
		return NFS4ERR_BADSLOT;
	s = &t->slots[slotid];
	if (seqid == (uint32_t)(s->seqid + 1u)) {
		/*
		 * A busy slot cannot legally get its next request: the client
		 * has not seen the reply that frees it.
		 */
		return s->busy ? NFS4ERR_SEQ_MISORDERED : NFS4_OK;
	}
	if (seqid == s->seqid && s->used) {
		if (s->busy)
			return NFS4ERR_DELAY;	/* original still running */
		if (!s->cached)
			return NFS4ERR_RETRY_UNCACHED_REP;
		*replay = true;
		return NFS4_OK;
	}
	return NFS4ERR_SEQ_MISORDERED;
}

/*
 * See state_int.h.  Requires the session lock.
 */
void
state_slot_begin(struct state_slot_table *t, uint32_t slotid, uint32_t seqid)
{
	struct state_slot *s;

	VERIFY(slotid < t->nslots);
	s = &t->slots[slotid];
	ASSERT(!s->busy);
	s->seqid = seqid;
	s->used = true;
	s->busy = true;
	s->cached = false;	/* the old reply no longer answers anything */
	s->len = 0;
}

/*
 * See state_int.h.  Requires: the caller holds the busy slot (no lock).
 */
void *
state_slot_buf(struct state_slot_table *t, uint32_t slotid, uint32_t len)
{
	struct state_slot *s;
	uint8_t *nb;

	VERIFY(slotid < t->nslots);
	s = &t->slots[slotid];
	ASSERT(s->busy);
	if (len > t->max_cached)
		return NULL;
	if (len > s->cap || !s->buf) {
		nb = realloc(s->buf, len ? len : 1);
		if (!nb)
			return NULL;
		s->buf = nb;
		s->cap = len;
	}
	return s->buf;
}

/*
 * See state_int.h.  Requires the session lock.
 */
void
state_slot_end(struct state_slot_table *t, uint32_t slotid, bool cached,
	       uint32_t len)
{
	struct state_slot *s;

	VERIFY(slotid < t->nslots);
	s = &t->slots[slotid];
	ASSERT(s->busy);
	s->busy = false;
	s->cached = cached && s->buf && len <= s->cap;
	s->len = s->cached ? len : 0;
}

/*
 * See state_int.h.  Requires the session lock.
 */
uint32_t
state_slot_busy_count(const struct state_slot_table *t)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->nslots; i++)
		n += t->slots[i].busy;
	return n;
}
