/*
 * test_fsvc.c - unit tests of the file service's pure helpers: the
 * filehandle MAC (SipHash-2-4 against the reference test vectors of
 * Aumasson and Bernstein), UTF-8 and component-name checks (RFC 8881
 * §1.7.3, §14), and the errno -> nfsstat4 mapping (errmap.c).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "../../src/nfs4/fsvc.h"
#include "../testlib.h"

/* SipHash-2-4 with key 00..0f over messages 00..(len-1). */
static uint64_t
vector(size_t len)
{
	uint8_t key[16], msg[64];

	for (unsigned i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	return nfs4_siphash24(key, msg, len);
}

static void
test_siphash_vectors(void)
{
	/* The reference implementation's vectors.h, read little-endian. */
	CHECK_EQ(vector(0), 0x726fdb47dd0e0e31ULL);
	CHECK_EQ(vector(1), 0x74f839c593dc67fdULL);
	/* The example of the paper's appendix A. */
	CHECK_EQ(vector(15), 0xa129ca6149be45e5ULL);
	/* The handle body length: any bit change changes the MAC. */
	{
		uint8_t key[16] = { 1 }, a[24] = { 0 }, b[24] = { 0 };

		b[23] = 1;
		CHECK(nfs4_siphash24(key, a, 24) != nfs4_siphash24(key, b, 24));
		key[15] = 1;
		CHECK(nfs4_siphash24(key, a, 24) !=
		      nfs4_siphash24((const uint8_t[16]){ 1 }, a, 24));
	}
}

static nfsstat4
name(const char *s, size_t len)
{
	char buf[FS_NAME_MAX + 1];
	component4 c;

	c.utf8string_val = (char *)s;
	c.utf8string_len = (u_int)len;
	return nfs4_check_name(&c, buf);
}

/* RFC 8881 §1.7.3 and the per-op "name" rules. */
static void
test_names(void)
{
	char big[FS_NAME_MAX + 2];

	memset(big, 'x', sizeof(big));
	CHECK_EQ(name("file", 4), NFS4_OK);
	CHECK_EQ(name("caf\xc3\xa9", 5), NFS4_OK);		/* U+00E9 */
	CHECK_EQ(name("\xf0\x9f\x98\x80", 4), NFS4_OK);	/* U+1F600 */
	CHECK_EQ(name("...", 3), NFS4_OK);
	CHECK_EQ(name(big, FS_NAME_MAX), NFS4_OK);
	CHECK_EQ(name(big, FS_NAME_MAX + 1), NFS4ERR_NAMETOOLONG);
	CHECK_EQ(name("", 0), NFS4ERR_INVAL);
	CHECK_EQ(name(".", 1), NFS4ERR_BADNAME);
	CHECK_EQ(name("..", 2), NFS4ERR_BADNAME);
	CHECK_EQ(name("a/b", 3), NFS4ERR_BADNAME);
	CHECK_EQ(name("a\0b", 3), NFS4ERR_BADNAME);
	/* Not UTF-8: NFS4ERR_INVAL. */
	CHECK_EQ(name("\x80", 1), NFS4ERR_INVAL);		/* lone continuation */
	CHECK_EQ(name("\xc3", 1), NFS4ERR_INVAL);		/* truncated */
	CHECK_EQ(name("\xe0\x8a", 2), NFS4ERR_INVAL);	/* truncated */
	CHECK_EQ(name("\xc0\xaf", 2), NFS4ERR_INVAL);	/* overlong '/' */
	CHECK_EQ(name("\xe0\x80\xaf", 3), NFS4ERR_INVAL);	/* overlong */
	CHECK_EQ(name("\xed\xa0\x80", 3), NFS4ERR_INVAL);	/* surrogate */
	CHECK_EQ(name("\xef\xbf\xbe", 3), NFS4ERR_INVAL);	/* U+FFFE */
	CHECK_EQ(name("\xf4\x90\x80\x80", 4), NFS4ERR_INVAL);	/* > U+10FFFF */
	CHECK_EQ(name("\xfc\x80\x80\x80\x80\xaf", 6), NFS4ERR_INVAL);
	CHECK_EQ(name("\xff", 1), NFS4ERR_INVAL);
}

/* The one mapping: each engine errno reaches the client as one status. */
static void
test_errmap(void)
{
	CHECK_EQ(nfs4_errno_to_status(0), NFS4_OK);
	CHECK_EQ(nfs4_errno_to_status(-ENOENT), NFS4ERR_NOENT);
	CHECK_EQ(nfs4_errno_to_status(ENOENT), NFS4ERR_NOENT);
	CHECK_EQ(nfs4_errno_to_status(-ESTALE), NFS4ERR_STALE);
	CHECK_EQ(nfs4_errno_to_status(-ENOTEMPTY), NFS4ERR_NOTEMPTY);
	CHECK_EQ(nfs4_errno_to_status(-EEXIST), NFS4ERR_EXIST);
	CHECK_EQ(nfs4_errno_to_status(-ENOSPC), NFS4ERR_NOSPC);
	CHECK_EQ(nfs4_errno_to_status(-EAGAIN), NFS4ERR_DELAY);
	CHECK_EQ(nfs4_errno_to_status(-EBADE), NFS4ERR_NOT_SAME);
	CHECK_EQ(nfs4_errno_to_status(-EBADR), NFS4ERR_BAD_COOKIE);
	CHECK_EQ(nfs4_errno_to_status(-ENODATA), NFS4ERR_NOXATTR);
	/* Unknown errors are a server fault, never success. */
	CHECK_EQ(nfs4_errno_to_status(-EPIPE), NFS4ERR_SERVERFAULT);
	CHECK_EQ(nfs4_errno_to_status(-4095), NFS4ERR_SERVERFAULT);
}

int
main(void)
{
	TEST_RUN(test_siphash_vectors);
	TEST_RUN(test_names);
	TEST_RUN(test_errmap);
	TEST_EXIT();
}
