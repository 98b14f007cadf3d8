/* src/common/workq.c: not written yet */
