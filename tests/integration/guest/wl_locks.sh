# wl_locks.sh - workload 3 (sourced by init.sh): POSIX (fcntl) and flock
# locks between two processes of the guest on one NFS file, by the static
# locktest program (guest/locktest.c prints its own RESULT lines).  A
# second mount of the same export with nosharecache gives the file a second
# inode in the guest, so that conflicts through it are decided by the server
# and not by the client's local lock check.
if nfs_mount 4.1; then
	result mount41 pass
else
	result mount41 fail "$(mount_error)"
	return 0
fi
if nfs_mount 4.1 nosharecache /mnt2; then
	result mount41_second pass
else
	result mount41_second fail "$(mount_error)"
fi
rm -rf /mnt/w3
check mkdir mkdir /mnt/w3
locktest /mnt/w3/lockfile /mnt2/w3/lockfile
result locktest_exit $([ $? = 0 ] && echo pass || echo fail) "locktest exit status"
info mountstats_locks "LOCK=$(mountstat LOCK) LOCKT=$(mountstat LOCKT) LOCKU=$(mountstat LOCKU)"
check lock_ops_sent [ "$(mountstat LOCK)" -gt 0 ]
check umount sh -c 'umount /mnt2 && umount /mnt'
