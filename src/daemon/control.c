/*
 * control.c - the administration socket that pmemnfsctl talks to: a unix
 * stream socket (mode 0600) on which each connection carries one command
 * line and gets a text answer, then the server closes it.  A dedicated
 * thread serves it so that administration keeps working when every RPC
 * worker is busy.
 *
 * Answers are "key value" lines (one record per line for lists, fields
 * separated by spaces) so scripts can parse them; the first line is "ok" or
 * "error MESSAGE".
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "fs.h"
#include "fs/refset.h"
#include "state.h"
#include "vol.h"

/* A command line longer than this is refused: the commands are words. */
#define CONTROL_LINE_MAX	256
/* A client that sends nothing for this long is dropped (one thread serves all). */
#define CONTROL_READ_TIMEOUT_MS	2000
/* Clients listed at most in one answer (the rest are counted). */
#define CONTROL_CLIENTS_MAX	10000

struct daemon_control {
	int		listen_fd;
	int		stop_pipe[2];
	char		*path;
	pthread_t	thread;
	struct fs	*fs;
	struct nfs4_server *nfs4;
	struct rpc_server *rpc;
	time_t		started;
};

static void PRINTF_LIKE(2, 3)
out(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

static void
cmd_status(struct daemon_control *c, FILE *f)
{
	struct vol *v = fs_vol(c->fs);
	struct state_client_info one;
	unsigned total = 0;

	state_list_clients(nfs4_server_state(c->nfs4), &one, 0, &total);
	out(f, "ok\n");
	out(f, "version %s\n", PACKAGE_VERSION);
	out(f, "pid %d\n", (int)getpid());
	out(f, "uptime_sec %lld\n", (long long)(time(NULL) - c->started));
	out(f, "volume %s\n", vol_path(v));
	out(f, "boot_count %llu\n", (unsigned long long)vol_boot_count(v));
	out(f, "pmem %s\n", vol_is_pmem(v) ? "yes" : "no (msync)");
	out(f, "shutdown %s\n", fs_is_shutdown(c->fs) ? "yes" : "no");
	out(f, "clients %u\n", total);
}

static void
cmd_fs(struct daemon_control *c, FILE *f)
{
	struct fs_statfs st;
	int rc = fs_statfs(c->fs, &st);

	if (rc) {
		out(f, "error statfs: %s\n", strerror(-rc));
		return;
	}
	out(f, "ok\n");
	out(f, "block_size %u\n", st.block_size);
	out(f, "blocks_total %llu\n", (unsigned long long)st.blocks_total);
	out(f, "blocks_free %llu\n", (unsigned long long)st.blocks_free);
	out(f, "inodes_used %llu\n", (unsigned long long)st.inodes_used);
}

static void
cmd_clients(struct daemon_control *c, FILE *f)
{
	struct state_client_info *ci;
	unsigned n, total = 0;

	ci = calloc(CONTROL_CLIENTS_MAX, sizeof(*ci));
	if (!ci) {
		out(f, "error out of memory\n");
		return;
	}
	n = state_list_clients(nfs4_server_state(c->nfs4), ci,
			       CONTROL_CLIENTS_MAX, &total);
	out(f, "ok\n");
	out(f, "# clientid confirmed cb_up sessions lease_left_ms seq_flags owner\n");
	for (unsigned i = 0; i < n; i++)
		out(f, "client %016llx %s %s %u %llu 0x%x %s\n",
		    (unsigned long long)ci[i].clientid,
		    ci[i].confirmed ? "yes" : "no", ci[i].cb_up ? "up" : "down",
		    ci[i].nsessions, (unsigned long long)ci[i].lease_left_ms,
		    ci[i].seq_flags, ci[i].owner[0] ? ci[i].owner : "-");
	if (total > n)
		out(f, "more %u\n", total - n);
	free(ci);
}

static void
cmd_refs(struct daemon_control *c, FILE *f)
{
	struct fs_refset_stats st;

	(void)c;
	fs_refset_stats_get(&st);
	out(f, "ok\n");
	out(f, "refs %llu\n", (unsigned long long)st.refs);
	out(f, "pins %llu\n", (unsigned long long)st.pins);
	out(f, "breaking %llu\n", (unsigned long long)st.breaking);
	out(f, "breaks_in_flight %llu\n", (unsigned long long)st.breaks_in_flight);
	out(f, "breaks_total %llu\n", (unsigned long long)st.breaks_total);
	out(f, "recalls_total %llu\n", (unsigned long long)st.recalls_total);
	out(f, "expired_total %llu\n", (unsigned long long)st.expired_total);
	out(f, "conflicts_total %llu\n", (unsigned long long)st.conflicts_total);
	out(f, "pin_waits_total %llu\n", (unsigned long long)st.pin_waits_total);
	out(f, "timeouts_total %llu\n", (unsigned long long)st.timeouts_total);
}

static void
cmd_rpc(struct daemon_control *c, FILE *f)
{
	struct rpc_server_stats st;

	rpc_server_get_stats(c->rpc, &st);
	out(f, "ok\n");
	out(f, "calls %llu\n", (unsigned long long)st.calls);
	out(f, "replies %llu\n", (unsigned long long)st.replies);
	out(f, "rejected %llu\n", (unsigned long long)st.rejected);
	out(f, "dropped %llu\n", (unsigned long long)st.dropped);
	out(f, "conns_open %llu\n", (unsigned long long)st.conns_open);
	out(f, "conns_accepted %llu\n", (unsigned long long)st.conns_accepted);
	out(f, "conns_refused %llu\n", (unsigned long long)st.conns_refused);
	out(f, "records_too_big %llu\n", (unsigned long long)st.records_too_big);
	out(f, "read_pauses %llu\n", (unsigned long long)st.read_pauses);
	out(f, "cb_calls %llu\n", (unsigned long long)st.cb_calls);
	out(f, "cb_timeouts %llu\n", (unsigned long long)st.cb_timeouts);
	out(f, "cb_stray_replies %llu\n", (unsigned long long)st.cb_stray_replies);
	out(f, "accept_backoffs %llu\n", (unsigned long long)st.accept_backoffs);
	out(f, "calls_inline %llu\n", (unsigned long long)st.calls_inline);
	out(f, "replies_direct %llu\n", (unsigned long long)st.replies_direct);
}

static void
cmd_checkpoint(struct daemon_control *c, FILE *f)
{
	int rc = fs_checkpoint(c->fs);

	if (rc)
		out(f, "error checkpoint: %s\n", strerror(-rc));
	else
		out(f, "ok\n");
}

static const struct {
	const char *name;
	void (*fn)(struct daemon_control *, FILE *);
	const char *help;
} commands[] = {
	{ "status", cmd_status, "server, volume and client count" },
	{ "clients", cmd_clients, "one line per client record" },
	{ "fs", cmd_fs, "space and inodes of the volume" },
	{ "rpc", cmd_rpc, "RPC counters: calls, replies, connections, callbacks" },
	{ "refs", cmd_refs, "layout references and pins: held, breaking, totals" },
	{ "checkpoint", cmd_checkpoint, "write a metadata checkpoint now" },
};

static void
cmd_help(FILE *f)
{
	out(f, "ok\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		out(f, "%-12s %s\n", commands[i].name, commands[i].help);
}

/* Read one line with a deadline; -1 on timeout, error or an over-long line. */
static int
read_command(int fd, char *buf, size_t len)
{
	size_t have = 0;

	while (have < len - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, CONTROL_READ_TIMEOUT_MS) != 1)
			return -1;
		n = read(fd, buf + have, len - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
		buf[have] = '\0';
		if (strchr(buf, '\n'))
			break;
	}
	buf[have] = '\0';
	if (have == len - 1 && !strchr(buf, '\n'))
		return -1;
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static void
serve_one(struct daemon_control *c, int fd)
{
	char line[CONTROL_LINE_MAX];
	FILE *f;
	int wfd;

	wfd = dup(fd);
	if (wfd < 0)
		return;
	f = fdopen(wfd, "w");
	if (!f) {
		close(wfd);
		return;
	}
	if (read_command(fd, line, sizeof(line)) != 0) {
		out(f, "error no command, or a command line over %d bytes\n",
		    CONTROL_LINE_MAX - 1);
		goto out;
	}
	if (strcmp(line, "help") == 0) {
		cmd_help(f);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		if (strcmp(line, commands[i].name) == 0) {
			commands[i].fn(c, f);
			goto out;
		}
	}
	out(f, "error unknown command '%.64s' (try help)\n", line);
out:
	fclose(f);
}

static void *
control_thread(void *arg)
{
	struct daemon_control *c = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = c->listen_fd, .events = POLLIN },
			{ .fd = c->stop_pipe[0], .events = POLLIN },
		};
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("control socket: poll: %s", strerror(errno));
			return NULL;
		}
		if (p[1].revents)
			return NULL;
		fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve_one(c, fd);
		close(fd);
	}
}

