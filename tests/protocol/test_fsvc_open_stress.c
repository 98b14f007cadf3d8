/*
 * test_fsvc_open_stress.c - several client processes against one server,
 * each its own client ID, all opening one file and incrementing a counter
 * in it under a byte-range write lock (RFC 8881 §9, §18.10-18.12).
 *
 * Each increment is LOCK (write, whole record), READ, check, WRITE,
 * READ back, check, LOCKU.  If two clients ever held the write lock at
 * once, an increment would be lost (the final counter would be smaller
 * than the increments the children count) or a child would read a record
 * another was halfway through (the record's fill byte would not match
 * its counter).  The parent checks the sum at the end.
 *
 * OPEN_STRESS_LONG=1 runs ten times longer.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "../testlib.h"

#define NCHILD			4
#define STRESS_NS		(2 * NSEC_PER_SEC)
#define STRESS_LONG_FACTOR	10
/* The record: an 8-byte counter, then its low byte repeated. */
#define REC_LEN			64
/* Back-off after NFS4ERR_DENIED: the client polls (no CB_NOTIFY_LOCK). */
#define DENIED_BACKOFF_NS	(200 * NSEC_PER_USEC)
#define FILE_NAME		"stress-file"

static struct h_server srv;

struct file {
	nfs_fh4		fh;
	char		fh_buf[NFS4_FHSIZE];
	stateid4	sid;
};

static int
run(struct nc_session *s, struct nc_compound *cp, COMPOUND4res *res)
{
	if (nc_session_compound(s, cp, NC_SEQ_NO_RETRY, res, NULL) != 0) {
		memset(res, 0, sizeof(*res));
		return -1;
	}
	return res->status;
}

static void
done(COMPOUND4res *res)
{
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, res);
}

static void
put_fh(struct nc_compound *cp, const struct file *f)
{
	nc_compound_add(cp, OP_PUTFH)->nfs_argop4_u.opputfh.object = f->fh;
}

/* Session, AUTH_SYS root, RECLAIM_COMPLETE (§18.51.3). */
static int
client_setup(const char *owner, struct nc_conn **c, struct nc_session **s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int st;

	if (h_session(&srv, owner, NULL, c, s) != 0)
		return -1;
	if (nc_conn_set_auth_sys(*c, 0, 0) != 0)
		return -1;
	nc_session_compound_init(&cp, "reclaim_complete");
	nc_compound_add(&cp, OP_RECLAIM_COMPLETE)->nfs_argop4_u
		.opreclaim_complete.rca_one_fs = FALSE;
	st = run(*s, &cp, &res);
	done(&res);
	return st;
}

/* OPEN (create) FILE_NAME for reading and writing; NFS4_OK or a status. */
static int
open_file(struct nc_session *s, const char *owner, struct file *f)
{
	struct nc_compound cp;
	COMPOUND4res res;
	OPEN4args *o;
	int st;

	nc_session_compound_init(&cp, "open");
	REQUIRE(nc_compound_add(&cp, OP_PUTROOTFH));
	o = &nc_compound_add(&cp, OP_OPEN)->nfs_argop4_u.opopen;
	o->share_access = OPEN4_SHARE_ACCESS_BOTH |
			  OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.owner.owner_val = (char *)owner;
	o->owner.owner.owner_len = strlen(owner);
	o->openhow.opentype = OPEN4_CREATE;
	o->openhow.openflag4_u.how.mode = UNCHECKED4;
	o->claim.claim = CLAIM_NULL;
	o->claim.open_claim4_u.file.utf8string_val = (char *)FILE_NAME;
	o->claim.open_claim4_u.file.utf8string_len = strlen(FILE_NAME);
	REQUIRE(nc_compound_add(&cp, OP_GETFH));
	st = run(s, &cp, &res);
	if (st == NFS4_OK) {
		nfs_fh4 *fh = &res.resarray.resarray_val[3].nfs_resop4_u
				       .opgetfh.GETFH4res_u.resok4.object;

		f->sid = res.resarray.resarray_val[2].nfs_resop4_u.opopen
				 .OPEN4res_u.resok4.stateid;
		memcpy(f->fh_buf, fh->nfs_fh4_val, fh->nfs_fh4_len);
		f->fh.nfs_fh4_val = f->fh_buf;
		f->fh.nfs_fh4_len = fh->nfs_fh4_len;
	}
	done(&res);
	return st;
}

