# src/common: log, locks, config, event loop, worker pool.
noinst_LIBRARIES += src/common/libcommon.a
src_common_libcommon_a_SOURCES = \
	src/common/conf.c \
	src/common/evloop.c \
	src/common/exports.c \
	src/common/lock.c \
	src/common/log.c \
	src/common/workq.c
