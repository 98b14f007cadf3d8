/*
 * compound.c - the COMPOUND loop (RFC 8881 §16.2.3, §2.10.6).
 *
 * Decoding is per op: the header (tag, minorversion, op count) first, then
 * one nfs_argop4 at a time, right before that op runs.  Why: an op count of
 * a million costs nothing (nothing is allocated per announced op, only per
 * op actually reached), SEQUENCE can refuse NFS4ERR_TOO_MANY_OPS /
 * NFS4ERR_REQ_TOO_BIG before the rest is even looked at, and a request
 * whose tail is garbage still gets its leading ops answered, with
 * NFS4ERR_BADXDR on the first op that does not decode.
 *
 * Results are collected in an array and encoded after the last op, so
 * COMPOUND4res's status and count are known when the header is written.
 * Reply size limits are enforced while the ops run, from each op's table
 * bound (or the exact encoded size when the bound is unknown or too
 * loose), so NFS4ERR_REP_TOO_BIG[_TO_CACHE] replaces the op whose result
 * does not fit.
 *
 * Decode, processing and encode stay apart: handlers see decoded structs
 * and fill result structs; only this file touches XDR streams, apart from
 * an op's optional encode hook for its last result (READ's, which sends
 * its data from the volume mapping by reference).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nfs4_int.h"
#include "fsvc.h"

/*
 * ca_maxresponsesize counts the whole RPC reply (RFC 8881 §18.36.3): xid,
 * msg_type, reply_stat, verifier (AUTH_NONE: flavor + length), accept_stat.
 */
#define NFS4_RPC_REPLY_HDR	24u
/* resop + status: the smallest op result. */
#define NFS4_RES_MIN		8u
/*
 * Results of COMPOUNDs up to this many ops live on the worker's stack
 * (8 x 160 bytes): typical Linux COMPOUNDs have 2-6 ops, so the hot path
 * does not allocate.
 */
#define NFS4_RESULTS_ON_STACK	8u

static uint32_t
xdr_opaque_size(uint32_t len)
{
	return 4 + ROUND_UP(len, 4);
}

/* Every XXX4res begins with its nfsstat4 (RFC 5662), as does the union. */
static void
res_set_status(nfs_resop4 *res, nfsstat4 status)
{
	memcpy(&res->nfs_resop4_u, &status, sizeof(status));
}

static nfsstat4
res_status(const nfs_resop4 *res)
{
	nfsstat4 status;

	memcpy(&status, &res->nfs_resop4_u, sizeof(status));
	return status;
}

/* Replace a result by a bare error (releasing what the handler built). */
static void
res_replace(nfs_resop4 *res, const struct nfs4_op_desc *desc, bool built,
	    nfsstat4 status)
{
	if (built && desc && desc->release)
		desc->release(res);
	memset(&res->nfs_resop4_u, 0, sizeof(res->nfs_resop4_u));
	res_set_status(res, status);
}

/*
 * RFC 8881 §2.6.3.1.1.8 and §18.46.3: where an op may stand.  SEQUENCE
 * only first; ops that work without a session only as the sole op of a
 * COMPOUND that has none; everything else after SEQUENCE.
 */
static nfsstat4
check_position(const struct nfs4_compound *cs, uint32_t opnum,
	       const struct nfs4_op_desc *desc)
{
	if (opnum == OP_SEQUENCE)
		return cs->opidx == 0 ? NFS4_OK : NFS4ERR_SEQUENCE_POS;
	if ((desc->flags & NFS4_OPF_SOLO) && cs->opcnt != 1)
		return NFS4ERR_NOT_ONLY_OP;
	if (cs->opidx == 0) {
		if (!(desc->flags & NFS4_OPF_SESSIONLESS))
			return NFS4ERR_OP_NOT_IN_SESSION;
		if (cs->opcnt != 1)
			return NFS4ERR_NOT_ONLY_OP;
		return NFS4_OK;
	}
	/* Not first: op 0 was a SEQUENCE that succeeded, or we stopped. */
	return nfs4_in_session(cs) ? NFS4_OK : NFS4ERR_OP_NOT_IN_SESSION;
}

/*
 * Whether the op after this one is one that may see a handle of an
 * export with other flavours (NFS4_OPF_SECINFO_NEXT), or there is none
 * (§2.6.3.1.1.2: a put-filehandle op that ends the COMPOUND gets no
 * NFS4ERR_WRONGSEC).  Peeks at the next op number without consuming it.
 */
