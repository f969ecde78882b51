/*
 * Logging with levels, after OpenBSD's log.c.
 *
 * Two tiers: fatal()/fatalx() for a broken invariant (the process exits; in
 * a child the supervisor notices and restarts it), log_warn()/log_warnx() and
 * below for what the process survives.  The *_warn/fatal forms append
 * strerror(errno).
 *
 * The parent writes to stderr, and also to syslog when stderr is not a
 * terminal.  A child installs a sink (log_set_sink) that forwards each line
 * to the parent over its socketpair, so a sandboxed child needs no syslog
 * socket and the parent decides where lines go.
 */
#ifndef CNW_LOG_H
#define CNW_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_ERROR = 0,
	LOG_LVL_WARNING,
	LOG_LVL_NOTICE,
	LOG_LVL_INFO,
	LOG_LVL_DEBUG,
};

typedef void (*log_sink_fn)(int level, const char *line, void *arg);

void log_init(const char *role, int level, int use_syslog);
void log_set_level(int level);
int log_get_level(void);
void log_set_sink(log_sink_fn fn, void *arg);
/* Parse "debug".."error"; returns -1 if unknown. */
int log_level_parse(const char *s);
const char *log_level_name(int level);
/* Emit a line that arrived from another process, tagged with its role. */
void log_emit(int level, const char *role, const char *line);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
