/*
 * cnwctl_output.c: rendering of API replies for cnwctl.
 *
 * cnwctl shows the same objects in two ways: as the API's JSON (for
 * scripts, -o json) and as text for a person at a terminal (-o table): a
 * list becomes aligned columns under an upper-case header, one object
 * becomes "key: value" lines.  What each kind of object shows is data, not
 * code: the ctl_layouts[] table below names the columns and fields of each
 * view by their dotted JSON path, and one table printer and one field
 * printer do the rest.  How each value reads is cnwctl_format.c's; a field
 * that reads better put together than verbatim names a formatter there.
 * A view may end with lists shown one line per item (an uplink's paths).
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

#include "cli/cnwctl_format.h"
#include "cli/cnwctl_output.h"

/* Spaces between two table columns. */
#define COLUMN_GAP 3

/* One column of a table or one line of a "key: value" listing. */
struct ctl_field {
	const char *label;	/* header (table) or key (show) */
	const char *path;	/* dotted path into the object; "" the object */
	ctl_field_format *format;	/* NULL: ctl_format_value */
};

/* How one kind of object is shown; the arrays end with a NULL label. */
struct ctl_layout {
	const struct ctl_field *columns;	/* list: one row per object */
	const struct ctl_field *fields;	/* show: one line per field */
	const struct ctl_field *lists;	/* show: a line per item, or NULL */
	const char *footer;		/* show: a last line, or NULL */
};

