/*
 * compiler.h - attributes, assertions and small helpers used everywhere.
 */
#ifndef PMEMNFS_COMMON_COMPILER_H
#define PMEMNFS_COMMON_COMPILER_H

#include <stddef.h>
#include <stdint.h>

/* Internal functions return 0 or a negative errno; ignoring one is a bug. */
#define MUST_CHECK	__attribute__((warn_unused_result))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN	__attribute__((noreturn))
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* <sys/param.h> (pulled in by libtirpc's headers) has the same definitions. */
#ifndef MIN
#define MIN(a, b)	((a) < (b) ? (a) : (b))
#endif
#ifndef MAX
#define MAX(a, b)	((a) > (b) ? (a) : (b))
#endif
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define ROUND_UP(x, a)	((((x) + (a) - 1) / (a)) * (a))

NORETURN void assert_fail(const char *expr, const char *file, int line,
			  const char *func);

/*
 * ASSERT() checks invariants in debug builds only.  Anything that would let
 * bad metadata reach the volume must use an always-on check instead
 * (see fs_shutdown()), never ASSERT().
 */
#ifdef PMEMNFS_DEBUG
#define ASSERT(expr) \
	((expr) ? (void)0 : assert_fail(#expr, __FILE__, __LINE__, __func__))
#else
#define ASSERT(expr) ((void)sizeof(expr))
#endif

/* VERIFY() is always on: for conditions that must never be false in any build. */
#define VERIFY(expr) \
	((expr) ? (void)0 : assert_fail(#expr, __FILE__, __LINE__, __func__))

#endif
