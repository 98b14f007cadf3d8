/*
 * test_fs_break.c - the engine calls fs_break_layouts() where DESIGN.md
 * section 3 says it must, with the right reason and range, and nothing is
 * freed under a reference: a truncate, a punch, a clone onto a range and
 * the removal of a file's last name recall the layouts on the range
 * (BREAK_UNMAP, also read layouts); a write through the MDS recalls RW
 * layouts only (BREAK_WRITE).  The "clients" here return their layout
 * from the recall callback at once.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../testlib.h"
#include "test_fs_util.h"

#define BS	4096u

struct holder {
	struct fs_layoutref	ref;
	struct fs_inode		*ip;
	int			breaks;
	enum fs_break_reason	reason;
	bool			held;
};

static void
holder_break(struct fs_layoutref *ref)
{
	struct holder *h = ref->owner;

	h->breaks++;
	h->reason = ref->break_reason;
	h->held = false;
	fs_layoutref_remove(h->ip, ref);	/* LAYOUTRETURN at once */
}

static const struct fs_layoutref_ops holder_ops = {
	.break_ref = holder_break,
};

/* Take a layout the way LAYOUTGET does: under MAPLOCK shared. */
static void
take(struct holder *h, struct fs_inode *ip, enum fs_layoutref_kind kind,
     uint64_t off, uint64_t len)
{
	memset(h, 0, sizeof(*h));
	h->ip = ip;
	fs_ilock(ip, FS_MAPLOCK_SHARED);
	REQUIRE(fs_layoutref_add(ip, &h->ref, kind, off, len, &holder_ops,
				 h) == 0);
	fs_iunlock(ip, FS_MAPLOCK_SHARED);
	h->held = true;
}

static void
drop(struct holder *h)
{
	if (h->held)
		fs_layoutref_remove(h->ip, &h->ref);
	h->held = false;
}

static void
test_breaks(void)
{
	struct fs *fs;
	struct fs_inode *root, *f, *g;
	struct holder rw, rd, far;
	uint8_t buf[8 * BS];
	size_t n;

	memset(buf, 7, sizeof(buf));
	tf_mkfs(32ull << 20, 0);
	fs = tf_mount();
	root = tf_root(fs);
	f = tf_create(fs, root, "f", FS_TYPE_REG);
	g = tf_create(fs, root, "g", FS_TYPE_REG);
	CHECK_EQ(fs_write(fs, f, 0, sizeof(buf), buf, FS_FILE_SYNC, &n), 0);
	CHECK_EQ(fs_write(fs, g, 0, sizeof(buf), buf, FS_FILE_SYNC, &n), 0);

	/* A write through the MDS recalls an RW layout, not a read one. */
	take(&rw, f, FS_REF_LAYOUT_RW, 0, 8 * BS);
	take(&rd, f, FS_REF_LAYOUT_READ, 0, 8 * BS);
	CHECK_EQ(fs_write(fs, f, BS, 10, buf, FS_FILE_SYNC, &n), 0);
	CHECK_EQ(rw.breaks, 1);
	CHECK_EQ(rw.reason, FS_BREAK_WRITE);
	CHECK_EQ(rd.breaks, 0);
	CHECK(rd.held);

	/* A truncate recalls every layout past the new EOF, and only
	 * those. */
	take(&far, f, FS_REF_LAYOUT_READ, 6 * BS, 2 * BS);
	CHECK_EQ(fs_setattr(fs, f, &(struct fs_setattr){
		.mask = FS_SET_SIZE, .size = 4 * BS }, NULL), 0);
	CHECK_EQ(far.breaks, 1);
	CHECK_EQ(far.reason, FS_BREAK_UNMAP);
	CHECK_EQ(rd.breaks, 1);		/* it covers [0, 8 blocks) */
	drop(&rd);

	/* A punch recalls the layouts on its range. */
	take(&rd, f, FS_REF_LAYOUT_READ, 0, BS);
	take(&far, f, FS_REF_LAYOUT_READ, 2 * BS, BS);
	CHECK_EQ(fs_deallocate(fs, f, 2 * BS, BS), 0);
	CHECK_EQ(far.breaks, 1);
	CHECK_EQ(rd.breaks, 0);
	drop(&rd);

	/* A clone recalls the target range of the target file. */
	take(&rd, g, FS_REF_LAYOUT_READ, 0, 2 * BS);
	CHECK_EQ(fs_clone(fs, f, 0, g, 0, 2 * BS), 0);
	CHECK_EQ(rd.breaks, 1);
	CHECK_EQ(rd.reason, FS_BREAK_UNMAP);

	/* A preallocation recalls RW layouts (the map changes). */
	take(&rw, g, FS_REF_LAYOUT_RW, 0, FS_RANGE_EOF);
	CHECK_EQ(fs_allocate(fs, g, 16 * BS, BS), 0);
	CHECK_EQ(rw.breaks, 1);

	/* The last name going recalls everything on the file: by unlink... */
	take(&rd, f, FS_REF_LAYOUT_READ, 0, FS_RANGE_EOF);
	CHECK_EQ(fs_link(fs, f, root, "f2"), 0);
	CHECK_EQ(fs_unlink(fs, root, "f"), 0);
	CHECK_EQ(rd.breaks, 0);		/* not the last name yet */
	CHECK_EQ(fs_unlink(fs, root, "f2"), 0);
	CHECK_EQ(rd.breaks, 1);
	CHECK_EQ(rd.reason, FS_BREAK_UNMAP);

	/* ... and by a rename over it. */
	fs_iput(fs, tf_create(fs, root, "src", FS_TYPE_REG));
	take(&rd, g, FS_REF_LAYOUT_READ, 0, FS_RANGE_EOF);
	CHECK_EQ(fs_rename(fs, root, "src", root, "g"), 0);
	CHECK_EQ(rd.breaks, 1);

	fs_iput(fs, f);
	fs_iput(fs, g);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
}

