/*
 * recall.c - the recall storm (issue 6): M clients hold READ layouts on
 * the same F files, then one more client truncates every file.  Each
 * truncate must break the layouts on its file (DESIGN.md §3:
 * break_layouts(BREAK_UNMAP)), so the server sends M x F CB_LAYOUTRECALLs
 * and the truncates finish only as the clients answer and return.  The
 * figure is the time from the first SETATTR to the last reply: how fast a
 * server drains a reference set under load, not the recall timeout.
 *
 * Clients behave as a good Linux client: the back-channel hook answers
 * CB_LAYOUTRECALL with NFS4_OK at once and queues the file; a returner
 * thread per client sends the LAYOUTRETURN (the hook runs on the receive
 * thread and must not wait for a fore-channel reply, see nfsclient.h).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "load.h"

/* Data written to each file first, so a truncate has blocks to unmap. */
#define RECALL_FILE_BYTES	(64u * 1024u)
/* Truncates run from this many threads at once (each synchronous). */
#define RECALL_TRUNCATORS	8

struct recall_item {
	struct recall_item *next;
	layoutrecall_type4 type;
	uint32_t	file;		/* for LAYOUTRECALL4_FILE */
	stateid4	sid;		/* the recall's layout stateid */
};

struct recall_client {
	const struct ld_recall_args *a;
	unsigned	idx;
	struct nc_conn	*c;
	struct nc_session *s;
	char		owner[64];
	stateid4	*osid;		/* open stateid per file */
	stateid4	*lsid;		/* layout stateid per file */
	pthread_t	returner;
	bool		returner_started;

	struct mutex	lock;		/* protects everything below */
	struct condvar	cond;
	struct recall_item *head, **tail;
	bool		stop;
	uint64_t	recalls;	/* CB_LAYOUTRECALLs seen */
	uint64_t	unknown;	/* for a file we never asked about */
	uint64_t	returns_ok;
	uint64_t	returns_err;
};

/* The file a recalled handle names, or UINT32_MAX. */
static uint32_t
find_file(const struct ld_recall_args *a, const nfs_fh4 *fh)
{
	uint32_t f;

	for (f = 0; f < a->tree->nfiles; f++)
		if (a->tree->files[f].len == fh->nfs_fh4_len &&
		    !memcmp(a->tree->files[f].val, fh->nfs_fh4_val,
			    fh->nfs_fh4_len))
			return f;
	return UINT32_MAX;
}

/*
 * Back-channel hook (receive thread, no nc_ lock held): queue the recall
 * for the returner and answer NFS4_OK (RFC 8881 §20.3.4: the client will
 * return the layout).  Other callbacks keep the library's answer.
 */
static enum nc_cb_action
recall_hook(void *ctx, struct nc_conn *c, const nfs_cb_argop4 *op,
	    nfsstat4 *status)
{
	struct recall_client *rc = ctx;
	const layoutrecall4 *lr;
	struct recall_item *it;

	(void)c;
	if (op->argop != OP_CB_LAYOUTRECALL)
		return NC_CB_ANSWER;
	lr = &op->nfs_cb_argop4_u.opcblayoutrecall.clora_recall;
	it = calloc(1, sizeof(*it));
	if (!it) {
		*status = NFS4ERR_DELAY;	/* the server will retry */
		return NC_CB_ANSWER;
	}
	it->type = lr->lor_recalltype;
	it->file = UINT32_MAX;
	if (it->type == LAYOUTRECALL4_FILE) {
		it->file = find_file(rc->a, &lr->layoutrecall4_u.lor_layout
						      .lor_fh);
		it->sid = lr->layoutrecall4_u.lor_layout.lor_stateid;
	}
	mutex_lock(&rc->lock);
	rc->recalls++;
	if (it->type == LAYOUTRECALL4_FILE && it->file == UINT32_MAX)
		rc->unknown++;
	*rc->tail = it;
	rc->tail = &it->next;
	condvar_signal(&rc->cond);
	mutex_unlock(&rc->lock);
	*status = NFS4_OK;
	return NC_CB_ANSWER;
}

