#!/usr/bin/env bash
# knfsd-server.sh - a reference server for the qemu tests: Linux 6.1's
# knfsd exporting an XFS file system with pNFS block layouts ("pnfs"
# export option), in a qemu guest whose port 2049 is forwarded to the
# host's 127.0.0.1:PORT.  It takes pmemnfsd's command line (-p PORT and
# -v VOLUME are used, -o nfs4.lease_time=N and nfs4.grace_time=N are
# passed on, the rest is ignored) and prints pmemnfsd's "listening" line
# once knfsd serves, so that
#
#     PMEMNFSD=$top_srcdir/tests/integration/knfsd-server.sh make check-qemu
#
# runs every workload against knfsd, to tell a workload's mistake from a
# pmemnfsd bug, and to see what a pNFS block server makes the Linux client
# do.  VOLUME is formatted as XFS when it holds none; the client guest of
# workload 4 gets the same file as its /dev/vda.  The process becomes qemu:
# SIGKILL is a power loss of the server machine (XFS log recovery and
# knfsd's grace period on restart: workload 2), SIGTERM ends it.
#
# Needs what the qemu tests need plus xfsprogs (mkfs.xfs) on the host and
# the nfs-kernel-server package (fetched with apt-get download, not
# installed).  The server guest is cached beside the client guest.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${PMEMNFS_QEMU_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/pmemnfsd-qemu}
port=0 vol="" lease=15 grace=15
while [ $# -gt 0 ]; do
	case $1 in
	-p)	port=$2; shift ;;
	-v)	vol=$2; shift ;;
	-o)	case $2 in
		nfs4.lease_time=*) lease=${2#*=} ;;
		nfs4.grace_time=*) grace=${2#*=} ;;
		esac
		shift ;;
	-l|-d|-P|-c) shift ;;
	esac
	shift
done
# knfsd refuses a lease below 10 s.
[ "$lease" -ge 10 ] || lease=10
[ "$grace" -ge 10 ] || grace=10
[ -n "$vol" ] || { echo "knfsd-server: -v VOLUME is required" >&2; exit 2; }
command -v mkfs.xfs >/dev/null || { echo "knfsd-server: install xfsprogs" >&2; exit 2; }

guest=$("$here/guest-build.sh" "$cache")
kver=$(cat "$guest/kver")

# --- the server guest (cached) --------------------------------------------
srv_modules=(virtio_pci virtio_net virtio_blk nfsd xfs)
nks_v=$(apt-cache show --no-all-versions nfs-kernel-server 2>/dev/null |
	sed -n 's/^Version: //p' | head -n 1)
key=$( { echo "$guest $nks_v ${srv_modules[*]}"; cat "$0"; } |
	sha256sum | cut -c1-16)
