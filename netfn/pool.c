/*
 * Laying out a buffer pool (see pool.h): header, free ring, buffers, each
 * on a cache-line boundary so no two parts share a line.  The hot paths,
 * alloc, free and pool_buf, are inline in pool.h.
 */
#include <string.h>

#include "netfn/pool.h"

_Static_assert(sizeof(struct pool_buf) == RING_CACHE_LINE, "buffer header is one cache line");
_Static_assert(sizeof(struct pool) == RING_CACHE_LINE, "pool header is one cache line");

/* The free ring: the smallest power of two that holds every buffer. */
static uint32_t
pool_ring_size(uint32_t nbufs)
{
	uint32_t size = 1;

	while (size < nbufs)
		size <<= 1;
	return size;
}

static int
pool_geometry_valid(uint32_t nbufs, uint32_t data_size)
{
	return nbufs > 0 && nbufs <= POOL_NBUFS_MAX && data_size > POOL_HEADROOM &&
	    data_size <= POOL_DATA_SIZE_MAX && data_size % RING_CACHE_LINE == 0;
}

size_t
pool_memsize(uint32_t nbufs, uint32_t data_size)
{
	if (!pool_geometry_valid(nbufs, data_size))
		return 0;
	return sizeof(struct pool) + ring_memsize(pool_ring_size(nbufs)) +
	    (size_t)nbufs * (sizeof(struct pool_buf) + data_size);
}

int
pool_init(struct pool *p, uint32_t nbufs, uint32_t data_size)
{
	uint32_t i;

	if (!pool_geometry_valid(nbufs, data_size))
		return -1;
	memset(p, 0, sizeof(*p));
	p->nbufs = nbufs;
	p->data_size = data_size;
	p->buf_size = sizeof(struct pool_buf) + data_size;
	p->ring_off = sizeof(struct pool);
	p->bufs_off = p->ring_off + ring_memsize(pool_ring_size(nbufs));
	if (ring_init(pool_ring(p), pool_ring_size(nbufs)) < 0)
		return -1;
	for (i = 0; i < nbufs; i++) {
		struct pool_buf *b = pool_buf(p, i);

		memset(b, 0, sizeof(*b));
		b->idx = i;
		pool_buf_reset(b);
		/* Cannot fail: the ring holds nbufs and is empty. */
		pool_free_burst(p, &i, 1);
	}
	p->magic = POOL_MAGIC;
	return 0;
}

int
pool_check(const struct pool *p, size_t mapped)
{
	const struct ring *r;

	if (mapped < sizeof(*p) || p->magic != POOL_MAGIC ||
	    !pool_geometry_valid(p->nbufs, p->data_size) ||
	    p->buf_size != sizeof(struct pool_buf) + p->data_size ||
	    p->ring_off != sizeof(struct pool) ||
	    p->bufs_off != p->ring_off + ring_memsize(pool_ring_size(p->nbufs)) ||
	    pool_memsize(p->nbufs, p->data_size) > mapped)
		return -1;
	r = (const struct ring *)((const char *)p + p->ring_off);
	if (r->size != pool_ring_size(p->nbufs) || r->mask != r->size - 1)
		return -1;
	return 0;
}