/* LAYOUTRETURN of one file (or, for an FSID/ALL recall, of everything). */
static int MUST_CHECK
send_return(struct recall_client *rc, const struct recall_item *it)
{
	struct nc_compound cp;
	LAYOUTRETURN4args *r;
	struct ld_res res;
	nfs_fh4 fh;

	nc_session_compound_init(&cp, "nfsload-layoutreturn");
	if (it->type == LAYOUTRECALL4_FILE) {
		ld_fh_arg(&rc->a->tree->files[it->file], &fh);
		nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object =
			fh;
	}
	r = &nc_compound_add(&cp, OP_LAYOUTRETURN)->nfs_argop4_u.oplayoutreturn;
	r->lora_reclaim = FALSE;
	r->lora_layout_type = LAYOUT4_BLOCK_VOLUME;
	r->lora_iomode = LAYOUTIOMODE4_ANY;
	if (it->type == LAYOUTRECALL4_FILE) {
		layoutreturn_file4 *lf =
			&r->lora_layoutreturn.layoutreturn4_u.lr_layout;

		r->lora_layoutreturn.lr_returntype = LAYOUTRETURN4_FILE;
		lf->lrf_offset = 0;
		lf->lrf_length = NFS4_UINT64_MAX;
		/* Our current layout stateid (§12.5.3), as LAYOUTGET gave it. */
		lf->lrf_stateid = rc->lsid[it->file];
	} else {
		r->lora_layoutreturn.lr_returntype = it->type ==
			LAYOUTRECALL4_FSID ? LAYOUTRETURN4_FSID :
					     LAYOUTRETURN4_ALL;
	}
	return ld_run_sync(rc->s, &cp, "layoutreturn", &res, NULL);
}

/* Returner thread: send a LAYOUTRETURN for each queued recall. */
static void *
returner_main(void *arg)
{
	struct recall_client *rc = arg;
	struct recall_item *it;
	int err;

	for (;;) {
		mutex_lock(&rc->lock);
		while (!rc->head && !rc->stop)
			condvar_wait(&rc->cond, &rc->lock);
		it = rc->head;
		if (it) {
			rc->head = it->next;
			if (!rc->head)
				rc->tail = &rc->head;
		}
		mutex_unlock(&rc->lock);
		if (!it)
			return NULL;		/* stopped with nothing queued */
		err = 0;
		if (it->type != LAYOUTRECALL4_FILE || it->file != UINT32_MAX)
			err = send_return(rc, it);
		mutex_lock(&rc->lock);
		if (err || (it->type == LAYOUTRECALL4_FILE &&
			    it->file == UINT32_MAX))
			rc->returns_err++;
		else
			rc->returns_ok++;
		mutex_unlock(&rc->lock);
		free(it);
	}
}

/* LAYOUTGET READ over a whole file; the layout stateid into *lsid. */
static int MUST_CHECK
layout_get(struct nc_session *s, const struct ld_fh *fh, const stateid4 *osid,
	   stateid4 *lsid)
{
	struct nc_compound cp;
	LAYOUTGET4args *l;
	struct ld_res r;
	nfs_fh4 arg;
	int err;

	nc_session_compound_init(&cp, "nfsload-layoutget");
	ld_fh_arg(fh, &arg);
	nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object = arg;
	l = &nc_compound_add(&cp, OP_LAYOUTGET)->nfs_argop4_u.oplayoutget;
	l->loga_signal_layout_avail = FALSE;
	l->loga_layout_type = LAYOUT4_BLOCK_VOLUME;
	l->loga_iomode = LAYOUTIOMODE4_READ;
	l->loga_offset = 0;
	l->loga_length = NFS4_UINT64_MAX;
	l->loga_minlength = 0;
	l->loga_stateid = *osid;
	l->loga_maxcount = 64 * 1024;
	err = ld_run_sync(s, &cp, "layoutget", &r, NULL);
	if (err)
		return err;
	if (r.layouts == 0) {
		fprintf(stderr, "nfsload: LAYOUTGET returned no layout\n");
		return -EPROTO;
	}
	*lsid = r.stateid;
	return 0;
}

