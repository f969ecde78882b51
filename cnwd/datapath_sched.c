/*
 * What the scheduler needs from the parent: each tenant's quotas and
 * compiled policies, each uplink's capacity, the names of probed paths;
 * and the flows it moved, as events.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfn/overlay.h"
#include "netfn/pathmon.h"
#include "netfn/steer.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "cnwd/events.h"
#include "cnwd/inventory.h"
#include "lib/log.h"
#include "lib/util.h"

/* Remember who a probed path leads to, for the API (the worker knows only addresses). */
void
datapath_path_name(struct cnwd *d, uint32_t port, uint16_t family, const uint8_t addr[16],
    uint16_t udp_port, const char *peer, const char *endpoint)
{
	struct datapath *dp = &d->dp;
	struct dp_path_name *n = NULL;

	for (uint32_t i = 0; i < dp->npath_names; i++) {
		struct dp_path_name *x = &dp->path_names[i];

		if (x->port == port && x->family == family && x->udp_port == udp_port &&
		    memcmp(x->addr, addr, 16) == 0) {
			n = x;
			break;
		}
	}
	if (n == NULL) {
		if (dp->npath_names == DP_PATH_NAMES)
			return;
		n = &dp->path_names[dp->npath_names++];
		n->port = port;
		n->family = family;
		n->udp_port = udp_port;
		memcpy(n->addr, addr, 16);
	}
	snprintf(n->peer, sizeof(n->peer), "%s", peer);
	snprintf(n->endpoint, sizeof(n->endpoint), "%s", endpoint);
}

const struct dp_path_name *
datapath_path_name_of(const struct datapath *dp, const struct stats_path *sp)
{
	for (uint32_t i = 0; i < dp->npath_names; i++) {
		const struct dp_path_name *x = &dp->path_names[i];

		if (x->port == sp->port && x->family == sp->family && x->udp_port == sp->udp_port &&
		    memcmp(x->addr, sp->addr, 16) == 0)
			return x;
	}
	return NULL;
}

int
datapath_tenant_pushed(struct cnwd *d, int64_t id)
{
	for (size_t i = 0; i < d->dp.npushed; i++)
		if (d->dp.pushed[i] == id)
			return 1;
	return 0;
}

/* The port of the uplink called name, or NULL. */
static const struct dp_port *
datapath_port_named(const struct cnwd *d, const char *name)
{
	for (unsigned j = 0; j < PORT_MAX; j++) {
		const struct dp_port *u = &d->dp.ports[j];

		if (u->used && u->kind == PORT_UDP && strcmp(u->uplink.name, name) == 0)
			return u;
	}
	return NULL;
}

struct dp_rules {
	struct cnwd *d;
	struct worker_tenant_cfg *m;
	struct cnw_error *err;
};

/* A policy compiled into the next rule, its uplinks' names made ports. */
static int
datapath_rule_add(const void *row, void *arg)
{
	const struct policy *p = row;
	struct dp_rules *rs = arg;
	struct cls_rule *r;

	if (rs->m->nrules == CLS_RULES_MAX)
		return 0;
	r = &rs->m->rules[rs->m->nrules];
	if (policy_compile(p, r, rs->err) < 0)
		return -1;
	/* A named uplink without a port (yet) is CLS_NO_PORT: it allows nothing. */
	r->nuplinks = (uint8_t)(p->nuplinks < CLS_UPLINKS_MAX ? p->nuplinks : CLS_UPLINKS_MAX);
	for (uint32_t i = 0; i < r->nuplinks; i++) {
		const struct dp_port *u = datapath_port_named(rs->d, p->uplinks[i]);

		r->uplink_port[i] = u != NULL ? (uint8_t)(u - rs->d->dp.ports) : CLS_NO_PORT;
		r->weight[i] = (uint16_t)p->weights[i];
	}
	rs->m->nrules++;
	return 0;
}

int
datapath_tenant_push(struct cnwd *d, int64_t tenant_id)
{
	struct datapath *dp = &d->dp;
	struct cnw_error err = { 0 };
	struct worker_tenant_cfg *m;
	struct dp_rules rs;
	struct tenant t;
	int rc = -1;

	if (dp->worker == NULL || dp->worker->sock < 0 || tenant_id <= 0 || tenant_id > UINT32_MAX)
		return 0;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	rs = (struct dp_rules){ .d = d, .m = m, .err = &err };
	if (tenant_row_get_id(d->store, tenant_id, &t, &err) <= 0 ||
	    policy_row_each(d->store, tenant_id, datapath_rule_add, &rs, &err) < 0) {
		log_warnx("tenant %lld: its policies cannot be sent to the fast path: %s",
		    (long long)tenant_id, err.msg[0] ? err.msg : "no such tenant");
		goto out;
	}
	m->id = (uint32_t)tenant_id;
	m->flows_max = t.quotas.flows;
	m->bandwidth_kbps = t.quotas.bandwidth_kbps;
	if (proc_send(dp->worker, MSG_WORKER_TENANT, 0, 0, m,
	    offsetof(struct worker_tenant_cfg, rules) + m->nrules * sizeof(struct cls_rule), NULL) < 0)
		goto out;
	if (!datapath_tenant_pushed(d, tenant_id)) {
		if (dp->npushed == dp->cappushed) {
			size_t cap = dp->cappushed ? dp->cappushed * 2 : 16;
			int64_t *n = realloc(dp->pushed, cap * sizeof(*n));

			if (n == NULL)
				goto out;
			dp->pushed = n;
			dp->cappushed = cap;
		}
		dp->pushed[dp->npushed++] = tenant_id;
	}
	rc = 0;
out:
	free(m);
	return rc;
}

