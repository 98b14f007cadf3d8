# tests/unit/xdr.mk: unit tests of src/xdr (see top-level Makefile.am)
