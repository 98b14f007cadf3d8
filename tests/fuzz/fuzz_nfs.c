/*
 * fuzz_nfs.c - the scratch NFS server and the placeholders shared by the
 * NFS-level fuzz targets (see fuzz_nfs.h).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "common/exports.h"
#include "fs.h"
#include "vol.h"
#include "fuzz.h"
#include "fuzz_nfs.h"

static struct fs *nfs_fs;
static struct exports_table *nfs_exports;
static char nfs_vol_path[256];

/* --- the exports source (one table, never replaced) ----------------------- */

static const struct exports_table *
exp_get(void *ctx, void **tok, uint64_t *gen)
{
	*tok = NULL;
	*gen = 1;
	return nfs_exports;
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

static void
volume_make(const char *tag)
{
	const char *dir = getenv("TMPDIR");
	struct fs_create_args ca = { .type = FS_TYPE_DIR, .mode = 0755 };
	struct fs_inode *root, *pub;
	struct vol_mkfs_opts o = { .force = true };
	int rc;

	if (!dir || !*dir)
		dir = "/tmp";
	snprintf(nfs_vol_path, sizeof(nfs_vol_path), "%s/pmemnfs-fuzz-%s-%d",
		 dir, tag, (int)getpid());
	rc = vol_create(nfs_vol_path, FUZZ_NFS_VOL_SIZE, &o);
	if (rc)
		fuzz_die("vol_create", rc);
	rc = fs_mount(nfs_vol_path, 0, &nfs_fs);
	if (rc)
		fuzz_die("fs_mount", rc);
	/*
	 * The engine keeps the file open and mapped; nobody opens it by
	 * name again, so the name goes now and a crashed or never-stopped
	 * fuzzer (fuzz_rpc runs its server until exit) leaves no file.
	 */
	unlink(nfs_vol_path);
	rc = fs_iget(nfs_fs, fs_root_ino(nfs_fs), 0, &root);
	if (rc)
		fuzz_die("fs_iget(root)", rc);
	rc = fs_create(nfs_fs, root, "pub", &ca, &pub);
	if (rc)
		fuzz_die("fs_create(pub)", rc);
	fs_iput(nfs_fs, pub);
	fs_iput(nfs_fs, root);
}

/* See fuzz_nfs.h. */
void
fuzz_nfs_start(const char *tag, struct rpc_server *srv,
	       const char *exports_text, uint32_t lease_sec,
	       struct nfs4_server **out)
{
	struct nfs4_config cfg;
	char epath[256], err[CONF_ERR_MAX];
	int rc;

	volume_make(tag);
	rc = fuzz_write_tmp("exports", (const uint8_t *)exports_text,
			    strlen(exports_text), epath, sizeof(epath));
	if (rc)
		fuzz_die("exports file", rc);
	rc = exports_parse(epath, &nfs_exports, err);
	unlink(epath);
	if (rc) {
		fprintf(stderr, "fuzz: %s\n", err);
		fuzz_die("exports_parse", rc);
	}
	nfs4_config_defaults(&cfg);
	cfg.grace_sec = 0;
	cfg.lease_sec = lease_sec;
	cfg.max_slots = 8;
	cfg.max_sessions = 4;
	rc = nfs4_server_init(&cfg, srv, nfs_fs, &exports_src, out);
	if (rc)
		fuzz_die("nfs4_server_init", rc);
}

/* See fuzz_nfs.h.  The RPC server must be destroyed (or idle) already. */
void
fuzz_nfs_stop(struct nfs4_server *nsrv)
{
	int rc;

	nfs4_server_shutdown(nsrv);
	if (nfs_fs) {
		rc = fs_unmount(nfs_fs);
		nfs_fs = NULL;
		if (rc)
			fuzz_die("fs_unmount", rc);
	}
	unlink(nfs_vol_path);
	exports_free(nfs_exports);
	nfs_exports = NULL;
}

/* --- what the server handed out ------------------------------------------- */

/* See fuzz_nfs.h. */
void
fuzz_handed_init(struct fuzz_handed *h, uint64_t input_no)
{
	char buf[16];

	memset(h, 0, sizeof(*h));
	snprintf(buf, sizeof(buf), "fz%08llu",
		 (unsigned long long)(input_no % 100000000ull));
	memcpy(h->owner, buf, 10);
}

static void
harvest_stateid(struct fuzz_handed *h, const stateid4 *sid)
{
	memcpy(h->other, sid->other, NFS4_OTHER_SIZE);
	h->have_other = true;
}

/* See fuzz_nfs.h. */
void
fuzz_harvest(struct fuzz_handed *h, const COMPOUND4res *r)
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
static const char ph_owner[] = "fuzz-clien";
static const char ph_session[] = "SESSIONIDSESSION";
static const char ph_other[] = "STATEIDOTHER";
static const uint8_t ph_fh[] = { 0, 0, 0, 8, 'F', 'H', 'A', 'N', 'D', 'L', 'E', '!' };

/* See fuzz_nfs.h.  A handle placeholder may grow the bytes. */
uint8_t *
fuzz_substitute(const struct fuzz_handed *h, const uint8_t *in, size_t n,
		bool resize, size_t *outlen)
{
	/* Each 12-byte handle placeholder grows by at most NFS4_FHSIZE. */
	size_t cap = n + (n / sizeof(ph_fh) + 1) * NFS4_FHSIZE;
	uint8_t *out = malloc(cap ? cap : 1);
	size_t i = 0, o = 0;

	if (!out)
		fuzz_die("malloc", -ENOMEM);
	while (i < n) {
		size_t left = n - i;

		if (left >= 10 && !memcmp(in + i, ph_owner, 10)) {
			memcpy(out + o, h->owner, 10);
			i += 10;
			o += 10;
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
		} else if (resize && h->have_fh && left >= sizeof(ph_fh) &&
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
