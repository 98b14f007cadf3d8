/*
 * session.c - COMPOUND helpers and the NFSv4.1 session machinery a client
 * needs: EXCHANGE_ID, CREATE_SESSION, the fore-channel slot table with its
 * sequence ids (RFC 8881 §2.10.6), SEQUENCE-prefixed compounds with
 * NFS4ERR_DELAY retries, DESTROY_SESSION and DESTROY_CLIENTID.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_impl.h"

/*
 * Requested channel sizes: generous so the server's limits are what
 * negotiation ends at (the tests check it negotiates down).
 */
#define NC_REQ_MAXREQUEST	(1024u * 1024 + 4096)
#define NC_REQ_MAXRESPONSE	(1024u * 1024 + 4096)
#define NC_REQ_MAXCACHED	(64u * 1024)
#define NC_REQ_MAXOPS		16
#define NC_REQ_BACK_SIZE	(16u * 1024)
#define NC_REQ_BACK_OPS		8

/* See nfsclient.h. */
void
nc_compound_init(struct nc_compound *cp, const char *tag, uint32_t minorversion)
{
	memset(&cp->args, 0, sizeof(cp->args));
	cp->args.tag.utf8string_val = (char *)(tag ? tag : "");
	cp->args.tag.utf8string_len = tag ? (u_int)strlen(tag) : 0;
	cp->args.minorversion = minorversion;
	cp->args.argarray.argarray_val = cp->ops;
	cp->args.argarray.argarray_len = 0;
}

/* See nfsclient.h. */
nfs_argop4 *
nc_compound_add(struct nc_compound *cp, nfs_opnum4 op)
{
	nfs_argop4 *a;

	if (cp->args.argarray.argarray_len >= NC_MAX_OPS)
		return NULL;
	a = &cp->ops[cp->args.argarray.argarray_len++];
	memset(a, 0, sizeof(*a));
	a->argop = op;
	return a;
}

/* nc_compound() with an optional receive-thread peek hook. */
static int MUST_CHECK
compound_peek(struct nc_conn *c, const struct nc_compound *cp,
	      COMPOUND4res *res, struct nc_call **call_out,
	      void (*peek_locked)(struct nc_call *call), void *peek_ctx)
{
	struct nc_call *call;
	int err;

	err = nc_call_start_peek(c, NC_NFS_PROGRAM, NC_NFS_VERSION,
				 NC_NFSPROC_COMPOUND,
				 (xdrproc_t)xdr_COMPOUND4args, &cp->args,
				 peek_locked, peek_ctx, &call);
	if (err)
		return err;
	err = nc_call_wait(call, NC_DEFAULT_TIMEOUT_NS);
	if (!err)
		err = nc_call_decode(call, (xdrproc_t)xdr_COMPOUND4res, res,
				     sizeof(*res));
	if (call_out && err != -ETIMEDOUT)
		*call_out = call;
	else
		nc_call_free(call);
	return err;
}

/* See nfsclient.h.  Locks: none held by the caller. */
int
nc_compound_start(struct nc_conn *c, const struct nc_compound *cp,
		  nc_done_fn done, void *ctx, struct nc_call **out)
{
	return nc_call_start(c, NC_NFS_PROGRAM, NC_NFS_VERSION,
			     NC_NFSPROC_COMPOUND, (xdrproc_t)xdr_COMPOUND4args,
			     &cp->args, done, ctx, out);
}

/* See nfsclient.h. */
int
nc_compound(struct nc_conn *c, const struct nc_compound *cp, COMPOUND4res *res,
	    struct nc_call **call_out)
{
	return compound_peek(c, cp, res, call_out, NULL, NULL);
}

/*
 * The first result of a completed call's COMPOUND4res if it is op, decoded
 * into *res (free with xdr_free); NULL otherwise.
 */
static nfs_resop4 *
peek_first_result(struct nc_call *call, nfs_opnum4 op, COMPOUND4res *res)
{
	memset(res, 0, sizeof(*res));
	if (nc_call_decode(call, (xdrproc_t)xdr_COMPOUND4res, res,
			   sizeof(*res)))
		return NULL;
	if (res->resarray.resarray_len < 1 ||
	    res->resarray.resarray_val[0].resop != op)
		return NULL;
	return &res->resarray.resarray_val[0];
}

/*
 * Receive thread, conn->lock held: a CREATE_SESSION that granted
 * CREATE_SESSION4_FLAG_CONN_BACK_CHAN makes this connection the session's
 * back channel now, before the server's CB_NULL probe is read.
 */
