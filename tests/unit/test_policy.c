/*
 * Policies: every field's bad values refused with a message that names
 * the field, defaults filled, prefixes canonical; create, list in order,
 * get and delete on a real SQLite file, with tenant isolation, the
 * per-tenant bound and nothing written by a refused request; the cascade
 * with a tenant, an uplink that policies name kept; and the compiled rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/store.h"
#include "tenants/network.h"
#include "tenants/policy.h"
#include "tenants/tenant.h"
#include "tenants/uplink.h"
#include "tests/unit/fixture_store.h"

struct fixture {
	struct fixture_store s;
	struct principal alpha, beta;	/* the two tenants' tokens */
};

static const struct principal admin = { .is_admin = 1, .name = "admin" };

static void
make_tenant(struct fixture *f, const char *name, struct principal *who)
{
	struct cnw_error err = { 0 };
	struct tenant_spec spec;
	struct tenant t;
	char token[65];

	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "%s", name);
	assert_int_equal(tenant_create(f->s.st, &admin, "admin", &spec, &t, token, &err), 0);
	memset(who, 0, sizeof(*who));
	who->tenant_id = t.id;
	snprintf(who->name, sizeof(who->name), "%s", name);
}

static void
make_uplink(struct fixture *f, const char *name, const char *address)
{
	struct cnw_error err = { 0 };
	struct uplink u, out;

	memset(&u, 0, sizeof(u));
	snprintf(u.name, sizeof(u.name), "%s", name);
	snprintf(u.interface, sizeof(u.interface), "lo");
	snprintf(u.driver, sizeof(u.driver), "udp");
	snprintf(u.address, sizeof(u.address), "%s", address);
	assert_int_equal(uplink_create(f->s.st, &admin, "admin", &u, NULL, &out, &err), 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	fixture_store_open(&f->s, "policy");
	make_tenant(f, "alpha", &f->alpha);
	make_tenant(f, "beta", &f->beta);
	make_uplink(f, "lte", "127.0.0.1:4790");
	make_uplink(f, "sat", "127.0.0.1:4791");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	fixture_store_close(&f->s);
	free(f);
	return 0;
}

static void
spec_init(struct policy_spec *s, const char *tenant, const char *name)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->p.tenant, sizeof(s->p.tenant), "%s", tenant);
	snprintf(s->p.name, sizeof(s->p.name), "%s", name);
}

static void
spec_uplinks(struct policy_spec *s, uint32_t n, const char *const *names)
{
	s->fields |= POLICY_F_UPLINKS;
	s->p.nuplinks = n;
	for (uint32_t i = 0; i < n; i++)
		snprintf(s->p.uplinks[i], sizeof(s->p.uplinks[i]), "%s", names[i]);
}

static void
expect_refused(struct policy_spec *s, const char *want, int line)
{
	struct cnw_error err = { 0 };

	if (policy_validate(s, &err) != -1 || err.kind != CNW_EINVAL ||
	    strstr(err.msg, want) == NULL)
		fail_msg("line %d: want a 400 saying \"%s\", got %d \"%s\"", line, want, err.kind,
		    err.msg);
}

/* A spec named p of alpha, changed by `change`, refused saying `want`. */
#define REFUSED(change, want) do {					\
	struct policy_spec s_;						\
	spec_init(&s_, "alpha", "p");					\
	change;								\
	expect_refused(&s_, want, __LINE__);				\
} while (0)

/* Validation ------------------------------------------------------------ */

static void
test_validate_defaults(void **state)
{
	struct cnw_error err = { 0 };
	struct policy_spec s;

	(void)state;
	spec_init(&s, "alpha", "web");
	/* Junk where no field was given: the fields bits decide, not the bytes. */
	s.p.protocol = 99;
	s.p.src_port_lo = 7;
	s.p.action = POLICY_DENY;
	s.p.rate_kbps = 5;
	snprintf(s.p.src_prefix, sizeof(s.p.src_prefix), "junk");
	assert_int_equal(policy_validate(&s, &err), 0);
	assert_int_equal(s.p.priority, 100);
	assert_int_equal(s.p.protocol, -1);
	assert_string_equal(s.p.src_prefix, "");
	assert_string_equal(s.p.dst_prefix, "");
	assert_int_equal(s.p.src_port_lo, 0);
	assert_int_equal(s.p.src_port_hi, 65535);
	assert_int_equal(s.p.dst_port_lo, 0);
	assert_int_equal(s.p.dst_port_hi, 65535);
	assert_int_equal(s.p.dscp_mask, 0);
	assert_int_equal(s.p.action, POLICY_ALLOW);
	assert_int_equal(s.p.class, POLICY_BULK);
	assert_int_equal(s.p.steering, STEER_ACTIVE_STANDBY);
	assert_int_equal(s.p.nuplinks, 0);
	assert_int_equal(s.p.rate_kbps, 0);
	assert_int_equal(s.p.burst_kb, 0);
	assert_int_equal(s.p.max_latency_ms, 0);
}

