/*
 * The classifier (netfn/classify.h): first match wins, in order; a
 * narrower rule before a broader one and after it (shadowed); each match
 * field alone -- protocol, source and destination prefixes at every
 * length edge (/0, /31, /32, /63, /64, /65, /128), port ranges at their
 * edges, DSCP masks bit by bit -- and all together, each failing alone;
 * rules of one family never matching a flow of the other, prefix /0
 * included; no rule or no match is -1.  Then random rules and flows
 * against a bit-by-bit reference matcher, and cls_rule_check accepting
 * sound rules and refusing each kind of malformed one.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netfn/classify.h"

/* Helpers ------------------------------------------------------------- */

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A rule matching everything, allowed, bulk, active-standby. */
static struct cls_rule
rule(void)
{
	struct cls_rule r;

	memset(&r, 0, sizeof(r));
	r.action = POLICY_ALLOW;
	r.class = CLS_DEFAULT_CLASS;
	r.steering = CLS_DEFAULT_STEERING;
	return r;
}

static void
addr(int ipv, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	assert_int_equal(inet_pton(ipv == 4 ? AF_INET : AF_INET6, s, out), 1);
}

static void
r_src(struct cls_rule *r, int ipv, const char *prefix, uint8_t plen)
{
	r->match |= CLS_M_SRC;
	r->ipv = (uint8_t)ipv;
	r->src_plen = plen;
	addr(ipv, prefix, r->src);
}

static void
r_dst(struct cls_rule *r, int ipv, const char *prefix, uint8_t plen)
{
	r->match |= CLS_M_DST;
	r->ipv = (uint8_t)ipv;
	r->dst_plen = plen;
	addr(ipv, prefix, r->dst);
}

static void
r_proto(struct cls_rule *r, uint8_t proto)
{
	r->match |= CLS_M_PROTO;
	r->proto = proto;
}

static void
r_sport(struct cls_rule *r, uint16_t lo, uint16_t hi)
{
	r->match |= CLS_M_SPORT;
	r->sport_lo = lo;
	r->sport_hi = hi;
}

static void
r_dport(struct cls_rule *r, uint16_t lo, uint16_t hi)
{
	r->match |= CLS_M_DPORT;
	r->dport_lo = lo;
	r->dport_hi = hi;
}

static void
r_dscp(struct cls_rule *r, uint64_t mask)
{
	r->match |= CLS_M_DSCP;
	r->dscp_mask = mask;
}

/* A flow key as flow_key_parse makes it. */
static struct flow_key
fk(int ipv, const char *src, const char *dst, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	addr(ipv, src, k.src);
	addr(ipv, dst, k.dst);
	k.ipv = (uint8_t)ipv;
	k.proto = proto;
	k.sport = sport;
	k.dport = dport;
	k.net = 3;
	return k;
}

/* Does one rule match k? */
static int
match1(const struct cls_rule *r, const struct flow_key *k, uint8_t dscp)
{
	int i = cls_match(r, 1, k, dscp);

	assert_true(i == 0 || i == -1);
	return i == 0;
}

/* Order --------------------------------------------------------------- */

static void
test_empty(void **state)
{
	struct cls_rule r = rule();
	struct flow_key k4 = fk(4, "10.0.0.1", "10.0.0.2", 6, 1, 2);
	struct flow_key k6 = fk(6, "2001:db8::1", "2001:db8::2", 17, 1, 2);

	(void)state;
	assert_int_equal(cls_match(NULL, 0, &k4, 0), -1);
	assert_int_equal(cls_match(&r, 0, &k4, 0), -1);
	/* A rule selecting nothing matches everything, both families. */
	assert_int_equal(cls_match(&r, 1, &k4, 0), 0);
	assert_int_equal(cls_match(&r, 1, &k6, 63), 0);
	assert_int_equal(cls_rule_check(&r), 0);
}

