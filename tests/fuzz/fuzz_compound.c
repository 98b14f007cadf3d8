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
 * substitutes placeholders in each COMPOUND before it runs (the seeds made
 * by gen_seeds.c use them):
 *	"fuzz-client"			this input's client owner
 *	"CLIENTID"			the last EXCHANGE_ID's eir_clientid
 *	"SESSIONIDSESSION"		the last CREATE_SESSION's sessionid
 *	"STATEIDOTHER"			the last stateid's other field that
 *					OPEN, LOCK, OPEN_DOWNGRADE or LAYOUTGET
 *					returned
 *	00 00 00 08 "FHANDLE!"		an nfs_fh4 (length and bytes): the
 *					last GETFH's handle
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

#define FUZZ_VOL_SIZE		(32ull << 20)
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

static struct fs *fuzz_fs;
static struct rpc_server *fuzz_rpc;
static struct nfs4_server *fuzz_nfs;
static uint64_t inputs_run;
static struct exports_table *fuzz_exports;
static char fuzz_vol_path[256];
static uint8_t *res_buf;
/* FUZZ_VERBOSE set: print each op's status (to check seeds by hand). */
static bool verbose;

/* --- the exports source (one table, never replaced) ----------------------- */

static const struct exports_table *
exp_get(void *ctx, void **tok, uint64_t *gen)
{
	*tok = NULL;
	*gen = 1;
	return fuzz_exports;
}

static void
exp_put(void *ctx, void *tok)
{
}

static uint64_t
exp_gen(void *ctx)
{
	return 1;
}

static const struct nfs4_exports_src exports_src = {
	.get = exp_get,
	.put = exp_put,
	.gen = exp_gen,
};

/* A fresh, formatted volume with /pub in it: every input starts alike. */
static void
volume_make(void)
{
	struct fs_create_args ca = { .type = FS_TYPE_DIR, .mode = 0755 };
	struct fs_inode *root, *pub;
	struct vol_mkfs_opts o = { .force = true };
	int rc;

	rc = vol_create(fuzz_vol_path, FUZZ_VOL_SIZE, &o);
	if (rc)
		fuzz_die("vol_create", rc);
	rc = fs_mount(fuzz_vol_path, 0, &fuzz_fs);
	if (rc)
		fuzz_die("fs_mount", rc);
	rc = fs_iget(fuzz_fs, fs_root_ino(fuzz_fs), 0, &root);
	if (rc)
		fuzz_die("fs_iget(root)", rc);
	rc = fs_create(fuzz_fs, root, "pub", &ca, &pub);
	if (rc)
		fuzz_die("fs_create(pub)", rc);
	fs_iput(fuzz_fs, pub);
	fs_iput(fuzz_fs, root);
}

static void
volume_drop(void)
{
	int rc;

	if (!fuzz_fs)
		return;
	rc = fs_unmount(fuzz_fs);
	fuzz_fs = NULL;
	if (rc)
		fuzz_die("fs_unmount", rc);
}

static void server_stop(void);

static void
cleanup(void)
{
	server_stop();
	if (fuzz_vol_path[0])
		unlink(fuzz_vol_path);
	exports_free(fuzz_exports);
	fuzz_exports = NULL;
	free(res_buf);
	res_buf = NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");
	char epath[256], err[CONF_ERR_MAX];
	int rc;

	log_init("fuzz_compound", LOG_LVL_ERROR, false);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(fuzz_vol_path, sizeof(fuzz_vol_path),
		 "%s/pmemnfs-fuzz-vol-%d", dir, (int)getpid());
	unlink(fuzz_vol_path);
	atexit(cleanup);

	rc = fuzz_write_tmp("exports", (const uint8_t *)exports_text,
			    sizeof(exports_text) - 1, epath, sizeof(epath));
	if (rc)
		fuzz_die("exports file", rc);
	rc = exports_parse(epath, &fuzz_exports, err);
	unlink(epath);
	if (rc) {
		fprintf(stderr, "fuzz_compound: %s\n", err);
		fuzz_die("exports_parse", rc);
	}
	res_buf = malloc(FUZZ_RES_MAX);
	if (!res_buf)
		fuzz_die("malloc", -ENOMEM);
	return 0;
}

