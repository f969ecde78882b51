/*
 * The path monitor (netfn/pathmon.h), on an injected clock, so every
 * figure is exact: the probe schedule; the smoothed RTT reaching a steady
 * RTT exactly from below and from above, never overshooting; the jitter of
 * alternating RTTs, step by step and at its limit; loss of exactly k of 64
 * and the window sliding in the order fates become known; the loss timeout
 * and the DEAD bound to the nanosecond (not one early), with and without a
 * measurement, and the three-probe condition; recovery, including by a
 * late (stale) echo that gives no sample; forged, unknown, duplicate and
 * time-travelling echoes refused without effect; the sequence wrapping at
 * 2^32; the ring full; reset; absurd times.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netfn/pathmon.h"

#define MS 1000000ULL			/* ns */
#define SEC 1000000000ULL		/* ns */
#define US 1000ULL			/* ns */

/* Helpers ------------------------------------------------------------- */

/* A probe sent at t, answered after rtt: accepted. */
static void
answered(struct path_est *p, uint64_t t, uint64_t rtt)
{
	uint32_t seq = path_probe_sent(p, t);

	assert_int_equal(path_probe_reply(p, seq, t, t + rtt), 0);
}

static struct path_metrics
metrics(const struct path_est *p)
{
	struct path_metrics m;

	path_get(p, &m);
	return m;
}

/* A path UP with one sample of rtt, answered at rtt after time 0. */
static void
up_with(struct path_est *p, uint64_t rtt)
{
	path_est_init(p, 0);
	answered(p, 0, rtt);
	assert_int_equal(path_state(p), PATH_UP);
}

/* Schedule and start ------------------------------------------------------ */

static void
test_init(void **state)
{
	struct path_est p;
	struct path_metrics m;

	(void)state;
	memset(&p, 0xa5, sizeof(p));
	path_est_init(&p, 5 * SEC);
	m = metrics(&p);
	assert_int_equal(m.state, PATH_UNKNOWN);
	assert_int_equal(m.rtt_us, 0);
	assert_int_equal(m.jitter_us, 0);
	assert_int_equal(m.loss_ppm, 0);
	assert_int_equal(m.sent, 0);
	assert_int_equal(m.answered, 0);
	assert_int_equal(path_delay_us(&p), 0);
	assert_int_equal(path_loss_timeout_ns(&p), SEC);
	assert_int_equal(path_dead_bound_ns(&p), SEC);
	/* Nothing to age, nothing to declare. */
	assert_int_equal(path_tick(&p, 100 * SEC), 0);
	assert_int_equal(path_state(&p), PATH_UNKNOWN);
}

static void
test_probe_due(void **state)
{
	struct path_est p;
	uint64_t t = 7 * SEC;

	(void)state;
	path_est_init(&p, t);
	assert_true(path_probe_due(&p, t));
	assert_int_equal(path_probe_sent(&p, t), 0);
	assert_false(path_probe_due(&p, t));
	assert_false(path_probe_due(&p, t + PATH_PROBE_INTERVAL_NS - 1));
	assert_true(path_probe_due(&p, t + PATH_PROBE_INTERVAL_NS));
	/* Late: the next one is due an interval after this send, not on a grid. */
	assert_int_equal(path_probe_sent(&p, t + 70 * MS), 1);
	assert_false(path_probe_due(&p, t + 119 * MS));
	assert_true(path_probe_due(&p, t + 120 * MS));
	/* A clock before the last send: no time has passed. */
	assert_false(path_probe_due(&p, 0));
	assert_int_equal(metrics(&p).sent, 2);
}

/* RTT and jitter -------------------------------------------------------- */

static void
test_srtt_first_and_step(void **state)
{
	struct path_est p;

	(void)state;
	up_with(&p, 10 * MS);
	assert_int_equal(metrics(&p).rtt_us, 10000);
	assert_int_equal(path_delay_us(&p), 5000);
	assert_int_equal(metrics(&p).jitter_us, 0);
	/* 10 + (30 - 10) / 8 */
	answered(&p, 50 * MS, 30 * MS);
	assert_int_equal(metrics(&p).rtt_us, 12500);
	assert_int_equal(path_delay_us(&p), 6250);
	assert_int_equal(metrics(&p).answered, 2);
	assert_int_equal(metrics(&p).loss_ppm, 0);
}

