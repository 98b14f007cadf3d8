/*
 * test_fs_ops.c - the engine API on a real (file-backed) volume: namespace
 * operations and POSIX rename rules, file data with holes, truncate,
 * punch, seek, clone, preallocation and the pNFS calls, extended
 * attributes, server records; then replay after a crash (a child that
 * _exit()s without unmounting), checkpoints forced by a small log, orphans
 * and the forced shutdown.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../testlib.h"
#include "test_fs_util.h"
#include "../../src/fs/dir.h"

#define VOLSZ	(64ull << 20)
#define BS	4096u

static void
fill(uint8_t *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 12));
}

static int
count_cb(void *ctx, const char *name, size_t namelen, uint64_t ino,
	 enum fs_ftype type, uint64_t cookie)
{
	(*(int *)ctx)++;
	return 0;
}

struct page_ctx {
	int		n;
	uint64_t	last;
};

/* Take two entries, then report "reply full". */
static int
stop_after_two(void *ctx, const char *name, size_t namelen, uint64_t ino,
	       enum fs_ftype type, uint64_t cookie)
{
	struct page_ctx *c = ctx;

	if (c->n == 2)
		return 1;
	c->n++;
	c->last = cookie;
	return 0;
}

static int
readdir_count(struct fs *fs, struct fs_inode *dir)
{
	uint64_t verf;
	bool eof = false;
	int n = 0;

	CHECK_EQ(fs_readdir(fs, dir, 0, 0, count_cb, &n, &verf, &eof), 0);
	CHECK(eof);
	return n;
}

