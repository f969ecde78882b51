/*
 * Uplinks and peers: rules, operations and rows; see uplink.h.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "lib/store.h"
#include "tenants/policy.h"
#include "tenants/uplink.h"

static int
uplink_admin_only(const struct principal *who, const char *what, struct cnw_error *err)
{
	return who->is_admin ? 0 : cnw_err(err, CNW_EPERM, "%s needs the admin token", what);
}

/* "02:00:00:00:00:01": six hex pairs, unicast (an overlay peer is one host). */
static int
uplink_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	int n = 0;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%n", &v[0], &v[1], &v[2], &v[3],
	    &v[4], &v[5], &n) != 6 || n != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[3 * i]) || !isxdigit((unsigned char)s[3 * i + 1]))
			return -1;
		mac[i] = (uint8_t)v[i];
	}
	return (mac[0] & 1) ? -1 : 0;
}

int
uplink_parse_endpoint(const char *s, uint16_t *family, uint8_t addr[16], uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (uplink_parse_mac(s, addr) == 0) {
		memset(addr + 6, 0, 10);
		*family = AF_PACKET;
		*port = 0;
		return 0;
	}
	if (addr_endpoint_parse(s, &ss, &len) < 0)
		return -1;
	memset(addr, 0, 16);
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		memcpy(addr, &in->sin_addr, 4);
		*port = in->sin_port;
	} else {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
		memcpy(addr, &in6->sin6_addr, 16);
		*port = in6->sin6_port;
	}
	*family = ss.ss_family;
	return 0;
}

