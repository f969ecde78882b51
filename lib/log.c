/*
 * Leveled logging for every cnw process; see log.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"

static const char *log_role = "cnwd";
static int log_level = LOG_LVL_INFO;
static int log_syslog;
static log_sink_fn log_sink;
static void *log_sink_arg;

static const struct {
	const char *name;
	int syslog_prio;
} log_levels[] = {
	[LOG_LVL_ERROR] = { "error", LOG_ERR },
	[LOG_LVL_WARNING] = { "warning", LOG_WARNING },
	[LOG_LVL_NOTICE] = { "notice", LOG_NOTICE },
	[LOG_LVL_INFO] = { "info", LOG_INFO },
	[LOG_LVL_DEBUG] = { "debug", LOG_DEBUG },
};

void
log_init(const char *role, int level, int use_syslog)
{
	log_role = role;
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog("cnwd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(int level)
{
	log_level = level;
}

int
log_get_level(void)
{
	return log_level;
}

void
log_set_sink(log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_sink_arg = arg;
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++)
		if (strcmp(s, log_levels[i].name) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG)
		return "unknown";
	return log_levels[level].name;
}

void
log_emit(int level, const char *role, const char *line)
{
	if (level < LOG_LVL_ERROR || level > LOG_LVL_DEBUG)
		level = LOG_LVL_ERROR;
	if (level > log_level)
		return;
	fprintf(stderr, "cnwd[%s] %s: %s\n", role, log_levels[level].name, line);
	if (log_syslog)
		syslog(log_levels[level].syslog_prio, "[%s] %s", role, line);
}

static void
log_vlog(int level, int with_errno, const char *fmt, va_list ap)
{
	char line[1024];
	int saved = errno;
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(line))
		snprintf(line + n, sizeof(line) - (size_t)n, ": %s", strerror(saved));
	if (log_sink != NULL)
		log_sink(level, line, log_sink_arg);
	else
		log_emit(level, log_role, line);
	errno = saved;
}

#define LOG_FN(fn, level, with_errno)			\
	void fn(const char *fmt, ...)			\
	{						\
		va_list ap;				\
		va_start(ap, fmt);			\
		log_vlog(level, with_errno, fmt, ap);	\
		va_end(ap);				\
	}

LOG_FN(log_warn, LOG_LVL_WARNING, 1)
LOG_FN(log_warnx, LOG_LVL_WARNING, 0)
LOG_FN(log_notice, LOG_LVL_NOTICE, 0)
LOG_FN(log_info, LOG_LVL_INFO, 0)
LOG_FN(log_debug, LOG_LVL_DEBUG, 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LVL_ERROR, 1, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vlog(LOG_LVL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
