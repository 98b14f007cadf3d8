/*
 * test_fsvc_io.c - the data operations end to end against a running
 * pmemnfsd: READ, WRITE, COMMIT (RFC 8881 §18.22, §18.32, §18.3), the
 * NFSv4.2 operations (RFC 7862 §15: SEEK, ALLOCATE, DEALLOCATE, CLONE,
 * COPY, READ_PLUS and the declined ones), extended attributes (RFC 8276
 * §8), the write verifier across a restart, and a READ racing a truncate
 * from another client that must never see blocks reused by another file.
 *
 * Each test names the RFC rule it enforces.  IO_TEST_LONG=1 runs the race
 * ten times longer.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "harness.h"
#include "rpc.h"
#include "../testlib.h"

/* The server's READ/WRITE cap (io_ops.c IO_MAX_RW). */
#define IO_MAX			(1024u * 1024u)
#define RACE_NS			(2 * NSEC_PER_SEC)
#define RACE_FILE_BYTES		(256u * 1024u)
#define PAT_A			0xa5
#define PAT_B			0x3c
/*
 * How long a pin may outlive the READ reply that held it: it is dropped
 * when the server's socket has taken the bytes, a moment after the client
 * got them (a generous bound for sanitizer and valgrind builds).
 */
#define PIN_DRAIN_NS		(10 * NSEC_PER_SEC)
#define PIN_POLL_NS		(5 * NSEC_PER_MSEC)
/*
 * The largest READ the server runs on its event loop (include/nfs4.h
 * NFS4_INLINE_READ_MAX); main() turns inline calls on (rpc.inline).
 */
#define INLINE_READ_MAX		(64u * 1024)

static struct h_server srv;
static struct nc_conn *conn;
static struct nc_session *ses;

struct file {
	nfs_fh4		fh;
	char		fh_buf[NFS4_FHSIZE];
	stateid4	sid;
};

/* Run [SEQUENCE + ops] and return the COMPOUND status (-1: transport). */
static int
run_on(struct nc_session *s, struct nc_compound *cp, COMPOUND4res *res)
{
	int err = nc_session_compound(s, cp, 0, res, NULL);

	if (err) {
		fprintf(stderr, "compound %s: transport error %d\n",
			cp->args.tag.utf8string_val ?
			cp->args.tag.utf8string_val : "", err);
		memset(res, 0, sizeof(*res));
		return -1;
	}
	return res->status;
}

static int
run(struct nc_compound *cp, COMPOUND4res *res)
{
	return run_on(ses, cp, res);
}

static void
done(COMPOUND4res *res)
{
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, res);
}

/* The result of op n (0 is SEQUENCE). */
static nfs_resop4 *
op_res(COMPOUND4res *res, unsigned n)
{
	REQUIRE(n < res->resarray.resarray_len);
	return &res->resarray.resarray_val[n];
}

static void
put_fh(struct nc_compound *cp, const struct file *f)
{
	nfs_argop4 *a = nc_compound_add(cp, OP_PUTFH);

	a->nfs_argop4_u.opputfh.object = f->fh;
}

/*
 * A new client's RECLAIM_COMPLETE (RFC 8881 §18.51): it has nothing to
 * reclaim, so its non-reclaim OPENs are not held back by the grace period.
 */
static void
reclaim_complete(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;

	/* Exports take AUTH_SYS (AUTH_NONE is NFS4ERR_WRONGSEC, §2.6.3.1). */
	REQUIRE(nc_conn_set_auth_sys(nc_session_conn(s), 0, 0) == 0);
	nc_session_compound_init(&cp, "reclaim-complete");
	nc_compound_add(&cp, OP_RECLAIM_COMPLETE)->nfs_argop4_u
		.opreclaim_complete.rca_one_fs = FALSE;
	REQUIRE(run_on(s, &cp, &res) == NFS4_OK);
	done(&res);
}

/* A compound for NFSv4.2 operations. */
static void
init42(struct nc_compound *cp, const char *tag)
{
	nc_session_compound_init(cp, tag);
	cp->args.minorversion = 2;
}

/*
 * OPEN name under the root with access (create if create) for open-owner
 * owner; fills f.  Returns the compound status.
 */
static int
open_owner_on(struct nc_session *s, const char *name, const char *owner,
	      uint32_t access, bool create, struct file *f)
{
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN4args *o;
	int st;

	memset(f, 0, sizeof(*f));
	nc_session_compound_init(&cp, "open");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = access | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = nc_session_info(s)->clientid;
	o->owner.owner.owner_val = (char *)owner;
	o->owner.owner.owner_len = strlen(owner);
	o->openhow.opentype = create ? OPEN4_CREATE : OPEN4_NOCREATE;
	o->openhow.openflag4_u.how.mode = UNCHECKED4;
	o->claim.claim = CLAIM_NULL;
	o->claim.open_claim4_u.file.utf8string_val = (char *)name;
	o->claim.open_claim4_u.file.utf8string_len = strlen(name);
	REQUIRE(nc_compound_add(&cp, OP_GETFH));
	st = run_on(s, &cp, &res);
	if (st == NFS4_OK) {
		GETFH4resok *fh = &op_res(&res, 3)->nfs_resop4_u.opgetfh
					   .GETFH4res_u.resok4;

		f->sid = op_res(&res, 2)->nfs_resop4_u.opopen.OPEN4res_u
				 .resok4.stateid;
		REQUIRE(fh->object.nfs_fh4_len <= NFS4_FHSIZE);
		memcpy(f->fh_buf, fh->object.nfs_fh4_val,
		       fh->object.nfs_fh4_len);
		f->fh.nfs_fh4_val = f->fh_buf;
		f->fh.nfs_fh4_len = fh->object.nfs_fh4_len;
	}
	done(&res);
	return st;
}

/* OPEN with the file's name as its open-owner. */
static int
open_file_on(struct nc_session *s, const char *name, uint32_t access,
	     bool create, struct file *f)
{
	return open_owner_on(s, name, name, access, create, f);
}

static void
create_file(const char *name, struct file *f)
{
	int st = open_file_on(ses, name, OPEN4_SHARE_ACCESS_BOTH, true, f);

	if (st != NFS4_OK)
		fprintf(stderr, "OPEN %s: status %d\n", name, st);
	REQUIRE(st == NFS4_OK);
}

/* WRITE; returns the status, *ok (may be NULL) the result. */
static int
write_on(struct nc_session *s, const struct file *f, uint64_t off,
	 const void *buf, uint32_t len, stable_how4 how, WRITE4resok *ok)
{
	struct nc_compound cp;
	COMPOUND4res res;
	WRITE4args *w;
	int st;

	nc_session_compound_init(&cp, "write");
	put_fh(&cp, f);
	w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
	w->stateid = f->sid;
	w->offset = off;
	w->stable = how;
	w->data.data_val = (char *)buf;
	w->data.data_len = len;
	st = run_on(s, &cp, &res);
	if (st == NFS4_OK && ok)
		*ok = op_res(&res, 2)->nfs_resop4_u.opwrite.WRITE4res_u.resok4;
	done(&res);
	return st;
}

static int
write_file(const struct file *f, uint64_t off, const void *buf, uint32_t len,
	   stable_how4 how, WRITE4resok *ok)
{
	return write_on(ses, f, off, buf, len, how, ok);
}

/*
 * READ into buf (cap bytes); *len and *eof.  Returns the status.
 */
static int
read_on(struct nc_session *s, const struct file *f, const stateid4 *sid,
	uint64_t off, uint32_t count, void *buf, uint32_t cap, uint32_t *len,
	bool *eof)
{
	struct nc_compound cp;
	COMPOUND4res res;
	READ4args *r;
	int st;

	nc_session_compound_init(&cp, "read");
	put_fh(&cp, f);
	r = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
	r->stateid = *sid;
	r->offset = off;
	r->count = count;
	st = run_on(s, &cp, &res);
	if (st == NFS4_OK) {
		READ4resok *ok = &op_res(&res, 2)->nfs_resop4_u.opread
					  .READ4res_u.resok4;

		*len = ok->data.data_len;
		*eof = ok->eof;
		REQUIRE(*len <= cap);
		if (*len)
			memcpy(buf, ok->data.data_val, *len);
	}
	done(&res);
	return st;
}

static int
read_file(const struct file *f, uint64_t off, uint32_t count, void *buf,
	  uint32_t cap, uint32_t *len, bool *eof)
{
	return read_on(ses, f, &f->sid, off, count, buf, cap, len, eof);
}

static int
commit_file(const struct file *f, uint64_t off, uint32_t count,
	    verifier4 verf)
{
	struct nc_compound cp;
	COMPOUND4res res;
	COMMIT4args *c;
	int st;

	nc_session_compound_init(&cp, "commit");
	put_fh(&cp, f);
	c = &nc_compound_add(&cp, OP_COMMIT)->nfs_argop4_u.opcommit;
	c->offset = off;
	c->count = count;
	st = run(&cp, &res);
	if (st == NFS4_OK && verf)
		memcpy(verf, op_res(&res, 2)->nfs_resop4_u.opcommit
			       .COMMIT4res_u.resok4.writeverf,
		       NFS4_VERIFIER_SIZE);
	done(&res);
	return st;
}

static bool
all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * §18.32.3 / §18.22.3: an UNSTABLE write is acknowledged with the
 * verifier; a READ returns what was written with eof exactly when the
 * read reaches the end; a read at or past EOF returns no data and eof;
 * holes read as zeros; COMMIT returns the same verifier (§18.3.3).
 */
