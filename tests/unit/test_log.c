/*
 * test_log.c - the operation log: append and replay, torn records, the
 * stale record after a torn one, a full log, concurrent appenders, crash
 * injection at an append.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

#include "common.h"
#include "../testlib.h"
#include "test_vol_util.h"

#define MAX_SEEN	4096

struct seen {
	int		n;
	uint16_t	type[MAX_SEEN];
	uint32_t	len[MAX_SEEN];
	uint8_t		first[MAX_SEEN];	/* first payload byte */
	uint32_t	word[MAX_SEEN];		/* first 4 payload bytes */
	bool		bad_payload;
};

/* Payloads are filled with (seq + i) bytes so replay can verify them. */
static void
fill(uint8_t *buf, uint32_t len, uint8_t seq)
{
	for (uint32_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seq + i);
}

static int
collect(void *ctx, uint16_t type, const void *payload, uint32_t len)
{
	struct seen *s = ctx;
	const uint8_t *p = payload;

	REQUIRE(s->n < MAX_SEEN);
	CHECK_EQ((uintptr_t)payload % 8, 0);
	s->type[s->n] = type;
	s->len[s->n] = len;
	s->first[s->n] = len ? p[0] : 0;
	s->word[s->n] = 0;
	if (len >= 4)
		memcpy(&s->word[s->n], p, 4);
	if (type < 1000)	/* patterned payloads */
		for (uint32_t i = 0; i < len; i++)
			if (p[i] != (uint8_t)(p[0] + i))
				s->bad_payload = true;
	s->n++;
	return 0;
}

static void
replay(const char *path, struct seen *s)
{
	struct vol *v;

	memset(s, 0, sizeof(*s));
	REQUIRE(vol_open(path, 0, &v) == 0);
	REQUIRE(vol_log_replay(v, collect, s) == 0);
	CHECK_EQ(vol_log_records(v), s->n);
	vol_close(v);
}

static void
test_append_replay(void)
{
	char path[300];
	struct vol *v;
	struct seen s;
	uint8_t buf[5000];
	static const uint32_t lens[] = { 0, 1, 7, 8, 9, 100, 4096, 4999 };

	tv_path(path, sizeof(path), "ar");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		fill(buf, lens[i], (uint8_t)(i * 17));
		CHECK_EQ(vol_log_append(v, (uint16_t)(i + 1), buf, lens[i]), 0);
	}
	CHECK_EQ(vol_log_records(v), ARRAY_SIZE(lens));
	{
		uint64_t used = 0;

		for (size_t i = 0; i < ARRAY_SIZE(lens); i++)
			used += vol_log_record_size(lens[i]);
		CHECK_EQ(vol_log_used(v), used);
	}
	vol_close(v);

	replay(path, &s);
	CHECK_EQ(s.n, ARRAY_SIZE(lens));
	CHECK(!s.bad_payload);
	for (int i = 0; i < s.n && i < (int)ARRAY_SIZE(lens); i++) {
		CHECK_EQ(s.type[i], i + 1);
		CHECK_EQ(s.len[i], lens[i]);
		if (lens[i])
			CHECK_EQ(s.first[i], (uint8_t)(i * 17));
	}
	/* appends continue after the replayed tail */
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_log_append(v, 99, "abcd", 4), 0);
	vol_close(v);
	replay(path, &s);
	CHECK_EQ(s.n, ARRAY_SIZE(lens) + 1);
	CHECK_EQ(s.type[s.n - 1], 99);

	/* bad arguments */
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_log_append(v, 0, "x", 1), -EINVAL);
	CHECK_EQ(vol_log_append(v, 1, buf, VOL_LOG_PAYLOAD_MAX + 1), -EINVAL);
	CHECK_EQ(vol_log_append(v, 1, NULL, 5), -EINVAL);
	vol_close(v);
}

