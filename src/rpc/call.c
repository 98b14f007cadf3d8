/*
 * call.c - one incoming call on a worker: decode the RPC header and the
 * credential (RFC 5531 §9, appendix A), pick the program, run its dispatch
 * function, and hand the encoded reply to the connection.
 *
 * Checks run in the order RFC 5531 §9 lists the rejections: RPC version,
 * then authentication, then program, version and procedure.
 */
#include "config.h"

#include "rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The only RPC version there is (RFC 5531 §8). */
#define RPC_VERSION		2

static struct rpc_call_priv *
priv_of(struct rpc_call *call)
{
	return container_of(call, struct rpc_call_priv, call);
}

/*
 * Take len opaque bytes and skip their XDR padding.  Not xdr_opaque():
 * libtirpc decodes padding into a static scratch buffer, which every
 * worker would write at once (harmless, but a data race all the same).
 */
static bool
get_opaque(XDR *x, void *dst, uint32_t len)
{
	uint32_t pad = (4 - (len & 3)) & 3;

	return XDR_GETBYTES(x, dst, len) &&
	       (!pad || xdr_setpos(x, xdr_getpos(x) + pad));
}

/*
 * Decode an AUTH_SYS body (RFC 5531 appendix A) that must fill exactly len
 * bytes.  A machine name over 255 bytes or more than 16 gids is a bad
 * credential, as is a truncated body or trailing garbage.
 */
static bool
decode_auth_sys(const uint8_t *body, uint32_t len, struct rpc_cred *cred)
{
	XDR x;
	uint32_t stamp, mlen;
	bool ok = false;

	xdrmem_create(&x, (char *)(uintptr_t)body, len, XDR_DECODE);
	if (!xdr_uint32_t(&x, &stamp) || !xdr_uint32_t(&x, &mlen) ||
	    mlen > RPC_AUTH_SYS_MAX_MACHINE ||
	    !get_opaque(&x, cred->machine, mlen))
		goto out;
	cred->machine[mlen] = '\0';
	if (!xdr_uint32_t(&x, &cred->uid) || !xdr_uint32_t(&x, &cred->gid) ||
	    !xdr_uint32_t(&x, &cred->ngids) ||
	    cred->ngids > RPC_AUTH_SYS_MAX_GIDS)
		goto out;
	for (uint32_t i = 0; i < cred->ngids; i++)
		if (!xdr_uint32_t(&x, &cred->gids[i]))
			goto out;
	ok = xdr_getpos(&x) == len;
out:
	xdr_destroy(&x);
	return ok;
}

/* Decode credential and verifier; AUTH_OK or the auth_stat to reject with. */
static enum auth_stat
decode_auth(XDR *x, struct rpc_cred *cred)
{
	uint8_t body[MAX_AUTH_BYTES];
	uint32_t flavor, len, vflavor, vlen;

	if (!xdr_uint32_t(x, &flavor) || !xdr_uint32_t(x, &len) ||
	    len > MAX_AUTH_BYTES || !get_opaque(x, body, len))
		return AUTH_BADCRED;
	if (!xdr_uint32_t(x, &vflavor) || !xdr_uint32_t(x, &vlen) ||
	    vlen > MAX_AUTH_BYTES ||
	    !xdr_setpos(x, xdr_getpos(x) + ROUND_UP(vlen, 4)))
		return AUTH_BADVERF;
	cred->flavor = flavor;
	switch (flavor) {
	case AUTH_NONE:
		break;
	case AUTH_SYS:
		if (!decode_auth_sys(body, len, cred))
			return AUTH_BADCRED;
		break;
	default:
		/* RPCSEC_GSS and the rest are not implemented here. */
		return AUTH_BADCRED;
	}
	/* AUTH_NONE and AUTH_SYS calls carry an AUTH_NONE verifier. */
	if (vflavor != AUTH_NONE)
		return AUTH_BADVERF;
	return AUTH_OK;
}

/* Accepted reply header in the room in front of the body. */
static void
put_accepted(struct rpc_call_priv *cp, uint32_t accept_stat)
{
	uint8_t *p = cp->res.buf + 4;

	rpc_put32(p, cp->call.xid);
	rpc_put32(p + 4, RPC_MSG_REPLY);
	rpc_put32(p + 8, MSG_ACCEPTED);
	rpc_put32(p + 12, AUTH_NONE);	/* verifier flavor */
	rpc_put32(p + 16, 0);		/* verifier length */
	rpc_put32(p + 20, accept_stat);
}

