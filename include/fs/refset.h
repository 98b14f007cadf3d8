/*
 * fs/refset.h - the one reference set per inode: every external reference
 * to the inode's block map (client layout grants and local DMA pins), and
 * fs_break_layouts(), the one function that drains it before the map
 * changes (DESIGN.md section 3).
 *
 * Locking: each set has an internal mutex, the innermost lock of an inode
 * (after ILOCK; see fs/ilock.h).  It is never held while calling a
 * reference's ops, so ops may call fs_layoutref_remove().  The entry points
 * state which inode locks they need and assert them:
 *   fs_layoutref_add()            MAPLOCK shared (or exclusive)
 *   fs_pin_range()                MAPLOCK shared, held state by pointer
 *   fs_break_layouts()            IOLOCK + MAPLOCK exclusive, held by pointer
 *   fs_layoutref_remove(), fs_unpin(), fs_layoutref_shrink(),
 *   fs_refset_expire_overdue()    no inode lock needed (any may be held)
 * Ownership: the engine owns the set; the holder owns each struct
 * fs_layoutref (usually embedded in its layout state or pin record) and
 * may free or reuse it only after fs_layoutref_remove() returned - also
 * after an expiry, where remove is a no-op that waits until the engine
 * has let go of the reference.  The engine never frees a reference.
 *
 * The engine knows nothing about NFS: it calls up only through the ops a
 * holder supplies (break_ref: start a recall; expire_ref: revoke and fence).
 */
#ifndef PMEMNFS_FS_REFSET_H
#define PMEMNFS_FS_REFSET_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

struct fs_inode;
struct fs_layoutref;
struct fs_break_wait;
struct fs_refset_call;

/* A range length meaning "to the end of the file, whatever its size". */
#define FS_RANGE_EOF		UINT64_MAX

/*
 * Default recall bound: one lease period of 90 s (the common NFSv4 server
 * default) after the recall was sent.  RFC 8881 section 12.5.5 lets the
 * server revoke a recalled layout only after a lease period; the NFS layer
 * sets lease + a small margin with fs_refset_set_recall_timeout().
 */
#define FS_RECALL_TIMEOUT_DEFAULT_NS	(90ULL * NSEC_PER_SEC)

enum fs_layoutref_kind {
	FS_REF_LAYOUT_READ = 1,	/* client layout, LAYOUTIOMODE4_READ */
	FS_REF_LAYOUT_RW,	/* client layout, LAYOUTIOMODE4_RW */
	FS_REF_PIN,		/* local DMA pin on the mapped blocks */
};

/*
 * States of a reference.  One function per transition (src/fs/refset.c,
 * src/fs/break.c):
 *   UNUSED   --fs_layoutref_add / fs_pin_range-->          ACTIVE
 *   ACTIVE   --fs_break_layouts (conflicting)-->           BREAKING
 *   BREAKING --break deadline passed (has expire_ref)-->   EXPIRING
 *   ACTIVE, BREAKING --fs_layoutref_remove-->              UNUSED
 *   EXPIRING --expire_ref returned-->                      UNUSED
 */
enum fs_layoutref_state {
	FS_REF_UNUSED = 0,	/* not in any set */
	FS_REF_ACTIVE,		/* granted, not being broken */
	FS_REF_BREAKING,	/* break_ref called; waiting for the holder */
	FS_REF_EXPIRING,	/* expire_ref running; dropped after it */
};

/* Why the map is about to change (DESIGN.md section 3). */
enum fs_break_reason {
	FS_BREAK_WRITE = 1,	/* write through the MDS: recall RW layouts */
	FS_BREAK_UNMAP,		/* blocks leave the map: all refs, pins too */
};

/*
 * Supplied by whoever takes a reference.  Both are called without the
 * set's mutex; with or without inode locks held (never assume either),
 * so neither may take this inode's locks.  Each is called at most once per
 * reference.  fs_layoutref_remove() on the same reference from another
 * thread waits until a running op returned, so an op must not wait for
 * anything its holder keeps while it calls fs_layoutref_remove().
 */
