/*
 * test_fsvc_ns.c - the namespace operations end to end against a running
 * pmemnfsd: filehandles (RFC 8881 §4), the pseudo filesystem and exports
 * (§7, §2.6.3.1), LOOKUP/LOOKUPP, SECINFO/SECINFO_NO_NAME, GETATTR,
 * SETATTR, VERIFY/NVERIFY, ACCESS, CREATE, LINK, REMOVE, RENAME, READDIR,
 * READLINK and OPENATTR, their success and error cases.  Each check names
 * the RFC rule it enforces.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "../testlib.h"

/* How long a SIGHUP reload may take to show (a loaded CI machine). */
#define RELOAD_DEADLINE_NS	(20 * NSEC_PER_SEC)
#define RELOAD_POLL_NS		(20 * NSEC_PER_MSEC)
#define NENTRIES		60
/* Reloads while another client keeps walking the namespace. */
#define RELOAD_ROUNDS		20

static struct h_server srv;
/* The exports file the server reads (rewritten before each SIGHUP). */
static char exports_path[] = "/tmp/pmemnfs-ns-exports-XXXXXX";
#define EXPORTS_DEFAULT	"/ 127.0.0.1(rw,no_root_squash,fsid=0)\n"
static struct nc_conn *conn;
static struct nc_session *ses;

struct fh {
	uint32_t	len;
	char		data[NFS4_FHSIZE];
};

static void
done(COMPOUND4res *res)
{
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, res);
}

static int
run(struct nc_compound *cp, COMPOUND4res *res)
{
	int err = nc_session_compound(ses, cp, 0, res, NULL);

	if (err) {
		fprintf(stderr, "compound: transport error %d\n", err);
		memset(res, 0, sizeof(*res));
		return -1;
	}
	return res->status;
}

static nfs_resop4 *
op_res(COMPOUND4res *res, unsigned n)
{
	REQUIRE(n < res->resarray.resarray_len);
	return &res->resarray.resarray_val[n];
}

static void
add_putfh(struct nc_compound *cp, const struct fh *f)
{
	nfs_argop4 *a = nc_compound_add(cp, OP_PUTFH);

	a->nfs_argop4_u.opputfh.object.nfs_fh4_val = (char *)f->data;
	a->nfs_argop4_u.opputfh.object.nfs_fh4_len = f->len;
}

static void
set_name(component4 *c, const char *s, size_t len)
{
	c->utf8string_val = (char *)s;
	c->utf8string_len = (u_int)len;
}

static void
add_lookup(struct nc_compound *cp, const char *name)
{
	set_name(&nc_compound_add(cp, OP_LOOKUP)->nfs_argop4_u.oplookup.objname,
		 name, strlen(name));
}

static void
save_fh(COMPOUND4res *res, unsigned n, struct fh *out)
{
	nfs_fh4 *o = &op_res(res, n)->nfs_resop4_u.opgetfh.GETFH4res_u.resok4
			      .object;

	REQUIRE(o->nfs_fh4_len <= NFS4_FHSIZE);
	out->len = o->nfs_fh4_len;
	memcpy(out->data, o->nfs_fh4_val, o->nfs_fh4_len);
}

/* PUTROOTFH [LOOKUP path...] GETFH; returns the status. */
static int
walk(const char *const *path, struct fh *out)
{
	struct nc_compound cp;
	COMPOUND4res res;
	unsigned n = 0;
	int st;

	nc_session_compound_init(&cp, "walk");
	nc_compound_add(&cp, OP_PUTROOTFH);
	for (; path && path[n]; n++)
		add_lookup(&cp, path[n]);
	nc_compound_add(&cp, OP_GETFH);
	st = run(&cp, &res);
	if (st == NFS4_OK)
		save_fh(&res, 2 + n, out);
	done(&res);
	return st;
}

/* Status of PUTFH dir; <op> on the current fh, the op filled by fill(). */
static int
one_op(const struct fh *f, nfs_opnum4 op, void (*fill)(nfs_argop4 *, void *),
       void *ctx, COMPOUND4res *res_out)
{
	struct nc_compound cp;
	COMPOUND4res res;
	nfs_argop4 *a;
	int st;

	nc_session_compound_init(&cp, "one");
	if (f)
		add_putfh(&cp, f);
	a = nc_compound_add(&cp, op);
	if (fill)
		fill(a, ctx);
	st = run(&cp, &res);
	if (res_out)
		*res_out = res;
	else
		done(&res);
	return st;
}

static void
fill_lookup(nfs_argop4 *a, void *ctx)
{
	const component4 *c = ctx;

	a->nfs_argop4_u.oplookup.objname = *c;
}

static int
lookup_raw(const struct fh *dir, const char *name, size_t len)
{
	component4 c;

	set_name(&c, name, len);
	return one_op(dir, OP_LOOKUP, fill_lookup, &c, NULL);
}

/* --- attributes in the test: a few fixed-size values ---------------------- */

/* GETATTR of one attribute; the raw value bytes into buf. */
static int
getattr1(const struct fh *f, unsigned attr, void *buf, size_t bufsz,
	 size_t *len)
{
	struct nc_compound cp;
	COMPOUND4res res;
	uint32_t words[3] = { 0, 0, 0 };
	GETATTR4args *g;
	fattr4 *fa;
	int st;

	words[attr / 32] = 1u << (attr % 32);
	nc_session_compound_init(&cp, "getattr1");
	add_putfh(&cp, f);
	g = &nc_compound_add(&cp, OP_GETATTR)->nfs_argop4_u.opgetattr;
	g->attr_request.bitmap4_len = attr / 32 + 1;
	g->attr_request.bitmap4_val = words;
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		fa = &op_res(&res, 2)->nfs_resop4_u.opgetattr.GETATTR4res_u
			      .resok4.obj_attributes;
		*len = MIN(bufsz, fa->attr_vals.attrlist4_len);
		memcpy(buf, fa->attr_vals.attrlist4_val, *len);
		if (fa->attr_vals.attrlist4_len == 0)
			st = -2;	/* not supported: left out */
	}
	done(&res);
	return st;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static uint32_t
attr_u32(const struct fh *f, unsigned attr)
{
	uint8_t b[8];
	size_t len = 0;

	REQUIRE(getattr1(f, attr, b, sizeof(b), &len) == NFS4_OK);
	REQUIRE(len >= 4);
	return be32(b);
}

static uint64_t
attr_u64(const struct fh *f, unsigned attr)
{
	uint8_t b[16];
	size_t len = 0;

	REQUIRE(getattr1(f, attr, b, sizeof(b), &len) == NFS4_OK);
	REQUIRE(len >= 8);
	return be64(b);
}

/* owner / owner_group as a C string. */
static void
attr_str(const struct fh *f, unsigned attr, char *out, size_t size)
{
	uint8_t b[300];
	size_t len = 0, n;

	REQUIRE(getattr1(f, attr, b, sizeof(b), &len) == NFS4_OK);
	n = be32(b);
	REQUIRE(n + 4 <= len && n < size);
	memcpy(out, b + 4, n);
	out[n] = '\0';
}

/* SETATTR with one raw attribute value (XDR bytes); returns the status. */
static int
setattr_raw(const struct fh *f, unsigned attr, const void *val, u_int len)
{
	struct nc_compound cp;
	COMPOUND4res res;
	uint32_t words[3] = { 0, 0, 0 };
	SETATTR4args *s;
	int st;

	words[attr / 32] = 1u << (attr % 32);
	nc_session_compound_init(&cp, "setattr");
	add_putfh(&cp, f);
	s = &nc_compound_add(&cp, OP_SETATTR)->nfs_argop4_u.opsetattr;
	memset(&s->stateid, 0, sizeof(s->stateid));	/* anonymous */
	s->obj_attributes.attrmask.bitmap4_len = attr / 32 + 1;
	s->obj_attributes.attrmask.bitmap4_val = words;
	s->obj_attributes.attr_vals.attrlist4_val = (char *)val;
	s->obj_attributes.attr_vals.attrlist4_len = len;
	st = run(&cp, &res);
	done(&res);
	return st;
}

