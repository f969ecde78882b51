/*
 * The nouns the API manages, one row each (control.h): what the store and
 * the kernel do for a create, a list, a get or a delete of it.  The
 * requests, replies and batches around them are control.c's; what no
 * other noun has (a tenant's token and update, an uplink's update and
 * plug-in) is here too, as handlers of their own.
 */
#include <stdio.h>
#include <string.h>

#include "cnwd/control.h"
#include "cnwd/events.h"
#include "cnwd/reconcile.h"
#include "hal/sign.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/util.h"

#include <openssl/crypto.h>

enum { CONTROL_TENANTS, CONTROL_NETWORKS, CONTROL_ROUTES, CONTROL_UPLINKS, CONTROL_PEERS,
	CONTROL_POLICIES };

/* Tenants ---------------------------------------------------------------- */

static const struct proto_tenant_request *
control_tenant_req(struct control_call *c)
{
	return (const struct proto_tenant_request *)c->m->data;
}

/* The reply to create is the only one with the token. */
static int
control_tenant_create(struct control_call *c)
{
	struct proto_tenant_reply r;

	memset(&r, 0, sizeof(r));
	if (tenant_create(c->d->store, &c->who, c->actor, &control_tenant_req(c)->spec, &r.tenant,
	    r.token, &c->err) < 0) {
		OPENSSL_cleanse(r.token, sizeof(r.token));
		return -1;
	}
	control_reply(c, MSG_REPLY_TENANT, 0, &r, sizeof(r));	/* a failed send restarted the API */
	OPENSSL_cleanse(r.token, sizeof(r.token));
	log_info("tenant %s created by %s", r.tenant.name, c->actor);
	return 0;
}

static int
control_tenant_update(struct control_call *c)
{
	struct tenant t;

	if (tenant_update(c->d->store, &c->who, c->actor, &control_tenant_req(c)->spec, &t,
	    &c->err) < 0)
		return -1;
	datapath_tenant_push(c->d, t.id);	/* its quotas: flows, bandwidth */
	control_reply_one(c, &control_nouns[CONTROL_TENANTS], &t);
	log_info("tenant %s changed by %s", t.name, c->actor);
	return 0;
}

static int
control_tenant_get(struct control_call *c, void *out)
{
	return tenant_get(c->d->store, &c->who, control_tenant_req(c)->spec.name, out, &c->err);
}

static int
control_tenant_list(struct control_call *c, row_each_fn fn, void *arg)
{
	return tenant_list(c->d->store, &c->who, fn, arg, &c->err);
}

struct control_netlist {
	struct network *items;
	size_t n, cap;
};

static int
control_network_collect(const void *row, void *arg)
{
	struct control_netlist *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct network *m = realloc(l->items, cap * sizeof(*m));

		if (m == NULL)
			return -1;
		l->items = m;
		l->cap = cap;
	}
	l->items[l->n++] = *(const struct network *)row;
	return 0;
}

static int
control_tenant_delete(struct control_call *c)
{
	const struct proto_tenant_request *r = control_tenant_req(c);
	struct control_netlist nets = { 0 };
	struct cnw_error err = { 0 };
	struct tenant t;

	/* Which namespaces go with it; read before the rows are gone. */
	if (tenant_get(c->d->store, &c->who, r->spec.name, &t, &c->err) < 0 ||
	    network_list(c->d->store, &c->who, r->spec.name, control_network_collect, &nets,
	    &c->err) < 0 ||
	    tenant_delete(c->d->store, &c->who, c->actor, r->spec.name, r->cascade != 0,
	    &c->err) < 0) {
		free(nets.items);
		return -1;
	}
	datapath_tenant_forget(c->d, t.id);
	for (size_t i = 0; i < nets.n; i++)
		reconcile_forget(c->d, nets.items[i].id);
	datapath_sync(c->d);
	for (size_t i = 0; i < nets.n; i++)
		if (network_remove(c->d->cfg.instance, &nets.items[i], &err) < 0)
			log_warnx("network %s.%s: %s (the reconcile loop will retry)",
			    nets.items[i].tenant, nets.items[i].name, err.msg);
	free(nets.items);
	log_info("tenant %s deleted by %s", r->spec.name, c->actor);
	return 0;
}

/* Networks and routes ---------------------------------------------------- */

static const struct network_spec *
control_network_spec(struct control_call *c)
{
	return &((const struct proto_network_request *)c->m->data)->spec;
}

