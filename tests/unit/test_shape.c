/*
 * The tenant shaper (netfn/shape.h) on an injected clock: the rate held
 * over ten simulated seconds of an offered load twice the rate, with
 * 1500-byte frames and with 64 KiB GSO frames (what leaves by t is at most
 * rate * t + burst + one frame, and at least 99% of rate * t); order
 * kept; the queue's bound (frames and bytes, a lone frame always fits,
 * nothing accepted once full); ECN marking from half the bound; drain; a
 * live rate change; GSO frames counted as the packets they will be cut
 * into; CE marking of IPv4 (checksum still valid) and IPv6, and non-ECT
 * packets untouched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "netfn/shape.h"

#define MS 1000000ULL
#define SEC (1000 * MS)

/* Offer `len`-byte frames at twice rate_kbps for 10 s, release every 100 us. */
static void
rate_held(uint64_t rate_kbps, uint32_t len)
{
	struct shape s;
	struct shape_frame f = { .len = len }, out[64];
	uint64_t now = SEC, sent = 0, offered = 0, step = 100000, held_max = 0;
	uint64_t interval = (uint64_t)len * 8 * 1000000 / (2 * rate_kbps);	/* ns per offered frame */
	uint64_t next_offer = now;
	int mark;

	assert_int_equal(shape_init(&s, 1024, rate_kbps, now), 0);
	for (; now < 11 * SEC; now += step) {
		while (next_offer <= now) {
			f.idx++;
			offered += len;
			switch (shape_offer(&s, &f, now, &mark)) {
			case SHAPE_SEND:
				sent += len;
				break;
			case SHAPE_HELD:
			case SHAPE_FULL:
				break;
			}
			next_offer += interval;
		}
		if (s.bytes > held_max)
			held_max = s.bytes;
		for (uint32_t n; (n = shape_release(&s, now, out, 64)) > 0;)
			sent += (uint64_t)n * len;
		/* never more than the rate allows */
		assert_true(sent * 8 * 1000000 <= (now - SEC) * rate_kbps +
		    (s.tb.burst + len) * 8 * 1000000);
	}
	/* at least 99% of the rate over 10 s */
	print_message("# %llu kbit/s, %u-byte frames: %llu bytes sent of %llu allowed\n",
	    (unsigned long long)rate_kbps, len, (unsigned long long)sent,
	    (unsigned long long)(rate_kbps * 1000 / 8 * 10));
	assert_true(sent * 8 * 100 >= 99ULL * rate_kbps * 1000 * 10);
	assert_true(held_max <= s.max_bytes);
	assert_true(offered > sent);
	shape_fini(&s);
}

static void
test_rate_1500(void **state)
{
	(void)state;
	rate_held(10000, 1500);
	rate_held(100000, 1500);
	rate_held(1000000, 1500);
}

static void
test_rate_gso(void **state)
{
	(void)state;
	rate_held(10000, 65536);
	rate_held(100000, 65536);
	rate_held(1000000, 65536);
}

static void
test_order_and_bound(void **state)
{
	struct shape s;
	struct shape_frame f = { .len = 1500 }, out[4096];
	uint32_t held = 0, n, marked = 0, first_mark = 0;
	int mark;

	(void)state;
	assert_int_equal(shape_init(&s, 4096, 10000, 0), 0);
	/* 10 Mbit/s: the bound is SHAPE_QUEUE_MIN (50 ms is 62500 bytes) */
	assert_int_equal(s.max_bytes, SHAPE_QUEUE_MIN);
	for (f.idx = 0; f.idx < 1000; f.idx++) {
		enum shape_verdict v = shape_offer(&s, &f, 0, &mark);

		if (v == SHAPE_HELD) {
			held++;
			if (mark && marked++ == 0)
				first_mark = held;
		}
		if (v == SHAPE_FULL)
			break;
	}
	assert_true(f.idx < 1000);
	assert_true(s.bytes <= s.max_bytes);
	assert_true(s.bytes + 1500 > s.max_bytes);
	/* marking starts at half the bound */
	assert_true(marked > 0);
	assert_true((uint64_t)(first_mark - 1) * 1500 >= s.max_bytes / 2);
	assert_true((uint64_t)(first_mark - 2) * 1500 < s.max_bytes / 2);
	/* full: nothing more is taken */
	assert_int_equal(shape_offer(&s, &f, 0, &mark), SHAPE_FULL);
	/* what leaves, leaves in order, at the rate */
	n = 0;
	for (uint64_t now = MS; n < held && now < 10 * SEC; now += MS)
		n += shape_release(&s, now, out + n, 4096 - n);
	assert_int_equal(n, held);
	for (uint32_t i = 1; i < n; i++)
		assert_int_equal(out[i].idx, out[i - 1].idx + 1);
	assert_int_equal(s.bytes, 0);
	assert_int_equal(shape_next_ns(&s, 10 * SEC), UINT64_MAX);
	shape_fini(&s);

	/* a lone frame larger than the bound is held all the same */
	assert_int_equal(shape_init(&s, 2, 1000, 0), 0);
	f.len = 1500;
	while (shape_offer(&s, &f, 0, &mark) == SHAPE_SEND)
		;
	assert_int_equal(s.count, 1);
	shape_drain(&s, out, 4);
	f.len = 65535;
	s.max_bytes = 1000;
	assert_int_equal(shape_offer(&s, &f, 0, &mark), SHAPE_HELD);
	assert_int_equal(shape_offer(&s, &f, 0, &mark), SHAPE_FULL);
	/* frames: at most the ring */
	s.max_bytes = UINT64_MAX;
	f.len = 1;
	assert_int_equal(shape_offer(&s, &f, 0, &mark), SHAPE_HELD);
	assert_int_equal(shape_offer(&s, &f, 0, &mark), SHAPE_FULL);
	assert_int_equal(shape_drain(&s, out, 4), 2);
	assert_int_equal(shape_drain(&s, out, 4), 0);
	shape_fini(&s);
	assert_int_equal(shape_init(&s, 0, 1000, 0), -1);
	assert_int_equal(shape_init(&s, SHAPE_FRAMES_MAX + 1, 1000, 0), -1);
	assert_int_equal(shape_init(&s, 1, 0, 0), -1);
}