static void
test_srtt_converges_exactly(void **state)
{
	struct path_est p;
	uint32_t prev = 10000, rtt;
	uint64_t t = 0;
	int i, reached = -1;

	(void)state;
	up_with(&p, 10 * MS);
	/* From below: rises monotonically, never past 30 ms, then exactly 30 ms. */
	for (i = 0; i < 300; i++) {
		t += 50 * MS;
		answered(&p, t, 30 * MS);
		rtt = metrics(&p).rtt_us;
		assert_true(rtt >= prev);
		assert_true(rtt <= 30000);
		if (rtt == 30000 && reached < 0)
			reached = i;
		if (reached >= 0)
			assert_int_equal(rtt, 30000);
		prev = rtt;
	}
	assert_true(reached > 0 && reached < 200);
	assert_int_equal(path_delay_us(&p), 15000);
	assert_int_equal(metrics(&p).jitter_us, 0);	/* every delta 0 after the first */
	/* From above: falls monotonically, never under 5 ms, then exactly 5 ms. */
	for (i = 0; i < 300; i++) {
		t += 50 * MS;
		answered(&p, t, 5 * MS);
		rtt = metrics(&p).rtt_us;
		assert_true(rtt <= prev);
		assert_true(rtt >= 5000);
		prev = rtt;
	}
	assert_int_equal(prev, 5000);
	assert_int_equal(path_delay_us(&p), 2500);
}

static void
test_jitter_alternating(void **state)
{
	struct path_est p;
	struct path_metrics m;
	uint64_t t = 0;
	int i;

	(void)state;
	up_with(&p, 20 * MS);
	answered(&p, t += 50 * MS, 30 * MS);
	/* |30 - 20| / 16 */
	assert_int_equal(metrics(&p).jitter_us, 625);
	answered(&p, t += 50 * MS, 20 * MS);
	/* 625 + (10000 - 625) / 16 = 1210.9 */
	assert_int_equal(metrics(&p).jitter_us, 1210);
	for (i = 0; i < 400; i++)
		answered(&p, t += 50 * MS, i % 2 ? 20 * MS : 30 * MS);
	m = metrics(&p);
	assert_int_equal(m.jitter_us, 10000);
	/* The smoothed RTT hovers between the two. */
	assert_true(m.rtt_us > 20000 && m.rtt_us < 30000);
	/* 2 * srtt + 4 * 10 ms is under both floors. */
	assert_int_equal(path_loss_timeout_ns(&p), SEC);
	assert_int_equal(path_dead_bound_ns(&p), PATH_DEAD_MIN_NS);
}

/* Loss ------------------------------------------------------------------ */

static void
test_loss_k_of_64(void **state)
{
	static const int lost[] = { 3, 17, 30, 44, 63 };
	struct path_est p;
	struct path_metrics m;
	uint32_t seq[64];
	uint64_t t = SEC;
	size_t i, j;
	int skip;

	(void)state;
	path_est_init(&p, t);
	for (i = 0; i < 64; i++) {
		seq[i] = path_probe_sent(&p, t + i * 50 * MS);
		skip = 0;
		for (j = 0; j < sizeof(lost) / sizeof(lost[0]); j++)
			skip |= lost[j] == (int)i;
		if (!skip)
			assert_int_equal(path_probe_reply(&p, seq[i], t + i * 50 * MS,
			    t + i * 50 * MS + 10 * MS), 0);
	}
	path_tick(&p, t + 100 * SEC);
	m = metrics(&p);
	assert_int_equal(m.sent, 64);
	assert_int_equal(m.answered, 59);
	assert_int_equal(m.loss_ppm, 5 * 1000000 / 64);	/* 78125 exactly */
	/* Only one probe went unanswered since the last reply: not dead. */
	assert_int_equal(m.state, PATH_UP);
}

static void
test_loss_window_slides(void **state)
{
	struct path_est p;
	uint64_t t = 0;
	int i;

	(void)state;
	path_est_init(&p, 0);
	for (i = 0; i < 64; i++)
		answered(&p, t += 50 * MS, 10 * MS);
	for (i = 0; i < 5; i++)
		path_probe_sent(&p, t += 50 * MS);
	path_tick(&p, t += 2 * SEC);
	assert_int_equal(metrics(&p).loss_ppm, 5 * 15625);
	/* 64 newest fates: n answered, the 5 lost, 59 - n old answered. */
	for (i = 1; i <= 64; i++) {
		answered(&p, t += 50 * MS, 10 * MS);
		if (i <= 59)
			assert_int_equal(metrics(&p).loss_ppm, 5 * 15625);
		else
			assert_int_equal(metrics(&p).loss_ppm, (64 - i) * 15625);
	}
	assert_int_equal(metrics(&p).loss_ppm, 0);
	/* All lost: a million. */
	for (i = 0; i < 64; i++)
		path_probe_sent(&p, t += 50 * MS);
	path_tick(&p, t + 2 * SEC);
	assert_int_equal(metrics(&p).loss_ppm, 1000000);
}

