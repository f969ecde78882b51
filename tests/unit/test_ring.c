/*
 * The fast path's shared-memory building blocks: the ring (empty, full,
 * partial bursts, the 2^32 wrap of its free-running indexes, a peer writing
 * nonsense), its guarded side (ring_guard.h), the buffer pool (exhaustion, reuse), memfd regions (sealed,
 * mapped twice at different addresses), and a stress test: ten million
 * sequence numbers in pool buffers through a ring, in random bursts, between
 * two threads and between two processes, each checked to arrive exactly once
 * and in order.  RING_STRESS_FRAMES overrides the ten million.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfn/pool.h"
#include "netfn/ring.h"
#include "netfn/ring_guard.h"
#include "netfn/shm.h"
#include "lib/util.h"

/* Helpers ------------------------------------------------------------- */

static struct ring *
ring_new(uint32_t size)
{
	struct ring *r = aligned_alloc(RING_CACHE_LINE, ring_memsize(size));

	assert_non_null(r);
	assert_int_equal(ring_init(r, size), 0);
	return r;
}

/* Start both free-running indexes at start, as if that many had passed. */
static void
ring_start_at(struct ring *r, uint32_t start)
{
	atomic_store(&r->prod.head, start);
	atomic_store(&r->cons.tail, start);
	r->prod.cons_cache = start;
	r->cons.prod_cache = start;
}

static double
now_s(void)
{
	return cnw_now_ns() / 1e9;
}

static uint32_t
xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/* The ring ------------------------------------------------------------ */

static void
test_ring_sizes(void **state)
{
	(void)state;
	assert_int_equal(ring_memsize(0), 0);
	assert_int_equal(ring_memsize(3), 0);
	assert_int_equal(ring_memsize(RING_SIZE_MAX + 1u), 0);
	assert_int_equal(ring_memsize(UINT32_MAX), 0);
	assert_int_equal(ring_memsize(1), 4 * RING_CACHE_LINE);
	assert_int_equal(ring_memsize(1024), 3 * RING_CACHE_LINE + 4096);
	assert_int_equal(ring_memsize(RING_SIZE_MAX), 3 * RING_CACHE_LINE + 4 * (size_t)RING_SIZE_MAX);
	/* The two indexes never share a line with each other or the slots. */
	assert_int_equal(offsetof(struct ring, prod) % RING_CACHE_LINE, 0);
	assert_int_equal(offsetof(struct ring, cons) - offsetof(struct ring, prod), RING_CACHE_LINE);
	assert_int_equal(offsetof(struct ring, slots) - offsetof(struct ring, cons), RING_CACHE_LINE);
}

static void
test_ring_empty_and_full(void **state)
{
	struct ring *r = ring_new(8);
	uint32_t in[8] = { 10, 11, 12, 13, 14, 15, 16, 17 }, out[16];

	(void)state;
	assert_int_equal(ring_count(r), 0);
	assert_int_equal(ring_free_count(r), 8);
	assert_int_equal(ring_dequeue_burst(r, out, 16), 0);
	assert_int_equal(ring_enqueue_burst(r, in, 8), 8);
	assert_int_equal(ring_count(r), 8);
	assert_int_equal(ring_free_count(r), 0);
	assert_int_equal(ring_enqueue_burst(r, in, 1), 0);
	assert_int_equal(ring_dequeue_burst(r, out, 16), 8);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(ring_count(r), 0);
	assert_int_equal(ring_dequeue_burst(r, out, 1), 0);
	/* A zero burst is a no-op on either side. */
	assert_int_equal(ring_enqueue_burst(r, in, 0), 0);
	assert_int_equal(ring_dequeue_burst(r, out, 0), 0);
	free(r);
}

static void
test_ring_partial_burst_when_nearly_full(void **state)
{
	struct ring *r = ring_new(8);
	uint32_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, more[6] = { 20, 21, 22, 23, 24, 25 };
	uint32_t out[8], want[8] = { 1, 2, 3, 4, 5, 20, 21, 22 };

	(void)state;
	assert_int_equal(ring_enqueue_burst(r, in, 5), 5);
	assert_int_equal(ring_enqueue_burst(r, more, 6), 3);
	assert_int_equal(ring_free_count(r), 0);
	assert_int_equal(ring_dequeue_burst(r, out, 2), 2);
	/* Room again, and the rest of the burst goes in after what is there. */
	assert_int_equal(ring_enqueue_burst(r, more + 3, 3), 2);
	assert_int_equal(ring_dequeue_burst(r, out + 2, 6), 6);
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(ring_dequeue_burst(r, out, 8), 2);
	assert_int_equal(out[0], 23);
	assert_int_equal(out[1], 24);
	free(r);
}

