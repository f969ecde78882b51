/*
 * cnwctl.c: the command-line client of cnwd.
 *
 * cnwctl is how the admin of a host talks to cnwd: it turns
 * "cnwctl [global options] NOUN VERB [ARGS]" into one REST request on the
 * daemon's Unix socket (libcurl, CURLOPT_UNIX_SOCKET_PATH), then prints the
 * reply through cnwctl_output.c.  It keeps no state between runs and never
 * interprets the API's objects beyond what it shows; the API is the
 * contract (docs/rest-api.md), the command line is docs/cli-and-config.md.
 * One command does more than show: "exec" asks the API for a network's
 * namespace, enters it with setns(2) and becomes the command it was given.
 * One list has a head: "flow list" prints the tenant's flow counts above
 * its table.  One reply is not JSON: "metrics" prints the Prometheus text of
 * GET /metrics as it comes.  One reply does not end: "events" prints the
 * server-sent events of GET /v1/events one line each as they arrive, until
 * interrupted.  Three commands need no daemon at all: "driver keygen",
 * "sign" and "verify" (cnwctl_driver.c) work on files where a plug-in is
 * built.
 *
 * Commands are rows of commands[] ({noun, verb, handler, usage}); adding a
 * command is adding a handler and one row.  Every step returns an exit
 * status, 0 meaning "go on", so a handler reads as a chain of
 * "if (rc == 0) rc = next_step(...)": 1 is an error reported by the API or
 * the transport, 2 a usage error; STATUS_DONE stops early with exit 0
 * (after --help).  Whoever detects an error prints it, once, as
 * "cnwctl: ..." on stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "cnwctl_driver.h"
#include "cnwctl_output.h"

#define DEFAULT_SOCKET		"/run/cnw/cnwd.sock"
#define DEFAULT_TOKEN_FILE	"/var/lib/cnw/admin.token"
#define REQUEST_TIMEOUT_S	30L
#define MAX_REPLY_BYTES		(64u << 20)
#define MAX_TOKEN_BYTES		4096
#define MAX_EVENT_BYTES		(1u << 20)	/* one line of an event stream */
#define NETNS_DIR		"/run/netns"	/* where "ip netns" keeps them */

enum status {
	STATUS_OK = 0,
	STATUS_FAILURE = 1,	/* the API or the transport failed */
	STATUS_USAGE = 2,	/* bad command line */
	STATUS_DONE = 3,	/* internal: stop now, exit 0 */
	STATUS_NOT_RUN = 127,	/* exec: the command could not be run */
};

/* Which requests carry the bearer token: all but GET /v1. */
enum auth {
	AUTH_NONE,
	AUTH_BEARER,
};

/* The quota options of tenant create/update: id, option, JSON key. */
#define FOREACH_QUOTA(X) \
	X(NETWORKS, "networks", "networks") \
	X(BANDWIDTH_KBPS, "bandwidth-kbps", "bandwidth_kbps") \
	X(FLOWS, "flows", "flows")

/* How the value of a numeric option is checked before it is sent. */
enum number_kind {
	NUMBER_INTEGER,		/* -?[0-9]+ */
	NUMBER_DECIMAL,		/* -?[0-9]+(.[0-9]*)? or -?.[0-9]+ */
};

/*
 * The emulation options of one direction of an uplink: id, option, JSON
 * key in the "egress" and "ingress" objects, kind of number, the word that
 * stands for null (NULL: none), and for --help the argument and what it
 * sets.  "--delay" sets both directions, "--egress-delay" and
 * "--ingress-delay" one each.  The ranges are the API's to check.
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

/* What the value of a policy option becomes in the body. */
enum policy_value {
	VALUE_STRING,		/* as given */
	VALUE_INTEGER,		/* a whole number (parse_integer) */
	VALUE_PROTOCOL,		/* a number 0..255 as an integer, else a name */
	VALUE_INTEGER_LIST,	/* "1,2,3": a list of whole numbers */
	VALUE_STRING_LIST,	/* "a,b": a list of names */
};

/*
 * The options of policy add: id, option, JSON key (in the body's "match"
 * object when MATCH is true), what the value becomes.  The API checks the
 * values; cnwctl only refuses what is not a number where one is wanted.
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
	OPT_SOCKET = 256,
	OPT_TOKEN_FILE,
	OPT_DESCRIPTION,
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
#define X(id, option, key, match, value) OPT_POLICY_##id,
	FOREACH_POLICY_OPTION(X)
#undef X
#define X(id, option, key) OPT_QUOTA_##id,
	FOREACH_QUOTA(X)
#undef X
#define X(id, option, key, kind, null_word, arg, help) \
	OPT_EMU_##id, OPT_EMU_EGRESS_##id, OPT_EMU_INGRESS_##id,
	FOREACH_EMU_FIELD(X)
#undef X
};

/* What the global options decided; the token is read on first need. */
struct ctx {
	const char *socket_path;
	const char *token_file;
	bool token_file_given;		/* --token-file beats $CNW_TOKEN */
	enum cnwctl_format format;
	char *token;
};

struct command {
	const char *noun;
	const char *verb;	/* NULL: a one-word command ("version") */
	int (*handler)(struct ctx *ctx, const struct command *cmd,
		       int argc, char **argv);
	const char *usage;	/* what follows "cnwctl " */
};

/* Handles one command option; returns 0, or -1 after printing why not. */
typedef int option_handler(int opt, const char *value, void *arg);

#define OPTION_HELP	{ "help", no_argument, NULL, 'h' }
#define OPTION_END	{ NULL, 0, NULL, 0 }

static const struct option no_longopts[] = {
	OPTION_HELP,
	OPTION_END,
};

static const struct option tenant_longopts[] = {
	{ "description", required_argument, NULL, OPT_DESCRIPTION },
#define X(id, option, key) { option, required_argument, NULL, OPT_QUOTA_##id },
	FOREACH_QUOTA(X)
#undef X
	OPTION_HELP,
	OPTION_END,
};

static const struct option delete_longopts[] = {
	{ "cascade", no_argument, NULL, OPT_CASCADE },
	OPTION_HELP,
	OPTION_END,
};

