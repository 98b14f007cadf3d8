/*
 * callback.c - the back channel (RFC 8881 §2.10.3.1, §20): binding a
 * connection for callbacks, the CB_NULL probe, and CB_COMPOUND calls led
 * by CB_SEQUENCE on the session's callback slot table.
 *
 * A session has at most one back-channel connection: the one bound last
 * (CREATE_SESSION with CONN_BACK_CHAN or BIND_CONN_TO_SESSION).  Its state
 * (NONE/PROBING/UP/DOWN) drives SEQ4_STATUS_CB_PATH_DOWN[_SESSION].  A
 * close hook on the connection marks it DOWN; the hook owns a session
 * reference and a generation number, so a hook of a connection that has
 * since been replaced does nothing.
 *
 * Callbacks wait in a per-session FIFO until a callback slot is free; the
 * slot's seqid advances when the client answered CB_SEQUENCE with NFS4_OK.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "state_int.h"

/* The CB_COMPOUND tag. */
#define STATE_CB_TAG	"pmemnfsd-cb"

/* NFSv4.1 uses version 1 of the callback program (RFC 8881 §20). */
#define STATE_CB_VERSION	1u
#define STATE_CB_PROC_NULL	0u
#define STATE_CB_PROC_COMPOUND	1u
/* CB_SEQUENCE plus the ops of one recall: a handful is plenty. */
#define STATE_CB_MAX_OPS	16u

struct state_cb_call {
	struct state_cb_call *next;	/* ses->cb_queue_* */
	struct state_session *ses;	/* reference */
	struct rpc_conn	*conn;		/* reference while in flight */
	uint64_t	conn_gen;
	uint32_t	slotid;
	uint32_t	timeout_ms;
	CB_COMPOUND4args args;
	nfs_cb_argop4	*ops;		/* [0] is CB_SEQUENCE */
	state_cb_done_fn done;
	void		*ctx;
};

/* Context of a probe or a close hook: which binding it belongs to. */
struct state_cb_ref {
	struct state_session *ses;	/* reference */
	uint64_t	gen;
};

static void
session_lock(struct state_session *ses)
{
	state_order_acquire(STATE_RANK_SESSION);
	mutex_lock(&ses->lock);
}

static void
session_unlock(struct state_session *ses)
{
	mutex_unlock(&ses->lock);
	state_order_release(STATE_RANK_SESSION);
}

static bool
encode_void(XDR *xdrs, void *arg)
{
	(void)xdrs;
	(void)arg;
	return true;
}

static bool
encode_cb_compound(XDR *xdrs, void *arg)
{
	struct state_cb_call *call = arg;

	return xdr_CB_COMPOUND4args(xdrs, &call->args);
}

static struct state_cb_ref *
cb_ref_new(struct state_session *ses, uint64_t gen)
{
	struct state_cb_ref *ref = malloc(sizeof(*ref));

	if (!ref)
		return NULL;
	state_session_get(ses);
	ref->ses = ses;
	ref->gen = gen;
	return ref;
}

static void
cb_ref_free(struct state_cb_ref *ref)
{
	state_session_put(ref->ses);
	free(ref);
}

static void cb_kick(struct state_session *ses);

/* Mark the binding gen down, if it is still the current one. */
static void
cb_mark_down(struct state_session *ses, uint64_t gen)
{
	session_lock(ses);
	if (!ses->dead && ses->cb_conn_gen == gen)
		state_session_set_cb_state_locked(ses, STATE_CB_DOWN);
	session_unlock(ses);
}

/*
 * Close hook: the back channel of binding ref->gen is gone.  The session
 * lets go of the connection at once (its memory is freed with the last
 * reference) and callbacks waiting for a slot fail with -ECONNRESET.
 */
static void
cb_conn_closed(struct rpc_conn *conn, void *arg)
{
	struct state_cb_ref *ref = arg;
	struct state_session *ses = ref->ses;
	struct rpc_conn *drop = NULL;

	(void)conn;
	session_lock(ses);
	if (!ses->dead && ses->cb_conn_gen == ref->gen) {
		drop = ses->cb_conn;
		ses->cb_conn = NULL;
		state_session_set_cb_state_locked(ses, STATE_CB_DOWN);
	}
	session_unlock(ses);
	if (drop) {
		rpc_conn_put(drop);
		cb_kick(ses);
	}
	cb_ref_free(ref);
}

