/*
 * The table of cnwd's message types: sizes, senders and string checks.
 * Adding a message is adding its struct to proto.h and one row here.
 */
#include <stddef.h>
#include <string.h>

#include "proto/proto.h"

#define STR_OK(field) msg_str_ok((field), sizeof(field))

static int
proto_auth_ok(const struct proto_auth *a)
{
	return STR_OK(a->token) && STR_OK(a->peer);
}

static int
proto_request_ok(const void *p, uint32_t len)
{
	return proto_auth_ok(&((const struct proto_request *)p)->auth) ? 0 : -1;
}

static int
proto_tenant_request_ok(const void *p, uint32_t len)
{
	const struct proto_tenant_request *r = p;

	return proto_auth_ok(&r->auth) && STR_OK(r->spec.name) &&
	    STR_OK(r->spec.description) ? 0 : -1;
}

static int
proto_tenant_ok(const struct tenant *t)
{
	return STR_OK(t->name) && STR_OK(t->description);
}

static int
proto_tenant_reply_ok(const void *p, uint32_t len)
{
	const struct proto_tenant_reply *r = p;

	return proto_tenant_ok(&r->tenant) && STR_OK(r->token) ? 0 : -1;
}

static int
proto_tenants_ok(const void *p, uint32_t len)
{
	const struct tenant *t = p;

	for (uint32_t i = 0; i < len / sizeof(*t); i++)
		if (!proto_tenant_ok(&t[i]))
			return -1;
	return 0;
}

static int
proto_processes_ok(const void *p, uint32_t len)
{
	const struct proto_process *pr = p;

	for (uint32_t i = 0; i < len / sizeof(*pr); i++)
		if (!STR_OK(pr[i].role) || !STR_OK(pr[i].name) || !STR_OK(pr[i].state) ||
		    !STR_OK(pr[i].last_exit))
			return -1;
	return 0;
}

static int
proto_network_request_ok(const void *p, uint32_t len)
{
	const struct proto_network_request *r = p;

	if (!proto_auth_ok(&r->auth) || !STR_OK(r->spec.tenant) || !STR_OK(r->spec.name) ||
	    !STR_OK(r->spec.subnet) || !STR_OK(r->spec.subnet6) || !STR_OK(r->spec.peer) ||
	    r->spec.nuplinks > NETWORK_UPLINKS_MAX)
		return -1;
	for (uint32_t i = 0; i < r->spec.nuplinks; i++)
		if (!STR_OK(r->spec.uplinks[i]))
			return -1;
	return 0;
}

static int
proto_paths_ok(uint32_t n, const struct uplink_path *p)
{
	if (n > UPLINK_PATHS_MAX)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (!STR_OK(p[i].peer) || !STR_OK(p[i].endpoint) || !STR_OK(p[i].state))
			return 0;
	return 1;
}

static int
proto_uplink_ok(const struct uplink *u)
{
	return STR_OK(u->name) && STR_OK(u->interface) && STR_OK(u->netns) &&
	    STR_OK(u->driver) && STR_OK(u->address) && STR_OK(u->state) &&
	    proto_paths_ok(u->npaths, u->paths);
}

static int
proto_uplink_request_ok(const void *p, uint32_t len)
{
	const struct proto_uplink_request *r = p;

	return proto_auth_ok(&r->auth) && proto_uplink_ok(&r->spec) &&
	    STR_OK(r->change.profile) && STR_OK(r->change.flap) ? 0 : -1;
}

static int
proto_policy_ok(const struct policy *pl)
{
	if (!STR_OK(pl->tenant) || !STR_OK(pl->name) || !STR_OK(pl->src_prefix) ||
	    !STR_OK(pl->dst_prefix) || pl->nuplinks > NETWORK_UPLINKS_MAX)
		return 0;
	for (uint32_t i = 0; i < pl->nuplinks; i++)
		if (!STR_OK(pl->uplinks[i]))
			return 0;
	return 1;
}

static int
proto_policy_request_ok(const void *p, uint32_t len)
{
	const struct proto_policy_request *r = p;

	return proto_auth_ok(&r->auth) && proto_policy_ok(&r->spec.p) ? 0 : -1;
}

