/*
 * gen_seeds.c - write the seed corpora of fuzz_compound and fuzz_rpc:
 * valid COMPOUNDs encoded with rpcgen's XDR (EXCHANGE_ID, CREATE_SESSION,
 * SEQUENCE + PUTROOTFH + GETATTR, OPEN + WRITE + READ + CLOSE, locks,
 * directory ops, layouts, xattrs, the NFSv4.2 data ops, session and client
 * teardown) in fuzz_compound's input format, RPC streams in fuzz_rpc's
 * and attribute lists in fuzz_fattr's.  Formats and placeholders: see fuzz_compound.c, fuzz_rpc.c.
 *
 *	gen_seeds OUTDIR	creates OUTDIR/compound/, rpc/ and fattr/
 *
 * Exit status 0, or 1 with a message when a file cannot be written or a
 * seed does not encode.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common.h"
#include "nfs4_prot.h"

/* The placeholders fuzz_compound substitutes (see there). */
#define PH_CLIENTID	0x434c49454e544944ull	/* "CLIENTID" */
static const char ph_session[NFS4_SESSIONID_SIZE] = "SESSIONIDSESSION";
static const char ph_other[NFS4_OTHER_SIZE] = "STATEIDOTHER";
static char ph_fh[] = "FHANDLE!";

#define SEED_MAX	(256 * 1024)
#define MAX_OPS		16

/* fuzz_rpc's program numbers. */
#define FUZZ_PROG	0x2ffff0f0u
#define FUZZ_PROG_SYSONLY 0x2ffff0f1u

struct seed {
	uint8_t	buf[SEED_MAX];
	size_t	len;
	uint32_t seqid;		/* next SEQUENCE seqid on slot 0 */
};

static const char *outdir;
static int failures;

static void
seed_write(const char *sub, const char *name, const struct seed *s)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", outdir, sub, name);
	f = fopen(path, "wb");
	if (!f || fwrite(s->buf, 1, s->len, f) != s->len || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		failures++;
	}
}

