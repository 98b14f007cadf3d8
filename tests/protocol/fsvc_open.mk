# tests/protocol/fsvc_open.mk: protocol tests of the open engineer - OPEN,
# CLOSE, OPEN_DOWNGRADE, share reservations, stateids, byte-range locks
# (tests/protocol/test_fsvc_open.c); PROTO_LDADD and PROTO_HARNESS come
# from tests/protocol/local.mk.
check_PROGRAMS += tests/protocol/test_fsvc_open
TESTS += tests/protocol/test_fsvc_open
tests_protocol_test_fsvc_open_SOURCES = \
	tests/protocol/test_fsvc_open.c $(PROTO_HARNESS)
tests_protocol_test_fsvc_open_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_fsvc_open_DEPENDENCIES = src/daemon/pmemnfsd