static void
cb_probe_done(void *arg, int err, XDR *reply)
{
	struct state_cb_ref *ref = arg;
	struct state_session *ses = ref->ses;

	(void)reply;
	session_lock(ses);
	if (!ses->dead && ses->cb_conn_gen == ref->gen &&
	    ses->cb_state == STATE_CB_PROBING)
		state_session_set_cb_state_locked(ses, err ? STATE_CB_DOWN :
						  STATE_CB_UP);
	session_unlock(ses);
	if (err)
		log_info("state: CB_NULL probe failed: %d", err);
	cb_ref_free(ref);
}

/*
 * Requires: no state locks held.  conn becomes the session's back channel
 * (a reference is taken) and is probed with CB_NULL (RFC 8881 §20.1); until
 * the probe answers, the back channel counts as working.
 */
void
state_session_bind_back(struct state_session *ses, struct rpc_conn *conn)
{
	struct rpc_conn *old = NULL;
	struct state_cb_ref *hook_ref = NULL, *probe_ref;
	struct rpc_cred cred;
	uint32_t prog;
	uint64_t gen, hook_id;
	bool new_conn = false;
	int err;

	ASSERT(state_order_top() == 0);
	session_lock(ses);
	if (ses->dead) {
		session_unlock(ses);
		return;
	}
	if (ses->cb_conn != conn) {
		old = ses->cb_conn;
		rpc_conn_get(conn);
		ses->cb_conn = conn;
		ses->cb_conn_gen++;
		new_conn = true;
	}
	gen = ses->cb_conn_gen;
	prog = ses->cb_program;
	cred = ses->cb_cred;
	state_session_set_cb_state_locked(ses, STATE_CB_PROBING);
	session_unlock(ses);
	if (old)
		rpc_conn_put(old);

	if (new_conn) {
		hook_ref = cb_ref_new(ses, gen);
		if (!hook_ref)
			goto out_down;
		err = rpc_conn_add_close_hook(conn, cb_conn_closed, hook_ref,
					      &hook_id);
		if (err) {
			cb_ref_free(hook_ref);
			goto out_down;	/* already closed */
		}
	}
	probe_ref = cb_ref_new(ses, gen);
	if (!probe_ref)
		goto out_down;
	err = rpc_conn_call(conn, prog, STATE_CB_VERSION, STATE_CB_PROC_NULL,
			    &cred, encode_void, NULL,
			    (uint64_t)ses->srv->cfg.cb_timeout_ms * NSEC_PER_MSEC,
			    cb_probe_done, probe_ref);
	if (err) {
		cb_ref_free(probe_ref);
		goto out_down;
	}
	cb_kick(ses);	/* queued callbacks may go now */
	return;

out_down:
	cb_mark_down(ses, gen);
}

/* --- CB_COMPOUND ------------------------------------------------------------------ */

static void
cb_call_free(struct state_cb_call *call)
{
	free(call->ops);
	free(call);
}

/* Finish a call that never went out (or whose session died). */
static void
cb_call_fail(struct state_cb_call *call, int err)
{
	struct state_session *ses = call->ses;

	call->done(call->ctx, err, NULL);
	cb_call_free(call);
	state_session_put(ses);
}

static void
cb_call_done(void *arg, int err, XDR *reply)
{
	struct state_cb_call *call = arg;
	struct state_session *ses = call->ses;
	CB_COMPOUND4res res;
	bool decoded = false, seq_ok = false;

	memset(&res, 0, sizeof(res));
	if (!err) {
		if (xdr_CB_COMPOUND4res(reply, &res)) {
			decoded = true;
			seq_ok = res.resarray.resarray_len >= 1 &&
				res.resarray.resarray_val[0].resop ==
					OP_CB_SEQUENCE &&
				res.resarray.resarray_val[0].nfs_cb_resop4_u
					.opcbsequence.csr_status == NFS4_OK;
		} else {
			err = -EBADMSG;
		}
	}
	session_lock(ses);
	VERIFY(call->slotid < ses->ncb_slots);
	ses->cb_slots[call->slotid].busy = false;
	/* §20.9.3: the slot's seqid moves on once the client processed it. */
	if (seq_ok)
		ses->cb_slots[call->slotid].seqid++;
	if (!ses->dead && ses->cb_conn_gen == call->conn_gen) {
		if (err == -ETIMEDOUT || err == -ECONNRESET || err == -EPROTO)
			state_session_set_cb_state_locked(ses, STATE_CB_DOWN);
		else if (!err && ses->cb_state == STATE_CB_PROBING)
			state_session_set_cb_state_locked(ses, STATE_CB_UP);
	}
	session_unlock(ses);
	rpc_conn_put(call->conn);
	call->conn = NULL;

	call->done(call->ctx, err, decoded ? &res : NULL);
	/*
	 * Also after a failed decode: rpcgen's decoder may have allocated
	 * the tag and part of the result array before it gave up (a reply
	 * cut short; docs/fuzzing.md), and res was zeroed, so freeing is
	 * safe either way.
	 */
	xdr_free((xdrproc_t)xdr_CB_COMPOUND4res, (char *)&res);
	cb_call_free(call);
	cb_kick(ses);
	state_session_put(ses);
}