static int
proto_policies_ok(const void *p, uint32_t len)
{
	const struct policy *pl = p;

	for (uint32_t i = 0; i < len / sizeof(*pl); i++)
		if (!proto_policy_ok(&pl[i]))
			return -1;
	return 0;
}

static int
proto_flow_request_ok(const void *p, uint32_t len)
{
	const struct proto_flow_request *r = p;

	return proto_auth_ok(&r->auth) && STR_OK(r->tenant) && STR_OK(r->network) ? 0 : -1;
}

static int
proto_flows_ok(const void *p, uint32_t len)
{
	const struct proto_flow *f = p;

	for (uint32_t i = 0; i < len / sizeof(*f); i++)
		if (!STR_OK(f[i].network) || !STR_OK(f[i].policy) || !STR_OK(f[i].uplinks[0]) ||
		    !STR_OK(f[i].uplinks[1]) || !STR_OK(f[i].src) || !STR_OK(f[i].dst))
			return -1;
	return 0;
}

/* A tenant's rules: as many as it says, each checked again by the worker. */
static int
proto_wtenant_ok(const void *p, uint32_t len)
{
	const struct worker_tenant_cfg *t = p;

	return t->nrules <= CLS_RULES_MAX &&
	    len == offsetof(struct worker_tenant_cfg, rules) + t->nrules * sizeof(struct cls_rule) ?
	    0 : -1;
}

static int
proto_interface_request_ok(const void *p, uint32_t len)
{
	const struct proto_interface_request *r = p;

	return proto_auth_ok(&r->auth) && STR_OK(r->netns) && STR_OK(r->name) ? 0 : -1;
}

static int
proto_interfaces_ok(const void *p, uint32_t len)
{
	const struct proto_interface *x = p;

	for (uint32_t i = 0; i < len / sizeof(*x); i++)
		if (!STR_OK(x[i].iface.netns) || !STR_OK(x[i].iface.name) ||
		    !STR_OK(x[i].iface.link_kind) || !STR_OK(x[i].iface.driver) ||
		    !STR_OK(x[i].iface.operstate) || !STR_OK(x[i].iface.duplex) ||
		    !STR_OK(x[i].uplink) || x[i].iface.naddrs > DISC_ADDRS_MAX ||
		    !proto_paths_ok(x[i].npaths, x[i].paths))
			return -1;
	return 0;
}

static int
proto_drivers_ok(const void *p, uint32_t len)
{
	const struct proto_driver *x = p;

	for (uint32_t i = 0; i < len / sizeof(*x); i++)
		if (!STR_OK(x[i].name) || !STR_OK(x[i].kind) || !STR_OK(x[i].signature) ||
		    !STR_OK(x[i].key) || !STR_OK(x[i].path) || !STR_OK(x[i].detail) ||
		    !STR_OK(x[i].sha256))
			return -1;
	return 0;
}

static int
proto_principal_ok(const void *p, uint32_t len)
{
	return STR_OK(((const struct proto_principal *)p)->tenant) ? 0 : -1;
}

static int
proto_event_ok(const void *p, uint32_t len)
{
	const struct proto_event *e = p;

	if (!STR_OK(e->type) || !STR_OK(e->tenant) || !STR_OK(e->object) ||
	    e->nkv > PROTO_EVENT_KVS)
		return -1;
	for (uint32_t i = 0; i < e->nkv; i++)
		if (!STR_OK(e->kv[i].key) || !STR_OK(e->kv[i].value))
			return -1;
	return 0;
}

static int
proto_emu_ok(const void *p, uint32_t len)
{
	const struct hal_emu_cfg *e = p;
	char why[8];

	return STR_OK(e->params.profile) && emu_dir_check(&e->params.egress, why, sizeof(why)) == 0 &&
	    emu_dir_check(&e->params.ingress, why, sizeof(why)) == 0 ? 0 : -1;
}

static int
proto_plugin_ok(const void *p, uint32_t len)
{
	return STR_OK(((const struct hal_plugin_cfg *)p)->name) ? 0 : -1;
}

static int
proto_uplinks_ok(const void *p, uint32_t len)
{
	const struct uplink *u = p;

	for (uint32_t i = 0; i < len / sizeof(*u); i++)
		if (!proto_uplink_ok(&u[i]))
			return -1;
	return 0;
}

