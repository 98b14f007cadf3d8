# tests/integration: the Linux kernel NFS client in qemu against pmemnfsd
# (docs/integration.md).  The guest is built from Debian packages by
# guest-build.sh and cached; each test_qemu_*.sh starts its own server,
# boots the guest with one workload and judges what the guest printed.
#
# The smoke test runs in every make check.  The workload tests are in TESTS
# too: they exit 77 (skipped) by themselves while the server answers
# PUTROOTFH with NFS4ERR_NOTSUPP, and run once the file service is there.
QEMU_TESTS = \
	tests/integration/test_qemu_smoke.sh \
	tests/integration/test_qemu_files.sh \
	tests/integration/test_qemu_crash.sh \
	tests/integration/test_qemu_locks.sh \
	tests/integration/test_qemu_pnfs.sh

dist_check_SCRIPTS += $(QEMU_TESTS) \
	tests/integration/guest-build.sh \
	tests/integration/knfsd-server.sh \
	tests/integration/nfswire.py
EXTRA_DIST += \
	tests/integration/qemu-lib.sh \
	tests/integration/guest/init.sh \
	tests/integration/guest/locktest.c \
	tests/integration/guest/wl_smoke.sh \
	tests/integration/guest/wl_files.sh \
	tests/integration/guest/wl_crash.sh \
	tests/integration/guest/wl_locks.sh \
	tests/integration/guest/wl_pnfs.sh
TESTS += $(QEMU_TESTS)
CLEANFILES += tests/integration/pnfs-report.txt

# Reads files back through the server for the content checks, and probes
# whether the file service answers.
check_PROGRAMS += tests/integration/nfs_fetch
tests_integration_nfs_fetch_SOURCES = tests/integration/nfs_fetch.c
tests_integration_nfs_fetch_LDADD = src/client/libclient.a src/rpc/librpc.a \
	src/xdr/libxdr.a src/common/libcommon.a $(TIRPC_LIBS) $(PTHREAD_LIBS)

# The qemu tests alone: make check-qemu
check-qemu: src/daemon/pmemnfsd tests/integration/nfs_fetch
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(QEMU_TESTS)'
.PHONY: check-qemu
