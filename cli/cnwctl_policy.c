/*
 * cnwctl_policy.c: the options of "cnwctl policy add".
 *
 * A policy has the most options of any command: what it matches (protocol,
 * prefixes, ports, DSCP) and what it does (action, class, steering over
 * which uplinks, a rate cap, a bound on the delay).  Each is one row of an
 * X-macro: option, JSON key (in the body's "match" object or the body
 * itself) and what the value becomes.  The API checks the values; cnwctl
 * only refuses what is not a number where one is wanted, as a usage error.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <string.h>

#include "cli/cnwctl.h"

/* What the value of a policy option becomes in the body. */
enum ctl_policy_value {
	VALUE_STRING,		/* as given */
	VALUE_INTEGER,		/* a whole number (ctl_parse_integer) */
	VALUE_PROTOCOL,		/* a number 0..255 as an integer, else a name */
	VALUE_INTEGER_LIST,	/* "1,2,3": a list of whole numbers */
	VALUE_STRING_LIST,	/* "a,b": a list of names */
};

/*
 * The options of policy add: id, option, JSON key (in the body's "match"
 * object when MATCH is true), what the value becomes.
 */
#define FOREACH_POLICY_OPTION(X) \
	X(PRIORITY, "priority", "priority", false, VALUE_INTEGER) \
	X(PROTOCOL, "protocol", "protocol", true, VALUE_PROTOCOL) \
	X(SRC, "src", "src_prefix", true, VALUE_STRING) \
	X(DST, "dst", "dst_prefix", true, VALUE_STRING) \
	X(SPORT, "sport", "src_ports", true, VALUE_STRING) \
	X(DPORT, "dport", "dst_ports", true, VALUE_STRING) \
	X(DSCP, "dscp", "dscp", true, VALUE_INTEGER_LIST) \
	X(ACTION, "action", "action", false, VALUE_STRING) \
	X(CLASS, "class", "class", false, VALUE_STRING) \
	X(STEERING, "steering", "steering", false, VALUE_STRING) \
	X(UPLINKS, "uplinks", "uplinks", false, VALUE_STRING_LIST) \
	X(WEIGHTS, "weights", "weights", false, VALUE_INTEGER_LIST) \
	X(RATE, "rate", "rate_kbps", false, VALUE_INTEGER) \
	X(BURST, "burst", "burst_kb", false, VALUE_INTEGER) \
	X(MAX_LATENCY, "max-latency", "max_latency_ms", false, VALUE_INTEGER)

/* Long options without a short form. */
enum {
	OPT_POLICY_FIRST = 255,
#define X(id, option, key, match, value) OPT_POLICY_##id,
	FOREACH_POLICY_OPTION(X)
#undef X
};

