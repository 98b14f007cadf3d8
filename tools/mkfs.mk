# tools/mkfs.mk
