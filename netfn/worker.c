/*
 * The fastpath worker (see worker.h): forwarding between tenant networks'
 * tap ports and the uplinks' udp ports through the shared region, and the
 * process that runs it.
 *
 * Per pass (worker_poll), for every port: one burst of its completion ring
 * (buffers its driver sent: they refill its fill ring or go back to the
 * pool), one burst of its rx ring (frames its driver received), forwarded:
 *   tap -> udp  the IP header is checked and its source must be inside the
 *               network's subnet (anti-spoofing); the first up uplink of
 *               the network is chosen; the overlay header is written into
 *               the buffer's headroom; the frame goes on the uplink's tx
 *               ring with the peer's endpoint in pool_buf.peer;
 *   udp -> tap  the overlay header is decoded and checked, the network
 *               found by its id, the header stripped, the inner vnet and IP
 *               headers checked; the frame goes on the network's tap tx.
 * Frames are never copied: a buffer filled by one driver is sent by
 * another.  Every frame not forwarded is counted under one reason of
 * STATS_DROPS and its buffer freed; the counters are published in one
 * short seqlock write when a pass finds nothing to do, and every
 * millisecond while busy (see worker_publish).  A port's driver is woken
 * only if it said it sleeps (port.h).
 *
 * Trust.  Everything in the region is writable by every driver, and a
 * driver is a sandboxed process we do not trust (it parses device input).
 * So the worker keeps its own copy of everything it acts on and reads the
 * region only for data: the geometry of the pool and of every ring (a
 * driver rewriting a ring's mask cannot make us write outside it), our own
 * ring positions (the shared ones are only published), the free list's
 * positions, and, per buffer, who holds it (owner[]: the free list, the
 * worker, or a port by its fill or its tx ring).  A driver may hand back
 * only a buffer we lent it, on the matching ring (rx: lent for fill;
 * completion: lent for fill or tx, so a driver may give back fill buffers
 * it does not need); anything else is counted as malformed and ignored, so
 * a broken driver can neither free a buffer twice nor pass another's off
 * as its own.  A buffer's off and len are read once and checked against
 * the data size before any byte is touched.  What the worker cannot
 * defend against: a driver changing a frame's bytes while the worker looks
 * at them (the source check protects a network from its workloads, not
 * from its own driver), and reading other drivers' buffers (one region per
 * worker, DESIGN.md).
 *
 * Driver restarts.  The parent sends WORKER_PORT_RESET once a port's driver
 * is dead and before the next one starts (its restart backoff is at least
 * 100 ms): the worker takes back every buffer owner[] says the dead one
 * held and empties the port's four rings by moving the dead side's index
 * to ours, so the next driver starts from empty rings without anyone
 * re-initialising them.
 *
 * Cost per frame at burst 32, measured by bench/worker-bench on this
 * 2-vCPU VM (Xeon, 2.6 GHz), median of 5 runs of 2^22 frames:
 *                      64-byte IP       1400-byte IP
 *   tap -> udp         20 ns (51 clk)   21.5 ns
 *   udp -> tap         18 ns (46 clk)   20 ns
 * with the frames' lines in this core's cache ("one thread": the bench
 * plays both drivers, only worker_poll is timed).  With the drivers on the
 * other core ("two threads") every buffer header and first frame line
 * crosses between the cores: 70-80 ns/frame of worker time when the VM is
 * quiet (14 Mframes/s), more when it is not.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "netfn/classify.h"
#include "netfn/dedup.h"
#include "netfn/flow.h"
#include "netfn/overlay.h"
#include "netfn/pathmon.h"
#include "netfn/sched.h"
#include "netfn/shm.h"
#include "netfn/steer.h"
#include "netfn/worker.h"
#include "proto/proto.h"
#include "lib/log.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

#define WORKER_VNET_LEN 10		/* struct virtio_net_hdr, without num_buffers */
#define WORKER_FILL_MAX 256		/* buffers lent per port for receiving, at most */
#define WORKER_FILL_MIN 32
#define WORKER_HASH_BITS 11		/* 2048 slots for at most 1024 networks */
#define WORKER_HASH_SIZE (1u << WORKER_HASH_BITS)
#define WORKER_NO_PORT UINT32_MAX
#define WORKER_CACHE_MAX 512		/* free buffers kept hot, see worker_alloc */
/* Frames staged per port per burst: a tap burst, twice over for redundant copies. */
#define WORKER_STAGED_MAX (2 * WORKER_BURST)
#define WORKER_FLOW_SLOTS (1u << 17)	/* the flow table: 98304 flows at most */
#define WORKER_FLOW_IDLE_NS (30 * 1000000000ULL)	/* a flow idle this long is forgotten */
#define WORKER_AGE_EVERY_NS (10 * 1000000ULL)
#define WORKER_AGE_BUDGET 2048		/* slots looked at per aging step */
#define WORKER_STEER_CHECK_NS (50 * 1000000ULL)	/* a flow's choice is checked this often */
#define WORKER_LOAD_EVERY_NS (25 * 1000000ULL)	/* uplink tx rate sampled */
#define WORKER_SCHED_FRAMES 512		/* frames a paced uplink holds, at most */
#define WORKER_SCHED_LANES 1024
#define WORKER_SCHED_LANE_MS 50		/* a tenant's backlog in a class: 50 ms at the pace, */
#define WORKER_SCHED_LANE_MIN 65536ULL	/* at least 64 KiB (bytes) */
#define WORKER_MOVES_PER_SEC 100	/* flow moves reported to the parent, at most */

_Static_assert(WORKER_HASH_SIZE >= 2 * STATS_MAX_NETWORKS, "the network hash stays half empty");
_Static_assert(STATS_MAX_NETWORKS < INT16_MAX, "network slots fit an int16_t");
_Static_assert(POOL_HEADROOM >= OVERLAY_HDR_LEN, "the overlay header fits the headroom");

/* Who holds a buffer: owner[idx].  Ports are < PORT_MAX <= 256 (port.c). */
enum {
	OWN_FREE = 0,			/* in the pool's free list */
	OWN_WORKER = 1,			/* in the worker's hands, mid-burst */
	OWN_FILL = 0x100,		/* | port: lent on its fill ring */
	OWN_TX = 0x200,			/* | port: lent on its tx ring */
};

/* A value the driver may change under us: read it exactly once. */
#define WORKER_READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))

/*
 * One side of a ring in the region, with the geometry and our own index
 * kept here: the shared copies are only written (published), never
 * trusted.  Same layout and memory orders as netfn/ring.h, whose other
 * side the driver runs.
 */
struct worker_ring {
	struct ring *r;
	uint32_t mask;			/* PORT_RING_SIZE - 1 */
	uint32_t pos;			/* our index: head if we produce, tail if we consume */
	uint32_t seen;			/* the driver's index as last read */
};

struct worker_staged {
	uint32_t idx;
	uint32_t len;			/* frame bytes on the destination ring */
	int32_t net;			/* network slot, -1 for a probe */
};

struct worker_port {
	struct port_shm *shm;
	struct worker_ring fill, rx, tx, comp;
	uint32_t kind;			/* enum port_kind, from the parent's message */
	uint32_t up;			/* driver running and link up */
	uint32_t listed;		/* in worker.listed[] */
	uint32_t nfill, ntx;		/* buffers lent, per owner[] */
	int kick_driver, kick_worker;	/* eventfds, -1 if none */
	int complained;			/* its driver misbehaved: logged once per start */
	uint32_t nstaged;
	struct worker_staged staged[WORKER_STAGED_MAX];
	/* the scheduler's view of an uplink (MSG_WORKER_UPLINK) */
	uint64_t capacity_kbps;		/* nominal, 0 unknown */
	uint32_t wire_overhead;		/* bytes the link adds to a frame, for pacing */
	uint32_t flows;			/* flows steered onto it */
	struct sched *sched;		/* paced: its queue, or NULL */
	uint64_t load_bytes;		/* sent since the last load sample */
	uint64_t load_kbps;		/* smoothed tx rate */
};

struct worker_uplink {
	uint32_t port;
	uint16_t family;		/* the peer's endpoint over that uplink */
	uint16_t udp_port;		/* network byte order */
	uint8_t addr[16];
	uint32_t path;			/* its slot in worker.paths */
};

/* A probed path: an uplink's port to one peer endpoint, shared by the networks using it. */
struct worker_path {
	uint32_t port;			/* PORT_MAX: slot free */
	uint16_t family, udp_port;
	uint8_t addr[16];
	uint32_t refs;			/* network uplinks naming it (a rebuild's mark) */
	uint32_t last_state;
	struct path_est est;
};

/* A tenant, as the parent compiled it (MSG_WORKER_TENANT). */
struct worker_tenant {
	uint32_t id;			/* row id; 0: slot free */
	uint32_t gen;			/* its ruleset's generation */
	uint32_t nrules;
	uint32_t flows;			/* its entries in the flow table */
	uint64_t flows_max;
	uint64_t bandwidth_kbps;
	struct tbucket bw;		/* the bandwidth quota */
	struct cls_rule *rules;		/* nrules, malloc'd */
	struct tbucket *caps;		/* per rule with a rate cap */
};

struct worker_net {
	uint32_t id;			/* overlay network id, 0: slot free */
	uint32_t tap_port;		/* WORKER_NO_PORT if another network took it */
	uint8_t subnet4[4];
	uint8_t plen4;
	uint8_t has6;
	uint8_t plen6;
	uint8_t subnet6[16];
	uint32_t nuplinks;
	struct worker_uplink uplinks[WORKER_NET_UPLINKS];
	uint32_t seq[WORKER_NET_UPLINKS];	/* next sequence number per path */
	int32_t tenant;			/* its tenant's slot */
	uint32_t dup_seq;		/* next redundancy sequence (OVERLAY_DATA_DUP) */
	struct dedup *dedup;		/* the receiver's filter, made at the first copy */
};

struct worker {
	struct port_region *region;
	struct stats_segment *stats;	/* shared: written by worker_publish only */
	uint64_t published_ns;
	int dirty;			/* acc has counts not yet published */
	/* the pool, by our own copy of its geometry */
	uint8_t *bufs;
	uint32_t nbufs, buf_size, data_size;
	struct ring *free_ring;
	uint32_t free_mask, free_head, free_tail;
	uint32_t lost;			/* free-list slots found overwritten */
	uint32_t ncached;		/* free buffers kept back from the list, LIFO */
	uint32_t cached[WORKER_CACHE_MAX];
	uint32_t fill_target;
	uint64_t now_ns;
	uint32_t nlisted;		/* ports the parent told us of, in listed[] */
	uint8_t listed[PORT_MAX];
	uint32_t nstaged;		/* ports with frames staged for their tx ring */
	uint8_t staged[PORT_MAX];
	uint32_t ndropped;		/* buffers to free at the end of the burst */
	uint32_t dropped[WORKER_STAGED_MAX * 2];
	int16_t tap_net[PORT_MAX];	/* network slot of a tap port, -1 */
	uint32_t nnets;			/* slots in use: highest + 1 */
	uint16_t hash[WORKER_HASH_SIZE];	/* slot + 1 by id, 0 empty */
	uint16_t owner[PORT_POOL_BUFS];
	struct worker_port ports[PORT_MAX];
	struct worker_net nets[STATS_MAX_NETWORKS];
	/* counters as they are now, and which entries changed since published */
	struct stats_segment acc;
	uint32_t ndirty_ports, ndirty_nets;
	uint8_t dirty_ports[PORT_MAX];
	uint16_t dirty_nets[STATS_MAX_NETWORKS];
	uint8_t port_dirty[PORT_MAX];
	uint8_t net_dirty[STATS_MAX_NETWORKS];
	/* the scheduler */
	struct flow_table *flows;	/* in the parent's memfd, or our own */
	uint64_t flow_seed;		/* flow_hash's, random: tenants cannot aim at a slot */
	size_t flows_size;
	int flows_own;			/* flows is malloc'd */
	uint32_t ntenants;		/* slots in use: highest + 1 */
	struct worker_tenant tenants[STATS_MAX_TENANTS];
	uint32_t npaths;		/* slots in use: highest + 1 */
	struct worker_path paths[STATS_MAX_PATHS];
	uint64_t changed_ns;		/* a port or path changed state: flows check their choice */
	uint64_t next_probe_ns, next_age_ns, next_load_ns;
	int parent;			/* socket for MSG_WORKER_MOVE, -1 none */
	int no_probes;			/* tests of forwarding alone */
	uint32_t move_budget;		/* moves reported in this second */
	uint32_t moves_suppressed;
	uint64_t move_second;
};

static uint64_t
worker_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Rings ---------------------------------------------------------------- */

static void
worker_ring_attach(struct worker_ring *q, struct ring *r, int producer)
{
	q->r = r;
	q->mask = PORT_RING_SIZE - 1;
	if (producer) {
		q->pos = atomic_load_explicit(&r->prod.head, memory_order_relaxed);
		q->seen = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
	} else {
		q->pos = atomic_load_explicit(&r->cons.tail, memory_order_relaxed);
		q->seen = atomic_load_explicit(&r->prod.head, memory_order_acquire);
	}
}

