/*
 * file.c - file data and block maps: read, write, commit, setattr (incl.
 * truncate), allocate, deallocate, seek, clone, and the two calls pNFS
 * needs (fs_layout_map for LAYOUTGET, fs_layout_commit for LAYOUTCOMMIT).
 *
 * Data lives in volume blocks and is written there directly.  Ordering
 * rule: the data a record makes reachable (a new RW extent, an INVALID
 * extent turned RW, a larger size) is persisted before that record is
 * appended, so after a crash a file never shows blocks it did not own.
 * Bytes past EOF in the last block may be stale: every operation that
 * grows the size first zeroes the old EOF block's tail (zero_tail()).
 *
 * Block-freeing rule (DESIGN.md section 3, rule 6): an operation that
 * takes blocks out of a map holds IOLOCK + MAPLOCK exclusive, calls
 * fs_break_layouts() on the range, and only then appends its record; the
 * apply returns the blocks to the allocator, after the record is durable.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs_impl.h"
#include "dirty.h"

/*
 * Most bytes one RW layout request allocates.  A layout may be shorter
 * than asked (RFC 8881 section 12.5.1; the client asks again for the
 * rest), and a request for a whole huge range must not fill the volume
 * with INVALID blocks in one go.
 */
#define FS_LAYOUT_RW_MAX	(64ULL << 20)

/* Most map operations one record may carry (a 1 MiB write on a badly
 * fragmented volume needs 256 at 4 KiB blocks). */
#define MAPREC_OPS_MAX	4096

/*
 * Give blocks a durable record took out of a file back to the allocator
 * (never during replay: mount rebuilds the allocator).  A double free is
 * metadata corruption: forced shutdown.  Locks: any; the allocator's own.
 */
void
fs_blocks_release(struct fs *fs, uint64_t vblk, uint64_t len)
{
	int rc = fs_alloc_free(&fs->alloc, vblk, len);

	if (rc) {
		log_error("fs: freeing blocks %llu+%llu failed: %d",
			  (unsigned long long)vblk, (unsigned long long)len, rc);
		fs_shutdown(fs, "block freed twice or out of range");
	}
}

/* A MAP record under construction, and the blocks allocated for it. */
struct mapbuild {
	struct fs_rec_map	*r;
	uint32_t		cap;
	struct fs_rec_mapop	*allocd;	/* runs to give back on failure */
	uint32_t		nallocd;
	uint32_t		allocd_cap;
};

static int
mb_init(struct mapbuild *mb, uint64_t ino)
{
	memset(mb, 0, sizeof(*mb));
	mb->cap = 16;
	mb->r = calloc(1, sizeof(*mb->r) + mb->cap * sizeof(mb->r->ops[0]));
	if (!mb->r)
		return -ENOMEM;
	mb->r->ino = ino;
	return 0;
}

/* Start a new attempt (after the log was full). */
static void
mb_reset(struct mapbuild *mb)
{
	mb->r->nops = 0;
	mb->r->flags = 0;
	mb->nallocd = 0;
}

static void
mb_free(struct mapbuild *mb)
{
	free(mb->r);
	free(mb->allocd);
}

static int
mb_add(struct mapbuild *mb, uint32_t kind, uint64_t fblk, uint64_t len,
       uint64_t vblk, uint32_t state)
{
	struct fs_rec_mapop *op;

	if (mb->r->nops == mb->cap) {
		uint32_t nc = mb->cap * 2;
		struct fs_rec_map *nr;

		if (nc > MAPREC_OPS_MAX)
			return -EFBIG;
		nr = realloc(mb->r, sizeof(*nr) + nc * sizeof(nr->ops[0]));
		if (!nr)
			return -ENOMEM;
		mb->r = nr;
		mb->cap = nc;
	}
	op = &mb->r->ops[mb->r->nops++];
	op->kind = kind;
	op->state = state;
	op->fblk = fblk;
	op->len = len;
	op->vblk = vblk;
	return 0;
}

static uint32_t
mb_len(const struct mapbuild *mb)
{
	return (uint32_t)(sizeof(*mb->r) + mb->r->nops * sizeof(mb->r->ops[0]));
}

/* Allocate up to want blocks near goal and remember them for unwinding. */
static int
mb_alloc(struct fs *fs, struct mapbuild *mb, uint64_t goal, uint64_t want,
	 uint64_t *start, uint64_t *got)
{
	int rc;

	if (mb->nallocd == mb->allocd_cap) {
		uint32_t nc = mb->allocd_cap ? mb->allocd_cap * 2 : 16;
		struct fs_rec_mapop *na = realloc(mb->allocd, nc * sizeof(*na));

		if (!na)
			return -ENOMEM;
		mb->allocd = na;
		mb->allocd_cap = nc;
	}
	rc = fs_alloc_blocks(&fs->alloc, goal, want, start, got);
	if (rc)
		return rc;
	mb->allocd[mb->nallocd].vblk = *start;
	mb->allocd[mb->nallocd].len = *got;
	mb->nallocd++;
	return 0;
}

/* The record did not happen: its new blocks are unreachable, free them. */
static void
mb_unwind(struct fs *fs, struct mapbuild *mb)
{
	for (uint32_t i = 0; i < mb->nallocd; i++)
		fs_blocks_release(fs, mb->allocd[i].vblk, mb->allocd[i].len);
	mb->nallocd = 0;
}

static uint8_t *
blk_ptr(struct fs *fs, uint64_t vblk)
{
	return vol_block_ptr(fs->vol, vblk);
}

/*
 * Where a file's first blocks go: inode numbers times this, modulo the
 * data area, so that files written at the same time start apart and grow
 * contiguously instead of interleaving (4 MiB at 4 KiB blocks).
 */
#define ALLOC_SPREAD_BLOCKS	1024

/* A good place for new blocks of fblk: right after the previous extent. */
static uint64_t
alloc_goal(struct fs *fs, struct fs_inode *ip, uint64_t fblk)
{
	uint64_t nblocks = vol_data_blocks(fs->vol);
	struct fs_ext e;

	if (fblk > 0 && fs_extmap_lookup(ip->map, fblk - 1, &e) == 0)
		return e.vblk + (fblk - e.fblk);
	return nblocks ? (ip->ino * ALLOC_SPREAD_BLOCKS) % nblocks : 0;
}

/*
 * The file grows from old_size: zero the stale bytes past the old EOF in
 * its last block, and persist that before the record that raises the size.
 * Locks: ILOCK exclusive.
 */
