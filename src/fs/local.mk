# src/fs: the storage engine library.  Its sources are listed by the
# fragments alloc.mk (allocator), refset.mk (locks, reference set,
# break_layouts) and core.mk (inodes, directories, extent maps, operations).
noinst_LIBRARIES += src/fs/libfs.a
src_fs_libfs_a_SOURCES =
