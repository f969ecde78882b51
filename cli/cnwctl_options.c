/*
 * cnwctl_options.c: the options of cnwctl's commands.
 *
 * Each kind of command has an option set (struct ctl_optset): getopt's
 * table, a function that puts each option where the request wants it (a
 * member of the JSON body, a query parameter), a check once all are in and
 * what --help says besides the usage.  Options that come in families (the
 * quotas of a tenant, the emulation of an uplink; a policy's, in
 * cnwctl_policy.c) are one X-macro each, so the option, its getopt entry
 * and its JSON key are written once.  Only what is not a number where one is
 * wanted is refused here, naming the option as given; ranges and names are
 * the API's to check.  Every error here is a usage error (CNW_EINVAL).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cnwctl.h"

/* The quota options of tenant create/update: id, option, JSON key. */
#define FOREACH_QUOTA(X) \
	X(NETWORKS, "networks", "networks") \
	X(BANDWIDTH_KBPS, "bandwidth-kbps", "bandwidth_kbps") \
	X(FLOWS, "flows", "flows")

/* How the value of a numeric option is checked before it is sent. */
enum ctl_number_kind {
	NUMBER_INTEGER,		/* -?[0-9]+ */
	NUMBER_DECIMAL,		/* -?[0-9]+(.[0-9]*)? or -?.[0-9]+ */
};

/*
 * The emulation options of one direction of an uplink: id, option, JSON
 * key in the "egress" and "ingress" objects, kind of number, the word that
 * stands for null (NULL: none), and for --help the argument and what it
 * sets.  "--delay" sets both directions, "--egress-delay" and
 * "--ingress-delay" one each.
 */
#define FOREACH_EMU_FIELD(X) \
	X(RATE, "rate", "rate_kbps", NUMBER_INTEGER, "unlimited", \
	    "KBIT/S", "link rate in kbit/s, or unlimited") \
	X(DELAY, "delay", "delay_ms", NUMBER_DECIMAL, NULL, \
	    "MS", "one-way delay added") \
	X(JITTER, "jitter", "jitter_ms", NUMBER_DECIMAL, NULL, \
	    "MS", "variation of the delay (standard deviation)") \
	X(LOSS, "loss", "loss_percent", NUMBER_DECIMAL, NULL, \
	    "PERCENT", "random loss") \
	X(SLOT, "slot", "slot_ms", NUMBER_DECIMAL, NULL, \
	    "MS", "slotted access: frames leave at multiples of it") \
	X(QUEUE, "queue", "queue_kb", NUMBER_INTEGER, NULL, \
	    "KIB", "bottleneck queue (0: 100 ms at the rate)")

/* Long options without a short form. */
enum {
	OPT_DESCRIPTION = 256,
	OPT_CASCADE,
	OPT_SUBNET,
	OPT_SUBNET6,
	OPT_VIA,
	OPT_PEER,
	OPT_UPLINK,
	OPT_INTERFACE,
	OPT_ADDRESS,
	OPT_NETNS,
	OPT_DRIVER,
	OPT_ENDPOINT,
	OPT_PROFILE,
	OPT_SEED,
	OPT_UP,
	OPT_DOWN,
	OPT_FLAP,
	OPT_NO_FLAP,
	OPT_SINCE,
	OPT_NETWORK,
	OPT_LIMIT,
#define X(id, option, key) OPT_QUOTA_##id,
	FOREACH_QUOTA(X)
#undef X
#define X(id, option, key, kind, null_word, arg, help) \
	OPT_EMU_##id, OPT_EMU_EGRESS_##id, OPT_EMU_INGRESS_##id,
	FOREACH_EMU_FIELD(X)
#undef X
};

static const struct ctl_quota_option {
	int opt;
	const char *option;	/* on the command line */
	const char *key;	/* in the "quotas" object */
} ctl_quota_options[] = {
#define X(id, option, key) { OPT_QUOTA_##id, option, key },
	FOREACH_QUOTA(X)
#undef X
};

