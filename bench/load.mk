# bench/load.mk