static void
test_write_read_commit(void)
{
	static uint8_t buf[200000], out[300000];
	struct file f;
	WRITE4resok w1, w2;
	verifier4 cv;
	uint32_t len;
	bool eof;

	create_file("io-rw", &f);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	CHECK_EQ(write_file(&f, 0, buf, sizeof(buf), UNSTABLE4, &w1), NFS4_OK);
	CHECK_EQ(w1.count, sizeof(buf));
	CHECK_EQ(w1.committed, UNSTABLE4);

	CHECK_EQ(read_file(&f, 0, sizeof(out), out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, sizeof(buf));
	CHECK(eof);
	CHECK(memcmp(out, buf, sizeof(buf)) == 0);

	CHECK_EQ(read_file(&f, 1000, 5000, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, 5000);
	CHECK(!eof);
	CHECK(memcmp(out, buf + 1000, 5000) == 0);

	/* The read that ends exactly at EOF. */
	CHECK_EQ(read_file(&f, sizeof(buf) - 100, 100, out, sizeof(out), &len,
			   &eof), NFS4_OK);
	CHECK_EQ(len, 100);
	CHECK(eof);

	CHECK_EQ(read_file(&f, sizeof(buf), 100, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, 0);
	CHECK(eof);
	CHECK_EQ(read_file(&f, 1ull << 40, 100, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, 0);
	CHECK(eof);

	/* A FILE_SYNC write past EOF leaves a hole that reads as zeros. */
	CHECK_EQ(write_file(&f, 250000, "tail", 4, FILE_SYNC4, &w2), NFS4_OK);
	CHECK_EQ(w2.committed, FILE_SYNC4);
	CHECK_EQ(w2.count, 4);
	CHECK(memcmp(w1.writeverf, w2.writeverf, NFS4_VERIFIER_SIZE) == 0);
	CHECK_EQ(read_file(&f, 190000, 100000, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, 250004 - 190000);
	CHECK(eof);
	CHECK(memcmp(out, buf + 190000, 10000) == 0);
	CHECK(all_bytes(out + 10000, 50000, 0));
	CHECK(memcmp(out + 60000, "tail", 4) == 0);

	CHECK_EQ(commit_file(&f, 0, 0, cv), NFS4_OK);
	CHECK(memcmp(cv, w1.writeverf, NFS4_VERIFIER_SIZE) == 0);
	CHECK_EQ(commit_file(&f, 100, 1000, cv), NFS4_OK);
	CHECK(memcmp(cv, w1.writeverf, NFS4_VERIFIER_SIZE) == 0);
	/* §18.3.3: offset + count beyond 2^64 is NFS4ERR_INVAL. */
	CHECK_EQ(commit_file(&f, UINT64_MAX - 10, 100, NULL), NFS4ERR_INVAL);
}

/*
 * §18.22.3: the server may return fewer bytes than asked: never more
 * than its maxread (1 MiB) nor what the session's ca_maxresponsesize
 * leaves, however large count is.
 */
static void
test_read_cap(void)
{
	static uint8_t buf[IO_MAX], out[IO_MAX];
	struct file f;
	WRITE4resok w;
	uint32_t len;
	bool eof;

	create_file("io-cap", &f);
	memset(buf, 0x42, sizeof(buf));
	CHECK_EQ(write_file(&f, 0, buf, sizeof(buf), UNSTABLE4, &w), NFS4_OK);
	CHECK_EQ(write_file(&f, IO_MAX, buf, sizeof(buf), UNSTABLE4, &w),
		 NFS4_OK);
	CHECK_EQ(read_file(&f, 0, 8u * IO_MAX, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK(len > 0);
	CHECK(len <= IO_MAX);
	CHECK(len + 1024 <= nc_session_info(ses)->fore.ca_maxresponsesize);
	CHECK(!eof);
	CHECK(all_bytes(out, len, 0x42));
}

/*
 * §18.22.3 with §2.10.6.4: in a session with a small ca_maxresponsesize a
 * large READ returns what fits (a prefix of the data, eof FALSE) instead
 * of failing with NFS4ERR_REP_TOO_BIG.
 */
static void
test_read_small_session(void)
{
	static uint8_t buf[8192], out[8192];
	struct nc_session_opts o;
	struct nc_conn *c;
	struct nc_session *s;
	struct file f;
	uint32_t len, max;
	bool eof;

	create_file("io-small", &f);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 13);
	CHECK_EQ(write_file(&f, 0, buf, sizeof(buf), FILE_SYNC4, NULL),
		 NFS4_OK);
	nc_session_opts_init(&o);
	o.fore.ca_maxresponsesize = 1024;
	o.fore.ca_maxresponsesize_cached = 1024;
	REQUIRE(h_session(&srv, h_owner("io-small"), &o, &c, &s) == 0);
	reclaim_complete(s);
	max = nc_session_info(s)->fore.ca_maxresponsesize;
	CHECK(max <= 1024);
	/* Another client without an open: the anonymous stateid. */
	memset(&f.sid, 0, sizeof(f.sid));
	CHECK_EQ(read_on(s, &f, &f.sid, 0, sizeof(out), out, sizeof(out),
			 &len, &eof), NFS4_OK);
	CHECK(len > 0);
	CHECK(len < max);
	CHECK(!eof);
	CHECK(memcmp(out, buf, len) == 0);

	/* READ_PLUS likewise: one data segment, cut to what fits. */
	{
		struct nc_compound cp;
		COMPOUND4res res;
		nfs_argop4 *a;

		init42(&cp, "read-plus-small");
		put_fh(&cp, &f);
		a = nc_compound_add(&cp, OP_READ_PLUS);
		a->nfs_argop4_u.opread_plus.rpa_stateid = f.sid;
		a->nfs_argop4_u.opread_plus.rpa_count = sizeof(buf);
		CHECK_EQ(run_on(s, &cp, &res), NFS4_OK);
		if (res.status == NFS4_OK) {
			read_plus_res4 *r = &op_res(&res, 2)->nfs_resop4_u
						     .opread_plus
						     .READ_PLUS4res_u.rp_resok4;

			CHECK(!r->rpr_eof);
			CHECK_EQ(r->rpr_contents.rpr_contents_len, 1);
			if (r->rpr_contents.rpr_contents_len == 1) {
				data4 *d = &r->rpr_contents.rpr_contents_val[0]
						    .read_plus_content_u.rpc_data;

				CHECK(d->d_data.d_data_len > 0);
				CHECK(d->d_data.d_data_len < max);
				CHECK(memcmp(d->d_data.d_data_val, buf,
					     d->d_data.d_data_len) == 0);
			}
		}
		done(&res);
	}
	h_session_free(c, s);
}

/*
 * Errors: §18.22.3 / §18.32.3 / §18.3.3 - a directory is NFS4ERR_ISDIR;
 * no filehandle is NFS4ERR_NOFILEHANDLE; a stateid the server never
 * issued is NFS4ERR_BAD_STATEID (§8.2.2); WRITE with a read-only open is
 * NFS4ERR_OPENMODE (§8.2.2 / §9.1.4); a write beyond the largest file is
 * NFS4ERR_FBIG (§18.32.3).
 */
static void
test_io_errors(void)
{
	struct nc_compound cp;
	COMPOUND4res res;
	struct file f, ro;
	stateid4 bogus;
	uint8_t out[16];
	uint32_t len;
	bool eof;
	READ4args *r;
	WRITE4args *w;

	nc_session_compound_init(&cp, "read-dir");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	r = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
	r->count = 10;
	CHECK_EQ(run(&cp, &res), NFS4ERR_ISDIR);
	done(&res);

	nc_session_compound_init(&cp, "write-dir");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
	w->data.data_val = "x";
	w->data.data_len = 1;
	CHECK_EQ(run(&cp, &res), NFS4ERR_ISDIR);
	done(&res);

	nc_session_compound_init(&cp, "commit-dir");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	REQUIRE(nc_compound_add(&cp, OP_COMMIT));
	CHECK_EQ(run(&cp, &res), NFS4ERR_ISDIR);
	done(&res);

	nc_session_compound_init(&cp, "read-nofh");
	r = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
	r->count = 10;
	CHECK_EQ(run(&cp, &res), NFS4ERR_NOFILEHANDLE);
	done(&res);

	/*
	 * §18.22.3, §18.32.3: a symbolic link is NFS4ERR_SYMLINK (made by
	 * CREATE; skipped while the server has no CREATE).
	 */
	{
		CREATE4args *c;
		stateid4 anon;
		int st;

		memset(&anon, 0, sizeof(anon));
		nc_session_compound_init(&cp, "symlink-read");
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		c = &nc_compound_add(&cp, OP_CREATE)->nfs_argop4_u.opcreate;
		c->objtype.type = NF4LNK;
		c->objtype.createtype4_u.linkdata.utf8string_val = "io-rw";
		c->objtype.createtype4_u.linkdata.utf8string_len = 5;
		c->objname.utf8string_val = "io-link";
		c->objname.utf8string_len = 7;
		r = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
		r->stateid = anon;
		r->count = 10;
		st = run(&cp, &res);
		if (nc_res_status(&res, 2) != NFS4ERR_NOTSUPP)
			CHECK_EQ(st, NFS4ERR_SYMLINK);
		done(&res);
	}

	create_file("io-err", &f);
	bogus = f.sid;
	bogus.other[0] ^= 0x55;
	bogus.other[11] ^= 0x55;
	CHECK_EQ(read_on(ses, &f, &bogus, 0, 10, out, sizeof(out), &len, &eof),
		 NFS4ERR_BAD_STATEID);

	CHECK_EQ(write_file(&f, UINT64_MAX - 4, "abcdefgh", 8, UNSTABLE4, NULL),
		 NFS4ERR_FBIG);

	/* A second owner opens for reading only and tries to write. */
	REQUIRE(open_owner_on(ses, "io-err", "io-err-reader",
			      OPEN4_SHARE_ACCESS_READ, false, &ro) == NFS4_OK);
	CHECK_EQ(write_file(&ro, 0, "abc", 3, UNSTABLE4, NULL),
		 NFS4ERR_OPENMODE);
	/* ... but it may read (eof at once: the file is empty). */
	CHECK_EQ(read_file(&ro, 0, 10, out, sizeof(out), &len, &eof), NFS4_OK);
	CHECK_EQ(len, 0);
	CHECK(eof);
}

/* --- NFSv4.2 ------------------------------------------------------------- */

static int
seek_file(const struct file *f, uint64_t off, data_content4 what,
	  uint64_t *where, bool *eof)
{
	struct nc_compound cp;
	COMPOUND4res res;
	SEEK4args *a;
	int st;

	init42(&cp, "seek");
	put_fh(&cp, f);
	a = &nc_compound_add(&cp, OP_SEEK)->nfs_argop4_u.opseek;
	a->sa_stateid = f->sid;
	a->sa_offset = off;
	a->sa_what = what;
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		seek_res4 *r = &op_res(&res, 2)->nfs_resop4_u.opseek
					.SEEK4res_u.resok4;

		*where = r->sr_offset;
		*eof = r->sr_eof;
	}
	done(&res);
	return st;
}

static int
space_op(const struct file *f, nfs_opnum4 op, uint64_t off, uint64_t len)
{
	struct nc_compound cp;
	COMPOUND4res res;
	nfs_argop4 *a;
	int st;

	init42(&cp, "space");
	put_fh(&cp, f);
	a = nc_compound_add(&cp, op);
	if (op == OP_ALLOCATE) {
		a->nfs_argop4_u.opallocate.aa_stateid = f->sid;
		a->nfs_argop4_u.opallocate.aa_offset = off;
		a->nfs_argop4_u.opallocate.aa_length = len;
	} else {
		a->nfs_argop4_u.opdeallocate.da_stateid = f->sid;
		a->nfs_argop4_u.opdeallocate.da_offset = off;
		a->nfs_argop4_u.opdeallocate.da_length = len;
	}
	st = run(&cp, &res);
	done(&res);
	return st;
}

static uint64_t
file_size(const struct file *f)
{
	static const uint32_t mask[1] = { 1u << FATTR4_SIZE };
	struct nc_compound cp;
	COMPOUND4res res;
	GETATTR4args *g;
	uint64_t size = UINT64_MAX;

	nc_session_compound_init(&cp, "size");
	put_fh(&cp, f);
	g = &nc_compound_add(&cp, OP_GETATTR)->nfs_argop4_u.opgetattr;
	g->attr_request.bitmap4_len = 1;
	g->attr_request.bitmap4_val = (uint32_t *)mask;
	if (run(&cp, &res) == NFS4_OK) {
		fattr4 *fa = &op_res(&res, 2)->nfs_resop4_u.opgetattr
				      .GETATTR4res_u.resok4.obj_attributes;

		if (fa->attr_vals.attrlist4_len == 8) {
			memcpy(&size, fa->attr_vals.attrlist4_val, 8);
			size = be64toh(size);
		}
	}
	done(&res);
	return size;
}

/*
 * SETATTR size through session s; flags as nc_session_compound()'s
 * (NC_SEQ_NO_RETRY: a DELAY is returned, not retried).  Returns the
 * status, -1 on a transport error.
 */
static int
set_size_on(struct nc_session *s, const struct file *f, uint64_t size,
	    uint32_t flags)
{
	static const uint32_t mask[1] = { 1u << FATTR4_SIZE };
	struct nc_compound cp;
	COMPOUND4res res;
	SETATTR4args *sa;
	uint64_t be = htobe64(size);
	int st;

	nc_session_compound_init(&cp, "set-size");
	put_fh(&cp, f);
	sa = &nc_compound_add(&cp, OP_SETATTR)->nfs_argop4_u.opsetattr;
	sa->stateid = f->sid;
	sa->obj_attributes.attrmask.bitmap4_len = 1;
	sa->obj_attributes.attrmask.bitmap4_val = (uint32_t *)mask;
	sa->obj_attributes.attr_vals.attrlist4_len = sizeof(be);
	sa->obj_attributes.attr_vals.attrlist4_val = (char *)&be;
	if (nc_session_compound(s, &cp, flags, &res, NULL) != 0)
		return -1;
	st = res.status;
	done(&res);
	return st;
}

/*
 * A counter of the server's control socket (src/daemon/control.c; the
 * socket is the volume's name plus ".ctl"): the value on the line "key N"
 * of command cmd's answer.  -1 if it could not be asked.
 */
static long
server_stat(const char *cmd, const char *key)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096], line[64], *p;
	size_t have = 0, klen = strlen(key);
	ssize_t n;
	long val = -1;
	int fd;

	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s.ctl",
			     srv.volume) >= sizeof(sa.sun_path))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(line, sizeof(line), "%s\n", cmd);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(fd, line, strlen(line)) != (ssize_t)strlen(line))
		goto out;
	while (have < sizeof(buf) - 1 &&
	       (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && p[klen] == ' ') {
			val = strtol(p + klen + 1, NULL, 10);
			break;
		}
	}
out:
	close(fd);
	return val;
}

