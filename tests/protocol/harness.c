/*
 * harness.c - start and stop a real pmemnfsd for protocol tests (see
 * harness.h).  Never leaves a server running: every started server is in a
 * small table that the atexit handler, the signal handlers and the watchdog
 * kill from.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* How often we look at the log / the process while waiting. */
#define H_POLL_NS		(10 * NSEC_PER_MSEC)
/* Servers one test process may run at once (restart tests use two). */
#define H_MAX_SERVERS		8
#define H_MAX_ARGS		64
#define H_LISTEN_TAG		"pmemnfsd: listening on "

static struct h_server *h_running[H_MAX_SERVERS];
static bool h_installed;

/* See harness.h. */
void
h_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / NSEC_PER_SEC),
		.tv_nsec = (long)(ns % NSEC_PER_SEC),
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Async-signal-safe: kill every server we started. */
static void
h_kill_all(void)
{
	int i;

	for (i = 0; i < H_MAX_SERVERS; i++)
		if (h_running[i] && h_running[i]->pid > 0)
			kill(h_running[i]->pid, SIGKILL);
}

static void
h_on_signal(int sig)
{
	static const char msg[] = "harness: signal or watchdog, killing servers\n";

	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	h_kill_all();
	signal(sig, SIG_DFL);
	if (sig == SIGALRM)
		_exit(1);	/* a hung test is a failed test */
	raise(sig);
}

static void
h_at_exit(void)
{
	int i;

	for (i = 0; i < H_MAX_SERVERS; i++)
		if (h_running[i] && h_running[i]->pid > 0)
			(void)h_server_stop(h_running[i], true);
}

static void
h_install(void)
{
	struct sigaction sa;

	if (h_installed)
		return;
	h_installed = true;
	atexit(h_at_exit);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = h_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	/* A peer closing on us must be an error return, not death. */
	signal(SIGPIPE, SIG_IGN);
	alarm(H_WATCHDOG_SEC);
}

static void
h_track(struct h_server *s, bool on)
{
	int i;

	for (i = 0; i < H_MAX_SERVERS; i++) {
		if (on && !h_running[i]) {
			h_running[i] = s;
			return;
		}
		if (!on && h_running[i] == s) {
			h_running[i] = NULL;
			return;
		}
	}
}

/* See harness.h. */
void
h_server_dump_log(const struct h_server *s)
{
	char buf[4096];
	FILE *f;
	size_t n;

	f = fopen(s->log, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s ----\n", s->log);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end of server log ----\n");
	fclose(f);
}

/* Look for the listening line; 1 with *port when found, 0 if not yet. */
static int
h_read_port(const struct h_server *s, uint16_t *port)
{
	char line[512];
	FILE *f;
	int found = 0;

	f = fopen(s->log, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, H_LISTEN_TAG), *colon, *end;
		unsigned long v;

		if (!p)
			continue;
		/* ADDR may be IPv6: the port follows the last colon. */
		colon = strrchr(p, ':');
		if (!colon)
			continue;
		v = strtoul(colon + 1, &end, 10);
		if (end == colon + 1 || v == 0 || v > 65535)
			continue;
		*port = (uint16_t)v;
		found = 1;
		break;
	}
	fclose(f);
	return found;
}

static void
h_rmdir(const struct h_server *s)
{
	DIR *d;
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (!s->dir[0] || getenv("H_KEEP"))
		return;
	d = opendir(s->dir);
	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", s->dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(s->dir);
}

static const char *
h_daemon_path(char *buf, size_t len)
{
	const char *env = getenv("PMEMNFSD"), *top = getenv("top_builddir");

	if (env && *env)
		return env;
	snprintf(buf, len, "%s/src/daemon/pmemnfsd", top && *top ? top : ".");
	return buf;
}

