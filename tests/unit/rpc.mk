# tests/unit/rpc.mk: unit tests of src/rpc (see top-level Makefile.am)