static int
setattr_mode(const struct fh *f, uint32_t mode)
{
	uint8_t b[4] = { (uint8_t)(mode >> 24), (uint8_t)(mode >> 16),
			 (uint8_t)(mode >> 8), (uint8_t)mode };

	return setattr_raw(f, FATTR4_MODE, b, 4);
}

static int
setattr_owner(const struct fh *f, unsigned attr, const char *s)
{
	uint8_t b[64];
	size_t n = strlen(s), padded = (n + 3) & ~(size_t)3;

	REQUIRE(4 + padded <= sizeof(b));
	memset(b, 0, sizeof(b));
	b[0] = (uint8_t)(n >> 24);
	b[1] = (uint8_t)(n >> 16);
	b[2] = (uint8_t)(n >> 8);
	b[3] = (uint8_t)n;
	memcpy(b + 4, s, n);
	return setattr_raw(f, attr, b, (u_int)(4 + padded));
}

/* --- CREATE / REMOVE helpers ------------------------------------------------ */

struct create_ctx {
	nfs_ftype4	type;
	const char	*name;
	size_t		namelen;
	const char	*link;
};

static void
fill_create(nfs_argop4 *a, void *ctx)
{
	struct create_ctx *c = ctx;
	CREATE4args *ca = &a->nfs_argop4_u.opcreate;

	ca->objtype.type = c->type;
	if (c->type == NF4LNK)
		set_name(&ca->objtype.createtype4_u.linkdata, c->link,
			 strlen(c->link));
	if (c->type == NF4BLK || c->type == NF4CHR) {
		ca->objtype.createtype4_u.devdata.specdata1 = 8;
		ca->objtype.createtype4_u.devdata.specdata2 = 1;
	}
	set_name(&ca->objname, c->name, c->namelen);
}

/* CREATE in dir; *out (may be NULL) gets the new object's handle. */
static int
create_obj(const struct fh *dir, nfs_ftype4 type, const char *name,
	   const char *link, struct fh *out, CREATE4resok *ok)
{
	struct create_ctx c = { type, name, strlen(name), link };
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "create");
	add_putfh(&cp, dir);
	fill_create(nc_compound_add(&cp, OP_CREATE), &c);
	nc_compound_add(&cp, OP_GETFH);
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		if (out)
			save_fh(&res, 3, out);
		if (ok)
			*ok = op_res(&res, 2)->nfs_resop4_u.opcreate
				      .CREATE4res_u.resok4;
		if (ok)	/* attrset is freed with res: do not keep it */
			memset(&ok->attrset, 0, sizeof(ok->attrset));
	}
	if (st != NFS4_OK && nc_res_status(&res, 2) >= 0)
		st = nc_res_status(&res, 2);
	done(&res);
	return st;
}

static int
create_dir(const struct fh *dir, const char *name, struct fh *out)
{
	return create_obj(dir, NF4DIR, name, NULL, out, NULL);
}

static void
fill_remove(nfs_argop4 *a, void *ctx)
{
	set_name(&a->nfs_argop4_u.opremove.target, ctx, strlen(ctx));
}

static int
remove_name(const struct fh *dir, const char *name)
{
	return one_op(dir, OP_REMOVE, fill_remove, (void *)name, NULL);
}

/* PUTFH src SAVEFH PUTFH dst RENAME old new. */
static int
rename_names(const struct fh *sdir, const char *old, const struct fh *ddir,
	     const char *new, RENAME4resok *ok)
{
	struct nc_compound cp;
	COMPOUND4res res;
	RENAME4args *r;
	int st;

	nc_session_compound_init(&cp, "rename");
	add_putfh(&cp, sdir);
	nc_compound_add(&cp, OP_SAVEFH);
	add_putfh(&cp, ddir);
	r = &nc_compound_add(&cp, OP_RENAME)->nfs_argop4_u.oprename;
	set_name(&r->oldname, old, strlen(old));
	set_name(&r->newname, new, strlen(new));
	st = run(&cp, &res);
	if (st == NFS4_OK && ok)
		*ok = op_res(&res, 4)->nfs_resop4_u.oprename.RENAME4res_u.resok4;
	done(&res);
	return st;
}

static struct fh root;

/* --- tests ------------------------------------------------------------------ */

/*
 * RFC 8881 §18.21 (PUTROOTFH), §5.6 (REQUIRED attributes), §18.8 (GETFH):
 * the default export "/" is the root; its attributes are sane.
 */
static void
test_root_attrs(void)
{
	uint8_t b[64];
	size_t len = 0;
	char owner[256];

	REQUIRE(walk(NULL, &root) == NFS4_OK);
	CHECK(root.len > 0 && root.len <= NFS4_FHSIZE);
	CHECK_EQ(attr_u32(&root, FATTR4_TYPE), NF4DIR);
	CHECK_EQ(attr_u32(&root, FATTR4_FH_EXPIRE_TYPE), FH4_PERSISTENT);
	CHECK_EQ(attr_u32(&root, FATTR4_MAXNAME), 255u);
	CHECK(attr_u32(&root, FATTR4_NUMLINKS) >= 2);
	CHECK(attr_u64(&root, FATTR4_FILEID) != 0);
	CHECK_EQ(attr_u64(&root, FATTR4_MOUNTED_ON_FILEID),
		 attr_u64(&root, FATTR4_FILEID));
	CHECK(attr_u32(&root, FATTR4_LEASE_TIME) > 0);
	CHECK(attr_u64(&root, FATTR4_SPACE_TOTAL) > 0);
	/* supported_attrs holds every REQUIRED attribute (§5.6). */
	REQUIRE(getattr1(&root, FATTR4_SUPPORTED_ATTRS, b, sizeof(b), &len) ==
		NFS4_OK);
	REQUIRE(len >= 12 && be32(b) >= 2);
	CHECK_EQ(be32(b + 4) & 0x00080fffu, 0x00080fffu);	/* 0-11, 19 */
	CHECK(be32(b) >= 3 && (be32(b + 12) & (1u << (75 - 64))));
	/* §5.8.2.16: the filehandle attribute is the handle. */
	REQUIRE(getattr1(&root, FATTR4_FILEHANDLE, b, sizeof(b), &len) ==
		NFS4_OK);
	CHECK_EQ(be32(b), root.len);
	CHECK(memcmp(b + 4, root.data, root.len) == 0);
	/* §5.5: write-only attributes cannot be read. */
	CHECK_EQ(getattr1(&root, FATTR4_TIME_MODIFY_SET, b, sizeof(b), &len),
		 NFS4ERR_INVAL);
	/* §5.9: owners are strings, numeric when the id has no name. */
	attr_str(&root, FATTR4_OWNER, owner, sizeof(owner));
	CHECK(owner[0] != '\0');
	/* PUTPUBFH is the root too (§18.20). */
	CHECK_EQ(one_op(NULL, OP_PUTPUBFH, NULL, NULL, NULL), NFS4_OK);
	/* No current filehandle: NFS4ERR_NOFILEHANDLE (§15.1.2.5). */
	CHECK_EQ(one_op(NULL, OP_GETATTR, NULL, NULL, NULL),
		 NFS4ERR_NOFILEHANDLE);
	CHECK_EQ(one_op(NULL, OP_LOOKUPP, NULL, NULL, NULL),
		 NFS4ERR_NOFILEHANDLE);
	/* §18.14.3: LOOKUPP at the root of everything is NFS4ERR_NOENT. */
	CHECK_EQ(one_op(&root, OP_LOOKUPP, NULL, NULL, NULL), NFS4ERR_NOENT);
}

/*
 * RFC 8881 §4.2.3, §18.19.3: a malformed or forged handle is
 * NFS4ERR_BADHANDLE; a removed file's handle NFS4ERR_STALE.
 */