static void
create_session_peek(struct nc_call *call)
{
	COMPOUND4res res;
	nfs_resop4 *r = peek_first_result(call, OP_CREATE_SESSION, &res);
	CREATE_SESSION4resok *ok;

	mutex_assert_held(&call->conn->lock);
	if (r && r->nfs_resop4_u.opcreate_session.csr_status == NFS4_OK) {
		ok = &r->nfs_resop4_u.opcreate_session.CREATE_SESSION4res_u
			      .csr_resok4;
		if (ok->csr_flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN)
			nc_cb_bind_locked(call->conn, ok->csr_sessionid,
					  ok->csr_back_chan_attrs.ca_maxrequests);
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
}

/* Same for BIND_CONN_TO_SESSION with a back-channel direction granted. */
static void
bind_conn_peek(struct nc_call *call)
{
	struct nc_session *s = call->ctx;
	COMPOUND4res res;
	nfs_resop4 *r = peek_first_result(call, OP_BIND_CONN_TO_SESSION, &res);
	BIND_CONN_TO_SESSION4resok *ok;

	mutex_assert_held(&call->conn->lock);
	if (r && r->nfs_resop4_u.opbind_conn_to_session.bctsr_status ==
		 NFS4_OK) {
		ok = &r->nfs_resop4_u.opbind_conn_to_session
			      .BIND_CONN_TO_SESSION4res_u.bctsr_resok4;
		if (ok->bctsr_dir == CDFS4_BACK || ok->bctsr_dir == CDFS4_BOTH)
			nc_cb_bind_locked(call->conn, ok->bctsr_sessid,
					  s->info.back.ca_maxrequests);
	}
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
}

/* See nfsclient.h.  Every op's result starts with its nfsstat4. */
int
nc_res_status(const COMPOUND4res *res, uint32_t n)
{
	const nfs_resop4 *r;

	if (n >= res->resarray.resarray_len)
		return -1;
	r = &res->resarray.resarray_val[n];
	/*
	 * The result unions of RFC 5662 all begin with an nfsstat4 (ILLEGAL4res
	 * too), so the first word after resop is the status whatever the arm.
	 */
	return (int)*(const nfsstat4 *)&r->nfs_resop4_u;
}

/* See nfsclient.h.  Locks: none held. */
int
nc_exchange_id(struct nc_conn *c, const char *owner, const verifier4 verifier,
	       uint32_t flags, struct nc_clientid *out, nfsstat4 *status)
{
	struct nc_compound cp;
	COMPOUND4res res;
	EXCHANGE_ID4args *a;
	EXCHANGE_ID4res *r;
	int err;

	nc_compound_init(&cp, "exchange_id", 1);
	a = &nc_compound_add(&cp, OP_EXCHANGE_ID)->nfs_argop4_u.opexchange_id;
	memcpy(a->eia_clientowner.co_verifier, verifier, NFS4_VERIFIER_SIZE);
	a->eia_clientowner.co_ownerid.co_ownerid_val = (char *)owner;
	a->eia_clientowner.co_ownerid.co_ownerid_len = (u_int)strlen(owner);
	a->eia_flags = flags;
	a->eia_state_protect.spa_how = SP4_NONE;
	err = nc_compound(c, &cp, &res, NULL);
	if (err)
		return err;
	if (res.resarray.resarray_len < 1 ||
	    res.resarray.resarray_val[0].resop != OP_EXCHANGE_ID) {
		*status = res.status;
		goto out;
	}
	r = &res.resarray.resarray_val[0].nfs_resop4_u.opexchange_id;
	*status = r->eir_status;
	if (r->eir_status == NFS4_OK) {
		out->clientid = r->EXCHANGE_ID4res_u.eir_resok4.eir_clientid;
		out->sequence = r->EXCHANGE_ID4res_u.eir_resok4.eir_sequenceid;
		out->flags = r->EXCHANGE_ID4res_u.eir_resok4.eir_flags;
	}
out:
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return 0;
}

/* See nfsclient.h. */
void
nc_session_opts_init(struct nc_session_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	o->cb_program = 0x40000000;	/* first transient program number */
	o->fore.ca_maxrequestsize = NC_REQ_MAXREQUEST;
	o->fore.ca_maxresponsesize = NC_REQ_MAXRESPONSE;
	o->fore.ca_maxresponsesize_cached = NC_REQ_MAXCACHED;
	o->fore.ca_maxoperations = NC_REQ_MAXOPS;
	o->fore.ca_maxrequests = NC_MAX_SLOTS;
	o->back.ca_maxrequestsize = NC_REQ_BACK_SIZE;
	o->back.ca_maxresponsesize = NC_REQ_BACK_SIZE;
	o->back.ca_maxresponsesize_cached = NC_REQ_BACK_SIZE;
	o->back.ca_maxoperations = NC_REQ_BACK_OPS;
	o->back.ca_maxrequests = NC_MAX_CB_SLOTS;
}

/* Copy channel attributes without the reply-owned RDMA array. */
static void
attrs_copy(channel_attrs4 *dst, const channel_attrs4 *src)
{
	*dst = *src;
	/* ca_rdma_ird points into a reply we free; we never use RDMA. */
	dst->ca_rdma_ird.ca_rdma_ird_len = 0;
	dst->ca_rdma_ird.ca_rdma_ird_val = NULL;
}

/* A session object for a CREATE_SESSION4resok, slots at seqid 1. */
static int MUST_CHECK
session_alloc(struct nc_conn *c, const CREATE_SESSION4resok *ok,
	      clientid4 clientid, struct nc_session **out)
{
	struct nc_session *s;
	uint32_t i;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->conn = c;
	mutex_init(&s->lock, "nc_session");
	condvar_init(&s->cond);
	memcpy(s->info.sessionid, ok->csr_sessionid, NFS4_SESSIONID_SIZE);
	s->info.clientid = clientid;
	s->info.flags = ok->csr_flags;
	attrs_copy(&s->info.fore, &ok->csr_fore_chan_attrs);
	attrs_copy(&s->info.back, &ok->csr_back_chan_attrs);
	s->nslots = MIN(ok->csr_fore_chan_attrs.ca_maxrequests, NC_MAX_SLOTS);
	if (s->nslots == 0)
		s->nslots = 1;
	s->target_highest = s->nslots - 1;
	/* §2.10.6.1: the first request on a slot carries sequence id 1. */
	for (i = 0; i < NC_MAX_SLOTS; i++)
		s->slots[i].seqid = 1;
	*out = s;
	return 0;
}

/* See nfsclient.h.  Locks: none held. */
int
nc_create_session(struct nc_conn *c, struct nc_clientid *cl,
		  const struct nc_session_opts *o, struct nc_session **out,
		  nfsstat4 *status)
{
	struct nc_compound cp;
	COMPOUND4res res;
	CREATE_SESSION4args *a;
	CREATE_SESSION4res *r;
	callback_sec_parms4 sec;
	int err;

	memset(&sec, 0, sizeof(sec));
	sec.cb_secflavor = AUTH_NONE;
	nc_compound_init(&cp, "create_session", 1);
	a = &nc_compound_add(&cp, OP_CREATE_SESSION)->nfs_argop4_u.opcreate_session;
	a->csa_clientid = cl->clientid;
	a->csa_sequence = cl->sequence;
	a->csa_flags = o->flags;
	a->csa_fore_chan_attrs = o->fore;
	a->csa_back_chan_attrs = o->back;
	a->csa_cb_program = o->cb_program;
	a->csa_sec_parms.csa_sec_parms_len = 1;
	a->csa_sec_parms.csa_sec_parms_val = &sec;
	/* The server may probe the back channel before we see the reply. */
	if (o->flags & CREATE_SESSION4_FLAG_CONN_BACK_CHAN)
		nc_conn_set_cb_program(c, o->cb_program);
	err = compound_peek(c, &cp, &res, NULL, create_session_peek, NULL);
	if (err)
		return err;
	if (res.resarray.resarray_len < 1 ||
	    res.resarray.resarray_val[0].resop != OP_CREATE_SESSION) {
		*status = res.status;
		goto out;
	}
	r = &res.resarray.resarray_val[0].nfs_resop4_u.opcreate_session;
	*status = r->csr_status;
	if (r->csr_status != NFS4_OK)
		goto out;
	/* §18.36.4: a processed (non-replayed) request uses up the sequence. */
	cl->sequence++;
	err = session_alloc(c, &r->CREATE_SESSION4res_u.csr_resok4, cl->clientid,
			    out);
	/* The back channel was bound on the receive thread (peek above). */
out:
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return err;
}

/* See nfsclient.h.  Locks: none held. */
int
nc_session_setup(struct nc_conn *c, const char *owner,
		 const struct nc_session_opts *o, struct nc_session **out)
{
	struct nc_clientid cl;
	verifier4 verf;
	struct timespec ts;
	nfsstat4 status;
	int err;

	clock_gettime(CLOCK_REALTIME, &ts);
	memset(verf, 0, sizeof(verf));
	nc_put32((uint8_t *)verf, (uint32_t)ts.tv_sec);
	nc_put32((uint8_t *)verf + 4, (uint32_t)ts.tv_nsec ^ (uint32_t)getpid());
	err = nc_exchange_id(c, owner, verf, 0, &cl, &status);
	if (err)
		return err;
	if (status != NFS4_OK)
		return -EPROTO;
	err = nc_create_session(c, &cl, o, out, &status);
	if (err)
		return err;
	return status == NFS4_OK ? 0 : -EPROTO;
}

/* See nfsclient.h.  Set at creation, read-only after: no lock. */
const struct nc_session_info *
nc_session_info(const struct nc_session *s)
{
	return &s->info;
}

/* See nfsclient.h.  No lock: fixed at creation. */
struct nc_conn *
nc_session_conn(const struct nc_session *s)
{
	return s->conn;
}

/* See nfsclient.h.  Locks: none held; no slot may be in use. */
void
nc_session_free(struct nc_session *s)
{
	if (!s)
		return;
	nc_cb_unbind(s->conn, s->info.sessionid);
	condvar_destroy(&s->cond);
	mutex_destroy(&s->lock);
	free(s);
}

/* Slots usable now: the negotiated table, limited by the server's target. */
static uint32_t
slot_limit_locked(struct nc_session *s)
{
	mutex_assert_held(&s->lock);
	return MIN(s->nslots, s->target_highest + 1);
}

/* See nfsclient.h.  Locks: takes s->lock. */
int
nc_slot_acquire(struct nc_session *s, uint64_t timeout_ns, slotid4 *slot,
		sequenceid4 *seqid)
{
	uint64_t deadline = clock_now_ns() + timeout_ns;
	uint32_t i;

	mutex_lock(&s->lock);
	for (;;) {
		for (i = 0; i < slot_limit_locked(s); i++) {
			if (!s->slots[i].busy) {
				s->slots[i].busy = true;
				*slot = i;
				*seqid = s->slots[i].seqid;
				mutex_unlock(&s->lock);
				return 0;
			}
		}
		if (condvar_wait_until(&s->cond, &s->lock, deadline)) {
			mutex_unlock(&s->lock);
			return -ETIMEDOUT;
		}
	}
}

/* See nfsclient.h.  Locks: takes s->lock. */
void
nc_slot_release(struct nc_session *s, slotid4 slot, bool advanced)
{
	VERIFY(slot < NC_MAX_SLOTS);
	mutex_lock(&s->lock);
	ASSERT(s->slots[slot].busy);
	s->slots[slot].busy = false;
	if (advanced)
		s->slots[slot].seqid++;
	condvar_broadcast(&s->cond);
	mutex_unlock(&s->lock);
}

/* See nfsclient.h.  Locks: takes s->lock. */
slotid4
nc_slot_highest(struct nc_session *s)
{
	slotid4 hi = 0;
	uint32_t i;

	mutex_lock(&s->lock);
	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].busy)
			hi = i;
	mutex_unlock(&s->lock);
	return hi;
}

