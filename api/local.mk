# api/: the API process: HTTP, JSON, routes, the event stream.
noinst_LIBRARIES += api/libapi.a
api_libapi_a_SOURCES = \
	api/api.c api/api.h \
	api/routes.c api/object.c api/cache.c api/json.c api/problem.c api/parent.c \
	api/tenants.c api/networks.c api/uplinks.c api/policies.c api/processes.c \
	api/events.c api/hal_routes.c
EXTRA_DIST += api/openapi.yaml