static const struct option network_longopts[] = {
	{ "subnet", required_argument, NULL, OPT_SUBNET },
	{ "subnet6", required_argument, NULL, OPT_SUBNET6 },
	{ "peer", required_argument, NULL, OPT_PEER },
	{ "uplink", required_argument, NULL, OPT_UPLINK },
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

static const struct option uplink_longopts[] = {
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

static const struct option uplink_set_longopts[] = {
	{ "up", no_argument, NULL, OPT_UP },
	{ "down", no_argument, NULL, OPT_DOWN },
	{ "flap", required_argument, NULL, OPT_FLAP },
	{ "no-flap", no_argument, NULL, OPT_NO_FLAP },
	EMULATION_LONGOPTS
	OPTION_HELP,
	OPTION_END,
};

static const struct option netns_longopts[] = {
	{ "netns", required_argument, NULL, OPT_NETNS },
	OPTION_HELP,
	OPTION_END,
};

static const struct option events_longopts[] = {
	{ "since", required_argument, NULL, OPT_SINCE },
	OPTION_HELP,
	OPTION_END,
};

static const struct option peer_longopts[] = {
	{ "endpoint", required_argument, NULL, OPT_ENDPOINT },
	OPTION_HELP,
	OPTION_END,
};

static const struct option route_longopts[] = {
	{ "via", required_argument, NULL, OPT_VIA },
	OPTION_HELP,
	OPTION_END,
};

static const struct option policy_longopts[] = {
#define X(id, option, key, match, value) \
	{ option, required_argument, NULL, OPT_POLICY_##id },
	FOREACH_POLICY_OPTION(X)
#undef X
	OPTION_HELP,
	OPTION_END,
};

static const struct option flow_longopts[] = {
	{ "network", required_argument, NULL, OPT_NETWORK },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	OPTION_HELP,
	OPTION_END,
};

static const struct policy_option {
	int opt;
	const char *option;	/* on the command line */
	const char *key;	/* in the body, or in its "match" */
	bool match;
	enum policy_value value;
} policy_options[] = {
#define X(id, option, key, match, value) \
	{ OPT_POLICY_##id, option, key, match, value },
	FOREACH_POLICY_OPTION(X)
#undef X
};

static const struct quota_option {
	int opt;
	const char *option;	/* on the command line */
	const char *key;	/* in the "quotas" object */
} quota_options[] = {
#define X(id, option, key) { OPT_QUOTA_##id, option, key },
	FOREACH_QUOTA(X)
#undef X
};

static const struct emu_option {
	int opt_both, opt_egress, opt_ingress;
	const char *option;	/* on the command line, without "egress-" */
	const char *key;	/* in the "egress" and "ingress" objects */
	enum number_kind kind;
	const char *null_word;	/* given for null, or NULL */
	const char *arg;	/* for --help */
	const char *help;
} emu_options[] = {
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

/* ---- messages ---------------------------------------------------------- */

static void __attribute__((format(printf, 1, 2)))
report_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cnwctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int
out_of_memory(void)
{
	report_error("out of memory");
	return STATUS_FAILURE;
}

static void
print_usage_line(FILE *out, const struct command *cmd)
{
	fprintf(out, "usage: cnwctl %s\n", cmd->usage);
}

/* What EMULATION OPTIONS stands for, from emu_options[]. */
static void
print_emulation_options(FILE *out)
{
	size_t i;

	fputs("\nEmulation options (uplink create, uplink set):\n"
	      "  --profile NAME          ethernet, wifi, lte, 5g, "
	      "satellite-geo, satellite-leo,\n"
	      "                          or off (no emulation)\n"
	      "  --seed N                seed of the random loss and jitter\n",
	      out);
	for (i = 0; i < sizeof emu_options / sizeof emu_options[0]; i++)
		fprintf(out, "  --%s %-*s %s\n", emu_options[i].option,
			(int)(20 - strlen(emu_options[i].option)),
			emu_options[i].arg, emu_options[i].help);
	fputs("  --rate to --queue set both directions; --egress-rate, "
	      "--ingress-rate\n  and so on set one.\n", out);
}

/* What the values of policy add's options are (the API checks them). */
static void
print_policy_options(FILE *out)
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

/* -h of a command: its usage, and what its placeholders stand for. */
static void
print_command_help(const struct command *cmd)
{
	print_usage_line(stdout, cmd);
	if (strstr(cmd->usage, "EMULATION OPTIONS") != NULL)
		print_emulation_options(stdout);
	if (strstr(cmd->usage, "--steering MODE") != NULL)
		print_policy_options(stdout);
}

/* MESSAGE may be NULL when getopt already said what was wrong. */
static int
command_usage_error(const struct command *cmd, const char *message)
{
	if (message != NULL)
		report_error("%s", message);
	print_usage_line(stderr, cmd);
	return STATUS_USAGE;
}

static void
print_synopsis(FILE *out)
{
	fputs("usage: cnwctl [--socket PATH] [--token-file FILE] "
	      "[-o table|json] NOUN VERB [ARGS]\n", out);
}

static int
global_usage_error(const char *message)
{
	if (message != NULL)
		report_error("%s", message);
	print_synopsis(stderr);
	fputs("Run 'cnwctl --help' for the list of commands.\n", stderr);
	return STATUS_USAGE;
}

/* ---- command options --------------------------------------------------- */

/* A whole non-negative decimal number that fits a JSON integer. */
static int
parse_count(const char *text, json_int_t *value)
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

/*
 * A whole number, possibly negative, that fits a JSON integer.  Whether it
 * is in range is the API's to say.
 */
static int
parse_integer(const char *text, json_int_t *value)
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
parse_decimal(const char *text, double *value)
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

/*
 * Parses the options after NOUN VERB (ARGV[0] stands for the program) and
 * requires exactly NPOS positional arguments, stored in POS.  GNU getopt
 * permutes, so options may come before or after the positional arguments.
 */
static int
parse_command(const struct command *cmd, int argc, char **argv,
	      const struct option *longopts, option_handler *handle,
	      void *arg, int npos, const char **pos)
{
	int opt, i;

	optind = 0;	/* glibc: start over, the global options used it */
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			print_command_help(cmd);
			return STATUS_DONE;
		}
		if (opt == '?' || handle == NULL || handle(opt, optarg, arg) != 0)
			return command_usage_error(cmd, NULL);
	}
	if (argc - optind < npos)
		return command_usage_error(cmd, "missing argument");
	if (argc - optind > npos) {
		report_error("unexpected argument '%s'", argv[optind + npos]);
		return command_usage_error(cmd, NULL);
	}
	for (i = 0; i < npos; i++)
		pos[i] = argv[optind + i];
	return STATUS_OK;
}

static int
set_string(json_t *object, const char *key, const char *value,
	   const char *what)
{
	json_t *string = json_string(value);

	if (string == NULL) {
		report_error("%s is not valid UTF-8", what);
		return -1;
	}
	return json_object_set_new(object, key, string);
}

/* The object at KEY of OBJECT, made on first use; NULL without memory. */
static json_t *
member_object(json_t *object, const char *key)
{
	json_t *member = json_object_get(object, key);

	if (member == NULL) {
		member = json_object();
		if (json_object_set_new(object, key, member) != 0)
			return NULL;
	}
	return member;
}

/* Appends VALUE to the list at KEY of OBJECT, made on first use. */
static int
append_string(json_t *object, const char *key, const char *value,
	      const char *what)
{
	json_t *list = json_object_get(object, key);
	json_t *string = json_string(value);

	if (string == NULL) {
		report_error("%s is not valid UTF-8", what);
		return -1;
	}
	if (list == NULL) {
		list = json_array();
		if (json_object_set_new(object, key, list) != 0) {
			json_decref(string);
			return -1;
		}
	}
	return json_array_append_new(list, string);
}

static const struct quota_option *
find_quota(int opt)
{
	size_t i;

	for (i = 0; i < sizeof quota_options / sizeof quota_options[0]; i++) {
		if (quota_options[i].opt == opt)
			return &quota_options[i];
	}
	return NULL;
}

static int
set_quota(json_t *body, const struct quota_option *quota, const char *value)
{
	json_t *quotas = json_object_get(body, "quotas");
	json_int_t n;

	if (parse_count(value, &n) != 0) {
		report_error("--%s: '%s' is not a whole non-negative number",
		      quota->option, value);
		return -1;
	}
	if (quotas == NULL) {
		quotas = json_object();
		if (json_object_set_new(body, "quotas", quotas) != 0)
			return -1;
	}
	return json_object_set_new(quotas, quota->key, json_integer(n));
}

/* Options of tenant create and update: each given one goes in the body. */
static int
tenant_option(int opt, const char *value, void *arg)
{
	json_t *body = arg;
	const struct quota_option *quota = find_quota(opt);

	if (opt == OPT_DESCRIPTION)
		return set_string(body, "description", value, "--description");
	if (quota != NULL)
		return set_quota(body, quota, value);
	return -1;
}

static int
delete_option(int opt, const char *value, void *arg)
{
	bool *cascade = arg;

	(void)value;
	if (opt != OPT_CASCADE)
		return -1;
	*cascade = true;
	return 0;
}

/* Options of network create: each given one goes in the body. */
static int
network_option(int opt, const char *value, void *arg)
{
	json_t *body = arg;

	if (opt == OPT_SUBNET)
		return set_string(body, "subnet", value, "--subnet");
	if (opt == OPT_SUBNET6)
		return set_string(body, "subnet6", value, "--subnet6");
	if (opt == OPT_PEER)
		return set_string(body, "peer", value, "--peer");
	/* Repeatable: the uplinks in order of preference, as given. */
	if (opt == OPT_UPLINK)
		return append_string(body, "uplinks", value, "--uplink");
	return -1;
}

static const struct emu_option *
find_emu_option(int opt, unsigned *dirs)
{
	size_t i;

	for (i = 0; i < sizeof emu_options / sizeof emu_options[0]; i++) {
		const struct emu_option *e = &emu_options[i];

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
 * says, or null for its null word.  Only what is not a number is refused
 * here, naming the option as given; the ranges are the API's.
 */
static json_t *
emu_value(const struct emu_option *e, unsigned dirs, const char *text)
{
	const char *prefix = dirs == DIR_EGRESS ? "egress-" :
			     dirs == DIR_INGRESS ? "ingress-" : "";
	json_int_t n;
	double x;

	if (e->null_word != NULL && strcmp(text, e->null_word) == 0)
		return json_null();
	if (e->kind == NUMBER_INTEGER && parse_integer(text, &n) == 0)
		return json_integer(n);
	if (e->kind == NUMBER_DECIMAL && parse_decimal(text, &x) == 0)
		return json_real(x);
	report_error("--%s%s: '%s' is not a %s%s%s%s", prefix, e->option,
		     text, e->kind == NUMBER_INTEGER ? "whole number" : "number",
		     e->null_word != NULL ? " or '" : "",
		     e->null_word != NULL ? e->null_word : "",
		     e->null_word != NULL ? "'" : "");
	return NULL;
}

/* Sets KEY of each direction in DIRS of the body's "emulation". */
static int
set_emu_field(json_t *body, const struct emu_option *e, unsigned dirs,
	      const char *text)
{
	json_t *emulation, *dir, *value = emu_value(e, dirs, text);
	int rc = 0;

	if (value == NULL)
		return -1;
	if ((emulation = member_object(body, "emulation")) == NULL)
		rc = -1;
	if (rc == 0 && (dirs & DIR_EGRESS) != 0 &&
	    ((dir = member_object(emulation, "egress")) == NULL ||
	     json_object_set(dir, e->key, value) != 0))
		rc = -1;
	if (rc == 0 && (dirs & DIR_INGRESS) != 0 &&
	    ((dir = member_object(emulation, "ingress")) == NULL ||
	     json_object_set(dir, e->key, value) != 0))
		rc = -1;
	json_decref(value);
	return rc;
}

/*
 * --profile, --seed and the per-direction options of uplink create and
 * set; 1 when OPT is none of them.  Given twice, the last one holds, so
 * "--delay 20 --egress-delay 50" is 50 ms out and 20 ms in.
 */
static int
emulation_option(json_t *body, int opt, const char *value)
{
	const struct emu_option *e;
	json_t *emulation;
	json_int_t seed;
	unsigned dirs;

	if (opt == OPT_PROFILE || opt == OPT_SEED) {
		if ((emulation = member_object(body, "emulation")) == NULL)
			return -1;
		if (opt == OPT_PROFILE)
			return set_string(emulation, "profile", value,
					  "--profile");
		if (parse_integer(value, &seed) != 0) {
			report_error("--seed: '%s' is not a whole number", value);
			return -1;
		}
		return json_object_set_new(emulation, "seed",
					   json_integer(seed));
	}
	if ((e = find_emu_option(opt, &dirs)) != NULL)
		return set_emu_field(body, e, dirs, value);
	return 1;
}

/*
 * Sets KEY of BODY to VALUE unless an earlier option set it otherwise:
 * "--up --down" is a mistake to point out, not a choice of the last.
 */
static int
set_once(json_t *body, const char *key, json_t *value, const char *options)
{
	json_t *old = json_object_get(body, key);

	if (value == NULL)
		return -1;
	if (old != NULL && !json_equal(old, value)) {
		report_error("conflicting %s options", options);
		json_decref(value);
		return -1;
	}
	return json_object_set_new(body, key, value);
}

/* --up, --down, --flap and --no-flap; 1 when OPT is none of them. */
static int
drill_option(json_t *body, int opt, const char *value)
{
	json_t *pattern;

	if (opt == OPT_UP || opt == OPT_DOWN)
		return set_once(body, "state",
				json_string(opt == OPT_UP ? "up" : "down"),
				"--up/--down");
	if (opt == OPT_NO_FLAP)
		return set_once(body, "flap", json_null(),
				"--flap/--no-flap");
	if (opt != OPT_FLAP)
		return 1;
	if ((pattern = json_string(value)) == NULL) {
		report_error("--flap is not valid UTF-8");
		return -1;
	}
	return set_once(body, "flap", pattern, "--flap/--no-flap");
}

/* Options of uplink create: each given one goes in the body. */
static int
uplink_option(int opt, const char *value, void *arg)
{
	json_t *body = arg;
	int rc;

	if (opt == OPT_INTERFACE)
		return set_string(body, "interface", value, "--interface");
	if (opt == OPT_ADDRESS)
		return set_string(body, "address", value, "--address");
	if (opt == OPT_NETNS)
		return set_string(body, "netns", value, "--netns");
	if (opt == OPT_DRIVER)
		return set_string(body, "driver", value, "--driver");
	if ((rc = drill_option(body, opt, value)) != 1)
		return rc;
	return emulation_option(body, opt, value) == 0 ? 0 : -1;
}

/* Options of uplink set: only what is given goes in the PATCH. */
static int
uplink_set_option(int opt, const char *value, void *arg)
{
	json_t *body = arg;
	int rc;

	if ((rc = drill_option(body, opt, value)) != 1)
		return rc;
	return emulation_option(body, opt, value) == 0 ? 0 : -1;
}

/*
 * "--profile off" is no emulation at all, which the API takes as
 * "emulation": null; an option that shapes it besides is a contradiction.
 */
static int
finish_emulation(const struct command *cmd, json_t *body)
{
	json_t *emulation = json_object_get(body, "emulation");
	const char *profile = json_string_value(json_object_get(emulation,
								"profile"));

	if (profile == NULL || strcmp(profile, "off") != 0)
		return STATUS_OK;
	if (json_object_size(emulation) > 1)
		return command_usage_error(cmd, "--profile off takes no other "
					   "emulation option");
	if (json_object_set_new(body, "emulation", json_null()) != 0)
		return out_of_memory();
	return STATUS_OK;
}

/*
 * --endpoint UPLINK=ADDRESS:PORT of peer create, repeatable: one member of
 * the body's "endpoints" object per uplink.  The address is the API's to
 * check; only the split and the uplink given twice are caught here.
 */
static int
peer_option(int opt, const char *value, void *arg)
{
	json_t *body = arg, *endpoints = NULL;
	json_t *whole = json_string(value);
	const char *eq = strchr(value, '=');
	char *uplink = NULL;
	int rc = -1;

	if (opt != OPT_ENDPOINT)
		return -1;
	if (whole == NULL)
		report_error("--endpoint is not valid UTF-8");
	else if (eq == NULL || eq == value || eq[1] == '\0')
		report_error("--endpoint: '%s' is not UPLINK=ADDRESS:PORT",
			     value);
	else if ((uplink = strndup(value, (size_t)(eq - value))) == NULL)
		out_of_memory();
	else if ((endpoints = member_object(body, "endpoints")) == NULL)
		out_of_memory();
	else if (json_object_get(endpoints, uplink) != NULL)
		report_error("--endpoint: uplink '%s' given twice", uplink);
	else
		rc = set_string(endpoints, uplink, eq + 1, "--endpoint");
	json_decref(whole);
	free(uplink);
	return rc;
}

/*
 * Options of route add.  Without --via the body has no "via" and the API's
 * default (fastpath) holds; its value is the API's to check.
 */
static int
route_option(int opt, const char *value, void *arg)
{
	json_t *body = arg;

	if (opt == OPT_VIA)
		return set_string(body, "via", value, "--via");
	return -1;
}

/* --netns NS of interface list and show. */
static int
netns_option(int opt, const char *value, void *arg)
{
	const char **netns = arg;

	if (opt != OPT_NETNS)
		return -1;
	*netns = value;
	return 0;
}

struct events_opts {
	bool has_since;
	json_int_t since;
};

static int
events_option(int opt, const char *value, void *arg)
{
	struct events_opts *o = arg;

	if (opt != OPT_SINCE)
		return -1;
	if (parse_count(value, &o->since) != 0) {
		report_error("--since: '%s' is not an event id (a whole "
			     "non-negative number)", value);
		return -1;
	}
	o->has_since = true;
	return 0;
}

/*
 * "46,34" or "wan1,wan2": a JSON list of whole numbers or of strings, in
 * the order given; an empty item is an error.  NULL after printing why.
 */
static json_t *
split_list(const struct policy_option *o, const char *text)
{
	json_t *list = json_array();
	const char *p = text;

	while (list != NULL) {
		size_t n = strcspn(p, ",");
		char *item = strndup(p, n);
		json_int_t number;
		json_t *value = NULL;

		if (item == NULL) {
			out_of_memory();
		} else if (n == 0) {
			report_error("--%s: '%s' has an empty item", o->option,
				     text);
		} else if (o->value == VALUE_INTEGER_LIST) {
			if (parse_integer(item, &number) == 0)
				value = json_integer(number);
			else
				report_error("--%s: '%s' is not a whole number",
					     o->option, item);
		} else if ((value = json_string(item)) == NULL) {
			report_error("--%s is not valid UTF-8", o->option);
		}
		free(item);
		if (value == NULL || json_array_append_new(list, value) != 0) {
			json_decref(list);
			return NULL;
		}
		if (p[n] == '\0')
			break;
		p += n + 1;
	}
	return list;
}

/* The JSON value of a policy option; NULL after printing why. */
static json_t *
policy_value(const struct policy_option *o, const char *text)
{
	json_int_t n;
	json_t *value;

	switch (o->value) {
	case VALUE_INTEGER:
		if (parse_integer(text, &n) == 0)
			return json_integer(n);
		report_error("--%s: '%s' is not a whole number", o->option,
			     text);
		return NULL;
	case VALUE_PROTOCOL:
		/* A number is the protocol's number: 17, not "17". */
		if (isdigit((unsigned char)text[0]) && parse_count(text, &n) == 0)
			return json_integer(n);
		break;
	case VALUE_INTEGER_LIST:
	case VALUE_STRING_LIST:
		return split_list(o, text);
	case VALUE_STRING:
		break;
	}
	if ((value = json_string(text)) == NULL)
		report_error("--%s is not valid UTF-8", o->option);
	return value;
}

/* Options of policy add: each given one goes in the body, or its "match". */
static int
policy_option(int opt, const char *value, void *arg)
{
	const struct policy_option *o = NULL;
	json_t *body = arg, *object, *json;
	size_t i;

	for (i = 0; i < sizeof policy_options / sizeof policy_options[0]; i++) {
		if (policy_options[i].opt == opt)
			o = &policy_options[i];
	}
	if (o == NULL)
		return -1;
	object = o->match ? member_object(body, "match") : body;
	if (object == NULL) {
		out_of_memory();
		return -1;
	}
	if ((json = policy_value(o, value)) == NULL)
		return -1;
	/* Given twice, the last one holds. */
	return json_object_set_new(object, o->key, json);
}

struct flow_opts {
	const char *network;	/* NULL: all of the tenant's */
	const char *limit;	/* NULL: the API's default */
};

/* --network NAME and --limit N of flow list. */
static int
flow_option(int opt, const char *value, void *arg)
{
	struct flow_opts *o = arg;
	json_int_t n;

	if (opt == OPT_NETWORK) {
		o->network = value;
		return 0;
	}
	if (opt != OPT_LIMIT)
		return -1;
	if (parse_count(value, &n) != 0) {
		report_error("--limit: '%s' is not a whole non-negative number",
			     value);
		return -1;
	}
	o->limit = value;
	return 0;
}

/* ---- token ------------------------------------------------------------- */

static void
strip_trailing_space(char *text)
{
	size_t len = strlen(text);

	while (len > 0 && isspace((unsigned char)text[len - 1]))
		text[--len] = '\0';
}

/* The token goes into a header: printable ASCII only, nothing to inject. */
static bool
token_is_wellformed(const char *token)
{
	if (*token == '\0')
		return false;
	for (; *token != '\0'; token++) {
		if (*token < 0x21 || *token > 0x7e)
			return false;
	}
	return true;
}

static char *
read_token_file(const char *path)
{
	FILE *file = fopen(path, "re");
	char *token = calloc(1, MAX_TOKEN_BYTES + 1);
	size_t len = 0;
	int saved;

	if (file != NULL && token != NULL)
		len = fread(token, 1, MAX_TOKEN_BYTES + 1, file);
	if (file == NULL || token == NULL || ferror(file)) {
		saved = token == NULL ? ENOMEM : errno;
		report_error("cannot read token file %s: %s", path, strerror(saved));
		free(token);
		token = NULL;
	} else if (len > MAX_TOKEN_BYTES) {
		report_error("token file %s is too large", path);
		free(token);
		token = NULL;
	}
	if (file != NULL)
		fclose(file);
	return token;
}

static int
load_token(struct ctx *ctx)
{
	const char *env = getenv("CNW_TOKEN");
	bool from_env = !ctx->token_file_given && env != NULL && *env != '\0';

	if (ctx->token != NULL)
		return STATUS_OK;
	ctx->token = from_env ? strdup(env) : read_token_file(ctx->token_file);
	if (ctx->token == NULL)
		return from_env ? out_of_memory() : STATUS_FAILURE;
	strip_trailing_space(ctx->token);
	if (token_is_wellformed(ctx->token))
		return STATUS_OK;
	if (from_env)
		report_error("$CNW_TOKEN does not hold a token");
	else
		report_error("token file %s does not hold a token", ctx->token_file);
	return STATUS_FAILURE;
}

/* ---- HTTP -------------------------------------------------------------- */

struct request {
	const char *method;
	const char *path;	/* "/v1/...", already escaped */
	const json_t *body;	/* NULL: none */
	enum auth auth;
	const char *accept;	/* media type wanted; NULL: application/json */
};

struct event_stream;

struct reply {
	long status;
	char *data;
	size_t len;
	bool too_large;
	/*
	 * Set by the caller for a reply that does not end: a 2xx body is fed
	 * to it as it comes instead of being collected, and the request has
	 * no time limit.  An error reply is collected as any other.
	 */
	struct event_stream *stream;
	CURL *curl;		/* while the request runs */
};

static int stream_feed(struct event_stream *stream, const char *chunk,
		       size_t n);

/* SIGINT during a stream: it ends, and cnwctl exits 0. */
static volatile sig_atomic_t interrupted;

static void
on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Whether the headers are in and say 2xx: the body is then the stream. */
static bool
reply_succeeded(const struct reply *reply)
{
	long status = 0;

	curl_easy_getinfo(reply->curl, CURLINFO_RESPONSE_CODE, &status);
	return status / 100 == 2;
}

static size_t
collect_reply(char *chunk, size_t size, size_t nmemb, void *userdata)
{
	struct reply *reply = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (reply->stream != NULL && reply_succeeded(reply))
		return stream_feed(reply->stream, chunk, n) == 0 ? n : 0;
	if (n > MAX_REPLY_BYTES - reply->len) {
		reply->too_large = true;
		return 0;
	}
	grown = realloc(reply->data, reply->len + n + 1);
	if (grown == NULL)
		return 0;
	memcpy(grown + reply->len, chunk, n);
	reply->len += n;
	grown[reply->len] = '\0';
	reply->data = grown;
	return n;
}

static struct curl_slist *
append_header(struct curl_slist *headers, const char *header, bool *ok)
{
	struct curl_slist *longer;

	if (!*ok)
		return headers;
	longer = curl_slist_append(headers, header);
	if (longer == NULL)
		*ok = false;
	return longer != NULL ? longer : headers;
}

/* Returns false when memory runs out; *HEADERS is freed by the caller. */
static bool
build_headers(const struct ctx *ctx, const struct request *req,
	      struct curl_slist **headers)
{
	char *accept = NULL, *auth = NULL;
	bool ok = true;

	if (asprintf(&accept, "Accept: %s", req->accept != NULL ?
		     req->accept : "application/json") < 0)
		return false;
	*headers = append_header(*headers, accept, &ok);
	free(accept);
	/* Bodies are tiny; never wait for a 100-continue. */
	*headers = append_header(*headers, "Expect:", &ok);
	if (req->body != NULL)
		*headers = append_header(*headers,
					 "Content-Type: application/json", &ok);
	if (req->auth == AUTH_BEARER) {
		if (asprintf(&auth, "Authorization: Bearer %s", ctx->token) < 0)
			return false;
		*headers = append_header(*headers, auth, &ok);
		free(auth);
	}
	return ok;
}

static CURLcode
set_body(CURL *curl, const char *payload)
{
	CURLcode res = curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);

	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				       (curl_off_t)strlen(payload));
	return res;
}

static CURLcode
setup_handle(CURL *curl, const struct ctx *ctx, const char *url,
	     const char *method, const char *payload, long timeout)
{
	CURLcode res = curl_easy_setopt(curl, CURLOPT_URL, url);

	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
				       ctx->socket_path);
	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (res == CURLE_OK && payload != NULL)
		res = set_body(curl, payload);
	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_USERAGENT, "cnwctl");
	return res;
}

/*
 * libcurl calls this now and then while a transfer runs, and again as soon
 * as a signal interrupts its wait: the way out of a stream on SIGINT.
 */
static int
check_interrupt(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		curl_off_t ultotal, curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return interrupted ? 1 : 0;
}

static CURLcode
setup_io(CURL *curl, struct curl_slist *headers, struct reply *reply)
{
	CURLcode res = curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
				       collect_reply);
	if (res == CURLE_OK)
		res = curl_easy_setopt(curl, CURLOPT_WRITEDATA, reply);
	if (res == CURLE_OK && reply->stream != NULL)
		res = curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION,
				       check_interrupt);
	if (res == CURLE_OK && reply->stream != NULL)
		res = curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
	return res;
}

