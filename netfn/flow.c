/*
 * The flow table (see flow.h): the 5-tuple parser, the hash, and the open
 * addressing table the fast path looks every packet up in.
 *
 * Parsing reads bytes a tenant or anyone on the internet wrote, and a
 * driver may even change them while we look (worker.c, "Trust").  So every
 * length is read once into a local, checked against the packet before any
 * byte it covers is touched, and the parser never trusts what the caller
 * checked: it checks again (it is a handful of compares).  The transport
 * header is bounded by the IP header's own length, not by len: bytes past
 * it are padding, not ports.
 *
 * The table is written by one thread (the worker) and read by other
 * processes through a read-only mapping, slot by slot, with a per-entry
 * seqlock (`gen`).  Three rules keep a reader from accepting a torn copy:
 *   - every change of a slot's key or state goes odd -> data -> even, with
 *     a release fence after the odd store and a release store of the even;
 *   - removal makes gen odd, leaves it in the free slot's `hash`, then sets
 *     gen to 0; the next entry made there starts past the stashed value, so
 *     gen never goes back to a value a reader may still hold (no ABA across
 *     free and insert);
 *   - backward-shift deletion moves an entry by writing the destination
 *     under its own seqlock, then freeing the source: a reader sees the
 *     entry whole at one of the two places, or at neither (a listing made
 *     while the writer churns may miss an entry that moves backwards past
 *     the reader, or, where the move wraps round the end, see it twice).
 *
 * Costs 7 ns per lookup of an existing flow, hash included (4 ns without),
 * table in cache (1024 flows in 2048 slots); 29 ns (19 ns) at 64K flows
 * in 128K slots, 16 MiB, mostly cache misses (tests/unit/test_flow,
 * "lookup", -O2, best of several runs, one thread on a shared 2-vCPU Xeon
 * VM).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "netfn/flow.h"

#define FLOW_READ_TRIES 16		/* a writer's critical section is a 128-byte copy */
#define FLOW_V6_EXT_MAX 8		/* extension headers walked before giving up on ports */

/* Protocols. */
#define FLOW_ICMP 1
#define FLOW_TCP 6
#define FLOW_UDP 17
#define FLOW_V6_HOPOPTS 0
#define FLOW_V6_ROUTING 43
#define FLOW_V6_FRAGMENT 44
#define FLOW_ICMPV6 58
#define FLOW_V6_DSTOPTS 60
#define FLOW_SCTP 132
#define FLOW_UDPLITE 136

_Static_assert(sizeof(struct flow_key) == 40, "flow_key is hashed as five words");
_Static_assert(sizeof(struct flow_table) % 8 == 0, "slots must be 8-aligned");

/* Parsing ------------------------------------------------------------- */

static uint16_t
flow_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/*
 * Ports of a transport header of len bytes (0 if it is not all there):
 * the first four bytes of TCP, UDP, UDP-Lite and SCTP; ICMP echo's
 * identifier as sport, so a ping and its replies are one flow.
 */
static void
flow_ports(struct flow_key *k, const uint8_t *l4, uint32_t len)
{
	switch (k->proto) {
	case FLOW_TCP:
	case FLOW_UDP:
	case FLOW_UDPLITE:
	case FLOW_SCTP:
		if (len >= 4) {
			k->sport = flow_be16(l4);
			k->dport = flow_be16(l4 + 2);
		}
		break;
	case FLOW_ICMP:
		if (k->ipv == 4 && len >= 8 && (l4[0] == 8 || l4[0] == 0))
			k->sport = flow_be16(l4 + 4);
		break;
	case FLOW_ICMPV6:
		if (k->ipv == 6 && len >= 8 && (l4[0] == 128 || l4[0] == 129))
			k->sport = flow_be16(l4 + 4);
		break;
	}
}

static int
flow_parse4(const uint8_t *ip, uint32_t len, struct flow_key *k, uint8_t *dscp)
{
	uint32_t hlen, tot;

	if (len < 20)
		return -1;
	hlen = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = flow_be16(ip + 2);
	if (hlen < 20 || tot < hlen || tot > len)
		return -1;
	memcpy(k->src, ip + 12, 4);
	memcpy(k->dst, ip + 16, 4);
	k->proto = ip[9];
	*dscp = ip[1] >> 2;
	/* A later fragment has no transport header; the first has it (MF, offset 0). */
	if ((flow_be16(ip + 6) & 0x1fff) == 0)
		flow_ports(k, ip + hlen, tot - hlen);
	return 0;
}

