# tests/unit/client.mk: unit tests of src/client against a scripted fake
# server (no daemon needed).
check_PROGRAMS += tests/unit/test_client
tests_unit_test_client_SOURCES = tests/unit/test_client.c
tests_unit_test_client_LDADD = src/client/libclient.a src/rpc/librpc.a \
	src/xdr/libxdr.a src/common/libcommon.a $(TIRPC_LIBS) $(PTHREAD_LIBS)
TESTS += tests/unit/test_client
