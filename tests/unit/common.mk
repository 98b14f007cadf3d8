# tests/unit/common.mk: unit tests of src/common.
check_PROGRAMS += tests/unit/test_lock
tests_unit_test_lock_SOURCES = tests/unit/test_lock.c
tests_unit_test_lock_LDADD = src/common/libcommon.a $(PTHREAD_LIBS)
TESTS += tests/unit/test_lock

check_PROGRAMS += tests/unit/test_conf
tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_LDADD = src/common/libcommon.a $(PTHREAD_LIBS)
TESTS += tests/unit/test_conf

check_PROGRAMS += tests/unit/test_exports
tests_unit_test_exports_SOURCES = tests/unit/test_exports.c
tests_unit_test_exports_LDADD = src/common/libcommon.a $(PTHREAD_LIBS)
TESTS += tests/unit/test_exports