/* head - tail clamped to the size: a nonsense index reads as a full ring. */
static uint32_t
worker_ring_used(const struct worker_ring *q, uint32_t head, uint32_t tail)
{
	uint32_t used = head - tail;

	return used <= q->mask + 1 ? used : q->mask + 1;
}

static void
worker_ring_copy_in(struct worker_ring *q, const uint32_t *objs, uint32_t n)
{
	uint32_t at = q->pos & q->mask, first = q->mask + 1 - at;

	if (first >= n) {
		memcpy(&q->r->slots[at], objs, n * sizeof(*objs));
	} else {
		memcpy(&q->r->slots[at], objs, first * sizeof(*objs));
		memcpy(&q->r->slots[0], objs + first, (n - first) * sizeof(*objs));
	}
}

static void
worker_ring_copy_out(struct worker_ring *q, uint32_t *objs, uint32_t n)
{
	uint32_t at = q->pos & q->mask, first = q->mask + 1 - at;

	if (first >= n) {
		memcpy(objs, &q->r->slots[at], n * sizeof(*objs));
	} else {
		memcpy(objs, &q->r->slots[at], first * sizeof(*objs));
		memcpy(objs + first, &q->r->slots[0], (n - first) * sizeof(*objs));
	}
}

/* Enqueue up to n (we are the producer); returns how many went in. */
static uint32_t
worker_ring_put(struct worker_ring *q, const uint32_t *objs, uint32_t n)
{
	uint32_t room = q->mask + 1 - worker_ring_used(q, q->pos, q->seen);

	if (room < n) {
		/*
		 * Acquire pairs with the driver's release store of cons.tail
		 * (ring_dequeue_burst): it has read the slots it freed.
		 */
		q->seen = atomic_load_explicit(&q->r->cons.tail, memory_order_acquire);
		room = q->mask + 1 - worker_ring_used(q, q->pos, q->seen);
		if (n > room)
			n = room;
		if (n == 0)
			return 0;
	}
	worker_ring_copy_in(q, objs, n);
	q->pos += n;
	/*
	 * Release pairs with the driver's acquire load of prod.head
	 * (ring_dequeue_burst): the slots are written before the head that
	 * publishes them.
	 */
	atomic_store_explicit(&q->r->prod.head, q->pos, memory_order_release);
	return n;
}

/* Dequeue up to n (we are the consumer); returns how many came out. */
static uint32_t
worker_ring_get(struct worker_ring *q, uint32_t *objs, uint32_t n)
{
	uint32_t avail = worker_ring_used(q, q->seen, q->pos);

	if (avail < n) {
		/*
		 * Acquire pairs with the driver's release store of prod.head
		 * (ring_enqueue_burst): the slots up to it are written.
		 */
		q->seen = atomic_load_explicit(&q->r->prod.head, memory_order_acquire);
		avail = worker_ring_used(q, q->seen, q->pos);
		if (n > avail)
			n = avail;
		if (n == 0)
			return 0;
	}
	worker_ring_copy_out(q, objs, n);
	q->pos += n;
	/*
	 * Release pairs with the driver's acquire load of cons.tail
	 * (ring_enqueue_burst): we have read these slots before it reuses them.
	 */
	atomic_store_explicit(&q->r->cons.tail, q->pos, memory_order_release);
	return n;
}

/* Has the driver produced anything we have not taken? */
static int
worker_ring_nonempty(const struct worker_ring *q)
{
	/* Acquire pairs with the driver's release store of prod.head. */
	return atomic_load_explicit(&q->r->prod.head, memory_order_acquire) != q->pos;
}

/*
 * The driver of this ring is dead: make the ring empty by moving its index
 * (and both cached views) to ours, so the next driver finds it empty.
 */
static void
worker_ring_reset(struct worker_ring *q, int producer)
{
	struct ring *r = q->r;

	r->prod.cons_cache = q->pos;
	r->cons.prod_cache = q->pos;
	/*
	 * Release pairs with the next driver's acquire loads of the indexes
	 * (ring.h); it is started after this, by the parent.
	 */
	if (producer)
		atomic_store_explicit(&r->cons.tail, q->pos, memory_order_release);
	else
		atomic_store_explicit(&r->prod.head, q->pos, memory_order_release);
	q->seen = q->pos;
}

/* Buffers -------------------------------------------------------------- */

static struct pool_buf *
worker_buf(const struct worker *w, uint32_t idx)
{
	return (struct pool_buf *)(w->bufs + (size_t)idx * w->buf_size);
}

/*
 * Take up to n free buffers: the most recently freed first, from a small
 * stack of our own, then from the pool's free list.  The list is a ring,
 * first in first out: alone, it would send every frame through the next
 * of all 4096 buffers (272 MB), each on a page and lines no cache still
 * holds; the stack keeps the buffers in use few and hot (a mempool cache,
 * as DPDK's).  The list's positions are ours; a slot that does not name a
 * free buffer was overwritten by someone else and is skipped (that buffer
 * is lost until the worker restarts).
 */
static uint32_t
worker_alloc(struct worker *w, uint32_t *idx, uint32_t n)
{
	uint32_t got = 0;

	while (got < n && w->ncached > 0) {
		idx[got] = w->cached[--w->ncached];
		w->owner[idx[got++]] = OWN_WORKER;
	}
	while (got < n && w->free_tail != w->free_head) {
		uint32_t i = w->free_ring->slots[w->free_tail++ & w->free_mask];

		if (i < w->nbufs && w->owner[i] == OWN_FREE) {
			w->owner[i] = OWN_WORKER;
			idx[got++] = i;
		} else if (w->lost++ == 0) {
			log_warnx("buffer pool: free list overwritten by someone; buffers lost");
		}
	}
	/* Only for observers (pool_free_count): release pairs with ring_count. */
	atomic_store_explicit(&w->free_ring->cons.tail, w->free_tail, memory_order_release);
	return got;
}

/* Give back buffers the worker holds; there is always room (one slot each). */
static void
worker_release(struct worker *w, const uint32_t *idx, uint32_t n)
{
	uint32_t head = w->free_head;

	for (uint32_t i = 0; i < n; i++) {
		w->owner[idx[i]] = OWN_FREE;
		if (w->ncached < WORKER_CACHE_MAX)
			w->cached[w->ncached++] = idx[i];
		else
			w->free_ring->slots[w->free_head++ & w->free_mask] = idx[i];
	}
	if (w->free_head != head)
		atomic_store_explicit(&w->free_ring->prod.head, w->free_head, memory_order_release);
}

/*
 * Take buffer idx back from port's driver if it holds it by one of the
 * rings in `lent` (OWN_FILL, OWN_TX, or both); 0 if it may not hand it.
 */
static int
worker_take(struct worker *w, uint32_t port, uint32_t idx, unsigned lent)
{
	struct worker_port *p = &w->ports[port];
	uint16_t o;

	if (idx >= w->nbufs)
		return 0;
	o = w->owner[idx];
	if ((lent & OWN_FILL) && o == (OWN_FILL | port))
		p->nfill--;
	else if ((lent & OWN_TX) && o == (OWN_TX | port))
		p->ntx--;
	else
		return 0;
	w->owner[idx] = OWN_WORKER;
	return 1;
}

/* Counters -------------------------------------------------------------- */

/*
 * Counters are kept in the worker's own memory (acc) and copied to the
 * shared segment by worker_publish: only the entries that changed, between
 * stats_begin and stats_end, so the segment is odd (being written) for a
 * fraction of a microsecond.  Written in place, it would be odd for most of
 * every pass, and a reader copying 50 KB would never find it still: under
 * load a scrape would fail.  A pass that found nothing to do publishes at
 * once; a busy worker publishes every WORKER_PUBLISH_NS.
 */
#define WORKER_PUBLISH_NS 1000000

static struct stats_counters *
worker_port_ctr(struct worker *w, uint32_t port)
{
	if (!w->port_dirty[port]) {
		w->port_dirty[port] = 1;
		w->dirty_ports[w->ndirty_ports++] = (uint8_t)port;
	}
	w->dirty = 1;
	return &w->acc.ports[port];
}

static struct stats_counters *
worker_net_ctr(struct worker *w, int net)
{
	if (!w->net_dirty[net]) {
		w->net_dirty[net] = 1;
		w->dirty_nets[w->ndirty_nets++] = (uint16_t)net;
	}
	w->dirty = 1;
	return &w->acc.networks[net].c;
}

void
worker_publish(struct worker *w)
{
	struct stats_segment *s = w->stats;

	if (!w->dirty)
		return;
	stats_begin(s);
	for (uint32_t i = 0; i < w->ndirty_ports; i++) {
		s->ports[w->dirty_ports[i]] = w->acc.ports[w->dirty_ports[i]];
		w->port_dirty[w->dirty_ports[i]] = 0;
	}
	for (uint32_t i = 0; i < w->ndirty_nets; i++) {
		uint16_t n = w->dirty_nets[i];

		s->networks[n].id = w->acc.networks[n].id;
		s->networks[n].c = w->acc.networks[n].c;
		w->net_dirty[n] = 0;
	}
	memcpy(s->drops, w->acc.drops, sizeof(s->drops));
	s->bursts = w->acc.bursts;
	s->nnetworks = w->acc.nnetworks;
	s->flows = w->acc.flows;
	s->flows_created = w->acc.flows_created;
	s->flows_expired = w->acc.flows_expired;
	s->flow_moves = w->acc.flow_moves;
	s->probes_tx = w->acc.probes_tx;
	s->probes_rx = w->acc.probes_rx;
	s->npaths = w->acc.npaths;
	memcpy(s->paths, w->acc.paths, w->acc.npaths * sizeof(s->paths[0]));
	s->ntenants = w->acc.ntenants;
	memcpy(s->tenants, w->acc.tenants, w->acc.ntenants * sizeof(s->tenants[0]));
	memcpy(s->sched, w->acc.sched, sizeof(s->sched));
	stats_end(s);
	w->ndirty_ports = w->ndirty_nets = 0;
	w->dirty = 0;
	w->published_ns = w->now_ns;
}

static void
worker_drop_count(struct worker *w, uint32_t port, int net, enum stats_drop why)
{
	w->acc.drops[why]++;
	if (port < PORT_MAX)
		worker_port_ctr(w, port)->drops++;
	if (net >= 0)
		worker_net_ctr(w, net)->drops++;
}

/* Count a drop; the buffer (if any) is freed at the end of the burst. */
static void
worker_drop(struct worker *w, uint32_t port, int net, enum stats_drop why, uint32_t idx)
{
	worker_drop_count(w, port, net, why);
	w->dropped[w->ndropped++] = idx;
}

static void
worker_drops_flush(struct worker *w)
{
	worker_release(w, w->dropped, w->ndropped);
	w->ndropped = 0;
}

/* A driver handed back something it does not hold: count it, log it once. */
static void
worker_bad_index(struct worker *w, uint32_t port, const char *ring, uint32_t idx)
{
	struct worker_port *p = &w->ports[port];

	w->acc.drops[STATS_DROP_malformed]++;
	worker_port_ctr(w, port)->drops++;
	if (!p->complained) {
		p->complained = 1;
		log_warnx("port %u: its driver put buffer %u on its %s ring, which it does not "
		    "hold; ignored (further ones only counted)", port, idx, ring);
	}
}

/* Wake-ups -------------------------------------------------------------- */

/* After enqueuing to a port's fill or tx ring: wake its driver if it sleeps. */
static void
worker_kick(struct worker_port *p)
{
	uint64_t one = 1;

	/*
	 * Pairs with the driver's fence between setting driver_sleeping and
	 * its last look at its rings (port.h): either it sees what we just
	 * enqueued, or we see its flag here.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (p->kick_driver >= 0 &&
	    atomic_load_explicit(&p->shm->driver_sleeping, memory_order_relaxed) != 0 &&
	    write(p->kick_driver, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("cannot wake a driver");
}

/* Frames ---------------------------------------------------------------- */

struct worker_frame {
	uint8_t *p;			/* the first byte */
	uint32_t off, len;
};

/* Read a buffer's off and len once; 0 if the frame is inside the buffer. */
static int
worker_frame(const struct worker *w, struct pool_buf *b, struct worker_frame *f)
{
	f->off = WORKER_READ_ONCE(b->off);
	f->len = WORKER_READ_ONCE(b->len);
	if (f->off > w->data_size || f->len > w->data_size - f->off)
		return -1;
	f->p = b->data + f->off;
	return 0;
}

static uint16_t
worker_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint16_t
worker_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

/*
 * The IP version (4 or 6) of the packet of len bytes at ip if its header
 * is sane: version, header length, total length within the frame.  0 if not.
 */
static int
worker_ip_check(const uint8_t *ip, uint32_t len)
{
	uint32_t hlen;

	if (len < 20)
		return 0;
	switch (ip[0] >> 4) {
	case 4:
		hlen = (uint32_t)(ip[0] & 0x0f) * 4;
		if (hlen < 20 || hlen > len || worker_be16(ip + 2) < hlen ||
		    worker_be16(ip + 2) > len)
			return 0;
		return 4;
	case 6:
		if (len < 40 || 40u + worker_be16(ip + 4) > len)
			return 0;
		return 6;
	}
	return 0;
}

/*
 * A virtio-net header from the network, before it reaches a tenant's
 * kernel: only the flags and GSO types a TUN device produces, for the
 * IP version it carries, pointing inside the packet.  (The kernel checks
 * it too; this is the second lock.)  Little-endian, as TUN writes it.
 */
static int
worker_vnet_check(const uint8_t *v, uint32_t ip_len, int ipv)
{
	uint8_t flags = v[0], gso = v[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint32_t hdr_len = worker_le16(v + 2), gso_size = worker_le16(v + 4);
	uint32_t csum_start = worker_le16(v + 6), csum_offset = worker_le16(v + 8);

	if ((flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0)
		return 0;
	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && csum_start + csum_offset + 2 > ip_len)
		return 0;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return v[1] == VIRTIO_NET_HDR_GSO_NONE;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (ipv != 4)
			return 0;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (ipv != 6)
			return 0;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		break;
	default:
		return 0;
	}
	return gso_size != 0 && hdr_len <= ip_len;
}

static int
worker_prefix_match(const uint8_t *addr, const uint8_t *prefix, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(addr, prefix, bytes) != 0)
		return 0;
	return bits == 0 || ((addr[bytes] ^ prefix[bytes]) & (0xff00u >> bits) & 0xff) == 0;
}

