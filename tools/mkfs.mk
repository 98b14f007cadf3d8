# tools/mkfs.mk: pmemnfs-mkfs, format a volume (man/pmemnfs-mkfs.8).
sbin_PROGRAMS += tools/mkfs/pmemnfs-mkfs
tools_mkfs_pmemnfs_mkfs_SOURCES = tools/mkfs/mkfs.c
tools_mkfs_pmemnfs_mkfs_LDADD = src/pmem/libpmemvol.a src/common/libcommon.a \
	$(PMEM_LIBS) $(PTHREAD_LIBS)
dist_man_MANS += man/pmemnfs-mkfs.8
