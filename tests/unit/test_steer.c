/*
 * Steering (netfn/steer.h) and the receiver's duplicate filter of
 * redundant mode (netfn/dedup.h), both pure, so every decision is checked
 * exactly.
 *
 * Steering: the reasons' names; no usable path; each mode's choice
 * (active-standby, smallest-delay, load-balance, priority, redundant);
 * hysteresis: no move inside the dwell (one ns short), none below either
 * margin, a move at exactly the margins; DOWN at once whatever the dwell,
 * also for a port no longer a candidate; the latency bound (avoided for
 * new flows, a move only past 110% of it) and the loss band (5% avoided
 * for under 1%, boundaries exact), and loss before the bound; load-balance
 * spreading 1000 new flows 3:1 over capacities and weights, and ties
 * spread by hash; priority overflowing at 90% and picking the most
 * headroom; redundant pairs, keeping, restoring and improving a pair, and
 * the single-path fallback; unknown modes and mode changes.
 *
 * Dedup: in order, duplicates, reordering within the window and its edge,
 * too old, the wrap at 2^32, a sender restart detected after exactly 64
 * stale arrivals and not when the run is broken, big jumps (clearing what
 * they pass and nothing else), and a random walk against a plain model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netfn/dedup.h"
#include "netfn/steer.h"

#define T0 (100 * 1000000000ULL)	/* when the flow last moved */
#define IN (STEER_DWELL_NS - 1)		/* since the move: inside the dwell */
#define PAST STEER_DWELL_NS		/* the dwell has just passed */
#define N STEER_NONE
#define A 1				/* ports */
#define B 2
#define C 3

/* Helpers ------------------------------------------------------------- */

static struct steer_path
path(uint8_t port, uint32_t delay_us)
{
	struct steer_path p = { .port = port, .usable = 1, .measured = 1, .delay_us = delay_us };

	return p;
}

static struct steer_req
req(uint8_t mode, uint8_t cur0, uint8_t cur1, uint64_t since_move, const struct steer_path *paths,
    uint32_t n)
{
	struct steer_req r = {
		.mode = mode, .cur = { cur0, cur1 }, .now = T0 + since_move, .moved_ns = T0,
		.paths = paths, .n = n,
	};

	return r;
}

/* The decision of r: its reason and both ports (a macro, for the caller's line). */
#define EXPECT(r, reason, a, b) do {					\
	uint8_t out_[2] = { 0x55, 0x55 };				\
	assert_int_equal(steer_decide((r), out_), (reason));		\
	assert_int_equal(out_[0], (a));					\
	assert_int_equal(out_[1], (b));					\
} while (0)

/* Mode, current ports, time since the move, paths: the expected answer. */
#define DECIDE(mode, c0, c1, since, paths, reason, a, b) do {		\
	struct steer_req r_ = req((mode), (c0), (c1), (since), (paths),	\
	    sizeof(paths) / sizeof((paths)[0]));			\
	EXPECT(&r_, (reason), (a), (b));				\
} while (0)

/* Steering: common rules ----------------------------------------------- */

static void
test_reason_names(void **state)
{
	static const char *const names[] = {
		"keep", "new", "down", "delay", "loss", "bound", "load", "preferred",
	};
	int i;

	(void)state;
	assert_int_equal(STEER_REASON_MAX, 8);
	for (i = 0; i < STEER_REASON_MAX; i++)
		assert_string_equal(steer_reason_names[i], names[i]);
}

static void
test_no_usable(void **state)
{
	struct steer_path p[2] = { path(A, 10000), path(B, 20000) };
	struct steer_req r;
	int mode;

	(void)state;
	p[0].usable = p[1].usable = 0;
	for (mode = 0; mode < STEER_MAX; mode++) {
		DECIDE(mode, N, N, 0, p, STEER_NEW, N, N);
		DECIDE(mode, A, N, PAST, p, STEER_DOWN, N, N);
	}
	DECIDE(STEER_REDUNDANT, A, B, 0, p, STEER_DOWN, N, N);
	/* No candidates at all. */
	r = req(STEER_ACTIVE_STANDBY, N, N, 0, p, 0);
	EXPECT(&r, STEER_NEW, N, N);
	r = req(STEER_ACTIVE_STANDBY, A, N, 0, NULL, 3);
	EXPECT(&r, STEER_DOWN, N, N);
}

