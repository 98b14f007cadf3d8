/*
 * fsvc.h - private to src/nfs4: the file service's internal API, shared by
 * the namespace (fh_ops.c, attr_ops.c, dir_ops.c), state (open_ops.c,
 * lock_ops.c) and data (io_ops.c, xattr_ops.c) handlers.  Everything a
 * handler needs to turn the compound's filehandles into inodes, to check
 * the export rule of the calling client, and to turn engine errors into
 * NFS status codes goes through here.
 *
 * Locking: none of these functions holds a lock when it returns.  They
 * may take the engine's inode locks inside fs_*() calls, so call them
 * with no inode lock held (as every handler is entered).
 * Ownership: nfs4_cur_inode() and nfs4_saved_inode() return a counted
 * inode reference the caller drops with fs_iput(nfs4_fs(cs), ip).  The
 * export table the compound works on is a counted reference taken on
 * first use and dropped when the COMPOUND ends (nfs4_compound_run), so a
 * SIGHUP reload never frees a table under a running COMPOUND.
 */
#ifndef PMEMNFS_NFS4_FSVC_H
#define PMEMNFS_NFS4_FSVC_H

#include <stdbool.h>
#include <stdint.h>

#include "nfs4_int.h"
#include "fs.h"

struct fs_attr;

/* The engine the file service works on (NULL in detached unit tests). */
struct fs *nfs4_fs(struct nfs4_compound *cs);

/*
 * The inode of the current (saved) filehandle, as a counted reference
 * (fs_iput() when done).  Decodes and validates the handle (RFC 8881
 * §4.2.3: NFS4ERR_BADHANDLE for a malformed or forged one, NFS4ERR_STALE
 * when the inode or its export is gone) and checks that the calling
 * client may use its export (NFS4ERR_ACCESS when no rule matches,
 * NFS4ERR_WRONGSEC per §2.6.3.1).  A pseudo-filesystem directory yields
 * the volume directory it stands for.
 * Returns NFS4_OK and *ipp, NFS4ERR_NOFILEHANDLE, or the errors above.
 */
nfsstat4 nfs4_cur_inode(struct nfs4_compound *cs,
			struct fs_inode **ipp) MUST_CHECK;
nfsstat4 nfs4_saved_inode(struct nfs4_compound *cs,
			  struct fs_inode **ipp) MUST_CHECK;

/*
 * The inode number of the current filehandle, with the same handle and
 * export checks as nfs4_cur_inode() but no inode lookup: for ops that
 * only name state by file (CLOSE, LOCKU, DELEGRETURN ...) and must work
 * after the file's last name was removed (pynfs RNM21: CLOSE after a
 * RENAME replaced the open file).
 */
nfsstat4 nfs4_cur_fileid(struct nfs4_compound *cs, uint64_t *ino) MUST_CHECK;

/*
 * Make ip, an inode of the current filehandle's export (a new file, a
 * looked-up name), the current filehandle.  The current stateid is unset
 * (§16.2.3.1.2).  No reference is taken or dropped.
 */
nfsstat4 nfs4_set_cur_inode(struct nfs4_compound *cs,
			    struct fs_inode *ip) MUST_CHECK;

/* Whether the current filehandle is a pseudo-filesystem directory. */
bool nfs4_cur_is_pseudo(struct nfs4_compound *cs);

/*
 * The one errno -> nfsstat4 mapping of the server (errmap.c).  Every
 * handler turns an engine error into a status here and nowhere else.
 */
nfsstat4 nfs4_errno_to_status(int err);

/*
 * The caller's effective credential after the export rule of the current
 * filehandle squashed it (root_squash, all_squash, anonuid/anongid;
 * AUTH_NONE is the anonymous user).  Without a current export the RPC
 * credential as sent.
 */
void nfs4_cred(struct nfs4_compound *cs, uint32_t *uid, uint32_t *gid);

