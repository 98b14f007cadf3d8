/*
 * test_alloc.c - the extent allocator: near-goal and best-fit choice,
 * fragmentation and merging, mark_used conflicts, random alloc/free
 * against a shadow bitmap, concurrent threads.
 * PMEMNFS_TEST_LONG=1 runs the random and threaded tests longer.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "common.h"
#include "fs/alloc.h"
#include "../testlib.h"

static bool test_long;

static void
test_basic(void)
{
	struct fs_alloc a;
	uint64_t s, g;

	CHECK_EQ(fs_alloc_init(&a, 0), -EINVAL);
	REQUIRE(fs_alloc_init(&a, 1000) == 0);
	CHECK_EQ(fs_alloc_free_count(&a), 1000);
	CHECK_EQ(fs_alloc_extent_count(&a), 1);
	CHECK_EQ(fs_alloc_blocks(&a, 0, 0, &s, &g), -EINVAL);
	REQUIRE(fs_alloc_blocks(&a, 0, 10, &s, &g) == 0);
	CHECK_EQ(s, 0);
	CHECK_EQ(g, 10);
	/* a goal inside free space is honoured exactly */
	REQUIRE(fs_alloc_blocks(&a, 500, 20, &s, &g) == 0);
	CHECK_EQ(s, 500);
	CHECK_EQ(g, 20);
	/* a goal on a used block: the nearest free run after it */
	REQUIRE(fs_alloc_blocks(&a, 505, 5, &s, &g) == 0);
	CHECK_EQ(s, 520);
	CHECK_EQ(g, 5);
	/* continuing a file: goal = end of the previous run */
	REQUIRE(fs_alloc_blocks(&a, 10, 5, &s, &g) == 0);
	CHECK_EQ(s, 10);
	CHECK_EQ(fs_alloc_free_count(&a), 1000 - 10 - 20 - 5 - 5);
	CHECK_EQ(fs_alloc_check(&a), 0);
	/* a goal past the end is only a hint */
	REQUIRE(fs_alloc_blocks(&a, 5000, 5, &s, &g) == 0);
	CHECK(s + g <= 1000);
	CHECK_EQ(fs_alloc_free(&a, s, g), 0);
	CHECK_EQ(fs_alloc_free(&a, 0, 15), 0);
	CHECK_EQ(fs_alloc_free(&a, 500, 25), 0);
	CHECK_EQ(fs_alloc_free_count(&a), 1000);
	CHECK_EQ(fs_alloc_extent_count(&a), 1);	/* all merged again */
	CHECK_EQ(fs_alloc_largest(&a), 1000);
	CHECK_EQ(fs_alloc_check(&a), 0);
	fs_alloc_destroy(&a);
}

static void
test_exhaust(void)
{
	struct fs_alloc a;
	uint64_t s, g;

	REQUIRE(fs_alloc_init(&a, 64) == 0);
	REQUIRE(fs_alloc_blocks(&a, 0, 100, &s, &g) == 0);
	CHECK_EQ(s, 0);
	CHECK_EQ(g, 64);		/* fewer than asked: all there is */
	CHECK_EQ(fs_alloc_blocks(&a, 0, 1, &s, &g), -ENOSPC);
	CHECK_EQ(fs_alloc_free_count(&a), 0);
	CHECK_EQ(fs_alloc_extent_count(&a), 0);
	CHECK_EQ(fs_alloc_largest(&a), 0);
	CHECK_EQ(fs_alloc_check(&a), 0);
	CHECK_EQ(fs_alloc_free(&a, 60, 10), -EINVAL);	/* out of bounds */
	CHECK_EQ(fs_alloc_free(&a, 10, 0), -EINVAL);
	CHECK_EQ(fs_alloc_free(&a, UINT64_MAX - 1, 4), -EINVAL);
	fs_alloc_destroy(&a);
}

