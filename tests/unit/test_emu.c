/*
 * Link emulation (hal/emu.h), all on an injected clock, so every figure is
 * exact or a statistical bound: the profiles and the range checks; the
 * flap pattern (parse, format, state over time) and durations; the queue's
 * model step by step: the rate over ten thousand frames with no drift, the
 * bottleneck queue refusing exactly what the model says and passing
 * exactly the rate, the delay, the jitter's mean and spread (the truncated
 * normal's), never negative and never reordered, the loss rate, the same
 * results from the same seed, the slot grid, live changes, the memory ring
 * full and wrapping (data checked byte for byte), and the flush.
 */
#include <inttypes.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hal/emu.h"

#define MS 1000000ULL			/* ns */
#define SEC 1000000000ULL		/* ns */
#define US 1000ULL			/* ns */

/* Helpers ------------------------------------------------------------- */

static uint64_t
xorshift64(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static struct emu_queue *
queue_with(size_t cap, const struct emu_dir *d, uint64_t seed)
{
	struct emu_queue *q = emu_queue_new(cap);

	assert_non_null(q);
	emu_queue_set(q, d, seed);
	return q;
}

/* Offer one frame to an empty queue and take it out: its departure. */
static uint64_t
push_one(struct emu_queue *q, uint64_t now, uint32_t wire_len)
{
	static const uint8_t frame[64];
	uint64_t depart;

	assert_int_equal(emu_queue_next_ns(q), UINT64_MAX);
	assert_int_equal(emu_queue_push(q, now, frame, sizeof(frame), wire_len, NULL), EMU_QUEUED);
	depart = emu_queue_next_ns(q);
	assert_null(emu_queue_peek(q, depart - 1, NULL, NULL));
	assert_non_null(emu_queue_peek(q, depart, NULL, NULL));
	emu_queue_pop(q);
	return depart;
}

/* Field by field: the struct has padding. */
static int
flap_equal(const struct emu_flap *a, const struct emu_flap *b)
{
	return a->down_us == b->down_us && a->up_us == b->up_us && a->count == b->count;
}

/* Profiles and parameters ------------------------------------------------ */

static void
test_profiles(void **state)
{
	struct emu_params p;
	size_t i;
	char err[128];

	(void)state;
	assert_int_equal(EMU_NPROFILES, 7);
	for (i = 0; emu_profile_name(i) != NULL; i++) {
		memset(&p, 0xa5, sizeof(p));
		p.seed = 42;
		assert_int_equal(emu_profile_find(emu_profile_name(i), &p), 0);
		assert_int_equal(p.seed, 42);
		assert_int_equal(emu_dir_check(&p.egress, err, sizeof(err)), 0);
		assert_int_equal(emu_dir_check(&p.ingress, err, sizeof(err)), 0);
		assert_int_equal(p.egress.queue_kb, 0);
		if (i == 0) {
			assert_string_equal(emu_profile_name(i), "off");
			assert_string_equal(p.profile, "");
			assert_false(emu_dir_active(&p.egress));
			assert_false(emu_dir_active(&p.ingress));
		} else {
			assert_string_equal(p.profile, emu_profile_name(i));
			assert_true(emu_dir_active(&p.egress));
			assert_true(emu_dir_active(&p.ingress));
			/* Same both ways but the rate. */
			assert_int_equal(p.egress.delay_us, p.ingress.delay_us);
			assert_int_equal(p.egress.jitter_us, p.ingress.jitter_us);
			assert_int_equal(p.egress.loss_ppm, p.ingress.loss_ppm);
			assert_int_equal(p.egress.slot_us, p.ingress.slot_us);
		}
	}
	assert_int_equal(i, EMU_NPROFILES);
	assert_null(emu_profile_name(EMU_NPROFILES));
	assert_null(emu_profile_name(SIZE_MAX));

	assert_int_equal(emu_profile_find("lte", &p), 0);
	assert_int_equal(p.egress.rate_kbps, 10000);
	assert_int_equal(p.ingress.rate_kbps, 30000);
	assert_int_equal(p.egress.delay_us, 20000);
	assert_int_equal(p.egress.jitter_us, 5000);
	assert_int_equal(p.egress.loss_ppm, 1000);
	assert_int_equal(p.egress.slot_us, 1000);
	assert_int_equal(emu_profile_find("5g", &p), 0);
	assert_int_equal(p.ingress.rate_kbps, 200000);
	assert_int_equal(p.egress.slot_us, 500);
	assert_int_equal(p.egress.loss_ppm, 500);
	assert_int_equal(emu_profile_find("satellite-geo", &p), 0);
	assert_int_equal(p.egress.rate_kbps, 5000);
	assert_int_equal(p.ingress.delay_us, 280000);
	assert_int_equal(p.ingress.loss_ppm, 5000);
	assert_int_equal(emu_profile_find("ethernet", &p), 0);
	assert_int_equal(p.egress.rate_kbps, 1000000);
	assert_int_equal(p.egress.delay_us, 50);
	assert_int_equal(p.egress.loss_ppm, 0);

	/* "off" clears what was there. */
	assert_int_equal(emu_profile_find("off", &p), 0);
	assert_string_equal(p.profile, "");
	assert_int_equal(p.egress.rate_kbps, 0);
	assert_int_equal(p.ingress.delay_us, 0);

	memset(&p, 0x5a, sizeof(p));
	assert_int_equal(emu_profile_find("", &p), -1);
	assert_int_equal(emu_profile_find("LTE", &p), -1);
	assert_int_equal(emu_profile_find("4g", &p), -1);
	assert_int_equal(emu_profile_find("lte ", &p), -1);
	assert_int_equal(emu_profile_find("custom", &p), -1);
	assert_int_equal(emu_profile_find(NULL, &p), -1);
	assert_int_equal((uint8_t)p.profile[0], 0x5a);	/* untouched */
}

/* Set one field of *d to max (taken) and max + 1 (refused, named), then back to 0. */
static void
check_bound(const char *field, struct emu_dir *d, uint64_t *f64, uint32_t *f32, uint64_t max)
{
	char err[128];

	if (f64 != NULL)
		*f64 = max;
	else
		*f32 = (uint32_t)max;
	err[0] = '\0';
	if (emu_dir_check(d, err, sizeof(err)) != 0)
		fail_msg("%s %" PRIu64 " refused: %s", field, max, err);
	if (f64 != NULL)
		*f64 = max + 1;
	else
		*f32 = (uint32_t)(max + 1);
	assert_int_equal(emu_dir_check(d, err, sizeof(err)), -1);
	if (strncmp(err, field, strlen(field)) != 0 || strstr(err, "is over") == NULL)
		fail_msg("%s: message \"%s\"", field, err);
	assert_int_equal(emu_dir_check(d, NULL, 0), -1);
	if (f64 != NULL)
		*f64 = 0;
	else
		*f32 = 0;
	assert_int_equal(emu_dir_check(d, err, sizeof(err)), 0);
}

static void
test_dir_check(void **state)
{
	struct emu_dir d;
	char err[128];

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_int_equal(emu_dir_check(&d, err, sizeof(err)), 0);	/* rate 0: unlimited */
	check_bound("rate_kbps", &d, &d.rate_kbps, NULL, 100000000);
	check_bound("delay_us", &d, NULL, &d.delay_us, 10000000);
	check_bound("jitter_us", &d, NULL, &d.jitter_us, 5000000);
	check_bound("loss_ppm", &d, NULL, &d.loss_ppm, 1000000);
	check_bound("slot_us", &d, NULL, &d.slot_us, 1000000);
	check_bound("queue_kb", &d, NULL, &d.queue_kb, 262144);

	d.loss_ppm = 1200000;
	assert_int_equal(emu_dir_check(&d, err, sizeof(err)), -1);
	assert_string_equal(err, "loss_ppm 1200000 is over 1000000 (100%)");
	d.loss_ppm = 0;
	/* A short buffer is cut, not overrun. */
	d.delay_us = 10000001;
	memset(err, 'x', sizeof(err));
	assert_int_equal(emu_dir_check(&d, err, 8), -1);
	assert_int_equal(strlen(err), 7);
	assert_int_equal(err[8], 'x');
	/* Jitter over the delay is allowed. */
	d.delay_us = 1000;
	d.jitter_us = 5000;
	assert_int_equal(emu_dir_check(&d, err, sizeof(err)), 0);
}

static void
test_dir_active(void **state)
{
	struct emu_dir d;

	(void)state;
	memset(&d, 0, sizeof(d));
	assert_false(emu_dir_active(&d));
	d.queue_kb = 100;
	assert_false(emu_dir_active(&d));
	d.rate_kbps = 1;
	assert_true(emu_dir_active(&d));
	memset(&d, 0, sizeof(d));
	d.delay_us = 1;
	assert_true(emu_dir_active(&d));
	memset(&d, 0, sizeof(d));
	d.jitter_us = 1;
	assert_true(emu_dir_active(&d));
	memset(&d, 0, sizeof(d));
	d.loss_ppm = 1;
	assert_true(emu_dir_active(&d));
	memset(&d, 0, sizeof(d));
	d.slot_us = 1;
	assert_true(emu_dir_active(&d));
}

/* Durations and the flap pattern ----------------------------------------- */

static void
test_duration_parse(void **state)
{
	static const struct {
		const char *s;
		uint64_t us;
	} good[] = {
		{ "250us", 250 }, { "1.5ms", 1500 }, { "2s", 2000000 }, { "0s", 0 },
		{ "0us", 0 }, { "2.5s", 2500000 }, { "0.000001s", 1 }, { "0.001ms", 1 },
		{ "1.000000000000000000000s", 1000000 }, { "007ms", 7000 },
		{ "3600s", 3600000000ULL }, { "0.1s", 100000 },
		{ "18446744073709551615us", UINT64_MAX },
		{ "18446744073709.551615s", UINT64_MAX },
	};
	static const char *bad[] = {
		"", "s", "ms", "1", "1.s", ".5s", "-1s", "+1s", " 1s", "1s ", "1 s",
		"1h", "1m", "1min", "1S", "1Ms", "1e3us", "0.5us", "1.0000005ms",
		"0.0000001s", "1.5.1s", "1,5s", "18446744073709551616us",
		"18446744073709552s", "99999999999999999999999s", "1us1",
	};
	uint64_t us;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		us = 12345;
		if (emu_duration_parse(good[i].s, &us) != 0 || us != good[i].us)
			fail_msg("\"%s\": got %" PRIu64 ", want %" PRIu64, good[i].s, us, good[i].us);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		us = 12345;
		if (emu_duration_parse(bad[i], &us) != -1 || us != 12345)
			fail_msg("\"%s\" was taken (%" PRIu64 ")", bad[i], us);
	}
	assert_int_equal(emu_duration_parse(NULL, &us), -1);
}