static const struct ctl_emu_option {
	int opt_both, opt_egress, opt_ingress;
	const char *option;	/* on the command line, without "egress-" */
	const char *key;	/* in the "egress" and "ingress" objects */
	enum ctl_number_kind kind;
	const char *null_word;	/* given for null, or NULL */
	const char *arg;	/* for --help */
	const char *help;
} ctl_emu_options[] = {
#define X(id, option, key, kind, null_word, arg, help) \
	{ OPT_EMU_##id, OPT_EMU_EGRESS_##id, OPT_EMU_INGRESS_##id, \
	    option, key, kind, null_word, arg, help },
	FOREACH_EMU_FIELD(X)
#undef X
};

/* Which directions an emulation option sets. */
enum {
	DIR_EGRESS = 1 << 0,
	DIR_INGRESS = 1 << 1,
};

_Static_assert(sizeof(json_int_t) == sizeof(long long),
    "quota values are parsed up to LLONG_MAX");

/* ---- help -------------------------------------------------------------- */

/* What EMULATION OPTIONS stands for, from ctl_emu_options[]. */
void
ctl_print_emulation_options(FILE *out)
{
	size_t i;

	fputs("\nEmulation options (uplink create, uplink set):\n"
	    "  --profile NAME          ethernet, wifi, lte, 5g, "
	    "satellite-geo, satellite-leo,\n"
	    "                          or off (no emulation)\n"
	    "  --seed N                seed of the random loss and jitter\n",
	    out);
	for (i = 0; i < NELEM(ctl_emu_options); i++)
		fprintf(out, "  --%s %-*s %s\n", ctl_emu_options[i].option,
		    (int)(20 - strlen(ctl_emu_options[i].option)),
		    ctl_emu_options[i].arg, ctl_emu_options[i].help);
	fputs("  --rate to --queue set both directions; --egress-rate, "
	    "--ingress-rate\n  and so on set one.\n", out);
}

/* ---- values ------------------------------------------------------------ */

/* A whole non-negative decimal number that fits a JSON integer. */
int
ctl_parse_count(const char *text, json_int_t *value)
{
	unsigned long long n;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1;	/* strtoull would accept " 1", "+1", "-1" */
	errno = 0;
	n = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || n > (unsigned long long)LLONG_MAX)
		return -1;
	*value = (json_int_t)n;
	return 0;
}

/* A whole number, possibly negative, that fits a JSON integer. */
int
ctl_parse_integer(const char *text, json_int_t *value)
{
	const char *digits = text + (text[0] == '-');
	long long n;
	char *end;

	if (!isdigit((unsigned char)digits[0]))
		return -1;	/* strtoll would accept " 1" and "+1" */
	errno = 0;
	n = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*value = (json_int_t)n;
	return 0;
}

/*
 * A decimal number: "20", "0.5", ".5", "-3".  Only digits and one point,
 * so none of what strtod also takes ("1e3", "0x10", "inf", "nan", " 1").
 */
