# qemu-lib.sh - the harness of the qemu integration tests, sourced by each
# tests/integration/test_qemu_*.sh.  It
#
#   * makes sure the tools are there (installs the Debian packages with
#     apt-get when run as root, else skips with the reason),
#   * builds or finds the guest (guest-build.sh, cached),
#   * starts pmemnfsd on a free loopback port with a fresh volume, kills,
#     restarts and stops it by PID,
#   * boots the guest with one workload from guest/ and its parameters,
#     captures the console (and, when asked, a packet capture of the
#     guest's network card, decoded by nfswire.py),
#   * turns the guest's "RESULT name pass|fail detail" lines and the host's
#     own checks into ok/FAIL lines, and on failure prints every guest
#     console and server log of the run.
#
# The guest reaches the host's 127.0.0.1:PORT as 10.0.2.2:PORT through
# qemu's user-mode network; the server listens on 127.0.0.1 only.
#
# Environment:
#   PMEMNFS_QEMU_CACHE       guest cache (default ~/.cache/pmemnfsd-qemu)
#   PMEMNFS_QEMU_ACCEL       qemu accelerator (default tcg)
#   PMEMNFS_QEMU_NO_INSTALL  set: never run apt-get, skip instead
#   PMEMNFS_QEMU_KEEP        set: keep the temporary directory
#   PMEMNFSD                 the daemon (default $top_builddir/src/daemon/pmemnfsd)
#   PMEMNFS_QEMU_SERVER_PORT use the NFS server already listening on
#                            127.0.0.1:PORT instead of starting pmemnfsd, to
#                            check the workloads themselves against a
#                            reference server; tests that kill, restart or
#                            share the volume of the server skip

set -u

: "${top_builddir:?run from make check or set top_builddir}"
: "${top_srcdir:?run from make check or set top_srcdir}"
qi_dir="$top_srcdir/tests/integration"
qi_bin=${PMEMNFSD:-$top_builddir/src/daemon/pmemnfsd}
qi_fetch="$top_builddir/tests/integration/nfs_fetch"
qi_cache=${PMEMNFS_QEMU_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/pmemnfsd-qemu}
qi_accel=${PMEMNFS_QEMU_ACCEL:-tcg}

# Packages the tests need on the host (Debian 12): qemu, the guest's
# busybox, cpio and kmod to build it, util-linux for flock, and the
# libraries of nfs-common's binaries that the guest gets copied.
qi_packages=(qemu-system-x86 busybox-static cpio kmod util-linux python3
	libdevmapper1.02.1 libtirpc3 libmount1 libkrb5-3 libnfsidmap1 keyutils
	gcc libc6-dev)

# A guest boot to the init script takes ~6 s under TCG on an idle core;
# with two tests running on two shared cores it can take several times
# that.  Deadlines are per boot and generous: they only bound a hang.
QI_BOOT_DEADLINE=${QI_BOOT_DEADLINE:-240}
# Server start (volume creation included) and clean stop.
# (knfsd-server.sh boots a guest first: give it QI_SERVER_START_DEADLINE=120.)
QI_SERVER_START_DEADLINE=${QI_SERVER_START_DEADLINE:-30}
QI_SERVER_STOP_DEADLINE=20

qi_pass=0 qi_fail=0 qi_external=""
qi_server_pid="" qi_qemu_pid="" qi_port=0 qi_nserver=0 qi_nboot=0
qi_tmp=$(mktemp -d "${TMPDIR:-/tmp}/pmemnfs-qemu.XXXXXX")

qi_cleanup() {
	local p
	for p in $qi_qemu_pid $qi_server_pid; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	if [ -n "${PMEMNFS_QEMU_KEEP:-}" ]; then
		echo "kept $qi_tmp"
	else
		rm -rf "$qi_tmp"
	fi
}
trap qi_cleanup EXIT

ok()  { qi_pass=$((qi_pass + 1)); echo "ok   $*"; }
bad() { qi_fail=$((qi_fail + 1)); echo "FAIL $*"; }
expect() {	# expect NAME CMD...: ok when CMD succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else bad "$name"; fi
}
qi_skip() {
	echo "SKIP: $*"
	exit 77
}
qi_note() {
	echo "# $*"
}

# --- host tools -----------------------------------------------------------

qi_have_tools() {
	local c
	for c in qemu-system-x86_64 cpio depmod modprobe apt-get dpkg-deb \
		 flock python3 "${CC:-gcc}"; do
		command -v "$c" >/dev/null 2>&1 || return 1
	done
	[ -x /bin/busybox ] || return 1
	dpkg-query -W -f='${Status}\n' libdevmapper1.02.1 2>/dev/null |
		grep -q 'install ok installed'
}

