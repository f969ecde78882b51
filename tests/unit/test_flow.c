/*
 * The flow table (netfn/flow.h): the 5-tuple parser on IPv4 and IPv6
 * TCP, UDP, UDP-Lite, SCTP and ICMP echo, options, fragments (first and
 * later), extension header chains (up to and past eight), transport
 * headers cut short, padding past the IP length, and hostile packets
 * whose headers claim more than there is (-1) -- every packet in a
 * malloc'd buffer of exactly its length, so the sanitizer catches a read
 * one byte past it, also on every truncation of valid packets and on
 * random bytes; the hash (deterministic, spread, avalanche); the table's
 * size, layout over garbage memory and header check; insert and lookup
 * of many keys, forced collisions and wrap round the end, a full table,
 * removals in random order checked against a reference array after every
 * step (every key still found with its own state, probe invariant kept);
 * aging removing exactly the idle entries and calling gone() on each,
 * also when removals shift unvisited entries under the cursor, budget and
 * cursor wrap; the per-entry seqlock (gen even in use, odd while written,
 * never reused across free and insert, wrap), flow_read of free, used and
 * busy slots, and a reader thread on a read-only mapping of the table
 * never seeing a torn entry while a writer churns it.  What a lookup
 * costs is bench/flow-bench's.
 */
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfn/flow.h"

#define NET 7				/* the network slot every parse is given */

/* Helpers ------------------------------------------------------------- */

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static const uint8_t src4[4] = { 10, 0, 0, 1 }, dst4[4] = { 192, 168, 1, 2 };
static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t dst6[16] = { 0xfd, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };

/* An IPv4 packet into p: options (a multiple of 4 bytes), then l4; its length. */
static size_t
ip4(uint8_t *p, uint8_t proto, uint8_t tos, uint16_t frag, size_t optlen, const uint8_t *l4,
    size_t l4len)
{
	size_t hl = 20 + optlen;

	memset(p, 0, hl);
	p[0] = (uint8_t)(0x40 | hl / 4);
	p[1] = tos;
	put16(p + 2, (uint16_t)(hl + l4len));
	put16(p + 4, 0x1234);
	put16(p + 6, frag);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, src4, 4);
	memcpy(p + 16, dst4, 4);
	memset(p + 20, 1, optlen);		/* NOPs */
	memcpy(p + hl, l4, l4len);
	return hl + l4len;
}

/* An IPv6 packet into p: extension headers ext, then l4; its length. */
static size_t
ip6(uint8_t *p, uint8_t nh, uint8_t tc, const uint8_t *ext, size_t extlen, const uint8_t *l4,
    size_t l4len)
{
	memset(p, 0, 40);
	p[0] = (uint8_t)(0x60 | tc >> 4);
	p[1] = (uint8_t)(tc << 4 | 0x0a);	/* and some flow label */
	put16(p + 4, (uint16_t)(extlen + l4len));
	p[6] = nh;
	p[7] = 64;
	memcpy(p + 8, src6, 16);
	memcpy(p + 24, dst6, 16);
	if (extlen > 0)
		memcpy(p + 40, ext, extlen);
	if (l4len > 0)
		memcpy(p + 40 + extlen, l4, l4len);
	return 40 + extlen + l4len;
}

/* A hop-by-hop, routing or destination options header of (len8 + 1) * 8 bytes. */
static size_t
ext_opts(uint8_t *b, uint8_t nh, uint8_t len8)
{
	size_t n = ((size_t)len8 + 1) * 8;

	memset(b, 0, n);
	b[0] = nh;
	b[1] = len8;
	b[2] = 1;			/* PadN */
	b[3] = (uint8_t)(n - 4);
	return n;
}

static size_t
ext_frag(uint8_t *b, uint8_t nh, uint16_t off8, int more)
{
	memset(b, 0, 8);
	b[0] = nh;
	put16(b + 2, (uint16_t)(off8 << 3 | (more ? 1 : 0)));
	put16(b + 4, 0xdead);
	put16(b + 6, 0xbeef);
	return 8;
}

/* A TCP-sized transport header whose first words are the ports. */
static const uint8_t *
ports(uint16_t sport, uint16_t dport)
{
	static uint8_t b[20];

	memset(b, 0, sizeof(b));
	put16(b, sport);
	put16(b + 2, dport);
	b[12] = 0x50;
	return b;
}

static const uint8_t *
icmp(uint8_t type, uint16_t id, uint16_t seq)
{
	static uint8_t b[8];

	memset(b, 0, sizeof(b));
	b[0] = type;
	put16(b + 4, id);
	put16(b + 6, seq);
	return b;
}

/* Parse a copy of pkt in a buffer of exactly len bytes (over-reads trip ASan). */
static int
parse(const uint8_t *pkt, size_t len, int ipv, struct flow_key *k, uint8_t *dscp)
{
	uint8_t *b = malloc(len);
	int rc;

	assert_true(b != NULL || len == 0);
	if (len > 0)
		memcpy(b, pkt, len);
	memset(k, 0xa5, sizeof(*k));		/* the parser must clear what it does not set */
	if (dscp != NULL)
		*dscp = 0xee;
	rc = flow_key_parse(b, (uint32_t)len, ipv, NET, k, dscp);
	free(b);
	return rc;
}

static struct flow_key
key_of(int ipv, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct flow_key k;

	memset(&k, 0, sizeof(k));
	if (ipv == 4) {
		memcpy(k.src, src4, 4);
		memcpy(k.dst, dst4, 4);
	} else {
		memcpy(k.src, src6, 16);
		memcpy(k.dst, dst6, 16);
	}
	k.sport = sport;
	k.dport = dport;
	k.proto = proto;
	k.ipv = (uint8_t)ipv;
	k.net = NET;
	return k;
}

static void
assert_key(const struct flow_key *got, int ipv, uint8_t proto, uint16_t sport, uint16_t dport)
{
	struct flow_key want = key_of(ipv, proto, sport, dport);

	assert_int_equal(got->proto, proto);
	assert_int_equal(got->sport, sport);
	assert_int_equal(got->dport, dport);
	assert_memory_equal(got, &want, sizeof(want));	/* padding and unused bytes zero */
}

/* A random key, distinct per i (i in dport and sport). */
static struct flow_key
key_n(uint32_t i, uint64_t *rng)
{
	struct flow_key k;
	uint64_t r = rng != NULL ? xorshift64(rng) : 0;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, &r, 4);
	k.dst[0] = 10;
	k.dst[3] = (uint8_t)(i >> 24);
	k.sport = (uint16_t)(i >> 16);
	k.dport = (uint16_t)i;
	k.proto = 6;
	k.ipv = 4;
	k.net = 1;
	return k;
}