static int
uplink_validate_ifname(const char *what, const char *s, size_t max, struct cnw_error *err)
{
	size_t n = strlen(s);

	if (n == 0 || n > max || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		goto bad;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' || s[i] == '_' || s[i] == '.'))
			goto bad;
	return 0;
bad:
	return cnw_err(err, CNW_EINVAL, "%s \"%s\" must be 1 to %zu letters, digits, '-', '_' or '.'",
	    what, s, max);
}

/* udp, afpacket, or a plug-in's name: [a-z][a-z0-9-]{0,14}. */
static int
uplink_driver_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > UPLINK_DRIVER_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

static int
uplink_validate(const struct uplink *u, struct cnw_error *err)
{
	uint16_t family, port;
	uint8_t addr[16];

	if (tenant_validate_name("uplink", u->name, err) < 0 ||
	    uplink_validate_ifname("interface", u->interface, UPLINK_IFNAME_MAX, err) < 0 ||
	    (u->netns[0] != '\0' &&
	    uplink_validate_ifname("netns", u->netns, UPLINK_NETNS_MAX, err) < 0))
		return -1;
	if (!uplink_driver_name_ok(u->driver))
		return cnw_err(err, CNW_EINVAL, "driver \"%s\" is not udp, afpacket or a plug-in's "
		    "name (1 to %d of a-z, 0-9 and '-', starting with a letter)", u->driver,
		    UPLINK_DRIVER_MAX);
	if (strcmp(u->driver, "afpacket") == 0) {
		if (u->address[0] != '\0')
			return cnw_err(err, CNW_EINVAL, "an afpacket uplink carries the overlay "
			    "in Ethernet frames: it has no address (the peer's endpoint is a MAC)");
		return 0;
	}
	if (uplink_parse_endpoint(u->address, &family, addr, &port) < 0 || family == AF_PACKET)
		return cnw_err(err, CNW_EINVAL,
		    "address \"%s\" is not ADDRESS:PORT (IPv4, or [IPv6]:PORT)", u->address);
	return 0;
}

int
uplink_driver_builtin(const char *driver)
{
	return strcmp(driver, "udp") == 0 || strcmp(driver, "afpacket") == 0;
}

/* Change ------------------------------------------------------------------ */

int
uplink_change_empty(const struct uplink_change *c)
{
	return c->profile[0] == '\0' && !c->has_seed && c->set[0] == 0 && c->set[1] == 0 &&
	    c->admin == UPLINK_KEEP && c->flap_op == UPLINK_KEEP;
}

uint64_t
uplink_dir_get(const struct emu_dir *d, uint32_t bit)
{
	switch (bit) {
	case UPLINK_SET_RATE: return d->rate_kbps;
	case UPLINK_SET_DELAY: return d->delay_us;
	case UPLINK_SET_JITTER: return d->jitter_us;
	case UPLINK_SET_LOSS: return d->loss_ppm;
	case UPLINK_SET_SLOT: return d->slot_us;
	case UPLINK_SET_QUEUE: return d->queue_kb;
	default: return 0;
	}
}

void
uplink_dir_set(struct emu_dir *d, uint32_t bit, uint64_t v)
{
	/* Values over a 32-bit field are refused by emu_dir_check, never wrapped into range. */
	uint32_t v32 = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;

	switch (bit) {
	case UPLINK_SET_RATE: d->rate_kbps = v; break;
	case UPLINK_SET_DELAY: d->delay_us = v32; break;
	case UPLINK_SET_JITTER: d->jitter_us = v32; break;
	case UPLINK_SET_LOSS: d->loss_ppm = v32; break;
	case UPLINK_SET_SLOT: d->slot_us = v32; break;
	case UPLINK_SET_QUEUE: d->queue_kb = v32; break;
	}
}

/* The fields whose bit is in set, from v into d. */
static void
uplink_dir_apply(struct emu_dir *d, const struct emu_dir *v, uint32_t set)
{
	for (uint32_t bit = 1; bit <= UPLINK_SET_QUEUE; bit <<= 1)
		if (set & bit)
			uplink_dir_set(d, bit, uplink_dir_get(v, bit));
}

int
uplink_change_apply(struct uplink *u, const struct uplink_change *c, struct cnw_error *err)
{
	static const char *const dirname[2] = { "egress", "ingress" };
	struct emu_params p = u->emu;
	struct emu_flap f;
	char why[160], flap[UPLINK_FLAP_MAX];

	snprintf(flap, sizeof(flap), "%s", u->flap);
	if (c->profile[0] != '\0') {
		uint64_t seed = p.seed;

		if (emu_profile_find(c->profile, &p) < 0) {
			char names[160] = "";
			const char *n;

			for (size_t i = 0; (n = emu_profile_name(i)) != NULL; i++)
				snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				    i ? ", " : "", n);
			return cnw_err(err, CNW_EINVAL, "emulation profile \"%s\" is not one of: %s",
			    c->profile, names);
		}
		p.seed = seed;
	}
	if (c->has_seed)
		p.seed = c->seed;
	for (int i = 0; i < 2; i++) {
		if (c->set[i] == 0)
			continue;
		uplink_dir_apply(i == 0 ? &p.egress : &p.ingress, &c->dir[i], c->set[i]);
		/* Numbers by hand: the profile's name no longer describes them. */
		snprintf(p.profile, sizeof(p.profile), "custom");
	}
	for (int i = 0; i < 2; i++)
		if (emu_dir_check(i == 0 ? &p.egress : &p.ingress, why, sizeof(why)) < 0)
			return cnw_err(err, CNW_EINVAL, "emulation %s: %s", dirname[i], why);
	if (!emu_dir_active(&p.egress) && !emu_dir_active(&p.ingress))
		p.profile[0] = '\0';
	if (c->flap_op == UPLINK_FLAP_SET) {
		if (emu_flap_parse(c->flap, &f, why, sizeof(why)) < 0)
			return cnw_err(err, CNW_EINVAL, "flap: %s", why);
		emu_flap_format(&f, flap, sizeof(flap));
	} else if (c->flap_op == UPLINK_FLAP_CLEAR) {
		flap[0] = '\0';
	}
	u->emu = p;
	memcpy(u->flap, flap, sizeof(u->flap));
	if (c->admin != UPLINK_KEEP)
		u->admin_down = c->admin == UPLINK_ADMIN_DOWN;
	return 0;
}

