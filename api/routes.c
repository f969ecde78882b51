/*
 * The REST routes: one table row per method and path.  A noun's row names
 * its descriptor and the operation (object.c turns the request into a typed
 * message to the parent and the reply into JSON); the others a handler.
 *
 * api/openapi.yaml documents exactly these rows; tests/unit/test_openapi.c
 * fails if a route is served that the document lacks, or the reverse.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "config.h"
#include "lib/util.h"

/* Paths ------------------------------------------------------------- */

int
api_path_match(const char *pattern, const char *path,
    char params[API_MAX_PARAMS][API_PARAM_MAX], unsigned *nparams)
{
	*nparams = 0;
	while (*pattern != '\0' && *path != '\0') {
		if (*pattern == '{') {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= API_PARAM_MAX || *nparams == API_MAX_PARAMS)
				return 0;
			memcpy(params[*nparams], path, n);
			params[(*nparams)++][n] = '\0';
			path += n;
			pattern = strchr(pattern, '}') + 1;
		} else if (*pattern++ != *path++) {
			return 0;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

/* Routes -------------------------------------------------------------- */

static void
api_version(struct api_request *req, struct api_response *resp)
{
	resp->status = 200;
	resp->json = json_pack("{s:s, s:s, s:s}", "name", "cnw", "version", PACKAGE_VERSION,
	    "api_version", "v1");
}

static const char *const api_delete_tenant_query[] = { "cascade", NULL };
static const char *const api_netns_query[] = { "netns", NULL };
static const char *const api_events_query[] = { "since", NULL };
static const char *const api_flows_query_names[] = { "network", "limit", NULL };

const struct api_route api_routes[] = {
	{ "GET", "/v1", 0, NULL, API_HANDLER(api_version) },
	{ "GET", "/v1/tenants", 1, NULL, API_HANDLER(api_tenants_list) },
	{ "POST", "/v1/tenants", 1, NULL, API_NOUN(api_tenant_kind, API_CREATE) },
	{ "GET", "/v1/tenants/{tenant}", 1, NULL, API_NOUN(api_tenant_kind, API_GET) },
	{ "PATCH", "/v1/tenants/{tenant}", 1, NULL, API_NOUN(api_tenant_kind, API_UPDATE) },
	{ "DELETE", "/v1/tenants/{tenant}", 1, api_delete_tenant_query,
	  API_NOUN(api_tenant_kind, API_DELETE) },
	{ "GET", "/v1/processes", 1, NULL, API_NOUN(api_process_kind, API_LIST) },
	{ "POST", "/v1/tenants/{tenant}/networks", 1, NULL,
	  API_NOUN(api_network_kind, API_CREATE) },
	{ "GET", "/v1/tenants/{tenant}/networks", 1, NULL, API_NOUN(api_network_kind, API_LIST) },
	{ "GET", "/v1/tenants/{tenant}/networks/{network}", 1, NULL,
	  API_NOUN(api_network_kind, API_GET) },
	{ "DELETE", "/v1/tenants/{tenant}/networks/{network}", 1, NULL,
	  API_NOUN(api_network_kind, API_DELETE) },
	{ "POST", "/v1/tenants/{tenant}/networks/{network}/routes", 1, NULL,
	  API_NOUN(api_route_kind, API_CREATE) },
	{ "GET", "/v1/tenants/{tenant}/networks/{network}/routes", 1, NULL,
	  API_NOUN(api_route_kind, API_LIST) },
	{ "DELETE", "/v1/tenants/{tenant}/networks/{network}/routes/{route}", 1, NULL,
	  API_NOUN(api_route_kind, API_DELETE) },
	{ "POST", "/v1/tenants/{tenant}/policies", 1, NULL, API_NOUN(api_policy_kind, API_CREATE) },
	{ "GET", "/v1/tenants/{tenant}/policies", 1, NULL, API_NOUN(api_policy_kind, API_LIST) },
	{ "GET", "/v1/tenants/{tenant}/policies/{policy}", 1, NULL,
	  API_NOUN(api_policy_kind, API_GET) },
	{ "DELETE", "/v1/tenants/{tenant}/policies/{policy}", 1, NULL,
	  API_NOUN(api_policy_kind, API_DELETE) },
	{ "GET", "/v1/tenants/{tenant}/flows", 1, api_flows_query_names,
	  API_HANDLER(api_flows_list) },
	{ "POST", "/v1/uplinks", 1, NULL, API_NOUN(api_uplink_kind, API_CREATE) },
	{ "GET", "/v1/uplinks", 1, NULL, API_NOUN(api_uplink_kind, API_LIST) },
	{ "GET", "/v1/uplinks/{uplink}", 1, NULL, API_NOUN(api_uplink_kind, API_GET) },
	{ "PATCH", "/v1/uplinks/{uplink}", 1, NULL, API_NOUN(api_uplink_kind, API_UPDATE) },
	{ "DELETE", "/v1/uplinks/{uplink}", 1, NULL, API_NOUN(api_uplink_kind, API_DELETE) },
	{ "POST", "/v1/peers", 1, NULL, API_NOUN(api_peer_kind, API_CREATE) },
	{ "GET", "/v1/peers", 1, NULL, API_NOUN(api_peer_kind, API_LIST) },
	{ "GET", "/v1/peers/{peer}", 1, NULL, API_NOUN(api_peer_kind, API_GET) },
	{ "DELETE", "/v1/peers/{peer}", 1, NULL, API_NOUN(api_peer_kind, API_DELETE) },
	{ "GET", "/v1/interfaces", 1, api_netns_query, API_NOUN(api_interface_kind, API_LIST) },
	{ "GET", "/v1/interfaces/{interface}", 1, api_netns_query,
	  API_NOUN(api_interface_kind, API_GET) },
	{ "GET", "/v1/drivers", 1, NULL, API_NOUN(api_driver_kind, API_LIST) },
	{ "GET", "/v1/events", 1, api_events_query, API_HANDLER(api_events) },
	{ "GET", "/metrics", 1, NULL, API_HANDLER(api_metrics) },
};

const size_t api_nroutes = ARRAY_SIZE(api_routes);

/* Query parameters (the MHD side lives in api.c) ------------------------ */

int
api_query_bool(struct api_request *req, const char *name, uint32_t *out,
    struct api_response *resp)
{
	const char *v = api_query_get(req, name);

	*out = 0;
	if (v == NULL || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "true") == 0) {
		*out = 1;
		return 0;
	}
	api_problem(resp, 400, "query parameter %s must be true or false", name);
	return -1;
}

void
api_route_request(struct api_request *req, struct api_response *resp)
{
	const struct api_route *found = NULL;
	size_t allow_len = 0;
	const char *unknown;

	for (size_t i = 0; i < api_nroutes; i++) {
		const struct api_route *r = &api_routes[i];

		if (!api_path_match(r->pattern, req->path, req->params, &req->nparams))
			continue;
		if (strcmp(r->method, req->method) == 0) {
			found = r;
			break;
		}
		allow_len += (size_t)snprintf(resp->allow + allow_len,
		    sizeof(resp->allow) - allow_len, "%s%s", allow_len ? ", " : "", r->method);
	}
	if (found == NULL) {
		if (allow_len > 0)
			api_problem(resp, 405, "%s is not allowed on %s (allowed: %s)",
			    req->method, req->path, resp->allow);
		else
			api_problem(resp, 404, "no such route: %s", req->path);
		return;
	}
	resp->allow[0] = '\0';
	/* The params of the matching route (the loop may have matched others). */
	api_path_match(found->pattern, req->path, req->params, &req->nparams);
	if ((unknown = api_query_unknown(req, found->query)) != NULL) {
		api_problem(resp, 400, "unknown query parameter \"%s\"", unknown);
		return;
	}
	if (found->auth && req->auth.token[0] == '\0') {
		api_problem(resp, 401, "a bearer token is needed (Authorization: Bearer TOKEN)");
		return;
	}
	if (found->fn != NULL)
		found->fn(req, resp);
	else
		api_object(found->kind, found->op, req, resp);
}
