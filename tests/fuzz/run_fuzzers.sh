#!/bin/sh
# run_fuzzers.sh - a CI-sized fuzzing run: build the libFuzzer targets with
# clang (build.sh, in $top_builddir/tests/fuzz/clang-build, reused between
# runs) and fuzz each for FUZZ_SECONDS (default 20) from its seed corpus
# (gen_seeds) plus the committed corpus, in a scratch copy.  Any crash,
# leak, sanitizer report, failed check or input slower than FUZZ_TIMEOUT
# seconds fails the test; the input that did it is left in the scratch
# directory and printed.
#
# Long mode: FUZZ_SECONDS=600 make check TESTS=tests/fuzz/run_fuzzers.sh
# FUZZ_TARGETS="rpc compound" picks targets.  Skips (77) when clang or
# libFuzzer is missing, and in the --enable-sanitizers configuration (CI
# builds both; one fuzzing run is enough, and the replay test covers the
# sanitizer build).
set -eu

: "${top_builddir:?}" "${top_srcdir:?}"
secs=${FUZZ_SECONDS:-20}
tmo=${FUZZ_TIMEOUT:-25}
targets=${FUZZ_TARGETS:-rpc compound fattr conf exports}
fz=$top_builddir/tests/fuzz
work=$fz/run/fuzz

if grep -q -- '--enable-sanitizers' "$top_builddir/config.status" 2>/dev/null &&
   [ -z "${FUZZ_FORCE:-}" ]; then
	echo "run_fuzzers.sh: sanitizer configuration; the debug build runs the fuzzers (FUZZ_FORCE=1 to run here)"
	exit 77
fi

build=$fz/clang-build
rc=0
sh "$top_srcdir/tests/fuzz/build.sh" "$build" >"$fz/clang-build.log" 2>&1 || rc=$?
if [ $rc = 77 ]; then
	echo "run_fuzzers.sh: skipped: $(tail -n 1 "$fz/clang-build.log")"
	exit 77
fi
if [ $rc != 0 ]; then
	echo "run_fuzzers.sh: the clang build failed:"
	tail -n 40 "$fz/clang-build.log"
	exit 1
fi

rm -rf "$work"
mkdir -p "$work"
"$fz/gen_seeds" "$work/seeds"
# Leaks of bugs already reported do not fail the run (see the file).
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top_srcdir/tests/fuzz/known_leaks.supp}
export LSAN_OPTIONS
rc=0
for t in $targets; do
	corpus=$work/corpus-$t
	mkdir -p "$corpus" "$work/artifacts-$t"
	[ -d "$work/seeds/$t" ] && cp "$work/seeds/$t"/* "$corpus"/
	[ -d "$top_srcdir/tests/fuzz/corpus/$t" ] && \
		cp "$top_srcdir/tests/fuzz/corpus/$t"/* "$corpus"/
	log=$work/$t.log
	if (cd "$work" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$secs" \
		-timeout="$tmo" -rss_limit_mb=2048 -max_len=16384 \
		-print_final_stats=1 \
		-artifact_prefix="$work/artifacts-$t/" "$corpus") \
		>"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
		cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
		echo "ok   fuzz_$t: ${runs:-?} inputs in ${secs}s, coverage ${cov:-?}"
	else
		echo "FAIL fuzz_$t (log: $log):"
		grep -E -A 30 'ERROR|runtime error|ALARM|assert|fuzz harness|fuzz_' "$log" | head -n 60
		ls "$work/artifacts-$t"
		rc=1
	fi
done
exit $rc
