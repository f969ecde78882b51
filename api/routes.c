/*
 * The REST routes: one table row per method and path, each handler turning
 * a request into a typed message to the parent and the reply into JSON.
 *
 * api/openapi.yaml documents exactly these rows; tests/unit/test_openapi.c
 * fails if a route is served that the document lacks, or the reverse.
 */
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "config.h"
#include "lib/util.h"

/* Paths ------------------------------------------------------------- */

int
api_path_match(const char *pattern, const char *path,
    char params[API_MAX_PARAMS][API_PARAM_MAX], unsigned *nparams)
{
	*nparams = 0;
	while (*pattern != '\0' && *path != '\0') {
		if (*pattern == '{') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= API_PARAM_MAX || *nparams == API_MAX_PARAMS)
				return 0;
			memcpy(params[*nparams], path, n);
			params[(*nparams)++][n] = '\0';
			path += n;
			pattern = strchr(pattern, '}') + 1;
		} else if (*pattern++ != *path++) {
			return 0;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

/* Rendering ----------------------------------------------------------- */

static json_t *
api_time(int64_t t)
{
	char buf[21];

	cnw_time_rfc3339(buf, t);
	return json_string(buf);
}

static json_t *
api_tenant_json(const struct tenant *t)
{
	json_t *q = json_object();

	for (unsigned i = 0; i < tenant_quota_count; i++)
		json_object_set_new(q, tenant_quota_table[i].name,
		    json_integer((json_int_t)*tenant_quota_ptr((struct tenant_quotas *)&t->quotas, i)));
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", t->name, "description",
	    t->description, "quotas", q, "created_at", api_time(t->created_at),
	    "updated_at", api_time(t->updated_at));
}

static json_t *
api_process_json(const struct proto_process *p)
{
	json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:I}", "role", p->role, "name", p->name,
	    "pid", (int)p->pid, "state", p->state, "restarts", (json_int_t)p->restarts);
	char cap[17];

	if (p->started_at > 0)
		json_object_set_new(o, "started_at", api_time(p->started_at));
	if (p->last_exit[0] != '\0')
		json_object_set_new(o, "last_exit", json_string(p->last_exit));
	if (p->seccomp >= 0) {
		snprintf(cap, sizeof(cap), "%016llx", (unsigned long long)p->cap_eff);
		json_object_set_new(o, "sandbox", json_pack("{s:s, s:b, s:i}", "cap_eff", cap,
		    "no_new_privs", p->no_new_privs, "seccomp", (int)p->seccomp));
	}
	return o;
}

/* Reply collectors ------------------------------------------------------ */

static int
api_collect_tenant(const struct msg *m, void *arg)
{
	const struct proto_tenant_reply *r = (const struct proto_tenant_reply *)m->data;
	json_t **out = arg;

	if (m->hdr.type != MSG_REPLY_TENANT)
		return -1;
	*out = api_tenant_json(&r->tenant);
	if (r->token[0] != '\0')
		json_object_set_new(*out, "token", json_string(r->token));
	return 0;
}

static int
api_collect_tenants(const struct msg *m, void *arg)
{
	const struct tenant *t = (const struct tenant *)m->data;

	if (m->hdr.type != MSG_REPLY_TENANTS)
		return -1;
	for (size_t i = 0; i < m->hdr.len / sizeof(*t); i++)
		json_array_append_new(arg, api_tenant_json(&t[i]));
	return 0;
}

static int
api_collect_processes(const struct msg *m, void *arg)
{
	const struct proto_process *p = (const struct proto_process *)m->data;

	if (m->hdr.type != MSG_REPLY_PROCESSES)
		return -1;
	for (size_t i = 0; i < m->hdr.len / sizeof(*p); i++)
		json_array_append_new(arg, api_process_json(&p[i]));
	return 0;
}

static int
api_collect_done(const struct msg *m, void *arg)
{
	return m->hdr.type == MSG_REPLY_DONE ? 0 : -1;
}

/*
 * Rendered lists, kept per caller (token) under the store's generation:
 * the parent still authenticates every request, and answers "unchanged"
 * while nothing was committed since, so the list is neither read from
 * SQLite nor rendered again.  Rendering 100 tenants with jansson costs some
 * 300 us, the cached path a memcpy (bench/api-bench.sh).
 */
#define API_CACHE_SLOTS 16

static struct api_cache_slot {
	uint32_t type;
	char token[TOKEN_HEX_LEN + 1];
	uint64_t generation;
	char *body;
	size_t len;
	unsigned long used;
} api_cache[API_CACHE_SLOTS];
static unsigned long api_cache_clock;
static pthread_mutex_t api_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct api_cache_slot *
api_cache_find(uint32_t type, const char *token)
{
	for (size_t i = 0; i < API_CACHE_SLOTS; i++)
		if (api_cache[i].body != NULL && api_cache[i].type == type &&
		    strcmp(api_cache[i].token, token) == 0)
			return &api_cache[i];
	return NULL;
}

static uint64_t
api_cache_generation(uint32_t type, const char *token)
{
	struct api_cache_slot *s;
	uint64_t g;

	pthread_mutex_lock(&api_cache_lock);
	s = api_cache_find(type, token);
	g = s != NULL ? s->generation : 0;
	pthread_mutex_unlock(&api_cache_lock);
	return g;
}

/* A copy of the cached body if it is still of generation g. */
static char *
api_cache_get(uint32_t type, const char *token, uint64_t g, size_t *len)
{
	struct api_cache_slot *s;
	char *copy = NULL;

	pthread_mutex_lock(&api_cache_lock);
	s = api_cache_find(type, token);
	if (s != NULL && s->generation == g && (copy = malloc(s->len)) != NULL) {
		memcpy(copy, s->body, s->len);
		*len = s->len;
		s->used = ++api_cache_clock;
	}
	pthread_mutex_unlock(&api_cache_lock);
	return copy;
}

/* Keep a copy of body under (type, token, g), evicting the least used. */
static void
api_cache_put(uint32_t type, const char *token, uint64_t g, const char *body, size_t len)
{
	struct api_cache_slot *s;
	char *copy = malloc(len);

	if (copy == NULL)
		return;
	memcpy(copy, body, len);
	pthread_mutex_lock(&api_cache_lock);
	if ((s = api_cache_find(type, token)) == NULL) {
		s = &api_cache[0];
		for (size_t i = 1; i < API_CACHE_SLOTS; i++)
			if (api_cache[i].used < s->used)
				s = &api_cache[i];
	}
	free(s->body);
	s->type = type;
	snprintf(s->token, sizeof(s->token), "%s", token);
	s->generation = g;
	s->body = copy;
	s->len = len;
	s->used = ++api_cache_clock;
	pthread_mutex_unlock(&api_cache_lock);
}

struct api_cached_list {
	api_reply_fn items_fn;
	json_t *items;
	struct proto_generation gen;
	int got_gen;
};

static int
api_collect_cached(const struct msg *m, void *arg)
{
	struct api_cached_list *l = arg;

	if (m->hdr.type == MSG_REPLY_GENERATION && !l->got_gen) {
		memcpy(&l->gen, m->data, sizeof(l->gen));
		l->got_gen = 1;
		return 0;
	}
	return l->got_gen ? l->items_fn(m, l->items) : -1;
}

/* A list reply that the parent validates against the rendered copy. */
static void
api_list_cached(struct api_request *req, struct api_response *resp, uint32_t type,
    api_reply_fn fn)
{
	struct api_cached_list l = { .items_fn = fn, .items = json_array() };
	struct proto_request r;
	json_t *body;
	char *text;

	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	r.generation = api_cache_generation(type, req->auth.token);
	if (api_parent_call(type, &r, sizeof(r), api_collect_cached, &l, resp) < 0 || !l.got_gen) {
		json_decref(l.items);
		if (resp->status == 0)
			api_problem(resp, 500, "a list reply without its generation");
		return;
	}
	resp->status = 200;
	if (l.gen.unchanged &&
	    (resp->raw = api_cache_get(type, req->auth.token, l.gen.generation, &resp->raw_len)) != NULL) {
		json_decref(l.items);
		return;
	}
	if (l.gen.unchanged) {
		/* Evicted meanwhile: ask again without a copy to validate. */
		json_decref(l.items);
		api_cache_put(type, req->auth.token, 0, "", 1);
		api_list_cached(req, resp, type, fn);
		return;
	}
	body = json_pack("{s:o}", "items", l.items);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL) {
		api_problem(resp, 500, "out of memory");
		return;
	}
	resp->raw_len = strlen(text) + 1;
	text[resp->raw_len - 1] = '\n';	/* replaces the NUL: MHD takes the length */
	api_cache_put(type, req->auth.token, l.gen.generation, text, resp->raw_len);
	resp->raw = text;
}

/* A list reply: {"items": [...]} from one or more parts. */
static void
api_list(struct api_request *req, struct api_response *resp, uint32_t type, api_reply_fn fn)
{
	struct proto_request r;
	json_t *items = json_array();

	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	if (api_parent_call(type, &r, sizeof(r), fn, items, resp) < 0) {
		json_decref(items);
		return;
	}
	resp->status = 200;
	resp->json = json_pack("{s:o}", "items", items);
}

/* Tenant bodies ------------------------------------------------------- */

