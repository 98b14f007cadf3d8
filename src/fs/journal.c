/*
 * journal.c - log records: append, and apply to the in-memory state.
 *
 * Every change is one record (docs/format-records.md).  An operation
 * checks everything under its locks, builds the record, appends it (it is
 * durable when vol_log_append() returns), then applies it with
 * fs_apply(); mount replays the log through the same fs_apply().  So the
 * state after a crash and replay is exactly the state the running server
 * had after the last durable record.  Apply functions therefore never
 * look at the clock or at anything outside the record and the state.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"

/*
 * See fs_impl.h.
 */
int
fs_tx_begin(struct fs *fs)
{
	if (fs->flags & FS_MOUNT_RDONLY)
		return -EROFS;
	if (atomic_load(&fs->shutdown))
		return -EIO;
	rwlock_lock(&fs->quiesce, LOCK_SHARED);
	if (atomic_load(&fs->shutdown)) {
		rwlock_unlock(&fs->quiesce);
		return -EIO;
	}
	return 0;
}

/*
 * End a change begun by fs_tx_begin().
 */
void
fs_tx_end(struct fs *fs)
{
	rwlock_unlock(&fs->quiesce);
}

/* See fs_impl.h. */
int
fs_tx_run(struct fs *fs, int (*body)(struct fs *fs, void *arg), void *arg)
{
	int rc;

	for (;;) {
		rc = fs_tx_begin(fs);
		if (rc)
			return rc;
		rc = body(fs, arg);
		fs_tx_end(fs);
		if (rc != FS_ELOGFULL)
			return rc;
		rc = fs_checkpoint(fs);
		if (rc)
			return rc;
	}
}

/*
 * See fs_impl.h.
 */
int
fs_log(struct fs *fs, uint16_t type, const void *rec, uint32_t len)
{
	int rc;

	rwlock_assert_held(&fs->quiesce, LOCK_SHARED);
	rc = vol_log_append(fs->vol, type, rec, len);
	if (rc == -ENOSPC)
		return FS_ELOGFULL;
	if (rc) {
		fs_shutdown(fs, "log append failed");
		return -EIO;
	}
	return 0;
}

/*
 * See fs_impl.h.
 */
int
fs_log_apply(struct fs *fs, uint16_t type, const void *rec, uint32_t len)
{
	int rc = fs_log(fs, type, rec, len);

	if (rc)
		return rc;
	rc = fs_apply(fs, type, rec, len);
	if (rc) {
		/* The record is durable but memory disagrees: stop writing. */
		log_error("fs: applying record type %u failed: %d", type, rc);
		fs_shutdown(fs, "in-memory apply of a durable record failed");
		return -EIO;
	}
	return 0;
}

/* Find an inode a record names; corrupt if missing. */
static int
rec_inode(struct fs *fs, uint64_t ino, struct fs_inode **out)
{
	struct fs_inode *ip = fs_itable_find(fs, ino);

	if (!ip)
		return -EUCLEAN;
	if (!fs->replaying)
		fs_assert_ilocked(ip, FS_ILOCK_EXCL);
	*out = ip;
	return 0;
}

static int
rec_dir(struct fs *fs, uint64_t ino, struct fs_inode **out)
{
	int rc = rec_inode(fs, ino, out);

	if (rc == 0 && (*out)->type != FS_TYPE_DIR)
		rc = -EUCLEAN;
	return rc;
}

static void
touch(struct fs_inode *ip, const struct fs_time *t, bool mtime)
{
	ip->ctime = *t;
	if (mtime)
		ip->mtime = *t;
	ip->change++;
}

static void
raise_next_ino(struct fs *fs, uint64_t ino)
{
	uint64_t cur = atomic_load(&fs->next_ino);

	while (cur <= ino &&
	       !atomic_compare_exchange_weak(&fs->next_ino, &cur, ino + 1))
		;
}

