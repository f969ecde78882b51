/*
 * Validation of tenant input: names, descriptions, quotas; and the API's
 * strict JSON body parsing built on the same rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <sys/socket.h>

#include "api/api.h"
#include "lib/addr.h"
#include "tenants/network.h"
#include "tenants/tenant.h"

static void
test_names(void **state)
{
	static const char *const good[] = { "a", "cameras", "a-b", "z9", "a0-", "abcdefghijklmnopqrstuvwxyz01234" };
	static const char *const bad[] = { "", "A", "1abc", "-a", "a_b", "a.b", "a/b", "caméra",
		"abcdefghijklmnopqrstuvwxyz012345", " a", "a " };
	struct cnw_error err;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(tenant_validate_name("tenant", good[i], &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		assert_int_equal(tenant_validate_name("tenant", bad[i], &err), -1);
		assert_int_equal(err.kind, CNW_EINVAL);
		assert_non_null(strstr(err.msg, "^[a-z][a-z0-9-]{0,30}$"));
	}
}

static void
test_descriptions(void **state)
{
	struct cnw_error err;
	char big[300];

	assert_int_equal(tenant_validate_description("", &err), 0);
	assert_int_equal(tenant_validate_description("traffic cameras, zone 3", &err), 0);
	assert_int_equal(tenant_validate_description("caméras ✓", &err), 0);
	assert_int_equal(tenant_validate_description("tab\there", &err), -1);
	assert_int_equal(tenant_validate_description("del\x7f", &err), -1);
	assert_int_equal(tenant_validate_description("\xc3\x28", &err), -1);	/* bad UTF-8 */
	assert_int_equal(tenant_validate_description("\xed\xa0\x80", &err), -1);	/* surrogate */
	assert_int_equal(tenant_validate_description("\xc0\xaf", &err), -1);	/* overlong */
	memset(big, 'x', 255);
	big[255] = '\0';
	assert_int_equal(tenant_validate_description(big, &err), 0);
	memset(big, 'x', 256);
	big[256] = '\0';
	assert_int_equal(tenant_validate_description(big, &err), -1);
	assert_non_null(strstr(err.msg, "255"));
}

static void
test_quotas(void **state)
{
	struct tenant_quotas q;
	struct cnw_error err;
	int flows = tenant_quota_index("flows");

	assert_true(flows >= 0);
	assert_int_equal(tenant_quota_index("nope"), -1);
	tenant_quotas_default(&q);
	assert_int_equal(q.networks, 16);
	/* bandwidth is opt-in: no cap until one is set, and only it may be none */
	assert_true(q.bandwidth_kbps == TENANT_QUOTA_NONE);
	assert_int_equal(q.flows, 65536);
	assert_int_equal(tenant_validate_quota((unsigned)tenant_quota_index("bandwidth_kbps"),
	    TENANT_QUOTA_NONE, &err), 0);
	assert_int_equal(tenant_validate_quota((unsigned)tenant_quota_index("bandwidth_kbps"),
	    100000001, &err), -1);
	assert_non_null(strstr(err.msg, "or null"));
	assert_int_equal(tenant_validate_quota((unsigned)flows, TENANT_QUOTA_NONE, &err), -1);
	assert_int_equal(tenant_validate_quota((unsigned)flows, 16777216, &err), 0);
	assert_int_equal(tenant_validate_quota((unsigned)flows, 16777217, &err), -1);
	assert_non_null(strstr(err.msg, "flows"));
	q.networks = 5000;
	/* only the given fields are checked */
	assert_int_equal(tenant_validate_quotas(&q, 0, &err), 0);
	assert_int_equal(tenant_validate_quotas(&q, TENANT_F_QUOTA0, &err), -1);
}

static void
test_path_match(void **state)
{
	char p[API_MAX_PARAMS][API_PARAM_MAX];
	unsigned n;

	assert_int_equal(api_path_match("/v1", "/v1", p, &n), 1);
	assert_int_equal(api_path_match("/v1", "/v1/", p, &n), 0);
	assert_int_equal(api_path_match("/v1/tenants/{tenant}", "/v1/tenants/abc", p, &n), 1);
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "abc");
	assert_int_equal(api_path_match("/v1/tenants/{tenant}", "/v1/tenants/", p, &n), 0);
	assert_int_equal(api_path_match("/v1/tenants/{tenant}", "/v1/tenants/a/b", p, &n), 0);
	assert_int_equal(api_path_match("/v1/tenants", "/v1/tenantsx", p, &n), 0);
}

