/*
 * test_ilock.c - the per-inode locks: modes exclude each other as they
 * should, multi-inode locking follows inode numbers, and in debug builds
 * every out-of-order acquisition and every unmet lock assertion aborts.
 */
#include "config.h"

#include "common.h"
#include "fs/inode.h"
#include "../testlib.h"
#include "test_refset_util.h"

struct try_arg {
	struct fs_inode	*ip;
	unsigned	flags;
	bool		got;
};

static void *
try_thread(void *p)
{
	struct try_arg *a = p;

	a->got = fs_ilock_nowait(a->ip, a->flags);
	if (a->got)
		fs_iunlock(a->ip, a->flags);
	return NULL;
}

/* Could another thread take flags on ip right now? */
static bool
other_can_take(struct fs_inode *ip, unsigned flags)
{
	struct try_arg a = { ip, flags, false };
	pthread_t t;

	REQUIRE(pthread_create(&t, NULL, try_thread, &a) == 0);
	pthread_join(t, NULL);
	return a.got;
}

static void
test_modes(void)
{
	struct fs_inode *ip = test_inode_new(10);

	fs_ilock(ip, FS_IOLOCK_SHARED | FS_MAPLOCK_EXCL);
	CHECK(other_can_take(ip, FS_IOLOCK_SHARED));
	CHECK(!other_can_take(ip, FS_IOLOCK_EXCL));
	CHECK(!other_can_take(ip, FS_MAPLOCK_SHARED));
	CHECK(other_can_take(ip, FS_ILOCK_EXCL));
#ifdef PMEMNFS_DEBUG
	CHECK_EQ(fs_ilock_held(ip), FS_IOLOCK_SHARED | FS_MAPLOCK_EXCL);
#endif
	fs_assert_ilocked(ip, FS_IOLOCK_SHARED | FS_MAPLOCK_SHARED);
	fs_assert_ilocked(ip, FS_MAPLOCK_EXCL);
	/* Drop only MAPLOCK: IOLOCK stays. */
	fs_iunlock(ip, FS_MAPLOCK_EXCL);
	CHECK(other_can_take(ip, FS_MAPLOCK_EXCL));
	CHECK(!other_can_take(ip, FS_IOLOCK_EXCL));
	fs_iunlock(ip, FS_IOLOCK_SHARED);
	CHECK(other_can_take(ip, FS_IOLOCK_EXCL | FS_MAPLOCK_EXCL |
			     FS_ILOCK_EXCL));
#ifdef PMEMNFS_DEBUG
	CHECK_EQ(fs_ilock_held(ip), 0);
#endif
	test_inode_free(ip);
}

static void
test_nowait(void)
{
	struct fs_inode *ip = test_inode_new(11);

	fs_ilock(ip, FS_ILOCK_EXCL);
	/* All or nothing: IOLOCK is free, ILOCK is not. */
	CHECK(!other_can_take(ip, FS_IOLOCK_EXCL | FS_ILOCK_SHARED));
	CHECK(other_can_take(ip, FS_IOLOCK_EXCL));
	fs_iunlock(ip, FS_ILOCK_EXCL);

	/* Out of order is allowed for a trylock: it can not deadlock. */
	fs_ilock(ip, FS_ILOCK_EXCL);
	CHECK(fs_ilock_nowait(ip, FS_IOLOCK_EXCL));
#ifdef PMEMNFS_DEBUG
	CHECK_EQ(fs_ilock_held(ip), FS_ILOCK_EXCL | FS_IOLOCK_EXCL);
#endif
	fs_iunlock(ip, FS_ILOCK_EXCL | FS_IOLOCK_EXCL);
	test_inode_free(ip);
}

static void
test_two_inodes(void)
{
	struct fs_inode *lo = test_inode_new(5);
	struct fs_inode *hi = test_inode_new(9);
	struct fs_inode *ips[4];
	unsigned all = FS_IOLOCK_EXCL | FS_MAPLOCK_EXCL | FS_ILOCK_EXCL;

	/* Either argument order takes 5 before 9 (else the check aborts). */
	fs_ilock2(hi, lo, all);
	CHECK(!other_can_take(lo, FS_ILOCK_SHARED));
	CHECK(!other_can_take(hi, FS_IOLOCK_SHARED));
	fs_iunlock2(hi, lo, all);
	fs_ilock2(lo, lo, FS_IOLOCK_SHARED);	/* the same inode twice */
#ifdef PMEMNFS_DEBUG
	CHECK_EQ(fs_ilock_held(lo), FS_IOLOCK_SHARED);
#endif
	fs_iunlock2(lo, lo, FS_IOLOCK_SHARED);

	ips[0] = hi;
	ips[1] = NULL;
	ips[2] = lo;
	ips[3] = hi;
	fs_ilock_many(ips, 4, FS_IOLOCK_SHARED | FS_ILOCK_EXCL);
	CHECK(!other_can_take(lo, FS_ILOCK_SHARED));
	CHECK(!other_can_take(hi, FS_ILOCK_SHARED));
	CHECK(other_can_take(hi, FS_IOLOCK_SHARED));
	fs_iunlock_many(ips, 4, FS_IOLOCK_SHARED | FS_ILOCK_EXCL);
	CHECK(other_can_take(hi, all));
	CHECK(other_can_take(lo, all));
	test_inode_free(lo);
	test_inode_free(hi);
}

