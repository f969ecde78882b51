/*
 * The table of child roles: one row per kind of sandboxed child, with its
 * callbacks on both sides of fork + exec.  Adding a role (the fast-path
 * worker, a driver) is adding a row and a sandbox policy.  The child sides
 * of the worker and the driver are cnwd/role_worker.c and role_driver.c.
 */
#include <string.h>

#include "api/api.h"
#include "hal/host.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath.h"
#include "cnwd/proc.h"
#include "cnwd/roles.h"

static const struct proc_role proc_roles[] = {
	{
		.name = "api",
		.from_bit = PROTO_FROM_API,
		.fail_limit = 0,	/* without it nothing can be managed: keep trying */
		.setup = control_api_setup,
		.dispatch = control_api_dispatch,
		.child_prepare = api_child_prepare,
		.child_setup = api_child_setup,
		.child_main = api_child_main,
	},
	{
		.name = "worker",
		.from_bit = PROTO_FROM_WORKER,
		.fail_limit = 0,	/* no traffic without it: keep trying */
		.setup = datapath_worker_setup,
		.started = datapath_worker_started,
		.dispatch = datapath_child_dispatch,
		.child_prepare = role_worker_prepare,
		.child_setup = role_worker_setup,
		.child_main = role_worker_main,
	},
	{
		.name = "driver",
		.from_bit = PROTO_FROM_DRIVER,
		.fail_limit = 5,	/* five deaths in a minute: failed, left alone */
		.setup = datapath_driver_setup,
		.started = datapath_driver_started,
		.dispatch = datapath_child_dispatch,
		.child_prepare = hal_host_prepare,
		.child_unprivileged = hal_host_unprivileged,
		.child_setup = role_driver_setup,
		.child_main = role_driver_main,
	},
};

const struct proc_role *
proc_role_find(const char *name)
{
	for (size_t i = 0; i < sizeof(proc_roles) / sizeof(proc_roles[0]); i++)
		if (strcmp(proc_roles[i].name, name) == 0)
			return &proc_roles[i];
	return NULL;
}
