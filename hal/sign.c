/*
 * Signed driver plug-ins: checking one before it is loaded, and the offline
 * tools that make keys and signatures; see sign.h.
 *
 * Helpers that decide a verdict return 1 after filling the result (the
 * caller stops and returns 0: the check ran), 0 to go on, and -1 with err
 * only for what is our fault (memory, memfd).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "hal/sign.h"
#include "lib/util.h"

/* Linux 6.3: without it a memfd may be made non-executable (vm.memfd_noexec). */
#ifndef MFD_EXEC
#define MFD_EXEC	0x0010U
#endif

#define SIGN_KEY_MAX_FILE	(16 * 1024)	/* a PEM key is a few hundred bytes */
#define SIGN_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* Why a key file was passed over; counted, and said in a failure's detail. */
enum sign_skip {
	SIGN_SKIP_NOT_KEY,
	SIGN_SKIP_UNSAFE,
	SIGN_SKIP_NAME,
	SIGN_SKIP_UNREADABLE,
	SIGN_SKIP_MAX,
};

static const char *const sign_skip_reasons[SIGN_SKIP_MAX] = {
	[SIGN_SKIP_NOT_KEY] = "not an Ed25519 public key",
	[SIGN_SKIP_UNSAFE] = "not owned by root or writable by others",
	[SIGN_SKIP_NAME] = "name longer than 63 characters",
	[SIGN_SKIP_UNREADABLE] = "unreadable",
};

struct sign_key {
	char name[sizeof(((struct sign_result *)0)->key)];
	EVP_PKEY *pkey;
};

struct sign_keys {
	struct sign_key *k;
	size_t n, cap;
	unsigned skipped[SIGN_SKIP_MAX];
	int missing_errno;		/* the key file or directory is not there */
};

static const char *const sign_state_names[] = {
	[SIGN_VERIFIED] = "verified",
	[SIGN_UNSIGNED] = "unsigned",
	[SIGN_BAD_LENGTH] = "bad-length",
	[SIGN_BAD_SIGNATURE] = "bad-signature",
	[SIGN_NO_KEYS] = "no-trusted-keys",
	[SIGN_OUTSIDE] = "outside-plugin-dir",
	[SIGN_UNSAFE] = "unsafe-permissions",
	[SIGN_UNREADABLE] = "unreadable",
};

const char *
sign_state_name(enum sign_state s)
{
	if ((unsigned)s >= ARRAY_SIZE(sign_state_names))
		return "unknown";
	return sign_state_names[s];
}

int
sign_name_valid(const char *s)
{
	size_t i;

	/* By hand, not islower(): the locale must not widen what a name is. */
	if (s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= SIGN_NAME_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-'))
			return 0;
	}
	return 1;
}

/*
 * The verdict and its sentence.  The detail reaches JSON and the log and may
 * quote what a user typed, so anything but printable ASCII becomes '?'.
 * Returns 1: "decided, stop".
 */
static int __attribute__((format(printf, 3, 4)))
sign_set(struct sign_result *res, enum sign_state state, const char *fmt, ...)
{
	va_list ap;
	char *p;

	res->state = state;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof(res->detail), fmt, ap);
	va_end(ap);
	for (p = res->detail; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	}
	return 1;
}

static const char *
sign_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

static int
sign_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* Is path's directory exactly dir (both resolved)? */
static int
sign_dir_is(const char *path, const char *dir)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return 0;
	n = (size_t)(slash - path);
	if (n == 0)
		return strcmp(dir, "/") == 0;
	return strlen(dir) == n && memcmp(path, dir, n) == 0;
}