/* Local DMA pins the server holds now (control socket "refs"). */
static long
server_pins(void)
{
	return server_stat("refs", "pins");
}

/* Wait (bounded) until the server holds no pin; the last count seen. */
static long
wait_no_pins(void)
{
	uint64_t deadline = clock_now_ns() + PIN_DRAIN_NS;
	long pins;

	while ((pins = server_pins()) > 0 && clock_now_ns() < deadline)
		h_sleep_ns(PIN_POLL_NS);
	return pins;
}

/*
 * A READ by session s2 of f with an explicit SEQUENCE (slot 1, seqid 1,
 * sa_cachethis) and the anonymous stateid; the raw reply body in
 * body/blen (malloc'ed), the data in out/len.  Returns the status.
 */
static int
read_cached(struct nc_session *s2, const struct file *f, uint64_t off,
	    uint32_t count, uint8_t *out, uint32_t cap, uint32_t *len,
	    uint8_t **body, uint32_t *blen)
{
	struct nc_compound cp;
	COMPOUND4res res;
	struct nc_call *call = NULL;
	struct nc_rpc_reply r;
	const uint8_t *b;
	READ4args *ra;
	uint32_t l;
	int st = -1;

	*body = NULL;
	*blen = 0;
	*len = 0;
	nc_compound_init(&cp, "read-cached", 1);
	h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s2, 1, 1, 1, true);
	put_fh(&cp, f);
	ra = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
	memset(&ra->stateid, 0, sizeof(ra->stateid));
	ra->offset = off;
	ra->count = count;
	if (nc_compound(nc_session_conn(s2), &cp, &res, &call) != 0)
		goto out;
	st = res.status;
	if (st == NFS4_OK) {
		READ4resok *ok = &op_res(&res, 2)->nfs_resop4_u.opread
					  .READ4res_u.resok4;

		*len = ok->data.data_len;
		REQUIRE(*len <= cap);
		memcpy(out, ok->data.data_val, *len);
	}
	done(&res);
	if (nc_call_parse(call, &r) == 0) {
		b = nc_call_reply(call, &l);
		*blen = l - r.body_off;
		*body = malloc(*blen);
		REQUIRE(*body);
		memcpy(*body, b + r.body_off, *blen);
	}
out:
	nc_call_free(call);
	return st;
}

/*
 * docs/io.md, "Zero copy to the socket": a READ that is the last op and
 * covers one written extent goes out by reference, its bytes sent from
 * the volume mapping under a pin.  The bytes must be exact (1 MiB, and
 * an unaligned range inside the file); a retry of a READ sent with
 * sa_cachethis gets the cached reply byte for byte, data included
 * (RFC 8881 §2.10.6.1.3: the cache copies the referenced bytes, it does
 * not keep the reference); and every pin is dropped once its reply went
 * out, so a truncate of the range afterwards does not wait
 * (DESIGN.md §3: nothing may hold a pin past its reply).
 */