static void
test_down_at_once(void **state)
{
	struct steer_path p[3] = { path(A, 5000), path(B, 10000), path(C, 20000) };
	int mode;

	(void)state;
	p[0].usable = 0;
	/* Moved a nanosecond ago: still gone at once, in every mode. */
	for (mode = 0; mode < STEER_REDUNDANT; mode++)
		DECIDE(mode, A, N, 0, p, STEER_DOWN, B, N);
	DECIDE(STEER_REDUNDANT, A, B, 0, p, STEER_DOWN, B, C);
	/* A port that is no candidate any more (the policy changed) is as good as down. */
	p[0].usable = 1;
	DECIDE(STEER_ACTIVE_STANDBY, 9, N, 0, p, STEER_DOWN, A, N);
	DECIDE(STEER_REDUNDANT, A, 9, 0, p, STEER_DOWN, A, B);
}

/* Steering: modes ------------------------------------------------------- */

static void
test_active_standby(void **state)
{
	struct steer_path p[3] = { path(A, 30000), path(B, 10000), path(C, 5000) };
	struct steer_req r;

	(void)state;
	DECIDE(STEER_ACTIVE_STANDBY, N, N, 0, p, STEER_NEW, A, N);
	DECIDE(STEER_ACTIVE_STANDBY, A, N, PAST, p, STEER_KEEP, A, N);
	/* Back to the first once it is usable, after the dwell only. */
	DECIDE(STEER_ACTIVE_STANDBY, B, N, IN, p, STEER_KEEP, B, N);
	DECIDE(STEER_ACTIVE_STANDBY, B, N, PAST, p, STEER_PREFERRED, A, N);
	p[0].usable = 0;
	DECIDE(STEER_ACTIVE_STANDBY, N, N, 0, p, STEER_NEW, B, N);
	DECIDE(STEER_ACTIVE_STANDBY, B, N, PAST, p, STEER_KEEP, B, N);
	/* Back to the first usable one, not necessarily the very first. */
	DECIDE(STEER_ACTIVE_STANDBY, C, N, PAST, p, STEER_PREFERRED, B, N);
	/* A move in the future (clock skew): the dwell has not passed. */
	p[0].usable = 1;
	r = req(STEER_ACTIVE_STANDBY, B, N, 0, p, 3);
	r.moved_ns = r.now + 1;
	EXPECT(&r, STEER_KEEP, B, N);
}

static void
test_smallest_delay_choice(void **state)
{
	struct steer_path p[3] = { path(A, 30000), path(B, 10000), path(C, 10000) };

	(void)state;
	DECIDE(STEER_SMALLEST_DELAY, N, N, 0, p, STEER_NEW, B, N);	/* tie: order */
	/* Unmeasured counts as worse than any measurement, even reading 0. */
	p[1].measured = 0;
	p[1].delay_us = 0;
	DECIDE(STEER_SMALLEST_DELAY, N, N, 0, p, STEER_NEW, C, N);
	p[0].measured = p[2].measured = 0;
	DECIDE(STEER_SMALLEST_DELAY, N, N, 0, p, STEER_NEW, A, N);
	p[0].usable = 0;
	DECIDE(STEER_SMALLEST_DELAY, N, N, 0, p, STEER_NEW, B, N);
}

static void
test_smallest_delay_hysteresis(void **state)
{
	struct steer_path p[2] = { path(A, 50000), path(B, 40000) };

	(void)state;
	/* 10 ms = exactly 20% better: a move, after the dwell only. */
	DECIDE(STEER_SMALLEST_DELAY, A, N, IN, p, STEER_KEEP, A, N);
	DECIDE(STEER_SMALLEST_DELAY, A, N, PAST, p, STEER_DELAY, B, N);
	DECIDE(STEER_SMALLEST_DELAY, B, N, PAST, p, STEER_KEEP, B, N);
	/* 9.999 ms: under 20%. */
	p[1].delay_us = 40001;
	DECIDE(STEER_SMALLEST_DELAY, A, N, PAST, p, STEER_KEEP, A, N);
	DECIDE(STEER_SMALLEST_DELAY, A, N, 3600 * PAST, p, STEER_KEEP, A, N);
	/* 40% but only 2 ms: a move; 1.999 ms: none. */
	p[0].delay_us = 5000;
	p[1].delay_us = 3000;
	DECIDE(STEER_SMALLEST_DELAY, A, N, PAST, p, STEER_DELAY, B, N);
	p[1].delay_us = 3001;
	DECIDE(STEER_SMALLEST_DELAY, A, N, PAST, p, STEER_KEEP, A, N);
	/* On an unmeasured path, any measured one is better. */
	p[0].measured = 0;
	DECIDE(STEER_SMALLEST_DELAY, A, N, IN, p, STEER_KEEP, A, N);
	DECIDE(STEER_SMALLEST_DELAY, A, N, PAST, p, STEER_DELAY, B, N);
	/* Down: at once. */
	p[0].measured = 1;
	p[1].usable = 0;
	DECIDE(STEER_SMALLEST_DELAY, B, N, 0, p, STEER_DOWN, A, N);
}

