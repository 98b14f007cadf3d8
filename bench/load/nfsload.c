/*
 * nfsload.c - the load generator's main: options, workloads, the run loop
 * and the report.  See load.h for the model and docs/BENCHMARKS.md for how
 * the numbers are used.
 *
 * A request (struct ld_req) is a small state machine: each workload is one
 * or more compounds in a row (create+close+remove is three), and one pass
 * through them is one counted operation.  The main thread starts D requests
 * per connection; from then on each request's next compound is sent from
 * the completion callback of the previous one, on the connection's receive
 * thread, so a request is never idle waiting for another thread to wake.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

#include "load.h"

/* Exit statuses the comparison script and the smoke test rely on. */
#define EXIT_OK			0
#define EXIT_ERRORS		1	/* error rate above the limit, no ops */
#define EXIT_USAGE		2	/* bad options, setup failed */
#define EXIT_NOTSUPP		3	/* the server lacks an operation */

/* Issue 6: a run with more than 0.1% errors says so and fails. */
#define ERROR_LIMIT		0.001
/* After the measurement, requests in flight must drain within this. */
#define DRAIN_TIMEOUT_NS	(30 * NSEC_PER_SEC)
/* Distinct (failure, op, status) triples kept per connection. */
#define ERR_KINDS		16
#define MAX_IO			(1024u * 1024u)
#define DEFAULT_BIG		(64ull * 1024 * 1024)
/* LAYOUTGET asks for this much of a file (RFC 5663 extents). */
#define LAYOUT_LENGTH		(1024u * 1024u)

enum wl_kind {
	WL_SEQUENCE,
	WL_GETATTR,
	WL_LOOKUP,
	WL_OPEN,
	WL_CREATE,
	WL_READ,
	WL_WRITE,
	WL_LAYOUT,
	WL_IDLE,
	WL_OPENHOLD,
	WL_LAYOUTHOLD,
	WL_RECALL,
};

struct wl {
	const char	*name;
	enum wl_kind	kind;
	uint32_t	iosize;
	stable_how4	stable;
	bool		tree;		/* needs the tree */
	const char	*what;
};

static const struct wl workloads[] = {
	{ "sequence", WL_SEQUENCE, 0, 0, false,
	  "SEQUENCE alone: the RPC + session path" },
	{ "getattr", WL_GETATTR, 0, 0, true,
	  "PUTFH + GETATTR (stat attributes) of the K files" },
	{ "lookup", WL_LOOKUP, 0, 0, true,
	  "PUTFH(dir) + LOOKUP + GETFH + GETATTR" },
	{ "open", WL_OPEN, 0, 0, true,
	  "OPEN (no create) + GETFH, then CLOSE" },
	{ "create", WL_CREATE, 0, 0, true,
	  "OPEN(create) + GETFH, CLOSE, REMOVE" },
	{ "read4k", WL_READ, 4096, 0, true, "READ 4 KiB at random offsets" },
	{ "read1m", WL_READ, MAX_IO, 0, true, "READ 1 MiB at random offsets" },
	{ "write4k-sync", WL_WRITE, 4096, FILE_SYNC4, true,
	  "WRITE 4 KiB FILE_SYNC" },
	{ "write4k-unstable", WL_WRITE, 4096, UNSTABLE4, true,
	  "WRITE 4 KiB UNSTABLE, COMMIT every -C writes" },
	{ "write1m-sync", WL_WRITE, MAX_IO, FILE_SYNC4, true,
	  "WRITE 1 MiB FILE_SYNC" },
	{ "write1m-unstable", WL_WRITE, MAX_IO, UNSTABLE4, true,
	  "WRITE 1 MiB UNSTABLE, COMMIT every -C writes" },
	{ "layout", WL_LAYOUT, 0, 0, true,
	  "LAYOUTGET (block, RW, 1 MiB) then LAYOUTRETURN" },
	{ "recall", WL_RECALL, 0, 0, true,
	  "recall storm: -c clients hold layouts on -k files, all truncated" },
	{ "idle", WL_IDLE, 0, 0, false,
	  "N idle sessions: server memory per client (needs -P)" },
	{ "openhold", WL_OPENHOLD, 0, 0, true,
	  "each connection opens the K files: memory per open (needs -P)" },
	{ "layouthold", WL_LAYOUTHOLD, 0, 0, true,
	  "opens + LAYOUTGET on the K files: memory per layout (needs -P)" },
};

enum phase {
	PH_WARMUP = 0,
	PH_MEASURE,
	PH_STOP,
};

struct err_kind {
	uint32_t	fail;		/* enum ld_fail */
	uint32_t	op;
	uint32_t	status;
	uint64_t	count;
};

struct ld_run;
struct ld_conn;

struct ld_req {
	struct ld_conn	*conn;
	unsigned	idx;
	unsigned	step;
	bool		stopped;
	uint64_t	start_ns;	/* of the current cycle */
	uint32_t	file;
	uint64_t	serial;		/* names of created files */
	uint64_t	rng;
	uint32_t	since_commit;
	char		owner[48];
	char		name[48];
	stateid4	sid;		/* open (and layout) stateid */
	stateid4	lsid;		/* layout stateid from LAYOUTGET */
	struct ld_fh	fh;
	uint32_t	mask[3];
	struct nc_compound cp;
};

