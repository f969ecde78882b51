/*
 * cnwctl_commands.c: the commands of cnwctl, one row each.
 *
 * Almost every command is one request and its reply: a row of
 * ctl_commands[] says which (method, path template, positional arguments,
 * options, the argument that goes in the body) and how the reply is shown
 * (as one object, as a list, or as a line saying it is done), and
 * ctl_command_run() does the rest.  Adding such a command is adding a row.
 * The few that do more name their own function in the row: "events"
 * follows a stream, "metrics" prints Prometheus text as it comes, "exec"
 * enters a network's namespace, and "driver keygen|sign|verify" work on
 * files, with no daemon at all.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cnwctl.h"
#include "cli/cnwctl_driver.h"

/* The names of the query parameters, in the order they are written. */
static const char *const ctl_query_names[CTL_QUERY_COUNT] = {
	[CTL_QUERY_CASCADE] = "cascade",
	[CTL_QUERY_NETNS] = "netns",
	[CTL_QUERY_NETWORK] = "network",
	[CTL_QUERY_LIMIT] = "limit",
	[CTL_QUERY_SINCE] = "since",
};

/* Writes TEXT, escaped for a URL when ESCAPE is true. */
static int
ctl_put(FILE *out, const char *text, bool escape)
{
	char *escaped;
	int rc;

	if (!escape)
		return fputs(text, out) < 0 ? -1 : 0;
	if ((escaped = ctl_escape(text)) == NULL)
		return -1;
	rc = fputs(escaped, out) < 0 ? -1 : 0;
	ctl_escape_free(escaped);
	return rc;
}

/*
 * TEMPLATE with "%0", "%1", ... replaced by the positional arguments,
 * escaped (a path) or not (a message).
 */
static int
ctl_put_expanded(FILE *out, const char *template, const char *const *pos,
    bool escape)
{
	const char *p;
	int rc = 0;

	for (p = template; *p != '\0' && rc == 0; p++) {
		if (p[0] == '%' && p[1] >= '0' && p[1] < '0' + CTL_MAX_POS)
			rc = ctl_put(out, pos[*++p - '0'], escape);
		else
			rc = fputc(*p, out) == EOF ? -1 : 0;
	}
	return rc;
}

