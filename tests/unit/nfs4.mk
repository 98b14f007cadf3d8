# tests/unit/nfs4.mk: unit tests of src/nfs4 (see top-level Makefile.am).
check_PROGRAMS += tests/unit/test_compound
tests_unit_test_compound_SOURCES = tests/unit/test_compound.c
tests_unit_test_compound_LDADD = src/nfs4/libnfs4.a src/state/libstate.a \
	src/rpc/librpc.a src/xdr/libxdr.a src/common/libcommon.a \
	$(TIRPC_LIBS) $(PTHREAD_LIBS)
$(tests_unit_test_compound_OBJECTS): $(XDR_GEN_H)
TESTS += tests/unit/test_compound