static void
test_flap_parse(void **state)
{
	static const struct {
		const char *s;
		uint64_t down, up;
		uint32_t count;
	} good[] = {
		{ "down=200ms,up=800ms", 200000, 800000, 0 },
		{ "down=1s,up=2.5s,count=5", 1000000, 2500000, 5 },
		{ "count=3,up=1us,down=3600s", 3600000000ULL, 1, 3 },
		{ "up=1s,count=0,down=1s", 1000000, 1000000, 0 },
		{ "down=3600000ms,up=3600000000us,count=4294967295", 3600000000ULL,
		  3600000000ULL, 4294967295U },
	};
	static const struct {
		const char *s, *why;
	} bad[] = {
		{ "down=200ms", "up is missing" },
		{ "up=200ms", "down is missing" },
		{ "count=2", "down is missing" },
		{ "down=0ms,up=1s", "down must be more than 0" },
		{ "down=1s,up=0s", "up must be more than 0" },
		{ "down=-200ms,up=1s", "down \"-200ms\": not a decimal number" },
		{ "down=1s,up=-1s", "up \"-1s\"" },
		{ "down=1s,up=1s,bogus=3", "unknown key \"bogus\"" },
		{ "=1s,down=1s,up=1s", "unknown key \"\"" },
		{ "Down=1s,up=1s", "unknown key \"Down\"" },
		{ "down=1s,down=2s,up=1s", "down is given twice" },
		{ "down=1s,up=1s,up=1s", "up is given twice" },
		{ "down=1s,up=1s,count=1,count=2", "count is given twice" },
		{ "down=200m,up=1s", "unknown unit \"m\"" },
		{ "down=1s,up=1h", "unknown unit \"h\"" },
		{ "down=200,up=1s", "no unit" },
		{ "down=0.5us,up=1s", "finer than 1 us" },
		{ "garbage", "\"garbage\" is not key=value" },
		{ "down=1s;up=1s", "down \"1s;up=1s\"" },
		{ "", "empty" },
		{ "down=1s,up=1s,", "empty item" },
		{ "down=1s,,up=1s", "empty item" },
		{ ",down=1s,up=1s", "empty item" },
		{ "down=3601s,up=1s", "down \"3601s\" is over 1 hour" },
		{ "down=1s,up=3600.000001s", "up \"3600.000001s\" is over 1 hour" },
		{ "down=1s,up=1s,count=x", "count \"x\" is not a whole number" },
		{ "down=1s,up=1s,count=", "count \"\" is not a whole number" },
		{ "down=1s,up=1s,count=-1", "count \"-1\"" },
		{ "down=1s,up=1s,count=4294967296", "count \"4294967296\"" },
		{ "down=1s,up=1s,count=5 ", "count \"5 \"" },
		{ "down=,up=1s", "down \"\"" },
		{ "down=1s,up=99999999999999999999999999999999999999999999999999999999999999999999s",
		  "too long" },
	};
	struct emu_flap f, sentinel = { 7, 7, 7 };
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		f = sentinel;
		if (emu_flap_parse(good[i].s, &f, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", good[i].s, err);
		assert_int_equal(f.down_us, good[i].down);
		assert_int_equal(f.up_us, good[i].up);
		assert_int_equal(f.count, good[i].count);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = sentinel;
		err[0] = '\0';
		if (emu_flap_parse(bad[i].s, &f, err, sizeof(err)) != -1)
			fail_msg("\"%s\" was taken", bad[i].s);
		if (strstr(err, bad[i].why) == NULL)
			fail_msg("\"%s\": message \"%s\", want \"%s\"", bad[i].s, err, bad[i].why);
		assert_true(flap_equal(&f, &sentinel));
	}
	assert_int_equal(emu_flap_parse(NULL, &f, NULL, 0), -1);
	assert_int_equal(emu_flap_parse("down=1s", &f, NULL, 0), -1);
}

static void
test_flap_format(void **state)
{
	static const struct {
		struct emu_flap f;
		const char *s;
	} canon[] = {
		{ { 200000, 800000, 5 }, "down=200ms,up=800ms,count=5" },
		{ { 200000, 800000, 0 }, "down=200ms,up=800ms" },
		{ { 1000000, 2500000, 0 }, "down=1s,up=2500ms" },
		{ { 1, 3600000000ULL, 4294967295U }, "down=1us,up=3600s,count=4294967295" },
		{ { 1001, 60000000, 1 }, "down=1001us,up=60s,count=1" },
	};
	struct emu_flap f, g;
	uint64_t seed = 0x1234567;
	char buf[128], err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(canon) / sizeof(canon[0]); i++) {
		assert_int_equal(emu_flap_format(&canon[i].f, buf, sizeof(buf)),
		    (int)strlen(canon[i].s));
		assert_string_equal(buf, canon[i].s);
		assert_int_equal(emu_flap_parse(buf, &g, err, sizeof(err)), 0);
		assert_true(flap_equal(&g, &canon[i].f));
	}
	/* Random valid patterns, each unit's edge included. */
	for (i = 0; i < 20000; i++) {
		static const uint64_t scale[] = { 1, 1000, 1000000 };

		f.down_us = 1 + xorshift64(&seed) % 3600 * scale[i % 3] % EMU_FLAP_MAX_US;
		f.up_us = 1 + xorshift64(&seed) % EMU_FLAP_MAX_US;
		f.count = (uint32_t)(i % 2 ? xorshift64(&seed) : 0);
		assert_true(emu_flap_format(&f, buf, sizeof(buf)) > 0);
		if (emu_flap_parse(buf, &g, err, sizeof(err)) != 0)
			fail_msg("\"%s\": %s", buf, err);
		if (!flap_equal(&f, &g))
			fail_msg("\"%s\" came back different", buf);
	}
	/* Too small a buffer: -1 and an empty string, never a cut text. */
	f = canon[0].f;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(emu_flap_format(&f, buf, strlen(canon[0].s)), -1);
	assert_string_equal(buf, "");
	assert_int_equal(emu_flap_format(&f, buf, strlen(canon[0].s) + 1),
	    (int)strlen(canon[0].s));
	assert_int_equal(emu_flap_format(&f, NULL, 0), -1);
}

