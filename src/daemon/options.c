/*
 * options.c - pmemnfsd's configuration keys: one table serves the config
 * file, the -o overrides, the -n check mode and the usage text.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"

#define OFF(f)	offsetof(struct daemon_config, f)

static const struct conf_key daemon_keys[] = {
	{ "server", "listen", CONF_STRING, OFF(listen), 0, 0,
	  "address to listen on (IPv4 or IPv6 literal; '*' for all)" },
	{ "server", "port", CONF_U32, OFF(port), 0, 65535,
	  "TCP port (0 picks a free one and logs it)" },
	{ "server", "volume", CONF_STRING, OFF(volume), 0, 0,
	  "volume: DAX device, file on DAX, or plain file (created if missing)" },
	{ "server", "volume_size", CONF_SIZE, OFF(volume_size),
	  16ULL << 20, 1ULL << 50,
	  "size of a volume file created at first start" },
	{ "server", "exports", CONF_STRING, OFF(exports), 0, 0,
	  "exports file (default: '/' read-write for 127.0.0.1 and ::1)" },
	{ "server", "pid_file", CONF_STRING, OFF(pid_file), 0, 0,
	  "write the daemon's pid here" },
	{ "server", "control_socket", CONF_STRING, OFF(control_socket), 0, 0,
	  "administration socket for pmemnfsctl (default VOLUME.ctl; empty: none)" },
	{ "server", "log_level", CONF_LOGLEVEL, OFF(log_level), 0, 0,
	  "error, warn, notice, info or debug" },
	{ "server", "syslog", CONF_BOOL, OFF(use_syslog), 0, 0,
	  "log to syslog instead of stderr" },

	{ "rpc", "max_record", CONF_SIZE32, OFF(rpc.max_record),
	  4096, 64U << 20, "largest RPC record accepted (bytes)" },
	{ "rpc", "max_reply", CONF_SIZE32, OFF(rpc.max_reply),
	  4096, 64U << 20, "largest reply body (bytes)" },
	{ "rpc", "max_connections", CONF_U32, OFF(rpc.max_connections),
	  1, 1000000, "connections accepted at once" },
	{ "rpc", "max_inflight_per_conn", CONF_U32,
	  OFF(rpc.max_inflight_per_conn), 1, 65536,
	  "calls in progress per connection before reading pauses" },
	{ "rpc", "max_conn_memory", CONF_SIZE, OFF(rpc.max_conn_memory),
	  64ULL << 10, 1ULL << 34, "buffered bytes per connection" },
	{ "rpc", "workers", CONF_U32, OFF(rpc.nworkers), 2, 1024,
	  "worker threads running COMPOUNDs (default: one per CPU, at least 2)" },
	{ "rpc", "blocking_workers", CONF_U32, OFF(rpc.nblocking_workers),
	  1, 1023, "workers that may wait (recalls) at once; < workers" },
	{ "rpc", "idle_timeout", CONF_U32, OFF(rpc.idle_timeout_sec),
	  0, 86400, "close connections idle this many seconds (0: never)" },
	{ "rpc", "busy_poll_us", CONF_U32, OFF(rpc.busy_poll_us), 0, 10000,
	  "microseconds the event loop polls for the next call before sleeping (default 50; 0: never)" },
	{ "rpc", "inline", CONF_BOOL, OFF(rpc.inline_calls), 0, 0,
	  "run cheap COMPOUNDs (GETATTR, LOOKUP, small READ) on the event loop" },

	{ "nfs4", "break_wait_ms", CONF_U32, OFF(break_wait_ms), 1, 60000,
	  "how long an op that frees blocks waits for layouts/pins before NFS4ERR_DELAY" },
	{ "nfs4", "lease_time", CONF_U32, OFF(nfs4.lease_sec), 2, 3600,
	  "lease period in seconds (RFC 8881 section 8.3)" },
	{ "nfs4", "grace_time", CONF_U32, OFF(nfs4.grace_sec), 0, 3600,
	  "grace period after restart in seconds" },
	{ "nfs4", "max_slots", CONF_U32, OFF(nfs4.max_slots), 1, 1024,
	  "fore channel slots granted per session" },
	{ "nfs4", "max_ops", CONF_U32, OFF(nfs4.max_ops), 8, 128,
	  "operations per COMPOUND granted per session" },
	{ "nfs4", "max_request", CONF_SIZE32, OFF(nfs4.max_req_size),
	  4096, 64U << 20, "largest COMPOUND request a session accepts" },
	{ "nfs4", "max_response", CONF_SIZE32, OFF(nfs4.max_resp_size),
	  4096, 64U << 20, "largest COMPOUND reply a session sends" },
	{ "nfs4", "max_response_cached", CONF_SIZE32,
	  OFF(nfs4.max_resp_cached), 512, 1U << 20,
	  "largest reply kept in a slot's reply cache" },
	{ "nfs4", "max_cb_slots", CONF_U32, OFF(nfs4.max_cb_slots), 1, 64,
	  "back-channel slots per session" },
	{ "nfs4", "cb_timeout_ms", CONF_U32, OFF(nfs4.cb_timeout_ms),
	  100, 600000, "how long a callback may go unanswered (ms)" },
	{ "nfs4", "max_clients", CONF_U32, OFF(nfs4.max_clients),
	  1, 10000000, "client records before EXCHANGE_ID answers DELAY" },
	{ "nfs4", "max_sessions", CONF_U32, OFF(nfs4.max_sessions),
	  1, 1024, "sessions per client" },
	{ "nfs4", "server_owner", CONF_STRING, OFF(nfs4.server_owner), 0, 0,
	  "EXCHANGE_ID server owner and scope (default: the host name)" },
};

void
daemon_config_defaults(struct daemon_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->listen = strdup(DAEMON_DEFAULT_LISTEN);
	cfg->port = DAEMON_DEFAULT_PORT;
	cfg->volume = strdup(DAEMON_DEFAULT_VOLUME);
	cfg->volume_size = DAEMON_DEFAULT_VOLUME_SIZE;
	cfg->log_level = LOG_LVL_NOTICE;
	cfg->break_wait_ms = DAEMON_DEFAULT_BREAK_WAIT_MS;
	rpc_server_config_defaults(&cfg->rpc);
	/* 0 = not set: derived from rpc.workers in daemon_config_finish(). */
	cfg->rpc.nblocking_workers = 0;
	nfs4_config_defaults(&cfg->nfs4);
}

