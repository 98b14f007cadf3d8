/*
 * crash_fs.c - the engine crash test.
 *
 * Each cycle forks a child that mounts the volume (recovery of the last
 * crash), runs random operations on a few files and directories, and
 * reports every
 * operation to the parent over a pipe: BEGIN before it starts and DONE
 * when the engine acknowledged it (stable).  The child dies at a random
 * moment: the parent SIGKILLs it after a random delay, or the child stops
 * itself at its Nth persist point through the volume's injection hook
 * (vol_inject_parse(), optionally tearing that persist).  The parent then
 * mounts (recovery), runs fs_check() (no problem allowed), and compares
 * every file with its model of the acknowledged operations.  The one
 * operation in flight may have happened or not; for a write or a punch
 * in flight, each byte of its range may be old, new (or the injection's
 * torn pattern).
 *
 * The volume is a plain file, so this covers process crashes (the page
 * cache survives), and, with torn persists, stores that did not reach
 * the media at the failing barrier.
 *
 * Usage: crash_fs [cycles] [seed]; env CRASH_CYCLES overrides cycles
 * (the CI default is 200; CRASH_CYCLES=5000 for a long run).
 * Exit 0 all cycles passed, 1 a failure (the cycle and seed are printed).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "fs.h"
#include "vol.h"

#define NFILES		10
#define NDIRS		4
#define MAXSZ		(64u * 1024)	/* largest model file */
#define BS		4096u
#define OPS_MAX		200		/* operations per child at most */
#define KILL_DELAY_MAX_US 20000		/* SIGKILL within 20 ms */
#define INJECT_MAX	300		/* persist points per child, roughly */
#define VOLSZ		(16ull << 20)
#define LOGSZ		(64u << 10)	/* small: checkpoints happen often */
#define TORN_BYTE	0x5a		/* what a torn persist leaves */

enum op_kind {
	OP_CREATE = 1,
	OP_WRITE,
	OP_WRITE_UNSTABLE,	/* write FS_UNSTABLE + commit: acked at commit */
	OP_TRUNC,
	OP_PUNCH,
	OP_ALLOC,
	OP_CLONE,
	OP_UNLINK,
	OP_RENAME,
	OP_SRVREC,
	OP_MKDIR,	/* empty directories D0..D3 in the root */
	OP_RMDIR,
	OP_RENAMEDIR,	/* Da -> Db, over Db if it exists (empty) */
	OP_XATTR,	/* set XATTR_NAME of fa to the seed */
};

#define XATTR_NAME	"user.crash"

struct op {
	uint32_t	kind;
	uint32_t	a;
	uint32_t	b;
	uint32_t	seed;
	uint64_t	off;
	uint64_t	len;
	uint64_t	off2;
};

enum { MSG_BEGIN = 1, MSG_DONE = 2 };

struct msg {
	uint32_t	tag;
	int32_t		rc;
	struct op	op;
};

struct mfile {
	bool		exists;
	bool		hasx;		/* xattr XATTR_NAME set, to xval */
	uint32_t	xval;
	uint64_t	size;
	uint8_t		data[MAXSZ];	/* zero past size */
};

struct model {
	struct mfile	f[NFILES];
	bool		dir[NDIRS];
	uint32_t	srvrec_seq;
};

static uint64_t rng;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint8_t
data_byte(uint32_t seed, uint64_t pos)
{
	return (uint8_t)(seed * 131u + pos * 7u + (pos >> 9));
}

static void
fname(char *buf, size_t len, uint32_t i)
{
	snprintf(buf, len, "f%u", i);
}

/* ---- the model ---- */

