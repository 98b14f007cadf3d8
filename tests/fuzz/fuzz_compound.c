/*
 * fuzz_compound.c - libFuzzer target: whole COMPOUNDs through the NFSv4.1
 * layer in-process (src/nfs4: the COMPOUND loop, every op's argument
 * decoding and handler, the fattr4 decoder, the reply cache; src/state:
 * clients, sessions, slots, stateids; src/fs underneath), with
 * nfs4_compound_run() called directly, as the RPC dispatch would.
 *
 * The server runs on a freshly formatted engine volume (a 32 MiB file
 * under $TMPDIR, with a directory /pub); "/" is exported rw,
 * no_root_squash and "/pub" ro, root_squash, both to '*'; no grace
 * period.  Each input is a new client (see FUZZ_LEASE_SEC), and the
 * harness ends its session and client ID afterwards.  Files it made stay
 * until the next restart (FUZZ_RESTART_EVERY inputs), so a crash that
 * needs what earlier inputs left may not replay alone: libFuzzer's
 * -runs=N on the crash file, or the whole corpus, brings it back.
 *
 * Input format: a sequence of COMPOUNDs, each TAG (1 byte), LEN (2 bytes,
 * big endian) and LEN bytes of COMPOUND4args XDR (cut short at the end).
 * TAG bits 0-1 pick the credential: 0 AUTH_SYS root, 1 AUTH_SYS uid/gid
 * 1000, 2 AUTH_NONE, 3 AUTH_SYS 65534 with 16 groups.
 *
 * What a server hands out cannot be guessed by a fuzzer, so the harness
 * replaces placeholders in each COMPOUND before it runs (fuzz_nfs.h lists
 * them; the seeds made by gen_seeds.c use them).
 *
 * Property checked beyond "no crash, no leak, no UB, no failed ASSERT":
 * every reply the server encodes decodes as COMPOUND4res with rpcgen's
 * XDR, with as many results as it says and a status that matches the last
 * result's.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "common/exports.h"
#include "common/log.h"
#include "fs.h"
#include "nfs4.h"
#include "rpc.h"
#include "vol.h"
#include "fuzz.h"
#include "fuzz_nfs.h"

/* Replies up to the server's default max_resp_size. */
#define FUZZ_RES_MAX		(STATE_MAX_RESP_DEFAULT + 4096)
/* RPC header + AUTH_SYS credential in front of a COMPOUND, for req_len. */
#define FUZZ_RPC_HDR		128
/* A handful of COMPOUNDs per input is plenty; keep executions fast. */
#define FUZZ_MAX_COMPOUNDS	32
/*
 * One server serves many inputs (building the state tables, sized for
 * 100,000 clients, costs far more than an input), each as its own client
 * ("fuzz-client" in EXCHANGE_ID becomes a per-input owner).  A short
 * lease lets the clients an input could not destroy expire soon, and a
 * restart on a fresh volume now and then keeps the volume from filling.
 */
#define FUZZ_LEASE_SEC		3
#define FUZZ_RESTART_EVERY	5000

static const char exports_text[] =
	"/ *(rw,no_root_squash,sec=sys:none)\n"
	"/pub *(ro,root_squash,sec=sys)\n";

static struct rpc_server *fuzz_rpc;
static struct nfs4_server *fuzz_nfs;
static uint64_t inputs_run;
static uint8_t *res_buf;
/* FUZZ_VERBOSE set: print each op's status (to check seeds by hand). */
static bool verbose;

static void server_stop(void);

static void
cleanup(void)
{
	server_stop();
	free(res_buf);
	res_buf = NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("fuzz_compound", LOG_LVL_ERROR, false);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	atexit(cleanup);
	res_buf = malloc(FUZZ_RES_MAX);
	if (!res_buf)
		fuzz_die("malloc", -ENOMEM);
	return 0;
}

/* --- running one COMPOUND ------------------------------------------------- */

struct res_io {
	XDR	*x;
};

static uint32_t
res_pos(void *ctx)
{
	struct res_io *r = ctx;

	return xdr_getpos(r->x);
}

static int
res_copy(void *ctx, uint32_t from, uint32_t len, void *dst)
{
	struct res_io *r = ctx;

	if (from > xdr_getpos(r->x) || len > xdr_getpos(r->x) - from)
		return -ERANGE;
	memcpy(dst, res_buf + from, len);
	return 0;
}

static void
make_cred(struct rpc_cred *cred, uint8_t tag)
{
	memset(cred, 0, sizeof(*cred));
	snprintf(cred->machine, sizeof(cred->machine), "fuzzclient");
	cred->flavor = AUTH_SYS;
	switch (tag & 3) {
	case 0:
		break;
	case 1:
		cred->uid = cred->gid = 1000;
		cred->ngids = 1;
		cred->gids[0] = 1000;
		break;
	case 2:
		cred->flavor = AUTH_NONE;
		break;
	default:
		cred->uid = cred->gid = EXPORTS_ANON_ID;
		cred->ngids = RPC_AUTH_SYS_MAX_GIDS;
		for (uint32_t i = 0; i < cred->ngids; i++)
			cred->gids[i] = i * 1000;
		break;
	}
}

