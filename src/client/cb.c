/*
 * cb.c - the client's side of the NFSv4.1 back channel (RFC 8881 §2.10.3.1,
 * §20): CALL records the server sends on our connection are answered here,
 * on the receive thread.  CB_NULL gets an empty reply; CB_COMPOUND must
 * start with CB_SEQUENCE, which we check against the bound session's
 * back-channel slot table (exactly-once: a retry gets the cached reply
 * bytes); every later operation is given to the test's hook, which picks
 * the status or drops the whole compound unanswered.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_impl.h"

/* The callback program's version for NFSv4.1 (RFC 8881 §20). */
#define NC_CB_VERSION		1u
/* RPC header words we write before a reply body: xid .. accept_stat. */
#define NC_REPLY_HDR		24u
/* Encoded size of CB_SEQUENCE4resok: sessionid + four words. */
#define NC_CB_SEQ_RESOK		(NFS4_SESSIONID_SIZE + 16u)
/*
 * Encoded size of the largest CB_GETATTR4res we send: opnum, status,
 * attrmask (count + words), attr_vals (length + padded bytes).
 */
#define NC_CB_GETATTR_RES	(8u + 4u + 4u * NC_CB_ATTR_WORDS + 4u + \
				 ROUND_UP(NC_CB_ATTR_VALS_MAX, 4u))
/* Room one callback op's result may take in a CB_COMPOUND4res. */
#define NC_CB_OP_RES_MAX	MAX(8u + NC_CB_SEQ_RESOK, NC_CB_GETATTR_RES)

/* See client_impl.h.  Locks: caller holds c->lock. */
void
nc_cb_bind_locked(struct nc_conn *c, const sessionid4 sid, uint32_t nslots)
{
	uint32_t i;

	mutex_assert_held(&c->lock);
	if (!c->cb.bound ||
	    memcmp(c->cb.sessionid, sid, NFS4_SESSIONID_SIZE) != 0) {
		for (i = 0; i < NC_MAX_CB_SLOTS; i++) {
			free(c->cb.slots[i].cached);
			c->cb.slots[i].cached = NULL;
			c->cb.slots[i].cached_len = 0;
			c->cb.slots[i].seqid = 0;
		}
	}
	c->cb.bound = true;
	memcpy(c->cb.sessionid, sid, NFS4_SESSIONID_SIZE);
	c->cb.nslots = MIN(nslots, NC_MAX_CB_SLOTS);
}

/* See client_impl.h.  Locks: takes c->lock. */
void
nc_cb_unbind(struct nc_conn *c, const sessionid4 sid)
{
	mutex_lock(&c->lock);
	if (c->cb.bound &&
	    memcmp(c->cb.sessionid, sid, NFS4_SESSIONID_SIZE) == 0)
		c->cb.bound = false;
	mutex_unlock(&c->lock);
}

/* See client_impl.h.  Locks: none; the receive thread has exited. */
void
nc_cb_free(struct nc_conn *c)
{
	uint32_t i;

	for (i = 0; i < NC_MAX_CB_SLOTS; i++) {
		free(c->cb.slots[i].cached);
		c->cb.slots[i].cached = NULL;
	}
	while (c->deferred) {
		struct nc_deferred *d = c->deferred;

		c->deferred = d->next;
		free(d);
	}
	while (c->cb_getattr) {
		struct nc_cb_getattr_ent *e = c->cb_getattr;

		c->cb_getattr = e->next;
		free(e);
	}
}

/* See nfsclient.h.  Locks: takes c->lock. */
void
nc_conn_set_cb_hook(struct nc_conn *c, nc_cb_hook_fn fn, void *ctx)
{
	mutex_lock(&c->lock);
	c->cb_hook = fn;
	c->cb_hook_ctx = ctx;
	mutex_unlock(&c->lock);
}

/* See nfsclient.h.  Locks: takes c->lock. */
void
nc_conn_set_cb_silent(struct nc_conn *c, bool silent)
{
	mutex_lock(&c->lock);
	c->cb_silent = silent;
	mutex_unlock(&c->lock);
}

/* See nfsclient.h.  Locks: takes c->lock. */
void
nc_conn_set_cb_program(struct nc_conn *c, uint32_t cb_program)
{
	mutex_lock(&c->lock);
	c->cb_program = cb_program;
	c->cb_program_set = true;
	mutex_unlock(&c->lock);
}