/* Is the source address of this IP packet inside the network's subnet? */
static int
worker_source_ok(const struct worker_net *nw, const uint8_t *ip, int ipv)
{
	if (ipv == 4)
		return worker_prefix_match(ip + 12, nw->subnet4, nw->plen4);
	return nw->has6 && worker_prefix_match(ip + 8, nw->subnet6, nw->plen6);
}

/* Staging for tx rings ----------------------------------------------- */

static void
worker_stage(struct worker *w, uint32_t port, uint32_t idx, uint32_t len, int net)
{
	struct worker_port *p = &w->ports[port];

	if (p->nstaged == 0)
		w->staged[w->nstaged++] = (uint8_t)port;
	p->staged[p->nstaged++] = (struct worker_staged){ .idx = idx, .len = len, .net = net };
}

/* Bytes of the IP packet in a frame on a port of this kind. */
static uint32_t
worker_ip_bytes(uint32_t kind, uint32_t len)
{
	return len - WORKER_VNET_LEN - (kind == PORT_UDP ? OVERLAY_HDR_LEN : 0);
}

/* Enqueue one port's staged frames; what does not fit is dropped. */
static void
worker_flush_port(struct worker *w, uint32_t port)
{
	struct worker_port *p = &w->ports[port];
	struct stats_counters *pc = worker_port_ctr(w, port);
	uint32_t idx[WORKER_STAGED_MAX], n = p->nstaged, put;

	if (n == 0 || n > WORKER_STAGED_MAX)
		return;
	for (uint32_t i = 0; i < n; i++)
		idx[i] = p->staged[i].idx;
	put = worker_ring_put(&p->tx, idx, n);
	for (uint32_t i = 0; i < n; i++) {
		const struct worker_staged *f = &p->staged[i];

		if (i >= put) {
			worker_drop(w, port, f->net, STATS_DROP_ring_full, f->idx);
			continue;
		}
		w->owner[f->idx] = (uint16_t)(OWN_TX | port);
		pc->tx_packets++;
		pc->tx_bytes += f->len;
		p->load_bytes += f->len;
		if (f->net >= 0) {
			struct stats_counters *nc = worker_net_ctr(w, f->net);

			nc->tx_packets++;
			nc->tx_bytes += worker_ip_bytes(p->kind, f->len);
		}
	}
	p->ntx += put;
	p->nstaged = 0;
	if (put > 0)
		worker_kick(p);
}

static void
worker_flush(struct worker *w)
{
	for (uint32_t i = 0; i < w->nstaged; i++)
		worker_flush_port(w, w->staged[i]);
	w->nstaged = 0;
	worker_drops_flush(w);
}

/* Tenants, paths and flows: the scheduler's state -------------------------- */

static struct worker_tenant *
worker_tenant_of(struct worker *w, const struct worker_net *nw)
{
	return nw->tenant >= 0 ? &w->tenants[nw->tenant] : NULL;
}

static struct stats_tenant *
worker_tenant_ctr(struct worker *w, const struct worker_tenant *t)
{
	w->dirty = 1;
	return &w->acc.tenants[t - w->tenants];
}

/* The index in the network's uplinks of port, or -1. */
static int
worker_uplink_k(const struct worker_net *nw, uint32_t port)
{
	for (uint32_t k = 0; k < nw->nuplinks; k++)
		if (nw->uplinks[k].port == port)
			return (int)k;
	return -1;
}

/* Can the network send by its uplink k now: the port up, its path to the peer not dead? */
static int
worker_uplink_usable(const struct worker *w, const struct worker_net *nw, int k)
{
	const struct worker_uplink *u = &nw->uplinks[k];
	const struct worker_port *p = &w->ports[u->port];

	return p->kind == PORT_UDP && p->up && w->paths[u->path].last_state != PATH_DEAD;
}

static void
worker_steer_path(const struct worker *w, const struct worker_net *nw, int k, uint16_t weight,
    struct steer_path *sp)
{
	const struct worker_uplink *u = &nw->uplinks[k];
	const struct worker_port *p = &w->ports[u->port];
	const struct worker_path *pa = &w->paths[u->path];
	struct path_metrics m;

	path_get(&pa->est, &m);
	memset(sp, 0, sizeof(*sp));
	sp->port = (uint8_t)u->port;
	sp->usable = (uint8_t)worker_uplink_usable(w, nw, k);
	sp->delay_us = path_delay_us(&pa->est);
	sp->measured = m.state == PATH_UP && sp->delay_us > 0;
	sp->jitter_us = m.jitter_us;
	sp->loss_ppm = m.loss_ppm;
	sp->weight = weight;
	sp->flows = p->flows;
	sp->capacity_kbps = p->capacity_kbps;
	sp->load_kbps = p->load_kbps;
}

/* A flow's candidates: the rule's uplinks the network has, in the rule's order, or all the network's. */
static uint32_t
worker_candidates(const struct worker *w, const struct worker_net *nw, const struct cls_rule *r,
    struct steer_path *out)
{
	uint32_t n = 0;

	if (r == NULL || r->nuplinks == 0) {
		for (uint32_t k = 0; k < nw->nuplinks; k++)
			worker_steer_path(w, nw, (int)k, 0, &out[n++]);
		return n;
	}
	for (uint32_t i = 0; i < r->nuplinks && i < CLS_UPLINKS_MAX; i++) {
		int k = worker_uplink_k(nw, r->uplink_port[i]);

		if (k >= 0)
			worker_steer_path(w, nw, k, r->weight[i], &out[n++]);
	}
	return n;
}

static const struct cls_rule *
worker_flow_rule(const struct worker_tenant *t, const struct flow *f)
{
	return t != NULL && f->rule < t->nrules ? &t->rules[f->rule] : NULL;
}

/* Tell the parent a flow moved (an event), within a budget per second. */
static void
worker_report_move(struct worker *w, const struct worker_net *nw, const struct flow *f,
    const uint8_t from[2], int why, const struct steer_path *cand, uint32_t ncand)
{
	struct worker_move m;

	if (w->parent < 0)
		return;
	if (w->now_ns - w->move_second >= 1000000000ULL) {
		w->move_second = w->now_ns;
		w->move_budget = 0;
	}
	if (w->move_budget >= WORKER_MOVES_PER_SEC) {
		w->moves_suppressed++;
		return;
	}
	memset(&m, 0, sizeof(m));
	m.tenant = f->tenant;
	m.network = nw->id;
	m.key = f->key;
	memcpy(m.from, from, 2);
	memcpy(m.to, f->port, 2);
	m.reason = (uint32_t)why;
	for (uint32_t i = 0; i < ncand; i++) {
		if (cand[i].port == from[0])
			m.delay_us[0] = cand[i].delay_us;
		if (cand[i].port == f->port[0])
			m.delay_us[1] = cand[i].delay_us;
	}
	m.suppressed = w->moves_suppressed;
	if (msg_send(w->parent, MSG_WORKER_MOVE, 0, 0, &m, sizeof(m), NULL) == 0) {
		w->move_budget++;
		w->moves_suppressed = 0;
	} else {
		w->moves_suppressed++;
	}
}

/* The flow counts of the ports a flow leaves and takes. */
static void
worker_flow_ports(struct worker *w, const uint8_t port[2], int delta)
{
	for (int i = 0; i < 2; i++)
		if (port[i] < PORT_MAX)
			w->ports[port[i]].flows += (uint32_t)delta;
}

/*
 * Decide (again) where a flow goes.  A flow whose uplink is no longer a
 * candidate or no longer usable is placed as if new, and that is a move
 * for reason "down"; otherwise steer_decide applies its hysteresis.
 */
static void
worker_steer(struct worker *w, struct worker_net *nw, struct flow *f, const struct cls_rule *r)
{
	struct steer_path cand[WORKER_NET_UPLINKS];
	struct steer_req q = {
		.mode = f->steering,
		.cur = { f->port[0], f->port[1] },
		.max_latency_us = r != NULL ? r->max_latency_us : 0,
		.hash = f->hash,
		.now = w->now_ns,
		.moved_ns = f->moved_ns,
		.paths = cand,
	};
	uint8_t out[2], from[2] = { f->port[0], f->port[1] };
	int why, lost = 0;

	q.n = worker_candidates(w, nw, r, cand);
	for (int i = 0; i < 2; i++) {
		uint32_t j;

		if (q.cur[i] == STEER_NONE)
			continue;
		for (j = 0; j < q.n && (cand[j].port != q.cur[i] || !cand[j].usable); j++)
			;
		lost |= j == q.n;
	}
	if (lost) {
		q.cur[0] = q.cur[1] = STEER_NONE;
		q.moved_ns = 0;
	}
	why = steer_decide(&q, out);
	f->checked_ns = w->now_ns;
	if (out[0] == from[0] && out[1] == from[1])
		return;
	if (lost)
		why = STEER_DOWN;
	flow_write_begin(f);
	worker_flow_ports(w, from, -1);
	f->port[0] = out[0];
	f->port[1] = out[1];
	worker_flow_ports(w, out, 1);
	if (from[0] != FLOW_NO_PORT) {
		f->moves++;
		f->moved_ns = w->now_ns;
		w->acc.flow_moves++;
		if (from[0] < PORT_MAX)
			w->acc.sched[from[0]].moves_out++;
		if (out[0] < PORT_MAX)
			w->acc.sched[out[0]].moves_in++;
		w->dirty = 1;
	}
	flow_write_end(f);
	if (from[0] != FLOW_NO_PORT)
		worker_report_move(w, nw, f, from, why, cand, q.n);
}

/* Classify a flow by its tenant's rules (first match), or the default. */
static void
worker_classify(const struct worker_tenant *t, struct flow *f)
{
	int i = t != NULL ? cls_match(t->rules, t->nrules, &f->key, f->dscp) : -1;
	const struct cls_rule *r = i >= 0 ? &t->rules[i] : NULL;

	f->rule = i >= 0 ? (uint8_t)i : 0xff;
	f->policy = r != NULL ? r->policy : 0;
	f->class = r != NULL ? r->class : CLS_DEFAULT_CLASS;
	f->steering = r != NULL ? r->steering : CLS_DEFAULT_STEERING;
	f->action = r != NULL ? r->action : POLICY_ALLOW;
	f->rules_gen = t != NULL ? t->gen : 0;
}

/*
 * The flow of a packet: found, or made (classified, not yet steered) if
 * its tenant's quota and the table allow; NULL with *why otherwise.
 */
static struct flow *
worker_flow(struct worker *w, struct worker_net *nw, int net, const uint8_t *ip, uint32_t len,
    int ipv, enum stats_drop *why)
{
	struct worker_tenant *t = worker_tenant_of(w, nw);
	struct flow_key k;
	struct flow *f;
	uint8_t dscp;
	uint32_t h;

	if (flow_key_parse(ip, len, ipv, (uint16_t)net, &k, &dscp) < 0) {
		*why = STATS_DROP_malformed;
		return NULL;
	}
	h = flow_hash(&k, w->flow_seed);
	if ((f = flow_lookup(w->flows, &k, h)) != NULL)
		return f;
	if (t != NULL && t->flows >= t->flows_max) {
		worker_tenant_ctr(w, t)->flow_drops++;
		*why = STATS_DROP_flow_quota;
		return NULL;
	}
	if ((f = flow_insert(w->flows, &k, h)) == NULL) {
		*why = STATS_DROP_flow_table_full;
		return NULL;
	}
	flow_write_begin(f);
	f->tenant = t != NULL ? t->id : 0;
	f->first_ns = f->last_ns = f->moved_ns = w->now_ns;
	f->port[0] = f->port[1] = FLOW_NO_PORT;
	f->dscp = dscp;
	worker_classify(t, f);
	flow_write_end(f);
	if (t != NULL) {
		t->flows++;
		worker_tenant_ctr(w, t)->flows = t->flows;
	}
	w->acc.flows_created++;
	w->acc.flows = w->flows->count;
	return f;
}