struct ld_conn {
	struct ld_run	*run;
	unsigned	idx;
	struct nc_conn	*c;
	struct nc_session *s;
	char		owner[64];
	stateid4	big_sid;
	bool		big_open;
	struct ld_req	*reqs;
	/* Written by the receive thread only (see load.h). */
	uint8_t		verf[NFS4_VERIFIER_SIZE];
	bool		have_verf;
	struct ld_hist	hist;
	uint64_t	ops;
	uint64_t	bytes;
	uint64_t	errors;
	uint64_t	err_other;
	struct err_kind	errs[ERR_KINDS];
};

struct ld_run {
	const struct wl	*wl;
	struct ld_target target;
	char		*path;
	unsigned	nconns;
	unsigned	depth;
	unsigned	warmup_s;
	unsigned	time_s;
	uint32_t	nfiles;
	uint64_t	big_size;
	uint32_t	commit_every;
	pid_t		server_pid;
	bool		quiet;
	const char	*label;

	struct ld_tree	tree;
	struct ld_conn	*conns;
	char		*wbuf;
	atomic_int	phase;
	struct mutex	lock;
	struct condvar	idle_cond;	/* inflight reached 0 */
	unsigned	inflight;	/* requests not stopped (under lock) */
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f,
"usage: nfsload [options] SERVER:PORT:/PATH WORKLOAD\n"
"  -c N   connections, each its own client ID and session (1)\n"
"  -d D   requests outstanding per connection, one slot each (1)\n"
"  -w S   warm-up seconds (1)      -t S   measured seconds (5)\n"
"  -k K   files in the test directory (1000)\n"
"  -b B   size of the big file in MiB (64)\n"
"  -C N   unstable writes per COMMIT per request (16)\n"
"  -P PID server process: CPU time per op and resident memory\n"
"  -u UID -g GID  AUTH_SYS credential (0/0)\n"
"  -L TXT label printed in the RESULT line   -q  only the RESULT line\n"
"SERVER is a host name, an IPv4 address or [IPv6]; nfsload creates\n"
"PATH/" LD_DIR_NAME "/ with K files and a file '" LD_BIG_NAME "'.\n"
"Exit: 0 ok, 1 more than 0.1%% errors, 2 usage/setup, 3 server lacks an op.\n"
"workloads:\n");
	for (i = 0; i < ARRAY_SIZE(workloads); i++)
		fprintf(f, "  %-17s %s\n", workloads[i].name, workloads[i].what);
}

/* SERVER:PORT:/PATH with SERVER possibly "[v6]". */
static int MUST_CHECK
parse_target(struct ld_run *run, const char *spec)
{
	const char *p = spec, *hend;
	char *end;
	unsigned long port;

	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend || hend[1] != ':')
			return -EINVAL;
		run->target.host = strndup(p + 1, (size_t)(hend - p - 1));
		p = hend + 2;
	} else {
		hend = strchr(p, ':');
		if (!hend)
			return -EINVAL;
		run->target.host = strndup(p, (size_t)(hend - p));
		p = hend + 1;
	}
	if (!run->target.host)
		return -ENOMEM;
	errno = 0;
	port = strtoul(p, &end, 10);
	if (errno || end == p || *end != ':' || port == 0 || port > 65535)
		return -EINVAL;
	run->target.port = (uint16_t)port;
	run->path = strdup(end[1] ? end + 1 : "/");
	return run->path ? 0 : -ENOMEM;
}

static uint64_t
rng_next(uint64_t *x)
{
	/* xorshift64*: plenty for picking offsets, one per request. */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 2685821657736338717ull;
}

/* --- one request's compounds ------------------------------------------- */

static void
add_putfh(struct nc_compound *cp, const struct ld_fh *fh)
{
	ld_fh_arg(fh, &nc_compound_add(cp, OP_PUTFH)->nfs_argop4_u.opputfh
			       .object);
}

static void
add_name(utf8string *u, const char *name)
{
	u->utf8string_val = (char *)name;
	u->utf8string_len = strlen(name);
}

/* OPEN in the current directory with the request's own open-owner. */
static void
add_open(struct ld_req *rq, const char *name, bool create)
{
	OPEN4args *o = &nc_compound_add(&rq->cp, OP_OPEN)->nfs_argop4_u.opopen;

	o->share_access = (create ? OPEN4_SHARE_ACCESS_BOTH :
				    OPEN4_SHARE_ACCESS_READ) |
			  OPEN4_SHARE_ACCESS_WANT_NO_DELEG;
	o->share_deny = OPEN4_SHARE_DENY_NONE;
	o->owner.clientid = nc_session_info(rq->conn->s)->clientid;
	o->owner.owner.owner_val = rq->owner;
	o->owner.owner.owner_len = strlen(rq->owner);
	if (create) {
		/* UNCHECKED4 with no attributes: the server's default mode. */
		o->openhow.opentype = OPEN4_CREATE;
		o->openhow.openflag4_u.how.mode = UNCHECKED4;
	} else {
		o->openhow.opentype = OPEN4_NOCREATE;
	}
	o->claim.claim = CLAIM_NULL;
	add_name(&o->claim.open_claim4_u.file, name);
}