static void
report_transport_error(const struct ctx *ctx, CURL *curl, CURLcode res,
		       const struct reply *reply)
{
	long os_errno = 0;

	if (reply->too_large) {
		report_error("reply from cnwd is larger than %u bytes",
		      MAX_REPLY_BYTES);
		return;
	}
	if (res == CURLE_OPERATION_TIMEDOUT) {
		report_error("cnwd at %s did not answer within %ld s",
			     ctx->socket_path, REQUEST_TIMEOUT_S);
		return;
	}
	if (reply->stream != NULL && reply_succeeded(reply)) {
		report_error("the stream from cnwd at %s broke: %s",
			     ctx->socket_path, curl_easy_strerror(res));
		return;
	}
	/* The errno says why better than curl's "localhost port 80" text. */
	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
	if (os_errno != 0)
		report_error("cannot reach cnwd at %s: %s (%s)", ctx->socket_path,
		      curl_easy_strerror(res), strerror((int)os_errno));
	else
		report_error("cannot reach cnwd at %s: %s", ctx->socket_path,
		      curl_easy_strerror(res));
}

/*
 * STATUS_DONE when SIGINT ended a stream; STATUS_FAILURE, already said,
 * when the stream stopped at an error of its own (a write of stdout).
 */
static int
perform(const struct ctx *ctx, CURL *curl, struct reply *reply)
{
	CURLcode res = curl_easy_perform(curl);

	if (res == CURLE_ABORTED_BY_CALLBACK && interrupted)
		return STATUS_DONE;
	if (res == CURLE_WRITE_ERROR && reply->stream != NULL &&
	    reply_succeeded(reply))
		return STATUS_FAILURE;
	if (res != CURLE_OK) {
		report_transport_error(ctx, curl, res, reply);
		return STATUS_FAILURE;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
	return STATUS_OK;
}

/* Sends REQ and collects the raw reply; transport errors are printed. */
static int
exchange(const struct ctx *ctx, const struct request *req,
	 struct reply *reply)
{
	struct curl_slist *headers = NULL;
	char *payload = NULL, *url = NULL;
	CURL *curl = curl_easy_init();
	int rc = STATUS_FAILURE;

	if (curl == NULL || !build_headers(ctx, req, &headers) ||
	    asprintf(&url, "http://localhost%s", req->path) < 0) {
		url = NULL;
		rc = out_of_memory();
		goto out;
	}
	if (req->body != NULL &&
	    (payload = json_dumps(req->body, JSON_COMPACT)) == NULL) {
		rc = out_of_memory();
		goto out;
	}
	reply->curl = curl;
	/* A stream lasts as long as it is wanted: 0, no time limit. */
	if (setup_handle(curl, ctx, url, req->method, payload,
			 reply->stream != NULL ? 0L : REQUEST_TIMEOUT_S) !=
	    CURLE_OK || setup_io(curl, headers, reply) != CURLE_OK)
		report_error("cannot set up libcurl");
	else
		rc = perform(ctx, curl, reply);
out:
	reply->curl = NULL;
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	free(payload);
	free(url);
	return rc;
}

/* Prints an error reply: its problem detail, else its title. */
static int
report_problem(const struct reply *reply)
{
	json_t *problem = json_loadb(reply->data != NULL ? reply->data : "",
				     reply->len, 0, NULL);
	const char *detail = json_string_value(json_object_get(problem,
							       "detail"));
	const char *title = json_string_value(json_object_get(problem,
							      "title"));

	if (detail != NULL && *detail != '\0')
		report_error("%s", detail);
	else if (title != NULL && *title != '\0')
		report_error("%s", title);
	else
		report_error("cnwd answered HTTP %ld", reply->status);
	json_decref(problem);
	return STATUS_FAILURE;
}

/* A 2xx reply: its JSON in *JSON, or NULL when it has no body (204). */
static int
parse_success(const struct reply *reply, json_t **json)
{
	json_error_t err;

	if (reply->len == 0)
		return STATUS_OK;
	*json = json_loadb(reply->data, reply->len, 0, &err);
	if (*json != NULL)
		return STATUS_OK;
	report_error("cannot parse the reply of cnwd: %s", err.text);
	return STATUS_FAILURE;
}

/*
 * Sends one request and returns STATUS_OK with the raw 2xx reply in *REPLY,
 * whatever its content type, or STATUS_FAILURE after printing why (for an
 * error reply, its problem detail); for a stream, STATUS_DONE when SIGINT
 * ended it.  The caller frees reply->data.
 */
static int
api_exchange(struct ctx *ctx, const struct request *req, struct reply *reply)
{
	int rc = STATUS_OK;

	if (req->auth == AUTH_BEARER)
		rc = load_token(ctx);
	if (rc == STATUS_OK)
		rc = exchange(ctx, req, reply);
	if (rc == STATUS_OK && reply->status / 100 != 2)
		rc = report_problem(reply);
	return rc;
}

/*
 * Sends one request and returns STATUS_OK with the reply's JSON in *JSON
 * (NULL for an empty reply), or STATUS_FAILURE after printing why.
 */
static int
api_call(struct ctx *ctx, const struct request *req, json_t **json)
{
	struct reply reply = { 0 };
	int rc = api_exchange(ctx, req, &reply);

	*json = NULL;
	if (rc == STATUS_OK)
		rc = parse_success(&reply, json);
	free(reply.data);
	return rc;
}

/*
 * COLLECTION + "/NAME" + SUFFIX, the name escaped so it stays one segment:
 * "/v1/uplinks/wan1".
 */
static char *
object_path(const char *collection, const char *name, const char *suffix)
{
	char *escaped = curl_easy_escape(NULL, name, 0);
	char *path = NULL;

	if (escaped != NULL &&
	    asprintf(&path, "%s/%s%s", collection, escaped, suffix) < 0)
		path = NULL;
	curl_free(escaped);
	return path;
}

/* "/v1/tenants/NAME" + SUFFIX. */
static char *
tenant_path(const char *name, const char *suffix)
{
	return object_path("/v1/tenants", name, suffix);
}

/*
 * "/v1/tenants/TENANT/networks/NETWORK" + SUFFIX, both names escaped.
 * SUFFIX is used as it is: the caller builds it from checked parts.
 */
static char *
network_path(const char *tenant, const char *network, const char *suffix)
{
	char *escaped = curl_easy_escape(NULL, network, 0);
	char *tail = NULL, *path = NULL;

	if (escaped != NULL &&
	    asprintf(&tail, "/networks/%s%s", escaped, suffix) < 0)
		tail = NULL;
	if (tail != NULL)
		path = tenant_path(tenant, tail);
	curl_free(escaped);
	free(tail);
	return path;
}

/* ".../routes/ID" of one route; ID is a number, nothing to escape. */
static char *
route_path(const char *tenant, const char *network, json_int_t id)
{
	char *suffix = NULL, *path;

	if (asprintf(&suffix, "/routes/%" JSON_INTEGER_FORMAT, id) < 0)
		return NULL;
	path = network_path(tenant, network, suffix);
	free(suffix);
	return path;
}

/* "/v1/tenants/TENANT/policies/NAME", both names escaped. */
static char *
policy_path(const char *tenant, const char *name)
{
	char *escaped = curl_easy_escape(NULL, name, 0);
	char *tail = NULL, *path = NULL;

	if (escaped != NULL && asprintf(&tail, "/policies/%s", escaped) < 0)
		tail = NULL;
	if (tail != NULL)
		path = tenant_path(tenant, tail);
	curl_free(escaped);
	free(tail);
	return path;
}

/* "/v1/tenants/TENANT/flows[?network=NETWORK][&limit=N]". */
static char *
flows_path(const char *tenant, const struct flow_opts *o)
{
	char *escaped = NULL, *tail = NULL, *path = NULL;

	if (o->network != NULL &&
	    (escaped = curl_easy_escape(NULL, o->network, 0)) == NULL)
		return NULL;
	if (asprintf(&tail, "/flows%s%s%s%s%s",
		     escaped != NULL ? "?network=" : "",
		     escaped != NULL ? escaped : "",
		     o->limit == NULL ? "" : escaped != NULL ? "&" : "?",
		     o->limit != NULL ? "limit=" : "",
		     o->limit != NULL ? o->limit : "") < 0)
		tail = NULL;
	if (tail != NULL)
		path = tenant_path(tenant, tail);
	curl_free(escaped);
	free(tail);
	return path;
}

/* ---- commands ---------------------------------------------------------- */

static int
get_list(struct ctx *ctx, const char *path, enum cnwctl_view view)
{
	const struct request req = { "GET", path, NULL, AUTH_BEARER, NULL };
	json_t *reply = NULL;
	int rc = api_call(ctx, &req, &reply);

	if (rc == STATUS_OK)
		rc = cnwctl_output_list(stdout, ctx->format, view, reply);
	json_decref(reply);
	return rc;
}

/* Sends REQ and shows the object it answers with as VIEW. */
static int
call_and_show(struct ctx *ctx, const struct request *req,
	      enum cnwctl_view view)
{
	json_t *reply = NULL;
	int rc = api_call(ctx, req, &reply);

	if (rc == STATUS_OK)
		rc = cnwctl_output_object(stdout, ctx->format, view, reply);
	json_decref(reply);
	return rc;
}

static int
print_version(const json_t *info)
{
	char *name = cnwctl_output_value(info, "name");
	char *version = cnwctl_output_value(info, "version");
	char *api = cnwctl_output_value(info, "api_version");
	int rc = STATUS_OK;

	if (name == NULL || version == NULL || api == NULL)
		rc = out_of_memory();
	else
		printf("%s %s (API %s)\n", name, version, api);
	free(name);
	free(version);
	free(api);
	return rc;
}

static int
cmd_version(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	const struct request req = { "GET", "/v1", NULL, AUTH_NONE, NULL };
	json_t *reply = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 0,
			       NULL);

	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	if (rc == STATUS_OK && ctx->format == CNWCTL_FORMAT_JSON)
		rc = cnwctl_output_json(stdout, reply);
	else if (rc == STATUS_OK)
		rc = print_version(reply);
	json_decref(reply);
	return rc;
}

