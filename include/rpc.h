/*
 * rpc.h - ONC RPC over TCP (RFC 5531): record marking, call decoding,
 * AUTH_NONE/AUTH_SYS credentials, program dispatch onto a worker pool, and
 * calls the server itself sends on a client's connection (the NFSv4.1 back
 * channel), matched to their replies by xid.
 *
 * Locking: the rpc layer's own locks (per-connection, per-server) are
 * internal and never held across a call into a program's dispatch function
 * or a callback completion.  Dispatch functions run on worker threads and
 * may block, but only for a short bound (see rpc_worker_may_block()).
 * Completions of server-sent calls run on worker threads, never on an event
 * loop thread, so they may take locks of higher layers.
 * Ownership: struct rpc_conn is reference counted (rpc_conn_get/put); the
 * rpc layer owns struct rpc_call and frees it after the reply is sent (a
 * parked call, RPC_DISP_ASYNC, belongs to the program until
 * rpc_call_finish()).  docs/rpc.md describes threads, limits and buffers.
 */
#ifndef PMEMNFS_RPC_H
#define PMEMNFS_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <rpc/rpc.h>	/* libtirpc: XDR, struct rpc_msg */

#include "common.h"

struct rpc_server;
struct rpc_conn;

/* --- record marking (RFC 5531 §11), shared by server and client ------- */

#define RPC_LAST_FRAG		0x80000000u
#define RPC_FRAG_LEN_MASK	0x7fffffffu

/*
 * Incremental decoder of one record from a byte stream.  Feed it what the
 * socket produced; it reassembles fragments into one contiguous record and
 * refuses any record larger than max_record (-EMSGSIZE), so memory per
 * connection stays bounded.
 */
struct rpc_record_reader {
	uint32_t max_record;
	uint8_t	hdr[4];		/* partial fragment header */
	uint32_t hdr_have;
	uint32_t frag_left;	/* bytes of the current fragment still to come */
	bool	last_frag;
	bool	in_frag;
	uint8_t	*buf;		/* record assembled so far */
	uint32_t len, cap;
};

void rpc_record_reader_init(struct rpc_record_reader *r, uint32_t max_record);
void rpc_record_reader_reset(struct rpc_record_reader *r);
void rpc_record_reader_free(struct rpc_record_reader *r);
/*
 * Consume up to n bytes of data.  *used is set to bytes consumed.  Returns 1
 * when a whole record is ready (take it with rpc_record_reader_take()), 0 when
 * more input is needed, -EMSGSIZE for a record over the limit, -ENOMEM.
 */
int rpc_record_reader_feed(struct rpc_record_reader *r, const uint8_t *data,
			   size_t n, size_t *used) MUST_CHECK;
/* Hand over the completed record (caller frees *buf with free()). */
void rpc_record_reader_take(struct rpc_record_reader *r, uint8_t **buf,
			    uint32_t *len);
/* Write a single-fragment record header for a body of len bytes. */
void rpc_record_mark(uint8_t hdr[4], uint32_t len, bool last);

/* --- credentials ------------------------------------------------------- */

#define RPC_AUTH_SYS_MAX_MACHINE	255	/* RFC 5531 appendix A */
#define RPC_AUTH_SYS_MAX_GIDS		16

struct rpc_cred {
	uint32_t flavor;		/* AUTH_NONE, AUTH_SYS, RPCSEC_GSS */
	uint32_t uid, gid;
	uint32_t ngids;
	uint32_t gids[RPC_AUTH_SYS_MAX_GIDS];
	char	machine[RPC_AUTH_SYS_MAX_MACHINE + 1];
};

/* --- incoming calls ---------------------------------------------------- */

struct rpc_call {
	struct rpc_conn	*conn;		/* holds a reference while the call lives */
	uint32_t	xid, prog, vers, proc;
	struct rpc_cred	cred;
	XDR		*args;		/* decoding stream positioned at the call body */
	XDR		*res;		/* encoding stream for the reply body */
	uint64_t	arrival_ns;	/* clock_now_ns() when the record was read */
	void		*private;	/* for the dispatching program */
};

/*
 * The reply body stream call->res grows as it is written (it starts small
 * and doubles), up to the server's max_reply; encoding past that fails like
 * a full xdrmem stream.  Positions count from the start of the reply body.
 * These three let the NFSv4.1 reply cache save and roll back what was
 * encoded; replaying saved bytes is XDR_PUTBYTES()/xdr_opaque() on res.
 * Worker thread running the call only; no locks.
 */
