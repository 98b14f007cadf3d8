# src/rpc: build fragment (see top-level Makefile.am)
