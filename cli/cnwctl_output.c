/*
 * cnwctl_output.c: rendering of API replies for cnwctl.
 *
 * cnwctl shows the same objects in two ways: as the API's JSON (for scripts,
 * -o json) and as text for a person at a terminal (-o table): a list becomes
 * aligned columns under an upper-case header, one object becomes "key: value"
 * lines.  What each kind of object shows is data, not code: the views[] table
 * below names the columns and fields of each kind by their dotted JSON path,
 * and one generic table printer and one field printer do the rest.  Values
 * are taken verbatim from the reply (no client-side reinterpretation), with
 * control characters masked so a reply cannot drive the terminal; a list or
 * object of plain values is written on one line ("wan1,wan2" for a
 * network's uplinks, "wan1=ADDR:PORT,wan2=..." for a peer's endpoints).
 * A few fields read better put together than verbatim (an uplink's link
 * with the reason it is down, an interface's speed with its duplex, one
 * direction of an emulation with its units, a policy's match as one
 * phrase, a flow's address with its port): those name a formatter.  A
 * view may end with lists shown one line per item (an uplink's paths).
 * Events, which come one at a time from a stream, are one line each.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cnwctl_output.h"

/* Spaces between two table columns. */
#define COLUMN_GAP 3

/*
 * Makes the display string of the value a field's path leads to (NULL when
 * the reply has none); returns NULL only when memory runs out.
 */
typedef char *field_format(const json_t *value);

/* One column of a table or one line of a "key: value" listing. */
struct field {
	const char *label;	/* header (table) or key (show) */
	const char *path;	/* dotted path into the object; "" the object */
	field_format *format;	/* NULL: the value as it is (format_value) */
};

static field_format format_link, format_emu_dir, format_speed,
		    format_rx_rate, format_tx_rate, format_capacity,
		    format_path, format_match, format_all_uplinks,
		    format_rate_kbps, format_latency, format_burst,
		    format_none, format_source, format_destination,
		    format_age;

/* How one kind of object is shown; the arrays end with a NULL label. */
struct view {
	const struct field *columns;	/* list: one row per object */
	const struct field *fields;	/* show: one line per field */
	const struct field *lists;	/* show: then one line per item of each, or NULL */
	const char *footer;		/* show: a last line, or NULL */
};

static const struct field tenant_columns[] = {
	{ "NAME", "name", NULL },
	{ "DESCRIPTION", "description", NULL },
	{ "NETWORKS", "quotas.networks", NULL },
	{ "BANDWIDTH_KBPS", "quotas.bandwidth_kbps", NULL },
	{ "FLOWS", "quotas.flows", NULL },
	{ "CREATED", "created_at", NULL },
	{ NULL, NULL, NULL },
};

#define TENANT_FIELDS \
	{ "name", "name", NULL }, \
	{ "description", "description", NULL }, \
	{ "networks", "quotas.networks", NULL }, \
	{ "bandwidth_kbps", "quotas.bandwidth_kbps", NULL }, \
	{ "flows", "quotas.flows", NULL }, \
	{ "created_at", "created_at", NULL }, \
	{ "updated_at", "updated_at", NULL }

static const struct field tenant_fields[] = {
	TENANT_FIELDS,
	{ NULL, NULL, NULL },
};

static const struct field tenant_created_fields[] = {
	TENANT_FIELDS,
	{ "token", "token", NULL },
	{ NULL, NULL, NULL },
};