static int
ctl_parse_decimal(const char *text, double *value)
{
	const char *p = text + (text[0] == '-');
	size_t whole = strspn(p, "0123456789"), frac = 0;
	char *end;

	if (p[whole] == '.')
		frac = strspn(p + whole + 1, "0123456789") + 1;
	if ((whole == 0 && frac <= 1) || p[whole + frac] != '\0')
		return -1;
	errno = 0;
	*value = strtod(text, &end);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

int
ctl_set_string(json_t *object, const char *key, const char *value,
    const char *what, struct cnw_error *err)
{
	json_t *string = json_string(value);

	if (string == NULL)
		return cnw_err(err, CNW_EINVAL, "%s is not valid UTF-8", what);
	return json_object_set_new(object, key, string);
}

/* The object at KEY of OBJECT, made on first use; NULL without memory. */
json_t *
ctl_member_object(json_t *object, const char *key)
{
	json_t *member = json_object_get(object, key);

	if (member == NULL) {
		member = json_object();
		if (json_object_set_new(object, key, member) != 0)
			return NULL;
	}
	return member;
}

/* ---- tenants, networks, routes, peers, deletes ------------------------- */

static int
ctl_set_quota(json_t *body, const struct ctl_quota_option *quota,
    const char *value, struct cnw_error *err)
{
	/* Only bandwidth may be "none", no cap (null): the others always have one. */
	int nullable = strcmp(quota->key, "bandwidth_kbps") == 0;
	json_t *quotas;
	json_int_t n = 0;

	if (!(nullable && strcmp(value, "none") == 0) && ctl_parse_count(value, &n) != 0)
		return cnw_err(err, CNW_EINVAL,
		    "--%s: '%s' is not a whole non-negative number%s",
		    quota->option, value, nullable ? " or \"none\"" : "");
	if ((quotas = ctl_member_object(body, "quotas")) == NULL)
		return -1;
	return json_object_set_new(quotas, quota->key,
	    nullable && strcmp(value, "none") == 0 ? json_null() : json_integer(n));
}

/* Options of tenant create and update: each given one goes in the body. */
static int
ctl_tenant_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	size_t i;

	if (opt == OPT_DESCRIPTION)
		return ctl_set_string(args->body, "description", value,
		    "--description", err);
	for (i = 0; i < NELEM(ctl_quota_options); i++) {
		if (ctl_quota_options[i].opt == opt)
			return ctl_set_quota(args->body, &ctl_quota_options[i],
			    value, err);
	}
	return -1;
}

static int
ctl_tenant_update_finish(struct ctl_args *args, struct cnw_error *err)
{
	if (json_object_size(args->body) == 0)
		return cnw_err(err, CNW_EINVAL,
		    "nothing to update: give --description or a quota");
	return 0;
}

static int
ctl_delete_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	(void)value;
	(void)err;
	if (opt != OPT_CASCADE)
		return -1;
	args->query[CTL_QUERY_CASCADE] = "true";
	return 0;
}

/* Appends VALUE to the list at KEY of OBJECT, made on first use. */
static int
ctl_append_string(json_t *object, const char *key, const char *value,
    const char *what, struct cnw_error *err)
{
	json_t *list = json_object_get(object, key);
	json_t *string = json_string(value);

	if (string == NULL)
		return cnw_err(err, CNW_EINVAL, "%s is not valid UTF-8", what);
	if (list == NULL) {
		list = json_array();
		if (json_object_set_new(object, key, list) != 0) {
			json_decref(string);
			return -1;
		}
	}
	return json_array_append_new(list, string);
}

/* Options of network create: each given one goes in the body. */
static int
ctl_network_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	if (opt == OPT_SUBNET)
		return ctl_set_string(args->body, "subnet", value, "--subnet",
		    err);
	if (opt == OPT_SUBNET6)
		return ctl_set_string(args->body, "subnet6", value,
		    "--subnet6", err);
	if (opt == OPT_PEER)
		return ctl_set_string(args->body, "peer", value, "--peer", err);
	/* Repeatable: the uplinks in order of preference, as given. */
	if (opt == OPT_UPLINK)
		return ctl_append_string(args->body, "uplinks", value,
		    "--uplink", err);
	return -1;
}

static int
ctl_network_finish(struct ctl_args *args, struct cnw_error *err)
{
	if (json_object_get(args->body, "subnet") == NULL)
		return cnw_err(err, CNW_EINVAL, "missing option --subnet");
	return 0;
}

/*
 * Options of route add.  Without --via the body has no "via" and the API's
 * default (fastpath) holds.
 */
static int
ctl_route_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	if (opt == OPT_VIA)
		return ctl_set_string(args->body, "via", value, "--via", err);
	return -1;
}

/*
 * --endpoint UPLINK=ADDRESS:PORT of peer create, repeatable: one member of
 * the body's "endpoints" object per uplink.  Only the split and the uplink
 * given twice are caught here.
 */