static void
test_load_balance_spread(void **state)
{
	struct steer_path p[3];
	struct steer_req r;
	uint8_t out[2];
	uint32_t i;

	(void)state;
	/* Capacities 3:1, flow counts updated as flows are assigned. */
	memset(p, 0, sizeof(p));
	p[0] = path(A, 10000);
	p[1] = path(B, 50000);
	p[0].capacity_kbps = 3000000;
	p[1].capacity_kbps = 1000000;
	for (i = 0; i < 1000; i++) {
		r = req(STEER_LOAD_BALANCE, N, N, 0, p, 2);
		r.hash = i * 2654435761u;
		assert_int_equal(steer_decide(&r, out), STEER_NEW);
		assert_int_equal(out[1], N);
		p[out[0] == A ? 0 : 1].flows++;
	}
	assert_in_range(p[0].flows, 740, 760);
	assert_in_range(p[1].flows, 240, 260);
	/* The same by weights over unknown capacities (1 Gbit/s each). */
	p[0].capacity_kbps = p[1].capacity_kbps = 0;
	p[0].weight = 3;
	p[1].weight = 1;
	p[0].flows = p[1].flows = 0;
	for (i = 0; i < 1000; i++) {
		r = req(STEER_LOAD_BALANCE, N, N, 0, p, 2);
		r.hash = i;
		steer_decide(&r, out);
		p[out[0] == A ? 0 : 1].flows++;
	}
	assert_in_range(p[0].flows, 740, 760);
	/* 1 Gbit/s unknown, 1 Gbit/s known, 2 Gbit/s: 1:1:2. */
	p[0] = path(A, 1000);
	p[1] = path(B, 1000);
	p[2] = path(C, 1000);
	p[1].capacity_kbps = 1000000;
	p[2].capacity_kbps = 2000000;
	for (i = 0; i < 1000; i++) {
		r = req(STEER_LOAD_BALANCE, N, N, 0, p, 3);
		r.hash = i * 40503u;
		steer_decide(&r, out);
		p[out[0] - A].flows++;
	}
	assert_in_range(p[0].flows, 240, 260);
	assert_in_range(p[1].flows, 240, 260);
	assert_in_range(p[2].flows, 490, 510);
}

static void
test_load_balance_ties_and_stay(void **state)
{
	struct steer_path p[3] = { path(A, 1000), path(B, 1000), path(C, 1000) };
	struct steer_req r;

	(void)state;
	/* Equal paths: the hash picks among them. */
	r = req(STEER_LOAD_BALANCE, N, N, 0, p, 3);
	r.hash = 0;
	EXPECT(&r, STEER_NEW, A, N);
	r.hash = 4;
	EXPECT(&r, STEER_NEW, B, N);
	r.hash = 5;
	EXPECT(&r, STEER_NEW, C, N);
	/* Only the least loaded ones tie. */
	p[0].flows = 1;
	r.hash = 0;
	EXPECT(&r, STEER_NEW, B, N);
	r.hash = 1;
	EXPECT(&r, STEER_NEW, C, N);
	/* Existing flows stay, however unbalanced; they move only when down. */
	p[0].flows = 1000;
	DECIDE(STEER_LOAD_BALANCE, A, N, 3600 * PAST, p, STEER_KEEP, A, N);
	p[0].usable = 0;
	p[1].flows = 7;
	DECIDE(STEER_LOAD_BALANCE, A, N, 0, p, STEER_DOWN, C, N);
	/* A tie of 95-bit products: 65535k / (2^47 65535) = 65534k / (2^47 65534). */
	p[0].capacity_kbps = UINT64_MAX;	/* clamped to 2^47 */
	p[1].capacity_kbps = 1ULL << 47;
	p[0].weight = 65535;
	p[1].weight = 65534;
	p[0].flows = 65535u * 65536u - 1;
	p[1].flows = 65534u * 65536u - 1;
	p[0].usable = 1;
	r = req(STEER_LOAD_BALANCE, N, N, 0, p, 2);
	r.hash = 0;
	EXPECT(&r, STEER_NEW, A, N);
	r.hash = 1;
	EXPECT(&r, STEER_NEW, B, N);
	p[0].flows--;
	EXPECT(&r, STEER_NEW, A, N);
	p[0].flows++;
	p[1].flows--;
	r.hash = 0;
	EXPECT(&r, STEER_NEW, B, N);
	/*
	 * Products whose middle partial sums carry: A (2^32 - 1) (2^47 - 1)
	 * against B 2^31 * 2 (2^47 - 2^15 - 1), one less: A is the more loaded.
	 */
	p[0].capacity_kbps = (1ULL << 47) - (1ULL << 15) - 1;
	p[0].weight = 2;
	p[0].flows = UINT32_MAX - 1;
	p[1].capacity_kbps = (1ULL << 47) - 1;
	p[1].weight = 1;
	p[1].flows = (1u << 31) - 1;
	r = req(STEER_LOAD_BALANCE, N, N, 0, p, 2);
	EXPECT(&r, STEER_NEW, B, N);
	/* Absurd capacities and weights: no overflow, the bigger share wins. */
	p[0].usable = 1;
	p[0].capacity_kbps = UINT64_MAX;
	p[0].weight = UINT16_MAX;
	p[0].flows = UINT32_MAX;
	p[1] = path(B, 1000);
	p[2].flows = 0;
	DECIDE(STEER_LOAD_BALANCE, N, N, 0, p, STEER_NEW, A, N);
}