/* The row's path with the arguments and the query the options gave. */
char *
ctl_command_path(const struct ctl_command *cmd, const struct ctl_args *args)
{
	const char *sep = "?";
	char *text = NULL;
	size_t len = 0, i;
	FILE *out;
	int rc;

	if ((out = open_memstream(&text, &len)) == NULL)
		return NULL;
	rc = ctl_put_expanded(out, cmd->path, args->pos, true);
	for (i = 0; i < CTL_QUERY_COUNT && rc == 0; i++) {
		if (args->query[i] == NULL)
			continue;
		if (fprintf(out, "%s%s=", sep, ctl_query_names[i]) < 0)
			rc = -1;
		else
			rc = ctl_put(out, args->query[i], true);
		sep = "&";
	}
	if (fclose(out) != 0 || rc != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/*
 * The command line into ARGS: the options, the positional argument that
 * goes in the body and the one that must be a number.  0 to go on, 1
 * after --help, -1 with ERR filled.
 */
static int
ctl_command_args(const struct ctl_command *cmd, int argc, char **argv,
    struct ctl_args *args, struct cnw_error *err)
{
	const char *number;
	json_int_t id;
	int rc;

	if ((rc = ctl_parse_args(cmd, argc, argv, args, err)) != 0)
		return rc;
	if (cmd->body_arg.pos != 0 &&
	    ctl_set_string(args->body, cmd->body_arg.key,
	    args->pos[cmd->body_arg.pos - 1], cmd->body_arg.what, err) != 0) {
		err->kind = CNW_EINVAL;
		return -1;
	}
	if (cmd->number_arg.pos == 0)
		return 0;
	number = args->pos[cmd->number_arg.pos - 1];
	if (ctl_parse_count(number, &id) != 0)
		return cnw_err(err, CNW_EINVAL,
		    "%s: '%s' is not a whole non-negative number",
		    cmd->number_arg.what, number);
	snprintf(args->id, sizeof(args->id), "%" JSON_INTEGER_FORMAT, id);
	args->pos[cmd->number_arg.pos - 1] = args->id;
	return 0;
}

/* The reply as the row says. */
static int
ctl_command_show(const struct ctl_ctx *ctx, const struct ctl_command *cmd,
    const struct ctl_args *args, const json_t *reply, struct cnw_error *err)
{
	switch (cmd->print) {
	case CTL_PRINT_OBJECT:
		return ctl_output_object(stdout, ctx->format, cmd->view, reply,
		    err);
	case CTL_PRINT_LIST:
		return ctl_output_list(stdout, ctx->format, cmd->view, reply,
		    err);
	case CTL_PRINT_FLOWS:
		return ctl_output_flows(stdout, ctx->format, reply, err);
	case CTL_PRINT_VERSION:
		return ctl_output_version(stdout, ctx->format, reply, err);
	case CTL_PRINT_DONE:
		break;
	}
	if (ctx->format != CTL_FORMAT_TABLE)
		return 0;
	/* Unescaped, nothing to allocate; a failed write is main's to say. */
	(void)ctl_put_expanded(stdout, cmd->done, args->pos, false);
	putchar('\n');
	return 0;
}

/* The request of a row, once ARGS holds its command line. */
static int
ctl_command_request(struct ctl_ctx *ctx, const struct ctl_command *cmd,
    const struct ctl_args *args, struct cnw_error *err)
{
	struct ctl_request req = { cmd->method, NULL, args->body,
	    cmd->no_token ? CTL_AUTH_NONE : CTL_AUTH_BEARER, NULL };
	json_t *reply = NULL;
	char *path;
	int rc;

	if ((path = ctl_command_path(cmd, args)) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	req.path = path;
	if ((rc = ctl_api_call(ctx, &req, &reply, err)) == 0)
		rc = ctl_command_show(ctx, cmd, args, reply, err);
	json_decref(reply);
	free(path);
	return rc;
}

/* A row without a function of its own: one request, its reply shown. */
int
ctl_command_run(struct ctl_ctx *ctx, const struct ctl_command *cmd,
    int argc, char **argv, struct cnw_error *err)
{
	struct ctl_args args = { .body = NULL };
	int rc;

	/* POST and PATCH send a body, if only the name. */
	if ((strcmp(cmd->method, "POST") == 0 ||
	    strcmp(cmd->method, "PATCH") == 0) &&
	    (args.body = json_object()) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	rc = ctl_command_args(cmd, argc, argv, &args, err);
	if (rc == 0)
		rc = ctl_command_request(ctx, cmd, &args, err);
	json_decref(args.body);
	return rc < 0 ? -1 : 0;
}

/*
 * GET /metrics answers Prometheus text, not JSON: it is printed as it
 * comes, whatever -o says.
 */
static int
ctl_metrics(struct ctl_ctx *ctx, const struct ctl_command *cmd, int argc,
    char **argv, struct cnw_error *err)
{
	const struct ctl_request req = { cmd->method, cmd->path, NULL,
	    CTL_AUTH_BEARER, "text/plain" };
	struct ctl_reply reply = { 0 };
	struct ctl_args args = { .body = NULL };
	int rc;

	if ((rc = ctl_parse_args(cmd, argc, argv, &args, err)) != 0)
		return rc < 0 ? -1 : 0;
	rc = ctl_api_exchange(ctx, &req, &reply, err);
	if (rc == 0 && reply.len > 0 &&
	    fwrite(reply.data, 1, reply.len, stdout) != reply.len)
		rc = cnw_err(err, CNW_EINTERNAL, "cannot write output: %s",
		    strerror(errno));
	free(reply.data);
	return rc;
}

/*
 * driver keygen, sign and verify: files only, where a plug-in is built, so
 * no socket and no token are touched.  cnwctl_driver_offline() parses its
 * own options, prints its own messages and wants the verb as argv[0],
 * which main replaced.
 */
static int
ctl_driver_offline(struct ctl_ctx *ctx, const struct ctl_command *cmd,
    int argc, char **argv, struct cnw_error *err)
{
	int rc;

	(void)ctx;
	argv[0] = (char *)cmd->verb;
	if ((rc = cnwctl_driver_offline(argc, argv)) >= 0)
		return rc;
	return cnw_err(err, CNW_EINTERNAL, "driver %s: not an offline verb",
	    cmd->verb);
}

#define TENANT		"/v1/tenants/%0"
#define NETWORK		TENANT "/networks/%1"
#define USAGE_TENANT_OPTIONS \
	"[--description TEXT] [--networks N] [--bandwidth-kbps N|none] [--flows N]"

const struct ctl_command ctl_commands[] = {
	{ .noun = "version", .method = "GET", .path = "/v1",
	    .no_token = true, .print = CTL_PRINT_VERSION,
	    .usage = "version" },

	{ .noun = "tenant", .verb = "create", .method = "POST",
	    .path = "/v1/tenants", .npos = 1, .options = &ctl_opts_tenant,
	    .body_arg = { 1, "name", "NAME" },
	    .view = CTL_VIEW_TENANT_CREATED,
	    .usage = "tenant create NAME " USAGE_TENANT_OPTIONS },
	{ .noun = "tenant", .verb = "list", .method = "GET",
	    .path = "/v1/tenants", .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_TENANT, .usage = "tenant list" },
	{ .noun = "tenant", .verb = "show", .method = "GET", .path = TENANT,
	    .npos = 1, .view = CTL_VIEW_TENANT, .usage = "tenant show NAME" },
	{ .noun = "tenant", .verb = "update", .method = "PATCH",
	    .path = TENANT, .npos = 1, .options = &ctl_opts_tenant_update,
	    .view = CTL_VIEW_TENANT,
	    .usage = "tenant update NAME " USAGE_TENANT_OPTIONS },
	{ .noun = "tenant", .verb = "delete", .method = "DELETE",
	    .path = TENANT, .npos = 1, .options = &ctl_opts_delete,
	    .print = CTL_PRINT_DONE, .done = "deleted tenant %0",
	    .usage = "tenant delete NAME [--cascade]" },

	{ .noun = "process", .verb = "list", .method = "GET",
	    .path = "/v1/processes", .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_PROCESS, .usage = "process list" },

	{ .noun = "network", .verb = "create", .method = "POST",
	    .path = TENANT "/networks", .npos = 2,
	    .options = &ctl_opts_network, .body_arg = { 2, "name", "NAME" },
	    .view = CTL_VIEW_NETWORK,
	    .usage = "network create TENANT NAME --subnet CIDR "
	    "[--subnet6 CIDR] [--peer PEER --uplink UPLINK "
	    "[--uplink UPLINK ...]]" },
	{ .noun = "network", .verb = "list", .method = "GET",
	    .path = TENANT "/networks", .npos = 1, .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_NETWORK, .usage = "network list TENANT" },
	{ .noun = "network", .verb = "show", .method = "GET", .path = NETWORK,
	    .npos = 2, .view = CTL_VIEW_NETWORK,
	    .usage = "network show TENANT NAME" },
	{ .noun = "network", .verb = "delete", .method = "DELETE",
	    .path = NETWORK, .npos = 2, .print = CTL_PRINT_DONE,
	    .done = "deleted network %1 of tenant %0",
	    .usage = "network delete TENANT NAME" },

	{ .noun = "route", .verb = "add", .method = "POST",
	    .path = NETWORK "/routes", .npos = 3, .options = &ctl_opts_route,
	    .body_arg = { 3, "prefix", "PREFIX" }, .view = CTL_VIEW_ROUTE,
	    .usage = "route add TENANT NETWORK PREFIX "
	    "[--via fastpath|blackhole|unreachable]" },
	{ .noun = "route", .verb = "list", .method = "GET",
	    .path = NETWORK "/routes", .npos = 2, .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_ROUTE, .usage = "route list TENANT NETWORK" },
	{ .noun = "route", .verb = "delete", .method = "DELETE",
	    .path = NETWORK "/routes/%2", .npos = 3,
	    .number_arg = { 3, NULL, "ID" }, .print = CTL_PRINT_DONE,
	    .done = "deleted route %2 of network %1",
	    .usage = "route delete TENANT NETWORK ID" },

	{ .noun = "policy", .verb = "add", .method = "POST",
	    .path = TENANT "/policies", .npos = 2, .options = &ctl_opts_policy,
	    .body_arg = { 2, "name", "NAME" }, .view = CTL_VIEW_POLICY,
	    .usage = "policy add TENANT NAME [--priority N] [--protocol P] "
	    "[--src PREFIX] [--dst PREFIX] [--sport PORTS] [--dport PORTS] "
	    "[--dscp N[,N...]] [--action allow|deny] [--class CLASS] "
	    "[--steering MODE] [--uplinks A[,B...]] [--weights N[,N...]] "
	    "[--rate KBPS] [--burst KB] [--max-latency MS]" },
	{ .noun = "policy", .verb = "list", .method = "GET",
	    .path = TENANT "/policies", .npos = 1, .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_POLICY, .usage = "policy list TENANT" },
	{ .noun = "policy", .verb = "show", .method = "GET",
	    .path = TENANT "/policies/%1", .npos = 2, .view = CTL_VIEW_POLICY,
	    .usage = "policy show TENANT NAME" },
	{ .noun = "policy", .verb = "delete", .method = "DELETE",
	    .path = TENANT "/policies/%1", .npos = 2, .print = CTL_PRINT_DONE,
	    .done = "deleted policy %1 of tenant %0",
	    .usage = "policy delete TENANT NAME" },

	{ .noun = "flow", .verb = "list", .method = "GET",
	    .path = TENANT "/flows", .npos = 1, .options = &ctl_opts_flow,
	    .print = CTL_PRINT_FLOWS,
	    .usage = "flow list TENANT [--network NETWORK] [--limit N]" },

	{ .noun = "uplink", .verb = "create", .method = "POST",
	    .path = "/v1/uplinks", .npos = 1, .options = &ctl_opts_uplink,
	    .body_arg = { 1, "name", "NAME" }, .view = CTL_VIEW_UPLINK,
	    .usage = "uplink create NAME --interface IF [--address ADDR:PORT] "
	    "[--netns NS] [--driver NAME|PATH] [EMULATION OPTIONS] [--down] "
	    "[--flap PATTERN]" },
	{ .noun = "uplink", .verb = "list", .method = "GET",
	    .path = "/v1/uplinks", .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_UPLINK, .usage = "uplink list" },
	{ .noun = "uplink", .verb = "show", .method = "GET",
	    .path = "/v1/uplinks/%0", .npos = 1, .view = CTL_VIEW_UPLINK,
	    .usage = "uplink show NAME" },
	/* A PATCH with only the options given. */
	{ .noun = "uplink", .verb = "set", .method = "PATCH",
	    .path = "/v1/uplinks/%0", .npos = 1,
	    .options = &ctl_opts_uplink_set, .view = CTL_VIEW_UPLINK,
	    .usage = "uplink set NAME [EMULATION OPTIONS] [--up|--down] "
	    "[--flap PATTERN|--no-flap]" },
	{ .noun = "uplink", .verb = "delete", .method = "DELETE",
	    .path = "/v1/uplinks/%0", .npos = 1, .print = CTL_PRINT_DONE,
	    .done = "deleted uplink %0", .usage = "uplink delete NAME" },

	{ .noun = "peer", .verb = "create", .method = "POST",
	    .path = "/v1/peers", .npos = 1, .options = &ctl_opts_peer,
	    .body_arg = { 1, "name", "NAME" }, .view = CTL_VIEW_PEER,
	    .usage = "peer create NAME --endpoint UPLINK=ADDR:PORT "
	    "[--endpoint UPLINK=ADDR:PORT ...]" },
	{ .noun = "peer", .verb = "list", .method = "GET",
	    .path = "/v1/peers", .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_PEER, .usage = "peer list" },
	{ .noun = "peer", .verb = "show", .method = "GET",
	    .path = "/v1/peers/%0", .npos = 1, .view = CTL_VIEW_PEER,
	    .usage = "peer show NAME" },
	{ .noun = "peer", .verb = "delete", .method = "DELETE",
	    .path = "/v1/peers/%0", .npos = 1, .print = CTL_PRINT_DONE,
	    .done = "deleted peer %0", .usage = "peer delete NAME" },

	{ .noun = "interface", .verb = "list", .method = "GET",
	    .path = "/v1/interfaces", .options = &ctl_opts_netns,
	    .print = CTL_PRINT_LIST, .view = CTL_VIEW_INTERFACE,
	    .usage = "interface list [--netns NS]" },
	{ .noun = "interface", .verb = "show", .method = "GET",
	    .path = "/v1/interfaces/%0", .npos = 1, .options = &ctl_opts_netns,
	    .view = CTL_VIEW_INTERFACE,
	    .usage = "interface show NAME [--netns NS]" },

	{ .noun = "driver", .verb = "list", .method = "GET",
	    .path = "/v1/drivers", .print = CTL_PRINT_LIST,
	    .view = CTL_VIEW_DRIVER, .usage = "driver list" },
	/* As cnwctl_driver.c has them, for --help and usage errors. */
	{ .noun = "driver", .verb = "keygen", .run = ctl_driver_offline,
	    .usage = "driver keygen PRIVATE_KEY_FILE PUBLIC_KEY_FILE" },
	{ .noun = "driver", .verb = "sign", .run = ctl_driver_offline,
	    .usage = "driver sign --key PRIVATE_KEY_FILE FILE.so "
	    "[--output SIG_FILE]" },
	{ .noun = "driver", .verb = "verify", .run = ctl_driver_offline,
	    .usage = "driver verify --key PUBLIC_KEY_FILE|--keys DIR FILE.so "
	    "[--signature SIG_FILE]" },

	{ .noun = "events", .method = "GET", .path = "/v1/events",
	    .options = &ctl_opts_events, .run = ctl_events_follow,
	    .usage = "events [--since ID]" },
	{ .noun = "metrics", .method = "GET", .path = "/metrics",
	    .run = ctl_metrics, .usage = "metrics" },
	/* The network's "netns" is what exec enters. */
	{ .noun = "exec", .method = "GET", .path = NETWORK, .npos = 2,
	    .run = ctl_exec, .usage = "exec TENANT NETWORK -- CMD [ARG...]" },
	{ .noun = NULL },
};