static void
zero_tail(struct fs *fs, struct fs_inode *ip, uint64_t old_size)
{
	uint64_t boff = old_size & (fs->bsize - 1);
	struct fs_ext e;
	uint8_t *p;

	fs_assert_ilocked(ip, FS_ILOCK_EXCL);
	if (boff == 0)
		return;
	if (fs_extmap_lookup(ip->map, fs_blk_of(fs, old_size), &e) != 0 ||
	    e.state != FS_EXT_RW)
		return;
	p = blk_ptr(fs, e.vblk + (fs_blk_of(fs, old_size) - e.fblk));
	memset(p + boff, 0, fs->bsize - boff);
	/* Zeroes durable before the size that exposes them. */
	vol_persist(fs->vol, p + boff, fs->bsize - boff, "fs.data.zero_tail");
}

/*
 * See include/fs.h.  Locks: takes IOLOCK + ILOCK shared (caller holds
 * none of ip's).  Holes and INVALID extents read as zeros; no atime update.
 */
int
fs_read(struct fs *fs, struct fs_inode *ip, uint64_t off, size_t len,
	void *buf, size_t *nread, bool *eof)
{
	uint8_t *out = buf;
	uint64_t pos, end;
	int rc = 0;

	fs_assert_iunlocked(ip);
	fs_ilock(ip, FS_IOLOCK_SHARED | FS_ILOCK_SHARED);
	if (ip->type != FS_TYPE_REG) {
		rc = ip->type == FS_TYPE_DIR ? -EISDIR : -EINVAL;
		goto out;
	}
	if (off >= ip->size) {
		*nread = 0;
		*eof = true;
		goto out;
	}
	end = off + MIN((uint64_t)len, ip->size - off);
	for (pos = off; pos < end;) {
		uint64_t fblk = fs_blk_of(fs, pos), boff = pos & (fs->bsize - 1);
		struct fs_ext e;
		uint64_t run;

		if (fs_extmap_lookup(ip->map, fblk, &e) == 0) {
			run = MIN(end - pos,
				  (e.fblk + e.len - fblk) * fs->bsize - boff);
			if (e.state == FS_EXT_RW)
				memcpy(out + (pos - off),
				       blk_ptr(fs, e.vblk + (fblk - e.fblk)) + boff,
				       run);
			else
				memset(out + (pos - off), 0, run);
		} else {
			uint64_t hole_end = e.len ? e.fblk * fs->bsize : end;

			run = MIN(end, hole_end) - pos;
			memset(out + (pos - off), 0, run);
		}
		pos += run;
	}
	*nread = end - off;
	*eof = end >= ip->size;
out:
	fs_iunlock(ip, FS_IOLOCK_SHARED | FS_ILOCK_SHARED);
	return rc;
}

/*
 * Copy the caller's bytes into the file, filling holes with new blocks and
 * turning INVALID blocks it touches into RW ones; adds the map operations
 * to mb.  Data is persisted here unless it overwrites RW blocks and
 * persist_rw is false (an unstable write): those bytes join the inode's
 * dirty list for fs_commit().  Bytes persisted here leave the list, so a
 * stable overwrite of dirty bytes spares the next commit.  Bytes are
 * marked dirty as they are copied, even if the record later fails: they
 * are in the block either way.
 * Locks: IOLOCK + MAPLOCK exclusive, fs->quiesce shared, ILOCK exclusive.
 */
static int
write_data(struct fs *fs, struct fs_inode *ip, struct mapbuild *mb,
	   uint64_t off, const uint8_t *src, uint64_t len, bool persist_rw)
{
	uint64_t end = off + len, pos;
	int rc;

	fs_assert_ilocked(ip, FS_ILOCK_EXCL);
	for (pos = off; pos < end;) {
		uint64_t fblk = fs_blk_of(fs, pos), boff = pos & (fs->bsize - 1);
		struct fs_ext e;
		uint64_t run, nblk, vblk;
		uint8_t *p;

		if (fs_extmap_lookup(ip->map, fblk, &e) == 0) {
			run = MIN(end - pos,
				  (e.fblk + e.len - fblk) * fs->bsize - boff);
			vblk = e.vblk + (fblk - e.fblk);
			p = blk_ptr(fs, vblk);
			nblk = fs_blk_up(fs, boff + run);
			if (e.state == FS_EXT_RW) {
				memcpy(p + boff, src + (pos - off), run);
				if (persist_rw) {
					/* Data durable before the record. */
					vol_persist(fs->vol, p + boff, run,
						    "fs.data.write");
					fs_dirty_clear(ip, pos, pos + run);
				} else {
					fs_dirty_add(ip, pos, pos + run);
				}
				pos += run;
				continue;
			}
			/* INVALID: the whole blocks become data; zero the
			 * parts this write does not cover. */
		} else {
			uint64_t hole = e.len ? e.fblk - fblk : UINT64_MAX;
			uint64_t got;

			nblk = MIN(hole, fs_blk_up(fs, boff + (end - pos)));
			rc = mb_alloc(fs, mb, alloc_goal(fs, ip, fblk), nblk,
				      &vblk, &got);
			if (rc)
				return rc;
			nblk = got;
			run = MIN(end - pos, nblk * fs->bsize - boff);
			p = blk_ptr(fs, vblk);
		}
		memset(p, 0, boff);
		memcpy(p + boff, src + (pos - off), run);
		memset(p + boff + run, 0, nblk * fs->bsize - boff - run);
		/* New or formerly INVALID blocks: durable before the record
		 * that makes them readable, always (even unstable writes). */
		vol_persist(fs->vol, p, nblk * fs->bsize, "fs.data.write_new");
		fs_dirty_clear(ip, pos, pos + run);
		if (e.len && e.fblk <= fblk)
			rc = mb_add(mb, FS_MAPOP_STATE, fblk, nblk, 0, FS_EXT_RW);
		else
			rc = mb_add(mb, FS_MAPOP_INSERT, fblk, nblk, vblk,
				    FS_EXT_RW);
		if (rc)
			return rc;
		pos += run;
	}
	return 0;
}

/*
 * Whether unstable overwrites are persisted at WRITE time.  On pmem (or a
 * mapping libpmem treats as pmem, PMEM_IS_PMEM_FORCE) flushing the cache
 * lines just written costs about what COMMIT would pay for them later,
 * and then COMMIT has nothing left to flush.  On the msync path one
 * msync per WRITE is exactly what UNSTABLE4 exists to avoid, so there the
 * bytes stay on the dirty list until COMMIT.
 */
static bool
persist_unstable(struct fs *fs)
{
	return vol_is_pmem(fs->vol);
}

