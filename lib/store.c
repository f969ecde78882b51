/*
 * SQLite store: open, migrate, cache statements, run transactions; see
 * store.h for the rules every mutation follows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/store.h"
#include "lib/token.h"

#define STORE_STMT_CACHE 64

struct store {
	sqlite3 *db;
	int in_tx;
	uint64_t generation;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[STORE_STMT_CACHE];
	unsigned ncache;
};

/*
 * Migration i takes the schema from user_version i to i + 1.  Never edit a
 * released entry: add a new one.
 */
static const char *const store_migrations[] = {
	/* 0 -> 1: tenants, tokens, audit */
	"CREATE TABLE tenants ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 31),"
	"  description TEXT NOT NULL DEFAULT '' CHECK (length(CAST(description AS BLOB)) <= 255),"
	"  quota_networks INTEGER NOT NULL CHECK (quota_networks >= 0),"
	"  quota_bandwidth_kbps INTEGER NOT NULL CHECK (quota_bandwidth_kbps >= 0),"
	"  quota_flows INTEGER NOT NULL CHECK (quota_flows >= 0),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"CREATE TABLE tokens ("
	"  id INTEGER PRIMARY KEY,"
	"  kind TEXT NOT NULL CHECK (kind IN ('admin', 'tenant')),"
	"  tenant_id INTEGER REFERENCES tenants(id) ON DELETE CASCADE,"
	"  hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
	"  created_at INTEGER NOT NULL,"
	"  CHECK ((kind = 'admin') = (tenant_id IS NULL))"
	");"
	"CREATE UNIQUE INDEX tokens_one_admin ON tokens(kind) WHERE kind = 'admin';"
	"CREATE INDEX tokens_tenant ON tokens(tenant_id);"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT NOT NULL,"
	"  detail TEXT NOT NULL DEFAULT ''"
	");",
	/* 1 -> 2: tenant networks and their routes */
	"CREATE TABLE networks ("
	"  id INTEGER PRIMARY KEY,"
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,"
	"  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 31),"
	"  subnet TEXT NOT NULL,"
	"  subnet6 TEXT NOT NULL DEFAULT '',"
	"  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),"
	"  status_detail TEXT NOT NULL DEFAULT '',"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (tenant_id, name)"
	");"
	"CREATE TABLE routes ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"	/* ids are shown: never reused */
	"  network_id INTEGER NOT NULL REFERENCES networks(id) ON DELETE CASCADE,"
	"  prefix TEXT NOT NULL,"
	"  via TEXT NOT NULL CHECK (via IN ('fastpath', 'blackhole', 'unreachable')),"
	"  created_at INTEGER NOT NULL,"
	"  UNIQUE (network_id, prefix)"
	");"
	"CREATE INDEX routes_network ON routes(network_id);",
	/* 2 -> 3: uplinks, peers and what a network uses of them */
	"CREATE TABLE uplinks ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 31),"
	"  interface TEXT NOT NULL CHECK (length(interface) BETWEEN 1 AND 15),"
	"  netns TEXT NOT NULL DEFAULT '',"
	"  driver TEXT NOT NULL CHECK (driver IN ('udp')),"
	"  address TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE peers ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 31),"
	"  created_at INTEGER NOT NULL"
	");"
	"CREATE TABLE peer_endpoints ("
	"  peer_id INTEGER NOT NULL REFERENCES peers(id) ON DELETE CASCADE,"
	"  uplink_id INTEGER NOT NULL REFERENCES uplinks(id) ON DELETE RESTRICT,"
	"  endpoint TEXT NOT NULL,"
	"  PRIMARY KEY (peer_id, uplink_id)"
	");"
	"ALTER TABLE networks ADD COLUMN peer_id INTEGER REFERENCES peers(id) ON DELETE RESTRICT;"
	"CREATE TABLE network_uplinks ("
	"  network_id INTEGER NOT NULL REFERENCES networks(id) ON DELETE CASCADE,"
	"  uplink_id INTEGER NOT NULL REFERENCES uplinks(id) ON DELETE RESTRICT,"
	"  position INTEGER NOT NULL,"
	"  PRIMARY KEY (network_id, uplink_id)"
	");",
	/*
	 * 3 -> 4: any driver (built-in or a verified plug-in), link emulation
	 * and drills per uplink.  SQLite cannot drop a CHECK: the table is
	 * made anew (foreign keys are off during migrations; the references
	 * of peer_endpoints and network_uplinks name "uplinks" and find the
	 * new table under it; ids are kept, and so is AUTOINCREMENT's mark).
	 */
	"CREATE TABLE uplinks_new ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 31),"
	"  interface TEXT NOT NULL CHECK (length(interface) BETWEEN 1 AND 15),"
	"  netns TEXT NOT NULL DEFAULT '',"
	"  driver TEXT NOT NULL CHECK (length(driver) BETWEEN 1 AND 15),"
	"  address TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  emu_profile TEXT NOT NULL DEFAULT '',"
	"  emu_seed INTEGER NOT NULL DEFAULT 1,"
	"  admin_down INTEGER NOT NULL DEFAULT 0 CHECK (admin_down IN (0, 1)),"
	"  flap TEXT NOT NULL DEFAULT '',"
	"  eg_rate_kbps INTEGER NOT NULL DEFAULT 0 CHECK (eg_rate_kbps >= 0),"
	"  eg_delay_us INTEGER NOT NULL DEFAULT 0 CHECK (eg_delay_us >= 0),"
	"  eg_jitter_us INTEGER NOT NULL DEFAULT 0 CHECK (eg_jitter_us >= 0),"
	"  eg_loss_ppm INTEGER NOT NULL DEFAULT 0 CHECK (eg_loss_ppm BETWEEN 0 AND 1000000),"
	"  eg_slot_us INTEGER NOT NULL DEFAULT 0 CHECK (eg_slot_us >= 0),"
	"  eg_queue_kb INTEGER NOT NULL DEFAULT 0 CHECK (eg_queue_kb >= 0),"
	"  in_rate_kbps INTEGER NOT NULL DEFAULT 0 CHECK (in_rate_kbps >= 0),"
	"  in_delay_us INTEGER NOT NULL DEFAULT 0 CHECK (in_delay_us >= 0),"
	"  in_jitter_us INTEGER NOT NULL DEFAULT 0 CHECK (in_jitter_us >= 0),"
	"  in_loss_ppm INTEGER NOT NULL DEFAULT 0 CHECK (in_loss_ppm BETWEEN 0 AND 1000000),"
	"  in_slot_us INTEGER NOT NULL DEFAULT 0 CHECK (in_slot_us >= 0),"
	"  in_queue_kb INTEGER NOT NULL DEFAULT 0 CHECK (in_queue_kb >= 0)"
	");"
	"INSERT INTO uplinks_new(id, name, interface, netns, driver, address, created_at) "
	"  SELECT id, name, interface, netns, driver, address, created_at FROM uplinks;"
	"DELETE FROM sqlite_sequence WHERE name = 'uplinks_new';"
	"INSERT INTO sqlite_sequence(name, seq) "
	"  SELECT 'uplinks_new', seq FROM sqlite_sequence WHERE name = 'uplinks';"
	"DROP TABLE uplinks;"
	"ALTER TABLE uplinks_new RENAME TO uplinks;",
	/*
	 * 4 -> 5: a tenant's policies.  They go with their tenant.  Names,
	 * not numbers, for action, class and steering, and no CHECK listing
	 * them: a mode added later needs no remade table (see 3 -> 4).  The
	 * uplinks a policy names are a comma-separated list (uplink names
	 * hold no comma); uplink deletion looks into it before it deletes.
	 */
	"CREATE TABLE policies ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"	/* the data path's rule id: never reused */
	"  tenant_id INTEGER NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,"
	"  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 31),"
	"  priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 65535),"
	"  protocol INTEGER NOT NULL DEFAULT -1 CHECK (protocol BETWEEN -1 AND 255),"
	"  src_prefix TEXT NOT NULL DEFAULT '',"
	"  dst_prefix TEXT NOT NULL DEFAULT '',"
	"  src_port_lo INTEGER NOT NULL DEFAULT 0,"
	"  src_port_hi INTEGER NOT NULL DEFAULT 65535,"
	"  dst_port_lo INTEGER NOT NULL DEFAULT 0,"
	"  dst_port_hi INTEGER NOT NULL DEFAULT 65535,"
	"  dscp_mask INTEGER NOT NULL DEFAULT 0,"	/* 64 bits, stored as signed */
	"  action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 15),"
	"  class TEXT NOT NULL CHECK (length(class) BETWEEN 1 AND 15),"
	"  steering TEXT NOT NULL CHECK (length(steering) BETWEEN 1 AND 15),"
	"  uplinks TEXT NOT NULL DEFAULT '',"
	"  weights TEXT NOT NULL DEFAULT '',"
	"  rate_kbps INTEGER NOT NULL DEFAULT 0 CHECK (rate_kbps >= 0),"
	"  burst_kb INTEGER NOT NULL DEFAULT 0 CHECK (burst_kb >= 0),"
	"  max_latency_ms INTEGER NOT NULL DEFAULT 0 CHECK (max_latency_ms >= 0),"
	"  created_at INTEGER NOT NULL,"
	"  CHECK (src_port_lo BETWEEN 0 AND src_port_hi AND src_port_hi <= 65535),"
	"  CHECK (dst_port_lo BETWEEN 0 AND dst_port_hi AND dst_port_hi <= 65535),"
	"  UNIQUE (tenant_id, name)"
	");"
	"CREATE INDEX policies_order ON policies(tenant_id, priority, id);",
	/*
	 * 5 -> 6: a tenant's bandwidth quota may be NULL, no cap (quotas are
	 * opt-in).  The table is made anew (see 3 -> 4); every row keeps its
	 * values, a cap included: only new tenants start without one.
	 */
	"CREATE TABLE tenants_new ("
	"  id INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 31),"
	"  description TEXT NOT NULL DEFAULT '' CHECK (length(CAST(description AS BLOB)) <= 255),"
	"  quota_networks INTEGER NOT NULL CHECK (quota_networks >= 0),"
	"  quota_bandwidth_kbps INTEGER CHECK (quota_bandwidth_kbps IS NULL OR quota_bandwidth_kbps >= 0),"
	"  quota_flows INTEGER NOT NULL CHECK (quota_flows >= 0),"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL"
	");"
	"INSERT INTO tenants_new(id, name, description, quota_networks, quota_bandwidth_kbps, "
	"  quota_flows, created_at, updated_at) "
	"  SELECT id, name, description, quota_networks, quota_bandwidth_kbps, quota_flows, "
	"  created_at, updated_at FROM tenants;"
	"DROP TABLE tenants;"
	"ALTER TABLE tenants_new RENAME TO tenants;",
};

const int store_schema_version =
    (int)(sizeof(store_migrations) / sizeof(store_migrations[0]));

int64_t
store_now(void)
{
	return (int64_t)time(NULL);
}

uint64_t
store_generation(struct store *st)
{
	return st->generation;
}

sqlite3 *
store_db(struct store *st)
{
	return st->db;
}

int
store_sql_err(struct store *st, int rc, const char *what, struct cnw_error *err)
{
	/* Conflicts with other rows are 409; a value the schema refuses is 400. */
	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY ||
	    rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return cnw_err(err, CNW_EEXIST, "%s: %s", what, sqlite3_errmsg(st->db));
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return cnw_err(err, CNW_EINVAL, "%s: %s", what, sqlite3_errmsg(st->db));
	log_warnx("store: %s: %s (%d)", what, sqlite3_errmsg(st->db), rc);
	return cnw_err(err, CNW_EINTERNAL, "%s: database error: %s", what,
	    sqlite3_errmsg(st->db));
}

static int
store_exec(struct store *st, const char *sql, const char *what, struct cnw_error *err)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return store_sql_err(st, rc, what, err);
	return 0;
}

