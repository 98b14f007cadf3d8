/*
 * namei.c - the namespace operations: lookup, create, link, unlink,
 * rename, readlink, readdir, and freeing an unlinked inode.
 *
 * Pattern of every change (see journal.c): take the outer locks (and break
 * layouts when blocks will leave a file), then in a loop: fs_tx_begin(),
 * ILOCKs, check, build the record, fs_log_apply(), unlock, fs_tx_end();
 * when the log was full, checkpoint and go round again.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"

/*
 * See include/fs.h.  Locks: takes dir's ILOCK shared.  References: *out
 * holds one.  Returns 0, -ENOENT, -ENOTDIR, -ENAMETOOLONG.
 */
int
fs_lookup(struct fs *fs, struct fs_inode *dir, const char *name,
	  struct fs_inode **out)
{
	struct fs_dirent *de;
	uint64_t ino = 0;
	int rc = 0;

	fs_assert_iunlocked(dir);
	fs_ilock(dir, FS_ILOCK_SHARED);
	if (dir->type != FS_TYPE_DIR) {
		rc = -ENOTDIR;
	} else if (strcmp(name, ".") == 0) {
		ino = dir->ino;
	} else if (strcmp(name, "..") == 0) {
		ino = dir->parent;
	} else {
		size_t len = strnlen(name, FS_NAME_MAX + 1);

		if (len > FS_NAME_MAX) {
			rc = -ENAMETOOLONG;
		} else {
			de = fs_dir_lookup(dir->dir, name, len);
			if (de)
				ino = de->ino;
			else
				rc = -ENOENT;
		}
	}
	/*
	 * Take the reference while the entry is still there: an unlink of
	 * it needs this ILOCK exclusively, so the inode cannot be evicted
	 * before fs_iget() counts us.
	 */
	if (rc == 0) {
		rc = fs_iget(fs, ino, 0, out);
		if (rc)
			rc = -EUCLEAN;	/* an entry naming no inode */
	}
	fs_iunlock(dir, FS_ILOCK_SHARED);
	return rc;
}

/*
 * See include/fs.h.  Locks: takes ILOCK shared.  Returns 0, -EINVAL (not
 * a symlink), -ERANGE (buf too small; *len says how much is needed).
 */
int
fs_readlink(struct fs *fs, struct fs_inode *ip, char *buf, size_t bufsz,
	    size_t *len)
{
	int rc = 0;

	fs_assert_iunlocked(ip);
	fs_ilock(ip, FS_ILOCK_SHARED);
	if (ip->type != FS_TYPE_LNK || !ip->target) {
		rc = -EINVAL;
	} else {
		size_t l = strlen(ip->target);

		*len = l;
		if (l + 1 > bufsz)
			rc = -ERANGE;
		else
			memcpy(buf, ip->target, l + 1);
	}
	fs_iunlock(ip, FS_ILOCK_SHARED);
	return rc;
}

/*
 * Readdir copies entries out in batches of this many and calls the
 * caller's function with no lock held, so that it may call back into the
 * engine (READDIR wants each entry's attributes: fs_iget()/fs_getattr()
 * would otherwise take a child's ILOCK under its directory's, out of
 * inode-number order).  Cookies make resuming after a batch exact.
 */
#define READDIR_BATCH	64

struct readdir_ent {
	uint64_t	ino;
	uint64_t	cookie;
	uint8_t		type;
	uint16_t	namelen;
	char		name[FS_NAME_MAX + 1];
};

struct readdir_batch {
	struct readdir_ent	*e;
	unsigned		n;
};

static int
readdir_collect(void *ctx, const struct fs_dirent *de)
{
	struct readdir_batch *b = ctx;
	struct readdir_ent *e;

	if (b->n == READDIR_BATCH)
		return 1;
	e = &b->e[b->n++];
	e->ino = de->ino;
	e->cookie = de->cookie;
	e->type = de->type;
	e->namelen = de->namelen;
	memcpy(e->name, de->name, de->namelen + 1u);
	return 0;
}

/* The cookie verifier: cookies never change meaning, so it is fixed. */
static uint64_t
dir_verifier(const struct fs_inode *dir)
{
	return dir->ino ^ (dir->gen << 32) ^ 0x706d656d6e667364ULL;
}

/*
 * See include/fs.h (READDIR, RFC 8881 section 18.23).  Locks: takes dir's
 * ILOCK shared while it copies a batch of entries, and calls fn with no
 * lock held (fn may call into the engine).
 */
