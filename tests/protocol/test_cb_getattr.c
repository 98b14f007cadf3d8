/*
 * test_cb_getattr.c - CB_GETATTR end to end (RFC 8881 §10.4.3, §20.1):
 * client A holds a write delegation on a file; client B GETATTRs its size
 * and change; the server asks A with CB_GETATTR and answers B with what A
 * reports, or - when A fails, never answers, or answers garbage - with
 * its own values, in bounded time and without crashing.
 *
 * A's answers come from the client library (nc_conn_set_cb_getattr); a
 * hook on A's connection records what the server asked and can turn the
 * answer into an error or drop it.  Each test uses two fresh clients and
 * its own file, so a callback path one test took down does not touch the
 * next.  This covers the CB_GETATTR reply parser in src/state/deleg.c
 * (the bug fixed in ceed8c3) in-tree, not only through pynfs DELEG25.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../testlib.h"

/* What B asks for and the server asks A for (§10.4.3). */
#define SC_MASK		((1u << FATTR4_CHANGE) | (1u << FATTR4_SIZE))
/* The size A reports: anything the server's own value (0) is not. */
#define HOLDER_SIZE	12345ULL
/*
 * How long a GETATTR may take when A fails or stays silent: the server
 * waits one second for the holder (STATE_CB_GETATTR_WAIT_NS in
 * src/state/deleg.c); the rest is slack for sanitizer builds on a busy
 * machine.  Well below the library's own reply timeout, so a hang shows
 * as a failed CHECK, not as a transport error.
 */
#define GETATTR_BOUND_NS	(5 * NSEC_PER_SEC)
/* Waiting for a callback the server must have sent already. */
#define CB_WAIT_NS		(5 * NSEC_PER_SEC)

static struct h_server srv;

/* What A's hook does with a CB_GETATTR; read on A's receive thread. */
enum hook_mode {
	HOOK_ANSWER,		/* the library's answer (registered or not) */
	HOOK_ERROR,		/* NFS4ERR_SERVERFAULT */
	HOOK_DROP,		/* no reply at all */
	HOOK_DEFER,		/* reply held until the test sends it */
	HOOK_TRUNCATE,		/* a reply that does not decode */
};

struct hook_ctx {
	atomic_int	mode;		/* enum hook_mode */
	atomic_uint	req_mask;	/* attr_request word 0 last seen */
	atomic_uint	fh_ok;		/* the last CB_GETATTR named our file */
	nfs_fh4		fh;		/* set before any callback can come */
};

/* Two clients and A's write-delegated file. */
struct scene {
	struct nc_conn		*ca, *cb;
	struct nc_session	*sa, *sb;
	struct hook_ctx		hook;
	char			fh_buf[NFS4_FHSIZE];
	nfs_fh4			fh;
	stateid4		dsid;	/* A's write delegation */
	uint64_t		srv_size, srv_change;	/* server's own */
};

static enum nc_cb_action
holder_hook(void *ctx, struct nc_conn *c, const nfs_cb_argop4 *op,
	    nfsstat4 *status)
{
	struct hook_ctx *h = ctx;
	const CB_GETATTR4args *ga;

	(void)c;
	if (op->argop != OP_CB_GETATTR)
		return NC_CB_ANSWER;
	ga = &op->nfs_cb_argop4_u.opcbgetattr;
	atomic_store(&h->req_mask, ga->attr_request.bitmap4_len ?
		     ga->attr_request.bitmap4_val[0] : 0);
	atomic_store(&h->fh_ok, ga->fh.nfs_fh4_len == h->fh.nfs_fh4_len &&
		     memcmp(ga->fh.nfs_fh4_val, h->fh.nfs_fh4_val,
			    h->fh.nfs_fh4_len) == 0);
	switch ((enum hook_mode)atomic_load(&h->mode)) {
	case HOOK_ERROR:
		*status = NFS4ERR_SERVERFAULT;
		return NC_CB_ANSWER;
	case HOOK_DROP:
		return NC_CB_DROP;
	case HOOK_DEFER:
		return NC_CB_DEFER;
	case HOOK_TRUNCATE:
		return NC_CB_TRUNCATE;
	case HOOK_ANSWER:
		break;
	}
	return NC_CB_ANSWER;
}

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * GETATTR of change and size of fh by s.  Returns the COMPOUND status,
 * a negative transport error, or -EBADMSG for a reply without both
 * values; *ns gets how long the call took.
 */
