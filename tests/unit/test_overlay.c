/*
 * The overlay header codec: a round trip of every field at its extremes,
 * the exact bytes on the wire (network byte order), every error decode
 * reports (at every short length), and the network id both sites compute
 * from the names (FNV-1a, never 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "netfn/overlay.h"

static struct overlay_hdr
sample(void)
{
	return (struct overlay_hdr){
		.version = OVERLAY_VERSION,
		.type = OVERLAY_DATA,
		.path = 0x0102,
		.network = 0x03040506,
		.seq = 0x0708090a,
		.dup_seq = 0,
		.timestamp_ns = 0x0b0c0d0e0f101112ull,
	};
}

static void
assert_hdr_equal(const struct overlay_hdr *a, const struct overlay_hdr *b)
{
	assert_int_equal(a->version, b->version);
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->path, b->path);
	assert_int_equal(a->network, b->network);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->dup_seq, b->dup_seq);
	assert_true(a->timestamp_ns == b->timestamp_ns);
}

static void
test_round_trip(void **state)
{
	struct overlay_hdr in = sample(), out;
	uint8_t wire[OVERLAY_HDR_LEN];

	overlay_encode(&in, wire);
	assert_int_equal(overlay_decode(wire, sizeof(wire), &out), OVERLAY_OK);
	assert_hdr_equal(&in, &out);

	/* Every field at its largest, and a probe. */
	in.type = OVERLAY_PROBE;
	in.path = UINT16_MAX;
	in.network = UINT32_MAX;
	in.seq = UINT32_MAX;
	in.timestamp_ns = UINT64_MAX;
	overlay_encode(&in, wire);
	assert_int_equal(overlay_decode(wire, sizeof(wire), &out), OVERLAY_OK);
	assert_hdr_equal(&in, &out);

	/* A longer buffer (the frame behind the header) decodes the same. */
	{
		uint8_t frame[OVERLAY_HDR_LEN + 100];

		memset(frame, 0xee, sizeof(frame));
		overlay_encode(&in, frame);
		assert_int_equal(overlay_decode(frame, sizeof(frame), &out), OVERLAY_OK);
		assert_hdr_equal(&in, &out);
		assert_int_equal(frame[OVERLAY_HDR_LEN], 0xee);	/* nothing written past it */
	}
}

static void
test_byte_order(void **state)
{
	static const uint8_t want[OVERLAY_HDR_LEN] = {
		OVERLAY_VERSION, OVERLAY_DATA,
		0x01, 0x02,				/* path */
		0x03, 0x04, 0x05, 0x06,			/* network */
		0x07, 0x08, 0x09, 0x0a,			/* seq */
		0x00, 0x00, 0x00, 0x00,			/* redundancy sequence */
		0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,	/* timestamp */
	};
	struct overlay_hdr h = sample();
	uint8_t wire[OVERLAY_HDR_LEN];

	assert_int_equal(OVERLAY_HDR_LEN, 24);
	overlay_encode(&h, wire);
	assert_memory_equal(wire, want, sizeof(want));
}

static void
test_truncated_at_every_length(void **state)
{
	struct overlay_hdr h = sample(), out;
	uint8_t wire[OVERLAY_HDR_LEN];

	overlay_encode(&h, wire);
	for (size_t len = 0; len < OVERLAY_HDR_LEN; len++)
		assert_int_equal(overlay_decode(wire, len, &out), OVERLAY_TRUNCATED);
	/* Not even the pointer is read when there are no bytes. */
	assert_int_equal(overlay_decode(NULL, 0, &out), OVERLAY_TRUNCATED);
}

static enum overlay_error
decode_with(size_t at, uint8_t value)
{
	struct overlay_hdr h = sample(), out;
	uint8_t wire[OVERLAY_HDR_LEN];

	overlay_encode(&h, wire);
	wire[at] = value;
	return overlay_decode(wire, sizeof(wire), &out);
}

static void
test_every_error(void **state)
{
	/* Version: only OVERLAY_VERSION. */
	for (unsigned v = 0; v < 256; v++)
		assert_int_equal(decode_with(0, (uint8_t)v),
		    v == OVERLAY_VERSION ? OVERLAY_OK : OVERLAY_BAD_VERSION);
	/* Type: data, probe, redundant data, probe reply. */
	for (unsigned t = 0; t < 256; t++)
		assert_int_equal(decode_with(1, (uint8_t)t),
		    t >= OVERLAY_DATA && t <= OVERLAY_PROBE_REPLY ? OVERLAY_OK : OVERLAY_BAD_TYPE);
	/* Any bit of the redundancy word, in a type that is not DATA_DUP. */
	for (size_t at = 12; at < 16; at++)
		for (unsigned bit = 0; bit < 8; bit++)
			assert_int_equal(decode_with(at, (uint8_t)(1u << bit)), OVERLAY_BAD_RESERVED);
	/* The version is checked first. */
	{
		struct overlay_hdr h = sample(), out;
		uint8_t wire[OVERLAY_HDR_LEN];

		h.version = 9;
		h.type = 9;
		h.dup_seq = 9;
		overlay_encode(&h, wire);
		assert_int_equal(overlay_decode(wire, sizeof(wire), &out), OVERLAY_BAD_VERSION);
	}
}

/* The redundancy sequence is carried by DATA_DUP, whole. */
static void
test_dup_sequence(void **state)
{
	struct overlay_hdr in = sample(), out;
	uint8_t wire[OVERLAY_HDR_LEN];

	in.type = OVERLAY_DATA_DUP;
	in.dup_seq = 0xfedcba98;
	overlay_encode(&in, wire);
	assert_int_equal(wire[12], 0xfe);
	assert_int_equal(wire[15], 0x98);
	assert_int_equal(overlay_decode(wire, sizeof(wire), &out), OVERLAY_OK);
	assert_hdr_equal(&in, &out);
	/* The same word in a probe reply is refused. */
	wire[1] = OVERLAY_PROBE_REPLY;
	assert_int_equal(overlay_decode(wire, sizeof(wire), &out), OVERLAY_BAD_RESERVED);
}

static void
test_error_names(void **state)
{
	const enum overlay_error all[] = { OVERLAY_OK, OVERLAY_TRUNCATED, OVERLAY_BAD_VERSION,
		OVERLAY_BAD_TYPE, OVERLAY_BAD_RESERVED };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		assert_non_null(overlay_error_name(all[i]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(overlay_error_name(all[i]), overlay_error_name(all[j]));
	}
	assert_string_equal(overlay_error_name((enum overlay_error)1000), "unknown error");
}

static void
test_network_id(void **state)
{
	/* FNV-1a 32 of "acme.cams", computed independently. */
	assert_int_equal(overlay_network_id("acme", "cams"), 0xbf3ce43bu);
	/* The same on both sites, different for different names. */
	assert_int_equal(overlay_network_id("acme", "cams"), overlay_network_id("acme", "cams"));
	assert_int_not_equal(overlay_network_id("acme", "cams"), overlay_network_id("acme", "cam"));
	/* The dot separates: "a.bc" and "ab.c" differ. */
	assert_int_not_equal(overlay_network_id("a", "bc"), overlay_network_id("ab", "c"));
	/* "t.b8ws06a" hashes to 0 with FNV-1a (found by search): the id is 1 instead. */
	assert_int_equal(overlay_network_id("t", "b8ws06a"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_byte_order),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_dup_sequence),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_network_id),
	};
	return cmocka_run_group_tests_name("overlay", tests, NULL, NULL);
}
