/*
 * flow-bench: what a flow-table lookup costs (netfn/flow.c), hash and
 * lookup together and the lookup alone, for three tables: 1024 flows in
 * 2048 slots (256 KiB, in L2: the baseline), 65536 flows in 2^17 slots
 * (16 MiB: mostly cache misses) and the same table three quarters full.
 * Each larger table is printed as a ratio against the baseline of the
 * same run.  Prints; never decides pass or fail.
 *   bench/flow-bench
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netfn/flow.h"
#include "lib/util.h"

struct lookup_cost {
	double hash_lookup_ns;
	double lookup_ns;
};

static volatile uint64_t sink;

static void
die(const char *what)
{
	fprintf(stderr, "flow-bench: %s\n", what);
	exit(1);
}

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The i-th distinct key (destination and ports from i), a random source. */
static struct flow_key
key_n(uint32_t i, uint64_t *rng)
{
	struct flow_key k;
	uint64_t r = xorshift64(rng);

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

static struct lookup_cost
time_lookups(uint32_t nslots, uint32_t n)
{
	size_t size = flow_table_size(nslots);
	void *mem = size != 0 ? malloc(size) : NULL;
	struct flow_table *t = mem != NULL ? flow_table_init(mem, nslots) : NULL;
	struct flow_key *keys = calloc(n, sizeof(*keys));
	uint32_t *hashes = calloc(n, sizeof(*hashes));
	uint64_t rng = 3, t0, t1, t2, sum = 0;
	const uint32_t rounds = 5000000 / n + 1;
	struct lookup_cost c;

	if (t == NULL || keys == NULL || hashes == NULL)
		die("out of memory");
	for (uint32_t i = 0; i < n; i++) {
		keys[i] = key_n(i, &rng);
		hashes[i] = flow_hash(&keys[i], 0);
		if (flow_insert(t, &keys[i], hashes[i]) == NULL)
			die("table full");
	}
	/* Warm up, then hash and look up, then look up with the hash known. */
	for (uint32_t i = 0; i < n; i++)
		sum += (uintptr_t)flow_lookup(t, &keys[i], hashes[i]);
	t0 = cnw_now_ns();
	for (uint32_t r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < n; i++)
			sum += (uintptr_t)flow_lookup(t, &keys[i], flow_hash(&keys[i], 0));
	t1 = cnw_now_ns();
	for (uint32_t r = 0; r < rounds; r++)
		for (uint32_t i = 0; i < n; i++)
			sum += (uintptr_t)flow_lookup(t, &keys[i], hashes[i]);
	t2 = cnw_now_ns();
	sink = sum;			/* so the lookups are not optimised away */
	c.hash_lookup_ns = (double)(t1 - t0) / ((double)rounds * n);
	c.lookup_ns = (double)(t2 - t1) / ((double)rounds * n);
	free(keys);
	free(hashes);
	free(mem);
	return c;
}

int
main(void)
{
	static const struct {
		const char *what;
		uint32_t nslots, n;
	} runs[] = {
		{ "1024 flows, 2048 slots (256 KiB, in L2)", 2048, 1024 },
		{ "65536 flows, 2^17 slots (16 MiB)", 1u << 17, 1u << 16 },
		{ "98304 flows, 2^17 slots (16 MiB, 3/4 full)", 1u << 17, 98304 },
	};
	struct lookup_cost base = { 0, 0 };

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		struct lookup_cost c = time_lookups(runs[i].nslots, runs[i].n);

		if (i == 0)
			base = c;
		printf("%-44s hash+lookup %6.1f ns (%.2fx)  lookup %6.1f ns (%.2fx)\n",
		    runs[i].what, c.hash_lookup_ns, c.hash_lookup_ns / base.hash_lookup_ns,
		    c.lookup_ns, c.lookup_ns / base.lookup_ns);
	}
	return 0;
}
