/*
 * The fastpath worker, driven without processes: a region laid out by
 * port_region_init, a worker attached to it, and the test playing the
 * drivers on the rings (taking fill buffers, putting received frames on rx,
 * taking tx frames and giving them back on the completion ring).
 *
 * Forwarding both ways between a tap port and two udp ports (and back
 * around), anti-spoofing, unknown networks, no healthy uplink, a driver
 * restart (RESET) taking back every buffer, drivers that hand back
 * garbage, 10^5 hostile overlay payloads (all dropped and counted, no
 * buffer lost), the wake-up protocol, the region layout check, the stats
 * segment under a concurrent writer, and the whole worker process over a
 * real socketpair and memfds.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfn/overlay.h"
#include "netfn/port.h"
#include "netfn/shm.h"
#include "netfn/stats.h"
#include "netfn/worker.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "lib/util.h"
#include "cnwd/roles.h"
#include "proto/proto.h"

#define VNET 10
#define TAP 0			/* the network's cnw0 */
#define UP1 1			/* its first uplink */
#define UP2 2			/* its second */
#define TAP2 3			/* a second network's cnw0 */
#define HOSTILE_FRAMES 100000

struct fx {
	void *base;
	size_t size;
	struct port_region *r;
	struct pool *pool;
	struct stats_segment *s;
	struct worker *w;
	uint32_t net1, net2;
	uint32_t probes;		/* probes the drivers took off tx rings */
};

/* Setting up ---------------------------------------------------------- */

static struct worker_net_cfg
net_msg(uint32_t id, uint32_t tap, const char *v4, uint8_t plen4, const char *v6, uint8_t plen6)
{
	struct worker_net_cfg n;

	memset(&n, 0, sizeof(n));
	n.id = id;
	n.tap_port = tap;
	assert_int_equal(inet_pton(AF_INET, v4, n.subnet4), 1);
	n.plen4 = plen4;
	if (v6 != NULL) {
		assert_int_equal(inet_pton(AF_INET6, v6, n.subnet6), 1);
		n.plen6 = plen6;
		n.has6 = 1;
	}
	return n;
}

static void
net_uplink(struct worker_net_cfg *n, uint32_t port, const char *peer, uint16_t udp_port)
{
	uint32_t k = n->nuplinks++;

	n->uplinks[k].port = port;
	n->uplinks[k].family = AF_INET;
	n->uplinks[k].udp_port = htons(udp_port);
	assert_int_equal(inet_pton(AF_INET, peer, n->uplinks[k].addr), 1);
}

static void
port_msg(struct worker *w, uint32_t port, uint32_t kind, uint32_t state)
{
	struct worker_port_cfg p = { .port = port, .kind = kind, .state = state };

	assert_int_equal(worker_port_set(w, &p), 0);
}

/*
 * Network 1 ("acme.cams", 10.1.0.0/23 and fd00:1::/64) on TAP, uplinks UP1
 * then UP2; network 2 ("acme.lights", 10.2.0.0/24, no IPv6) on TAP2 over UP1.
 */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct worker_net_cfg n;

	assert_non_null(f);
	f->size = port_region_size();
	f->base = mmap(NULL, f->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(f->base != MAP_FAILED);
	assert_int_equal(port_region_init(f->base, f->size), 0);
	f->r = f->base;
	f->pool = port_pool(f->r);
	f->s = aligned_alloc(64, (stats_size() + 63) / 64 * 64);
	assert_non_null(f->s);
	stats_init(f->s);
	f->w = worker_new();
	assert_non_null(f->w);
	assert_int_equal(worker_attach(f->w, f->r, f->size, f->s, stats_size()), 0);
	worker_set_probing(f->w, 0);	/* the forwarding tests count every frame */
	port_msg(f->w, TAP, PORT_TAP, WORKER_PORT_UP);
	port_msg(f->w, UP1, PORT_UDP, WORKER_PORT_UP);
	port_msg(f->w, UP2, PORT_UDP, WORKER_PORT_UP);
	port_msg(f->w, TAP2, PORT_TAP, WORKER_PORT_UP);
	f->net1 = overlay_network_id("acme", "cams");
	f->net2 = overlay_network_id("acme", "lights");
	n = net_msg(f->net1, TAP, "10.1.0.0", 23, "fd00:1::", 64);
	net_uplink(&n, UP1, "192.0.2.1", 4789);
	net_uplink(&n, UP2, "198.51.100.1", 4790);
	assert_int_equal(worker_network_set(f->w, &n), 0);
	n = net_msg(f->net2, TAP2, "10.2.0.0", 24, NULL, 0);
	net_uplink(&n, UP1, "192.0.2.1", 4789);
	assert_int_equal(worker_network_set(f->w, &n), 0);
	worker_poll(f->w);		/* tops up the fill rings */
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	worker_free(f->w);
	free(f->s);
	munmap(f->base, f->size);
	free(f);
	return 0;
}

/* Playing the drivers -------------------------------------------------- */

static struct ring *
ring_of(struct fx *f, uint32_t port, char which)
{
	const struct port_shm *p = &f->r->ports[port];

	switch (which) {
	case 'f':
		return port_ring(f->r, p->fill_off);
	case 'r':
		return port_ring(f->r, p->rx_off);
	case 't':
		return port_ring(f->r, p->tx_off);
	default:
		return port_ring(f->r, p->comp_off);
	}
}

/*
 * Receive a frame as a driver: a fill buffer, reset (pool.h: the one that
 * fills a buffer sets its header), the bytes, onto rx.  Its index.
 */
static uint32_t
drv_rx(struct fx *f, uint32_t port, const void *frame, uint32_t len)
{
	struct pool_buf *b;
	uint32_t idx;

	assert_int_equal(ring_dequeue_burst(ring_of(f, port, 'f'), &idx, 1), 1);
	b = pool_buf(f->pool, idx);
	pool_buf_reset(b);
	memcpy(pool_buf_frame(b), frame, len);
	b->len = len;
	/* A datagram on an uplink comes from that uplink's peer, as the fixture set it. */
	if (port == UP1 || port == UP2) {
		b->peer.family = AF_INET;
		b->peer.port = htons(port == UP1 ? 4789 : 4790);
		assert_int_equal(inet_pton(AF_INET, port == UP1 ? "192.0.2.1" : "198.51.100.1",
		    b->peer.addr), 1);
	}
	assert_int_equal(ring_enqueue_burst(ring_of(f, port, 'r'), &idx, 1), 1);
	return idx;
}

static void
drv_comp(struct fx *f, uint32_t port, const uint32_t *idx, uint32_t n)
{
	assert_int_equal(ring_enqueue_burst(ring_of(f, port, 'c'), idx, n), n);
}

/* A path probe the worker sends on its own (every path, every 50 ms). */
static int
is_probe(struct fx *f, uint32_t idx)
{
	const struct pool_buf *b = pool_buf(f->pool, idx);

	return b->len == OVERLAY_HDR_LEN && pool_buf_frame((struct pool_buf *)b)[1] == OVERLAY_PROBE;
}

/*
 * Take what the worker put on a port's tx ring, but its probes: those are
 * sent (completed) at once and counted in f->probes, as a driver would.
 */
static uint32_t
drv_tx(struct fx *f, uint32_t port, uint32_t *idx, uint32_t max)
{
	uint32_t n = ring_dequeue_burst(ring_of(f, port, 't'), idx, max), kept = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (is_probe(f, idx[i])) {
			drv_comp(f, port, &idx[i], 1);
			f->probes++;
		} else {
			idx[kept++] = idx[i];
		}
	}
	return kept;
}

