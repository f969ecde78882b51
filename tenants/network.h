/*
 * Tenant virtual networks and their routes: the domain objects, their
 * rules, their rows, and the reconcile step that makes one network's
 * namespace match its rows.
 *
 * A network is a named network namespace INSTANCE.TENANT.NETWORK holding
 * lo and cnw0 (a persistent TUN device with vnet headers, which the fast
 * path serves), the subnet's first address, a default route via cnw0 and
 * the network's routes.  The rows are the desired state; network_apply()
 * is idempotent and repairs whatever differs.
 */
#ifndef CNW_NETWORK_H
#define CNW_NETWORK_H

#include <stdint.h>

#include "lib/error.h"
#include "tenants/tenant.h"

struct store;

#define NETWORK_CIDR_MAX 48		/* "ffff:...:ffff/128" */
#define NETWORK_NETNS_MAX 80		/* INSTANCE.TENANT.NETWORK */
#define NETWORK_DEVICE "cnw0"
#define ROUTE_VIA_MAX 12
#define NETWORK_ROUTES_MAX 256		/* per network */
#define NETWORK_UPLINKS_MAX 8		/* = WORKER_NET_UPLINKS */
#define NETWORK_GSO_MAX 60000		/* bytes of one GSO packet from cnw0 */

struct network {
	int64_t id;
	int64_t tenant_id;
	char tenant[TENANT_NAME_MAX + 1];
	char name[TENANT_NAME_MAX + 1];
	char subnet[NETWORK_CIDR_MAX];
	char subnet6[NETWORK_CIDR_MAX];	/* "" when none */
	char status[12];		/* pending, ready, failed */
	char status_detail[160];
	int64_t created_at;
	int64_t peer_id;		/* 0: none */
	char peer[TENANT_NAME_MAX + 1];
	uint32_t nuplinks;		/* in order of preference */
	char uplinks[NETWORK_UPLINKS_MAX][TENANT_NAME_MAX + 1];
};

struct route {
	int64_t id;
	int64_t network_id;
	char prefix[NETWORK_CIDR_MAX];
	char via[ROUTE_VIA_MAX];	/* fastpath, blackhole, unreachable */
	int64_t created_at;
};

struct network_spec {
	char tenant[TENANT_NAME_MAX + 1];
	char name[TENANT_NAME_MAX + 1];
	char subnet[NETWORK_CIDR_MAX];
	char subnet6[NETWORK_CIDR_MAX];
	char peer[TENANT_NAME_MAX + 1];	/* "" = none */
	uint32_t nuplinks;
	char uplinks[NETWORK_UPLINKS_MAX][TENANT_NAME_MAX + 1];
};

struct route_spec {
	char tenant[TENANT_NAME_MAX + 1];
	char network[TENANT_NAME_MAX + 1];
	char prefix[NETWORK_CIDR_MAX];
	char via[ROUTE_VIA_MAX];	/* "" means fastpath */
	int64_t id;			/* for delete */
};

typedef row_each_fn network_each_fn;	/* fn gets a const struct network * */
typedef row_each_fn route_each_fn;	/* fn gets a const struct route * */

/* Validation ------------------------------------------------------------ */
/* Canonicalise a subnet into out; 400 with a precise reason otherwise. */
int network_validate_subnet(const char *what, const char *in, int family, char *out,
    size_t outlen, struct cnw_error *err);
/* A route's prefix in canonical form, checked against its network (OUT). */
int route_validate_prefix(const char *in, const struct network *n, char *out, size_t outlen,
    struct cnw_error *err);
int route_validate_via(const char *via, struct cnw_error *err);
/* The namespace name of a network: -1 if it would not fit. */
int network_netns_name(const char *instance, const char *tenant, const char *name,
    char *out, size_t len);
/* The gateway (first host) of a subnet, as text without the length. */
void network_gateway(const char *subnet, char *out, size_t len);

/* Operations (authorization, validation, one transaction each) ------------ */
int network_create(struct store *st, const struct principal *who, const char *actor,
    const struct network_spec *spec, struct network *out, struct cnw_error *err);
int network_get(struct store *st, const struct principal *who, const char *tenant,
    const char *name, struct network *out, struct cnw_error *err);
int network_list(struct store *st, const struct principal *who, const char *tenant,
    network_each_fn fn, void *arg, struct cnw_error *err);
/* Deletes the row; the caller removes the namespace. */
int network_delete(struct store *st, const struct principal *who, const char *actor,
    const char *tenant, const char *name, struct network *gone, struct cnw_error *err);
int route_add(struct store *st, const struct principal *who, const char *actor,
    const struct route_spec *spec, struct network *net, struct route *out,
    struct cnw_error *err);
int route_list(struct store *st, const struct principal *who, const char *tenant,
    const char *network, route_each_fn fn, void *arg, struct cnw_error *err);
int route_delete(struct store *st, const struct principal *who, const char *actor,
    const struct route_spec *spec, struct network *net, struct cnw_error *err);

/* Rows ------------------------------------------------------------------ */
int network_row_each(struct store *st, int64_t tenant_id, network_each_fn fn, void *arg,
    struct cnw_error *err);
int network_row_get_id(struct store *st, int64_t id, struct network *out, struct cnw_error *err);
int network_row_count(struct store *st, int64_t tenant_id, int64_t *count, struct cnw_error *err);
int network_row_delete(struct store *st, int64_t id, struct cnw_error *err);
int network_set_status(struct store *st, const struct network *n, const char *status,
    const char *detail, struct cnw_error *err);
int route_row_each(struct store *st, int64_t network_id, route_each_fn fn, void *arg,
    struct cnw_error *err);
int route_row_delete(struct store *st, int64_t id, struct cnw_error *err);

/* Kernel (network_kernel.c) ---------------------------------------------- */
/* Make the namespace of n match n and its routes. */
/* *created tells whether the namespace itself had to be made. */
int network_apply(const char *instance, const struct network *n, const struct route *routes,
    size_t nroutes, int *created, struct cnw_error *err);
int network_remove(const char *instance, const struct network *n, struct cnw_error *err);

#endif
