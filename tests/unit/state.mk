# tests/unit/state.mk: unit tests of src/state (see top-level Makefile.am).
STATE_TEST_LIBS = src/state/libstate.a src/fs/libfs.a src/pmem/libpmemvol.a \
	src/rpc/librpc.a src/xdr/libxdr.a src/common/libcommon.a \
	$(TIRPC_LIBS) $(PMEM_LIBS) $(PTHREAD_LIBS)

check_PROGRAMS += tests/unit/test_slot tests/unit/test_state \
	tests/unit/test_open_state
tests_unit_test_slot_SOURCES = tests/unit/test_slot.c
tests_unit_test_slot_LDADD = $(STATE_TEST_LIBS)
tests_unit_test_state_SOURCES = tests/unit/test_state.c
tests_unit_test_state_LDADD = $(STATE_TEST_LIBS)
tests_unit_test_open_state_SOURCES = tests/unit/test_open_state.c
tests_unit_test_open_state_LDADD = $(STATE_TEST_LIBS)
$(tests_unit_test_slot_OBJECTS) $(tests_unit_test_state_OBJECTS) \
	$(tests_unit_test_open_state_OBJECTS): $(XDR_GEN_H)
TESTS += tests/unit/test_slot tests/unit/test_state \
	tests/unit/test_open_state