/* Rows ------------------------------------------------------------------ */

#define UPLINK_COLUMNS "id, name, interface, netns, driver, address, created_at, " \
	"emu_profile, emu_seed, admin_down, flap, " UPLINK_EMU_COLUMNS " FROM uplinks"
#define UPLINK_EMU_COLUMNS "eg_rate_kbps, eg_delay_us, eg_jitter_us, eg_loss_ppm, " \
	"eg_slot_us, eg_queue_kb, in_rate_kbps, in_delay_us, in_jitter_us, in_loss_ppm, " \
	"in_slot_us, in_queue_kb"

/* A direction's six numbers from column col on. */
static void
uplink_dir_from_row(sqlite3_stmt *s, int col, struct emu_dir *d)
{
	d->rate_kbps = (uint64_t)sqlite3_column_int64(s, col);
	d->delay_us = (uint32_t)sqlite3_column_int64(s, col + 1);
	d->jitter_us = (uint32_t)sqlite3_column_int64(s, col + 2);
	d->loss_ppm = (uint32_t)sqlite3_column_int64(s, col + 3);
	d->slot_us = (uint32_t)sqlite3_column_int64(s, col + 4);
	d->queue_kb = (uint32_t)sqlite3_column_int64(s, col + 5);
}

static int
uplink_dir_bind(struct store *st, sqlite3_stmt *s, int col, const struct emu_dir *d,
    struct cnw_error *err)
{
	return store_bind_int64(st, s, col, (int64_t)d->rate_kbps, err) < 0 ||
	    store_bind_int64(st, s, col + 1, d->delay_us, err) < 0 ||
	    store_bind_int64(st, s, col + 2, d->jitter_us, err) < 0 ||
	    store_bind_int64(st, s, col + 3, d->loss_ppm, err) < 0 ||
	    store_bind_int64(st, s, col + 4, d->slot_us, err) < 0 ||
	    store_bind_int64(st, s, col + 5, d->queue_kb, err) < 0 ? -1 : 0;
}

static int
uplink_from_row(sqlite3_stmt *s, void *out, struct cnw_error *err)
{
	struct uplink *u = out;

	memset(u, 0, sizeof(*u));
	u->id = sqlite3_column_int64(s, 0);
	row_str(u->name, sizeof(u->name), s, 1);
	row_str(u->interface, sizeof(u->interface), s, 2);
	row_str(u->netns, sizeof(u->netns), s, 3);
	row_str(u->driver, sizeof(u->driver), s, 4);
	row_str(u->address, sizeof(u->address), s, 5);
	u->created_at = sqlite3_column_int64(s, 6);
	row_str(u->emu.profile, sizeof(u->emu.profile), s, 7);
	u->emu.seed = (uint64_t)sqlite3_column_int64(s, 8);
	u->admin_down = sqlite3_column_int(s, 9) != 0;
	row_str(u->flap, sizeof(u->flap), s, 10);
	uplink_dir_from_row(s, 11, &u->emu.egress);
	uplink_dir_from_row(s, 17, &u->emu.ingress);
	return 0;
}

static const struct row_desc uplink_rows = {
	.one = "uplink", .many = "uplinks", .read = "list uplinks",
	.delete_sql = ROW_DELETE_SQL("uplinks"), .size = sizeof(struct uplink),
	.from_row = uplink_from_row,
};

int
uplink_row_each(struct store *st, uplink_each_fn fn, void *arg, struct cnw_error *err)
{
	static const char sql[] = "SELECT " UPLINK_COLUMNS " ORDER BY name";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	return s == NULL ? -1 : row_each(st, &uplink_rows, s, fn, arg, err);
}

int
uplink_row_get(struct store *st, const char *name, struct uplink *out, struct cnw_error *err)
{
	static const char sql[] = "SELECT " UPLINK_COLUMNS " WHERE name = ?";
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_text(st, s, 1, name, err) < 0)
		return -1;
	return row_get(st, &uplink_rows, s, out, err);
}

