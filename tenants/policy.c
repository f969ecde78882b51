/*
 * Policies: rules, operations, rows and their compiled form; see policy.h.
 *
 * Who may: whoever may see the tenant (the admin, or the tenant's own
 * token) may manage its policies.  Every value is checked before the
 * transaction (policy_validate, which the API process may also run for an
 * early answer); what depends on other rows (the name is free, the tenant
 * has room, the uplinks exist, the default priority) is decided inside it,
 * so two requests at once cannot both pass.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/store.h"
#include "tenants/policy.h"
#include "tenants/uplink.h"

/* A policy's uplinks become a rule's: one array bound for both. */
_Static_assert(NETWORK_UPLINKS_MAX == CLS_UPLINKS_MAX, "policy and rule uplinks differ");

#define POLICY_PRIORITY_DEFAULT 100
#define POLICY_PRIORITY_STEP 10		/* room to put one in between later */
#define POLICY_BURST_MIN_BYTES (64 * 1024)
#define POLICY_BURST_MS 50		/* the default burst: this long at the rate */

/* Names ----------------------------------------------------------------- */

/* In the order of the enums of netfn/classify.h. */
const char *const policy_action_names[POLICY_ACTION_MAX] = {
	[POLICY_ALLOW] = "allow",
	[POLICY_DENY] = "deny",
};
const char *const policy_class_names[POLICY_CLASS_MAX] = {
	[POLICY_REALTIME] = "realtime",
	[POLICY_INTERACTIVE] = "interactive",
	[POLICY_BULK] = "bulk",
	[POLICY_BACKGROUND] = "background",
};
const char *const policy_steering_names[STEER_MAX] = {
	[STEER_ACTIVE_STANDBY] = "active-standby",
	[STEER_SMALLEST_DELAY] = "smallest-delay",
	[STEER_LOAD_BALANCE] = "load-balance",
	[STEER_PRIORITY] = "priority",
	[STEER_REDUNDANT] = "redundant",
};

static const struct {
	const char *name;
	int number;
} policy_protocols[] = {
	{ "icmp", 1 },
	{ "tcp", 6 },
	{ "udp", 17 },
	{ "icmpv6", 58 },
	{ "sctp", 132 },
	{ "udplite", 136 },
};

static int
policy_name_index(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	return -1;
}

int
policy_action_parse(const char *s)
{
	return policy_name_index(policy_action_names, POLICY_ACTION_MAX, s);
}

int
policy_class_parse(const char *s)
{
	return policy_name_index(policy_class_names, POLICY_CLASS_MAX, s);
}

int
policy_steering_parse(const char *s)
{
	return policy_name_index(policy_steering_names, STEER_MAX, s);
}

/*
 * A decimal number of at most maxdigits digits and nothing else (no sign,
 * no space, no "0x"): strtoul would take all of those.  -1 if not.
 */
static long
policy_decimal(const char *s, size_t len, size_t maxdigits)
{
	long v = 0;

	if (len == 0 || len > maxdigits)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
policy_protocol_parse(const char *s)
{
	long v;

	for (size_t i = 0; i < sizeof(policy_protocols) / sizeof(policy_protocols[0]); i++)
		if (strcmp(policy_protocols[i].name, s) == 0)
			return policy_protocols[i].number;
	v = policy_decimal(s, strlen(s), 3);
	return v > 255 ? -1 : (int)v;
}

/* "any" for -1, which is what an absent protocol means. */
const char *
policy_protocol_name(int32_t proto, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(policy_protocols) / sizeof(policy_protocols[0]); i++)
		if (policy_protocols[i].number == proto)
			return policy_protocols[i].name;
	if (proto < 0)
		return "any";
	snprintf(buf, len, "%d", (int)proto);
	return buf;
}

int
policy_ports_parse(const char *s, uint32_t *lo, uint32_t *hi)
{
	const char *dash = strchr(s, '-');
	long a, b;

	if (dash == NULL)
		a = b = policy_decimal(s, strlen(s), 5);
	else {
		a = policy_decimal(s, (size_t)(dash - s), 5);
		b = policy_decimal(dash + 1, strlen(dash + 1), 5);
	}
	if (a < 0 || b < 0 || a > b || b > 65535)
		return -1;
	*lo = (uint32_t)a;
	*hi = (uint32_t)b;
	return 0;
}

/* Validation ------------------------------------------------------------ */

