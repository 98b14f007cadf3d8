/*
 * fs.h - the namespace engine: the API the NFS layer uses to reach files.
 *
 * Locking: every operation here takes the inode locks it needs itself, in
 * the order IOLOCK -> MAPLOCK -> engine quiesce lock -> ILOCK (inode locks
 * of several inodes by ascending inode number), unless its comment says the
 * caller holds some of them.  Callers therefore hold no inode lock when they
 * call in, except for fs_layout_map(), which runs under the caller's
 * MAPLOCK so that mapping and taking the layout reference are one step.
 * Operations that remove or move blocks call fs_break_layouts() (DESIGN.md
 * section 3) and may therefore block until external references drain, or
 * return -EAGAIN after the bound set with fs_set_break_wait().  Callbacks
 * (fs_readdir's) run with no engine lock held.
 * Ownership: fs_iget(), fs_lookup() and fs_create() return a counted
 * reference to an inode; the caller drops it with fs_iput().  Inodes stay
 * in memory for the life of the mount; an inode whose last link is gone is
 * freed when its last reference is dropped.
 *
 * Errors: 0 or a negative errno.  After a metadata error the engine is shut
 * down (fs_is_shutdown()) and every later mutation returns -EIO.
 */
#ifndef PMEMNFS_FS_H
#define PMEMNFS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

struct fs;
struct fs_inode;
struct vol;

/* File types (values are stored on the volume: never renumber). */
enum fs_ftype {
	FS_TYPE_NONE = 0,
	FS_TYPE_REG = 1,
	FS_TYPE_DIR = 2,
	FS_TYPE_LNK = 3,
	FS_TYPE_BLK = 4,
	FS_TYPE_CHR = 5,
	FS_TYPE_SOCK = 6,
	FS_TYPE_FIFO = 7,
};

/* Time in seconds and nanoseconds since the epoch. */
struct fs_time {
	int64_t		sec;
	uint32_t	nsec;
};

/* Limits the NFS layer reports (FATTR4_MAXNAME, ...). */
#define FS_NAME_MAX		255
#define FS_SYMLINK_MAX		4095
#define FS_XATTR_NAME_MAX	255
#define FS_XATTR_VALUE_MAX	65536
#define FS_SRVREC_KEY_MAX	1024
#define FS_SRVREC_VAL_MAX	4096
/* Largest file size: offsets are in bytes and must not overflow in blocks. */
#define FS_MAX_FILE_SIZE	(1ULL << 60)

/* Readdir cookies 0, 1 and 2 are reserved (RFC 8881 section 18.23.3). */
#define FS_COOKIE_FIRST		3

struct fs_attr {
	uint64_t	ino;
	uint64_t	gen;		/* filehandle generation */
	enum fs_ftype	type;
	uint32_t	mode;		/* permission bits, 07777 */
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	nlink;
	uint64_t	size;
	uint64_t	space_used;	/* bytes of allocated blocks */
	struct fs_time	atime;
	struct fs_time	mtime;
	struct fs_time	ctime;
	struct fs_time	btime;		/* birth (creation) time */
	uint64_t	change;		/* only grows, survives restart */
	uint32_t	rdev_major;
	uint32_t	rdev_minor;
};

/* fs_setattr() mask bits. */
#define FS_SET_MODE		0x001
#define FS_SET_UID		0x002
#define FS_SET_GID		0x004
#define FS_SET_SIZE		0x008
#define FS_SET_ATIME		0x010	/* to sa->atime */
#define FS_SET_ATIME_NOW	0x020	/* to the server's time */
#define FS_SET_MTIME		0x040
#define FS_SET_MTIME_NOW	0x080
#define FS_SET_BTIME		0x100

struct fs_setattr {
	unsigned	mask;
	uint32_t	mode;
	uint32_t	uid;
	uint32_t	gid;
	uint64_t	size;
	struct fs_time	atime;
	struct fs_time	mtime;
	struct fs_time	btime;
};

struct fs_create_args {
	enum fs_ftype	type;
	uint32_t	mode;
	uint32_t	uid;
	uint32_t	gid;
	uint32_t	rdev_major;	/* FS_TYPE_BLK / FS_TYPE_CHR */
	uint32_t	rdev_minor;
	const char	*target;	/* FS_TYPE_LNK: the link text */
	bool		exclusive;	/* -EEXIST if the name exists */
	/*
	 * Set atime and mtime to these instead of the creation time, in the
	 * same record: where an EXCLUSIVE4_1 create keeps its verifier
	 * (RFC 8881 section 18.16.3 allows any stable storage; Linux knfsd
	 * uses these two times too).
	 */
	bool		set_times;
	struct fs_time	atime;
	struct fs_time	mtime;
};