static int
apply_create(struct fs *fs, const struct fs_rec_create *r, uint32_t len)
{
	struct fs_inode *dir, *ip;
	struct fs_time t;
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + r->namelen + r->targetlen)
		return -EUCLEAN;
	if (r->type < FS_TYPE_REG || r->type > FS_TYPE_FIFO)
		return -EUCLEAN;
	rc = rec_dir(fs, r->parent, &dir);
	if (rc)
		return rc;
	if (fs_itable_find(fs, r->ino))
		return -EUCLEAN;
	ip = fs_inode_alloc(fs, r->ino, r->type);
	if (!ip)
		return -ENOMEM;
	fs_time_from_rec(&t, &r->time);
	ip->gen = r->gen;
	ip->mode = r->mode & 07777;
	ip->uid = r->uid;
	ip->gid = r->gid;
	ip->rdev_major = r->rdev_major;
	ip->rdev_minor = r->rdev_minor;
	ip->ctime = ip->btime = t;
	fs_time_from_rec(&ip->atime, &r->atime);
	fs_time_from_rec(&ip->mtime, &r->mtime);
	ip->change = 1;
	if (r->type == FS_TYPE_DIR) {
		ip->nlink = 2;
		ip->parent = dir->ino;
	} else {
		ip->nlink = 1;
	}
	if (r->type == FS_TYPE_LNK) {
		ip->target = malloc(r->targetlen + 1u);
		if (!ip->target) {
			rc = -ENOMEM;
			goto out_destroy;
		}
		memcpy(ip->target, r->data + r->namelen, r->targetlen);
		ip->target[r->targetlen] = '\0';
		ip->size = r->targetlen;
	}
	rc = fs_dir_add(dir->dir, r->data, r->namelen, r->ino, r->type, 0);
	if (rc)
		goto out_destroy;
	if (r->type == FS_TYPE_DIR)
		dir->nlink++;
	touch(dir, &t, true);
	raise_next_ino(fs, r->ino);
	fs_itable_insert(fs, ip);
	return 0;

out_destroy:
	fs_inode_destroy(ip);
	return rc;
}

static int
apply_link(struct fs *fs, const struct fs_rec_link *r, uint32_t len)
{
	struct fs_inode *dir, *ip;
	struct fs_time t;
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + r->namelen)
		return -EUCLEAN;
	rc = rec_dir(fs, r->dir, &dir);
	if (rc)
		return rc;
	rc = rec_inode(fs, r->ino, &ip);
	if (rc)
		return rc;
	if (ip->type == FS_TYPE_DIR)
		return -EUCLEAN;
	rc = fs_dir_add(dir->dir, r->name, r->namelen, ip->ino, ip->type, 0);
	if (rc)
		return rc;
	fs_time_from_rec(&t, &r->time);
	ip->nlink++;
	touch(ip, &t, false);
	touch(dir, &t, true);
	return 0;
}

/* The victim of an unlink or rename loses one name. */
static void
drop_link(struct fs_inode *dir, struct fs_inode *ip, const struct fs_time *t)
{
	if (ip->type == FS_TYPE_DIR) {
		ip->nlink = 0;		/* its "." and its name */
		dir->nlink--;		/* its ".." */
	} else {
		ip->nlink--;
	}
	touch(ip, t, false);
}

static int
apply_unlink(struct fs *fs, const struct fs_rec_link *r, uint32_t len)
{
	struct fs_inode *dir, *ip;
	struct fs_dirent *de;
	struct fs_time t;
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + r->namelen)
		return -EUCLEAN;
	rc = rec_dir(fs, r->dir, &dir);
	if (rc)
		return rc;
	rc = rec_inode(fs, r->ino, &ip);
	if (rc)
		return rc;
	de = fs_dir_lookup(dir->dir, r->name, r->namelen);
	if (!de || de->ino != ip->ino || ip->nlink == 0)
		return -EUCLEAN;
	if (ip->type == FS_TYPE_DIR && fs_dir_count(ip->dir) != 0)
		return -EUCLEAN;
	rc = fs_dir_remove(dir->dir, r->name, r->namelen);
	if (rc)
		return rc;
	fs_time_from_rec(&t, &r->time);
	drop_link(dir, ip, &t);
	touch(dir, &t, true);
	return 0;
}

