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

/*
 * A metric family's header.  Every family has its HELP and TYPE, and all
 * its samples follow together: Prometheus's text format wants a family in
 * one piece (promtool check metrics says so otherwise).
 */
static void
dp_family(struct dp_text *t, const char *metric, const char *type, const char *help)
{
	dp_printf(t, "# HELP %s %s\n# TYPE %s %s\n", metric, help, metric, type);
}

static void
dp_gauge(struct dp_text *t, const char *metric, const char *labels, double v)
{
	if (labels[0] == '\0')
		dp_printf(t, "%s %.9g\n", metric, v);
	else
		dp_printf(t, "%s{%s} %.9g\n", metric, labels, v);
}

/* The paths' figures as probed, one family at a time. */
static void
datapath_metrics_paths(struct cnwd *d, const struct stats_segment *s, struct dp_text *t)
{
	static const struct {
		const char *metric, *help;
	} fam[] = {
		{ "cnw_path_up", "1 if the path (an uplink to a peer) answers its probes." },
		{ "cnw_path_rtt_seconds", "Smoothed round-trip time of a path, from probes." },
		{ "cnw_path_jitter_seconds", "Smoothed variation of the path's RTT." },
		{ "cnw_path_loss_ratio", "Probes lost over the last 64." },
	};
	char labels[200];

	for (size_t f = 0; f < ARRAY_SIZE(fam); f++) {
		dp_family(t, fam[f].metric, "gauge", fam[f].help);
		for (uint32_t i = 0; i < s->npaths && i < STATS_MAX_PATHS; i++) {
			const struct stats_path *sp = &s->paths[i];
			const char *u = datapath_port_uplink(d, sp->port);
			const struct dp_path_name *pn = datapath_path_name_of(&d->dp, sp);
			double v;

			if (u == NULL || (f > 0 && sp->state == PATH_UNKNOWN))
				continue;
			snprintf(labels, sizeof(labels), "uplink=\"%s\",peer=\"%s\"", u,
			    pn != NULL ? pn->peer : "");
			switch (f) {
			case 0: v = sp->state == PATH_UP; break;
			case 1: v = sp->rtt_us / 1e6; break;
			case 2: v = sp->jitter_us / 1e6; break;
			default: v = sp->loss_ppm / 1e6; break;
			}
			dp_gauge(t, fam[f].metric, labels, v);
		}
	}
}

/* What the scheduler sees of each uplink. */
static void
datapath_metrics_uplinks(struct cnwd *d, const struct stats_segment *s, struct dp_text *t)
{
	static const struct {
		const char *metric, *type, *help;
	} fam[] = {
		{ "cnw_uplink_flows", "gauge", "Flows steered onto an uplink now." },
		{ "cnw_uplink_load_bytes_per_second", "gauge",
		    "An uplink's tx rate, smoothed (bytes: Prometheus's base unit)." },
		{ "cnw_uplink_flow_moves_in_total", "counter", "Flows moved onto an uplink." },
		{ "cnw_uplink_redundant_copies_total", "counter",
		    "Redundant copies of frames sent on an uplink." },
	};
	char labels[200];

	for (size_t f = 0; f < ARRAY_SIZE(fam); f++) {
		dp_family(t, fam[f].metric, fam[f].type, fam[f].help);
		for (unsigned i = 0; i < PORT_MAX; i++) {
			const struct stats_sched *sc = &s->sched[i];
			const char *u = datapath_port_uplink(d, i);

			if (u == NULL)
				continue;
			snprintf(labels, sizeof(labels), "uplink=\"%s\"", u);
			switch (f) {
			case 0: dp_gauge(t, fam[f].metric, labels, sc->flows); break;
			case 1: dp_gauge(t, fam[f].metric, labels, sc->load_kbps * 125.0); break;
			case 2: dp_counter(t, fam[f].metric, labels, sc->moves_in); break;
			default: dp_counter(t, fam[f].metric, labels, sc->dup_tx); break;
			}
		}
	}
}

/*
 * The tenants' figures.  Their names come from the store, once per tenant
 * (a scrape would otherwise read every row once per family).
 */
static void
datapath_metrics_tenants(struct cnwd *d, const struct stats_segment *s, struct dp_text *t)
{
	static const struct {
		const char *metric, *type, *help;
	} fam[] = {
		{ "cnw_tenant_flows", "gauge", "A tenant's flows in the fast path now." },
		{ "cnw_tenant_flow_quota_drops_total", "counter",
		    "Packets of a tenant's new flows dropped over its flow quota." },
		{ "cnw_tenant_policed_total", "counter",
		    "A tenant's packets over its bandwidth caps." },
		{ "cnw_tenant_denied_total", "counter",
		    "A tenant's packets its policies deny." },
	};
	uint32_t n = s->ntenants < STATS_MAX_TENANTS ? s->ntenants : STATS_MAX_TENANTS;
	char (*labels)[TENANT_NAME_MAX + 16] = calloc(n ? n : 1, sizeof(*labels));

	if (labels == NULL)
		return;
	for (uint32_t i = 0; i < n; i++) {
		const struct stats_tenant *st = &s->tenants[i];
		struct cnw_error err = { 0 };
		struct tenant tn;

		if (st->id != 0 && tenant_row_get_id(d->store, st->id, &tn, &err) > 0)
			snprintf(labels[i], sizeof(labels[i]), "tenant=\"%s\"", tn.name);
	}
	for (size_t f = 0; f < ARRAY_SIZE(fam); f++) {
		dp_family(t, fam[f].metric, fam[f].type, fam[f].help);
		for (uint32_t i = 0; i < n; i++) {
			const struct stats_tenant *st = &s->tenants[i];

			if (labels[i][0] == '\0')
				continue;
			switch (f) {
			case 0: dp_gauge(t, fam[f].metric, labels[i], st->flows); break;
			case 1: dp_counter(t, fam[f].metric, labels[i], st->flow_drops); break;
			case 2: dp_counter(t, fam[f].metric, labels[i], st->policed); break;
			default: dp_counter(t, fam[f].metric, labels[i], st->denied); break;
			}
		}
	}
	free(labels);
}