static int
api_set_string(json_t *v, char *dst, size_t size, const char *what, char *why, size_t whylen)
{
	if (json_string_length(v) >= size) {
		snprintf(why, whylen, "%s is %zu bytes; at most %zu are allowed", what,
		    json_string_length(v), size - 1);
		return -1;
	}
	memcpy(dst, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int
api_set_tenant_name(json_t *v, void *out, char *why, size_t whylen)
{
	struct tenant_spec *s = out;
	struct cnw_error err;

	if (json_string_length(v) >= sizeof(s->name) ||
	    tenant_validate_name("tenant", json_string_value(v), &err) < 0) {
		snprintf(why, whylen, "tenant name must match ^[a-z][a-z0-9-]{0,30}$ "
		    "(a lower-case letter, then up to 30 lower-case letters, digits or '-')");
		return -1;
	}
	return api_set_string(v, s->name, sizeof(s->name), "name", why, whylen);
}

static int
api_set_description(json_t *v, void *out, char *why, size_t whylen)
{
	struct tenant_spec *s = out;
	struct cnw_error err;

	if (api_set_string(v, s->description, sizeof(s->description), "description", why,
	    whylen) < 0)
		return -1;
	if (tenant_validate_description(s->description, &err) < 0) {
		snprintf(why, whylen, "%s", err.msg);
		return -1;
	}
	return 0;
}

static int api_set_quotas(json_t *v, void *out, char *why, size_t whylen);

static int
api_set_name_immutable(json_t *v, void *out, char *why, size_t whylen)
{
	snprintf(why, whylen, "a tenant's name cannot be changed");
	return -1;
}

static const struct api_field api_tenant_create_fields[] = {
	{ "name", JSON_STRING, 1, api_set_tenant_name, 0 },
	{ "description", JSON_STRING, 0, api_set_description, TENANT_F_DESCRIPTION },
	{ "quotas", JSON_OBJECT, 0, api_set_quotas, 0 },
};

static const struct api_field api_tenant_patch_fields[] = {
	{ "name", JSON_STRING, 0, api_set_name_immutable, 0 },
	{ "description", JSON_STRING, 0, api_set_description, TENANT_F_DESCRIPTION },
	{ "quotas", JSON_OBJECT, 0, api_set_quotas, 0 },
};

/* One quota: a whole number within its bounds. */
static int
api_set_quota(json_t *v, void *out, char *why, size_t whylen, unsigned idx)
{
	struct tenant_spec *s = out;
	json_int_t n = json_integer_value(v);
	struct cnw_error err;

	if (n < 0 || tenant_validate_quota(idx, (uint64_t)n, &err) < 0) {
		snprintf(why, whylen, "quota %s must be between 0 and %llu",
		    tenant_quota_table[idx].name,
		    (unsigned long long)tenant_quota_table[idx].max);
		return -1;
	}
	*tenant_quota_ptr(&s->quotas, idx) = (uint64_t)n;
	s->fields |= TENANT_F_QUOTA0 << idx;
	return 0;
}

#define API_QUOTA_SETTER(field, json, def, max)				\
	static int api_set_quota_##field(json_t *v, void *out, char *why, size_t l) \
	{								\
		return api_set_quota(v, out, why, l, (unsigned)tenant_quota_index(json)); \
	}
TENANT_QUOTAS(API_QUOTA_SETTER)

static const struct api_field api_quota_fields[] = {
#define API_QUOTA_FIELD(field, json, def, max) \
	{ json, JSON_INTEGER, 0, api_set_quota_##field, 0 },
	TENANT_QUOTAS(API_QUOTA_FIELD)
};

static int
api_set_quotas(json_t *v, void *out, char *why, size_t whylen)
{
	uint32_t given = 0;

	return api_json_apply(v, "quotas.", api_quota_fields, ARRAY_SIZE(api_quota_fields),
	    out, &given, why, whylen);
}

static int
api_tenant_request(struct api_request *req, struct api_response *resp,
    const struct api_field *fields, size_t nfields, struct proto_tenant_request *r)
{
	uint32_t given = 0;

	memset(r, 0, sizeof(*r));
	r->auth = req->auth;
	if (fields != NULL) {
		if (api_json_parse(req->body, req->body_len, fields, nfields, &r->spec, &given,
		    resp) < 0)
			return -1;
		r->spec.fields |= given;
	}
	if (req->nparams > 0 &&
	    cnw_strlcpy_checked(r->spec.name, req->params[0], sizeof(r->spec.name)) < 0) {
		/* Longer than any name can be: it cannot exist (never truncate). */
		api_problem(resp, 404, "tenant \"%.40s...\" not found", req->params[0]);
		return -1;
	}
	return 0;
}

/* Handlers ------------------------------------------------------------ */

static void
api_version(struct api_request *req, struct api_response *resp)
{
	resp->status = 200;
	resp->json = json_pack("{s:s, s:s, s:s}", "name", "cnw", "version", PACKAGE_VERSION,
	    "api_version", "v1");
}

static void
api_tenants_list(struct api_request *req, struct api_response *resp)
{
	api_list_cached(req, resp, MSG_TENANT_LIST, api_collect_tenants);
}

static void
api_tenant_create(struct api_request *req, struct api_response *resp)
{
	struct proto_tenant_request r;
	json_t *t = NULL;

	if (api_tenant_request(req, resp, api_tenant_create_fields,
	    ARRAY_SIZE(api_tenant_create_fields), &r) < 0 ||
	    api_parent_call(MSG_TENANT_CREATE, &r, sizeof(r), api_collect_tenant, &t, resp) < 0)
		return;
	resp->status = 201;
	resp->json = t;
	snprintf(resp->location, sizeof(resp->location), "/v1/tenants/%s", r.spec.name);
}

/* GET and PATCH of one tenant answer the tenant. */
static void
api_tenant_one(struct api_request *req, struct api_response *resp, uint32_t type,
    const struct api_field *fields, size_t nfields)
{
	struct proto_tenant_request r;
	json_t *t = NULL;

	if (api_tenant_request(req, resp, fields, nfields, &r) < 0 ||
	    api_parent_call(type, &r, sizeof(r), api_collect_tenant, &t, resp) < 0)
		return;
	resp->status = 200;
	resp->json = t;
}

static void
api_tenant_get(struct api_request *req, struct api_response *resp)
{
	api_tenant_one(req, resp, MSG_TENANT_GET, NULL, 0);
}

static void
api_tenant_patch(struct api_request *req, struct api_response *resp)
{
	api_tenant_one(req, resp, MSG_TENANT_UPDATE, api_tenant_patch_fields,
	    ARRAY_SIZE(api_tenant_patch_fields));
}

/* A boolean query parameter: absent is false; anything but true/false is 400. */
static int
api_query_bool(struct api_request *req, const char *name, uint32_t *out,
    struct api_response *resp);

static void
api_tenant_delete(struct api_request *req, struct api_response *resp)
{
	struct proto_tenant_request r;

	if (api_tenant_request(req, resp, NULL, 0, &r) < 0 ||
	    api_query_bool(req, "cascade", &r.cascade, resp) < 0 ||
	    api_parent_call(MSG_TENANT_DELETE, &r, sizeof(r), api_collect_done, NULL, resp) < 0)
		return;
	resp->status = 204;
}

/* Networks and routes ------------------------------------------------- */

static json_t *
api_network_json(const struct proto_network *v)
{
	const struct network *n = &v->net;
	char gw[48];
	json_t *o;

	network_gateway(n->subnet, gw, sizeof(gw));
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "tenant", n->tenant, "name", n->name,
	    "subnet", n->subnet, "netns", v->netns, "gateway", gw, "status", n->status,
	    "created_at", api_time(n->created_at));
	if (n->subnet6[0] != '\0') {
		network_gateway(n->subnet6, gw, sizeof(gw));
		json_object_set_new(o, "subnet6", json_string(n->subnet6));
		json_object_set_new(o, "gateway6", json_string(gw));
	}
	if (n->status_detail[0] != '\0')
		json_object_set_new(o, "status_detail", json_string(n->status_detail));
	if (v->has_counters)
		json_object_set_new(o, "counters", json_pack("{s:I, s:I, s:I, s:I, s:I}",
		    "rx_packets", (json_int_t)v->rx_packets, "rx_bytes", (json_int_t)v->rx_bytes,
		    "tx_packets", (json_int_t)v->tx_packets, "tx_bytes", (json_int_t)v->tx_bytes,
		    "drops", (json_int_t)v->drops));
	if (n->peer[0] != '\0') {
		json_t *ups = json_array();

		for (uint32_t i = 0; i < n->nuplinks && i < NETWORK_UPLINKS_MAX; i++)
			json_array_append_new(ups, json_string(n->uplinks[i]));
		json_object_set_new(o, "peer", json_string(n->peer));
		json_object_set_new(o, "uplinks", ups);
	}
	return o;
}

static json_t *
api_route_json(const struct route *r)
{
	return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)r->id, "prefix", r->prefix,
	    "via", r->via, "created_at", api_time(r->created_at));
}

static int
api_collect_network(const struct msg *m, void *arg)
{
	if (m->hdr.type != MSG_REPLY_NETWORK)
		return -1;
	*(json_t **)arg = api_network_json((const struct proto_network *)m->data);
	return 0;
}

static int
api_collect_networks(const struct msg *m, void *arg)
{
	const struct proto_network *v = (const struct proto_network *)m->data;

	if (m->hdr.type != MSG_REPLY_NETWORKS)
		return -1;
	for (size_t i = 0; i < m->hdr.len / sizeof(*v); i++)
		json_array_append_new(arg, api_network_json(&v[i]));
	return 0;
}