static void
test_first_match_wins(void **state)
{
	struct cls_rule rs[4];
	struct flow_key k;

	(void)state;
	rs[0] = rule();
	r_dport(&rs[0], 443, 443);
	rs[1] = rule();
	r_dport(&rs[1], 80, 80);
	rs[1].action = POLICY_DENY;
	rs[2] = rule();
	r_dport(&rs[2], 80, 80);			/* the same as 1: never reached */
	rs[3] = rule();					/* everything else */
	k = fk(4, "10.0.0.1", "10.0.0.2", 6, 5555, 80);
	assert_int_equal(cls_match(rs, 4, &k, 0), 1);
	k.dport = 443;
	assert_int_equal(cls_match(rs, 4, &k, 0), 0);
	k.dport = 8080;
	assert_int_equal(cls_match(rs, 4, &k, 0), 3);
	/* Without the catch-all: no match. */
	assert_int_equal(cls_match(rs, 3, &k, 0), -1);
	/* n bounds the scan. */
	k.dport = 80;
	assert_int_equal(cls_match(rs, 1, &k, 0), -1);
	assert_int_equal(cls_match(rs + 2, 2, &k, 0), 0);
}

static void
test_overlapping(void **state)
{
	struct cls_rule narrow = rule(), broad = rule(), rs[2];
	struct flow_key in_narrow = fk(4, "10.1.2.3", "8.8.8.8", 17, 1000, 53);
	struct flow_key in_broad = fk(4, "10.2.0.1", "8.8.8.8", 17, 1000, 53);
	struct flow_key outside = fk(4, "11.1.2.3", "8.8.8.8", 17, 1000, 53);

	(void)state;
	r_src(&narrow, 4, "10.1.0.0", 16);
	narrow.action = POLICY_DENY;
	r_src(&broad, 4, "10.0.0.0", 8);
	/* Narrower first: it takes its flows, the broader one the rest. */
	rs[0] = narrow;
	rs[1] = broad;
	assert_int_equal(cls_match(rs, 2, &in_narrow, 0), 0);
	assert_int_equal(cls_match(rs, 2, &in_broad, 0), 1);
	assert_int_equal(cls_match(rs, 2, &outside, 0), -1);
	/* Broader first: it shadows the narrower one. */
	rs[0] = broad;
	rs[1] = narrow;
	assert_int_equal(cls_match(rs, 2, &in_narrow, 0), 0);
	assert_int_equal(cls_match(rs, 2, &in_broad, 0), 0);
	assert_int_equal(cls_match(rs, 2, &outside, 0), -1);
	/* Overlapping port ranges: the first that holds the port. */
	rs[0] = rule();
	r_dport(&rs[0], 1000, 2000);
	rs[1] = rule();
	r_dport(&rs[1], 1500, 3000);
	in_broad.dport = 1500;
	assert_int_equal(cls_match(rs, 2, &in_broad, 0), 0);
	in_broad.dport = 2001;
	assert_int_equal(cls_match(rs, 2, &in_broad, 0), 1);
	in_broad.dport = 999;
	assert_int_equal(cls_match(rs, 2, &in_broad, 0), -1);
}

/* Each field ------------------------------------------------------------ */

static void
test_proto(void **state)
{
	struct cls_rule r = rule();
	struct flow_key k4 = fk(4, "10.0.0.1", "10.0.0.2", 6, 1, 2);
	struct flow_key k6 = fk(6, "::1", "::2", 6, 1, 2);

	(void)state;
	r_proto(&r, 6);
	assert_true(match1(&r, &k4, 0));
	assert_true(match1(&r, &k6, 0));		/* no family given: both */
	k4.proto = 17;
	k6.proto = 0;
	assert_false(match1(&r, &k4, 0));
	assert_false(match1(&r, &k6, 0));
	r.proto = 0;
	assert_true(match1(&r, &k6, 0));
	r.proto = 255;
	k6.proto = 255;
	assert_true(match1(&r, &k6, 0));
	/* The protocol is ignored when not selected. */
	r.match = 0;
	k6.proto = 1;
	assert_true(match1(&r, &k6, 0));
}