int
fs_readdir(struct fs *fs, struct fs_inode *dir, uint64_t cookie, uint64_t verf,
	   fs_filldir_fn fn, void *ctx, uint64_t *verf_out, bool *eof)
{
	struct readdir_batch b = { 0 };
	bool first = true, full;
	int r;

	fs_assert_iunlocked(dir);
	b.e = malloc(READDIR_BATCH * sizeof(b.e[0]));
	if (!b.e)
		return -ENOMEM;
	for (;;) {
		fs_ilock(dir, FS_ILOCK_SHARED);
		if (first) {
			r = 0;
			if (dir->type != FS_TYPE_DIR) {
				r = -ENOTDIR;
			} else {
				*verf_out = dir_verifier(dir);
				if (cookie != 0 && verf != 0 && verf != *verf_out)
					r = -EBADE;
			}
			if (r) {
				fs_iunlock(dir, FS_ILOCK_SHARED);
				goto out;
			}
			first = false;
		}
		b.n = 0;
		r = fs_dir_iterate(dir->dir, cookie, readdir_collect, &b);
		fs_iunlock(dir, FS_ILOCK_SHARED);
		if (r < 0)
			goto out;
		full = r > 0;
		for (unsigned i = 0; i < b.n; i++) {
			const struct readdir_ent *e = &b.e[i];

			r = fn(ctx, e->name, e->namelen, e->ino, e->type,
			       e->cookie);
			if (r < 0)
				goto out;
			if (r > 0) {
				*eof = false;
				r = 0;
				goto out;
			}
			cookie = e->cookie;
		}
		if (!full) {
			*eof = true;
			r = 0;
			goto out;
		}
	}
out:
	free(b.e);
	return r;
}

/* Take a reference on an inode already known to be in the table. */
static struct fs_inode *
iget_known(struct fs *fs, uint64_t ino)
{
	struct fs_inode *ip = NULL;

	if (fs_iget(fs, ino, 0, &ip))
		return NULL;
	return ip;
}

/*
 * See include/fs.h.  Locks: takes quiesce shared and dir's ILOCK
 * exclusive.  References: *out holds one.  Returns 0, -EEXIST, -EINVAL,
 * -ENAMETOOLONG, -ENOTDIR, -ENOENT (dir removed), -EMLINK, -EIO.
 */
int
fs_create(struct fs *fs, struct fs_inode *dir, const char *name,
	  const struct fs_create_args *a, struct fs_inode **out)
{
	size_t nl, tl = 0, rlen;
	struct fs_rec_create *r;
	struct fs_time now;
	int rc;

	fs_assert_iunlocked(dir);
	rc = fs_name_check(name, &nl);
	if (rc)
		return rc;
	if (a->type < FS_TYPE_REG || a->type > FS_TYPE_FIFO)
		return -EINVAL;
	if (a->type == FS_TYPE_LNK) {
		if (!a->target)
			return -EINVAL;
		tl = strnlen(a->target, FS_SYMLINK_MAX + 1);
		if (tl == 0)
			return -EINVAL;		/* POSIX: no empty link text */
		if (tl > FS_SYMLINK_MAX)
			return -ENAMETOOLONG;
	}
	rlen = sizeof(*r) + nl + tl;
	r = calloc(1, rlen);
	if (!r)
		return -ENOMEM;
	r->parent = dir->ino;
	r->type = a->type;
	r->mode = a->mode & 07777;
	r->uid = a->uid;
	r->gid = a->gid;
	if (a->type == FS_TYPE_BLK || a->type == FS_TYPE_CHR) {
		r->rdev_major = a->rdev_major;
		r->rdev_minor = a->rdev_minor;
	}
	r->namelen = (uint16_t)nl;
	r->targetlen = (uint16_t)tl;
	memcpy(r->data, name, nl);
	if (tl)
		memcpy(r->data + nl, a->target, tl);
	r->gen = vol_boot_count(fs->vol);

	for (;;) {
		struct fs_dirent *de;

		rc = fs_tx_begin(fs);
		if (rc)
			break;
		fs_ilock(dir, FS_ILOCK_EXCL);
		if (dir->type != FS_TYPE_DIR) {
			rc = -ENOTDIR;
		} else if (dir->nlink == 0) {
			rc = -ENOENT;		/* removed directory */
		} else if ((de = fs_dir_lookup(dir->dir, name, nl))) {
			if (a->exclusive || de->type != a->type) {
				rc = -EEXIST;
			} else {
				*out = iget_known(fs, de->ino);
				rc = *out ? 0 : -EUCLEAN;
			}
			fs_iunlock(dir, FS_ILOCK_EXCL);
			fs_tx_end(fs);
			break;
		} else if (a->type == FS_TYPE_DIR && dir->nlink >= FS_LINK_MAX) {
			rc = -EMLINK;
		}
		if (!rc) {
			r->ino = atomic_fetch_add(&fs->next_ino, 1);
			fs_time_now(&now);
			fs_time_to_rec(&r->time, &now);
			fs_time_to_rec(&r->atime, a->set_times ? &a->atime : &now);
			fs_time_to_rec(&r->mtime, a->set_times ? &a->mtime : &now);
			rc = fs_log_apply(fs, FS_REC_CREATE, r, (uint32_t)rlen);
			if (!rc) {
				*out = iget_known(fs, r->ino);
				if (!*out)
					rc = -EUCLEAN;
			}
		}
		fs_iunlock(dir, FS_ILOCK_EXCL);
		fs_tx_end(fs);
		if (rc != FS_ELOGFULL)
			break;
		rc = fs_checkpoint(fs);
		if (rc)
			break;
	}
	free(r);
	return rc;
}

