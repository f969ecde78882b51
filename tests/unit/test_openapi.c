/*
 * api/openapi.yaml and the served route table agree exactly: a route served
 * that the document lacks fails, and so does a documented route not served.
 *
 * The document is read with a line scanner: paths are the keys at two
 * spaces under "paths:", operations the keys at four spaces below them
 * (the document keeps to that layout; see its header).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

#define MAX_OPS 64

struct op {
	char method[8];
	char path[128];
	int matched;
};

static unsigned
read_doc(struct op *ops)
{
	FILE *f = fopen(SRCDIR "/api/openapi.yaml", "r");
	char line[512], path[128] = "";
	int in_paths = 0;
	unsigned n = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (strcmp(line, "paths:") == 0) {
			in_paths = 1;
			continue;
		}
		if (!in_paths)
			continue;
		if (line[0] != ' ' && line[0] != '\0' && line[0] != '#')
			break;		/* next top-level key */
		if (strncmp(line, "  /", 3) == 0) {
			snprintf(path, sizeof(path), "%.120s", line + 2);
			path[strcspn(path, ":")] = '\0';
		} else if (strncmp(line, "    ", 4) == 0 && line[4] != ' ' && path[0] != '\0') {
			static const char *const methods[] = { "get", "post", "put", "patch", "delete" };

			for (size_t i = 0; i < 5; i++) {
				size_t l = strlen(methods[i]);
				if (strncmp(line + 4, methods[i], l) == 0 && line[4 + l] == ':') {
					assert_true(n < MAX_OPS);
					for (size_t j = 0; j <= l; j++)
						ops[n].method[j] = (char)toupper((unsigned char)methods[i][j]);
					snprintf(ops[n].path, sizeof(ops[n].path), "%s", path);
					n++;
				}
			}
		}
	}
	fclose(f);
	return n;
}

static void
test_routes_match_document(void **state)
{
	struct op ops[MAX_OPS];
	unsigned n = read_doc(ops);

	assert_true(n > 0);
	for (size_t r = 0; r < api_nroutes; r++) {
		int found = 0;

		for (unsigned i = 0; i < n; i++) {
			if (strcmp(ops[i].method, api_routes[r].method) == 0 &&
			    strcmp(ops[i].path, api_routes[r].pattern) == 0) {
				ops[i].matched = 1;
				found = 1;
			}
		}
		if (!found)
			fail_msg("served route %s %s is not in api/openapi.yaml",
			    api_routes[r].method, api_routes[r].pattern);
	}
	for (unsigned i = 0; i < n; i++)
		if (!ops[i].matched)
			fail_msg("api/openapi.yaml documents %s %s, which is not served",
			    ops[i].method, ops[i].path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_match_document),
	};
	return cmocka_run_group_tests_name("openapi", tests, NULL, NULL);
}
