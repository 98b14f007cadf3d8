/*
 * dir.h - a directory's entries.  Private to src/fs.
 *
 * Two indexes over the same entries:
 *  - a chained hash table on the name (resized by doubling): O(1) lookup,
 *    insert and remove at any size;
 *  - the readdir order: every entry gets a cookie from a per-directory
 *    counter that only grows (3, 4, ...; 0-2 are reserved by RFC 8881
 *    section 18.23.3), and entries sit in an array in cookie order.  New
 *    entries always append; a removed entry leaves a hole (NULL) that a
 *    compaction squeezes out once holes are half the array.  A cookie is
 *    found by binary search, so a cookie stays valid however the directory
 *    changed: readdir resumes at the first entry with a larger cookie.
 *
 * Locking: none inside; the directory inode's ILOCK.
 * Ownership: the directory owns its entries.
 */
#ifndef PMEMNFS_FS_DIR_H
#define PMEMNFS_FS_DIR_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"
#include "fs.h"

struct fs_dirent {
	struct fs_dirent	*hnext;
	uint64_t		hash;
	uint64_t		cookie;
	uint64_t		ino;
	uint8_t			type;	/* enum fs_ftype */
	uint16_t		namelen;
	char			name[];	/* NUL-terminated */
};

/* One readdir-order slot; de NULL once the entry was removed. */
struct fs_dir_slot {
	uint64_t		cookie;
	struct fs_dirent	*de;
};

struct fs_dir {
	struct fs_dirent	**buckets;
	size_t			nbuckets;	/* power of two */
	size_t			count;		/* live entries */
	struct fs_dir_slot	*order;		/* by cookie */
	size_t			norder;
	size_t			ordercap;
	size_t			nholes;
	uint64_t		next_cookie;
	uint64_t		seed;		/* hash seed: names come from clients */
	/* Chain entries compared by removes (complexity tests; written
	 * under the exclusive ILOCK only). */
	uint64_t		probes;
};

struct fs_dir *fs_dir_alloc(void);
void fs_dir_free(struct fs_dir *d);

/* The entry called name, or NULL. */
struct fs_dirent *fs_dir_lookup(const struct fs_dir *d, const char *name,
				size_t len);
/* The same, adding the chain entries compared to *probes (tests). */
struct fs_dirent *fs_dir_lookup_counted(const struct fs_dir *d,
					const char *name, size_t len,
					uint64_t *probes);
/*
 * Add an entry.  cookie 0 assigns the next cookie; a non-zero cookie
 * (loading a checkpoint) must be larger than every cookie handed out.
 * Returns 0, -EEXIST, -ENAMETOOLONG, -EINVAL (bad cookie), -ENOMEM.
 */
int fs_dir_add(struct fs_dir *d, const char *name, size_t len, uint64_t ino,
	       enum fs_ftype type, uint64_t cookie) MUST_CHECK;
/* Remove the entry called name: 0 or -ENOENT. */
int fs_dir_remove(struct fs_dir *d, const char *name, size_t len) MUST_CHECK;
size_t fs_dir_count(const struct fs_dir *d);
/* Raise the cookie counter (checkpoint load: cookies of removed entries
 * are never reused). */
void fs_dir_set_next_cookie(struct fs_dir *d, uint64_t next);

/*
 * Call fn for every entry with a cookie larger than cookie, in cookie
 * order.  cookie 0 starts at the beginning; a cookie in 1..2 or not yet
 * handed out gives -EBADR.  fn returns 0 to go on, anything else to stop
 * (returned).  Returns 0 at the end.
 */
int fs_dir_iterate(const struct fs_dir *d, uint64_t cookie,
		   int (*fn)(void *ctx, const struct fs_dirent *de), void *ctx)
	MUST_CHECK;

#endif