/*
 * See include/fs.h.  Locks: takes quiesce shared, then both ILOCKs
 * exclusive in inode-number order.  Returns 0, -EEXIST, -EISDIR, -ENOENT,
 * -EMLINK, -EIO.
 */
int
fs_link(struct fs *fs, struct fs_inode *ip, struct fs_inode *dir,
	const char *name)
{
	struct fs_rec_link *r;
	struct fs_time now;
	size_t nl;
	int rc;

	fs_assert_iunlocked(dir);
	fs_assert_iunlocked(ip);
	rc = fs_name_check(name, &nl);
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r) + nl);
	if (!r)
		return -ENOMEM;
	r->dir = dir->ino;
	r->ino = ip->ino;
	r->namelen = (uint16_t)nl;
	memcpy(r->name, name, nl);
	for (;;) {
		rc = fs_tx_begin(fs);
		if (rc)
			break;
		fs_ilock2(dir, ip, FS_ILOCK_EXCL);
		if (dir->type != FS_TYPE_DIR)
			rc = -ENOTDIR;
		else if (ip->type == FS_TYPE_DIR)
			rc = -EISDIR;
		else if (dir->nlink == 0 || ip->nlink == 0)
			rc = -ENOENT;
		else if (ip->nlink >= FS_LINK_MAX)
			rc = -EMLINK;
		else if (fs_dir_lookup(dir->dir, name, nl))
			rc = -EEXIST;
		if (!rc) {
			fs_time_now(&now);
			fs_time_to_rec(&r->time, &now);
			rc = fs_log_apply(fs, FS_REC_LINK, r,
					  (uint32_t)(sizeof(*r) + nl));
		}
		fs_iunlock2(dir, ip, FS_ILOCK_EXCL);
		fs_tx_end(fs);
		if (rc != FS_ELOGFULL)
			break;
		rc = fs_checkpoint(fs);
		if (rc)
			break;
	}
	free(r);
	return rc;
}

/*
 * Before the last name of a regular file goes, its blocks will be freed
 * (now or at its last fs_iput()): drain every layout and pin first.  Takes
 * IOLOCK + MAPLOCK exclusive on ip and returns with them held (*held).
 */
static int
break_for_remove(struct fs_inode *ip, unsigned *held, uint64_t deadline_ns)
{
	int rc;

	fs_ilock(ip, FS_BREAK_LOCKS);
	*held = FS_BREAK_LOCKS;
	rc = fs_break_layouts(ip, held, 0, FS_RANGE_EOF, FS_BREAK_UNMAP,
			      deadline_ns);
	if (rc) {
		fs_iunlock(ip, *held);
		*held = 0;
	}
	return rc;
}

static bool
last_file_link(const struct fs_inode *ip)
{
	fs_assert_ilocked(ip, FS_ILOCK_SHARED);
	return ip->type == FS_TYPE_REG && ip->nlink == 1;
}

/*
 * A first look, before the outer locks are taken, at whether removing a
 * name of ip removes its last: if so the caller breaks its layouts first.
 * Re-checked under ILOCK later (the count may change meanwhile).
 * Locks: none of ip's held; takes ILOCK shared briefly.
 */
static bool
last_file_link_peek(struct fs_inode *ip)
{
	bool last;

	fs_ilock(ip, FS_ILOCK_SHARED);
	last = last_file_link(ip);
	fs_iunlock(ip, FS_ILOCK_SHARED);
	return last;
}

/*
 * See include/fs.h.  When the name is a regular file's last, takes its
 * IOLOCK + MAPLOCK exclusive and breaks all its layouts (FS_BREAK_UNMAP)
 * first.  Locks: caller holds none.  Returns 0, -ENOENT, -ENOTEMPTY,
 * -EBUSY (root), -EIO.
 */
