/*
 * mount.c - mount (checkpoint + replay + allocator rebuild + orphans),
 * unmount, checkpoint, forced shutdown, statfs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"

/*
 * See include/fs.h: refuse every later change (and shut the volume down),
 * logged once.  Locks: none.
 */
void
fs_shutdown(struct fs *fs, const char *why)
{
	bool was = atomic_exchange(&fs->shutdown, true);

	if (!was) {
		log_error("fs: forced shutdown: %s; every further change fails "
			  "with EIO", why);
		vol_shutdown(fs->vol, why);
	}
}

/*
 * See include/fs.h.
 */
bool
fs_is_shutdown(const struct fs *fs)
{
	return atomic_load(&fs->shutdown);
}

/*
 * The volume under fs (for GETDEVICEINFO and pins).
 */
struct vol *
fs_vol(struct fs *fs)
{
	return fs->vol;
}

/*
 * The volume's block size.
 */
uint32_t
fs_block_size(const struct fs *fs)
{
	return fs->bsize;
}

/*
 * The root directory's inode number.
 */
uint64_t
fs_root_ino(const struct fs *fs)
{
	return fs->root_ino;
}

/*
 * See include/fs.h.  Locks: none (counters are read racily).
 */
int
fs_statfs(struct fs *fs, struct fs_statfs *out)
{
	out->block_size = fs->bsize;
	out->blocks_total = vol_data_blocks(fs->vol);
	out->blocks_free = fs->alloc_ready ? fs_alloc_free_count(&fs->alloc) : 0;
	out->inodes_used = atomic_load(&fs->ninodes);
	out->inodes_free = FS_INODES_MAX - out->inodes_used;
	return 0;
}

/*
 * Bound every layout break an operation makes (DESIGN.md rule 5): the NFS
 * layer sets a short wait and answers NFS4ERR_DELAY on -EAGAIN; the
 * recall carries on and the retried operation finds it done.  0: wait
 * until done (local callers, tools).  Locks: none.
 */
void
fs_set_break_wait(struct fs *fs, uint64_t max_wait_ns)
{
	atomic_store(&fs->break_wait_ns, max_wait_ns);
}

/* See fs_impl.h. */
uint64_t
fs_break_deadline(struct fs *fs)
{
	uint64_t w = atomic_load(&fs->break_wait_ns);

	return w ? clock_now_ns() + w : 0;
}

/*
 * Write a checkpoint.  Takes the quiesce lock exclusively: every change
 * holds it shared from building its record to applying it, so the image
 * matches the end of the log exactly.
 * Locks: the caller holds no ILOCK and not fs->quiesce.
 */
int
fs_checkpoint(struct fs *fs)
{
	int rc;

	if (fs->flags & FS_MOUNT_RDONLY)
		return -EROFS;
	if (atomic_load(&fs->shutdown))
		return -EIO;
	rwlock_lock(&fs->quiesce, LOCK_EXCL);
	rc = vol_checkpoint(fs->vol, fs_ckpt_save, fs);
	rwlock_unlock(&fs->quiesce);
	if (rc == -ENOSPC) {
		/* The image does not fit: the log can never be emptied. */
		fs_shutdown(fs, "checkpoint does not fit its area");
		return -EIO;
	}
	if (rc) {
		fs_shutdown(fs, "checkpoint failed");
		return rc == -EIO ? rc : -EIO;
	}
	atomic_fetch_add(&fs->checkpoints, 1);
	return 0;
}

static int
mark_used(void *ctx, const struct fs_ext *e)
{
	struct fs *fs = ctx;
	int rc;

	if (e->vblk >= vol_data_blocks(fs->vol) ||
	    e->vblk + e->len > vol_data_blocks(fs->vol))
		rc = -EUCLEAN;
	else
		rc = fs_alloc_mark_used(&fs->alloc, e->vblk, e->len);
	if (rc && rc != -ENOMEM && (fs->flags & FS_MOUNT_FSCK)) {
		fs->mount_conflicts++;	/* fs_check() names it */
		rc = 0;
	}
	return rc;
}

static int
rebuild_one(void *ctx, struct fs_inode *ip)
{
	struct fs *fs = ctx;
	int rc;

	if (!ip->map)
		return 0;
	rc = fs_extmap_walk(ip->map, 0, UINT64_MAX, mark_used, fs);
	if (rc == -EEXIST || rc == -EINVAL || rc == -EUCLEAN) {
		log_error("fs: inode %llu maps a block another file maps, or "
			  "one outside the data area",
			  (unsigned long long)ip->ino);
		rc = -EUCLEAN;
	}
	return rc;
}

struct orphans {
	uint64_t	*inos;
	size_t		n;
	size_t		cap;
};

