/*
 * extmap.h - a file's block map: file block -> volume block runs, each
 * READ_WRITE or INVALID (allocated, not yet written; RFC 5663 section
 * 2.3.1).  Private to src/fs.
 *
 * The map is a sorted sequence of non-overlapping extents kept in chunks
 * of at most FS_EXTMAP_CHUNK extents, with a sorted array of chunk
 * pointers on top: a two-level B-tree.  Lookup is two binary searches
 * (O(log n)); an insert or remove moves at most one chunk's worth of
 * extents plus, when a chunk splits or empties, the top array
 * (n / FS_EXTMAP_CHUNK pointers).  100,000 extents need ~400-800 chunks.
 * Neighbours that continue each other on the file and the volume, in the
 * same state, are merged.
 *
 * Locking: none inside; the owning inode's ILOCK (shared to read,
 * exclusive to change).
 * Ownership: the inode owns its map; fs_extmap_free() releases it.  The
 * map never frees volume blocks: removing extents reports the runs to the
 * caller, which returns them to the allocator when that is safe.
 */
#ifndef PMEMNFS_FS_EXTMAP_H
#define PMEMNFS_FS_EXTMAP_H

#include <stdint.h>

#include "common/compiler.h"
#include "fs.h"

/* Extents per chunk: a chunk is 8 KiB, moving one is cheap. */
#define FS_EXTMAP_CHUNK	256

struct fs_ext {
	uint64_t	fblk;	/* first file block */
	uint64_t	len;	/* blocks */
	uint64_t	vblk;	/* first volume data block */
	uint32_t	state;	/* enum fs_ext_state: FS_EXT_RW or FS_EXT_INVALID */
	uint32_t	pad;
};

struct fs_extmap_chunk;

struct fs_extmap {
	struct fs_extmap_chunk	**chunks;
	uint32_t		nchunks;
	uint32_t		cap;
	uint64_t		nextents;
	uint64_t		nblocks;	/* blocks mapped (space used) */
	/* Extents and chunk pointers moved so far: for complexity tests. */
	uint64_t		moved;
};

/* Called for each run of volume blocks a removal takes out of the map. */
typedef void (*fs_extmap_freed_fn)(void *ctx, uint64_t vblk, uint64_t len);

struct fs_extmap *fs_extmap_alloc(void);
void fs_extmap_free(struct fs_extmap *m);

/*
 * Find the extent holding fblk: returns 0 with *out set, or -ENOENT when
 * fblk is in a hole, with *out the next extent after it (out->len == 0 if
 * none).
 */
int fs_extmap_lookup(const struct fs_extmap *m, uint64_t fblk,
		     struct fs_ext *out) MUST_CHECK;

/*
 * Map e->len blocks at e->fblk, which must all be a hole (-EEXIST
 * otherwise, nothing changed).  Merges with neighbours.  -ENOMEM.
 */
int fs_extmap_insert(struct fs_extmap *m, const struct fs_ext *e) MUST_CHECK;

/*
 * Unmap [fblk, fblk + len) (holes inside are fine), splitting extents at
 * the edges; each removed volume run is reported to freed (may be NULL).
 * Returns 0 or -ENOMEM (only when an extent must split and a chunk cannot
 * be allocated; the map is then unchanged).
 */
int fs_extmap_remove(struct fs_extmap *m, uint64_t fblk, uint64_t len,
		     fs_extmap_freed_fn freed, void *ctx) MUST_CHECK;

/*
 * Set every mapped block of [fblk, fblk + len) to state, splitting and
 * merging as needed; holes stay holes.  Returns 0 or -ENOMEM (partially
 * done: callers treat it as a metadata error).
 */
int fs_extmap_set_state(struct fs_extmap *m, uint64_t fblk, uint64_t len,
			uint32_t state) MUST_CHECK;

/*
 * Call fn for each extent overlapping [fblk, fblk + len) in order (whole
 * extents, not clipped).  fn returns 0 to go on, non-zero to stop (that
 * value is returned).  fn must not change the map.
 */
int fs_extmap_walk(const struct fs_extmap *m, uint64_t fblk, uint64_t len,
		   int (*fn)(void *ctx, const struct fs_ext *e), void *ctx)
	MUST_CHECK;

/* Number of extents; first block past the last extent (0 if empty). */
uint64_t fs_extmap_count(const struct fs_extmap *m);
uint64_t fs_extmap_end(const struct fs_extmap *m);

/* Check ordering, no overlap, no mergeable neighbours, counts (tests, fsck). */
int fs_extmap_check(const struct fs_extmap *m) MUST_CHECK;

#endif