/*
 * Walk the extension headers we know to the transport header.  Past
 * FLOW_V6_EXT_MAX of them the flow is keyed by the next header's number
 * with no ports: such packets are pathological, not malformed.
 */
static int
flow_parse6(const uint8_t *ip, uint32_t len, struct flow_key *k, uint8_t *dscp)
{
	uint32_t end, off = 40, hlen;
	uint8_t nh;
	int n;

	if (len < 40)
		return -1;
	end = 40u + flow_be16(ip + 4);
	if (end > len)
		return -1;
	memcpy(k->src, ip + 8, 16);
	memcpy(k->dst, ip + 24, 16);
	*dscp = (uint8_t)(((ip[0] & 0x0f) << 4 | ip[1] >> 4) >> 2);
	nh = ip[6];
	for (n = 0;; n++) {
		switch (nh) {
		case FLOW_V6_HOPOPTS:
		case FLOW_V6_ROUTING:
		case FLOW_V6_DSTOPTS:
			if (n == FLOW_V6_EXT_MAX)
				break;
			if (end - off < 2)
				return -1;
			hlen = ((uint32_t)ip[off + 1] + 1) * 8;
			if (end - off < hlen)
				return -1;
			nh = ip[off];
			off += hlen;
			continue;
		case FLOW_V6_FRAGMENT:
			if (n == FLOW_V6_EXT_MAX)
				break;
			if (end - off < 8)
				return -1;
			nh = ip[off];
			if ((flow_be16(ip + off + 2) & 0xfff8) != 0) {
				k->proto = nh;		/* a later fragment: no ports */
				return 0;
			}
			off += 8;
			continue;
		default:
			k->proto = nh;
			flow_ports(k, ip + off, end - off);
			return 0;
		}
		k->proto = nh;			/* one extension header too many */
		return 0;
	}
}

int
flow_key_parse(const uint8_t *ip, uint32_t len, int ipv, uint16_t net, struct flow_key *k,
    uint8_t *dscp)
{
	uint8_t d = 0;
	int rc;

	/* The key is compared whole: every byte not set below must be zero. */
	memset(k, 0, sizeof(*k));
	k->ipv = (uint8_t)ipv;
	k->net = net;
	if (ipv == 4)
		rc = flow_parse4(ip, len, k, &d);
	else if (ipv == 6)
		rc = flow_parse6(ip, len, k, &d);
	else
		rc = -1;
	if (dscp != NULL)
		*dscp = d;
	return rc;
}

/* Hash ---------------------------------------------------------------- */

static uint64_t
flow_word(const struct flow_key *k, size_t i)
{
	uint64_t w;

	memcpy(&w, (const uint8_t *)k + i * 8, 8);
	return w;
}

/*
 * Five words, each xored with the seed (rotated differently per word) and
 * its own odd constant and multiplied by another (a bijection per word,
 * and the five multiplies are independent, so they run in parallel),
 * folded at different rotations, then the murmur3 finaliser for the
 * avalanche.  Keys that differ in one word never collide before the
 * 32-bit fold; a key of zeros does not hash to zero with seed 0.
 *
 * The seed is the worker's, random at its start: the 5-tuples are the
 * tenants' to choose, and with a known function one could compute
 * thousands that land in one run of slots and make every lookup (every
 * tenant's) walk it.  Not a cryptographic PRF (SipHash would cost about
 * as much as the rest of a packet's work); what it stops is offline
 * precomputation.
 */
uint32_t
flow_hash(const struct flow_key *k, uint64_t seed)
{
	uint64_t a, b, c, d, e, h;

	a = (flow_word(k, 0) ^ seed ^ 0x9e3779b97f4a7c15ull) * 0xbf58476d1ce4e5b9ull;
	b = (flow_word(k, 1) ^ (seed << 11 | seed >> 53) ^ 0xc2b2ae3d27d4eb4full) *
	    0x94d049bb133111ebull;
	c = (flow_word(k, 2) ^ (seed << 23 | seed >> 41) ^ 0x165667b19e3779f9ull) *
	    0xff51afd7ed558ccdull;
	d = (flow_word(k, 3) ^ (seed << 37 | seed >> 27) ^ 0x27d4eb2f165667c5ull) *
	    0xc4ceb9fe1a85ec53ull;
	e = (flow_word(k, 4) ^ (seed << 49 | seed >> 15) ^ 0x85ebca77c2b2ae63ull) *
	    0x9e3779b97f4a7c15ull;
	h = a ^ (b << 13 | b >> 51) ^ (c << 26 | c >> 38) ^ (d << 39 | d >> 25) ^
	    (e << 52 | e >> 12);
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}