static void
test_priority(void **state)
{
	struct steer_path p[2] = { path(A, 1000), path(B, 1000) };

	(void)state;
	p[0].capacity_kbps = p[1].capacity_kbps = 100000;
	p[0].load_kbps = 89999;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, A, N);
	p[0].load_kbps = 90000;			/* full at 90% */
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, B, N);
	/* Existing flows stay on a full path. */
	DECIDE(STEER_PRIORITY, A, N, 3600 * PAST, p, STEER_KEEP, A, N);
	/* All full: the most headroom in kbps, ties in order. */
	p[0].load_kbps = 95000;			/* 5000 left */
	p[1].capacity_kbps = 200000;
	p[1].load_kbps = 190000;		/* 10000 left */
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, B, N);
	p[1].load_kbps = 195000;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, A, N);
	/* Overloaded both: the least over. */
	p[0].load_kbps = 150000;
	p[1].load_kbps = 220000;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, B, N);
	/* One overloaded, one full with room left, either order. */
	p[0].load_kbps = 101000;
	p[1].load_kbps = 199000;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, B, N);
	p[0].load_kbps = 99000;
	p[1].load_kbps = 201000;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, A, N);
	/* Unknown capacity is never full. */
	p[0].capacity_kbps = 0;
	p[0].load_kbps = UINT64_MAX;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, A, N);
	/* 90% exactly of a capacity near 2^64: exact 128-bit products. */
	p[0].capacity_kbps = 18446744073709551600ULL;
	p[0].load_kbps = 16602069666338596440ULL;
	p[1].load_kbps = 0;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, B, N);
	p[0].load_kbps--;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, A, N);
	/* Headroom near 2^64: A has 1 Gbit/s left, B 5 Mbit/s. */
	p[0].capacity_kbps = UINT64_MAX;
	p[0].load_kbps = UINT64_MAX - 1000000;
	p[1].capacity_kbps = 100000;
	p[1].load_kbps = 95000;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, A, N);
	p[0].load_kbps = UINT64_MAX - 4999;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, B, N);
	/* Absurd rates: no overflow, A is full. */
	p[0].capacity_kbps = UINT64_MAX;
	p[0].load_kbps = UINT64_MAX;
	p[1].load_kbps = 0;
	DECIDE(STEER_PRIORITY, N, N, 0, p, STEER_NEW, B, N);
	/* Down: at once. */
	p[0].usable = 0;
	DECIDE(STEER_PRIORITY, A, N, 0, p, STEER_DOWN, B, N);
}

