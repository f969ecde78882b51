/*
 * The parent's data-path sync (cnwd/datapath.c): what it works out from the
 * store and sends the fastpath worker, read from the worker's end of a real
 * socketpair, with the rows in a real SQLite file.
 *
 *   sync        two uplinks, a peer with an endpoint over each, a network
 *               of a tenant over both (in its own order) and a policy naming
 *               one: each uplink's capacity, two eventfds per port, the
 *               tenant's quota and its rule with the uplink's port, the
 *               network with its subnet, its uplinks' ports and the peer's
 *               endpoints; uplinks and tenant before the network.  As root
 *               the drivers start (an uplink's UDP socket on lo, the
 *               network's TUN device in the namespace made for it) and
 *               each port is told up.
 *   again       a sync with nothing changed sends the network alone.
 *   gone        an uplink removed: its port reset, the tenant's rules sent
 *               again (their ports may have moved), the network again.
 *   restart     a new worker is told everything again.
 *   forget      a tenant that is gone is forgotten.
 *
 * The drivers are this program run again as `--child driver` by the
 * process table, standing in for the driver host: they read what they are
 * sent until the parent closes their socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "netfn/overlay.h"
#include "netfn/worker.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "lib/ev.h"
#include "lib/msg.h"
#include "lib/store.h"
#include "tenants/network.h"
#include "tenants/policy.h"
#include "tenants/tenant.h"
#include "tenants/uplink.h"
#include "tests/unit/fixture_store.h"

#define MSGS_MAX 64

struct fixture {
	struct fixture_store s;
	struct cnwd d;
	int wfd;			/* the worker's end */
	struct tenant alpha;
	struct network lan;
	int netns_made;
	struct msg *msgs;		/* what the worker read last */
	unsigned n;
};

static const struct principal admin = { .is_admin = 1, .name = "admin" };

static void
make_uplink(struct fixture *f, const char *name, const char *address)
{
	struct uplink u = { .interface = "lo", .driver = "udp" }, out;
	struct cnw_error err = { 0 };

	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.address, sizeof(u.address), "%s", address);
	if (uplink_create(f->d.store, &admin, "admin", &u, NULL, &out, &err) < 0)
		fail_msg("uplink %s: %s", name, err.msg);
}