/* Build the compound for the request's current step into rq->cp. */
static void
req_build(struct ld_req *rq)
{
	struct ld_run *run = rq->conn->run;
	struct nc_compound *cp = &rq->cp;
	nfs_argop4 *a;

	nc_session_compound_init(cp, NULL);
	switch (run->wl->kind) {
	case WL_SEQUENCE:
		break;
	case WL_GETATTR:
		add_putfh(cp, &run->tree.files[rq->file]);
		ld_add_getattr(cp, rq->mask);
		break;
	case WL_LOOKUP:
		add_putfh(cp, &run->tree.dir);
		ld_file_name(rq->file, rq->name, sizeof(rq->name));
		a = nc_compound_add(cp, OP_LOOKUP);
		add_name(&a->nfs_argop4_u.oplookup.objname, rq->name);
		(void)nc_compound_add(cp, OP_GETFH);
		ld_add_getattr(cp, rq->mask);
		break;
	case WL_OPEN:
	case WL_CREATE:
		if (rq->step == 0) {
			add_putfh(cp, &run->tree.dir);
			if (run->wl->kind == WL_OPEN)
				ld_file_name(rq->file, rq->name,
					     sizeof(rq->name));
			else
				snprintf(rq->name, sizeof(rq->name),
					 "c%u-%u-%llu", rq->conn->idx, rq->idx,
					 (unsigned long long)rq->serial);
			add_open(rq, rq->name, run->wl->kind == WL_CREATE);
			(void)nc_compound_add(cp, OP_GETFH);
		} else if (rq->step == 1) {
			CLOSE4args *c;

			add_putfh(cp, &rq->fh);
			c = &nc_compound_add(cp, OP_CLOSE)->nfs_argop4_u.opclose;
			c->seqid = 0;
			c->open_stateid = rq->sid;
		} else {
			add_putfh(cp, &run->tree.dir);
			a = nc_compound_add(cp, OP_REMOVE);
			add_name(&a->nfs_argop4_u.opremove.target, rq->name);
		}
		break;
	case WL_READ:
	case WL_WRITE: {
		uint64_t slots = (run->tree.big_size - run->wl->iosize) /
				 run->wl->iosize + 1;
		uint64_t off = (rng_next(&rq->rng) % slots) * run->wl->iosize;

		add_putfh(cp, &run->tree.big);
		if (run->wl->kind == WL_READ) {
			READ4args *r = &nc_compound_add(cp, OP_READ)
						->nfs_argop4_u.opread;

			r->stateid = rq->conn->big_sid;
			r->offset = off;
			r->count = run->wl->iosize;
		} else if (rq->step == 0) {
			WRITE4args *w = &nc_compound_add(cp, OP_WRITE)
						 ->nfs_argop4_u.opwrite;

			w->stateid = rq->conn->big_sid;
			w->offset = off;
			w->stable = run->wl->stable;
			w->data.data_val = run->wbuf;
			w->data.data_len = run->wl->iosize;
		} else {
			a = nc_compound_add(cp, OP_COMMIT);
			a->nfs_argop4_u.opcommit.offset = 0;
			a->nfs_argop4_u.opcommit.count = 0;
		}
		break;
	}
	case WL_LAYOUT:
	case WL_LAYOUTHOLD:
		add_putfh(cp, &rq->fh);
		if (rq->step == 0) {
			LAYOUTGET4args *l = &nc_compound_add(cp, OP_LAYOUTGET)
						     ->nfs_argop4_u.oplayoutget;

			l->loga_signal_layout_avail = FALSE;
			l->loga_layout_type = LAYOUT4_BLOCK_VOLUME;
			l->loga_iomode = LAYOUTIOMODE4_RW;
			l->loga_offset = 0;
			l->loga_length = LAYOUT_LENGTH;
			l->loga_minlength = 0;
			l->loga_stateid = rq->sid;
			l->loga_maxcount = 64 * 1024;
		} else {
			LAYOUTRETURN4args *r =
				&nc_compound_add(cp, OP_LAYOUTRETURN)
					 ->nfs_argop4_u.oplayoutreturn;
			layoutreturn_file4 *lf =
				&r->lora_layoutreturn.layoutreturn4_u.lr_layout;

			r->lora_reclaim = FALSE;
			r->lora_layout_type = LAYOUT4_BLOCK_VOLUME;
			r->lora_iomode = LAYOUTIOMODE4_ANY;
			r->lora_layoutreturn.lr_returntype = LAYOUTRETURN4_FILE;
			lf->lrf_offset = 0;
			lf->lrf_length = NFS4_UINT64_MAX;
			lf->lrf_stateid = rq->lsid;
		}
		break;
	default:
		VERIFY(0);
	}
}

static void req_done(struct nc_call *call, void *arg);

/* A request ends for good: the main thread may be waiting for the last. */
static void
req_stop(struct ld_req *rq)
{
	struct ld_run *run = rq->conn->run;

	rq->stopped = true;
	mutex_lock(&run->lock);
	VERIFY(run->inflight > 0);
	if (--run->inflight == 0)
		condvar_broadcast(&run->idle_cond);
	mutex_unlock(&run->lock);
}