int
daemon_control_start(const char *path, struct fs *fs, struct nfs4_server *nfs4,
		     struct rpc_server *rpc, struct daemon_control **out_c)
{
	struct sockaddr_un sun;
	struct daemon_control *c;
	mode_t old_umask;
	int rc;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_error("%s: control socket path longer than %zu bytes", path,
			  sizeof(sun.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fs = fs;
	c->nfs4 = nfs4;
	c->rpc = rpc;
	c->started = time(NULL);
	c->path = strdup(path);
	if (!c->path) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (pipe2(c->stop_pipe, O_CLOEXEC) != 0) {
		rc = -errno;
		goto out_path;
	}
	c->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->listen_fd < 0) {
		rc = -errno;
		goto out_pipe;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	/*
	 * A stale socket from a crashed server is replaced; a live server
	 * holds the volume lock, so we cannot get here while it runs.
	 */
	unlink(path);
	old_umask = umask(077);
	rc = bind(c->listen_fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	/* Connecting needs write permission: owner only. */
	if (rc != 0 || chmod(path, 0600) != 0 || listen(c->listen_fd, 16) != 0) {
		rc = -errno;
		log_error("%s: cannot create the control socket: %s", path,
			  strerror(errno));
		goto out_sock;
	}
	rc = -pthread_create(&c->thread, NULL, control_thread, c);
	if (rc)
		goto out_unlink;
	*out_c = c;
	return 0;
out_unlink:
	unlink(path);
out_sock:
	close(c->listen_fd);
out_pipe:
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
out_path:
	free(c->path);
out_free:
	free(c);
	return rc;
}

void
daemon_control_stop(struct daemon_control *c)
{
	if (!c)
		return;
	if (write(c->stop_pipe[1], "x", 1) != 1)
		log_warn("control socket: cannot wake the thread");
	pthread_join(c->thread, NULL);
	unlink(c->path);
	close(c->listen_fd);
	close(c->stop_pipe[0]);
	close(c->stop_pipe[1]);
	free(c->path);
	free(c);
}
