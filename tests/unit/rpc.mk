# tests/unit/rpc.mk: unit tests of src/rpc and of the event loop / worker
# pool in src/common that the rpc layer is built on.
check_PROGRAMS += tests/unit/test_rpc_record
tests_unit_test_rpc_record_SOURCES = tests/unit/test_rpc_record.c
tests_unit_test_rpc_record_LDADD = src/rpc/librpc.a src/common/libcommon.a \
	$(TIRPC_LIBS) $(PTHREAD_LIBS)
TESTS += tests/unit/test_rpc_record

check_PROGRAMS += tests/unit/test_evloop tests/unit/test_workq
tests_unit_test_evloop_SOURCES = tests/unit/test_evloop.c
tests_unit_test_evloop_LDADD = src/common/libcommon.a $(PTHREAD_LIBS)
tests_unit_test_workq_SOURCES = tests/unit/test_workq.c
tests_unit_test_workq_LDADD = src/common/libcommon.a $(PTHREAD_LIBS)
TESTS += tests/unit/test_evloop tests/unit/test_workq

check_PROGRAMS += tests/unit/test_rpc_server
tests_unit_test_rpc_server_SOURCES = tests/unit/test_rpc_server.c
tests_unit_test_rpc_server_LDADD = src/rpc/librpc.a src/common/libcommon.a \
	$(TIRPC_LIBS) $(PTHREAD_LIBS)
TESTS += tests/unit/test_rpc_server
