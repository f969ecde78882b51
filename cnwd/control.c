/*
 * The parent's side of the API process: it hands the API its listening
 * sockets and TLS material, then answers its typed requests.
 *
 * Every request is authenticated here from the bearer token it carries;
 * the API process's own checks are never trusted.  One row per request
 * type; each handler returns -1 with a cnw_error that goes back as the
 * problem the user sees.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hal/sign.h"
#include "cnwd/cnwd.h"
#include "cnwd/events.h"
#include "cnwd/inventory.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "cnwd/reconcile.h"
#include "lib/sandbox.h"
#include "lib/util.h"

#include <openssl/crypto.h>

struct control_call {
	struct cnwd *d;
	struct proc *p;
	const struct msg *m;
	struct principal who;
	char actor[160];		/* for the audit log: who, from where */
	struct cnw_error err;
};

static int
control_send_listener(struct proc *p, int fd, int tls, const char *name)
{
	struct proto_api_listen l;
	int copy = dup(fd);		/* the parent keeps its own across restarts */

	if (copy < 0)
		return -1;
	memset(&l, 0, sizeof(l));
	l.tls = (uint32_t)tls;
	snprintf(l.name, sizeof(l.name), "%s", name);
	if (proc_send(p, MSG_API_LISTEN, 0, 0, &l, sizeof(l), &copy) < 0) {
		if (copy >= 0)
			close(copy);
		return -1;
	}
	return 0;
}

static int
control_send_tls(struct proc *p, const struct tls_material *tls)
{
	size_t len = sizeof(struct proto_api_tls) + tls->cert_len + tls->key_len;
	cleanup_free uint8_t *buf = malloc(len);
	struct proto_api_tls h = {
		.cert_len = (uint32_t)tls->cert_len, .key_len = (uint32_t)tls->key_len,
	};
	int rc;

	if (buf == NULL)
		return -1;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), tls->cert_pem, tls->cert_len);
	memcpy(buf + sizeof(h) + tls->cert_len, tls->key_pem, tls->key_len);
	rc = proc_send(p, MSG_API_TLS, 0, 0, buf, len, NULL);
	OPENSSL_cleanse(buf, len);
	return rc;
}

int
control_api_setup(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	char name[64];

	snprintf(name, sizeof(name), "unix:%.58s", d->socket_path);
	if (control_send_listener(p, d->unix_fd, 0, name) < 0 || events_api_channel(d, p) < 0)
		return -1;
	if (d->tcp_fd < 0)
		return 0;
	snprintf(name, sizeof(name), "https://%.55s", d->cfg.listen);
	if (control_send_tls(p, &d->tls) < 0)
		return -1;
	return control_send_listener(p, d->tcp_fd, 1, name);
}

/* Replies ------------------------------------------------------------- */

static int
control_reply(struct control_call *c, uint32_t type, uint32_t flags, const void *payload,
    size_t len)
{
	return proc_send(c->p, type, c->m->hdr.id, flags, payload, len, NULL);
}

static void
control_reply_error(struct control_call *c)
{
	struct proto_error e;

	memset(&e, 0, sizeof(e));
	e.status = c->err.kind ? c->err.kind : CNW_EINTERNAL;
	snprintf(e.detail, sizeof(e.detail), "%s", c->err.msg[0] ? c->err.msg : "internal error");
	control_reply(c, MSG_REPLY_ERROR, 0, &e, sizeof(e));
}

static int
control_reply_tenant(struct control_call *c, const struct tenant *t, const char *token)
{
	struct proto_tenant_reply r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.tenant = *t;
	if (token != NULL)
		snprintf(r.token, sizeof(r.token), "%s", token);
	rc = control_reply(c, MSG_REPLY_TENANT, 0, &r, sizeof(r));
	OPENSSL_cleanse(r.token, sizeof(r.token));
	return rc;
}

/* Handlers ------------------------------------------------------------ */

static const struct proto_tenant_request *
control_tenant_req(struct control_call *c)
{
	return (const struct proto_tenant_request *)c->m->data;
}

