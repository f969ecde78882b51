/*
 * The API process: REST over HTTP (libmicrohttpd), JSON (jansson), turned
 * into typed requests to the parent.
 *
 * It runs with no capabilities, no_new_privs and the parent's seccomp
 * allowlist; it owns no state and opens no file.  The parent hands it its
 * listening sockets (and TLS material) before it is sandboxed.
 */
#ifndef CNW_API_H
#define CNW_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/msg.h"
#include "proto/proto.h"

#define API_BODY_MAX (1024 * 1024)
#define API_MAX_PARAMS 4
#define API_PARAM_MAX 128

/* Child side of the role table (roles.c). */
void api_child_prepare(void);
int api_child_setup(int sock, struct msg *m);
int api_child_main(int sock);

/* A request, as the routes see it. */
struct api_request {
	const char *method;
	const char *path;
	void *conn;				/* struct MHD_Connection */
	char params[API_MAX_PARAMS][API_PARAM_MAX];	/* {…} segments of the path */
	unsigned nparams;
	const char *body;
	size_t body_len;
	struct proto_auth auth;
};

struct api_response {
	unsigned status;
	json_t *json;			/* body (owned), or NULL for none */
	char *raw;			/* or a rendered JSON body (malloc'd, owned) */
	size_t raw_len;
	int text;			/* raw is text/plain (Prometheus), not JSON */
	int problem;			/* body is application/problem+json */
	char location[160];
	char allow[64];
	void *stream;			/* or a struct MHD_Response streaming the body (events) */
};

struct api_route {
	const char *method;
	const char *pattern;		/* "/v1/tenants/{tenant}" */
	int auth;			/* needs a bearer token */
	const char *const *query;	/* allowed query parameters, NULL-terminated, or NULL */
	void (*fn)(struct api_request *req, struct api_response *resp);
};

/* routes.c ---------------------------------------------------------- */
extern const struct api_route api_routes[];
extern const size_t api_nroutes;
/* Find the route and run it; fills resp (404, 405 included). */
void api_route_request(struct api_request *req, struct api_response *resp);
/*
 * Match a path against a pattern; fills params.  Returns 1 on a match.
 * Exposed for the unit tests.
 */
int api_path_match(const char *pattern, const char *path,
    char params[API_MAX_PARAMS][API_PARAM_MAX], unsigned *nparams);

/* api.c: the request's query parameters */
const char *api_query_get(struct api_request *req, const char *name);
/* Name of the first query parameter not in allowed (NULL-terminated), or NULL. */
const char *api_query_unknown(struct api_request *req, const char *const *allowed);

/* events.c: GET /v1/events ------------------------------------------ */
/* The parent's events channel (MSG_API_EVENTS, at start-up). */
int api_events_setup(struct msg *m);
/* Start reading it (after the sandbox); stop the streams (before MHD stops). */
void api_events_start(void);
void api_events_stop(void);
void api_events(struct api_request *req, struct api_response *resp);

/* hal_routes.c: interfaces, drivers ---------------------------------- */
void api_interfaces_list(struct api_request *req, struct api_response *resp);
void api_interface_get(struct api_request *req, struct api_response *resp);
void api_drivers_list(struct api_request *req, struct api_response *resp);
/* routes.c, for hal_routes.c */
int api_param(struct api_request *req, unsigned i, char *dst, size_t size, const char *what,
    struct api_response *resp);
/* An uplink's paths (struct uplink_path[n]) as the API shows them. */
json_t *api_paths_json(const struct uplink_path *p, uint32_t n);

/* problem.c --------------------------------------------------------- */
/* Set resp to an RFC 9457 problem with the status's type and title. */
void api_problem(struct api_response *resp, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *api_status_title(unsigned status);

/* parent.c: the round trip to the parent ---------------------------- */
typedef int (*api_reply_fn)(const struct msg *m, void *arg);
void api_parent_init(int sock);
/*
 * Send a request and collect its reply: fn is called for each part that is
 * not an error.  Returns 0, or -1 with resp set to the problem (the
 * parent's error, or 503 if it did not answer).
 */
int api_parent_call(uint32_t type, const void *req, size_t len, api_reply_fn fn,
    void *arg, struct api_response *resp);
/* Forward a log line to the parent (installed as the log sink). */

/* json.c: strict parsing of request bodies -------------------------- */
#define API_JSON_ANY (-1)		/* a field type: the setter checks it */
struct api_field {
	const char *name;
	int type;			/* JSON_STRING, JSON_INTEGER, JSON_OBJECT, ... */
	int required;
	/* Store the value; -1 with a message in why for a bad value. */
	int (*set)(json_t *value, void *out, char *why, size_t whylen);
	uint32_t flag;			/* set in *fields when given */
};

/*
 * Parse body as one JSON object and apply fields to out.  Unknown fields,
 * wrong types, missing required fields and malformed JSON are 400 problems.
 * Returns 0, or -1 with resp set.
 */
int api_json_parse(const char *body, size_t len, const struct api_field *fields,
    size_t nfields, void *out, uint32_t *given, struct api_response *resp);
/* Apply fields to an already parsed object (for nested objects). */
int api_json_apply(json_t *obj, const char *where, const struct api_field *fields,
    size_t nfields, void *out, uint32_t *given, char *why, size_t whylen);
const char *api_json_type_name(int type);

#endif