static bool
cb_fh_equal(const struct nc_cb_getattr_ent *e, const nfs_fh4 *fh)
{
	return e->fhlen == fh->nfs_fh4_len &&
	       (e->fhlen == 0 || memcmp(e->fh, fh->nfs_fh4_val, e->fhlen) == 0);
}

static void
cb_put64(uint8_t *p, uint64_t v)
{
	nc_put32(p, (uint32_t)(v >> 32));
	nc_put32(p + 4, (uint32_t)v);
}

/*
 * Build the registered answer for a: the mask trimmed to the words that
 * carry bits, and attr_vals encoded now (§5: values in attribute order).
 */
static int
cb_getattr_ent_make(const nfs_fh4 *fh, const struct nc_cb_attrs *a,
		    struct nc_cb_getattr_ent **out)
{
	const uint32_t known = 1u << FATTR4_CHANGE | 1u << FATTR4_SIZE;
	struct nc_cb_getattr_ent *e;

	if (a->vals_len > NC_CB_ATTR_VALS_MAX)
		return -EINVAL;
	if (a->vals_len == 0 && ((a->mask[0] & ~known) || a->mask[1]))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->fhlen = fh->nfs_fh4_len;
	if (e->fhlen)
		memcpy(e->fh, fh->nfs_fh4_val, e->fhlen);
	memcpy(e->mask, a->mask, sizeof(e->mask));
	e->nwords = a->mask[1] ? 2 : a->mask[0] ? 1 : 0;
	if (a->vals_len) {
		memcpy(e->vals, a->vals, a->vals_len);
		e->vals_len = a->vals_len;
	} else {
		if (a->mask[0] & (1u << FATTR4_CHANGE)) {
			cb_put64(e->vals + e->vals_len, a->change);
			e->vals_len += 8;
		}
		if (a->mask[0] & (1u << FATTR4_SIZE)) {
			cb_put64(e->vals + e->vals_len, a->size);
			e->vals_len += 8;
		}
	}
	*out = e;
	return 0;
}

/* See nfsclient.h.  Locks: takes c->lock; allocates and frees without. */
int
nc_conn_set_cb_getattr(struct nc_conn *c, const nfs_fh4 *fh,
		       const struct nc_cb_attrs *a)
{
	struct nc_cb_getattr_ent *e = NULL, *old, **pp;
	int err;

	if (fh->nfs_fh4_len > NFS4_FHSIZE)
		return -EINVAL;
	if (a) {
		err = cb_getattr_ent_make(fh, a, &e);
		if (err)
			return err;
	}
	mutex_lock(&c->lock);
	for (pp = &c->cb_getattr; *pp; pp = &(*pp)->next)
		if (cb_fh_equal(*pp, fh))
			break;
	old = *pp;
	if (old)
		*pp = old->next;
	if (e) {
		e->next = c->cb_getattr;
		c->cb_getattr = e;
	}
	mutex_unlock(&c->lock);
	free(old);
	return old || e ? 0 : -ENOENT;
}

/*
 * Copy the registered answer for fh into *out.  Returns whether there is
 * one.  Locks: takes c->lock.
 */
static bool
cb_getattr_find(struct nc_conn *c, const nfs_fh4 *fh,
		struct nc_cb_getattr_ent *out)
{
	const struct nc_cb_getattr_ent *e;
	bool found = false;

	mutex_lock(&c->lock);
	for (e = c->cb_getattr; e; e = e->next) {
		if (cb_fh_equal(e, fh)) {
			*out = *e;
			found = true;
			break;
		}
	}
	mutex_unlock(&c->lock);
	return found;
}

/*
 * Encode CB_GETATTR4resok (an fattr4, RFC 8881 §20.1.3) at p: e's answer,
 * or an empty fattr4 when e is NULL.  Returns the bytes written (at most
 * NC_CB_GETATTR_RES - 8).
 */
static uint32_t
cb_getattr_encode(uint8_t *p, const struct nc_cb_getattr_ent *e)
{
	uint32_t off = 0, i, pad;

	if (!e) {
		nc_put32(p, 0);		/* no bitmap words */
		nc_put32(p + 4, 0);	/* no values */
		return 8;
	}
	nc_put32(p, e->nwords);
	off = 4;
	for (i = 0; i < e->nwords; i++, off += 4)
		nc_put32(p + off, e->mask[i]);
	nc_put32(p + off, e->vals_len);
	off += 4;
	if (e->vals_len)
		memcpy(p + off, e->vals, e->vals_len);
	pad = ROUND_UP(e->vals_len, 4u) - e->vals_len;
	memset(p + off + e->vals_len, 0, pad);
	return off + e->vals_len + pad;
}