static void
test_loss_timeout_exact(void **state)
{
	struct path_est p, q;
	uint32_t seq;
	uint64_t t;

	(void)state;
	/* Unmeasured: 1 s. */
	path_est_init(&p, 0);
	seq = path_probe_sent(&p, 0);
	path_tick(&p, SEC - 1);
	assert_int_equal(metrics(&p).loss_ppm, 0);
	q = p;
	assert_int_equal(path_probe_reply(&q, seq, 0, SEC - 1), 0);	/* just in time */
	path_tick(&p, SEC);
	assert_int_equal(metrics(&p).loss_ppm, 1000000);
	/* Its echo now is stale: no sample, but the path is UP. */
	assert_int_equal(path_probe_reply(&p, seq, 0, SEC), -1);
	assert_int_equal(metrics(&p).rtt_us, 0);
	assert_int_equal(metrics(&p).answered, 0);
	assert_int_equal(path_state(&p), PATH_UP);

	/* srtt 600 ms: 2 * 600 ms = 1.2 s is above the 1 s floor. */
	up_with(&p, 600 * MS);
	assert_int_equal(path_loss_timeout_ns(&p), 1200 * MS);
	t = 700 * MS;
	seq = path_probe_sent(&p, t);
	path_tick(&p, t + 1200 * MS - 1);
	assert_int_equal(metrics(&p).loss_ppm, 0);
	/* A reply at the timeout is stale even if no tick ran in between. */
	q = p;
	assert_int_equal(path_probe_reply(&q, seq, t, t + 1200 * MS), -1);
	assert_int_equal(metrics(&q).loss_ppm, 500000);
	assert_int_equal(metrics(&q).answered, 1);
	path_tick(&p, t + 1200 * MS);
	assert_int_equal(metrics(&p).loss_ppm, 500000);
}

/* State ----------------------------------------------------------------- */

static void
test_dead_exact(void **state)
{
	struct path_est p;

	(void)state;
	/* srtt 20 ms, jitter 0: the bound is the 250 ms floor from the reply at 20 ms. */
	up_with(&p, 20 * MS);
	assert_int_equal(path_dead_bound_ns(&p), PATH_DEAD_MIN_NS);
	path_probe_sent(&p, 50 * MS);
	path_probe_sent(&p, 100 * MS);
	path_probe_sent(&p, 150 * MS);
	assert_int_equal(path_tick(&p, 270 * MS - 1), 0);
	assert_int_equal(path_state(&p), PATH_UP);
	assert_int_equal(path_tick(&p, 270 * MS), 1);
	assert_int_equal(path_state(&p), PATH_DEAD);
	assert_int_equal(path_tick(&p, 271 * MS), 0);
	assert_int_equal(path_tick(&p, 100 * SEC), 0);
	assert_int_equal(path_state(&p), PATH_DEAD);
}

static void
test_dead_needs_three_probes(void **state)
{
	struct path_est p;

	(void)state;
	up_with(&p, 20 * MS);
	path_probe_sent(&p, 50 * MS);
	path_probe_sent(&p, 100 * MS);
	/* Long past the bound, but only two probes unanswered: maybe we just did not ask. */
	assert_int_equal(path_tick(&p, 10 * SEC), 0);
	assert_int_equal(path_state(&p), PATH_UP);
	assert_int_equal(metrics(&p).loss_ppm, 2 * 1000000 / 3);
	path_probe_sent(&p, 10 * SEC);
	assert_int_equal(path_tick(&p, 10 * SEC), 1);
	assert_int_equal(path_state(&p), PATH_DEAD);
}

static void
test_dead_bound_measured(void **state)
{
	struct path_est p;
	uint64_t last = 0;

	(void)state;
	/* 200 then 360 ms: srtt 220 ms, jitter 160 / 16 = 10 ms; 2 * 220 + 4 * 10 = 480 ms. */
	up_with(&p, 200 * MS);
	answered(&p, 50 * MS, 360 * MS);
	last = 410 * MS;
	assert_int_equal(metrics(&p).rtt_us, 220000);
	assert_int_equal(metrics(&p).jitter_us, 10000);
	assert_int_equal(path_dead_bound_ns(&p), 480 * MS);
	path_probe_sent(&p, 450 * MS);
	path_probe_sent(&p, 500 * MS);
	path_probe_sent(&p, 550 * MS);
	assert_int_equal(path_tick(&p, last + 480 * MS - 1), 0);
	assert_int_equal(path_tick(&p, last + 480 * MS), 1);
	assert_int_equal(path_state(&p), PATH_DEAD);
}