/* An accepted reply with no body, or a mismatch range. */
static void
reply_accepted_error(struct rpc_call_priv *cp, uint32_t stat, uint32_t low,
		     uint32_t high)
{
	rpc_xbuf_drop_ref(&cp->res);	/* the body is replaced */
	put_accepted(cp, stat);
	cp->res.len = RPC_REPLY_HDR;
	if (stat == PROG_MISMATCH) {
		rpc_put32(cp->res.buf + RPC_REPLY_HDR, low);
		rpc_put32(cp->res.buf + RPC_REPLY_HDR + 4, high);
		cp->res.len += 8;
	}
}

/* A denied reply: RPC_MISMATCH (low, high) or AUTH_ERROR (stat in low). */
static void
reply_denied(struct rpc_call_priv *cp, uint32_t why, uint32_t low, uint32_t high)
{
	uint8_t *p = cp->res.buf + 4;

	rpc_xbuf_drop_ref(&cp->res);
	rpc_put32(p, cp->call.xid);
	rpc_put32(p + 4, RPC_MSG_REPLY);
	rpc_put32(p + 8, MSG_DENIED);
	rpc_put32(p + 12, why);
	rpc_put32(p + 16, low);
	cp->res.len = 4 + 20;
	if (why == RPC_MISMATCH) {
		rpc_put32(p + 20, high);
		cp->res.len += 4;
	}
}

/*
 * Find the program for prog/vers.  NULL with *low and *high set to the
 * versions served (PROG_MISMATCH), or NULL with *low > *high (PROG_UNAVAIL).
 */
static const struct rpc_program *
find_program(struct rpc_server *srv, uint32_t prog, uint32_t vers,
	     uint32_t *low, uint32_t *high)
{
	*low = UINT32_MAX;
	*high = 0;
	for (uint32_t i = 0; i < srv->nprogs; i++) {
		const struct rpc_program *p = srv->progs[i];

		if (p->prog != prog)
			continue;
		if (vers >= p->vers_low && vers <= p->vers_high)
			return p;
		*low = MIN(*low, p->vers_low);
		*high = MAX(*high, p->vers_high);
	}
	return NULL;
}

static void
call_free(struct rpc_call_priv *cp)
{
	struct rpc_conn *conn = cp->call.conn;

	if (cp->args_x.x_ops)		/* a discarded call never ran */
		xdr_destroy(&cp->args_x);
	rpc_xbuf_free(&cp->res);
	free(cp->rec);
	free(cp);
	rpc_conn_put(conn);
}

/* Queue the reply built in cp->res and free the call. */
static void
call_send(struct rpc_call_priv *cp)
{
	struct rpc_conn *conn = cp->call.conn;
	struct rpc_server *srv = conn->srv;
	uint8_t *out = cp->res.buf;
	uint32_t outlen = cp->res.len;
	struct rpc_ref ref = cp->res.ref;

	RPC_STAT_INC(srv, replies);
	if (rpc_get32(out + 12) != MSG_ACCEPTED ||
	    rpc_get32(out + RPC_REPLY_HDR - 4) != SUCCESS)
		RPC_STAT_INC(srv, rejected);
	rpc_record_mark(out, outlen - 4 + (ref.ptr ? ref.len + ref.pad : 0),
			true);
	/* Buffer and reference now belong to the connection's queue. */
	cp->res.buf = NULL;
	memset(&cp->res.ref, 0, sizeof(cp->res.ref));
	rpc_conn_queue_out(conn, out, outlen, ref.ptr ? &ref : NULL, true);
	call_free(cp);
}

/* Send nothing for the call (its in-flight slot is freed) and free it. */
static void
call_drop(struct rpc_call_priv *cp)
{
	struct rpc_conn *conn = cp->call.conn;

	RPC_STAT_INC(conn->srv, dropped);
	rpc_conn_queue_out(conn, NULL, 0, NULL, true);
	call_free(cp);
}

/* Turn a dispatch result into the reply (or none) and free the call. */
static void
call_finish(struct rpc_call_priv *cp, enum rpc_disp disp)
{
	switch (disp) {
	case RPC_DISP_REPLY:
		put_accepted(cp, SUCCESS);
		break;
	case RPC_DISP_GARBAGE:
		reply_accepted_error(cp, GARBAGE_ARGS, 0, 0);
		break;
	case RPC_DISP_SYSTEM_ERR:
		reply_accepted_error(cp, SYSTEM_ERR, 0, 0);
		break;
	case RPC_DISP_DROP:
	default:
		call_drop(cp);
		return;
	}
	call_send(cp);
}