static int
getattr_sc(struct nc_session *s, const nfs_fh4 *fh, uint64_t *size,
	   uint64_t *change, uint64_t *ns)
{
	uint32_t want = SC_MASK;
	struct nc_compound cp;
	COMPOUND4res res;
	GETATTR4args *ga;
	uint64_t t0;
	int st;

	nc_session_compound_init(&cp, "getattr");
	nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object = *fh;
	ga = &nc_compound_add(&cp, OP_GETATTR)->nfs_argop4_u.opgetattr;
	ga->attr_request.bitmap4_len = 1;
	ga->attr_request.bitmap4_val = &want;
	t0 = clock_now_ns();
	st = nc_session_run(s, &cp, NC_SEQ_NO_RETRY, &res);
	if (ns)
		*ns = clock_now_ns() - t0;
	if (st == NFS4_OK) {
		const fattr4 *fa = &res.resarray.resarray_val[2].nfs_resop4_u
					    .opgetattr.GETATTR4res_u.resok4
					    .obj_attributes;
		const uint8_t *p = (const uint8_t *)fa->attr_vals.attrlist4_val;

		/* §5: values in attribute order, change (3) before size (4). */
		if (fa->attrmask.bitmap4_len < 1 ||
		    (fa->attrmask.bitmap4_val[0] & SC_MASK) != SC_MASK ||
		    fa->attr_vals.attrlist4_len < 16) {
			st = -EBADMSG;
		} else {
			*change = get_be64(p);
			*size = get_be64(p + 8);
		}
	}
	nc_compound_res_free(&res);
	return st;
}

/* RECLAIM_COMPLETE (§18.51): required before new opens (§18.51.3). */
static int
reclaim_complete(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "reclaim_complete");
	nc_compound_add(&cp, OP_RECLAIM_COMPLETE)->nfs_argop4_u
		.opreclaim_complete.rca_one_fs = FALSE;
	st = nc_session_run(s, &cp, NC_SEQ_NO_RETRY, &res);
	nc_compound_res_free(&res);
	return st;
}

/* A session as root (AUTH_SYS 0/0) that has done RECLAIM_COMPLETE. */
static void
client_start(const char *owner, struct nc_conn **c, struct nc_session **s)
{
	REQUIRE(h_session(&srv, h_owner(owner), NULL, c, s) == 0);
	REQUIRE(nc_conn_set_auth_sys(*c, 0, 0) == 0);
	REQUIRE(reclaim_complete(*s) == NFS4_OK);
}

/*
 * A creates name and opens it for write asking for a write delegation
 * (OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG, §18.16.3), which it must get; B
 * is ready.  The server's own size and change are read by A, the holder,
 * which the server never calls back about its own delegation.
 */