static void
model_apply(struct model *m, const struct op *op)
{
	struct mfile *a = &m->f[op->a], *b = &m->f[op->b];

	switch (op->kind) {
	case OP_CREATE:
		a->exists = true;
		a->hasx = false;
		a->size = 0;
		memset(a->data, 0, MAXSZ);
		break;
	case OP_XATTR:
		a->hasx = true;
		a->xval = op->seed;
		break;
	case OP_WRITE:
	case OP_WRITE_UNSTABLE:
		for (uint64_t i = 0; i < op->len; i++)
			a->data[op->off + i] = data_byte(op->seed, op->off + i);
		a->size = MAX(a->size, op->off + op->len);
		break;
	case OP_TRUNC:
		if (op->off < a->size)
			memset(a->data + op->off, 0, a->size - op->off);
		a->size = op->off;
		break;
	case OP_PUNCH:
		if (op->off < a->size)
			memset(a->data + op->off, 0,
			       MIN(op->len, a->size - op->off));
		break;
	case OP_ALLOC:
		a->size = MAX(a->size, op->off + op->len);
		break;
	case OP_CLONE:
		memmove(b->data + op->off2, a->data + op->off, op->len);
		b->size = MAX(b->size, op->off2 + op->len);
		break;
	case OP_UNLINK:
		a->exists = false;
		a->size = 0;
		memset(a->data, 0, MAXSZ);
		break;
	case OP_RENAME:
		*b = *a;
		a->exists = false;
		a->size = 0;
		memset(a->data, 0, MAXSZ);
		break;
	case OP_SRVREC:
		m->srvrec_seq = op->seed;
		break;
	case OP_MKDIR:
		m->dir[op->a] = true;
		break;
	case OP_RMDIR:
		m->dir[op->a] = false;
		break;
	case OP_RENAMEDIR:
		m->dir[op->a] = false;
		m->dir[op->b] = true;
		break;
	}
}

/* A random operation that is valid for the model. */
static void
gen_op(const struct model *m, struct op *op)
{
	uint32_t a = (uint32_t)(rnd() % NFILES);
	const struct mfile *f = &m->f[a];
	uint64_t r = rnd() % 100;

	memset(op, 0, sizeof(*op));
	op->a = a;
	op->seed = (uint32_t)rnd();
	if (rnd() % 8 == 0) {
		/* Directory operations on D0..D3. */
		op->a = (uint32_t)(rnd() % NDIRS);
		op->b = (uint32_t)(rnd() % NDIRS);
		if (!m->dir[op->a])
			op->kind = OP_MKDIR;
		else if (op->b != op->a && (rnd() & 1))
			op->kind = OP_RENAMEDIR;
		else
			op->kind = OP_RMDIR;
		return;
	}
	if (!f->exists) {
		op->kind = OP_CREATE;
		return;
	}
	if (r < 30) {
		op->kind = (r < 24) ? OP_WRITE : OP_WRITE_UNSTABLE;
		op->len = 1 + rnd() % (3 * BS);
		if (rnd() & 1)	/* aligned writes too */
			op->len = BS * (1 + rnd() % 3);
		op->off = rnd() % (MAXSZ - op->len);
		if (rnd() & 1)
			op->off &= ~(uint64_t)(BS - 1);
	} else if (r < 42) {
		op->kind = OP_TRUNC;
		op->off = rnd() % MAXSZ;
	} else if (r < 54) {
		op->kind = OP_PUNCH;
		op->off = rnd() % MAXSZ;
		op->len = 1 + rnd() % (MAXSZ - op->off);
	} else if (r < 62) {
		op->kind = OP_ALLOC;
		op->off = rnd() % MAXSZ;
		op->len = 1 + rnd() % (MAXSZ - op->off);
	} else if (r < 72) {
		uint32_t b = (uint32_t)(rnd() % NFILES);
		uint64_t nblk = f->size / BS;

		if (b == a || !m->f[b].exists || nblk == 0) {
			op->kind = OP_SRVREC;
			return;
		}
		op->kind = OP_CLONE;
		op->b = b;
		op->len = BS * (1 + rnd() % MIN(nblk, 4));
		op->off = BS * (rnd() % (nblk - op->len / BS + 1));
		op->off2 = BS * (rnd() % ((MAXSZ - op->len) / BS + 1));
	} else if (r < 80) {
		op->kind = OP_UNLINK;
	} else if (r < 90) {
		op->kind = OP_RENAME;
		op->b = (uint32_t)(rnd() % NFILES);
		if (op->b == a)
			op->kind = OP_SRVREC;
	} else if (r < 95) {
		op->kind = OP_SRVREC;
	} else {
		op->kind = OP_XATTR;
	}
}

/* ---- the child: run operations against the engine ---- */

