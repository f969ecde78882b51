/*
 * Tenant operations: who may do what, validation, and one transaction each.
 *
 * The rule that makes tenants isolated lives here, once: a tenant token sees
 * its own tenant and nothing else, and another tenant's name answers exactly
 * as a missing one would (404), so a token cannot even learn which names
 * exist.  Operations reserved to the operator answer 403 to the tenant
 * itself.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lib/store.h"
#include "lib/token.h"
#include "tenants/network.h"
#include "tenants/tenant.h"

static int
tenant_not_found(const char *name, struct cnw_error *err)
{
	return cnw_err(err, CNW_ENOENT, "tenant \"%s\" not found", name);
}

/* May `who` see tenant `name` at all?  Others' names answer 404. */
static int
tenant_visible(const struct principal *who, const char *name, struct cnw_error *err)
{
	if (who->is_admin || strcmp(who->name, name) == 0)
		return 0;
	return tenant_not_found(name, err);
}

static int
tenant_admin_only(const struct principal *who, const char *what, struct cnw_error *err)
{
	if (who->is_admin)
		return 0;
	return cnw_err(err, CNW_EPERM, "%s needs the admin token", what);
}

int
tenant_authenticate(struct store *st, const char *token, struct principal *who,
    struct cnw_error *err)
{
	uint8_t hash[TOKEN_HASH_LEN];
	struct tenant t;
	int64_t tenant_id;
	int is_admin, rc;

	memset(who, 0, sizeof(*who));
	if (!token_is_wellformed(token))
		return cnw_err(err, CNW_EAUTH, "missing or malformed bearer token");
	token_hash(token, hash);
	rc = store_token_lookup(st, hash, &is_admin, &tenant_id, err);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc < 0)
		return -1;
	if (rc == 0)
		return cnw_err(err, CNW_EAUTH, "unknown bearer token");
	if (is_admin) {
		who->is_admin = 1;
		snprintf(who->name, sizeof(who->name), "admin");
		return 0;
	}
	if ((rc = tenant_row_get_id(st, tenant_id, &t, err)) <= 0)
		return rc < 0 ? -1 : cnw_err(err, CNW_EAUTH, "unknown bearer token");
	who->tenant_id = t.id;
	snprintf(who->name, sizeof(who->name), "%s", t.name);
	return 0;
}

static int
tenant_validate_spec(const struct tenant_spec *spec, struct cnw_error *err)
{
	if (tenant_validate_name("tenant", spec->name, err) < 0)
		return -1;
	if ((spec->fields & TENANT_F_DESCRIPTION) &&
	    tenant_validate_description(spec->description, err) < 0)
		return -1;
	return tenant_validate_quotas(&spec->quotas, spec->fields, err);
}

/* Copy the given fields of spec onto t. */
static void
tenant_apply_spec(struct tenant *t, const struct tenant_spec *spec)
{
	if (spec->fields & TENANT_F_DESCRIPTION)
		snprintf(t->description, sizeof(t->description), "%s", spec->description);
	for (unsigned i = 0; i < tenant_quota_count; i++)
		if (spec->fields & (TENANT_F_QUOTA0 << i))
			*tenant_quota_ptr(&t->quotas, i) =
			    *tenant_quota_ptr((struct tenant_quotas *)&spec->quotas, i);
}

struct tenant_tx {
	const char *actor;
	struct tenant *t;
	const uint8_t *token_hash;
	int cascade;
};

static int
tenant_create_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct tenant_tx *tx = arg;
	struct tenant existing;
	int rc;

	/* Checked first for a clear message; the UNIQUE constraint still guards. */
	if ((rc = tenant_row_get(st, tx->t->name, &existing, err)) != 0)
		return rc < 0 ? -1 : cnw_err(err, CNW_EEXIST,
		    "tenant \"%s\" already exists", tx->t->name);
	if (tenant_row_insert(st, tx->t, tx->token_hash, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "tenant.create", tx->t->name, "", err);
}

int
tenant_create(struct store *st, const struct principal *who, const char *actor,
    const struct tenant_spec *spec, struct tenant *out, char token_out[65],
    struct cnw_error *err)
{
	uint8_t hash[TOKEN_HASH_LEN];
	struct tenant_tx tx = { .actor = actor, .t = out, .token_hash = hash };
	int rc;

