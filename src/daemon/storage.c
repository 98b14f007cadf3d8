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

struct daemon_storage {
	struct fs		*fs;
	char			*exports_path;	/* NULL: built-in default */
	struct mutex		exports_lock;	/* serializes reloads */
	struct exports_table	*exports;	/* current table */
};

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
	rc = load_exports(st->exports_path, &st->exports, err);
	if (rc) {
		log_error("%s", err[0] ? err : "cannot build the exports table");
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
	exports_free(st->exports);
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
	exports_free(st->exports);
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
	struct exports_table *t = NULL, *old;
	char err[CONF_ERR_MAX] = "";
	int rc;

	rc = load_exports(st->exports_path, &t, err);
	if (rc) {
		log_error("%s", err[0] ? err : "cannot rebuild the exports table");
		return rc;
	}
	mutex_lock(&st->exports_lock);
	old = st->exports;
	st->exports = t;
	mutex_unlock(&st->exports_lock);
	/*
	 * Nothing reads the table outside exports_lock yet; when the NFS
	 * layer starts checking exports it takes a counted reference and
	 * this free moves behind the last put.
	 */
	exports_free(old);
	log_notice("exports reloaded from %s",
		   st->exports_path ? st->exports_path : "built-in default");
	return 0;
}
