/*
 * test_proto_malformed.c - hostile and broken input against a running
 * pmemnfsd: bad record framing, garbage XDR, RPC header errors, bad
 * credentials, stray replies, random records and concurrent replays.
 * Each must get the right RPC or NFS error (RFC 5531 §9, §11; RFC 8881
 * §2.10.6) or a closed connection, and the server must keep serving other
 * clients (checked on a fresh connection after every case).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "rpc.h"
#include "../testlib.h"

/* Closing a connection on a framing error must not take long. */
#define CLOSE_WAIT_NS	(5 * NSEC_PER_SEC)
#define RANDOM_RECORDS	300
#define RANDOM_SEED	20261125u

static struct h_server srv;

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * RFC 5531 §11: a record is fragments each with a 4-byte header.  A record
 * cut short by the peer closing, and one announcing more than the server
 * accepts, must cost the server only that connection.
 */
static void
test_framing(void)
{
	struct nc_conn *c;
	uint8_t hdr[4], junk[10];

	memset(junk, 0x42, sizeof(junk));
	/* Truncated: header says 100 bytes, 10 arrive, then EOF. */
	REQUIRE(h_connect(&srv, &c) == 0);
	put32(hdr, RPC_LAST_FRAG | 100);
	CHECK_EQ(nc_conn_send_raw(c, hdr, 4), 0);
	CHECK_EQ(nc_conn_send_raw(c, junk, sizeof(junk)), 0);
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));

	/* Truncated header: two bytes then EOF. */
	REQUIRE(h_connect(&srv, &c) == 0);
	CHECK_EQ(nc_conn_send_raw(c, hdr, 2), 0);
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));

	/* Oversized: ~2 GiB announced; the server closes the connection. */
	REQUIRE(h_connect(&srv, &c) == 0);
	put32(hdr, RPC_LAST_FRAG | 0x7ffffff0u);
	CHECK_EQ(nc_conn_send_raw(c, hdr, 4), 0);
	/* The server may close as soon as it has the header: EPIPE is fine. */
	if (nc_conn_send_raw(c, junk, sizeof(junk)))
		CHECK(nc_conn_wait_closed(c, CLOSE_WAIT_NS) == 0);
	CHECK_EQ(nc_conn_wait_closed(c, CLOSE_WAIT_NS), 0);
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));

	/* Many non-last fragments adding up past any sane limit. */
	REQUIRE(h_connect(&srv, &c) == 0);
	{
		static uint8_t frag[64 * 1024];
		int i, err = 0;

		put32(hdr, sizeof(frag));
		for (i = 0; i < 2048 && !err; i++) {	/* 128 MiB */
			err = nc_conn_send_raw(c, hdr, 4);
			if (!err)
				err = nc_conn_send_raw(c, frag, sizeof(frag));
		}
		/* Either the server closed on us mid-way or it does now. */
		CHECK_EQ(nc_conn_wait_closed(c, CLOSE_WAIT_NS), 0);
	}
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));

	/* An empty record is not a call; nothing may break. */
	REQUIRE(h_connect(&srv, &c) == 0);
	put32(hdr, RPC_LAST_FRAG | 0);
	CHECK_EQ(nc_conn_send_raw(c, hdr, 4), 0);
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));
}

/* Send a COMPOUND whose body is the given words. */
static int
garbage_compound(struct nc_conn *c, const uint32_t *words, unsigned n,
		 struct nc_rpc_reply *r, struct nc_call **call)
{
	uint8_t body[256];
	unsigned i;

	REQUIRE(n * 4 <= sizeof(body));
	for (i = 0; i < n; i++)
		put32(body + 4 * i, words[i]);
	return h_call(c, NC_NFS_PROGRAM, NC_NFS_VERSION, NC_NFSPROC_COMPOUND,
		      body, n * 4, r, call);
}

/*
 * A COMPOUND body that does not decode: RFC 5531 GARBAGE_ARGS, or a
 * COMPOUND4res with NFS4ERR_BADXDR (RFC 8881 §15.1.1.1 "the arguments
 * ... could not be decoded") - either is acceptable, a crash or a hang
 * is not, and an impossible length must not make the server allocate it.
 */
static void
check_garbage_reply(struct nc_conn *c, const uint32_t *w, unsigned n,
		    const char *what)
{
	struct nc_rpc_reply r;
	struct nc_call *call = NULL;
	COMPOUND4res res;
	int err, before = test_failures;

	err = garbage_compound(c, w, n, &r, &call);
	CHECK_EQ(err, 0);
	if (err) {
		fprintf(stderr, "  case: %s\n", what);
		return;
	}
	CHECK_EQ(r.reply_stat, MSG_ACCEPTED);
	if (r.accept_stat == SUCCESS) {
		CHECK_EQ(nc_call_decode(call, (xdrproc_t)xdr_COMPOUND4res, &res,
					sizeof(res)), 0);
		CHECK_EQ(res.status, NFS4ERR_BADXDR);
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	} else {
		CHECK_EQ(r.accept_stat, GARBAGE_ARGS);
	}
	if (test_failures != before)
		fprintf(stderr, "  case: %s\n", what);
	nc_call_free(call);
}

