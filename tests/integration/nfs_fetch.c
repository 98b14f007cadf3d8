/*
 * nfs_fetch.c - the host side of the qemu tests' content checks: reads
 * files back through pmemnfsd with the project's own NFSv4.1 client
 * library, so that what the Linux guest wrote is compared with what the
 * server serves to a different client.
 *
 *   nfs_fetch PORT probe        SEQUENCE + PUTROOTFH + GETFH on a new
 *                               session; prints "putrootfh STATUS" and
 *                               exits 0 (NFS4_OK), 3 (NFS4ERR_NOTSUPP: the
 *                               file service is not there) or 1
 *   nfs_fetch PORT cat PATH     writes the file's bytes to stdout
 *
 * The server is 127.0.0.1:PORT.  Credentials are AUTH_SYS root, which the
 * tests' exports do not squash.  READ uses the anonymous stateid (RFC 8881
 * §8.2.3), which a server accepts for a READ outside share reservations;
 * NFS4ERR_GRACE and NFS4ERR_DELAY are retried until FETCH_DEADLINE_S, so a
 * read right after a server restart waits out the grace period.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nfsclient.h"

/* Longer than any grace period the tests configure, plus slack for TCG. */
#define FETCH_DEADLINE_S	180
/* Pause between tries while the server answers GRACE or DELAY. */
#define FETCH_RETRY_NS		(200 * NSEC_PER_MSEC)
/* Largest READ we ask for; the session's response size bounds it too. */
#define FETCH_MAX_READ		(512u * 1024)
/* Most path components a test file has. */
#define FETCH_MAX_DEPTH		16

static time_t deadline;

static void
pause_retry(void)
{
	struct timespec ts = {
		.tv_sec = FETCH_RETRY_NS / NSEC_PER_SEC,
		.tv_nsec = FETCH_RETRY_NS % NSEC_PER_SEC,
	};

	nanosleep(&ts, NULL);
}

static bool
retryable(nfsstat4 st)
{
	return (st == NFS4ERR_GRACE || st == NFS4ERR_DELAY) &&
	       time(NULL) < deadline;
}

static int
setup(uint16_t port, struct nc_conn **c, struct nc_session **s)
{
	struct nc_session_opts o;
	char owner[64];
	int err;

	err = nc_conn_open("127.0.0.1", port, c);
	if (err) {
		fprintf(stderr, "nfs_fetch: connect to port %u: %s\n", port,
			strerror(-err));
		return err;
	}
	err = nc_conn_set_auth_sys(*c, 0, 0);
	if (err)
		goto out_close;
	nc_session_opts_init(&o);
	o.flags = 0;	/* no back channel: we hold no state to recall */
	snprintf(owner, sizeof(owner), "pmemnfs-qemu-fetch-%ld", (long)getpid());
	err = nc_session_setup(*c, owner, &o, s);
	if (err) {
		fprintf(stderr, "nfs_fetch: session setup: %s\n", strerror(-err));
		goto out_close;
	}
	return 0;

out_close:
	nc_conn_close(*c);
	return err;
}

/* Append PUTROOTFH and a LOOKUP per component of path (which is split). */
static int
add_path(struct nc_compound *cp, char *path)
{
	char *save = NULL, *comp;
	nfs_argop4 *op;
	int n = 0;

	if (!nc_compound_add(cp, OP_PUTROOTFH))
		return -E2BIG;
	for (comp = strtok_r(path, "/", &save); comp;
	     comp = strtok_r(NULL, "/", &save)) {
		if (++n > FETCH_MAX_DEPTH)
			return -E2BIG;
		op = nc_compound_add(cp, OP_LOOKUP);
		if (!op)
			return -E2BIG;
		op->nfs_argop4_u.oplookup.objname.utf8string_val = comp;
		op->nfs_argop4_u.oplookup.objname.utf8string_len = strlen(comp);
	}
	return 0;
}

