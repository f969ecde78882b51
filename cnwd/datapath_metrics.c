/*
 * The data path's observed state: counters of uplinks and networks for
 * the API, and everything as Prometheus text.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfn/pathmon.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "lib/util.h"

/* Observed state for the API --------------------------------------------- */

/*
 * A consistent copy of the counters, taken at most every 100 ms: a list of
 * a thousand networks reads one copy (some 50 KB), not a thousand.
 */
#define DP_SNAPSHOT_MS 100

const struct stats_segment *
datapath_snapshot(struct cnwd *d)
{
	struct datapath *dp = &d->dp;
	long long now = cnw_now_ms();

	if (dp->stats == NULL)
		return NULL;
	if (dp->snap == NULL && (dp->snap = malloc(sizeof(*dp->snap))) == NULL)
		return NULL;
	if (dp->snap_ms == 0 || now - dp->snap_ms >= DP_SNAPSHOT_MS) {
		if (stats_snapshot(dp->stats, dp->snap) < 0)
			return NULL;
		dp->snap_ms = now;
	}
	return dp->snap;
}

/* The counters of a port; -1 if there is no port or no snapshot. */
static int
datapath_port_counters(struct cnwd *d, const struct dp_port *dpp, struct stats_counters *out)
{
	const struct stats_segment *s;

	if (dpp == NULL || (s = datapath_snapshot(d)) == NULL)
		return -1;
	*out = s->ports[dpp - d->dp.ports];
	return 0;
}

int
datapath_uplink_state(struct cnwd *d, struct uplink *u)
{
	struct dp_port *dpp = datapath_port_find(&d->dp, PORT_UDP, u->id);
	struct stats_counters c;

	snprintf(u->state, sizeof(u->state), "%s", dpp && dpp->proc ?
	    proc_state_name(dpp->proc->state) : "none");
	const char *why = dpp == NULL ? "no-port" : dpp->up ? NULL : datapath_down_reason(dpp);

	u->link_up = dpp != NULL && dpp->up;
	snprintf(u->link_reason, sizeof(u->link_reason), "%s", why != NULL ? why : "");
	if (dpp != NULL)
		memcpy(u->emu_count, dpp->emu_count, sizeof(u->emu_count));
	if (datapath_port_counters(d, dpp, &c) < 0)
		return -1;
	u->capacity_kbps = dpp->uplink.capacity_kbps;
	u->flows = d->dp.snap->sched[dpp - d->dp.ports].flows;
	u->npaths = datapath_uplink_paths(d, u->name, u->paths, UPLINK_PATHS_MAX);
	u->rx_packets = c.rx_packets;
	u->rx_bytes = c.rx_bytes;
	u->tx_packets = c.tx_packets;
	u->tx_bytes = c.tx_bytes;
	u->drops = c.drops;
	return 0;
}

int
datapath_network_counters(struct cnwd *d, int64_t network_id, struct stats_counters *out)
{
	return datapath_port_counters(d, datapath_port_find(&d->dp, PORT_TAP, network_id), out);
}

/* Prometheus text ------------------------------------------------------- */

struct dp_text {
	char *buf;
	size_t len, cap;
};

static void
dp_printf(struct dp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
dp_printf(struct dp_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 8192;
		while (cap - t->len <= (size_t)n)
			cap *= 2;
		char *nb = realloc(t->buf, cap);
		if (nb == NULL)
			return;
		t->buf = nb;
		t->cap = cap;
	}
}

static void
dp_counter(struct dp_text *t, const char *metric, const char *labels, uint64_t v)
{
	if (labels[0] == '\0')
		dp_printf(t, "%s %llu\n", metric, (unsigned long long)v);
	else
		dp_printf(t, "%s{%s} %llu\n", metric, labels, (unsigned long long)v);
}

static void
dp_counters(struct dp_text *t, const char *prefix, const char *labels,
    const struct stats_counters *c)
{
	char m[96];

	snprintf(m, sizeof(m), "%s_rx_packets_total", prefix);
	dp_counter(t, m, labels, c->rx_packets);
	snprintf(m, sizeof(m), "%s_rx_bytes_total", prefix);
	dp_counter(t, m, labels, c->rx_bytes);
	snprintf(m, sizeof(m), "%s_tx_packets_total", prefix);
	dp_counter(t, m, labels, c->tx_packets);
	snprintf(m, sizeof(m), "%s_tx_bytes_total", prefix);
	dp_counter(t, m, labels, c->tx_bytes);
	snprintf(m, sizeof(m), "%s_drops_total", prefix);
	dp_counter(t, m, labels, c->drops);
}

static void
dp_gauge(struct dp_text *t, const char *metric, const char *labels, double v)
{
	dp_printf(t, "%s{%s} %.9g\n", metric, labels, v);
}

