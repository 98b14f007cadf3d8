/*
 * ilock.c - the per-inode IOLOCK, MAPLOCK and ILOCK, and the debug-build
 * check that every thread takes them in the one order.
 */
#include "config.h"

#include <stdlib.h>

#include "common.h"
#include "fs/inode.h"

/* The three classes in lock order; a class index is its rank. */
enum ilock_class {
	ICLASS_IO = 0,
	ICLASS_MAP,
	ICLASS_I,
	ICLASS_COUNT,
};

static const unsigned class_shared[ICLASS_COUNT] = {
	FS_IOLOCK_SHARED, FS_MAPLOCK_SHARED, FS_ILOCK_SHARED,
};
static const unsigned class_excl[ICLASS_COUNT] = {
	FS_IOLOCK_EXCL, FS_MAPLOCK_EXCL, FS_ILOCK_EXCL,
};

static struct rwlock *
class_lock(struct fs_inode *ip, enum ilock_class c)
{
	switch (c) {
	case ICLASS_IO:
		return &ip->locks.iolock;
	case ICLASS_MAP:
		return &ip->locks.maplock;
	default:
		return &ip->locks.ilock;
	}
}

/* The mode flags asks for in class c, LOCK_NONE if it names none. */
static enum lock_mode
class_mode(unsigned flags, enum ilock_class c)
{
	if (flags & class_excl[c])
		return LOCK_EXCL;
	if (flags & class_shared[c])
		return LOCK_SHARED;
	return LOCK_NONE;
}

/* A flag word names only known bits and at most one mode per class. */
static void
check_flags(unsigned flags)
{
	VERIFY((flags & ~FS_LOCK_MASK) == 0);
	for (int c = 0; c < ICLASS_COUNT; c++)
		VERIFY((flags & class_shared[c]) == 0 ||
		       (flags & class_excl[c]) == 0);
}

#ifdef PMEMNFS_DEBUG
static const char *const class_name[ICLASS_COUNT] = {
	"IOLOCK", "MAPLOCK", "ILOCK",
};

/*
 * Per-thread record of the inode locks this thread holds, for the order
 * check.  The deepest legal nesting is a rename (four inodes), so a small
 * fixed table is enough; overflowing it is a bug and trips.
 */
#define ILOCK_TRACK_MAX 16
struct held_inode {
	const struct fs_inode	*ip;
	uint64_t		ino;
	unsigned		flags;
};
static __thread struct held_inode held_inodes[ILOCK_TRACK_MAX];
static __thread int nheld_inodes;

static struct held_inode *
track_find(const struct fs_inode *ip)
{
	for (int i = 0; i < nheld_inodes; i++)
		if (held_inodes[i].ip == ip)
			return &held_inodes[i];
	return NULL;
}

static NORETURN void
order_violation(const struct fs_inode *ip, enum ilock_class c,
		const struct held_inode *h, enum ilock_class hc)
{
	log_error("inode lock order violation: taking %s of inode %llu while "
		  "holding %s of inode %llu (order: IOLOCK -> MAPLOCK -> ILOCK, "
		  "class by class in ascending inode number)",
		  class_name[c], (unsigned long long)ip->ino, class_name[hc],
		  (unsigned long long)h->ino);
	assert_fail("inode lock order", __FILE__, __LINE__, __func__);
}

/*
 * About to block for class c of ip: every inode lock the thread holds must
 * come before it in the global order (class first, then inode number).
 */
static void
track_check_order(const struct fs_inode *ip, enum ilock_class c)
{
	for (int i = 0; i < nheld_inodes; i++) {
		const struct held_inode *h = &held_inodes[i];

		for (int hc = 0; hc < ICLASS_COUNT; hc++) {
			if (!(h->flags & (class_shared[hc] | class_excl[hc])))
				continue;
			if ((int)c < hc)
				order_violation(ip, c, h, (enum ilock_class)hc);
			if ((int)c == hc && h->ino >= ip->ino)
				order_violation(ip, c, h, (enum ilock_class)hc);
		}
	}
}

