#!/usr/bin/env bash
# test_qemu_pnfs.sh - workload 4: the guest gets pmemnfsd's volume file as
# /dev/vda and runs blkmapd, so the Linux block layout driver can do file
# I/O straight to the shared volume.  Content is checked on both sides
# (the guest after dropping caches, the host through the server).  What
# the client did is reported and kept in tests/integration/pnfs-report.txt
# in the build directory: the layout driver, LAYOUTGET, GETDEVICEINFO,
# LAYOUTCOMMIT, READ and WRITE counts, callbacks seen on the wire.
#
# With PMEMNFS_QEMU_REQUIRE_PNFS=1 the test also requires layouts for the
# file data: pnfs=LAYOUT_BLOCK_VOLUME, LAYOUTGET > 0, READ = WRITE = 0.
. "${top_srcdir:?run from make check or set top_srcdir}/tests/integration/qemu-lib.sh" || exit 99

mb=${PMEMNFS_QEMU_PNFS_MB:-64}
report="$top_builddir/tests/integration/pnfs-report.txt"

qi_need_tools
qi_need_own_server "gives the guest the server's volume"
if ! qi_server_start -o server.volume_size=512M; then
	bad "server starts"
	qi_finish
fi
qi_probe_file_service
qi_need_guest

QI_BOOT_DEADLINE=$((QI_BOOT_DEADLINE + mb * 3))
qi_boot pnfs --pcap --disk "MB=$mb"
qi_expect_guest vda mount41 mkdir write_big read_big write_small read_small \
	truncate_down truncate_content extend_by_write extend_content \
	blkmapd_running umount
qi_expect_all_guest 13

driver=$(qi_info pnfs_driver)
ops=$(qi_info pnfs_ops)
wire=$(qi_wire)
cbs=$(grep '^CB ' <<<"$wire" | sort | uniq -c | sed 's/^ *//' | tr '\n' ';')
layouts=$(grep -E '^OP (LAYOUT|GETDEVICE)' <<<"$wire" | sort | uniq -c |
	sed 's/^ *//' | tr '\n' ';')
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "pnfs: ${driver:-unknown}"
	echo "mountstats: ${ops:-unknown}"
	echo "wire layout ops: ${layouts:-none}"
	echo "wire callbacks: ${cbs:-none}"
	echo "blkmapd: $(qi_info blkmapd_log)"
} > "$report"
sed 's/^/# pNFS report: /' "$report"

field() {	# field NAME: NAME=value from the mountstats INFO line
	sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<<"$ops"
}
if [ -n "${PMEMNFS_QEMU_REQUIRE_PNFS:-}" ]; then
	expect "client uses the block layout driver (pnfs=$driver)" \
		[ "$driver" = LAYOUT_BLOCK_VOLUME ]
	expect "client got layouts (LAYOUTGET=$(field LAYOUTGET))" \
		[ "$(field LAYOUTGET)" -gt 0 ]
	expect "file data bypassed the server (READ=$(field READ) WRITE=$(field WRITE))" \
		[ "$(field READ)" = 0 -a "$(field WRITE)" = 0 ]
fi

qi_check_sums
qi_server_stop
expect "server stops cleanly" [ $? = 0 ]
qi_finish