# qi_need_tools: install what is missing when root, else skip.
qi_need_tools() {
	qi_have_tools && return 0
	if [ "$(id -u)" != 0 ] || [ -n "${PMEMNFS_QEMU_NO_INSTALL:-}" ]; then
		qi_skip "missing host tools; install: ${qi_packages[*]}"
	fi
	echo "# installing ${qi_packages[*]}"
	(
		# One apt at a time (tests run in parallel under make -j).
		flock 9
		qi_have_tools && exit 0
		export DEBIAN_FRONTEND=noninteractive
		apt-get install -y -qq --no-install-recommends "${qi_packages[@]}" \
			>"$qi_tmp/apt.log" 2>&1 ||
		{ apt-get update -qq >>"$qi_tmp/apt.log" 2>&1 &&
		  apt-get install -y -qq --no-install-recommends "${qi_packages[@]}" \
			>>"$qi_tmp/apt.log" 2>&1; }
	) 9>"${TMPDIR:-/tmp}/pmemnfs-qemu-apt.lock" ||
		qi_skip "apt-get install failed (no network?): $(tail -n 3 "$qi_tmp/apt.log" | tr '\n' ' ')"
	qi_have_tools || qi_skip "tools still missing after apt-get install"
}

# qi_need_guest: build or find the guest; sets qi_guest.
qi_need_guest() {
	local rc=0
	qi_guest=$("$qi_dir/guest-build.sh" "$qi_cache" 2>"$qi_tmp/guest-build.log") || rc=$?
	case $rc in
	0)	qi_note "guest: $qi_guest" ;;
	77)	qi_skip "$(grep SKIP "$qi_tmp/guest-build.log" | head -n 1)" ;;
	*)	cat "$qi_tmp/guest-build.log"
		bad "guest build"
		qi_finish ;;
	esac
}

# --- the server -------------------------------------------------------------

# qi_server_start [ARGS...]: start pmemnfsd on the run's volume (created on
# the first start) and wait for its listening line.  The first start takes
# a free port; later starts (restarts) reuse it, because the guest's mount
# names it.  Returns 1 when the server did not come up.
qi_server_start() {
	local log port=""
	if [ -n "${PMEMNFS_QEMU_SERVER_PORT:-}" ]; then
		qi_port=$PMEMNFS_QEMU_SERVER_PORT
		qi_external=1
		return 0
	fi
	qi_nserver=$((qi_nserver + 1))
	log="$qi_tmp/server.$qi_nserver.log"
	if [ ! -f "$qi_tmp/exports" ]; then
		printf '/ 127.0.0.1(rw,no_root_squash)\n' > "$qi_tmp/exports"
	fi
	"$qi_bin" -f -l 127.0.0.1 -p "$qi_port" -v "$qi_tmp/volume" \
		-o "server.exports=$qi_tmp/exports" -d debug "$@" 2>"$log" &
	qi_server_pid=$!
	qi_server_args=("$@")
	for _ in $(seq 1 $((QI_SERVER_START_DEADLINE * 20))); do
		port=$(sed -n 's/^pmemnfsd: listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log")
		[ -n "$port" ] && break
		kill -0 "$qi_server_pid" 2>/dev/null || break
		sleep 0.05
	done
	if [ -z "$port" ]; then
		# Not up in time: it must not outlive the test.
		kill -KILL "$qi_server_pid" 2>/dev/null
		wait "$qi_server_pid" 2>/dev/null
		qi_server_pid=""
		return 1
	fi
	qi_port=$port
	return 0
}

# qi_server_kill: SIGKILL, as a crash; reaps the process.
qi_server_kill() {
	kill -KILL "$qi_server_pid"
	wait "$qi_server_pid" 2>/dev/null
	qi_server_pid=""
}

# qi_server_stop: SIGTERM and wait; returns the exit status (1 if it had
# to be killed after the deadline).
qi_server_stop() {
	local p=$qi_server_pid rc
	[ -n "$qi_external" ] && return 0
	[ -n "$p" ] || return 1
	kill -TERM "$p"
	for _ in $(seq 1 $((QI_SERVER_STOP_DEADLINE * 20))); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$p" 2>/dev/null; then
		kill -KILL "$p"
		wait "$p" 2>/dev/null
		qi_server_pid=""
		return 1
	fi
	wait "$p"
	rc=$?
	qi_server_pid=""
	return $rc
}

qi_server_alive() {
	[ -n "$qi_external" ] && return 0
	[ -n "$qi_server_pid" ] && kill -0 "$qi_server_pid" 2>/dev/null
}

# qi_need_own_server WHY: skip when the server is an external one.
qi_need_own_server() {
	[ -z "${PMEMNFS_QEMU_SERVER_PORT:-}" ] ||
		qi_skip "PMEMNFS_QEMU_SERVER_PORT is set and this test $1"
}

# qi_probe_file_service: the workloads need the file service.  Exits 77
# only when the server itself answers PUTROOTFH with NFS4ERR_NOTSUPP.
qi_probe_file_service() {
	local out rc=0
	out=$("$qi_fetch" "$qi_port" probe 2>&1) || rc=$?
	case $rc in
	0)	qi_note "file service: $out" ;;
	3)	qi_server_stop
		qi_skip "file service not implemented: the server answers PUTROOTFH with NFS4ERR_NOTSUPP" ;;
	*)	bad "probe PUTROOTFH on the server: $out"
		qi_finish ;;
	esac
}