/*
 * Length of the whole call record (RPC header included), e.g. to check
 * ca_maxrequestsize (RFC 8881 §18.36.3).  The call's worker only.
 */
uint32_t rpc_call_record_len(struct rpc_call *call);
/*
 * Make room for n more reply body bytes in one allocation (a large READ
 * knows its size; otherwise the buffer doubles as it fills).  0,
 * -EMSGSIZE if that would pass max_reply, -ENOMEM.
 */
int rpc_call_res_reserve(struct rpc_call *call, uint32_t n) MUST_CHECK;
/*
 * Encode opaque<len> (length, bytes, XDR padding) into the reply without
 * copying the bytes: they are written to the socket straight from ptr, so
 * a READ can send data from the mapped volume.  ptr must stay valid and
 * unchanged until release(ctx), which runs exactly once on a worker (or on
 * the thread that finishes or drops the call), never on the event loop:
 * after the kernel has taken the bytes, or when the reply is dropped,
 * truncated before them, or the connection closes.  Below 1 KiB the bytes
 * are simply copied and release runs before this returns.  Anything
 * encoded afterwards copies the bytes in first (so keep it last; a READ
 * usually is).  Returns 0; on error (-EMSGSIZE past max_reply, -ENOMEM)
 * nothing is encoded and release is not called.
 */
int rpc_call_res_put_ref(struct rpc_call *call, const void *ptr, uint32_t len,
			 void (*release)(void *ctx), void *ctx) MUST_CHECK;
/* Bytes of reply body encoded so far. */
uint32_t rpc_call_res_pos(struct rpc_call *call);
/* Copy body bytes [from, from + len) to dst; -ERANGE if not all encoded. */
int rpc_call_res_copy(struct rpc_call *call, uint32_t from, uint32_t len,
		      void *dst) MUST_CHECK;
/*
 * Forget everything encoded after pos (e.g. a partly encoded op result,
 * for NFS4ERR_REP_TOO_BIG).  -ERANGE if pos is beyond what was encoded.
 */
int rpc_call_res_truncate(struct rpc_call *call, uint32_t pos) MUST_CHECK;

enum rpc_disp {
	RPC_DISP_REPLY = 0,	/* res holds an accepted SUCCESS reply body */
	RPC_DISP_GARBAGE,	/* reply GARBAGE_ARGS */
	RPC_DISP_SYSTEM_ERR,	/* reply SYSTEM_ERR */
	RPC_DISP_DROP,		/* send nothing (e.g. a retransmission in progress) */
	/*
	 * Parked: the program keeps call (and its args/res streams) and
	 * completes it later with rpc_call_finish(), from any thread.  The
	 * call keeps its connection reference and its in-flight slot until
	 * then, so max_inflight_per_conn bounds how many one client parks.
	 * Every parked call must be finished before rpc_server_destroy()
	 * (checked there).
	 */
	RPC_DISP_ASYNC,
};

/*
 * Finish a parked call with disp (not RPC_DISP_ASYNC) after encoding its
 * reply body into call->res.  Exactly once per parked call; any thread, no
 * rpc locks held; call is freed on return.  On a connection that closed
 * meanwhile the reply is dropped.
 */
void rpc_call_finish(struct rpc_call *call, enum rpc_disp disp);

/*
 * dispatch() runs on a worker thread after the RPC header, the credential
 * and prog/vers/proc have been checked; call->args is positioned at the
 * call body and call->res is empty (the rpc layer writes the reply header
 * itself).  It must return holding no locks (asserted in debug builds).
 * call, args and res are valid only until it returns (unless it parks the
 * call: RPC_DISP_ASYNC).  Credentials: only
 * AUTH_NONE and AUTH_SYS are decoded; any other flavor (RPCSEC_GSS too,
 * for now) is rejected with AUTH_ERROR(AUTH_BADCRED) before dispatch.
 */
