/*
 * The flow table of the fast path: one entry per 5-tuple of a tenant
 * network, made on a flow's first packet, found by every later one, aged
 * out when idle.  Classification and steering are decided once per flow
 * and cached in its entry, so a packet costs one hash lookup.
 *
 * The table lives in memory the caller gives (the worker puts it in a
 * memfd the parent maps read-only, to list flows without asking the
 * worker): a header and a power-of-two array of slots, open addressing
 * with linear probing and backward-shift deletion (no tombstones, so
 * lookups never slow down with churn).  One writer (the worker).  Readers
 * in other processes copy an entry between two reads of an even, unchanged
 * `gen` (a per-entry seqlock, bumped only when an entry is made, moved or
 * removed, never per packet); counters may be read torn by one packet.
 */
#ifndef CNW_FLOW_H
#define CNW_FLOW_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_MAGIC 0x636e7746u		/* "cnwF" */
#define FLOW_VERSION 1
#define FLOW_NO_PORT 0xff		/* flow.port[] unused */
#define FLOW_ELEPHANT_BYTES (1024 * 1024)	/* a flow past this is an elephant */

/* The 5-tuple and the network slot it belongs to; zero padding, compared whole. */
struct flow_key {
	uint8_t src[16];		/* IPv4 in the first 4 bytes, the rest zero */
	uint8_t dst[16];
	uint16_t sport, dport;		/* host order; 0 for protocols without ports */
	uint8_t proto;			/* IP protocol */
	uint8_t ipv;			/* 4 or 6 */
	uint16_t net;			/* the worker's network slot */
};

struct flow {
	struct flow_key key;		/* 40 bytes */
	atomic_uint gen;		/* odd while the writer changes key or state; 0 = slot free */
	uint32_t hash;			/* flow_hash(&key, seed), kept for moves */
	uint32_t tenant;		/* the tenant's row id */
	uint32_t policy;		/* the matched policy's row id, 0 = none (default) */
	uint32_t rules_gen;		/* the tenant's ruleset generation it was classified under */
	uint8_t rule;			/* index of the matched rule, 0xff = none */
	uint8_t class;			/* enum policy_class */
	uint8_t steering;		/* enum policy_steering */
	uint8_t action;			/* enum policy_action */
	uint8_t port[2];		/* chosen uplink port(s), FLOW_NO_PORT if none */
	uint8_t dscp;			/* of its first packet */
	uint8_t elephant;		/* bytes passed FLOW_ELEPHANT_BYTES */
	uint32_t moves;			/* times its uplink changed */
	uint32_t pad;
	uint64_t packets, bytes;
	uint64_t first_ns, last_ns;	/* CLOCK_MONOTONIC */
	uint64_t moved_ns;		/* last change of uplink (hysteresis), or first_ns */
	uint64_t checked_ns;		/* last steering check */
};

struct flow_table {
	uint32_t magic, version;
	uint32_t nslots;		/* power of two */
	uint32_t mask;
	uint32_t count;			/* entries in use */
	uint32_t max;			/* at most this many in use (nslots * 3 / 4) */
	uint32_t scan;			/* aging cursor */
	uint32_t pad;
	struct flow slots[];
};

/* Bytes of a table of nslots slots (a power of two >= 16); 0 if not. */
size_t flow_table_size(uint32_t nslots);
/* Lay out an empty table in mem (flow_table_size(nslots) bytes, zeroed or not). */
struct flow_table *flow_table_init(void *mem, uint32_t nslots);
/* Check a mapped table's header against its size (a reader does). 0 if sound. */
int flow_table_check(const struct flow_table *t, size_t mapped);

/*
 * Parse the 5-tuple of the IP packet of len bytes at ip (version ipv, its
 * header already checked by the caller) into k, with net; *dscp gets the
 * DSCP.  Ports of TCP, UDP, UDP-Lite, SCTP (and the id of ICMP echo) when
 * the transport header is there and the packet is not a later fragment;
 * 0 otherwise.  IPv6: extension headers (hop-by-hop, routing, destination,
 * fragment) are walked, at most 8.  Returns 0, or -1 if the packet is too
 * short for what its headers claim.
 */
int flow_key_parse(const uint8_t *ip, uint32_t len, int ipv, uint16_t net, struct flow_key *k,
    uint8_t *dscp);
/* The key's hash under seed (flow.c: the worker's seed is random, so tenants cannot aim at a slot). */
uint32_t flow_hash(const struct flow_key *k, uint64_t seed);

/* The entry of k (hash = flow_hash(k, the table user's seed)), or NULL. */
struct flow *flow_lookup(struct flow_table *t, const struct flow_key *k, uint32_t hash);
/*
 * A new entry for k (not in the table), zeroed but for key, hash and gen
 * (even, nonzero); NULL if the table holds max entries.
 */
struct flow *flow_insert(struct flow_table *t, const struct flow_key *k, uint32_t hash);
/* Remove an entry (a pointer from lookup or insert); later entries may move. */
void flow_remove(struct flow_table *t, struct flow *f);
/*
 * Age: look at up to budget slots from the cursor, removing entries idle
 * since before now - idle_ns; each is passed to gone(f, arg) first.
 * Returns how many were removed.
 */
uint32_t flow_expire(struct flow_table *t, uint64_t now, uint64_t idle_ns, uint32_t budget,
    void (*gone)(struct flow *f, void *arg), void *arg);
/* Writer: around a change of an entry's state that readers must see whole. */
void flow_write_begin(struct flow *f);
void flow_write_end(struct flow *f);
/* Reader: a consistent copy of slot i; 1 if it holds a flow, 0 if free, -1 if busy. */
int flow_read(const struct flow_table *t, uint32_t i, struct flow *out);

#endif
