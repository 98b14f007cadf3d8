# src/fs: build fragment (see top-level Makefile.am)