static void
test_redundant(void **state)
{
	struct steer_path p[3] = { path(A, 30000), path(B, 10000), path(C, 20000) };

	(void)state;
	DECIDE(STEER_REDUNDANT, N, N, 0, p, STEER_NEW, B, C);
	DECIDE(STEER_REDUNDANT, B, C, PAST, p, STEER_KEEP, B, C);
	DECIDE(STEER_REDUNDANT, C, B, PAST, p, STEER_KEEP, C, B);	/* a set */
	/* One of the pair down: a new pair at once. */
	p[2].usable = 0;
	DECIDE(STEER_REDUNDANT, B, C, 0, p, STEER_DOWN, B, A);
	/* A single usable path: no second copy. */
	p[1].usable = 0;
	DECIDE(STEER_REDUNDANT, N, N, 0, p, STEER_NEW, A, N);
	DECIDE(STEER_REDUNDANT, B, C, 0, p, STEER_DOWN, A, N);
	DECIDE(STEER_REDUNDANT, A, N, PAST, p, STEER_KEEP, A, N);
	/* Paths back: the pair is restored at once, without the dwell. */
	p[1].usable = p[2].usable = 1;
	DECIDE(STEER_REDUNDANT, A, N, 0, p, STEER_PREFERRED, B, C);
	/* A second port equal to the first is no pair either. */
	DECIDE(STEER_REDUNDANT, A, A, 0, p, STEER_PREFERRED, B, C);
}

static void
test_redundant_hysteresis(void **state)
{
	struct steer_path p[3] = { path(A, 30000), path(B, 10000), path(C, 20000) };

	(void)state;
	/* {B, A}: mean 20 ms; {B, C}: 15 ms, 25% and 5 ms better. */
	DECIDE(STEER_REDUNDANT, B, A, IN, p, STEER_KEEP, B, A);
	DECIDE(STEER_REDUNDANT, B, A, PAST, p, STEER_DELAY, B, C);
	/* A at 24 ms: mean 17 ms vs 15, under 20%. */
	p[0].delay_us = 24000;
	DECIDE(STEER_REDUNDANT, B, A, PAST, p, STEER_KEEP, B, A);
	/* The 2 ms margin on the mean: 3 + 7 vs 3 + 3 moves, 3 + 6.999 does not. */
	p[0].delay_us = 7000;
	p[1].delay_us = 3000;
	p[2].delay_us = 3000;
	DECIDE(STEER_REDUNDANT, B, A, PAST, p, STEER_DELAY, B, C);
	p[0].delay_us = 6999;
	DECIDE(STEER_REDUNDANT, B, A, PAST, p, STEER_KEEP, B, A);
	/* A pair with an unmeasured member is worse than a measured pair. */
	p[0].measured = 0;
	DECIDE(STEER_REDUNDANT, B, A, IN, p, STEER_KEEP, B, A);
	DECIDE(STEER_REDUNDANT, B, A, PAST, p, STEER_DELAY, B, C);
}

static void
test_redundant_loss_fallback(void **state)
{
	struct steer_path p[3] = { path(A, 30000), path(B, 10000), path(C, 20000) };

	(void)state;
	/* Only B is a good candidate: the second copy goes over the best of the rest. */
	p[0].loss_ppm = 100000;
	p[1].loss_ppm = 5000;
	p[2].loss_ppm = 100000;
	DECIDE(STEER_REDUNDANT, N, N, 0, p, STEER_NEW, B, C);
	DECIDE(STEER_REDUNDANT, B, C, PAST, p, STEER_KEEP, B, C);
	/* A lossy member is replaced by a good path after the dwell. */
	p[0].loss_ppm = 0;
	DECIDE(STEER_REDUNDANT, B, C, IN, p, STEER_KEEP, B, C);
	DECIDE(STEER_REDUNDANT, B, C, PAST, p, STEER_LOSS, B, A);
}

/* Steering: the bound and loss rules ----------------------------------------- */