/*
 * Which of the ACCESS4_* bits in access4_mask the squashed caller may do
 * on ip: NFS4_OK when all of them, NFS4ERR_ACCESS otherwise (mode bits;
 * uid 0 after squashing passes, except that execute needs some x bit;
 * the owner of a regular file may always READ/MODIFY/EXTEND it, as
 * knfsd's owner override for I/O); NFS4ERR_ROFS for
 * ACCESS4_MODIFY/EXTEND/DELETE on a read-only export.
 */
nfsstat4 nfs4_check_access(struct nfs4_compound *cs, struct fs_inode *ip,
			   uint32_t access4_mask) MUST_CHECK;

/* Whether the current filehandle's export is read-only for this client. */
bool nfs4_export_read_only(struct nfs4_compound *cs);

/*
 * Decode a fattr4 from the client (SETATTR, OPEN/CREATE createattrs,
 * RFC 8881 §5.5) into out; *attrsset (may be NULL) gets the bitmap of
 * what was decoded.  NFS4ERR_ATTRNOTSUPP for an attribute not supported
 * (or one that cannot be set: NFS4ERR_INVAL for a read-only one), NFS4ERR_BADXDR
 * for a short/garbled value, NFS4ERR_BADOWNER for an owner string that
 * does not map.  attrsset's words are malloc'ed: free with
 * nfs4_bitmap_free().
 */
nfsstat4 nfs4_attr_decode(struct nfs4_compound *cs, const fattr4 *in,
			  struct fs_setattr *out, bitmap4 *attrsset) MUST_CHECK;
/*
 * Encode the attributes of ip asked for in req into out (RFC 8881 §5):
 * out->attrmask and out->attr_vals are malloc'ed (nfs4_fattr_free());
 * unsupported attributes are left out of out->attrmask.
 */
nfsstat4 nfs4_attr_encode(struct nfs4_compound *cs, struct fs_inode *ip,
			  const bitmap4 *req, fattr4 *out) MUST_CHECK;
/* The same for attributes already read (GETATTR after CB_GETATTR). */
nfsstat4 nfs4_attr_encode_attr(struct nfs4_compound *cs,
			       const struct fs_attr *a, const bitmap4 *req,
			       fattr4 *out) MUST_CHECK;
void nfs4_fattr_free(fattr4 *f);
void nfs4_bitmap_free(bitmap4 *b);

/*
 * SipHash-2-4 (Aumasson and Bernstein) of in[0..len) under a 128-bit
 * key: the filehandle MAC (fh.c).  Exposed for its test vectors.
 */
uint64_t nfs4_siphash24(const uint8_t key[16], const uint8_t *in, size_t len);

/* Well-formed UTF-8 without U+FFFE/U+FFFF (RFC 3629; RFC 8881 §14). */
bool nfs4_utf8_valid(const uint8_t *s, size_t len);

/*
 * Check a component name from the wire (RFC 8881 §1.7.3, §18.x.3):
 * NFS4ERR_INVAL for an empty name or one that is not UTF-8,
 * NFS4ERR_NAMETOOLONG beyond FS_NAME_MAX, NFS4ERR_BADNAME for ".", ".."
 * or a name containing '/' or NUL.  On NFS4_OK buf (FS_NAME_MAX + 1
 * bytes) holds the NUL-terminated name.
 */
nfsstat4 nfs4_check_name(const component4 *name,
			 char buf[FS_NAME_MAX + 1]) MUST_CHECK;

/* --- namespace internals (fh.c), used by fh_ops.c, attr.c, dir_ops.c --- */

struct fs_attr;

/*
 * Validate the current filehandle (NFS4ERR_NOFILEHANDLE, BADHANDLE,
 * STALE) without checking the caller's access to its export.
 */
nfsstat4 nfs4_fh_check_cur(struct nfs4_compound *cs) MUST_CHECK;
/*
 * After a put-filehandle op (compound.c, §2.6.3.1.1): NFS4ERR_WRONGSEC
 * when the current handle's export refuses the caller's flavour.
 */
