/*
 * cnwctl_output.h: how cnwctl shows what the API answers.
 *
 * The commands fetch JSON from cnwd and hand it here with the kind of
 * object it holds (a "view"); this module renders it either as the API's
 * own JSON, pretty-printed, or for a human: an aligned table for a list,
 * "key: value" lines for one object.  Which columns and fields each view
 * has lives in one table in cnwctl_output.c, so a new object kind is one
 * entry there and one enumerator here; how a value reads is
 * cnwctl_format.c's.
 *
 * Every function returning int returns 0, or -1 with ERR filled (a reply
 * of the wrong shape, an allocation or write failure).
 */
#ifndef CNWCTL_OUTPUT_H
#define CNWCTL_OUTPUT_H

#include <stdio.h>

#include <jansson.h>

#include "lib/error.h"

/* Output formats, as chosen by -o. */
enum ctl_format {
	CTL_FORMAT_TABLE,
	CTL_FORMAT_JSON,
};

/* Object kinds cnwctl knows how to lay out. */
enum ctl_view {
	CTL_VIEW_TENANT,
	CTL_VIEW_TENANT_CREATED,	/* a tenant plus its one-time token */
	CTL_VIEW_PROCESS,
	CTL_VIEW_NETWORK,
	CTL_VIEW_ROUTE,
	CTL_VIEW_UPLINK,
	CTL_VIEW_PEER,
	CTL_VIEW_INTERFACE,
	CTL_VIEW_DRIVER,
	CTL_VIEW_POLICY,
	CTL_VIEW_FLOW,
};

/* Parses "table" or "json"; returns 0, or -1 for any other name. */
int ctl_format_parse(const char *name, enum ctl_format *format);

/* Prints VALUE as indented JSON followed by a newline. */
int ctl_output_json(FILE *out, const json_t *value, struct cnw_error *err);

/* Prints a list reply ({"items": [...]}) as a table or as JSON. */
int ctl_output_list(FILE *out, enum ctl_format format, enum ctl_view view,
    const json_t *reply, struct cnw_error *err);

/* Prints one object as "key: value" lines or as JSON. */
int ctl_output_object(FILE *out, enum ctl_format format, enum ctl_view view,
    const json_t *object, struct cnw_error *err);

/*
 * Prints a tenant's flows: as a table, under the line "flows: ACTIVE of
 * LIMIT, DROPPED dropped over the quota" from the reply's counts.
 */
int ctl_output_flows(FILE *out, enum ctl_format format, const json_t *reply,
    struct cnw_error *err);

/* Prints GET /v1's answer: "NAME VERSION (API API_VERSION)", or JSON. */
int ctl_output_version(FILE *out, enum ctl_format format, const json_t *info,
    struct cnw_error *err);

/*
 * Prints one event of GET /v1/events on one line: as compact JSON, or as
 * "TIME TYPE OBJECT key=value ..." from its "time", "type", "object" and
 * "data" members (a value with spaces, quotes or nothing in it is quoted
 * as a JSON string).  The caller flushes.
 */
int ctl_output_event(FILE *out, enum ctl_format format, const json_t *event,
    struct cnw_error *err);

/*
 * Returns a newly allocated display string for the member of OBJECT at the
 * dotted PATH ("quotas.networks"): "-" when absent, null, an empty string,
 * list or object, "yes"/"no" for booleans, a list of scalars as "a,b", an
 * object of scalars as "k=v,k=v" (in the reply's order), anything nested as
 * compact JSON, control characters replaced by '?'.  NULL only when memory
 * runs out.
 */
char *ctl_output_value(const json_t *object, const char *path);

#endif /* CNWCTL_OUTPUT_H */
