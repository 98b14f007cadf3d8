/*
 * test_xdr.c - the generated NFSv4.1/4.2 and block layout XDR.
 *
 * Round trips through xdrmem of the messages the server and the client
 * library exchange first (SEQUENCE/PUTROOTFH/GETATTR, EXCHANGE_ID,
 * CREATE_SESSION, CB_SEQUENCE + CB_LAYOUTRECALL, block device addresses and
 * layouts), one message checked byte for byte against RFC 8881's wire
 * format, the decoder bounds (a count one past a bound fails, a count at
 * the bound decodes), truncated and mutated input (decoding fails cleanly
 * and xdr_free() afterwards releases everything), and the iterative READDIR
 * entry chain on a small stack.
 *
 * In the sanitizer build __asan_default_options() caps any single
 * allocation at TEST_MAX_ALLOC_MB, so a decoder that allocated "count *
 * size" for a hostile count would abort the test instead of passing
 * silently; LeakSanitizer checks that every failed decode was freed.
 *
 * XDR_TEST_LONG=1 runs many more mutation rounds.
 */
#include "config.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfs4_prot.h"
#include "blocklayout_prot.h"
#include "xdr_local.h"
#include "../testlib.h"

/*
 * The largest allocation a bounded decoder may make: the biggest is
 * PNFS_BLOCK_EXTENT_LIMIT * sizeof(pnfs_block_extent4), about 1.5 MiB.
 */
#define TEST_MAX_ALLOC_MB	4
#define TEST_STR(x)		#x
#define TEST_XSTR(x)		TEST_STR(x)

#ifdef PMEMNFS_SANITIZE
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "max_allocation_size_mb=" TEST_XSTR(TEST_MAX_ALLOC_MB)
	       ":allocator_may_return_null=0";
}
#endif

/* Mutation rounds per seed message; XDR_TEST_LONG raises it. */
#define FUZZ_ROUNDS_SHORT	3000
#define FUZZ_ROUNDS_LONG	300000

/* Entries in the READDIR chain test and the stack it must fit in. */
#define DIRLIST_ENTRIES		100000
#define DIRLIST_STACK		(128 * 1024)

#define BUF_SIZE		(2 * 1024 * 1024)

/*
 * Encode obj with xdr_<type> into a fresh buffer; the length goes to *lenp.
 * The caller frees the buffer.
 */
#define ENCODE(type, obj, lenp) ({ \
	char *_buf = calloc(1, BUF_SIZE); \
	XDR _x; \
	REQUIRE(_buf != NULL); \
	xdrmem_create(&_x, _buf, BUF_SIZE, XDR_ENCODE); \
	REQUIRE(xdr_##type(&_x, (obj))); \
	*(lenp) = xdr_getpos(&_x); \
	xdr_destroy(&_x); \
	_buf; \
})

/*
 * Decode len bytes at buf into a zeroed *obj.  Success also requires that
 * every byte was consumed.
 */
#define DECODE(type, obj, buf, len) ({ \
	XDR _x; \
	bool_t _ok; \
	memset((obj), 0, sizeof(*(obj))); \
	xdrmem_create(&_x, (char *)(buf), (len), XDR_DECODE); \
	_ok = xdr_##type(&_x, (obj)); \
	if (_ok && xdr_getpos(&_x) != (u_int)(len)) \
		_ok = FALSE; \
	xdr_destroy(&_x); \
	_ok; \
})