/* A flow leaves the table (aged out, or its network is gone). */
static void
worker_flow_gone(struct flow *f, void *arg)
{
	struct worker *w = arg;

	worker_flow_ports(w, f->port, -1);
	for (uint32_t i = 0; i < w->ntenants; i++) {
		struct worker_tenant *t = &w->tenants[i];

		if (t->id != 0 && t->id == f->tenant) {
			if (t->flows > 0)
				t->flows--;
			worker_tenant_ctr(w, t)->flows = t->flows;
			break;
		}
	}
	w->acc.flows_expired++;
	w->dirty = 1;
}

/* Tap -> uplink ------------------------------------------------------- */

/* Prepend the overlay header in the headroom and address the frame to the peer. */
static void
worker_encap(struct worker *w, struct worker_net *nw, int k, struct pool_buf *b,
    uint32_t off, uint32_t len, uint8_t type, uint32_t dup_seq)
{
	const struct worker_uplink *u = &nw->uplinks[k];
	struct overlay_hdr h = {
		.version = OVERLAY_VERSION,
		.type = type,
		.path = (uint16_t)k,
		.network = nw->id,
		.seq = nw->seq[k]++,
		.dup_seq = dup_seq,
		.timestamp_ns = w->now_ns,
	};

	overlay_encode(&h, b->data + off - OVERLAY_HDR_LEN);
	b->off = (uint16_t)(off - OVERLAY_HDR_LEN);
	b->len = len + OVERLAY_HDR_LEN;
	b->network = nw->id;
	b->peer.family = u->family;
	b->peer.port = u->udp_port;
	memcpy(b->peer.addr, u->addr, sizeof(b->peer.addr));
}

static int worker_net_find(const struct worker *, uint32_t);

/* A frame taken out of a paced uplink's queue to make room: counted, freed at once. */
static void
worker_drop_now(struct worker *w, uint32_t port, uint32_t idx)
{
	worker_drop_count(w, port, worker_net_find(w, worker_buf(w, idx)->network),
	    STATS_DROP_queue_full);
	worker_release(w, &idx, 1);
}

/*
 * Hand an encapsulated frame to its uplink: staged for the tx ring, or,
 * if the uplink is paced, queued in its scheduler by class and tenant.
 */
static enum stats_drop
worker_send(struct worker *w, struct worker_net *nw, const struct flow *f, uint32_t port,
    uint32_t idx)
{
	struct worker_port *p = &w->ports[port];
	uint32_t len = worker_buf(w, idx)->len;

	if (p->sched == NULL) {
		worker_stage(w, port, idx, len, (int)(nw - w->nets));
		return STATS_DROP_MAX;
	}
	len += p->wire_overhead;
	while (sched_enqueue(p->sched, f->class, f->tenant, idx, len) < 0) {
		uint32_t victim;

		/* Room made by a frame of a lower class or a longer lane: that one is the drop. */
		if (!sched_evict(p->sched, f->class, f->tenant, len, &victim))
			return STATS_DROP_queue_full;
		worker_drop_now(w, port, victim);
	}
	w->owner[idx] = OWN_WORKER;
	return STATS_DROP_MAX;
}

/* A copy of a frame in a new buffer, at the same offset; -1 if the pool is empty. */
static int
worker_copy(struct worker *w, uint32_t off, uint32_t len, const uint8_t *src, uint32_t *idx)
{
	struct pool_buf *b;

	if (worker_alloc(w, idx, 1) != 1)
		return -1;
	b = worker_buf(w, *idx);
	memcpy(b->data + off, src, len);
	b->off = (uint16_t)off;
	b->len = len;
	return 0;
}

/* Police a packet: its rule's rate cap, then its tenant's bandwidth; 1 if it may pass. */
static int
worker_police(struct worker *w, struct worker_tenant *t, const struct flow *f,
    const struct cls_rule *r, uint32_t bytes)
{
	if (r != NULL && r->rate_kbps != 0 && t->caps != NULL &&
	    !tb_take(&t->caps[f->rule], bytes, w->now_ns))
		return 0;
	/* Quotas have no magic zero: 0 allows nothing (docs/decisions.md). */
	if (t != NULL && t->bandwidth_kbps != UINT64_MAX &&
	    (t->bandwidth_kbps == 0 || !tb_take(&t->bw, bytes, w->now_ns)))
		return 0;
	return 1;
}

/*
 * One frame from a network's tap: STATS_DROP_MAX if it went on (staged
 * or queued), else why it is dropped.  Per packet: the flow (made on its
 * first packet: quota, classification), its counters, its action, its
 * caps, its uplink(s) checked when a port or path changed or every
 * WORKER_STEER_CHECK_NS, then the overlay header and the uplink, twice
 * for a redundant flow.
 */
static enum stats_drop
worker_tap_frame(struct worker *w, struct worker_net *nw, uint32_t idx,
    const struct worker_frame *f)
{
	const uint8_t *ip = f->p + WORKER_VNET_LEN;
	struct worker_tenant *t;
	const struct cls_rule *r;
	enum stats_drop why = STATS_DROP_MAX;
	struct flow *fl;
	uint32_t ipl, idx2;
	int ipv, k;

	if (f->len < WORKER_VNET_LEN + 20)
		return STATS_DROP_truncated;
	ipl = f->len - WORKER_VNET_LEN;
	ipv = worker_ip_check(ip, ipl);
	if (ipv == 0 || f->off < OVERLAY_HDR_LEN)
		return STATS_DROP_malformed;
	if (!worker_source_ok(nw, ip, ipv))
		return STATS_DROP_spoofed;
	if ((fl = worker_flow(w, nw, (int)(nw - w->nets), ip, ipl, ipv, &why)) == NULL)
		return why;
	t = worker_tenant_of(w, nw);
	if (t != NULL && fl->rules_gen != t->gen) {
		flow_write_begin(fl);
		worker_classify(t, fl);
		flow_write_end(fl);
		fl->checked_ns = 0;
	}
	fl->packets++;
	fl->bytes += ipl;
	fl->last_ns = w->now_ns;
	fl->elephant |= fl->bytes > FLOW_ELEPHANT_BYTES;
	r = worker_flow_rule(t, fl);
	if (fl->action == POLICY_DENY) {
		if (t != NULL)
			worker_tenant_ctr(w, t)->denied++;
		return STATS_DROP_denied;
	}
	if (t != NULL && !worker_police(w, t, fl, r, ipl)) {
		worker_tenant_ctr(w, t)->policed++;
		return STATS_DROP_policed;
	}
	k = fl->port[0] != FLOW_NO_PORT ? worker_uplink_k(nw, fl->port[0]) : -1;
	if (k < 0 || !worker_uplink_usable(w, nw, k) || w->changed_ns >= fl->checked_ns ||
	    w->now_ns - fl->checked_ns >= WORKER_STEER_CHECK_NS) {
		worker_steer(w, nw, fl, r);
		k = fl->port[0] != FLOW_NO_PORT ? worker_uplink_k(nw, fl->port[0]) : -1;
	}
	if (k < 0)
		return STATS_DROP_no_uplink;
	if (fl->port[1] == FLOW_NO_PORT) {
		worker_encap(w, nw, k, worker_buf(w, idx), f->off, f->len, OVERLAY_DATA, 0);
		return worker_send(w, nw, fl, fl->port[0], idx);
	}
	/* Redundant: the same redundancy sequence on both copies, one per uplink. */
	if (worker_copy(w, f->off, f->len, f->p, &idx2) == 0) {
		int k2 = worker_uplink_k(nw, fl->port[1]);

		if (k2 >= 0) {
			worker_encap(w, nw, k2, worker_buf(w, idx2), f->off, f->len, OVERLAY_DATA_DUP,
			    nw->dup_seq);
			why = worker_send(w, nw, fl, fl->port[1], idx2);
			if (why != STATS_DROP_MAX)
				worker_drop(w, fl->port[1], (int)(nw - w->nets), why, idx2);
			else
				w->acc.sched[fl->port[1]].dup_tx++;
		} else {
			worker_release(w, &idx2, 1);
		}
	}
	worker_encap(w, nw, k, worker_buf(w, idx), f->off, f->len, OVERLAY_DATA_DUP, nw->dup_seq++);
	return worker_send(w, nw, fl, fl->port[0], idx);
}

/*
 * A burst from a tap port: all its frames belong to one network; each
 * leaves by its own flow's uplink(s).
 * Costs 20 ns/frame at burst 32, 51 clocks, flush and refill included
 * (bench/worker-bench, "tap->udp", one thread, 64-byte packets), before
 * flows; see bench/worker-bench for the cost with the flow table.
 */
static void
worker_from_tap(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	struct stats_counters *pc, *nc;
	int net = w->tap_net[port];
	struct worker_net *nw = net >= 0 ? &w->nets[net] : NULL;
	uint64_t bytes = 0, ip_bytes = 0;
	uint32_t frames = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct worker_frame f;
		enum stats_drop why;

		if (!worker_take(w, port, idx[i], OWN_FILL)) {
			worker_bad_index(w, port, "rx", idx[i]);
			continue;
		}
		if (worker_frame(w, worker_buf(w, idx[i]), &f) < 0) {
			worker_drop(w, port, net, STATS_DROP_malformed, idx[i]);
			continue;
		}
		frames++;
		bytes += f.len;
		ip_bytes += f.len > WORKER_VNET_LEN ? f.len - WORKER_VNET_LEN : 0;
		/* A tap no network owns: nowhere to send it. */
		why = nw != NULL ? worker_tap_frame(w, nw, idx[i], &f) : STATS_DROP_no_uplink;
		if (why != STATS_DROP_MAX)
			worker_drop(w, port, net, why, idx[i]);
	}
	pc = worker_port_ctr(w, port);
	pc->rx_packets += n;
	pc->rx_bytes += bytes;
	if (nw != NULL) {
		nc = worker_net_ctr(w, net);
		nc->rx_packets += frames;
		nc->rx_bytes += ip_bytes;
	}
}

/* Uplink -> tap ------------------------------------------------------- */

static int
worker_net_find(const struct worker *w, uint32_t id)
{
	uint32_t h = (id * 2654435761u) >> (32 - WORKER_HASH_BITS);

	for (; w->hash[h] != 0; h = (h + 1) & (WORKER_HASH_SIZE - 1))
		if (w->nets[w->hash[h] - 1].id == id)
			return w->hash[h] - 1;
	return -1;
}

/* The inner frame (vnet + IP) of an overlay frame: sane enough for a tenant's kernel? */
static int
worker_inner_ok(const uint8_t *p, uint32_t len)
{
	int ipv;

	if (len < WORKER_VNET_LEN + 20)
		return 0;
	ipv = worker_ip_check(p + WORKER_VNET_LEN, len - WORKER_VNET_LEN);
	return ipv != 0 && worker_vnet_check(p, len - WORKER_VNET_LEN, ipv);
}

/*
 * One frame from an uplink, decoded: STATS_DROP_MAX if it was staged for
 * its network's tap (or consumed, a probe), else why it is dropped.  *net
 * is set once the network is known.
 */
/*
 * Did this datagram come from the network's peer, over an uplink the
 * network uses, from the peer's endpoint on it?  Anyone else who can reach
 * an uplink (and guesses a network id) is not let in.
 */
static int
worker_from_peer(const struct worker_net *nw, uint32_t port, const struct pool_buf *b)
{
	size_t alen;

	for (uint32_t k = 0; k < nw->nuplinks; k++) {
		const struct worker_uplink *u = &nw->uplinks[k];

		alen = u->family == AF_INET ? 4 : 16;
		if (u->port == port && b->peer.family == u->family && b->peer.port == u->udp_port &&
		    memcmp(b->peer.addr, u->addr, alen) == 0)
			return 1;
	}
	return 0;
}

/* The path a datagram came by: its port and its sender's endpoint; -1 if none we probe. */
static int
worker_path_of(const struct worker *w, uint32_t port, const struct pool_buf *b)
{
	size_t alen = b->peer.family == AF_INET ? 4 : 16;

	for (uint32_t i = 0; i < w->npaths; i++) {
		const struct worker_path *pa = &w->paths[i];

		if (pa->port == port && pa->family == b->peer.family &&
		    pa->udp_port == b->peer.port && memcmp(pa->addr, b->peer.addr, alen) == 0)
			return (int)i;
	}
	return -1;
}

/* A path's state as its estimator says; a change makes flows look at their choice. */
static void
worker_path_state(struct worker *w, struct worker_path *pa)
{
	struct path_metrics m;

	path_get(&pa->est, &m);
	if (m.state != pa->last_state) {
		pa->last_state = m.state;
		w->changed_ns = w->now_ns;
	}
}

/*
 * A probe from the peer is answered at once, in the same buffer, by the
 * uplink it came by, to where it came from: its header echoed as a reply.
 * A reply feeds the path's estimator.  Only the endpoints of paths we
 * probe ourselves are answered: an uplink is not a reflector for anyone.
 */
