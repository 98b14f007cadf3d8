/*
 * dirlist.c - READDIR's entry chain without recursion.
 *
 * RFC 8881 section 18.23 describes a READDIR reply as a linked list
 * (entry4.nextentry is XDR optional-data).  rpcgen turns that into an
 * xdr_entry4() that calls itself through xdr_pointer() once per entry, so
 * encoding, decoding or freeing a reply with tens of thousands of names
 * would need megabytes of stack: enough to overflow a worker thread.  This
 * file walks the chain with a loop instead and, through the build-time
 * rename described in local.mk, is the xdr_dirlist4() that every
 * generated caller (xdr_READDIR4resok, hence xdr_COMPOUND4res) uses.
 *
 * The name keeps rpcgen's xdr_ prefix because generated code calls it by
 * that name; it is the only hand-written function that does.
 */
#include "config.h"

#include <stdlib.h>

#include "xdr_local.h"

/* Encode or decode one entry's fields, not its nextentry link. */
static bool_t
dirlist_entry_fields(XDR *xdrs, entry4 *e)
{
	if (!xdr_nfs_cookie4(xdrs, &e->cookie))
		return FALSE;
	if (!xdr_component4(xdrs, &e->name))
		return FALSE;
	return xdr_fattr4(xdrs, &e->attrs);
}

/*
 * Free a chain built by dirlist_decode() or by a caller.  Each entry's
 * fields are released with the generated routines, which never recurse
 * through nextentry, and the link is cut before the entry is freed.
 */
static void
dirlist_free_chain(entry4 *e)
{
	XDR xfree = { .x_op = XDR_FREE };

	while (e != NULL) {
		entry4 *next = e->nextentry;

		(void)dirlist_entry_fields(&xfree, e);
		free(e);
		e = next;
	}
}

/*
 * Decode the chain.  Each entry is linked in before its fields are decoded,
 * so that on failure everything allocated so far hangs off objp and the
 * caller's xdr_free() releases it (rpcgen's contract for partial decodes).
 * Every entry costs at least 24 bytes of input, so the allocation is bounded
 * by the size of the message.
 */
static bool_t
dirlist_decode(XDR *xdrs, dirlist4 *objp)
{
	entry4 **link = &objp->entries;
	bool_t more;

	/*
	 * Like every rpcgen decoder this needs a zeroed or previously decoded
	 * object; a chain left from an earlier decode is released, not reused.
	 */
	dirlist_free_chain(objp->entries);
	objp->entries = NULL;

	for (;;) {
		entry4 *e;

		if (!xdr_bool(xdrs, &more))
			return FALSE;
		if (!more)
			break;
		e = calloc(1, sizeof(*e));
		if (e == NULL)
			return FALSE;
		*link = e;
		link = &e->nextentry;
		if (!dirlist_entry_fields(xdrs, e))
			return FALSE;
	}
	return xdr_bool(xdrs, &objp->eof);
}

static bool_t
dirlist_encode(XDR *xdrs, dirlist4 *objp)
{
	entry4 *e = objp->entries;
	bool_t more;

	for (;;) {
		more = e != NULL;
		if (!xdr_bool(xdrs, &more))
			return FALSE;
		if (!more)
			break;
		if (!dirlist_entry_fields(xdrs, e))
			return FALSE;
		e = e->nextentry;
	}
	return xdr_bool(xdrs, &objp->eof);
}

/*
 * xdr_dirlist4 - encode, decode or free a READDIR4resok's entry list
 * (RFC 8881 section 18.23.2) without recursion.
 *
 * Locking: none.  Same contract as any rpcgen routine: on XDR_DECODE the
 * caller owns the result and frees it with xdr_free(), also after a failed
 * decode; on XDR_FREE the chain is released and objp->entries set to NULL.
 * Returns TRUE on success, FALSE when the stream ran out, a field exceeded
 * its bound, or memory could not be allocated.
 */
bool_t
xdr_dirlist4(XDR *xdrs, dirlist4 *objp)
{
	switch (xdrs->x_op) {
	case XDR_ENCODE:
		return dirlist_encode(xdrs, objp);
	case XDR_DECODE:
		return dirlist_decode(xdrs, objp);
	case XDR_FREE:
		dirlist_free_chain(objp->entries);
		objp->entries = NULL;
		return TRUE;
	}
	return FALSE;
}
