/*
 * test_refset_engine.c - the reference-set stress test against the real
 * engine: pins and client layouts (fs_layout_map) on one file of a
 * mounted volume while other threads truncate, punch, rewrite and write
 * through the MDS (fs_setattr, fs_deallocate, fs_write, which call
 * fs_break_layouts themselves), and a second file's writer keeps the
 * allocator busy handing blocks out.  A checker thread verifies rule 6 on
 * the real block maps: every volume block reachable through a live pin or
 * grant is still mapped at the file offset it was granted for, and at no
 * other offset of either file.  A watchdog fails the test on a deadlock.
 * Run time: REFSET_STRESS_SECS (default 2).
 */
#include "config.h"

#include <stdatomic.h>
#include <stdio.h>

#include "common.h"
#include "fs.h"
#include "fs/inode.h"
#include "vol.h"
#include "../testlib.h"
#include "test_refset_util.h"

#define NFBLK		64	/* file blocks per file */
#define MAXREF		8	/* blocks one reference covers at most */
/* A reference may reach past NFBLK (RW layouts fill holes past EOF). */
#define FSPAN		(NFBLK + MAXREF)
#define MAXEXT		(FSPAN + 4)
#define NPINNERS	2
#define NCLIENTS	3
#define VOL_SIZE	(64ULL << 20)
#define STRESS_RECALL_NS	(20 * NSEC_PER_MSEC)
#define WATCHDOG_NS		(60ULL * NSEC_PER_SEC)

static struct fs *fs;
static struct fs_inode *fip, *gip;	/* the file under test, the other */
static uint64_t bs;
static atomic_bool stop;
static atomic_long violations, errors;
static atomic_long n_pins, n_grants, n_conflicts, n_recalls, n_expired,
	n_truncates, n_punches, n_writes, n_gwrites, n_checks;

/* What one live reference reaches: volume block of each file block. */
struct live {
	bool		active;
	int		n;
	uint64_t	fblk[MAXREF];
	uint64_t	vblk[MAXREF];
};

static struct mutex reg_mu;	/* innermost lock of this test */
static struct live *lives[NPINNERS + NCLIENTS];
static int nlives;

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
note_error(const char *what, int rc)
{
	fprintf(stderr, "  %s: %d\n", what, rc);
	atomic_fetch_add(&errors, 1);
}

/*
 * Record the blocks that back file blocks [a, a+k) of ip.  The caller
 * holds MAPLOCK shared (fs_layout_map's contract).
 */
static int
live_snapshot(struct fs_inode *ip, struct live *l, uint64_t a, uint64_t k,
	      bool rw)
{
	struct fs_layout_ext ext[MAXEXT];
	unsigned n = 0;
	int rc;

	l->n = 0;
	rc = fs_layout_map(fs, ip, a * bs, k * bs, rw, ext, MAXEXT, &n);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		if (ext[i].state == FS_EXT_HOLE)
			continue;
		for (uint64_t o = 0; o < ext[i].len; o += bs) {
			uint64_t f = (ext[i].file_off + o) / bs;

			if (f < a || f >= a + k || l->n == MAXREF)
				continue;
			l->fblk[l->n] = f;
			l->vblk[l->n] = (ext[i].vol_off + o) / bs;
			l->n++;
		}
	}
	return 0;
}

static void
live_publish(struct live *l, bool on)
{
	mutex_lock(&reg_mu);
	l->active = on;
	mutex_unlock(&reg_mu);
}

/* ---- pinners ---- */

struct pinner {
	struct live		live;
	struct fs_layoutref	pin;
	uint32_t		seed;
};

static void *
pinner_main(void *arg)
{
	struct pinner *pn = arg;

	while (!atomic_load(&stop)) {
		uint64_t a = rnd(&pn->seed) % NFBLK;
		uint64_t k = 1 + rnd(&pn->seed) % MAXREF;
		unsigned held = FS_MAPLOCK_SHARED;
		int rc;

		fs_ilock(fip, held);
		rc = fs_pin_range(fip, &held, &pn->pin, a * bs, k * bs, NULL,
				  pn, clock_now_ns() + 20 * NSEC_PER_MSEC);
		if (rc != 0) {
			fs_iunlock(fip, held);
			if (rc != -EAGAIN)
				note_error("fs_pin_range", rc);
			continue;
		}
		rc = live_snapshot(fip, &pn->live, a, k, false);
		if (rc == 0)
			live_publish(&pn->live, true);
		fs_iunlock(fip, held);
		if (rc)
			note_error("fs_layout_map (pin)", rc);
		for (int i = 0; i < 1 + (int)(rnd(&pn->seed) % 20); i++)
			sched_yield();	/* "DMA in flight" */
		live_publish(&pn->live, false);
		fs_unpin(fip, &pn->pin);
		atomic_fetch_add(&n_pins, 1);
	}
	return NULL;
}