/* See nfsclient.h. */
void
nc_session_compound_init(struct nc_compound *cp, const char *tag)
{
	nc_compound_init(cp, tag, 1);
	(void)nc_compound_add(cp, OP_SEQUENCE);
}

/* Sleep ns, resuming after signals (only for the DELAY backoff). */
static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Fill cp->ops[0] with SEQUENCE for slot/seqid of s. */
static void
fill_sequence(struct nc_session *s, struct nc_compound *cp, slotid4 slot,
	      sequenceid4 seqid, uint32_t flags)
{
	SEQUENCE4args *sa = &cp->ops[0].nfs_argop4_u.opsequence;

	memcpy(sa->sa_sessionid, s->info.sessionid, NFS4_SESSIONID_SIZE);
	sa->sa_sequenceid = seqid;
	sa->sa_slotid = slot;
	sa->sa_highest_slotid = nc_slot_highest(s);
	sa->sa_cachethis = (flags & NC_SEQ_CACHETHIS) != 0;
}

/*
 * Read SEQUENCE's status (and target highest slot) straight from the reply
 * bytes: status, tag, count, resop, sr_status, then SEQUENCE4resok
 * (RFC 5662).  Cheaper than decoding the whole COMPOUND4res on the
 * benchmark's hot path.  false if the reply does not start with SEQUENCE.
 */
