/*
 * fh.c - filehandles, the exports as the file service sees them, and the
 * pseudo filesystem that joins them (RFC 8881 §4, §7).
 *
 * Filehandle format (docs/fsvc.md has the full table), 32 bytes:
 *
 *   0      version (NFS4_FH_VERSION)
 *   1      kind: NFS4_FH_EXPORT (a file of an export) or NFS4_FH_PSEUDO
 *          (a directory of the pseudo filesystem)
 *   2..3   zero
 *   4..7   export id (the exports file's fsid=, big-endian; 0 for pseudo)
 *   8..15  inode number, big-endian
 *   16..23 inode generation, big-endian (0 for pseudo)
 *   24..31 MAC: SipHash-2-4 of bytes 0..23 under a 128-bit key kept in the
 *          volume's server records, so it survives restarts
 *
 * Why a MAC and not a check of the export's root ancestry: an inode does
 * not know its names (hard links), so ancestry cannot be checked cheaply
 * on every PUTFH, and PUTFH is on the hot path (a few microseconds per
 * SEQUENCE+PUTFH+GETATTR).  With the MAC a client cannot change the export
 * id of a handle it was given, nor make up a handle for an inode it never
 * looked up: every handle the server accepts is one it issued for that
 * export.  (Like knfsd with no_subtree_check, a file renamed out of an
 * export's subtree stays reachable through a handle issued before.)
 *
 * Locking: nfs4_server.exp_lock guards exp_cur (the export set built for
 * the newest exports table); an export set is immutable once built and
 * counted: each COMPOUND takes one reference on first use and drops it at
 * its end, so a SIGHUP reload never frees what a running COMPOUND reads.
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fsvc.h"
#include "common/exports.h"
#include "fs/inode.h"

#define NFS4_FH_VERSION		1
#define NFS4_FH_EXPORT		1
#define NFS4_FH_PSEUDO		2
#define NFS4_FH_LEN		32
#define NFS4_FH_MAC_OFF		24
/* The key's name among the volume's server records. */
#define NFS4_FH_KEY_REC		"nfs4.fh.key"

#define AUTH_FLAVOR_NONE	0
#define AUTH_FLAVOR_SYS		1

/* --- SipHash-2-4 (Aumasson and Bernstein, 2012) ------------------------- */

static inline uint64_t
rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void
sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotl64(v[1], 13);
	v[1] ^= v[0];
	v[0] = rotl64(v[0], 32);
	v[2] += v[3];
	v[3] = rotl64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rotl64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rotl64(v[1], 17);
	v[1] ^= v[2];
	v[2] = rotl64(v[2], 32);
}

