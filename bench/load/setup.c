/*
 * setup.c - nfsload builds its own tree over NFS, so that it needs nothing
 * but SERVER:PORT:/PATH and works the same against any NFSv4.1 server:
 * PATH/nfsload/ with nfiles empty files f000000.. and one file "big" of
 * big_size bytes.  Everything here is synchronous and runs before the
 * measurement starts; its speed does not matter, its checks do.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "load.h"

/* A server answers a setup compound in milliseconds; a hang is a failure. */
#define SETUP_TIMEOUT_NS	(30 * NSEC_PER_SEC)
/* NFS4ERR_DELAY during setup (e.g. a grace period): retry this long. */
#define SETUP_DELAY_RETRIES	200
#define SETUP_DELAY_NS		(50 * NSEC_PER_MSEC)
/* Setup writes the big file in pieces of this size. */
#define SETUP_WRITE_SIZE	(1024u * 1024u)
#define SETUP_OWNER		"nfsload-setup"

/* Mode bits for what setup creates: FATTR4_MODE is attribute 33, word 1. */
#define MODE_WORD		(FATTR4_MODE / 32)
#define MODE_BIT		(1u << (FATTR4_MODE % 32))

struct sync_wait {
	struct mutex	lock;
	struct condvar	cond;
	struct nc_call	*call;		/* set by sync_done */
};

/* Receive thread: hand the completed call to the waiting thread. */
static void
sync_done(struct nc_call *call, void *arg)
{
	struct sync_wait *w = arg;

	mutex_lock(&w->lock);
	w->call = call;
	condvar_signal(&w->cond);
	mutex_unlock(&w->lock);
}

static void
sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Send cp once and wait for its completed call; exits on a hung server. */
static struct nc_call *
sync_once(struct nc_session *s, struct nc_compound *cp, const char *what)
{
	struct sync_wait w = { .call = NULL };
	struct nc_call *unused;
	uint64_t deadline;
	int err;

	mutex_init(&w.lock, "ld_sync");
	condvar_init(&w.cond);
	err = nc_session_compound_start(s, cp, 0, sync_done, &w, &unused);
	if (err) {
		fprintf(stderr, "nfsload: %s: cannot send: %s\n", what,
			strerror(-err));
		exit(2);
	}
	deadline = clock_now_ns() + SETUP_TIMEOUT_NS;
	mutex_lock(&w.lock);
	while (!w.call) {
		if (condvar_wait_until(&w.cond, &w.lock, deadline)) {
			/* The call (and w) would outlive us: give up whole. */
			fprintf(stderr, "nfsload: %s: no reply in %llu s\n",
				what, SETUP_TIMEOUT_NS / NSEC_PER_SEC);
			exit(2);
		}
	}
	mutex_unlock(&w.lock);
	mutex_destroy(&w.lock);
	condvar_destroy(&w.cond);
	return w.call;
}

/* See load.h.  Locks: none held; waits for the reply. */
int
ld_run_sync(struct nc_session *s, struct nc_compound *cp, const char *what,
	    struct ld_res *r, struct nc_call **keep)
{
	char b1[16], b2[16];
	struct nc_call *call;
	unsigned tries;

	for (tries = 0;; tries++) {
		call = sync_once(s, cp, what);
		if (ld_reply_parse(call, r) != LD_FAIL_NFS ||
		    r->status != NFS4ERR_DELAY || tries >= SETUP_DELAY_RETRIES)
			break;
		nc_call_free(call);
		sleep_ns(SETUP_DELAY_NS);
	}
	if (r->fail == LD_OK) {
		if (keep)
			*keep = call;
		else
			nc_call_free(call);
		return 0;
	}
	nc_call_free(call);
	if (r->fail == LD_FAIL_NFS && r->status == NFS4ERR_EXIST)
		return -EEXIST;
	if (r->fail == LD_FAIL_NFS)
		fprintf(stderr, "nfsload: %s: %s answered %s\n", what,
			ld_op_name(r->failed_op, b1, sizeof(b1)),
			ld_status_name(r->status, b2, sizeof(b2)));
	else
		fprintf(stderr, "nfsload: %s: bad reply (%s)\n", what,
			r->fail == LD_FAIL_RPC ? "RPC not accepted" :
			r->fail == LD_FAIL_TRANSPORT ? "connection lost" :
						       "does not parse");
	/* A server without block layouts says so one of these two ways. */
	if (r->fail == LD_FAIL_NFS && (r->status == NFS4ERR_NOTSUPP ||
				       r->status == NFS4ERR_LAYOUTUNAVAILABLE))
		return -EOPNOTSUPP;
	return -EPROTO;
}