/* The scheduler's figures: paths as probed, uplinks' load, tenants' flows. */
static void
datapath_metrics_sched(struct cnwd *d, const struct stats_segment *s, struct dp_text *t)
{
	char labels[200];

	dp_printf(t, "# HELP cnw_path_rtt_seconds Smoothed round-trip time of a path "
	    "(an uplink to a peer), from probes.\n# TYPE cnw_path_rtt_seconds gauge\n"
	    "# HELP cnw_path_jitter_seconds Smoothed variation of the path's RTT.\n"
	    "# TYPE cnw_path_jitter_seconds gauge\n"
	    "# HELP cnw_path_loss_ratio Probes lost over the last 64.\n"
	    "# TYPE cnw_path_loss_ratio gauge\n"
	    "# HELP cnw_path_up 1 if the path answers its probes.\n# TYPE cnw_path_up gauge\n");
	for (uint32_t i = 0; i < s->npaths && i < STATS_MAX_PATHS; i++) {
		const struct stats_path *sp = &s->paths[i];
		const char *u = datapath_port_uplink(d, sp->port);
		const struct dp_path_name *pn = datapath_path_name_of(&d->dp, sp);

		if (u == NULL)
			continue;
		snprintf(labels, sizeof(labels), "uplink=\"%s\",peer=\"%s\"", u,
		    pn != NULL ? pn->peer : "");
		dp_gauge(t, "cnw_path_up", labels, sp->state == PATH_UP);
		if (sp->state == PATH_UNKNOWN)
			continue;
		dp_gauge(t, "cnw_path_rtt_seconds", labels, sp->rtt_us / 1e6);
		dp_gauge(t, "cnw_path_jitter_seconds", labels, sp->jitter_us / 1e6);
		dp_gauge(t, "cnw_path_loss_ratio", labels, sp->loss_ppm / 1e6);
	}
	dp_printf(t, "# HELP cnw_uplink_flows Flows steered onto an uplink now.\n"
	    "# TYPE cnw_uplink_flows gauge\n"
	    "# HELP cnw_uplink_load_bits_per_second An uplink's tx rate, smoothed.\n"
	    "# TYPE cnw_uplink_load_bits_per_second gauge\n");
	for (unsigned i = 0; i < PORT_MAX; i++) {
		const char *u = datapath_port_uplink(d, i);

		if (u == NULL)
			continue;
		snprintf(labels, sizeof(labels), "uplink=\"%s\"", u);
		dp_gauge(t, "cnw_uplink_flows", labels, s->sched[i].flows);
		dp_gauge(t, "cnw_uplink_load_bits_per_second", labels, s->sched[i].load_kbps * 1e3);
		dp_counter(t, "cnw_uplink_flow_moves_in_total", labels, s->sched[i].moves_in);
		dp_counter(t, "cnw_uplink_redundant_copies_total", labels, s->sched[i].dup_tx);
	}
	dp_printf(t, "# HELP cnw_tenant_flows A tenant's flows in the fast path now.\n"
	    "# TYPE cnw_tenant_flows gauge\n");
	for (uint32_t i = 0; i < s->ntenants && i < STATS_MAX_TENANTS; i++) {
		const struct stats_tenant *st = &s->tenants[i];
		struct cnw_error err = { 0 };
		struct tenant tn;

		if (st->id == 0 || tenant_row_get_id(d->store, st->id, &tn, &err) <= 0)
			continue;
		snprintf(labels, sizeof(labels), "tenant=\"%s\"", tn.name);
		dp_gauge(t, "cnw_tenant_flows", labels, st->flows);
		dp_counter(t, "cnw_tenant_flow_quota_drops_total", labels, st->flow_drops);
		dp_counter(t, "cnw_tenant_policed_total", labels, st->policed);
		dp_counter(t, "cnw_tenant_denied_total", labels, st->denied);
	}
	dp_counter(t, "cnw_flows", "", s->flows);
	dp_counter(t, "cnw_flows_created_total", "", s->flows_created);
	dp_counter(t, "cnw_flows_expired_total", "", s->flows_expired);
	dp_counter(t, "cnw_flow_moves_total", "", s->flow_moves);
	dp_counter(t, "cnw_probes_sent_total", "", s->probes_tx);
	dp_counter(t, "cnw_probes_answered_total", "", s->probes_rx);
}

char *
datapath_metrics(struct cnwd *d, size_t *len)
{
	const struct stats_segment *s;
	struct dp_text t = { 0 };
	char labels[160];

	/* A scrape wants the counters as they are now, not a cached copy. */
	d->dp.snap_ms = 0;
	if ((s = datapath_snapshot(d)) == NULL)
		return NULL;
	dp_printf(&t, "# HELP cnw_drops_total Frames the fast path dropped, by reason.\n"
	    "# TYPE cnw_drops_total counter\n");
	for (unsigned i = 0; i < STATS_DROP_MAX; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", stats_drop_names[i]);
		dp_counter(&t, "cnw_drops_total", labels, s->drops[i]);
	}
	dp_printf(&t, "# HELP cnw_uplink_rx_packets_total Per uplink and network: packets, "
	    "bytes and drops into and out of the fast path.\n");
	for (unsigned i = 0; i < PORT_MAX; i++) {
		const struct dp_port *p = &d->dp.ports[i];

		if (!p->used)
			continue;
		if (p->kind == PORT_UDP)
			snprintf(labels, sizeof(labels), "uplink=\"%s\"", p->uplink.name);
		else
			snprintf(labels, sizeof(labels), "tenant=\"%s\",network=\"%s\"", p->net.tenant,
			    p->net.name);
		dp_counters(&t, p->kind == PORT_UDP ? "cnw_uplink" : "cnw_network", labels,
		    &s->ports[i]);
	}
	dp_printf(&t, "# HELP cnw_process_restarts_total Restarts of each cnwd child.\n"
	    "# TYPE cnw_process_restarts_total counter\n");
	for (unsigned i = 0; i < d->procs.n; i++) {
		const struct proc *p = &d->procs.procs[i];

		if (p->role == NULL)
			continue;
		snprintf(labels, sizeof(labels), "process=\"%s\"", p->label);
		dp_counter(&t, "cnw_process_restarts_total", labels, p->restarts);
	}
	dp_counter(&t, "cnw_worker_bursts_total", "", s->bursts);
	datapath_metrics_sched(d, s, &t);
	*len = t.len;
	return t.buf;
}