/* Take exactly one tx frame of a port, and complete it. */
static struct pool_buf *
drv_tx_one(struct fx *f, uint32_t port)
{
	uint32_t idx[4];

	assert_int_equal(drv_tx(f, port, idx, 4), 1);
	drv_comp(f, port, idx, 1);
	return pool_buf(f->pool, idx[0]);
}

static void
assert_tx_empty(struct fx *f, uint32_t port)
{
	uint32_t idx[PORT_RING_SIZE];

	assert_int_equal(drv_tx(f, port, idx, PORT_RING_SIZE), 0);
}

/* Frames ----------------------------------------------------------------- */

static uint32_t
ip4_frame(uint8_t *out, const char *src, const char *dst, uint32_t payload)
{
	uint8_t *ip = out + VNET;
	uint32_t total = 20 + payload;

	memset(out, 0, VNET + total);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[8] = 64;
	ip[9] = 17;
	assert_int_equal(inet_pton(AF_INET, src, ip + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, ip + 16), 1);
	for (uint32_t i = 0; i < payload; i++)
		ip[20 + i] = (uint8_t)i;
	return VNET + total;
}

static uint32_t
ip6_frame(uint8_t *out, const char *src, const char *dst, uint32_t payload)
{
	uint8_t *ip = out + VNET;

	memset(out, 0, VNET + 40 + payload);
	ip[0] = 0x60;
	ip[4] = (uint8_t)(payload >> 8);
	ip[5] = (uint8_t)payload;
	ip[6] = 17;
	ip[7] = 64;
	assert_int_equal(inet_pton(AF_INET6, src, ip + 8), 1);
	assert_int_equal(inet_pton(AF_INET6, dst, ip + 24), 1);
	for (uint32_t i = 0; i < payload; i++)
		ip[40 + i] = (uint8_t)i;
	return VNET + 40 + payload;
}

/* An overlay frame as the peer site sends it. */
static uint32_t
overlay_frame(uint8_t *out, uint32_t id, uint8_t type, const uint8_t *inner, uint32_t len)
{
	struct overlay_hdr h = { .version = OVERLAY_VERSION, .type = type, .network = id };

	overlay_encode(&h, out);
	memcpy(out + OVERLAY_HDR_LEN, inner, len);
	return OVERLAY_HDR_LEN + len;
}

/* Counters ---------------------------------------------------------------- */

/* The counters as the parent would read them, published first. */
static struct stats_segment *
snap(struct fx *f)
{
	static struct stats_segment out;

	worker_publish(f->w);
	assert_int_equal(stats_snapshot(f->s, &out), 0);
	return &out;
}

static const struct stats_counters *
net_counters(const struct stats_segment *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->nnetworks; i++)
		if (s->networks[i].id == id)
			return &s->networks[i].c;
	fail_msg("network %08x not in the stats segment", id);
	return NULL;
}

static uint64_t
drops_total(const struct stats_segment *s)
{
	uint64_t t = 0;

	for (int i = 0; i < STATS_DROP_MAX; i++)
		t += s->drops[i];
	return t;
}

/* Every buffer is in the free list or lent to a driver: none lost. */
static void
assert_no_leak(struct fx *f)
{
	uint32_t lent = 0;

	for (uint32_t p = 0; p < PORT_MAX; p++)
		lent += worker_lent(f->w, p);
	assert_int_equal(worker_free_buffers(f->w) + lent, PORT_POOL_BUFS);
	/* The worker keeps some free buffers back from the list (its cache). */
	assert_true(pool_free_count(f->pool) <= worker_free_buffers(f->w));
}

/* Reset every port, as if all drivers died: the whole pool is free again. */
static void
reset_all(struct fx *f)
{
	port_msg(f->w, TAP, PORT_TAP, WORKER_PORT_RESET);
	port_msg(f->w, UP1, PORT_UDP, WORKER_PORT_RESET);
	port_msg(f->w, UP2, PORT_UDP, WORKER_PORT_RESET);
	port_msg(f->w, TAP2, PORT_TAP, WORKER_PORT_RESET);
	assert_int_equal(worker_free_buffers(f->w), PORT_POOL_BUFS);
	for (uint32_t p = 0; p < PORT_MAX; p++)
		assert_int_equal(worker_lent(f->w, p), 0);
}

/* The region ------------------------------------------------------------ */

static void
test_region_layout(void **state)
{
	struct fx *f = *state;
	struct port_region *r = f->r;
	struct port_region saved;
	struct ring *ring;

	assert_true(port_region_size() > (size_t)PORT_POOL_BUFS * PORT_DATA_SIZE);
	assert_int_equal(port_region_check(r, f->size), 0);
	assert_int_equal(r->pool_off % RING_CACHE_LINE, 0);
	for (unsigned i = 0; i < PORT_MAX; i++) {
		assert_int_equal(r->ports[i].fill_off % RING_CACHE_LINE, 0);
		assert_int_equal(r->ports[i].comp_off % RING_CACHE_LINE, 0);
		assert_true(r->ports[i].comp_off + ring_memsize(PORT_RING_SIZE) <= r->size);
		assert_true(r->ports[i].fill_off >= r->pool_off +
		    pool_memsize(PORT_POOL_BUFS, PORT_DATA_SIZE));
	}
	assert_int_equal(port_region_check(r, f->size - 1), -1);
	assert_int_equal(port_region_check(r, sizeof(*r) - 1), -1);
	assert_int_equal(port_region_init(f->base, f->size - 1), -1);

	/* Every field of the header, wrong on its own, is refused. */
	memcpy(&saved, r, sizeof(saved));
#define REFUSED(stmt) do { stmt; assert_int_equal(port_region_check(r, f->size), -1); \
	memcpy(r, &saved, sizeof(saved)); } while (0)
	REFUSED(r->magic ^= 1);
	REFUSED(r->version++);
	REFUSED(r->nports--);
	REFUSED(r->ring_size /= 2);
	REFUSED(r->size += 64);
	REFUSED(r->pool_off += 64);
	REFUSED(r->ports[5].rx_off += 64);
	REFUSED(r->ports[63].comp_off = 0);
	REFUSED(r->ports[7].tx_off = UINT64_MAX - 8);
	REFUSED(r->ports[1].kind = 3);
#undef REFUSED
	ring = port_ring(r, r->ports[9].fill_off);
	ring->mask = 0xffffffff;
	assert_int_equal(port_region_check(r, f->size), -1);
	ring->mask = PORT_RING_SIZE - 1;
	port_pool(r)->nbufs--;
	assert_int_equal(port_region_check(r, f->size), -1);
	port_pool(r)->nbufs++;
	assert_int_equal(port_region_check(r, f->size), 0);
}

/* Forwarding ------------------------------------------------------------- */

