#!/usr/bin/env bash
# test_daemon.sh - pmemnfsd as an administrator meets it: the command line,
# config checking (-n) with file:line errors, first start creating the
# volume, the "listening" line, an RPC NULL answered, SIGHUP reloading
# exports (and refusing a broken file), a pid file that blocks a second
# instance, SIGTERM shutting down cleanly, and restart on the same volume.
set -u
bin="$top_builddir/src/daemon/pmemnfsd"
tmp=$(mktemp -d /tmp/pmemnfsd-test.XXXXXX)
pass=0 fail=0
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1"; }
expect() {	# expect NAME COND...
	local name=$1; shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}

# rpc_null PORT: one RPC NULL call to program 100003 v4; prints the reply's
# accept_stat (0 = SUCCESS) or "none".
rpc_null() {
	python3 - "$1" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
body = struct.pack(">IIIIII", 0x1234, 0, 2, 100003, 4, 0) + struct.pack(">IIII", 0, 0, 0, 0)
s.sendall(struct.pack(">I", 0x80000000 | len(body)) + body)
hdr = s.recv(4)
n = struct.unpack(">I", hdr)[0] & 0x7fffffff
data = b""
while len(data) < n:
    chunk = s.recv(n - len(data))
    if not chunk: break
    data += chunk
xid, mtype, rstat, vflav, vlen, astat = struct.unpack(">IIIIII", data[:24])
print(astat if (xid, mtype, rstat) == (0x1234, 1, 0) else "none")
PY
}