/* The table ------------------------------------------------------------ */

static uint32_t
flow_max(uint32_t nslots)
{
	return nslots - nslots / 4;		/* nslots * 3 / 4 without overflow */
}

size_t
flow_table_size(uint32_t nslots)
{
	if (nslots < 16 || (nslots & (nslots - 1)) != 0)
		return 0;
	/* Only a 32-bit size_t can overflow (2^31 slots are 256 GiB). */
	if ((uint64_t)nslots * sizeof(struct flow) > SIZE_MAX - sizeof(struct flow_table))
		return 0;
	return sizeof(struct flow_table) + (size_t)nslots * sizeof(struct flow);
}

struct flow_table *
flow_table_init(void *mem, uint32_t nslots)
{
	struct flow_table *t = mem;

	if (mem == NULL || flow_table_size(nslots) == 0 ||
	    (uintptr_t)mem % _Alignof(struct flow_table) != 0)
		return NULL;
	t->magic = FLOW_MAGIC;
	t->version = FLOW_VERSION;
	t->nslots = nslots;
	t->mask = nslots - 1;
	t->count = 0;
	t->max = flow_max(nslots);
	t->scan = 0;
	t->pad = 0;
	for (uint32_t i = 0; i < nslots; i++) {
		atomic_store_explicit(&t->slots[i].gen, 0, memory_order_relaxed);
		t->slots[i].hash = 0;		/* the last gen: none */
	}
	atomic_thread_fence(memory_order_release);
	return t;
}

/*
 * The header is read once into a copy: the writer is another process and
 * may be hostile, so we check values that cannot change under us.  (A
 * reader should keep the nslots it checked and bound its walk with it.)
 */
int
flow_table_check(const struct flow_table *t, size_t mapped)
{
	struct flow_table h;
	size_t size;

	if (t == NULL || mapped < sizeof(h))
		return -1;
	memcpy(&h, t, sizeof(h));
	if (h.magic != FLOW_MAGIC || h.version != FLOW_VERSION)
		return -1;
	size = flow_table_size(h.nslots);
	if (size == 0 || size > mapped || h.mask != h.nslots - 1)
		return -1;
	if (h.max != flow_max(h.nslots) || h.count > h.max || h.scan > h.mask)
		return -1;
	return 0;
}

static uint32_t
flow_gen(const struct flow *f)
{
	return atomic_load_explicit(&f->gen, memory_order_relaxed);
}

/* Keys are equal: five word compares, no branch until the end. */
static int
flow_key_equal(const struct flow_key *a, const struct flow_key *b)
{
	uint64_t x = 0;

	for (size_t i = 0; i < 5; i++)
		x |= flow_word(a, i) ^ flow_word(b, i);
	return x == 0;
}

struct flow *
flow_lookup(struct flow_table *t, const struct flow_key *k, uint32_t hash)
{
	uint32_t i = hash & t->mask;

	for (;;) {
		struct flow *f = &t->slots[i];

		if (flow_gen(f) == 0)
			return NULL;
		if (f->hash == hash && flow_key_equal(&f->key, k))
			return f;
		i = (i + 1) & t->mask;
	}
}

