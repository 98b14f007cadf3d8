/*
 * test_vol_ckpt.c - checkpoints: write and load, a full area, and a crash
 * at every persist point of the checkpoint sequence (and of mkfs and
 * open), each of which must leave the old state or the new one.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/wait.h>

#include "common.h"
#include "../testlib.h"
#include "test_vol_util.h"

/* An image is IMG_LEN bytes of (tag + i * 7); tag tells old from new. */
#define IMG_LEN		(200u << 10)
#define IMG_CHUNK	3000u
#define TAG_OLD		0x11
#define TAG_NEW		0x77

struct image {
	uint8_t		tag;
	size_t		len;
};

static int
save_image(void *ctx, struct vol_ckpt_writer *w)
{
	const struct image *im = ctx;
	uint8_t buf[IMG_CHUNK];
	size_t off = 0;

	while (off < im->len) {
		size_t n = MIN((size_t)IMG_CHUNK, im->len - off);
		int err;

		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)(im->tag + (off + i) * 7);
		err = vol_ckpt_put(w, buf, n);
		if (err)
			return err;
		off += n;
	}
	return 0;
}

struct loaded {
	size_t		len;
	int		tag;		/* -1: mixed or malformed */
};

static int
load_image(void *ctx, struct vol_ckpt_reader *r)
{
	struct loaded *l = ctx;
	uint8_t buf[IMG_CHUNK];
	size_t off = 0;

	l->len = vol_ckpt_remaining(r);
	l->tag = 0;
	while (vol_ckpt_remaining(r)) {
		size_t n = MIN((size_t)IMG_CHUNK, (size_t)vol_ckpt_remaining(r));

		if ((off / IMG_CHUNK) % 2) {	/* both readers, alternately */
			REQUIRE(vol_ckpt_get(r, buf, n) == 0);
		} else {
			const void *p = vol_ckpt_get_ptr(r, n);

			REQUIRE(p != NULL);
			memcpy(buf, p, n);
		}
		if (off == 0)
			l->tag = buf[0];
		for (size_t i = 0; i < n; i++)
			if (buf[i] != (uint8_t)(l->tag + (off + i) * 7))
				l->tag = -1;
		off += n;
	}
	CHECK_EQ(vol_ckpt_get(r, buf, 1), -ENODATA);
	CHECK(vol_ckpt_get_ptr(r, 1) == NULL);
	return 0;
}

static int
count_records(void *ctx, uint16_t type, const void *p, uint32_t len)
{
	int *n = ctx;

	(*n)++;
	return 0;
}

/* The state found on a volume: the image and the number of log records. */
struct state {
	struct loaded	img;
	int		records;
	uint64_t	epoch;
};

static int
read_state(const char *path, struct state *st)
{
	struct vol *v;
	int err;

	memset(st, 0, sizeof(*st));
	err = vol_open(path, 0, &v);
	if (err)
		return err;
	err = vol_checkpoint_load(v, load_image, &st->img);
	if (!err)
		err = vol_log_replay(v, count_records, &st->records);
	st->epoch = vol_epoch(v);
	vol_close(v);
	return err;
}

static void
test_fresh_and_roundtrip(void)
{
	char path[300];
	struct vol *v;
	struct state st;
	struct image im = { TAG_OLD, IMG_LEN };

	tv_path(path, sizeof(path), "rt");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(read_state(path, &st) == 0);
	CHECK_EQ(st.img.len, 0);	/* a new volume: empty image */
	CHECK_EQ(st.records, 0);
	CHECK_EQ(st.epoch, 1);

	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_log_append(v, 1, "a", 1), 0);
	CHECK_EQ(vol_log_append(v, 1, "b", 1), 0);
	CHECK_EQ(vol_checkpoint(v, save_image, &im), 0);
	CHECK_EQ(vol_epoch(v), 2);
	CHECK_EQ(vol_log_records(v), 0);	/* the log starts empty */
	CHECK_EQ(vol_log_used(v), 0);
	CHECK_EQ(vol_log_append(v, 1, "c", 1), 0);
	vol_close(v);

	REQUIRE(read_state(path, &st) == 0);
	CHECK_EQ(st.img.len, IMG_LEN);
	CHECK_EQ(st.img.tag, TAG_OLD);
	CHECK_EQ(st.records, 1);		/* only "c" */
	CHECK_EQ(st.epoch, 2);

	/* fsck's view: a read-only mapping loads and replays the same */
	{
		struct state ro = { 0 };

		REQUIRE(vol_open(path, VOL_OPEN_RDONLY, &v) == 0);
		CHECK_EQ(vol_checkpoint_load(v, load_image, &ro.img), 0);
		CHECK_EQ(vol_log_replay(v, count_records, &ro.records), 0);
		CHECK_EQ(ro.img.len, IMG_LEN);
		CHECK_EQ(ro.img.tag, TAG_OLD);
		CHECK_EQ(ro.records, 1);
		vol_close(v);
	}

	/* a second checkpoint goes to the other area, and so on */
	im.tag = TAG_NEW;
	im.len = 5000;
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_checkpoint(v, save_image, &im), 0);
	vol_close(v);
	REQUIRE(read_state(path, &st) == 0);
	CHECK_EQ(st.img.len, 5000);
	CHECK_EQ(st.img.tag, TAG_NEW);
	CHECK_EQ(st.records, 0);
	CHECK_EQ(st.epoch, 3);
}

