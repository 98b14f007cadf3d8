/*
 * io_ops.c - file data: READ, WRITE, COMMIT (RFC 8881 §18.22, §18.32,
 * §18.3) and the NFSv4.2 operations on data and block maps: READ_PLUS,
 * SEEK, ALLOCATE, DEALLOCATE, CLONE, COPY (RFC 7862 §15), with the
 * RFC-allowed declines for the asynchronous-copy and hint operations.
 *
 * Every handler follows the same steps: the current (and for CLONE/COPY
 * the saved) filehandle's inode, its type (only regular files carry
 * data), the stateid through the state layer (RFC 8881 §8.2.2: which
 * stateid, open mode, share deny, lock conflicts are the state layer's
 * rules, not ours), conflicting delegations, then one engine call.  The
 * engine takes the inode locks itself and breaks client layouts and pins
 * (fs_break_layouts(), DESIGN.md §3) inside every call that moves or
 * removes blocks, so nothing here deals with external references; an
 * engine wait that passed its bound comes back as -EAGAIN, which the one
 * errno mapping turns into NFS4ERR_DELAY.
 *
 * The write verifier (RFC 8881 §18.32.3) is the volume's boot count -
 * bumped and persisted at every read-write mount - mixed with the time
 * this process first needed it, so that it changes at every server start
 * even if a volume were restored from a copy with an older boot count.
 * docs/io.md describes the read and write paths.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileops.h"
#include "fsvc.h"
#include "fs.h"
#include "fs/ilock.h"
#include "fs/refset.h"
#include "state.h"
#include "vol.h"

/*
 * Largest READ/WRITE payload: 1 MiB, what the session defaults
 * (STATE_MAX_REQ/RESP_DEFAULT) leave room for with headers, and what the
 * maxread/maxwrite attributes report.
 */
#define IO_MAX_RW		(1024u * 1024u)
/*
 * READ4resok beyond the data: resop, status, eof, opaque length.
 */
#define IO_READ_RES_OVERHEAD	16u
/*
 * One COPY copies at most this much and reports a short count; the client
 * sends another COPY for the rest (RFC 7862 §15.2.3 allows wr_count <
 * ca_count).  64 MiB keeps a worker busy for well under a second on pmem
 * and a few seconds on a loaded file-backed volume, so one COPY never
 * holds a worker for long.
 */
#define IO_COPY_MAX		(64ull * 1024 * 1024)
/* COPY moves data in chunks of this size through a bounce buffer. */
#define IO_COPY_CHUNK		(1024u * 1024u)

/* --- helpers shared by the handlers -------------------------------------- */

/*
 * The status for an inode that is not a regular file (RFC 8881 §18.22.3,
 * §18.32.3, §18.3.3; RFC 7862 §15.x.3): NFS4ERR_ISDIR for a directory,
 * NFS4ERR_SYMLINK for a symbolic link, NFS4ERR_WRONG_TYPE otherwise.
 * attr (may be NULL) receives the attributes.  No locks.
 */
static nfsstat4
io_regular(struct fs *fs, struct fs_inode *ip, struct fs_attr *attr)
{
	struct fs_attr a;
	int err;

	err = fs_getattr(fs, ip, &a);
	if (err)
		return nfs4_errno_to_status(err);
	if (attr)
		*attr = a;
	switch (a.type) {
	case FS_TYPE_REG:
		return NFS4_OK;
	case FS_TYPE_DIR:
		return NFS4ERR_ISDIR;
	case FS_TYPE_LNK:
		return NFS4ERR_SYMLINK;
	default:
		return NFS4ERR_WRONG_TYPE;
	}
}

/* The COMPOUND's client (its session's), or NULL without a session. */
static struct state_client *
io_client(struct nfs4_compound *cs)
{
	return cs->seq.ses ? state_session_client(cs->seq.ses) : NULL;
}

/* Whether sid is one of the two special stateids (RFC 8881 §8.2.3). */
static bool
io_stateid_is_special(const stateid4 *sid)
{
	static const char zero[12], ones[12] = {
		-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	};

	return memcmp(sid->other, zero, sizeof(zero)) == 0 ||
	       memcmp(sid->other, ones, sizeof(ones)) == 0;
}

/*
 * Check sid for an I/O op on ip (RFC 8881 §8.2.2, §8.2.3, §18.22.3): the
 * current-stateid substitution here, everything else in the state
 * layer's state_check_io().  A special (anonymous or READ-bypass)
 * stateid carries no OPEN that checked access, so the caller's permission
 * is checked against the mode bits here (§8.2.3); a real stateid's OPEN
 * did that.  No locks.
 */
static nfsstat4
io_check_stateid(struct nfs4_compound *cs, struct fs_inode *ip,
		 const stateid4 *in, bool write)
{
	stateid4 sid;
	nfsstat4 st;

	st = nfs4_resolve_stateid(cs, in, &sid);
	if (st != NFS4_OK)
		return st;
	st = state_check_io(io_client(cs), fs_inode_number(ip), &sid, write);
	if (st != NFS4_OK || !io_stateid_is_special(&sid))
		return st;
	st = nfs4_check_access(cs, ip, write ? ACCESS4_MODIFY : ACCESS4_READ);
	if (st != NFS4_OK || write)
		return st;
	/*
	 * A read without an OPEN never went through OPEN's delegation
	 * checks: another client's write delegation is recalled first
	 * (RFC 8881 §10.4.4); writes recall in io_break_delegations().
	 */
	return state_break_delegations(io_client(cs), fs_inode_number(ip),
				       false);
}

/*
 * Conflicting delegations of other clients are recalled before a change
 * (RFC 8881 §10.4.4): NFS4ERR_DELAY while they are out.  No locks.
 */
static nfsstat4
io_break_delegations(struct nfs4_compound *cs, struct fs_inode *ip)
{
	return state_break_delegations(io_client(cs), fs_inode_number(ip),
				       true);
}

/*
 * Whether this op may wait for an engine break (layout recall or pin) on
 * ip.  The wait itself is bounded by fs_set_break_wait(), but only a few
 * workers may block at once (rpc_worker_may_block(), so that the
 * LAYOUTRETURNs ending the wait find a worker): when ip has external
 * references and no blocking worker is free, answer NFS4ERR_DELAY now.
 * With no references there is nothing to wait for.  *blocking tells the
 * caller to call rpc_worker_unblock() when done.  No locks.
 */