/* Append one segment: tag, 16-bit length, bytes. */
static void
seed_segment(struct seed *s, uint8_t tag, const void *p, size_t n)
{
	if (n > 0xffff || s->len + 3 + n > sizeof(s->buf)) {
		fprintf(stderr, "gen_seeds: segment of %zu bytes too big\n", n);
		failures++;
		return;
	}
	s->buf[s->len++] = tag;
	s->buf[s->len++] = (uint8_t)(n >> 8);
	s->buf[s->len++] = (uint8_t)n;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

/* One COMPOUND4args segment for fuzz_compound. */
static void
compound(struct seed *s, uint8_t tag, uint32_t minor, nfs_argop4 *ops,
	 unsigned n)
{
	static uint8_t enc[65536];
	COMPOUND4args a;
	XDR x;

	memset(&a, 0, sizeof(a));
	a.tag.utf8string_val = (char *)"fuzz";
	a.tag.utf8string_len = 4;
	a.minorversion = minor;
	a.argarray.argarray_len = n;
	a.argarray.argarray_val = ops;
	xdrmem_create(&x, (char *)enc, sizeof(enc), XDR_ENCODE);
	if (!xdr_COMPOUND4args(&x, &a)) {
		fprintf(stderr, "gen_seeds: a COMPOUND does not encode\n");
		failures++;
		return;
	}
	seed_segment(s, tag, enc, xdr_getpos(&x));
	xdr_destroy(&x);
}

/* --- ops ------------------------------------------------------------------ */

static utf8string
str(const char *p)
{
	utf8string u = { (u_int)strlen(p), (char *)p };

	return u;
}

static stateid4
current_sid(void)
{
	stateid4 sid = { .seqid = 1 };	/* the "current stateid" */

	return sid;
}

static stateid4
placeholder_sid(uint32_t seqid)
{
	stateid4 sid = { .seqid = seqid };

	memcpy(sid.other, ph_other, NFS4_OTHER_SIZE);
	return sid;
}

static uint32_t mask_words[3];

static bitmap4
attr_mask(void)
{
	/* type, change, size, fileid, mode, numlinks, owner, times. */
	mask_words[0] = 1u << FATTR4_TYPE | 1u << FATTR4_CHANGE |
			1u << FATTR4_SIZE | 1u << FATTR4_FILEID |
			1u << FATTR4_SUPPORTED_ATTRS | 1u << FATTR4_FSID |
			1u << FATTR4_LEASE_TIME | 1u << FATTR4_FILEHANDLE;
	mask_words[1] = 1u << (FATTR4_MODE - 32) | 1u << (FATTR4_NUMLINKS - 32) |
			1u << (FATTR4_OWNER - 32) |
			1u << (FATTR4_OWNER_GROUP - 32) |
			1u << (FATTR4_SPACE_USED - 32) |
			1u << (FATTR4_TIME_MODIFY - 32) |
			1u << (FATTR4_TIME_ACCESS - 32);
	mask_words[2] = 1u << (FATTR4_SUPPATTR_EXCLCREAT - 64);
	return (bitmap4){ 3, mask_words };
}

/* fattr4 with mode (and optionally size, owner) for SETATTR/OPEN/CREATE. */
static uint32_t set_words[2];
static uint8_t set_vals[64];

static fattr4
set_attrs(uint32_t mode, bool with_size, uint64_t size, bool with_owner)
{
	fattr4 f;
	size_t o = 0;
	uint32_t be;

	set_words[0] = with_size ? 1u << FATTR4_SIZE : 0;
	set_words[1] = 1u << (FATTR4_MODE - 32) |
		       (with_owner ? 1u << (FATTR4_OWNER - 32) : 0);
	if (with_size) {
		be = htonl((uint32_t)(size >> 32));
		memcpy(set_vals + o, &be, 4);
		be = htonl((uint32_t)size);
		memcpy(set_vals + o + 4, &be, 4);
		o += 8;
	}
	be = htonl(mode);
	memcpy(set_vals + o, &be, 4);
	o += 4;
	if (with_owner) {
		be = htonl(4);
		memcpy(set_vals + o, &be, 4);
		memcpy(set_vals + o + 4, "1000", 4);
		o += 8;
	}
	f.attrmask.bitmap4_len = 2;
	f.attrmask.bitmap4_val = set_words;
	f.attr_vals.attrlist4_len = (u_int)o;
	f.attr_vals.attrlist4_val = (char *)set_vals;
	return f;
}

static nfs_argop4
op_exchange_id(const char *owner)
{
	nfs_argop4 op = { .argop = OP_EXCHANGE_ID };
	EXCHANGE_ID4args *a = &op.nfs_argop4_u.opexchange_id;

	memcpy(a->eia_clientowner.co_verifier, "verifier", NFS4_VERIFIER_SIZE);
	a->eia_clientowner.co_ownerid.co_ownerid_len = (u_int)strlen(owner);
	a->eia_clientowner.co_ownerid.co_ownerid_val = (char *)owner;
	a->eia_flags = EXCHGID4_FLAG_USE_PNFS_MDS |
		       EXCHGID4_FLAG_SUPP_MOVED_REFER;
	a->eia_state_protect.spa_how = SP4_NONE;
	return op;
}

static nfs_argop4
op_create_session(void)
{
	nfs_argop4 op = { .argop = OP_CREATE_SESSION };
	CREATE_SESSION4args *a = &op.nfs_argop4_u.opcreate_session;
	static callback_sec_parms4 sec = { .cb_secflavor = AUTH_NONE };
	channel_attrs4 ch = {
		.ca_maxrequestsize = 1049620,
		.ca_maxresponsesize = 1049480,
		.ca_maxresponsesize_cached = 7584,
		.ca_maxoperations = 16,
		.ca_maxrequests = 8,
	};

	a->csa_clientid = PH_CLIENTID;
	a->csa_sequence = 1;
	a->csa_flags = CREATE_SESSION4_FLAG_CONN_BACK_CHAN;
	a->csa_fore_chan_attrs = ch;
	ch.ca_maxrequestsize = 4096;
	ch.ca_maxresponsesize = 4096;
	ch.ca_maxresponsesize_cached = 0;
	ch.ca_maxoperations = 2;
	ch.ca_maxrequests = 1;
	a->csa_back_chan_attrs = ch;
	a->csa_cb_program = 0x40000000;
	a->csa_sec_parms.csa_sec_parms_len = 1;
	a->csa_sec_parms.csa_sec_parms_val = &sec;
	return op;
}

static nfs_argop4
op_sequence(struct seed *s)
{
	nfs_argop4 op = { .argop = OP_SEQUENCE };
	SEQUENCE4args *a = &op.nfs_argop4_u.opsequence;

	memcpy(a->sa_sessionid, ph_session, NFS4_SESSIONID_SIZE);
	a->sa_sequenceid = s->seqid++;
	a->sa_slotid = 0;
	a->sa_highest_slotid = 0;
	a->sa_cachethis = TRUE;
	return op;
}

static nfs_argop4
op_void(nfs_opnum4 num)
{
	nfs_argop4 op = { .argop = num };

	return op;
}

static nfs_argop4
op_getattr(void)
{
	nfs_argop4 op = { .argop = OP_GETATTR };

	op.nfs_argop4_u.opgetattr.attr_request = attr_mask();
	return op;
}

static nfs_argop4
op_lookup(const char *name)
{
	nfs_argop4 op = { .argop = OP_LOOKUP };

	op.nfs_argop4_u.oplookup.objname = str(name);
	return op;
}

static nfs_argop4
op_putfh_placeholder(void)
{
	nfs_argop4 op = { .argop = OP_PUTFH };

	op.nfs_argop4_u.opputfh.object.nfs_fh4_len = 8;
	op.nfs_argop4_u.opputfh.object.nfs_fh4_val = ph_fh;
	return op;
}

static nfs_argop4
op_open(const char *name, bool create, createmode4 mode)
{
	nfs_argop4 op = { .argop = OP_OPEN };
	OPEN4args *a = &op.nfs_argop4_u.opopen;

	a->share_access = OPEN4_SHARE_ACCESS_BOTH;
	a->share_deny = OPEN4_SHARE_DENY_NONE;
	a->owner.clientid = PH_CLIENTID;
	a->owner.owner.owner_len = 6;
	a->owner.owner.owner_val = (char *)"owner1";
	if (create) {
		a->openhow.opentype = OPEN4_CREATE;
		a->openhow.openflag4_u.how.mode = mode;
		if (mode == EXCLUSIVE4_1) {
			creatverfattr *cv = &a->openhow.openflag4_u.how
				.createhow4_u.ch_createboth;

			memcpy(cv->cva_verf, "exclverf", NFS4_VERIFIER_SIZE);
			cv->cva_attrs = set_attrs(0600, false, 0, false);
		} else if (mode == EXCLUSIVE4) {
			memcpy(a->openhow.openflag4_u.how.createhow4_u.createverf,
			       "exclverf", NFS4_VERIFIER_SIZE);
		} else {
			a->openhow.openflag4_u.how.createhow4_u.createattrs =
				set_attrs(0644, true, 0, false);
		}
	} else {
		a->openhow.opentype = OPEN4_NOCREATE;
	}
	a->claim.claim = CLAIM_NULL;
	a->claim.open_claim4_u.file = str(name);
	return op;
}

static nfs_argop4
op_write(uint64_t off, const char *data, stable_how4 how)
{
	nfs_argop4 op = { .argop = OP_WRITE };
	WRITE4args *a = &op.nfs_argop4_u.opwrite;

	a->stateid = current_sid();
	a->offset = off;
	a->stable = how;
	a->data.data_len = (u_int)strlen(data);
	a->data.data_val = (char *)data;
	return op;
}

static nfs_argop4
op_read(stateid4 sid, uint64_t off, uint32_t count)
{
	nfs_argop4 op = { .argop = OP_READ };

	op.nfs_argop4_u.opread.stateid = sid;
	op.nfs_argop4_u.opread.offset = off;
	op.nfs_argop4_u.opread.count = count;
	return op;
}

static nfs_argop4
op_close(stateid4 sid)
{
	nfs_argop4 op = { .argop = OP_CLOSE };

	op.nfs_argop4_u.opclose.open_stateid = sid;
	return op;
}

static nfs_argop4
op_create(nfs_ftype4 type, const char *name, const char *target)
{
	nfs_argop4 op = { .argop = OP_CREATE };
	CREATE4args *a = &op.nfs_argop4_u.opcreate;

	a->objtype.type = type;
	if (type == NF4LNK) {
		a->objtype.createtype4_u.linkdata.utf8string_len =
			(u_int)strlen(target);
		a->objtype.createtype4_u.linkdata.utf8string_val =
			(char *)target;
	}
	a->objname = str(name);
	a->createattrs = set_attrs(0755, false, 0, false);
	return op;
}

static nfs_argop4
op_name(nfs_opnum4 num, const char *name)
{
	nfs_argop4 op = { .argop = num };

	switch (num) {
	case OP_REMOVE:
		op.nfs_argop4_u.opremove.target = str(name);
		break;
	case OP_LINK:
		op.nfs_argop4_u.oplink.newname = str(name);
		break;
	case OP_SECINFO:
		op.nfs_argop4_u.opsecinfo.name = str(name);
		break;
	default:
		break;
	}
	return op;
}

static nfs_argop4
op_rename(const char *from, const char *to)
{
	nfs_argop4 op = { .argop = OP_RENAME };

	op.nfs_argop4_u.oprename.oldname = str(from);
	op.nfs_argop4_u.oprename.newname = str(to);
	return op;
}

static nfs_argop4
op_readdir(void)
{
	nfs_argop4 op = { .argop = OP_READDIR };

	op.nfs_argop4_u.opreaddir.dircount = 4096;
	op.nfs_argop4_u.opreaddir.maxcount = 8192;
	op.nfs_argop4_u.opreaddir.attr_request = attr_mask();
	return op;
}

static nfs_argop4
op_setattr(stateid4 sid, uint64_t size)
{
	nfs_argop4 op = { .argop = OP_SETATTR };

	op.nfs_argop4_u.opsetattr.stateid = sid;
	op.nfs_argop4_u.opsetattr.obj_attributes =
		set_attrs(0640, true, size, true);
	return op;
}

static nfs_argop4
op_lock(bool new_owner, stateid4 sid, uint64_t off, uint64_t len)
{
	nfs_argop4 op = { .argop = OP_LOCK };
	LOCK4args *a = &op.nfs_argop4_u.oplock;

	a->locktype = WRITE_LT;
	a->offset = off;
	a->length = len;
	a->locker.new_lock_owner = new_owner;
	if (new_owner) {
		open_to_lock_owner4 *o = &a->locker.locker4_u.open_owner;

		o->open_stateid = sid;
		o->lock_owner.clientid = PH_CLIENTID;
		o->lock_owner.owner.owner_len = 5;
		o->lock_owner.owner.owner_val = (char *)"lock1";
	} else {
		a->locker.locker4_u.lock_owner.lock_stateid = sid;
	}
	return op;
}

static nfs_argop4
op_locku(stateid4 sid, uint64_t off, uint64_t len)
{
	nfs_argop4 op = { .argop = OP_LOCKU };

	op.nfs_argop4_u.oplocku.locktype = WRITE_LT;
	op.nfs_argop4_u.oplocku.lock_stateid = sid;
	op.nfs_argop4_u.oplocku.offset = off;
	op.nfs_argop4_u.oplocku.length = len;
	return op;
}

static nfs_argop4
op_lockt(uint64_t off, uint64_t len)
{
	nfs_argop4 op = { .argop = OP_LOCKT };

	op.nfs_argop4_u.oplockt.locktype = READ_LT;
	op.nfs_argop4_u.oplockt.offset = off;
	op.nfs_argop4_u.oplockt.length = len;
	op.nfs_argop4_u.oplockt.owner.clientid = PH_CLIENTID;
	op.nfs_argop4_u.oplockt.owner.owner.owner_len = 5;
	op.nfs_argop4_u.oplockt.owner.owner.owner_val = (char *)"lock2";
	return op;
}

static nfs_argop4
op_layoutget(layoutiomode4 mode, stateid4 sid)
{
	nfs_argop4 op = { .argop = OP_LAYOUTGET };
	LAYOUTGET4args *a = &op.nfs_argop4_u.oplayoutget;

	a->loga_layout_type = LAYOUT4_BLOCK_VOLUME;
	a->loga_iomode = mode;
	a->loga_offset = 0;
	a->loga_length = NFS4_UINT64_MAX;
	a->loga_minlength = 4096;
	a->loga_stateid = sid;
	a->loga_maxcount = 4096;
	return op;
}

static nfs_argop4
op_getdeviceinfo(void)
{
	nfs_argop4 op = { .argop = OP_GETDEVICEINFO };

	op.nfs_argop4_u.opgetdeviceinfo.gdia_layout_type = LAYOUT4_BLOCK_VOLUME;
	op.nfs_argop4_u.opgetdeviceinfo.gdia_maxcount = 4096;
	return op;
}

static nfs_argop4
op_layoutcommit(stateid4 sid)
{
	nfs_argop4 op = { .argop = OP_LAYOUTCOMMIT };
	LAYOUTCOMMIT4args *a = &op.nfs_argop4_u.oplayoutcommit;
	/* pnfs_block_layoutupdate4: no extents. */
	static char body[4];

	a->loca_offset = 0;
	a->loca_length = 8192;
	a->loca_stateid = sid;
	a->loca_last_write_offset.no_newoffset = TRUE;
	a->loca_last_write_offset.newoffset4_u.no_offset = 8191;
	a->loca_layoutupdate.lou_type = LAYOUT4_BLOCK_VOLUME;
	a->loca_layoutupdate.lou_body.lou_body_len = sizeof(body);
	a->loca_layoutupdate.lou_body.lou_body_val = body;
	return op;
}

static nfs_argop4
op_layoutreturn(stateid4 sid)
{
	nfs_argop4 op = { .argop = OP_LAYOUTRETURN };
	LAYOUTRETURN4args *a = &op.nfs_argop4_u.oplayoutreturn;

	a->lora_layout_type = LAYOUT4_BLOCK_VOLUME;
	a->lora_iomode = LAYOUTIOMODE4_ANY;
	a->lora_layoutreturn.lr_returntype = LAYOUTRETURN4_FILE;
	a->lora_layoutreturn.layoutreturn4_u.lr_layout.lrf_length =
		NFS4_UINT64_MAX;
	a->lora_layoutreturn.layoutreturn4_u.lr_layout.lrf_stateid = sid;
	return op;
}

static nfs_argop4
op_range(nfs_opnum4 num, stateid4 sid, uint64_t off, uint64_t len)
{
	nfs_argop4 op = { .argop = num };

	switch (num) {
	case OP_ALLOCATE:
		op.nfs_argop4_u.opallocate.aa_stateid = sid;
		op.nfs_argop4_u.opallocate.aa_offset = off;
		op.nfs_argop4_u.opallocate.aa_length = len;
		break;
	case OP_DEALLOCATE:
		op.nfs_argop4_u.opdeallocate.da_stateid = sid;
		op.nfs_argop4_u.opdeallocate.da_offset = off;
		op.nfs_argop4_u.opdeallocate.da_length = len;
		break;
	case OP_SEEK:
		op.nfs_argop4_u.opseek.sa_stateid = sid;
		op.nfs_argop4_u.opseek.sa_offset = off;
		op.nfs_argop4_u.opseek.sa_what = len ? NFS4_CONTENT_HOLE :
						       NFS4_CONTENT_DATA;
		break;
	case OP_READ_PLUS:
		op.nfs_argop4_u.opread_plus.rpa_stateid = sid;
		op.nfs_argop4_u.opread_plus.rpa_offset = off;
		op.nfs_argop4_u.opread_plus.rpa_count = (count4)len;
		break;
	case OP_COMMIT:
		op.nfs_argop4_u.opcommit.offset = off;
		op.nfs_argop4_u.opcommit.count = (count4)len;
		break;
	case OP_CLONE:
		op.nfs_argop4_u.opclone.cl_src_stateid = sid;
		op.nfs_argop4_u.opclone.cl_dst_stateid = sid;
		op.nfs_argop4_u.opclone.cl_dst_offset = off;
		op.nfs_argop4_u.opclone.cl_count = len;
		break;
	case OP_COPY:
		op.nfs_argop4_u.opcopy.ca_src_stateid = sid;
		op.nfs_argop4_u.opcopy.ca_dst_stateid = sid;
		op.nfs_argop4_u.opcopy.ca_dst_offset = off;
		op.nfs_argop4_u.opcopy.ca_count = len;
		op.nfs_argop4_u.opcopy.ca_synchronous = TRUE;
		break;
	default:
		break;
	}
	return op;
}

static nfs_argop4
op_xattr(nfs_opnum4 num, const char *name, const char *val)
{
	nfs_argop4 op = { .argop = num };

	switch (num) {
	case OP_SETXATTR:
		op.nfs_argop4_u.opsetxattr.sxa_option = SETXATTR4_EITHER;
		op.nfs_argop4_u.opsetxattr.sxa_key = (xattrkey4)str(name);
		op.nfs_argop4_u.opsetxattr.sxa_value.xattrvalue4_len =
			(u_int)strlen(val);
		op.nfs_argop4_u.opsetxattr.sxa_value.xattrvalue4_val =
			(char *)val;
		break;
	case OP_GETXATTR:
		op.nfs_argop4_u.opgetxattr.gxa_name = (xattrkey4)str(name);
		break;
	case OP_REMOVEXATTR:
		op.nfs_argop4_u.opremovexattr.rxa_name = (xattrkey4)str(name);
		break;
	case OP_LISTXATTRS:
		op.nfs_argop4_u.oplistxattrs.lxa_maxcount = 4096;
		break;
	default:
		break;
	}
	return op;
}

/* --- the compound seeds ---------------------------------------------------- */

/* EXCHANGE_ID, then CREATE_SESSION: every seed after the first starts so. */
static void
setup(struct seed *s)
{
	nfs_argop4 ops[1];

	memset(s, 0, sizeof(*s));
	s->seqid = 1;
	ops[0] = op_exchange_id("fuzz-client");
	compound(s, 0, 1, ops, 1);
	ops[0] = op_create_session();
	compound(s, 0, 1, ops, 1);
	{
		/* §18.51.3: no new state before the client's reclaims end. */
		nfs_argop4 rc[] = {
			op_sequence(s), op_void(OP_RECLAIM_COMPLETE),
		};

		compound(s, 0, 1, rc, ARRAY_SIZE(rc));
	}
}

/* SEQUENCE + PUTROOTFH + OPEN(create name) + GETFH: leaves the handle. */
static void
open_file(struct seed *s, const char *name, createmode4 mode)
{
	nfs_argop4 ops[] = {
		op_sequence(s), op_void(OP_PUTROOTFH),
		op_open(name, true, mode), op_void(OP_GETFH),
	};

	compound(s, 0, 1, ops, ARRAY_SIZE(ops));
}

static struct seed S;

static void
gen_compound(void)
{
	struct seed *s = &S;

	memset(s, 0, sizeof(*s));
	{
		nfs_argop4 ops[] = { op_exchange_id("fuzz-client") };

		compound(s, 0, 1, ops, 1);
		seed_write("compound", "exchange_id", s);
	}
	setup(s);
	seed_write("compound", "create_session", s);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_void(OP_PUTROOTFH), op_getattr(),
			op_void(OP_GETFH),
		};

		compound(s, 0, 1, ops, ARRAY_SIZE(ops));
		seed_write("compound", "getattr_root", s);
	}

	setup(s);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_void(OP_PUTROOTFH),
			op_open("f", true, UNCHECKED4), op_void(OP_GETFH),
			op_write(0, "hello, world", FILE_SYNC4),
			op_read(current_sid(), 0, 64), op_getattr(),
		};

		compound(s, 0, 1, ops, ARRAY_SIZE(ops));
	}
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_putfh_placeholder(),
			op_read(placeholder_sid(0), 0, 4096),
			op_range(OP_COMMIT, current_sid(), 0, 0),
			op_close(placeholder_sid(0)),
		};

		compound(s, 0, 1, ops, ARRAY_SIZE(ops));
		seed_write("compound", "open_write_read", s);
	}

	setup(s);
	open_file(s, "locked", GUARDED4);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_putfh_placeholder(),
			op_lock(true, placeholder_sid(0), 0, 100),
			op_lockt(50, 10),
			op_locku(current_sid(), 0, 100),
			op_setattr(placeholder_sid(0), 4096),
		};

		compound(s, 1, 1, ops, ARRAY_SIZE(ops));
		seed_write("compound", "locks", s);
	}

	setup(s);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_void(OP_PUTROOTFH),
			op_create(NF4DIR, "dir", NULL), op_void(OP_GETFH),
			op_create(NF4LNK, "link", "../target"),
			op_void(OP_READLINK), op_void(OP_PUTROOTFH),
			op_lookup("dir"), op_void(OP_SAVEFH),
			op_rename("link", "link2"), op_readdir(),
			op_name(OP_REMOVE, "link2"), op_void(OP_LOOKUPP),
		};

		compound(s, 0, 1, ops, ARRAY_SIZE(ops));
	}
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_void(OP_PUTROOTFH),
			op_lookup("pub"), op_void(OP_SAVEFH),
			op_void(OP_PUTPUBFH), op_void(OP_RESTOREFH),
			op_name(OP_SECINFO, "dir"), op_void(OP_PUTROOTFH),
			op_readdir(), op_void(OP_SECINFO_NO_NAME),
		};

		ops[9].nfs_argop4_u.opsecinfo_no_name = SECINFO_STYLE4_PARENT;
		compound(s, 2, 1, ops, ARRAY_SIZE(ops));
		seed_write("compound", "namespace", s);
	}

	setup(s);
	open_file(s, "layout", EXCLUSIVE4_1);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_putfh_placeholder(),
			op_layoutget(LAYOUTIOMODE4_RW, placeholder_sid(0)),
			op_getdeviceinfo(),
			op_layoutcommit(current_sid()),
			op_layoutreturn(current_sid()),
		};

		compound(s, 0, 1, ops, ARRAY_SIZE(ops));
		seed_write("compound", "layouts", s);
	}

	setup(s);
	open_file(s, "v42", UNCHECKED4);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_putfh_placeholder(),
			op_range(OP_ALLOCATE, placeholder_sid(0), 0, 65536),
			op_write(4096, "data in the middle", UNSTABLE4),
			op_range(OP_SEEK, placeholder_sid(0), 0, 0),
			op_range(OP_DEALLOCATE, placeholder_sid(0), 0, 4096),
			op_range(OP_READ_PLUS, placeholder_sid(0), 0, 8192),
			op_void(OP_SAVEFH),
			op_range(OP_CLONE, placeholder_sid(0), 65536, 4096),
			op_range(OP_COPY, placeholder_sid(0), 131072, 4096),
		};

		ops[3].nfs_argop4_u.opwrite.stateid = placeholder_sid(0);
		compound(s, 0, 2, ops, ARRAY_SIZE(ops));
	}
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_putfh_placeholder(),
			op_xattr(OP_SETXATTR, "user.a", "value"),
			op_xattr(OP_GETXATTR, "user.a", NULL),
			op_xattr(OP_LISTXATTRS, NULL, NULL),
			op_xattr(OP_REMOVEXATTR, "user.a", NULL),
		};

		compound(s, 0, 2, ops, ARRAY_SIZE(ops));
		seed_write("compound", "v42_data_xattr", s);
	}

	setup(s);
	open_file(s, "teardown", UNCHECKED4);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_putfh_placeholder(),
			op_void(OP_TEST_STATEID), op_void(OP_FREE_STATEID),
			op_void(OP_RECLAIM_COMPLETE),
		};
		static stateid4 sids[2];

		sids[0] = placeholder_sid(0);
		sids[1] = current_sid();
		ops[2].nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_len = 2;
		ops[2].nfs_argop4_u.optest_stateid.ts_stateids.ts_stateids_val = sids;
		ops[3].nfs_argop4_u.opfree_stateid.fsa_stateid = placeholder_sid(0);
		compound(s, 0, 1, ops, ARRAY_SIZE(ops));
	}
	{
		nfs_argop4 ops[] = { op_void(OP_DESTROY_SESSION) };

		memcpy(ops[0].nfs_argop4_u.opdestroy_session.dsa_sessionid,
		       ph_session, NFS4_SESSIONID_SIZE);
		compound(s, 0, 1, ops, 1);
		ops[0] = op_void(OP_DESTROY_CLIENTID);
		ops[0].nfs_argop4_u.opdestroy_clientid.dca_clientid = PH_CLIENTID;
		compound(s, 0, 1, ops, 1);
		seed_write("compound", "teardown", s);
	}

	/* The same session used with other credentials; a replayed slot. */
	setup(s);
	{
		nfs_argop4 ops[] = {
			op_sequence(s), op_void(OP_PUTROOTFH),
			op_open("f", true, UNCHECKED4), op_void(OP_GETFH),
		};

		compound(s, 0, 1, ops, ARRAY_SIZE(ops));
		s->seqid--;
		ops[0] = op_sequence(s);
		compound(s, 1, 1, ops, ARRAY_SIZE(ops));	/* replay */
		ops[0] = op_sequence(s);
		ops[2] = op_open("f", false, UNCHECKED4);
		compound(s, 3, 1, ops, ARRAY_SIZE(ops));
		seed_write("compound", "creds_replay", s);
	}
}

