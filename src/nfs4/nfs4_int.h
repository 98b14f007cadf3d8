/*
 * nfs4_int.h - private to src/nfs4: the server object and the handlers
 * that the op table points at.
 *
 * Locking: none here; see include/nfs4.h.
 * Ownership: struct nfs4_server owns its state server and the strings its
 * EXCHANGE_ID replies point at (they are never freed per reply).
 */
#ifndef PMEMNFS_NFS4_INT_H
#define PMEMNFS_NFS4_INT_H

#include "nfs4.h"

#define NFS4_IMPL_DOMAIN	"pmemnfsd.invalid"
#define NFS4_IMPL_NAME		"pmemnfsd " PACKAGE_VERSION

struct nfs4_server {
	struct nfs4_config	cfg;
	struct state_server	*state;
	struct rpc_program	prog;
	bool			registered;	/* owns the process-wide slot */
	/* EXCHANGE_ID's constant answer (RFC 8881 §18.35.4). */
	char			owner[256];
	nfs_impl_id4		impl_id;
};

/* Session and client-ID ops (session_ops.c), RFC 8881 §18.33-18.51. */
nfsstat4 nfs4_op_backchannel_ctl(struct nfs4_compound *cs, nfs_argop4 *arg,
				 nfs_resop4 *res);
nfsstat4 nfs4_op_bind_conn_to_session(struct nfs4_compound *cs,
				      nfs_argop4 *arg, nfs_resop4 *res);
nfsstat4 nfs4_op_exchange_id(struct nfs4_compound *cs, nfs_argop4 *arg,
			     nfs_resop4 *res);
nfsstat4 nfs4_op_create_session(struct nfs4_compound *cs, nfs_argop4 *arg,
				nfs_resop4 *res);
nfsstat4 nfs4_op_destroy_session(struct nfs4_compound *cs, nfs_argop4 *arg,
				 nfs_resop4 *res);
nfsstat4 nfs4_op_sequence(struct nfs4_compound *cs, nfs_argop4 *arg,
			  nfs_resop4 *res);
nfsstat4 nfs4_op_destroy_clientid(struct nfs4_compound *cs, nfs_argop4 *arg,
				  nfs_resop4 *res);
nfsstat4 nfs4_op_reclaim_complete(struct nfs4_compound *cs, nfs_argop4 *arg,
				  nfs_resop4 *res);

/* Ops on the compound's current/saved filehandle (cstate.c). */
nfsstat4 nfs4_op_getfh(struct nfs4_compound *cs, nfs_argop4 *arg,
		       nfs_resop4 *res);
void nfs4_release_getfh(nfs_resop4 *res);
nfsstat4 nfs4_op_savefh(struct nfs4_compound *cs, nfs_argop4 *arg,
			nfs_resop4 *res);
nfsstat4 nfs4_op_restorefh(struct nfs4_compound *cs, nfs_argop4 *arg,
			   nfs_resop4 *res);

#endif