static int
peer_endpoints_load(struct store *st, void *out, struct cnw_error *err)
{
	static const char sql[] = "SELECT u.name, e.endpoint FROM peer_endpoints e "
	    "JOIN uplinks u ON u.id = e.uplink_id WHERE e.peer_id = ? ORDER BY u.name";
	struct peer *p = out;
	sqlite3_stmt *s = store_stmt(st, sql, err);
	int rc;

	p->nendpoints = 0;
	if (s == NULL || store_bind_int64(st, s, 1, p->id, err) < 0)
		return -1;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW && p->nendpoints < PEER_ENDPOINTS_MAX) {
		struct peer_endpoint *e = &p->endpoints[p->nendpoints++];

		row_str(e->uplink, sizeof(e->uplink), s, 0);
		row_str(e->endpoint, sizeof(e->endpoint), s, 1);
	}
	sqlite3_reset(s);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : store_sql_err(st, rc, "peer", err);
}

static int
peer_from_row(sqlite3_stmt *s, void *out, struct cnw_error *err)
{
	struct peer *p = out;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(s, 0);
	row_str(p->name, sizeof(p->name), s, 1);
	p->created_at = sqlite3_column_int64(s, 2);
	return 0;
}

static const struct row_desc peer_rows = {
	.one = "peer", .many = "peers", .read = "read peer",
	.delete_sql = ROW_DELETE_SQL("peers"), .size = sizeof(struct peer),
	.from_row = peer_from_row, .load = peer_endpoints_load,
};

/* Peers by id (id > 0) or by name; 1 found, 0 not, -1 error. */
static int
peer_row_find(struct store *st, int64_t id, const char *name, struct peer *out,
    struct cnw_error *err)
{
	static const char by_id[] = "SELECT id, name, created_at FROM peers WHERE id = ?";
	static const char by_name[] = "SELECT id, name, created_at FROM peers WHERE name = ?";
	sqlite3_stmt *s = store_stmt(st, name ? by_name : by_id, err);

	memset(out, 0, sizeof(*out));
	if (s == NULL || (name ? store_bind_text(st, s, 1, name, err) :
	    store_bind_int64(st, s, 1, id, err)) < 0)
		return -1;
	return row_get(st, &peer_rows, s, out, err);
}

int
peer_row_get_id(struct store *st, int64_t id, struct peer *out, struct cnw_error *err)
{
	return peer_row_find(st, id, NULL, out, err);
}

int
peer_row_get(struct store *st, const char *name, struct peer *out, struct cnw_error *err)
{
	return peer_row_find(st, 0, name, out, err);
}

const char *
peer_endpoint_of(const struct peer *p, const char *uplink)
{
	for (uint32_t i = 0; i < p->nendpoints; i++)
		if (strcmp(p->endpoints[i].uplink, uplink) == 0)
			return p->endpoints[i].endpoint;
	return NULL;
}

/* Uplink operations ----------------------------------------------------- */

/* emu_profile, emu_seed, admin_down, flap and both directions, from column col on. */
static int
uplink_emu_bind(struct store *st, sqlite3_stmt *s, int col, const struct uplink *u,
    struct cnw_error *err)
{
	return store_bind_text(st, s, col, u->emu.profile, err) < 0 ||
	    store_bind_int64(st, s, col + 1, (int64_t)u->emu.seed, err) < 0 ||
	    store_bind_int64(st, s, col + 2, u->admin_down != 0, err) < 0 ||
	    store_bind_text(st, s, col + 3, u->flap, err) < 0 ||
	    uplink_dir_bind(st, s, col + 4, &u->emu.egress, err) < 0 ||
	    uplink_dir_bind(st, s, col + 10, &u->emu.ingress, err) < 0 ? -1 : 0;
}

struct uplink_tx {
	const char *actor;
	struct uplink *u;
	struct peer *p;
};