/*
 * LOCK the record for writing: with the open stateid the first time
 * (*have false), then with the lock stateid.  Returns the status.
 */
static int
lock_rec(struct nc_session *s, const struct file *f, const char *lowner,
	 stateid4 *lsid, bool *have)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LOCK4args *l;
	int st;

	nc_session_compound_init(&cp, "lock");
	put_fh(&cp, f);
	l = &nc_compound_add(&cp, OP_LOCK)->nfs_argop4_u.oplock;
	l->locktype = WRITEW_LT;
	l->offset = 0;
	l->length = REC_LEN;
	if (*have) {
		l->locker.new_lock_owner = FALSE;
		l->locker.locker4_u.lock_owner.lock_stateid = *lsid;
	} else {
		l->locker.new_lock_owner = TRUE;
		l->locker.locker4_u.open_owner.open_stateid = f->sid;
		l->locker.locker4_u.open_owner.lock_owner.owner.owner_val =
			(char *)lowner;
		l->locker.locker4_u.open_owner.lock_owner.owner.owner_len =
			strlen(lowner);
	}
	st = run(s, &cp, &res);
	if (st == NFS4_OK) {
		*lsid = res.resarray.resarray_val[2].nfs_resop4_u.oplock
				.LOCK4res_u.resok4.lock_stateid;
		*have = true;
	}
	done(&res);
	return st;
}

static int
unlock_rec(struct nc_session *s, const struct file *f, stateid4 *lsid)
{
	struct nc_compound cp;
	COMPOUND4res res;
	LOCKU4args *l;
	int st;

	nc_session_compound_init(&cp, "locku");
	put_fh(&cp, f);
	l = &nc_compound_add(&cp, OP_LOCKU)->nfs_argop4_u.oplocku;
	l->locktype = WRITE_LT;
	l->lock_stateid = *lsid;
	l->offset = 0;
	l->length = REC_LEN;
	st = run(s, &cp, &res);
	if (st == NFS4_OK)
		*lsid = res.resarray.resarray_val[2].nfs_resop4_u.oplocku
				.LOCKU4res_u.lock_stateid;
	done(&res);
	return st;
}

/* READ the record into rec (zeros past EOF). */
static int
read_rec(struct nc_session *s, const struct file *f, const stateid4 *sid,
	 uint8_t rec[REC_LEN])
{
	struct nc_compound cp;
	COMPOUND4res res;
	READ4args *r;
	int st;

	nc_session_compound_init(&cp, "read");
	put_fh(&cp, f);
	r = &nc_compound_add(&cp, OP_READ)->nfs_argop4_u.opread;
	r->stateid = *sid;
	r->offset = 0;
	r->count = REC_LEN;
	st = run(s, &cp, &res);
	memset(rec, 0, REC_LEN);
	if (st == NFS4_OK) {
		READ4resok *ok = &res.resarray.resarray_val[2].nfs_resop4_u
					  .opread.READ4res_u.resok4;

		if (ok->data.data_len)
			memcpy(rec, ok->data.data_val,
			       MIN(ok->data.data_len, (u_int)REC_LEN));
	}
	done(&res);
	return st;
}

static int
write_rec(struct nc_session *s, const struct file *f, const stateid4 *sid,
	  const uint8_t rec[REC_LEN])
{
	struct nc_compound cp;
	COMPOUND4res res;
	WRITE4args *w;
	int st;

	nc_session_compound_init(&cp, "write");
	put_fh(&cp, f);
	w = &nc_compound_add(&cp, OP_WRITE)->nfs_argop4_u.opwrite;
	w->stateid = *sid;
	w->offset = 0;
	w->stable = FILE_SYNC4;
	w->data.data_val = (char *)rec;
	w->data.data_len = REC_LEN;
	st = run(s, &cp, &res);
	done(&res);
	return st;
}

/* Whether rec is a well-formed record; its counter in *n. */
static bool
rec_ok(const uint8_t rec[REC_LEN], uint64_t *n)
{
	memcpy(n, rec, sizeof(*n));
	for (unsigned i = sizeof(*n); i < REC_LEN; i++)
		if (rec[i] != (uint8_t)*n)
			return false;
	return true;
}

static void
rec_make(uint8_t rec[REC_LEN], uint64_t n)
{
	memcpy(rec, &n, sizeof(n));
	memset(rec + sizeof(n), (uint8_t)n, REC_LEN - sizeof(n));
}

