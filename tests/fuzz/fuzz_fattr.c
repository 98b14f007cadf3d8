/*
 * fuzz_fattr.c - libFuzzer target: the fattr4 decoder the server runs on
 * every client-supplied attribute list (SETATTR, OPEN and CREATE
 * createattrs; src/nfs4/attr.c nfs4_attr_decode(), RFC 8881 §5.5), with
 * owner strings through the idmapper, and the mask checks of VERIFY,
 * NVERIFY and READDIR.  The COMPOUND target reaches the same code, but
 * only behind a session and a filehandle; here every input is a fattr4.
 *
 * Input: byte 0 = minor version (% 3), byte 1 = number of bitmap words
 * (% 6), then that many 32-bit big-endian words, then attr_vals.
 *
 * Properties checked: NFS4_OK only when every value byte was used (else
 * the decoder must say NFS4ERR_BADXDR); the returned attrsset is a subset
 * of the request's mask; set times have nseconds below a second; a mode
 * has no bits above 07777.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "common/log.h"
#include "../../src/nfs4/fsvc.h"
#include "fuzz.h"

#define FUZZ_MAX_WORDS	5

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_fattr", LOG_LVL_ERROR, false);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nfs4_compound cs;
	struct fs_setattr sa;
	uint32_t words[FUZZ_MAX_WORDS];
	bitmap4 set;
	fattr4 in;
	uint8_t *vals;
	size_t nw, off;
	nfsstat4 st;

	if (size < 2)
		return 0;
	memset(&cs, 0, sizeof(cs));
	cs.minorversion = data[0] % 3;
	nw = data[1] % (FUZZ_MAX_WORDS + 1);
	off = 2;
	if (size < off + 4 * nw)
		return 0;
	for (size_t i = 0; i < nw; i++, off += 4) {
		memcpy(&words[i], data + off, 4);
		words[i] = ntohl(words[i]);
	}
	/* A copy of exactly the value bytes, so ASan sees any overread. */
	vals = malloc(size - off ? size - off : 1);
	if (!vals)
		fuzz_die("malloc", -12);
	memcpy(vals, data + off, size - off);
	in.attrmask.bitmap4_len = (u_int)nw;
	in.attrmask.bitmap4_val = nw ? words : NULL;
	in.attr_vals.attrlist4_len = (u_int)(size - off);
	in.attr_vals.attrlist4_val = (char *)vals;

	st = nfs4_attr_decode(&cs, &in, &sa, &set);
	if (st == NFS4_OK) {
		VERIFY(set.bitmap4_len <= nw);
		for (u_int i = 0; i < set.bitmap4_len; i++)
			VERIFY((set.bitmap4_val[i] & ~words[i]) == 0);
		if (sa.mask & FS_SET_MODE)
			VERIFY(sa.mode <= 07777);
		if (sa.mask & FS_SET_ATIME)
			VERIFY(sa.atime.nsec < NSEC_PER_SEC);
		if (sa.mask & FS_SET_MTIME)
			VERIFY(sa.mtime.nsec < NSEC_PER_SEC);
		if (sa.mask & FS_SET_BTIME)
			VERIFY(sa.btime.nsec < NSEC_PER_SEC);
		nfs4_bitmap_free(&set);
	} else {
		VERIFY(set.bitmap4_len == 0 && set.bitmap4_val == NULL);
	}
	st = nfs4_attr_check_verify_mask(&cs, &in.attrmask);
	VERIFY(st == NFS4_OK || st == NFS4ERR_INVAL ||
	       st == NFS4ERR_ATTRNOTSUPP);
	st = nfs4_attr_check_readdir_mask(&cs, &in.attrmask);
	VERIFY(st == NFS4_OK || st == NFS4ERR_INVAL);
	free(vals);
	return 0;
}