static void
run_one(struct fuzz_handed *h, uint8_t tag, const uint8_t *data, size_t len)
{
	struct rpc_cred cred;
	struct res_io rio;
	struct nfs4_reply_io io = { .pos = res_pos, .copy = res_copy, .ctx = &rio };
	XDR args, res, dec;
	COMPOUND4res r;
	enum rpc_disp disp;
	uint8_t *req;
	size_t reqlen;

	req = fuzz_substitute(h, data, len, true, &reqlen);
	make_cred(&cred, tag);
	xdrmem_create(&args, (char *)req, (u_int)reqlen, XDR_DECODE);
	xdrmem_create(&res, (char *)res_buf, FUZZ_RES_MAX, XDR_ENCODE);
	rio.x = &res;
	disp = nfs4_compound_run(fuzz_nfs, &args, &res, &cred, NULL,
				 (uint32_t)(reqlen + FUZZ_RPC_HDR), &io);
	VERIFY(disp == RPC_DISP_REPLY || disp == RPC_DISP_GARBAGE ||
	       disp == RPC_DISP_SYSTEM_ERR);
	if (verbose && disp != RPC_DISP_REPLY)
		fprintf(stderr, "COMPOUND: disposition %d\n", disp);
	if (disp == RPC_DISP_REPLY) {
		uint32_t reslen = xdr_getpos(&res);

		memset(&r, 0, sizeof(r));
		xdrmem_create(&dec, (char *)res_buf, reslen, XDR_DECODE);
		if (!xdr_COMPOUND4res(&dec, &r) || xdr_getpos(&dec) != reslen) {
			fprintf(stderr, "fuzz_compound: the reply (%u bytes) "
				"is not one COMPOUND4res\n", reslen);
			abort();
		}
		if (r.resarray.resarray_len > 0) {
			const nfs_resop4 *last = &r.resarray.resarray_val[
				r.resarray.resarray_len - 1];
			nfsstat4 st;

			/* Every XXX4res starts with its status. */
			memcpy(&st, &last->nfs_resop4_u, sizeof(st));
			if (last->resop != OP_ILLEGAL && st != r.status) {
				fprintf(stderr, "fuzz_compound: COMPOUND "
					"status %d, last op %d status %d\n",
					r.status, last->resop, st);
				abort();
			}
		}
		if (verbose) {
			fprintf(stderr, "COMPOUND status %d:", r.status);
			for (u_int i = 0; i < r.resarray.resarray_len; i++) {
				const nfs_resop4 *op = &r.resarray.resarray_val[i];
				nfsstat4 st;

				memcpy(&st, &op->nfs_resop4_u, sizeof(st));
				fprintf(stderr, " %d=%d", op->resop, st);
			}
			fprintf(stderr, "\n");
		}
		fuzz_harvest(h, &r);
		xdr_free((xdrproc_t)xdr_COMPOUND4res, (char *)&r);
		xdr_destroy(&dec);
	}
	xdr_destroy(&args);
	xdr_destroy(&res);
	free(req);
}

static void
server_start(void)
{
	struct rpc_server_config rcfg;
	int rc;

	rpc_server_config_defaults(&rcfg);
	rcfg.nworkers = 2;
	rcfg.nblocking_workers = 1;
	rc = rpc_server_create(&rcfg, &fuzz_rpc);
	if (rc)
		fuzz_die("rpc_server_create", rc);
	fuzz_nfs_start("compound", fuzz_rpc, exports_text, FUZZ_LEASE_SEC,
		       &fuzz_nfs);
}

static void
server_stop(void)
{
	if (!fuzz_nfs)
		return;
	rpc_server_destroy(fuzz_rpc);
	fuzz_nfs_stop(fuzz_nfs);
	fuzz_nfs = NULL;
	fuzz_rpc = NULL;
}

/* End the input's session and client ID, as a well-behaved client would. */
static void
teardown(struct fuzz_handed *h)
{
	static uint8_t req[256];
	nfs_argop4 op;
	COMPOUND4args a;
	XDR x;

	if (!h->have_sessionid && !h->have_clientid)
		return;
	memset(&a, 0, sizeof(a));
	a.minorversion = 1;
	a.argarray.argarray_len = 1;
	a.argarray.argarray_val = &op;
	if (h->have_sessionid) {
		memset(&op, 0, sizeof(op));
		op.argop = OP_DESTROY_SESSION;
		memcpy(op.nfs_argop4_u.opdestroy_session.dsa_sessionid,
		       h->sessionid, NFS4_SESSIONID_SIZE);
		xdrmem_create(&x, (char *)req, sizeof(req), XDR_ENCODE);
		VERIFY(xdr_COMPOUND4args(&x, &a));
		run_one(h, 0, req, xdr_getpos(&x));
		xdr_destroy(&x);
	}
	if (h->have_clientid) {
		memset(&op, 0, sizeof(op));
		op.argop = OP_DESTROY_CLIENTID;
		op.nfs_argop4_u.opdestroy_clientid.dca_clientid = h->clientid;
		xdrmem_create(&x, (char *)req, sizeof(req), XDR_ENCODE);
		VERIFY(xdr_COMPOUND4args(&x, &a));
		run_one(h, 0, req, xdr_getpos(&x));
		xdr_destroy(&x);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_handed h;
	size_t off = 0;
	unsigned n = 0;

	if (fuzz_nfs && inputs_run % FUZZ_RESTART_EVERY == 0)
		server_stop();
	if (!fuzz_nfs)
		server_start();
	inputs_run++;
	fuzz_handed_init(&h, inputs_run);
	while (off < size && n++ < FUZZ_MAX_COMPOUNDS) {
		uint8_t tag = data[off++];
		size_t len = 0;

		if (off + 2 <= size)
			len = (size_t)data[off] << 8 | data[off + 1];
		off = MIN(off + 2, size);
		len = MIN(len, size - off);
		run_one(&h, tag, data + off, len);
		off += len;
	}
	teardown(&h);
	return 0;
}