static void
test_read_by_reference(void)
{
	static uint8_t buf[IO_MAX], out[IO_MAX];
	struct nc_session_opts o;
	struct nc_conn *c2;
	struct nc_session *s2;
	struct file f;
	uint8_t *body1, *body2;
	uint32_t len, len2, blen1, blen2;
	bool eof;

	create_file("io-ref", &f);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 31 + (i >> 12) + 7);
	CHECK_EQ(write_file(&f, 0, buf, sizeof(buf), FILE_SYNC4, NULL),
		 NFS4_OK);

	memset(out, 0, sizeof(out));
	CHECK_EQ(read_file(&f, 0, IO_MAX, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, IO_MAX);
	CHECK(eof);
	CHECK(memcmp(out, buf, IO_MAX) == 0);

	memset(out, 0, sizeof(out));
	CHECK_EQ(read_file(&f, 4097, 300001, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, 300001);
	CHECK(!eof);
	CHECK(memcmp(out, buf + 4097, 300001) == 0);

	/* Replayed from the reply cache: same bytes, the data's too. */
	nc_session_opts_init(&o);
	REQUIRE(h_session(&srv, h_owner("io-ref"), &o, &c2, &s2) == 0);
	reclaim_complete(s2);
	CHECK_EQ(read_cached(s2, &f, 8192, IO_MAX, out, sizeof(out), &len,
			     &body1, &blen1), NFS4_OK);
	/* The cache limit (8 KiB by default) cuts the READ, not to nothing. */
	CHECK(len >= 4096);
	CHECK(memcmp(out, buf + 8192, len) == 0);
	memset(out, 0, sizeof(out));
	CHECK_EQ(read_cached(s2, &f, 8192, IO_MAX, out, sizeof(out), &len2,
			     &body2, &blen2), NFS4_OK);
	CHECK_EQ(len2, len);
	CHECK(memcmp(out, buf + 8192, len2) == 0);
	CHECK(blen1 > len && blen1 == blen2 && body1 && body2 &&
	      memcmp(body1, body2, blen1) == 0);
	free(body1);
	free(body2);
	h_session_free(c2, s2);

	/* Every reply went out: no pin left, the truncate does not wait. */
	CHECK_EQ(wait_no_pins(), 0);
	CHECK_EQ(set_size_on(ses, &f, 0, NC_SEQ_NO_RETRY), NFS4_OK);
	CHECK_EQ(file_size(&f), 0);
}

/*
 * WRITE's data is decoded in place (compound.c decode_argop()): the ops
 * after it must be found after the data's XDR padding.  A Linux client
 * sends PUTFH WRITE GETATTR; here with 1, 2, 3 and 5 bytes (every
 * padding) and the GETATTR's size must follow each write.
 */
static void
test_write_then_getattr(void)
{
	static const uint32_t mask[1] = { 1u << FATTR4_SIZE };
	static const char data[] = "abcde";
	struct file f;
	uint64_t off = 0;

	create_file("io-write-pad", &f);
	for (uint32_t len = 1; len <= 5; len += (len == 3 ? 2 : 1)) {
		struct nc_compound cp;
		COMPOUND4res res;
		WRITE4args *w;
		GETATTR4args *g;
		uint64_t size = 0;

		nc_session_compound_init(&cp, "write-getattr");
		put_fh(&cp, &f);
		w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
		w->stateid = f.sid;
		w->offset = off;
		w->stable = FILE_SYNC4;
		w->data.data_val = (char *)data;
		w->data.data_len = len;
		g = &nc_compound_add(&cp, OP_GETATTR)->nfs_argop4_u.opgetattr;
		g->attr_request.bitmap4_len = 1;
		g->attr_request.bitmap4_val = (uint32_t *)mask;
		CHECK_EQ(run(&cp, &res), NFS4_OK);
		if (res.status == NFS4_OK && res.resarray.resarray_len == 4) {
			fattr4 *fa = &op_res(&res, 3)->nfs_resop4_u.opgetattr
					      .GETATTR4res_u.resok4.obj_attributes;

			CHECK_EQ(fa->attr_vals.attrlist4_len, 8);
			memcpy(&size, fa->attr_vals.attrlist4_val, 8);
			CHECK_EQ(be64toh(size), off + len);
		}
		done(&res);
		off += len;
	}
	{
		uint8_t back[16] = { 0 };
		uint32_t got = 0;
		bool eof = false;

		CHECK_EQ(read_on(ses, &f, &f.sid, 0, sizeof(back), back,
				 sizeof(back), &got, &eof), NFS4_OK);
		CHECK_EQ(got, 11);
		CHECK(memcmp(back, "aababcabcde", 11) == 0);
	}
}

/* Read one record-marked reply (single fragment) from fd into buf. */
static uint32_t
recv_reply_record(int fd, uint8_t *buf, uint32_t cap)
{
	uint8_t mark[4];
	uint32_t len, have = 0;

	REQUIRE(recv(fd, mark, 4, MSG_WAITALL) == 4);
	len = ((uint32_t)mark[0] << 24 | (uint32_t)mark[1] << 16 |
	       (uint32_t)mark[2] << 8 | mark[3]) & 0x7fffffffu;
	REQUIRE((mark[0] & 0x80) && len <= cap);
	while (have < len) {
		ssize_t n = recv(fd, buf + have, len - have, 0);

		REQUIRE(n > 0);
		have += (uint32_t)n;
	}
	return len;
}

/*
 * A client that sends 6 pipelined 1 MiB READs and does not read its
 * socket must not hold pins on the file: the server copies what the
 * socket did not take and drops the pins (rpc's outbuf_detach_ref()), so
 * another client's truncate succeeds at once instead of getting
 * NFS4ERR_DELAY for as long as the stalled connection lives (DESIGN.md
 * rule 5: no client holds up a block-map change unboundedly).  When the
 * client finally reads, every reply carries the bytes from before the
 * truncate.
 */
static void
test_stalled_reader(void)
{
	/* 6 MiB of replies: more than loopback buffers take, less than
	 * max_conn_memory (8 MiB), past which the server stops reading. */
	enum { NREADS = 6 };
	static uint8_t buf[IO_MAX], rec[IO_MAX + 4096];
	uint8_t msg[1024];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct nc_conn *c2;
	struct nc_session *s2;
	struct file f;
	long replies0, replies = 0;
	uint64_t deadline;
	int fd;

	create_file("io-stall", &f);
	memset(buf, 0x11, sizeof(buf));
	CHECK_EQ(write_file(&f, 0, buf, sizeof(buf), FILE_SYNC4, NULL),
		 NFS4_OK);
	REQUIRE(h_session(&srv, h_owner("io-stall"), NULL, &c2, &s2) == 0);
	reclaim_complete(s2);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	REQUIRE(fd >= 0);
	sa.sin_port = htons(srv.port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	REQUIRE(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	replies0 = server_stat("rpc", "replies");
	for (uint32_t i = 0; i < NREADS; i++) {
		struct nc_compound cp;
		READ4args *ra;
		size_t len;

		nc_compound_init(&cp, "stall", 1);
		/* Slots 1..NREADS, first use (RECLAIM_COMPLETE used 0). */
		h_sequence(nc_compound_add(&cp, OP_SEQUENCE), s2, i + 1, 1,
			   NREADS, false);
		put_fh(&cp, &f);
		ra = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
		memset(&ra->stateid, 0, sizeof(ra->stateid));
		ra->offset = 0;
		ra->count = IO_MAX;
		REQUIRE(nc_encode_call(c2, 1000 + i, 100003, 4, 1,
				       (xdrproc_t)xdr_COMPOUND4args, &cp.args,
				       msg + 4, sizeof(msg) - 4, &len) == 0);
		rpc_record_mark(msg, (uint32_t)len, true);
		REQUIRE(write(fd, msg, len + 4) == (ssize_t)(len + 4));
	}
	/* Every READ ran (its reply queued), none of them was read. */
	deadline = clock_now_ns() + PIN_DRAIN_NS;
	while ((replies = server_stat("rpc", "replies")) < replies0 + NREADS &&
	       clock_now_ns() < deadline)
		h_sleep_ns(PIN_POLL_NS);
	CHECK(replies >= replies0 + NREADS);
	CHECK_EQ(wait_no_pins(), 0);
	CHECK_EQ(set_size_on(ses, &f, 0, NC_SEQ_NO_RETRY), NFS4_OK);
	CHECK_EQ(file_size(&f), 0);

	for (uint32_t i = 0; i < NREADS; i++) {
		uint32_t len = recv_reply_record(fd, rec, sizeof(rec));
		COMPOUND4res res;
		READ4resok *ok;
		bool all = true;
		XDR x;

		/* xid, REPLY, MSG_ACCEPTED, AUTH_NONE verifier, SUCCESS */
		REQUIRE(len > 24 && rec[23] == SUCCESS);
		memset(&res, 0, sizeof(res));
		xdrmem_create(&x, (char *)rec + 24, len - 24, XDR_DECODE);
		REQUIRE(xdr_COMPOUND4res(&x, &res));
		xdr_destroy(&x);
		REQUIRE(res.status == NFS4_OK && res.resarray.resarray_len == 3);
		ok = &res.resarray.resarray_val[2].nfs_resop4_u.opread
			      .READ4res_u.resok4;
		CHECK(ok->data.data_len > 0);
		for (uint32_t j = 0; j < ok->data.data_len && all; j++)
			all = (uint8_t)ok->data.data_val[j] == 0x11;
		CHECK(all);
		xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&res);
	}
	close(fd);
	h_session_free(c2, s2);
}

/*
 * RFC 7862 §15.11 (SEEK), §15.1 (ALLOCATE), §15.4 (DEALLOCATE): data and
 * holes are found where they are; a punched range reads as zeros and
 * becomes a hole; ALLOCATE extends the size and reads as zeros; SEEK at
 * or past EOF is NFS4ERR_NXIO; an empty range is NFS4ERR_INVAL.
 */
static void
test_seek_allocate_deallocate(void)
{
	static uint8_t buf[1 << 20], out[1 << 20];
	struct file f;
	uint64_t where;
	uint32_t len;
	bool eof;

	create_file("io-sparse", &f);
	memset(buf, 0x11, sizeof(buf));
	CHECK_EQ(write_file(&f, 0, buf, sizeof(buf), FILE_SYNC4, NULL),
		 NFS4_OK);

	CHECK_EQ(seek_file(&f, 0, NFS4_CONTENT_DATA, &where, &eof), NFS4_OK);
	CHECK_EQ(where, 0);
	CHECK(!eof);
	CHECK_EQ(seek_file(&f, 0, NFS4_CONTENT_HOLE, &where, &eof), NFS4_OK);
	CHECK_EQ(where, sizeof(buf));	/* the implicit hole at EOF */
	CHECK(eof);

	/* Punch 256 KiB in the middle. */
	CHECK_EQ(space_op(&f, OP_DEALLOCATE, 256 * 1024, 256 * 1024), NFS4_OK);
	CHECK_EQ(file_size(&f), sizeof(buf));
	CHECK_EQ(read_file(&f, 0, sizeof(out), out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, sizeof(buf));
	CHECK(all_bytes(out, 256 * 1024, 0x11));
	CHECK(all_bytes(out + 256 * 1024, 256 * 1024, 0));
	CHECK(all_bytes(out + 512 * 1024, 512 * 1024, 0x11));
	CHECK_EQ(seek_file(&f, 0, NFS4_CONTENT_HOLE, &where, &eof), NFS4_OK);
	CHECK_EQ(where, 256 * 1024);
	CHECK(!eof);
	CHECK_EQ(seek_file(&f, 256 * 1024, NFS4_CONTENT_DATA, &where, &eof),
		 NFS4_OK);
	CHECK_EQ(where, 512 * 1024);

	/* §15.11.3: at or past EOF. */
	CHECK_EQ(seek_file(&f, sizeof(buf), NFS4_CONTENT_DATA, &where, &eof),
		 NFS4ERR_NXIO);

	/* ALLOCATE past EOF grows the file; the new part reads as zeros. */
	CHECK_EQ(space_op(&f, OP_ALLOCATE, sizeof(buf), 64 * 1024), NFS4_OK);
	CHECK_EQ(file_size(&f), sizeof(buf) + 64 * 1024);
	CHECK_EQ(read_file(&f, sizeof(buf), 64 * 1024, out, sizeof(out), &len,
			   &eof), NFS4_OK);
	CHECK_EQ(len, 64 * 1024);
	CHECK(all_bytes(out, len, 0));

	/*
	 * RFC 7862 §15.10: READ_PLUS describes the file as data and hole
	 * segments - the punched range and the allocated (unwritten) tail
	 * are holes.  One reply covers at most 1 MiB of the file (maxread,
	 * like READ): the tail hole comes in a second one, with eof.
	 */
	{
		struct nc_compound cp;
		COMPOUND4res res;
		nfs_argop4 *a;

		init42(&cp, "read-plus-sparse");
		put_fh(&cp, &f);
		a = nc_compound_add(&cp, OP_READ_PLUS);
		a->nfs_argop4_u.opread_plus.rpa_stateid = f.sid;
		a->nfs_argop4_u.opread_plus.rpa_offset = 0;
		a->nfs_argop4_u.opread_plus.rpa_count = 2 << 20;
		CHECK_EQ(run(&cp, &res), NFS4_OK);
		if (res.status == NFS4_OK) {
			read_plus_res4 *r = &op_res(&res, 2)->nfs_resop4_u
						     .opread_plus
						     .READ_PLUS4res_u.rp_resok4;
			read_plus_content *c = r->rpr_contents.rpr_contents_val;

			CHECK(!r->rpr_eof);
			CHECK_EQ(r->rpr_contents.rpr_contents_len, 3);
			if (r->rpr_contents.rpr_contents_len == 3) {
				CHECK_EQ(c[0].rpc_content, NFS4_CONTENT_DATA);
				CHECK_EQ(c[0].read_plus_content_u.rpc_data
					 .d_data.d_data_len, 256 * 1024);
				CHECK(all_bytes((uint8_t *)c[0]
						.read_plus_content_u.rpc_data
						.d_data.d_data_val, 256 * 1024,
						0x11));
				CHECK_EQ(c[1].rpc_content, NFS4_CONTENT_HOLE);
				CHECK_EQ(c[1].read_plus_content_u.rpc_hole
					 .di_offset, 256 * 1024);
				CHECK_EQ(c[1].read_plus_content_u.rpc_hole
					 .di_length, 256 * 1024);
				CHECK_EQ(c[2].rpc_content, NFS4_CONTENT_DATA);
				CHECK_EQ(c[2].read_plus_content_u.rpc_data
					 .d_offset, 512 * 1024);
				CHECK_EQ(c[2].read_plus_content_u.rpc_data
					 .d_data.d_data_len, 512 * 1024);
			}
		}
		done(&res);

		init42(&cp, "read-plus-tail");
		put_fh(&cp, &f);
		a = nc_compound_add(&cp, OP_READ_PLUS);
		a->nfs_argop4_u.opread_plus.rpa_stateid = f.sid;
		a->nfs_argop4_u.opread_plus.rpa_offset = 1 << 20;
		a->nfs_argop4_u.opread_plus.rpa_count = 2 << 20;
		CHECK_EQ(run(&cp, &res), NFS4_OK);
		if (res.status == NFS4_OK) {
			read_plus_res4 *r = &op_res(&res, 2)->nfs_resop4_u
						     .opread_plus
						     .READ_PLUS4res_u.rp_resok4;
			read_plus_content *c = r->rpr_contents.rpr_contents_val;

			CHECK(r->rpr_eof);
			CHECK_EQ(r->rpr_contents.rpr_contents_len, 1);
			if (r->rpr_contents.rpr_contents_len == 1) {
				CHECK_EQ(c[0].rpc_content, NFS4_CONTENT_HOLE);
				CHECK_EQ(c[0].read_plus_content_u.rpc_hole
					 .di_offset, 1 << 20);
				CHECK_EQ(c[0].read_plus_content_u.rpc_hole
					 .di_length, 64 * 1024);
			}
		}
		done(&res);
	}

	CHECK_EQ(space_op(&f, OP_ALLOCATE, 0, 0), NFS4ERR_INVAL);
	CHECK_EQ(space_op(&f, OP_DEALLOCATE, 0, 0), NFS4ERR_INVAL);
	CHECK_EQ(space_op(&f, OP_ALLOCATE, UINT64_MAX - 10, 100),
		 NFS4ERR_FBIG);
}

/* CLONE or COPY from src (saved FH) to dst (current FH). */
static int
clone_or_copy(const struct file *src, const struct file *dst, bool copy,
	      uint64_t soff, uint64_t doff, uint64_t count, uint64_t *copied)
{
	struct nc_compound cp;
	COMPOUND4res res;
	nfs_argop4 *a;
	int st;

	init42(&cp, copy ? "copy" : "clone");
	put_fh(&cp, src);
	REQUIRE(nc_compound_add(&cp, OP_SAVEFH));
	put_fh(&cp, dst);
	a = nc_compound_add(&cp, copy ? OP_COPY : OP_CLONE);
	if (copy) {
		COPY4args *c = &a->nfs_argop4_u.opcopy;

		c->ca_src_stateid = src->sid;
		c->ca_dst_stateid = dst->sid;
		c->ca_src_offset = soff;
		c->ca_dst_offset = doff;
		c->ca_count = count;
		c->ca_consecutive = TRUE;
		c->ca_synchronous = TRUE;
	} else {
		CLONE4args *c = &a->nfs_argop4_u.opclone;

		c->cl_src_stateid = src->sid;
		c->cl_dst_stateid = dst->sid;
		c->cl_src_offset = soff;
		c->cl_dst_offset = doff;
		c->cl_count = count;
	}
	st = run(&cp, &res);
	if (st == NFS4_OK && copy) {
		COPY4resok *ok = &op_res(&res, 4)->nfs_resop4_u.opcopy
					  .COPY4res_u.cr_resok4;

		/* §15.2.3: a synchronous copy has no callback id. */
		CHECK_EQ(ok->cr_response.wr_callback_id.wr_callback_id_len, 0);
		CHECK(ok->cr_requirements.cr_synchronous);
		CHECK(ok->cr_requirements.cr_consecutive);
		*copied = ok->cr_response.wr_count;
	}
	done(&res);
	return st;
}

/*
 * RFC 7862 §15.13 (CLONE) and §15.2 (COPY): cross-file and same-file
 * ranges land where asked; CLONE needs block-aligned offsets (the range
 * may end at the source's EOF) and a non-overlapping same-file range,
 * else NFS4ERR_INVAL; COPY with count 0 copies to EOF and is
 * synchronous; a source offset past EOF is NFS4ERR_INVAL.
 */
static void
test_clone_copy(void)
{
	static uint8_t a[300000], out[400000];
	struct file src, dst;
	uint64_t copied = 0;
	uint32_t len;
	bool eof;

	create_file("io-src", &src);
	create_file("io-dst", &dst);
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = (uint8_t)(i % 251);
	CHECK_EQ(write_file(&src, 0, a, sizeof(a), FILE_SYNC4, NULL), NFS4_OK);

	/* Whole file (to EOF, unaligned end) onto dst at 64 KiB. */
	CHECK_EQ(clone_or_copy(&src, &dst, false, 0, 65536, 0, NULL), NFS4_OK);
	CHECK_EQ(read_file(&dst, 0, sizeof(out), out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, 65536 + sizeof(a));
	CHECK(all_bytes(out, 65536, 0));
	CHECK(memcmp(out + 65536, a, sizeof(a)) == 0);

	/* Misaligned offset; overlapping same-file range; past EOF. */
	CHECK_EQ(clone_or_copy(&src, &dst, false, 1, 0, 4096, NULL),
		 NFS4ERR_INVAL);
	CHECK_EQ(clone_or_copy(&src, &src, false, 0, 4096, 65536, NULL),
		 NFS4ERR_INVAL);
	CHECK_EQ(clone_or_copy(&src, &dst, false, 0, 0, 1 << 20, NULL),
		 NFS4ERR_INVAL);
	/* Same file, disjoint aligned range: fine. */
	CHECK_EQ(clone_or_copy(&src, &src, false, 0, 1 << 20, 65536, NULL),
		 NFS4_OK);
	CHECK_EQ(read_file(&src, 1 << 20, 65536, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK_EQ(len, 65536);
	CHECK(memcmp(out, a, 65536) == 0);

	/* COPY: unaligned, count 0 = to EOF (of the source, now 1 MiB+64K). */
	CHECK_EQ(clone_or_copy(&src, &dst, true, 100, 7, 1000, &copied),
		 NFS4_OK);
	CHECK_EQ(copied, 1000);
	CHECK_EQ(read_file(&dst, 7, 1000, out, sizeof(out), &len, &eof),
		 NFS4_OK);
	CHECK(memcmp(out, a + 100, 1000) == 0);
	CHECK_EQ(clone_or_copy(&src, &dst, true, 250000, 0, 0, &copied),
		 NFS4_OK);
	CHECK_EQ(copied, (1 << 20) + 65536 - 250000);
	CHECK_EQ(clone_or_copy(&src, &dst, true, 10u << 20, 0, 10, &copied),
		 NFS4ERR_INVAL);

	/*
	 * A block-aligned COPY of the whole sparse source (data, hole, data)
	 * to a fresh file: the same bytes, holes as zeros.
	 */
	{
		static uint8_t want[(1 << 20) + 65536];
		struct file d2;
		uint32_t l2;

		create_file("io-dst2", &d2);
		CHECK_EQ(clone_or_copy(&src, &d2, true, 0, 0, 0, &copied),
			 NFS4_OK);
		CHECK_EQ(copied, sizeof(want));
		memset(want, 0, sizeof(want));
		memcpy(want, a, sizeof(a));
		memcpy(want + (1 << 20), a, 65536);
		CHECK_EQ(read_file(&d2, 0, sizeof(out), out, sizeof(out), &len,
				   &eof), NFS4_OK);
		l2 = len;
		CHECK_EQ(l2, sizeof(out));
		CHECK(memcmp(out, want, l2) == 0);
		CHECK_EQ(read_file(&d2, 1 << 20, 65536, out, sizeof(out), &len,
				   &eof), NFS4_OK);
		CHECK_EQ(len, 65536);
		CHECK(eof);
		CHECK(memcmp(out, a, 65536) == 0);
	}

	/*
	 * A punched source (what fallocate(PUNCH_HOLE) then copy_file_range
	 * send): the whole count is copied, the hole as zeros.
	 */
	{
		static uint8_t one[1 << 20], got[1 << 20];
		struct file p1, p2;
		uint32_t l3;
		bool e3;

		create_file("io-punched", &p1);
		create_file("io-punched-copy", &p2);
		memset(one, 0x5a, sizeof(one));
		CHECK_EQ(write_file(&p1, 0, one, sizeof(one), FILE_SYNC4, NULL),
			 NFS4_OK);
		CHECK_EQ(space_op(&p1, OP_DEALLOCATE, 262144, 262144), NFS4_OK);
		CHECK_EQ(clone_or_copy(&p1, &p2, true, 0, 0, sizeof(one),
				       &copied), NFS4_OK);
		CHECK_EQ(copied, sizeof(one));
		CHECK_EQ(read_file(&p2, 0, sizeof(got), got, sizeof(got), &l3,
				   &e3), NFS4_OK);
		CHECK_EQ(l3, sizeof(got));
		CHECK(all_bytes(got, 262144, 0x5a));
		CHECK(all_bytes(got + 262144, 262144, 0));
		CHECK(all_bytes(got + 524288, 524288, 0x5a));
	}

	/* Without a saved filehandle: §15.2.3 / §16.2.3.1.2. */
	{
		struct nc_compound cp;
		COMPOUND4res res;
		COPY4args *c;

		init42(&cp, "copy-nosaved");
		put_fh(&cp, &dst);
		c = &nc_compound_add(&cp, OP_COPY)->nfs_argop4_u.opcopy;
		c->ca_src_stateid = src.sid;
		c->ca_dst_stateid = dst.sid;
		c->ca_count = 1;
		CHECK_EQ(run(&cp, &res), NFS4ERR_NOFILEHANDLE);
		done(&res);
	}
}

/*
 * READ_PLUS (RFC 7862 §15.10) returns the data; the declined operations
 * answer NFS4ERR_NOTSUPP (RFC 7862 §13: OPTIONAL); IO_ADVISE answers
 * with the hints the server acts on: none (§15.5.3).
 */
static void
test_v42_misc(void)
{
	struct nc_compound cp;
	COMPOUND4res res;
	struct file f;
	nfs_argop4 *a;

	create_file("io-misc", &f);
	CHECK_EQ(write_file(&f, 0, "hello world", 11, FILE_SYNC4, NULL),
		 NFS4_OK);

	init42(&cp, "read-plus");
	put_fh(&cp, &f);
	a = nc_compound_add(&cp, OP_READ_PLUS);
	a->nfs_argop4_u.opread_plus.rpa_stateid = f.sid;
	a->nfs_argop4_u.opread_plus.rpa_offset = 6;
	a->nfs_argop4_u.opread_plus.rpa_count = 100;
	CHECK_EQ(run(&cp, &res), NFS4_OK);
	if (res.status == NFS4_OK) {
		read_plus_res4 *r = &op_res(&res, 2)->nfs_resop4_u.opread_plus
					     .READ_PLUS4res_u.rp_resok4;

		CHECK(r->rpr_eof);
		CHECK_EQ(r->rpr_contents.rpr_contents_len, 1);
		if (r->rpr_contents.rpr_contents_len == 1) {
			data4 *d = &r->rpr_contents.rpr_contents_val[0]
					    .read_plus_content_u.rpc_data;

			CHECK_EQ(r->rpr_contents.rpr_contents_val[0].rpc_content,
				 NFS4_CONTENT_DATA);
			CHECK_EQ(d->d_offset, 6);
			CHECK_EQ(d->d_data.d_data_len, 5);
			CHECK(memcmp(d->d_data.d_data_val, "world", 5) == 0);
		}
	}
	done(&res);

	init42(&cp, "io-advise");
	put_fh(&cp, &f);
	a = nc_compound_add(&cp, OP_IO_ADVISE);
	a->nfs_argop4_u.opio_advise.iaa_stateid = f.sid;
	a->nfs_argop4_u.opio_advise.iaa_count = 100;
	CHECK_EQ(run(&cp, &res), NFS4_OK);
	done(&res);

	init42(&cp, "offload-status");
	put_fh(&cp, &f);
	a = nc_compound_add(&cp, OP_OFFLOAD_STATUS);
	a->nfs_argop4_u.opoffload_status.osa_stateid = f.sid;
	CHECK_EQ(run(&cp, &res), NFS4ERR_NOTSUPP);
	done(&res);

	init42(&cp, "write-same");
	put_fh(&cp, &f);
	a = nc_compound_add(&cp, OP_WRITE_SAME);
	a->nfs_argop4_u.opwrite_same.wsa_stateid = f.sid;
	CHECK_EQ(run(&cp, &res), NFS4ERR_NOTSUPP);
	done(&res);

	/* §15.x: NFSv4.2 operations do not exist in minor version 1. */
	nc_session_compound_init(&cp, "seek-v41");
	put_fh(&cp, &f);
	a = nc_compound_add(&cp, OP_SEEK);
	a->nfs_argop4_u.opseek.sa_stateid = f.sid;
	CHECK_EQ(run(&cp, &res), NFS4ERR_OP_ILLEGAL);
	done(&res);
}

/* --- extended attributes (RFC 8276) ------------------------------------- */

static xattrkey4
key(const char *s)
{
	xattrkey4 k = { .utf8string_len = (u_int)strlen(s),
			.utf8string_val = (char *)s };

	return k;
}

static int
setxattr(const struct file *f, setxattr_option4 opt, xattrkey4 k,
	 const void *val, u_int len)
{
	struct nc_compound cp;
	COMPOUND4res res;
	SETXATTR4args *a;
	int st;

	init42(&cp, "setxattr");
	put_fh(&cp, f);
	a = &nc_compound_add(&cp, OP_SETXATTR)->nfs_argop4_u.opsetxattr;
	a->sxa_option = opt;
	a->sxa_key = k;
	a->sxa_value.xattrvalue4_val = (char *)val;
	a->sxa_value.xattrvalue4_len = len;
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		change_info4 *ci = &op_res(&res, 2)->nfs_resop4_u.opsetxattr
					    .SETXATTR4res_u.sxr_info;

		/* RFC 8276 §8.4.2.4: the change attribute moved. */
		CHECK(ci->after > ci->before);
	}
	done(&res);
	return st;
}

static int
getxattr(const struct file *f, xattrkey4 k, void *buf, u_int cap, u_int *len)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	init42(&cp, "getxattr");
	put_fh(&cp, f);
	nc_compound_add(&cp, OP_GETXATTR)->nfs_argop4_u.opgetxattr.gxa_name =
		k;
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		xattrvalue4 *v = &op_res(&res, 2)->nfs_resop4_u.opgetxattr
					  .GETXATTR4res_u.gxr_value;

		*len = v->xattrvalue4_len;
		REQUIRE(*len <= cap);
		if (*len)
			memcpy(buf, v->xattrvalue4_val, *len);
	}
	done(&res);
	return st;
}

static int
removexattr(const struct file *f, xattrkey4 k)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	init42(&cp, "removexattr");
	put_fh(&cp, f);
	nc_compound_add(&cp, OP_REMOVEXATTR)->nfs_argop4_u.opremovexattr
		.rxa_name = k;
	st = run(&cp, &res);
	done(&res);
	return st;
}

/*
 * LISTXATTRS from cookie with maxcount: returns the status; appends the
 * names to seen (each as "name\n") and sets *next, *eof, *n.
 */
static int
listxattrs(const struct file *f, uint64_t cookie, uint32_t maxcount,
	   char *seen, size_t cap, uint64_t *next, bool *eof, unsigned *n)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LISTXATTRS4args *a;
	int st;

	init42(&cp, "listxattrs");
	put_fh(&cp, f);
	a = &nc_compound_add(&cp, OP_LISTXATTRS)->nfs_argop4_u.oplistxattrs;
	a->lxa_cookie = cookie;
	a->lxa_maxcount = maxcount;
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		LISTXATTRS4resok *r = &op_res(&res, 2)->nfs_resop4_u
					       .oplistxattrs.LISTXATTRS4res_u
					       .lxr_value;

		*next = r->lxr_cookie;
		*eof = r->lxr_eof;
		*n = r->lxr_names.lxr_names_len;
		for (u_int i = 0; i < *n; i++) {
			xattrkey4 *k = &r->lxr_names.lxr_names_val[i];
			size_t used = strlen(seen);

			REQUIRE(used + k->utf8string_len + 2 < cap);
			memcpy(seen + used, k->utf8string_val,
			       k->utf8string_len);
			seen[used + k->utf8string_len] = '\n';
			seen[used + k->utf8string_len + 1] = '\0';
		}
	}
	done(&res);
	return st;
}

