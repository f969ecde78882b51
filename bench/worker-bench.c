/*
 * worker-bench: what one frame costs the fastpath worker (netfn/worker.c),
 * from a tenant's tap to an uplink (parse, anti-spoofing, overlay header,
 * hand-over) and from an uplink to a tap (decode, network lookup, checks,
 * hand-over), in bursts of 32, for small and large packets.
 *
 * "worker only": one thread plays both drivers and the worker; only
 * worker_poll() is timed, so the figure is the worker's own work per frame
 * with the frame headers warm in this core's cache (VPP's "clocks per
 * packet at vector size 32").  The clock is read twice per burst: ~1 ns
 * of each figure is the measuring.
 *
 * "two threads": the worker busy-polls on one CPU while a driver thread on
 * the other fills frames, hands them over and takes them back, as the tap
 * and udp drivers do.  Two figures: wall time per frame through both
 * (bounded by the slower side), and the worker's own time per frame, its
 * passes that moved frames timed, which now includes every cache line
 * that crosses from the driver's core (frame headers, ring slots, indexes).
 *
 * "10k flows": the same tap->udp path with the policy machinery working,
 * against the figure above (one flow, no tenant) of the same run: frames
 * cycle over FLOWS distinct 5-tuples (UDP source ports), every one of
 * them already in the flow table (a first pass made them, timed on its
 * own: the cost of a flow's first packet), so a packet pays a lookup in a
 * table too big for L1/L2, its tenant's bandwidth bucket, and the
 * steering re-check every 50 ms of each flow.  Two settings: the network
 * with no tenant (the flow table alone), and with a tenant of RULES rules
 * of which only the last matches (classification is per flow, so the
 * rules weigh on the first packet).  The tenant's bandwidth quota is the
 * API's largest (100 Gbit/s): the bucket is taken per packet, and never
 * runs dry at these rates.  The flow table is in a shared mapping, as the
 * daemon's is (the parent's memfd); after the run, every flow is checked
 * to carry the policy it should (the last rule's, or none).
 *
 * Path probes are off (worker_set_probing): they would put frames on the
 * uplink's tx ring that the figures would count as forwarded.
 *
 * Each figure is the median of 5 runs.  Prints; never decides pass or fail.
 *   bench/worker-bench [frames [one|two]]   (default 2^22 per run, both)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "netfn/classify.h"
#include "netfn/flow.h"
#include "netfn/overlay.h"
#include "netfn/port.h"
#include "netfn/stats.h"
#include "netfn/worker.h"
#include "lib/util.h"

#define RUNS 5
#define TAP 0
#define UPLINK 1
#define VNET 10
#define FLOWS 10000			/* distinct 5-tuples in the "10k flows" figures */
#define RULES 100			/* the tenant's rules; only the last matches */
#define SPORT_BASE 20000		/* their UDP source ports: SPORT_BASE + i */
#define DPORT 5000
#define TENANT_ID 7
#define BANDWIDTH_KBPS 100000000ULL	/* the API's largest bandwidth quota */

struct bench {
	void *base;
	size_t size;
	struct port_region *r;
	struct pool *pool;
	struct stats_segment *stats;
	struct worker *w;
	void *flows;			/* the flow table, shared memory as the parent's memfd */
	size_t flows_size;
	uint32_t net;
	uint8_t frame[2048];		/* what the driver receives */
	uint32_t len;
	uint64_t frames;
	uint32_t nflows;		/* 0: one flow; else the tap's frames cycle over this many */
	uint32_t next_flow;
	int policy;			/* the network has a tenant with RULES rules */
	double first_ns;		/* per frame, the pass that made the flows */
	atomic_int stop;
	double worker_busy;		/* seconds in passes that moved frames */
	uint64_t worker_moved;
};

static double
now_s(void)
{
	return cnw_now_ns() / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "worker-bench: %s\n", what);
	exit(1);
}

