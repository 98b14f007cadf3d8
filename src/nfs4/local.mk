# src/nfs4: build fragment (see top-level Makefile.am)