static int
save_fail(void *ctx, struct vol_ckpt_writer *w)
{
	return -ENOMEM;
}

/* A save() that breaks the contract: appends and nests a checkpoint. */
static int
save_meddle(void *ctx, struct vol_ckpt_writer *w)
{
	struct vol *v = ctx;

	CHECK_EQ(vol_log_append(v, 1, "x", 1), -EBUSY);
	CHECK_EQ(vol_checkpoint(v, save_fail, NULL), -EBUSY);
	return vol_ckpt_put(w, "ok", 2);
}

static void
test_errors(void)
{
	char path[300];
	struct vol *v;
	struct state st;
	struct image big = { TAG_NEW, 2u << 20 };	/* > the 1 MiB area */
	struct vol_sb_disk sb;
	uint8_t junk = 0;

	tv_path(path, sizeof(path), "err");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_log_append(v, 1, "a", 1), 0);
	CHECK_EQ(vol_checkpoint(v, save_image, &big), -ENOSPC);
	CHECK_EQ(vol_checkpoint(v, save_fail, NULL), -ENOMEM);
	CHECK_EQ(vol_epoch(v), 1);
	CHECK_EQ(vol_log_records(v), 1);	/* failures left the log alone */
	CHECK_EQ(vol_log_append(v, 1, "b", 1), 0);	/* log still usable */
	vol_close(v);
	REQUIRE(read_state(path, &st) == 0);
	CHECK_EQ(st.epoch, 1);
	CHECK_EQ(st.img.len, 0);
	CHECK_EQ(st.records, 2);

	/* a corrupt image byte fails the load with -EUCLEAN */
	{
		struct image im = { TAG_OLD, 10000 };

		REQUIRE(vol_open(path, 0, &v) == 0);
		REQUIRE(vol_checkpoint(v, save_image, &im) == 0);
		vol_close(v);
	}
	tv_read_sb(path, &sb);
	tv_pwrite(path, &junk, 1, sb.ckpt_off[0] + VOL_CKPT_HDR_SIZE + 5000);
	CHECK_EQ(read_state(path, &st), -EUCLEAN);

	/* appends and nested checkpoints are refused while one runs */
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_checkpoint(v, save_meddle, v), 0);
	CHECK_EQ(vol_epoch(v), 2);
	CHECK_EQ(vol_log_records(v), 0);
	vol_close(v);

	/* read-only and shut-down volumes refuse checkpoints */
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, VOL_OPEN_RDONLY, &v) == 0);
	CHECK_EQ(vol_checkpoint(v, save_fail, NULL), -EROFS);
	vol_close(v);
	REQUIRE(vol_open(path, 0, &v) == 0);
	vol_shutdown(v, "test");
	CHECK_EQ(vol_checkpoint(v, save_fail, NULL), -EIO);
	vol_close(v);
}

/* The old state every crash test starts from: OLD image + 3 records. */
static void
make_old_state(const char *path)
{
	struct image im = { TAG_OLD, IMG_LEN };
	struct vol *v;

	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	REQUIRE(vol_checkpoint(v, save_image, &im) == 0);
	for (int i = 0; i < 3; i++)
		REQUIRE(vol_log_append(v, 1, "old", 3) == 0);
	vol_close(v);
}