static bool
next_op_may_secinfo(const struct nfs4_compound *cs, XDR *args)
{
	const struct nfs4_op_desc *next;
	uint32_t pos, opnum;
	bool ok;

	if (cs->opidx + 1 >= cs->opcnt)
		return true;
	pos = xdr_getpos(args);
	ok = xdr_uint32_t(args, &opnum);
	if (!xdr_setpos(args, pos))
		return true;	/* the next decode will fail and say so */
	if (!ok)
		return true;
	next = nfs4_optable_get(opnum, cs->minorversion);
	return next && (next->flags & NFS4_OPF_SECINFO_NEXT);
}

/* The limit the reply must fit and the error for breaking it. */
static uint32_t
reply_limit(const struct nfs4_compound *cs, nfsstat4 *err)
{
	if (cs->seq.cachethis &&
	    cs->seq.max_resp_cached < cs->seq.max_resp) {
		*err = NFS4ERR_REP_TOO_BIG_TO_CACHE;
		return cs->seq.max_resp_cached;
	}
	*err = NFS4ERR_REP_TOO_BIG;
	return cs->seq.max_resp;
}


/*
 * WRITE's data is not copied out of the call: WRITE4args.data points into
 * the record the arguments are decoded from (an xdrmem stream, which
 * lives until the reply is sent), where xdr_bytes() would calloc a buffer
 * and copy 1 MiB into it - a third of a 1 MiB WRITE's server CPU with the
 * zeroing (docs/BENCHMARKS.md).  Returns false as the generated decoder
 * would: short body, data over NFS4_DATA_LIMIT.
 */
static bool
decode_write_in_place(XDR *args, WRITE4args *w)
{
	u_int len;
	void *p;

	if (!xdr_stateid4(args, &w->stateid) ||
	    !xdr_offset4(args, &w->offset) ||
	    !xdr_stable_how4(args, &w->stable) ||
	    !xdr_u_int(args, &len) || len > NFS4_DATA_LIMIT)
		return false;
	p = len ? xdr_inline(args, (int)ROUND_UP(len, 4)) : NULL;
	if (len && !p)
		return false;	/* shorter than it says */
	w->data.data_val = p;
	w->data.data_len = len;
	return true;
}

/*
 * Decode one nfs_argop4, WRITE in place (above), every other op with
 * the generated decoder.  Free with free_argop().
 */
static bool
decode_argop(XDR *args, nfs_argop4 *arg)
{
	u_int pos = xdr_getpos(args);
	uint32_t op;

	if (!xdr_uint32_t(args, &op))
		return false;
	if (op == OP_WRITE && args->x_ops->x_inline) {
		arg->argop = OP_WRITE;
		if (decode_write_in_place(args, &arg->nfs_argop4_u.opwrite))
			return true;
		/* xdr_free() must not free the record's bytes. */
		arg->nfs_argop4_u.opwrite.data.data_val = NULL;
		arg->nfs_argop4_u.opwrite.data.data_len = 0;
		return false;
	}
	return xdr_setpos(args, pos) && xdr_nfs_argop4(args, arg);
}

/* Free what decode_argop() decoded; a WRITE's data is the record's. */
static void
free_argop(nfs_argop4 *arg)
{
	if (arg->argop == OP_WRITE) {
		arg->nfs_argop4_u.opwrite.data.data_val = NULL;
		arg->nfs_argop4_u.opwrite.data.data_len = 0;
	}
	xdr_free((xdrproc_t)xdr_nfs_argop4, (char *)arg);
}
/*
 * Run op cs->opidx.  Decodes its arguments from args, fills res.  Returns
 * the op's status (NFS4_OK lets the COMPOUND continue).
 */
