/*
 * fuzz_nfs.h - what the NFS-level fuzz targets (fuzz_compound, fuzz_rpc)
 * share: a scratch engine volume with an NFS server on it, and the
 * placeholders that let a fuzzer use what the server handed out (client
 * ID, session ID, stateids, filehandles) without guessing it.
 *
 * Placeholders, replaced in a COMPOUND's bytes before it is sent:
 *	"fuzz-clien" + one byte X	an owner unique to this input, + X
 *	"CLIENTID"			the last EXCHANGE_ID's eir_clientid
 *	"SESSIONIDSESSION"		the last CREATE_SESSION's sessionid
 *	"STATEIDOTHER"			the other field of the last stateid
 *					OPEN, OPEN_DOWNGRADE, LOCK or LAYOUTGET
 *					returned
 *	00 00 00 08 "FHANDLE!"		an nfs_fh4 (length and bytes): the
 *					last GETFH's handle
 *
 * Locking: single-threaded (the fuzzer's thread).
 * Ownership: fuzz_nfs_start() owns the volume, the servers and the
 * exports table until fuzz_nfs_stop(); fuzz_substitute() returns a buffer
 * the caller frees.
 */
#ifndef PMEMNFS_FUZZ_NFS_H
#define PMEMNFS_FUZZ_NFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs4.h"
#include "rpc.h"

struct fuzz_handed {
	bool		have_clientid, have_sessionid, have_other, have_fh;
	clientid4	clientid;
	sessionid4	sessionid;
	char		other[NFS4_OTHER_SIZE];
	uint32_t	fhlen;
	uint8_t		fh[NFS4_FHSIZE];
	char		owner[11];	/* replaces "fuzz-clien" */
};

/* A fresh handed-out set with an owner made from the input's number. */
void fuzz_handed_init(struct fuzz_handed *h, uint64_t input_no);
/* Remember what r's results hand out. */
void fuzz_harvest(struct fuzz_handed *h, const COMPOUND4res *r);
/*
 * in[0, n) with the placeholders replaced (malloc'ed); *outlen its size.
 * resize false leaves the handle placeholder alone, so the length stays
 * (for bytes inside a record whose mark is already written).
 */
uint8_t *fuzz_substitute(const struct fuzz_handed *h, const uint8_t *in,
			 size_t n, bool resize, size_t *outlen);

/*
 * Format a scratch volume (FUZZ_NFS_VOL_SIZE, under $TMPDIR, named after
 * tag and the pid) with a directory /pub, mount it, and start an NFS
 * server (lease lease_sec, no grace) registered with srv, exporting
 * exports_text.  fuzz_nfs_stop() undoes it all and removes the file.
 */
#define FUZZ_NFS_VOL_SIZE	(32ull << 20)
void fuzz_nfs_start(const char *tag, struct rpc_server *srv,
		    const char *exports_text, uint32_t lease_sec,
		    struct nfs4_server **out);
void fuzz_nfs_stop(struct nfs4_server *nsrv);

#endif
