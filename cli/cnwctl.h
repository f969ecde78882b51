/*
 * cnwctl.h: what the files of cnwctl share.
 *
 * cnwctl turns "cnwctl [global options] NOUN VERB [ARGS]" into one REST
 * request on cnwd's Unix socket and prints the reply.  Each file does one
 * job:
 *
 *	cnwctl.c		main: global options, finding the command, help
 *	cnwctl_commands.c	the commands, one row per noun and verb
 *	cnwctl_options.c	the options of the commands, into a request
 *	cnwctl_token.c		finding and reading the bearer token
 *	cnwctl_http.c		the request itself (libcurl)
 *	cnwctl_events.c		following the event stream of "events"
 *	cnwctl_exec.c		"exec": a command inside a network's namespace
 *	cnwctl_output.c		tables, "key: value" lines and JSON
 *	cnwctl_driver.c		"driver keygen|sign|verify", files only
 *
 * Errors follow lib/error.h: a function that can fail fills a struct
 * cnw_error and returns -1, and main prints it, once, as "cnwctl: MESSAGE"
 * on stderr.  The kind decides the exit status: CNW_EINVAL is a usage
 * error (exit 2; the command's usage follows the message, which may be
 * empty when getopt already said what was wrong), any other kind a failure
 * of cnwd, the transport or the system (exit 1).
 */
#ifndef CNWCTL_H
#define CNWCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <getopt.h>
#include <jansson.h>

#include "lib/error.h"
#include "cli/cnwctl_output.h"

#define CTL_DEFAULT_SOCKET	"/run/cnw/cnwd.sock"
#define CTL_DEFAULT_TOKEN_FILE	"/var/lib/cnw/admin.token"

/* What the global options decided; the token is read on first need. */
struct ctl_ctx {
	const char *socket_path;
	const char *token_file;
	bool token_file_given;		/* --token-file beats $CNW_TOKEN */
	enum ctl_format format;
	char *token;
};

/*
 * Query parameters an option may add, in the order they are written:
 * "?network=lan&limit=10" whichever option came first.
 */
