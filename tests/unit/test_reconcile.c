/*
 * The reconcile loop (cnwd/reconcile.c) against a real temporary store:
 * a network row is made real in the kernel and its status recorded, a
 * namespace removed by hand comes back, an orphan namespace (no row) goes.
 * The kernel's part needs root (namespaces); as anyone else those tests
 * are skipped, and only the store's part runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cnwd/cnwd.h"
#include "cnwd/reconcile.h"
#include "lib/ev.h"
#include "lib/netns.h"
#include "lib/store.h"
#include "tenants/network.h"
#include "tests/unit/fixture_store.h"

struct fixture {
	struct fixture_store s;
	struct cnwd *d;
	char prefix[CNW_INSTANCE_MAX + 2];	/* "INSTANCE." of our namespaces */
};

static const struct principal admin = { .is_admin = 1, .name = "admin" };

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	fixture_store_open(&f->s, "reconcile");
	assert_non_null(f->d = calloc(1, sizeof(*f->d)));
	assert_non_null(f->d->ev = ev_new());
	f->d->store = f->s.st;
	/* Our own instance: the pass removes only namespaces under its prefix. */
	snprintf(f->d->cfg.instance, sizeof(f->d->cfg.instance), "ut%d", (int)getpid() % 100000);
	snprintf(f->prefix, sizeof(f->prefix), "%s.", f->d->cfg.instance);
	*state = f;
	return 0;
}

static int
remove_ns(const char *name, void *arg)
{
	struct cnw_error err = { 0 };

	(void)arg;
	netns_delete(name, &err);
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	reconcile_forget_all(f->d);
	if (geteuid() == 0)
		netns_each(f->prefix, remove_ns, NULL);
	ev_free(f->d->ev);
	fixture_store_close(&f->s);
	free(f->d);
	free(f);
	return 0;
}

static void
need_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* A tenant and a network of it, as rows only (status pending). */
static struct network
make_network(struct fixture *f, const char *tenant, const char *name, const char *subnet)
{
	struct cnw_error err = { 0 };
	struct tenant_spec ts;
	struct network_spec ns;
	struct tenant t;
	struct network n;
	char token[TOKEN_HEX_LEN + 1];

	memset(&ts, 0, sizeof(ts));
	snprintf(ts.name, sizeof(ts.name), "%s", tenant);
	if (tenant_get(f->s.st, &admin, tenant, &t, &err) < 0 &&
	    tenant_create(f->s.st, &admin, "admin", &ts, &t, token, &err) < 0)
		fail_msg("tenant %s: %s", tenant, err.msg);
	memset(&ns, 0, sizeof(ns));
	snprintf(ns.tenant, sizeof(ns.tenant), "%s", tenant);
	snprintf(ns.name, sizeof(ns.name), "%s", name);
	snprintf(ns.subnet, sizeof(ns.subnet), "%s", subnet);
	if (network_create(f->s.st, &admin, "admin", &ns, &n, &err) < 0)
		fail_msg("network %s: %s", name, err.msg);
	assert_string_equal(n.status, "pending");
	return n;
}

static void
netns_of(struct fixture *f, const struct network *n, char *out, size_t len)
{
	assert_int_equal(network_netns_name(f->d->cfg.instance, n->tenant, n->name, out, len), 0);
}

static void
test_gone_network_is_404(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct network n;

	assert_int_equal(reconcile_network(f->d, 4242, &n, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_string_equal(err.msg, "network 4242 is gone");
}

static void
test_network_made_ready(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct network n = make_network(f, "alpha", "lab", "10.201.0.0/24"), row;
	char ns[NETWORK_NETNS_MAX];

	need_root();
	netns_of(f, &n, ns, sizeof(ns));
	assert_false(netns_exists(ns));
	if (reconcile_network(f->d, n.id, &n, &err) < 0)
		fail_msg("reconcile: %s", err.msg);
	assert_string_equal(n.status, "ready");
	assert_true(netns_exists(ns));
	/* The observed status is the store's too. */
	assert_int_equal(network_row_get_id(f->s.st, n.id, &row, &err), 1);
	assert_string_equal(row.status, "ready");
	assert_string_equal(row.status_detail, "");
}

static void
test_pass_repairs_and_removes_orphans(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct network a = make_network(f, "alpha", "one", "10.202.0.0/24");
	struct network b = make_network(f, "beta", "two", "10.203.0.0/24"), row;
	char ns_a[NETWORK_NETNS_MAX], ns_b[NETWORK_NETNS_MAX], orphan[NETWORK_NETNS_MAX];

	need_root();
	netns_of(f, &a, ns_a, sizeof(ns_a));
	netns_of(f, &b, ns_b, sizeof(ns_b));
	snprintf(orphan, sizeof(orphan), "%sghost.net", f->prefix);
	reconcile_all(f->d);
	assert_true(netns_exists(ns_a));
	assert_true(netns_exists(ns_b));

	/* One removed by hand, one that no row wants. */
	reconcile_forget(f->d, a.id);
	assert_int_equal(netns_delete(ns_a, &err), 0);
	assert_int_equal(netns_create(orphan, &err), 0);
	reconcile_all(f->d);
	assert_true(netns_exists(ns_a));
	assert_true(netns_exists(ns_b));
	assert_false(netns_exists(orphan));
	assert_int_equal(network_row_get_id(f->s.st, a.id, &row, &err), 1);
	assert_string_equal(row.status, "ready");

	/* A row gone: its namespace is an orphan now. */
	assert_int_equal(network_delete(f->s.st, &admin, "admin", "beta", "two", &row, &err), 0);
	reconcile_all(f->d);
	assert_false(netns_exists(ns_b));
	assert_true(netns_exists(ns_a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gone_network_is_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_network_made_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pass_repairs_and_removes_orphans, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
