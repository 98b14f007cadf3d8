/*
 * test_proto_lease.c - lease expiry against a running pmemnfsd with a
 * 2-second lease (RFC 8881 §8.3): a client that stops renewing loses its
 * client ID and sessions (NFS4ERR_BADSESSION, NFS4ERR_STALE_CLIENTID);
 * a client that keeps sending SEQUENCE (the renewal, §8.3) keeps them.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "harness.h"
#include "../testlib.h"

#define LEASE_SEC	2
/*
 * How long an idle client is given to expire: the lease plus the reaper's
 * granularity (it may run once a lease period) plus scheduling slack.
 */
#define EXPIRE_BY_NS	((3ULL * LEASE_SEC + 1) * NSEC_PER_SEC)
/* The renewing client renews four times per lease. */
#define RENEW_EVERY_NS	(LEASE_SEC * NSEC_PER_SEC / 4)

static struct h_server srv;

static int
ping(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "renew");
	if (nc_session_compound(s, &cp, NC_SEQ_NO_RETRY, &res, NULL))
		return -1;
	st = res.status;
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return st;
}

/*
 * §8.3: "the server ... MAY release ... state when the lease has expired";
 * this server's reaper does.  Waiting here is the protocol's own clock (we
 * must not send anything for the idle client, or we would renew it), so it
 * is a fixed wait, while the busy client shows the server is otherwise
 * healthy and that renewal works.
 */
static void
test_lease_expiry(void)
{
	struct nc_conn *ci, *cb;
	struct nc_session *idle, *busy, *s2 = NULL;
	struct nc_session_opts o;
	struct nc_clientid cl;
	verifier4 v = { 'l', 'e', 'a', 's', 'e', 0, 0, 1 };
	nfsstat4 st = NFS4ERR_IO;
	uint64_t end;

	REQUIRE(h_connect(&srv, &ci) == 0);
	REQUIRE(nc_exchange_id(ci, h_owner("idle"), v, 0, &cl, &st) == 0);
	REQUIRE(st == NFS4_OK);
	nc_session_opts_init(&o);
	REQUIRE(nc_create_session(ci, &cl, &o, &idle, &st) == 0);
	REQUIRE(st == NFS4_OK && idle);
	REQUIRE(h_session(&srv, h_owner("busy"), NULL, &cb, &busy) == 0);
	CHECK_EQ(ping(idle), NFS4_OK);

	end = clock_now_ns() + EXPIRE_BY_NS;
	while (clock_now_ns() < end) {
		CHECK_EQ(ping(busy), NFS4_OK);
		h_sleep_ns(RENEW_EVERY_NS);
	}
	CHECK_EQ(ping(busy), NFS4_OK);
	/* §18.46.3 BADSESSION; §18.36.4 STALE_CLIENTID for the expired ID. */
	CHECK_EQ(ping(idle), NFS4ERR_BADSESSION);
	o.flags = 0;
	CHECK_EQ(nc_create_session(ci, &cl, &o, &s2, &st), 0);
	CHECK_EQ(st, NFS4ERR_STALE_CLIENTID);
	nc_session_free(s2);
	/* The owner may start over: a new client ID, a working session. */
	h_session_free(ci, idle);
	REQUIRE(h_session(&srv, h_owner("idle-again"), NULL, &ci, &idle) == 0);
	CHECK_EQ(ping(idle), NFS4_OK);
	h_session_free(ci, idle);
	h_session_free(cb, busy);
}

int
main(void)
{
	static const char *const args[] = {
		"-o", "nfs4.lease_time=2", NULL
	};

	REQUIRE(h_server_start(&srv, args) == 0);
	TEST_RUN(test_lease_expiry);
	CHECK(h_still_serving(&srv));
	CHECK_EQ(h_server_stop(&srv, test_failures != 0), 0);
	TEST_EXIT();
}
