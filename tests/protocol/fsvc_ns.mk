# tests/protocol/fsvc_ns.mk: protocol tests of the ns engineer