/*
 * RFC 8276 §8.4: SETXATTR create/replace/either with NFS4ERR_EXIST and
 * NFS4ERR_NOXATTR; GETXATTR of a missing key is NFS4ERR_NOXATTR; a value
 * over the limit NFS4ERR_XATTR2BIG; bad keys NFS4ERR_INVAL /
 * NFS4ERR_NAMETOOLONG (RFC 8881 §1.7.3 via §8.3); LISTXATTRS pages by
 * cookie within maxcount, NFS4ERR_TOOSMALL when no name fits and
 * NFS4ERR_BAD_COOKIE past the end; REMOVEXATTR.
 */
static void
test_xattrs(void)
{
	static char big[65537], longname[300], seen[4096];
	char val[64];
	struct file f;
	uint64_t cookie, next;
	unsigned n, total;
	u_int len;
	bool eof;
	const xattrkey4 badutf8 = { .utf8string_len = 2,
				    .utf8string_val = "\xc3\x28" };

	create_file("io-xattr", &f);
	CHECK_EQ(getxattr(&f, key("user.a"), val, sizeof(val), &len),
		 NFS4ERR_NOXATTR);
	CHECK_EQ(setxattr(&f, SETXATTR4_REPLACE, key("user.a"), "1", 1),
		 NFS4ERR_NOXATTR);
	CHECK_EQ(setxattr(&f, SETXATTR4_CREATE, key("user.a"), "one", 3),
		 NFS4_OK);
	CHECK_EQ(setxattr(&f, SETXATTR4_CREATE, key("user.a"), "uno", 3),
		 NFS4ERR_EXIST);
	CHECK_EQ(getxattr(&f, key("user.a"), val, sizeof(val), &len), NFS4_OK);
	CHECK_EQ(len, 3);
	CHECK(memcmp(val, "one", 3) == 0);
	CHECK_EQ(setxattr(&f, SETXATTR4_REPLACE, key("user.a"), "eins", 4),
		 NFS4_OK);
	CHECK_EQ(setxattr(&f, SETXATTR4_EITHER, key("user.b"), "", 0),
		 NFS4_OK);
	CHECK_EQ(getxattr(&f, key("user.a"), val, sizeof(val), &len), NFS4_OK);
	CHECK_EQ(len, 4);
	CHECK(memcmp(val, "eins", 4) == 0);
	CHECK_EQ(getxattr(&f, key("user.b"), val, sizeof(val), &len), NFS4_OK);
	CHECK_EQ(len, 0);

	CHECK_EQ(setxattr(&f, SETXATTR4_EITHER, key("user.big"), big,
			  sizeof(big)), NFS4ERR_XATTR2BIG);
	CHECK_EQ(setxattr(&f, SETXATTR4_EITHER, key(""), "x", 1),
		 NFS4ERR_INVAL);
	CHECK_EQ(setxattr(&f, SETXATTR4_EITHER, badutf8, "x", 1),
		 NFS4ERR_INVAL);
	memset(longname, 'n', 256);
	CHECK_EQ(setxattr(&f, SETXATTR4_EITHER, key(longname), "x", 1),
		 NFS4ERR_NAMETOOLONG);

	/* Ten more names, then page through them 3 or so at a time. */
	for (int i = 0; i < 10; i++) {
		char name[32];

		snprintf(name, sizeof(name), "user.page%02d", i);
		CHECK_EQ(setxattr(&f, SETXATTR4_CREATE, key(name), "v", 1),
			 NFS4_OK);
	}
	seen[0] = '\0';
	cookie = 0;
	total = 0;
	for (int rounds = 0; rounds < 20; rounds++) {
		/* 16 overhead + 3 names of 4 + 12 ("user.pageNN") bytes. */
		CHECK_EQ(listxattrs(&f, cookie, 16 + 3 * 16, seen,
				    sizeof(seen), &next, &eof, &n), NFS4_OK);
		CHECK(n >= 1 && n <= 3);
		total += n;
		cookie = next;
		if (eof)
			break;
	}
	CHECK(eof);
	CHECK_EQ(total, 12);
	CHECK(strstr(seen, "user.a\n") != NULL);
	CHECK(strstr(seen, "user.b\n") != NULL);
	for (int i = 0; i < 10; i++) {
		char name[32];

		snprintf(name, sizeof(name), "user.page%02d\n", i);
		CHECK(strstr(seen, name) != NULL);
	}
	seen[0] = '\0';
	CHECK_EQ(listxattrs(&f, 0, 20, seen, sizeof(seen), &next, &eof, &n),
		 NFS4ERR_TOOSMALL);
	CHECK_EQ(listxattrs(&f, 1000, 8192, seen, sizeof(seen), &next, &eof,
			    &n), NFS4ERR_BAD_COOKIE);

	CHECK_EQ(removexattr(&f, key("user.a")), NFS4_OK);
	CHECK_EQ(removexattr(&f, key("user.a")), NFS4ERR_NOXATTR);
	CHECK_EQ(getxattr(&f, key("user.a"), val, sizeof(val), &len),
		 NFS4ERR_NOXATTR);

	/* Directories carry xattrs too (RFC 8276 §3). */
	{
		struct nc_compound cp;
		COMPOUND4res res;
		SETXATTR4args *a;

		init42(&cp, "setxattr-root");
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		a = &nc_compound_add(&cp, OP_SETXATTR)->nfs_argop4_u
			      .opsetxattr;
		a->sxa_option = SETXATTR4_EITHER;
		a->sxa_key = key("user.dir");
		a->sxa_value.xattrvalue4_val = "d";
		a->sxa_value.xattrvalue4_len = 1;
		CHECK_EQ(run(&cp, &res), NFS4_OK);
		done(&res);
	}
}