static struct flow_table *
table_new(uint32_t nslots)
{
	size_t size = flow_table_size(nslots);
	void *mem;
	struct flow_table *t;

	assert_int_not_equal(size, 0);
	mem = malloc(size);
	assert_non_null(mem);
	memset(mem, 0x5a, size);		/* init must not need zeroed memory */
	t = flow_table_init(mem, nslots);
	assert_ptr_equal(t, mem);
	return t;
}

static uint32_t
gen_of(const struct flow *f)
{
	return atomic_load(&f->gen);
}

/*
 * The table's invariants: count matches the used slots, every used slot
 * has an even gen, and no free slot lies between an entry's home and it.
 */
static void
assert_table_sound(const struct flow_table *t)
{
	uint32_t used = 0;

	for (uint32_t i = 0; i < t->nslots; i++) {
		const struct flow *f = &t->slots[i];
		uint32_t g = gen_of(f);

		if (g == 0)
			continue;
		used++;
		assert_int_equal(g & 1, 0);
		for (uint32_t j = f->hash & t->mask; j != i; j = (j + 1) & t->mask)
			assert_int_not_equal(gen_of(&t->slots[j]), 0);
	}
	assert_int_equal(used, t->count);
}

/* Parsing: IPv4 ------------------------------------------------------- */

static void
test_parse_v4_ports(void **state)
{
	uint8_t p[128];
	struct flow_key k;
	uint8_t dscp;
	size_t n;

	(void)state;
	n = ip4(p, 6, 46 << 2 | 1, 0x4000, 0, ports(40000, 443), 20);	/* DF */
	assert_int_equal(parse(p, n, 4, &k, &dscp), 0);
	assert_key(&k, 4, 6, 40000, 443);
	assert_int_equal(dscp, 46);
	assert_int_equal(k.net, NET);

	n = ip4(p, 17, 0, 0, 0, ports(53, 5353), 8);
	assert_int_equal(parse(p, n, 4, &k, &dscp), 0);
	assert_key(&k, 4, 17, 53, 5353);
	assert_int_equal(dscp, 0);

	n = ip4(p, 136, 0xff, 0, 0, ports(1, 65535), 8);	/* UDP-Lite */
	assert_int_equal(parse(p, n, 4, &k, &dscp), 0);
	assert_key(&k, 4, 136, 1, 65535);
	assert_int_equal(dscp, 63);

	n = ip4(p, 132, 0, 0, 0, ports(2905, 2905), 12);	/* SCTP */
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);		/* dscp may be NULL */
	assert_key(&k, 4, 132, 2905, 2905);

	/* Options move the transport header: IHL 6 and 15. */
	n = ip4(p, 6, 0, 0, 4, ports(1234, 80), 20);
	assert_int_equal(parse(p, n, 4, &k, &dscp), 0);
	assert_key(&k, 4, 6, 1234, 80);
	n = ip4(p, 17, 0, 0, 40, ports(4321, 8080), 8);
	assert_int_equal(parse(p, n, 4, &k, &dscp), 0);
	assert_key(&k, 4, 17, 4321, 8080);

	/* No ports: GRE, ESP, raw. */
	n = ip4(p, 47, 0, 0, 0, ports(1, 2), 20);
	assert_int_equal(parse(p, n, 4, &k, &dscp), 0);
	assert_key(&k, 4, 47, 0, 0);
	n = ip4(p, 50, 0, 0, 0, ports(1, 2), 20);
	assert_int_equal(parse(p, n, 4, &k, &dscp), 0);
	assert_key(&k, 4, 50, 0, 0);
}

static void
test_parse_v4_icmp(void **state)
{
	uint8_t p[128];
	struct flow_key k, k2;
	size_t n;

	(void)state;
	n = ip4(p, 1, 0, 0, 0, icmp(8, 0x4242, 1), 8);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 1, 0x4242, 0);
	/* The next ping of the session is the same flow. */
	n = ip4(p, 1, 0, 0, 0, icmp(8, 0x4242, 2), 8);
	assert_int_equal(parse(p, n, 4, &k2, NULL), 0);
	assert_memory_equal(&k, &k2, sizeof(k));
	n = ip4(p, 1, 0, 0, 0, icmp(0, 0x4242, 2), 8);	/* reply */
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 1, 0x4242, 0);
	/* Not echo: no id. */
	n = ip4(p, 1, 0, 0, 0, icmp(3, 0x4242, 2), 8);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 1, 0, 0);
	n = ip4(p, 1, 0, 0, 0, icmp(11, 0x4242, 2), 8);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 1, 0, 0);
	/* ICMPv6 echo types in ICMPv4 mean nothing. */
	n = ip4(p, 1, 0, 0, 0, icmp(128, 0x4242, 2), 8);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 1, 0, 0);
	/* An echo cut short of its header: no id. */
	n = ip4(p, 1, 0, 0, 0, icmp(8, 0x4242, 2), 7);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 1, 0, 0);
}

static void
test_parse_v4_fragments(void **state)
{
	uint8_t p[128];
	struct flow_key k;
	size_t n;

	(void)state;
	/* First fragment (MF, offset 0): the ports are there. */
	n = ip4(p, 17, 0, 0x2000, 0, ports(5000, 6000), 16);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 17, 5000, 6000);
	/* Later fragments, with and without MF: no ports, same protocol. */
	n = ip4(p, 17, 0, 0x2000 | 185, 0, ports(5000, 6000), 16);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 17, 0, 0);
	n = ip4(p, 17, 0, 1, 0, ports(5000, 6000), 16);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 17, 0, 0);
	n = ip4(p, 6, 0, 0x4000 | 0x1fff, 0, ports(5000, 6000), 16);	/* DF and the last offset */
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 6, 0, 0);
	/* DF alone is no fragment. */
	n = ip4(p, 6, 0, 0x4000, 0, ports(5000, 6000), 20);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 6, 5000, 6000);
}

static void
test_parse_v4_short(void **state)
{
	uint8_t p[128];
	struct flow_key k;
	size_t n;

	(void)state;
	/* A transport header cut short is no error: just no ports. */
	for (size_t l4 = 0; l4 < 4; l4++) {
		n = ip4(p, 6, 0, 0, 0, ports(1000, 2000), l4);
		assert_int_equal(parse(p, n, 4, &k, NULL), 0);
		assert_key(&k, 4, 6, 0, 0);
	}
	n = ip4(p, 6, 0, 0, 0, ports(1000, 2000), 4);
	assert_int_equal(parse(p, n, 4, &k, NULL), 0);
	assert_key(&k, 4, 6, 1000, 2000);
	/* Bytes past the total length are padding, never ports. */
	n = ip4(p, 17, 0, 0, 0, ports(1000, 2000), 0);
	memcpy(p + n, ports(1000, 2000), 8);
	assert_int_equal(parse(p, n + 8, 4, &k, NULL), 0);
	assert_key(&k, 4, 17, 0, 0);
	n = ip4(p, 17, 0, 0, 0, ports(1000, 2000), 8);
	memset(p + n, 0xff, 10);
	assert_int_equal(parse(p, n + 10, 4, &k, NULL), 0);
	assert_key(&k, 4, 17, 1000, 2000);
}

