# tests/protocol: end-to-end protocol tests.  Each program starts its own
# pmemnfsd on 127.0.0.1 (tests/protocol/harness.c) and drives it with the
# client library (src/client).  See docs/testing.md.
PROTO_LDADD = src/client/libclient.a src/rpc/librpc.a src/xdr/libxdr.a \
	src/common/libcommon.a $(TIRPC_LIBS) $(PTHREAD_LIBS)
PROTO_HARNESS = tests/protocol/harness.c tests/protocol/harness.h

# Tests that pass against the committed server go in PROTO_TESTS_ON (run
# by make check); the rest are built but run only by make protocol-check
# until the server side they test has landed.
PROTO_TESTS_ON =
PROTO_TESTS_PENDING = \
	tests/protocol/test_proto_basic \
	tests/protocol/test_proto_exchange_id \
	tests/protocol/test_proto_session \
	tests/protocol/test_proto_backchannel \
	tests/protocol/test_proto_lease \
	tests/protocol/test_proto_malformed
PROTO_TESTS = $(PROTO_TESTS_ON) $(PROTO_TESTS_PENDING)

check_PROGRAMS += $(PROTO_TESTS)
TESTS += $(PROTO_TESTS_ON)

tests_protocol_test_proto_basic_SOURCES = \
	tests/protocol/test_proto_basic.c $(PROTO_HARNESS)
tests_protocol_test_proto_basic_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_basic_DEPENDENCIES = src/daemon/pmemnfsd

tests_protocol_test_proto_exchange_id_SOURCES = \
	tests/protocol/test_proto_exchange_id.c $(PROTO_HARNESS)
tests_protocol_test_proto_exchange_id_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_exchange_id_DEPENDENCIES = src/daemon/pmemnfsd

tests_protocol_test_proto_session_SOURCES = \
	tests/protocol/test_proto_session.c $(PROTO_HARNESS)
tests_protocol_test_proto_session_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_session_DEPENDENCIES = src/daemon/pmemnfsd

tests_protocol_test_proto_backchannel_SOURCES = \
	tests/protocol/test_proto_backchannel.c $(PROTO_HARNESS)
tests_protocol_test_proto_backchannel_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_backchannel_DEPENDENCIES = src/daemon/pmemnfsd

tests_protocol_test_proto_lease_SOURCES = \
	tests/protocol/test_proto_lease.c $(PROTO_HARNESS)
tests_protocol_test_proto_lease_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_lease_DEPENDENCIES = src/daemon/pmemnfsd

tests_protocol_test_proto_malformed_SOURCES = \
	tests/protocol/test_proto_malformed.c $(PROTO_HARNESS)
tests_protocol_test_proto_malformed_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_malformed_DEPENDENCIES = src/daemon/pmemnfsd

# Run every protocol test, pending ones included (needs a serving daemon).
protocol-check: $(PROTO_TESTS) src/daemon/pmemnfsd
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(PROTO_TESTS)'
.PHONY: protocol-check
