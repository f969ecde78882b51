/*
 * The fastpath worker's insides, shared by its stages (netfn/worker*.c);
 * netfn/worker.h is its interface.  The stages, VPP-style, one file each:
 *   worker.c        the pass: the bursts of every port, staging for the tx
 *                   rings, wake-ups of the drivers, the timers
 *   worker_buf.c    buffers: the pool's free list and our cache of it, the
 *                   fill rings, buffers back on the completion rings
 *   worker_count.c  counters: kept here, published to the stats segment
 *   worker_check.h  packet checks (inline: every frame pays them)
 *   worker_tap.c    tap -> uplink: flows, policing, the overlay header
 *   worker_steer.c  steering: which uplink(s) a flow takes, and its moves
 *   worker_udp.c    uplink -> tap: the overlay, probes, redundant copies
 *   worker_table.c  tables: ports, networks, paths, tenants; attaching
 *   worker_main.c   the process's loop: spinning, sleeping
 * Small helpers every frame goes through are inline here, so that a frame
 * pays no call between stages that it did not pay in one file.
 */
#ifndef CNW_WORKER_IMPL_H
#define CNW_WORKER_IMPL_H

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "netfn/classify.h"
#include "netfn/dedup.h"
#include "netfn/flow.h"
#include "netfn/overlay.h"
#include "netfn/pathmon.h"
#include "netfn/ring_guard.h"
#include "netfn/sched.h"
#include "netfn/shape.h"
#include "netfn/steer.h"
#include "netfn/worker.h"
#include "lib/log.h"
#include "lib/util.h"

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
/*
 * Frames a capped tenant's shaper holds, at most, and all of them
 * together: a quarter of the pool (PORT_POOL_BUFS), so that tenants held
 * back by their caps never starve the receive rings of buffers.  Past
 * the total, a tenant that already holds frames drops the next one.
 */
#define WORKER_SHAPE_FRAMES 256
#define WORKER_SHAPE_HELD_MAX (PORT_POOL_BUFS / 4)
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

struct worker_staged {
	uint32_t idx;
	uint32_t len;			/* frame bytes on the destination ring */
	int32_t net;			/* network slot, -1 for a probe */
};

struct worker_port {
	struct port_shm *shm;
	struct ring_guard fill, rx, tx, comp;	/* our side of each of its rings */
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
	struct tbucket bw;		/* the bandwidth quota, policed if it has no shaper */
	struct shape shape;		/* the bandwidth quota, shaped: ring NULL if none */
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
	uint32_t shape_held;		/* frames in all the tenants' shapers */
	struct worker_tenant tenants[STATS_MAX_TENANTS];
	uint32_t npaths;		/* slots in use: highest + 1 */
	struct worker_path paths[STATS_MAX_PATHS];
	uint64_t changed_ns;		/* a port or path changed state: flows check their choice */
	uint64_t next_probe_ns, next_age_ns, next_load_ns;
	worker_report_fn *report;	/* flow moves go there, if set */
	void *report_arg;
	int no_probes;			/* tests of forwarding alone */
	uint32_t move_budget;		/* moves reported in this second */
	uint32_t moves_suppressed;
	uint64_t move_second;
};

static inline struct pool_buf *
worker_buf(const struct worker *w, uint32_t idx)
{
	return (struct pool_buf *)(w->bufs + (size_t)idx * w->buf_size);
}

/*
 * Take buffer idx back from port's driver if it holds it by one of the
 * rings in `lent` (OWN_FILL, OWN_TX, or both); 0 if it may not hand it.
 */
static inline int
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

static inline struct stats_counters *
worker_port_ctr(struct worker *w, uint32_t port)
{
	if (!w->port_dirty[port]) {
		w->port_dirty[port] = 1;
		w->dirty_ports[w->ndirty_ports++] = (uint8_t)port;
	}
	w->dirty = 1;
	return &w->acc.ports[port];
}

static inline struct stats_counters *
worker_net_ctr(struct worker *w, int net)
{
	if (!w->net_dirty[net]) {
		w->net_dirty[net] = 1;
		w->dirty_nets[w->ndirty_nets++] = (uint16_t)net;
	}
	w->dirty = 1;
	return &w->acc.networks[net].c;
}

static inline void
worker_drop_count(struct worker *w, uint32_t port, int net, enum stats_drop why)
{
	w->acc.drops[why]++;
	if (port < PORT_MAX)
		worker_port_ctr(w, port)->drops++;
	if (net >= 0)
		worker_net_ctr(w, net)->drops++;
}

