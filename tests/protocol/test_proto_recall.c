/*
 * test_proto_recall.c - layout recall end to end (RFC 8881 §12.5.5, §20.3,
 * §20.9; DESIGN.md §3 rule 5) against a running pmemnfsd with a 3-second
 * lease.  Client A writes a file through the MDS and takes an RW block
 * layout on it; client B truncates the file, which must break A's layout:
 *
 *  - A receives CB_COMPOUND = CB_SEQUENCE + CB_LAYOUTRECALL on its own
 *    connection (the back channel), answers NFS4_OK and returns the layout;
 *    B's truncate then completes;
 *  - A answers NFS4ERR_DELAY to every recall, or never answers, or its back
 *    channel is dead: B's truncate still completes, no sooner than one
 *    lease after the recall (§12.5.5.2: the client is owed a lease period)
 *    and not much later (rule 5), and A is told through
 *    SEQ4_STATUS_RECALLABLE_STATE_REVOKED that its layout was revoked.
 *
 * Needs OPEN, WRITE, LAYOUTGET, LAYOUTRETURN, SETATTR and the recall
 * machinery: pending until those land.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "../testlib.h"

#define LEASE_SEC		3
#define LEASE_NS		((uint64_t)LEASE_SEC * NSEC_PER_SEC)
/* "Not much more" than a lease: two leases is the most we accept. */
#define REVOKE_BY_NS		(3 * LEASE_NS)
/* A recall must go out promptly once the truncate arrives. */
#define RECALL_SENT_NS		(2 * NSEC_PER_SEC)
#define POLL_NS			(50 * NSEC_PER_MSEC)
#define FILE_BYTES		(64 * 1024)

static struct h_server srv;

struct file {
	nfs_fh4		fh;
	char		fh_buf[NFS4_FHSIZE];
	stateid4	open_sid;
	stateid4	layout_sid;
};

/* Run [SEQUENCE + ops] on s and return the compound status. */
static int
run(struct nc_session *s, struct nc_compound *cp, COMPOUND4res *res)
{
	int err = nc_session_compound(s, cp, 0, res, NULL);

	CHECK_EQ(err, 0);
	if (err) {
		memset(res, 0, sizeof(*res));
		return -1;
	}
	return res->status;
}

static void
put_fh(struct nc_compound *cp, struct file *f)
{
	nfs_argop4 *a = nc_compound_add(cp, OP_PUTFH);

	a->nfs_argop4_u.opputfh.object = f->fh;
}

/* Create name (OPEN4_CREATE UNCHECKED4, no delegation wanted) and write
 * FILE_BYTES through the MDS so the file has blocks to unmap. */
static bool
create_and_write(struct nc_session *s, const char *name, struct file *f)
{
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN4args *o;
	WRITE4args *w;
	static char data[FILE_BYTES];
	GETFH4resok *fh;
	bool ok = false;

	memset(f, 0, sizeof(*f));
	nc_session_compound_init(&cp, "create");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_BOTH |
			  OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = nc_session_info(s)->clientid;
	o->owner.owner.owner_val = (char *)name;
	o->owner.owner.owner_len = strlen(name);
	o->openhow.opentype = OPEN4_CREATE;
	o->openhow.openflag4_u.how.mode = UNCHECKED4;
	o->claim.claim = CLAIM_NULL;
	o->claim.open_claim4_u.file.utf8string_val = (char *)name;
	o->claim.open_claim4_u.file.utf8string_len = strlen(name);
	REQUIRE(nc_compound_add(&cp, OP_GETFH));
	CHECK_EQ(run(s, &cp, &res), NFS4_OK);
	if (res.status == NFS4_OK) {
		f->open_sid = res.resarray.resarray_val[2].nfs_resop4_u.opopen
				      .OPEN4res_u.resok4.stateid;
		fh = &res.resarray.resarray_val[3].nfs_resop4_u.opgetfh
			      .GETFH4res_u.resok4;
		if (fh->object.nfs_fh4_len <= NFS4_FHSIZE) {
			memcpy(f->fh_buf, fh->object.nfs_fh4_val,
			       fh->object.nfs_fh4_len);
			f->fh.nfs_fh4_val = f->fh_buf;
			f->fh.nfs_fh4_len = fh->object.nfs_fh4_len;
			ok = true;
		}
	}
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	if (!ok)
		return false;

	memset(data, 0x5a, sizeof(data));
	nc_session_compound_init(&cp, "write");
	put_fh(&cp, f);
	w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
	w->stateid = f->open_sid;
	w->offset = 0;
	w->stable = FILE_SYNC4;
	w->data.data_val = data;
	w->data.data_len = sizeof(data);
	CHECK_EQ(run(s, &cp, &res), NFS4_OK);
	ok = res.status == NFS4_OK;
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return ok;
}