static void
test_tap_to_udp(void **state)
{
	struct fx *f = *state;
	uint8_t frame[2048], want[2048];
	struct overlay_hdr h;
	struct pool_buf *b;
	uint32_t len, idx;
	const struct stats_segment *s;

	len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 100);
	memcpy(want, frame, len);
	idx = drv_rx(f, TAP, frame, len);
	assert_int_equal(worker_poll(f->w), 1);
	b = drv_tx_one(f, UP1);
	assert_int_equal(b->idx, idx);			/* the same buffer: no copy */
	assert_int_equal(b->off, POOL_HEADROOM - OVERLAY_HDR_LEN);
	assert_int_equal(b->len, len + OVERLAY_HDR_LEN);
	assert_int_equal(overlay_decode(pool_buf_frame(b), b->len, &h), OVERLAY_OK);
	assert_int_equal(h.type, OVERLAY_DATA);
	assert_int_equal(h.network, f->net1);
	assert_int_equal(h.path, 0);
	assert_int_equal(h.seq, 0);
	assert_true(h.timestamp_ns > 0);
	assert_memory_equal(pool_buf_frame(b) + OVERLAY_HDR_LEN, want, len);
	assert_int_equal(b->peer.family, AF_INET);
	assert_int_equal(ntohs(b->peer.port), 4789);
	assert_memory_equal(b->peer.addr, "\xc0\x00\x02\x01", 4);
	assert_int_equal(b->network, f->net1);

	/* IPv6 next, with the next sequence number on the same path. */
	len = ip6_frame(frame, "fd00:1::5", "fd00:1::9", 60);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	b = drv_tx_one(f, UP1);
	assert_int_equal(overlay_decode(pool_buf_frame(b), b->len, &h), OVERLAY_OK);
	assert_int_equal(h.seq, 1);
	assert_tx_empty(f, UP2);

	worker_poll(f->w);			/* takes the completions back */
	/* A pass with nothing to do publishes on its own. */
	assert_int_equal(worker_poll(f->w), 0);
	{
		static struct stats_segment seen;

		assert_int_equal(stats_snapshot(f->s, &seen), 0);
		assert_int_equal(seen.ports[TAP].rx_packets, 2);
	}
	s = snap(f);
	assert_int_equal(s->ports[TAP].rx_packets, 2);
	assert_int_equal(s->ports[UP1].tx_packets, 2);
	assert_int_equal(s->ports[UP1].tx_bytes, (10 + 120 + 24) + (10 + 100 + 24));
	assert_int_equal(net_counters(s, f->net1)->rx_packets, 2);
	assert_int_equal(net_counters(s, f->net1)->rx_bytes, 120 + 100);
	assert_int_equal(net_counters(s, f->net1)->drops, 0);
	assert_int_equal(drops_total(s), 0);
	assert_true(s->bursts >= 2);
	assert_int_equal(worker_lent(f->w, UP1), 256);	/* completions refilled its fill ring */
	assert_no_leak(f);
}

static void
test_udp_to_tap(void **state)
{
	struct fx *f = *state;
	uint8_t inner[2048], frame[2048];
	uint32_t ilen, len;
	struct pool_buf *b;
	const struct stats_segment *s;

	ilen = ip4_frame(inner, "10.1.0.77", "10.1.0.5", 200);
	len = overlay_frame(frame, f->net1, OVERLAY_DATA, inner, ilen);
	drv_rx(f, UP2, frame, len);
	ilen = ip4_frame(inner, "10.2.0.77", "10.2.0.5", 10);
	len = overlay_frame(frame, f->net2, OVERLAY_DATA, inner, ilen);
	drv_rx(f, UP1, frame, len);	/* lights uses wan1 only: over wan2 it is not its peer's */
	assert_int_equal(worker_poll(f->w), 2);

	b = drv_tx_one(f, TAP);
	assert_int_equal(b->off, POOL_HEADROOM + OVERLAY_HDR_LEN);
	assert_int_equal(b->len, VNET + 220);
	assert_int_equal(b->network, f->net1);
	assert_int_equal(b->path, UP2);
	ip4_frame(inner, "10.1.0.77", "10.1.0.5", 200);
	assert_memory_equal(pool_buf_frame(b), inner, VNET + 220);
	b = drv_tx_one(f, TAP2);
	assert_int_equal(b->network, f->net2);
	assert_tx_empty(f, UP1);

	/* A probe is consumed, not delivered and not a drop. */
	len = overlay_frame(frame, f->net1, OVERLAY_PROBE, inner, 0);
	drv_rx(f, UP1, frame, len);
	worker_poll(f->w);
	assert_tx_empty(f, TAP);

	worker_poll(f->w);
	s = snap(f);
	assert_int_equal(s->ports[UP2].rx_packets, 1);
	assert_int_equal(s->ports[UP1].rx_packets, 2);	/* lights, and the probe */
	assert_int_equal(s->ports[TAP].tx_packets, 1);
	assert_int_equal(s->ports[TAP].tx_bytes, VNET + 220);
	assert_int_equal(net_counters(s, f->net1)->tx_packets, 1);
	assert_int_equal(net_counters(s, f->net1)->tx_bytes, 220);
	assert_int_equal(net_counters(s, f->net2)->tx_packets, 1);
	assert_int_equal(drops_total(s), 0);
	assert_no_leak(f);
}

/* Out by one uplink, in by another on the far side, and delivered. */
static void
test_round_trip_through_overlay(void **state)
{
	struct fx *f = *state;
	uint8_t frame[4096], want[4096];
	uint32_t len, idx[4];
	struct pool_buf *b, *out;

	len = ip4_frame(frame, "10.1.1.200", "10.1.0.1", 1400);
	memcpy(want, frame, len);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	assert_int_equal(drv_tx(f, UP1, idx, 4), 1);
	b = pool_buf(f->pool, idx[0]);
	/* The "peer" receives the datagram on its uplink: here, UP2. */
	drv_rx(f, UP2, pool_buf_frame(b), b->len);
	drv_comp(f, UP1, idx, 1);
	worker_poll(f->w);
	out = drv_tx_one(f, TAP);
	assert_int_equal(out->len, len);
	assert_memory_equal(pool_buf_frame(out), want, len);
	worker_poll(f->w);
	assert_no_leak(f);
}

static void
test_antispoofing(void **state)
{
	struct fx *f = *state;
	static const char *const bad4[] = { "10.1.2.0", "10.2.0.5", "10.0.255.255", "0.0.0.0",
		"192.168.1.1" };
	uint8_t frame[2048];
	const struct stats_segment *s;

	for (size_t i = 0; i < sizeof(bad4) / sizeof(bad4[0]); i++)
		drv_rx(f, TAP, frame, ip4_frame(frame, bad4[i], "10.1.0.1", 20));
	/* Outside the IPv6 subnet, and link-local. */
	drv_rx(f, TAP, frame, ip6_frame(frame, "fd00:2::5", "fd00:1::1", 8));
	drv_rx(f, TAP, frame, ip6_frame(frame, "fe80::1", "fd00:1::1", 8));
	/* The edges of 10.1.0.0/23 pass. */
	drv_rx(f, TAP, frame, ip4_frame(frame, "10.1.1.255", "10.1.0.1", 20));
	drv_rx(f, TAP, frame, ip4_frame(frame, "10.1.0.0", "10.1.0.1", 20));
	/* Network 2 has no IPv6 subnet: any IPv6 source is not its own. */
	drv_rx(f, TAP2, frame, ip6_frame(frame, "fd00:1::5", "fd00:1::1", 8));
	worker_poll(f->w);
	assert_int_equal(ring_count(ring_of(f, UP1, 't')), 2);
	s = snap(f);
	assert_int_equal(s->drops[STATS_DROP_spoofed], 8);
	assert_int_equal(drops_total(s), 8);
	assert_int_equal(net_counters(s, f->net1)->drops, 7);
	assert_int_equal(net_counters(s, f->net2)->drops, 1);
	assert_int_equal(s->ports[TAP].drops, 7);
	assert_no_leak(f);
}

static void
test_malformed_from_tap(void **state)
{
	struct fx *f = *state;
	uint8_t frame[2048];
	uint32_t len;
	const struct stats_segment *s;

	len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 40);
	drv_rx(f, TAP, frame, 5);			/* shorter than the vnet header */
	drv_rx(f, TAP, frame, VNET + 19);		/* than an IP header */
	frame[VNET] = 0x44;				/* IHL 4 */
	drv_rx(f, TAP, frame, len);
	frame[VNET] = 0x45;
	frame[VNET + 3] = 80;				/* total length past the frame */
	drv_rx(f, TAP, frame, len);
	frame[VNET + 3] = 60;
	frame[VNET] = 0x55;				/* version 5 */
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	assert_tx_empty(f, UP1);
	s = snap(f);
	assert_int_equal(s->drops[STATS_DROP_truncated], 2);
	assert_int_equal(s->drops[STATS_DROP_malformed], 3);
	assert_no_leak(f);
}

