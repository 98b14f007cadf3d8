/*
 * log.h - the one logging API.  Messages go to stderr (foreground) or
 * syslog (daemon).  Safe to call from any thread; takes no caller-visible
 * locks.
 */
#ifndef PMEMNFS_COMMON_LOG_H
#define PMEMNFS_COMMON_LOG_H

#include <stdbool.h>
#include "common/compiler.h"

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

/* Set the threshold and destination; ident is the syslog identity. */
void log_init(const char *ident, enum log_level level, bool use_syslog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "error", "warn", "notice", "info", "debug"; -EINVAL if unknown. */
int log_level_parse(const char *s, enum log_level *out) MUST_CHECK;

void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#define log_error(...)	log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	\
	do { if (log_get_level() >= LOG_LVL_DEBUG) \
		log_msg(LOG_LVL_DEBUG, __VA_ARGS__); } while (0)

#endif
