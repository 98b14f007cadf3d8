/* src/common/conf.c: not written yet */