static void
test_flap_state(void **state)
{
	const uint64_t start = 10 * SEC;
	struct emu_flap f = { 200000, 800000, 2 };	/* 200 ms down, 800 ms up, twice */
	uint64_t next, now;
	int up, want, changes;

	(void)state;
	assert_int_equal(emu_flap_state(&f, start, 5 * SEC, &next), 1);
	assert_int_equal(next, start);
	assert_int_equal(emu_flap_state(&f, start, start - 1, &next), 1);
	assert_int_equal(next, start);
	assert_int_equal(emu_flap_state(&f, start, start, &next), 0);
	assert_int_equal(next, start + 200 * MS);
	assert_int_equal(emu_flap_state(&f, start, start + 200 * MS - 1, &next), 0);
	assert_int_equal(next, start + 200 * MS);
	assert_int_equal(emu_flap_state(&f, start, start + 200 * MS, &next), 1);
	assert_int_equal(next, start + 1000 * MS);
	assert_int_equal(emu_flap_state(&f, start, start + 1000 * MS, &next), 0);
	assert_int_equal(next, start + 1200 * MS);
	/* After the second outage: up for good. */
	assert_int_equal(emu_flap_state(&f, start, start + 1200 * MS, &next), 1);
	assert_int_equal(next, UINT64_MAX);
	assert_int_equal(emu_flap_state(&f, start, start + 2000 * MS, &next), 1);
	assert_int_equal(next, UINT64_MAX);
	assert_int_equal(emu_flap_state(&f, start, start + 1000000 * SEC, NULL), 1);

	/* No end: still flapping a thousand periods on. */
	f.count = 0;
	now = start + 1000 * SEC + 100 * MS;
	assert_int_equal(emu_flap_state(&f, start, now, &next), 0);
	assert_int_equal(next, start + 1000 * SEC + 200 * MS);
	assert_int_equal(emu_flap_state(&f, start, now + 500 * MS, &next), 1);
	assert_int_equal(next, start + 1001 * SEC);

	/* Follow next_ns: count 3 makes exactly 6 changes, alternating. */
	f.count = 3;
	now = 0;
	want = 1;
	changes = 0;
	for (;;) {
		up = emu_flap_state(&f, start, now, &next);
		assert_int_equal(up, want);
		if (next == UINT64_MAX)
			break;
		assert_true(next > now);
		/* The state holds up to the instant before next. */
		assert_int_equal(emu_flap_state(&f, start, next - 1, NULL), up);
		now = next;
		want = !want;
		changes++;
	}
	assert_int_equal(changes, 6);
	assert_int_equal(now, start + 2 * SEC + 200 * MS);

	/* Degenerate patterns parse would refuse. */
	f.down_us = 0;
	f.up_us = 1000;
	assert_int_equal(emu_flap_state(&f, start, start, &next), 1);
	assert_int_equal(next, UINT64_MAX);
	assert_int_equal(emu_flap_state(&f, start, 0, &next), 1);
	assert_int_equal(next, UINT64_MAX);
	f.down_us = 1000;
	f.up_us = 0;
	f.count = 0;
	assert_int_equal(emu_flap_state(&f, start, start + 1000 * SEC, &next), 0);
	assert_int_equal(next, UINT64_MAX);
	f.count = 4;
	assert_int_equal(emu_flap_state(&f, start, start + 3 * MS, &next), 0);
	assert_int_equal(next, start + 4 * MS);
	assert_int_equal(emu_flap_state(&f, start, start + 4 * MS, &next), 1);
	assert_int_equal(next, UINT64_MAX);
}

