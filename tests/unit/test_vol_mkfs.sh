#!/bin/sh
# test_vol_mkfs.sh - pmemnfs-mkfs: a sparse 64 GiB volume in seconds,
# refusing to re-format without -f, clear errors and exit status 2 for a
# bad command line.  Skips (77) where the file system has no sparse files.
set -u

MKFS="${top_builddir:-.}/tools/mkfs/pmemnfs-mkfs"
[ -x "$MKFS" ] || { echo "SKIP: $MKFS not built"; exit 77; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/pmemnfs-mkfs.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
vol="$dir/vol"
fail=0

bad() {
	echo "FAIL: $*"
	fail=1
}

# Run mkfs; keep status, stdout and stderr.
run() {
	"$MKFS" "$@" >"$dir/out" 2>"$dir/err"
	rc=$?
}

expect() {	# expect RC PATTERN-IN-OUTPUT DESCRIPTION
	if [ "$rc" -ne "$1" ]; then
		bad "$3: exit $rc, want $1"; cat "$dir/out" "$dir/err"
	elif [ -n "$2" ] && ! grep -q -- "$2" "$dir/out" "$dir/err"; then
		bad "$3: output lacks '$2'"; cat "$dir/out" "$dir/err"
	fi
}

# Sparse files?  A 64 GiB hole must not take space.
if ! truncate -s 64G "$dir/probe" 2>/dev/null ||
   [ "$(du -k "$dir/probe" | cut -f1)" -gt 1024 ]; then
	echo "SKIP: $dir does not support sparse 64 GiB files"
	exit 77
fi
rm -f "$dir/probe"

# 1. A new sparse 64 GiB volume, timed.
t0=$(date +%s%N)
run -s 64G "$vol"
t1=$(date +%s%N)
expect 0 "uuid" "format 64G"
ms=$(( (t1 - t0) / 1000000 ))
echo "mkfs of 64 GiB: $ms ms"
[ "$ms" -lt 10000 ] || bad "mkfs of 64 GiB took $ms ms"
[ "$(stat -c %s "$vol")" = 68719476736 ] || bad "size is $(stat -c %s "$vol")"
used=$(du -k "$vol" | cut -f1)
[ "$used" -lt 65536 ] || bad "mkfs wrote $used KiB into a sparse file"
uuid1=$(awk '/uuid/ { print $2 }' "$dir/out")

# 2. Refuses to re-format, names the file; -f forces with a new UUID.
run "$vol"
expect 1 "already holds a pmemnfsd file system" "re-format without -f"
grep -q -- "$vol" "$dir/err" || bad "error does not name $vol"
run -f "$vol"
expect 0 "uuid" "re-format with -f"
uuid2=$(awk '/uuid/ { print $2 }' "$dir/out")
[ -n "$uuid1" ] && [ "$uuid1" != "$uuid2" ] || bad "uuid not renewed ($uuid1, $uuid2)"

# 3. Options that work.
run -f -q -b 64K -l 4M -L test -U 01234567-89ab-cdef-0123-456789abcdef "$vol"
expect 0 "" "-b -l -L -U -q"
[ ! -s "$dir/out" ] || bad "-q printed output"
run -f -L mylabel "$vol"
grep -q "block size    4096" "$dir/out" || bad "block size after reformat"
grep -q "label         mylabel" "$dir/out" || bad "label not shown"
run -f -U 01234567-89ab-cdef-0123-456789abcdef "$vol"
expect 0 "01234567-89ab-cdef-0123-456789abcdef" "-U"
run -h
expect 0 "Usage" "-h"

# 4. Bad command lines: exit 2 and a message that says what is wrong.
run -s abc "$dir/new"
expect 2 "invalid size 'abc'" "bad size"
run -s 1G
expect 2 "missing DEVICE-OR-FILE" "no file"
run -s 1G "$dir/a" "$dir/b"
expect 2 "too many arguments" "two files"
run -b 3000 -s 1G "$dir/new"
expect 2 "invalid block size '3000'" "bad block size"
run -U nope -s 1G "$dir/new"
expect 2 "invalid UUID 'nope'" "bad uuid"
run -Z "$vol"
expect 2 "" "unknown option"
run "$dir/does-not-exist"
expect 2 "does not exist" "new file without -s"
[ ! -e "$dir/new" ] || bad "a failed command line created a file"

# 5. Problems with the volume: exit 1, naming the file.
run -s 1M "$dir/small"
expect 1 "below the minimum" "too small"
grep -q -- "$dir/small" "$dir/err" || bad "error does not name $dir/small"
[ ! -e "$dir/small" ] || bad "a failed mkfs left the file it created"
run -l 100K -f "$vol"
expect 1 "multiples of" "log size not a multiple of 64K"
if command -v flock >/dev/null 2>&1; then
	# a volume in use (as by a running server) is never formatted
	flock -x "$vol" "$MKFS" -f "$vol" >"$dir/out" 2>"$dir/err"
	rc=$?
	expect 1 "in use by another process" "volume in use"
fi
mkdir "$dir/ro" && chmod 555 "$dir/ro"
if [ "$(id -u)" != 0 ]; then
	run -s 16M "$dir/ro/vol"
	expect 1 "$dir/ro/vol" "unwritable directory"
fi

exit $fail