/* addr in prefix/plen and the addresses just outside it, for src and dst. */
static void
prefix_edges(int ipv, const char *prefix, uint8_t plen, const char *first, const char *last,
    const char *below, const char *above)
{
	const char *other = ipv == 4 ? "192.0.2.77" : "2001:db8:ffff::77";
	struct cls_rule s = rule(), d = rule();
	struct flow_key k;

	r_src(&s, ipv, prefix, plen);
	r_dst(&d, ipv, prefix, plen);
	assert_int_equal(cls_rule_check(&s), 0);
	assert_int_equal(cls_rule_check(&d), 0);
	k = fk(ipv, first, other, 6, 1, 2);
	assert_true(match1(&s, &k, 0));
	k = fk(ipv, last, other, 6, 1, 2);
	assert_true(match1(&s, &k, 0));
	k = fk(ipv, other, first, 6, 1, 2);
	assert_true(match1(&d, &k, 0));
	k = fk(ipv, other, last, 6, 1, 2);
	assert_true(match1(&d, &k, 0));
	if (below != NULL) {
		/* Outside, the other address inside: source and destination are not mixed up. */
		k = fk(ipv, below, first, 6, 1, 2);
		assert_false(match1(&s, &k, 0));
		k = fk(ipv, first, below, 6, 1, 2);
		assert_false(match1(&d, &k, 0));
	}
	if (above != NULL) {
		k = fk(ipv, above, other, 6, 1, 2);
		assert_false(match1(&s, &k, 0));
		k = fk(ipv, other, above, 6, 1, 2);
		assert_false(match1(&d, &k, 0));
	}
}

static void
test_prefix_v4(void **state)
{
	(void)state;
	prefix_edges(4, "0.0.0.0", 0, "0.0.0.0", "255.255.255.255", NULL, NULL);
	prefix_edges(4, "10.0.0.0", 8, "10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0");
	prefix_edges(4, "10.1.2.0", 24, "10.1.2.0", "10.1.2.255", "10.1.1.255", "10.1.3.0");
	prefix_edges(4, "10.1.2.4", 30, "10.1.2.4", "10.1.2.7", "10.1.2.3", "10.1.2.8");
	prefix_edges(4, "10.1.2.4", 31, "10.1.2.4", "10.1.2.5", "10.1.2.3", "10.1.2.6");
	prefix_edges(4, "10.1.2.4", 32, "10.1.2.4", "10.1.2.4", "10.1.2.3", "10.1.2.5");
	prefix_edges(4, "128.0.0.0", 1, "128.0.0.0", "255.255.255.255", "127.255.255.255", NULL);
	prefix_edges(4, "172.16.0.0", 12, "172.16.0.0", "172.31.255.255", "172.15.255.255",
	    "172.32.0.0");
}

static void
test_prefix_v6(void **state)
{
	(void)state;
	prefix_edges(6, "::", 0, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, NULL);
	prefix_edges(6, "2001:db8::", 32, "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
	    "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db9::");
	prefix_edges(6, "2001:db8:1:2::", 63, "2001:db8:1:2::", "2001:db8:1:3:ffff:ffff:ffff:ffff",
	    "2001:db8:1:1:ffff:ffff:ffff:ffff", "2001:db8:1:4::");
	prefix_edges(6, "2001:db8:1:2::", 64, "2001:db8:1:2::", "2001:db8:1:2:ffff:ffff:ffff:ffff",
	    "2001:db8:1:1:ffff:ffff:ffff:ffff", "2001:db8:1:3::");
	prefix_edges(6, "2001:db8:1:2:8000::", 65, "2001:db8:1:2:8000::",
	    "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:7fff:ffff:ffff:ffff",
	    "2001:db8:1:3::");
	prefix_edges(6, "fd00::1:0", 112, "fd00::1:0", "fd00::1:ffff", "fd00::0:ffff", "fd00::2:0");
	prefix_edges(6, "fd00::2", 127, "fd00::2", "fd00::3", "fd00::1", "fd00::4");
	prefix_edges(6, "fd00::2", 128, "fd00::2", "fd00::2", "fd00::1", "fd00::3");
}

