/*
 * test_rpc_record.c - RPC record marking (RFC 5531 §11): fragment headers
 * split across reads, multi-fragment records, records exactly at and one
 * byte over the limit, pipelined records in one buffer.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"
#include "../testlib.h"

/* Append a fragment (header + body) to out; returns the new length. */
static size_t
put_frag(uint8_t *out, size_t off, const void *body, uint32_t len, bool last)
{
	rpc_record_mark(out + off, len, last);
	memcpy(out + off + 4, body, len);
	return off + 4 + len;
}

static void
test_mark(void)
{
	uint8_t h[4];

	rpc_record_mark(h, 0x1234, true);
	CHECK_EQ(h[0], 0x80);
	CHECK_EQ(h[1], 0x00);
	CHECK_EQ(h[2], 0x12);
	CHECK_EQ(h[3], 0x34);
	rpc_record_mark(h, 0x7fffffff, false);
	CHECK_EQ(h[0], 0x7f);
	CHECK_EQ(h[3], 0xff);
}

/* Feed the stream one byte at a time: every header is split. */
static void
test_byte_at_a_time(void)
{
	struct rpc_record_reader r;
	uint8_t stream[64], *rec;
	uint32_t rlen;
	size_t n, used, i;
	int ret = 0;

	n = put_frag(stream, 0, "hello", 5, true);
	rpc_record_reader_init(&r, 1024);
	for (i = 0; i < n; i++) {
		ret = rpc_record_reader_feed(&r, stream + i, 1, &used);
		CHECK_EQ(used, 1);
		if (i + 1 < n)
			CHECK_EQ(ret, 0);
	}
	CHECK_EQ(ret, 1);
	rpc_record_reader_take(&r, &rec, &rlen);
	CHECK_EQ(rlen, 5);
	CHECK(rec && memcmp(rec, "hello", 5) == 0);
	free(rec);
	rpc_record_reader_free(&r);
}

/* Three fragments (one empty) make one record. */
static void
test_multi_fragment(void)
{
	struct rpc_record_reader r;
	uint8_t stream[128], *rec;
	uint32_t rlen;
	size_t n, used;

	n = put_frag(stream, 0, "abc", 3, false);
	n = put_frag(stream, n, "", 0, false);
	n = put_frag(stream, n, "defgh", 5, true);
	rpc_record_reader_init(&r, 8);
	/* Split in the middle of the second header. */
	CHECK_EQ(rpc_record_reader_feed(&r, stream, 9, &used), 0);
	CHECK_EQ(used, 9);
	CHECK_EQ(rpc_record_reader_feed(&r, stream + 9, n - 9, &used), 1);
	CHECK_EQ(used, n - 9);
	rpc_record_reader_take(&r, &rec, &rlen);
	CHECK_EQ(rlen, 8);
	CHECK(rec && memcmp(rec, "abcdefgh", 8) == 0);
	free(rec);
	rpc_record_reader_free(&r);
}

/* Exactly max_record bytes is accepted; one more is refused. */
static void
test_limits(void)
{
	struct rpc_record_reader r;
	uint8_t stream[256], body[100], *rec;
	uint32_t rlen;
	size_t n, used;

	memset(body, 'x', sizeof(body));
	n = put_frag(stream, 0, body, 60, false);
	n = put_frag(stream, n, body, 40, true);
	rpc_record_reader_init(&r, 100);
	CHECK_EQ(rpc_record_reader_feed(&r, stream, n, &used), 1);
	CHECK_EQ(used, n);
	rpc_record_reader_take(&r, &rec, &rlen);
	CHECK_EQ(rlen, 100);
	free(rec);

	/* Over the limit across fragments: refused at the second header. */
	n = put_frag(stream, 0, body, 60, false);
	n = put_frag(stream, n, body, 41, true);
	CHECK_EQ(rpc_record_reader_feed(&r, stream, n, &used), -EMSGSIZE);
	rpc_record_reader_reset(&r);

	/* A header announcing 2 GiB - 1 is refused before any allocation. */
	rpc_record_mark(stream, RPC_FRAG_LEN_MASK, true);
	CHECK_EQ(rpc_record_reader_feed(&r, stream, 4, &used), -EMSGSIZE);
	CHECK(r.cap == 0);
	rpc_record_reader_free(&r);
}

