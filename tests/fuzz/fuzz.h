/*
 * fuzz.h - what every fuzz target in tests/fuzz provides and may use.
 *
 * A target is one file that defines LLVMFuzzerTestOneInput() (and, when
 * it needs process-wide set-up, LLVMFuzzerInitialize()).  It is linked
 * either with libFuzzer (tests/fuzz/build.sh: clang, -fsanitize=fuzzer)
 * or with tests/fuzz/driver.c, a main() that runs the target over corpus
 * files, so the normal gcc build compiles every target and replays the
 * seed and regression corpora as an ordinary test (docs/fuzzing.md).
 *
 * Locking: a target's entry points run on one thread, one input at a time.
 * Ownership: data belongs to the caller; a target keeps nothing of it.
 */
#ifndef PMEMNFS_FUZZ_H
#define PMEMNFS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "common/compiler.h"

/* libFuzzer's entry points (declared here for -Wmissing-prototypes). */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * Write size bytes to a fresh file under $TMPDIR (or /tmp) for a parser
 * that reads files; path gets its name (at least 64 bytes).  Returns 0 or
 * -errno.  The caller unlinks it.
 */
int fuzz_write_tmp(const char *tag, const uint8_t *data, size_t size,
		   char *path, size_t pathlen) MUST_CHECK;

/* Give up: print why and abort (a harness that cannot work is a crash). */
NORETURN void fuzz_die(const char *what, int err);

#endif
