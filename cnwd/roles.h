/*
 * The child sides of the fast path's roles (cnwd/roles.c): the glue
 * between the parent's messages (proto/proto.h) and the engines of
 * netfn/worker.h and hal/host.h, which know nothing of messages.
 */
#ifndef CNW_ROLES_H
#define CNW_ROLES_H

#include "lib/msg.h"

/* The worker (cnwd/role_worker.c) ----------------------------------------- */

/*
 * A set-up message: MSG_WORKER_REGION, _STATS and _FLOWS (each with its
 * memfd, which the role takes: m->fd becomes -1); KICK, PORT, NETWORK,
 * TENANT and UPLINK messages sent before MSG_CHILD_START are kept and
 * applied once the region is mapped.  -1 for anything else.
 */
int role_worker_setup(int sock, struct msg *m);
/* Before the sandbox: allocate the worker's private state. */
void role_worker_prepare(void);
/* Sandboxed: map, check, forward until the parent's socket closes (0). */
int role_worker_main(int sock);

/* A driver (cnwd/role_driver.c) ------------------------------------------- */

/*
 * One set-up message; 0, or -1 if it is not one of ours or is malformed.
 * Before the sandbox and after the privileges are dropped, the role runs
 * hal_host_prepare and hal_host_unprivileged.
 */
int role_driver_setup(int sock, struct msg *m);
/* Sandboxed: map, check, start the driver and move frames until EOF. */
int role_driver_main(int sock);

#endif