/* --- what the server handed out, for the placeholders --------------------- */

struct handed {
	bool		have_clientid, have_sessionid, have_other, have_fh;
	clientid4	clientid;
	sessionid4	sessionid;
	char		other[NFS4_OTHER_SIZE];
	uint32_t	fhlen;
	uint8_t		fh[NFS4_FHSIZE];
	char		owner[12];	/* replaces "fuzz-client" */
};

static void
harvest_stateid(struct handed *h, const stateid4 *sid)
{
	memcpy(h->other, sid->other, NFS4_OTHER_SIZE);
	h->have_other = true;
}

/* Remember what the results hand out; the reply already decoded. */
static void
harvest(struct handed *h, const COMPOUND4res *r)
{
	for (u_int i = 0; i < r->resarray.resarray_len; i++) {
		const nfs_resop4 *op = &r->resarray.resarray_val[i];

		switch (op->resop) {
		case OP_EXCHANGE_ID:
			if (op->nfs_resop4_u.opexchange_id.eir_status != NFS4_OK)
				break;
			h->clientid = op->nfs_resop4_u.opexchange_id
				.EXCHANGE_ID4res_u.eir_resok4.eir_clientid;
			h->have_clientid = true;
			break;
		case OP_CREATE_SESSION:
			if (op->nfs_resop4_u.opcreate_session.csr_status != NFS4_OK)
				break;
			memcpy(h->sessionid, op->nfs_resop4_u.opcreate_session
			       .CREATE_SESSION4res_u.csr_resok4.csr_sessionid,
			       NFS4_SESSIONID_SIZE);
			h->have_sessionid = true;
			break;
		case OP_OPEN:
			if (op->nfs_resop4_u.opopen.status == NFS4_OK)
				harvest_stateid(h, &op->nfs_resop4_u.opopen
						.OPEN4res_u.resok4.stateid);
			break;
		case OP_OPEN_DOWNGRADE:
			if (op->nfs_resop4_u.opopen_downgrade.status == NFS4_OK)
				harvest_stateid(h, &op->nfs_resop4_u
						.opopen_downgrade
						.OPEN_DOWNGRADE4res_u.resok4
						.open_stateid);
			break;
		case OP_LOCK:
			if (op->nfs_resop4_u.oplock.status == NFS4_OK)
				harvest_stateid(h, &op->nfs_resop4_u.oplock
						.LOCK4res_u.resok4.lock_stateid);
			break;
		case OP_LAYOUTGET:
			if (op->nfs_resop4_u.oplayoutget.logr_status == NFS4_OK)
				harvest_stateid(h, &op->nfs_resop4_u
						.oplayoutget.LAYOUTGET4res_u
						.logr_resok4.logr_stateid);
			break;
		case OP_GETFH: {
			const nfs_fh4 *fh;

			if (op->nfs_resop4_u.opgetfh.status != NFS4_OK)
				break;
			fh = &op->nfs_resop4_u.opgetfh.GETFH4res_u.resok4.object;
			VERIFY(fh->nfs_fh4_len <= NFS4_FHSIZE);
			memcpy(h->fh, fh->nfs_fh4_val, fh->nfs_fh4_len);
			h->fhlen = fh->nfs_fh4_len;
			h->have_fh = true;
			break;
		}
		default:
			break;
		}
	}
}

static const char ph_clientid[] = "CLIENTID";
static const char ph_owner[] = "fuzz-client";
static const char ph_session[] = "SESSIONIDSESSION";
static const char ph_other[] = "STATEIDOTHER";
static const uint8_t ph_fh[] = { 0, 0, 0, 8, 'F', 'H', 'A', 'N', 'D', 'L', 'E', '!' };

/*
 * Copy in[0, n) to a new buffer with the placeholders replaced; *outlen
 * gets its length.  A handle placeholder becomes a handle of another
 * length (padded to 4), so the result may be longer.
 */