static void
test_validate_canonical(void **state)
{
	static const char *const two[] = { "lte", "sat" };
	struct cnw_error err = { 0 };
	struct policy_spec s;

	(void)state;
	spec_init(&s, "alpha", "cams");
	s.fields = POLICY_F_SRC_PREFIX | POLICY_F_DST_PREFIX | POLICY_F_PROTOCOL |
	    POLICY_F_DST_PORTS | POLICY_F_STEERING | POLICY_F_WEIGHTS | POLICY_F_RATE |
	    POLICY_F_BURST | POLICY_F_DSCP;
	snprintf(s.p.src_prefix, sizeof(s.p.src_prefix), "fd00:0:0:0::/48");
	snprintf(s.p.dst_prefix, sizeof(s.p.dst_prefix), "fd00:0::5");
	s.p.protocol = 17;
	s.p.dst_port_lo = s.p.dst_port_hi = 554;
	s.p.steering = STEER_LOAD_BALANCE;
	spec_uplinks(&s, 2, two);
	s.p.weights[0] = 3;
	s.p.weights[1] = POLICY_WEIGHT_MAX;
	s.p.rate_kbps = POLICY_RATE_MAX;
	s.p.burst_kb = POLICY_BURST_MAX;
	s.p.dscp_mask = UINT64_MAX;
	assert_int_equal(policy_validate(&s, &err), 0);
	assert_string_equal(s.p.src_prefix, "fd00::/48");
	assert_string_equal(s.p.dst_prefix, "fd00::5/128");
	assert_int_equal(s.p.dscp_mask, UINT64_MAX);

	/* A bare IPv4 address is that host; /0 is "any IPv4". */
	spec_init(&s, "alpha", "host");
	s.fields = POLICY_F_SRC_PREFIX | POLICY_F_DST_PREFIX;
	snprintf(s.p.src_prefix, sizeof(s.p.src_prefix), "192.168.1.7");
	snprintf(s.p.dst_prefix, sizeof(s.p.dst_prefix), "0.0.0.0/0");
	assert_int_equal(policy_validate(&s, &err), 0);
	assert_string_equal(s.p.src_prefix, "192.168.1.7/32");
	assert_string_equal(s.p.dst_prefix, "0.0.0.0/0");

	/* Ports with no protocol; a deny with only a match; redundant over all uplinks. */
	spec_init(&s, "alpha", "ports");
	s.fields = POLICY_F_SRC_PORTS | POLICY_F_ACTION | POLICY_F_CLASS;
	s.p.src_port_lo = 1000;
	s.p.src_port_hi = 2000;
	s.p.action = POLICY_DENY;
	s.p.class = POLICY_BACKGROUND;
	assert_int_equal(policy_validate(&s, &err), 0);
	spec_init(&s, "alpha", "dup");
	s.fields = POLICY_F_STEERING | POLICY_F_UPLINKS;
	s.p.steering = STEER_REDUNDANT;
	assert_int_equal(policy_validate(&s, &err), 0);
	/* Protocols with ports: tcp, udp, sctp, udplite. */
	for (int i = 0; i < 4; i++) {
		static const int32_t ported[] = { 6, 17, 132, 136 };

		spec_init(&s, "alpha", "ported");
		s.fields = POLICY_F_PROTOCOL | POLICY_F_DST_PORTS;
		s.p.protocol = ported[i];
		s.p.dst_port_lo = 0;
		s.p.dst_port_hi = 65535;
		assert_int_equal(policy_validate(&s, &err), 0);
	}
}

static void
test_validate_match_refused(void **state)
{
	(void)state;
	REFUSED(s_.p.name[0] = '\0', "policy name");
	REFUSED(snprintf(s_.p.name, sizeof(s_.p.name), "Web"), "policy name");
	REFUSED(memset(s_.p.name, 'a', sizeof(s_.p.name)), "policy name");
	REFUSED((s_.fields |= POLICY_F_PRIORITY, s_.p.priority = 65536), "priority");
	REFUSED((s_.fields |= POLICY_F_PROTOCOL, s_.p.protocol = 256), "protocol");
	REFUSED((s_.fields |= POLICY_F_PROTOCOL, s_.p.protocol = -2), "protocol");
	REFUSED((s_.fields |= POLICY_F_SRC_PREFIX,
	    snprintf(s_.p.src_prefix, sizeof(s_.p.src_prefix), "10.0.0.1/24")),
	    "src_prefix 10.0.0.1/24 is not a network address (did you mean 10.0.0.0/24?)");
	REFUSED((s_.fields |= POLICY_F_SRC_PREFIX,
	    snprintf(s_.p.src_prefix, sizeof(s_.p.src_prefix), "cameras")), "src_prefix");
	REFUSED((s_.fields |= POLICY_F_DST_PREFIX,
	    snprintf(s_.p.dst_prefix, sizeof(s_.p.dst_prefix), "10.0.0.0/33")), "dst_prefix");
	REFUSED((s_.fields |= POLICY_F_DST_PREFIX,
	    snprintf(s_.p.dst_prefix, sizeof(s_.p.dst_prefix), " 10.0.0.0/8")), "dst_prefix");
	REFUSED((s_.fields |= POLICY_F_DST_PREFIX,
	    memset(s_.p.dst_prefix, '1', sizeof(s_.p.dst_prefix))), "dst_prefix");
	REFUSED((s_.fields |= POLICY_F_SRC_PREFIX | POLICY_F_DST_PREFIX,
	    snprintf(s_.p.src_prefix, sizeof(s_.p.src_prefix), "10.0.0.0/8"),
	    snprintf(s_.p.dst_prefix, sizeof(s_.p.dst_prefix), "fd00::/8")),
	    "src_prefix 10.0.0.0/8 and dst_prefix fd00::/8 are not of one family");
	REFUSED((s_.fields |= POLICY_F_SRC_PORTS, s_.p.src_port_lo = 2000,
	    s_.p.src_port_hi = 1000), "src_ports");
	REFUSED((s_.fields |= POLICY_F_DST_PORTS, s_.p.dst_port_hi = 65536), "dst_ports");
	REFUSED((s_.fields |= POLICY_F_SRC_PORTS | POLICY_F_PROTOCOL, s_.p.protocol = 1,
	    s_.p.src_port_lo = s_.p.src_port_hi = 80),
	    "src_ports needs protocol tcp, udp, udplite or sctp");
	REFUSED((s_.fields |= POLICY_F_DST_PORTS | POLICY_F_PROTOCOL, s_.p.protocol = 58,
	    s_.p.dst_port_hi = 65535), "dst_ports needs protocol tcp, udp, udplite or sctp");
}

