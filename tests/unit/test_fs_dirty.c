/*
 * test_fs_dirty.c - the dirty ranges of unstable writes (src/fs/dirty.c)
 * and fs_commit() flushing exactly them.
 *
 *  - the range list against a byte-map model that applies the same merge
 *    rule (closest pair above FS_DIRTY_MAX), and that never loses a byte
 *    really written;
 *  - random unstable writes, then COMMITs of sub-ranges: the list keeps
 *    exactly the dirty bytes outside the range; a commit of everything
 *    empties it; on the msync path a commit flushes once per extent that
 *    holds dirty pieces (one msync over their hull), never when nothing
 *    in the range is dirty;
 *  - the cap; truncate, DEALLOCATE, CLONE and stable overwrites clip;
 *  - threads writing and committing one file at once;
 *  - on pmem (PMEM_IS_PMEM_FORCE=1, run by test_fs_dirty_pmem.sh with
 *    --expect-pmem) unstable overwrites are persisted at WRITE time and
 *    the list stays empty.
 *
 * DIRTY_ROUNDS=n runs the model test longer (default 20000 operations).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../testlib.h"
#include "test_fs_util.h"
#include "../../src/fs/extmap.h"
#include "../../src/fs/dirty.h"

#define VOL_SIZE	(64ULL << 20)
#define FILE_SIZE	(4ULL << 20)
/* The model test's byte space: small enough to compare byte by byte. */
#define SPACE		65536

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static struct fs *g_fs;
static struct fs_inode *g_root;
static int g_files;

static struct fs_inode *
new_file(void)
{
	char name[32];

	snprintf(name, sizeof(name), "f%d", g_files++);
	return tf_create(g_fs, g_root, name, FS_TYPE_REG);
}

/* Write len bytes of pattern at off with how; fails the test on error. */
static void
put(struct fs_inode *ip, uint64_t off, size_t len, int seed,
    enum fs_stable how)
{
	uint8_t *buf = malloc(len);
	size_t w = 0;

	REQUIRE(buf != NULL);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + (off + i) * 7);
	REQUIRE(fs_write(g_fs, ip, off, len, buf, how, &w) == 0);
	REQUIRE(w == len);
	free(buf);
}

/* ---- the list against a model ---- */

/* Ranges of a byte map, into r (up to max); returns how many. */
static uint32_t
map_ranges(const uint8_t *m, struct fs_dirty_range *r, uint32_t max)
{
	uint32_t n = 0;

	for (uint64_t i = 0; i < SPACE;) {
		uint64_t j;

		if (!m[i]) {
			i++;
			continue;
		}
		for (j = i; j < SPACE && m[j]; j++)
			;
		if (n < max)
			r[n] = (struct fs_dirty_range){ .lo = i, .hi = j };
		n++;
		i = j;
	}
	return n;
}

/* The model's merge rule: fill the smallest gap (first on a tie). */
static void
map_shrink(uint8_t *m)
{
	struct fs_dirty_range r[SPACE / 2 + 1];
	uint32_t n;

	while ((n = map_ranges(m, r, SPACE / 2 + 1)) > FS_DIRTY_MAX) {
		uint32_t best = 0;
		uint64_t gap = UINT64_MAX;

		for (uint32_t i = 0; i + 1 < n; i++) {
			if (r[i + 1].lo - r[i].hi < gap) {
				gap = r[i + 1].lo - r[i].hi;
				best = i;
			}
		}
		memset(m + r[best].hi, 1, r[best + 1].lo - r[best].hi);
	}
}

/* The list must equal the model's map exactly. */
static void
check_list(struct fs_inode *ip, const uint8_t *m)
{
	struct fs_dirty_range r[FS_DIRTY_MAX + 1];
	uint32_t n = map_ranges(m, r, FS_DIRTY_MAX + 1);
	uint32_t got = fs_dirty_count(ip);

	CHECK_EQ(got, n);
	if (got != n)
		return;
	for (uint32_t i = 0; i < n; i++) {
		struct fs_dirty_range x = fs_dirty_range(ip, i);

		CHECK_EQ(x.lo, r[i].lo);
		CHECK_EQ(x.hi, r[i].hi);
	}
}