/* "allow, deny": the choices of an enum, for a message. */
static const char *
policy_choices(const char *const *names, int n, char *buf, size_t len)
{
	buf[0] = '\0';
	for (int i = 0; i < n; i++)
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? ", " : "", names[i]);
	return buf;
}

static int
policy_check_enum(const char *what, uint32_t v, const char *const *names, int n,
    struct cnw_error *err)
{
	char choices[96];

	if (v < (uint32_t)n)
		return 0;
	return cnw_err(err, CNW_EINVAL, "%s %u is not one of %s", what, v,
	    policy_choices(names, n, choices, sizeof(choices)));
}

/* Clear the bits of addr past plen (bits in all: 32 or 128). */
static void
policy_clear_host(uint8_t *addr, int plen, int bits)
{
	for (int i = plen; i < bits; i++)
		addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
}

/*
 * A match prefix, canonical, into s.  Unlike a subnet (network.c) any
 * length from /0 to a single host is a fair thing to match, and so is a
 * multicast or link-local range; a bare address means that host.  An
 * address with host bits set is refused, not silently widened: the user
 * most likely typed a host where they meant its network, or the length
 * wrong, and must say which.
 */
static int
policy_check_prefix(const char *what, char *s, size_t len, int *family,
    struct cnw_error *err)
{
	struct prefix p, net;
	char in[NETWORK_CIDR_MAX + 8], canon[NETWORK_CIDR_MAX];

	if (strnlen(s, len) == len)
		return cnw_err(err, CNW_EINVAL, "%s is too long", what);
	if (strchr(s, '/') != NULL)
		snprintf(in, sizeof(in), "%s", s);
	else
		snprintf(in, sizeof(in), "%s/%d", s, strchr(s, ':') ? 128 : 32);
	if (prefix_parse(in, &p) < 0)
		return cnw_err(err, CNW_EINVAL, "%s \"%s\" is not a prefix like 10.1.0.0/16, "
		    "fd00:1::/48 or an address", what, s);
	if (!prefix_is_network(&p)) {
		net = p;
		policy_clear_host(net.addr, p.plen, p.family == AF_INET ? 32 : 128);
		prefix_format(&net, canon, sizeof(canon));
		return cnw_err(err, CNW_EINVAL, "%s %s is not a network address (did you mean %s?)",
		    what, s, canon);
	}
	prefix_format(&p, s, len);
	*family = p.family;
	return 0;
}

static int
policy_check_prefixes(struct policy_spec *s, struct cnw_error *err)
{
	struct policy *p = &s->p;
	int sf = 0, df = 0;

	if ((s->fields & POLICY_F_SRC_PREFIX) &&
	    policy_check_prefix("src_prefix", p->src_prefix, sizeof(p->src_prefix), &sf, err) < 0)
		return -1;
	if ((s->fields & POLICY_F_DST_PREFIX) &&
	    policy_check_prefix("dst_prefix", p->dst_prefix, sizeof(p->dst_prefix), &df, err) < 0)
		return -1;
	if (sf != 0 && df != 0 && sf != df)
		return cnw_err(err, CNW_EINVAL, "src_prefix %s and dst_prefix %s are not of one "
		    "family (both IPv4 or both IPv6)", p->src_prefix, p->dst_prefix);
	return 0;
}