/* Offset in the file of record number idx (0-based) of a replayed log. */
static uint64_t
record_file_off(const char *path, int idx)
{
	struct vol_sb_disk sb;
	struct vol_log_hdr h;
	uint64_t pos = 0;

	tv_read_sb(path, &sb);
	for (int i = 0; i < idx; i++) {
		tv_pread(path, &h, sizeof(h), sb.log_off + pos);
		pos += vol_log_record_size(h.len);
	}
	return sb.log_off + pos;
}

static void
test_torn_record(void)
{
	char path[300];
	struct vol *v;
	struct seen s;
	uint8_t buf[300], junk = 0xee;

	tv_path(path, sizeof(path), "torn");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	for (int i = 0; i < 3; i++) {
		fill(buf, 200, (uint8_t)i);
		REQUIRE(vol_log_append(v, 1, buf, 200) == 0);
	}
	vol_close(v);
	/* one byte of the last record's payload did not make it */
	tv_pwrite(path, &junk, 1, record_file_off(path, 2) + VOL_LOG_HDR_SIZE + 150);
	replay(path, &s);
	CHECK_EQ(s.n, 2);
	/* a new record takes the torn one's place */
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_log_records(v), 2);
	fill(buf, 10, 77);
	REQUIRE(vol_log_append(v, 5, buf, 10) == 0);
	vol_close(v);
	replay(path, &s);
	CHECK_EQ(s.n, 3);
	CHECK_EQ(s.type[2], 5);
	CHECK_EQ(s.first[2], 77);

	/* a torn header (lsn field) ends the log as well */
	{
		uint64_t bogus = 12345;

		tv_pwrite(path, &bogus, 8, record_file_off(path, 1) + 24);
	}
	replay(path, &s);
	CHECK_EQ(s.n, 1);
}

/*
 * A torn record followed by an intact one that was never acknowledged;
 * the next boot appends a record of the same size over the torn one.  The
 * old intact record now sits exactly where the next record would be, with
 * the next LSN: its older boot number must end the log.
 */
static void
test_stale_after_torn(void)
{
	char path[300];
	struct vol *v;
	struct seen s;
	uint8_t buf[100], junk = 0;

	tv_path(path, sizeof(path), "stale");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	for (int i = 0; i < 3; i++) {
		fill(buf, 100, (uint8_t)(10 * i));
		REQUIRE(vol_log_append(v, (uint16_t)(i + 1), buf, 100) == 0);
	}
	vol_close(v);
	tv_pwrite(path, &junk, 1, record_file_off(path, 1) + VOL_LOG_HDR_SIZE + 50);
	replay(path, &s);
	CHECK_EQ(s.n, 1);
	REQUIRE(vol_open(path, 0, &v) == 0);
	fill(buf, 100, 200);
	REQUIRE(vol_log_append(v, 7, buf, 100) == 0);	/* same size as the torn one */
	vol_close(v);
	replay(path, &s);
	CHECK_EQ(s.n, 2);		/* not 3: record 3 of the old boot is stale */
	CHECK_EQ(s.type[1], 7);
}

/* A record of another volume (old contents of a reformatted device) is not ours. */
static void
test_foreign_records(void)
{
	char path[300];
	struct vol *v;
	struct seen s;
	uint8_t buf[64];

	struct vol_sb_disk sb;
	static uint8_t head[8192];

	tv_path(path, sizeof(path), "foreign");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	fill(buf, 64, 1);
	for (int i = 0; i < 80; i++)
		REQUIRE(vol_log_append(v, 1, buf, 64) == 0);
	vol_close(v);
	tv_read_sb(path, &sb);
	tv_pread(path, head, sizeof(head), sb.log_off);
	tv_mkfs(path, TV_SIZE, 0);	/* forced reformat: new UUID, epoch 1 again */
	/*
	 * Put the old records back where mkfs cleared them: same epoch, LSNs
	 * from 1, the same boot number - only the UUID seed of their
	 * checksums differs, and that must be enough.
	 */
	tv_pwrite(path, head, sizeof(head), sb.log_off);
	replay(path, &s);
	CHECK_EQ(s.n, 0);
}