static int
apply_rename(struct fs *fs, const struct fs_rec_rename *r, uint32_t len)
{
	struct fs_inode *sdir, *ddir, *ip, *victim = NULL;
	const char *sname = r->names, *dname = r->names + r->snamelen;
	struct fs_dirent *de;
	struct fs_time t;
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + r->snamelen + r->dnamelen)
		return -EUCLEAN;
	if ((rc = rec_dir(fs, r->sdir, &sdir)) ||
	    (rc = rec_dir(fs, r->ddir, &ddir)) ||
	    (rc = rec_inode(fs, r->ino, &ip)))
		return rc;
	if (r->victim && (rc = rec_inode(fs, r->victim, &victim)))
		return rc;
	de = fs_dir_lookup(sdir->dir, sname, r->snamelen);
	if (!de || de->ino != ip->ino)
		return -EUCLEAN;
	de = fs_dir_lookup(ddir->dir, dname, r->dnamelen);
	if ((victim && (!de || de->ino != victim->ino)) || (!victim && de))
		return -EUCLEAN;
	fs_time_from_rec(&t, &r->time);
	/*
	 * Remove both names first, then add the new one: the add cannot fail
	 * for a duplicate, and it allocates only the entry itself.
	 */
	if (victim) {
		if (victim->type == FS_TYPE_DIR &&
		    fs_dir_count(victim->dir) != 0)
			return -EUCLEAN;
		rc = fs_dir_remove(ddir->dir, dname, r->dnamelen);
		if (rc)
			return rc;
		drop_link(ddir, victim, &t);
	}
	rc = fs_dir_remove(sdir->dir, sname, r->snamelen);
	if (rc)
		return rc;
	rc = fs_dir_add(ddir->dir, dname, r->dnamelen, ip->ino, ip->type, 0);
	if (rc)
		return rc;
	if (ip->type == FS_TYPE_DIR && sdir != ddir) {
		ip->parent = ddir->ino;
		sdir->nlink--;
		ddir->nlink++;
	}
	touch(ip, &t, false);
	touch(sdir, &t, true);
	if (ddir != sdir)
		touch(ddir, &t, true);
	return 0;
}

/* Collects the blocks a record frees, to release them after apply. */
static void
freed_cb(void *ctx, uint64_t vblk, uint64_t len)
{
	struct fs *fs = ctx;

	if (!fs->replaying)
		fs_blocks_release(fs, vblk, len);
}

static int
apply_setattr(struct fs *fs, const struct fs_rec_setattr *r, uint32_t len)
{
	struct fs_inode *ip;
	struct fs_time ct;
	int rc;

	if (len != sizeof(*r))
		return -EUCLEAN;
	rc = rec_inode(fs, r->ino, &ip);
	if (rc)
		return rc;
	if (r->mask & FS_SET_SIZE) {
		if (ip->type != FS_TYPE_REG || r->size > FS_MAX_FILE_SIZE)
			return -EUCLEAN;
		if (r->size < ip->size) {
			uint64_t first = fs_blk_up(fs, r->size);

			rc = fs_extmap_remove(ip->map, first, UINT64_MAX - first,
					      freed_cb, fs);
			if (rc)
				return rc;
		}
		if (r->size != ip->size)
			fs_time_from_rec(&ip->mtime, &r->ctime);
		ip->size = r->size;
	}
	if (r->mask & FS_SET_MODE)
		ip->mode = r->mode & 07777;
	if (r->mask & FS_SET_UID)
		ip->uid = r->uid;
	if (r->mask & FS_SET_GID)
		ip->gid = r->gid;
	if (r->mask & (FS_SET_ATIME | FS_SET_ATIME_NOW))
		fs_time_from_rec(&ip->atime, &r->atime);
	if (r->mask & (FS_SET_MTIME | FS_SET_MTIME_NOW))
		fs_time_from_rec(&ip->mtime, &r->mtime);
	if (r->mask & FS_SET_BTIME)
		fs_time_from_rec(&ip->btime, &r->btime);
	fs_time_from_rec(&ct, &r->ctime);
	touch(ip, &ct, false);
	return 0;
}

