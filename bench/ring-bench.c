/*
 * ring-bench: what one frame costs between two threads through the fast
 * path's ring and buffer pool (netfn/), beside what the kernel's simplest
 * channel costs in the same run.
 *
 * A producer thread takes buffers from the pool in bursts of 32, writes a
 * frame length and a sequence number into each (so the buffer's cache line
 * really moves to the other core, as a frame's does) and enqueues their
 * indexes; a consumer thread dequeues bursts of 32, reads both, and frees
 * the buffers back to the producer.  All of it lives in a memfd region, as
 * between a driver and the worker.  Variants, each timed over a fixed
 * number of frames, the median of several runs:
 *
 *   ring+pool        the above
 *   ring only        indexes only, no buffer touched: the ring's own cost
 *                    (issue 4's figure: ns per frame at burst 32, aim < 10)
 *   pipe, 4 B/frame  the baseline: the same indexes through pipe(2), one
 *                    write and one read of 4 bytes per frame
 *   pipe, burst 32   a kinder baseline: 32 indexes (128 bytes) per write
 *
 * Waiting (ring full or empty) is a busy spin with the CPU's pause hint,
 * the way the worker spins before it sleeps.  The threads are pinned to
 * CPUs 0 and 1 when there are two.  Prints figures; never decides pass or
 * fail.
 *   bench/ring-bench [frames]      (default 20000000; pipes get 1/20th)
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netfn/pool.h"
#include "netfn/ring.h"
#include "netfn/shm.h"
#include "lib/util.h"

#define BURST 32
#define NBUFS 4096
#define RING_SIZE 1024
#define RUNS 5

enum variant { RING_POOL, RING_ONLY, PIPE_ONE, PIPE_BURST };

static const char *const variant_name[] = {
	[RING_POOL] = "ring+pool, burst 32",
	[RING_ONLY] = "ring only, burst 32",
	[PIPE_ONE] = "pipe+pool, 4 B/frame",
	[PIPE_BURST] = "pipe+pool, burst 32",
};

struct bench {
	enum variant v;
	uint64_t frames;
	struct pool *pool;
	struct ring *ring;
	int pipefd[2];
	int cpu;			/* the thread's CPU, -1 for none */
	uint64_t sum;			/* consumer's checksum, keeps the reads */
	int bad;
};

static double
now_s(void)
{
	return cnw_now_ns() / 1e9;
}

static void
pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void
die(const char *what)
{
	fprintf(stderr, "ring-bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
io_all(int fd, void *buf, size_t len, int writing)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = writing ? write(fd, p, len) : read(fd, p, len);

		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			die(writing ? "write" : "read");
		}
		p += n;
		len -= (size_t)n;
	}
}

static int
uses_pool(enum variant v)
{
	return v != RING_ONLY;
}

/* Hand n indexes to the consumer, by the variant's transport. */
static void
send_burst(struct bench *b, const uint32_t *idx, uint32_t n)
{
	uint32_t i, k;

	switch (b->v) {
	case RING_POOL:
	case RING_ONLY:
		for (i = 0; i < n; i += k)
			while ((k = ring_enqueue_burst(b->ring, idx + i, n - i)) == 0)
				cpu_relax();
		break;
	case PIPE_ONE:
		for (i = 0; i < n; i++)
			io_all(b->pipefd[1], (void *)&idx[i], sizeof(idx[i]), 1);
		break;
	case PIPE_BURST:
		io_all(b->pipefd[1], (void *)idx, n * sizeof(idx[0]), 1);
		break;
	}
}

/* Take up to max indexes from the producer; how many (0: none yet). */
static uint32_t
receive_burst(struct bench *b, uint32_t *idx, uint32_t max)
{
	ssize_t got;
	uint32_t i;

	switch (b->v) {
	case RING_POOL:
	case RING_ONLY:
		return ring_dequeue_burst(b->ring, idx, max);
	case PIPE_ONE:
		/*
		 * A read per frame, a whole burst of them: this cannot block
		 * for good, as the producer only stops when all NBUFS
		 * buffers are in flight, and then the pipe holds at least max.
		 */
		for (i = 0; i < max; i++)
			io_all(b->pipefd[0], &idx[i], sizeof(idx[i]), 0);
		return max;
	case PIPE_BURST:
		/* Whatever is there: writes are whole indexes, so reads are. */
		got = read(b->pipefd[0], idx, max * sizeof(idx[0]));
		if (got < 0 && errno == EINTR)
			return 0;
		if (got <= 0 || got % sizeof(idx[0]) != 0)
			die("read");
		return (uint32_t)got / sizeof(idx[0]);
	}
	return 0;
}