static int
api_collect_route(const struct msg *m, void *arg)
{
	if (m->hdr.type != MSG_REPLY_ROUTE)
		return -1;
	*(json_t **)arg = api_route_json((const struct route *)m->data);
	return 0;
}

static int
api_collect_routes(const struct msg *m, void *arg)
{
	const struct route *r = (const struct route *)m->data;

	if (m->hdr.type != MSG_REPLY_ROUTES)
		return -1;
	for (size_t i = 0; i < m->hdr.len / sizeof(*r); i++)
		json_array_append_new(arg, api_route_json(&r[i]));
	return 0;
}

/* Copy path parameter i into dst; longer than any name can be is 404. */
int
api_param(struct api_request *req, unsigned i, char *dst, size_t size, const char *what,
    struct api_response *resp)
{
	if (i < req->nparams && cnw_strlcpy_checked(dst, req->params[i], size) == 0)
		return 0;
	api_problem(resp, 404, "%s \"%.40s\" not found", what, i < req->nparams ? req->params[i] : "");
	return -1;
}

#define API_STRING_SETTER(fn, type, field, label)			\
	static int fn(json_t *v, void *out, char *why, size_t whylen)	\
	{								\
		type *s = out;						\
		return api_set_string(v, s->field, sizeof(s->field), label, why, whylen); \
	}
API_STRING_SETTER(api_set_network_name, struct network_spec, name, "name")
API_STRING_SETTER(api_set_network_subnet, struct network_spec, subnet, "subnet")
API_STRING_SETTER(api_set_network_subnet6, struct network_spec, subnet6, "subnet6")
API_STRING_SETTER(api_set_route_prefix, struct route_spec, prefix, "prefix")
API_STRING_SETTER(api_set_route_via, struct route_spec, via, "via")

API_STRING_SETTER(api_set_network_peer, struct network_spec, peer, "peer")

/* An array of names: each a string that fits, at most NETWORK_UPLINKS_MAX. */
static int
api_set_network_uplinks(json_t *v, void *out, char *why, size_t whylen)
{
	struct network_spec *s = out;
	size_t i;
	json_t *e;

	if (json_array_size(v) > NETWORK_UPLINKS_MAX) {
		snprintf(why, whylen, "uplinks: at most %d", NETWORK_UPLINKS_MAX);
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) >= sizeof(s->uplinks[0])) {
			snprintf(why, whylen, "uplinks[%zu] must be an uplink's name", i);
			return -1;
		}
		memcpy(s->uplinks[i], json_string_value(e), json_string_length(e) + 1);
	}
	s->nuplinks = (uint32_t)json_array_size(v);
	return 0;
}

static const struct api_field api_network_fields[] = {
	{ "name", JSON_STRING, 1, api_set_network_name, 0 },
	{ "subnet", JSON_STRING, 1, api_set_network_subnet, 0 },
	{ "subnet6", JSON_STRING, 0, api_set_network_subnet6, 0 },
	{ "peer", JSON_STRING, 0, api_set_network_peer, 0 },
	{ "uplinks", JSON_ARRAY, 0, api_set_network_uplinks, 0 },
};

static const struct api_field api_route_fields[] = {
	{ "prefix", JSON_STRING, 1, api_set_route_prefix, 0 },
	{ "via", JSON_STRING, 0, api_set_route_via, 0 },
};

/* The request for a network route: tenant and (optionally) network from the path. */
static int
api_network_request(struct api_request *req, struct api_response *resp, int with_body,
    struct proto_network_request *r)
{
	uint32_t given;

	memset(r, 0, sizeof(*r));
	r->auth = req->auth;
	if (with_body && api_json_parse(req->body, req->body_len, api_network_fields,
	    ARRAY_SIZE(api_network_fields), &r->spec, &given, resp) < 0)
		return -1;
	if (api_param(req, 0, r->spec.tenant, sizeof(r->spec.tenant), "tenant", resp) < 0)
		return -1;
	if (req->nparams > 1 &&
	    api_param(req, 1, r->spec.name, sizeof(r->spec.name), "network", resp) < 0)
		return -1;
	return 0;
}

static void
api_network_create(struct api_request *req, struct api_response *resp)
{
	struct proto_network_request r;
	json_t *n = NULL;

	if (api_network_request(req, resp, 1, &r) < 0 ||
	    api_parent_call(MSG_NETWORK_CREATE, &r, sizeof(r), api_collect_network, &n, resp) < 0)
		return;
	resp->status = 201;
	resp->json = n;
	snprintf(resp->location, sizeof(resp->location), "/v1/tenants/%s/networks/%s",
	    r.spec.tenant, r.spec.name);
}

static void
api_network_list(struct api_request *req, struct api_response *resp)
{
	struct proto_network_request r;
	json_t *items = json_array();

	if (api_network_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_NETWORK_LIST, &r, sizeof(r), api_collect_networks, items,
	    resp) < 0) {
		json_decref(items);
		return;
	}
	resp->status = 200;
	resp->json = json_pack("{s:o}", "items", items);
}

static void
api_network_get(struct api_request *req, struct api_response *resp)
{
	struct proto_network_request r;
	json_t *n = NULL;

	if (api_network_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_NETWORK_GET, &r, sizeof(r), api_collect_network, &n, resp) < 0)
		return;
	resp->status = 200;
	resp->json = n;
}

static void
api_network_delete(struct api_request *req, struct api_response *resp)
{
	struct proto_network_request r;

	if (api_network_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_NETWORK_DELETE, &r, sizeof(r), api_collect_done, NULL, resp) < 0)
		return;
	resp->status = 204;
}

static int
api_netroute_request(struct api_request *req, struct api_response *resp, int with_body,
    struct proto_route_request *r)
{
	uint32_t given;
	char *end;

	memset(r, 0, sizeof(*r));
	r->auth = req->auth;
	if (with_body && api_json_parse(req->body, req->body_len, api_route_fields,
	    ARRAY_SIZE(api_route_fields), &r->spec, &given, resp) < 0)
		return -1;
	if (api_param(req, 0, r->spec.tenant, sizeof(r->spec.tenant), "tenant", resp) < 0 ||
	    api_param(req, 1, r->spec.network, sizeof(r->spec.network), "network", resp) < 0)
		return -1;
	if (req->nparams > 2) {
		r->spec.id = strtoll(req->params[2], &end, 10);
		if (req->params[2][0] < '1' || req->params[2][0] > '9' || *end != '\0' ||
		    r->spec.id <= 0) {
			api_problem(resp, 404, "route \"%.40s\" not found", req->params[2]);
			return -1;
		}
	}
	return 0;
}

static void
api_route_add(struct api_request *req, struct api_response *resp)
{
	struct proto_route_request r;
	json_t *o = NULL;

	if (api_netroute_request(req, resp, 1, &r) < 0 ||
	    api_parent_call(MSG_ROUTE_ADD, &r, sizeof(r), api_collect_route, &o, resp) < 0)
		return;
	resp->status = 201;
	resp->json = o;
	snprintf(resp->location, sizeof(resp->location), "/v1/tenants/%s/networks/%s/routes/%lld",
	    r.spec.tenant, r.spec.network, (long long)json_integer_value(json_object_get(o, "id")));
}

static void
api_route_list(struct api_request *req, struct api_response *resp)
{
	struct proto_route_request r;
	json_t *items = json_array();

	if (api_netroute_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_ROUTE_LIST, &r, sizeof(r), api_collect_routes, items, resp) < 0) {
		json_decref(items);
		return;
	}
	resp->status = 200;
	resp->json = json_pack("{s:o}", "items", items);
}

static void
api_route_delete(struct api_request *req, struct api_response *resp)
{
	struct proto_route_request r;

	if (api_netroute_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_ROUTE_DELETE, &r, sizeof(r), api_collect_done, NULL, resp) < 0)
		return;
	resp->status = 204;
}

/* Uplinks and peers ----------------------------------------------------- */

/*
 * Emulation numbers: what the API shows and takes (milliseconds, percent)
 * against what is stored (microseconds, parts per million).  One row per
 * field of a direction.
 */
static const struct api_emu_field {
	const char *name;
	uint32_t bit;			/* UPLINK_SET_* */
	double scale;			/* stored = given * scale */
	double max;			/* in the API's unit */
	int integer;			/* only whole numbers */
	int nullable;			/* null = 0 (rate: not limited) */
	double min;			/* least allowed when not null */
} api_emu_fields[] = {
	{ "rate_kbps", UPLINK_SET_RATE, 1, 1e8, 1, 1, 1 },
	{ "delay_ms", UPLINK_SET_DELAY, 1000, 10000, 0, 0, 0 },
	{ "jitter_ms", UPLINK_SET_JITTER, 1000, 5000, 0, 0, 0 },
	{ "loss_percent", UPLINK_SET_LOSS, 10000, 100, 0, 0, 0 },
	{ "slot_ms", UPLINK_SET_SLOT, 1000, 1000, 0, 0, 0 },
	{ "queue_kb", UPLINK_SET_QUEUE, 1, EMU_QUEUE_KB_MAX, 1, 0, 0 },
};

static json_t *
api_emu_dir_json(const struct emu_dir *d)
{
	json_t *o = json_object();

	for (size_t i = 0; i < ARRAY_SIZE(api_emu_fields); i++) {
		const struct api_emu_field *f = &api_emu_fields[i];
		uint64_t v = uplink_dir_get(d, f->bit);

		if (f->nullable && v == 0)
			json_object_set_new(o, f->name, json_null());
		else if (f->integer)
			json_object_set_new(o, f->name, json_integer((json_int_t)v));
		else
			json_object_set_new(o, f->name, json_real((double)v / f->scale));
	}
	return o;
}