static void
test_dead_unmeasured(void **state)
{
	struct path_est p;

	(void)state;
	/* Never answered: 1 s from init (no RTT to size the bound by). */
	path_est_init(&p, 3 * SEC);
	path_probe_sent(&p, 3 * SEC);
	path_probe_sent(&p, 3 * SEC + 50 * MS);
	path_probe_sent(&p, 3 * SEC + 100 * MS);
	assert_int_equal(path_tick(&p, 4 * SEC - 1), 0);
	assert_int_equal(path_state(&p), PATH_UNKNOWN);
	assert_int_equal(path_tick(&p, 4 * SEC), 1);
	assert_int_equal(path_state(&p), PATH_DEAD);
}

static void
test_recovery(void **state)
{
	struct path_est p;
	struct path_metrics m;
	uint32_t a, b, c;

	(void)state;
	up_with(&p, 20 * MS);
	a = path_probe_sent(&p, 50 * MS);
	path_probe_sent(&p, 100 * MS);
	path_probe_sent(&p, 150 * MS);
	assert_int_equal(path_tick(&p, 300 * MS), 1);
	assert_int_equal(path_state(&p), PATH_DEAD);
	/* A probe still outstanding is answered: UP, and a sample. */
	assert_int_equal(path_probe_reply(&p, a, 50 * MS, 310 * MS), 0);
	assert_int_equal(path_state(&p), PATH_UP);
	m = metrics(&p);
	assert_int_equal(m.answered, 2);
	assert_int_equal(m.rtt_us, 20000 + (260000 - 20000) / 8);
	assert_int_equal(path_tick(&p, 320 * MS), 0);
	assert_int_equal(path_state(&p), PATH_UP);

	/* Dead again, its probes lost; then a late echo of a lost one revives it. */
	b = path_probe_sent(&p, 400 * MS);
	c = path_probe_sent(&p, 450 * MS);
	path_probe_sent(&p, 500 * MS);
	assert_int_equal(path_tick(&p, 5 * SEC), 1);
	assert_int_equal(path_state(&p), PATH_DEAD);
	m = metrics(&p);
	assert_int_equal(path_probe_reply(&p, b, 400 * MS, 5 * SEC + 1), -1);
	assert_int_equal(path_state(&p), PATH_UP);
	assert_int_equal(metrics(&p).rtt_us, m.rtt_us);	/* no sample */
	assert_int_equal(metrics(&p).answered, m.answered);
	assert_int_equal(metrics(&p).loss_ppm, m.loss_ppm);	/* still lost */
	/* Its duplicate does nothing more. */
	assert_int_equal(path_probe_reply(&p, b, 400 * MS, 5 * SEC + 2), -1);
	/* The clock restarts from the late echo: dead again only after bound and 3 probes. */
	assert_int_equal(path_tick(&p, 6 * SEC), 0);
	path_probe_sent(&p, 6 * SEC);
	path_probe_sent(&p, 6 * SEC);
	path_probe_sent(&p, 6 * SEC);
	assert_int_equal(path_tick(&p, 6 * SEC), 1);
	/* Another late echo, from DEAD. */
	assert_int_equal(path_probe_reply(&p, c, 450 * MS, 7 * SEC), -1);
	assert_int_equal(path_state(&p), PATH_UP);
}

/* Echoes that must be refused ------------------------------------------------ */