/* Read until EOF or cap bytes; -1 with errno. */
static int
sign_read_full(int fd, void *buf, size_t cap, size_t *got)
{
	uint8_t *p = buf;
	ssize_t n;

	*got = 0;
	while (*got < cap) {
		n = read(fd, p + *got, cap - *got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	return 0;
}

/* Never ask for a passphrase: these tools run unattended as often as not. */
static int
sign_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/*
 * A whole regular file into a new buffer, at most max bytes.  -1 with a
 * sentence in why (errno kept, ENOENT tells a missing file), -2 when out of
 * memory.
 */
static int
sign_slurp(const char *path, size_t max, uint8_t **out, size_t *len, char *why,
    size_t whylen)
{
	cleanup_close int fd = -1;
	struct stat st;
	uint8_t *buf;
	size_t got;
	int e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		e = errno;
		snprintf(why, whylen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(why, whylen, "%s is not a regular file", path);
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)st.st_size > max) {
		snprintf(why, whylen, "%s is %lld bytes; the limit is %zu", path,
		    (long long)st.st_size, max);
		errno = EFBIG;
		return -1;
	}
	/* One byte more than it said, to notice a file that grows meanwhile. */
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		return -2;
	if (sign_read_full(fd, buf, (size_t)st.st_size + 1, &got) < 0) {
		e = errno;
		snprintf(why, whylen, "%s: %s", path, strerror(e));
		free(buf);
		errno = e;
		return -1;
	}
	if (got != (size_t)st.st_size) {
		snprintf(why, whylen, "%s changed while being read", path);
		free(buf);
		errno = EAGAIN;
		return -1;
	}
	*out = buf;
	*len = got;
	return 0;
}

/*
 * Write through a temporary file in the same directory, then rename: a
 * crash leaves the old file or the new one, never half of one.  Without
 * replace, an existing file stays and the answer is CNW_EEXIST.
 */
static int
sign_write_file(const char *path, mode_t mode, int replace,
    int (*write_fn)(FILE *, const void *), const void *obj, struct cnw_error *err)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd, ok, rc;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return cnw_err(err, CNW_EINVAL, "%s: path too long", path);
	/* mkostemp makes it 0600 whatever the umask: no window where a key is readable. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		return cnw_err(err, errno == ENOENT ? CNW_ENOENT : CNW_EINTERNAL,
		    "cannot write %s: %s", path, strerror(errno));
	if (fchmod(fd, mode) < 0 || (f = fdopen(fd, "w")) == NULL) {
		rc = errno;
		close(fd);
		unlink(tmp);
		return cnw_err(err, CNW_EINTERNAL, "%s: %s", tmp, strerror(rc));
	}
	ok = write_fn(f, obj) && fflush(f) == 0 && fsync(fileno(f)) == 0;
	ok = fclose(f) == 0 && ok;
	if (!ok) {
		unlink(tmp);
		return cnw_err(err, CNW_EINTERNAL, "cannot write %s", path);
	}
	if (replace)
		rc = rename(tmp, path);
	else {
		rc = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
		/* A file system without RENAME_NOREPLACE: link() never replaces either. */
		if (rc < 0 && errno == EINVAL && (rc = link(tmp, path)) == 0)
			unlink(tmp);
	}
	if (rc < 0) {
		rc = errno;
		unlink(tmp);
		if (rc == EEXIST)
			return cnw_err(err, CNW_EEXIST, "%s exists; not replacing it", path);
		return cnw_err(err, CNW_EINTERNAL, "cannot write %s: %s", path, strerror(rc));
	}
	return 0;
}

/* ---- keys ---------------------------------------------------------------- */

static void
sign_keys_free(struct sign_keys *ks)
{
	size_t i;

	for (i = 0; i < ks->n; i++)
		EVP_PKEY_free(ks->k[i].pkey);
	free(ks->k);
	memset(ks, 0, sizeof(*ks));
}

static int
sign_key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sign_key *)a)->name, ((const struct sign_key *)b)->name);
}

/* An Ed25519 public key in PEM, from an open key file; NULL if it is none. */
static EVP_PKEY *
sign_pubkey_read(int fd)
{
	char buf[SIGN_KEY_MAX_FILE + 1];
	EVP_PKEY *pk = NULL;
	size_t got;
	BIO *b;

	if (sign_read_full(fd, buf, sizeof(buf), &got) < 0 || got == 0 || got > SIGN_KEY_MAX_FILE)
		return NULL;
	if ((b = BIO_new_mem_buf(buf, (int)got)) != NULL)
		pk = PEM_read_bio_PUBKEY(b, NULL, sign_no_passphrase, NULL);
	BIO_free(b);
	if (pk != NULL && !EVP_PKEY_is_a(pk, "ED25519")) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	ERR_clear_error();	/* a refused key must not leave errors for the next user */
	return pk;
}