static uint8_t *
substitute(const struct handed *h, const uint8_t *in, size_t n, size_t *outlen)
{
	/* Each 12-byte handle placeholder grows by at most NFS4_FHSIZE. */
	size_t cap = n + (n / sizeof(ph_fh) + 1) * NFS4_FHSIZE;
	uint8_t *out = malloc(cap ? cap : 1);
	size_t i = 0, o = 0;

	if (!out)
		fuzz_die("malloc", -ENOMEM);
	while (i < n) {
		size_t left = n - i;

		if (left >= 11 && !memcmp(in + i, ph_owner, 11)) {
			memcpy(out + o, h->owner, 11);
			i += 11;
			o += 11;
		} else if (h->have_clientid && left >= 8 &&
		    !memcmp(in + i, ph_clientid, 8)) {
			uint32_t hi = htonl((uint32_t)(h->clientid >> 32));
			uint32_t lo = htonl((uint32_t)h->clientid);

			memcpy(out + o, &hi, 4);
			memcpy(out + o + 4, &lo, 4);
			i += 8;
			o += 8;
		} else if (h->have_sessionid && left >= 16 &&
			   !memcmp(in + i, ph_session, 16)) {
			memcpy(out + o, h->sessionid, 16);
			i += 16;
			o += 16;
		} else if (h->have_other && left >= 12 &&
			   !memcmp(in + i, ph_other, 12)) {
			memcpy(out + o, h->other, 12);
			i += 12;
			o += 12;
		} else if (h->have_fh && left >= sizeof(ph_fh) &&
			   !memcmp(in + i, ph_fh, sizeof(ph_fh))) {
			uint32_t be = htonl(h->fhlen);
			uint32_t padded = ROUND_UP(h->fhlen, 4);

			memcpy(out + o, &be, 4);
			memset(out + o + 4, 0, padded);
			memcpy(out + o + 4, h->fh, h->fhlen);
			i += sizeof(ph_fh);
			o += 4 + padded;
		} else {
			out[o++] = in[i++];
		}
	}
	*outlen = o;
	return out;
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
run_one(struct handed *h, uint8_t tag, const uint8_t *data, size_t len)
{
	struct rpc_cred cred;
	struct res_io rio;
	struct nfs4_reply_io io = { .pos = res_pos, .copy = res_copy, .ctx = &rio };
	XDR args, res, dec;
	COMPOUND4res r;
	enum rpc_disp disp;
	uint8_t *req;
	size_t reqlen;

	req = substitute(h, data, len, &reqlen);
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
		harvest(h, &r);
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
	struct nfs4_config cfg;
	int rc;

	volume_make();
	rpc_server_config_defaults(&rcfg);
	rcfg.nworkers = 2;
	rcfg.nblocking_workers = 1;
	rc = rpc_server_create(&rcfg, &fuzz_rpc);
	if (rc)
		fuzz_die("rpc_server_create", rc);
	nfs4_config_defaults(&cfg);
	cfg.grace_sec = 0;
	cfg.lease_sec = FUZZ_LEASE_SEC;
	cfg.max_slots = 8;
	cfg.max_sessions = 4;
	rc = nfs4_server_init(&cfg, fuzz_rpc, fuzz_fs, &exports_src, &fuzz_nfs);
	if (rc)
		fuzz_die("nfs4_server_init", rc);
}

static void
server_stop(void)
{
	if (!fuzz_nfs)
		return;
	nfs4_server_shutdown(fuzz_nfs);
	rpc_server_destroy(fuzz_rpc);
	fuzz_nfs = NULL;
	fuzz_rpc = NULL;
	volume_drop();
}

/* End the input's session and client ID, as a well-behaved client would. */
static void
teardown(struct handed *h)
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
	struct handed h;
	size_t off = 0;
	unsigned n = 0;

	if (fuzz_nfs && inputs_run % FUZZ_RESTART_EVERY == 0)
		server_stop();
	if (!fuzz_nfs)
		server_start();
	inputs_run++;
	memset(&h, 0, sizeof(h));
	snprintf(h.owner, sizeof(h.owner), "fz%09llu",
		 (unsigned long long)(inputs_run % 1000000000ull));
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
