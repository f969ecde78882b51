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
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
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
/* Monotonic nanoseconds; inline, as the fast path reads it once per pass. */
static inline uint64_t
cnw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * A pause in a loop that spins on memory another CPU writes: the CPU's
 * hint (x86 pause, arm64 yield) lets the sibling hyperthread run and ends
 * the loop without a memory-order mis-speculation; nothing elsewhere.
 */
static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* One turn of a bounded spin: a pause, then 1 while budget_ns since start_ns lasts. */
static inline int
cnw_spin(uint64_t start_ns, uint64_t budget_ns)
{
	cpu_relax();
	return cnw_now_ns() - start_ns < budget_ns;
}

/* Write a whole buffer to fd, retrying on EINTR and short writes. */
int cnw_write_all(int fd, const void *buf, size_t len);

#endif
