# tests/unit/rpc.mk: unit tests of src/rpc and of the event loop / worker
# pool in src/common that the rpc layer is built on.
check_PROGRAMS += tests/unit/test_rpc_record
tests_unit_test_rpc_record_SOURCES = tests/unit/test_rpc_record.c
tests_unit_test_rpc_record_LDADD = src/rpc/librpc.a src/common/libcommon.a \
	$(TIRPC_LIBS) $(PTHREAD_LIBS)
TESTS += tests/unit/test_rpc_record