/* Count a failure (in the measured phase) by failure, op and status. */
static void
conn_error(struct ld_conn *cn, const struct ld_res *r)
{
	unsigned i;

	if (atomic_load(&cn->run->phase) != PH_MEASURE &&
	    r->fail != LD_FAIL_TRANSPORT)
		return;
	cn->errors++;
	for (i = 0; i < ERR_KINDS; i++) {
		struct err_kind *e = &cn->errs[i];

		if (e->count == 0) {
			e->fail = r->fail;
			e->op = r->failed_op;
			e->status = r->status;
		}
		if (e->fail == (uint32_t)r->fail && e->op == r->failed_op &&
		    e->status == r->status) {
			e->count++;
			return;
		}
	}
	cn->err_other++;
}

/* Send the request's current step; on failure the request stops. */
static void
req_issue(struct ld_req *rq)
{
	struct nc_call *unused;
	struct ld_res r;
	int err;

	req_build(rq);
	err = nc_session_compound_start(rq->conn->s, &rq->cp, 0, req_done, rq,
					&unused);
	if (err) {
		memset(&r, 0, sizeof(r));
		r.fail = LD_FAIL_TRANSPORT;
		conn_error(rq->conn, &r);
		req_stop(rq);
	}
}

/*
 * Check a successful reply against what the step asked for and move the
 * request on.  Returns true when this reply finished a whole operation.
 * A failed check turns r->fail into LD_FAIL_CHECK.
 */
static bool
req_advance(struct ld_req *rq, struct ld_res *r)
{
	struct ld_conn *cn = rq->conn;
	const struct wl *wl = cn->run->wl;

	switch (wl->kind) {
	case WL_SEQUENCE:
	case WL_GETATTR:
		return true;
	case WL_LOOKUP:
		if (!r->fh_len)
			r->fail = LD_FAIL_CHECK;
		return true;
	case WL_OPEN:
	case WL_CREATE:
		if (rq->step == 0) {
			if (ld_fh_set(&rq->fh, r->fh, r->fh_len)) {
				r->fail = LD_FAIL_CHECK;
				return true;
			}
			rq->sid = r->stateid;
			rq->step = 1;
			return false;
		}
		if (rq->step == 1 && wl->kind == WL_CREATE) {
			rq->step = 2;
			return false;
		}
		return true;
	case WL_READ:
		if (r->read_count != wl->iosize)
			r->fail = LD_FAIL_CHECK;
		return true;
	case WL_WRITE:
		if (r->have_verf) {
			/* One verifier for the whole run: no server reboot. */
			if (!cn->have_verf) {
				memcpy(cn->verf, r->verf, sizeof(cn->verf));
				cn->have_verf = true;
			} else if (memcmp(cn->verf, r->verf, sizeof(cn->verf))) {
				r->fail = LD_FAIL_CHECK;
			}
		}
		if (rq->step == 1)
			return true;		/* COMMIT done */
		if (r->write_count != wl->iosize || r->committed < wl->stable ||
		    !r->have_verf) {
			r->fail = LD_FAIL_CHECK;
			return true;
		}
		if (wl->stable == UNSTABLE4 &&
		    ++rq->since_commit >= cn->run->commit_every) {
			rq->since_commit = 0;
			rq->step = 1;
			return false;
		}
		return true;
	case WL_LAYOUT:
		if (rq->step == 0) {
			if (r->layouts == 0) {
				r->fail = LD_FAIL_CHECK;
				return true;
			}
			rq->lsid = r->stateid;
			rq->step = 1;
			return false;
		}
		return true;
	default:
		VERIFY(0);
	}
	return true;
}

/*
 * Completion of one compound, on the connection's receive thread with no
 * lock held: check the reply, count, send the next step or the next
 * operation.  The call is freed here.
 */
static void
req_done(struct nc_call *call, void *arg)
{
	struct ld_req *rq = arg;
	struct ld_conn *cn = rq->conn;
	struct ld_run *run = cn->run;
	uint64_t now;
	struct ld_res r;
	bool finished = true;

	if (ld_reply_parse(call, &r) == LD_OK)
		finished = req_advance(rq, &r);
	nc_call_free(call);
	now = clock_now_ns();
	if (r.fail != LD_OK) {
		conn_error(cn, &r);
		if (r.fail == LD_FAIL_TRANSPORT) {
			req_stop(rq);
			return;
		}
		/*
		 * Start over with a fresh operation; a create whose CLOSE
		 * failed leaves its file behind, which the error count shows.
		 */
		rq->step = 0;
		finished = true;
	} else if (finished && atomic_load(&run->phase) == PH_MEASURE) {
		cn->ops++;
		cn->bytes += run->wl->iosize;
		ld_hist_add(&cn->hist, now - rq->start_ns);
	}
	if (!finished) {
		req_issue(rq);
		return;
	}
	if (atomic_load(&run->phase) == PH_STOP) {
		req_stop(rq);
		return;
	}
	rq->step = 0;
	rq->serial++;
	if (run->tree.nfiles)
		rq->file = (rq->file + 1) % run->tree.nfiles;
	rq->start_ns = clock_now_ns();
	req_issue(rq);
}

/* --- server figures from /proc ----------------------------------------- */

/* utime + stime of pid in ns, 0 if unreadable. */
static uint64_t
proc_cpu_ns(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut = 0, st = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': fields follow the last. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
			 "%llu %llu", &ut, &st) != 2)
		return 0;
	return (ut + st) * (NSEC_PER_SEC / (uint64_t)sysconf(_SC_CLK_TCK));
}

