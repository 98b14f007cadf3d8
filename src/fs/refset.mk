# src/fs/refset.mk: per-inode locks, the external reference set and
# fs_break_layouts() (appends to src_fs_libfs_a_SOURCES).
src_fs_libfs_a_SOURCES += \
	src/fs/ilock.c \
	src/fs/refset.c \
	src/fs/break.c \
	src/fs/refset_int.h
