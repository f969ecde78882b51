/*
 * Tables of the fastpath worker: ports, networks, paths and tenants as the
 * parent sets them, and attaching to the region (netfn/worker_impl.h).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/random.h>

#include "netfn/worker_impl.h"

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
	ring_guard_reset(&p->fill, 1);
	ring_guard_reset(&p->tx, 1);
	ring_guard_reset(&p->rx, 0);
	ring_guard_reset(&p->comp, 0);
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

/* A tenant's shaper goes (no cap, a cap of 0, the tenant removed): what it holds is dropped. */
static void
worker_shape_drop(struct worker *w, struct worker_tenant *t)
{
	struct shape_frame out[WORKER_BURST];
	uint32_t n;

	if (t->shape.ring == NULL)
		return;
	while ((n = shape_drain(&t->shape, out, WORKER_BURST)) > 0) {
		w->shape_held -= n;
		for (uint32_t i = 0; i < n; i++)
			worker_drop(w, out[i].port,
			    worker_net_find(w, worker_buf(w, out[i].idx)->network),
			    STATS_DROP_policed, out[i].idx);
		worker_drops_flush(w);
	}
	shape_fini(&t->shape);
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
	/* UINT64_MAX: no cap, and no bucket to keep. */
	if (m->bandwidth_kbps != UINT64_MAX &&
	    (m->bandwidth_kbps != t->bandwidth_kbps || t->bw.last_ns == 0))
		tb_init(&t->bw, m->bandwidth_kbps, tb_default_burst(m->bandwidth_kbps), w->now_ns);
	t->bandwidth_kbps = m->bandwidth_kbps;
	/*
	 * A cap is shaped (netfn/shape.h); without one, or at 0 (nothing
	 * passes), there is no shaper.  If its memory cannot be had the cap
	 * is policed (t->bw), as before shaping: a cap still holds.
	 */
	if (m->bandwidth_kbps == 0 || m->bandwidth_kbps == UINT64_MAX)
		worker_shape_drop(w, t);
	else if (t->shape.ring != NULL)
		shape_set_rate(&t->shape, m->bandwidth_kbps, w->now_ns);
	else if (shape_init(&t->shape, WORKER_SHAPE_FRAMES, m->bandwidth_kbps, w->now_ns) < 0)
		log_warnx("tenant %u: no memory for its shaper: its bandwidth is policed", m->id);
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
		worker_shape_drop(w, t);
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
worker_set_report(struct worker *w, worker_report_fn *fn, void *arg)
{
	w->report = fn;
	w->report_arg = arg;
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
		shape_fini(&w->tenants[i].shape);	/* its frames are the pool's */
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
worker_attach_ring(struct ring_guard *q, struct port_region *r, size_t mapped,
    const uint64_t *offp, int producer)
{
	uint64_t off = WORKER_READ_ONCE(*offp);

	if (!worker_offset_ok(off, ring_memsize(PORT_RING_SIZE), mapped))
		return -1;
	ring_guard_attach(q, port_ring(r, off), PORT_RING_SIZE, producer);
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