static int
uplink_create_tx(struct store *st, void *arg, struct cnw_error *err)
{
	static const char sql[] = "INSERT INTO uplinks(name, interface, netns, driver, address, "
	    "created_at, emu_profile, emu_seed, admin_down, flap, " UPLINK_EMU_COLUMNS ") "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
	struct uplink_tx *tx = arg;
	sqlite3_stmt *s = store_stmt(st, sql, err);

	if (s == NULL || store_bind_text(st, s, 1, tx->u->name, err) < 0 ||
	    store_bind_text(st, s, 2, tx->u->interface, err) < 0 ||
	    store_bind_text(st, s, 3, tx->u->netns, err) < 0 ||
	    store_bind_text(st, s, 4, tx->u->driver, err) < 0 ||
	    store_bind_text(st, s, 5, tx->u->address, err) < 0 ||
	    store_bind_int64(st, s, 6, tx->u->created_at, err) < 0 ||
	    uplink_emu_bind(st, s, 7, tx->u, err) < 0)
		return -1;
	if (store_exec_stmt(st, s, "insert uplink", err) < 0)
		return err->kind == CNW_EEXIST ?
		    cnw_err(err, CNW_EEXIST, "uplink \"%s\" already exists", tx->u->name) : -1;
	tx->u->id = sqlite3_last_insert_rowid(store_db(st));
	return store_audit(st, tx->actor, "uplink.create", tx->u->name, tx->u->address, err);
}

int
uplink_create(struct store *st, const struct principal *who, const char *actor,
    const struct uplink *spec, const struct uplink_change *c, struct uplink *out,
    struct cnw_error *err)
{
	struct uplink_tx tx = { actor, out, NULL };

	*out = *spec;
	if (out->driver[0] == '\0')
		snprintf(out->driver, sizeof(out->driver), "udp");
	/* Emulation starts off, seed 1: repeatable unless asked otherwise. */
	memset(&out->emu, 0, sizeof(out->emu));
	out->emu.seed = 1;
	out->admin_down = 0;
	out->flap[0] = '\0';
	if (uplink_admin_only(who, "creating an uplink", err) < 0 || uplink_validate(out, err) < 0 ||
	    (c != NULL && uplink_change_apply(out, c, err) < 0))
		return -1;
	out->created_at = store_now();
	return store_tx(st, uplink_create_tx, &tx, err);
}

int
uplink_get(struct store *st, const struct principal *who, const char *name,
    struct uplink *out, struct cnw_error *err)
{
	int rc;

	if (uplink_admin_only(who, "reading uplinks", err) < 0)
		return -1;
	if ((rc = uplink_row_get(st, name, out, err)) <= 0)
		return rc < 0 ? -1 : cnw_err(err, CNW_ENOENT, "uplink \"%s\" not found", name);
	return 0;
}

int
uplink_list(struct store *st, const struct principal *who, uplink_each_fn fn, void *arg,
    struct cnw_error *err)
{
	if (uplink_admin_only(who, "reading uplinks", err) < 0)
		return -1;
	return uplink_row_each(st, fn, arg, err);
}

static int
uplink_update_tx(struct store *st, void *arg, struct cnw_error *err)
{
	static const char sql[] = "UPDATE uplinks SET emu_profile = ?, emu_seed = ?, "
	    "admin_down = ?, flap = ?, eg_rate_kbps = ?, eg_delay_us = ?, eg_jitter_us = ?, "
	    "eg_loss_ppm = ?, eg_slot_us = ?, eg_queue_kb = ?, in_rate_kbps = ?, in_delay_us = ?, "
	    "in_jitter_us = ?, in_loss_ppm = ?, in_slot_us = ?, in_queue_kb = ? WHERE id = ?";
	struct uplink_tx *tx = arg;
	sqlite3_stmt *s = store_stmt(st, sql, err);
	char what[160];

	if (s == NULL || uplink_emu_bind(st, s, 1, tx->u, err) < 0 ||
	    store_bind_int64(st, s, 17, tx->u->id, err) < 0 ||
	    store_exec_stmt(st, s, "update uplink", err) < 0)
		return -1;
	snprintf(what, sizeof(what), "emulation=%s admin=%s flap=%s",
	    tx->u->emu.profile[0] ? tx->u->emu.profile : "off",
	    tx->u->admin_down ? "down" : "up", tx->u->flap[0] ? tx->u->flap : "none");
	return store_audit(st, tx->actor, "uplink.update", tx->u->name, what, err);
}