static void
test_parse_v4_hostile(void **state)
{
	uint8_t p[128];
	struct flow_key k;
	size_t n;

	(void)state;
	n = ip4(p, 6, 0, 0, 0, ports(1, 2), 20);
	/* Shorter than a header. */
	for (size_t len = 0; len < 20; len++)
		assert_int_equal(parse(p, len, 4, &k, NULL), -1);
	/* A total length past the buffer. */
	for (size_t len = 20; len < n; len++)
		assert_int_equal(parse(p, len, 4, &k, NULL), -1);
	/* IHL past the buffer (15 words, 20 bytes given), below 5, past the total. */
	p[0] = 0x4f;
	put16(p + 2, 20);
	assert_int_equal(parse(p, 20, 4, &k, NULL), -1);
	put16(p + 2, 40);
	assert_int_equal(parse(p, 40, 4, &k, NULL), -1);
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		p[0] = (uint8_t)(0x40 | ihl);
		assert_int_equal(parse(p, 40, 4, &k, NULL), -1);
	}
	p[0] = 0x46;
	put16(p + 2, 20);
	assert_int_equal(parse(p, 40, 4, &k, NULL), -1);
	/* An IP version other than 4 or 6. */
	n = ip4(p, 6, 0, 0, 0, ports(1, 2), 20);
	assert_int_equal(parse(p, n, 5, &k, NULL), -1);
	assert_int_equal(parse(p, n, 0, &k, NULL), -1);
}

/* Parsing: IPv6 ------------------------------------------------------- */

static void
test_parse_v6_ports(void **state)
{
	uint8_t p[256];
	struct flow_key k, k2;
	uint8_t dscp;
	size_t n;

	(void)state;
	n = ip6(p, 6, 46 << 2 | 2, NULL, 0, ports(40000, 443), 20);
	assert_int_equal(parse(p, n, 6, &k, &dscp), 0);
	assert_key(&k, 6, 6, 40000, 443);
	assert_int_equal(dscp, 46);
	n = ip6(p, 17, 0xff, NULL, 0, ports(53, 53), 8);
	assert_int_equal(parse(p, n, 6, &k, &dscp), 0);
	assert_key(&k, 6, 17, 53, 53);
	assert_int_equal(dscp, 63);
	n = ip6(p, 136, 0, NULL, 0, ports(7, 9), 8);
	assert_int_equal(parse(p, n, 6, &k, &dscp), 0);
	assert_key(&k, 6, 136, 7, 9);
	assert_int_equal(dscp, 0);
	n = ip6(p, 132, 8 << 2, NULL, 0, ports(2905, 36412), 12);
	assert_int_equal(parse(p, n, 6, &k, &dscp), 0);
	assert_key(&k, 6, 132, 2905, 36412);
	assert_int_equal(dscp, 8);

	/* ICMPv6 echo request and reply: the id. */
	n = ip6(p, 58, 0, NULL, 0, icmp(128, 77, 1), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 58, 77, 0);
	n = ip6(p, 58, 0, NULL, 0, icmp(128, 77, 2), 8);
	assert_int_equal(parse(p, n, 6, &k2, NULL), 0);
	assert_memory_equal(&k, &k2, sizeof(k));
	n = ip6(p, 58, 0, NULL, 0, icmp(129, 77, 2), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 58, 77, 0);
	/* Other ICMPv6 (neighbour solicitation), ICMPv4 echo numbers, ICMPv4 in v6. */
	n = ip6(p, 58, 0, NULL, 0, icmp(135, 77, 2), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 58, 0, 0);
	n = ip6(p, 58, 0, NULL, 0, icmp(8, 77, 2), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 58, 0, 0);
	n = ip6(p, 1, 0, NULL, 0, icmp(8, 77, 2), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 1, 0, 0);
	/* No next header, and a transport header cut short. */
	n = ip6(p, 59, 0, NULL, 0, ports(1, 2), 20);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 59, 0, 0);
	n = ip6(p, 6, 0, NULL, 0, ports(1, 2), 3);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 6, 0, 0);
	/* Padding past the payload length is not read. */
	n = ip6(p, 6, 0, NULL, 0, NULL, 0);
	memcpy(p + n, ports(1, 2), 20);
	assert_int_equal(parse(p, n + 20, 6, &k, NULL), 0);
	assert_key(&k, 6, 6, 0, 0);
}

static void
test_parse_v6_ext(void **state)
{
	uint8_t p[512], ext[256];
	struct flow_key k;
	size_t n, e;

	(void)state;
	/* Hop-by-hop, routing, destination options, then TCP. */
	e = ext_opts(ext, 43, 0);
	e += ext_opts(ext + e, 60, 2);
	e += ext_opts(ext + e, 6, 1);
	n = ip6(p, 0, 0, ext, e, ports(3333, 22), 20);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 6, 3333, 22);

	/* First fragment: the walk goes on to the ports. */
	e = ext_frag(ext, 17, 0, 1);
	n = ip6(p, 44, 0, ext, e, ports(500, 4500), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 17, 500, 4500);
	/* A whole packet in one fragment (offset 0, M 0): the same. */
	e = ext_frag(ext, 17, 0, 0);
	n = ip6(p, 44, 0, ext, e, ports(500, 4500), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 17, 500, 4500);
	/* Later fragments: the fragment header's next header, no ports. */
	e = ext_frag(ext, 17, 1, 1);
	n = ip6(p, 44, 0, ext, e, ports(500, 4500), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 17, 0, 0);
	e = ext_opts(ext, 44, 0);
	e += ext_frag(ext + e, 6, 8191, 0);
	n = ip6(p, 60, 0, ext, e, ports(500, 4500), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 6, 0, 0);
	/* Options after a first fragment header. */
	e = ext_frag(ext, 60, 0, 1);
	e += ext_opts(ext + e, 132, 0);
	n = ip6(p, 44, 0, ext, e, ports(9, 10), 12);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 132, 9, 10);
	/* An extension header we do not walk (AH): keyed by it, no ports. */
	e = ext_opts(ext, 51, 0);
	n = ip6(p, 0, 0, ext, e, ports(9, 10), 20);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 51, 0, 0);
	/* Extension headers ending the packet: no transport header. */
	e = ext_opts(ext, 6, 0);
	n = ip6(p, 60, 0, ext, e, NULL, 0);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 6, 0, 0);
}

