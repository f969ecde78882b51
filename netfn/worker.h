/*
 * The fastpath worker: the sandboxed process that moves every tenant frame
 * between the drivers' rings (netfn/port.h), adding the overlay header on
 * the way to an uplink and taking it off on the way to a tenant network.
 *
 * A struct worker is attached to a region and a stats segment, told about
 * ports and networks by plain calls, and moved one burst per port at a
 * time by worker_poll(); worker_run() loops over it, spinning and then
 * sleeping on the drivers' eventfds and a socket when idle.  The unit tests
 * act as the drivers on the region's rings and drive it directly; the role
 * that runs it in a process, taking the parent's messages, is
 * cnwd/role_worker.c.
 */
#ifndef CNW_WORKER_H
#define CNW_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "netfn/classify.h"
#include "netfn/flow.h"
#include "netfn/port.h"
#include "netfn/stats.h"

#define WORKER_BURST 32			/* frames per ring per pass */

/* What the parent tells the worker (the payloads of MSG_WORKER_*) --------- */

struct worker_port_cfg {
	uint32_t port;
	uint32_t kind;			/* enum port_kind */
	uint32_t state;			/* WORKER_PORT_* */
	uint32_t pad;
};
enum {
	WORKER_PORT_DOWN = 0,		/* no driver, or its link is down */
	WORKER_PORT_UP = 1,		/* driver running and link up */
	WORKER_PORT_RESET = 2,		/* the driver died: take back its buffers */
};

#define WORKER_NET_UPLINKS 8

struct worker_net_cfg {
	uint32_t id;			/* overlay network id */
	uint32_t tap_port;
	uint8_t subnet4[4];
	uint8_t plen4;
	uint8_t has6;
	uint8_t plen6;
	uint8_t pad;
	uint8_t subnet6[16];
	uint32_t tenant;		/* the tenant's row id (struct worker_tenant_cfg) */
	uint32_t nuplinks;		/* in order of preference */
	struct {
		uint32_t port;		/* the uplink's udp port in the region */
		uint16_t family;	/* the peer's endpoint over that uplink */
		uint16_t udp_port;	/* network byte order */
		uint8_t addr[16];
	} uplinks[WORKER_NET_UPLINKS];
};

struct worker_tenant_cfg {
	uint32_t id;			/* the tenant's row id */
	uint32_t nrules;		/* <= CLS_RULES_MAX, in order; each message is a change */
	uint32_t pad[2];
	uint64_t flows_max;		/* its flows quota */
	uint64_t bandwidth_kbps;	/* its bandwidth quota: a cap on all its traffic (0: none allowed, UINT64_MAX: no cap) */
	struct cls_rule rules[CLS_RULES_MAX];
};

struct worker_uplink_cfg {
	uint32_t port;
	uint32_t wire_overhead;		/* bytes the link adds to each frame, for pacing */
	uint64_t capacity_kbps;		/* nominal egress rate (emulated, or the link's speed); 0 unknown */
	uint64_t shape_kbps;		/* the worker paces this uplink to this rate (a finite emulated rate), 0 = not */
};

/* Why a flow moved (enum steer_reason in netfn/steer.h). */
struct worker_move {
	uint32_t tenant;		/* row id */
	uint32_t network;		/* overlay network id */
	struct flow_key key;
	uint8_t from[2], to[2];		/* ports, FLOW_NO_PORT if none */
	uint32_t reason;
	uint32_t delay_us[2];		/* the from and to paths' delay, 0 unknown */
	uint32_t suppressed;		/* moves not reported since the last report */
};


struct worker;

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
 * A port's driver is up, down, or dead (WORKER_PORT_RESET: every buffer it
 * held is taken back and its rings emptied; it stays down until UP).  Kind
 * PORT_NONE with DOWN or RESET retires the port.  0, or -1 if malformed.
 */
int worker_port_set(struct worker *w, const struct worker_port_cfg *p);
/* Add or replace a network (by id).  0, or -1 if malformed or no room. */
int worker_network_set(struct worker *w, const struct worker_net_cfg *n);
/* 0, or -1 if no such network. */
int worker_network_del(struct worker *w, uint32_t id);
/* A tenant's quotas and compiled rules (replacing its previous ones); 0, or -1 if malformed. */
int worker_tenant_set(struct worker *w, const struct worker_tenant_cfg *t);
int worker_tenant_del(struct worker *w, uint32_t id);
/* An uplink's capacity and pacing; 0, or -1 if malformed. */
int worker_uplink_set(struct worker *w, const struct worker_uplink_cfg *u);
/*
 * The flow table in the caller's memory of worker_flows_size() bytes
 * (the parent's memfd), before worker_attach; without it, worker_attach
 * allocates one.  0, or -1 if too small.
 */
int worker_flows_attach(struct worker *w, void *mem, size_t size);
size_t worker_flows_size(void);
/*
 * Where flow moves are reported (an event for the parent), at most
 * 100 a second (WORKER_MOVES_PER_SEC): fn returns 0 if the report went, -1 if
 * not (it counts as suppressed and goes in the next one's count).  NULL:
 * not reported.
 */
typedef int worker_report_fn(void *arg, const struct worker_move *m);
void worker_set_report(struct worker *w, worker_report_fn *fn, void *arg);
/*
 * The eventfd of a port's driver (PORT_KICK_DRIVER: the worker writes it)
 * or of the worker (PORT_KICK_WORKER: the worker waits on it).  On 0 the
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

/*
 * What the parent has sent, when sock is readable (and every millisecond
 * while busy): 1 to go on, with *handled set if there was anything; 0 on
 * the parent's end of file; -1 on an error.
 */
typedef int worker_parent_fn(void *arg, int *handled);
/*
 * Forward until on_parent returns 0 (then 0) or something breaks (-1):
 * passes while there is work, a spin, then a sleep on the drivers'
 * eventfds and sock (non-blocking, the parent's).
 */
int worker_run(struct worker *w, int sock, worker_parent_fn *on_parent, void *arg);

/* For tests and diagnostics ----------------------------------------- */
/* Path probes on (the default) or off: forwarding tests count every frame. */
void worker_set_probing(struct worker *w, int on);
/* Buffers in the pool's free list, by the worker's own count. */
uint32_t worker_free_buffers(const struct worker *w);
/* Buffers a port's driver holds now (lent on its fill or tx ring). */
uint32_t worker_lent(const struct worker *w, uint32_t port);

#endif
