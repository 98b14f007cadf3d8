/*
 * session_ops.c - handlers of the client-ID and session operations
 * (RFC 8881 §18.33-18.37, §18.46, §18.50, §18.51).  Each one only unpacks
 * its arguments, calls the state layer that owns the rules, and fills its
 * result; the rules themselves live in src/state.
 */
#include "config.h"

#include <string.h>

#include "nfs4_int.h"

/*
 * SEQUENCE (RFC 8881 §18.46): on NFS4_OK cs->seq holds the slot (or a
 * replay).  No locks held.
 */
nfsstat4
nfs4_op_sequence(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	struct state_seq_req req = {
		.opcnt = cs->opcnt,
		.req_len = cs->req_len,
		.conn = cs->conn,
	};

	return state_sequence(cs->state, &arg->nfs_argop4_u.opsequence, &req,
			      &res->nfs_resop4_u.opsequence.SEQUENCE4res_u
				       .sr_resok4,
			      &cs->seq);
}

/*
 * EXCHANGE_ID (RFC 8881 §18.35).  No locks held.
 */
nfsstat4
nfs4_op_exchange_id(struct nfs4_compound *cs, nfs_argop4 *arg,
		    nfs_resop4 *res)
{
	EXCHANGE_ID4resok *ok =
		&res->nfs_resop4_u.opexchange_id.EXCHANGE_ID4res_u.eir_resok4;
	struct nfs4_server *nsrv = cs->srv;
	nfsstat4 status;

	status = state_exchange_id(cs->state, &arg->nfs_argop4_u.opexchange_id,
				   cs->cred, ok);
	if (status != NFS4_OK)
		return status;
	/*
	 * §18.35.4 / §2.10.4: one server owner and scope for the whole
	 * server (no trunking groups yet); these point at server-lifetime
	 * strings, so the result needs no release().
	 */
	ok->eir_state_protect.spr_how = SP4_NONE;
	ok->eir_server_owner.so_minor_id = 0;
	ok->eir_server_owner.so_major_id.so_major_id_len =
		(u_int)strlen(nsrv->owner);
	ok->eir_server_owner.so_major_id.so_major_id_val = nsrv->owner;
	ok->eir_server_scope.eir_server_scope_len = (u_int)strlen(nsrv->owner);
	ok->eir_server_scope.eir_server_scope_val = nsrv->owner;
	ok->eir_server_impl_id.eir_server_impl_id_len = 1;
	ok->eir_server_impl_id.eir_server_impl_id_val = &nsrv->impl_id;
	return NFS4_OK;
}

/*
 * CREATE_SESSION (RFC 8881 §18.36): the COMPOUND's connection becomes the
 * back channel when asked.  No locks held.
 */
nfsstat4
nfs4_op_create_session(struct nfs4_compound *cs, nfs_argop4 *arg,
		       nfs_resop4 *res)
{
	return state_create_session(cs->state,
				    &arg->nfs_argop4_u.opcreate_session,
				    cs->cred, cs->conn,
				    &res->nfs_resop4_u.opcreate_session
					     .CREATE_SESSION4res_u.csr_resok4);
}

/*
 * DESTROY_SESSION (RFC 8881 §18.37).  No locks held.
 */
nfsstat4
nfs4_op_destroy_session(struct nfs4_compound *cs, nfs_argop4 *arg,
			nfs_resop4 *res)
{
	DESTROY_SESSION4args *a = &arg->nfs_argop4_u.opdestroy_session;
	struct state_session *own = nfs4_in_session(cs) ? cs->seq.ses : NULL;

	(void)res;
	/*
	 * §18.37.3: destroying the session this COMPOUND runs on must be the
	 * last op (knfsd answers NFS4ERR_NOT_ONLY_OP too).
	 */
	if (own && !memcmp(state_session_id(own), a->dsa_sessionid,
			   NFS4_SESSIONID_SIZE) &&
	    cs->opidx + 1 != cs->opcnt)
		return NFS4ERR_NOT_ONLY_OP;
	return state_destroy_session(cs->state, a->dsa_sessionid, own);
}

/*
 * BIND_CONN_TO_SESSION (RFC 8881 §18.34).  No locks held.
 */
nfsstat4
nfs4_op_bind_conn_to_session(struct nfs4_compound *cs, nfs_argop4 *arg,
			     nfs_resop4 *res)
{
	return state_bind_conn(cs->state,
			       &arg->nfs_argop4_u.opbind_conn_to_session,
			       cs->conn,
			       &res->nfs_resop4_u.opbind_conn_to_session
					.BIND_CONN_TO_SESSION4res_u.bctsr_resok4);
}

/*
 * BACKCHANNEL_CTL (RFC 8881 §18.33); only after SEQUENCE.  No locks held.
 */
nfsstat4
nfs4_op_backchannel_ctl(struct nfs4_compound *cs, nfs_argop4 *arg,
			nfs_resop4 *res)
{
	(void)res;
	/* check_position() guarantees the SEQUENCE. */
	VERIFY(nfs4_in_session(cs));
	return state_backchannel_ctl(cs->seq.ses,
				     &arg->nfs_argop4_u.opbackchannel_ctl);
}

/*
 * DESTROY_CLIENTID (RFC 8881 §18.50).  No locks held.
 */
nfsstat4
nfs4_op_destroy_clientid(struct nfs4_compound *cs, nfs_argop4 *arg,
			 nfs_resop4 *res)
{
	(void)res;
	return state_destroy_clientid(cs->state,
		arg->nfs_argop4_u.opdestroy_clientid.dca_clientid, cs->cred);
}

/*
 * RECLAIM_COMPLETE (RFC 8881 §18.51); only after SEQUENCE.  No locks held.
 */
nfsstat4
nfs4_op_reclaim_complete(struct nfs4_compound *cs, nfs_argop4 *arg,
			 nfs_resop4 *res)
{
	(void)res;
	VERIFY(nfs4_in_session(cs));
	/*
	 * §18.51.3: rca_one_fs names the current filehandle's file system;
	 * per-fs reclaim is not tracked (one exported fs), so it only needs
	 * the filehandle.
	 */
	if (arg->nfs_argop4_u.opreclaim_complete.rca_one_fs)
		return cs->current_fh.len ? NFS4_OK : NFS4ERR_NOFILEHANDLE;
	return state_reclaim_complete(state_session_client(cs->seq.ses));
}
