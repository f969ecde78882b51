/*
 * Networks and routes: rules, operations and rows; see network.h.
 *
 * Who may: whoever may see the tenant (the admin, or the tenant's own
 * token) may manage its networks, within the tenant's quota.  Everything
 * is checked before the transaction and again by the database's
 * constraints inside it.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/store.h"
#include "netfn/overlay.h"
#include "tenants/network.h"
#include "tenants/uplink.h"

#define NETWORK_COLUMNS \
	"n.id, n.tenant_id, t.name, n.name, n.subnet, n.subnet6, n.status, " \
	"n.status_detail, n.created_at, ifnull(n.peer_id, 0), ifnull(p.name, '') " \
	"FROM networks n JOIN tenants t ON t.id = n.tenant_id LEFT JOIN peers p ON p.id = n.peer_id"

static int
network_from_row(sqlite3_stmt *s, void *out, struct cnw_error *err)
{
	struct network *n = out;

	memset(n, 0, sizeof(*n));
	n->id = sqlite3_column_int64(s, 0);
	n->tenant_id = sqlite3_column_int64(s, 1);
	row_str(n->tenant, sizeof(n->tenant), s, 2);
	row_str(n->name, sizeof(n->name), s, 3);
	row_str(n->subnet, sizeof(n->subnet), s, 4);
	row_str(n->subnet6, sizeof(n->subnet6), s, 5);
	row_str(n->status, sizeof(n->status), s, 6);
	row_str(n->status_detail, sizeof(n->status_detail), s, 7);
	n->created_at = sqlite3_column_int64(s, 8);
	n->peer_id = sqlite3_column_int64(s, 9);
	row_str(n->peer, sizeof(n->peer), s, 10);
	return 0;
}

/* The uplinks a network uses, in order (a second query: rows stay simple). */
static int
network_uplinks_load(struct store *st, void *out, struct cnw_error *err)
{
	static const char sql[] = "SELECT u.name FROM network_uplinks x JOIN uplinks u "
	    "ON u.id = x.uplink_id WHERE x.network_id = ? ORDER BY x.position";
	struct network *n = out;
	sqlite3_stmt *s = store_stmt(st, sql, err);
	int rc;

	n->nuplinks = 0;
	if (s == NULL || store_bind_int64(st, s, 1, n->id, err) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && n->nuplinks < NETWORK_UPLINKS_MAX)
		row_str(n->uplinks[n->nuplinks++], sizeof(n->uplinks[0]), s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sql_err(st, rc, "uplinks", err);
}

static const struct row_desc network_rows = {
	.one = "network", .many = "networks", .read = "list networks",
	.delete_sql = ROW_DELETE_SQL("networks"), .size = sizeof(struct network),
	.from_row = network_from_row, .load = network_uplinks_load,
};

/* Rows without their uplinks: for checks over many networks at once. */
static const struct row_desc network_rows_basic = {
	.one = "network", .many = "networks", .read = "list networks",
	.delete_sql = ROW_DELETE_SQL("networks"), .size = sizeof(struct network),
	.from_row = network_from_row,
};

static sqlite3_stmt *
network_rows_of(struct store *st, int64_t tenant_id, struct cnw_error *err)
{
	static const char sql[] = "SELECT " NETWORK_COLUMNS
	    " WHERE ?1 = 0 OR n.tenant_id = ?1 ORDER BY t.name, n.name";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	return s == NULL || store_bind_int64(st, s, 1, tenant_id, err) < 0 ? NULL : s;
}

static int
network_row_each_basic(struct store *st, int64_t tenant_id, network_each_fn fn, void *arg,
    struct cnw_error *err)
{
	sqlite3_stmt *s = network_rows_of(st, tenant_id, err);

	return s == NULL ? -1 : row_each(st, &network_rows_basic, s, fn, arg, err);
}

/* All networks (tenant_id 0) or one tenant's, by tenant and name. */
int
network_row_each(struct store *st, int64_t tenant_id, network_each_fn fn, void *arg,
    struct cnw_error *err)
{
	sqlite3_stmt *s = network_rows_of(st, tenant_id, err);

	return s == NULL ? -1 : row_each(st, &network_rows, s, fn, arg, err);
}

static int
network_row_get(struct store *st, int64_t tenant_id, const char *name, struct network *out,
    struct cnw_error *err)
{
	static const char sql[] = "SELECT " NETWORK_COLUMNS
	    " WHERE n.tenant_id = ? AND n.name = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, tenant_id, err) < 0 ||
	    store_bind_text(st, s, 2, name, err) < 0)
		return -1;
	return row_get(st, &network_rows, s, out, err);
}