/* See load.h.  Locks: none held. */
int
ld_reclaim_complete(struct nc_session *s)
{
	struct nc_compound cp;
	struct nc_call *call;
	struct ld_res r;
	nfs_argop4 *a;

	nc_session_compound_init(&cp, "nfsload-reclaim-complete");
	a = nc_compound_add(&cp, OP_RECLAIM_COMPLETE);
	a->nfs_argop4_u.opreclaim_complete.rca_one_fs = FALSE;
	call = sync_once(s, &cp, "reclaim_complete");
	(void)ld_reply_parse(call, &r);
	nc_call_free(call);
	if (r.fail == LD_OK ||
	    (r.fail == LD_FAIL_NFS && (r.status == NFS4ERR_COMPLETE_ALREADY ||
				       r.status == NFS4ERR_NOTSUPP)))
		return 0;
	fprintf(stderr, "nfsload: reclaim_complete failed (%d/%u)\n",
		(int)r.fail, (unsigned)r.status);
	return -EPROTO;
}

/* See load.h. */
void
ld_fh_arg(const struct ld_fh *f, nfs_fh4 *out)
{
	out->nfs_fh4_len = f->len;
	out->nfs_fh4_val = (char *)f->val;
}

/* See load.h. */
int
ld_fh_set(struct ld_fh *f, const uint8_t *p, uint32_t len)
{
	if (!p || len == 0 || len > NFS4_FHSIZE)
		return -EBADMSG;
	memcpy(f->val, p, len);
	f->len = len;
	return 0;
}

/* See load.h. */
void
ld_file_name(uint32_t i, char *buf, size_t len)
{
	snprintf(buf, len, "f%06u", i);
}

/* See load.h. */
void
ld_add_getattr(struct nc_compound *cp, uint32_t mask_buf[3])
{
	nfs_argop4 *a = nc_compound_add(cp, OP_GETATTR);

	/* What the Linux client asks for on a plain stat(2). */
	mask_buf[0] = 1u << FATTR4_TYPE | 1u << FATTR4_CHANGE |
		      1u << FATTR4_SIZE | 1u << FATTR4_FSID |
		      1u << FATTR4_FILEID;
	mask_buf[1] = 1u << (FATTR4_MODE - 32) | 1u << (FATTR4_NUMLINKS - 32) |
		      1u << (FATTR4_OWNER - 32) |
		      1u << (FATTR4_OWNER_GROUP - 32) |
		      1u << (FATTR4_RAWDEV - 32) |
		      1u << (FATTR4_SPACE_USED - 32) |
		      1u << (FATTR4_TIME_ACCESS - 32) |
		      1u << (FATTR4_TIME_METADATA - 32) |
		      1u << (FATTR4_TIME_MODIFY - 32) |
		      1u << (FATTR4_MOUNTED_ON_FILEID - 32);
	a->nfs_argop4_u.opgetattr.attr_request.bitmap4_len = 2;
	a->nfs_argop4_u.opgetattr.attr_request.bitmap4_val = mask_buf;
}

/* A fattr4 that sets only the mode (createattrs of CREATE and OPEN). */
struct mode_attr {
	uint32_t	mask[2];
	uint8_t		val[4];
};

