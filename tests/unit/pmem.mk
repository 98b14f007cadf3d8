# tests/unit/pmem.mk: unit tests of src/pmem (the volume, log, checkpoints)
# and of the allocator (src/fs/alloc.c, compiled in directly so that these
# tests do not depend on the rest of libfs.a).
VOL_TEST_LIBS = src/pmem/libpmemvol.a src/common/libcommon.a \
	$(PMEM_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_vol
tests_unit_test_vol_SOURCES = tests/unit/test_vol.c tests/unit/test_vol_util.h
tests_unit_test_vol_LDADD = $(VOL_TEST_LIBS)
TESTS += tests/unit/test_vol

check_PROGRAMS += tests/unit/test_log
tests_unit_test_log_SOURCES = tests/unit/test_log.c tests/unit/test_vol_util.h
tests_unit_test_log_LDADD = $(VOL_TEST_LIBS)
TESTS += tests/unit/test_log

check_PROGRAMS += tests/unit/test_vol_ckpt
tests_unit_test_vol_ckpt_SOURCES = tests/unit/test_vol_ckpt.c tests/unit/test_vol_util.h
tests_unit_test_vol_ckpt_LDADD = $(VOL_TEST_LIBS)
TESTS += tests/unit/test_vol_ckpt

check_PROGRAMS += tests/unit/test_alloc
tests_unit_test_alloc_SOURCES = tests/unit/test_alloc.c src/fs/alloc.c
tests_unit_test_alloc_LDADD = src/common/libcommon.a $(PTHREAD_LIBS)
TESTS += tests/unit/test_alloc

# pmemnfs-mkfs end to end (needs tools/mkfs/pmemnfs-mkfs, built by "all").
dist_check_SCRIPTS += tests/unit/test_vol_mkfs.sh
TESTS += tests/unit/test_vol_mkfs.sh

# The same tests on the flush+drain path (PMEM_IS_PMEM_FORCE=1).
dist_check_SCRIPTS += tests/unit/test_vol_pmem_force.sh
TESTS += tests/unit/test_vol_pmem_force.sh
