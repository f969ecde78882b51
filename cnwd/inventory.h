/*
 * The parent's inventory of host interfaces (hal/discover.h) and drivers.
 *
 * One netlink monitor per watched namespace: the host's (cnwd's own) and
 * each namespace an uplink lives in.  Interfaces appear and disappear as
 * the kernel reports them (no polling), each change is an event, and the
 * observer hears of it: an uplink whose interface goes down is taken out
 * of the fast path at once.  Counters are sampled once a second for the
 * rates.  The drivers are the built-in ones and every NAME.so of the
 * plug-in directory, with its signature state (hal/sign.h).
 *
 * The dependency points one way: the data path asks the inventory
 * (inventory_sync, inventory_iface_state, inventory_iface_speed), and the
 * inventory knows nothing of the data path.  What it must tell the data
 * path, or ask of it for a reply, goes through the observer that cnwd.c
 * registers at start-up (inventory_observe).
 */
#ifndef CNW_INVENTORY_H
#define CNW_INVENTORY_H

#include <stdint.h>

#include "lib/error.h"

struct cnwd;
struct proc;
struct proto_interface_request;
struct uplink_path;

/* Who follows the interfaces (the data path); any member may be NULL. */
struct inventory_observer {
	/* Interface ifname of netns ("" the host's) came up (1), or went down or away (0). */
	void (*link)(struct cnwd *d, const char *netns, const char *ifname, int up);
	/* Its MTU changed. */
	void (*mtu)(struct cnwd *d, const char *netns, const char *ifname);
	/* The uplink on it, or NULL: the API shows it with the interface. */
	const char *(*uplink)(struct cnwd *d, const char *netns, const char *ifname);
	/* That uplink's paths as probed, at most max into out; how many. */
	uint32_t (*paths)(struct cnwd *d, const char *uplink, struct uplink_path *out,
	    uint32_t max);
};

/* Register the observer (before inventory_start, which reports what it finds). */
void inventory_observe(const struct inventory_observer *o);

int inventory_start(struct cnwd *d, struct cnw_error *err);
void inventory_stop(struct cnwd *d);
/* Watch the namespaces the uplinks use (and stop watching those no longer used). */
void inventory_sync(struct cnwd *d);
/* 1 up, 0 down or absent, -1 unknown (its namespace is not watched). */
int inventory_iface_state(struct cnwd *d, const char *netns, const char *ifname);
/* Its speed in Mbit/s as ethtool says, -1 if unknown. */
int64_t inventory_iface_speed(struct cnwd *d, const char *netns, const char *ifname);
/* Apply the [interfaces] kinds of the configuration (at start and reload). */
void inventory_configure(struct cnwd *d);

/* Replies for the API (control_ops.c). */
int inventory_reply_interfaces(struct cnwd *d, struct proc *p, uint32_t id,
    const struct proto_interface_request *r, int one, struct cnw_error *err);
int inventory_reply_drivers(struct cnwd *d, struct proc *p, uint32_t id, struct cnw_error *err);

#endif