static void
test_namespace(void)
{
	struct fs *fs;
	struct fs_inode *root, *d1, *d2, *f1, *f2, *ip;
	struct fs_attr a;
	char buf[64];
	size_t len;

	tf_mkfs(VOLSZ, 0);
	fs = tf_mount();
	root = tf_root(fs);
	d1 = tf_create(fs, root, "d1", FS_TYPE_DIR);
	d2 = tf_create(fs, d1, "d2", FS_TYPE_DIR);
	f1 = tf_create(fs, root, "f1", FS_TYPE_REG);
	ip = tf_create(fs, root, "lnk", FS_TYPE_LNK);
	CHECK_EQ(fs_readlink(fs, ip, buf, sizeof(buf), &len), 0);
	CHECK_EQ(len, strlen("target/of/link"));
	CHECK(strcmp(buf, "target/of/link") == 0);
	fs_iput(fs, ip);
	fs_iput(fs, tf_create(fs, root, "fifo", FS_TYPE_FIFO));
	fs_iput(fs, tf_create(fs, root, "sock", FS_TYPE_SOCK));
	{
		struct fs_create_args ca = { .type = FS_TYPE_CHR, .mode = 0600,
					     .rdev_major = 4, .rdev_minor = 7,
					     .exclusive = true };

		CHECK_EQ(fs_create(fs, root, "tty", &ca, &ip), 0);
		CHECK_EQ(fs_getattr(fs, ip, &a), 0);
		CHECK_EQ(a.type, FS_TYPE_CHR);
		CHECK_EQ(a.rdev_major, 4);
		CHECK_EQ(a.rdev_minor, 7);
		fs_iput(fs, ip);
		/* An EXCLUSIVE4_1-style create keeps its verifier in the
		 * times, in one record. */
		{
			struct fs_create_args xa = { .type = FS_TYPE_REG,
				.mode = 0600, .exclusive = true,
				.set_times = true,
				.atime = { .sec = 0x12345678, .nsec = 9 },
				.mtime = { .sec = 0x0abcdef0, .nsec = 7 } };

			CHECK_EQ(fs_create(fs, root, "excl", &xa, &ip), 0);
			CHECK_EQ(fs_getattr(fs, ip, &a), 0);
			CHECK_EQ(a.atime.sec, 0x12345678);
			CHECK_EQ(a.atime.nsec, 9);
			CHECK_EQ(a.mtime.sec, 0x0abcdef0);
			CHECK_EQ(a.mtime.nsec, 7);
			CHECK(a.ctime.sec > 0x12345678);
			fs_iput(fs, ip);
			CHECK_EQ(fs_unlink(fs, root, "excl"), 0);
		}
		/* Non-exclusive create of an existing name returns it. */
		ca.exclusive = false;
		CHECK_EQ(fs_create(fs, root, "tty", &ca, &ip), 0);
		fs_iput(fs, ip);
		ca.type = FS_TYPE_REG;
		CHECK_EQ(fs_create(fs, root, "tty", &ca, &ip), -EEXIST);
	}
	CHECK_EQ(fs_getattr(fs, root, &a), 0);
	CHECK_EQ(a.nlink, 3);		/* ".", "..", and d1's ".." */
	CHECK_EQ(readdir_count(fs, root), 6);

	/* Readdir: resume at a cookie, verifier and cookie checks. */
	{
		struct page_ctx rc = { 0, 0 };
		uint64_t verf = 0, v2 = 0;
		bool eof = true;

		CHECK_EQ(fs_readdir(fs, root, 0, 0, stop_after_two, &rc, &verf,
				    &eof), 0);
		CHECK(!eof);
		CHECK_EQ(rc.n, 2);
		CHECK(rc.last >= FS_COOKIE_FIRST);
		rc.n = 0;
		CHECK_EQ(fs_readdir(fs, root, rc.last, verf, count_cb, &rc.n,
				    &v2, &eof), 0);
		CHECK(eof);
		CHECK_EQ(rc.n, 4);		/* 6 entries, 2 seen */
		CHECK_EQ(v2, verf);
		CHECK_EQ(fs_readdir(fs, root, rc.last, verf + 1, count_cb,
				    &rc.n, &v2, &eof), -EBADE);
		CHECK_EQ(fs_readdir(fs, root, 1u << 30, verf, count_cb, &rc.n,
				    &v2, &eof), -EBADR);
		CHECK_EQ(fs_readdir(fs, f1, 0, 0, count_cb, &rc.n, &v2, &eof),
			 -ENOTDIR);
	}

	/* Lookup, "." and "..". */
	ip = tf_lookup(fs, d2, "..");
	CHECK(ip == d1);
	fs_iput(fs, ip);
	CHECK(tf_lookup(fs, root, "nope") == NULL);
	CHECK_EQ(fs_lookup(fs, f1, "x", &ip), -ENOTDIR);

	/* Hard links. */
	CHECK_EQ(fs_link(fs, f1, d1, "f1-link"), 0);
	CHECK_EQ(fs_link(fs, d2, root, "dirlink"), -EISDIR);
	CHECK_EQ(fs_link(fs, f1, d1, "f1-link"), -EEXIST);
	CHECK_EQ(fs_getattr(fs, f1, &a), 0);
	CHECK_EQ(a.nlink, 2);

	/* Rename rules. */
	f2 = tf_create(fs, root, "f2", FS_TYPE_REG);
	CHECK_EQ(fs_rename(fs, root, "f2", root, "f1"), 0);	/* file over file */
	CHECK_EQ(fs_getattr(fs, f1, &a), 0);
	CHECK_EQ(a.nlink, 1);					/* lost a name */
	ip = tf_lookup(fs, root, "f1");
	CHECK(ip == f2);
	fs_iput(fs, ip);
	CHECK_EQ(fs_rename(fs, root, "d1", d2, "x"), -EINVAL);	/* own subtree */
	CHECK_EQ(fs_rename(fs, root, "d1", d1, "x"), -EINVAL);
	CHECK_EQ(fs_rename(fs, root, "d1", root, "f1"), -ENOTDIR); /* dir over file */
	CHECK_EQ(fs_rename(fs, root, "f1", d1, "d2"), -EISDIR);	/* file over dir */
	fs_iput(fs, tf_create(fs, root, "empty", FS_TYPE_DIR));
	fs_iput(fs, tf_create(fs, root, "full", FS_TYPE_DIR));
	ip = tf_lookup(fs, root, "full");
	fs_iput(fs, tf_create(fs, ip, "child", FS_TYPE_REG));
	fs_iput(fs, ip);
	CHECK_EQ(fs_rename(fs, d1, "d2", root, "full"), -ENOTEMPTY);
	CHECK_EQ(fs_rename(fs, d1, "d2", root, "empty"), 0);	/* dir over empty dir */
	CHECK_EQ(fs_getattr(fs, d2, &a), 0);
	ip = tf_lookup(fs, d2, "..");
	CHECK(ip == root);
	fs_iput(fs, ip);
	CHECK_EQ(fs_getattr(fs, d1, &a), 0);
	CHECK_EQ(a.nlink, 2);
	CHECK_EQ(fs_rename(fs, root, "nope", root, "x"), -ENOENT);
	/* Same inode under both names: nothing happens. */
	CHECK_EQ(fs_rename(fs, d1, "f1-link", d1, "f1-link"), 0);

	/* Unlink and rmdir. */
	CHECK_EQ(fs_unlink(fs, root, "full"), -ENOTEMPTY);
	ip = tf_lookup(fs, root, "full");
	CHECK_EQ(fs_unlink(fs, ip, "child"), 0);
	fs_iput(fs, ip);
	CHECK_EQ(fs_unlink(fs, root, "full"), 0);
	CHECK_EQ(fs_unlink(fs, d1, "f1-link"), 0);
	CHECK_EQ(fs_iget(fs, f1->ino, 0, &ip), 0);	/* still referenced */
	fs_iput(fs, ip);
	{
		uint64_t ino = f1->ino;

		fs_iput(fs, f1);			/* last ref: freed */
		CHECK_EQ(fs_iget(fs, ino, 0, &ip), -ESTALE);
	}
	/* Names are checked. */
	CHECK_EQ(fs_create(fs, root, "a/b", &(struct fs_create_args){
		.type = FS_TYPE_REG }, &ip), -EINVAL);
	CHECK_EQ(fs_create(fs, root, "..", &(struct fs_create_args){
		.type = FS_TYPE_REG }, &ip), -EINVAL);

	fs_iput(fs, f2);
	fs_iput(fs, d2);
	fs_iput(fs, d1);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);

	/* Everything is still there after a clean remount. */
	fs = tf_mount();
	root = tf_root(fs);
	CHECK_EQ(readdir_count(fs, root), 7);
	ip = tf_lookup(fs, root, "empty");
	REQUIRE(ip);
	CHECK_EQ(fs_getattr(fs, ip, &a), 0);
	CHECK_EQ(a.type, FS_TYPE_DIR);
	fs_iput(fs, ip);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
}