/* A client that gets the recall but does not answer yet. */
static void
slow_break(struct fs_layoutref *ref)
{
	struct holder *h = ref->owner;

	h->breaks++;
	h->reason = ref->break_reason;
}

static const struct fs_layoutref_ops slow_ops = {
	.break_ref = slow_break,
};

/*
 * DESIGN.md rule 5: with a bound set, an operation whose recall does not
 * finish in time returns -EAGAIN (NFS4ERR_DELAY) and changes nothing; the
 * recall goes on, and the retry after the layout came back succeeds.
 */
static void
test_bounded_wait(void)
{
	struct fs *fs;
	struct fs_inode *root, *f;
	struct holder h;
	uint8_t buf[4 * BS];
	size_t n;

	memset(buf, 3, sizeof(buf));
	tf_mkfs(32ull << 20, 0);
	fs = tf_mount();
	root = tf_root(fs);
	f = tf_create(fs, root, "f", FS_TYPE_REG);
	CHECK_EQ(fs_write(fs, f, 0, sizeof(buf), buf, FS_FILE_SYNC, &n), 0);
	memset(&h, 0, sizeof(h));
	h.ip = f;
	fs_ilock(f, FS_MAPLOCK_SHARED);
	REQUIRE(fs_layoutref_add(f, &h.ref, FS_REF_LAYOUT_READ, 0, FS_RANGE_EOF,
				 &slow_ops, &h) == 0);
	fs_iunlock(f, FS_MAPLOCK_SHARED);

	fs_set_break_wait(fs, 20 * NSEC_PER_MSEC);
	CHECK_EQ(fs_setattr(fs, f, &(struct fs_setattr){
		.mask = FS_SET_SIZE, .size = 0 }, NULL), -EAGAIN);
	CHECK_EQ(h.breaks, 1);			/* recalled once */
	CHECK_EQ(h.reason, FS_BREAK_UNMAP);
	CHECK_EQ(tf_size(fs, f), sizeof(buf));	/* nothing changed */
	CHECK_EQ(fs_unlink(fs, root, "f"), -EAGAIN);
	{
		struct fs_inode *ip = tf_lookup(fs, root, "f");

		CHECK(ip == f);			/* still there */
		if (ip)
			fs_iput(fs, ip);
	}
	/* A write through the MDS does not conflict with a read layout. */
	CHECK_EQ(fs_write(fs, f, 0, 10, buf, FS_FILE_SYNC, &n), 0);

	/* The client answers (LAYOUTRETURN); the retries succeed. */
	fs_layoutref_remove(f, &h.ref);
	CHECK_EQ(fs_setattr(fs, f, &(struct fs_setattr){
		.mask = FS_SET_SIZE, .size = 0 }, NULL), 0);
	CHECK_EQ(tf_size(fs, f), 0);
	CHECK_EQ(fs_unlink(fs, root, "f"), 0);
	fs_iput(fs, f);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
}

int
main(void)
{
	tf_setup();
	TEST_RUN(test_breaks);
	TEST_RUN(test_bounded_wait);
	tf_cleanup();
	TEST_EXIT();
}