struct pieces {
	uint64_t	s[FS_DIRTY_MAX + 1];
	uint64_t	t[FS_DIRTY_MAX + 1];
	uint32_t	n;
	int		fail_at;	/* return -EIO at this call, -1 never */
};

static int
piece_cb(void *ctx, uint64_t s, uint64_t t)
{
	struct pieces *p = ctx;

	if ((int)p->n == p->fail_at)
		return -EIO;
	REQUIRE(p->n <= FS_DIRTY_MAX);
	p->s[p->n] = s;
	p->t[p->n] = t;
	p->n++;
	return 0;
}

static void
test_model(void)
{
	struct fs_inode *ip = new_file();
	static uint8_t m[SPACE], truth[SPACE];
	const char *env = getenv("DIRTY_ROUNDS");
	long rounds = env ? atol(env) : 20000;
	uint64_t merges_seen = 0;

	fs_ilock(ip, FS_ILOCK_EXCL);
	for (long k = 0; k < rounds; k++) {
		uint64_t lo = rnd() % SPACE;
		uint64_t hi = lo + 1 + rnd() % (rnd() % 4 ? 512 : 8192);
		unsigned op = rnd() % 10;

		hi = MIN(hi, SPACE);
		if (op < 6) {
			fs_dirty_add(ip, lo, hi);
			memset(m + lo, 1, hi - lo);
			memset(truth + lo, 1, hi - lo);
			if (map_ranges(m, NULL, 0) > FS_DIRTY_MAX)
				merges_seen++;
			map_shrink(m);
		} else if (op < 8) {
			fs_dirty_clear(ip, lo, hi);
			memset(m + lo, 0, hi - lo);
			memset(truth + lo, 0, hi - lo);
			map_shrink(m);
		} else {
			struct pieces p = { .fail_at = -1 };
			uint32_t nb = fs_dirty_count(ip);

			if (op == 9 && nb) {
				/* A failing flush leaves the list alone. */
				p.fail_at = 0;
				CHECK_EQ(fs_dirty_take(ip, 0, UINT64_MAX,
						       piece_cb, &p), -EIO);
				CHECK_EQ(fs_dirty_count(ip), nb);
				p = (struct pieces){ .fail_at = -1 };
			}
			REQUIRE(fs_dirty_take(ip, lo, hi, piece_cb, &p) == 0);
			/* The pieces are exactly the map inside [lo, hi). */
			uint64_t pos = lo;

			for (uint32_t i = 0; i < p.n; i++) {
				CHECK(p.s[i] >= pos && p.s[i] < p.t[i] &&
				      p.t[i] <= hi);
				for (uint64_t b = pos; b < p.s[i]; b++)
					if (m[b]) {
						CHECK(!m[b]);
						break;
					}
				for (uint64_t b = p.s[i]; b < p.t[i]; b++)
					if (!m[b]) {
						CHECK(m[b]);
						break;
					}
				pos = p.t[i];
			}
			for (uint64_t b = pos; b < hi; b++)
				if (m[b]) {
					CHECK(!m[b]);
					break;
				}
			memset(m + lo, 0, hi - lo);
			memset(truth + lo, 0, hi - lo);
			map_shrink(m);
		}
		check_list(ip, m);
		/* Never loses a byte really written and not flushed. */
		for (uint64_t b = 0; b < SPACE; b++)
			if (truth[b] && !m[b]) {
				CHECK(!"dirty byte lost");
				break;
			}
		if (test_failures)
			break;
	}
	CHECK(merges_seen > 0);		/* the cap was exercised */
	fs_dirty_clear(ip, 0, UINT64_MAX);
	CHECK_EQ(fs_dirty_count(ip), 0);
	fs_iunlock(ip, FS_ILOCK_EXCL);
	fs_iput(g_fs, ip);
}

/* ---- fs_write / fs_commit ---- */

/* ip's dirty list: number of ranges and bytes (takes ILOCK shared). */
static void
dirty_stat(struct fs_inode *ip, uint32_t *ranges, uint64_t *bytes)
{
	fs_ilock(ip, FS_ILOCK_SHARED);
	*ranges = fs_dirty_count(ip);
	*bytes = fs_dirty_bytes(ip);
	fs_iunlock(ip, FS_ILOCK_SHARED);
}