static int
cmd_tenant_create(struct ctx *ctx, const struct command *cmd, int argc,
		  char **argv)
{
	struct request req = { "POST", "/v1/tenants", NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *name = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, tenant_longopts,
				   tenant_option, body, 1, &name);
	if (rc == STATUS_OK && set_string(body, "name", name, "NAME") != 0)
		rc = command_usage_error(cmd, NULL);
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_TENANT_CREATED);
	json_decref(body);
	return rc;
}

/* "tenant list", "uplink list", ...: no options, GET COLLECTION as VIEW. */
static int
list_objects(struct ctx *ctx, const struct command *cmd, int argc, char **argv,
	     const char *collection, enum cnwctl_view view)
{
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 0,
			       NULL);

	if (rc == STATUS_OK)
		rc = get_list(ctx, collection, view);
	return rc;
}

static int
cmd_tenant_list(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	return list_objects(ctx, cmd, argc, argv, "/v1/tenants", CNWCTL_VIEW_TENANT);
}

static int
cmd_tenant_show(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER, NULL };
	const char *name = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 1,
			       &name);

	if (rc == STATUS_OK && (path = tenant_path(name, "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_TENANT);
	free(path);
	return rc;
}

static int
cmd_tenant_update(struct ctx *ctx, const struct command *cmd, int argc,
		  char **argv)
{
	struct request req = { "PATCH", NULL, NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *name = NULL;
	char *path = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, tenant_longopts,
				   tenant_option, body, 1, &name);
	if (rc == STATUS_OK && json_object_size(body) == 0)
		rc = command_usage_error(cmd, "nothing to update: give "
					 "--description or a quota");
	if (rc == STATUS_OK && (path = tenant_path(name, "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_TENANT);
	free(path);
	json_decref(body);
	return rc;
}

static int
cmd_tenant_delete(struct ctx *ctx, const struct command *cmd, int argc,
		  char **argv)
{
	struct request req = { "DELETE", NULL, NULL, AUTH_BEARER, NULL };
	json_t *reply = NULL;
	const char *name = NULL;
	bool cascade = false;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, delete_longopts,
			       delete_option, &cascade, 1, &name);

	if (rc == STATUS_OK &&
	    (path = tenant_path(name, cascade ? "?cascade=true" : "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	if (rc == STATUS_OK && ctx->format == CNWCTL_FORMAT_TABLE)
		printf("deleted tenant %s\n", name);
	json_decref(reply);
	free(path);
	return rc;
}

static int
cmd_process_list(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	return list_objects(ctx, cmd, argc, argv, "/v1/processes", CNWCTL_VIEW_PROCESS);
}

static int
cmd_network_create(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv)
{
	struct request req = { "POST", NULL, NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *pos[2] = { NULL, NULL };	/* TENANT NAME */
	char *path = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, network_longopts,
				   network_option, body, 2, pos);
	if (rc == STATUS_OK && json_object_get(body, "subnet") == NULL)
		rc = command_usage_error(cmd, "missing option --subnet");
	if (rc == STATUS_OK && set_string(body, "name", pos[1], "NAME") != 0)
		rc = command_usage_error(cmd, NULL);
	if (rc == STATUS_OK && (path = tenant_path(pos[0], "/networks")) == NULL)
		rc = out_of_memory();
	req.path = path;
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_NETWORK);
	free(path);
	json_decref(body);
	return rc;
}

static int
cmd_network_list(struct ctx *ctx, const struct command *cmd, int argc,
		 char **argv)
{
	const char *tenant = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 1,
			       &tenant);

	if (rc == STATUS_OK && (path = tenant_path(tenant, "/networks")) == NULL)
		rc = out_of_memory();
	if (rc == STATUS_OK)
		rc = get_list(ctx, path, CNWCTL_VIEW_NETWORK);
	free(path);
	return rc;
}

static int
cmd_network_show(struct ctx *ctx, const struct command *cmd, int argc,
		 char **argv)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER, NULL };
	const char *pos[2] = { NULL, NULL };	/* TENANT NAME */
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 2,
			       pos);

	if (rc == STATUS_OK && (path = network_path(pos[0], pos[1], "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_NETWORK);
	free(path);
	return rc;
}

static int
cmd_network_delete(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv)
{
	struct request req = { "DELETE", NULL, NULL, AUTH_BEARER, NULL };
	const char *pos[2] = { NULL, NULL };	/* TENANT NAME */
	json_t *reply = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 2,
			       pos);

	if (rc == STATUS_OK && (path = network_path(pos[0], pos[1], "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	if (rc == STATUS_OK && ctx->format == CNWCTL_FORMAT_TABLE)
		printf("deleted network %s of tenant %s\n", pos[1], pos[0]);
	json_decref(reply);
	free(path);
	return rc;
}

static int
cmd_route_add(struct ctx *ctx, const struct command *cmd, int argc,
	      char **argv)
{
	struct request req = { "POST", NULL, NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *pos[3] = { NULL, NULL, NULL };  /* TENANT NETWORK PREFIX */
	char *path = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, route_longopts,
				   route_option, body, 3, pos);
	if (rc == STATUS_OK &&
	    set_string(body, "prefix", pos[2], "PREFIX") != 0)
		rc = command_usage_error(cmd, NULL);
	if (rc == STATUS_OK &&
	    (path = network_path(pos[0], pos[1], "/routes")) == NULL)
		rc = out_of_memory();
	req.path = path;
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_ROUTE);
	free(path);
	json_decref(body);
	return rc;
}

static int
cmd_route_list(struct ctx *ctx, const struct command *cmd, int argc,
	       char **argv)
{
	const char *pos[2] = { NULL, NULL };	/* TENANT NETWORK */
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 2,
			       pos);

	if (rc == STATUS_OK &&
	    (path = network_path(pos[0], pos[1], "/routes")) == NULL)
		rc = out_of_memory();
	if (rc == STATUS_OK)
		rc = get_list(ctx, path, CNWCTL_VIEW_ROUTE);
	free(path);
	return rc;
}

static int
cmd_route_delete(struct ctx *ctx, const struct command *cmd, int argc,
		 char **argv)
{
	struct request req = { "DELETE", NULL, NULL, AUTH_BEARER, NULL };
	const char *pos[3] = { NULL, NULL, NULL };	/* TENANT NETWORK ID */
	json_t *reply = NULL;
	char *path = NULL;
	json_int_t id = 0;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 3,
			       pos);

	if (rc == STATUS_OK && parse_count(pos[2], &id) != 0) {
		report_error("ID: '%s' is not a whole non-negative number",
			     pos[2]);
		rc = command_usage_error(cmd, NULL);
	}
	if (rc == STATUS_OK && (path = route_path(pos[0], pos[1], id)) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	if (rc == STATUS_OK && ctx->format == CNWCTL_FORMAT_TABLE)
		printf("deleted route %" JSON_INTEGER_FORMAT " of network %s\n",
		       id, pos[1]);
	json_decref(reply);
	free(path);
	return rc;
}

/* "uplink show NAME", "peer show NAME": GET COLLECTION/NAME as VIEW. */
static int
show_object(struct ctx *ctx, const struct command *cmd, int argc,
	    char **argv, const char *collection, enum cnwctl_view view)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER, NULL };
	const char *name = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 1,
			       &name);

	if (rc == STATUS_OK &&
	    (path = object_path(collection, name, "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, view);
	free(path);
	return rc;
}

/* "uplink delete NAME", "peer delete NAME": DELETE COLLECTION/NAME. */
static int
delete_object(struct ctx *ctx, const struct command *cmd, int argc,
	      char **argv, const char *collection)
{
	struct request req = { "DELETE", NULL, NULL, AUTH_BEARER, NULL };
	json_t *reply = NULL;
	const char *name = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 1,
			       &name);

	if (rc == STATUS_OK &&
	    (path = object_path(collection, name, "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	if (rc == STATUS_OK && ctx->format == CNWCTL_FORMAT_TABLE)
		printf("deleted %s %s\n", cmd->noun, name);
	json_decref(reply);
	free(path);
	return rc;
}

static int
cmd_uplink_create(struct ctx *ctx, const struct command *cmd, int argc,
		  char **argv)
{
	struct request req = { "POST", "/v1/uplinks", NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *name = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, uplink_longopts,
				   uplink_option, body, 1, &name);
	/* No --address check: an afpacket uplink has none, the API knows. */
	if (rc == STATUS_OK && json_object_get(body, "interface") == NULL)
		rc = command_usage_error(cmd, "missing option --interface");
	if (rc == STATUS_OK)
		rc = finish_emulation(cmd, body);
	if (rc == STATUS_OK && set_string(body, "name", name, "NAME") != 0)
		rc = command_usage_error(cmd, NULL);
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_UPLINK);
	json_decref(body);
	return rc;
}

static int
cmd_uplink_list(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	return list_objects(ctx, cmd, argc, argv, "/v1/uplinks", CNWCTL_VIEW_UPLINK);
}

static int
cmd_uplink_show(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	return show_object(ctx, cmd, argc, argv, "/v1/uplinks",
			   CNWCTL_VIEW_UPLINK);
}

/* PATCH /v1/uplinks/NAME with only the options given. */
static int
cmd_uplink_set(struct ctx *ctx, const struct command *cmd, int argc,
	       char **argv)
{
	struct request req = { "PATCH", NULL, NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *name = NULL;
	char *path = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, uplink_set_longopts,
				   uplink_set_option, body, 1, &name);
	if (rc == STATUS_OK && json_object_size(body) == 0)
		rc = command_usage_error(cmd, "nothing to change: give an "
					 "emulation option, --up, --down, "
					 "--flap or --no-flap");
	if (rc == STATUS_OK)
		rc = finish_emulation(cmd, body);
	if (rc == STATUS_OK &&
	    (path = object_path("/v1/uplinks", name, "")) == NULL)
		rc = out_of_memory();
	req.path = path;
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_UPLINK);
	free(path);
	json_decref(body);
	return rc;
}

static int
cmd_uplink_delete(struct ctx *ctx, const struct command *cmd, int argc,
		  char **argv)
{
	return delete_object(ctx, cmd, argc, argv, "/v1/uplinks");
}

/* "?netns=NS", or "" without --netns; NS "host" is the host's own. */
static char *
netns_query(const char *netns)
{
	char *escaped, *query = NULL;

	if (netns == NULL)
		return strdup("");
	if ((escaped = curl_easy_escape(NULL, netns, 0)) == NULL)
		return NULL;
	if (asprintf(&query, "?netns=%s", escaped) < 0)
		query = NULL;
	curl_free(escaped);
	return query;
}

static int
cmd_interface_list(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv)
{
	const char *netns = NULL;
	char *query = NULL, *path = NULL;
	int rc = parse_command(cmd, argc, argv, netns_longopts, netns_option,
			       &netns, 0, NULL);

	if (rc == STATUS_OK && ((query = netns_query(netns)) == NULL ||
	    asprintf(&path, "/v1/interfaces%s", query) < 0)) {
		path = NULL;
		rc = out_of_memory();
	}
	if (rc == STATUS_OK)
		rc = get_list(ctx, path, CNWCTL_VIEW_INTERFACE);
	free(query);
	free(path);
	return rc;
}

static int
cmd_interface_show(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER, NULL };
	const char *name = NULL, *netns = NULL;
	char *query = NULL, *path = NULL;
	int rc = parse_command(cmd, argc, argv, netns_longopts, netns_option,
			       &netns, 1, &name);

	if (rc == STATUS_OK && ((query = netns_query(netns)) == NULL ||
	    (path = object_path("/v1/interfaces", name, query)) == NULL))
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_INTERFACE);
	free(query);
	free(path);
	return rc;
}

static int
cmd_driver_list(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	return list_objects(ctx, cmd, argc, argv, "/v1/drivers", CNWCTL_VIEW_DRIVER);
}

/*
 * driver keygen, sign and verify: files only, where a plug-in is built, so
 * no socket and no token are touched.  cnwctl_driver_offline() parses its
 * own options and wants the verb as argv[0], which dispatch() replaced.
 */
static int
cmd_driver_offline(struct ctx *ctx, const struct command *cmd, int argc,
		   char **argv)
{
	int rc;

	(void)ctx;
	argv[0] = (char *)cmd->verb;
	rc = cnwctl_driver_offline(argc, argv);
	if (rc >= 0)
		return rc;
	report_error("driver %s: not an offline verb", cmd->verb);
	return STATUS_FAILURE;
}

static int
cmd_peer_create(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	struct request req = { "POST", "/v1/peers", NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *name = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, peer_longopts, peer_option,
				   body, 1, &name);
	if (rc == STATUS_OK && json_object_get(body, "endpoints") == NULL)
		rc = command_usage_error(cmd, "missing option --endpoint");
	if (rc == STATUS_OK && set_string(body, "name", name, "NAME") != 0)
		rc = command_usage_error(cmd, NULL);
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_PEER);
	json_decref(body);
	return rc;
}

static int
cmd_peer_list(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	return list_objects(ctx, cmd, argc, argv, "/v1/peers", CNWCTL_VIEW_PEER);
}

static int
cmd_peer_show(struct ctx *ctx, const struct command *cmd, int argc,
	      char **argv)
{
	return show_object(ctx, cmd, argc, argv, "/v1/peers",
			   CNWCTL_VIEW_PEER);
}

static int
cmd_peer_delete(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	return delete_object(ctx, cmd, argc, argv, "/v1/peers");
}

static int
cmd_policy_add(struct ctx *ctx, const struct command *cmd, int argc,
	       char **argv)
{
	struct request req = { "POST", NULL, NULL, AUTH_BEARER, NULL };
	json_t *body = json_object();
	const char *pos[2] = { NULL, NULL };	/* TENANT NAME */
	char *path = NULL;
	int rc = body == NULL ? out_of_memory() : STATUS_OK;

	if (rc == STATUS_OK)
		rc = parse_command(cmd, argc, argv, policy_longopts,
				   policy_option, body, 2, pos);
	if (rc == STATUS_OK && set_string(body, "name", pos[1], "NAME") != 0)
		rc = command_usage_error(cmd, NULL);
	if (rc == STATUS_OK && (path = tenant_path(pos[0], "/policies")) == NULL)
		rc = out_of_memory();
	req.path = path;
	req.body = body;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_POLICY);
	free(path);
	json_decref(body);
	return rc;
}

static int
cmd_policy_list(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	const char *tenant = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 1,
			       &tenant);

	if (rc == STATUS_OK && (path = tenant_path(tenant, "/policies")) == NULL)
		rc = out_of_memory();
	if (rc == STATUS_OK)
		rc = get_list(ctx, path, CNWCTL_VIEW_POLICY);
	free(path);
	return rc;
}

