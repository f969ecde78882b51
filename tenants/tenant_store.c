/*
 * The SQL of tenants: reading and writing rows of the tenants table and the
 * tenant's token.  The rules (who may, what is valid) are in tenant.c.
 */
#include <stdio.h>
#include <string.h>

#include "lib/store.h"
#include "lib/token.h"
#include "tenants/row.h"
#include "tenants/tenant.h"

#define TENANT_COLUMNS \
	"id, name, description, quota_networks, quota_bandwidth_kbps, quota_flows, " \
	"created_at, updated_at"

static int
tenant_from_row(sqlite3_stmt *s, void *out, struct cnw_error *err)
{
	struct tenant *t = out;

	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(s, 0);
	row_str(t->name, sizeof(t->name), s, 1);
	row_str(t->description, sizeof(t->description), s, 2);
	/* NULL: no cap (only where the quota may be none; the schema allows no other). */
	for (unsigned i = 0; i < tenant_quota_count; i++)
		*tenant_quota_ptr(&t->quotas, i) =
		    sqlite3_column_type(s, 3 + (int)i) == SQLITE_NULL ? TENANT_QUOTA_NONE :
		    (uint64_t)sqlite3_column_int64(s, 3 + (int)i);
	t->created_at = sqlite3_column_int64(s, 6);
	t->updated_at = sqlite3_column_int64(s, 7);
	return 0;
}

static const struct row_desc tenant_rows = {
	.one = "tenant", .many = "tenants", .read = "read tenant",
	.delete_sql = ROW_DELETE_SQL("tenants"), .size = sizeof(struct tenant),
	.from_row = tenant_from_row,
};

/* 1 found, 0 not found, -1 error. */
int
tenant_row_get(struct store *st, const char *name, struct tenant *out, struct cnw_error *err)
{
	static const char sql[] = "SELECT " TENANT_COLUMNS " FROM tenants WHERE name = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_text(st, s, 1, name, err) < 0)
		return -1;
	return row_get(st, &tenant_rows, s, out, err);
}

int
tenant_row_get_id(struct store *st, int64_t id, struct tenant *out, struct cnw_error *err)
{
	static const char sql[] = "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, id, err) < 0)
		return -1;
	return row_get(st, &tenant_rows, s, out, err);
}

static int
tenant_bind_quotas(struct store *st, sqlite3_stmt *s, int first, const struct tenant *t,
    struct cnw_error *err)
{
	for (unsigned i = 0; i < tenant_quota_count; i++) {
		uint64_t v = *tenant_quota_ptr((struct tenant_quotas *)&t->quotas, i);

		if ((v == TENANT_QUOTA_NONE ? store_bind_null(st, s, first + (int)i, err) :
		    store_bind_int64(st, s, first + (int)i, (int64_t)v, err)) < 0)
			return -1;
	}
	return 0;
}

int
tenant_row_insert(struct store *st, struct tenant *t, const uint8_t token_hash[32],
    struct cnw_error *err)
{
	static const char ins[] =
	    "INSERT INTO tenants(name, description, quota_networks, quota_bandwidth_kbps, "
	    "quota_flows, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)";
	static const char tok[] =
	    "INSERT INTO tokens(kind, tenant_id, hash, created_at) VALUES ('tenant', ?, ?, ?)";
	sqlite3_stmt *s = store_stmt(st, ins, err);

	if (s == NULL ||
	    store_bind_text(st, s, 1, t->name, err) < 0 ||
	    store_bind_text(st, s, 2, t->description, err) < 0 ||
	    tenant_bind_quotas(st, s, 3, t, err) < 0 ||
	    store_bind_int64(st, s, 6, t->created_at, err) < 0 ||
	    store_bind_int64(st, s, 7, t->updated_at, err) < 0 ||
	    store_exec_stmt(st, s, "insert tenant", err) < 0)
		return -1;
	t->id = sqlite3_last_insert_rowid(store_db(st));
	if ((s = store_stmt(st, tok, err)) == NULL ||
	    store_bind_int64(st, s, 1, t->id, err) < 0 ||
	    store_bind_blob(st, s, 2, token_hash, TOKEN_HASH_LEN, err) < 0 ||
	    store_bind_int64(st, s, 3, t->created_at, err) < 0 ||
	    store_exec_stmt(st, s, "insert tenant token", err) < 0)
		return -1;
	return 0;
}

int
tenant_row_update(struct store *st, const struct tenant *t, struct cnw_error *err)
{
	static const char sql[] =
	    "UPDATE tenants SET description = ?, quota_networks = ?, quota_bandwidth_kbps = ?, "
	    "quota_flows = ?, updated_at = ? WHERE id = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL ||
	    store_bind_text(st, s, 1, t->description, err) < 0 ||
	    tenant_bind_quotas(st, s, 2, t, err) < 0 ||
	    store_bind_int64(st, s, 5, t->updated_at, err) < 0 ||
	    store_bind_int64(st, s, 6, t->id, err) < 0)
		return -1;
	return store_exec_stmt(st, s, "update tenant", err);
}

int
tenant_row_delete(struct store *st, int64_t id, struct cnw_error *err)
{
	return row_delete(st, &tenant_rows, id, err);
}

int
tenant_row_each(struct store *st, tenant_each_fn fn, void *arg, struct cnw_error *err)
{
	static const char sql[] = "SELECT " TENANT_COLUMNS " FROM tenants ORDER BY name";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	return s == NULL ? -1 : row_each(st, &tenant_rows, s, fn, arg, err);
}