static void
check_read(struct fs *fs, struct fs_inode *ip, uint64_t off, const uint8_t *want,
	   size_t len)
{
	uint8_t *got = malloc(len);
	size_t n = 0;
	bool eof;

	REQUIRE(got);
	CHECK_EQ(fs_read(fs, ip, off, len, got, &n, &eof), 0);
	CHECK_EQ(n, len);
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i]) {
			fprintf(stderr, "read at %llu: byte %zu differs\n",
				(unsigned long long)off, i);
			CHECK(!"data differs");
			break;
		}
	free(got);
}

static void
test_data(void)
{
	struct fs *fs;
	struct fs_inode *root, *f, *g;
	uint8_t *buf = malloc(64 * BS), *zero = calloc(64 * BS, 1);
	struct fs_statfs st0, st;
	size_t n;
	uint64_t pos;
	bool eof;

	REQUIRE(buf && zero);
	tf_mkfs(VOLSZ, 0);
	fs = tf_mount();
	root = tf_root(fs);
	f = tf_create(fs, root, "data", FS_TYPE_REG);
	CHECK_EQ(fs_statfs(fs, &st0), 0);

	/* Unaligned write with a hole before it. */
	fill(buf, 3 * BS, 1);
	CHECK_EQ(fs_write(fs, f, 5 * BS + 100, 3 * BS, buf, FS_FILE_SYNC, &n), 0);
	CHECK_EQ(n, 3 * BS);
	CHECK_EQ(tf_size(fs, f), 8 * BS + 100);
	check_read(fs, f, 0, zero, 5 * BS + 100);
	check_read(fs, f, 5 * BS + 100, buf, 3 * BS);
	CHECK_EQ(fs_statfs(fs, &st), 0);
	CHECK_EQ(st0.blocks_free - st.blocks_free, 4);
	/* Reading past EOF. */
	CHECK_EQ(fs_read(fs, f, 100 * BS, 10, buf, &n, &eof), 0);
	CHECK_EQ(n, 0);
	CHECK(eof);

	/* Seek. */
	CHECK_EQ(fs_seek(fs, f, 0, true, &pos), 0);
	CHECK_EQ(pos, 5 * BS);
	CHECK_EQ(fs_seek(fs, f, 5 * BS, false, &pos), 0);
	CHECK_EQ(pos, 8 * BS + 100);	/* the hole at EOF */
	CHECK_EQ(fs_seek(fs, f, 0, false, &pos), 0);
	CHECK_EQ(pos, 0);
	CHECK_EQ(fs_seek(fs, f, 9 * BS, true, &pos), -ENXIO);

	/* Truncate down into a block, then up: the tail reads as zeros. */
	{
		struct fs_setattr sa = { .mask = FS_SET_SIZE, .size = 6 * BS + 10 };

		CHECK_EQ(fs_setattr(fs, f, &sa, NULL), 0);
		CHECK_EQ(tf_size(fs, f), 6 * BS + 10);
		sa.size = 10 * BS;
		CHECK_EQ(fs_setattr(fs, f, &sa, NULL), 0);
		check_read(fs, f, 5 * BS + 100, buf, BS - 100 + 10);
		check_read(fs, f, 6 * BS + 10, zero, 4 * BS - 10);
		CHECK_EQ(fs_statfs(fs, &st), 0);
		CHECK_EQ(st0.blocks_free - st.blocks_free, 2);
	}

	/* Punch a hole: whole blocks go, partial ones read zeros. */
	fill(buf, 8 * BS, 2);
	CHECK_EQ(fs_write(fs, f, 0, 8 * BS, buf, FS_FILE_SYNC, &n), 0);
	CHECK_EQ(fs_deallocate(fs, f, BS + 10, 3 * BS), 0);
	check_read(fs, f, 0, buf, BS + 10);
	check_read(fs, f, BS + 10, zero, 3 * BS);
	check_read(fs, f, 4 * BS + 10, buf + 4 * BS + 10, 4 * BS - 10);
	/* Holes are whole blocks: block 1 keeps (zeroed) data. */
	CHECK_EQ(fs_seek(fs, f, BS + 10, false, &pos), 0);
	CHECK_EQ(pos, 2 * BS);
	CHECK_EQ(fs_seek(fs, f, 2 * BS, true, &pos), 0);
	CHECK_EQ(pos, 4 * BS);

	/* Unstable write + commit. */
	fill(buf, BS, 3);
	CHECK_EQ(fs_write(fs, f, 2 * BS, BS, buf, FS_UNSTABLE, &n), 0);
	CHECK_EQ(fs_commit(fs, f, 0, 0), 0);
	check_read(fs, f, 2 * BS, buf, BS);

	/* Preallocation: reads zeros, is a hole for SEEK, uses blocks. */
	g = tf_create(fs, root, "prealloc", FS_TYPE_REG);
	CHECK_EQ(fs_allocate(fs, g, 0, 16 * BS), 0);
	CHECK_EQ(tf_size(fs, g), 16 * BS);
	check_read(fs, g, 0, zero, 16 * BS);
	CHECK_EQ(fs_seek(fs, g, 0, true, &pos), -ENXIO);
	/* Write into the middle of an INVALID extent: the rest stays zero. */
	fill(buf, 100, 4);
	CHECK_EQ(fs_write(fs, g, 3 * BS + 50, 100, buf, FS_FILE_SYNC, &n), 0);
	check_read(fs, g, 3 * BS + 50, buf, 100);
	check_read(fs, g, 3 * BS, zero, 50);
	check_read(fs, g, 3 * BS + 150, zero, BS - 150);
	CHECK_EQ(fs_seek(fs, g, 0, true, &pos), 0);
	CHECK_EQ(pos, 3 * BS);

	/* Layouts: an RW map fills holes with INVALID blocks ... */
	{
		struct fs_layout_ext ext[8];
		unsigned nx = 0;

		fs_ilock(g, FS_MAPLOCK_SHARED);
		CHECK_EQ(fs_layout_map(fs, g, 16 * BS, 4 * BS, true, ext, 8, &nx), 0);
		fs_iunlock(g, FS_MAPLOCK_SHARED);
		CHECK_EQ(nx, 1);
		CHECK_EQ(ext[0].state, FS_EXT_INVALID);
		CHECK_EQ(ext[0].file_off, 16 * BS);
		CHECK_EQ(ext[0].len, 4 * BS);
		/* ... the "client" writes the blocks directly ... */
		fill(buf, 4 * BS, 5);
		{
			struct vol *v = fs_vol(fs);
			uint64_t b0 = ext[0].vol_block;

			CHECK_EQ(vol_block_offset(v, b0), ext[0].vol_off);
			memcpy(vol_block_ptr(v, b0), buf, 4 * BS);
			vol_persist(v, vol_block_ptr(v, b0), 4 * BS,
				    "test.client.write");
		}
		/* Before LAYOUTCOMMIT the range still reads as zeros. */
		CHECK_EQ(tf_size(fs, g), 16 * BS);
		CHECK_EQ(fs_layout_commit(fs, g, 16 * BS, 4 * BS, 20 * BS, NULL), 0);
		CHECK_EQ(tf_size(fs, g), 20 * BS);
		check_read(fs, g, 16 * BS, buf, 4 * BS);
		/* A read-only map describes holes as holes. */
		fs_ilock(f, FS_MAPLOCK_SHARED);
		CHECK_EQ(fs_layout_map(fs, f, 0, 8 * BS, false, ext, 8, &nx), 0);
		fs_iunlock(f, FS_MAPLOCK_SHARED);
		/* Contiguous cover of the range; block 3 is the hole. */
		CHECK(nx >= 2);
		for (unsigned i = 0; i < nx; i++) {
			CHECK_EQ(ext[i].file_off, i ? ext[i - 1].file_off +
				 ext[i - 1].len : 0);
			CHECK_EQ(ext[i].state, ext[i].file_off == 3 * BS ?
				 FS_EXT_HOLE : FS_EXT_RW);
		}
		CHECK_EQ(ext[nx - 1].file_off + ext[nx - 1].len, 8 * BS);
	}

	/* An RW layout of "the whole file" allocates a bounded amount and
	 * stops short when the volume runs out: here it gets what is free. */
	{
		struct fs_inode *h = tf_create(fs, root, "big", FS_TYPE_REG);
		struct fs_layout_ext ext[64];
		struct fs_statfs s1, s2;
		unsigned nx = 0;
		uint64_t covered = 0;

		CHECK_EQ(fs_statfs(fs, &s1), 0);
		fs_ilock(h, FS_MAPLOCK_SHARED);
		CHECK_EQ(fs_layout_map(fs, h, 0, UINT64_MAX, true, ext, 64, &nx), 0);
		fs_iunlock(h, FS_MAPLOCK_SHARED);
		CHECK(nx >= 1);
		for (unsigned i = 0; i < nx; i++) {
			CHECK_EQ(ext[i].state, FS_EXT_INVALID);
			covered += ext[i].len;
		}
		CHECK_EQ(fs_statfs(fs, &s2), 0);
		CHECK(s2.blocks_free < s1.blocks_free);
		CHECK(covered <= (64ull << 20));
		CHECK_EQ(covered / BS, s1.blocks_free - s2.blocks_free);
		CHECK_EQ(tf_size(fs, h), 0);		/* layouts do not grow it */
		fs_iput(fs, h);
		CHECK_EQ(fs_unlink(fs, root, "big"), 0);
		CHECK_EQ(fs_statfs(fs, &s2), 0);
		CHECK_EQ(s2.blocks_free, s1.blocks_free);
	}

	/* Clone: copies, the source can change afterwards. */
	fill(buf, 8 * BS, 6);
	CHECK_EQ(fs_write(fs, f, 0, 8 * BS, buf, FS_FILE_SYNC, &n), 0);
	CHECK_EQ(fs_clone(fs, f, 0, g, 4 * BS, 8 * BS), 0);
	check_read(fs, g, 4 * BS, buf, 8 * BS);
	fill(zero, BS, 7);		/* reuse as scratch */
	CHECK_EQ(fs_write(fs, f, 0, BS, zero, FS_FILE_SYNC, &n), 0);
	check_read(fs, g, 4 * BS, buf, BS);
	CHECK_EQ(fs_clone(fs, f, 0, f, BS, 2 * BS), -EINVAL);	/* overlap */
	CHECK_EQ(fs_clone(fs, f, 1, g, 0, BS), -EINVAL);	/* unaligned */
	memset(zero, 0, 64 * BS);

	/* Freeing the files gives every block back. */
	fs_iput(fs, f);
	fs_iput(fs, g);
	CHECK_EQ(fs_unlink(fs, root, "data"), 0);
	CHECK_EQ(fs_unlink(fs, root, "prealloc"), 0);
	CHECK_EQ(fs_statfs(fs, &st), 0);
	CHECK_EQ(st.blocks_free, st0.blocks_free);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
	free(buf);
	free(zero);
}

