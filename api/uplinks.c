/*
 * Uplinks and peers: /v1/uplinks[/{uplink}] (with PATCH, live: emulation
 * and drills) and /v1/peers[/{peer}].
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"

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
api_uplink_json(const void *rec)
{
	const struct uplink *u = rec;
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
api_peer_json(const void *rec)
{
	const struct peer *p = rec;
	json_t *eps = json_object();

	for (uint32_t i = 0; i < p->nendpoints && i < PEER_ENDPOINTS_MAX; i++)
		json_object_set_new(eps, p->endpoints[i].uplink, json_string(p->endpoints[i].endpoint));
	return json_pack("{s:s, s:o, s:o}", "name", p->name, "endpoints", eps, "created_at",
	    api_time(p->created_at));
}

/* Bodies -------------------------------------------------------------- */

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

API_STRING_SETTER(api_set_emu_profile, struct uplink_change, profile, "emulation.profile")

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
API_STRING_SETTER(api_set_uplink_name, struct proto_uplink_request, spec.name, "name")
API_STRING_SETTER(api_set_uplink_interface, struct proto_uplink_request, spec.interface,
    "interface")
API_STRING_SETTER(api_set_uplink_netns, struct proto_uplink_request, spec.netns, "netns")
API_STRING_SETTER(api_set_uplink_driver, struct proto_uplink_request, spec.driver, "driver")
API_STRING_SETTER(api_set_uplink_address, struct proto_uplink_request, spec.address, "address")

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

API_STRING_SETTER(api_set_peer_name, struct peer, name, "name")

static const struct api_field api_peer_fields[] = {
	{ "name", JSON_STRING, 1, api_set_peer_name, 0 },
	{ "endpoints", JSON_OBJECT, 1, api_set_peer_endpoints, 0 },
};

/* The body of an uplink is the request: its change is not in the spec. */
const struct api_kind api_uplink_kind = {
	.req_size = sizeof(struct proto_uplink_request),
	.keys = { API_KEY("uplink", struct proto_uplink_request, spec.name) },
	.nkeys = 1,
	.body = {
		[API_CREATE] = API_FIELDS(api_uplink_fields),
		[API_UPDATE] = API_FIELDS(api_uplink_patch_fields),
	},
	.msg = {
		[API_CREATE] = MSG_UPLINK_CREATE,
		[API_LIST] = MSG_UPLINK_LIST,
		[API_GET] = MSG_UPLINK_GET,
		[API_UPDATE] = MSG_UPLINK_UPDATE,
		[API_DELETE] = MSG_UPLINK_DELETE,
	},
	.one = { MSG_REPLY_UPLINK, sizeof(struct uplink), api_uplink_json },
	.many = { MSG_REPLY_UPLINKS, sizeof(struct uplink), api_uplink_json },
	.location = "name",
};

const struct api_kind api_peer_kind = {
	.req_size = sizeof(struct proto_peer_request),
	.keys = { API_KEY("peer", struct proto_peer_request, spec.name) },
	.nkeys = 1,
	.body_off = offsetof(struct proto_peer_request, spec),
	.body = { [API_CREATE] = API_FIELDS(api_peer_fields) },
	.msg = {
		[API_CREATE] = MSG_PEER_CREATE,
		[API_LIST] = MSG_PEER_LIST,
		[API_GET] = MSG_PEER_GET,
		[API_DELETE] = MSG_PEER_DELETE,
	},
	.one = { MSG_REPLY_PEER, sizeof(struct peer), api_peer_json },
	.many = { MSG_REPLY_PEERS, sizeof(struct peer), api_peer_json },
	.location = "name",
};