static nfsstat4
io_may_wait(struct fs_inode *ip, bool *blocking)
{
	*blocking = false;
	if (fs_refset_count(ip) == 0)
		return NFS4_OK;
	if (!rpc_worker_may_block())
		return NFS4ERR_DELAY;
	*blocking = true;
	return NFS4_OK;
}

static void
io_wait_done(bool blocking)
{
	if (blocking)
		rpc_worker_unblock();
}

/* The verifier of this server instance, 0 until first computed. */
static _Atomic uint64_t io_verf;

/* A 64-bit mix (splitmix64's finaliser): spreads small differences. */
static uint64_t
io_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/*
 * The write verifier (RFC 8881 §18.32.3, §18.3.3): the same for every
 * WRITE and COMMIT of this server instance, different after a restart.
 * The boot count alone already differs per start (vol_open() bumps and
 * persists it); the process's first-use time and pid are mixed in so that
 * two starts on volumes restored to the same boot count differ too.
 * Computed once, lock-free (racing first users compute the same kind of
 * value; the first store wins).
 */
static void
io_write_verifier(struct nfs4_compound *cs, verifier4 out)
{
	uint64_t v = atomic_load(&io_verf), expect = 0;

	if (v == 0) {
		struct fs *fs = nfs4_fs(cs);
		uint64_t boot = fs ? vol_boot_count(fs_vol(fs)) : 0;

		v = io_mix64(boot) ^ io_mix64(clock_now_ns() ^
					      ((uint64_t)getpid() << 32));
		if (v == 0)
			v = 1;
		if (!atomic_compare_exchange_strong(&io_verf, &expect, v))
			v = expect;
	}
	memcpy(out, &v, NFS4_VERIFIER_SIZE);
}

/*
 * The reply bytes left for this op's result after overhead (RFC 8881
 * §2.10.6.4): the session's ca_maxresponsesize (ca_maxresponsesize_cached
 * with sa_cachethis) minus what the COMPOUND's results so far take - the
 * same limit as the COMPOUND loop's post-check.  *err is the status for
 * "does not fit" (NFS4ERR_REP_TOO_BIG or _TO_CACHE).  Without a session:
 * no limit here.
 */
static uint32_t
io_reply_bytes(const struct nfs4_compound *cs, uint32_t overhead,
	       nfsstat4 *err)
{
	uint32_t limit = cs->seq.max_resp;

	*err = NFS4ERR_REP_TOO_BIG;
	if (!nfs4_in_session(cs))
		return UINT32_MAX;
	if (cs->seq.cachethis && cs->seq.max_resp_cached < limit) {
		limit = cs->seq.max_resp_cached;
		*err = NFS4ERR_REP_TOO_BIG_TO_CACHE;
	}
	if (cs->resp_size + overhead >= limit)
		return 0;
	return limit - cs->resp_size - overhead;
}

/*
 * The data bytes a READ result may carry (§18.22.3: the server may return
 * less than asked): want cut to IO_MAX_RW and to io_reply_bytes(),
 * rounded down to XDR units.  When a non-empty read can carry no data at
 * all, *st is the reply-size error, not an empty read a client would
 * repeat forever; otherwise NFS4_OK.
 */
static uint32_t
io_reply_room(const struct nfs4_compound *cs, uint32_t overhead,
	      uint32_t want, nfsstat4 *st)
{
	nfsstat4 err;
	uint32_t room = io_reply_bytes(cs, overhead, &err) & ~3u;

	*st = NFS4_OK;
	want = MIN(want, IO_MAX_RW);
	if (want && !room)
		*st = err;
	return MIN(want, room);
}

/* Open the current filehandle as a regular file: *ipp referenced. */
static nfsstat4
io_cur_file(struct nfs4_compound *cs, struct fs_inode **ipp,
	    struct fs_attr *attr)
{
	nfsstat4 st;

	st = nfs4_cur_inode(cs, ipp);
	if (st != NFS4_OK)
		return st;
	st = io_regular(nfs4_fs(cs), *ipp, attr);
	if (st != NFS4_OK) {
		fs_iput(nfs4_fs(cs), *ipp);
		*ipp = NULL;
	}
	return st;
}

/* offset + length stays inside the largest file (and does not wrap). */
static bool
io_range_ok(uint64_t off, uint64_t len)
{
	return off <= FS_MAX_FILE_SIZE && len <= FS_MAX_FILE_SIZE - off;
}

/* --- READ (RFC 8881 §18.22) -------------------------------------------- */

/*
 * Read up to count bytes at off of ip into a fresh buffer: *buf (free()),
 * *len and *eof.  The engine reads holes and INVALID extents as zeros and
 * holds the IOLOCK shared while it copies, so a truncate or hole punch
 * (IOLOCK exclusive) can not free the blocks under the copy: the data is
 * from before or after the change, never from reused blocks.  No locks.
 */
static nfsstat4
io_read_copy(struct fs *fs, struct fs_inode *ip, uint64_t off,
	     uint32_t count, char **buf, uint32_t *len, bool *eof)
{
	size_t nread = 0;
	int err;

	*buf = NULL;
	*len = 0;
	if (count == 0) {
		struct fs_attr a;

		err = fs_getattr(fs, ip, &a);
		if (err)
			return nfs4_errno_to_status(err);
		*eof = off >= a.size;
		return NFS4_OK;
	}
	*buf = malloc(count);
	if (!*buf)
		return NFS4ERR_DELAY;
	err = fs_read(fs, ip, off, count, *buf, &nread, eof);
	if (err) {
		free(*buf);
		*buf = NULL;
		return nfs4_errno_to_status(err);
	}
	*len = (uint32_t)nread;
	return NFS4_OK;
}

/*
 * The pinned read path (DESIGN.md §3, "local DMA pins").  A READ whose
 * range is one READ_WRITE extent hands the reply the bytes in the volume
 * mapping itself, with a pin (fs_pin_range()) on the range that keeps the
 * blocks from being unmapped, freed or reused until the reply no longer
 * needs them.  The READ's encode hook (nfs4_encode_read()) hands the
 * mapped bytes to the reply by reference, so they go from the mapping
 * to the socket without a copy in between, and the pin is dropped when
 * the socket is done with them (io_read_unpin() as the reference's
 * release).  Without a reference (unit tests, an encode failure) the
 * bytes are copied into the reply and nfs4_release_read() drops the pin
 * after the COMPOUND's reply was encoded.
 *
 * Only when the READ is the COMPOUND's last op: the pin is held until the
 * reply is encoded (or sent), and a later op of the same COMPOUND that
 * unmaps the range (SETATTR size, DEALLOCATE) would wait for it forever.
 */

