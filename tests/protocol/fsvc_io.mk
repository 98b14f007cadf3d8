# tests/protocol/fsvc_io.mk: protocol tests of the io engineer