static int
run_op(struct fs *fs, struct fs_inode *root, const struct op *op)
{
	char na[16], nb[16];
	struct fs_inode *ip = NULL, *jp = NULL;
	uint8_t *buf = NULL;
	size_t n;
	int rc;

	fname(na, sizeof(na), op->a);
	fname(nb, sizeof(nb), op->b);
	if (op->kind == OP_MKDIR || op->kind == OP_RMDIR ||
	    op->kind == OP_RENAMEDIR) {
		snprintf(na, sizeof(na), "D%u", op->a);
		snprintf(nb, sizeof(nb), "D%u", op->b);
	}
	switch (op->kind) {
	case OP_MKDIR:
		rc = fs_create(fs, root, na, &(struct fs_create_args){
			.type = FS_TYPE_DIR, .mode = 0755, .exclusive = true },
			&ip);
		if (!rc)
			fs_iput(fs, ip);
		return rc;
	case OP_RMDIR:
		return fs_unlink(fs, root, na);
	case OP_RENAMEDIR:
		return fs_rename(fs, root, na, root, nb);
	case OP_CREATE:
		rc = fs_create(fs, root, na, &(struct fs_create_args){
			.type = FS_TYPE_REG, .mode = 0644, .exclusive = true },
			&ip);
		break;
	case OP_UNLINK:
		return fs_unlink(fs, root, na);
	case OP_RENAME:
		return fs_rename(fs, root, na, root, nb);
	case OP_SRVREC: {
		char key[] = "client-record";

		return fs_srvrec_put(fs, key, sizeof(key), &op->seed,
				     sizeof(op->seed));
	}
	default:
		rc = fs_lookup(fs, root, na, &ip);
		break;
	}
	if (rc)
		return rc;
	switch (op->kind) {
	case OP_WRITE:
	case OP_WRITE_UNSTABLE:
		buf = malloc(op->len);
		if (!buf) {
			rc = -ENOMEM;
			break;
		}
		for (uint64_t i = 0; i < op->len; i++)
			buf[i] = data_byte(op->seed, op->off + i);
		rc = fs_write(fs, ip, op->off, op->len, buf,
			      op->kind == OP_WRITE ? FS_FILE_SYNC : FS_UNSTABLE,
			      &n);
		if (!rc && op->kind == OP_WRITE_UNSTABLE)
			rc = fs_commit(fs, ip, 0, 0);
		break;
	case OP_TRUNC:
		rc = fs_setattr(fs, ip, &(struct fs_setattr){
			.mask = FS_SET_SIZE, .size = op->off }, NULL);
		break;
	case OP_PUNCH:
		rc = fs_deallocate(fs, ip, op->off, op->len);
		break;
	case OP_ALLOC:
		rc = fs_allocate(fs, ip, op->off, op->len);
		break;
	case OP_XATTR:
		rc = fs_xattr_set(fs, ip, XATTR_NAME, &op->seed,
				  sizeof(op->seed), 0);
		break;
	case OP_CLONE:
		rc = fs_lookup(fs, root, nb, &jp);
		if (!rc)
			rc = fs_clone(fs, ip, op->off, jp, op->off2, op->len);
		if (jp)
			fs_iput(fs, jp);
		break;
	default:
		break;
	}
	free(buf);
	fs_iput(fs, ip);
	return rc;
}

static void
send_msg(int fd, uint32_t tag, int rc, const struct op *op)
{
	struct msg m = { .tag = tag, .rc = rc, .op = *op };

	/* < PIPE_BUF: one atomic write. */
	if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
		_exit(4);
}

/*
 * How a child dies: SIGKILL from the parent, its Nth persist point of any
 * tag, the same with the persist torn, or its Nth persist of file data
 * (the engine's own "fs.data.*" points, which any-tag injection reaches
 * less often than the log's), torn or not.
 */
enum crash_mode {
	CRASH_KILL = 0,
	CRASH_KILL2,
	CRASH_INJECT,
	CRASH_INJECT_TORN,
	CRASH_INJECT_DATA,
	CRASH_MODES,
};

/* Data persist points per child to pick from (a few per write). */
#define INJECT_DATA_MAX	60

NORETURN static void
child(int fd, struct model *m, uint64_t seed, const char *vol,
      enum crash_mode mode)
{
	struct fs *fs;
	struct fs_inode *root;
	int nops = 1 + (int)(rnd() % OPS_MAX);
	char spec[64];

