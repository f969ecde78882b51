/*
 * cnwctl_driver.c: "cnwctl driver keygen|sign|verify", the offline half of
 * the driver commands; see cnwctl_driver.h.
 *
 * Each verb is a row of verbs[] and a handler over hal/sign.c.  Like the
 * rest of cnwctl, every step returns an exit status (0 go on, 1 failure,
 * 2 usage, STATUS_DONE after --help) and whoever detects an error prints
 * it, once, as "cnwctl: ..." on stderr.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cnwctl_driver.h"
#include "hal/sign.h"

enum status {
	STATUS_OK = 0,
	STATUS_FAILURE = 1,
	STATUS_USAGE = 2,
	STATUS_DONE = 3,	/* internal: stop now, exit 0 */
};

enum {
	OPT_KEY = 256,
	OPT_KEYS,
	OPT_OUTPUT,
	OPT_SIGNATURE,
};

/* What the options of any verb set; each verb's longopts allow its own. */
struct driver_opts {
	const char *key;
	const char *keys;
	const char *output;
	const char *signature;
};

struct verb {
	const char *name;
	int (*run)(const struct verb *v, int argc, char **argv);
	const struct option *longopts;
	int npos;		/* positional arguments */
	const char *usage;	/* what follows "cnwctl " */
};

#define OPTION_HELP	{ "help", no_argument, NULL, 'h' }
#define OPTION_END	{ NULL, 0, NULL, 0 }

static const struct option keygen_longopts[] = {
	OPTION_HELP,
	OPTION_END,
};

static const struct option sign_longopts[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	OPTION_HELP,
	OPTION_END,
};

static const struct option verify_longopts[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "keys", required_argument, NULL, OPT_KEYS },
	{ "signature", required_argument, NULL, OPT_SIGNATURE },
	OPTION_HELP,
	OPTION_END,
};

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

/* MESSAGE may be NULL when getopt already said what was wrong. */
static int
usage_error(const struct verb *v, const char *message)
{
	if (message != NULL)
		report_error("%s", message);
	fprintf(stderr, "usage: cnwctl %s\n", v->usage);
	return STATUS_USAGE;
}

/*
 * The verb's options into o and exactly v->npos positional arguments into
 * pos.  ARGV[0] stands for the program; GNU getopt permutes, so options may
 * come before or after the file, as in the rest of cnwctl.
 */
static int
parse_verb(const struct verb *v, int argc, char **argv, struct driver_opts *o,
	   const char **pos)
{
	int opt, i;

	memset(o, 0, sizeof(*o));
	optind = 0;	/* glibc: start over, whoever parsed before us */
	while ((opt = getopt_long(argc, argv, "h", v->longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			printf("usage: cnwctl %s\n", v->usage);
			return STATUS_DONE;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_KEYS:
			o->keys = optarg;
			break;
		case OPT_OUTPUT:
			o->output = optarg;
			break;
		case OPT_SIGNATURE:
			o->signature = optarg;
			break;
		default:
			return usage_error(v, NULL);
		}
	}
	if (argc - optind < v->npos)
		return usage_error(v, "missing argument");
	if (argc - optind > v->npos) {
		report_error("unexpected argument '%s'", argv[optind + v->npos]);
		return usage_error(v, NULL);
	}
	for (i = 0; i < v->npos; i++)
		pos[i] = argv[optind + i];
	return STATUS_OK;
}

static int
run_keygen(const struct verb *v, int argc, char **argv)
{
	struct cnw_error err = { 0 };
	struct driver_opts o;
	const char *pos[2];
	int rc;

	if ((rc = parse_verb(v, argc, argv, &o, pos)) != STATUS_OK)
		return rc;
	if (sign_keygen(pos[0], pos[1], &err) < 0) {
		report_error("%s", err.msg);
		return STATUS_FAILURE;
	}
	return STATUS_OK;
}

static int
run_sign(const struct verb *v, int argc, char **argv)
{
	struct cnw_error err = { 0 };
	struct driver_opts o;
	const char *pos[1];
	int rc;

	if ((rc = parse_verb(v, argc, argv, &o, pos)) != STATUS_OK)
		return rc;
	if (o.key == NULL)
		return usage_error(v, "missing option --key");
	if (sign_file(o.key, pos[0], o.output, &err) < 0) {
		report_error("%s", err.msg);
		return STATUS_FAILURE;
	}
	return STATUS_OK;
}

static int
run_verify(const struct verb *v, int argc, char **argv)
{
	struct cnw_error err = { 0 };
	struct sign_result res;
	struct driver_opts o;
	const char *pos[1];
	int rc;

	if ((rc = parse_verb(v, argc, argv, &o, pos)) != STATUS_OK)
		return rc;
	if (o.key != NULL && o.keys != NULL)
		return usage_error(v, "--key and --keys exclude each other");
	if (o.key == NULL && o.keys == NULL)
		return usage_error(v, "missing option --key or --keys");
	if (sign_verify_file(pos[0], o.signature, o.key != NULL ? o.key : o.keys,
	    &res, &err) < 0) {
		report_error("%s", err.msg);
		return STATUS_FAILURE;
	}
	if (res.state != SIGN_VERIFIED) {
		fprintf(stderr, "%s: %s: %s\n", pos[0], sign_state_name(res.state), res.detail);
		return STATUS_FAILURE;
	}
	printf("%s: verified by key %s\n", pos[0], res.key);
	return STATUS_OK;
}

static const struct verb verbs[] = {
	{ "keygen", run_keygen, keygen_longopts, 2,
	  "driver keygen PRIVATE_KEY_FILE PUBLIC_KEY_FILE" },
	{ "sign", run_sign, sign_longopts, 1,
	  "driver sign --key PRIVATE_KEY_FILE FILE.so [--output SIG_FILE]" },
	{ "verify", run_verify, verify_longopts, 1,
	  "driver verify --key PUBLIC_KEY_FILE|--keys DIR FILE.so [--signature SIG_FILE]" },
};

int
cnwctl_driver_offline(int argc, char **argv)
{
	const struct verb *v = NULL;
	char *verb;
	size_t i;
	int rc;

	if (argc < 1)
		return -1;
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(argv[0], verbs[i].name) == 0)
			v = &verbs[i];
	}
	if (v == NULL)
		return -1;
	/* getopt prefixes its messages with argv[0]: name the tool, as cnwctl does. */
	verb = argv[0];
	argv[0] = (char *)"cnwctl";
	rc = v->run(v, argc, argv);
	argv[0] = verb;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		report_error("cannot write output");
		return STATUS_FAILURE;
	}
	return rc == STATUS_DONE ? STATUS_OK : rc;
}