static void
test_parse_v6_ext_limit(void **state)
{
	uint8_t p[512], ext[256];
	struct flow_key k;
	size_t n, e = 0;

	(void)state;
	/* Eight extension headers (the last a fragment header) are walked. */
	for (int i = 0; i < 7; i++)
		e += ext_opts(ext + e, i < 6 ? 60 : 44, 0);
	e += ext_frag(ext + e, 6, 0, 1);
	n = ip6(p, 60, 0, ext, e, ports(11, 12), 20);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 6, 11, 12);
	/* A ninth is one too many: keyed by its number, no ports. */
	e = 0;
	for (int i = 0; i < 9; i++)
		e += ext_opts(ext + e, i < 8 ? 60 : 6, 0);
	n = ip6(p, 60, 0, ext, e, ports(11, 12), 20);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 60, 0, 0);
	e = 0;
	for (int i = 0; i < 8; i++)
		e += ext_opts(ext + e, i < 7 ? 60 : 44, 0);
	e += ext_frag(ext + e, 6, 0, 1);
	n = ip6(p, 60, 0, ext, e, ports(11, 12), 20);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 44, 0, 0);
}

static void
test_parse_v6_hostile(void **state)
{
	uint8_t p[4096], ext[256];
	struct flow_key k;
	size_t n, e;

	(void)state;
	n = ip6(p, 6, 0, NULL, 0, ports(1, 2), 20);
	for (size_t len = 0; len < 40; len++)
		assert_int_equal(parse(p, len, 6, &k, NULL), -1);
	/* Payload length past the buffer. */
	for (size_t len = 40; len < n; len++)
		assert_int_equal(parse(p, len, 6, &k, NULL), -1);
	put16(p + 4, 0xffff);
	assert_int_equal(parse(p, n, 6, &k, NULL), -1);

	/* An options header claiming 2048 bytes in a packet of 48. */
	e = ext_opts(ext, 6, 0);
	ext[1] = 255;
	n = ip6(p, 0, 0, ext, e, NULL, 0);
	assert_int_equal(parse(p, n, 6, &k, NULL), -1);
	/* One claiming 16 bytes where the payload length says 8, with more in the buffer. */
	e = ext_opts(ext, 6, 1);
	n = ip6(p, 60, 0, ext, e, ports(1, 2), 20);
	put16(p + 4, 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), -1);
	/* Only the first byte of an extension header. */
	n = ip6(p, 43, 0, ext, 1, NULL, 0);
	assert_int_equal(parse(p, n, 6, &k, NULL), -1);
	/* A fragment header cut short. */
	e = ext_frag(ext, 6, 0, 1);
	for (size_t cut = 0; cut < e; cut++) {
		n = ip6(p, 44, 0, ext, cut, NULL, 0);
		assert_int_equal(parse(p, n, 6, &k, NULL), -1);
	}
	/*
	 * Seven headers naming an eighth not there: -1.  Eight naming a ninth
	 * not there: the walk stops at eight, so no error, keyed by the ninth.
	 */
	e = 0;
	for (int i = 0; i < 7; i++)
		e += ext_opts(ext + e, 0, 3);
	n = ip6(p, 0, 0, ext, e, NULL, 0);
	assert_int_equal(parse(p, n, 6, &k, NULL), -1);
	e += ext_opts(ext + e, 0, 3);
	n = ip6(p, 0, 0, ext, e, NULL, 0);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 0, 0, 0);
}

/* Every cut of valid packets, lengths consistent or not, and random bytes. */
static void
test_parse_truncations(void **state)
{
	uint8_t p[512], ext[256], q[512];
	struct flow_key k;
	size_t n, e;
	uint64_t rng = 0x1234567;

	(void)state;
	e = ext_opts(ext, 43, 1);
	e += ext_opts(ext + e, 44, 0);
	e += ext_frag(ext + e, 60, 0, 1);
	e += ext_opts(ext + e, 17, 2);
	n = ip6(p, 0, 0, ext, e, ports(1, 2), 8);
	assert_int_equal(parse(p, n, 6, &k, NULL), 0);
	assert_key(&k, 6, 17, 1, 2);
	for (size_t len = 40; len < n; len++) {
		memcpy(q, p, len);
		/* Lengths consistent: a cut extension header is -1, a cut UDP header is not. */
		put16(q + 4, (uint16_t)(len - 40));
		assert_int_equal(parse(q, len, 6, &k, NULL), len < n - 8 ? -1 : 0);
		assert_int_equal(parse(p, len, 6, &k, NULL), -1);
	}
	n = ip4(p, 6, 0, 0, 40, ports(1, 2), 20);
	for (size_t len = 0; len < n; len++) {
		memcpy(q, p, len);
		if (len >= 4)
			put16(q + 2, (uint16_t)len);
		assert_int_equal(parse(q, len, 4, &k, NULL), len < 60 ? -1 : 0);
	}
	/* Random bytes, random lengths, both versions: 0 or -1, never a stray read. */
	for (int i = 0; i < 20000; i++) {
		size_t len = xorshift64(&rng) % 160;
		int ipv = i & 1 ? 6 : 4, rc;

		for (size_t j = 0; j < len; j++)
			q[j] = (uint8_t)xorshift64(&rng);
		/* Half with plausible lengths, to get past the first checks. */
		if (len >= 8 && (i & 2)) {
			if (ipv == 4) {
				q[0] = (uint8_t)(0x45 + (q[0] & 3));
				put16(q + 2, (uint16_t)len);
			} else if (len >= 40) {
				put16(q + 4, (uint16_t)(len - 40));
				q[6] = (uint8_t)((uint8_t[]){ 0, 43, 44, 60, 6, 17, 58 })[q[6] % 7];
			}
		}
		rc = parse(q, len, ipv, &k, NULL);
		assert_true(rc == 0 || rc == -1);
	}
}

/* Hash ---------------------------------------------------------------- */