static void
test_validate_treatment_refused(void **state)
{
	static const char *const one[] = { "lte" };
	static const char *const two[] = { "lte", "sat" };
	static const char *const twice[] = { "lte", "lte" };
	static const char *const bad[] = { "lte", "LTE" };
	static const char *const nine[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i" };

	(void)state;
	REFUSED((s_.fields |= POLICY_F_ACTION, s_.p.action = 2),
	    "action 2 is not one of allow, deny");
	REFUSED((s_.fields |= POLICY_F_CLASS, s_.p.class = POLICY_CLASS_MAX), "class 4");
	REFUSED((s_.fields |= POLICY_F_STEERING, s_.p.steering = STEER_MAX),
	    "steering 5 is not one of active-standby, smallest-delay, load-balance, "
	    "priority, redundant");
	REFUSED(spec_uplinks(&s_, 9, nine), "uplinks: 9 given, at most 8");
	REFUSED(spec_uplinks(&s_, 2, twice), "uplinks: lte is named twice");
	REFUSED(spec_uplinks(&s_, 2, bad), "uplinks: \"LTE\"");
	REFUSED((spec_uplinks(&s_, 1, one),
	    memset(s_.p.uplinks[0], 'a', sizeof(s_.p.uplinks[0]))), "uplinks");
	/* weights: load-balance only, one per uplink, 1..POLICY_WEIGHT_MAX */
	REFUSED((spec_uplinks(&s_, 2, two), s_.fields |= POLICY_F_WEIGHTS, s_.p.weights[0] = 1,
	    s_.p.weights[1] = 1), "weights need steering load-balance");
	REFUSED((s_.fields |= POLICY_F_WEIGHTS | POLICY_F_STEERING,
	    s_.p.steering = STEER_LOAD_BALANCE, s_.p.weights[0] = 1), "weights need uplinks");
	REFUSED((spec_uplinks(&s_, 2, two), s_.fields |= POLICY_F_WEIGHTS | POLICY_F_STEERING,
	    s_.p.steering = STEER_LOAD_BALANCE, s_.p.weights[0] = 1),
	    "weights: want one from 1 to 1000 for each of the 2 uplinks");
	REFUSED((spec_uplinks(&s_, 1, one), s_.fields |= POLICY_F_WEIGHTS | POLICY_F_STEERING,
	    s_.p.steering = STEER_LOAD_BALANCE, s_.p.weights[0] = 1, s_.p.weights[1] = 1),
	    "weights: want one from 1 to 1000 for each of the 1 uplinks");
	REFUSED((spec_uplinks(&s_, 1, one), s_.fields |= POLICY_F_WEIGHTS | POLICY_F_STEERING,
	    s_.p.steering = STEER_LOAD_BALANCE, s_.p.weights[0] = POLICY_WEIGHT_MAX + 1),
	    "weights");
	REFUSED((spec_uplinks(&s_, 1, one), s_.fields |= POLICY_F_STEERING,
	    s_.p.steering = STEER_REDUNDANT), "steering redundant");
	REFUSED((s_.fields |= POLICY_F_RATE, s_.p.rate_kbps = POLICY_RATE_MAX + 1ull),
	    "rate_kbps 100000001 is over 100000000");
	REFUSED((s_.fields |= POLICY_F_BURST, s_.p.burst_kb = 64), "burst_kb needs a rate_kbps");
	REFUSED((s_.fields |= POLICY_F_BURST | POLICY_F_RATE, s_.p.rate_kbps = 1000,
	    s_.p.burst_kb = 0), "burst_kb 0 is not 1 to 65536");
	REFUSED((s_.fields |= POLICY_F_BURST | POLICY_F_RATE, s_.p.rate_kbps = 1000,
	    s_.p.burst_kb = POLICY_BURST_MAX + 1), "burst_kb");
	REFUSED((s_.fields |= POLICY_F_LATENCY, s_.p.max_latency_ms = POLICY_LATENCY_MAX + 1),
	    "max_latency_ms 60001 is over 60000");
	/* a deny policy forwards nothing: no field about forwarding */
	REFUSED((s_.fields |= POLICY_F_ACTION | POLICY_F_RATE, s_.p.action = POLICY_DENY,
	    s_.p.rate_kbps = 10), "a deny policy takes no steering, uplinks, rate or latency");
	REFUSED((s_.fields |= POLICY_F_ACTION | POLICY_F_STEERING, s_.p.action = POLICY_DENY),
	    "a deny policy takes no");
	REFUSED((s_.fields |= POLICY_F_ACTION | POLICY_F_LATENCY, s_.p.action = POLICY_DENY,
	    s_.p.max_latency_ms = 5), "a deny policy takes no");
	REFUSED((s_.fields |= POLICY_F_ACTION, s_.p.action = POLICY_DENY,
	    spec_uplinks(&s_, 1, one)), "a deny policy takes no");
}

static void
test_parse_helpers(void **state)
{
	static const char *const bad_ports[] = { "", "-", "80-", "-80", "+80", " 80", "80 ",
	    "0x50", "65536", "100000", "2000-1000", "1-2-3", "80,81", "1e3" };
	static const char *const bad_protos[] = { "", "TCP", "256", "-1", "+6", " 6", "6 ",
	    "0x6", "1000", "ip" };
	uint32_t lo = 1, hi = 1;
	char buf[8];

	(void)state;
	assert_int_equal(policy_protocol_parse("tcp"), 6);
	assert_int_equal(policy_protocol_parse("udp"), 17);
	assert_int_equal(policy_protocol_parse("icmp"), 1);
	assert_int_equal(policy_protocol_parse("icmpv6"), 58);
	assert_int_equal(policy_protocol_parse("sctp"), 132);
	assert_int_equal(policy_protocol_parse("udplite"), 136);
	assert_int_equal(policy_protocol_parse("0"), 0);
	assert_int_equal(policy_protocol_parse("47"), 47);
	assert_int_equal(policy_protocol_parse("255"), 255);
	for (size_t i = 0; i < sizeof(bad_protos) / sizeof(bad_protos[0]); i++)
		if (policy_protocol_parse(bad_protos[i]) != -1)
			fail_msg("protocol \"%s\" accepted", bad_protos[i]);
	assert_string_equal(policy_protocol_name(6, buf, sizeof(buf)), "tcp");
	assert_string_equal(policy_protocol_name(136, buf, sizeof(buf)), "udplite");
	assert_string_equal(policy_protocol_name(47, buf, sizeof(buf)), "47");
	assert_string_equal(policy_protocol_name(-1, buf, sizeof(buf)), "any");

	assert_int_equal(policy_ports_parse("80", &lo, &hi), 0);
	assert_int_equal(lo, 80);
	assert_int_equal(hi, 80);
	assert_int_equal(policy_ports_parse("1000-2000", &lo, &hi), 0);
	assert_int_equal(lo, 1000);
	assert_int_equal(hi, 2000);
	assert_int_equal(policy_ports_parse("0-65535", &lo, &hi), 0);
	assert_int_equal(hi, 65535);
	for (size_t i = 0; i < sizeof(bad_ports) / sizeof(bad_ports[0]); i++)
		if (policy_ports_parse(bad_ports[i], &lo, &hi) != -1)
			fail_msg("ports \"%s\" accepted", bad_ports[i]);

	for (int i = 0; i < POLICY_ACTION_MAX; i++)
		assert_int_equal(policy_action_parse(policy_action_names[i]), i);
	for (int i = 0; i < POLICY_CLASS_MAX; i++)
		assert_int_equal(policy_class_parse(policy_class_names[i]), i);
	for (int i = 0; i < STEER_MAX; i++)
		assert_int_equal(policy_steering_parse(policy_steering_names[i]), i);
	assert_int_equal(policy_steering_parse("load-balance"), STEER_LOAD_BALANCE);
	assert_int_equal(policy_action_parse("drop"), -1);
	assert_int_equal(policy_class_parse("Bulk"), -1);
	assert_int_equal(policy_steering_parse(""), -1);
}

/* Operations ------------------------------------------------------------ */

static int
create(struct fixture *f, const struct principal *who, const char *tenant, const char *name,
    int priority, struct policy *out, struct cnw_error *err)
{
	struct policy_spec s;

	spec_init(&s, tenant, name);
	if (priority >= 0) {
		s.fields |= POLICY_F_PRIORITY;
		s.p.priority = (uint32_t)priority;
	}
	return policy_create(f->s.st, who, "test", &s, out, err);
}

struct names {
	char v[POLICY_MAX + 8][TENANT_NAME_MAX + 1];
	uint32_t prio[POLICY_MAX + 8];
	size_t n;
};

static int
collect(const void *row, void *arg)
{
	const struct policy *p = row;
	struct names *n = arg;

	snprintf(n->v[n->n], sizeof(n->v[0]), "%s", p->name);
	n->prio[n->n++] = p->priority;
	return 0;
}

static void
test_create_and_list_in_order(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy p, got;
	struct names n = { .n = 0 };

	assert_int_equal(create(f, &f->alpha, "alpha", "first", -1, &p, &err), 0);
	assert_true(p.id > 0);
	assert_int_equal(p.priority, 100);	/* none yet: 100 */
	assert_string_equal(p.tenant, "alpha");
	assert_int_equal(p.tenant_id, f->alpha.tenant_id);
	assert_true(p.created_at > 0);
	assert_int_equal(create(f, &admin, "alpha", "late", 50, &p, &err), 0);
	assert_int_equal(create(f, &f->alpha, "alpha", "early", 50, &p, &err), 0);
	assert_int_equal(create(f, &f->alpha, "alpha", "last", -1, &p, &err), 0);
	assert_int_equal(p.priority, 110);	/* after the highest */
	assert_int_equal(create(f, &f->beta, "beta", "other", 1, &p, &err), 0);

	assert_int_equal(policy_list(f->s.st, &f->alpha, "alpha", collect, &n, &err), 0);
	assert_int_equal(n.n, 4);
	assert_string_equal(n.v[0], "late");	/* 50, made first */
	assert_string_equal(n.v[1], "early");	/* 50 */
	assert_string_equal(n.v[2], "first");	/* 100 */
	assert_string_equal(n.v[3], "last");	/* 110 */

	/* The data path loads every tenant's, each tenant's in order. */
	n.n = 0;
	assert_int_equal(policy_row_each(f->s.st, 0, collect, &n, &err), 0);
	assert_int_equal(n.n, 5);
	assert_string_equal(n.v[0], "late");
	assert_string_equal(n.v[4], "other");

	assert_int_equal(policy_get(f->s.st, &admin, "alpha", "last", &got, &err), 0);
	assert_int_equal(got.priority, 110);
	assert_string_equal(got.tenant, "alpha");
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit WHERE action = 'policy.create' "
	    "AND object = 'first' AND detail = 'alpha' AND actor = 'test'"), 1);
}

