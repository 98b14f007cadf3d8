# src/pmem: the pmem volume (superblock, persistence, operation log,
# checkpoints, fault injection).  See include/vol.h and docs/format.md.
noinst_LIBRARIES += src/pmem/libpmemvol.a
src_pmem_libpmemvol_a_SOURCES = \
	src/pmem/ckpt.c \
	src/pmem/crc32c.c \
	src/pmem/format.c \
	src/pmem/inject.c \
	src/pmem/log.c \
	src/pmem/vol.c \
	src/pmem/vol_impl.h
