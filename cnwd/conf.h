/*
 * cnwd's configuration: defaults, the INI file (parsed with inih), and the
 * command line over both.
 *
 * Every key is one row of a table (section, key, parser); an error names
 * the file and line, "cnwd.conf:7: unknown key \"foo\" in [api]", and all
 * errors of a file are reported, not just the first.
 */
#ifndef CNW_CONF_H
#define CNW_CONF_H

#include <limits.h>
#include <sys/socket.h>

#define CNW_DEFAULT_CONFIG "/etc/cnw/cnwd.conf"
#define CNW_INSTANCE_MAX 8
#define CONFIG_KINDS_MAX 64
#ifndef CNW_PLUGIN_DIR
#define CNW_PLUGIN_DIR "/usr/local/lib/cnw/drivers"
#endif
#ifndef CNW_TRUSTED_KEYS
#define CNW_TRUSTED_KEYS "/usr/local/etc/cnw/trusted-keys"
#endif

struct cnwd_config {
	char state_dir[PATH_MAX];
	char run_dir[PATH_MAX];
	char instance[CNW_INSTANCE_MAX + 1];
	int log_level;
	unsigned reconcile_interval;	/* seconds */
	char listen[128];		/* "" when TCP is off */
	struct sockaddr_storage listen_addr;
	socklen_t listen_addrlen;
	char tls_cert[PATH_MAX];
	char tls_key[PATH_MAX];
	char plugin_dir[PATH_MAX];	/* [hal] plugin_dir: external drivers, NAME.so + NAME.so.sig */
	char trusted_keys[PATH_MAX];	/* [hal] trusted_keys: Ed25519 public keys, *.pub */
	unsigned nkinds;		/* [interfaces] NAME = KIND: the kind discovery reports */
	struct config_kind {
		char netns[64];		/* "" the host's namespace */
		char name[16];
		int kind;		/* enum disc_kind */
		unsigned line;
	} kinds[CONFIG_KINDS_MAX];
};

struct config_errors {
	unsigned count;
	char text[8192];		/* "FILE:LINE: message\n" lines */
};

void config_defaults(struct cnwd_config *cfg);
/*
 * Read path into cfg (over what it holds).  A missing file is an error only
 * if must_exist.  Returns the number of errors, each appended to errs.
 */
unsigned config_load(const char *path, int must_exist, struct cnwd_config *cfg,
    struct config_errors *errs);
/* Parse "HOST:PORT" / "[V6]:PORT" into a socket address; -1 if malformed. */
int config_instance_ok(const char *s);

#endif