static void
test_family(void **state)
{
	struct cls_rule any4 = rule(), any6 = rule(), only4 = rule(), only6 = rule();
	struct flow_key k4 = fk(4, "10.0.0.1", "10.0.0.2", 6, 1, 2);
	struct flow_key k6 = fk(6, "::", "::", 6, 1, 2);
	struct flow_key k6z;

	(void)state;
	r_src(&any4, 4, "0.0.0.0", 0);
	r_dst(&any6, 6, "::", 0);
	only4.ipv = 4;
	only6.ipv = 6;
	assert_int_equal(cls_rule_check(&only4), 0);
	assert_int_equal(cls_rule_check(&only6), 0);
	assert_true(match1(&any4, &k4, 0));
	assert_false(match1(&any4, &k6, 0));
	assert_true(match1(&any6, &k6, 0));
	assert_false(match1(&any6, &k4, 0));
	assert_true(match1(&only4, &k4, 0));
	assert_false(match1(&only4, &k6, 0));
	assert_true(match1(&only6, &k6, 0));
	assert_false(match1(&only6, &k4, 0));
	/* Bytes equal, family not: a v4 flow 0.0.0.0 against ::/96, and the reverse. */
	k6z = k6;
	k4 = fk(4, "0.0.0.0", "0.0.0.0", 6, 1, 2);
	only6 = rule();
	r_src(&only6, 6, "::", 96);
	assert_false(match1(&only6, &k4, 0));
	assert_true(match1(&only6, &k6z, 0));
	only4 = rule();
	r_src(&only4, 4, "0.0.0.0", 32);
	assert_false(match1(&only4, &k6z, 0));
	assert_true(match1(&only4, &k4, 0));
	/* A malformed rule with a prefix and no family matches nothing. */
	only4.ipv = 0;
	assert_int_equal(cls_rule_check(&only4), -1);
	assert_false(match1(&only4, &k4, 0));
	assert_false(match1(&only4, &k6z, 0));
}

static void
port_edges(int dst)
{
	struct cls_rule r = rule();
	struct flow_key k = fk(4, "10.0.0.1", "10.0.0.2", 17, 0, 0);
	uint16_t *p = dst ? &k.dport : &k.sport, *other = dst ? &k.sport : &k.dport;
	static const uint16_t ranges[][2] = {
		{ 1000, 2000 }, { 0, 0 }, { 0, 1023 }, { 65535, 65535 }, { 1024, 65535 },
		{ 0, 65535 }, { 53, 53 }, { 32768, 32769 },
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		uint16_t lo = ranges[i][0], hi = ranges[i][1];

		r = rule();
		if (dst)
			r_dport(&r, lo, hi);
		else
			r_sport(&r, lo, hi);
		assert_int_equal(cls_rule_check(&r), 0);
		*other = (uint16_t)(lo - 1);		/* the other port never matters */
		*p = lo;
		assert_true(match1(&r, &k, 0));
		*p = hi;
		assert_true(match1(&r, &k, 0));
		*p = (uint16_t)(lo + (hi - lo) / 2);
		assert_true(match1(&r, &k, 0));
		*other = lo;
		if (lo > 0) {
			*p = (uint16_t)(lo - 1);
			assert_false(match1(&r, &k, 0));
			*p = 0;
			assert_false(match1(&r, &k, 0));
		}
		if (hi < 65535) {
			*p = (uint16_t)(hi + 1);
			assert_false(match1(&r, &k, 0));
			*p = 65535;
			assert_false(match1(&r, &k, 0));
		}
	}
}

static void
test_ports(void **state)
{
	struct cls_rule rs[2];
	struct flow_key k = fk(6, "::1", "::2", 6, 80, 8080);

	(void)state;
	port_edges(0);
	port_edges(1);
	/* Source and destination ranges are not confused. */
	rs[0] = rule();
	r_sport(&rs[0], 8080, 8080);
	rs[1] = rule();
	r_dport(&rs[1], 8080, 8080);
	assert_int_equal(cls_match(rs, 2, &k, 0), 1);
	k.sport = 8080;
	k.dport = 80;
	assert_int_equal(cls_match(rs, 2, &k, 0), 0);
}

static void
test_dscp(void **state)
{
	struct cls_rule r = rule();
	struct flow_key k = fk(4, "10.0.0.1", "10.0.0.2", 17, 1, 2);

	(void)state;
	r_dscp(&r, 1ull << 46);				/* EF */
	for (uint8_t d = 0; d < 64; d++)
		assert_int_equal(match1(&r, &k, d), d == 46);
	r.dscp_mask = 1ull << 0 | 1ull << 63;		/* the edges */
	for (uint8_t d = 0; d < 64; d++)
		assert_int_equal(match1(&r, &k, d), d == 0 || d == 63);
	r.dscp_mask = UINT64_MAX;
	for (uint8_t d = 0; d < 64; d++)
		assert_true(match1(&r, &k, d));
	r.dscp_mask = 0;				/* selects no DSCP: never */
	for (uint8_t d = 0; d < 64; d++)
		assert_false(match1(&r, &k, d));
	r.dscp_mask = 0xff00ull << 8;			/* AF21..: 16..23 */
	for (uint8_t d = 0; d < 64; d++)
		assert_int_equal(match1(&r, &k, d), d >= 16 && d <= 23);
	/* Not selected: the mask is ignored. */
	r.match = 0;
	assert_true(match1(&r, &k, 5));
}

