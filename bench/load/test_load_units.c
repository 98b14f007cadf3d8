/*
 * test_load_units.c - nfsload's own pieces without a server: the latency
 * histogram's percentiles stay within their stated error, and the reply
 * walker reads every field it claims to from replies encoded by rpcgen's
 * own encoder, stops at the failing op, and reports every truncation of a
 * reply as LD_FAIL_XDR without reading past its end (ASan builds check the
 * last part: each truncated copy is its own exact-size allocation).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "../../tests/testlib.h"

/* The histogram promises 2^-LD_HIST_SUB_BITS relative error (~3%). */
#define REL_ERR		(1.0 / (1 << LD_HIST_SUB_BITS))

static void
check_near(uint64_t got, uint64_t want)
{
	double lo = (double)want * (1 - REL_ERR), hi = (double)want * (1 + REL_ERR);

	if ((double)got < lo || (double)got > hi) {
		fprintf(stderr, "FAIL quantile %llu not within 3%% of %llu\n",
			(unsigned long long)got, (unsigned long long)want);
		test_failures++;
	}
}

static void
test_hist(void)
{
	struct ld_hist *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	uint64_t v;

	REQUIRE(a && b);
	/* 1 us .. 1000 us, uniform: p50 = 500 us, p99 = 990 us. */
	for (v = 1; v <= 1000; v++)
		ld_hist_add(a, v * 1000);
	CHECK_EQ(a->count, 1000);
	CHECK_EQ(a->max_ns, 1000000);
	check_near(ld_hist_quantile(a, 0.5), 500000);
	check_near(ld_hist_quantile(a, 0.99), 990000);
	CHECK_EQ(ld_hist_quantile(a, 1.0), 1000000);
	/* Small values are exact. */
	for (v = 0; v < 32; v++)
		ld_hist_add(b, v);
	CHECK_EQ(ld_hist_quantile(b, 0.5), 15);
	CHECK_EQ(ld_hist_quantile(b, 1.0), 31);
	/* Huge values land in the last bucket but max stays exact. */
	ld_hist_add(b, 1ull << 50);
	CHECK_EQ(b->max_ns, 1ull << 50);
	CHECK_EQ(ld_hist_quantile(b, 1.0), 1ull << 50);
	ld_hist_merge(a, b);
	CHECK_EQ(a->count, 1033);
	CHECK_EQ(a->max_ns, 1ull << 50);
	free(a);
	free(b);
}

/* Encode res with rpcgen's encoder; returns the length. */
static uint32_t
encode(COMPOUND4res *res, uint8_t *buf, uint32_t cap)
{
	XDR x;
	uint32_t len;

	xdrmem_create(&x, (char *)buf, cap, XDR_ENCODE);
	REQUIRE(xdr_COMPOUND4res(&x, res));
	len = xdr_getpos(&x);
	xdr_destroy(&x);
	return len;
}