static int
apply_map(struct fs *fs, const struct fs_rec_map *r, uint32_t len)
{
	struct fs_inode *ip;
	int rc;

	if (len < sizeof(*r) ||
	    len != sizeof(*r) + (uint64_t)r->nops * sizeof(r->ops[0]))
		return -EUCLEAN;
	rc = rec_inode(fs, r->ino, &ip);
	if (rc)
		return rc;
	if (ip->type != FS_TYPE_REG)
		return -EUCLEAN;
	for (uint32_t i = 0; i < r->nops; i++) {
		const struct fs_rec_mapop *op = &r->ops[i];
		struct fs_ext e;

		if (op->len == 0 || op->fblk + op->len < op->fblk)
			return -EUCLEAN;
		switch (op->kind) {
		case FS_MAPOP_INSERT:
			if (op->state != FS_EXT_RW && op->state != FS_EXT_INVALID)
				return -EUCLEAN;
			e.fblk = op->fblk;
			e.len = op->len;
			e.vblk = op->vblk;
			e.state = op->state;
			e.pad = 0;
			rc = fs_extmap_insert(ip->map, &e);
			break;
		case FS_MAPOP_PUNCH:
			rc = fs_extmap_remove(ip->map, op->fblk, op->len,
					      freed_cb, fs);
			break;
		case FS_MAPOP_DROP:
			rc = fs_extmap_remove(ip->map, op->fblk, op->len,
					      NULL, NULL);
			break;
		case FS_MAPOP_STATE:
			if (op->state != FS_EXT_RW && op->state != FS_EXT_INVALID)
				return -EUCLEAN;
			rc = fs_extmap_set_state(ip->map, op->fblk, op->len,
						 op->state);
			break;
		default:
			return -EUCLEAN;
		}
		if (rc)
			return rc == -EEXIST ? -EUCLEAN : rc;
	}
	if (r->flags & FS_MAP_SET_SIZE) {
		if (r->size > FS_MAX_FILE_SIZE)
			return -EUCLEAN;
		ip->size = r->size;
	}
	if (r->flags & FS_MAP_SET_MTIME) {
		struct fs_time t;

		fs_time_from_rec(&t, &r->time);
		touch(ip, &t, true);
	} else {
		ip->change++;
	}
	return 0;
}

static int
apply_ifree(struct fs *fs, const struct fs_rec_ifree *r, uint32_t len)
{
	struct fs_inode *ip;

	if (len != sizeof(*r))
		return -EUCLEAN;
	ip = fs_itable_find(fs, r->ino);
	if (!ip || ip->nlink != 0 || ip->ino == fs->root_ino)
		return -EUCLEAN;
	if (ip->map) {
		int rc = fs_extmap_remove(ip->map, 0, UINT64_MAX, freed_cb, fs);

		if (rc)
			return rc;
	}
	fs_itable_remove(fs, ip);
	fs_inode_destroy(ip);
	return 0;
}

static int
apply_xattr(struct fs *fs, uint16_t type, const struct fs_rec_xattr *r,
	    uint32_t len)
{
	struct fs_inode *ip;
	struct fs_time t;
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + r->namelen + (uint64_t)r->vlen)
		return -EUCLEAN;
	rc = rec_inode(fs, r->ino, &ip);
	if (rc)
		return rc;
	if (type == FS_REC_XATTR_SET)
		rc = fs_xattr_apply_set(ip, r->data, r->namelen,
					r->data + r->namelen, r->vlen);
	else
		rc = fs_xattr_apply_del(ip, r->data, r->namelen);
	if (rc)
		return rc == -ENODATA ? -EUCLEAN : rc;
	fs_time_from_rec(&t, &r->time);
	touch(ip, &t, false);
	return 0;
}

