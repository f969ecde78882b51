/*
 * The nouns' one handler.  Tenants, networks, routes, uplinks, peers,
 * policies, interfaces, drivers and processes differ only in data (struct
 * api_kind: the request, the path's keys, the body's fields, the messages,
 * the reply's records), so create, list, get, update and delete are written
 * once here and every route of a noun is a row of the table in routes.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"

json_t *
api_time(int64_t t)
{
	char buf[21];

	cnw_time_rfc3339(buf, t);
	return json_string(buf);
}

/*
 * A tenant's or a policy's name (what): it must be a name, not only fit.
 * Not in json.c, which the fuzzer builds alone, without tenants/.
 */
int
api_set_name(json_t *v, const char *what, char *dst, size_t size, char *why, size_t whylen)
{
	struct cnw_error err;

	if (json_string_length(v) >= size ||
	    tenant_validate_name(what, json_string_value(v), &err) < 0) {
		snprintf(why, whylen, "%s name must match ^[a-z][a-z0-9-]{0,30}$ "
		    "(a lower-case letter, then up to 30 lower-case letters, digits or '-')", what);
		return -1;
	}
	return api_set_string(v, dst, size, "name", why, whylen);
}

/* Reply collectors ---------------------------------------------------- */

static int
api_collect_one(const struct msg *m, void *arg)
{
	struct api_collect *c = arg;

	if (m->hdr.type != c->rec->type)
		return -1;
	c->json = c->rec->json(m->data);
	return 0;
}

int
api_collect_many(const struct msg *m, void *arg)
{
	struct api_collect *c = arg;

	if (m->hdr.type != c->rec->type)
		return -1;
	for (size_t i = 0; i < m->hdr.len / c->rec->size; i++)
		json_array_append_new(c->json, c->rec->json(m->data + i * c->rec->size));
	return 0;
}

static int
api_collect_done(const struct msg *m, void *arg)
{
	return m->hdr.type == MSG_REPLY_DONE ? 0 : -1;
}

/* Requests ------------------------------------------------------------ */

int
api_param(struct api_request *req, unsigned i, char *dst, size_t size, const char *what,
    struct api_response *resp)
{
	if (i < req->nparams && cnw_strlcpy_checked(dst, req->params[i], size) == 0)
		return 0;
	api_problem(resp, 404, "%s \"%.40s\" not found", what, i < req->nparams ? req->params[i] : "");
	return -1;
}

/*
 * A segment of the path into the request.  A name longer than any can be,
 * or an id that is not a number from 1, cannot exist: 404 (never truncate).
 */
static int
api_key_set(const struct api_key *k, const char *param, char *r, struct api_response *resp)
{
	char *end;
	int64_t id;

	if (k->size == 0) {
		id = strtoll(param, &end, 10);
		if (param[0] >= '1' && param[0] <= '9' && *end == '\0' && id > 0) {
			memcpy(r + k->off, &id, sizeof(id));
			return 0;
		}
	} else if (cnw_strlcpy_checked(r + k->off, param, k->size) == 0) {
		return 0;
	}
	api_problem(resp, 404, "%s \"%.40s%s\" not found", k->what, param, k->clipped ? "..." : "");
	return -1;
}

/* The request of op: auth, the body, the path's keys, the query. */
static char *
api_object_request(const struct api_kind *k, enum api_op op, struct api_request *req,
    struct api_response *resp)
{
	const struct api_fields *body = &k->body[op];
	char *r = calloc(1, k->req_size);
	uint32_t given = 0, flags;

	if (r == NULL) {
		api_problem(resp, 500, "out of memory");
		return NULL;
	}
	memcpy(r, &req->auth, sizeof(req->auth));	/* every request starts with it */
	if (body->f != NULL && api_json_parse(req->body, req->body_len, body->f, body->n,
	    r + k->body_off, &given, resp) < 0)
		goto fail;
	if (k->given_off != 0) {
		memcpy(&flags, r + k->given_off, sizeof(flags));
		flags |= given;
		memcpy(r + k->given_off, &flags, sizeof(flags));
	}
	for (unsigned i = 0; i < k->nkeys && i < req->nparams; i++)
		if (api_key_set(&k->keys[i], req->params[i], r, resp) < 0)
			goto fail;
	if (k->query != NULL && k->query(req, r, resp) < 0)
		goto fail;
	return r;
fail:
	free(r);
	return NULL;
}

/* The created one's Location: the collection's path and its name (or id). */
static void
api_object_location(const struct api_kind *k, struct api_request *req, json_t *out,
    struct api_response *resp)
{
	json_t *key = json_object_get(out, k->location);

	if (json_is_integer(key))
		snprintf(resp->location, sizeof(resp->location), "%s/%lld", req->path,
		    (long long)json_integer_value(key));
	else
		snprintf(resp->location, sizeof(resp->location), "%s/%s", req->path,
		    json_is_string(key) ? json_string_value(key) : "");
}

void
api_object(const struct api_kind *k, enum api_op op, struct api_request *req,
    struct api_response *resp)
{
	struct api_collect c = { op == API_LIST ? &k->many : &k->one, NULL };
	api_reply_fn fn = op == API_LIST ? api_collect_many :
	    op == API_DELETE ? api_collect_done : api_collect_one;
	char *r = api_object_request(k, op, req, resp);

	if (r == NULL)
		return;
	if (op == API_LIST)
		c.json = json_array();
	if (api_parent_call(k->msg[op], r, k->req_size, fn, &c, resp) < 0) {
		json_decref(c.json);
		free(r);
		return;
	}
	free(r);
	switch (op) {
	case API_LIST:
		resp->status = 200;
		resp->json = json_pack("{s:o}", "items", c.json);
		break;
	case API_DELETE:
		resp->status = 204;
		break;
	case API_CREATE:
		resp->status = 201;
		resp->json = c.json;
		api_object_location(k, req, c.json, resp);
		break;
	default:
		resp->status = 200;
		resp->json = c.json;
		break;
	}
}