/* xdr_free() without the function pointer cast. */
#define FREE(type, obj) do { \
	XDR _x = { .x_op = XDR_FREE }; \
	(void)xdr_##type(&_x, (obj)); \
} while (0)

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng_next(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
set_string(utf8string *s, const char *text)
{
	s->utf8string_len = strlen(text);
	s->utf8string_val = (char *)text;
}

static int
string_is(const utf8string *s, const char *text)
{
	return s->utf8string_len == strlen(text) &&
	       memcmp(s->utf8string_val, text, s->utf8string_len) == 0;
}

/* ---------------------------------------------------------------------- */
/* COMPOUND4args: SEQUENCE + PUTROOTFH + GETATTR                           */
/* ---------------------------------------------------------------------- */

static uint32_t getattr_words[2] = { 0x0010011a, 0x00b0a23a };

static void
build_compound_args(COMPOUND4args *args, nfs_argop4 *ops)
{
	SEQUENCE4args *seq;
	int i;

	memset(args, 0, sizeof(*args));
	memset(ops, 0, 3 * sizeof(*ops));
	set_string(&args->tag, "t");
	args->minorversion = 1;
	args->argarray.argarray_len = 3;
	args->argarray.argarray_val = ops;

	ops[0].argop = OP_SEQUENCE;
	seq = &ops[0].nfs_argop4_u.opsequence;
	for (i = 0; i < NFS4_SESSIONID_SIZE; i++)
		seq->sa_sessionid[i] = (char)(i + 1);
	seq->sa_sequenceid = 7;
	seq->sa_slotid = 2;
	seq->sa_highest_slotid = 3;
	seq->sa_cachethis = TRUE;

	ops[1].argop = OP_PUTROOTFH;

	ops[2].argop = OP_GETATTR;
	ops[2].nfs_argop4_u.opgetattr.attr_request.bitmap4_len = 2;
	ops[2].nfs_argop4_u.opgetattr.attr_request.bitmap4_val = getattr_words;
}

/*
 * The wire image of build_compound_args(), written out from RFC 8881
 * section 16.2 and RFC 4506 (4-byte big-endian units, opaque data padded
 * to a multiple of 4) rather than from the generated code.
 */
static size_t
expected_compound_args(unsigned char *p)
{
	unsigned char *start = p;
	int i;

	put_be32(p, 1); p += 4;			/* tag length */
	memcpy(p, "t\0\0\0", 4); p += 4;	/* tag + 3 bytes padding */
	put_be32(p, 1); p += 4;			/* minorversion */
	put_be32(p, 3); p += 4;			/* argarray count */
	put_be32(p, 53); p += 4;		/* OP_SEQUENCE */
	for (i = 0; i < NFS4_SESSIONID_SIZE; i++)
		*p++ = (unsigned char)(i + 1);	/* sessionid4, no length */
	put_be32(p, 7); p += 4;
	put_be32(p, 2); p += 4;
	put_be32(p, 3); p += 4;
	put_be32(p, 1); p += 4;			/* sa_cachethis TRUE */
	put_be32(p, 24); p += 4;		/* OP_PUTROOTFH, no args */
	put_be32(p, 9); p += 4;			/* OP_GETATTR */
	put_be32(p, 2); p += 4;			/* bitmap4 word count */
	put_be32(p, getattr_words[0]); p += 4;
	put_be32(p, getattr_words[1]); p += 4;
	return p - start;
}

static void
test_compound_args_round_trip(void)
{
	COMPOUND4args args, got;
	nfs_argop4 ops[3];
	unsigned char want[128];
	size_t want_len;
	u_int len;
	char *buf;
	SEQUENCE4args *seq;

	build_compound_args(&args, ops);
	buf = ENCODE(COMPOUND4args, &args, &len);

	want_len = expected_compound_args(want);
	CHECK_EQ(len, want_len);
	CHECK(len == want_len && memcmp(buf, want, want_len) == 0);

	REQUIRE(DECODE(COMPOUND4args, &got, buf, len));
	CHECK(string_is(&got.tag, "t"));
	CHECK_EQ(got.minorversion, 1);
	REQUIRE(got.argarray.argarray_len == 3);
	CHECK_EQ(got.argarray.argarray_val[0].argop, OP_SEQUENCE);
	seq = &got.argarray.argarray_val[0].nfs_argop4_u.opsequence;
	CHECK(memcmp(seq->sa_sessionid,
		     ops[0].nfs_argop4_u.opsequence.sa_sessionid,
		     NFS4_SESSIONID_SIZE) == 0);
	CHECK_EQ(seq->sa_sequenceid, 7);
	CHECK_EQ(seq->sa_slotid, 2);
	CHECK_EQ(seq->sa_highest_slotid, 3);
	CHECK_EQ(seq->sa_cachethis, TRUE);
	CHECK_EQ(got.argarray.argarray_val[1].argop, OP_PUTROOTFH);
	CHECK_EQ(got.argarray.argarray_val[2].argop, OP_GETATTR);
	{
		bitmap4 *bm = &got.argarray.argarray_val[2].nfs_argop4_u
				       .opgetattr.attr_request;

		REQUIRE(bm->bitmap4_len == 2);
		CHECK_EQ(bm->bitmap4_val[0], getattr_words[0]);
		CHECK_EQ(bm->bitmap4_val[1], getattr_words[1]);
	}
	FREE(COMPOUND4args, &got);
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* COMPOUND4res                                                            */
/* ---------------------------------------------------------------------- */

static char attr_bytes[] = "\x00\x00\x00\x01" "\x00\x00\x00\x00\x00\x00\x10\x00";

static void
build_compound_res(COMPOUND4res *res, nfs_resop4 *ops)
{
	SEQUENCE4resok *sr;
	fattr4 *fa;
	int i;

	memset(res, 0, sizeof(*res));
	memset(ops, 0, 3 * sizeof(*ops));
	res->status = NFS4_OK;
	set_string(&res->tag, "tag-reply");
	res->resarray.resarray_len = 3;
	res->resarray.resarray_val = ops;

	ops[0].resop = OP_SEQUENCE;
	ops[0].nfs_resop4_u.opsequence.sr_status = NFS4_OK;
	sr = &ops[0].nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4;
	for (i = 0; i < NFS4_SESSIONID_SIZE; i++)
		sr->sr_sessionid[i] = (char)(0xf0 - i);
	sr->sr_sequenceid = 7;
	sr->sr_slotid = 2;
	sr->sr_highest_slotid = 15;
	sr->sr_target_highest_slotid = 15;
	sr->sr_status_flags = SEQ4_STATUS_RECALLABLE_STATE_REVOKED;

	ops[1].resop = OP_PUTROOTFH;
	ops[1].nfs_resop4_u.opputrootfh.status = NFS4_OK;

	ops[2].resop = OP_GETATTR;
	ops[2].nfs_resop4_u.opgetattr.status = NFS4_OK;
	fa = &ops[2].nfs_resop4_u.opgetattr.GETATTR4res_u.resok4.obj_attributes;
	fa->attrmask.bitmap4_len = 1;
	fa->attrmask.bitmap4_val = getattr_words;
	fa->attr_vals.attrlist4_len = sizeof(attr_bytes) - 1;
	fa->attr_vals.attrlist4_val = attr_bytes;
}

static void
test_compound_res_round_trip(void)
{
	COMPOUND4res res, got;
	nfs_resop4 ops[3];
	u_int len;
	char *buf;
	SEQUENCE4resok *sr;
	fattr4 *fa;

	build_compound_res(&res, ops);
	buf = ENCODE(COMPOUND4res, &res, &len);
	/* status, tag (4 + 9 bytes padded to 12), count,
	 * SEQUENCE (resop, status, sessionid 16, 5 words) = 44,
	 * PUTROOTFH (resop, status) = 8,
	 * GETATTR (resop, status, bitmap 4 + 4, attrlist 4 + 12) = 32 */
	CHECK_EQ(len, 4 + 16 + 4 + 44 + 8 + 32);

	REQUIRE(DECODE(COMPOUND4res, &got, buf, len));
	CHECK_EQ(got.status, NFS4_OK);
	CHECK(string_is(&got.tag, "tag-reply"));
	REQUIRE(got.resarray.resarray_len == 3);
	CHECK_EQ(got.resarray.resarray_val[0].resop, OP_SEQUENCE);
	sr = &got.resarray.resarray_val[0].nfs_resop4_u.opsequence
		      .SEQUENCE4res_u.sr_resok4;
	CHECK(memcmp(sr->sr_sessionid,
		     ops[0].nfs_resop4_u.opsequence.SEQUENCE4res_u.sr_resok4
			     .sr_sessionid, NFS4_SESSIONID_SIZE) == 0);
	CHECK_EQ(sr->sr_highest_slotid, 15);
	CHECK_EQ(sr->sr_status_flags, SEQ4_STATUS_RECALLABLE_STATE_REVOKED);
	CHECK_EQ(got.resarray.resarray_val[1].resop, OP_PUTROOTFH);
	CHECK_EQ(got.resarray.resarray_val[2].resop, OP_GETATTR);
	fa = &got.resarray.resarray_val[2].nfs_resop4_u.opgetattr
		      .GETATTR4res_u.resok4.obj_attributes;
	REQUIRE(fa->attrmask.bitmap4_len == 1);
	CHECK_EQ(fa->attrmask.bitmap4_val[0], getattr_words[0]);
	REQUIRE(fa->attr_vals.attrlist4_len == sizeof(attr_bytes) - 1);
	CHECK(memcmp(fa->attr_vals.attrlist4_val, attr_bytes,
		     sizeof(attr_bytes) - 1) == 0);
	FREE(COMPOUND4res, &got);

	/* A failed operation's result has no body: status only. */
	ops[2].nfs_resop4_u.opgetattr.status = NFS4ERR_ACCESS;
	res.status = NFS4ERR_ACCESS;
	free(buf);
	buf = ENCODE(COMPOUND4res, &res, &len);
	CHECK_EQ(len, 4 + 16 + 4 + 44 + 8 + 8);
	REQUIRE(DECODE(COMPOUND4res, &got, buf, len));
	CHECK_EQ(got.resarray.resarray_val[2].nfs_resop4_u.opgetattr.status,
		 NFS4ERR_ACCESS);
	FREE(COMPOUND4res, &got);
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* EXCHANGE_ID and CREATE_SESSION                                          */
/* ---------------------------------------------------------------------- */

static char owner_id[] = "Linux NFSv4.1 client.example.com";

static void
build_exchange_id(EXCHANGE_ID4args *ea, nfs_impl_id4 *impl)
{
	memset(ea, 0, sizeof(*ea));
	memcpy(ea->eia_clientowner.co_verifier, "verifier", NFS4_VERIFIER_SIZE);
	ea->eia_clientowner.co_ownerid.co_ownerid_len = strlen(owner_id);
	ea->eia_clientowner.co_ownerid.co_ownerid_val = owner_id;
	ea->eia_flags = EXCHGID4_FLAG_USE_PNFS_MDS |
			EXCHGID4_FLAG_SUPP_MOVED_REFER;
	ea->eia_state_protect.spa_how = SP4_MACH_CRED;
	ea->eia_state_protect.state_protect4_a_u.spa_mach_ops.spo_must_enforce
		.bitmap4_len = 2;
	ea->eia_state_protect.state_protect4_a_u.spa_mach_ops.spo_must_enforce
		.bitmap4_val = getattr_words;
	memset(impl, 0, sizeof(*impl));
	set_string(&impl->nii_domain, "kernel.org");
	set_string(&impl->nii_name, "Linux 6.12");
	impl->nii_date.seconds = 1700000000;
	ea->eia_client_impl_id.eia_client_impl_id_len = 1;
	ea->eia_client_impl_id.eia_client_impl_id_val = impl;
}

static void
test_exchange_id_round_trip(void)
{
	EXCHANGE_ID4args ea, got;
	nfs_impl_id4 impl;
	u_int len;
	char *buf;
	state_protect_ops4 *ops;

	build_exchange_id(&ea, &impl);
	buf = ENCODE(EXCHANGE_ID4args, &ea, &len);
	REQUIRE(DECODE(EXCHANGE_ID4args, &got, buf, len));
	CHECK(memcmp(got.eia_clientowner.co_verifier, "verifier", 8) == 0);
	REQUIRE(got.eia_clientowner.co_ownerid.co_ownerid_len ==
		strlen(owner_id));
	CHECK(memcmp(got.eia_clientowner.co_ownerid.co_ownerid_val, owner_id,
		     strlen(owner_id)) == 0);
	CHECK_EQ(got.eia_flags, ea.eia_flags);
	CHECK_EQ(got.eia_state_protect.spa_how, SP4_MACH_CRED);
	ops = &got.eia_state_protect.state_protect4_a_u.spa_mach_ops;
	REQUIRE(ops->spo_must_enforce.bitmap4_len == 2);
	CHECK_EQ(ops->spo_must_enforce.bitmap4_val[1], getattr_words[1]);
	CHECK_EQ(ops->spo_must_allow.bitmap4_len, 0);
	REQUIRE(got.eia_client_impl_id.eia_client_impl_id_len == 1);
	CHECK(string_is(&got.eia_client_impl_id.eia_client_impl_id_val[0]
				 .nii_name, "Linux 6.12"));
	CHECK_EQ(got.eia_client_impl_id.eia_client_impl_id_val[0]
			 .nii_date.seconds, 1700000000);
	FREE(EXCHANGE_ID4args, &got);
	free(buf);

	/*
	 * At most one implementation id (RFC 8881 section 18.35).  The encoder
	 * refuses two, so build the wire form by hand: the count is the last
	 * word of an encoding without ids, and the id bytes follow it.
	 */
	{
		u_int len0, len1;
		char *b0, *b1, *two;

		ea.eia_client_impl_id.eia_client_impl_id_len = 0;
		b0 = ENCODE(EXCHANGE_ID4args, &ea, &len0);
		ea.eia_client_impl_id.eia_client_impl_id_len = 1;
		b1 = ENCODE(EXCHANGE_ID4args, &ea, &len1);
		two = malloc(len1 + (len1 - len0));
		REQUIRE(two != NULL);
		memcpy(two, b1, len1);
		memcpy(two + len1, b1 + len0, len1 - len0);
		CHECK(DECODE(EXCHANGE_ID4args, &got, two, len1));
		FREE(EXCHANGE_ID4args, &got);
		put_be32((unsigned char *)two + len0 - 4, 2);
		CHECK(!DECODE(EXCHANGE_ID4args, &got, two,
			      len1 + (len1 - len0)));
		FREE(EXCHANGE_ID4args, &got);
		free(two);
		free(b1);
		free(b0);
	}
}

static u_int cs_gids[3] = { 100, 27, 4 };
static char gss_handle[] = "handle-from-server";

static void
build_create_session(CREATE_SESSION4args *ca, callback_sec_parms4 *sec)
{
	authsys_parms4 *sys;

	memset(ca, 0, sizeof(*ca));
	memset(sec, 0, 3 * sizeof(*sec));
	ca->csa_clientid = 0x1122334455667788ULL;
	ca->csa_sequence = 1;
	ca->csa_flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	ca->csa_fore_chan_attrs.ca_maxrequestsize = 1049620;
	ca->csa_fore_chan_attrs.ca_maxresponsesize = 1049480;
	ca->csa_fore_chan_attrs.ca_maxoperations = 8;
	ca->csa_fore_chan_attrs.ca_maxrequests = 64;
	ca->csa_back_chan_attrs.ca_maxrequestsize = 4096;
	ca->csa_back_chan_attrs.ca_maxoperations = 2;
	ca->csa_back_chan_attrs.ca_maxrequests = 16;
	ca->csa_cb_program = 0x40000000;
	ca->csa_sec_parms.csa_sec_parms_len = 3;
	ca->csa_sec_parms.csa_sec_parms_val = sec;

	sec[0].cb_secflavor = AUTH_NONE;
	sec[1].cb_secflavor = AUTH_SYS;
	sys = &sec[1].callback_sec_parms4_u.cbsp_sys_cred;
	sys->stamp = 42;
	sys->machinename = "client.example.com";
	sys->uid = 1000;
	sys->gid = 100;
	sys->gids.gids_len = 3;
	sys->gids.gids_val = cs_gids;
	sec[2].cb_secflavor = RPCSEC_GSS;
	sec[2].callback_sec_parms4_u.cbsp_gss_handles.gcbp_service =
		RPC_GSS_SVC_INTEGRITY;
	sec[2].callback_sec_parms4_u.cbsp_gss_handles.gcbp_handle_from_server
		.gsshandle4_t_len = strlen(gss_handle);
	sec[2].callback_sec_parms4_u.cbsp_gss_handles.gcbp_handle_from_server
		.gsshandle4_t_val = gss_handle;
}

static void
test_create_session_round_trip(void)
{
	CREATE_SESSION4args ca, got;
	callback_sec_parms4 sec[3];
	u_int len;
	char *buf;
	authsys_parms4 *sys;
	gss_cb_handles4 *gss;

	build_create_session(&ca, sec);
	buf = ENCODE(CREATE_SESSION4args, &ca, &len);
	REQUIRE(DECODE(CREATE_SESSION4args, &got, buf, len));
	CHECK_EQ(got.csa_clientid, 0x1122334455667788ULL);
	CHECK_EQ(got.csa_flags, CREATE_SESSION4_FLAG_CONN_BACK_CHAN);
	CHECK_EQ(got.csa_fore_chan_attrs.ca_maxrequestsize, 1049620);
	CHECK_EQ(got.csa_fore_chan_attrs.ca_maxoperations, 8);
	CHECK_EQ(got.csa_fore_chan_attrs.ca_rdma_ird.ca_rdma_ird_len, 0);
	CHECK_EQ(got.csa_back_chan_attrs.ca_maxrequests, 16);
	CHECK_EQ(got.csa_cb_program, 0x40000000);
	REQUIRE(got.csa_sec_parms.csa_sec_parms_len == 3);
	CHECK_EQ(got.csa_sec_parms.csa_sec_parms_val[0].cb_secflavor,
		 AUTH_NONE);
	CHECK_EQ(got.csa_sec_parms.csa_sec_parms_val[1].cb_secflavor,
		 AUTH_SYS);
	sys = &got.csa_sec_parms.csa_sec_parms_val[1].callback_sec_parms4_u
		       .cbsp_sys_cred;
	CHECK_EQ(sys->stamp, 42);
	CHECK(sys->machinename != NULL &&
	      strcmp(sys->machinename, "client.example.com") == 0);
	CHECK_EQ(sys->uid, 1000);
	REQUIRE(sys->gids.gids_len == 3);
	CHECK_EQ(sys->gids.gids_val[2], 4);
	gss = &got.csa_sec_parms.csa_sec_parms_val[2].callback_sec_parms4_u
		       .cbsp_gss_handles;
	CHECK_EQ(gss->gcbp_service, RPC_GSS_SVC_INTEGRITY);
	CHECK(gss->gcbp_handle_from_server.gsshandle4_t_len ==
		      strlen(gss_handle) &&
	      memcmp(gss->gcbp_handle_from_server.gsshandle4_t_val,
		     gss_handle, strlen(gss_handle)) == 0);
	CHECK_EQ(gss->gcbp_handle_from_client.gsshandle4_t_len, 0);
	FREE(CREATE_SESSION4args, &got);
	free(buf);

	/* RFC 5531 allows at most 16 supplementary gids. */
	{
		unsigned char p[4 * 6 + 4 * (NFS4_AUTHSYS_GIDS_LIMIT + 1)];
		authsys_parms4 sys1;
		int i;

		memset(p, 0, sizeof(p));
		put_be32(p, 1);			/* stamp */
		put_be32(p + 4, 1);		/* machinename length */
		p[8] = 'm';			/* + 3 bytes padding */
		put_be32(p + 12, 0);		/* uid */
		put_be32(p + 16, 0);		/* gid */
		for (i = 0; i <= NFS4_AUTHSYS_GIDS_LIMIT; i++)
			put_be32(p + 24 + 4 * i, 1000 + i);
		put_be32(p + 20, NFS4_AUTHSYS_GIDS_LIMIT);
		CHECK(DECODE(authsys_parms4, &sys1, p,
			     24 + 4 * NFS4_AUTHSYS_GIDS_LIMIT));
		CHECK_EQ(sys1.gids.gids_len, NFS4_AUTHSYS_GIDS_LIMIT);
		FREE(authsys_parms4, &sys1);
		put_be32(p + 20, NFS4_AUTHSYS_GIDS_LIMIT + 1);
		CHECK(!DECODE(authsys_parms4, &sys1, p, sizeof(p)));
		FREE(authsys_parms4, &sys1);
	}
}

/* ---------------------------------------------------------------------- */
/* CB_COMPOUND: CB_SEQUENCE + CB_LAYOUTRECALL                              */
/* ---------------------------------------------------------------------- */

static char cb_fh[] = "\x01\x00\x00\x00\x2a\x00\x00\x00\x07\x00\x00\x00";

static void
build_cb_compound(CB_COMPOUND4args *cb, nfs_cb_argop4 *ops,
		  referring_call_list4 *rcl, referring_call4 *rc)
{
	CB_SEQUENCE4args *cs;
	CB_LAYOUTRECALL4args *lr;
	layoutrecall_file4 *f;

	memset(cb, 0, sizeof(*cb));
	memset(ops, 0, 2 * sizeof(*ops));
	memset(rcl, 0, sizeof(*rcl));
	memset(rc, 0, 2 * sizeof(*rc));
	set_string(&cb->tag, "");
	cb->minorversion = 1;
	cb->callback_ident = 0;
	cb->argarray.argarray_len = 2;
	cb->argarray.argarray_val = ops;

	ops[0].argop = OP_CB_SEQUENCE;
	cs = &ops[0].nfs_cb_argop4_u.opcbsequence;
	memset(cs->csa_sessionid, 0xab, NFS4_SESSIONID_SIZE);
	cs->csa_sequenceid = 11;
	cs->csa_slotid = 0;
	cs->csa_highest_slotid = 0;
	cs->csa_cachethis = FALSE;
	memset(rcl->rcl_sessionid, 0xcd, NFS4_SESSIONID_SIZE);
	rc[0].rc_sequenceid = 99;
	rc[0].rc_slotid = 3;
	rc[1].rc_sequenceid = 100;
	rc[1].rc_slotid = 4;
	rcl->rcl_referring_calls.rcl_referring_calls_len = 2;
	rcl->rcl_referring_calls.rcl_referring_calls_val = rc;
	cs->csa_referring_call_lists.csa_referring_call_lists_len = 1;
	cs->csa_referring_call_lists.csa_referring_call_lists_val = rcl;

	ops[1].argop = OP_CB_LAYOUTRECALL;
	lr = &ops[1].nfs_cb_argop4_u.opcblayoutrecall;
	lr->clora_type = LAYOUT4_BLOCK_VOLUME;
	lr->clora_iomode = LAYOUTIOMODE4_ANY;
	lr->clora_changed = TRUE;
	lr->clora_recall.lor_recalltype = LAYOUTRECALL4_FILE;
	f = &lr->clora_recall.layoutrecall4_u.lor_layout;
	f->lor_fh.nfs_fh4_len = sizeof(cb_fh) - 1;
	f->lor_fh.nfs_fh4_val = cb_fh;
	f->lor_offset = 4096;
	f->lor_length = NFS4_UINT64_MAX;
	f->lor_stateid.seqid = 5;
	memcpy(f->lor_stateid.other, "layoutstate!", NFS4_OTHER_SIZE);
}

static void
test_cb_compound_round_trip(void)
{
	CB_COMPOUND4args cb, got;
	nfs_cb_argop4 ops[2];
	referring_call_list4 rcl;
	referring_call4 rc[2];
	u_int len;
	char *buf;
	CB_SEQUENCE4args *cs;
	CB_LAYOUTRECALL4args *lr;
	layoutrecall_file4 *f;

	build_cb_compound(&cb, ops, &rcl, rc);
	buf = ENCODE(CB_COMPOUND4args, &cb, &len);
	REQUIRE(DECODE(CB_COMPOUND4args, &got, buf, len));
	CHECK_EQ(got.tag.utf8string_len, 0);
	CHECK_EQ(got.minorversion, 1);
	REQUIRE(got.argarray.argarray_len == 2);
	CHECK_EQ(got.argarray.argarray_val[0].argop, OP_CB_SEQUENCE);
	cs = &got.argarray.argarray_val[0].nfs_cb_argop4_u.opcbsequence;
	CHECK_EQ(cs->csa_sequenceid, 11);
	CHECK_EQ((unsigned char)cs->csa_sessionid[15], 0xab);
	REQUIRE(cs->csa_referring_call_lists.csa_referring_call_lists_len
		== 1);
	{
		referring_call_list4 *l =
			cs->csa_referring_call_lists
				.csa_referring_call_lists_val;

		CHECK_EQ((unsigned char)l->rcl_sessionid[0], 0xcd);
		REQUIRE(l->rcl_referring_calls.rcl_referring_calls_len == 2);
		CHECK_EQ(l->rcl_referring_calls.rcl_referring_calls_val[1]
				 .rc_sequenceid, 100);
		CHECK_EQ(l->rcl_referring_calls.rcl_referring_calls_val[1]
				 .rc_slotid, 4);
	}
	CHECK_EQ(got.argarray.argarray_val[1].argop, OP_CB_LAYOUTRECALL);
	lr = &got.argarray.argarray_val[1].nfs_cb_argop4_u.opcblayoutrecall;
	CHECK_EQ(lr->clora_type, LAYOUT4_BLOCK_VOLUME);
	CHECK_EQ(lr->clora_iomode, LAYOUTIOMODE4_ANY);
	CHECK_EQ(lr->clora_changed, TRUE);
	CHECK_EQ(lr->clora_recall.lor_recalltype, LAYOUTRECALL4_FILE);
	f = &lr->clora_recall.layoutrecall4_u.lor_layout;
	CHECK(f->lor_fh.nfs_fh4_len == sizeof(cb_fh) - 1 &&
	      memcmp(f->lor_fh.nfs_fh4_val, cb_fh, sizeof(cb_fh) - 1) == 0);
	CHECK_EQ(f->lor_offset, 4096);
	CHECK(f->lor_length == NFS4_UINT64_MAX);
	CHECK_EQ(f->lor_stateid.seqid, 5);
	CHECK(memcmp(f->lor_stateid.other, "layoutstate!",
		     NFS4_OTHER_SIZE) == 0);
	FREE(CB_COMPOUND4args, &got);
	free(buf);
}

static void
test_cb_compound_res_round_trip(void)
{
	CB_COMPOUND4res res, got;
	nfs_cb_resop4 ops[2];
	CB_SEQUENCE4resok *ok;
	u_int len;
	char *buf;

	memset(&res, 0, sizeof(res));
	memset(ops, 0, sizeof(ops));
	res.status = NFS4ERR_DELAY;
	res.resarray.resarray_len = 2;
	res.resarray.resarray_val = ops;
	ops[0].resop = OP_CB_SEQUENCE;
	ok = &ops[0].nfs_cb_resop4_u.opcbsequence.CB_SEQUENCE4res_u
		      .csr_resok4;
	memset(ok->csr_sessionid, 0x5a, NFS4_SESSIONID_SIZE);
	ok->csr_sequenceid = 11;
	ok->csr_target_highest_slotid = 1;
	ops[1].resop = OP_CB_LAYOUTRECALL;
	ops[1].nfs_cb_resop4_u.opcblayoutrecall.clorr_status = NFS4ERR_DELAY;

	buf = ENCODE(CB_COMPOUND4res, &res, &len);
	REQUIRE(DECODE(CB_COMPOUND4res, &got, buf, len));
	CHECK_EQ(got.status, NFS4ERR_DELAY);
	REQUIRE(got.resarray.resarray_len == 2);
	CHECK_EQ(got.resarray.resarray_val[0].nfs_cb_resop4_u.opcbsequence
			 .CB_SEQUENCE4res_u.csr_resok4.csr_sequenceid, 11);
	CHECK_EQ(got.resarray.resarray_val[1].nfs_cb_resop4_u
			 .opcblayoutrecall.clorr_status, NFS4ERR_DELAY);
	FREE(CB_COMPOUND4res, &got);
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* Block layout bodies (RFC 5663)                                          */
/* ---------------------------------------------------------------------- */

static char sig_bytes[] = "PMEMNFS-VOLUME-SIGNATURE-0123";

static void
build_deviceaddr(pnfs_block_deviceaddr4 *da, pnfs_block_volume4 *vols,
		 pnfs_block_sig_component4 *sig, uint32_t *concat_idx)
{
	memset(da, 0, sizeof(*da));
	memset(vols, 0, 3 * sizeof(*vols));
	memset(sig, 0, sizeof(*sig));
	sig->bsc_sig_offset = 4096 + 512;
	sig->bsc_contents.bsc_contents_len = sizeof(sig_bytes) - 1;
	sig->bsc_contents.bsc_contents_val = sig_bytes;

	vols[0].type = PNFS_BLOCK_VOLUME_SIMPLE;
	vols[0].pnfs_block_volume4_u.bv_simple_info.bsv_ds.bsv_ds_len = 1;
	vols[0].pnfs_block_volume4_u.bv_simple_info.bsv_ds.bsv_ds_val = sig;
	vols[1].type = PNFS_BLOCK_VOLUME_SLICE;
	vols[1].pnfs_block_volume4_u.bv_slice_info.bsv_start = 1 << 20;
	vols[1].pnfs_block_volume4_u.bv_slice_info.bsv_length = 1ULL << 34;
	vols[1].pnfs_block_volume4_u.bv_slice_info.bsv_volume = 0;
	concat_idx[0] = 1;
	vols[2].type = PNFS_BLOCK_VOLUME_CONCAT;
	vols[2].pnfs_block_volume4_u.bv_concat_info.bcv_volumes
		.bcv_volumes_len = 1;
	vols[2].pnfs_block_volume4_u.bv_concat_info.bcv_volumes
		.bcv_volumes_val = concat_idx;
	da->bda_volumes.bda_volumes_len = 3;
	da->bda_volumes.bda_volumes_val = vols;
}

static void
test_block_deviceaddr_round_trip(void)
{
	pnfs_block_deviceaddr4 da, got;
	pnfs_block_volume4 vols[3];
	pnfs_block_sig_component4 sig;
	uint32_t concat_idx[1];
	pnfs_block_volume4 *v;
	u_int len;
	char *buf;

	build_deviceaddr(&da, vols, &sig, concat_idx);
	buf = ENCODE(pnfs_block_deviceaddr4, &da, &len);
	/*
	 * count; simple: type, sig count, offset(8), len, 29 bytes + 3 pad;
	 * slice: type, start(8), length(8), index; concat: type, count, index
	 */
	CHECK_EQ(len, 4 + (4 + 4 + 8 + 4 + 32) + (4 + 8 + 8 + 4) + (4 + 4 + 4));
	REQUIRE(DECODE(pnfs_block_deviceaddr4, &got, buf, len));
	REQUIRE(got.bda_volumes.bda_volumes_len == 3);
	v = got.bda_volumes.bda_volumes_val;
	CHECK_EQ(v[0].type, PNFS_BLOCK_VOLUME_SIMPLE);
	REQUIRE(v[0].pnfs_block_volume4_u.bv_simple_info.bsv_ds.bsv_ds_len
		== 1);
	{
		pnfs_block_sig_component4 *s =
			v[0].pnfs_block_volume4_u.bv_simple_info.bsv_ds
				.bsv_ds_val;

		CHECK_EQ(s->bsc_sig_offset, 4096 + 512);
		CHECK(s->bsc_contents.bsc_contents_len ==
			      sizeof(sig_bytes) - 1 &&
		      memcmp(s->bsc_contents.bsc_contents_val, sig_bytes,
			     sizeof(sig_bytes) - 1) == 0);
	}
	CHECK_EQ(v[1].type, PNFS_BLOCK_VOLUME_SLICE);
	CHECK_EQ(v[1].pnfs_block_volume4_u.bv_slice_info.bsv_length,
		 1ULL << 34);
	CHECK_EQ(v[2].type, PNFS_BLOCK_VOLUME_CONCAT);
	REQUIRE(v[2].pnfs_block_volume4_u.bv_concat_info.bcv_volumes
			.bcv_volumes_len == 1);
	CHECK_EQ(v[2].pnfs_block_volume4_u.bv_concat_info.bcv_volumes
			 .bcv_volumes_val[0], 1);
	FREE(pnfs_block_deviceaddr4, &got);
	free(buf);

	/* Negative signature offsets count from the end of the volume. */
	sig.bsc_sig_offset = -512;
	buf = ENCODE(pnfs_block_deviceaddr4, &da, &len);
	REQUIRE(DECODE(pnfs_block_deviceaddr4, &got, buf, len));
	CHECK_EQ(got.bda_volumes.bda_volumes_val[0].pnfs_block_volume4_u
			 .bv_simple_info.bsv_ds.bsv_ds_val[0].bsc_sig_offset,
		 -512);
	FREE(pnfs_block_deviceaddr4, &got);
	free(buf);
}

static void
build_layout(pnfs_block_layout4 *lo, pnfs_block_extent4 *ext, int n)
{
	int i;

	memset(lo, 0, sizeof(*lo));
	memset(ext, 0, n * sizeof(*ext));
	for (i = 0; i < n; i++) {
		memset(ext[i].bex_vol_id, 0x30 + i, NFS4_DEVICEID4_SIZE);
		ext[i].bex_file_offset = (uint64_t)i << 20;
		ext[i].bex_length = 1 << 20;
		ext[i].bex_storage_offset = ((uint64_t)i << 24) + 8192;
		ext[i].bex_state = i % 2 ? PNFS_BLOCK_INVALID_DATA :
					   PNFS_BLOCK_READ_WRITE_DATA;
	}
	lo->blo_extents.blo_extents_len = n;
	lo->blo_extents.blo_extents_val = ext;
}

static void
test_block_layout_round_trip(void)
{
	pnfs_block_layout4 lo, got;
	pnfs_block_layoutupdate4 lu, gotu;
	pnfs_block_extent4 ext[3];
	u_int len;
	char *buf;
	int i;

	build_layout(&lo, ext, 3);
	buf = ENCODE(pnfs_block_layout4, &lo, &len);
	CHECK_EQ(len, 4 + 3 * PNFS_BLOCK_EXTENT_XDR_SIZE);
	REQUIRE(DECODE(pnfs_block_layout4, &got, buf, len));
	REQUIRE(got.blo_extents.blo_extents_len == 3);
	for (i = 0; i < 3; i++) {
		pnfs_block_extent4 *e = &got.blo_extents.blo_extents_val[i];

		CHECK(memcmp(e->bex_vol_id, ext[i].bex_vol_id,
			     NFS4_DEVICEID4_SIZE) == 0);
		CHECK_EQ(e->bex_file_offset, ext[i].bex_file_offset);
		CHECK_EQ(e->bex_length, ext[i].bex_length);
		CHECK_EQ(e->bex_storage_offset, ext[i].bex_storage_offset);
		CHECK_EQ(e->bex_state, ext[i].bex_state);
	}
	FREE(pnfs_block_layout4, &got);
	free(buf);

	/* A layout update has the same wire form as a layout body. */
	memset(&lu, 0, sizeof(lu));
	lu.blu_commit_list.blu_commit_list_len = 3;
	lu.blu_commit_list.blu_commit_list_val = ext;
	buf = ENCODE(pnfs_block_layoutupdate4, &lu, &len);
	REQUIRE(DECODE(pnfs_block_layoutupdate4, &gotu, buf, len));
	CHECK_EQ(gotu.blu_commit_list.blu_commit_list_len, 3);
	CHECK_EQ(gotu.blu_commit_list.blu_commit_list_val[2].bex_state,
		 PNFS_BLOCK_READ_WRITE_DATA);
	FREE(pnfs_block_layoutupdate4, &gotu);
	free(buf);
}

/*
 * RFC 8154 SCSI device address: one base volume named by an NAA
 * designator, checked against its wire image (RFC 8154 section 2.3).
 */
static void
test_scsi_deviceaddr_wire(void)
{
	static char naa[] = "\x60\x01\x40\x50\x11\x22\x33\x44\x55\x66";
	pnfs_scsi_deviceaddr4 da, got;
	pnfs_scsi_volume4 vol;
	pnfs_scsi_base_volume_info4 *b;
	unsigned char want[64], *p = want;
	u_int len;
	char *buf;

	memset(&da, 0, sizeof(da));
	memset(&vol, 0, sizeof(vol));
	vol.type = PNFS_SCSI_VOLUME_BASE;
	b = &vol.pnfs_scsi_volume4_u.sv_simple_info;
	b->sbv_code_set = PS_CODE_SET_BINARY;
	b->sbv_designator_type = PS_DESIGNATOR_NAA;
	b->sbv_designator.sbv_designator_len = sizeof(naa) - 1;
	b->sbv_designator.sbv_designator_val = naa;
	b->sbv_pr_key = 0x0123456789abcdefULL;
	da.sda_volumes.sda_volumes_len = 1;
	da.sda_volumes.sda_volumes_val = &vol;

	memset(want, 0, sizeof(want));			/* padding is zero */
	put_be32(p, 1); p += 4;				/* sda_volumes count */
	put_be32(p, 4); p += 4;				/* PNFS_SCSI_VOLUME_BASE */
	put_be32(p, 1); p += 4;				/* PS_CODE_SET_BINARY */
	put_be32(p, 3); p += 4;				/* PS_DESIGNATOR_NAA */
	put_be32(p, sizeof(naa) - 1); p += 4;
	memcpy(p, naa, sizeof(naa) - 1); p += 12;	/* 10 bytes + 2 pad */
	put_be32(p, 0x01234567); p += 4;		/* sbv_pr_key, high */
	put_be32(p, 0x89abcdef); p += 4;		/* sbv_pr_key, low */

	buf = ENCODE(pnfs_scsi_deviceaddr4, &da, &len);
	CHECK_EQ(len, p - want);
	CHECK(len == (u_int)(p - want) && memcmp(buf, want, len) == 0);
	REQUIRE(DECODE(pnfs_scsi_deviceaddr4, &got, buf, len));
	REQUIRE(got.sda_volumes.sda_volumes_len == 1);
	b = &got.sda_volumes.sda_volumes_val[0].pnfs_scsi_volume4_u
		     .sv_simple_info;
	CHECK_EQ(b->sbv_designator_type, PS_DESIGNATOR_NAA);
	CHECK_EQ(b->sbv_pr_key, 0x0123456789abcdefULL);
	CHECK(b->sbv_designator.sbv_designator_len == sizeof(naa) - 1 &&
	      memcmp(b->sbv_designator.sbv_designator_val, naa,
		     sizeof(naa) - 1) == 0);
	FREE(pnfs_scsi_deviceaddr4, &got);
	free(buf);
}

/* ---------------------------------------------------------------------- */
/* Bounds                                                                  */
/* ---------------------------------------------------------------------- */

/*
 * A COMPOUND of n PUTROOTFH operations, encoded by hand so that the count
 * can exceed what the encoder would accept.
 */
static unsigned char *
putrootfh_compound(uint32_t count, uint32_t present, size_t *lenp)
{
	size_t len = 16 + 4 * (size_t)present;
	unsigned char *p = malloc(len);
	uint32_t i;

	REQUIRE(p != NULL);
	put_be32(p, 0);			/* empty tag */
	put_be32(p + 4, 1);		/* minorversion */
	put_be32(p + 8, count);		/* argarray count */
	for (i = 0; i < present; i++)
		put_be32(p + 12 + 4 * i, OP_PUTROOTFH);
	put_be32(p + 12 + 4 * present, 0);	/* spare word: never read */
	*lenp = len - 4;
	return p;
}

static void
test_argarray_bound(void)
{
	COMPOUND4args got;
	unsigned char *p;
	size_t len;

	/* Exactly at the bound: decodes. */
	p = putrootfh_compound(NFS4_ARGARRAY_LIMIT, NFS4_ARGARRAY_LIMIT, &len);
	CHECK(DECODE(COMPOUND4args, &got, p, len));
	CHECK_EQ(got.argarray.argarray_len, NFS4_ARGARRAY_LIMIT);
	FREE(COMPOUND4args, &got);
	free(p);

	/* One past, with every operation present: rejected by the bound. */
	p = putrootfh_compound(NFS4_ARGARRAY_LIMIT + 1,
			       NFS4_ARGARRAY_LIMIT + 1, &len);
	CHECK(!DECODE(COMPOUND4args, &got, p, len));
	CHECK(got.argarray.argarray_val == NULL);
	FREE(COMPOUND4args, &got);
	free(p);

	/* A million operations claimed in 12 bytes: no 144 MB calloc. */
	p = putrootfh_compound(1000000, 0, &len);
	CHECK(!DECODE(COMPOUND4args, &got, p, len));
	CHECK(got.argarray.argarray_val == NULL);
	FREE(COMPOUND4args, &got);
	free(p);

	p = putrootfh_compound(0xffffffffu, 0, &len);
	CHECK(!DECODE(COMPOUND4args, &got, p, len));
	FREE(COMPOUND4args, &got);
	free(p);
}

/* COMPOUND { PUTFH(fh of fh_len bytes, fh_len claimed as claim) } */
static unsigned char *
putfh_compound(uint32_t claim, uint32_t fh_len, size_t *lenp)
{
	size_t len = 24 + ((fh_len + 3) & ~3u);
	unsigned char *p = calloc(1, len);

	REQUIRE(p != NULL);
	put_be32(p, 0);
	put_be32(p + 4, 1);
	put_be32(p + 8, 1);
	put_be32(p + 12, OP_PUTFH);
	put_be32(p + 16, claim);
	memset(p + 20, 0x77, fh_len);
	*lenp = 20 + ((fh_len + 3) & ~3u);
	return p;
}

static void
test_opaque_bounds(void)
{
	COMPOUND4args got;
	unsigned char *p;
	size_t len;

	p = putfh_compound(NFS4_FHSIZE, NFS4_FHSIZE, &len);
	CHECK(DECODE(COMPOUND4args, &got, p, len));
	CHECK_EQ(got.argarray.argarray_val[0].nfs_argop4_u.opputfh.object
			 .nfs_fh4_len, NFS4_FHSIZE);
	FREE(COMPOUND4args, &got);
	free(p);

	p = putfh_compound(NFS4_FHSIZE + 1, NFS4_FHSIZE + 1, &len);
	CHECK(!DECODE(COMPOUND4args, &got, p, len));
	FREE(COMPOUND4args, &got);
	free(p);

	/* A 2 GiB opaque claimed with nothing behind it. */
	p = putfh_compound(0x7fffffff, 0, &len);
	CHECK(!DECODE(COMPOUND4args, &got, p, len));
	FREE(COMPOUND4args, &got);
	free(p);

	p = putfh_compound(0xffffffff, 0, &len);
	CHECK(!DECODE(COMPOUND4args, &got, p, len));
	FREE(COMPOUND4args, &got);
	free(p);
}

/* WRITE data and names, built with the encoder up to its own bounds. */
static void
test_write_and_name_bounds(void)
{
	COMPOUND4args args, got;
	nfs_argop4 op;
	char *data = calloc(1, NFS4_DATA_LIMIT + 4);
	char *name = calloc(1, NFS4_UTF8STR_LIMIT + 4);
	char *buf;
	u_int len;
	XDR x;

	REQUIRE(data != NULL && name != NULL);
	memset(&args, 0, sizeof(args));
	memset(&op, 0, sizeof(op));
	args.minorversion = 1;
	args.argarray.argarray_len = 1;
	args.argarray.argarray_val = &op;

	op.argop = OP_WRITE;
	op.nfs_argop4_u.opwrite.stable = FILE_SYNC4;
	op.nfs_argop4_u.opwrite.data.data_len = NFS4_DATA_LIMIT;
	op.nfs_argop4_u.opwrite.data.data_val = data;
	buf = ENCODE(COMPOUND4args, &args, &len);
	CHECK(DECODE(COMPOUND4args, &got, buf, len));
	CHECK_EQ(got.argarray.argarray_val[0].nfs_argop4_u.opwrite.data
			 .data_len, NFS4_DATA_LIMIT);
	FREE(COMPOUND4args, &got);
	free(buf);

	/* The encoder refuses to exceed a bound too. */
	op.nfs_argop4_u.opwrite.data.data_len = NFS4_DATA_LIMIT + 1;
	buf = calloc(1, BUF_SIZE);
	REQUIRE(buf != NULL);
	xdrmem_create(&x, buf, BUF_SIZE, XDR_ENCODE);
	CHECK(!xdr_COMPOUND4args(&x, &args));
	xdr_destroy(&x);
	free(buf);

	op.argop = OP_LOOKUP;
	memset(name, 'n', NFS4_UTF8STR_LIMIT);
	op.nfs_argop4_u.oplookup.objname.utf8string_len = NFS4_UTF8STR_LIMIT;
	op.nfs_argop4_u.oplookup.objname.utf8string_val = name;
	buf = ENCODE(COMPOUND4args, &args, &len);
	CHECK(DECODE(COMPOUND4args, &got, buf, len));
	FREE(COMPOUND4args, &got);
	/* Patch the length to one past the bound: rejected. */
	put_be32((unsigned char *)buf + 16, NFS4_UTF8STR_LIMIT + 1);
	CHECK(!DECODE(COMPOUND4args, &got, buf, len));
	FREE(COMPOUND4args, &got);
	free(buf);
	free(data);
	free(name);
}

static void
test_bitmap_bound(void)
{
	unsigned char p[16 + 4 + 4 + 4 * (NFS4_BITMAP_LIMIT + 1)];
	COMPOUND4args got;
	size_t len;
	int i;

	memset(p, 0, sizeof(p));
	put_be32(p + 8, 1);
	put_be32(p + 12, OP_GETATTR);
	for (i = 0; i <= NFS4_BITMAP_LIMIT; i++)
		put_be32(p + 20 + 4 * i, 0xffffffff);

	put_be32(p + 16, NFS4_BITMAP_LIMIT);
	len = 20 + 4 * NFS4_BITMAP_LIMIT;
	CHECK(DECODE(COMPOUND4args, &got, p, len));
	FREE(COMPOUND4args, &got);

	put_be32(p + 16, NFS4_BITMAP_LIMIT + 1);
	len = 20 + 4 * (NFS4_BITMAP_LIMIT + 1);
	CHECK(!DECODE(COMPOUND4args, &got, p, len));
	FREE(COMPOUND4args, &got);
}

static void
test_unknown_op_decodes(void)
{
	unsigned char p[20];
	COMPOUND4args got;

	/* An undefined operation number decodes (as no arguments) so that the
	 * server can answer NFS4ERR_OP_ILLEGAL rather than GARBAGE_ARGS. */
	put_be32(p, 0);
	put_be32(p + 4, 1);
	put_be32(p + 8, 1);
	put_be32(p + 12, 9999);
	REQUIRE(DECODE(COMPOUND4args, &got, p, 16));
	CHECK_EQ(got.argarray.argarray_val[0].argop, 9999);
	FREE(COMPOUND4args, &got);

	/* The same holds for callbacks (RFC 8881 section 20: CB_ILLEGAL). */
	{
		unsigned char q[20];
		CB_COMPOUND4args cb;

		put_be32(q, 0);			/* tag */
		put_be32(q + 4, 1);		/* minorversion */
		put_be32(q + 8, 0);		/* callback_ident */
		put_be32(q + 12, 1);		/* argarray count */
		put_be32(q + 16, 77);		/* undefined callback op */
		REQUIRE(DECODE(CB_COMPOUND4args, &cb, q, 20));
		CHECK_EQ(cb.argarray.argarray_val[0].argop, 77);
		FREE(CB_COMPOUND4args, &cb);
	}

	/* ... but a result may only carry a defined operation. */
	{
		COMPOUND4res res;

		put_be32(p, NFS4ERR_OP_ILLEGAL);
		put_be32(p + 4, 0);
		put_be32(p + 8, 1);
		put_be32(p + 12, 9999);
		put_be32(p + 16, NFS4ERR_OP_ILLEGAL);
		CHECK(!DECODE(COMPOUND4res, &res, p, 20));
		FREE(COMPOUND4res, &res);
	}
}

/* ---------------------------------------------------------------------- */
/* Truncated and mutated input                                             */
/* ---------------------------------------------------------------------- */

enum seed_type {
	SEED_COMPOUND_ARGS,
	SEED_COMPOUND_RES,
	SEED_EXCHANGE_ID,
	SEED_CREATE_SESSION,
	SEED_CB_COMPOUND,
	SEED_DEVICEADDR,
	SEED_LAYOUT,
	SEED_READDIR_RES,
	SEED_COUNT
};

struct seed {
	enum seed_type	type;
	char		*buf;
	u_int		len;
};

/*
 * Decode buf as the seed's type, re-encode a successful result (the
 * decoder must have produced something the encoder accepts), and free.
 * Returns whether decoding succeeded.
 */
static int
decode_as(enum seed_type type, const char *buf, u_int len, char *scratch)
{
	XDR x;
	int ok = 0;

#define DECODE_CHECK(t) do { \
	t obj; \
	ok = DECODE(t, &obj, buf, len); \
	if (ok) { \
		xdrmem_create(&x, scratch, BUF_SIZE, XDR_ENCODE); \
		CHECK(xdr_##t(&x, &obj)); \
		xdr_destroy(&x); \
	} \
	FREE(t, &obj); \
} while (0)

	switch (type) {
	case SEED_COMPOUND_ARGS:
		DECODE_CHECK(COMPOUND4args);
		break;
	case SEED_COMPOUND_RES:
	case SEED_READDIR_RES:
		DECODE_CHECK(COMPOUND4res);
		break;
	case SEED_EXCHANGE_ID:
		DECODE_CHECK(EXCHANGE_ID4args);
		break;
	case SEED_CREATE_SESSION:
		DECODE_CHECK(CREATE_SESSION4args);
		break;
	case SEED_CB_COMPOUND:
		DECODE_CHECK(CB_COMPOUND4args);
		break;
	case SEED_DEVICEADDR:
		DECODE_CHECK(pnfs_block_deviceaddr4);
		break;
	case SEED_LAYOUT:
		DECODE_CHECK(pnfs_block_layout4);
		break;
	case SEED_COUNT:
		break;
	}
#undef DECODE_CHECK
	return ok;
}

/* A READDIR reply with a few entries, for the mutation seeds. */
static char *
readdir_res_seed(u_int *lenp)
{
	COMPOUND4res res;
	nfs_resop4 op;
	entry4 e[3];
	READDIR4resok *ok;
	char *buf;
	int i;

	memset(&res, 0, sizeof(res));
	memset(&op, 0, sizeof(op));
	memset(e, 0, sizeof(e));
	res.resarray.resarray_len = 1;
	res.resarray.resarray_val = &op;
	op.resop = OP_READDIR;
	ok = &op.nfs_resop4_u.opreaddir.READDIR4res_u.resok4;
	for (i = 0; i < 3; i++) {
		e[i].cookie = i + 3;
		set_string(&e[i].name, i == 1 ? "second" : "x");
		e[i].attrs.attrmask.bitmap4_len = 1;
		e[i].attrs.attrmask.bitmap4_val = getattr_words;
		e[i].attrs.attr_vals.attrlist4_len = 12;
		e[i].attrs.attr_vals.attrlist4_val = attr_bytes;
		e[i].nextentry = i < 2 ? &e[i + 1] : NULL;
	}
	ok->reply.entries = e;
	ok->reply.eof = TRUE;
	buf = ENCODE(COMPOUND4res, &res, lenp);
	return buf;
}

static void
make_seeds(struct seed *seeds)
{
	COMPOUND4args args;
	nfs_argop4 aops[3];
	COMPOUND4res res;
	nfs_resop4 rops[3];
	EXCHANGE_ID4args ea;
	nfs_impl_id4 impl;
	CREATE_SESSION4args ca;
	callback_sec_parms4 sec[3];
	CB_COMPOUND4args cb;
	nfs_cb_argop4 cops[2];
	referring_call_list4 rcl;
	referring_call4 rc[2];
	pnfs_block_deviceaddr4 da;
	pnfs_block_volume4 vols[3];
	pnfs_block_sig_component4 sig;
	uint32_t concat_idx[1];
	pnfs_block_layout4 lo;
	pnfs_block_extent4 ext[3];
	struct seed *s = seeds;

	build_compound_args(&args, aops);
	s->type = SEED_COMPOUND_ARGS;
	s->buf = ENCODE(COMPOUND4args, &args, &s->len);
	s++;
	build_compound_res(&res, rops);
	s->type = SEED_COMPOUND_RES;
	s->buf = ENCODE(COMPOUND4res, &res, &s->len);
	s++;
	build_exchange_id(&ea, &impl);
	s->type = SEED_EXCHANGE_ID;
	s->buf = ENCODE(EXCHANGE_ID4args, &ea, &s->len);
	s++;
	build_create_session(&ca, sec);
	s->type = SEED_CREATE_SESSION;
	s->buf = ENCODE(CREATE_SESSION4args, &ca, &s->len);
	s++;
	build_cb_compound(&cb, cops, &rcl, rc);
	s->type = SEED_CB_COMPOUND;
	s->buf = ENCODE(CB_COMPOUND4args, &cb, &s->len);
	s++;
	build_deviceaddr(&da, vols, &sig, concat_idx);
	s->type = SEED_DEVICEADDR;
	s->buf = ENCODE(pnfs_block_deviceaddr4, &da, &s->len);
	s++;
	build_layout(&lo, ext, 3);
	s->type = SEED_LAYOUT;
	s->buf = ENCODE(pnfs_block_layout4, &lo, &s->len);
	s++;
	s->type = SEED_READDIR_RES;
	s->buf = readdir_res_seed(&s->len);
}

static void
free_seeds(struct seed *seeds)
{
	int i;

	for (i = 0; i < SEED_COUNT; i++)
		free(seeds[i].buf);
}

/* Every proper prefix of every seed must fail to decode, and not leak. */
static void
test_truncated(void)
{
	struct seed seeds[SEED_COUNT];
	char *scratch = malloc(BUF_SIZE);
	u_int cut;
	int i;

	REQUIRE(scratch != NULL);
	make_seeds(seeds);
	for (i = 0; i < SEED_COUNT; i++) {
		CHECK(decode_as(seeds[i].type, seeds[i].buf, seeds[i].len,
				scratch));
		for (cut = 0; cut < seeds[i].len; cut++) {
			/* Copy so that ASan sees reads past the cut. */
			char *p = malloc(cut ? cut : 1);

			REQUIRE(p != NULL);
			memcpy(p, seeds[i].buf, cut);
			if (decode_as(seeds[i].type, p, cut, scratch)) {
				fprintf(stderr, "seed %d: %u of %u bytes "
					"decoded\n", i, cut, seeds[i].len);
				CHECK(0);
			}
			free(p);
		}
	}
	free_seeds(seeds);
	free(scratch);
}

/* Values that probe lengths, counts and discriminants. */
static uint32_t
interesting_word(u_int len)
{
	static const uint32_t words[] = {
		0, 1, 2, 3, 4, 0x7fffffff, 0x80000000, 0xffffffff,
		0xfffffffe, 1000000, NFS4_ARGARRAY_LIMIT,
		NFS4_ARGARRAY_LIMIT + 1, NFS4_FHSIZE + 1, NFS4_DATA_LIMIT,
		NFS4_DATA_LIMIT + 1, OP_ILLEGAL, OP_SEQUENCE, OP_READDIR,
		NFS4ERR_DENIED, 65536,
	};
	uint32_t r = rng_next();

	if (r % 4 == 0)
		return len + (rng_next() % 16);
	if (r % 4 == 1)
		return rng_next();
	return words[rng_next() % (sizeof(words) / sizeof(words[0]))];
}

/*
 * Mutate seeds (overwrite words with interesting values, flip bits, cut or
 * extend) and decode them.  Under ASan this is where an unbounded
 * allocation or a read past the buffer would show; here we also count how
 * often a mutant still decoded, so the test cannot pass by rejecting
 * everything.
 */
static void
test_mutations(void)
{
	struct seed seeds[SEED_COUNT];
	char *scratch = malloc(BUF_SIZE);
	const char *long_mode = getenv("XDR_TEST_LONG");
	int rounds = long_mode && *long_mode == '1' ? FUZZ_ROUNDS_LONG :
						    FUZZ_ROUNDS_SHORT;
	unsigned decoded = 0, total = 0;
	int i, r;

	REQUIRE(scratch != NULL);
	make_seeds(seeds);
	for (i = 0; i < SEED_COUNT; i++) {
		for (r = 0; r < rounds; r++) {
			u_int len = seeds[i].len;
			u_int cap = len + 64;
			unsigned char *p = malloc(cap);
			int m, nmut = 1 + rng_next() % 3;

			REQUIRE(p != NULL);
			memcpy(p, seeds[i].buf, len);
			memset(p + len, 0, cap - len);
			for (m = 0; m < nmut; m++) {
				u_int at = (rng_next() % (seeds[i].len / 4)) * 4;

				switch (rng_next() % 4) {
				case 0:
				case 1:
					put_be32(p + at, interesting_word(
						seeds[i].len - at));
					break;
				case 2:
					p[rng_next() % seeds[i].len] ^=
						1u << (rng_next() % 8);
					break;
				case 3:
					len = rng_next() % (cap + 1);
					break;
				}
			}
			if (len > cap)
				len = cap;
			decoded += decode_as(seeds[i].type, (char *)p, len,
					     scratch);
			total++;
			free(p);
		}
	}
	fprintf(stderr, "mutations: %u of %u decoded\n", decoded, total);
	/* Some mutants (changed values, not lengths) must still decode. */
	CHECK(decoded > 0);
	CHECK(decoded < total);
	free_seeds(seeds);
	free(scratch);
}

/* ---------------------------------------------------------------------- */
/* READDIR entry chains                                                    */
/* ---------------------------------------------------------------------- */

static void
test_dirlist_matches_rpcgen(void)
{
	dirlist4 dl, got;
	entry4 e[5];
	char names[5][8];
	char *a = calloc(1, 4096), *b = calloc(1, 4096);
	u_int la, lb;
	XDR x;
	int i;

	REQUIRE(a != NULL && b != NULL);
	memset(e, 0, sizeof(e));
	for (i = 0; i < 5; i++) {
		snprintf(names[i], sizeof(names[i]), "n%d", i * 111);
		e[i].cookie = 100 + i;
		set_string(&e[i].name, names[i]);
		e[i].attrs.attrmask.bitmap4_len = 2;
		e[i].attrs.attrmask.bitmap4_val = getattr_words;
		e[i].nextentry = i < 4 ? &e[i + 1] : NULL;
	}
	dl.entries = e;
	dl.eof = TRUE;

	xdrmem_create(&x, a, 4096, XDR_ENCODE);
	REQUIRE(xdr_dirlist4(&x, &dl));
	la = xdr_getpos(&x);
	xdr_destroy(&x);
	xdrmem_create(&x, b, 4096, XDR_ENCODE);
	REQUIRE(xdr_dirlist4_recursive(&x, &dl));
	lb = xdr_getpos(&x);
	xdr_destroy(&x);
	CHECK_EQ(la, lb);
	CHECK(la == lb && memcmp(a, b, la) == 0);

	/* Each decoder accepts the other's bytes. */
	REQUIRE(DECODE(dirlist4, &got, b, lb));
	{
		entry4 *g = got.entries;

		for (i = 0; i < 5 && g != NULL; i++, g = g->nextentry) {
			CHECK_EQ(g->cookie, 100 + i);
			CHECK(string_is(&g->name, names[i]));
		}
		CHECK_EQ(i, 5);
		CHECK(g == NULL);
	}
	CHECK_EQ(got.eof, TRUE);
	FREE(dirlist4, &got);
	CHECK(got.entries == NULL);

	memset(&got, 0, sizeof(got));
	xdrmem_create(&x, a, la, XDR_DECODE);
	CHECK(xdr_dirlist4_recursive(&x, &got));
	xdr_destroy(&x);
	FREE(dirlist4, &got);

	/* An empty list is just two FALSE words' worth: FALSE, eof. */
	dl.entries = NULL;
	dl.eof = FALSE;
	xdrmem_create(&x, a, 4096, XDR_ENCODE);
	REQUIRE(xdr_dirlist4(&x, &dl));
	CHECK_EQ(xdr_getpos(&x), 8);
	xdr_destroy(&x);
	free(a);
	free(b);
}

struct dirlist_job {
	char	*buf;
	u_int	len;
	int	entries_seen;
	int	ok;
};

/*
 * Encode, decode and free DIRLIST_ENTRIES entries on a small stack.  The
 * chain is built in chunks so that no single allocation of the test itself
 * trips the sanitizer build's allocation cap.
 */
#define DIRLIST_CHUNK		1000

static void *
dirlist_big_thread(void *arg)
{
	struct dirlist_job *job = arg;
	entry4 *chunks[DIRLIST_ENTRIES / DIRLIST_CHUNK] = { NULL };
	entry4 *prev = NULL;
	dirlist4 dl, got;
	entry4 *g;
	XDR x;
	int c, i;

	dl.entries = NULL;
	dl.eof = TRUE;
	for (c = 0; c < DIRLIST_ENTRIES / DIRLIST_CHUNK; c++) {
		chunks[c] = calloc(DIRLIST_CHUNK, sizeof(entry4));
		if (chunks[c] == NULL)
			goto out_free_chunks;
		for (i = 0; i < DIRLIST_CHUNK; i++) {
			entry4 *e = &chunks[c][i];

			e->cookie = (uint64_t)c * DIRLIST_CHUNK + i + 3;
			set_string(&e->name, "f");
			if (prev != NULL)
				prev->nextentry = e;
			else
				dl.entries = e;
			prev = e;
		}
	}
	xdrmem_create(&x, job->buf, job->len, XDR_ENCODE);
	job->ok = xdr_dirlist4(&x, &dl);
	job->len = xdr_getpos(&x);
	xdr_destroy(&x);
	if (!job->ok)
		goto out_free_chunks;

	memset(&got, 0, sizeof(got));
	xdrmem_create(&x, job->buf, job->len, XDR_DECODE);
	job->ok = xdr_dirlist4(&x, &got);
	xdr_destroy(&x);
	for (g = got.entries; g != NULL; g = g->nextentry) {
		if (g->cookie != (uint64_t)job->entries_seen + 3)
			job->ok = 0;
		job->entries_seen++;
	}
	x.x_op = XDR_FREE;
	(void)xdr_dirlist4(&x, &got);
out_free_chunks:
	for (c = 0; c < DIRLIST_ENTRIES / DIRLIST_CHUNK; c++)
		free(chunks[c]);
	return NULL;
}

static void
test_dirlist_no_recursion(void)
{
	struct dirlist_job job = { 0 };
	pthread_attr_t attr;
	pthread_t t;
	/* per entry: more, cookie(8), name len + 1 byte padded, 2 counts */
	size_t need = (size_t)DIRLIST_ENTRIES * (4 + 8 + 8 + 4 + 4) + 8;

	job.buf = malloc(need);
	job.len = need;
	REQUIRE(job.buf != NULL);
	REQUIRE(pthread_attr_init(&attr) == 0);
	REQUIRE(pthread_attr_setstacksize(&attr, DIRLIST_STACK) == 0);
	REQUIRE(pthread_create(&t, &attr, dirlist_big_thread, &job) == 0);
	REQUIRE(pthread_join(t, NULL) == 0);
	pthread_attr_destroy(&attr);
	CHECK(job.ok);
	CHECK_EQ(job.len, need);
	CHECK_EQ(job.entries_seen, DIRLIST_ENTRIES);
	free(job.buf);
}

int
main(void)
{
	TEST_RUN(test_compound_args_round_trip);
	TEST_RUN(test_compound_res_round_trip);
	TEST_RUN(test_exchange_id_round_trip);
	TEST_RUN(test_create_session_round_trip);
	TEST_RUN(test_cb_compound_round_trip);
	TEST_RUN(test_cb_compound_res_round_trip);
	TEST_RUN(test_block_deviceaddr_round_trip);
	TEST_RUN(test_block_layout_round_trip);
	TEST_RUN(test_scsi_deviceaddr_wire);
	TEST_RUN(test_argarray_bound);
	TEST_RUN(test_opaque_bounds);
	TEST_RUN(test_write_and_name_bounds);
	TEST_RUN(test_bitmap_bound);
	TEST_RUN(test_unknown_op_decodes);
	TEST_RUN(test_truncated);
	TEST_RUN(test_mutations);
	TEST_RUN(test_dirlist_matches_rpcgen);
	TEST_RUN(test_dirlist_no_recursion);
	TEST_EXIT();
}
