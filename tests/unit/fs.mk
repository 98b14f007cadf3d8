# tests/unit/fs.mk: unit tests of the namespace engine (src/fs: extent
# maps, directories, the operations with replay and checkpoints).
FS_TEST_LIBS = src/fs/libfs.a src/pmem/libpmemvol.a src/common/libcommon.a \
	$(PMEM_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_fs_extmap
tests_unit_test_fs_extmap_SOURCES = tests/unit/test_fs_extmap.c
tests_unit_test_fs_extmap_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_extmap

check_PROGRAMS += tests/unit/test_fs_dir
tests_unit_test_fs_dir_SOURCES = tests/unit/test_fs_dir.c
tests_unit_test_fs_dir_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_dir

check_PROGRAMS += tests/unit/test_fs_ops
tests_unit_test_fs_ops_SOURCES = tests/unit/test_fs_ops.c tests/unit/test_fs_util.h
tests_unit_test_fs_ops_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_ops

# pmemnfs-fsck end to end (needs tools/fsck/pmemnfs-fsck, built by "all").
check_PROGRAMS += tests/unit/test_fs_fsck
tests_unit_test_fs_fsck_SOURCES = tests/unit/test_fs_fsck.c tests/unit/test_fs_util.h
tests_unit_test_fs_fsck_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_fsck

check_PROGRAMS += tests/unit/test_fs_stress
tests_unit_test_fs_stress_SOURCES = tests/unit/test_fs_stress.c tests/unit/test_fs_util.h
tests_unit_test_fs_stress_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_stress

check_PROGRAMS += tests/unit/test_fs_break
tests_unit_test_fs_break_SOURCES = tests/unit/test_fs_break.c tests/unit/test_fs_util.h
tests_unit_test_fs_break_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_break

check_PROGRAMS += tests/unit/test_fs_replay
tests_unit_test_fs_replay_SOURCES = tests/unit/test_fs_replay.c tests/unit/test_fs_util.h
tests_unit_test_fs_replay_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_replay

# Dirty ranges of unstable writes and exact COMMIT flushes (src/fs/dirty.c),
# on the msync path and again with PMEM_IS_PMEM_FORCE=1.
check_PROGRAMS += tests/unit/test_fs_dirty
tests_unit_test_fs_dirty_SOURCES = tests/unit/test_fs_dirty.c tests/unit/test_fs_util.h
tests_unit_test_fs_dirty_LDADD = $(FS_TEST_LIBS)
TESTS += tests/unit/test_fs_dirty
dist_check_SCRIPTS += tests/unit/test_fs_dirty_pmem.sh
TESTS += tests/unit/test_fs_dirty_pmem.sh