srv="$cache/knfsd-$key"
exec 9>"$cache/.lock"
flock 9
if [ ! -f "$srv/done" ]; then
	echo "knfsd-server: building the server guest $key" >&2
	rm -rf "$cache"/knfsd-*
	w="$srv.tmp"
	mkdir -p "$w/k" "$w/n"
	kdeb=$(ls "$cache/debs/linux-image-$kver"_*.deb | head -n 1)
	dpkg-deb -x "$kdeb" "$w/k"
	(cd "$w" && apt-get download -q "nfs-kernel-server=$nks_v" >/dev/null 2>&1)
	dpkg-deb -x "$w"/nfs-kernel-server_*.deb "$w/n"
	depmod -b "$w/k" "$kver"
	r="$w/root"
	mkdir -p "$r"/{bin,sbin,usr/sbin,usr/bin,etc,proc,sys,dev,tmp,run,vol,lib64} \
		"$r/var/lib/nfs/rpc_pipefs" "$r/var/lib/nfs/v4recovery" \
		"$r/lib/modules/$kver"
	cp /bin/busybox "$r/bin/"
	for m in "${srv_modules[@]}"; do
		modprobe -d "$w/k" -S "$kver" --show-depends "$m" |
			awk '$1 == "insmod" { print $2 }'
	done | awk '!seen[$0]++' | while read -r ko; do
		cp "$ko" "$r/lib/modules/$kver/"
		basename "$ko"
	done > "$r/etc/modules.order"
	cp "$w/n/usr/sbin/rpc.nfsd" "$w/n/usr/sbin/rpc.mountd" \
		"$w/n/usr/sbin/exportfs" "$r/usr/sbin/"
	for b in "$r"/usr/sbin/*; do
		ldd "$b" | awk '/=> \// { print $3 }'
	done | sort -u | while read -r lib; do
		mkdir -p "$r$(dirname "$lib")"
		cp -L "$lib" "$r$lib"
	done
	cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/"
	cp /etc/services "$r/etc/" 2>/dev/null || true
	echo 'root:x:0:0:root:/:/bin/sh' > "$r/etc/passwd"
	echo 'root:x:0:' > "$r/etc/group"
	ln -s /proc/mounts "$r/etc/mtab"
	cat > "$r/init" <<'INIT'
#!/bin/busybox sh
# PID 1 of the knfsd reference server guest.
/bin/busybox --install -s
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
# Modules the CPU cannot use (crc32c-intel under TCG) fail harmlessly.
for ko in $(cat /etc/modules.order); do
	insmod "/lib/modules/$(uname -r)/$ko" 2>/dev/null
done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
hostname knfsd-reference
mount -t xfs /dev/vda /vol || echo "KNFSD: cannot mount the XFS volume"
mkdir -p /vol/export /vol/v4recovery
chmod 1777 /vol/export
# Client records on the volume, so reclaim works after a power loss.
mount --bind /vol/v4recovery /var/lib/nfs/v4recovery
mount -t nfsd nfsd /proc/fs/nfsd
touch /var/lib/nfs/etab /var/lib/nfs/rmtab
echo '/vol/export *(rw,no_root_squash,insecure,pnfs,fsid=0,no_subtree_check,sync)' > /etc/exports
for kv in $(cat /proc/cmdline); do
	case $kv in
	lease=*) echo ${kv#lease=} > /proc/fs/nfsd/nfsv4leasetime ;;
	grace=*) echo ${kv#grace=} > /proc/fs/nfsd/nfsv4gracetime ;;
	esac
done
exportfs -ra
rpc.mountd -N 3 -F &
rpc.nfsd -N 3 -U -p 2049 8
grep -q 2049 /proc/fs/nfsd/portlist && echo "KNFSD READY"
while true; do sleep 3600; done
INIT
	chmod 755 "$r/init"
	(cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet) > "$w/initrd"
	rm -rf "$w/k" "$w/n" "$r" "$w"/*.deb
	touch "$w/done"
	mv "$w" "$srv"
fi
flock -u 9

# --- the volume and the port ----------------------------------------------
if [ "$(head -c 4 "$vol" 2>/dev/null)" != XFSB ]; then
	[ -s "$vol" ] || truncate -s 512M "$vol"
	mkfs.xfs -q -f "$vol"
fi
if [ "$port" = 0 ]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi

# Announce the port once knfsd serves, then follow the console into our
# stderr until qemu (this process, after exec) is gone.
con="$vol.knfsd-console"
: > "$con"
(
	for _ in $(seq 1 1800); do
		grep -q 'KNFSD READY' "$con" && break
		sleep 0.2
	done
	grep -q 'KNFSD READY' "$con" &&
		echo "pmemnfsd: listening on 127.0.0.1:$port" >&2
	exec tail -n +1 --pid=$$ -f "$con" >&2
) 9>&- &
exec qemu-system-x86_64 -accel "${PMEMNFS_QEMU_ACCEL:-tcg}" -m 1024 -smp 1 \
	-nodefaults -display none -no-reboot -serial "file:$con" \
	-kernel "$guest/vmlinuz" -initrd "$srv/initrd" \
	-append "console=ttyS0 panic=-1 loglevel=4 lease=$lease grace=$grace" \
	-netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:2049" \
	-device virtio-net-pci,netdev=n0 \
	-drive "file=$vol,format=raw,if=virtio,cache=none,file.locking=off" \
	9>&- </dev/null >/dev/null