static void
test_garbage_xdr(void)
{
	struct nc_conn *c;
	/* tag length 0xffffffff */
	static const uint32_t huge_tag[] = { 0xffffffffu, 1, 0 };
	/* tag announces 8 bytes, 2 words total follow */
	static const uint32_t short_tag[] = { 8, 0x41414141 };
	/* a million operations announced, none sent */
	static const uint32_t many_ops[] = { 0, 1, 1000000 };
	/* SEQUENCE with half its arguments */
	static const uint32_t half_seq[] = { 0, 1, 1, OP_SEQUENCE, 1, 2 };
	/* nothing at all */
	static const uint32_t empty[] = { 0 };

	REQUIRE(h_connect(&srv, &c) == 0);
	check_garbage_reply(c, huge_tag, ARRAY_SIZE(huge_tag), "huge tag");
	check_garbage_reply(c, short_tag, ARRAY_SIZE(short_tag), "short tag");
	check_garbage_reply(c, many_ops, ARRAY_SIZE(many_ops), "1e6 ops");
	check_garbage_reply(c, half_seq, ARRAY_SIZE(half_seq), "half SEQUENCE");
	check_garbage_reply(c, empty, 0, "empty body");
	/* The connection itself is still good. */
	{
		struct nc_rpc_reply r;

		CHECK_EQ(nc_null(c, NC_NFS_PROGRAM, NC_NFS_VERSION, &r), 0);
		CHECK_EQ(r.accept_stat, SUCCESS);
	}
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));
}

/*
 * RFC 5531 §9: rpcvers other than 2 is MSG_DENIED RPC_MISMATCH with the
 * supported range 2..2; a message type that is neither CALL nor REPLY and a
 * REPLY with an xid the server never used (§9 "stray reply") are ignored.
 */
static void
test_rpc_header(void)
{
	struct nc_conn *c;
	struct nc_call *call;
	struct nc_rpc_reply r;
	uint8_t msg[128];
	size_t len;
	uint32_t xid;

	REQUIRE(h_connect(&srv, &c) == 0);
	xid = nc_conn_next_xid(c);
	REQUIRE(nc_encode_call(c, xid, NC_NFS_PROGRAM, NC_NFS_VERSION, 0, NULL,
			       NULL, msg, sizeof(msg), &len) == 0);
	put32(msg + 8, 3);	/* rpcvers */
	REQUIRE(nc_call_start_raw(c, msg, len, NULL, NULL, &call) == 0);
	CHECK_EQ(nc_call_wait(call, NC_DEFAULT_TIMEOUT_NS), 0);
	CHECK_EQ(nc_call_parse(call, &r), 0);
	CHECK_EQ(r.reply_stat, MSG_DENIED);
	CHECK_EQ(r.reject_stat, RPC_MISMATCH);
	CHECK_EQ(r.low, 2);
	CHECK_EQ(r.high, 2);
	nc_call_free(call);

	/* msg_type 7: nothing sensible to answer. */
	put32(msg + 8, 2);
	put32(msg + 4, 7);
	CHECK_EQ(nc_conn_send_record(c, msg, len), 0);
	/* A stray REPLY: accepted SUCCESS for an xid never sent. */
	put32(msg, 0xdead0001u);
	put32(msg + 4, REPLY);
	put32(msg + 8, MSG_ACCEPTED);
	put32(msg + 12, AUTH_NONE);
	put32(msg + 16, 0);
	put32(msg + 20, SUCCESS);
	CHECK_EQ(nc_conn_send_record(c, msg, 24), 0);
	/* The server may have closed this connection; if not, it works. */
	if (!nc_conn_is_closed(c)) {
		int err = nc_null(c, NC_NFS_PROGRAM, NC_NFS_VERSION, &r);

		CHECK(err == -ECONNRESET || (err == 0 && r.accept_stat == SUCCESS));
	}
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));
}