/* Resident set of pid in bytes (VmRSS), 0 if unreadable. */
static uint64_t
proc_rss(pid_t pid)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

static uint64_t
self_cpu_ns(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru))
		return 0;
	return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) *
		       NSEC_PER_SEC +
	       (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) *
		       NSEC_PER_USEC;
}

/* --- connections -------------------------------------------------------- */

/* LAYOUTGET then LAYOUTRETURN on rq's file, synchronously. */
static int MUST_CHECK
layout_cycle(struct ld_conn *cn, struct ld_req *rq)
{
	struct nc_call *call;
	struct ld_res r;
	int err;

	rq->step = 0;
	req_build(rq);
	err = ld_run_sync(cn->s, &rq->cp, "layoutget", &r, &call);
	if (err)
		return err;
	rq->lsid = r.stateid;
	nc_call_free(call);
	if (r.layouts == 0) {
		fprintf(stderr, "nfsload: LAYOUTGET returned no layout\n");
		return -EPROTO;
	}
	rq->step = 1;
	req_build(rq);
	err = ld_run_sync(cn->s, &rq->cp, "layoutreturn", &r, NULL);
	rq->step = 0;
	return err;
}

/* Connect connection i and open what its requests work on. */
static int MUST_CHECK
conn_setup(struct ld_run *run, struct ld_conn *cn)
{
	const struct wl *wl = run->wl;
	unsigned d, max;
	int err;

	snprintf(cn->owner, sizeof(cn->owner), "nfsload-%d-%u", (int)getpid(),
		 cn->idx);
	err = ld_session_open(&run->target, cn->owner, &cn->c, &cn->s);
	if (err)
		return err;
	max = nc_session_info(cn->s)->fore.ca_maxrequests;
	if (max < run->depth) {
		fprintf(stderr, "nfsload: the server grants %u slots, "
			"fewer than -d %u\n", max, run->depth);
		return -ERANGE;
	}
	cn->reqs = calloc(run->depth, sizeof(*cn->reqs));
	if (!cn->reqs)
		return -ENOMEM;
	for (d = 0; d < run->depth; d++) {
		struct ld_req *rq = &cn->reqs[d];

		rq->conn = cn;
		rq->idx = d;
		rq->rng = 0x9e3779b97f4a7c15ull * (cn->idx * 1024u + d + 1);
		snprintf(rq->owner, sizeof(rq->owner), "o%u-%u", cn->idx, d);
		/* Spread the requests over the files. */
		if (run->tree.nfiles)
			rq->file = (uint32_t)(((uint64_t)cn->idx * run->depth +
					       d) * 7919u % run->tree.nfiles);
	}
	if (wl->kind == WL_READ || wl->kind == WL_WRITE) {
		struct ld_fh fh;

		err = ld_open_file(cn->s, &run->tree.dir, LD_BIG_NAME,
				   cn->owner, OPEN4_SHARE_ACCESS_BOTH,
				   &cn->big_sid, &fh);
		if (err)
			return err;
		cn->big_open = true;
	}
	if (wl->kind == WL_LAYOUT) {
		/* One file per request: layouts are per client and file. */
		for (d = 0; d < run->depth; d++) {
			struct ld_req *rq = &cn->reqs[d];
			char name[16];

			rq->file = (uint32_t)((cn->idx * run->depth + d) %
					      run->tree.nfiles);
			ld_file_name(rq->file, name, sizeof(name));
			err = ld_open_file(cn->s, &run->tree.dir, name,
					   rq->owner, OPEN4_SHARE_ACCESS_BOTH,
					   &rq->sid, &rq->fh);
			if (err)
				return err;
		}
		/* One synchronous cycle: a server without layouts exits 3. */
		err = layout_cycle(cn, &cn->reqs[0]);
		if (err)
			return err;
	}
	return 0;
}

static void
conn_teardown(struct ld_run *run, struct ld_conn *cn)
{
	unsigned d;

	if (!cn->s)
		return;
	if (cn->big_open && ld_close_file(cn->s, &run->tree.big, &cn->big_sid))
		fprintf(stderr, "nfsload: close " LD_BIG_NAME " failed\n");
	if (run->wl->kind == WL_LAYOUT)
		for (d = 0; d < run->depth; d++)
			if (cn->reqs[d].fh.len &&
			    ld_close_file(cn->s, &cn->reqs[d].fh,
					  &cn->reqs[d].sid))
				fprintf(stderr, "nfsload: close failed\n");
	ld_session_close(cn->c, cn->s);
	cn->s = NULL;
	free(cn->reqs);
}

/* --- hold workloads: memory per client, per open, per layout ------------ */

static int MUST_CHECK
hold_layout(struct ld_conn *cn, const struct ld_fh *fh, const stateid4 *sid)
{
	struct ld_req *rq = &cn->reqs[0];
	struct ld_res r;

	rq->fh = *fh;
	rq->sid = *sid;
	rq->step = 0;
	req_build(rq);
	return ld_run_sync(cn->s, &rq->cp, "layoutget", &r, NULL);
}

/*
 * Open (and for layouthold, LAYOUTGET) all K files on every connection and
 * print the growth of the server's RSS per object.  The opens stay until
 * the sessions are destroyed.
 */