static int
check_range(uint64_t off, uint64_t len)
{
	if (off > FS_MAX_FILE_SIZE || len > FS_MAX_FILE_SIZE - off)
		return -EFBIG;
	return 0;
}

/* fs_write()'s change, run by fs_tx_run(). */
struct write_args {
	struct fs_inode		*ip;
	struct mapbuild		*mb;
	uint64_t		off;
	const void		*buf;
	size_t			len;
	enum fs_stable		how;
};

/*
 * Copy the data in and log the MAP record.
 * Locks: IOLOCK + MAPLOCK exclusive (asserted), fs->quiesce shared; takes
 * and drops ILOCK exclusive.
 */
static int
write_tx(struct fs *fs, void *arg)
{
	struct write_args *wa = arg;
	struct fs_inode *ip = wa->ip;
	struct mapbuild *mb = wa->mb;
	struct fs_time now;
	int rc;

	fs_assert_ilocked(ip, FS_BREAK_LOCKS);
	fs_ilock(ip, FS_ILOCK_EXCL);
	mb_reset(mb);
	if (wa->off > ip->size)
		zero_tail(fs, ip, ip->size);
	rc = write_data(fs, ip, mb, wa->off, wa->buf, wa->len,
			wa->how != FS_UNSTABLE || persist_unstable(fs));
	if (!rc) {
		if (wa->off + wa->len > ip->size) {
			mb->r->flags |= FS_MAP_SET_SIZE;
			mb->r->size = wa->off + wa->len;
		}
		mb->r->flags |= FS_MAP_SET_MTIME;
		fs_time_now(&now);
		fs_time_to_rec(&mb->r->time, &now);
		rc = fs_log_apply(fs, FS_REC_MAP, mb->r, mb_len(mb));
	}
	if (rc)
		mb_unwind(fs, mb);
	else
		mb->nallocd = 0;
	fs_iunlock(ip, FS_ILOCK_EXCL);
	return rc;
}

/*
 * See include/fs.h.  Locks: takes IOLOCK + MAPLOCK exclusive (for
 * fs_break_layouts(FS_BREAK_WRITE)), then quiesce shared and ILOCK
 * exclusive.  Returns 0, -EISDIR/-EINVAL (not a file), -EFBIG, -ENOSPC,
 * -EIO (shut down), -EAGAIN (a recall could not finish).
 */
int
fs_write(struct fs *fs, struct fs_inode *ip, uint64_t off, size_t len,
	 const void *buf, enum fs_stable how, size_t *written)
{
	struct write_args wa;
	struct mapbuild mb;
	unsigned held;
	int rc;

	fs_assert_iunlocked(ip);
	if (ip->type != FS_TYPE_REG)
		return ip->type == FS_TYPE_DIR ? -EISDIR : -EINVAL;
	rc = check_range(off, len);
	if (rc)
		return rc;
	if (len == 0) {
		*written = 0;
		return 0;
	}
	rc = mb_init(&mb, ip->ino);
	if (rc)
		return rc;
	/* Client RW layouts on the range see stale data otherwise. */
	fs_ilock(ip, FS_BREAK_LOCKS);
	held = FS_BREAK_LOCKS;
	rc = fs_break_layouts(ip, &held, off, len, FS_BREAK_WRITE,
			      fs_break_deadline(fs));
	if (rc)
		goto out_unlock;
	wa = (struct write_args){ .ip = ip, .mb = &mb, .off = off, .buf = buf,
				  .len = len, .how = how };
	rc = fs_tx_run(fs, write_tx, &wa);
	if (rc == 0)
		*written = len;
out_unlock:
	fs_iunlock(ip, held);
	mb_free(&mb);
	return rc;
}

/*
 * A COMMIT in progress.  Only the msync path has dirty pieces to flush
 * (on pmem unstable overwrites were persisted at WRITE, see
 * persist_unstable()).  There every msync() is a synchronous write-back
 * with a journal commit of the file system under the volume, while clean
 * pages in its range cost next to nothing (the kernel walks only dirty
 * pages): so the pieces inside one extent are flushed by one msync() over
 * their hull, pend_lo..pend_hi, issued when the walk leaves that extent.
 * The hull never reaches outside the file's own extent, and the bytes in
 * it that no unstable write touched are durable already.
 */
struct commit_ctx {
	struct fs	*fs;
	struct fs_inode	*ip;
	uint64_t	s;		/* the piece being walked: [s, t) */
	uint64_t	t;
	uint8_t		*pend_lo;	/* msync path: hull not yet flushed */
	uint8_t		*pend_hi;
	uint64_t	pend_vblk;	/* its extent's first volume block */
};

/* Flush the pending hull (msync path). */
static void
commit_flush_pending(struct commit_ctx *cc)
{
	if (cc->pend_lo == cc->pend_hi)
		return;
	/* Unstable overwrites become durable (COMMIT, RFC 8881 section
	 * 18.3) before fs_commit() returns. */
	vol_persist(cc->fs->vol, cc->pend_lo, cc->pend_hi - cc->pend_lo,
		    "fs.data.commit");
	cc->pend_lo = cc->pend_hi = NULL;
}

static int
commit_ext(void *ctx, const struct fs_ext *e)
{
	struct commit_ctx *cc = ctx;
	struct fs *fs = cc->fs;
	uint64_t s = MAX(e->fblk * fs->bsize, cc->s);
	uint64_t t = MIN((e->fblk + e->len) * fs->bsize, cc->t);
	uint8_t *p;

	/*
	 * A piece over a hole or INVALID blocks has nothing unstable left
	 * (its blocks left the map since it was written).
	 */
	if (e->state != FS_EXT_RW || s >= t)
		return 0;
	p = blk_ptr(fs, e->vblk) + (s - e->fblk * fs->bsize);
	if (cc->pend_lo != cc->pend_hi && cc->pend_vblk == e->vblk) {
		/* Pieces come in file order, so p only grows. */
		cc->pend_hi = p + (t - s);
		return 0;
	}
	commit_flush_pending(cc);
	cc->pend_lo = p;
	cc->pend_hi = p + (t - s);
	cc->pend_vblk = e->vblk;
	return 0;
}

/* Flush one dirty piece [s, t) through the block map (fs_dirty_take()). */
static int
commit_piece(void *ctx, uint64_t s, uint64_t t)
{
	struct commit_ctx *cc = ctx;
	struct fs *fs = cc->fs;

	cc->s = s;
	cc->t = t;
	return fs_extmap_walk(cc->ip->map, fs_blk_of(fs, s),
			      fs_blk_up(fs, t) - fs_blk_of(fs, s), commit_ext,
			      cc);
}