/* The queue: rate --------------------------------------------------------- */

static void
test_rate_no_drift(void **state)
{
	const uint64_t t0 = 1 * SEC, rate = 7000;	/* 1142857.142857... ns per frame */
	const uint32_t n = 10000, len = 1000, wire = 1000;
	struct emu_dir d = { .rate_kbps = rate, .queue_kb = 16384 };
	struct emu_queue *q = queue_with(16 << 20, &d, 1);
	static uint8_t frame[1000];
	struct emu_counters c;
	uint64_t depart, want, t;
	double exact;
	uint32_t i;

	(void)state;
	for (i = 0; i < n; i++)
		assert_int_equal(emu_queue_push(q, t0, frame, len, wire, NULL), EMU_QUEUED);
	for (i = 1; i <= n; i++) {
		depart = emu_queue_next_ns(q);
		/* Frame i leaves when i frames' bits have crossed: exactly, floored. */
		want = t0 + (uint64_t)i * wire * 8 * 1000000 / rate;
		if (depart != want)
			fail_msg("frame %u: departs %" PRIu64 ", want %" PRIu64, i, depart, want);
		assert_non_null(emu_queue_peek(q, depart, NULL, NULL));
		emu_queue_pop(q);
	}
	/* Against the real-valued figure: within 1 ns in all, not 1 ns a frame. */
	exact = (double)t0 + (double)n * wire * 8 * 1e6 / (double)rate;
	assert_true(fabs((double)depart - exact) < 1.0);
	assert_true(fabs((double)depart - exact) <= n * 1.0);

	/* An idle link: the next frame starts when offered. */
	t = depart + 5 * SEC;
	assert_int_equal(push_one(q, t, 1500), t + 1500ULL * 8 * 1000000 / rate);
	/* At 100 Gbit/s a 64-byte frame takes 5.12 ns; a million of them 5.12 ms. */
	d.rate_kbps = 100000000;
	d.queue_kb = 262144;
	emu_queue_set(q, &d, 1);
	t += 10 * SEC;
	for (i = 0; i < 1000000; i++) {
		assert_int_equal(emu_queue_push(q, t, NULL, 0, 64, NULL), EMU_QUEUED);
		if (i % 1000 == 999)
			while (emu_queue_peek(q, UINT64_MAX, NULL, NULL) != NULL) {
				depart = emu_queue_next_ns(q);
				emu_queue_pop(q);
			}
	}
	assert_int_equal(depart, t + 5120000);
	emu_queue_counters(q, &c);
	assert_int_equal(c.queued, n + 1 + 1000000);
	assert_int_equal(c.sent, n + 1 + 1000000);
	assert_int_equal(c.bytes_sent, (uint64_t)n * len + 64);
	assert_int_equal(c.lost + c.overflow + c.flushed, 0);
	emu_queue_free(q);
}

static void
test_rate_overflow(void **state)
{
	/* 8000 kbit/s = 1 MB/s: a 1000-byte frame takes exactly 1 ms. */
	const uint64_t t0 = 3 * SEC, rate = 8000, limit = 65536, step = 500000;
	struct emu_dir d = { .rate_kbps = rate, .queue_kb = 64 };
	struct emu_queue *q = queue_with(1 << 20, &d, 1);
	static uint8_t frame[1000];
	uint64_t fifo[256], link_free = 0, now, backlog, by_2s = 0;
	unsigned head = 0, tail = 0, accepted = 0, refused = 0, first_refused = 0, i;
	enum emu_verdict v;
	struct emu_counters c;

	(void)state;
	/* Twice the rate for 2 s. */
	for (i = 0; i < 4000; i++) {
		now = t0 + i * step;
		while (head != tail && emu_queue_peek(q, now, NULL, NULL) != NULL) {
			assert_int_equal(emu_queue_next_ns(q), fifo[head++ % 256]);
			emu_queue_pop(q);
		}
		backlog = link_free > now ? (link_free - now) * rate / 8000000 : 0;
		v = emu_queue_push(q, now, frame, sizeof(frame), 1000, NULL);
		if (backlog != 0 && backlog + 1000 > limit) {
			assert_int_equal(v, EMU_OVERFLOW);
			if (refused++ == 0)
				first_refused = i;
			continue;
		}
		assert_int_equal(v, EMU_QUEUED);
		link_free = (link_free > now ? link_free : now) + 1 * MS;
		fifo[tail++ % 256] = link_free;
		accepted++;
		if (link_free <= t0 + 2 * SEC)
			by_2s++;
	}
	/* The backlog grows at 1 MB/s: 64 KiB less a frame after ~64.5 ms. */
	assert_in_range(first_refused, 125, 135);
	/* What the link carried in those 2 s is exactly the rate: 2000 frames. */
	assert_int_equal(by_2s, 2000);
	/* And what was taken is that plus a full queue at the end. */
	assert_in_range(accepted, 2000 + 64, 2000 + 66);
	assert_int_equal(accepted + refused, 4000);
	while (head != tail) {
		assert_int_equal(emu_queue_next_ns(q), fifo[head++ % 256]);
		emu_queue_pop(q);
	}
	assert_int_equal(emu_queue_next_ns(q), UINT64_MAX);
	emu_queue_counters(q, &c);
	assert_int_equal(c.queued, accepted);
	assert_int_equal(c.overflow, refused);

	/* A frame bigger than the queue still passes an idle link. */
	emu_queue_flush(q);
	d.queue_kb = 1;
	emu_queue_set(q, &d, 1);
	now = t0 + 100 * SEC;
	assert_int_equal(emu_queue_push(q, now, NULL, 0, 60000, NULL), EMU_QUEUED);
	assert_int_equal(emu_queue_push(q, now, NULL, 0, 100, NULL), EMU_OVERFLOW);
	/* ... also offered the very nanosecond the link frees up (60 ms on). */
	assert_int_equal(emu_queue_push(q, now + 60 * MS - 1, NULL, 0, 100, NULL), EMU_QUEUED);
	assert_int_equal(emu_queue_push(q, now + 60 * MS + 100000, NULL, 0, 60000, NULL),
	    EMU_QUEUED);
	assert_int_equal(emu_queue_push(q, now + 60 * MS + 100000, NULL, 0, 1, NULL),
	    EMU_OVERFLOW);
	/* The default queue: 100 ms at the rate, at least 64 KiB. */
	emu_queue_flush(q);
	d.queue_kb = 0;
	d.rate_kbps = 80000;	/* 10 MB/s: 100 ms is 1000000 bytes */
	emu_queue_set(q, &d, 1);
	for (i = 0; i < 1000; i++)
		assert_int_equal(emu_queue_push(q, now, NULL, 0, 1000, NULL), EMU_QUEUED);
	assert_int_equal(emu_queue_push(q, now, NULL, 0, 1000, NULL), EMU_OVERFLOW);
	emu_queue_flush(q);
	d.rate_kbps = 800;	/* 100 ms is 10000 bytes: the 64 KiB floor rules */
	emu_queue_set(q, &d, 1);
	for (i = 0; i < 65; i++)
		assert_int_equal(emu_queue_push(q, now, NULL, 0, 1000, NULL), EMU_QUEUED);
	assert_int_equal(emu_queue_push(q, now, NULL, 0, 1000, NULL), EMU_OVERFLOW);
	emu_queue_free(q);
}

