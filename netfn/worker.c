/*
 * The fastpath worker (see worker.h): forwarding between tenant networks'
 * tap ports and the uplinks' udp ports through the shared region.  This
 * file is the pass; the stages it runs are in the other netfn/worker_*.c
 * (listed in netfn/worker_impl.h).
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
#include "netfn/worker_impl.h"

/* After enqueuing to a port's fill or tx ring: wake its driver if it sleeps. */
void
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
	put = ring_guard_put(&p->tx, idx, n);
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

void
worker_flush(struct worker *w)
{
	for (uint32_t i = 0; i < w->nstaged; i++)
		worker_flush_port(w, w->staged[i]);
	w->nstaged = 0;
	worker_drops_flush(w);
}

static uint32_t
worker_port_burst(struct worker *w, uint32_t port)
{
	struct worker_port *p = &w->ports[port];
	uint32_t idx[WORKER_BURST], ncomp, nrx;

	ncomp = ring_guard_get(&p->comp, idx, WORKER_BURST);
	if (ncomp > 0)
		worker_from_comp(w, port, idx, ncomp);
	nrx = ring_guard_get(&p->rx, idx, WORKER_BURST);
	if (nrx == 0)
		return ncomp;
	if (p->kind == PORT_TAP)
		worker_from_tap(w, port, idx, nrx);
	else
		worker_from_udp(w, port, idx, nrx);
	worker_flush(w);
	return ncomp + nrx;
}

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
uint64_t
worker_next_timer(const struct worker *w)
{
	uint64_t next = UINT64_MAX, t;

	if (w->npaths > 0)
		next = w->next_probe_ns;
	if (w->flows->count > 0 && w->next_age_ns < next)
		next = w->next_age_ns;
	for (uint32_t i = 0; i < w->nlisted; i++) {
		const struct worker_port *p = &w->ports[w->listed[i]];

		if (p->sched != NULL && (t = sched_next_ns(p->sched, w->now_ns)) < next)
			next = t;
	}
	t = worker_shape_next_ns(w);
	return t < next ? t : next;
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
	/* The shapers first: what they let go may join a paced uplink's queue. */
	return worker_shape_run(w) + worker_sched_run(w);
}

unsigned
worker_poll(struct worker *w)
{
	unsigned moved = 0;

	w->now_ns = cnw_now_ns();
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

		if (ring_guard_nonempty(&p->rx) || ring_guard_nonempty(&p->comp))
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
