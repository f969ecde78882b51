/*
 * The temporary store of the unit tests; see fixture_store.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "lib/store.h"
#include "tests/unit/fixture_store.h"

void
fixture_store_open(struct fixture_store *fs, const char *name)
{
	struct cnw_error err = { 0 };

	snprintf(fs->dir, sizeof(fs->dir), "/tmp/cnw-test-%s.XXXXXX", name);
	assert_non_null(mkdtemp(fs->dir));
	snprintf(fs->path, sizeof(fs->path), "%s/cnw.db", fs->dir);
	if (store_open(fs->path, &fs->st, &err) < 0)
		fail_msg("store_open %s: %s", fs->path, err.msg);
}

void
fixture_store_close(struct fixture_store *fs)
{
	char cmd[160];

	if (fs->st != NULL)
		store_close(fs->st);
	fs->st = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fs->dir);
	assert_int_equal(system(cmd), 0);
}

int64_t
fixture_count(struct store *st, const char *sql)
{
	sqlite3_stmt *s;
	int64_t n;

	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}
