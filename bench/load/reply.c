/*
 * reply.c - read the COMPOUND4res fields nfsload needs straight from the
 * reply bytes (RFC 8881 §16.2 and §18; XDR layout per RFC 4506).
 *
 * Why not the rpcgen decoder: xdr_COMPOUND4res allocates every result and
 * copies READ data, which costs the load generator more CPU than some
 * servers spend on the operation.  The walk below allocates nothing and
 * checks every length against the record, so a malformed reply is counted
 * as LD_FAIL_XDR, never read out of bounds.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "load.h"

struct ld_name {
	uint32_t	value;
	const char	*name;
};

#include "bench/load/ld_names.h"

/* A bounds-checked read position in a reply record. */
struct cur {
	const uint8_t	*p;
	uint32_t	len;
	uint32_t	off;
	bool		bad;	/* ran past the end: every later read is 0 */
};

static uint32_t
cur_u32(struct cur *c)
{
	const uint8_t *q;

	if (c->bad || c->len - c->off < 4) {
		c->bad = true;
		return 0;
	}
	q = c->p + c->off;
	c->off += 4;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
	       (uint32_t)q[2] << 8 | q[3];
}

static uint64_t
cur_u64(struct cur *c)
{
	uint64_t hi = cur_u32(c);

	return hi << 32 | cur_u32(c);
}

/* Skip n bytes plus XDR padding; returns where they start (NULL if bad). */
static const uint8_t *
cur_skip(struct cur *c, uint32_t n)
{
	uint32_t padded = (n + 3u) & ~3u;
	const uint8_t *start;

	if (c->bad || padded < n || c->len - c->off < padded) {
		c->bad = true;
		return NULL;
	}
	start = c->p + c->off;
	c->off += padded;
	return start;
}

/* A variable-length opaque: its length, then its bytes. */
static const uint8_t *
cur_opaque(struct cur *c, uint32_t *len)
{
	*len = cur_u32(c);
	return cur_skip(c, *len);
}

static void
cur_stateid(struct cur *c, stateid4 *sid)
{
	const uint8_t *other;

	sid->seqid = cur_u32(c);
	other = cur_skip(c, NFS4_OTHER_SIZE);
	if (other)
		memcpy(sid->other, other, NFS4_OTHER_SIZE);
}

/* A bitmap4: count, then words.  The first word goes to *word0. */
static void
cur_bitmap(struct cur *c, uint32_t *word0)
{
	uint32_t n = cur_u32(c), i;

	*word0 = 0;
	/* Bound the count by the bytes left before looping over it. */
	if (c->bad || n > (c->len - c->off) / 4) {
		c->bad = true;
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t w = cur_u32(c);

		if (i == 0)
			*word0 = w;
	}
}

/* change_info4: atomic, before, after. */
static void
cur_change_info(struct cur *c)
{
	(void)cur_skip(c, 4 + 8 + 8);
}

/* OPEN4resok (§18.16.3), with no read/write delegation accepted. */
static bool
parse_open(struct cur *c, struct ld_res *r)
{
	uint32_t word0, type, why;

	cur_stateid(c, &r->stateid);
	cur_change_info(c);
	(void)cur_u32(c);			/* rflags */
	cur_bitmap(c, &word0);			/* attrset */
	type = cur_u32(c);
	switch (type) {
	case OPEN_DELEGATE_NONE:
		return true;
	case OPEN_DELEGATE_NONE_EXT:
		why = cur_u32(c);
		if (why == WND4_CONTENTION || why == WND4_RESOURCE)
			(void)cur_u32(c);
		return true;
	default:
		/*
		 * nfsload asks for OPEN4_SHARE_ACCESS_WANT_NO_DELEG; a
		 * delegation it would have to return is a wrong answer.
		 */
		return false;
	}
}

/* GETATTR4resok: the bitmap and the packed values; size if it is first. */
static void
parse_getattr(struct cur *c, struct ld_res *r)
{
	struct cur vals;
	uint32_t word0, len;
	const uint8_t *p;

	cur_bitmap(c, &word0);
	p = cur_opaque(c, &len);
	if (!p)
		return;
	/* FATTR4_SIZE is the first value only when no lower bit is set. */
	if ((word0 & (1u << FATTR4_SIZE)) &&
	    !(word0 & ((1u << FATTR4_SIZE) - 1))) {
		vals = (struct cur){ .p = p, .len = len };
		r->size = cur_u64(&vals);
		r->have_size = !vals.bad;
	}
}

/* LAYOUTGET4resok (§18.43.2): keep the stateid, count the segments. */
static void
parse_layoutget(struct cur *c, struct ld_res *r)
{
	uint32_t n, i, len;

	(void)cur_u32(c);			/* return_on_close */
	cur_stateid(c, &r->stateid);
	n = cur_u32(c);
	if (c->bad || n > (c->len - c->off) / 24) {
		c->bad = true;
		return;
	}
	for (i = 0; i < n && !c->bad; i++) {
		(void)cur_skip(c, 8 + 8 + 4);	/* offset, length, iomode */
		(void)cur_u32(c);		/* layout type */
		(void)cur_opaque(c, &len);	/* body */
	}
	r->layouts = n;
}