/* Ports belong to the protocols that have them (and to "any protocol"). */
static int
policy_has_ports(int32_t proto)
{
	return proto == -1 || proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

static int
policy_check_ports(const char *what, uint32_t lo, uint32_t hi, int32_t proto,
    struct cnw_error *err)
{
	if (lo > hi || hi > 65535)
		return cnw_err(err, CNW_EINVAL, "%s %u-%u: want PORT or LO-HI with LO <= HI <= 65535",
		    what, lo, hi);
	if (!policy_has_ports(proto))
		return cnw_err(err, CNW_EINVAL, "%s needs protocol tcp, udp, udplite or sctp", what);
	return 0;
}

/* The match: protocol, prefixes, ports (DSCP takes any 64 bits). */
static int
policy_check_match(struct policy_spec *s, struct cnw_error *err)
{
	struct policy *p = &s->p;

	if (p->protocol < -1 || p->protocol > 255)
		return cnw_err(err, CNW_EINVAL, "protocol %d is not a protocol number 0 to 255 "
		    "(or tcp, udp, icmp, icmpv6, sctp, udplite)", (int)p->protocol);
	if (policy_check_prefixes(s, err) < 0)
		return -1;
	if ((s->fields & POLICY_F_SRC_PORTS) &&
	    policy_check_ports("src_ports", p->src_port_lo, p->src_port_hi, p->protocol, err) < 0)
		return -1;
	if ((s->fields & POLICY_F_DST_PORTS) &&
	    policy_check_ports("dst_ports", p->dst_port_lo, p->dst_port_hi, p->protocol, err) < 0)
		return -1;
	return 0;
}

static int
policy_check_uplinks(const struct policy *p, struct cnw_error *err)
{
	if (p->nuplinks > NETWORK_UPLINKS_MAX)
		return cnw_err(err, CNW_EINVAL, "uplinks: %u given, at most %d", p->nuplinks,
		    NETWORK_UPLINKS_MAX);
	for (uint32_t i = 0; i < p->nuplinks; i++) {
		struct cnw_error why = { 0 };

		if (strnlen(p->uplinks[i], sizeof(p->uplinks[i])) == sizeof(p->uplinks[i]) ||
		    tenant_validate_name("uplink", p->uplinks[i], &why) < 0)
			return cnw_err(err, CNW_EINVAL, "uplinks: \"%.*s\" is not an uplink name: %s",
			    TENANT_NAME_MAX, p->uplinks[i], why.msg);
		for (uint32_t j = 0; j < i; j++)
			if (strcmp(p->uplinks[i], p->uplinks[j]) == 0)
				return cnw_err(err, CNW_EINVAL, "uplinks: %s is named twice",
				    p->uplinks[i]);
	}
	return 0;
}

/* Weights: with load-balance only, one from 1 to POLICY_WEIGHT_MAX per uplink. */
static int
policy_check_weights(const struct policy *p, struct cnw_error *err)
{
	if (p->steering != STEER_LOAD_BALANCE)
		return cnw_err(err, CNW_EINVAL, "weights need steering load-balance");
	if (p->nuplinks == 0)
		return cnw_err(err, CNW_EINVAL, "weights need uplinks: one weight per uplink");
	for (uint32_t i = 0; i < NETWORK_UPLINKS_MAX; i++)
		if (i < p->nuplinks ? p->weights[i] < 1 || p->weights[i] > POLICY_WEIGHT_MAX :
		    p->weights[i] != 0)
			return cnw_err(err, CNW_EINVAL, "weights: want one from 1 to %d for each "
			    "of the %u uplinks, in their order", POLICY_WEIGHT_MAX, p->nuplinks);
	return 0;
}

/* What matching flows get: action, class, steering, uplinks, rate, latency. */
static int
policy_check_treatment(const struct policy_spec *s, struct cnw_error *err)
{
	const struct policy *p = &s->p;
	const uint32_t forwarding = POLICY_F_STEERING | POLICY_F_UPLINKS | POLICY_F_WEIGHTS |
	    POLICY_F_RATE | POLICY_F_BURST | POLICY_F_LATENCY;

	if (policy_check_enum("action", p->action, policy_action_names, POLICY_ACTION_MAX,
	    err) < 0 ||
	    policy_check_enum("class", p->class, policy_class_names, POLICY_CLASS_MAX, err) < 0)
		return -1;
	/* Said first: the fields below are meaningless for it, whatever their values. */
	if (p->action == POLICY_DENY && (s->fields & forwarding))
		return cnw_err(err, CNW_EINVAL,
		    "a deny policy takes no steering, uplinks, rate or latency");
	if (policy_check_enum("steering", p->steering, policy_steering_names, STEER_MAX,
	    err) < 0 || policy_check_uplinks(p, err) < 0)
		return -1;
	if ((s->fields & POLICY_F_WEIGHTS) && policy_check_weights(p, err) < 0)
		return -1;
	if (p->steering == STEER_REDUNDANT && p->nuplinks == 1)
		return cnw_err(err, CNW_EINVAL, "steering redundant sends on two uplinks: name at "
		    "least 2 in uplinks, or none for all of the network's");
	if (p->rate_kbps > POLICY_RATE_MAX)
		return cnw_err(err, CNW_EINVAL, "rate_kbps %llu is over %d",
		    (unsigned long long)p->rate_kbps, POLICY_RATE_MAX);
	if ((s->fields & POLICY_F_BURST) && p->rate_kbps == 0)
		return cnw_err(err, CNW_EINVAL, "burst_kb needs a rate_kbps to be the burst of");
	if ((s->fields & POLICY_F_BURST) && (p->burst_kb < 1 || p->burst_kb > POLICY_BURST_MAX))
		return cnw_err(err, CNW_EINVAL, "burst_kb %u is not 1 to %d", p->burst_kb,
		    POLICY_BURST_MAX);
	if (p->max_latency_ms > POLICY_LATENCY_MAX)
		return cnw_err(err, CNW_EINVAL, "max_latency_ms %u is over %d", p->max_latency_ms,
		    POLICY_LATENCY_MAX);
	return 0;
}

/*
 * The value of every field not given is its default, whatever the caller
 * left in it: the fields bits are what the request said.  The priority's
 * default depends on the other policies; policy_create replaces this one.
 */
static void
policy_defaults(struct policy_spec *s)
{
	struct policy *p = &s->p;

	if (!(s->fields & POLICY_F_PRIORITY))
		p->priority = POLICY_PRIORITY_DEFAULT;
	if (!(s->fields & POLICY_F_PROTOCOL))
		p->protocol = -1;
	if (!(s->fields & POLICY_F_SRC_PREFIX))
		memset(p->src_prefix, 0, sizeof(p->src_prefix));
	if (!(s->fields & POLICY_F_DST_PREFIX))
		memset(p->dst_prefix, 0, sizeof(p->dst_prefix));
	if (!(s->fields & POLICY_F_SRC_PORTS))
		p->src_port_lo = 0, p->src_port_hi = 65535;
	if (!(s->fields & POLICY_F_DST_PORTS))
		p->dst_port_lo = 0, p->dst_port_hi = 65535;
	if (!(s->fields & POLICY_F_DSCP))
		p->dscp_mask = 0;
	if (!(s->fields & POLICY_F_ACTION))
		p->action = POLICY_ALLOW;
	if (!(s->fields & POLICY_F_CLASS))
		p->class = CLS_DEFAULT_CLASS;
	if (!(s->fields & POLICY_F_STEERING))
		p->steering = CLS_DEFAULT_STEERING;
	if (!(s->fields & POLICY_F_UPLINKS)) {
		p->nuplinks = 0;
		memset(p->uplinks, 0, sizeof(p->uplinks));
	}
	if (!(s->fields & POLICY_F_WEIGHTS))
		memset(p->weights, 0, sizeof(p->weights));
	if (!(s->fields & POLICY_F_RATE))
		p->rate_kbps = 0;
	if (!(s->fields & POLICY_F_BURST))
		p->burst_kb = 0;
	if (!(s->fields & POLICY_F_LATENCY))
		p->max_latency_ms = 0;
}

int
policy_validate(struct policy_spec *s, struct cnw_error *err)
{
	policy_defaults(s);
	/* A name that fills its array has no NUL: refused before anything reads it. */
	if (strnlen(s->p.name, sizeof(s->p.name)) == sizeof(s->p.name))
		s->p.name[0] = '\0';
	if (tenant_validate_name("policy", s->p.name, err) < 0)
		return -1;
	if (s->p.priority > POLICY_PRIORITY_MAX)
		return cnw_err(err, CNW_EINVAL, "priority %u is over %d", s->p.priority,
		    POLICY_PRIORITY_MAX);
	if (policy_check_match(s, err) < 0)
		return -1;
	return policy_check_treatment(s, err);
}

/* Rows ------------------------------------------------------------------ */

#define POLICY_COLUMNS \
	"p.id, p.tenant_id, t.name, p.name, p.priority, p.protocol, p.src_prefix, " \
	"p.dst_prefix, p.src_port_lo, p.src_port_hi, p.dst_port_lo, p.dst_port_hi, " \
	"p.dscp_mask, p.action, p.class, p.steering, p.uplinks, p.weights, p.rate_kbps, " \
	"p.burst_kb, p.max_latency_ms, p.created_at " \
	"FROM policies p JOIN tenants t ON t.id = p.tenant_id"

/* "a,b,c" into at most NETWORK_UPLINKS_MAX names; their count. */
static uint32_t
policy_split_uplinks(const char *csv, char out[][TENANT_NAME_MAX + 1])
{
	uint32_t n = 0;
	size_t len;

	while (*csv != '\0' && n < NETWORK_UPLINKS_MAX) {
		len = strcspn(csv, ",");
		snprintf(out[n++], TENANT_NAME_MAX + 1, "%.*s", (int)len, csv);
		csv += len + (csv[len] == ',');
	}
	return n;
}

/* "3,1": written by policy_row_insert only, so digits and commas. */
static void
policy_split_weights(const char *csv, uint32_t *out)
{
	char *end;

	for (uint32_t n = 0; *csv != '\0' && n < NETWORK_UPLINKS_MAX; n++) {
		out[n] = (uint32_t)strtoul(csv, &end, 10);
		if (end == csv)
			break;
		csv = end + (*end == ',');
	}
}

/* The enum of a stored name; a row no build of ours wrote fails loudly. */
static int
policy_enum_from_row(sqlite3_stmt *s, int col, int v, const char *what, uint32_t *out,
    struct cnw_error *err)
{
	if (v < 0)
		return cnw_err(err, CNW_EINTERNAL, "policy %lld: stored %s \"%s\" is unknown",
		    (long long)sqlite3_column_int64(s, 0), what, row_text(s, col));
	*out = (uint32_t)v;
	return 0;
}

static int
policy_from_row(sqlite3_stmt *s, void *out, struct cnw_error *err)
{
	struct policy *p = out;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(s, 0);
	p->tenant_id = sqlite3_column_int64(s, 1);
	row_str(p->tenant, sizeof(p->tenant), s, 2);
	row_str(p->name, sizeof(p->name), s, 3);
	p->priority = (uint32_t)sqlite3_column_int64(s, 4);
	p->protocol = (int32_t)sqlite3_column_int64(s, 5);
	row_str(p->src_prefix, sizeof(p->src_prefix), s, 6);
	row_str(p->dst_prefix, sizeof(p->dst_prefix), s, 7);
	p->src_port_lo = (uint32_t)sqlite3_column_int64(s, 8);
	p->src_port_hi = (uint32_t)sqlite3_column_int64(s, 9);
	p->dst_port_lo = (uint32_t)sqlite3_column_int64(s, 10);
	p->dst_port_hi = (uint32_t)sqlite3_column_int64(s, 11);
	p->dscp_mask = (uint64_t)sqlite3_column_int64(s, 12);
	if (policy_enum_from_row(s, 13, policy_action_parse(row_text(s, 13)), "action",
	    &p->action, err) < 0 ||
	    policy_enum_from_row(s, 14, policy_class_parse(row_text(s, 14)), "class",
	    &p->class, err) < 0 ||
	    policy_enum_from_row(s, 15, policy_steering_parse(row_text(s, 15)), "steering",
	    &p->steering, err) < 0)
		return -1;
	p->nuplinks = policy_split_uplinks(row_text(s, 16), p->uplinks);
	policy_split_weights(row_text(s, 17), p->weights);
	p->rate_kbps = (uint64_t)sqlite3_column_int64(s, 18);
	p->burst_kb = (uint32_t)sqlite3_column_int64(s, 19);
	p->max_latency_ms = (uint32_t)sqlite3_column_int64(s, 20);
	p->created_at = sqlite3_column_int64(s, 21);
	return 0;
}

static const struct row_desc policy_rows = {
	.one = "policy", .many = "policies", .read = "list policies",
	.delete_sql = ROW_DELETE_SQL("policies"), .size = sizeof(struct policy),
	.from_row = policy_from_row,
};

int
policy_row_each(struct store *st, int64_t tenant_id, policy_each_fn fn, void *arg,
    struct cnw_error *err)
{
	static const char sql[] = "SELECT " POLICY_COLUMNS
	    " WHERE ?1 = 0 OR p.tenant_id = ?1 ORDER BY p.tenant_id, p.priority, p.id";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, tenant_id, err) < 0)
		return -1;
	return row_each(st, &policy_rows, s, fn, arg, err);
}