static int MUST_CHECK
run_hold(struct ld_run *run, uint64_t rss0, uint64_t rss1)
{
	uint64_t rss2, rss3, units;
	stateid4 *sids;
	struct ld_fh fh;
	char name[16];
	unsigned i;
	uint32_t f;
	int err = 0;

	if (run->wl->kind == WL_IDLE) {
		printf("RESULT label=%s workload=idle conns=%u rss_before=%llu "
		       "rss_after=%llu bytes_per_client=%.0f\n", run->label,
		       run->nconns, (unsigned long long)rss0,
		       (unsigned long long)rss1,
		       ((double)rss1 - (double)rss0) / (double)run->nconns);
		return 0;
	}
	units = (uint64_t)run->nconns * run->tree.nfiles;
	sids = calloc(units, sizeof(*sids));
	if (!sids)
		return -ENOMEM;
	for (i = 0; i < run->nconns && !err; i++) {
		struct ld_conn *cn = &run->conns[i];

		for (f = 0; f < run->tree.nfiles && !err; f++) {
			ld_file_name(f, name, sizeof(name));
			err = ld_open_file(cn->s, &run->tree.dir, name,
					   cn->owner, OPEN4_SHARE_ACCESS_BOTH,
					   &sids[i * run->tree.nfiles + f], &fh);
		}
	}
	if (err)
		goto out_free;
	rss2 = run->server_pid ? proc_rss(run->server_pid) : 0;
	printf("RESULT label=%s workload=openhold conns=%u files=%u "
	       "rss_before=%llu rss_after=%llu bytes_per_open=%.0f\n",
	       run->label, run->nconns, run->tree.nfiles,
	       (unsigned long long)rss1, (unsigned long long)rss2,
	       ((double)rss2 - (double)rss1) / (double)units);
	if (run->wl->kind == WL_OPENHOLD)
		goto out_free;
	/* The opens stay; now one layout segment per open file. */
	for (i = 0; i < run->nconns && !err; i++)
		for (f = 0; f < run->tree.nfiles && !err; f++)
			err = hold_layout(&run->conns[i], &run->tree.files[f],
					  &sids[i * run->tree.nfiles + f]);
	if (err)
		goto out_free;
	rss3 = run->server_pid ? proc_rss(run->server_pid) : 0;
	printf("RESULT label=%s workload=layouthold conns=%u files=%u "
	       "rss_before=%llu rss_after=%llu bytes_per_layout=%.0f\n",
	       run->label, run->nconns, run->tree.nfiles,
	       (unsigned long long)rss2, (unsigned long long)rss3,
	       ((double)rss3 - (double)rss2) / (double)units);
out_free:
	free(sids);
	return err;
}

/* --- the measured run --------------------------------------------------- */

