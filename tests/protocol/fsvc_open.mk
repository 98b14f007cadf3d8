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
# Several client processes, one file, a counter incremented under a
# byte-range write lock: lock exclusivity and file contents.
check_PROGRAMS += tests/protocol/test_fsvc_open_stress
TESTS += tests/protocol/test_fsvc_open_stress
tests_protocol_test_fsvc_open_stress_SOURCES = \
	tests/protocol/test_fsvc_open_stress.c $(PROTO_HARNESS)
tests_protocol_test_fsvc_open_stress_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_fsvc_open_stress_DEPENDENCIES = src/daemon/pmemnfsd