	rng = seed;
	if (mode >= CRASH_INJECT) {
		if (mode == CRASH_INJECT_DATA)
			snprintf(spec, sizeof(spec), "fs.data.*:%u%s",
				 1 + (unsigned)(rnd() % INJECT_DATA_MAX),
				 (rnd() & 1) ? ":torn" : "");
		else
			snprintf(spec, sizeof(spec), "%u%s",
				 1 + (unsigned)(rnd() % INJECT_MAX),
				 mode == CRASH_INJECT_TORN ? ":torn" : "");
		vol_inject_reset();
		if (vol_inject_parse(spec))
			_exit(5);
	}
	if (fs_mount(vol, 0, &fs))
		_exit(6);
	if (fs_iget(fs, fs_root_ino(fs), 0, &root))
		_exit(7);
	for (int i = 0; i < nops; i++) {
		struct op op;
		int rc;

		gen_op(m, &op);
		send_msg(fd, MSG_BEGIN, 0, &op);
		rc = run_op(fs, root, &op);
		send_msg(fd, MSG_DONE, rc, &op);
		if (rc)
			_exit(8);
		model_apply(m, &op);
	}
	fs_iput(fs, root);
	if (fs_unmount(fs))
		_exit(9);
	_exit(0);
}

/* ---- the parent: recover, check, compare ---- */

static bool
file_matches(struct fs *fs, struct fs_inode *root, uint32_t i,
	     const struct mfile *before, const struct mfile *after,
	     uint64_t loose_off, uint64_t loose_len, bool verbose)
{
	char name[16];
	struct fs_inode *ip = NULL;
	struct fs_attr at;
	static uint8_t buf[MAXSZ + BS];
	size_t n = 0, xlen = 0;
	uint32_t xval = 0;
	bool eof;
	int xrc;

	fname(name, sizeof(name), i);
	if (fs_lookup(fs, root, name, &ip) != 0) {
		if (!after->exists || (before && !before->exists))
			return true;
		if (verbose)
			fprintf(stderr, "file %s missing\n", name);
		return false;
	}
	if (fs_getattr(fs, ip, &at) || fs_read(fs, ip, 0, sizeof(buf), buf, &n, &eof)) {
		fs_iput(fs, ip);
		return false;
	}
	xrc = fs_xattr_get(fs, ip, XATTR_NAME, &xval, sizeof(xval), &xlen);
	fs_iput(fs, ip);
	if ((xrc == 0) != after->hasx ||
	    (xrc == 0 && (xlen != sizeof(xval) || xval != after->xval))) {
		if (verbose)
			fprintf(stderr, "file %s: xattr %s\n", name,
				xrc == 0 ? "differs" : "missing or extra");
		return false;
	}
	if (!after->exists && !(before && before->exists)) {
		if (verbose)
			fprintf(stderr, "file %s exists, should not\n", name);
		return false;
	}
	if (at.size != after->size && !(before && at.size == before->size)) {
		if (verbose)
			fprintf(stderr, "file %s: size %" PRIu64 ", want %" PRIu64
				"\n", name, at.size, after->size);
		return false;
	}
	if (n != at.size)
		return false;
	for (uint64_t k = 0; k < n; k++) {
		uint8_t want = k < MAXSZ ? after->data[k] : 0;

		if (buf[k] == want)
			continue;
		if (before && k >= loose_off && k < loose_off + loose_len &&
		    (buf[k] == (k < MAXSZ ? before->data[k] : 0) ||
		     buf[k] == TORN_BYTE))
			continue;
		if (verbose)
			fprintf(stderr, "file %s: byte %" PRIu64 " is %u, want %u\n",
				name, k, buf[k], want);
		return false;
	}
	return true;
}

/* Load the model from the volume (after it was found acceptable). */
static int
model_load(struct fs *fs, struct fs_inode *root, struct model *m)
{
	for (uint32_t i = 0; i < NFILES; i++) {
		struct mfile *f = &m->f[i];
		struct fs_inode *ip;
		struct fs_attr at;
		char name[16];
		size_t n = 0;
		bool eof;

		fname(name, sizeof(name), i);
		memset(f->data, 0, MAXSZ);
		f->size = 0;
		f->exists = fs_lookup(fs, root, name, &ip) == 0;
		if (!f->exists)
			continue;
		if (fs_getattr(fs, ip, &at) || at.size > MAXSZ ||
		    fs_read(fs, ip, 0, MAXSZ, f->data, &n, &eof) ||
		    n != at.size) {
			fs_iput(fs, ip);
			return -EIO;
		}
		f->size = at.size;
		{
			size_t xlen;

			f->hasx = fs_xattr_get(fs, ip, XATTR_NAME, &f->xval,
					       sizeof(f->xval), &xlen) == 0;
		}
		fs_iput(fs, ip);
	}
	for (uint32_t i = 0; i < NDIRS; i++) {
		struct fs_inode *ip;
		char name[16];

		snprintf(name, sizeof(name), "D%u", i);
		m->dir[i] = fs_lookup(fs, root, name, &ip) == 0;
		if (m->dir[i])
			fs_iput(fs, ip);
	}
	return 0;
}

