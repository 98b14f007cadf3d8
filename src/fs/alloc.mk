# src/fs/alloc.mk: the free-space allocator (include/fs/alloc.h).
src_fs_libfs_a_SOURCES += src/fs/alloc.c