static json_t *
api_emu_counters_json(const struct emu_counters *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I}", "queued", (json_int_t)c->queued,
	    "sent", (json_int_t)c->sent, "lost", (json_int_t)c->lost,
	    "overflow", (json_int_t)c->overflow, "flushed", (json_int_t)c->flushed);
}

/*
 * The paths of an uplink as its probes measure them (an uplink, and the
 * interface it is on): milliseconds and percent from the stored
 * microseconds and parts per million; no number yet while no probe has
 * been answered.
 */
json_t *
api_paths_json(const struct uplink_path *p, uint32_t n)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < n && i < UPLINK_PATHS_MAX; i++) {
		int known = strcmp(p[i].state, "unknown") != 0;

		json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:I, s:I}",
		    "peer", p[i].peer, "endpoint", p[i].endpoint, "state", p[i].state,
		    "rtt_ms", known ? json_real(p[i].rtt_us / 1000.0) : json_null(),
		    "jitter_ms", known ? json_real(p[i].jitter_us / 1000.0) : json_null(),
		    "loss_percent", known ? json_real(p[i].loss_ppm / 10000.0) : json_null(),
		    "probes_sent", (json_int_t)p[i].probes_sent,
		    "probes_answered", (json_int_t)p[i].probes_answered));
	}
	return a;
}

static json_t *
api_uplink_json(const struct uplink *u)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o}", "name", u->name,
	    "interface", u->interface, "driver", u->driver, "address", u->address,
	    "state", u->state, "link", u->link_up ? "up" : "down",
	    "admin_state", u->admin_down ? "down" : "up",
	    "created_at", api_time(u->created_at));

	if (u->netns[0] != '\0')
		json_object_set_new(o, "netns", json_string(u->netns));
	if (!u->link_up && u->link_reason[0] != '\0')
		json_object_set_new(o, "link_reason", json_string(u->link_reason));
	json_object_set_new(o, "flap", u->flap[0] ? json_string(u->flap) : json_null());
	if (u->emu.profile[0] == '\0')
		json_object_set_new(o, "emulation", json_null());
	else
		json_object_set_new(o, "emulation", json_pack("{s:s, s:I, s:o, s:o, s:o}",
		    "profile", u->emu.profile, "seed", (json_int_t)u->emu.seed,
		    "egress", api_emu_dir_json(&u->emu.egress),
		    "ingress", api_emu_dir_json(&u->emu.ingress),
		    "counters", json_pack("{s:o, s:o}",
		    "egress", api_emu_counters_json(&u->emu_count[0]),
		    "ingress", api_emu_counters_json(&u->emu_count[1]))));
	json_object_set_new(o, "counters", json_pack("{s:I, s:I, s:I, s:I, s:I}",
	    "rx_packets", (json_int_t)u->rx_packets, "rx_bytes", (json_int_t)u->rx_bytes,
	    "tx_packets", (json_int_t)u->tx_packets, "tx_bytes", (json_int_t)u->tx_bytes,
	    "drops", (json_int_t)u->drops));
	json_object_set_new(o, "capacity_kbps", u->capacity_kbps ?
	    json_integer((json_int_t)u->capacity_kbps) : json_null());
	json_object_set_new(o, "flows", json_integer((json_int_t)u->flows));
	json_object_set_new(o, "paths", api_paths_json(u->paths, u->npaths));
	return o;
}

static json_t *
api_peer_json(const struct peer *p)
{
	json_t *eps = json_object();

	for (uint32_t i = 0; i < p->nendpoints && i < PEER_ENDPOINTS_MAX; i++)
		json_object_set_new(eps, p->endpoints[i].uplink, json_string(p->endpoints[i].endpoint));
	return json_pack("{s:s, s:o, s:o}", "name", p->name, "endpoints", eps, "created_at",
	    api_time(p->created_at));
}

#define API_ONE_COLLECTOR(fn, msgtype, rec, render)			\
	static int fn(const struct msg *m, void *arg)			\
	{								\
		if (m->hdr.type != msgtype)				\
			return -1;					\
		*(json_t **)arg = render((const rec *)m->data);		\
		return 0;						\
	}
#define API_LIST_COLLECTOR(fn, msgtype, rec, render)			\
	static int fn(const struct msg *m, void *arg)			\
	{								\
		const rec *x = (const rec *)m->data;			\
		if (m->hdr.type != msgtype)				\
			return -1;					\
		for (size_t i = 0; i < m->hdr.len / sizeof(*x); i++)	\
			json_array_append_new(arg, render(&x[i]));	\
		return 0;						\
	}
API_ONE_COLLECTOR(api_collect_uplink, MSG_REPLY_UPLINK, struct uplink, api_uplink_json)
API_LIST_COLLECTOR(api_collect_uplinks, MSG_REPLY_UPLINKS, struct uplink, api_uplink_json)
API_ONE_COLLECTOR(api_collect_peer, MSG_REPLY_PEER, struct peer, api_peer_json)
API_LIST_COLLECTOR(api_collect_peers, MSG_REPLY_PEERS, struct peer, api_peer_json)

API_STRING_SETTER(api_set_peer_name, struct peer, name, "name")

/* One direction: {"rate_kbps": 1000, "delay_ms": 20, ...}; sets bits in *set. */
static int
api_set_emu_dir(json_t *v, const char *where, struct emu_dir *d, uint32_t *set, char *why,
    size_t whylen)
{
	const char *key;
	json_t *x;

	json_object_foreach(v, key, x) {
		const struct api_emu_field *f = NULL;
		double n;

		for (size_t i = 0; i < ARRAY_SIZE(api_emu_fields); i++)
			if (strcmp(api_emu_fields[i].name, key) == 0)
				f = &api_emu_fields[i];
		if (f == NULL) {
			snprintf(why, whylen, "unknown field \"emulation.%s.%s\"", where, key);
			return -1;
		}
		if (json_is_null(x) && f->nullable) {
			uplink_dir_set(d, f->bit, 0);
			*set |= f->bit;
			continue;
		}
		if (f->integer ? !json_is_integer(x) : !json_is_number(x)) {
			snprintf(why, whylen, "emulation.%s.%s must be %s%s", where, key,
			    f->integer ? "an integer" : "a number", f->nullable ? " or null" : "");
			return -1;
		}
		n = json_number_value(x);
		if (!(n >= f->min) || n > f->max) {
			snprintf(why, whylen, "emulation.%s.%s %g is out of range: %g to %g%s", where,
			    key, n, f->min, f->max, f->nullable ? " (null: not limited)" : "");
			return -1;
		}
		uplink_dir_set(d, f->bit, (uint64_t)llround(n * f->scale));
		*set |= f->bit;
	}
	return 0;
}

static int
api_set_emu_profile(json_t *v, void *out, char *why, size_t whylen)
{
	return api_set_string(v, ((struct uplink_change *)out)->profile,
	    sizeof(((struct uplink_change *)out)->profile), "emulation.profile", why, whylen);
}

static int
api_set_emu_seed(json_t *v, void *out, char *why, size_t whylen)
{
	struct uplink_change *c = out;

	if (json_integer_value(v) < 0) {
		snprintf(why, whylen, "emulation.seed must not be negative");
		return -1;
	}
	c->seed = (uint64_t)json_integer_value(v);
	c->has_seed = 1;
	return 0;
}

static int
api_set_emu_egress(json_t *v, void *out, char *why, size_t whylen)
{
	struct uplink_change *c = out;

	return api_set_emu_dir(v, "egress", &c->dir[UPLINK_EGRESS], &c->set[UPLINK_EGRESS], why,
	    whylen);
}

static int
api_set_emu_ingress(json_t *v, void *out, char *why, size_t whylen)
{
	struct uplink_change *c = out;

	return api_set_emu_dir(v, "ingress", &c->dir[UPLINK_INGRESS], &c->set[UPLINK_INGRESS], why,
	    whylen);
}

static const struct api_field api_emu_fields_top[] = {
	{ "profile", JSON_STRING, 0, api_set_emu_profile, 0 },
	{ "seed", JSON_INTEGER, 0, api_set_emu_seed, 0 },
	{ "egress", JSON_OBJECT, 0, api_set_emu_egress, 0 },
	{ "ingress", JSON_OBJECT, 0, api_set_emu_ingress, 0 },
};

/* The request's change, from a setter given the request. */
static struct uplink_change *
api_uplink_change(void *out)
{
	return &((struct proto_uplink_request *)out)->change;
}

/* "emulation": {...}, or null for off. */
static int
api_set_uplink_emulation(json_t *v, void *out, char *why, size_t whylen)
{
	struct uplink_change *c = api_uplink_change(out);
	uint32_t given = 0;

	if (json_is_null(v)) {
		snprintf(c->profile, sizeof(c->profile), "off");
		return 0;
	}
	if (!json_is_object(v)) {
		snprintf(why, whylen, "field \"emulation\" must be an object or null");
		return -1;
	}
	return api_json_apply(v, "emulation.", api_emu_fields_top, ARRAY_SIZE(api_emu_fields_top),
	    c, &given, why, whylen);
}