/*
 * See include/fs.h.  Flushes the dirty bytes of unstable writes inside
 * the range and forgets them (RFC 8881 section 18.3).  Locks: takes
 * ILOCK exclusive: the dirty list changes, and writers (which add to it
 * under ILOCK exclusive) wait, so no byte is marked dirty between its
 * flush and its removal.
 */
int
fs_commit(struct fs *fs, struct fs_inode *ip, uint64_t off, uint64_t len)
{
	struct commit_ctx cc = { .fs = fs, .ip = ip };
	uint64_t end;
	int rc;

	fs_assert_iunlocked(ip);
	if (ip->type != FS_TYPE_REG)
		return 0;
	if (atomic_load(&fs->shutdown))
		return -EIO;
	/* len 0: to EOF; a range past 2^64 also ends there. */
	end = (len && len <= UINT64_MAX - off) ? off + len : UINT64_MAX;
	fs_ilock(ip, FS_ILOCK_EXCL);
	rc = fs_dirty_take(ip, off, end, commit_piece, &cc);
	/*
	 * The last hull, still under ILOCK: the pieces already left the
	 * list, and no writer may touch them before they are durable.
	 */
	commit_flush_pending(&cc);
	fs_iunlock(ip, FS_ILOCK_EXCL);
	return rc;
}

/* fs_setattr()'s change, run by fs_tx_run(). */
struct setattr_args {
	struct fs_inode			*ip;
	const struct fs_setattr		*sa;
	struct fs_rec_setattr		*r;
};

/*
 * Stamp the times, zero the old EOF tail when growing, log the SETATTR
 * record.  Locks: fs->quiesce shared; IOLOCK + MAPLOCK exclusive when the
 * size changes (asserted); takes and drops ILOCK exclusive.
 */
static int
setattr_tx(struct fs *fs, void *arg)
{
	struct setattr_args *sx = arg;
	struct fs_inode *ip = sx->ip;
	const struct fs_setattr *sa = sx->sa;
	struct fs_rec_setattr *r = sx->r;
	struct fs_time now;
	int rc;

	if (sa->mask & FS_SET_SIZE)
		fs_assert_ilocked(ip, FS_BREAK_LOCKS);
	fs_ilock(ip, FS_ILOCK_EXCL);
	fs_time_now(&now);
	fs_time_to_rec(&r->ctime, &now);
	fs_time_to_rec(&r->atime, (sa->mask & FS_SET_ATIME_NOW) ?
		       &now : &sa->atime);
	fs_time_to_rec(&r->mtime, (sa->mask & FS_SET_MTIME_NOW) ?
		       &now : &sa->mtime);
	fs_time_to_rec(&r->btime, &sa->btime);
	if ((sa->mask & FS_SET_SIZE) && sa->size > ip->size)
		zero_tail(fs, ip, ip->size);
	rc = fs_log_apply(fs, FS_REC_SETATTR, r, sizeof(*r));
	/* Dirty bytes past the new EOF left with their blocks (or sit in
	 * the EOF block's tail, zeroed before any regrowth). */
	if (rc == 0 && (sa->mask & FS_SET_SIZE))
		fs_dirty_clear(ip, sa->size, UINT64_MAX);
	fs_iunlock(ip, FS_ILOCK_EXCL);
	return rc;
}

/*
 * See include/fs.h.  A size change takes IOLOCK + MAPLOCK exclusive and
 * breaks every layout past the new EOF (FS_BREAK_UNMAP) before the record
 * that frees the blocks.  Locks: caller holds none of ip's.
 */
int
fs_setattr(struct fs *fs, struct fs_inode *ip, const struct fs_setattr *sa,
	   struct fs_attr *out)
{
	struct setattr_args sx;
	struct fs_rec_setattr r;
	unsigned held = 0;
	int rc;

	fs_assert_iunlocked(ip);
	memset(&r, 0, sizeof(r));
	r.ino = ip->ino;
	r.mask = sa->mask;
	r.mode = sa->mode & 07777;
	r.uid = sa->uid;
	r.gid = sa->gid;
	r.size = sa->size;
	if (sa->mask & FS_SET_SIZE) {
		if (ip->type == FS_TYPE_DIR)
			return -EISDIR;
		if (ip->type != FS_TYPE_REG)
			return -EINVAL;
		if (sa->size > FS_MAX_FILE_SIZE)
			return -EFBIG;
		/*
		 * Whatever the size now, blocks past the new EOF may leave the
		 * map: break every reference there first.
		 */
		uint64_t cut = fs_blk_up(fs, sa->size) * fs->bsize;

		fs_ilock(ip, FS_BREAK_LOCKS);
		held = FS_BREAK_LOCKS;
		rc = fs_break_layouts(ip, &held, cut, FS_RANGE_EOF,
				      FS_BREAK_UNMAP, fs_break_deadline(fs));
		if (rc)
			goto out_unlock;
	}
	sx = (struct setattr_args){ .ip = ip, .sa = sa, .r = &r };
	rc = fs_tx_run(fs, setattr_tx, &sx);
out_unlock:
	if (held)
		fs_iunlock(ip, held);
	if (rc == 0 && out)
		rc = fs_getattr(fs, ip, out);
	return rc;
}

/*
 * Fill holes of [fblk, fblk + n) with new blocks in state (INVALID).
 * With partial_ok, running out of space after some blocks were found
 * ends the range early (*done: the first block not filled) instead of
 * failing.
 */
static int
fill_holes(struct fs *fs, struct fs_inode *ip, struct mapbuild *mb,
	   uint64_t fblk, uint64_t n, uint32_t state, bool partial_ok,
	   uint64_t *done)
{
	uint64_t cur = fblk, end = fblk + n;
	int rc;

	while (cur < end) {
		struct fs_ext e;
		uint64_t hole_end, vblk, got;

		if (fs_extmap_lookup(ip->map, cur, &e) == 0) {
			cur = e.fblk + e.len;
			continue;
		}
		hole_end = e.len ? MIN(e.fblk, end) : end;
		rc = mb_alloc(fs, mb, alloc_goal(fs, ip, cur), hole_end - cur,
			      &vblk, &got);
		if (rc == -ENOSPC && partial_ok && cur > fblk)
			break;
		if (rc)
			return rc;
		rc = mb_add(mb, FS_MAPOP_INSERT, cur, got, vblk, state);
		if (rc)
			return rc;
		/*
		 * Apply as we go so the next lookup sees the new extent; the
		 * record replays the same inserts in the same order.
		 */
		struct fs_ext ne = { .fblk = cur, .len = got, .vblk = vblk,
				     .state = state };
		rc = fs_extmap_insert(ip->map, &ne);
		if (rc)
			return rc;
		cur += got;
	}
	if (done)
		*done = MIN(cur, end);
	return 0;
}