static enum stats_drop
worker_probe_in(struct worker *w, uint32_t port, uint32_t idx, const struct worker_frame *f,
    struct overlay_hdr *h)
{
	struct pool_buf *b = worker_buf(w, idx);
	int pi = worker_path_of(w, port, b);

	if (pi < 0)
		return STATS_DROP_wrong_peer;
	if (h->type == OVERLAY_PROBE) {
		h->type = OVERLAY_PROBE_REPLY;
		overlay_encode(h, f->p);
		b->len = OVERLAY_HDR_LEN;
		worker_stage(w, port, idx, OVERLAY_HDR_LEN, -1);
		return STATS_DROP_MAX;
	}
	if (path_probe_reply(&w->paths[pi].est, h->seq, h->timestamp_ns, w->now_ns) == 0) {
		w->acc.probes_rx++;
		w->dirty = 1;
	}
	/* A late echo (already counted lost) still says the path is alive. */
	worker_path_state(w, &w->paths[pi]);
	w->dropped[w->ndropped++] = idx;	/* consumed */
	return STATS_DROP_MAX;
}

/* The first copy of a redundant frame is delivered, the second dropped. */
static int
worker_first_copy(struct worker_net *nw, uint32_t seq)
{
	if (nw->dedup == NULL) {
		if ((nw->dedup = malloc(sizeof(*nw->dedup))) == NULL)
			return 1;	/* without memory, duplicates reach the tenant: TCP copes */
		dedup_init(nw->dedup);
	}
	return dedup_check(nw->dedup, seq);
}

static enum stats_drop
worker_udp_frame(struct worker *w, uint32_t port, uint32_t idx, const struct worker_frame *f,
    int *net)
{
	struct pool_buf *b = worker_buf(w, idx);
	struct overlay_hdr h;
	enum overlay_error e = overlay_decode(f->p, f->len, &h);
	const struct worker_port *tap;

	if (e != OVERLAY_OK)
		return e == OVERLAY_TRUNCATED ? STATS_DROP_truncated : STATS_DROP_malformed;
	if (h.type == OVERLAY_PROBE || h.type == OVERLAY_PROBE_REPLY)
		return worker_probe_in(w, port, idx, f, &h);
	if ((*net = worker_net_find(w, h.network)) < 0)
		return STATS_DROP_unknown_network;
	if (!worker_from_peer(&w->nets[*net], port, b))
		return STATS_DROP_wrong_peer;
	if (h.type == OVERLAY_DATA_DUP && !worker_first_copy(&w->nets[*net], h.dup_seq))
		return STATS_DROP_duplicate;
	if (f->off + OVERLAY_HDR_LEN > UINT16_MAX ||
	    !worker_inner_ok(f->p + OVERLAY_HDR_LEN, f->len - OVERLAY_HDR_LEN))
		return STATS_DROP_malformed;
	tap = w->nets[*net].tap_port < PORT_MAX ? &w->ports[w->nets[*net].tap_port] : NULL;
	/* The tap's port is down: as full as a ring can be. */
	if (tap == NULL || tap->kind != PORT_TAP || !tap->up)
		return STATS_DROP_ring_full;
	b->off = (uint16_t)(f->off + OVERLAY_HDR_LEN);
	b->len = f->len - OVERLAY_HDR_LEN;
	b->network = h.network;
	b->path = (uint16_t)port;
	worker_stage(w, w->nets[*net].tap_port, idx, f->len - OVERLAY_HDR_LEN, *net);
	return STATS_DROP_MAX;
}

/*
 * A burst from an uplink: frames of any network, each to its tap.
 * Costs 18 ns/frame at burst 32, 46 clocks, flush and refill included
 * (bench/worker-bench, "udp->tap", one thread, 64-byte packets).
 */
static void
worker_from_udp(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	struct stats_counters *pc;
	uint64_t bytes = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct worker_frame f;
		enum stats_drop why;
		int net = -1;

		if (!worker_take(w, port, idx[i], OWN_FILL)) {
			worker_bad_index(w, port, "rx", idx[i]);
			continue;
		}
		if (worker_frame(w, worker_buf(w, idx[i]), &f) < 0) {
			worker_drop(w, port, -1, STATS_DROP_malformed, idx[i]);
			continue;
		}
		bytes += f.len;
		why = worker_udp_frame(w, port, idx[i], &f, &net);
		if (why != STATS_DROP_MAX)
			worker_drop(w, port, net, why, idx[i]);
	}
	pc = worker_port_ctr(w, port);
	pc->rx_packets += n;
	pc->rx_bytes += bytes;
}

/* Filling -------------------------------------------------------------- */

/*
 * Lend up to n buffers the worker holds to port's driver for receiving;
 * returns how many it took (the rest are still the caller's).  The caller
 * wakes the driver (worker_kick), once for all it lent.  The buffers are
 * not touched: the driver that fills one sets its header (pool_buf_reset,
 * pool.h), so its lines move to that driver's core once, not twice.
 */
static uint32_t
worker_lend_fill(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	struct worker_port *p = &w->ports[port];
	uint32_t put;

	put = worker_ring_put(&p->fill, idx, n);
	for (uint32_t i = 0; i < put; i++)
		w->owner[idx[i]] = (uint16_t)(OWN_FILL | port);
	p->nfill += put;
	return put;
}

/* Buffers back from a port: refill its fill ring first, free the rest. */
static void
worker_recycle(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	struct worker_port *p = &w->ports[port];
	uint32_t want = p->up && p->nfill < w->fill_target ? w->fill_target - p->nfill : 0;
	uint32_t lent = worker_lend_fill(w, port, idx, n < want ? n : want);

	worker_release(w, idx + lent, n - lent);
	if (lent > 0)
		worker_kick(p);
}

/* Top up an up port's fill ring to the target, in bursts, once it is a quarter short. */
static void
worker_fill(struct worker *w, uint32_t port)
{
	struct worker_port *p = &w->ports[port];
	uint32_t idx[WORKER_BURST], before = p->nfill;

	if (!p->up || p->nfill + w->fill_target / 4 > w->fill_target)
		return;
	while (p->nfill < w->fill_target) {
		uint32_t want = w->fill_target - p->nfill, got, lent;

		got = worker_alloc(w, idx, want < WORKER_BURST ? want : WORKER_BURST);
		lent = worker_lend_fill(w, port, idx, got);
		worker_release(w, idx + lent, got - lent);
		if (got == 0 || lent < got)
			break;
	}
	if (p->nfill > before)
		worker_kick(p);
}

/* Buffers lent for receiving per up port: half the pool shared out, within bounds. */
static void
worker_fill_retarget(struct worker *w)
{
	uint32_t nup = 0, t;

	for (uint32_t i = 0; i < w->nlisted; i++)
		nup += w->ports[w->listed[i]].up;
	t = nup > 0 ? w->nbufs / (2 * nup) : WORKER_FILL_MAX;
	w->fill_target = t < WORKER_FILL_MIN ? WORKER_FILL_MIN : t > WORKER_FILL_MAX ?
	    WORKER_FILL_MAX : t;
}

/* The pass ---------------------------------------------------------- */

static void
worker_from_comp(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	uint32_t ok[WORKER_BURST], nok = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (worker_take(w, port, idx[i], OWN_FILL | OWN_TX))
			ok[nok++] = idx[i];
		else
			worker_bad_index(w, port, "completion", idx[i]);
	}
	worker_recycle(w, port, ok, nok);
}

static uint32_t
worker_port_burst(struct worker *w, uint32_t port)
{
	struct worker_port *p = &w->ports[port];
	uint32_t idx[WORKER_BURST], ncomp, nrx;

	ncomp = worker_ring_get(&p->comp, idx, WORKER_BURST);
	if (ncomp > 0)
		worker_from_comp(w, port, idx, ncomp);
	nrx = worker_ring_get(&p->rx, idx, WORKER_BURST);
	if (nrx == 0)
		return ncomp;
	if (p->kind == PORT_TAP)
		worker_from_tap(w, port, idx, nrx);
	else
		worker_from_udp(w, port, idx, nrx);
	worker_flush(w);
	return ncomp + nrx;
}

/* Timers ------------------------------------------------------------------ */

/* Probe every path whose probe is due, and age the ones that went unanswered. */
static void
worker_probe(struct worker *w)
{
	for (uint32_t i = 0; i < w->npaths; i++) {
		struct worker_path *pa = &w->paths[i];
		struct worker_port *p;
		struct pool_buf *b;
		struct overlay_hdr h = { .version = OVERLAY_VERSION, .type = OVERLAY_PROBE };
		uint32_t idx;

		if (pa->port >= PORT_MAX)
			continue;
		p = &w->ports[pa->port];
		if (p->kind != PORT_UDP || !p->up)
			continue;
		path_tick(&pa->est, w->now_ns);
		worker_path_state(w, pa);
		if (!path_probe_due(&pa->est, w->now_ns) || p->nstaged >= WORKER_STAGED_MAX ||
		    worker_alloc(w, &idx, 1) != 1)
			continue;
		h.path = (uint16_t)pa->port;
		h.seq = path_probe_sent(&pa->est, w->now_ns);
		h.timestamp_ns = w->now_ns;
		b = worker_buf(w, idx);
		b->off = POOL_HEADROOM;
		b->len = OVERLAY_HDR_LEN;
		b->network = 0;
		b->peer.family = pa->family;
		b->peer.port = pa->udp_port;
		memcpy(b->peer.addr, pa->addr, sizeof(b->peer.addr));
		overlay_encode(&h, b->data + b->off);
		worker_stage(w, pa->port, idx, OVERLAY_HDR_LEN, -1);
		w->acc.probes_tx++;
	}
	worker_flush(w);
	for (uint32_t i = 0; i < w->npaths; i++) {
		struct stats_path *sp = &w->acc.paths[i];
		struct path_metrics m;

		path_get(&w->paths[i].est, &m);
		sp->state = m.state;
		sp->rtt_us = m.rtt_us;
		sp->jitter_us = m.jitter_us;
		sp->loss_ppm = m.loss_ppm;
		sp->sent = m.sent;
		sp->answered = m.answered;
	}
	w->dirty = 1;
}

/* Forget idle flows, a slice of the table at a time. */
static void
worker_age(struct worker *w)
{
	if (w->flows->count == 0)
		return;
	if (flow_expire(w->flows, w->now_ns, WORKER_FLOW_IDLE_NS, WORKER_AGE_BUDGET,
	    worker_flow_gone, w) > 0) {
		w->acc.flows = w->flows->count;
		w->dirty = 1;
	}
}

/* Each uplink's tx rate, smoothed (gain 1/4 every 25 ms: about 100 ms). */
static void
worker_load(struct worker *w, uint64_t elapsed)
{
	for (uint32_t i = 0; i < w->nlisted; i++) {
		uint32_t port = w->listed[i];
		struct worker_port *p = &w->ports[port];
		uint64_t inst = elapsed > 0 ? p->load_bytes * 8000000ULL / elapsed : 0;

		if (p->kind != PORT_UDP)
			continue;
		p->load_kbps = p->load_kbps - p->load_kbps / 4 + inst / 4;
		p->load_bytes = 0;
		w->acc.sched[port].load_kbps = p->load_kbps;
		w->acc.sched[port].flows = p->flows;
		w->acc.sched[port].backlog = p->sched != NULL ? sched_backlog(p->sched) : 0;
	}
	w->dirty = 1;
}

/* Frames the paced uplinks may send now, from their schedulers to their tx rings. */
static uint32_t
worker_sched_run(struct worker *w)
{
	uint32_t moved = 0;

	for (uint32_t i = 0; i < w->nlisted; i++) {
		uint32_t port = w->listed[i], idx[WORKER_BURST], len[WORKER_BURST], n;
		struct worker_port *p = &w->ports[port];

		if (p->sched == NULL || sched_backlog(p->sched) == 0)
			continue;
		if (p->nstaged + WORKER_BURST > WORKER_STAGED_MAX)
			continue;
		n = sched_dequeue(p->sched, w->now_ns, idx, len, WORKER_BURST);
		for (uint32_t j = 0; j < n; j++) {
			struct pool_buf *b = worker_buf(w, idx[j]);

			worker_stage(w, port, idx[j], b->len, worker_net_find(w, b->network));
		}
		moved += n;
	}
	if (moved > 0)
		worker_flush(w);
	return moved;
}

/* When the worker must look again even if no frame comes: UINT64_MAX if never. */
static uint64_t
worker_next_timer(const struct worker *w)
{
	uint64_t next = UINT64_MAX;

	if (w->npaths > 0)
		next = w->next_probe_ns;
	if (w->flows->count > 0 && w->next_age_ns < next)
		next = w->next_age_ns;
	for (uint32_t i = 0; i < w->nlisted; i++) {
		const struct worker_port *p = &w->ports[w->listed[i]];
		uint64_t t;

		if (p->sched != NULL && (t = sched_next_ns(p->sched, w->now_ns)) < next)
			next = t;
	}
	return next;
}

