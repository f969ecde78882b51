/*
 * A single-producer single-consumer ring of 32-bit buffer indexes in shared
 * memory: how frames move between a driver process and the fastpath worker
 * (and, inside the buffer pool, how free buffers are listed).
 *
 * It exists because the fast path must hand frames between processes without
 * copying them and without a system call per frame: the frames stay in the
 * pool's buffers, and only their indexes travel, through a ring both
 * processes map.  The layout is DPDK's rte_ring reduced to one producer and
 * one consumer: the producer's index and the consumer's index live on
 * separate 64-byte cache lines, so each side writes only its own line; the
 * indexes are free-running 32-bit counters (a slot is idx & mask, the count
 * is prod - cons, both right across the 2^32 wrap), so full and empty need
 * no spare slot; and each side keeps, on its own line, the last value it saw
 * of the other side's index, so it reads the other side's line only when
 * that cached view says the ring is full (producer) or empty (consumer),
 * once per burst at most, not once per frame.
 *
 * The struct holds no pointers, only offsets implied by its layout, so the
 * same ring works in a memfd mapped at different addresses in different
 * processes.  Lock-free atomics are address-free (C11 7.17.5), which is what
 * makes them work between processes.
 *
 * Exactly one thread (in one process) enqueues and exactly one dequeues;
 * nothing here checks that.  Trust: a peer that writes nonsense into its
 * index makes the ring look full to us (and hands us stale indexes, which
 * the reader validates anyway, see pool_index_valid), never makes us read
 * or write outside the slots; a peer that rewrites size or mask is not
 * defended against here: a side that distrusts its peer keeps its own copy
 * of the geometry (netfn/ring_guard.h).
 */
#ifndef CNW_RING_H
#define CNW_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define RING_CACHE_LINE 64
/* Largest ring: the largest power of two a uint32_t holds. */
#define RING_SIZE_MAX (UINT32_C(1) << 31)

_Static_assert(ATOMIC_INT_LOCK_FREE == 2 && sizeof(atomic_uint) == sizeof(uint32_t),
	       "the ring needs lock-free, address-free 32-bit atomics");

struct ring {
	/* Written once by ring_init, then only read: clean in both caches. */
	uint32_t size;			/* slots, a power of two */
	uint32_t mask;			/* size - 1 */

	/* The producer's line: only the producer writes it. */
	struct {
		atomic_uint head;	/* next slot to fill; published by release */
		uint32_t cons_cache;	/* consumer's tail as last seen */
	} prod __attribute__((aligned(RING_CACHE_LINE)));

	/* The consumer's line: only the consumer writes it. */
	struct {
		atomic_uint tail;	/* next slot to drain; published by release */
		uint32_t prod_cache;	/* producer's head as last seen */
	} cons __attribute__((aligned(RING_CACHE_LINE)));

	uint32_t slots[] __attribute__((aligned(RING_CACHE_LINE)));
};

/*
 * Bytes a ring of size slots takes (a multiple of the cache line), or 0 if
 * size is not a power of two in [1, RING_SIZE_MAX].  Carve the region with
 * this first: it is where a bad size is caught.
 */
static inline size_t
ring_memsize(uint32_t size)
{
	if (size == 0 || size > RING_SIZE_MAX || (size & (size - 1)) != 0)
		return 0;
	return sizeof(struct ring) +
	    ((size_t)size * sizeof(uint32_t) + RING_CACHE_LINE - 1) / RING_CACHE_LINE *
	    RING_CACHE_LINE;
}

/*
 * Make r, ring_memsize(size) bytes at a cache-line-aligned address, an empty
 * ring.  Call before the other side maps it (the handover of the region, a
 * descriptor sent over a socket, orders it).  0, or -1 if size is invalid.
 */
static inline int
ring_init(struct ring *r, uint32_t size)
{
	if (ring_memsize(size) == 0)
		return -1;
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->mask = size - 1;
	atomic_init(&r->prod.head, 0);
	atomic_init(&r->cons.tail, 0);
	return 0;
}

/*
 * head - tail, clamped to size: a corrupt peer index then reads as a full
 * ring, so no burst ever spans more than the slots.
 */
static inline uint32_t
ring_distance(const struct ring *r, uint32_t head, uint32_t tail)
{
	uint32_t used = head - tail;

	return used <= r->size ? used : r->size;
}