/*
 * One key file, opened relative to dirfd, named keyname.  strict: the
 * daemon's rule, a trust anchor only root can change.  Skips are counted;
 * -1 only without memory.
 */
static int
sign_key_load(struct sign_keys *ks, int dirfd, const char *file, const char *keyname,
    int strict, struct cnw_error *err)
{
	cleanup_close int fd = -1;
	struct sign_key *k;
	struct stat st;
	EVP_PKEY *pk;

	if (strlen(keyname) >= sizeof(ks->k[0].name)) {
		ks->skipped[SIGN_SKIP_NAME]++;
		return 0;
	}
	fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		ks->skipped[SIGN_SKIP_UNREADABLE]++;
		return 0;
	}
	if (strict && (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		ks->skipped[SIGN_SKIP_UNSAFE]++;
		return 0;
	}
	if ((pk = sign_pubkey_read(fd)) == NULL) {
		ks->skipped[SIGN_SKIP_NOT_KEY]++;
		return 0;
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? ks->cap * 2 : 4;

		if ((k = reallocarray(ks->k, cap, sizeof(*k))) == NULL) {
			EVP_PKEY_free(pk);
			return cnw_err(err, CNW_EINTERNAL, "out of memory");
		}
		ks->k = k;
		ks->cap = cap;
	}
	k = &ks->k[ks->n++];
	memcpy(k->name, keyname, strlen(keyname) + 1);
	k->pkey = pk;
	return 0;
}

/* Every *.pub of an open directory (dot files are not keys: editors leave them). */
static int
sign_keys_load_dir(struct sign_keys *ks, int dirfd, int strict, struct cnw_error *err)
{
	char keyname[NAME_MAX + 1];
	struct dirent *de;
	DIR *d;
	int fd;
	size_t len;

	if ((fd = dup(dirfd)) < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return cnw_err(err, CNW_EINTERNAL, "cannot read a directory: %s", strerror(errno));
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || !sign_has_suffix(de->d_name, ".pub"))
			continue;
		len = strlen(de->d_name) - 4;
		memcpy(keyname, de->d_name, len);
		keyname[len] = '\0';
		if (sign_key_load(ks, dirfd, de->d_name, keyname, strict, err) < 0) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	/* Directory order is the file system's whim; the verdict must not be. */
	if (ks->n > 1)
		qsort(ks->k, ks->n, sizeof(ks->k[0]), sign_key_cmp);
	return 0;
}

/*
 * The keys of spec: a directory, or (allow_file) one key file.  A missing
 * spec leaves ks empty with missing_errno set.  strict also asks the
 * directory to be root's alone: whoever can add a key can sign anything.
 */
static int
sign_keys_load(struct sign_keys *ks, const char *spec, int strict, int allow_file,
    struct sign_result *res, struct cnw_error *err)
{
	cleanup_close int dfd = -1;
	char keyname[NAME_MAX + 1];
	const char *base;
	struct stat st;
	size_t len;