static void put32(uint8_t *p, uint32_t v);

/* --- the fattr4 seeds (fuzz_fattr: minor, nwords, words, values) ---------- */

static void
fattr_seed(const char *name, uint8_t minor, const uint32_t *w, uint8_t nw,
	   const uint32_t *v, size_t nv, const char *owner)
{
	struct seed *s = &S;

	memset(s, 0, sizeof(*s));
	s->buf[s->len++] = minor;
	s->buf[s->len++] = nw;
	for (uint8_t i = 0; i < nw; i++, s->len += 4)
		put32(s->buf + s->len, w[i]);
	for (size_t i = 0; i < nv; i++, s->len += 4)
		put32(s->buf + s->len, v[i]);
	if (owner) {
		size_t n = strlen(owner);

		put32(s->buf + s->len, (uint32_t)n);
		s->len += 4;
		memcpy(s->buf + s->len, owner, n);
		s->len += ROUND_UP(n, 4);
	}
	seed_write("fattr", name, s);
}

static void
gen_fattr(void)
{
	uint32_t w[3];
	uint32_t v[8];

	w[0] = 0;
	w[1] = 1u << (FATTR4_MODE - 32);
	v[0] = 0644;
	fattr_seed("mode", 1, w, 2, v, 1, NULL);

	w[0] = 1u << FATTR4_SIZE;
	w[1] = 1u << (FATTR4_MODE - 32) | 1u << (FATTR4_OWNER - 32);
	v[0] = 0;
	v[1] = 4096;
	v[2] = 0600;
	fattr_seed("size_mode_owner", 1, w, 2, v, 3, "root");
	fattr_seed("owner_domain", 2, w, 2, v, 3, "1000@example.org");

	w[0] = 0;
	w[1] = 1u << (FATTR4_OWNER_GROUP - 32) |
	       1u << (FATTR4_TIME_ACCESS_SET - 32) |
	       1u << (FATTR4_TIME_CREATE - 32) |
	       1u << (FATTR4_TIME_MODIFY_SET - 32);
	/* owner_group first in bit order: values follow bit order. */
	fattr_seed("group_only", 1, w, 2, NULL, 0, "users");
	v[0] = SET_TO_CLIENT_TIME4;
	v[1] = 0;
	v[2] = 1700000000;
	v[3] = 999999999;
	v[4] = 0;
	v[5] = 1600000000;
	v[6] = 0;
	v[7] = SET_TO_SERVER_TIME4;
	w[1] &= ~(1u << (FATTR4_OWNER_GROUP - 32));
	fattr_seed("times", 1, w, 2, v, 8, NULL);
}