static void
test_unknown_network(void **state)
{
	struct fx *f = *state;
	uint8_t inner[2048], frame[2048];
	uint32_t ilen = ip4_frame(inner, "10.1.0.77", "10.1.0.5", 20);
	const struct stats_segment *s;

	drv_rx(f, UP1, frame, overlay_frame(frame, 0x12345678, OVERLAY_DATA, inner, ilen));
	drv_rx(f, UP1, frame, overlay_frame(frame, 0, OVERLAY_DATA, inner, ilen));
	worker_poll(f->w);
	/* A deleted network is unknown too; the other one still works. */
	assert_int_equal(worker_network_del(f->w, f->net1), 0);
	assert_int_equal(worker_network_del(f->w, f->net1), -1);
	drv_rx(f, UP1, frame, overlay_frame(frame, f->net1, OVERLAY_DATA, inner, ilen));
	drv_rx(f, UP1, frame, overlay_frame(frame, f->net2, OVERLAY_DATA, inner, ilen));
	worker_poll(f->w);
	assert_tx_empty(f, TAP);
	drv_tx_one(f, TAP2);
	s = snap(f);
	assert_int_equal(s->drops[STATS_DROP_unknown_network], 3);
	assert_int_equal(s->ports[UP1].drops, 3);
	assert_int_equal(drops_total(s), 3);
	/* Its counters went with it; frames from its tap have nowhere to go. */
	for (uint32_t i = 0; i < s->nnetworks; i++)
		assert_int_not_equal(s->networks[i].id, f->net1);
	drv_rx(f, TAP, inner, ilen);
	worker_poll(f->w);
	assert_int_equal(snap(f)->drops[STATS_DROP_no_uplink], 1);
	assert_no_leak(f);
}

static void
test_no_healthy_uplink(void **state)
{
	struct fx *f = *state;
	uint8_t frame[2048];
	uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 20);
	struct overlay_hdr h;
	struct pool_buf *b;

	/* The first uplink down: the second carries it, as path 1, to its peer. */
	port_msg(f->w, UP1, PORT_UDP, WORKER_PORT_DOWN);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	assert_tx_empty(f, UP1);
	b = drv_tx_one(f, UP2);
	assert_int_equal(overlay_decode(pool_buf_frame(b), b->len, &h), OVERLAY_OK);
	assert_int_equal(h.path, 1);
	assert_int_equal(ntohs(b->peer.port), 4790);
	/* Both down: dropped. */
	port_msg(f->w, UP2, PORT_UDP, WORKER_PORT_DOWN);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	assert_tx_empty(f, UP2);
	assert_int_equal(snap(f)->drops[STATS_DROP_no_uplink], 1);
	/* The first back up: it is the first choice again. */
	port_msg(f->w, UP1, PORT_UDP, WORKER_PORT_UP);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	drv_tx_one(f, UP1);
	/* A down tap: frames for it are dropped, not queued for no one. */
	port_msg(f->w, TAP, PORT_TAP, WORKER_PORT_DOWN);
	{
		uint8_t datagram[2048];

		drv_rx(f, UP1, datagram, overlay_frame(datagram, f->net1, OVERLAY_DATA, frame, len));
	}
	worker_poll(f->w);
	assert_tx_empty(f, TAP);
	assert_int_equal(snap(f)->drops[STATS_DROP_ring_full], 1);
	worker_poll(f->w);
	assert_no_leak(f);
}

static void
test_tx_ring_full(void **state)
{
	struct fx *f = *state;
	uint8_t frame[256];
	uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 20), sent = 0;

	/* The uplink's driver sends nothing: its tx ring fills, then drops. */
	for (int round = 0; round < 60; round++) {
		uint32_t n = ring_count(ring_of(f, TAP, 'f'));

		for (uint32_t i = 0; i < n && i < WORKER_BURST; i++, sent++)
			drv_rx(f, TAP, frame, len);
		worker_poll(f->w);
	}
	assert_true(sent > PORT_RING_SIZE);
	assert_int_equal(ring_count(ring_of(f, UP1, 't')), PORT_RING_SIZE);
	assert_int_equal(snap(f)->drops[STATS_DROP_ring_full], sent - PORT_RING_SIZE);
	assert_no_leak(f);
}

/* Driver restarts and misbehaving drivers ------------------------------ */

static void
test_reset_reclaims_buffers(void **state)
{
	struct fx *f = *state;
	uint8_t frame[256];
	uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 20), held[64], idx[64];

	/* The tap driver holds 10 fill buffers and sent 20 frames... */
	assert_int_equal(ring_dequeue_burst(ring_of(f, TAP, 'f'), held, 10), 10);
	for (int i = 0; i < 20; i++)
		drv_rx(f, TAP, frame, len);
	/* ...with 5 more on its rx ring the worker has not seen when it dies. */
	worker_poll(f->w);
	for (int i = 0; i < 5; i++)
		drv_rx(f, TAP, frame, len);
	/* The uplink's driver took 7 of its 20 tx frames, completed 3, and dies. */
	assert_int_equal(drv_tx(f, UP1, idx, 7), 7);
	drv_comp(f, UP1, idx, 3);
	assert_true(worker_lent(f->w, TAP) > 0 && worker_lent(f->w, UP1) > 0);

	port_msg(f->w, TAP, PORT_TAP, WORKER_PORT_RESET);
	port_msg(f->w, UP1, PORT_UDP, WORKER_PORT_RESET);
	assert_int_equal(worker_lent(f->w, TAP), 0);
	assert_int_equal(worker_lent(f->w, UP1), 0);
	for (const char *w = "frtc"; *w != '\0'; w++) {
		assert_int_equal(ring_count(ring_of(f, TAP, *w)), 0);
		assert_int_equal(ring_count(ring_of(f, UP1, *w)), 0);
	}
	assert_no_leak(f);
	/* Down until UP: nothing lent to them meanwhile. */
	worker_poll(f->w);
	assert_int_equal(worker_lent(f->w, TAP), 0);

	/* The restarted drivers start from the rings as they are, and work. */
	port_msg(f->w, TAP, PORT_TAP, WORKER_PORT_UP);
	port_msg(f->w, UP1, PORT_UDP, WORKER_PORT_UP);
	worker_poll(f->w);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	drv_tx_one(f, UP1);
	worker_poll(f->w);
	assert_no_leak(f);
	reset_all(f);
}

