/*
 * The table of cnwd's message types, made from proto.def, and the checks
 * of their strings.  Adding a message is adding its struct to proto.h,
 * its row at the end of proto.def and, if it has strings, a check here.
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
#define TAIL(T, field) offsetof(T, field), sizeof(T), sizeof(((T *)0)->field[0])
#define EMPTY 0, 0, 0
#define SPAN(min, max, elem) min, max, elem
#define P PROTO_FROM_PARENT
#define A PROTO_FROM_API
#define D PROTO_FROM_DRIVER
#define W PROTO_FROM_WORKER

const struct msg_type_info proto_types[] = {
#define X(name, size, from, check) { name, #name, size, from, check },
#include "proto/proto.def"
#undef X
};

const size_t proto_ntypes = sizeof(proto_types) / sizeof(proto_types[0]);