static int
proto_peer_ok(const struct peer *pr)
{
	if (!STR_OK(pr->name) || pr->nendpoints > PEER_ENDPOINTS_MAX)
		return 0;
	for (uint32_t i = 0; i < pr->nendpoints; i++)
		if (!STR_OK(pr->endpoints[i].uplink) || !STR_OK(pr->endpoints[i].endpoint))
			return 0;
	return 1;
}

static int
proto_peer_request_ok(const void *p, uint32_t len)
{
	const struct proto_peer_request *r = p;

	return proto_auth_ok(&r->auth) && proto_peer_ok(&r->spec) ? 0 : -1;
}

static int
proto_peers_ok(const void *p, uint32_t len)
{
	const struct peer *pr = p;

	for (uint32_t i = 0; i < len / sizeof(*pr); i++)
		if (!proto_peer_ok(&pr[i]))
			return -1;
	return 0;
}

static int
proto_route_request_ok(const void *p, uint32_t len)
{
	const struct proto_route_request *r = p;

	return proto_auth_ok(&r->auth) && STR_OK(r->spec.tenant) && STR_OK(r->spec.network) &&
	    STR_OK(r->spec.prefix) && STR_OK(r->spec.via) ? 0 : -1;
}

static int
proto_networks_ok(const void *p, uint32_t len)
{
	const struct proto_network *n = p;

	for (uint32_t i = 0; i < len / sizeof(*n); i++)
		if (!STR_OK(n[i].net.tenant) || !STR_OK(n[i].net.name) || !STR_OK(n[i].net.subnet) ||
		    !STR_OK(n[i].net.subnet6) || !STR_OK(n[i].net.status) ||
		    !STR_OK(n[i].net.status_detail) || !STR_OK(n[i].netns) ||
		    !STR_OK(n[i].net.peer) || n[i].net.nuplinks > NETWORK_UPLINKS_MAX)
			return -1;
	return 0;
}

static int
proto_routes_ok(const void *p, uint32_t len)
{
	const struct route *r = p;

	for (uint32_t i = 0; i < len / sizeof(*r); i++)
		if (!STR_OK(r[i].prefix) || !STR_OK(r[i].via))
			return -1;
	return 0;
}

static int
proto_driver_config_ok(const void *p, uint32_t len)
{
	const struct hal_config *c = p;

	return STR_OK(c->driver) && STR_OK(c->name) && STR_OK(c->args) ? 0 : -1;
}

static int
proto_kick_ok(const void *p, uint32_t len)
{
	const struct port_kick *k = p;

	return k->which <= PORT_KICK_WORKER ? 0 : -1;
}

static int
proto_wnetwork_ok(const void *p, uint32_t len)
{
	const struct worker_net_cfg *n = p;

	return n->nuplinks <= WORKER_NET_UPLINKS && n->plen4 <= 32 && n->plen6 <= 128 ? 0 : -1;
}

static int
proto_error_ok(const void *p, uint32_t len)
{
	const struct proto_error *e = p;

	return STR_OK(e->detail) && e->status >= 400 && e->status <= 599 ? 0 : -1;
}

static int
proto_log_ok(const void *p, uint32_t len)
{
	return STR_OK(((const struct proto_log *)p)->line) ? 0 : -1;
}

static int
proto_api_listen_ok(const void *p, uint32_t len)
{
	return STR_OK(((const struct proto_api_listen *)p)->name) ? 0 : -1;
}

static int
proto_api_tls_ok(const void *p, uint32_t len)
{
	const struct proto_api_tls *t = p;

	return (uint64_t)t->cert_len + t->key_len == len - sizeof(*t) &&
	    t->cert_len > 0 && t->key_len > 0 ? 0 : -1;
}

#define FIXED(T) sizeof(T), sizeof(T), 0
#define ARRAY(T) 0, (uint32_t)(MSG_MAX_PAYLOAD / sizeof(T) * sizeof(T)), sizeof(T)
#define P PROTO_FROM_PARENT
#define A PROTO_FROM_API
#define D PROTO_FROM_DRIVER

