/*
 * A noun's rows in the store, described once: how a row becomes a record
 * and what the messages call it.  The generic each, get and delete below
 * serve every noun of tenants/; a noun keeps only its SQL text (a static
 * string per statement: the store caches statements by their address)
 * and its from_row function.
 */
#ifndef CNW_ROW_H
#define CNW_ROW_H

#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

struct sqlite3_stmt;
struct store;

/* Called once per record; a negative return stops the listing. */
typedef int (*row_each_fn)(const void *row, void *arg);

struct row_desc {
	const char *one;		/* "tenant": "delete tenant" */
	const char *many;		/* "tenants": "list tenants", "listing tenants failed" */
	const char *read;		/* what a failed get says: "read tenant" */
	const char *delete_sql;		/* "DELETE FROM tenants WHERE id = ?" (ROW_DELETE_SQL) */
	size_t size;			/* of the record */
	/* The row s is on into out (whole: it clears out first). */
	int (*from_row)(struct sqlite3_stmt *s, void *out, struct cnw_error *err);
	/* A second query that completes a record (its uplinks), or NULL. */
	int (*load)(struct store *st, void *out, struct cnw_error *err);
};

#define ROW_DELETE_SQL(table) "DELETE FROM " table " WHERE id = ?"

/*
 * Every row of s (prepared and bound) to fn.  Rows are read whole first,
 * then completed (load), then handed out: no statement is left open while
 * fn runs, so fn may use the store.
 */
int row_each(struct store *st, const struct row_desc *d, struct sqlite3_stmt *s,
    row_each_fn fn, void *arg, struct cnw_error *err);
/* The first row of s into out: 1 found, 0 not found, -1 error. */
int row_get(struct store *st, const struct row_desc *d, struct sqlite3_stmt *s, void *out,
    struct cnw_error *err);
/* The row of this id gone (call inside store_tx). */
int row_delete(struct store *st, const struct row_desc *d, int64_t id, struct cnw_error *err);
/* A text column ("" for NULL), and one copied into a fixed char array. */
const char *row_text(struct sqlite3_stmt *s, int col);
void row_str(char *out, size_t len, struct sqlite3_stmt *s, int col);

#endif