int
fs_unlink(struct fs *fs, struct fs_inode *dir, const char *name)
{
	struct fs_rec_link *r;
	struct fs_inode *ip = NULL;
	struct fs_time now;
	unsigned held = 0;
	size_t nl;
	int rc;

	fs_assert_iunlocked(dir);
	rc = fs_name_check(name, &nl);
	if (rc)
		return rc;
	r = calloc(1, sizeof(*r) + nl);
	if (!r)
		return -ENOMEM;
	r->dir = dir->ino;
	r->namelen = (uint16_t)nl;
	memcpy(r->name, name, nl);
again:
	rc = fs_lookup(fs, dir, name, &ip);
	if (rc)
		goto out;
	if (last_file_link_peek(ip)) {
		rc = break_for_remove(ip, &held, fs_break_deadline(fs));
		if (rc)
			goto out_put;
	}
	for (;;) {
		struct fs_dirent *de;
		bool retry = false;

		rc = fs_tx_begin(fs);
		if (rc)
			break;
		fs_ilock2(dir, ip, FS_ILOCK_EXCL);
		de = fs_dir_lookup(dir->dir, name, nl);
		if (!de || de->ino != ip->ino) {
			retry = true;		/* the name changed meanwhile */
		} else if (last_file_link(ip) && !held) {
			retry = true;		/* it became the last link */
		} else if (ip->type == FS_TYPE_DIR &&
			   fs_dir_count(ip->dir) != 0) {
			rc = -ENOTEMPTY;
		} else if (ip->ino == fs->root_ino) {
			rc = -EBUSY;
		} else {
			r->ino = ip->ino;
			fs_time_now(&now);
			fs_time_to_rec(&r->time, &now);
			rc = fs_log_apply(fs, FS_REC_UNLINK, r,
					  (uint32_t)(sizeof(*r) + nl));
		}
		fs_iunlock2(dir, ip, FS_ILOCK_EXCL);
		fs_tx_end(fs);
		if (retry) {
			if (held)
				fs_iunlock(ip, held);
			held = 0;
			fs_iput(fs, ip);
			ip = NULL;
			goto again;
		}
		if (rc != FS_ELOGFULL)
			break;
		rc = fs_checkpoint(fs);
		if (rc)
			break;
	}
	if (held)
		fs_iunlock(ip, held);
out_put:
	fs_iput(fs, ip);	/* the last reference of a removed file frees it */
out:
	free(r);
	return rc;
}

/*
 * Is dir inside the subtree of anc (or anc itself)?  Walks ".." pointers.
 * Locks: fs->rename_lock (directories' parents do not move).
 */
static bool
dir_in_subtree(struct fs *fs, struct fs_inode *dir, struct fs_inode *anc)
{
	uint64_t ino = dir->ino;

	mutex_assert_held(&fs->rename_lock);
	for (;;) {
		struct fs_inode *p;

		if (ino == anc->ino)
			return true;
		if (ino == fs->root_ino)
			return false;
		p = fs_itable_find(fs, ino);
		if (!p)
			return false;
		ino = p->parent;
	}
}

/* The POSIX replacement rules, checked under all four ILOCKs. */
static int
rename_check(struct fs *fs, struct fs_inode *sdir, struct fs_inode *ddir,
	     struct fs_inode *ip, struct fs_inode *victim)
{
	if (sdir->type != FS_TYPE_DIR || ddir->type != FS_TYPE_DIR)
		return -ENOTDIR;
	if (ddir->nlink == 0)
		return -ENOENT;
	if (ip->ino == fs->root_ino)
		return -EBUSY;
	if (ip->type == FS_TYPE_DIR) {
		if (victim && victim->type != FS_TYPE_DIR)
			return -ENOTDIR;
		if (victim && fs_dir_count(victim->dir) != 0)
			return -ENOTEMPTY;
		if (sdir != ddir && dir_in_subtree(fs, ddir, ip))
			return -EINVAL;
		if (!victim && sdir != ddir && ddir->nlink >= FS_LINK_MAX)
			return -EMLINK;
	} else if (victim && victim->type == FS_TYPE_DIR) {
		return -EISDIR;
	}
	return 0;
}

/*
 * See include/fs.h.  Locks: fs->rename_lock for a move between
 * directories, the victim's IOLOCK + MAPLOCK when its last name goes
 * (layouts broken), then quiesce shared and up to four ILOCKs in order.
 */