static void
scene_start(struct scene *sc, const char *name)
{
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN4args *o;
	int st;

	memset(sc, 0, sizeof(*sc));
	client_start("cbga-holder", &sc->ca, &sc->sa);
	client_start("cbga-reader", &sc->cb, &sc->sb);

	nc_session_compound_init(&cp, "open-write-deleg");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_BOTH |
			  OPEN4_SHARE_ACCESS_WANT_WRITE_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = nc_session_info(sc->sa)->clientid;
	o->owner.owner.owner_val = (char *)"cbga-open";
	o->owner.owner.owner_len = strlen("cbga-open");
	o->openhow.opentype = OPEN4_CREATE;
	o->openhow.openflag4_u.how.mode = UNCHECKED4;
	o->claim.claim = CLAIM_NULL;
	o->claim.open_claim4_u.file.utf8string_val = (char *)name;
	o->claim.open_claim4_u.file.utf8string_len = strlen(name);
	REQUIRE(nc_compound_add(&cp, OP_GETFH));
	st = nc_session_run(sc->sa, &cp, NC_SEQ_NO_RETRY, &res);
	REQUIRE(st == NFS4_OK);
	{
		const OPEN4resok *ok = &res.resarray.resarray_val[2]
					       .nfs_resop4_u.opopen.OPEN4res_u
					       .resok4;
		const nfs_fh4 *fh = &res.resarray.resarray_val[3].nfs_resop4_u
					     .opgetfh.GETFH4res_u.resok4
					     .object;

		REQUIRE(ok->delegation.delegation_type ==
			OPEN_DELEGATE_WRITE);
		sc->dsid = ok->delegation.open_delegation4_u.write.stateid;
		REQUIRE(fh->nfs_fh4_len <= NFS4_FHSIZE);
		memcpy(sc->fh_buf, fh->nfs_fh4_val, fh->nfs_fh4_len);
		sc->fh.nfs_fh4_val = sc->fh_buf;
		sc->fh.nfs_fh4_len = fh->nfs_fh4_len;
	}
	nc_compound_res_free(&res);

	sc->hook.fh = sc->fh;
	atomic_store(&sc->hook.mode, HOOK_ANSWER);
	nc_conn_set_cb_hook(sc->ca, holder_hook, &sc->hook);
	REQUIRE(getattr_sc(sc->sa, &sc->fh, &sc->srv_size, &sc->srv_change,
			   NULL) == NFS4_OK);
}

static void
scene_end(struct scene *sc)
{
	h_session_free(sc->ca, sc->sa);
	h_session_free(sc->cb, sc->sb);
}

/* A answers CB_GETATTR for the file with HOLDER_SIZE and change. */
static void
holder_answer(struct scene *sc, uint64_t change)
{
	const struct nc_cb_attrs a = {
		.mask = { SC_MASK },
		.size = HOLDER_SIZE,
		.change = change,
	};

	REQUIRE(nc_conn_set_cb_getattr(sc->ca, &sc->fh, &a) == 0);
}

/* How many CB_GETATTRs A's back channel has seen. */
static uint64_t
cb_getattrs(struct scene *sc)
{
	struct nc_cb_stats st;

	nc_conn_cb_stats(sc->ca, &st);
	return st.ops[OP_CB_GETATTR];
}

/*
 * B GETATTRs change and size; the server must have asked A (one more
 * CB_GETATTR, for change and size of this file) and answered in bounded
 * time.  *size / *change get what B saw.
 */
static void
reader_getattr(struct scene *sc, uint64_t *size, uint64_t *change)
{
	uint64_t before = cb_getattrs(sc), ns = 0;

	atomic_store(&sc->hook.fh_ok, 0);
	atomic_store(&sc->hook.req_mask, 0);
	CHECK_EQ(getattr_sc(sc->sb, &sc->fh, size, change, &ns), NFS4_OK);
	CHECK(ns < GETATTR_BOUND_NS);
	CHECK_EQ(nc_conn_wait_cb_op(sc->ca, OP_CB_GETATTR, before + 1,
				    CB_WAIT_NS), 0);
	CHECK(atomic_load(&sc->hook.fh_ok));
	CHECK_EQ(atomic_load(&sc->hook.req_mask) & SC_MASK, SC_MASK);
}

/* B must see exactly the server's own values. */
static void
expect_server_values(struct scene *sc)
{
	uint64_t size = ~0ULL, change = ~0ULL;

	reader_getattr(sc, &size, &change);
	CHECK_EQ(size, sc->srv_size);
	CHECK_EQ(change, sc->srv_change);
}

/*
 * §10.4.3: a write-delegation holder may have changed the file in its
 * cache; another client's GETATTR of size/change makes the server ask
 * the holder (CB_GETATTR, §20.1), and when the holder's change attribute
 * differs from the server's, B sees the holder's size and a change
 * attribute that differs from (is above) the one the server had.  The
 * server reports a change value of its own making (its value plus one,
 * src/state/deleg.c), not the holder's, so the test asks only that B
 * sees the change move up.
 */