/* --- the rpc seeds ---------------------------------------------------------- */

static void
put32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

/*
 * A call record (mark included): xid, CALL, rpcvers 2, prog, vers, proc,
 * credential (AUTH_NONE, or AUTH_SYS when sys), AUTH_NONE verifier, body.
 */
static size_t
seed_call(uint8_t *out, uint32_t xid, uint32_t prog, uint32_t vers,
	 uint32_t proc, bool sys, const void *body, size_t blen)
{
	size_t o = 4;
	uint32_t hdr[] = { xid, 0, 2, prog, vers, proc };

	for (size_t i = 0; i < ARRAY_SIZE(hdr); i++, o += 4)
		put32(out + o, hdr[i]);
	if (sys) {
		/* stamp, "fuzz", uid 1000, gid 1000, 2 gids */
		uint32_t cred[] = { 1, 32, 7, 4, 0, 1000, 1000, 2, 1000, 27 };

		for (size_t i = 0; i < ARRAY_SIZE(cred); i++, o += 4)
			put32(out + o, cred[i]);
		memcpy(out + 4 + 4 * 6 + 4 * 4, "fuzz", 4);
	} else {
		put32(out + o, 0);
		put32(out + o + 4, 0);
		o += 8;
	}
	put32(out + o, 0);
	put32(out + o + 4, 0);
	o += 8;
	if (blen)
		memcpy(out + o, body, blen);
	o += blen;
	put32(out, (uint32_t)(o - 4) | 0x80000000u);
	return o;
}

