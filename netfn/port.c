/*
 * Laying out and checking the fast path's shared region (see port.h):
 * a header, the buffer pool, then four rings per port, every part on a
 * cache-line boundary so no two share a line.
 *
 * The layout is a pure function of the constants in port.h, computed the
 * same way by the parent that makes the region and by the worker and the
 * drivers that map it.  That is what lets the mapping side check the
 * region exhaustively: every offset and size the header claims must be
 * exactly what this build would have put there, and inside the mapping,
 * before any of it is trusted.
 */
#include <stdint.h>
#include <string.h>

#include "netfn/port.h"

enum { PORT_RING_FILL, PORT_RING_RX, PORT_RING_TX, PORT_RING_COMP, PORT_RINGS };

struct port_layout {
	size_t pool_off;
	size_t pool_size;
	size_t rings_off;		/* the first ring of port 0 */
	size_t ring_size;		/* bytes per ring */
	size_t total;
};

_Static_assert(sizeof(struct port_shm) == RING_CACHE_LINE, "a port's header is one cache line");
_Static_assert(PORT_MAX <= 256, "ports are counted in a byte by the worker's buffer owners");

static size_t
port_align(size_t n)
{
	return (n + RING_CACHE_LINE - 1) / RING_CACHE_LINE * RING_CACHE_LINE;
}

/* 0, or -1 if the constants of port.h make no valid pool or ring. */
static int
port_layout(struct port_layout *l)
{
	l->pool_off = port_align(sizeof(struct port_region));
	l->pool_size = pool_memsize(PORT_POOL_BUFS, PORT_DATA_SIZE);
	l->ring_size = ring_memsize(PORT_RING_SIZE);
	if (l->pool_size == 0 || l->ring_size == 0)
		return -1;
	l->rings_off = port_align(l->pool_off + l->pool_size);
	l->total = l->rings_off + (size_t)PORT_MAX * PORT_RINGS * l->ring_size;
	return 0;
}

static uint64_t
port_ring_offset(const struct port_layout *l, unsigned port, unsigned which)
{
	return l->rings_off + ((size_t)port * PORT_RINGS + which) * l->ring_size;
}

size_t
port_region_size(void)
{
	struct port_layout l;

	return port_layout(&l) < 0 ? 0 : l.total;
}

static int
port_init_one(struct port_region *r, const struct port_layout *l, unsigned port)
{
	struct port_shm *p = &r->ports[port];

	memset(p, 0, sizeof(*p));
	p->fill_off = port_ring_offset(l, port, PORT_RING_FILL);
	p->rx_off = port_ring_offset(l, port, PORT_RING_RX);
	p->tx_off = port_ring_offset(l, port, PORT_RING_TX);
	p->comp_off = port_ring_offset(l, port, PORT_RING_COMP);
	atomic_init(&p->driver_sleeping, 0);
	atomic_init(&p->worker_sleeping, 0);
	p->kind = PORT_NONE;
	if (ring_init(port_ring(r, p->fill_off), PORT_RING_SIZE) < 0 ||
	    ring_init(port_ring(r, p->rx_off), PORT_RING_SIZE) < 0 ||
	    ring_init(port_ring(r, p->tx_off), PORT_RING_SIZE) < 0 ||
	    ring_init(port_ring(r, p->comp_off), PORT_RING_SIZE) < 0)
		return -1;
	return 0;
}

int
port_region_init(void *base, size_t size)
{
	struct port_region *r = base;
	struct port_layout l;

	if (port_layout(&l) < 0 || size < l.total || (uintptr_t)base % RING_CACHE_LINE != 0)
		return -1;
	memset(r, 0, sizeof(*r));
	r->magic = PORT_REGION_MAGIC;
	r->version = PORT_REGION_VERSION;
	r->nports = PORT_MAX;
	r->ring_size = PORT_RING_SIZE;
	r->size = l.total;
	r->pool_off = l.pool_off;
	if (pool_init(port_pool(r), PORT_POOL_BUFS, PORT_DATA_SIZE) < 0)
		return -1;
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (port_init_one(r, &l, i) < 0)
			return -1;
	return 0;
}

static int
port_ring_sound(const struct port_region *r, uint64_t off, uint64_t want)
{
	const struct ring *ring = (const struct ring *)((const char *)r + off);

	return off == want && ring->size == PORT_RING_SIZE && ring->mask == PORT_RING_SIZE - 1;
}

static int
port_check_one(const struct port_region *r, const struct port_layout *l, unsigned port)
{
	const struct port_shm *p = &r->ports[port];

	return port_ring_sound(r, p->fill_off, port_ring_offset(l, port, PORT_RING_FILL)) &&
	    port_ring_sound(r, p->rx_off, port_ring_offset(l, port, PORT_RING_RX)) &&
	    port_ring_sound(r, p->tx_off, port_ring_offset(l, port, PORT_RING_TX)) &&
	    port_ring_sound(r, p->comp_off, port_ring_offset(l, port, PORT_RING_COMP)) &&
	    p->kind <= PORT_UDP;
}

int
port_region_check(const struct port_region *r, size_t mapped)
{
	const struct pool *pool;
	struct port_layout l;

	if (port_layout(&l) < 0 || mapped < sizeof(*r))
		return -1;
	if (r->magic != PORT_REGION_MAGIC || r->version != PORT_REGION_VERSION ||
	    r->nports != PORT_MAX || r->ring_size != PORT_RING_SIZE || r->size != l.total ||
	    r->size > mapped || r->pool_off != l.pool_off)
		return -1;
	/* From here on every offset checked is inside the mapping (r->size <= mapped). */
	pool = (const struct pool *)((const char *)r + r->pool_off);
	if (pool_check(pool, l.pool_size) < 0 || pool->nbufs != PORT_POOL_BUFS ||
	    pool->data_size != PORT_DATA_SIZE)
		return -1;
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (!port_check_one(r, &l, i))
			return -1;
	return 0;
}