static void
test_holder_answers(void)
{
	struct scene sc;
	uint64_t size = 0, change = 0, before;

	scene_start(&sc, "cbga-answers");
	CHECK_EQ(sc.srv_size, 0);
	holder_answer(&sc, sc.srv_change + 7);

	reader_getattr(&sc, &size, &change);
	CHECK_EQ(size, HOLDER_SIZE);
	CHECK(change > sc.srv_change);

	/* The holder's own GETATTR is not called back to it. */
	before = cb_getattrs(&sc);
	CHECK_EQ(getattr_sc(sc.sa, &sc.fh, &size, &change, NULL), NFS4_OK);
	CHECK_EQ(size, sc.srv_size);
	CHECK_EQ(change, sc.srv_change);
	CHECK_EQ(cb_getattrs(&sc), before);

	/*
	 * Attributes after size (here time_modify, 53, as a Linux client
	 * with delegated timestamps adds) are ignored, not a reason to drop
	 * the answer (ceed8c3, pynfs DELEG25).
	 */
	{
		uint8_t v[8 + 8 + 12] = { 0 };
		struct nc_cb_attrs t = {
			.mask = { SC_MASK,
				  1u << (FATTR4_TIME_MODIFY - 32) },
			.vals = v, .vals_len = sizeof(v),
		};
		uint64_t ch = sc.srv_change + 9, sz = HOLDER_SIZE + 1;

		for (int i = 0; i < 8; i++) {
			v[i] = (uint8_t)(ch >> (56 - 8 * i));
			v[8 + i] = (uint8_t)(sz >> (56 - 8 * i));
		}
		v[16 + 7] = 42;		/* seconds; nseconds 0 */
		REQUIRE(nc_conn_set_cb_getattr(sc.ca, &sc.fh, &t) == 0);
		reader_getattr(&sc, &size, &change);
		CHECK_EQ(size, HOLDER_SIZE + 1);
		CHECK(change > sc.srv_change);
	}

	/*
	 * §10.4.3: the same change value means the holder has not written:
	 * its size is not taken, the server's values stand.
	 */
	holder_answer(&sc, sc.srv_change);
	expect_server_values(&sc);
	scene_end(&sc);
}

/*
 * A holder that answers CB_GETATTR with an error - NFS4ERR_NOTSUPP, the
 * library's answer for an unregistered file, or any other - gives B the
 * server's own values at once.
 */
static void
test_holder_error(void)
{
	struct scene sc;

	scene_start(&sc, "cbga-error");
	expect_server_values(&sc);	/* nothing registered: NOTSUPP */

	holder_answer(&sc, sc.srv_change + 1);
	atomic_store(&sc.hook.mode, HOOK_ERROR);
	expect_server_values(&sc);

	/* Unregistering goes back to NOTSUPP; twice is -ENOENT. */
	atomic_store(&sc.hook.mode, HOOK_ANSWER);
	CHECK_EQ(nc_conn_set_cb_getattr(sc.ca, &sc.fh, NULL), 0);
	CHECK_EQ(nc_conn_set_cb_getattr(sc.ca, &sc.fh, NULL), -ENOENT);
	expect_server_values(&sc);
	scene_end(&sc);
}

/*
 * Malformed or partial answers (an fattr4 that says more than it holds,
 * attributes before change the server cannot skip, a size without a
 * change, junk values, a reply that does not decode): the server takes
 * none of it, answers B with its own values and keeps serving (the
 * parser of ceed8c3).
 */
static void
test_holder_garbage(void)
{
	static const uint8_t junk[NC_CB_ATTR_VALS_MAX] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0x00, 0x00, 0x30, 0x39,
	};
	const struct nc_cb_attrs bad[] = {
		/* change and size claimed, 4 bytes of values. */
		{ .mask = { SC_MASK }, .vals = junk, .vals_len = 4 },
		/* change claimed, an odd 7 bytes. */
		{ .mask = { SC_MASK }, .vals = junk, .vals_len = 7 },
		/* type (1) before change: cannot be skipped. */
		{ .mask = { SC_MASK | 1u << FATTR4_TYPE }, .vals = junk,
		  .vals_len = 24 },
		/* No bitmap at all, but all the values the buffer holds. */
		{ .mask = { 0 }, .vals = junk,
		  .vals_len = NC_CB_ATTR_VALS_MAX },
		/* Only word 1 bits (attributes 32+), junk values. */
		{ .mask = { 0, 0xffffffffu }, .vals = junk, .vals_len = 28 },
		/* A size without a change: nothing says the file changed. */
		{ .mask = { 1u << FATTR4_SIZE }, .size = HOLDER_SIZE },
	};
	struct scene sc;

	scene_start(&sc, "cbga-garbage");
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		REQUIRE(nc_conn_set_cb_getattr(sc.ca, &sc.fh, &bad[i]) == 0);
		expect_server_values(&sc);
		CHECK(h_still_serving(&srv));
	}
	/*
	 * Good values in a CB_COMPOUND4res cut short (the reply does not
	 * decode): none of them is taken.
	 */
	holder_answer(&sc, sc.srv_change + 1);
	atomic_store(&sc.hook.mode, HOOK_TRUNCATE);
	expect_server_values(&sc);
	CHECK(h_still_serving(&srv));
	scene_end(&sc);
}