/* 1 found, 0 not, -1 error. */
static int
policy_row_get(struct store *st, int64_t tenant_id, const char *name, struct policy *out,
    struct cnw_error *err)
{
	static const char sql[] = "SELECT " POLICY_COLUMNS
	    " WHERE p.tenant_id = ? AND p.name = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_int64(st, s, 1, tenant_id, err) < 0 ||
	    store_bind_text(st, s, 2, name, err) < 0)
		return -1;
	return row_get(st, &policy_rows, s, out, err);
}

/* One number from a query of one row and one column, bound to an id or a text. */
static int
policy_row_number(struct store *st, const char *sql, int64_t id, const char *text,
    int64_t *v, struct cnw_error *err)
{
	sqlite3_stmt *s = store_stmt(st, sql, err);
	int rc;

	if (s == NULL || (text ? store_bind_text(st, s, 1, text, err) :
	    store_bind_int64(st, s, 1, id, err)) < 0)
		return -1;
	rc = sqlite3_step(s);
	*v = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
	sqlite3_reset(s);
	return rc == SQLITE_ROW ? 0 : store_sql_err(st, rc, "count policies", err);
}

int
policy_row_count_uplink(struct store *st, const char *uplink, int64_t *count,
    struct cnw_error *err)
{
	/* instr, not LIKE: an exact name between commas, no wildcards. */
	static const char sql[] = "SELECT count(*) FROM policies "
	    "WHERE instr(',' || uplinks || ',', ',' || ?1 || ',') > 0";