/* --- READ racing a truncate ---------------------------------------------- */

struct racer {
	struct nc_session	*s;
	const struct file	*victim, *other;
	uint64_t		deadline;
	unsigned		rounds;
	int			failed;
};

/*
 * Client B: truncate the victim to 0 (its blocks are freed), fill another
 * file with PAT_B (the allocator hands the freed blocks out again), then
 * rewrite the victim with PAT_A - over and over.
 */
static void *
race_writer(void *arg)
{
	static uint8_t a[RACE_FILE_BYTES], b[RACE_FILE_BYTES];
	struct racer *r = arg;

	memset(a, PAT_A, sizeof(a));
	memset(b, PAT_B, sizeof(b));
	while (clock_now_ns() < r->deadline && !r->failed) {
		if (set_size_on(r->s, r->victim, 0, 0) != NFS4_OK)
			r->failed = 1;
		if (write_on(r->s, r->other, 0, b, sizeof(b), UNSTABLE4,
			     NULL) != NFS4_OK ||
		    write_on(r->s, r->victim, 0, a, sizeof(a), UNSTABLE4,
			     NULL) != NFS4_OK)
			r->failed = 1;
		/* Free the other file's blocks again for the next round. */
		if (set_size_on(r->s, r->other, 0, 0) != NFS4_OK)
			r->failed = 1;
		r->rounds++;
	}
	return NULL;
}

/*
 * DESIGN.md §3 rule 6 and RFC 8881 §18.22.3: a READ that races a
 * truncate by another client returns the file's data from before or
 * after the truncate - PAT_A or nothing (or zeros where a rewrite has not
 * reached yet) - never bytes of the other file that reused the blocks.
 * Every other READ is small enough to run on the server's event loop,
 * where a pin meeting the truncate's pending unmap does not wait but
 * copies instead (docs/io.md): that path must be as safe.
 */