static void
test_reply_fields(void)
{
	nfs_resop4 ops[10];
	COMPOUND4res res;
	uint32_t attrmask[1] = { 1u << FATTR4_SIZE };
	uint8_t sizeval[8] = { 0, 0, 0, 0, 0, 0x10, 0, 1 };
	char fh[5] = "abcde", data[7] = "1234567", body[3] = "xyz";
	layout4 lay;
	uint8_t *buf, *copy;
	uint32_t len, cut;
	struct ld_res r;
	int n = 0;

	memset(ops, 0, sizeof(ops));
	memset(&res, 0, sizeof(res));
	ops[n++].resop = OP_SEQUENCE;
	ops[n++].resop = OP_PUTFH;
	ops[n].resop = OP_OPEN;
	ops[n].nfs_resop4_u.opopen.OPEN4res_u.resok4.stateid.seqid = 7;
	ops[n].nfs_resop4_u.opopen.OPEN4res_u.resok4.stateid.other[11] = 9;
	ops[n].nfs_resop4_u.opopen.OPEN4res_u.resok4.delegation
		.delegation_type = OPEN_DELEGATE_NONE_EXT;
	ops[n++].nfs_resop4_u.opopen.OPEN4res_u.resok4.delegation
		.open_delegation4_u.od_whynone.ond_why = WND4_CONTENTION;
	ops[n].resop = OP_GETFH;
	ops[n].nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object.nfs_fh4_len = 5;
	ops[n++].nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object.nfs_fh4_val = fh;
	ops[n].resop = OP_GETATTR;
	ops[n].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes
		.attrmask.bitmap4_len = 1;
	ops[n].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes
		.attrmask.bitmap4_val = attrmask;
	ops[n].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes
		.attr_vals.attrlist4_len = 8;
	ops[n++].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes
		.attr_vals.attrlist4_val = (char *)sizeval;
	ops[n].resop = OP_READ;
	ops[n].nfs_resop4_u.opread.READ4res_u.resok4.eof = TRUE;
	ops[n].nfs_resop4_u.opread.READ4res_u.resok4.data.data_len = 7;
	ops[n++].nfs_resop4_u.opread.READ4res_u.resok4.data.data_val = data;
	ops[n].resop = OP_WRITE;
	ops[n].nfs_resop4_u.opwrite.WRITE4res_u.resok4.count = 4096;
	ops[n].nfs_resop4_u.opwrite.WRITE4res_u.resok4.committed = FILE_SYNC4;
	ops[n++].nfs_resop4_u.opwrite.WRITE4res_u.resok4.writeverf[0] = 0x42;
	memset(&lay, 0, sizeof(lay));
	lay.lo_content.loc_type = LAYOUT4_BLOCK_VOLUME;
	lay.lo_content.loc_body.loc_body_len = 3;
	lay.lo_content.loc_body.loc_body_val = body;
	ops[n].resop = OP_LAYOUTGET;
	ops[n].nfs_resop4_u.oplayoutget.LAYOUTGET4res_u.logr_resok4
		.logr_stateid.seqid = 3;
	ops[n].nfs_resop4_u.oplayoutget.LAYOUTGET4res_u.logr_resok4
		.logr_layout.logr_layout_len = 1;
	ops[n++].nfs_resop4_u.oplayoutget.LAYOUTGET4res_u.logr_resok4
		.logr_layout.logr_layout_val = &lay;
	res.status = NFS4_OK;
	res.resarray.resarray_len = n;
	res.resarray.resarray_val = ops;

	buf = malloc(4096);
	REQUIRE(buf);
	len = encode(&res, buf, 4096);
	CHECK_EQ(ld_reply_parse_body(buf, len, &r), LD_OK);
	CHECK_EQ(r.nres, n);
	CHECK_EQ(r.fh_len, 5);
	CHECK(r.fh && !memcmp(r.fh, "abcde", 5));
	CHECK(r.have_size);
	CHECK_EQ(r.size, 0x100001ull);
	CHECK(r.read_eof);
	CHECK_EQ(r.read_count, 7);
	CHECK_EQ(r.write_count, 4096);
	CHECK_EQ(r.committed, FILE_SYNC4);
	CHECK(r.have_verf && r.verf[0] == 0x42);
	CHECK_EQ(r.layouts, 1);
	/* The last stateid seen is LAYOUTGET's, after OPEN's. */
	CHECK_EQ(r.stateid.seqid, 3);

	/* Every truncation is a malformed reply, never a read past the end. */
	for (cut = 0; cut < len; cut++) {
		copy = malloc(cut ? cut : 1);
		REQUIRE(copy);
		memcpy(copy, buf, cut);
		if (ld_reply_parse_body(copy, cut, &r) != LD_FAIL_XDR) {
			fprintf(stderr, "FAIL truncated at %u/%u parsed\n", cut,
				len);
			test_failures++;
		}
		free(copy);
	}

	/* A read delegation (we asked for none) is a wrong answer. */
	ops[2].nfs_resop4_u.opopen.OPEN4res_u.resok4.delegation
		.delegation_type = OPEN_DELEGATE_READ;
	len = encode(&res, buf, 4096);
	CHECK_EQ(ld_reply_parse_body(buf, len, &r), LD_FAIL_XDR);
	CHECK_EQ(r.failed_op, OP_OPEN);
	free(buf);
}

static void
test_reply_failed_op(void)
{
	nfs_resop4 ops[2];
	COMPOUND4res res;
	uint8_t buf[256];
	struct ld_res r;
	uint32_t len;

	memset(ops, 0, sizeof(ops));
	memset(&res, 0, sizeof(res));
	ops[0].resop = OP_PUTFH;
	ops[1].resop = OP_LOOKUP;
	ops[1].nfs_resop4_u.oplookup.status = NFS4ERR_NOENT;
	res.status = NFS4ERR_NOENT;
	res.resarray.resarray_len = 2;
	res.resarray.resarray_val = ops;
	len = encode(&res, buf, sizeof(buf));
	CHECK_EQ(ld_reply_parse_body(buf, len, &r), LD_FAIL_NFS);
	CHECK_EQ(r.failed_op, OP_LOOKUP);
	CHECK_EQ(r.status, NFS4ERR_NOENT);
	CHECK_EQ(r.nres, 2);

	/* A compound status that contradicts the failed op's: malformed. */
	res.status = NFS4ERR_IO;
	len = encode(&res, buf, sizeof(buf));
	CHECK_EQ(ld_reply_parse_body(buf, len, &r), LD_FAIL_XDR);

	/* All ops OK but the compound says otherwise: malformed too. */
	ops[1].nfs_resop4_u.oplookup.status = NFS4_OK;
	len = encode(&res, buf, sizeof(buf));
	CHECK_EQ(ld_reply_parse_body(buf, len, &r), LD_FAIL_XDR);
}

static void
test_names(void)
{
	char b[16];

	CHECK(!strcmp(ld_status_name(NFS4ERR_DELAY, b, sizeof(b)),
		      "NFS4ERR_DELAY"));
	CHECK(!strcmp(ld_op_name(OP_SEQUENCE, b, sizeof(b)), "OP_SEQUENCE"));
	CHECK(!strcmp(ld_status_name(987654, b, sizeof(b)), "987654"));
}

int
main(void)
{
	TEST_RUN(test_hist);
	TEST_RUN(test_reply_fields);
	TEST_RUN(test_reply_failed_op);
	TEST_RUN(test_names);
	TEST_EXIT();
}
