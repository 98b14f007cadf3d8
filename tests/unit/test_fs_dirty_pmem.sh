#!/bin/sh
# test_fs_dirty_pmem.sh - test_fs_dirty with PMEM_IS_PMEM_FORCE=1: on a
# mapping libpmem treats as pmem, unstable overwrites are persisted at
# WRITE time and COMMIT finds nothing to flush (--expect-pmem fails the
# run if the volume did not come up as pmem).
set -u
t="${top_builddir:-.}/tests/unit/test_fs_dirty"
[ -x "$t" ] || { echo "SKIP: $t not built"; exit 77; }
PMEM_IS_PMEM_FORCE=1 "$t" --expect-pmem