static void
test_fragmentation(void)
{
	struct fs_alloc a;
	uint64_t s, g;
	const uint64_t n = 1024;

	REQUIRE(fs_alloc_init(&a, n) == 0);
	for (uint64_t i = 0; i < n; i++) {
		REQUIRE(fs_alloc_blocks(&a, i, 1, &s, &g) == 0);
		CHECK_EQ(s, i);
	}
	for (uint64_t i = 0; i < n; i += 2)
		CHECK_EQ(fs_alloc_free(&a, i, 1), 0);
	CHECK_EQ(fs_alloc_extent_count(&a), n / 2);
	CHECK_EQ(fs_alloc_largest(&a), 1);
	CHECK_EQ(fs_alloc_check(&a), 0);
	/* only single blocks are free: ask for 4, get 1 */
	REQUIRE(fs_alloc_blocks(&a, 0, 4, &s, &g) == 0);
	CHECK_EQ(g, 1);
	CHECK_EQ(fs_alloc_free(&a, s, 1), 0);
	/* double free is refused and changes nothing */
	CHECK_EQ(fs_alloc_free(&a, 2, 1), -EINVAL);
	CHECK_EQ(fs_alloc_free(&a, 1, 3), -EINVAL);	/* 2 is free inside */
	CHECK_EQ(fs_alloc_free_count(&a), n / 2);
	/* freeing 101..109 (odd ones) merges 100..110 into one extent */
	for (uint64_t i = 101; i < 110; i += 2)
		CHECK_EQ(fs_alloc_free(&a, i, 1), 0);
	CHECK_EQ(fs_alloc_largest(&a), 11);
	CHECK_EQ(fs_alloc_is_free(&a, 100, 11), 1);
	CHECK_EQ(fs_alloc_is_free(&a, 100, 12), 0);
	CHECK_EQ(fs_alloc_check(&a), 0);
	/* want 8 far from goal: the only run that holds it */
	REQUIRE(fs_alloc_blocks(&a, 900, 8, &s, &g) == 0);
	CHECK(s >= 100 && s + 8 <= 111);
	CHECK_EQ(g, 8);
	CHECK_EQ(fs_alloc_check(&a), 0);
	fs_alloc_destroy(&a);
}

/* Holes of 3, 5 and 8 blocks: want 5 away from all of them picks the 5. */
static void
test_best_fit(void)
{
	struct fs_alloc a;
	uint64_t s, g;

	REQUIRE(fs_alloc_init(&a, 1000) == 0);
	REQUIRE(fs_alloc_mark_used(&a, 0, 1000) == 0);
	CHECK_EQ(fs_alloc_free(&a, 100, 8), 0);
	CHECK_EQ(fs_alloc_free(&a, 300, 3), 0);
	CHECK_EQ(fs_alloc_free(&a, 600, 5), 0);
	CHECK_EQ(fs_alloc_free(&a, 990, 2), 0);
	/* goal 995: neighbours of 2 blocks do not fit; best fit is 600 */
	REQUIRE(fs_alloc_blocks(&a, 995, 5, &s, &g) == 0);
	CHECK_EQ(s, 600);
	CHECK_EQ(g, 5);
	/* goal 250, want 3: neighbours 100 (8) and 300 (3); 300 is nearer */
	REQUIRE(fs_alloc_blocks(&a, 250, 3, &s, &g) == 0);
	CHECK_EQ(s, 300);
	/* goal 120, want 4: the 8-block run before it, its part nearest goal */
	REQUIRE(fs_alloc_blocks(&a, 120, 4, &s, &g) == 0);
	CHECK_EQ(s, 104);
	CHECK_EQ(g, 4);
	CHECK_EQ(fs_alloc_check(&a), 0);
	fs_alloc_destroy(&a);
}

static void
test_mark_used(void)
{
	struct fs_alloc a;
	uint64_t s, g;

	REQUIRE(fs_alloc_init(&a, 100) == 0);
	CHECK_EQ(fs_alloc_mark_used(&a, 10, 10), 0);
	CHECK_EQ(fs_alloc_mark_used(&a, 15, 10), -EEXIST);	/* overlaps */
	CHECK_EQ(fs_alloc_mark_used(&a, 5, 6), -EEXIST);
	CHECK_EQ(fs_alloc_mark_used(&a, 10, 1), -EEXIST);
	CHECK_EQ(fs_alloc_free_count(&a), 90);		/* nothing changed */
	CHECK_EQ(fs_alloc_mark_used(&a, 20, 5), 0);	/* adjacent is fine */
	CHECK_EQ(fs_alloc_mark_used(&a, 95, 10), -EINVAL);
	CHECK_EQ(fs_alloc_mark_used(&a, 0, 0), -EINVAL);
	CHECK_EQ(fs_alloc_mark_used(&a, 0, 10), 0);
	CHECK_EQ(fs_alloc_mark_used(&a, 99, 1), 0);
	CHECK_EQ(fs_alloc_free_count(&a), 100 - 26);
	CHECK_EQ(fs_alloc_extent_count(&a), 1);		/* 25..98 */
	REQUIRE(fs_alloc_blocks(&a, 0, 200, &s, &g) == 0);
	CHECK_EQ(s, 25);
	CHECK_EQ(g, 74);
	CHECK_EQ(fs_alloc_check(&a), 0);
	fs_alloc_destroy(&a);
}