struct rpc_program {
	const char	*name;
	uint32_t	prog;
	uint32_t	vers_low, vers_high;	/* PROG_MISMATCH outside */
	uint32_t	nprocs;			/* PROC_UNAVAIL for proc >= nprocs */
	/* AUTH_ERROR(AUTH_TOOWEAK) for flavors not in this mask (1 << flavor). */
	uint32_t	flavors_ok;
	enum rpc_disp	(*dispatch)(struct rpc_call *call);
	/*
	 * Optional: whether a call of (vers, proc) with these argument
	 * bytes is cheap and never waits, so the event loop may dispatch
	 * it itself instead of handing it to a worker (two thread
	 * crossings less).  Runs on the loop thread, after the RPC header
	 * and credential checked out; must not block.  ctx is inline_ctx.
	 */
	bool		(*inline_ok)(void *ctx, uint32_t vers, uint32_t proc,
				     const void *args, uint32_t len);
	void		*inline_ctx;
};

/*
 * Limits that protect the server from its clients.  Defaults are set by
 * rpc_server_config_defaults() (docs/rpc.md lists them and why); every one
 * can be overridden by the config.  At most max_inflight_per_conn calls of
 * one connection are dispatched at once; later ones wait, read, in the
 * connection's backlog.  Reading goes on (back-channel replies must get
 * in) until the backlog plus unwritten output passes max_conn_memory.
 */
struct rpc_server_config {
	uint32_t max_record;		/* bytes; larger records close the conn */
	uint32_t max_reply;		/* bytes; largest reply body */
	uint32_t max_connections;
	uint32_t max_inflight_per_conn;	/* calls dispatched, not yet replied */
	uint64_t max_conn_memory;	/* backlog + unwritten output, bytes */
	uint32_t nworkers;		/* worker threads running dispatch */
	uint32_t nblocking_workers;	/* how many of them may block at once */
	uint32_t idle_timeout_sec;	/* close connections idle this long; 0 never */
	/*
	 * Let the event loop run calls its program's inline_ok() accepts
	 * itself (docs/rpc.md, "Calls on the loop"); false: every call goes
	 * to a worker.
	 */
	bool	 inline_calls;
	/*
	 * Microseconds the event loop polls for the next call before it
	 * sleeps (evloop_set_busy_poll(); docs/rpc.md); 0: never.
	 */
	uint32_t busy_poll_us;
};

void rpc_server_config_defaults(struct rpc_server_config *cfg);

/*
 * Starts the workers.  -EINVAL unless nworkers >= 2, nblocking_workers <
 * nworkers, every limit non-zero and max_record/max_reply < 2 GiB.
 */
int rpc_server_create(const struct rpc_server_config *cfg,
		      struct rpc_server **out) MUST_CHECK;
/* Register before rpc_server_run(); at most a handful of programs. */
int rpc_server_register(struct rpc_server *srv,
			const struct rpc_program *prog) MUST_CHECK;
/*
 * Listen on addr:port (IPv4 or IPv6 literal, or NULL for all: one
 * dual-stack socket).  port 0 picks a free port; the bound port is returned
 * in *bound_port.  Before rpc_server_run() only.
 */
int rpc_server_listen(struct rpc_server *srv, const char *addr, uint16_t port,
		      uint16_t *bound_port) MUST_CHECK;
/*
 * Run the event loop on the calling thread until rpc_server_stop().  On
 * return every connection is closed (close hooks ran, back-channel calls
 * completed with -ECONNRESET) and no dispatch function is running.
 */
int rpc_server_run(struct rpc_server *srv) MUST_CHECK;
/* Async-signal-safe: make rpc_server_run() return. */
void rpc_server_stop(struct rpc_server *srv);
/* After rpc_server_run() returned (or was never called). */
void rpc_server_destroy(struct rpc_server *srv);

/*
 * Counters for pmemnfsctl and tests; each is read atomically, the set is
 * not a consistent snapshot.  Any thread, no locks.
 */
struct rpc_server_stats {
	uint64_t calls;			/* CALL records read */
	uint64_t replies;		/* replies sent (queued), any status */
	uint64_t rejected;		/* of those: denied or accept_stat != SUCCESS */
	uint64_t dropped;		/* calls answered with nothing */
	uint64_t conns_accepted;
	uint64_t conns_refused;		/* over max_connections */
	uint64_t conns_open;
	uint64_t records_too_big;	/* connections closed over max_record */
	uint64_t read_pauses;		/* times a connection hit a flow limit */
	uint64_t cb_calls;		/* back-channel calls sent */
	uint64_t cb_timeouts;
	uint64_t cb_stray_replies;	/* replies matching no pending call */
	uint64_t accept_backoffs;	/* accept() out of fds/memory: paused */
	uint64_t calls_inline;		/* of calls: run on the event loop */
	uint64_t replies_direct;	/* replies a worker wrote itself */
};
void rpc_server_get_stats(struct rpc_server *srv, struct rpc_server_stats *out);