# --- the guest --------------------------------------------------------------

# qi_boot_start WORKLOAD [--pcap] [--disk] [VAR=VALUE...]: boot the guest
# with guest/wl_WORKLOAD.sh in the background.  --pcap records the guest's
# network traffic; --disk gives the guest the server's volume as /dev/vda.
# Sets qi_console (the console log) and qi_pcap.
qi_boot_start() {
	local wl=$1 w opt disk=() dump=()
	shift
	qi_nboot=$((qi_nboot + 1))
	w="$qi_tmp/boot.$qi_nboot"
	mkdir -p "$w/root/test"
	qi_console="$w/console.log"
	qi_pcap="$w/net.pcap"
	cp "$qi_dir/guest/wl_$wl.sh" "$w/root/test/workload.sh"
	# Client and server share one user database, as in a real site: the
	# guest gets the host's users and groups (the server maps owners with
	# them), and uid/gid 1000 exists for the workloads even where the host
	# has none.  Entries of this archive replace the guest's own.
	mkdir -p "$w/root/etc"
	awk -F: -v OFS=: '{ $7 = "/bin/sh"; print }' /etc/passwd > "$w/root/etc/passwd"
	cp /etc/group "$w/root/etc/group"
	awk -F: '$3 == 1000 { f = 1 } END { exit !f }' /etc/passwd ||
		echo 'tester:x:1000:1000:test user:/tmp:/bin/sh' >> "$w/root/etc/passwd"
	awk -F: '$3 == 1000 { f = 1 } END { exit !f }' /etc/group ||
		echo 'tester:x:1000:' >> "$w/root/etc/group"
	[ -f /etc/idmapd.conf ] && cp /etc/idmapd.conf "$w/root/etc/idmapd.conf"
	echo "PORT=$qi_port" > "$w/root/test/env"
	for opt in "$@"; do
		case $opt in
		--pcap)	dump=(-object "filter-dump,id=dump0,netdev=n0,file=$qi_pcap") ;;
		--disk)	# Page-cache I/O (writethrough), so the guest's block
			# writes and the server's mapping of the same file are
			# coherent at once; no image locking, the server holds
			# its own lock on the volume.
			disk=(-drive "file=$qi_tmp/volume,format=raw,if=virtio,cache=${PMEMNFS_QEMU_DRIVE_CACHE:-writethrough},file.locking=off") ;;
		*=*)	echo "$opt" >> "$w/root/test/env" ;;
		esac
	done
	(cd "$w/root" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) > "$w/test.cpio"
	cat "$qi_guest/base.cpio" "$w/test.cpio" > "$w/initrd"
	: > "$qi_console"
	qemu-system-x86_64 -accel "$qi_accel" -m 1024 -smp 1 -nodefaults \
		-display none -no-reboot -serial "file:$qi_console" \
		-kernel "$qi_guest/vmlinuz" -initrd "$w/initrd" \
		-append "console=ttyS0 panic=-1 loglevel=4" \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
		"${dump[@]}" "${disk[@]}" </dev/null >"$w/qemu.log" 2>&1 &
	qi_qemu_pid=$!
}

# qi_console_wait REGEX DEADLINE_S: wait until a console line matches;
# returns 1 on deadline or when the guest is gone first.
qi_console_wait() {
	local re=$1 end=$((SECONDS + $2))
	while [ $SECONDS -lt "$end" ]; do
		grep -qE "$re" "$qi_console" && return 0
		kill -0 "$qi_qemu_pid" 2>/dev/null || {
			grep -qE "$re" "$qi_console"
			return
		}
		sleep 0.1
	done
	return 1
}

