#!/usr/bin/env bash
# run.sh - NFS-Ganesha and pmemnfsd side by side under nfsload (issue 6).
#
# For each storage (tmpfs: Ganesha exports a tmpfs directory and pmemnfsd's
# volume is a tmpfs file treated as pmem, PMEM_IS_PMEM_FORCE=1; disk: both
# on the disk filesystem, pmemnfsd through libpmem's msync path), it starts
# both servers on loopback ports with their own configuration and data
# directory, first runs the memory probes on the fresh servers (per idle
# client, per open, per layout) and the recall storm, then every workload at
# every point RUNS times alternating the two servers (and which goes
# first), with server CPU and RSS from /proc, stops both servers by PID and
# writes the table of medians and ratios.
#
# Needs root (Ganesha's VFS FSAL uses open_by_handle_at) and Debian's
# nfs-ganesha + nfs-ganesha-vfs.  Never touches /etc/ganesha or a system
# service: Ganesha gets a generated config (ganesha.conf.in) and is run in
# the foreground as our child.
#
# Usage: run.sh --builddir DIR [--storage tmpfs|disk|both] [--runs N]
#        [--time S] [--warmup S] [--quick] [--out DIR] [--only LIST]
#        [--memory-only] [--no-memory] [--pmemnfsd-opts "-o KEY=VALUE ..."]
set -u

here=$(cd "$(dirname "$0")" && pwd)
builddir=""
storage=both
runs=3
time_s=5
warmup_s=1
quick=0
only=""
out=""
pmem_size=4G
memory=1
popts=""

usage() {
	sed -n '2,/^set -u/p' "$0" | sed -e 's/^# \{0,1\}//' -e '/^set -u/d'
}

while [ $# -gt 0 ]; do
	case $1 in
	--builddir) builddir=$2; shift ;;
	--storage) storage=$2; shift ;;
	--runs) runs=$2; shift ;;
	--time) time_s=$2; shift ;;
	--warmup) warmup_s=$2; shift ;;
	--quick) quick=1 ;;
	--only) only=$2; shift ;;
	--memory-only) runs=0 ;;
	--no-memory) memory=0 ;;
	--pmemnfsd-opts) popts=$2; shift ;;
	--out) out=$2; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done
[ -n "$builddir" ] || { echo "run.sh: --builddir is required" >&2; exit 2; }
load="$builddir/bench/load/nfsload"
daemon="$builddir/src/daemon/pmemnfsd"
for f in "$load" "$daemon"; do
	[ -x "$f" ] || { echo "run.sh: $f is not built" >&2; exit 2; }
done
command -v ganesha.nfsd >/dev/null || {
	echo "run.sh: ganesha.nfsd missing: apt-get install nfs-ganesha" \
		"nfs-ganesha-vfs" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "run.sh: Ganesha's VFS FSAL needs root" >&2
	exit 2; }
if grep -q "debug" <(sed -n 's/^DEBUG_CFLAGS = //p' "$builddir/Makefile" \
		2>/dev/null); then
	echo "run.sh: warning: $builddir looks like a debug build;" \
		"measure a release build" >&2
fi
[ -n "$out" ] || out="$builddir/bench-load-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
raw="$out/results.txt"
: > "$raw"

# Workload points: "workload:CONNSxDEPTH ...".  Small operations at one
# request and at a full session (16 slots), getattr and read4k also as the
# client count grows (1, 4, 16, 64 connections).
small="sequence getattr lookup open create"
io="read4k read1m write4k-sync write4k-unstable write1m-sync write1m-unstable"
points=""
for w in $small $io; do points="$points $w:1x1 $w:1x16"; done
if [ $quick = 0 ]; then
	for w in getattr read4k; do
		points="$points $w:4x1 $w:16x1 $w:64x1 $w:4x16"
	done
	points="$points layout:1x1 layout:1x16"
fi
if [ -n "$only" ]; then
	sel=""
	for p in $points; do
		case " $only " in *" ${p%%:*} "*) sel="$sel $p" ;; esac
	done
	points=$sel
fi