/* Count a drop; the buffer (if any) is freed at the end of the burst. */
static inline void
worker_drop(struct worker *w, uint32_t port, int net, enum stats_drop why, uint32_t idx)
{
	worker_drop_count(w, port, net, why);
	w->dropped[w->ndropped++] = idx;
}

struct worker_frame {
	uint8_t *p;			/* the first byte */
	uint32_t off, len;
};

/* Read a buffer's off and len once; 0 if the frame is inside the buffer. */
static inline int
worker_frame(const struct worker *w, struct pool_buf *b, struct worker_frame *f)
{
	f->off = WORKER_READ_ONCE(b->off);
	f->len = WORKER_READ_ONCE(b->len);
	if (f->off > w->data_size || f->len > w->data_size - f->off)
		return -1;
	f->p = b->data + f->off;
	return 0;
}

static inline uint16_t
worker_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint16_t
worker_le16(const uint8_t *p)
{
	return (uint16_t)(p[1] << 8 | p[0]);
}

static inline void
worker_stage(struct worker *w, uint32_t port, uint32_t idx, uint32_t len, int net)
{
	struct worker_port *p = &w->ports[port];

	if (p->nstaged == 0)
		w->staged[w->nstaged++] = (uint8_t)port;
	p->staged[p->nstaged++] = (struct worker_staged){ .idx = idx, .len = len, .net = net };
}

/* Bytes of the IP packet in a frame on a port of this kind. */
static inline uint32_t
worker_ip_bytes(uint32_t kind, uint32_t len)
{
	return len - WORKER_VNET_LEN - (kind == PORT_UDP ? OVERLAY_HDR_LEN : 0);
}

static inline struct worker_tenant *
worker_tenant_of(struct worker *w, const struct worker_net *nw)
{
	return nw->tenant >= 0 ? &w->tenants[nw->tenant] : NULL;
}

static inline struct stats_tenant *
worker_tenant_ctr(struct worker *w, const struct worker_tenant *t)
{
	w->dirty = 1;
	return &w->acc.tenants[t - w->tenants];
}

/* The index in the network's uplinks of port, or -1. */
static inline int
worker_uplink_k(const struct worker_net *nw, uint32_t port)
{
	for (uint32_t k = 0; k < nw->nuplinks; k++)
		if (nw->uplinks[k].port == port)
			return (int)k;
	return -1;
}

/* Can the network send by its uplink k now: the port up, its path to the peer not dead? */
static inline int
worker_uplink_usable(const struct worker *w, const struct worker_net *nw, int k)
{
	const struct worker_uplink *u = &nw->uplinks[k];
	const struct worker_port *p = &w->ports[u->port];

	return p->kind == PORT_UDP && p->up && w->paths[u->path].last_state != PATH_DEAD;
}

static inline const struct cls_rule *
worker_flow_rule(const struct worker_tenant *t, const struct flow *f)
{
	return t != NULL && f->rule < t->nrules ? &t->rules[f->rule] : NULL;
}

static inline int
worker_net_find(const struct worker *w, uint32_t id)
{
	uint32_t h = (id * 2654435761u) >> (32 - WORKER_HASH_BITS);

	for (; w->hash[h] != 0; h = (h + 1) & (WORKER_HASH_SIZE - 1))
		if (w->nets[w->hash[h] - 1].id == id)
			return w->hash[h] - 1;
	return -1;
}

/* Between the stages: once per burst or rarer --------------------------- */

/* netfn/worker_count.c */
void worker_drops_flush(struct worker *w);
void worker_bad_index(struct worker *w, uint32_t port, const char *ring, uint32_t idx);

/* netfn/worker_buf.c */
void worker_from_comp(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n);
uint32_t worker_alloc(struct worker *w, uint32_t *idx, uint32_t n);
void worker_release(struct worker *w, const uint32_t *idx, uint32_t n);
void worker_fill(struct worker *w, uint32_t port);
void worker_fill_retarget(struct worker *w);

/* netfn/worker_tap.c */
void worker_from_tap(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n);
uint32_t worker_shape_run(struct worker *w);
uint64_t worker_shape_next_ns(const struct worker *w);

/* netfn/worker_udp.c */
void worker_from_udp(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n);
void worker_path_state(struct worker *w, struct worker_path *pa);

/* netfn/worker_steer.c */
void worker_flow_gone(struct flow *f, void *arg);
void worker_steer(struct worker *w, struct worker_net *nw, struct flow *f, const struct cls_rule *r);
void worker_classify(const struct worker_tenant *t, struct flow *f);

/* netfn/worker.c */
uint64_t worker_next_timer(const struct worker *w);
void worker_kick(struct worker_port *p);
void worker_flush(struct worker *w);

#endif
