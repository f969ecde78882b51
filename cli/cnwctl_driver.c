/*
 * cnwctl_driver.c: "cnwctl driver keygen|sign|verify", the offline half of
 * the driver commands; see cnwctl_driver.h.
 *
 * Each verb is a row of ctl_driver_verbs[] and a function over hal/sign.c
 * that returns 0, or -1 with a struct cnw_error filled (CNW_EINVAL: the
 * command line is wrong).  cnwctl_driver_offline() prints the error once,
 * as the rest of cnwctl does, and turns it into the exit status; the file
 * stands alone (the unit test links it without the rest of cnwctl).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cnwctl_driver.h"
#include "hal/sign.h"

enum {
	OPT_KEY = 256,
	OPT_KEYS,
	OPT_OUTPUT,
	OPT_SIGNATURE,
};

/* What the options of any verb set; each verb's longopts allow its own. */
struct ctl_driver_opts {
	const char *key;
	const char *keys;
	const char *output;
	const char *signature;
	const char *pos[2];	/* the positional arguments */
};

struct ctl_driver_verb {
	const char *name;
	int (*run)(const struct ctl_driver_opts *o, struct cnw_error *err);
	const struct option *longopts;
	int npos;		/* positional arguments */
	const char *usage;	/* what follows "cnwctl " */
};

#define OPTION_HELP	{ "help", no_argument, NULL, 'h' }
#define OPTION_END	{ NULL, 0, NULL, 0 }

