/*
 * test_vol.c - formatting, opening and closing a volume; every
 * superblock field range-checked; refusing to format over a file system.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "common.h"
#include "../testlib.h"
#include "test_vol_util.h"

static void
test_round_trip(void)
{
	char path[300];
	struct vol *v;
	struct vol_sb_disk sb;
	uint64_t off;
	const uint8_t *sig;
	uint8_t disk_sig[64], zero[VOL_UUID_LEN] = { 0 };
	uint32_t sig_len;
	struct stat st;

	tv_path(path, sizeof(path), "rt");
	REQUIRE(vol_create(path, TV_SIZE, NULL) == 0);
	REQUIRE(stat(path, &st) == 0);
	CHECK_EQ(st.st_size, TV_SIZE);
	CHECK_EQ(vol_probe(path), 1);

	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_block_size(v), VOL_BLOCK_SIZE_DEFAULT);
	CHECK(vol_data_blocks(v) > 0);
	CHECK(vol_size(v) <= TV_SIZE);
	CHECK_EQ(vol_boot_count(v), 1);
	CHECK(vol_was_clean(v));
	CHECK(memcmp(vol_uuid(v), zero, VOL_UUID_LEN) != 0);
	CHECK_EQ(vol_epoch(v), 1);
	CHECK_EQ(vol_log_records(v), 0);
	{
		struct vol_info vi;

		vol_get_info(v, &vi);
		CHECK_EQ(vi.version, VOL_FORMAT_VERSION);
		CHECK_EQ(vi.block_size, vol_block_size(v));
		CHECK_EQ(vi.data_blocks, vol_data_blocks(v));
		CHECK_EQ(vi.data_off, vol_block_offset(v, 0));
		CHECK_EQ(vi.vol_size, vol_size(v));
		CHECK_EQ(vi.log_size, vol_log_size(v));
		CHECK(vi.log_off >= vi.ckpt_off[1] + vi.ckpt_size);
		CHECK_EQ(vi.epoch, 1);
		CHECK_EQ(vi.boot_count, 1);
		CHECK_EQ(vi.ckpt_len, 0);
		CHECK(vi.ctime > 0);
		CHECK(memcmp(vi.uuid, vol_uuid(v), VOL_UUID_LEN) == 0);
		CHECK_EQ(vi.label[0], '\0');
	}
	/* blocks lie in the data area, block aligned, inside the volume */
	CHECK_EQ(vol_block_offset(v, 0) % VOL_AREA_ALIGN, 0);
	CHECK_EQ(vol_block_offset(v, vol_data_blocks(v)), vol_size(v));
	CHECK_EQ((uint8_t *)vol_block_ptr(v, 1) - (uint8_t *)vol_block_ptr(v, 0),
		 vol_block_size(v));
	/* the signature is where it says, and carries the UUID */
	vol_signature(v, &off, &sig, &sig_len);
	CHECK(sig_len >= 16 && sig_len <= sizeof(disk_sig));
	tv_pread(path, disk_sig, sig_len, off);
	CHECK(memcmp(disk_sig, sig, sig_len) == 0);
	CHECK(memcmp(sig + sig_len - VOL_UUID_LEN, vol_uuid(v), VOL_UUID_LEN) == 0);
	/* pmem or msync: as libpmem says (PMEM_IS_PMEM_FORCE honoured) */
	{
		const char *force = getenv("PMEM_IS_PMEM_FORCE");

		if (force && strcmp(force, "1") == 0)
			CHECK(vol_is_pmem(v));
		else if (force && strcmp(force, "0") == 0)
			CHECK(!vol_is_pmem(v));
	}
	/* block data persists across close/open, by each persist call */
	vol_inject_reset();
	memcpy(vol_block_ptr(v, 3), "hello", 5);
	vol_persist(v, vol_block_ptr(v, 3), 5, "test.data");
	vol_memcpy_persist(v, vol_block_ptr(v, 4), "world", 5, "test.copy");
	memcpy(vol_block_ptr(v, 5), "batch1", 6);
	memcpy(vol_block_ptr(v, 9), "batch2", 6);
	vol_flush(v, vol_block_ptr(v, 5), 6);
	vol_flush(v, vol_block_ptr(v, 9), 6);
	vol_drain(v, "test.drain");
	CHECK_EQ(vol_inject_count("test.*"), 3);
	CHECK_EQ(vol_inject_count("test.data"), 1);
	CHECK_EQ(vol_inject_count(NULL), 3);
	vol_close(v);
	CHECK_EQ(vol_inject_count("sb.close"), 1);

	tv_read_sb(path, &sb);
	CHECK_EQ(sb.clean_word, VOL_SB_CLEAN);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_boot_count(v), 2);
	CHECK(memcmp(vol_block_ptr(v, 3), "hello", 5) == 0);
	CHECK(memcmp(vol_block_ptr(v, 4), "world", 5) == 0);
	CHECK(memcmp(vol_block_ptr(v, 5), "batch1", 6) == 0);
	CHECK(memcmp(vol_block_ptr(v, 9), "batch2", 6) == 0);
	tv_read_sb(path, &sb);
	CHECK_EQ(sb.clean_word, VOL_SB_DIRTY);	/* dirty while open */
	vol_close(v);

	/* read-only: no boot bump, nothing written */
	REQUIRE(vol_open(path, VOL_OPEN_RDONLY, &v) == 0);
	CHECK(vol_is_rdonly(v));
	CHECK_EQ(vol_boot_count(v), 2);
	CHECK_EQ(vol_log_append(v, 1, "x", 1), -EROFS);
	vol_close(v);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_boot_count(v), 3);
	vol_close(v);
}