# qi_boot_wait DEADLINE_S: wait for the guest to power off; kill it at the
# deadline.  Returns 0 when the workload ran to its end ("GUEST done").
qi_boot_wait() {
	local end=$((SECONDS + $1))
	while kill -0 "$qi_qemu_pid" 2>/dev/null; do
		if [ $SECONDS -ge "$end" ]; then
			echo "# guest deadline of $1 s passed: killing qemu"
			kill -KILL "$qi_qemu_pid"
			break
		fi
		sleep 0.2
	done
	wait "$qi_qemu_pid" 2>/dev/null
	qi_qemu_pid=""
	# The serial console ends lines with CR LF.
	sed -i 's/\r$//' "$qi_console"
	grep -q '^GUEST done' "$qi_console"
}

# qi_boot WORKLOAD [ARGS...]: qi_boot_start + qi_boot_wait, reported.
qi_boot() {
	local t0=$SECONDS
	qi_boot_start "$@"
	expect "guest ran workload $1 to the end" qi_boot_wait "$QI_BOOT_DEADLINE"
	qi_note "guest run took $((SECONDS - t0)) s"
}

# qi_guest_result NAME: the status word of RESULT NAME (empty if none).
qi_guest_result() {
	sed -n "s/^RESULT $1 \(pass\|fail\).*/\1/p" "$qi_console" | tail -n 1
}

# qi_expect_guest NAME...: each named guest RESULT must be there and pass.
qi_expect_guest() {
	local n line
	for n in "$@"; do
		line=$(grep -E "^RESULT $n (pass|fail)" "$qi_console" | tail -n 1)
		if [ "$(qi_guest_result "$n")" = pass ]; then
			ok "guest: $line"
		else
			bad "guest: ${line:-RESULT $n missing}"
		fi
	done
}

# qi_expect_all_guest [MIN]: every RESULT line of the run passes (each
# failing one is reported), and there are at least MIN of them (a
# workload that stopped early fails).  Named results are reported by
# qi_expect_guest; the smoke and workload tests use both.
qi_expect_all_guest() {
	local min=${1:-1} n=0 nbad=0 line
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		RESULT\ *\ pass*) ;;
		*)	nbad=$((nbad + 1))
			bad "guest: $line" ;;
		esac
	done < <(grep -E '^RESULT [^ ]+ (pass|fail)' "$qi_console")
	expect "guest reported $n results (at least $min), $nbad failed" \
		[ "$n" -ge "$min" -a "$nbad" = 0 ]
}

# qi_info NAME: the value of the guest's "INFO NAME value" line.
qi_info() {
	sed -n "s/^INFO $1 //p" "$qi_console" | tail -n 1
}

# qi_wire: the decoded NFS traffic of the last boot (see nfswire.py).
qi_wire() {
	python3 "$qi_dir/nfswire.py" "$qi_pcap" "$qi_port" \
		"$top_srcdir/src/xdr/nfs4_prot.x"
}

# qi_check_sums [SKIP_REGEX]: every "SUM /mnt/PATH md5" the guest printed
# is compared with the md5 of PATH read back through the server by
# nfs_fetch (a different client, after the guest is gone).
qi_check_sums() {
	local path sum got n=0
	while read -r _ path sum; do
		case $path in /mnt/*) ;; *) continue ;; esac
		n=$((n + 1))
		got=$("$qi_fetch" "$qi_port" cat "${path#/mnt/}" 2>"$qi_tmp/fetch.err" |
			md5sum | cut -d' ' -f1)
		if [ -s "$qi_tmp/fetch.err" ]; then
			bad "server content of ${path#/mnt/}: $(head -c 200 "$qi_tmp/fetch.err")"
		else
			expect "server content of ${path#/mnt/} matches the guest's md5" \
				[ "$got" = "$sum" ]
		fi
	done < <(grep -E '^SUM /mnt/[^ ]+ [0-9a-f]{32}$' "$qi_console")
	expect "guest reported checksums to compare ($n)" [ "$n" -gt 0 ]
}

# qi_finish: print the verdict; on failure every console and server log.
qi_finish() {
	local f
	if [ "$qi_fail" != 0 ]; then
		for f in "$qi_tmp"/boot.*/console.log "$qi_tmp"/server.*.log \
			 "$qi_tmp"/boot.*/qemu.log; do
			[ -s "$f" ] || continue
			echo "===== ${f#$qi_tmp/} ====="
			tail -n 400 "$f"
		done
	fi
	echo "qemu test: $qi_pass checks passed, $qi_fail failed"
	[ "$qi_fail" = 0 ]
	exit
}