/*
 * Requires ses->lock; the back channel usable.  Give call a free callback
 * slot and fill its CB_SEQUENCE (RFC 8881 §20.9.3).  false: all busy.
 */
static bool
cb_prepare_locked(struct state_session *ses, struct state_cb_call *call,
		  uint32_t *prog, struct rpc_cred *cred)
{
	CB_SEQUENCE4args *cs;
	uint32_t slot = UINT32_MAX;

	mutex_assert_held(&ses->lock);
	for (uint32_t i = 0; i < ses->ncb_slots; i++) {
		if (!ses->cb_slots[i].busy) {
			slot = i;
			break;
		}
	}
	if (slot == UINT32_MAX)
		return false;
	ses->cb_slots[slot].busy = true;
	call->slotid = slot;
	cs = &call->ops[0].nfs_cb_argop4_u.opcbsequence;
	memcpy(cs->csa_sessionid, ses->id, NFS4_SESSIONID_SIZE);
	cs->csa_sequenceid = ses->cb_slots[slot].seqid;
	cs->csa_slotid = slot;
	cs->csa_highest_slotid = ses->ncb_slots - 1;
	cs->csa_cachethis = FALSE;
	call->conn = ses->cb_conn;
	rpc_conn_get(call->conn);
	call->conn_gen = ses->cb_conn_gen;
	*prog = ses->cb_program;
	*cred = ses->cb_cred;
	return true;
}

static bool
cb_usable_locked(const struct state_session *ses)
{
	return !ses->dead && ses->cb_conn &&
	       (ses->cb_state == STATE_CB_UP ||
		ses->cb_state == STATE_CB_PROBING);
}

static int
cb_send(struct state_cb_call *call, uint32_t prog, const struct rpc_cred *cred)
{
	return rpc_conn_call(call->conn, prog, STATE_CB_VERSION,
			     STATE_CB_PROC_COMPOUND, cred, encode_cb_compound,
			     call, (uint64_t)call->timeout_ms * NSEC_PER_MSEC,
			     cb_call_done, call);
}

/*
 * Start queued callbacks while a callback slot is free, or fail them all
 * when the back channel cannot carry them.  Runs completions (done()) of
 * other callers, so it is only called where no caller's locks can be held:
 * RPC completions, close hooks, op handlers, the reaper.  Requires: no
 * state locks held.
 */
static void
cb_kick(struct state_session *ses)
{
	for (;;) {
		struct state_cb_call *call, *fail_list;
		struct rpc_cred cred;
		uint32_t prog;
		int fail_err;

		session_lock(ses);
		if (!cb_usable_locked(ses)) {
			/* Nothing can go out: fail what waits. */
			fail_list = ses->cb_queue_head;
			ses->cb_queue_head = ses->cb_queue_tail = NULL;
			fail_err = ses->dead ? -ESHUTDOWN : -ECONNRESET;
			session_unlock(ses);
			while (fail_list) {
				call = fail_list;
				fail_list = call->next;
				cb_call_fail(call, fail_err);
			}
			return;
		}
		call = ses->cb_queue_head;
		if (!call || !cb_prepare_locked(ses, call, &prog, &cred)) {
			session_unlock(ses);
			return;
		}
		ses->cb_queue_head = call->next;
		if (!ses->cb_queue_head)
			ses->cb_queue_tail = NULL;
		call->next = NULL;
		session_unlock(ses);
		if (cb_send(call, prog, &cred)) {
			/* Never sent: the completion runs here instead. */
			state_session_get(ses);	/* cb_call_done puts one */
			cb_call_done(call, -ECONNRESET, NULL);
			state_session_put(ses);
		}
	}
}

/*
 * Never runs done() before returning: a caller may hold its own locks, and
 * done() may take them.  So a call that cannot be sent right away either
 * waits in the queue (started by a completion) or is refused here.
 */
