/*
 * The store: migrations, transactions that roll back whole, constraint
 * errors as 409, the audit row that goes with every mutation, tokens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/store.h"
#include "lib/token.h"
#include "tenants/tenant.h"
#include "tests/unit/fixture_store.h"

struct fixture {
	struct fixture_store s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	fixture_store_open(&f->s, "store");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fixture_store_close(&f->s);
	free(f);
	return 0;
}

static const struct principal admin = { .is_admin = 1, .name = "admin" };

static void
spec_named(struct tenant_spec *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
}

static void
test_migrations_set_version(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(fixture_count(f->s.st, "PRAGMA user_version"), store_schema_version);
	assert_string_equal(
	    (const char *)sqlite3_db_filename(store_db(f->s.st), "main"), f->s.path);
	/* WAL and foreign keys are on for every connection */
	assert_int_equal(fixture_count(f->s.st, "PRAGMA foreign_keys"), 1);
}

static void
test_reopen_is_idempotent(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct store *again;

	store_close(f->s.st);
	assert_int_equal(store_open(f->s.path, &again, &err), 0);
	assert_int_equal(fixture_count(again, "PRAGMA user_version"), store_schema_version);
	assert_int_equal(fixture_count(again, "SELECT count(*) FROM sqlite_master WHERE name = 'tenants'"), 1);
	f->s.st = again;
}

static void
test_newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct store *again = NULL;
	char sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version + 1);
	assert_int_equal(sqlite3_exec(store_db(f->s.st), sql, NULL, NULL, NULL), SQLITE_OK);
	store_close(f->s.st);
	f->s.st = NULL;
	assert_int_equal(store_open(f->s.path, &again, &err), -1);
	assert_non_null(strstr(err.msg, "newer"));
	/* put it back so teardown has a store */
	assert_int_equal(sqlite3_open(f->s.path, (sqlite3 **)&again), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", store_schema_version);
	sqlite3_exec((sqlite3 *)again, sql, NULL, NULL, NULL);
	sqlite3_close((sqlite3 *)again);
	assert_int_equal(store_open(f->s.path, &f->s.st, &err), 0);
}

