/*
 * pmemnfsd.c - the server process: options, configuration, the volume,
 * the RPC server with the NFSv4 program, signals, pid file, daemon mode.
 *
 * Order of start-up (OpenBSD-daemon style): parse and check everything
 * first (-n stops here), open the volume and bind the socket (the steps
 * that need privileges or can fail on the environment), only then detach,
 * so a failure is reported on the terminal with a non-zero exit status.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "daemon.h"
#include "fs.h"
#include "fs/refset.h"

/*
 * Every 1 MiB READ copy, reply or WRITE record buffer is allocated and
 * freed per call.  glibc serves such sizes from mmap and trims a freed
 * heap top, so each one came back as fresh zeroed pages: about 15% of a
 * 1 MiB READ's server time was page faults (docs/BENCHMARKS.md, "1 MiB
 * READ and WRITE: copies").  Buffers up to DAEMON_MMAP_MIN come from the
 * heap and up to DAEMON_TRIM_MIN of free heap top stays mapped, so they
 * are reused warm.  Cost: what the daemon used at its peak stays mapped,
 * at most DAEMON_TRIM_MIN more than in use per malloc arena.
 */
#define DAEMON_MMAP_MIN		(8u << 20)	/* > 2 x max_record, max_reply defaults */
#define DAEMON_TRIM_MIN		(16u << 20)

struct daemon {
	struct daemon_config	cfg;
	const char		*config_path;
	struct rpc_server	*rpc;
	struct nfs4_server	*nfs4;
	struct daemon_storage	*storage;
	struct daemon_control	*control;
	int			pid_fd;
	pthread_t		sig_thread;
	sigset_t		sigs;
};

static void
usage(FILE *out)
{
	fprintf(out,
"usage: pmemnfsd [-fnh] [-c CONFIG] [-v VOLUME] [-l ADDR] [-p PORT]\n"
"                [-P PIDFILE] [-d LEVEL] [-o section.key=value ...]\n"
"  -f            stay in the foreground, log to stderr\n"
"  -n            check the configuration and exit\n"
"  -c CONFIG     configuration file (default: none; built-in defaults)\n"
"  -v VOLUME     volume file or device (created if missing: server.volume_size)\n"
"  -l ADDR       listen address (default %s; '*' for all)\n"
"  -p PORT       TCP port (default %d; 0 picks a free port)\n"
"  -P PIDFILE    write the pid here\n"
"  -d LEVEL      log level: error, warn, notice, info, debug\n"
"  -o KEY=VALUE  override one configuration key\n"
"  -h            this help\n\n",
		DAEMON_DEFAULT_LISTEN, DAEMON_DEFAULT_PORT);
	daemon_config_usage(out);
}

static int
replace_string(char **field, const char *value)
{
	char *dup = strdup(value);

	if (!dup)
		return -ENOMEM;
	free(*field);
	*field = dup;
	return 0;
}

/*
 * The pid file is locked for the daemon's lifetime so a second instance
 * with the same pid file refuses to start instead of overwriting it.
 */
static int
pid_file_open(struct daemon *d)
{
	char buf[32];
	int fd, n;

	d->pid_fd = -1;
	if (!d->cfg.pid_file)
		return 0;
	fd = open(d->cfg.pid_file, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("%s: cannot open pid file: %s", d->cfg.pid_file,
			  strerror(errno));
		return -errno;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		log_error("%s: locked: another pmemnfsd is running",
			  d->cfg.pid_file);
		close(fd);
		return -EBUSY;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		log_error("%s: cannot write pid file: %s", d->cfg.pid_file,
			  strerror(errno));
		close(fd);
		return -EIO;
	}
	d->pid_fd = fd;
	return 0;
}

static void
pid_file_close(struct daemon *d)
{
	if (d->pid_fd < 0)
		return;
	unlink(d->cfg.pid_file);
	close(d->pid_fd);
	d->pid_fd = -1;
}

/*
 * Signals are blocked in every thread and taken here with sigwait(), so
 * handling them runs ordinary code (reloading exports takes locks) instead
 * of async-signal-unsafe work in a handler.
 */
static void *
signal_thread(void *arg)
{
	struct daemon *d = arg;
	int sig;

	for (;;) {
		if (sigwait(&d->sigs, &sig) != 0)
			continue;
		switch (sig) {
		case SIGHUP:
			log_notice("SIGHUP: reloading exports");
			if (daemon_storage_reload_exports(d->storage) != 0)
				log_error("exports reload failed; keeping the old exports");
			break;
		case SIGTERM:
		case SIGINT:
			log_notice("signal %d: shutting down", sig);
			rpc_server_stop(d->rpc);
			return NULL;
		default:
			break;
		}
	}
}