/*
 * Below this a copy is cheaper than pinning and mapping (and the rpc
 * layer copies replies under 1 KiB anyway).
 */
#define IO_PIN_MIN		4096u
/*
 * How long a READ waits for a pending unmap (a truncate breaking layouts)
 * before it takes the copy path instead, which then waits on the IOLOCK
 * like any reader.  Short: waiting here holds a worker for nothing.
 */
#define IO_PIN_WAIT_NS		(10 * NSEC_PER_MSEC)
/*
 * The pin deadline on an RPC event-loop thread (rpc_on_loop_thread()):
 * one already passed (0 would mean "no limit"), so a pin that meets a
 * pending unmap gives up at once and the copy path runs: every
 * connection's I/O waits behind that thread.
 */
#define IO_PIN_NO_WAIT		1u
/* Buckets of the pinned-reply table (READs in flight, a few per worker). */
#define IO_PIN_BUCKETS		64u

/* One pinned READ reply. */
struct io_read_pin {
	struct fs_layoutref	ref;	/* the pin; owner = this record */
	struct fs		*fs;
	struct fs_inode		*ip;	/* counted reference */
	const nfs_resop4	*res;	/* the result whose data it pins */
	struct io_read_pin	*next;	/* bucket chain */
};

/*
 * Pinned replies by result address: nfs4_release_read() gets only the
 * result, so it finds the pin here (a result lives in its COMPOUND's
 * result array from the handler until its release).  Each bucket's mutex
 * protects its chain; nothing else is done under it.
 */
static struct io_pin_bucket {
	struct mutex		mu;
	struct io_read_pin	*head;
} io_pins[IO_PIN_BUCKETS];
static pthread_once_t io_pins_once = PTHREAD_ONCE_INIT;

static void
io_pins_init(void)
{
	for (unsigned i = 0; i < IO_PIN_BUCKETS; i++)
		mutex_init(&io_pins[i].mu, "nfs4.io_pins");
}

static struct io_pin_bucket *
io_pin_bucket(const nfs_resop4 *res)
{
	uintptr_t h = (uintptr_t)res;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	return &io_pins[(h >> 32) % IO_PIN_BUCKETS];
}

static void
io_pin_insert(struct io_read_pin *rec)
{
	struct io_pin_bucket *b = io_pin_bucket(rec->res);

	mutex_lock(&b->mu);
	rec->next = b->head;
	b->head = rec;
	mutex_unlock(&b->mu);
}

/* Unlink and return the record of res, or NULL (a copied reply). */
static struct io_read_pin *
io_pin_remove(const nfs_resop4 *res)
{
	struct io_pin_bucket *b = io_pin_bucket(res);
	struct io_read_pin **pp, *rec = NULL;

	mutex_lock(&b->mu);
	for (pp = &b->head; *pp; pp = &(*pp)->next) {
		if ((*pp)->res == res) {
			rec = *pp;
			*pp = rec->next;
			break;
		}
	}
	mutex_unlock(&b->mu);
	return rec;
}

/*
 * Try the pinned path for [off, off+count) of ip for the READ result res.
 * On true, ok's data points into the mapping, ok->eof is set, and a pin
 * and an inode reference are held until nfs4_release_read(res), or until
 * the socket is done with the bytes if nfs4_encode_read() sent them by
 * reference.  On false nothing is held: use the copy path (small read,
 * not the last op, a hole, an unwritten or split range, at/after EOF, a
 * pending unmap - at once on an event-loop thread).
 * Locks: none held on entry or return; takes ip's MAPLOCK shared around
 * pinning and mapping (fs/refset.h: pin first, then look the map up).
 */
static bool
io_read_pinned(struct nfs4_compound *cs, struct fs *fs, struct fs_inode *ip,
	       uint64_t off, uint32_t count, const nfs_resop4 *res,
	       READ4resok *ok)
{
	struct io_read_pin *rec;
	struct fs_layout_ext ext;
	struct fs_attr attr;
	unsigned held = FS_MAPLOCK_SHARED, n = 0;
	uint64_t len, deadline;
	int err;

	if (count < IO_PIN_MIN || cs->opidx + 1 != cs->opcnt || !fs)
		return false;
	(void)pthread_once(&io_pins_once, io_pins_init);
	rec = calloc(1, sizeof(*rec));
	if (!rec)
		return false;
	deadline = rpc_on_loop_thread() ? IO_PIN_NO_WAIT :
					  clock_now_ns() + IO_PIN_WAIT_NS;
	fs_ilock(ip, held);
	/* A thread can hold no other pin here: the READ is the last op. */
	err = fs_pin_range(ip, &held, &rec->ref, off, count, NULL, rec,
			   deadline);
	if (err) {
		fs_iunlock(ip, held);
		free(rec);
		return false;
	}
	err = fs_layout_map(fs, ip, off, count, false, &ext, 1, &n);
	fs_iunlock(ip, held);
	/*
	 * The size after pinning: a truncate into the pinned range now waits
	 * for the pin, so the file can not shrink below what we send.
	 */
	if (!err)
		err = fs_getattr(fs, ip, &attr);
	if (err || n != 1 || ext.state != FS_EXT_RW || off >= attr.size)
		goto out_unpin;
	len = MIN((uint64_t)count, attr.size - off);
	if (ext.file_off > off || ext.file_off + ext.len < off + len)
		goto out_unpin;

	rec->fs = fs;
	rec->ip = ip;
	rec->res = res;
	fs_ihold(ip);
	io_pin_insert(rec);
	ok->data.data_val = (char *)vol_block_ptr(fs_vol(fs), ext.vol_block) +
			    (off - ext.file_off);
	ok->data.data_len = (u_int)len;
	ok->eof = off + len >= attr.size;
	return true;

out_unpin:
	fs_unpin(ip, &rec->ref);
	free(rec);
	return false;
}