# start LOGFILE ARGS...: start in the foreground, wait for the listening
# line (deadline 20 s), set $pid and $port.
start() {
	local log=$1; shift
	"$bin" -f -l 127.0.0.1 -p 0 "$@" 2>"$log" &
	pid=$!
	pids+=("$pid")
	port=""
	for _ in $(seq 1 200); do
		port=$(sed -n 's/^pmemnfsd: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$log")
		[ -n "$port" ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop PID: SIGTERM, wait up to 20 s for a clean exit; echo the status.
stop() {
	local p=$1
	kill -TERM "$p"
	for _ in $(seq 1 200); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	wait "$p"
}

# --- command line and config checking ------------------------------------
"$bin" -h >/dev/null 2>&1; expect "-h exits 0" [ $? = 0 ]
"$bin" -x >/dev/null 2>&1; expect "unknown option exits 2" [ $? = 2 ]
out=$("$bin" -p 99999 2>&1); rc=$?
expect "bad port exits 2 naming it" [ $rc = 2 -a -n "$(echo "$out" | grep -- '-p 99999')" ]

printf '[server]\nport = 2049\n[rpc]\nworkers = 4\n' > "$tmp/good.conf"
out=$("$bin" -n -c "$tmp/good.conf" 2>&1)
expect "-n accepts a good config" [ $? = 0 ]

out=$("$bin" -n -c "$top_srcdir/conf/pmemnfsd.conf" -o "server.exports=$top_srcdir/conf/exports" 2>&1)
expect "-n accepts the shipped example config and exports" [ $? = 0 ]

printf '[server]\nport = 2049\nbogus_key = 1\n' > "$tmp/bad.conf"
out=$("$bin" -n -c "$tmp/bad.conf" 2>&1); rc=$?
expect "-n rejects an unknown key with file:line" \
	[ $rc != 0 -a -n "$(echo "$out" | grep "$tmp/bad.conf:3: unknown key 'bogus_key'")" ]

printf '[rpc]\nworkers = 4\nblocking_workers = 4\n' > "$tmp/cross.conf"
out=$("$bin" -n -c "$tmp/cross.conf" 2>&1); rc=$?
expect "-n rejects blocking_workers >= workers" \
	[ $rc != 0 -a -n "$(echo "$out" | grep 'blocking_workers')" ]

out=$("$bin" -n -c "$tmp/missing.conf" 2>&1); rc=$?
expect "-n reports a missing config file" \
	[ $rc != 0 -a -n "$(echo "$out" | grep "$tmp/missing.conf: cannot open")" ]

out=$("$bin" -n -o nfs4.lease_time=1 2>&1); rc=$?
expect "-o out-of-range value rejected" \
	[ $rc != 0 -a -n "$(echo "$out" | grep 'nfs4.lease_time')" ]

printf '/ 127.0.0.1(rw,nosuchoption)\n' > "$tmp/bad.exports"
out=$("$bin" -n -o "server.exports=$tmp/bad.exports" 2>&1); rc=$?
expect "-n rejects a bad exports file with file:line" \
	[ $rc != 0 -a -n "$(echo "$out" | grep "$tmp/bad.exports:1: unknown export option 'nosuchoption'")" ]

# --- first start creates the volume; RPC NULL answered --------------------
printf '/ 127.0.0.1(rw,no_root_squash)\n' > "$tmp/exports"
if start "$tmp/log1" -v "$tmp/vol" -P "$tmp/pid" -o "server.exports=$tmp/exports" \
	-o server.volume_size=64M; then
	ok "first start listens"
	expect "volume file created" [ -s "$tmp/vol" ]
	expect "pid file written" [ "$(cat "$tmp/pid" 2>/dev/null)" = "$pid" ]
	expect "RPC NULL answered SUCCESS" [ "$(rpc_null "$port")" = 0 ]

	# pmemnfsctl reaches the control socket next to the volume.
	ctl="$top_builddir/tools/ctl/pmemnfsctl"
	out=$("$ctl" -v "$tmp/vol" status 2>&1)
	expect "pmemnfsctl status names the volume" \
		[ -n "$(echo "$out" | grep "^volume $tmp/vol$")" ]
	expect "control socket is private (0600)" \
		[ "$(stat -c %a "$tmp/vol.ctl")" = 600 ]
	out=$("$ctl" -v "$tmp/vol" fs 2>&1)
	expect "pmemnfsctl fs reports blocks" [ -n "$(echo "$out" | grep '^blocks_total [1-9]')" ]
	out=$("$ctl" -v "$tmp/vol" rpc 2>&1)
	expect "pmemnfsctl rpc counts our NULL call" [ -n "$(echo "$out" | grep '^calls [1-9]')" ]
	out=$("$ctl" -v "$tmp/vol" refs 2>&1)
	expect "pmemnfsctl refs reports counters" [ -n "$(echo "$out" | grep '^refs 0$')" ]
	"$ctl" -v "$tmp/vol" checkpoint >/dev/null 2>&1
	expect "pmemnfsctl checkpoint succeeds" [ $? = 0 ]
	out=$("$ctl" -v "$tmp/vol" frobnicate 2>&1); rc=$?
	expect "pmemnfsctl unknown command fails clearly" \
		[ $rc = 1 -a -n "$(echo "$out" | grep "unknown command 'frobnicate'")" ]
	out=$("$ctl" -v "$tmp/nosuch" status 2>&1); rc=$?
	expect "pmemnfsctl without a server says so" \
		[ $rc = 1 -a -n "$(echo "$out" | grep 'is pmemnfsd running')" ]

	# A second instance with the same pid file must refuse to start.
	"$bin" -f -l 127.0.0.1 -p 0 -v "$tmp/vol2" -P "$tmp/pid" 2>"$tmp/log2" &
	p2=$!; pids+=("$p2")
	wait "$p2"; rc=$?
	expect "second instance with the same pid file refused" \
		[ $rc != 0 -a -n "$(grep 'another pmemnfsd is running' "$tmp/log2")" ]

	# SIGHUP with a good file reloads; with a broken file keeps the old one.
	kill -HUP "$pid"
	for _ in $(seq 1 100); do grep -q 'exports reloaded' "$tmp/log1" && break; sleep 0.1; done
	expect "SIGHUP reloads exports" grep -q 'exports reloaded' "$tmp/log1"
	printf '/ 127.0.0.1(rw,garbage)\n' > "$tmp/exports"
	kill -HUP "$pid"
	for _ in $(seq 1 100); do grep -q 'keeping the old exports' "$tmp/log1" && break; sleep 0.1; done
	expect "SIGHUP with a broken file keeps the old exports" \
		grep -q "exports:1: unknown export option 'garbage'" "$tmp/log1"
	expect "still serving after a bad reload" [ "$(rpc_null "$port")" = 0 ]

	stop "$pid"; rc=$?
	expect "SIGTERM exits 0" [ $rc = 0 ]
	expect "pid file removed" [ ! -e "$tmp/pid" ]
	expect "control socket removed" [ ! -e "$tmp/vol.ctl" ]
else
	bad "first start listens"; cat "$tmp/log1"
fi

# --- restart on the same volume ------------------------------------------
if start "$tmp/log3" -v "$tmp/vol"; then
	ok "restart on the existing volume"
	expect "RPC NULL after restart" [ "$(rpc_null "$port")" = 0 ]
	stop "$pid"; expect "second SIGTERM exits 0" [ $? = 0 ]
else
	bad "restart on the existing volume"; cat "$tmp/log3"
fi

# --- background mode: the parent returns once the child serves -----------
"$bin" -l 127.0.0.1 -p 0 -v "$tmp/vol" -P "$tmp/bgpid" 2>"$tmp/log5"; rc=$?
expect "background start returns 0" [ $rc = 0 ]
bgpid=$(cat "$tmp/bgpid" 2>/dev/null)
if [ -n "$bgpid" ] && kill -0 "$bgpid" 2>/dev/null; then
	ok "background daemon is running with its pid in the pid file"
	pids+=("$bgpid")
	bgport=$(sed -n 's/^pmemnfsd: listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$tmp/log5")
	expect "background daemon answers RPC NULL" [ "$(rpc_null "$bgport")" = 0 ]
	kill -TERM "$bgpid"
	for _ in $(seq 1 200); do kill -0 "$bgpid" 2>/dev/null || break; sleep 0.1; done
	expect "background daemon stops on SIGTERM" eval '! kill -0 "$bgpid" 2>/dev/null'
	expect "and removes its pid file" [ ! -e "$tmp/bgpid" ]
else
	bad "background daemon is running with its pid in the pid file"; cat "$tmp/log5"
fi

# A file that is not a volume is never formatted over.
head -c 1048576 /dev/urandom > "$tmp/notavol"
cp "$tmp/notavol" "$tmp/notavol.orig"
"$bin" -f -l 127.0.0.1 -p 0 -v "$tmp/notavol" 2>"$tmp/log4"; rc=$?
expect "refuses a file that holds no volume" [ $rc != 0 ]
expect "and leaves it untouched" cmp -s "$tmp/notavol" "$tmp/notavol.orig"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