/* Expect MSG_DENIED AUTH_ERROR for a NULL call with cred on a new conn. */
static void
check_bad_cred(const struct nc_cred *cred, const char *what)
{
	struct nc_conn *c;
	struct nc_rpc_reply r;
	int before = test_failures, err;

	REQUIRE(h_connect(&srv, &c) == 0);
	REQUIRE(nc_conn_set_cred(c, cred) == 0);
	err = nc_null(c, NC_NFS_PROGRAM, NC_NFS_VERSION, &r);
	CHECK(err == 0 || err == -ECONNRESET);
	if (err == 0) {
		CHECK_EQ(r.reply_stat, MSG_DENIED);
		CHECK_EQ(r.reject_stat, AUTH_ERROR);
		CHECK(r.auth_stat == AUTH_BADCRED ||
		      r.auth_stat == AUTH_REJECTEDCRED ||
		      r.auth_stat == AUTH_TOOWEAK);
	}
	if (test_failures != before)
		fprintf(stderr, "  case: %s\n", what);
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));
}

/*
 * RFC 5531 appendix A: AUTH_SYS machinename is string<255> and gids is
 * unsigned int<16>; a credential breaking either is AUTH_BADCRED.  An
 * unknown flavor is refused with an AUTH_ERROR.  A good AUTH_SYS works.
 */
static void
test_bad_credentials(void)
{
	char machine[301];
	uint32_t gids[17];
	struct nc_cred cred;
	struct nc_conn *c;
	struct nc_rpc_reply r;
	unsigned i;

	memset(machine, 'm', 300);
	machine[300] = '\0';
	for (i = 0; i < ARRAY_SIZE(gids); i++)
		gids[i] = 100 + i;
	memset(&cred, 0, sizeof(cred));
	cred.flavor = AUTH_SYS;
	cred.machine = machine;
	check_bad_cred(&cred, "300-byte machine name");
	cred.machine = "host";
	cred.ngids = 17;
	cred.gids = gids;
	check_bad_cred(&cred, "17 gids");
	memset(&cred, 0, sizeof(cred));
	cred.flavor = 99;
	check_bad_cred(&cred, "flavor 99");

	/* Exactly at the limits is legal: 255 bytes, 16 gids. */
	REQUIRE(h_connect(&srv, &c) == 0);
	machine[255] = '\0';
	memset(&cred, 0, sizeof(cred));
	cred.flavor = AUTH_SYS;
	cred.machine = machine;
	cred.ngids = 16;
	cred.gids = gids;
	REQUIRE(nc_conn_set_cred(c, &cred) == 0);
	CHECK_EQ(nc_null(c, NC_NFS_PROGRAM, NC_NFS_VERSION, &r), 0);
	CHECK_EQ(r.reply_stat, MSG_ACCEPTED);
	CHECK_EQ(r.accept_stat, SUCCESS);
	nc_conn_close(c);
}

/*
 * Hundreds of random records on one connection (seeded, so a failure
 * reproduces): whatever the server answers or whether it closes the
 * connection, it must survive and serve a new client.
 */
static void
test_random_records(void)
{
	struct nc_conn *c;
	uint8_t buf[512];
	unsigned i, j, len;

	srand(RANDOM_SEED);
	REQUIRE(h_connect(&srv, &c) == 0);
	for (i = 0; i < RANDOM_RECORDS; i++) {
		len = (unsigned)rand() % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (uint8_t)rand();
		/* Half of them look like CALLs to NFS so decoding goes deep. */
		if (len >= 24 && (i & 1)) {
			put32(buf + 4, CALL);
			put32(buf + 8, 2);
			put32(buf + 12, NC_NFS_PROGRAM);
			put32(buf + 16, NC_NFS_VERSION);
			put32(buf + 20, (i & 2) ? 1 : 0);
			if (len >= 40) {
				put32(buf + 24, AUTH_NONE);
				put32(buf + 28, 0);
				put32(buf + 32, AUTH_NONE);
				put32(buf + 36, 0);
			}
		}
		if (nc_conn_send_record(c, buf, len))
			break;	/* the server closed on us: allowed */
	}
	nc_conn_close(c);
	CHECK(h_still_serving(&srv));
}

/*
 * A client that pipelines many calls and closes its connection at once
 * (RFC 5531 allows it; replies are then undeliverable): the server must
 * drop what it had queued for that connection and go on serving.
 */
#define BURST_CALLS	2000
static void
test_close_with_calls_queued(void)
{
	struct nc_conn *c;
	uint8_t *burst, msg[64];
	size_t len, off = 0;
	int round, i;

	for (round = 0; round < 5; round++) {
		REQUIRE(h_connect(&srv, &c) == 0);
		REQUIRE(nc_encode_call(c, 1, NC_NFS_PROGRAM, NC_NFS_VERSION, 0,
				       NULL, NULL, msg, sizeof(msg), &len) == 0);
		burst = malloc(BURST_CALLS * (len + 4));
		REQUIRE(burst);
		for (i = 0, off = 0; i < BURST_CALLS; i++) {
			put32(burst + off, RPC_LAST_FRAG | (uint32_t)len);
			put32(msg, (uint32_t)i + 1);	/* xid */
			memcpy(burst + off + 4, msg, len);
			off += 4 + len;
		}
		/* One write, then close before reading any reply. */
		CHECK_EQ(nc_conn_send_raw(c, burst, off), 0);
		nc_conn_close(c);
		free(burst);
	}
	CHECK(h_still_serving(&srv));
}