struct run {
	uint64_t	start;
	uint64_t	len;
};

/* Random alloc/free/mark_used against a shadow bitmap. */
static void
test_random_shadow(void)
{
	const uint64_t n = 4096;
	int ops = test_long ? 400000 : 40000;
	struct fs_alloc a;
	uint8_t *shadow = calloc(n, 1);
	struct run *runs = calloc(n, sizeof(*runs));
	uint64_t nruns = 0, used = 0;
	unsigned seed = 4242;

	REQUIRE(shadow && runs);
	REQUIRE(fs_alloc_init(&a, n) == 0);
	for (int op = 0; op < ops; op++) {
		int r = rand_r(&seed) % 100;

		if (r < 50 && nruns < n) {
			uint64_t want = 1 + (uint64_t)rand_r(&seed) % 40;
			uint64_t goal = (uint64_t)rand_r(&seed) % n, s, g;
			int err = fs_alloc_blocks(&a, goal, want, &s, &g);

			if (err) {
				CHECK_EQ(err, -ENOSPC);
				CHECK_EQ(used, n);
				continue;
			}
			REQUIRE(g >= 1 && g <= want && s + g <= n);
			for (uint64_t b = s; b < s + g; b++) {
				if (shadow[b])
					REQUIRE(!"block handed out twice");
				shadow[b] = 1;
			}
			used += g;
			runs[nruns++] = (struct run){ s, g };
		} else if (r < 90 && nruns) {
			uint64_t i = (uint64_t)rand_r(&seed) % nruns;
			struct run *ru = &runs[i];
			/* free the whole run or a piece at its end */
			uint64_t len = 1 + (uint64_t)rand_r(&seed) % ru->len;
			uint64_t start = ru->start + ru->len - len;

			REQUIRE(fs_alloc_free(&a, start, len) == 0);
			for (uint64_t b = start; b < start + len; b++)
				shadow[b] = 0;
			used -= len;
			ru->len -= len;
			if (ru->len == 0)
				runs[i] = runs[--nruns];
		} else {
			/* mark_used of a random range agrees with the shadow */
			uint64_t s = (uint64_t)rand_r(&seed) % n;
			uint64_t len = 1 + (uint64_t)rand_r(&seed) % 8;
			bool all_free = s + len <= n;
			int err;

			for (uint64_t b = s; all_free && b < s + len; b++)
				all_free = !shadow[b];
			err = fs_alloc_mark_used(&a, s, len);
			if (s + len > n) {
				CHECK_EQ(err, -EINVAL);
			} else if (all_free) {
				CHECK_EQ(err, 0);
				CHECK(nruns < n);
				memset(shadow + s, 1, len);
				used += len;
				runs[nruns++] = (struct run){ s, len };
			} else {
				CHECK_EQ(err, -EEXIST);
			}
		}
		if (op % 1000 == 0) {
			CHECK_EQ(fs_alloc_check(&a), 0);
			CHECK_EQ(fs_alloc_free_count(&a), n - used);
		}
	}
	CHECK_EQ(fs_alloc_check(&a), 0);
	CHECK_EQ(fs_alloc_free_count(&a), n - used);
	while (nruns) {
		nruns--;
		REQUIRE(fs_alloc_free(&a, runs[nruns].start, runs[nruns].len) == 0);
	}
	CHECK_EQ(fs_alloc_free_count(&a), n);
	CHECK_EQ(fs_alloc_extent_count(&a), 1);
	fs_alloc_destroy(&a);
	free(shadow);
	free(runs);
}

