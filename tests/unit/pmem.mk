# tests/unit/pmem.mk: unit tests of src/pmem (see top-level Makefile.am)