static int
ctl_peer_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	const char *eq = strchr(value, '=');
	json_t *endpoints, *whole;
	char *uplink;
	int rc;

	if (opt != OPT_ENDPOINT)
		return -1;
	if ((whole = json_string(value)) == NULL)
		return cnw_err(err, CNW_EINVAL,
		    "--endpoint is not valid UTF-8");
	json_decref(whole);
	if (eq == NULL || eq == value || eq[1] == '\0')
		return cnw_err(err, CNW_EINVAL,
		    "--endpoint: '%s' is not UPLINK=ADDRESS:PORT", value);
	if ((uplink = strndup(value, (size_t)(eq - value))) == NULL ||
	    (endpoints = ctl_member_object(args->body, "endpoints")) == NULL) {
		free(uplink);
		return cnw_err(err, CNW_EINVAL, "out of memory");
	}
	if (json_object_get(endpoints, uplink) != NULL)
		rc = cnw_err(err, CNW_EINVAL,
		    "--endpoint: uplink '%s' given twice", uplink);
	else
		rc = ctl_set_string(endpoints, uplink, eq + 1, "--endpoint",
		    err);
	free(uplink);
	return rc;
}

static int
ctl_peer_finish(struct ctl_args *args, struct cnw_error *err)
{
	if (json_object_get(args->body, "endpoints") == NULL)
		return cnw_err(err, CNW_EINVAL, "missing option --endpoint");
	return 0;
}

/* ---- uplinks ----------------------------------------------------------- */

static const struct ctl_emu_option *
ctl_find_emu_option(int opt, unsigned *dirs)
{
	size_t i;

	for (i = 0; i < NELEM(ctl_emu_options); i++) {
		const struct ctl_emu_option *e = &ctl_emu_options[i];

		*dirs = opt == e->opt_both ? DIR_EGRESS | DIR_INGRESS :
		    opt == e->opt_egress ? DIR_EGRESS :
		    opt == e->opt_ingress ? DIR_INGRESS : 0;
		if (*dirs != 0)
			return e;
	}
	return NULL;
}

/*
 * The JSON value of an emulation option: an integer or a real as its row
 * says, or null for its null word; NULL after saying why not.
 */
static json_t *
ctl_emu_value(const struct ctl_emu_option *e, unsigned dirs,
    const char *text, struct cnw_error *err)
{
	const char *prefix = dirs == DIR_EGRESS ? "egress-" :
	    dirs == DIR_INGRESS ? "ingress-" : "";
	json_int_t n;
	double x;

	if (e->null_word != NULL && strcmp(text, e->null_word) == 0)
		return json_null();
	if (e->kind == NUMBER_INTEGER && ctl_parse_integer(text, &n) == 0)
		return json_integer(n);
	if (e->kind == NUMBER_DECIMAL && ctl_parse_decimal(text, &x) == 0)
		return json_real(x);
	cnw_err(err, CNW_EINVAL, "--%s%s: '%s' is not a %s%s%s%s", prefix,
	    e->option, text,
	    e->kind == NUMBER_INTEGER ? "whole number" : "number",
	    e->null_word != NULL ? " or '" : "",
	    e->null_word != NULL ? e->null_word : "",
	    e->null_word != NULL ? "'" : "");
	return NULL;
}

/* Sets the option's key in DIR (egress or ingress) of EMULATION. */
static int
ctl_set_emu_dir(json_t *emulation, const char *dir,
    const struct ctl_emu_option *e, json_t *value)
{
	json_t *object = ctl_member_object(emulation, dir);

	if (object == NULL)
		return -1;
	return json_object_set(object, e->key, value);
}

/* Sets the option's key in each direction in DIRS of "emulation". */
static int
ctl_set_emu_field(json_t *body, const struct ctl_emu_option *e,
    unsigned dirs, const char *text, struct cnw_error *err)
{
	json_t *emulation, *value;
	int rc = 0;

	if ((value = ctl_emu_value(e, dirs, text, err)) == NULL)
		return -1;
	if ((emulation = ctl_member_object(body, "emulation")) == NULL)
		rc = -1;
	if (rc == 0 && (dirs & DIR_EGRESS) != 0)
		rc = ctl_set_emu_dir(emulation, "egress", e, value);
	if (rc == 0 && (dirs & DIR_INGRESS) != 0)
		rc = ctl_set_emu_dir(emulation, "ingress", e, value);
	json_decref(value);
	return rc;
}

