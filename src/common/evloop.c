/* src/common/evloop.c: not written yet */
