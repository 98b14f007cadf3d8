/*
 * inject.c - named persist points and crash injection.
 *
 * Every persist barrier of the engine goes through vol_inject_point() with
 * a tag.  Armed with PMEMNFS_INJECT ("N", "tag:N", "prefix*:N", optionally
 * followed by ":torn"), the process _exit()s just before the Nth matching
 * point, so a crash test can stop a sequence at each of its barriers in
 * turn.  On a plain file the bytes written before the barrier are still in
 * the page cache and so survive the _exit(): that is the "the stores
 * happened to reach the media" outcome.  ":torn" covers the other outcome:
 * the second half of the range being persisted is scribbled over before
 * the exit, as if those cache lines never reached the media.  Ranges of at
 * most 8 bytes are single atomic stores and are never torn.
 *
 * Counting is lock-free (atomics): persist points run on every thread and
 * must not serialize on a lock of their own.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "vol_impl.h"

/* Distinct tags we count separately; the engine has a few dozen. */
#define INJECT_MAX_TAGS	256
#define INJECT_TAG_LEN	64
/* Byte written over the lost half of a torn persist. */
#define INJECT_TORN_BYTE 0x5a

struct inject_slot {
	_Atomic(const char *)	tag;
	_Atomic uint64_t	count;
};

static struct inject_slot inject_slots[INJECT_MAX_TAGS];
static _Atomic uint64_t inject_total;

/* The armed spec; written only by vol_inject_parse(), before threads run. */
static struct {
	bool		armed;
	bool		any_tag;
	bool		prefix;
	bool		torn;
	char		tag[INJECT_TAG_LEN];
	uint64_t	n;
} inject_spec;
static _Atomic uint64_t inject_hits;
static _Atomic bool inject_env_read;

static bool
pattern_match(const char *pattern, size_t plen, bool prefix, const char *tag)
{
	if (prefix)
		return strncmp(tag, pattern, plen) == 0;
	return strlen(tag) == plen && memcmp(tag, pattern, plen) == 0;
}

static struct inject_slot *
slot_find(const char *tag)
{
	for (int i = 0; i < INJECT_MAX_TAGS; i++) {
		const char *t = atomic_load(&inject_slots[i].tag);

		if (t == NULL) {
			const char *expect = NULL;

			if (atomic_compare_exchange_strong(&inject_slots[i].tag,
							   &expect, tag))
				return &inject_slots[i];
			t = expect;	/* another thread took it: compare */
		}
		if (t == tag || strcmp(t, tag) == 0)
			return &inject_slots[i];
	}
	return NULL;	/* table full: counted only in the total */
}

/*
 * Parse a spec (see vol.h).  Not thread-safe against running persist
 * points: call it before the volume is used.  Returns 0 or -EINVAL.
 */
int
vol_inject_parse(const char *spec)
{
	const char *colon, *num;
	char *end;
	unsigned long long n;
	size_t tlen = 0;
	bool torn = false;
	char buf[INJECT_TAG_LEN + 32];

	atomic_store(&inject_env_read, true);
	memset(&inject_spec, 0, sizeof(inject_spec));
	atomic_store(&inject_hits, 0);
	if (spec == NULL || *spec == '\0')
		return 0;
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, spec);
	/* optional ":torn" suffix */
	tlen = strlen(buf);
	if (tlen > 5 && strcmp(buf + tlen - 5, ":torn") == 0) {
		torn = true;
		buf[tlen - 5] = '\0';
	}
	colon = strrchr(buf, ':');
	num = colon ? colon + 1 : buf;
	if (*num < '0' || *num > '9')
		return -EINVAL;
	errno = 0;
	n = strtoull(num, &end, 10);
	if (errno || *end != '\0' || n == 0)
		return -EINVAL;
	if (colon) {
		tlen = (size_t)(colon - buf);
		if (tlen == 0 || tlen >= INJECT_TAG_LEN)
			return -EINVAL;
		if (buf[tlen - 1] == '*') {
			inject_spec.prefix = true;
			tlen--;
		}
		memcpy(inject_spec.tag, buf, tlen);
		inject_spec.tag[tlen] = '\0';
	} else {
		inject_spec.any_tag = true;
	}
	inject_spec.n = n;
	inject_spec.torn = torn;
	inject_spec.armed = true;
	return 0;
}

/*
 * Read PMEMNFS_INJECT once per process, unless a test already called
 * vol_inject_parse().  Returns 0 or -EINVAL (the message names the spec).
 */
int
vol_inject_env(void)
{
	const char *spec;
	int err;

	if (atomic_exchange(&inject_env_read, true))
		return 0;
	spec = getenv("PMEMNFS_INJECT");
	err = vol_inject_parse(spec);
	if (err) {
		log_error("PMEMNFS_INJECT=\"%s\": expected N, tag:N or "
			  "prefix*:N, optionally followed by :torn", spec);
		return err;
	}
	if (inject_spec.armed)
		log_warn("fault injection armed: PMEMNFS_INJECT=%s", spec);
	return 0;
}

/*
 * A persist point: count it and, if it is the armed one, die before the
 * barrier (see the top of this file).  Locks: none.
 */
void
vol_inject_point(const char *tag, void *addr, size_t len)
{
	struct inject_slot *s = slot_find(tag);

	atomic_fetch_add(&inject_total, 1);
	if (s)
		atomic_fetch_add(&s->count, 1);
	if (!inject_spec.armed)
		return;
	if (!inject_spec.any_tag &&
	    !pattern_match(inject_spec.tag, strlen(inject_spec.tag),
			   inject_spec.prefix, tag))
		return;
	if (atomic_fetch_add(&inject_hits, 1) + 1 != inject_spec.n)
		return;
	if (inject_spec.torn && len > 8 && addr)
		memset((char *)addr + len / 2, INJECT_TORN_BYTE, len - len / 2);
	_exit(VOL_INJECT_EXIT);
}

/*
 * Persist points reached in this process whose tag matches pattern
 * (NULL: all).  Locks: none.
 */
uint64_t
vol_inject_count(const char *pattern)
{
	uint64_t sum = 0;
	size_t plen;
	bool prefix = false;

	if (pattern == NULL)
		return atomic_load(&inject_total);
	plen = strlen(pattern);
	if (plen && pattern[plen - 1] == '*') {
		prefix = true;
		plen--;
	}
	for (int i = 0; i < INJECT_MAX_TAGS; i++) {
		const char *t = atomic_load(&inject_slots[i].tag);

		if (t == NULL)
			break;
		if (pattern_match(pattern, plen, prefix, t))
			sum += atomic_load(&inject_slots[i].count);
	}
	return sum;
}

/* Zero every count (tests). Locks: none; no persist may run concurrently. */
void
vol_inject_reset(void)
{
	for (int i = 0; i < INJECT_MAX_TAGS; i++)
		atomic_store(&inject_slots[i].count, 0);
	atomic_store(&inject_total, 0);
	atomic_store(&inject_hits, 0);
}