	if (tenant_admin_only(who, "creating a tenant", err) < 0 ||
	    tenant_validate_spec(spec, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", spec->name);
	tenant_quotas_default(&out->quotas);
	tenant_apply_spec(out, spec);
	out->created_at = out->updated_at = store_now();
	if (token_generate(token_out) < 0)
		return cnw_err(err, CNW_EINTERNAL, "random generator failed");
	token_hash(token_out, hash);
	rc = store_tx(st, tenant_create_tx, &tx, err);
	if (rc < 0)
		OPENSSL_cleanse(token_out, TOKEN_HEX_LEN + 1);
	return rc;
}

int
tenant_get(struct store *st, const struct principal *who, const char *name,
    struct tenant *out, struct cnw_error *err)
{
	int rc;

	if (tenant_visible(who, name, err) < 0)
		return -1;
	if ((rc = tenant_row_get(st, name, out, err)) <= 0)
		return rc < 0 ? -1 : tenant_not_found(name, err);
	return 0;
}

int
tenant_list(struct store *st, const struct principal *who, tenant_each_fn fn,
    void *arg, struct cnw_error *err)
{
	struct tenant t;
	int rc;

	if (who->is_admin)
		return tenant_row_each(st, fn, arg, err);
	if ((rc = tenant_row_get_id(st, who->tenant_id, &t, err)) < 0)
		return -1;
	if (rc > 0 && fn(&t, arg) < 0)
		return cnw_err(err, CNW_EINTERNAL, "listing tenants failed");
	return 0;
}

static int
tenant_update_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct tenant_tx *tx = arg;
	int64_t networks;

	/* Checked inside the transaction, against the count it will commit with. */
	if (network_row_count(st, tx->t->id, &networks, err) < 0)
		return -1;
	if ((uint64_t)networks > tx->t->quotas.networks)
		return cnw_err(err, CNW_EEXIST,
		    "tenant \"%s\" has %lld networks; its networks quota cannot go below that "
		    "(asked %llu)", tx->t->name, (long long)networks,
		    (unsigned long long)tx->t->quotas.networks);
	if (tenant_row_update(st, tx->t, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "tenant.update", tx->t->name, "", err);
}

int
tenant_update(struct store *st, const struct principal *who, const char *actor,
    const struct tenant_spec *spec, struct tenant *out, struct cnw_error *err)
{
	struct tenant_tx tx = { .actor = actor, .t = out };

	if (tenant_get(st, who, spec->name, out, err) < 0 ||
	    tenant_admin_only(who, "changing a tenant", err) < 0 ||
	    tenant_validate_spec(spec, err) < 0)
		return -1;
	tenant_apply_spec(out, spec);
	out->updated_at = store_now();
	return store_tx(st, tenant_update_tx, &tx, err);
}

static int
tenant_delete_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct tenant_tx *tx = arg;

	static const char del_networks[] = "DELETE FROM networks WHERE tenant_id = ?";
	int64_t networks;
	sqlite3_stmt *s;

	if (network_row_count(st, tx->t->id, &networks, err) < 0)
		return -1;
	if (networks > 0 && !tx->cascade)
		return cnw_err(err, CNW_EEXIST,
		    "tenant \"%s\" still has %lld network%s; delete them first or use "
		    "?cascade=true", tx->t->name, (long long)networks, networks == 1 ? "" : "s");
	/* Routes go with their networks, the token with the tenant (ON DELETE CASCADE). */
	if (networks > 0 &&
	    ((s = store_stmt(st, del_networks, err)) == NULL ||
	    store_bind_int64(st, s, 1, tx->t->id, err) < 0 ||
	    store_exec_stmt(st, s, "delete networks", err) < 0))
		return -1;
	if (tenant_row_delete(st, tx->t->id, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "tenant.delete", tx->t->name,
	    tx->cascade ? "cascade" : "", err);
}

int
tenant_delete(struct store *st, const struct principal *who, const char *actor,
    const char *name, int cascade, struct cnw_error *err)
{
	struct tenant t;
	struct tenant_tx tx = { .actor = actor, .t = &t, .cascade = cascade };

	if (tenant_get(st, who, name, &t, err) < 0 ||
	    tenant_admin_only(who, "deleting a tenant", err) < 0)
		return -1;
	return store_tx(st, tenant_delete_tx, &tx, err);
}
