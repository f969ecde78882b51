/*
 * Bearer tokens: made from OpenSSL's random generator, stored only as their
 * SHA-256, compared in constant time.
 *
 * A token is 32 random bytes written as 64 lower-case hex characters.  The
 * database never holds a token, only its hash; the token itself is shown
 * once (the tenant's, in the 201 of POST /v1/tenants) or written 0600 (the
 * admin's, STATE_DIR/admin.token).
 */
#ifndef CNW_TOKEN_H
#define CNW_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_BYTES 32
#define TOKEN_HEX_LEN (TOKEN_BYTES * 2)
#define TOKEN_HASH_LEN 32

/* Fill hex (TOKEN_HEX_LEN + 1 bytes) with a new token; -1 if RAND failed. */
int token_generate(char hex[static TOKEN_HEX_LEN + 1]);
/* 1 if s is exactly TOKEN_HEX_LEN lower-case hex characters. */
int token_is_wellformed(const char *s);
/* SHA-256 of the token's characters. */
void token_hash(const char *token, uint8_t out[static TOKEN_HASH_LEN]);
/* Constant-time equality of two hashes: 1 equal, 0 not. */
int token_hash_equal(const uint8_t a[static TOKEN_HASH_LEN],
    const uint8_t b[static TOKEN_HASH_LEN]);

#endif
