# wl_pnfs.sh - workload 4 (sourced by init.sh): ready for pNFS block
# layouts.  The guest's /dev/vda is the server's own volume file (the
# shared block volume of RFC 5663) and blkmapd runs, so the block layout
# driver can find the volume by its signature and do file I/O straight to
# it.  The workload writes, reads back, truncates and extends files, and
# reports what the client did: the layout driver in use and the per-op
# counts from /proc/self/mountstats.  Whether layouts were used is only
# reported here; the host decides (PMEMNFS_QEMU_REQUIRE_PNFS).
#
# Parameters (/test/env): PORT, MB (size of the large file in MiB).
W=/mnt/w4
if [ -b /dev/vda ]; then
	result vda pass "$(blockdev --getsize64 /dev/vda) bytes"
else
	result vda fail "no /dev/vda"
fi
blkmapd -f > /tmp/blkmapd.log 2>&1 &
bpid=$!
if nfs_mount 4.1; then
	result mount41 pass
else
	result mount41 fail "$(mount_error)"
	return 0
fi
rm -rf $W
check mkdir mkdir $W

head -c 1048568 /dev/urandom > /tmp/blk
gen() {
	local i=0
	while [ $i -lt $MB ]; do
		printf '%08d' $i
		cat /tmp/blk
		i=$((i + 1))
	done
}
if gen | dd of=$W/big bs=1048576 iflag=fullblock conv=fsync 2>/tmp/dd.out; then
	result write_big pass "$MB MiB"
else
	result write_big fail "$(head -c 200 /tmp/dd.out | tr '\n' ' ')"
fi
want=$(gen | md5sum | cut -d' ' -f1)
drop_caches
check read_big [ "$(md5sum < $W/big | cut -d' ' -f1)" = "$want" ]
head -c 200000 /dev/urandom > /tmp/small
check write_small dd if=/tmp/small of=$W/small bs=4096 conv=fsync
drop_caches
check read_small cmp /tmp/small $W/small

# A truncate makes the server take blocks out of the file's map: it must
# recall the client's layout first (DESIGN.md section 3).
check truncate_down truncate -s 1048576 $W/big
drop_caches
want=$(gen | head -c 1048576 | md5sum | cut -d' ' -f1)
check truncate_content [ "$(stat -c %s $W/big)" = 1048576 -a \
	"$(md5sum < $W/big | cut -d' ' -f1)" = "$want" ]
check extend_by_write sh -c "dd if=/tmp/small of=$W/big bs=4096 seek=256 conv=notrunc,fsync 2>/dev/null"
drop_caches
want=$( (gen | head -c 1048576; cat /tmp/small) | md5sum | cut -d' ' -f1)
check extend_content [ "$(md5sum < $W/big | cut -d' ' -f1)" = "$want" ]

drop_caches
find $W -type f | sort | while read -r f; do sum "$f"; done

pnfs=$(awk -v dir=/mnt '$1 == "device" { cur = ($5 == dir) }
	cur && /pnfs=/ { sub(/.*pnfs=/, ""); sub(/,.*/, ""); gsub(/ /, "_"); print; exit }' \
	/proc/self/mountstats)
info pnfs_driver "${pnfs:-none}"
info pnfs_ops "LAYOUTGET=$(mountstat LAYOUTGET) GETDEVICEINFO=$(mountstat GETDEVICEINFO) LAYOUTCOMMIT=$(mountstat LAYOUTCOMMIT) LAYOUTRETURN=$(mountstat LAYOUTRETURN) READ=$(mountstat READ) WRITE=$(mountstat WRITE) COMMIT=$(mountstat COMMIT)"
check blkmapd_running kill -0 $bpid
info blkmapd_log "$(head -c 300 /tmp/blkmapd.log | tr '\n' '|')"
check umount umount /mnt