/* ---- clients ---- */

enum client_kind { CLIENT_PROMPT, CLIENT_INLINE, CLIENT_SILENT };

struct client {
	struct fs_layoutref	ref;
	struct live		live;
	enum client_kind	kind;
	atomic_bool		recalled, revoked, returned_inline;
	uint32_t		seed;
};

static void
client_break(struct fs_layoutref *ref)
{
	struct client *c = ref->owner;

	atomic_fetch_add(&n_recalls, 1);
	if (c->kind == CLIENT_INLINE) {
		live_publish(&c->live, false);
		atomic_store(&c->returned_inline, true);
		fs_layoutref_remove(fip, ref);	/* touch nothing after */
		return;
	}
	atomic_store(&c->recalled, true);
}

static void
client_expire(struct fs_layoutref *ref)
{
	struct client *c = ref->owner;

	live_publish(&c->live, false);	/* revoked and fenced */
	atomic_fetch_add(&n_expired, 1);
	atomic_store(&c->revoked, true);
}

static const struct fs_layoutref_ops client_ops = {
	.break_ref = client_break,
	.expire_ref = client_expire,
};

static void *
client_main(void *arg)
{
	struct client *c = arg;

	while (!atomic_load(&stop)) {
		uint64_t a = rnd(&c->seed) % NFBLK;
		uint64_t k = 1 + rnd(&c->seed) % MAXREF;
		bool rw = rnd(&c->seed) % 2;
		int rc;

		atomic_store(&c->recalled, false);
		atomic_store(&c->revoked, false);
		atomic_store(&c->returned_inline, false);
		/* LAYOUTGET: grant first, then describe, under MAPLOCK. */
		fs_ilock(fip, FS_MAPLOCK_SHARED);
		rc = fs_layoutref_add(fip, &c->ref, rw ? FS_REF_LAYOUT_RW :
				      FS_REF_LAYOUT_READ, a * bs, k * bs,
				      &client_ops, c);
		if (rc != 0) {
			fs_iunlock(fip, FS_MAPLOCK_SHARED);
			if (rc != -EAGAIN)
				note_error("fs_layoutref_add", rc);
			atomic_fetch_add(&n_conflicts, 1);
			sched_yield();
			continue;
		}
		rc = live_snapshot(fip, &c->live, a, k, rw);
		if (rc == 0)
			live_publish(&c->live, true);
		fs_iunlock(fip, FS_MAPLOCK_SHARED);
		if (rc)
			note_error("fs_layout_map (grant)", rc);
		atomic_fetch_add(&n_grants, 1);

		for (int i = 0; i < 50 && !atomic_load(&stop); i++) {
			if (atomic_load(&c->revoked) ||
			    atomic_load(&c->returned_inline))
				break;
			if (atomic_load(&c->recalled) &&
			    c->kind == CLIENT_PROMPT)
				break;
			sched_yield();
		}
		if (c->kind == CLIENT_SILENT)
			while (atomic_load(&c->recalled) &&
			       !atomic_load(&c->revoked) && !atomic_load(&stop))
				test_pause();
		live_publish(&c->live, false);
		fs_layoutref_remove(fip, &c->ref);	/* LAYOUTRETURN */
	}
	return NULL;
}

/* ---- map changers ---- */

static char wbuf[MAXREF * 65536];

static void *
changer_main(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg * 40503u + 7;

	while (!atomic_load(&stop)) {
		uint64_t a = rnd(&seed) % NFBLK;
		uint64_t want = 1 + rnd(&seed) % MAXREF;
		uint64_t k = MIN(want, NFBLK - a);
		size_t done;
		int rc = 0;

		switch (rnd(&seed) % 3) {
		case 0: {	/* truncate down, then grow back by writing */
			struct fs_setattr sa = { .mask = FS_SET_SIZE,
						 .size = a * bs };

			rc = fs_setattr(fs, fip, &sa, NULL);
			for (uint64_t o = a; rc == 0 && o < NFBLK; o += MAXREF)
				rc = fs_write(fs, fip, o * bs,
					      MIN(MAXREF, NFBLK - o) * bs,
					      wbuf, FS_FILE_SYNC, &done);
			atomic_fetch_add(&n_truncates, 1);
			break;
		}
		case 1:		/* punch, then fill again */
			rc = fs_deallocate(fs, fip, a * bs, k * bs);
			if (rc == 0)
				rc = fs_write(fs, fip, a * bs, k * bs, wbuf,
					      FS_FILE_SYNC, &done);
			atomic_fetch_add(&n_punches, 1);
			break;
		default:	/* write through the MDS */
			rc = fs_write(fs, fip, a * bs, k * bs, wbuf,
				      FS_UNSTABLE, &done);
			atomic_fetch_add(&n_writes, 1);
			break;
		}
		if (rc)
			note_error("map change on f", rc);
	}
	return NULL;
}

