/*
 * test_inline.c - which COMPOUNDs the event loop may run itself
 * (nfs4_compound_inline_ok(), src/nfs4/inline.c): requests are encoded
 * with the generated XDR routines and judged from their bytes alone.
 */
#include "config.h"

#include <string.h>

#include "nfs4.h"
#include "../testlib.h"

#define BUF_SIZE	(2 * 1024 * 1024)

static struct nfs4_server *nsrv;
static char buf[BUF_SIZE];
static XDR enc;

static void
req_begin(uint32_t minor, uint32_t nops)
{
	utf8str_cs tag = { .utf8string_len = 3, .utf8string_val = "tag" };

	xdrmem_create(&enc, buf, sizeof(buf), XDR_ENCODE);
	REQUIRE(xdr_utf8str_cs(&enc, &tag));
	REQUIRE(xdr_uint32_t(&enc, &minor));
	REQUIRE(xdr_uint32_t(&enc, &nops));
}

static void
op_simple(nfs_opnum4 num)
{
	nfs_argop4 a;

	memset(&a, 0, sizeof(a));
	a.argop = num;
	REQUIRE(xdr_nfs_argop4(&enc, &a));
}

static void
op_sequence(void)
{
	nfs_argop4 a;

	memset(&a, 0, sizeof(a));
	a.argop = OP_SEQUENCE;
	a.nfs_argop4_u.opsequence.sa_slotid = 3;
	REQUIRE(xdr_nfs_argop4(&enc, &a));
}

static void
op_putfh(void)
{
	static char fh[32] = "a filehandle";
	nfs_argop4 a;

	memset(&a, 0, sizeof(a));
	a.argop = OP_PUTFH;
	a.nfs_argop4_u.opputfh.object.nfs_fh4_len = sizeof(fh);
	a.nfs_argop4_u.opputfh.object.nfs_fh4_val = fh;
	REQUIRE(xdr_nfs_argop4(&enc, &a));
}

static void
op_getattr(void)
{
	uint32_t words[2] = { 0x0010011a, 0x00b0a23a };
	nfs_argop4 a;

	memset(&a, 0, sizeof(a));
	a.argop = OP_GETATTR;
	a.nfs_argop4_u.opgetattr.attr_request.bitmap4_len = 2;
	a.nfs_argop4_u.opgetattr.attr_request.bitmap4_val = words;
	REQUIRE(xdr_nfs_argop4(&enc, &a));
}

static void
op_lookup(const char *name)
{
	nfs_argop4 a;

	memset(&a, 0, sizeof(a));
	a.argop = OP_LOOKUP;
	a.nfs_argop4_u.oplookup.objname.utf8string_len = strlen(name);
	a.nfs_argop4_u.oplookup.objname.utf8string_val = (char *)name;
	REQUIRE(xdr_nfs_argop4(&enc, &a));
}

static void
op_read(uint32_t count)
{
	nfs_argop4 a;

	memset(&a, 0, sizeof(a));
	a.argop = OP_READ;
	a.nfs_argop4_u.opread.offset = 4096;
	a.nfs_argop4_u.opread.count = count;
	REQUIRE(xdr_nfs_argop4(&enc, &a));
}

static void
op_write(uint32_t len)
{
	static char data[1 << 20];
	nfs_argop4 a;

	memset(&a, 0, sizeof(a));
	a.argop = OP_WRITE;
	a.nfs_argop4_u.opwrite.stable = UNSTABLE4;
	a.nfs_argop4_u.opwrite.data.data_len = len;
	a.nfs_argop4_u.opwrite.data.data_val = data;
	REQUIRE(xdr_nfs_argop4(&enc, &a));
}

/* End the request and ask; the whole encoded request is the argument. */
static bool
judge(void)
{
	uint32_t len = xdr_getpos(&enc);

	xdr_destroy(&enc);
	return nfs4_compound_inline_ok(nsrv, buf, len);
}

