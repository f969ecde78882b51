/*
 * Networks and their routes: /v1/tenants/{tenant}/networks[/{network}]
 * and .../routes[/{route}].
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"

static json_t *
api_network_json(const void *rec)
{
	const struct proto_network *v = rec;
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
api_route_json(const void *rec)
{
	const struct route *r = rec;

	return json_pack("{s:I, s:s, s:s, s:o}", "id", (json_int_t)r->id, "prefix", r->prefix,
	    "via", r->via, "created_at", api_time(r->created_at));
}

/* Bodies -------------------------------------------------------------- */

API_STRING_SETTER(api_set_network_name, struct network_spec, name, "name")
API_STRING_SETTER(api_set_network_subnet, struct network_spec, subnet, "subnet")
API_STRING_SETTER(api_set_network_subnet6, struct network_spec, subnet6, "subnet6")
API_STRING_SETTER(api_set_network_peer, struct network_spec, peer, "peer")
API_STRING_SETTER(api_set_route_prefix, struct route_spec, prefix, "prefix")
API_STRING_SETTER(api_set_route_via, struct route_spec, via, "via")

static int
api_set_network_uplinks(json_t *v, void *out, char *why, size_t whylen)
{
	struct network_spec *s = out;

	return api_set_uplink_names(v, s->uplinks, &s->nuplinks, why, whylen);
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

const struct api_kind api_network_kind = {
	.req_size = sizeof(struct proto_network_request),
	.keys = {
		API_KEY("tenant", struct proto_network_request, spec.tenant),
		API_KEY("network", struct proto_network_request, spec.name),
	},
	.nkeys = 2,
	.body_off = offsetof(struct proto_network_request, spec),
	.body = { [API_CREATE] = API_FIELDS(api_network_fields) },
	.msg = {
		[API_CREATE] = MSG_NETWORK_CREATE,
		[API_LIST] = MSG_NETWORK_LIST,
		[API_GET] = MSG_NETWORK_GET,
		[API_DELETE] = MSG_NETWORK_DELETE,
	},
	.one = { MSG_REPLY_NETWORK, sizeof(struct proto_network), api_network_json },
	.many = { MSG_REPLY_NETWORKS, sizeof(struct proto_network), api_network_json },
	.location = "name",
};

/* A route's id is the parent's: it is the created route's Location. */
const struct api_kind api_route_kind = {
	.req_size = sizeof(struct proto_route_request),
	.keys = {
		API_KEY("tenant", struct proto_route_request, spec.tenant),
		API_KEY("network", struct proto_route_request, spec.network),
		{ "route", offsetof(struct proto_route_request, spec.id), 0, 0 },
	},
	.nkeys = 3,
	.body_off = offsetof(struct proto_route_request, spec),
	.body = { [API_CREATE] = API_FIELDS(api_route_fields) },
	.msg = {
		[API_CREATE] = MSG_ROUTE_ADD,
		[API_LIST] = MSG_ROUTE_LIST,
		[API_DELETE] = MSG_ROUTE_DELETE,
	},
	.one = { MSG_REPLY_ROUTE, sizeof(struct route), api_route_json },
	.many = { MSG_REPLY_ROUTES, sizeof(struct route), api_route_json },
	.location = "id",
};