/* Delay and jitter -------------------------------------------------------- */

static void
test_delay_exact(void **state)
{
	struct emu_dir d = { .delay_us = 12345 };
	struct emu_queue *q = queue_with(1 << 20, &d, 1);
	uint64_t offered[1000], now = 7 * SEC, seed = 99;
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		now += xorshift64(&seed) % (5 * MS);
		offered[i] = now;
		assert_int_equal(emu_queue_push(q, now, NULL, 0, 100, NULL), EMU_QUEUED);
	}
	for (i = 0; i < 1000; i++) {
		assert_int_equal(emu_queue_next_ns(q), offered[i] + 12345000);
		emu_queue_pop(q);
	}
	assert_int_equal(emu_queue_next_ns(q), UINT64_MAX);
	emu_queue_free(q);
}

static void
test_jitter_distribution(void **state)
{
	const uint64_t delay = 20 * MS, sigma = 5 * MS;
	/* Spaced wider than the whole spread (4 sigma), so the FIFO never binds. */
	const uint64_t gap = 25 * MS;
	const int n = 100000;
	struct emu_dir d = { .delay_us = 20000, .jitter_us = 5000 };
	struct emu_queue *q = queue_with(1 << 20, &d, 12345);
	double sum = 0, sum2 = 0, x, mean, sd, want_sd, phi2, bigphi2, within1 = 0;
	uint64_t now, depart, prev = 0;
	int i;

	(void)state;
	for (i = 0; i < n; i++) {
		now = SEC + (uint64_t)i * gap;
		depart = push_one(q, now, 100);
		assert_true(depart >= prev);
		prev = depart;
		assert_true(depart >= now + delay - 2 * sigma);
		assert_true(depart <= now + delay + 2 * sigma);
		x = (double)(depart - now);
		sum += x;
		sum2 += x * x;
		if (fabs(x - (double)delay) <= (double)sigma)
			within1++;
	}
	mean = sum / n;
	sd = sqrt((sum2 - sum * sum / n) / (n - 1));
	/*
	 * The normal clamped at +-2 sigma (hal/emu.c, model step 3):
	 * sigma * sqrt((2*Phi(2) - 1) - 4*phi(2) + 8*(1 - Phi(2))).
	 */
	phi2 = exp(-2.0) / sqrt(2 * M_PI);
	bigphi2 = 0.5 * (1 + erf(2 / sqrt(2)));
	want_sd = (double)sigma * sqrt((2 * bigphi2 - 1) - 4 * phi2 + 8 * (1 - bigphi2));
	assert_true(want_sd > 0.958 * sigma && want_sd < 0.960 * sigma);
	if (fabs(mean - (double)delay) > 0.02 * (double)delay)
		fail_msg("mean %.0f ns, delay %" PRIu64, mean, delay);
	if (fabs(sd - want_sd) > 0.05 * want_sd)
		fail_msg("stdev %.0f ns, want %.0f", sd, want_sd);
	/* The shape: clamping moves only the tails, so 2*Phi(1) - 1 = 68.3% within one sigma. */
	x = erf(1 / sqrt(2));
	if (fabs(within1 / n - x) > 0.01)
		fail_msg("%.4f within 1 sigma, want %.4f", within1 / n, x);
	emu_queue_free(q);
}

/*
 * A stream denser than the jitter (a frame every 2 ms, sigma 5 ms): the
 * link keeps its order, yet the mean delay stays the set delay, because the
 * variation is correlated in time (model step 3); with independent samples
 * it would be some 4 ms higher.
 */
static void
test_jitter_dense_stream_mean(void **state)
{
	const uint64_t delay = 20 * MS, gap = 2 * MS;
	const int n = 200000;
	struct emu_dir d = { .delay_us = 20000, .jitter_us = 5000 };
	struct emu_queue *q = queue_with(64 << 20, &d, 777);
	double sum = 0, sum2 = 0, mean, sd;
	uint64_t now, depart, prev = 0;

	(void)state;
	for (int i = 0; i < n; i++) {
		now = SEC + (uint64_t)i * gap;
		depart = push_one(q, now, 100);
		assert_true(depart >= prev);
		prev = depart;
		sum += (double)(depart - now);
		sum2 += (double)(depart - now) * (double)(depart - now);
	}
	mean = sum / n;
	sd = sqrt((sum2 - sum * sum / n) / (n - 1));
	if (fabs(mean - (double)delay) > 0.02 * (double)delay)
		fail_msg("mean %.0f ns, delay %" PRIu64, mean, delay);
	if (sd < 0.85 * 5 * MS || sd > 1.05 * 5 * MS)
		fail_msg("stdev %.0f ns, jitter 5 ms", sd);
	emu_queue_free(q);
}

