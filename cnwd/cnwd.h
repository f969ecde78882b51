/*
 * The parent process (supervisor): its state, shared by its parts.
 *
 * cnwd.c is main and the event loop; control*.c answer the API process's
 * typed requests; roles.c is the table of child roles.  Only the parent
 * holds the store, the lock and the listening sockets.
 */
#ifndef CNW_CNWD_H
#define CNW_CNWD_H

#include "cnwd/conf.h"
#include "cnwd/datapath.h"
#include "cnwd/proc.h"
#include "lib/store.h"
#include "lib/tls.h"

struct cnwd {
	struct cnwd_config cfg;
	char config_path[PATH_MAX];
	int config_must_exist;
	struct cnwd_config cli;		/* what the command line set */
	unsigned cli_set;		/* CNWD_CLI_* bits */
	struct store *store;
	struct ev_loop *ev;
	struct proc_table procs;
	int lock_fd;
	int instance_lock_fd;
	int signal_fd;
	int unix_fd;			/* listening API sockets, kept across API restarts */
	int tcp_fd;
	char socket_path[PATH_MAX];
	struct tls_material tls;
	int reconcile_timer;
	struct proc *api;
	struct datapath dp;
	struct reconcile_watch *watches;	/* one netlink monitor per network */
};

enum {
	CNWD_CLI_STATE_DIR = 1 << 0,
	CNWD_CLI_RUN_DIR = 1 << 1,
	CNWD_CLI_INSTANCE = 1 << 2,
	CNWD_CLI_LOG_LEVEL = 1 << 3,
};

/* control.c: the parent side of the API role */
int control_api_setup(struct proc *p, void *ctx);
void control_api_dispatch(struct proc *p, struct msg *m, void *ctx);
/* Record a child's exit in the audit log. */
void control_record_exit(struct proc *p, void *ctx);

#endif
