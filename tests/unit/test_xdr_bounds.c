/*
 * test_xdr_bounds.c - no variable-length field of the generated XDR is
 * unbounded, and none lets one decoder call allocate more than
 * XDR_ALLOC_CAP.
 *
 * rpcgen's decoders allocate "count * element size" (arrays) or "length"
 * (opaques, strings) before reading the elements, so these products are
 * exactly what a short hostile message can make the server allocate per
 * field.  test_xdr_bounds.tab lists every such call in rpcgen's output; it
 * is extracted at build time by tests/unit/xdr.mk.
 */
#include "config.h"

#include <stdio.h>

#include "nfs4_prot.h"
#include "blocklayout_prot.h"
#include "../testlib.h"

/*
 * The most one field may claim.  The largest legitimate one is a block
 * layout's extent list (32768 extents of 48 bytes, 1.5 MiB).
 */
#define XDR_ALLOC_CAP		(4ULL << 20)

/*
 * Minimum number of calls the table must hold, so that a change in
 * rpcgen's output format cannot make this test pass by finding nothing.
 */
#define MIN_ARRAYS		40
#define MIN_BYTES		25

struct bound {
	const char		*what;
	unsigned long long	bytes;
};

#define XDR_BOUND_ARRAY(b, t) \
	{ #t "<" #b ">", (unsigned long long)(u_int)(b) * sizeof(t) },
#define XDR_BOUND_BYTES(b)
#define XDR_BOUND_UNBOUNDED(n)
static const struct bound arrays[] = {
#include "test_xdr_bounds.tab"
};
#undef XDR_BOUND_ARRAY
#undef XDR_BOUND_BYTES

#define XDR_BOUND_ARRAY(b, t)
#define XDR_BOUND_BYTES(b) { "opaque<" #b ">", (unsigned long long)(u_int)(b) },
static const struct bound bytes[] = {
#include "test_xdr_bounds.tab"
};
#undef XDR_BOUND_BYTES
#undef XDR_BOUND_UNBOUNDED

#define XDR_BOUND_BYTES(b)
#define XDR_BOUND_UNBOUNDED(n) n +
static const unsigned unbounded =
#include "test_xdr_bounds.tab"
	0;

static void
check_list(const struct bound *list, size_t n, size_t min)
{
	const struct bound *max = NULL;
	size_t i;

	CHECK(n >= min);
	for (i = 0; i < n; i++) {
		if (list[i].bytes > XDR_ALLOC_CAP) {
			fprintf(stderr, "%s may allocate %llu bytes\n",
				list[i].what, list[i].bytes);
			CHECK(list[i].bytes <= XDR_ALLOC_CAP);
		}
		if (max == NULL || list[i].bytes > max->bytes)
			max = &list[i];
	}
	if (max != NULL)
		fprintf(stderr, "%zu fields, largest %s: %llu bytes\n", n,
			max->what, max->bytes);
}

static void
test_no_unbounded_field(void)
{
	CHECK_EQ(unbounded, 0);
}

static void
test_array_allocations_capped(void)
{
	check_list(arrays, sizeof(arrays) / sizeof(arrays[0]), MIN_ARRAYS);
}

static void
test_opaque_allocations_capped(void)
{
	check_list(bytes, sizeof(bytes) / sizeof(bytes[0]), MIN_BYTES);
}

int
main(void)
{
	TEST_RUN(test_no_unbounded_field);
	TEST_RUN(test_array_allocations_capped);
	TEST_RUN(test_opaque_allocations_capped);
	TEST_EXIT();
}
