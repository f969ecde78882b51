/*
 * Uplink -> tap in the fastpath worker: the overlay decoded and checked,
 * path probes answered and measured, redundant copies filtered, the frame
 * to its network's tap (netfn/worker_impl.h).
 */
#include <sys/socket.h>

#include "netfn/worker_check.h"
#include "netfn/worker_impl.h"

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
void
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
void
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
