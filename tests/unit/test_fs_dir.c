/*
 * test_fs_dir.c - directory entries: lookup/insert/remove, readdir cookies
 * that survive inserts and removes, and a directory of 1,000,000 entries
 * whose operation cost is checked by counting hash probes.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../testlib.h"
#include "../../src/fs/dir.h"

struct collect {
	uint64_t	*cookies;
	uint64_t	*inos;
	size_t		n;
	size_t		cap;
	size_t		stop_after;	/* 0: never */
};

static int
collect_cb(void *ctx, const struct fs_dirent *de)
{
	struct collect *c = ctx;

	if (c->stop_after && c->n == c->stop_after)
		return 1;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->cookies = realloc(c->cookies, c->cap * sizeof(uint64_t));
		c->inos = realloc(c->inos, c->cap * sizeof(uint64_t));
		REQUIRE(c->cookies && c->inos);
	}
	c->cookies[c->n] = de->cookie;
	c->inos[c->n] = de->ino;
	c->n++;
	return 0;
}

static void
collect_free(struct collect *c)
{
	free(c->cookies);
	free(c->inos);
	memset(c, 0, sizeof(*c));
}

static void
test_basic(void)
{
	struct fs_dir *d = fs_dir_alloc();
	struct collect c = { 0 };
	struct fs_dirent *de;

	REQUIRE(d);
	CHECK_EQ(fs_dir_add(d, "a", 1, 10, FS_TYPE_REG, 0), 0);
	CHECK_EQ(fs_dir_add(d, "b", 1, 11, FS_TYPE_DIR, 0), 0);
	CHECK_EQ(fs_dir_add(d, "a", 1, 12, FS_TYPE_REG, 0), -EEXIST);
	CHECK_EQ(fs_dir_add(d, "", 0, 12, FS_TYPE_REG, 0), -EINVAL);
	de = fs_dir_lookup(d, "b", 1);
	REQUIRE(de);
	CHECK_EQ(de->ino, 11);
	CHECK_EQ(de->type, FS_TYPE_DIR);
	/* The first cookie is 3: 0, 1 and 2 are reserved. */
	CHECK_EQ(fs_dir_lookup(d, "a", 1)->cookie, FS_COOKIE_FIRST);
	CHECK_EQ(fs_dir_remove(d, "a", 1), 0);
	CHECK_EQ(fs_dir_remove(d, "a", 1), -ENOENT);
	CHECK(fs_dir_lookup(d, "a", 1) == NULL);
	CHECK_EQ(fs_dir_count(d), 1);
	/* Reserved and future cookies are refused. */
	CHECK_EQ(fs_dir_iterate(d, 1, collect_cb, &c), -EBADR);
	CHECK_EQ(fs_dir_iterate(d, 1000, collect_cb, &c), -EBADR);
	/* A removed entry's cookie still works as a resume point. */
	CHECK_EQ(fs_dir_iterate(d, FS_COOKIE_FIRST, collect_cb, &c), 0);
	CHECK_EQ(c.n, 1);
	CHECK_EQ(c.inos[0], 11);
	collect_free(&c);
	fs_dir_free(d);
}

/*
 * Readdir in pages while the directory changes: every entry that exists
 * for the whole listing is returned exactly once.
 */