/* LAYOUTGET RW over the whole file (RFC 8881 §18.43, RFC 5663 layout). */
static bool
layout_get(struct nc_session *s, struct file *f)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LAYOUTGET4args *l;
	bool ok;

	nc_session_compound_init(&cp, "layoutget");
	put_fh(&cp, f);
	l = &nc_compound_add(&cp, OP_LAYOUTGET)->nfs_argop4_u.oplayoutget;
	l->loga_layout_type = LAYOUT4_BLOCK_VOLUME;
	l->loga_iomode = LAYOUTIOMODE4_RW;
	l->loga_offset = 0;
	l->loga_length = NFS4_UINT64_MAX;
	l->loga_minlength = 0;
	l->loga_stateid = f->open_sid;
	l->loga_maxcount = 64 * 1024;
	CHECK_EQ(run(s, &cp, &res), NFS4_OK);
	ok = res.status == NFS4_OK;
	if (ok) {
		LAYOUTGET4resok *r = &res.resarray.resarray_val[2].nfs_resop4_u
					      .oplayoutget.LAYOUTGET4res_u
					      .logr_resok4;

		f->layout_sid = r->logr_stateid;
		CHECK(r->logr_layout.logr_layout_len >= 1);
	}
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return ok;
}

/* LAYOUTRETURN of the whole file (§18.44). */
static int
layout_return(struct nc_session *s, struct file *f)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LAYOUTRETURN4args *r;
	int st;

	nc_session_compound_init(&cp, "layoutreturn");
	put_fh(&cp, f);
	r = &nc_compound_add(&cp, OP_LAYOUTRETURN)->nfs_argop4_u.oplayoutreturn;
	r->lora_layout_type = LAYOUT4_BLOCK_VOLUME;
	r->lora_iomode = LAYOUTIOMODE4_ANY;
	r->lora_layoutreturn.lr_returntype = LAYOUTRETURN4_FILE;
	r->lora_layoutreturn.layoutreturn4_u.lr_layout.lrf_offset = 0;
	r->lora_layoutreturn.layoutreturn4_u.lr_layout.lrf_length =
		NFS4_UINT64_MAX;
	r->lora_layoutreturn.layoutreturn4_u.lr_layout.lrf_stateid =
		f->layout_sid;
	st = run(s, &cp, &res);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return st;
}

/* B's truncate, run on its own thread while the test plays client A. */
struct truncator {
	struct nc_session *s;
	struct file	*f;
	pthread_t	thread;
	int		status;		/* final SETATTR compound status */
	uint64_t	elapsed_ns;	/* from start to the final answer */
	unsigned	delays;		/* NFS4ERR_DELAY answers seen */
	bool		finished;	/* set (atomically) as the thread ends */
};

