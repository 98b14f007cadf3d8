# src/client: the NFSv4.1 client library (include/nfsclient.h) used by the
# protocol tests and the benchmark tool.
noinst_LIBRARIES += src/client/libclient.a
src_client_libclient_a_SOURCES = \
	src/client/cb.c \
	src/client/client_impl.h \
	src/client/conn.c \
	src/client/session.c
