/*
 * bench_engine - operations per second of the engine on a file volume:
 * creates, lookups and 4 KiB stable (FS_FILE_SYNC) writes, with one
 * thread and with two (each thread in its own directory / file).
 *
 * Usage: bench_engine [-n creates] [-w writes] [-s volume-size-MiB]
 * The volume is a sparse file in $TMPDIR (default /tmp), removed at the
 * end.  With PMEM_IS_PMEM_FORCE=1 libpmem treats the mapping as pmem
 * (flush + drain instead of msync).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "fs.h"
#include "vol.h"

#define LOOKUPS_PER_CREATE	10

struct bench {
	struct fs	*fs;
	struct fs_inode	*root;
	uint64_t	ncreate;
	uint64_t	nwrite;
};

struct worker {
	struct bench	*b;
	int		id;
	const char	*what;
	int		rc;
	pthread_t	tid;
};

static uint64_t
now_ns(void)
{
	return clock_now_ns();
}

static void *
run_creates(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct fs_inode *dir, *ip;
	char name[64];

	snprintf(name, sizeof(name), "cdir-%d", w->id);
	w->rc = fs_create(b->fs, b->root, name, &(struct fs_create_args){
		.type = FS_TYPE_DIR, .mode = 0755 }, &dir);
	if (w->rc)
		return NULL;
	for (uint64_t i = 0; i < b->ncreate && !w->rc; i++) {
		snprintf(name, sizeof(name), "file-%" PRIu64, i);
		w->rc = fs_create(b->fs, dir, name, &(struct fs_create_args){
			.type = FS_TYPE_REG, .mode = 0644, .exclusive = true },
			&ip);
		if (!w->rc)
			fs_iput(b->fs, ip);
	}
	fs_iput(b->fs, dir);
	return NULL;
}

static void *
run_lookups(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct fs_inode *dir, *ip;
	char name[64];
	uint64_t x = 12345 + (uint64_t)w->id;

	snprintf(name, sizeof(name), "cdir-%d", w->id);
	w->rc = fs_lookup(b->fs, b->root, name, &dir);
	if (w->rc)
		return NULL;
	for (uint64_t i = 0; i < b->ncreate * LOOKUPS_PER_CREATE && !w->rc; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		snprintf(name, sizeof(name), "file-%" PRIu64, (x >> 33) % b->ncreate);
		w->rc = fs_lookup(b->fs, dir, name, &ip);
		if (!w->rc)
			fs_iput(b->fs, ip);
	}
	fs_iput(b->fs, dir);
	return NULL;
}

static void *
run_writes(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	struct fs_inode *ip;
	char name[64], buf[4096];
	size_t n;
	/* Half the writes fill new blocks, half overwrite them. */
	uint64_t span = b->nwrite / 2 ? b->nwrite / 2 : 1;

	memset(buf, 0x40 + w->id, sizeof(buf));
	snprintf(name, sizeof(name), "wfile-%d", w->id);
	w->rc = fs_create(b->fs, b->root, name, &(struct fs_create_args){
		.type = FS_TYPE_REG, .mode = 0644 }, &ip);
	if (w->rc)
		return NULL;
	for (uint64_t i = 0; i < b->nwrite && !w->rc; i++)
		w->rc = fs_write(b->fs, ip, (i % span) * sizeof(buf),
				 sizeof(buf), buf, FS_FILE_SYNC, &n);
	fs_iput(b->fs, ip);
	return NULL;
}

/* Run fn on nthreads threads (ids base..), return ops/s overall. */
static double
measure(struct bench *b, void *(*fn)(void *), int nthreads, int base,
	uint64_t ops_per_thread)
{
	struct worker w[2];
	uint64_t t0 = now_ns(), t1;

	for (int i = 0; i < nthreads; i++) {
		w[i].b = b;
		w[i].id = base + i;
		w[i].rc = 0;
		if (pthread_create(&w[i].tid, NULL, fn, &w[i]) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			exit(1);
		}
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].rc) {
			fprintf(stderr, "bench: operation failed: %s\n",
				strerror(-w[i].rc));
			exit(1);
		}
	}
	t1 = now_ns();
	return (double)(ops_per_thread * (uint64_t)nthreads) * 1e9 /
	       (double)(t1 - t0);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], vol[300];
	struct bench b = { .ncreate = 20000, .nwrite = 4000 };
	uint64_t size_mib = 1024;
	struct vol_mkfs_opts mo = { .force = true };
	double c1, c2, l1, l2, w1, w2;
	int opt;

	while ((opt = getopt(argc, argv, "n:w:s:")) != -1) {
		switch (opt) {
		case 'n':
			b.ncreate = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			b.nwrite = strtoull(optarg, NULL, 0);
			break;
		case 's':
			size_mib = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: bench_engine [-n creates] "
				"[-w writes] [-s MiB]\n");
			return 2;
		}
	}
	if (b.ncreate == 0)
		b.ncreate = 1;
	log_init("bench_engine", LOG_LVL_WARN, false);
	snprintf(dir, sizeof(dir), "%s/pmemnfs-bench-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(vol, sizeof(vol), "%s/vol", dir);
	if (vol_create(vol, size_mib << 20, &mo) || fs_mount(vol, 0, &b.fs) ||
	    fs_iget(b.fs, fs_root_ino(b.fs), 0, &b.root)) {
		fprintf(stderr, "bench: cannot set up the volume %s\n", vol);
		return 1;
	}
	c1 = measure(&b, run_creates, 1, 0, b.ncreate);
	c2 = measure(&b, run_creates, 2, 1, b.ncreate);
	l1 = measure(&b, run_lookups, 1, 0, b.ncreate * LOOKUPS_PER_CREATE);
	l2 = measure(&b, run_lookups, 2, 1, b.ncreate * LOOKUPS_PER_CREATE);
	w1 = measure(&b, run_writes, 1, 0, b.nwrite);
	w2 = measure(&b, run_writes, 2, 1, b.nwrite);
	printf("pmemnfsd engine, %s volume of %" PRIu64 " MiB (%s)\n",
	       vol_is_pmem(fs_vol(b.fs)) ? "pmem (flush+drain)" :
	       "file (msync)", size_mib, vol);
	printf("%-28s %14s %14s\n", "operation", "1 thread/s", "2 threads/s");
	printf("%-28s %14.0f %14.0f\n", "create (one dir per thread)", c1, c2);
	printf("%-28s %14.0f %14.0f\n", "lookup", l1, l2);
	printf("%-28s %14.0f %14.0f\n", "4 KiB write, FILE_SYNC", w1, w2);
	fs_iput(b.fs, b.root);
	if (fs_unmount(b.fs))
		fprintf(stderr, "bench: unmount failed\n");
	unlink(vol);
	rmdir(dir);
	return 0;
}
