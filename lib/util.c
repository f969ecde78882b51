/*
 * Small helpers used throughout cnw: bounded string copies, RFC 3339 time
 * formatting, a monotonic clock and a complete write.  They depend on nothing
 * of the daemon.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util.h"

int
cnw_strlcpy_checked(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int
cnw_path_join(char *dst, size_t size, const char *dir, const char *name)
{
	int n = snprintf(dst, size, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

void
cnw_time_rfc3339(char buf[static 21], long long unix_seconds)
{
	time_t t = (time_t)unix_seconds;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

long long
cnw_now_ms(void)
{
	return (long long)(cnw_now_ns() / 1000000);
}

long long
cnw_now_us(void)
{
	return (long long)(cnw_now_ns() / 1000);
}

int
cnw_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
