/*
 * log.c - the one logging API: stderr with a timestamp in the foreground,
 * syslog when daemonized.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static _Atomic int log_level = LOG_LVL_NOTICE;
static bool log_syslog;
static const char *log_ident = "pmemnfsd";

static const char *const level_names[] = {
	[LOG_LVL_ERROR] = "error",
	[LOG_LVL_WARN] = "warn",
	[LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

static const int syslog_prio[] = {
	[LOG_LVL_ERROR] = LOG_ERR,
	[LOG_LVL_WARN] = LOG_WARNING,
	[LOG_LVL_NOTICE] = LOG_NOTICE,
	[LOG_LVL_INFO] = LOG_INFO,
	[LOG_LVL_DEBUG] = LOG_DEBUG,
};

void
log_init(const char *ident, enum log_level level, bool use_syslog)
{
	log_ident = ident;
	atomic_store(&log_level, (int)level);
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)atomic_load(&log_level);
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(level_names); i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if ((int)level > atomic_load(&log_level))
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_syslog) {
		syslog(syslog_prio[level], "%s", buf);
	} else {
		struct timespec ts;
		struct tm tm;
		char when[32];

		clock_gettime(CLOCK_REALTIME, &ts);
		localtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
		/* One fprintf per line keeps lines whole across threads. */
		fprintf(stderr, "%s.%03ld %s[%d] %s: %s\n", when,
			ts.tv_nsec / 1000000, log_ident, (int)getpid(),
			level_names[level], buf);
	}
}

void
assert_fail(const char *expr, const char *file, int line, const char *func)
{
	log_error("assertion failed: %s (%s:%d, %s)", expr, file, line, func);
	fprintf(stderr, "assertion failed: %s (%s:%d, %s)\n", expr, file,
		line, func);
	abort();
}