static void
test_old_database_is_migrated(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	char path[128];
	sqlite3 *db;

	/* a database as an older cnwd left it: version 0, empty */
	snprintf(path, sizeof(path), "%s/old.db", f->s.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_close(db);
	store_close(f->s.st);
	assert_int_equal(store_open(path, &f->s.st, &err), 0);
	assert_int_equal(fixture_count(f->s.st, "PRAGMA user_version"), store_schema_version);
}

/* 5 -> 6: bandwidth may be NULL (no cap); the tenants there keep their caps. */
static void
test_migration_keeps_bandwidth(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct tenant t;
	char path[128];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/v5.db", f->s.dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	    "CREATE TABLE tenants ("
	    "  id INTEGER PRIMARY KEY,"
	    "  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 31),"
	    "  description TEXT NOT NULL DEFAULT '' CHECK (length(CAST(description AS BLOB)) <= 255),"
	    "  quota_networks INTEGER NOT NULL CHECK (quota_networks >= 0),"
	    "  quota_bandwidth_kbps INTEGER NOT NULL CHECK (quota_bandwidth_kbps >= 0),"
	    "  quota_flows INTEGER NOT NULL CHECK (quota_flows >= 0),"
	    "  created_at INTEGER NOT NULL,"
	    "  updated_at INTEGER NOT NULL);"
	    "INSERT INTO tenants VALUES (7, 'old', 'kept', 16, 1000000, 65536, 1, 2);"
	    "INSERT INTO tenants VALUES (9, 'zero', '', 16, 0, 65536, 1, 2);"
	    "PRAGMA user_version = 5;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	store_close(f->s.st);
	assert_int_equal(store_open(path, &f->s.st, &err), 0);
	assert_int_equal(fixture_count(f->s.st, "PRAGMA user_version"), store_schema_version);
	assert_int_equal(tenant_row_get(f->s.st, "old", &t, &err), 1);
	assert_int_equal(t.id, 7);
	assert_string_equal(t.description, "kept");
	assert_int_equal(t.quotas.bandwidth_kbps, 1000000);
	assert_int_equal(t.created_at, 1);
	assert_int_equal(tenant_row_get(f->s.st, "zero", &t, &err), 1);
	assert_int_equal(t.quotas.bandwidth_kbps, 0);
	/* NULL is allowed now, a negative number still is not */
	assert_int_equal(sqlite3_exec(store_db(f->s.st),
	    "UPDATE tenants SET quota_bandwidth_kbps = NULL WHERE id = 9", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(store_db(f->s.st),
	    "UPDATE tenants SET quota_bandwidth_kbps = -1 WHERE id = 9", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(tenant_row_get(f->s.st, "zero", &t, &err), 1);
	assert_true(t.quotas.bandwidth_kbps == TENANT_QUOTA_NONE);
}

/* A new tenant has no bandwidth cap; one can be set, and set back to none. */
static void
test_bandwidth_opt_in(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	unsigned bw = (unsigned)tenant_quota_index("bandwidth_kbps");
	struct tenant_spec s;
	struct tenant t;
	char token[TOKEN_HEX_LEN + 1];

	spec_named(&s, "open");
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &s, &t, token, &err), 0);
	assert_true(t.quotas.bandwidth_kbps == TENANT_QUOTA_NONE);
	assert_int_equal(fixture_count(f->s.st,
	    "SELECT count(*) FROM tenants WHERE name = 'open' AND quota_bandwidth_kbps IS NULL"), 1);
	spec_named(&s, "open");
	s.quotas.bandwidth_kbps = 100000;
	s.fields = TENANT_F_QUOTA0 << bw;
	assert_int_equal(tenant_update(f->s.st, &admin, "admin", &s, &t, &err), 0);
	assert_int_equal(t.quotas.bandwidth_kbps, 100000);
	assert_int_equal(fixture_count(f->s.st, "SELECT quota_bandwidth_kbps FROM tenants WHERE name = 'open'"),
	    100000);
	s.quotas.bandwidth_kbps = TENANT_QUOTA_NONE;
	assert_int_equal(tenant_update(f->s.st, &admin, "admin", &s, &t, &err), 0);
	assert_true(t.quotas.bandwidth_kbps == TENANT_QUOTA_NONE);
	assert_int_equal(tenant_row_get(f->s.st, "open", &t, &err), 1);
	assert_true(t.quotas.bandwidth_kbps == TENANT_QUOTA_NONE);
}

static void
test_create_writes_tenant_token_and_audit(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct tenant_spec s;
	struct tenant t, got;
	char token[TOKEN_HEX_LEN + 1];
	struct principal who;

	spec_named(&s, "cameras");
	assert_int_equal(tenant_create(f->s.st, &admin, "admin (test)", &s, &t, token, &err), 0);
	assert_true(token_is_wellformed(token));
	assert_int_equal(t.quotas.networks, 16);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tenants"), 1);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tokens WHERE kind = 'tenant'"), 1);
	assert_int_equal(fixture_count(f->s.st,
	    "SELECT count(*) FROM audit WHERE action = 'tenant.create' AND object = 'cameras'"), 1);
	/* the token itself is nowhere in the database */
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tokens WHERE length(hash) = 32"), 1);
	/* and it authenticates as the tenant */
	assert_int_equal(tenant_authenticate(f->s.st, token, &who, &err), 0);
	assert_false(who.is_admin);
	assert_string_equal(who.name, "cameras");
	assert_int_equal(tenant_get(f->s.st, &who, "cameras", &got, &err), 0);
	assert_int_equal(got.id, t.id);
}

static void
test_duplicate_is_conflict_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct tenant_spec s;
	struct tenant t;
	char token[TOKEN_HEX_LEN + 1];

	spec_named(&s, "cameras");
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &s, &t, token, &err), 0);
	int64_t audits = fixture_count(f->s.st, "SELECT count(*) FROM audit");
	memset(&err, 0, sizeof(err));
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &s, &t, token, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
	assert_non_null(strstr(err.msg, "already exists"));
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tenants"), 1);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tokens WHERE kind = 'tenant'"), 1);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit"), audits);
}

/* A transaction whose second step fails leaves no trace of the first. */
static int
tx_insert_then_fail(struct store *st, void *arg, struct cnw_error *err)
{
	struct tenant t = { 0 };
	uint8_t hash[32] = { 1 };

	snprintf(t.name, sizeof(t.name), "half");
	if (tenant_row_insert(st, &t, hash, err) < 0)
		return -1;
	if (store_audit(st, "test", "half", "half", "", err) < 0)
		return -1;
	return cnw_err(err, CNW_EINVAL, "second step failed");
}

static void
test_failed_transaction_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };

	assert_int_equal(store_tx(f->s.st, tx_insert_then_fail, NULL, &err), -1);
	assert_string_equal(err.msg, "second step failed");
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tenants"), 0);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tokens"), 0);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit"), 0);
	/* and the store is usable afterwards */
	assert_int_equal(store_tx(f->s.st, tx_insert_then_fail, NULL, &err), -1);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tenants"), 0);
}