/* A burst: the frames due come out together, in order, without being removed. */
static void
test_peek_burst(void **state)
{
	struct emu_dir d = { .delay_us = 1000 };
	struct emu_queue *q = queue_with(1 << 20, &d, 1);
	const void *data[8];
	uint32_t len[8];
	struct emu_meta meta[8];
	uint8_t frame[100];

	(void)state;
	for (int i = 0; i < 5; i++) {
		memset(frame, i, sizeof(frame));
		assert_int_equal(emu_queue_push(q, SEC + (uint64_t)i * 100 * US, frame, 10 + i,
		    40, NULL), EMU_QUEUED);
	}
	assert_int_equal(emu_queue_peek_burst(q, SEC + 999 * US, 8, data, len, meta), 0);
	/* At 1.25 ms the first three (offered at 0, 0.1, 0.2 ms) are due. */
	assert_int_equal(emu_queue_peek_burst(q, SEC + 1250 * US, 8, data, len, meta), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(len[i], 10 + i);
		assert_int_equal(((const uint8_t *)data[i])[0], i);
	}
	assert_int_equal(emu_queue_peek_burst(q, SEC + 1250 * US, 2, data, len, meta), 2);
	emu_queue_pop_n(q, 2);
	assert_int_equal(emu_queue_peek_burst(q, SEC + 2 * SEC, 8, data, len, meta), 3);
	assert_int_equal(len[0], 12);
	emu_queue_free(q);
}

static void
test_jitter_never_negative_or_reordered(void **state)
{
	/* 2 sigma (4 ms) is over the delay (1 ms): the delay is cut at 0. */
	struct emu_dir d = { .delay_us = 1000, .jitter_us = 2000 };
	struct emu_queue *q = queue_with(4 << 20, &d, 7);
	uint64_t offered[20000], now, depart, prev = 0;
	int i, at_zero = 0;

	(void)state;
	for (i = 0; i < 2000; i++) {
		now = SEC + (uint64_t)i * 10 * MS;
		depart = push_one(q, now, 100);
		assert_true(depart >= now);
		assert_true(depart <= now + 5 * MS);
		at_zero += depart == now;
	}
	/* About 30% of draws are below -0.5 sigma. */
	assert_in_range(at_zero, 450, 750);

	/* Frames 100 us apart, far closer than the jitter: still in order. */
	for (i = 0; i < 20000; i++) {
		offered[i] = 100 * SEC + (uint64_t)i * 100000;
		assert_int_equal(emu_queue_push(q, offered[i], NULL, 0, 100, NULL), EMU_QUEUED);
	}
	for (i = 0; i < 20000; i++) {
		depart = emu_queue_next_ns(q);
		assert_true(depart >= prev);
		assert_true(depart >= offered[i]);
		prev = depart;
		emu_queue_pop(q);
	}
	emu_queue_free(q);
}

/* Loss, determinism, slot ---------------------------------------------------- */

static void
test_loss_rate(void **state)
{
	struct emu_dir d = { .loss_ppm = 10000 };
	struct emu_queue *q = queue_with(1 << 16, &d, 2024);
	struct emu_counters c;
	unsigned lost = 0, i;
	enum emu_verdict v;

	(void)state;
	for (i = 0; i < 1000000; i++) {
		v = emu_queue_push(q, i, NULL, 0, 100, NULL);
		if (v == EMU_LOST) {
			lost++;
			continue;
		}
		assert_int_equal(v, EMU_QUEUED);
		emu_queue_pop(q);
	}
	/* Binomial: sigma = sqrt(1e6 * 0.01 * 0.99) = 99.5; 4 sigma = 398. */
	assert_in_range(lost, 10000 - 398, 10000 + 398);
	emu_queue_counters(q, &c);
	assert_int_equal(c.lost, lost);
	assert_int_equal(c.queued, 1000000 - lost);
	assert_int_equal(c.sent, 1000000 - lost);

	/* The ends: nothing lost at 0, everything at 100%. */
	d.loss_ppm = 0;
	emu_queue_set(q, &d, 2024);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(emu_queue_push(q, i, NULL, 0, 100, NULL), EMU_QUEUED);
		emu_queue_pop(q);
	}
	d.loss_ppm = 1000000;
	emu_queue_set(q, &d, 2024);
	for (i = 0; i < 10000; i++)
		assert_int_equal(emu_queue_push(q, i, NULL, 0, 100, NULL), EMU_LOST);
	emu_queue_free(q);
}

#define DET_N 20000

struct run {
	uint8_t verdict[DET_N];
	uint64_t depart[DET_N];
	unsigned ndepart;
};

/* A mixed workload: irregular offers of varying sizes, all of the model at work. */
static void
run_mixed(struct run *r, const struct emu_dir *d, uint64_t seed)
{
	struct emu_queue *q = queue_with(32 << 20, d, seed);
	uint64_t now = SEC, s = 555;
	unsigned i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < DET_N; i++) {
		now += xorshift64(&s) % 400000;
		r->verdict[i] = (uint8_t)emu_queue_push(q, now, NULL, 0,
		    (uint32_t)(64 + xorshift64(&s) % 1437), NULL);
	}
	while (emu_queue_next_ns(q) != UINT64_MAX) {
		r->depart[r->ndepart++] = emu_queue_next_ns(q);
		emu_queue_pop(q);
	}
	emu_queue_free(q);
}

static void
test_determinism(void **state)
{
	struct emu_dir d = { .rate_kbps = 10000, .delay_us = 5000, .jitter_us = 3000,
	    .loss_ppm = 50000, .queue_kb = 16 };
	static struct run a, b, c;
	unsigned i, n[3] = { 0, 0, 0 };

	(void)state;
	run_mixed(&a, &d, 77);
	run_mixed(&b, &d, 77);
	run_mixed(&c, &d, 78);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_true(memcmp(a.verdict, c.verdict, sizeof(a.verdict)) != 0);
	assert_true(memcmp(a.depart, c.depart, sizeof(a.depart)) != 0);
	/* All three outcomes occurred, so all of the model was exercised. */
	for (i = 0; i < DET_N; i++)
		n[a.verdict[i]]++;
	assert_true(n[EMU_QUEUED] > 1000 && n[EMU_LOST] > 100 && n[EMU_OVERFLOW] > 100);
	assert_int_equal(a.ndepart, n[EMU_QUEUED]);
}

/* Verdicts of a loss-only queue (its whole state is the random source). */
static void
verdicts(struct emu_queue *q, uint8_t *out, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		out[i] = (uint8_t)emu_queue_push(q, 0, NULL, 0, 1, NULL);
		emu_queue_pop(q);
	}
}

static void
test_seed_restart(void **state)
{
	struct emu_dir d = { .loss_ppm = 500000 };
	struct emu_queue *q1 = queue_with(4096, &d, 5), *q2 = queue_with(4096, &d, 5);
	uint8_t a[512], b[512];

	(void)state;
	/* The same seed again continues the stream. */
	verdicts(q1, a, 256);
	emu_queue_set(q1, &d, 5);
	verdicts(q1, a + 256, 256);
	verdicts(q2, b, 512);
	assert_memory_equal(a, b, sizeof(a));
	/* Another seed and back restarts it from the beginning. */
	emu_queue_set(q1, &d, 6);
	emu_queue_set(q1, &d, 5);
	verdicts(q1, a, 512);
	assert_memory_equal(a, b, sizeof(a));
	/* A new queue is seed 0: setting 0 keeps going, so it equals setting 0 once. */
	emu_queue_free(q2);
	q2 = queue_with(4096, &d, 0);
	emu_queue_set(q1, &d, 0);
	verdicts(q1, a, 512);
	verdicts(q2, b, 512);
	assert_memory_equal(a, b, sizeof(a));
	emu_queue_free(q1);
	emu_queue_free(q2);
}

