/*
 * The protocol between cnwd's processes: message types and their payloads.
 *
 * Names are MSG_<AREA>_<VERB>.  Payloads are fixed C structs with
 * fixed-size, NUL-terminated strings (both ends are the same binary); the
 * table in proto.c gives each type its size bounds, its allowed sender and
 * a check of its strings, and every received message passes msg_check()
 * against it before anyone reads a field.
 *
 * A request from the API process carries the caller's bearer token and a
 * description of the peer (for the audit log); the parent authenticates
 * every request itself.  A reply echoes the request's id; a multi-part
 * reply sets MSG_F_MORE on all parts but the last.
 */
#ifndef CNW_PROTO_H
#define CNW_PROTO_H

#include <stdint.h>

#include "runtime/error.h"
#include "runtime/msg.h"
#include "runtime/token.h"
#include "tenants/network.h"
#include "tenants/tenant.h"

/* Roles, as sender bits. */
enum {
	PROTO_FROM_PARENT = 1u << 0,
	PROTO_FROM_API = 1u << 1,
};

enum proto_type {
	/* parent -> any child, during start-up */
	MSG_SANDBOX_FILTER = 1,	/* the child's seccomp BPF program */
	MSG_CHILD_START,	/* set-up done: drop privileges and run */
	/* parent -> api, during start-up */
	MSG_API_LISTEN,		/* fd: a listening socket */
	MSG_API_TLS,		/* certificate and key for the TLS listeners */
	/* any child -> parent */
	MSG_LOG_LINE,
	/* api -> parent: requests */
	MSG_TENANT_CREATE,
	MSG_TENANT_LIST,
	MSG_TENANT_GET,
	MSG_TENANT_UPDATE,
	MSG_TENANT_DELETE,
	MSG_PROCESS_LIST,
	MSG_NETWORK_CREATE,
	MSG_NETWORK_LIST,
	MSG_NETWORK_GET,
	MSG_NETWORK_DELETE,
	MSG_ROUTE_ADD,
	MSG_ROUTE_LIST,
	MSG_ROUTE_DELETE,
	/* parent -> api: replies */
	MSG_REPLY_ERROR,
	MSG_REPLY_TENANT,
	MSG_REPLY_TENANTS,
	MSG_REPLY_PROCESSES,
	MSG_REPLY_DONE,		/* success with nothing to say (204) */
	MSG_REPLY_NETWORK,	/* one struct proto_network */
	MSG_REPLY_NETWORKS,	/* an array of them */
	MSG_REPLY_ROUTE,
	MSG_REPLY_ROUTES,
	MSG_REPLY_GENERATION,	/* struct proto_generation */
};

#define PROTO_PEER_MAX 64
#define PROTO_LOG_MAX 1024
#define PROTO_ROLE_MAX 16

struct proto_auth {
	char token[TOKEN_HEX_LEN + 1];	/* "" when none or malformed */
	char peer[PROTO_PEER_MAX];	/* "unix uid=0 pid=42", "tcp 127.0.0.1:5555" */
};

struct proto_request {
	struct proto_auth auth;
	uint64_t generation;		/* the one the caller's cached copy is of, or 0 */
};

/* First part of a list reply: the store's generation, and whether the
 * caller's cached copy (proto_request.generation) is still current. */
struct proto_generation {
	uint64_t generation;
	uint32_t unchanged;
	uint32_t pad;
};

struct proto_tenant_request {
	struct proto_auth auth;
	struct tenant_spec spec;	/* spec.name names the tenant */
	uint32_t cascade;
};

struct proto_network_request {
	struct proto_auth auth;
	struct network_spec spec;
};

struct proto_route_request {
	struct proto_auth auth;
	struct route_spec spec;
};

/* A network as the API shows it: the row and its namespace's name. */
struct proto_network {
	struct network net;
	char netns[NETWORK_NETNS_MAX];
};

struct proto_error {
	int32_t status;
	char detail[CNW_ERRMSG_MAX];
};

struct proto_tenant_reply {
	struct tenant tenant;
	char token[TOKEN_HEX_LEN + 1];	/* only in the reply to create */
};

struct proto_process {
	char role[PROTO_ROLE_MAX];
	char state[16];			/* running, restarting, failed */
	char last_exit[96];		/* "" until it has exited once */
	int32_t pid;
	uint32_t restarts;
	int64_t started_at;
	uint64_t cap_eff;
	int32_t no_new_privs;
	int32_t seccomp;
};

struct proto_log {
	int32_t level;
	char line[PROTO_LOG_MAX];
};

struct proto_api_listen {
	uint32_t tls;			/* serve TLS on this socket */
	char name[64];			/* for logs: "unix:/run/cnw/cnwd.sock" */
};

/* Followed by cert_len bytes of PEM certificate, then key_len bytes of key. */
struct proto_api_tls {
	uint32_t cert_len;
	uint32_t key_len;
};

extern const struct msg_type_info proto_types[];
extern const size_t proto_ntypes;

/* Parts of a list reply: how many records fit one message. */
#define PROTO_TENANTS_PER_MSG (MSG_MAX_PAYLOAD / sizeof(struct tenant))
#define PROTO_NETWORKS_PER_MSG (MSG_MAX_PAYLOAD / sizeof(struct proto_network))
#define PROTO_ROUTES_PER_MSG (MSG_MAX_PAYLOAD / sizeof(struct route))
#define PROTO_PROCESSES_PER_MSG (MSG_MAX_PAYLOAD / sizeof(struct proto_process))

#endif
