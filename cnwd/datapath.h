/*
 * The parent's side of the data path: the shared region and the stats
 * segment, the fastpath worker, a driver process per port, and keeping
 * them in step with the uplinks, peers and networks in the store.
 *
 * Ports: every uplink is a `udp` port, every network with a peer a `tap`
 * port.  The parent opens the devices (it has the privileges and enters the
 * namespaces): the TUN device of a network's cnw0, a UDP socket bound on an
 * uplink.  Each port has two eventfds (one per direction of wake-up) that
 * both its driver and the worker get.  When the worker dies, the region is
 * made anew and every driver restarted with it; when a driver dies, the
 * worker is told to take back the buffers the driver held.
 *
 * Dependencies point one way: the data path uses the inventory (which
 * namespaces to watch, an interface's state and speed), never the other
 * way round.  The inventory's news of interfaces reaches the functions
 * below (datapath_interface_state, _mtu, _uplink, datapath_uplink_paths)
 * through the observer cnwd.c registers with it at start-up.  Its parts
 * are listed in datapath_int.h.
 */
#ifndef CNW_DATAPATH_H
#define CNW_DATAPATH_H

#include <stddef.h>
#include <stdint.h>

#include "netfn/flow.h"
#include "netfn/port.h"
#include "netfn/shm.h"
#include "netfn/stats.h"
#include "lib/error.h"
#include "tenants/network.h"
#include "tenants/uplink.h"

struct cnwd;
struct proc;
struct msg;

struct dp_port {
	int used;
	int kind;			/* enum port_kind */
	int64_t object_id;		/* uplink or network id */
	char name[64];			/* "wan1", "cams.zone3" */
	struct proc *proc;		/* its driver */
	int kick_driver;		/* eventfd the driver waits on */
	int kick_worker;		/* eventfd the worker waits on */
	int running;			/* its driver is past start-up */
	int link_up;			/* as its driver says (emulated down and flap too) */
	int iface_down;			/* discovery: its interface is down or gone */
	int up;				/* what the worker was last told: running, link, interface */
	int seen;			/* during a sync: still wanted */
	struct emu_counters emu_count[2];	/* the driver's emulation, egress and ingress */
	int capacity_sent;		/* the worker was told its capacity */
	struct uplink uplink;		/* udp */
	struct network net;		/* tap */
};

/* The names of a probed path, for the API: which peer, which endpoint. */
struct dp_path_name {
	uint32_t port;
	uint16_t family, udp_port;
	uint8_t addr[16];
	char peer[TENANT_NAME_MAX + 1];
	char endpoint[UPLINK_ADDR_MAX];
};

#define DP_PATH_NAMES 256

struct datapath {
	int region_fd;
	size_t region_size;
	int stats_fd;
	size_t stats_size;
	const struct stats_segment *stats;	/* mapped read-only */
	struct shm stats_map;
	struct stats_segment *snap;	/* the last consistent copy, for the API */
	long long snap_ms;		/* when it was taken */
	struct port_region *header;	/* the region's header, mapped to write port kinds */
	struct proc *worker;
	struct dp_port ports[PORT_MAX];
	/* the scheduler */
	int flows_fd;
	size_t flows_size;
	const struct flow_table *flows;	/* mapped read-only */
	struct shm flows_map;
	int64_t *pushed;		/* tenants the worker has been sent */
	size_t npushed, cappushed;
	int ports_changed;		/* an uplink's port came or went: push the tenants again */
	uint32_t npath_names;
	struct dp_path_name path_names[DP_PATH_NAMES];
};

int datapath_start(struct cnwd *d, struct cnw_error *err);
void datapath_stop(struct cnwd *d);
/* Make processes and the worker's tables match the store. */
void datapath_sync(struct cnwd *d);
/*
 * Can the uplink's socket be had (interface there, address its own, port
 * free)?  Opened and closed again; -1 with a 400 saying why.
 */
int datapath_uplink_check(const struct uplink *u, struct cnw_error *err);
/* A child of role worker or driver exited (proc table hook). */
void datapath_child_exited(struct cnwd *d, struct proc *p);
/*
 * Discovery saw the interface ifname of namespace netns ("" the host's)
 * come up (up 1) or go down or away (0): every uplink on it follows, at
 * once (the worker stops sending there).
 */
void datapath_interface_state(struct cnwd *d, const char *netns, const char *ifname, int up);
/* The MTU of an interface changed: drivers sized for it (afpacket) start again. */
void datapath_interface_mtu(struct cnwd *d, const char *netns, const char *ifname);
/* The uplink on interface ifname of netns, or NULL. */
const char *datapath_interface_uplink(struct cnwd *d, const char *netns, const char *ifname);
/* Counters of an uplink (by name) into u; 0 if it has a port. */
int datapath_uplink_state(struct cnwd *d, struct uplink *u);
/* Counters of a network's port (rx: from its cnw0 into the fast path); -1 if none. */
int datapath_network_counters(struct cnwd *d, int64_t network_id, struct stats_counters *out);
/* Prometheus text of the counters; malloc'd, NULL on failure. */
char *datapath_metrics(struct cnwd *d, size_t *len);
/*
 * Send the worker a tenant's quotas and compiled policies (after any change
 * to them); 0, or -1 if they could not be read or compiled (logged).
 */
int datapath_tenant_push(struct cnwd *d, int64_t tenant_id);
/* The tenant is gone: the worker forgets it. */
void datapath_tenant_forget(struct cnwd *d, int64_t tenant_id);
/* The paths of an uplink (by name) as the probes measure them; how many. */
uint32_t datapath_uplink_paths(struct cnwd *d, const char *uplink, struct uplink_path *out,
    uint32_t max);
struct proto_flow;
struct proto_flow_summary;
/*
 * The live flows of a tenant (network "" = all), at most limit (0 = all),
 * each passed to fn; the summary (its quota, count and drops) first.
 */
int datapath_flows(struct cnwd *d, const struct tenant *t, const char *network, uint32_t limit,
    int (*summary)(const struct proto_flow_summary *s, void *arg),
    int (*fn)(const struct proto_flow *f, void *arg), void *arg, struct cnw_error *err);

/* Role callbacks (roles.c) */
int datapath_worker_setup(struct proc *p, void *ctx);
void datapath_worker_started(struct proc *p, void *ctx);
int datapath_driver_setup(struct proc *p, void *ctx);
void datapath_driver_started(struct proc *p, void *ctx);
void datapath_child_dispatch(struct proc *p, struct msg *m, void *ctx);

#endif