static void
test_slot_grid(void **state)
{
	struct emu_dir d = { .rate_kbps = 10000, .delay_us = 20000, .jitter_us = 5000,
	    .loss_ppm = 1000, .queue_kb = 64 };
	static struct run plain, slotted;
	const uint64_t slot = 1 * MS;
	unsigned i, shared = 0;

	(void)state;
	run_mixed(&plain, &d, 31);
	d.slot_us = 1000;
	run_mixed(&slotted, &d, 31);
	/* The slot draws nothing and refuses nothing: the same frames pass ... */
	assert_memory_equal(plain.verdict, slotted.verdict, sizeof(plain.verdict));
	assert_int_equal(plain.ndepart, slotted.ndepart);
	/* ... each at the first slot boundary at or after its slotless departure. */
	for (i = 0; i < slotted.ndepart; i++) {
		assert_int_equal(slotted.depart[i] % slot, 0);
		assert_int_equal(slotted.depart[i], (plain.depart[i] + slot - 1) / slot * slot);
		if (i > 0 && slotted.depart[i] == slotted.depart[i - 1])
			shared++;
	}
	/* Several frames leave in one slot. */
	assert_true(shared > 0);

	/* The grid is absolute: a 500 us slot, offered off the grid. */
	memset(&d, 0, sizeof(d));
	d.slot_us = 500;
	{
		struct emu_queue *q = queue_with(4096, &d, 1);

		assert_int_equal(push_one(q, 1000000001, 100), 1000500000);
		assert_int_equal(push_one(q, 1000500000, 100), 1000500000);
		assert_int_equal(push_one(q, 1000500001, 100), 1001000000);
		emu_queue_free(q);
	}
}

/* Live changes, memory, flush ------------------------------------------------ */

static void
test_live_change(void **state)
{
	struct emu_dir d = { .delay_us = 100000 };
	struct emu_queue *q = queue_with(1 << 20, &d, 1);
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(emu_queue_push(q, (uint64_t)i * MS, NULL, 0, 100, NULL), EMU_QUEUED);
	d.delay_us = 0;
	emu_queue_set(q, &d, 1);
	for (i = 10; i < 15; i++)
		assert_int_equal(emu_queue_push(q, (uint64_t)i * MS, NULL, 0, 100, NULL), EMU_QUEUED);
	/* The old frames keep their 100 ms; the new ones wait behind them. */
	for (i = 0; i < 10; i++) {
		assert_int_equal(emu_queue_next_ns(q), (uint64_t)i * MS + 100 * MS);
		emu_queue_pop(q);
	}
	for (i = 10; i < 15; i++) {
		assert_int_equal(emu_queue_next_ns(q), 109 * MS);
		emu_queue_pop(q);
	}
	/* Later frames pass at once. */
	assert_int_equal(push_one(q, 200 * MS, 100), 200 * MS);

	/* A rate change: queued frames keep the old rate's times, the next starts after them. */
	memset(&d, 0, sizeof(d));
	d.rate_kbps = 8000;	/* 1000 bytes: 1 ms */
	emu_queue_set(q, &d, 1);
	for (i = 0; i < 5; i++)
		assert_int_equal(emu_queue_push(q, SEC, NULL, 0, 1000, NULL), EMU_QUEUED);
	d.rate_kbps = 16000;
	emu_queue_set(q, &d, 1);
	assert_int_equal(emu_queue_push(q, SEC, NULL, 0, 1000, NULL), EMU_QUEUED);
	for (i = 1; i <= 5; i++) {
		assert_int_equal(emu_queue_next_ns(q), SEC + (uint64_t)i * MS);
		emu_queue_pop(q);
	}
	assert_int_equal(emu_queue_next_ns(q), SEC + 5 * MS + 500000);
	emu_queue_pop(q);
	/*
	 * The link's fraction of a nanosecond carries over a rate change: at
	 * 7000 kbit/s 1000 bytes take 1142857 1/7 ns; then 1000 bytes at 7001
	 * take 1142693.9 ns, so the exact sum floors to 1142857 + 1142694;
	 * and 1 byte at 3000 takes 2666 2/3 ns, ending at 1142857 + 2666.
	 */
	d.rate_kbps = 7000;
	emu_queue_set(q, &d, 1);
	assert_int_equal(emu_queue_push(q, 3 * SEC, NULL, 0, 1000, NULL), EMU_QUEUED);
	d.rate_kbps = 7001;
	emu_queue_set(q, &d, 1);
	assert_int_equal(emu_queue_push(q, 3 * SEC, NULL, 0, 1000, NULL), EMU_QUEUED);
	assert_int_equal(emu_queue_next_ns(q), 3 * SEC + 1142857);
	emu_queue_pop(q);
	assert_int_equal(emu_queue_next_ns(q), 3 * SEC + 1142857 + 1142694);
	emu_queue_pop(q);
	d.rate_kbps = 7000;
	emu_queue_set(q, &d, 1);
	assert_int_equal(emu_queue_push(q, 4 * SEC, NULL, 0, 1000, NULL), EMU_QUEUED);
	d.rate_kbps = 3000;
	emu_queue_set(q, &d, 1);
	assert_int_equal(emu_queue_push(q, 4 * SEC, NULL, 0, 1, NULL), EMU_QUEUED);
	emu_queue_pop(q);
	assert_int_equal(emu_queue_next_ns(q), 4 * SEC + 1142857 + 2666);
	emu_queue_pop(q);
	/* Turned off: frames pass untouched. */
	emu_queue_set(q, NULL, 1);
	assert_int_equal(push_one(q, 5 * SEC, 1000), 5 * SEC);
	emu_queue_free(q);
}