/* Many extents: each operation stays cheap (a bitmap scan would not). */
static void
test_scale(void)
{
	const uint64_t n = 1ull << 22;
	struct fs_alloc a;
	uint64_t s, g, t0;

	REQUIRE(fs_alloc_init(&a, n) == 0);
	for (uint64_t i = 0; i < n; i += 2)
		REQUIRE(fs_alloc_mark_used(&a, i, 1) == 0);
	CHECK_EQ(fs_alloc_extent_count(&a), n / 2);
	CHECK_EQ(fs_alloc_check(&a), 0);
	t0 = clock_now_ns();
	for (int i = 0; i < 100000; i++) {
		REQUIRE(fs_alloc_blocks(&a, (uint64_t)i * 37 % n, 1, &s, &g) == 0);
		REQUIRE(fs_alloc_free(&a, s, g) == 0);
	}
	fprintf(stderr, "  %llu extents: 100000 alloc+free in %llu ms\n",
		(unsigned long long)(n / 2),
		(unsigned long long)((clock_now_ns() - t0) / NSEC_PER_MSEC));
	fs_alloc_destroy(&a);
}

#define NTHREADS	4
static struct fs_alloc thr_alloc;
static _Atomic uint8_t *thr_owner;
static const uint64_t thr_blocks = 8192;
static _Atomic int thr_double;

static void *
thr_main(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 7919 + 1;
	struct run mine[64];
	int nmine = 0, iters = test_long ? 200000 : 20000;

	for (int it = 0; it < iters; it++) {
		if (nmine < 64 && (rand_r(&seed) % 2 || nmine == 0)) {
			uint64_t s, g;

			if (fs_alloc_blocks(&thr_alloc,
					    (uint64_t)rand_r(&seed) % thr_blocks,
					    1 + (uint64_t)rand_r(&seed) % 16,
					    &s, &g))
				continue;
			for (uint64_t b = s; b < s + g; b++)
				if (atomic_exchange(&thr_owner[b], 1))
					atomic_fetch_add(&thr_double, 1);
			mine[nmine++] = (struct run){ s, g };
		} else {
			int i = rand_r(&seed) % nmine;

			for (uint64_t b = mine[i].start;
			     b < mine[i].start + mine[i].len; b++)
				atomic_store(&thr_owner[b], 0);
			if (fs_alloc_free(&thr_alloc, mine[i].start, mine[i].len))
				atomic_fetch_add(&thr_double, 1);
			mine[i] = mine[--nmine];
		}
	}
	while (nmine--) {
		for (uint64_t b = mine[nmine].start;
		     b < mine[nmine].start + mine[nmine].len; b++)
			atomic_store(&thr_owner[b], 0);
		if (fs_alloc_free(&thr_alloc, mine[nmine].start, mine[nmine].len))
			atomic_fetch_add(&thr_double, 1);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t th[NTHREADS];

	thr_owner = calloc(thr_blocks, 1);
	REQUIRE(thr_owner != NULL);
	REQUIRE(fs_alloc_init(&thr_alloc, thr_blocks) == 0);
	for (uintptr_t i = 0; i < NTHREADS; i++)
		REQUIRE(pthread_create(&th[i], NULL, thr_main, (void *)i) == 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	CHECK_EQ(atomic_load(&thr_double), 0);
	CHECK_EQ(fs_alloc_free_count(&thr_alloc), thr_blocks);
	CHECK_EQ(fs_alloc_extent_count(&thr_alloc), 1);
	CHECK_EQ(fs_alloc_check(&thr_alloc), 0);
	fs_alloc_destroy(&thr_alloc);
	free((void *)thr_owner);
}

int
main(void)
{
	const char *l = getenv("PMEMNFS_TEST_LONG");

	test_long = l && *l && strcmp(l, "0") != 0;
	log_init("test_alloc", LOG_LVL_WARN, false);
	TEST_RUN(test_basic);
	TEST_RUN(test_exhaust);
	TEST_RUN(test_fragmentation);
	TEST_RUN(test_best_fit);
	TEST_RUN(test_mark_used);
	TEST_RUN(test_random_shadow);
	TEST_RUN(test_scale);
	TEST_RUN(test_threads);
	TEST_EXIT();
}
