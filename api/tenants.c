/*
 * Tenants: /v1/tenants[/{tenant}].  The reply to create carries the
 * tenant's token, shown this once; the list is cached (cache.c).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"

static json_t *
api_tenant_json(const void *rec)
{
	const struct tenant *t = rec;
	json_t *q = json_object();

	for (unsigned i = 0; i < tenant_quota_count; i++) {
		uint64_t v = *tenant_quota_ptr((struct tenant_quotas *)&t->quotas, i);

		json_object_set_new(q, tenant_quota_table[i].name,
		    v == TENANT_QUOTA_NONE ? json_null() : json_integer((json_int_t)v));
	}
	return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", t->name, "description",
	    t->description, "quotas", q, "created_at", api_time(t->created_at),
	    "updated_at", api_time(t->updated_at));
}

/* The reply to create, get and update: the tenant, and its token once. */
static json_t *
api_tenant_reply_json(const void *rec)
{
	const struct proto_tenant_reply *r = rec;
	json_t *o = api_tenant_json(&r->tenant);

	if (r->token[0] != '\0')
		json_object_set_new(o, "token", json_string(r->token));
	return o;
}

/* Bodies -------------------------------------------------------------- */

static int
api_set_tenant_name(json_t *v, void *out, char *why, size_t whylen)
{
	struct tenant_spec *s = out;

	return api_set_name(v, "tenant", s->name, sizeof(s->name), why, whylen);
}

static int
api_set_description(json_t *v, void *out, char *why, size_t whylen)
{
	struct tenant_spec *s = out;
	struct cnw_error err;

	if (api_set_string(v, s->description, sizeof(s->description), "description", why,
	    whylen) < 0)
		return -1;
	if (tenant_validate_description(s->description, &err) < 0) {
		snprintf(why, whylen, "%s", err.msg);
		return -1;
	}
	return 0;
}

static int api_set_quotas(json_t *v, void *out, char *why, size_t whylen);

static int
api_set_name_immutable(json_t *v, void *out, char *why, size_t whylen)
{
	snprintf(why, whylen, "a tenant's name cannot be changed");
	return -1;
}

static const struct api_field api_tenant_create_fields[] = {
	{ "name", JSON_STRING, 1, api_set_tenant_name, 0 },
	{ "description", JSON_STRING, 0, api_set_description, TENANT_F_DESCRIPTION },
	{ "quotas", JSON_OBJECT, 0, api_set_quotas, 0 },
};

static const struct api_field api_tenant_patch_fields[] = {
	{ "name", JSON_STRING, 0, api_set_name_immutable, 0 },
	{ "description", JSON_STRING, 0, api_set_description, TENANT_F_DESCRIPTION },
	{ "quotas", JSON_OBJECT, 0, api_set_quotas, 0 },
};

/* One quota: a whole number within its bounds, or null (no cap) where it may be none. */
static int
api_set_quota(json_t *v, void *out, char *why, size_t whylen, unsigned idx)
{
	struct tenant_spec *s = out;
	int nullable = tenant_quota_nullable(idx);
	json_int_t n;
	struct cnw_error err;

	if (json_is_null(v) && nullable) {
		*tenant_quota_ptr(&s->quotas, idx) = TENANT_QUOTA_NONE;
		s->fields |= TENANT_F_QUOTA0 << idx;
		return 0;
	}
	if (!json_is_integer(v)) {
		snprintf(why, whylen, "field \"quotas.%s\" must be an integer%s, not %s",
		    tenant_quota_table[idx].name, nullable ? " or null" : "",
		    api_json_type_name(json_typeof(v)));
		return -1;
	}
	n = json_integer_value(v);
	if (n < 0 || tenant_validate_quota(idx, (uint64_t)n, &err) < 0) {
		snprintf(why, whylen, "quota %s must be between 0 and %llu%s",
		    tenant_quota_table[idx].name,
		    (unsigned long long)tenant_quota_table[idx].max,
		    nullable ? ", or null (no cap)" : "");
		return -1;
	}
	*tenant_quota_ptr(&s->quotas, idx) = (uint64_t)n;
	s->fields |= TENANT_F_QUOTA0 << idx;
	return 0;
}

#define API_QUOTA_SETTER(field, json, def, max)				\
	static int api_set_quota_##field(json_t *v, void *out, char *why, size_t l) \
	{								\
		return api_set_quota(v, out, why, l, (unsigned)tenant_quota_index(json)); \
	}
TENANT_QUOTAS(API_QUOTA_SETTER)

static const struct api_field api_quota_fields[] = {
#define API_QUOTA_FIELD(field, json, def, max) \
	{ json, API_JSON_ANY, 0, api_set_quota_##field, 0 },	/* integer, or null */
	TENANT_QUOTAS(API_QUOTA_FIELD)
};

static int
api_set_quotas(json_t *v, void *out, char *why, size_t whylen)
{
	uint32_t given = 0;

	return api_json_apply(v, "quotas.", api_quota_fields, ARRAY_SIZE(api_quota_fields),
	    out, &given, why, whylen);
}

/* ?cascade=true: DELETE also removes what the tenant holds (GET refuses it). */
static int
api_tenant_query(struct api_request *req, void *r, struct api_response *resp)
{
	return api_query_bool(req, "cascade", &((struct proto_tenant_request *)r)->cascade, resp);
}

const struct api_kind api_tenant_kind = {
	.req_size = sizeof(struct proto_tenant_request),
	/* A name too long to be a tenant's is said so: "x...". */
	.keys = { { "tenant", offsetof(struct proto_tenant_request, spec.name),
	    sizeof(((struct proto_tenant_request *)0)->spec.name), 1 } },
	.nkeys = 1,
	.body_off = offsetof(struct proto_tenant_request, spec),
	.given_off = offsetof(struct proto_tenant_request, spec.fields),
	.body = {
		[API_CREATE] = API_FIELDS(api_tenant_create_fields),
		[API_UPDATE] = API_FIELDS(api_tenant_patch_fields),
	},
	.msg = {
		[API_CREATE] = MSG_TENANT_CREATE,
		[API_GET] = MSG_TENANT_GET,
		[API_UPDATE] = MSG_TENANT_UPDATE,
		[API_DELETE] = MSG_TENANT_DELETE,
	},
	.one = { MSG_REPLY_TENANT, sizeof(struct proto_tenant_reply), api_tenant_reply_json },
	.many = { MSG_REPLY_TENANTS, sizeof(struct tenant), api_tenant_json },
	.location = "name",
	.query = api_tenant_query,
};

void
api_tenants_list(struct api_request *req, struct api_response *resp)
{
	api_list_cached(req, resp, MSG_TENANT_LIST, &api_tenant_kind.many);
}