static void
test_bad_handles(void)
{
	struct fh f, d;
	uint8_t junk[NFS4_FHSIZE];

	REQUIRE(create_dir(&root, "stale-dir", &d) == NFS4_OK);
	/* Garbage of a plausible length. */
	memset(&f, 0, sizeof(f));
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 37 + 11);
	memcpy(f.data, junk, 32);
	f.len = 32;
	CHECK_EQ(one_op(&f, OP_GETFH, NULL, NULL, NULL), NFS4ERR_BADHANDLE);
	/* Truncated, over-long and empty. */
	f = d;
	f.len = 8;
	CHECK_EQ(one_op(&f, OP_GETFH, NULL, NULL, NULL), NFS4ERR_BADHANDLE);
	f = d;
	f.len = 0;
	CHECK_EQ(one_op(&f, OP_GETFH, NULL, NULL, NULL), NFS4ERR_BADHANDLE);
	/* Forged: another inode number or export id, MAC unchanged. */
	f = d;
	f.data[15] ^= 1;
	CHECK_EQ(one_op(&f, OP_GETFH, NULL, NULL, NULL), NFS4ERR_BADHANDLE);
	f = d;
	f.data[7] ^= 2;
	CHECK_EQ(one_op(&f, OP_GETFH, NULL, NULL, NULL), NFS4ERR_BADHANDLE);
	/* Gone: the handle is well formed but names nothing. */
	REQUIRE(remove_name(&root, "stale-dir") == NFS4_OK);
	CHECK_EQ(one_op(&d, OP_GETATTR, NULL, NULL, NULL), NFS4ERR_STALE);
}

/*
 * RFC 8881 §18.13.3 and §1.7.3 (component names): empty and non-UTF-8
 * names are NFS4ERR_INVAL, "." ".." and '/' NFS4ERR_BADNAME, more than
 * maxname bytes NFS4ERR_NAMETOOLONG, a missing name NFS4ERR_NOENT, a
 * non-directory NFS4ERR_NOTDIR (a symlink NFS4ERR_SYMLINK).
 */
static void
test_lookup_names(void)
{
	char longname[300];
	struct fh d, l, x;

	memset(longname, 'n', sizeof(longname));
	REQUIRE(create_dir(&root, "names", &d) == NFS4_OK);
	REQUIRE(create_dir(&d, "sub", NULL) == NFS4_OK);
	CHECK_EQ(lookup_raw(&d, "", 0), NFS4ERR_INVAL);
	CHECK_EQ(lookup_raw(&d, "\xff\xfe", 2), NFS4ERR_INVAL);
	CHECK_EQ(lookup_raw(&d, "\xc0\xaf", 2), NFS4ERR_INVAL);	/* overlong */
	CHECK_EQ(lookup_raw(&d, ".", 1), NFS4ERR_BADNAME);
	CHECK_EQ(lookup_raw(&d, "..", 2), NFS4ERR_BADNAME);
	CHECK_EQ(lookup_raw(&d, "a/b", 3), NFS4ERR_BADNAME);
	CHECK_EQ(lookup_raw(&d, longname, 256), NFS4ERR_NAMETOOLONG);
	CHECK_EQ(lookup_raw(&d, "nothing", 7), NFS4ERR_NOENT);
	CHECK_EQ(lookup_raw(&d, "sub", 3), NFS4_OK);
	CHECK_EQ(lookup_raw(&d, "s\xc3\xbc" "b", 4), NFS4ERR_NOENT);
	/* The same checks on CREATE and REMOVE (§18.4.3, §18.25.3). */
	CHECK_EQ(create_dir(&d, "..", NULL), NFS4ERR_BADNAME);
	CHECK_EQ(create_dir(&d, "a/b", NULL), NFS4ERR_BADNAME);
	CHECK_EQ(create_dir(&d, "", NULL), NFS4ERR_INVAL);
	CHECK_EQ(remove_name(&d, "."), NFS4ERR_BADNAME);
	CHECK_EQ(remove_name(&d, ""), NFS4ERR_INVAL);
	/* Non-directories. */
	REQUIRE(create_obj(&d, NF4LNK, "lnk", "sub", &l, NULL) == NFS4_OK);
	REQUIRE(create_obj(&d, NF4FIFO, "fifo", NULL, &x, NULL) == NFS4_OK);
	CHECK_EQ(lookup_raw(&l, "x", 1), NFS4ERR_SYMLINK);
	CHECK_EQ(lookup_raw(&x, "x", 1), NFS4ERR_NOTDIR);
	CHECK_EQ(one_op(&x, OP_LOOKUPP, NULL, NULL, NULL), NFS4ERR_NOTDIR);
	/* LOOKUPP (§18.14): names/sub/.. is names. */
	{
		const char *p[] = { "names", "sub", NULL };
		struct nc_compound cp;
		COMPOUND4res res;
		struct fh up;

		REQUIRE(walk(p, &x) == NFS4_OK);
		nc_session_compound_init(&cp, "lookupp");
		add_putfh(&cp, &x);
		nc_compound_add(&cp, OP_LOOKUPP);
		nc_compound_add(&cp, OP_GETFH);
		REQUIRE(run(&cp, &res) == NFS4_OK);
		save_fh(&res, 3, &up);
		done(&res);
		CHECK(up.len == d.len && memcmp(up.data, d.data, d.len) == 0);
	}
}

/*
 * RFC 8881 §18.4 (CREATE), §18.24 (READLINK), §18.17 (OPENATTR): every
 * non-regular type; NF4REG is NFS4ERR_BADTYPE; an existing name
 * NFS4ERR_EXIST; an empty link text NFS4ERR_INVAL; the directory's
 * change_info is atomic.
 */
static void
test_create(void)
{
	struct fh d, lnk, f;
	CREATE4resok ok;
	struct nc_compound cp;
	COMPOUND4res res;

	REQUIRE(create_dir(&root, "create", &d) == NFS4_OK);
	REQUIRE(create_obj(&d, NF4DIR, "dir", NULL, &f, &ok) == NFS4_OK);
	CHECK(ok.cinfo.atomic);
	CHECK(ok.cinfo.after > ok.cinfo.before);
	CHECK_EQ(attr_u32(&f, FATTR4_TYPE), NF4DIR);
	CHECK_EQ(create_obj(&d, NF4LNK, "lnk", "../target/x", &lnk, NULL),
		 NFS4_OK);
	CHECK_EQ(attr_u32(&lnk, FATTR4_TYPE), NF4LNK);
	CHECK_EQ(create_obj(&d, NF4FIFO, "fifo", NULL, &f, NULL), NFS4_OK);
	CHECK_EQ(attr_u32(&f, FATTR4_TYPE), NF4FIFO);
	CHECK_EQ(create_obj(&d, NF4SOCK, "sock", NULL, &f, NULL), NFS4_OK);
	CHECK_EQ(attr_u32(&f, FATTR4_TYPE), NF4SOCK);
	CHECK_EQ(create_obj(&d, NF4CHR, "chr", NULL, &f, NULL), NFS4_OK);
	CHECK_EQ(attr_u32(&f, FATTR4_TYPE), NF4CHR);
	CHECK_EQ(attr_u64(&f, FATTR4_RAWDEV), ((uint64_t)8 << 32) | 1);
	CHECK_EQ(create_obj(&d, NF4BLK, "blk", NULL, &f, NULL), NFS4_OK);
	CHECK_EQ(create_obj(&d, NF4REG, "reg", NULL, NULL, NULL),
		 NFS4ERR_BADTYPE);
	CHECK_EQ(create_obj(&d, NF4DIR, "dir", NULL, NULL, NULL),
		 NFS4ERR_EXIST);
	CHECK_EQ(create_obj(&d, NF4LNK, "empty", "", NULL, NULL),
		 NFS4ERR_INVAL);
	CHECK_EQ(create_obj(&f, NF4DIR, "x", NULL, NULL, NULL),
		 NFS4ERR_NOTDIR);

	/* READLINK gives the text back; other types NFS4ERR_WRONG_TYPE. */
	nc_session_compound_init(&cp, "readlink");
	add_putfh(&cp, &lnk);
	nc_compound_add(&cp, OP_READLINK);
	REQUIRE(run(&cp, &res) == NFS4_OK);
	{
		linktext4 *t = &op_res(&res, 2)->nfs_resop4_u.opreadlink
				       .READLINK4res_u.resok4.link;

		CHECK_EQ(t->utf8string_len, strlen("../target/x"));
		CHECK(memcmp(t->utf8string_val, "../target/x",
			     t->utf8string_len) == 0);
	}
	done(&res);
	CHECK_EQ(one_op(&d, OP_READLINK, NULL, NULL, NULL), NFS4ERR_WRONG_TYPE);
	CHECK_EQ(one_op(&f, OP_READLINK, NULL, NULL, NULL), NFS4ERR_WRONG_TYPE);
	/* Named attributes are declined (named_attr is false). */
	CHECK_EQ(one_op(&d, OP_OPENATTR, NULL, NULL, NULL), NFS4ERR_NOTSUPP);
	CHECK_EQ(attr_u32(&d, FATTR4_NAMED_ATTR), 0u);
}