static void
test_hash(void **state)
{
	struct flow_key k, z;
	uint32_t bins_lo[256] = { 0 }, bins_hi[256] = { 0 };
	uint64_t flips = 0, rng = 99;
	const uint32_t n = 1u << 18;

	(void)state;
	memset(&z, 0, sizeof(z));
	assert_int_not_equal(flow_hash(&z, 0), 0);
	k = key_of(4, 6, 1, 2);
	assert_int_equal(flow_hash(&k, 0), flow_hash(&k, 0));
	/* Sequential keys (ports counting up) spread over low and high bits. */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t h;

		k = key_of(4, 6, (uint16_t)(i >> 16), (uint16_t)i);
		h = flow_hash(&k, 0);
		bins_lo[h & 0xff]++;
		bins_hi[h >> 24]++;
	}
	for (int i = 0; i < 256; i++) {
		/* 1024 expected, sd 32: 20% is six sigmas. */
		assert_in_range(bins_lo[i], 820, 1230);
		assert_in_range(bins_hi[i], 820, 1230);
	}
	/* Avalanche: one bit flipped anywhere in the key flips about half the hash. */
	for (int i = 0; i < 4000; i++) {
		uint8_t *b = (uint8_t *)&k;
		uint32_t bit;

		for (size_t j = 0; j < sizeof(k); j++)
			b[j] = (uint8_t)xorshift64(&rng);
		bit = (uint32_t)(xorshift64(&rng) % (sizeof(k) * 8));
		{
			uint32_t h0 = flow_hash(&k, 0);

			b[bit / 8] ^= (uint8_t)(1u << bit % 8);
			flips += (uint64_t)__builtin_popcount(h0 ^ flow_hash(&k, 0));
		}
	}
	assert_in_range(flips / 4000, 15, 17);

	/*
	 * The seed: the same key hashes apart under two seeds (all of 1000
	 * keys), and the keys one seed puts in one slot of 4096 scatter
	 * under another (a precomputed cluster does not survive a new seed).
	 */
	{
		uint32_t same = 0, cluster = 0, scattered[4096] = { 0 }, most = 0;

		for (uint32_t i = 0; i < 1000; i++) {
			k = key_of(4, 17, (uint16_t)i, 53);
			same += flow_hash(&k, 0x1234) == flow_hash(&k, 0x5678);
		}
		assert_int_equal(same, 0);
		for (uint32_t i = 0; i < 4 * n && cluster < 64; i++) {
			k = key_of(4, 17, (uint16_t)(i >> 16), (uint16_t)i);
			if ((flow_hash(&k, 0) & 4095) != 7)
				continue;
			cluster++;
			scattered[flow_hash(&k, 0xfeedfacecafebeefULL) & 4095]++;
		}
		assert_int_equal(cluster, 64);
		for (uint32_t i = 0; i < 4096; i++)
			most = scattered[i] > most ? scattered[i] : most;
		assert_true(most <= 3);
	}
}

/* The table: layout and check ------------------------------------------ */

static void
test_table_size(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct flow_key), 40);
	assert_int_equal(sizeof(struct flow), 128);
	assert_int_equal(flow_table_size(0), 0);
	assert_int_equal(flow_table_size(8), 0);
	assert_int_equal(flow_table_size(15), 0);
	assert_int_equal(flow_table_size(17), 0);
	assert_int_equal(flow_table_size(48), 0);
	assert_int_equal(flow_table_size(UINT32_MAX), 0);
	assert_int_equal(flow_table_size(16), sizeof(struct flow_table) + 16 * sizeof(struct flow));
	assert_int_equal(flow_table_size(1u << 20),
	    sizeof(struct flow_table) + ((size_t)1 << 20) * sizeof(struct flow));
	assert_int_equal(flow_table_size(1u << 31),
	    sizeof(struct flow_table) + ((size_t)1 << 31) * sizeof(struct flow));
}

static void
test_table_init_check(void **state)
{
	size_t size = flow_table_size(64);
	uint8_t *mem = malloc(size + 8);
	struct flow_table *t, save;
	struct flow f;

	(void)state;
	assert_non_null(mem);
	assert_null(flow_table_init(NULL, 64));
	assert_null(flow_table_init(mem, 63));
	assert_null(flow_table_init(mem, 8));
	assert_null(flow_table_init(mem + 4, 64));	/* misaligned */
	memset(mem, 0xff, size + 8);
	t = flow_table_init(mem, 64);
	assert_non_null(t);
	assert_int_equal(t->magic, FLOW_MAGIC);
	assert_int_equal(t->version, FLOW_VERSION);
	assert_int_equal(t->nslots, 64);
	assert_int_equal(t->mask, 63);
	assert_int_equal(t->count, 0);
	assert_int_equal(t->max, 48);
	assert_int_equal(t->scan, 0);
	for (uint32_t i = 0; i < 64; i++)
		assert_int_equal(flow_read(t, i, &f), 0);
	assert_int_equal(flow_read(t, 64, &f), 0);
	assert_int_equal(flow_read(t, UINT32_MAX, &f), 0);

	assert_int_equal(flow_table_check(t, size), 0);
	assert_int_equal(flow_table_check(t, size + 8), 0);
	assert_int_equal(flow_table_check(t, size - 1), -1);
	assert_int_equal(flow_table_check(t, sizeof(struct flow_table) - 1), -1);
	assert_int_equal(flow_table_check(NULL, size), -1);
	save = *t;
#define BREAK(field, value) do {					\
	*t = save;							\
	t->field = (value);						\
	assert_int_equal(flow_table_check(t, size), -1);		\
} while (0)
	BREAK(magic, FLOW_MAGIC ^ 1);
	BREAK(version, FLOW_VERSION + 1);
	BREAK(nslots, 63);
	BREAK(nslots, 8);
	BREAK(nslots, 128);			/* more than mapped */
	BREAK(nslots, 0);
	BREAK(mask, 64);
	BREAK(mask, 31);
	BREAK(max, 64);
	BREAK(max, 49);
	BREAK(count, 49);
	BREAK(scan, 64);
#undef BREAK
	*t = save;
	t->nslots = 32;				/* smaller than mapped is fine if consistent */
	t->mask = 31;
	t->max = 24;
	assert_int_equal(flow_table_check(t, size), 0);
	free(mem);
}

/* The table: insert, lookup, remove -------------------------------------- */

