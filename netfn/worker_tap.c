/*
 * Tap -> uplink in the fastpath worker: a frame from a tenant network's
 * tap, its flow, policing, the overlay header, the uplink
 * (netfn/worker_impl.h).
 */
#include "netfn/worker_check.h"
#include "netfn/worker_impl.h"

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
worker_send(struct worker *w, struct worker_net *nw, uint32_t cls, uint32_t tenant,
    uint32_t port, uint32_t idx)
{
	struct worker_port *p = &w->ports[port];
	uint32_t len = worker_buf(w, idx)->len;

	if (p->sched == NULL) {
		worker_stage(w, port, idx, len, (int)(nw - w->nets));
		return STATS_DROP_MAX;
	}
	len += p->wire_overhead;
	while (sched_enqueue(p->sched, cls, tenant, idx, len) < 0) {
		uint32_t victim;

		/* Room made by a frame of a lower class or a longer lane: that one is the drop. */
		if (!sched_evict(p->sched, cls, tenant, len, &victim))
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

/*
 * Police a packet: its rule's rate cap, then its tenant's bandwidth when
 * it is not shaped (0, or its shaper could not be made); 1 if it may pass.
 */
static int
worker_police(struct worker *w, struct worker_tenant *t, const struct flow *f,
    const struct cls_rule *r, uint32_t bytes)
{
	if (r != NULL && r->rate_kbps != 0 && t->caps != NULL &&
	    !tb_take(&t->caps[f->rule], bytes, w->now_ns))
		return 0;
	/* Quotas have no magic zero: 0 allows nothing (docs/decisions.md). */
	if (t != NULL && t->bandwidth_kbps != UINT64_MAX && t->shape.ring == NULL &&
	    (t->bandwidth_kbps == 0 || !tb_take(&t->bw, bytes, w->now_ns)))
		return 0;
	return 1;
}

/*
 * Hand a frame to its uplink through its tenant's shaper, if it has one:
 * sent now if the rate allows and nothing waits, else held (marked CE
 * past half the queue if ECN-capable), dropped as policed if the queue
 * is full.  wire: its IP bytes on the wire (shape_wire_len).
 */
static enum stats_drop
worker_shape_send(struct worker *w, struct worker_net *nw, struct worker_tenant *t,
    const struct flow *fl, uint32_t port, uint32_t idx, uint32_t wire)
{
	struct shape_frame sf = { .idx = idx, .port = port, .len = wire, .cls = fl->class };
	struct pool_buf *b;
	int mark;

	if (t == NULL || t->shape.ring == NULL)
		return worker_send(w, nw, fl->class, fl->tenant, port, idx);
	if (t->shape.count > 0 && w->shape_held >= WORKER_SHAPE_HELD_MAX) {
		worker_tenant_ctr(w, t)->policed++;
		return STATS_DROP_policed;
	}
	switch (shape_offer(&t->shape, &sf, w->now_ns, &mark)) {
	case SHAPE_SEND:
		return worker_send(w, nw, fl->class, fl->tenant, port, idx);
	case SHAPE_FULL:
		worker_tenant_ctr(w, t)->policed++;
		return STATS_DROP_policed;
	case SHAPE_HELD:
		break;
	}
	if (mark) {
		b = worker_buf(w, idx);
		shape_ecn_mark(b->data + b->off + OVERLAY_HDR_LEN + WORKER_VNET_LEN,
		    b->len - OVERLAY_HDR_LEN - WORKER_VNET_LEN);
	}
	w->shape_held++;
	w->owner[idx] = OWN_WORKER;
	return STATS_DROP_MAX;
}

/* The frames the tenants' shapers let go now, to their uplinks; returns how many. */
uint32_t
worker_shape_run(struct worker *w)
{
	struct shape_frame out[WORKER_BURST];
	uint32_t moved = 0, n;

	for (uint32_t i = 0; i < w->ntenants; i++) {
		struct worker_tenant *t = &w->tenants[i];

		if (t->shape.count == 0)
			continue;
		n = shape_release(&t->shape, w->now_ns, out, WORKER_BURST);
		w->shape_held -= n;
		for (uint32_t j = 0; j < n; j++) {
			struct pool_buf *b = worker_buf(w, out[j].idx);
			int net = worker_net_find(w, b->network);
			struct worker_port *p = &w->ports[out[j].port];
			enum stats_drop why = STATS_DROP_no_uplink;

			if (p->nstaged == WORKER_STAGED_MAX)
				worker_flush(w);
			/* Its network or its uplink may have gone while it waited. */
			if (net >= 0 && p->kind == PORT_UDP && p->up)
				why = worker_send(w, &w->nets[net], out[j].cls, t->id, out[j].port,
				    out[j].idx);
			if (why != STATS_DROP_MAX)
				worker_drop(w, out[j].port, net, why, out[j].idx);
		}
		moved += n;
	}
	if (moved > 0)
		worker_flush(w);
	return moved;
}

/* When a tenant's shaper next lets a frame go: UINT64_MAX if none holds any. */
uint64_t
worker_shape_next_ns(const struct worker *w)
{
	uint64_t next = UINT64_MAX, t;

	for (uint32_t i = 0; i < w->ntenants; i++)
		if (w->tenants[i].shape.count > 0 &&
		    (t = shape_next_ns(&w->tenants[i].shape, w->now_ns)) < next)
			next = t;
	return next;
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
	uint32_t ipl, idx2, wire;
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
	/* Only a shaped tenant's frames need their wire size (GSO frames as their segments). */
	wire = t != NULL && t->shape.ring != NULL ? shape_wire_len(f->p, ipl) : 0;
	if (fl->port[1] == FLOW_NO_PORT) {
		worker_encap(w, nw, k, worker_buf(w, idx), f->off, f->len, OVERLAY_DATA, 0);
		return worker_shape_send(w, nw, t, fl, fl->port[0], idx, wire);
	}
	/* Redundant: the same redundancy sequence on both copies, one per uplink. */
	if (worker_copy(w, f->off, f->len, f->p, &idx2) == 0) {
		int k2 = worker_uplink_k(nw, fl->port[1]);

		if (k2 >= 0) {
			worker_encap(w, nw, k2, worker_buf(w, idx2), f->off, f->len, OVERLAY_DATA_DUP,
			    nw->dup_seq);
			why = worker_shape_send(w, nw, t, fl, fl->port[1], idx2, wire);
			if (why != STATS_DROP_MAX)
				worker_drop(w, fl->port[1], (int)(nw - w->nets), why, idx2);
			else
				w->acc.sched[fl->port[1]].dup_tx++;
		} else {
			worker_release(w, &idx2, 1);
		}
	}
	worker_encap(w, nw, k, worker_buf(w, idx), f->off, f->len, OVERLAY_DATA_DUP, nw->dup_seq++);
	return worker_shape_send(w, nw, t, fl, fl->port[0], idx, wire);
}

/*
 * A burst from a tap port: all its frames belong to one network; each
 * leaves by its own flow's uplink(s).
 * Costs 20 ns/frame at burst 32, 51 clocks, flush and refill included
 * (bench/worker-bench, "tap->udp", one thread, 64-byte packets), before
 * flows; see bench/worker-bench for the cost with the flow table.
 */
void
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