static int
xattr_count_cb(void *ctx, const char *name)
{
	(*(int *)ctx)++;
	return 0;
}

static int
srv_count_cb(void *ctx, const void *key, size_t klen, const void *val,
	     size_t vlen)
{
	(*(int *)ctx)++;
	return 0;
}

static void
test_xattr_srvrec(void)
{
	struct fs *fs;
	struct fs_inode *root, *f;
	char val[64];
	size_t len;
	int n = 0;

	tf_mkfs(VOLSZ, 0);
	fs = tf_mount();
	root = tf_root(fs);
	f = tf_create(fs, root, "x", FS_TYPE_REG);
	CHECK_EQ(fs_xattr_set(fs, f, "user.a", "hello", 5, 0), 0);
	CHECK_EQ(fs_xattr_set(fs, f, "user.a", "x", 1, FS_XATTR_CREATE), -EEXIST);
	CHECK_EQ(fs_xattr_set(fs, f, "user.b", "x", 1, FS_XATTR_REPLACE), -ENODATA);
	CHECK_EQ(fs_xattr_set(fs, f, "user.b", "world", 5, FS_XATTR_CREATE), 0);
	CHECK_EQ(fs_xattr_remove(fs, f, "user.b"), 0);
	CHECK_EQ(fs_xattr_remove(fs, f, "user.b"), -ENODATA);
	CHECK_EQ(fs_srvrec_put(fs, "client1", 7, "rec-1", 5), 0);
	CHECK_EQ(fs_srvrec_put(fs, "client2", 7, "rec-2", 5), 0);
	CHECK_EQ(fs_srvrec_put(fs, "client1", 7, "rec-1b", 6), 0);
	CHECK_EQ(fs_srvrec_del(fs, "client2", 7), 0);
	CHECK_EQ(fs_srvrec_del(fs, "client2", 7), -ENOENT);
	fs_iput(fs, f);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);

	fs = tf_mount();
	root = tf_root(fs);
	f = tf_lookup(fs, root, "x");
	REQUIRE(f);
	CHECK_EQ(fs_xattr_get(fs, f, "user.a", val, sizeof(val), &len), 0);
	CHECK_EQ(len, 5);
	CHECK(memcmp(val, "hello", 5) == 0);
	CHECK_EQ(fs_xattr_get(fs, f, "user.a", val, 2, &len), -ERANGE);
	CHECK_EQ(fs_xattr_list(fs, f, xattr_count_cb, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(fs_srvrec_get(fs, "client1", 7, val, sizeof(val), &len), 0);
	CHECK_EQ(len, 6);
	CHECK(memcmp(val, "rec-1b", 6) == 0);
	CHECK_EQ(fs_srvrec_get(fs, "client2", 7, val, sizeof(val), &len), -ENOENT);
	n = 0;
	CHECK_EQ(fs_srvrec_iterate(fs, srv_count_cb, &n), 0);
	CHECK_EQ(n, 1);
	fs_iput(fs, f);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
}

/*
 * A child changes the volume and exits without unmounting (what a crash
 * leaves, minus torn records); the parent's mount must replay it all.
 */
static void
test_replay(void)
{
	pid_t pid;
	int status;
	uint8_t *buf = malloc(4 * BS);

	REQUIRE(buf);
	fill(buf, 4 * BS, 9);
	tf_mkfs(VOLSZ, 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct fs *fs = tf_mount();
		struct fs_inode *root = tf_root(fs), *d, *f, *o;
		struct fs_setattr sa = { .mask = FS_SET_MODE | FS_SET_UID,
					 .mode = 0600, .uid = 77 };
		size_t n;

		d = tf_create(fs, root, "dir", FS_TYPE_DIR);
		f = tf_create(fs, d, "file", FS_TYPE_REG);
		if (fs_write(fs, f, 0, 4 * BS, buf, FS_FILE_SYNC, &n) ||
		    fs_setattr(fs, f, &sa, NULL) ||
		    fs_rename(fs, d, "file", root, "moved") ||
		    fs_link(fs, f, d, "second") ||
		    fs_xattr_set(fs, f, "user.k", "v", 1, 0) ||
		    fs_srvrec_put(fs, "c", 1, "r", 1))
			_exit(2);
		/* An open file whose last name goes: an orphan to free. */
		o = tf_create(fs, root, "orphan", FS_TYPE_REG);
		if (fs_write(fs, o, 0, 4 * BS, buf, FS_FILE_SYNC, &n) ||
		    fs_unlink(fs, root, "orphan"))
			_exit(3);
		_exit(0);	/* no unmount, references still held */
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	{
		struct fs *fs = tf_mount();
		struct fs_inode *root = tf_root(fs), *d, *f;
		struct fs_statfs st;
		struct fs_attr a;
		char v[8];
		size_t len;

		d = tf_lookup(fs, root, "dir");
		f = tf_lookup(fs, root, "moved");
		REQUIRE(d && f);
		CHECK(tf_lookup(fs, d, "file") == NULL);
		CHECK_EQ(fs_getattr(fs, f, &a), 0);
		CHECK_EQ(a.nlink, 2);
		CHECK_EQ(a.mode, 0600);
		CHECK_EQ(a.uid, 77);
		CHECK_EQ(a.size, 4 * BS);
		check_read(fs, f, 0, buf, 4 * BS);
		CHECK_EQ(fs_xattr_get(fs, f, "user.k", v, sizeof(v), &len), 0);
		CHECK_EQ(fs_srvrec_get(fs, "c", 1, v, sizeof(v), &len), 0);
		CHECK(tf_lookup(fs, root, "orphan") == NULL);
		/* Only the 4 blocks of "moved" are in use: the orphan's
		 * were freed at mount. */
		CHECK_EQ(fs_statfs(fs, &st), 0);
		CHECK_EQ(st.blocks_total - st.blocks_free, 4);
		fs_iput(fs, d);
		fs_iput(fs, f);
		fs_iput(fs, root);
		CHECK_EQ(fs_unmount(fs), 0);
	}
	free(buf);
}

struct attr_ctx {
	struct fs	*fs;
	int		n;
	int		bad;
};

/* READDIR with attributes: the callback calls back into the engine. */
static int
attr_cb(void *ctx, const char *name, size_t namelen, uint64_t ino,
	enum fs_ftype type, uint64_t cookie)
{
	struct attr_ctx *c = ctx;
	struct fs_inode *ip;
	struct fs_attr a;

	if (fs_iget(c->fs, ino, 0, &ip) != 0) {
		c->bad++;
		return 0;
	}
	if (fs_getattr(c->fs, ip, &a) != 0 || a.ino != ino || a.type != type)
		c->bad++;
	fs_iput(c->fs, ip);
	c->n++;
	return 0;
}

/* A 64 KiB log fills quickly: operations checkpoint and carry on. */
static void
test_log_full(void)
{
	struct fs *fs;
	struct fs_inode *root;
	char name[32];
	int i, n = 0;
	uint64_t verf;
	bool eof;

	tf_mkfs(VOLSZ, 64 << 10);
	fs = tf_mount();
	root = tf_root(fs);
	for (i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "entry-with-a-longer-name-%d", i);
		fs_iput(fs, tf_create(fs, root, name, FS_TYPE_REG));
	}
	for (i = 0; i < 3000; i += 3) {
		snprintf(name, sizeof(name), "entry-with-a-longer-name-%d", i);
		CHECK_EQ(fs_unlink(fs, root, name), 0);
	}
	CHECK(vol_epoch(fs_vol(fs)) > 2);	/* several checkpoints ran */
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
	fs = tf_mount();
	root = tf_root(fs);
	CHECK_EQ(fs_readdir(fs, root, 0, 0, count_cb, &n, &verf, &eof), 0);
	CHECK_EQ(n, 2000);
	{
		struct attr_ctx ac = { .fs = fs };

		CHECK_EQ(fs_readdir(fs, root, 0, 0, attr_cb, &ac, &verf, &eof), 0);
		CHECK(eof);
		CHECK_EQ(ac.n, 2000);
		CHECK_EQ(ac.bad, 0);
	}
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
}

static void
test_shutdown(void)
{
	struct fs *fs;
	struct fs_inode *root, *ip;
	struct fs_create_args a = { .type = FS_TYPE_REG, .mode = 0644 };

	tf_mkfs(VOLSZ, 0);
	fs = tf_mount();
	root = tf_root(fs);
	fs_shutdown(fs, "test");
	CHECK(fs_is_shutdown(fs));
	CHECK_EQ(fs_create(fs, root, "x", &a, &ip), -EIO);
	CHECK_EQ(fs_checkpoint(fs), -EIO);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
	/* The volume is still mountable (nothing bad was written). */
	fs = tf_mount();
	CHECK_EQ(fs_unmount(fs), 0);
}

/* Fill the volume: ENOSPC is clean (no block leaked, fs_check happy). */
static void
test_enospc(void)
{
	struct fs_check_result res;
	struct fs_statfs st0, st;
	struct fs *fs;
	struct fs_inode *root, *f;
	uint8_t *buf = malloc(256 * BS);
	uint64_t off = 0;
	size_t n;
	int rc;

	REQUIRE(buf);
	memset(buf, 1, 256 * BS);
	tf_mkfs(16ull << 20, 0);
	fs = tf_mount();
	root = tf_root(fs);
	f = tf_create(fs, root, "fill", FS_TYPE_REG);
	CHECK_EQ(fs_statfs(fs, &st0), 0);
	while ((rc = fs_write(fs, f, off, 256 * BS, buf, FS_FILE_SYNC, &n)) == 0)
		off += 256 * BS;
	CHECK_EQ(rc, -ENOSPC);
	CHECK(!fs_is_shutdown(fs));
	CHECK_EQ(fs_statfs(fs, &st), 0);
	/* The failed write gave back what it had taken. */
	CHECK_EQ(st0.blocks_free - st.blocks_free, off / BS);
	CHECK_EQ(tf_size(fs, f), off);
	CHECK_EQ(fs_check(fs, &(struct fs_check_opts){ 0 }, &res), 0);
	CHECK_EQ(res.problems, 0);
	/* Space comes back with a truncate. */
	CHECK_EQ(fs_setattr(fs, f, &(struct fs_setattr){
		.mask = FS_SET_SIZE, .size = 0 }, NULL), 0);
	CHECK_EQ(fs_statfs(fs, &st), 0);
	CHECK_EQ(st.blocks_free, st0.blocks_free);
	CHECK_EQ(fs_write(fs, f, 0, 256 * BS, buf, FS_FILE_SYNC, &n), 0);
	fs_iput(fs, f);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
	free(buf);
}

static uint64_t check_msgs;

static void
check_msg(void *ctx, const char *msg)
{
	check_msgs++;
	if (getenv("FS_TEST_VERBOSE"))
		fprintf(stderr, "  check: %s\n", msg);
}

/* fs_check() finds nothing on a good volume, finds planted damage, and
 * repairs it. */
static void
test_check(void)
{
	struct fs_check_opts o = { .problem = check_msg };
	struct fs_check_result res;
	struct fs *fs;
	struct fs_inode *root, *f, *d, *ip;
	size_t n;
	char buf[100] = "x";

	tf_mkfs(VOLSZ, 0);
	fs = tf_mount();
	root = tf_root(fs);
	d = tf_create(fs, root, "d", FS_TYPE_DIR);
	f = tf_create(fs, d, "f", FS_TYPE_REG);
	CHECK_EQ(fs_write(fs, f, 0, sizeof(buf), buf, FS_FILE_SYNC, &n), 0);
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	CHECK_EQ(res.problems, 0);
	CHECK_EQ(res.inodes, 3);
	CHECK_EQ(res.blocks_mapped, 1);

	/* Plant damage in memory: a wrong link count and an entry naming
	 * no inode. */
	f->nlink = 5;
	CHECK_EQ(fs_dir_add(root->dir, "ghost", 5, 999999, FS_TYPE_REG, 0), 0);
	check_msgs = 0;
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	CHECK_EQ(res.problems, 2);
	CHECK_EQ(check_msgs, 2);
	o.repair = true;
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	CHECK_EQ(res.fixed, 2);
	o.repair = false;
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	CHECK_EQ(res.problems, 0);

	/* An unreachable file goes to lost+found. */
	CHECK_EQ(fs_dir_remove(d->dir, "f", 1), 0);
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	CHECK(res.problems >= 1);
	o.repair = true;
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	o.repair = false;
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	CHECK_EQ(res.problems, 0);
	ip = tf_lookup(fs, root, "lost+found");
	REQUIRE(ip);
	snprintf(buf, sizeof(buf), "#%llu", (unsigned long long)f->ino);
	{
		struct fs_inode *g = tf_lookup(fs, ip, buf);

		CHECK(g == f);
		if (g)
			fs_iput(fs, g);
	}
	fs_iput(fs, ip);

	/* A directory (with a file in it) that lost its name is adopted by
	 * lost+found, and its file becomes reachable with it. */
	{
		struct fs_inode *e = tf_create(fs, root, "e", FS_TYPE_DIR);
		struct fs_inode *g = tf_create(fs, e, "g", FS_TYPE_REG);
		struct fs_inode *lf, *x;

		CHECK_EQ(fs_dir_remove(root->dir, "e", 1), 0);
		root->nlink--;
		CHECK_EQ(fs_check(fs, &o, &res), 0);
		CHECK_EQ(res.problems, 2);	/* e and g unreachable */
		o.repair = true;
		CHECK_EQ(fs_check(fs, &o, &res), 0);
		o.repair = false;
		CHECK_EQ(fs_check(fs, &o, &res), 0);
		CHECK_EQ(res.problems, 0);
		lf = tf_lookup(fs, root, "lost+found");
		REQUIRE(lf);
		snprintf(buf, sizeof(buf), "#%llu", (unsigned long long)e->ino);
		x = tf_lookup(fs, lf, buf);
		CHECK(x == e);
		if (x) {
			struct fs_inode *y = tf_lookup(fs, x, "..");

			CHECK(y == lf);
			if (y)
				fs_iput(fs, y);
			fs_iput(fs, x);
		}
		fs_iput(fs, lf);
		fs_iput(fs, g);
		fs_iput(fs, e);
	}

	fs_iput(fs, f);
	fs_iput(fs, d);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
	/* The repairs were logged: a fresh mount is clean. */
	fs = tf_mount();
	CHECK_EQ(fs_check(fs, &o, &res), 0);
	CHECK_EQ(res.problems, 0);
	CHECK_EQ(fs_unmount(fs), 0);
}

int
main(void)
{
	tf_setup();
	TEST_RUN(test_namespace);
	TEST_RUN(test_data);
	TEST_RUN(test_xattr_srvrec);
	TEST_RUN(test_replay);
	TEST_RUN(test_log_full);
	TEST_RUN(test_shutdown);
	TEST_RUN(test_check);
	TEST_RUN(test_enospc);
	tf_cleanup();
	TEST_EXIT();
}