static void
test_unclean(void)
{
	char path[300];
	struct vol *v;
	pid_t pid;
	int status;

	tv_path(path, sizeof(path), "unclean");
	tv_mkfs(path, TV_SIZE, 0);
	pid = fork();
	REQUIRE(pid >= 0);
	if (pid == 0) {
		if (vol_open(path, 0, &v) != 0)
			_exit(1);
		_exit(0);	/* no vol_close: a crash */
	}
	REQUIRE(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK(!vol_was_clean(v));
	CHECK_EQ(vol_boot_count(v), 2);
	vol_close(v);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK(vol_was_clean(v));
	vol_close(v);
}

/* One user per volume: a second read-write open, or mkfs, is refused. */
static void
test_exclusive(void)
{
	char path[300];
	struct vol *v, *v2, *r1, *r2;
	struct vol_mkfs_opts o = { .force = true };

	tv_path(path, sizeof(path), "excl");
	tv_mkfs(path, TV_SIZE, 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_open(path, 0, &v2), -EBUSY);
	CHECK_EQ(vol_open(path, VOL_OPEN_RDONLY, &v2), -EBUSY);
	CHECK_EQ(vol_create(path, TV_SIZE, &o), -EBUSY);
	vol_close(v);
	/* readers share */
	REQUIRE(vol_open(path, VOL_OPEN_RDONLY, &r1) == 0);
	REQUIRE(vol_open(path, VOL_OPEN_RDONLY, &r2) == 0);
	CHECK_EQ(vol_open(path, 0, &v2), -EBUSY);
	vol_close(r1);
	vol_close(r2);
	REQUIRE(vol_open(path, 0, &v) == 0);	/* free again */
	vol_close(v);
}

static void
test_refuse_reformat(void)
{
	char path[300];
	struct vol_mkfs_opts o = { 0 };
	struct vol *v;
	uint8_t uuid1[VOL_UUID_LEN];
	char xfs[4096] = "XFSB";

	tv_path(path, sizeof(path), "refmt");
	REQUIRE(vol_create(path, TV_SIZE, NULL) == 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	memcpy(uuid1, vol_uuid(v), VOL_UUID_LEN);
	vol_close(v);
	CHECK_EQ(vol_create(path, TV_SIZE, NULL), -EEXIST);
	REQUIRE(vol_open(path, 0, &v) == 0);	/* still intact */
	CHECK(memcmp(uuid1, vol_uuid(v), VOL_UUID_LEN) == 0);
	vol_close(v);
	o.force = true;
	CHECK_EQ(vol_create(path, TV_SIZE, &o), 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK(memcmp(uuid1, vol_uuid(v), VOL_UUID_LEN) != 0);
	CHECK_EQ(vol_boot_count(v), 1);
	vol_close(v);

	/* a foreign file system is refused too */
	tv_pwrite(path, xfs, sizeof(xfs), 0);
	CHECK_EQ(vol_create(path, TV_SIZE, NULL), -EEXIST);
	CHECK_EQ(vol_probe(path), 0);
	CHECK_EQ(vol_open(path, 0, &v), -ENOTSUP);
}

static void
test_bad_options(void)
{
	char path[300];
	struct vol_mkfs_opts o = { 0 };
	struct vol *v;

	tv_path(path, sizeof(path), "badopt");
	CHECK_EQ(vol_create(path, VOL_SIZE_MIN - 4096, NULL), -EINVAL);
	o.block_size = 3000;
	CHECK_EQ(vol_create(path, TV_SIZE, &o), -EINVAL);
	o.block_size = 1u << 20;
	CHECK_EQ(vol_create(path, TV_SIZE, &o), -EINVAL);
	o.block_size = 0;
	o.log_size = 1000;
	CHECK_EQ(vol_create(path, TV_SIZE, &o), -EINVAL);
	o.log_size = 0;
	o.ckpt_size = 8ull << 20;	/* two of them leave no data area */
	CHECK_EQ(vol_create(path, TV_SIZE, &o), -EINVAL);
	CHECK_EQ(vol_open("/nonexistent/pmemnfs-vol", 0, &v), -ENOENT);
	/* 64 KiB blocks work */
	o.ckpt_size = 0;
	o.block_size = 65536;
	CHECK_EQ(vol_create(path, TV_SIZE, &o), 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	CHECK_EQ(vol_block_size(v), 65536);
	CHECK_EQ(vol_block_offset(v, 0) % 65536, 0);
	vol_close(v);
}

/* A field mutation: change sb, keep or fix the checksum, expect err. */
struct mutation {
	const char	*what;
	void		(*fn)(struct vol_sb_disk *sb);
	bool		fix_csum;
	int		err;
};

static void m_magic(struct vol_sb_disk *sb) { sb->magic[0] = 'X'; }
static void m_csum(struct vol_sb_disk *sb) { sb->data_blocks--; }
static void m_version(struct vol_sb_disk *sb) { sb->version = 7; }
static void m_bs_pow2(struct vol_sb_disk *sb) { sb->block_size = 5000; }
static void m_bs_small(struct vol_sb_disk *sb) { sb->block_size = 512; }
static void m_size_big(struct vol_sb_disk *sb) { sb->vol_size = 1ull << 50; }
static void m_size_small(struct vol_sb_disk *sb) { sb->vol_size = 4096; }
static void m_ckpt_overlap(struct vol_sb_disk *sb) { sb->ckpt_off[1] = sb->ckpt_off[0]; }
static void m_ckpt_sb(struct vol_sb_disk *sb) { sb->ckpt_off[0] = 0; }
static void m_ckpt_align(struct vol_sb_disk *sb) { sb->ckpt_off[1] += 4096; }
static void m_ckpt_size(struct vol_sb_disk *sb) { sb->ckpt_size = 0; }
static void m_log_size(struct vol_sb_disk *sb) { sb->log_size = 1ull << 62; }
static void m_log_zero(struct vol_sb_disk *sb) { sb->log_size = 0; }
static void m_log_off(struct vol_sb_disk *sb) { sb->log_off = UINT64_MAX - 65535; }
static void m_data_off(struct vol_sb_disk *sb) { sb->data_off = sb->log_off; }
static void m_data_blocks(struct vol_sb_disk *sb) { sb->data_blocks = UINT64_MAX / 2; }
static void m_data_zero(struct vol_sb_disk *sb) { sb->data_blocks = 0; }
static void m_sig_off(struct vol_sb_disk *sb) { sb->sig_off = 4096; }
static void m_sig_len(struct vol_sb_disk *sb) { sb->sig_len = 1 << 30; }
static void m_sig(struct vol_sb_disk *sb) { sb->sig[20] ^= 1; }
static void m_uuid(struct vol_sb_disk *sb) { sb->uuid[0] ^= 1; }
static void m_epoch(struct vol_sb_disk *sb) { sb->epoch_word ^= 1ull << 40; }
static void m_epoch0(struct vol_sb_disk *sb) { sb->epoch_word = 0; }
static void m_clean(struct vol_sb_disk *sb) { sb->clean_word = 12345; }

static const struct mutation mutations[] = {
	{ "magic", m_magic, true, -ENOTSUP },
	{ "checksum", m_csum, false, -EUCLEAN },
	{ "version", m_version, true, -EPROTONOSUPPORT },
	{ "block size not a power of two", m_bs_pow2, true, -EUCLEAN },
	{ "block size too small", m_bs_small, true, -EUCLEAN },
	{ "volume size beyond the file", m_size_big, true, -EUCLEAN },
	{ "volume size tiny", m_size_small, true, -EUCLEAN },
	{ "checkpoint areas overlap", m_ckpt_overlap, true, -EUCLEAN },
	{ "checkpoint A over the superblock", m_ckpt_sb, true, -EUCLEAN },
	{ "checkpoint B misaligned", m_ckpt_align, true, -EUCLEAN },
	{ "checkpoint size 0", m_ckpt_size, true, -EUCLEAN },
	{ "log size huge", m_log_size, true, -EUCLEAN },
	{ "log size 0", m_log_zero, true, -EUCLEAN },
	{ "log offset overflows", m_log_off, true, -EUCLEAN },
	{ "data over the log", m_data_off, true, -EUCLEAN },
	{ "data blocks overflow", m_data_blocks, true, -EUCLEAN },
	{ "data blocks 0", m_data_zero, true, -EUCLEAN },
	{ "signature offset", m_sig_off, true, -EUCLEAN },
	{ "signature length", m_sig_len, true, -EUCLEAN },
	{ "signature bytes", m_sig, true, -EUCLEAN },
	{ "uuid (signature, seeds)", m_uuid, true, -EUCLEAN },
	{ "epoch word", m_epoch, true, -EUCLEAN },
	{ "epoch word zero", m_epoch0, true, -EUCLEAN },
	{ "clean word", m_clean, true, -EUCLEAN },
};

static void
test_corrupt_fields(void)
{
	char path[300];
	struct vol_sb_disk good, bad;
	struct vol *v;

	tv_path(path, sizeof(path), "corrupt");
	tv_mkfs(path, TV_SIZE, 0);
	tv_read_sb(path, &good);
	for (size_t i = 0; i < ARRAY_SIZE(mutations); i++) {
		int err;

		bad = good;
		mutations[i].fn(&bad);
		if (mutations[i].fix_csum)
			bad.csum = vol_sb_csum(&bad);
		tv_write_sb(path, &bad);
		v = NULL;
		err = vol_open(path, 0, &v);
		if (err != mutations[i].err)
			fprintf(stderr, "  mutation \"%s\": got %d, want %d\n",
				mutations[i].what, err, mutations[i].err);
		CHECK_EQ(err, mutations[i].err);
		CHECK(v == NULL);
		tv_write_sb(path, &good);
	}
	/* and intact again */
	REQUIRE(vol_open(path, 0, &v) == 0);
	vol_close(v);

	/* a truncated file */
	REQUIRE(truncate(path, TV_SIZE / 2) == 0);
	CHECK_EQ(vol_open(path, 0, &v), -EUCLEAN);
	REQUIRE(truncate(path, TV_SIZE) == 0);
	REQUIRE(vol_open(path, 0, &v) == 0);
	vol_close(v);

	/* a file too small to hold even a superblock */
	REQUIRE(truncate(path, 1000) == 0);
	CHECK_EQ(vol_open(path, 0, &v), -ENOTSUP);
}

/* Random bytes in the superblock, checksum fixed: refused or opened, never a crash. */
static void
test_fuzz_sb(void)
{
	char path[300];
	struct vol_sb_disk good, bad;
	struct vol *v;
	unsigned seed = 12345;
	int opened = 0, refused = 0;

	tv_path(path, sizeof(path), "fuzz");
	tv_mkfs(path, TV_SIZE, 0);
	tv_read_sb(path, &good);
	for (int i = 0; i < 300; i++) {
		bad = good;
		for (int k = 0; k < 1 + i % 4; k++) {
			size_t off = (size_t)rand_r(&seed) % sizeof(bad);

			((uint8_t *)&bad)[off] = (uint8_t)rand_r(&seed);
		}
		if (i % 8)
			bad.csum = vol_sb_csum(&bad);
		tv_write_sb(path, &bad);
		if (vol_open(path, VOL_OPEN_RDONLY, &v) == 0) {
			opened++;
			vol_close(v);
		} else {
			refused++;
		}
	}
	tv_write_sb(path, &good);
	CHECK(refused > 0);
	fprintf(stderr, "  fuzz: %d opened (harmless bytes), %d refused\n",
		opened, refused);
}

static void
test_ckpt_header_corrupt(void)
{
	char path[300];
	struct vol_sb_disk sb;
	struct vol_ckpt_hdr h;
	struct vol *v;

	tv_path(path, sizeof(path), "ckhdr");
	tv_mkfs(path, TV_SIZE, 0);
	tv_read_sb(path, &sb);
	tv_pread(path, &h, sizeof(h), sb.ckpt_off[1]);	/* epoch 1: area B */
	h.len = sb.ckpt_size;		/* longer than the area */
	h.hdr_crc = vol_ckpt_hdr_crc(vol_crc32c(0, sb.uuid, 16), &h);
	tv_pwrite(path, &h, sizeof(h), sb.ckpt_off[1]);
	CHECK_EQ(vol_open(path, 0, &v), -EUCLEAN);
	h.len = 0;
	tv_pwrite(path, &h, sizeof(h), sb.ckpt_off[1]);	/* crc now wrong */
	CHECK_EQ(vol_open(path, 0, &v), -EUCLEAN);
}

/* Geometry follows the documented formula (docs/format.md). */
static void
test_geometry(void)
{
	struct vol_sb_disk sb;

	memset(&sb, 0, sizeof(sb));
	vol_geometry(64ull << 30, 4096, 0, 0, &sb);
	CHECK_EQ(sb.log_size, 1ull << 30);		/* 64 GiB / 64 = 1 GiB */
	CHECK_EQ(sb.ckpt_size, 2ull << 30);		/* 64 GiB / 32 */
	CHECK_EQ(sb.data_off % (2u << 20), 0);		/* huge-page aligned */
	CHECK_EQ(sb.vol_size, 64ull << 30);
	vol_geometry(1ull << 40, 4096, 0, 0, &sb);
	CHECK_EQ(sb.log_size, 1ull << 30);		/* capped */
	CHECK_EQ(sb.ckpt_size, 4ull << 30);		/* capped */
	vol_geometry(16ull << 20, 4096, 0, 0, &sb);
	CHECK_EQ(sb.log_size, 1ull << 20);		/* floor */
	CHECK_EQ(sb.ckpt_size, 1ull << 20);
	CHECK_EQ(sb.data_off, (64ull << 10) + (3ull << 20));
	CHECK_EQ(sb.data_blocks, ((16ull << 20) - sb.data_off) / 4096);
}

/* The standard check value, and continuation over split buffers. */
static void
test_crc32c(void)
{
	const char *s = "123456789";
	uint8_t big[1000];

	CHECK_EQ(vol_crc32c(0, s, 9), 0xe3069283u);
	CHECK_EQ(vol_crc32c(vol_crc32c(0, s, 4), s + 4, 5), 0xe3069283u);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31);
	for (size_t cut = 0; cut < 20; cut++)	/* unaligned heads and tails */
		CHECK_EQ(vol_crc32c(vol_crc32c(0, big + 1, cut), big + 1 + cut,
				    sizeof(big) - 1 - cut),
			 vol_crc32c(0, big + 1, sizeof(big) - 1));
	CHECK_EQ(vol_crc32c(0, NULL, 0), 0);
}

static void
test_inject_parse(void)
{
	CHECK_EQ(vol_inject_parse("3"), 0);
	CHECK_EQ(vol_inject_parse("log.append:2"), 0);
	CHECK_EQ(vol_inject_parse("ckpt.*:1:torn"), 0);
	CHECK_EQ(vol_inject_parse(""), 0);
	CHECK_EQ(vol_inject_parse(NULL), 0);
	CHECK_EQ(vol_inject_parse("0"), -EINVAL);
	CHECK_EQ(vol_inject_parse("abc"), -EINVAL);
	CHECK_EQ(vol_inject_parse(":3"), -EINVAL);
	CHECK_EQ(vol_inject_parse("tag:"), -EINVAL);
	CHECK_EQ(vol_inject_parse("tag:3x"), -EINVAL);
	CHECK_EQ(vol_inject_parse(NULL), 0);	/* disarmed for what follows */
}

int
main(void)
{
	log_init("test_vol", LOG_LVL_WARN, false);
	tv_setup();
	TEST_RUN(test_crc32c);
	TEST_RUN(test_geometry);
	TEST_RUN(test_inject_parse);
	TEST_RUN(test_round_trip);
	TEST_RUN(test_unclean);
	TEST_RUN(test_exclusive);
	TEST_RUN(test_refuse_reformat);
	TEST_RUN(test_bad_options);
	TEST_RUN(test_corrupt_fields);
	TEST_RUN(test_fuzz_sb);
	TEST_RUN(test_ckpt_header_corrupt);
	tv_cleanup();
	TEST_EXIT();
}