static uint32_t
worker_timers(struct worker *w)
{
	if (w->now_ns >= w->next_probe_ns && !w->no_probes) {
		w->next_probe_ns = w->now_ns + PATH_PROBE_INTERVAL_NS / 5;
		worker_probe(w);
	}
	if (w->now_ns >= w->next_age_ns) {
		w->next_age_ns = w->now_ns + WORKER_AGE_EVERY_NS;
		worker_age(w);
	}
	if (w->now_ns >= w->next_load_ns) {
		if (w->next_load_ns != 0)
			worker_load(w, w->now_ns - (w->next_load_ns - WORKER_LOAD_EVERY_NS));
		w->next_load_ns = w->now_ns + WORKER_LOAD_EVERY_NS;
	}
	return worker_sched_run(w);
}

unsigned
worker_poll(struct worker *w)
{
	unsigned moved = 0;

	w->now_ns = worker_now_ns();
	for (uint32_t i = 0; i < w->nlisted; i++)
		moved += worker_port_burst(w, w->listed[i]);
	moved += worker_timers(w);
	for (uint32_t i = 0; i < w->nlisted; i++)
		worker_fill(w, w->listed[i]);
	if (moved > 0) {
		w->acc.bursts++;
		w->dirty = 1;
	}
	if (w->dirty && (moved == 0 || w->now_ns - w->published_ns >= WORKER_PUBLISH_NS))
		worker_publish(w);
	return moved;
}

int
worker_pending(const struct worker *w)
{
	for (uint32_t i = 0; i < w->nlisted; i++) {
		const struct worker_port *p = &w->ports[w->listed[i]];

		if (worker_ring_nonempty(&p->rx) || worker_ring_nonempty(&p->comp))
			return 1;
	}
	return 0;
}

uint32_t
worker_free_buffers(const struct worker *w)
{
	return w->free_head - w->free_tail + w->ncached;
}

uint32_t
worker_lent(const struct worker *w, uint32_t port)
{
	return port < PORT_MAX ? w->ports[port].nfill + w->ports[port].ntx : 0;
}

/* Ports ------------------------------------------------------------- */

static int worker_tenant_slot(struct worker *w, uint32_t id);
static void worker_paths_rebuild(struct worker *w);

static void
worker_list(struct worker *w, uint32_t port, int on)
{
	struct worker_port *p = &w->ports[port];

	if (on && !p->listed) {
		w->listed[w->nlisted++] = (uint8_t)port;
	} else if (!on && p->listed) {
		for (uint32_t i = 0; i < w->nlisted; i++)
			if (w->listed[i] == port)
				w->listed[i] = w->listed[--w->nlisted];
	}
	p->listed = (uint32_t)on;
}

/* The port's driver died: take back all it held and empty its rings. */
static void
worker_port_reset(struct worker *w, uint32_t port)
{
	struct worker_port *p = &w->ports[port];
	uint32_t idx[WORKER_BURST], n = 0, total = 0;

	for (uint32_t i = 0; i < w->nbufs; i++) {
		if (w->owner[i] != (OWN_FILL | port) && w->owner[i] != (OWN_TX | port))
			continue;
		w->owner[i] = OWN_WORKER;
		idx[n++] = i;
		if (n == WORKER_BURST) {
			worker_release(w, idx, n);
			total += n;
			n = 0;
		}
	}
	worker_release(w, idx, n);
	total += n;
	p->nfill = p->ntx = 0;
	worker_ring_reset(&p->fill, 1);
	worker_ring_reset(&p->tx, 1);
	worker_ring_reset(&p->rx, 0);
	worker_ring_reset(&p->comp, 0);
	atomic_store_explicit(&p->shm->driver_sleeping, 0, memory_order_relaxed);
	p->complained = 0;
	if (total > 0)
		log_info("port %u: took back %u buffers from its dead driver", port, total);
}

/* The port came up: what its paths knew is old (their dead state above all). */
static void
worker_paths_reset(struct worker *w, uint32_t port)
{
	for (uint32_t i = 0; i < w->npaths; i++)
		if (w->paths[i].port == port) {
			path_reset(&w->paths[i].est, w->now_ns);
			w->paths[i].last_state = PATH_UNKNOWN;
		}
}

/* A paced uplink that cannot send: what it holds is dropped. */
static void
worker_sched_drop(struct worker *w, uint32_t port)
{
	struct worker_port *p = &w->ports[port];
	uint32_t idx[WORKER_BURST], n;

	if (p->sched == NULL)
		return;
	while ((n = sched_drain(p->sched, idx, WORKER_BURST)) > 0) {
		for (uint32_t i = 0; i < n; i++)
			worker_drop(w, port, -1, STATS_DROP_no_uplink, idx[i]);
		worker_drops_flush(w);
	}
}

int
worker_port_set(struct worker *w, const struct worker_port_cfg *m)
{
	struct worker_port *p;

	if (m->port >= PORT_MAX || m->kind > PORT_UDP || m->state > WORKER_PORT_RESET ||
	    (m->kind == PORT_NONE && m->state == WORKER_PORT_UP))
		return -1;
	p = &w->ports[m->port];
	if (m->state == WORKER_PORT_RESET)
		worker_port_reset(w, m->port);
	if (m->state == WORKER_PORT_UP && !p->up) {
		p->complained = 0;
		worker_paths_reset(w, m->port);
	}
	if (m->state != WORKER_PORT_UP || m->kind == PORT_NONE)
		worker_sched_drop(w, m->port);
	if ((m->state == WORKER_PORT_UP) != (p->up != 0))
		w->changed_ns = w->now_ns;
	p->kind = m->kind;
	p->up = m->state == WORKER_PORT_UP;
	worker_list(w, m->port, m->kind != PORT_NONE);
	worker_fill_retarget(w);
	return 0;
}

int
worker_kick_set(struct worker *w, uint32_t port, uint32_t which, int fd)
{
	int *slot, flags;

	if (port >= PORT_MAX || which > PORT_KICK_WORKER || fd < 0)
		return -1;
	/* Never block on it: a driver could fill the counter to make us hang. */
	if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	slot = which == PORT_KICK_DRIVER ? &w->ports[port].kick_driver :
	    &w->ports[port].kick_worker;
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
	return 0;
}

/* Networks ----------------------------------------------------------- */

static void
worker_hash_rebuild(struct worker *w)
{
	memset(w->hash, 0, sizeof(w->hash));
	for (uint32_t i = 0; i < w->nnets; i++) {
		uint32_t h = (w->nets[i].id * 2654435761u) >> (32 - WORKER_HASH_BITS);

		if (w->nets[i].id == 0)
			continue;
		while (w->hash[h] != 0)
			h = (h + 1) & (WORKER_HASH_SIZE - 1);
		w->hash[h] = (uint16_t)(i + 1);
	}
}

static int
worker_network_valid(const struct worker_net_cfg *m)
{
	if (m->id == 0 || m->tap_port >= PORT_MAX || m->nuplinks > WORKER_NET_UPLINKS ||
	    m->plen4 > 32 || m->plen6 > 128)
		return 0;
	for (uint32_t k = 0; k < m->nuplinks; k++)
		if (m->uplinks[k].port >= PORT_MAX)
			return 0;
	return 1;
}

/* A slot for id: its own, or the lowest free one (new counters); -1 if full. */
static int
worker_net_slot(struct worker *w, uint32_t id)
{
	int slot = worker_net_find(w, id);

	if (slot >= 0)
		return slot;
	for (slot = 0; slot < STATS_MAX_NETWORKS && w->nets[slot].id != 0; slot++)
		;
	if (slot == STATS_MAX_NETWORKS)
		return -1;
	w->nets[slot].id = id;
	if ((uint32_t)slot >= w->nnets)
		w->nnets = (uint32_t)slot + 1;
	worker_hash_rebuild(w);
	memset(worker_net_ctr(w, slot), 0, sizeof(struct stats_counters));
	w->acc.networks[slot].id = id;
	w->acc.nnetworks = w->nnets;
	return slot;
}

/* Copy a prefix with its host bits cleared. */
static void
worker_prefix_copy(uint8_t *out, const uint8_t *in, size_t size, unsigned plen)
{
	for (size_t i = 0; i < size; i++) {
		unsigned bits = plen > i * 8 ? plen - (unsigned)i * 8 : 0;

		out[i] = in[i] & (uint8_t)(bits >= 8 ? 0xff : (0xff00u >> bits) & 0xff);
	}
}

/* Make tap_port the network's, taking it from any other network. */
static void
worker_net_tap(struct worker *w, int slot, uint32_t tap_port)
{
	struct worker_net *nw = &w->nets[slot];
	int other = w->tap_net[tap_port];

	if (nw->tap_port < PORT_MAX && w->tap_net[nw->tap_port] == slot)
		w->tap_net[nw->tap_port] = -1;
	if (other >= 0 && other != slot) {
		log_warnx("network %08x takes tap port %u from network %08x", nw->id, tap_port,
		    w->nets[other].id);
		w->nets[other].tap_port = WORKER_NO_PORT;
	}
	w->tap_net[tap_port] = (int16_t)slot;
	nw->tap_port = tap_port;
}

int
worker_network_set(struct worker *w, const struct worker_net_cfg *m)
{
	struct worker_net *nw;
	int slot;

	if (!worker_network_valid(m) || (slot = worker_net_slot(w, m->id)) < 0)
		return -1;
	nw = &w->nets[slot];
	worker_net_tap(w, slot, m->tap_port);
	worker_prefix_copy(nw->subnet4, m->subnet4, sizeof(nw->subnet4), m->plen4);
	nw->plen4 = m->plen4;
	nw->has6 = m->has6 != 0;
	worker_prefix_copy(nw->subnet6, m->subnet6, sizeof(nw->subnet6), m->plen6);
	nw->plen6 = m->plen6;
	nw->nuplinks = m->nuplinks;
	for (uint32_t k = 0; k < m->nuplinks; k++) {
		nw->uplinks[k].port = m->uplinks[k].port;
		nw->uplinks[k].family = m->uplinks[k].family;
		nw->uplinks[k].udp_port = m->uplinks[k].udp_port;
		memcpy(nw->uplinks[k].addr, m->uplinks[k].addr, sizeof(nw->uplinks[k].addr));
	}
	nw->tenant = m->tenant != 0 ? worker_tenant_slot(w, m->tenant) : -1;
	worker_paths_rebuild(w);
	w->changed_ns = w->now_ns;
	worker_publish(w);
	return 0;
}

/* Flows of a network slot leave the table (the network is gone: its slot may be reused). */
static void
worker_flows_purge(struct worker *w, uint32_t slot)
{
	struct flow_table *t = w->flows;

	for (uint32_t i = 0; i < t->nslots;) {
		struct flow *f = &t->slots[i];

		if (atomic_load_explicit(&f->gen, memory_order_relaxed) != 0 && f->key.net == slot) {
			worker_flow_gone(f, w);
			flow_remove(t, f);	/* a later entry may shift here: look again */
		} else {
			i++;
		}
	}
	w->acc.flows = t->count;
}

int
worker_network_del(struct worker *w, uint32_t id)
{
	int slot = id != 0 ? worker_net_find(w, id) : -1;

	if (slot < 0)
		return -1;
	if (w->nets[slot].tap_port < PORT_MAX && w->tap_net[w->nets[slot].tap_port] == slot)
		w->tap_net[w->nets[slot].tap_port] = -1;
	worker_flows_purge(w, (uint32_t)slot);
	free(w->nets[slot].dedup);
	memset(&w->nets[slot], 0, sizeof(w->nets[slot]));
	w->nets[slot].tenant = -1;
	worker_paths_rebuild(w);
	while (w->nnets > 0 && w->nets[w->nnets - 1].id == 0)
		w->nnets--;
	worker_hash_rebuild(w);
	memset(worker_net_ctr(w, slot), 0, sizeof(struct stats_counters));
	w->acc.networks[slot].id = 0;
	w->acc.nnetworks = w->nnets;
	worker_publish(w);
	return 0;
}

/* Paths ---------------------------------------------------------------- */

static int
worker_path_same(const struct worker_path *pa, const struct worker_uplink *u)
{
	return pa->port == u->port && pa->family == u->family && pa->udp_port == u->udp_port &&
	    memcmp(pa->addr, u->addr, sizeof(pa->addr)) == 0;
}

/* The slot of the path of uplink u: its own, or a free one (a new estimator). */
static int
worker_path_slot(struct worker *w, const struct worker_uplink *u)
{
	int free_slot = -1;

	for (uint32_t i = 0; i < w->npaths; i++) {
		if (w->paths[i].port < PORT_MAX && worker_path_same(&w->paths[i], u))
			return (int)i;
		if (w->paths[i].port >= PORT_MAX && free_slot < 0)
			free_slot = (int)i;
	}
	if (free_slot < 0) {
		if (w->npaths == STATS_MAX_PATHS)
			return -1;
		free_slot = (int)w->npaths++;
	}
	struct worker_path *pa = &w->paths[free_slot];

	memset(pa, 0, sizeof(*pa));
	pa->port = u->port;
	pa->family = u->family;
	pa->udp_port = u->udp_port;
	memcpy(pa->addr, u->addr, sizeof(pa->addr));
	path_est_init(&pa->est, w->now_ns);
	return free_slot;
}