/*
 * READ: stateid checked for reading, count capped at IO_MAX_RW and at
 * what the session's reply size leaves (§18.22.3 lets the server return
 * less), eof when the read reached the end of the file.  A read at or
 * past EOF returns no data and eof (§18.22.3).  No locks.
 */
nfsstat4
nfs4_op_read(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	READ4args *a = &arg->nfs_argop4_u.opread;
	READ4resok *ok = &res->nfs_resop4_u.opread.READ4res_u.resok4;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	uint32_t count;
	bool eof = false;
	nfsstat4 st;

	st = io_cur_file(cs, &ip, NULL);
	if (st != NFS4_OK)
		return st;
	st = io_check_stateid(cs, ip, &a->stateid, false);
	if (st != NFS4_OK)
		goto out_iput;
	count = io_reply_room(cs, IO_READ_RES_OVERHEAD, a->count, &st);
	if (st != NFS4_OK)
		goto out_iput;
	if (a->offset >= FS_MAX_FILE_SIZE)
		count = 0;
	if (io_read_pinned(cs, fs, ip, a->offset, count, res, ok))
		goto out_iput;
	st = io_read_copy(fs, ip, a->offset, count, &ok->data.data_val,
			  &ok->data.data_len, &eof);
	ok->eof = eof;
out_iput:
	fs_iput(fs, ip);
	return st;
}

/*
 * Drop a pinned reply's pin and inode reference and free its record.
 * Also the release of a READ reply sent by reference (ctx is the
 * record): then it runs once the socket has taken the bytes or the reply
 * was dropped, on a worker or the thread that finished the call, never
 * on an event loop.  Locks: none held; fs_unpin() and fs_iput() need none.
 */
static void
io_read_unpin(void *ctx)
{
	struct io_read_pin *rec = ctx;

	fs_unpin(rec->ip, &rec->ref);
	fs_iput(rec->fs, rec->ip);
	free(rec);
}

/*
 * The READ's encode hook (struct nfs4_op_desc.encode; the COMPOUND loop
 * calls it for a last NFS4_OK result when the reply takes references).
 * The result is encoded as xdr_nfs_resop4() would - resop, status, eof,
 * then data as opaque<> - except that the data goes in through
 * io->put_ref(), so it is never copied into the reply buffer:
 *  - a pinned result's bytes are sent from the mapping, and the pin moves
 *    to the reference: io_read_unpin() runs when the socket is done with
 *    them, and nfs4_release_read() no longer finds the record;
 *  - a copied result's buffer is sent as it is and freed after.
 * Either way the result no longer owns its data (nfs4_release_read()
 * finds a NULL pointer).  A reference the reply refuses leaves the result
 * as it was and the reply fails.  Locks: none held.
 */
bool
nfs4_encode_read(XDR *xdrs, nfs_resop4 *res, const struct nfs4_reply_io *io)
{
	READ4res *r = &res->nfs_resop4_u.opread;
	READ4resok *ok = &r->READ4res_u.resok4;
	struct io_read_pin *rec;
	void (*release)(void *);
	void *ctx;

	/*
	 * On the event loop (a READ of at most 64 KiB run inline) copying
	 * is cheaper: the loop hands a reference's release to a worker, a
	 * thread wake per READ, where copying 64 KiB takes microseconds.
	 * nfs4_release_read() drops the pin or frees the copy as usual.
	 */
	if (rpc_on_loop_thread())
		return xdr_nfs_resop4(xdrs, res);
	(void)pthread_once(&io_pins_once, io_pins_init);
	rec = io_pin_remove(res);
	if (rec) {
		release = io_read_unpin;
		ctx = rec;
	} else if (ok->data.data_len) {
		release = free;
		ctx = ok->data.data_val;
	} else {
		return xdr_nfs_resop4(xdrs, res);	/* no data to hand over */
	}
	if (!xdr_nfs_opnum4(xdrs, &res->resop) ||
	    !xdr_nfsstat4(xdrs, &r->status) || !xdr_bool(xdrs, &ok->eof) ||
	    io->put_ref(io->ctx, ok->data.data_val, ok->data.data_len,
			release, ctx) != 0)
		goto out_keep;
	/* Not ours any more; release must not free or unpin it again. */
	ok->data.data_val = NULL;
	ok->data.data_len = 0;
	return true;

out_keep:
	/* The reply fails; nfs4_release_read() releases as before. */
	if (rec)
		io_pin_insert(rec);
	return false;
}

/*
 * Release a READ result after its reply was encoded (NFS4_OK only): drop
 * the pin and inode reference of a pinned reply whose data was copied
 * into the reply, or free the copy.  A pinned reply sent by reference
 * or a copy sent by reference left nothing here (nfs4_encode_read()
 * took the record or the buffer).  Locks: none held; fs_unpin() needs
 * none.
 */
void
nfs4_release_read(nfs_resop4 *res)
{
	READ4resok *ok = &res->nfs_resop4_u.opread.READ4res_u.resok4;
	struct io_read_pin *rec;

	(void)pthread_once(&io_pins_once, io_pins_init);
	rec = io_pin_remove(res);
	if (rec)
		io_read_unpin(rec);
	else
		free(ok->data.data_val);
	ok->data.data_val = NULL;
}

/* --- WRITE (RFC 8881 §18.32) ------------------------------------------- */

static enum fs_stable
io_stable(stable_how4 how)
{
	switch (how) {
	case DATA_SYNC4:
		return FS_DATA_SYNC;
	case FILE_SYNC4:
		return FS_FILE_SYNC;
	default:
		return FS_UNSTABLE;
	}
}

/*
 * WRITE: read-only export -> NFS4ERR_ROFS, stateid checked for writing,
 * conflicting delegations recalled (NFS4ERR_DELAY meanwhile), beyond the
 * largest file -> NFS4ERR_FBIG; the engine breaks conflicting client RW
 * layouts (BREAK_WRITE) and writes.  committed is what was asked: the
 * engine makes DATA_SYNC and FILE_SYNC writes durable before it returns
 * (both include the size change, so a DATA_SYNC write is in fact
 * FILE_SYNC; reporting what was asked is allowed, §18.32.3).  No locks.
 */