static bool
peek_sequence(const struct nc_call *call, nfsstat4 *st, slotid4 *target)
{
	struct nc_rpc_reply r;
	const uint8_t *p;
	uint32_t len, off, taglen;

	if (nc_call_parse(call, &r) || r.reply_stat != MSG_ACCEPTED ||
	    r.accept_stat != SUCCESS)
		return false;
	p = nc_call_reply(call, &len);
	off = r.body_off;
	if (len < off + 8)
		return false;
	taglen = nc_get32(p + off + 4);
	if (taglen > len)
		return false;
	off += 8 + ROUND_UP(taglen, 4);
	if (len < off + 12 || nc_get32(p + off) < 1 ||
	    nc_get32(p + off + 4) != OP_SEQUENCE)
		return false;
	*st = nc_get32(p + off + 8);
	off += 12;
	/* resok: sessionid, sequenceid, slotid, highest, target, flags */
	if (*st == NFS4_OK && len >= off + NFS4_SESSIONID_SIZE + 20)
		*target = nc_get32(p + off + NFS4_SESSIONID_SIZE + 12);
	return true;
}

/* What an asynchronous session compound needs when its reply comes. */
struct async_seq {
	struct nc_session *s;
	slotid4		slot;
	nc_done_fn	done;
	void		*ctx;
};