static void *
truncate_main(void *arg)
{
	struct truncator *t = arg;
	uint64_t start = clock_now_ns(), deadline = start + 4 * REVOKE_BY_NS;
	static const uint32_t mask[1] = { 1u << FATTR4_SIZE };
	uint8_t zero[8] = { 0 };

	for (;;) {
		struct nc_compound cp;
		COMPOUND4res res;
		SETATTR4args *sa;

		nc_session_compound_init(&cp, "truncate");
		put_fh(&cp, t->f);
		sa = &nc_compound_add(&cp, OP_SETATTR)->nfs_argop4_u.opsetattr;
		/* The anonymous stateid: B holds no open (§8.2.3). */
		memset(&sa->stateid, 0, sizeof(sa->stateid));
		sa->obj_attributes.attrmask.bitmap4_len = 1;
		sa->obj_attributes.attrmask.bitmap4_val = (uint32_t *)mask;
		sa->obj_attributes.attr_vals.attrlist4_len = sizeof(zero);
		sa->obj_attributes.attr_vals.attrlist4_val = (char *)zero;
		if (nc_session_compound(t->s, &cp, NC_SEQ_NO_RETRY, &res,
					NULL)) {
			t->status = -1;
			break;
		}
		t->status = res.status;
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
		if (t->status != NFS4ERR_DELAY || clock_now_ns() > deadline)
			break;
		t->delays++;
		h_sleep_ns(POLL_NS);	/* a client's DELAY backoff */
	}
	t->elapsed_ns = clock_now_ns() - start;
	__atomic_store_n(&t->finished, true, __ATOMIC_RELEASE);
	return NULL;
}

static void
truncate_start(struct truncator *t, struct nc_session *s, struct file *f)
{
	memset(t, 0, sizeof(*t));
	t->s = s;
	t->f = f;
	REQUIRE(pthread_create(&t->thread, NULL, truncate_main, t) == 0);
}

static void
truncate_join(struct truncator *t)
{
	REQUIRE(pthread_join(t->thread, NULL) == 0);
}

static uint32_t seq_flags(struct nc_session *s);

/*
 * Wait for the truncate while client A keeps its lease alive with
 * SEQUENCE, as a real client does while a recall is outstanding: A must
 * lose the layout, not its whole lease.  Collects the SEQUENCE flags seen.
 */
static uint32_t
truncate_join_renewing(struct truncator *t, struct nc_session *a)
{
	uint32_t seen = 0, f;

	while (!__atomic_load_n(&t->finished, __ATOMIC_ACQUIRE)) {
		f = seq_flags(a);
		if (f != UINT32_MAX)
			seen |= f;
		h_sleep_ns(LEASE_NS / 6);
	}
	truncate_join(t);
	return seen;
}

/* How client A answers CB_LAYOUTRECALL in each scenario. */
static enum nc_cb_action recall_action;
static nfsstat4 recall_status;

static enum nc_cb_action
recall_hook(void *ctx, struct nc_conn *c, const nfs_cb_argop4 *op,
	    nfsstat4 *status)
{
	if (op->argop != OP_CB_LAYOUTRECALL)
		return NC_CB_ANSWER;
	*status = recall_status;
	return recall_action;
}

/* SEQUENCE flags of s (UINT32_MAX on error). */
static uint32_t
seq_flags(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	uint32_t f = UINT32_MAX;

	nc_session_compound_init(&cp, "flags");
	if (nc_session_compound(s, &cp, 0, &res, &f))
		return UINT32_MAX;
	if (res.status != NFS4_OK)
		f = UINT32_MAX;
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return f;
}

struct clients {
	struct nc_conn	*ca, *cb;
	struct nc_session *a, *b;
	struct file	f;
};

static bool
setup(struct clients *k, const char *name)
{
	memset(k, 0, sizeof(*k));
	REQUIRE(h_session(&srv, h_owner("recall-a"), NULL, &k->ca, &k->a) == 0);
	REQUIRE(h_session(&srv, h_owner("recall-b"), NULL, &k->cb, &k->b) == 0);
	nc_conn_set_cb_hook(k->ca, recall_hook, NULL);
	if (!create_and_write(k->a, name, &k->f))
		return false;
	return layout_get(k->a, &k->f);
}

static void
teardown(struct clients *k)
{
	h_session_free(k->ca, k->a);
	h_session_free(k->cb, k->b);
}

/*
 * The cooperative client: CB_SEQUENCE leads the CB_COMPOUND (§20.9.3),
 * CB_LAYOUTRECALL names our file, we answer NFS4_OK and LAYOUTRETURN;
 * the truncate then succeeds, well before any revocation timeout.
 */