	return policy_row_number(st, sql, 0, uplink, count, err);
}

/* "lte,sat" and "3,1": the stored form of a policy's uplinks and weights. */
static void
policy_join(const struct policy *p, char *uplinks, size_t ulen, char *weights, size_t wlen)
{
	uplinks[0] = weights[0] = '\0';
	for (uint32_t i = 0; i < p->nuplinks; i++) {
		snprintf(uplinks + strlen(uplinks), ulen - strlen(uplinks), "%s%s", i ? "," : "",
		    p->uplinks[i]);
		if (p->weights[i] != 0)
			snprintf(weights + strlen(weights), wlen - strlen(weights), "%s%u",
			    i ? "," : "", p->weights[i]);
	}
}

static int
policy_row_insert(struct store *st, struct policy *p, struct cnw_error *err)
{
	static const char sql[] = "INSERT INTO policies(tenant_id, name, priority, protocol, "
	    "src_prefix, dst_prefix, src_port_lo, src_port_hi, dst_port_lo, dst_port_hi, "
	    "dscp_mask, action, class, steering, uplinks, weights, rate_kbps, burst_kb, "
	    "max_latency_ms, created_at) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	char uplinks[NETWORK_UPLINKS_MAX * (TENANT_NAME_MAX + 1)], weights[NETWORK_UPLINKS_MAX * 8];
	sqlite3_stmt *s = store_stmt(st, sql, err);

	policy_join(p, uplinks, sizeof(uplinks), weights, sizeof(weights));
	if (s == NULL || store_bind_int64(st, s, 1, p->tenant_id, err) < 0 ||
	    store_bind_text(st, s, 2, p->name, err) < 0 ||
	    store_bind_int64(st, s, 3, p->priority, err) < 0 ||
	    store_bind_int64(st, s, 4, p->protocol, err) < 0 ||
	    store_bind_text(st, s, 5, p->src_prefix, err) < 0 ||
	    store_bind_text(st, s, 6, p->dst_prefix, err) < 0 ||
	    store_bind_int64(st, s, 7, p->src_port_lo, err) < 0 ||
	    store_bind_int64(st, s, 8, p->src_port_hi, err) < 0 ||
	    store_bind_int64(st, s, 9, p->dst_port_lo, err) < 0 ||
	    store_bind_int64(st, s, 10, p->dst_port_hi, err) < 0 ||
	    store_bind_int64(st, s, 11, (int64_t)p->dscp_mask, err) < 0 ||
	    store_bind_text(st, s, 12, policy_action_names[p->action], err) < 0 ||
	    store_bind_text(st, s, 13, policy_class_names[p->class], err) < 0 ||
	    store_bind_text(st, s, 14, policy_steering_names[p->steering], err) < 0 ||
	    store_bind_text(st, s, 15, uplinks, err) < 0 ||
	    store_bind_text(st, s, 16, weights, err) < 0 ||
	    store_bind_int64(st, s, 17, (int64_t)p->rate_kbps, err) < 0 ||
	    store_bind_int64(st, s, 18, p->burst_kb, err) < 0 ||
	    store_bind_int64(st, s, 19, p->max_latency_ms, err) < 0 ||
	    store_bind_int64(st, s, 20, p->created_at, err) < 0 ||
	    store_exec_stmt(st, s, "insert policy", err) < 0)
		return -1;
	p->id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

/* Operations ------------------------------------------------------------ */

/* The tenant as who sees it (404 for another's), and a policy of it. */
static int
policy_find(struct store *st, const struct principal *who, const char *tenant,
    const char *name, struct tenant *t, struct policy *p, struct cnw_error *err)
{
	int rc;

	if (tenant_get(st, who, tenant, t, err) < 0)
		return -1;
	if (name == NULL)
		return 0;
	if ((rc = policy_row_get(st, t->id, name, p, err)) < 0)
		return -1;
	if (rc == 0)
		return cnw_err(err, CNW_ENOENT, "policy \"%s\" of tenant \"%s\" not found",
		    name, tenant);
	return 0;
}

struct policy_tx {
	const char *actor;
	const struct tenant *t;
	struct policy *p;
	uint32_t fields;
};

/* Room in the tenant and a free name. */
static int
policy_check_room(struct store *st, const struct policy_tx *tx, struct cnw_error *err)
{
	static const char count_sql[] = "SELECT count(*) FROM policies WHERE tenant_id = ?";
	struct policy other;
	int64_t n;
	int rc;

	if ((rc = policy_row_get(st, tx->t->id, tx->p->name, &other, err)) != 0)
		return rc < 0 ? -1 : cnw_err(err, CNW_EEXIST,
		    "policy \"%s\" of tenant \"%s\" already exists", tx->p->name, tx->t->name);
	if (policy_row_number(st, count_sql, tx->t->id, NULL, &n, err) < 0)
		return -1;
	if (n >= POLICY_MAX)
		return cnw_err(err, CNW_EEXIST, "tenant \"%s\" has %lld policies, the most allowed",
		    tx->t->name, (long long)n);
	return 0;
}

/* Not given: after the tenant's last policy, so a new one never jumps ahead. */
static int
policy_default_priority(struct store *st, const struct policy_tx *tx, struct cnw_error *err)
{
	static const char sql[] = "SELECT ifnull(max(priority), -1) FROM policies "
	    "WHERE tenant_id = ?";
	int64_t v;

	if (policy_row_number(st, sql, tx->t->id, NULL, &v, err) < 0)
		return -1;
	v = v < 0 ? POLICY_PRIORITY_DEFAULT : v + POLICY_PRIORITY_STEP;
	tx->p->priority = v > POLICY_PRIORITY_MAX ? POLICY_PRIORITY_MAX : (uint32_t)v;
	return 0;
}

static int
policy_create_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct policy_tx *tx = arg;
	struct uplink u;
	int rc;

	if (policy_check_room(st, tx, err) < 0)
		return -1;
	for (uint32_t i = 0; i < tx->p->nuplinks; i++)
		if ((rc = uplink_row_get(st, tx->p->uplinks[i], &u, err)) <= 0)
			return rc < 0 ? -1 : cnw_err(err, CNW_EINVAL, "uplink \"%s\" does not exist",
			    tx->p->uplinks[i]);
	if (!(tx->fields & POLICY_F_PRIORITY) && policy_default_priority(st, tx, err) < 0)
		return -1;
	if (policy_row_insert(st, tx->p, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "policy.create", tx->p->name, tx->t->name, err);
}

int
policy_create(struct store *st, const struct principal *who, const char *actor,
    struct policy_spec *spec, struct policy *out, struct cnw_error *err)
{
	struct tenant t;
	struct policy_tx tx = { actor, &t, out, spec->fields };

	memset(out, 0, sizeof(*out));
	if (policy_find(st, who, spec->p.tenant, NULL, &t, NULL, err) < 0 ||
	    policy_validate(spec, err) < 0)
		return -1;
	*out = spec->p;
	out->id = 0;
	out->tenant_id = t.id;
	snprintf(out->tenant, sizeof(out->tenant), "%s", t.name);
	out->created_at = store_now();
	if (store_tx(st, policy_create_tx, &tx, err) < 0) {
		out->id = 0;
		return -1;
	}
	return 0;
}

int
policy_get(struct store *st, const struct principal *who, const char *tenant,
    const char *name, struct policy *out, struct cnw_error *err)
{
	struct tenant t;

	return policy_find(st, who, tenant, name, &t, out, err);
}

int
policy_list(struct store *st, const struct principal *who, const char *tenant,
    policy_each_fn fn, void *arg, struct cnw_error *err)
{
	struct tenant t;

	if (policy_find(st, who, tenant, NULL, &t, NULL, err) < 0)
		return -1;
	return policy_row_each(st, t.id, fn, arg, err);
}

static int
policy_delete_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct policy_tx *tx = arg;

	if (row_delete(st, &policy_rows, tx->p->id, err) < 0)
		return -1;
	return store_audit(st, tx->actor, "policy.delete", tx->p->name, tx->t->name, err);
}