/*
 * One client process: increment until the time is up.  Writes its count
 * of increments to fd; exit status 0, or 1 with a message on a failure.
 * Uses _exit() so the parent's harness exit handlers do not run here.
 */
static void
child(int idx, int fd, uint64_t run_ns)
{
	char owner[64], lowner[32];
	struct nc_conn *c;
	struct nc_session *s;
	struct file f;
	stateid4 lsid;
	bool have = false;
	uint64_t count = 0, n = 0, m, end;
	uint8_t rec[REC_LEN];
	int st;

	snprintf(owner, sizeof(owner), "%s", h_owner("stress"));
	snprintf(lowner, sizeof(lowner), "lock-%d", idx);
	if (client_setup(owner, &c, &s) != NFS4_OK) {
		fprintf(stderr, "child %d: session setup failed\n", idx);
		_exit(1);
	}
	if (open_file(s, "stress-open", &f) != NFS4_OK) {
		fprintf(stderr, "child %d: open failed\n", idx);
		_exit(1);
	}
	end = clock_now_ns() + run_ns;
	while (clock_now_ns() < end) {
		st = lock_rec(s, &f, lowner, &lsid, &have);
		if (st == NFS4ERR_DENIED || st == NFS4ERR_DELAY) {
			h_sleep_ns(DENIED_BACKOFF_NS);
			continue;
		}
		if (st != NFS4_OK)
			goto fail;
		if (read_rec(s, &f, &lsid, rec) != NFS4_OK || !rec_ok(rec, &n))
			goto fail_rec;
		rec_make(rec, n + 1);
		if (write_rec(s, &f, &lsid, rec) != NFS4_OK)
			goto fail;
		if (read_rec(s, &f, &lsid, rec) != NFS4_OK ||
		    !rec_ok(rec, &m) || m != n + 1)
			goto fail_rec;
		count++;
		if (unlock_rec(s, &f, &lsid) != NFS4_OK)
			goto fail;
	}
	if (write(fd, &count, sizeof(count)) != (ssize_t)sizeof(count))
		_exit(1);
	h_session_free(c, s);
	_exit(0);
fail_rec:
	fprintf(stderr, "child %d: torn or lost record (counter %llu)\n", idx,
		(unsigned long long)n);
	_exit(1);
fail:
	fprintf(stderr, "child %d: status %d\n", idx, st);
	_exit(1);
}

/*
 * RFC 8881 §9.1 / §18.10.3: a write lock excludes every other lock-owner
 * for its range, so NCHILD clients incrementing under it never lose an
 * increment nor see a half-written record.
 */
static void
test_lock_exclusivity(void)
{
	uint64_t run_ns = STRESS_NS, total = 0, n;
	pid_t pids[NCHILD];
	int fds[2], status;
	struct nc_conn *c;
	struct nc_session *s;
	struct file f;
	uint8_t rec[REC_LEN];
	stateid4 anon;

	if (getenv("OPEN_STRESS_LONG"))
		run_ns *= STRESS_LONG_FACTOR;
	REQUIRE(pipe(fds) == 0);
	for (int i = 0; i < NCHILD; i++) {
		pids[i] = fork();
		REQUIRE(pids[i] >= 0);
		if (pids[i] == 0) {
			close(fds[0]);
			child(i, fds[1], run_ns);
		}
	}
	close(fds[1]);
	for (int i = 0; i < NCHILD; i++) {
		REQUIRE(waitpid(pids[i], &status, 0) == pids[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	while (read(fds[0], &n, sizeof(n)) == (ssize_t)sizeof(n))
		total += n;
	close(fds[0]);
	CHECK(total > 0);

	REQUIRE(client_setup(h_owner("stress-check"), &c, &s) == NFS4_OK);
	REQUIRE(open_file(s, "check-open", &f) == NFS4_OK);
	memset(&anon, 0, sizeof(anon));
	REQUIRE(read_rec(s, &f, &anon, rec) == NFS4_OK);
	CHECK(rec_ok(rec, &n));
	CHECK_EQ(n, total);
	fprintf(stderr, "%d clients, %llu locked increments\n", NCHILD,
		(unsigned long long)total);
	h_session_free(c, s);
}

int
main(void)
{
	REQUIRE(h_server_start(&srv, NULL) == 0);
	TEST_RUN(test_lock_exclusivity);
	if (h_server_stop(&srv, test_failures > 0) != 0)
		test_failures++;
	TEST_EXIT();
}
