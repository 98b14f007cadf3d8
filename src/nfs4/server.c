/*
 * server.c - the NFS RPC program (100003, version 4) and the server
 * object's life cycle.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nfs4_int.h"

/*
 * The one NFS server of the process.  struct rpc_program's dispatch gets
 * only the call, so this is how it finds us; set before the program is
 * registered, cleared after the RPC server stopped.
 */
static _Atomic(struct nfs4_server *) nfs4_the_server;
/*
 * Dispatches between "found the server" and "done with it".  Shutdown
 * clears nfs4_the_server and then waits for this to drain, so it is safe
 * even while RPC workers still finish calls (the daemon may shut us down
 * before rpc_server_destroy()).  Increment-then-load against
 * store-then-load, both sequentially consistent: either shutdown sees the
 * count or the dispatch sees NULL.  One atomic, not a lock.
 */
static atomic_uint nfs4_active_dispatches;
/* Poll interval while shutdown waits for in-flight COMPOUNDs to finish. */
#define NFS4_SHUTDOWN_POLL_NS	(1 * NSEC_PER_MSEC)

/*
 * See nfs4.h.  No locks.
 */
void
nfs4_config_defaults(struct nfs4_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->lease_sec = STATE_LEASE_DEFAULT_SEC;
	cfg->grace_sec = STATE_GRACE_DEFAULT_SEC;
	cfg->max_slots = STATE_MAX_SLOTS_DEFAULT;
	cfg->max_ops = STATE_MAX_OPS_DEFAULT;
	cfg->max_cb_slots = STATE_MAX_CB_SLOTS_DEFAULT;
	cfg->max_req_size = STATE_MAX_REQ_DEFAULT;
	cfg->max_resp_size = STATE_MAX_RESP_DEFAULT;
	cfg->max_resp_cached = STATE_MAX_RESP_CACHED_DEFAULT;
	cfg->cb_timeout_ms = STATE_CB_TIMEOUT_DEFAULT_MS;
	cfg->max_clients = STATE_MAX_CLIENTS_DEFAULT;
	cfg->max_sessions = STATE_MAX_SESSIONS_DEFAULT;
	cfg->server_owner = NULL;
}

/*
 * See nfs4.h.  No locks; valid until nfs4_server_shutdown().
 */
struct state_server *
nfs4_server_state(struct nfs4_server *nsrv)
{
	return nsrv->state;
}

static uint32_t
call_res_pos(void *ctx)
{
	return rpc_call_res_pos(ctx);
}

static int
call_res_copy(void *ctx, uint32_t from, uint32_t len, void *dst)
{
	return rpc_call_res_copy(ctx, from, len, dst);
}

static int
call_res_put_ref(void *ctx, const void *ptr, uint32_t len,
		 void (*release)(void *rctx), void *rctx)
{
	return rpc_call_res_put_ref(ctx, ptr, len, release, rctx);
}

/*
 * Size of the whole RPC call: the rpc layer decodes each record with an
 * xdrmem stream over the entire record, so position + bytes left is the
 * record length (RFC 8881 §18.36.3 counts ca_maxrequestsize over all of it).
 */
static uint32_t
call_req_len(struct rpc_call *call)
{
	return xdr_getpos(call->args) + call->args->x_handy;
}

static enum rpc_disp
nfs4_dispatch(struct rpc_call *call)
{
	struct nfs4_server *nsrv;
	struct nfs4_reply_io io = {
		.pos = call_res_pos,
		.copy = call_res_copy,
		.put_ref = call_res_put_ref,
		.ctx = call,
	};
	enum rpc_disp disp;

	atomic_fetch_add(&nfs4_active_dispatches, 1);
	nsrv = atomic_load(&nfs4_the_server);
	if (!nsrv) {
		disp = RPC_DISP_SYSTEM_ERR;	/* shutting down */
		goto out;
	}
	switch (call->proc) {
	case NFSPROC4_NULL:
		disp = RPC_DISP_REPLY;		/* void result */
		break;
	case NFSPROC4_COMPOUND:
		disp = nfs4_compound_run(nsrv, call->args, call->res,
					 &call->cred, call->conn,
					 call_req_len(call), &io);
		break;
	default:
		disp = RPC_DISP_GARBAGE; /* rpc answers PROC_UNAVAIL first */
		break;
	}
out:
	atomic_fetch_sub(&nfs4_active_dispatches, 1);
	return disp;
}

/*
 * rpc_program.inline_ok: NULL and cheap COMPOUNDs may run on the event
 * loop (inline.c says which).  The loop stops before the server is shut
 * down, so ctx stays valid while this can be called.
 */
static bool
nfs4_inline_ok(void *ctx, uint32_t vers, uint32_t proc, const void *args,
	       uint32_t len)
{
	(void)vers;
	if (proc == NFSPROC4_NULL)
		return true;
	return proc == NFSPROC4_COMPOUND &&
	       nfs4_compound_inline_ok(ctx, args, len);
}