static int
find_orphan(void *ctx, struct fs_inode *ip)
{
	struct orphans *o = ctx;

	if (ip->nlink != 0)
		return 0;
	if (o->n == o->cap) {
		size_t nc = o->cap ? o->cap * 2 : 16;
		uint64_t *ni = realloc(o->inos, nc * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		o->inos = ni;
		o->cap = nc;
	}
	o->inos[o->n++] = ip->ino;
	return 0;
}

/* Free inodes whose last link went while they were open (and the server
 * then stopped). */
static int
free_orphans(struct fs *fs)
{
	struct orphans o = { 0 };
	int rc = fs_itable_walk(fs, find_orphan, &o);

	for (size_t i = 0; rc == 0 && i < o.n; i++) {
		struct fs_rec_ifree r = { .ino = o.inos[i] };

		for (;;) {
			rc = fs_tx_begin(fs);
			if (rc)
				break;
			rc = fs_log_apply(fs, FS_REC_IFREE, &r, sizeof(r));
			fs_tx_end(fs);
			if (rc != FS_ELOGFULL)
				break;
			rc = fs_checkpoint(fs);
			if (rc)
				break;
		}
	}
	free(o.inos);
	return rc;
}

/* A new volume: the root directory, written by the first checkpoint. */
static int
make_root(struct fs *fs)
{
	struct fs_inode *ip = fs_inode_alloc(fs, FS_ROOT_INO, FS_TYPE_DIR);
	struct fs_time now;

	if (!ip)
		return -ENOMEM;
	fs_time_now(&now);
	ip->gen = vol_boot_count(fs->vol);
	ip->mode = 0755;
	ip->nlink = 2;
	ip->parent = FS_ROOT_INO;
	ip->atime = ip->mtime = ip->ctime = ip->btime = now;
	ip->change = 1;
	fs_itable_insert(fs, ip);
	fs->root_ino = FS_ROOT_INO;
	atomic_store(&fs->next_ino, FS_ROOT_INO + 1);
	return 0;
}

/*
 * See include/fs.h.  Locks: none; single-threaded until it returns.
 */
int
fs_mount(const char *path, unsigned flags, struct fs **out)
{
	struct fs *fs;
	int rc;

	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->flags = flags;
	rwlock_init(&fs->quiesce, "fs.quiesce");
	mutex_init(&fs->rename_lock, "fs.rename");
	fs_itable_init(fs);
	fs_srv_init(fs);
	atomic_init(&fs->next_ino, FS_ROOT_INO + 1);

	rc = vol_open(path, (flags & FS_MOUNT_RDONLY) ? VOL_OPEN_RDONLY : 0,
		      &fs->vol);
	if (rc)
		goto out_free;
	fs->bsize = vol_block_size(fs->vol);
	fs->bshift = (unsigned)__builtin_ctz(fs->bsize);

	rc = vol_checkpoint_load(fs->vol, fs_ckpt_load, fs);
	if (rc)
		goto out_close;
	if (fs->root_ino == 0) {
		rc = make_root(fs);
		if (rc)
			goto out_close;
	}

	fs->replaying = true;
	rc = vol_log_replay(fs->vol, fs_replay_one, fs);
	fs->replaying = false;
	if (rc)
		goto out_close;

	rc = fs_alloc_init(&fs->alloc, vol_data_blocks(fs->vol));
	if (rc)
		goto out_close;
	fs->alloc_ready = true;
	rc = fs_itable_walk(fs, rebuild_one, fs);
	if (rc)
		goto out_close;

	if (!(flags & FS_MOUNT_RDONLY)) {
		if (!(flags & FS_MOUNT_FSCK)) {
			rc = free_orphans(fs);
			if (rc)
				goto out_close;
		}
		/*
		 * A new volume gets its root only through this checkpoint (a
		 * crash before it leaves the volume as mkfs wrote it); an old
		 * one starts with an empty log.
		 */
		rc = fs_checkpoint(fs);
		if (rc)
			goto out_close;
	}
	*out = fs;
	return 0;

out_close:
	vol_close(fs->vol);
out_free:
	if (fs->alloc_ready)
		fs_alloc_destroy(&fs->alloc);
	fs_itable_destroy(fs);
	fs_srv_destroy(fs);
	mutex_destroy(&fs->rename_lock);
	rwlock_destroy(&fs->quiesce);
	free(fs);
	return rc;
}

/*
 * See include/fs.h.  Locks: no other thread uses fs any more.
 */
int
fs_unmount(struct fs *fs)
{
	int rc = 0;

	if (!(fs->flags & FS_MOUNT_RDONLY) && !atomic_load(&fs->shutdown))
		rc = fs_checkpoint(fs);
	vol_close(fs->vol);
	fs_itable_destroy(fs);
	fs_srv_destroy(fs);
	if (fs->alloc_ready)
		fs_alloc_destroy(&fs->alloc);
	mutex_destroy(&fs->rename_lock);
	rwlock_destroy(&fs->quiesce);
	free(fs);
	return rc;
}