int
uplink_update(struct store *st, const struct principal *who, const char *actor,
    const char *name, const struct uplink_change *c, struct uplink *out, struct cnw_error *err)
{
	struct uplink_tx tx = { actor, out, NULL };

	if (uplink_get(st, who, name, out, err) < 0 || uplink_change_apply(out, c, err) < 0)
		return -1;
	if (uplink_change_empty(c))
		return 0;		/* {}: nothing to write, nothing to tell */
	return store_tx(st, uplink_update_tx, &tx, err);
}

static int
uplink_delete_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct uplink_tx *tx = arg;
	int64_t policies;

	/* Policies name uplinks in a list, not by a foreign key: asked here, in the transaction. */
	if (policy_row_count_uplink(st, tx->u->name, &policies, err) < 0)
		return -1;
	if (policies > 0)
		return cnw_err(err, CNW_EEXIST, "uplink \"%s\" is used by %lld polic%s; "
		    "remove it from those first", tx->u->name, (long long)policies,
		    policies == 1 ? "y" : "ies");
	if (row_delete(st, &uplink_rows, tx->u->id, err) < 0)
		return err->kind == CNW_EEXIST ? cnw_err(err, CNW_EEXIST,
		    "uplink \"%s\" is used by a network or a peer; remove those first",
		    tx->u->name) : -1;
	return store_audit(st, tx->actor, "uplink.delete", tx->u->name, "", err);
}

int
uplink_delete(struct store *st, const struct principal *who, const char *actor,
    const char *name, struct uplink *gone, struct cnw_error *err)
{
	struct uplink_tx tx = { actor, gone, NULL };

	if (uplink_get(st, who, name, gone, err) < 0)
		return -1;
	return store_tx(st, uplink_delete_tx, &tx, err);
}

/* Peer operations -------------------------------------------------------- */

/* An endpoint of the uplink's kind: a MAC over afpacket, ADDRESS:PORT over the others. */
static int
peer_endpoint_fits(const struct uplink *u, const char *endpoint, struct cnw_error *err)
{
	static const uint8_t zero[6];
	uint16_t family, port;
	uint8_t addr[16];
	int packet = strcmp(u->driver, "afpacket") == 0;

	if (uplink_parse_endpoint(endpoint, &family, addr, &port) < 0 ||
	    (family == AF_PACKET) != packet || (packet && memcmp(addr, zero, 6) == 0))
		return cnw_err(err, CNW_EINVAL, "endpoints.%s: \"%s\" is not %s", u->name, endpoint,
		    packet ? "a unicast MAC address (afpacket uplink)" :
		    "ADDRESS:PORT (IPv4, or [IPv6]:PORT)");
	return 0;
}

