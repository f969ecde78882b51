/*
 * Signed driver plug-ins: only trusted driver code is ever loaded.
 *
 * An external driver is a shared object PLUGIN_DIR/NAME.so with a detached
 * signature PLUGIN_DIR/NAME.so.sig: exactly SIGN_LEN raw bytes, an Ed25519
 * signature over the whole file.  The trusted public keys are the files
 * KEYS_DIR/NAME.pub, PEM SubjectPublicKeyInfo (what `openssl pkey -pubout` and
 * sign_keygen() write); a key is named after its file, without ".pub".
 *
 * The parent (root) checks a plug-in with sign_check() and, when it
 * verifies, keeps a sealed memfd holding the very bytes it verified: the file
 * is read once, into the memfd, which is sealed before the signature is
 * checked against its mapping.  The sandboxed driver process later
 * dlopen()s /proc/self/fd/N of that memfd, so nobody can swap the file
 * between the check and the load.
 *
 * sign_check() runs in the daemon and is strict about where things are and
 * who owns them; the offline tools (sign_keygen, sign_file,
 * sign_verify_file, behind "cnwctl driver keygen|sign|verify") work on any
 * file the caller can read and need no daemon.
 *
 * Every function that can fail takes a struct cnw_error last and returns -1
 * with it filled (lib/error.h).  A plug-in that does not verify is not a
 * failure of sign_check() or sign_verify_file(): they return 0 and say why in
 * struct sign_result.
 */
#ifndef CNW_HAL_SIGN_H
#define CNW_HAL_SIGN_H

#include <stdint.h>

#include "lib/error.h"

#define SIGN_LEN	64			/* an Ed25519 signature */
#define SIGN_MAX_SIZE	(64u << 20)		/* largest plug-in, 64 MiB */
#define SIGN_NAME_MAX	15			/* plug-in name, characters */

enum sign_state {
	SIGN_VERIFIED,		/* a trusted key verifies it */
	SIGN_UNSIGNED,		/* no .sig next to it */
	SIGN_BAD_LENGTH,	/* the .sig is not SIGN_LEN bytes */
	SIGN_BAD_SIGNATURE,	/* no trusted key verifies it */
	SIGN_NO_KEYS,		/* no usable trusted key at all */
	SIGN_OUTSIDE,		/* not a .so directly in the plug-in directory */
	SIGN_UNSAFE,		/* not a regular file, not root's, or writable */
	SIGN_UNREADABLE,	/* missing, too large, or an I/O error */
};

/*
 * The state's name for the API and the log: "verified", "unsigned",
 * "bad-length", "bad-signature", "no-trusted-keys", "outside-plugin-dir",
 * "unsafe-permissions", "unreadable"; "unknown" for a value out of range.
 */
const char *sign_state_name(enum sign_state s);

struct sign_result {
	enum sign_state state;
	char key[64];		/* the trusted key that verified it: its file name without .pub */
	char path[4096];	/* the plug-in file, resolved */
	char detail[256];	/* one sentence for the API and the log */
	uint64_t size;		/* bytes; set once the file was read */
	uint8_t sha256[32];	/* of those bytes; set once the file was read */
};

/* Is s a plug-in name: [a-z0-9-]{1,15}, starting with a letter.  1 or 0. */
int sign_name_valid(const char *s);