static void
test_bound(void **state)
{
	struct steer_path p[3] = { path(A, 40000), path(B, 25000), path(C, 10000) };
	struct steer_req r;

	(void)state;
	/* New flows avoid a path over the bound when another meets it. */
	r = req(STEER_ACTIVE_STANDBY, N, N, 0, p, 2);
	r.max_latency_us = 30000;
	EXPECT(&r, STEER_NEW, B, N);
	r.mode = STEER_LOAD_BALANCE;
	p[1].flows = 100;
	EXPECT(&r, STEER_NEW, B, N);
	/* Exactly at the bound meets it. */
	p[0].delay_us = 30000;
	EXPECT(&r, STEER_NEW, A, N);
	p[0].delay_us = 40000;
	/* None meets it: as if there were no bound. */
	p[1].delay_us = 35000;
	r.mode = STEER_ACTIVE_STANDBY;
	EXPECT(&r, STEER_NEW, A, N);
	r.mode = STEER_LOAD_BALANCE;
	EXPECT(&r, STEER_NEW, A, N);
	/* An unmeasured path does not meet a bound. */
	p[1].delay_us = 25000;
	p[0].measured = 0;
	p[0].delay_us = 0;
	r.mode = STEER_ACTIVE_STANDBY;
	EXPECT(&r, STEER_NEW, B, N);

	/* A flow on A stays up to 110% of the bound, moves past it after the dwell. */
	p[0].measured = 1;
	p[0].delay_us = 33000;
	r = req(STEER_ACTIVE_STANDBY, A, N, PAST, p, 2);
	r.max_latency_us = 30000;
	EXPECT(&r, STEER_KEEP, A, N);
	p[0].delay_us = 33001;
	EXPECT(&r, STEER_BOUND, B, N);
	r.now = T0 + IN;
	EXPECT(&r, STEER_KEEP, A, N);
	/* In every mode. */
	r.now = T0 + PAST;
	r.mode = STEER_PRIORITY;
	EXPECT(&r, STEER_BOUND, B, N);
	r.mode = STEER_LOAD_BALANCE;
	EXPECT(&r, STEER_BOUND, B, N);
	/* Redundant: candidates meeting the bound, best first. */
	r = req(STEER_REDUNDANT, N, N, 0, p, 3);
	r.max_latency_us = 30000;
	EXPECT(&r, STEER_NEW, C, B);
	r.max_latency_us = 20000;
	EXPECT(&r, STEER_NEW, C, B);		/* one meets it: the second from the rest */
	r = req(STEER_REDUNDANT, A, C, PAST, p, 3);
	r.max_latency_us = 30000;
	EXPECT(&r, STEER_BOUND, C, B);
}

static void
test_loss(void **state)
{
	struct steer_path p[2] = { path(A, 10000), path(B, 20000) };
	struct steer_req r;
	int mode;

	(void)state;
	/* Over 5% avoided for under 1%, in every mode. */
	p[0].loss_ppm = 60000;
	p[1].loss_ppm = 5000;
	for (mode = 0; mode < STEER_MAX; mode++) {
		r = req(mode, N, N, 0, p, 2);
		EXPECT(&r, STEER_NEW, B, mode == STEER_REDUNDANT ? A : N);
	}
	/* Boundaries: exactly 5% is not bad, exactly 1% not good. */
	p[0].loss_ppm = 50000;
	p[1].loss_ppm = 9999;
	DECIDE(STEER_ACTIVE_STANDBY, N, N, 0, p, STEER_NEW, A, N);
	p[0].loss_ppm = 50001;
	DECIDE(STEER_ACTIVE_STANDBY, N, N, 0, p, STEER_NEW, B, N);
	p[1].loss_ppm = 10000;
	DECIDE(STEER_ACTIVE_STANDBY, N, N, 0, p, STEER_NEW, A, N);
	/* No good path: the lossy one is as good as any. */
	p[1].loss_ppm = 20000;
	DECIDE(STEER_SMALLEST_DELAY, N, N, 0, p, STEER_NEW, A, N);
	/* A flow on a lossy path moves after the dwell, in every mode. */
	p[1].loss_ppm = 0;
	for (mode = 0; mode < STEER_REDUNDANT; mode++) {
		DECIDE(mode, A, N, IN, p, STEER_KEEP, A, N);
		DECIDE(mode, A, N, PAST, p, STEER_LOSS, B, N);
	}
	/* Between 1% and 5% a flow stays. */
	p[0].loss_ppm = 30000;
	DECIDE(STEER_SMALLEST_DELAY, A, N, PAST, p, STEER_KEEP, A, N);
	/* Loss before the bound: A meets it but loses 10%, B is slow but clean. */
	p[0].loss_ppm = 100000;
	r = req(STEER_ACTIVE_STANDBY, N, N, 0, p, 2);
	r.max_latency_us = 15000;
	EXPECT(&r, STEER_NEW, B, N);
	r.cur[0] = A;
	r.now = T0 + PAST;
	EXPECT(&r, STEER_LOSS, B, N);
}

static void
test_mode_oddities(void **state)
{
	struct steer_path p[2] = { path(A, 30000), path(B, 10000) };

	(void)state;
	/* An unknown mode is active-standby. */
	DECIDE(99, N, N, 0, p, STEER_NEW, A, N);
	DECIDE(STEER_MAX, B, N, PAST, p, STEER_PREFERRED, A, N);
	/* A pair under a single-path mode (the policy changed): steered anew. */
	DECIDE(STEER_SMALLEST_DELAY, A, B, 0, p, STEER_NEW, B, N);
	DECIDE(STEER_ACTIVE_STANDBY, A, B, 0, p, STEER_NEW, A, N);
}

/* Dedup ------------------------------------------------------------------- */

