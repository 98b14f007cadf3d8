/*
 * bench_refset.c - what the reference set costs on the paths that matter:
 * fs_break_layouts() with no references (it sits on every truncate, punch
 * and MDS write), with 1,000 client layouts that all answer the recall at
 * once, and the grant / pin round trips that LAYOUTGET and zero-copy READ
 * pay.  Prints one line per case; docs/refset.md keeps the numbers.
 * BENCH_SCALE=n multiplies the iteration counts (default 1).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fs/inode.h"

#define NREFS	1000

static struct fs_inode *bench_ip;

static void
answer_now(struct fs_layoutref *ref)
{
	/* The client's LAYOUTRETURN arrives before the recall is even sent. */
	fs_layoutref_remove(bench_ip, ref);
}

static const struct fs_layoutref_ops answer_ops = {
	.break_ref = answer_now,
	.expire_ref = NULL,
};

static void
report(const char *what, uint64_t ns, uint64_t n, const char *unit)
{
	printf("%-46s %10.1f ns/%s  (%llu in %.3f s)\n", what,
	       (double)ns / (double)n, unit, (unsigned long long)n,
	       (double)ns / 1e9);
}

static struct fs_inode *
bench_inode(uint64_t ino)
{
	struct fs_inode *ip = calloc(1, sizeof(*ip));

	if (ip == NULL) {
		perror("calloc");
		exit(1);
	}
	ip->ino = ino;
	fs_ilock_init(ip);
	return ip;
}

/* An empty set: the cost every truncate pays when nobody holds a layout. */
static void
bench_empty(uint64_t n)
{
	struct fs_inode *ip = bench_inode(1);
	unsigned held = FS_BREAK_LOCKS;
	uint64_t t0;

	fs_ilock(ip, held);
	t0 = clock_now_ns();
	for (uint64_t i = 0; i < n; i++)
		if (fs_break_layouts(ip, &held, i * 4096, FS_RANGE_EOF,
				     FS_BREAK_UNMAP, 0) != 0)
			abort();
	report("break_layouts, no references", clock_now_ns() - t0, n,
	       "call");
	fs_iunlock(ip, held);

	t0 = clock_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		fs_ilock(ip, held);
		if (fs_break_layouts(ip, &held, 0, FS_RANGE_EOF,
				     FS_BREAK_UNMAP, 0) != 0)
			abort();
		fs_iunlock(ip, held);
	}
	report("lock + break_layouts + unlock, no references",
	       clock_now_ns() - t0, n, "call");
	fs_ilock_destroy(ip);
	free(ip);
}

/*
 * References elsewhere in the file, none on the range: the break has to
 * look at the set, but breaks nothing.
 */
static void
bench_no_conflict(uint64_t n)
{
	struct fs_inode *ip = bench_inode(2);
	struct fs_layoutref *refs = calloc(NREFS, sizeof(*refs));
	unsigned held = FS_BREAK_LOCKS;
	uint64_t t0;

	if (refs == NULL)
		abort();
	bench_ip = ip;
	fs_ilock(ip, held);
	for (int i = 0; i < NREFS; i++)
		if (fs_layoutref_add(ip, &refs[i], FS_REF_LAYOUT_READ,
				     (uint64_t)i * 4096, 4096, &answer_ops,
				     NULL) != 0)
			abort();
	t0 = clock_now_ns();
	for (uint64_t i = 0; i < n; i++)
		if (fs_break_layouts(ip, &held, (uint64_t)NREFS * 4096,
				     FS_RANGE_EOF, FS_BREAK_UNMAP, 0) != 0)
			abort();
	report("break_layouts, 1000 refs before the range",
	       clock_now_ns() - t0, n, "call");
	t0 = clock_now_ns();
	for (uint64_t i = 0; i < n; i++)
		if (fs_break_layouts(ip, &held, 0, FS_RANGE_EOF,
				     FS_BREAK_WRITE, 0) != 0)
			abort();
	report("break_layouts WRITE, 1000 READ refs on range",
	       clock_now_ns() - t0, n, "call");
	for (int i = 0; i < NREFS; i++)
		fs_layoutref_remove(ip, &refs[i]);
	fs_iunlock(ip, held);
	fs_ilock_destroy(ip);
	free(ip);
	free(refs);
}

/* 1,000 client layouts on the range, each answering the recall at once. */
static void
bench_thousand(uint64_t rounds)
{
	struct fs_inode *ip = bench_inode(3);
	struct fs_layoutref *refs = calloc(NREFS, sizeof(*refs));
	unsigned held = FS_BREAK_LOCKS;
	uint64_t t_break = 0, t_add = 0;

	if (refs == NULL)
		abort();
	bench_ip = ip;
	fs_ilock(ip, held);
	for (uint64_t r = 0; r < rounds; r++) {
		uint64_t t0 = clock_now_ns();

		for (int i = 0; i < NREFS; i++)
			if (fs_layoutref_add(ip, &refs[i], FS_REF_LAYOUT_RW,
					     (uint64_t)i * 65536, 65536,
					     &answer_ops, NULL) != 0)
				abort();
		t_add += clock_now_ns() - t0;
		t0 = clock_now_ns();
		if (fs_break_layouts(ip, &held, 0, FS_RANGE_EOF,
				     FS_BREAK_UNMAP, 0) != 0)
			abort();
		t_break += clock_now_ns() - t0;
		if (fs_refset_count(ip) != 0)
			abort();
	}
	fs_iunlock(ip, held);
	report("break_layouts, 1000 refs answering at once", t_break, rounds,
	       "call");
	report("  the same, per reference", t_break, rounds * NREFS, "ref");
	report("layoutref_add (ascending offsets)", t_add, rounds * NREFS,
	       "add");
	fs_ilock_destroy(ip);
	free(ip);
	free(refs);
}

/* LAYOUTGET + LAYOUTRETURN and pin + unpin round trips, uncontended. */
static void
bench_round_trips(uint64_t n)
{
	struct fs_inode *ip = bench_inode(4);
	struct fs_layoutref ref;
	unsigned held = FS_MAPLOCK_SHARED;
	uint64_t t0;

	memset(&ref, 0, sizeof(ref));
	t0 = clock_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		fs_ilock(ip, held);
		if (fs_layoutref_add(ip, &ref, FS_REF_LAYOUT_RW, 0, 1 << 20,
				     &answer_ops, NULL) != 0)
			abort();
		fs_iunlock(ip, held);
		fs_layoutref_remove(ip, &ref);
	}
	report("grant + return (MAPLOCK shared around add)",
	       clock_now_ns() - t0, n, "pair");
	t0 = clock_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		fs_ilock(ip, held);
		if (fs_pin_range(ip, &held, &ref, 0, 65536, NULL, NULL, 0) != 0)
			abort();
		fs_iunlock(ip, held);
		fs_unpin(ip, &ref);
	}
	report("pin + unpin (MAPLOCK shared around pin)",
	       clock_now_ns() - t0, n, "pair");
	fs_ilock_destroy(ip);
	free(ip);
}

int
main(void)
{
	const char *s = getenv("BENCH_SCALE");
	uint64_t scale = s ? strtoull(s, NULL, 10) : 1;

	if (scale == 0)
		scale = 1;
#ifdef PMEMNFS_DEBUG
	printf("note: debug build (lock tracking on); numbers are pessimistic\n");
#endif
	bench_empty(2000000 * scale);
	bench_no_conflict(20000 * scale);
	bench_thousand(200 * scale);
	bench_round_trips(1000000 * scale);
	return 0;
}