static void
make_rows(struct fixture *f)
{
	struct cnw_error err = { 0 };
	struct tenant_spec ts;
	struct peer p, pout;
	struct network_spec ns;
	struct policy_spec ps;
	struct policy pol;
	char token[65];

	memset(&ts, 0, sizeof(ts));
	snprintf(ts.name, sizeof(ts.name), "alpha");
	assert_int_equal(tenant_create(f->d.store, &admin, "admin", &ts, &f->alpha, token, &err), 0);
	make_uplink(f, "lte", "127.0.0.1:47901");
	make_uplink(f, "sat", "127.0.0.1:47902");
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "hq");
	p.nendpoints = 2;
	snprintf(p.endpoints[0].uplink, sizeof(p.endpoints[0].uplink), "lte");
	snprintf(p.endpoints[0].endpoint, sizeof(p.endpoints[0].endpoint), "192.0.2.1:4789");
	snprintf(p.endpoints[1].uplink, sizeof(p.endpoints[1].uplink), "sat");
	snprintf(p.endpoints[1].endpoint, sizeof(p.endpoints[1].endpoint), "[2001:db8::1]:4790");
	if (peer_create(f->d.store, &admin, "admin", &p, &pout, &err) < 0)
		fail_msg("peer: %s", err.msg);
	memset(&ns, 0, sizeof(ns));
	snprintf(ns.tenant, sizeof(ns.tenant), "alpha");
	snprintf(ns.name, sizeof(ns.name), "lan");
	snprintf(ns.subnet, sizeof(ns.subnet), "10.10.0.0/24");
	snprintf(ns.peer, sizeof(ns.peer), "hq");
	ns.nuplinks = 2;
	snprintf(ns.uplinks[0], sizeof(ns.uplinks[0]), "sat");
	snprintf(ns.uplinks[1], sizeof(ns.uplinks[1]), "lte");
	if (network_create(f->d.store, &admin, "admin", &ns, &f->lan, &err) < 0)
		fail_msg("network: %s", err.msg);
	memset(&ps, 0, sizeof(ps));
	snprintf(ps.p.tenant, sizeof(ps.p.tenant), "alpha");
	snprintf(ps.p.name, sizeof(ps.p.name), "voice");
	ps.fields |= POLICY_F_UPLINKS;
	ps.p.nuplinks = 1;
	snprintf(ps.p.uplinks[0], sizeof(ps.p.uplinks[0]), "sat");
	if (policy_create(f->d.store, &admin, "admin", &ps, &pol, &err) < 0)
		fail_msg("policy: %s", err.msg);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cnw_error err = { 0 };
	struct cnwd *d = &f->d;
	int sv[2];

	assert_non_null(f);
	fixture_store_open(&f->s, "datapath");
	d->store = f->s.st;
	snprintf(d->cfg.instance, sizeof(d->cfg.instance), "dpt%u", (unsigned)getpid() % 10000);
	assert_non_null(d->ev = ev_new());
	d->procs.ev = d->ev;
	d->procs.ctx = d;
	d->dp.region_fd = d->dp.stats_fd = d->dp.flows_fd = -1;
	assert_int_equal(datapath_new_region(&d->dp, &err), 0);
	make_rows(f);

	/* The worker: a slot of the table whose socket is ours, and no process. */
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	d->dp.worker = proc_table_add(&d->procs, proc_role_find("worker"), NULL, "worker", &err);
	assert_non_null(d->dp.worker);
	d->dp.worker->sock = sv[0];
	d->dp.worker->state = PROC_RUNNING;
	f->wfd = sv[1];
	assert_int_equal(fcntl(f->wfd, F_SETFL, O_NONBLOCK), 0);

	/* As root, the network's namespace and its cnw0, for its driver's device. */
	if (geteuid() == 0) {
		int created = 0;

		if (network_apply(d->cfg.instance, &f->lan, NULL, 0, &created, &err) < 0)
			fail_msg("network namespace: %s", err.msg);
		f->netns_made = 1;
	}
	assert_non_null(f->msgs = calloc(MSGS_MAX, sizeof(*f->msgs)));
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };

	proc_stop_all(&f->d.procs, 2000);
	datapath_stop(&f->d);
	close(f->wfd);
	if (f->netns_made && network_remove(f->d.cfg.instance, &f->lan, &err) < 0)
		fail_msg("network namespace: %s", err.msg);
	for (unsigned i = 0; i < f->n; i++)
		if (f->msgs[i].fd >= 0)
			close(f->msgs[i].fd);
	ev_free(f->d.ev);
	fixture_store_close(&f->s);
	free(f->msgs);
	free(f);
	return 0;
}

/* Read what the worker was sent since the last call. */
static void
drain(struct fixture *f)
{
	for (unsigned i = 0; i < f->n; i++)
		if (f->msgs[i].fd >= 0)
			close(f->msgs[i].fd);
	f->n = 0;
	for (;;) {
		int rc;

		assert_true(f->n < MSGS_MAX);
		rc = msg_recv(f->wfd, &f->msgs[f->n]);
		if (rc < 0 && errno == EAGAIN)
			return;
		assert_int_equal(rc, 1);
		f->n++;
	}
}

/* How many messages of type there are; the index of the first in *first. */
static unsigned
count(const struct fixture *f, uint32_t type, unsigned *first)
{
	unsigned n = 0;

	for (unsigned i = 0; i < f->n; i++)
		if (f->msgs[i].hdr.type == type && n++ == 0 && first != NULL)
			*first = i;
	return n;
}

static unsigned
port_of(const struct fixture *f, int kind, const char *name)
{
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (f->d.dp.ports[i].used && f->d.dp.ports[i].kind == kind &&
		    strcmp(f->d.dp.ports[i].name, name) == 0)
			return i;
	fail_msg("no port for %s", name);
	return PORT_MAX;
}

