/*
 * A tenant's live flows, read from the flow table the worker writes
 * (netfn/flow.h) and named from the ports and the store.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netfn/overlay.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "lib/util.h"

struct dp_policy_name {
	int64_t id;
	char name[TENANT_NAME_MAX + 1];
};

struct dp_policy_names {
	struct dp_policy_name items[CLS_RULES_MAX];
	uint32_t n;
};

static int
datapath_policy_name_add(const void *row, void *arg)
{
	const struct policy *p = row;
	struct dp_policy_names *pn = arg;

	if (pn->n < CLS_RULES_MAX) {
		pn->items[pn->n].id = p->id;
		snprintf(pn->items[pn->n].name, sizeof(pn->items[0].name), "%s", p->name);
		pn->n++;
	}
	return 0;
}

static const char *
datapath_policy_name(const struct dp_policy_names *pn, uint32_t id)
{
	for (uint32_t i = 0; i < pn->n; i++)
		if (pn->items[i].id == id)
			return pn->items[i].name;
	return "";
}

/* The network of a flow's slot: the tap port whose network has the slot's id. */
static const struct network *
datapath_flow_network(struct cnwd *d, const struct stats_segment *s, uint16_t slot)
{
	uint32_t id;

	if (slot >= STATS_MAX_NETWORKS || (id = s->networks[slot].id) == 0)
		return NULL;
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (d->dp.ports[i].used && d->dp.ports[i].kind == PORT_TAP &&
		    overlay_network_id(d->dp.ports[i].net.tenant, d->dp.ports[i].net.name) == id)
			return &d->dp.ports[i].net;
	return NULL;
}

static void
datapath_flow_render(struct cnwd *d, const struct flow *f, const struct network *n,
    const struct dp_policy_names *pn, uint64_t now, struct proto_flow *o)
{
	int af = f->key.ipv == 6 ? AF_INET6 : AF_INET;

	memset(o, 0, sizeof(*o));
	snprintf(o->network, sizeof(o->network), "%s", n->name);
	snprintf(o->policy, sizeof(o->policy), "%s", datapath_policy_name(pn, f->policy));
	for (int i = 0; i < 2; i++) {
		const char *u = datapath_port_uplink(d, f->port[i]);

		snprintf(o->uplinks[i], sizeof(o->uplinks[i]), "%s", u != NULL ? u : "");
	}
	inet_ntop(af, f->key.src, o->src, sizeof(o->src));
	inet_ntop(af, f->key.dst, o->dst, sizeof(o->dst));
	o->sport = f->key.sport;
	o->dport = f->key.dport;
	o->protocol = f->key.proto;
	o->dscp = f->dscp;
	o->action = f->action < POLICY_ACTION_MAX ? f->action : POLICY_ALLOW;
	o->class = f->class < POLICY_CLASS_MAX ? f->class : CLS_DEFAULT_CLASS;
	o->steering = f->steering < STEER_MAX ? f->steering : CLS_DEFAULT_STEERING;
	o->elephant = f->elephant != 0;
	o->moves = f->moves;
	o->packets = f->packets;
	o->bytes = f->bytes;
	o->age_ms = now > f->first_ns ? (int64_t)((now - f->first_ns) / 1000000) : 0;
	o->idle_ms = now > f->last_ns ? (int64_t)((now - f->last_ns) / 1000000) : 0;
}

int
datapath_flows(struct cnwd *d, const struct tenant *t, const char *network, uint32_t limit,
    int (*summary)(const struct proto_flow_summary *s, void *arg),
    int (*fn)(const struct proto_flow *f, void *arg), void *arg, struct cnw_error *err)
{
	const struct flow_table *ft = d->dp.flows;
	struct proto_flow_summary sum = { .limit = t->quotas.flows };
	const struct stats_segment *s;
	struct dp_policy_names *pn;
	struct proto_flow *o;
	uint64_t now;
	int rc = 0;

	uint32_t nslots;

	d->dp.snap_ms = 0;	/* the counts as they are now */
	if ((s = datapath_snapshot(d)) == NULL || ft == NULL ||
	    flow_table_check(ft, d->dp.flows_size) < 0)
		return cnw_err(err, CNW_EINTERNAL, "the fast path's flow table is not readable");
	/* The size as checked: the worker could change the header after the check. */
	nslots = ft->nslots;
	if (flow_table_size(nslots) == 0 || flow_table_size(nslots) > d->dp.flows_size)
		return cnw_err(err, CNW_EINTERNAL, "the fast path's flow table is not readable");
	for (uint32_t i = 0; i < s->ntenants && i < STATS_MAX_TENANTS; i++)
		if (s->tenants[i].id == (uint32_t)t->id) {
			sum.active = s->tenants[i].flows;
			sum.dropped = s->tenants[i].flow_drops;
		}
	pn = calloc(1, sizeof(*pn));
	o = malloc(sizeof(*o));
	if (pn == NULL || o == NULL) {
		free(pn);
		free(o);
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	}
	if (policy_row_each(d->store, t->id, datapath_policy_name_add, pn, err) < 0) {
		rc = -1;
		goto out;
	}
	now = cnw_now_ns();
	/* Count what will be listed first: the summary goes before the flows. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		uint64_t listed = 0;

		for (uint32_t i = 0; i < nslots && (limit == 0 || listed < limit); i++) {
			struct flow f;
			const struct network *n;

			if (flow_read(ft, i, &f) != 1 || f.tenant != (uint32_t)t->id ||
			    (n = datapath_flow_network(d, s, f.key.net)) == NULL ||
			    (network[0] != '\0' && strcmp(n->name, network) != 0))
				continue;
			listed++;
			if (pass == 1) {
				datapath_flow_render(d, &f, n, pn, now, o);
				if ((rc = fn(o, arg)) < 0)
					break;
			}
		}
		if (pass == 0) {
			sum.listed = listed;
			rc = summary(&sum, arg);
		}
	}
out:
	free(pn);
	free(o);
	return rc;
}
