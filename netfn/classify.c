/*
 * The classifier (see classify.h): checking a rule the worker is sent, and
 * finding the first rule that matches a flow.
 *
 * Rules come from the parent, compiled from policies it validated; the
 * worker checks them again (cls_rule_check) because it acts on them with
 * the traffic of every tenant, and a rule that breaks an assumption of
 * cls_match (a prefix longer than its family, host bits set, an uplink
 * port past the worker's) must be refused at the door, not half-matched.
 *
 * Matching is a linear scan in order: first match wins, which is what the
 * tenant's priorities mean.  The cheap fields (family, protocol, ports,
 * DSCP) are compares folded into one "miss" word, one branch per rule;
 * only a rule they all pass has its prefixes compared, as two big-endian
 * 64-bit words under a mask.
 */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netfn/classify.h"

#define CLS_M_ALL (CLS_M_PROTO | CLS_M_SRC | CLS_M_DST | CLS_M_SPORT | CLS_M_DPORT | CLS_M_DSCP)
#define CLS_PORT_MAX 64			/* uplink ports are below (the worker keeps a 64-bit set) */

/* Word w (0 or 1) of a 128-bit address, as a number. */
static uint64_t
cls_word(const uint8_t *a, unsigned w)
{
	uint64_t v;

	memcpy(&v, a + w * 8, 8);
	return be64toh(v);
}

/* The mask of word w of a prefix of plen bits (clamped to 128). */
static uint64_t
cls_mask(unsigned plen, unsigned w)
{
	unsigned bits = plen > 128 ? 128 : plen;

	bits = bits > 64u * w ? bits - 64u * w : 0;
	if (bits >= 64)
		return UINT64_MAX;
	return bits == 0 ? 0 : UINT64_MAX << (64 - bits);
}

/* 0 if addr is inside prefix/plen. */
static uint64_t
cls_prefix_miss(const uint8_t *addr, const uint8_t *prefix, unsigned plen)
{
	return ((cls_word(addr, 0) ^ cls_word(prefix, 0)) & cls_mask(plen, 0)) |
	    ((cls_word(addr, 1) ^ cls_word(prefix, 1)) & cls_mask(plen, 1));
}

/* A prefix of its family's length with no bit set past plen. */
static int
cls_prefix_ok(const uint8_t *prefix, unsigned plen, unsigned ipv)
{
	if (plen > (ipv == 4 ? 32u : 128u))
		return 0;
	/* No bit outside the mask (for IPv4, bytes 4..15 are zero too). */
	return ((cls_word(prefix, 0) & ~cls_mask(plen, 0)) |
	    (cls_word(prefix, 1) & ~cls_mask(plen, 1))) == 0;
}

int
cls_rule_check(const struct cls_rule *r)
{
	uint32_t m;

	if (r == NULL)
		return -1;
	m = r->match;
	if ((m & ~(uint32_t)CLS_M_ALL) != 0)
		return -1;
	if (r->ipv != 0 && r->ipv != 4 && r->ipv != 6)
		return -1;
	if ((m & (CLS_M_SRC | CLS_M_DST)) != 0 && r->ipv == 0)
		return -1;
	if ((m & CLS_M_SRC) && !cls_prefix_ok(r->src, r->src_plen, r->ipv))
		return -1;
	if ((m & CLS_M_DST) && !cls_prefix_ok(r->dst, r->dst_plen, r->ipv))
		return -1;
	if ((m & CLS_M_SPORT) && r->sport_lo > r->sport_hi)
		return -1;
	if ((m & CLS_M_DPORT) && r->dport_lo > r->dport_hi)
		return -1;
	if (r->action >= POLICY_ACTION_MAX || r->class >= POLICY_CLASS_MAX ||
	    r->steering >= STEER_MAX || r->nuplinks > CLS_UPLINKS_MAX)
		return -1;
	for (unsigned i = 0; i < r->nuplinks; i++)
		if (r->uplink_port[i] >= CLS_PORT_MAX && r->uplink_port[i] != CLS_NO_PORT)
			return -1;
	return 0;
}

/* A port outside lo..hi, in one unsigned compare. */
static uint64_t
cls_port_miss(uint16_t port, uint16_t lo, uint16_t hi)
{
	return (uint16_t)(port - lo) > (uint16_t)(hi - lo);
}

/*
 * 0 if the rule matches; each selected field that differs sets bits of the
 * result.  Prefixes last: most rules are told apart by the cheap fields.
 */
static uint64_t
cls_miss(const struct cls_rule *r, const struct flow_key *k, uint8_t dscp)
{
	uint32_t m = r->match;
	uint64_t miss;

	/* A rule of one family (given, or implied by a prefix) never matches the other. */
	miss = (r->ipv != 0 || (m & (CLS_M_SRC | CLS_M_DST)) != 0) & (r->ipv != k->ipv);
	miss |= ((m & CLS_M_PROTO) != 0) & (r->proto != k->proto);
	miss |= ((m & CLS_M_SPORT) != 0) & cls_port_miss(k->sport, r->sport_lo, r->sport_hi);
	miss |= ((m & CLS_M_DPORT) != 0) & cls_port_miss(k->dport, r->dport_lo, r->dport_hi);
	miss |= ((m & CLS_M_DSCP) != 0) & ~(r->dscp_mask >> (dscp & 63)) & 1;
	if (miss != 0)
		return miss;
	if (m & CLS_M_SRC)
		miss |= cls_prefix_miss(k->src, r->src, r->src_plen);
	if (m & CLS_M_DST)
		miss |= cls_prefix_miss(k->dst, r->dst, r->dst_plen);
	return miss;
}

int
cls_match(const struct cls_rule *rules, uint32_t n, const struct flow_key *k, uint8_t dscp)
{
	/* The index must fit the int we return (n is at most CLS_RULES_MAX anyway). */
	for (uint32_t i = 0; i < n && i <= (uint32_t)INT32_MAX; i++)
		if (cls_miss(&rules[i], k, dscp) == 0)
			return (int)i;
	return -1;
}