/* How durable fs_write() makes the data before it returns. */
enum fs_stable {
	FS_UNSTABLE = 0,	/* durable after fs_commit() */
	FS_DATA_SYNC = 1,
	FS_FILE_SYNC = 2,
};

/* Extent states, as RFC 5663 names them for the block layout. */
enum fs_ext_state {
	FS_EXT_RW = 0,		/* PNFS_BLOCK_READ_WRITE_DATA */
	FS_EXT_INVALID = 1,	/* PNFS_BLOCK_INVALID_DATA: allocated, unwritten */
	FS_EXT_HOLE = 2,	/* PNFS_BLOCK_NONE_DATA (only in fs_layout_map) */
};

/* One extent of a file as a layout describes it. */
struct fs_layout_ext {
	uint64_t		file_off;	/* bytes */
	uint64_t		len;		/* bytes */
	uint64_t		vol_off;	/* byte offset on the volume */
	/* First data block (vol_block_ptr(): zero-copy reads under a pin);
	 * 0 for FS_EXT_HOLE. */
	uint64_t		vol_block;
	enum fs_ext_state	state;
};

struct fs_statfs {
	uint32_t	block_size;
	uint64_t	blocks_total;
	uint64_t	blocks_free;
	uint64_t	inodes_used;
	uint64_t	inodes_free;	/* a large constant: inodes are in DRAM */
};

/* fs_mount() flags. */
#define FS_MOUNT_RDONLY		0x1	/* no log records, no checkpoint */
/*
 * For pmemnfs-fsck: mount even when blocks are mapped twice or lie outside
 * the data area (fs_check() names them), and leave orphans for fs_check()
 * to report instead of freeing them.
 */
#define FS_MOUNT_FSCK		0x2

/*
 * Mount the volume at path: open it, load the active checkpoint, replay the
 * log, rebuild the allocator from the extent maps, free orphans (inodes
 * with no link left).  Returns 0 and *out, or -errno (-EUCLEAN when the
 * metadata is inconsistent).
 */
int fs_mount(const char *path, unsigned flags, struct fs **out) MUST_CHECK;

/*
 * Write a final checkpoint (unless read-only or shut down), close the
 * volume and free everything.  No other thread may use fs any more; every
 * inode reference must have been dropped.  Returns the checkpoint's error.
 */
int fs_unmount(struct fs *fs) MUST_CHECK;

/* Serialize the whole metadata image and empty the log.  Locks: none held. */
int fs_checkpoint(struct fs *fs) MUST_CHECK;

/* True once a metadata error forced the engine to refuse changes. */
bool fs_is_shutdown(const struct fs *fs);
/* Force the shutdown (tests, the admin tool). */
void fs_shutdown(struct fs *fs, const char *why);

/*
 * Bound the wait of every fs_break_layouts() an operation makes (truncate,
 * deallocate, clone, allocate, write, removing a file's last name):
 * max_wait_ns 0 (the default) waits until the references are gone; with a
 * bound, such an operation returns -EAGAIN when it passes, changing
 * nothing, while the recall carries on (DESIGN.md rule 5: the NFS layer
 * answers NFS4ERR_DELAY and the client retries).
 */
void fs_set_break_wait(struct fs *fs, uint64_t max_wait_ns);

struct vol *fs_vol(struct fs *fs);
uint32_t fs_block_size(const struct fs *fs);
uint64_t fs_root_ino(const struct fs *fs);
int fs_statfs(struct fs *fs, struct fs_statfs *out) MUST_CHECK;

/*
 * Take a reference to inode ino.  gen 0 matches any generation; otherwise
 * a mismatch (the number was reused) gives -ESTALE, as does a missing
 * inode.
 */
int fs_iget(struct fs *fs, uint64_t ino, uint64_t gen,
	    struct fs_inode **out) MUST_CHECK;
/* Take another reference on an inode the caller holds one on. */
void fs_ihold(struct fs_inode *ip);
/* Drop a reference; frees an unlinked inode with its last reference. */
void fs_iput(struct fs *fs, struct fs_inode *ip);
uint64_t fs_inode_number(const struct fs_inode *ip);

int fs_getattr(struct fs *fs, struct fs_inode *ip, struct fs_attr *out) MUST_CHECK;
/*
 * Change attributes; FS_SET_SIZE truncates (breaking layouts on the cut
 * range) or extends.  out, when not NULL, receives the new attributes.
 */
int fs_setattr(struct fs *fs, struct fs_inode *ip, const struct fs_setattr *sa,
	       struct fs_attr *out) MUST_CHECK;

/* Name lookup; "." and ".." work.  -ENOENT, -ENOTDIR. */
int fs_lookup(struct fs *fs, struct fs_inode *dir, const char *name,
	      struct fs_inode **out) MUST_CHECK;
