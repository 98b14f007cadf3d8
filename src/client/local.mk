# src/client: build fragment (see top-level Makefile.am)