/* Each port's counters: uplinks (PORT_UDP) and networks, a family each. */
static void
datapath_metrics_ports(struct cnwd *d, const struct stats_segment *s, struct dp_text *t)
{
	static const char *const what[] = {
		"rx_packets", "rx_bytes", "tx_packets", "tx_bytes", "drops",
	};
	static const char *const help[] = {
		"Packets into the fast path from", "Bytes into the fast path from",
		"Packets out of the fast path to", "Bytes out of the fast path to",
		"Frames the fast path dropped of",
	};
	char labels[160], m[64], h[96];

	for (int udp = 1; udp >= 0; udp--) {
		for (size_t f = 0; f < ARRAY_SIZE(what); f++) {
			snprintf(m, sizeof(m), "%s_%s_total", udp ? "cnw_uplink" : "cnw_network",
			    what[f]);
			snprintf(h, sizeof(h), "%s %s.", help[f], udp ? "an uplink" : "a network");
			dp_family(t, m, "counter", h);
			for (unsigned i = 0; i < PORT_MAX; i++) {
				const struct dp_port *p = &d->dp.ports[i];
				const struct stats_counters *c = &s->ports[i];
				uint64_t v;

				if (!p->used || (p->kind == PORT_UDP) != udp)
					continue;
				if (udp)
					snprintf(labels, sizeof(labels), "uplink=\"%s\"", p->uplink.name);
				else
					snprintf(labels, sizeof(labels), "tenant=\"%s\",network=\"%s\"",
					    p->net.tenant, p->net.name);
				switch (f) {
				case 0: v = c->rx_packets; break;
				case 1: v = c->rx_bytes; break;
				case 2: v = c->tx_packets; break;
				case 3: v = c->tx_bytes; break;
				default: v = c->drops; break;
				}
				dp_counter(t, m, labels, v);
			}
		}
	}
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
	dp_family(&t, "cnw_drops_total", "counter", "Frames the fast path dropped, by reason.");
	for (unsigned i = 0; i < STATS_DROP_MAX; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", stats_drop_names[i]);
		dp_counter(&t, "cnw_drops_total", labels, s->drops[i]);
	}
	datapath_metrics_ports(d, s, &t);
	dp_family(&t, "cnw_process_restarts_total", "counter", "Restarts of each cnwd child.");
	for (unsigned i = 0; i < d->procs.n; i++) {
		const struct proc *p = &d->procs.procs[i];

		if (p->role == NULL)
			continue;
		snprintf(labels, sizeof(labels), "process=\"%s\"", p->label);
		dp_counter(&t, "cnw_process_restarts_total", labels, p->restarts);
	}
	dp_family(&t, "cnw_worker_bursts_total", "counter",
	    "Fast-path worker loop turns that moved frames.");
	dp_counter(&t, "cnw_worker_bursts_total", "", s->bursts);
	datapath_metrics_paths(d, s, &t);
	datapath_metrics_uplinks(d, s, &t);
	datapath_metrics_tenants(d, s, &t);
	dp_family(&t, "cnw_flows", "gauge", "Flows in the fast path's flow table now.");
	dp_gauge(&t, "cnw_flows", "", s->flows);
	dp_family(&t, "cnw_flows_created_total", "counter", "Flows the fast path has created.");
	dp_counter(&t, "cnw_flows_created_total", "", s->flows_created);
	dp_family(&t, "cnw_flows_expired_total", "counter",
	    "Flows expired from the fast path's flow table.");
	dp_counter(&t, "cnw_flows_expired_total", "", s->flows_expired);
	dp_family(&t, "cnw_flow_moves_total", "counter",
	    "Flows the scheduler has moved from one uplink to another.");
	dp_counter(&t, "cnw_flow_moves_total", "", s->flow_moves);
	dp_family(&t, "cnw_probes_sent_total", "counter", "Path probes sent.");
	dp_counter(&t, "cnw_probes_sent_total", "", s->probes_tx);
	dp_family(&t, "cnw_probes_answered_total", "counter", "Path probes answered.");
	dp_counter(&t, "cnw_probes_answered_total", "", s->probes_rx);
	*len = t.len;
	return t.buf;
}