static void
test_garbage_from_drivers(void **state)
{
	struct fx *f = *state;
	uint8_t frame[256];
	uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 20);
	uint32_t free_idx, other, lent_tx, mine, bad[8];
	struct pool_buf *b;
	struct ring *rx = ring_of(f, TAP, 'r');
	const struct stats_segment *s;

	/*
	 * Indexes out of range, a buffer in the free list, one lent to another
	 * port, and one lent to this port's peer for tx.
	 */
	struct ring *fr = pool_ring(f->pool);

	free_idx = fr->slots[atomic_load(&fr->cons.tail) & fr->mask];
	assert_int_equal(ring_dequeue_burst(ring_of(f, UP2, 'f'), &other, 1), 1);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	assert_int_equal(drv_tx(f, UP1, &lent_tx, 1), 1);
	bad[0] = PORT_POOL_BUFS;
	bad[1] = UINT32_MAX;
	bad[2] = other;
	bad[3] = lent_tx;
	bad[4] = free_idx;
	assert_int_equal(ring_enqueue_burst(rx, bad, 5), 5);
	/* A buffer handed back twice: the second is refused. */
	mine = drv_rx(f, TAP, frame, len);
	assert_int_equal(ring_enqueue_burst(rx, &mine, 1), 1);
	worker_poll(f->w);
	assert_int_equal(ring_count(ring_of(f, UP1, 't')), 1);
	/* Nonsense on the completion ring too. */
	bad[0] = 4095;
	bad[1] = other;
	drv_comp(f, UP1, bad, 2);
	drv_comp(f, UP1, &lent_tx, 1);
	drv_comp(f, UP1, &lent_tx, 1);
	worker_poll(f->w);
	s = snap(f);
	assert_int_equal(s->drops[STATS_DROP_malformed], 6 + 3);
	assert_int_equal(s->ports[TAP].drops, 6);
	assert_int_equal(s->ports[UP1].drops, 3);

	/* A frame whose off and len point outside its buffer. */
	b = pool_buf(f->pool, drv_rx(f, TAP, frame, len));
	b->off = UINT16_MAX;
	b->len = 4096;
	worker_poll(f->w);
	b = pool_buf(f->pool, drv_rx(f, TAP, frame, len));
	b->off = 0;
	b->len = PORT_DATA_SIZE + 1;
	worker_poll(f->w);
	/* A frame with no headroom for the overlay header. */
	b = pool_buf(f->pool, drv_rx(f, TAP, frame, len));
	b->off = 8;
	memcpy(b->data + 8, frame, len);
	worker_poll(f->w);
	assert_int_equal(snap(f)->drops[STATS_DROP_malformed], 6 + 3 + 3);

	/* A driver rewriting its rings' geometry cannot move the worker's. */
	ring_of(f, TAP, 'r')->mask = UINT32_MAX;
	ring_of(f, TAP, 'r')->size = 0;
	ring_of(f, UP1, 't')->mask = UINT32_MAX;
	atomic_store(&ring_of(f, TAP, 'r')->prod.head, 0x80000000u);
	worker_poll(f->w);
	worker_poll(f->w);
	/* Put the one buffer the test holds back where the worker expects it. */
	drv_comp(f, UP2, &other, 1);
	ring_of(f, TAP, 'r')->mask = PORT_RING_SIZE - 1;
	ring_of(f, TAP, 'r')->size = PORT_RING_SIZE;
	ring_of(f, UP1, 't')->mask = PORT_RING_SIZE - 1;
	worker_poll(f->w);
	assert_no_leak(f);
	reset_all(f);
}

/*
 * A driver overwriting the pool's free list (it is in the region): slots
 * naming a buffer that is not free are skipped, so no buffer is ever lent
 * twice; the buffers whose slots were overwritten are lost, and only those.
 */
static void
test_free_list_overwritten(void **state)
{
	struct fx *f = *state;
	struct ring *fr = pool_ring(f->pool);
	uint32_t tail = atomic_load(&fr->cons.tail), later, held[2048], n = 0, lent = 0;
	uint8_t frame[256], seen[PORT_POOL_BUFS] = { 0 };
	uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 20);

	/* Nothing freed yet: the next buffers lent come from the list itself. */
	later = fr->slots[(tail + 100) & fr->mask];
	for (uint32_t i = 0; i < 64; i++) {
		uint32_t v = i % 4 == 0 ? 0 :			/* lent to TAP for fill */
		    i % 4 == 1 ? PORT_POOL_BUFS + i :		/* out of range */
		    i % 4 == 2 ? later : UINT32_MAX;		/* free, listed further on */

		fr->slots[(tail + i) & fr->mask] = v;
	}
	/* 768 frames from the tap to an uplink that sends nothing: 768 buffers lent anew. */
	for (int i = 0; i < 768; i++) {
		drv_rx(f, TAP, frame, len);
		if (i % WORKER_BURST == WORKER_BURST - 1)
			worker_poll(f->w);
	}
	worker_poll(f->w);
	n += drv_tx(f, UP1, held + n, PORT_RING_SIZE);
	assert_int_equal(n, 768);
	n += ring_dequeue_burst(ring_of(f, TAP, 'f'), held + n, PORT_RING_SIZE);
	for (uint32_t i = 0; i < n; i++) {
		assert_true(held[i] < PORT_POOL_BUFS);
		assert_int_equal(seen[held[i]], 0);		/* never lent twice */
		seen[held[i]] = 1;
	}
	for (uint32_t p = 0; p < PORT_MAX; p++)
		lent += worker_lent(f->w, p);
	assert_int_equal(worker_free_buffers(f->w) + lent, PORT_POOL_BUFS - 64);
	/* Forwarding goes on. */
	drv_comp(f, UP1, held, 768);
	drv_comp(f, TAP, held + 768, n - 768);
	for (int i = 0; i < 40; i++)
		worker_poll(f->w);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	drv_tx_one(f, UP1);
}

/* 10^5 random, truncated and half-valid payloads at an uplink. */
static uint32_t
hostile_payload(uint8_t *out, uint32_t id, const uint8_t *inner, uint32_t ilen, uint32_t *flips)
{
	uint32_t len, kind = (uint32_t)rand() % 4;

	switch (kind) {
	case 0:					/* random bytes */
		len = (uint32_t)rand() % 200;
		for (uint32_t i = 0; i < len; i++)
			out[i] = (uint8_t)rand();
		return len;
	case 1:					/* a good frame, cut anywhere */
		len = overlay_frame(out, id, OVERLAY_DATA, inner, ilen);
		return (uint32_t)rand() % len;
	case 2:					/* a good header, random inside */
		len = OVERLAY_HDR_LEN + (uint32_t)rand() % 200;
		overlay_frame(out, id, OVERLAY_DATA, inner, 0);
		for (uint32_t i = OVERLAY_HDR_LEN; i < len; i++)
			out[i] = (uint8_t)rand();
		return len;
	default:				/* a good frame, one byte changed */
		(*flips)++;
		len = overlay_frame(out, id, OVERLAY_DATA, inner, ilen);
		out[(uint32_t)rand() % len] ^= (uint8_t)(1 + rand() % 255);
		return len;
	}
}

static void
test_hostile_overlay_input(void **state)
{
	struct fx *f = *state;
	uint8_t inner[256], frame[512];
	uint32_t ilen = ip4_frame(inner, "10.1.0.77", "10.1.0.5", 32), sent = 0, delivered = 0;
	uint32_t probes = 0, flips = 0;
	const struct stats_segment *s;

	srand(4242);
	while (sent < HOSTILE_FRAMES) {
		uint32_t n = ring_count(ring_of(f, UP1, 'f')), idx[WORKER_BURST], got;

		for (uint32_t i = 0; i < n && i < WORKER_BURST && sent < HOSTILE_FRAMES; i++, sent++) {
			uint32_t len = hostile_payload(frame, f->net1, inner, ilen, &flips);
			struct overlay_hdr h;

			/* A flipped type byte can make a valid probe: consumed, not dropped. */
			if (overlay_decode(frame, len, &h) == OVERLAY_OK &&
			    (h.type == OVERLAY_PROBE || h.type == OVERLAY_PROBE_REPLY))
				probes++;
			drv_rx(f, UP1, frame, len);
		}
		worker_poll(f->w);
		/* Whatever came through (a flipped bit in the payload) goes on. */
		got = drv_tx(f, TAP, idx, WORKER_BURST);
		delivered += got;
		drv_comp(f, TAP, idx, got);
	}
	worker_poll(f->w);
	s = snap(f);
	assert_int_equal(s->ports[UP1].rx_packets, sent);
	/* Every frame dropped and counted, or delivered whole, or a probe. */
	assert_int_equal(s->ports[UP1].drops + delivered + probes, sent);
	assert_int_equal(drops_total(s), s->ports[UP1].drops);
	assert_true(s->drops[STATS_DROP_truncated] > 0);
	assert_true(s->drops[STATS_DROP_malformed] > 0);
	assert_true(s->drops[STATS_DROP_unknown_network] > 0);
	/* Only a good frame with a byte changed where nothing checks (the
	 * payload, a TTL, the sequence number) can get through. */
	assert_true(delivered <= flips);
	printf("# hostile: %u frames, %u delivered, %u probes, %llu truncated, %llu malformed, "
	    "%llu unknown network\n", sent, delivered, probes,
	    (unsigned long long)s->drops[STATS_DROP_truncated],
	    (unsigned long long)s->drops[STATS_DROP_malformed],
	    (unsigned long long)s->drops[STATS_DROP_unknown_network]);
	assert_no_leak(f);
	reset_all(f);
}