/* See nfsclient.h.  Locks: takes c->lock. */
void
nc_conn_cb_stats(struct nc_conn *c, struct nc_cb_stats *out)
{
	mutex_lock(&c->lock);
	*out = c->stats;
	mutex_unlock(&c->lock);
}

/* See nfsclient.h.  Locks: takes c->lock. */
int
nc_conn_wait_cb(struct nc_conn *c, size_t field, uint64_t min,
		uint64_t timeout_ns)
{
	uint64_t deadline = clock_now_ns() + timeout_ns;
	const uint64_t *ctr;
	int err = 0;

	VERIFY(field + sizeof(uint64_t) <= sizeof(struct nc_cb_stats));
	ctr = (const uint64_t *)((const char *)&c->stats + field);
	mutex_lock(&c->lock);
	while (*ctr < min && err == 0)
		err = condvar_wait_until(&c->cond, &c->lock, deadline);
	err = *ctr >= min ? 0 : -ETIMEDOUT;
	mutex_unlock(&c->lock);
	return err;
}

/* See nfsclient.h. */
int
nc_conn_wait_cb_op(struct nc_conn *c, uint32_t opnum, uint64_t min,
		   uint64_t timeout_ns)
{
	if (opnum >= NC_CB_OP_MAX)
		opnum = 0;
	return nc_conn_wait_cb(c, offsetof(struct nc_cb_stats, ops) +
			       opnum * sizeof(uint64_t), min, timeout_ns);
}

/* Bump a statistic and wake waiters.  Locks: takes c->lock. */
static void
cb_count(struct nc_conn *c, uint64_t *ctr)
{
	mutex_lock(&c->lock);
	(*ctr)++;
	condvar_broadcast(&c->cond);
	mutex_unlock(&c->lock);
}

/* Write an accepted-reply header into p (NC_REPLY_HDR bytes). */
static void
reply_header(uint8_t *p, uint32_t xid, uint32_t accept_stat)
{
	nc_put32(p, xid);
	nc_put32(p + 4, REPLY);
	nc_put32(p + 8, MSG_ACCEPTED);
	nc_put32(p + 12, AUTH_NONE);	/* verifier */
	nc_put32(p + 16, 0);
	nc_put32(p + 20, accept_stat);
}

/* Send a reply with no body, or with PROG_MISMATCH's low/high. */
static void
reply_simple(struct nc_conn *c, uint32_t xid, uint32_t accept_stat)
{
	uint8_t msg[NC_REPLY_HDR + 8];
	size_t len = NC_REPLY_HDR;

	reply_header(msg, xid, accept_stat);
	if (accept_stat == PROG_MISMATCH) {
		nc_put32(msg + len, NC_CB_VERSION);
		nc_put32(msg + len + 4, NC_CB_VERSION);
		len += 8;
	}
	/* A send error means the connection is going: the reader sees it. */
	if (nc_conn_send_record(c, msg, len))
		log_debug("nc: callback reply to xid %#x not sent", xid);
}

/* The status a callback op gets unless the hook says otherwise. */
static nfsstat4
cb_default_status(uint32_t op)
{
	return op == OP_CB_GETATTR ? NFS4ERR_NOTSUPP : NFS4_OK;
}

enum cb_seq_verdict {
	CB_SEQ_NEW,
	CB_SEQ_REPLAY,
	CB_SEQ_ERROR,
};

/*
 * Check CB_SEQUENCE against the bound session (RFC 8881 §20.9.3 with the
 * slot rules of §2.10.6.1).  On CB_SEQ_REPLAY, *cached and *clen hold a copy
 * of the cached reply body (caller frees).  Locks: takes c->lock.
 */
