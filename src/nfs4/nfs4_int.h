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
#include "common/lock.h"

/* Bytes of the filehandle MAC key (SipHash-2-4, see fh.c). */
#define NFS4_FH_KEY_LEN		16

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

	/* The file service (fh.c, attr.c): NULL fs in detached servers. */
	struct fs		*fs;
	struct nfs4_exports_src	exsrc;
	uint8_t			fh_key[NFS4_FH_KEY_LEN];
	/*
	 * Protects exp_cur, the export set built for the newest table:
	 * shared to take a reference (every COMPOUND), exclusive to
	 * replace it (after a reload).
	 */
	struct rwlock		exp_lock;
	struct nfs4_export_set	*exp_cur;
};

/*
 * File-service set-up and tear-down (fh.c): load or create the filehandle
 * key; free the export set.  No locks held.
 */
int nfs4_fsvc_init(struct nfs4_server *nsrv, struct fs *fs,
		   const struct nfs4_exports_src *exports) MUST_CHECK;
void nfs4_fsvc_fini(struct nfs4_server *nsrv);
/* End of a COMPOUND: drop its export-set reference (fh.c).  No locks. */
void nfs4_compound_exports_put(struct nfs4_compound *cs);

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

/*
 * READ's encode hook (io_ops.c; struct nfs4_op_desc.encode): a pinned
 * result's data goes into the reply by reference (io->put_ref), from the
 * volume mapping to the socket, and its pin is dropped when the socket
 * is done with it.  Locks: none held.
 */
bool nfs4_encode_read(XDR *xdrs, nfs_resop4 *res,
		      const struct nfs4_reply_io *io);

#endif