static int
server_alloc(const struct nfs4_config *cfg, bool reaper, struct fs *fs,
	     struct nfs4_server **out)
{
	struct state_config scfg;
	struct nfs4_server *nsrv;
	int err;

	if (!cfg->max_ops)
		return -EINVAL;
	nsrv = calloc(1, sizeof(*nsrv));
	if (!nsrv)
		return -ENOMEM;
	nsrv->cfg = *cfg;
	state_config_defaults(&scfg);
	scfg.lease_sec = cfg->lease_sec;
	scfg.grace_sec = cfg->grace_sec;
	scfg.max_slots = cfg->max_slots;
	scfg.max_cb_slots = cfg->max_cb_slots;
	scfg.max_ops = cfg->max_ops;
	scfg.max_req_size = cfg->max_req_size;
	scfg.max_resp_size = cfg->max_resp_size;
	scfg.max_resp_cached = cfg->max_resp_cached;
	scfg.cb_timeout_ms = cfg->cb_timeout_ms;
	scfg.max_clients = cfg->max_clients;
	scfg.max_sessions = cfg->max_sessions;
	scfg.server_owner = cfg->server_owner;
	scfg.start_reaper = reaper;
	/* Client records for reclaim live in the engine's server records. */
	scfg.fs = fs;
	err = state_server_create(&scfg, &nsrv->state);
	if (err) {
		free(nsrv);
		return err;
	}
	snprintf(nsrv->owner, sizeof(nsrv->owner), "%s",
		 state_server_config(nsrv->state)->server_owner);
	nsrv->cfg.server_owner = nsrv->owner;
	nsrv->impl_id.nii_domain.utf8string_val = (char *)NFS4_IMPL_DOMAIN;
	nsrv->impl_id.nii_domain.utf8string_len = strlen(NFS4_IMPL_DOMAIN);
	nsrv->impl_id.nii_name.utf8string_val = (char *)NFS4_IMPL_NAME;
	nsrv->impl_id.nii_name.utf8string_len = strlen(NFS4_IMPL_NAME);
	nsrv->impl_id.nii_date.seconds = 0;
	nsrv->impl_id.nii_date.nseconds = 0;
	rwlock_init(&nsrv->exp_lock, "nfs4_exports");
	*out = nsrv;
	return 0;
}

/*
 * See nfs4.h.  No locks; no reaper thread, no RPC registration.
 */
int
nfs4_server_create_detached(const struct nfs4_config *cfg,
			    struct nfs4_server **out)
{
	return server_alloc(cfg, false, NULL, out);
}

/*
 * See nfs4.h.  Call once, before rpc_server_run().
 */
int
nfs4_server_init(const struct nfs4_config *cfg, struct rpc_server *srv,
		 struct fs *fs, const struct nfs4_exports_src *exports,
		 struct nfs4_server **out)
{
	struct nfs4_server *nsrv, *expected = NULL;
	int err;

	if (fs && (!exports || !exports->get || !exports->put ||
		   !exports->gen))
		return -EINVAL;
	err = server_alloc(cfg, true, fs, &nsrv);
	if (err)
		return err;
	err = nfs4_fsvc_init(nsrv, fs, exports);
	if (err)
		goto out_free;
	if (!atomic_compare_exchange_strong(&nfs4_the_server, &expected,
					    nsrv)) {
		err = -EBUSY;
		goto out_free;
	}
	nsrv->registered = true;
	nsrv->prog.name = "nfs";
	nsrv->prog.prog = NFS4_PROGRAM;
	nsrv->prog.vers_low = NFS_V4;
	nsrv->prog.vers_high = NFS_V4;
	nsrv->prog.nprocs = NFSPROC4_COMPOUND + 1;
	nsrv->prog.flavors_ok = (1u << AUTH_NONE) | (1u << AUTH_SYS);
	nsrv->prog.dispatch = nfs4_dispatch;
	nsrv->prog.inline_ok = nfs4_inline_ok;
	nsrv->prog.inline_ctx = nsrv;
	err = rpc_server_register(srv, &nsrv->prog);
	if (err)
		goto out_unset;
	*out = nsrv;
	return 0;

out_unset:
	atomic_store(&nfs4_the_server, NULL);
	nsrv->registered = false;
out_free:
	nfs4_server_shutdown(nsrv);
	return err;
}

/*
 * See nfs4.h.  Waits (polling, 1 ms) for in-flight dispatches.
 */
void
nfs4_server_shutdown(struct nfs4_server *nsrv)
{
	if (!nsrv)
		return;
	if (nsrv->registered) {
		atomic_store(&nfs4_the_server, NULL);
		while (atomic_load(&nfs4_active_dispatches) != 0) {
			struct timespec ts = { 0, NFS4_SHUTDOWN_POLL_NS };

			nanosleep(&ts, NULL);
		}
	}
	state_server_destroy(nsrv->state);
	nfs4_fsvc_fini(nsrv);
	rwlock_destroy(&nsrv->exp_lock);
	free(nsrv);
}