const struct msg_type_info proto_types[] = {
	{ MSG_SANDBOX_FILTER, "MSG_SANDBOX_FILTER", 8, MSG_MAX_PAYLOAD / 8 * 8, 8, P, NULL },
	{ MSG_CHILD_START, "MSG_CHILD_START", 0, 0, 0, P, NULL },
	{ MSG_API_LISTEN, "MSG_API_LISTEN", FIXED(struct proto_api_listen), P, proto_api_listen_ok },
	{ MSG_API_TLS, "MSG_API_TLS", sizeof(struct proto_api_tls) + 2, MSG_MAX_PAYLOAD, 0, P,
	  proto_api_tls_ok },
	{ MSG_LOG_LINE, "MSG_LOG_LINE", FIXED(struct proto_log), A | D | PROTO_FROM_WORKER,
	  proto_log_ok },
	{ MSG_TENANT_CREATE, "MSG_TENANT_CREATE", FIXED(struct proto_tenant_request), A,
	  proto_tenant_request_ok },
	{ MSG_TENANT_LIST, "MSG_TENANT_LIST", FIXED(struct proto_request), A, proto_request_ok },
	{ MSG_TENANT_GET, "MSG_TENANT_GET", FIXED(struct proto_tenant_request), A,
	  proto_tenant_request_ok },
	{ MSG_TENANT_UPDATE, "MSG_TENANT_UPDATE", FIXED(struct proto_tenant_request), A,
	  proto_tenant_request_ok },
	{ MSG_TENANT_DELETE, "MSG_TENANT_DELETE", FIXED(struct proto_tenant_request), A,
	  proto_tenant_request_ok },
	{ MSG_PROCESS_LIST, "MSG_PROCESS_LIST", FIXED(struct proto_request), A, proto_request_ok },
	{ MSG_NETWORK_CREATE, "MSG_NETWORK_CREATE", FIXED(struct proto_network_request), A,
	  proto_network_request_ok },
	{ MSG_NETWORK_LIST, "MSG_NETWORK_LIST", FIXED(struct proto_network_request), A,
	  proto_network_request_ok },
	{ MSG_NETWORK_GET, "MSG_NETWORK_GET", FIXED(struct proto_network_request), A,
	  proto_network_request_ok },
	{ MSG_NETWORK_DELETE, "MSG_NETWORK_DELETE", FIXED(struct proto_network_request), A,
	  proto_network_request_ok },
	{ MSG_ROUTE_ADD, "MSG_ROUTE_ADD", FIXED(struct proto_route_request), A,
	  proto_route_request_ok },
	{ MSG_ROUTE_LIST, "MSG_ROUTE_LIST", FIXED(struct proto_route_request), A,
	  proto_route_request_ok },
	{ MSG_ROUTE_DELETE, "MSG_ROUTE_DELETE", FIXED(struct proto_route_request), A,
	  proto_route_request_ok },
	{ MSG_REPLY_NETWORK, "MSG_REPLY_NETWORK", FIXED(struct proto_network), P, proto_networks_ok },
	{ MSG_REPLY_NETWORKS, "MSG_REPLY_NETWORKS", ARRAY(struct proto_network), P,
	  proto_networks_ok },
	{ MSG_REPLY_ROUTE, "MSG_REPLY_ROUTE", FIXED(struct route), P, proto_routes_ok },
	{ MSG_REPLY_ROUTES, "MSG_REPLY_ROUTES", ARRAY(struct route), P, proto_routes_ok },
	{ MSG_REPLY_GENERATION, "MSG_REPLY_GENERATION", FIXED(struct proto_generation), P, NULL },
	{ MSG_UPLINK_CREATE, "MSG_UPLINK_CREATE", FIXED(struct proto_uplink_request), A,
	  proto_uplink_request_ok },
	{ MSG_UPLINK_LIST, "MSG_UPLINK_LIST", FIXED(struct proto_uplink_request), A,
	  proto_uplink_request_ok },
	{ MSG_UPLINK_GET, "MSG_UPLINK_GET", FIXED(struct proto_uplink_request), A,
	  proto_uplink_request_ok },
	{ MSG_UPLINK_DELETE, "MSG_UPLINK_DELETE", FIXED(struct proto_uplink_request), A,
	  proto_uplink_request_ok },
	{ MSG_PEER_CREATE, "MSG_PEER_CREATE", FIXED(struct proto_peer_request), A,
	  proto_peer_request_ok },
	{ MSG_PEER_LIST, "MSG_PEER_LIST", FIXED(struct proto_peer_request), A,
	  proto_peer_request_ok },
	{ MSG_PEER_GET, "MSG_PEER_GET", FIXED(struct proto_peer_request), A, proto_peer_request_ok },
	{ MSG_PEER_DELETE, "MSG_PEER_DELETE", FIXED(struct proto_peer_request), A,
	  proto_peer_request_ok },
	{ MSG_METRICS_GET, "MSG_METRICS_GET", FIXED(struct proto_request), A, proto_request_ok },
	{ MSG_REPLY_UPLINK, "MSG_REPLY_UPLINK", FIXED(struct uplink), P, proto_uplinks_ok },
	{ MSG_REPLY_UPLINKS, "MSG_REPLY_UPLINKS", ARRAY(struct uplink), P, proto_uplinks_ok },
	{ MSG_REPLY_PEER, "MSG_REPLY_PEER", FIXED(struct peer), P, proto_peers_ok },
	{ MSG_REPLY_PEERS, "MSG_REPLY_PEERS", ARRAY(struct peer), P, proto_peers_ok },
	{ MSG_REPLY_TEXT, "MSG_REPLY_TEXT", 0, MSG_MAX_PAYLOAD, 0, P, NULL },
	{ MSG_DRIVER_CONFIG, "MSG_DRIVER_CONFIG", FIXED(struct hal_config), P,
	  proto_driver_config_ok },
	{ MSG_DRIVER_DEVICE, "MSG_DRIVER_DEVICE", 0, 0, 0, P, NULL },
	{ MSG_DRIVER_REGION, "MSG_DRIVER_REGION", FIXED(struct shm_size), P, NULL },
	{ MSG_DRIVER_KICK, "MSG_DRIVER_KICK", FIXED(struct port_kick), P, proto_kick_ok },
	{ MSG_DRIVER_LINK, "MSG_DRIVER_LINK", FIXED(struct hal_link_msg), D, NULL },
	{ MSG_WORKER_REGION, "MSG_WORKER_REGION", FIXED(struct shm_size), P, NULL },
	{ MSG_WORKER_STATS, "MSG_WORKER_STATS", FIXED(struct shm_size), P, NULL },
	{ MSG_WORKER_KICK, "MSG_WORKER_KICK", FIXED(struct port_kick), P, proto_kick_ok },
	{ MSG_WORKER_PORT, "MSG_WORKER_PORT", FIXED(struct worker_port_cfg), P, NULL },
	{ MSG_WORKER_NETWORK, "MSG_WORKER_NETWORK", FIXED(struct worker_net_cfg), P,
	  proto_wnetwork_ok },
	{ MSG_WORKER_NETWORK_DEL, "MSG_WORKER_NETWORK_DEL", FIXED(struct worker_net_cfg), P,
	  proto_wnetwork_ok },
	{ MSG_REPLY_ERROR, "MSG_REPLY_ERROR", FIXED(struct proto_error), P, proto_error_ok },
	{ MSG_REPLY_TENANT, "MSG_REPLY_TENANT", FIXED(struct proto_tenant_reply), P,
	  proto_tenant_reply_ok },
	{ MSG_REPLY_TENANTS, "MSG_REPLY_TENANTS", ARRAY(struct tenant), P, proto_tenants_ok },
	{ MSG_REPLY_PROCESSES, "MSG_REPLY_PROCESSES", ARRAY(struct proto_process), P,
	  proto_processes_ok },
	{ MSG_REPLY_DONE, "MSG_REPLY_DONE", 0, 0, 0, P, NULL },
	{ MSG_UPLINK_UPDATE, "MSG_UPLINK_UPDATE", FIXED(struct proto_uplink_request), A,
	  proto_uplink_request_ok },
	{ MSG_INTERFACE_LIST, "MSG_INTERFACE_LIST", FIXED(struct proto_interface_request), A,
	  proto_interface_request_ok },
	{ MSG_INTERFACE_GET, "MSG_INTERFACE_GET", FIXED(struct proto_interface_request), A,
	  proto_interface_request_ok },
	{ MSG_DRIVER_LIST, "MSG_DRIVER_LIST", FIXED(struct proto_request), A, proto_request_ok },
	{ MSG_EVENTS_OPEN, "MSG_EVENTS_OPEN", FIXED(struct proto_request), A, proto_request_ok },
	{ MSG_REPLY_INTERFACE, "MSG_REPLY_INTERFACE", FIXED(struct proto_interface), P,
	  proto_interfaces_ok },
	{ MSG_REPLY_INTERFACES, "MSG_REPLY_INTERFACES", ARRAY(struct proto_interface), P,
	  proto_interfaces_ok },
	{ MSG_REPLY_DRIVERS, "MSG_REPLY_DRIVERS", ARRAY(struct proto_driver), P, proto_drivers_ok },
	{ MSG_REPLY_PRINCIPAL, "MSG_REPLY_PRINCIPAL", FIXED(struct proto_principal), P,
	  proto_principal_ok },
	{ MSG_API_EVENTS, "MSG_API_EVENTS", 0, 0, 0, P, NULL },
	{ MSG_EVENT, "MSG_EVENT", FIXED(struct proto_event), P, proto_event_ok },
	{ MSG_DRIVER_EMU, "MSG_DRIVER_EMU", FIXED(struct hal_emu_cfg), P, proto_emu_ok },
	{ MSG_DRIVER_PLUGIN, "MSG_DRIVER_PLUGIN", FIXED(struct hal_plugin_cfg), P, proto_plugin_ok },
	{ MSG_DRIVER_EMU_STATS, "MSG_DRIVER_EMU_STATS", FIXED(struct hal_emu_stats), D, NULL },
	{ MSG_POLICY_CREATE, "MSG_POLICY_CREATE", FIXED(struct proto_policy_request), A,
	  proto_policy_request_ok },
	{ MSG_POLICY_LIST, "MSG_POLICY_LIST", FIXED(struct proto_policy_request), A,
	  proto_policy_request_ok },
	{ MSG_POLICY_GET, "MSG_POLICY_GET", FIXED(struct proto_policy_request), A,
	  proto_policy_request_ok },
	{ MSG_POLICY_DELETE, "MSG_POLICY_DELETE", FIXED(struct proto_policy_request), A,
	  proto_policy_request_ok },
	{ MSG_FLOW_LIST, "MSG_FLOW_LIST", FIXED(struct proto_flow_request), A,
	  proto_flow_request_ok },
	{ MSG_REPLY_POLICY, "MSG_REPLY_POLICY", FIXED(struct policy), P, proto_policies_ok },
	{ MSG_REPLY_POLICIES, "MSG_REPLY_POLICIES", ARRAY(struct policy), P, proto_policies_ok },
	{ MSG_REPLY_FLOW_SUMMARY, "MSG_REPLY_FLOW_SUMMARY", FIXED(struct proto_flow_summary), P,
	  NULL },
	{ MSG_REPLY_FLOWS, "MSG_REPLY_FLOWS", ARRAY(struct proto_flow), P, proto_flows_ok },
	{ MSG_WORKER_FLOWS, "MSG_WORKER_FLOWS", FIXED(struct shm_size), P, NULL },
	{ MSG_WORKER_TENANT, "MSG_WORKER_TENANT", offsetof(struct worker_tenant_cfg, rules),
	  sizeof(struct worker_tenant_cfg), sizeof(struct cls_rule), P, proto_wtenant_ok },
	{ MSG_WORKER_TENANT_DEL, "MSG_WORKER_TENANT_DEL", offsetof(struct worker_tenant_cfg, rules),
	  sizeof(struct worker_tenant_cfg), sizeof(struct cls_rule), P, proto_wtenant_ok },
	{ MSG_WORKER_UPLINK, "MSG_WORKER_UPLINK", FIXED(struct worker_uplink_cfg), P, NULL },
	{ MSG_WORKER_MOVE, "MSG_WORKER_MOVE", FIXED(struct worker_move), PROTO_FROM_WORKER,
	  NULL },
};

const size_t proto_ntypes = sizeof(proto_types) / sizeof(proto_types[0]);
