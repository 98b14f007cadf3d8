# src/daemon: pmemnfsd, the server process.
sbin_PROGRAMS += src/daemon/pmemnfsd
src_daemon_pmemnfsd_SOURCES = \
	src/daemon/control.c \
	src/daemon/daemon.h \
	src/daemon/options.c \
	src/daemon/pmemnfsd.c \
	src/daemon/storage.c
src_daemon_pmemnfsd_LDADD = $(PMEMNFS_LIBS_ALL) $(PMEMNFS_SYSLIBS)
dist_man_MANS += man/pmemnfsd.8