/* Take back inserts fill_holes() applied early (the record failed). */
static void
unfill_holes(struct fs_inode *ip, struct mapbuild *mb)
{
	for (uint32_t i = 0; i < mb->r->nops; i++) {
		const struct fs_rec_mapop *op = &mb->r->ops[i];

		if (op->kind == FS_MAPOP_INSERT)
			VERIFY(fs_extmap_remove(ip->map, op->fblk, op->len,
						NULL, NULL) == 0);
	}
}

/*
 * Log a record whose inserts were already applied to the map: append it,
 * then apply only the size and time parts (the inserts are done).
 */
static int
log_prefilled(struct fs *fs, struct fs_inode *ip, struct mapbuild *mb)
{
	int rc = fs_log(fs, FS_REC_MAP, mb->r, mb_len(mb));

	if (rc) {
		unfill_holes(ip, mb);
		mb_unwind(fs, mb);
		return rc;
	}
	mb->nallocd = 0;
	if (mb->r->flags & FS_MAP_SET_SIZE)
		ip->size = mb->r->size;
	if (mb->r->flags & FS_MAP_SET_MTIME) {
		fs_time_from_rec(&ip->mtime, &mb->r->time);
		ip->ctime = ip->mtime;
	}
	ip->change++;
	return 0;
}

/* fs_allocate() and fs_deallocate()'s change, run by fs_tx_run(). */
struct range_args {
	struct fs_inode		*ip;
	struct mapbuild		*mb;
	uint64_t		off;
	uint64_t		len;
};

/*
 * Back the holes of the range with INVALID blocks and log the record.
 * Locks: IOLOCK + MAPLOCK exclusive (asserted), fs->quiesce shared; takes
 * and drops ILOCK exclusive.
 */
static int
allocate_tx(struct fs *fs, void *arg)
{
	struct range_args *ra = arg;
	struct fs_inode *ip = ra->ip;
	struct mapbuild *mb = ra->mb;
	uint64_t first = fs_blk_of(fs, ra->off), end = ra->off + ra->len;
	struct fs_time now;
	int rc;

	fs_assert_ilocked(ip, FS_BREAK_LOCKS);
	fs_ilock(ip, FS_ILOCK_EXCL);
	mb_reset(mb);
	rc = fill_holes(fs, ip, mb, first, fs_blk_up(fs, end) - first,
			FS_EXT_INVALID, false, NULL);
	if (rc) {
		unfill_holes(ip, mb);
		mb_unwind(fs, mb);
	} else {
		if (end > ip->size) {
			zero_tail(fs, ip, ip->size);
			mb->r->flags |= FS_MAP_SET_SIZE;
			mb->r->size = end;
		}
		fs_time_now(&now);
		fs_time_to_rec(&mb->r->time, &now);
		mb->r->flags |= FS_MAP_SET_MTIME;
		rc = log_prefilled(fs, ip, mb);
	}
	fs_iunlock(ip, FS_ILOCK_EXCL);
	return rc;
}

/*
 * See include/fs.h.  Locks: takes IOLOCK + MAPLOCK exclusive (breaks RW
 * layouts: the map changes), quiesce shared, ILOCK exclusive.
 * Returns 0, -EINVAL, -EFBIG, -ENOSPC (nothing allocated), -EIO.
 */
int
fs_allocate(struct fs *fs, struct fs_inode *ip, uint64_t off, uint64_t len)
{
	struct range_args ra;
	struct mapbuild mb;
	unsigned held;
	int rc;

	fs_assert_iunlocked(ip);
	if (ip->type != FS_TYPE_REG)
		return ip->type == FS_TYPE_DIR ? -EISDIR : -EINVAL;
	if (len == 0)
		return -EINVAL;
	rc = check_range(off, len);
	if (rc)
		return rc;
	rc = mb_init(&mb, ip->ino);
	if (rc)
		return rc;
	/* The map changes under client layouts that describe holes here. */
	fs_ilock(ip, FS_BREAK_LOCKS);
	held = FS_BREAK_LOCKS;
	rc = fs_break_layouts(ip, &held, off, len, FS_BREAK_WRITE,
			      fs_break_deadline(fs));
	if (rc)
		goto out_unlock;
	ra = (struct range_args){ .ip = ip, .mb = &mb, .off = off, .len = len };
	rc = fs_tx_run(fs, allocate_tx, &ra);
out_unlock:
	fs_iunlock(ip, held);
	mb_free(&mb);
	return rc;
}

/* Zero [off, off+len) inside one block if that block holds data. */
static void
zero_partial(struct fs *fs, struct fs_inode *ip, uint64_t off, uint64_t len)
{
	struct fs_ext e;
	uint64_t fblk = fs_blk_of(fs, off);
	uint8_t *p;

	if (len == 0 || fs_extmap_lookup(ip->map, fblk, &e) != 0 ||
	    e.state != FS_EXT_RW)
		return;
	p = blk_ptr(fs, e.vblk + (fblk - e.fblk)) + (off & (fs->bsize - 1));
	memset(p, 0, len);
	vol_persist(fs->vol, p, len, "fs.data.punch_zero");
}

/*
 * Zero the partial blocks at the ends, punch the whole blocks, log the
 * record.  Locks: IOLOCK + MAPLOCK exclusive (asserted), fs->quiesce
 * shared; takes and drops ILOCK exclusive.
 */
static int
deallocate_tx(struct fs *fs, void *arg)
{
	struct range_args *ra = arg;
	struct fs_inode *ip = ra->ip;
	struct mapbuild *mb = ra->mb;
	uint64_t off = ra->off, end = ra->off + ra->len;
	uint64_t first = fs_blk_up(fs, off), last = fs_blk_of(fs, end);
	struct fs_time now;
	int rc = 0;

	fs_assert_ilocked(ip, FS_BREAK_LOCKS);
	fs_ilock(ip, FS_ILOCK_EXCL);
	mb_reset(mb);
	if (first > last) {
		/* Inside one block. */
		zero_partial(fs, ip, off, end - off);
	} else {
		zero_partial(fs, ip, off, first * fs->bsize - off);
		zero_partial(fs, ip, last * fs->bsize, end - last * fs->bsize);
		if (last > first)
			rc = mb_add(mb, FS_MAPOP_PUNCH, first, last - first, 0,
				    0);
	}
	if (!rc) {
		fs_time_now(&now);
		fs_time_to_rec(&mb->r->time, &now);
		mb->r->flags |= FS_MAP_SET_MTIME;
		rc = fs_log_apply(fs, FS_REC_MAP, mb->r, mb_len(mb));
	}
	/* The range is unmapped or zeroed and persisted. */
	if (rc == 0)
		fs_dirty_clear(ip, off, end);
	fs_iunlock(ip, FS_ILOCK_EXCL);
	return rc;
}

