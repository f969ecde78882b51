/*
 * The fastpath worker: the sandboxed process that moves every tenant frame
 * between the drivers' rings (netfn/port.h), adding the overlay header on
 * the way to an uplink and taking it off on the way to a tenant network.
 *
 * Two layers, so the packet path can be tested without processes:
 *   - the forwarding core: a struct worker attached to a region and a stats
 *     segment, told about ports and networks by plain calls, and moved one
 *     burst per port at a time by worker_poll().  The unit tests act as the
 *     drivers on the region's rings and drive this directly;
 *   - the role (worker_child_*), which runtime/proc.c runs: it receives the
 *     region and the stats segment at set-up, maps them, and loops over the
 *     ports and the parent's socket, sleeping on eventfds when idle.
 */
#ifndef CNW_WORKER_H
#define CNW_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "netfn/port.h"
#include "netfn/stats.h"
#include "runtime/msg.h"
#include "runtime/proto.h"

#define WORKER_BURST 32			/* frames per ring per pass */

struct worker;

/* The role (runtime/roles.c) ---------------------------------------- */

/*
 * A set-up message: MSG_WORKER_REGION and MSG_WORKER_STATS (each with its
 * memfd, which the worker takes: m->fd becomes -1); KICK, PORT and
 * NETWORK messages sent before MSG_CHILD_START are kept and applied once
 * the region is mapped.  -1 for anything else.
 */
int worker_child_setup(int sock, struct msg *m);
/* Before the sandbox: allocate the worker's private state. */
void worker_child_prepare(void);
/* Sandboxed: map, check, forward until the parent's socket closes (0). */
int worker_child_main(int sock);

/* The forwarding core ------------------------------------------------ */

struct worker *worker_new(void);
/*
 * Attach to a mapped region (checked with port_region_check first) and an
 * initialised stats segment of at least stats_size() bytes.  0, or -1 with
 * nothing attached.
 */
int worker_attach(struct worker *w, struct port_region *r, size_t mapped,
    struct stats_segment *s, size_t stats_mapped);
/* Close the eventfds it holds and free it; the mappings are the caller's. */
void worker_free(struct worker *w);

/*
 * A port's driver is up, down, or dead (PROTO_PORT_RESET: every buffer it
 * held is taken back and its rings emptied; it stays down until UP).  Kind
 * PORT_NONE with DOWN or RESET retires the port.  0, or -1 if malformed.
 */
int worker_port_set(struct worker *w, const struct proto_port *p);
/* Add or replace a network (by id).  0, or -1 if malformed or no room. */
int worker_network_set(struct worker *w, const struct proto_wnetwork *n);
/* 0, or -1 if no such network. */
int worker_network_del(struct worker *w, uint32_t id);
/* A tenant's quotas and compiled rules (replacing its previous ones); 0, or -1 if malformed. */
int worker_tenant_set(struct worker *w, const struct proto_wtenant *t);
int worker_tenant_del(struct worker *w, uint32_t id);
/* An uplink's capacity and pacing; 0, or -1 if malformed. */
int worker_uplink_set(struct worker *w, const struct proto_wuplink *u);
/*
 * The flow table in the caller's memory of worker_flows_size() bytes
 * (the parent's memfd), before worker_attach; without it, worker_attach
 * allocates one.  0, or -1 if too small.
 */
int worker_flows_attach(struct worker *w, void *mem, size_t size);
size_t worker_flows_size(void);
/* The socket flow moves are reported on (MSG_WORKER_MOVE), or -1. */
void worker_set_parent(struct worker *w, int sock);
/*
 * The eventfd of a port's driver (PROTO_KICK_DRIVER: the worker writes it)
 * or of the worker (PROTO_KICK_WORKER: the worker waits on it).  On 0 the
 * worker owns fd (closing any previous one); on -1 the caller still does.
 */
int worker_kick_set(struct worker *w, uint32_t port, uint32_t which, int fd);

/*
 * One pass: for every port, one burst of its completion ring and one of
 * its rx ring, forwarded; fill rings of up ports topped up.  The counters
 * are published to the stats segment by a pass that finds nothing to do,
 * and at least every millisecond by busy ones.  Returns the frames moved
 * (0: nothing to do).
 */
unsigned worker_poll(struct worker *w);
/* Publish the counters now (what a pass does when idle). */
void worker_publish(struct worker *w);
/* 1 if a driver has put anything on an rx or completion ring. */
int worker_pending(const struct worker *w);

/* For tests and diagnostics ----------------------------------------- */
/* Path probes on (the default) or off: forwarding tests count every frame. */
void worker_set_probing(struct worker *w, int on);
/* Buffers in the pool's free list, by the worker's own count. */
uint32_t worker_free_buffers(const struct worker *w);
/* Buffers a port's driver holds now (lent on its fill or tx ring). */
uint32_t worker_lent(const struct worker *w, uint32_t port);

#endif