static uint32_t
ranges_of(struct fs_inode *ip)
{
	uint32_t n;
	uint64_t b;

	dirty_stat(ip, &n, &b);
	return n;
}

static uint64_t
bytes_of(struct fs_inode *ip)
{
	uint32_t n;
	uint64_t b;

	dirty_stat(ip, &n, &b);
	return b;
}

/* A FILE_SIZE file written FILE_SYNC (all RW, one extent). */
static struct fs_inode *
full_file(void)
{
	struct fs_inode *ip = new_file();

	put(ip, 0, FILE_SIZE, 1, FS_FILE_SYNC);
	fs_ilock(ip, FS_ILOCK_SHARED);
	CHECK_EQ(fs_extmap_count(ip->map), 1);
	fs_iunlock(ip, FS_ILOCK_SHARED);
	CHECK_EQ(ranges_of(ip), 0);
	return ip;
}

/* Dirty bytes of the model inside [lo, hi) and the number of pieces. */
static void
model_pieces(const struct fs_dirty_range *r, unsigned n, uint64_t lo,
	     uint64_t hi, uint64_t *bytes, unsigned *pieces)
{
	*bytes = 0;
	*pieces = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t s = MAX(r[i].lo, lo), t = MIN(r[i].hi, hi);

		if (s < t) {
			*bytes += t - s;
			(*pieces)++;
		}
	}
}

static void
test_commit_exact(void)
{
	struct fs_inode *ip = full_file();
	struct fs_dirty_range w[8];
	uint64_t total = 0;

	if (vol_is_pmem(fs_vol(g_fs))) {
		fs_iput(g_fs, ip);
		return;		/* test_pmem covers this case */
	}
	/* 8 disjoint writes, one per 512 KiB slot, odd offsets and lengths. */
	for (unsigned i = 0; i < 8; i++) {
		uint64_t slot = i * (FILE_SIZE / 8);
		uint64_t off = slot + 1 + rnd() % 100000;
		uint64_t len = 1 + rnd() % 20000;

		put(ip, off, len, 3, FS_UNSTABLE);
		w[i] = (struct fs_dirty_range){ .lo = off, .hi = off + len };
		total += len;
	}
	CHECK_EQ(ranges_of(ip), 8);
	CHECK_EQ(bytes_of(ip), total);

	/* Sub-range commits, each cutting some writes in the middle. */
	uint64_t cuts[][2] = {
		{ w[1].lo + 10, w[2].lo + 5 },		/* tail of 1, head of 2 */
		{ w[4].lo + 3, w[4].lo + 7 },		/* middle of 4: split */
		{ 0, 1 },				/* nothing dirty */
	};
	for (unsigned c = 0; c < 3; c++) {
		uint64_t lo = cuts[c][0], hi = cuts[c][1], bytes;
		unsigned pieces;
		struct fs_dirty_range cur[FS_DIRTY_MAX];
		uint32_t n = ranges_of(ip);

		fs_ilock(ip, FS_ILOCK_SHARED);
		for (uint32_t i = 0; i < n; i++)
			cur[i] = fs_dirty_range(ip, i);
		fs_iunlock(ip, FS_ILOCK_SHARED);
		model_pieces(cur, n, lo, hi, &bytes, &pieces);
		vol_inject_reset();
		CHECK_EQ(fs_commit(g_fs, ip, lo, hi - lo), 0);
		/* One extent: one msync if anything there is dirty. */
		CHECK_EQ(vol_inject_count("fs.data.commit"), pieces ? 1 : 0);
		CHECK_EQ(bytes_of(ip), total - bytes);
		total -= bytes;
		/* Again: nothing left to flush there. */
		vol_inject_reset();
		CHECK_EQ(fs_commit(g_fs, ip, lo, hi - lo), 0);
		CHECK_EQ(vol_inject_count("fs.data.commit"), 0);
	}
	/* The split left [w4.lo, +3) and [w4.lo+7, w4.hi). */
	CHECK_EQ(ranges_of(ip), 9);
	/* Everything: the list empties, one flush for the extent. */
	vol_inject_reset();
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);
	CHECK_EQ(vol_inject_count("fs.data.commit"), 1);
	CHECK_EQ(ranges_of(ip), 0);
	CHECK_EQ(bytes_of(ip), 0);
	vol_inject_reset();
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);
	CHECK_EQ(vol_inject_count("fs.data.commit"), 0);
	/* The data reads back as written. */
	uint8_t *buf = malloc(FILE_SIZE);
	size_t nr = 0;
	bool eof = false;

	REQUIRE(buf != NULL);
	REQUIRE(fs_read(g_fs, ip, 0, FILE_SIZE, buf, &nr, &eof) == 0);
	CHECK_EQ(nr, FILE_SIZE);
	for (uint64_t b = 0; b < FILE_SIZE; b++) {
		int seed = 1;

		for (unsigned i = 0; i < 8; i++)
			if (b >= w[i].lo && b < w[i].hi)
				seed = 3;
		if (buf[b] != (uint8_t)(seed + b * 7)) {
			CHECK_EQ(buf[b], (uint8_t)(seed + b * 7));
			break;
		}
	}
	free(buf);
	/* A commit range running past 2^64 ends at EOF. */
	put(ip, 100, 10, 5, FS_UNSTABLE);
	CHECK_EQ(fs_commit(g_fs, ip, 50, UINT64_MAX), 0);
	CHECK_EQ(ranges_of(ip), 0);
	fs_iput(g_fs, ip);
}