/* One successful op's result after its status; false if unknown/invalid. */
static bool
parse_op(struct cur *c, nfs_opnum4 op, struct ld_res *r)
{
	const uint8_t *p;
	uint32_t len, word0;

	switch (op) {
	case OP_SEQUENCE:
		/* sessionid, sequenceid, slotid, highest, target, flags */
		(void)cur_skip(c, NFS4_SESSIONID_SIZE + 5 * 4);
		return true;
	case OP_PUTFH:
	case OP_PUTROOTFH:
	case OP_LOOKUP:
	case OP_SAVEFH:
	case OP_RESTOREFH:
	case OP_RECLAIM_COMPLETE:
		return true;
	case OP_GETFH:
		p = cur_opaque(c, &len);
		if (p) {
			r->fh = p;
			r->fh_len = len;
		}
		return true;
	case OP_GETATTR:
		parse_getattr(c, r);
		return true;
	case OP_OPEN:
		return parse_open(c, r);
	case OP_CLOSE:
		cur_stateid(c, &r->stateid);
		return true;
	case OP_REMOVE:
		cur_change_info(c);
		return true;
	case OP_CREATE:
		cur_change_info(c);
		cur_bitmap(c, &word0);
		return true;
	case OP_SETATTR:
		cur_bitmap(c, &word0);
		return true;
	case OP_READ:
		r->read_eof = cur_u32(c) != 0;
		p = cur_opaque(c, &len);
		r->read_count = len;
		return p != NULL || len == 0;
	case OP_WRITE:
		r->write_count = cur_u32(c);
		r->committed = cur_u32(c);
		p = cur_skip(c, NFS4_VERIFIER_SIZE);
		if (p) {
			memcpy(r->verf, p, NFS4_VERIFIER_SIZE);
			r->have_verf = true;
		}
		return true;
	case OP_COMMIT:
		p = cur_skip(c, NFS4_VERIFIER_SIZE);
		if (p) {
			memcpy(r->verf, p, NFS4_VERIFIER_SIZE);
			r->have_verf = true;
		}
		return true;
	case OP_LAYOUTGET:
		parse_layoutget(c, r);
		return true;
	case OP_LAYOUTRETURN:
		if (cur_u32(c))			/* lrs_present */
			cur_stateid(c, &r->stateid);
		return true;
	default:
		return false;
	}
}

/* See load.h.  Locks: none; reads only the call's reply. */
enum ld_fail
ld_reply_parse(struct nc_call *call, struct ld_res *r)
{
	struct nc_rpc_reply rh;
	const uint8_t *p;
	uint32_t len;

	memset(r, 0, sizeof(*r));
	if (nc_call_error(call)) {
		r->fail = LD_FAIL_TRANSPORT;
		return r->fail;
	}
	if (nc_call_parse(call, &rh)) {
		r->fail = LD_FAIL_XDR;
		return r->fail;
	}
	if (rh.reply_stat != MSG_ACCEPTED || rh.accept_stat != SUCCESS) {
		r->fail = LD_FAIL_RPC;
		return r->fail;
	}
	p = nc_call_reply(call, &len);
	if (rh.body_off > len) {
		r->fail = LD_FAIL_XDR;
		return r->fail;
	}
	return ld_reply_parse_body(p + rh.body_off, len - rh.body_off, r);
}

/* See load.h.  Locks: none. */
enum ld_fail
ld_reply_parse_body(const uint8_t *body, uint32_t len, struct ld_res *r)
{
	struct cur c = { .p = body, .len = len };
	uint32_t n, i, taglen;

	memset(r, 0, sizeof(*r));
	r->status = cur_u32(&c);
	(void)cur_opaque(&c, &taglen);
	n = cur_u32(&c);
	for (i = 0; i < n && !c.bad; i++) {
		nfs_opnum4 op = cur_u32(&c);
		nfsstat4 st = cur_u32(&c);

		if (c.bad)
			break;
		r->nres++;
		if (st != NFS4_OK) {
			r->failed_op = op;
			r->fail = LD_FAIL_NFS;
			/* The compound status must be the failed op's. */
			if (r->status != st)
				r->fail = LD_FAIL_XDR;
			return r->fail;
		}
		if (!parse_op(&c, op, r)) {
			r->failed_op = op;
			r->fail = LD_FAIL_XDR;
			return r->fail;
		}
	}
	if (c.bad || r->status != NFS4_OK)
		r->fail = LD_FAIL_XDR;
	return r->fail;
}

/* Binary search would do; the tables are short and this runs per error. */
static const char *
name_find(const struct ld_name *t, size_t n, uint32_t v, char *buf,
	  size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].value == v)
			return t[i].name;
	snprintf(buf, len, "%u", v);
	return buf;
}

/* See load.h. */
const char *
ld_status_name(uint32_t status, char *buf, size_t len)
{
	return name_find(ld_status_names, ARRAY_SIZE(ld_status_names), status,
			 buf, len);
}

/* See load.h. */
const char *
ld_op_name(uint32_t op, char *buf, size_t len)
{
	return name_find(ld_op_names, ARRAY_SIZE(ld_op_names), op, buf, len);
}
