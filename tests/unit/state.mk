# tests/unit/state.mk: unit tests of src/state (see top-level Makefile.am)