/* "state": "up" or "down" (the drill). */
static int
api_set_uplink_state(json_t *v, void *out, char *why, size_t whylen)
{
	struct uplink_change *c = api_uplink_change(out);
	const char *s = json_string_value(v);

	if (strcmp(s, "up") == 0 || strcmp(s, "down") == 0) {
		c->admin = s[0] == 'u' ? UPLINK_ADMIN_UP : UPLINK_ADMIN_DOWN;
		return 0;
	}
	snprintf(why, whylen, "state must be \"up\" or \"down\"");
	return -1;
}

/* "flap": "down=200ms,up=800ms[,count=N]", or null to stop. */
static int
api_set_uplink_flap(json_t *v, void *out, char *why, size_t whylen)
{
	struct uplink_change *c = api_uplink_change(out);
	struct emu_flap f;
	char err[160];

	if (json_is_null(v)) {
		c->flap_op = UPLINK_FLAP_CLEAR;
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) >= sizeof(c->flap) ||
	    emu_flap_parse(json_string_value(v), &f, err, sizeof(err)) < 0) {
		snprintf(why, whylen, "flap: %s", json_is_string(v) ? (json_string_length(v) >=
		    sizeof(c->flap) ? "too long" : err) :
		    "must be a pattern like \"down=200ms,up=800ms,count=5\", or null");
		return -1;
	}
	memcpy(c->flap, json_string_value(v), json_string_length(v) + 1);
	c->flap_op = UPLINK_FLAP_SET;
	return 0;
}

/* Setters of the spec, given the request. */
#define API_UPLINK_SPEC_SETTER(fn, field, label)				static int fn(json_t *v, void *out, char *why, size_t whylen)		{										struct uplink *u = &((struct proto_uplink_request *)out)->spec; 		return api_set_string(v, u->field, sizeof(u->field), label, why, whylen); 	}
API_UPLINK_SPEC_SETTER(api_set_uplink_name, name, "name")
API_UPLINK_SPEC_SETTER(api_set_uplink_interface, interface, "interface")
API_UPLINK_SPEC_SETTER(api_set_uplink_netns, netns, "netns")
API_UPLINK_SPEC_SETTER(api_set_uplink_driver, driver, "driver")
API_UPLINK_SPEC_SETTER(api_set_uplink_address, address, "address")

static const struct api_field api_uplink_fields[] = {
	{ "name", JSON_STRING, 1, api_set_uplink_name, 0 },
	{ "interface", JSON_STRING, 1, api_set_uplink_interface, 0 },
	{ "netns", JSON_STRING, 0, api_set_uplink_netns, 0 },
	{ "driver", JSON_STRING, 0, api_set_uplink_driver, 0 },
	{ "address", JSON_STRING, 0, api_set_uplink_address, 0 },
	{ "emulation", API_JSON_ANY, 0, api_set_uplink_emulation, 0 },
	{ "state", JSON_STRING, 0, api_set_uplink_state, 0 },
	{ "flap", API_JSON_ANY, 0, api_set_uplink_flap, 0 },
};

/* PATCH: only what may change live. */
static const struct api_field api_uplink_patch_fields[] = {
	{ "emulation", API_JSON_ANY, 0, api_set_uplink_emulation, 0 },
	{ "state", JSON_STRING, 0, api_set_uplink_state, 0 },
	{ "flap", API_JSON_ANY, 0, api_set_uplink_flap, 0 },
};

/* {"wan1": "ADDRESS:PORT", ...} */
static int
api_set_peer_endpoints(json_t *v, void *out, char *why, size_t whylen)
{
	struct peer *p = out;
	const char *key;
	json_t *e;

	if (json_object_size(v) > PEER_ENDPOINTS_MAX) {
		snprintf(why, whylen, "endpoints: at most %d", PEER_ENDPOINTS_MAX);
		return -1;
	}
	p->nendpoints = 0;
	json_object_foreach(v, key, e) {
		struct peer_endpoint *ep = &p->endpoints[p->nendpoints];

		if (!json_is_string(e) || strlen(key) >= sizeof(ep->uplink) ||
		    json_string_length(e) >= sizeof(ep->endpoint)) {
			snprintf(why, whylen, "endpoints.%.40s must be \"ADDRESS:PORT\"", key);
			return -1;
		}
		memcpy(ep->uplink, key, strlen(key) + 1);
		memcpy(ep->endpoint, json_string_value(e), json_string_length(e) + 1);
		p->nendpoints++;
	}
	return 0;
}

static const struct api_field api_peer_fields[] = {
	{ "name", JSON_STRING, 1, api_set_peer_name, 0 },
	{ "endpoints", JSON_OBJECT, 1, api_set_peer_endpoints, 0 },
};

/* One generic handler for uplinks and peers: the differences are data. */
struct api_object_kind {
	const char *what;
	size_t req_size, spec_off, name_off, name_size;
	size_t body_off;		/* where the body's setters write, in the request */
	const struct api_field *fields;
	size_t nfields;
	uint32_t create, list, get, del;
	api_reply_fn one, many;
};

static const struct api_object_kind api_uplinks_kind = {
	"uplink", sizeof(struct proto_uplink_request), offsetof(struct proto_uplink_request, spec),
	offsetof(struct uplink, name), TENANT_NAME_MAX + 1, 0, api_uplink_fields,
	ARRAY_SIZE(api_uplink_fields), MSG_UPLINK_CREATE, MSG_UPLINK_LIST, MSG_UPLINK_GET,
	MSG_UPLINK_DELETE, api_collect_uplink, api_collect_uplinks,
};

static const struct api_object_kind api_peers_kind = {
	"peer", sizeof(struct proto_peer_request), offsetof(struct proto_peer_request, spec),
	offsetof(struct peer, name), TENANT_NAME_MAX + 1, offsetof(struct proto_peer_request, spec),
	api_peer_fields,
	ARRAY_SIZE(api_peer_fields), MSG_PEER_CREATE, MSG_PEER_LIST, MSG_PEER_GET,
	MSG_PEER_DELETE, api_collect_peer, api_collect_peers,
};

/* The request: auth, the body (create), the name from the path (get, delete). */
static void *
api_object_request(const struct api_object_kind *k, struct api_request *req,
    struct api_response *resp, int with_body)
{
	char *r = calloc(1, k->req_size);
	uint32_t given;

