# tests/unit/fs.mk: unit tests of src/fs (see top-level Makefile.am)