nfsstat4 nfs4_fh_check_flavor(struct nfs4_compound *cs) MUST_CHECK;
/* PUTROOTFH: export "/" if there is one, else the pseudo root. */
nfsstat4 nfs4_fh_set_root(struct nfs4_compound *cs) MUST_CHECK;
/* Re-make the current export handle with its inode's generation. */
nfsstat4 nfs4_fh_fix_gen(struct nfs4_compound *cs) MUST_CHECK;
/* LOOKUP name in the current pseudo directory. */
nfsstat4 nfs4_fh_lookup_pseudo(struct nfs4_compound *cs,
			       const char *name) MUST_CHECK;
/* Make ip (found by LOOKUP) current, crossing into a nested export. */
nfsstat4 nfs4_fh_enter(struct nfs4_compound *cs,
		       struct fs_inode *ip) MUST_CHECK;
/*
 * LOOKUPP where it leaves an export or walks the pseudo fs; *handled
 * false when the caller should just look up "..".
 */
nfsstat4 nfs4_fh_lookupp_special(struct nfs4_compound *cs,
				 bool *handled) MUST_CHECK;
/* The entries of the current pseudo directory; fn: 0 on, >0 stop, <0 err. */
nfsstat4 nfs4_pseudo_list(struct nfs4_compound *cs,
			  int (*fn)(void *ctx, const char *name, uint64_t ino),
			  void *ctx) MUST_CHECK;
/*
 * The handle of directory entry name (ino, gen) of the current directory,
 * for READDIR's filehandle attribute.
 */
nfsstat4 nfs4_fh_child(struct nfs4_compound *cs, const char *name,
		       uint64_t ino, uint64_t gen,
		       struct nfs4_fh *out) MUST_CHECK;
/* The export id of a checked handle (0: pseudo filesystem). */
uint32_t nfs4_fh_fsid(const struct nfs4_fh *fh);
/* The export id of the current handle (0: pseudo filesystem). */
uint32_t nfs4_cur_fsid(struct nfs4_compound *cs);
/* The flavours the current export allows this client, in order. */
uint32_t nfs4_cur_flavors(struct nfs4_compound *cs, uint32_t *flavors,
			  uint32_t max);
/* Which ACCESS4_* bits of want the squashed caller has on a file. */
uint32_t nfs4_access_allowed(struct nfs4_compound *cs, const struct fs_attr *a,
			     uint32_t want);

/* --- attributes (attr.c) and owner strings (idmap.c) --------------------- */

/* One object to encode attributes of (GETATTR, READDIR entries). */
struct nfs4_attr_obj {
	const struct fs_attr *attr;
	bool		pseudo;		/* a pseudo-filesystem directory */
	uint32_t	fsid;		/* its export id */
	const uint8_t	*fh;		/* its filehandle */
	uint32_t	fhlen;
	nfsstat4	rdattr_error;	/* FATTR4_RDATTR_ERROR's value */
};
nfsstat4 nfs4_attr_encode_obj(struct nfs4_compound *cs,
			      const struct nfs4_attr_obj *o, const bitmap4 *req,
			      fattr4 *out) MUST_CHECK;
/* VERIFY/NVERIFY masks: ATTRNOTSUPP, INVAL (write-only, rdattr_error). */
nfsstat4 nfs4_attr_check_verify_mask(struct nfs4_compound *cs,
				     const bitmap4 *m) MUST_CHECK;
/* READDIR masks: NFS4ERR_INVAL for write-only attributes. */
nfsstat4 nfs4_attr_check_readdir_mask(struct nfs4_compound *cs,
				      const bitmap4 *m) MUST_CHECK;
/*
 * owner / owner_group string of an id ("name@domain" or decimal) into buf;
 * returns its length.  Cached; takes the idmap lock briefly.
 */
size_t nfs4_idmap_id_to_str(uint32_t id, bool group, char *buf, size_t size);
/* A client's owner string to an id: decimal or mapped, else BADOWNER. */
nfsstat4 nfs4_idmap_str_to_id(const char *s, size_t len, bool group,
			      uint32_t *id) MUST_CHECK;

#endif