/* See fsvc.h: SipHash-2-4 of in[0..len) under key. */
uint64_t
nfs4_siphash24(const uint8_t key[16], const uint8_t *in, size_t len)
{
	uint64_t k0 = get_le64(key), k1 = get_le64(key + 8);
	uint64_t v[4] = {
		k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL,
		k0 ^ 0x6c7967656e657261ULL, k1 ^ 0x7465646279746573ULL,
	};
	uint64_t m, last = (uint64_t)(len & 0xff) << 56;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		m = get_le64(in + i);
		v[3] ^= m;
		sip_round(v);
		sip_round(v);
		v[0] ^= m;
	}
	for (size_t j = 0; i + j < len; j++)
		last |= (uint64_t)in[i + j] << (8 * j);
	v[3] ^= last;
	sip_round(v);
	sip_round(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int r = 0; r < 4; r++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void
put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* --- the export set ------------------------------------------------------- */

struct nfs4_export {
	const struct exports_entry *e;
	char		*path;		/* normalized: "/" or "/a/b" */
	uint64_t	root_ino;
	bool		usable;		/* the path exists and is a directory */
};

/* A directory of the pseudo filesystem: a proper prefix of an export. */
struct nfs4_pseudo {
	char		*path;
	uint64_t	ino;
};

struct nfs4_export_set {
	atomic_uint		ref;
	uint64_t		gen;
	struct nfs4_server	*srv;
	const struct exports_table *t;
	void			*tok;
	unsigned		n;
	struct nfs4_export	*v;
	unsigned		npseudo;
	struct nfs4_pseudo	*pv;
	int			root_export;	/* index of export "/", or -1 */
};

/* "/a//b/" -> "/a/b"; "" and "/" -> "/". */
static char *
path_normalize(const char *in)
{
	size_t n = strlen(in);
	char *out = malloc(n + 2), *o = out;

	if (!out)
		return NULL;
	for (const char *p = in; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		*o++ = '/';
		while (*p && *p != '/')
			*o++ = *p++;
	}
	if (o == out)
		*o++ = '/';
	*o = '\0';
	return out;
}

/* Walk path from the volume root; *ino gets the directory's number. */
static int
path_resolve(struct fs *fs, const char *path, uint64_t *ino)
{
	struct fs_inode *ip, *next;
	struct fs_attr a;
	char name[FS_NAME_MAX + 1];
	const char *p = path;
	int err;

	err = fs_iget(fs, fs_root_ino(fs), 0, &ip);
	if (err)
		return err;
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		len = strcspn(p, "/");
		if (len > FS_NAME_MAX) {
			err = -ENAMETOOLONG;
			goto out_put;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		p += len;
		err = fs_lookup(fs, ip, name, &next);
		if (err)
			goto out_put;
		fs_iput(fs, ip);
		ip = next;
	}
	err = fs_getattr(fs, ip, &a);
	if (err)
		goto out_put;
	if (a.type != FS_TYPE_DIR) {
		err = -ENOTDIR;
		goto out_put;
	}
	*ino = a.ino;
out_put:
	fs_iput(fs, ip);
	return err;
}

static void
export_set_free(struct nfs4_export_set *es)
{
	if (!es)
		return;
	for (unsigned i = 0; i < es->n; i++)
		free(es->v[i].path);
	for (unsigned i = 0; i < es->npseudo; i++)
		free(es->pv[i].path);
	free(es->v);
	free(es->pv);
	if (es->t)
		es->srv->exsrc.put(es->srv->exsrc.ctx, es->tok);
	free(es);
}

static void
export_set_put(struct nfs4_export_set *es)
{
	if (es && atomic_fetch_sub(&es->ref, 1) == 1)
		export_set_free(es);
}

/*
 * Whether path is an export or lies inside one: such a directory is
 * reached through that export, never as a pseudo directory.
 */
static bool
in_export(const struct nfs4_export_set *es, const char *path)
{
	for (unsigned i = 0; i < es->n; i++) {
		const char *x = es->v[i].path;
		size_t l;

		if (!es->v[i].usable)
			continue;
		if (strcmp(x, "/") == 0)
			return true;
		l = strlen(x);
		if (strncmp(path, x, l) == 0 &&
		    (path[l] == '\0' || path[l] == '/'))
			return true;
	}
	return false;
}

static int
pseudo_add(struct nfs4_export_set *es, struct fs *fs, const char *path)
{
	struct nfs4_pseudo *pv;
	uint64_t ino;
	int err;

	for (unsigned i = 0; i < es->npseudo; i++)
		if (strcmp(es->pv[i].path, path) == 0)
			return 0;
	if (in_export(es, path))
		return 0;
	err = path_resolve(fs, path, &ino);
	if (err)
		return err;
	pv = realloc(es->pv, (es->npseudo + 1) * sizeof(*pv));
	if (!pv)
		return -ENOMEM;
	es->pv = pv;
	pv[es->npseudo].path = strdup(path);
	if (!pv[es->npseudo].path)
		return -ENOMEM;
	pv[es->npseudo].ino = ino;
	es->npseudo++;
	return 0;
}

/*
 * Build the export set of table t: resolve each export's path to its root
 * directory (an export whose path is missing is skipped with a warning),
 * and make a pseudo directory of every proper prefix of an export path
 * that is not an export itself.  Takes over the table reference (t, tok)
 * also on failure.
 */
static int
export_set_build(struct nfs4_server *nsrv, const struct exports_table *t,
		 void *tok, uint64_t gen, struct nfs4_export_set **out)
{
	struct nfs4_export_set *es;
	int err;

	es = calloc(1, sizeof(*es));
	if (!es) {
		nsrv->exsrc.put(nsrv->exsrc.ctx, tok);
		return -ENOMEM;
	}
	atomic_init(&es->ref, 1);
	es->srv = nsrv;
	es->t = t;
	es->tok = tok;
	es->gen = gen;
	es->root_export = -1;
	es->v = calloc(t->nentries ? t->nentries : 1, sizeof(*es->v));
	if (!es->v) {
		err = -ENOMEM;
		goto out_free;
	}
	es->n = t->nentries;
	for (unsigned i = 0; i < es->n; i++) {
		struct nfs4_export *x = &es->v[i];

		x->e = &t->entries[i];
		x->path = path_normalize(x->e->path);
		if (!x->path) {
			err = -ENOMEM;
			goto out_free;
		}
		err = path_resolve(nsrv->fs, x->path, &x->root_ino);
		if (err) {
			log_warn("export %s: %s; not exported", x->path,
				 strerror(-err));
			continue;
		}
		x->usable = true;
		if (strcmp(x->path, "/") == 0 && es->root_export < 0)
			es->root_export = (int)i;
	}
	for (unsigned i = 0; i < es->n; i++) {
		char *prefix;
		size_t len;

		if (!es->v[i].usable)
			continue;
		prefix = strdup(es->v[i].path);
		if (!prefix) {
			err = -ENOMEM;
			goto out_free;
		}
		/* Every proper prefix: "/a/b/c" gives "/a/b", "/a", "/". */
		while ((len = strlen(prefix)) > 1) {
			char *slash = strrchr(prefix, '/');

			if (slash == prefix)
				prefix[1] = '\0';
			else
				*slash = '\0';
			err = pseudo_add(es, nsrv->fs, prefix);
			if (err) {
				free(prefix);
				goto out_free;
			}
		}
		free(prefix);
	}
	*out = es;
	return 0;
out_free:
	export_set_free(es);
	return err;
}

/*
 * The export set of the COMPOUND: on first use, the one built for the
 * current exports table (rebuilt when the table changed).  NULL when the
 * server has no file service or the set cannot be built.
 * Locks: takes exp_lock (shared on the fast path: the generation did not
 * change); none held on return.
 */
static struct nfs4_export_set *
cs_exports(struct nfs4_compound *cs)
{
	struct nfs4_server *nsrv = cs->srv;
	struct nfs4_export_set *es, *old = NULL;
	const struct exports_table *t;
	uint64_t gen;
	void *tok;
	int err;

	if (cs->exports)
		return cs->exports;
	if (!nsrv->fs)
		return NULL;
	gen = nsrv->exsrc.gen(nsrv->exsrc.ctx);
	rwlock_lock(&nsrv->exp_lock, LOCK_SHARED);
	es = nsrv->exp_cur;
	if (es && es->gen == gen) {
		atomic_fetch_add(&es->ref, 1);
		rwlock_unlock(&nsrv->exp_lock);
		cs->exports = es;
		return es;
	}
	rwlock_unlock(&nsrv->exp_lock);

	/* A reload happened (or the first COMPOUND): rare. */
	t = nsrv->exsrc.get(nsrv->exsrc.ctx, &tok, &gen);
	if (!t)
		return NULL;
	rwlock_lock(&nsrv->exp_lock, LOCK_EXCL);
	es = nsrv->exp_cur;
	if (es && es->gen == gen) {
		/* Another worker built it meanwhile. */
		nsrv->exsrc.put(nsrv->exsrc.ctx, tok);
	} else {
		/*
		 * Built under exp_lock so that two workers never build the
		 * same set; COMPOUNDs wait for it (after a SIGHUP only).
		 */
		err = export_set_build(nsrv, t, tok, gen, &es);
		if (err) {
			rwlock_unlock(&nsrv->exp_lock);
			log_error("cannot build the export set: %s",
				  strerror(-err));
			return NULL;
		}
		old = nsrv->exp_cur;
		nsrv->exp_cur = es;
	}
	atomic_fetch_add(&es->ref, 1);
	rwlock_unlock(&nsrv->exp_lock);
	export_set_put(old);
	cs->exports = es;
	return es;
}

/* See nfs4_int.h.  No locks. */
void
nfs4_compound_exports_put(struct nfs4_compound *cs)
{
	export_set_put(cs->exports);
	cs->exports = NULL;
}

/*
 * See nfs4_int.h.  The key is made once per volume (getrandom) and kept
 * in the server records so handles stay valid across restarts.  No locks.
 */
int
nfs4_fsvc_init(struct nfs4_server *nsrv, struct fs *fs,
	       const struct nfs4_exports_src *exports)
{
	size_t len = 0;
	int err;

	nsrv->fs = fs;
	if (!fs)
		return 0;
	nsrv->exsrc = *exports;
	err = fs_srvrec_get(fs, NFS4_FH_KEY_REC, strlen(NFS4_FH_KEY_REC),
			    nsrv->fh_key, sizeof(nsrv->fh_key), &len);
	if (err == 0 && len == sizeof(nsrv->fh_key))
		return 0;
	if (err && err != -ENOENT && err != -ERANGE)
		return err;
	for (size_t got = 0; got < sizeof(nsrv->fh_key);) {
		ssize_t n = getrandom(nsrv->fh_key + got,
				      sizeof(nsrv->fh_key) - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		got += (size_t)n;
	}
	return fs_srvrec_put(fs, NFS4_FH_KEY_REC, strlen(NFS4_FH_KEY_REC),
			     nsrv->fh_key, sizeof(nsrv->fh_key));
}

/* See nfs4_int.h.  No COMPOUND may run any more. */
void
nfs4_fsvc_fini(struct nfs4_server *nsrv)
{
	export_set_put(nsrv->exp_cur);
	nsrv->exp_cur = NULL;
}

/* --- handles ---------------------------------------------------------------- */

static void
fh_make(const struct nfs4_server *nsrv, struct nfs4_fh *fh, uint8_t kind,
	uint32_t fsid, uint64_t ino, uint64_t gen)
{
	memset(fh->data, 0, NFS4_FH_LEN);
	fh->data[0] = NFS4_FH_VERSION;
	fh->data[1] = kind;
	put_be32(fh->data + 4, fsid);
	put_be64(fh->data + 8, ino);
	put_be64(fh->data + 16, gen);
	put_be64(fh->data + NFS4_FH_MAC_OFF,
		 nfs4_siphash24(nsrv->fh_key, fh->data, NFS4_FH_MAC_OFF));
	fh->len = NFS4_FH_LEN;
}

/* The first rule of e matching the caller's address, or NULL. */
static const struct exports_rule *
rule_for(const struct nfs4_compound *cs, const struct exports_entry *e)
{
	if (cs->conn)
		return exports_match(e, rpc_conn_peer(cs->conn));
	/* No connection (unit tests): only a '*' rule applies. */
	for (unsigned i = 0; i < e->nrules; i++)
		if (e->rules[i].any)
			return &e->rules[i];
	return NULL;
}

static void
fh_set_export(struct nfs4_compound *cs, struct nfs4_fh *fh,
	      const struct nfs4_export *x, uint64_t ino, uint64_t gen)
{
	fh_make(cs->srv, fh, NFS4_FH_EXPORT, x->e->fsid, ino, gen);
	fh->checked = true;
	fh->pseudo = false;
	fh->ino = ino;
	fh->gen = gen;
	fh->exp = x->e;
	fh->rule = rule_for(cs, x->e);
}

static void
fh_set_pseudo(struct nfs4_compound *cs, struct nfs4_fh *fh, uint64_t ino)
{
	fh_make(cs->srv, fh, NFS4_FH_PSEUDO, 0, ino, 0);
	fh->checked = true;
	fh->pseudo = true;
	fh->ino = ino;
	fh->gen = 0;
	fh->exp = NULL;
	fh->rule = NULL;
}

static const struct nfs4_export *
export_by_entry(const struct nfs4_export_set *es,
		const struct exports_entry *e)
{
	for (unsigned i = 0; i < es->n; i++)
		if (es->v[i].e == e)
			return &es->v[i];
	return NULL;
}

/*
 * Decode and validate fh (RFC 8881 §4.2.3): NFS4ERR_BADHANDLE for a
 * handle we never made (length, version, kind, MAC), NFS4ERR_STALE when
 * its export or pseudo directory no longer exists.  Caches the result in
 * fh.  No locks held on return.
 */
static nfsstat4
fh_check(struct nfs4_compound *cs, struct nfs4_fh *fh)
{
	struct nfs4_export_set *es;
	uint32_t fsid;
	uint64_t ino;

	if (fh->len == 0)
		return NFS4ERR_NOFILEHANDLE;
	if (fh->checked)
		return NFS4_OK;
	es = cs_exports(cs);
	if (!es)
		return NFS4ERR_SERVERFAULT;
	if (fh->len != NFS4_FH_LEN || fh->data[0] != NFS4_FH_VERSION ||
	    fh->data[2] != 0 || fh->data[3] != 0 ||
	    get_be64(fh->data + NFS4_FH_MAC_OFF) !=
	    nfs4_siphash24(cs->srv->fh_key, fh->data, NFS4_FH_MAC_OFF))
		return NFS4ERR_BADHANDLE;
	fsid = get_be32(fh->data + 4);
	ino = get_be64(fh->data + 8);
	switch (fh->data[1]) {
	case NFS4_FH_EXPORT:
		for (unsigned i = 0; i < es->n; i++) {
			if (!es->v[i].usable || es->v[i].e->fsid != fsid)
				continue;
			fh->checked = true;
			fh->pseudo = false;
			fh->ino = ino;
			fh->gen = get_be64(fh->data + 16);
			fh->exp = es->v[i].e;
			fh->rule = rule_for(cs, fh->exp);
			return NFS4_OK;
		}
		return NFS4ERR_STALE;
	case NFS4_FH_PSEUDO:
		for (unsigned i = 0; i < es->npseudo; i++) {
			if (es->pv[i].ino != ino)
				continue;
			fh->checked = true;
			fh->pseudo = true;
			fh->ino = ino;
			fh->gen = 0;
			fh->exp = NULL;
			fh->rule = NULL;
			return NFS4_OK;
		}
		return NFS4ERR_STALE;
	default:
		return NFS4ERR_BADHANDLE;
	}
}

/* Whether the RPC flavour is one the rule allows (§2.6.3.1). */
static bool
flavor_ok(const struct nfs4_compound *cs, const struct exports_rule *r)
{
	uint32_t flavor = cs->cred ? cs->cred->flavor : AUTH_FLAVOR_NONE;

	if (r->nflavors == 0)
		return flavor == AUTH_FLAVOR_SYS || flavor == AUTH_FLAVOR_NONE;
	for (uint32_t i = 0; i < r->nflavors; i++)
		if (r->flavors[i] == flavor)
			return true;
	return false;
}

/* Access to fh's export for this client: NFS4ERR_ACCESS / WRONGSEC. */
static nfsstat4
fh_permit(const struct nfs4_compound *cs, const struct nfs4_fh *fh)
{
	if (fh->pseudo)
		return NFS4_OK;
	if (!fh->rule)
		return NFS4ERR_ACCESS;
	if (!flavor_ok(cs, fh->rule))
		return NFS4ERR_WRONGSEC;
	return NFS4_OK;
}

static nfsstat4
fh_inode(struct nfs4_compound *cs, struct nfs4_fh *fh, struct fs_inode **ipp)
{
	nfsstat4 status;
	int err;

	status = fh_check(cs, fh);
	if (status != NFS4_OK)
		return status;
	status = fh_permit(cs, fh);
	if (status != NFS4_OK)
		return status;
	err = fs_iget(cs->srv->fs, fh->ino, fh->pseudo ? 0 : fh->gen, ipp);
	return err ? nfs4_errno_to_status(err) : NFS4_OK;
}

/* See fsvc.h. */
struct fs *
nfs4_fs(struct nfs4_compound *cs)
{
	return cs->srv->fs;
}

/* See fsvc.h.  No locks held on return; *ipp is a counted reference. */
nfsstat4
nfs4_cur_inode(struct nfs4_compound *cs, struct fs_inode **ipp)
{
	return fh_inode(cs, &cs->current_fh, ipp);
}

/* See fsvc.h. */
nfsstat4
nfs4_saved_inode(struct nfs4_compound *cs, struct fs_inode **ipp)
{
	return fh_inode(cs, &cs->saved_fh, ipp);
}

/* See fsvc.h.  The current filehandle must be a checked export handle. */
nfsstat4
nfs4_set_cur_inode(struct nfs4_compound *cs, struct fs_inode *ip)
{
	struct nfs4_export_set *es = cs_exports(cs);
	const struct nfs4_export *x;
	nfsstat4 status;

	status = fh_check(cs, &cs->current_fh);
	if (status != NFS4_OK)
		return status;
	if (!es || cs->current_fh.pseudo)
		return NFS4ERR_SERVERFAULT;
	x = export_by_entry(es, cs->current_fh.exp);
	if (!x)
		return NFS4ERR_STALE;
	fh_set_export(cs, &cs->current_fh, x, ip->ino, ip->gen);
	cs->have_current_stateid = false;
	return NFS4_OK;
}

/*
 * See fsvc.h: the inode number of the current handle, checked like
 * nfs4_cur_inode() but without requiring the inode to still exist.
 */
nfsstat4
nfs4_cur_fileid(struct nfs4_compound *cs, uint64_t *ino)
{
	nfsstat4 status;

	status = fh_check(cs, &cs->current_fh);
	if (status == NFS4_OK)
		status = fh_permit(cs, &cs->current_fh);
	if (status == NFS4_OK)
		*ino = cs->current_fh.ino;
	return status;
}

/*
 * See fsvc.h: NFS4ERR_WRONGSEC when the current handle's export does not
 * take the caller's flavour; other problems are left to the next op.
 */
nfsstat4
nfs4_fh_check_flavor(struct nfs4_compound *cs)
{
	if (fh_check(cs, &cs->current_fh) != NFS4_OK ||
	    cs->current_fh.pseudo || !cs->current_fh.rule)
		return NFS4_OK;
	return flavor_ok(cs, cs->current_fh.rule) ? NFS4_OK :
						     NFS4ERR_WRONGSEC;
}

/* See fsvc.h. */
nfsstat4
nfs4_fh_check_cur(struct nfs4_compound *cs)
{
	return fh_check(cs, &cs->current_fh);
}

/* See fsvc.h. */
bool
nfs4_cur_is_pseudo(struct nfs4_compound *cs)
{
	return fh_check(cs, &cs->current_fh) == NFS4_OK &&
	       cs->current_fh.pseudo;
}

/* --- namespace steps (PUTROOTFH, LOOKUP, LOOKUPP) ----------------------- */

/*
 * See fsvc.h.  PUTROOTFH (§18.21): export "/" when there is one, else the
 * pseudo root.
 */
nfsstat4
nfs4_fh_set_root(struct nfs4_compound *cs)
{
	struct nfs4_export_set *es = cs_exports(cs);

	if (!es)
		return NFS4ERR_SERVERFAULT;
	if (es->root_export >= 0) {
		const struct nfs4_export *x = &es->v[es->root_export];

		fh_set_export(cs, &cs->current_fh, x, x->root_ino,
			      0);
		/* The root's generation is whatever the engine says. */
		return nfs4_fh_fix_gen(cs);
	}
	for (unsigned i = 0; i < es->npseudo; i++) {
		if (strcmp(es->pv[i].path, "/") == 0) {
			fh_set_pseudo(cs, &cs->current_fh, es->pv[i].ino);
			cs->have_current_stateid = false;
			return NFS4_OK;
		}
	}
	/* Nothing exported at all. */
	return NFS4ERR_NOENT;
}

/* See fsvc.h: re-make the current export handle with the inode's gen. */
nfsstat4
nfs4_fh_fix_gen(struct nfs4_compound *cs)
{
	struct fs_inode *ip;
	nfsstat4 status;
	int err;

	err = fs_iget(cs->srv->fs, cs->current_fh.ino, 0, &ip);
	if (err)
		return nfs4_errno_to_status(err);
	status = nfs4_set_cur_inode(cs, ip);
	fs_iput(cs->srv->fs, ip);
	return status;
}

static const char *
pseudo_path(const struct nfs4_export_set *es, uint64_t ino)
{
	for (unsigned i = 0; i < es->npseudo; i++)
		if (es->pv[i].ino == ino)
			return es->pv[i].path;
	return NULL;
}

/* parent + "/" + name into buf; false when it does not fit. */
static bool
path_join(char *buf, size_t size, const char *parent, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", strcmp(parent, "/") ? parent : "",
			 name);

	return n > 0 && (size_t)n < size;
}

/*
 * See fsvc.h.  LOOKUP in a pseudo directory (§7.3): a name leads to an
 * export's root or a deeper pseudo directory; anything else does not
 * exist in the pseudo filesystem.
 */
nfsstat4
nfs4_fh_lookup_pseudo(struct nfs4_compound *cs, const char *name)
{
	struct nfs4_export_set *es = cs_exports(cs);
	char path[EXPORTS_PATH_MAX + FS_NAME_MAX + 2];
	const char *parent;

	if (!es)
		return NFS4ERR_SERVERFAULT;
	parent = pseudo_path(es, cs->current_fh.ino);
	if (!parent)
		return NFS4ERR_STALE;
	if (!path_join(path, sizeof(path), parent, name))
		return NFS4ERR_NOENT;
	for (unsigned i = 0; i < es->n; i++) {
		const struct nfs4_export *x = &es->v[i];

		if (x->usable && strcmp(x->path, path) == 0) {
			fh_set_export(cs, &cs->current_fh, x, x->root_ino, 0);
			return nfs4_fh_fix_gen(cs);
		}
	}
	for (unsigned i = 0; i < es->npseudo; i++) {
		if (strcmp(es->pv[i].path, path) == 0) {
			fh_set_pseudo(cs, &cs->current_fh, es->pv[i].ino);
			cs->have_current_stateid = false;
			return NFS4_OK;
		}
	}
	return NFS4ERR_NOENT;
}

/*
 * See fsvc.h.  After a LOOKUP inside an export found ip: if ip is the
 * root of another export, cross into it (nested exports); else stay.
 */
nfsstat4
nfs4_fh_enter(struct nfs4_compound *cs, struct fs_inode *ip)
{
	struct nfs4_export_set *es = cs_exports(cs);

	if (!es)
		return NFS4ERR_SERVERFAULT;
	for (unsigned i = 0; i < es->n; i++) {
		const struct nfs4_export *x = &es->v[i];

		if (x->usable && x->root_ino == ip->ino &&
		    x->e != cs->current_fh.exp) {
			fh_set_export(cs, &cs->current_fh, x, ip->ino,
				      ip->gen);
			cs->have_current_stateid = false;
			return NFS4_OK;
		}
	}
	return nfs4_set_cur_inode(cs, ip);
}

/*
 * See fsvc.h.  LOOKUPP (§18.14) at an export's root leaves the export:
 * to the pseudo directory above it, or to the export that contains it
 * (nested), or NFS4ERR_NOENT at the top.  *handled false: an ordinary
 * directory inside an export, the caller looks up "..".
 */
nfsstat4
nfs4_fh_lookupp_special(struct nfs4_compound *cs, bool *handled)
{
	struct nfs4_export_set *es = cs_exports(cs);
	const struct nfs4_export *x;
	char parent[EXPORTS_PATH_MAX + 1];
	const char *path;
	char *slash;

	*handled = false;
	if (!es)
		return NFS4ERR_SERVERFAULT;
	if (cs->current_fh.pseudo) {
		path = pseudo_path(es, cs->current_fh.ino);
		if (!path)
			return NFS4ERR_STALE;
	} else {
		x = export_by_entry(es, cs->current_fh.exp);
		if (!x)
			return NFS4ERR_STALE;
		if (x->root_ino != cs->current_fh.ino)
			return NFS4_OK;
		path = x->path;
	}
	*handled = true;
	if (strcmp(path, "/") == 0)
		return NFS4ERR_NOENT;
	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (slash == parent)
		parent[1] = '\0';
	else if (slash)
		*slash = '\0';
	for (unsigned i = 0; i < es->npseudo; i++) {
		if (strcmp(es->pv[i].path, parent) == 0) {
			fh_set_pseudo(cs, &cs->current_fh, es->pv[i].ino);
			cs->have_current_stateid = false;
			return NFS4_OK;
		}
	}
	/*
	 * Nested export: the parent directory lies in an export that
	 * contains this one; look ".." up there.
	 */
	for (unsigned i = 0; i < es->n; i++) {
		size_t l;

		x = &es->v[i];
		if (!x->usable)
			continue;
		l = strlen(x->path);
		if (strcmp(x->path, "/") == 0 ||
		    (strncmp(parent, x->path, l) == 0 &&
		     (parent[l] == '\0' || parent[l] == '/'))) {
			struct fs_inode *dir, *up;
			int err;

			err = fs_iget(cs->srv->fs, cs->current_fh.ino, 0, &dir);
			if (err)
				return nfs4_errno_to_status(err);
			err = fs_lookup(cs->srv->fs, dir, "..", &up);
			fs_iput(cs->srv->fs, dir);
			if (err)
				return nfs4_errno_to_status(err);
			fh_set_export(cs, &cs->current_fh, x, up->ino, up->gen);
			cs->have_current_stateid = false;
			fs_iput(cs->srv->fs, up);
			return NFS4_OK;
		}
	}
	return NFS4ERR_NOENT;
}

/*
 * See fsvc.h: call fn for each entry of the current pseudo directory (the
 * next path component of every export and pseudo directory below it).
 */
nfsstat4
nfs4_pseudo_list(struct nfs4_compound *cs,
		 int (*fn)(void *ctx, const char *name, uint64_t ino),
		 void *ctx)
{
	struct nfs4_export_set *es = cs_exports(cs);
	const char *dir;
	size_t dl;

	if (!es)
		return NFS4ERR_SERVERFAULT;
	dir = pseudo_path(es, cs->current_fh.ino);
	if (!dir)
		return NFS4ERR_STALE;
	dl = strcmp(dir, "/") ? strlen(dir) : 0;
	for (unsigned k = 0; k < es->n + es->npseudo; k++) {
		const char *p;
		uint64_t ino;
		int rc;

		if (k < es->n) {
			if (!es->v[k].usable)
				continue;
			p = es->v[k].path;
			ino = es->v[k].root_ino;
		} else {
			p = es->pv[k - es->n].path;
			ino = es->pv[k - es->n].ino;
		}
		/* A direct child: dir + "/" + one component. */
		if (strncmp(p, dir, dl) != 0 || p[dl] != '/' ||
		    p[dl + 1] == '\0' || strchr(p + dl + 1, '/'))
			continue;
		rc = fn(ctx, p + dl + 1, ino);
		if (rc < 0)
			return nfs4_errno_to_status(rc);
		if (rc > 0)
			break;
	}
	return NFS4_OK;
}

/*
 * See fsvc.h: the handle READDIR reports for an entry (ino, gen) of the
 * current directory: in the current export, or the root of a nested
 * export; of a pseudo directory, through nfs4_fh_lookup_pseudo().
 */
nfsstat4
nfs4_fh_child(struct nfs4_compound *cs, const char *name, uint64_t ino,
	      uint64_t gen, struct nfs4_fh *out)
{
	struct nfs4_export_set *es = cs_exports(cs);
	struct nfs4_fh save;
	nfsstat4 status;
	bool had_sid = cs->have_current_stateid;

	if (!es)
		return NFS4ERR_SERVERFAULT;
	if (cs->current_fh.pseudo) {
		save = cs->current_fh;
		status = nfs4_fh_lookup_pseudo(cs, name);
		*out = cs->current_fh;
		cs->current_fh = save;
		cs->have_current_stateid = had_sid;
		return status;
	}
	for (unsigned i = 0; i < es->n; i++) {
		const struct nfs4_export *x = &es->v[i];

		if (x->usable && x->root_ino == ino &&
		    x->e != cs->current_fh.exp) {
			fh_set_export(cs, out, x, ino, gen);
			return NFS4_OK;
		}
	}
	{
		const struct nfs4_export *x =
			export_by_entry(es, cs->current_fh.exp);

		if (!x)
			return NFS4ERR_STALE;
		fh_set_export(cs, out, x, ino, gen);
	}
	return NFS4_OK;
}

/* See fsvc.h: the export id of a checked handle (0: pseudo). */
uint32_t
nfs4_fh_fsid(const struct nfs4_fh *fh)
{
	return fh->pseudo || !fh->exp ? 0 : fh->exp->fsid;
}

/* See fsvc.h: the fsid major of the current handle (0 for pseudo). */
uint32_t
nfs4_cur_fsid(struct nfs4_compound *cs)
{
	if (fh_check(cs, &cs->current_fh) != NFS4_OK || cs->current_fh.pseudo)
		return 0;
	return cs->current_fh.exp->fsid;
}

/* See fsvc.h: the export's rule flavours (SECINFO). */
uint32_t
nfs4_cur_flavors(struct nfs4_compound *cs, uint32_t *flavors, uint32_t max)
{
	const struct nfs4_fh *fh = &cs->current_fh;
	uint32_t n = 0;

	if (fh_check(cs, &cs->current_fh) != NFS4_OK || fh->pseudo ||
	    !fh->rule || fh->rule->nflavors == 0) {
		if (max >= 2) {
			flavors[n++] = AUTH_FLAVOR_SYS;
			flavors[n++] = AUTH_FLAVOR_NONE;
		}
		return n;
	}
	for (uint32_t i = 0; i < fh->rule->nflavors && n < max; i++)
		flavors[n++] = fh->rule->flavors[i];
	return n;
}

/* --- credentials and access ------------------------------------------------ */

static const struct exports_rule *
cur_rule(struct nfs4_compound *cs)
{
	if (fh_check(cs, &cs->current_fh) != NFS4_OK || cs->current_fh.pseudo)
		return NULL;
	return cs->current_fh.rule;
}

/*
 * See fsvc.h.  Squashing as nfs-utils documents it: all_squash maps every
 * user, root_squash uid and gid 0, to anonuid/anongid; AUTH_NONE is
 * always anonymous.
 */
void
nfs4_cred(struct nfs4_compound *cs, uint32_t *uid, uint32_t *gid)
{
	const struct exports_rule *r = cur_rule(cs);
	uint32_t anonuid = r ? r->anonuid : EXPORTS_ANON_ID;
	uint32_t anongid = r ? r->anongid : EXPORTS_ANON_ID;

	if (!cs->cred || cs->cred->flavor != AUTH_FLAVOR_SYS ||
	    (r && r->squash == EXPORTS_ALL_SQUASH)) {
		*uid = anonuid;
		*gid = anongid;
		return;
	}
	*uid = cs->cred->uid;
	*gid = cs->cred->gid;
	if (r && r->squash == EXPORTS_NO_ROOT_SQUASH)
		return;
	/* root_squash, also the default for pseudo directories */
	if (*uid == 0)
		*uid = anonuid;
	if (*gid == 0)
		*gid = anongid;
}

/* See fsvc.h. */
bool
nfs4_export_read_only(struct nfs4_compound *cs)
{
	const struct exports_rule *r = cur_rule(cs);

	return !r || r->read_only;
}

static bool
in_groups(struct nfs4_compound *cs, uint32_t gid, uint32_t egid)
{
	const struct exports_rule *r = cur_rule(cs);

	if (gid == egid)
		return true;
	/* Supplementary groups only when the caller was not squashed. */
	if (!cs->cred || cs->cred->flavor != AUTH_FLAVOR_SYS ||
	    (r && r->squash == EXPORTS_ALL_SQUASH))
		return false;
	for (uint32_t i = 0; i < cs->cred->ngids &&
			     i < RPC_AUTH_SYS_MAX_GIDS; i++)
		if (cs->cred->gids[i] == gid &&
		    !(gid == 0 && (!r || r->squash == EXPORTS_ROOT_SQUASH)))
			return true;
	return false;
}

/*
 * See fsvc.h: which ACCESS4_* bits of want the squashed caller has on a
 * file with attributes a, from the mode bits (RFC 8881 §18.1.3 leaves the
 * policy to the server: this is POSIX's).  Read-only exports drop the
 * change bits.  No locks.
 */
uint32_t
nfs4_access_allowed(struct nfs4_compound *cs, const struct fs_attr *a,
		    uint32_t want)
{
	uint32_t uid, gid, perm, got = 0;
	bool dir = a->type == FS_TYPE_DIR;

	nfs4_cred(cs, &uid, &gid);
	if (uid == 0) {
		perm = 07;
		/* Even root executes only what someone may execute. */
		if (!dir && !(a->mode & 0111))
			perm &= ~01u;
	} else if (uid == a->uid) {
		perm = (a->mode >> 6) & 07;
	} else if (in_groups(cs, a->gid, gid)) {
		perm = (a->mode >> 3) & 07;
	} else {
		perm = a->mode & 07;
	}
	if (perm & 04)
		got |= ACCESS4_READ;
	if (perm & 02) {
		got |= ACCESS4_MODIFY | ACCESS4_EXTEND;
		if (dir)
			got |= ACCESS4_DELETE;
	}
	if (perm & 01)
		got |= dir ? ACCESS4_LOOKUP : ACCESS4_EXECUTE;
	if (nfs4_export_read_only(cs))
		got &= ~(uint32_t)(ACCESS4_MODIFY | ACCESS4_EXTEND |
				   ACCESS4_DELETE);
	return got & want;
}

/* See fsvc.h.  No locks held on entry or return. */
nfsstat4
nfs4_check_access(struct nfs4_compound *cs, struct fs_inode *ip,
		  uint32_t access4_mask)
{
	const uint32_t change = ACCESS4_MODIFY | ACCESS4_EXTEND |
				ACCESS4_DELETE;
	struct fs_attr a;
	int err;

	if ((access4_mask & change) && nfs4_export_read_only(cs))
		return NFS4ERR_ROFS;
	err = fs_getattr(cs->srv->fs, ip, &a);
	if (err)
		return nfs4_errno_to_status(err);
	if (nfs4_access_allowed(cs, &a, access4_mask) == access4_mask)
		return NFS4_OK;
	/*
	 * Owner override for data access, as knfsd's MAY_OWNER_OVERRIDE:
	 * the owner may read and write its own file whatever the mode, so
	 * that a file created 0444 (git objects, tar) can be written
	 * through the OPEN that created it.  The ACCESS op does not get
	 * it: clients still see the mode.
	 */
	if (!(access4_mask & ~(uint32_t)(ACCESS4_READ | ACCESS4_MODIFY |
					 ACCESS4_EXTEND)) &&
	    a.type == FS_TYPE_REG) {
		uint32_t uid, gid;

		nfs4_cred(cs, &uid, &gid);
		if (uid == a.uid)
			return NFS4_OK;
	}
	return NFS4ERR_ACCESS;
}

/* --- names ------------------------------------------------------------------- */

/*
 * See fsvc.h: whether s[0..len) is well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), without the
 * noncharacters U+FFFE and U+FFFF, which no name or tag may carry.
 */
bool
nfs4_utf8_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (i + n >= len)
			return false;
		for (size_t k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
		    cp == 0xffff)
			return false;
		i += n + 1;
	}
	return true;
}

/* See fsvc.h (RFC 8881 §1.7.3, §18.x.3 "name" rules). */
nfsstat4
nfs4_check_name(const component4 *name, char buf[FS_NAME_MAX + 1])
{
	uint32_t len = name->utf8string_len;
	const char *s = name->utf8string_val;

	if (len == 0)
		return NFS4ERR_INVAL;
	if (!nfs4_utf8_valid((const uint8_t *)s, len))
		return NFS4ERR_INVAL;
	if (len > FS_NAME_MAX)
		return NFS4ERR_NAMETOOLONG;
	if (memchr(s, '/', len) || memchr(s, '\0', len))
		return NFS4ERR_BADNAME;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' &&
					   s[1] == '.'))
		return NFS4ERR_BADNAME;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return NFS4_OK;
}