static void
pin(int cpu)
{
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static struct ring *
ring_of(struct bench *b, uint32_t port, char which)
{
	const struct port_shm *p = &b->r->ports[port];

	return port_ring(b->r, which == 'f' ? p->fill_off : which == 'r' ? p->rx_off :
	    which == 't' ? p->tx_off : p->comp_off);
}

/*
 * The tenant: RULES rules in the shapes policies take (a protocol, port
 * ranges, prefixes), none matching the bench's UDP 10.1.0.5:SPORT ->
 * 10.1.0.9:DPORT but the last, a catch-all for UDP to DPORT.
 */
static void
bench_tenant(struct bench *b)
{
	struct worker_tenant_cfg *t = calloc(1, sizeof(*t));

	if (t == NULL)
		die("out of memory");
	t->id = TENANT_ID;
	t->nrules = RULES;
	t->flows_max = 65536;		/* the API's default quota */
	t->bandwidth_kbps = BANDWIDTH_KBPS;
	for (uint32_t i = 0; i < RULES; i++) {
		struct cls_rule *r = &t->rules[i];

		r->policy = i + 1;
		r->class = (uint8_t)(i % POLICY_CLASS_MAX);
		r->steering = (uint8_t)(i % STEER_MAX);
		r->match = CLS_M_PROTO | CLS_M_DPORT;
		r->proto = 17;
		r->dport_lo = r->dport_hi = DPORT;
		if (i == RULES - 1) {
			r->class = POLICY_REALTIME;
			r->steering = STEER_SMALLEST_DELAY;
			continue;
		}
		switch (i % 4) {
		case 0:			/* TCP to the port */
			r->proto = 6;
			break;
		case 1:			/* UDP to other ports */
			r->dport_lo = (uint16_t)(6000 + 10 * i);
			r->dport_hi = (uint16_t)(r->dport_lo + 9);
			break;
		case 2:			/* from another subnet: ports match, the prefix does not */
			r->match |= CLS_M_SRC;
			r->ipv = 4;
			r->src[0] = 10;
			r->src[1] = (uint8_t)(100 + i);
			r->src_plen = 16;
			break;
		case 3:			/* to another subnet, with a DSCP */
			r->match |= CLS_M_DST | CLS_M_DSCP;
			r->ipv = 4;
			r->dst[0] = 10;
			r->dst[1] = (uint8_t)(100 + i);
			r->dst_plen = 16;
			r->dscp_mask = 1ULL << 46;
			break;
		}
	}
	if (worker_tenant_set(b->w, t) < 0)
		die("the worker refused the tenant's rules");
	free(t);
}

/* A fresh region and worker: a tap and an uplink, one network between them. */
static void
bench_setup(struct bench *b)
{
	struct worker_port_cfg pp = { .port = TAP, .kind = PORT_TAP, .state = WORKER_PORT_UP };
	struct worker_net_cfg n;

	b->size = port_region_size();
	b->base = mmap(NULL, b->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->base == MAP_FAILED || port_region_init(b->base, b->size) < 0)
		die("cannot make a region");
	b->r = b->base;
	b->pool = port_pool(b->r);
	if ((b->stats = aligned_alloc(64, (stats_size() + 63) / 64 * 64)) == NULL ||
	    (b->w = worker_new()) == NULL)
		die("out of memory");
	stats_init(b->stats);
	b->flows_size = worker_flows_size();
	b->flows = mmap(NULL, b->flows_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (b->flows == MAP_FAILED || worker_flows_attach(b->w, b->flows, b->flows_size) < 0)
		die("cannot make the flow table");
	if (worker_attach(b->w, b->r, b->size, b->stats, stats_size()) < 0)
		die("cannot attach");
	worker_set_probing(b->w, 0);
	worker_port_set(b->w, &pp);
	pp = (struct worker_port_cfg){ .port = UPLINK, .kind = PORT_UDP, .state = WORKER_PORT_UP };
	worker_port_set(b->w, &pp);
	memset(&n, 0, sizeof(n));
	b->net = n.id = overlay_network_id("bench", "net");
	n.tap_port = TAP;
	inet_pton(AF_INET, "10.1.0.0", n.subnet4);
	n.plen4 = 24;
	n.nuplinks = 1;
	n.uplinks[0].port = UPLINK;
	n.uplinks[0].family = AF_INET;
	n.uplinks[0].udp_port = htons(4789);
	inet_pton(AF_INET, "192.0.2.1", n.uplinks[0].addr);
	if (b->policy) {
		bench_tenant(b);
		n.tenant = TENANT_ID;
	}
	if (worker_network_set(b->w, &n) < 0)
		die("cannot add the network");
	worker_poll(b->w);
}

static void
bench_teardown(struct bench *b)
{
	worker_free(b->w);
	free(b->stats);
	munmap(b->base, b->size);
	munmap(b->flows, b->flows_size);
}

/* vnet + IPv4/UDP of payload bytes from 10.1.0.5; behind an overlay header if udp. */
static void
bench_frame(struct bench *b, uint32_t payload, int udp)
{
	uint8_t *p = b->frame + (udp ? OVERLAY_HDR_LEN : 0), *ip = p + VNET;
	uint32_t total = 20 + 8 + payload;
	struct overlay_hdr h = { .version = OVERLAY_VERSION, .type = OVERLAY_DATA,
		.network = b->net };

	memset(b->frame, 0, sizeof(b->frame));
	ip[0] = 0x45;
	ip[2] = (uint8_t)(total >> 8);
	ip[3] = (uint8_t)total;
	ip[8] = 64;
	ip[9] = 17;
	inet_pton(AF_INET, "10.1.0.5", ip + 12);
	inet_pton(AF_INET, "10.1.0.9", ip + 16);
	if (b->nflows > 0) {		/* ports, so that flows differ (the source port, per frame) */
		ip[22] = DPORT >> 8;
		ip[23] = DPORT & 0xff;
		ip[24] = (uint8_t)((8 + payload) >> 8);
		ip[25] = (uint8_t)(8 + payload);
	}
	if (udp)
		overlay_encode(&h, b->frame);
	b->len = (udp ? OVERLAY_HDR_LEN : 0) + VNET + total;
}

/* The receiving driver: fill buffers in, frames onto rx.  How many. */
static uint32_t
driver_receive(struct bench *b, uint32_t port)
{
	uint32_t idx[WORKER_BURST], n, i;

	n = ring_dequeue_burst(ring_of(b, port, 'f'), idx, WORKER_BURST);
	for (i = 0; i < n; i++) {
		struct pool_buf *buf = pool_buf(b->pool, idx[i]);

		pool_buf_reset(buf);
		memcpy(pool_buf_frame(buf), b->frame, b->len);
		buf->len = b->len;
		if (port == UPLINK) {	/* from the peer's endpoint, as the udp driver says */
			buf->peer.family = AF_INET;
			buf->peer.port = htons(4789);
			memset(buf->peer.addr, 0, sizeof(buf->peer.addr));
			inet_pton(AF_INET, "192.0.2.1", buf->peer.addr);
		} else if (b->nflows > 0) {
			uint8_t *sport = pool_buf_frame(buf) + VNET + 20;
			uint32_t p = SPORT_BASE + b->next_flow;

			sport[0] = (uint8_t)(p >> 8);
			sport[1] = (uint8_t)p;
			if (++b->next_flow == b->nflows)
				b->next_flow = 0;
		}
	}
	if (ring_enqueue_burst(ring_of(b, port, 'r'), idx, n) != n)
		die("rx ring full");
	return n;
}

/* The sending driver: tx frames out, onto the completion ring.  How many. */
static uint32_t
driver_send(struct bench *b, uint32_t port)
{
	uint32_t idx[WORKER_BURST], n;

	n = ring_dequeue_burst(ring_of(b, port, 't'), idx, WORKER_BURST);
	if (ring_enqueue_burst(ring_of(b, port, 'c'), idx, n) != n)
		die("completion ring full");
	return n;
}

/* ns per frame of worker_poll alone, from port `in` to port `out`. */
static double
run_single(struct bench *b, uint32_t in, uint32_t out)
{
	uint64_t done = 0;
	double busy = 0;

	while (done < b->frames) {
		double t0;

		driver_receive(b, in);
		t0 = now_s();
		worker_poll(b->w);
		busy += now_s() - t0;
		done += driver_send(b, out);
	}
	return busy * 1e9 / (double)done;
}

static void *
worker_thread(void *arg)
{
	struct bench *b = arg;

	pin(0);
	b->worker_busy = 0;
	b->worker_moved = 0;
	while (!atomic_load_explicit(&b->stop, memory_order_relaxed)) {
		double t0 = now_s();
		unsigned moved = worker_poll(b->w);

		if (moved > 0) {
			b->worker_busy += now_s() - t0;
			b->worker_moved += moved;
		}
	}
	return NULL;
}

/* ns per frame, wall time, with the worker on another CPU. */
static double
run_two(struct bench *b, uint32_t in, uint32_t out)
{
	uint64_t done = 0;
	pthread_t t;
	double t0;

	atomic_store(&b->stop, 0);
	if (pthread_create(&t, NULL, worker_thread, b) != 0)
		die("pthread_create");
	pin(1);
	t0 = now_s();
	while (done < b->frames) {
		if (ring_free_count(ring_of(b, in, 'r')) >= WORKER_BURST)
			driver_receive(b, in);
		done += driver_send(b, out);
	}
	t0 = now_s() - t0;
	atomic_store(&b->stop, 1);
	pthread_join(t, NULL);
	/* moved counts a frame twice: once in from rx, once back from completion */
	b->worker_busy = b->worker_busy * 1e9 / (double)(b->worker_moved / 2);
	return t0 * 1e9 / (double)done;
}

/* Flows in the table with the policy they should have: the last rule's, or none. */
static uint32_t
bench_classified(const struct bench *b)
{
	const struct flow_table *t = b->flows;
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->nslots; i++)
		n += atomic_load(&t->slots[i].gen) != 0 &&
		    t->slots[i].policy == (b->policy ? RULES : 0u);
	return n;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(struct bench *b, double (*run)(struct bench *, uint32_t, uint32_t), uint32_t payload,
    int from_udp, double *worker_ns)
{
	double r[RUNS], wr[RUNS];
	double fr[RUNS];
	struct stats_segment s;
	uint64_t drops = 0;

	for (int i = 0; i < RUNS; i++) {
		bench_setup(b);
		bench_frame(b, payload, from_udp);
		fr[i] = 0;
		if (b->nflows > 0) {	/* every flow's first packet, on its own */
			uint64_t frames = b->frames;

			b->next_flow = 0;
			b->frames = b->nflows;
			fr[i] = run_single(b, TAP, UPLINK);
			b->frames = frames;
		}
		r[i] = from_udp ? run(b, UPLINK, TAP) : run(b, TAP, UPLINK);
		wr[i] = b->worker_busy;
		worker_publish(b->w);
		if (stats_snapshot(b->stats, &s) < 0)
			die("no stats");
		for (int d = 0; d < STATS_DROP_MAX; d++)
			drops += s.drops[d];
		if (b->nflows > 0 && (s.flows_created != b->nflows || bench_classified(b) != b->nflows))
			printf("  (%llu flows made, %u classified as meant, not %u: the figures below "
			    "are wrong)\n", (unsigned long long)s.flows_created, bench_classified(b),
			    b->nflows);
		bench_teardown(b);
	}
	if (drops > 0)
		printf("  (%llu frames dropped: the figures below are wrong)\n",
		    (unsigned long long)drops);
	qsort(r, RUNS, sizeof(r[0]), cmp_double);
	qsort(wr, RUNS, sizeof(wr[0]), cmp_double);
	qsort(fr, RUNS, sizeof(fr[0]), cmp_double);
	*worker_ns = wr[RUNS / 2];
	b->first_ns = fr[RUNS / 2];
	return r[RUNS / 2];
}

int
main(int argc, char **argv)
{
	static struct bench b;
	static const uint32_t sizes[] = { 64 - 28, 1400 - 28 };	/* IP packets of 64, 1400 */
	double base[2][3];		/* tap->udp, one flow, no tenant: one, wall, worker */

	const char *only = argc > 2 ? argv[2] : "";

	b.frames = argc > 1 ? strtoull(argv[1], NULL, 10) : 1u << 22;
	printf("worker-bench: %llu frames per run, burst %d, median of %d runs\n",
	    (unsigned long long)b.frames, WORKER_BURST, RUNS);
	printf("%-10s %-9s %13s %25s\n", "", "", "one thread", "two threads");
	printf("%-10s %-9s %13s %12s %12s\n", "", "IP bytes", "worker", "wall", "worker");
	for (int dir = 0; dir < 2; dir++) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			double unused, wk = 0;
			double one = strcmp(only, "two") ? median(&b, run_single, sizes[i], dir,
			    &unused) : 0;
			double two = strcmp(only, "one") ? median(&b, run_two, sizes[i], dir, &wk) : 0;

			printf("%-10s %-9u %8.1f ns/f %7.1f ns/f %7.1f ns/f\n",
			    dir ? "udp->tap" : "tap->udp", sizes[i] + 28, one, two, wk);
			if (dir == 0) {
				base[i][0] = one;
				base[i][1] = two;
				base[i][2] = wk;
			}
		}
	}

	/* The same tap->udp path with FLOWS flows, without and with the tenant's rules. */
	printf("\ntap->udp with %d active flows (frames cycle over them), against tap->udp above\n"
	    "(one flow, no tenant); first packet: a flow's (lookup miss, insert, classification,\n"
	    "steering), one thread\n", FLOWS);
	printf("%-21s %-4s %10s %21s %18s %11s\n", "", "", "one thread", "two threads",
	    "x tap->udp", "first");
	printf("%-21s %-4s %10s %10s %10s %6s %5s %6s %11s\n", "", "IP", "worker", "wall", "worker",
	    "one", "wall", "worker", "packet");
	b.nflows = FLOWS;
	for (int policy = 0; policy < 2; policy++) {
		b.policy = policy;
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			double unused, one = 0, two = 0, wk = 0, first = 0;

			if (strcmp(only, "two")) {
				one = median(&b, run_single, sizes[i], 0, &unused);
				first = b.first_ns;
			}
			if (strcmp(only, "one")) {
				two = median(&b, run_two, sizes[i], 0, &wk);
				first = first > 0 ? first : b.first_ns;
			}
			printf("%-21s %-4u %5.1f ns/f %5.1f ns/f %5.1f ns/f %6.2f %5.2f %6.2f %6.0f ns/f\n",
			    policy ? "10k flows, 100 rules" : "10k flows, no tenant", sizes[i] + 28,
			    one, two, wk, base[i][0] > 0 ? one / base[i][0] : 0,
			    base[i][1] > 0 ? two / base[i][1] : 0, base[i][2] > 0 ? wk / base[i][2] : 0,
			    first);
		}
	}
	return 0;
}