struct names_ctx {
	int	n;
	bool	bad;
	bool	dirs[NDIRS];
};

static int
count_names(void *ctx, const char *name, size_t namelen, uint64_t ino,
	    enum fs_ftype type, uint64_t cookie)
{
	struct names_ctx *c = ctx;
	unsigned i;

	c->n++;
	if (sscanf(name, "f%u", &i) == 1 && i < NFILES)
		return 0;
	if (sscanf(name, "D%u", &i) == 1 && i < NDIRS &&
	    type == FS_TYPE_DIR) {
		c->dirs[i] = true;
		return 0;
	}
	c->bad = true;
	return 0;
}

static void
print_problem(void *ctx, const char *msg)
{
	fprintf(stderr, "  fs_check: %s\n", msg);
}

/*
 * Recover and verify.  before/inflight: the operation that had begun but
 * was not acknowledged (NULL if none).  Returns 0 and reloads the model,
 * or -1.
 */
static int
verify(const char *vol, struct model *m, const struct op *inflight)
{
	struct fs_check_opts co = { .problem = print_problem };
	struct fs_check_result res;
	struct names_ctx nc = { 0 };
	struct model *after = NULL;
	struct fs_inode *root;
	struct fs *fs;
	uint64_t verf;
	bool eof;
	int rc, ret = -1;

	rc = fs_mount(vol, 0, &fs);
	if (rc) {
		fprintf(stderr, "recovery mount failed: %d\n", rc);
		return -1;
	}
	if (fs_iget(fs, fs_root_ino(fs), 0, &root))
		goto out_unmount;
	rc = fs_check(fs, &co, &res);
	if (rc || res.problems) {
		fprintf(stderr, "fs_check: rc %d, %" PRIu64 " problems\n", rc,
			res.problems);
		goto out_put;
	}
	if (fs_readdir(fs, root, 0, 0, count_names, &nc, &verf, &eof) ||
	    nc.bad) {
		fprintf(stderr, "unexpected names in the root\n");
		goto out_put;
	}
	if (inflight) {
		after = malloc(sizeof(*after));
		if (!after)
			goto out_put;
		*after = *m;
		model_apply(after, inflight);
	}
	/* The directories: as acknowledged, or with the op in flight. */
	if (memcmp(nc.dirs, m->dir, sizeof(nc.dirs)) != 0 &&
	    !(after && memcmp(nc.dirs, after->dir, sizeof(nc.dirs)) == 0)) {
		fprintf(stderr, "directories D0..D%d do not match\n", NDIRS - 1);
		goto out_put;
	}
	for (uint32_t i = 0; i < NFILES; i++) {
		bool ok;

		if (!inflight) {
			ok = file_matches(fs, root, i, NULL, &m->f[i], 0, 0, true);
		} else {
			bool loose = inflight->a == i &&
				(inflight->kind == OP_WRITE ||
				 inflight->kind == OP_WRITE_UNSTABLE ||
				 inflight->kind == OP_PUNCH);

			/* Exactly before, exactly after, or (write/punch)
			 * a mix inside the range. */
			ok = file_matches(fs, root, i, NULL, &m->f[i], 0, 0,
					  false) ||
			     file_matches(fs, root, i, NULL, &after->f[i], 0, 0,
					  false) ||
			     (loose && file_matches(fs, root, i, &m->f[i],
						    &after->f[i], inflight->off,
						    inflight->len, true));
			if (!ok && !loose)
				file_matches(fs, root, i, NULL, &after->f[i],
					     0, 0, true);
		}
		if (!ok) {
			fprintf(stderr, "file f%u does not match%s\n", i,
				inflight ? " (before or after the op in flight)" :
				"");
			goto out_put;
		}
	}
	if (model_load(fs, root, m))
		goto out_put;
	ret = 0;
out_put:
	free(after);
	fs_iput(fs, root);
out_unmount:
	if (fs_unmount(fs))
		ret = -1;
	return ret;
}