static void
fill_link(nfs_argop4 *a, void *ctx)
{
	set_name(&a->nfs_argop4_u.oplink.newname, ctx, strlen(ctx));
}

/* PUTFH src SAVEFH PUTFH dir LINK name. */
static int
link_name(const struct fh *src, const struct fh *dir, const char *name)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	nc_session_compound_init(&cp, "link");
	add_putfh(&cp, src);
	nc_compound_add(&cp, OP_SAVEFH);
	add_putfh(&cp, dir);
	fill_link(nc_compound_add(&cp, OP_LINK), (void *)name);
	st = run(&cp, &res);
	done(&res);
	return st;
}

/*
 * RFC 8881 §18.9 (LINK), §18.25 (REMOVE), §18.26 (RENAME): links count,
 * a directory cannot be linked (NFS4ERR_ISDIR), RENAME over a non-empty
 * directory or across types is NFS4ERR_EXIST, into its own subtree
 * NFS4ERR_INVAL, without a saved filehandle NFS4ERR_NOFILEHANDLE.
 */
static void
test_link_remove_rename(void)
{
	struct fh d, a, b, f;
	RENAME4resok rok;

	REQUIRE(create_dir(&root, "lrr", &d) == NFS4_OK);
	REQUIRE(create_dir(&d, "a", &a) == NFS4_OK);
	REQUIRE(create_dir(&d, "b", &b) == NFS4_OK);
	REQUIRE(create_obj(&a, NF4FIFO, "f", NULL, &f, NULL) == NFS4_OK);
	CHECK_EQ(link_name(&f, &b, "f2"), NFS4_OK);
	CHECK_EQ(attr_u32(&f, FATTR4_NUMLINKS), 2u);
	CHECK_EQ(link_name(&f, &b, "f2"), NFS4ERR_EXIST);
	CHECK_EQ(link_name(&a, &b, "dirlink"), NFS4ERR_ISDIR);
	CHECK_EQ(link_name(&b, &f, "x"), NFS4ERR_NOTDIR);
	CHECK_EQ(link_name(&f, &b, ".."), NFS4ERR_BADNAME);
	/* No saved filehandle. */
	{
		struct nc_compound cp;
		COMPOUND4res res;

		nc_session_compound_init(&cp, "link-nosaved");
		add_putfh(&cp, &b);
		fill_link(nc_compound_add(&cp, OP_LINK), "y");
		CHECK_EQ(run(&cp, &res), NFS4ERR_NOFILEHANDLE);
		done(&res);
	}
	CHECK_EQ(remove_name(&b, "f2"), NFS4_OK);
	CHECK_EQ(attr_u32(&f, FATTR4_NUMLINKS), 1u);
	CHECK_EQ(remove_name(&b, "f2"), NFS4ERR_NOENT);
	CHECK_EQ(remove_name(&f, "x"), NFS4ERR_NOTDIR);

	/* RENAME a file between directories; the old name is gone. */
	CHECK_EQ(rename_names(&a, "f", &b, "g", &rok), NFS4_OK);
	CHECK(rok.source_cinfo.after > rok.source_cinfo.before);
	CHECK(rok.target_cinfo.after > rok.target_cinfo.before);
	CHECK_EQ(lookup_raw(&a, "f", 1), NFS4ERR_NOENT);
	CHECK_EQ(lookup_raw(&b, "g", 1), NFS4_OK);
	CHECK_EQ(rename_names(&a, "f", &b, "h", NULL), NFS4ERR_NOENT);
	/* A file over a directory and a directory over a file. */
	REQUIRE(create_dir(&b, "sub", NULL) == NFS4_OK);
	CHECK_EQ(rename_names(&b, "g", &b, "sub", NULL), NFS4ERR_EXIST);
	CHECK_EQ(rename_names(&b, "sub", &b, "g", NULL), NFS4ERR_EXIST);
	/* A directory over a non-empty one; over an empty one works. */
	REQUIRE(create_dir(&a, "full", NULL) == NFS4_OK);
	{
		const char *p[] = { "lrr", "a", "full", NULL };
		struct fh full;

		REQUIRE(walk(p, &full) == NFS4_OK);
		REQUIRE(create_dir(&full, "child", NULL) == NFS4_OK);
	}
	CHECK_EQ(rename_names(&b, "sub", &a, "full", NULL), NFS4ERR_EXIST);
	REQUIRE(create_dir(&a, "empty", NULL) == NFS4_OK);
	CHECK_EQ(rename_names(&b, "sub", &a, "empty", NULL), NFS4_OK);
	/* Into its own subtree. */
	CHECK_EQ(rename_names(&d, "a", &a, "inside", NULL), NFS4ERR_INVAL);
	/* Bad names. */
	CHECK_EQ(rename_names(&b, ".", &a, "x", NULL), NFS4ERR_BADNAME);
	CHECK_EQ(rename_names(&b, "g", &a, "", NULL), NFS4ERR_INVAL);
	/* Same file under two names: a no-op that succeeds. */
	REQUIRE(link_name(&f, &b, "g2") == NFS4_OK);
	CHECK_EQ(rename_names(&b, "g", &b, "g2", NULL), NFS4_OK);
	/* RENAME with a non-directory as source or target. */
	CHECK_EQ(rename_names(&f, "x", &b, "y", NULL), NFS4ERR_NOTDIR);
	/* A non-empty directory cannot be removed. */
	CHECK_EQ(remove_name(&d, "a"), NFS4ERR_NOTEMPTY);
}

struct rd_page {
	nfs_cookie4	cookie;
	verifier4	verf;
	uint32_t	maxcount;
	uint32_t	want;		/* attribute bitmap word 0 */
};

static void
fill_readdir(nfs_argop4 *a, void *ctx)
{
	struct rd_page *p = ctx;
	READDIR4args *r = &a->nfs_argop4_u.opreaddir;
	static uint32_t words[2];

	r->cookie = p->cookie;
	memcpy(r->cookieverf, p->verf, sizeof(verifier4));
	r->dircount = p->maxcount;
	r->maxcount = p->maxcount;
	words[0] = p->want;
	words[1] = 0;
	r->attr_request.bitmap4_len = 2;
	r->attr_request.bitmap4_val = words;
}

/*
 * RFC 8881 §18.23 (READDIR): paging by cookie lists every entry exactly
 * once; cookies 1 and 2 are NFS4ERR_BAD_COOKIE, a cookieverf not handed
 * out NFS4ERR_NOT_SAME, a maxcount too small for one entry
 * NFS4ERR_TOOSMALL, a file NFS4ERR_NOTDIR.
 */