static enum cb_seq_verdict
cb_sequence_check(struct nc_conn *c, const CB_SEQUENCE4args *sa,
		  nfsstat4 *status, uint8_t **cached, uint32_t *clen)
{
	struct nc_cb_slot *slot;
	enum cb_seq_verdict v = CB_SEQ_ERROR;

	*status = NFS4_OK;
	mutex_lock(&c->lock);
	if (!c->cb.bound ||
	    memcmp(c->cb.sessionid, sa->csa_sessionid, NFS4_SESSIONID_SIZE)) {
		*status = NFS4ERR_BADSESSION;
		goto out;
	}
	if (sa->csa_slotid >= c->cb.nslots) {
		*status = NFS4ERR_BADSLOT;
		goto out;
	}
	slot = &c->cb.slots[sa->csa_slotid];
	if (sa->csa_sequenceid == slot->seqid + 1) {
		v = CB_SEQ_NEW;
	} else if (sa->csa_sequenceid == slot->seqid && slot->cached) {
		*cached = malloc(slot->cached_len);
		if (!*cached) {
			*status = NFS4ERR_SERVERFAULT;
			goto out;
		}
		memcpy(*cached, slot->cached, slot->cached_len);
		*clen = slot->cached_len;
		v = CB_SEQ_REPLAY;
	} else if (sa->csa_sequenceid == slot->seqid) {
		*status = NFS4ERR_RETRY_UNCACHED_REP;
	} else {
		*status = NFS4ERR_SEQ_MISORDERED;
	}
out:
	mutex_unlock(&c->lock);
	return v;
}

/* Remember body as slot's reply for seqid.  Locks: takes c->lock. */
static void
cb_sequence_done(struct nc_conn *c, const CB_SEQUENCE4args *sa,
		 const uint8_t *body, uint32_t len)
{
	struct nc_cb_slot *slot;
	uint8_t *copy = malloc(len);

	mutex_lock(&c->lock);
	if (c->cb.bound && sa->csa_slotid < c->cb.nslots &&
	    !memcmp(c->cb.sessionid, sa->csa_sessionid, NFS4_SESSIONID_SIZE)) {
		slot = &c->cb.slots[sa->csa_slotid];
		slot->seqid = sa->csa_sequenceid;
		free(slot->cached);
		/* Without memory the retry gets RETRY_UNCACHED_REP: legal. */
		slot->cached = copy;
		slot->cached_len = copy ? len : 0;
		if (copy)
			memcpy(copy, body, len);
		copy = NULL;
	}
	mutex_unlock(&c->lock);
	free(copy);
}

/*
 * Evaluate a CB_COMPOUND and encode its CB_COMPOUND4res body into out
 * (RFC 8881 §20.2: stop at the first failing op; the compound status is
 * that op's).  Returns the body length, or 0 when the hook chose to drop
 * the compound, or UINT32_MAX when a cached reply was copied to *replay.
 */
