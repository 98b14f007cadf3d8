#!/bin/sh
# build.sh - build the libFuzzer targets with clang in their own build
# directory, apart from the normal gcc build (docs/fuzzing.md).
#
#   tests/fuzz/build.sh [BUILDDIR]      default: ./fuzz-build
#
# The project's libraries are configured and built there with
# CC=clang and -fsanitize=fuzzer-no-link,address,undefined (coverage
# instrumentation plus ASan and UBSan, debug assertions on), then each
# tests/fuzz/fuzz_*.c is linked with -fsanitize=fuzzer into
# BUILDDIR/tests/fuzz/.  Rerunning only rebuilds what changed.
#
# Environment: FUZZ_CC (default: clang, else clang-14), FUZZ_JOBS (make -j,
# default 2).  Exit status: 0 built, 77 when clang or libFuzzer is missing
# (the reason is printed), 1 when the build failed.
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-fuzz-build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
jobs=${FUZZ_JOBS:-2}

cc=${FUZZ_CC:-}
if [ -z "$cc" ]; then
	for c in clang clang-14 clang-15 clang-16; do
		if command -v "$c" >/dev/null 2>&1; then
			cc=$c
			break
		fi
	done
fi
if [ -z "$cc" ]; then
	echo "build.sh: no clang (Debian: apt-get install clang-14 libclang-rt-14-dev)" >&2
	exit 77
fi

# libFuzzer lives in the compiler-rt package, which clang does not pull in.
probe=$build/probe
mkdir -p "$probe"
cat > "$probe/p.c" <<'PROBE'
#include <stddef.h>
#include <stdint.h>
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return d && n > 9999; }
PROBE
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" \
	>"$probe/log" 2>&1; then
	echo "build.sh: $cc cannot link -fsanitize=fuzzer (Debian: apt-get install libclang-rt-14-dev):" >&2
	sed -n 1,5p "$probe/log" >&2
	exit 77
fi

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
# -O1: the fuzzers need speed; --enable-debug still turns the lock and
# invariant assertions on (its -O0 comes before CFLAGS, which win).
cflags="-g -O1 -fsanitize=fuzzer-no-link $san -DPMEMNFS_SANITIZE=1"
# Known, reported bugs are not reported again (see the file).
cflags="$cflags -fsanitize-ignorelist=$src/tests/fuzz/known_bugs.ignorelist"

[ -x "$src/configure" ] || (cd "$src" && autoreconf -fi >/dev/null 2>&1)
# Reconfigure when the flags change (the sanitizer ignore list is one).
if [ ! -f "$build/Makefile" ] || [ "$src/configure" -nt "$build/Makefile" ] ||
   [ "$(cat "$build/fuzz-cflags" 2>/dev/null)" != "$cflags" ]; then
	rm -f "$build/config.cache"
	(cd "$build" && "$src/configure" -q CC="$cc" CFLAGS="$cflags" \
		LDFLAGS="$san" --enable-debug) || {
		echo "build.sh: configure failed" >&2
		exit 1
	}
	echo "$cflags" > "$build/fuzz-cflags"
	# New flags: every object must be rebuilt with them.
	make -s -C "$build" clean >/dev/null 2>&1 || true
fi

libs="src/nfs4/libnfs4.a src/state/libstate.a src/fs/libfs.a \
src/pmem/libpmemvol.a src/rpc/librpc.a src/xdr/libxdr.a src/common/libcommon.a"
# The generated XDR headers first (a named target does not see BUILT_SOURCES).
make -s -C "$build" -j"$jobs" src/xdr/nfs4_prot.h src/xdr/blocklayout_prot.h
# shellcheck disable=SC2086
make -s -C "$build" -j"$jobs" $libs

syslibs=$(pkg-config --libs libtirpc libpmem libnfsidmap krb5-gssapi)
sysinc=$(pkg-config --cflags libtirpc libpmem libnfsidmap krb5-gssapi)
mkdir -p "$build/tests/fuzz"
common="$src/tests/fuzz/fuzz_util.c $src/tests/fuzz/fuzz_nfs.c"
rc=0
for t in "$src"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$t" .c)
	case $name in fuzz_util|fuzz_nfs) continue ;; esac
	out=$build/tests/fuzz/$name
	# Relink when the target, the helpers or a library is newer.
	# shellcheck disable=SC2086
	newer=$(find "$t" $common "$src/tests/fuzz/fuzz.h" \
		"$src/tests/fuzz/fuzz_nfs.h" \
		$(for l in $libs; do echo "$build/$l"; done) \
		-newer "$out" 2>/dev/null | head -n 1 || true)
	if [ -x "$out" ] && [ -z "$newer" ]; then
		continue
	fi
	echo "  FUZZ     $name"
	# shellcheck disable=SC2086
	if ! "$cc" -std=gnu11 -g -O1 -fsanitize=fuzzer $san -DPMEMNFS_DEBUG=1 \
		-DPMEMNFS_SANITIZE=1 -Wall -Wextra -Wno-unused-parameter \
		-Wno-sign-compare -I"$build" -I"$src/include" \
		-I"$build/src/xdr" -I"$src/tests/fuzz" $sysinc -pthread \
		"$t" $common \
		$(for l in $libs; do echo "$build/$l"; done) $syslibs -pthread \
		-o "$out"; then
		echo "build.sh: $name failed to build" >&2
		rc=1
	fi
done
exit $rc