/* The worker was told port's state is state (the last message about it). */
static void
assert_port_state(const struct fixture *f, unsigned port, uint32_t state)
{
	int found = 0;

	for (unsigned i = 0; i < f->n; i++) {
		const struct worker_port_cfg *c = (const void *)f->msgs[i].data;

		if (f->msgs[i].hdr.type == MSG_WORKER_PORT && c->port == port) {
			found = 1;
			assert_int_equal(c->state, state);
		}
	}
	assert_true(found);
}

static void
check_tenant(const struct fixture *f, unsigned at, unsigned sat)
{
	const struct worker_tenant_cfg *t = (const void *)f->msgs[at].data;

	assert_int_equal(t->id, f->alpha.id);
	assert_int_equal(t->flows_max, f->alpha.quotas.flows);
	assert_int_equal(t->bandwidth_kbps, f->alpha.quotas.bandwidth_kbps);
	assert_int_equal(t->nrules, 1);
	assert_int_equal(t->rules[0].nuplinks, 1);
	assert_int_equal(t->rules[0].uplink_port[0], sat);
}

static void
check_network(const struct fixture *f, unsigned at, unsigned lte, unsigned sat, unsigned tap)
{
	const struct worker_net_cfg *w = (const void *)f->msgs[at].data;
	static const uint8_t v4[4] = { 192, 0, 2, 1 }, net[4] = { 10, 10, 0, 0 };
	uint8_t v6[16];

	assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", v6), 1);
	assert_int_equal(w->id, overlay_network_id("alpha", "lan"));
	assert_int_equal(w->tenant, f->alpha.id);
	assert_int_equal(w->tap_port, tap);
	assert_memory_equal(w->subnet4, net, 4);
	assert_int_equal(w->plen4, 24);
	assert_int_equal(w->has6, 0);
	/* In the network's order: sat, then lte. */
	assert_int_equal(w->nuplinks, 2);
	assert_int_equal(w->uplinks[0].port, sat);
	assert_int_equal(w->uplinks[0].family, AF_INET6);
	assert_memory_equal(w->uplinks[0].addr, v6, 16);
	assert_int_equal(w->uplinks[0].udp_port, htons(4790));
	assert_int_equal(w->uplinks[1].port, lte);
	assert_int_equal(w->uplinks[1].family, AF_INET);
	assert_memory_equal(w->uplinks[1].addr, v4, 4);
	assert_int_equal(w->uplinks[1].udp_port, htons(4789));
}

static void
test_sync(void **state)
{
	struct fixture *f = *state;
	unsigned lte, sat, tap, first_uplink = 0, tenant = 0, network = 0, nkicks = 0;

	datapath_sync(&f->d);
	drain(f);
	lte = port_of(f, PORT_UDP, "lte");
	sat = port_of(f, PORT_UDP, "sat");
	tap = port_of(f, PORT_TAP, "alpha.lan");

	assert_int_equal(count(f, MSG_WORKER_UPLINK, &first_uplink), 2);
	for (unsigned i = 0; i < f->n; i++) {
		const struct worker_uplink_cfg *u = (const void *)f->msgs[i].data;
		const struct port_kick *k = (const void *)f->msgs[i].data;

		if (f->msgs[i].hdr.type == MSG_WORKER_UPLINK) {
			assert_true(u->port == lte || u->port == sat);
			assert_int_equal(u->wire_overhead, 28);	/* IPv4 and UDP */
			assert_int_equal(u->capacity_kbps, 0);	/* lo: no speed, no emulation */
			assert_int_equal(u->shape_kbps, 0);
		} else if (f->msgs[i].hdr.type == MSG_WORKER_KICK) {
			assert_true(k->port == lte || k->port == sat || k->port == tap);
			assert_true(f->msgs[i].fd >= 0);
			nkicks++;
		}
	}
	assert_int_equal(nkicks, 6);	/* each port's two eventfds */
	assert_int_equal(count(f, MSG_WORKER_TENANT, &tenant), 1);
	check_tenant(f, tenant, sat);
	assert_int_equal(count(f, MSG_WORKER_NETWORK, &network), 1);
	check_network(f, network, lte, sat, tap);
	/* The network's message names ports and a tenant the worker already knows. */
	assert_true(first_uplink < network);
	assert_true(tenant < network);
	if (geteuid() == 0) {
		assert_port_state(f, lte, WORKER_PORT_UP);
		assert_port_state(f, sat, WORKER_PORT_UP);
		assert_port_state(f, tap, WORKER_PORT_UP);
		assert_int_equal(f->d.dp.ports[lte].up, 1);
	}
}