static uint32_t
cb_compound_eval(struct nc_conn *c, const CB_COMPOUND4args *args,
		 uint8_t *out, uint8_t **replay, uint32_t *replay_len,
		 bool *defer)
{
	uint32_t nops = args->argarray.argarray_len, i, taglen, off, nres = 0;
	uint32_t count_off;
	nfsstat4 status = NFS4_OK;
	nc_cb_hook_fn hook;
	void *hook_ctx;
	const CB_SEQUENCE4args *sa = NULL;
	bool seq_ok = false, cut = false;

	mutex_lock(&c->lock);
	hook = c->cb_hook;
	hook_ctx = c->cb_hook_ctx;
	mutex_unlock(&c->lock);

	taglen = args->tag.utf8string_len;
	off = 4;
	nc_put32(out + off, taglen);
	/* An empty tag decodes as a NULL pointer: memcpy must not see it. */
	if (taglen)
		memcpy(out + off + 4, args->tag.utf8string_val, taglen);
	memset(out + off + 4 + taglen, 0, ROUND_UP(taglen, 4) - taglen);
	off += 4 + ROUND_UP(taglen, 4);
	count_off = off;
	off += 4;

	if (args->minorversion != 1 && args->minorversion != 2) {
		status = NFS4ERR_MINOR_VERS_MISMATCH;
		goto done;
	}
	for (i = 0; i < nops && status == NFS4_OK; i++) {
		const nfs_cb_argop4 *op = &args->argarray.argarray_val[i];
		uint32_t opnum = op->argop;
		struct nc_cb_getattr_ent ga;
		bool have_attrs = false;

		cb_count(c, &c->stats.ops[opnum < NC_CB_OP_MAX ? opnum : 0]);
		if (opnum == OP_CB_SEQUENCE) {
			if (i != 0) {
				status = NFS4ERR_SEQUENCE_POS;
			} else {
				sa = &op->nfs_cb_argop4_u.opcbsequence;
				if (cb_sequence_check(c, sa, &status, replay,
						      replay_len) ==
				    CB_SEQ_REPLAY)
					return UINT32_MAX;
				seq_ok = status == NFS4_OK;
				cb_count(c, seq_ok ? &c->stats.cb_sequence_ok :
					 &c->stats.cb_sequence_err);
			}
			nc_put32(out + off, opnum);
			nc_put32(out + off + 4, status);
			off += 8;
			nres++;
			if (status == NFS4_OK) {
				memcpy(out + off, sa->csa_sessionid,
				       NFS4_SESSIONID_SIZE);
				nc_put32(out + off + 16, sa->csa_sequenceid);
				nc_put32(out + off + 20, sa->csa_slotid);
				nc_put32(out + off + 24, c->cb.nslots - 1);
				nc_put32(out + off + 28, c->cb.nslots - 1);
				off += NC_CB_SEQ_RESOK;
			}
			continue;
		}
		if (i == 0) {
			/* §20.9.3: CB_SEQUENCE must come first. */
			status = NFS4ERR_OP_NOT_IN_SESSION;
		} else if (opnum < OP_CB_GETATTR || opnum > OP_CB_OFFLOAD) {
			opnum = OP_CB_ILLEGAL;
			status = NFS4ERR_OP_ILLEGAL;
		} else {
			enum nc_cb_action act = NC_CB_ANSWER;

			have_attrs = opnum == OP_CB_GETATTR &&
				cb_getattr_find(c, &op->nfs_cb_argop4_u
						.opcbgetattr.fh, &ga);
			status = have_attrs ? NFS4_OK :
					      cb_default_status(opnum);
			if (hook)
				act = hook(hook_ctx, c, op, &status);
			if (act == NC_CB_DROP) {
				cb_count(c, &c->stats.dropped);
				return 0;
			}
			if (act == NC_CB_DEFER)
				*defer = true;
			cut = act == NC_CB_TRUNCATE;
		}
		nc_put32(out + off, opnum);
		nc_put32(out + off + 4, status);
		off += 8;
		nres++;
		if (status == NFS4_OK && opnum == OP_CB_GETATTR)
			off += cb_getattr_encode(out + off,
						 have_attrs ? &ga : NULL);
		if (cut) {
			/* nres counts this result: without its end, no decode. */
			off -= 4;
			break;
		}
	}
done:
	nc_put32(out, status);
	nc_put32(out + count_off, nres);
	/* Only a CB_SEQUENCE that succeeded uses up its slot's seqid. */
	if (seq_ok)
		cb_sequence_done(c, sa, out, off);
	return off;
}

/* Answer a CB_COMPOUND whose args start at body (receive thread). */
static void
cb_compound(struct nc_conn *c, uint32_t xid, const uint8_t *body,
	    uint32_t blen)
{
	CB_COMPOUND4args args;
	uint8_t *replay = NULL;
	uint32_t len, replay_len = 0;
	struct nc_deferred *d = NULL;
	uint8_t *msg;
	bool defer = false;
	size_t cap;
	XDR x;

	memset(&args, 0, sizeof(args));
	xdrmem_create(&x, (char *)body, blen, XDR_DECODE);
	if (!xdr_CB_COMPOUND4args(&x, &args)) {
		xdr_destroy(&x);
		xdr_free((xdrproc_t)xdr_CB_COMPOUND4args, &args);
		cb_count(c, &c->stats.bad);
		reply_simple(c, xid, GARBAGE_ARGS);
		return;
	}
	xdr_destroy(&x);
	cb_count(c, &c->stats.cb_compound);
	/* Worst case: status, tag, count, and per op the largest result. */
	cap = NC_REPLY_HDR + 12 + ROUND_UP(args.tag.utf8string_len, 4) +
	      (size_t)args.argarray.argarray_len * NC_CB_OP_RES_MAX;
	/* Room for a replayed reply too: it is never bigger than cap. */
	d = malloc(sizeof(*d) + cap);
	if (!d) {
		reply_simple(c, xid, SYSTEM_ERR);
		goto out;
	}
	msg = d->msg;
	len = cb_compound_eval(c, &args, msg + NC_REPLY_HDR, &replay,
			       &replay_len, &defer);
	if (len == 0)
		goto out;	/* the test wants this one unanswered */
	reply_header(msg, xid, SUCCESS);
	if (len == UINT32_MAX) {
		if (replay_len > cap - NC_REPLY_HDR)
			goto out;
		memcpy(msg + NC_REPLY_HDR, replay, replay_len);
		len = replay_len;
	}
	d->len = NC_REPLY_HDR + len;
	if (defer) {
		mutex_lock(&c->lock);
		d->next = c->deferred;
		c->deferred = d;
		c->stats.deferred++;
		condvar_broadcast(&c->cond);
		mutex_unlock(&c->lock);
		d = NULL;
		goto out;
	}
	if (nc_conn_send_record(c, msg, d->len))
		log_debug("nc: CB_COMPOUND reply to xid %#x not sent", xid);
out:
	free(replay);
	free(d);
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4args, &args);
}

