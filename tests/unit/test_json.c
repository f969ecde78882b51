/*
 * The API's JSON text: reals as a person would write them, and every
 * real read back as the same double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"

/* The text of v, compact; v is released. */
static char *
dump(json_t *v)
{
	char *s = api_json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	json_decref(v);
	assert_non_null(s);
	return s;
}

static void
test_short_decimals_stay_short(void **state)
{
	char *s = dump(json_pack("{s:f, s:f, s:f, s:f}", "loss_percent", 1000 / 10000.0,
	    "delay_ms", 300 / 1000.0, "jitter_ms", 2.5, "slot_ms", 1.0));

	assert_string_equal(s, "{\"loss_percent\":0.1,\"delay_ms\":0.3,\"jitter_ms\":2.5,"
	    "\"slot_ms\":1.0}");
	free(s);
}

/* A real that needs 17 digits gets them, and so does the whole document. */
static void
test_every_real_reads_back(void **state)
{
	static const double v[] = {
		0.1 + 0.2, 1.0 / 3, 123456.7890123, 1e-300, 1.7976931348623157e308, -0.1, 0.1,
	};
	json_t *a = json_array();
	json_error_t jerr;
	json_t *back;
	char *s;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		json_array_append_new(a, json_real(v[i]));
	s = dump(json_pack("{s:{s:o}}", "nested", "a", a));
	back = json_loads(s, 0, &jerr);
	assert_non_null(back);
	a = json_object_get(json_object_get(back, "nested"), "a");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		assert_true(json_real_value(json_array_get(a, i)) == v[i]);
	json_decref(back);
	free(s);
}

static void
test_no_reals(void **state)
{
	char *s = dump(json_pack("{s:i, s:s, s:n}", "n", 7, "s", "x", "z"));

	assert_string_equal(s, "{\"n\":7,\"s\":\"x\",\"z\":null}");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_decimals_stay_short),
		cmocka_unit_test(test_every_real_reads_back),
		cmocka_unit_test(test_no_reals),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