static void
test_readdir(void)
{
	struct fh d, f;
	bool seen[NENTRIES];
	struct rd_page p;
	unsigned total = 0, pages = 0;
	bool eof = false;

	memset(seen, 0, sizeof(seen));
	REQUIRE(create_dir(&root, "rd", &d) == NFS4_OK);
	for (unsigned i = 0; i < NENTRIES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "entry-%03u", i);
		REQUIRE(create_obj(&d, NF4FIFO, name, NULL, &f, NULL) ==
			NFS4_OK);
	}
	memset(&p, 0, sizeof(p));
	p.maxcount = 1024;
	p.want = (1u << FATTR4_TYPE) | (1u << FATTR4_FILEID) |
		 (1u << FATTR4_RDATTR_ERROR);
	while (!eof && pages < 1000) {
		COMPOUND4res res;
		READDIR4resok *ok;
		entry4 *e;

		REQUIRE(one_op(&d, OP_READDIR, fill_readdir, &p, &res) ==
			NFS4_OK);
		ok = &op_res(&res, 2)->nfs_resop4_u.opreaddir.READDIR4res_u
			      .resok4;
		for (e = ok->reply.entries; e; e = e->nextentry) {
			unsigned idx;
			char name[32];

			REQUIRE(e->name.utf8string_len < sizeof(name));
			memcpy(name, e->name.utf8string_val,
			       e->name.utf8string_len);
			name[e->name.utf8string_len] = '\0';
			REQUIRE(sscanf(name, "entry-%u", &idx) == 1);
			REQUIRE(idx < NENTRIES);
			CHECK(!seen[idx]);
			seen[idx] = true;
			CHECK(e->cookie > 2);
			/* type (4) + rdattr_error (4) + fileid (8) */
			CHECK_EQ(e->attrs.attr_vals.attrlist4_len, 16u);
			total++;
			p.cookie = e->cookie;
		}
		memcpy(p.verf, ok->cookieverf, sizeof(verifier4));
		eof = ok->reply.eof;
		pages++;
		done(&res);
	}
	CHECK(eof);
	CHECK_EQ(total, NENTRIES);
	CHECK(pages > 1);	/* 1 KiB pages: paging really happened */

	memset(&p, 0, sizeof(p));
	p.maxcount = 4096;
	p.cookie = 1;
	CHECK_EQ(one_op(&d, OP_READDIR, fill_readdir, &p, NULL),
		 NFS4ERR_BAD_COOKIE);
	p.cookie = 2;
	CHECK_EQ(one_op(&d, OP_READDIR, fill_readdir, &p, NULL),
		 NFS4ERR_BAD_COOKIE);
	p.cookie = 5;
	memset(p.verf, 0x5a, sizeof(p.verf));
	CHECK_EQ(one_op(&d, OP_READDIR, fill_readdir, &p, NULL),
		 NFS4ERR_NOT_SAME);
	memset(&p, 0, sizeof(p));
	p.maxcount = 20;
	CHECK_EQ(one_op(&d, OP_READDIR, fill_readdir, &p, NULL),
		 NFS4ERR_TOOSMALL);
	p.maxcount = 4096;
	CHECK_EQ(one_op(&f, OP_READDIR, fill_readdir, &p, NULL),
		 NFS4ERR_NOTDIR);
}

struct verify_ctx {
	uint32_t	word1;
	uint8_t		val[4];
};

static void
fill_verify(nfs_argop4 *a, void *ctx)
{
	struct verify_ctx *v = ctx;
	static uint32_t words[2];
	fattr4 *fa = &a->nfs_argop4_u.opverify.obj_attributes;

	words[0] = 0;
	words[1] = v->word1;
	fa->attrmask.bitmap4_len = 2;
	fa->attrmask.bitmap4_val = words;
	fa->attr_vals.attrlist4_val = (char *)v->val;
	fa->attr_vals.attrlist4_len = 4;
}

/*
 * RFC 8881 §18.30 (SETATTR), §18.31/§18.15 (VERIFY/NVERIFY), §18.1
 * (ACCESS), §5.9 (owners): mode round trip, read-only attributes
 * NFS4ERR_INVAL, unsupported ones NFS4ERR_ATTRNOTSUPP, a size on a
 * directory NFS4ERR_ISDIR, an unmappable owner NFS4ERR_BADOWNER, numeric
 * owners; another user is refused what the mode bits refuse.
 */
static void
test_setattr_verify_access(void)
{
	struct fh d;
	struct verify_ctx v;
	uint8_t size[8] = { 0 };
	uint8_t type[4] = { 0, 0, 0, 2 };
	char owner[256];
	COMPOUND4res res;
	ACCESS4resok *ok;
	uint32_t want = ACCESS4_READ | ACCESS4_LOOKUP | ACCESS4_MODIFY;

	REQUIRE(create_dir(&root, "sa", &d) == NFS4_OK);
	CHECK_EQ(setattr_mode(&d, 0700), NFS4_OK);
	CHECK_EQ(attr_u32(&d, FATTR4_MODE), 0700u);
	CHECK_EQ(setattr_mode(&d, 0170000), NFS4ERR_INVAL);
	CHECK_EQ(setattr_raw(&d, FATTR4_TYPE, type, 4), NFS4ERR_INVAL);
	CHECK_EQ(setattr_raw(&d, FATTR4_ACL, type, 4), NFS4ERR_ATTRNOTSUPP);
	CHECK_EQ(setattr_raw(&d, FATTR4_SIZE, size, 8), NFS4ERR_ISDIR);
	CHECK_EQ(setattr_raw(&d, FATTR4_MODE, type, 2), NFS4ERR_BADXDR);
	CHECK_EQ(setattr_owner(&d, FATTR4_OWNER, "no-such-user@no.where"),
		 NFS4ERR_BADOWNER);
	CHECK_EQ(setattr_owner(&d, FATTR4_OWNER, "4242"), NFS4_OK);
	attr_str(&d, FATTR4_OWNER, owner, sizeof(owner));
	CHECK_EQ(strcmp(owner, "4242"), 0);
	CHECK_EQ(setattr_owner(&d, FATTR4_OWNER_GROUP, "4343"), NFS4_OK);
	attr_str(&d, FATTR4_OWNER_GROUP, owner, sizeof(owner));
	CHECK_EQ(strcmp(owner, "4343"), 0);

	/* VERIFY / NVERIFY on the mode. */
	memset(&v, 0, sizeof(v));
	v.word1 = 1u << (FATTR4_MODE - 32);
	v.val[2] = 0x01;
	v.val[3] = 0xc0;		/* 0700 */
	CHECK_EQ(one_op(&d, OP_VERIFY, fill_verify, &v, NULL), NFS4_OK);
	CHECK_EQ(one_op(&d, OP_NVERIFY, fill_verify, &v, NULL), NFS4ERR_SAME);
	v.val[3] = 0xed;		/* 0755 */
	CHECK_EQ(one_op(&d, OP_VERIFY, fill_verify, &v, NULL),
		 NFS4ERR_NOT_SAME);
	CHECK_EQ(one_op(&d, OP_NVERIFY, fill_verify, &v, NULL), NFS4_OK);
	v.word1 = 1u << (FATTR4_TIME_MODIFY_SET - 32);
	CHECK_EQ(one_op(&d, OP_VERIFY, fill_verify, &v, NULL), NFS4ERR_INVAL);

	/* ACCESS: root (no_root_squash by default) gets everything asked. */
	{
		struct nc_compound cp;

		nc_session_compound_init(&cp, "access");
		add_putfh(&cp, &d);
		nc_compound_add(&cp, OP_ACCESS)->nfs_argop4_u.opaccess.access =
			want;
		REQUIRE(run(&cp, &res) == NFS4_OK);
		ok = &op_res(&res, 2)->nfs_resop4_u.opaccess.ACCESS4res_u
			      .resok4;
		CHECK_EQ(ok->supported, want);
		CHECK_EQ(ok->access, want);
		done(&res);

		/* uid 1000 is neither owner (4242) nor in group 4343: 0700. */
		REQUIRE(nc_conn_set_auth_sys(conn, 1000, 1000) == 0);
		REQUIRE(run(&cp, &res) == NFS4_OK);
		ok = &op_res(&res, 2)->nfs_resop4_u.opaccess.ACCESS4res_u
			      .resok4;
		CHECK_EQ(ok->access, 0u);
		done(&res);
		/* And cannot change the mode of a file it does not own. */
		CHECK_EQ(setattr_mode(&d, 0777), NFS4ERR_PERM);
		CHECK_EQ(create_dir(&d, "x", NULL), NFS4ERR_ACCESS);
		REQUIRE(nc_conn_set_auth_sys(conn, 0, 0) == 0);

		/* Undefined bits are NFS4ERR_INVAL. */
		nc_session_compound_init(&cp, "access-bad");
		add_putfh(&cp, &d);
		nc_compound_add(&cp, OP_ACCESS)->nfs_argop4_u.opaccess.access =
			0x80000000u;
		CHECK_EQ(run(&cp, &res), NFS4ERR_INVAL);
		done(&res);
	}
}

