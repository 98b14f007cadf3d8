/*
 * test_backchannel.c - the back channel end to end over a real TCP
 * connection on 127.0.0.1 (RFC 8881 §2.10.3.1, §18.36.3, §18.34, §20.9):
 * CREATE_SESSION with CONN_BACK_CHAN makes the server probe with CB_NULL;
 * state_cb_compound() sends CB_COMPOUND with CB_SEQUENCE whose seqid moves
 * on per answered call; an unanswered call times out and SEQUENCE reports
 * SEQ4_STATUS_CB_PATH_DOWN[_SESSION]; BIND_CONN_TO_SESSION brings it back;
 * closing the connection takes the back channel down.
 *
 * The test plays the client with a raw socket: it encodes RPC calls itself
 * and answers the server's calls itself.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "nfs4.h"
#include "../testlib.h"

#define CB_PROG		0x40000123u
/*
 * The server's callback timeout: the unanswered call waits this long, and
 * an answered one must come back within it even on a loaded CI machine.
 */
#define CB_TIMEOUT_MS	1500u
/* Every wait in this test ends by this deadline (the test fails then). */
#define WAIT_MS		10000u
/* Whole-test watchdog: a hang becomes a failure, not a stuck CI job. */
#define WATCHDOG_SEC	60u

static struct rpc_server *rsrv;
static struct nfs4_server *nsrv;
static pthread_t loop_thread;
static int sock = -1;
static struct rpc_record_reader rr;
static uint32_t next_xid = 1000;

static void *
loop_main(void *arg)
{
	(void)arg;
	VERIFY(rpc_server_run(rsrv) == 0);
	return NULL;
}