/* And random frames from a tenant's tap (10^4): none crash, none leak. */
static void
test_hostile_tap_input(void **state)
{
	struct fx *f = *state;
	uint8_t frame[512];
	uint32_t sent = 0;

	srand(77);
	while (sent < HOSTILE_FRAMES / 10) {
		uint32_t n = ring_count(ring_of(f, TAP, 'f')), idx[WORKER_BURST], got;

		for (uint32_t i = 0; i < n && i < WORKER_BURST; i++, sent++) {
			uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 100);

			for (int k = 0; k < 1 + rand() % 4; k++)
				frame[(uint32_t)rand() % (VNET + 24)] = (uint8_t)rand();
			drv_rx(f, TAP, frame, (uint32_t)rand() % (len + 1));
		}
		worker_poll(f->w);
		got = drv_tx(f, UP1, idx, WORKER_BURST);
		drv_comp(f, UP1, idx, got);
	}
	worker_poll(f->w);
	assert_int_equal(snap(f)->ports[TAP].rx_packets, sent);
	assert_no_leak(f);
	reset_all(f);
}

/* Wake-ups ---------------------------------------------------------------- */

static void
test_wakeup_only_when_sleeping(void **state)
{
	struct fx *f = *state;
	uint8_t frame[256];
	uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 20), idx[4];
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t v;

	assert_true(efd >= 0);
	assert_int_equal(worker_kick_set(f->w, UP1, PORT_KICK_DRIVER, dup(efd)), 0);
	assert_int_equal(worker_kick_set(f->w, UP1, 7, efd), -1);
	assert_int_equal(worker_kick_set(f->w, PORT_MAX, PORT_KICK_DRIVER, efd), -1);
	assert_int_equal(worker_pending(f->w), 0);

	/* Awake driver: no system call, no wake-up. */
	drv_rx(f, TAP, frame, len);
	assert_int_equal(worker_pending(f->w), 1);
	worker_poll(f->w);
	assert_int_equal(worker_pending(f->w), 0);
	assert_int_equal(read(efd, &v, sizeof(v)), -1);
	assert_int_equal(errno, EAGAIN);

	/* Sleeping driver: woken. */
	atomic_store(&f->r->ports[UP1].driver_sleeping, 1);
	drv_rx(f, TAP, frame, len);
	worker_poll(f->w);
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	assert_true(v >= 1);

	/* And when its fill ring is topped up: it received 64 frames. */
	assert_int_equal(drv_tx(f, UP1, idx, 4), 2);
	drv_comp(f, UP1, idx, 2);
	worker_poll(f->w);
	assert_int_equal(read(efd, &v, sizeof(v)), -1);	/* completions, fill was full */
	for (int i = 0; i < 64; i++) {
		uint8_t datagram[512];

		drv_rx(f, UP1, datagram, overlay_frame(datagram, f->net1, OVERLAY_DATA, frame, len));
	}
	for (int i = 0; i < 3; i++) {
		uint32_t got;

		worker_poll(f->w);
		got = drv_tx(f, TAP, idx, 4);
		drv_comp(f, TAP, idx, got);
	}
	assert_int_equal(read(efd, &v, sizeof(v)), sizeof(v));
	close(efd);
	assert_no_leak(f);
}

/* The network table ---------------------------------------------------- */

static void
test_network_table(void **state)
{
	struct fx *f = *state;
	struct worker_net_cfg n = net_msg(f->net1, TAP, "10.9.0.0", 16, NULL, 0);
	uint8_t frame[256];

	/* Malformed: id 0, a port out of range, prefix too long. */
	n.id = 0;
	assert_int_equal(worker_network_set(f->w, &n), -1);
	n.id = 5;
	n.tap_port = PORT_MAX;
	assert_int_equal(worker_network_set(f->w, &n), -1);
	n.tap_port = TAP;
	n.plen4 = 33;
	assert_int_equal(worker_network_set(f->w, &n), -1);
	n.plen4 = 16;
	n.nuplinks = 1;
	n.uplinks[0].port = 999;
	assert_int_equal(worker_network_set(f->w, &n), -1);
	assert_int_equal(worker_network_del(f->w, 0), -1);

	/* Replacing network 1: its new subnet applies, host bits ignored. */
	n = net_msg(f->net1, TAP, "10.9.7.7", 16, NULL, 0);
	net_uplink(&n, UP2, "203.0.113.9", 5000);
	assert_int_equal(worker_network_set(f->w, &n), 0);
	drv_rx(f, TAP, frame, ip4_frame(frame, "10.1.0.5", "10.9.0.1", 20));
	drv_rx(f, TAP, frame, ip4_frame(frame, "10.9.200.5", "10.9.0.1", 20));
	worker_poll(f->w);
	assert_int_equal(snap(f)->drops[STATS_DROP_spoofed], 1);
	assert_int_equal(ntohs(drv_tx_one(f, UP2)->peer.port), 5000);

	/* A table full of networks: the 1025th is refused.  (They share tap
	 * ports: each takes its port from the one before, with a warning.) */
	log_set_level(LOG_LVL_ERROR);
	for (uint32_t i = 0; i < STATS_MAX_NETWORKS - 2; i++) {
		n = net_msg(1000 + i, 10 + i % 50, "10.3.0.0", 24, NULL, 0);
		assert_int_equal(worker_network_set(f->w, &n), 0);
	}
	n = net_msg(999, 60, "10.3.0.0", 24, NULL, 0);
	assert_int_equal(worker_network_set(f->w, &n), -1);
	assert_int_equal(snap(f)->nnetworks, STATS_MAX_NETWORKS);
	log_set_level(LOG_LVL_INFO);
	/* Every one findable by id. */
	for (uint32_t i = 0; i < STATS_MAX_NETWORKS - 2; i += 97)
		assert_int_equal(worker_network_del(f->w, 1000 + i), 0);
	assert_int_equal(worker_network_del(f->w, f->net2), 0);
	worker_poll(f->w);
	assert_no_leak(f);
}

