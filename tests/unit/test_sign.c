/*
 * Signed driver plug-ins (hal/sign.c) and "cnwctl driver keygen|sign|verify"
 * (cli/cnwctl_driver.c).
 *
 * Every test gets a fresh mkdtemp directory holding
 *
 *	vendor.key		a private key (sign_keygen)
 *	keys/vendor.pub		its public key, the one trusted key
 *	plugins/example.so	a plug-in of a few pages, root's, 0644
 *	plugins/example.so.sig	its signature by vendor.key
 *
 * and changes one thing: the file, the signature, the keys, the modes, the
 * path asked for.  One test signs a copy of a real shared library (the
 * libcmocka this program runs with) and dlopen()s it from the sealed memfd,
 * as the driver process will.  sign_check() insists on files owned by root:
 * those tests are skipped when not run as root.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cli/cnwctl_driver.h"
#include "hal/sign.h"

#define ALL_SEALS	(F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

struct fx {
	char dir[64];
	char plugins[PATH_MAX];
	char keys[PATH_MAX];
	char priv[PATH_MAX];
	char pub[PATH_MAX];
	char so[PATH_MAX];
	char sig[PATH_MAX];
	uint8_t data[3 * 4096 + 17];
};

#define REQUIRE_ROOT() do { if (geteuid() != 0) skip(); } while (0)

static void
path(char *dst, const struct fx *f, const char *name)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s", f->dir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

static void
write_file(const char *p, const void *data, size_t len, mode_t mode)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);	/* whatever the umask */
	assert_int_equal(close(fd), 0);
}