static int
cmd_policy_show(struct ctx *ctx, const struct command *cmd, int argc,
		char **argv)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER, NULL };
	const char *pos[2] = { NULL, NULL };	/* TENANT NAME */
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 2,
			       pos);

	if (rc == STATUS_OK && (path = policy_path(pos[0], pos[1])) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = call_and_show(ctx, &req, CNWCTL_VIEW_POLICY);
	free(path);
	return rc;
}

static int
cmd_policy_delete(struct ctx *ctx, const struct command *cmd, int argc,
		  char **argv)
{
	struct request req = { "DELETE", NULL, NULL, AUTH_BEARER, NULL };
	const char *pos[2] = { NULL, NULL };	/* TENANT NAME */
	json_t *reply = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 2,
			       pos);

	if (rc == STATUS_OK && (path = policy_path(pos[0], pos[1])) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	if (rc == STATUS_OK && ctx->format == CNWCTL_FORMAT_TABLE)
		printf("deleted policy %s of tenant %s\n", pos[1], pos[0]);
	json_decref(reply);
	free(path);
	return rc;
}

/* "flows: 12 of 65536, 0 dropped over the quota", above the table. */
static int
print_flow_summary(const json_t *reply)
{
	const json_t *active = json_object_get(reply, "active");
	const json_t *limit = json_object_get(reply, "limit");
	const json_t *dropped = json_object_get(reply, "dropped");

	if (!json_is_integer(active) || !json_is_integer(limit) ||
	    !json_is_integer(dropped)) {
		report_error("unexpected reply from cnwd: no flow counts");
		return STATUS_FAILURE;
	}
	printf("flows: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
	       ", %" JSON_INTEGER_FORMAT " dropped over the quota\n",
	       json_integer_value(active), json_integer_value(limit),
	       json_integer_value(dropped));
	return STATUS_OK;
}

