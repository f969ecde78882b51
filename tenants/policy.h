/*
 * Policies: a tenant's ordered traffic rules (docs/rest-api.md, "Policies
 * and flows"; docs/decisions.md, "The scheduler").  A policy matches flows by protocol, ports,
 * prefixes and DSCP and gives them an action, a class, a steering mode,
 * the uplinks they may use, a rate cap and a latency bound.  Rows here;
 * the parent compiles a tenant's policies (policy_compile) and sends them
 * to the fast path's worker whenever they change (cnwd/datapath_sched.c).
 *
 * Order: by `priority` (lower first, 0..65535), then by creation.  The
 * first policy that matches a flow decides for it; a flow no policy
 * matches is allowed, bulk, active-standby.
 */
#ifndef CNW_POLICY_H
#define CNW_POLICY_H

#include <stdint.h>

#include "netfn/classify.h"
#include "lib/error.h"
#include "tenants/network.h"
#include "tenants/tenant.h"

struct store;

#define POLICY_MAX CLS_RULES_MAX	/* per tenant */
#define POLICY_PRIORITY_MAX 65535
#define POLICY_RATE_MAX 100000000	/* kbit/s, = the bandwidth quota's bound */
#define POLICY_BURST_MAX 65536		/* KiB */
#define POLICY_LATENCY_MAX 60000	/* ms */
#define POLICY_WEIGHT_MAX 1000

/* Which fields a request gave. */
enum {
	POLICY_F_PRIORITY = 1u << 0,
	POLICY_F_PROTOCOL = 1u << 1,
	POLICY_F_SRC_PREFIX = 1u << 2,
	POLICY_F_DST_PREFIX = 1u << 3,
	POLICY_F_SRC_PORTS = 1u << 4,
	POLICY_F_DST_PORTS = 1u << 5,
	POLICY_F_DSCP = 1u << 6,
	POLICY_F_ACTION = 1u << 7,
	POLICY_F_CLASS = 1u << 8,
	POLICY_F_STEERING = 1u << 9,
	POLICY_F_UPLINKS = 1u << 10,
	POLICY_F_WEIGHTS = 1u << 11,
	POLICY_F_RATE = 1u << 12,
	POLICY_F_BURST = 1u << 13,
	POLICY_F_LATENCY = 1u << 14,
};

struct policy {
	int64_t id;
	int64_t tenant_id;
	char tenant[TENANT_NAME_MAX + 1];
	char name[TENANT_NAME_MAX + 1];
	uint32_t priority;
	/* match; an absent field matches anything */
	int32_t protocol;		/* -1: any; else 0..255 */
	char src_prefix[NETWORK_CIDR_MAX];	/* canonical, "" = any */
	char dst_prefix[NETWORK_CIDR_MAX];
	uint32_t src_port_lo, src_port_hi;	/* 0..65535 both: any */
	uint32_t dst_port_lo, dst_port_hi;
	uint64_t dscp_mask;		/* bit d: DSCP d; 0 = any */
	/* what matching flows get */
	uint32_t action;		/* enum policy_action */
	uint32_t class;			/* enum policy_class */
	uint32_t steering;		/* enum policy_steering */
	uint32_t nuplinks;		/* 0: all of the network's, in its order */
	char uplinks[NETWORK_UPLINKS_MAX][TENANT_NAME_MAX + 1];
	uint32_t weights[NETWORK_UPLINKS_MAX];	/* 0 when not given */
	uint64_t rate_kbps;		/* 0: no cap */
	uint32_t burst_kb;		/* 0: the default, rate_kbps / 8 * 50 ms, at least 64 KiB */
	uint32_t max_latency_ms;	/* 0: no bound */
	int64_t created_at;
};

struct policy_spec {
	struct policy p;		/* p.tenant and p.name name it */
	uint32_t fields;		/* POLICY_F_* given */
};

typedef row_each_fn policy_each_fn;	/* fn gets a const struct policy * */

/* Names of the enums, for the API and the CLI; -1 if unknown. */
extern const char *const policy_action_names[POLICY_ACTION_MAX];
extern const char *const policy_class_names[POLICY_CLASS_MAX];
extern const char *const policy_steering_names[STEER_MAX];
int policy_action_parse(const char *s);
int policy_class_parse(const char *s);
int policy_steering_parse(const char *s);
/* "tcp", "udp", "icmp", "icmpv6", "sctp" or a number 0..255; -1 if not. */
int policy_protocol_parse(const char *s);
/* The name of a protocol number if it has one, else its number, into buf. */
const char *policy_protocol_name(int32_t proto, char *buf, size_t len);
/* "80", "1000-2000": *lo and *hi; -1 if not. */
int policy_ports_parse(const char *s, uint32_t *lo, uint32_t *hi);

/*
 * Fill the defaults of the fields a spec did not give and check every
 * value (each error a 400 saying which field and why): ranges, prefixes
 * (canonicalised in place, of one family), ports only with tcp, udp or
 * sctp (or no protocol), weights only with load-balance and as many as
 * uplinks, uplink names well formed and not repeated.
 */
int policy_validate(struct policy_spec *s, struct cnw_error *err);

/* Operations: authorization (a tenant token: its own tenant only), validation, one transaction. */
/*
 * Creates the policy; 409 if its name is taken in the tenant, 409 at
 * POLICY_MAX policies, 400 if an uplink it names does not exist.
 */
int policy_create(struct store *st, const struct principal *who, const char *actor,
    struct policy_spec *spec, struct policy *out, struct cnw_error *err);
int policy_get(struct store *st, const struct principal *who, const char *tenant,
    const char *name, struct policy *out, struct cnw_error *err);
/* In order (priority, then id). */
int policy_list(struct store *st, const struct principal *who, const char *tenant,
    policy_each_fn fn, void *arg, struct cnw_error *err);
int policy_delete(struct store *st, const struct principal *who, const char *actor,
    const char *tenant, const char *name, struct policy *gone, struct cnw_error *err);

/* Rows, in order; inside or outside a transaction. */
int policy_row_each(struct store *st, int64_t tenant_id, policy_each_fn fn, void *arg,
    struct cnw_error *err);
/* Policies naming an uplink (an uplink in use cannot be deleted). */
int policy_row_count_uplink(struct store *st, const char *uplink, int64_t *count,
    struct cnw_error *err);

/*
 * The rule of a policy for the worker: match and actions.  The uplinks'
 * ports are the data path's to fill (uplink_port[], nuplinks).
 */
int policy_compile(const struct policy *p, struct cls_rule *out, struct cnw_error *err);

#endif
