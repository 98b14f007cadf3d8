# tests/unit/client.mk: unit tests of src/client (see top-level Makefile.am)
