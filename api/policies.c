/*
 * Policies and the flows they classify: /v1/tenants/{tenant}/policies
 * [/{policy}] and /v1/tenants/{tenant}/flows.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"

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
api_policy_json(const void *rec)
{
	const struct policy *p = rec;
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

/* Bodies -------------------------------------------------------------- */

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

	return api_set_name(v, "policy", p->name, sizeof(p->name), why, whylen);
}

/* A whole number in member, from min to max. */
#define API_POLICY_UINT_SETTER(fn, member, label, min, max)			\
	static int								\
	fn(json_t *v, void *out, char *why, size_t whylen)			\
	{									\
		uint64_t n;							\
										\
		if (api_uint(v, label, min, max, &n, why, whylen) < 0)		\
			return -1;						\
		api_policy(out)->member = n;					\
		return 0;							\
	}
API_POLICY_UINT_SETTER(api_set_policy_priority, priority, "priority", 0, POLICY_PRIORITY_MAX)
API_POLICY_UINT_SETTER(api_set_policy_rate, rate_kbps, "rate_kbps", 0, POLICY_RATE_MAX)
API_POLICY_UINT_SETTER(api_set_policy_burst, burst_kb, "burst_kb", 1, POLICY_BURST_MAX)
API_POLICY_UINT_SETTER(api_set_policy_latency, max_latency_ms, "max_latency_ms", 0,
    POLICY_LATENCY_MAX)

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

API_STRING_SETTER(api_set_policy_src_prefix, struct policy_spec, p.src_prefix,
    "match.src_prefix")
API_STRING_SETTER(api_set_policy_dst_prefix, struct policy_spec, p.dst_prefix,
    "match.dst_prefix")

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

	return api_set_uplink_names(v, p->uplinks, &p->nuplinks, why, whylen);
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

const struct api_kind api_policy_kind = {
	.req_size = sizeof(struct proto_policy_request),
	.keys = {
		API_KEY("tenant", struct proto_policy_request, spec.p.tenant),
		API_KEY("policy", struct proto_policy_request, spec.p.name),
	},
	.nkeys = 2,
	.body_off = offsetof(struct proto_policy_request, spec),
	.given_off = offsetof(struct proto_policy_request, spec.fields),
	.body = { [API_CREATE] = API_FIELDS(api_policy_fields) },
	.msg = {
		[API_CREATE] = MSG_POLICY_CREATE,
		[API_LIST] = MSG_POLICY_LIST,
		[API_GET] = MSG_POLICY_GET,
		[API_DELETE] = MSG_POLICY_DELETE,
	},
	.one = { MSG_REPLY_POLICY, sizeof(struct policy), api_policy_json },
	.many = { MSG_REPLY_POLICIES, sizeof(struct policy), api_policy_json },
	.location = "name",
};

/* Flows ---------------------------------------------------------------- */

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

void
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