static void
h_child(const struct h_server *s, const char *daemon,
	const char *const *argv)
{
	int fd;

	/* Die with the test even if it is killed before it can clean up. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		_exit(126);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, STDIN_FILENO);
	alarm(0);
	execv(daemon, (char *const *)argv);
	fprintf(stderr, "harness: exec %s: %s\n", daemon, strerror(errno));
	_exit(127);
}

/* See harness.h. */
int
h_server_start(struct h_server *s, const char *const *extra)
{
	const char *argv[H_MAX_ARGS];
	char dpath[PATH_MAX];
	const char *daemon, *tmp = getenv("TMPDIR");
	uint64_t deadline;
	int argc = 0, i, err;

	h_install();
	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s/pmemnfs-proto-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(s->dir)) {
		err = -errno;
		fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
		s->dir[0] = '\0';
		return err;
	}
	snprintf(s->volume, sizeof(s->volume), "%s/volume", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/server.log", s->dir);
	snprintf(s->pidfile, sizeof(s->pidfile), "%s/pid", s->dir);
	daemon = h_daemon_path(dpath, sizeof(dpath));
	if (access(daemon, X_OK)) {
		err = -errno;
		fprintf(stderr, "harness: no daemon at %s: %s\n", daemon,
			strerror(errno));
		h_rmdir(s);
		return err;
	}
	argv[argc++] = daemon;
	argv[argc++] = "-f";
	argv[argc++] = "-l";
	argv[argc++] = "127.0.0.1";
	argv[argc++] = "-p";
	argv[argc++] = "0";
	argv[argc++] = "-v";
	argv[argc++] = s->volume;
	argv[argc++] = "-P";
	argv[argc++] = s->pidfile;
	if (getenv("H_LOG_LEVEL")) {
		argv[argc++] = "-d";
		argv[argc++] = getenv("H_LOG_LEVEL");
	}
	for (i = 0; extra && extra[i] && argc < H_MAX_ARGS - 1; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	s->pid = fork();
	if (s->pid < 0) {
		err = -errno;
		s->pid = 0;
		h_rmdir(s);
		return err;
	}
	if (s->pid == 0)
		h_child(s, daemon, argv);
	h_track(s, true);

	deadline = clock_now_ns() + H_START_TIMEOUT_NS;
	while (!h_read_port(s, &s->port)) {
		if (!h_server_alive(s)) {
			fprintf(stderr, "harness: server exited during start\n");
			goto fail;
		}
		if (clock_now_ns() > deadline) {
			fprintf(stderr, "harness: no listening line in time\n");
			goto fail;
		}
		h_sleep_ns(H_POLL_NS);
	}
	/* The line comes after listen(); still, prove it accepts. */
	for (;;) {
		struct nc_conn *c;

		if (nc_conn_open("127.0.0.1", s->port, &c) == 0) {
			nc_conn_close(c);
			return 0;
		}
		if (!h_server_alive(s) || clock_now_ns() > deadline) {
			fprintf(stderr, "harness: port %u does not accept\n",
				s->port);
			goto fail;
		}
		h_sleep_ns(H_POLL_NS);
	}
fail:
	(void)h_server_stop(s, true);
	return -EIO;
}

/* See harness.h. */
bool
h_server_alive(struct h_server *s)
{
	int status;
	pid_t r;

	if (s->pid <= 0)
		return false;
	r = waitpid(s->pid, &status, WNOHANG);
	if (r == 0)
		return true;
	if (r == s->pid) {
		fprintf(stderr, "harness: server %d %s %d\n", (int)s->pid,
			WIFEXITED(status) ? "exited with" : "killed by signal",
			WIFEXITED(status) ? WEXITSTATUS(status) :
			WTERMSIG(status));
		s->pid = -1;	/* reaped: stop must not kill a reused pid */
	}
	return false;
}

/* See harness.h. */
int
h_server_stop(struct h_server *s, bool dump_log)
{
	uint64_t deadline;
	int status = 0, rc = -1;
	pid_t r;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		deadline = clock_now_ns() + H_STOP_TIMEOUT_NS;
		for (;;) {
			r = waitpid(s->pid, &status, WNOHANG);
			if (r == s->pid) {
				if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
					rc = 0;
				else
					fprintf(stderr, "harness: server %s %d\n",
						WIFEXITED(status) ?
						"exited with" : "killed by",
						WIFEXITED(status) ?
						WEXITSTATUS(status) :
						WTERMSIG(status));
				break;
			}
			if (r < 0 || clock_now_ns() > deadline) {
				fprintf(stderr, "harness: server ignored "
					"SIGTERM, killing it\n");
				kill(s->pid, SIGKILL);
				(void)waitpid(s->pid, &status, 0);
				break;
			}
			h_sleep_ns(H_POLL_NS);
		}
	}
	s->pid = 0;
	h_track(s, false);
	if (dump_log || rc)
		h_server_dump_log(s);
	h_rmdir(s);
	s->dir[0] = '\0';
	return rc;
}

/* See harness.h. */
int
h_connect(const struct h_server *s, struct nc_conn **out)
{
	return nc_conn_open("127.0.0.1", s->port, out);
}

/* See harness.h. */
const char *
h_owner(const char *prefix)
{
	static char buf[8][128];
	static unsigned n;
	char *b = buf[n % 8];

	snprintf(b, sizeof(buf[0]), "%s-%d-%u-%ld", prefix, (int)getpid(), n,
		 (long)time(NULL));
	n++;
	return b;
}

/* See harness.h. */
int
h_session(const struct h_server *srv, const char *owner,
	  const struct nc_session_opts *o, struct nc_conn **c,
	  struct nc_session **s)
{
	struct nc_session_opts def;
	int err;

	if (!o) {
		nc_session_opts_init(&def);
		o = &def;
	}
	err = h_connect(srv, c);
	if (err)
		return err;
	err = nc_session_setup(*c, owner, o, s);
	if (err) {
		nc_conn_close(*c);
		*c = NULL;
	}
	return err;
}

/* See harness.h. */
void
h_session_free(struct nc_conn *c, struct nc_session *s)
{
	nc_session_free(s);
	nc_conn_close(c);
}

/* See harness.h. */
void
h_sequence(nfs_argop4 *op, const struct nc_session *s, slotid4 slot,
	   sequenceid4 seqid, slotid4 highest, bool cachethis)
{
	SEQUENCE4args *sa = &op->nfs_argop4_u.opsequence;

	op->argop = OP_SEQUENCE;
	memcpy(sa->sa_sessionid, nc_session_info(s)->sessionid,
	       NFS4_SESSIONID_SIZE);
	sa->sa_sequenceid = seqid;
	sa->sa_slotid = slot;
	sa->sa_highest_slotid = highest;
	sa->sa_cachethis = cachethis;
}

/* See harness.h. */
bool_t
h_xdr_bytes(XDR *x, void *arg)
{
	struct h_bytes *b = arg;

	return b->len == 0 || XDR_PUTBYTES(x, (char *)b->p, b->len);
}

/* See harness.h. */
int
h_call(struct nc_conn *c, uint32_t prog, uint32_t vers, uint32_t proc,
       const void *body, u_int len, struct nc_rpc_reply *r,
       struct nc_call **call_out)
{
	struct h_bytes b = { body, len };
	struct nc_call *call;
	int err;

	err = nc_call_start(c, prog, vers, proc, (xdrproc_t)h_xdr_bytes, &b,
			    NULL, NULL, &call);
	if (err)
		return err;
	err = nc_call_wait(call, NC_DEFAULT_TIMEOUT_NS);
	if (!err)
		err = nc_call_parse(call, r);
	if (call_out && !err)
		*call_out = call;
	else
		nc_call_free(call);
	return err;
}

/* See harness.h. */
bool
h_still_serving(const struct h_server *srv)
{
	struct nc_rpc_reply r;
	struct nc_conn *c;
	bool ok;

	if (h_connect(srv, &c))
		return false;
	ok = nc_null(c, NC_NFS_PROGRAM, NC_NFS_VERSION, &r) == 0 &&
	     r.reply_stat == MSG_ACCEPTED && r.accept_stat == SUCCESS;
	nc_conn_close(c);
	return ok;
}
