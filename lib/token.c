/*
 * Token generation, hashing and comparison; see token.h.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "token.h"

int
token_generate(char hex[static TOKEN_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char raw[TOKEN_BYTES];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	for (size_t i = 0; i < sizeof(raw); i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 0xf];
	}
	hex[TOKEN_HEX_LEN] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

int
token_is_wellformed(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= TOKEN_HEX_LEN)
			return 0;
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return i == TOKEN_HEX_LEN;
}

void
token_hash(const char *token, uint8_t out[static TOKEN_HASH_LEN])
{
	SHA256((const unsigned char *)token, strlen(token), out);
}

int
token_hash_equal(const uint8_t a[static TOKEN_HASH_LEN],
    const uint8_t b[static TOKEN_HASH_LEN])
{
	return CRYPTO_memcmp(a, b, TOKEN_HASH_LEN) == 0;
}