void
daemon_config_free(struct daemon_config *cfg)
{
	conf_free_strings(daemon_keys, ARRAY_SIZE(daemon_keys), cfg);
}

int
daemon_config_finish(struct daemon_config *cfg, const char *where,
		     char err[CONF_ERR_MAX])
{
	/*
	 * Unless set, half the workers may block: enough for several recalls
	 * at once, and the other half always serves the replies that end them.
	 */
	if (cfg->rpc.nblocking_workers == 0)
		cfg->rpc.nblocking_workers = MAX(1u, cfg->rpc.nworkers / 2);
	if (cfg->rpc.nblocking_workers >= cfg->rpc.nworkers) {
		snprintf(err, CONF_ERR_MAX,
			 "%s: rpc.blocking_workers (%u) must be below rpc.workers (%u) "
			 "so that returns and callback replies always find a worker",
			 where, cfg->rpc.nblocking_workers, cfg->rpc.nworkers);
		return -EINVAL;
	}
	if (cfg->rpc.max_reply > cfg->rpc.max_record) {
		snprintf(err, CONF_ERR_MAX,
			 "%s: rpc.max_reply (%u) exceeds rpc.max_record (%u)",
			 where, cfg->rpc.max_reply, cfg->rpc.max_record);
		return -EINVAL;
	}
	if (!cfg->volume || !cfg->volume[0]) {
		snprintf(err, CONF_ERR_MAX, "%s: server.volume is empty", where);
		return -EINVAL;
	}
	if (!cfg->control_socket) {
		size_t n = strlen(cfg->volume) + sizeof(".ctl");

		cfg->control_socket = malloc(n);
		if (!cfg->control_socket) {
			snprintf(err, CONF_ERR_MAX, "out of memory");
			return -ENOMEM;
		}
		snprintf(cfg->control_socket, n, "%s.ctl", cfg->volume);
	}
	return 0;
}

int
daemon_config_load(struct daemon_config *cfg, const char *path,
		   char err[CONF_ERR_MAX])
{
	return conf_parse_file(path, daemon_keys, ARRAY_SIZE(daemon_keys), cfg,
			       err, CONF_ERR_MAX);
}

int
daemon_config_override(struct daemon_config *cfg, const char *spec,
		       char err[CONF_ERR_MAX])
{
	return conf_parse_override(spec, daemon_keys, ARRAY_SIZE(daemon_keys),
				   cfg, err, CONF_ERR_MAX);
}

void
daemon_config_usage(FILE *out)
{
	const char *section = "";

	fprintf(out, "configuration keys (file sections, or -o section.key=value):\n");
	for (size_t i = 0; i < ARRAY_SIZE(daemon_keys); i++) {
		const struct conf_key *k = &daemon_keys[i];

		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(out, "  [%s]\n", section);
		}
		fprintf(out, "    %-22s %s\n", k->name, k->help);
	}
}
