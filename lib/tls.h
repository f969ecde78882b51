/*
 * TLS material for the API's TCP listener: the configured certificate and
 * key, or a self-signed EC P-256 pair made with OpenSSL at first start and
 * kept in STATE_DIR/tls/ (key 0600).  The parent reads the files (the API
 * process cannot) and hands the PEM text over at the child's start.
 */
#ifndef CNW_TLS_H
#define CNW_TLS_H

#include <stddef.h>

#include "lib/error.h"

struct tls_material {
	char *cert_pem;
	size_t cert_len;
	char *key_pem;
	size_t key_len;
	char fingerprint[96];		/* SHA-256, "AB:CD:..." */
};

/* cert/key empty: use or make the self-signed pair in state_dir/tls. */
int tls_load(const char *cert, const char *key, const char *state_dir,
    struct tls_material *out, struct cnw_error *err);
/* Do the two files parse and belong together? (cnwd --check) */
int tls_check_files(const char *cert, const char *key, struct cnw_error *err);
void tls_free(struct tls_material *m);

#endif