static const struct route_spec *
control_route_spec(struct control_call *c)
{
	return &((const struct proto_route_request *)c->m->data)->spec;
}

/* A network as the API shows it: its namespace, its port's counters. */
static void
control_network_view(struct control_call *c, const void *row, void *out)
{
	const struct network *n = row;
	struct proto_network *v = out;
	struct stats_counters s;

	v->net = *n;
	network_netns_name(c->d->cfg.instance, n->tenant, n->name, v->netns, sizeof(v->netns));
	if (datapath_network_counters(c->d, n->id, &s) == 0) {
		v->has_counters = 1;
		v->rx_packets = s.rx_packets;
		v->rx_bytes = s.rx_bytes;
		v->tx_packets = s.tx_packets;
		v->tx_bytes = s.tx_bytes;
		v->drops = s.drops;
	}
}

/* Take back a network the kernel would not build: the request changes nothing. */
static int
control_undo_network_tx(struct store *st, void *arg, struct cnw_error *err)
{
	const struct network *n = arg;

	if (network_row_delete(st, n->id, err) < 0)
		return -1;
	return store_audit(st, "cnwd", "network.undo", n->name, n->tenant, err);
}

static int
control_network_create(struct control_call *c, void *out)
{
	const struct network_spec *s = control_network_spec(c);
	struct network *n = out;
	struct cnw_error undo = { 0 };
	char netns[NETWORK_NETNS_MAX];

	if (network_netns_name(c->d->cfg.instance, s->tenant, s->name, netns, sizeof(netns)) < 0)
		return cnw_err(&c->err, CNW_EINVAL, "the namespace name would be too long");
	if (network_create(c->d->store, &c->who, c->actor, s, n, &c->err) < 0)
		return -1;
	if (reconcile_network(c->d, n->id, n, &c->err) < 0) {
		log_warnx("network %s.%s: %s; taking it back", n->tenant, n->name, c->err.msg);
		if (store_tx(c->d->store, control_undo_network_tx, n, &undo) < 0)
			log_warnx("network %s.%s: %s", n->tenant, n->name, undo.msg);
		reconcile_forget(c->d, n->id);
		network_remove(c->d->cfg.instance, n, &undo);
		return cnw_err(&c->err, CNW_EINTERNAL, "the kernel refused network %s: %s", n->name,
		    n->status_detail);
	}
	log_info("network %s.%s created by %s", n->tenant, n->name, c->actor);
	if (n->peer_id != 0)	/* only a network with a peer has a port */
		datapath_sync(c->d);
	events_emit(c->d, "network.created", n->tenant, n->name, "netns", netns, "subnet",
	    n->subnet, NULL);
	return 0;
}

static int
control_network_get(struct control_call *c, void *out)
{
	const struct network_spec *s = control_network_spec(c);

	return network_get(c->d->store, &c->who, s->tenant, s->name, out, &c->err);
}

static int
control_network_list(struct control_call *c, row_each_fn fn, void *arg)
{
	return network_list(c->d->store, &c->who, control_network_spec(c)->tenant, fn, arg,
	    &c->err);
}

static int
control_network_delete(struct control_call *c)
{
	const struct network_spec *s = control_network_spec(c);
	struct network n;
	struct cnw_error err = { 0 };

	if (network_delete(c->d->store, &c->who, c->actor, s->tenant, s->name, &n, &c->err) < 0)
		return -1;
	reconcile_forget(c->d, n.id);
	if (n.peer_id != 0)
		datapath_sync(c->d);	/* its driver goes before its device */
	if (network_remove(c->d->cfg.instance, &n, &err) < 0)
		log_warnx("network %s.%s: %s (the reconcile loop will retry)", n.tenant, n.name,
		    err.msg);
	log_info("network %s.%s deleted by %s", n.tenant, n.name, c->actor);
	events_emit(c->d, "network.deleted", n.tenant, n.name, NULL);
	return 0;
}

static int
control_route_undo_tx(struct store *st, void *arg, struct cnw_error *err)
{
	const struct route *r = arg;

	if (route_row_delete(st, r->id, err) < 0)
		return -1;
	return store_audit(st, "cnwd", "route.undo", r->prefix, "", err);
}

