# src/nfs4: the NFS RPC program, the COMPOUND loop, the op table and the op
# handlers (see docs/nfs4.md).
noinst_LIBRARIES += src/nfs4/libnfs4.a
src_nfs4_libnfs4_a_SOURCES = \
	src/nfs4/nfs4_int.h \
	src/nfs4/attr.c \
	src/nfs4/attr_ops.c \
	src/nfs4/compound.c \
	src/nfs4/cstate.c \
	src/nfs4/dir_ops.c \
	src/nfs4/errmap.c \
	src/nfs4/fh.c \
	src/nfs4/fh_ops.c \
	src/nfs4/fileops.h \
	src/nfs4/fsvc.h \
	src/nfs4/idmap.c \
	src/nfs4/inline.c \
	src/nfs4/io_ops.c \
	src/nfs4/lock_ops.c \
	src/nfs4/open_ops.c \
	src/nfs4/optable.c \
	src/nfs4/server.c \
	src/nfs4/session_ops.c \
	src/nfs4/xattr_ops.c
# The sources include the generated nfs4_prot.h (see src/xdr/local.mk).
$(src_nfs4_libnfs4_a_OBJECTS): $(XDR_GEN_H)