static const struct ctl_field tenant_columns[] = {
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

static const struct ctl_field tenant_fields[] = {
	TENANT_FIELDS,
	{ NULL, NULL, NULL },
};

static const struct ctl_field tenant_created_fields[] = {
	TENANT_FIELDS,
	{ "token", "token", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field process_columns[] = {
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

static const struct ctl_field process_fields[] = {
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

static const struct ctl_field network_columns[] = {
	{ "NAME", "name", NULL },
	{ "SUBNET", "subnet", NULL },
	{ "SUBNET6", "subnet6", NULL },
	{ "NETNS", "netns", NULL },
	{ "STATUS", "status", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field network_fields[] = {
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

static const struct ctl_field route_columns[] = {
	{ "ID", "id", NULL },
	{ "PREFIX", "prefix", NULL },
	{ "VIA", "via", NULL },
	{ "CREATED", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field route_fields[] = {
	{ "id", "id", NULL },
	{ "prefix", "prefix", NULL },
	{ "via", "via", NULL },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field uplink_columns[] = {
	{ "NAME", "name", NULL },
	{ "INTERFACE", "interface", NULL },
	{ "DRIVER", "driver", NULL },
	{ "LINK", "", ctl_format_link },
	{ "EMULATION", "emulation.profile", NULL },
	{ "ADDRESS", "address", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field uplink_fields[] = {
	{ "name", "name", NULL },
	{ "interface", "interface", NULL },
	{ "netns", "netns", NULL },
	{ "driver", "driver", NULL },
	{ "address", "address", NULL },
	{ "state", "state", NULL },
	{ "link", "", ctl_format_link },
	{ "admin_state", "admin_state", NULL },
	{ "flap", "flap", NULL },
	{ "emulation", "emulation.profile", NULL },
	{ "seed", "emulation.seed", NULL },
	{ "egress", "emulation.egress", ctl_format_emu_dir },
	{ "ingress", "emulation.ingress", ctl_format_emu_dir },
	{ "egress_counters", "emulation.counters.egress", NULL },
	{ "ingress_counters", "emulation.counters.ingress", NULL },
	{ "rx_packets", "counters.rx_packets", NULL },
	{ "rx_bytes", "counters.rx_bytes", NULL },
	{ "tx_packets", "counters.tx_packets", NULL },
	{ "tx_bytes", "counters.tx_bytes", NULL },
	{ "drops", "counters.drops", NULL },
	{ "capacity", "capacity_kbps", ctl_format_capacity },
	{ "flows", "flows", NULL },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

/* An uplink's paths (and the uplink's on an interface): a line each. */
static const struct ctl_field path_lists[] = {
	{ "path", "paths", ctl_format_path },
	{ NULL, NULL, NULL },
};

static const struct ctl_field peer_columns[] = {
	{ "NAME", "name", NULL },
	{ "ENDPOINTS", "endpoints", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field peer_fields[] = {
	{ "name", "name", NULL },
	{ "endpoints", "endpoints", NULL },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field interface_columns[] = {
	{ "NAME", "name", NULL },
	{ "NETNS", "netns", NULL },
	{ "KIND", "kind", NULL },
	{ "STATE", "state", NULL },
	{ "SPEED", "", ctl_format_speed },
	{ "MTU", "mtu", NULL },
	{ "ADDRESSES", "addresses", NULL },
	{ "UPLINK", "uplink", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field interface_fields[] = {
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
	{ "rx_rate", "metrics", ctl_format_rx_rate },
	{ "tx_rate", "metrics", ctl_format_tx_rate },
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

static const struct ctl_field driver_columns[] = {
	{ "NAME", "name", NULL },
	{ "KIND", "kind", NULL },
	{ "SIGNATURE", "signature", NULL },
	{ "KEY", "key", NULL },
	{ "UPLINKS", "uplinks", NULL },
	{ NULL, NULL, NULL },
};

/* No command shows one driver yet; this is what it would show. */
static const struct ctl_field driver_fields[] = {
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

static const struct ctl_field policy_columns[] = {
	{ "NAME", "name", NULL },
	{ "PRIO", "priority", NULL },
	{ "MATCH", "match", ctl_format_match },
	{ "ACTION", "action", NULL },
	{ "CLASS", "class", NULL },
	{ "STEERING", "steering", NULL },
	{ "UPLINKS", "uplinks", ctl_format_all_uplinks },
	{ "RATE", "rate_kbps", ctl_format_rate_kbps },
	{ "LATENCY", "max_latency_ms", ctl_format_latency },
	{ NULL, NULL, NULL },
};

static const struct ctl_field policy_fields[] = {
	{ "name", "name", NULL },
	{ "priority", "priority", NULL },
	{ "match", "match", ctl_format_match },
	{ "action", "action", NULL },
	{ "class", "class", NULL },
	{ "steering", "steering", NULL },
	{ "uplinks", "uplinks", ctl_format_all_uplinks },
	{ "weights", "weights", NULL },
	{ "rate", "rate_kbps", ctl_format_rate_kbps },
	{ "burst", "burst_kb", ctl_format_burst },
	{ "max_latency", "max_latency_ms", ctl_format_latency },
	{ "created_at", "created_at", NULL },
	{ NULL, NULL, NULL },
};

static const struct ctl_field flow_columns[] = {
	{ "NETWORK", "network", NULL },
	{ "PROTO", "protocol", NULL },
	{ "SOURCE", "", ctl_format_source },
	{ "DESTINATION", "", ctl_format_destination },
	{ "CLASS", "class", NULL },
	{ "POLICY", "policy", NULL },
	{ "UPLINKS", "uplinks", NULL },
	{ "PACKETS", "packets", NULL },
	{ "BYTES", "bytes", NULL },
	{ "KIND", "kind", NULL },
	{ "AGE", "age_ms", ctl_format_age },
	{ NULL, NULL, NULL },
};

/* No command shows one flow; this is what it would show. */
static const struct ctl_field flow_fields[] = {
	{ "network", "network", NULL },
	{ "protocol", "protocol", NULL },
	{ "source", "", ctl_format_source },
	{ "destination", "", ctl_format_destination },
	{ "dscp", "dscp", NULL },
	{ "policy", "policy", ctl_format_none },
	{ "action", "action", NULL },
	{ "class", "class", NULL },
	{ "steering", "steering", NULL },
	{ "uplinks", "uplinks", NULL },
	{ "packets", "packets", NULL },
	{ "bytes", "bytes", NULL },
	{ "kind", "kind", NULL },
	{ "moves", "moves", NULL },
	{ "age", "age_ms", ctl_format_age },
	{ "idle", "idle_ms", ctl_format_age },
	{ NULL, NULL, NULL },
};

static const struct ctl_layout ctl_layouts[] = {
	[CTL_VIEW_TENANT] = {
		.columns = tenant_columns,
		.fields = tenant_fields,
	},
	[CTL_VIEW_TENANT_CREATED] = {
		.columns = tenant_columns,
		.fields = tenant_created_fields,
		.footer = "(save this token now: it is not shown again)",
	},
	[CTL_VIEW_PROCESS] = {
		.columns = process_columns,
		.fields = process_fields,
	},
	[CTL_VIEW_NETWORK] = {
		.columns = network_columns,
		.fields = network_fields,
	},
	[CTL_VIEW_ROUTE] = {
		.columns = route_columns,
		.fields = route_fields,
	},
	[CTL_VIEW_UPLINK] = {
		.columns = uplink_columns,
		.fields = uplink_fields,
		.lists = path_lists,
	},
	[CTL_VIEW_PEER] = {
		.columns = peer_columns,
		.fields = peer_fields,
	},
	[CTL_VIEW_INTERFACE] = {
		.columns = interface_columns,
		.fields = interface_fields,
		.lists = path_lists,
	},
	[CTL_VIEW_DRIVER] = {
		.columns = driver_columns,
		.fields = driver_fields,
	},
	[CTL_VIEW_POLICY] = {
		.columns = policy_columns,
		.fields = policy_fields,
	},
	[CTL_VIEW_FLOW] = {
		.columns = flow_columns,
		.fields = flow_fields,
	},
};

static const char *const ctl_format_names[] = {
	[CTL_FORMAT_TABLE] = "table",
	[CTL_FORMAT_JSON] = "json",
};

int
ctl_format_parse(const char *name, enum ctl_format *format)
{
	size_t i;

	for (i = 0; i < sizeof(ctl_format_names) / sizeof(ctl_format_names[0]);
	    i++) {
		if (strcmp(name, ctl_format_names[i]) == 0) {
			*format = (enum ctl_format)i;
			return 0;
		}
	}
	return -1;
}

int
ctl_output_json(FILE *out, const json_t *value, struct cnw_error *err)
{
	if (value == NULL)
		return cnw_err(err, CNW_EUNAVAIL, "cnwd sent an empty reply");
	if (json_dumpf(value, out, JSON_INDENT(2) | JSON_ENCODE_ANY) != 0 ||
	    fputc('\n', out) == EOF)
		return cnw_err(err, CNW_EINTERNAL, "cannot write the reply");
	return 0;
}

/* What FIELD shows of OBJECT; NULL only when memory runs out. */
static char *
ctl_field_value(const json_t *object, const struct ctl_field *field)
{
	const json_t *value = ctl_lookup(object, field->path);

	if (field->format == NULL)
		return ctl_sanitize(ctl_format_value(value));
	return ctl_sanitize(field->format(value));
}

static size_t
ctl_count_fields(const struct ctl_field *fields)
{
	size_t n = 0;

	while (fields[n].label != NULL)
		n++;
	return n;
}

/* Width on a terminal: UTF-8 continuation bytes take no column. */
static size_t
ctl_display_width(const char *text)
{
	size_t width = 0;

	for (; *text != '\0'; text++) {
		if (((unsigned char)*text & 0xc0) != 0x80)
			width++;
	}
	return width;
}

/* A table of strings: row 0 is the header, row i+1 the i-th item. */
struct ctl_table {
	size_t ncols, nrows;
	char **cells;
	size_t *widths;
};

static int
ctl_table_fill(struct ctl_table *table, const struct ctl_field *columns,
    const json_t *items)
{
	const json_t *item;
	size_t row, col;
	char **cell;

	for (row = 0; row < table->nrows; row++) {
		item = row == 0 ? NULL : json_array_get(items, row - 1);
		for (col = 0; col < table->ncols; col++) {
			cell = &table->cells[row * table->ncols + col];
			*cell = row == 0 ? strdup(columns[col].label) :
			    ctl_field_value(item, &columns[col]);
			if (*cell == NULL)
				return -1;
			if (ctl_display_width(*cell) > table->widths[col])
				table->widths[col] = ctl_display_width(*cell);
		}
	}
	return 0;
}

static int
ctl_table_print(FILE *out, const struct ctl_table *table,
    struct cnw_error *err)
{
	const char *cell;
	size_t row, col;
	int pad;

	for (row = 0; row < table->nrows; row++) {
		for (col = 0; col < table->ncols; col++) {
			cell = table->cells[row * table->ncols + col];
			pad = (int)(table->widths[col] -
			    ctl_display_width(cell)) + COLUMN_GAP;
			if (col + 1 == table->ncols)
				fprintf(out, "%s\n", cell);
			else
				fprintf(out, "%s%*s", cell, pad, "");
		}
	}
	if (ferror(out))
		return cnw_err(err, CNW_EINTERNAL, "cannot write the reply");
	return 0;
}

static void
ctl_table_free(struct ctl_table *table)
{
	size_t i;

	for (i = 0; table->cells != NULL && i < table->nrows * table->ncols;
	    i++)
		free(table->cells[i]);
	free(table->cells);
	free(table->widths);
}

static int
ctl_render_table(FILE *out, const struct ctl_field *columns,
    const json_t *items, struct cnw_error *err)
{
	struct ctl_table table = {
		.ncols = ctl_count_fields(columns),
		.nrows = json_array_size(items) + 1,
	};
	int rc;

	table.cells = calloc(table.nrows * table.ncols, sizeof(*table.cells));
	table.widths = calloc(table.ncols, sizeof(*table.widths));
	if (table.cells == NULL || table.widths == NULL ||
	    ctl_table_fill(&table, columns, items) != 0)
		rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
	else
		rc = ctl_table_print(out, &table, err);
	ctl_table_free(&table);
	return rc;
}

/* A list field: "label: item" for each item of the list, none if empty. */
static int
ctl_render_each(FILE *out, const struct ctl_field *field, const json_t *list,
    struct cnw_error *err)
{
	json_t *item;
	char *value;
	size_t i;

	json_array_foreach(list, i, item) {
		value = field->format != NULL ? field->format(item) :
		    ctl_format_value(item);
		if (ctl_sanitize(value) == NULL)
			return cnw_err(err, CNW_EINTERNAL, "out of memory");
		fprintf(out, "%s: %s\n", field->label, value);
		free(value);
	}
	return 0;
}

static int
ctl_render_fields(FILE *out, const struct ctl_layout *layout,
    const json_t *object, struct cnw_error *err)
{
	const struct ctl_field *field;
	char *value;

	for (field = layout->fields; field->label != NULL; field++) {
		if ((value = ctl_field_value(object, field)) == NULL)
			return cnw_err(err, CNW_EINTERNAL, "out of memory");
		fprintf(out, "%s: %s\n", field->label, value);
		free(value);
	}
	for (field = layout->lists; field != NULL && field->label != NULL;
	    field++) {
		if (ctl_render_each(out, field, ctl_lookup(object, field->path),
		    err) != 0)
			return -1;
	}
	if (layout->footer != NULL)
		fprintf(out, "%s\n", layout->footer);
	if (ferror(out))
		return cnw_err(err, CNW_EINTERNAL, "cannot write the reply");
	return 0;
}

int
ctl_output_list(FILE *out, enum ctl_format format, enum ctl_view view,
    const json_t *reply, struct cnw_error *err)
{
	const json_t *items = json_object_get(reply, "items");

	if (format == CTL_FORMAT_JSON)
		return ctl_output_json(out, reply, err);
	if (!json_is_array(items))
		return cnw_err(err, CNW_EUNAVAIL,
		    "unexpected reply from cnwd: no \"items\" list");
	return ctl_render_table(out, ctl_layouts[view].columns, items, err);
}

int
ctl_output_object(FILE *out, enum ctl_format format, enum ctl_view view,
    const json_t *object, struct cnw_error *err)
{
	if (format == CTL_FORMAT_JSON)
		return ctl_output_json(out, object, err);
	if (!json_is_object(object))
		return cnw_err(err, CNW_EUNAVAIL,
		    "unexpected reply from cnwd: not an object");
	return ctl_render_fields(out, &ctl_layouts[view], object, err);
}

/* "flows: 12 of 65536, 0 dropped over the quota", above the table. */
int
ctl_output_flows(FILE *out, enum ctl_format format, const json_t *reply,
    struct cnw_error *err)
{
	const json_t *active = json_object_get(reply, "active");
	const json_t *limit = json_object_get(reply, "limit");
	const json_t *dropped = json_object_get(reply, "dropped");

	if (format == CTL_FORMAT_TABLE) {
		if (!json_is_integer(active) || !json_is_integer(limit) ||
		    !json_is_integer(dropped))
			return cnw_err(err, CNW_EUNAVAIL,
			    "unexpected reply from cnwd: no flow counts");
		fprintf(out, "flows: %" JSON_INTEGER_FORMAT " of %"
		    JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
		    " dropped over the quota\n", json_integer_value(active),
		    json_integer_value(limit), json_integer_value(dropped));
	}
	return ctl_output_list(out, format, CTL_VIEW_FLOW, reply, err);
}

int
ctl_output_version(FILE *out, enum ctl_format format, const json_t *info,
    struct cnw_error *err)
{
	char *name, *version, *api;
	int rc = 0;

	if (format == CTL_FORMAT_JSON)
		return ctl_output_json(out, info, err);
	name = ctl_output_value(info, "name");
	version = ctl_output_value(info, "version");
	api = ctl_output_value(info, "api_version");
	if (name == NULL || version == NULL || api == NULL)
		rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
	else
		fprintf(out, "%s %s (API %s)\n", name, version, api);
	free(name);
	free(version);
	free(api);
	return rc;
}

/*
 * An event's data value as one word of a line: quoted as a JSON string
 * when it is empty or holds a space, a quote or a backslash, so the line
 * still splits into key=value words.
 */
static char *
ctl_format_event_value(const json_t *value)
{
	const char *text = json_string_value(value);

	if (text != NULL &&
	    (*text == '\0' || strpbrk(text, " \t\"\\") != NULL))
		return json_dumps(value, JSON_ENCODE_ANY);
	return ctl_format_value(value);
}

static int
ctl_write_event_data(FILE *out, const json_t *data, struct cnw_error *err)
{
	const char *key;
	char *name, *text;
	json_t *value;
	int rc = 0;

	json_object_foreach((json_t *)data, key, value) {
		name = ctl_sanitize(strdup(key));
		text = ctl_sanitize(ctl_format_event_value(value));
		if (name == NULL || text == NULL)
			rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
		else
			fprintf(out, " %s=%s", name, text);
		free(name);
		free(text);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
ctl_output_event(FILE *out, enum ctl_format format, const json_t *event,
    struct cnw_error *err)
{
	char *when, *type, *object;
	int rc = 0;

	if (format == CTL_FORMAT_JSON) {
		if (json_dumpf(event, out,
		    JSON_COMPACT | JSON_ENCODE_ANY) != 0 ||
		    fputc('\n', out) == EOF)
			return cnw_err(err, CNW_EINTERNAL,
			    "cannot write the event");
		return 0;
	}
	when = ctl_output_value(event, "time");
	type = ctl_output_value(event, "type");
	object = ctl_output_value(event, "object");
	if (when == NULL || type == NULL || object == NULL)
		rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
	else {
		fprintf(out, "%s %s %s", when, type, object);
		rc = ctl_write_event_data(out, json_object_get(event, "data"),
		    err);
	}
	if (rc == 0)
		fputc('\n', out);
	free(when);
	free(type);
	free(object);
	if (rc == 0 && ferror(out))
		rc = cnw_err(err, CNW_EINTERNAL, "cannot write the event");
	return rc;
}