struct fs_layoutref_ops {
	/*
	 * Start breaking: a client layout sends CB_LAYOUTRECALL (queues it;
	 * must not block).  May call fs_layoutref_remove() on ref (an
	 * immediate return).  ref->break_deadline_ns is already set: the
	 * NFS layer arms its recall timer for it (fs_refset_expire_overdue).
	 * NULL: nothing to send (a pin's holder just finishes and calls
	 * fs_unpin()).
	 */
	void (*break_ref)(struct fs_layoutref *ref);
	/*
	 * The recall bound passed: revoke the reference, and fence the holder
	 * where configured, before returning - the engine removes the
	 * reference when this returns and the blocks may then be reused.  May
	 * block for the fence.  The holder still calls fs_layoutref_remove()
	 * (from here or later) before it frees the reference.  NULL: the
	 * reference can not be revoked (a local pin: DMA may still be
	 * running); breakers wait for its release (bounded only by their own
	 * deadline).
	 */
	void (*expire_ref)(struct fs_layoutref *ref);
};

/*
 * One external reference.  The holder allocates it (usually embedded),
 * zero-initialized or previously removed, and passes it to
 * fs_layoutref_add() / fs_pin_range(), which fill it in; the fields are
 * read-only for the holder while the reference is in a set (off, len,
 * kind and owner may be read; state only under the set's mutex).
 */
struct fs_layoutref {
	uint64_t		off;		/* file range start, bytes */
	uint64_t		len;		/* or FS_RANGE_EOF */
	enum fs_layoutref_kind	kind;
	enum fs_layoutref_state	state;		/* under the set's mutex */
	enum fs_break_reason	break_reason;	/* valid when BREAKING */
	const struct fs_layoutref_ops *ops;	/* may be NULL for a pin */
	void			*owner;		/* the holder's cookie */
	uint64_t		break_time_ns;	/* when break_ref was called */
	uint64_t		break_deadline_ns; /* + recall timeout */
	struct fs_inode		*ip;		/* the set's inode */
	struct fs_layoutref	*prev, *next;	/* sorted by off */
	struct fs_refset_call	*call;		/* queued for an op call */
	unsigned		call_slot;
};

/*
 * The per-inode set, embedded in struct fs_inode as ip->refs and set up by
 * fs_ilock_init().  All fields are private to src/fs/refset.c and break.c.
 */
struct fs_refset {
	struct mutex		mu;
	struct condvar		cv;		/* a ref left / a call returned */
	struct fs_layoutref	*head, *tail;	/* sorted by off */
	struct fs_break_wait	*breakers;	/* breaks in progress */
	struct fs_refset_call	*calls;		/* op calls running */
	/*
	 * Written under mu with atomic stores; readable without mu by a
	 * caller that holds MAPLOCK exclusive: no reference can be added
	 * then, only removed, so a zero stays zero (break_layouts' fast path).
	 */
	uint32_t		nrefs;		/* refs in the list */
	uint32_t		nbreaking;	/* BREAKING + EXPIRING */
	uint32_t		nwaiters;	/* threads waiting on cv */
	/*
	 * No reference reaches at or past this offset (raised by adds,
	 * reset when the set empties): a break past every reference - a
	 * truncate at EOF with many layouts before it - needs no scan.
	 */
	uint64_t		max_end;
};

/* Counters for administration (pmemnfsctl); all inodes together. */
struct fs_refset_stats {
	uint64_t refs;			/* references held now (all kinds) */
	uint64_t pins;			/* of which local pins */
	uint64_t breaking;		/* references being broken now */
	uint64_t breaks_in_flight;	/* fs_break_layouts calls in progress */
	uint64_t breaks_total;		/* break calls that found references */
	uint64_t recalls_total;		/* references moved to BREAKING */
	uint64_t expired_total;		/* references revoked by the bound */
	uint64_t conflicts_total;	/* adds refused with -EAGAIN */
	uint64_t pin_waits_total;	/* pins that waited for a break */
	uint64_t timeouts_total;	/* breaks that returned -EAGAIN */
};

