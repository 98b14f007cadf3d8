# src/rpc: ONC RPC over TCP - record marking, call decode/dispatch, replies,
# back-channel calls (see include/rpc.h and docs/rpc.md).
noinst_LIBRARIES += src/rpc/librpc.a
src_rpc_librpc_a_SOURCES = \
	src/rpc/call.c \
	src/rpc/callback.c \
	src/rpc/conn.c \
	src/rpc/record.c \
	src/rpc/rpc_int.h \
	src/rpc/server.c \
	src/rpc/xbuf.c