static struct dedup *
dedup_fresh(void)
{
	static struct dedup d;

	memset(&d, 0xa5, sizeof(d));
	dedup_init(&d);
	return &d;
}

static void
test_dedup_in_order(void **state)
{
	struct dedup *d = dedup_fresh();
	uint32_t s;

	(void)state;
	for (s = 1000; s < 30000; s++)
		assert_int_equal(dedup_check(d, s), 1);
	/* The second copies, late: dropped, in the window or too old. */
	for (s = 30000 - DEDUP_WINDOW; s < 30000; s++)
		assert_int_equal(dedup_check(d, s), 0);
	for (s = 1000; s < 1000 + DEDUP_RESTART_RUN - 1; s++)
		assert_int_equal(dedup_check(d, s), 0);
	assert_int_equal(d->top, 29999);
	/* (64 too old in a row would be a restarted sender: test_dedup_restart.) */
}

static void
test_dedup_duplicates_interleaved(void **state)
{
	struct dedup *d = dedup_fresh();
	uint32_t s;

	(void)state;
	/* Two paths, the second 3 packets behind: each seq once. */
	for (s = 0; s < 10000; s++) {
		assert_int_equal(dedup_check(d, s), 1);
		if (s >= 3)
			assert_int_equal(dedup_check(d, s - 3), 0);
	}
	assert_int_equal(dedup_check(d, 9999), 0);
}

static void
test_dedup_reorder(void **state)
{
	struct dedup *d = dedup_fresh();
	uint32_t s;

	(void)state;
	for (s = 0; s <= 20000; s += 2)
		assert_int_equal(dedup_check(d, s), 1);
	/* The odd ones, late but within the window: first copies. */
	for (s = 20000 - DEDUP_WINDOW + 1; s < 20000; s += 2)
		assert_int_equal(dedup_check(d, s), 1);
	for (s = 20000 - DEDUP_WINDOW + 1; s <= 20000; s++)
		assert_int_equal(dedup_check(d, s), 0);
	/* The window's edge: top - 8191 is in it, top - 8192 is not. */
	assert_int_equal(dedup_check(d, 30000), 1);
	assert_int_equal(dedup_check(d, 30000 - DEDUP_WINDOW + 1), 1);
	assert_int_equal(dedup_check(d, 30000 - DEDUP_WINDOW + 1), 0);
	assert_int_equal(dedup_check(d, 30000 - DEDUP_WINDOW), 0);
	assert_int_equal(d->stale_run, 1);
	assert_int_equal(d->top, 30000);
}

static void
test_dedup_wrap(void **state)
{
	struct dedup *d = dedup_fresh();
	uint32_t s, i;

	(void)state;
	s = UINT32_MAX - 4999;
	for (i = 0; i < 10000; i++)
		assert_int_equal(dedup_check(d, s + i), 1);
	assert_int_equal(d->top, 4999);
	/* Before the wrap and within the window: remembered. */
	assert_int_equal(dedup_check(d, UINT32_MAX), 0);
	assert_int_equal(dedup_check(d, UINT32_MAX - 3000), 0);
	/* Unseen just behind, across the wrap: delivered once. */
	d = dedup_fresh();
	assert_int_equal(dedup_check(d, 5), 1);
	assert_int_equal(dedup_check(d, UINT32_MAX), 1);
	assert_int_equal(d->top, 5);
	assert_int_equal(dedup_check(d, UINT32_MAX), 0);
	assert_int_equal(dedup_check(d, 0), 1);
	/* 2^31 apart is taken as older, not newer. */
	assert_int_equal(dedup_check(d, 5 + (1u << 31)), 0);
	assert_int_equal(d->top, 5);
	assert_int_equal(dedup_check(d, 4 + (1u << 31)), 1);
	assert_int_equal(d->top, 4 + (1u << 31));
}

static void
test_dedup_restart(void **state)
{
	struct dedup *d = dedup_fresh();
	uint32_t s;

	(void)state;
	for (s = 1000000; s < 1000100; s++)
		dedup_check(d, s);
	/* 63 old ones, then one in the window: the run is broken. */
	for (s = 0; s < 63; s++)
		assert_int_equal(dedup_check(d, s), 0);
	assert_int_equal(dedup_check(d, 1000050), 0);
	assert_int_equal(d->stale_run, 0);
	/* A restarted sender: 63 dropped, the 64th starts the window again. */
	for (s = 0; s < 63; s++)
		assert_int_equal(dedup_check(d, s), 0);
	assert_int_equal(dedup_check(d, 63), 1);
	assert_int_equal(d->top, 63);
	assert_int_equal(d->stale_run, 0);
	assert_int_equal(dedup_check(d, 63), 0);
	assert_int_equal(dedup_check(d, 64), 1);
	/* The second copies of the ones dropped before the restart was seen. */
	assert_int_equal(dedup_check(d, 10), 1);
	assert_int_equal(dedup_check(d, 10), 0);
	/* Far behind the new start: too old. */
	assert_int_equal(dedup_check(d, UINT32_MAX - 10000), 0);
}

