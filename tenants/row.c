/*
 * The generic reading and deleting of a noun's rows; see row.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/store.h"
#include "tenants/row.h"

const char *
row_text(sqlite3_stmt *s, int col)
{
	const char *v = (const char *)sqlite3_column_text(s, col);

	return v ? v : "";
}

void
row_str(char *out, size_t len, sqlite3_stmt *s, int col)
{
	snprintf(out, len, "%s", row_text(s, col));
}

/* The rows of s, read whole into a new array of *n records. */
static int
row_read_all(struct store *st, const struct row_desc *d, sqlite3_stmt *s, uint8_t **all,
    size_t *n, struct cnw_error *err)
{
	char what[64];
	size_t cap = 0;
	uint8_t *m;
	int rc;

	*all = NULL;
	*n = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((m = realloc(*all, cap * d->size)) == NULL) {
				cnw_err(err, CNW_EINTERNAL, "out of memory");
				goto fail;
			}
			*all = m;
		}
		if (d->from_row(s, *all + *n * d->size, err) < 0)
			goto fail;
		(*n)++;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	free(*all);
	snprintf(what, sizeof(what), "list %s", d->many);
	return store_sql_err(st, rc, what, err);
fail:
	sqlite3_reset(s);
	free(*all);
	return -1;
}

int
row_each(struct store *st, const struct row_desc *d, sqlite3_stmt *s, row_each_fn fn,
    void *arg, struct cnw_error *err)
{
	uint8_t *all;
	size_t n;
	int rc = 0;

	if (row_read_all(st, d, s, &all, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (d->load != NULL && d->load(st, all + i * d->size, err) < 0)
			rc = -1;
		else if (fn(all + i * d->size, arg) < 0)
			rc = cnw_err(err, CNW_EINTERNAL, "listing %s failed", d->many);
	}
	free(all);
	return rc;
}

int
row_get(struct store *st, const struct row_desc *d, sqlite3_stmt *s, void *out,
    struct cnw_error *err)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW && d->from_row(s, out, err) < 0) {
		sqlite3_reset(s);
		return -1;
	}
	sqlite3_reset(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return store_sql_err(st, rc, d->read, err);
	return d->load != NULL && d->load(st, out, err) < 0 ? -1 : 1;
}

int
row_delete(struct store *st, const struct row_desc *d, int64_t id, struct cnw_error *err)
{
	char what[64];
	sqlite3_stmt *s = store_stmt(st, d->delete_sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, id, err) < 0)
		return -1;
	snprintf(what, sizeof(what), "delete %s", d->one);
	return store_exec_stmt(st, s, what, err);
}
