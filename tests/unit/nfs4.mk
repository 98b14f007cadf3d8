# tests/unit/nfs4.mk: unit tests of src/nfs4 (see top-level Makefile.am)