/*
 * Indexes started just below 2^32, bursts of every size from 1 to 16 on a
 * ring of 16: slot wrap-around and index overflow happen at every phase,
 * and every index comes out once, in order.
 */
static void
test_ring_wraps_across_index_overflow(void **state)
{
	struct ring *r = ring_new(16);
	uint32_t in[16], out[16], next_in = 0, next_out = 0, k, n, i;

	(void)state;
	ring_start_at(r, UINT32_MAX - 40);
	for (k = 0; k < 400; k++) {
		n = 1 + k % 16;
		for (i = 0; i < n; i++)
			in[i] = next_in + i;
		n = ring_enqueue_burst(r, in, n);
		next_in += n;
		assert_int_equal(ring_count(r), next_in - next_out);
		n = ring_dequeue_burst(r, out, 1 + (k * 7) % 16);
		for (i = 0; i < n; i++)
			assert_int_equal(out[i], next_out++);
		assert_int_equal(ring_count(r) + ring_free_count(r), 16);
	}
	/* The indexes did go through the overflow. */
	assert_true(atomic_load(&r->prod.head) < UINT32_MAX - 40);
	/* A full ring across the overflow, then drained. */
	ring_start_at(r, UINT32_MAX - 3);
	for (i = 0; i < 16; i++)
		in[i] = 100 + i;
	assert_int_equal(ring_enqueue_burst(r, in, 16), 16);
	assert_int_equal(atomic_load(&r->prod.head), 12);
	assert_int_equal(ring_count(r), 16);
	assert_int_equal(ring_enqueue_burst(r, in, 1), 0);
	assert_int_equal(ring_dequeue_burst(r, out, 16), 16);
	assert_memory_equal(out, in, sizeof(in));
	assert_int_equal(ring_count(r), 0);
	free(r);
}

/* A peer that writes nonsense into its index: no access outside the slots. */
static void
test_ring_corrupt_peer_index_stays_in_bounds(void **state)
{
	struct ring *r = ring_new(8);
	uint32_t buf[64] = { 0 };

	(void)state;
	atomic_store(&r->cons.tail, 12345);	/* consumer "ahead" of producer */
	assert_int_equal(ring_enqueue_burst(r, buf, 64), 0);
	ring_start_at(r, 0);
	atomic_store(&r->prod.head, 0x80000000u);	/* producer "2^31 ahead" */
	assert_true(ring_dequeue_burst(r, buf, 64) <= 8);
	assert_true(ring_count(r) <= 8);
	free(r);
}

/*
 * A guarded side (ring_guard.h) against a plain one: bursts wrap at the
 * size it keeps, a peer's nonsense index or rewritten mask moves nothing
 * outside the slots, and a reset leaves the ring empty for the next peer.
 */