static nfsstat4
run_one_op(struct nfs4_compound *cs, XDR *args, nfs_resop4 *res)
{
	const struct nfs4_op_desc *desc;
	nfs_argop4 arg;
	nfsstat4 status, limit_err;
	uint32_t limit, size, pos;

	memset(&arg, 0, sizeof(arg));
	memset(res, 0, sizeof(*res));
	/*
	 * The .x decodes any op number ("default: void"), so a decode failure
	 * here is a missing op number or a short or malformed argument body:
	 * NFS4ERR_BADXDR (§15.1.1.1), on OP_ILLEGAL when not even the op
	 * number was there.  xdrmem does not move on a failed 4-byte read,
	 * so the position tells the two apart.
	 */
	pos = xdr_getpos(args);
	if (!decode_argop(args, &arg)) {
		bool have_opnum = xdr_getpos(args) >= pos + 4;

		desc = have_opnum ?
			nfs4_optable_get(arg.argop, cs->minorversion) : NULL;
		res->resop = desc ? arg.argop : OP_ILLEGAL;
		status = (desc || !have_opnum) ? NFS4ERR_BADXDR :
						 NFS4ERR_OP_ILLEGAL;
		goto out_free;
	}
	desc = nfs4_optable_get(arg.argop, cs->minorversion);
	if (!desc) {
		/* §18.52.3: the result carries OP_ILLEGAL, not the number. */
		res->resop = OP_ILLEGAL;
		status = NFS4ERR_OP_ILLEGAL;
		goto out_free;
	}
	res->resop = arg.argop;
	status = check_position(cs, arg.argop, desc);
	if (status != NFS4_OK)
		goto out_free;
	if ((desc->flags & NFS4_OPF_V40_ONLY) ||
	    desc->process == nfs4_op_notsupp) {
		status = NFS4ERR_NOTSUPP;
		goto out_free;
	}
	if ((desc->flags & NFS4_OPF_NEEDS_FH) && cs->current_fh.len == 0) {
		status = NFS4ERR_NOFILEHANDLE;
		goto out_free;
	}
	if (nfs4_in_session(cs)) {
		/* Refuse before running what could not be answered. */
		limit = reply_limit(cs, &limit_err);
		if (cs->resp_size + MAX(desc->res_max, NFS4_RES_MIN) > limit) {
			status = limit_err;
			goto out_free;
		}
	}

	status = desc->process(cs, &arg, res);
	if (status == NFS4_OK && (desc->flags & NFS4_OPF_PUTFH) &&
	    !next_op_may_secinfo(cs, args)) {
		status = nfs4_fh_check_flavor(cs);
		if (status != NFS4_OK)
			res_replace(res, desc, true, status);
	}
	res_set_status(res, status);

	if (nfs4_in_session(cs)) {
		limit = reply_limit(cs, &limit_err);
		size = desc->res_max;
		if (!size || cs->resp_size + size > limit)
			size = (uint32_t)xdr_sizeof((xdrproc_t)xdr_nfs_resop4,
						    res);
		if (cs->resp_size + size > limit) {
			/* §2.10.6.4: the op ran but its reply cannot go out. */
			res_replace(res, desc, status == NFS4_OK, limit_err);
			status = limit_err;
			size = NFS4_RES_MIN;
		}
		cs->resp_size += size;
	}
	free_argop(&arg);
	return status;

out_free:
	res_set_status(res, status);
	free_argop(&arg);
	return status;
}

/*
 * Encode one op result.  The last one may go through its op's encode hook,
 * which hands bulk data (a pinned READ's) to the reply by reference
 * instead of copying it into the reply buffer (docs/io.md, "Zero copy to
 * the socket"); a reference may only end the reply, hence last only.
 * Without io->put_ref (unit tests over xdrmem) everything is copied.
 */
static bool
encode_result(XDR *xdrs, nfs_resop4 *res, uint32_t minor, bool last,
	      const struct nfs4_reply_io *io)
{
	const struct nfs4_op_desc *desc;

	if (last && io->put_ref && res_status(res) == NFS4_OK) {
		desc = nfs4_optable_get(res->resop, minor);
		if (desc && desc->encode)
			return desc->encode(xdrs, res, io);
	}
	return xdr_nfs_resop4(xdrs, res);
}

/*
 * Keep the encoded reply in the slot if the client asked for it.  The
 * copy includes bytes the reply only references (io->copy reads them
 * where they lie, still held until the reply is sent), so a replay gets
 * the data, not a dangling reference.
 */
static void
cache_reply(struct nfs4_compound *cs, const struct nfs4_reply_io *io,
	    uint32_t start, uint32_t end, bool encoded)
{
	uint32_t len = end - start;
	bool cached = false;
	void *buf;

	if (!cs->seq.ses)
		return;
	if (encoded && cs->seq.cachethis && len <= cs->seq.max_resp_cached) {
		buf = state_seq_cache_buf(&cs->seq, len);
		if (buf && io->copy(io->ctx, start, len, buf) == 0)
			cached = true;
	}
	state_sequence_done(&cs->seq, cached, len);
}

/*
 * See nfs4.h (RFC 8881 §16.2.3).  Requires: no locks held; holds the
 * SEQUENCE slot (a session reference) from the SEQUENCE op until the
 * reply is encoded and cached.
 */
