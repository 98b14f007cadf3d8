/*
 * xbuf.c - an XDR encoding stream over a growable buffer.
 *
 * Why not xdrmem: a reply's size is unknown until it is encoded, and a
 * READ or READDIR reply can be a megabyte while most replies are a few
 * hundred bytes.  Allocating max_reply per call would cost a large malloc
 * (an mmap) on the hot path; this buffer starts at RPC_XBUF_INITIAL and
 * doubles, bounded by the limit.  The bytes stay contiguous, so the reply
 * cache can copy a range out and the socket write is one iovec.
 *
 * The one exception is a reference (rpc_xbuf_put_ref()): bulk data, a READ's,
 * that is written to the socket straight from where it lies.  It may only
 * be last; anything encoded after it copies it in first (see rpc_int.h).
 */
#include "config.h"

#include "rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Enough for a typical small compound reply: one allocation, no regrowth. */
#define RPC_XBUF_INITIAL	4096u
/* Below this a reference costs more than copying the bytes. */
#define RPC_REF_MIN		1024u

static struct rpc_xbuf *
xb_of(XDR *xdrs)
{
	return (struct rpc_xbuf *)xdrs->x_private;
}

/* Bytes of stream so far, the header room and a reference included. */
static uint32_t
xb_used(const struct rpc_xbuf *xb)
{
	return xb->len + (xb->ref.ptr ? xb->ref.len + xb->ref.pad : 0);
}

/* Make room for n more bytes; false past the limit or out of memory. */
static bool
xb_room(struct rpc_xbuf *xb, uint32_t n)
{
	uint32_t want, ncap;
	uint8_t *nb;

	if (n > xb->limit - xb_used(xb))
		return false;
	want = xb->len + n;
	if (want <= xb->cap)
		return true;
	ncap = xb->cap;
	while (ncap < want)
		ncap = ncap > xb->limit / 2 ? xb->limit : ncap * 2;
	nb = realloc(xb->buf, ncap);
	if (!nb)
		return false;
	xb->buf = nb;
	xb->cap = ncap;
	return true;
}

/* Release the reference, if any, without copying it. */
void
rpc_xbuf_drop_ref(struct rpc_xbuf *xb)
{
	struct rpc_ref r = xb->ref;

	if (!r.ptr)
		return;
	memset(&xb->ref, 0, sizeof(xb->ref));
	r.release(r.ctx);
}

/*
 * Something is encoded after the reference: copy its bytes (and padding)
 * into the buffer and release it.  False (reference kept) without memory.
 */
static bool
xb_materialize(struct rpc_xbuf *xb)
{
	struct rpc_ref r = xb->ref;

	if (!r.ptr)
		return true;
	memset(&xb->ref, 0, sizeof(xb->ref));
	if (!xb_room(xb, r.len + r.pad)) {
		xb->ref = r;
		return false;
	}
	memcpy(xb->buf + xb->len, r.ptr, r.len);
	memset(xb->buf + xb->len + r.len, 0, r.pad);
	xb->len += r.len + r.pad;
	r.release(r.ctx);
	return true;
}

static bool_t
xb_getlong(XDR *xdrs, long *lp)
{
	return FALSE;	/* encode only */
}

static bool_t
xb_getbytes(XDR *xdrs, char *addr, u_int len)
{
	return FALSE;
}

static bool_t
xb_putlong(XDR *xdrs, const long *lp)
{
	struct rpc_xbuf *xb = xb_of(xdrs);

	if (!xb_materialize(xb) || !xb_room(xb, 4))
		return FALSE;
	rpc_put32(xb->buf + xb->len, (uint32_t)*lp);
	xb->len += 4;
	return TRUE;
}

static bool_t
xb_putbytes(XDR *xdrs, const char *addr, u_int len)
{
	struct rpc_xbuf *xb = xb_of(xdrs);

	if (!xb_materialize(xb) || !xb_room(xb, len))
		return FALSE;
	if (len)
		memcpy(xb->buf + xb->len, addr, len);
	xb->len += len;
	return TRUE;
}

/* Stream position: body bytes so far, a reference included. */
uint32_t
rpc_xbuf_pos(const struct rpc_xbuf *xb)
{
	return xb_used(xb) - xb->base;
}

/*
 * Roll the stream back to pos (only backwards: dropping a partly encoded
 * result).  A reference cut off entirely is released; one cut in the
 * middle is copied in first.  False if pos is ahead or memory is short.
 */
bool
rpc_xbuf_truncate(struct rpc_xbuf *xb, uint32_t pos)
{
	uint32_t cur = rpc_xbuf_pos(xb);

	if (pos > cur)
		return false;
	if (pos == cur)
		return true;
	if (xb->ref.ptr) {
		if (pos > xb->len - xb->base && !xb_materialize(xb))
			return false;
		rpc_xbuf_drop_ref(xb);
	}
	xb->len = xb->base + pos;
	return true;
}

/* Copy stream bytes [from, from + n) out.  0 or -ERANGE. */
int
rpc_xbuf_copy(const struct rpc_xbuf *xb, uint32_t from, uint32_t n,
	      void *dst)
{
	uint32_t have = rpc_xbuf_pos(xb), inbuf = xb->len - xb->base, part;
	uint8_t *d = dst;

	if (from > have || n > have - from)
		return -ERANGE;
	if (from < inbuf) {
		part = MIN(n, inbuf - from);
		memcpy(d, xb->buf + xb->base + from, part);
		d += part;
		n -= part;
		from += part;
	}
	if (n) {		/* the rest lies in the reference */
		uint32_t roff = from - inbuf;

		part = roff < xb->ref.len ? MIN(n, xb->ref.len - roff) : 0;
		memcpy(d, xb->ref.ptr + roff, part);
		memset(d + part, 0, n - part);	/* XDR padding */
	}
	return 0;
}

