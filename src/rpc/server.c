/*
 * server.c - the RPC server object: configuration, program table,
 * listeners, and the run/stop/destroy life cycle.
 *
 * Concurrency (docs/rpc.md has the long form): the thread that calls
 * rpc_server_run() becomes the event loop; it accepts, reads records,
 * writes replies and matches back-channel replies.  A workq of
 * cfg->nworkers threads decodes and dispatches calls and runs back-channel
 * completions and close hooks.
 */
#include "config.h"

#include "rpc_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/*
 * Defaults.  A 1 MiB WRITE through the MDS plus its compound header must
 * fit a record, and a 1 MiB READ a reply.
 */
#define RPC_DEF_MAX_RECORD	((1u << 20) + 64 * 1024)
#define RPC_DEF_MAX_REPLY	((1u << 20) + 64 * 1024)
/* Well above the clients one MDS serves on a small machine; raise it along
 * with RLIMIT_NOFILE for 100,000 clients. */
#define RPC_DEF_MAX_CONNECTIONS	4096
/* Linux clients use up to 64 session slots; more in flight from one
 * connection only takes workers from others. */
#define RPC_DEF_MAX_INFLIGHT	64
/* Unwritten replies per connection before we stop reading its calls. */
#define RPC_DEF_MAX_CONN_MEMORY	(8ull << 20)
/*
 * Workers: one per CPU, at least 2 (one may block) and at most 64.  More
 * workers than CPUs only contend for the work queue's mutex and wake each
 * other (measured: 8 workers on 2 CPUs ran write4k and open at 1x16 about
 * half as fast as 2, docs/BENCHMARKS.md); cheap calls run on the loop
 * anyway.  Half of them may block.  A volume on the msync path, where a
 * stable write waits for the disk, wants more: set rpc.workers.
 */
/*
 * The loop polls this long for the next call before it sleeps.  On this
 * project's 2-vCPU VMs (no guest halt polling) a sleeping loop pays a VM
 * wake-up per call: GETATTR at one call in flight ran at 4,500/s without
 * polling and 12,500/s with 50 us, at less server CPU per call
 * (docs/BENCHMARKS.md).  Costs at most 50 us of CPU per burst of calls.
 */
#define RPC_DEF_BUSY_POLL_US	50
#define RPC_DEF_NWORKERS_MIN	2
#define RPC_DEF_NWORKERS_MAX	64
/*
 * Out of file descriptors (or kernel memory), accept() fails while the
 * listener stays readable: pause accepting this long instead of spinning.
 * Short enough that a closed connection's fd is reused soon.
 */
#define RPC_ACCEPT_BACKOFF_NS	(100 * NSEC_PER_MSEC)
/* listen() backlog: a reconnect storm after a server restart. */
#define RPC_LISTEN_BACKLOG	1024
/* Accepts per listener readiness event, so reads are not starved. */
#define RPC_ACCEPTS_PER_EVENT	32

static uint32_t
default_nworkers(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < RPC_DEF_NWORKERS_MIN)
		return RPC_DEF_NWORKERS_MIN;
	return n > RPC_DEF_NWORKERS_MAX ? RPC_DEF_NWORKERS_MAX : (uint32_t)n;
}

/* Fill cfg with the defaults above (docs/rpc.md explains each). */
void
rpc_server_config_defaults(struct rpc_server_config *cfg)
{
	*cfg = (struct rpc_server_config){
		.max_record		= RPC_DEF_MAX_RECORD,
		.max_reply		= RPC_DEF_MAX_REPLY,
		.max_connections	= RPC_DEF_MAX_CONNECTIONS,
		.max_inflight_per_conn	= RPC_DEF_MAX_INFLIGHT,
		.max_conn_memory	= RPC_DEF_MAX_CONN_MEMORY,
		.nworkers		= default_nworkers(),
		.nblocking_workers	= default_nworkers() / 2,
		.idle_timeout_sec	= 0,
		.inline_calls		= true,
		.busy_poll_us		= RPC_DEF_BUSY_POLL_US,
	};
}

/*
 * Create a server with cfg's limits and start its workers.  The event loop
 * runs only inside rpc_server_run().  Returns 0, -EINVAL for an impossible
 * configuration (no workers free of blocking, zero limits), -ENOMEM, or the
 * errno of creating the loop or a thread.
 */
int
rpc_server_create(const struct rpc_server_config *cfg,
		  struct rpc_server **out)
{
	struct rpc_server *srv;
	int err;

