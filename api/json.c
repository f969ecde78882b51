/*
 * Strict JSON request bodies: one object, known fields only, each of its
 * declared type.  A table of fields per body replaces hand-written checks,
 * so every body answers the same precise 400s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

const char *
api_json_type_name(int type)
{
	switch (type) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

static int
api_json_type_ok(json_t *v, int want)
{
	int got = json_typeof(v);

	if (want == API_JSON_ANY)	/* the setter checks */
		return 1;
	if (want == JSON_TRUE)		/* "boolean" */
		return got == JSON_TRUE || got == JSON_FALSE;
	return got == want;
}

int
api_json_apply(json_t *obj, const char *where, const struct api_field *fields,
    size_t nfields, void *out, uint32_t *given, char *why, size_t whylen)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const struct api_field *f = NULL;

		for (size_t i = 0; i < nfields; i++)
			if (strcmp(fields[i].name, key) == 0)
				f = &fields[i];
		if (f == NULL) {
			snprintf(why, whylen, "unknown field \"%s%s\"", where, key);
			return -1;
		}
		if (!api_json_type_ok(v, f->type)) {
			snprintf(why, whylen, "field \"%s%s\" must be %s, not %s", where, key,
			    api_json_type_name(f->type), api_json_type_name(json_typeof(v)));
			return -1;
		}
		if (f->set(v, out, why, whylen) < 0)
			return -1;
		*given |= f->flag;
	}
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].required && json_object_get(obj, fields[i].name) == NULL) {
			snprintf(why, whylen, "field \"%s%s\" is required", where, fields[i].name);
			return -1;
		}
	}
	return 0;
}

int
api_json_parse(const char *body, size_t len, const struct api_field *fields,
    size_t nfields, void *out, uint32_t *given, struct api_response *resp)
{
	json_error_t jerr;
	char why[256];
	json_t *obj;
	int rc;

	if (len == 0) {
		api_problem(resp, 400, "the request needs a JSON object as its body");
		return -1;
	}
	obj = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (obj == NULL) {
		api_problem(resp, 400, "malformed JSON at line %d, column %d: %s", jerr.line,
		    jerr.column, jerr.text);
		return -1;
	}
	if (!json_is_object(obj)) {
		api_problem(resp, 400, "the body must be a JSON object, not %s",
		    api_json_type_name(json_typeof(obj)));
		json_decref(obj);
		return -1;
	}
	*given = 0;
	rc = api_json_apply(obj, "", fields, nfields, out, given, why, sizeof(why));
	json_decref(obj);
	if (rc < 0)
		api_problem(resp, 400, "%s", why);
	return rc;
}

/* Setters' helpers ---------------------------------------------------- */

int
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

/* A network's and a policy's uplinks: each a string that fits, in order. */
int
api_set_uplink_names(json_t *v, char names[][TENANT_NAME_MAX + 1], uint32_t *n, char *why,
    size_t whylen)
{
	size_t i;
	json_t *e;

	if (json_array_size(v) > NETWORK_UPLINKS_MAX) {
		snprintf(why, whylen, "uplinks: at most %d", NETWORK_UPLINKS_MAX);
		return -1;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || json_string_length(e) >= sizeof(names[0])) {
			snprintf(why, whylen, "uplinks[%zu] must be an uplink's name", i);
			return -1;
		}
		memcpy(names[i], json_string_value(e), json_string_length(e) + 1);
	}
	*n = (uint32_t)json_array_size(v);
	return 0;
}

/*
 * The fewest significant digits, at least 15, that print every real in v
 * so that it reads back as the same double.  Jansson prints all reals of a
 * document with one precision, 17 by default: enough for any double, but
 * 0.1 comes out as 0.10000000000000001.  15 digits give back any decimal a
 * person writes with up to 15 (DBL_DIG), and %g drops trailing zeros, so
 * 0.1 prints as 0.1; a computed value such as 0.1 + 0.2 needs all 17.
 */
static int
api_json_digits(const json_t *v)
{
	const char *key;
	json_t *e;
	size_t i;
	int most = 15;

	switch (json_typeof(v)) {
	case JSON_REAL: {
		double x = json_real_value(v);
		char buf[40];

		for (; most < 17; most++) {
			snprintf(buf, sizeof(buf), "%.*g", most, x);
			if (strtod(buf, NULL) == x)
				break;
		}
		return most;
	}
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, e) {
			int d = api_json_digits(e);

			if (d > most)
				most = d;
		}
		return most;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) {
			int d = api_json_digits(e);

			if (d > most)
				most = d;
		}
		return most;
	default:
		return most;
	}
}

char *
api_json_dumps(const json_t *v, size_t flags)
{
	return json_dumps(v, flags | JSON_REAL_PRECISION(api_json_digits(v)));
}
