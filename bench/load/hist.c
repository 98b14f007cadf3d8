/*
 * hist.c - log-linear latency histograms for nfsload.  One per connection,
 * written by its receive thread alone, merged by the main thread at the end,
 * so there is no locking and no atomic on the hot path.
 */
#include "config.h"

#include "load.h"

/* Bucket of ns: exact below 2^SUB_BITS, then 2^SUB_BITS per octave. */
static unsigned
hist_index(uint64_t ns)
{
	unsigned msb, shift, idx;

	if (ns < (1u << LD_HIST_SUB_BITS))
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	if (msb >= LD_HIST_MAX_BITS)
		return LD_HIST_BUCKETS - 1;
	shift = msb - LD_HIST_SUB_BITS;
	/* (shift + 1) octaves above the exact range, sub-bucket below msb. */
	idx = ((shift + 1) << LD_HIST_SUB_BITS) +
	      (unsigned)((ns >> shift) & ((1u << LD_HIST_SUB_BITS) - 1));
	return idx < LD_HIST_BUCKETS ? idx : LD_HIST_BUCKETS - 1;
}

/* Largest value that falls in bucket idx (the inverse of hist_index). */
static uint64_t
hist_upper(unsigned idx)
{
	unsigned octave = idx >> LD_HIST_SUB_BITS;
	uint64_t sub = idx & ((1u << LD_HIST_SUB_BITS) - 1);
	unsigned shift;

	if (octave == 0)
		return sub;
	shift = octave - 1;
	return (((1ull << LD_HIST_SUB_BITS) + sub + 1) << shift) - 1;
}

/* See load.h.  Locks: the caller is the histogram's only writer. */
void
ld_hist_add(struct ld_hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->bucket[hist_index(ns)]++;
}

/* See load.h.  Locks: neither histogram is being written. */
void
ld_hist_merge(struct ld_hist *into, const struct ld_hist *from)
{
	unsigned i;

	into->count += from->count;
	into->sum_ns += from->sum_ns;
	if (from->max_ns > into->max_ns)
		into->max_ns = from->max_ns;
	for (i = 0; i < LD_HIST_BUCKETS; i++)
		into->bucket[i] += from->bucket[i];
}

/* See load.h. */
uint64_t
ld_hist_quantile(const struct ld_hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned i;

	if (!h->count)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.5);
	if (want < 1)
		want = 1;
	for (i = 0; i < LD_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		/* The last bucket also holds everything beyond its range. */
		if (seen >= want)
			return i == LD_HIST_BUCKETS - 1 ?
				       h->max_ns : MIN(hist_upper(i), h->max_ns);
	}
	return h->max_ns;
}
