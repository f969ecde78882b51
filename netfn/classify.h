/*
 * The classifier: a tenant's policies compiled into ordered rules, and the
 * first rule that matches a flow.  Rules are matched once per flow (the
 * flow table caches the result), so a linear scan in order is what we do:
 * it is what "ordered rules" means, and at 100 rules it costs a new flow
 * about as much as one cache miss.
 *
 * The enums here are the vocabulary of policies everywhere (the API's
 * strings are in tenants/policy.c, in the same order).
 */
#ifndef CNW_CLASSIFY_H
#define CNW_CLASSIFY_H

#include <stdint.h>

#include "netfn/flow.h"

#define CLS_RULES_MAX 128		/* per tenant */
#define CLS_UPLINKS_MAX 8		/* = WORKER_NET_UPLINKS */
#define CLS_NO_PORT 0xff		/* in uplink_port[]: matches no network's uplink */

enum policy_action { POLICY_ALLOW = 0, POLICY_DENY = 1, POLICY_ACTION_MAX };
/* In order of priority on an uplink: realtime first. */
enum policy_class {
	POLICY_REALTIME = 0,
	POLICY_INTERACTIVE = 1,
	POLICY_BULK = 2,
	POLICY_BACKGROUND = 3,
	POLICY_CLASS_MAX
};
enum policy_steering {
	STEER_ACTIVE_STANDBY = 0,
	STEER_SMALLEST_DELAY = 1,
	STEER_LOAD_BALANCE = 2,
	STEER_PRIORITY = 3,
	STEER_REDUNDANT = 4,
	STEER_MAX
};

/* A flow no rule matches: allowed, bulk, active-standby over the network's uplinks. */
#define CLS_DEFAULT_CLASS POLICY_BULK
#define CLS_DEFAULT_STEERING STEER_ACTIVE_STANDBY

enum {
	CLS_M_PROTO = 1u << 0,
	CLS_M_SRC = 1u << 1,		/* src/src_plen */
	CLS_M_DST = 1u << 2,
	CLS_M_SPORT = 1u << 3,		/* sport_lo..sport_hi */
	CLS_M_DPORT = 1u << 4,
	CLS_M_DSCP = 1u << 5,		/* dscp_mask */
};

struct cls_rule {
	/* match: every field whose bit is in `match` must hold */
	uint32_t match;			/* CLS_M_* */
	uint32_t policy;		/* the policy's row id */
	uint8_t proto;
	uint8_t ipv;			/* 4 or 6 when a prefix is given (both the same), else 0 */
	uint8_t src_plen, dst_plen;
	uint16_t sport_lo, sport_hi;
	uint16_t dport_lo, dport_hi;
	uint8_t src[16], dst[16];	/* host bits cleared */
	uint64_t dscp_mask;		/* bit d: DSCP d matches */
	/* what a matching flow gets */
	uint8_t action, class, steering;
	uint8_t nuplinks;		/* 0: all of the network's */
	uint8_t uplink_port[CLS_UPLINKS_MAX];	/* allowed uplinks' ports, in preference order;
					   CLS_NO_PORT: a named uplink without a port now */
	uint16_t weight[CLS_UPLINKS_MAX];	/* load-balance weights, 0 = by capacity alone */
	uint64_t rate_kbps;		/* cap over all its flows, 0 = none */
	uint32_t burst_bytes;		/* of the cap's token bucket */
	uint32_t max_latency_us;	/* bound on the path's delay, 0 = none */
};

/* 0 if a rule is well formed (the worker checks what it is sent). */
int cls_rule_check(const struct cls_rule *r);
/* The index of the first of n rules that matches k with this DSCP, or -1. */
int cls_match(const struct cls_rule *rules, uint32_t n, const struct flow_key *k, uint8_t dscp);

#endif