static void
test_memory_full(void **state)
{
	/* 100-byte frames take 144 bytes each: 28 fit in 4096. */
	struct emu_dir d = { .delay_us = 1000000 };
	struct emu_queue *q = queue_with(4096, &d, 1);
	static const uint8_t frame[100];
	struct emu_counters c;
	int i;

	(void)state;
	for (i = 0; i < 28; i++)
		assert_int_equal(emu_queue_push(q, 0, frame, 100, 100, NULL), EMU_QUEUED);
	assert_int_equal(emu_queue_push(q, 0, frame, 100, 100, NULL), EMU_OVERFLOW);
	assert_int_equal(emu_queue_push(q, 0, NULL, 0, 0, NULL), EMU_QUEUED);	/* 40 bytes do */
	assert_int_equal(emu_queue_push(q, 0, NULL, 0, 0, NULL), EMU_OVERFLOW);
	/* One out: the next record goes at the start, behind the skip. */
	emu_queue_pop(q);
	assert_int_equal(emu_queue_push(q, 0, frame, 100, 100, NULL), EMU_QUEUED);
	assert_int_equal(emu_queue_push(q, 0, NULL, 0, 0, NULL), EMU_OVERFLOW);
	/* Nothing bigger than the memory, ever. */
	assert_int_equal(emu_queue_push(q, 0, NULL, 4096, 100, NULL), EMU_OVERFLOW);
	emu_queue_counters(q, &c);
	assert_int_equal(c.queued, 30);
	assert_int_equal(c.overflow, 4);
	assert_null(emu_queue_new(63));
	emu_queue_free(q);
	emu_queue_free(NULL);
}

static uint8_t
pattern(uint64_t seq, uint32_t j)
{
	return (uint8_t)(seq * 131 + j * 7 + (j >> 8));
}

static void
test_ring_wraps(void **state)
{
	/* Not a multiple of 8: the ring uses 10000. */
	const size_t cap = 10003, maxrec = (40 + 1500 + 7) & ~7;
	struct emu_queue *q = queue_with(cap, NULL, 1);
	struct {
		uint64_t seq;
		uint32_t len;
	} model[512];
	uint8_t frame[1500];
	const uint8_t *got;
	struct emu_meta m, gm;
	struct emu_counters c;
	uint64_t s = 4242, seq = 0, now, used = 0, pushed = 0, refused = 0, rec;
	unsigned head = 0, tail = 0, step;
	uint32_t len, glen, j;

	(void)state;
	for (step = 0; step < 300000; step++) {
		now = step;
		if (xorshift64(&s) % 100 < 55) {
			/* Mostly small, sometimes up to the largest frame. */
			len = (uint32_t)(xorshift64(&s) % 8 == 0 ? xorshift64(&s) % 1501 :
			    xorshift64(&s) % 200);
			for (j = 0; j < len; j++)
				frame[j] = pattern(seq, j);
			memset(&m, 0, sizeof(m));
			m.family = (uint16_t)(seq % 3);
			m.port = (uint16_t)seq;
			memcpy(m.addr, &seq, sizeof(seq));
			rec = (40 + len + 7) & ~7ULL;
			if (emu_queue_push(q, now, frame, len, len + 28, &m) == EMU_OVERFLOW) {
				/* Refused only when nearly full: at most two records' room wasted. */
				if (used + 2 * maxrec <= 10000)
					fail_msg("step %u: %u bytes refused with %" PRIu64 " used",
					    step, len, used);
				refused++;
				continue;
			}
			used += rec;
			assert_true(used <= 10000);
			model[tail % 512].seq = seq++;
			model[tail % 512].len = len;
			tail++;
			pushed += rec;
		} else {
			got = emu_queue_peek(q, now, &glen, &gm);
			if (head == tail) {
				assert_null(got);
				assert_int_equal(emu_queue_next_ns(q), UINT64_MAX);
				continue;
			}
			assert_non_null(got);
			assert_int_equal(glen, model[head % 512].len);
			assert_int_equal(gm.port, (uint16_t)model[head % 512].seq);
			assert_int_equal(gm.family, model[head % 512].seq % 3);
			assert_memory_equal(gm.addr, &model[head % 512].seq, sizeof(uint64_t));
			for (j = 0; j < glen; j++)
				if (got[j] != pattern(model[head % 512].seq, j))
					fail_msg("frame %" PRIu64 " byte %u of %u is wrong",
					    model[head % 512].seq, j, glen);
			used -= (40 + glen + 7) & ~7ULL;
			head++;
			emu_queue_pop(q);
		}
	}
	/* It went round the ring many times and was full often. */
	assert_true(pushed > 1000 * cap);
	assert_true(refused > 1000);
	emu_queue_counters(q, &c);
	assert_int_equal(c.queued, seq);
	assert_int_equal(c.overflow, refused);
	assert_int_equal(c.sent, head);
	emu_queue_free(q);
}

static void
test_flush(void **state)
{
	struct emu_dir d = { .rate_kbps = 8000, .delay_us = 10000 };
	struct emu_queue *q = queue_with(1 << 20, &d, 1);
	struct emu_counters c;
	int i;

	(void)state;
	for (i = 0; i < 10; i++)
		assert_int_equal(emu_queue_push(q, SEC, NULL, 0, 1000, NULL), EMU_QUEUED);
	emu_queue_pop(q);
	emu_queue_flush(q);
	assert_int_equal(emu_queue_next_ns(q), UINT64_MAX);
	assert_null(emu_queue_peek(q, UINT64_MAX, NULL, NULL));
	emu_queue_counters(q, &c);
	assert_int_equal(c.queued, 10);
	assert_int_equal(c.sent, 1);
	assert_int_equal(c.flushed, 9);
	assert_int_equal(c.lost, 9);
	assert_int_equal(c.overflow, 0);
	/* The next frame does not wait for the dropped ones (they held the link to 1.010 s). */
	assert_int_equal(push_one(q, SEC + 2 * MS, 1000), SEC + 3 * MS + 10 * MS);
	/* Flushing an empty queue counts nothing. */
	emu_queue_flush(q);
	emu_queue_counters(q, &c);
	assert_int_equal(c.flushed, 9);
	assert_int_equal(c.sent, 2);
	emu_queue_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_dir_check),
		cmocka_unit_test(test_dir_active),
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_flap_parse),
		cmocka_unit_test(test_flap_format),
		cmocka_unit_test(test_flap_state),
		cmocka_unit_test(test_rate_no_drift),
		cmocka_unit_test(test_rate_overflow),
		cmocka_unit_test(test_delay_exact),
		cmocka_unit_test(test_jitter_distribution),
		cmocka_unit_test(test_jitter_never_negative_or_reordered),
		cmocka_unit_test(test_jitter_dense_stream_mean),
		cmocka_unit_test(test_peek_burst),
		cmocka_unit_test(test_loss_rate),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_seed_restart),
		cmocka_unit_test(test_slot_grid),
		cmocka_unit_test(test_live_change),
		cmocka_unit_test(test_memory_full),
		cmocka_unit_test(test_ring_wraps),
		cmocka_unit_test(test_flush),
	};
	return cmocka_run_group_tests_name("emu", tests, NULL, NULL);
}