enum rpc_disp
nfs4_compound_run(struct nfs4_server *nsrv, XDR *args, XDR *res,
		  const struct rpc_cred *cred, struct rpc_conn *conn,
		  uint32_t req_len, const struct nfs4_reply_io *io)
{
	struct nfs4_compound cs;
	utf8str_cs tag;
	nfs_resop4 stack_results[NFS4_RESULTS_ON_STACK];
	nfs_resop4 *results = stack_results;
	uint32_t nalloc, nres = 0, start, end;
	nfsstat4 status = NFS4_OK;
	enum rpc_disp disp = RPC_DISP_REPLY;
	bool ok = true;

	lock_assert_none_held();
	memset(&cs, 0, sizeof(cs));
	memset(&tag, 0, sizeof(tag));
	cs.srv = nsrv;
	cs.state = nsrv->state;
	cs.cred = cred;
	cs.conn = conn;
	cs.req_len = req_len;
	if (!xdr_utf8str_cs(args, &tag) ||
	    !xdr_uint32_t(args, &cs.minorversion) ||
	    !xdr_uint32_t(args, &cs.opcnt)) {
		xdr_free((xdrproc_t)xdr_utf8str_cs, (char *)&tag);
		return RPC_DISP_GARBAGE;
	}
	cs.resp_size = NFS4_RPC_REPLY_HDR + 4 +
		       xdr_opaque_size(tag.utf8string_len) + 4;

	if (!nfs4_utf8_valid((const uint8_t *)tag.utf8string_val,
			     tag.utf8string_len)) {
		/* §14.4 (utf8str_cs is UTF-8): no results at all. */
		status = NFS4ERR_INVAL;
		goto encode;
	}
	if (cs.minorversion < NFS4_MINOR_MIN ||
	    cs.minorversion > NFS4_MINOR_MAX) {
		/* §16.2.3: no results at all. */
		status = NFS4ERR_MINOR_VERS_MISMATCH;
		goto encode;
	}
	/*
	 * Only a SEQUENCE that accepted opcnt (<= the session's
	 * ca_maxoperations <= max_ops) lets more than one op run, so
	 * max_ops results always suffice.
	 */
	nalloc = MAX(MIN(cs.opcnt, nsrv->cfg.max_ops), 1u);
	if (nalloc > NFS4_RESULTS_ON_STACK) {
		results = calloc(nalloc, sizeof(*results));
		if (!results) {
			xdr_free((xdrproc_t)xdr_utf8str_cs, (char *)&tag);
			return RPC_DISP_SYSTEM_ERR;
		}
	} else {
		nalloc = NFS4_RESULTS_ON_STACK;
	}
	for (cs.opidx = 0; cs.opidx < cs.opcnt; cs.opidx++) {
		VERIFY(nres < nalloc);
		status = run_one_op(&cs, args, &results[nres]);
		nres++;
		if (status != NFS4_OK || cs.seq.replay)
			break;
	}

	if (cs.seq.replay) {
		/* §2.10.6.1.3: the cached reply, byte for byte. */
		if (!XDR_PUTBYTES(res, cs.seq.replay_buf, cs.seq.replay_len))
			disp = RPC_DISP_SYSTEM_ERR;
		state_sequence_done(&cs.seq, false, 0);
		nres = 0;	/* results[0] is the SEQUENCE: nothing to free */
		goto out;
	}

encode:
	start = io->pos(io->ctx);
	ok = xdr_nfsstat4(res, &status) && xdr_utf8str_cs(res, &tag) &&
	     xdr_u_int(res, &nres);
	for (uint32_t i = 0; ok && i < nres; i++)
		ok = encode_result(res, &results[i], cs.minorversion,
				   i + 1 == nres, io);
	end = io->pos(io->ctx);
	if (!ok) {
		log_warn("nfs4: COMPOUND reply did not encode (%u ops)", nres);
		disp = RPC_DISP_SYSTEM_ERR;
	}
	cache_reply(&cs, io, start, end, ok);
out:
	for (uint32_t i = 0; i < nres; i++) {
		const struct nfs4_op_desc *d =
			nfs4_optable_get(results[i].resop, cs.minorversion);

		if (d && d->release && res_status(&results[i]) == NFS4_OK)
			d->release(&results[i]);
	}
	if (results != stack_results)
		free(results);
	nfs4_compound_exports_put(&cs);
	xdr_free((xdrproc_t)xdr_utf8str_cs, (char *)&tag);
	return disp;
}
