# tests/protocol/fsvc_open.mk: protocol tests of the open engineer