/* Churn the allocator on the other file: freed blocks get reused. */
static void *
gwriter_main(void *arg)
{
	uint32_t seed = 12345;

	while (!atomic_load(&stop)) {
		uint64_t a = rnd(&seed) % NFBLK;
		uint64_t want = 1 + rnd(&seed) % MAXREF;
		uint64_t k = MIN(want, NFBLK - a);
		size_t done;
		int rc;

		if (rnd(&seed) % 2)
			rc = fs_deallocate(fs, gip, a * bs, k * bs);
		else
			rc = fs_write(fs, gip, a * bs, k * bs, wbuf,
				      FS_FILE_SYNC, &done);
		if (rc)
			note_error("map change on g", rc);
		atomic_fetch_add(&n_gwrites, 1);
	}
	return NULL;
}

/* ---- checker and watchdog report ---- */

/* Volume block behind each file block of ip (UINT64_MAX: none). */
static int
map_file(struct fs_inode *ip, uint64_t *vb)
{
	struct fs_layout_ext ext[MAXEXT];
	unsigned n = 0;
	int rc;

	for (int f = 0; f < FSPAN; f++)
		vb[f] = UINT64_MAX;
	rc = fs_layout_map(fs, ip, 0, FSPAN * bs, false, ext, MAXEXT, &n);
	if (rc)
		return rc;
	for (unsigned i = 0; i < n; i++) {
		if (ext[i].state == FS_EXT_HOLE)
			continue;
		for (uint64_t o = 0; o < ext[i].len; o += bs) {
			uint64_t f = (ext[i].file_off + o) / bs;

			if (f < FSPAN)
				vb[f] = (ext[i].vol_off + o) / bs;
		}
	}
	return 0;
}

static void *
checker_main(void *arg)
{
	uint64_t fv[FSPAN], gv[FSPAN];

	while (!atomic_load(&stop)) {
		/* Both MAPLOCKs (inode order): neither map can lose blocks. */
		fs_ilock2(fip, gip, FS_MAPLOCK_SHARED);
		if (map_file(fip, fv) || map_file(gip, gv)) {
			note_error("checker map", -1);
			fs_iunlock2(fip, gip, FS_MAPLOCK_SHARED);
			continue;
		}
		mutex_lock(&reg_mu);
		for (int i = 0; i < nlives; i++) {
			const struct live *l = lives[i];

			if (!l->active)
				continue;
			for (int j = 0; j < l->n; j++) {
				uint64_t v = l->vblk[j];

				/* Still where it was granted ... */
				if (fv[l->fblk[j]] != v)
					atomic_fetch_add(&violations, 1);
				/* ... and nowhere else. */
				for (int f = 0; f < FSPAN; f++) {
					if (gv[f] == v)
						atomic_fetch_add(&violations,
								 1);
					if (fv[f] == v &&
					    (uint64_t)f != l->fblk[j])
						atomic_fetch_add(&violations,
								 1);
				}
			}
		}
		mutex_unlock(&reg_mu);
		fs_iunlock2(fip, gip, FS_MAPLOCK_SHARED);
		atomic_fetch_add(&n_checks, 1);
		sched_yield();
	}
	return NULL;
}

/* What the watchdog prints before it aborts a deadlocked run. */
static void
watchdog_report(void)
{
	fprintf(stderr, "  pins %ld grants %ld truncates %ld\n",
		atomic_load(&n_pins), atomic_load(&n_grants),
		atomic_load(&n_truncates));
}

static void
make_file(struct fs_inode *root, const char *name, struct fs_inode **out)
{
	struct fs_create_args ca = { .type = FS_TYPE_REG, .mode = 0644 };
	size_t done;

	REQUIRE(fs_create(fs, root, name, &ca, out) == 0);
	for (uint64_t o = 0; o < NFBLK; o += MAXREF)
		REQUIRE(fs_write(fs, *out, o * bs, MAXREF * bs, wbuf,
				 FS_FILE_SYNC, &done) == 0);
}

