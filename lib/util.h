/*
 * Scope-based cleanup and small helpers shared by every part of cnw.
 *
 * Every resource a function acquires is declared with one of the cleanup_*
 * attributes below, so an early `return` on any error path releases it (the
 * crun idiom).  Ownership moved elsewhere is made explicit by setting the
 * variable to NULL or -1 (see steal_fd/steal_ptr).
 */
#ifndef CNW_UTIL_H
#define CNW_UTIL_H

#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

static inline void cnw_freep(void *p) { free(*(void **)p); }
static inline void cnw_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define cleanup_free  __attribute__((cleanup(cnw_freep)))
#define cleanup_close __attribute__((cleanup(cnw_closep)))

static inline int steal_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}

static inline void *steal_ptr(void *pp)
{
	void **p = pp;
	void *r = *p;
	*p = NULL;
	return r;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copy a C string into a fixed array; returns -1 if it did not fit. */
int cnw_strlcpy_checked(char *dst, const char *src, size_t size);
/* dir + "/" + name into dst; -1 if it does not fit (nothing is truncated). */
int cnw_path_join(char *dst, size_t size, const char *dir, const char *name);
/* Now as RFC 3339 UTC, "2026-11-20T21:45:00Z". */
void cnw_time_rfc3339(char buf[static 21], long long unix_seconds);
/* Monotonic milliseconds, microseconds. */
long long cnw_now_ms(void);
long long cnw_now_us(void);
/* Write a whole buffer to fd, retrying on EINTR and short writes. */
int cnw_write_all(int fd, const void *buf, size_t len);

#endif