static int
apply_srv(struct fs *fs, uint16_t type, const struct fs_rec_srv *r,
	  uint32_t len)
{
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + (uint64_t)r->klen + r->vlen)
		return -EUCLEAN;
	if (type == FS_REC_SRV_PUT)
		return fs_srv_set(fs, r->data, r->klen, r->data + r->klen,
				  r->vlen);
	rc = fs_srv_unset(fs, r->data, r->klen);
	return rc == -ENOENT ? -EUCLEAN : rc;
}

static int
apply_setnlink(struct fs *fs, const struct fs_rec_setnlink *r, uint32_t len)
{
	struct fs_inode *ip;
	int rc;

	if (len != sizeof(*r))
		return -EUCLEAN;
	rc = rec_inode(fs, r->ino, &ip);
	if (rc)
		return rc;
	ip->nlink = r->nlink;
	ip->change++;
	return 0;
}

static int
apply_dirent_del(struct fs *fs, const struct fs_rec_link *r, uint32_t len)
{
	struct fs_inode *dir;
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + r->namelen)
		return -EUCLEAN;
	rc = rec_dir(fs, r->dir, &dir);
	if (rc)
		return rc;
	rc = fs_dir_remove(dir->dir, r->name, r->namelen);
	if (rc)
		return -EUCLEAN;
	dir->change++;
	return 0;
}

/*
 * See fs_impl.h.
 */
/* fsck: give a directory that has no name one in dir (lost+found). */
static int
apply_dir_adopt(struct fs *fs, const struct fs_rec_link *r, uint32_t len)
{
	struct fs_inode *dir, *ip;
	int rc;

	if (len < sizeof(*r) || len != sizeof(*r) + r->namelen)
		return -EUCLEAN;
	if ((rc = rec_dir(fs, r->dir, &dir)) || (rc = rec_dir(fs, r->ino, &ip)))
		return rc;
	if (ip == dir || ip->ino == fs->root_ino)
		return -EUCLEAN;
	rc = fs_dir_add(dir->dir, r->name, r->namelen, ip->ino, FS_TYPE_DIR, 0);
	if (rc)
		return rc == -EEXIST ? -EUCLEAN : rc;
	ip->parent = dir->ino;
	dir->nlink++;
	dir->change++;
	ip->change++;
	return 0;
}

int
fs_apply(struct fs *fs, uint16_t type, const void *rec, uint32_t len)
{
	switch (type) {
	case FS_REC_CREATE:
		return apply_create(fs, rec, len);
	case FS_REC_LINK:
		return apply_link(fs, rec, len);
	case FS_REC_UNLINK:
		return apply_unlink(fs, rec, len);
	case FS_REC_RENAME:
		return apply_rename(fs, rec, len);
	case FS_REC_SETATTR:
		return apply_setattr(fs, rec, len);
	case FS_REC_MAP:
		return apply_map(fs, rec, len);
	case FS_REC_IFREE:
		return apply_ifree(fs, rec, len);
	case FS_REC_XATTR_SET:
	case FS_REC_XATTR_DEL:
		return apply_xattr(fs, type, rec, len);
	case FS_REC_SRV_PUT:
	case FS_REC_SRV_DEL:
		return apply_srv(fs, type, rec, len);
	case FS_REC_SETNLINK:
		return apply_setnlink(fs, rec, len);
	case FS_REC_DIRENT_DEL:
		return apply_dirent_del(fs, rec, len);
	case FS_REC_DIR_ADOPT:
		return apply_dir_adopt(fs, rec, len);
	default:
		return -EUCLEAN;
	}
}

/*
 * vol_log_replay() callback: apply one record at mount; any mismatch
 * refuses the volume (-EUCLEAN).  Locks: none (mount).
 */
int
fs_replay_one(void *ctx, uint16_t type, const void *payload, uint32_t len)
{
	struct fs *fs = ctx;
	int rc = fs_apply(fs, type, payload, len);

	if (rc) {
		log_error("fs: replay: record type %u (%u bytes) does not apply: %d",
			  type, len, rc);
		return rc == -ENOMEM ? rc : -EUCLEAN;
	}
	return 0;
}