	memset(ks, 0, sizeof(*ks));
	if (stat(spec, &st) < 0) {
		ks->missing_errno = errno;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if ((dfd = open(spec, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
		    fstat(dfd, &st) < 0) {
			ks->missing_errno = errno;
			return 0;
		}
		if (strict && st.st_uid != 0)
			return sign_set(res, SIGN_UNSAFE, "the keys directory %s is owned by uid %u, "
			    "not by root", spec, (unsigned)st.st_uid);
		if (strict && (st.st_mode & (S_IWGRP | S_IWOTH)))
			return sign_set(res, SIGN_UNSAFE, "the keys directory %s is writable by "
			    "%s (mode %04o)", spec, (st.st_mode & S_IWOTH) ? "others" : "its group",
			    (unsigned)(st.st_mode & 07777));
		return sign_keys_load_dir(ks, dfd, strict, err);
	}
	if (!allow_file) {
		ks->missing_errno = ENOTDIR;
		return 0;
	}
	base = sign_base(spec);
	len = strlen(base);
	if (sign_has_suffix(base, ".pub"))
		len -= 4;
	if (len > NAME_MAX)
		len = NAME_MAX;
	memcpy(keyname, base, len);
	keyname[len] = '\0';
	return sign_key_load(ks, AT_FDCWD, spec, keyname, strict, err);
}

/* " (1 key file skipped: not an Ed25519 public key)", for each reason. */
static void
sign_skipped(const struct sign_keys *ks, char *buf, size_t size)
{
	size_t off = 0;
	int i, n;

	buf[0] = '\0';
	for (i = 0; i < SIGN_SKIP_MAX; i++) {
		if (ks->skipped[i] == 0 || off >= size)
			continue;
		n = snprintf(buf + off, size - off, " (%u key file%s skipped: %s)",
		    ks->skipped[i], ks->skipped[i] == 1 ? "" : "s", sign_skip_reasons[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* ---- verifying ------------------------------------------------------------- */

/* Size and SHA-256 of what is about to be verified, for the log and the API. */
static int
sign_digest(const uint8_t *data, size_t len, struct sign_result *res, struct cnw_error *err)
{
	res->size = len;
	if (!EVP_Digest(data, len, res->sha256, NULL, EVP_sha256(), NULL)) {
		ERR_clear_error();
		return cnw_err(err, CNW_EINTERNAL, "cannot compute SHA-256");
	}
	return 0;
}

/* Try every key, in name order; the first that verifies is the verdict. */
static int
sign_verify_keys(const struct sign_keys *ks, const char *where, const char *sigbase,
    const uint8_t *data, size_t len, const uint8_t sig[SIGN_LEN],
    struct sign_result *res, struct cnw_error *err)
{
	const char *base = sign_base(res->path);
	char skipped[160];
	EVP_MD_CTX *ctx;
	size_t i;
	int ok = 0;

	sign_skipped(ks, skipped, sizeof(skipped));
	if (ks->missing_errno != 0)
		return sign_set(res, SIGN_NO_KEYS, "no trusted keys: %s: %s", where,
		    strerror(ks->missing_errno));
	if (ks->n == 0)
		return sign_set(res, SIGN_NO_KEYS, "no trusted keys in %s%s", where, skipped);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	for (i = 0; i < ks->n && !ok; i++) {
		/* Ed25519 is one-shot: no digest, the whole message at once. */
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, ks->k[i].pkey) == 1 &&
		    EVP_DigestVerify(ctx, sig, SIGN_LEN, data, len) == 1;
		if (ok)
			memcpy(res->key, ks->k[i].name, sizeof(res->key));
		EVP_MD_CTX_reset(ctx);
	}
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (ok)
		return sign_set(res, SIGN_VERIFIED, "%s is signed by the trusted key %s",
		    base, res->key);
	if (ks->n == 1)
		return sign_set(res, SIGN_BAD_SIGNATURE, "%s does not verify %s with the "
		    "trusted key %s%s", sigbase, base, ks->k[0].name, skipped);
	return sign_set(res, SIGN_BAD_SIGNATURE, "%s does not verify %s with any of the "
	    "%zu trusted keys in %s%s", sigbase, base, ks->n, where, skipped);
}

/* The detached signature: exactly SIGN_LEN bytes of a regular file. */
static int
sign_read_sig(const char *sig_path, const char *base, uint8_t sig[SIGN_LEN],
    struct sign_result *res)
{
	const char *sigbase = sign_base(sig_path);
	cleanup_close int fd = -1;
	uint8_t buf[SIGN_LEN + 1];
	struct stat st;
	size_t got;

	fd = open(sig_path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return sign_set(res, SIGN_UNSIGNED, "%s has no signature: %s does not exist",
		    base, sigbase);
	if (fd < 0 || fstat(fd, &st) < 0)
		return sign_set(res, SIGN_UNREADABLE, "%s: %s", sigbase, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return sign_set(res, SIGN_UNREADABLE, "%s is not a regular file", sigbase);
	if (st.st_size != SIGN_LEN)
		return sign_set(res, SIGN_BAD_LENGTH, "%s is %lld bytes; an Ed25519 "
		    "signature is %d", sigbase, (long long)st.st_size, SIGN_LEN);
	if (sign_read_full(fd, buf, sizeof(buf), &got) < 0)
		return sign_set(res, SIGN_UNREADABLE, "%s: %s", sigbase, strerror(errno));
	if (got != SIGN_LEN)
		return sign_set(res, SIGN_BAD_LENGTH, "%s changed size while being read; an "
		    "Ed25519 signature is %d bytes", sigbase, SIGN_LEN);
	memcpy(sig, buf, SIGN_LEN);
	return 0;
}

/* ---- sign_check ---------------------------------------------------------- */

/*
 * What the user gave, to a resolved .so directly in the plug-in directory,
 * into res->path.  Outside-ness is decided on the directory part before the
 * file is looked at, so a path elsewhere is "outside" whether it exists or
 * not.
 */
static int
sign_resolve(const char *plugin_dir, const char *driver, struct sign_result *res)
{
	char pdir[PATH_MAX], cand[PATH_MAX], dir[PATH_MAX], real[PATH_MAX];
	const char *slash, *base;
	int n;

	if (realpath(plugin_dir, pdir) == NULL)
		return sign_set(res, SIGN_UNREADABLE, "the plug-in directory %s: %s",
		    plugin_dir, strerror(errno));
	if (strchr(driver, '/') == NULL) {
		if (!sign_name_valid(driver))
			return sign_set(res, SIGN_OUTSIDE, "'%s' is neither a plug-in name "
			    "(a letter, then up to 14 of a-z, 0-9, '-') nor a path", driver);
		n = snprintf(cand, sizeof(cand), "%s/%s.so", pdir, driver);
	} else if (driver[0] == '/')
		n = snprintf(cand, sizeof(cand), "%s", driver);
	else	/* relative to the plug-in directory, never to our working directory */
		n = snprintf(cand, sizeof(cand), "%s/%s", pdir, driver);
	if (n < 0 || (size_t)n >= sizeof(cand))
		return sign_set(res, SIGN_OUTSIDE, "%.64s...: path too long", driver);

	slash = strrchr(cand, '/');
	base = slash + 1;
	if (!sign_has_suffix(base, ".so"))
		return sign_set(res, SIGN_OUTSIDE, "%s is not a .so file in the plug-in "
		    "directory %s", driver, pdir);
	if (slash == cand)
		strcpy(dir, "/");
	else {
		memcpy(dir, cand, (size_t)(slash - cand));
		dir[slash - cand] = '\0';
	}
	if (realpath(dir, real) == NULL || strcmp(real, pdir) != 0)
		return sign_set(res, SIGN_OUTSIDE, "%s is outside the plug-in directory %s",
		    driver, pdir);

	if (realpath(cand, real) == NULL) {
		if (errno == ENOENT)
			return sign_set(res, SIGN_UNREADABLE, "%s does not exist in %s", base, pdir);
		return sign_set(res, SIGN_UNREADABLE, "%s: %s", base, strerror(errno));
	}
	/* A symbolic link may lead elsewhere; where it leads must be inside too. */
	if (!sign_dir_is(real, pdir) || !sign_has_suffix(sign_base(real), ".so"))
		return sign_set(res, SIGN_OUTSIDE, "%s leads to %s, which is not a .so file "
		    "in the plug-in directory %s", base, real, pdir);
	memcpy(res->path, real, strlen(real) + 1);
	return 0;
}

/* Open the plug-in and check who may have written it. */
static int
sign_open_plugin(struct sign_result *res, int *fdp, struct stat *st)
{
	const char *base = sign_base(res->path);
	int fd;

	/* lstat first: opening a FIFO or a device to look at it is already too much. */
	if (lstat(res->path, st) < 0)
		return sign_set(res, SIGN_UNREADABLE, "%s: %s", base, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return sign_set(res, SIGN_UNSAFE, "%s is not a regular file", base);
	fd = open(res->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return sign_set(res, SIGN_UNREADABLE, "%s: %s", base, strerror(errno));
	*fdp = fd;
	/* What counts is the file we hold open, not the name looked at before. */
	if (fstat(fd, st) < 0)
		return sign_set(res, SIGN_UNREADABLE, "%s: %s", base, strerror(errno));
	if (!S_ISREG(st->st_mode))
		return sign_set(res, SIGN_UNSAFE, "%s is not a regular file", base);
	if (st->st_uid != 0)
		return sign_set(res, SIGN_UNSAFE, "%s is owned by uid %u; a plug-in must be "
		    "owned by root", base, (unsigned)st->st_uid);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return sign_set(res, SIGN_UNSAFE, "%s is writable by %s (mode %04o); only root "
		    "may write a plug-in", base,
		    (st->st_mode & S_IWGRP) && (st->st_mode & S_IWOTH) ? "group and others" :
		    (st->st_mode & S_IWGRP) ? "its group" : "others",
		    (unsigned)(st->st_mode & 07777));
	if ((uint64_t)st->st_size > SIGN_MAX_SIZE)
		return sign_set(res, SIGN_UNREADABLE, "%s is %lld bytes; a plug-in may have at "
		    "most %u MiB", base, (long long)st->st_size, SIGN_MAX_SIZE >> 20);
	return 0;
}

static int
sign_memfd_new(const char *base)
{
	char name[250];		/* memfd names are at most 249 bytes */
	int fd;

	snprintf(name, sizeof(name), "cnw-plugin:%.200s", base);
	fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
	if (fd < 0 && errno == EINVAL)	/* a kernel before 6.3 */
		fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	return fd;
}

/*
 * Copy the plug-in into a new memfd and seal it: this read is the only one,
 * and what is verified next is the sealed copy, which is what will be
 * loaded.  A file that changes size meanwhile is refused, not half-copied.
 */
static int
sign_copy_sealed(int fd, const struct stat *st, int *out, struct sign_result *res,
    struct cnw_error *err)
{
	const char *base = sign_base(res->path);
	cleanup_close int mfd = -1;
	size_t size = (size_t)st->st_size, got = 0;
	uint8_t *p = NULL, extra;
	int rc = 0;

	if ((mfd = sign_memfd_new(base)) < 0)
		return cnw_err(err, CNW_EINTERNAL, "memfd_create: %s", strerror(errno));
	if (size > 0) {
		if (ftruncate(mfd, (off_t)size) < 0)
			return cnw_err(err, CNW_EINTERNAL, "memfd of %zu bytes: %s", size,
			    strerror(errno));
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
		if (p == MAP_FAILED)
			return cnw_err(err, CNW_EINTERNAL, "mmap: %s", strerror(errno));
		rc = sign_read_full(fd, p, size, &got);
		munmap(p, size);	/* F_SEAL_WRITE refuses while a writable mapping lives */
		if (rc < 0)
			return sign_set(res, SIGN_UNREADABLE, "%s: %s", base, strerror(errno));
	}
	if (got != size || sign_read_full(fd, &extra, 1, &got) < 0 || got != 0)
		return sign_set(res, SIGN_UNREADABLE, "%s changed while being read", base);
	if (fcntl(mfd, F_ADD_SEALS, SIGN_SEALS) < 0)
		return cnw_err(err, CNW_EINTERNAL, "sealing the memfd: %s", strerror(errno));
	*out = steal_fd(&mfd);
	return 0;
}

/* The sealed copy: digest, keys, verdict. */
static int
sign_check_sealed(int mfd, size_t size, const char *keys_dir, const uint8_t sig[SIGN_LEN],
    const char *sigbase, struct sign_result *res, struct cnw_error *err)
{
	static const uint8_t empty[1];
	struct sign_keys ks = { 0 };
	const uint8_t *data = empty;
	int rc;

	if (size > 0) {
		data = mmap(NULL, size, PROT_READ, MAP_SHARED, mfd, 0);
		if (data == MAP_FAILED)
			return cnw_err(err, CNW_EINTERNAL, "mmap: %s", strerror(errno));
	}
	rc = sign_digest(data, size, res, err);
	if (rc == 0)
		rc = sign_keys_load(&ks, keys_dir, 1, 0, res, err);
	if (rc == 0)
		rc = sign_verify_keys(&ks, keys_dir, sigbase, data, size, sig, res, err);
	sign_keys_free(&ks);
	if (size > 0)
		munmap((void *)data, size);
	return rc;
}

int
sign_check(const char *plugin_dir, const char *keys_dir, const char *driver, int *memfd,
    struct sign_result *res, struct cnw_error *err)
{
	cleanup_close int fd = -1, mfd = -1;
	struct cnw_error mine = { 0 };
	char sig_path[PATH_MAX + 8];
	uint8_t sig[SIGN_LEN];
	struct stat st;
	int rc;

	if (err == NULL)
		err = &mine;	/* the detail still says what went wrong */
	memset(res, 0, sizeof(*res));
	res->state = SIGN_UNREADABLE;
	if (memfd != NULL)
		*memfd = -1;
	if (sign_resolve(plugin_dir, driver, res) != 0 ||
	    sign_open_plugin(res, &fd, &st) != 0)
		return 0;
	snprintf(sig_path, sizeof(sig_path), "%s.sig", res->path);
	if (sign_read_sig(sig_path, sign_base(res->path), sig, res) != 0)
		return 0;
	rc = sign_copy_sealed(fd, &st, &mfd, res, err);
	if (rc == 0)
		rc = sign_check_sealed(mfd, (size_t)st.st_size, keys_dir, sig,
		    sign_base(sig_path), res, err);
	if (rc < 0) {
		sign_set(res, SIGN_UNREADABLE, "internal error: %s", err->msg);
		return -1;
	}
	if (res->state == SIGN_VERIFIED && memfd != NULL)
		*memfd = steal_fd(&mfd);
	return 0;
}

/* ---- offline tools ------------------------------------------------------- */

static int
sign_write_privkey(FILE *f, const void *pk)
{
	return PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL);
}

static int
sign_write_pubkey(FILE *f, const void *pk)
{
	return PEM_write_PUBKEY(f, pk);
}

static int
sign_write_sig(FILE *f, const void *sig)
{
	return fwrite(sig, 1, SIGN_LEN, f) == SIGN_LEN;
}

/* Does path exist (even as a dangling symbolic link)?  -1 with err if we cannot tell. */
static int
sign_exists(const char *path, struct cnw_error *err)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return cnw_err(err, CNW_EEXIST, "%s exists; refusing to overwrite it", path);
	if (errno != ENOENT)
		return cnw_err(err, CNW_EINTERNAL, "%s: %s", path, strerror(errno));
	return 0;
}

int
sign_keygen(const char *priv_path, const char *pub_path, struct cnw_error *err)
{
	EVP_PKEY *pk;
	int rc;

	if (strcmp(priv_path, pub_path) == 0)
		return cnw_err(err, CNW_EINVAL, "the private and the public key need two files");
	/* Both, before anything is written: no half pair is left behind. */
	if (sign_exists(priv_path, err) < 0 || sign_exists(pub_path, err) < 0)
		return -1;
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL) {
		ERR_clear_error();
		return cnw_err(err, CNW_EINTERNAL, "cannot make an Ed25519 key");
	}
	rc = sign_write_file(priv_path, 0600, 0, sign_write_privkey, pk, err);
	if (rc == 0 && (rc = sign_write_file(pub_path, 0644, 0, sign_write_pubkey, pk, err)) < 0)
		unlink(priv_path);	/* ours: it was made without replacing anything */
	EVP_PKEY_free(pk);
	ERR_clear_error();
	return rc;
}

static EVP_PKEY *
sign_privkey_load(const char *path, struct cnw_error *err)
{
	char why[PATH_MAX + 64];
	EVP_PKEY *pk = NULL;
	uint8_t *buf;
	size_t len;
	BIO *b;
	int rc;

	rc = sign_slurp(path, SIGN_KEY_MAX_FILE, &buf, &len, why, sizeof(why));
	if (rc == -2) {
		cnw_err(err, CNW_EINTERNAL, "out of memory");
		return NULL;
	}
	if (rc < 0) {
		cnw_err(err, errno == ENOENT ? CNW_ENOENT : CNW_EINVAL, "%s", why);
		return NULL;
	}
	if ((b = BIO_new_mem_buf(buf, (int)len)) != NULL)
		pk = PEM_read_bio_PrivateKey(b, NULL, sign_no_passphrase, NULL);
	BIO_free(b);
	OPENSSL_cleanse(buf, len);
	free(buf);
	ERR_clear_error();
	if (pk != NULL && !EVP_PKEY_is_a(pk, "ED25519")) {
		EVP_PKEY_free(pk);
		pk = NULL;
	}
	if (pk == NULL)
		cnw_err(err, CNW_EINVAL, "%s is not an unencrypted Ed25519 private key in PEM", path);
	return pk;
}

int
sign_file(const char *priv_path, const char *file, const char *sig_path,
    struct cnw_error *err)
{
	char why[PATH_MAX + 64], def[PATH_MAX];
	uint8_t sig[SIGN_LEN], *data = NULL;
	EVP_MD_CTX *ctx = NULL;
	size_t len, siglen = SIGN_LEN;
	EVP_PKEY *pk;
	int rc;

	if (sig_path == NULL) {
		if (snprintf(def, sizeof(def), "%s.sig", file) >= (int)sizeof(def))
			return cnw_err(err, CNW_EINVAL, "%s: path too long", file);
		sig_path = def;
	}
	if ((pk = sign_privkey_load(priv_path, err)) == NULL)
		return -1;
	rc = sign_slurp(file, SIGN_MAX_SIZE, &data, &len, why, sizeof(why));
	if (rc == -2)
		rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
	else if (rc < 0)
		rc = cnw_err(err, errno == ENOENT ? CNW_ENOENT : CNW_EINVAL, "%s", why);
	else if ((ctx = EVP_MD_CTX_new()) == NULL)
		rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
	else if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, pk) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, data, len) != 1 || siglen != SIGN_LEN)
		rc = cnw_err(err, CNW_EINTERNAL, "cannot sign %s", file);
	else
		rc = sign_write_file(sig_path, 0644, 1, sign_write_sig, sig, err);
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	ERR_clear_error();
	free(data);
	return rc;
}

int
sign_verify_file(const char *file, const char *sig_path, const char *pub_or_dir,
    struct sign_result *res, struct cnw_error *err)
{
	char why[PATH_MAX + 64], def[PATH_MAX];
	uint8_t sig[SIGN_LEN], *data = NULL;
	struct sign_keys ks = { 0 };
	size_t len;
	int rc;

	memset(res, 0, sizeof(*res));
	res->state = SIGN_UNREADABLE;
	if (cnw_strlcpy_checked(res->path, file, sizeof(res->path)) < 0) {
		sign_set(res, SIGN_UNREADABLE, "%.64s...: path too long", file);
		return 0;
	}
	if (sig_path == NULL) {
		if (snprintf(def, sizeof(def), "%s.sig", file) >= (int)sizeof(def)) {
			sign_set(res, SIGN_UNREADABLE, "%.64s...: path too long", file);
			return 0;
		}
		sig_path = def;
	}
	rc = sign_slurp(file, SIGN_MAX_SIZE, &data, &len, why, sizeof(why));
	if (rc == -2)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	if (rc < 0) {
		sign_set(res, SIGN_UNREADABLE, "%s", why);
		return 0;
	}
	if ((rc = sign_read_sig(sig_path, sign_base(file), sig, res)) == 0 &&
	    (rc = sign_digest(data, len, res, err)) == 0 &&
	    (rc = sign_keys_load(&ks, pub_or_dir, 0, 1, res, err)) == 0)
		rc = sign_verify_keys(&ks, pub_or_dir, sign_base(sig_path), data, len, sig,
		    res, err);
	sign_keys_free(&ks);
	free(data);
	return rc < 0 ? -1 : 0;
}
