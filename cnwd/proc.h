/*
 * The privsep process table: starting children by fork + exec, handing them
 * their sandbox and descriptors, receiving their messages, and restarting
 * them with backoff when they die (after relayd's struct privsep_proc).
 *
 * A role is one row of a table (roles.c): its name, its sender bit in the
 * protocol, how many deaths a minute mark it failed, and its callbacks on
 * both sides of the fork.  The parent side: setup() sends what the child
 * needs before it starts, dispatch() handles each checked message.  The
 * child side: child_setup() takes each set-up message, child_main() runs
 * once sandboxed.
 */
#ifndef CNW_PROC_H
#define CNW_PROC_H

#include <stdint.h>
#include <sys/types.h>

#include "lib/msg.h"
#include "proto/proto.h"

struct proc;
struct proc_table;
struct sandbox_policy;

struct proc_role {
	const char *name;
	uint32_t from_bit;		/* PROTO_FROM_* */
	int fail_limit;			/* deaths within a minute that mark it failed; 0: never */
	/* parent side */
	int (*setup)(struct proc *p, void *ctx);
	void (*started)(struct proc *p, void *ctx);	/* after MSG_CHILD_START, or NULL */
	void (*dispatch)(struct proc *p, struct msg *m, void *ctx);
	/* child side: after exec, before and after the sandbox */
	void (*child_prepare)(void);	/* last chance to touch files, or NULL */
	void (*child_unprivileged)(void);	/* privileges dropped, no filter yet; or NULL */
	int (*child_setup)(int sock, struct msg *m);
	int (*child_main)(int sock);
};

enum proc_state {
	PROC_RUNNING,
	PROC_RESTARTING,
	PROC_FAILED,
	PROC_STOPPED,
};

#define PROC_DEATH_WINDOW 8

struct proc {
	const struct proc_role *role;
	const struct sandbox_policy *policy;
	struct proc_table *table;
	pid_t pid;
	int sock;			/* parent's end of the socketpair, -1 when down */
	enum proc_state state;
	unsigned restarts;
	int64_t started_at;
	char last_exit[96];
	long long deaths[PROC_DEATH_WINDOW];	/* monotonic ms, ring */
	unsigned ndeaths;
	int restart_timer;
	void *filter;			/* compiled seccomp program for this child */
	size_t filter_len;
	void *arg;			/* the role's own (a driver's port) */
	int retired;			/* stop it and free its slot when it exits */
	int recycled;			/* killed by the parent: restart, not a failure */
	char label[64];			/* "driver wan1": what logs and the API show */
};

#define PROC_MAX 72			/* api, worker, and a driver per port */

struct proc_table {
	struct ev_loop *ev;
	void *ctx;			/* handed to setup and dispatch */
	int stopping;
	/* Called on every exit, to record the event (audit). */
	void (*on_exit)(struct proc *p, void *ctx);
	unsigned n;
	struct proc procs[PROC_MAX];
};

/* Roles --------------------------------------------------------------- */
const struct proc_role *proc_role_find(const char *name);

/* Parent side --------------------------------------------------------- */
/* A slot for a child of role (arg is the role's own); NULL with err if full. */
struct proc *proc_table_add(struct proc_table *t, const struct proc_role *role, void *arg,
    const char *label, struct cnw_error *err);
/* Stop a child for good and free its slot (at once if it is not running). */
void proc_retire(struct proc *p);
int proc_start(struct proc *p);
/* Reap exited children (after SIGCHLD) and schedule their restarts. */
void proc_reap(struct proc_table *t);
/* Restart one child now (for example after its configuration changed). */
void proc_restart(struct proc *p);
/* SIGTERM every child, wait up to timeout_ms, then SIGKILL. */
void proc_stop_all(struct proc_table *t, int timeout_ms);
const char *proc_state_name(enum proc_state s);
/* Send a message to a child; on failure the child is killed and restarted. */
int proc_send(struct proc *p, uint32_t type, uint32_t id, uint32_t flags,
    const void *payload, size_t len, int *fd);

/* Child side ---------------------------------------------------------- */
/* Entry of an exec'd child: set up, enter the sandbox, run.  Never returns. */
void proc_child_run(const char *role_name) __attribute__((noreturn));

#endif