/*
 * Add a client layout reference on [off, off+len) of ip.
 * Locks: caller holds ip's MAPLOCK (shared suffices; asserted).
 * References: the set links ref until fs_layoutref_remove() or expiry.
 * Returns 0, -EINVAL for an empty range or a PIN kind, or -EAGAIN while a
 * break is pending on an overlapping range (a break in progress, or a
 * reference there still being recalled) that conflicts with kind: the NFS
 * layer answers NFS4ERR_RECALLCONFLICT / NFS4ERR_LAYOUTTRYLATER
 * (RFC 8881 section 12.5.5.2), so that a client that keeps asking can not
 * starve the map change (DESIGN.md rule 4).  Never waits.
 */
int fs_layoutref_add(struct fs_inode *ip, struct fs_layoutref *ref,
		     enum fs_layoutref_kind kind, uint64_t off, uint64_t len,
		     const struct fs_layoutref_ops *ops,
		     void *owner) MUST_CHECK;

/*
 * The holder gives ref back (LAYOUTRETURN, pin release) and wakes every
 * breaker or pinner waiting on the set.  A no-op if ref is not in a set
 * (already expired, or returned twice).  Waits only while another thread
 * is inside one of ref's ops (those must not block).
 * Locks: none of ip's inode locks needed; must not hold the set's mutex.
 * References: after return the engine keeps no pointer to ref.
 */
void fs_layoutref_remove(struct fs_inode *ip, struct fs_layoutref *ref);

/*
 * A partial return: ref now covers only [off, off+len), which must lie
 * inside its current range.  Wakes waiters (the returned part may be what
 * a breaker waits for).  Locks as fs_layoutref_remove().
 * Returns 0, or -EINVAL if the new range is empty or not inside the old.
 */
int fs_layoutref_shrink(struct fs_inode *ip, struct fs_layoutref *ref,
			uint64_t off, uint64_t len) MUST_CHECK;

/*
 * Pin [off, off+len) of ip's blocks for local DMA.  If an UNMAP break is
 * pending on an overlapping range the pin waits until it is done (rule 4:
 * a stream of pins can not starve a truncate): to wait it drops the
 * caller's inode locks named in *held, waits, and retakes them in order;
 * *held is restored exactly on every return.  Pin first, then look up the
 * block map: the map can not change under a pin.  A thread that already
 * holds a pin on an overlapping range must pass a deadline: the break it
 * would wait for is waiting for its first pin.
 * Locks: MAPLOCK held shared or exclusive (asserted), as described by
 * *held; no other inode's locks should be held if it may wait.
 * deadline_ns: CLOCK_MONOTONIC deadline for the wait, 0 = no limit.
 * ops may be NULL (nothing to tell, can not be revoked).
 * Returns 0 (pinned), -EINVAL (empty range), -EAGAIN (deadline passed, not
 * pinned).
 */
int fs_pin_range(struct fs_inode *ip, unsigned *held, struct fs_layoutref *pin,
		 uint64_t off, uint64_t len, const struct fs_layoutref_ops *ops,
		 void *owner, uint64_t deadline_ns) MUST_CHECK;

/* Release a pin taken by fs_pin_range(): fs_layoutref_remove(). */
void fs_unpin(struct fs_inode *ip, struct fs_layoutref *pin);