gpid="" ppid_=""
cleanup() {
	[ -n "$gpid" ] && kill -TERM "$gpid" 2>/dev/null
	[ -n "$ppid_" ] && kill -TERM "$ppid_" 2>/dev/null
	sleep 1
	[ -n "$gpid" ] && kill -KILL "$gpid" 2>/dev/null
	[ -n "$ppid_" ] && kill -KILL "$ppid_" 2>/dev/null
	[ -n "${work:-}" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A TCP port nothing listens on (the kernel picks it, we release it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT PID: until PORT accepts connections (deadline 30 s) or
# PID died.
wait_port() {
	local i
	for i in $(seq 1 300); do
		kill -0 "$2" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

start_ganesha() {	# DIR: export DIR/export; sets gpid gport
	local dir=$1
	mkdir -p "$dir/export" "$dir/state/recov"
	gport=$(free_port)
	sed -e "s|@PORT@|$gport|" -e "s|@EXPORT_DIR@|$dir/export|" \
		-e "s|@STATE_DIR@|$dir/state|" "$here/ganesha.conf.in" \
		> "$dir/state/ganesha.conf"
	ganesha.nfsd -F -f "$dir/state/ganesha.conf" \
		-L "$dir/state/ganesha.log" -p "$dir/state/ganesha.pid" \
		-N NIV_WARN > "$dir/state/ganesha.out" 2>&1 &
	gpid=$!
	wait_port "$gport" "$gpid" || {
		echo "run.sh: ganesha did not start" >&2
		tail -20 "$dir/state/ganesha.log" >&2; exit 1; }
}

start_pmemnfsd() {	# DIR FORCE: volume DIR/volume; sets ppid_ pport
	local dir=$1 force=$2 line
	mkdir -p "$dir"
	if [ "$force" = 1 ]; then
		# shellcheck disable=SC2086 # $popts is a list of options
		PMEM_IS_PMEM_FORCE=1 "$daemon" -f -l 127.0.0.1 -p 0 \
			-v "$dir/volume" -o server.volume_size=$pmem_size \
			$popts 2> "$dir/pmemnfsd.log" &
	else
		# shellcheck disable=SC2086
		"$daemon" -f -l 127.0.0.1 -p 0 -v "$dir/volume" \
			-o server.volume_size=$pmem_size $popts \
			2> "$dir/pmemnfsd.log" &
	fi
	ppid_=$!
	pport=""
	for _ in $(seq 1 600); do
		line=$(sed -n 's/^pmemnfsd: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
			"$dir/pmemnfsd.log")
		[ -n "$line" ] && { pport=$line; break; }
		kill -0 "$ppid_" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$pport" ] || {
		echo "run.sh: pmemnfsd did not start" >&2
		cat "$dir/pmemnfsd.log" >&2; exit 1; }
}

stop_servers() {
	local p
	for p in "$gpid" "$ppid_"; do
		[ -n "$p" ] || continue
		kill -TERM "$p" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	gpid="" ppid_=""
}

# one STORAGE SERVER RUN WORKLOAD CONNS DEPTH: one nfsload run, its RESULT
# line (or a FAILED line with the exit status) appended to $raw.
one() {
	local st=$1 srv=$2 run=$3 wl=$4 c=$5 d=$6 target pid rc log k
	if [ "$srv" = ganesha ]; then
		target="127.0.0.1:$gport:/bench"; pid=$gpid
	else
		target="127.0.0.1:$pport:/"; pid=$ppid_
	fi
	# layout needs one file per request; 1000 files otherwise.
	k=1000
	log="$out/$st-$srv-$wl-${c}x$d-$run.log"
	"$load" -q -w "$warmup_s" -t "$time_s" -c "$c" -d "$d" -k $k \
		-P "$pid" -L "$st/$srv/$run" "$target" "$wl" > "$log" 2>&1
	rc=$?
	if grep -q '^RESULT ' "$log"; then
		grep '^RESULT ' "$log" | sed "s/\$/ rc=$rc/" >> "$raw"
	else
		echo "FAILED label=$st/$srv/$run workload=$wl conns=$c" \
			"depth=$d rc=$rc" >> "$raw"
	fi
	printf '%-6s %-9s run %s %-17s %3sx%-2s rc=%s %s\n' "$st" "$srv" \
		"$run" "$wl" "$c" "$d" "$rc" \
		"$(sed -n 's/^RESULT .*ops_s=\([0-9.]*\) .*/\1 ops\/s/p' "$log" | head -1)"
}

memory() {	# STORAGE SERVER
	local st=$1 srv=$2 target pid wl c rc line
	if [ "$srv" = ganesha ]; then
		target="127.0.0.1:$gport:/bench"; pid=$gpid
	else
		target="127.0.0.1:$pport:/"; pid=$ppid_
	fi
	# On a fresh server (before any load): RSS growth then shows what
	# the objects cost, not what malloc's free lists already hold.
	for wl in idle:200 openhold:4 layouthold:4; do
		c=${wl#*:}
		"$load" -q -c "$c" -k 2000 -P "$pid" -L "$st/$srv/mem" \
			"$target" "${wl%%:*}" > "$out/$st-$srv-${wl%%:*}.log" 2>&1
		grep '^RESULT ' "$out/$st-$srv-${wl%%:*}.log" >> "$raw"
	done
	# The recall storm: 4 clients hold layouts on 100 files, all truncated.
	"$load" -q -c 4 -k 100 -L "$st/$srv/storm" "$target" recall \
		> "$out/$st-$srv-recall.log" 2>&1
	rc=$?
	line=$(grep '^RESULT ' "$out/$st-$srv-recall.log") ||
		line="FAILED label=$st/$srv/storm workload=recall conns=4"
	echo "$line rc=$rc" >> "$raw"
}

bench_storage() {	# STORAGE
	local st=$1 r p wl cd c d first second
	case $st in
	tmpfs) work=$(mktemp -d /dev/shm/pmemnfs-bench.XXXXXX); force=1 ;;
	disk) work=$(mktemp -d /var/tmp/pmemnfs-bench.XXXXXX); force=0 ;;
	esac
	start_ganesha "$work/ganesha"
	start_pmemnfsd "$work/pmemnfsd" "$force"
	echo "== $st: ganesha pid $gpid port $gport, pmemnfsd pid $ppid_" \
		"port $pport, data in $work"
	if [ "$memory" = 1 ]; then
		memory "$st" ganesha
		memory "$st" pmemnfsd
	fi
	for r in $(seq 1 "$runs"); do
		for p in $points; do
			wl=${p%%:*} cd=${p#*:}
			c=${cd%x*} d=${cd#*x}
			# Alternate which server goes first, run by run.
			if [ $((r % 2)) = 1 ]; then
				first=ganesha second=pmemnfsd
			else
				first=pmemnfsd second=ganesha
			fi
			one "$st" "$first" "$r" "$wl" "$c" "$d"
			one "$st" "$second" "$r" "$wl" "$c" "$d"
		done
	done
	stop_servers
	rm -rf "$work"
	work=""
}

if pgrep -x rpcbind >/dev/null; then
	echo "run.sh: note: rpcbind runs; Ganesha will register NFSv4 with it" \
		"(4.3 cannot be told not to)" >&2
fi
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "host: $(uname -r), $(nproc) CPUs: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
	echo "memory: $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
	echo "ganesha: $(dpkg-query -W -f '${Version}' nfs-ganesha 2>/dev/null)"
	echo "pmemnfsd: $(readlink -f "$daemon"), built $(date -u -r "$daemon" '+%H:%M UTC'); source tree at $(git -C "$here/../.." rev-parse --short HEAD 2>/dev/null)"
	echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "runs=$runs time=$time_s warmup=$warmup_s pmemnfsd options: ${popts:-none}"
} > "$out/machine.txt"
cat "$out/machine.txt"

case $storage in
both) bench_storage tmpfs; bench_storage disk ;;
tmpfs|disk) bench_storage "$storage" ;;
*) echo "run.sh: --storage tmpfs|disk|both" >&2; exit 2 ;;
esac
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/machine.txt"
python3 "$here/table.py" "$raw" > "$out/table.md"
cat "$out/table.md"
echo "raw results: $raw; table: $out/table.md"