static int
fx_setup(void **state)
{
	struct cnw_error err = { 0 };
	struct fx *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/cnw-sign-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	path(f->plugins, f, "plugins");
	path(f->keys, f, "keys");
	path(f->priv, f, "vendor.key");
	path(f->pub, f, "keys/vendor.pub");
	path(f->so, f, "plugins/example.so");
	path(f->sig, f, "plugins/example.so.sig");
	if (mkdir(f->plugins, 0755) < 0 || chmod(f->plugins, 0755) < 0 ||
	    mkdir(f->keys, 0755) < 0 || chmod(f->keys, 0755) < 0)
		return -1;
	if (sign_keygen(f->priv, f->pub, &err) < 0) {
		fprintf(stderr, "# keygen: %s\n", err.msg);
		return -1;
	}
	for (i = 0; i < sizeof(f->data); i++)
		f->data[i] = (uint8_t)(i * 7 + i / 251);
	write_file(f->so, f->data, sizeof(f->data), 0644);
	if (sign_file(f->priv, f->so, NULL, &err) < 0) {
		fprintf(stderr, "# sign: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

static int
fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f == NULL)
		return 0;
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* sign_check of driver against the fixture's directories; it must run. */
static void
check(const struct fx *f, const char *driver, struct sign_result *res, int *memfd)
{
	struct cnw_error err = { 0 };

	assert_int_equal(sign_check(f->plugins, f->keys, driver, memfd, res, &err), 0);
}

static void
assert_state(const struct sign_result *res, enum sign_state want)
{
	if (res->state != want)
		fail_msg("state %s, want %s: %s", sign_state_name(res->state),
		    sign_state_name(want), res->detail);
}

/* A second key pair: NAME.key in the fixture directory, its .pub at pub. */
static void
another_key(const struct fx *f, const char *name, const char *pub)
{
	struct cnw_error err = { 0 };
	char priv[PATH_MAX], file[NAME_MAX];

	snprintf(file, sizeof(file), "%s.key", name);
	path(priv, f, file);
	assert_int_equal(sign_keygen(priv, pub, &err), 0);
}

/* ---- names --------------------------------------------------------------- */

static void
test_state_names(void **state)
{
	assert_string_equal(sign_state_name(SIGN_VERIFIED), "verified");
	assert_string_equal(sign_state_name(SIGN_UNSIGNED), "unsigned");
	assert_string_equal(sign_state_name(SIGN_BAD_LENGTH), "bad-length");
	assert_string_equal(sign_state_name(SIGN_BAD_SIGNATURE), "bad-signature");
	assert_string_equal(sign_state_name(SIGN_NO_KEYS), "no-trusted-keys");
	assert_string_equal(sign_state_name(SIGN_OUTSIDE), "outside-plugin-dir");
	assert_string_equal(sign_state_name(SIGN_UNSAFE), "unsafe-permissions");
	assert_string_equal(sign_state_name(SIGN_UNREADABLE), "unreadable");
	assert_string_equal(sign_state_name((enum sign_state)99), "unknown");
}

static void
test_name_valid(void **state)
{
	assert_true(sign_name_valid("a"));
	assert_true(sign_name_valid("example"));
	assert_true(sign_name_valid("af-xdp2"));
	assert_true(sign_name_valid("abcdefghijklmno"));	/* 15 */
	assert_false(sign_name_valid(""));
	assert_false(sign_name_valid("abcdefghijklmnop"));	/* 16 */
	assert_false(sign_name_valid("1abc"));
	assert_false(sign_name_valid("-abc"));
	assert_false(sign_name_valid("Abc"));
	assert_false(sign_name_valid("a_b"));
	assert_false(sign_name_valid("a.so"));
	assert_false(sign_name_valid("a/b"));
	assert_false(sign_name_valid("a b"));
	assert_false(sign_name_valid("caf\xc3\xa9"));
}

/* Invalid names never reach the file system: outside, with a reason. */
static void
test_check_invalid_names(void **state)
{
	static const char *const bad[] = {
		"Example", "exa_mple", "", "example.so", "..", "-x", "abcdefghijklmnop",
		"ex\nample",
	};
	struct fx *f = *state;
	struct sign_result res;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		check(f, bad[i], &res, NULL);
		assert_state(&res, SIGN_OUTSIDE);
		assert_non_null(strstr(res.detail, "neither a plug-in name"));
		assert_null(strchr(res.detail, '\n'));	/* the detail is one line */
	}
}

/* ---- keygen ---------------------------------------------------------------- */

static void
test_keygen(void **state)
{
	struct fx *f = *state;
	struct cnw_error err = { 0 };
	char other[PATH_MAX], buf[64];
	struct stat st;
	FILE *fp;

	assert_int_equal(stat(f->priv, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(stat(f->pub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* PKCS#8, what "openssl genpkey" writes. */
	assert_non_null(fp = fopen(f->priv, "r"));
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "-----BEGIN PRIVATE KEY-----\n");
	assert_non_null(fp = fopen(f->pub, "r"));
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "-----BEGIN PUBLIC KEY-----\n");

	/* Refuses to overwrite either, and then writes neither. */
	path(other, f, "other.pub");
	assert_int_equal(sign_keygen(f->priv, other, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
	assert_non_null(strstr(err.msg, f->priv));
	assert_int_equal(access(other, F_OK), -1);
	path(other, f, "other.key");
	assert_int_equal(sign_keygen(other, f->pub, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
	assert_int_equal(access(other, F_OK), -1);
	/* A missing directory: nothing half made. */
	path(other, f, "nowhere/x.key");
	assert_int_equal(sign_keygen(other, f->pub, &err), -1);
	assert_int_equal(sign_keygen(f->priv, f->priv, &err), -1);
	assert_int_equal(err.kind, CNW_EINVAL);
}

/* ---- sign_check ------------------------------------------------------------ */

static void
test_verified_and_sealed(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	uint8_t want[32], back[sizeof(f->data) + 1];
	char real[PATH_MAX], proc[64];
	int mfd = -2, fd2;
	void *p;

	REQUIRE_ROOT();
	check(f, "example", &res, &mfd);
	assert_state(&res, SIGN_VERIFIED);
	assert_string_equal(res.key, "vendor");
	assert_non_null(realpath(f->so, real));
	assert_string_equal(res.path, real);
	assert_int_equal(res.size, sizeof(f->data));
	assert_int_equal(EVP_Digest(f->data, sizeof(f->data), want, NULL, EVP_sha256(), NULL), 1);
	assert_memory_equal(res.sha256, want, 32);
	assert_string_equal(res.detail, "example.so is signed by the trusted key vendor");

	/* The memfd: the very bytes, sealed, close-on-exec, unwritable every way. */
	assert_true(mfd >= 0);
	assert_int_equal(fcntl(mfd, F_GET_SEALS), ALL_SEALS);
	assert_true(fcntl(mfd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(pread(mfd, back, sizeof(back), 0), sizeof(f->data));
	assert_memory_equal(back, f->data, sizeof(f->data));
	assert_int_equal(pwrite(mfd, "x", 1, 0), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(mfd, 1), -1);
	assert_int_equal(ftruncate(mfd, 1 << 20), -1);
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	assert_true(p == MAP_FAILED);
	assert_int_equal(fcntl(mfd, F_ADD_SEALS, 0), -1);	/* F_SEAL_SEAL */
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
	fd2 = open(proc, O_RDWR | O_CLOEXEC);
	if (fd2 >= 0) {
		assert_int_equal(write(fd2, "x", 1), -1);
		assert_int_equal(errno, EPERM);
		close(fd2);
	}
	close(mfd);

	/* memfd may be NULL; a path is as good as a name. */
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_VERIFIED);
	check(f, f->so, &res, &mfd);
	assert_state(&res, SIGN_VERIFIED);
	close(mfd);
	check(f, "./example.so", &res, &mfd);	/* relative to the plug-in directory */
	assert_state(&res, SIGN_VERIFIED);
	close(mfd);
}

static void
test_tampered(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	int mfd = -2;

	REQUIRE_ROOT();
	f->data[4096] ^= 0x01;
	write_file(f->so, f->data, sizeof(f->data), 0644);
	check(f, "example", &res, &mfd);
	assert_state(&res, SIGN_BAD_SIGNATURE);
	assert_int_equal(mfd, -1);
	assert_string_equal(res.key, "");
	assert_string_equal(res.detail,
	    "example.so.sig does not verify example.so with the trusted key vendor");
	assert_int_equal(res.size, sizeof(f->data));	/* read, so hashed */

	/* A flipped bit in the signature as well. */
	f->data[4096] ^= 0x01;
	write_file(f->so, f->data, sizeof(f->data), 0644);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_VERIFIED);
	{
		uint8_t sig[SIGN_LEN];
		int fd = open(f->sig, O_RDWR);

		assert_int_equal(pread(fd, sig, SIGN_LEN, 0), SIGN_LEN);
		sig[10] ^= 0x80;
		assert_int_equal(pwrite(fd, sig, SIGN_LEN, 0), SIGN_LEN);
		close(fd);
	}
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_BAD_SIGNATURE);
}

static void
test_unsigned(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	int mfd = -2;

	REQUIRE_ROOT();
	assert_int_equal(unlink(f->sig), 0);
	check(f, "example", &res, &mfd);
	assert_state(&res, SIGN_UNSIGNED);
	assert_int_equal(mfd, -1);
	assert_string_equal(res.detail,
	    "example.so has no signature: example.so.sig does not exist");
}

static void
test_bad_length(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	uint8_t big[SIGN_LEN + 1] = { 0 };

	REQUIRE_ROOT();
	write_file(f->sig, "twelve bytes", 12, 0644);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_BAD_LENGTH);
	assert_string_equal(res.detail, "example.so.sig is 12 bytes; an Ed25519 signature is 64");
	write_file(f->sig, big, sizeof(big), 0644);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_BAD_LENGTH);
	write_file(f->sig, big, 0, 0644);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_BAD_LENGTH);
}

static void
test_wrong_key(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	char other[PATH_MAX];

	REQUIRE_ROOT();
	assert_int_equal(unlink(f->pub), 0);
	path(other, f, "keys/other.pub");
	another_key(f, "other", other);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_BAD_SIGNATURE);
	assert_non_null(strstr(res.detail, "trusted key other"));
}

/* Keys are tried in name order: aaa fails, vendor (the second) verifies. */
static void
test_second_key_verifies(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	char other[PATH_MAX];
	int mfd = -2;

	REQUIRE_ROOT();
	path(other, f, "keys/aaa.pub");
	another_key(f, "aaa", other);
	path(other, f, "keys/zzz.pub");
	another_key(f, "zzz", other);
	check(f, "example", &res, &mfd);
	assert_state(&res, SIGN_VERIFIED);
	assert_string_equal(res.key, "vendor");
	assert_true(mfd >= 0);
	close(mfd);

	/* Two names for one key: the first by name answers, whatever readdir says. */
	path(other, f, "keys/zz-same.pub");
	assert_int_equal(link(f->pub, other), 0);
	path(other, f, "keys/b-same.pub");
	assert_int_equal(link(f->pub, other), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_VERIFIED);
	assert_string_equal(res.key, "b-same");
	assert_int_equal(unlink(other), 0);
	path(other, f, "keys/zz-same.pub");
	assert_int_equal(unlink(other), 0);

	/* Without vendor: bad signature, counting the keys tried. */
	assert_int_equal(unlink(f->pub), 0);
	check(f, "example", &res, &mfd);
	assert_state(&res, SIGN_BAD_SIGNATURE);
	assert_int_equal(mfd, -1);
	assert_non_null(strstr(res.detail, "any of the 2 trusted keys in"));
}

static void
test_no_keys(void **state)
{
	struct fx *f = *state;
	struct cnw_error err = { 0 };
	struct sign_result res;
	char dotfile[PATH_MAX], missing[PATH_MAX];

	REQUIRE_ROOT();
	assert_int_equal(unlink(f->pub), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_NO_KEYS);
	assert_non_null(strstr(res.detail, "no trusted keys in"));
	/* Not *.pub, or a dot file: not keys either. */
	path(dotfile, f, "keys/.vendor.pub");
	another_key(f, "dot", dotfile);
	path(dotfile, f, "keys/README");
	write_file(dotfile, "hello\n", 6, 0644);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_NO_KEYS);
	/* The directory missing. */
	path(missing, f, "nokeys");
	assert_int_equal(sign_check(f->plugins, missing, "example", NULL, &res, &err), 0);
	assert_state(&res, SIGN_NO_KEYS);
	assert_non_null(strstr(res.detail, "No such file or directory"));
}

/* Files in the keys directory that are not Ed25519 public keys are skipped and counted. */
static void
test_key_files_skipped(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	char p[PATH_MAX];
	EVP_PKEY *ec;
	FILE *fp;

	REQUIRE_ROOT();
	path(p, f, "keys/garbage.pub");
	write_file(p, "not a key\n", 10, 0644);
	path(p, f, "keys/p256.pub");	/* a public key, of the wrong kind */
	assert_non_null(ec = EVP_EC_gen("P-256"));
	assert_non_null(fp = fopen(p, "w"));
	assert_int_equal(PEM_write_PUBKEY(fp, ec), 1);
	fclose(fp);
	EVP_PKEY_free(ec);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_VERIFIED);
	assert_string_equal(res.key, "vendor");

	/* Without the good key, the failure says what was skipped. */
	assert_int_equal(unlink(f->pub), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_NO_KEYS);
	assert_non_null(strstr(res.detail, "(2 key files skipped: not an Ed25519 public key)"));
	path(p, f, "keys/other.pub");
	another_key(f, "other", p);
	path(p, f, "keys/p256.pub");
	assert_int_equal(unlink(p), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_BAD_SIGNATURE);
	assert_non_null(strstr(res.detail, "(1 key file skipped: not an Ed25519 public key)"));
}

