#!/usr/bin/env bash
# guest-build.sh - build (or find in the cache) the Linux guest that the qemu
# integration tests boot: Debian's 6.1 kernel, the NFS client modules in load
# order, busybox, nfs-common's mount.nfs and blkmapd with their libraries,
# and the static lock test program, in one uncompressed initramfs.
#
#   guest-build.sh CACHE_DIR      prints the guest directory on stdout:
#                                 DIR/vmlinuz, DIR/base.cpio, DIR/kver
#
# Everything comes from Debian packages: the kernel and nfs-common are
# fetched with `apt-get download` and unpacked with dpkg-deb (never
# installed on the host); busybox-static, kmod, cpio and the shared
# libraries are the host's.  The guest is cached under CACHE_DIR by a key
# over every input (package versions, these scripts, the lock program), so a
# changed input builds a new guest and an unchanged one costs nothing.
# Concurrent callers (make -j check) serialize on CACHE_DIR/.lock.
#
# Exit status: 0 and the directory printed; 77 when a package cannot be
# had (no network, no apt lists and not root), with the reason on stderr;
# 1 on any other failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${1:?usage: guest-build.sh CACHE_DIR}
mkdir -p "$cache/debs"
cache=$(cd "$cache" && pwd)

# The modules the client needs, named as modprobe knows them; their
# dependencies are resolved by modprobe --show-depends, so this list is only
# the top of each chain.  dm-mod: blkmapd builds its device-mapper tables
# through libdevmapper.
guest_modules=(virtio_pci virtio_net virtio_blk nfsv4 blocklayoutdriver dm-mod)

skip() { echo "guest-build: SKIP: $*" >&2; exit 77; }
die()  { echo "guest-build: $*" >&2; exit 1; }

# pkg_version PKG: the version apt would download, or nothing.
pkg_version() {
	apt-cache show --no-all-versions "$1" 2>/dev/null |
		sed -n 's/^Version: //p' | head -n 1
}

exec 9>"$cache/.lock"
flock 9

# Which kernel: the one Debian's linux-image-amd64 points at today.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
if [ -z "$kpkg" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
fi
if [ -z "$kpkg" ]; then
	# No apt lists: a guest built earlier still serves.
	last=$(ls -d "$cache"/guest-* 2>/dev/null | tail -n 1 || true)
	[ -n "$last" ] && [ -f "$last/done" ] && { echo "$last"; exit 0; }
	skip "apt cannot resolve linux-image-amd64 (no package lists or no network)"
fi
kver=${kpkg#linux-image-}
kpkg_v=$(pkg_version "$kpkg")
nfs_v=$(pkg_version nfs-common)
bb_v=$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || true)
[ -n "$kpkg_v" ] && [ -n "$nfs_v" ] || skip "apt knows no version of $kpkg or nfs-common"
[ -x /bin/busybox ] && [ -n "$bb_v" ] || skip "busybox-static is not installed"

key=$( {
	echo "$kpkg $kpkg_v nfs-common $nfs_v busybox-static $bb_v"
	echo "${guest_modules[*]}"
	cat "$here/guest-build.sh" "$here/guest/init.sh" "$here/guest/locktest.c"
} | sha256sum | cut -c1-16)
out="$cache/guest-$key"
if [ -f "$out/done" ]; then
	echo "$out"
	exit 0
fi

echo "guest-build: building guest $key ($kpkg $kpkg_v, nfs-common $nfs_v)" >&2
rm -rf "$out" "$out.tmp"
work="$out.tmp"
mkdir -p "$work"

# --- packages -------------------------------------------------------------
fetch() {	# fetch PKG VERSION: the .deb path on stdout
	local pkg=$1 ver=$2 deb
	deb=$(ls "$cache/debs/${pkg}_"*"_amd64.deb" 2>/dev/null |
		grep -F "_$(echo "$ver" | sed 's/:/%3a/')_" | head -n 1 || true)
	if [ -z "$deb" ]; then
		(cd "$cache/debs" && apt-get download -q "$pkg=$ver" >/dev/null 2>&1) ||
			skip "apt-get download $pkg=$ver failed (no network?)"
		deb=$(ls "$cache/debs/${pkg}_"*"_amd64.deb" |
			grep -F "_$(echo "$ver" | sed 's/:/%3a/')_" | head -n 1)
	fi
	echo "$deb"
}
kdeb=$(fetch "$kpkg" "$kpkg_v")
ndeb=$(fetch nfs-common "$nfs_v")
mkdir -p "$work/kpkg" "$work/npkg"
dpkg-deb -x "$kdeb" "$work/kpkg"
dpkg-deb -x "$ndeb" "$work/npkg"
cp "$work/kpkg/boot/vmlinuz-$kver" "$work/vmlinuz"
echo "$kver" > "$work/kver"

# --- root file system -----------------------------------------------------
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/sbin,usr/bin,etc,proc,sys,dev,tmp,run,mnt,var/lib/nfs/rpc_pipefs,lib/modules/"$kver"}
cp /bin/busybox "$root/bin/busybox"