static const struct ctl_policy_option {
	int opt;
	const char *option;	/* on the command line */
	const char *key;	/* in the body, or in its "match" */
	bool match;
	enum ctl_policy_value value;
} ctl_policy_options[] = {
#define X(id, option, key, match, value) \
	{ OPT_POLICY_##id, option, key, match, value },
	FOREACH_POLICY_OPTION(X)
#undef X
};

/* What the values of policy add's options are (the API checks them). */
void
ctl_print_policy_options(FILE *out)
{
	fputs("\nPolicy options (policy add):\n"
	    "  --priority N            lower first; then by creation (default: after\n"
	    "                          the tenant's last policy)\n"
	    "  --protocol P            tcp, udp, icmp, icmpv6, sctp, udplite or a "
	    "number\n"
	    "  --src, --dst PREFIX     source, destination prefix (10.2.0.0/24)\n"
	    "  --sport, --dport PORTS  a port (443) or a range (5000-5100)\n"
	    "  --dscp N[,N...]         DSCP values, 0 to 63\n"
	    "  --action ACTION         allow (default) or deny\n"
	    "  --class CLASS           realtime, interactive, bulk (default), "
	    "background\n"
	    "  --steering MODE         active-standby (default), smallest-delay,\n"
	    "                          load-balance, priority, redundant\n"
	    "  --uplinks A[,B...]      in order of preference (default: the "
	    "network's)\n"
	    "  --weights N[,N...]      load-balance: one weight per uplink\n"
	    "  --rate KBPS             cap over the policy's flows, in kbit/s\n"
	    "  --burst KB              the cap's burst in KiB (default: 50 ms at "
	    "the rate,\n"
	    "                          at least 64)\n"
	    "  --max-latency MS        bound on the delay of the path\n",
	    out);
}

/* ---- policies ---------------------------------------------------------- */

/* One item of a list option: a whole number or a string, as the row says. */
static json_t *
ctl_list_item(const struct ctl_policy_option *o, const char *item,
    struct cnw_error *err)
{
	json_int_t number;
	json_t *value;

	if (o->value == VALUE_INTEGER_LIST) {
		if (ctl_parse_integer(item, &number) == 0)
			return json_integer(number);
		cnw_err(err, CNW_EINVAL, "--%s: '%s' is not a whole number",
		    o->option, item);
		return NULL;
	}
	if ((value = json_string(item)) == NULL)
		cnw_err(err, CNW_EINVAL, "--%s is not valid UTF-8", o->option);
	return value;
}

/*
 * "46,34" or "wan1,wan2": a JSON list of whole numbers or of strings, in
 * the order given; an empty item is an error.
 */
static json_t *
ctl_split_list(const struct ctl_policy_option *o, const char *text,
    struct cnw_error *err)
{
	json_t *list = json_array(), *value = NULL;
	const char *p = text;
	char *item;
	size_t n;

	for (; list != NULL; p += n + 1) {
		n = strcspn(p, ",");
		if ((item = strndup(p, n)) == NULL)
			cnw_err(err, CNW_EINVAL, "out of memory");
		else if (n == 0)
			cnw_err(err, CNW_EINVAL, "--%s: '%s' has an empty item",
			    o->option, text);
		else
			value = ctl_list_item(o, item, err);
		free(item);
		if (item == NULL || n == 0 || value == NULL ||
		    json_array_append_new(list, value) != 0) {
			json_decref(list);
			return NULL;
		}
		if (p[n] == '\0')
			break;
	}
	return list;
}

/* The JSON value of a policy option; NULL after saying why. */
static json_t *
ctl_policy_value(const struct ctl_policy_option *o, const char *text,
    struct cnw_error *err)
{
	json_int_t n;
	json_t *value;

	switch (o->value) {
	case VALUE_INTEGER:
		if (ctl_parse_integer(text, &n) == 0)
			return json_integer(n);
		cnw_err(err, CNW_EINVAL, "--%s: '%s' is not a whole number",
		    o->option, text);
		return NULL;
	case VALUE_PROTOCOL:
		/* A number is the protocol's number: 17, not "17". */
		if (ctl_parse_count(text, &n) == 0)
			return json_integer(n);
		break;
	case VALUE_INTEGER_LIST:
	case VALUE_STRING_LIST:
		return ctl_split_list(o, text, err);
	case VALUE_STRING:
		break;
	}
	if ((value = json_string(text)) == NULL)
		cnw_err(err, CNW_EINVAL, "--%s is not valid UTF-8", o->option);
	return value;
}

/* Options of policy add: each given one goes in the body, or its "match". */
static int
ctl_policy_option(struct ctl_args *args, int opt, const char *value,
    struct cnw_error *err)
{
	const struct ctl_policy_option *o = NULL;
	json_t *object, *json;
	size_t i;

	for (i = 0; i < NELEM(ctl_policy_options); i++) {
		if (ctl_policy_options[i].opt == opt)
			o = &ctl_policy_options[i];
	}
	if (o == NULL)
		return -1;
	object = o->match ? ctl_member_object(args->body, "match") : args->body;
	if (object == NULL)
		return cnw_err(err, CNW_EINVAL, "out of memory");
	if ((json = ctl_policy_value(o, value, err)) == NULL)
		return -1;
	/* Given twice, the last one holds. */
	return json_object_set_new(object, o->key, json);
}

static const struct option ctl_policy_longopts[] = {
#define X(id, option, key, match, value) \
	{ option, required_argument, NULL, OPT_POLICY_##id },
	FOREACH_POLICY_OPTION(X)
#undef X
	OPTION_HELP,
	OPTION_END,
};

const struct ctl_optset ctl_opts_policy = {
	ctl_policy_longopts, ctl_policy_option, NULL, ctl_print_policy_options,
};
