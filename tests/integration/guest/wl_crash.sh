# wl_crash.sh - workload 2 (sourced by init.sh): writes a file one MiB
# chunk at a time, each with conv=fsync, while the host kills the server
# with SIGKILL and restarts it.  For each chunk whose dd returned (its data
# is stable on the server) the guest prints "FSYNCED <i> <md5>"; the host
# kills the server after FSYNCED $KILL_AT, so later chunks are in flight.
# The client must recover (new session, reclaim in the grace period) and
# finish; then every chunk is read back and compared.  One descriptor
# stays open across the crash, so there is open state to reclaim.
#
# Parameters (/test/env): PORT, CHUNKS, KILL_AT.
W=/mnt/w2
if nfs_mount 4.1; then
	result mount41 pass
else
	result mount41 fail "$(mount_error)"
	return 0
fi
rm -rf $W
check mkdir mkdir $W
i=1
while [ $i -le $CHUNKS ]; do
	head -c 1048576 /dev/urandom > /tmp/c.$i
	i=$((i + 1))
done
: > $W/data
exec 3<>$W/data
longest=0
failed=""
i=1
while [ $i -le $CHUNKS ]; do
	t0=$(date +%s)
	if dd if=/tmp/c.$i of=$W/data bs=1048576 seek=$((i - 1)) count=1 \
	      conv=notrunc,fsync 2>/tmp/dd.out; then
		echo "FSYNCED $i $(md5sum < /tmp/c.$i | cut -d' ' -f1)"
	else
		failed="$failed $i($(head -c 100 /tmp/dd.out | tr '\n' ' '))"
	fi
	t=$(($(date +%s) - t0))
	[ $t -gt $longest ] && longest=$t
	i=$((i + 1))
done
info longest_chunk_seconds $longest
[ -z "$failed" ] && result writes_completed pass "$CHUNKS chunks, longest dd $longest s" ||
	result writes_completed fail "failed:$failed"
# The descriptor opened before the crash still reads (its open state was
# reclaimed or recovered).
check fd_survived sh -c 'head -c 4096 <&3 | wc -c | grep -qx 4096'
exec 3>&-

drop_caches
bad=""
i=1
while [ $i -le $CHUNKS ]; do
	want=$(md5sum < /tmp/c.$i | cut -d' ' -f1)
	got=$(dd if=$W/data bs=1048576 skip=$((i - 1)) count=1 2>/dev/null |
		md5sum | cut -d' ' -f1)
	[ "$want" = "$got" ] || bad="$bad $i"
	i=$((i + 1))
done
[ -z "$bad" ] && result chunks_intact pass "$CHUNKS chunks" ||
	result chunks_intact fail "differ:$bad"
check create_after_restart sh -c "echo after > $W/after && [ \"\$(cat $W/after)\" = after ]"
sum $W/after
check umount umount /mnt
