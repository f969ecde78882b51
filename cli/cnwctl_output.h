/*
 * cnwctl_output.h: how cnwctl shows what the API answers.
 *
 * The command handlers in cnwctl.c fetch JSON from cnwd and hand it here with
 * the kind of object it holds (a "view"); this module renders it either as the
 * API's own JSON, pretty-printed, or for a human: an aligned table for a list,
 * "key: value" lines for one object.  Which columns and fields each view has
 * lives in one table in cnwctl_output.c, so a new object kind is one entry
 * there and one enumerator here.
 *
 * Every function returning int returns a process exit status: 0 on success,
 * 1 after printing "cnwctl: ..." on stderr (a reply of the wrong shape, an
 * allocation or write failure).
 */
#ifndef CNWCTL_OUTPUT_H
#define CNWCTL_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

/* Output formats, as chosen by -o. */
enum cnwctl_format {
	CNWCTL_FORMAT_TABLE,
	CNWCTL_FORMAT_JSON,
};

/* Object kinds cnwctl knows how to lay out. */
enum cnwctl_view {
	CNWCTL_VIEW_TENANT,
	CNWCTL_VIEW_TENANT_CREATED,	/* a tenant plus its one-time token */
	CNWCTL_VIEW_PROCESS,
	CNWCTL_VIEW_NETWORK,
	CNWCTL_VIEW_ROUTE,
	CNWCTL_VIEW_UPLINK,
	CNWCTL_VIEW_PEER,
	CNWCTL_VIEW_INTERFACE,
	CNWCTL_VIEW_DRIVER,
	CNWCTL_VIEW_POLICY,
	CNWCTL_VIEW_FLOW,
};

/* Parses "table" or "json"; returns 0, or -1 for any other name. */
int cnwctl_format_parse(const char *name, enum cnwctl_format *format);

/* Prints VALUE as indented JSON followed by a newline. */
int cnwctl_output_json(FILE *out, const json_t *value);

/* Prints a list reply ({"items": [...]}) as a table or as JSON. */
int cnwctl_output_list(FILE *out, enum cnwctl_format format,
		       enum cnwctl_view view, const json_t *reply);

/* Prints one object as "key: value" lines or as JSON. */
int cnwctl_output_object(FILE *out, enum cnwctl_format format,
			 enum cnwctl_view view, const json_t *object);

/*
 * Prints one event of GET /v1/events on one line: as compact JSON, or as
 * "TIME TYPE OBJECT key=value ..." from its "time", "type", "object" and
 * "data" members (a value with spaces, quotes or nothing in it is quoted
 * as a JSON string).  The caller flushes.
 */
int cnwctl_output_event(FILE *out, enum cnwctl_format format,
			const json_t *event);

/*
 * Returns a newly allocated display string for the member of OBJECT at the
 * dotted PATH ("quotas.networks"): "-" when absent, null, an empty string,
 * list or object, "yes"/"no" for booleans, a list of scalars as "a,b", an
 * object of scalars as "k=v,k=v" (in the reply's order), anything nested as
 * compact JSON, control characters replaced by '?'.  NULL only when memory
 * runs out.
 */
char *cnwctl_output_value(const json_t *object, const char *path);

#endif /* CNWCTL_OUTPUT_H */
