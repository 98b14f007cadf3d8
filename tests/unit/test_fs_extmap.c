/*
 * test_fs_extmap.c - the per-file block map: random operations against a
 * flat reference model, and the cost of operations at 100,000 extents
 * measured in moved elements (not wall-clock time).
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../testlib.h"
#include "../../src/fs/extmap.h"

/* Reference model: one slot per file block of a small file. */
#define MODEL_BLOCKS	2048
#define NO_BLOCK	UINT64_MAX

struct model {
	uint64_t	vblk[MODEL_BLOCKS];
	uint32_t	state[MODEL_BLOCKS];
};

static uint64_t rng_state = 88172645463325252ULL;

static uint64_t
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t freed_total;

static void
count_freed(void *ctx, uint64_t vblk, uint64_t len)
{
	struct model *m = ctx;

	(void)m;
	freed_total += len;
}

/* The map must say exactly what the model says, block by block. */
static void
compare(const struct fs_extmap *map, const struct model *m)
{
	uint64_t mapped = 0;

	for (uint64_t b = 0; b < MODEL_BLOCKS; b++) {
		struct fs_ext e;
		int rc = fs_extmap_lookup(map, b, &e);

		if (m->vblk[b] == NO_BLOCK) {
			CHECK_EQ(rc, -ENOENT);
			if (rc == -ENOENT && e.len)
				CHECK(e.fblk > b);
		} else {
			mapped++;
			CHECK_EQ(rc, 0);
			if (rc == 0) {
				CHECK_EQ(e.vblk + (b - e.fblk), m->vblk[b]);
				CHECK_EQ(e.state, m->state[b]);
			}
		}
	}
	CHECK_EQ(map->nblocks, mapped);
	CHECK_EQ(fs_extmap_check(map), 0);
}

static void
test_random_against_model(void)
{
	struct fs_extmap *map = fs_extmap_alloc();
	struct model *m = malloc(sizeof(*m));
	uint64_t next_vblk = 1000;

	REQUIRE(map && m);
	for (int i = 0; i < MODEL_BLOCKS; i++)
		m->vblk[i] = NO_BLOCK;
	for (int iter = 0; iter < 20000; iter++) {
		uint64_t op = rnd() % 3;
		uint64_t f = rnd() % MODEL_BLOCKS;
		uint64_t len = 1 + rnd() % 16;

		if (f + len > MODEL_BLOCKS)
			len = MODEL_BLOCKS - f;
		if (op == 0) {
			/* Insert into the hole at f if there is one. */
			uint64_t l = 0;
			struct fs_ext e;

			while (l < len && m->vblk[f + l] == NO_BLOCK)
				l++;
			if (l == 0)
				continue;
			e.fblk = f;
			e.len = l;
			/* Sometimes continue the volume run so merges happen. */
			e.vblk = (rnd() & 1) ? next_vblk : next_vblk + 7;
			e.state = (rnd() & 3) ? FS_EXT_RW : FS_EXT_INVALID;
			e.pad = 0;
			CHECK_EQ(fs_extmap_insert(map, &e), 0);
			for (uint64_t k = 0; k < l; k++) {
				m->vblk[f + k] = e.vblk + k;
				m->state[f + k] = e.state;
			}
			next_vblk = e.vblk + l;
			if (l < len)	/* overlapping insert must be refused */
				CHECK_EQ(fs_extmap_insert(map, &(struct fs_ext){
					.fblk = f, .len = len, .vblk = 5,
					.state = FS_EXT_RW }), -EEXIST);
		} else if (op == 1) {
			uint64_t want = 0;

			for (uint64_t k = 0; k < len; k++) {
				if (m->vblk[f + k] != NO_BLOCK)
					want++;
				m->vblk[f + k] = NO_BLOCK;
			}
			freed_total = 0;
			CHECK_EQ(fs_extmap_remove(map, f, len, count_freed, m), 0);
			CHECK_EQ(freed_total, want);
		} else {
			uint32_t st = (rnd() & 1) ? FS_EXT_RW : FS_EXT_INVALID;

			for (uint64_t k = 0; k < len; k++)
				if (m->vblk[f + k] != NO_BLOCK)
					m->state[f + k] = st;
			CHECK_EQ(fs_extmap_set_state(map, f, len, st), 0);
		}
		if (iter % 1000 == 0)
			compare(map, m);
	}
	compare(map, m);
	/* Remove everything: the map is empty again. */
	CHECK_EQ(fs_extmap_remove(map, 0, UINT64_MAX, NULL, NULL), 0);
	CHECK_EQ(fs_extmap_count(map), 0);
	CHECK_EQ(fs_extmap_end(map), 0);
	free(m);
	fs_extmap_free(map);
}

