# bench/refset.mk: the cost of fs_break_layouts() (empty set, 1,000
# references answering at once) and of grant/pin round trips.
# `make bench-refset` builds and runs it; numbers go in docs/refset.md.
noinst_PROGRAMS += bench/refset/bench_refset
bench_refset_bench_refset_SOURCES = bench/refset/bench_refset.c
bench_refset_bench_refset_LDADD = src/fs/libfs.a src/common/libcommon.a \
	$(PTHREAD_LIBS)

bench-refset: bench/refset/bench_refset$(EXEEXT)
	./bench/refset/bench_refset$(EXEEXT)
.PHONY: bench-refset
