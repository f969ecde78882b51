/*
 * Counters of the fastpath worker: published to the stats segment
 * (netfn/worker_impl.h).
 */
#include "netfn/worker_impl.h"

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

void
worker_drops_flush(struct worker *w)
{
	worker_release(w, w->dropped, w->ndropped);
	w->ndropped = 0;
}

/* A driver handed back something it does not hold: count it, log it once. */
void
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