int
policy_delete(struct store *st, const struct principal *who, const char *actor,
    const char *tenant, const char *name, struct policy *gone, struct cnw_error *err)
{
	struct tenant t;
	struct policy_tx tx = { actor, &t, gone, 0 };

	if (policy_find(st, who, tenant, name, &t, gone, err) < 0)
		return -1;
	return store_tx(st, policy_delete_tx, &tx, err);
}

/* Compiling ------------------------------------------------------------- */

/* A prefix into a rule's address, length and family (4 or 6). */
static int
policy_compile_prefix(const struct policy *p, const char *what, const char *in,
    uint8_t addr[16], uint8_t *plen, uint8_t *ipv, struct cnw_error *err)
{
	struct prefix x;
	uint8_t v;

	if (prefix_parse(in, &x) < 0)
		return cnw_err(err, CNW_EINVAL, "policy \"%s\": %s \"%s\" is not a prefix",
		    p->name, what, in);
	v = x.family == AF_INET ? 4 : 6;
	if (*ipv != 0 && *ipv != v)
		return cnw_err(err, CNW_EINVAL, "policy \"%s\": src_prefix and dst_prefix are "
		    "not of one family", p->name);
	*ipv = v;
	policy_clear_host(x.addr, x.plen, v == 4 ? 32 : 128);
	memcpy(addr, x.addr, 16);
	*plen = (uint8_t)x.plen;
	return 0;
}

