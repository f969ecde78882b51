/*
 * The data path's parts, and what they share (datapath.h is what the rest
 * of cnwd sees):
 *
 *	datapath.c		the shared region and the stats and flow segments;
 *				start, stop, and the sync: a port per uplink and per
 *				network with a peer, made and freed to match the store
 *	datapath_worker.c	what the fastpath worker is told: ports, kicks, networks
 *	datapath_driver.c	a driver process per port: its start, its messages, its
 *				death; the interfaces under uplinks coming and going
 *	datapath_device.c	the devices the parent opens for drivers, each in its
 *				namespace: a network's TUN, an uplink's UDP or AF_PACKET
 *	datapath_sched.c	the scheduler: tenants' quotas and rules, uplinks'
 *				capacity, probed paths, flows moved
 *	datapath_flows.c	a tenant's live flows, read from the flow table
 *	datapath_metrics.c	counters for the API, and the Prometheus text
 */
#ifndef CNW_DATAPATH_INT_H
#define CNW_DATAPATH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cnwd/datapath.h"
#include "netfn/stats.h"

struct worker_move;

/* datapath.c */
int datapath_new_region(struct datapath *dp, struct cnw_error *err);
/* Send a duplicate of fd (msg_send closes what it sends); -1 if it could not. */
int datapath_send_fd(struct proc *p, uint32_t type, int fd, const void *payload, size_t len);
/* The port of kind for the uplink or network id, or NULL. */
struct dp_port *datapath_port_find(struct datapath *dp, int kind, int64_t id);

/* datapath_worker.c */
const char *datapath_down_reason(const struct dp_port *dpp);
void datapath_port_update(struct cnwd *d, struct dp_port *dpp);
void datapath_worker_port(struct cnwd *d, unsigned port, uint32_t state);
void datapath_worker_kicks(struct cnwd *d, unsigned port);
void datapath_worker_network(struct cnwd *d, const struct dp_port *tap);

/* datapath_driver.c */
uint32_t datapath_wire_overhead(const struct uplink *u);
int datapath_send_emu(struct cnwd *d, struct dp_port *dpp);

/* datapath_device.c */
int datapath_open_device(struct cnwd *d, struct dp_port *dpp, char *args, size_t argslen,
    struct cnw_error *err);

/* datapath_sched.c */
void datapath_path_name(struct cnwd *d, uint32_t port, uint16_t family, const uint8_t addr[16],
    uint16_t udp_port, const char *peer, const char *endpoint);
const struct dp_path_name *datapath_path_name_of(const struct datapath *dp,
    const struct stats_path *sp);
int datapath_tenant_pushed(struct cnwd *d, int64_t id);
void datapath_worker_uplink(struct cnwd *d, struct dp_port *dpp);
/* The name of the uplink on port, or NULL if it is no uplink's. */
const char *datapath_port_uplink(const struct cnwd *d, uint32_t port);
void datapath_flow_moved(struct cnwd *d, const struct worker_move *m);

/* datapath_metrics.c */
const struct stats_segment *datapath_snapshot(struct cnwd *d);

#endif
