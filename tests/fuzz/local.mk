# tests/fuzz: libFuzzer targets for everything decoded from the wire