/*
 * Drain every external reference to [off, off+len) of ip's block map that
 * conflicts with reason; must be called before every operation that
 * removes or moves blocks (truncate down, punch, clone onto a range,
 * freeing the blocks of an unlinked file: FS_BREAK_UNMAP) and before a
 * write through the MDS (FS_BREAK_WRITE: client RW layouts only, pins do
 * not conflict).
 *
 * Marks the range "breaking" (new conflicting grants get -EAGAIN, new
 * pins wait), moves each conflicting reference to BREAKING and calls its
 * break_ref once, then waits for them to be removed.  To wait it drops
 * the inode locks named in *held (a holder's LAYOUTRETURN may need them),
 * waits on a condvar, retakes them in order and re-checks (DESIGN.md
 * rule 3: a second pass only after locks were dropped).  A reference still
 * there at its break deadline (break_time + recall timeout, rule 5) gets
 * expire_ref and is dropped.
 *
 * Locks: caller holds ip's IOLOCK and MAPLOCK exclusive (asserted) and
 * passes what it holds of ip in *held; the locks may be cycled and are
 * held exactly as *held says on every return.  Anything the caller read
 * under them must be re-validated after a call that waited.  Locks of
 * other inodes stay held across the wait, and retaking ip's locks is
 * order-checked: call it before taking any other inode's locks (or hold
 * only IOLOCKs of lower-numbered inodes), and not while this thread holds
 * a pin on the range.
 * deadline_ns: CLOCK_MONOTONIC bound on this call's wait, 0 = wait until
 * done (local callers).  When it passes the call returns -EAGAIN (the NFS
 * layer answers NFS4ERR_DELAY) while the recall carries on; a retry finds
 * the work done or the references expired.
 * Returns 0 when no conflicting reference remains on the range (the
 * caller may now change the map and free the blocks: rule 6), -EAGAIN.
 */
int fs_break_layouts(struct fs_inode *ip, unsigned *held, uint64_t off,
		     uint64_t len, enum fs_break_reason reason,
		     uint64_t deadline_ns) MUST_CHECK;

/*
 * Expire every BREAKING reference of ip whose break deadline is <= now_ns
 * and that has an expire_ref (revoke + fence, then drop it), without a
 * breaker waiting - for the NFS layer's timer.  Returns how many expired.
 * Locks: none needed; calls expire_ref, which may block for a fence.
 */
unsigned fs_refset_expire_overdue(struct fs_inode *ip, uint64_t now_ns);

/*
 * Earliest break deadline among ip's BREAKING references, or 0 if none:
 * when the NFS layer's timer should call fs_refset_expire_overdue().
 * Locks: none needed.
 */
uint64_t fs_refset_next_deadline(struct fs_inode *ip);

/* Number of references in ip's set now (racy snapshot; for admin). */
unsigned fs_refset_count(struct fs_inode *ip);

/* One reference as administration sees it (pmemnfsctl). */
struct fs_layoutref_info {
	uint64_t		off;
	uint64_t		len;
	enum fs_layoutref_kind	kind;
	enum fs_layoutref_state	state;
	void			*owner;
	uint64_t		break_deadline_ns; /* 0 unless being broken */
};

/*
 * Call fn(ctx, info) for each reference of ip in offset order; stop at the
 * first non-zero return and return it (0 when all were visited).
 * Locks: holds the set's mutex across the walk, so fn must be quick and
 * must not call into the reference set or take inode locks.
 */
int fs_refset_foreach(struct fs_inode *ip,
		      int (*fn)(void *ctx, const struct fs_layoutref_info *ri),
		      void *ctx) MUST_CHECK;

/*
 * The recall bound for references broken from now on (ns, > 0), and its
 * current value.  The NFS layer sets lease period + margin (rule 5).
 */
void fs_refset_set_recall_timeout(uint64_t ns);
uint64_t fs_refset_recall_timeout(void);

/* Snapshot of the global counters. */
void fs_refset_stats_get(struct fs_refset_stats *out);

/* Set up / tear down ip->refs (fs_ilock_init / fs_ilock_destroy call them). */
void fs_refset_init(struct fs_inode *ip);
void fs_refset_destroy(struct fs_inode *ip);

#endif