static void
test_full_log(void)
{
	char path[300];
	struct vol *v;
	struct seen s;
	uint8_t buf[1000];
	int n = 0, err;

	tv_path(path, sizeof(path), "full");
	tv_mkfs(path, TV_SIZE, 64 << 10);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_log_size(v), 64 << 10);
	fill(buf, sizeof(buf), 3);
	while ((err = vol_log_append(v, 2, buf, sizeof(buf))) == 0)
		n++;
	CHECK_EQ(err, -ENOSPC);
	CHECK_EQ(n, (64 << 10) / vol_log_record_size(sizeof(buf)));
	/* a smaller record may still fit */
	{
		uint64_t left = vol_log_size(v) - vol_log_used(v);

		if (left >= VOL_LOG_HDR_SIZE) {
			CHECK_EQ(vol_log_append(v, 3, buf,
						(uint32_t)(left - VOL_LOG_HDR_SIZE)), 0);
			n++;
		}
		CHECK_EQ(vol_log_append(v, 3, NULL, 0), -ENOSPC);
	}
	vol_close(v);
	replay(path, &s);
	CHECK_EQ(s.n, n);
	CHECK(!s.bad_payload);
}

/*
 * One changed byte anywhere in the log: replay keeps exactly the records
 * before the one it hit (padding after a payload is not part of the
 * record), and nothing crashes whatever the byte does to a header.
 */
static void
test_fuzz_log(void)
{
	enum { NREC = 40 };
	char path[300];
	struct vol *v;
	struct seen s;
	struct vol_sb_disk sb;
	uint64_t off[NREC + 1];
	uint32_t lens[NREC];
	uint8_t buf[300];
	unsigned seed = 99;

	tv_path(path, sizeof(path), "fuzz");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	off[0] = 0;
	for (int i = 0; i < NREC; i++) {
		lens[i] = (uint32_t)rand_r(&seed) % sizeof(buf);
		fill(buf, lens[i], (uint8_t)i);
		REQUIRE(vol_log_append(v, (uint16_t)(i + 1), buf, lens[i]) == 0);
		off[i + 1] = off[i] + vol_log_record_size(lens[i]);
	}
	vol_close(v);
	tv_read_sb(path, &sb);
	for (int it = 0; it < 200; it++) {
		uint64_t pos = (uint64_t)rand_r(&seed) % off[NREC];
		uint8_t old, new;
		int hit = 0, want;

		while (off[hit + 1] <= pos)
			hit++;
		tv_pread(path, &old, 1, sb.log_off + pos);
		new = (uint8_t)(old ^ (1 + rand_r(&seed) % 255));
		tv_pwrite(path, &new, 1, sb.log_off + pos);
		/* a byte in the padding after the payload changes nothing */
		want = pos - off[hit] >= VOL_LOG_HDR_SIZE + lens[hit] ? NREC : hit;
		replay(path, &s);
		if (s.n != want)
			fprintf(stderr, "  byte %llu (record %d): replayed %d, "
				"want %d\n", (unsigned long long)pos, hit, s.n,
				want);
		CHECK_EQ(s.n, want);
		CHECK(!s.bad_payload);
		for (int i = 0; i < s.n; i++)
			CHECK_EQ(s.type[i], i + 1);
		tv_pwrite(path, &old, 1, sb.log_off + pos);
	}
	replay(path, &s);
	CHECK_EQ(s.n, NREC);
}

#define THREADS		4
#define PER_THREAD	150

struct thr {
	struct vol	*v;
	uint32_t	id;
	int		err;
};

static void *
appender(void *arg)
{
	struct thr *t = arg;

	for (uint32_t i = 0; i < PER_THREAD; i++) {
		uint32_t p[4] = { t->id << 16 | i, t->id, i, 0 };
		int err = vol_log_append(t->v, 1000, p, sizeof(p) - 4 * (i % 2));

		if (err)
			t->err = err;
	}
	return NULL;
}

