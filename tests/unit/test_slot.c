/*
 * test_slot.c - the slot table and reply cache rules of RFC 8881 §2.10.6.1:
 * seqid arithmetic including wrap-around, replays, misordered requests,
 * bad slots, retries of uncached and in-progress requests.
 */
#include "config.h"

#include <string.h>

#include "../../src/state/state_int.h"
#include "../testlib.h"

#define NSLOTS		4
#define MAX_CACHED	64

static void
test_first_request(void)
{
	struct state_slot_table t;
	bool replay;

	REQUIRE(state_slot_table_init(&t, NSLOTS, MAX_CACHED) == 0);
	/* A fresh slot takes seqid 1 only (§2.10.6.1). */
	CHECK_EQ(state_slot_check(&t, 0, 0, &replay), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(state_slot_check(&t, 0, 2, &replay), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(state_slot_check(&t, 0, 1, &replay), NFS4_OK);
	CHECK(!replay);
	CHECK_EQ(state_slot_check(&t, NSLOTS, 1, &replay), NFS4ERR_BADSLOT);
	CHECK_EQ(state_slot_check(&t, UINT32_MAX, 1, &replay),
		 NFS4ERR_BADSLOT);
	state_slot_table_destroy(&t);
}

static void
test_busy_and_replay(void)
{
	struct state_slot_table t;
	const char reply[] = "0123456789abcdef";
	bool replay;
	void *buf;

	REQUIRE(state_slot_table_init(&t, NSLOTS, MAX_CACHED) == 0);
	REQUIRE(state_slot_check(&t, 1, 1, &replay) == NFS4_OK);
	state_slot_begin(&t, 1, 1);
	/* The original is running: its retry waits, its successor is early. */
	CHECK_EQ(state_slot_check(&t, 1, 1, &replay), NFS4ERR_DELAY);
	CHECK_EQ(state_slot_check(&t, 1, 2, &replay), NFS4ERR_SEQ_MISORDERED);
	/* Other slots are independent. */
	CHECK_EQ(state_slot_check(&t, 2, 1, &replay), NFS4_OK);
	CHECK_EQ(state_slot_busy_count(&t), 1);

	buf = state_slot_buf(&t, 1, sizeof(reply));
	REQUIRE(buf != NULL);
	memcpy(buf, reply, sizeof(reply));
	state_slot_end(&t, 1, true, sizeof(reply));
	CHECK_EQ(state_slot_busy_count(&t), 0);

	CHECK_EQ(state_slot_check(&t, 1, 1, &replay), NFS4_OK);
	CHECK(replay);
	CHECK_EQ(t.slots[1].len, sizeof(reply));
	CHECK(memcmp(t.slots[1].buf, reply, sizeof(reply)) == 0);
	/* An older seqid is misordered, not a replay. */
	CHECK_EQ(state_slot_check(&t, 1, 0, &replay), NFS4ERR_SEQ_MISORDERED);

	/* The next request replaces the cached reply. */
	CHECK_EQ(state_slot_check(&t, 1, 2, &replay), NFS4_OK);
	CHECK(!replay);
	state_slot_begin(&t, 1, 2);
	state_slot_end(&t, 1, false, 0);
	CHECK_EQ(state_slot_check(&t, 1, 2, &replay),
		 NFS4ERR_RETRY_UNCACHED_REP);
	CHECK_EQ(state_slot_check(&t, 1, 1, &replay), NFS4ERR_SEQ_MISORDERED);
	state_slot_table_destroy(&t);
}

static void
test_wraparound(void)
{
	struct state_slot_table t;
	bool replay;

	REQUIRE(state_slot_table_init(&t, 1, MAX_CACHED) == 0);
	/* Drive the slot to the last seqid before the wrap. */
	state_slot_begin(&t, 0, UINT32_MAX - 1);
	state_slot_end(&t, 0, false, 0);
	CHECK_EQ(state_slot_check(&t, 0, UINT32_MAX, &replay), NFS4_OK);
	state_slot_begin(&t, 0, UINT32_MAX);
	state_slot_end(&t, 0, false, 0);
	/* 0xffffffff + 1 == 0 (modulo 2^32). */
	CHECK_EQ(state_slot_check(&t, 0, 0, &replay), NFS4_OK);
	CHECK(!replay);
	CHECK_EQ(state_slot_check(&t, 0, 1, &replay), NFS4ERR_SEQ_MISORDERED);
	CHECK_EQ(state_slot_check(&t, 0, UINT32_MAX, &replay),
		 NFS4ERR_RETRY_UNCACHED_REP);
	state_slot_begin(&t, 0, 0);
	state_slot_end(&t, 0, false, 0);
	CHECK_EQ(state_slot_check(&t, 0, 1, &replay), NFS4_OK);
	state_slot_table_destroy(&t);
}

static void
test_cache_limit(void)
{
	struct state_slot_table t;
	bool replay;

	REQUIRE(state_slot_table_init(&t, 1, MAX_CACHED) == 0);
	state_slot_begin(&t, 0, 1);
	CHECK(state_slot_buf(&t, 0, MAX_CACHED + 1) == NULL);
	CHECK(state_slot_buf(&t, 0, MAX_CACHED) != NULL);
	state_slot_end(&t, 0, true, MAX_CACHED);
	CHECK_EQ(state_slot_check(&t, 0, 1, &replay), NFS4_OK);
	CHECK(replay);
	state_slot_table_destroy(&t);
}

int
main(void)
{
	TEST_RUN(test_first_request);
	TEST_RUN(test_busy_and_replay);
	TEST_RUN(test_wraparound);
	TEST_RUN(test_cache_limit);
	TEST_EXIT();
}
