/*
 * The cnwd.conf parser: inih reads the lines, a table of keys checks them.
 *
 * inih does not tell a handler which line it is on, so the reader callback
 * given to ini_parse_stream counts lines; the handler runs while that line
 * is current.  A line inih rejects (no '=' or ':') never reaches the
 * handler; the reader notices that the previous line was neither blank,
 * comment, section nor consumed, and reports it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "hal/discover.h"
#include "cnwd/conf.h"
#include "lib/addr.h"
#include "lib/log.h"
#include "lib/tls.h"

struct config_parse {
	const char *path;
	FILE *f;
	struct cnwd_config *cfg;
	struct config_errors *errs;
	unsigned line;
	int line_is_kv;		/* current line looks like it should reach the handler */
	int line_handled;
	unsigned seen[16];	/* line each key was set on, 0 if not */
	unsigned tls_line;
};

typedef int (*config_set_fn)(struct cnwd_config *cfg, const char *value,
    char *why, size_t whylen);

static int
config_set_path(char *dst, size_t size, const char *value, char *why, size_t whylen)
{
	if (value[0] != '/') {
		snprintf(why, whylen, "\"%s\" is not an absolute path", value);
		return -1;
	}
	if (strlen(value) >= size) {
		snprintf(why, whylen, "path is too long");
		return -1;
	}
	snprintf(dst, size, "%s", value);
	return 0;
}

#define PATH_SETTER(field)						\
	static int config_set_##field(struct cnwd_config *cfg, const char *v,	\
	    char *why, size_t whylen)					\
	{								\
		return config_set_path(cfg->field, sizeof(cfg->field), v, why, whylen); \
	}
PATH_SETTER(state_dir)
PATH_SETTER(run_dir)
PATH_SETTER(tls_cert)
PATH_SETTER(tls_key)
PATH_SETTER(plugin_dir)
PATH_SETTER(trusted_keys)

int
config_instance_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CNW_INSTANCE_MAX || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int
config_set_instance(struct cnwd_config *cfg, const char *v, char *why, size_t whylen)
{
	if (!config_instance_ok(v)) {
		snprintf(why, whylen, "instance \"%s\" must match ^[a-z][a-z0-9]{0,7}$", v);
		return -1;
	}
	snprintf(cfg->instance, sizeof(cfg->instance), "%s", v);
	return 0;
}

static int
config_set_reconcile_interval(struct cnwd_config *cfg, const char *v, char *why,
    size_t whylen)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0 || n < 1 || n > 3600) {
		snprintf(why, whylen, "reconcile_interval \"%s\" must be 1 to 3600 seconds", v);
		return -1;
	}
	cfg->reconcile_interval = (unsigned)n;
	return 0;
}

static int
config_set_log_level(struct cnwd_config *cfg, const char *v, char *why, size_t whylen)
{
	int level = log_level_parse(v);

	if (level < 0) {
		snprintf(why, whylen,
		    "log_level \"%s\" is not one of debug, info, notice, warning, error", v);
		return -1;
	}
	cfg->log_level = level;
	return 0;
}

static int
config_set_listen(struct cnwd_config *cfg, const char *v, char *why, size_t whylen)
{
	if (v[0] == '\0') {
		cfg->listen[0] = '\0';
		return 0;
	}
	if (strlen(v) >= sizeof(cfg->listen) ||
	    addr_endpoint_parse(v, &cfg->listen_addr, &cfg->listen_addrlen) < 0) {
		snprintf(why, whylen,
		    "listen \"%s\" is not ADDRESS:PORT (an IPv4 address, or [IPv6]:PORT)", v);
		return -1;
	}
	snprintf(cfg->listen, sizeof(cfg->listen), "%s", v);
	return 0;
}

