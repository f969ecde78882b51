/*
 * Uplinks and peers: the host's side of the overlay.
 *
 * An uplink is a host interface (in the host's namespace or a named one)
 * that tenant traffic may leave by, served by a driver (`udp`: the overlay
 * in UDP from a local address).  A peer is the other site: for each uplink,
 * the address its overlay endpoint has over that uplink.  A network names a
 * peer and the uplinks it may use, in order of preference.  Only the admin
 * manages uplinks and peers; rows here, kernel and processes in the
 * parent's data-path reconcile (cnwd/datapath*.c).
 */
#ifndef CNW_UPLINK_H
#define CNW_UPLINK_H

#include <stdint.h>

#include "hal/emu.h"
#include "lib/error.h"
#include "tenants/tenant.h"

struct store;

#define UPLINK_IFNAME_MAX 15
#define UPLINK_NETNS_MAX 63
#define UPLINK_ADDR_MAX 56		/* "[ffff:...]:65535" */
#define PEER_ENDPOINTS_MAX 8		/* = WORKER_NET_UPLINKS */
#define UPLINK_DRIVER_MAX 15		/* a built-in driver or a plug-in's name */
#define UPLINK_FLAP_MAX 64		/* "down=200ms,up=800ms,count=5" */

#define UPLINK_PATHS_MAX 4		/* paths shown per uplink (one per peer) */

/* A path (this uplink to one peer's endpoint) as its probes measure it. */
struct uplink_path {
	char peer[TENANT_NAME_MAX + 1];
	char endpoint[UPLINK_ADDR_MAX];
	char state[12];				/* "unknown" (no reply yet), "up", "dead" */
	uint32_t rtt_us, jitter_us;		/* smoothed (netfn/pathmon.h) */
	uint32_t loss_ppm;			/* over the last PATH_WINDOW probes */
	uint32_t pad;
	uint64_t probes_sent, probes_answered;
};

struct uplink {
	int64_t id;
	char name[TENANT_NAME_MAX + 1];
	char interface[UPLINK_IFNAME_MAX + 1];
	char netns[UPLINK_NETNS_MAX + 1];	/* "" = the host's namespace */
	char driver[UPLINK_DRIVER_MAX + 1];
	char address[UPLINK_ADDR_MAX];		/* local ADDRESS:PORT ("" for afpacket) */
	int64_t created_at;
	/* Link emulation and failure drills (hal/emu.h), desired state. */
	struct emu_params emu;			/* profile "" = off */
	uint32_t admin_down;			/* the "down" drill */
	char flap[UPLINK_FLAP_MAX];		/* canonical flap pattern, "" = none */
	/* observed, filled by the parent for the API */
	char state[16];				/* its driver process: running, ... */
	uint32_t link_up;
	char link_reason[32];			/* why it is down: "admin-down", "flap", ... */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, drops;
	struct emu_counters emu_count[2];	/* egress, ingress: what emulation did */
	uint64_t capacity_kbps;			/* nominal egress rate the scheduler uses, 0 unknown */
	uint32_t flows;				/* flows steered onto it now */
	uint32_t npaths;
	struct uplink_path paths[UPLINK_PATHS_MAX];
};

/*
 * A change to an uplink's emulation and drills: PATCH /v1/uplinks/{name},
 * and the "emulation" of a create.  A profile (if given) replaces both
 * directions; then each field whose bit is set in set[dir] is applied.
 */
enum {
	UPLINK_SET_RATE = 1u << 0,
	UPLINK_SET_DELAY = 1u << 1,
	UPLINK_SET_JITTER = 1u << 2,
	UPLINK_SET_LOSS = 1u << 3,
	UPLINK_SET_SLOT = 1u << 4,
	UPLINK_SET_QUEUE = 1u << 5,
};
enum { UPLINK_EGRESS = 0, UPLINK_INGRESS = 1 };
enum { UPLINK_KEEP = 0, UPLINK_ADMIN_UP = 1, UPLINK_ADMIN_DOWN = 2 };
enum { UPLINK_FLAP_SET = 1, UPLINK_FLAP_CLEAR = 2 };