static const char *
op_name(uint32_t k)
{
	static const char *names[] = {
		"?", "create", "write", "write-unstable", "trunc", "punch",
		"alloc", "clone", "unlink", "rename", "srvrec", "mkdir",
		"rmdir", "renamedir", "xattr",
	};

	return k < ARRAY_SIZE(names) ? names[k] : "?";
}

int
main(int argc, char **argv)
{
	const char *env = getenv("CRASH_CYCLES");
	long cycles = env ? atol(env) : (argc > 1 ? atol(argv[1]) : 200);
	uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 0) :
			(uint64_t)time(NULL) * 2654435761u + (uint64_t)getpid();
	const char *tmp = getenv("TMPDIR");
	char dir[256], vol[300];
	struct model *m = calloc(1, sizeof(*m));
	struct vol_mkfs_opts mo = { .force = true, .log_size = LOGSZ };
	long kills = 0, injects = 0, completes = 0;

	if (!m)
		return 1;
	snprintf(dir, sizeof(dir), "%s/pmemnfs-crash-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(vol, sizeof(vol), "%s/vol", dir);
	if (vol_create(vol, VOLSZ, &mo)) {
		fprintf(stderr, "mkfs failed\n");
		return 1;
	}
	fprintf(stderr, "crash_fs: %ld cycles, seed %" PRIu64 "\n", cycles, seed);
	rng = seed | 1;
	for (long cycle = 0; cycle < cycles; cycle++) {
		int pfd[2], status;
		uint64_t cseed = rnd() | 1;
		enum crash_mode mode = (enum crash_mode)(rnd() % CRASH_MODES);
		struct msg msg;
		struct op inflight;
		bool have_inflight = false;
		pid_t pid;
		ssize_t r;

		if (pipe(pfd)) {
			perror("pipe");
			return 1;
		}
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			close(pfd[0]);
			child(pfd[1], m, cseed, vol, mode);
		}
		close(pfd[1]);
		if (mode < CRASH_INJECT) {
			struct timespec ts = { 0, (long)(rnd() % KILL_DELAY_MAX_US) * 1000 };

			nanosleep(&ts, NULL);	/* the random crash moment */
			kill(pid, SIGKILL);
		}
		/* Read the reports until the child is gone (EOF). */
		while ((r = read(pfd[0], &msg, sizeof(msg))) == (ssize_t)sizeof(msg)) {
			if (msg.tag == MSG_BEGIN) {
				inflight = msg.op;
				have_inflight = true;
			} else if (msg.rc == 0) {
				model_apply(m, &msg.op);
				have_inflight = false;
			} else {
				fprintf(stderr, "cycle %ld: %s failed in the "
					"child: %d\n", cycle, op_name(msg.op.kind),
					msg.rc);
				return 1;
			}
		}
		close(pfd[0]);
		if (waitpid(pid, &status, 0) != pid) {
			perror("waitpid");
			return 1;
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			kills++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == VOL_INJECT_EXIT) {
			injects++;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			completes++;
		} else {
			fprintf(stderr, "cycle %ld: child ended badly (status "
				"0x%x)\n", cycle, status);
			return 1;
		}
		if (verify(vol, m, have_inflight ? &inflight : NULL)) {
			fprintf(stderr, "cycle %ld (seed %" PRIu64 ", mode %d) "
				"FAILED%s%s\n", cycle, seed, mode,
				have_inflight ? "; in flight: " : "",
				have_inflight ? op_name(inflight.kind) : "");
			if (have_inflight)
				fprintf(stderr, "in flight: %s a=%u b=%u off=%"
					PRIu64 " len=%" PRIu64 " off2=%" PRIu64
					"\n", op_name(inflight.kind), inflight.a,
					inflight.b, inflight.off, inflight.len,
					inflight.off2);
			fprintf(stderr, "volume kept at %s\n", vol);
			return 1;
		}
	}
	fprintf(stderr, "crash_fs: %ld cycles passed (%ld killed, %ld stopped "
		"at a persist point, %ld ran to the end)\n", cycles, kills,
		injects, completes);
	unlink(vol);
	rmdir(dir);
	free(m);
	return 0;
}