static void
fill_secinfo(nfs_argop4 *a, void *ctx)
{
	set_name(&a->nfs_argop4_u.opsecinfo.name, ctx, strlen(ctx));
}

static void
fill_secinfo_nn(nfs_argop4 *a, void *ctx)
{
	a->nfs_argop4_u.opsecinfo_no_name = *(secinfo_style4 *)ctx;
}

/* The flavours SECINFO (name) or SECINFO_NO_NAME (name NULL) answers. */
static unsigned
secinfo(const struct fh *dir, const char *name, uint32_t *flavors,
	unsigned max, int *status)
{
	secinfo_style4 style = SECINFO_STYLE4_CURRENT_FH;
	COMPOUND4res res;
	SECINFO4resok *ok;
	unsigned n = 0;

	*status = name ? one_op(dir, OP_SECINFO, fill_secinfo, (void *)name,
				&res) :
			 one_op(dir, OP_SECINFO_NO_NAME, fill_secinfo_nn,
				&style, &res);
	if (*status == NFS4_OK) {
		ok = &op_res(&res, 2)->nfs_resop4_u.opsecinfo.SECINFO4res_u
			      .resok4;
		for (; n < ok->SECINFO4resok_len && n < max; n++)
			flavors[n] = ok->SECINFO4resok_val[n].flavor;
	}
	done(&res);
	return n;
}

/* SIGHUP the server with exports file path and wait until it shows. */
static void
reload_exports(const char *text, bool want_pseudo)
{
	FILE *fp;
	uint64_t deadline;
	int st;

	fp = fopen(exports_path, "w");
	REQUIRE(fp != NULL);
	fputs(text, fp);
	REQUIRE(fclose(fp) == 0);
	REQUIRE(kill(srv.pid, SIGHUP) == 0);
	/* The pseudo root's fsid (0, 1) tells the new table is in use. */
	deadline = clock_now_ns() + RELOAD_DEADLINE_NS;
	for (;;) {
		struct fh r;
		uint8_t b[16];
		size_t len = 0;
		bool pseudo;

		REQUIRE(walk(NULL, &r) == NFS4_OK);
		st = getattr1(&r, FATTR4_FSID, b, sizeof(b), &len);
		/* The table may change between the two COMPOUNDs. */
		REQUIRE(st == NFS4_OK || st == NFS4ERR_STALE);
		pseudo = st == NFS4_OK && be64(b + 8) == 1;
		if (st == NFS4_OK && pseudo == want_pseudo)
			return;
		REQUIRE(clock_now_ns() < deadline);
		h_sleep_ns(RELOAD_POLL_NS);
	}
}

/*
 * RFC 8881 §7 (pseudo filesystem, exports), §2.6.3.1 (WRONGSEC,
 * SECINFO), §18.29/§18.45: after a SIGHUP reload only the listed paths
 * are reachable, joined by read-only pseudo directories; each export has
 * its own fsid; a handle into a path no longer exported is
 * NFS4ERR_STALE; an export without a rule for us is NFS4ERR_ACCESS; one
 * with other flavours NFS4ERR_WRONGSEC, and SECINFO names them; ro is
 * NFS4ERR_ROFS; all_squash makes files the anonymous user's.
 */
static void
test_exports_pseudo(void)
{
	struct fh a, b, c, e, old, pa, up;
	uint32_t flv[4];
	char owner[64];
	int st;
	unsigned n;

	/* The volume paths first, while "/" is still exported. */
	REQUIRE(create_dir(&root, "a", &a) == NFS4_OK);
	REQUIRE(create_dir(&a, "b", &b) == NFS4_OK);
	/* Writable for the squashed user of the export below. */
	REQUIRE(setattr_mode(&b, 0777) == NFS4_OK);
	REQUIRE(create_dir(&root, "c", NULL) == NFS4_OK);
	REQUIRE(create_dir(&root, "d", NULL) == NFS4_OK);
	REQUIRE(create_dir(&root, "e", NULL) == NFS4_OK);
	REQUIRE(create_dir(&root, "hidden", &old) == NFS4_OK);

	reload_exports("/a/b  127.0.0.1(rw,all_squash,anonuid=12345,"
		       "anongid=12345,fsid=1)\n"
		       "/c    127.0.0.1(ro,fsid=2)\n"
		       "/d    10.9.9.9(rw,fsid=3)\n"
		       "/e    127.0.0.1(rw,sec=none,fsid=4)\n", true);

	/* PUTROOTFH: a pseudo directory, read-only (§7.3). */
	REQUIRE(walk(NULL, &root) == NFS4_OK);
	CHECK_EQ(create_dir(&root, "x", NULL), NFS4ERR_ROFS);
	CHECK_EQ(lookup_raw(&root, "hidden", 6), NFS4ERR_NOENT);
	CHECK_EQ(one_op(&old, OP_GETATTR, NULL, NULL, NULL), NFS4ERR_STALE);
	/* /a is a pseudo directory; /a/b the export, fsid 1. */
	{
		const char *p1[] = { "a", NULL };
		const char *p2[] = { "a", "b", NULL };
		const char *p3[] = { "c", NULL };
		const char *p4[] = { "e", NULL };

		REQUIRE(walk(p1, &pa) == NFS4_OK);
		REQUIRE(walk(p2, &b) == NFS4_OK);
		REQUIRE(walk(p3, &c) == NFS4_OK);
		REQUIRE(walk(p4, &e) == NFS4_OK);
	}
	CHECK_EQ(attr_u64(&b, FATTR4_FSID), 1u);
	CHECK_EQ(attr_u64(&c, FATTR4_FSID), 2u);
	/* LOOKUPP from the export's root goes back into the pseudo fs. */
	{
		struct nc_compound cp;
		COMPOUND4res res;

		nc_session_compound_init(&cp, "lookupp-export");
		add_putfh(&cp, &b);
		nc_compound_add(&cp, OP_LOOKUPP);
		nc_compound_add(&cp, OP_GETFH);
		REQUIRE(run(&cp, &res) == NFS4_OK);
		save_fh(&res, 3, &up);
		done(&res);
		CHECK(up.len == pa.len && memcmp(up.data, pa.data, pa.len) == 0);
	}
	/* READDIR of the pseudo root lists exactly a, c, d, e. */
	{
		struct rd_page p;
		COMPOUND4res res;
		entry4 *en;
		unsigned mask = 0;

		memset(&p, 0, sizeof(p));
		p.maxcount = 8192;
		p.want = 1u << FATTR4_FSID;
		REQUIRE(one_op(&root, OP_READDIR, fill_readdir, &p, &res) ==
			NFS4_OK);
		for (en = op_res(&res, 2)->nfs_resop4_u.opreaddir
				   .READDIR4res_u.resok4.reply.entries;
		     en; en = en->nextentry) {
			CHECK_EQ(en->name.utf8string_len, 1u);
			mask |= 1u << (en->name.utf8string_val[0] - 'a');
		}
		CHECK_EQ(mask, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 4));
		done(&res);
	}
	/* all_squash: a new directory belongs to anonuid. */
	CHECK_EQ(create_dir(&b, "mine", &a), NFS4_OK);
	attr_str(&a, FATTR4_OWNER, owner, sizeof(owner));
	CHECK_EQ(strcmp(owner, "12345"), 0);
	/* ro export (§18.4.3 NFS4ERR_ROFS). */
	CHECK_EQ(create_dir(&c, "x", NULL), NFS4ERR_ROFS);
	CHECK_EQ(setattr_mode(&c, 0777), NFS4ERR_ROFS);
	/* No rule for 127.0.0.1: NFS4ERR_ACCESS on use. */
	{
		const char *p[] = { "d", NULL };
		struct fh d;

		st = walk(p, &d);
		CHECK(st == NFS4ERR_ACCESS ||
		      (st == NFS4_OK &&
		       one_op(&d, OP_GETATTR, NULL, NULL, NULL) ==
		       NFS4ERR_ACCESS));
	}
	/*
	 * sec=none: AUTH_SYS gets NFS4ERR_WRONGSEC, on the PUTFH itself
	 * when an op other than LOOKUP/LOOKUPP/SECINFO* follows
	 * (§2.6.3.1.1); SECINFO tells which flavours to use.
	 */
	{
		struct nc_compound cp;
		COMPOUND4res res;

		nc_session_compound_init(&cp, "wrongsec");
		add_putfh(&cp, &e);
		nc_compound_add(&cp, OP_GETATTR);
		CHECK_EQ(run(&cp, &res), NFS4ERR_WRONGSEC);
		CHECK_EQ(res.resarray.resarray_len, 2u);	/* on PUTFH */
		done(&res);
		nc_session_compound_init(&cp, "putfh-last");
		add_putfh(&cp, &e);
		CHECK_EQ(run(&cp, &res), NFS4_OK);
		done(&res);
	}
	n = secinfo(&root, "e", flv, 4, &st);
	CHECK_EQ(st, NFS4_OK);
	CHECK(n == 1 && flv[0] == 0);	/* AUTH_NONE */
	n = secinfo(&b, NULL, flv, 4, &st);
	CHECK_EQ(st, NFS4_OK);
	CHECK(n == 1 && flv[0] == 1);	/* AUTH_SYS */
	/* §2.6.3.1.1.8: SECINFO consumes the current filehandle. */
	{
		struct nc_compound cp;
		COMPOUND4res res;

		nc_session_compound_init(&cp, "secinfo-consumes");
		add_putfh(&cp, &root);
		fill_secinfo(nc_compound_add(&cp, OP_SECINFO), "a");
		nc_compound_add(&cp, OP_GETFH);
		CHECK_EQ(run(&cp, &res), NFS4ERR_NOFILEHANDLE);
		done(&res);
	}
	/* Back to the default: "/" is the root again. */
	reload_exports(EXPORTS_DEFAULT, false);
	REQUIRE(walk(NULL, &root) == NFS4_OK);
	CHECK_EQ(lookup_raw(&root, "hidden", 6), NFS4_OK);
}