nfsstat4
nfs4_op_write(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	WRITE4args *a = &arg->nfs_argop4_u.opwrite;
	WRITE4resok *ok = &res->nfs_resop4_u.opwrite.WRITE4res_u.resok4;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	size_t written = 0;
	bool blocking;
	nfsstat4 st;
	int err;

	st = io_cur_file(cs, &ip, NULL);
	if (st != NFS4_OK)
		return st;
	if (a->stable > FILE_SYNC4) {
		st = NFS4ERR_INVAL;
		goto out_iput;
	}
	st = io_check_stateid(cs, ip, &a->stateid, true);
	if (st != NFS4_OK)
		goto out_iput;
	if (nfs4_export_read_only(cs)) {
		st = NFS4ERR_ROFS;
		goto out_iput;
	}
	if (!io_range_ok(a->offset, a->data.data_len)) {
		st = NFS4ERR_FBIG;
		goto out_iput;
	}
	st = io_break_delegations(cs, ip);
	if (st != NFS4_OK)
		goto out_iput;
	st = io_may_wait(ip, &blocking);
	if (st != NFS4_OK)
		goto out_iput;
	err = 0;
	if (a->data.data_len)
		err = fs_write(fs, ip, a->offset, a->data.data_len,
			       a->data.data_val, io_stable(a->stable),
			       &written);
	io_wait_done(blocking);
	if (err) {
		st = nfs4_errno_to_status(err);
		goto out_iput;
	}
	ok->count = (count4)written;
	ok->committed = a->stable;
	io_write_verifier(cs, ok->writeverf);
out_iput:
	fs_iput(fs, ip);
	return st;
}

/* --- COMMIT (RFC 8881 §18.3) ------------------------------------------- */

/*
 * COMMIT: make unstable writes in [offset, offset+count) durable (count 0:
 * to EOF) and return the write verifier, which tells the client whether
 * its unstable writes survived (§18.3.3).  No stateid.  An offset + count
 * past 2^64 is NFS4ERR_INVAL (§18.3.3).  No locks.
 */
nfsstat4
nfs4_op_commit(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	COMMIT4args *a = &arg->nfs_argop4_u.opcommit;
	COMMIT4resok *ok = &res->nfs_resop4_u.opcommit.COMMIT4res_u.resok4;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	nfsstat4 st;
	int err;

	st = io_cur_file(cs, &ip, NULL);
	if (st != NFS4_OK)
		return st;
	if (a->count && a->offset > UINT64_MAX - a->count) {
		st = NFS4ERR_INVAL;
		goto out_iput;
	}
	err = fs_commit(fs, ip, a->offset, a->count);
	if (err) {
		st = nfs4_errno_to_status(err);
		goto out_iput;
	}
	io_write_verifier(cs, ok->writeverf);
out_iput:
	fs_iput(fs, ip);
	return st;
}

/* --- READ_PLUS (RFC 7862 §15.10) ----------------------------------------- */

/*
 * A READ_PLUS reply has at most this many segments; the client asks again
 * from where the reply stopped (RFC 7862 §15.10.3), so a file of many
 * small holes costs several round trips instead of one huge reply.
 */
#define IO_RP_MAX_SEGS		16u
/* Encoded sizes: content + offset + opaque length / content + off + len. */
#define IO_RP_DATA_SEG		16u
#define IO_RP_HOLE_SEG		20u

/*
 * Fill ok with the segments of [off, ...) of ip: holes (and unwritten
 * extents, which read as zeros) as NFS4_CONTENT_HOLE, data as
 * NFS4_CONTENT_DATA, found with fs_seek() and read with fs_read(), over
 * at most data_max bytes of the file, until budget bytes of encoded
 * segments, IO_RP_MAX_SEGS segments or EOF.
 * rpr_eof when the reply reaches EOF.  A change of the file between the
 * seeks and the reads is harmless: a hole read as data is zeros, data
 * reported as a hole was written after this READ_PLUS began.  No locks.
 */
static nfsstat4
io_read_plus_segs(struct fs *fs, struct fs_inode *ip, uint64_t off,
		  uint32_t data_max, uint32_t budget, read_plus_res4 *ok)
{
	read_plus_content *segs, *seg;
	struct fs_attr attr;
	uint64_t pos = off, end, next;
	unsigned n = 0;
	int err;

	err = fs_getattr(fs, ip, &attr);
	if (err)
		return nfs4_errno_to_status(err);
	ok->rpr_eof = off >= attr.size;
	if (off >= attr.size || data_max == 0)
		return NFS4_OK;
	end = MIN(attr.size, off + data_max);
	segs = calloc(IO_RP_MAX_SEGS, sizeof(*segs));
	if (!segs)
		return NFS4ERR_DELAY;
	while (pos < end && n < IO_RP_MAX_SEGS) {
		err = fs_seek(fs, ip, pos, true, &next);
		if (err == -ENXIO) {
			/* Only a hole is left up to EOF. */
			next = attr.size;
			err = 0;
		}
		if (err)
			break;
		seg = &segs[n];
		if (next > pos) {
			if (budget < IO_RP_HOLE_SEG)
				break;
			budget -= IO_RP_HOLE_SEG;
			next = MIN(next, end);
			seg->rpc_content = NFS4_CONTENT_HOLE;
			seg->read_plus_content_u.rpc_hole.di_offset = pos;
			seg->read_plus_content_u.rpc_hole.di_length = next - pos;
			pos = next;
			n++;
			continue;
		}
		err = fs_seek(fs, ip, pos, false, &next);
		if (err == -ENXIO) {
			next = attr.size;
			err = 0;
		}
		if (err || budget < IO_RP_DATA_SEG + 4)
			break;
		{
			uint64_t want = MIN(MIN(next, end) - pos,
					    (uint64_t)((budget - IO_RP_DATA_SEG) &
						       ~3u));
			size_t got = 0;
			bool e = false;
			char *buf;

			if (want == 0)
				break;
			buf = malloc(want);
			if (!buf) {
				err = -ENOMEM;
				break;
			}
			err = fs_read(fs, ip, pos, want, buf, &got, &e);
			if (err || got == 0) {
				free(buf);
				break;
			}
			seg->rpc_content = NFS4_CONTENT_DATA;
			seg->read_plus_content_u.rpc_data.d_offset = pos;
			seg->read_plus_content_u.rpc_data.d_data.d_data_len =
				(u_int)got;
			seg->read_plus_content_u.rpc_data.d_data.d_data_val =
				buf;
			budget -= IO_RP_DATA_SEG + ROUND_UP((uint32_t)got, 4);
			pos += got;
			n++;
		}
	}
	if (err && n == 0) {
		free(segs);
		return nfs4_errno_to_status(err);
	}
	if (n == 0) {
		free(segs);
		segs = NULL;
	}
	ok->rpr_contents.rpr_contents_len = n;
	ok->rpr_contents.rpr_contents_val = segs;
	ok->rpr_eof = pos >= attr.size;
	return NFS4_OK;
}