static void
test_insert_lookup(void **state)
{
	const uint32_t nslots = 4096, n = 3072;
	struct flow_table *t = table_new(nslots);
	struct flow_key *keys = calloc(n, sizeof(*keys)), absent;
	uint64_t rng = 7;

	(void)state;
	assert_non_null(keys);
	assert_int_equal(t->max, n);
	for (uint32_t i = 0; i < n; i++) {
		struct flow *f, zero;

		keys[i] = key_n(i, &rng);
		assert_null(flow_lookup(t, &keys[i], flow_hash(&keys[i], 0)));
		f = flow_insert(t, &keys[i], flow_hash(&keys[i], 0));
		assert_non_null(f);
		/* Zeroed but for key, hash and gen. */
		memset(&zero, 0, sizeof(zero));
		assert_memory_equal(&f->key, &keys[i], sizeof(keys[i]));
		assert_int_equal(f->hash, flow_hash(&keys[i], 0));
		assert_int_not_equal(gen_of(f), 0);
		assert_int_equal(gen_of(f) & 1, 0);
		assert_memory_equal((uint8_t *)f + offsetof(struct flow, tenant),
		    (uint8_t *)&zero + offsetof(struct flow, tenant),
		    sizeof(zero) - offsetof(struct flow, tenant));
		f->tenant = i + 1;
		f->bytes = (uint64_t)i * 3;
	}
	assert_int_equal(t->count, n);
	assert_table_sound(t);
	for (uint32_t i = 0; i < n; i++) {
		struct flow *f = flow_lookup(t, &keys[i], flow_hash(&keys[i], 0));

		assert_non_null(f);
		assert_int_equal(f->tenant, i + 1);
		assert_int_equal(f->bytes, (uint64_t)i * 3);
		/* A key differing in one byte is another flow. */
		absent = keys[i];
		absent.net ^= 1;
		assert_null(flow_lookup(t, &absent, flow_hash(&absent, 0)));
	}
	/* Full: max entries and no more. */
	absent = key_n(n, &rng);
	assert_null(flow_insert(t, &absent, flow_hash(&absent, 0)));
	assert_int_equal(t->count, n);
	flow_remove(t, flow_lookup(t, &keys[17], flow_hash(&keys[17], 0)));
	assert_null(flow_lookup(t, &keys[17], flow_hash(&keys[17], 0)));
	assert_non_null(flow_insert(t, &absent, flow_hash(&absent, 0)));
	assert_null(flow_insert(t, &keys[17], flow_hash(&keys[17], 0)));
	assert_table_sound(t);
	free(keys);
	free(t);
}

/* Forced collisions in the smallest table: every key has the same home, or a home near the end. */
static void
test_collisions(void **state)
{
	struct flow_table *t = table_new(16);
	struct flow_key keys[12];
	struct flow *f;

	(void)state;
	assert_int_equal(t->max, 12);
	for (uint32_t i = 0; i < 12; i++) {
		keys[i] = key_n(i, NULL);
		f = flow_insert(t, &keys[i], 0xabcd0000u + 14);	/* home 14: wraps to 0..9 */
		assert_non_null(f);
		assert_int_equal(f - t->slots, (14 + i) % 16);
		f->tenant = i;
	}
	assert_null(flow_insert(t, &keys[0], 3));		/* full */
	for (uint32_t i = 0; i < 12; i++) {
		f = flow_lookup(t, &keys[i], 0xabcd0000u + 14);
		assert_non_null(f);
		assert_int_equal(f->tenant, i);
		/* Same slot, other hash: not it. */
		assert_null(flow_lookup(t, &keys[i], 0xabce0000u + 14));
		/* Same hash, a key differing in any one byte: not it either. */
		for (size_t j = 0; j < sizeof(struct flow_key); j++) {
			struct flow_key x = keys[i];

			((uint8_t *)&x)[j] ^= 0x80;
			assert_null(flow_lookup(t, &x, 0xabcd0000u + 14));
		}
	}
	/* Remove from the middle of the cluster: the rest shift back, across the wrap. */
	f = flow_lookup(t, &keys[1], 0xabcd0000u + 14);
	assert_int_equal(f - t->slots, 15);
	flow_remove(t, f);
	assert_int_equal(t->count, 11);
	for (uint32_t i = 0; i < 12; i++) {
		f = flow_lookup(t, &keys[i], 0xabcd0000u + 14);
		if (i == 1) {
			assert_null(f);
			continue;
		}
		assert_non_null(f);
		assert_int_equal(f->tenant, i);
		assert_int_equal(f - t->slots, (14 + i - (i > 1)) % 16);
	}
	assert_int_equal(gen_of(&t->slots[9]), 0);
	/* An entry at home right after the cluster does not move back. */
	f = flow_insert(t, &keys[1], 10);
	assert_int_equal(f - t->slots, 10);
	f = flow_lookup(t, &keys[0], 0xabcd0000u + 14);
	flow_remove(t, f);
	assert_int_equal(f - t->slots, 14);
	assert_int_equal(gen_of(&t->slots[9]), 0);
	assert_int_equal(gen_of(&t->slots[8]), 0);
	assert_ptr_equal(flow_lookup(t, &keys[1], 10), &t->slots[10]);
	assert_table_sound(t);
	free(t);
}

struct ref {
	struct flow_key key;
	uint32_t hash;
	uint32_t id;
};

/* Random inserts and removals, clustered hashes, checked against a reference after each. */
static void
test_random_churn(void **state)
{
	const uint32_t nslots = 256;
	struct flow_table *t = table_new(nslots);
	struct ref ref[256];
	uint32_t nref = 0, next = 1;
	uint64_t rng = 0xfeedbeef;

	(void)state;
	for (int step = 0; step < 20000; step++) {
		uint64_t r = xorshift64(&rng);
		struct flow *f;

		if (nref < t->max && (r % 100 < 55 || nref == 0)) {
			struct ref *x = &ref[nref];

			x->key = key_n(next, &rng);
			/* A third of the keys crowd into 8 homes, so clusters are long. */
			x->hash = r % 3 == 0 ?
			    (uint32_t)(xorshift64(&rng) & 0x700) | (uint32_t)(r >> 40 & 7) * 32 :
			    flow_hash(&x->key, 0);
			x->id = next++;
			f = flow_insert(t, &x->key, x->hash);
			assert_non_null(f);
			f->tenant = x->id;
			f->last_ns = x->id * 10ull;
			nref++;
		} else if (nref > 0) {
			uint32_t i = (uint32_t)(r >> 8) % nref;

			f = flow_lookup(t, &ref[i].key, ref[i].hash);
			assert_non_null(f);
			flow_remove(t, f);
			ref[i] = ref[--nref];
		}
		if (nref == t->max) {
			struct flow_key k = key_n(0, NULL);

			assert_null(flow_insert(t, &k, 0));
		}
		assert_int_equal(t->count, nref);
		if (step % 7 == 0 || nref < 3)
			assert_table_sound(t);
		for (uint32_t i = 0; i < nref; i++) {
			f = flow_lookup(t, &ref[i].key, ref[i].hash);
			assert_non_null(f);
			assert_int_equal(f->tenant, ref[i].id);
			assert_int_equal(f->last_ns, ref[i].id * 10ull);
			assert_int_equal(f->hash, ref[i].hash);
		}
	}
	/* Empty it: every slot free. */
	while (nref > 0) {
		flow_remove(t, flow_lookup(t, &ref[nref - 1].key, ref[nref - 1].hash));
		nref--;
	}
	for (uint32_t i = 0; i < nslots; i++)
		assert_int_equal(gen_of(&t->slots[i]), 0);
	assert_int_equal(t->count, 0);
	free(t);
}

