/*
 * The protocol between cnwd's processes: message types and their payloads.
 *
 * Names are MSG_<AREA>_<VERB>.  Payloads are fixed C structs with
 * fixed-size, NUL-terminated strings (both ends are the same binary); the
 * list in proto.def gives each type its number, its size bounds, its
 * allowed senders and a check of its strings, and every received message
 * passes msg_check() against it before anyone reads a field.
 *
 * A request from the API process carries the caller's bearer token and a
 * description of the peer (for the audit log); the parent authenticates
 * every request itself.  A reply echoes the request's id; a multi-part
 * reply sets MSG_F_MORE on all parts but the last.
 */
#ifndef CNW_PROTO_H
#define CNW_PROTO_H

#include <stdint.h>

#include "hal/discover.h"
#include "hal/emu.h"
#include "hal/host.h"
#include "lib/error.h"
#include "lib/msg.h"
#include "lib/token.h"
#include "netfn/classify.h"
#include "netfn/port.h"
#include "netfn/shm.h"
#include "netfn/worker.h"
#include "tenants/network.h"
#include "tenants/policy.h"
#include "tenants/tenant.h"
#include "tenants/uplink.h"

/* Roles, as sender bits. */
enum {
	PROTO_FROM_PARENT = 1u << 0,
	PROTO_FROM_API = 1u << 1,
	PROTO_FROM_WORKER = 1u << 2,
	PROTO_FROM_DRIVER = 1u << 3,
};

/* The numbers are the rows of proto.def, from 1; 0 is no message. */
enum proto_type {
	PROTO_TYPE_NONE = 0,
#define X(name, size, from, check) name,
#include "proto/proto.def"
#undef X
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

struct proto_uplink_request {
	struct proto_auth auth;
	struct uplink spec;		/* spec.name names the uplink */
	struct uplink_change change;	/* create and update: emulation and drills */
};

struct proto_interface_request {
	struct proto_auth auth;
	char netns[64];			/* "" = any namespace watched (GET: the host's first) */
	char name[16];
	uint32_t has_netns;		/* netns was given (?netns=) */
	uint32_t pad;
};

/* An interface as the API shows it: the inventory's record and its uplink. */
struct proto_interface {
	struct disc_iface iface;
	char uplink[TENANT_NAME_MAX + 1];	/* the uplink on it, "" if none */
	uint32_t npaths;			/* its uplink's paths, as probes measure them */
	uint32_t pad;
	struct uplink_path paths[UPLINK_PATHS_MAX];
};

#define PROTO_SIGN_DETAIL 256

struct proto_driver {
	char name[16];
	char kind[16];			/* "builtin", "plugin" */
	char signature[24];		/* "builtin", "verified", "unsigned", ... (hal/sign.h) */
	char key[64];			/* the trusted key that verified it */
	char path[256];
	char detail[PROTO_SIGN_DETAIL];
	char sha256[65];
	char pad[7];
	uint64_t size;
	uint32_t uplinks;		/* how many uplinks use it */
	uint32_t abi;
};

struct proto_principal {
	uint32_t is_admin;
	uint32_t pad;
	char tenant[TENANT_NAME_MAX + 1];	/* a tenant token's tenant */
};

#define PROTO_EVENT_KVS 8

struct proto_event {
	uint64_t id;			/* 1, 2, ... per cnwd run */
	int64_t time_ms;		/* Unix milliseconds */
	char type[32];			/* "interface.added", "uplink.down", ... */
	char tenant[TENANT_NAME_MAX + 1];	/* "" = for the admin only */
	char object[80];		/* what it is about: "wan1", "lab-edge/edge-u1" */
	uint32_t nkv;
	uint32_t pad;
	struct {			/* the event's data: strings, or numbers */
		char key[24];
		char value[80];
		uint32_t number;	/* value is a decimal number */
		uint32_t pad;
	} kv[PROTO_EVENT_KVS];
};

struct proto_policy_request {
	struct proto_auth auth;
	struct policy_spec spec;	/* spec.p.tenant and spec.p.name name it */
};

struct proto_flow_request {
	struct proto_auth auth;
	char tenant[TENANT_NAME_MAX + 1];
	char network[TENANT_NAME_MAX + 1];	/* "" = all of the tenant's */
	uint32_t limit;			/* at most this many flows, 0 = all */
	uint32_t pad;
};

struct proto_flow_summary {
	uint64_t active;		/* the tenant's flows now */
	uint64_t limit;			/* its flows quota */
	uint64_t dropped;		/* packets of new flows refused over the quota */
	uint64_t listed;		/* flows in the parts that follow */
};

/* A flow as the API shows it. */
struct proto_flow {
	char network[TENANT_NAME_MAX + 1];
	char policy[TENANT_NAME_MAX + 1];	/* "" = none matched */
	char uplinks[2][TENANT_NAME_MAX + 1];	/* "" unused */
	char src[48], dst[48];		/* addresses as text */
	uint32_t sport, dport;
	uint32_t protocol;
	uint32_t dscp;
	uint32_t action, class, steering;	/* enum policy_* */
	uint32_t elephant;
	uint32_t moves;
	uint32_t pad;
	uint64_t packets, bytes;
	int64_t age_ms, idle_ms;
};

struct proto_peer_request {
	struct proto_auth auth;
	struct peer spec;
};

/* A network as the API shows it: the row and its namespace's name. */
struct proto_network {
	struct network net;
	char netns[NETWORK_NETNS_MAX];
	uint32_t has_counters;		/* it has a port in the fast path */
	uint32_t pad;
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, drops;
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
	char name[64];			/* "api", "worker", "driver wan1" */
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
#define PROTO_INTERFACES_PER_MSG (MSG_MAX_PAYLOAD / sizeof(struct proto_interface))
#define PROTO_DRIVERS_PER_MSG (MSG_MAX_PAYLOAD / sizeof(struct proto_driver))
#define PROTO_FLOWS_PER_MSG (MSG_MAX_PAYLOAD / sizeof(struct proto_flow))

#endif
