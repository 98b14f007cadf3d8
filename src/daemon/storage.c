/*
 * storage.c - the daemon's storage: create the volume on first start,
 * mount the engine, and hold the exports table (reloaded on SIGHUP).
 */
#include "config.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon.h"
#include "common/exports.h"
#include "fs.h"
#include "vol.h"

/*
 * One exports table with its readers' count: the NFS layer holds a
 * reference while a COMPOUND uses the table, so a reload frees the old
 * table only after its last reader is done.
 */
struct daemon_exports {
	atomic_uint		ref;
	uint64_t		gen;
	struct exports_table	*t;
};

struct daemon_storage {
	struct fs		*fs;
	char			*exports_path;	/* NULL: built-in default */
	/* Protects exports (the pointer) and exports_gen. */
	struct mutex		exports_lock;
	struct daemon_exports	*exports;	/* current table, one reference */
	uint64_t		exports_gen;
	/* exports->gen, for lock-free "did it change?" checks. */
	_Atomic uint64_t	exports_gen_pub;
};

static int
exports_wrap(struct daemon_storage *st, struct exports_table *t)
{
	struct daemon_exports *x = calloc(1, sizeof(*x));

	if (!x) {
		exports_free(t);
		return -ENOMEM;
	}
	atomic_init(&x->ref, 1);
	x->t = t;
	mutex_lock(&st->exports_lock);
	x->gen = ++st->exports_gen;
	st->exports = x;
	atomic_store(&st->exports_gen_pub, x->gen);
	mutex_unlock(&st->exports_lock);
	return 0;
}

static void
exports_put(struct daemon_exports *x)
{
	if (x && atomic_fetch_sub(&x->ref, 1) == 1) {
		exports_free(x->t);
		free(x);
	}
}

static int
load_exports(const char *path, struct exports_table **out,
	     char err[CONF_ERR_MAX])
{
	if (!path)
		return exports_default(out);
	return exports_parse(path, out, err);
}

int
daemon_storage_check_exports(const struct daemon_config *cfg,
			     char err[CONF_ERR_MAX])
{
	struct exports_table *t = NULL;
	int rc;

	err[0] = '\0';
	rc = load_exports(cfg->exports, &t, err);
	exports_free(t);
	return rc;
}

/*
 * The embedded default: a volume file that does not exist yet is created
 * (sparse, server.volume_size) and formatted, so a first start needs no
 * preparation.  An existing file that holds something else is never
 * formatted over.
 */
static int
volume_prepare(const struct daemon_config *cfg)
{
	struct stat st;
	int rc;

	if (stat(cfg->volume, &st) == 0) {
		rc = vol_probe(cfg->volume);
		if (rc < 0)
			return rc;
		if (rc == 0) {
			log_error("%s: exists but holds no pmemnfsd file system; "
				  "format it with pmemnfs-mkfs", cfg->volume);
			return -ENOTSUP;
		}
		return 0;
	}
	if (errno != ENOENT)
		return -errno;
	log_notice("%s: creating a %llu MiB volume", cfg->volume,
		   (unsigned long long)(cfg->volume_size >> 20));
	return vol_create(cfg->volume, cfg->volume_size, NULL);
}

int
daemon_storage_open(const struct daemon_config *cfg,
		    struct daemon_storage **out)
{
	struct daemon_storage *st;
	char err[CONF_ERR_MAX] = "";
	int rc;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	mutex_init(&st->exports_lock, "exports");
	if (cfg->exports) {
		st->exports_path = strdup(cfg->exports);
		if (!st->exports_path) {
			rc = -ENOMEM;
			goto out_free;
		}
	}
	{
		struct exports_table *t = NULL;

		rc = load_exports(st->exports_path, &t, err);
		if (rc) {
			log_error("%s", err[0] ? err :
				  "cannot build the exports table");
			goto out_free;
		}
		rc = exports_wrap(st, t);
		if (rc)
			goto out_free;
	}
	rc = volume_prepare(cfg);
	if (rc)
		goto out_exports;
	rc = fs_mount(cfg->volume, 0, &st->fs);
	if (rc)
		goto out_exports;
	*out = st;
	return 0;
out_exports:
	exports_put(st->exports);
out_free:
	free(st->exports_path);
	mutex_destroy(&st->exports_lock);
	free(st);
	return rc;
}

void
daemon_storage_close(struct daemon_storage *st)
{
	int rc;

	if (!st)
		return;
	rc = fs_unmount(st->fs);
	if (rc)
		log_error("unmount: final checkpoint failed: %s; the log "
			  "will be replayed at the next start", strerror(-rc));
	exports_put(st->exports);
	free(st->exports_path);
	mutex_destroy(&st->exports_lock);
	free(st);
}

struct fs *
daemon_storage_fs(struct daemon_storage *st)
{
	return st->fs;
}

int
daemon_storage_reload_exports(struct daemon_storage *st)
{
	struct exports_table *t = NULL;
	struct daemon_exports *x, *old;
	char err[CONF_ERR_MAX] = "";
	int rc;

	rc = load_exports(st->exports_path, &t, err);
	if (rc) {
		log_error("%s", err[0] ? err : "cannot rebuild the exports table");
		return rc;
	}
	x = calloc(1, sizeof(*x));
	if (!x) {
		exports_free(t);
		return -ENOMEM;
	}
	atomic_init(&x->ref, 1);
	x->t = t;
	mutex_lock(&st->exports_lock);
	old = st->exports;
	x->gen = ++st->exports_gen;
	st->exports = x;
	atomic_store(&st->exports_gen_pub, x->gen);
	mutex_unlock(&st->exports_lock);
	/* COMPOUNDs still using the old table hold references to it. */
	exports_put(old);
	log_notice("exports reloaded from %s",
		   st->exports_path ? st->exports_path : "built-in default");
	return 0;
}

/*
 * The nfs4_exports_src get(): the current table with a reference.
 * Locks: takes exports_lock briefly; none held on return.
 */
static const struct exports_table *
storage_exports_get(void *ctx, void **tok, uint64_t *gen)
{
	struct daemon_storage *st = ctx;
	struct daemon_exports *x;

	mutex_lock(&st->exports_lock);
	x = st->exports;
	atomic_fetch_add(&x->ref, 1);
	*gen = x->gen;
	mutex_unlock(&st->exports_lock);
	*tok = x;
	return x->t;
}

static void
storage_exports_put(void *ctx, void *tok)
{
	(void)ctx;
	exports_put(tok);
}

/* The nfs4_exports_src gen(): no lock. */
static uint64_t
storage_exports_gen(void *ctx)
{
	struct daemon_storage *st = ctx;

	return atomic_load(&st->exports_gen_pub);
}

void
daemon_storage_exports_src(struct daemon_storage *st,
			   struct nfs4_exports_src *out)
{
	out->get = storage_exports_get;
	out->put = storage_exports_put;
	out->gen = storage_exports_gen;
	out->ctx = st;
}
