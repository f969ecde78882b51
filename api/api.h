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
/* An announced body over API_BODY_MAX but under this is read and dropped. */
#define API_BODY_DISCARD_MAX (4 * API_BODY_MAX)
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

/* The operations of a noun served by a collection and its objects. */
enum api_op {
	API_CREATE,			/* POST on the collection: 201 and its Location */
	API_LIST,			/* GET on the collection: {"items": [...]} */
	API_GET,
	API_UPDATE,			/* PATCH */
	API_DELETE,			/* 204 */
	API_NOPS
};

struct api_kind;

struct api_route {
	const char *method;
	const char *pattern;		/* "/v1/tenants/{tenant}" */
	int auth;			/* needs a bearer token */
	const char *const *query;	/* allowed query parameters, NULL-terminated, or NULL */
	void (*fn)(struct api_request *req, struct api_response *resp);
	const struct api_kind *kind;	/* or, with fn NULL, an operation of a noun */
	enum api_op op;
};
#define API_NOUN(kind, op) NULL, &(kind), (op)
#define API_HANDLER(fn) (fn), NULL, API_NOPS

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
/* A boolean query parameter: absent is false; anything but true/false is 400. */
int api_query_bool(struct api_request *req, const char *name, uint32_t *out,
    struct api_response *resp);

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
/*
 * json_dumps with reals as a person would write them (0.1, not
 * 0.10000000000000001) that still read back as the same doubles.
 */
char *api_json_dumps(const json_t *v, size_t flags);

/* Setters' helpers: a string that fits in dst (size with the NUL). */
int api_set_string(json_t *v, char *dst, size_t size, const char *what, char *why,
    size_t whylen);
/* fn, a setter of the string field of type that out points to. */
#define API_STRING_SETTER(fn, type, field, label)			\
	static int							\
	fn(json_t *v, void *out, char *why, size_t whylen)		\
	{								\
		type *s = out;						\
		return api_set_string(v, s->field, sizeof(s->field), label, why, \
		    whylen);						\
	}
/* object.c: a tenant's or a policy's name. */
int api_set_name(json_t *v, const char *what, char *dst, size_t size, char *why,
    size_t whylen);
/* ["wan1", "wan2"]: uplinks' names, at most NETWORK_UPLINKS_MAX. */
int api_set_uplink_names(json_t *v, char names[][TENANT_NAME_MAX + 1], uint32_t *n,
    char *why, size_t whylen);

/* object.c: one descriptor per noun --------------------------------- */
/* A record of a reply: the message carrying one (or an array), its JSON. */
struct api_record {
	uint32_t type;			/* MSG_REPLY_* */
	size_t size;
	json_t *(*json)(const void *rec);
};

/* A {...} segment of a path: where it goes in the request. */
struct api_key {
	const char *what;		/* "tenant": 404 "tenant \"x\" not found" */
	size_t off;			/* in the request */
	size_t size;			/* a name's buffer, or 0: an id, a number from 1 */
	int clipped;			/* the 404 of a name too long says "x..." */
};

/* A name that member of the request type holds. */
#define API_KEY(what, type, member)					\
	{ (what), offsetof(type, member), sizeof(((type *)0)->member), 0 }

/* The fields a body may give. */
struct api_fields {
	const struct api_field *f;
	size_t n;
};
#define API_FIELDS(a) { (a), ARRAY_SIZE(a) }

/*
 * A noun: what the generic handler needs so that each of its routes is one
 * row of the table.  The request is built in this order: auth, the body
 * (create, update), the path's keys, then the query.
 */
struct api_kind {
	size_t req_size;		/* the request; it starts with struct proto_auth */
	struct api_key keys[API_MAX_PARAMS];	/* the path's segments, in order */
	unsigned nkeys;
	size_t body_off;		/* where the body's setters write */
	size_t given_off;		/* the given fields' flags are added here (0: none) */
	struct api_fields body[API_NOPS];	/* of create and update */
	uint32_t msg[API_NOPS];		/* the request of each operation */
	struct api_record one;		/* the reply to create, get and update */
	struct api_record many;		/* the reply to list, in parts */
	const char *location;		/* the created one's field that ends its Location */
	/* The query's parameters, or NULL. */
	int (*query)(struct api_request *req, void *r, struct api_response *resp);
};

extern const struct api_kind api_tenant_kind, api_network_kind, api_route_kind,
    api_uplink_kind, api_peer_kind, api_policy_kind, api_interface_kind,
    api_driver_kind, api_process_kind;

/* Run operation op of noun k. */
void api_object(const struct api_kind *k, enum api_op op, struct api_request *req,
    struct api_response *resp);
/* What a reply's records are collected into. */
struct api_collect {
	const struct api_record *rec;
	json_t *json;			/* one record, or the array of them */
};
/* An api_reply_fn: the records of a list's parts into arg's array. */
int api_collect_many(const struct msg *m, void *arg);
/* Copy path parameter i into dst; longer than any name can be is 404. */
int api_param(struct api_request *req, unsigned i, char *dst, size_t size, const char *what,
    struct api_response *resp);
json_t *api_time(int64_t t);

/* cache.c: GET of a list the parent validates against a rendered copy */
void api_list_cached(struct api_request *req, struct api_response *resp, uint32_t type,
    const struct api_record *rec);

/* Other routes ------------------------------------------------------- */
void api_tenants_list(struct api_request *req, struct api_response *resp);	/* cached */
void api_flows_list(struct api_request *req, struct api_response *resp);
void api_metrics(struct api_request *req, struct api_response *resp);
/* uplinks.c: an uplink's paths (struct uplink_path[n]) as the API shows them. */
json_t *api_paths_json(const struct uplink_path *p, uint32_t n);

#endif
