/*
 * pmemnfsd.c - the daemon's entry point (wired up as subsystems land).
 */
#include "config.h"

#include <stdio.h>

#include "common.h"

int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	log_init("pmemnfsd", LOG_LVL_NOTICE, false);
	log_error("pmemnfsd: not yet serving");
	return 1;
}