static int
cmd_flow_list(struct ctx *ctx, const struct command *cmd, int argc,
	      char **argv)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER, NULL };
	struct flow_opts opts = { NULL, NULL };
	const char *tenant = NULL;
	json_t *reply = NULL;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, flow_longopts, flow_option,
			       &opts, 1, &tenant);

	if (rc == STATUS_OK && (path = flows_path(tenant, &opts)) == NULL)
		rc = out_of_memory();
	req.path = path;
	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	if (rc == STATUS_OK && ctx->format == CNWCTL_FORMAT_TABLE)
		rc = print_flow_summary(reply);
	if (rc == STATUS_OK)
		rc = cnwctl_output_list(stdout, ctx->format, CNWCTL_VIEW_FLOW,
					reply);
	json_decref(reply);
	free(path);
	return rc;
}

/*
 * A server-sent event stream (text/event-stream), read as it comes: lines
 * ending in LF (or CRLF), records ending at a blank line.  Of a record's
 * fields only "data" is used, its lines joined by LF: it holds the event's
 * JSON, whose "type" and "id" repeat the "event" and "id" fields.  Lines
 * starting with ':' are comments (the daemon's keep-alives).
 */
struct event_stream {
	enum cnwctl_format format;
	char *line;		/* the line being read, not yet ended */
	size_t len, cap;
	char *data;		/* the data lines of the record so far */
	size_t data_len;
	bool has_data;
};

