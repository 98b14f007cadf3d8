# bench/engine.mk: creates, lookups and 4 KiB stable writes per second of
# the engine on a file volume, one and two threads.  `make bench-engine`
# builds and runs it; numbers go in docs/fs.md.  BENCH_ENGINE_ARGS passes
# options (-n creates, -w writes, -s volume MiB).
noinst_PROGRAMS += bench/engine/bench_engine
bench_engine_bench_engine_SOURCES = bench/engine/bench_engine.c
bench_engine_bench_engine_LDADD = src/fs/libfs.a src/pmem/libpmemvol.a \
	src/common/libcommon.a $(PMEM_LIBS) $(PTHREAD_LIBS)

bench-engine: bench/engine/bench_engine$(EXEEXT)
	./bench/engine/bench_engine$(EXEEXT) $(BENCH_ENGINE_ARGS)
.PHONY: bench-engine