static void
test_cap(void)
{
	struct fs_inode *ip = full_file();
	uint64_t n = FS_DIRTY_MAX * 3, stride = FILE_SIZE / n;

	if (vol_is_pmem(fs_vol(g_fs))) {
		fs_iput(g_fs, ip);
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		put(ip, i * stride + (rnd() % 64), 512, 7, FS_UNSTABLE);
	/* Bounded, and every written byte still covered. */
	CHECK_EQ(ranges_of(ip), FS_DIRTY_MAX);
	CHECK(bytes_of(ip) >= n * 512);
	vol_inject_reset();
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);
	CHECK_EQ(vol_inject_count("fs.data.commit"), 1);
	CHECK_EQ(ranges_of(ip), 0);
	fs_iput(g_fs, ip);
}

/* Pieces in two extents: one flush each, and the hull stays inside. */
static void
test_commit_extents(void)
{
	struct fs_inode *ip = new_file();

	if (vol_is_pmem(fs_vol(g_fs))) {
		fs_iput(g_fs, ip);
		return;
	}
	/* Two runs of blocks with a hole between: two extents. */
	put(ip, 0, 1 << 20, 1, FS_FILE_SYNC);
	put(ip, 2 << 20, 1 << 20, 1, FS_FILE_SYNC);
	fs_ilock(ip, FS_ILOCK_SHARED);
	CHECK_EQ(fs_extmap_count(ip->map), 2);
	fs_iunlock(ip, FS_ILOCK_SHARED);
	put(ip, 1000, 100, 2, FS_UNSTABLE);
	put(ip, 500000, 100, 2, FS_UNSTABLE);
	put(ip, (2 << 20) + 7, 100, 2, FS_UNSTABLE);
	CHECK_EQ(ranges_of(ip), 3);
	/* Only the first extent's pieces. */
	vol_inject_reset();
	CHECK_EQ(fs_commit(g_fs, ip, 0, 1 << 20), 0);
	CHECK_EQ(vol_inject_count("fs.data.commit"), 1);
	CHECK_EQ(ranges_of(ip), 1);
	put(ip, 4096, 100, 2, FS_UNSTABLE);
	vol_inject_reset();
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);
	CHECK_EQ(vol_inject_count("fs.data.commit"), 2);
	CHECK_EQ(ranges_of(ip), 0);
	/* A piece over a hole (punched since) flushes nothing. */
	put(ip, 300000, 100, 2, FS_UNSTABLE);
	fs_ilock(ip, FS_ILOCK_EXCL);
	fs_dirty_add(ip, (1 << 20) + 10, (1 << 20) + 20);	/* the hole */
	fs_iunlock(ip, FS_ILOCK_EXCL);
	vol_inject_reset();
	CHECK_EQ(fs_commit(g_fs, ip, 1 << 20, 1 << 20), 0);
	CHECK_EQ(vol_inject_count("fs.data.commit"), 0);
	CHECK_EQ(ranges_of(ip), 1);
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);
	fs_iput(g_fs, ip);
}

