/*
 * Fuzz target: request bodies.  Any bytes given to the strict JSON parser
 * with the tenant body's field table must end in 0 (a valid body, every
 * string within its field) or a 400 problem, never anything else.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
set_name(json_t *v, void *out, char *why, size_t whylen)
{
	struct tenant_spec *s = out;

	if (json_string_length(v) >= sizeof(s->name))
		return -1;
	memcpy(s->name, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

static int
set_count(json_t *v, void *out, char *why, size_t whylen)
{
	return json_integer_value(v) < 0 ? -1 : 0;
}

static const struct api_field fields[] = {
	{ "name", JSON_STRING, 1, set_name, 1 },
	{ "count", JSON_INTEGER, 0, set_count, 2 },
	{ "nested", JSON_OBJECT, 0, NULL, 4 },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_response resp = { 0 };
	struct tenant_spec spec;
	uint32_t given = 0;
	int rc;

	memset(&spec, 0, sizeof(spec));
	/* "nested" has no setter: present, it is refused as its own setter would. */
	rc = api_json_parse((const char *)data, size, fields, 2, &spec, &given, &resp);
	if (rc == 0 && (resp.json != NULL || memchr(spec.name, '\0', sizeof(spec.name)) == NULL))
		abort();
	if (rc < 0 && (resp.status != 400 || resp.json == NULL))
		abort();
	json_decref(resp.json);
	return 0;
}