static void
test_default_priority_capped(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy p;

	assert_int_equal(create(f, &admin, "alpha", "high", 65530, &p, &err), 0);
	assert_int_equal(create(f, &admin, "alpha", "after", -1, &p, &err), 0);
	assert_int_equal(p.priority, 65535);
	assert_int_equal(create(f, &admin, "alpha", "again", -1, &p, &err), 0);
	assert_int_equal(p.priority, 65535);
	assert_int_equal(create(f, &admin, "alpha", "zero", 0, &p, &err), 0);
	assert_int_equal(p.priority, 0);
}

/* Every field written and read back as it was given. */
static void
test_round_trip(void **state)
{
	static const char *const two[] = { "sat", "lte" };
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy_spec s;
	struct policy p, got;

	spec_init(&s, "alpha", "video");
	s.fields = POLICY_F_PRIORITY | POLICY_F_PROTOCOL | POLICY_F_SRC_PREFIX |
	    POLICY_F_DST_PREFIX | POLICY_F_SRC_PORTS | POLICY_F_DST_PORTS | POLICY_F_DSCP |
	    POLICY_F_CLASS | POLICY_F_STEERING | POLICY_F_WEIGHTS | POLICY_F_RATE |
	    POLICY_F_BURST | POLICY_F_LATENCY;
	s.p.priority = 7;
	s.p.protocol = 6;
	snprintf(s.p.src_prefix, sizeof(s.p.src_prefix), "10.20.0.0/16");
	snprintf(s.p.dst_prefix, sizeof(s.p.dst_prefix), "192.0.2.1");
	s.p.src_port_lo = 1024;
	s.p.src_port_hi = 65535;
	s.p.dst_port_lo = s.p.dst_port_hi = 443;
	s.p.dscp_mask = (1ull << 63) | (1ull << 46);
	s.p.class = POLICY_REALTIME;
	s.p.steering = STEER_LOAD_BALANCE;
	spec_uplinks(&s, 2, two);
	s.p.weights[0] = 3;
	s.p.weights[1] = 1;
	s.p.rate_kbps = 25000;
	s.p.burst_kb = 512;
	s.p.max_latency_ms = 150;
	assert_int_equal(policy_create(f->s.st, &f->alpha, "alpha", &s, &p, &err), 0);
	assert_int_equal(policy_get(f->s.st, &f->alpha, "alpha", "video", &got, &err), 0);
	assert_int_equal(got.id, p.id);
	assert_int_equal(got.created_at, p.created_at);
	assert_int_equal(got.priority, 7);
	assert_int_equal(got.protocol, 6);
	assert_string_equal(got.src_prefix, "10.20.0.0/16");
	assert_string_equal(got.dst_prefix, "192.0.2.1/32");
	assert_int_equal(got.src_port_lo, 1024);
	assert_int_equal(got.src_port_hi, 65535);
	assert_int_equal(got.dst_port_lo, 443);
	assert_int_equal(got.dst_port_hi, 443);
	assert_true(got.dscp_mask == ((1ull << 63) | (1ull << 46)));
	assert_int_equal(got.action, POLICY_ALLOW);
	assert_int_equal(got.class, POLICY_REALTIME);
	assert_int_equal(got.steering, STEER_LOAD_BALANCE);
	assert_int_equal(got.nuplinks, 2);
	assert_string_equal(got.uplinks[0], "sat");
	assert_string_equal(got.uplinks[1], "lte");
	assert_int_equal(got.weights[0], 3);
	assert_int_equal(got.weights[1], 1);
	assert_int_equal(got.weights[2], 0);
	assert_int_equal(got.rate_kbps, 25000);
	assert_int_equal(got.burst_kb, 512);
	assert_int_equal(got.max_latency_ms, 150);
	assert_memory_equal(&got, &p, sizeof(got));
}