static const struct field process_columns[] = {
	{ "ROLE", "role", NULL },
	{ "PID", "pid", NULL },
	{ "STATE", "state", NULL },
	{ "RESTARTS", "restarts", NULL },
	{ "CAPEFF", "sandbox.cap_eff", NULL },
	{ "NNP", "sandbox.no_new_privs", NULL },
	{ "SECCOMP", "sandbox.seccomp", NULL },
	{ "STARTED", "started_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct field process_fields[] = {
	{ "role", "role", NULL },
	{ "pid", "pid", NULL },
	{ "state", "state", NULL },
	{ "restarts", "restarts", NULL },
	{ "started_at", "started_at", NULL },
	{ "last_exit", "last_exit", NULL },
	{ "cap_eff", "sandbox.cap_eff", NULL },
	{ "no_new_privs", "sandbox.no_new_privs", NULL },
	{ "seccomp", "sandbox.seccomp", NULL },
	{ NULL, NULL, NULL },
};

static const struct field network_columns[] = {
	{ "NAME", "name", NULL },
	{ "SUBNET", "subnet", NULL },
	{ "SUBNET6", "subnet6", NULL },
	{ "NETNS", "netns", NULL },
	{ "STATUS", "status", NULL },
	{ NULL, NULL, NULL },
};

static const struct field network_fields[] = {
	{ "tenant", "tenant", NULL },
	{ "name", "name", NULL },
	{ "subnet", "subnet", NULL },
	{ "subnet6", "subnet6", NULL },
	{ "netns", "netns", NULL },
	{ "gateway", "gateway", NULL },
	{ "gateway6", "gateway6", NULL },
	{ "status", "status", NULL },
	{ "status_detail", "status_detail", NULL },
	{ "peer", "peer", NULL },
	{ "uplinks", "uplinks", NULL },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct field route_columns[] = {
	{ "ID", "id", NULL },
	{ "PREFIX", "prefix", NULL },
	{ "VIA", "via", NULL },
	{ "CREATED", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct field route_fields[] = {
	{ "id", "id", NULL },
	{ "prefix", "prefix", NULL },
	{ "via", "via", NULL },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct field uplink_columns[] = {
	{ "NAME", "name", NULL },
	{ "INTERFACE", "interface", NULL },
	{ "DRIVER", "driver", NULL },
	{ "LINK", "", format_link },
	{ "EMULATION", "emulation.profile", NULL },
	{ "ADDRESS", "address", NULL },
	{ NULL, NULL, NULL },
};

static const struct field uplink_fields[] = {
	{ "name", "name", NULL },
	{ "interface", "interface", NULL },
	{ "netns", "netns", NULL },
	{ "driver", "driver", NULL },
	{ "address", "address", NULL },
	{ "state", "state", NULL },
	{ "link", "", format_link },
	{ "admin_state", "admin_state", NULL },
	{ "flap", "flap", NULL },
	{ "emulation", "emulation.profile", NULL },
	{ "seed", "emulation.seed", NULL },
	{ "egress", "emulation.egress", format_emu_dir },
	{ "ingress", "emulation.ingress", format_emu_dir },
	{ "egress_counters", "emulation.counters.egress", NULL },
	{ "ingress_counters", "emulation.counters.ingress", NULL },
	{ "rx_packets", "counters.rx_packets", NULL },
	{ "rx_bytes", "counters.rx_bytes", NULL },
	{ "tx_packets", "counters.tx_packets", NULL },
	{ "tx_bytes", "counters.tx_bytes", NULL },
	{ "drops", "counters.drops", NULL },
	{ "capacity", "capacity_kbps", format_capacity },
	{ "flows", "flows", NULL },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

/* An uplink's paths (and the uplink's on an interface): a line each. */
static const struct field path_lists[] = {
	{ "path", "paths", format_path },
	{ NULL, NULL, NULL },
};

static const struct field peer_columns[] = {
	{ "NAME", "name", NULL },
	{ "ENDPOINTS", "endpoints", NULL },
	{ NULL, NULL, NULL },
};

static const struct field peer_fields[] = {
	{ "name", "name", NULL },
	{ "endpoints", "endpoints", NULL },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct field interface_columns[] = {
	{ "NAME", "name", NULL },
	{ "NETNS", "netns", NULL },
	{ "KIND", "kind", NULL },
	{ "STATE", "state", NULL },
	{ "SPEED", "", format_speed },
	{ "MTU", "mtu", NULL },
	{ "ADDRESSES", "addresses", NULL },
	{ "UPLINK", "uplink", NULL },
	{ NULL, NULL, NULL },
};

static const struct field interface_fields[] = {
	{ "name", "name", NULL },
	{ "netns", "netns", NULL },
	{ "index", "index", NULL },
	{ "kind", "kind", NULL },
	{ "kind_from_config", "kind_from_config", NULL },
	{ "link_kind", "link_kind", NULL },
	{ "driver", "driver", NULL },
	{ "state", "state", NULL },
	{ "operstate", "operstate", NULL },
	{ "speed_mbps", "speed_mbps", NULL },
	{ "duplex", "duplex", NULL },
	{ "mtu", "mtu", NULL },
	{ "mac", "mac", NULL },
	{ "addresses", "addresses", NULL },
	{ "protocols", "protocols", NULL },
	{ "uplink", "uplink", NULL },
	{ "rx_rate", "metrics", format_rx_rate },
	{ "tx_rate", "metrics", format_tx_rate },
	{ "rx_packets", "metrics.rx_packets", NULL },
	{ "rx_bytes", "metrics.rx_bytes", NULL },
	{ "rx_errors", "metrics.rx_errors", NULL },
	{ "rx_dropped", "metrics.rx_dropped", NULL },
	{ "tx_packets", "metrics.tx_packets", NULL },
	{ "tx_bytes", "metrics.tx_bytes", NULL },
	{ "tx_errors", "metrics.tx_errors", NULL },
	{ "tx_dropped", "metrics.tx_dropped", NULL },
	{ NULL, NULL, NULL },
};

static const struct field driver_columns[] = {
	{ "NAME", "name", NULL },
	{ "KIND", "kind", NULL },
	{ "SIGNATURE", "signature", NULL },
	{ "KEY", "key", NULL },
	{ "UPLINKS", "uplinks", NULL },
	{ NULL, NULL, NULL },
};

/* No command shows one driver yet; this is what it would show. */
static const struct field driver_fields[] = {
	{ "name", "name", NULL },
	{ "kind", "kind", NULL },
	{ "abi", "abi", NULL },
	{ "signature", "signature", NULL },
	{ "detail", "detail", NULL },
	{ "key", "key", NULL },
	{ "path", "path", NULL },
	{ "sha256", "sha256", NULL },
	{ "size", "size", NULL },
	{ "uplinks", "uplinks", NULL },
	{ NULL, NULL, NULL },
};

static const struct field policy_columns[] = {
	{ "NAME", "name", NULL },
	{ "PRIO", "priority", NULL },
	{ "MATCH", "match", format_match },
	{ "ACTION", "action", NULL },
	{ "CLASS", "class", NULL },
	{ "STEERING", "steering", NULL },
	{ "UPLINKS", "uplinks", format_all_uplinks },
	{ "RATE", "rate_kbps", format_rate_kbps },
	{ "LATENCY", "max_latency_ms", format_latency },
	{ NULL, NULL, NULL },
};

static const struct field policy_fields[] = {
	{ "name", "name", NULL },
	{ "priority", "priority", NULL },
	{ "match", "match", format_match },
	{ "action", "action", NULL },
	{ "class", "class", NULL },
	{ "steering", "steering", NULL },
	{ "uplinks", "uplinks", format_all_uplinks },
	{ "weights", "weights", NULL },
	{ "rate", "rate_kbps", format_rate_kbps },
	{ "burst", "burst_kb", format_burst },
	{ "max_latency", "max_latency_ms", format_latency },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct field flow_columns[] = {
	{ "NETWORK", "network", NULL },
	{ "PROTO", "protocol", NULL },
	{ "SOURCE", "", format_source },
	{ "DESTINATION", "", format_destination },
	{ "CLASS", "class", NULL },
	{ "POLICY", "policy", NULL },
	{ "UPLINKS", "uplinks", NULL },
	{ "PACKETS", "packets", NULL },
	{ "BYTES", "bytes", NULL },
	{ "KIND", "kind", NULL },
	{ "AGE", "age_ms", format_age },
	{ NULL, NULL, NULL },
};

/* No command shows one flow; this is what it would show. */
static const struct field flow_fields[] = {
	{ "network", "network", NULL },
	{ "protocol", "protocol", NULL },
	{ "source", "", format_source },
	{ "destination", "", format_destination },
	{ "dscp", "dscp", NULL },
	{ "policy", "policy", format_none },
	{ "action", "action", NULL },
	{ "class", "class", NULL },
	{ "steering", "steering", NULL },
	{ "uplinks", "uplinks", NULL },
	{ "packets", "packets", NULL },
	{ "bytes", "bytes", NULL },
	{ "kind", "kind", NULL },
	{ "moves", "moves", NULL },
	{ "age", "age_ms", format_age },
	{ "idle", "idle_ms", format_age },
	{ NULL, NULL, NULL },
};

static const struct view views[] = {
	[CNWCTL_VIEW_TENANT] = {
		.columns = tenant_columns,
		.fields = tenant_fields,
	},
	[CNWCTL_VIEW_TENANT_CREATED] = {
		.columns = tenant_columns,
		.fields = tenant_created_fields,
		.footer = "(save this token now: it is not shown again)",
	},
	[CNWCTL_VIEW_PROCESS] = {
		.columns = process_columns,
		.fields = process_fields,
	},
	[CNWCTL_VIEW_NETWORK] = {
		.columns = network_columns,
		.fields = network_fields,
	},
	[CNWCTL_VIEW_ROUTE] = {
		.columns = route_columns,
		.fields = route_fields,
	},
	[CNWCTL_VIEW_UPLINK] = {
		.columns = uplink_columns,
		.fields = uplink_fields,
		.lists = path_lists,
	},
	[CNWCTL_VIEW_PEER] = {
		.columns = peer_columns,
		.fields = peer_fields,
	},
	[CNWCTL_VIEW_INTERFACE] = {
		.columns = interface_columns,
		.fields = interface_fields,
		.lists = path_lists,
	},
	[CNWCTL_VIEW_DRIVER] = {
		.columns = driver_columns,
		.fields = driver_fields,
	},
	[CNWCTL_VIEW_POLICY] = {
		.columns = policy_columns,
		.fields = policy_fields,
	},
	[CNWCTL_VIEW_FLOW] = {
		.columns = flow_columns,
		.fields = flow_fields,
	},
};

static const char *const format_names[] = {
	[CNWCTL_FORMAT_TABLE] = "table",
	[CNWCTL_FORMAT_JSON] = "json",
};

static int
fail(const char *message)
{
	fprintf(stderr, "cnwctl: %s\n", message);
	return 1;
}

int
cnwctl_format_parse(const char *name, enum cnwctl_format *format)
{
	size_t i;

	for (i = 0; i < sizeof format_names / sizeof format_names[0]; i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*format = (enum cnwctl_format)i;
			return 0;
		}
	}
	return -1;
}

int
cnwctl_output_json(FILE *out, const json_t *value)
{
	if (value == NULL)
		return fail("cnwd sent an empty reply");
	if (json_dumpf(value, out, JSON_INDENT(2) | JSON_ENCODE_ANY) != 0 ||
	    fputc('\n', out) == EOF)
		return fail("cannot write the reply");
	return 0;
}

/* Follows a dotted path ("sandbox.cap_eff") through nested objects. */
static const json_t *
lookup(const json_t *object, const char *path)
{
	while (object != NULL && *path != '\0') {
		size_t len = strcspn(path, ".");

		object = json_object_getn(object, path, len);
		path += len + (path[len] == '.');
	}
	return object;
}

/* Masks control characters so a reply cannot drive the terminal. */
static char *
sanitize(char *text)
{
	unsigned char *p;

	for (p = (unsigned char *)text; p != NULL && *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	return text;
}

static char *
format_number(const json_t *value)
{
	char *text = NULL;
	int len;

	if (json_is_integer(value))
		len = asprintf(&text, "%" JSON_INTEGER_FORMAT,
			       json_integer_value(value));
	else
		len = asprintf(&text, "%g", json_real_value(value));
	return len < 0 ? NULL : text;
}

/* A scalar: "-" for null, "yes"/"no" for booleans; NULL for the rest. */
static char *
format_scalar(const json_t *value)
{
	if (value == NULL || json_is_null(value))
		return strdup("-");
	if (json_is_string(value))
		return strdup(json_string_length(value) > 0 ?
			      json_string_value(value) : "-");
	if (json_is_number(value))
		return format_number(value);
	if (json_is_boolean(value))
		return strdup(json_is_true(value) ? "yes" : "no");
	return NULL;
}

static bool
is_scalar(const json_t *value)
{
	return !json_is_array(value) && !json_is_object(value);
}

/* Whether VALUE is a list or object of scalars only, and not empty. */
static bool
is_flat(const json_t *value)
{
	const char *key;
	json_t *item;
	size_t i;

	if (json_array_size(value) == 0 && json_object_size(value) == 0)
		return false;
	json_array_foreach(value, i, item) {
		if (!is_scalar(item))
			return false;
	}
	json_object_foreach((json_t *)value, key, item) {
		if (!is_scalar(item))
			return false;
	}
	return true;
}

/* Writes ",KEY=VALUE" (no comma first, no "KEY=" for a list's item). */
static int
write_item(FILE *out, bool first, const char *key, const json_t *value)
{
	char *text = format_scalar(value);
	int rc = -1;

	if (text != NULL &&
	    fprintf(out, "%s%s%s%s", first ? "" : ",", key != NULL ? key : "",
		    key != NULL ? "=" : "", text) >= 0)
		rc = 0;
	free(text);
	return rc;
}

/*
 * A flat list as "a,b" (the uplinks of a network), a flat object as
 * "k=v,k=v" (the endpoints of a peer), in the reply's order.
 */
static char *
format_joined(const json_t *value)
{
	const char *key;
	json_t *item;
	char *text = NULL;
	size_t len = 0, i;
	bool first = true;
	int rc = 0;
	FILE *out = open_memstream(&text, &len);

	if (out == NULL)
		return NULL;
	json_array_foreach(value, i, item) {
		rc |= write_item(out, first, NULL, item);
		first = false;
	}
	json_object_foreach((json_t *)value, key, item) {
		rc |= write_item(out, first, key, item);
		first = false;
	}
	if (fclose(out) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static char *
format_value(const json_t *value)
{
	if (is_scalar(value))
		return format_scalar(value);
	if (json_array_size(value) == 0 && json_object_size(value) == 0)
		return strdup("-");
	if (is_flat(value))
		return format_joined(value);
	/* Nested objects and arrays stay compact JSON. */
	return json_dumps(value, JSON_COMPACT);
}

char *
cnwctl_output_value(const json_t *object, const char *path)
{
	return sanitize(format_value(lookup(object, path)));
}

/* What FIELD shows of OBJECT; NULL only when memory runs out. */
static char *
field_value(const json_t *object, const struct field *field)
{
	const json_t *value = lookup(object, field->path);

	if (field->format == NULL)
		return sanitize(format_value(value));
	return sanitize(field->format(value));
}

/* "up", or "down (REASON)" when the uplink says why. */
static char *
format_link(const json_t *uplink)
{
	const char *link = json_string_value(json_object_get(uplink, "link"));
	const char *reason = json_string_value(json_object_get(uplink,
							       "link_reason"));
	char *text = NULL;

	if (link == NULL || *link == '\0')
		return strdup("-");
	if (reason == NULL || *reason == '\0' || strcmp(link, "down") != 0)
		return strdup(link);
	if (asprintf(&text, "%s (%s)", link, reason) < 0)
		return NULL;
	return text;
}

/*
 * One direction of an emulation, as the API has it (rate_kbps, delay_ms,
 * ...), shown with its units: what a field's 0 or null means is said in
 * words, since "rate 0" would read as "nothing passes".
 */
static const struct emu_shown {
	const char *key;	/* in the direction's object */
	const char *label;
	const char *unit;
	const char *none;	/* shown for null or 0; NULL: the number */
} emu_shown[] = {
	{ "rate_kbps", "rate", "kbit/s", "unlimited" },
	{ "delay_ms", "delay", "ms", NULL },
	{ "jitter_ms", "jitter", "ms", NULL },
	{ "loss_percent", "loss", "%", NULL },
	{ "slot_ms", "slot", "ms", "none" },
	{ "queue_kb", "queue", "KiB", "default" },
};

static int
write_emu_item(FILE *out, const struct emu_shown *shown, const json_t *value)
{
	char *number;
	int rc;

	if (shown->none != NULL && (json_is_null(value) ||
	    (json_is_number(value) && json_number_value(value) == 0)))
		return fprintf(out, " %s=%s", shown->label, shown->none) < 0 ?
		       -1 : 0;
	if (value == NULL || json_is_null(value))
		return fprintf(out, " %s=-", shown->label) < 0 ? -1 : 0;
	if ((number = format_value(value)) == NULL)
		return -1;
	rc = fprintf(out, " %s=%s%s", shown->label, number,
		     json_is_number(value) ? shown->unit : "") < 0 ? -1 : 0;
	free(number);
	return rc;
}

/* "rate=50000kbit/s delay=20ms jitter=5ms loss=0.5% slot=none ...". */
static char *
format_emu_dir(const json_t *dir)
{
	char *text = NULL;
	size_t len = 0, i;
	int rc = 0;
	FILE *out;

	if (!json_is_object(dir))
		return strdup("-");
	if ((out = open_memstream(&text, &len)) == NULL)
		return NULL;
	for (i = 0; i < sizeof emu_shown / sizeof emu_shown[0]; i++)
		rc |= write_emu_item(out, &emu_shown[i],
				     json_object_get(dir, emu_shown[i].key));
	if (fclose(out) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	/* Each item wrote its separating space first. */
	memmove(text, text + 1, len);
	return text;
}

/* "10000 full", "100" without a duplex, "-" without a speed. */
static char *
format_speed(const json_t *iface)
{
	const json_t *speed = json_object_get(iface, "speed_mbps");
	const char *duplex = json_string_value(json_object_get(iface,
							       "duplex"));
	char *text = NULL;

	if (!json_is_integer(speed))
		return strdup("-");
	if (asprintf(&text, "%" JSON_INTEGER_FORMAT "%s%s",
		     json_integer_value(speed),
		     duplex != NULL && *duplex != '\0' ? " " : "",
		     duplex != NULL ? duplex : "") < 0)
		return NULL;
	return text;
}

/*
 * "1234567 bit/s, 812.5 packets/s" from an interface's metrics; the rates
 * are reals, which %g would write as 1.23457e+06.
 */
static char *
format_rate(const json_t *metrics, const char *bps_key, const char *pps_key)
{
	const json_t *bps = json_object_get(metrics, bps_key);
	const json_t *pps = json_object_get(metrics, pps_key);
	char *text = NULL;

	if (!json_is_number(bps) || !json_is_number(pps))
		return strdup("-");
	if (asprintf(&text, "%.0f bit/s, %.1f packets/s",
		     json_number_value(bps), json_number_value(pps)) < 0)
		return NULL;
	return text;
}

static char *
format_rx_rate(const json_t *metrics)
{
	return format_rate(metrics, "rx_bps", "rx_pps");
}

static char *
format_tx_rate(const json_t *metrics)
{
	return format_rate(metrics, "tx_bps", "tx_pps");
}

/*
 * Milliseconds or percent from the API's reals: three significant digits
 * ("40.2", "0.125"), whole above 100 ("280"), as %g alone would not.
 */
static int
write_real(FILE *out, const json_t *value, const char *unit)
{
	double x = json_number_value(value);

	if (!json_is_number(value))
		return fprintf(out, "-") < 0 ? -1 : 0;
	return fprintf(out, x >= 100 ? "%.0f%s" : "%.3g%s", x, unit) < 0 ? -1 : 0;
}

/* A number with its unit, or WORD for null or 0 ("none", "default"). */
static char *
format_with_unit(const json_t *value, const char *unit, const char *word)
{
	char *text = NULL;

	if (!json_is_integer(value) || json_integer_value(value) == 0)
		return strdup(word);
	if (asprintf(&text, "%" JSON_INTEGER_FORMAT "%s", json_integer_value(value),
		     unit) < 0)
		return NULL;
	return text;
}

/* An uplink's capacity_kbps: "10000kbit/s", or "unknown". */
static char *
format_capacity(const json_t *value)
{
	return format_with_unit(value, "kbit/s", "unknown");
}

/* A policy's rate_kbps, burst_kb, max_latency_ms; null is "-" or "default". */
static char *
format_rate_kbps(const json_t *value)
{
	return format_with_unit(value, "kbit/s", "-");
}

static char *
format_burst(const json_t *value)
{
	return format_with_unit(value, "KiB", "default");
}

static char *
format_latency(const json_t *value)
{
	return format_with_unit(value, "ms", "-");
}

/* A policy's uplinks: empty is all of the network's. */
static char *
format_all_uplinks(const json_t *value)
{
	return json_array_size(value) == 0 ? strdup("all") : format_value(value);
}

/* A flow's policy: null is the default. */
static char *
format_none(const json_t *value)
{
	return value == NULL || json_is_null(value) ? strdup("none (default)") :
	       format_value(value);
}

/* Writes " KEYWORD VALUE" for the member KEY of a match, if it is there. */
static int
write_match_item(FILE *out, const json_t *match, const char *key,
		 const char *keyword)
{
	const json_t *value = json_object_get(match, key);
	char *text;
	int rc;

	if (value == NULL)
		return 0;
	if ((text = format_value(value)) == NULL)
		return -1;
	rc = fprintf(out, " %s%s%s", keyword, *keyword != '\0' ? " " : "",
		     text) < 0 ? -1 : 0;
	free(text);
	return rc;
}

/*
 * A policy's match as one phrase, in the order a reader says it:
 * "udp dport 5000-5100 dst 10.2.0.0/24 dscp 34,46"; "*" matches all.
 */
static char *
format_match(const json_t *match)
{
	static const struct {
		const char *key, *keyword;
	} items[] = {
		{ "protocol", "" },
		{ "src_ports", "sport" },
		{ "dst_ports", "dport" },
		{ "src_prefix", "src" },
		{ "dst_prefix", "dst" },
		{ "dscp", "dscp" },
	};
	char *text = NULL;
	size_t len = 0, i;
	int rc = 0;
	FILE *out;

	if (json_object_size(match) == 0)
		return strdup("*");
	if ((out = open_memstream(&text, &len)) == NULL)
		return NULL;
	for (i = 0; i < sizeof items / sizeof items[0]; i++)
		rc |= write_match_item(out, match, items[i].key, items[i].keyword);
	if (fclose(out) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	if (len == 0) {		/* only members this cnwctl does not know */
		free(text);
		return json_dumps(match, JSON_COMPACT);
	}
	/* Each item wrote its separating space first. */
	memmove(text, text + 1, len);
	return text;
}

/*
 * A flow's address and port: "10.1.0.2:40000", "[fd00::2]:443"; the
 * address alone for a protocol without ports (an ICMP echo's id is no
 * port).
 */
static char *
format_address(const json_t *flow, const char *addr_key, const char *port_key)
{
	static const char *const with_ports[] = { "tcp", "udp", "sctp", "udplite" };
	const char *addr = json_string_value(json_object_get(flow, addr_key));
	const char *proto = json_string_value(json_object_get(flow, "protocol"));
	const json_t *port = json_object_get(flow, port_key);
	bool has_ports = false;
	char *text = NULL;
	size_t i;

	if (addr == NULL)
		return strdup("-");
	for (i = 0; proto != NULL && i < sizeof with_ports / sizeof with_ports[0]; i++)
		has_ports |= strcmp(proto, with_ports[i]) == 0;
	if (!has_ports || !json_is_integer(port))
		return strdup(addr);
	if (asprintf(&text, strchr(addr, ':') != NULL ? "[%s]:%" JSON_INTEGER_FORMAT :
		     "%s:%" JSON_INTEGER_FORMAT, addr, json_integer_value(port)) < 0)
		return NULL;
	return text;
}

static char *
format_source(const json_t *flow)
{
	return format_address(flow, "src", "src_port");
}

static char *
format_destination(const json_t *flow)
{
	return format_address(flow, "dst", "dst_port");
}

/* Milliseconds as "850ms", "12.3s", "4m05s", "2h03m". */
static char *
format_age(const json_t *value)
{
	json_int_t ms = json_integer_value(value);
	char *text = NULL;
	int len;

	if (!json_is_integer(value) || ms < 0)
		return strdup("-");
	if (ms < 1000)
		len = asprintf(&text, "%" JSON_INTEGER_FORMAT "ms", ms);
	else if (ms < 60000)
		len = asprintf(&text, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		len = asprintf(&text, "%dm%02ds", (int)(ms / 60000),
			       (int)(ms / 1000 % 60));
	else
		len = asprintf(&text, "%" JSON_INTEGER_FORMAT "h%02dm",
			       ms / 3600000, (int)(ms / 60000 % 60));
	return len < 0 ? NULL : text;
}

/*
 * One path of an uplink: "gw 172.31.1.2:4789 up rtt=40.2ms jitter=1.5ms
 * loss=0.1% probes=2398/2400", "-" for what is not measured yet.
 */
static char *
format_path(const json_t *path)
{
	char *peer = format_value(json_object_get(path, "peer"));
	char *endpoint = format_value(json_object_get(path, "endpoint"));
	char *state = format_value(json_object_get(path, "state"));
	char *text = NULL;
	size_t len = 0;
	int rc = -1;
	FILE *out = NULL;

	if (peer != NULL && endpoint != NULL && state != NULL &&
	    (out = open_memstream(&text, &len)) != NULL) {
		rc = fprintf(out, "%s %s %s rtt=", peer, endpoint, state) < 0;
		rc |= write_real(out, json_object_get(path, "rtt_ms"), "ms");
		rc |= fprintf(out, " jitter=") < 0;
		rc |= write_real(out, json_object_get(path, "jitter_ms"), "ms");
		rc |= fprintf(out, " loss=") < 0;
		rc |= write_real(out, json_object_get(path, "loss_percent"), "%");
		rc |= fprintf(out, " probes=%" JSON_INTEGER_FORMAT "/%"
			      JSON_INTEGER_FORMAT,
			      json_integer_value(json_object_get(path,
						 "probes_answered")),
			      json_integer_value(json_object_get(path,
						 "probes_sent"))) < 0;
		rc = fclose(out) != 0 || rc != 0 ? -1 : 0;
	}
	free(peer);
	free(endpoint);
	free(state);
	if (rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static size_t
count_fields(const struct field *fields)
{
	size_t n = 0;

	while (fields[n].label != NULL)
		n++;
	return n;
}

/* Width on a terminal: UTF-8 continuation bytes take no column. */
static size_t
display_width(const char *text)
{
	size_t width = 0;

	for (; *text != '\0'; text++) {
		if (((unsigned char)*text & 0xc0) != 0x80)
			width++;
	}
	return width;
}

/* A table of strings: row 0 is the header, row i+1 the i-th item. */
struct table {
	size_t ncols, nrows;
	char **cells;
	size_t *widths;
};

static int
table_fill(struct table *table, const struct field *columns,
	   const json_t *items)
{
	size_t row, col;

	for (row = 0; row < table->nrows; row++) {
		const json_t *item = row == 0 ? NULL :
				     json_array_get(items, row - 1);

		for (col = 0; col < table->ncols; col++) {
			char **cell = &table->cells[row * table->ncols + col];

			*cell = row == 0 ? strdup(columns[col].label) :
				field_value(item, &columns[col]);
			if (*cell == NULL)
				return -1;
			if (display_width(*cell) > table->widths[col])
				table->widths[col] = display_width(*cell);
		}
	}
	return 0;
}

static int
table_print(FILE *out, const struct table *table)
{
	size_t row, col;

	for (row = 0; row < table->nrows; row++) {
		for (col = 0; col < table->ncols; col++) {
			const char *cell = table->cells[row * table->ncols + col];
			int pad = (int)(table->widths[col] - display_width(cell));

			if (col + 1 == table->ncols)
				fprintf(out, "%s\n", cell);
			else
				fprintf(out, "%s%*s", cell, pad + COLUMN_GAP, "");
		}
	}
	return ferror(out) ? fail("cannot write the reply") : 0;
}

static void
table_free(struct table *table)
{
	size_t i;

	for (i = 0; table->cells != NULL && i < table->nrows * table->ncols; i++)
		free(table->cells[i]);
	free(table->cells);
	free(table->widths);
}

static int
render_table(FILE *out, const struct field *columns, const json_t *items)
{
	struct table table = {
		.ncols = count_fields(columns),
		.nrows = json_array_size(items) + 1,
	};
	int rc;

	table.cells = calloc(table.nrows * table.ncols, sizeof *table.cells);
	table.widths = calloc(table.ncols, sizeof *table.widths);
	if (table.cells == NULL || table.widths == NULL ||
	    table_fill(&table, columns, items) != 0)
		rc = fail("out of memory");
	else
		rc = table_print(out, &table);
	table_free(&table);
	return rc;
}

/* A list field: "label: item" for each item of the list, none if empty. */
static int
render_each(FILE *out, const struct field *field, const json_t *list)
{
	json_t *item;
	size_t i;

	json_array_foreach(list, i, item) {
		char *value = field->format != NULL ? field->format(item) :
			      format_value(item);

		if (sanitize(value) == NULL)
			return fail("out of memory");
		fprintf(out, "%s: %s\n", field->label, value);
		free(value);
	}
	return 0;
}

static int
render_fields(FILE *out, const struct view *view, const json_t *object)
{
	const struct field *field;

	for (field = view->fields; field->label != NULL; field++) {
		char *value = field_value(object, field);

		if (value == NULL)
			return fail("out of memory");
		fprintf(out, "%s: %s\n", field->label, value);
		free(value);
	}
	for (field = view->lists; field != NULL && field->label != NULL; field++) {
		if (render_each(out, field, lookup(object, field->path)) != 0)
			return 1;
	}
	if (view->footer != NULL)
		fprintf(out, "%s\n", view->footer);
	return ferror(out) ? fail("cannot write the reply") : 0;
}

int
cnwctl_output_list(FILE *out, enum cnwctl_format format,
		   enum cnwctl_view view, const json_t *reply)
{
	const json_t *items = json_object_get(reply, "items");

	if (format == CNWCTL_FORMAT_JSON)
		return cnwctl_output_json(out, reply);
	if (!json_is_array(items))
		return fail("unexpected reply from cnwd: no \"items\" list");
	return render_table(out, views[view].columns, items);
}

int
cnwctl_output_object(FILE *out, enum cnwctl_format format,
		     enum cnwctl_view view, const json_t *object)
{
	if (format == CNWCTL_FORMAT_JSON)
		return cnwctl_output_json(out, object);
	if (!json_is_object(object))
		return fail("unexpected reply from cnwd: not an object");
	return render_fields(out, &views[view], object);
}

/*
 * An event's data value as one word of a line: quoted as a JSON string
 * when it is empty or holds a space, a quote or a backslash, so the line
 * still splits into key=value words.
 */
static char *
format_event_value(const json_t *value)
{
	const char *text = json_string_value(value);

	if (text != NULL &&
	    (*text == '\0' || strpbrk(text, " \t\"\\") != NULL))
		return json_dumps(value, JSON_ENCODE_ANY);
	return format_value(value);
}

static int
write_event_data(FILE *out, const json_t *data)
{
	const char *key;
	json_t *value;
	char *text;

	json_object_foreach((json_t *)data, key, value) {
		char *name = sanitize(strdup(key));

		text = sanitize(format_event_value(value));
		if (name == NULL || text == NULL) {
			free(name);
			free(text);
			return fail("out of memory");
		}
		fprintf(out, " %s=%s", name, text);
		free(name);
		free(text);
	}
	return 0;
}

int
cnwctl_output_event(FILE *out, enum cnwctl_format format,
		    const json_t *event)
{
	char *when, *type, *object;
	int rc = 0;

	if (format == CNWCTL_FORMAT_JSON) {
		if (json_dumpf(event, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0 ||
		    fputc('\n', out) == EOF)
			return fail("cannot write the event");
		return 0;
	}
	when = cnwctl_output_value(event, "time");
	type = cnwctl_output_value(event, "type");
	object = cnwctl_output_value(event, "object");
	if (when == NULL || type == NULL || object == NULL)
		rc = fail("out of memory");
	else
		fprintf(out, "%s %s %s", when, type, object);
	if (rc == 0)
		rc = write_event_data(out, json_object_get(event, "data"));
	if (rc == 0)
		fputc('\n', out);
	free(when);
	free(type);
	free(object);
	if (rc == 0 && ferror(out))
		rc = fail("cannot write the event");
	return rc;
}