static u_int
xb_getpostn(XDR *xdrs)
{
	return rpc_xbuf_pos(xb_of(xdrs));
}

static bool_t
xb_setpostn(XDR *xdrs, u_int pos)
{
	return rpc_xbuf_truncate(xb_of(xdrs), pos) ? TRUE : FALSE;
}

/*
 * The pointer is valid until the next operation on the stream (which may
 * move the buffer); XDR users consume it at once.  Positions stay 4-byte
 * aligned because every XDR item is padded, and the buffer comes from
 * malloc, so int32_t access is aligned.
 */
static int32_t *
xb_inline(XDR *xdrs, u_int len)
{
	struct rpc_xbuf *xb = xb_of(xdrs);
	int32_t *p;

	if ((len & 3) || !xb_materialize(xb) || (xb->len & 3) ||
	    !xb_room(xb, len))
		return NULL;
	p = (int32_t *)(void *)(xb->buf + xb->len);
	xb->len += len;
	return p;
}

static void
xb_destroy(XDR *xdrs)
{
	/* The owner frees the buffer with rpc_xbuf_free(). */
}

static bool_t
xb_control(XDR *xdrs, int request, void *info)
{
	return FALSE;
}

static const struct xdr_ops xb_ops = {
	.x_getlong	= xb_getlong,
	.x_putlong	= xb_putlong,
	.x_getbytes	= xb_getbytes,
	.x_putbytes	= xb_putbytes,
	.x_getpostn	= xb_getpostn,
	.x_setpostn	= xb_setpostn,
	.x_inline	= xb_inline,
	.x_destroy	= xb_destroy,
	.x_control	= xb_control,
};

/*
 * Set up xb with base bytes of header room (zeroed) and an encoding stream
 * xdrs over it that refuses to grow the whole buffer past limit bytes.
 * Returns 0 or -ENOMEM.  No locks; xb and xdrs belong to the caller.
 */
int
rpc_xbuf_init(struct rpc_xbuf *xb, XDR *xdrs, uint32_t base, uint32_t limit)
{
	uint32_t cap = MAX(MIN(RPC_XBUF_INITIAL, limit), base);

	VERIFY(base <= limit);
	xb->buf = malloc(cap);
	if (!xb->buf)
		return -ENOMEM;
	memset(xb->buf, 0, base);
	xb->cap = cap;
	xb->len = base;
	xb->base = base;
	xb->limit = limit;
	memset(&xb->ref, 0, sizeof(xb->ref));
	memset(xdrs, 0, sizeof(*xdrs));
	xdrs->x_op = XDR_ENCODE;
	xdrs->x_ops = &xb_ops;
	xdrs->x_private = xb;
	return 0;
}

/*
 * Make room for n more bytes now (a READ reply knows its size): one
 * allocation instead of a series of doublings.  Returns 0, -EMSGSIZE past
 * the limit, or -ENOMEM.
 */
int
rpc_xbuf_reserve(struct rpc_xbuf *xb, uint32_t n)
{
	uint8_t *nb;

	if (n > xb->limit - xb_used(xb))
		return -EMSGSIZE;
	if (xb->len + n <= xb->cap)
		return 0;
	nb = realloc(xb->buf, xb->len + n);
	if (!nb)
		return -ENOMEM;
	xb->buf = nb;
	xb->cap = xb->len + n;
	return 0;
}

/*
 * Encode opaque<len> whose bytes stay at ptr: the length word goes into the
 * buffer, the bytes (and padding) are referenced.  On 0, release(ctx) runs
 * exactly once, when the bytes are no longer needed (small ones are copied
 * and released at once).  On error nothing was encoded and release is not
 * called: -EMSGSIZE past the limit, -ENOMEM.
 */
int
rpc_xbuf_put_ref(struct rpc_xbuf *xb, const void *ptr, uint32_t len,
		 void (*release)(void *), void *ctx)
{
	uint32_t pad = (4 - (len & 3)) & 3;

	if (!xb_materialize(xb))
		return -ENOMEM;
	if ((uint64_t)4 + len + pad > xb->limit - xb_used(xb))
		return -EMSGSIZE;
	if (len < RPC_REF_MIN) {
		if (!xb_room(xb, 4 + len + pad))
			return -ENOMEM;
		rpc_put32(xb->buf + xb->len, len);
		memcpy(xb->buf + xb->len + 4, ptr, len);
		memset(xb->buf + xb->len + 4 + len, 0, pad);
		xb->len += 4 + len + pad;
		release(ctx);
		return 0;
	}
	if (!xb_room(xb, 4))
		return -ENOMEM;
	rpc_put32(xb->buf + xb->len, len);
	xb->len += 4;
	xb->ref = (struct rpc_ref){ ptr, len, pad, release, ctx };
	return 0;
}

/* Free the buffer and release a reference (NULL after a hand-over is fine). */
void
rpc_xbuf_free(struct rpc_xbuf *xb)
{
	rpc_xbuf_drop_ref(xb);
	free(xb->buf);
	xb->buf = NULL;
	xb->len = xb->cap = 0;
}
