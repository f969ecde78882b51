/*
 * cnwctl.c: the command-line client of cnwd; main.
 *
 * cnwctl is how the admin of a host talks to cnwd: it turns
 * "cnwctl [global options] NOUN VERB [ARGS]" into one REST request on the
 * daemon's Unix socket, then prints the reply.  It keeps no state between
 * runs and never interprets the API's objects beyond what it shows; the
 * API is the contract (docs/rest-api.md), the command line is
 * docs/cli-and-config.md and man/cnwctl.8.  This file reads the global
 * options, finds the command's row in ctl_commands[] (cnwctl_commands.c),
 * runs it and turns what it returns into the exit status: 0 done, 1 a
 * failure of cnwd, the transport or the system, 2 a usage error; a command
 * may decide its own (exec's 127, driver verify's verdict).  cnwctl.h says
 * which file does what.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cnwctl.h"

enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILURE = 1,
	CTL_EXIT_USAGE = 2,
};

/* Long options without a short form. */
enum {
	OPT_SOCKET = 256,
	OPT_TOKEN_FILE,
};

/* A message that does not stop cnwctl, or an error at the top. */
void
ctl_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("cnwctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ERR's message, unless getopt has already said what was wrong. */
static void
ctl_report(const struct cnw_error *err)
{
	if (err->msg[0] != '\0')
		ctl_warn("%s", err->msg);
}

void
ctl_print_usage(FILE *out, const struct ctl_command *cmd)
{
	fprintf(out, "usage: cnwctl %s\n", cmd->usage);
}

static void
ctl_print_synopsis(FILE *out)
{
	fputs("usage: cnwctl [--socket PATH] [--token-file FILE] "
	    "[-o table|json] NOUN VERB [ARGS]\n", out);
}

static int
ctl_global_usage(const struct cnw_error *err)
{
	ctl_report(err);
	ctl_print_synopsis(stderr);
	fputs("Run 'cnwctl --help' for the list of commands.\n", stderr);
	return CTL_EXIT_USAGE;
}

static void
ctl_print_help(void)
{
	const struct ctl_command *cmd;

	ctl_print_synopsis(stdout);
	fputs("\nGlobal options (before NOUN VERB):\n"
	    "  --socket PATH        API socket (default: $CNW_SOCKET, else "
	    CTL_DEFAULT_SOCKET ")\n"
	    "  --token-file FILE    token file (default: $CNW_TOKEN, else "
	    CTL_DEFAULT_TOKEN_FILE ")\n"
	    "  -o, --output FORMAT  table (default) or json\n"
	    "  -h, --help           show this help\n"
	    "\nCommands:\n", stdout);
	for (cmd = ctl_commands; cmd->noun != NULL; cmd++)
		printf("  cnwctl %s\n", cmd->usage);
	ctl_print_emulation_options(stdout);
	ctl_print_policy_options(stdout);
}

static const struct ctl_command *
ctl_find_command(const char *noun, const char *verb)
{
	const struct ctl_command *cmd;

	for (cmd = ctl_commands; cmd->noun != NULL; cmd++) {
		if (strcmp(cmd->noun, noun) != 0)
			continue;
		if (cmd->verb == NULL ||
		    (verb != NULL && strcmp(cmd->verb, verb) == 0))
			return cmd;
	}
	return NULL;
}

/* An unknown verb of a known noun: that noun's commands are listed. */
static int
ctl_unknown_command(const char *noun, const char *verb,
    struct cnw_error *err)
{
	const struct ctl_command *cmd;
	bool known_noun = false;

	for (cmd = ctl_commands; cmd->noun != NULL; cmd++)
		known_noun |= strcmp(cmd->noun, noun) == 0;
	if (!known_noun) {
		cnw_err(err, CNW_EINVAL, "unknown command '%s'", noun);
		return ctl_global_usage(err);
	}
	if (verb == NULL)
		cnw_err(err, CNW_EINVAL, "%s: missing verb", noun);
	else
		cnw_err(err, CNW_EINVAL, "%s: unknown verb '%s'", noun, verb);
	ctl_report(err);
	for (cmd = ctl_commands; cmd->noun != NULL; cmd++) {
		if (strcmp(cmd->noun, noun) == 0)
			ctl_print_usage(stderr, cmd);
	}
	return CTL_EXIT_USAGE;
}

/*
 * Runs the command ARGV[0] (the noun) names; the command sees its verb (or
 * noun) as argv[0].  Returns the exit status.
 */
static int
ctl_dispatch(struct ctl_ctx *ctx, int argc, char **argv,
    struct cnw_error *err)
{
	const struct ctl_command *cmd;
	const char *verb = argc > 1 ? argv[1] : NULL;
	int skip, rc;

	if (argc < 1) {
		cnw_err(err, CNW_EINVAL, "missing command");
		return ctl_global_usage(err);
	}
	if ((cmd = ctl_find_command(argv[0], verb)) == NULL)
		return ctl_unknown_command(argv[0], verb, err);
	skip = cmd->verb != NULL ? 1 : 0;
	/* getopt prefixes its messages with argv[0]. */
	argv[skip] = (char *)"cnwctl";
	rc = (cmd->run != NULL ? cmd->run : ctl_command_run)(ctx, cmd,
	    argc - skip, argv + skip, err);
	if (rc >= 0)
		return rc;
	ctl_report(err);
	if (err->kind != CNW_EINVAL)
		return CTL_EXIT_FAILURE;
	ctl_print_usage(stderr, cmd);
	return CTL_EXIT_USAGE;
}

static int
ctl_global_option(struct ctl_ctx *ctx, int opt, const char *value,
    struct cnw_error *err)
{
	switch (opt) {
	case OPT_SOCKET:
		if (*value == '\0')
			return cnw_err(err, CNW_EINVAL, "--socket: empty path");
		ctx->socket_path = value;
		return 0;
	case OPT_TOKEN_FILE:
		ctx->token_file = value;
		ctx->token_file_given = true;
		return 0;
	case 'o':
		if (ctl_format_parse(value, &ctx->format) == 0)
			return 0;
		return cnw_err(err, CNW_EINVAL,
		    "-o: unknown format '%s' (table or json)", value);
	case 'h':
		ctl_print_help();
		return 1;
	default:
		err->kind = CNW_EINVAL;	/* getopt has said why */
		return -1;
	}
}

/*
 * Global options stop at the first word ("+"): NOUN VERB and theirs
 * follow.  0 to go on, 1 after --help, -1 with ERR filled.
 */
static int
ctl_parse_global(struct ctl_ctx *ctx, int argc, char **argv,
    struct cnw_error *err)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "output", required_argument, NULL, 'o' },
		OPTION_HELP,
		OPTION_END,
	};
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+o:h", longopts, NULL)) != -1) {
		if ((rc = ctl_global_option(ctx, opt, optarg, err)) != 0)
			return rc;
	}
	return 0;
}