enum ctl_query {
	CTL_QUERY_CASCADE,
	CTL_QUERY_NETNS,
	CTL_QUERY_NETWORK,
	CTL_QUERY_LIMIT,
	CTL_QUERY_SINCE,
	CTL_QUERY_COUNT,
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define OPTION_HELP	{ "help", no_argument, NULL, 'h' }
#define OPTION_END	{ NULL, 0, NULL, 0 }

#define CTL_MAX_POS	3	/* positional arguments of any command */

/* What a command line becomes: the request's parts before it is sent. */
struct ctl_args {
	const char *pos[CTL_MAX_POS];
	json_t *body;			/* POST and PATCH send it */
	const char *query[CTL_QUERY_COUNT];	/* NULL: not given */
	char id[24];			/* number_arg, as cnwctl writes it */
	char since[24];			/* --since, written again */
};

struct ctl_command;

/*
 * The options of one kind of command: getopt's table; what each option
 * does to the request (-1 and ERR for an option it does not take, ERR's
 * message empty when getopt has said why); what is checked once all are
 * in; and what --help says besides the usage.  FINISH and HELP may be
 * NULL.
 */
struct ctl_optset {
	const struct option *longopts;
	int (*handle)(struct ctl_args *args, int opt, const char *value,
	    struct cnw_error *err);
	int (*finish)(struct ctl_args *args, struct cnw_error *err);
	void (*help)(FILE *out);
};

/* How a command shows the reply. */
enum ctl_print {
	CTL_PRINT_OBJECT,	/* one object, as the row's view */
	CTL_PRINT_LIST,		/* {"items": [...]}, as the row's view */
	CTL_PRINT_FLOWS,	/* a list under the tenant's flow counts */
	CTL_PRINT_DONE,		/* table: the row's done line; json: nothing */
	CTL_PRINT_VERSION,	/* "cnwd 1.0 (API v1)" */
};

/*
 * One command: "NOUN VERB", the request it makes and how it shows the
 * reply.  PATH is a template: "%0" is the first positional argument, escaped
 * so it stays one segment, "%1" the second; DONE is one too, unescaped.
 * A command that is more than one request and its reply names its own RUN,
 * which returns the exit status, or -1 with ERR filled.
 */
struct ctl_command {
	const char *noun;
	const char *verb;		/* NULL: one word ("version") */
	const char *method;
	const char *path;
	int npos;			/* positional arguments */
	const struct ctl_optset *options;	/* NULL: only --help */
	struct {
		int pos;		/* which argument, from 1; 0: none */
		const char *key;	/* its member of the body */
		const char *what;	/* how a message names it */
	} body_arg, number_arg;		/* number_arg: a whole number (ID) */
	bool no_token;			/* GET /v1 is for anyone */
	enum ctl_print print;
	enum ctl_view view;
	const char *done;		/* CTL_PRINT_DONE's line */
	int (*run)(struct ctl_ctx *ctx, const struct ctl_command *cmd,
	    int argc, char **argv, struct cnw_error *err);
	const char *usage;		/* what follows "cnwctl " */
};

/* cnwctl_commands.c */
extern const struct ctl_command ctl_commands[];
int ctl_command_run(struct ctl_ctx *ctx, const struct ctl_command *cmd,
    int argc, char **argv, struct cnw_error *err);
char *ctl_command_path(const struct ctl_command *cmd,
    const struct ctl_args *args);

/* cnwctl.c */
void ctl_print_usage(FILE *out, const struct ctl_command *cmd);
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* cnwctl_options.c */
extern const struct option ctl_no_longopts[];
extern const struct ctl_optset ctl_opts_tenant, ctl_opts_tenant_update,
    ctl_opts_delete, ctl_opts_network, ctl_opts_route, ctl_opts_uplink,
    ctl_opts_uplink_set, ctl_opts_peer, ctl_opts_netns, ctl_opts_policy,
    ctl_opts_flow, ctl_opts_events;
int ctl_parse_args(const struct ctl_command *cmd, int argc, char **argv,
    struct ctl_args *args, struct cnw_error *err);
int ctl_parse_count(const char *text, json_int_t *value);
int ctl_parse_integer(const char *text, json_int_t *value);
json_t *ctl_member_object(json_t *object, const char *key);
int ctl_set_string(json_t *object, const char *key, const char *value,
    const char *what, struct cnw_error *err);
void ctl_print_emulation_options(FILE *out);
void ctl_print_policy_options(FILE *out);

/* cnwctl_token.c */
int ctl_token_load(struct ctl_ctx *ctx, struct cnw_error *err);

/* cnwctl_http.c */
enum ctl_auth {
	CTL_AUTH_BEARER,
	CTL_AUTH_NONE,
};

struct ctl_request {
	const char *method;
	const char *path;	/* "/v1/...", already escaped */
	const json_t *body;	/* NULL: none */
	enum ctl_auth auth;
	const char *accept;	/* media type wanted; NULL: application/json */
};

/*
 * A reply that does not end (an event stream) gives FEED: a 2xx body is fed
 * to it as it comes instead of being collected, and the request has no
 * time limit; FEED returns -1 with STREAM_ERR filled to stop it.  An error
 * reply is collected as any other.
 */
struct ctl_reply {
	long status;
	char *data;
	size_t len;
	bool too_large;
	int (*feed)(void *arg, const char *chunk, size_t n,
	    struct cnw_error *err);
	void *feed_arg;
	struct cnw_error stream_err;
	void *curl;		/* the CURL handle while the request runs */
};

int ctl_api_exchange(struct ctl_ctx *ctx, const struct ctl_request *req,
    struct ctl_reply *reply, struct cnw_error *err);
int ctl_api_call(struct ctl_ctx *ctx, const struct ctl_request *req,
    json_t **json, struct cnw_error *err);
char *ctl_escape(const char *text);
void ctl_escape_free(char *escaped);

/* cnwctl_events.c */
int ctl_events_follow(struct ctl_ctx *ctx, const struct ctl_command *cmd,
    int argc, char **argv, struct cnw_error *err);

/* cnwctl_exec.c */
int ctl_exec(struct ctl_ctx *ctx, const struct ctl_command *cmd, int argc,
    char **argv, struct cnw_error *err);

#endif /* CNWCTL_H */