static int
store_user_version(struct store *st, int *version, struct cnw_error *err)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_sql_err(st, rc, "read schema version", err);
	rc = sqlite3_step(s);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
	sqlite3_finalize(s);
	if (*version < 0)
		return store_sql_err(st, rc, "read schema version", err);
	return 0;
}

/* Apply migration `from` and bump user_version in one transaction. */
static int
store_migrate_one(struct store *st, int from, struct cnw_error *err)
{
	char bump[64];

	if (store_exec(st, "BEGIN IMMEDIATE", "migration", err) < 0)
		return -1;
	snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", from + 1);
	if (store_exec(st, store_migrations[from], "migration", err) < 0 ||
	    store_exec(st, bump, "migration", err) < 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (store_exec(st, "COMMIT", "migration", err) < 0)
		return -1;
	log_info("store: schema migrated to version %d", from + 1);
	return 0;
}

/* After a migration: no row may point at nothing. */
static int
store_fk_check(struct store *st, struct cnw_error *err)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(st->db, "PRAGMA foreign_key_check", -1, &s, NULL);

	if (rc != SQLITE_OK)
		return store_sql_err(st, rc, "foreign key check", err);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		char table[64];

		snprintf(table, sizeof(table), "%s", (const char *)sqlite3_column_text(s, 0));
		sqlite3_finalize(s);
		return cnw_err(err, CNW_EINTERNAL, "after migration: a row of %s refers to "
		    "nothing (PRAGMA foreign_key_check)", table);
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_sql_err(st, rc, "foreign key check", err);
}