int
network_row_get_id(struct store *st, int64_t id, struct network *out, struct cnw_error *err)
{
	static const char sql[] = "SELECT " NETWORK_COLUMNS " WHERE n.id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, id, err) < 0)
		return -1;
	return row_get(st, &network_rows, s, out, err);
}

int
network_row_count(struct store *st, int64_t tenant_id, int64_t *count, struct cnw_error *err)
{
	static const char sql[] = "SELECT count(*) FROM networks WHERE tenant_id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);
	int rc;

	if (s == NULL || store_bind_int64(st, s, 1, tenant_id, err) < 0)
		return -1;
	rc = sqlite3_step(s);
	*count = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_sql_err(st, rc, "count networks", err);
}

static int
network_row_insert(struct store *st, struct network *n, struct cnw_error *err)
{
	static const char sql[] =
	    "INSERT INTO networks(tenant_id, name, subnet, subnet6, status, status_detail, "
	    "created_at) VALUES (?, ?, ?, ?, 'pending', '', ?)";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, n->tenant_id, err) < 0 ||
	    store_bind_text(st, s, 2, n->name, err) < 0 ||
	    store_bind_text(st, s, 3, n->subnet, err) < 0 ||
	    store_bind_text(st, s, 4, n->subnet6, err) < 0 ||
	    store_bind_int64(st, s, 5, n->created_at, err) < 0 ||
	    store_exec_stmt(st, s, "insert network", err) < 0)
		return -1;
	n->id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

int
network_row_delete(struct store *st, int64_t id, struct cnw_error *err)
{
	return row_delete(st, &network_rows, id, err);
}

struct network_status_tx {
	const struct network *n;
	const char *status, *detail;
};

static int
network_status_tx(struct store *st, void *arg, struct cnw_error *err)
{
	static const char sql[] =
	    "UPDATE networks SET status = ?, status_detail = ? WHERE id = ?";
	struct network_status_tx *t = arg;
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_text(st, s, 1, t->status, err) < 0 ||
	    store_bind_text(st, s, 2, t->detail, err) < 0 ||
	    store_bind_int64(st, s, 3, t->n->id, err) < 0)
		return -1;
	return store_exec_stmt(st, s, "set network status", err);
}

/* Observed status: written only when it changes. */
int
network_set_status(struct store *st, const struct network *n, const char *status,
    const char *detail, struct cnw_error *err)
{
	struct network_status_tx t = { n, status, detail };

	if (strcmp(n->status, status) == 0 && strcmp(n->status_detail, detail) == 0)
		return 0;
	return store_tx(st, network_status_tx, &t, err);
}

static int
route_from_row(sqlite3_stmt *s, void *out, struct cnw_error *err)
{
	struct route *r = out;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->network_id = sqlite3_column_int64(s, 1);
	row_str(r->prefix, sizeof(r->prefix), s, 2);
	row_str(r->via, sizeof(r->via), s, 3);
	r->created_at = sqlite3_column_int64(s, 4);
	return 0;
}

static const struct row_desc route_rows = {
	.one = "route", .many = "routes", .read = "list routes",
	.delete_sql = ROW_DELETE_SQL("routes"), .size = sizeof(struct route),
	.from_row = route_from_row,
};

int
route_row_each(struct store *st, int64_t network_id, route_each_fn fn, void *arg,
    struct cnw_error *err)
{
	static const char sql[] = "SELECT id, network_id, prefix, via, created_at FROM routes "
	    "WHERE network_id = ? ORDER BY id";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, network_id, err) < 0)
		return -1;
	return row_each(st, &route_rows, s, fn, arg, err);
}

int
route_row_delete(struct store *st, int64_t id, struct cnw_error *err)
{
	return row_delete(st, &route_rows, id, err);
}

/* Operations ------------------------------------------------------------ */