static int
peer_create_tx(struct store *st, void *arg, struct cnw_error *err)
{
	static const char ins[] = "INSERT INTO peers(name, created_at) VALUES (?, ?)";
	static const char ep[] = "INSERT INTO peer_endpoints(peer_id, uplink_id, endpoint) "
	    "VALUES (?, ?, ?)";
	struct uplink_tx *tx = arg;
	sqlite3_stmt *s = store_stmt(st, ins, err);

	if (s == NULL || store_bind_text(st, s, 1, tx->p->name, err) < 0 ||
	    store_bind_int64(st, s, 2, tx->p->created_at, err) < 0)
		return -1;
	if (store_exec_stmt(st, s, "insert peer", err) < 0)
		return err->kind == CNW_EEXIST ?
		    cnw_err(err, CNW_EEXIST, "peer \"%s\" already exists", tx->p->name) : -1;
	tx->p->id = sqlite3_last_insert_rowid(store_db(st));
	for (uint32_t i = 0; i < tx->p->nendpoints; i++) {
		struct uplink u;
		int rc = uplink_row_get(st, tx->p->endpoints[i].uplink, &u, err);

		if (rc <= 0)
			return rc < 0 ? -1 : cnw_err(err, CNW_EINVAL, "endpoints: no uplink \"%s\"",
			    tx->p->endpoints[i].uplink);
		if (peer_endpoint_fits(&u, tx->p->endpoints[i].endpoint, err) < 0)
			return -1;
		if ((s = store_stmt(st, ep, err)) == NULL ||
		    store_bind_int64(st, s, 1, tx->p->id, err) < 0 ||
		    store_bind_int64(st, s, 2, u.id, err) < 0 ||
		    store_bind_text(st, s, 3, tx->p->endpoints[i].endpoint, err) < 0 ||
		    store_exec_stmt(st, s, "insert peer endpoint", err) < 0)
			return -1;
	}
	return store_audit(st, tx->actor, "peer.create", tx->p->name, "", err);
}

int
peer_create(struct store *st, const struct principal *who, const char *actor,
    const struct peer *spec, struct peer *out, struct cnw_error *err)
{
	struct uplink_tx tx = { actor, NULL, out };
	uint16_t family, port;
	uint8_t addr[16];

	*out = *spec;
	if (uplink_admin_only(who, "creating a peer", err) < 0 ||
	    tenant_validate_name("peer", out->name, err) < 0)
		return -1;
	if (out->nendpoints == 0)
		return cnw_err(err, CNW_EINVAL, "a peer needs at least one endpoint");
	for (uint32_t i = 0; i < out->nendpoints; i++)
		if (uplink_parse_endpoint(out->endpoints[i].endpoint, &family, addr, &port) < 0)
			return cnw_err(err, CNW_EINVAL,
			    "endpoint \"%s\" of uplink %s is not ADDRESS:PORT",
			    out->endpoints[i].endpoint, out->endpoints[i].uplink);
	out->created_at = store_now();
	return store_tx(st, peer_create_tx, &tx, err);
}

int
peer_get(struct store *st, const struct principal *who, const char *name, struct peer *out,
    struct cnw_error *err)
{
	int rc;

	if (uplink_admin_only(who, "reading peers", err) < 0)
		return -1;
	if ((rc = peer_row_get(st, name, out, err)) <= 0)
		return rc < 0 ? -1 : cnw_err(err, CNW_ENOENT, "peer \"%s\" not found", name);
	return 0;
}

int
peer_list(struct store *st, const struct principal *who, peer_each_fn fn, void *arg,
    struct cnw_error *err)
{
	static const char sql[] = "SELECT id, name, created_at FROM peers ORDER BY name";
	sqlite3_stmt *s;

	if (uplink_admin_only(who, "reading peers", err) < 0 ||
	    (s = store_stmt(st, sql, err)) == NULL)
		return -1;
	return row_each(st, &peer_rows, s, fn, arg, err);
}

static int
peer_delete_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct uplink_tx *tx = arg;

	if (row_delete(st, &peer_rows, tx->p->id, err) < 0)
		return err->kind == CNW_EEXIST ? cnw_err(err, CNW_EEXIST,
		    "peer \"%s\" is used by a network; remove that first", tx->p->name) : -1;
	return store_audit(st, tx->actor, "peer.delete", tx->p->name, "", err);
}

int
peer_delete(struct store *st, const struct principal *who, const char *actor,
    const char *name, struct cnw_error *err)
{
	struct peer p;
	struct uplink_tx tx = { actor, NULL, &p };

	if (peer_get(st, who, name, &p, err) < 0)
		return -1;
	return store_tx(st, peer_delete_tx, &tx, err);
}