static void
test_forged_echo(void **state)
{
	struct path_est p, before;
	uint32_t seq;

	(void)state;
	path_est_init(&p, 0);
	seq = path_probe_sent(&p, 100 * MS);
	before = p;
	/* Wrong timestamp by one ns either way, unknown seqs, an echo before the probe. */
	assert_int_equal(path_probe_reply(&p, seq, 100 * MS + 1, 120 * MS), -1);
	assert_int_equal(path_probe_reply(&p, seq, 100 * MS - 1, 120 * MS), -1);
	assert_int_equal(path_probe_reply(&p, seq, 0, 120 * MS), -1);
	assert_int_equal(path_probe_reply(&p, seq + 1, 100 * MS, 120 * MS), -1);
	assert_int_equal(path_probe_reply(&p, seq + PATH_WINDOW, 100 * MS, 120 * MS), -1);
	assert_int_equal(path_probe_reply(&p, seq - PATH_WINDOW, 100 * MS, 120 * MS), -1);
	assert_int_equal(path_probe_reply(&p, UINT32_MAX, 100 * MS, 120 * MS), -1);
	assert_int_equal(path_probe_reply(&p, seq, 100 * MS, 100 * MS - 1), -1);
	/* Nothing changed. */
	assert_memory_equal(&p, &before, sizeof(p));
	/* The genuine one, once. */
	assert_int_equal(path_probe_reply(&p, seq, 100 * MS, 120 * MS), 0);
	assert_int_equal(path_probe_reply(&p, seq, 100 * MS, 121 * MS), -1);
	assert_int_equal(metrics(&p).answered, 1);
	assert_int_equal(metrics(&p).rtt_us, 20000);
	/* An RTT of 0 (same ns) is a sample, not "unknown". */
	seq = path_probe_sent(&p, 200 * MS);
	assert_int_equal(path_probe_reply(&p, seq, 200 * MS, 200 * MS), 0);
}

static void
test_forged_echo_no_revival(void **state)
{
	struct path_est p;
	uint32_t seq;

	(void)state;
	up_with(&p, 20 * MS);
	seq = path_probe_sent(&p, 50 * MS);
	path_probe_sent(&p, 100 * MS);
	path_probe_sent(&p, 150 * MS);
	path_tick(&p, 300 * MS);
	assert_int_equal(path_state(&p), PATH_DEAD);
	assert_int_equal(path_probe_reply(&p, seq, 51 * MS, 310 * MS), -1);
	assert_int_equal(path_probe_reply(&p, seq + 7, 50 * MS, 310 * MS), -1);
	assert_int_equal(path_state(&p), PATH_DEAD);
	assert_int_equal(path_tick(&p, 320 * MS), 0);
}

/* Sequence numbers and the ring ---------------------------------------------- */

static void
test_seq_wrap(void **state)
{
	struct path_est p;
	uint32_t seq[40];
	uint64_t t;
	int i;

	(void)state;
	path_est_init(&p, 0);
	p.next_seq = UINT32_MAX - 19;
	for (i = 0; i < 40; i++)
		seq[i] = path_probe_sent(&p, (uint64_t)i * MS);
	assert_int_equal(seq[19], UINT32_MAX);
	assert_int_equal(seq[20], 0);
	/* Answered in reverse order, across the wrap. */
	for (i = 39; i >= 0; i--)
		assert_int_equal(path_probe_reply(&p, seq[i], (uint64_t)i * MS, 45 * MS), 0);
	assert_int_equal(metrics(&p).answered, 40);
	assert_int_equal(metrics(&p).loss_ppm, 0);
	for (i = 0; i < 40; i++)
		assert_int_equal(path_probe_reply(&p, seq[i], (uint64_t)i * MS, 46 * MS), -1);
	/* A full window later the pre-wrap seqs are gone. */
	t = 100 * MS;
	for (i = 0; i < PATH_WINDOW; i++)
		answered(&p, t += MS, MS / 2);
	assert_int_equal(path_probe_reply(&p, seq[0], 0, t), -1);
	assert_int_equal(path_probe_reply(&p, seq[39], 39 * MS, t), -1);
}

static void
test_ring_full(void **state)
{
	struct path_est p;
	uint32_t seq[70];
	int i;

	(void)state;
	path_est_init(&p, 0);
	/* Faster than the interval, unanswered: the 65th send needs the first one's slot. */
	for (i = 0; i < 70; i++)
		seq[i] = path_probe_sent(&p, (uint64_t)i * MS);
	assert_int_equal(metrics(&p).loss_ppm, 1000000);	/* 6 of 6 known */
	for (i = 0; i < 6; i++)
		assert_int_equal(path_probe_reply(&p, seq[i], (uint64_t)i * MS, 80 * MS), -1);
	assert_int_equal(path_state(&p), PATH_UNKNOWN);
	assert_int_equal(path_probe_reply(&p, seq[6], 6 * MS, 80 * MS), 0);
	assert_int_equal(metrics(&p).loss_ppm, 6 * 1000000 / 7);
	assert_int_equal(metrics(&p).sent, 70);
}

/* Reset and absurd inputs ------------------------------------------------------ */

