/*
 * Tokens: format, randomness, SHA-256 hashing, constant-time comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/token.h"

static void
test_generate_is_64_hex_and_differs(void **state)
{
	char a[TOKEN_HEX_LEN + 1], b[TOKEN_HEX_LEN + 1];

	assert_int_equal(token_generate(a), 0);
	assert_int_equal(token_generate(b), 0);
	assert_int_equal(strlen(a), 64);
	assert_true(token_is_wellformed(a));
	assert_string_not_equal(a, b);
}

static void
test_wellformed(void **state)
{
	char s[80];

	memset(s, 'a', 64);
	s[64] = '\0';
	assert_true(token_is_wellformed(s));
	s[10] = 'A';		/* upper case is not ours */
	assert_false(token_is_wellformed(s));
	s[10] = 'g';
	assert_false(token_is_wellformed(s));
	s[10] = 'a';
	s[63] = '\0';		/* short */
	assert_false(token_is_wellformed(s));
	memset(s, 'a', 65);
	s[65] = '\0';		/* long */
	assert_false(token_is_wellformed(s));
	assert_false(token_is_wellformed(""));
}

static void
test_hash_known_vector(void **state)
{
	/* sha256("abc") */
	static const uint8_t want[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	uint8_t got[32];

	token_hash("abc", got);
	assert_memory_equal(got, want, 32);
}

static void
test_hash_equal(void **state)
{
	uint8_t a[32], b[32];

	token_hash("one", a);
	token_hash("one", b);
	assert_true(token_hash_equal(a, b));
	b[31] ^= 1;
	assert_false(token_hash_equal(a, b));
	b[31] ^= 1;
	b[0] ^= 0x80;
	assert_false(token_hash_equal(a, b));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_is_64_hex_and_differs),
		cmocka_unit_test(test_wellformed),
		cmocka_unit_test(test_hash_known_vector),
		cmocka_unit_test(test_hash_equal),
	};
	return cmocka_run_group_tests_name("token", tests, NULL, NULL);
}