/*
 * Check the plug-in `driver` against the trusted keys in keys_dir.
 *
 * `driver` is what a user gave: a name, or a path (it contains a '/').  A
 * name maps to plugin_dir/NAME.so; a name that is not sign_name_valid() is
 * SIGN_OUTSIDE.  A path is taken relative to plugin_dir when it does not
 * start with '/' (never to the daemon's working directory); its directory,
 * after realpath(), must be realpath(plugin_dir) and its file name must end
 * in ".so", else SIGN_OUTSIDE, whether or not the file exists (so the
 * answer tells nothing about files elsewhere).  A plug-in that is a symbolic
 * link is followed: where it leads must again be a .so directly in the
 * directory, else SIGN_OUTSIDE; the signature is the one of the file it
 * leads to (RESOLVED.sig), so foo.so -> foo-1.2.so uses foo-1.2.so.sig.
 *
 * Then, in this order: the .so must be a regular file, owned by root and
 * writable by neither group nor others, else SIGN_UNSAFE (the detail says
 * which); larger than SIGN_MAX_SIZE, missing or failing to read is
 * SIGN_UNREADABLE; no .sig is SIGN_UNSIGNED; a .sig of any other size than
 * SIGN_LEN is SIGN_BAD_LENGTH; the file is then copied into a memfd, sealed
 * (F_SEAL_SEAL|F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_WRITE), and res->size and
 * res->sha256 are set from it.
 *
 * Keys: keys_dir must be owned by root and writable by neither group nor
 * others (else SIGN_UNSAFE: anyone who can add a key can sign anything).
 * Of its *.pub files (dot files are ignored), one that cannot be read or
 * is not a regular file, is not owned by root or is writable by group or
 * others, does not parse as an Ed25519 public key, or whose name (without
 * .pub) has 64 characters or more, is skipped and counted by reason; the
 * counts end the detail of a failure, e.g. "(1 key file skipped: not an
 * Ed25519 public key)".  No usable key
 * (none, all skipped, or keys_dir missing) is SIGN_NO_KEYS.  The keys are
 * tried in the order of their file names; the first that verifies the
 * sealed bytes is res->key (SIGN_VERIFIED), none is SIGN_BAD_SIGNATURE.
 *
 * On SIGN_VERIFIED and memfd != NULL, *memfd is the sealed memfd with the
 * verified bytes (close-on-exec, read-only by its seals; the caller closes
 * it); in every other case *memfd is -1.  res->path is the resolved file
 * once it is known, res->detail always says what happened in one sentence
 * that names the file ("example.so.sig is 12 bytes; an Ed25519 signature is
 * 64"), in printable ASCII (anything else, even from `driver`, is '?').
 *
 * Returns 0 when the check ran (read res->state), -1 with err on an
 * internal failure (out of memory, no memfd); res->state is then
 * SIGN_UNREADABLE.
 */
int sign_check(const char *plugin_dir, const char *keys_dir, const char *driver,
    int *memfd, struct sign_result *res, struct cnw_error *err);

/* Offline tools, for "cnwctl driver keygen|sign|verify". */

/*
 * Make a new Ed25519 key pair: the private key as PEM PKCS#8 at priv_path,
 * mode 0600, the public key as PEM SubjectPublicKeyInfo at pub_path, mode
 * 0644, each written through a temporary file in the same directory and
 * renamed into place without replacing anything.  Refuses (CNW_EEXIST)
 * when either file exists, before writing anything; if the public key
 * cannot be written, the private key just made is removed again.  0, or -1
 * with err.
 */
int sign_keygen(const char *priv_path, const char *pub_path, struct cnw_error *err);

/*
 * Sign `file` (at most SIGN_MAX_SIZE bytes) with the Ed25519 private key in
 * priv_path (unencrypted PEM; no passphrase is ever asked for) and write the
 * SIGN_LEN-byte signature to sig_path, or file + ".sig" when sig_path is
 * NULL, mode 0644, through a temporary file and a rename (an existing
 * signature is replaced).  0, or -1 with err (CNW_ENOENT: a file is missing;
 * CNW_EINVAL: not an Ed25519 private key, or the file is too large).
 */
int sign_file(const char *priv_path, const char *file, const char *sig_path,
    struct cnw_error *err);

/*
 * Verify `file` against its signature sig_path (NULL: file + ".sig") with
 * the public key file pub_or_dir, or with every *.pub of pub_or_dir when it
 * is a directory.  Unlike sign_check() it asks nothing of where the files
 * are or who owns them (it checks what a developer built, as any user).
 * Fills res as sign_check() does (state, key, path as given, size, sha256,
 * detail), with the same states except SIGN_OUTSIDE and SIGN_UNSAFE; a key
 * file that does not parse is skipped and counted as in sign_check(), so a
 * single such file gives SIGN_NO_KEYS.  Returns 0 when the check ran, -1
 * with err on an internal failure (out of memory).
 */
int sign_verify_file(const char *file, const char *sig_path, const char *pub_or_dir,
    struct sign_result *res, struct cnw_error *err);

#endif