static int
grow(char **buf, size_t *cap, size_t need)
{
	char *bigger;
	size_t size = *cap == 0 ? 256 : *cap;

	while (size < need)
		size *= 2;
	if (size == *cap)
		return 0;
	if ((bigger = realloc(*buf, size)) == NULL)
		return -1;
	*buf = bigger;
	*cap = size;
	return 0;
}

/* Appends a data line to the record: "data: a" and "data: b" are "a\nb". */
static int
add_data(struct event_stream *stream, const char *value, size_t n)
{
	char *longer;
	size_t sep = stream->has_data ? 1 : 0;

	if (stream->data_len + sep + n > MAX_EVENT_BYTES) {
		report_error("an event from cnwd is larger than %u bytes",
			     MAX_EVENT_BYTES);
		return -1;
	}
	longer = realloc(stream->data, stream->data_len + sep + n + 1);
	if (longer == NULL) {
		out_of_memory();
		return -1;
	}
	if (sep != 0)
		longer[stream->data_len++] = '\n';
	memcpy(longer + stream->data_len, value, n);
	stream->data_len += n;
	longer[stream->data_len] = '\0';
	stream->data = longer;
	stream->has_data = true;
	return 0;
}

/*
 * The end of a record: its event is printed, flushed so that a pipe sees
 * it now.  An event that is not JSON is reported and skipped; only output
 * that cannot be written stops the stream.
 */
static int
dispatch_event(struct event_stream *stream)
{
	json_error_t err;
	json_t *event;
	int rc = 0;

	if (!stream->has_data)
		return 0;
	event = json_loadb(stream->data, stream->data_len, 0, &err);
	stream->data_len = 0;
	stream->has_data = false;
	if (event == NULL) {
		report_error("cannot parse an event from cnwd: %s", err.text);
		return 0;
	}
	if (cnwctl_output_event(stdout, stream->format, event) != 0)
		rc = -1;
	else if (fflush(stdout) != 0) {
		report_error("cannot write output: %s", strerror(errno));
		rc = -1;
	}
	json_decref(event);
	return rc;
}

/* One line, its end of line removed: a field, a comment or the record's end. */
static int
stream_line(struct event_stream *stream, char *line, size_t n)
{
	const char *value;
	size_t name_len;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0)
		return dispatch_event(stream);
	if (line[0] == ':')
		return 0;
	name_len = strcspn(line, ":");
	value = line + name_len + (line[name_len] == ':');
	if (*value == ' ')
		value++;
	/* "id" and "event" say again what the data's JSON says. */
	if (name_len == 4 && strncmp(line, "data", 4) == 0)
		return add_data(stream, value, n - (size_t)(value - line));
	return 0;
}

static int
stream_feed(struct event_stream *stream, const char *chunk, size_t n)
{
	const char *end;
	size_t part;

	while (n > 0) {
		end = memchr(chunk, '\n', n);
		part = end != NULL ? (size_t)(end - chunk) : n;
		if (stream->len + part > MAX_EVENT_BYTES) {
			report_error("a line from cnwd is longer than %u bytes",
				     MAX_EVENT_BYTES);
			return -1;
		}
		if (grow(&stream->line, &stream->cap,
			 stream->len + part + 1) != 0) {
			out_of_memory();
			return -1;
		}
		memcpy(stream->line + stream->len, chunk, part);
		stream->len += part;
		stream->line[stream->len] = '\0';
		if (end == NULL)
			break;
		chunk += part + 1;
		n -= part + 1;
		part = stream->len;
		stream->len = 0;
		if (stream_line(stream, stream->line, part) != 0)
			return -1;
	}
	return 0;
}

/*
 * GET /v1/events until SIGINT (exit 0) or until cnwd ends the stream
 * (exit 0 when it ends it cleanly, 1 when the connection breaks).
 */
static int
cmd_events(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER,
			       "text/event-stream" };
	struct event_stream stream = { .format = ctx->format };
	struct events_opts opts = { false, 0 };
	struct reply reply = { 0 };
	struct sigaction sa;
	char *path = NULL;
	int rc = parse_command(cmd, argc, argv, events_longopts,
			       events_option, &opts, 0, NULL);

	if (rc == STATUS_OK && opts.has_since &&
	    asprintf(&path, "/v1/events?since=%" JSON_INTEGER_FORMAT,
		     opts.since) < 0) {
		path = NULL;
		rc = out_of_memory();
	}
	/* No SA_RESTART: the signal must cut libcurl's wait short. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	if (rc == STATUS_OK && sigaction(SIGINT, &sa, NULL) != 0) {
		report_error("cannot catch SIGINT: %s", strerror(errno));
		rc = STATUS_FAILURE;
	}
	req.path = path != NULL ? path : "/v1/events";
	reply.stream = &stream;
	if (rc == STATUS_OK)
		rc = api_exchange(ctx, &req, &reply);
	free(reply.data);
	free(stream.line);
	free(stream.data);
	free(path);
	return rc;
}

/*
 * GET /metrics answers Prometheus text, not JSON: it is printed as it
 * comes, whatever -o says.
 */
static int
cmd_metrics(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	const struct request req = { "GET", "/metrics", NULL, AUTH_BEARER,
				     "text/plain" };
	struct reply reply = { 0 };
	int rc = parse_command(cmd, argc, argv, no_longopts, NULL, NULL, 0,
			       NULL);

	if (rc == STATUS_OK)
		rc = api_exchange(ctx, &req, &reply);
	if (rc == STATUS_OK && reply.len > 0 &&
	    fwrite(reply.data, 1, reply.len, stdout) != reply.len) {
		report_error("cannot write output: %s", strerror(errno));
		rc = STATUS_FAILURE;
	}
	free(reply.data);
	return rc;
}

/*
 * exec's command line: [-h] TENANT NETWORK [--] CMD [ARG...].  Options stop
 * at TENANT ("+"), so CMD's own options are left alone; *COMMAND points into
 * ARGV, which ends with NULL as main's does.
 */
static int
parse_exec(const struct command *cmd, int argc, char **argv,
	   const char **pos, char ***command)
{
	int opt, i;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "+h", no_longopts, NULL)) != -1) {
		if (opt == 'h') {
			print_usage_line(stdout, cmd);
			return STATUS_DONE;
		}
		return command_usage_error(cmd, NULL);
	}
	if (argc - optind < 2 || strcmp(argv[optind], "--") == 0 ||
	    strcmp(argv[optind + 1], "--") == 0)
		return command_usage_error(cmd, "missing argument");
	pos[0] = argv[optind];
	pos[1] = argv[optind + 1];
	i = optind + 2;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return command_usage_error(cmd, "missing command to run");
	*command = &argv[i];
	return STATUS_OK;
}

/* A namespace name from the reply must stay one entry of NETNS_DIR. */
static bool
netns_is_wellformed(const char *netns)
{
	return netns != NULL && *netns != '\0' && strlen(netns) <= NAME_MAX &&
	       strchr(netns, '/') == NULL && strcmp(netns, ".") != 0 &&
	       strcmp(netns, "..") != 0;
}

/* Asks the API for the network and returns its "netns" in *NETNS. */
static int
get_netns(struct ctx *ctx, const char *tenant, const char *network,
	  char **netns)
{
	struct request req = { "GET", NULL, NULL, AUTH_BEARER, NULL };
	json_t *reply = NULL;
	const char *name;
	char *path = network_path(tenant, network, "");
	int rc = path == NULL ? out_of_memory() : STATUS_OK;

	req.path = path;
	if (rc == STATUS_OK)
		rc = api_call(ctx, &req, &reply);
	name = json_string_value(json_object_get(reply, "netns"));
	if (rc == STATUS_OK && !netns_is_wellformed(name)) {
		report_error("unexpected reply from cnwd: no usable \"netns\"");
		rc = STATUS_FAILURE;
	}
	if (rc == STATUS_OK && (*netns = strdup(name)) == NULL)
		rc = out_of_memory();
	json_decref(reply);
	free(path);
	return rc;
}

/*
 * As ip netns exec does: a mount namespace of our own in which /sys shows
 * the network namespace we entered (its /sys/class/net), not the host's.
 * Best effort: without it the command still runs, with the host's /sys.
 */
static int
remount_sys(void)
{
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("", "/", "none", MS_SLAVE | MS_REC, NULL) != 0)
		return STATUS_OK;
	if (umount2("/sys", MNT_DETACH) == 0)
		(void)mount("sysfs", "/sys", "sysfs", 0, NULL);
	return STATUS_OK;
}