static void
sleep_s(unsigned s)
{
	struct timespec ts = { .tv_sec = s };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void
print_errors(const struct ld_run *run)
{
	char b1[16], b2[16];
	static const char *const fail_names[] = {
		[LD_OK] = "ok",
		[LD_FAIL_TRANSPORT] = "transport",
		[LD_FAIL_RPC] = "rpc-not-accepted",
		[LD_FAIL_XDR] = "bad-reply",
		[LD_FAIL_NFS] = "nfs",
		[LD_FAIL_CHECK] = "wrong-result",
	};
	unsigned i, k;

	for (i = 0; i < run->nconns; i++) {
		const struct ld_conn *cn = &run->conns[i];

		for (k = 0; k < ERR_KINDS && cn->errs[k].count; k++) {
			const struct err_kind *e = &cn->errs[k];

			if (e->fail == LD_FAIL_NFS)
				printf("  errors   conn %u: %s %s: %llu\n", i,
				       ld_op_name(e->op, b1, sizeof(b1)),
				       ld_status_name(e->status, b2,
						      sizeof(b2)),
				       (unsigned long long)e->count);
			else
				printf("  errors   conn %u: %s: %llu\n", i,
				       fail_names[e->fail],
				       (unsigned long long)e->count);
		}
		if (cn->err_other)
			printf("  errors   conn %u: other kinds: %llu\n", i,
			       (unsigned long long)cn->err_other);
	}
}

static int
run_load(struct ld_run *run)
{
	uint64_t t0, t1, scpu0 = 0, scpu1 = 0, ccpu0, ccpu1, deadline;
	uint64_t ops = 0, bytes = 0, errors = 0, rss = 0;
	struct ld_hist *h;
	double secs, err_frac;
	unsigned i, d;
	int rc = EXIT_OK;

	h = calloc(1, sizeof(*h));
	if (!h)
		return EXIT_USAGE;
	atomic_store(&run->phase, PH_WARMUP);
	mutex_lock(&run->lock);
	run->inflight = run->nconns * run->depth;
	mutex_unlock(&run->lock);
	for (i = 0; i < run->nconns; i++)
		for (d = 0; d < run->depth; d++) {
			struct ld_req *rq = &run->conns[i].reqs[d];

			rq->start_ns = clock_now_ns();
			req_issue(rq);
		}
	sleep_s(run->warmup_s);
	if (run->server_pid)
		scpu0 = proc_cpu_ns(run->server_pid);
	ccpu0 = self_cpu_ns();
	t0 = clock_now_ns();
	atomic_store(&run->phase, PH_MEASURE);
	sleep_s(run->time_s);
	atomic_store(&run->phase, PH_STOP);
	t1 = clock_now_ns();
	ccpu1 = self_cpu_ns();
	if (run->server_pid) {
		scpu1 = proc_cpu_ns(run->server_pid);
		rss = proc_rss(run->server_pid);
	}

	/* Every request stops at its next operation boundary. */
	deadline = clock_now_ns() + DRAIN_TIMEOUT_NS;
	mutex_lock(&run->lock);
	while (run->inflight > 0)
		if (condvar_wait_until(&run->idle_cond, &run->lock, deadline))
			break;
	i = run->inflight;
	mutex_unlock(&run->lock);
	if (i > 0) {
		/* Receive threads still own those requests: do not free. */
		fprintf(stderr, "nfsload: %u requests still in flight after "
			"%llu s\n", i, DRAIN_TIMEOUT_NS / NSEC_PER_SEC);
		exit(EXIT_ERRORS);
	}

	for (i = 0; i < run->nconns; i++) {
		ld_hist_merge(h, &run->conns[i].hist);
		ops += run->conns[i].ops;
		bytes += run->conns[i].bytes;
		errors += run->conns[i].errors;
	}
	secs = (double)(t1 - t0) / 1e9;
	err_frac = ops + errors ? (double)errors / (double)(ops + errors) : 1;
	if (!run->quiet) {
		printf("nfsload: %s on %s:%u:%s, %u conn x %u deep, "
		       "%us warm-up, %.2fs measured\n", run->wl->name,
		       run->target.host, run->target.port, run->path, run->nconns,
		       run->depth, run->warmup_s, secs);
		printf("  ops      %llu (%.0f ops/s)\n",
		       (unsigned long long)ops, (double)ops / secs);
		if (run->wl->iosize)
			printf("  MB/s     %.1f\n", (double)bytes / secs / 1e6);
		printf("  latency  mean %.1f us, p50 %.1f, p99 %.1f, "
		       "max %.1f\n",
		       h->count ? (double)h->sum_ns / (double)h->count / 1e3 :
				  0.0,
		       (double)ld_hist_quantile(h, 0.5) / 1e3,
		       (double)ld_hist_quantile(h, 0.99) / 1e3,
		       (double)h->max_ns / 1e3);
		printf("  cpu      client %.1f us/op", ops ?
		       (double)(ccpu1 - ccpu0) / 1e3 / (double)ops : 0.0);
		if (run->server_pid)
			printf(", server %.1f us/op (%.2f cores), "
			       "server RSS %.1f MiB",
			       ops ? (double)(scpu1 - scpu0) / 1e3 /
					     (double)ops : 0.0,
			       (double)(scpu1 - scpu0) / 1e9 / secs,
			       (double)rss / 1048576.0);
		printf("\n  errors   %llu (%.3f%%)\n",
		       (unsigned long long)errors, err_frac * 100);
		print_errors(run);
	}
	printf("RESULT label=%s workload=%s conns=%u depth=%u secs=%.3f "
	       "ops=%llu ops_s=%.1f mb_s=%.2f mean_us=%.2f p50_us=%.2f "
	       "p99_us=%.2f max_us=%.1f errors=%llu srv_cpu_us=%.2f "
	       "cli_cpu_us=%.2f srv_rss=%llu\n",
	       run->label, run->wl->name, run->nconns, run->depth, secs,
	       (unsigned long long)ops, (double)ops / secs,
	       (double)bytes / secs / 1e6,
	       h->count ? (double)h->sum_ns / (double)h->count / 1e3 : 0.0,
	       (double)ld_hist_quantile(h, 0.5) / 1e3,
	       (double)ld_hist_quantile(h, 0.99) / 1e3,
	       (double)h->max_ns / 1e3, (unsigned long long)errors,
	       run->server_pid && ops ?
		       (double)(scpu1 - scpu0) / 1e3 / (double)ops : 0.0,
	       ops ? (double)(ccpu1 - ccpu0) / 1e3 / (double)ops : 0.0,
	       (unsigned long long)rss);
	if (ops == 0 || err_frac > ERROR_LIMIT) {
		fprintf(stderr, "nfsload: %s: %llu errors in %llu operations "
			"(limit %.1f%%)\n", run->wl->name,
			(unsigned long long)errors,
			(unsigned long long)(ops + errors), ERROR_LIMIT * 100);
		if (run->quiet)
			print_errors(run);
		rc = EXIT_ERRORS;
	}
	free(h);
	return rc;
}

static int MUST_CHECK
parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 10);
	if (errno || end == s || *end || *out > max)
		return -EINVAL;
	return 0;
}

