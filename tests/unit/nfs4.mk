# tests/unit/nfs4.mk: unit tests of src/nfs4 (see top-level Makefile.am).
NFS4_TEST_LIBS = $(PMEMNFS_LIBS_ALL) $(PMEMNFS_SYSLIBS)

check_PROGRAMS += tests/unit/test_compound tests/unit/test_backchannel
tests_unit_test_compound_SOURCES = tests/unit/test_compound.c
tests_unit_test_compound_LDADD = $(NFS4_TEST_LIBS)
# A real TCP connection on 127.0.0.1 (free port): CB_NULL, CB_COMPOUND,
# path-down reporting, BIND_CONN_TO_SESSION, connection close.
tests_unit_test_backchannel_SOURCES = tests/unit/test_backchannel.c
tests_unit_test_backchannel_LDADD = $(NFS4_TEST_LIBS)
$(tests_unit_test_compound_OBJECTS) $(tests_unit_test_backchannel_OBJECTS): \
	$(XDR_GEN_H)
TESTS += tests/unit/test_compound tests/unit/test_backchannel

# The file service's pure helpers: filehandle MAC vectors, names, errmap.
check_PROGRAMS += tests/unit/test_fsvc
tests_unit_test_fsvc_SOURCES = tests/unit/test_fsvc.c
tests_unit_test_fsvc_LDADD = $(NFS4_TEST_LIBS)
$(tests_unit_test_fsvc_OBJECTS): $(XDR_GEN_H)
TESTS += tests/unit/test_fsvc

# Which COMPOUNDs the event loop may run itself (src/nfs4/inline.c).
check_PROGRAMS += tests/unit/test_inline
tests_unit_test_inline_SOURCES = tests/unit/test_inline.c
tests_unit_test_inline_LDADD = $(NFS4_TEST_LIBS)
$(tests_unit_test_inline_OBJECTS): $(XDR_GEN_H)
TESTS += tests/unit/test_inline
