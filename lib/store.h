/*
 * The store: cnw's desired state in one SQLite database.
 *
 * WAL journal, foreign keys on, synchronous=FULL (a 201 survives a power
 * cut), schema migrations by PRAGMA user_version run at open.  Every
 * mutation goes through store_tx(), which wraps the caller's work and its
 * audit row in one BEGIN IMMEDIATE ... COMMIT, and rolls everything back on
 * any error: a rejected request changes nothing.
 *
 * SQL lives with the module that owns the rows (tenants/tenant_store.c for
 * tenants); this file only opens, migrates, caches prepared statements and
 * runs transactions.
 */
#ifndef CNW_STORE_H
#define CNW_STORE_H

#include <stdint.h>

#include <sqlite3.h>

#include "lib/error.h"

struct store;

/* Schema --------------------------------------------------------------- */
/* Number of migrations this build knows; user_version after a migration. */
extern const int store_schema_version;

/* Open and close ------------------------------------------------------- */
int store_open(const char *path, struct store **out, struct cnw_error *err);
void store_close(struct store *st);
sqlite3 *store_db(struct store *st);

/* Statements ----------------------------------------------------------- */
/*
 * A prepared statement for sql, cached by the address of the string (pass a
 * string literal or a static array).  It comes reset and unbound.
 */
sqlite3_stmt *store_stmt(struct store *st, const char *sql, struct cnw_error *err);
/* Turn a failed step/bind into a cnw_error: constraint errors are 409. */
int store_sql_err(struct store *st, int rc, const char *what, struct cnw_error *err);
/* Bind text, rejecting nothing; -1 with err on failure. */
int store_bind_text(struct store *st, sqlite3_stmt *s, int idx, const char *v, struct cnw_error *err);
int store_bind_int64(struct store *st, sqlite3_stmt *s, int idx, int64_t v, struct cnw_error *err);
int store_bind_null(struct store *st, sqlite3_stmt *s, int idx, struct cnw_error *err);
int store_bind_blob(struct store *st, sqlite3_stmt *s, int idx, const void *v, int len, struct cnw_error *err);
/* Step a statement that returns no rows. */
int store_exec_stmt(struct store *st, sqlite3_stmt *s, const char *what, struct cnw_error *err);

/*
 * A counter bumped by every committed transaction: a reader that saw
 * generation G knows nothing changed while it is still G (the API process
 * keeps rendered lists under it).
 */
uint64_t store_generation(struct store *st);

/* Transactions --------------------------------------------------------- */
typedef int (*store_tx_fn)(struct store *st, void *arg, struct cnw_error *err);
/* Run fn inside one transaction; commit if it returns 0, else roll back. */
int store_tx(struct store *st, store_tx_fn fn, void *arg, struct cnw_error *err);

/* Audit (call inside store_tx) ----------------------------------------- */
int store_audit(struct store *st, const char *actor, const char *action,
    const char *object, const char *detail, struct cnw_error *err);

/* Tokens --------------------------------------------------------------- */
/* Replace the admin token's hash (in its own transaction). */
int store_admin_token_set(struct store *st, const uint8_t hash[32], struct cnw_error *err);
/*
 * Look a token hash up.  Returns 1 and fills *is_admin and *tenant_id
 * (0 for the admin) if known, 0 if unknown, -1 on error.
 */
int store_token_lookup(struct store *st, const uint8_t hash[32], int *is_admin,
    int64_t *tenant_id, struct cnw_error *err);

int64_t store_now(void);

#endif