static void
gen_rpc(void)
{
	static uint8_t rec[8192];
	uint8_t body[64];
	struct seed *s = &S;
	size_t n;

	memset(s, 0, sizeof(*s));
	n = seed_call(rec, 1, FUZZ_PROG, 1, 0, false, NULL, 0);
	seed_segment(s, 0, rec, n);
	seed_write("rpc", "null", s);

	memset(s, 0, sizeof(*s));
	for (uint8_t mode = 0; mode < 5; mode++) {
		put32(body, 8);
		memset(body + 4, 0x11 * (mode + 1), 8);
		body[4] = mode;
		n = seed_call(rec, 10 + mode, FUZZ_PROG, 2, 1, mode & 1, body, 12);
		seed_segment(s, 0, rec, n);
	}
	seed_write("rpc", "echo_modes", s);

	/* A back-channel call and its reply (a CB_COMPOUND4res body). */
	memset(s, 0, sizeof(*s));
	put32(body, 4);
	memcpy(body + 4, "ping", 4);
	n = seed_call(rec, 20, FUZZ_PROG, 3, 2, true, body, 8);
	seed_segment(s, 0, rec, n);
	{
		/* MSG_ACCEPTED, AUTH_NONE verf, SUCCESS, CB_COMPOUND4res:
		 * status 0, tag "", 1 result: CB_SEQUENCE NFS4_OK + resok. */
		uint32_t r[] = { 0, 0, 0, 0, 0, 0, 1, OP_CB_SEQUENCE, 0,
				 0x53455353, 0x494f4e49, 0x44534553, 0x53494f4e,
				 1, 0, 0, 0 };
		uint8_t rb[sizeof(r)];

		for (size_t i = 0; i < ARRAY_SIZE(r); i++)
			put32(rb + 4 * i, r[i]);
		seed_segment(s, 2, rb, sizeof(rb));
	}
	seed_write("rpc", "callback", s);

	/* Rejections: rpcvers 3, bad credential, prog/vers/proc, weak auth. */
	memset(s, 0, sizeof(*s));
	n = seed_call(rec, 30, FUZZ_PROG, 1, 0, false, NULL, 0);
	put32(rec + 12, 3);
	seed_segment(s, 0, rec, n);
	n = seed_call(rec, 31, 100003, 4, 1, true, NULL, 0);
	seed_segment(s, 0, rec, n);
	n = seed_call(rec, 32, FUZZ_PROG, 9, 0, false, NULL, 0);
	seed_segment(s, 0, rec, n);
	n = seed_call(rec, 33, FUZZ_PROG, 1, 7, false, NULL, 0);
	seed_segment(s, 0, rec, n);
	n = seed_call(rec, 34, FUZZ_PROG_SYSONLY, 4, 0, false, NULL, 0);
	seed_segment(s, 3, rec, n);
	n = seed_call(rec, 35, FUZZ_PROG, 1, 0, false, NULL, 0);
	put32(rec + 4 + 24, 6);		/* RPCSEC_GSS credential */
	seed_segment(s, 0, rec, n);
	seed_write("rpc", "rejections", s);

	/* One call in three fragments, the header split across writes. */
	memset(s, 0, sizeof(*s));
	n = seed_call(rec + 8, 40, FUZZ_PROG, 1, 1, true, "\0\0\0\4abcd", 8);
	{
		size_t body_len = n - 4;
		uint8_t *p = rec + 12;
		uint8_t frag[8192];
		size_t a = 10, b = 20;

		put32(frag, (uint32_t)a);
		memcpy(frag + 4, p, a);
		seed_segment(s, 0, frag, 2);
		seed_segment(s, 0, frag + 2, 2 + a);
		put32(frag, (uint32_t)b);
		memcpy(frag + 4, p + a, b);
		seed_segment(s, 1, frag, 4 + b);
		put32(frag, (uint32_t)(body_len - a - b) | 0x80000000u);
		memcpy(frag + 4, p + a + b, body_len - a - b);
		seed_segment(s, 0, frag, 4 + body_len - a - b);
	}
	seed_write("rpc", "fragments", s);

	/* More calls than may be in flight, pipelined in one write. */
	memset(s, 0, sizeof(*s));
	n = 0;
	for (uint32_t i = 0; i < 8; i++)
		n += seed_call(rec + n, 50 + i, FUZZ_PROG, 1, i % 2, i & 2,
			      "\0\0\0\4\2\377\0\0", 8);
	seed_segment(s, 0, rec, n);
	seed_write("rpc", "pipeline", s);
}