/* Bodies that no field table accepts: not JSON, not an object, duplicates, NULs. */
static struct api_response
parse(const char *body, struct tenant_spec *s)
{
	struct api_response resp = { 0 };
	uint32_t given;

	memset(s, 0, sizeof(*s));
	api_json_parse(body, strlen(body), NULL, 0, s, &given, &resp);
	return resp;
}

static void
test_json_rejects(void **state)
{
	static const char *const bodies[] = { "", "{", "[]", "\"x\"", "{\"a\":1}", "{\"a\":1,\"a\":2}",
		"{\"x\":\"\\u0000\"}" };
	struct tenant_spec s;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct api_response r = parse(bodies[i], &s);

		assert_int_equal(r.status, 400);
		assert_true(r.problem);
		assert_non_null(json_object_get(r.json, "detail"));
		json_decref(r.json);
	}
}

static void
test_prefixes(void **state)
{
	struct prefix a, b, h;
	char s[NETWORK_CIDR_MAX];

	assert_int_equal(prefix_parse("10.10.0.0/24", &a), 0);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(a.plen, 24);
	assert_true(prefix_is_network(&a));
	prefix_host(&a, 1, &h);
	prefix_format(&h, s, sizeof(s));
	assert_string_equal(s, "10.10.0.1/24");
	assert_int_equal(prefix_parse("10.10.0.128/25", &b), 0);
	assert_true(prefix_overlaps(&a, &b));
	assert_int_equal(prefix_parse("10.10.1.0/24", &b), 0);
	assert_false(prefix_overlaps(&a, &b));
	assert_int_equal(prefix_parse("fd00:10::/64", &b), 0);
	assert_false(prefix_overlaps(&a, &b));	/* families differ */
	prefix_host(&b, 1, &h);
	prefix_format(&h, s, sizeof(s));
	assert_string_equal(s, "fd00:10::1/64");
	/* carries across bytes */
	assert_int_equal(prefix_parse("10.0.0.0/8", &a), 0);
	prefix_host(&a, 256 + 1, &h);
	prefix_format(&h, s, sizeof(s));
	assert_string_equal(s, "10.0.1.1/8");
	static const char *const bad[] = { "", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33",
		"10.0.0.0/-1", "10.0.0/8", "fd00::/129", "10.0.0.0/8x", "x/8", "10.0.0.0/0008" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(prefix_parse(bad[i], &a), -1);
}

static void
test_subnets(void **state)
{
	char out[NETWORK_CIDR_MAX];
	struct cnw_error err;

	assert_int_equal(network_validate_subnet("subnet", "10.10.0.0/24", AF_INET, out,
	    sizeof(out), &err), 0);
	assert_string_equal(out, "10.10.0.0/24");
	assert_int_equal(network_validate_subnet("subnet6", "FD00:10:0::/64", AF_INET6, out,
	    sizeof(out), &err), 0);
	assert_string_equal(out, "fd00:10::/64");	/* canonical */
	assert_int_equal(network_validate_subnet("subnet", "10.10.0.7/24", AF_INET, out,
	    sizeof(out), &err), -1);
	assert_non_null(strstr(err.msg, "did you mean 10.10.0.0/24?"));
	assert_int_equal(network_validate_subnet("subnet", "10.10.0.0/31", AF_INET, out,
	    sizeof(out), &err), -1);
	assert_int_equal(network_validate_subnet("subnet", "fd00::/64", AF_INET, out,
	    sizeof(out), &err), -1);
	assert_int_equal(network_validate_subnet("subnet", "127.0.0.0/16", AF_INET, out,
	    sizeof(out), &err), -1);
	assert_non_null(strstr(err.msg, "loopback"));
	assert_int_equal(network_validate_subnet("subnet6", "ff02::/64", AF_INET6, out,
	    sizeof(out), &err), -1);
	assert_int_equal(route_validate_via("fastpath", &err), 0);
	assert_int_equal(route_validate_via("gateway", &err), -1);
}

static void
test_netns_names(void **state)
{
	char name[NETWORK_NETNS_MAX];

	assert_int_equal(network_netns_name("cnw", "a-b", "c", name, sizeof(name)), 0);
	assert_string_equal(name, "cnw.a-b.c");
	/* tenant a-b network c and tenant a network b-c do not collide */
	char other[NETWORK_NETNS_MAX];
	assert_int_equal(network_netns_name("cnw", "a", "b-c", other, sizeof(other)), 0);
	assert_string_not_equal(name, other);
	assert_int_equal(network_netns_name("cnw", "a", "b", name, 6), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_descriptions),
		cmocka_unit_test(test_quotas),
		cmocka_unit_test(test_path_match),
		cmocka_unit_test(test_json_rejects),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_subnets),
		cmocka_unit_test(test_netns_names),
	};
	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