void
flow_write_begin(struct flow *f)
{
	/*
	 * A release store would only order what came before it; the fence
	 * orders the odd gen before the writes that follow, which is what a
	 * reader's second gen load relies on.
	 */
	atomic_store_explicit(&f->gen, flow_gen(f) + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

void
flow_write_end(struct flow *f)
{
	uint32_t g = flow_gen(f) + 1;

	/* Even and never 0 (free), also when the counter wraps. */
	atomic_store_explicit(&f->gen, g != 0 ? g : 2, memory_order_release);
}

/* Make a free slot busy (odd), with a gen past the one it had when last in use. */
static void
flow_claim(struct flow *f)
{
	atomic_store_explicit(&f->gen, (f->hash & ~1u) + 3, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

/*
 * Free a slot, keeping its last (odd) gen in `hash` for flow_claim.  The
 * slot goes odd first: writing `hash` under an even gen would let a reader
 * accept a copy with the stash in it.
 */
static void
flow_free(struct flow *f)
{
	flow_write_begin(f);
	f->hash = flow_gen(f);
	atomic_store_explicit(&f->gen, 0, memory_order_release);
}

struct flow *
flow_insert(struct flow_table *t, const struct flow_key *k, uint32_t hash)
{
	uint32_t i = hash & t->mask;
	struct flow *f;

	if (t->count >= t->max)
		return NULL;
	while (flow_gen(&t->slots[i]) != 0)
		i = (i + 1) & t->mask;
	f = &t->slots[i];
	flow_claim(f);
	/* Everything after gen, then the key before it. */
	memset((uint8_t *)f + offsetof(struct flow, hash), 0,
	    sizeof(*f) - offsetof(struct flow, hash));
	f->key = *k;
	f->hash = hash;
	flow_write_end(f);
	t->count++;
	return f;
}

/* Copy the entry at src into dst (its own gen sequence), then free src. */
static void
flow_move(struct flow *dst, struct flow *src)
{
	if (flow_gen(dst) == 0)
		flow_claim(dst);
	else
		flow_write_begin(dst);
	dst->key = src->key;
	memcpy((uint8_t *)dst + offsetof(struct flow, hash),
	    (const uint8_t *)src + offsetof(struct flow, hash),
	    sizeof(*dst) - offsetof(struct flow, hash));
	flow_write_end(dst);
	flow_free(src);
}

/*
 * Backward-shift deletion (Knuth's algorithm R): walk the cluster after
 * the hole; an entry whose home slot is not cyclically in (hole, j] may
 * fill the hole, and its old slot becomes the hole.  The first move
 * overwrites the removed entry in place (its gen goes on from there).
 */
void
flow_remove(struct flow_table *t, struct flow *f)
{
	uint32_t hole = (uint32_t)(f - t->slots), j = hole, home;

	for (;;) {
		j = (j + 1) & t->mask;
		if (flow_gen(&t->slots[j]) == 0)
			break;
		home = t->slots[j].hash & t->mask;
		if (((j - home) & t->mask) < ((j - hole) & t->mask))
			continue;		/* home in (hole, j]: it must stay after it */
		flow_move(&t->slots[hole], &t->slots[j]);
		hole = j;
	}
	if (flow_gen(&t->slots[hole]) != 0)
		flow_free(&t->slots[hole]);
	t->count--;
}

static int
flow_idle(const struct flow *f, uint64_t now, uint64_t idle_ns)
{
	/* last_ns + idle_ns < now, without overflow. */
	return now > f->last_ns && now - f->last_ns > idle_ns;
}

/*
 * A removal may shift a later entry, not yet looked at, into the slot
 * under the cursor, so the cursor stays put after one.  Each look counts
 * against budget, so the work is bounded whatever happens.
 */
uint32_t
flow_expire(struct flow_table *t, uint64_t now, uint64_t idle_ns, uint32_t budget,
    void (*gone)(struct flow *f, void *arg), void *arg)
{
	uint32_t i = t->scan & t->mask, removed = 0;

	for (; budget > 0; budget--) {
		struct flow *f = &t->slots[i];

		if (flow_gen(f) != 0 && flow_idle(f, now, idle_ns)) {
			if (gone != NULL)
				gone(f, arg);
			flow_remove(t, f);
			removed++;
			continue;
		}
		i = (i + 1) & t->mask;
	}
	t->scan = i;
	return removed;
}

/*
 * Two reads of an even, unchanged gen around the copy; the acquire fence
 * keeps the copy's loads before the second read.  (The copy is a plain
 * memcpy racing with the writer: the seqlock tells us when to throw it
 * away.)
 */
int
flow_read(const struct flow_table *t, uint32_t i, struct flow *out)
{
	const struct flow *f;
	uint32_t g;

	if (i >= t->nslots)
		return 0;
	f = &t->slots[i];
	for (int n = 0; n < FLOW_READ_TRIES; n++) {
		g = atomic_load_explicit(&f->gen, memory_order_acquire);
		if (g == 0)
			return 0;
		if (g & 1)
			continue;
		memcpy(out, f, sizeof(*out));
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&f->gen, memory_order_relaxed) == g) {
			atomic_store_explicit(&out->gen, g, memory_order_relaxed);
			return 1;
		}
	}
	return -1;
}