/* [interfaces] NAME = KIND or NETNS/NAME = KIND: what discovery cannot tell (satellite). */
static int
config_set_kind(struct cnwd_config *cfg, const char *key, const char *v, unsigned line,
    char *why, size_t whylen)
{
	const char *slash = strchr(key, '/');
	const char *name = slash ? slash + 1 : key;
	size_t nslen = slash ? (size_t)(slash - key) : 0;
	struct config_kind *k;
	enum disc_kind kind;

	if (strlen(name) == 0 || strlen(name) >= sizeof(k->name) || strchr(name, '/') != NULL ||
	    nslen >= sizeof(k->netns) || (slash != NULL && nslen == 0)) {
		snprintf(why, whylen, "\"%s\" is not an interface name (NAME or NETNS/NAME)", key);
		return -1;
	}
	if (disc_kind_parse(v, &kind) < 0) {
		snprintf(why, whylen, "kind \"%s\" of %s is not one of ethernet, wifi, cellular, "
		    "satellite, virtual", v, key);
		return -1;
	}
	for (unsigned i = 0; i < cfg->nkinds; i++) {
		k = &cfg->kinds[i];
		if (strncmp(k->netns, key, nslen) == 0 && k->netns[nslen] == '\0' &&
		    strcmp(k->name, name) == 0) {
			snprintf(why, whylen, "%s is already set on line %u", key, k->line);
			return -1;
		}
	}
	if (cfg->nkinds == CONFIG_KINDS_MAX) {
		snprintf(why, whylen, "at most %d interfaces in [interfaces]", CONFIG_KINDS_MAX);
		return -1;
	}
	k = &cfg->kinds[cfg->nkinds++];
	memset(k, 0, sizeof(*k));
	memcpy(k->netns, key, nslen);
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->kind = (int)kind;
	k->line = line;
	return 0;
}

static const struct config_key {
	const char *section;
	const char *key;
	config_set_fn set;
} config_keys[] = {
	{ "cnwd", "state_dir", config_set_state_dir },
	{ "cnwd", "run_dir", config_set_run_dir },
	{ "cnwd", "instance", config_set_instance },
	{ "cnwd", "log_level", config_set_log_level },
	{ "cnwd", "reconcile_interval", config_set_reconcile_interval },
	{ "api", "listen", config_set_listen },
	{ "api", "tls_cert", config_set_tls_cert },
	{ "api", "tls_key", config_set_tls_key },
	{ "hal", "plugin_dir", config_set_plugin_dir },
	{ "hal", "trusted_keys", config_set_trusted_keys },
};

#define CONFIG_NKEYS (sizeof(config_keys) / sizeof(config_keys[0]))

static void
config_error(struct config_errors *errs, const char *path, unsigned line,
    const char *fmt, ...)
{
	size_t used = strlen(errs->text);
	va_list ap;
	int n;

	errs->count++;
	if (used >= sizeof(errs->text) - 1)
		return;
	n = line ? snprintf(errs->text + used, sizeof(errs->text) - used, "%s:%u: ", path, line)
		 : snprintf(errs->text + used, sizeof(errs->text) - used, "%s: ", path);
	if (n < 0 || (size_t)n >= sizeof(errs->text) - used)
		return;
	used += (size_t)n;
	va_start(ap, fmt);
	vsnprintf(errs->text + used, sizeof(errs->text) - used, fmt, ap);
	va_end(ap);
	used = strlen(errs->text);
	if (used < sizeof(errs->text) - 1) {
		errs->text[used] = '\n';
		errs->text[used + 1] = '\0';
	}
}

static int
config_section_known(const char *section)
{
	for (size_t i = 0; i < CONFIG_NKEYS; i++)
		if (strcmp(config_keys[i].section, section) == 0)
			return 1;
	return 0;
}

static int
config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct config_parse *p = user;
	char why[256];

	p->line_handled = 1;
	if (section[0] == '\0') {
		config_error(p->errs, p->path, p->line, "key \"%s\" outside of a section", name);
		return 1;
	}
	if (strcmp(section, "interfaces") == 0) {
		if (config_set_kind(p->cfg, name, value, p->line, why, sizeof(why)) < 0)
			config_error(p->errs, p->path, p->line, "%s", why);
		return 1;
	}
	if (!config_section_known(section))
		return 1;	/* reported once, at the section's own line */
	for (size_t i = 0; i < CONFIG_NKEYS; i++) {
		const struct config_key *k = &config_keys[i];

		if (strcmp(k->section, section) != 0 || strcmp(k->key, name) != 0)
			continue;
		if (p->seen[i] != 0) {
			config_error(p->errs, p->path, p->line,
			    "%s is already set on line %u", name, p->seen[i]);
			return 1;
		}
		p->seen[i] = p->line;
		if (k->set(p->cfg, value, why, sizeof(why)) < 0)
			config_error(p->errs, p->path, p->line, "%s", why);
		return 1;
	}
	config_error(p->errs, p->path, p->line, "unknown key \"%s\" in [%s]", name, section);
	return 1;
}