static int
control_route_add(struct control_call *c, void *out)
{
	struct network n;
	struct route *r = out;
	struct cnw_error undo = { 0 };
	char why[CNW_ERRMSG_MAX];

	if (route_add(c->d->store, &c->who, c->actor, control_route_spec(c), &n, r, &c->err) < 0)
		return -1;
	if (reconcile_network(c->d, n.id, &n, &c->err) == 0)
		return 0;
	snprintf(why, sizeof(why), "%s", c->err.msg);
	if (store_tx(c->d->store, control_route_undo_tx, r, &undo) < 0)
		log_warnx("route %s: %s", r->prefix, undo.msg);
	reconcile_network(c->d, n.id, &n, &undo);
	return cnw_err(&c->err, CNW_EINTERNAL, "the kernel refused route %s: %s", r->prefix, why);
}

static int
control_route_list(struct control_call *c, row_each_fn fn, void *arg)
{
	const struct route_spec *s = control_route_spec(c);

	return route_list(c->d->store, &c->who, s->tenant, s->network, fn, arg, &c->err);
}

static int
control_route_delete(struct control_call *c)
{
	struct network n;
	struct cnw_error err = { 0 };

	if (route_delete(c->d->store, &c->who, c->actor, control_route_spec(c), &n,
	    &c->err) < 0)
		return -1;
	if (reconcile_network(c->d, n.id, &n, &err) < 0)
		log_warnx("network %s.%s: %s", n.tenant, n.name, err.msg);
	return 0;
}

/* Uplinks and peers -------------------------------------------------------- */

static const struct proto_uplink_request *
control_uplink_req(struct control_call *c)
{
	return (const struct proto_uplink_request *)c->m->data;
}

static const struct peer *
control_peer_spec(struct control_call *c)
{
	return &((const struct proto_peer_request *)c->m->data)->spec;
}

/* An uplink as the API shows it: the row and what the fast path says of it. */
static void
control_uplink_view(struct control_call *c, const void *row, void *out)
{
	struct uplink *u = out;

	*u = *(const struct uplink *)row;
	datapath_uplink_state(c->d, u);
}

/*
 * A plug-in named by an uplink: it must verify now (400 with the reason
 * otherwise; it is verified again at every start of its driver).  A path
 * is stored as the plug-in's name.
 */
static int
control_plugin_check(struct control_call *c, struct uplink *spec)
{
	struct sign_result res;
	char name[UPLINK_DRIVER_MAX + 1];
	const char *base;
	size_t n;

	if (spec->driver[0] == '\0' || uplink_driver_builtin(spec->driver))
		return 0;
	if (sign_check(c->d->cfg.plugin_dir, c->d->cfg.trusted_keys, spec->driver, NULL, &res,
	    &c->err) < 0)
		return -1;
	if (res.state != SIGN_VERIFIED) {
		log_warnx("uplink %s: plug-in %s refused: %s: %s", spec->name, spec->driver,
		    sign_state_name(res.state), res.detail);
		return cnw_err(&c->err, CNW_EINVAL, "driver \"%s\": %s: %s", spec->driver,
		    sign_state_name(res.state), res.detail);
	}
	/* A name stays the name (a symlink may lead to a versioned file); a path gives its own. */
	if (strchr(spec->driver, '/') == NULL)
		return 0;
	base = strrchr(spec->driver, '/') + 1;
	n = strlen(base) > 3 ? strlen(base) - 3 : 0;	/* without ".so" */
	if (n == 0 || n >= sizeof(name))
		return cnw_err(&c->err, CNW_EINVAL, "driver \"%s\": not a plug-in name", spec->driver);
	memcpy(name, base, n);
	name[n] = '\0';
	snprintf(spec->driver, sizeof(spec->driver), "%s", name);
	return 0;
}