	if (cfg->max_record < 64 || cfg->max_reply < 64 ||
	    cfg->max_record > RPC_FRAG_LEN_MASK ||
	    cfg->max_reply > RPC_FRAG_LEN_MASK - RPC_REPLY_HDR ||
	    !cfg->max_connections || !cfg->max_inflight_per_conn ||
	    !cfg->max_conn_memory || cfg->nworkers < 2 ||
	    cfg->nblocking_workers >= cfg->nworkers)
		return -EINVAL;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->cfg = *cfg;
	srv->rbuf = malloc(RPC_READ_CHUNK);
	if (!srv->rbuf) {
		err = -ENOMEM;
		goto out_free;
	}
	/* Different from run to run, so a restarted server's xids do not
	 * match a client's stale replies. */
	atomic_init(&srv->next_xid, (unsigned)(clock_now_ns() ^ (uint64_t)getpid()));
	atomic_init(&srv->running, false);
	atomic_init(&srv->nparked, 0);
	err = evloop_create(&srv->loop);
	if (err)
		goto out_rbuf;
	evloop_set_busy_poll(srv->loop, cfg->busy_poll_us);
	err = workq_create("rpc", cfg->nworkers, cfg->nblocking_workers,
			   &srv->wq);
	if (err)
		goto out_loop;
	*out = srv;
	return 0;

out_loop:
	evloop_destroy(srv->loop);
out_rbuf:
	free(srv->rbuf);
out_free:
	free(srv);
	return err;
}

/*
 * Add a program (the table is read without locks by workers, so only
 * before rpc_server_run()).  Returns 0, -EEXIST if it overlaps a program
 * already registered, -ENOSPC, -EINVAL.
 */
int
rpc_server_register(struct rpc_server *srv, const struct rpc_program *prog)
{
	VERIFY(!atomic_load(&srv->running));
	if (!prog->dispatch || prog->vers_low > prog->vers_high)
		return -EINVAL;
	for (uint32_t i = 0; i < srv->nprogs; i++) {
		const struct rpc_program *p = srv->progs[i];

		if (p->prog == prog->prog && p->vers_low <= prog->vers_high &&
		    prog->vers_low <= p->vers_high)
			return -EEXIST;
	}
	if (srv->nprogs == RPC_MAX_PROGRAMS)
		return -ENOSPC;
	srv->progs[srv->nprogs++] = prog;
	return 0;
}

/* Loop thread: the back-off is over, accept again. */
static void
listener_resume(struct evloop *loop, struct evloop_timer *t)
{
	struct rpc_listener *l = container_of(t, struct rpc_listener, backoff);

	l->backing_off = false;
	if (evloop_fd_mod(loop, l->fd, EVLOOP_READ) < 0)
		log_error("rpc: cannot resume accepting on a listener");
}

/*
 * Loop thread: accept() failed for want of resources.  Stop watching the
 * listener for RPC_ACCEPT_BACKOFF_NS (pending connections wait in the
 * kernel's backlog) and say so once per episode.
 */
static void
listener_back_off(struct rpc_listener *l, int err)
{
	struct evloop *loop = l->srv->loop;

	if (!l->warned)
		log_warn("rpc: accept: %s; pausing accepts until one succeeds",
			 strerror(err));
	l->warned = true;
	l->backing_off = true;
	RPC_STAT_INC(l->srv, accept_backoffs);
	if (evloop_fd_mod(loop, l->fd, 0) < 0 ||
	    evloop_timer_arm(loop, &l->backoff,
			     clock_now_ns() + RPC_ACCEPT_BACKOFF_NS) < 0) {
		/* Cannot pause: keep accepting, spinning beats going deaf. */
		l->backing_off = false;
		if (evloop_fd_mod(loop, l->fd, EVLOOP_READ) < 0)
			log_error("rpc: cannot resume accepting on a listener");
	}
}

static void
listener_event(struct evloop *loop, int fd, uint32_t events, void *ctx)
{
	struct rpc_listener *l = ctx;

	for (int i = 0; i < RPC_ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_storage peer;
		socklen_t plen = sizeof(peer);
		int one = 1, cfd;

		memset(&peer, 0, sizeof(peer));
		cfd = accept4(fd, (struct sockaddr *)&peer, &plen,
			      SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM)
				listener_back_off(l, errno);
			else if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("rpc: accept: %s", strerror(errno));
			return;
		}
		if (l->warned) {
			log_notice("rpc: accepting connections again");
			l->warned = false;
		}
		/* Replies are whole records: send them without delay. */
		if (setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one,
			       sizeof(one)) < 0)
			log_debug("rpc: TCP_NODELAY: %s", strerror(errno));
		if (rpc_conn_accept(l->srv, cfd, &peer) < 0)
			continue;	/* logged and closed */
	}
}

/*
 * Listen on addr:port.  addr is an IPv4 or IPv6 literal, or NULL for every
 * address (one dual-stack IPv6 socket, or IPv4 if the host has no IPv6).
 * port 0 binds a free port, returned in *bound_port.  Before
 * rpc_server_run() only.  Returns 0, -EINVAL for a bad address, -ENOSPC
 * past RPC_MAX_LISTENERS, or the socket call's errno.
 */