static void
test_recall_answered(void)
{
	struct clients k;
	struct truncator t;
	struct nc_cb_stats st;

	recall_action = NC_CB_ANSWER;
	recall_status = NFS4_OK;
	if (!setup(&k, "recall-answered")) {
		CHECK(!"file and layout set up");
		teardown(&k);
		return;
	}
	truncate_start(&t, k.b, &k.f);
	CHECK_EQ(nc_conn_wait_cb_op(k.ca, OP_CB_LAYOUTRECALL, 1,
				    RECALL_SENT_NS), 0);
	nc_conn_cb_stats(k.ca, &st);
	CHECK(st.cb_sequence_ok >= 1);
	CHECK(st.ops[OP_CB_SEQUENCE] >= st.ops[OP_CB_LAYOUTRECALL]);
	CHECK_EQ(layout_return(k.a, &k.f), NFS4_OK);
	truncate_join(&t);
	CHECK_EQ(t.status, NFS4_OK);
	CHECK(t.elapsed_ns < LEASE_NS);
	CHECK(!(seq_flags(k.a) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED));
	teardown(&k);
}

/*
 * Rule 5: however the client fails to return the layout, the truncate
 * completes in bounded time - not before a lease has passed since the
 * recall, not after REVOKE_BY_NS - and the client learns of the revocation
 * (§18.46.3 SEQ4_STATUS_RECALLABLE_STATE_REVOKED).
 */
static void
check_revoked(enum nc_cb_action act, nfsstat4 status, bool silent,
	      const char *name)
{
	struct clients k;
	struct truncator t;
	uint32_t f, seen;
	int before = test_failures;

	recall_action = act;
	recall_status = status;
	if (!setup(&k, name)) {
		CHECK(!"file and layout set up");
		teardown(&k);
		return;
	}
	if (silent)
		nc_conn_set_cb_silent(k.ca, true);
	truncate_start(&t, k.b, &k.f);
	if (silent)
		CHECK_EQ(nc_conn_wait_cb(k.ca, offsetof(struct nc_cb_stats,
						       dropped), 1,
					 RECALL_SENT_NS), 0);
	else
		CHECK_EQ(nc_conn_wait_cb_op(k.ca, OP_CB_LAYOUTRECALL, 1,
					    RECALL_SENT_NS), 0);
	seen = truncate_join_renewing(&t, k.a);
	CHECK_EQ(t.status, NFS4_OK);
	CHECK(t.elapsed_ns >= LEASE_NS);
	CHECK(t.elapsed_ns <= REVOKE_BY_NS);
	nc_conn_set_cb_silent(k.ca, false);
	f = seq_flags(k.a);
	CHECK(f != UINT32_MAX);
	CHECK((f | seen) & SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	if (test_failures != before)
		fprintf(stderr, "  case: %s (truncate took %llu ms, %u DELAYs)\n",
			name, (unsigned long long)(t.elapsed_ns / NSEC_PER_MSEC),
			t.delays);
	teardown(&k);
}

static void
test_recall_delay_forever(void)
{
	check_revoked(NC_CB_ANSWER, NFS4ERR_DELAY, false, "recall-delay");
}

static void
test_recall_never_answered(void)
{
	check_revoked(NC_CB_DROP, NFS4_OK, false, "recall-dropped");
}

static void
test_recall_back_channel_dead(void)
{
	check_revoked(NC_CB_ANSWER, NFS4_OK, true, "recall-silent");
}

int
main(void)
{
	static const char *const args[] = {
		"-o", "nfs4.lease_time=3", NULL
	};

	REQUIRE(h_server_start(&srv, args) == 0);
	TEST_RUN(test_recall_answered);
	TEST_RUN(test_recall_delay_forever);
	TEST_RUN(test_recall_never_answered);
	TEST_RUN(test_recall_back_channel_dead);
	CHECK(h_still_serving(&srv));
	CHECK_EQ(h_server_stop(&srv, test_failures != 0), 0);
	TEST_EXIT();
}