static void
test_sync_again(void **state)
{
	struct fixture *f = *state;
	unsigned network = 0;

	datapath_sync(&f->d);
	drain(f);
	datapath_sync(&f->d);
	drain(f);
	assert_int_equal(f->n, 1);
	assert_int_equal(count(f, MSG_WORKER_NETWORK, &network), 1);
	check_network(f, network, port_of(f, PORT_UDP, "lte"), port_of(f, PORT_UDP, "sat"),
	    port_of(f, PORT_TAP, "alpha.lan"));
}

static void
test_uplink_gone(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct uplink gone;
	unsigned spare, tenant = 0, network = 0;

	make_uplink(f, "spare", "127.0.0.1:47903");
	datapath_sync(&f->d);
	drain(f);
	spare = port_of(f, PORT_UDP, "spare");
	if (uplink_delete(f->d.store, &admin, "admin", "spare", &gone, &err) < 0)
		fail_msg("uplink: %s", err.msg);
	datapath_sync(&f->d);
	drain(f);
	assert_false(f->d.dp.ports[spare].used);
	assert_port_state(f, spare, WORKER_PORT_RESET);
	assert_int_equal(count(f, MSG_WORKER_TENANT, &tenant), 1);
	check_tenant(f, tenant, port_of(f, PORT_UDP, "sat"));
	assert_int_equal(count(f, MSG_WORKER_NETWORK, &network), 1);
	assert_true(tenant < network);
}

static void
test_worker_restart(void **state)
{
	struct fixture *f = *state;
	unsigned network = 0, tenant = 0, lte, sat, tap;

	datapath_sync(&f->d);
	drain(f);
	lte = port_of(f, PORT_UDP, "lte");
	sat = port_of(f, PORT_UDP, "sat");
	tap = port_of(f, PORT_TAP, "alpha.lan");
	datapath_worker_started(f->d.dp.worker, &f->d);
	drain(f);
	assert_int_equal(count(f, MSG_WORKER_KICK, NULL), 6);
	assert_int_equal(count(f, MSG_WORKER_UPLINK, NULL), 2);
	assert_int_equal(count(f, MSG_WORKER_TENANT, &tenant), 1);
	check_tenant(f, tenant, sat);
	assert_int_equal(count(f, MSG_WORKER_NETWORK, &network), 1);
	check_network(f, network, lte, sat, tap);
	if (geteuid() == 0) {
		assert_int_equal(count(f, MSG_WORKER_PORT, NULL), 3);
		assert_port_state(f, tap, WORKER_PORT_UP);
	}
}

static void
test_tenant_forget(void **state)
{
	struct fixture *f = *state;
	unsigned del = 0;
	const struct worker_tenant_cfg *t;

	datapath_sync(&f->d);
	drain(f);
	assert_true(datapath_tenant_pushed(&f->d, f->alpha.id));
	datapath_tenant_forget(&f->d, f->alpha.id);
	drain(f);
	assert_false(datapath_tenant_pushed(&f->d, f->alpha.id));
	assert_int_equal(count(f, MSG_WORKER_TENANT_DEL, &del), 1);
	t = (const void *)f->msgs[del].data;
	assert_int_equal(t->id, f->alpha.id);
}

/* A driver, as far as the parent can tell: it takes what it is sent until its socket closes. */
static void
driver_stand_in(void)
{
	struct msg *m = malloc(sizeof(*m));
	int rc;

	if (m == NULL)
		_exit(1);
	while ((rc = msg_recv(3, m)) != 0) {
		if (rc < 0 && errno != EBADMSG && errno != EMSGSIZE)
			_exit(0);
		if (rc > 0 && m->fd >= 0)
			close(m->fd);
	}
	_exit(0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_again, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_worker_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_forget, setup, teardown),
	};

	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		driver_stand_in();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