static void
test_reset(void **state)
{
	struct path_est p;
	struct path_metrics m;
	uint32_t old, seq;

	(void)state;
	up_with(&p, 20 * MS);
	answered(&p, 50 * MS, 30 * MS);
	path_probe_sent(&p, 100 * MS);
	path_tick(&p, 2 * SEC);
	old = path_probe_sent(&p, 2 * SEC);
	assert_true(metrics(&p).loss_ppm > 0);

	path_reset(&p, 3 * SEC);
	m = metrics(&p);
	assert_int_equal(m.state, PATH_UNKNOWN);
	assert_int_equal(m.rtt_us, 0);
	assert_int_equal(m.jitter_us, 0);
	assert_int_equal(m.loss_ppm, 0);
	assert_int_equal(path_delay_us(&p), 0);
	assert_int_equal(m.sent, 4);	/* counters only grow */
	assert_int_equal(m.answered, 2);
	assert_true(path_probe_due(&p, 3 * SEC));
	/* An echo of a probe from before the reset is unknown. */
	assert_int_equal(path_probe_reply(&p, old, 2 * SEC, 3 * SEC), -1);
	assert_int_equal(path_state(&p), PATH_UNKNOWN);
	/* Sequence goes on; a first sample after the reset sets srtt. */
	seq = path_probe_sent(&p, 3 * SEC);
	assert_int_equal(seq, old + 1);
	assert_int_equal(path_probe_reply(&p, seq, 3 * SEC, 3 * SEC + 80 * MS), 0);
	assert_int_equal(metrics(&p).rtt_us, 80000);
	assert_int_equal(metrics(&p).loss_ppm, 0);
	assert_int_equal(path_state(&p), PATH_UP);
	/* Dead time counts from the reset when nothing came since. */
	path_reset(&p, 10 * SEC);
	path_probe_sent(&p, 10 * SEC);
	path_probe_sent(&p, 10 * SEC);
	path_probe_sent(&p, 10 * SEC);
	assert_int_equal(path_tick(&p, 11 * SEC - 1), 0);
	assert_int_equal(path_tick(&p, 11 * SEC), 1);
}

static void
test_absurd_times(void **state)
{
	struct path_est p;
	uint32_t seq;

	(void)state;
	up_with(&p, 20 * MS);
	seq = path_probe_sent(&p, 50 * SEC);
	/* A clock from before everything: nothing ages, nothing dies. */
	assert_int_equal(path_tick(&p, 0), 0);
	assert_int_equal(metrics(&p).loss_ppm, 0);
	/* An echo claiming a future send time is not ours. */
	assert_int_equal(path_probe_reply(&p, seq, 60 * SEC, 50 * SEC + MS), -1);
	assert_int_equal(path_probe_reply(&p, seq, 50 * SEC, 49 * SEC), -1);
	assert_int_equal(path_probe_reply(&p, seq, UINT64_MAX, 50 * SEC + MS), -1);
	assert_int_equal(path_probe_reply(&p, seq, 50 * SEC, 50 * SEC + 5 * MS), 0);
	/* The end of time: everything outstanding is lost, no overflow. */
	path_probe_sent(&p, 51 * SEC);
	path_probe_sent(&p, 52 * SEC);
	path_probe_sent(&p, 53 * SEC);
	assert_int_equal(path_tick(&p, UINT64_MAX), 1);
	assert_int_equal(path_state(&p), PATH_DEAD);
	assert_int_equal(metrics(&p).loss_ppm, 3 * 1000000 / 5);
	/* A sub-microsecond RTT still reads as measured. */
	up_with(&p, 300);
	assert_int_equal(metrics(&p).rtt_us, 1);
	assert_int_equal(path_delay_us(&p), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_probe_due),
		cmocka_unit_test(test_srtt_first_and_step),
		cmocka_unit_test(test_srtt_converges_exactly),
		cmocka_unit_test(test_jitter_alternating),
		cmocka_unit_test(test_loss_k_of_64),
		cmocka_unit_test(test_loss_window_slides),
		cmocka_unit_test(test_loss_timeout_exact),
		cmocka_unit_test(test_dead_exact),
		cmocka_unit_test(test_dead_needs_three_probes),
		cmocka_unit_test(test_dead_bound_measured),
		cmocka_unit_test(test_dead_unmeasured),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_forged_echo),
		cmocka_unit_test(test_forged_echo_no_revival),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_ring_full),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_absurd_times),
	};
	return cmocka_run_group_tests_name("pathmon", tests, NULL, NULL);
}