static void
test_combined(void **state)
{
	struct cls_rule r = rule(), rs[3];
	struct flow_key k = fk(6, "2001:db8:1::10", "2001:db8:2::20", 17, 40000, 3478), x;
	uint8_t dscp = 46;

	(void)state;
	r_proto(&r, 17);
	r_src(&r, 6, "2001:db8:1::", 48);
	r_dst(&r, 6, "2001:db8:2::", 64);
	r_sport(&r, 32768, 65535);
	r_dport(&r, 3478, 3479);
	r_dscp(&r, 1ull << 46 | 1ull << 34);
	assert_int_equal(cls_rule_check(&r), 0);
	assert_true(match1(&r, &k, dscp));
	assert_true(match1(&r, &k, 34));
	/* Each field failing alone. */
	x = k;
	x.proto = 6;
	assert_false(match1(&r, &x, dscp));
	x = k;
	x.src[5] ^= 1;
	assert_false(match1(&r, &x, dscp));
	x = k;
	x.dst[7] ^= 1;
	assert_false(match1(&r, &x, dscp));
	x = k;
	x.sport = 32767;
	assert_false(match1(&r, &x, dscp));
	x = k;
	x.dport = 3480;
	assert_false(match1(&r, &x, dscp));
	assert_false(match1(&r, &k, 0));
	/* Host bits of the flow past the prefixes do not matter. */
	x = k;
	x.src[15] ^= 0xff;
	x.dst[8] ^= 0xff;
	assert_true(match1(&r, &x, dscp));
	/* In a list: the combined rule, then a broader fallback. */
	rs[0] = rule();
	r_proto(&rs[0], 6);
	rs[1] = r;
	rs[2] = rule();
	r_dscp(&rs[2], 1ull << 46);
	assert_int_equal(cls_match(rs, 3, &k, dscp), 1);
	x = k;
	x.dport = 1;
	assert_int_equal(cls_match(rs, 3, &x, dscp), 2);
	assert_int_equal(cls_match(rs, 3, &x, 0), -1);
}

/* Random rules against a reference ---------------------------------------- */

static int
ref_prefix(const uint8_t *a, const uint8_t *p, unsigned plen)
{
	for (unsigned b = 0; b < plen; b++)
		if (((a[b / 8] ^ p[b / 8]) >> (7 - b % 8)) & 1)
			return 0;
	return 1;
}

static int
ref_match(const struct cls_rule *rs, uint32_t n, const struct flow_key *k, uint8_t dscp)
{
	for (uint32_t i = 0; i < n; i++) {
		const struct cls_rule *r = &rs[i];

		if (r->ipv != 0 && r->ipv != k->ipv)
			continue;
		if ((r->match & CLS_M_PROTO) && r->proto != k->proto)
			continue;
		if ((r->match & CLS_M_SRC) && !ref_prefix(k->src, r->src, r->src_plen))
			continue;
		if ((r->match & CLS_M_DST) && !ref_prefix(k->dst, r->dst, r->dst_plen))
			continue;
		if ((r->match & CLS_M_SPORT) && (k->sport < r->sport_lo || k->sport > r->sport_hi))
			continue;
		if ((r->match & CLS_M_DPORT) && (k->dport < r->dport_lo || k->dport > r->dport_hi))
			continue;
		if ((r->match & CLS_M_DSCP) && !(r->dscp_mask >> dscp & 1))
			continue;
		return (int)i;
	}
	return -1;
}

/* A random address near base (so prefixes sometimes hold). */
static void
rand_addr(uint64_t *rng, int ipv, uint8_t *a)
{
	memset(a, 0, 16);
	a[0] = ipv == 4 ? 10 : 0x20;
	a[1] = (uint8_t)(xorshift64(rng) & 1);
	for (int i = 2; i < (ipv == 4 ? 4 : 16); i++)
		a[i] = (uint8_t)(xorshift64(rng) & (i % 3 == 0 ? 0xff : 0x3));
}