/*
 * Detach from the terminal.  The parent waits on a pipe until the child
 * reports that it is serving, so "pmemnfsd && mount" works and start-up
 * errors still reach the caller's exit status.
 */
static int
daemonize(int *ready_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) != 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &c, 1) == 1 && c == 'R')
			_exit(0);
		_exit(1);
	}
	close(p[0]);
	if (setsid() < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	*ready_fd = p[1];
	return 0;
}

static void
daemon_ready(int ready_fd)
{
	int null;

	if (ready_fd < 0)
		return;
	/* Keep stderr only until start-up succeeded; then detach fully. */
	null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		if (null > STDERR_FILENO)
			close(null);
	}
	if (write(ready_fd, "R", 1) != 1)
		log_warn("could not tell the parent we are ready");
	close(ready_fd);
}

int
main(int argc, char **argv)
{
	struct daemon d;
	struct nfs4_exports_src exsrc;
	char err[CONF_ERR_MAX];
	bool foreground = false, check_only = false;
	const char **overrides;
	int noverrides = 0, opt, rc, ready_fd = -1, status = 1;
	uint16_t bound_port = 0;
	enum log_level cli_level;
	bool cli_level_set = false;
	const char *cli_volume = NULL, *cli_listen = NULL, *cli_pid = NULL;
	long cli_port = -1;

	memset(&d, 0, sizeof(d));
	d.pid_fd = -1;
	log_init("pmemnfsd", LOG_LVL_NOTICE, false);
	overrides = calloc((size_t)argc, sizeof(*overrides));
	if (!overrides)
		return 1;
	while ((opt = getopt(argc, argv, "fnhc:v:l:p:P:d:o:")) != -1) {
		switch (opt) {
		case 'f': foreground = true; break;
		case 'n': check_only = true; break;
		case 'c': d.config_path = optarg; break;
		case 'v': cli_volume = optarg; break;
		case 'l': cli_listen = optarg; break;
		case 'P': cli_pid = optarg; break;
		case 'o': overrides[noverrides++] = optarg; break;
		case 'p': {
			char *end;

			errno = 0;
			cli_port = strtol(optarg, &end, 10);
			if (errno || *end || cli_port < 0 || cli_port > 65535) {
				fprintf(stderr, "pmemnfsd: -p %s: not a port number (0-65535)\n",
					optarg);
				goto out_usage;
			}
			break;
		}
		case 'd':
			if (log_level_parse(optarg, &cli_level) != 0) {
				fprintf(stderr, "pmemnfsd: -d %s: not one of error, warn, notice, info, debug\n",
					optarg);
				goto out_usage;
			}
			cli_level_set = true;
			break;
		case 'h':
			usage(stdout);
			free(overrides);
			return 0;
		default:
			goto out_usage;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "pmemnfsd: unexpected argument '%s'\n", argv[optind]);
		goto out_usage;
	}

	/* Precedence: defaults < config file < -o < dedicated flags. */
	daemon_config_defaults(&d.cfg);
	if (d.config_path && daemon_config_load(&d.cfg, d.config_path, err) != 0) {
		fprintf(stderr, "pmemnfsd: %s\n", err);
		goto out_config;
	}
	for (int i = 0; i < noverrides; i++) {
		if (daemon_config_override(&d.cfg, overrides[i], err) != 0) {
			fprintf(stderr, "pmemnfsd: %s\n", err);
			goto out_config;
		}
	}
	if ((cli_volume && replace_string(&d.cfg.volume, cli_volume)) ||
	    (cli_listen && replace_string(&d.cfg.listen, cli_listen)) ||
	    (cli_pid && replace_string(&d.cfg.pid_file, cli_pid))) {
		fprintf(stderr, "pmemnfsd: out of memory\n");
		goto out_config;
	}
	if (cli_port >= 0)
		d.cfg.port = (uint32_t)cli_port;
	if (cli_level_set)
		d.cfg.log_level = cli_level;
	if (daemon_config_finish(&d.cfg, d.config_path ? d.config_path :
				   "configuration", err) != 0) {
		fprintf(stderr, "pmemnfsd: %s\n", err);
		goto out_config;
	}
	if (daemon_storage_check_exports(&d.cfg, err) != 0) {
		fprintf(stderr, "pmemnfsd: %s\n", err);
		goto out_config;
	}
	if (check_only) {
		printf("pmemnfsd: configuration OK\n");
		status = 0;
		goto out_config;
	}
	log_set_level(d.cfg.log_level);
#ifdef __GLIBC__
	/* Before any thread exists: malloc's arenas are made after this. */
	if (mallopt(M_MMAP_THRESHOLD, DAEMON_MMAP_MIN) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, DAEMON_TRIM_MIN) != 1)
		log_info("mallopt refused: large buffers may come from mmap");