static void
test_ring_guard(void **state)
{
	struct ring *r = ring_new(8);
	struct ring_guard prod, cons;
	uint32_t in[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[64];

	(void)state;
	ring_start_at(r, UINT32_MAX - 2);	/* across the 2^32 wrap */
	ring_guard_attach(&prod, r, 8, 1);
	assert_int_equal(ring_guard_put(&prod, in, 5), 5);
	assert_int_equal(ring_guard_room(&prod, 8), 3);
	assert_int_equal(ring_dequeue_burst(r, out, 3), 3);
	assert_int_equal(out[2], 3);
	assert_int_equal(ring_guard_put(&prod, in, 8), 6);	/* room read again: 6 */
	ring_guard_attach(&cons, r, 8, 0);
	r->mask = 0xffffffu;			/* a peer's rewrite: ours is kept */
	assert_int_equal(ring_guard_get(&cons, out, 64), 8);
	assert_memory_equal(out, ((uint32_t[]){ 4, 5, 1, 2, 3, 4, 5, 6 }), 8 * sizeof(out[0]));
	assert_false(ring_guard_nonempty(&cons));
	atomic_store(&r->prod.head, cons.pos + 0x80000000u);	/* "2^31 ahead" */
	assert_int_equal(ring_guard_ready(&cons, 1), 8);
	assert_int_equal(ring_guard_get(&cons, out, 64), 8);
	/* The producing peer is dead: its index moves to ours, the ring is empty. */
	ring_guard_reset(&cons, 0);
	assert_int_equal(atomic_load(&r->prod.head), cons.pos);
	assert_false(ring_guard_nonempty(&cons));
	free(r);
}

/* The pool ------------------------------------------------------------ */

static struct pool *
pool_new(uint32_t nbufs, size_t *size)
{
	struct pool *p;

	*size = pool_memsize(nbufs, POOL_DATA_SIZE);
	assert_int_not_equal(*size, 0);
	p = aligned_alloc(RING_CACHE_LINE, *size);
	assert_non_null(p);
	assert_int_equal(pool_init(p, nbufs, POOL_DATA_SIZE), 0);
	return p;
}

static void
test_pool_geometry(void **state)
{
	size_t size;
	struct pool *p = pool_new(10, &size);
	uint32_t i;

	(void)state;
	assert_int_equal(pool_memsize(0, POOL_DATA_SIZE), 0);
	assert_int_equal(pool_memsize(POOL_NBUFS_MAX + 1, POOL_DATA_SIZE), 0);
	assert_int_equal(pool_memsize(10, 2000), 0);
	assert_int_equal(pool_memsize(10, POOL_HEADROOM), 0);
	assert_int_equal(pool_init(p, 10, 100), -1);
	assert_int_equal(pool_check(p, size), 0);
	assert_int_equal(pool_check(p, size - 1), -1);
	assert_int_equal(pool_free_count(p), 10);
	for (i = 0; i < 10; i++) {
		struct pool_buf *b = pool_buf(p, i);

		assert_int_equal(b->idx, i);
		assert_int_equal(b->off, POOL_HEADROOM);
		assert_int_equal(b->len, 0);
		assert_int_equal((uintptr_t)b->data % RING_CACHE_LINE, 0);
		assert_true((char *)b->data + POOL_DATA_SIZE <= (char *)p + size);
		if (i > 0)
			assert_int_equal((char *)b - (char *)pool_buf(p, i - 1),
					 sizeof(struct pool_buf) + POOL_DATA_SIZE);
	}
	assert_true(pool_index_valid(p, 9));
	assert_false(pool_index_valid(p, 10));
	assert_false(pool_index_valid(p, UINT32_MAX));
	p->magic = 0;
	assert_int_equal(pool_check(p, size), -1);
	free(p);
}

static void
test_pool_exhaustion_and_reuse(void **state)
{
	size_t size;
	struct pool *p = pool_new(10, &size);
	uint32_t idx[32], again[32], i, j;

	(void)state;
	assert_int_equal(pool_alloc_burst(p, idx, 32), 10);
	for (i = 0; i < 10; i++)
		for (j = i + 1; j < 10; j++)
			assert_int_not_equal(idx[i], idx[j]);
	assert_int_equal(pool_free_count(p), 0);
	assert_int_equal(pool_alloc_burst(p, again, 1), 0);
	/* What comes back is what goes out next, first in first out. */
	assert_int_equal(pool_free_burst(p, &idx[7], 3), 3);
	assert_int_equal(pool_alloc_burst(p, again, 5), 3);
	assert_memory_equal(again, &idx[7], 3 * sizeof(uint32_t));
	assert_int_equal(pool_free_burst(p, idx, 10), 10);
	assert_int_equal(pool_free_count(p), 10);
	/* Many rounds: the free ring wraps, nothing is lost or duplicated. */
	for (i = 0; i < 1000; i++) {
		uint32_t n = pool_alloc_burst(p, idx, 1 + i % 10);

		assert_int_equal(n, 1 + i % 10);
		assert_int_equal(pool_free_burst(p, idx, n), n);
	}
	assert_int_equal(pool_alloc_burst(p, idx, 32), 10);
	for (i = 0; i < 10; i++)
		for (j = i + 1; j < 10; j++)
			assert_int_not_equal(idx[i], idx[j]);
	free(p);
}

/* memfd regions --------------------------------------------------------- */

static void
test_shm_sealed_and_checked(void **state)
{
	struct shm m, other;
	struct cnw_error err = { 0 };
	int pfd[2], plain;

	(void)state;
	assert_int_equal(shm_create(&m, "test", 5000, &err), 0);
	assert_int_equal(m.size % (size_t)sysconf(_SC_PAGESIZE), 0);
	assert_true(m.size >= 5000);
	assert_int_equal(((char *)m.base)[m.size - 1], 0);
	assert_int_equal(ftruncate(m.fd, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(m.fd, m.size * 2), -1);
	assert_int_equal(fcntl(m.fd, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	shm_unmap(&m);
	shm_unmap(&m);
	assert_int_equal(m.fd, -1);

	/* Not a memfd. */
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(shm_map(&other, pfd[0], PROT_READ, &err), -1);
	assert_int_equal(err.kind, CNW_EINTERNAL);
	assert_non_null(strstr(err.msg, "not a memfd"));
	close(pfd[0]);
	close(pfd[1]);
	/* A memfd that could still shrink under the reader. */
	plain = memfd_create("unsealed", MFD_CLOEXEC);
	assert_true(plain >= 0);
	assert_int_equal(ftruncate(plain, 4096), 0);
	assert_int_equal(shm_map(&other, plain, PROT_READ, &err), -1);
	assert_non_null(strstr(err.msg, "shrink"));
	assert_int_equal(other.fd, -1);
	close(plain);
}

/*
 * One memfd, two mappings at different addresses: a pool and a ring made
 * through the first are used through the second, frames written through
 * one are read through the other.  Nothing in them is a pointer.
 */
static void
test_shm_two_mappings_position_independent(void **state)
{
	struct shm a, b;
	struct cnw_error err = { 0 };
	size_t pool_size = pool_memsize(64, POOL_DATA_SIZE);
	struct pool *pa, *pb;
	struct ring *ra, *rb;
	uint32_t idx[4], got[4], i;

	(void)state;
	assert_int_equal(shm_create(&a, "twice", pool_size + ring_memsize(16), &err), 0);
	assert_int_equal(shm_map(&b, dup(a.fd), PROT_READ | PROT_WRITE, &err), 0);
	assert_ptr_not_equal(a.base, b.base);
	assert_int_equal(a.size, b.size);
	pa = a.base;
	assert_int_equal(pool_init(pa, 64, POOL_DATA_SIZE), 0);
	ra = (struct ring *)((char *)a.base + pool_size);
	assert_int_equal(ring_init(ra, 16), 0);

	pb = b.base;
	rb = (struct ring *)((char *)b.base + pool_size);
	assert_int_equal(pool_check(pb, b.size), 0);
	assert_int_equal(pool_alloc_burst(pb, idx, 4), 4);
	for (i = 0; i < 4; i++) {
		struct pool_buf *buf = pool_buf(pb, idx[i]);

		pool_buf_reset(buf);
		buf->len = (uint32_t)snprintf((char *)pool_buf_frame(buf), 32, "frame %u", i);
		buf->network = 7;
	}
	assert_int_equal(ring_enqueue_burst(rb, idx, 4), 4);

	assert_int_equal(ring_count(ra), 4);
	assert_int_equal(ring_dequeue_burst(ra, got, 4), 4);
	assert_memory_equal(got, idx, sizeof(idx));
	for (i = 0; i < 4; i++) {
		struct pool_buf *buf = pool_buf(pa, got[i]);
		char want[32];

		assert_ptr_not_equal(buf, pool_buf(pb, got[i]));
		snprintf(want, sizeof(want), "frame %u", i);
		assert_int_equal(buf->len, strlen(want));
		assert_memory_equal(pool_buf_frame(buf), want, buf->len);
		assert_int_equal(buf->network, 7);
	}
	assert_int_equal(pool_free_burst(pa, got, 4), 4);
	assert_int_equal(pool_free_count(pb), 64);
	shm_unmap(&b);
	shm_unmap(&a);
}

/* Stress: ten million frames, two threads or two processes ---------------- */

#define STRESS_BURST 32
/* Ring plus one burst on each side, nearly: both full ring and empty pool happen. */
#define STRESS_NBUFS 544
#define STRESS_RING 512
#define STRESS_FRAME_LEN 16
#define STRESS_DEADLINE_S 120.0

/* How often each side had to wait, for the report (not checked: timing). */
struct stress_waits {
	uint64_t pool_empty, ring_full;	/* the producer's, stored when it is done */
	uint64_t ring_empty;		/* the consumer's */
};

/* At the start of the region, then the pool, then the ring. */
struct stress_ctl {
	atomic_int abort;		/* set by the side that gives up */
	struct stress_waits waits;
} __attribute__((aligned(RING_CACHE_LINE)));

struct stress {
	struct stress_ctl *ctl;
	struct pool *pool;
	struct ring *ring;
	uint64_t frames;
	uint32_t seed;
	char why[160];			/* the consumer's first complaint */
};

static size_t
stress_memsize(void)
{
	return sizeof(struct stress_ctl) + pool_memsize(STRESS_NBUFS, POOL_DATA_SIZE) +
	    ring_memsize(STRESS_RING);
}

/* Point s at the parts of a region mapped at base. */
static void
stress_attach(struct stress *s, void *base)
{
	s->ctl = base;
	s->pool = (struct pool *)((char *)base + sizeof(struct stress_ctl));
	s->ring = (struct ring *)((char *)s->pool + pool_memsize(STRESS_NBUFS, POOL_DATA_SIZE));
}

static void
stress_init(struct stress *s, void *base)
{
	stress_attach(s, base);
	atomic_init(&s->ctl->abort, 0);
	assert_int_equal(pool_init(s->pool, STRESS_NBUFS, POOL_DATA_SIZE), 0);
	assert_int_equal(ring_init(s->ring, STRESS_RING), 0);
	/* Cross the 2^32 index overflow early, while both sides are busy. */
	ring_start_at(s->ring, UINT32_MAX - 100000);
	s->frames = 10000000;
	if (getenv("RING_STRESS_FRAMES") != NULL)
		s->frames = strtoull(getenv("RING_STRESS_FRAMES"), NULL, 10);
	s->seed = 0x9e3779b9u;
}

static int
stress_aborted(struct stress *s)
{
	/* Relaxed: a stop signal only, it publishes no data. */
	return atomic_load_explicit(&s->ctl->abort, memory_order_relaxed);
}

/*
 * Allocate buffers in random bursts of 1..32, write a sequence number at
 * the start of each frame and its complement at the end, enqueue them all.
 * 0, or -1 if the consumer gave up.
 */
static int
stress_produce(struct stress *s)
{
	uint32_t idx[STRESS_BURST], rng = s->seed, got, sent, k, i;
	uint64_t seq = 0, pool_empty = 0, ring_full = 0;

	while (seq < s->frames) {
		uint32_t want = 1 + xorshift(&rng) % STRESS_BURST;

		if (want > s->frames - seq)
			want = (uint32_t)(s->frames - seq);
		got = pool_alloc_burst(s->pool, idx, want);
		if (got == 0) {
			if (stress_aborted(s))
				return -1;
			pool_empty++;
			sched_yield();
			continue;
		}
		for (i = 0; i < got; i++) {
			struct pool_buf *b = pool_buf(s->pool, idx[i]);
			uint64_t check = ~seq;

			pool_buf_reset(b);
			b->len = STRESS_FRAME_LEN;
			memcpy(pool_buf_frame(b), &seq, sizeof(seq));
			memcpy(pool_buf_frame(b) + 8, &check, sizeof(check));
			seq++;
		}
		for (sent = 0; sent < got; sent += k) {
			k = ring_enqueue_burst(s->ring, idx + sent, got - sent);
			if (k == 0) {
				if (stress_aborted(s))
					return -1;
				ring_full++;
				sched_yield();
			}
		}
	}
	s->ctl->waits.pool_empty = pool_empty;
	s->ctl->waits.ring_full = ring_full;
	return 0;
}

static int stress_fail(struct stress *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
stress_fail(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->why, sizeof(s->why), fmt, ap);
	va_end(ap);
	atomic_store_explicit(&s->ctl->abort, 1, memory_order_relaxed);
	return -1;
}

/*
 * Dequeue in random bursts of 1..32, check every frame is the next sequence
 * number, intact, free the buffers.  producer is the child process to watch
 * (0 for a thread).  0, or -1 with s->why.
 */
static int
stress_consume(struct stress *s, pid_t producer)
{
	uint32_t idx[STRESS_BURST], rng = s->seed * 31u, got, i;
	uint64_t expect = 0, idle = 0, idle_waits = 0;
	double deadline = now_s() + STRESS_DEADLINE_S;
	int status;

	while (expect < s->frames) {
		got = ring_dequeue_burst(s->ring, idx, 1 + xorshift(&rng) % STRESS_BURST);
		if (got == 0) {
			if (++idle % 4096 == 0) {
				if (producer > 0 && waitpid(producer, &status, WNOHANG) == producer)
					return stress_fail(s, "producer exited (status 0x%x) at frame %" PRIu64,
							   status, expect);
				if (now_s() > deadline)
					return stress_fail(s, "stuck at frame %" PRIu64, expect);
			}
			idle_waits++;
			sched_yield();
			continue;
		}
		for (i = 0; i < got; i++) {
			struct pool_buf *b;
			uint64_t seq, check;

			if (!pool_index_valid(s->pool, idx[i]))
				return stress_fail(s, "frame %" PRIu64 ": index %u out of the pool", expect,
						   idx[i]);
			b = pool_buf(s->pool, idx[i]);
			if (b->len != STRESS_FRAME_LEN || b->off != POOL_HEADROOM)
				return stress_fail(s, "frame %" PRIu64 ": len %u off %u", expect, b->len,
						   b->off);
			memcpy(&seq, pool_buf_frame(b), sizeof(seq));
			memcpy(&check, pool_buf_frame(b) + 8, sizeof(check));
			if (seq != expect || check != ~seq)
				return stress_fail(s, "expected frame %" PRIu64 ", got %" PRIu64 " (check %s)",
						   expect, seq, check == ~seq ? "ok" : "torn");
			expect++;
		}
		if (pool_free_burst(s->pool, idx, got) != got)
			return stress_fail(s, "free ring full at frame %" PRIu64 ": a double free", expect);
	}
	s->ctl->waits.ring_empty = idle_waits;
	if (ring_count(s->ring) != 0)
		return stress_fail(s, "%u frames after the last", ring_count(s->ring));
	return 0;
}

static void *
stress_producer_thread(void *arg)
{
	return (void *)(intptr_t)stress_produce(arg);
}

static void
stress_report(const char *how, const struct stress *s, double seconds)
{
	printf("# ring stress (%s): %" PRIu64 " frames in %.2f s, %.1f ns/frame; waits: "
	       "pool empty %" PRIu64 ", ring full %" PRIu64 ", ring empty %" PRIu64 "\n", how,
	       s->frames, seconds, seconds * 1e9 / (double)(s->frames ? s->frames : 1),
	       s->ctl->waits.pool_empty, s->ctl->waits.ring_full, s->ctl->waits.ring_empty);
	fflush(stdout);
}

static void
test_stress_two_threads(void **state)
{
	struct shm m;
	struct cnw_error err = { 0 };
	struct stress s = { 0 };
	pthread_t producer;
	void *ret;
	double t0;
	int rc;

	(void)state;
	assert_int_equal(shm_create(&m, "stress", stress_memsize(), &err), 0);
	stress_init(&s, m.base);
	t0 = now_s();
	assert_int_equal(pthread_create(&producer, NULL, stress_producer_thread, &s), 0);
	rc = stress_consume(&s, 0);
	assert_int_equal(pthread_join(producer, &ret), 0);
	if (rc < 0)
		fail_msg("%s", s.why);
	assert_int_equal((intptr_t)ret, 0);
	stress_report("two threads", &s, now_s() - t0);
	assert_int_equal(pool_free_count(s.pool), STRESS_NBUFS);
	shm_unmap(&m);
}

/*
 * The child maps the memfd again, at an address of its own, as a driver
 * would from a descriptor it was sent, and produces; the parent consumes.
 */
static void
test_stress_two_processes(void **state)
{
	struct shm m;
	struct cnw_error err = { 0 };
	struct stress s = { 0 };
	pid_t child;
	double t0;
	int rc, status;

	(void)state;
	assert_int_equal(shm_create(&m, "stress", stress_memsize(), &err), 0);
	stress_init(&s, m.base);
	t0 = now_s();
	fflush(stdout);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		struct shm mine;
		struct stress cs = s;

		if (shm_map(&mine, dup(m.fd), PROT_READ | PROT_WRITE, &err) < 0 ||
		    mine.base == m.base)
			_exit(2);
		munmap(m.base, m.size);	/* only our own mapping from here on */
		stress_attach(&cs, mine.base);
		_exit(stress_produce(&cs) < 0 ? 1 : 0);
	}
	rc = stress_consume(&s, child);
	if (rc < 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
		fail_msg("%s", s.why);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	stress_report("two processes", &s, now_s() - t0);
	assert_int_equal(pool_free_count(s.pool), STRESS_NBUFS);
	shm_unmap(&m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_sizes),
		cmocka_unit_test(test_ring_empty_and_full),
		cmocka_unit_test(test_ring_partial_burst_when_nearly_full),
		cmocka_unit_test(test_ring_wraps_across_index_overflow),
		cmocka_unit_test(test_ring_corrupt_peer_index_stays_in_bounds),
		cmocka_unit_test(test_ring_guard),
		cmocka_unit_test(test_pool_geometry),
		cmocka_unit_test(test_pool_exhaustion_and_reuse),
		cmocka_unit_test(test_shm_sealed_and_checked),
		cmocka_unit_test(test_shm_two_mappings_position_independent),
		cmocka_unit_test(test_stress_two_threads),
		cmocka_unit_test(test_stress_two_processes),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
