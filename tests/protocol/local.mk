# tests/protocol: end-to-end protocol tests.  Each program starts its own
# pmemnfsd on 127.0.0.1 (tests/protocol/harness.c) and drives it with the
# client library (src/client).  See docs/testing.md.
PROTO_LDADD = src/client/libclient.a src/rpc/librpc.a src/xdr/libxdr.a \
	src/common/libcommon.a $(TIRPC_LIBS) $(PTHREAD_LIBS)
PROTO_HARNESS = tests/protocol/harness.c tests/protocol/harness.h

# Tests that pass against the committed server go in PROTO_TESTS_ON (run
# by make check); the rest are built but run only by make protocol-check
# until the server side they test has landed.
PROTO_TESTS_ON = \
	tests/protocol/test_proto_basic \
	tests/protocol/test_proto_exchange_id \
	tests/protocol/test_proto_session \
	tests/protocol/test_proto_backchannel \
	tests/protocol/test_proto_lease \
	tests/protocol/test_proto_malformed
# test_proto_recall: needs OPEN, WRITE, LAYOUTGET, LAYOUTRETURN, SETATTR and
# CB_LAYOUTRECALL from the server (NFS4ERR_NOTSUPP today).
PROTO_TESTS_PENDING = \
	tests/protocol/test_proto_recall
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

tests_protocol_test_proto_recall_SOURCES = \
	tests/protocol/test_proto_recall.c $(PROTO_HARNESS)
tests_protocol_test_proto_recall_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_recall_DEPENDENCIES = src/daemon/pmemnfsd

tests_protocol_test_proto_malformed_SOURCES = \
	tests/protocol/test_proto_malformed.c $(PROTO_HARNESS)
tests_protocol_test_proto_malformed_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_proto_malformed_DEPENDENCIES = src/daemon/pmemnfsd

# CB_GETATTR to a write-delegation holder (RFC 8881 §10.4.3, §20.1), its
# answers set through the client library (nc_conn_set_cb_getattr).
check_PROGRAMS += tests/protocol/test_cb_getattr
TESTS += tests/protocol/test_cb_getattr
tests_protocol_test_cb_getattr_SOURCES = \
	tests/protocol/test_cb_getattr.c $(PROTO_HARNESS)
tests_protocol_test_cb_getattr_LDADD = $(PROTO_LDADD)
EXTRA_tests_protocol_test_cb_getattr_DEPENDENCIES = src/daemon/pmemnfsd

# Run every protocol test, pending ones included (needs a serving daemon).
# Run directly: automake only makes .log rules for programs in TESTS.
protocol-check: $(PROTO_TESTS) src/daemon/pmemnfsd
	@fail=0; for t in $(PROTO_TESTS); do \
		top_builddir='$(abs_top_builddir)' \
		top_srcdir='$(abs_top_srcdir)' ./$$t > $$t.out 2>&1; \
		rc=$$?; \
		if test $$rc -eq 0; then echo "PASS: $$t"; \
		elif test $$rc -eq 77; then echo "SKIP: $$t"; \
		else echo "FAIL: $$t (output in $$t.out)"; fail=1; fi; \
	done; exit $$fail
.PHONY: protocol-check
CLEANFILES += $(PROTO_TESTS:=.out)