/*
 * Complete a call whose dispatch returned RPC_DISP_ASYNC.  Any thread, no
 * conn locks held; exactly once per parked call.  Frees the call.
 */
void
rpc_call_finish(struct rpc_call *call, enum rpc_disp disp)
{
	unsigned was = atomic_fetch_sub(&call->conn->srv->nparked, 1);

	VERIFY(was > 0 && disp != RPC_DISP_ASYNC);
	call_finish(priv_of(call), disp);
}

/* Worker: decode, dispatch, reply.  Frees the call. */
static void
call_run(struct workq_item *it)
{
	struct rpc_call_priv *cp = container_of(it, struct rpc_call_priv, item);
	struct rpc_call *call = &cp->call;
	struct rpc_conn *conn = call->conn;
	struct rpc_server *srv = conn->srv;
	const struct rpc_program *prog;
	uint32_t rpcvers, low, high;
	enum auth_stat astat;
	enum rpc_disp disp;

	xdrmem_create(&cp->args_x, (char *)cp->rec, cp->reclen, XDR_DECODE);
	call->args = &cp->args_x;
	call->xid = rpc_get32(cp->rec);
	if (!xdr_setpos(&cp->args_x, 8) ||
	    !xdr_uint32_t(&cp->args_x, &rpcvers) ||
	    !xdr_uint32_t(&cp->args_x, &call->prog) ||
	    !xdr_uint32_t(&cp->args_x, &call->vers) ||
	    !xdr_uint32_t(&cp->args_x, &call->proc)) {
		log_info("rpc: call xid %#x: header truncated; dropped",
			 call->xid);
		goto out_drop;
	}
	if (rpc_xbuf_init(&cp->res, &cp->res_x, RPC_REPLY_HDR,
			  RPC_REPLY_HDR + srv->cfg.max_reply) < 0) {
		log_warn("rpc: call xid %#x: no memory for the reply; dropped",
			 call->xid);
		goto out_drop;
	}
	call->res = &cp->res_x;

	if (rpcvers != RPC_VERSION) {
		reply_denied(cp, RPC_MISMATCH, RPC_VERSION, RPC_VERSION);
		goto out_send;
	}
	astat = decode_auth(&cp->args_x, &call->cred);
	if (astat != AUTH_OK) {
		reply_denied(cp, AUTH_ERROR, astat, 0);
		goto out_send;
	}
	prog = find_program(srv, call->prog, call->vers, &low, &high);
	if (!prog) {
		if (low > high)
			reply_accepted_error(cp, PROG_UNAVAIL, 0, 0);
		else
			reply_accepted_error(cp, PROG_MISMATCH, low, high);
		goto out_send;
	}
	if (call->cred.flavor >= 32 ||
	    !(prog->flavors_ok & (1u << call->cred.flavor))) {
		reply_denied(cp, AUTH_ERROR, AUTH_TOOWEAK, 0);
		goto out_send;
	}
	if (call->proc >= prog->nprocs) {
		reply_accepted_error(cp, PROC_UNAVAIL, 0, 0);
		goto out_send;
	}

	disp = prog->dispatch(call);
	lock_assert_none_held();
	if (disp == RPC_DISP_ASYNC) {
		/* Parked: rpc_call_finish() completes it. */
		atomic_fetch_add(&srv->nparked, 1);
		return;
	}
	call_finish(cp, disp);
	return;
out_send:
	call_send(cp);
	return;
out_drop:
	call_drop(cp);
}

/*
 * Loop thread: wrap the CALL record rec (now ours) in a call that holds a
 * reference on conn.  Returns 0 and *out, or -ENOMEM (rec is freed then).
 */
int
rpc_call_new(struct rpc_conn *conn, uint8_t *rec, uint32_t len,
	     struct rpc_call_priv **out)
{
	struct rpc_call_priv *cp = calloc(1, sizeof(*cp));

	if (!cp) {
		free(rec);
		return -ENOMEM;
	}
	cp->rec = rec;
	cp->reclen = len;
	cp->call.arrival_ns = clock_now_ns();
	rpc_conn_get(conn);
	cp->call.conn = conn;
	cp->item.fn = call_run;
	*out = cp;
	return 0;
}

/*
 * Loop thread: may the loop run this call itself?  Finds the program and
 * the start of the arguments (after credential and verifier) and asks the
 * program's inline_ok().  Anything odd (a header that does not parse, an
 * unknown program) is false: the worker path rejects it with the right
 * RPC error.  Never blocks.
 */