/* See nfsclient.h.  Locks: takes c->lock, sends without it. */
unsigned
nc_conn_cb_send_deferred(struct nc_conn *c)
{
	struct nc_deferred *list, *rev = NULL, *d;
	unsigned n = 0;

	mutex_lock(&c->lock);
	list = c->deferred;
	c->deferred = NULL;
	mutex_unlock(&c->lock);
	while (list) {		/* newest first: reverse to send in order */
		d = list;
		list = d->next;
		d->next = rev;
		rev = d;
	}
	while (rev) {
		d = rev;
		rev = d->next;
		if (nc_conn_send_record(c, d->msg, d->len) == 0)
			n++;
		free(d);
	}
	return n;
}

/*
 * See client_impl.h.  rec is a CALL (RFC 5531 §9): check version, program,
 * procedure, skip the credential and verifier, dispatch.
 */
void
nc_cb_handle_call(struct nc_conn *c, const uint8_t *rec, uint32_t len)
{
	uint32_t xid, prog, vers, proc, off, alen;
	bool prog_ok, silent;

	mutex_lock(&c->lock);
	silent = c->cb_silent;
	mutex_unlock(&c->lock);
	if (silent) {
		cb_count(c, &c->stats.dropped);
		return;
	}
	if (len < 32) {
		cb_count(c, &c->stats.bad);
		return;
	}
	xid = nc_get32(rec);
	if (nc_get32(rec + 8) != 2) {
		uint8_t msg[24];

		nc_put32(msg, xid);
		nc_put32(msg + 4, REPLY);
		nc_put32(msg + 8, MSG_DENIED);
		nc_put32(msg + 12, RPC_MISMATCH);
		nc_put32(msg + 16, 2);
		nc_put32(msg + 20, 2);
		if (nc_conn_send_record(c, msg, sizeof(msg)))
			log_debug("nc: RPC_MISMATCH reply not sent");
		cb_count(c, &c->stats.bad);
		return;
	}
	prog = nc_get32(rec + 12);
	vers = nc_get32(rec + 16);
	proc = nc_get32(rec + 20);
	off = 24;
	/* Credential then verifier: flavor, length, body. */
	for (int k = 0; k < 2; k++) {
		if (len < off + 8)
			goto garbage;
		alen = nc_get32(rec + off + 4);
		if (alen > NC_MAX_AUTH_BYTES ||
		    len < off + 8 + ROUND_UP(alen, 4))
			goto garbage;
		off += 8 + ROUND_UP(alen, 4);
	}
	mutex_lock(&c->lock);
	prog_ok = c->cb_program_set && prog == c->cb_program;
	mutex_unlock(&c->lock);
	if (!prog_ok) {
		cb_count(c, &c->stats.bad);
		reply_simple(c, xid, PROG_UNAVAIL);
		return;
	}
	if (vers != NC_CB_VERSION) {
		cb_count(c, &c->stats.bad);
		reply_simple(c, xid, PROG_MISMATCH);
		return;
	}
	if (proc == NC_CB_PROC_NULL) {
		cb_count(c, &c->stats.cb_null);
		reply_simple(c, xid, SUCCESS);
		return;
	}
	if (proc == NC_CB_PROC_COMPOUND) {
		cb_compound(c, xid, rec + off, len - off);
		return;
	}
	cb_count(c, &c->stats.bad);
	reply_simple(c, xid, PROC_UNAVAIL);
	return;
garbage:
	cb_count(c, &c->stats.bad);
	reply_simple(c, xid, GARBAGE_ARGS);
}
