/*
 * xdr_local.h - declarations private to src/xdr and its unit tests.
 *
 * Locking: none; XDR routines work on caller-owned streams and objects.
 * Ownership: decoded objects belong to the caller, who releases them with
 * xdr_free(xdr_<type>, obj) whether decoding succeeded or failed.
 */
#ifndef PMEMNFS_XDR_LOCAL_H
#define PMEMNFS_XDR_LOCAL_H

#include "nfs4_prot.h"

/*
 * rpcgen's own xdr_dirlist4(), renamed at build time (src/xdr/local.mk) so
 * that the iterative one in dirlist.c takes its place.  It recurses once
 * per directory entry; only the unit tests call it, to check that both
 * produce and accept the same bytes.
 */
bool_t xdr_dirlist4_recursive(XDR *xdrs, dirlist4 *objp);

#endif