static void
test_port_messages(void **state)
{
	struct fx *f = *state;
	struct worker_port_cfg bad[] = {
		{ .port = PORT_MAX, .kind = PORT_TAP, .state = WORKER_PORT_UP },
		{ .port = 1, .kind = 3, .state = WORKER_PORT_UP },
		{ .port = 1, .kind = PORT_UDP, .state = 3 },
		{ .port = 1, .kind = PORT_NONE, .state = WORKER_PORT_UP },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(worker_port_set(f->w, &bad[i]), -1);
	/* Retiring a port takes its buffers back and stops serving it. */
	assert_true(worker_lent(f->w, UP2) > 0);
	port_msg(f->w, UP2, PORT_NONE, WORKER_PORT_RESET);
	assert_int_equal(worker_lent(f->w, UP2), 0);
	worker_poll(f->w);
	assert_int_equal(worker_lent(f->w, UP2), 0);
	assert_no_leak(f);
}

/* The stats segment ------------------------------------------------------- */

struct writer {
	struct stats_segment *s;
	atomic_int stop;
	uint64_t rounds;
};

/* Every counter of the segment holds the same value in every published state. */
static void
stats_fill(struct stats_segment *s, uint64_t v)
{
	for (uint32_t i = 0; i < STATS_MAX_NETWORKS; i++) {
		s->networks[i].id = (uint32_t)v;
		s->networks[i].c = (struct stats_counters){ v, v, v, v, v };
	}
	for (uint32_t i = 0; i < PORT_MAX; i++)
		s->ports[i] = (struct stats_counters){ v, v, v, v, v };
	for (uint32_t i = 0; i < STATS_DROP_MAX; i++)
		s->drops[i] = v;
	s->nnetworks = (uint32_t)v;
	s->bursts = v;
}

/*
 * Rewrites the whole segment (far more than the worker does in one
 * publication), then leaves it still for a few microseconds, as the
 * worker does between publications.
 */
static void *
stats_writer(void *arg)
{
	struct writer *wr = arg;
	uint64_t t0;

	while (!atomic_load(&wr->stop)) {
		stats_begin(wr->s);
		stats_fill(wr->s, ++wr->rounds);
		stats_end(wr->s);
		t0 = cnw_now_ns();
		while (cnw_spin(t0, 20000))
			;
	}
	return NULL;
}

/* 1 if every counter of the copy holds the same value. */
static int
uniform(const struct stats_segment *c)
{
	uint64_t v = c->bursts;
	int ok = c->nnetworks == (uint32_t)v;

	for (uint32_t i = 0; i < STATS_MAX_NETWORKS; i++)
		ok &= c->networks[i].id == (uint32_t)v && c->networks[i].c.rx_packets == v &&
		    c->networks[i].c.tx_bytes == v && c->networks[i].c.drops == v;
	for (uint32_t i = 0; i < PORT_MAX; i++)
		ok &= c->ports[i].tx_bytes == v && c->ports[i].rx_packets == v;
	for (uint32_t i = 0; i < STATS_DROP_MAX; i++)
		ok &= c->drops[i] == v;
	return ok;
}

static void
test_stats_snapshot_concurrent(void **state)
{
	struct stats_segment *s = aligned_alloc(64, (stats_size() + 63) / 64 * 64);
	struct stats_segment *copy = malloc(sizeof(*copy));
	struct writer wr = { .s = s };
	unsigned snaps = 0, torn = 0, gave_up = 0, backwards = 0;
	uint64_t last = 0;
	uint64_t t0, elapsed;
	pthread_t t;

	assert_non_null(s);
	assert_non_null(copy);
	stats_init(s);
	assert_int_equal(pthread_create(&t, NULL, stats_writer, &wr), 0);
	/* Nothing asserted while the writer runs: collect, stop it, then judge. */
	t0 = cnw_now_ns();
	do {
		if (stats_snapshot(s, copy) < 0) {
			gave_up++;	/* only when the writer is descheduled mid-write */
		} else {
			snaps++;
			torn += !uniform(copy);
			backwards += copy->bursts < last;
			last = copy->bursts;
		}
		/* Valgrind runs one thread at a time: let the writer have a turn. */
		if ((snaps + gave_up) % 64 == 0)
			sched_yield();
		elapsed = cnw_now_ns() - t0;
	} while ((elapsed < 1000000000ULL || snaps < 1000 || last < 100) &&
	    elapsed < 30000000000ULL);
	atomic_store(&wr.stop, 1);
	pthread_join(t, NULL);
	printf("# stats: %u consistent snapshots (%u gave up) while the writer published "
	    "%llu times\n", snaps, gave_up, (unsigned long long)wr.rounds);
	assert_int_equal(torn, 0);
	assert_int_equal(backwards, 0);
	assert_true(last > 0);
	assert_true(gave_up < snaps);

	/* A writer that died mid-update: the reader gives up, it does not hang. */
	stats_begin(s);
	assert_int_equal(stats_snapshot(s, copy), -1);
	stats_end(s);
	assert_int_equal(stats_snapshot(s, copy), 0);
	assert_true(uniform(copy));
	/* Not a stats segment. */
	s->magic = 0;
	assert_int_equal(stats_snapshot(s, copy), -1);
	free(copy);
	free(s);
}

static void
test_wrong_peer(void **state)
{
	struct fx *f = *state;
	uint8_t inner[2048], frame[2048];
	uint32_t ilen, len, idx;
	struct pool_buf *b;
	struct stats_segment *s = malloc(sizeof(*s));

	/* A well-formed frame for a real network, from an address that is not its peer. */
	ilen = ip4_frame(inner, "10.1.0.77", "10.1.0.5", 50);
	len = overlay_frame(frame, f->net1, OVERLAY_DATA, inner, ilen);
	idx = drv_rx(f, UP1, frame, len);
	b = pool_buf(f->pool, idx);
	assert_int_equal(inet_pton(AF_INET, "203.0.113.66", b->peer.addr), 1);
	/* and one from the right address but over an uplink the network does not use */
	ilen = ip4_frame(inner, "10.2.0.77", "10.2.0.5", 50);
	len = overlay_frame(frame, f->net2, OVERLAY_DATA, inner, ilen);
	drv_rx(f, UP2, frame, len);
	worker_poll(f->w);
	worker_publish(f->w);
	assert_int_equal(stats_snapshot(f->s, s), 0);
	assert_int_equal(s->drops[STATS_DROP_wrong_peer], 2);
	assert_tx_empty(f, TAP);
	assert_tx_empty(f, TAP2);
	free(s);
	assert_no_leak(f);
}

static void
test_stats_names(void **state)
{
	static const char *const want[] = { "truncated", "malformed", "unknown_network",
		"spoofed", "no_uplink", "wrong_peer", "ring_full", "flow_quota", "flow_table_full",
		"denied", "policed", "queue_full", "duplicate" };

	assert_int_equal(STATS_DROP_MAX, sizeof(want) / sizeof(want[0]));
	for (int i = 0; i < STATS_DROP_MAX; i++) {
		assert_string_equal(stats_drop_names[i], want[i]);
		assert_true(strlen(stats_drop_help[i]) > 10);
	}
	assert_true(stats_size() >= sizeof(struct stats_segment));
}

/* The process --------------------------------------------------------------- */

/* CPU time of a process so far, in clock ticks (utime + stime). */
static long
cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	long utime, stime;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the ")" that ends the command name. */
	p = strrchr(buf, ')');
	assert_non_null(p);
	assert_int_equal(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
	    &utime, &stime), 2);
	return utime + stime;
}

/* As cnwd/proc.c does: set-up messages until MSG_CHILD_START, then main. */
static int
child_run(int sock)
{
	struct msg *m = malloc(sizeof(*m));
	char why[128];

	for (;;) {
		if (msg_recv(sock, m) <= 0 ||
		    msg_check(proto_types, proto_ntypes, m, PROTO_FROM_PARENT, why, sizeof(why)) < 0)
			return 10;
		if (m->hdr.type == MSG_CHILD_START)
			break;
		if (role_worker_setup(sock, m) < 0)
			return 11;
	}
	free(m);
	role_worker_prepare();
	return role_worker_main(sock);
}

