/*
 * inline.c - which COMPOUNDs the RPC event loop may run itself.
 *
 * A worker hand-off costs two thread crossings per call (loop -> worker
 * through the work queue, worker -> loop with the reply); for a GETATTR
 * those cost more than the operation (docs/BENCHMARKS.md, the profiles).
 * A COMPOUND whose every op is cheap and never waits for a client runs on
 * the loop instead: the loop reads it, runs it and writes the reply in one
 * pass.  Everything else, and anything that might wait, still goes to the
 * workers.
 *
 * The check is made before the COMPOUND runs, from its bytes alone: ops
 * are decoded one by one into a scratch argument (the same decoder the
 * COMPOUND loop uses) and freed again; the first op that is not
 * NFS4_OPF_INLINE ends the scan without decoding its arguments, so a
 * 1 MiB WRITE is never copied here.  Inline ops' arguments are small.
 *
 * Why each condition:
 *  - NFS4_OPF_INLINE (optable.c): the op takes only short local locks.
 *  - a READ of at most NFS4_INLINE_READ_MAX bytes: a 1 MiB copy would
 *    hold every other connection's I/O for the length of a memcpy.
 *  - no write delegation granted anywhere (state_write_delegs()): a
 *    GETATTR of size or change on a file another client holds a write
 *    delegation on asks that client (CB_GETATTR, a wait).  On the loop
 *    the block budget is refused (rpc_worker_may_block()), so a GETATTR
 *    that raced a new write delegation answers from the server's own
 *    attributes instead of waiting: still a valid answer (RFC 8881
 *    §10.4.3 lets the server answer without CB_GETATTR), and the next
 *    GETATTR goes to a worker.
 */
#include "config.h"

#include "nfs4_int.h"

/* Ops scanned before giving up; longer COMPOUNDs go to a worker. */
#define NFS4_INLINE_MAX_OPS	16

/*
 * An NFS4_OPF_INLINE op's decoded arguments: only READ has a size to
 * check; every other inline op is bounded by its kind.
 */
static bool
op_args_inline_ok(const nfs_argop4 *arg)
{
	return arg->argop != OP_READ ||
	       arg->nfs_argop4_u.opread.count <= NFS4_INLINE_READ_MAX;
}

/*
 * See nfs4.h.  Runs on the event loop: no locks, no waits; decoding may
 * allocate (filehandles, attribute bitmaps) and everything is freed here.
 */
bool
nfs4_compound_inline_ok(struct nfs4_server *nsrv, const void *args,
			uint32_t len)
{
	utf8str_cs tag = { 0 };
	uint32_t minor, numops;
	bool ok = false;
	XDR x;

	if (state_write_delegs(nsrv->state) != 0)
		return false;
	xdrmem_create(&x, (char *)(uintptr_t)args, len, XDR_DECODE);
	if (!xdr_utf8str_cs(&x, &tag) || !xdr_uint32_t(&x, &minor) ||
	    !xdr_uint32_t(&x, &numops))
		goto out;
	if (minor < NFS4_MINOR_MIN || minor > NFS4_MINOR_MAX ||
	    numops == 0 || numops > NFS4_INLINE_MAX_OPS)
		goto out;
	ok = true;
	for (uint32_t i = 0; i < numops && ok; i++) {
		const struct nfs4_op_desc *d;
		uint32_t opnum;
		u_int pos = xdr_getpos(&x);
		nfs_argop4 arg;

		/* Peek at the op number: a non-inline op is not decoded. */
		if (!xdr_uint32_t(&x, &opnum) || !xdr_setpos(&x, pos)) {
			ok = false;
			break;
		}
		d = nfs4_optable_get(opnum, minor);
		if (!d || !(d->flags & NFS4_OPF_INLINE)) {
			ok = false;
			break;
		}
		memset(&arg, 0, sizeof(arg));
		if (!xdr_nfs_argop4(&x, &arg))
			ok = false;
		else
			ok = op_args_inline_ok(&arg);
		xdr_free((xdrproc_t)xdr_nfs_argop4, (char *)&arg);
	}
out:
	xdr_free((xdrproc_t)xdr_utf8str_cs, (char *)&tag);
	xdr_destroy(&x);
	return ok;
}
