# src/pnfs: build fragment (see top-level Makefile.am)
