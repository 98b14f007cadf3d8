# src/daemon: pmemnfsd, the server process.
sbin_PROGRAMS += src/daemon/pmemnfsd
src_daemon_pmemnfsd_SOURCES = src/daemon/pmemnfsd.c
src_daemon_pmemnfsd_LDADD = src/common/libcommon.a $(PMEMNFS_SYSLIBS)