static void
track_acquired(const struct fs_inode *ip, unsigned flag)
{
	struct held_inode *h = track_find(ip);

	if (h == NULL) {
		VERIFY(nheld_inodes < ILOCK_TRACK_MAX);
		h = &held_inodes[nheld_inodes++];
		h->ip = ip;
		h->ino = ip->ino;
		h->flags = 0;
	}
	h->flags |= flag;
}

static void
track_released(const struct fs_inode *ip, unsigned flag)
{
	struct held_inode *h = track_find(ip);

	VERIFY(h != NULL && (h->flags & flag) == flag);
	h->flags &= ~flag;
	if (h->flags == 0)
		*h = held_inodes[--nheld_inodes];
}

unsigned
fs_ilock_held(const struct fs_inode *ip)
{
	const struct held_inode *h = track_find(ip);

	return h ? h->flags : 0;
}

void
fs_ilock_assert_at(const struct fs_inode *ip, unsigned flags,
		   const char *file, int line, const char *func)
{
	unsigned held = fs_ilock_held(ip);

	check_flags(flags);
	for (int c = 0; c < ICLASS_COUNT; c++) {
		bool ok = true;

		if (flags & class_excl[c])
			ok = (held & class_excl[c]) != 0;
		else if (flags & class_shared[c])
			ok = (held & (class_shared[c] | class_excl[c])) != 0;
		if (!ok) {
			log_error("inode %llu: %s %s not held (held 0x%x)",
				  (unsigned long long)ip->ino, class_name[c],
				  (flags & class_excl[c]) ? "exclusive" :
				  "shared", held);
			assert_fail("fs_assert_ilocked", file, line, func);
		}
	}
}

void
fs_iunlock_assert_at(const struct fs_inode *ip,
		     const char *file, int line, const char *func)
{
	unsigned held = fs_ilock_held(ip);

	if (held != 0) {
		log_error("inode %llu: locks 0x%x held, none expected",
			  (unsigned long long)ip->ino, held);
		assert_fail("fs_assert_iunlocked", file, line, func);
	}
}
#else
#define track_check_order(ip, c)	((void)0)
#define track_acquired(ip, f)		((void)0)
#define track_released(ip, f)		((void)0)
#endif

void
fs_ilock_init(struct fs_inode *ip)
{
	rwlock_init(&ip->locks.iolock, "iolock");
	rwlock_init(&ip->locks.maplock, "maplock");
	rwlock_init(&ip->locks.ilock, "ilock");
	fs_refset_init(ip);
}

void
fs_ilock_destroy(struct fs_inode *ip)
{
	fs_assert_iunlocked(ip);
	fs_refset_destroy(ip);
	rwlock_destroy(&ip->locks.ilock);
	rwlock_destroy(&ip->locks.maplock);
	rwlock_destroy(&ip->locks.iolock);
}

/*
 * THE LOCK ORDER (written here once; fs/ilock.h and docs/refset.md point
 * here):
 *
 *	IOLOCK  ->  MAPLOCK  ->  ILOCK  ->  refset mutex
 *
 * Several inodes: class by class, ascending inode number within a class
 * (all IOLOCKs, then all MAPLOCKs, then all ILOCKs).  IOLOCK first because
 * I/O and map changes are the outermost operations and may wait (a break
 * drops IOLOCK+MAPLOCK to wait); MAPLOCK next because taking a grant or a
 * pin happens inside an I/O-level operation; ILOCK last because it is held
 * only briefly around the in-memory inode and its extent map, never
 * across a wait.  The refset mutex is innermost and is never held while
 * calling out.
 *
 * Locks: takes the locks named in flags; in debug builds aborts if the
 * thread already holds an inode lock that comes later in the order.
 */