/*
 * A holder that never answers (or answers after the server gave up)
 * costs B one bounded wait; B gets the server's values, and the late
 * reply does no harm.
 */
static void
test_holder_silent(void)
{
	struct scene sc;

	scene_start(&sc, "cbga-silent");
	holder_answer(&sc, sc.srv_change + 1);
	atomic_store(&sc.hook.mode, HOOK_DROP);
	expect_server_values(&sc);
	CHECK(h_still_serving(&srv));
	scene_end(&sc);

	/* An answer with real values, sent after the server's wait ended. */
	scene_start(&sc, "cbga-late");
	holder_answer(&sc, sc.srv_change + 1);
	atomic_store(&sc.hook.mode, HOOK_DEFER);
	expect_server_values(&sc);
	CHECK_EQ(nc_conn_wait_cb(sc.ca, offsetof(struct nc_cb_stats, deferred),
				 1, CB_WAIT_NS), 0);
	CHECK_EQ(nc_conn_cb_send_deferred(sc.ca), 1);
	CHECK(h_still_serving(&srv));
	/* The late size was not taken afterwards either. */
	{
		uint64_t size = ~0ULL, change = ~0ULL;

		CHECK_EQ(getattr_sc(sc.sa, &sc.fh, &size, &change, NULL),
			 NFS4_OK);
		CHECK_EQ(size, sc.srv_size);
	}
	scene_end(&sc);
}

/* The library refuses registrations it could not encode. */
static void
test_api_limits(void)
{
	struct nc_conn *c;
	char fhb[NFS4_FHSIZE + 1] = { 0 };
	nfs_fh4 fh = { .nfs_fh4_len = 8, .nfs_fh4_val = fhb };
	struct nc_cb_attrs a = { .mask = { SC_MASK } };
	uint8_t v[NC_CB_ATTR_VALS_MAX + 1] = { 0 };

	REQUIRE(h_connect(&srv, &c) == 0);
	CHECK_EQ(nc_conn_set_cb_getattr(c, &fh, &a), 0);
	a.mask[0] |= 1u << FATTR4_TYPE;	/* no value we could encode */
	CHECK_EQ(nc_conn_set_cb_getattr(c, &fh, &a), -EINVAL);
	a.vals = v;
	a.vals_len = sizeof(v);
	CHECK_EQ(nc_conn_set_cb_getattr(c, &fh, &a), -EINVAL);
	a.vals_len = NC_CB_ATTR_VALS_MAX;
	CHECK_EQ(nc_conn_set_cb_getattr(c, &fh, &a), 0);
	fh.nfs_fh4_len = NFS4_FHSIZE + 1;
	CHECK_EQ(nc_conn_set_cb_getattr(c, &fh, &a), -EINVAL);
	/* Left registered: nc_conn_close() frees it. */
	nc_conn_close(c);
}

int
main(void)
{
	REQUIRE(h_server_start(&srv, NULL) == 0);
	TEST_RUN(test_api_limits);
	TEST_RUN(test_holder_answers);
	TEST_RUN(test_holder_error);
	TEST_RUN(test_holder_garbage);
	TEST_RUN(test_holder_silent);
	if (h_server_stop(&srv, test_failures > 0) != 0)
		test_failures++;
	TEST_EXIT();
}
