/*
 * One side of a ring (netfn/ring.h) whose other side we do not trust: the
 * fastpath worker's view of a driver's rings, and a driver host's view of
 * the worker's.
 *
 * It exists because ring.h reads the geometry and its own index from the
 * shared memory, where a peer may rewrite them.  A guarded side keeps the
 * size, the mask and its own index here, checked once when it attaches;
 * the shared copy of its index is only published (written), never read
 * back, and the peer's index is clamped to the size, so no value the peer
 * writes can make us touch a slot outside the ring.  What comes out of the
 * slots is the reader's to validate (pool_index_valid).  Same layout and
 * memory orders as ring.h, whose other side the peer may run.
 *
 * Everything is inline: these run once per burst per ring on the fast path.
 */
#ifndef CNW_RING_GUARD_H
#define CNW_RING_GUARD_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "netfn/ring.h"

struct ring_guard {
	struct ring *r;			/* in the shared memory */
	uint32_t size, mask;		/* private copies, checked once */
	uint32_t pos;			/* our index: head if we produce, tail if we consume */
	uint32_t peer;			/* the other side's index, as last read */
};

/*
 * Attach to r of size slots (the caller checked where it lies and that it
 * is that size).  Our own index starts where the shared one is, so a side
 * restarted carries on its predecessor's ring.
 */
static inline void
ring_guard_attach(struct ring_guard *g, struct ring *r, uint32_t size, int producer)
{
	g->r = r;
	g->size = size;
	g->mask = size - 1;
	/* Acquire pairs with the peer's release store of its index (ring.h). */
	if (producer) {
		g->pos = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
		g->peer = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
	} else {
		g->pos = atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
		g->peer = atomic_load_explicit(&r->prod.head, memory_order_acquire);
	}
}

/* head - tail clamped to the size: a nonsense peer index reads as a full ring. */
static inline uint32_t
ring_guard_used(const struct ring_guard *g, uint32_t head, uint32_t tail)
{
	uint32_t used = head - tail;

	return used <= g->size ? used : g->size;
}

/* Producer: free slots, reading the consumer's index only when the cache says fewer than want. */
static inline uint32_t
ring_guard_room(struct ring_guard *g, uint32_t want)
{
	uint32_t room = g->size - ring_guard_used(g, g->pos, g->peer);

	if (room < want) {
		/*
		 * Acquire pairs with the peer's release store of cons.tail
		 * (ring_dequeue_burst): it has read the slots it freed.
		 */
		g->peer = atomic_load_explicit(&g->r->cons.tail, memory_order_acquire);
		room = g->size - ring_guard_used(g, g->pos, g->peer);
	}
	return room;
}

/* Consumer: indexes ready, reading the producer's index only when the cache says fewer than want. */
static inline uint32_t
ring_guard_ready(struct ring_guard *g, uint32_t want)
{
	uint32_t ready = ring_guard_used(g, g->peer, g->pos);

	if (ready < want) {
		/*
		 * Acquire pairs with the peer's release store of prod.head
		 * (ring_enqueue_burst): the slots up to it are written.
		 */
		g->peer = atomic_load_explicit(&g->r->prod.head, memory_order_acquire);
		ready = ring_guard_used(g, g->peer, g->pos);
	}
	return ready;
}

/* Enqueue up to n (we are the producer); returns how many went in. */
static inline uint32_t
ring_guard_put(struct ring_guard *g, const uint32_t *objs, uint32_t n)
{
	uint32_t room = ring_guard_room(g, n), at, first;

	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	at = g->pos & g->mask;
	first = g->size - at;
	if (first >= n) {
		memcpy(&g->r->slots[at], objs, n * sizeof(*objs));
	} else {
		memcpy(&g->r->slots[at], objs, first * sizeof(*objs));
		memcpy(&g->r->slots[0], objs + first, (n - first) * sizeof(*objs));
	}
	g->pos += n;
	/*
	 * Release pairs with the peer's acquire load of prod.head
	 * (ring_dequeue_burst): the slots are written before the head that
	 * publishes them.
	 */
	atomic_store_explicit(&g->r->prod.head, g->pos, memory_order_release);
	return n;
}

/* Dequeue up to n (we are the consumer); returns how many came out. */
static inline uint32_t
ring_guard_get(struct ring_guard *g, uint32_t *objs, uint32_t n)
{
	uint32_t ready = ring_guard_ready(g, n), at, first;

	if (n > ready)
		n = ready;
	if (n == 0)
		return 0;
	at = g->pos & g->mask;
	first = g->size - at;
	if (first >= n) {
		memcpy(objs, &g->r->slots[at], n * sizeof(*objs));
	} else {
		memcpy(objs, &g->r->slots[at], first * sizeof(*objs));
		memcpy(objs + first, &g->r->slots[0], (n - first) * sizeof(*objs));
	}
	g->pos += n;
	/*
	 * Release pairs with the peer's acquire load of cons.tail
	 * (ring_enqueue_burst): we have read these slots before it reuses them.
	 */
	atomic_store_explicit(&g->r->cons.tail, g->pos, memory_order_release);
	return n;
}

/* Consumer: has the peer produced anything we have not taken? */
static inline int
ring_guard_nonempty(const struct ring_guard *g)
{
	/* Acquire pairs with the peer's release store of prod.head. */
	return atomic_load_explicit(&g->r->prod.head, memory_order_acquire) != g->pos;
}

/*
 * The peer of this ring is dead: make the ring empty by moving its index
 * (and both cached views) to ours, so the next peer finds it empty.
 */
static inline void
ring_guard_reset(struct ring_guard *g, int producer)
{
	struct ring *r = g->r;

	r->prod.cons_cache = g->pos;
	r->cons.prod_cache = g->pos;
	/*
	 * Release pairs with the next peer's acquire loads of the indexes
	 * (ring.h); it is started after this, by the parent.
	 */
	if (producer)
		atomic_store_explicit(&r->cons.tail, g->pos, memory_order_release);
	else
		atomic_store_explicit(&r->prod.head, g->pos, memory_order_release);
	g->peer = g->pos;
}

#endif