void
datapath_tenant_forget(struct cnwd *d, int64_t tenant_id)
{
	struct datapath *dp = &d->dp;
	struct worker_tenant_cfg m = { .id = (uint32_t)tenant_id };

	for (size_t i = 0; i < dp->npushed; i++)
		if (dp->pushed[i] == tenant_id)
			dp->pushed[i] = dp->pushed[--dp->npushed];
	if (dp->worker != NULL && dp->worker->sock >= 0)
		proc_send(dp->worker, MSG_WORKER_TENANT_DEL, 0, 0, &m,
		    offsetof(struct worker_tenant_cfg, rules), NULL);
}

/*
 * What the scheduler needs of an uplink: its capacity (the emulated
 * egress rate, else the interface's speed) and, for an emulated rate,
 * pacing at 98% of it, so the queue (and class priority) is the worker's
 * and not the emulated link's.
 */
void
datapath_worker_uplink(struct cnwd *d, struct dp_port *dpp)
{
	const struct uplink *u = &dpp->uplink;
	struct worker_uplink_cfg m = { .port = (uint32_t)(dpp - d->dp.ports) };
	int64_t speed;

	m.wire_overhead = datapath_wire_overhead(u);
	if (u->emu.profile[0] != '\0' && u->emu.egress.rate_kbps != 0) {
		m.capacity_kbps = u->emu.egress.rate_kbps;
		m.shape_kbps = u->emu.egress.rate_kbps * 98 / 100;
	} else if ((speed = inventory_iface_speed(d, u->netns, u->interface)) > 0) {
		m.capacity_kbps = (uint64_t)speed * 1000;
	}
	dpp->uplink.capacity_kbps = m.capacity_kbps;
	if (d->dp.worker == NULL || d->dp.worker->sock < 0)
		return;
	if (proc_send(d->dp.worker, MSG_WORKER_UPLINK, 0, 0, &m, sizeof(m), NULL) == 0)
		dpp->capacity_sent = 1;
}

const char *
datapath_port_uplink(const struct cnwd *d, uint32_t port)
{
	if (port >= PORT_MAX || !d->dp.ports[port].used || d->dp.ports[port].kind != PORT_UDP)
		return NULL;
	return d->dp.ports[port].uplink.name;
}

/* The worker moved a flow: an event for the tenant and the admin. */
void
datapath_flow_moved(struct cnwd *d, const struct worker_move *m)
{
	struct cnw_error err = { 0 };
	const char *from = datapath_port_uplink(d, m->from[0]);
	const char *to = datapath_port_uplink(d, m->to[0]);
	char object[256], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], d0[16], d1[16], sup[16];
	const char *network = "";
	struct tenant t;
	int af = m->key.ipv == 6 ? AF_INET6 : AF_INET;

	if (tenant_row_get_id(d->store, m->tenant, &t, &err) <= 0)
		snprintf(t.name, sizeof(t.name), "%s", "");
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (d->dp.ports[i].used && d->dp.ports[i].kind == PORT_TAP &&
		    overlay_network_id(d->dp.ports[i].net.tenant, d->dp.ports[i].net.name) ==
		    m->network)
			network = d->dp.ports[i].net.name;
	inet_ntop(af, m->key.src, src, sizeof(src));
	inet_ntop(af, m->key.dst, dst, sizeof(dst));
	snprintf(object, sizeof(object), "%s/%u/%s:%u>%s:%u", network, m->key.proto, src,
	    m->key.sport, dst, m->key.dport);
	snprintf(d0, sizeof(d0), "%u", m->delay_us[0]);
	snprintf(d1, sizeof(d1), "%u", m->delay_us[1]);
	snprintf(sup, sizeof(sup), "%u", m->suppressed);
	events_emit(d, "flow.moved", t.name, object, "network", network,
	    "from", from != NULL ? from : "", "to", to != NULL ? to : "",
	    "reason", m->reason < STEER_REASON_MAX ? steer_reason_names[m->reason] : "unknown",
	    "#from_delay_us", d0, "#to_delay_us", d1, "#unreported_before", sup, NULL);
}

uint32_t
datapath_uplink_paths(struct cnwd *d, const char *uplink, struct uplink_path *out, uint32_t max)
{
	const struct stats_segment *s = datapath_snapshot(d);
	uint32_t n = 0;

	if (s == NULL)
		return 0;
	for (uint32_t i = 0; i < s->npaths && i < STATS_MAX_PATHS && n < max; i++) {
		const struct stats_path *sp = &s->paths[i];
		const char *name = datapath_port_uplink(d, sp->port);
		const struct dp_path_name *pn;
		struct uplink_path *o = &out[n];

		if (name == NULL || strcmp(name, uplink) != 0)
			continue;
		memset(o, 0, sizeof(*o));
		if ((pn = datapath_path_name_of(&d->dp, sp)) != NULL) {
			snprintf(o->peer, sizeof(o->peer), "%s", pn->peer);
			snprintf(o->endpoint, sizeof(o->endpoint), "%s", pn->endpoint);
		}
		snprintf(o->state, sizeof(o->state), "%s", sp->state == PATH_UP ? "up" :
		    sp->state == PATH_DEAD ? "dead" : "unknown");
		o->rtt_us = sp->rtt_us;
		o->jitter_us = sp->jitter_us;
		o->loss_ppm = sp->loss_ppm;
		o->probes_sent = sp->sent;
		o->probes_answered = sp->answered;
		n++;
	}
	return n;
}