void
fs_ilock(struct fs_inode *ip, unsigned flags)
{
	check_flags(flags);
	for (int c = 0; c < ICLASS_COUNT; c++) {
		enum lock_mode m = class_mode(flags, (enum ilock_class)c);

		if (m == LOCK_NONE)
			continue;
		track_check_order(ip, (enum ilock_class)c);
		rwlock_lock(class_lock(ip, (enum ilock_class)c), m);
		track_acquired(ip, m == LOCK_EXCL ? class_excl[c] :
			       class_shared[c]);
	}
}

/*
 * Drop the locks named in flags, innermost first.
 * Locks: the caller holds exactly those modes (checked in debug builds).
 */
void
fs_iunlock(struct fs_inode *ip, unsigned flags)
{
	check_flags(flags);
	for (int c = ICLASS_COUNT - 1; c >= 0; c--) {
		enum lock_mode m = class_mode(flags, (enum ilock_class)c);

		if (m == LOCK_NONE)
			continue;
		track_released(ip, m == LOCK_EXCL ? class_excl[c] :
			       class_shared[c]);
		rwlock_unlock(class_lock(ip, (enum ilock_class)c));
	}
}

/*
 * Try every lock in flags without blocking; all or nothing.
 * Locks: not order-checked (a trylock can not deadlock).
 */
bool
fs_ilock_nowait(struct fs_inode *ip, unsigned flags)
{
	unsigned got = 0;

	check_flags(flags);
	for (int c = 0; c < ICLASS_COUNT; c++) {
		enum lock_mode m = class_mode(flags, (enum ilock_class)c);
		unsigned f = m == LOCK_EXCL ? class_excl[c] : class_shared[c];

		if (m == LOCK_NONE)
			continue;
		if (!rwlock_trylock(class_lock(ip, (enum ilock_class)c), m)) {
			fs_iunlock(ip, got);
			return false;
		}
		track_acquired(ip, f);
		got |= f;
	}
	return true;
}

/* Sort up to FS_ILOCK_MANY_MAX inodes by number, dropping NULLs and dups. */
static int
sort_inodes(struct fs_inode *const *ips, int n, struct fs_inode **out)
{
	int k = 0;

	VERIFY(n >= 0 && n <= FS_ILOCK_MANY_MAX);
	for (int i = 0; i < n; i++) {
		struct fs_inode *ip = ips[i];
		bool dup = false;
		int j;

		if (ip == NULL)
			continue;
		for (j = 0; j < k; j++)
			if (out[j] == ip)
				dup = true;
		if (dup)
			continue;
		/* Insertion sort: n is at most four. */
		for (j = k; j > 0 && out[j - 1]->ino > ip->ino; j--)
			out[j] = out[j - 1];
		out[j] = ip;
		k++;
	}
	return k;
}

/*
 * Lock several inodes with the same flags in the global order.
 * Locks: as fs_ilock(), for each inode.
 */
void
fs_ilock_many(struct fs_inode *const *ips, int n, unsigned flags)
{
	struct fs_inode *sorted[FS_ILOCK_MANY_MAX];
	int k = sort_inodes(ips, n, sorted);

	check_flags(flags);
	for (int c = 0; c < ICLASS_COUNT; c++) {
		unsigned f = flags & (class_shared[c] | class_excl[c]);

		if (f == 0)
			continue;
		for (int i = 0; i < k; i++)
			fs_ilock(sorted[i], f);
	}
}

void
fs_iunlock_many(struct fs_inode *const *ips, int n, unsigned flags)
{
	struct fs_inode *sorted[FS_ILOCK_MANY_MAX];
	int k = sort_inodes(ips, n, sorted);

	for (int i = k - 1; i >= 0; i--)
		fs_iunlock(sorted[i], flags);
}

void
fs_ilock2(struct fs_inode *a, struct fs_inode *b, unsigned flags)
{
	struct fs_inode *ips[2] = { a, b };

	fs_ilock_many(ips, 2, flags);
}

void
fs_iunlock2(struct fs_inode *a, struct fs_inode *b, unsigned flags)
{
	struct fs_inode *ips[2] = { a, b };

	fs_iunlock_many(ips, 2, flags);
}
