# tests/integration: build fragment (see top-level Makefile.am)