static int
control_uplink_create(struct control_call *c, void *out)
{
	struct uplink spec_copy = control_uplink_req(c)->spec;
	struct uplink *spec = &spec_copy, *u = out;
	const struct uplink_change *change = &control_uplink_req(c)->change;
	uint16_t family, port;
	uint8_t addr[16];

	if (spec->netns[0] != '\0' && !netns_exists(spec->netns))
		return cnw_err(&c->err, CNW_EINVAL, "netns \"%s\" does not exist (ip netns list)",
		    spec->netns);
	/*
	 * Whether its socket can be had, before anything is stored: a name the
	 * rules refuse (the address does not parse) is left to uplink_create's
	 * message; the admin check comes first so a tenant learns nothing.
	 */
	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "creating an uplink needs the admin token");
	if (uplink_row_get(c->d->store, spec->name, u, &c->err) > 0)
		return cnw_err(&c->err, CNW_EEXIST, "uplink \"%s\" already exists", spec->name);
	if (control_plugin_check(c, spec) < 0)
		return -1;
	if ((strcmp(spec->driver, "afpacket") == 0 ||
	    uplink_parse_endpoint(spec->address, &family, addr, &port) == 0) &&
	    tenant_validate_name("uplink", spec->name, &c->err) == 0 &&
	    datapath_uplink_check(spec, &c->err) < 0)
		return -1;
	memset(&c->err, 0, sizeof(c->err));
	if (uplink_create(c->d->store, &c->who, c->actor, spec, change, u, &c->err) < 0)
		return -1;
	datapath_sync(c->d);
	events_emit(c->d, "uplink.created", "", u->name, "interface", u->interface, "driver",
	    u->driver, "emulation", u->emu.profile[0] ? u->emu.profile : "off", NULL);
	return 0;
}

static int
control_uplink_update(struct control_call *c)
{
	const struct proto_uplink_request *r = control_uplink_req(c);
	struct uplink u;

	if (uplink_update(c->d->store, &c->who, c->actor, r->spec.name, &r->change, &u,
	    &c->err) < 0)
		return -1;
	/* The driver gets the change now: traffic sees it within a pass of its loop. */
	datapath_sync(c->d);
	events_emit(c->d, "uplink.updated", "", u.name, "emulation",
	    u.emu.profile[0] ? u.emu.profile : "off", "admin_state", u.admin_down ? "down" : "up",
	    "flap", u.flap, NULL);
	control_reply_one(c, &control_nouns[CONTROL_UPLINKS], &u);
	return 0;
}

static int
control_uplink_get(struct control_call *c, void *out)
{
	return uplink_get(c->d->store, &c->who, control_uplink_req(c)->spec.name, out, &c->err);
}

static int
control_uplink_list(struct control_call *c, row_each_fn fn, void *arg)
{
	return uplink_list(c->d->store, &c->who, fn, arg, &c->err);
}

static int
control_uplink_delete(struct control_call *c)
{
	struct uplink u;

	if (uplink_delete(c->d->store, &c->who, c->actor, control_uplink_req(c)->spec.name, &u,
	    &c->err) < 0)
		return -1;
	datapath_sync(c->d);
	return 0;
}

static int
control_peer_create(struct control_call *c, void *out)
{
	return peer_create(c->d->store, &c->who, c->actor, control_peer_spec(c), out, &c->err);
}

static int
control_peer_get(struct control_call *c, void *out)
{
	return peer_get(c->d->store, &c->who, control_peer_spec(c)->name, out, &c->err);
}

static int
control_peer_list(struct control_call *c, row_each_fn fn, void *arg)
{
	return peer_list(c->d->store, &c->who, fn, arg, &c->err);
}

static int
control_peer_delete(struct control_call *c)
{
	return peer_delete(c->d->store, &c->who, c->actor, control_peer_spec(c)->name, &c->err);
}

/* Policies ------------------------------------------------------------------ */

static const struct policy *
control_policy_spec(struct control_call *c)
{
	return &((const struct proto_policy_request *)c->m->data)->spec.p;
}

/* A policy changed: the worker gets the tenant's rules again, at once. */
static void
control_policy_push(struct control_call *c, int64_t tenant_id)
{
	if (datapath_tenant_push(c->d, tenant_id) < 0)
		log_warnx("tenant %lld: its policies will reach the fast path at the next change "
		    "or restart", (long long)tenant_id);
}

static int
control_policy_create(struct control_call *c, void *out)
{
	struct policy_spec spec = ((const struct proto_policy_request *)c->m->data)->spec;
	struct policy *p = out;

	if (policy_create(c->d->store, &c->who, c->actor, &spec, p, &c->err) < 0)
		return -1;
	control_policy_push(c, p->tenant_id);
	events_emit(c->d, "policy.created", p->tenant, p->name, NULL);
	return 0;
}

static int
control_policy_get(struct control_call *c, void *out)
{
	const struct policy *s = control_policy_spec(c);

	return policy_get(c->d->store, &c->who, s->tenant, s->name, out, &c->err);
}

static int
control_policy_list(struct control_call *c, row_each_fn fn, void *arg)
{
	return policy_list(c->d->store, &c->who, control_policy_spec(c)->tenant, fn, arg,
	    &c->err);
}

