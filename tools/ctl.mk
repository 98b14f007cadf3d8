# tools/ctl.mk: pmemnfsctl, the administration client.
sbin_PROGRAMS += tools/ctl/pmemnfsctl
tools_ctl_pmemnfsctl_SOURCES = tools/ctl/pmemnfsctl.c
dist_man_MANS += man/pmemnfsctl.8