/*
 * READ_PLUS (RFC 7862 §15.10): the range from rpa_offset as data and hole
 * segments, at most rpa_count (and IO_MAX_RW, and what the session's reply
 * size leaves) bytes of encoded segments.  At or past EOF: no segment and
 * eof.  Stateid and type checks as READ.  No locks.
 */
nfsstat4
nfs4_op_read_plus(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	READ_PLUS4args *a = &arg->nfs_argop4_u.opread_plus;
	read_plus_res4 *ok = &res->nfs_resop4_u.opread_plus.READ_PLUS4res_u.rp_resok4;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	uint32_t data_max, budget;
	nfsstat4 st, err;

	st = io_cur_file(cs, &ip, NULL);
	if (st != NFS4_OK)
		return st;
	st = io_check_stateid(cs, ip, &a->rpa_stateid, false);
	if (st != NFS4_OK)
		goto out_iput;
	/* resop, status, eof, segment count. */
	budget = io_reply_bytes(cs, 16, &err);
	data_max = MIN(a->rpa_count, IO_MAX_RW);
	if (a->rpa_offset >= FS_MAX_FILE_SIZE)
		data_max = 0;
	if (data_max && budget < IO_RP_DATA_SEG + 4) {
		st = err;
		goto out_iput;
	}
	st = io_read_plus_segs(fs, ip, a->rpa_offset, data_max, budget, ok);
out_iput:
	fs_iput(fs, ip);
	return st;
}

/*
 * Release a READ_PLUS result after encoding (NFS4_OK only): the data
 * segments' buffers and the segment array.  No locks.
 */
void
nfs4_release_read_plus(nfs_resop4 *res)
{
	read_plus_res4 *ok =
		&res->nfs_resop4_u.opread_plus.READ_PLUS4res_u.rp_resok4;

	for (u_int i = 0; i < ok->rpr_contents.rpr_contents_len; i++) {
		read_plus_content *seg = &ok->rpr_contents.rpr_contents_val[i];

		if (seg->rpc_content == NFS4_CONTENT_DATA)
			free(seg->read_plus_content_u.rpc_data.d_data.d_data_val);
	}
	free(ok->rpr_contents.rpr_contents_val);
	ok->rpr_contents.rpr_contents_val = NULL;
	ok->rpr_contents.rpr_contents_len = 0;
}

/* --- SEEK (RFC 7862 §15.11) ---------------------------------------------- */

/*
 * SEEK: the next data or hole at or after sa_offset (INVALID extents are
 * holes).  An offset at or past EOF is NFS4ERR_NXIO (§15.11.3), as is
 * seeking data when only a hole remains (the engine's -ENXIO, like
 * lseek(SEEK_DATA) and knfsd).  sr_eof: the answer is the end of the
 * file.  No locks.
 */
nfsstat4
nfs4_op_seek(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	SEEK4args *a = &arg->nfs_argop4_u.opseek;
	seek_res4 *ok = &res->nfs_resop4_u.opseek.SEEK4res_u.resok4;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	struct fs_attr attr;
	uint64_t where;
	nfsstat4 st;
	int err;

	st = io_cur_file(cs, &ip, NULL);
	if (st != NFS4_OK)
		return st;
	st = io_check_stateid(cs, ip, &a->sa_stateid, false);
	if (st != NFS4_OK)
		goto out_iput;
	if (a->sa_what != NFS4_CONTENT_DATA &&
	    a->sa_what != NFS4_CONTENT_HOLE) {
		st = NFS4ERR_UNION_NOTSUPP;
		goto out_iput;
	}
	err = fs_seek(fs, ip, a->sa_offset, a->sa_what == NFS4_CONTENT_DATA,
		      &where);
	if (!err)
		err = fs_getattr(fs, ip, &attr);
	if (err) {
		st = nfs4_errno_to_status(err);
		goto out_iput;
	}
	ok->sr_offset = where;
	ok->sr_eof = where >= attr.size;
out_iput:
	fs_iput(fs, ip);
	return st;
}

/* --- ALLOCATE, DEALLOCATE (RFC 7862 §15.1, §15.4) ------------------------ */

/* fs_allocate() or fs_deallocate(): the engine call of a space op. */
typedef int (*io_space_fn)(struct fs *fs, struct fs_inode *ip, uint64_t off,
			   uint64_t len);

/*
 * ALLOCATE and DEALLOCATE are one shape: file, stateid for writing,
 * read-only export, range (NFS4ERR_INVAL for an empty one, NFS4ERR_FBIG
 * past the largest file, RFC 7862 §15.1.3, §15.4.3), delegations, a
 * blocking worker when the file has external references, then the
 * engine call fn, which breaks the layouts and pins its map change
 * affects.  No locks.
 */
static nfsstat4
io_space_op(struct nfs4_compound *cs, const stateid4 *sid, uint64_t off,
	    uint64_t len, io_space_fn fn)
{
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *ip;
	bool blocking;
	nfsstat4 st;
	int err;

	st = io_cur_file(cs, &ip, NULL);
	if (st != NFS4_OK)
		return st;
	st = io_check_stateid(cs, ip, sid, true);
	if (st != NFS4_OK)
		goto out_iput;
	if (nfs4_export_read_only(cs)) {
		st = NFS4ERR_ROFS;
		goto out_iput;
	}
	if (len == 0) {
		st = NFS4ERR_INVAL;
		goto out_iput;
	}
	if (!io_range_ok(off, len)) {
		st = NFS4ERR_FBIG;
		goto out_iput;
	}
	st = io_break_delegations(cs, ip);
	if (st != NFS4_OK)
		goto out_iput;
	st = io_may_wait(ip, &blocking);
	if (st != NFS4_OK)
		goto out_iput;
	err = fn(fs, ip, off, len);
	io_wait_done(blocking);
	st = nfs4_errno_to_status(err);
out_iput:
	fs_iput(fs, ip);
	return st;
}