/* One NFS COMPOUND as an RPC call record segment (AUTH_SYS root). */
static void
nfs_call(struct seed *s, uint8_t tag, uint32_t xid, nfs_argop4 *ops,
	 unsigned n)
{
	static uint8_t enc[16384], rec[16384 + 256];
	struct seed tmp;
	size_t len;

	/* Encode through compound() into a scratch seed, strip its header. */
	memset(&tmp, 0, sizeof(tmp));
	compound(&tmp, 0, 1, ops, n);
	if (tmp.len < 3)
		return;
	memcpy(enc, tmp.buf + 3, tmp.len - 3);
	len = seed_call(rec, xid, 100003, 4, 1, false, enc, tmp.len - 3);
	/* AUTH_SYS root instead of AUTH_NONE: rewrite the credential. */
	{
		static uint8_t rec2[sizeof(rec) + 64];
		uint32_t cred[] = { 1, 24, 0, 4, 0, 0, 0, 0 };
		size_t o = 4 + 24;

		memcpy(rec2, rec, o);
		for (size_t i = 0; i < ARRAY_SIZE(cred); i++, o += 4)
			put32(rec2 + o, cred[i]);
		memcpy(rec2 + 4 + 24 + 16, "root", 4);
		memcpy(rec2 + o, rec + 4 + 24 + 8, len - (4 + 24 + 8));
		o += len - (4 + 24 + 8);
		put32(rec2, (uint32_t)(o - 4) | 0x80000000u);
		seed_segment(s, tag, rec2, o);
	}
}