/*
 * Create any type of inode under dir.  When the name exists and
 * !a->exclusive, the existing inode is returned if it has the same type,
 * otherwise -EEXIST.
 */
int fs_create(struct fs *fs, struct fs_inode *dir, const char *name,
	      const struct fs_create_args *a, struct fs_inode **out) MUST_CHECK;
/* New hard link to a non-directory. */
int fs_link(struct fs *fs, struct fs_inode *ip, struct fs_inode *dir,
	    const char *name) MUST_CHECK;
/* Remove a name; a directory must be empty (-ENOTEMPTY).  */
int fs_unlink(struct fs *fs, struct fs_inode *dir, const char *name) MUST_CHECK;
/*
 * POSIX rename, atomic (one log record): a directory may replace only an
 * empty directory, a non-directory only a non-directory, and a directory
 * cannot move into its own subtree (-EINVAL).
 */
int fs_rename(struct fs *fs, struct fs_inode *sdir, const char *sname,
	      struct fs_inode *ddir, const char *dname) MUST_CHECK;
/* Copy the link text into buf (NUL-terminated); *len is its length. */
int fs_readlink(struct fs *fs, struct fs_inode *ip, char *buf, size_t bufsz,
		size_t *len) MUST_CHECK;

/*
 * Readdir callback: return 0 to go on, 1 to stop before this entry (the
 * reply is full), or a negative errno to abort.  Called with no engine
 * lock held: it may call fs_iget()/fs_getattr() for the entry.
 */
typedef int (*fs_filldir_fn)(void *ctx, const char *name, size_t namelen,
			     uint64_t ino, enum fs_ftype type, uint64_t cookie);
/*
 * List the entries after cookie (0: from the start; "." and ".." are not
 * listed).  Cookies are per-directory entry ids that only grow, so a
 * cookie stays valid across inserts and removes; the verifier therefore
 * never changes for a directory.  verf is 0 or the verifier handed out
 * before: another value gives -EBADE (NFS4ERR_NOT_SAME); a cookie that was
 * never handed out gives -EBADR (NFS4ERR_BAD_COOKIE).  *verf_out gets the
 * verifier; *eof tells whether the listing
 * reached the end.
 */
int fs_readdir(struct fs *fs, struct fs_inode *dir, uint64_t cookie,
	       uint64_t verf, fs_filldir_fn fn, void *ctx, uint64_t *verf_out,
	       bool *eof) MUST_CHECK;

/* Read up to len bytes at off; holes and INVALID extents read as zeros. */
int fs_read(struct fs *fs, struct fs_inode *ip, uint64_t off, size_t len,
	    void *buf, size_t *nread, bool *eof) MUST_CHECK;
/*
 * Write through the MDS.  Breaks conflicting client RW layouts
 * (BREAK_WRITE) first.  FS_DATA_SYNC/FS_FILE_SYNC: data persisted and the
 * metadata record durable on return.  FS_UNSTABLE: durable after
 * fs_commit().
 */
int fs_write(struct fs *fs, struct fs_inode *ip, uint64_t off, size_t len,
	     const void *buf, enum fs_stable how, size_t *written) MUST_CHECK;
/* Make earlier unstable writes in [off, off+len) durable (len 0: to EOF). */
int fs_commit(struct fs *fs, struct fs_inode *ip, uint64_t off,
	      uint64_t len) MUST_CHECK;
/* Preallocate blocks (INVALID) for [off, off+len); extends the size. */
int fs_allocate(struct fs *fs, struct fs_inode *ip, uint64_t off,
		uint64_t len) MUST_CHECK;
/* Punch a hole; breaks layouts on the range first. */
int fs_deallocate(struct fs *fs, struct fs_inode *ip, uint64_t off,
		  uint64_t len) MUST_CHECK;
/*
 * Next data (data true) or hole at or after off.  -ENXIO when off is at
 * or past EOF (RFC 7862 section 15.11.3).  INVALID extents are holes.
 */
int fs_seek(struct fs *fs, struct fs_inode *ip, uint64_t off, bool data,
	    uint64_t *out) MUST_CHECK;
/*
 * Clone [soff, soff+len) of src onto [doff, doff+len) of dst (len 0: to
 * src's EOF).  Implemented by copying the blocks (see docs/fs.md): the
 * destination range gets new blocks; its old blocks are freed after its
 * layouts are broken.  Offsets must be block aligned, except that the
 * range may end at src's EOF.
 */
int fs_clone(struct fs *fs, struct fs_inode *src, uint64_t soff,
	     struct fs_inode *dst, uint64_t doff, uint64_t len) MUST_CHECK;

