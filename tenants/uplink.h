/*
 * Uplinks and peers: the host's side of the overlay.
 *
 * An uplink is a host interface (in the host's namespace or a named one)
 * that tenant traffic may leave by, served by a driver (`udp`: the overlay
 * in UDP from a local address).  A peer is the other site: for each uplink,
 * the address its overlay endpoint has over that uplink.  A network names a
 * peer and the uplinks it may use, in order of preference.  Only the admin
 * manages uplinks and peers; rows here, kernel and processes in the
 * parent's data-path reconcile (runtime/datapath.c).
 */
#ifndef CNW_UPLINK_H
#define CNW_UPLINK_H

#include <stdint.h>

#include "runtime/error.h"
#include "tenants/tenant.h"

struct store;

#define UPLINK_IFNAME_MAX 15
#define UPLINK_NETNS_MAX 63
#define UPLINK_ADDR_MAX 56		/* "[ffff:...]:65535" */
#define PEER_ENDPOINTS_MAX 8		/* = PROTO_UPLINKS_MAX */

struct uplink {
	int64_t id;
	char name[TENANT_NAME_MAX + 1];
	char interface[UPLINK_IFNAME_MAX + 1];
	char netns[UPLINK_NETNS_MAX + 1];	/* "" = the host's namespace */
	char driver[8];
	char address[UPLINK_ADDR_MAX];		/* local ADDRESS:PORT */
	int64_t created_at;
	/* observed, filled by the parent for the API */
	char state[16];				/* its driver process: running, ... */
	uint32_t link_up;
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, drops;
};

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

typedef int (*uplink_each_fn)(const struct uplink *u, void *arg);
typedef int (*peer_each_fn)(const struct peer *p, void *arg);

int uplink_create(struct store *st, const struct principal *who, const char *actor,
    const struct uplink *spec, struct uplink *out, struct cnw_error *err);
int uplink_get(struct store *st, const struct principal *who, const char *name,
    struct uplink *out, struct cnw_error *err);
int uplink_list(struct store *st, const struct principal *who, uplink_each_fn fn, void *arg,
    struct cnw_error *err);
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
/* "ADDRESS:PORT" / "[V6]:PORT" into family, address bytes and port (network order). */
int uplink_parse_endpoint(const char *s, uint16_t *family, uint8_t addr[16], uint16_t *port);

#endif