static void
test_read_vs_truncate(void)
{
	static uint8_t a[RACE_FILE_BYTES], out[RACE_FILE_BYTES];
	struct nc_conn *cb;
	struct nc_session *sb;
	struct file victim, other, vb, ob;
	struct racer r;
	pthread_t t;
	unsigned reads = 0, bad = 0;
	uint32_t len, count;
	uint64_t off;
	long inline0, inline1;
	bool eof;
	uint64_t dur = RACE_NS;

	if (getenv("IO_TEST_LONG"))
		dur *= 10;
	memset(a, PAT_A, sizeof(a));
	create_file("io-victim", &victim);
	create_file("io-other", &other);
	CHECK_EQ(write_file(&victim, 0, a, sizeof(a), FILE_SYNC4, NULL),
		 NFS4_OK);
	REQUIRE(h_session(&srv, h_owner("io-racer"), NULL, &cb, &sb) == 0);
	reclaim_complete(sb);
	REQUIRE(open_file_on(sb, "io-victim", OPEN4_SHARE_ACCESS_BOTH, false,
			     &vb) == NFS4_OK);
	REQUIRE(open_file_on(sb, "io-other", OPEN4_SHARE_ACCESS_BOTH, false,
			     &ob) == NFS4_OK);

	memset(&r, 0, sizeof(r));
	r.s = sb;
	r.victim = &vb;
	r.other = &ob;
	r.deadline = clock_now_ns() + dur;
	inline0 = server_stat("rpc", "calls_inline");
	REQUIRE(pthread_create(&t, NULL, race_writer, &r) == 0);
	while (clock_now_ns() < r.deadline) {
		count = (reads & 1) ? INLINE_READ_MAX : sizeof(out);
		off = (reads & 1) ? (reads / 2 % 4) * INLINE_READ_MAX : 0;
		if (read_file(&victim, off, count, out, sizeof(out), &len,
			      &eof) != NFS4_OK) {
			bad++;
			break;
		}
		for (uint32_t i = 0; i < len; i++)
			if (out[i] != PAT_A && out[i] != 0) {
				bad++;
				break;
			}
		reads++;
	}
	REQUIRE(pthread_join(t, NULL) == 0);
	inline1 = server_stat("rpc", "calls_inline");
	CHECK_EQ(bad, 0);
	CHECK_EQ(r.failed, 0);
	CHECK(reads > 10);
	/* The small READs really ran on the loop. */
	CHECK(inline0 >= 0 && inline1 > inline0);
	CHECK(r.rounds > 2);
	fprintf(stderr, "race: %u reads, %u truncate rounds\n", reads,
		r.rounds);
	h_session_free(cb, sb);
}

/* --- several clients writing one file ----------------------------------- */

#define MW_CLIENTS	4
#define MW_REGION	(256u * 1024u)
#define MW_CHUNK	(16u * 1024u)

struct mwriter {
	struct nc_conn		*c;
	struct nc_session	*s;
	struct file		f;
	unsigned		idx;
	int			failed;
	pthread_t		thread;
};

/* Byte i of client k's region: differs per client and per position. */
static uint8_t
mw_byte(unsigned k, uint32_t i)
{
	return (uint8_t)(k * 67 + i / MW_CHUNK * 13 + i);
}

/*
 * One client: write its region chunk by chunk (UNSTABLE), re-reading each
 * chunk at once, then COMMIT - while the others do the same next to it.
 */
static void *
mw_main(void *arg)
{
	struct mwriter *w = arg;
	uint8_t chunk[MW_CHUNK], back[MW_CHUNK];
	uint64_t base = (uint64_t)w->idx * MW_REGION;

	for (uint32_t off = 0; off < MW_REGION && !w->failed; off += MW_CHUNK) {
		uint32_t len;
		bool eof;

		for (uint32_t i = 0; i < MW_CHUNK; i++)
			chunk[i] = mw_byte(w->idx, off + i);
		if (write_on(w->s, &w->f, base + off, chunk, MW_CHUNK,
			     UNSTABLE4, NULL) != NFS4_OK ||
		    read_on(w->s, &w->f, &w->f.sid, base + off, MW_CHUNK, back,
			    sizeof(back), &len, &eof) != NFS4_OK ||
		    len != MW_CHUNK || memcmp(back, chunk, MW_CHUNK) != 0)
			w->failed = 1;
	}
	return NULL;
}

/*
 * RFC 8881 §18.32: WRITEs from several clients to disjoint ranges of one
 * file, concurrently, each land where they were sent; a READ sees every
 * byte that was acknowledged.
 */
static void
test_many_writers(void)
{
	static struct mwriter w[MW_CLIENTS];
	static uint8_t all[MW_CLIENTS * MW_REGION];
	struct file f;
	uint32_t len, got = 0;
	bool eof = false;
	char owner[32];

	create_file("io-many", &f);
	for (unsigned k = 0; k < MW_CLIENTS; k++) {
		memset(&w[k], 0, sizeof(w[k]));
		w[k].idx = k;
		snprintf(owner, sizeof(owner), "io-many-%u", k);
		REQUIRE(h_session(&srv, h_owner(owner), NULL, &w[k].c,
				  &w[k].s) == 0);
		reclaim_complete(w[k].s);
		REQUIRE(open_owner_on(w[k].s, "io-many", owner,
				      OPEN4_SHARE_ACCESS_BOTH, false,
				      &w[k].f) == NFS4_OK);
	}
	for (unsigned k = 0; k < MW_CLIENTS; k++)
		REQUIRE(pthread_create(&w[k].thread, NULL, mw_main, &w[k]) ==
			0);
	for (unsigned k = 0; k < MW_CLIENTS; k++) {
		REQUIRE(pthread_join(w[k].thread, NULL) == 0);
		CHECK_EQ(w[k].failed, 0);
	}
	while (got < sizeof(all) && !eof) {
		if (read_file(&f, got, sizeof(all) - got, all + got,
			      sizeof(all) - got, &len, &eof) != NFS4_OK ||
		    len == 0)
			break;
		got += len;
	}
	CHECK_EQ(got, sizeof(all));
	for (unsigned k = 0; k < MW_CLIENTS; k++) {
		uint32_t bad = 0;

		for (uint32_t i = 0; i < MW_REGION; i++)
			if (all[k * MW_REGION + i] != mw_byte(k, i))
				bad++;
		CHECK_EQ(bad, 0);
	}
	for (unsigned k = 0; k < MW_CLIENTS; k++)
		h_session_free(w[k].c, w[k].s);
}

/* --- delegations ---------------------------------------------------------- */

/*
 * RFC 8881 §10.4.4 / §10.2: a WRITE (and an xattr change) by one client
 * to a file another client holds a read delegation on recalls the
 * delegation first (CB_RECALL) and answers NFS4ERR_DELAY meanwhile; once
 * the holder returned it (DELEGRETURN) the WRITE goes through.
 */
static void
test_write_recalls_delegation(void)
{
	struct nc_conn *ca, *cb;
	struct nc_session *sa, *sb;
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN4args *o;
	struct file fa, fb;
	stateid4 deleg;
	bool have = false;
	const char *name = "io-deleg";

	memset(&fa, 0, sizeof(fa));
	REQUIRE(h_session(&srv, h_owner("io-deleg-a"), NULL, &ca, &sa) == 0);
	reclaim_complete(sa);
	REQUIRE(h_session(&srv, h_owner("io-deleg-b"), NULL, &cb, &sb) == 0);
	reclaim_complete(sb);

	/*
	 * A creates the file, opening it for reading only, and asks for a
	 * read delegation (nobody else has it open: nothing conflicts).
	 */
	nc_session_compound_init(&cp, "open-deleg");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_READ |
			  OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = nc_session_info(sa)->clientid;
	o->owner.owner.owner_val = "io-deleg-a";
	o->owner.owner.owner_len = 10;
	o->openhow.opentype = OPEN4_CREATE;
	o->openhow.openflag4_u.how.mode = UNCHECKED4;
	o->claim.claim = CLAIM_NULL;
	o->claim.open_claim4_u.file.utf8string_val = (char *)name;
	o->claim.open_claim4_u.file.utf8string_len = strlen(name);
	REQUIRE(nc_compound_add(&cp, OP_GETFH));
	CHECK_EQ(run_on(sa, &cp, &res), NFS4_OK);
	if (res.status == NFS4_OK) {
		open_delegation4 *d = &op_res(&res, 2)->nfs_resop4_u.opopen
					       .OPEN4res_u.resok4.delegation;
		GETFH4resok *fh = &op_res(&res, 3)->nfs_resop4_u.opgetfh
					   .GETFH4res_u.resok4;

		REQUIRE(fh->object.nfs_fh4_len <= NFS4_FHSIZE);
		memcpy(fa.fh_buf, fh->object.nfs_fh4_val,
		       fh->object.nfs_fh4_len);
		fa.fh.nfs_fh4_val = fa.fh_buf;
		fa.fh.nfs_fh4_len = fh->object.nfs_fh4_len;

		if (d->delegation_type == OPEN_DELEGATE_READ) {
			deleg = d->open_delegation4_u.read.stateid;
			have = true;
		}
	}
	done(&res);
	/* §10.4: nothing conflicts and the back channel is up. */
	CHECK(have);
	if (!have)
		goto out;

	/* B writes with the anonymous stateid: DELAY while A is recalled. */
	fb = fa;
	fb.fh.nfs_fh4_val = fb.fh_buf;
	memset(&fb.sid, 0, sizeof(fb.sid));
	{
		WRITE4args *w;

		nc_session_compound_init(&cp, "write-conflict");
		put_fh(&cp, &fb);
		w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
		w->stateid = fb.sid;
		w->stable = FILE_SYNC4;
		w->data.data_val = "B";
		w->data.data_len = 1;
		CHECK_EQ(nc_session_compound(sb, &cp, NC_SEQ_NO_RETRY, &res,
					     NULL), 0);
		CHECK_EQ(res.status, NFS4ERR_DELAY);
		done(&res);
	}
	CHECK_EQ(nc_conn_wait_cb_op(ca, OP_CB_RECALL, 1,
				    NC_DEFAULT_TIMEOUT_NS), 0);

	nc_session_compound_init(&cp, "delegreturn");
	put_fh(&cp, &fa);
	nc_compound_add(&cp, OP_DELEGRETURN)->nfs_argop4_u.opdelegreturn
		.deleg_stateid = deleg;
	CHECK_EQ(run_on(sa, &cp, &res), NFS4_OK);
	done(&res);

	CHECK_EQ(write_on(sb, &fb, 0, "B", 1, FILE_SYNC4, NULL), NFS4_OK);
out:
	h_session_free(ca, sa);
	h_session_free(cb, sb);
}

/* --- the write verifier across a restart ------------------------------- */

/*
 * Start s2 on volume vol with an exports file dir/exports holding the one
 * line given (its path in exports[80], for the caller to unlink).
 */
static void
start_with_exports(struct h_server *s2, const char *vol, const char *dir,
		   const char *line, char exports[80])
{
	const char *extra[] = { "-v", vol, "-o", "nfs4.grace_time=0",
				"-o", NULL, NULL };
	char opt[128];
	FILE *fp;

	snprintf(exports, 80, "%s/exports", dir);
	fp = fopen(exports, "w");
	REQUIRE(fp);
	fprintf(fp, "%s\n", line);
	REQUIRE(fclose(fp) == 0);
	snprintf(opt, sizeof(opt), "server.exports=%s", exports);
	extra[5] = opt;
	REQUIRE(h_server_start(s2, extra) == 0);
}

/*
 * RFC 8881 §18.32.3: the verifier changes when the server restarts, so a
 * client can tell that its unstable writes may be gone; FILE_SYNC data
 * is still there after the restart.
 */