static void
test_unsafe(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	char p[PATH_MAX];
	int mfd = -2;

	REQUIRE_ROOT();
	assert_int_equal(chmod(f->so, 0664), 0);
	check(f, "example", &res, &mfd);
	assert_state(&res, SIGN_UNSAFE);
	assert_int_equal(mfd, -1);
	assert_non_null(strstr(res.detail, "writable by its group (mode 0664)"));
	assert_int_equal(chmod(f->so, 0646), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_UNSAFE);
	assert_non_null(strstr(res.detail, "writable by others"));
	assert_int_equal(chmod(f->so, 0644), 0);
	assert_int_equal(chown(f->so, 1000, 0), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_UNSAFE);
	assert_non_null(strstr(res.detail, "owned by uid 1000"));
	assert_int_equal(chown(f->so, 0, 0), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_VERIFIED);

	/* Not a regular file: never opened (a FIFO would block a reader). */
	path(p, f, "plugins/fifo.so");
	assert_int_equal(mkfifo(p, 0644), 0);
	check(f, "fifo", &res, NULL);
	assert_state(&res, SIGN_UNSAFE);
	assert_non_null(strstr(res.detail, "not a regular file"));

	/* Trust anchors too: a key anyone may change is no key. */
	path(p, f, "keys/vendor.pub");
	assert_int_equal(chmod(p, 0666), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_NO_KEYS);
	assert_non_null(strstr(res.detail, "not owned by root or writable by others"));
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(chmod(f->keys, 0777), 0);
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_UNSAFE);
	assert_non_null(strstr(res.detail, "keys directory"));
}