#ifdef PMEMNFS_DEBUG
static struct fs_inode *child_lo, *child_hi;

static void
io_after_map(void *arg)
{
	fs_ilock(child_lo, FS_MAPLOCK_SHARED);
	fs_ilock(child_lo, FS_IOLOCK_SHARED);	/* must abort */
}

static void
map_after_ilock(void *arg)
{
	fs_ilock(child_lo, FS_ILOCK_SHARED);
	fs_ilock(child_lo, FS_MAPLOCK_EXCL);	/* must abort */
}

static void
lower_ino_after_higher(void *arg)
{
	fs_ilock(child_hi, FS_IOLOCK_EXCL);
	fs_ilock(child_lo, FS_IOLOCK_EXCL);	/* must abort */
}

static void
class_before_number(void *arg)
{
	/* 5's ILOCK, then 9's IOLOCK: class order beats number order. */
	fs_ilock(child_lo, FS_ILOCK_EXCL);
	fs_ilock(child_hi, FS_IOLOCK_EXCL);	/* must abort */
}

static void
legal_sequence(void *arg)
{
	fs_ilock(child_lo, FS_IOLOCK_EXCL);
	fs_ilock(child_hi, FS_IOLOCK_EXCL);
	fs_ilock(child_lo, FS_MAPLOCK_EXCL);
	fs_ilock(child_hi, FS_MAPLOCK_SHARED);
	fs_ilock(child_hi, FS_ILOCK_EXCL);
	fs_iunlock(child_hi, FS_ILOCK_EXCL | FS_MAPLOCK_SHARED |
		   FS_IOLOCK_EXCL);
	fs_iunlock(child_lo, FS_MAPLOCK_EXCL | FS_IOLOCK_EXCL);
	_exit(fs_ilock_held(child_lo) == 0 && fs_ilock_held(child_hi) == 0 ?
	      0 : 3);
}

static void
assert_excl_when_shared(void *arg)
{
	fs_ilock(child_lo, FS_IOLOCK_SHARED | FS_MAPLOCK_EXCL);
	fs_assert_ilocked(child_lo, FS_IOLOCK_EXCL);	/* must abort */
}

static void
assert_unheld(void *arg)
{
	fs_assert_ilocked(child_lo, FS_ILOCK_SHARED);	/* must abort */
}

static void
unlock_unheld(void *arg)
{
	fs_iunlock(child_lo, FS_MAPLOCK_SHARED);	/* must abort */
}

static void
break_without_locks(void *arg)
{
	unsigned held = FS_IOLOCK_EXCL | FS_MAPLOCK_SHARED;

	fs_ilock(child_lo, held);
	/* MAPLOCK only shared: break_layouts must refuse. */
	if (fs_break_layouts(child_lo, &held, 0, 4096, FS_BREAK_UNMAP, 0) == 0)
		_exit(4);
}

static void
held_mismatch(void *arg)
{
	unsigned held = FS_IOLOCK_EXCL | FS_MAPLOCK_EXCL | FS_ILOCK_SHARED;

	fs_ilock(child_lo, FS_IOLOCK_EXCL | FS_MAPLOCK_EXCL);
	/* *held claims ILOCK too: a lie about lock state must trip. */
	if (fs_break_layouts(child_lo, &held, 0, 4096, FS_BREAK_UNMAP, 0) == 0)
		_exit(4);
}

static void
expect_abort(void (*fn)(void *), const char *what)
{
	int status = 0;
	int sig = test_in_child(fn, NULL, &status);

	if (sig != SIGABRT)
		fprintf(stderr, "  %s: expected SIGABRT, got signal %d status %d\n",
			what, sig, status);
	CHECK_EQ(sig, SIGABRT);
}
#endif

static void
test_order_checks(void)
{
#ifdef PMEMNFS_DEBUG
	int status = -1;

	child_lo = test_inode_new(5);
	child_hi = test_inode_new(9);
	log_set_level(LOG_LVL_ERROR);
	CHECK_EQ(test_in_child(legal_sequence, NULL, &status), 0);
	CHECK_EQ(status, 0);
	expect_abort(io_after_map, "IOLOCK after MAPLOCK");
	expect_abort(map_after_ilock, "MAPLOCK after ILOCK");
	expect_abort(lower_ino_after_higher, "ino 5 after ino 9");
	expect_abort(class_before_number, "IOLOCK(9) after ILOCK(5)");
	expect_abort(assert_excl_when_shared, "assert EXCL, hold SHARED");
	expect_abort(assert_unheld, "assert unheld");
	expect_abort(unlock_unheld, "unlock unheld");
	expect_abort(break_without_locks, "break with MAPLOCK shared");
	expect_abort(held_mismatch, "break with wrong *held");
	test_inode_free(child_lo);
	test_inode_free(child_hi);
#else
	fprintf(stderr, "  (order checks need --enable-debug; skipped)\n");
#endif
}

int
main(void)
{
	TEST_RUN(test_modes);
	TEST_RUN(test_nowait);
	TEST_RUN(test_two_inodes);
	TEST_RUN(test_order_checks);
	TEST_EXIT();
}
