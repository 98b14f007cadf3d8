# tools/fsck.mk