static const struct option ctl_keygen_longopts[] = {
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_sign_longopts[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	OPTION_HELP,
	OPTION_END,
};

static const struct option ctl_verify_longopts[] = {
	{ "key", required_argument, NULL, OPT_KEY },
	{ "keys", required_argument, NULL, OPT_KEYS },
	{ "signature", required_argument, NULL, OPT_SIGNATURE },
	OPTION_HELP,
	OPTION_END,
};

/* The option OPT into O; -1 for one no verb takes (getopt said why). */
static int
ctl_driver_option(struct ctl_driver_opts *o, int opt, const char *value)
{
	switch (opt) {
	case OPT_KEY:
		o->key = value;
		return 0;
	case OPT_KEYS:
		o->keys = value;
		return 0;
	case OPT_OUTPUT:
		o->output = value;
		return 0;
	case OPT_SIGNATURE:
		o->signature = value;
		return 0;
	default:
		return -1;
	}
}

/*
 * The verb's options and exactly v->npos positional arguments into O.
 * ARGV[0] stands for the program; GNU getopt permutes, so options may come
 * before or after the file, as in the rest of cnwctl.  0 to go on, 1 after
 * --help, -1 with ERR filled.
 */
static int
ctl_driver_args(const struct ctl_driver_verb *v, int argc, char **argv,
    struct ctl_driver_opts *o, struct cnw_error *err)
{
	int opt, i;

	memset(o, 0, sizeof(*o));
	optind = 0;	/* glibc: start over, whoever parsed before us */
	while ((opt = getopt_long(argc, argv, "h", v->longopts, NULL)) != -1) {
		if (opt == 'h') {
			printf("usage: cnwctl %s\n", v->usage);
			return 1;
		}
		if (ctl_driver_option(o, opt, optarg) != 0) {
			err->kind = CNW_EINVAL;
			return -1;
		}
	}
	if (argc - optind < v->npos)
		return cnw_err(err, CNW_EINVAL, "missing argument");
	if (argc - optind > v->npos)
		return cnw_err(err, CNW_EINVAL, "unexpected argument '%s'",
		    argv[optind + v->npos]);
	for (i = 0; i < v->npos; i++)
		o->pos[i] = argv[optind + i];
	return 0;
}

/*
 * hal/sign.c's kinds say what was wrong with a file; to cnwctl any of them
 * is a failure (exit 1), not a usage error.
 */
static int
ctl_driver_failure(struct cnw_error *err)
{
	err->kind = CNW_EINTERNAL;
	return -1;
}

static int
ctl_driver_keygen(const struct ctl_driver_opts *o, struct cnw_error *err)
{
	if (sign_keygen(o->pos[0], o->pos[1], err) < 0)
		return ctl_driver_failure(err);
	return 0;
}

static int
ctl_driver_sign(const struct ctl_driver_opts *o, struct cnw_error *err)
{
	if (o->key == NULL)
		return cnw_err(err, CNW_EINVAL, "missing option --key");
	if (sign_file(o->key, o->pos[0], o->output, err) < 0)
		return ctl_driver_failure(err);
	return 0;
}

/* The verdict is the command's output: on stdout if verified, else stderr. */
static int
ctl_driver_verify(const struct ctl_driver_opts *o, struct cnw_error *err)
{
	struct sign_result res;

	if (o->key != NULL && o->keys != NULL)
		return cnw_err(err, CNW_EINVAL,
		    "--key and --keys exclude each other");
	if (o->key == NULL && o->keys == NULL)
		return cnw_err(err, CNW_EINVAL,
		    "missing option --key or --keys");
	if (sign_verify_file(o->pos[0], o->signature,
	    o->key != NULL ? o->key : o->keys, &res, err) < 0)
		return ctl_driver_failure(err);
	if (res.state != SIGN_VERIFIED) {
		fprintf(stderr, "%s: %s: %s\n", o->pos[0],
		    sign_state_name(res.state), res.detail);
		return 1;
	}
	printf("%s: verified by key %s\n", o->pos[0], res.key);
	return 0;
}

static const struct ctl_driver_verb ctl_driver_verbs[] = {
	{ "keygen", ctl_driver_keygen, ctl_keygen_longopts, 2,
	    "driver keygen PRIVATE_KEY_FILE PUBLIC_KEY_FILE" },
	{ "sign", ctl_driver_sign, ctl_sign_longopts, 1,
	    "driver sign --key PRIVATE_KEY_FILE FILE.so [--output SIG_FILE]" },
	{ "verify", ctl_driver_verify, ctl_verify_longopts, 1,
	    "driver verify --key PUBLIC_KEY_FILE|--keys DIR FILE.so "
	    "[--signature SIG_FILE]" },
};

/* Runs verb V: its exit status, its error printed. */
static int
ctl_driver_run(const struct ctl_driver_verb *v, int argc, char **argv)
{
	struct cnw_error err = { 0 };
	struct ctl_driver_opts o;
	int rc;

	if ((rc = ctl_driver_args(v, argc, argv, &o, &err)) == 1)
		return 0;	/* --help */
	if (rc == 0)
		rc = v->run(&o, &err);
	if (rc >= 0)
		return rc;
	if (err.msg[0] != '\0')
		fprintf(stderr, "cnwctl: %s\n", err.msg);
	if (err.kind != CNW_EINVAL)
		return 1;
	fprintf(stderr, "usage: cnwctl %s\n", v->usage);
	return 2;
}

int
cnwctl_driver_offline(int argc, char **argv)
{
	const struct ctl_driver_verb *v = NULL;
	char *verb;
	size_t i;
	int rc;

	if (argc < 1)
		return -1;
	for (i = 0; i < sizeof(ctl_driver_verbs) / sizeof(ctl_driver_verbs[0]);
	    i++) {
		if (strcmp(argv[0], ctl_driver_verbs[i].name) == 0)
			v = &ctl_driver_verbs[i];
	}
	if (v == NULL)
		return -1;
	/* getopt prefixes its messages with argv[0]: name the tool. */
	verb = argv[0];
	argv[0] = (char *)"cnwctl";
	rc = ctl_driver_run(v, argc, argv);
	argv[0] = verb;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fputs("cnwctl: cannot write output\n", stderr);
		return 1;
	}
	return rc;
}