static void
policy_compile_ports(const struct policy *p, struct cls_rule *r)
{
	if (p->src_port_lo != 0 || p->src_port_hi != 65535) {
		r->match |= CLS_M_SPORT;
		r->sport_lo = (uint16_t)p->src_port_lo;
		r->sport_hi = (uint16_t)p->src_port_hi;
	}
	if (p->dst_port_lo != 0 || p->dst_port_hi != 65535) {
		r->match |= CLS_M_DPORT;
		r->dport_lo = (uint16_t)p->dst_port_lo;
		r->dport_hi = (uint16_t)p->dst_port_hi;
	}
}

/* The default bucket holds POLICY_BURST_MS at the rate, and never less than 64 KiB. */
static uint32_t
policy_burst_bytes(const struct policy *p)
{
	uint64_t b;

	if (p->burst_kb != 0)
		return p->burst_kb * 1024u;
	b = p->rate_kbps * 1000 / 8 * POLICY_BURST_MS / 1000;
	if (b < POLICY_BURST_MIN_BYTES)
		b = POLICY_BURST_MIN_BYTES;
	return b > UINT32_MAX ? UINT32_MAX : (uint32_t)b;
}

int
policy_compile(const struct policy *p, struct cls_rule *out, struct cnw_error *err)
{
	struct cls_rule r;

	memset(&r, 0, sizeof(r));
	if (p->protocol >= 0) {
		r.match |= CLS_M_PROTO;
		r.proto = (uint8_t)p->protocol;
	}
	if (p->src_prefix[0] != '\0') {
		r.match |= CLS_M_SRC;
		if (policy_compile_prefix(p, "src_prefix", p->src_prefix, r.src, &r.src_plen,
		    &r.ipv, err) < 0)
			return -1;
	}
	if (p->dst_prefix[0] != '\0') {
		r.match |= CLS_M_DST;
		if (policy_compile_prefix(p, "dst_prefix", p->dst_prefix, r.dst, &r.dst_plen,
		    &r.ipv, err) < 0)
			return -1;
	}
	policy_compile_ports(p, &r);
	if (p->dscp_mask != 0) {
		r.match |= CLS_M_DSCP;
		r.dscp_mask = p->dscp_mask;
	}
	r.policy = (uint32_t)p->id;
	r.action = (uint8_t)p->action;
	r.class = (uint8_t)p->class;
	r.steering = (uint8_t)p->steering;
	for (uint32_t i = 0; i < p->nuplinks && i < CLS_UPLINKS_MAX; i++)
		r.weight[i] = (uint16_t)p->weights[i];
	r.rate_kbps = p->rate_kbps;
	r.burst_bytes = policy_burst_bytes(p);
	r.max_latency_us = p->max_latency_ms * 1000u;
	*out = r;
	return 0;
}