static void
test_cookies_stable(void)
{
	struct fs_dir *d = fs_dir_alloc();
	char name[32];
	uint8_t *seen = calloc(3000, 1);
	uint64_t cookie = 0;
	int added = 0;

	REQUIRE(d && seen);
	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK_EQ(fs_dir_add(d, name, strlen(name), (uint64_t)i + 1,
				    FS_TYPE_REG, 0), 0);
	}
	for (;;) {
		struct collect c = { .stop_after = 50 };
		int rc = fs_dir_iterate(d, cookie, collect_cb, &c);

		CHECK(rc == 0 || rc == 1);
		for (size_t i = 0; i < c.n; i++) {
			CHECK(c.cookies[i] > cookie);
			CHECK(c.inos[i] >= 1 && c.inos[i] < 3000);
			seen[c.inos[i]]++;
		}
		if (c.n)
			cookie = c.cookies[c.n - 1];
		collect_free(&c);
		if (rc == 0)
			break;
		/* Between pages: remove odd entries >= 500 (not yet listed
		 * or already listed), add new ones. */
		for (int k = 0; k < 20; k++) {
			int v = 500 + 2 * (added * 20 + k) + 1;

			if (v < 1000) {
				snprintf(name, sizeof(name), "f%d", v);
				CHECK_EQ(fs_dir_remove(d, name, strlen(name)), 0);
			}
			snprintf(name, sizeof(name), "n%d", added * 20 + k);
			CHECK_EQ(fs_dir_add(d, name, strlen(name),
					    1001 + (uint64_t)(added * 20 + k),
					    FS_TYPE_REG, 0), 0);
		}
		added++;
	}
	/* Every even entry and every odd one below 500 was there all along. */
	for (int i = 0; i < 1000; i++)
		if (i < 500 || i % 2 == 0)
			CHECK_EQ(seen[i + 1], 1);
	for (int i = 1; i < 3000; i++)
		CHECK(seen[i] <= 1);
	free(seen);
	fs_dir_free(d);
}

#define BIG_ENTRIES	1000000

/* 1,000,000 entries: O(1) lookups (few probes), full and resumed readdir. */
static void
test_million(void)
{
	struct fs_dir *d = fs_dir_alloc();
	struct collect c = { 0 };
	char name[32];
	uint64_t probes;

	if (getenv("FS_TEST_QUICK")) {
		fprintf(stderr, "skipping the 1M directory (FS_TEST_QUICK)\n");
		fs_dir_free(d);
		return;
	}
	REQUIRE(d);
	for (int i = 0; i < BIG_ENTRIES; i++) {
		int n = snprintf(name, sizeof(name), "file-%07d", i);

		if (fs_dir_add(d, name, (size_t)n, (uint64_t)i + 100,
			       FS_TYPE_REG, 0) != 0) {
			CHECK(!"add failed");
			break;
		}
	}
	CHECK_EQ(fs_dir_count(d), BIG_ENTRIES);
	/* Lookups: the average chain walk stays a small constant. */
	probes = 0;
	for (int i = 0; i < 100000; i++) {
		int k = (int)((uint64_t)i * 7919 % BIG_ENTRIES);
		int n = snprintf(name, sizeof(name), "file-%07d", k);
		struct fs_dirent *de = fs_dir_lookup_counted(d, name, (size_t)n,
							     &probes);

		CHECK(de && de->ino == (uint64_t)k + 100);
	}
	CHECK(probes / 100000.0 < 3.0);
	/* Remove every other entry. */
	probes = d->probes;
	for (int i = 0; i < BIG_ENTRIES; i += 2) {
		int n = snprintf(name, sizeof(name), "file-%07d", i);

		CHECK_EQ(fs_dir_remove(d, name, (size_t)n), 0);
	}
	CHECK((d->probes - probes) / (BIG_ENTRIES / 2.0) < 3.0);
	CHECK_EQ(fs_dir_count(d), BIG_ENTRIES / 2);
	/* Full listing: the odd ones, in cookie order. */
	CHECK_EQ(fs_dir_iterate(d, 0, collect_cb, &c), 0);
	CHECK_EQ(c.n, BIG_ENTRIES / 2);
	for (size_t i = 1; i < c.n; i++)
		if (c.cookies[i] <= c.cookies[i - 1]) {
			CHECK(!"cookies out of order");
			break;
		}
	/* Resume from a cookie in the middle. */
	{
		uint64_t mid = c.cookies[c.n / 2];
		struct collect c2 = { 0 };

		CHECK_EQ(fs_dir_iterate(d, mid, collect_cb, &c2), 0);
		CHECK_EQ(c2.n, c.n - c.n / 2 - 1);
		collect_free(&c2);
	}
	collect_free(&c);
	fs_dir_free(d);
}

int
main(void)
{
	TEST_RUN(test_basic);
	TEST_RUN(test_cookies_stable);
	TEST_RUN(test_million);
	TEST_EXIT();
}