/*
 * Describe [off, off+len) of a file for LAYOUTGET (RFC 5663 section 2.3).
 * With rw, holes in the range (up to the range's end) are first filled
 * with newly allocated INVALID extents so the client can write there.
 * Fills at most max extents into ext (holes as FS_EXT_HOLE) and sets *n;
 * the extents start at off rounded down to a block and cover the range
 * (rounded up to blocks) or less: at most max extents, and with rw at
 * most 64 MiB (the client asks again for the rest, RFC 8881 12.5.1).
 * len may be FS_RANGE_EOF.
 * Locks: the caller holds MAPLOCK (shared or exclusive) so no map change
 * can run between this call and its fs_layoutref_add(); takes the rest.
 */
int fs_layout_map(struct fs *fs, struct fs_inode *ip, uint64_t off,
		  uint64_t len, bool rw, struct fs_layout_ext *ext,
		  unsigned max, unsigned *n) MUST_CHECK;
/*
 * LAYOUTCOMMIT (RFC 5663 section 2.3.2): the client wrote [off, off+len)
 * directly: convert INVALID extents there to READ_WRITE, raise the size
 * to new_size if it is larger (0: no size change), set mtime (NULL: now).
 */
int fs_layout_commit(struct fs *fs, struct fs_inode *ip, uint64_t off,
		     uint64_t len, uint64_t new_size,
		     const struct fs_time *mtime) MUST_CHECK;

/* Extended attributes (RFC 8276).  flags: */
#define FS_XATTR_CREATE		0x1	/* -EEXIST if it exists */
#define FS_XATTR_REPLACE	0x2	/* -ENODATA if it does not */
int fs_xattr_get(struct fs *fs, struct fs_inode *ip, const char *name,
		 void *buf, size_t bufsz, size_t *len) MUST_CHECK;
int fs_xattr_set(struct fs *fs, struct fs_inode *ip, const char *name,
		 const void *val, size_t len, unsigned flags) MUST_CHECK;
int fs_xattr_remove(struct fs *fs, struct fs_inode *ip,
		    const char *name) MUST_CHECK;
/* Call fn for each name; fn returns 0 to go on, non-zero to stop. */
int fs_xattr_list(struct fs *fs, struct fs_inode *ip,
		  int (*fn)(void *ctx, const char *name), void *ctx) MUST_CHECK;

/*
 * Server state records: a small persistent key/value store for the NFS
 * layer (client records for reclaim after restart, RFC 8881 section 8.4.2).
 * put replaces; get gives -ENOENT when absent and -ERANGE (with *len set)
 * when buf is too small.
 */
int fs_srvrec_put(struct fs *fs, const void *key, size_t klen,
		  const void *val, size_t vlen) MUST_CHECK;
int fs_srvrec_get(struct fs *fs, const void *key, size_t klen, void *buf,
		  size_t bufsz, size_t *len) MUST_CHECK;
int fs_srvrec_del(struct fs *fs, const void *key, size_t klen) MUST_CHECK;
/* fn returns 0 to go on, non-zero to stop (returned).  Do not modify the
 * store from fn. */
int fs_srvrec_iterate(struct fs *fs,
		      int (*fn)(void *ctx, const void *key, size_t klen,
				const void *val, size_t vlen),
		      void *ctx) MUST_CHECK;

/* fs_check() options and results (pmemnfs-fsck, the crash tests). */
struct fs_check_opts {
	bool	repair;		/* fix what can be fixed (log records) */
	/* Each problem as one line of text; NULL: log_warn(). */
	void	(*problem)(void *ctx, const char *msg);
	/* Progress over the inode walk (done, total); may be NULL. */
	void	(*progress)(void *ctx, uint64_t done, uint64_t total);
	void	*ctx;
};

struct fs_check_result {
	uint64_t	problems;	/* found (before repair) */
	uint64_t	fixed;		/* repaired */
	uint64_t	inodes;
	uint64_t	dirs;
	uint64_t	extents;
	uint64_t	blocks_mapped;
	uint64_t	log_records;	/* in the current log generation */
	uint64_t	log_used;	/* bytes */
	uint64_t	log_size;
};

/*
 * Check every invariant of the mounted metadata: no block in two files or
 * outside the data area, the allocator agrees with the extent maps, every
 * directory entry names an inode of its type, link counts match entries,
 * every inode is reachable from the root, directories' parents match,
 * sizes agree with extents and link texts, extent maps are well formed.
 * With o->repair (not on a read-only mount): removes entries naming no
 * inode, links unreachable files into /lost+found, corrects link counts
 * and frees orphans, each as a log record; res->fixed counts them.
 * Locks: none held; takes the quiesce lock exclusively while it looks
 * (changes wait), so run it on an idle engine.
 * Returns 0 (res filled; res->problems may be > 0), or -errno.
 */
int fs_check(struct fs *fs, const struct fs_check_opts *o,
	     struct fs_check_result *res) MUST_CHECK;

#endif