bool
rpc_call_inline_ok(struct rpc_call_priv *cp)
{
	struct rpc_server *srv = cp->call.conn->srv;
	const struct rpc_program *prog;
	uint32_t v[4], alen, low, high, off;
	const uint8_t *p = cp->rec;

	if (!srv->cfg.inline_calls || cp->reclen < 8 + 4 * 4 + 2 * 8)
		return false;
	for (int i = 0; i < 4; i++)	/* rpcvers, prog, vers, proc */
		v[i] = rpc_get32(p + 8 + 4 * i);
	if (v[0] != RPC_VERSION)
		return false;
	prog = find_program(srv, v[1], v[2], &low, &high);
	if (!prog || !prog->inline_ok || v[3] >= prog->nprocs)
		return false;
	off = 8 + 4 * 4;
	for (int i = 0; i < 2; i++) {	/* credential, verifier */
		if (cp->reclen - off < 8)
			return false;
		alen = rpc_get32(p + off + 4);
		if (alen > MAX_AUTH_BYTES || cp->reclen - off - 8 <
					     ROUND_UP(alen, 4))
			return false;
		off += 8 + ROUND_UP(alen, 4);
	}
	return prog->inline_ok(prog->inline_ctx, v[2], v[3], p + off,
			       cp->reclen - off);
}

/*
 * Loop thread: run the call here, as a worker would (its in-flight slot
 * is taken).  While it runs, rpc_worker_may_block() says no and the reply
 * is queued for the loop to write when it is done reading (conn.c).
 */
void
rpc_call_run_inline(struct rpc_call_priv *cp)
{
	RPC_STAT_INC(cp->call.conn->srv, calls_inline);
	rpc_loop_inline = true;
	call_run(&cp->item);
	rpc_loop_inline = false;
}

/*
 * Loop thread: hand the call to a worker (its in-flight slot is taken), in
 * its connection's flow, so clients take turns on the workers.
 */
void
rpc_call_queue(struct rpc_call_priv *cp)
{
	struct rpc_conn *conn = cp->call.conn;

	workq_queue_flow(conn->srv->wq, &conn->flow, &cp->item);
}

/*
 * Loop thread, at close: free a call that was never dispatched.  It holds
 * no in-flight slot and gets no reply.
 */
void
rpc_call_discard(struct rpc_call_priv *cp)
{
	RPC_STAT_INC(cp->call.conn->srv, dropped);
	call_free(cp);
}

/* --- reply stream helpers for the reply cache ----------------------- */

/* Size of the call record as received.  The call's worker only. */
uint32_t
rpc_call_record_len(struct rpc_call *call)
{
	return priv_of(call)->reclen;
}

/*
 * Size the reply buffer for n more body bytes at once (e.g. before a large
 * READ).  The call's worker only.  0, -EMSGSIZE past max_reply, -ENOMEM.
 */
int
rpc_call_res_reserve(struct rpc_call *call, uint32_t n)
{
	return rpc_xbuf_reserve(&priv_of(call)->res, n);
}

/* Reply body bytes encoded so far.  The call's worker only. */
uint32_t
rpc_call_res_pos(struct rpc_call *call)
{
	return rpc_xbuf_pos(&priv_of(call)->res);
}

/*
 * Copy encoded reply body bytes out (for the reply cache), referenced
 * bytes included.  The call's worker only.  Returns 0 or -ERANGE.
 */
int
rpc_call_res_copy(struct rpc_call *call, uint32_t from, uint32_t len,
		  void *dst)
{
	return rpc_xbuf_copy(&priv_of(call)->res, from, len, dst);
}

/*
 * Roll the reply body back to pos (NFS4ERR_REP_TOO_BIG: drop a partly
 * encoded op result).  The call's worker only.  Returns 0, -ERANGE if pos
 * is ahead, or -ENOMEM (cutting into referenced bytes copies them first).
 */
int
rpc_call_res_truncate(struct rpc_call *call, uint32_t pos)
{
	struct rpc_xbuf *xb = &priv_of(call)->res;

	if (pos > rpc_xbuf_pos(xb))
		return -ERANGE;
	return rpc_xbuf_truncate(xb, pos) ? 0 : -ENOMEM;
}

/*
 * Encode opaque<len> into the reply whose bytes are written to the socket
 * from ptr, not copied into the reply buffer.  The call's worker (or the
 * thread finishing a parked call).  See rpc.h for the release contract.
 */
int
rpc_call_res_put_ref(struct rpc_call *call, const void *ptr, uint32_t len,
		     void (*release)(void *ctx), void *ctx)
{
	return rpc_xbuf_put_ref(&priv_of(call)->res, ptr, len, release, ctx);
}