/* Connect client i, open every file and take a layout on it. */
static int MUST_CHECK
client_setup(struct recall_client *rc)
{
	const struct ld_recall_args *a = rc->a;
	struct ld_fh fh;
	char name[16];
	uint32_t f;
	int err;

	snprintf(rc->owner, sizeof(rc->owner), "nfsload-%d-recall-%u",
		 (int)getpid(), rc->idx);
	rc->osid = calloc(a->tree->nfiles, sizeof(*rc->osid));
	rc->lsid = calloc(a->tree->nfiles, sizeof(*rc->lsid));
	if (!rc->osid || !rc->lsid)
		return -ENOMEM;
	err = ld_session_open(a->target, rc->owner, &rc->c, &rc->s);
	if (err)
		return err;
	nc_conn_set_cb_hook(rc->c, recall_hook, rc);
	for (f = 0; f < a->tree->nfiles; f++) {
		ld_file_name(f, name, sizeof(name));
		err = ld_open_file(rc->s, &a->tree->dir, name, rc->owner,
				   OPEN4_SHARE_ACCESS_READ, &rc->osid[f], &fh);
		if (!err)
			err = layout_get(rc->s, &a->tree->files[f],
					 &rc->osid[f], &rc->lsid[f]);
		if (err)
			return err;
	}
	if (pthread_create(&rc->returner, NULL, returner_main, rc))
		return -EAGAIN;
	rc->returner_started = true;
	return 0;
}

static void
client_teardown(struct recall_client *rc)
{
	struct recall_item *it;
	uint32_t f;

	if (rc->returner_started) {
		mutex_lock(&rc->lock);
		rc->stop = true;
		condvar_broadcast(&rc->cond);
		mutex_unlock(&rc->lock);
		pthread_join(rc->returner, NULL);
	}
	if (rc->s) {
		for (f = 0; rc->osid && f < rc->a->tree->nfiles; f++)
			if (rc->osid[f].seqid &&
			    ld_close_file(rc->s, &rc->a->tree->files[f],
					  &rc->osid[f]))
				break;
		ld_session_close(rc->c, rc->s);
	}
	while ((it = rc->head)) {
		rc->head = it->next;
		free(it);
	}
	free(rc->osid);
	free(rc->lsid);
}

/* The truncating client: one open (write) stateid per file. */
struct truncator {
	const struct ld_recall_args *a;
	struct nc_session *s;
	stateid4	*sid;
	uint32_t	first, step;	/* files first, first+step, ... */
	pthread_t	thread;
	uint64_t	ok, failed;
};

/* SETATTR size 0 on each of this thread's files (DELAY retried). */
static void *
truncator_main(void *arg)
{
	struct truncator *t = arg;
	uint8_t zero[8] = { 0 };
	uint32_t mask[1] = { 1u << FATTR4_SIZE };
	uint32_t f;

	for (f = t->first; f < t->a->tree->nfiles; f += t->step) {
		struct nc_compound cp;
		SETATTR4args *sa;
		struct ld_res r;
		nfs_fh4 fh;

		nc_session_compound_init(&cp, "nfsload-truncate");
		ld_fh_arg(&t->a->tree->files[f], &fh);
		nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object =
			fh;
		sa = &nc_compound_add(&cp, OP_SETATTR)->nfs_argop4_u.opsetattr;
		sa->stateid = t->sid[f];
		sa->obj_attributes.attrmask.bitmap4_len = 1;
		sa->obj_attributes.attrmask.bitmap4_val = mask;
		sa->obj_attributes.attr_vals.attrlist4_len = sizeof(zero);
		sa->obj_attributes.attr_vals.attrlist4_val = (char *)zero;
		if (ld_run_sync(t->s, &cp, "truncate", &r, NULL))
			t->failed++;
		else
			t->ok++;
	}
	return NULL;
}

/* Open every file for writing and give it RECALL_FILE_BYTES of data. */
static int MUST_CHECK
truncator_prepare(const struct ld_recall_args *a, struct nc_session *s,
		  stateid4 *sid)
{
	static char data[RECALL_FILE_BYTES];
	struct ld_fh fh;
	char name[16];
	uint32_t f;
	int err;

	memset(data, 0x3c, sizeof(data));
	for (f = 0; f < a->tree->nfiles; f++) {
		struct nc_compound cp;
		struct ld_res r;
		WRITE4args *w;
		nfs_fh4 arg;

		ld_file_name(f, name, sizeof(name));
		err = ld_open_file(s, &a->tree->dir, name, "truncator",
				   OPEN4_SHARE_ACCESS_BOTH, &sid[f], &fh);
		if (err)
			return err;
		nc_session_compound_init(&cp, "nfsload-recall-fill");
		ld_fh_arg(&a->tree->files[f], &arg);
		nc_compound_add(&cp, OP_PUTFH)->nfs_argop4_u.opputfh.object =
			arg;
		w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
		w->stateid = sid[f];
		w->offset = 0;
		w->stable = FILE_SYNC4;
		w->data.data_val = data;
		w->data.data_len = sizeof(data);
		err = ld_run_sync(s, &cp, "recall fill", &r, NULL);
		if (err)
			return err;
	}
	return 0;
}