static void
mode_attr_init(struct mode_attr *m, uint32_t mode, fattr4 *out)
{
	m->mask[0] = 0;
	m->mask[MODE_WORD] = MODE_BIT;
	m->val[0] = (uint8_t)(mode >> 24);
	m->val[1] = (uint8_t)(mode >> 16);
	m->val[2] = (uint8_t)(mode >> 8);
	m->val[3] = (uint8_t)mode;
	out->attrmask.bitmap4_len = 2;
	out->attrmask.bitmap4_val = m->mask;
	out->attr_vals.attrlist4_len = 4;
	out->attr_vals.attrlist4_val = (char *)m->val;
}

static void
add_putfh(struct nc_compound *cp, const struct ld_fh *fh)
{
	ld_fh_arg(fh, &nc_compound_add(cp, OP_PUTFH)->nfs_argop4_u.opputfh
			       .object);
}

/*
 * Fill an OPEN of name in the current directory: owner, share_access with
 * no delegation wanted (the load must not be turned into delegation
 * traffic), CLAIM_NULL; create with mode when create is true.
 */
static void
fill_open(OPEN4args *o, struct nc_session *s, const char *owner,
	  const char *name, uint32_t share_access, bool create,
	  struct mode_attr *m)
{
	o->seqid = 0;
	o->share_access = share_access | OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = nc_session_info(s)->clientid;
	o->owner.owner.owner_val = (char *)owner;
	o->owner.owner.owner_len = strlen(owner);
	if (create) {
		o->openhow.opentype = OPEN4_CREATE;
		o->openhow.openflag4_u.how.mode = UNCHECKED4;
		mode_attr_init(m, 0644,
			       &o->openhow.openflag4_u.how.createhow4_u
					.createattrs);
	} else {
		o->openhow.opentype = OPEN4_NOCREATE;
	}
	o->claim.claim = CLAIM_NULL;
	o->claim.open_claim4_u.file.utf8string_val = (char *)name;
	o->claim.open_claim4_u.file.utf8string_len = strlen(name);
}

/* OPEN (maybe create) + GETFH [+ GETATTR size]; stateid, fh, size out. */
static int MUST_CHECK
open_common(struct nc_session *s, const struct ld_fh *dir, const char *name,
	    const char *owner, uint32_t share_access, bool create,
	    stateid4 *sid, struct ld_fh *fh, uint64_t *size)
{
	struct nc_compound cp;
	struct mode_attr m;
	struct nc_call *call;
	struct ld_res r;
	uint32_t mask[1] = { 1u << FATTR4_SIZE };
	nfs_argop4 *a;
	int err;

	nc_session_compound_init(&cp, "nfsload-open");
	add_putfh(&cp, dir);
	fill_open(&nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen, s,
		  owner, name, share_access, create, &m);
	(void)nc_compound_add(&cp, OP_GETFH);
	if (size) {
		a = nc_compound_add(&cp, OP_GETATTR);
		a->nfs_argop4_u.opgetattr.attr_request.bitmap4_len = 1;
		a->nfs_argop4_u.opgetattr.attr_request.bitmap4_val = mask;
	}
	err = ld_run_sync(s, &cp, name, &r, &call);
	if (err)
		return err;
	*sid = r.stateid;
	err = ld_fh_set(fh, r.fh, r.fh_len);
	if (size) {
		*size = r.size;
		if (!r.have_size)
			err = -EBADMSG;
	}
	nc_call_free(call);
	if (err) {
		fprintf(stderr, "nfsload: %s: no file handle or size\n", name);
		return -EPROTO;
	}
	return 0;
}

/* See load.h.  Locks: none held. */
int
ld_open_file(struct nc_session *s, const struct ld_fh *dir, const char *name,
	     const char *owner, uint32_t share_access, stateid4 *sid,
	     struct ld_fh *fh)
{
	return open_common(s, dir, name, owner, share_access, false, sid, fh,
			   NULL);
}

/* See load.h.  Locks: none held. */
int
ld_close_file(struct nc_session *s, const struct ld_fh *fh,
	      const stateid4 *sid)
{
	struct nc_compound cp;
	struct ld_res r;
	CLOSE4args *c;

	nc_session_compound_init(&cp, "nfsload-close");
	add_putfh(&cp, fh);
	c = &nc_compound_add(&cp, OP_CLOSE)->nfs_argop4_u.opclose;
	c->seqid = 0;
	c->open_stateid = *sid;
	return ld_run_sync(s, &cp, "close", &r, NULL);
}