/* Receive thread, no locks: release the slot, then the caller's done. */
static void
async_seq_done(struct nc_call *call, void *arg)
{
	struct async_seq a = *(struct async_seq *)arg;
	slotid4 target = UINT32_MAX;
	nfsstat4 st = NFS4ERR_IO;
	bool advanced;

	free(arg);
	if (nc_call_error(call) == 0 && peek_sequence(call, &st, &target))
		advanced = st == NFS4_OK;
	else
		advanced = true;	/* unknown: never reuse the seqid */
	if (target != UINT32_MAX) {
		mutex_lock(&a.s->lock);
		a.s->target_highest = target;
		mutex_unlock(&a.s->lock);
	}
	nc_slot_release(a.s, a.slot, advanced);
	a.done(call, a.ctx);
}

/* See nfsclient.h.  Locks: none held; the slot is held until the reply. */
int
nc_session_compound_start(struct nc_session *s, struct nc_compound *cp,
			  uint32_t flags, nc_done_fn done, void *ctx,
			  struct nc_call **out)
{
	struct async_seq *a;
	sequenceid4 seqid;
	int err;

	VERIFY(cp->args.argarray.argarray_len >= 1 &&
	       cp->ops[0].argop == OP_SEQUENCE && done);
	a = malloc(sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->s = s;
	a->done = done;
	a->ctx = ctx;
	err = nc_slot_acquire(s, NC_DEFAULT_TIMEOUT_NS, &a->slot, &seqid);
	if (err)
		goto out_free;
	fill_sequence(s, cp, a->slot, seqid, flags);
	err = nc_compound_start(s->conn, cp, async_seq_done, a, out);
	if (err)
		goto out_release;
	return 0;

out_release:
	nc_slot_release(s, a->slot, false);	/* nothing was sent */
out_free:
	free(a);
	return err;
}

/* See nfsclient.h.  Locks: none held; takes a slot for the call's life. */
int
nc_session_compound(struct nc_session *s, struct nc_compound *cp,
		    uint32_t flags, COMPOUND4res *res, uint32_t *seq_flags)
{
	slotid4 slot;
	sequenceid4 seqid;
	unsigned tries = 0;
	int err;

	VERIFY(cp->args.argarray.argarray_len >= 1 &&
	       cp->ops[0].argop == OP_SEQUENCE);
	err = nc_slot_acquire(s, NC_DEFAULT_TIMEOUT_NS, &slot, &seqid);
	if (err)
		return err;
	for (;;) {
		bool advanced = false, seq_delay = false, op_delay = false;

		fill_sequence(s, cp, slot, seqid, flags);
		err = nc_compound(s->conn, cp, res, NULL);
		if (err) {
			/* Unknown whether the server saw it: use a new seqid. */
			nc_slot_release(s, slot, true);
			return err;
		}
		if (res->resarray.resarray_len >= 1 &&
		    res->resarray.resarray_val[0].resop == OP_SEQUENCE) {
			SEQUENCE4res *sr =
				&res->resarray.resarray_val[0].nfs_resop4_u.opsequence;

			if (sr->sr_status == NFS4_OK) {
				SEQUENCE4resok *ok = &sr->SEQUENCE4res_u.sr_resok4;

				advanced = true;
				mutex_lock(&s->lock);
				s->target_highest = ok->sr_target_highest_slotid;
				mutex_unlock(&s->lock);
				if (seq_flags)
					*seq_flags = ok->sr_status_flags;
				op_delay = res->status == NFS4ERR_DELAY;
			} else {
				seq_delay = sr->sr_status == NFS4ERR_DELAY;
			}
		}
		if ((!seq_delay && !op_delay) || (flags & NC_SEQ_NO_RETRY) ||
		    ++tries > NC_DELAY_RETRIES) {
			nc_slot_release(s, slot, advanced);
			return 0;
		}
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, res);
		sleep_ns(NC_DELAY_BACKOFF_NS);
		if (advanced) {
			/* §2.10.6.2: SEQUENCE was done; a retry is a new request. */
			nc_slot_release(s, slot, true);
			err = nc_slot_acquire(s, NC_DEFAULT_TIMEOUT_NS, &slot,
					      &seqid);
			if (err)
				return err;
		}
	}
}

