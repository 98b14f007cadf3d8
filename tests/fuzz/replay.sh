#!/bin/sh
# replay.sh - run every fuzz target, built with driver.c by the normal
# build (gcc; ASan/UBSan in the sanitizer configuration), over its seed
# corpus (written by gen_seeds) and its committed corpus
# (tests/fuzz/corpus/TARGET).  A crash, a failed check or a sanitizer
# report fails the test.  Inputs under tests/fuzz/regress/ are not
# replayed here: they reproduce bugs still open (see the README there).
set -eu

: "${top_builddir:?}" "${top_srcdir:?}"
fz=$top_builddir/tests/fuzz
work=$fz/run/replay
rm -rf "$work"
mkdir -p "$work"
"$fz/gen_seeds" "$work/seeds"
# Leaks are failures too (ASan builds; no-op elsewhere).
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top_srcdir/tests/fuzz/known_leaks.supp}
export ASAN_OPTIONS LSAN_OPTIONS

rc=0
for t in rpc compound fattr conf exports; do
	set --
	[ -d "$work/seeds/$t" ] && set -- "$@" "$work/seeds/$t"
	[ -d "$top_srcdir/tests/fuzz/corpus/$t" ] && \
		set -- "$@" "$top_srcdir/tests/fuzz/corpus/$t"
	[ $# -gt 0 ] || continue
	if "$fz/fuzz_$t" "$@" >"$work/$t.log" 2>&1; then
		n=$(grep -c '^running ' "$work/$t.log" || true)
		echo "ok   fuzz_$t: $n inputs"
	else
		echo "FAIL fuzz_$t (log: $work/$t.log):"
		tail -n 40 "$work/$t.log"
		rc=1
	fi
done
exit $rc
