# bench/load.mk: nfsload, the NFSv4.1 load generator (bench/load/), its
# smoke test, and `make bench-load`, the side-by-side comparison with
# NFS-Ganesha (bench/compare/run.sh; results in docs/BENCHMARKS.md).
# The comparison is never part of `make check`: it takes minutes, needs
# root and Debian's nfs-ganesha, and measures rather than tests.
noinst_PROGRAMS += bench/load/nfsload
bench_load_nfsload_SOURCES = \
	bench/load/load.h \
	bench/load/hist.c \
	bench/load/reply.c \
	bench/load/setup.c \
	bench/load/recall.c \
	bench/load/nfsload.c
bench_load_nfsload_LDADD = src/client/libclient.a src/rpc/librpc.a \
	src/xdr/libxdr.a src/common/libcommon.a $(TIRPC_LIBS) $(PTHREAD_LIBS)

# Status and op names for the report, made from the protocol description.
BUILT_SOURCES += bench/load/ld_names.h
CLEANFILES += bench/load/ld_names.h
bench/load/ld_names.h: $(top_srcdir)/src/xdr/nfs4_prot.x \
		$(top_srcdir)/bench/load/names.awk
	$(AM_V_GEN)$(MKDIR_P) bench/load && \
	$(AWK) -f $(top_srcdir)/bench/load/names.awk \
		$(top_srcdir)/src/xdr/nfs4_prot.x > $@.tmp && mv $@.tmp $@
# BUILT_SOURCES only helps `make all`; `make bench/load/nfsload` needs this.
bench/load/reply.$(OBJEXT): bench/load/ld_names.h

# The histogram and the reply walker, without a server.
check_PROGRAMS += bench/load/test_load_units
TESTS += bench/load/test_load_units
bench_load_test_load_units_SOURCES = \
	bench/load/test_load_units.c \
	bench/load/load.h \
	bench/load/hist.c \
	bench/load/reply.c
bench_load_test_load_units_LDADD = $(bench_load_nfsload_LDADD)

# A few hundred operations of each workload the server supports, against
# a pmemnfsd the test starts on a free loopback port; zero errors allowed.
TESTS += bench/load/test_nfsload.sh
dist_check_SCRIPTS += bench/load/test_nfsload.sh
EXTRA_DIST += bench/load/names.awk bench/compare

# The comparison: BENCH_LOAD_ARGS passes options to run.sh (see --help),
# e.g. make bench-load BENCH_LOAD_ARGS='--quick'.
bench-load: bench/load/nfsload$(EXEEXT) src/daemon/pmemnfsd$(EXEEXT)
	$(top_srcdir)/bench/compare/run.sh \
		--builddir '$(abs_top_builddir)' $(BENCH_LOAD_ARGS)
.PHONY: bench-load
