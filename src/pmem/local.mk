# src/pmem: build fragment (see top-level Makefile.am)