/*
 * ALLOCATE: blocks for [offset, offset+length) are reserved as INVALID
 * extents (read as zeros) and the size grows to cover the range; later
 * writes there can not fail with NFS4ERR_NOSPC.  No locks.
 */
nfsstat4
nfs4_op_allocate(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	ALLOCATE4args *a = &arg->nfs_argop4_u.opallocate;

	(void)res;
	return io_space_op(cs, &a->aa_stateid, a->aa_offset, a->aa_length,
			   fs_allocate);
}

/*
 * DEALLOCATE: punch a hole over [offset, offset+length) (reads as zeros;
 * the size does not change).  fs_deallocate() breaks every layout and pin
 * on the range (BREAK_UNMAP) before the blocks leave the map, which is
 * the one way blocks may be freed (DESIGN.md rule 6).  No locks.
 */
nfsstat4
nfs4_op_deallocate(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	DEALLOCATE4args *a = &arg->nfs_argop4_u.opdeallocate;

	(void)res;
	return io_space_op(cs, &a->da_stateid, a->da_offset, a->da_length,
			   fs_deallocate);
}

/* --- CLONE and COPY (RFC 7862 §15.13, §15.2) ------------------------------ */

/*
 * Source (saved filehandle) and destination (current filehandle) of a
 * CLONE or COPY, both regular files, with their stateids checked (source
 * for reading, destination for writing), the destination's export
 * writable and its delegations recalled.  On NFS4_OK *srcp and *dstp
 * hold references (the same inode twice for a same-file operation) and
 * *sattr has the source's attributes.
 */
static nfsstat4
io_two_files(struct nfs4_compound *cs, const stateid4 *ssid,
	     const stateid4 *dsid, struct fs_inode **srcp,
	     struct fs_inode **dstp, struct fs_attr *sattr)
{
	struct fs *fs = nfs4_fs(cs);
	nfsstat4 st;

	if (cs->saved_fh.len == 0)
		return NFS4ERR_NOFILEHANDLE;
	st = nfs4_saved_inode(cs, srcp);
	if (st != NFS4_OK)
		return st;
	st = io_regular(fs, *srcp, sattr);
	if (st != NFS4_OK)
		goto out_src;
	st = io_cur_file(cs, dstp, NULL);
	if (st != NFS4_OK)
		goto out_src;
	st = io_check_stateid(cs, *srcp, ssid, false);
	if (st != NFS4_OK)
		goto out_dst;
	st = io_check_stateid(cs, *dstp, dsid, true);
	if (st != NFS4_OK)
		goto out_dst;
	if (nfs4_export_read_only(cs)) {
		st = NFS4ERR_ROFS;
		goto out_dst;
	}
	st = io_break_delegations(cs, *dstp);
	if (st != NFS4_OK)
		goto out_dst;
	return NFS4_OK;

out_dst:
	fs_iput(fs, *dstp);
out_src:
	fs_iput(fs, *srcp);
	*srcp = *dstp = NULL;
	return st;
}

/*
 * CLONE: share (here: copy, see docs/fs.md) [src_offset, +count) of the
 * saved filehandle's file onto [dst_offset, +count) of the current one
 * (§15.13.3).  count 0 means to the source's EOF.  Offsets must be
 * multiples of the clone block size (the clone_blksize attribute, the
 * engine's block size) and the count too unless the range ends at the
 * source's EOF; the source range must lie inside the source; a same-file
 * clone must not overlap: each NFS4ERR_INVAL.  No locks.
 */
nfsstat4
nfs4_op_clone(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	CLONE4args *a = &arg->nfs_argop4_u.opclone;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *src, *dst;
	struct fs_attr sattr;
	uint64_t bs, count;
	bool blocking;
	nfsstat4 st;
	int err;

	(void)res;
	st = io_two_files(cs, &a->cl_src_stateid, &a->cl_dst_stateid, &src,
			  &dst, &sattr);
	if (st != NFS4_OK)
		return st;
	bs = fs_block_size(fs);
	count = a->cl_count;
	if (a->cl_src_offset > sattr.size) {
		st = NFS4ERR_INVAL;
		goto out;
	}
	if (count == 0)
		count = sattr.size - a->cl_src_offset;
	if (a->cl_src_offset % bs || a->cl_dst_offset % bs ||
	    count > sattr.size - a->cl_src_offset ||
	    (count % bs && a->cl_src_offset + count != sattr.size) ||
	    !io_range_ok(a->cl_dst_offset, count)) {
		st = NFS4ERR_INVAL;
		goto out;
	}
	if (src == dst && count &&
	    a->cl_src_offset < a->cl_dst_offset + count &&
	    a->cl_dst_offset < a->cl_src_offset + count) {
		st = NFS4ERR_INVAL;
		goto out;
	}
	if (count == 0)
		goto out;
	st = io_may_wait(dst, &blocking);
	if (st != NFS4_OK)
		goto out;
	err = fs_clone(fs, src, a->cl_src_offset, dst, a->cl_dst_offset,
		       count);
	io_wait_done(blocking);
	st = nfs4_errno_to_status(err);
out:
	fs_iput(fs, dst);
	fs_iput(fs, src);
	return st;
}

/*
 * Copy up to count bytes from src at soff to dst at doff, stopping at the
 * source's EOF, and make them durable.  Block-aligned ranges go through
 * fs_clone(), which copies block by block inside the engine (one map
 * change, unwritten source blocks stay holes); anything else, or a range
 * the engine will not clone, through a bounce buffer with unstable writes
 * and one fs_commit() at the end (cheaper than a FILE_SYNC per chunk).
 * *copied gets the bytes now durable in dst.  No locks.
 */