/* PUTROOTFH + LOOKUP per component of path + GETFH. */
static int MUST_CHECK
lookup_path(struct nc_session *s, const char *path, struct ld_fh *out)
{
	struct nc_compound cp;
	struct nc_call *call;
	struct ld_res r;
	char *copy, *comp, *save = NULL;
	int err;

	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	nc_session_compound_init(&cp, "nfsload-lookup-path");
	(void)nc_compound_add(&cp, OP_PUTROOTFH);
	for (comp = strtok_r(copy, "/", &save); comp;
	     comp = strtok_r(NULL, "/", &save)) {
		nfs_argop4 *a = nc_compound_add(&cp, OP_LOOKUP);

		if (!a) {
			err = -ENAMETOOLONG;
			goto out_free;
		}
		a->nfs_argop4_u.oplookup.objname.utf8string_val = comp;
		a->nfs_argop4_u.oplookup.objname.utf8string_len = strlen(comp);
	}
	if (!nc_compound_add(&cp, OP_GETFH)) {
		err = -ENAMETOOLONG;
		goto out_free;
	}
	err = ld_run_sync(s, &cp, path, &r, &call);
	if (err)
		goto out_free;
	err = ld_fh_set(out, r.fh, r.fh_len);
	nc_call_free(call);
	if (err)
		err = -EPROTO;
out_free:
	free(copy);
	return err;
}

/* mkdir -p of one level: CREATE NF4DIR (EXIST is fine), then LOOKUP. */
static int MUST_CHECK
make_dir(struct nc_session *s, const struct ld_fh *parent, const char *name,
	 struct ld_fh *out)
{
	struct nc_compound cp;
	struct mode_attr m;
	struct nc_call *call;
	struct ld_res r;
	CREATE4args *c;
	nfs_argop4 *a;
	int err;

	nc_session_compound_init(&cp, "nfsload-mkdir");
	add_putfh(&cp, parent);
	c = &nc_compound_add(&cp, OP_CREATE)->nfs_argop4_u.opcreate;
	c->objtype.type = NF4DIR;
	c->objname.utf8string_val = (char *)name;
	c->objname.utf8string_len = strlen(name);
	mode_attr_init(&m, 0755, &c->createattrs);
	err = ld_run_sync(s, &cp, "mkdir " LD_DIR_NAME, &r, NULL);
	if (err && err != -EEXIST)
		return err;

	nc_session_compound_init(&cp, "nfsload-lookup");
	add_putfh(&cp, parent);
	a = nc_compound_add(&cp, OP_LOOKUP);
	a->nfs_argop4_u.oplookup.objname.utf8string_val = (char *)name;
	a->nfs_argop4_u.oplookup.objname.utf8string_len = strlen(name);
	(void)nc_compound_add(&cp, OP_GETFH);
	err = ld_run_sync(s, &cp, "lookup " LD_DIR_NAME, &r, &call);
	if (err)
		return err;
	err = ld_fh_set(out, r.fh, r.fh_len);
	nc_call_free(call);
	return err ? -EPROTO : 0;
}

/* Grow the big file to size with FILE_SYNC writes from where it ends. */
static int MUST_CHECK
fill_big(struct nc_session *s, const struct ld_fh *fh, const stateid4 *sid,
	 uint64_t have, uint64_t size)
{
	struct nc_compound cp;
	struct ld_res r;
	WRITE4args *w;
	char *data;
	int err = 0;

	data = malloc(SETUP_WRITE_SIZE);
	if (!data)
		return -ENOMEM;
	memset(data, 0x6c, SETUP_WRITE_SIZE);
	while (have < size) {
		uint32_t n = (uint32_t)MIN((uint64_t)SETUP_WRITE_SIZE,
					   size - have);

		nc_session_compound_init(&cp, "nfsload-fill");
		add_putfh(&cp, fh);
		w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
		w->stateid = *sid;
		w->offset = have;
		w->stable = FILE_SYNC4;
		w->data.data_val = data;
		w->data.data_len = n;
		err = ld_run_sync(s, &cp, "write " LD_BIG_NAME, &r, NULL);
		if (err)
			break;
		if (r.write_count == 0 || r.write_count > n) {
			fprintf(stderr, "nfsload: write " LD_BIG_NAME
				": server wrote %u of %u bytes\n",
				r.write_count, n);
			err = -EPROTO;
			break;
		}
		have += r.write_count;
	}
	free(data);
	return err;
}