static void
test_merge(void)
{
	struct fs_extmap *map = fs_extmap_alloc();
	struct fs_ext e = { .fblk = 10, .len = 5, .vblk = 100, .state = FS_EXT_RW };

	REQUIRE(map);
	CHECK_EQ(fs_extmap_insert(map, &e), 0);
	e.fblk = 15;
	e.vblk = 105;
	CHECK_EQ(fs_extmap_insert(map, &e), 0);
	CHECK_EQ(fs_extmap_count(map), 1);		/* merged forward */
	e.fblk = 5;
	e.vblk = 95;
	CHECK_EQ(fs_extmap_insert(map, &e), 0);
	CHECK_EQ(fs_extmap_count(map), 1);		/* merged backward */
	/* INVALID in the middle splits into three, RW again merges back. */
	CHECK_EQ(fs_extmap_set_state(map, 8, 4, FS_EXT_INVALID), 0);
	CHECK_EQ(fs_extmap_count(map), 3);
	CHECK_EQ(fs_extmap_set_state(map, 0, 100, FS_EXT_RW), 0);
	CHECK_EQ(fs_extmap_count(map), 1);
	CHECK_EQ(map->nblocks, 15);
	/* A punch in the middle splits. */
	CHECK_EQ(fs_extmap_remove(map, 9, 2, NULL, NULL), 0);
	CHECK_EQ(fs_extmap_count(map), 2);
	CHECK_EQ(map->nblocks, 13);
	CHECK_EQ(fs_extmap_end(map), 20);
	CHECK_EQ(fs_extmap_check(map), 0);
	fs_extmap_free(map);
}

/*
 * 100,000 extents: every operation moves at most one chunk of extents
 * plus the chunk pointer array, never the whole map.
 */
#define BIG_EXTENTS	100000

static void
test_100k_extents(void)
{
	struct fs_extmap *map = fs_extmap_alloc();
	uint64_t max_moved = 0;
	/* One chunk plus the top array: the bound for one operation. */
	uint64_t bound = FS_EXTMAP_CHUNK + BIG_EXTENTS / (FS_EXTMAP_CHUNK / 2) + 1;

	REQUIRE(map);
	/* Even blocks only, alternating volume runs: nothing merges. */
	for (uint64_t i = 0; i < BIG_EXTENTS; i++) {
		struct fs_ext e = { .fblk = 2 * i, .len = 1, .vblk = 3 * i,
				    .state = FS_EXT_RW };
		uint64_t before = map->moved;

		CHECK_EQ(fs_extmap_insert(map, &e), 0);
		max_moved = MAX(max_moved, map->moved - before);
	}
	CHECK_EQ(fs_extmap_count(map), BIG_EXTENTS);
	CHECK(max_moved <= bound);
	/* Appending in order fills chunks completely: few chunks. */
	CHECK(map->nchunks <= BIG_EXTENTS / FS_EXTMAP_CHUNK + 1);

	/* Random inserts into the odd holes, random punches. */
	max_moved = 0;
	for (int i = 0; i < 20000; i++) {
		uint64_t k = rnd() % BIG_EXTENTS;
		uint64_t before = map->moved;
		struct fs_ext e = { .fblk = 2 * k + 1, .len = 1,
				    .vblk = 10 * BIG_EXTENTS + 5 * k,
				    .state = FS_EXT_INVALID };
		int rc = fs_extmap_insert(map, &e);

		CHECK(rc == 0 || rc == -EEXIST);
		max_moved = MAX(max_moved, map->moved - before);
		before = map->moved;
		CHECK_EQ(fs_extmap_remove(map, 2 * (rnd() % BIG_EXTENTS), 1,
					  NULL, NULL), 0);
		max_moved = MAX(max_moved, map->moved - before);
	}
	CHECK(max_moved <= bound);
	CHECK_EQ(fs_extmap_check(map), 0);

	/* Lookups are exact on the big map. */
	for (int i = 0; i < 1000; i++) {
		uint64_t k = rnd() % BIG_EXTENTS;
		struct fs_ext e;
		int rc = fs_extmap_lookup(map, 2 * k, &e);

		if (rc == 0) {
			CHECK_EQ(e.fblk, 2 * k);
			CHECK_EQ(e.vblk, 3 * k);
		} else {
			CHECK_EQ(rc, -ENOENT);
		}
	}
	fs_extmap_free(map);
}

int
main(void)
{
	TEST_RUN(test_merge);
	TEST_RUN(test_random_against_model);
	TEST_RUN(test_100k_extents);
	TEST_EXIT();
}