static void
test_verifier_restart(void)
{
	char dir[] = "/tmp/pmemnfs-io-XXXXXX", vol[64];
	const char *extra[] = { "-v", vol, "-o", "nfs4.grace_time=0", NULL };
	struct h_server s2;
	struct nc_conn *c;
	struct nc_session *s;
	struct file f;
	WRITE4resok w;
	verifier4 v2;
	uint8_t out[16];
	uint32_t len;
	bool eof;
	stateid4 anon;

	REQUIRE(mkdtemp(dir));
	snprintf(vol, sizeof(vol), "%s/volume", dir);

	REQUIRE(h_server_start(&s2, extra) == 0);
	REQUIRE(h_session(&s2, h_owner("io-verf"), NULL, &c, &s) == 0);
	reclaim_complete(s);
	REQUIRE(open_file_on(s, "io-verf", OPEN4_SHARE_ACCESS_BOTH, true,
			     &f) == NFS4_OK);
	CHECK_EQ(write_on(s, &f, 0, "durable!", 8, FILE_SYNC4, &w), NFS4_OK);
	{
		/* For the pseudo-root phase: a subdirectory, a root xattr. */
		struct nc_compound cp;
		COMPOUND4res res;
		CREATE4args *mk;
		SETXATTR4args *x;

		nc_session_compound_init(&cp, "mkdir-sub");
		cp.args.minorversion = 2;
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		x = &nc_compound_add(&cp, OP_SETXATTR)->nfs_argop4_u.opsetxattr;
		x->sxa_option = SETXATTR4_EITHER;
		x->sxa_key = key("user.rootx");
		x->sxa_value.xattrvalue4_val = "r";
		x->sxa_value.xattrvalue4_len = 1;
		mk = &nc_compound_add(&cp, OP_CREATE)->nfs_argop4_u.opcreate;
		mk->objtype.type = NF4DIR;
		mk->objname.utf8string_val = "sub";
		mk->objname.utf8string_len = 3;
		CHECK_EQ(run_on(s, &cp, &res), NFS4_OK);
		done(&res);
	}
	h_session_free(c, s);
	CHECK_EQ(h_server_stop(&s2, false), 0);

	REQUIRE(h_server_start(&s2, extra) == 0);
	REQUIRE(h_session(&s2, h_owner("io-verf2"), NULL, &c, &s) == 0);
	reclaim_complete(s);
	{
		struct nc_compound cp;
		COMPOUND4res res;
		COMMIT4args *cm;

		nc_session_compound_init(&cp, "commit-after");
		nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object =
			f.fh;
		cm = &nc_compound_add(&cp, OP_COMMIT)->nfs_argop4_u.opcommit;
		cm->offset = 0;
		cm->count = 0;
		CHECK_EQ(run_on(s, &cp, &res), NFS4_OK);
		if (res.status == NFS4_OK) {
			memcpy(v2, op_res(&res, 2)->nfs_resop4_u.opcommit
				       .COMMIT4res_u.resok4.writeverf,
			       sizeof(v2));
			CHECK(memcmp(v2, w.writeverf, sizeof(v2)) != 0);
		}
		done(&res);
	}
	memset(&anon, 0, sizeof(anon));
	CHECK_EQ(read_on(s, &f, &anon, 0, sizeof(out), out, sizeof(out), &len,
			 &eof), NFS4_OK);
	CHECK_EQ(len, 8);
	CHECK(memcmp(out, "durable!", 8) == 0);
	h_session_free(c, s);
	CHECK_EQ(h_server_stop(&s2, false), 0);

	/*
	 * The same volume exported read-only: every change is NFS4ERR_ROFS
	 * (RFC 8881 §18.32.3, RFC 7862 §15.4.3, RFC 8276 §8.4.2.3), reads
	 * still work.
	 */
	{
		char exports[80];
		struct nc_compound cp;
		COMPOUND4res res;

		start_with_exports(&s2, vol, dir,
				   "/ 127.0.0.1(ro,no_root_squash,sec=sys)",
				   exports);
		REQUIRE(h_session(&s2, h_owner("io-ro"), NULL, &c, &s) == 0);
		reclaim_complete(s);
		/* The old open stateid died with the old server. */
		memset(&f.sid, 0, sizeof(f.sid));
		CHECK_EQ(write_on(s, &f, 0, "x", 1, FILE_SYNC4, NULL),
			 NFS4ERR_ROFS);
		CHECK_EQ(read_on(s, &f, &anon, 0, sizeof(out), out,
				 sizeof(out), &len, &eof), NFS4_OK);
		CHECK_EQ(len, 8);

		init42(&cp, "ro-dealloc");
		nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object =
			f.fh;
		nc_compound_add(&cp, OP_DEALLOCATE)->nfs_argop4_u.opdeallocate
			.da_length = 4096;
		CHECK_EQ(run_on(s, &cp, &res), NFS4ERR_ROFS);
		done(&res);

		init42(&cp, "ro-setxattr");
		nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object =
			f.fh;
		nc_compound_add(&cp, OP_SETXATTR)->nfs_argop4_u.opsetxattr
			.sxa_key = key("user.ro");
		CHECK_EQ(run_on(s, &cp, &res), NFS4ERR_ROFS);
		done(&res);
		h_session_free(c, s);
		CHECK_EQ(h_server_stop(&s2, false), 0);
		unlink(exports);
	}

	/*
	 * Only /sub exported: the root is a pseudo-filesystem directory.
	 * Its real directory's xattrs do not show (GETXATTR
	 * NFS4ERR_NOXATTR, LISTXATTRS empty) and can not be changed
	 * (NFS4ERR_ROFS, as SETATTR there).
	 */
	{
		char exports[80];
		struct nc_compound cp;
		COMPOUND4res res;

		start_with_exports(&s2, vol, dir,
				   "/sub 127.0.0.1(rw,no_root_squash,sec=sys)",
				   exports);
		REQUIRE(h_session(&s2, h_owner("io-pseudo"), NULL, &c, &s) == 0);
		reclaim_complete(s);

		init42(&cp, "pseudo-getxattr");
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		nc_compound_add(&cp, OP_GETXATTR)->nfs_argop4_u.opgetxattr
			.gxa_name = key("user.rootx");
		CHECK_EQ(run_on(s, &cp, &res), NFS4ERR_NOXATTR);
		done(&res);

		init42(&cp, "pseudo-listxattrs");
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		nc_compound_add(&cp, OP_LISTXATTRS)->nfs_argop4_u.oplistxattrs
			.lxa_maxcount = 4096;
		CHECK_EQ(run_on(s, &cp, &res), NFS4_OK);
		if (res.status == NFS4_OK)
			CHECK_EQ(op_res(&res, 2)->nfs_resop4_u.oplistxattrs
				 .LISTXATTRS4res_u.lxr_value.lxr_names
				 .lxr_names_len, 0);
		done(&res);

		init42(&cp, "pseudo-setxattr");
		REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
		nc_compound_add(&cp, OP_SETXATTR)->nfs_argop4_u.opsetxattr
			.sxa_key = key("user.x");
		CHECK_EQ(run_on(s, &cp, &res), NFS4ERR_ROFS);
		done(&res);

		h_session_free(c, s);
		CHECK_EQ(h_server_stop(&s2, false), 0);
		unlink(exports);
	}
	unlink(vol);
	rmdir(dir);
}

/*
 * A full volume: WRITE and ALLOCATE answer NFS4ERR_NOSPC (RFC 8881
 * §18.32.3, RFC 7862 §15.1.3), the data written before stays readable,
 * and the server keeps serving.
 */
static void
test_nospc(void)
{
	static uint8_t buf[IO_MAX], out[4096];
	const char *extra[] = { "-o", "server.volume_size=16M", NULL };
	struct h_server s3;
	struct nc_conn *c;
	struct nc_session *s;
	struct file f;
	WRITE4resok w;
	uint64_t off = 0;
	uint32_t len;
	bool eof;
	int st = NFS4_OK;

	REQUIRE(h_server_start(&s3, extra) == 0);
	REQUIRE(h_session(&s3, h_owner("io-nospc"), NULL, &c, &s) == 0);
	reclaim_complete(s);
	REQUIRE(open_file_on(s, "io-full", OPEN4_SHARE_ACCESS_BOTH, true,
			     &f) == NFS4_OK);
	memset(buf, 0x77, sizeof(buf));
	/* 16 MiB of volume can not take 64 MiB of data. */
	for (int i = 0; i < 64; i++) {
		st = write_on(s, &f, off, buf, sizeof(buf), FILE_SYNC4, &w);
		if (st != NFS4_OK)
			break;
		off += w.count;
	}
	CHECK_EQ(st, NFS4ERR_NOSPC);
	CHECK(off > 0);
	CHECK_EQ(read_on(s, &f, &f.sid, 0, sizeof(out), out, sizeof(out),
			 &len, &eof), NFS4_OK);
	CHECK_EQ(len, sizeof(out));
	CHECK(all_bytes(out, len, 0x77));
	{
		struct nc_compound cp;
		COMPOUND4res res;
		ALLOCATE4args *a;

		init42(&cp, "allocate-full");
		nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object =
			f.fh;
		a = &nc_compound_add(&cp, OP_ALLOCATE)->nfs_argop4_u.opallocate;
		a->aa_stateid = f.sid;
		a->aa_offset = 1ull << 30;
		a->aa_length = 64ull << 20;
		CHECK_EQ(run_on(s, &cp, &res), NFS4ERR_NOSPC);
		done(&res);
	}
	h_session_free(c, s);
	CHECK(h_still_serving(&s3));
	CHECK_EQ(h_server_stop(&s3, test_failures > 0), 0);
}

int
main(void)
{
	static const char *const inline_on[] = { "-o", "rpc.inline=true",
						  NULL };

	REQUIRE(h_server_start(&srv, inline_on) == 0);
	REQUIRE(h_session(&srv, h_owner("io"), NULL, &conn, &ses) == 0);
	reclaim_complete(ses);
	{
		/* Every test needs OPEN (open_ops.c): skip until it serves. */
		struct file probe;

		if (open_file_on(ses, "io-probe", OPEN4_SHARE_ACCESS_BOTH,
				 true, &probe) == NFS4ERR_NOTSUPP) {
			fprintf(stderr, "SKIP: the server has no OPEN yet\n");
			h_session_free(conn, ses);
			(void)h_server_stop(&srv, false);
			return 77;
		}
	}

	TEST_RUN(test_write_read_commit);
	TEST_RUN(test_read_cap);
	TEST_RUN(test_read_small_session);
	TEST_RUN(test_read_by_reference);
	TEST_RUN(test_write_then_getattr);
	TEST_RUN(test_stalled_reader);
	TEST_RUN(test_io_errors);
	TEST_RUN(test_seek_allocate_deallocate);
	TEST_RUN(test_clone_copy);
	TEST_RUN(test_v42_misc);
	TEST_RUN(test_xattrs);
	TEST_RUN(test_read_vs_truncate);
	TEST_RUN(test_many_writers);
	TEST_RUN(test_write_recalls_delegation);

	h_session_free(conn, ses);
	if (h_server_stop(&srv, test_failures > 0) != 0)
		test_failures++;

	TEST_RUN(test_verifier_restart);
	TEST_RUN(test_nospc);
	TEST_EXIT();
}