static void
rand_prefix(uint64_t *rng, int ipv, uint8_t *p, uint8_t *plen)
{
	unsigned max = ipv == 4 ? 32 : 128;

	rand_addr(rng, ipv, p);
	*plen = (uint8_t)(xorshift64(rng) % (max + 1));
	for (unsigned b = *plen; b < 128; b++)
		p[b / 8] &= (uint8_t)~(0x80 >> b % 8);
}

static void
test_random(void **state)
{
	struct cls_rule rs[CLS_RULES_MAX];
	uint64_t rng = 0xc1a55;

	(void)state;
	for (int round = 0; round < 300; round++) {
		uint32_t n = (uint32_t)(xorshift64(&rng) % (CLS_RULES_MAX + 1));

		for (uint32_t i = 0; i < n; i++) {
			struct cls_rule *r = &rs[i];
			uint64_t x = xorshift64(&rng);
			int ipv = x & 1 ? 6 : 4;

			*r = rule();
			if (x >> 1 & 1)
				r_proto(r, x >> 2 & 1 ? 6 : 17);
			if ((x >> 3 & 3) == 0)
				r_src(r, ipv, ipv == 4 ? "0.0.0.0" : "::", 0);
			if (r->match & CLS_M_SRC)
				rand_prefix(&rng, ipv, r->src, &r->src_plen);
			if ((x >> 5 & 3) == 0) {
				r_dst(r, ipv, ipv == 4 ? "0.0.0.0" : "::", 0);
				rand_prefix(&rng, ipv, r->dst, &r->dst_plen);
			}
			if ((x >> 7 & 7) == 0)
				r->ipv = (uint8_t)ipv;
			if (x >> 10 & 1) {
				uint16_t a = (uint16_t)(xorshift64(&rng) % 64);
				uint16_t b = (uint16_t)(xorshift64(&rng) % 64);

				r_sport(r, a < b ? a : b, a < b ? b : a);
			}
			if (x >> 11 & 1) {
				uint16_t a = (uint16_t)xorshift64(&rng);
				uint16_t b = (uint16_t)xorshift64(&rng);

				r_dport(r, a < b ? a : b, a < b ? b : a);
			}
			if ((x >> 12 & 3) == 0)
				r_dscp(r, xorshift64(&rng) & xorshift64(&rng));
			assert_int_equal(cls_rule_check(r), 0);
		}
		for (int f = 0; f < 500; f++) {
			struct flow_key k;
			uint64_t x = xorshift64(&rng);
			uint8_t dscp = (uint8_t)(x >> 8 & 63);

			memset(&k, 0, sizeof(k));
			k.ipv = x & 1 ? 6 : 4;
			k.proto = x >> 1 & 1 ? 6 : 17;
			rand_addr(&rng, k.ipv, k.src);
			rand_addr(&rng, k.ipv, k.dst);
			k.sport = (uint16_t)(xorshift64(&rng) % 64);
			k.dport = (uint16_t)xorshift64(&rng);
			assert_int_equal(cls_match(rs, n, &k, dscp), ref_match(rs, n, &k, dscp));
		}
	}
}

/* cls_rule_check ---------------------------------------------------------- */