#endif

	/*
	 * Block the signals before any thread exists so every thread inherits
	 * the mask and only signal_thread() sees them.
	 */
	sigemptyset(&d.sigs);
	sigaddset(&d.sigs, SIGTERM);
	sigaddset(&d.sigs, SIGINT);
	sigaddset(&d.sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &d.sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * Detach before any thread exists (the engine, the lease reaper and
	 * the workers start below): fork() keeps only the calling thread.
	 * The parent waits on the readiness pipe, and stderr stays open until
	 * daemon_ready(), so start-up errors still reach the terminal and the
	 * exit status.
	 */
	if (!foreground) {
		rc = daemonize(&ready_fd);
		if (rc) {
			log_error("cannot detach: %s", strerror(-rc));
			goto out_config;
		}
	}
	if (d.cfg.use_syslog || !foreground)
		log_init("pmemnfsd", d.cfg.log_level, true);

	rc = daemon_storage_open(&d.cfg, &d.storage);
	if (rc) {
		log_error("%s: cannot open volume: %s", d.cfg.volume, strerror(-rc));
		goto out_config;
	}
	/*
	 * Recalls get one lease period (plus a margin for the callback's own
	 * round trip) to be answered before the reference is expired (RFC 8881
	 * §12.5.5, DESIGN.md rule 5); NFS ops wait only break_wait_ms for
	 * them and answer NFS4ERR_DELAY after that.
	 */
	fs_refset_set_recall_timeout((uint64_t)d.cfg.nfs4.lease_sec * NSEC_PER_SEC +
				     DAEMON_RECALL_MARGIN_NS);
	fs_set_break_wait(daemon_storage_fs(d.storage),
			  (uint64_t)d.cfg.break_wait_ms * NSEC_PER_MSEC);
	rc = rpc_server_create(&d.cfg.rpc, &d.rpc);
	if (rc) {
		log_error("cannot create the RPC server: %s", strerror(-rc));
		goto out_storage;
	}
	daemon_storage_exports_src(d.storage, &exsrc);
	rc = nfs4_server_init(&d.cfg.nfs4, d.rpc, daemon_storage_fs(d.storage),
			      &exsrc, &d.nfs4);
	if (rc) {
		log_error("cannot start the NFSv4 service: %s", strerror(-rc));
		goto out_rpc;
	}
	rc = rpc_server_listen(d.rpc,
			       strcmp(d.cfg.listen, "*") ? d.cfg.listen : NULL,
			       (uint16_t)d.cfg.port, &bound_port);
	if (rc) {
		log_error("cannot listen on %s port %u: %s", d.cfg.listen,
			  d.cfg.port, strerror(-rc));
		goto out_nfs4;
	}
	if (pid_file_open(&d) != 0)
		goto out_nfs4;
	if (d.cfg.control_socket[0] &&
	    daemon_control_start(d.cfg.control_socket,
				 daemon_storage_fs(d.storage), d.nfs4, d.rpc,
				 &d.control) != 0)
		goto out_pid;
	if (pthread_create(&d.sig_thread, NULL, signal_thread, &d) != 0) {
		log_error("cannot start the signal thread");
		goto out_control;
	}
	/* Tests and scripts read this line to learn the port. */
	fprintf(stderr, "pmemnfsd: listening on %s:%u\n", d.cfg.listen,
		(unsigned)bound_port);
	fflush(stderr);
	log_notice("serving volume %s on %s port %u", d.cfg.volume,
		   d.cfg.listen, (unsigned)bound_port);
	daemon_ready(ready_fd);

	rc = rpc_server_run(d.rpc);
	status = rc ? 1 : 0;
	if (rc)
		log_error("server loop failed: %s", strerror(-rc));
	else
		log_notice("stopped");
	/* If the loop ended on its own, wake the signal thread to finish. */
	pthread_kill(d.sig_thread, SIGTERM);
	pthread_join(d.sig_thread, NULL);
out_control:
	daemon_control_stop(d.control);
out_pid:
	pid_file_close(&d);
out_nfs4:
	nfs4_server_shutdown(d.nfs4);
out_rpc:
	rpc_server_destroy(d.rpc);
out_storage:
	daemon_storage_close(d.storage);
out_config:
	daemon_config_free(&d.cfg);
	free(overrides);
	return status;
out_usage:
	usage(stderr);
	free(overrides);
	return 2;
}