/*
 * RFC 8881 §7.7 (fsid changes inside a namespace): an export nested in
 * another is entered by LOOKUP (its own fsid) and left by LOOKUPP to the
 * containing export's directory, the same handle a LOOKUP gives.
 */
static void
test_nested_exports(void)
{
	const char *pn[] = { "n", NULL }, *pm[] = { "n", "m", NULL };
	struct fh n, m, up;
	uint64_t deadline;
	FILE *fp;

	REQUIRE(create_dir(&root, "n", &n) == NFS4_OK);
	REQUIRE(create_dir(&n, "m", NULL) == NFS4_OK);
	fp = fopen(exports_path, "w");
	REQUIRE(fp != NULL);
	fputs(EXPORTS_DEFAULT "/n/m 127.0.0.1(rw,no_root_squash,fsid=9)\n",
	      fp);
	REQUIRE(fclose(fp) == 0);
	REQUIRE(kill(srv.pid, SIGHUP) == 0);
	deadline = clock_now_ns() + RELOAD_DEADLINE_NS;
	for (;;) {
		int st = walk(pm, &m);

		REQUIRE(st == NFS4_OK || st == NFS4ERR_STALE);
		if (st == NFS4_OK && attr_u64(&m, FATTR4_FSID) == 9)
			break;
		REQUIRE(clock_now_ns() < deadline);
		h_sleep_ns(RELOAD_POLL_NS);
	}
	REQUIRE(walk(pn, &n) == NFS4_OK);
	CHECK_EQ(attr_u64(&n, FATTR4_FSID), 0u);
	{
		struct nc_compound cp;
		COMPOUND4res res;

		nc_session_compound_init(&cp, "lookupp-nested");
		add_putfh(&cp, &m);
		nc_compound_add(&cp, OP_LOOKUPP);
		nc_compound_add(&cp, OP_GETFH);
		REQUIRE(run(&cp, &res) == NFS4_OK);
		save_fh(&res, 3, &up);
		done(&res);
	}
	CHECK(up.len == n.len && memcmp(up.data, n.data, n.len) == 0);
	/* Renaming across the boundary is NFS4ERR_XDEV (§18.26.3). */
	REQUIRE(create_dir(&n, "x", NULL) == NFS4_OK);
	CHECK_EQ(rename_names(&n, "x", &m, "x", NULL), NFS4ERR_XDEV);
	reload_exports(EXPORTS_DEFAULT, false);
}

/* OPEN name (create) in dir; *sid gets the open stateid. */
static int
open_create(const struct fh *dir, const char *name, struct fh *out,
	    stateid4 *sid)
{
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN4args *o;
	int st;

	nc_session_compound_init(&cp, "open");
	add_putfh(&cp, dir);
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_BOTH |
			  OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = nc_session_info(ses)->clientid;
	o->owner.owner.owner_val = (char *)name;
	o->owner.owner.owner_len = strlen(name);
	o->openhow.opentype = OPEN4_CREATE;
	o->openhow.openflag4_u.how.mode = UNCHECKED4;
	o->claim.claim = CLAIM_NULL;
	set_name(&o->claim.open_claim4_u.file, name, strlen(name));
	nc_compound_add(&cp, OP_GETFH);
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		*sid = op_res(&res, 2)->nfs_resop4_u.opopen.OPEN4res_u.resok4
			       .stateid;
		save_fh(&res, 3, out);
	}
	done(&res);
	return st;
}

static int
setattr_size(const struct fh *f, const stateid4 *sid, uint64_t size)
{
	struct nc_compound cp;
	COMPOUND4res res;
	uint32_t words[1] = { 1u << FATTR4_SIZE };
	uint8_t val[8];
	SETATTR4args *s;
	int st;

	for (int i = 0; i < 8; i++)
		val[i] = (uint8_t)(size >> (56 - 8 * i));
	nc_session_compound_init(&cp, "setattr-size");
	add_putfh(&cp, f);
	s = &nc_compound_add(&cp, OP_SETATTR)->nfs_argop4_u.opsetattr;
	s->stateid = *sid;
	s->obj_attributes.attrmask.bitmap4_len = 1;
	s->obj_attributes.attrmask.bitmap4_val = words;
	s->obj_attributes.attr_vals.attrlist4_val = (char *)val;
	s->obj_attributes.attr_vals.attrlist4_len = 8;
	st = run(&cp, &res);
	if (st == NFS4_OK) {
		/* attrsset names exactly size (§18.30.4). */
		bitmap4 *b = &op_res(&res, 2)->nfs_resop4_u.opsetattr.attrsset;

		CHECK(b->bitmap4_len >= 1 && b->bitmap4_val[0] == words[0]);
	}
	done(&res);
	return st;
}

/*
 * RFC 8881 §18.30.3: a size change names its stateid (checked like a
 * WRITE's, §8.2); the new size shows in GETATTR; a stateid the server
 * never issued is NFS4ERR_BAD_STATEID.
 */
static void
test_setattr_size(void)
{
	struct fh d, f;
	stateid4 sid, bogus;

	REQUIRE(create_dir(&root, "size", &d) == NFS4_OK);
	REQUIRE(open_create(&d, "file", &f, &sid) == NFS4_OK);
	CHECK_EQ(setattr_size(&f, &sid, 100000), NFS4_OK);
	CHECK_EQ(attr_u64(&f, FATTR4_SIZE), 100000u);
	CHECK_EQ(setattr_size(&f, &sid, 10), NFS4_OK);
	CHECK_EQ(attr_u64(&f, FATTR4_SIZE), 10u);
	memset(&bogus, 0, sizeof(bogus));
	bogus.seqid = 1;
	memset(bogus.other, 0x77, sizeof(bogus.other));
	CHECK_EQ(setattr_size(&f, &bogus, 0), NFS4ERR_BAD_STATEID);
	CHECK_EQ(attr_u64(&f, FATTR4_SIZE), 10u);
	/* Not a regular file: NFS4ERR_INVAL (a directory: ISDIR above). */
	{
		struct fh x;

		REQUIRE(create_obj(&d, NF4FIFO, "fifo", NULL, &x, NULL) ==
			NFS4_OK);
		CHECK_EQ(setattr_size(&x, &sid, 0), NFS4ERR_INVAL);
	}
}