static void
test_create_refusals_write_nothing(void **state)
{
	static const char *const nope[] = { "lte", "nope" };
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy_spec s;
	struct policy p;
	int64_t audit;

	assert_int_equal(create(f, &f->alpha, "alpha", "web", 10, &p, &err), 0);
	audit = fixture_count(f->s.st, "SELECT count(*) FROM audit");

	assert_int_equal(create(f, &f->alpha, "alpha", "web", 20, &p, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
	assert_string_equal(err.msg, "policy \"web\" of tenant \"alpha\" already exists");
	/* the same name in another tenant is another policy */
	assert_int_equal(create(f, &f->beta, "beta", "web", 20, &p, &err), 0);
	audit++;

	spec_init(&s, "alpha", "sat-only");
	spec_uplinks(&s, 2, nope);
	assert_int_equal(policy_create(f->s.st, &f->alpha, "alpha", &s, &p, &err), -1);
	assert_int_equal(err.kind, CNW_EINVAL);
	assert_string_equal(err.msg, "uplink \"nope\" does not exist");
	assert_int_equal(p.id, 0);

	spec_init(&s, "alpha", "bad");
	s.fields = POLICY_F_PRIORITY;
	s.p.priority = 70000;
	assert_int_equal(policy_create(f->s.st, &f->alpha, "alpha", &s, &p, &err), -1);
	assert_int_equal(err.kind, CNW_EINVAL);

	assert_int_equal(create(f, &admin, "gamma", "x", -1, &p, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);

	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies"), 2);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit"), audit);
}

static void
test_tenant_isolation(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct names n = { .n = 0 };
	struct policy p;

	assert_int_equal(create(f, &f->alpha, "alpha", "mine", -1, &p, &err), 0);
	/* beta's token answers as if alpha did not exist, and writes nothing */
	assert_int_equal(create(f, &f->beta, "alpha", "theirs", -1, &p, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_string_equal(err.msg, "tenant \"alpha\" not found");
	assert_int_equal(policy_get(f->s.st, &f->beta, "alpha", "mine", &p, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_int_equal(policy_list(f->s.st, &f->beta, "alpha", collect, &n, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_int_equal(n.n, 0);
	assert_int_equal(policy_delete(f->s.st, &f->beta, "beta", "alpha", "mine", &p, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_string_equal(err.msg, "tenant \"alpha\" not found");
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies"), 1);
	/* and beta's own list does not show alpha's */
	assert_int_equal(policy_list(f->s.st, &f->beta, "beta", collect, &n, &err), 0);
	assert_int_equal(n.n, 0);
	assert_int_equal(policy_get(f->s.st, &f->beta, "beta", "mine", &p, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
}

static void
test_most_policies(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy p;
	char name[16];

	for (int i = 0; i < POLICY_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(create(f, &f->alpha, "alpha", name, i, &p, &err), 0);
	}
	assert_int_equal(create(f, &f->alpha, "alpha", "one-more", -1, &p, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
	assert_string_equal(err.msg, "tenant \"alpha\" has 128 policies, the most allowed");
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies"), POLICY_MAX);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit WHERE object = 'one-more'"), 0);
	/* the bound is per tenant */
	assert_int_equal(create(f, &f->beta, "beta", "one-more", -1, &p, &err), 0);
	/* and room again after a delete */
	assert_int_equal(policy_delete(f->s.st, &f->alpha, "alpha", "alpha", "p0", &p, &err), 0);
	assert_int_equal(create(f, &f->alpha, "alpha", "one-more", -1, &p, &err), 0);
}

static void
test_delete(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy p, gone;

	assert_int_equal(create(f, &f->alpha, "alpha", "web", -1, &p, &err), 0);
	assert_int_equal(policy_delete(f->s.st, &f->alpha, "alpha", "alpha", "web", &gone, &err), 0);
	assert_int_equal(gone.id, p.id);
	assert_string_equal(gone.name, "web");
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies"), 0);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM audit WHERE action = 'policy.delete' "
	    "AND object = 'web' AND detail = 'alpha' AND actor = 'alpha'"), 1);
	assert_int_equal(policy_delete(f->s.st, &f->alpha, "alpha", "alpha", "web", &gone, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_string_equal(err.msg, "policy \"web\" of tenant \"alpha\" not found");
	assert_int_equal(policy_get(f->s.st, &admin, "alpha", "web", &p, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	/* ids are never reused: the data path names rules by them */
	assert_int_equal(create(f, &f->alpha, "alpha", "web", -1, &p, &err), 0);
	assert_true(p.id > gone.id);
}

static void
test_tenant_delete_cascades(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct network_spec ns;
	struct network net;
	struct policy p;

	memset(&ns, 0, sizeof(ns));
	snprintf(ns.tenant, sizeof(ns.tenant), "alpha");
	snprintf(ns.name, sizeof(ns.name), "lan");
	snprintf(ns.subnet, sizeof(ns.subnet), "10.10.0.0/24");
	assert_int_equal(network_create(f->s.st, &admin, "admin", &ns, &net, &err), 0);
	assert_int_equal(create(f, &f->alpha, "alpha", "a", -1, &p, &err), 0);
	assert_int_equal(create(f, &f->alpha, "alpha", "b", -1, &p, &err), 0);
	assert_int_equal(create(f, &f->beta, "beta", "a", -1, &p, &err), 0);
	/* refused (networks left): the policies stay */
	assert_int_equal(tenant_delete(f->s.st, &admin, "admin", "alpha", 0, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies"), 3);
	assert_int_equal(tenant_delete(f->s.st, &admin, "admin", "alpha", 1, &err), 0);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies"), 1);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies p JOIN tenants t "
	    "ON t.id = p.tenant_id WHERE t.name = 'beta'"), 1);
}

static void
test_uplink_in_use_kept(void **state)
{
	static const char *const both[] = { "lte", "sat" };
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy_spec s;
	struct uplink gone;
	struct policy p;
	int64_t n = -1;

	spec_init(&s, "alpha", "both");
	spec_uplinks(&s, 2, both);
	assert_int_equal(policy_create(f->s.st, &f->alpha, "alpha", &s, &p, &err), 0);
	spec_init(&s, "beta", "lte-only");
	spec_uplinks(&s, 1, both);
	assert_int_equal(policy_create(f->s.st, &f->beta, "beta", &s, &p, &err), 0);
	make_uplink(f, "lte2", "127.0.0.1:4792");	/* a name "lte" is a prefix of */

	assert_int_equal(policy_row_count_uplink(f->s.st, "lte", &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(policy_row_count_uplink(f->s.st, "lte2", &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(policy_row_count_uplink(f->s.st, "te", &n, &err), 0);
	assert_int_equal(n, 0);

	assert_int_equal(uplink_delete(f->s.st, &admin, "admin", "lte", &gone, &err), -1);
	assert_int_equal(err.kind, CNW_EEXIST);
	assert_non_null(strstr(err.msg, "uplink \"lte\" is used by 2 policies"));
	assert_int_equal(uplink_delete(f->s.st, &admin, "admin", "sat", &gone, &err), -1);
	assert_non_null(strstr(err.msg, "uplink \"sat\" is used by 1 policy"));
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM uplinks"), 3);
	assert_int_equal(uplink_delete(f->s.st, &admin, "admin", "lte2", &gone, &err), 0);

	assert_int_equal(policy_delete(f->s.st, &admin, "admin", "alpha", "both", &p, &err), 0);
	assert_int_equal(uplink_delete(f->s.st, &admin, "admin", "sat", &gone, &err), 0);
	assert_int_equal(uplink_delete(f->s.st, &admin, "admin", "lte", &gone, &err), -1);
	assert_non_null(strstr(err.msg, "used by 1 policy"));
	assert_int_equal(policy_delete(f->s.st, &admin, "admin", "beta", "lte-only", &p, &err), 0);
	assert_int_equal(uplink_delete(f->s.st, &admin, "admin", "lte", &gone, &err), 0);
}

static void
test_schema(void **state)
{
	struct fixture *f = *state;

	/* policies came with 5; 6 remade the tenants table their rows point at */
	assert_true(store_schema_version >= 6);
	assert_int_equal(fixture_count(f->s.st, "PRAGMA user_version"), store_schema_version);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
	    "AND name = 'policies'"), 1);
	/* the database refuses what validation refuses, too */
	assert_int_not_equal(sqlite3_exec(store_db(f->s.st), "INSERT INTO policies(tenant_id, name, "
	    "priority, action, class, steering, created_at) VALUES (1, 'x', 70000, 'allow', "
	    "'bulk', 'priority', 0)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(store_db(f->s.st), "INSERT INTO policies(tenant_id, name, "
	    "priority, action, class, steering, created_at) VALUES (999, 'x', 1, 'allow', "
	    "'bulk', 'priority', 0)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(store_db(f->s.st), "INSERT INTO policies(tenant_id, name, "
	    "priority, action, class, steering, src_port_lo, src_port_hi, created_at) VALUES "
	    "(1, 'x', 1, 'allow', 'bulk', 'priority', 9, 8, 0)", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(fixture_count(f->s.st, "SELECT count(*) FROM policies"), 0);
}

/* Compiling ------------------------------------------------------------- */

static void
policy_any(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "r");
	p->id = 42;
	p->priority = 100;
	p->protocol = -1;
	p->src_port_hi = p->dst_port_hi = 65535;
	p->class = POLICY_BULK;
}

static void
test_compile_defaults(void **state)
{
	struct cnw_error err = { 0 };
	struct policy p;
	struct cls_rule r;

	(void)state;
	policy_any(&p);
	memset(&r, 0xaa, sizeof(r));
	assert_int_equal(policy_compile(&p, &r, &err), 0);
	assert_int_equal(r.match, 0);		/* matches everything */
	assert_int_equal(r.policy, 42);
	assert_int_equal(r.ipv, 0);
	assert_int_equal(r.action, POLICY_ALLOW);
	assert_int_equal(r.class, POLICY_BULK);
	assert_int_equal(r.steering, STEER_ACTIVE_STANDBY);
	assert_int_equal(r.nuplinks, 0);
	assert_int_equal(r.rate_kbps, 0);
	assert_int_equal(r.burst_bytes, 64 * 1024);
	assert_int_equal(r.max_latency_us, 0);
	assert_int_equal(cls_rule_check(&r), 0);

	/* burst: 50 ms at the rate, at least 64 KiB, or as given */
	p.rate_kbps = 1000;			/* 6250 bytes in 50 ms */
	assert_int_equal(policy_compile(&p, &r, &err), 0);
	assert_int_equal(r.burst_bytes, 64 * 1024);
	p.rate_kbps = 100000;			/* 100 Mbit/s: 625000 bytes */
	assert_int_equal(policy_compile(&p, &r, &err), 0);
	assert_int_equal(r.burst_bytes, 625000);
	p.rate_kbps = POLICY_RATE_MAX;
	assert_int_equal(policy_compile(&p, &r, &err), 0);
	assert_int_equal(r.burst_bytes, 625000000);
	p.burst_kb = POLICY_BURST_MAX;
	assert_int_equal(policy_compile(&p, &r, &err), 0);
	assert_int_equal(r.burst_bytes, 64u * 1024 * 1024);
	assert_int_equal(cls_rule_check(&r), 0);
}

static void
test_compile_fields(void **state)
{
	static const uint8_t src[16] = { 10, 20, 0, 0 };
	static const uint8_t dst[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0x01, 0x80 };
	struct cnw_error err = { 0 };
	struct policy p;
	struct cls_rule r;

	(void)state;
	policy_any(&p);
	p.protocol = 17;
	/* stored rows are canonical; compile clears host bits all the same */
	snprintf(p.src_prefix, sizeof(p.src_prefix), "10.20.30.40/16");
	p.src_port_lo = 5000;
	p.src_port_hi = 5000;
	p.dscp_mask = 1ull << 46;
	p.class = POLICY_REALTIME;
	p.steering = STEER_LOAD_BALANCE;
	p.nuplinks = 2;
	snprintf(p.uplinks[0], sizeof(p.uplinks[0]), "lte");
	snprintf(p.uplinks[1], sizeof(p.uplinks[1]), "sat");
	p.weights[0] = 3;
	p.weights[1] = 1000;
	p.rate_kbps = 2000;
	p.burst_kb = 100;
	p.max_latency_ms = 150;
	assert_int_equal(policy_compile(&p, &r, &err), 0);
	assert_int_equal(r.match, CLS_M_PROTO | CLS_M_SRC | CLS_M_SPORT | CLS_M_DSCP);
	assert_int_equal(r.proto, 17);
	assert_int_equal(r.ipv, 4);
	assert_int_equal(r.src_plen, 16);
	assert_memory_equal(r.src, src, 16);
	assert_int_equal(r.sport_lo, 5000);
	assert_int_equal(r.sport_hi, 5000);
	assert_true(r.dscp_mask == 1ull << 46);
	assert_int_equal(r.class, POLICY_REALTIME);
	assert_int_equal(r.steering, STEER_LOAD_BALANCE);
	assert_int_equal(r.nuplinks, 0);	/* the data path's to fill */
	assert_int_equal(r.uplink_port[0], 0);
	assert_int_equal(r.weight[0], 3);
	assert_int_equal(r.weight[1], 1000);
	assert_int_equal(r.weight[2], 0);
	assert_int_equal(r.rate_kbps, 2000);
	assert_int_equal(r.burst_bytes, 100 * 1024);
	assert_int_equal(r.max_latency_us, 150000);
	assert_int_equal(cls_rule_check(&r), 0);

	/* IPv6 destination, a port range, deny */
	policy_any(&p);
	p.protocol = 6;
	snprintf(p.dst_prefix, sizeof(p.dst_prefix), "fd00:0:0:1:8000::/65");
	p.dst_port_lo = 0;
	p.dst_port_hi = 1023;
	p.action = POLICY_DENY;
	assert_int_equal(policy_compile(&p, &r, &err), 0);
	assert_int_equal(r.match, CLS_M_PROTO | CLS_M_DST | CLS_M_DPORT);
	assert_int_equal(r.ipv, 6);
	assert_int_equal(r.dst_plen, 65);
	assert_memory_equal(r.dst, dst, 16);
	assert_int_equal(r.dport_lo, 0);
	assert_int_equal(r.dport_hi, 1023);
	assert_int_equal(r.action, POLICY_DENY);
	assert_int_equal(cls_rule_check(&r), 0);

	policy_any(&p);
	snprintf(p.dst_prefix, sizeof(p.dst_prefix), "nonsense");
	assert_int_equal(policy_compile(&p, &r, &err), -1);
	assert_non_null(strstr(err.msg, "dst_prefix"));
	policy_any(&p);
	snprintf(p.src_prefix, sizeof(p.src_prefix), "10.0.0.0/8");
	snprintf(p.dst_prefix, sizeof(p.dst_prefix), "fd00::/8");
	assert_int_equal(policy_compile(&p, &r, &err), -1);
}

/* What is stored compiles into a rule the worker accepts. */
static int
compile_check(const void *row, void *arg)
{
	const struct policy *p = row;
	struct cnw_error err = { 0 };
	struct cls_rule r;

	assert_int_equal(policy_compile(p, &r, &err), 0);
	assert_int_equal(cls_rule_check(&r), 0);
	assert_int_equal(r.policy, (uint32_t)p->id);
	++*(int *)arg;
	return 0;
}

static void
test_compile_stored(void **state)
{
	static const char *const two[] = { "lte", "sat" };
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct policy_spec s;
	struct policy p;
	int n = 0;

	spec_init(&s, "alpha", "lb");
	s.fields = POLICY_F_STEERING | POLICY_F_WEIGHTS | POLICY_F_RATE | POLICY_F_LATENCY |
	    POLICY_F_DST_PREFIX | POLICY_F_PROTOCOL | POLICY_F_DST_PORTS;
	s.p.steering = STEER_LOAD_BALANCE;
	spec_uplinks(&s, 2, two);
	s.p.weights[0] = 2;
	s.p.weights[1] = 1;
	s.p.rate_kbps = 50000;
	s.p.max_latency_ms = 80;
	snprintf(s.p.dst_prefix, sizeof(s.p.dst_prefix), "2001:db8::/32");
	s.p.protocol = 132;
	s.p.dst_port_lo = 36412;
	s.p.dst_port_hi = 36412;
	assert_int_equal(policy_create(f->s.st, &admin, "admin", &s, &p, &err), 0);
	spec_init(&s, "alpha", "block");
	s.fields = POLICY_F_ACTION | POLICY_F_SRC_PREFIX;
	s.p.action = POLICY_DENY;
	snprintf(s.p.src_prefix, sizeof(s.p.src_prefix), "0.0.0.0/0");
	assert_int_equal(policy_create(f->s.st, &admin, "admin", &s, &p, &err), 0);
	assert_int_equal(create(f, &f->beta, "beta", "plain", -1, &p, &err), 0);
	assert_int_equal(policy_row_each(f->s.st, 0, compile_check, &n, &err), 0);
	assert_int_equal(n, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validate_defaults),
		cmocka_unit_test(test_validate_canonical),
		cmocka_unit_test(test_validate_match_refused),
		cmocka_unit_test(test_validate_treatment_refused),
		cmocka_unit_test(test_parse_helpers),
		cmocka_unit_test_setup_teardown(test_create_and_list_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_priority_capped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refusals_write_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_most_policies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_delete_cascades, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uplink_in_use_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
		cmocka_unit_test(test_compile_defaults),
		cmocka_unit_test(test_compile_fields),
		cmocka_unit_test_setup_teardown(test_compile_stored, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
