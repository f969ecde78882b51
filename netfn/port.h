/*
 * The fast path's shared region: one memfd per worker holding the buffer
 * pool and, for every driver, a port of four rings.  This header is the
 * contract between the parent (which makes and lays out the region), the
 * worker and the drivers (which map it).
 *
 * Ownership of buffers (AF_XDP style): the worker owns the pool and is the
 * only one that allocates and frees.  Per port:
 *   fill  worker -> driver  empty buffers the driver may receive into
 *   rx    driver -> worker  buffers holding frames the driver received
 *   tx    worker -> driver  buffers holding frames to send
 *   comp  driver -> worker  buffers the driver has sent (to free or refill)
 * Every ring has one producer and one consumer.  A frame is never copied
 * between the two processes: only its buffer index travels.
 *
 * Wake-ups: each side spins a little when its rings are empty, then sets
 * its `*_sleeping` flag, checks its rings once more, and blocks on its
 * eventfd.  The other side writes that eventfd after an enqueue only if
 * the flag is set (virtio's event suppression), so a busy path makes no
 * system call per burst and an idle one uses no CPU.
 *
 * Frames in buffers (pool_buf.data[off .. off+len)):
 *   tap rx / tap tx:  struct virtio_net_hdr (10 bytes) + IP packet
 *   udp tx / udp rx:  struct overlay_hdr + virtio_net_hdr + IP packet
 * and, for the udp driver, the peer's address in pool_buf.peer (tx: where
 * to send; rx: where it came from).
 */
#ifndef CNW_PORT_H
#define CNW_PORT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "netfn/pool.h"
#include "netfn/ring.h"

#define PORT_REGION_MAGIC 0x636e7750u	/* "cnwP" */
#define PORT_REGION_VERSION 1
#define PORT_MAX 64			/* drivers per worker */
#define PORT_RING_SIZE 1024
#define PORT_POOL_BUFS 2048
/* A whole GSO segment (64 KiB) plus the vnet and overlay headers fit a buffer. */
#define PORT_DATA_SIZE (65536 + 512)

enum port_kind {
	PORT_NONE = 0,
	PORT_TAP = 1,			/* a tenant network's cnw0 */
	PORT_UDP = 2,			/* an uplink: the overlay over UDP */
};

struct port_shm {
	uint64_t fill_off, rx_off, tx_off, comp_off;	/* from the region's start */
	atomic_uint driver_sleeping;	/* set by the driver before it blocks */
	atomic_uint worker_sleeping;	/* set by the worker before it blocks */
	uint32_t kind;			/* enum port_kind, written by the parent */
	uint32_t pad;
} __attribute__((aligned(RING_CACHE_LINE)));

struct port_region {
	uint32_t magic;
	uint32_t version;
	uint32_t nports;		/* PORT_MAX */
	uint32_t ring_size;
	uint64_t size;			/* bytes of the whole region */
	uint64_t pool_off;
	struct port_shm ports[PORT_MAX];
} __attribute__((aligned(RING_CACHE_LINE)));

/* Bytes needed for a region; 0 if the geometry is impossible. */
size_t port_region_size(void);
/* Lay out an empty region at base (size bytes): the parent, once per worker start. */
int port_region_init(void *base, size_t size);
/*
 * Check a mapped region's geometry against what this build lays out (a
 * worker or driver does, before trusting any offset in it); 0 if sound.
 */
int port_region_check(const struct port_region *r, size_t mapped);

static inline struct pool *
port_pool(struct port_region *r)
{
	return (struct pool *)((char *)r + r->pool_off);
}

static inline struct ring *
port_ring(struct port_region *r, uint64_t off)
{
	return (struct ring *)((char *)r + off);
}

enum { PORT_KICK_DRIVER = 0, PORT_KICK_WORKER = 1 };

/* Which eventfd: the one the driver waits on, or the one the worker waits on. */
struct port_kick {
	uint32_t port;
	uint32_t which;			/* PROTO_KICK_* */
};

#endif