/* The tenant as who sees it (404 for another's), and a network of it. */
static int
network_find(struct store *st, const struct principal *who, const char *tenant,
    const char *name, struct tenant *t, struct network *n, struct cnw_error *err)
{
	int rc;

	if (tenant_get(st, who, tenant, t, err) < 0)
		return -1;
	if (name == NULL)
		return 0;
	if ((rc = network_row_get(st, t->id, name, n, err)) < 0)
		return -1;
	if (rc == 0)
		return cnw_err(err, CNW_ENOENT, "network \"%s\" of tenant \"%s\" not found",
		    name, tenant);
	return 0;
}

struct network_create_tx {
	const char *actor;
	const struct tenant *t;
	struct network *n;
	const struct network_spec *spec;
};

struct network_overlap {
	const struct network *n;
	struct cnw_error *err;
};

static int
network_overlap_check(const void *row, void *arg)
{
	const struct network *other = row;
	struct network_overlap *o = arg;
	struct prefix a, b;

	if (strcmp(other->name, o->n->name) == 0) {
		cnw_err(o->err, CNW_EEXIST, "network \"%s\" of tenant \"%s\" already exists",
		    other->name, other->tenant);
		return -1;
	}
	if (prefix_parse(o->n->subnet, &a) == 0 && prefix_parse(other->subnet, &b) == 0 &&
	    prefix_overlaps(&a, &b)) {
		cnw_err(o->err, CNW_EEXIST, "subnet %s overlaps %s of network \"%s\" of this tenant",
		    o->n->subnet, other->subnet, other->name);
		return -1;
	}
	if (o->n->subnet6[0] != '\0' && other->subnet6[0] != '\0' &&
	    prefix_parse(o->n->subnet6, &a) == 0 && prefix_parse(other->subnet6, &b) == 0 &&
	    prefix_overlaps(&a, &b)) {
		cnw_err(o->err, CNW_EEXIST, "subnet6 %s overlaps %s of network \"%s\" of this tenant",
		    o->n->subnet6, other->subnet6, other->name);
		return -1;
	}
	return 0;
}

/* The overlay ids of one site's networks must differ (the peer finds them by it). */
static int
network_id_check(const void *row, void *arg)
{
	const struct network *other = row;
	const struct network *n = arg;

	return overlay_network_id(other->tenant, other->name) ==
	    overlay_network_id(n->tenant, n->name) ? -1 : 0;
}

/* Peer and uplinks of a new network: they exist, and the peer is reachable by each. */
static int
network_attach(struct store *st, const struct network_create_tx *tx, struct cnw_error *err)
{
	static const char ins[] = "INSERT INTO network_uplinks(network_id, uplink_id, position) "
	    "VALUES (?, ?, ?)";
	static const char setpeer[] = "UPDATE networks SET peer_id = ? WHERE id = ?";
	struct peer p;
	sqlite3_stmt *s;
	int rc;

	if (tx->spec->peer[0] == '\0')
		return tx->spec->nuplinks == 0 ? 0 :
		    cnw_err(err, CNW_EINVAL, "uplinks need a peer to lead to");
	if ((rc = peer_row_get(st, tx->spec->peer, &p, err)) <= 0)
		return rc < 0 ? -1 : cnw_err(err, CNW_EINVAL, "no peer \"%s\"", tx->spec->peer);
	if (tx->spec->nuplinks == 0)
		return cnw_err(err, CNW_EINVAL, "a network with a peer needs at least one uplink");
	for (uint32_t i = 0; i < tx->spec->nuplinks; i++) {
		struct uplink u;

		if ((rc = uplink_row_get(st, tx->spec->uplinks[i], &u, err)) <= 0)
			return rc < 0 ? -1 : cnw_err(err, CNW_EINVAL, "no uplink \"%s\"",
			    tx->spec->uplinks[i]);
		if (peer_endpoint_of(&p, u.name) == NULL)
			return cnw_err(err, CNW_EINVAL, "peer %s has no endpoint over uplink %s",
			    p.name, u.name);
		if ((s = store_stmt(st, ins, err)) == NULL ||
		    store_bind_int64(st, s, 1, tx->n->id, err) < 0 ||
		    store_bind_int64(st, s, 2, u.id, err) < 0 ||
		    store_bind_int64(st, s, 3, (int64_t)i, err) < 0 ||
		    store_exec_stmt(st, s, "network uplink", err) < 0)
			return err->kind == CNW_EEXIST ?
			    cnw_err(err, CNW_EINVAL, "uplink %s is named twice", u.name) : -1;
	}
	if ((s = store_stmt(st, setpeer, err)) == NULL || store_bind_int64(st, s, 1, p.id, err) < 0 ||
	    store_bind_int64(st, s, 2, tx->n->id, err) < 0 ||
	    store_exec_stmt(st, s, "network peer", err) < 0)
		return -1;
	tx->n->peer_id = p.id;
	return 0;
}