static void
test_threads(void)
{
	char path[300];
	struct vol *v;
	struct seen s;
	pthread_t th[THREADS];
	struct thr t[THREADS];
	uint32_t next[THREADS] = { 0 };

	tv_path(path, sizeof(path), "threads");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	for (uint32_t i = 0; i < THREADS; i++) {
		t[i] = (struct thr){ .v = v, .id = i };
		REQUIRE(pthread_create(&th[i], NULL, appender, &t[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		CHECK_EQ(t[i].err, 0);
	}
	vol_close(v);
	replay(path, &s);
	CHECK_EQ(s.n, THREADS * PER_THREAD);
	/* each thread's records appear in the order that thread wrote them */
	for (int i = 0; i < s.n; i++) {
		uint32_t id = s.word[i] >> 16, seq = s.word[i] & 0xffff;

		REQUIRE(id < THREADS);
		CHECK_EQ(seq, next[id]);
		next[id] = seq + 1;
	}
}

static void
test_shutdown(void)
{
	char path[300];
	struct vol *v;

	tv_path(path, sizeof(path), "shut");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_log_append(v, 1, "a", 1), 0);
	vol_shutdown(v, "test");
	CHECK(vol_is_shutdown(v));
	CHECK_EQ(vol_log_append(v, 1, "b", 1), -EIO);
	vol_close(v);
	/* a shut-down volume is not marked clean */
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK(!vol_was_clean(v));
	CHECK_EQ(vol_log_records(v), 1);
	vol_close(v);
}

/* A child appends 5 records but dies at the 3rd append's persist point. */
static int
crash_child(const char *path, const char *spec)
{
	pid_t pid = fork();
	int status;

	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct vol *v;
		uint8_t buf[600];

		if (vol_inject_parse(spec) || vol_open(path, 0, &v))
			_exit(1);
		for (int i = 0; i < 5; i++) {
			fill(buf, sizeof(buf), (uint8_t)i);
			if (vol_log_append(v, 1, buf, sizeof(buf)))
				_exit(2);
		}
		vol_close(v);
		_exit(0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_inject_append(void)
{
	char path[300];
	struct seen s;

	tv_path(path, sizeof(path), "inj");
	tv_mkfs(path, TV_SIZE, 0);
	CHECK_EQ(crash_child(path, "log.append:3:torn"), VOL_INJECT_EXIT);
	replay(path, &s);
	CHECK_EQ(s.n, 2);		/* the torn third record is gone */
	CHECK(!s.bad_payload);

	tv_mkfs(path, TV_SIZE, 0);
	CHECK_EQ(crash_child(path, "log.append:3"), VOL_INJECT_EXIT);
	replay(path, &s);
	/* its bytes reached the page cache: kept or not, never garbage */
	CHECK(s.n == 2 || s.n == 3);
	CHECK(!s.bad_payload);

	/* counting: 5 appends are 5 log.append points */
	tv_mkfs(path, TV_SIZE, 0);
	vol_inject_reset();
	CHECK_EQ(crash_child(path, "log.append:99"), 0);
	replay(path, &s);
	CHECK_EQ(s.n, 5);
	{
		struct vol *v;
		uint64_t before = vol_inject_count("log.append");

		REQUIRE(vol_open(path, 0, &v) == 0);
		CHECK_EQ(vol_log_append(v, 1, "x", 1), 0);
		CHECK_EQ(vol_inject_count("log.append") - before, 1);
		CHECK(vol_inject_count("log.*") >= 1);
		vol_close(v);
	}
}

int
main(void)
{
	log_init("test_log", LOG_LVL_WARN, false);
	tv_setup();
	TEST_RUN(test_append_replay);
	TEST_RUN(test_torn_record);
	TEST_RUN(test_stale_after_torn);
	TEST_RUN(test_foreign_records);
	TEST_RUN(test_full_log);
	TEST_RUN(test_fuzz_log);
	TEST_RUN(test_threads);
	TEST_RUN(test_shutdown);
	TEST_RUN(test_inject_append);
	tv_cleanup();
	TEST_EXIT();
}
