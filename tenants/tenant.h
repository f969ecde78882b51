/*
 * Tenants: the domain object, its limits and its rules.
 *
 * A tenant is the unit of isolation: it owns networks, routes and policies,
 * and holds one bearer token that reaches only its own resources.  This
 * header is shared by the parent (which decides) and the API process (which
 * checks shapes early to give a precise error); the parent never trusts the
 * API process's checks and runs tenant_validate_* again.
 */
#ifndef CNW_TENANT_H
#define CNW_TENANT_H

#include <stdint.h>

#include "lib/error.h"
#include "tenants/row.h"

#define TENANT_NAME_MAX 31	/* ^[a-z][a-z0-9-]{0,30}$ */
#define TENANT_DESC_MAX 255	/* bytes of UTF-8 */

/*
 * Quotas: defaults and inclusive upper bounds, one row each.  A quota whose
 * default is TENANT_QUOTA_NONE may be "none" (null in the API, NULL in the
 * store): no cap at all.  Bandwidth is opt-in, as a Kubernetes namespace or
 * an LXD project has no limit until one is set: a default cap would be one
 * a new user meets without asking for it (see docs/decisions.md).
 */
#define TENANT_QUOTA_NONE UINT64_MAX
#define TENANT_QUOTAS(X)						\
	X(networks,       "networks",       16,                4096)	\
	X(bandwidth_kbps, "bandwidth_kbps", TENANT_QUOTA_NONE, 100000000) \
	X(flows,          "flows",          65536,             16777216)

struct tenant_quotas {
#define TENANT_QUOTA_FIELD(field, json, def, max) uint64_t field;
	TENANT_QUOTAS(TENANT_QUOTA_FIELD)
#undef TENANT_QUOTA_FIELD
};

struct tenant_quota_info {
	const char *name;
	uint64_t def;
	uint64_t max;
	size_t offset;		/* within struct tenant_quotas */
};

extern const struct tenant_quota_info tenant_quota_table[];
extern const unsigned tenant_quota_count;

struct tenant {
	int64_t id;
	char name[TENANT_NAME_MAX + 1];
	char description[TENANT_DESC_MAX + 1];
	struct tenant_quotas quotas;
	int64_t created_at;	/* unix seconds */
	int64_t updated_at;
};

/* Which fields of a create or update request were given. */
enum {
	TENANT_F_DESCRIPTION = 1u << 0,
	TENANT_F_QUOTA0 = 1u << 1,	/* quota i is TENANT_F_QUOTA0 << i */
};

/* Who is asking: the admin, or the holder of one tenant's token. */
struct principal {
	int is_admin;
	int64_t tenant_id;
	char name[TENANT_NAME_MAX + 1];	/* "admin" or the tenant's name */
};

/* Validation: each returns 0 or -1 with a user-facing message in err. */
int tenant_validate_name(const char *what, const char *name, struct cnw_error *err);
int tenant_validate_description(const char *desc, struct cnw_error *err);
int tenant_validate_quota(unsigned idx, uint64_t value, struct cnw_error *err);
/* 1 if quota idx may be TENANT_QUOTA_NONE (no cap). */
int tenant_quota_nullable(unsigned idx);
int tenant_validate_quotas(const struct tenant_quotas *q, uint32_t fields, struct cnw_error *err);
void tenant_quotas_default(struct tenant_quotas *q);
uint64_t *tenant_quota_ptr(struct tenant_quotas *q, unsigned idx);
/* -1 if no quota has that name. */
int tenant_quota_index(const char *name);


/* Operations ------------------------------------------------------------ */
/*
 * Each checks who may do it (the admin may do everything; a tenant token
 * sees only its own tenant, and any other answers 404 as if it did not
 * exist), validates, and runs one store transaction with its audit row.
 */
struct store;

struct tenant_spec {
	char name[TENANT_NAME_MAX + 1];
	char description[TENANT_DESC_MAX + 1];
	struct tenant_quotas quotas;
	uint32_t fields;	/* TENANT_F_* given */
};

typedef row_each_fn tenant_each_fn;	/* fn gets a const struct tenant * */

/* Map a bearer token to who holds it; 401 if malformed or unknown. */
int tenant_authenticate(struct store *st, const char *token, struct principal *who,
    struct cnw_error *err);
int tenant_create(struct store *st, const struct principal *who, const char *actor,
    const struct tenant_spec *spec, struct tenant *out, char token_out[65],
    struct cnw_error *err);
int tenant_get(struct store *st, const struct principal *who, const char *name,
    struct tenant *out, struct cnw_error *err);
int tenant_list(struct store *st, const struct principal *who, tenant_each_fn fn,
    void *arg, struct cnw_error *err);
int tenant_update(struct store *st, const struct principal *who, const char *actor,
    const struct tenant_spec *spec, struct tenant *out, struct cnw_error *err);
int tenant_delete(struct store *st, const struct principal *who, const char *actor,
    const char *name, int cascade, struct cnw_error *err);

/* Rows (tenant_store.c; call inside store_tx where they write) ---------- */
int tenant_row_get(struct store *st, const char *name, struct tenant *out, struct cnw_error *err);
int tenant_row_get_id(struct store *st, int64_t id, struct tenant *out, struct cnw_error *err);
int tenant_row_insert(struct store *st, struct tenant *t, const uint8_t token_hash[32],
    struct cnw_error *err);
int tenant_row_update(struct store *st, const struct tenant *t, struct cnw_error *err);
int tenant_row_delete(struct store *st, int64_t id, struct cnw_error *err);
int tenant_row_each(struct store *st, tenant_each_fn fn, void *arg, struct cnw_error *err);

#endif