/* See load.h.  Locks: none held; starts and joins its own threads. */
int
ld_recall_storm(const struct ld_recall_args *a)
{
	struct recall_client *cl;
	struct truncator tr[RECALL_TRUNCATORS];
	struct nc_conn *tc = NULL;
	struct nc_session *ts = NULL;
	uint64_t t0, t1, recalls = 0, unknown = 0, rok = 0, rerr = 0;
	uint64_t tok = 0, tfail = 0, want;
	unsigned i, ntr;
	stateid4 *tsid;
	char owner[64];
	int err;

	cl = calloc(a->nclients, sizeof(*cl));
	tsid = calloc(a->tree->nfiles, sizeof(*tsid));
	if (!cl || !tsid) {
		free(cl);
		free(tsid);
		return -ENOMEM;
	}
	snprintf(owner, sizeof(owner), "nfsload-%d-truncator", (int)getpid());
	err = ld_session_open(a->target, owner, &tc, &ts);
	if (err)
		goto out_free;
	err = truncator_prepare(a, ts, tsid);
	for (i = 0; i < a->nclients && !err; i++) {
		cl[i].a = a;
		cl[i].idx = i;
		mutex_init(&cl[i].lock, "recall_client");
		condvar_init(&cl[i].cond);
		cl[i].tail = &cl[i].head;
		err = client_setup(&cl[i]);
	}
	if (err)
		goto out_clients;

	ntr = MIN((unsigned)RECALL_TRUNCATORS, a->tree->nfiles);
	t0 = clock_now_ns();
	for (i = 0; i < ntr; i++) {
		tr[i] = (struct truncator){ .a = a, .s = ts, .sid = tsid,
					    .first = i, .step = ntr };
		if (pthread_create(&tr[i].thread, NULL, truncator_main, &tr[i]))
			VERIFY(0);
	}
	for (i = 0; i < ntr; i++) {
		pthread_join(tr[i].thread, NULL);
		tok += tr[i].ok;
		tfail += tr[i].failed;
	}
	t1 = clock_now_ns();

	for (i = 0; i < a->nclients; i++) {
		mutex_lock(&cl[i].lock);
		recalls += cl[i].recalls;
		unknown += cl[i].unknown;
		rok += cl[i].returns_ok;
		rerr += cl[i].returns_err;
		mutex_unlock(&cl[i].lock);
	}
	want = (uint64_t)a->nclients * a->tree->nfiles;
	printf("RESULT label=%s workload=recall conns=%u files=%u "
	       "drain_ms=%.2f truncates_ok=%llu truncates_failed=%llu "
	       "recalls=%llu expected=%llu returns_ok=%llu returns_err=%llu "
	       "unknown_fh=%llu\n", a->label, a->nclients, a->tree->nfiles,
	       (double)(t1 - t0) / 1e6, (unsigned long long)tok,
	       (unsigned long long)tfail, (unsigned long long)recalls,
	       (unsigned long long)want, (unsigned long long)rok,
	       (unsigned long long)rerr, (unsigned long long)unknown);
	/*
	 * Every truncate must succeed, and every layout must have been
	 * recalled (a server may recall several of a client's files with one
	 * FSID/ALL recall, so fewer recalls is fine when none failed).
	 */
	if (tfail || rerr || unknown || recalls == 0)
		err = -EPROTO;

out_clients:
	for (i = 0; i < a->nclients; i++) {
		if (!cl[i].a)
			continue;
		client_teardown(&cl[i]);
		mutex_destroy(&cl[i].lock);
		condvar_destroy(&cl[i].cond);
	}
	for (i = 0; i < a->tree->nfiles; i++)
		if (tsid[i].seqid &&
		    ld_close_file(ts, &a->tree->files[i], &tsid[i]))
			break;
	ld_session_close(tc, ts);
out_free:
	free(cl);
	free(tsid);
	return err;
}