static void
test_constraint_error_is_conflict(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	uint8_t hash[32] = { 7 };
	struct tenant a = { 0 }, b = { 0 };

	/* two tenants cannot share a token hash (UNIQUE): a 409, not a 500 */
	snprintf(a.name, sizeof(a.name), "a");
	snprintf(b.name, sizeof(b.name), "b");
	assert_int_equal(tenant_row_insert(f->s.st, &a, hash, &err), 0);
	assert_int_equal(tenant_row_insert(f->s.st, &b, hash, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
}

static void
test_update_merges_and_audits(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct tenant_spec s;
	struct tenant t;
	char token[TOKEN_HEX_LEN + 1];

	spec_named(&s, "video");
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &s, &t, token, &err), 0);
	spec_named(&s, "video");
	s.quotas.flows = 10;
	s.fields = TENANT_F_QUOTA0 << (unsigned)tenant_quota_index("flows");
	assert_int_equal(tenant_update(f->s.st, &admin, "admin", &s, &t, &err), 0);
	assert_int_equal(t.quotas.flows, 10);
	assert_int_equal(t.quotas.networks, 16);	/* untouched */
	assert_int_equal(fixture_count(f->s.st, "SELECT quota_flows FROM tenants WHERE name = 'video'"), 10);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit WHERE action = 'tenant.update'"), 1);
	/* out of range: nothing changes */
	s.quotas.flows = 16777217;
	assert_int_equal(tenant_update(f->s.st, &admin, "admin", &s, &t, &err), -1);
	assert_int_equal(err.kind, CNW_EINVAL);
	assert_int_equal(fixture_count(f->s.st, "SELECT quota_flows FROM tenants WHERE name = 'video'"), 10);
}

static void
test_delete_removes_token(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct tenant_spec s;
	struct tenant t;
	struct principal who;
	char token[TOKEN_HEX_LEN + 1];

	spec_named(&s, "gone");
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &s, &t, token, &err), 0);
	assert_int_equal(tenant_delete(f->s.st, &admin, "admin", "gone", 0, &err), 0);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tokens WHERE kind = 'tenant'"), 0);
	assert_int_equal(tenant_authenticate(f->s.st, token, &who, &err), -1);
	assert_int_equal(err.kind, CNW_EAUTH);
	assert_int_equal(tenant_delete(f->s.st, &admin, "admin", "gone", 0, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
}

static void
test_tenant_token_sees_only_itself(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct tenant_spec s;
	struct tenant t;
	struct principal a;
	char ta[TOKEN_HEX_LEN + 1], tb[TOKEN_HEX_LEN + 1];

	spec_named(&s, "alpha");
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &s, &t, ta, &err), 0);
	spec_named(&s, "beta");
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &s, &t, tb, &err), 0);
	assert_int_equal(tenant_authenticate(f->s.st, ta, &a, &err), 0);
	assert_int_equal(tenant_get(f->s.st, &a, "beta", &t, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);	/* not 403: beta's existence is not told */
	assert_int_equal(tenant_delete(f->s.st, &a, "a", "beta", 0, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_int_equal(tenant_delete(f->s.st, &a, "a", "alpha", 0, &err), -1);
	assert_int_equal(err.kind, CNW_EPERM);
	spec_named(&s, "gamma");
	assert_int_equal(tenant_create(f->s.st, &a, "a", &s, &t, tb, &err), -1);
	assert_int_equal(err.kind, CNW_EPERM);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tenants"), 2);
}

static void
test_admin_token_set_and_lookup(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	char token[TOKEN_HEX_LEN + 1], other[TOKEN_HEX_LEN + 1];
	uint8_t hash[32];
	struct principal who;

	assert_int_equal(token_generate(token), 0);
	assert_int_equal(token_generate(other), 0);
	token_hash(token, hash);
	assert_int_equal(store_admin_token_set(f->s.st, hash, &err), 0);
	assert_int_equal(store_admin_token_set(f->s.st, hash, &err), 0);	/* no second row */
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM tokens WHERE kind = 'admin'"), 1);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit WHERE action = 'token.admin.set'"), 1);
	assert_int_equal(tenant_authenticate(f->s.st, token, &who, &err), 0);
	assert_true(who.is_admin);
	assert_int_equal(tenant_authenticate(f->s.st, other, &who, &err), -1);
	assert_int_equal(err.kind, CNW_EAUTH);
	assert_int_equal(tenant_authenticate(f->s.st, "not-a-token", &who, &err), -1);
	assert_int_equal(err.kind, CNW_EAUTH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrations_set_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_database_is_migrated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration_keeps_bandwidth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bandwidth_opt_in, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_writes_tenant_token_and_audit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_is_conflict_and_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_transaction_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_constraint_error_is_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_merges_and_audits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_removes_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_token_sees_only_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_admin_token_set_and_lookup, setup, teardown),
	};
	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