static int
control_policy_delete(struct control_call *c)
{
	const struct policy *s = control_policy_spec(c);
	struct policy gone;

	if (policy_delete(c->d->store, &c->who, c->actor, s->tenant, s->name, &gone,
	    &c->err) < 0)
		return -1;
	control_policy_push(c, gone.tenant_id);
	events_emit(c->d, "policy.deleted", gone.tenant, gone.name, NULL);
	return 0;
}

/* The table ------------------------------------------------------------------ */

#define CONTROL_SIZES(row, one, item) \
	.row_size = sizeof(row), .one_size = sizeof(one), .size = sizeof(item), \
	.per_msg = MSG_MAX_PAYLOAD / sizeof(item)

const struct control_noun control_nouns[] = {
	[CONTROL_TENANTS] = {
		.msg_list = MSG_TENANT_LIST, .msg_get = MSG_TENANT_GET,
		.msg_del = MSG_TENANT_DELETE,
		.reply_one = MSG_REPLY_TENANT, .reply_many = MSG_REPLY_TENANTS,
		CONTROL_SIZES(struct tenant, struct proto_tenant_reply, struct tenant),
		.generation = 1,
		.get = control_tenant_get, .list = control_tenant_list,
		.del = control_tenant_delete,
	},
	[CONTROL_NETWORKS] = {
		.msg_create = MSG_NETWORK_CREATE, .msg_list = MSG_NETWORK_LIST,
		.msg_get = MSG_NETWORK_GET, .msg_del = MSG_NETWORK_DELETE,
		.reply_one = MSG_REPLY_NETWORK, .reply_many = MSG_REPLY_NETWORKS,
		CONTROL_SIZES(struct network, struct proto_network, struct proto_network),
		.create = control_network_create, .get = control_network_get,
		.list = control_network_list, .del = control_network_delete,
		.view = control_network_view,
	},
	[CONTROL_ROUTES] = {
		.msg_create = MSG_ROUTE_ADD, .msg_list = MSG_ROUTE_LIST,
		.msg_del = MSG_ROUTE_DELETE,
		.reply_one = MSG_REPLY_ROUTE, .reply_many = MSG_REPLY_ROUTES,
		CONTROL_SIZES(struct route, struct route, struct route),
		.create = control_route_add, .list = control_route_list,
		.del = control_route_delete,
	},
	[CONTROL_UPLINKS] = {
		.msg_create = MSG_UPLINK_CREATE, .msg_list = MSG_UPLINK_LIST,
		.msg_get = MSG_UPLINK_GET, .msg_del = MSG_UPLINK_DELETE,
		.reply_one = MSG_REPLY_UPLINK, .reply_many = MSG_REPLY_UPLINKS,
		CONTROL_SIZES(struct uplink, struct uplink, struct uplink),
		.create = control_uplink_create, .get = control_uplink_get,
		.list = control_uplink_list, .del = control_uplink_delete,
		.view = control_uplink_view,
	},
	[CONTROL_PEERS] = {
		.msg_create = MSG_PEER_CREATE, .msg_list = MSG_PEER_LIST,
		.msg_get = MSG_PEER_GET, .msg_del = MSG_PEER_DELETE,
		.reply_one = MSG_REPLY_PEER, .reply_many = MSG_REPLY_PEERS,
		CONTROL_SIZES(struct peer, struct peer, struct peer),
		.create = control_peer_create, .get = control_peer_get,
		.list = control_peer_list, .del = control_peer_delete,
	},
	[CONTROL_POLICIES] = {
		.msg_create = MSG_POLICY_CREATE, .msg_list = MSG_POLICY_LIST,
		.msg_get = MSG_POLICY_GET, .msg_del = MSG_POLICY_DELETE,
		.reply_one = MSG_REPLY_POLICY, .reply_many = MSG_REPLY_POLICIES,
		CONTROL_SIZES(struct policy, struct policy, struct policy),
		.create = control_policy_create, .get = control_policy_get,
		.list = control_policy_list, .del = control_policy_delete,
	},
};

const size_t control_nnouns = ARRAY_SIZE(control_nouns);

const struct control_handler control_noun_ops[] = {
	{ MSG_TENANT_CREATE, control_tenant_create },
	{ MSG_TENANT_UPDATE, control_tenant_update },
	{ MSG_UPLINK_UPDATE, control_uplink_update },
};

const size_t control_noun_nops = ARRAY_SIZE(control_noun_ops);
