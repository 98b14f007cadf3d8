# wl_smoke.sh - smoke workload (sourced by init.sh): attempt a vers=4.1
# mount and, when it works, one small write and read.  The host judges the
# mount by what the server answered on the wire (test_qemu_smoke.sh).
if nfs_mount 4.1; then
	result mount pass "$(grep ' /mnt ' /proc/mounts | cut -d' ' -f4 | head -c 200)"
	check smoke_write sh -c 'echo pmemnfs-smoke > /mnt/smoke.txt && sync'
	drop_caches
	check smoke_read [ "$(cat /mnt/smoke.txt 2>&1)" = pmemnfs-smoke ]
	check smoke_remove rm /mnt/smoke.txt
	check umount umount /mnt
else
	result mount fail "$(mount_error)"
fi
