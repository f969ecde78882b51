/*
 * Loading or making the API's TLS certificate; see tls.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib/log.h"
#include "lib/tls.h"
#include "lib/util.h"

#define TLS_MAX_FILE (30 * 1024)	/* cert and key together fit one message */
#define TLS_DAYS 825

static int
tls_read_file(const char *path, char **out, size_t *len, struct cnw_error *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n;

	if (fd < 0)
		return cnw_err(err, CNW_EINTERNAL, "%s: %s", path, strerror(errno));
	if ((buf = malloc(TLS_MAX_FILE + 1)) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	n = read(fd, buf, TLS_MAX_FILE + 1);
	if (n <= 0 || n > TLS_MAX_FILE) {
		free(buf);
		return cnw_err(err, CNW_EINTERNAL, "%s: %s", path,
		    n < 0 ? strerror(errno) : "empty or larger than 30 KiB");
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n + 1;		/* GnuTLS wants the terminating NUL counted */
	return 0;
}

static X509 *
tls_self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 60L * 60 * 24 * TLS_DAYS);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"cnw", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"cnwd", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
	    "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (ext == NULL || !X509_add_ext(x, ext, -1) || !X509_sign(x, key, EVP_sha256())) {
		X509_EXTENSION_free(ext);
		X509_free(x);
		return NULL;
	}
	X509_EXTENSION_free(ext);
	return x;
}

/* Write PEM through a temporary file and rename, so a crash leaves no half file. */
static int
tls_write_pem(const char *path, int mode, int (*write_fn)(FILE *, void *), void *obj,
    struct cnw_error *err)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return cnw_err(err, CNW_EINTERNAL, "%s: %s", tmp, strerror(errno));
	}
	ok = write_fn(f, obj) && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = (fclose(f) == 0) && ok;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return cnw_err(err, CNW_EINTERNAL, "cannot write %s", path);
	}
	return 0;
}

static int
tls_write_key(FILE *f, void *key)
{
	return PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
}

static int
tls_write_cert(FILE *f, void *x)
{
	return PEM_write_X509(f, x);
}

static int
tls_make_self_signed(const char *cert, const char *key, struct cnw_error *err)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = pkey ? tls_self_signed(pkey) : NULL;
	int rc = -1;

	if (x == NULL)
		cnw_err(err, CNW_EINTERNAL, "cannot make a self-signed certificate");
	else if (tls_write_pem(key, 0600, tls_write_key, pkey, err) == 0 &&
	    tls_write_pem(cert, 0644, tls_write_cert, x, err) == 0)
		rc = 0;
	X509_free(x);
	EVP_PKEY_free(pkey);
	if (rc == 0)
		log_notice("tls: made a self-signed certificate %s", cert);
	return rc;
}

/*
 * The certificate and key must parse and belong together: the API process
 * is sandboxed and could only die on them (it would take the Unix socket's
 * API with it).  Fills the fingerprint.
 */
static int
tls_check_pair(struct tls_material *m, const char *cert, const char *key,
    struct cnw_error *err)
{
	BIO *cb = BIO_new_mem_buf(m->cert_pem, (int)m->cert_len - 1);
	BIO *kb = BIO_new_mem_buf(m->key_pem, (int)m->key_len - 1);
	X509 *x = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
	EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t off = 0;
	int rc = 0;

	if (x == NULL)
		rc = cnw_err(err, CNW_EINTERNAL, "%s is not a PEM certificate", cert);
	else if (pk == NULL)
		rc = cnw_err(err, CNW_EINTERNAL, "%s is not a PEM private key", key);
	else if (X509_check_private_key(x, pk) != 1)
		rc = cnw_err(err, CNW_EINTERNAL, "%s is not the key of %s", key, cert);
	else if (!X509_digest(x, EVP_sha256(), md, &mdlen))
		rc = cnw_err(err, CNW_EINTERNAL, "%s: cannot compute its fingerprint", cert);
	X509_free(x);
	EVP_PKEY_free(pk);
	BIO_free(cb);
	BIO_free(kb);
	if (rc < 0)
		return -1;
	for (unsigned i = 0; i < mdlen && off + 3 < sizeof(m->fingerprint); i++)
		off += (size_t)snprintf(m->fingerprint + off, sizeof(m->fingerprint) - off,
		    i ? ":%02X" : "%02X", md[i]);
	return 0;
}

int
tls_load(const char *cert, const char *key, const char *state_dir,
    struct tls_material *out, struct cnw_error *err)
{
	char dir[PATH_MAX], cpath[PATH_MAX], kpath[PATH_MAX];

	memset(out, 0, sizeof(*out));
	if (cert[0] == '\0') {
		if (cnw_path_join(dir, sizeof(dir), state_dir, "tls") < 0 ||
		    cnw_path_join(cpath, sizeof(cpath), dir, "cert.pem") < 0 ||
		    cnw_path_join(kpath, sizeof(kpath), dir, "key.pem") < 0)
			return cnw_err(err, CNW_EINTERNAL, "state directory path is too long");
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			return cnw_err(err, CNW_EINTERNAL, "%s: %s", dir, strerror(errno));
		if ((access(cpath, R_OK) < 0 || access(kpath, R_OK) < 0) &&
		    tls_make_self_signed(cpath, kpath, err) < 0)
			return -1;
		cert = cpath;
		key = kpath;
	}
	if (tls_read_file(cert, &out->cert_pem, &out->cert_len, err) < 0 ||
	    tls_read_file(key, &out->key_pem, &out->key_len, err) < 0 ||
	    tls_check_pair(out, cert, key, err) < 0) {
		tls_free(out);
		return -1;
	}
	log_notice("tls: certificate %s, SHA-256 fingerprint %s", cert, out->fingerprint);
	return 0;
}

int
tls_check_files(const char *cert, const char *key, struct cnw_error *err)
{
	struct tls_material m = { 0 };
	int rc;

	rc = tls_read_file(cert, &m.cert_pem, &m.cert_len, err) < 0 ||
	    tls_read_file(key, &m.key_pem, &m.key_len, err) < 0 ||
	    tls_check_pair(&m, cert, key, err) < 0 ? -1 : 0;
	tls_free(&m);
	return rc;
}

void
tls_free(struct tls_material *m)
{
	if (m->key_pem != NULL)
		OPENSSL_cleanse(m->key_pem, m->key_len);
	free(m->cert_pem);
	free(m->key_pem);
	memset(m, 0, sizeof(*m));
}
