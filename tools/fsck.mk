# tools/fsck.mk: pmemnfs-fsck, check and repair a volume (man/pmemnfs-fsck.8).
sbin_PROGRAMS += tools/fsck/pmemnfs-fsck
tools_fsck_pmemnfs_fsck_SOURCES = tools/fsck/fsck.c
tools_fsck_pmemnfs_fsck_LDADD = src/fs/libfs.a src/pmem/libpmemvol.a \
	src/common/libcommon.a $(PMEM_LIBS) $(PTHREAD_LIBS)
dist_man_MANS += man/pmemnfs-fsck.8