/* WRITE len bytes at 0 with sid; returns the status. */
static int
write_some(const struct fh *f, const stateid4 *sid, uint32_t len)
{
	struct nc_compound cp;
	COMPOUND4res res;
	WRITE4args *w;
	char buf[64];
	int st;

	memset(buf, 'w', sizeof(buf));
	REQUIRE(len <= sizeof(buf));
	nc_session_compound_init(&cp, "write");
	add_putfh(&cp, f);
	w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
	w->stateid = *sid;
	w->offset = 0;
	w->stable = FILE_SYNC4;
	w->data.data_val = buf;
	w->data.data_len = len;
	st = run(&cp, &res);
	done(&res);
	return st;
}

/*
 * Owner override (fsvc.md "Permissions", as knfsd): a user that
 * creates a file and makes it 0444 can still write it through its open
 * (what git and tar do); another user cannot.  ACCESS keeps telling the
 * truth about the mode.
 */
static void
test_owner_override(void)
{
	struct fh d, f;
	stateid4 sid, anon;
	struct nc_compound cp;
	COMPOUND4res res;

	REQUIRE(create_dir(&root, "owner", &d) == NFS4_OK);
	REQUIRE(setattr_mode(&d, 0777) == NFS4_OK);
	REQUIRE(nc_conn_set_auth_sys(conn, 1000, 1000) == 0);
	REQUIRE(open_create(&d, "ro-file", &f, &sid) == NFS4_OK);
	CHECK_EQ(setattr_mode(&f, 0444), NFS4_OK);
	CHECK_EQ(write_some(&f, &sid, 16), NFS4_OK);
	/* The anonymous stateid is checked against the mode: override. */
	memset(&anon, 0, sizeof(anon));
	CHECK_EQ(write_some(&f, &anon, 32), NFS4_OK);
	CHECK_EQ(attr_u64(&f, FATTR4_SIZE), 32u);
	nc_session_compound_init(&cp, "access-ro");
	add_putfh(&cp, &f);
	nc_compound_add(&cp, OP_ACCESS)->nfs_argop4_u.opaccess.access =
		ACCESS4_READ | ACCESS4_MODIFY;
	REQUIRE(run(&cp, &res) == NFS4_OK);
	CHECK_EQ(op_res(&res, 2)->nfs_resop4_u.opaccess.ACCESS4res_u.resok4
			 .access, (uint32_t)ACCESS4_READ);
	done(&res);
	/* Someone else gets nothing from the override. */
	REQUIRE(nc_conn_set_auth_sys(conn, 1001, 1001) == 0);
	CHECK_EQ(setattr_mode(&f, 0666), NFS4ERR_PERM);
	CHECK_EQ(write_some(&f, &anon, 8), NFS4ERR_ACCESS);
	REQUIRE(nc_conn_set_auth_sys(conn, 0, 0) == 0);
}

struct walker {
	struct nc_conn		*c;
	struct nc_session	*s;
	atomic_bool		stop;
	atomic_uint		rounds;
	unsigned		bad;		/* statuses that must not happen */
};

/*
 * Walk PUTROOTFH + LOOKUP "w" + GETATTR while the exports change under
 * us: every answer must be NFS4_OK, or NFS4ERR_NOENT when the table of
 * that moment does not list "w" at the top.
 */
static void *
walker_main(void *arg)
{
	struct walker *w = arg;

	while (!atomic_load(&w->stop)) {
		struct nc_compound cp;
		COMPOUND4res res;
		uint32_t words[1] = { 1u << FATTR4_FSID };
		GETATTR4args *g;
		int err, st;

		nc_session_compound_init(&cp, "walker");
		nc_compound_add(&cp, OP_PUTROOTFH);
		add_lookup(&cp, "w");
		g = &nc_compound_add(&cp, OP_GETATTR)->nfs_argop4_u.opgetattr;
		g->attr_request.bitmap4_len = 1;
		g->attr_request.bitmap4_val = words;
		err = nc_session_compound(w->s, &cp, 0, &res, NULL);
		if (err) {
			w->bad++;
			break;
		}
		st = res.status;
		if (st != NFS4_OK && st != NFS4ERR_NOENT)
			w->bad++;
		done(&res);
		atomic_fetch_add(&w->rounds, 1);
	}
	return NULL;
}

/*
 * DESIGN.md §4 and fsvc.md: a SIGHUP reload swaps the exports under
 * running COMPOUNDs; each COMPOUND sees one table, none sees a freed
 * one (the sanitizer build checks the second).
 */
static void
test_reload_under_load(void)
{
	struct walker w;
	pthread_t th;
	struct fh wdir;

	memset(&w, 0, sizeof(w));
	REQUIRE(create_dir(&root, "w", &wdir) == NFS4_OK);
	REQUIRE(h_session(&srv, h_owner("ns-walker"), NULL, &w.c, &w.s) == 0);
	REQUIRE(nc_conn_set_auth_sys(w.c, 0, 0) == 0);
	REQUIRE(pthread_create(&th, NULL, walker_main, &w) == 0);
	for (unsigned i = 0; i < RELOAD_ROUNDS; i++) {
		unsigned seen = atomic_load(&w.rounds);
		uint64_t deadline = clock_now_ns() + RELOAD_DEADLINE_NS;

		if (i % 2 == 0)
			reload_exports("/w 127.0.0.1(rw,no_root_squash,fsid=7)\n"
				       "/c 127.0.0.1(ro,fsid=2)\n", true);
		else
			reload_exports(EXPORTS_DEFAULT, false);
		/* Let the walker finish COMPOUNDs on this table too. */
		while (atomic_load(&w.rounds) < seen + 2 && w.bad == 0) {
			REQUIRE(clock_now_ns() < deadline);
			h_sleep_ns(RELOAD_POLL_NS / 10);
		}
	}
	atomic_store(&w.stop, true);
	REQUIRE(pthread_join(th, NULL) == 0);
	CHECK_EQ(w.bad, 0u);
	CHECK(atomic_load(&w.rounds) >= 2 * RELOAD_ROUNDS);
	h_session_free(w.c, w.s);
	REQUIRE(walk(NULL, &root) == NFS4_OK);
}

int
main(void)
{
	char opt[sizeof(exports_path) + 32];
	const char *extra[] = { "-o", opt, NULL };
	int fd = mkstemp(exports_path);

	REQUIRE(fd >= 0);
	REQUIRE(write(fd, EXPORTS_DEFAULT, strlen(EXPORTS_DEFAULT)) ==
		(ssize_t)strlen(EXPORTS_DEFAULT));
	REQUIRE(close(fd) == 0);
	snprintf(opt, sizeof(opt), "server.exports=%s", exports_path);
	REQUIRE(h_server_start(&srv, extra) == 0);
	REQUIRE(h_session(&srv, h_owner("ns"), NULL, &conn, &ses) == 0);
	REQUIRE(nc_conn_set_auth_sys(conn, 0, 0) == 0);
	/*
	 * A new client has nothing to reclaim (RFC 8881 §18.51): without
	 * RECLAIM_COMPLETE its OPENs wait out the grace period.
	 */
	{
		struct nc_compound cp;
		COMPOUND4res res;

		nc_session_compound_init(&cp, "reclaim-complete");
		nc_compound_add(&cp, OP_RECLAIM_COMPLETE)->nfs_argop4_u
			.opreclaim_complete.rca_one_fs = FALSE;
		REQUIRE(run(&cp, &res) == NFS4_OK);
		done(&res);
	}

	TEST_RUN(test_root_attrs);
	TEST_RUN(test_bad_handles);
	TEST_RUN(test_lookup_names);
	TEST_RUN(test_create);
	TEST_RUN(test_link_remove_rename);
	TEST_RUN(test_readdir);
	TEST_RUN(test_setattr_verify_access);
	TEST_RUN(test_setattr_size);
	TEST_RUN(test_owner_override);
	TEST_RUN(test_exports_pseudo);
	TEST_RUN(test_nested_exports);
	TEST_RUN(test_reload_under_load);

	h_session_free(conn, ses);
	if (h_server_stop(&srv, test_failures > 0) != 0)
		test_failures++;
	unlink(exports_path);
	TEST_EXIT();
}