/*
 * See include/fs.h (DEALLOCATE, RFC 7862 section 15.4).  Locks: takes
 * IOLOCK + MAPLOCK exclusive and breaks the range (FS_BREAK_UNMAP) before
 * the record that frees the blocks.
 */
int
fs_deallocate(struct fs *fs, struct fs_inode *ip, uint64_t off, uint64_t len)
{
	struct range_args ra;
	struct mapbuild mb;
	unsigned held;
	int rc;

	fs_assert_iunlocked(ip);
	if (ip->type != FS_TYPE_REG)
		return ip->type == FS_TYPE_DIR ? -EISDIR : -EINVAL;
	if (len == 0)
		return 0;
	rc = check_range(off, len);
	if (rc)
		return rc;
	rc = mb_init(&mb, ip->ino);
	if (rc)
		return rc;
	/* Blocks leave the map: drain every reference first (rule 6). */
	fs_ilock(ip, FS_BREAK_LOCKS);
	held = FS_BREAK_LOCKS;
	rc = fs_break_layouts(ip, &held, off, len, FS_BREAK_UNMAP,
			      fs_break_deadline(fs));
	if (rc)
		goto out_unlock;
	ra = (struct range_args){ .ip = ip, .mb = &mb, .off = off, .len = len };
	rc = fs_tx_run(fs, deallocate_tx, &ra);
out_unlock:
	fs_iunlock(ip, held);
	mb_free(&mb);
	return rc;
}

struct seek_ctx {
	uint64_t	want;		/* first block >= this */
	bool		data;
	uint64_t	found;		/* block */
	bool		have;
};

static int
seek_data_cb(void *ctx, const struct fs_ext *e)
{
	struct seek_ctx *sc = ctx;

	if (e->state != FS_EXT_RW)
		return 0;
	sc->found = MAX(e->fblk, sc->want);
	sc->have = true;
	return 1;
}

static int
seek_hole_cb(void *ctx, const struct fs_ext *e)
{
	struct seek_ctx *sc = ctx;

	/* sc->found: the first block not yet known to be data. */
	if (e->state != FS_EXT_RW || e->fblk > sc->found) {
		sc->have = true;
		return 1;
	}
	sc->found = MAX(sc->found, e->fblk + e->len);
	return 0;
}

/*
 * See include/fs.h (SEEK, RFC 7862 section 15.11).  Locks: takes ILOCK
 * shared.  Returns 0 and *out, or -ENXIO at or past EOF / no more data.
 */
int
fs_seek(struct fs *fs, struct fs_inode *ip, uint64_t off, bool data,
	uint64_t *out)
{
	struct seek_ctx sc = { .want = fs_blk_of(fs, off), .data = data };
	int rc = 0;

	fs_assert_iunlocked(ip);
	if (ip->type != FS_TYPE_REG)
		return ip->type == FS_TYPE_DIR ? -EISDIR : -EINVAL;
	fs_ilock(ip, FS_ILOCK_SHARED);
	if (off >= ip->size) {
		rc = -ENXIO;
		goto out;
	}
	if (data) {
		rc = fs_extmap_walk(ip->map, sc.want, UINT64_MAX - sc.want,
				    seek_data_cb, &sc);
		rc = rc > 0 ? 0 : rc;
		if (!sc.have || sc.found * fs->bsize >= ip->size) {
			rc = -ENXIO;
		} else {
			*out = MAX(off, sc.found * fs->bsize);
		}
	} else {
		sc.found = sc.want;
		rc = fs_extmap_walk(ip->map, sc.want, UINT64_MAX - sc.want,
				    seek_hole_cb, &sc);
		rc = rc > 0 ? 0 : rc;
		*out = MIN(MAX(off, sc.found * fs->bsize), ip->size);
	}
out:
	fs_iunlock(ip, FS_ILOCK_SHARED);
	return rc;
}

struct clone_ctx {
	struct fs		*fs;
	struct fs_inode		*dst;
	struct mapbuild		*mb;
	uint64_t		sfirst;		/* source range, blocks */
	uint64_t		send;
	int64_t			delta;		/* dst block - src block */
	int			err;
};

/* Copy one source RW extent (clipped to the range) into new blocks. */
static int
clone_ext(void *ctx, const struct fs_ext *e)
{
	struct clone_ctx *cc = ctx;
	struct fs *fs = cc->fs;
	uint64_t s = MAX(e->fblk, cc->sfirst), t = MIN(e->fblk + e->len, cc->send);
	uint64_t vblk, got;

	if (e->state != FS_EXT_RW)
		return 0;	/* unwritten source reads as zeros: a hole */
	while (s < t) {
		uint64_t dfblk = (uint64_t)((int64_t)s + cc->delta);
		int rc = mb_alloc(fs, cc->mb, alloc_goal(fs, cc->dst, dfblk),
				  t - s, &vblk, &got);

		if (!rc)
			rc = mb_add(cc->mb, FS_MAPOP_INSERT, dfblk, got, vblk,
				    FS_EXT_RW);
		if (rc) {
			cc->err = rc;
			return 1;
		}
		memcpy(blk_ptr(fs, vblk), blk_ptr(fs, e->vblk + (s - e->fblk)),
		       got * fs->bsize);
		/* The copy durable before the record that maps it. */
		vol_persist(fs->vol, blk_ptr(fs, vblk), got * fs->bsize,
			    "fs.data.clone");
		s += got;
	}
	return 0;
}

/* fs_clone()'s change, run by fs_tx_run(). */
struct clone_args {
	struct fs_inode		*src;
	uint64_t		soff;
	struct fs_inode		*dst;
	uint64_t		doff;
	uint64_t		len;
	struct mapbuild		*mb;
};

/*
 * Check the ranges against the current sizes, copy the source's data
 * into new blocks, log the record that punches dst's range and maps them.
 * Locks: dst's IOLOCK + MAPLOCK exclusive and src's IOLOCK (asserted),
 * fs->quiesce shared; takes and drops both ILOCKs exclusive.
 */
