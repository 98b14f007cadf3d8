#!/bin/busybox sh
# init.sh - /init of the qemu test guest (busybox sh, PID 1).
#
# Brings the guest up (file systems, the NFS client modules in the order
# guest-build.sh recorded, the network), then sources the workload the
# harness put in /test/workload.sh with its parameters in /test/env, and
# powers off.  Everything the host judges is a console line of the form
#
#     RESULT <name> pass|fail [detail]
#     INFO <name> <value...>
#     SUM <path> <md5>
#
# written by result(), info() and sum() below; the host never guesses from
# any other output.  "GUEST done" is the last line of a run that did not
# hang; the host's deadline covers the rest.

/bin/busybox mkdir -p /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/pts /dev/shm /root /mnt /mnt2

result() {	# result NAME pass|fail [DETAIL...]
	local name=$1 st=$2
	shift 2
	echo "RESULT $name $st $*"
}
info() {	# info NAME VALUE...
	echo "INFO $*"
}
sum() {		# sum FILE [LABEL]: print the file's md5 under LABEL (default FILE)
	local s
	s=$(md5sum "$1" 2>/dev/null | cut -d' ' -f1)
	echo "SUM ${2:-$1} ${s:-unreadable}"
	[ -n "$s" ]
}
check() {	# check NAME CMD...: RESULT NAME pass if CMD succeeds
	local name=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		result "$name" pass
	else
		result "$name" fail "rc=$? $(head -c 300 /tmp/check.out | tr '\n' ' ')"
		return 1
	fi
}
drop_caches() {
	sync
	echo 3 > /proc/sys/vm/drop_caches
}
# nfs_mount VERS [OPTS] [DIR]: mount the server's root on DIR (/mnt), with
# mount.nfs4 as a user would.  The guest reaches the host's loopback
# server at 10.0.2.2 (qemu user networking) and nothing else.
nfs_mount() {
	local vers=$1 opts=${2:-} dir=${3:-/mnt}
	timeout "${MOUNT_TIMEOUT:-120}" mount.nfs4 "10.0.2.2:/" "$dir" \
		-o "vers=$vers,port=$PORT${opts:+,$opts}" >/tmp/mount.out 2>&1
}
mount_error() {
	head -c 300 /tmp/mount.out | tr '\n' ' '
}
# mountstat OP [DIR]: the count of calls of OP from /proc/self/mountstats
# for the mount on DIR (first number of the per-op line).
mountstat() {
	awk -v op="$1:" -v dir="${2:-/mnt}" '
		$1 == "device" { cur = ($5 == dir) }
		cur && $1 == op { print $2; found = 1; exit }
		END { if (!found) print 0 }' /proc/self/mountstats
}
finish() {
	sync
	echo "GUEST done"
	poweroff -f
	echo o > /proc/sysrq-trigger
	sleep 10
}

echo "GUEST init kernel=$(uname -r)"
result boot pass "$(uname -r)"

nmod=0
modfail=""
for ko in $(cat /etc/modules.order); do
	if insmod "/lib/modules/$(uname -r)/$ko" 2>/tmp/insmod.out; then
		nmod=$((nmod + 1))
	else
		modfail="$modfail $ko($(head -c 100 /tmp/insmod.out | tr '\n' ' '))"
	fi
done
if [ -z "$modfail" ] && grep -qw nfs4 /proc/filesystems &&
   [ -d /sys/module/blocklayoutdriver ]; then
	result modules pass "$nmod modules, nfs4 and blocklayoutdriver loaded"
else
	result modules fail "failed:$modfail"
fi

ip link set lo up
ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 &&
	ip route add default via 10.0.2.2
if ip addr show eth0 | grep -q 'inet 10.0.2.15'; then
	result net pass
else
	result net fail "$(ip addr 2>&1 | tr '\n' ' ')"
fi
hostname "pmemnfs-guest"

# blkmapd reads device-mapper and block devices and talks to the kernel
# through rpc_pipefs, which must be mounted before it starts.
mount -t rpc_pipefs rpc_pipefs /var/lib/nfs/rpc_pipefs

if [ -f /test/env ] && [ -f /test/workload.sh ]; then
	. /test/env
	. /test/workload.sh
else
	result workload fail "no /test/workload.sh in the initramfs"
fi
finish