/* Child: open and checkpoint NEW, then append one record and close. */
static int
ckpt_child(const char *path, const char *spec)
{
	pid_t pid = fork();
	int status;

	REQUIRE(pid >= 0);
	if (pid == 0) {
		struct image im = { TAG_NEW, IMG_LEN / 2 };
		struct vol *v;

		if (vol_inject_parse(spec) || vol_open(path, 0, &v))
			_exit(1);
		if (vol_checkpoint(v, save_image, &im))
			_exit(2);
		if (vol_log_append(v, 1, "new", 3))
			_exit(3);
		vol_close(v);
		_exit(0);
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_crash_each_point(void)
{
	char path[300], spec[64];
	struct state st;
	uint64_t npoints;
	int saw_old = 0, saw_new = 0;

	tv_path(path, sizeof(path), "crash");
	/* Learn how many persist points open + checkpoint + append + close has. */
	make_old_state(path);
	CHECK_EQ(ckpt_child(path, "1000000"), 0);
	{
		struct vol *v;
		struct image im = { TAG_NEW, IMG_LEN / 2 };

		make_old_state(path);
		vol_inject_reset();
		REQUIRE(vol_open(path, 0, &v) == 0);
		REQUIRE(vol_checkpoint(v, save_image, &im) == 0);
		REQUIRE(vol_log_append(v, 1, "new", 3) == 0);
		vol_close(v);
		npoints = vol_inject_count(NULL);
		CHECK_EQ(vol_inject_count("ckpt.*"), 3);
		CHECK_EQ(vol_inject_count("sb.*"), 2);
	}
	REQUIRE(npoints >= 5);

	for (int torn = 0; torn < 2; torn++) {
		for (uint64_t k = 1; k <= npoints; k++) {
			int rc, err;

			make_old_state(path);
			snprintf(spec, sizeof(spec), "%llu%s",
				 (unsigned long long)k, torn ? ":torn" : "");
			rc = ckpt_child(path, spec);
			CHECK_EQ(rc, VOL_INJECT_EXIT);
			err = read_state(path, &st);
			CHECK_EQ(err, 0);
			if (st.img.tag == TAG_OLD && st.img.len == IMG_LEN &&
			    st.records == 3 && st.epoch == 2) {
				saw_old++;
			} else if (st.img.tag == TAG_NEW &&
				   st.img.len == IMG_LEN / 2 &&
				   st.records <= 1 && st.epoch == 3) {
				saw_new++;
			} else {
				fprintf(stderr, "  crash at %s: neither old nor "
					"new: tag %d len %zu records %d epoch "
					"%llu\n", spec, st.img.tag, st.img.len,
					st.records,
					(unsigned long long)st.epoch);
				CHECK(!"mixed state after a crash");
			}
		}
	}
	CHECK(saw_old > 0);
	CHECK(saw_new > 0);
	fprintf(stderr, "  %llu persist points x 2 modes: %d old, %d new\n",
		(unsigned long long)npoints, saw_old, saw_new);
}

/* A crash anywhere in mkfs: the volume opens, or is refused cleanly. */
static void
test_crash_mkfs(void)
{
	char path[300], spec[64];
	struct vol *v;
	uint64_t npoints;

	tv_path(path, sizeof(path), "mkfs");
	vol_inject_reset();
	tv_mkfs(path, TV_SIZE, 0);
	npoints = vol_inject_count("mkfs.*");
	CHECK_EQ(npoints, 5);
	for (int torn = 0; torn < 2; torn++) {
		for (uint64_t k = 1; k <= npoints; k++) {
			pid_t pid;
			int status, err;

			make_old_state(path);
			snprintf(spec, sizeof(spec), "mkfs.*:%llu%s",
				 (unsigned long long)k, torn ? ":torn" : "");
			pid = fork();
			REQUIRE(pid >= 0);
			if (pid == 0) {
				struct vol_mkfs_opts o = { .force = true };

				if (vol_inject_parse(spec))
					_exit(1);
				_exit(vol_create(path, TV_SIZE, &o) ? 2 : 0);
			}
			REQUIRE(waitpid(pid, &status, 0) == pid);
			CHECK(WIFEXITED(status) &&
			      WEXITSTATUS(status) == VOL_INJECT_EXIT);
			err = vol_open(path, 0, &v);
			if (err == 0) {
				struct state st;

				vol_close(v);
				/* only the last point can leave a valid volume */
				CHECK(k == npoints && !torn);
				CHECK_EQ(read_state(path, &st), 0);
				CHECK_EQ(st.img.len, 0);
				CHECK_EQ(st.records, 0);
			} else {
				CHECK(err == -ENOTSUP || err == -EUCLEAN);
			}
		}
	}
}

int
main(void)
{
	log_init("test_vol_ckpt", LOG_LVL_WARN, false);
	tv_setup();
	TEST_RUN(test_fresh_and_roundtrip);
	TEST_RUN(test_errors);
	TEST_RUN(test_crash_each_point);
	TEST_RUN(test_crash_mkfs);
	tv_cleanup();
	TEST_EXIT();
}
