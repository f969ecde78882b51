/*
 * A pool of fixed-size frame buffers in shared memory, addressed by 32-bit
 * index, with its free list kept as a ring (netfn/ring.h).
 *
 * It exists so that a frame is written once, by whoever receives it (a
 * driver reading its device), and then only its index moves: driver to
 * worker, worker to another driver, never a copy.  Like the ring, the pool
 * holds no pointers: pool_buf() turns an index into an address from the
 * pool's own address in this process, so the driver and the worker each
 * map the region where the kernel puts it.
 *
 * Who allocates and who frees.  The free list is a single-producer
 * single-consumer ring, so at any time exactly one thread may take buffers
 * (pool_alloc_burst, the ring's consumer) and exactly one may give them
 * back (pool_free_burst, its producer); it may be the same thread.  In cnw
 * the worker is both: it owns the pool.  A driver never calls pool_alloc or
 * pool_free; it borrows buffers through rings of its own, next to the pair
 * that carries frames (rx: driver to worker, tx: worker to driver), as
 * AF_XDP's UMEM does: the worker lends it empty buffers on a fill ring and
 * takes transmitted (or dropped) ones back on a completion ring.  So every
 * ring has one producer and one consumer whatever the number of drivers,
 * every buffer has exactly one owner at any moment (the free list, a ring,
 * a driver, the worker), and a frame received by one driver and sent by
 * another is never copied.  Had drivers returned buffers to the free list
 * themselves, two drivers would make it multi-producer, which it is not.
 *
 * Trust: the region is writable by the driver, a process we sandbox because
 * we do not trust it.  The worker checks every index a driver hands it
 * (pool_index_valid, and against its own private record of what it lent to
 * that driver, so a broken driver can neither return a buffer twice nor
 * pass off another's), and never trusts a buffer's len or off beyond
 * data_size.  That record, and a private copy of the geometry, are the
 * worker's (hal/), not this file's.
 */
#ifndef CNW_POOL_H
#define CNW_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "netfn/ring.h"

#define POOL_DATA_SIZE 2048		/* data bytes per buffer, the usual choice */
#define POOL_HEADROOM 128		/* room in front of a frame for the overlay headers */
#define POOL_NBUFS_MAX (UINT32_C(1) << 24)
#define POOL_DATA_SIZE_MAX (UINT32_C(1) << 18)

/* One buffer: a cache line of header, then data_size bytes of data. */
struct pool_buf {
	uint32_t len;			/* frame bytes, starting at data[off] */
	uint16_t off;			/* headroom in front of the frame */
	uint16_t flags;			/* for the drivers and the worker; 0 when fresh */
	uint32_t network;		/* tenant network id of the frame */
	uint32_t idx;			/* this buffer's own index, set by pool_init */
	struct {			/* the udp driver's peer: tx to it, rx from it */
		uint16_t family;	/* AF_INET, AF_INET6, 0 = none */
		uint16_t port;		/* network byte order */
		uint8_t addr[16];
	} peer;
	uint16_t path;			/* the uplink port a frame came in by */
	uint8_t data[] __attribute__((aligned(RING_CACHE_LINE)));
};

struct pool {
	uint32_t magic;			/* POOL_MAGIC once initialised */
	uint32_t nbufs;
	uint32_t data_size;		/* data bytes per buffer */
	uint32_t buf_size;		/* stride: header + data_size */
	uint64_t ring_off;		/* free ring, from the start of the pool */
	uint64_t bufs_off;		/* buffer 0, from the start of the pool */
} __attribute__((aligned(RING_CACHE_LINE)));

#define POOL_MAGIC 0x636e7701u		/* "cnw", layout version 1 */

/* Setting up ---------------------------------------------------------- */

/*
 * Bytes a pool of nbufs buffers of data_size bytes takes, or 0 if nbufs is
 * 0 or above POOL_NBUFS_MAX, or data_size is not a multiple of 64 in
 * (POOL_HEADROOM, POOL_DATA_SIZE_MAX].
 */
size_t pool_memsize(uint32_t nbufs, uint32_t data_size);
/*
 * Make p (pool_memsize() bytes at a cache-line-aligned address) a pool with
 * every buffer free, in index order.  0, or -1 on a bad geometry.
 */
int pool_init(struct pool *p, uint32_t nbufs, uint32_t data_size);
/*
 * For the side that maps a pool someone else made: is it initialised, and
 * does its geometry fit in the bytes mapped?  0, or -1.
 */
int pool_check(const struct pool *p, size_t mapped);

/* Buffers ------------------------------------------------------------- */

static inline struct ring *
pool_ring(struct pool *p)
{
	return (struct ring *)((char *)p + p->ring_off);
}

static inline int
pool_index_valid(const struct pool *p, uint32_t idx)
{
	return idx < p->nbufs;
}

/* The buffer at idx, in this process's mapping; idx must be valid. */
static inline struct pool_buf *
pool_buf(struct pool *p, uint32_t idx)
{
	return (struct pool_buf *)((char *)p + p->bufs_off + (size_t)idx * p->buf_size);
}

/* The first byte of the frame. */
static inline uint8_t *
pool_buf_frame(struct pool_buf *b)
{
	return b->data + b->off;
}

/* Ready a borrowed buffer for a new frame: empty, POOL_HEADROOM in front. */
static inline void
pool_buf_reset(struct pool_buf *b)
{
	b->len = 0;
	b->off = POOL_HEADROOM;
	b->flags = 0;
	b->network = 0;
}

/* Allocation (one allocating thread, one freeing thread) --------------- */

/*
 * Take up to n free buffers, their indexes into idx; returns how many (0
 * when the pool is exhausted).  The buffers are not touched (that would pull
 * their lines to this core for nothing): the one that fills a buffer sets
 * its header, pool_buf_reset() being the usual start.
 */
static inline uint32_t
pool_alloc_burst(struct pool *p, uint32_t *idx, uint32_t n)
{
	return ring_dequeue_burst(pool_ring(p), idx, n);
}

/*
 * Give back n buffers; returns how many went back: n, since the ring has a
 * slot for every buffer.  Fewer only if buffers were freed twice, a bug
 * this does not otherwise detect.
 */
static inline uint32_t
pool_free_burst(struct pool *p, const uint32_t *idx, uint32_t n)
{
	return ring_enqueue_burst(pool_ring(p), idx, n);
}

/* Free buffers now (a snapshot, as ring_count). */
static inline uint32_t
pool_free_count(struct pool *p)
{
	return ring_count(pool_ring(p));
}

#endif
