# tests/protocol/fsvc_io.mk: protocol tests of the io engineer - READ,
# WRITE, COMMIT, the NFSv4.2 data operations and extended attributes
# (tests/protocol/test_fsvc_io.c; PROTO_LDADD and PROTO_HARNESS come from
# tests/protocol/local.mk).
check_PROGRAMS += tests/protocol/test_fsvc_io
TESTS += tests/protocol/test_fsvc_io
tests_protocol_test_fsvc_io_SOURCES = \
	tests/protocol/test_fsvc_io.c $(PROTO_HARNESS)
tests_protocol_test_fsvc_io_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_fsvc_io_DEPENDENCIES = src/daemon/pmemnfsd