static void *
producer(void *arg)
{
	struct bench *b = arg;
	uint32_t idx[BURST], n, got, i;
	uint64_t seq = 0;

	pin(b->cpu);
	while (seq < b->frames) {
		n = BURST;
		if (n > b->frames - seq)
			n = (uint32_t)(b->frames - seq);
		if (uses_pool(b->v)) {
			while ((got = pool_alloc_burst(b->pool, idx, n)) == 0)
				cpu_relax();
			n = got;
			for (i = 0; i < n; i++) {
				struct pool_buf *buf = pool_buf(b->pool, idx[i]);
				uint64_t s = seq + i;

				buf->off = POOL_HEADROOM;
				buf->len = 60;
				memcpy(pool_buf_frame(buf), &s, sizeof(s));
			}
		} else {
			for (i = 0; i < n; i++)
				idx[i] = (uint32_t)(seq + i) % NBUFS;
		}
		send_burst(b, idx, n);
		seq += n;
	}
	return NULL;
}

static void
consumer(struct bench *b)
{
	uint32_t idx[BURST], n, i;
	uint64_t got = 0, sum = 0;

	pin(b->cpu < 0 ? -1 : b->cpu + 1);
	while (got < b->frames) {
		n = BURST;
		if (n > b->frames - got)
			n = (uint32_t)(b->frames - got);
		n = receive_burst(b, idx, n);
		if (n == 0) {
			cpu_relax();
			continue;
		}
		for (i = 0; i < n; i++) {
			if (uses_pool(b->v)) {
				struct pool_buf *buf = pool_buf(b->pool, idx[i]);
				uint64_t s;

				memcpy(&s, pool_buf_frame(buf), sizeof(s));
				b->bad |= s != got + i || buf->len != 60;
				sum += s;
			} else {
				b->bad |= idx[i] != (uint32_t)(got + i) % NBUFS;
				sum += idx[i];
			}
		}
		if (uses_pool(b->v) && pool_free_burst(b->pool, idx, n) != n)
			b->bad = 1;
		got += n;
	}
	b->sum = sum;
}

/* Seconds for one run of b->frames frames. */
static double
run_once(struct bench *b)
{
	pthread_t t;
	double t0;

	if (b->v == PIPE_ONE || b->v == PIPE_BURST) {
		if (pipe(b->pipefd) < 0)
			die("pipe");
	}
	t0 = now_s();
	if (pthread_create(&t, NULL, producer, b) != 0)
		die("pthread_create");
	consumer(b);
	pthread_join(t, NULL);
	t0 = now_s() - t0;
	if (b->v == PIPE_ONE || b->v == PIPE_BURST) {
		close(b->pipefd[0]);
		close(b->pipefd[1]);
	}
	return t0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median ns per frame over RUNS runs; prints the line. */
static double
measure(struct bench *b, enum variant v, uint64_t frames)
{
	double ns[RUNS];
	int i;

	b->v = v;
	b->frames = frames;
	for (i = 0; i < RUNS; i++) {
		ns[i] = run_once(b) * 1e9 / (double)frames;
		if (b->bad) {
			fprintf(stderr, "ring-bench: %s: frames arrived wrong\n", variant_name[v]);
			exit(1);
		}
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp_double);
	printf("%-22s %10" PRIu64 " frames  %8.2f Mframes/s  %8.1f ns/frame  (runs %.1f..%.1f)\n",
	       variant_name[v], frames, 1e3 / ns[RUNS / 2], ns[RUNS / 2], ns[0], ns[RUNS - 1]);
	fflush(stdout);
	return ns[RUNS / 2];
}

int
main(int argc, char **argv)
{
	struct shm m;
	struct cnw_error err = { 0 };
	struct bench b = { 0 };
	uint64_t frames = argc > 1 ? strtoull(argv[1], NULL, 10) : 20000000;
	size_t pool_size = pool_memsize(NBUFS, POOL_DATA_SIZE);
	double ring_pool, pipe_one, pipe_burst;

	if (frames < RUNS * 20)
		frames = RUNS * 20;
	if (shm_create(&m, "ring-bench", pool_size + ring_memsize(RING_SIZE), &err) < 0) {
		fprintf(stderr, "ring-bench: %s\n", err.msg);
		return 1;
	}
	b.pool = m.base;
	b.ring = (struct ring *)((char *)m.base + pool_size);
	if (pool_init(b.pool, NBUFS, POOL_DATA_SIZE) < 0 || ring_init(b.ring, RING_SIZE) < 0) {
		fprintf(stderr, "ring-bench: bad geometry\n");
		return 1;
	}
	b.cpu = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? 0 : -1;
	printf("ring-bench: 2 threads%s, pool %d x %d B, ring %d, median of %d runs\n",
	       b.cpu < 0 ? "" : " on CPUs 0 and 1", NBUFS, POOL_DATA_SIZE, RING_SIZE, RUNS);
	ring_pool = measure(&b, RING_POOL, frames);
	measure(&b, RING_ONLY, frames);
	pipe_one = measure(&b, PIPE_ONE, frames / 20);
	pipe_burst = measure(&b, PIPE_BURST, frames / 20);
	printf("ratio ring+pool vs pipe 4 B/frame: %.1fx the frame rate\n", pipe_one / ring_pool);
	printf("ratio ring+pool vs pipe burst 32:  %.1fx the frame rate\n", pipe_burst / ring_pool);
	shm_unmap(&m);
	return 0;
}
