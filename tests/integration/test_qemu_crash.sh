#!/usr/bin/env bash
# test_qemu_crash.sh - workload 2: pmemnfsd is killed with SIGKILL while
# the Linux client writes, and restarted on the same volume and port.  The
# client must recover through the grace period (a new session and
# RECLAIM_COMPLETE on the wire, its writes completing), and every chunk the
# client had fsync'ed before the kill must be on the server, read back by
# another client after the guest is gone; so must every later chunk.
. "${top_srcdir:?run from make check or set top_srcdir}/tests/integration/qemu-lib.sh" || exit 99

chunks=24
kill_at=6
# Short lease and grace periods so that recovery fits the test's time.
srv_opts=(-o server.volume_size=256M -o nfs4.lease_time=10 -o nfs4.grace_time=10)

qi_need_tools
qi_need_own_server "kills and restarts it"
if ! qi_server_start "${srv_opts[@]}"; then
	bad "server starts"
	qi_finish
fi
qi_probe_file_service
qi_need_guest

t0=$SECONDS
qi_boot_start crash --pcap "CHUNKS=$chunks" "KILL_AT=$kill_at"
# The console is written as the guest's serial port emits it: a line
# counts once its whole md5 is there.
fsynced_re='^FSYNCED [0-9]+ [0-9a-f]{32}'
if qi_console_wait "^FSYNCED $kill_at [0-9a-f]{32}" "$QI_BOOT_DEADLINE"; then
	qi_server_kill
	# What the client had been told was stable when the server died.
	grep -aoE "$fsynced_re" "$qi_console" > "$qi_tmp/fsynced-at-kill"
	qi_note "killed the server after $(wc -l < "$qi_tmp/fsynced-at-kill") fsync'ed chunks"
	if qi_server_start "${srv_opts[@]}"; then
		ok "server restarts on the same volume and port after SIGKILL"
	else
		bad "server restarts on the same volume and port after SIGKILL"
	fi
else
	bad "guest reached chunk $kill_at"
fi
expect "guest ran workload crash to the end" \
	qi_boot_wait $((QI_BOOT_DEADLINE - (SECONDS - t0)))
qi_note "guest run took $((SECONDS - t0)) s"
qi_expect_guest mount41 writes_completed fd_survived chunks_intact \
	create_after_restart umount
qi_expect_all_guest 6
qi_note "longest chunk write (recovery): $(qi_info longest_chunk_seconds) s"

wire=$(qi_wire)
sort <<<"$wire" | uniq -c | sed 's/^ *\([0-9]*\) /# wire: \1x /'
expect "client reconnected after the kill" \
	[ "$(sed -n 's/^CONN //p' <<<"$wire")" -ge 2 ]
expect "client made a new session with the restarted server" \
	[ "$(grep -cx 'OP CREATE_SESSION NFS4_OK' <<<"$wire")" -ge 2 ]
expect "client finished reclaiming (RECLAIM_COMPLETE twice)" \
	[ "$(grep -cx 'OP RECLAIM_COMPLETE NFS4_OK' <<<"$wire")" -ge 2 ]

# Every chunk through another client, against the guest's md5s: first
# the ones fsync'ed before the kill (the durability promise), then all.
if "$qi_fetch" "$qi_port" cat w2/data > "$qi_tmp/data" 2>"$qi_tmp/fetch.err"; then
	ok "read w2/data back through the server"
else
	bad "read w2/data back through the server: $(cat "$qi_tmp/fetch.err")"
fi
chunk_ok() {	# chunk_ok I MD5
	[ "$(dd if="$qi_tmp/data" bs=1048576 skip=$(($1 - 1)) count=1 2>/dev/null |
		md5sum | cut -d' ' -f1)" = "$2" ]
}
n=0 lost=""
while read -r _ i sum; do
	n=$((n + 1))
	chunk_ok "$i" "$sum" || lost="$lost $i"
done < "$qi_tmp/fsynced-at-kill"
expect "all $n chunks fsync'ed before the kill are on the server${lost:+ (lost:$lost)}" \
	[ "$n" -ge "$kill_at" -a -z "$lost" ]
n=0 lost=""
while read -r _ i sum; do
	n=$((n + 1))
	chunk_ok "$i" "$sum" || lost="$lost $i"
done < <(grep -aoE "$fsynced_re" "$qi_console")
expect "all $n chunks are on the server${lost:+ (lost:$lost)}" \
	[ "$n" = "$chunks" -a -z "$lost" ]
qi_check_sums
qi_server_stop
expect "restarted server stops cleanly" [ $? = 0 ]
qi_finish