static int
network_create_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct network_create_tx *tx = arg;
	struct network_overlap o = { tx->n, err };
	struct cnw_error inner = { 0 };
	int64_t count;

	if (network_row_count(st, tx->t->id, &count, err) < 0)
		return -1;
	if ((uint64_t)count >= tx->t->quotas.networks)
		return cnw_err(err, CNW_EEXIST,
		    "tenant \"%s\" has reached its quota of %llu networks", tx->t->name,
		    (unsigned long long)tx->t->quotas.networks);
	o.err = &inner;
	if (network_row_each_basic(st, tx->t->id, network_overlap_check, &o, err) < 0) {
		if (inner.kind != 0)
			*err = inner;
		return -1;
	}
	if (network_row_each_basic(st, 0, network_id_check, tx->n, &inner) < 0)
		return cnw_err(err, CNW_EEXIST, "network %s.%s would have the same overlay id as "
		    "another network here; choose another name", tx->n->tenant, tx->n->name);
	if (network_row_insert(st, tx->n, err) < 0 || network_attach(st, tx, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "network.create", tx->n->name, tx->t->name, err);
}

int
network_create(struct store *st, const struct principal *who, const char *actor,
    const struct network_spec *spec, struct network *out, struct cnw_error *err)
{
	struct tenant t;
	struct network_create_tx tx = { actor, &t, out, spec };

	memset(out, 0, sizeof(*out));
	if (network_find(st, who, spec->tenant, NULL, &t, NULL, err) < 0 ||
	    tenant_validate_name("network", spec->name, err) < 0 ||
	    network_validate_subnet("subnet", spec->subnet, AF_INET, out->subnet,
	    sizeof(out->subnet), err) < 0)
		return -1;
	if (spec->subnet6[0] != '\0' &&
	    network_validate_subnet("subnet6", spec->subnet6, AF_INET6, out->subnet6,
	    sizeof(out->subnet6), err) < 0)
		return -1;
	out->tenant_id = t.id;
	snprintf(out->tenant, sizeof(out->tenant), "%s", t.name);
	snprintf(out->name, sizeof(out->name), "%s", spec->name);
	snprintf(out->status, sizeof(out->status), "pending");
	out->created_at = store_now();
	snprintf(out->peer, sizeof(out->peer), "%s", spec->peer);
	out->nuplinks = spec->nuplinks;
	memcpy(out->uplinks, spec->uplinks, sizeof(out->uplinks));
	return store_tx(st, network_create_tx, &tx, err);
}

int
network_get(struct store *st, const struct principal *who, const char *tenant,
    const char *name, struct network *out, struct cnw_error *err)
{
	struct tenant t;

	return network_find(st, who, tenant, name, &t, out, err);
}

int
network_list(struct store *st, const struct principal *who, const char *tenant,
    network_each_fn fn, void *arg, struct cnw_error *err)
{
	struct tenant t;

	if (network_find(st, who, tenant, NULL, &t, NULL, err) < 0)
		return -1;
	return network_row_each(st, t.id, fn, arg, err);
}

struct network_delete_tx {
	const char *actor;
	const struct network *n;
};

static int
network_delete_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct network_delete_tx *tx = arg;

	if (network_row_delete(st, tx->n->id, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "network.delete", tx->n->name, tx->n->tenant, err);
}

int
network_delete(struct store *st, const struct principal *who, const char *actor,
    const char *tenant, const char *name, struct network *gone, struct cnw_error *err)
{
	struct tenant t;
	struct network_delete_tx tx = { actor, gone };

	if (network_find(st, who, tenant, name, &t, gone, err) < 0)
		return -1;
	return store_tx(st, network_delete_tx, &tx, err);
}