static void
start_server(void)
{
	struct rpc_server_config rcfg;
	struct nfs4_config cfg;
	struct sockaddr_in sin;
	uint16_t port;

	rpc_server_config_defaults(&rcfg);
	rcfg.nworkers = 2;
	rcfg.nblocking_workers = 1;
	REQUIRE(rpc_server_create(&rcfg, &rsrv) == 0);
	nfs4_config_defaults(&cfg);
	cfg.cb_timeout_ms = CB_TIMEOUT_MS;
	cfg.lease_sec = 30;
	REQUIRE(nfs4_server_init(&cfg, rsrv, NULL, NULL, &nsrv) == 0);
	REQUIRE(rpc_server_listen(rsrv, "127.0.0.1", 0, &port) == 0);
	REQUIRE(pthread_create(&loop_thread, NULL, loop_main, NULL) == 0);

	sock = socket(AF_INET, SOCK_STREAM, 0);
	REQUIRE(sock >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(connect(sock, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	rpc_record_reader_init(&rr, 1 << 20);
}

static void
stop_server(void)
{
	if (sock >= 0)
		close(sock);
	rpc_record_reader_free(&rr);
	rpc_server_stop(rsrv);
	pthread_join(loop_thread, NULL);
	rpc_server_destroy(rsrv);
	nfs4_server_shutdown(nsrv);
}

static void
send_record(const char *body, uint32_t len)
{
	uint8_t hdr[4];

	rpc_record_mark(hdr, len, true);
	REQUIRE(write(sock, hdr, 4) == 4);
	REQUIRE(write(sock, body, len) == (ssize_t)len);
}

/* Bytes read from the socket but not yet fed to the record reader. */
static uint8_t inbuf[65536];
static size_t in_off, in_len;

/* Next record from the server, or NULL when none came in time. */
static uint8_t *
recv_record(uint32_t *len, uint32_t wait_ms)
{
	uint64_t deadline = clock_now_ns() + wait_ms * NSEC_PER_MSEC;

	for (;;) {
		struct pollfd p = { .fd = sock, .events = POLLIN };
		uint64_t now;
		ssize_t n;

		while (in_off < in_len) {
			size_t used;
			int r = rpc_record_reader_feed(&rr, inbuf + in_off,
						       in_len - in_off, &used);

			REQUIRE(r >= 0);
			in_off += used;
			if (r == 1) {
				uint8_t *rec;

				rpc_record_reader_take(&rr, &rec, len);
				return rec;
			}
		}
		now = clock_now_ns();
		if (now >= deadline)
			return NULL;
		if (poll(&p, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1) <= 0)
			continue;
		n = read(sock, inbuf, sizeof(inbuf));
		REQUIRE(n > 0);
		in_off = 0;
		in_len = (size_t)n;
	}
}

/* --- our calls --------------------------------------------------------- */

static uint32_t
send_compound(nfs_argop4 *ops, uint32_t nops)
{
	static char body[8192];
	uint32_t hdr[10];
	COMPOUND4args args;
	XDR x;
	uint32_t xid = next_xid++;

	hdr[0] = xid;
	hdr[1] = 0;		/* CALL */
	hdr[2] = 2;
	hdr[3] = NFS4_PROGRAM;
	hdr[4] = NFS_V4;
	hdr[5] = NFSPROC4_COMPOUND;
	hdr[6] = AUTH_NONE;	/* cred */
	hdr[7] = 0;
	hdr[8] = AUTH_NONE;	/* verf */
	hdr[9] = 0;
	memset(&args, 0, sizeof(args));
	args.minorversion = 1;
	args.argarray.argarray_len = nops;
	args.argarray.argarray_val = ops;
	xdrmem_create(&x, body, sizeof(body), XDR_ENCODE);
	for (int i = 0; i < 10; i++)
		REQUIRE(xdr_uint32_t(&x, &hdr[i]));
	REQUIRE(xdr_COMPOUND4args(&x, &args));
	send_record(body, xdr_getpos(&x));
	xdr_destroy(&x);
	return xid;
}

static void answer_cb_null(const uint8_t *rec, uint32_t len);

/*
 * Wait for the reply to xid and decode it; CB_NULL probes that arrive
 * meanwhile are answered (the server may send them before the reply).
 */
/* The last reply's body (COMPOUND4res bytes), for replay comparisons. */
static uint8_t last_body[8192];
static uint32_t last_body_len;

static void
wait_reply(uint32_t xid, COMPOUND4res *res, int *probes)
{
	for (;;) {
		uint32_t len, w[6];
		uint8_t *rec = recv_record(&len, WAIT_MS);
		XDR x;

		REQUIRE(rec != NULL);
		xdrmem_create(&x, (char *)rec, len, XDR_DECODE);
		REQUIRE(xdr_uint32_t(&x, &w[0]) && xdr_uint32_t(&x, &w[1]));
		if (w[1] == 0) {	/* a CALL from the server */
			answer_cb_null(rec, len);
			if (probes)
				(*probes)++;
			xdr_destroy(&x);
			free(rec);
			continue;
		}
		REQUIRE(w[0] == xid);
		/* accepted, verifier (flavor, empty body), SUCCESS */
		for (int i = 2; i < 6; i++)
			REQUIRE(xdr_uint32_t(&x, &w[i]));
		REQUIRE(w[2] == 0 && w[5] == 0);
		last_body_len = len - xdr_getpos(&x);
		REQUIRE(last_body_len <= sizeof(last_body));
		memcpy(last_body, rec + xdr_getpos(&x), last_body_len);
		memset(res, 0, sizeof(*res));
		REQUIRE(xdr_COMPOUND4res(&x, res));
		xdr_destroy(&x);
		free(rec);
		return;
	}
}

/* --- the server's calls ------------------------------------------------ */

struct srv_call {
	uint32_t xid, prog, vers, proc;
	XDR	x;		/* positioned at the call body */
};

static void
parse_call(const uint8_t *rec, uint32_t len, struct srv_call *c)
{
	uint32_t w, flavor, blen;
	char skip[512];

	xdrmem_create(&c->x, (char *)rec, len, XDR_DECODE);
	REQUIRE(xdr_uint32_t(&c->x, &c->xid));
	REQUIRE(xdr_uint32_t(&c->x, &w) && w == 0);
	REQUIRE(xdr_uint32_t(&c->x, &w) && w == 2);
	REQUIRE(xdr_uint32_t(&c->x, &c->prog));
	REQUIRE(xdr_uint32_t(&c->x, &c->vers));
	REQUIRE(xdr_uint32_t(&c->x, &c->proc));
	for (int i = 0; i < 2; i++) {	/* credential, verifier */
		REQUIRE(xdr_uint32_t(&c->x, &flavor));
		REQUIRE(xdr_uint32_t(&c->x, &blen) && blen <= sizeof(skip));
		REQUIRE(xdr_opaque(&c->x, skip, blen));
	}
}

static void
send_accepted_reply(uint32_t xid, bool (*enc)(XDR *, void *), void *arg)
{
	static char body[4096];
	uint32_t hdr[6] = { xid, 1, 0, AUTH_NONE, 0, 0 };
	XDR x;

	xdrmem_create(&x, body, sizeof(body), XDR_ENCODE);
	for (int i = 0; i < 6; i++)
		REQUIRE(xdr_uint32_t(&x, &hdr[i]));
	if (enc)
		REQUIRE(enc(&x, arg));
	send_record(body, xdr_getpos(&x));
	xdr_destroy(&x);
}

static void
answer_cb_null(const uint8_t *rec, uint32_t len)
{
	struct srv_call c;

	parse_call(rec, len, &c);
	CHECK_EQ(c.prog, CB_PROG);
	CHECK_EQ(c.vers, 1);
	CHECK_EQ(c.proc, 0);
	send_accepted_reply(c.xid, NULL, NULL);
	xdr_destroy(&c.x);
}

/* Wait for a CALL from the server; NULL if none came within wait_ms. */
static uint8_t *
wait_call(uint32_t *len, uint32_t wait_ms)
{
	return recv_record(len, wait_ms);
}

static bool
enc_cb_res(XDR *x, void *arg)
{
	return xdr_CB_COMPOUND4res(x, arg);
}

/* --- completion of state_cb_compound() ------------------------------------ */

static struct mutex done_lock;
static struct condvar done_cv;
static int done_count, done_err;
static nfsstat4 done_status;

static void
cb_done(void *ctx, int err, const CB_COMPOUND4res *res)
{
	(void)ctx;
	mutex_lock(&done_lock);
	done_err = err;
	done_status = res ? res->status : NFS4ERR_SERVERFAULT;
	done_count++;
	condvar_broadcast(&done_cv);
	mutex_unlock(&done_lock);
}

static bool
wait_done(int count)
{
	uint64_t deadline = clock_now_ns() + WAIT_MS * NSEC_PER_MSEC;
	bool ok;

	mutex_lock(&done_lock);
	while (done_count < count &&
	       condvar_wait_until(&done_cv, &done_lock, deadline) == 0)
		;
	ok = done_count >= count;
	mutex_unlock(&done_lock);
	return ok;
}

/* --- the test ------------------------------------------------------------------- */

static callback_sec_parms4 sec_none = { .cb_secflavor = AUTH_NONE };

static uint32_t
sequence_flags(const char *sid, uint32_t seqid)
{
	nfs_argop4 op;
	COMPOUND4res res;
	uint32_t flags;

	memset(&op, 0, sizeof(op));
	op.argop = OP_SEQUENCE;
	memcpy(op.nfs_argop4_u.opsequence.sa_sessionid, sid,
	       NFS4_SESSIONID_SIZE);
	op.nfs_argop4_u.opsequence.sa_sequenceid = seqid;
	wait_reply(send_compound(&op, 1), &res, NULL);
	REQUIRE(res.status == NFS4_OK);
	flags = res.resarray.resarray_val[0].nfs_resop4_u.opsequence
			.SEQUENCE4res_u.sr_resok4.sr_status_flags;
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
	return flags;
}

/* Send a CB_RECALL_ANY via state_cb_compound(); return the call seen. */
static void
send_cb(struct state_client *clp)
{
	nfs_cb_argop4 op;

	memset(&op, 0, sizeof(op));
	op.argop = OP_CB_RECALL_ANY;
	op.nfs_cb_argop4_u.opcbrecall_any.craa_objects_to_keep = 7;
	REQUIRE(state_cb_compound(clp, &op, 1, 0, cb_done, NULL) == 0);
}

static void
answer_cb_compound(const char *sid, uint32_t expect_seqid)
{
	CB_COMPOUND4args args;
	CB_COMPOUND4res res;
	nfs_cb_resop4 r[2];
	CB_SEQUENCE4args *cs;
	struct srv_call c;
	uint32_t len;
	uint8_t *rec = wait_call(&len, WAIT_MS);

	REQUIRE(rec != NULL);
	parse_call(rec, len, &c);
	CHECK_EQ(c.prog, CB_PROG);
	CHECK_EQ(c.proc, 1);
	memset(&args, 0, sizeof(args));
	REQUIRE(xdr_CB_COMPOUND4args(&c.x, &args));
	CHECK_EQ(args.minorversion, 1);
	REQUIRE(args.argarray.argarray_len == 2);
	REQUIRE(args.argarray.argarray_val[0].argop == OP_CB_SEQUENCE);
	cs = &args.argarray.argarray_val[0].nfs_cb_argop4_u.opcbsequence;
	CHECK(memcmp(cs->csa_sessionid, sid, NFS4_SESSIONID_SIZE) == 0);
	CHECK_EQ(cs->csa_sequenceid, expect_seqid);
	CHECK_EQ(cs->csa_slotid, 0);
	CHECK_EQ(args.argarray.argarray_val[1].argop, OP_CB_RECALL_ANY);
	CHECK_EQ(args.argarray.argarray_val[1].nfs_cb_argop4_u.opcbrecall_any
			 .craa_objects_to_keep, 7);

	memset(r, 0, sizeof(r));
	r[0].resop = OP_CB_SEQUENCE;
	r[0].nfs_cb_resop4_u.opcbsequence.csr_status = NFS4_OK;
	memcpy(r[0].nfs_cb_resop4_u.opcbsequence.CB_SEQUENCE4res_u.csr_resok4
		       .csr_sessionid, sid, NFS4_SESSIONID_SIZE);
	r[0].nfs_cb_resop4_u.opcbsequence.CB_SEQUENCE4res_u.csr_resok4
		.csr_sequenceid = cs->csa_sequenceid;
	r[1].resop = OP_CB_RECALL_ANY;
	r[1].nfs_cb_resop4_u.opcbrecall_any.crar_status = NFS4_OK;
	memset(&res, 0, sizeof(res));
	res.status = NFS4_OK;
	res.resarray.resarray_len = 2;
	res.resarray.resarray_val = r;
	send_accepted_reply(c.xid, enc_cb_res, &res);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4args, (char *)&args);
	xdr_destroy(&c.x);
	free(rec);
}

static void
test_back_channel(void)
{
	nfs_argop4 op;
	COMPOUND4res res;
	CREATE_SESSION4args *ca;
	char sid[NFS4_SESSIONID_SIZE];
	struct state_client *clp;
	uint64_t clid, deadline;
	uint32_t flags, len;
	int probes = 0;
	uint8_t *rec;

	start_server();

	memset(&op, 0, sizeof(op));
	op.argop = OP_EXCHANGE_ID;
	memcpy(op.nfs_argop4_u.opexchange_id.eia_clientowner.co_verifier,
	       "verifier", 8);
	op.nfs_argop4_u.opexchange_id.eia_clientowner.co_ownerid
		.co_ownerid_len = 6;
	op.nfs_argop4_u.opexchange_id.eia_clientowner.co_ownerid
		.co_ownerid_val = (char *)"bctest";
	wait_reply(send_compound(&op, 1), &res, NULL);
	REQUIRE(res.status == NFS4_OK);
	clid = res.resarray.resarray_val[0].nfs_resop4_u.opexchange_id
		       .EXCHANGE_ID4res_u.eir_resok4.eir_clientid;
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);

	memset(&op, 0, sizeof(op));
	op.argop = OP_CREATE_SESSION;
	ca = &op.nfs_argop4_u.opcreate_session;
	ca->csa_clientid = clid;
	ca->csa_sequence = 1;
	ca->csa_flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	ca->csa_fore_chan_attrs.ca_maxrequestsize = 65536;
	ca->csa_fore_chan_attrs.ca_maxresponsesize = 65536;
	ca->csa_fore_chan_attrs.ca_maxresponsesize_cached = 4096;
	ca->csa_fore_chan_attrs.ca_maxoperations = 8;
	ca->csa_fore_chan_attrs.ca_maxrequests = 4;
	ca->csa_back_chan_attrs = ca->csa_fore_chan_attrs;
	ca->csa_back_chan_attrs.ca_maxrequests = 1;
	ca->csa_cb_program = CB_PROG;
	ca->csa_sec_parms.csa_sec_parms_len = 1;
	ca->csa_sec_parms.csa_sec_parms_val = &sec_none;
	wait_reply(send_compound(&op, 1), &res, &probes);
	REQUIRE(res.status == NFS4_OK);
	memcpy(sid, res.resarray.resarray_val[0].nfs_resop4_u.opcreate_session
		       .CREATE_SESSION4res_u.csr_resok4.csr_sessionid,
	       NFS4_SESSIONID_SIZE);
	CHECK(res.resarray.resarray_val[0].nfs_resop4_u.opcreate_session
		      .CREATE_SESSION4res_u.csr_resok4.csr_flags &
	      CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);

	/* §20.1: the CB_NULL probe (unless it already came). */
	if (!probes) {
		rec = wait_call(&len, WAIT_MS);
		REQUIRE(rec != NULL);
		answer_cb_null(rec, len);
		free(rec);
	}
	flags = sequence_flags(sid, 1);
	CHECK(!(flags & (SEQ4_STATUS_CB_PATH_DOWN |
			 SEQ4_STATUS_CB_PATH_DOWN_SESSION)));

	/*
	 * The reply cache through the real RPC reply stream: a cached
	 * SEQUENCE + RECLAIM_COMPLETE, retried, comes back byte for byte
	 * (RFC 8881 §2.10.6.1.3), although running it again would fail.
	 */
	{
		nfs_argop4 ops[2];
		static uint8_t first[8192];
		uint32_t first_len;

		memset(ops, 0, sizeof(ops));
		ops[0].argop = OP_SEQUENCE;
		memcpy(ops[0].nfs_argop4_u.opsequence.sa_sessionid, sid,
		       NFS4_SESSIONID_SIZE);
		ops[0].nfs_argop4_u.opsequence.sa_slotid = 1;
		ops[0].nfs_argop4_u.opsequence.sa_sequenceid = 1;
		ops[0].nfs_argop4_u.opsequence.sa_cachethis = TRUE;
		ops[1].argop = OP_RECLAIM_COMPLETE;
		wait_reply(send_compound(ops, 2), &res, NULL);
		CHECK_EQ(res.status, NFS4_OK);
		xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
		memcpy(first, last_body, last_body_len);
		first_len = last_body_len;
		wait_reply(send_compound(ops, 2), &res, NULL);
		CHECK_EQ(res.status, NFS4_OK);
		xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
		CHECK_EQ(last_body_len, first_len);
		CHECK(memcmp(last_body, first, first_len) == 0);
		ops[0].nfs_argop4_u.opsequence.sa_sequenceid = 2;
		wait_reply(send_compound(ops, 2), &res, NULL);
		CHECK_EQ(res.status, NFS4ERR_COMPLETE_ALREADY);
		xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
	}

	REQUIRE(state_client_lookup(nfs4_server_state(nsrv), clid, &clp) ==
		NFS4_OK);
	CHECK(state_client_cb_up(clp));

	/* Two answered CB_COMPOUNDs: CB_SEQUENCE seqids 1 and 2. */
	send_cb(clp);
	answer_cb_compound(sid, 1);
	REQUIRE(wait_done(1));
	CHECK_EQ(done_err, 0);
	CHECK_EQ(done_status, NFS4_OK);
	send_cb(clp);
	answer_cb_compound(sid, 2);
	REQUIRE(wait_done(2));
	CHECK_EQ(done_err, 0);

	/* Unanswered: -ETIMEDOUT and the path is reported down. */
	send_cb(clp);
	rec = wait_call(&len, WAIT_MS);
	REQUIRE(rec != NULL);
	free(rec);
	REQUIRE(wait_done(3));
	CHECK_EQ(done_err, -ETIMEDOUT);
	flags = sequence_flags(sid, 2);
	CHECK(flags & SEQ4_STATUS_CB_PATH_DOWN);
	CHECK(flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION);
	CHECK(!state_client_cb_up(clp));
	/* No working back channel: nothing is sent. */
	CHECK_EQ(state_cb_compound(clp, NULL, 0, 0, cb_done, NULL), -ENOTCONN);

	/* §18.34: binding the connection again brings it back (probed). */
	memset(&op, 0, sizeof(op));
	op.argop = OP_BIND_CONN_TO_SESSION;
	memcpy(op.nfs_argop4_u.opbind_conn_to_session.bctsa_sessid, sid,
	       NFS4_SESSIONID_SIZE);
	op.nfs_argop4_u.opbind_conn_to_session.bctsa_dir = CDFC4_BACK_OR_BOTH;
	probes = 0;
	wait_reply(send_compound(&op, 1), &res, &probes);
	REQUIRE(res.status == NFS4_OK);
	CHECK_EQ(res.resarray.resarray_val[0].nfs_resop4_u
			 .opbind_conn_to_session.BIND_CONN_TO_SESSION4res_u
			 .bctsr_resok4.bctsr_dir, CDFS4_BOTH);
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
	if (!probes) {
		rec = wait_call(&len, WAIT_MS);
		REQUIRE(rec != NULL);
		answer_cb_null(rec, len);
		free(rec);
	}
	flags = sequence_flags(sid, 3);
	CHECK(!(flags & SEQ4_STATUS_CB_PATH_DOWN_SESSION));
	CHECK(state_client_cb_up(clp));
	/* The timed-out call's slot seqid (3) was not consumed. */
	send_cb(clp);
	answer_cb_compound(sid, 3);
	REQUIRE(wait_done(4));
	CHECK_EQ(done_err, 0);
	/* One callback slot: the second call waits for the first's reply. */
	send_cb(clp);
	send_cb(clp);
	answer_cb_compound(sid, 4);
	answer_cb_compound(sid, 5);
	REQUIRE(wait_done(6));
	CHECK_EQ(done_err, 0);

	/* Closing the connection takes the back channel down. */
	close(sock);
	sock = -1;
	deadline = clock_now_ns() + WAIT_MS * NSEC_PER_MSEC;
	while (state_client_cb_up(clp) && clock_now_ns() < deadline) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);	/* polling a condition, with deadline */
	}
	CHECK(!state_client_cb_up(clp));
	state_client_put(clp);
	stop_server();
}

int
main(void)
{
	log_init("test_backchannel", LOG_LVL_WARN, false);
	alarm(WATCHDOG_SEC);
	mutex_init(&done_lock, "test-done");
	condvar_init(&done_cv);
	TEST_RUN(test_back_channel);
	TEST_EXIT();
}