/* Two records in one buffer: the reader stops after the first. */
static void
test_pipelined(void)
{
	struct rpc_record_reader r;
	uint8_t stream[64], *rec;
	uint32_t rlen;
	size_t n, used, off;

	n = put_frag(stream, 0, "one", 3, true);
	n = put_frag(stream, n, "", 0, true);
	n = put_frag(stream, n, "three", 5, true);
	rpc_record_reader_init(&r, 64);
	CHECK_EQ(rpc_record_reader_feed(&r, stream, n, &used), 1);
	CHECK_EQ(used, 7);
	/* Feeding again before take() consumes nothing. */
	CHECK_EQ(rpc_record_reader_feed(&r, stream + used, n - used, &off), 1);
	CHECK_EQ(off, 0);
	rpc_record_reader_take(&r, &rec, &rlen);
	CHECK(rlen == 3 && memcmp(rec, "one", 3) == 0);
	free(rec);
	off = used;
	CHECK_EQ(rpc_record_reader_feed(&r, stream + off, n - off, &used), 1);
	CHECK_EQ(used, 4);
	rpc_record_reader_take(&r, &rec, &rlen);
	CHECK_EQ(rlen, 0);
	free(rec);
	off += used;
	CHECK_EQ(rpc_record_reader_feed(&r, stream + off, n - off, &used), 1);
	CHECK_EQ(off + used, n);
	rpc_record_reader_take(&r, &rec, &rlen);
	CHECK(rlen == 5 && memcmp(rec, "three", 5) == 0);
	free(rec);
	rpc_record_reader_free(&r);
}

/* A large record arriving in uneven chunks reassembles byte-exact. */
static void
test_large_chunks(void)
{
	enum { BODY = 200000, FRAG = 70000 };
	struct rpc_record_reader r;
	uint8_t *body, *stream, *rec;
	uint32_t rlen;
	size_t n = 0, off = 0, used, step = 1;
	int ret = 0;

	body = malloc(BODY);
	stream = malloc(BODY + 64);
	REQUIRE(body && stream);
	for (size_t i = 0; i < BODY; i++)
		body[i] = (uint8_t)(i * 7 + 3);
	for (size_t b = 0; b < BODY; b += FRAG) {
		uint32_t l = (uint32_t)MIN((size_t)FRAG, BODY - b);

		n = put_frag(stream, n, body + b, l, b + l == BODY);
	}
	rpc_record_reader_init(&r, BODY);
	while (off < n) {
		size_t chunk = MIN(step, n - off);

		ret = rpc_record_reader_feed(&r, stream + off, chunk, &used);
		CHECK_EQ(used, chunk);
		off += used;
		step = step * 3 + 1;
	}
	CHECK_EQ(ret, 1);
	rpc_record_reader_take(&r, &rec, &rlen);
	CHECK_EQ(rlen, BODY);
	CHECK(rec && memcmp(rec, body, BODY) == 0);
	free(rec);
	free(body);
	free(stream);
	rpc_record_reader_free(&r);
}

/*
 * Random records, each cut into random fragments (some empty), the stream
 * fed in random chunk sizes: every record comes out byte-exact and in order.
 * RPC_RECORD_ROUNDS in the environment runs more rounds.
 */
static uint32_t rnd_state = 20261125;

static uint32_t
rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return (rnd_state >> 8) % n;
}

static void
test_random_streams(void)
{
	enum { NREC = 20, MAXREC = 3000 };
	const char *env = getenv("RPC_RECORD_ROUNDS");
	int rounds = env ? atoi(env) : 200;
	static uint8_t bodies[NREC][MAXREC], stream[NREC * (MAXREC + 4 * 64)];
	uint32_t lens[NREC];

	for (int round = 0; round < rounds; round++) {
		struct rpc_record_reader r;
		size_t n = 0, off = 0;
		int got = 0;

		for (int i = 0; i < NREC; i++) {
			uint32_t left, done = 0;

			lens[i] = rnd(MAXREC + 1);
			for (uint32_t b = 0; b < lens[i]; b++)
				bodies[i][b] = (uint8_t)rnd(256);
			left = lens[i];
			do {
				uint32_t f = left ? rnd(left + 1) : 0;
				bool last = f == left && rnd(4) != 0;

				if (rnd(8) == 0)
					f = 0;		/* empty fragment */
				last = last && f == left;
				REQUIRE(n + 4 + f <= sizeof(stream));
				n = put_frag(stream, n, bodies[i] + done, f, last);
				done += f;
				left -= f;
				if (last)
					break;
			} while (1);
		}
		rpc_record_reader_init(&r, MAXREC);
		while (off < n && got < NREC) {
			size_t chunk = 1 + rnd(4096), used;
			int ret;

			chunk = MIN(chunk, n - off);
			ret = rpc_record_reader_feed(&r, stream + off, chunk, &used);
			REQUIRE(ret >= 0);
			off += used;
			if (ret == 1) {
				uint8_t *rec;
				uint32_t len;

				rpc_record_reader_take(&r, &rec, &len);
				CHECK_EQ(len, lens[got]);
				CHECK(len == 0 || memcmp(rec, bodies[got], len) == 0);
				free(rec);
				got++;
			}
		}
		CHECK_EQ(got, NREC);
		CHECK_EQ(off, n);
		rpc_record_reader_free(&r);
	}
}

int
main(void)
{
	TEST_RUN(test_mark);
	TEST_RUN(test_byte_at_a_time);
	TEST_RUN(test_multi_fragment);
	TEST_RUN(test_limits);
	TEST_RUN(test_pipelined);
	TEST_RUN(test_large_chunks);
	TEST_RUN(test_random_streams);
	TEST_EXIT();
}