int
main(int argc, char **argv)
{
	struct ld_run run = {
		.nconns = 1, .depth = 1, .warmup_s = 1, .time_s = 5,
		.nfiles = 1000, .big_size = DEFAULT_BIG, .commit_every = 16,
		.label = "-",
	};
	struct nc_conn *sc = NULL;
	struct nc_session *ss = NULL;
	unsigned long long v;
	uint64_t rss0 = 0, rss1 = 0;
	unsigned i;
	size_t w;
	int opt, err, rc = EXIT_USAGE;

	while ((opt = getopt(argc, argv, "c:d:w:t:k:b:C:P:u:g:L:qh")) != -1) {
		err = 0;
		switch (opt) {
		case 'c': err = parse_uint(optarg, 4096, &v); run.nconns = v;
			break;
		case 'd': err = parse_uint(optarg, NC_MAX_SLOTS, &v);
			run.depth = v; break;
		case 'w': err = parse_uint(optarg, 3600, &v); run.warmup_s = v;
			break;
		case 't': err = parse_uint(optarg, 3600, &v); run.time_s = v;
			break;
		case 'k': err = parse_uint(optarg, 10000000, &v);
			run.nfiles = v; break;
		case 'b': err = parse_uint(optarg, 1u << 20, &v);
			run.big_size = v << 20; break;
		case 'C': err = parse_uint(optarg, 1u << 20, &v);
			run.commit_every = v; break;
		case 'P': err = parse_uint(optarg, 1u << 30, &v);
			run.server_pid = (pid_t)v; break;
		case 'u': err = parse_uint(optarg, UINT32_MAX, &v);
			run.target.uid = v; break;
		case 'g': err = parse_uint(optarg, UINT32_MAX, &v);
			run.target.gid = v; break;
		case 'L': run.label = optarg; break;
		case 'q': run.quiet = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
		if (err) {
			fprintf(stderr, "nfsload: bad value for -%c: %s\n",
				opt, optarg);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (parse_target(&run, argv[optind])) {
		fprintf(stderr, "nfsload: bad target %s (want "
			"SERVER:PORT:/PATH)\n", argv[optind]);
		return EXIT_USAGE;
	}
	for (w = 0; w < ARRAY_SIZE(workloads); w++)
		if (!strcmp(workloads[w].name, argv[optind + 1]))
			run.wl = &workloads[w];
	if (!run.wl) {
		fprintf(stderr, "nfsload: unknown workload %s\n",
			argv[optind + 1]);
		return EXIT_USAGE;
	}
	if (run.nconns < 1 || run.depth < 1 || run.time_s < 1 ||
	    run.commit_every < 1 ||
	    (run.wl->tree && run.nfiles < 1) ||
	    run.big_size < MAX_IO) {
		fprintf(stderr, "nfsload: -c, -d, -t, -C, -k must be at least "
			"1 and -b at least 1\n");
		return EXIT_USAGE;
	}
	if (run.wl->kind == WL_LAYOUT &&
	    run.nfiles < (uint64_t)run.nconns * run.depth) {
		fprintf(stderr, "nfsload: layout needs -k >= -c x -d (one "
			"file per request)\n");
		return EXIT_USAGE;
	}
	/* A vanished server must not kill us with SIGPIPE mid-report. */
	signal(SIGPIPE, SIG_IGN);
	log_init("nfsload", LOG_LVL_WARN, false);
	mutex_init(&run.lock, "ld_run");
	condvar_init(&run.idle_cond);
	run.wbuf = malloc(MAX_IO);
	run.conns = calloc(run.nconns, sizeof(*run.conns));
	if (!run.wbuf || !run.conns) {
		fprintf(stderr, "nfsload: out of memory\n");
		return EXIT_USAGE;
	}
	memset(run.wbuf, 0xa5, MAX_IO);

	if (run.wl->tree) {
		char owner[64];

		snprintf(owner, sizeof(owner), "nfsload-%d-setup",
			 (int)getpid());
		if (ld_session_open(&run.target, owner, &sc, &ss))
			goto out;
		err = ld_tree_setup(ss, run.path, run.nfiles, run.big_size,
				    &run.tree);
		ld_session_close(sc, ss);
		if (err) {
			fprintf(stderr, "nfsload: cannot set up %s:%s/%s\n",
				run.target.host, run.path, LD_DIR_NAME);
			rc = err == -EOPNOTSUPP ? EXIT_NOTSUPP : EXIT_USAGE;
			goto out;
		}
	}
	if (run.wl->kind == WL_RECALL) {
		struct ld_recall_args ra = {
			.target = &run.target, .tree = &run.tree,
			.nclients = run.nconns, .label = run.label,
		};

		err = ld_recall_storm(&ra);
		rc = !err ? EXIT_OK : err == -EOPNOTSUPP ? EXIT_NOTSUPP :
							   EXIT_ERRORS;
		goto out;
	}
	if (run.server_pid)
		rss0 = proc_rss(run.server_pid);
	for (i = 0; i < run.nconns; i++) {
		run.conns[i].run = &run;
		run.conns[i].idx = i;
		err = conn_setup(&run, &run.conns[i]);
		if (err) {
			rc = err == -EOPNOTSUPP ? EXIT_NOTSUPP : EXIT_USAGE;
			goto out_conns;
		}
	}
	if (run.server_pid)
		rss1 = proc_rss(run.server_pid);
	if (run.wl->kind == WL_IDLE || run.wl->kind == WL_OPENHOLD ||
	    run.wl->kind == WL_LAYOUTHOLD) {
		err = run_hold(&run, rss0, rss1);
		rc = !err ? EXIT_OK : err == -EOPNOTSUPP ? EXIT_NOTSUPP :
							   EXIT_ERRORS;
	} else {
		rc = run_load(&run);
	}

out_conns:
	for (i = 0; i < run.nconns; i++)
		conn_teardown(&run, &run.conns[i]);
out:
	ld_tree_free(&run.tree);
	free(run.conns);
	free(run.wbuf);
	free(run.target.host);
	free(run.path);
	return rc;
}