/* Completion counter for the concurrent replay test. */
struct replay_ctx {
	struct mutex	lock;
	struct condvar	cond;
	unsigned	done;
};

static void
replay_done(struct nc_call *call, void *arg)
{
	struct replay_ctx *p = arg;

	mutex_lock(&p->lock);
	p->done++;
	condvar_broadcast(&p->cond);
	mutex_unlock(&p->lock);
}

/*
 * RFC 8881 §2.10.6.2: a retry that arrives while the original is still
 * being executed gets NFS4ERR_DELAY (or, once done, the cached reply).
 * Eight copies of one request pipelined on one connection: every reply is
 * either the same cached reply or NFS4ERR_DELAY, and the request executes
 * once (the slot's next seqid is + 1).
 */
#define REPLAYS 8
static void
test_concurrent_replays(void)
{
	struct nc_conn *c;
	struct nc_session *s;
	struct nc_compound cp;
	struct nc_call *calls[REPLAYS];
	struct replay_ctx p;
	COMPOUND4res res;
	const uint8_t *ok_body = NULL;
	uint32_t ok_len = 0, len;
	uint64_t deadline;
	unsigned i, n_ok = 0;

	memset(&p, 0, sizeof(p));
	mutex_init(&p.lock, "replay");
	condvar_init(&p.cond);
	REQUIRE(h_session(&srv, h_owner("replays"), NULL, &c, &s) == 0);
	nc_compound_init(&cp, "replay", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s, 1, 1, 1, true);
	for (i = 0; i < REPLAYS; i++)
		REQUIRE(nc_call_start(c, NC_NFS_PROGRAM, NC_NFS_VERSION,
				      NC_NFSPROC_COMPOUND,
				      (xdrproc_t)xdr_COMPOUND4args, &cp.args,
				      replay_done, &p, &calls[i]) == 0);
	deadline = clock_now_ns() + NC_DEFAULT_TIMEOUT_NS;
	mutex_lock(&p.lock);
	while (p.done < REPLAYS &&
	       condvar_wait_until(&p.cond, &p.lock, deadline) == 0)
		;
	mutex_unlock(&p.lock);
	CHECK_EQ(p.done, REPLAYS);
	for (i = 0; i < REPLAYS && p.done == REPLAYS; i++) {
		struct nc_rpc_reply r;
		const uint8_t *b;

		if (nc_call_decode(calls[i], (xdrproc_t)xdr_COMPOUND4res, &res,
				   sizeof(res))) {
			CHECK(!"reply decodes");
			continue;
		}
		if (res.status == NFS4_OK) {
			REQUIRE(nc_call_parse(calls[i], &r) == 0);
			b = nc_call_reply(calls[i], &len);
			if (!ok_body) {
				ok_body = b + r.body_off;
				ok_len = len - r.body_off;
			} else {
				CHECK(len - r.body_off == ok_len &&
				      !memcmp(b + r.body_off, ok_body, ok_len));
			}
			n_ok++;
		} else {
			CHECK_EQ(res.status, NFS4ERR_DELAY);
		}
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	CHECK(n_ok >= 1);
	/* Executed once: the next request on slot 1 is seqid 2. */
	cp.ops[0].nfs_argop4_u.opsequence.sa_sequenceid = 2;
	CHECK_EQ(nc_compound(c, &cp, &res, NULL), 0);
	CHECK_EQ(res.status, NFS4_OK);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	h_session_free(c, s);
	for (i = 0; i < REPLAYS; i++)
		nc_call_free(calls[i]);
	condvar_destroy(&p.cond);
	mutex_destroy(&p.lock);
	CHECK(h_still_serving(&srv));
}

int
main(void)
{
	REQUIRE(h_server_start(&srv, NULL) == 0);
	TEST_RUN(test_framing);
	TEST_RUN(test_garbage_xdr);
	TEST_RUN(test_rpc_header);
	TEST_RUN(test_bad_credentials);
	TEST_RUN(test_random_records);
	TEST_RUN(test_close_with_calls_queued);
	TEST_RUN(test_concurrent_replays);
	CHECK(h_server_alive(&srv));
	CHECK_EQ(h_server_stop(&srv, test_failures != 0), 0);
	TEST_EXIT();
}