	if (r == NULL) {
		api_problem(resp, 500, "out of memory");
		return NULL;
	}
	memcpy(r, &req->auth, sizeof(req->auth));	/* every request starts with it */
	if (with_body && api_json_parse(req->body, req->body_len, k->fields, k->nfields,
	    r + k->body_off, &given, resp) < 0) {
		free(r);
		return NULL;
	}
	if (req->nparams > 0 &&
	    api_param(req, 0, r + k->spec_off + k->name_off, k->name_size, k->what, resp) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void
api_object(const struct api_object_kind *k, struct api_request *req,
    struct api_response *resp, uint32_t type)
{
	void *r = api_object_request(k, req, resp, type == k->create);
	json_t *out = NULL;
	int rc;

	if (r == NULL)
		return;
	if (type == k->list) {
		out = json_array();
		rc = api_parent_call(type, r, k->req_size, k->many, out, resp);
	} else {
		rc = api_parent_call(type, r, k->req_size, type == k->del ? api_collect_done : k->one,
		    &out, resp);
	}
	if (rc < 0) {
		json_decref(out);
	} else if (type == k->list) {
		resp->status = 200;
		resp->json = json_pack("{s:o}", "items", out);
	} else if (type == k->del) {
		resp->status = 204;
	} else {
		resp->status = type == k->create ? 201 : 200;
		resp->json = out;
		if (type == k->create)
			snprintf(resp->location, sizeof(resp->location), "/v1/%ss/%.60s", k->what,
			    (const char *)r + k->spec_off + k->name_off);
	}
	free(r);
}

#define API_OBJECT_HANDLER(fn, kind, op)					\
	static void fn(struct api_request *req, struct api_response *resp)	\
	{									\
		api_object(&kind, req, resp, kind.op);				\
	}
/* PATCH /v1/uplinks/{uplink}: emulation and drills, live. */
static void
api_uplink_patch(struct api_request *req, struct api_response *resp)
{
	struct proto_uplink_request r;
	json_t *out = NULL;
	uint32_t given = 0;

	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	if (api_json_parse(req->body, req->body_len, api_uplink_patch_fields,
	    ARRAY_SIZE(api_uplink_patch_fields), &r, &given, resp) < 0 ||
	    api_param(req, 0, r.spec.name, sizeof(r.spec.name), "uplink", resp) < 0)
		return;
	if (api_parent_call(MSG_UPLINK_UPDATE, &r, sizeof(r), api_collect_uplink, &out, resp) < 0)
		return;
	resp->status = 200;
	resp->json = out;
}

API_OBJECT_HANDLER(api_uplink_create, api_uplinks_kind, create)
API_OBJECT_HANDLER(api_uplink_list, api_uplinks_kind, list)
API_OBJECT_HANDLER(api_uplink_get, api_uplinks_kind, get)
API_OBJECT_HANDLER(api_uplink_delete, api_uplinks_kind, del)
API_OBJECT_HANDLER(api_peer_create, api_peers_kind, create)
API_OBJECT_HANDLER(api_peer_list, api_peers_kind, list)
API_OBJECT_HANDLER(api_peer_get, api_peers_kind, get)
API_OBJECT_HANDLER(api_peer_delete, api_peers_kind, del)

/* Policies and flows ---------------------------------------------------- */

/* An enum's name from its table (tenants/policy.c), "unknown" if out of it. */
static const char *
api_enum_name(const char *const *names, uint32_t n, uint32_t v)
{
	return v < n && names[v] != NULL ? names[v] : "unknown";
}

#define API_ACTION_NAME(v) api_enum_name(policy_action_names, POLICY_ACTION_MAX, (v))
#define API_CLASS_NAME(v) api_enum_name(policy_class_names, POLICY_CLASS_MAX, (v))
#define API_STEERING_NAME(v) api_enum_name(policy_steering_names, STEER_MAX, (v))

/* A protocol: its name when it has one, else its number. */
static json_t *
api_protocol_json(int32_t proto)
{
	char buf[16];
	const char *name = policy_protocol_name(proto, buf, sizeof(buf));

	return name == NULL || isdigit((unsigned char)name[0]) ? json_integer(proto) :
	    json_string(name);
}

/* "80" or "1000-2000". */
static json_t *
api_ports_json(uint32_t lo, uint32_t hi)
{
	char buf[24];

	if (lo == hi)
		snprintf(buf, sizeof(buf), "%u", lo);
	else
		snprintf(buf, sizeof(buf), "%u-%u", lo, hi);
	return json_string(buf);
}

/* Only what constrains: an empty match matches every flow. */
static json_t *
api_match_json(const struct policy *p)
{
	json_t *m = json_object();

	if (p->protocol >= 0)
		json_object_set_new(m, "protocol", api_protocol_json(p->protocol));
	if (p->src_prefix[0] != '\0')
		json_object_set_new(m, "src_prefix", json_string(p->src_prefix));
	if (p->dst_prefix[0] != '\0')
		json_object_set_new(m, "dst_prefix", json_string(p->dst_prefix));
	if (p->src_port_lo != 0 || p->src_port_hi != 65535)
		json_object_set_new(m, "src_ports", api_ports_json(p->src_port_lo, p->src_port_hi));
	if (p->dst_port_lo != 0 || p->dst_port_hi != 65535)
		json_object_set_new(m, "dst_ports", api_ports_json(p->dst_port_lo, p->dst_port_hi));
	if (p->dscp_mask != 0) {
		json_t *d = json_array();

		for (int i = 0; i < 64; i++)
			if (p->dscp_mask & (1ull << i))
				json_array_append_new(d, json_integer(i));
		json_object_set_new(m, "dscp", d);
	}
	return m;
}

/* 0 stands for "none" (no cap, the default burst, no bound): null. */
static json_t *
api_nonzero(uint64_t v)
{
	return v != 0 ? json_integer((json_int_t)v) : json_null();
}

static json_t *
api_policy_json(const struct policy *p)
{
	uint32_t n = p->nuplinks < NETWORK_UPLINKS_MAX ? p->nuplinks : NETWORK_UPLINKS_MAX;
	json_t *ups = json_array(), *w = json_array(), *o;
	int weighted = 0;

	for (uint32_t i = 0; i < n; i++) {
		json_array_append_new(ups, json_string(p->uplinks[i]));
		json_array_append_new(w, json_integer(p->weights[i]));
		weighted |= p->weights[i] != 0;
	}
	o = json_pack("{s:s, s:I, s:o, s:s, s:s, s:s, s:o}", "name", p->name,
	    "priority", (json_int_t)p->priority, "match", api_match_json(p),
	    "action", API_ACTION_NAME(p->action), "class", API_CLASS_NAME(p->class),
	    "steering", API_STEERING_NAME(p->steering), "uplinks", ups);
	if (weighted)
		json_object_set_new(o, "weights", w);
	else
		json_decref(w);
	json_object_set_new(o, "rate_kbps", api_nonzero(p->rate_kbps));
	json_object_set_new(o, "burst_kb", api_nonzero(p->burst_kb));
	json_object_set_new(o, "max_latency_ms", api_nonzero(p->max_latency_ms));
	json_object_set_new(o, "created_at", api_time(p->created_at));
	return o;
}

API_ONE_COLLECTOR(api_collect_policy, MSG_REPLY_POLICY, struct policy, api_policy_json)
API_LIST_COLLECTOR(api_collect_policies, MSG_REPLY_POLICIES, struct policy, api_policy_json)

/* The policy of the request a setter is given (a struct policy_spec). */
static struct policy *
api_policy(void *out)
{
	return &((struct policy_spec *)out)->p;
}

/*
 * A whole number from min to max (the table checked it is an integer),
 * checked here so that no value is cut to fit its field.
 */
static int
api_uint(json_t *v, const char *what, uint64_t min, uint64_t max, uint64_t *n, char *why,
    size_t whylen)
{
	json_int_t x = json_integer_value(v);

	if (x < 0 || (uint64_t)x < min || (uint64_t)x > max) {
		snprintf(why, whylen, "%s %lld is out of range: %llu to %llu", what, (long long)x,
		    (unsigned long long)min, (unsigned long long)max);
		return -1;
	}
	*n = (uint64_t)x;
	return 0;
}

/* "one of a, b, c" from a name table. */
static int
api_not_one_of(const char *what, const char *given, const char *const *names, size_t n,
    char *why, size_t whylen)
{
	size_t len = (size_t)snprintf(why, whylen, "%s \"%.32s\" is not one of ", what, given);

	for (size_t i = 0; i < n && len < whylen; i++)
		len += (size_t)snprintf(why + len, whylen - len, "%s%s", i ? ", " : "", names[i]);
	return -1;
}

static int
api_set_policy_name(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);
	struct cnw_error err;

	if (json_string_length(v) >= sizeof(p->name) ||
	    tenant_validate_name("policy", json_string_value(v), &err) < 0) {
		snprintf(why, whylen, "policy name must match ^[a-z][a-z0-9-]{0,30}$ "
		    "(a lower-case letter, then up to 30 lower-case letters, digits or '-')");
		return -1;
	}
	return api_set_string(v, p->name, sizeof(p->name), "name", why, whylen);
}

static int
api_set_policy_priority(json_t *v, void *out, char *why, size_t whylen)
{
	uint64_t n;

	if (api_uint(v, "priority", 0, POLICY_PRIORITY_MAX, &n, why, whylen) < 0)
		return -1;
	api_policy(out)->priority = (uint32_t)n;
	return 0;
}

/* A name ("udp") or a number 0..255. */
static int
api_set_policy_protocol(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);
	uint64_t n;
	int proto;

	if (json_is_integer(v)) {
		if (api_uint(v, "match.protocol", 0, 255, &n, why, whylen) < 0)
			return -1;
		p->protocol = (int32_t)n;
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(why, whylen, "field \"match.protocol\" must be a string or an integer, "
		    "not %s", api_json_type_name(json_typeof(v)));
		return -1;
	}
	if (json_string_length(v) > 16 || (proto = policy_protocol_parse(json_string_value(v))) < 0) {
		snprintf(why, whylen, "match.protocol \"%.32s\" is not a protocol: tcp, udp, icmp, "
		    "icmpv6, sctp, udplite, or a number from 0 to 255", json_string_value(v));
		return -1;
	}
	p->protocol = proto;
	return 0;
}

static int
api_set_policy_src_prefix(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);

	return api_set_string(v, p->src_prefix, sizeof(p->src_prefix), "match.src_prefix", why,
	    whylen);
}

static int
api_set_policy_dst_prefix(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);

	return api_set_string(v, p->dst_prefix, sizeof(p->dst_prefix), "match.dst_prefix", why,
	    whylen);
}

/* "80", "1000-2000", or a number: *lo and *hi. */
static int
api_set_ports(json_t *v, const char *what, uint32_t *lo, uint32_t *hi, char *why, size_t whylen)
{
	uint64_t n;

	if (json_is_integer(v)) {
		if (api_uint(v, what, 0, 65535, &n, why, whylen) < 0)
			return -1;
		*lo = *hi = (uint32_t)n;
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(why, whylen, "field \"%s\" must be a string or an integer, not %s", what,
		    api_json_type_name(json_typeof(v)));
		return -1;
	}
	if (json_string_length(v) > 16 ||
	    policy_ports_parse(json_string_value(v), lo, hi) < 0 || *lo > *hi || *hi > 65535) {
		snprintf(why, whylen, "%s \"%.32s\" is not a port or a range of ports: "
		    "\"80\" or \"1000-2000\", from 0 to 65535, the first not above the last",
		    what, json_string_value(v));
		return -1;
	}
	return 0;
}

static int
api_set_policy_src_ports(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);

	return api_set_ports(v, "match.src_ports", &p->src_port_lo, &p->src_port_hi, why, whylen);
}

static int
api_set_policy_dst_ports(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);

	return api_set_ports(v, "match.dst_ports", &p->dst_port_lo, &p->dst_port_hi, why, whylen);
}

/* [46, 34]: DSCP values 0..63. */
static int
api_set_policy_dscp(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);
	size_t i;
	json_t *e;

	p->dscp_mask = 0;
	json_array_foreach(v, i, e) {
		json_int_t d = json_integer_value(e);

		if (!json_is_integer(e) || d < 0 || d > 63) {
			snprintf(why, whylen, "match.dscp[%zu] must be an integer from 0 to 63", i);
			return -1;
		}
		p->dscp_mask |= 1ull << d;
	}
	return 0;
}

