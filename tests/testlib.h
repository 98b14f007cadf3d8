/*
 * testlib.h - the few macros our C tests share.  A failed CHECK prints the
 * expression and location and marks the test failed; the test keeps going
 * so one run shows every failure.  Exit status: 0 pass, 1 fail, 77 skip
 * (automake's convention).
 */
#ifndef PMEMNFS_TESTLIB_H
#define PMEMNFS_TESTLIB_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(expr) do { \
	if (!(expr)) { \
		fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #expr); \
		test_failures++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long _a = (long long)(a), _b = (long long)(b); \
	if (_a != _b) { \
		fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n", \
			__FILE__, __LINE__, #a, #b, _a, _b); \
		test_failures++; \
	} \
} while (0)

/* Abort the test now: the rest cannot run meaningfully. */
#define REQUIRE(expr) do { \
	if (!(expr)) { \
		fprintf(stderr, "FATAL %s:%d: %s\n", __FILE__, __LINE__, #expr); \
		exit(1); \
	} \
} while (0)

#define TEST_RUN(fn) do { \
	int _before = test_failures; \
	fn(); \
	fprintf(stderr, "%s %s\n", test_failures == _before ? "ok  " : "FAIL", #fn); \
} while (0)

#define TEST_EXIT() return test_failures ? 1 : 0

#endif