static void
send_kick(int sock, uint32_t port, uint32_t which, int *fd)
{
	struct port_kick k = { .port = port, .which = which };
	int dupfd = dup(*fd);

	assert_int_equal(msg_send(sock, MSG_WORKER_KICK, 0, 0, &k, sizeof(k), &dupfd), 0);
}

/* Wait as a driver does (port.h): flag, look again, block on the eventfd. */
static void
driver_wait(struct port_region *r, uint32_t port, int efd, struct ring *ring)
{
	struct pollfd p = { .fd = efd, .events = POLLIN };
	uint64_t v;

	atomic_store(&r->ports[port].driver_sleeping, 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (ring_count(ring) == 0)
		assert_int_equal(poll(&p, 1, 5000), 1);
	atomic_store(&r->ports[port].driver_sleeping, 0);
	(void)!read(efd, &v, sizeof(v));
}

/* A driver's enqueue, then the kick if the worker sleeps (port.h). */
static void
driver_put(struct port_region *r, uint32_t port, int wfd, struct ring *ring, uint32_t idx)
{
	uint64_t one = 1;

	assert_int_equal(ring_enqueue_burst(ring, &idx, 1), 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&r->ports[port].worker_sleeping))
		assert_int_equal(write(wfd, &one, sizeof(one)), sizeof(one));
}

static void
test_worker_process(void **state)
{
	struct shm region, stats, flows;
	struct cnw_error err = { 0 };
	struct shm_size pr;
	struct worker_net_cfg n;
	struct worker_port_cfg pp;
	struct stats_segment *copy;
	struct port_region *r;
	struct pool *pool;
	int sv[2], kd[2], kw[2], status, fd;
	uint8_t frame[256];
	uint32_t len = ip4_frame(frame, "10.1.0.5", "10.1.0.9", 20), idx = 0;
	pid_t pid;

	assert_int_equal(shm_create(&region, "test-region", port_region_size(), &err), 0);
	assert_int_equal(port_region_init(region.base, region.size), 0);
	assert_int_equal(shm_create(&stats, "test-stats", stats_size(), &err), 0);
	assert_int_equal(shm_create(&flows, "test-flows", worker_flows_size(), &err), 0);
	r = region.base;
	pool = port_pool(r);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		_exit(child_run(sv[1]));
	}
	close(sv[1]);

	/* Set-up: the two memfds, a network before the start (kept for later). */
	pr.size = region.size;
	fd = dup(region.fd);
	assert_int_equal(msg_send(sv[0], MSG_WORKER_REGION, 0, 0, &pr, sizeof(pr), &fd), 0);
	pr.size = stats.size;
	fd = dup(stats.fd);
	assert_int_equal(msg_send(sv[0], MSG_WORKER_STATS, 0, 0, &pr, sizeof(pr), &fd), 0);
	pr.size = flows.size;
	fd = dup(flows.fd);
	assert_int_equal(msg_send(sv[0], MSG_WORKER_FLOWS, 0, 0, &pr, sizeof(pr), &fd), 0);
	n = net_msg(overlay_network_id("acme", "cams"), TAP, "10.1.0.0", 24, NULL, 0);
	net_uplink(&n, UP1, "192.0.2.1", 4789);
	assert_int_equal(msg_send(sv[0], MSG_WORKER_NETWORK, 0, 0, &n, sizeof(n), NULL), 0);
	assert_int_equal(msg_send(sv[0], MSG_CHILD_START, 0, 0, NULL, 0, NULL), 0);

	/* At run time: eventfds both ways for both ports, then the ports up. */
	for (int i = 0; i < 2; i++) {
		kd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		kw[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		assert_true(kd[i] >= 0 && kw[i] >= 0);
		send_kick(sv[0], i == 0 ? TAP : UP1, PORT_KICK_DRIVER, &kd[i]);
		send_kick(sv[0], i == 0 ? TAP : UP1, PORT_KICK_WORKER, &kw[i]);
	}
	pp = (struct worker_port_cfg){ .port = TAP, .kind = PORT_TAP, .state = WORKER_PORT_UP };
	assert_int_equal(msg_send(sv[0], MSG_WORKER_PORT, 0, 0, &pp, sizeof(pp), NULL), 0);
	pp = (struct worker_port_cfg){ .port = UP1, .kind = PORT_UDP, .state = WORKER_PORT_UP };
	assert_int_equal(msg_send(sv[0], MSG_WORKER_PORT, 0, 0, &pp, sizeof(pp), NULL), 0);

	/* The tap driver waits for fill buffers, receives a frame, hands it over. */
	driver_wait(r, TAP, kd[0], port_ring(r, r->ports[TAP].fill_off));
	assert_int_equal(ring_dequeue_burst(port_ring(r, r->ports[TAP].fill_off), &idx, 1), 1);
	pool_buf_reset(pool_buf(pool, idx));
	memcpy(pool_buf_frame(pool_buf(pool, idx)), frame, len);
	pool_buf(pool, idx)->len = len;
	/* Let the worker fall asleep first, so the kick is what wakes it. */
	for (int i = 0; i < 5000 && !atomic_load(&r->ports[TAP].worker_sleeping); i++)
		usleep(1000);
	assert_int_equal(atomic_load(&r->ports[TAP].worker_sleeping), 1);
	driver_put(r, TAP, kw[0], port_ring(r, r->ports[TAP].rx_off), idx);
	/* The uplink driver, asleep, is woken by the worker with the frame. */
	/* (Path probes go on the same ring, 24 bytes each: sent, and passed over.) */
	for (;;) {
		driver_wait(r, UP1, kd[1], port_ring(r, r->ports[UP1].tx_off));
		assert_int_equal(ring_dequeue_burst(port_ring(r, r->ports[UP1].tx_off), &idx, 1), 1);
		driver_put(r, UP1, kw[1], port_ring(r, r->ports[UP1].comp_off), idx);
		if (pool_buf(pool, idx)->len != OVERLAY_HDR_LEN)
			break;
	}
	assert_int_equal(pool_buf(pool, idx)->len, len + OVERLAY_HDR_LEN);

	/* The parent sees the counters in the segment, once the worker is idle. */
	copy = malloc(sizeof(*copy));
	assert_non_null(copy);
	for (int i = 0; i < 5000; i++) {
		assert_int_equal(stats_snapshot(stats.base, copy), 0);
		if (copy->ports[UP1].tx_packets == 1)
			break;
		usleep(1000);
	}
	assert_int_equal(copy->ports[TAP].rx_packets, 1);
	assert_int_equal(copy->ports[UP1].tx_packets, 1);
	assert_int_equal(copy->nnetworks, 1);

	/* Idle, it sleeps: no CPU time over half a second. */
	{
		long before = cpu_ticks(pid);

		usleep(500 * 1000);
		assert_true(cpu_ticks(pid) - before <= 1);
	}

	/* The parent goes away: the worker exits 0. */
	close(sv[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	for (int i = 0; i < 2; i++) {
		close(kd[i]);
		close(kw[i]);
	}
	free(copy);
	shm_unmap(&region);
	shm_unmap(&stats);
	shm_unmap(&flows);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_region_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tap_to_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_to_tap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip_through_overlay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_antispoofing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_from_tap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_network, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_healthy_uplink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_reclaims_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_from_drivers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_list_overwritten, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_overlay_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_tap_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wakeup_only_when_sleeping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_messages, setup, teardown),
		cmocka_unit_test(test_stats_snapshot_concurrent),
		cmocka_unit_test(test_stats_names),
		cmocka_unit_test(test_worker_process),
	};
	return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}
