/*
 * The HAL's nouns: GET /v1/interfaces[/{name}] (discovery's inventory)
 * and GET /v1/drivers (built-in drivers and plug-ins with their signature
 * state).  Both are admin-only: they describe the host, not a tenant.
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/api.h"
#include "hal/discover.h"
#include "lib/util.h"

static json_t *
api_iface_addrs(const struct disc_iface *i)
{
	json_t *a = json_array();

	for (unsigned k = 0; k < i->naddrs && k < DISC_ADDRS_MAX; k++) {
		const struct disc_addr *x = &i->addrs[k];
		char text[INET6_ADDRSTRLEN + 8], host[INET6_ADDRSTRLEN];

		if (inet_ntop(x->family, x->addr, host, sizeof(host)) == NULL)
			continue;
		snprintf(text, sizeof(text), "%s/%u", host, x->prefixlen);
		json_array_append_new(a, json_string(text));
	}
	return a;
}

static json_t *
api_interface_json(const void *rec)
{
	const struct proto_interface *p = rec;
	const struct disc_iface *i = &p->iface;
	const char *protos[8];
	int nprotos = disc_iface_protocols(i, protos, 8);
	json_t *pr = json_array(), *o;
	char mac[18];

	for (int k = 0; k < nprotos; k++)
		json_array_append_new(pr, json_string(protos[k]));
	o = json_pack("{s:s, s:s, s:b, s:s, s:s, s:I, s:o, s:o}", "name", i->name,
	    "kind", disc_kind_name(i->kind), "kind_from_config", i->kind_overridden,
	    "state", disc_iface_up(i) ? "up" : "down", "operstate", i->operstate,
	    "mtu", (json_int_t)i->mtu, "addresses", api_iface_addrs(i), "protocols", pr);
	json_object_set_new(o, "netns", i->netns[0] ? json_string(i->netns) : json_null());
	json_object_set_new(o, "index", json_integer(i->ifindex));
	json_object_set_new(o, "link_kind", i->link_kind[0] ? json_string(i->link_kind) :
	    json_null());
	json_object_set_new(o, "driver", i->driver[0] ? json_string(i->driver) : json_null());
	json_object_set_new(o, "speed_mbps", i->speed_mbps >= 0 ?
	    json_integer((json_int_t)i->speed_mbps) : json_null());
	json_object_set_new(o, "duplex", i->duplex[0] ? json_string(i->duplex) : json_null());
	if (i->has_mac) {
		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", i->mac[0], i->mac[1],
		    i->mac[2], i->mac[3], i->mac[4], i->mac[5]);
		json_object_set_new(o, "mac", json_string(mac));
	}
	json_object_set_new(o, "uplink", p->uplink[0] ? json_string(p->uplink) : json_null());
	if (p->npaths > 0)	/* the live metrics of the uplink on it */
		json_object_set_new(o, "paths", api_paths_json(p->paths, p->npaths));
	json_object_set_new(o, "metrics", json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:f, s:f, s:f, s:f}",
	    "rx_packets", (json_int_t)i->stats.rx_packets, "tx_packets", (json_int_t)i->stats.tx_packets,
	    "rx_bytes", (json_int_t)i->stats.rx_bytes, "tx_bytes", (json_int_t)i->stats.tx_bytes,
	    "rx_errors", (json_int_t)i->stats.rx_errors, "tx_errors", (json_int_t)i->stats.tx_errors,
	    "rx_dropped", (json_int_t)i->stats.rx_dropped,
	    "tx_dropped", (json_int_t)i->stats.tx_dropped,
	    "rx_bps", i->rate.rx_bps, "tx_bps", i->rate.tx_bps,
	    "rx_pps", i->rate.rx_pps, "tx_pps", i->rate.tx_pps));
	return o;
}

/*
 * ?netns=NAME: only that namespace ("" or "host": the host's own); then
 * the interface's name from the path, so that a bad netns is said first.
 */
static int
api_interface_query(struct api_request *req, void *out, struct api_response *resp)
{
	struct proto_interface_request *r = out;
	const char *ns = api_query_get(req, "netns");

	if (ns != NULL) {
		if (strlen(ns) >= sizeof(r->netns)) {
			api_problem(resp, 400, "netns is longer than %zu characters",
			    sizeof(r->netns) - 1);
			return -1;
		}
		snprintf(r->netns, sizeof(r->netns), "%s", strcmp(ns, "host") == 0 ? "" : ns);
		r->has_netns = 1;
	}
	if (req->nparams > 0)
		return api_param(req, 0, r->name, sizeof(r->name), "interface", resp);
	return 0;
}

const struct api_kind api_interface_kind = {
	.req_size = sizeof(struct proto_interface_request),
	.msg = { [API_LIST] = MSG_INTERFACE_LIST, [API_GET] = MSG_INTERFACE_GET },
	.one = { MSG_REPLY_INTERFACE, sizeof(struct proto_interface), api_interface_json },
	.many = { MSG_REPLY_INTERFACES, sizeof(struct proto_interface), api_interface_json },
	.query = api_interface_query,
};

static json_t *
api_driver_json(const void *rec)
{
	const struct proto_driver *d = rec;
	json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:i}", "name", d->name, "kind", d->kind,
	    "signature", d->signature, "uplinks", (json_int_t)d->uplinks, "abi", (int)d->abi);

	if (strcmp(d->kind, "plugin") == 0) {
		json_object_set_new(o, "path", json_string(d->path));
		json_object_set_new(o, "key", d->key[0] ? json_string(d->key) : json_null());
		json_object_set_new(o, "sha256", d->sha256[0] ? json_string(d->sha256) : json_null());
		json_object_set_new(o, "size", json_integer((json_int_t)d->size));
		if (d->detail[0] != '\0')
			json_object_set_new(o, "detail", json_string(d->detail));
	}
	return o;
}

const struct api_kind api_driver_kind = {
	.req_size = sizeof(struct proto_request),
	.msg = { [API_LIST] = MSG_DRIVER_LIST },
	.many = { MSG_REPLY_DRIVERS, sizeof(struct proto_driver), api_driver_json },
};
