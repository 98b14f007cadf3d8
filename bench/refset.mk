# bench/refset.mk