/* See load.h.  Locks: none held. */
int
ld_tree_setup(struct nc_session *s, const char *path, uint32_t nfiles,
	      uint64_t big_size, struct ld_tree *t)
{
	struct ld_fh root;
	stateid4 sid;
	uint64_t have;
	char name[16];
	uint32_t i;
	int err, cerr;

	memset(t, 0, sizeof(*t));
	err = lookup_path(s, path, &root);
	if (err)
		return err;
	err = make_dir(s, &root, LD_DIR_NAME, &t->dir);
	if (err)
		return err;
	t->files = calloc(nfiles ? nfiles : 1, sizeof(*t->files));
	if (!t->files)
		return -ENOMEM;
	t->nfiles = nfiles;
	for (i = 0; i < nfiles; i++) {
		ld_file_name(i, name, sizeof(name));
		err = open_common(s, &t->dir, name, SETUP_OWNER,
				  OPEN4_SHARE_ACCESS_READ, true, &sid,
				  &t->files[i], NULL);
		if (err)
			goto out_free;
		err = ld_close_file(s, &t->files[i], &sid);
		if (err)
			goto out_free;
	}
	err = open_common(s, &t->dir, LD_BIG_NAME, SETUP_OWNER,
			  OPEN4_SHARE_ACCESS_BOTH, true, &sid, &t->big, &have);
	if (err)
		goto out_free;
	err = fill_big(s, &t->big, &sid, have, big_size);
	cerr = ld_close_file(s, &t->big, &sid);	/* even after a failure */
	if (!err)
		err = cerr;
	if (err)
		goto out_free;
	t->big_size = MAX(have, big_size);
	return 0;

out_free:
	ld_tree_free(t);
	return err;
}

/* See load.h. */
void
ld_tree_free(struct ld_tree *t)
{
	free(t->files);
	t->files = NULL;
	t->nfiles = 0;
}

/* See load.h.  Locks: none held. */
int
ld_session_open(const struct ld_target *t, const char *owner,
		struct nc_conn **cp, struct nc_session **sp)
{
	struct nc_session_opts o;
	int err;

	err = nc_conn_open(t->host, t->port, cp);
	if (err) {
		fprintf(stderr, "nfsload: connect %s:%u: %s\n", t->host,
			t->port, strerror(-err));
		return err;
	}
	err = nc_conn_set_auth_sys(*cp, t->uid, t->gid);
	if (err)
		goto out_close;
	nc_session_opts_init(&o);
	err = nc_session_setup(*cp, owner, &o, sp);
	if (err) {
		fprintf(stderr, "nfsload: EXCHANGE_ID/CREATE_SESSION: %s\n",
			strerror(-err));
		goto out_close;
	}
	err = ld_reclaim_complete(*sp);
	if (err)
		goto out_session;
	return 0;

out_session:
	nc_session_free(*sp);
out_close:
	nc_conn_close(*cp);
	return err;
}

/* See load.h.  Locks: none held. */
void
ld_session_close(struct nc_conn *c, struct nc_session *s)
{
	clientid4 id = nc_session_info(s)->clientid;
	nfsstat4 st;

	if (nc_destroy_session(s, &st) == 0 && st == NFS4_OK &&
	    nc_destroy_clientid(c, id, &st) == 0 && st != NFS4_OK)
		fprintf(stderr, "nfsload: DESTROY_CLIENTID: %u\n", st);
	nc_session_free(s);
	nc_conn_close(c);
}