struct uplink_change {
	char profile[16];			/* "" keep; "off" clears */
	uint32_t has_seed;
	uint32_t set[2];			/* UPLINK_SET_* per direction */
	uint32_t admin;				/* UPLINK_KEEP, _ADMIN_UP, _ADMIN_DOWN */
	uint64_t seed;
	struct emu_dir dir[2];
	uint32_t flap_op;			/* UPLINK_KEEP, _FLAP_SET, _FLAP_CLEAR */
	char flap[UPLINK_FLAP_MAX];
};

/* A direction's field by its UPLINK_SET_* bit (the API and the change share them). */
uint64_t uplink_dir_get(const struct emu_dir *d, uint32_t bit);
void uplink_dir_set(struct emu_dir *d, uint32_t bit, uint64_t v);
/* Apply c to u, checking every value; u is unchanged on error. */
int uplink_change_apply(struct uplink *u, const struct uplink_change *c, struct cnw_error *err);
/* Whether a change changes anything. */
int uplink_change_empty(const struct uplink_change *c);

struct peer_endpoint {
	char uplink[TENANT_NAME_MAX + 1];
	char endpoint[UPLINK_ADDR_MAX];		/* the peer's ADDRESS:PORT over it */
};

struct peer {
	int64_t id;
	char name[TENANT_NAME_MAX + 1];
	uint32_t nendpoints;
	struct peer_endpoint endpoints[PEER_ENDPOINTS_MAX];
	int64_t created_at;
};

typedef row_each_fn uplink_each_fn;	/* fn gets a const struct uplink * */
typedef row_each_fn peer_each_fn;	/* fn gets a const struct peer * */

/* c (may be NULL): emulation and drills to start with. */
int uplink_create(struct store *st, const struct principal *who, const char *actor,
    const struct uplink *spec, const struct uplink_change *c, struct uplink *out,
    struct cnw_error *err);
int uplink_get(struct store *st, const struct principal *who, const char *name,
    struct uplink *out, struct cnw_error *err);
int uplink_list(struct store *st, const struct principal *who, uplink_each_fn fn, void *arg,
    struct cnw_error *err);
int uplink_update(struct store *st, const struct principal *who, const char *actor,
    const char *name, const struct uplink_change *c, struct uplink *out, struct cnw_error *err);
int uplink_delete(struct store *st, const struct principal *who, const char *actor,
    const char *name, struct uplink *gone, struct cnw_error *err);

int peer_create(struct store *st, const struct principal *who, const char *actor,
    const struct peer *spec, struct peer *out, struct cnw_error *err);
int peer_get(struct store *st, const struct principal *who, const char *name,
    struct peer *out, struct cnw_error *err);
int peer_list(struct store *st, const struct principal *who, peer_each_fn fn, void *arg,
    struct cnw_error *err);
int peer_delete(struct store *st, const struct principal *who, const char *actor,
    const char *name, struct cnw_error *err);

/* Rows, for the data path and for networks */
int uplink_row_each(struct store *st, uplink_each_fn fn, void *arg, struct cnw_error *err);
int uplink_row_get(struct store *st, const char *name, struct uplink *out, struct cnw_error *err);
int peer_row_get_id(struct store *st, int64_t id, struct peer *out, struct cnw_error *err);
int peer_row_get(struct store *st, const char *name, struct peer *out, struct cnw_error *err);
/* The endpoint of peer p over uplink name, or NULL. */
const char *peer_endpoint_of(const struct peer *p, const char *uplink);
/*
 * An endpoint into family, address bytes and port (network order):
 * "ADDRESS:PORT" / "[V6]:PORT" (AF_INET, AF_INET6), or a MAC address
 * "02:00:00:00:00:01" (AF_PACKET, port 0: a peer over an afpacket uplink).
 */
int uplink_parse_endpoint(const char *s, uint16_t *family, uint8_t addr[16], uint16_t *port);
/* Whether driver is the name of a built-in driver that needs no plug-in. */
int uplink_driver_builtin(const char *driver);

#endif