static void
test_next_and_rate_change(void **state)
{
	struct shape s;
	struct shape_frame f = { .len = 1250 }, out[8];
	uint64_t t;
	int mark;

	(void)state;
	assert_int_equal(shape_init(&s, 64, 1000, 0), 0);	/* 1 Mbit/s: 1250 bytes = 10 ms */
	while (shape_offer(&s, &f, 0, &mark) == SHAPE_SEND)
		;
	t = shape_next_ns(&s, 0);
	assert_true(t > 0 && t <= 10 * MS);
	assert_int_equal(shape_release(&s, t - 1, out, 8), 0);
	assert_int_equal(shape_release(&s, t, out, 8), 1);
	/* ten times faster: the next one waits a tenth */
	assert_int_equal(shape_offer(&s, &f, t, &mark), SHAPE_HELD);
	shape_set_rate(&s, 10000, t);
	assert_int_equal(shape_next_ns(&s, t), t + MS);
	assert_true(s.max_bytes == SHAPE_QUEUE_MIN);
	shape_set_rate(&s, 1000000, t);
	assert_int_equal(s.max_bytes, 1000000ULL * SHAPE_QUEUE_MS / 8);
	shape_fini(&s);
}

static void
test_wire_len(void **state)
{
	uint8_t v[10] = { 0 };

	(void)state;
	assert_int_equal(shape_wire_len(v, 1500), 1500);
	/* TCPv4 GSO: 52 bytes of headers, 1448 of payload per segment */
	v[1] = 1;
	v[2] = 52;
	v[4] = 1448 & 0xff;
	v[5] = 1448 >> 8;
	assert_int_equal(shape_wire_len(v, 52 + 1448 * 10), 1500 * 10);
	assert_int_equal(shape_wire_len(v, 52 + 1448 * 10 + 1), 1500 * 10 + 53);
	/* the ECN bit of gso_type is no GSO type */
	v[1] = 0x81;
	assert_int_equal(shape_wire_len(v, 52 + 1448 * 2), 3000);
	v[1] = 0x80;
	assert_int_equal(shape_wire_len(v, 52 + 1448 * 2), 52 + 1448 * 2);
}

static uint16_t
ip4_sum(const uint8_t *h)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		sum += (uint32_t)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void
test_ecn_mark(void **state)
{
	uint8_t h[40];
	uint16_t c;

	(void)state;
	for (int ect = 0; ect < 4; ect++) {
		for (int tos = 0; tos < 256; tos += 4) {
			memset(h, 0, sizeof(h));
			h[0] = 0x45;
			h[1] = (uint8_t)(tos | ect);
			h[2] = 0;
			h[3] = 40;
			h[8] = 64;
			h[9] = 6;
			h[12] = 10;
			h[15] = (uint8_t)tos;
			h[16] = 10;
			h[19] = 1;
			c = ip4_sum(h);
			h[10] = (uint8_t)(c >> 8);
			h[11] = (uint8_t)c;
			assert_int_equal(shape_ecn_mark(h, 40), ect != 0);
			assert_int_equal(h[1], ect != 0 ? (tos | 3) : tos);
			/* the checksum over the header, its field included, is 0 */
			assert_int_equal(ip4_sum(h), 0);
		}
	}
	memset(h, 0, sizeof(h));
	h[0] = 0x60;
	h[1] = 0x10;		/* traffic class 0x01: ECT(1) */
	assert_int_equal(shape_ecn_mark(h, 40), 1);
	assert_int_equal(h[0], 0x60);
	assert_int_equal(h[1], 0x30);
	h[0] = 0x6b;		/* traffic class 0xb0 (DSCP 44), not ECT */
	h[1] = 0x0f;
	assert_int_equal(shape_ecn_mark(h, 40), 0);
	assert_int_equal(h[1], 0x0f);
	assert_int_equal(shape_ecn_mark(h, 39), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_1500),
		cmocka_unit_test(test_rate_gso),
		cmocka_unit_test(test_order_and_bound),
		cmocka_unit_test(test_next_and_rate_change),
		cmocka_unit_test(test_wire_len),
		cmocka_unit_test(test_ecn_mark),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