/* The single range of ip, or {0, 0}. */
static struct fs_dirty_range
only_range(struct fs_inode *ip)
{
	struct fs_dirty_range r = { 0, 0 };

	fs_ilock(ip, FS_ILOCK_SHARED);
	CHECK_EQ(fs_dirty_count(ip), 1);
	if (fs_dirty_count(ip) == 1)
		r = fs_dirty_range(ip, 0);
	fs_iunlock(ip, FS_ILOCK_SHARED);
	return r;
}

static void
test_clip(void)
{
	struct fs_inode *ip = full_file(), *src;
	struct fs_setattr sa;
	struct fs_dirty_range r;

	if (vol_is_pmem(fs_vol(g_fs))) {
		fs_iput(g_fs, ip);
		return;
	}
	/* Truncate clips a range that crosses the new EOF, drops the rest. */
	put(ip, 100000, 50000, 2, FS_UNSTABLE);
	put(ip, 3000000, 4096, 2, FS_UNSTABLE);
	CHECK_EQ(ranges_of(ip), 2);
	memset(&sa, 0, sizeof(sa));
	sa.mask = FS_SET_SIZE;
	sa.size = 120000;
	CHECK_EQ(fs_setattr(g_fs, ip, &sa, NULL), 0);
	r = only_range(ip);
	CHECK_EQ(r.lo, 100000);
	CHECK_EQ(r.hi, 120000);
	/* Growing again does not bring anything back. */
	sa.size = FILE_SIZE;
	CHECK_EQ(fs_setattr(g_fs, ip, &sa, NULL), 0);
	r = only_range(ip);
	CHECK_EQ(r.hi, 120000);
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);

	/* DEALLOCATE in the middle splits. */
	put(ip, 8192, 40960, 2, FS_UNSTABLE);
	CHECK_EQ(fs_deallocate(g_fs, ip, 16384, 8192), 0);
	CHECK_EQ(ranges_of(ip), 2);
	CHECK_EQ(bytes_of(ip), 40960 - 8192);

	/* A stable overwrite makes its bytes durable: they leave the list. */
	put(ip, 8192, 4096, 4, FS_FILE_SYNC);
	CHECK_EQ(bytes_of(ip), 40960 - 8192 - 4096);

	/* CLONE onto the range replaces dst's blocks. */
	src = full_file();
	CHECK_EQ(fs_clone(g_fs, src, 0, ip, 0, 65536), 0);
	CHECK_EQ(ranges_of(ip), 0);
	/* The source keeps its own. */
	put(src, 4096, 10, 9, FS_UNSTABLE);
	CHECK_EQ(fs_clone(g_fs, src, 0, ip, 1 << 20, 8192), 0);
	CHECK_EQ(ranges_of(src), 1);
	CHECK_EQ(fs_commit(g_fs, src, 0, 0), 0);
	fs_iput(g_fs, src);
	fs_iput(g_fs, ip);
}

/*
 * Threads write unstable ranges into their own quarter of one file and
 * commit random sub-ranges of it, all on the same dirty list (ILOCK
 * assertions are live in debug builds, and the list's invariants are
 * checked after every change).  Afterwards a full commit empties the
 * list and every thread's bytes read back.
 */
#define CONC_THREADS	4
#define CONC_OPS	300
#define CONC_REGION	(FILE_SIZE / CONC_THREADS)

struct conc {
	struct fs_inode	*ip;
	int		id;
	uint64_t	rng;
	uint8_t		*written;	/* per byte of the region */
};

static uint64_t
conc_rnd(struct conc *c)
{
	c->rng ^= c->rng << 13;
	c->rng ^= c->rng >> 7;
	c->rng ^= c->rng << 17;
	return c->rng;
}