static int
store_migrate(struct store *st, struct cnw_error *err)
{
	int version = 0;

	if (store_user_version(st, &version, err) < 0)
		return -1;
	if (version > store_schema_version)
		return cnw_err(err, CNW_EINTERNAL,
		    "database schema version %d is newer than this cnwd knows (%d); "
		    "run a newer cnwd", version, store_schema_version);
	if (version == store_schema_version)
		return 0;
	/*
	 * Foreign keys off while migrating (SQLite's way of remaking a table,
	 * "ALTER TABLE" in its documentation); checked before they are on again.
	 */
	if (store_exec(st, "PRAGMA foreign_keys = OFF", "migration", err) < 0)
		return -1;
	for (; version < store_schema_version; version++)
		if (store_migrate_one(st, version, err) < 0)
			return -1;
	if (store_fk_check(st, err) < 0)
		return -1;
	return store_exec(st, "PRAGMA foreign_keys = ON", "migration", err);
}

int
store_open(const char *path, struct store **out, struct cnw_error *err)
{
	struct store *st = calloc(1, sizeof(*st));
	int rc;

	if (st == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	rc = sqlite3_open_v2(path, &st->db,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		cnw_err(err, CNW_EINTERNAL, "open database %s: %s", path,
		    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
		store_close(st);
		return -1;
	}
	st->generation = 1;	/* 0 means "nothing cached" to the API */
	sqlite3_busy_timeout(st->db, 5000);
	sqlite3_extended_result_codes(st->db, 1);
	if (store_exec(st, "PRAGMA journal_mode = WAL", "set WAL", err) < 0 ||
	    store_exec(st, "PRAGMA synchronous = FULL", "set synchronous", err) < 0 ||
	    store_exec(st, "PRAGMA foreign_keys = ON", "enable foreign keys", err) < 0 ||
	    store_migrate(st, err) < 0) {
		store_close(st);
		return -1;
	}
	*out = st;
	return 0;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (unsigned i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	sqlite3_close_v2(st->db);
	free(st);
}

sqlite3_stmt *
store_stmt(struct store *st, const char *sql, struct cnw_error *err)
{
	sqlite3_stmt *s;
	int rc;

	for (unsigned i = 0; i < st->ncache; i++) {
		if (st->cache[i].sql == sql) {
			s = st->cache[i].stmt;
			sqlite3_reset(s);
			sqlite3_clear_bindings(s);
			return s;
		}
	}
	rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
	if (rc != SQLITE_OK) {
		store_sql_err(st, rc, "prepare", err);
		return NULL;
	}
	if (st->ncache == STORE_STMT_CACHE) {
		/* Only a programming error gets here: the set of SQL is fixed. */
		sqlite3_finalize(s);
		cnw_err(err, CNW_EINTERNAL, "statement cache full");
		return NULL;
	}
	st->cache[st->ncache].sql = sql;
	st->cache[st->ncache].stmt = s;
	st->ncache++;
	return s;
}

int
store_bind_text(struct store *st, sqlite3_stmt *s, int idx, const char *v, struct cnw_error *err)
{
	int rc = sqlite3_bind_text(s, idx, v, -1, SQLITE_TRANSIENT);

	return rc == SQLITE_OK ? 0 : store_sql_err(st, rc, "bind", err);
}

int
store_bind_int64(struct store *st, sqlite3_stmt *s, int idx, int64_t v, struct cnw_error *err)
{
	int rc = sqlite3_bind_int64(s, idx, v);

	return rc == SQLITE_OK ? 0 : store_sql_err(st, rc, "bind", err);
}

int
store_bind_null(struct store *st, sqlite3_stmt *s, int idx, struct cnw_error *err)
{
	int rc = sqlite3_bind_null(s, idx);

	return rc == SQLITE_OK ? 0 : store_sql_err(st, rc, "bind", err);
}

int
store_bind_blob(struct store *st, sqlite3_stmt *s, int idx, const void *v, int len,
    struct cnw_error *err)
{
	int rc = sqlite3_bind_blob(s, idx, v, len, SQLITE_TRANSIENT);

	return rc == SQLITE_OK ? 0 : store_sql_err(st, rc, "bind", err);
}

int
store_exec_stmt(struct store *st, sqlite3_stmt *s, const char *what, struct cnw_error *err)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_sql_err(st, rc, what, err);
	return 0;
}

int
store_tx(struct store *st, store_tx_fn fn, void *arg, struct cnw_error *err)
{
	static const char begin[] = "BEGIN IMMEDIATE", commit[] = "COMMIT";
	sqlite3_stmt *s;

	if (st->in_tx)
		return cnw_err(err, CNW_EINTERNAL, "nested transaction");
	if ((s = store_stmt(st, begin, err)) == NULL ||
	    store_exec_stmt(st, s, "begin transaction", err) < 0)
		return -1;
	st->in_tx = 1;
	if (fn(st, arg, err) < 0)
		goto rollback;
	if ((s = store_stmt(st, commit, err)) == NULL ||
	    store_exec_stmt(st, s, "commit", err) < 0)
		goto rollback;
	st->in_tx = 0;
	st->generation++;
	return 0;
rollback:
	/* ROLLBACK is not cached: it must work even when the cache is the problem. */
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	st->in_tx = 0;
	return -1;
}

int
store_audit(struct store *st, const char *actor, const char *action,
    const char *object, const char *detail, struct cnw_error *err)
{
	static const char sql[] =
	    "INSERT INTO audit(at, actor, action, object, detail) VALUES (?, ?, ?, ?, ?)";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL ||
	    store_bind_int64(st, s, 1, store_now(), err) < 0 ||
	    store_bind_text(st, s, 2, actor, err) < 0 ||
	    store_bind_text(st, s, 3, action, err) < 0 ||
	    store_bind_text(st, s, 4, object, err) < 0 ||
	    store_bind_text(st, s, 5, detail ? detail : "", err) < 0)
		return -1;
	return store_exec_stmt(st, s, "audit", err);
}

static int
store_admin_token_tx(struct store *st, void *arg, struct cnw_error *err)
{
	static const char del[] = "DELETE FROM tokens WHERE kind = 'admin'";
	static const char ins[] =
	    "INSERT INTO tokens(kind, tenant_id, hash, created_at) VALUES ('admin', NULL, ?, ?)";
	sqlite3_stmt *s;

	if ((s = store_stmt(st, del, err)) == NULL ||
	    store_exec_stmt(st, s, "remove admin token", err) < 0)
		return -1;
	if ((s = store_stmt(st, ins, err)) == NULL ||
	    store_bind_blob(st, s, 1, arg, TOKEN_HASH_LEN, err) < 0 ||
	    store_bind_int64(st, s, 2, store_now(), err) < 0 ||
	    store_exec_stmt(st, s, "store admin token", err) < 0)
		return -1;
	return store_audit(st, "cnwd", "token.admin.set", "admin", "", err);
}

int
store_admin_token_set(struct store *st, const uint8_t hash[32], struct cnw_error *err)
{
	static const char sql[] = "SELECT hash FROM tokens WHERE kind = 'admin'";
	sqlite3_stmt *s = store_stmt(st, sql, err);
	int same = 0;

	if (s == NULL)
		return -1;
	/* Unchanged at every restart: no write, no audit row. */
	if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == TOKEN_HASH_LEN)
		same = token_hash_equal(sqlite3_column_blob(s, 0), hash);
	sqlite3_reset(s);
	if (same)
		return 0;
	return store_tx(st, store_admin_token_tx, (void *)hash, err);
}

int
store_token_lookup(struct store *st, const uint8_t hash[32], int *is_admin,
    int64_t *tenant_id, struct cnw_error *err)
{
	static const char sql[] =
	    "SELECT kind = 'admin', ifnull(tenant_id, 0), hash FROM tokens WHERE hash = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);
	int rc, found = 0;

	if (s == NULL || store_bind_blob(st, s, 1, hash, TOKEN_HASH_LEN, err) < 0)
		return -1;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		/*
		 * The index found the row; compare again in constant time so the
		 * decision itself never depends on where two hashes differ.
		 */
		found = sqlite3_column_bytes(s, 2) == TOKEN_HASH_LEN &&
		    token_hash_equal(sqlite3_column_blob(s, 2), hash);
		*is_admin = sqlite3_column_int(s, 0);
		*tenant_id = sqlite3_column_int64(s, 1);
	} else if (rc != SQLITE_DONE) {
		sqlite3_reset(s);
		return store_sql_err(st, rc, "token lookup", err);
	}
	sqlite3_reset(s);
	return found;
}