static const struct api_field api_match_fields[] = {
	{ "protocol", API_JSON_ANY, 0, api_set_policy_protocol, POLICY_F_PROTOCOL },
	{ "src_prefix", JSON_STRING, 0, api_set_policy_src_prefix, POLICY_F_SRC_PREFIX },
	{ "dst_prefix", JSON_STRING, 0, api_set_policy_dst_prefix, POLICY_F_DST_PREFIX },
	{ "src_ports", API_JSON_ANY, 0, api_set_policy_src_ports, POLICY_F_SRC_PORTS },
	{ "dst_ports", API_JSON_ANY, 0, api_set_policy_dst_ports, POLICY_F_DST_PORTS },
	{ "dscp", JSON_ARRAY, 0, api_set_policy_dscp, POLICY_F_DSCP },
};

/* "match": {...}; the fields it gives go straight into the spec's. */
static int
api_set_policy_match(json_t *v, void *out, char *why, size_t whylen)
{
	return api_json_apply(v, "match.", api_match_fields, ARRAY_SIZE(api_match_fields), out,
	    &((struct policy_spec *)out)->fields, why, whylen);
}

#define API_POLICY_ENUM_SETTER(fn, member, label, parse, names, n)		\
	static int fn(json_t *v, void *out, char *why, size_t whylen)		\
	{									\
		int x = parse(json_string_value(v));				\
		if (x < 0)							\
			return api_not_one_of(label, json_string_value(v), names, n, \
			    why, whylen);					\
		api_policy(out)->member = (uint32_t)x;				\
		return 0;							\
	}
API_POLICY_ENUM_SETTER(api_set_policy_action, action, "action", policy_action_parse,
    policy_action_names, POLICY_ACTION_MAX)
API_POLICY_ENUM_SETTER(api_set_policy_class, class, "class", policy_class_parse,
    policy_class_names, POLICY_CLASS_MAX)
API_POLICY_ENUM_SETTER(api_set_policy_steering, steering, "steering", policy_steering_parse,
    policy_steering_names, STEER_MAX)

/* ["wan1", "wan2"]: names, in order of preference. */
static int
api_set_policy_uplinks(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);
	size_t i;
	json_t *e;

	if (json_array_size(v) > NETWORK_UPLINKS_MAX) {
		snprintf(why, whylen, "uplinks: at most %d", NETWORK_UPLINKS_MAX);
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) >= sizeof(p->uplinks[0])) {
			snprintf(why, whylen, "uplinks[%zu] must be an uplink's name", i);
			return -1;
		}
		memcpy(p->uplinks[i], json_string_value(e), json_string_length(e) + 1);
	}
	p->nuplinks = (uint32_t)json_array_size(v);
	return 0;
}

/*
 * [3, 1]: one weight per uplink, 1 to POLICY_WEIGHT_MAX; a policy keeps no
 * count of them, 0 standing for "not given", so 0 is refused here.
 */
static int
api_set_policy_weights(json_t *v, void *out, char *why, size_t whylen)
{
	struct policy *p = api_policy(out);
	size_t i;
	json_t *e;

	if (json_array_size(v) > NETWORK_UPLINKS_MAX) {
		snprintf(why, whylen, "weights: at most %d, one per uplink", NETWORK_UPLINKS_MAX);
		return -1;
	}
	json_array_foreach(v, i, e) {
		json_int_t w = json_integer_value(e);

		if (!json_is_integer(e) || w < 1 || w > POLICY_WEIGHT_MAX) {
			snprintf(why, whylen, "weights[%zu] must be an integer from 1 to %d", i,
			    POLICY_WEIGHT_MAX);
			return -1;
		}
		p->weights[i] = (uint32_t)w;
	}
	return 0;
}

static int
api_set_policy_rate(json_t *v, void *out, char *why, size_t whylen)
{
	uint64_t n;

	if (api_uint(v, "rate_kbps", 0, POLICY_RATE_MAX, &n, why, whylen) < 0)
		return -1;
	api_policy(out)->rate_kbps = n;
	return 0;
}

static int
api_set_policy_burst(json_t *v, void *out, char *why, size_t whylen)
{
	uint64_t n;

	if (api_uint(v, "burst_kb", 1, POLICY_BURST_MAX, &n, why, whylen) < 0)
		return -1;
	api_policy(out)->burst_kb = (uint32_t)n;
	return 0;
}

static int
api_set_policy_latency(json_t *v, void *out, char *why, size_t whylen)
{
	uint64_t n;

	if (api_uint(v, "max_latency_ms", 0, POLICY_LATENCY_MAX, &n, why, whylen) < 0)
		return -1;
	api_policy(out)->max_latency_ms = (uint32_t)n;
	return 0;
}

static const struct api_field api_policy_fields[] = {
	{ "name", JSON_STRING, 1, api_set_policy_name, 0 },
	{ "priority", JSON_INTEGER, 0, api_set_policy_priority, POLICY_F_PRIORITY },
	{ "match", JSON_OBJECT, 0, api_set_policy_match, 0 },
	{ "action", JSON_STRING, 0, api_set_policy_action, POLICY_F_ACTION },
	{ "class", JSON_STRING, 0, api_set_policy_class, POLICY_F_CLASS },
	{ "steering", JSON_STRING, 0, api_set_policy_steering, POLICY_F_STEERING },
	{ "uplinks", JSON_ARRAY, 0, api_set_policy_uplinks, POLICY_F_UPLINKS },
	{ "weights", JSON_ARRAY, 0, api_set_policy_weights, POLICY_F_WEIGHTS },
	{ "rate_kbps", JSON_INTEGER, 0, api_set_policy_rate, POLICY_F_RATE },
	{ "burst_kb", JSON_INTEGER, 0, api_set_policy_burst, POLICY_F_BURST },
	{ "max_latency_ms", JSON_INTEGER, 0, api_set_policy_latency, POLICY_F_LATENCY },
};

/* The request: the body (create), the tenant and policy from the path. */
static int
api_policy_request(struct api_request *req, struct api_response *resp, int with_body,
    struct proto_policy_request *r)
{
	uint32_t given = 0;

	memset(r, 0, sizeof(*r));
	r->auth = req->auth;
	if (with_body) {
		if (api_json_parse(req->body, req->body_len, api_policy_fields,
		    ARRAY_SIZE(api_policy_fields), &r->spec, &given, resp) < 0)
			return -1;
		r->spec.fields |= given;
	}
	if (api_param(req, 0, r->spec.p.tenant, sizeof(r->spec.p.tenant), "tenant", resp) < 0)
		return -1;
	if (req->nparams > 1 &&
	    api_param(req, 1, r->spec.p.name, sizeof(r->spec.p.name), "policy", resp) < 0)
		return -1;
	return 0;
}

static void
api_policy_create(struct api_request *req, struct api_response *resp)
{
	struct proto_policy_request r;
	json_t *o = NULL;

	if (api_policy_request(req, resp, 1, &r) < 0 ||
	    api_parent_call(MSG_POLICY_CREATE, &r, sizeof(r), api_collect_policy, &o, resp) < 0)
		return;
	resp->status = 201;
	resp->json = o;
	snprintf(resp->location, sizeof(resp->location), "/v1/tenants/%s/policies/%s",
	    r.spec.p.tenant, r.spec.p.name);
}

static void
api_policy_list(struct api_request *req, struct api_response *resp)
{
	struct proto_policy_request r;
	json_t *items = json_array();

	if (api_policy_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_POLICY_LIST, &r, sizeof(r), api_collect_policies, items,
	    resp) < 0) {
		json_decref(items);
		return;
	}
	resp->status = 200;
	resp->json = json_pack("{s:o}", "items", items);
}

static void
api_policy_get(struct api_request *req, struct api_response *resp)
{
	struct proto_policy_request r;
	json_t *o = NULL;

	if (api_policy_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_POLICY_GET, &r, sizeof(r), api_collect_policy, &o, resp) < 0)
		return;
	resp->status = 200;
	resp->json = o;
}

static void
api_policy_delete(struct api_request *req, struct api_response *resp)
{
	struct proto_policy_request r;

	if (api_policy_request(req, resp, 0, &r) < 0 ||
	    api_parent_call(MSG_POLICY_DELETE, &r, sizeof(r), api_collect_done, NULL, resp) < 0)
		return;
	resp->status = 204;
}

static json_t *
api_flow_json(const struct proto_flow *f)
{
	json_t *ups = json_array();

	for (int i = 0; i < 2; i++)
		if (f->uplinks[i][0] != '\0')
			json_array_append_new(ups, json_string(f->uplinks[i]));
	return json_pack("{s:s, s:o, s:s, s:s, s:I, s:I, s:I, s:o, s:s, s:s, s:s, s:o, s:I, s:I, "
	    "s:s, s:I, s:I, s:I}",
	    "network", f->network, "protocol", api_protocol_json((int32_t)f->protocol),
	    "src", f->src, "dst", f->dst, "src_port", (json_int_t)f->sport,
	    "dst_port", (json_int_t)f->dport, "dscp", (json_int_t)f->dscp,
	    "policy", f->policy[0] != '\0' ? json_string(f->policy) : json_null(),
	    "action", API_ACTION_NAME(f->action), "class", API_CLASS_NAME(f->class),
	    "steering", API_STEERING_NAME(f->steering), "uplinks", ups,
	    "packets", (json_int_t)f->packets, "bytes", (json_int_t)f->bytes,
	    "kind", f->elephant ? "elephant" : "mouse", "moves", (json_int_t)f->moves,
	    "age_ms", (json_int_t)f->age_ms, "idle_ms", (json_int_t)f->idle_ms);
}

/* A flow list: the summary first, then the flows in parts. */
struct api_flows {
	struct proto_flow_summary sum;
	int got_sum;
	json_t *items;
};