static int
control_tenant_create(struct control_call *c)
{
	struct tenant t;
	char token[TOKEN_HEX_LEN + 1];
	int rc;

	if (tenant_create(c->d->store, &c->who, c->actor, &control_tenant_req(c)->spec, &t,
	    token, &c->err) < 0)
		return -1;
	rc = control_reply_tenant(c, &t, token);
	OPENSSL_cleanse(token, sizeof(token));
	log_info("tenant %s created by %s", t.name, c->actor);
	(void)rc;	/* a failed send already restarted the API */
	return 0;
}

static int
control_tenant_get(struct control_call *c)
{
	struct tenant t;

	if (tenant_get(c->d->store, &c->who, control_tenant_req(c)->spec.name, &t, &c->err) < 0)
		return -1;
	control_reply_tenant(c, &t, NULL);
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
	control_reply_tenant(c, &t, NULL);
	log_info("tenant %s changed by %s", t.name, c->actor);
	return 0;
}

struct control_netlist {
	struct network *items;
	size_t n, cap;
};

static int
control_network_collect(const struct network *n, void *arg)
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
	l->items[l->n++] = *n;
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
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	log_info("tenant %s deleted by %s", r->spec.name, c->actor);
	return 0;
}

/* Batches list items into as few messages as fit. */
struct control_batch {
	struct control_call *call;
	uint32_t type;
	size_t elem, n, max;
	uint8_t buf[MSG_MAX_PAYLOAD];
};

static int
control_batch_flush(struct control_batch *b, uint32_t flags)
{
	int rc = control_reply(b->call, b->type, flags, b->buf, b->n * b->elem);

	b->n = 0;
	return rc;
}

static int
control_batch_add(struct control_batch *b, const void *item)
{
	if (b->n == b->max && control_batch_flush(b, MSG_F_MORE) < 0)
		return -1;
	memcpy(b->buf + b->n * b->elem, item, b->elem);
	b->n++;
	return 0;
}

static struct control_batch *
control_batch_new(struct control_call *c, uint32_t type, size_t elem, size_t max)
{
	struct control_batch *b = calloc(1, sizeof(*b));

	if (b != NULL) {
		b->call = c;
		b->type = type;
		b->elem = elem;
		b->max = max;
	}
	return b;
}

/* Send the last part if the listing (rc) succeeded; free the batch. */
static int
control_batch_finish(struct control_batch *b, int rc)
{
	if (rc == 0)
		control_batch_flush(b, 0);
	free(b);
	return rc;
}

static int
control_tenant_each(const struct tenant *t, void *arg)
{
	return control_batch_add(arg, t);
}

