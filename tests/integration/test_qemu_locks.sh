#!/usr/bin/env bash
# test_qemu_locks.sh - workload 3: two processes in the guest lock one file
# on pmemnfsd with fcntl (conflict, disjoint ranges, F_GETLK, a blocked
# F_SETLKW granted after the unlock, shared read locks) and flock, and a
# process that exits releases its locks.  Through a second (nosharecache)
# mount the same conflicts are decided by the server: a conflicting lock,
# F_GETLK, flock and a blocked F_SETLKW granted after the unlock.  The
# capture of the guest's traffic must show LOCK answered NFS4_OK and a
# conflicting LOCK or LOCKT answered NFS4ERR_DENIED.
. "${top_srcdir:?run from make check or set top_srcdir}/tests/integration/qemu-lib.sh" || exit 99

qi_need_tools
if ! qi_server_start -o server.volume_size=64M; then
	bad "server starts"
	qi_finish
fi
qi_probe_file_service
qi_need_guest

qi_boot locks --pcap
qi_expect_guest mount41 lock_fcntl_conflict lock_fcntl_disjoint \
	lock_fcntl_getlk lock_fcntl_blocks lock_fcntl_wakeup lock_fcntl_shared \
	lock_fcntl_rd_wr lock_flock_conflict lock_flock_after_unlock \
	lock_exit_releases mount41_second lock_server_conflict lock_server_getlk \
	lock_server_flock lock_server_blocks lock_server_wakeup locktest_exit \
	lock_ops_sent umount
qi_expect_all_guest 20

wire=$(qi_wire)
sort <<<"$wire" | uniq -c | grep -E 'LOCK|CALLS' | sed 's/^ *\([0-9]*\) /# wire: \1x /'
expect "server granted LOCK (NFS4_OK on the wire)" \
	grep -qx 'OP LOCK NFS4_OK' <<<"$wire"
expect "server refused a conflicting lock (NFS4ERR_DENIED on the wire)" \
	grep -qE '^OP (LOCK|LOCKT) NFS4ERR_DENIED$' <<<"$wire"
qi_server_stop
expect "server stops cleanly" [ $? = 0 ]
qi_finish