static int
clone_tx(struct fs *fs, void *arg)
{
	struct clone_args *ca = arg;
	struct fs_inode *src = ca->src, *dst = ca->dst;
	struct clone_ctx cc = { .fs = fs, .dst = dst, .mb = ca->mb };
	uint64_t soff = ca->soff, doff = ca->doff, l, dsize_new;
	struct fs_time now;
	int rc = 0;

	fs_assert_ilocked(dst, FS_BREAK_LOCKS);
	fs_assert_ilocked(src, FS_IOLOCK_SHARED);
	fs_ilock2(src, dst, FS_ILOCK_EXCL);
	mb_reset(ca->mb);
	l = ca->len;
	if (l == 0)
		l = soff < src->size ? src->size - soff : 0;
	if (soff + l > src->size || check_range(doff, l)) {
		rc = -EINVAL;
	} else if (src == dst && soff < doff + l && doff < soff + l) {
		rc = -EINVAL;		/* overlapping ranges */
	} else if ((l & (fs->bsize - 1)) && soff + l != src->size) {
		rc = -EINVAL;
	} else if ((l & (fs->bsize - 1)) && doff + l < dst->size) {
		rc = -EINVAL;		/* would zero the rest of a block */
	}
	if (!rc && l) {
		cc.sfirst = fs_blk_of(fs, soff);
		cc.send = fs_blk_up(fs, soff + l);
		cc.delta = (int64_t)fs_blk_of(fs, doff) - (int64_t)cc.sfirst;
		rc = mb_add(ca->mb, FS_MAPOP_PUNCH, fs_blk_of(fs, doff),
			    cc.send - cc.sfirst, 0, 0);
		if (!rc)
			rc = fs_extmap_walk(src->map, cc.sfirst,
					    cc.send - cc.sfirst, clone_ext, &cc);
		if (rc > 0 || cc.err)
			rc = cc.err;
		dsize_new = doff + l;
		if (!rc && dsize_new > dst->size) {
			zero_tail(fs, dst, dst->size);
			ca->mb->r->flags |= FS_MAP_SET_SIZE;
			ca->mb->r->size = dsize_new;
		}
		if (!rc) {
			fs_time_now(&now);
			fs_time_to_rec(&ca->mb->r->time, &now);
			ca->mb->r->flags |= FS_MAP_SET_MTIME;
			rc = fs_log_apply(fs, FS_REC_MAP, ca->mb->r,
					  mb_len(ca->mb));
		}
		/* dst's old blocks there are gone; the copies are durable. */
		if (!rc)
			fs_dirty_clear(dst, doff,
				       doff + (cc.send - cc.sfirst) * fs->bsize);
	}
	if (rc)
		mb_unwind(fs, ca->mb);
	else
		ca->mb->nallocd = 0;
	fs_iunlock2(src, dst, FS_ILOCK_EXCL);
	return rc;
}

/*
 * See include/fs.h (CLONE, RFC 7862 section 15.13).  Locks: takes dst's
 * IOLOCK + MAPLOCK exclusive (breaks the target range), src's IOLOCK
 * shared without waiting out of order, then both ILOCKs.
 */
int
fs_clone(struct fs *fs, struct fs_inode *src, uint64_t soff,
	 struct fs_inode *dst, uint64_t doff, uint64_t len)
{
	struct clone_args ca;
	struct mapbuild mb;
	unsigned held;
	int rc;

	fs_assert_iunlocked(src);
	fs_assert_iunlocked(dst);
	if (src->type != FS_TYPE_REG || dst->type != FS_TYPE_REG)
		return -EINVAL;
	if ((soff | doff) & (fs->bsize - 1))
		return -EINVAL;
	rc = mb_init(&mb, dst->ino);
	if (rc)
		return rc;
	/*
	 * Lock dst and break on it first, then try src's IOLOCK without
	 * waiting: fs_break_layouts() may cycle dst's locks, which must not
	 * happen while we hold another inode's lock out of order.
	 */
	for (;;) {
		fs_ilock(dst, FS_BREAK_LOCKS);
		held = FS_BREAK_LOCKS;
		rc = fs_break_layouts(dst, &held, doff,
				      len ? len : FS_RANGE_EOF, FS_BREAK_UNMAP,
				      fs_break_deadline(fs));
		if (rc) {
			fs_iunlock(dst, held);
			goto out_free;
		}
		if (src == dst || fs_ilock_nowait(src, FS_IOLOCK_SHARED))
			break;
		fs_iunlock(dst, held);
		fs_ilock(src, FS_IOLOCK_SHARED);	/* wait for the holder */
		fs_iunlock(src, FS_IOLOCK_SHARED);
	}
	ca = (struct clone_args){ .src = src, .soff = soff, .dst = dst,
				  .doff = doff, .len = len, .mb = &mb };
	rc = fs_tx_run(fs, clone_tx, &ca);
	if (src != dst)
		fs_iunlock(src, FS_IOLOCK_SHARED);
	fs_iunlock(dst, held);
out_free:
	mb_free(&mb);
	return rc;
}

struct lmap_ctx {
	struct fs		*fs;
	struct fs_layout_ext	*ext;
	unsigned		max;
	unsigned		n;
	uint64_t		cur;	/* next block to describe */
	uint64_t		end;
};

static bool
lmap_put(struct lmap_ctx *lc, uint64_t fblk, uint64_t len, uint64_t vblk,
	 enum fs_ext_state st)
{
	struct fs_layout_ext *x;

	if (lc->n == lc->max)
		return false;
	x = &lc->ext[lc->n++];
	x->file_off = fblk * lc->fs->bsize;
	x->len = len * lc->fs->bsize;
	x->vol_block = st == FS_EXT_HOLE ? 0 : vblk;
	x->vol_off = st == FS_EXT_HOLE ? 0 : vol_block_offset(lc->fs->vol, vblk);
	x->state = st;
	return true;
}

static int
lmap_cb(void *ctx, const struct fs_ext *e)
{
	struct lmap_ctx *lc = ctx;
	uint64_t s = MAX(e->fblk, lc->cur), t = MIN(e->fblk + e->len, lc->end);

	if (s > lc->cur && !lmap_put(lc, lc->cur, s - lc->cur, 0, FS_EXT_HOLE))
		return 1;
	if (!lmap_put(lc, s, t - s, e->vblk + (s - e->fblk), e->state))
		return 1;
	lc->cur = t;
	return 0;
}

/* Describe lc's block range of ip's map into lc->ext.  Locks: ILOCK. */
static void
lmap_describe(struct fs_inode *ip, struct lmap_ctx *lc)
{
	int rc;

	fs_assert_ilocked(ip, FS_ILOCK_SHARED);
	rc = fs_extmap_walk(ip->map, lc->cur, lc->end - lc->cur, lmap_cb, lc);
	if (rc == 0 && lc->cur < lc->end)
		lmap_put(lc, lc->cur, lc->end - lc->cur, 0, FS_EXT_HOLE);
}

