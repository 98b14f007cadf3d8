# src/xdr: build fragment (see top-level Makefile.am)