/* See nfsclient.h.  Locks: none held. */
int
nc_session_run(struct nc_session *s, struct nc_compound *cp, uint32_t flags,
	       COMPOUND4res *res)
{
	int err = nc_session_compound(s, cp, flags, res, NULL);

	if (err) {
		memset(res, 0, sizeof(*res));
		return err;
	}
	return (int)res->status;
}

/* See nfsclient.h. */
void
nc_compound_res_free(COMPOUND4res *res)
{
	xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)res);
}

/* See nfsclient.h.  Locks: none held. */
int
nc_bind_conn_to_session(struct nc_conn *c, struct nc_session *s,
			channel_dir_from_client4 dir,
			channel_dir_from_server4 *granted, nfsstat4 *status)
{
	struct nc_compound cp;
	COMPOUND4res res;
	BIND_CONN_TO_SESSION4args *a;
	int err;

	nc_compound_init(&cp, "bind_conn_to_session", 1);
	a = &nc_compound_add(&cp, OP_BIND_CONN_TO_SESSION)
		     ->nfs_argop4_u.opbind_conn_to_session;
	memcpy(a->bctsa_sessid, s->info.sessionid, NFS4_SESSIONID_SIZE);
	a->bctsa_dir = dir;
	if (dir != CDFC4_FORE) {
		bool set;
		uint32_t prog;

		/* Callbacks on c use the program the session was made with. */
		mutex_lock(&s->conn->lock);
		set = s->conn->cb_program_set;
		prog = s->conn->cb_program;
		mutex_unlock(&s->conn->lock);
		if (set)
			nc_conn_set_cb_program(c, prog);
	}
	err = compound_peek(c, &cp, &res, NULL, bind_conn_peek, s);
	if (err)
		return err;
	*status = res.status;
	if (res.status == NFS4_OK && granted)
		*granted = res.resarray.resarray_val[0].nfs_resop4_u
				   .opbind_conn_to_session
				   .BIND_CONN_TO_SESSION4res_u.bctsr_resok4
				   .bctsr_dir;
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return 0;
}

/* See nfsclient.h.  Locks: none held. */
int
nc_destroy_session(struct nc_session *s, nfsstat4 *status)
{
	struct nc_compound cp;
	COMPOUND4res res;
	nfs_argop4 *a;
	int err;

	nc_compound_init(&cp, "destroy_session", 1);
	a = nc_compound_add(&cp, OP_DESTROY_SESSION);
	memcpy(a->nfs_argop4_u.opdestroy_session.dsa_sessionid,
	       s->info.sessionid, NFS4_SESSIONID_SIZE);
	err = nc_compound(s->conn, &cp, &res, NULL);
	if (err)
		return err;
	*status = res.status;
	if (res.status == NFS4_OK)
		nc_cb_unbind(s->conn, s->info.sessionid);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return 0;
}

/* See nfsclient.h.  Locks: none held. */
int
nc_destroy_clientid(struct nc_conn *c, clientid4 clientid, nfsstat4 *status)
{
	struct nc_compound cp;
	COMPOUND4res res;
	nfs_argop4 *a;
	int err;

	nc_compound_init(&cp, "destroy_clientid", 1);
	a = nc_compound_add(&cp, OP_DESTROY_CLIENTID);
	a->nfs_argop4_u.opdestroy_clientid.dca_clientid = clientid;
	err = nc_compound(c, &cp, &res, NULL);
	if (err)
		return err;
	*status = res.status;
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	return 0;
}