static void
test_outside(void **state)
{
	struct fx *f = *state;
	struct sign_result res;
	char p[PATH_MAX], q[PATH_MAX], real[PATH_MAX];
	int mfd = -2;

	REQUIRE_ROOT();
	check(f, "/tmp/x.so", &res, &mfd);
	assert_state(&res, SIGN_OUTSIDE);
	assert_int_equal(mfd, -1);
	check(f, "../x.so", &res, NULL);
	assert_state(&res, SIGN_OUTSIDE);
	check(f, "/nonexistent/dir/x.so", &res, NULL);
	assert_state(&res, SIGN_OUTSIDE);

	/* A signed, root-owned plug-in next to the directory is still outside. */
	path(p, f, "outside.so");
	write_file(p, f->data, sizeof(f->data), 0644);
	path(q, f, "outside.so.sig");
	assert_int_equal(link(f->sig, q), 0);
	check(f, p, &res, NULL);
	assert_state(&res, SIGN_OUTSIDE);
	check(f, "../outside.so", &res, NULL);
	assert_state(&res, SIGN_OUTSIDE);

	/* A symbolic link in the directory leading there. */
	path(q, f, "plugins/evil.so");
	assert_int_equal(symlink(p, q), 0);
	check(f, "evil", &res, &mfd);
	assert_state(&res, SIGN_OUTSIDE);
	assert_int_equal(mfd, -1);
	assert_non_null(strstr(res.detail, "evil.so leads to"));
	check(f, q, &res, NULL);
	assert_state(&res, SIGN_OUTSIDE);

	/* One leading inside is followed, to the file and its signature. */
	path(q, f, "plugins/alias.so");
	assert_int_equal(symlink("example.so", q), 0);
	check(f, "alias", &res, NULL);
	assert_state(&res, SIGN_VERIFIED);
	assert_non_null(realpath(f->so, real));
	assert_string_equal(res.path, real);

	/* In the directory but not a .so; missing. */
	check(f, f->sig, &res, NULL);
	assert_state(&res, SIGN_OUTSIDE);
	check(f, "plugins", &res, NULL);	/* a name: plugins.so, which is not there */
	assert_state(&res, SIGN_UNREADABLE);
	assert_non_null(strstr(res.detail, "plugins.so does not exist in"));
}

