# src/fs/refset.mk: appends to src_fs_libfs_a_SOURCES
