#!/bin/sh
# test_vol_pmem_force.sh - run the volume, log and checkpoint tests again
# with PMEM_IS_PMEM_FORCE=1, so the flush+drain (pmem) persistence path is
# exercised on a plain file as well as the msync one.
set -u
dir="${top_builddir:-.}/tests/unit"
rc=0
for t in test_vol test_log test_vol_ckpt; do
	[ -x "$dir/$t" ] || { echo "SKIP: $dir/$t not built"; exit 77; }
	echo "== $t with PMEM_IS_PMEM_FORCE=1"
	PMEM_IS_PMEM_FORCE=1 "$dir/$t" || rc=1
done
exit $rc