/* A CB_NULL or CB_COMPOUND reply body for a TAG 2 segment. */
static void
cb_reply(struct seed *s, bool compound_res)
{
	uint32_t r[] = { 0, 0, 0, 0,		/* accepted, verf, SUCCESS */
			 0, 0, 2,		/* status, tag, 2 results */
			 OP_CB_SEQUENCE, 0,
			 0x53455353, 0x494f4e49, 0x44534553, 0x53494f4e,
			 1, 0, 0, 0,
			 OP_CB_RECALL, 0 };
	uint8_t rb[sizeof(r)];
	size_t n = compound_res ? ARRAY_SIZE(r) : 4;

	for (size_t i = 0; i < n; i++)
		put32(rb + 4 * i, r[i]);
	seed_segment(s, 2, rb, 4 * n);
}

/*
 * NFS through the RPC layer: client A with a back channel on this
 * connection (its CB_NULL probe answered) holds a read delegation;
 * client B's conflicting OPEN makes the server recall it with a
 * CB_COMPOUND, which the input answers.
 */
static void
gen_rpc_nfs(void)
{
	struct seed *s = &S;
	nfs_argop4 ops[4];

	memset(s, 0, sizeof(*s));
	ops[0] = op_exchange_id("fuzz-client");
	nfs_call(s, 0, 100, ops, 1);
	ops[0] = op_create_session();
	nfs_call(s, 3, 101, ops, 1);
	cb_reply(s, false);		/* the CB_NULL probe */
	s->seqid = 1;
	ops[0] = op_sequence(s);
	ops[1] = op_void(OP_RECLAIM_COMPLETE);
	nfs_call(s, 3, 102, ops, 2);
	ops[0] = op_sequence(s);
	ops[1] = op_void(OP_PUTROOTFH);
	ops[2] = op_open("d", true, UNCHECKED4);
	ops[2].nfs_argop4_u.opopen.share_access = OPEN4_SHARE_ACCESS_READ |
		OPEN4_SHARE_ACCESS_WANT_READ_DELEG;
	nfs_call(s, 3, 103, ops, 3);
	seed_write("rpc", "nfs_session", s);

	ops[0] = op_exchange_id("fuzz-clienB");
	nfs_call(s, 3, 104, ops, 1);
	ops[0] = op_create_session();
	ops[0].nfs_argop4_u.opcreate_session.csa_flags = 0;
	nfs_call(s, 3, 105, ops, 1);
	s->seqid = 1;
	ops[0] = op_sequence(s);
	ops[1] = op_void(OP_RECLAIM_COMPLETE);
	nfs_call(s, 3, 106, ops, 2);
	ops[0] = op_sequence(s);
	ops[1] = op_void(OP_PUTROOTFH);
	ops[2] = op_open("d", false, UNCHECKED4);
	ops[2].nfs_argop4_u.opopen.share_access = OPEN4_SHARE_ACCESS_WRITE;
	ops[2].nfs_argop4_u.opopen.owner.owner.owner_val = (char *)"owner2";
	nfs_call(s, 3, 107, ops, 3);
	cb_reply(s, true);		/* the recall */
	seed_write("rpc", "nfs_recall", s);
}

int
main(int argc, char **argv)
{
	char path[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	snprintf(path, sizeof(path), "%s/compound", outdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/rpc", outdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/fattr", outdir);
	mkdir(path, 0755);
	gen_compound();
	gen_fattr();
	gen_rpc_nfs();
	gen_rpc();
	return failures ? 1 : 0;
}
