/*
 * What the fastpath worker is told, and when: each port's state and
 * eventfds, each network's uplinks and peer endpoints; everything again
 * after it starts.
 */
#include <string.h>

#include "netfn/overlay.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "cnwd/events.h"
#include "lib/addr.h"
#include "lib/log.h"

/* Why an uplink's port is down, or NULL if it is up. */
const char *
datapath_down_reason(const struct dp_port *dpp)
{
	if (!dpp->running)
		return "driver-not-running";
	if (dpp->iface_down)
		return "interface-down";
	if (dpp->kind == PORT_UDP && dpp->uplink.admin_down)
		return "admin-down";
	if (!dpp->link_up)
		return dpp->kind == PORT_UDP && dpp->uplink.flap[0] ? "flap" : "link-down";
	return NULL;
}

/*
 * Tell the worker when a port's state changes (running, its link as the
 * driver says, its interface as discovery says), and for an uplink emit
 * the event; the worker moves its traffic at once.
 */
void
datapath_port_update(struct cnwd *d, struct dp_port *dpp)
{
	const char *why = datapath_down_reason(dpp);
	int up = why == NULL;

	if (up == dpp->up)
		return;
	dpp->up = up;
	datapath_worker_port(d, (unsigned)(dpp - d->dp.ports), up ? WORKER_PORT_UP : WORKER_PORT_DOWN);
	if (dpp->kind != PORT_UDP)
		return;
	log_notice("uplink %s: %s%s%s", dpp->name, up ? "up" : "down", up ? "" : ": ",
	    up ? "" : why);
	events_emit(d, up ? "uplink.up" : "uplink.down", "", dpp->name, "interface",
	    dpp->uplink.interface, "netns", dpp->uplink.netns, "reason", up ? "" : why, NULL);
}

int
datapath_worker_setup(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	struct shm_size r = { .size = d->dp.region_size };
	struct shm_size s = { .size = d->dp.stats_size };
	struct shm_size f = { .size = d->dp.flows_size };

	return datapath_send_fd(p, MSG_WORKER_REGION, d->dp.region_fd, &r, sizeof(r)) < 0 ||
	    datapath_send_fd(p, MSG_WORKER_STATS, d->dp.stats_fd, &s, sizeof(s)) < 0 ||
	    datapath_send_fd(p, MSG_WORKER_FLOWS, d->dp.flows_fd, &f, sizeof(f)) < 0 ? -1 : 0;
}

void
datapath_worker_port(struct cnwd *d, unsigned port, uint32_t state)
{
	struct worker_port_cfg m = { .port = port, .kind = (uint32_t)d->dp.ports[port].kind,
		.state = state };

	if (d->dp.worker != NULL && d->dp.worker->sock >= 0)
		proc_send(d->dp.worker, MSG_WORKER_PORT, 0, 0, &m, sizeof(m), NULL);
}

void
datapath_worker_kicks(struct cnwd *d, unsigned port)
{
	struct dp_port *dpp = &d->dp.ports[port];
	struct port_kick kd = { .port = port, .which = PORT_KICK_DRIVER };
	struct port_kick kw = { .port = port, .which = PORT_KICK_WORKER };

	if (d->dp.worker == NULL || d->dp.worker->sock < 0)
		return;
	datapath_send_fd(d->dp.worker, MSG_WORKER_KICK, dpp->kick_driver, &kd, sizeof(kd));
	datapath_send_fd(d->dp.worker, MSG_WORKER_KICK, dpp->kick_worker, &kw, sizeof(kw));
}

static int
datapath_network_msg(struct cnwd *d, const struct dp_port *tap, struct worker_net_cfg *w)
{
	const struct network *n = &tap->net;
	struct cnw_error err = { 0 };
	struct prefix p;
	struct peer peer;

	memset(w, 0, sizeof(*w));
	w->id = overlay_network_id(n->tenant, n->name);
	w->tap_port = (uint32_t)(tap - d->dp.ports);
	w->tenant = (uint32_t)n->tenant_id;
	if (prefix_parse(n->subnet, &p) == 0) {
		memcpy(w->subnet4, p.addr, 4);
		w->plen4 = (uint8_t)p.plen;
	}
	if (n->subnet6[0] != '\0' && prefix_parse(n->subnet6, &p) == 0) {
		memcpy(w->subnet6, p.addr, 16);
		w->plen6 = (uint8_t)p.plen;
		w->has6 = 1;
	}
	if (peer_row_get_id(d->store, n->peer_id, &peer, &err) <= 0)
		return -1;
	for (uint32_t i = 0; i < n->nuplinks && w->nuplinks < WORKER_NET_UPLINKS; i++) {
		const char *ep = peer_endpoint_of(&peer, n->uplinks[i]);

		for (unsigned j = 0; ep != NULL && j < PORT_MAX; j++) {
			const struct dp_port *u = &d->dp.ports[j];

			if (!u->used || u->kind != PORT_UDP || strcmp(u->uplink.name, n->uplinks[i]) != 0)
				continue;
			w->uplinks[w->nuplinks].port = j;
			if (uplink_parse_endpoint(ep, &w->uplinks[w->nuplinks].family,
			    w->uplinks[w->nuplinks].addr, &w->uplinks[w->nuplinks].udp_port) == 0) {
				datapath_path_name(d, j, w->uplinks[w->nuplinks].family,
				    w->uplinks[w->nuplinks].addr, w->uplinks[w->nuplinks].udp_port,
				    peer.name, ep);
				w->nuplinks++;
			}
		}
	}
	return 0;
}

void
datapath_worker_network(struct cnwd *d, const struct dp_port *tap)
{
	struct worker_net_cfg w;

	if (d->dp.worker == NULL || d->dp.worker->sock < 0 || datapath_network_msg(d, tap, &w) < 0)
		return;
	if (!datapath_tenant_pushed(d, tap->net.tenant_id))
		datapath_tenant_push(d, tap->net.tenant_id);
	proc_send(d->dp.worker, MSG_WORKER_NETWORK, 0, 0, &w, sizeof(w), NULL);
}

/* After a (re)start the worker knows nothing: tell it everything. */
void
datapath_worker_started(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;

	d->dp.npushed = 0;	/* it knows no tenant */
	for (unsigned i = 0; i < PORT_MAX; i++) {
		if (!d->dp.ports[i].used)
			continue;
		datapath_worker_kicks(d, i);
		if (d->dp.ports[i].kind == PORT_UDP)
			datapath_worker_uplink(d, &d->dp.ports[i]);
		if (d->dp.ports[i].running)
			datapath_worker_port(d, i, d->dp.ports[i].up ? WORKER_PORT_UP :
			    WORKER_PORT_DOWN);
	}
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (d->dp.ports[i].used && d->dp.ports[i].kind == PORT_TAP)
			datapath_worker_network(d, &d->dp.ports[i]);
}