static void *
conc_worker(void *arg)
{
	struct conc *c = arg;
	uint64_t base = (uint64_t)c->id * CONC_REGION;

	for (int k = 0; k < CONC_OPS; k++) {
		uint64_t off = conc_rnd(c) % (CONC_REGION - 8192);
		size_t len = 1 + conc_rnd(c) % 8192;

		put(c->ip, base + off, len, 20 + c->id, FS_UNSTABLE);
		memset(c->written + off, 1, len);
		if (k % 5 == 4) {
			uint64_t lo = conc_rnd(c) % CONC_REGION;
			uint64_t n = 1 + conc_rnd(c) % (CONC_REGION - lo);

			REQUIRE(fs_commit(g_fs, c->ip, base + lo, n) == 0);
		}
	}
	return NULL;
}

static void
test_concurrent(void)
{
	struct fs_inode *ip = full_file();
	struct conc c[CONC_THREADS];
	pthread_t tid[CONC_THREADS];
	uint8_t *buf = malloc(FILE_SIZE);
	size_t nr = 0;
	bool eof = false;

	REQUIRE(buf != NULL);
	for (int i = 0; i < CONC_THREADS; i++) {
		c[i] = (struct conc){ .ip = ip, .id = i,
				      .rng = 0x1234567ULL * (i + 1) };
		c[i].written = calloc(1, CONC_REGION);
		REQUIRE(c[i].written != NULL);
		REQUIRE(pthread_create(&tid[i], NULL, conc_worker, &c[i]) == 0);
	}
	for (int i = 0; i < CONC_THREADS; i++)
		pthread_join(tid[i], NULL);
	CHECK(ranges_of(ip) <= FS_DIRTY_MAX);
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);
	CHECK_EQ(ranges_of(ip), 0);
	REQUIRE(fs_read(g_fs, ip, 0, FILE_SIZE, buf, &nr, &eof) == 0);
	CHECK_EQ(nr, FILE_SIZE);
	for (int i = 0; i < CONC_THREADS; i++) {
		for (uint64_t b = 0; b < CONC_REGION; b++) {
			uint64_t pos = (uint64_t)i * CONC_REGION + b;
			int seed = c[i].written[b] ? 20 + i : 1;

			if (buf[pos] != (uint8_t)(seed + pos * 7)) {
				CHECK_EQ(buf[pos], (uint8_t)(seed + pos * 7));
				break;
			}
		}
		free(c[i].written);
	}
	free(buf);
	fs_iput(g_fs, ip);
}

/* On pmem unstable overwrites are durable at WRITE: nothing to commit. */
static bool g_expect_pmem;

static void
test_pmem(void)
{
	struct fs_inode *ip;

	if (!vol_is_pmem(fs_vol(g_fs))) {
		CHECK(!g_expect_pmem);
		return;
	}
	ip = full_file();
	vol_inject_reset();
	put(ip, 12345, 6789, 8, FS_UNSTABLE);
	put(ip, 2000000, 4096, 8, FS_UNSTABLE);
	CHECK_EQ(vol_inject_count("fs.data.write"), 2);
	CHECK_EQ(ranges_of(ip), 0);
	CHECK_EQ(fs_commit(g_fs, ip, 0, 0), 0);
	CHECK_EQ(vol_inject_count("fs.data.commit"), 0);
	fs_iput(g_fs, ip);
}

int
main(int argc, char **argv)
{
	g_expect_pmem = argc > 1 && strcmp(argv[1], "--expect-pmem") == 0;
	tf_setup();
	tf_mkfs(VOL_SIZE, 0);
	g_fs = tf_mount();
	g_root = tf_root(g_fs);
	TEST_RUN(test_model);
	TEST_RUN(test_commit_exact);
	TEST_RUN(test_cap);
	TEST_RUN(test_commit_extents);
	TEST_RUN(test_clip);
	TEST_RUN(test_concurrent);
	TEST_RUN(test_pmem);
	fs_iput(g_fs, g_root);
	REQUIRE(fs_unmount(g_fs) == 0);
	tf_cleanup();
	TEST_EXIT();
}