static int
control_tenant_list(struct control_call *c)
{
	const struct proto_request *r = (const struct proto_request *)c->m->data;
	struct proto_generation g = { .generation = store_generation(c->d->store) };
	struct control_batch *b;

	/* Authenticated already (control_request): now, is the caller's copy current? */
	g.unchanged = r->generation == g.generation;
	if (control_reply(c, MSG_REPLY_GENERATION, g.unchanged ? 0 : MSG_F_MORE, &g,
	    sizeof(g)) < 0 || g.unchanged)
		return 0;
	b = control_batch_new(c, MSG_REPLY_TENANTS, sizeof(struct tenant),
	    PROTO_TENANTS_PER_MSG);

	if (b == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(b, tenant_list(c->d->store, &c->who, control_tenant_each, b,
	    &c->err));
}

/* Networks and routes ---------------------------------------------------- */

static const struct proto_network_request *
control_network_req(struct control_call *c)
{
	return (const struct proto_network_request *)c->m->data;
}

static const struct proto_route_request *
control_route_req(struct control_call *c)
{
	return (const struct proto_route_request *)c->m->data;
}

static void
control_network_view(struct cnwd *d, const struct network *n, struct proto_network *out)
{
	struct stats_counters c;

	memset(out, 0, sizeof(*out));
	out->net = *n;
	network_netns_name(d->cfg.instance, n->tenant, n->name, out->netns, sizeof(out->netns));
	if (datapath_network_counters(d, n->id, &c) == 0) {
		out->has_counters = 1;
		out->rx_packets = c.rx_packets;
		out->rx_bytes = c.rx_bytes;
		out->tx_packets = c.tx_packets;
		out->tx_bytes = c.tx_bytes;
		out->drops = c.drops;
	}
}

static int
control_reply_network(struct control_call *c, const struct network *n)
{
	struct proto_network v;

	control_network_view(c->d, n, &v);
	return control_reply(c, MSG_REPLY_NETWORK, 0, &v, sizeof(v));
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
control_network_create(struct control_call *c)
{
	struct network n;
	struct cnw_error undo = { 0 };
	char netns[NETWORK_NETNS_MAX];

	if (network_netns_name(c->d->cfg.instance, control_network_req(c)->spec.tenant,
	    control_network_req(c)->spec.name, netns, sizeof(netns)) < 0)
		return cnw_err(&c->err, CNW_EINVAL, "the namespace name would be too long");
	if (network_create(c->d->store, &c->who, c->actor, &control_network_req(c)->spec, &n,
	    &c->err) < 0)
		return -1;
	if (reconcile_network(c->d, n.id, &n, &c->err) < 0) {
		log_warnx("network %s.%s: %s; taking it back", n.tenant, n.name, c->err.msg);
		if (store_tx(c->d->store, control_undo_network_tx, &n, &undo) < 0)
			log_warnx("network %s.%s: %s", n.tenant, n.name, undo.msg);
		reconcile_forget(c->d, n.id);
		network_remove(c->d->cfg.instance, &n, &undo);
		return cnw_err(&c->err, CNW_EINTERNAL, "the kernel refused network %s: %s", n.name,
		    n.status_detail);
	}
	log_info("network %s.%s created by %s", n.tenant, n.name, c->actor);
	if (n.peer_id != 0)	/* only a network with a peer has a port */
		datapath_sync(c->d);
	events_emit(c->d, "network.created", n.tenant, n.name, "netns", netns, "subnet",
	    n.subnet, NULL);
	control_reply_network(c, &n);
	return 0;
}

static int
control_network_get(struct control_call *c)
{
	const struct network_spec *s = &control_network_req(c)->spec;
	struct network n;

	if (network_get(c->d->store, &c->who, s->tenant, s->name, &n, &c->err) < 0)
		return -1;
	control_reply_network(c, &n);
	return 0;
}

static int
control_network_delete(struct control_call *c)
{
	const struct network_spec *s = &control_network_req(c)->spec;
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
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	return 0;
}

struct control_network_each {
	struct control_batch *b;
	struct cnwd *d;
};

static int
control_network_each(const struct network *n, void *arg)
{
	struct control_network_each *e = arg;
	struct proto_network v;

	control_network_view(e->d, n, &v);
	return control_batch_add(e->b, &v);
}

static int
control_network_list(struct control_call *c)
{
	struct control_network_each e = { control_batch_new(c, MSG_REPLY_NETWORKS,
	    sizeof(struct proto_network), PROTO_NETWORKS_PER_MSG), c->d };

	if (e.b == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(e.b, network_list(c->d->store, &c->who,
	    control_network_req(c)->spec.tenant, control_network_each, &e, &c->err));
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
control_route_add(struct control_call *c)
{
	struct network n;
	struct route r;
	struct cnw_error undo = { 0 };

	if (route_add(c->d->store, &c->who, c->actor, &control_route_req(c)->spec, &n, &r,
	    &c->err) < 0)
		return -1;
	if (reconcile_network(c->d, n.id, &n, &c->err) < 0) {
		char why[CNW_ERRMSG_MAX];

		snprintf(why, sizeof(why), "%s", c->err.msg);
		if (store_tx(c->d->store, control_route_undo_tx, &r, &undo) < 0)
			log_warnx("route %s: %s", r.prefix, undo.msg);
		reconcile_network(c->d, n.id, &n, &undo);
		return cnw_err(&c->err, CNW_EINTERNAL, "the kernel refused route %s: %s", r.prefix,
		    why);
	}
	control_reply(c, MSG_REPLY_ROUTE, 0, &r, sizeof(r));
	return 0;
}

static int
control_route_each(const struct route *r, void *arg)
{
	return control_batch_add(arg, r);
}

static int
control_route_list(struct control_call *c)
{
	const struct route_spec *s = &control_route_req(c)->spec;
	struct control_batch *b = control_batch_new(c, MSG_REPLY_ROUTES, sizeof(struct route),
	    PROTO_ROUTES_PER_MSG);

	if (b == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(b, route_list(c->d->store, &c->who, s->tenant, s->network,
	    control_route_each, b, &c->err));
}

static int
control_route_delete(struct control_call *c)
{
	struct network n;
	struct cnw_error err = { 0 };

	if (route_delete(c->d->store, &c->who, c->actor, &control_route_req(c)->spec, &n,
	    &c->err) < 0)
		return -1;
	if (reconcile_network(c->d, n.id, &n, &err) < 0)
		log_warnx("network %s.%s: %s", n.tenant, n.name, err.msg);
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	return 0;
}

/* Uplinks, peers, metrics ------------------------------------------------- */

static const struct proto_uplink_request *
control_uplink_req(struct control_call *c)
{
	return (const struct proto_uplink_request *)c->m->data;
}

static const struct proto_peer_request *
control_peer_req(struct control_call *c)
{
	return (const struct proto_peer_request *)c->m->data;
}

static int
control_reply_uplink(struct control_call *c, struct uplink *u)
{
	datapath_uplink_state(c->d, u);
	return control_reply(c, MSG_REPLY_UPLINK, 0, u, sizeof(*u));
}

/*
 * A plug-in named by an uplink: it must verify now (400 with the reason
 * otherwise; it is verified again at every start of its driver).  A path
 * inside the plug-in directory is taken as the plug-in's name.
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
control_uplink_create(struct control_call *c)
{
	struct uplink spec_copy = control_uplink_req(c)->spec;
	struct uplink *spec = &spec_copy;
	const struct uplink_change *change = &control_uplink_req(c)->change;
	struct uplink u;

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
	if (uplink_row_get(c->d->store, spec->name, &u, &c->err) > 0)
		return cnw_err(&c->err, CNW_EEXIST, "uplink \"%s\" already exists", spec->name);
	if (control_plugin_check(c, spec) < 0)
		return -1;
	if ((strcmp(spec->driver, "afpacket") == 0 ||
	    uplink_parse_endpoint(spec->address, &family, addr, &port) == 0) &&
	    tenant_validate_name("uplink", spec->name, &c->err) == 0 &&
	    datapath_uplink_check(spec, &c->err) < 0)
		return -1;
	memset(&c->err, 0, sizeof(c->err));
	if (uplink_create(c->d->store, &c->who, c->actor, spec, change, &u, &c->err) < 0)
		return -1;
	datapath_sync(c->d);
	events_emit(c->d, "uplink.created", "", u.name, "interface", u.interface, "driver",
	    u.driver, "emulation", u.emu.profile[0] ? u.emu.profile : "off", NULL);
	control_reply_uplink(c, &u);
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
	control_reply_uplink(c, &u);
	return 0;
}

static int
control_uplink_get(struct control_call *c)
{
	struct uplink u;

	if (uplink_get(c->d->store, &c->who, control_uplink_req(c)->spec.name, &u, &c->err) < 0)
		return -1;
	control_reply_uplink(c, &u);
	return 0;
}

static int
control_uplink_delete(struct control_call *c)
{
	struct uplink u;

	if (uplink_delete(c->d->store, &c->who, c->actor, control_uplink_req(c)->spec.name, &u,
	    &c->err) < 0)
		return -1;
	datapath_sync(c->d);
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	return 0;
}

struct control_uplink_each {
	struct control_batch *b;
	struct cnwd *d;
};

static int
control_uplink_each(const struct uplink *row, void *arg)
{
	struct control_uplink_each *e = arg;
	struct uplink u = *row;

	datapath_uplink_state(e->d, &u);
	return control_batch_add(e->b, &u);
}

static int
control_uplink_list(struct control_call *c)
{
	struct control_uplink_each e = { control_batch_new(c, MSG_REPLY_UPLINKS,
	    sizeof(struct uplink), PROTO_UPLINKS_PER_MSG), c->d };

	if (e.b == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(e.b, uplink_list(c->d->store, &c->who, control_uplink_each,
	    &e, &c->err));
}

static int
control_peer_create(struct control_call *c)
{
	struct peer p;

	if (peer_create(c->d->store, &c->who, c->actor, &control_peer_req(c)->spec, &p,
	    &c->err) < 0)
		return -1;
	control_reply(c, MSG_REPLY_PEER, 0, &p, sizeof(p));
	return 0;
}

static int
control_peer_get(struct control_call *c)
{
	struct peer p;

	if (peer_get(c->d->store, &c->who, control_peer_req(c)->spec.name, &p, &c->err) < 0)
		return -1;
	control_reply(c, MSG_REPLY_PEER, 0, &p, sizeof(p));
	return 0;
}

static int
control_peer_delete(struct control_call *c)
{
	if (peer_delete(c->d->store, &c->who, c->actor, control_peer_req(c)->spec.name,
	    &c->err) < 0)
		return -1;
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	return 0;
}

static int
control_peer_each(const struct peer *p, void *arg)
{
	return control_batch_add(arg, p);
}

static int
control_peer_list(struct control_call *c)
{
	struct control_batch *b = control_batch_new(c, MSG_REPLY_PEERS, sizeof(struct peer),
	    PROTO_PEERS_PER_MSG);

	if (b == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(b, peer_list(c->d->store, &c->who, control_peer_each, b,
	    &c->err));
}

/* Prometheus text, in as many parts as it takes. */
static int
control_metrics(struct control_call *c)
{
	size_t len = 0, off = 0;
	char *text;

	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "metrics need the admin token");
	if ((text = datapath_metrics(c->d, &len)) == NULL)
		return cnw_err(&c->err, CNW_EUNAVAIL, "the fast path's counters are not available");
	do {
		size_t n = len - off > MSG_MAX_PAYLOAD ? MSG_MAX_PAYLOAD : len - off;

		if (control_reply(c, MSG_REPLY_TEXT, off + n < len ? MSG_F_MORE : 0, text + off, n) < 0)
			break;
		off += n;
	} while (off < len);
	free(text);
	return 0;
}

static void
control_process_fill(const struct proc *p, struct proto_process *out)
{
	struct sandbox_state sb;

	memset(out, 0, sizeof(*out));
	snprintf(out->role, sizeof(out->role), "%s", p->role->name);
	snprintf(out->name, sizeof(out->name), "%s", p->label);
	snprintf(out->state, sizeof(out->state), "%s", proc_state_name(p->state));
	snprintf(out->last_exit, sizeof(out->last_exit), "%s", p->last_exit);
	out->pid = p->pid;
	out->restarts = p->restarts;
	out->started_at = p->started_at;
	out->seccomp = -1;		/* unknown unless read below */
	if (p->pid > 0 && sandbox_read_state(p->pid, &sb) == 0) {
		out->cap_eff = sb.cap_eff;
		out->no_new_privs = sb.no_new_privs;
		out->seccomp = sb.seccomp;
	}
}

static int
control_process_list(struct control_call *c)
{
	struct proto_process items[PROC_MAX];
	struct proc_table *t = &c->d->procs;
	unsigned n = 0;

	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "listing processes needs the admin token");
	for (unsigned i = 0; i < t->n; i++)
		if (t->procs[i].role != NULL)
			control_process_fill(&t->procs[i], &items[n++]);
	control_reply(c, MSG_REPLY_PROCESSES, 0, items, n * sizeof(items[0]));
	return 0;
}

/* Interfaces, drivers, events ------------------------------------------------ */

static int
control_interfaces(struct control_call *c, int one)
{
	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "reading interfaces needs the admin token");
	return inventory_reply_interfaces(c->d, c->p, c->m->hdr.id,
	    (const struct proto_interface_request *)c->m->data, one, &c->err);
}

static int
control_interface_list(struct control_call *c)
{
	return control_interfaces(c, 0);
}

static int
control_interface_get(struct control_call *c)
{
	return control_interfaces(c, 1);
}

static int
control_driver_list(struct control_call *c)
{
	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "listing drivers needs the admin token");
	return inventory_reply_drivers(c->d, c->p, c->m->hdr.id, &c->err);
}

/* Who a stream of events is for: the API filters by it. */
static int
control_events_open(struct control_call *c)
{
	struct proto_principal pr;

	memset(&pr, 0, sizeof(pr));
	pr.is_admin = c->who.is_admin != 0;
	if (!c->who.is_admin)
		snprintf(pr.tenant, sizeof(pr.tenant), "%s", c->who.name);
	return control_reply(c, MSG_REPLY_PRINCIPAL, 0, &pr, sizeof(pr));
}

/* Policies and flows ------------------------------------------------------ */

static const struct proto_policy_request *
control_policy_req(struct control_call *c)
{
	return (const struct proto_policy_request *)c->m->data;
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
control_policy_create(struct control_call *c)
{
	struct policy_spec spec = control_policy_req(c)->spec;
	struct policy p;

	if (policy_create(c->d->store, &c->who, c->actor, &spec, &p, &c->err) < 0)
		return -1;
	control_policy_push(c, p.tenant_id);
	events_emit(c->d, "policy.created", p.tenant, p.name, NULL);
	control_reply(c, MSG_REPLY_POLICY, 0, &p, sizeof(p));
	return 0;
}

static int
control_policy_get(struct control_call *c)
{
	const struct policy *s = &control_policy_req(c)->spec.p;
	struct policy p;

	if (policy_get(c->d->store, &c->who, s->tenant, s->name, &p, &c->err) < 0)
		return -1;
	control_reply(c, MSG_REPLY_POLICY, 0, &p, sizeof(p));
	return 0;
}

static int
control_policy_each(const struct policy *p, void *arg)
{
	return control_batch_add(arg, p);
}

static int
control_policy_list(struct control_call *c)
{
	struct control_batch *b = control_batch_new(c, MSG_REPLY_POLICIES, sizeof(struct policy),
	    PROTO_POLICIES_PER_MSG);

	if (b == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(b, policy_list(c->d->store, &c->who,
	    control_policy_req(c)->spec.p.tenant, control_policy_each, b, &c->err));
}

static int
control_policy_delete(struct control_call *c)
{
	const struct policy *s = &control_policy_req(c)->spec.p;
	struct policy gone;

	if (policy_delete(c->d->store, &c->who, c->actor, s->tenant, s->name, &gone,
	    &c->err) < 0)
		return -1;
	control_policy_push(c, gone.tenant_id);
	events_emit(c->d, "policy.deleted", gone.tenant, gone.name, NULL);
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	return 0;
}

struct control_flows {
	struct control_call *c;
	struct control_batch *b;
};

static int
control_flow_summary(const struct proto_flow_summary *s, void *arg)
{
	struct control_flows *f = arg;

	return control_reply(f->c, MSG_REPLY_FLOW_SUMMARY, MSG_F_MORE, s, sizeof(*s));
}

static int
control_flow_each(const struct proto_flow *fl, void *arg)
{
	return control_batch_add(((struct control_flows *)arg)->b, fl);
}

static int
control_flow_list(struct control_call *c)
{
	const struct proto_flow_request *r = (const struct proto_flow_request *)c->m->data;
	struct control_flows f = { .c = c };
	struct network n;
	struct tenant t;

	if (tenant_get(c->d->store, &c->who, r->tenant, &t, &c->err) < 0 ||
	    (r->network[0] != '\0' &&
	    network_get(c->d->store, &c->who, r->tenant, r->network, &n, &c->err) < 0))
		return -1;
	if ((f.b = control_batch_new(c, MSG_REPLY_FLOWS, sizeof(struct proto_flow),
	    PROTO_FLOWS_PER_MSG)) == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(f.b, datapath_flows(c->d, &t, r->network, r->limit,
	    control_flow_summary, control_flow_each, &f, &c->err));
}

static const struct control_handler {
	uint32_t type;
	int (*fn)(struct control_call *c);
} control_handlers[] = {
	{ MSG_TENANT_CREATE, control_tenant_create },
	{ MSG_TENANT_LIST, control_tenant_list },
	{ MSG_TENANT_GET, control_tenant_get },
	{ MSG_TENANT_UPDATE, control_tenant_update },
	{ MSG_TENANT_DELETE, control_tenant_delete },
	{ MSG_PROCESS_LIST, control_process_list },
	{ MSG_NETWORK_CREATE, control_network_create },
	{ MSG_NETWORK_LIST, control_network_list },
	{ MSG_NETWORK_GET, control_network_get },
	{ MSG_NETWORK_DELETE, control_network_delete },
	{ MSG_ROUTE_ADD, control_route_add },
	{ MSG_ROUTE_LIST, control_route_list },
	{ MSG_ROUTE_DELETE, control_route_delete },
	{ MSG_UPLINK_CREATE, control_uplink_create },
	{ MSG_UPLINK_LIST, control_uplink_list },
	{ MSG_UPLINK_GET, control_uplink_get },
	{ MSG_UPLINK_DELETE, control_uplink_delete },
	{ MSG_UPLINK_UPDATE, control_uplink_update },
	{ MSG_INTERFACE_LIST, control_interface_list },
	{ MSG_INTERFACE_GET, control_interface_get },
	{ MSG_DRIVER_LIST, control_driver_list },
	{ MSG_EVENTS_OPEN, control_events_open },
	{ MSG_PEER_CREATE, control_peer_create },
	{ MSG_PEER_LIST, control_peer_list },
	{ MSG_PEER_GET, control_peer_get },
	{ MSG_PEER_DELETE, control_peer_delete },
	{ MSG_METRICS_GET, control_metrics },
	{ MSG_POLICY_CREATE, control_policy_create },
	{ MSG_POLICY_LIST, control_policy_list },
	{ MSG_POLICY_GET, control_policy_get },
	{ MSG_POLICY_DELETE, control_policy_delete },
	{ MSG_FLOW_LIST, control_flow_list },
};

static void
control_request(struct control_call *c, const struct control_handler *h)
{
	/* Every request payload begins with struct proto_auth (proto.h). */
	const struct proto_auth *auth = (const struct proto_auth *)c->m->data;

	if (tenant_authenticate(c->d->store, auth->token, &c->who, &c->err) < 0) {
		control_reply_error(c);
		return;
	}
	snprintf(c->actor, sizeof(c->actor), "%s%s (%s)", c->who.is_admin ? "" : "tenant:",
	    c->who.name, auth->peer);
	if (h->fn(c) < 0)
		control_reply_error(c);
}

void
control_api_dispatch(struct proc *p, struct msg *m, void *ctx)
{
	struct control_call c = { .d = ctx, .p = p, .m = m };

	if (m->hdr.type == MSG_LOG_LINE) {
		const struct proto_log *l = (const struct proto_log *)m->data;
		log_emit(l->level, p->role->name, l->line);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(control_handlers); i++) {
		if (control_handlers[i].type == m->hdr.type) {
			control_request(&c, &control_handlers[i]);
			return;
		}
	}
	log_warnx("%s: unexpected message type %u", p->label, m->hdr.type);
}

static int
control_exit_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct proc *p = arg;

	return store_audit(st, "cnwd", "process.exit", p->label, p->last_exit, err);
}

void
control_record_exit(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	struct cnw_error err = { 0 };

	if (store_tx(d->store, control_exit_tx, p, &err) < 0)
		log_warnx("audit of %s exit: %s", p->label, err.msg);
	if (p != d->api)
		datapath_child_exited(d, p);
}