/* What a Linux client's stat(), lookup and small read look like: inline. */
static void
test_cheap_compounds(void)
{
	req_begin(1, 3);
	op_sequence();
	op_putfh();
	op_getattr();
	CHECK(judge());

	req_begin(1, 4);
	op_sequence();
	op_putfh();
	op_lookup("name");
	op_simple(OP_GETFH);
	CHECK(judge());

	req_begin(2, 3);
	op_sequence();
	op_putfh();
	op_read(NFS4_INLINE_READ_MAX);
	CHECK(judge());

	req_begin(1, 4);
	op_simple(OP_PUTROOTFH);
	op_simple(OP_SAVEFH);
	op_simple(OP_RESTOREFH);
	op_simple(OP_ACCESS);
	CHECK(judge());
}

/* Anything that may wait, write or copy long goes to a worker. */
static void
test_worker_compounds(void)
{
	static const nfs_opnum4 slow[] = {
		OP_OPEN, OP_CLOSE, OP_COMMIT, OP_CREATE, OP_REMOVE,
		OP_RENAME, OP_SETATTR, OP_LOCK, OP_READDIR, OP_DELEGRETURN,
		OP_EXCHANGE_ID, OP_CREATE_SESSION, OP_DESTROY_SESSION,
		OP_RECLAIM_COMPLETE, OP_LAYOUTGET, OP_COPY, OP_CLONE,
	};

	req_begin(1, 3);
	op_sequence();
	op_putfh();
	op_write(4096);
	CHECK(!judge());

	/* Over the limit by one byte. */
	req_begin(1, 3);
	op_sequence();
	op_putfh();
	op_read(NFS4_INLINE_READ_MAX + 1);
	CHECK(!judge());

	/* A cheap prefix does not make a slow op cheap, first or last. */
	for (size_t i = 0; i < ARRAY_SIZE(slow); i++) {
		req_begin(2, 2);
		op_sequence();
		op_simple(slow[i]);
		/* Only the op number matters: the scan stops before its
		 * arguments, which op_simple() leaves empty. */
		CHECK(!judge());
	}
	req_begin(1, 3);
	op_write(1 << 20);	/* the scan must not decode (copy) this */
	op_sequence();
	op_getattr();
	CHECK(!judge());
}

/* Undecodable or unusual requests: the worker answers them properly. */
static void
test_odd_requests(void)
{
	uint32_t len;

	req_begin(0, 1);		/* NFSv4.0: MINOR_VERS_MISMATCH */
	op_sequence();
	CHECK(!judge());
	req_begin(3, 1);
	op_sequence();
	CHECK(!judge());
	req_begin(1, 0);		/* no ops */
	CHECK(!judge());
	req_begin(1, 17);		/* more than the scan looks at */
	for (int i = 0; i < 17; i++)
		op_simple(OP_GETFH);
	CHECK(!judge());
	req_begin(1, 3);		/* says 3, carries 2 */
	op_sequence();
	op_putfh();
	CHECK(!judge());
	req_begin(1, 2);
	op_sequence();
	op_simple((nfs_opnum4)10044);	/* OP_ILLEGAL */
	CHECK(!judge());

	/* Every truncation of a good request is refused, none crashes. */
	req_begin(1, 3);
	op_sequence();
	op_putfh();
	op_getattr();
	len = xdr_getpos(&enc);
	xdr_destroy(&enc);
	CHECK(nfs4_compound_inline_ok(nsrv, buf, len));
	for (uint32_t cut = 0; cut < len; cut++)
		CHECK(!nfs4_compound_inline_ok(nsrv, buf, cut));
}

int
main(void)
{
	struct nfs4_config cfg;

	log_init("test_inline", LOG_LVL_WARN, false);
	nfs4_config_defaults(&cfg);
	cfg.server_owner = "unit-test-owner";
	REQUIRE(nfs4_server_create_detached(&cfg, &nsrv) == 0);
	TEST_RUN(test_cheap_compounds);
	TEST_RUN(test_worker_compounds);
	TEST_RUN(test_odd_requests);
	nfs4_server_shutdown(nsrv);
	TEST_EXIT();
}