/* Aging ----------------------------------------------------------------- */

struct gone_log {
	uint32_t n;
	uint32_t ids[1024];
	const struct flow_table *t;
};

static void
gone_cb(struct flow *f, void *arg)
{
	struct gone_log *g = arg;

	/* Still in the table, whole, when told. */
	assert_int_not_equal(gen_of(f), 0);
	assert_int_equal(gen_of(f) & 1, 0);
	assert_ptr_equal(flow_lookup((struct flow_table *)g->t, &f->key, f->hash), f);
	assert_true(g->n < 1024);
	g->ids[g->n++] = f->tenant;
}

static void
expire_case(uint32_t nslots, uint32_t n, int clustered, uint64_t seed)
{
	struct flow_table *t = table_new(nslots);
	struct ref *ref = calloc(n, sizeof(*ref));
	uint8_t *idle = calloc(n + 1, 1), *seen = calloc(n + 1, 1);
	struct gone_log *log = calloc(1, sizeof(*log));
	uint64_t rng = seed;
	const uint64_t now = 1000000, idle_ns = 1000;
	uint32_t nidle = 0, removed;

	assert_true(ref != NULL && idle != NULL && seen != NULL && log != NULL);
	log->t = t;
	for (uint32_t i = 0; i < n; i++) {
		struct flow *f;
		uint64_t r = xorshift64(&rng);

		ref[i].key = key_n(i + 1, &rng);
		ref[i].hash = clustered ? (uint32_t)(r % 4) * 3 + nslots - 6 :
		    flow_hash(&ref[i].key, 0);
		ref[i].id = i + 1;
		f = flow_insert(t, &ref[i].key, ref[i].hash);
		assert_non_null(f);
		f->tenant = i + 1;
		/* Idle: last seen strictly before now - idle_ns; the edge is not idle. */
		switch (r >> 32 & 3) {
		case 0:
			f->last_ns = now - idle_ns - 1 - (r >> 40 & 0xff);
			idle[i + 1] = 1;
			nidle++;
			break;
		case 1:
			f->last_ns = now - idle_ns;
			break;
		case 2:
			f->last_ns = now + 5;	/* seen after "now" (another thread's clock) */
			break;
		default:
			f->last_ns = now - (r >> 40 & 0xff);
			break;
		}
	}
	/* Budget for every slot once and a look again after each removal. */
	removed = flow_expire(t, now, idle_ns, nslots + n, gone_cb, log);
	assert_int_equal(removed, nidle);
	assert_int_equal(log->n, nidle);
	for (uint32_t i = 0; i < log->n; i++) {
		assert_true(idle[log->ids[i]]);
		assert_false(seen[log->ids[i]]);
		seen[log->ids[i]] = 1;
	}
	assert_int_equal(t->count, n - nidle);
	for (uint32_t i = 0; i < n; i++) {
		struct flow *f = flow_lookup(t, &ref[i].key, ref[i].hash);

		if (idle[i + 1])
			assert_null(f);
		else
			assert_non_null(f);
	}
	assert_table_sound(t);
	/* Nothing left to age; a huge idle time ages nothing. */
	assert_int_equal(flow_expire(t, now, idle_ns, nslots * 2, NULL, NULL), 0);
	assert_int_equal(flow_expire(t, UINT64_MAX, UINT64_MAX, nslots * 2, NULL, NULL), 0);
	free(ref);
	free(idle);
	free(seen);
	free(log);
	free(t);
}

static void
test_expire(void **state)
{
	(void)state;
	expire_case(1024, 768, 0, 1);
	expire_case(1024, 300, 0, 2);
	/* One cluster across the end of the table: removals shift entries under the cursor. */
	expire_case(64, 48, 1, 3);
	for (uint64_t s = 10; s < 40; s++)
		expire_case(32, 24, 1, s);
}

static void
test_expire_budget(void **state)
{
	struct flow_table *t = table_new(64);
	struct flow_key k;
	struct flow *f;
	uint32_t total = 0, calls = 0;

	(void)state;
	for (uint32_t i = 0; i < 40; i++) {
		k = key_n(i, NULL);
		f = flow_insert(t, &k, flow_hash(&k, 0));
		f->last_ns = 10;
	}
	/* The cursor advances by the budget, wraps, and ends up aging all. */
	assert_int_equal(flow_expire(t, 5000, 100, 0, NULL, NULL), 0);
	assert_int_equal(t->scan, 0);
	while (t->count > 0) {
		total += flow_expire(t, 5000, 100, 5, NULL, NULL);
		assert_true(t->scan < 64);
		calls++;
		assert_true(calls < 64);
	}
	assert_int_equal(total, 40);
	/* An empty table: the cursor goes round by the budget. */
	t->scan = 60;
	assert_int_equal(flow_expire(t, 5000, 100, 10, NULL, NULL), 0);
	assert_int_equal(t->scan, 6);
	free(t);
}

/* The seqlock ----------------------------------------------------------- */