int
rpc_server_listen(struct rpc_server *srv, const char *addr, uint16_t port,
		  uint16_t *bound_port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t slen;
	int fd, one = 1, v6only, err;
	struct rpc_listener *l;

	VERIFY(!atomic_load(&srv->running));
	if (srv->nlisteners == RPC_MAX_LISTENERS)
		return -ENOSPC;
	memset(&ss, 0, sizeof(ss));
	if (!addr) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(port);
		v6only = 0;
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		v6only = 1;
	} else if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		v6only = -1;
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && !addr && errno == EAFNOSUPPORT) {
		/* No IPv6 on this host: all IPv4 addresses then. */
		memset(&ss, 0, sizeof(ss));
		sin->sin_family = AF_INET;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sin->sin_port = htons(port);
		v6only = -1;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    0);
	}
	if (fd < 0)
		return -errno;
	slen = ss.ss_family == AF_INET6 ? sizeof(*sin6) : sizeof(*sin);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (v6only >= 0 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
					sizeof(v6only)) < 0) ||
	    bind(fd, (struct sockaddr *)&ss, slen) < 0 ||
	    listen(fd, RPC_LISTEN_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &slen) < 0) {
		err = -errno;
		goto out_close;
	}
	l = &srv->listeners[srv->nlisteners];
	l->srv = srv;
	l->fd = fd;
	l->backing_off = false;
	l->warned = false;
	l->backoff.fn = listener_resume;
	err = evloop_fd_add(srv->loop, fd, EVLOOP_READ, listener_event, l);
	if (err)
		goto out_close;
	srv->nlisteners++;
	if (bound_port)
		*bound_port = ntohs(ss.ss_family == AF_INET6 ? sin6->sin6_port :
				    sin->sin_port);
	return 0;

out_close:
	close(fd);
	return err;
}

/*
 * Run the event loop on the calling thread until rpc_server_stop().  On
 * the way out every connection is closed (back-channel calls complete
 * with -ECONNRESET, close hooks run) and the workers are drained, so when
 * this returns no dispatch function or completion is running.  Returns 0
 * or the loop's negative errno.
 */
int
rpc_server_run(struct rpc_server *srv)
{
	int err;

	VERIFY(!atomic_exchange(&srv->running, true));
	err = evloop_run(srv->loop);
	while (srv->conns)
		rpc_conn_close(srv->conns, "server stopping");
	/*
	 * Workers may still queue replies (dropped: closed) and the loop has
	 * wakeups posted with references; drain both until quiet.
	 */
	workq_drain(srv->wq);
	evloop_run_posted(srv->loop);
	atomic_store(&srv->running, false);
	return err;
}

/* Async-signal-safe: make rpc_server_run() return. */
void
rpc_server_stop(struct rpc_server *srv)
{
	evloop_stop(srv->loop);
}

/* Free the server after rpc_server_run() returned (or was never called). */
void
rpc_server_destroy(struct rpc_server *srv)
{
	if (!srv)
		return;
	VERIFY(!atomic_load(&srv->running));
	/* A parked call finished after this would touch freed memory. */
	VERIFY(atomic_load(&srv->nparked) == 0);
	while (srv->conns)
		rpc_conn_close(srv->conns, "server destroyed");
	workq_destroy(srv->wq);
	evloop_run_posted(srv->loop);
	for (uint32_t i = 0; i < srv->nlisteners; i++) {
		evloop_timer_cancel(srv->loop, &srv->listeners[i].backoff);
		evloop_fd_del(srv->loop, srv->listeners[i].fd);
		close(srv->listeners[i].fd);
	}
	evloop_destroy(srv->loop);
	free(srv->rbuf);
	free(srv);
}

/* Copy the counters out; see struct rpc_server_stats.  Any thread. */
void
rpc_server_get_stats(struct rpc_server *srv, struct rpc_server_stats *out)
{
#define RD(f) out->f = atomic_load_explicit(&srv->stats.f, memory_order_relaxed)
	RD(calls);
	RD(replies);
	RD(rejected);
	RD(dropped);
	RD(conns_accepted);
	RD(conns_refused);
	RD(conns_open);
	RD(records_too_big);
	RD(read_pauses);
	RD(cb_calls);
	RD(cb_timeouts);
	RD(cb_stray_replies);
	RD(accept_backoffs);
	RD(calls_inline);
	RD(replies_direct);
#undef RD
}

_Thread_local bool rpc_loop_inline;

/* See rpc.h: the worker pool's block budget (workq_may_block()). */
bool
rpc_worker_may_block(void)
{
	if (rpc_loop_inline)
		return false;
	return workq_may_block();
}

/* See rpc.h. */
bool
rpc_on_loop_thread(void)
{
	return rpc_loop_inline;
}

/* Return the slot rpc_worker_may_block() granted. */
void
rpc_worker_unblock(void)
{
	workq_unblock();
}