/* Moves this process into the network namespace NETNS_DIR/NETNS. */
static int
enter_netns(const char *netns)
{
	char *path = NULL;
	int fd, saved, rc = STATUS_FAILURE;

	if (asprintf(&path, NETNS_DIR "/%s", netns) < 0)
		return out_of_memory();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	saved = errno;
	if (fd < 0)
		report_error("cannot open %s: %s%s", path, strerror(saved),
			     saved == EACCES || saved == EPERM ?
			     " (cnwctl exec needs root)" : "");
	else if (setns(fd, CLONE_NEWNET) != 0)
		report_error("cannot enter network namespace %s: %s "
			     "(cnwctl exec needs root)", netns, strerror(errno));
	else
		rc = remount_sys();
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* Becomes COMMAND; returns only when it cannot be run. */
static int
run_command(char **command)
{
	/* The command is the tenant's workload: it gets no token of ours. */
	unsetenv("CNW_TOKEN");
	fflush(stdout);
	execvp(command[0], command);
	report_error("cannot run %s: %s", command[0], strerror(errno));
	return STATUS_NOT_RUN;
}

static int
cmd_exec(struct ctx *ctx, const struct command *cmd, int argc, char **argv)
{
	const char *pos[2] = { NULL, NULL };	/* TENANT NETWORK */
	char **command = NULL;
	char *netns = NULL;
	int rc = parse_exec(cmd, argc, argv, pos, &command);

	if (rc == STATUS_OK)
		rc = get_netns(ctx, pos[0], pos[1], &netns);
	if (rc == STATUS_OK)
		rc = enter_netns(netns);
	if (rc == STATUS_OK)
		rc = run_command(command);
	free(netns);
	return rc;
}

static const struct command commands[] = {
	{ "version", NULL, cmd_version, "version" },
	{ "tenant", "create", cmd_tenant_create,
	  "tenant create NAME [--description TEXT] [--networks N] "
	  "[--bandwidth-kbps N] [--flows N]" },
	{ "tenant", "list", cmd_tenant_list, "tenant list" },
	{ "tenant", "show", cmd_tenant_show, "tenant show NAME" },
	{ "tenant", "update", cmd_tenant_update,
	  "tenant update NAME [--description TEXT] [--networks N] "
	  "[--bandwidth-kbps N] [--flows N]" },
	{ "tenant", "delete", cmd_tenant_delete,
	  "tenant delete NAME [--cascade]" },
	{ "process", "list", cmd_process_list, "process list" },
	{ "network", "create", cmd_network_create,
	  "network create TENANT NAME --subnet CIDR [--subnet6 CIDR] "
	  "[--peer PEER --uplink UPLINK [--uplink UPLINK ...]]" },
	{ "network", "list", cmd_network_list, "network list TENANT" },
	{ "network", "show", cmd_network_show, "network show TENANT NAME" },
	{ "network", "delete", cmd_network_delete,
	  "network delete TENANT NAME" },
	{ "route", "add", cmd_route_add,
	  "route add TENANT NETWORK PREFIX "
	  "[--via fastpath|blackhole|unreachable]" },
	{ "route", "list", cmd_route_list, "route list TENANT NETWORK" },
	{ "route", "delete", cmd_route_delete,
	  "route delete TENANT NETWORK ID" },
	{ "policy", "add", cmd_policy_add,
	  "policy add TENANT NAME [--priority N] [--protocol P] "
	  "[--src PREFIX] [--dst PREFIX] [--sport PORTS] [--dport PORTS] "
	  "[--dscp N[,N...]] [--action allow|deny] [--class CLASS] "
	  "[--steering MODE] [--uplinks A[,B...]] [--weights N[,N...]] "
	  "[--rate KBPS] [--burst KB] [--max-latency MS]" },
	{ "policy", "list", cmd_policy_list, "policy list TENANT" },
	{ "policy", "show", cmd_policy_show, "policy show TENANT NAME" },
	{ "policy", "delete", cmd_policy_delete, "policy delete TENANT NAME" },
	{ "flow", "list", cmd_flow_list,
	  "flow list TENANT [--network NETWORK] [--limit N]" },
	{ "uplink", "create", cmd_uplink_create,
	  "uplink create NAME --interface IF [--address ADDR:PORT] "
	  "[--netns NS] [--driver NAME|PATH] [EMULATION OPTIONS] [--down] "
	  "[--flap PATTERN]" },
	{ "uplink", "list", cmd_uplink_list, "uplink list" },
	{ "uplink", "show", cmd_uplink_show, "uplink show NAME" },
	{ "uplink", "set", cmd_uplink_set,
	  "uplink set NAME [EMULATION OPTIONS] [--up|--down] "
	  "[--flap PATTERN|--no-flap]" },
	{ "uplink", "delete", cmd_uplink_delete, "uplink delete NAME" },
	{ "peer", "create", cmd_peer_create,
	  "peer create NAME --endpoint UPLINK=ADDR:PORT "
	  "[--endpoint UPLINK=ADDR:PORT ...]" },
	{ "peer", "list", cmd_peer_list, "peer list" },
	{ "peer", "show", cmd_peer_show, "peer show NAME" },
	{ "peer", "delete", cmd_peer_delete, "peer delete NAME" },
	{ "interface", "list", cmd_interface_list, "interface list [--netns NS]" },
	{ "interface", "show", cmd_interface_show,
	  "interface show NAME [--netns NS]" },
	{ "driver", "list", cmd_driver_list, "driver list" },
	/* As cnwctl_driver.c has them, for --help and usage errors. */
	{ "driver", "keygen", cmd_driver_offline,
	  "driver keygen PRIVATE_KEY_FILE PUBLIC_KEY_FILE" },
	{ "driver", "sign", cmd_driver_offline,
	  "driver sign --key PRIVATE_KEY_FILE FILE.so [--output SIG_FILE]" },
	{ "driver", "verify", cmd_driver_offline,
	  "driver verify --key PUBLIC_KEY_FILE|--keys DIR FILE.so "
	  "[--signature SIG_FILE]" },
	{ "events", NULL, cmd_events, "events [--since ID]" },
	{ "metrics", NULL, cmd_metrics, "metrics" },
	{ "exec", NULL, cmd_exec, "exec TENANT NETWORK -- CMD [ARG...]" },
	{ NULL, NULL, NULL, NULL },
};

/* ---- dispatch and main ------------------------------------------------- */

static int
print_help(void)
{
	const struct command *cmd;

	print_synopsis(stdout);
	fputs("\nGlobal options (before NOUN VERB):\n"
	      "  --socket PATH        API socket (default: $CNW_SOCKET, else "
	      DEFAULT_SOCKET ")\n"
	      "  --token-file FILE    token file (default: $CNW_TOKEN, else "
	      DEFAULT_TOKEN_FILE ")\n"
	      "  -o, --output FORMAT  table (default) or json\n"
	      "  -h, --help           show this help\n"
	      "\nCommands:\n", stdout);
	for (cmd = commands; cmd->noun != NULL; cmd++)
		printf("  cnwctl %s\n", cmd->usage);
	print_emulation_options(stdout);
	print_policy_options(stdout);
	return STATUS_DONE;
}

static const struct command *
find_command(const char *noun, const char *verb)
{
	const struct command *cmd;

	for (cmd = commands; cmd->noun != NULL; cmd++) {
		if (strcmp(cmd->noun, noun) != 0)
			continue;
		if (cmd->verb == NULL ||
		    (verb != NULL && strcmp(cmd->verb, verb) == 0))
			return cmd;
	}
	return NULL;
}

/* Unknown verb of a known noun: list that noun's commands. */
static int
unknown_command(const char *noun, const char *verb)
{
	const struct command *cmd;
	bool known_noun = false;

	for (cmd = commands; cmd->noun != NULL; cmd++)
		known_noun |= strcmp(cmd->noun, noun) == 0;
	if (!known_noun) {
		report_error("unknown command '%s'", noun);
		return global_usage_error(NULL);
	}
	if (verb == NULL)
		report_error("%s: missing verb", noun);
	else
		report_error("%s: unknown verb '%s'", noun, verb);
	for (cmd = commands; cmd->noun != NULL; cmd++) {
		if (strcmp(cmd->noun, noun) == 0)
			print_usage_line(stderr, cmd);
	}
	return STATUS_USAGE;
}

/* ARGV[0] is the noun; the handler sees its verb (or noun) as argv[0]. */
static int
dispatch(struct ctx *ctx, int argc, char **argv)
{
	const struct command *cmd;
	int skip;

	if (argc < 1)
		return global_usage_error("missing command");
	cmd = find_command(argv[0], argc > 1 ? argv[1] : NULL);
	if (cmd == NULL)
		return unknown_command(argv[0], argc > 1 ? argv[1] : NULL);
	skip = cmd->verb != NULL ? 1 : 0;
	/* getopt prefixes its messages with argv[0]. */
	argv[skip] = (char *)"cnwctl";
	return cmd->handler(ctx, cmd, argc - skip, argv + skip);
}

static int
set_socket(struct ctx *ctx, const char *path)
{
	if (*path == '\0')
		return global_usage_error("--socket: empty path");
	ctx->socket_path = path;
	return STATUS_OK;
}

static int
global_option(struct ctx *ctx, int opt, const char *value)
{
	switch (opt) {
	case OPT_SOCKET:
		return set_socket(ctx, value);
	case OPT_TOKEN_FILE:
		ctx->token_file = value;
		ctx->token_file_given = true;
		return STATUS_OK;
	case 'o':
		if (cnwctl_format_parse(value, &ctx->format) == 0)
			return STATUS_OK;
		report_error("-o: unknown format '%s' (table or json)", value);
		return global_usage_error(NULL);
	case 'h':
		return print_help();
	default:
		return global_usage_error(NULL);
	}
}

/* Global options stop at the first word ("+"): NOUN VERB and theirs follow. */
static int
parse_global(struct ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "output", required_argument, NULL, 'o' },
		OPTION_HELP,
		OPTION_END,
	};
	int opt, rc = STATUS_OK;

	while (rc == STATUS_OK &&
	       (opt = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1)
		rc = global_option(ctx, opt, optarg);
	return rc;
}

static void
init_ctx(struct ctx *ctx)
{
	const char *env_socket = getenv("CNW_SOCKET");

	ctx->socket_path = env_socket != NULL && *env_socket != '\0' ?
			   env_socket : DEFAULT_SOCKET;
	ctx->token_file = DEFAULT_TOKEN_FILE;
	ctx->token_file_given = false;
	ctx->format = CNWCTL_FORMAT_TABLE;
	ctx->token = NULL;
}

/* Output that never reached its file is a failure, not a success. */
static int
flush_output(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		report_error("cannot write output: %s", strerror(errno));
		return STATUS_FAILURE;
	}
	return rc == STATUS_DONE ? STATUS_OK : rc;
}

int
main(int argc, char **argv)
{
	struct ctx ctx;
	int rc;

	init_ctx(&ctx);
	argv[0] = (char *)"cnwctl";	/* getopt's messages name the tool */
	rc = parse_global(&ctx, argc, argv);
	if (rc == STATUS_OK && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		report_error("cannot initialise libcurl");
		rc = STATUS_FAILURE;
	} else if (rc == STATUS_OK) {
		rc = dispatch(&ctx, argc - optind, argv + optind);
		curl_global_cleanup();
	}
	free(ctx.token);
	return flush_output(rc);
}