/*
 * Enqueue up to n indexes from objs; returns how many went in (fewer when
 * the ring is nearly full, 0 when full).  Producer only.
 *
 * Costs 3 ns/frame at burst 32 between two threads, enqueue and dequeue
 * together (7 to 9 ns on the slower of this 2-vCPU VM's two moods), and
 * 18 (27) ns with a pool buffer allocated, written, read and freed:
 * bench/ring-bench, "ring only" and "ring+pool" lines.
 */
static inline uint32_t
ring_enqueue_burst(struct ring *r, const uint32_t *objs, uint32_t n)
{
	/* Our own index: no other thread writes it, relaxed is enough. */
	uint32_t head = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
	uint32_t free_slots = r->size - ring_distance(r, head, r->prod.cons_cache);
	uint32_t idx, first;

	if (free_slots < n) {
		/*
		 * Acquire pairs with the release store of cons.tail in
		 * ring_dequeue_burst: the consumer's reads of the slots it
		 * freed are done before we overwrite them.
		 */
		r->prod.cons_cache = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
		free_slots = r->size - ring_distance(r, head, r->prod.cons_cache);
		if (n > free_slots)
			n = free_slots;
		if (n == 0)
			return 0;
	}
	idx = head & r->mask;
	first = r->size - idx;
	if (first >= n) {
		memcpy(&r->slots[idx], objs, (size_t)n * sizeof(*objs));
	} else {
		memcpy(&r->slots[idx], objs, (size_t)first * sizeof(*objs));
		memcpy(&r->slots[0], objs + first, (size_t)(n - first) * sizeof(*objs));
	}
	/*
	 * Release pairs with the acquire load of prod.head in
	 * ring_dequeue_burst (and ring_count): the slots written above are
	 * visible before the head that publishes them.
	 */
	atomic_store_explicit(&r->prod.head, head + n, memory_order_release);
	return n;
}

/*
 * Dequeue up to n indexes into objs; returns how many came out (0 when
 * empty).  Consumer only.
 */
static inline uint32_t
ring_dequeue_burst(struct ring *r, uint32_t *objs, uint32_t n)
{
	/* Our own index: no other thread writes it, relaxed is enough. */
	uint32_t tail = atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
	uint32_t avail = ring_distance(r, r->cons.prod_cache, tail);
	uint32_t idx, first;

	if (avail < n) {
		/*
		 * Acquire pairs with the release store of prod.head in
		 * ring_enqueue_burst: the slots up to that head are written
		 * before we read them.
		 */
		r->cons.prod_cache = atomic_load_explicit(&r->prod.head, memory_order_acquire);
		avail = ring_distance(r, r->cons.prod_cache, tail);
		if (n > avail)
			n = avail;
		if (n == 0)
			return 0;
	}
	idx = tail & r->mask;
	first = r->size - idx;
	if (first >= n) {
		memcpy(objs, &r->slots[idx], (size_t)n * sizeof(*objs));
	} else {
		memcpy(objs, &r->slots[idx], (size_t)first * sizeof(*objs));
		memcpy(objs + first, &r->slots[0], (size_t)(n - first) * sizeof(*objs));
	}
	/*
	 * Release pairs with the acquire load of cons.tail in
	 * ring_enqueue_burst (and ring_count): our reads of these slots are
	 * done before the producer may reuse them.
	 */
	atomic_store_explicit(&r->cons.tail, tail + n, memory_order_release);
	return n;
}

/*
 * Indexes in the ring now, from either side or a third party; a snapshot
 * that may be stale by the time it is used.
 */
static inline uint32_t
ring_count(const struct ring *r)
{
	/*
	 * Acquire pairs with the release store of cons.tail in
	 * ring_dequeue_burst: the consumer read prod.head (at least) that far
	 * before, so the head loaded below is never behind this tail.
	 */
	uint32_t tail = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
	/*
	 * Acquire pairs with the release store of prod.head in
	 * ring_enqueue_burst; the count is clamped to size because the
	 * consumer may move on between the two loads.
	 */
	uint32_t head = atomic_load_explicit(&r->prod.head, memory_order_acquire);

	return ring_distance(r, head, tail);
}

/* Free slots now; the same snapshot caveat as ring_count. */
static inline uint32_t
ring_free_count(const struct ring *r)
{
	return r->size - ring_count(r);
}

#endif