/*
 * Every network uplink gets the path of its (port, peer endpoint), shared
 * between the networks that use the same; paths no network uses are freed.
 * A network uplink whose path cannot have a slot shares slot 0's fate: it
 * is never the case below STATS_MAX_PATHS distinct paths.
 */
static void
worker_paths_rebuild(struct worker *w)
{
	for (uint32_t i = 0; i < w->npaths; i++)
		w->paths[i].refs = 0;
	for (uint32_t n = 0; n < w->nnets; n++) {
		struct worker_net *nw = &w->nets[n];

		for (uint32_t k = 0; nw->id != 0 && k < nw->nuplinks; k++) {
			int pi = worker_path_slot(w, &nw->uplinks[k]);

			nw->uplinks[k].path = pi >= 0 ? (uint32_t)pi : 0;
			if (pi >= 0)
				w->paths[pi].refs++;
		}
	}
	for (uint32_t i = 0; i < w->npaths; i++)
		if (w->paths[i].refs == 0)
			w->paths[i].port = PORT_MAX;
	while (w->npaths > 0 && w->paths[w->npaths - 1].port >= PORT_MAX)
		w->npaths--;
	for (uint32_t i = 0; i < w->npaths; i++) {
		struct stats_path *sp = &w->acc.paths[i];
		const struct worker_path *pa = &w->paths[i];

		memset(sp, 0, sizeof(*sp));
		sp->port = pa->port;
		sp->family = pa->family;
		sp->udp_port = pa->udp_port;
		memcpy(sp->addr, pa->addr, sizeof(sp->addr));
	}
	w->acc.npaths = w->npaths;
	w->dirty = 1;
}

/* Tenants --------------------------------------------------------------- */

/* The slot of tenant id: its own, or a new one without rules or limits; -1 if full. */
static int
worker_tenant_slot(struct worker *w, uint32_t id)
{
	int free_slot = -1;

	for (uint32_t i = 0; i < w->ntenants; i++) {
		if (w->tenants[i].id == id)
			return (int)i;
		if (w->tenants[i].id == 0 && free_slot < 0)
			free_slot = (int)i;
	}
	if (free_slot < 0) {
		if (w->ntenants == STATS_MAX_TENANTS)
			return -1;
		free_slot = (int)w->ntenants++;
	}
	memset(&w->tenants[free_slot], 0, sizeof(w->tenants[free_slot]));
	w->tenants[free_slot].id = id;
	/* Until the parent's message: no limits (not "none allowed"). */
	w->tenants[free_slot].flows_max = UINT64_MAX;
	w->tenants[free_slot].bandwidth_kbps = UINT64_MAX;
	memset(&w->acc.tenants[free_slot], 0, sizeof(w->acc.tenants[free_slot]));
	w->acc.tenants[free_slot].id = id;
	w->acc.ntenants = w->ntenants;
	w->dirty = 1;
	return free_slot;
}

/*
 * A tenant's quotas and compiled policies, replacing the previous ones at
 * once: its flows are classified again on their next packet (the
 * generation changed), so traffic never stops for a policy change.
 */
int
worker_tenant_set(struct worker *w, const struct worker_tenant_cfg *m)
{
	struct worker_tenant *t;
	struct cls_rule *rules = NULL;
	struct tbucket *caps = NULL;
	int slot;

	if (m->id == 0 || m->nrules > CLS_RULES_MAX)
		return -1;
	for (uint32_t i = 0; i < m->nrules; i++)
		if (cls_rule_check(&m->rules[i]) < 0)
			return -1;
	if (m->nrules > 0 && ((rules = malloc(m->nrules * sizeof(*rules))) == NULL ||
	    (caps = calloc(m->nrules, sizeof(*caps))) == NULL)) {
		free(rules);
		return -1;
	}
	if ((slot = worker_tenant_slot(w, m->id)) < 0) {
		free(rules);
		free(caps);
		return -1;
	}
	t = &w->tenants[slot];
	free(t->rules);
	free(t->caps);
	if (m->nrules > 0)
		memcpy(rules, m->rules, m->nrules * sizeof(*rules));
	for (uint32_t i = 0; i < m->nrules; i++)
		if (rules[i].rate_kbps != 0)
			tb_init(&caps[i], rules[i].rate_kbps, rules[i].burst_bytes, w->now_ns);
	t->rules = rules;
	t->caps = caps;
	t->nrules = m->nrules;
	t->gen++;
	t->flows_max = m->flows_max;
	if (m->bandwidth_kbps != t->bandwidth_kbps || t->bw.last_ns == 0)
		tb_init(&t->bw, m->bandwidth_kbps, tb_default_burst(m->bandwidth_kbps), w->now_ns);
	t->bandwidth_kbps = m->bandwidth_kbps;
	return 0;
}

int
worker_tenant_del(struct worker *w, uint32_t id)
{
	for (uint32_t i = 0; i < w->ntenants; i++) {
		struct worker_tenant *t = &w->tenants[i];

		if (id == 0 || t->id != id)
			continue;
		for (uint32_t n = 0; n < w->nnets; n++)
			if (w->nets[n].id != 0 && w->nets[n].tenant == (int32_t)i)
				w->nets[n].tenant = -1;
		free(t->rules);
		free(t->caps);
		memset(t, 0, sizeof(*t));
		memset(&w->acc.tenants[i], 0, sizeof(w->acc.tenants[i]));
		while (w->ntenants > 0 && w->tenants[w->ntenants - 1].id == 0)
			w->ntenants--;
		w->acc.ntenants = w->ntenants;
		w->dirty = 1;
		return 0;
	}
	return -1;
}

/* What the HAL says of an uplink: its capacity, and whether we pace it. */
int
worker_uplink_set(struct worker *w, const struct worker_uplink_cfg *m)
{
	struct worker_port *p;
	uint64_t lane;

	if (m->port >= PORT_MAX || m->wire_overhead > 256)
		return -1;
	p = &w->ports[m->port];
	p->capacity_kbps = m->capacity_kbps;
	p->wire_overhead = m->wire_overhead;
	if (m->shape_kbps == 0) {
		worker_sched_drop(w, m->port);
		sched_free(p->sched);
		p->sched = NULL;
	} else {
		if (p->sched == NULL &&
		    (p->sched = sched_new(WORKER_SCHED_FRAMES, WORKER_SCHED_LANES)) == NULL)
			return -1;
		sched_set_rate(p->sched, m->shape_kbps, w->now_ns);
		lane = m->shape_kbps / 8 * WORKER_SCHED_LANE_MS;
		sched_set_lane_bytes(p->sched, lane > WORKER_SCHED_LANE_MIN ? lane : WORKER_SCHED_LANE_MIN);
	}
	w->changed_ns = w->now_ns;
	return 0;
}

/* The flow table in memory of the caller's (the parent's memfd); before worker_attach. */
int
worker_flows_attach(struct worker *w, void *mem, size_t size)
{
	if (size < flow_table_size(WORKER_FLOW_SLOTS) || w->flows_own)
		return -1;
	w->flows = flow_table_init(mem, WORKER_FLOW_SLOTS);
	w->flows_size = size;
	return w->flows != NULL ? 0 : -1;
}

size_t
worker_flows_size(void)
{
	return flow_table_size(WORKER_FLOW_SLOTS);
}

void
worker_set_probing(struct worker *w, int on)
{
	w->no_probes = !on;
}

void
worker_set_parent(struct worker *w, int sock)
{
	w->parent = sock;
}

/* Life cycle ----------------------------------------------------------- */

struct worker *
worker_new(void)
{
	struct worker *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	for (uint32_t i = 0; i < PORT_MAX; i++) {
		w->ports[i].kick_driver = -1;
		w->ports[i].kick_worker = -1;
		w->tap_net[i] = -1;
	}
	for (uint32_t i = 0; i < STATS_MAX_NETWORKS; i++)
		w->nets[i].tenant = -1;
	w->fill_target = WORKER_FILL_MAX;
	w->parent = -1;
	if (getrandom(&w->flow_seed, sizeof(w->flow_seed), 0) != sizeof(w->flow_seed)) {
		free(w);
		return NULL;
	}
	return w;
}

void
worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	for (uint32_t i = 0; i < PORT_MAX; i++) {
		if (w->ports[i].kick_driver >= 0)
			close(w->ports[i].kick_driver);
		if (w->ports[i].kick_worker >= 0)
			close(w->ports[i].kick_worker);
		sched_free(w->ports[i].sched);
	}
	for (uint32_t i = 0; i < STATS_MAX_NETWORKS; i++)
		free(w->nets[i].dedup);
	for (uint32_t i = 0; i < STATS_MAX_TENANTS; i++) {
		free(w->tenants[i].rules);
		free(w->tenants[i].caps);
	}
	if (w->flows_own)
		free(w->flows);
	free(w);
}

/*
 * An offset of the region read once: inside the mapping, past the header,
 * on a cache line.  port_region_check has found every offset equal to this
 * build's layout, but a driver may rewrite them at any time: the worker
 * acts only on its own copies, and checks those.
 */
static int
worker_offset_ok(uint64_t off, size_t bytes, size_t mapped)
{
	return off >= sizeof(struct port_region) && off % RING_CACHE_LINE == 0 &&
	    off <= mapped && bytes <= mapped - off;
}

/* Our copy of the pool: geometry from this build's constants, the free list as it is. */
static int
worker_attach_pool(struct worker *w, struct port_region *r, size_t mapped)
{
	uint64_t pool_off = WORKER_READ_ONCE(r->pool_off);
	uint32_t ring_size = 1;
	struct pool *pool;

	if (!worker_offset_ok(pool_off, pool_memsize(PORT_POOL_BUFS, PORT_DATA_SIZE), mapped))
		return -1;
	while (ring_size < PORT_POOL_BUFS)
		ring_size <<= 1;
	pool = (struct pool *)((char *)r + pool_off);
	w->nbufs = PORT_POOL_BUFS;
	w->data_size = PORT_DATA_SIZE;
	w->buf_size = sizeof(struct pool_buf) + PORT_DATA_SIZE;
	w->free_ring = (struct ring *)((char *)pool + sizeof(struct pool));
	w->free_mask = ring_size - 1;
	w->bufs = (uint8_t *)w->free_ring + ring_memsize(ring_size);
	w->free_head = atomic_load_explicit(&w->free_ring->prod.head, memory_order_relaxed);
	w->free_tail = atomic_load_explicit(&w->free_ring->cons.tail, memory_order_relaxed);
	/* A fresh region lists every buffer once; anything else is not ours to trust. */
	if (w->free_head - w->free_tail != w->nbufs)
		return -1;
	memset(w->owner, 0, sizeof(w->owner));
	return 0;
}

static int
worker_attach_ring(struct worker_ring *q, struct port_region *r, size_t mapped,
    const uint64_t *offp, int producer)
{
	uint64_t off = WORKER_READ_ONCE(*offp);

	if (!worker_offset_ok(off, ring_memsize(PORT_RING_SIZE), mapped))
		return -1;
	worker_ring_attach(q, port_ring(r, off), producer);
	return 0;
}

static int
worker_attach_port(struct worker_port *p, struct port_region *r, size_t mapped)
{
	return worker_attach_ring(&p->fill, r, mapped, &p->shm->fill_off, 1) < 0 ||
	    worker_attach_ring(&p->rx, r, mapped, &p->shm->rx_off, 0) < 0 ||
	    worker_attach_ring(&p->tx, r, mapped, &p->shm->tx_off, 1) < 0 ||
	    worker_attach_ring(&p->comp, r, mapped, &p->shm->comp_off, 0) < 0 ? -1 : 0;
}

int
worker_attach(struct worker *w, struct port_region *r, size_t mapped, struct stats_segment *s,
    size_t stats_mapped)
{
	if (port_region_check(r, mapped) < 0 || stats_mapped < stats_size() ||
	    s->magic != STATS_MAGIC || s->version != STATS_VERSION ||
	    worker_attach_pool(w, r, mapped) < 0)
		return -1;
	/* Without the parent's memfd (tests, benchmarks): a table of our own. */
	if (w->flows == NULL) {
		void *mem = malloc(flow_table_size(WORKER_FLOW_SLOTS));

		if (mem == NULL)
			return -1;
		w->flows = flow_table_init(mem, WORKER_FLOW_SLOTS);
		w->flows_own = 1;
	}
	for (uint32_t i = 0; i < PORT_MAX; i++) {
		w->ports[i].shm = &r->ports[i];
		if (worker_attach_port(&w->ports[i], r, mapped) < 0)
			return -1;
	}
	w->region = r;
	w->stats = s;
	return 0;
}

/* The process ---------------------------------------------------------- */

