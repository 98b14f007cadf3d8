# tests/protocol/fsvc_ns.mk: protocol tests of the ns engineer - the
# namespace operations, attributes, filehandles, exports and the pseudo
# filesystem (tests/protocol/test_fsvc_ns.c; PROTO_LDADD and PROTO_HARNESS
# come from tests/protocol/local.mk).
check_PROGRAMS += tests/protocol/test_fsvc_ns
TESTS += tests/protocol/test_fsvc_ns
tests_protocol_test_fsvc_ns_SOURCES = \
	tests/protocol/test_fsvc_ns.c $(PROTO_HARNESS)
tests_protocol_test_fsvc_ns_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_fsvc_ns_DEPENDENCIES = src/daemon/pmemnfsd