static int
api_collect_flows(const struct msg *m, void *arg)
{
	const struct proto_flow *x = (const struct proto_flow *)m->data;
	struct api_flows *l = arg;

	if (m->hdr.type == MSG_REPLY_FLOW_SUMMARY && !l->got_sum) {
		memcpy(&l->sum, m->data, sizeof(l->sum));
		l->got_sum = 1;
		return 0;
	}
	if (m->hdr.type != MSG_REPLY_FLOWS || !l->got_sum)
		return -1;
	for (size_t i = 0; i < m->hdr.len / sizeof(*x); i++)
		json_array_append_new(l->items, api_flow_json(&x[i]));
	return 0;
}

#define API_FLOWS_LIMIT_DEFAULT 1000
#define API_FLOWS_LIMIT_MAX 1000000

/* ?network=NAME (a name) and ?limit=N (1..API_FLOWS_LIMIT_MAX). */
static int
api_flows_query(struct api_request *req, struct proto_flow_request *r, struct api_response *resp)
{
	const char *net = api_query_get(req, "network"), *lim = api_query_get(req, "limit");
	struct cnw_error err;
	unsigned long n = 0;
	char *end = NULL;

	if (net != NULL) {
		if (strlen(net) >= sizeof(r->network) ||
		    tenant_validate_name("network", net, &err) < 0) {
			api_problem(resp, 400, "query parameter network must be a network's name "
			    "(^[a-z][a-z0-9-]{0,30}$)");
			return -1;
		}
		snprintf(r->network, sizeof(r->network), "%s", net);
	}
	r->limit = API_FLOWS_LIMIT_DEFAULT;
	if (lim == NULL)
		return 0;
	if (lim[0] >= '0' && lim[0] <= '9' && strlen(lim) <= 7)
		n = strtoul(lim, &end, 10);
	if (end == NULL || *end != '\0' || n < 1 || n > API_FLOWS_LIMIT_MAX) {
		api_problem(resp, 400, "query parameter limit must be a whole number from 1 to %d",
		    API_FLOWS_LIMIT_MAX);
		return -1;
	}
	r->limit = (uint32_t)n;
	return 0;
}

static void
api_flows_list(struct api_request *req, struct api_response *resp)
{
	struct api_flows l = { .items = json_array() };
	struct proto_flow_request r;

	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	if (api_param(req, 0, r.tenant, sizeof(r.tenant), "tenant", resp) < 0 ||
	    api_flows_query(req, &r, resp) < 0 ||
	    api_parent_call(MSG_FLOW_LIST, &r, sizeof(r), api_collect_flows, &l, resp) < 0 ||
	    !l.got_sum) {
		json_decref(l.items);
		if (resp->status == 0)
			api_problem(resp, 500, "a flow list without its summary");
		return;
	}
	resp->status = 200;
	resp->json = json_pack("{s:I, s:I, s:I, s:o}", "active", (json_int_t)l.sum.active,
	    "limit", (json_int_t)l.sum.limit, "dropped", (json_int_t)l.sum.dropped,
	    "items", l.items);
}

struct api_text {
	char *buf;
	size_t len;
};

static int
api_collect_text(const struct msg *m, void *arg)
{
	struct api_text *t = arg;
	char *nb;

	if (m->hdr.type != MSG_REPLY_TEXT || (nb = realloc(t->buf, t->len + m->hdr.len + 1)) == NULL)
		return -1;
	memcpy(nb + t->len, m->data, m->hdr.len);
	t->buf = nb;
	t->len += m->hdr.len;
	return 0;
}

static void
api_metrics(struct api_request *req, struct api_response *resp)
{
	struct proto_request r;
	struct api_text t = { 0 };

	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	if (api_parent_call(MSG_METRICS_GET, &r, sizeof(r), api_collect_text, &t, resp) < 0) {
		free(t.buf);
		return;
	}
	resp->status = 200;
	resp->raw = t.buf ? t.buf : strdup("");
	resp->raw_len = t.len;
	resp->text = 1;
}

static void
api_processes_list(struct api_request *req, struct api_response *resp)
{
	api_list(req, resp, MSG_PROCESS_LIST, api_collect_processes);
}

static const char *const api_delete_tenant_query[] = { "cascade", NULL };
static const char *const api_interface_query[] = { "netns", NULL };
static const char *const api_events_query[] = { "since", NULL };
static const char *const api_flows_query_names[] = { "network", "limit", NULL };

const struct api_route api_routes[] = {
	{ "GET", "/v1", 0, NULL, api_version },
	{ "GET", "/v1/tenants", 1, NULL, api_tenants_list },
	{ "POST", "/v1/tenants", 1, NULL, api_tenant_create },
	{ "GET", "/v1/tenants/{tenant}", 1, NULL, api_tenant_get },
	{ "PATCH", "/v1/tenants/{tenant}", 1, NULL, api_tenant_patch },
	{ "DELETE", "/v1/tenants/{tenant}", 1, api_delete_tenant_query, api_tenant_delete },
	{ "GET", "/v1/processes", 1, NULL, api_processes_list },
	{ "POST", "/v1/tenants/{tenant}/networks", 1, NULL, api_network_create },
	{ "GET", "/v1/tenants/{tenant}/networks", 1, NULL, api_network_list },
	{ "GET", "/v1/tenants/{tenant}/networks/{network}", 1, NULL, api_network_get },
	{ "DELETE", "/v1/tenants/{tenant}/networks/{network}", 1, NULL, api_network_delete },
	{ "POST", "/v1/tenants/{tenant}/networks/{network}/routes", 1, NULL, api_route_add },
	{ "GET", "/v1/tenants/{tenant}/networks/{network}/routes", 1, NULL, api_route_list },
	{ "DELETE", "/v1/tenants/{tenant}/networks/{network}/routes/{route}", 1, NULL,
	  api_route_delete },
	{ "POST", "/v1/tenants/{tenant}/policies", 1, NULL, api_policy_create },
	{ "GET", "/v1/tenants/{tenant}/policies", 1, NULL, api_policy_list },
	{ "GET", "/v1/tenants/{tenant}/policies/{policy}", 1, NULL, api_policy_get },
	{ "DELETE", "/v1/tenants/{tenant}/policies/{policy}", 1, NULL, api_policy_delete },
	{ "GET", "/v1/tenants/{tenant}/flows", 1, api_flows_query_names, api_flows_list },
	{ "POST", "/v1/uplinks", 1, NULL, api_uplink_create },
	{ "GET", "/v1/uplinks", 1, NULL, api_uplink_list },
	{ "GET", "/v1/uplinks/{uplink}", 1, NULL, api_uplink_get },
	{ "PATCH", "/v1/uplinks/{uplink}", 1, NULL, api_uplink_patch },
	{ "DELETE", "/v1/uplinks/{uplink}", 1, NULL, api_uplink_delete },
	{ "POST", "/v1/peers", 1, NULL, api_peer_create },
	{ "GET", "/v1/peers", 1, NULL, api_peer_list },
	{ "GET", "/v1/peers/{peer}", 1, NULL, api_peer_get },
	{ "DELETE", "/v1/peers/{peer}", 1, NULL, api_peer_delete },
	{ "GET", "/v1/interfaces", 1, api_interface_query, api_interfaces_list },
	{ "GET", "/v1/interfaces/{interface}", 1, api_interface_query, api_interface_get },
	{ "GET", "/v1/drivers", 1, NULL, api_drivers_list },
	{ "GET", "/v1/events", 1, api_events_query, api_events },
	{ "GET", "/metrics", 1, NULL, api_metrics },
};

const size_t api_nroutes = ARRAY_SIZE(api_routes);

/* Query parameters (the MHD side lives in api.c) ------------------------ */

static int
api_query_bool(struct api_request *req, const char *name, uint32_t *out,
    struct api_response *resp)
{
	const char *v = api_query_get(req, name);

	*out = 0;
	if (v == NULL || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	api_problem(resp, 400, "query parameter %s must be true or false", name);
	return -1;
}

void
api_route_request(struct api_request *req, struct api_response *resp)
{
	const struct api_route *found = NULL;
	size_t allow_len = 0;
	const char *unknown;

	for (size_t i = 0; i < api_nroutes; i++) {
		const struct api_route *r = &api_routes[i];

		if (!api_path_match(r->pattern, req->path, req->params, &req->nparams))
			continue;
		if (strcmp(r->method, req->method) == 0) {
			found = r;
			break;
		}
		allow_len += (size_t)snprintf(resp->allow + allow_len,
		    sizeof(resp->allow) - allow_len, "%s%s", allow_len ? ", " : "", r->method);
	}
	if (found == NULL) {
		if (allow_len > 0)
			api_problem(resp, 405, "%s is not allowed on %s (allowed: %s)",
			    req->method, req->path, resp->allow);
		else
			api_problem(resp, 404, "no such route: %s", req->path);
		return;
	}
	resp->allow[0] = '\0';
	/* The params of the matching route (the loop may have matched others). */
	api_path_match(found->pattern, req->path, req->params, &req->nparams);
	if ((unknown = api_query_unknown(req, found->query)) != NULL) {
		api_problem(resp, 400, "unknown query parameter \"%s\"", unknown);
		return;
	}
	if (found->auth && req->auth.token[0] == '\0') {
		api_problem(resp, 401, "a bearer token is needed (Authorization: Bearer TOKEN)");
		return;
	}
	found->fn(req, resp);
}