/*
 * Spinning before sleeping: waking a process on the other CPU costs ~40 us
 * on this class of VM (docs/decisions.md), so an idle worker keeps polling
 * for a while.  The while adapts: doubled when a sleep ended sooner than
 * the longest spin would have lasted (spinning would have caught it),
 * halved when it did not; so steady ping-pong traffic is served without
 * wake-ups and an idle worker spins 2 us per wake-up.  The parent's socket
 * is looked at every millisecond while busy (a system call per burst would
 * cost more than the burst).
 */
#define WORKER_SPIN_MIN_NS 2000
#define WORKER_SPIN_MAX_NS 64000
#define WORKER_PARENT_EVERY_NS 1000000
/* A port without a worker eventfd cannot wake us: look again this often. */
#define WORKER_NOKICK_POLL_MS 10

/* Set-up messages that come before the region is mapped. */
struct worker_queued {
	uint32_t type;
	uint32_t len;
	int fd;
	uint8_t data[sizeof(struct worker_tenant_cfg)];	/* the largest */
};

static struct {
	int region_fd, stats_fd, flows_fd;
	struct worker_queued *queue;
	size_t nqueue, cap;
	struct worker *w;		/* allocated by worker_child_prepare */
	struct msg *msg;
} worker_proc = { .region_fd = -1, .stats_fd = -1, .flows_fd = -1 };

_Static_assert(sizeof(struct worker_tenant_cfg) >= sizeof(struct worker_net_cfg) &&
    sizeof(struct worker_tenant_cfg) >= sizeof(struct worker_uplink_cfg) &&
    sizeof(struct worker_tenant_cfg) >= sizeof(struct port_kick) &&
    sizeof(struct worker_tenant_cfg) >= sizeof(struct worker_port_cfg), "queued messages fit");

static int
worker_setup_fd(int *slot, struct msg *m)
{
	const struct shm_size *r = (const struct shm_size *)m->data;

	if (m->fd < 0 || r->size == 0)
		return -1;
	if (*slot >= 0)
		close(*slot);
	*slot = m->fd;
	m->fd = -1;			/* ours now */
	return 0;
}

static int
worker_queue(struct msg *m)
{
	struct worker_queued *q;

	if (m->hdr.len > sizeof(q->data))
		return -1;
	if (worker_proc.nqueue == worker_proc.cap) {
		size_t cap = worker_proc.cap ? worker_proc.cap * 2 : 16;

		q = realloc(worker_proc.queue, cap * sizeof(*q));
		if (q == NULL)
			return -1;
		worker_proc.queue = q;
		worker_proc.cap = cap;
	}
	q = &worker_proc.queue[worker_proc.nqueue++];
	q->type = m->hdr.type;
	q->len = m->hdr.len;
	q->fd = m->fd;
	m->fd = -1;
	memcpy(q->data, m->data, m->hdr.len);
	return 0;
}

int
worker_child_setup(int sock, struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_WORKER_REGION:
		return worker_setup_fd(&worker_proc.region_fd, m);
	case MSG_WORKER_STATS:
		return worker_setup_fd(&worker_proc.stats_fd, m);
	case MSG_WORKER_FLOWS:
		return worker_setup_fd(&worker_proc.flows_fd, m);
	case MSG_WORKER_KICK:
	case MSG_WORKER_PORT:
	case MSG_WORKER_NETWORK:
	case MSG_WORKER_NETWORK_DEL:
	case MSG_WORKER_TENANT:
	case MSG_WORKER_TENANT_DEL:
	case MSG_WORKER_UPLINK:
		return worker_queue(m);
	}
	return -1;
}

void
worker_child_prepare(void)
{
	/* The big allocations now, so the sandboxed loop never waits on one. */
	if (worker_proc.w == NULL && (worker_proc.w = worker_new()) == NULL)
		fatal("worker state");
	if (worker_proc.msg == NULL && (worker_proc.msg = malloc(sizeof(*worker_proc.msg))) == NULL)
		fatal("worker message buffer");
}

/* Apply one message from the parent (checked already); m->fd is taken if used. */
static void
worker_dispatch(struct worker *w, struct msg *m)
{
	const void *d = m->data;
	int rc = -1;

	switch (m->hdr.type) {
	case MSG_WORKER_KICK: {
		const struct port_kick *k = d;

		if ((rc = worker_kick_set(w, k->port, k->which, m->fd)) == 0)
			m->fd = -1;
		break;
	}
	case MSG_WORKER_PORT:
		rc = worker_port_set(w, d);
		break;
	case MSG_WORKER_NETWORK:
		rc = worker_network_set(w, d);
		break;
	case MSG_WORKER_NETWORK_DEL:
		rc = worker_network_del(w, ((const struct worker_net_cfg *)d)->id);
		break;
	case MSG_WORKER_TENANT:
		rc = worker_tenant_set(w, d);
		break;
	case MSG_WORKER_TENANT_DEL:
		rc = worker_tenant_del(w, ((const struct worker_tenant_cfg *)d)->id);
		break;
	case MSG_WORKER_UPLINK:
		rc = worker_uplink_set(w, d);
		break;
	}
	if (rc < 0)
		log_warnx("ignored a message of type %u from the parent: malformed or no room",
		    m->hdr.type);
}

static void
worker_replay(struct worker *w, struct msg *m)
{
	for (size_t i = 0; i < worker_proc.nqueue; i++) {
		struct worker_queued *q = &worker_proc.queue[i];

		m->hdr.type = q->type;
		m->hdr.len = q->len;
		m->fd = q->fd;
		q->fd = -1;
		memcpy(m->data, q->data, q->len);
		worker_dispatch(w, m);
		if (m->fd >= 0)
			close(m->fd);
	}
	worker_proc.nqueue = 0;
}

/*
 * Everything the parent has sent: 1 to go on (*handled says whether there
 * was anything), 0 on its end of file, -1 on error.
 */
static int
worker_parent(struct worker *w, int sock, struct msg *m, int *handled)
{
	char why[128];

	for (*handled = 0;; *handled = 1) {
		int rc = msg_recv(sock, m);

		if (rc == 0)
			return 0;
		if (rc < 0)
			return errno == EAGAIN ? 1 : -1;
		if (msg_check(proto_types, proto_ntypes, m, PROTO_FROM_PARENT, why, sizeof(why)) < 0) {
			log_warnx("from the parent: %s", why);
			if (m->fd >= 0)
				close(m->fd);
			return -1;
		}
		worker_dispatch(w, m);
		if (m->fd >= 0)
			close(m->fd);
	}
}

static void
worker_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Tell every port's driver we sleep (or no longer do). */
static int
worker_set_sleeping(struct worker *w, unsigned on)
{
	int all_kick = 1;

	for (uint32_t i = 0; i < w->nlisted; i++) {
		struct worker_port *p = &w->ports[w->listed[i]];

		atomic_store_explicit(&p->shm->worker_sleeping, on, memory_order_relaxed);
		all_kick &= p->kick_worker >= 0;
	}
	return all_kick;
}

static void
worker_drain_kicks(const struct pollfd *fds, nfds_t n)
{
	uint64_t v;

	for (nfds_t i = 1; i < n; i++)
		if (fds[i].revents & POLLIN)
			(void)!read(fds[i].fd, &v, sizeof(v));
}

/* Sleep until a driver or the parent has something; -1 on a poll error. */
static int
worker_sleep(struct worker *w, int sock, uint64_t *spin_ns)
{
	struct pollfd fds[PORT_MAX + 1] = { { .fd = sock, .events = POLLIN } };
	nfds_t n = 1;
	int all_kick = worker_set_sleeping(w, 1), rc;
	uint64_t t0, slept, next;
	struct timespec ts;

	/*
	 * Pairs with each driver's fence between its enqueue and its look at
	 * worker_sleeping (port.h): either we see its frames below, or it sees
	 * our flag and writes our eventfd.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (worker_pending(w)) {
		worker_set_sleeping(w, 0);
		return 0;
	}
	for (uint32_t i = 0; i < w->nlisted; i++)
		if (w->ports[w->listed[i]].kick_worker >= 0)
			fds[n++] = (struct pollfd){ .fd = w->ports[w->listed[i]].kick_worker,
			    .events = POLLIN };
	t0 = worker_now_ns();
	next = worker_next_timer(w);
	if (!all_kick && next > t0 + WORKER_NOKICK_POLL_MS * 1000000ULL)
		next = t0 + WORKER_NOKICK_POLL_MS * 1000000ULL;
	if (next != UINT64_MAX) {
		uint64_t d = next > t0 ? next - t0 : 0;

		ts.tv_sec = (time_t)(d / 1000000000ULL);
		ts.tv_nsec = (long)(d % 1000000000ULL);
	}
	rc = ppoll(fds, n, next != UINT64_MAX ? &ts : NULL, NULL);
	slept = worker_now_ns() - t0;
	worker_set_sleeping(w, 0);
	if (rc < 0 && errno != EINTR) {
		log_warn("poll");
		return -1;
	}
	if (rc > 0)
		worker_drain_kicks(fds, n);
	if (slept < WORKER_SPIN_MAX_NS)
		*spin_ns = *spin_ns * 2 > WORKER_SPIN_MAX_NS ? WORKER_SPIN_MAX_NS : *spin_ns * 2;
	else
		*spin_ns = *spin_ns / 2 < WORKER_SPIN_MIN_NS ? WORKER_SPIN_MIN_NS : *spin_ns / 2;
	return 0;
}

/* Forward until the parent goes away (0) or something breaks (-1). */
static int
worker_loop(struct worker *w, int sock, struct msg *m)
{
	uint64_t spin_ns = WORKER_SPIN_MIN_NS, last_work = 0, last_parent = 0;
	int rc, handled = 0;

	for (;;) {
		unsigned moved = worker_poll(w);
		uint64_t now = w->now_ns;

		if (moved > 0)
			last_work = now;
		if (now - last_parent >= WORKER_PARENT_EVERY_NS) {
			last_parent = now;
			if ((rc = worker_parent(w, sock, m, &handled)) <= 0)
				return rc;
		}
		/* A port that just came up needs a pass (its fill ring) before any sleep. */
		if (moved > 0 || handled) {
			handled = 0;
			continue;
		}
		if (now - last_work < spin_ns) {
			worker_relax();
			continue;
		}
		if (worker_sleep(w, sock, &spin_ns) < 0)
			return -1;
		last_work = worker_now_ns();
		last_parent = 0;	/* the parent may be what woke us */
	}
}

/* Map a memfd the parent sent; the descriptor is the mapping's (or closed) after. */
static int
worker_map(struct shm *m, int *fd, const char *what)
{
	struct cnw_error err = { 0 };

	if (*fd < 0) {
		log_warnx("no %s from the parent", what);
		return -1;
	}
	if (shm_map(m, *fd, PROT_READ | PROT_WRITE, &err) < 0) {
		log_warnx("%s: %s", what, err.msg);
		close(*fd);
		*fd = -1;
		return -1;
	}
	*fd = -1;
	return 0;
}

static void
worker_proc_release(struct shm *region, struct shm *stats)
{
	for (size_t i = 0; i < worker_proc.nqueue; i++)
		if (worker_proc.queue[i].fd >= 0)
			close(worker_proc.queue[i].fd);
	free(worker_proc.queue);
	worker_proc.queue = NULL;
	worker_proc.nqueue = worker_proc.cap = 0;
	worker_free(worker_proc.w);
	worker_proc.w = NULL;
	free(worker_proc.msg);
	worker_proc.msg = NULL;
	shm_unmap(region);
	shm_unmap(stats);
}

int
worker_child_main(int sock)
{
	struct shm region = { .fd = -1 }, stats = { .fd = -1 }, flows = { .fd = -1 };
	int flags, rc = 1;

	worker_child_prepare();
	if (worker_map(&region, &worker_proc.region_fd, "region") < 0 ||
	    worker_map(&stats, &worker_proc.stats_fd, "stats segment") < 0 ||
	    worker_map(&flows, &worker_proc.flows_fd, "flow table") < 0)
		goto out;
	/* The flow table in the parent's memfd, so it lists flows without asking us. */
	if (worker_flows_attach(worker_proc.w, flows.base, flows.size) < 0) {
		log_warnx("flow table of %zu bytes, %zu needed", flows.size, worker_flows_size());
		goto out;
	}
	worker_set_parent(worker_proc.w, sock);
	if (stats.size < stats_size()) {
		log_warnx("stats segment of %zu bytes, %zu needed", stats.size, stats_size());
		goto out;
	}
	/* The memfd is fresh: the worker is its only writer and lays it out. */
	stats_init(stats.base);
	if (worker_attach(worker_proc.w, region.base, region.size, stats.base, stats.size) < 0) {
		log_warnx("the region does not have the layout this worker expects");
		goto out;
	}
	if ((flags = fcntl(sock, F_GETFL)) < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) {
		log_warn("socket");
		goto out;
	}
	worker_replay(worker_proc.w, worker_proc.msg);
	log_info("forwarding: %u buffers of %u bytes, %d ports", worker_proc.w->nbufs,
	    worker_proc.w->data_size, PORT_MAX);
	rc = worker_loop(worker_proc.w, sock, worker_proc.msg) == 0 ? 0 : 1;
out:
	worker_proc_release(&region, &stats);
	shm_unmap(&flows);
	return rc;
}