/*
 * --profile, --seed and the per-direction options of uplink create and
 * set; -1 when OPT is none of them.  Given twice, the last one holds, so
 * "--delay 20 --egress-delay 50" is 50 ms out and 20 ms in.
 */
static int
ctl_emulation_option(json_t *body, int opt, const char *value,
    struct cnw_error *err)
{
	const struct ctl_emu_option *e;
	json_t *emulation;
	json_int_t seed;
	unsigned dirs;

	if ((e = ctl_find_emu_option(opt, &dirs)) != NULL)
		return ctl_set_emu_field(body, e, dirs, value, err);
	if (opt != OPT_PROFILE && opt != OPT_SEED)
		return -1;
	if ((emulation = ctl_member_object(body, "emulation")) == NULL)
		return -1;
	if (opt == OPT_PROFILE)
		return ctl_set_string(emulation, "profile", value, "--profile",
		    err);
	if (ctl_parse_integer(value, &seed) != 0)
		return cnw_err(err, CNW_EINVAL,
		    "--seed: '%s' is not a whole number", value);
	return json_object_set_new(emulation, "seed", json_integer(seed));
}

/*
 * Sets KEY of BODY to VALUE unless an earlier option set it otherwise:
 * "--up --down" is a mistake to point out, not a choice of the last.
 */
static int
ctl_set_once(json_t *body, const char *key, json_t *value,
    const char *options, struct cnw_error *err)
{
	json_t *old = json_object_get(body, key);

	if (value == NULL)
		return -1;
	if (old != NULL && !json_equal(old, value)) {
		json_decref(value);
		return cnw_err(err, CNW_EINVAL, "conflicting %s options",
		    options);
	}
	return json_object_set_new(body, key, value);
}

/* --up, --down, --flap and --no-flap; 1 when OPT is none of them. */
static int
ctl_drill_option(json_t *body, int opt, const char *value,
    struct cnw_error *err)
{
	json_t *pattern;

	if (opt == OPT_UP || opt == OPT_DOWN)
		return ctl_set_once(body, "state",
		    json_string(opt == OPT_UP ? "up" : "down"), "--up/--down",
		    err);
	if (opt == OPT_NO_FLAP)
		return ctl_set_once(body, "flap", json_null(),
		    "--flap/--no-flap", err);
	if (opt != OPT_FLAP)
		return 1;
	if ((pattern = json_string(value)) == NULL)
		return cnw_err(err, CNW_EINVAL, "--flap is not valid UTF-8");
	return ctl_set_once(body, "flap", pattern, "--flap/--no-flap", err);
}

/* Options of uplink set: only what is given goes in the PATCH. */
static int
ctl_uplink_set_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	int rc;

	if ((rc = ctl_drill_option(args->body, opt, value, err)) != 1)
		return rc;
	return ctl_emulation_option(args->body, opt, value, err);
}

/* Options of uplink create: each given one goes in the body. */
static int
ctl_uplink_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	static const struct {
		int opt;
		const char *key, *option;
	} strings[] = {
		{ OPT_INTERFACE, "interface", "--interface" },
		{ OPT_ADDRESS, "address", "--address" },
		{ OPT_NETNS, "netns", "--netns" },
		{ OPT_DRIVER, "driver", "--driver" },
	};
	size_t i;

	for (i = 0; i < NELEM(strings); i++) {
		if (strings[i].opt == opt)
			return ctl_set_string(args->body, strings[i].key, value,
			    strings[i].option, err);
	}
	return ctl_uplink_set_option(args, opt, value, err);
}

/*
 * "--profile off" is no emulation at all, which the API takes as
 * "emulation": null; an option that shapes it besides is a contradiction.
 */