static void
test_too_large(void **state)
{
	struct fx *f = *state;
	struct sign_result res;

	REQUIRE_ROOT();
	assert_int_equal(truncate(f->so, (off_t)SIGN_MAX_SIZE + 1), 0);	/* sparse */
	check(f, "example", &res, NULL);
	assert_state(&res, SIGN_UNREADABLE);
	assert_non_null(strstr(res.detail, "at most 64 MiB"));
}

/*
 * The point of the memfd: the driver process dlopen()s what was verified.
 * A copy of the libcmocka this program runs with stands in for a driver.
 */
static void
test_dlopen_sealed(void **state)
{
	struct fx *f = *state;
	struct cnw_error err = { 0 };
	struct sign_result res;
	char p[PATH_MAX], proc[64];
	uint8_t *buf;
	size_t len;
	Dl_info info;
	void *h;
	int mfd = -2, fd;
	struct stat st;

	REQUIRE_ROOT();
	if (dladdr((void *)_cmocka_run_group_tests, &info) == 0 || info.dli_fname == NULL ||
	    strstr(info.dli_fname, "libcmocka") == NULL)
		skip();
	assert_true((fd = open(info.dli_fname, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	len = (size_t)st.st_size;
	assert_non_null(buf = malloc(len));
	assert_int_equal(read(fd, buf, len), (ssize_t)len);
	close(fd);
	path(p, f, "plugins/real.so");
	write_file(p, buf, len, 0644);
	free(buf);
	assert_int_equal(sign_file(f->priv, p, NULL, &err), 0);

	check(f, "real", &res, &mfd);
	assert_state(&res, SIGN_VERIFIED);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", mfd);
	h = dlopen(proc, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL)
		fail_msg("dlopen %s: %s", proc, dlerror());
	assert_non_null(dlsym(h, "_cmocka_run_group_tests"));
	dlclose(h);
	close(mfd);
}

/* ---- offline tools ----------------------------------------------------------- */

static void
test_verify_file(void **state)
{
	struct fx *f = *state;
	struct cnw_error err = { 0 };
	struct sign_result res;
	char p[PATH_MAX], q[PATH_MAX];

	/* No ownership rules here: any user checks what they built. */
	assert_int_equal(sign_verify_file(f->so, NULL, f->pub, &res, &err), 0);
	assert_state(&res, SIGN_VERIFIED);
	assert_string_equal(res.key, "vendor");
	assert_string_equal(res.path, f->so);
	assert_int_equal(res.size, sizeof(f->data));
	assert_int_equal(sign_verify_file(f->so, NULL, f->keys, &res, &err), 0);
	assert_state(&res, SIGN_VERIFIED);

	/* --output and --signature: a signature kept elsewhere. */
	path(p, f, "elsewhere.sig");
	assert_int_equal(sign_file(f->priv, f->so, p, &err), 0);
	assert_int_equal(unlink(f->sig), 0);
	assert_int_equal(sign_verify_file(f->so, NULL, f->pub, &res, &err), 0);
	assert_state(&res, SIGN_UNSIGNED);
	assert_int_equal(sign_verify_file(f->so, p, f->pub, &res, &err), 0);
	assert_state(&res, SIGN_VERIFIED);

	/* A key file that is no key; a missing key; a missing file. */
	assert_int_equal(sign_verify_file(f->so, p, f->priv, &res, &err), 0);
	assert_state(&res, SIGN_NO_KEYS);
	assert_non_null(strstr(res.detail, "(1 key file skipped: not an Ed25519 public key)"));
	path(q, f, "missing.pub");
	assert_int_equal(sign_verify_file(f->so, p, q, &res, &err), 0);
	assert_state(&res, SIGN_NO_KEYS);
	path(q, f, "missing.so");
	assert_int_equal(sign_verify_file(q, p, f->pub, &res, &err), 0);
	assert_state(&res, SIGN_UNREADABLE);

	/* sign_file refuses what is not a private key, and a missing file. */
	assert_int_equal(sign_file(f->pub, f->so, p, &err), -1);
	assert_int_equal(err.kind, CNW_EINVAL);
	assert_int_equal(sign_file(f->priv, q, NULL, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
}

/* Run cnwctl_driver_offline with stdout and stderr caught in out and errs. */
static int
ctl(const struct fx *f, char **argv, char *out, char *errs, size_t size)
{
	char po[PATH_MAX], pe[PATH_MAX];
	int argc = 0, o, e, so, se, rc;
	ssize_t n;

	while (argv[argc] != NULL)
		argc++;
	path(po, f, "stdout");
	path(pe, f, "stderr");
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	o = open(po, O_RDWR | O_CREAT | O_TRUNC, 0600);
	e = open(pe, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(so >= 0 && se >= 0 && o >= 0 && e >= 0);
	dup2(o, 1);
	dup2(e, 2);
	rc = cnwctl_driver_offline(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	n = pread(o, out, size - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	n = pread(e, errs, size - 1, 0);
	errs[n > 0 ? n : 0] = '\0';
	close(o);
	close(e);
	return rc;
}

static void
test_cnwctl_offline(void **state)
{
	struct fx *f = *state;
	char out[1024], errs[1024], want[PATH_MAX + 64];
	char priv[PATH_MAX], pub[PATH_MAX], sig[PATH_MAX];

	path(priv, f, "ctl.key");
	path(pub, f, "keys/ctl.pub");
	path(sig, f, "ctl.sig");

	/* Not ours: cnwctl tries its online verbs, nothing printed. */
	assert_int_equal(ctl(f, (char *[]){ "list", NULL }, out, errs, sizeof(out)), -1);
	assert_string_equal(errs, "");

	assert_int_equal(ctl(f, (char *[]){ "keygen", priv, pub, NULL }, out, errs,
	    sizeof(out)), 0);
	assert_int_equal(access(priv, F_OK), 0);
	assert_int_equal(ctl(f, (char *[]){ "keygen", priv, pub, NULL }, out, errs,
	    sizeof(out)), 1);
	assert_non_null(strstr(errs, "cnwctl: "));
	assert_non_null(strstr(errs, "exists"));
	assert_int_equal(ctl(f, (char *[]){ "keygen", priv, NULL }, out, errs, sizeof(out)), 2);
	assert_non_null(strstr(errs, "usage: cnwctl driver keygen"));
	assert_int_equal(ctl(f, (char *[]){ "keygen", "--help", NULL }, out, errs,
	    sizeof(out)), 0);
	assert_non_null(strstr(out, "usage: cnwctl driver keygen"));

	/* sign: options after the file too; --key is required. */
	assert_int_equal(ctl(f, (char *[]){ "sign", f->so, "--key", priv, "--output", sig,
	    NULL }, out, errs, sizeof(out)), 0);
	assert_int_equal(ctl(f, (char *[]){ "sign", f->so, NULL }, out, errs, sizeof(out)), 2);
	assert_non_null(strstr(errs, "missing option --key"));
	assert_int_equal(ctl(f, (char *[]){ "sign", "--bogus", f->so, NULL }, out, errs,
	    sizeof(out)), 2);
	assert_int_equal(ctl(f, (char *[]){ "sign", "--key", f->pub, f->so, NULL }, out, errs,
	    sizeof(out)), 1);

	/* verify: by one key, by a directory; the verdict line. */
	assert_int_equal(ctl(f, (char *[]){ "verify", "--key", pub, f->so, "--signature", sig,
	    NULL }, out, errs, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s: verified by key ctl\n", f->so);
	assert_string_equal(out, want);
	assert_int_equal(ctl(f, (char *[]){ "verify", "--keys", f->keys, f->so, NULL }, out,
	    errs, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s: verified by key vendor\n", f->so);
	assert_string_equal(out, want);
	assert_int_equal(ctl(f, (char *[]){ "verify", "--key", pub, f->so, NULL }, out, errs,
	    sizeof(out)), 1);
	snprintf(want, sizeof(want), "%s: bad-signature: ", f->so);
	assert_ptr_equal(strstr(errs, want), errs);
	assert_string_equal(out, "");

	/* Usage errors. */
	assert_int_equal(ctl(f, (char *[]){ "verify", f->so, NULL }, out, errs, sizeof(out)), 2);
	assert_int_equal(ctl(f, (char *[]){ "verify", "--key", pub, "--keys", f->keys, f->so,
	    NULL }, out, errs, sizeof(out)), 2);
	assert_int_equal(ctl(f, (char *[]){ "verify", "--key", pub, f->so, "extra", NULL }, out,
	    errs, sizeof(out)), 2);
	assert_non_null(strstr(errs, "unexpected argument 'extra'"));
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_name_valid),
		T(test_check_invalid_names),
		T(test_keygen),
		T(test_verified_and_sealed),
		T(test_tampered),
		T(test_unsigned),
		T(test_bad_length),
		T(test_wrong_key),
		T(test_second_key_verifies),
		T(test_no_keys),
		T(test_key_files_skipped),
		T(test_unsafe),
		T(test_outside),
		T(test_too_large),
		T(test_dlopen_sealed),
		T(test_verify_file),
		T(test_cnwctl_offline),
	};
#undef T
	return cmocka_run_group_tests_name("sign", tests, NULL, NULL);
}
