# tests/crash/local.mk: the engine crash test (tests/crash/crash_fs.c):
# random operations, a crash at a random moment or persist point,
# recovery, fs_check(), comparison with what was acknowledged.
# CRASH_CYCLES=5000 make check TESTS=tests/crash/crash_fs for a long run.
check_PROGRAMS += tests/crash/crash_fs
tests_crash_crash_fs_SOURCES = tests/crash/crash_fs.c
tests_crash_crash_fs_LDADD = src/fs/libfs.a src/pmem/libpmemvol.a \
	src/common/libcommon.a $(PMEM_LIBS) $(PTHREAD_LIBS)
TESTS += tests/crash/crash_fs