static int
ctl_finish_emulation(json_t *body, struct cnw_error *err)
{
	json_t *emulation = json_object_get(body, "emulation");
	const char *profile;

	profile = json_string_value(json_object_get(emulation, "profile"));
	if (profile == NULL || strcmp(profile, "off") != 0)
		return 0;
	if (json_object_size(emulation) > 1)
		return cnw_err(err, CNW_EINVAL,
		    "--profile off takes no other emulation option");
	if (json_object_set_new(body, "emulation", json_null()) != 0)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	return 0;
}

/* No --address check: an afpacket uplink has none, the API knows. */
static int
ctl_uplink_finish(struct ctl_args *args, struct cnw_error *err)
{
	if (json_object_get(args->body, "interface") == NULL)
		return cnw_err(err, CNW_EINVAL, "missing option --interface");
	return ctl_finish_emulation(args->body, err);
}

static int
ctl_uplink_set_finish(struct ctl_args *args, struct cnw_error *err)
{
	if (json_object_size(args->body) == 0)
		return cnw_err(err, CNW_EINVAL, "nothing to change: give an "
		    "emulation option, --up, --down, --flap or --no-flap");
	return ctl_finish_emulation(args->body, err);
}

/* ---- interfaces, events, flows ----------------------------------------- */

/* --netns NS of interface list and show; NS "host" is the host's own. */
static int
ctl_netns_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	(void)err;
	if (opt != OPT_NETNS)
		return -1;
	args->query[CTL_QUERY_NETNS] = value;
	return 0;
}

static int
ctl_events_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	json_int_t since;

	if (opt != OPT_SINCE)
		return -1;
	if (ctl_parse_count(value, &since) != 0)
		return cnw_err(err, CNW_EINVAL, "--since: '%s' is not an event "
		    "id (a whole non-negative number)", value);
	snprintf(args->since, sizeof(args->since), "%" JSON_INTEGER_FORMAT,
	    since);
	args->query[CTL_QUERY_SINCE] = args->since;
	return 0;
}

/* --network NAME and --limit N of flow list. */
static int
ctl_flow_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	json_int_t n;

	if (opt == OPT_NETWORK) {
		args->query[CTL_QUERY_NETWORK] = value;
		return 0;
	}
	if (opt != OPT_LIMIT)
		return -1;
	if (ctl_parse_count(value, &n) != 0)
		return cnw_err(err, CNW_EINVAL,
		    "--limit: '%s' is not a whole non-negative number", value);
	args->query[CTL_QUERY_LIMIT] = value;
	return 0;
}

/* ---- option sets ------------------------------------------------------- */