/*
 * A dispatch function that wants to block (waiting for a recall, say) asks
 * first.  Only cfg->nblocking_workers workers may block at once, so the
 * requests that end a wait (LAYOUTRETURN, DELEGRETURN, callback replies)
 * always find a free worker.  false: do not block, answer NFS4ERR_DELAY.
 * Every true must be paired with rpc_worker_unblock().  Threads that are
 * not rpc workers (local callers) always get true.
 */
bool rpc_worker_may_block(void) MUST_CHECK;

/*
 * True on an rpc server's event-loop thread while it runs a call inline
 * (rpc_program.inline_ok said yes).  There rpc_worker_may_block() is
 * always false, and code that would wait even briefly (a pin waiting for
 * an unmap) should take its non-waiting path: every connection's I/O
 * waits behind this thread.  Lock-free (thread-local).
 */
bool rpc_on_loop_thread(void);
void rpc_worker_unblock(void);

/* --- connections ------------------------------------------------------- */

/*
 * References: a dispatch function's call holds one for the call's life; take
 * your own (rpc_conn_get) to keep conn past that, e.g. as a session's back
 * channel.  Every reference must be put before rpc_server_destroy().  The
 * last put frees the connection; any thread, no locks.
 */
void rpc_conn_get(struct rpc_conn *conn);
void rpc_conn_put(struct rpc_conn *conn);
/* Peer address, for export rules and logging. */
const struct sockaddr_storage *rpc_conn_peer(const struct rpc_conn *conn);
bool rpc_conn_is_closed(const struct rpc_conn *conn);
/*
 * Run fn(conn, ctx) once when the connection closes (peer or server).
 * Runs on a worker thread.  Returns 0 and an id for
 * rpc_conn_cancel_close_hook(), -ENOTCONN if conn is already closed (the
 * hook will never run: act as if it had), or -ENOMEM.
 */
int rpc_conn_add_close_hook(struct rpc_conn *conn,
			    void (*fn)(struct rpc_conn *, void *), void *ctx,
			    uint64_t *id) MUST_CHECK;
/*
 * Remove a hook that has not started.  A hook already running is not
 * waited for, so ctx must stay valid until it returns either way.
 */
void rpc_conn_cancel_close_hook(struct rpc_conn *conn, uint64_t id);

/* --- calls the server sends (back channel) ------------------------------ */

/*
 * done() runs exactly once, on a worker thread: err 0 with reply positioned
 * at the accepted reply body, or err < 0 (-ETIMEDOUT: no reply in time;
 * -ECONNRESET: the connection closed; -EPROTO: the reply was MSG_DENIED or
 * not an accepted SUCCESS (logged at info level); -ENOMEM) and reply NULL.
 * The reply stream is valid only during done().
 */
typedef void (*rpc_callback_done_fn)(void *ctx, int err, XDR *reply);

/*
 * Send a call on conn (the client's own connection).  encode() writes the
 * call body.  cred NULL means AUTH_NONE; AUTH_SYS is encoded from cred.
 * The xid is fresh (server-wide counter); the reply is matched by xid on
 * this connection only.  The timer starts now.  Any thread, including a
 * worker inside dispatch; never blocks.  Returns 0 when queued (done()
 * will run), or a negative errno when nothing was sent (done() will not
 * run): -ENOTCONN (closed), -ENOBUFS (conn buffers more than
 * max_conn_memory: the client is not reading), -EINVAL (encode() or the
 * credential failed, or the call is over max_reply), -ENOMEM.
 */
int rpc_conn_call(struct rpc_conn *conn, uint32_t prog, uint32_t vers,
		  uint32_t proc, const struct rpc_cred *cred,
		  bool (*encode)(XDR *xdrs, void *arg), void *arg,
		  uint64_t timeout_ns, rpc_callback_done_fn done,
		  void *ctx) MUST_CHECK;

#endif
