# tools/ctl.mk
