# tests/unit/refset.mk: unit tests of src/refset (see top-level Makefile.am)