int
state_cb_compound(struct state_client *clp, const nfs_cb_argop4 *ops,
		  uint32_t nops, uint32_t timeout_ms, state_cb_done_fn done,
		  void *ctx)
{
	struct state_session *ses = NULL;
	struct state_cb_call *call;
	struct rpc_cred cred;
	uint32_t prog;
	bool send_now;
	int err;

	if (nops + 1 > STATE_CB_MAX_OPS || !done || (nops && !ops))
		return -EINVAL;
	/* Pick a session whose back channel is not known to be down. */
	state_order_acquire(STATE_RANK_CLIENT);
	mutex_lock(&clp->lock);
	for (struct state_session *s = clp->sessions; s; s = s->client_next) {
		bool ok;

		session_lock(s);
		ok = cb_usable_locked(s);
		session_unlock(s);
		if (ok) {
			state_session_get(s);
			ses = s;
			break;
		}
	}
	mutex_unlock(&clp->lock);
	state_order_release(STATE_RANK_CLIENT);
	if (!ses)
		return -ENOTCONN;

	call = calloc(1, sizeof(*call));
	if (!call)
		goto out_nomem;
	call->ops = calloc(nops + 1, sizeof(*call->ops));
	if (!call->ops) {
		free(call);
		goto out_nomem;
	}
	call->ops[0].argop = OP_CB_SEQUENCE;
	if (nops)
		memcpy(&call->ops[1], ops, nops * sizeof(*ops));
	/*
	 * A short tag names the sender in packet traces (RFC 8881 §16.2.3:
	 * the tag is the requester's, echoed back).  Not empty also because
	 * some decoders hand a NULL pointer to memcpy for an empty one.
	 */
	call->args.tag.utf8string_len = sizeof(STATE_CB_TAG) - 1;
	call->args.tag.utf8string_val = (char *)STATE_CB_TAG;
	/* The minor version the client speaks (pynfs refuses another). */
	call->args.minorversion = atomic_load(&clp->cb_minor);
	call->args.callback_ident = 0;	/* unused in 4.1 (§20.9.3) */
	call->args.argarray.argarray_len = nops + 1;
	call->args.argarray.argarray_val = call->ops;
	call->timeout_ms = timeout_ms ? timeout_ms : ses->srv->cfg.cb_timeout_ms;
	call->done = done;
	call->ctx = ctx;
	call->ses = ses;	/* our reference moves to the call */

	session_lock(ses);
	if (!cb_usable_locked(ses)) {
		session_unlock(ses);
		err = -ENOTCONN;
		goto out_free;
	}
	/* FIFO: jump the queue never, even when a slot is free. */
	send_now = !ses->cb_queue_head &&
		   cb_prepare_locked(ses, call, &prog, &cred);
	if (!send_now) {
		if (ses->cb_queue_tail)
			ses->cb_queue_tail->next = call;
		else
			ses->cb_queue_head = call;
		ses->cb_queue_tail = call;
	}
	session_unlock(ses);
	if (!send_now)
		return 0;
	err = cb_send(call, prog, &cred);
	if (!err)
		return 0;
	/* Not sent: give the slot back; the connection is unusable. */
	session_lock(ses);
	ses->cb_slots[call->slotid].busy = false;
	if (!ses->dead && ses->cb_conn_gen == call->conn_gen)
		state_session_set_cb_state_locked(ses, STATE_CB_DOWN);
	session_unlock(ses);
	rpc_conn_put(call->conn);
	err = -ENOTCONN;
out_free:
	cb_call_free(call);
	state_session_put(ses);
	return err;

out_nomem:
	state_session_put(ses);
	return -ENOMEM;
}

/*
 * See state.h.  Lock-free (an atomic count of working back channels).
 */
bool
state_client_cb_up(struct state_client *clp)
{
	return atomic_load(&clp->cb_ok_sessions) > 0;
}

/*
 * Requires: no state locks held; ses is dead.  Drop the back-channel
 * connection and fail queued callbacks (-ESHUTDOWN).  Calls in flight
 * finish through their own completion.
 */
void
state_cb_flush(struct state_session *ses)
{
	struct rpc_conn *conn;

	ASSERT(state_order_top() == 0);
	session_lock(ses);
	VERIFY(ses->dead);
	conn = ses->cb_conn;
	ses->cb_conn = NULL;
	session_unlock(ses);
	if (conn)
		rpc_conn_put(conn);
	cb_kick(ses);	/* dead: fails the queue */
}
