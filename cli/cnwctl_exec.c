/*
 * cnwctl_exec.c: "cnwctl exec TENANT NETWORK -- CMD [ARG...]".
 *
 * exec asks the API for the network (its row's path) and enters the
 * network namespace the reply names, as "ip netns exec" does: setns(2)
 * into /run/netns/NAME, a mount namespace of its own in which /sys shows
 * that network, then execvp(3) of the command, which inherits cnwctl's
 * stdin, stdout and stderr.  It needs root.  When the command cannot be
 * run, cnwctl exits 127, as a shell does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "cli/cnwctl.h"

#define NETNS_DIR		"/run/netns"	/* "ip netns" keeps them */
#define CTL_EXIT_NOT_RUN	127

/*
 * exec's command line: [-h] TENANT NETWORK [--] CMD [ARG...].  Options stop
 * at TENANT ("+"), so CMD's own options are left alone; *COMMAND points
 * into ARGV, which ends with NULL as main's does.  0 to go on, 1 after
 * --help, -1 with ERR filled.
 */
static int
ctl_exec_args(const struct ctl_command *cmd, int argc, char **argv,
    struct ctl_args *args, char ***command, struct cnw_error *err)
{
	int opt, i;

	optind = 0;
	if ((opt = getopt_long(argc, argv, "+h", ctl_no_longopts,
	    NULL)) == 'h') {
		ctl_print_usage(stdout, cmd);
		return 1;
	}
	if (opt != -1) {
		err->kind = CNW_EINVAL;	/* getopt has said why */
		return -1;
	}
	if (argc - optind < 2 || strcmp(argv[optind], "--") == 0 ||
	    strcmp(argv[optind + 1], "--") == 0)
		return cnw_err(err, CNW_EINVAL, "missing argument");
	args->pos[0] = argv[optind];
	args->pos[1] = argv[optind + 1];
	i = optind + 2;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc)
		return cnw_err(err, CNW_EINVAL, "missing command to run");
	*command = &argv[i];
	return 0;
}

/* A namespace name from the reply must stay one entry of NETNS_DIR. */
static bool
ctl_netns_is_wellformed(const char *netns)
{
	return netns != NULL && *netns != '\0' && strlen(netns) <= NAME_MAX &&
	    strchr(netns, '/') == NULL && strcmp(netns, ".") != 0 &&
	    strcmp(netns, "..") != 0;
}

/* Asks the API for the network and returns its "netns" in *NETNS. */
static int
ctl_get_netns(struct ctl_ctx *ctx, const struct ctl_command *cmd,
    const struct ctl_args *args, char **netns, struct cnw_error *err)
{
	struct ctl_request req = { cmd->method, NULL, NULL, CTL_AUTH_BEARER,
	    NULL };
	json_t *reply = NULL;
	const char *name;
	char *path;
	int rc;

	if ((path = ctl_command_path(cmd, args)) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	req.path = path;
	rc = ctl_api_call(ctx, &req, &reply, err);
	name = json_string_value(json_object_get(reply, "netns"));
	if (rc == 0 && !ctl_netns_is_wellformed(name))
		rc = cnw_err(err, CNW_EUNAVAIL,
		    "unexpected reply from cnwd: no usable \"netns\"");
	else if (rc == 0 && (*netns = strdup(name)) == NULL)
		rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
	json_decref(reply);
	free(path);
	return rc;
}

/*
 * As ip netns exec does: a mount namespace of our own in which /sys shows
 * the network namespace we entered (its /sys/class/net), not the host's.
 * Best effort: without it the command still runs, with the host's /sys.
 */
static void
ctl_remount_sys(void)
{
	if (unshare(CLONE_NEWNS) != 0 ||
	    mount("", "/", "none", MS_SLAVE | MS_REC, NULL) != 0)
		return;
	if (umount2("/sys", MNT_DETACH) == 0)
		(void)mount("sysfs", "/sys", "sysfs", 0, NULL);
}

/* Moves this process into the network namespace NETNS_DIR/NETNS. */
static int
ctl_enter_netns(const char *netns, struct cnw_error *err)
{
	char *path;
	int fd, saved, rc = 0;

	if (asprintf(&path, NETNS_DIR "/%s", netns) < 0)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		saved = errno;
		rc = cnw_err(err, CNW_EINTERNAL, "cannot open %s: %s%s", path,
		    strerror(saved), saved == EACCES || saved == EPERM ?
		    " (cnwctl exec needs root)" : "");
	} else if (setns(fd, CLONE_NEWNET) != 0)
		rc = cnw_err(err, CNW_EINTERNAL, "cannot enter network "
		    "namespace %s: %s (cnwctl exec needs root)", netns,
		    strerror(errno));
	else
		ctl_remount_sys();
	if (fd >= 0)
		close(fd);
	free(path);
	return rc;
}

/* Becomes COMMAND; returns only when it cannot be run. */
static int
ctl_run_command(char **command)
{
	/* The command is the tenant's workload: it gets no token of ours. */
	unsetenv("CNW_TOKEN");
	fflush(stdout);
	execvp(command[0], command);
	ctl_warn("cannot run %s: %s", command[0], strerror(errno));
	return CTL_EXIT_NOT_RUN;
}

int
ctl_exec(struct ctl_ctx *ctx, const struct ctl_command *cmd, int argc,
    char **argv, struct cnw_error *err)
{
	struct ctl_args args = { .body = NULL };
	char **command = NULL;
	char *netns = NULL;
	int rc;

	if ((rc = ctl_exec_args(cmd, argc, argv, &args, &command, err)) != 0)
		return rc < 0 ? -1 : 0;
	if (ctl_get_netns(ctx, cmd, &args, &netns, err) < 0)
		return -1;
	if ((rc = ctl_enter_netns(netns, err)) == 0)
		rc = ctl_run_command(command);
	free(netns);
	return rc;
}