/* Blank, comment or [section]: lines inih accepts without calling us. */
static int
config_line_is_kv(const char *s)
{
	s += strspn(s, " \t\r\n");
	if (*s == '[')
		return strchr(s, ']') == NULL;	/* "[api" is an error, not a section */
	return *s != '\0' && *s != ';' && *s != '#';
}

/* "[name]" lines: an unknown section is an error on its own line. */
static void
config_check_section_line(struct config_parse *p, const char *s)
{
	char name[64];
	size_t n;

	s += strspn(s, " \t");
	if (*s != '[' || strchr(s, ']') == NULL)
		return;
	n = strcspn(s + 1, "]");
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (!config_section_known(name) && strcmp(name, "interfaces") != 0)
		config_error(p->errs, p->path, p->line, "unknown section [%s]", name);
}

static char *
config_reader(char *buf, int size, void *stream)
{
	struct config_parse *p = stream;
	char *r;

	if (p->line > 0 && p->line_is_kv && !p->line_handled)
		config_error(p->errs, p->path, p->line,
		    "expected \"key = value\", a [section] or a comment");
	r = fgets(buf, size, p->f);
	if (r == NULL)
		return NULL;
	p->line++;
	p->line_is_kv = config_line_is_kv(buf);
	config_check_section_line(p, buf);
	p->line_handled = 0;
	return r;
}

void
config_defaults(struct cnwd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->state_dir, sizeof(cfg->state_dir), "/var/lib/cnw");
	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "/run/cnw");
	snprintf(cfg->instance, sizeof(cfg->instance), "cnw");
	cfg->log_level = LOG_LVL_INFO;
	cfg->reconcile_interval = 5;
	snprintf(cfg->plugin_dir, sizeof(cfg->plugin_dir), "%s", CNW_PLUGIN_DIR);
	snprintf(cfg->trusted_keys, sizeof(cfg->trusted_keys), "%s", CNW_TRUSTED_KEYS);
}

static size_t
config_key_index(const char *key)
{
	size_t i;

	for (i = 0; i < CONFIG_NKEYS - 1; i++)
		if (strcmp(config_keys[i].key, key) == 0)
			break;
	return i;
}

/* Checks that need the whole file: both TLS files or neither, readable. */
static void
config_check_tls(struct config_parse *p)
{
	size_t cert = config_key_index("tls_cert"), key = config_key_index("tls_key");
	struct cnwd_config *cfg = p->cfg;

	if ((cfg->tls_cert[0] != '\0') != (cfg->tls_key[0] != '\0')) {
		int has_cert = cfg->tls_cert[0] != '\0';
		config_error(p->errs, p->path, has_cert ? p->seen[cert] : p->seen[key],
		    "%s is set without %s", has_cert ? "tls_cert" : "tls_key",
		    has_cert ? "tls_key" : "tls_cert");
		return;
	}
	struct cnw_error err = { 0 };

	int readable = 1;

	if (cfg->tls_cert[0] == '\0')
		return;
	if (access(cfg->tls_cert, R_OK) < 0) {
		config_error(p->errs, p->path, p->seen[cert], "tls_cert %s: %s",
		    cfg->tls_cert, strerror(errno));
		readable = 0;
	}
	if (access(cfg->tls_key, R_OK) < 0) {
		config_error(p->errs, p->path, p->seen[key], "tls_key %s: %s",
		    cfg->tls_key, strerror(errno));
		readable = 0;
	}
	if (readable && tls_check_files(cfg->tls_cert, cfg->tls_key, &err) < 0)
		config_error(p->errs, p->path, p->seen[key], "%s", err.msg);
}

unsigned
config_load(const char *path, int must_exist, struct cnwd_config *cfg,
    struct config_errors *errs)
{
	struct config_parse p = { .path = path, .cfg = cfg, .errs = errs };
	int rc;

	_Static_assert(CONFIG_NKEYS <= sizeof(p.seen) / sizeof(p.seen[0]), "seen[] too small");
	if ((p.f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT && !must_exist)
			return 0;
		config_error(errs, path, 0, "%s", strerror(errno));
		return errs->count;
	}
	rc = ini_parse_stream(config_reader, &p, config_handler, &p);
	fclose(p.f);
	if (rc == -2)
		config_error(errs, path, 0, "out of memory");
	config_check_tls(&p);
	return errs->count;
}