static void
test_dedup_jumps(void **state)
{
	struct dedup *d = dedup_fresh();
	uint32_t s;

	(void)state;
	for (s = 0; s < DEDUP_WINDOW; s++)
		dedup_check(d, s);
	/* A jump of 5000: the 3191 newest old ones still remembered, the skipped ones not. */
	assert_int_equal(dedup_check(d, DEDUP_WINDOW - 1 + 5000), 1);
	for (s = 5000; s < DEDUP_WINDOW; s++)
		assert_int_equal(dedup_check(d, s), 0);
	for (s = DEDUP_WINDOW; s < DEDUP_WINDOW - 1 + 5000; s++)
		assert_int_equal(dedup_check(d, s), 1);
	assert_int_equal(dedup_check(d, 4999), 0);	/* now too old */
	/* A jump by exactly the window: nothing remembered. */
	s = d->top + DEDUP_WINDOW;
	assert_int_equal(dedup_check(d, s), 1);
	assert_int_equal(dedup_check(d, s - 1), 1);
	assert_int_equal(dedup_check(d, s - DEDUP_WINDOW + 1), 1);
	/* The biggest jump forward: 2^31 - 1. */
	s = d->top;
	assert_int_equal(dedup_check(d, s + INT32_MAX), 1);
	assert_int_equal(dedup_check(d, s), 0);
	assert_int_equal(dedup_check(d, s + INT32_MAX - 1), 1);
	assert_int_equal(dedup_check(d, s + INT32_MAX), 0);
}

/*
 * Against a model with no window arithmetic (every accepted seq in a big
 * bitmap): reordering and small jumps across word boundaries, the odd
 * jump past the window.
 */
static void
test_dedup_model(void **state)
{
	enum { SPACE = 1 << 22 };
	static uint8_t seen[SPACE / 8];
	struct dedup *d = dedup_fresh();
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	uint32_t s, top = 1000000, i;
	int64_t step;
	int want;

	(void)state;
	memset(seen, 0, sizeof(seen));
	assert_int_equal(dedup_check(d, top), 1);
	seen[top / 8] |= 1 << (top % 8);
	for (i = 0; i < 300000 && top < SPACE - 30000; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		step = (int64_t)(rng % 13000) - 10000;
		if (rng % 997 == 0)
			step = 9000 + (int64_t)(rng % 9000);	/* the odd big jump */
		s = (uint32_t)((int64_t)top + step);
		if (s > top)
			want = 1;
		else
			want = top - s < DEDUP_WINDOW && !(seen[s / 8] & (1 << (s % 8)));
		assert_int_equal(dedup_check(d, s), want);
		if (want)
			seen[s / 8] |= 1 << (s % 8);
		if (s > top)
			top = s;
		assert_int_equal(d->top, top);
	}
	assert_true(i > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reason_names),
		cmocka_unit_test(test_no_usable),
		cmocka_unit_test(test_down_at_once),
		cmocka_unit_test(test_active_standby),
		cmocka_unit_test(test_smallest_delay_choice),
		cmocka_unit_test(test_smallest_delay_hysteresis),
		cmocka_unit_test(test_load_balance_spread),
		cmocka_unit_test(test_load_balance_ties_and_stay),
		cmocka_unit_test(test_priority),
		cmocka_unit_test(test_redundant),
		cmocka_unit_test(test_redundant_hysteresis),
		cmocka_unit_test(test_redundant_loss_fallback),
		cmocka_unit_test(test_bound),
		cmocka_unit_test(test_loss),
		cmocka_unit_test(test_mode_oddities),
		cmocka_unit_test(test_dedup_in_order),
		cmocka_unit_test(test_dedup_duplicates_interleaved),
		cmocka_unit_test(test_dedup_reorder),
		cmocka_unit_test(test_dedup_wrap),
		cmocka_unit_test(test_dedup_restart),
		cmocka_unit_test(test_dedup_jumps),
		cmocka_unit_test(test_dedup_model),
	};
	return cmocka_run_group_tests_name("steer", tests, NULL, NULL);
}