/* fs_layout_map()'s change for an RW layout, run by fs_tx_run(). */
struct lmap_args {
	struct fs_inode		*ip;
	struct mapbuild		*mb;
	struct lmap_ctx		*lc;
};

/*
 * Back every hole of the range with INVALID blocks (as far as space
 * allows; a client may write anywhere in an RW layout, RFC 5663 section
 * 2.3.2), log that, and describe the range while ILOCK still holds the
 * map as logged.  Locks: MAPLOCK (asserted), fs->quiesce shared; takes
 * and drops ILOCK exclusive.
 */
static int
lmap_tx(struct fs *fs, void *arg)
{
	struct lmap_args *la = arg;
	struct fs_inode *ip = la->ip;
	struct lmap_ctx *lc = la->lc;
	uint64_t filled = 0;
	int rc;

	fs_assert_ilocked(ip, FS_MAPLOCK_SHARED);
	fs_ilock(ip, FS_ILOCK_EXCL);
	mb_reset(la->mb);
	rc = fill_holes(fs, ip, la->mb, lc->cur, lc->end - lc->cur,
			FS_EXT_INVALID, true, &filled);
	if (rc) {
		unfill_holes(ip, la->mb);
		mb_unwind(fs, la->mb);
	} else if (la->mb->r->nops) {
		rc = log_prefilled(fs, ip, la->mb);
	}
	if (rc == 0) {
		lc->end = filled;	/* short when the volume ran out */
		lmap_describe(ip, lc);
	}
	fs_iunlock(ip, FS_ILOCK_EXCL);
	return rc;
}

/*
 * See include/fs.h (LAYOUTGET, RFC 5663 section 2.3).  Locks: the caller
 * holds MAPLOCK (asserted); takes quiesce shared and ILOCK.
 * Returns 0, -EINVAL, -ENOSPC (no block at all), -EIO.
 */
int
fs_layout_map(struct fs *fs, struct fs_inode *ip, uint64_t off, uint64_t len,
	      bool rw, struct fs_layout_ext *ext, unsigned max, unsigned *n)
{
	struct lmap_ctx lc = { .fs = fs, .ext = ext, .max = max };
	struct lmap_args la;
	struct mapbuild mb;
	int rc;

	fs_assert_ilocked(ip, FS_MAPLOCK_SHARED);
	if (ip->type != FS_TYPE_REG)
		return -EINVAL;
	if (len == 0 || max == 0)
		return -EINVAL;
	if (len == FS_RANGE_EOF || check_range(off, len))
		len = FS_MAX_FILE_SIZE - MIN(off, FS_MAX_FILE_SIZE);
	lc.cur = fs_blk_of(fs, off);
	lc.end = fs_blk_up(fs, off + len);
	if (rw)
		lc.end = MIN(lc.end, lc.cur + FS_LAYOUT_RW_MAX / fs->bsize);
	if (!rw) {
		fs_ilock(ip, FS_ILOCK_SHARED);
		lmap_describe(ip, &lc);
		fs_iunlock(ip, FS_ILOCK_SHARED);
		*n = lc.n;
		return 0;
	}
	rc = mb_init(&mb, ip->ino);
	if (rc)
		return rc;
	la = (struct lmap_args){ .ip = ip, .mb = &mb, .lc = &lc };
	rc = fs_tx_run(fs, lmap_tx, &la);
	mb_free(&mb);
	if (rc)
		return rc;
	*n = lc.n;
	return 0;
}

/* fs_layout_commit()'s change, run by fs_tx_run(). */
struct lcommit_args {
	struct fs_inode		*ip;
	struct mapbuild		*mb;
	uint64_t		off;
	uint64_t		len;
	uint64_t		new_size;
	const struct fs_time	*mtime;
};

/*
 * Log the record that turns the range RW and sets size and mtime.
 * Locks: fs->quiesce shared; takes and drops ILOCK exclusive.
 */
static int
lcommit_tx(struct fs *fs, void *arg)
{
	struct lcommit_args *lx = arg;
	struct fs_inode *ip = lx->ip;
	struct mapbuild *mb = lx->mb;
	uint64_t first = fs_blk_of(fs, lx->off);
	uint64_t last = fs_blk_up(fs, lx->off + lx->len);
	struct fs_time now;
	int rc = 0;

	fs_ilock(ip, FS_ILOCK_EXCL);
	mb_reset(mb);
	if (lx->len)
		rc = mb_add(mb, FS_MAPOP_STATE, first, last - first, 0,
			    FS_EXT_RW);
	if (!rc && lx->new_size > ip->size) {
		/* The old EOF block's tail is stale unless the client just
		 * wrote that block. */
		uint64_t eofblk = fs_blk_of(fs, ip->size);

		if (!lx->len || eofblk < first || eofblk >= last)
			zero_tail(fs, ip, ip->size);
		mb->r->flags |= FS_MAP_SET_SIZE;
		mb->r->size = lx->new_size;
	}
	if (!rc) {
		fs_time_now(&now);
		fs_time_to_rec(&mb->r->time, lx->mtime ? lx->mtime : &now);
		mb->r->flags |= FS_MAP_SET_MTIME;
		rc = fs_log_apply(fs, FS_REC_MAP, mb->r, mb_len(mb));
	}
	fs_iunlock(ip, FS_ILOCK_EXCL);
	return rc;
}

/*
 * See include/fs.h (LAYOUTCOMMIT, RFC 5663 section 2.3.2).  Locks: takes
 * quiesce shared and ILOCK exclusive (no block leaves the map: no break).
 */
int
fs_layout_commit(struct fs *fs, struct fs_inode *ip, uint64_t off,
		 uint64_t len, uint64_t new_size, const struct fs_time *mtime)
{
	struct lcommit_args lx;
	struct mapbuild mb;
	int rc;

	fs_assert_iunlocked(ip);
	if (ip->type != FS_TYPE_REG)
		return -EINVAL;
	rc = check_range(off, len);
	if (rc || new_size > FS_MAX_FILE_SIZE)
		return rc ? rc : -EFBIG;
	rc = mb_init(&mb, ip->ino);
	if (rc)
		return rc;
	lx = (struct lcommit_args){ .ip = ip, .mb = &mb, .off = off,
				    .len = len, .new_size = new_size,
				    .mtime = mtime };
	rc = fs_tx_run(fs, lcommit_tx, &lx);
	mb_free(&mb);
	return rc;
}