const struct option ctl_no_longopts[] = {
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_tenant_longopts[] = {
	{ "description", required_argument, NULL, OPT_DESCRIPTION },
#define X(id, option, key) { option, required_argument, NULL, OPT_QUOTA_##id },
	FOREACH_QUOTA(X)
#undef X
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_delete_longopts[] = {
	{ "cascade", no_argument, NULL, OPT_CASCADE },
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_network_longopts[] = {
	{ "subnet", required_argument, NULL, OPT_SUBNET },
	{ "subnet6", required_argument, NULL, OPT_SUBNET6 },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "uplink", required_argument, NULL, OPT_UPLINK },
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_route_longopts[] = {
	{ "via", required_argument, NULL, OPT_VIA },
	OPTION_HELP,
	OPTION_END,
};

/* The options of uplink create and uplink set that shape the emulation. */
#define EMU_FIELD_LONGOPTS(id, option, key, kind, null_word, arg, help) \
	{ option, required_argument, NULL, OPT_EMU_##id }, \
	{ "egress-" option, required_argument, NULL, OPT_EMU_EGRESS_##id }, \
	{ "ingress-" option, required_argument, NULL, OPT_EMU_INGRESS_##id },
#define EMULATION_LONGOPTS \
	{ "profile", required_argument, NULL, OPT_PROFILE }, \
	{ "seed", required_argument, NULL, OPT_SEED }, \
	FOREACH_EMU_FIELD(EMU_FIELD_LONGOPTS)

static const struct option ctl_uplink_longopts[] = {
	{ "interface", required_argument, NULL, OPT_INTERFACE },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "driver", required_argument, NULL, OPT_DRIVER },
	{ "down", no_argument, NULL, OPT_DOWN },
	{ "flap", required_argument, NULL, OPT_FLAP },
	EMULATION_LONGOPTS
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_uplink_set_longopts[] = {
	{ "up", no_argument, NULL, OPT_UP },
	{ "down", no_argument, NULL, OPT_DOWN },
	{ "flap", required_argument, NULL, OPT_FLAP },
	{ "no-flap", no_argument, NULL, OPT_NO_FLAP },
	EMULATION_LONGOPTS
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_peer_longopts[] = {
	{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_netns_longopts[] = {
	{ "netns", required_argument, NULL, OPT_NETNS },
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_flow_longopts[] = {
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_events_longopts[] = {
	{ "since", required_argument, NULL, OPT_SINCE },
	OPTION_HELP,
	OPTION_END,
};

const struct ctl_optset ctl_opts_tenant = {
	ctl_tenant_longopts, ctl_tenant_option, NULL, NULL,
};
const struct ctl_optset ctl_opts_tenant_update = {
	ctl_tenant_longopts, ctl_tenant_option, ctl_tenant_update_finish, NULL,
};
const struct ctl_optset ctl_opts_delete = {
	ctl_delete_longopts, ctl_delete_option, NULL, NULL,
};
const struct ctl_optset ctl_opts_network = {
	ctl_network_longopts, ctl_network_option, ctl_network_finish, NULL,
};
const struct ctl_optset ctl_opts_route = {
	ctl_route_longopts, ctl_route_option, NULL, NULL,
};
const struct ctl_optset ctl_opts_uplink = {
	ctl_uplink_longopts, ctl_uplink_option, ctl_uplink_finish,
	ctl_print_emulation_options,
};
const struct ctl_optset ctl_opts_uplink_set = {
	ctl_uplink_set_longopts, ctl_uplink_set_option, ctl_uplink_set_finish,
	ctl_print_emulation_options,
};
const struct ctl_optset ctl_opts_peer = {
	ctl_peer_longopts, ctl_peer_option, ctl_peer_finish, NULL,
};
const struct ctl_optset ctl_opts_netns = {
	ctl_netns_longopts, ctl_netns_option, NULL, NULL,
};
const struct ctl_optset ctl_opts_flow = {
	ctl_flow_longopts, ctl_flow_option, NULL, NULL,
};
const struct ctl_optset ctl_opts_events = {
	ctl_events_longopts, ctl_events_option, NULL, NULL,
};

/*
 * Parses the options after NOUN VERB (ARGV[0] stands for the program) into
 * ARGS and requires exactly the command's positional arguments.  GNU getopt
 * permutes, so options may come before or after them.  Returns 0 to go on,
 * 1 after --help (stop, exit 0), -1 with ERR filled.
 */
int
ctl_parse_args(const struct ctl_command *cmd, int argc, char **argv,
    struct ctl_args *args, struct cnw_error *err)
{
	const struct ctl_optset *set = cmd->options;
	int opt, i;

	optind = 0;	/* glibc: start over, the global options used it */
	while ((opt = getopt_long(argc, argv, "h",
	    set != NULL ? set->longopts : ctl_no_longopts, NULL)) != -1) {
		if (opt == 'h') {
			ctl_print_usage(stdout, cmd);
			if (set != NULL && set->help != NULL)
				set->help(stdout);
			return 1;
		}
		/* '?': getopt has said why; any other: the handler has. */
		if (opt == '?' || set == NULL ||
		    set->handle(args, opt, optarg, err) != 0) {
			err->kind = CNW_EINVAL;
			return -1;
		}
	}
	if (argc - optind < cmd->npos)
		return cnw_err(err, CNW_EINVAL, "missing argument");
	if (argc - optind > cmd->npos)
		return cnw_err(err, CNW_EINVAL, "unexpected argument '%s'",
		    argv[optind + cmd->npos]);
	for (i = 0; i < cmd->npos; i++)
		args->pos[i] = argv[optind + i];
	if (set != NULL && set->finish != NULL)
		return set->finish(args, err);
	return 0;
}
