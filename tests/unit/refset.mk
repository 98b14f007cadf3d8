# tests/unit/refset.mk: unit tests of the inode locks, the reference set
# and fs_break_layouts() (src/fs/ilock.c, refset.c, break.c).
REFSET_TEST_LIBS = src/fs/libfs.a src/common/libcommon.a $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_ilock
tests_unit_test_ilock_SOURCES = tests/unit/test_ilock.c \
	tests/unit/test_refset_util.h
tests_unit_test_ilock_LDADD = $(REFSET_TEST_LIBS)
TESTS += tests/unit/test_ilock

check_PROGRAMS += tests/unit/test_refset
tests_unit_test_refset_SOURCES = tests/unit/test_refset.c \
	tests/unit/test_refset_util.h
tests_unit_test_refset_LDADD = $(REFSET_TEST_LIBS)
TESTS += tests/unit/test_refset

check_PROGRAMS += tests/unit/test_refset_stress
tests_unit_test_refset_stress_SOURCES = tests/unit/test_refset_stress.c \
	tests/unit/test_refset_util.h
tests_unit_test_refset_stress_LDADD = $(REFSET_TEST_LIBS)
TESTS += tests/unit/test_refset_stress

# The same stress against the real engine on a file-backed volume.
check_PROGRAMS += tests/unit/test_refset_engine
tests_unit_test_refset_engine_SOURCES = tests/unit/test_refset_engine.c \
	tests/unit/test_refset_util.h
tests_unit_test_refset_engine_LDADD = src/fs/libfs.a src/pmem/libpmemvol.a \
	src/common/libcommon.a $(PMEM_LIBS) $(PTHREAD_LIBS)
TESTS += tests/unit/test_refset_engine
