# src/fs/core.mk: the namespace engine - inodes, directories, extent maps,
# the file operations, log records, checkpoints and replay (include/fs.h).
# Appends to src_fs_libfs_a_SOURCES.
src_fs_libfs_a_SOURCES += \
	src/fs/check.c \
	src/fs/ckpt.c \
	src/fs/dir.c \
	src/fs/dir.h \
	src/fs/dirty.c \
	src/fs/dirty.h \
	src/fs/extmap.c \
	src/fs/extmap.h \
	src/fs/file.c \
	src/fs/fs_impl.h \
	src/fs/inode.c \
	src/fs/journal.c \
	src/fs/mount.c \
	src/fs/namei.c \
	src/fs/xattr.c