struct route_tx {
	const char *actor;
	const struct network *n;
	struct route *r;
};

static int
route_add_tx(struct store *st, void *arg, struct cnw_error *err)
{
	static const char sql[] = "INSERT INTO routes(network_id, prefix, via, created_at) "
	    "VALUES (?, ?, ?, ?)";
	static const char count_sql[] = "SELECT count(*) FROM routes WHERE network_id = ?";
	struct route_tx *tx = arg;
	sqlite3_stmt *s = store_stmt(st, count_sql, err);
	char detail[128];
	int64_t n;

	if (s == NULL || store_bind_int64(st, s, 1, tx->n->id, err) < 0)
		return -1;
	n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
	sqlite3_reset(s);
	if (n < 0)
		return cnw_err(err, CNW_EINTERNAL, "cannot count routes");
	if (n >= NETWORK_ROUTES_MAX)
		return cnw_err(err, CNW_EEXIST, "network \"%s\" has %d routes, the most a network "
		    "may have", tx->n->name, NETWORK_ROUTES_MAX);
	s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, tx->n->id, err) < 0 ||
	    store_bind_text(st, s, 2, tx->r->prefix, err) < 0 ||
	    store_bind_text(st, s, 3, tx->r->via, err) < 0 ||
	    store_bind_int64(st, s, 4, tx->r->created_at, err) < 0)
		return -1;
	if (store_exec_stmt(st, s, "insert route", err) < 0) {
		if (err->kind == CNW_EEXIST)
			cnw_err(err, CNW_EEXIST, "network \"%s\" already has a route to %s",
			    tx->n->name, tx->r->prefix);
		return -1;
	}
	tx->r->id = sqlite3_last_insert_rowid(store_db(st));
	snprintf(detail, sizeof(detail), "%s.%s via %s", tx->n->tenant, tx->n->name, tx->r->via);
	return store_audit(st, tx->actor, "route.add", tx->r->prefix, detail, err);
}

int
route_add(struct store *st, const struct principal *who, const char *actor,
    const struct route_spec *spec, struct network *net, struct route *out,
    struct cnw_error *err)
{
	struct tenant t;
	struct route_tx tx = { actor, net, out };

	memset(out, 0, sizeof(*out));
	if (network_find(st, who, spec->tenant, spec->network, &t, net, err) < 0 ||
	    route_validate_prefix(spec->prefix, net, out->prefix, sizeof(out->prefix), err) < 0)
		return -1;
	snprintf(out->via, sizeof(out->via), "%s", spec->via[0] ? spec->via : "fastpath");
	if (route_validate_via(out->via, err) < 0)
		return -1;
	out->network_id = net->id;
	out->created_at = store_now();
	return store_tx(st, route_add_tx, &tx, err);
}

int
route_list(struct store *st, const struct principal *who, const char *tenant,
    const char *network, route_each_fn fn, void *arg, struct cnw_error *err)
{
	struct tenant t;
	struct network n;

	if (network_find(st, who, tenant, network, &t, &n, err) < 0)
		return -1;
	return route_row_each(st, n.id, fn, arg, err);
}

struct route_find {
	int64_t id;
	struct route *out;
};

static int
route_match(const void *row, void *arg)
{
	const struct route *r = row;
	struct route_find *f = arg;

	if (r->id == f->id)
		*f->out = *r;
	return 0;
}

static int
route_delete_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct route_tx *tx = arg;

	if (route_row_delete(st, tx->r->id, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "route.delete", tx->r->prefix, tx->n->name, err);
}

int
route_delete(struct store *st, const struct principal *who, const char *actor,
    const struct route_spec *spec, struct network *net, struct cnw_error *err)
{
	struct tenant t;
	struct route r = { 0 };
	struct route_find f = { spec->id, &r };
	struct route_tx tx = { actor, net, &r };

	if (network_find(st, who, spec->tenant, spec->network, &t, net, err) < 0 ||
	    route_row_each(st, net->id, route_match, &f, err) < 0)
		return -1;
	if (r.id == 0)
		return cnw_err(err, CNW_ENOENT, "route %lld of network \"%s\" not found",
		    (long long)spec->id, spec->network);
	return store_tx(st, route_delete_tx, &tx, err);
}
