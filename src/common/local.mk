# src/common: log, locks, config, event loop, worker pool.
noinst_LIBRARIES += src/common/libcommon.a
src_common_libcommon_a_SOURCES = \
	src/common/lock.c \
	src/common/log.c
