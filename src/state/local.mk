# src/state: build fragment (see top-level Makefile.am)
