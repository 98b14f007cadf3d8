/*
 * record.c - RPC record marking (RFC 5531 §11): an incremental reader that
 * reassembles fragments into one record, and the fragment header writer.
 *
 * Shared by the server's connections and the client library, so it keeps no
 * state outside struct rpc_record_reader and takes no locks: each reader is
 * used by one thread at a time (its owner serialises).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rpc.h"

/*
 * The first allocation for a record.  Most calls (a SEQUENCE+PUTFH+GETATTR
 * compound is ~200 bytes) fit; a fragment header that announces more does not
 * make us allocate it up front, only as the bytes really arrive, so a peer
 * cannot make us reserve max_record by sending four bytes.
 */
#define RECORD_INITIAL_CAP	512u

/* Start an empty reader that accepts records of up to max_record bytes. */
void
rpc_record_reader_init(struct rpc_record_reader *r, uint32_t max_record)
{
	memset(r, 0, sizeof(*r));
	r->max_record = max_record;
}

/* Drop any partial record (and its buffer); keep the limit. */
void
rpc_record_reader_reset(struct rpc_record_reader *r)
{
	uint32_t max = r->max_record;

	free(r->buf);
	rpc_record_reader_init(r, max);
}

/* Release the reader's memory; it may be re-initialised afterwards. */
void
rpc_record_reader_free(struct rpc_record_reader *r)
{
	rpc_record_reader_reset(r);
}

/* Ready: the last fragment's header and all its bytes were consumed. */
static bool
record_ready(const struct rpc_record_reader *r)
{
	return r->last_frag && !r->in_frag && r->hdr_have == 0;
}

static int MUST_CHECK
record_reserve(struct rpc_record_reader *r, uint32_t want)
{
	uint8_t *nbuf;
	uint32_t ncap;

	if (want <= r->cap)
		return 0;
	ncap = r->cap ? r->cap : RECORD_INITIAL_CAP;
	while (ncap < want)
		ncap = ncap > UINT32_MAX / 2 ? UINT32_MAX : ncap * 2;
	/* Never more than the record may ever need. */
	if (ncap > r->max_record)
		ncap = MAX(want, r->max_record);
	nbuf = realloc(r->buf, ncap);
	if (!nbuf)
		return -ENOMEM;
	r->buf = nbuf;
	r->cap = ncap;
	return 0;
}

/*
 * Consume bytes of a record-marked stream.  See rpc.h for the contract.
 * Stops right after the last byte of a complete record so the caller can take
 * it and feed the rest (pipelined calls) into the next one.  After
 * -EMSGSIZE or -ENOMEM the reader is unusable until reset: the stream has
 * lost its framing, so the connection must be closed.
 */
int
rpc_record_reader_feed(struct rpc_record_reader *r, const uint8_t *data,
		       size_t n, size_t *used)
{
	size_t off = 0;
	int err;

	*used = 0;
	if (record_ready(r))
		return 1;
	while (off < n) {
		if (!r->in_frag) {
			uint32_t h, flen;

			while (r->hdr_have < 4 && off < n)
				r->hdr[r->hdr_have++] = data[off++];
			if (r->hdr_have < 4)
				break;
			h = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
			    (uint32_t)r->hdr[2] << 8 | r->hdr[3];
			flen = h & RPC_FRAG_LEN_MASK;
			r->hdr_have = 0;
			if (flen > r->max_record - r->len) {
				*used = off;
				return -EMSGSIZE;
			}
			r->last_frag = (h & RPC_LAST_FRAG) != 0;
			r->frag_left = flen;
			r->in_frag = flen > 0;
			if (!r->in_frag && r->last_frag) {
				*used = off;
				return 1;
			}
			continue;
		}
		size_t chunk = MIN(n - off, (size_t)r->frag_left);

		err = record_reserve(r, r->len + (uint32_t)chunk);
		if (err) {
			*used = off;
			return err;
		}
		memcpy(r->buf + r->len, data + off, chunk);
		r->len += (uint32_t)chunk;
		r->frag_left -= (uint32_t)chunk;
		off += chunk;
		if (r->frag_left == 0) {
			r->in_frag = false;
			if (r->last_frag) {
				*used = off;
				return 1;
			}
		}
	}
	*used = off;
	return 0;
}

/*
 * Hand the completed record to the caller, who frees it with free(); the
 * reader starts on the next record.  An empty record yields *buf == NULL.
 */
void
rpc_record_reader_take(struct rpc_record_reader *r, uint8_t **buf,
		       uint32_t *len)
{
	ASSERT(record_ready(r));
	*buf = r->buf;
	*len = r->len;
	r->buf = NULL;
	rpc_record_reader_init(r, r->max_record);
}

/*
 * Write a fragment header for len body bytes (len < 2^31); last marks the
 * record's final fragment.
 */
void
rpc_record_mark(uint8_t hdr[4], uint32_t len, bool last)
{
	uint32_t h = (len & RPC_FRAG_LEN_MASK) | (last ? RPC_LAST_FRAG : 0);

	hdr[0] = (uint8_t)(h >> 24);
	hdr[1] = (uint8_t)(h >> 16);
	hdr[2] = (uint8_t)(h >> 8);
	hdr[3] = (uint8_t)h;
}