int
fs_rename(struct fs *fs, struct fs_inode *sdir, const char *sname,
	  struct fs_inode *ddir, const char *dname)
{
	struct fs_inode *ip = NULL, *victim = NULL;
	struct fs_rec_rename *r;
	struct fs_time now;
	unsigned held = 0;
	size_t sl, dl;
	bool cross = sdir != ddir;
	int rc;

	fs_assert_iunlocked(sdir);
	fs_assert_iunlocked(ddir);
	if ((rc = fs_name_check(sname, &sl)) || (rc = fs_name_check(dname, &dl)))
		return rc;
	r = calloc(1, sizeof(*r) + sl + dl);
	if (!r)
		return -ENOMEM;
	r->sdir = sdir->ino;
	r->ddir = ddir->ino;
	r->snamelen = (uint16_t)sl;
	r->dnamelen = (uint16_t)dl;
	memcpy(r->names, sname, sl);
	memcpy(r->names + sl, dname, dl);
	if (cross)
		mutex_lock(&fs->rename_lock);
again:
	rc = fs_lookup(fs, sdir, sname, &ip);
	if (rc)
		goto out;
	rc = fs_lookup(fs, ddir, dname, &victim);
	if (rc == -ENOENT) {
		victim = NULL;
	} else if (rc) {
		goto out_put;
	} else if (victim == ip) {
		rc = 0;		/* two names of one inode: nothing to do */
		goto out_put;
	} else if (last_file_link_peek(victim)) {
		rc = break_for_remove(victim, &held, fs_break_deadline(fs));
		if (rc)
			goto out_put;
	}
	for (;;) {
		struct fs_inode *ips[4] = { sdir, ddir, ip, victim };
		struct fs_dirent *de;
		bool retry = false;

		rc = fs_tx_begin(fs);
		if (rc)
			break;
		fs_ilock_many(ips, 4, FS_ILOCK_EXCL);
		de = fs_dir_lookup(sdir->dir, sname, sl);
		if (!de || de->ino != ip->ino)
			retry = true;
		de = fs_dir_lookup(ddir->dir, dname, dl);
		if ((victim && (!de || de->ino != victim->ino)) ||
		    (!victim && de))
			retry = true;
		if (victim && last_file_link(victim) && !held)
			retry = true;
		if (!retry)
			rc = rename_check(fs, sdir, ddir, ip, victim);
		if (!retry && !rc) {
			r->ino = ip->ino;
			r->victim = victim ? victim->ino : 0;
			fs_time_now(&now);
			fs_time_to_rec(&r->time, &now);
			rc = fs_log_apply(fs, FS_REC_RENAME, r,
					  (uint32_t)(sizeof(*r) + sl + dl));
		}
		fs_iunlock_many(ips, 4, FS_ILOCK_EXCL);
		fs_tx_end(fs);
		if (retry) {
			if (held)
				fs_iunlock(victim, held);
			held = 0;
			fs_iput(fs, ip);
			if (victim)
				fs_iput(fs, victim);
			ip = victim = NULL;
			goto again;
		}
		if (rc != FS_ELOGFULL)
			break;
		rc = fs_checkpoint(fs);
		if (rc)
			break;
	}
	if (held)
		fs_iunlock(victim, held);
out_put:
	if (victim)
		fs_iput(fs, victim);
	fs_iput(fs, ip);
out:
	if (cross)
		mutex_unlock(&fs->rename_lock);
	free(r);
	return rc;
}

/*
 * An inode lost its last link and its last reference: log its freeing
 * and free its blocks.  Its layouts were broken when its last name went
 * (fs_unlink/fs_rename); break again for the pins and layouts that an open
 * file could still have taken since (normally none: one pass, no wait).
 * A failure leaves an orphan that the next mount frees.
 * Locks: none held; nobody else can reach ip any more.
 */
void
fs_inode_evict(struct fs *fs, struct fs_inode *ip)
{
	struct fs_rec_ifree r = { .ino = ip->ino };
	unsigned held = 0;
	int rc;

	if (ip->type == FS_TYPE_REG) {
		/*
		 * No bound here: whoever holds a layout or a pin also holds a
		 * reference, so at the last reference this finds nothing.
		 */
		rc = break_for_remove(ip, &held, 0);
		if (rc) {
			log_warn("fs: inode %llu: layouts not drained, left as "
				 "an orphan", (unsigned long long)ip->ino);
			return;
		}
		fs_iunlock(ip, held);
	}
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
	if (rc && rc != -EIO && rc != -EROFS)
		log_warn("fs: inode %llu: free failed (%d), left as an orphan",
			 (unsigned long long)ip->ino, rc);
}
