/*
 * fs/ilock.h - the three per-inode locks and the one place their order is
 * defined.
 *
 * Locking: every inode carries IOLOCK, MAPLOCK and ILOCK (reader/writer
 * locks from common/lock.h).  The order, written once above fs_ilock() in
 * src/fs/ilock.c and checked in debug builds, is:
 *
 *	IOLOCK  ->  MAPLOCK  ->  ILOCK  ->  (the inode's refset mutex)
 *
 * and, when several inodes are locked, class by class in ascending inode
 * number: all IOLOCKs first, then all MAPLOCKs, then all ILOCKs.  Use
 * fs_ilock2() / fs_ilock_many() to lock several inodes; a thread that has
 * to take a lock out of that order must use fs_ilock_nowait() and back off
 * when it fails (a trylock cannot deadlock, so it is not order-checked).
 * Ownership: the locks live inside struct fs_inode; fs_ilock_init() and
 * fs_ilock_destroy() bracket their life together with the inode's
 * reference set (fs/refset.h).
 *
 * What each lock protects (DESIGN.md section 3, rule 2):
 *  IOLOCK  - file I/O against size and block-map changes.  Readers and
 *            writers through the MDS take it shared, truncate / punch /
 *            clone / allocate take it exclusive.
 *  MAPLOCK - the right to take new external references on the block map:
 *            LAYOUTGET (fs_layoutref_add) and local pins (fs_pin_range) take
 *            it shared, map changers take it exclusive, so holding it
 *            exclusive keeps every new grant and pin out.
 *  ILOCK   - the in-memory inode and its extent map; held briefly, never
 *            across a wait.
 */
#ifndef PMEMNFS_FS_ILOCK_H
#define PMEMNFS_FS_ILOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

struct fs_inode;

/*
 * Lock flags.  A flag word names at most one mode per lock class; the same
 * word describes "what I want" to fs_ilock() and "what I hold" to
 * fs_iunlock(), fs_assert_ilocked() and fs_break_layouts().
 */
#define FS_IOLOCK_SHARED	(1u << 0)
#define FS_IOLOCK_EXCL		(1u << 1)
#define FS_MAPLOCK_SHARED	(1u << 2)
#define FS_MAPLOCK_EXCL		(1u << 3)
#define FS_ILOCK_SHARED		(1u << 4)
#define FS_ILOCK_EXCL		(1u << 5)

#define FS_IOLOCK_MASK		(FS_IOLOCK_SHARED | FS_IOLOCK_EXCL)
#define FS_MAPLOCK_MASK		(FS_MAPLOCK_SHARED | FS_MAPLOCK_EXCL)
#define FS_ILOCK_MASK		(FS_ILOCK_SHARED | FS_ILOCK_EXCL)
#define FS_LOCK_MASK \
	(FS_IOLOCK_MASK | FS_MAPLOCK_MASK | FS_ILOCK_MASK)

/* What fs_break_layouts() requires of its caller. */
#define FS_BREAK_LOCKS		(FS_IOLOCK_EXCL | FS_MAPLOCK_EXCL)

/* Most inodes one fs_ilock_many() call locks (rename: 2 dirs + 2 files). */
#define FS_ILOCK_MANY_MAX	4

struct fs_ilocks {
	struct rwlock	iolock;
	struct rwlock	maplock;
	struct rwlock	ilock;
};

/*
 * Initialize / destroy the inode's lock set AND its reference set
 * (ip->refs), the two things every inode needs before break_layouts() can
 * work on it.  ip->ino must be set before init: it orders multi-inode
 * locking.  Destroy requires no lock held and an empty reference set
 * (VERIFY: freeing an inode that still has external references would let
 * its blocks be reused under them).
 */
void fs_ilock_init(struct fs_inode *ip);
void fs_ilock_destroy(struct fs_inode *ip);

/*
 * Take / drop the locks named in flags on one inode, in the fixed order.
 * Locks: the debug build checks the order against every inode lock the
 * thread already holds (see fs/ilock.h's Locking note) and aborts on a
 * violation.  fs_iunlock() drops exactly the locks named.
 */
void fs_ilock(struct fs_inode *ip, unsigned flags);
void fs_iunlock(struct fs_inode *ip, unsigned flags);

/*
 * Try to take all of flags without blocking.  Returns true with all of
 * them held, false with none of them held.  Exempt from the order check:
 * the way to take a lock out of order is to try it and back off.
 */
bool fs_ilock_nowait(struct fs_inode *ip, unsigned flags) MUST_CHECK;

/*
 * Lock two inodes (a and b may be the same inode) with the same flags, in
 * the order class by class, ascending inode number.  fs_iunlock2() drops
 * them (order does not matter for unlocking).
 */
void fs_ilock2(struct fs_inode *a, struct fs_inode *b, unsigned flags);
void fs_iunlock2(struct fs_inode *a, struct fs_inode *b, unsigned flags);

/*
 * Lock up to FS_ILOCK_MANY_MAX inodes (duplicates and NULL entries are
 * allowed and skipped) with the same flags, in the global order.
 */
void fs_ilock_many(struct fs_inode *const *ips, int n, unsigned flags);
void fs_iunlock_many(struct fs_inode *const *ips, int n, unsigned flags);

#ifdef PMEMNFS_DEBUG
/*
 * The locks of ip the calling thread holds, as FS_* flags (debug builds
 * only: release builds do not track holders).
 */
unsigned fs_ilock_held(const struct fs_inode *ip);

/* Abort with the caller's location unless every lock in flags is held. */
void fs_ilock_assert_at(const struct fs_inode *ip, unsigned flags,
			const char *file, int line, const char *func);
/* Abort unless the thread holds none of ip's locks. */
void fs_iunlock_assert_at(const struct fs_inode *ip,
			  const char *file, int line, const char *func);

/*
 * fs_assert_ilocked(ip, flags): SHARED means "held in either mode", EXCL
 * means "held exclusive".  A real check in debug builds.
 */
#define fs_assert_ilocked(ip, flags) \
	fs_ilock_assert_at((ip), (flags), __FILE__, __LINE__, __func__)
#define fs_assert_iunlocked(ip) \
	fs_iunlock_assert_at((ip), __FILE__, __LINE__, __func__)
#else
#define fs_assert_ilocked(ip, flags)	((void)(ip), (void)(flags))
#define fs_assert_iunlocked(ip)		((void)(ip))
#endif

#endif