static void
test_gen(void **state)
{
	struct flow_table *t = table_new(16);
	struct flow_key k1 = key_n(1, NULL), k2 = key_n(2, NULL);
	struct flow *f, *g, out;
	uint32_t g0, g1;

	(void)state;
	f = flow_insert(t, &k1, 5);
	g0 = gen_of(f);
	assert_int_not_equal(g0, 0);
	assert_int_equal(g0 & 1, 0);
	f->tenant = 42;
	assert_int_equal(flow_read(t, 5, &out), 1);
	assert_memory_equal(&out.key, &k1, sizeof(k1));
	assert_int_equal(out.tenant, 42);
	assert_int_equal(atomic_load(&out.gen), g0);
	/* Odd while written: a reader is told busy. */
	flow_write_begin(f);
	assert_int_equal(gen_of(f), g0 + 1);
	assert_int_equal(flow_read(t, 5, &out), -1);
	f->tenant = 43;
	flow_write_end(f);
	assert_int_equal(gen_of(f), g0 + 2);
	assert_int_equal(flow_read(t, 5, &out), 1);
	assert_int_equal(out.tenant, 43);
	assert_int_equal(flow_read(t, 6, &out), 0);

	/* Free then made again in the same slot: gen goes on, never back. */
	g1 = gen_of(f);
	flow_remove(t, f);
	assert_int_equal(gen_of(&t->slots[5]), 0);
	assert_int_equal(flow_read(t, 5, &out), 0);
	f = flow_insert(t, &k2, 5);
	assert_ptr_equal(f, &t->slots[5]);
	assert_true(gen_of(f) > g1);
	assert_int_equal(gen_of(f) & 1, 0);
	assert_int_equal(f->tenant, 0);

	/* A move: the destination's gen changes, the source is freed. */
	g = flow_insert(t, &k1, 5);
	assert_ptr_equal(g, &t->slots[6]);
	g->tenant = 77;
	g0 = gen_of(f);
	flow_remove(t, f);
	assert_int_equal(gen_of(&t->slots[6]), 0);
	assert_int_not_equal(gen_of(&t->slots[5]), g0);
	assert_int_equal(gen_of(&t->slots[5]) & 1, 0);
	assert_int_equal(flow_read(t, 5, &out), 1);
	assert_memory_equal(&out.key, &k1, sizeof(k1));
	assert_int_equal(out.tenant, 77);
	assert_int_equal(out.hash, 5);

	/* The counter wraps past 0 (free) to 2. */
	f = &t->slots[5];
	atomic_store(&f->gen, 0xfffffffeu);
	flow_write_begin(f);
	assert_int_equal(gen_of(f), 0xffffffffu);
	flow_write_end(f);
	assert_int_equal(gen_of(f), 2);
	atomic_store(&f->gen, 0xfffffffeu);
	flow_remove(t, f);
	f = flow_insert(t, &k2, 5);
	assert_int_equal(gen_of(f), 2);
	free(t);
}

/*
 * A writer thread churns a small, crowded table (inserts, removals that
 * shift entries, state changes under begin/end); a reader thread copies
 * slots through a read-only mapping of the same memory and checks each
 * copy it is given is whole: its state is a function of its key.
 */
struct race {
	struct flow_table *w;			/* the writer's mapping */
	const struct flow_table *r;		/* the reader's, read-only */
	atomic_int done;
	uint64_t reads, torn, busy;
	struct flow first_torn;
};

static uint32_t
race_check(const struct flow_key *k, uint32_t tenant)
{
	return flow_hash(k, 0) * 2654435761u ^ tenant;
}

static void *
race_reader(void *arg)
{
	struct race *x = arg;
	struct flow out;
	uint32_t i = 0;

	while (!atomic_load(&x->done)) {
		int rc = flow_read(x->r, i, &out);

		if (rc == 1) {
			x->reads++;
			/* A fresh entry before its state is set, or state matching its key. */
			if (out.tenant == 0 ? out.policy != 0 || out.bytes != 0 :
			    out.policy != race_check(&out.key, out.tenant) ||
			    out.bytes != (uint64_t)out.tenant * 1000 + out.key.dport ||
			    out.hash != (out.key.sport & 0x0f)) {
				if (x->torn++ == 0)
					x->first_torn = out;
			}
		} else if (rc == -1) {
			x->busy++;
		}
		i = (i + 1) & x->r->mask;
	}
	return NULL;
}

static void
race_set(struct flow *f, uint32_t tenant)
{
	flow_write_begin(f);
	f->tenant = tenant;
	f->policy = race_check(&f->key, tenant);
	f->bytes = (uint64_t)tenant * 1000 + f->key.dport;
	flow_write_end(f);
}

static void
test_seqlock_race(void **state)
{
	const uint32_t nslots = 64;
	size_t size = flow_table_size(nslots);
	int fd = memfd_create("test_flow", MFD_CLOEXEC);
	void *wm, *rm;
	struct race x;
	struct flow_key keys[48];
	uint8_t in[48] = { 0 };
	pthread_t th;
	uint64_t rng = 5;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	wm = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	rm = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	assert_true(wm != MAP_FAILED && rm != MAP_FAILED);
	memset(&x, 0, sizeof(x));
	x.w = flow_table_init(wm, nslots);
	x.r = rm;
	assert_non_null(x.w);
	assert_int_equal(flow_table_check(x.r, size), 0);
	for (uint32_t i = 0; i < 48; i++)
		keys[i] = key_n(i * 7919, &rng);
	assert_int_equal(pthread_create(&th, NULL, race_reader, &x), 0);
	for (int step = 0; step < 400000; step++) {
		uint64_t r = xorshift64(&rng);
		uint32_t i = (uint32_t)(r % 48);
		uint32_t h = keys[i].sport & 0x0f;	/* few homes: long clusters, many moves */
		struct flow *f;

		if (!in[i]) {
			f = flow_insert(x.w, &keys[i], h);
			if (f == NULL)
				continue;
			in[i] = 1;
			if (r >> 32 & 1)
				race_set(f, (uint32_t)(r >> 40) | 1);
		} else {
			f = flow_lookup(x.w, &keys[i], h);
			assert_non_null(f);
			if (r >> 32 & 1) {
				race_set(f, (uint32_t)(r >> 40) | 1);
			} else {
				flow_remove(x.w, f);
				in[i] = 0;
			}
		}
	}
	atomic_store(&x.done, 1);
	pthread_join(th, NULL);
	print_message("seqlock race: %" PRIu64 " whole reads, %" PRIu64 " busy, %" PRIu64 " torn\n",
	    x.reads, x.busy, x.torn);
	if (x.torn > 0)
		print_message("first torn: gen %u hash %u sport %u tenant %u policy %u bytes %"
		    PRIu64 "\n",
		    atomic_load(&x.first_torn.gen), x.first_torn.hash, x.first_torn.key.sport,
		    x.first_torn.tenant, x.first_torn.policy, x.first_torn.bytes);
	assert_int_equal(x.torn, 0);
	assert_table_sound(x.w);
	munmap(wm, size);
	munmap(rm, size);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_v4_ports),
		cmocka_unit_test(test_parse_v4_icmp),
		cmocka_unit_test(test_parse_v4_fragments),
		cmocka_unit_test(test_parse_v4_short),
		cmocka_unit_test(test_parse_v4_hostile),
		cmocka_unit_test(test_parse_v6_ports),
		cmocka_unit_test(test_parse_v6_ext),
		cmocka_unit_test(test_parse_v6_ext_limit),
		cmocka_unit_test(test_parse_v6_hostile),
		cmocka_unit_test(test_parse_truncations),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_table_size),
		cmocka_unit_test(test_table_init_check),
		cmocka_unit_test(test_insert_lookup),
		cmocka_unit_test(test_collisions),
		cmocka_unit_test(test_random_churn),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_expire_budget),
		cmocka_unit_test(test_gen),
		cmocka_unit_test(test_seqlock_race),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
