/*
 * xbuf.c - an XDR encoding stream over a growable buffer.
 *
 * Why not xdrmem: a reply's size is unknown until it is encoded, and a
 * READ or READDIR reply can be a megabyte while most replies are a few
 * hundred bytes.  Allocating max_reply per call would cost a large malloc
 * (an mmap) on the hot path; this buffer starts at RPC_XBUF_INITIAL and
 * doubles, bounded by the limit.  The bytes stay contiguous, so the reply
 * cache can copy a range out and the socket write is one iovec.
 */
#include "config.h"

#include "rpc_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Enough for a typical small compound reply: one allocation, no regrowth. */
#define RPC_XBUF_INITIAL	4096u

static struct rpc_xbuf *
xb_of(XDR *xdrs)
{
	return (struct rpc_xbuf *)xdrs->x_private;
}

/* Make room for n more bytes; false past the limit or out of memory. */
static bool
xb_room(struct rpc_xbuf *xb, uint32_t n)
{
	uint32_t want, ncap;
	uint8_t *nb;

	if (n > xb->limit - xb->len)
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

	if (!xb_room(xb, 4))
		return FALSE;
	rpc_put32(xb->buf + xb->len, (uint32_t)*lp);
	xb->len += 4;
	return TRUE;
}

static bool_t
xb_putbytes(XDR *xdrs, const char *addr, u_int len)
{
	struct rpc_xbuf *xb = xb_of(xdrs);

	if (!xb_room(xb, len))
		return FALSE;
	if (len)
		memcpy(xb->buf + xb->len, addr, len);
	xb->len += len;
	return TRUE;
}

static u_int
xb_getpostn(XDR *xdrs)
{
	struct rpc_xbuf *xb = xb_of(xdrs);

	return xb->len - xb->base;
}

/* Only backwards: rolling back a partly encoded result. */
static bool_t
xb_setpostn(XDR *xdrs, u_int pos)
{
	struct rpc_xbuf *xb = xb_of(xdrs);

	if (pos > xb->len - xb->base)
		return FALSE;
	xb->len = xb->base + pos;
	return TRUE;
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

	if ((len & 3) || (xb->len & 3) || !xb_room(xb, len))
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

	if (n > xb->limit - xb->len)
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

/* Free the buffer (NULL after a hand-over is fine). */
void
rpc_xbuf_free(struct rpc_xbuf *xb)
{
	free(xb->buf);
	xb->buf = NULL;
	xb->len = xb->cap = 0;
}
