/*
 * Steering in the fastpath worker: which uplink(s) a flow takes, checked
 * when a port or path changes and every WORKER_STEER_CHECK_NS, and the
 * moves reported to the parent (netfn/worker_impl.h).
 */
#include "netfn/worker_impl.h"

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

/* Tell the parent a flow moved (an event), within a budget per second. */
static void
worker_report_move(struct worker *w, const struct worker_net *nw, const struct flow *f,
    const uint8_t from[2], int why, const struct steer_path *cand, uint32_t ncand)
{
	struct worker_move m;

	if (w->report == NULL)
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
	if (w->report(w->report_arg, &m) == 0) {
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
void
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
void
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

/* A flow leaves the table (aged out, or its network is gone). */
void
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
