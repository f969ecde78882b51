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

/* One column of a table or one line of a "key: value" listing. */
struct field {
	const char *label;	/* header (table) or key (show) */
	const char *path;	/* dotted path into the object */
};

/* How one kind of object is shown; the arrays end with a NULL label. */
struct view {
	const struct field *columns;	/* list: one row per object */
	const struct field *fields;	/* show: one line per field */
	const char *footer;		/* show: a last line, or NULL */
};

static const struct field tenant_columns[] = {
	{ "NAME", "name" },
	{ "DESCRIPTION", "description" },
	{ "NETWORKS", "quotas.networks" },
	{ "BANDWIDTH_KBPS", "quotas.bandwidth_kbps" },
	{ "FLOWS", "quotas.flows" },
	{ "CREATED", "created_at" },
	{ NULL, NULL },
};

#define TENANT_FIELDS \
	{ "name", "name" }, \
	{ "description", "description" }, \
	{ "networks", "quotas.networks" }, \
	{ "bandwidth_kbps", "quotas.bandwidth_kbps" }, \
	{ "flows", "quotas.flows" }, \
	{ "created_at", "created_at" }, \
	{ "updated_at", "updated_at" }

static const struct field tenant_fields[] = {
	TENANT_FIELDS,
	{ NULL, NULL },
};

static const struct field tenant_created_fields[] = {
	TENANT_FIELDS,
	{ "token", "token" },
	{ NULL, NULL },
};

static const struct field process_columns[] = {
	{ "ROLE", "role" },
	{ "PID", "pid" },
	{ "STATE", "state" },
	{ "RESTARTS", "restarts" },
	{ "CAPEFF", "sandbox.cap_eff" },
	{ "NNP", "sandbox.no_new_privs" },
	{ "SECCOMP", "sandbox.seccomp" },
	{ "STARTED", "started_at" },
	{ NULL, NULL },
};

static const struct field process_fields[] = {
	{ "role", "role" },
	{ "pid", "pid" },
	{ "state", "state" },
	{ "restarts", "restarts" },
	{ "started_at", "started_at" },
	{ "last_exit", "last_exit" },
	{ "cap_eff", "sandbox.cap_eff" },
	{ "no_new_privs", "sandbox.no_new_privs" },
	{ "seccomp", "sandbox.seccomp" },
	{ NULL, NULL },
};

static const struct field network_columns[] = {
	{ "NAME", "name" },
	{ "SUBNET", "subnet" },
	{ "SUBNET6", "subnet6" },
	{ "NETNS", "netns" },
	{ "STATUS", "status" },
	{ NULL, NULL },
};

static const struct field network_fields[] = {
	{ "tenant", "tenant" },
	{ "name", "name" },
	{ "subnet", "subnet" },
	{ "subnet6", "subnet6" },
	{ "netns", "netns" },
	{ "gateway", "gateway" },
	{ "gateway6", "gateway6" },
	{ "status", "status" },
	{ "status_detail", "status_detail" },
	{ "peer", "peer" },
	{ "uplinks", "uplinks" },
	{ "created_at", "created_at" },
	{ NULL, NULL },
};

static const struct field route_columns[] = {
	{ "ID", "id" },
	{ "PREFIX", "prefix" },
	{ "VIA", "via" },
	{ "CREATED", "created_at" },
	{ NULL, NULL },
};

static const struct field route_fields[] = {
	{ "id", "id" },
	{ "prefix", "prefix" },
	{ "via", "via" },
	{ "created_at", "created_at" },
	{ NULL, NULL },
};

static const struct field uplink_columns[] = {
	{ "NAME", "name" },
	{ "INTERFACE", "interface" },
	{ "NETNS", "netns" },
	{ "ADDRESS", "address" },
	{ "STATE", "state" },
	{ "LINK", "link" },
	{ "RX_PKTS", "counters.rx_packets" },
	{ "TX_PKTS", "counters.tx_packets" },
	{ "DROPS", "counters.drops" },
	{ NULL, NULL },
};

static const struct field uplink_fields[] = {
	{ "name", "name" },
	{ "interface", "interface" },
	{ "netns", "netns" },
	{ "driver", "driver" },
	{ "address", "address" },
	{ "state", "state" },
	{ "link", "link" },
	{ "rx_packets", "counters.rx_packets" },
	{ "rx_bytes", "counters.rx_bytes" },
	{ "tx_packets", "counters.tx_packets" },
	{ "tx_bytes", "counters.tx_bytes" },
	{ "drops", "counters.drops" },
	{ "created_at", "created_at" },
	{ NULL, NULL },
};

static const struct field peer_columns[] = {
	{ "NAME", "name" },
	{ "ENDPOINTS", "endpoints" },
	{ NULL, NULL },
};

static const struct field peer_fields[] = {
	{ "name", "name" },
	{ "endpoints", "endpoints" },
	{ "created_at", "created_at" },
	{ NULL, NULL },
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
	},
	[CNWCTL_VIEW_PEER] = {
		.columns = peer_columns,
		.fields = peer_fields,
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
				cnwctl_output_value(item, columns[col].path);
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

static int
render_fields(FILE *out, const struct view *view, const json_t *object)
{
	const struct field *field;

	for (field = view->fields; field->label != NULL; field++) {
		char *value = cnwctl_output_value(object, field->path);

		if (value == NULL)
			return fail("out of memory");
		fprintf(out, "%s: %s\n", field->label, value);
		free(value);
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