static int
io_copy_data(struct fs *fs, struct fs_inode *src, uint64_t soff,
	     struct fs_inode *dst, uint64_t doff, uint64_t count,
	     uint64_t *copied)
{
	uint64_t bs = fs_block_size(fs);
	char *buf;
	int err = 0;

	*copied = 0;
	if (count && !(soff % bs) && !(doff % bs) && !(count % bs)) {
		err = fs_clone(fs, src, soff, dst, doff, count);
		if (!err) {
			*copied = count;
			return 0;
		}
		if (err != -EINVAL)
			return err;
	}
	buf = malloc(IO_COPY_CHUNK);
	if (!buf)
		return -ENOMEM;
	while (*copied < count) {
		size_t want = (size_t)MIN(count - *copied, IO_COPY_CHUNK);
		size_t got = 0, put = 0;
		bool eof = false;

		err = fs_read(fs, src, soff + *copied, want, buf, &got, &eof);
		if (err || got == 0)
			break;
		err = fs_write(fs, dst, doff + *copied, got, buf, FS_UNSTABLE,
			       &put);
		*copied += put;
		if (err || put < got || eof)
			break;
	}
	free(buf);
	/* What was written is reported, so it must be durable first. */
	if (*copied) {
		int cerr = fs_commit(fs, dst, doff, *copied);

		if (cerr) {
			*copied = 0;
			return cerr;
		}
	}
	return err;
}

/*
 * COPY within this server (§15.2), always synchronous: the reply has an
 * empty wr_callback_id, cr_consecutive and cr_synchronous TRUE, and the
 * data is FILE_SYNC (§15.2.3 lets the server copy synchronously whatever
 * the client asked).  An inter-server copy (a non-empty
 * ca_source_server) is NFS4ERR_NOTSUPP (§15.2.3: inter-server copy is
 * optional; we offer no COPY_NOTIFY either).  count 0 means to the
 * source's EOF; a source offset past EOF is NFS4ERR_INVAL; a range that
 * ends past the source's EOF copies up to EOF (a short copy, which the
 * client sees in wr_count).  A same-file copy onto an overlapping range
 * is NFS4ERR_INVAL.  At most IO_COPY_MAX bytes per COPY.  No locks.
 */
nfsstat4
nfs4_op_copy(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	COPY4args *a = &arg->nfs_argop4_u.opcopy;
	COPY4resok *ok = &res->nfs_resop4_u.opcopy.COPY4res_u.cr_resok4;
	struct fs *fs = nfs4_fs(cs);
	struct fs_inode *src, *dst;
	struct fs_attr sattr;
	uint64_t count, copied = 0;
	bool blocking;
	nfsstat4 st;
	int err;

	if (a->ca_source_server.ca_source_server_len)
		return NFS4ERR_NOTSUPP;
	st = io_two_files(cs, &a->ca_src_stateid, &a->ca_dst_stateid, &src,
			  &dst, &sattr);
	if (st != NFS4_OK)
		return st;
	if (a->ca_src_offset > sattr.size) {
		st = NFS4ERR_INVAL;
		goto out;
	}
	count = sattr.size - a->ca_src_offset;
	if (a->ca_count && a->ca_count < count)
		count = a->ca_count;
	if (!io_range_ok(a->ca_dst_offset, count)) {
		st = NFS4ERR_FBIG;
		goto out;
	}
	if (src == dst && count &&
	    a->ca_src_offset < a->ca_dst_offset + count &&
	    a->ca_dst_offset < a->ca_src_offset + count) {
		st = NFS4ERR_INVAL;
		goto out;
	}
	count = MIN(count, IO_COPY_MAX);
	st = io_may_wait(dst, &blocking);
	if (st != NFS4_OK)
		goto out;
	err = io_copy_data(fs, src, a->ca_src_offset, dst, a->ca_dst_offset,
			   count, &copied);
	io_wait_done(blocking);
	/* Bytes already copied are reported; an error after none is not. */
	if (err && copied == 0) {
		st = nfs4_errno_to_status(err);
		goto out;
	}
	memset(ok, 0, sizeof(*ok));
	ok->cr_response.wr_count = copied;
	ok->cr_response.wr_committed = FILE_SYNC4;
	io_write_verifier(cs, ok->cr_response.wr_writeverf);
	ok->cr_requirements.cr_consecutive = TRUE;
	ok->cr_requirements.cr_synchronous = TRUE;
out:
	fs_iput(fs, dst);
	fs_iput(fs, src);
	return st;
}

/* --- declined operations ----------------------------------------------- */

/*
 * COPY_NOTIFY exists for inter-server copies only (§15.3), which this
 * server does not do: NFS4ERR_NOTSUPP (the op is OPTIONAL, §13).
 */
nfsstat4
nfs4_op_copy_notify(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

/*
 * OFFLOAD_CANCEL and OFFLOAD_STATUS act on asynchronous copies (§15.8,
 * §15.9); every COPY here is synchronous, so no stateid they could name
 * ever exists: NFS4ERR_NOTSUPP, as for a server without asynchronous
 * COPY (both ops are OPTIONAL, RFC 7862 §13).
 */
nfsstat4
nfs4_op_offload_cancel(struct nfs4_compound *cs, nfs_argop4 *arg,
		       nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

/* See nfs4_op_offload_cancel(). */
nfsstat4
nfs4_op_offload_status(struct nfs4_compound *cs, nfs_argop4 *arg,
		       nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}

/*
 * IO_ADVISE (§15.5): hints are advice; the server answers with the hints
 * it will act on, which is none (pmem has no read-ahead or cache to
 * steer): NFS4_OK and an empty bitmap, after the usual file and stateid
 * checks (§15.5.3).  No locks.
 */
nfsstat4
nfs4_op_io_advise(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	IO_ADVISE4args *a = &arg->nfs_argop4_u.opio_advise;
	IO_ADVISE4resok *ok =
		&res->nfs_resop4_u.opio_advise.IO_ADVISE4res_u.resok4;
	struct fs_inode *ip;
	nfsstat4 st;

	st = io_cur_file(cs, &ip, NULL);
	if (st != NFS4_OK)
		return st;
	st = io_check_stateid(cs, ip, &a->iaa_stateid, false);
	fs_iput(nfs4_fs(cs), ip);
	ok->ior_hints.bitmap4_len = 0;
	ok->ior_hints.bitmap4_val = NULL;
	return st;
}

/*
 * WRITE_SAME (§15.12) writes application data blocks; it is OPTIONAL and
 * no Linux client sends it: NFS4ERR_NOTSUPP.
 */
nfsstat4
nfs4_op_write_same(struct nfs4_compound *cs, nfs_argop4 *arg, nfs_resop4 *res)
{
	return nfs4_op_notsupp(cs, arg, res);
}