static void
test_engine_stress(void)
{
	pthread_t pins[NPINNERS], clients[NCLIENTS], changers[2];
	pthread_t gwriter, checker;
	struct test_watchdog wd;
	struct test_recall_timer timer;
	struct pinner pn[NPINNERS];
	struct client cl[NCLIENTS];
	const char *env = getenv("REFSET_STRESS_SECS");
	const char *tmp = getenv("TMPDIR");
	uint64_t secs = env ? strtoull(env, NULL, 10) : 2;
	struct fs_inode *root;
	char path[512];
	int fd;

	if (secs == 0)
		secs = 2;
	snprintf(path, sizeof(path), "%s/refset-engine-XXXXXX",
		 tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	REQUIRE(fd >= 0);
	close(fd);
	REQUIRE(vol_create(path, VOL_SIZE, NULL) == 0);
	REQUIRE(fs_mount(path, 0, &fs) == 0);
	bs = fs_block_size(fs);
	REQUIRE(bs > 0 && bs * MAXREF <= sizeof(wbuf));
	memset(wbuf, 0xa5, sizeof(wbuf));
	REQUIRE(fs_iget(fs, fs_root_ino(fs), 0, &root) == 0);
	make_file(root, "f", &fip);
	make_file(root, "g", &gip);
	mutex_init(&reg_mu, "registry");
	fs_refset_set_recall_timeout(STRESS_RECALL_NS);

	test_watchdog_start(&wd, secs * NSEC_PER_SEC + WATCHDOG_NS,
			    watchdog_report);
	memset(pn, 0, sizeof(pn));
	memset(cl, 0, sizeof(cl));
	for (int i = 0; i < NCLIENTS; i++) {
		cl[i].kind = (enum client_kind)i;
		cl[i].seed = 977u * (uint32_t)(i + 1);
		lives[nlives++] = &cl[i].live;
		REQUIRE(pthread_create(&clients[i], NULL, client_main,
				       &cl[i]) == 0);
	}
	for (int i = 0; i < NPINNERS; i++) {
		pn[i].seed = 2654435761u * (uint32_t)(i + 1);
		lives[nlives++] = &pn[i].live;
		REQUIRE(pthread_create(&pins[i], NULL, pinner_main,
				       &pn[i]) == 0);
	}
	for (int i = 0; i < 2; i++)
		REQUIRE(pthread_create(&changers[i], NULL, changer_main,
				       (void *)(uintptr_t)(i + 1)) == 0);
	REQUIRE(pthread_create(&gwriter, NULL, gwriter_main, NULL) == 0);
	REQUIRE(pthread_create(&checker, NULL, checker_main, NULL) == 0);
	test_recall_timer_start(&timer, fip);
	{
		struct timespec ts = { (time_t)secs, 0 };

		/* The planned run time, not a wait for a result. */
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(changers[i], NULL);
	pthread_join(gwriter, NULL);
	for (int i = 0; i < NPINNERS; i++)
		pthread_join(pins[i], NULL);
	for (int i = 0; i < NCLIENTS; i++)
		pthread_join(clients[i], NULL);
	pthread_join(checker, NULL);
	test_recall_timer_stop(&timer);
	test_watchdog_stop(&wd);

	fprintf(stderr, "  %llus: pins %ld grants %ld (refused %ld) recalls %ld "
		"expired %ld truncates %ld punches %ld writes %ld g-ops %ld "
		"checks %ld violations %ld errors %ld\n",
		(unsigned long long)secs, atomic_load(&n_pins),
		atomic_load(&n_grants), atomic_load(&n_conflicts),
		atomic_load(&n_recalls), atomic_load(&n_expired),
		atomic_load(&n_truncates), atomic_load(&n_punches),
		atomic_load(&n_writes), atomic_load(&n_gwrites),
		atomic_load(&n_checks), atomic_load(&violations),
		atomic_load(&errors));
	CHECK_EQ(atomic_load(&violations), 0);
	CHECK_EQ(atomic_load(&errors), 0);
	CHECK(atomic_load(&n_pins) > 0);
	CHECK(atomic_load(&n_grants) > 0);
	CHECK(atomic_load(&n_truncates) > 0);
	CHECK(atomic_load(&n_punches) > 0);
	CHECK(atomic_load(&n_writes) > 0);
	CHECK(atomic_load(&n_checks) > 0);
	CHECK_EQ(fs_refset_count(fip), 0);
	fs_refset_set_recall_timeout(FS_RECALL_TIMEOUT_DEFAULT_NS);
	fs_iput(fs, fip);
	fs_iput(fs, gip);
	fs_iput(fs, root);
	CHECK_EQ(fs_unmount(fs), 0);
	unlink(path);
	mutex_destroy(&reg_mu);
}

int
main(void)
{
	log_set_level(LOG_LVL_WARN);
	TEST_RUN(test_engine_stress);
	TEST_EXIT();
}
