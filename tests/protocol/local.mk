# tests/protocol: build fragment (see top-level Makefile.am)
