/*
 * A temporary SQLite store for a cmocka test: a new directory under /tmp
 * with a new database in it, and both gone afterwards.
 */
#ifndef CNW_FIXTURE_STORE_H
#define CNW_FIXTURE_STORE_H

#include <stdint.h>

struct store;

struct fixture_store {
	char dir[64];
	char path[96];			/* dir/cnw.db */
	struct store *st;
};

/* Open it (name: a word for the directory's name); the test fails if it cannot. */
void fixture_store_open(struct fixture_store *fs, const char *name);
/* Close the store (if open) and remove the directory. */
void fixture_store_close(struct fixture_store *fs);
/* The one integer a query such as "SELECT count(*) FROM ..." answers. */
int64_t fixture_count(struct store *st, const char *sql);

#endif