static void
test_rule_check(void **state)
{
	struct cls_rule good = rule(), r;

	(void)state;
	/* Everything selected and every action field at its top. */
	r_proto(&good, 6);
	r_src(&good, 6, "2001:db8::", 32);
	r_dst(&good, 6, "2001:db8:1::", 128);
	r_sport(&good, 0, 65535);
	r_dport(&good, 443, 443);
	r_dscp(&good, UINT64_MAX);
	good.action = POLICY_ACTION_MAX - 1;
	good.class = POLICY_CLASS_MAX - 1;
	good.steering = STEER_MAX - 1;
	good.nuplinks = CLS_UPLINKS_MAX;
	for (int i = 0; i < CLS_UPLINKS_MAX; i++)
		good.uplink_port[i] = (uint8_t)(63 - i);
	good.rate_kbps = 100000;
	good.burst_bytes = 65536;
	good.max_latency_us = 1000;
	assert_int_equal(cls_rule_check(&good), 0);
	assert_int_equal(cls_rule_check(NULL), -1);

#define BAD(stmt) do {							\
	r = good;							\
	stmt;								\
	assert_int_equal(cls_rule_check(&r), -1);			\
} while (0)
#define OK(stmt) do {							\
	r = good;							\
	stmt;								\
	assert_int_equal(cls_rule_check(&r), 0);			\
} while (0)
	/* Match bits. */
	BAD(r.match |= 1u << 6);
	BAD(r.match |= 1u << 31);
	/* Family. */
	BAD(r.ipv = 5);
	BAD(r.ipv = 0);
	OK(r.ipv = 0; r.match &= ~(uint32_t)(CLS_M_SRC | CLS_M_DST));
	BAD(r.ipv = 0; r.match &= ~(uint32_t)CLS_M_SRC);
	BAD(r.ipv = 0; r.match &= ~(uint32_t)CLS_M_DST);
	BAD(r.ipv = 1; r.match = 0);
	/* Prefix lengths. */
	BAD(r.src_plen = 129);
	BAD(r.dst_plen = 255);
	OK(r_src(&r, 4, "10.0.0.0", 32); r_dst(&r, 4, "10.0.0.0", 8));
	BAD(r_src(&r, 4, "10.0.0.0", 33); r_dst(&r, 4, "10.0.0.0", 8));
	BAD(r_src(&r, 4, "10.0.0.0", 8); r_dst(&r, 4, "10.0.0.0", 33));
	/* Host bits. */
	BAD(r.src[4] = 1);
	BAD(r.src[15] = 1);
	BAD(r_src(&r, 4, "10.0.0.1", 24); r_dst(&r, 4, "10.0.0.0", 8));
	BAD(r_src(&r, 4, "10.0.0.0", 8); r_dst(&r, 4, "10.0.0.128", 24));
	BAD(r_src(&r, 4, "10.0.0.0", 8); r_dst(&r, 4, "10.0.0.0", 8); r.dst[4] = 0x80);
	BAD(r_src(&r, 4, "10.0.0.0", 0); r_dst(&r, 4, "10.0.0.0", 8));
	OK(r_src(&r, 4, "0.0.0.0", 0); r_dst(&r, 4, "10.0.0.0", 8));
	BAD(r_src(&r, 6, "2001:db8:0:0:8000::", 64));
	OK(r_src(&r, 6, "2001:db8:0:0:8000::", 65));
	BAD(r_src(&r, 6, "::1", 127));
	BAD(r_src(&r, 6, "8000::", 0));
	/* Prefixes not selected are not looked at. */
	OK(r.match &= ~(uint32_t)(CLS_M_SRC | CLS_M_DST); r.src[15] = 1; r.dst_plen = 200);
	/* Ports. */
	BAD(r_sport(&r, 2, 1));
	BAD(r_dport(&r, 65535, 0));
	OK(r_sport(&r, 7, 7); r_dport(&r, 0, 0));
	OK(r.match &= ~(uint32_t)CLS_M_DPORT; r.dport_lo = 9; r.dport_hi = 1);
	/* Actions. */
	BAD(r.action = POLICY_ACTION_MAX);
	BAD(r.class = POLICY_CLASS_MAX);
	BAD(r.steering = STEER_MAX);
	BAD(r.action = 255);
	/* Uplinks: how many, and each port within the worker's 64. */
	BAD(r.nuplinks = CLS_UPLINKS_MAX + 1);
	BAD(r.uplink_port[0] = 64);
	BAD(r.uplink_port[CLS_UPLINKS_MAX - 1] = 200);
	/* CLS_NO_PORT: a named uplink without a port, which matches no network's. */
	OK(r.nuplinks = 1; r.uplink_port[0] = CLS_NO_PORT);
	OK(r.nuplinks = 2; r.uplink_port[2] = 200);
	OK(r.nuplinks = 0; r.uplink_port[0] = 255);
#undef BAD
#undef OK
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_overlapping),
		cmocka_unit_test(test_proto),
		cmocka_unit_test(test_prefix_v4),
		cmocka_unit_test(test_prefix_v6),
		cmocka_unit_test(test_family),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_dscp),
		cmocka_unit_test(test_combined),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_rule_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