static void
ctl_init_ctx(struct ctl_ctx *ctx)
{
	const char *env_socket = getenv("CNW_SOCKET");

	ctx->socket_path = env_socket != NULL && *env_socket != '\0' ?
	    env_socket : CTL_DEFAULT_SOCKET;
	ctx->token_file = CTL_DEFAULT_TOKEN_FILE;
	ctx->token_file_given = false;
	ctx->format = CTL_FORMAT_TABLE;
	ctx->token = NULL;
}

/* Output that never reached its file is a failure, not a success. */
static int
ctl_flush_output(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warn("cannot write output: %s", strerror(errno));
		return CTL_EXIT_FAILURE;
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct cnw_error err = { 0 };
	struct ctl_ctx ctx;
	int rc, status = CTL_EXIT_OK;

	ctl_init_ctx(&ctx);
	argv[0] = (char *)"cnwctl";	/* getopt's messages name the tool */
	if ((rc = ctl_parse_global(&ctx, argc, argv, &err)) < 0)
		status = ctl_global_usage(&err);
	else if (rc == 0 && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		ctl_warn("cannot initialise libcurl");
		status = CTL_EXIT_FAILURE;
	} else if (rc == 0) {
		status = ctl_dispatch(&ctx, argc - optind, argv + optind, &err);
		curl_global_cleanup();
	}
	free(ctx.token);
	return ctl_flush_output(status);
}
