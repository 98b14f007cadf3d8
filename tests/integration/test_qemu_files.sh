#!/usr/bin/env bash
# test_qemu_files.sh - workload 1: the Linux client mounts pmemnfsd with
# vers=4.1 (4.2 served or refused cleanly, vers=4 negotiating), builds a
# tree of files of awkward sizes with dd conv=fsync, reads it back after
# dropping caches, checks owners (chown, a file created by uid 1000, ls -l
# names), rename, hard link, symlink, remove, truncate down and up, a write
# past the end, and a large file (PMEMNFS_QEMU_BIG_MB, default 300 MiB).
# Then the server is restarted cleanly and every file is read back through
# it by another client (nfs_fetch) and compared with the guest's md5.
. "${top_srcdir:?run from make check or set top_srcdir}/tests/integration/qemu-lib.sh" || exit 99

big=${PMEMNFS_QEMU_BIG_MB:-300}
qi_need_tools
# A short grace period: the read-back after the restart waits it out.
if ! qi_server_start -o server.volume_size=1G -o nfs4.grace_time=5; then
	bad "server starts"
	qi_finish
fi
qi_probe_file_service
qi_need_guest

# The large file dominates: TCG moves a few tens of MiB/s through NFS.
QI_BOOT_DEADLINE=$((QI_BOOT_DEADLINE + big * 3))
qi_boot files "BIG_MB=$big"
qi_expect_all_guest 40

if [ -z "$qi_external" ]; then
	qi_server_stop
	expect "server stops cleanly after the workload" [ $? = 0 ]
	if qi_server_start "${qi_server_args[@]}"; then
		ok "server restarts on the same volume"
	else
		bad "server restarts on the same volume"
		qi_finish
	fi
fi
qi_check_sums
qi_server_stop
expect "server stops cleanly" [ $? = 0 ]
qi_finish