static int
do_probe(struct nc_session *s)
{
	struct nc_compound cp;
	COMPOUND4res res;
	int err, st;

	nc_session_compound_init(&cp, "probe");
	if (!nc_compound_add(&cp, OP_PUTROOTFH) || !nc_compound_add(&cp, OP_GETFH))
		return 1;
	err = nc_session_compound(s, &cp, 0, &res, NULL);
	if (err) {
		fprintf(stderr, "nfs_fetch: probe: %s\n", strerror(-err));
		return 1;
	}
	st = nc_res_status(&res, 1);
	printf("putrootfh %d\n", st);
	nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	if (st == NFS4_OK)
		return 0;
	return st == NFS4ERR_NOTSUPP ? 3 : 1;
}

static int
do_cat(struct nc_session *s, const char *path_arg)
{
	const struct nc_session_info *si = nc_session_info(s);
	uint32_t chunk = FETCH_MAX_READ;
	struct nc_compound cp;
	COMPOUND4res res;
	uint64_t off = 0;
	char path[4096];
	nfs_argop4 *op;
	READ4resok *ok;
	bool eof = false;
	nfs_resop4 *last;
	int err;

	/* Leave room for the compound's headers in the reply. */
	if (si->fore.ca_maxresponsesize > 8192 &&
	    si->fore.ca_maxresponsesize - 4096 < chunk)
		chunk = (si->fore.ca_maxresponsesize - 4096) & ~4095u;
	while (!eof) {
		snprintf(path, sizeof(path), "%s", path_arg);
		nc_session_compound_init(&cp, "cat");
		err = add_path(&cp, path);
		if (err)
			return 1;
		op = nc_compound_add(&cp, OP_READ);
		if (!op)
			return 1;
		/* All-zero stateid: the anonymous stateid. */
		memset(&op->nfs_argop4_u.opread.stateid, 0,
		       sizeof(op->nfs_argop4_u.opread.stateid));
		op->nfs_argop4_u.opread.offset = off;
		op->nfs_argop4_u.opread.count = chunk;
		err = nc_session_compound(s, &cp, 0, &res, NULL);
		if (err) {
			fprintf(stderr, "nfs_fetch: READ at %llu: %s\n",
				(unsigned long long)off, strerror(-err));
			return 1;
		}
		if (res.status != NFS4_OK) {
			int st = res.status;

			nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
			if (retryable(st)) {
				pause_retry();
				continue;
			}
			fprintf(stderr, "nfs_fetch: %s at %llu: status %d\n",
				path_arg, (unsigned long long)off, st);
			return 1;
		}
		last = &res.resarray.resarray_val[res.resarray.resarray_len - 1];
		ok = &last->nfs_resop4_u.opread.READ4res_u.resok4;
		if (ok->data.data_len &&
		    fwrite(ok->data.data_val, 1, ok->data.data_len, stdout) !=
		    ok->data.data_len) {
			nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
			return 1;
		}
		off += ok->data.data_len;
		eof = ok->eof || ok->data.data_len == 0;
		nc_res_free((xdrproc_t)xdr_COMPOUND4res, &res);
	}
	return fflush(stdout) ? 1 : 0;
}

int
main(int argc, char **argv)
{
	struct nc_session *s;
	struct nc_conn *c;
	long port;
	int rc;

	if (argc < 3 || (strcmp(argv[2], "probe") && strcmp(argv[2], "cat")) ||
	    (!strcmp(argv[2], "cat") && argc != 4)) {
		fprintf(stderr, "usage: nfs_fetch PORT probe | PORT cat PATH\n");
		return 2;
	}
	port = strtol(argv[1], NULL, 10);
	if (port <= 0 || port > 65535)
		return 2;
	deadline = time(NULL) + FETCH_DEADLINE_S;
	if (setup((uint16_t)port, &c, &s))
		return 1;
	if (!strcmp(argv[2], "probe"))
		rc = do_probe(s);
	else
		rc = do_cat(s, argv[3]);
	nc_session_free(s);
	nc_conn_close(c);
	return rc;
}