# Modules in load order: modprobe prints the chain of each top module,
# dependencies first; keep the first occurrence of each.
depmod -b "$work/kpkg" "$kver"
: > "$root/etc/modules.order"
for m in "${guest_modules[@]}"; do
	modprobe -d "$work/kpkg" -S "$kver" --show-depends "$m" |
		awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	base=$(basename "$ko")
	case "$ko" in
	*.ko.xz) xz -dc "$ko" > "$root/lib/modules/$kver/${base%.xz}"; base=${base%.xz} ;;
	*.ko.zst) zstd -qdc "$ko" > "$root/lib/modules/$kver/${base%.zst}"; base=${base%.zst} ;;
	*) cp "$ko" "$root/lib/modules/$kver/$base" ;;
	esac
	echo "$base" >> "$root/etc/modules.order"
done
[ -s "$root/etc/modules.order" ] || die "modprobe resolved no modules"

# nfs-common's programs and every library ldd names (from the host, which
# has the same Debian release; a missing one is reported, not guessed).
cp "$work/npkg/sbin/mount.nfs" "$root/sbin/mount.nfs"
ln -s mount.nfs "$root/sbin/mount.nfs4"
cp "$work/npkg/usr/sbin/blkmapd" "$root/usr/sbin/blkmapd"
# The id mapper as a Debian client has it: the kernel asks request-key
# (keyutils) for an "id_resolver" key, which runs nfsidmap (nfs-common)
# with libnfsidmap's nsswitch plugin, so owner@domain strings map through
# the guest's /etc/passwd and /etc/group (the run puts the host's there).
cp "$work/npkg/usr/sbin/nfsidmap" "$root/usr/sbin/nfsidmap"
[ -x /sbin/request-key ] || die "request-key missing on the host: install keyutils"
cp /sbin/request-key "$root/sbin/request-key"
mkdir -p "$root/etc/request-key.d" "$root/usr/lib/x86_64-linux-gnu"
cp "$work/npkg/etc/request-key.d/id_resolver.conf" "$root/etc/request-key.d/"
: > "$root/etc/request-key.conf"
cp -r /usr/lib/x86_64-linux-gnu/libnfsidmap "$root/usr/lib/x86_64-linux-gnu/"
printf 'passwd: files\ngroup: files\n' > "$root/etc/nsswitch.conf"
for bin in "$root/sbin/mount.nfs" "$root/usr/sbin/blkmapd" \
	   "$root/usr/sbin/nfsidmap" "$root/sbin/request-key"; do
	if ldd "$bin" | grep -q 'not found'; then
		die "libraries of $(basename "$bin") missing on the host: $(ldd "$bin" | grep 'not found' | tr -s ' \t' ' ')
install them (e.g. libdevmapper1.02.1 libtirpc3 libmount1 libkrb5-3)"
	fi
	ldd "$bin" | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'
done | sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
mkdir -p "$root/lib64"
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] ||
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"

# The lock program: static, so it needs nothing from the guest's libraries.
${CC:-gcc} -static -O2 -Wall -Wextra -Werror -o "$root/bin/locktest" \
	"$here/guest/locktest.c"

cp "$here/guest/init.sh" "$root/init"
chmod 755 "$root/init"
cat > "$root/etc/passwd" <<'PW'
root:x:0:0:root:/root:/bin/sh
tester:x:1000:1000:test user:/tmp:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
PW
cat > "$root/etc/group" <<'GR'
root:x:0:
tester:x:1000:
nogroup:x:65534:
GR
ln -s /proc/mounts "$root/etc/mtab"

(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc --owner=0:0 --quiet) > "$work/base.cpio"
rm -rf "$work/kpkg" "$work/npkg" "$root"
touch "$work/done"
mv "$work" "$out"

# Older guests and packages are of no further use.
for d in "$cache"/guest-*; do
	[ "$d" = "$out" ] || rm -rf "$d"
done
for d in "$cache"/debs/*.deb; do
	[ "$d" = "$kdeb" ] || [ "$d" = "$ndeb" ] || rm -f "$d"
done
echo "guest-build: guest $key ready" >&2
echo "$out"
