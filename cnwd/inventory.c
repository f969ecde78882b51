/*
 * The parent's inventory of interfaces and drivers; see inventory.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "hal/discover.h"
#include "hal/driver.h"
#include "hal/host.h"
#include "hal/sign.h"
#include "cnwd/cnwd.h"
#include "lib/ev.h"
#include "cnwd/events.h"
#include "cnwd/inventory.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "proto/proto.h"
#include "lib/util.h"
#include "tenants/uplink.h"

#define INVENTORY_SAMPLE_MS 1000

struct inventory_watch {
	char netns[64];			/* "" = the host's */
	struct disc_monitor *mon;
	int fd;
	int seen;			/* during a sync: still wanted */
	struct inventory_watch *next;
};

/* Until one is registered, nobody hears of the interfaces. */
static const struct inventory_observer inventory_nobody;

static struct {
	struct disc_table *t;
	struct inventory_watch *watches;
	int timer;
	struct cnwd *d;
	const struct inventory_observer *obs;
} inv = { .timer = -1, .obs = &inventory_nobody };

void
inventory_observe(const struct inventory_observer *o)
{
	inv.obs = o != NULL ? o : &inventory_nobody;
}


/* Events ------------------------------------------------------------------ */

static void
inventory_changes(unsigned change, char *buf, size_t len)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ DISC_STATE, "state" }, { DISC_MTU, "mtu" }, { DISC_ADDRESS, "address" },
		{ DISC_RENAMED, "name" }, { DISC_OTHER, "other" },
	};
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if ((change & names[i].bit) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? "," : "",
			    names[i].name);
}

static void
inventory_on_change(const struct disc_event *ev, void *arg)
{
	struct cnwd *d = arg;
	const struct inventory_observer *obs = inv.obs;
	const struct disc_iface *i = &ev->iface;
	const char *type = ev->change & DISC_ADDED ? "interface.added" :
	    ev->change & DISC_REMOVED ? "interface.removed" : "interface.changed";
	char object[80], mtu[16], what[64];
	int up = !(ev->change & DISC_REMOVED) && disc_iface_up(i);

	snprintf(object, sizeof(object), "%s%s%s", i->netns, i->netns[0] ? "/" : "", i->name);
	snprintf(mtu, sizeof(mtu), "%u", i->mtu);
	inventory_changes(ev->change, what, sizeof(what));
	events_emit(d, type, "", object, "name", i->name, "netns", i->netns, "kind",
	    disc_kind_name(i->kind), "state", up ? "up" : "down", "#mtu", mtu, "changed", what,
	    "old_name", ev->old_name, NULL);
	if (obs->link != NULL && (ev->change & DISC_RENAMED))
		obs->link(d, i->netns, ev->old_name, 0);
	if (obs->link != NULL)
		obs->link(d, i->netns, i->name, up);
	if (obs->mtu != NULL && (ev->change & DISC_MTU))
		obs->mtu(d, i->netns, i->name);
}

/* Watches ------------------------------------------------------------------- */

static void
inventory_on_readable(int fd, uint32_t events, void *arg)
{
	struct inventory_watch *w = arg;
	struct cnw_error err = { 0 };

	(void)fd;
	(void)events;
	if (disc_monitor_read(w->mon, inv.t, inventory_on_change, inv.d, &err) < 0)
		log_warnx("interfaces%s%s: %s", w->netns[0] ? " in " : "", w->netns, err.msg);
}

struct inventory_open {
	const char *netns;
	struct disc_monitor *mon;
};

static int
inventory_open_here(void *arg, struct cnw_error *err)
{
	struct inventory_open *o = arg;

	o->mon = disc_monitor_open(o->netns, err);
	return o->mon == NULL ? -1 : 0;
}

static struct inventory_watch *
inventory_watch(struct cnwd *d, const char *netns)
{
	struct inventory_open o = { netns, NULL };
	struct cnw_error err = { 0 };
	struct inventory_watch *w;

	for (w = inv.watches; w != NULL; w = w->next)
		if (strcmp(w->netns, netns) == 0)
			return w;
	if ((netns[0] == '\0' ? inventory_open_here(&o, &err) :
	    netns_run(netns, inventory_open_here, &o, &err)) < 0) {
		log_warnx("interfaces%s%s: cannot watch: %s", netns[0] ? " in " : "", netns, err.msg);
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		disc_monitor_close(o.mon);
		return NULL;
	}
	snprintf(w->netns, sizeof(w->netns), "%s", netns);
	w->mon = o.mon;
	w->fd = disc_monitor_fd(o.mon);
	if (ev_add(d->ev, w->fd, EPOLLIN, inventory_on_readable, w) < 0 ||
	    disc_monitor_sync(w->mon, inv.t, inventory_on_change, d, &err) < 0) {
		log_warnx("interfaces%s%s: %s", netns[0] ? " in " : "", netns,
		    err.msg[0] ? err.msg : "cannot watch");
		ev_del(d->ev, w->fd);
		disc_monitor_close(w->mon);
		disc_forget_netns(inv.t, netns);
		free(w);
		return NULL;
	}
	w->next = inv.watches;
	inv.watches = w;
	return w;
}

static void
inventory_unwatch(struct cnwd *d, struct inventory_watch *w)
{
	ev_del(d->ev, w->fd);
	disc_monitor_close(w->mon);
	disc_forget_netns(inv.t, w->netns);
	free(w);
}

static int
inventory_want(const void *row, void *arg)
{
	const struct uplink *u = row;
	struct cnwd *d = arg;
	struct inventory_watch *w = inventory_watch(d, u->netns);

	if (w != NULL)
		w->seen = 1;
	return 0;
}

void
inventory_sync(struct cnwd *d)
{
	struct cnw_error err = { 0 };

	if (inv.t == NULL)
		return;
	for (struct inventory_watch *w = inv.watches; w != NULL; w = w->next)
		w->seen = w->netns[0] == '\0';	/* the host's is always watched */
	if (uplink_row_each(d->store, inventory_want, d, &err) < 0) {
		log_warnx("interfaces: %s", err.msg);
		return;
	}
	for (struct inventory_watch **pp = &inv.watches; *pp != NULL;) {
		struct inventory_watch *w = *pp;

		if (w->seen) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		inventory_unwatch(d, w);
	}
}

static void
inventory_sample(void *arg)
{
	struct cnwd *d = arg;
	uint64_t now = cnw_now_ns();

	for (struct inventory_watch *w = inv.watches; w != NULL; w = w->next) {
		struct cnw_error err = { 0 };

		if (disc_monitor_sample(w->mon, inv.t, now, &err) < 0)
			log_debug("interfaces%s%s: sampling: %s", w->netns[0] ? " in " : "",
			    w->netns, err.msg);
	}
	inv.timer = ev_timer(d->ev, INVENTORY_SAMPLE_MS, inventory_sample, d);
}

void
inventory_configure(struct cnwd *d)
{
	disc_override_clear(inv.t);
	for (unsigned i = 0; i < d->cfg.nkinds; i++)
		disc_override(inv.t, d->cfg.kinds[i].netns, d->cfg.kinds[i].name,
		    (enum disc_kind)d->cfg.kinds[i].kind);
}

int
inventory_start(struct cnwd *d, struct cnw_error *err)
{
	inv.d = d;
	if ((inv.t = disc_table_new()) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	inventory_configure(d);
	if (inventory_watch(d, "") == NULL)
		return cnw_err(err, CNW_EINTERNAL, "cannot watch the host's interfaces");
	inventory_sync(d);
	inventory_sample(d);
	return 0;
}

void
inventory_stop(struct cnwd *d)
{
	if (inv.timer >= 0)
		ev_timer_cancel(d->ev, inv.timer);
	inv.timer = -1;
	while (inv.watches != NULL) {
		struct inventory_watch *w = inv.watches;

		inv.watches = w->next;
		inventory_unwatch(d, w);
	}
	disc_table_free(inv.t);
	inv.t = NULL;
}

int
inventory_iface_state(struct cnwd *d, const char *netns, const char *ifname)
{
	const struct disc_iface *i;
	int watched = 0;

	(void)d;
	for (struct inventory_watch *w = inv.watches; w != NULL; w = w->next)
		watched |= strcmp(w->netns, netns) == 0;
	if (!watched || inv.t == NULL)
		return -1;
	i = disc_find(inv.t, netns, ifname);
	return i != NULL && disc_iface_up(i);
}

int64_t
inventory_iface_speed(struct cnwd *d, const char *netns, const char *ifname)
{
	const struct disc_iface *i;

	(void)d;
	if (inv.t == NULL || (i = disc_find(inv.t, netns, ifname)) == NULL)
		return -1;
	return i->speed_mbps;
}

/* Replies ------------------------------------------------------------------- */

struct inventory_batch {
	struct cnwd *d;
	const struct proto_interface_request *r;
	struct proto_interface *items;
	size_t n, cap;
};

static int
inventory_collect(const struct disc_iface *i, void *arg)
{
	struct inventory_batch *b = arg;
	const struct inventory_observer *obs = inv.obs;
	const char *up;

	if (b->r->has_netns && strcmp(b->r->netns, i->netns) != 0)
		return 0;
	if (b->r->name[0] != '\0' && strcmp(b->r->name, i->name) != 0)
		return 0;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct proto_interface *x = realloc(b->items, cap * sizeof(*x));

		if (x == NULL)
			return -1;
		b->items = x;
		b->cap = cap;
	}
	memset(&b->items[b->n], 0, sizeof(b->items[0]));
	b->items[b->n].iface = *i;
	up = obs->uplink != NULL ? obs->uplink(b->d, i->netns, i->name) : NULL;
	snprintf(b->items[b->n].uplink, sizeof(b->items[0].uplink), "%s", up ? up : "");
	if (up != NULL && obs->paths != NULL)
		b->items[b->n].npaths = obs->paths(b->d, up, b->items[b->n].paths,
		    UPLINK_PATHS_MAX);
	b->n++;
	return 0;
}

int
inventory_reply_interfaces(struct cnwd *d, struct proc *p, uint32_t id,
    const struct proto_interface_request *r, int one, struct cnw_error *err)
{
	struct inventory_batch b = { d, r, NULL, 0, 0 };
	int rc = 0;

	if (inv.t == NULL)
		return cnw_err(err, CNW_EINTERNAL, "discovery is not running");
	if (disc_each(inv.t, inventory_collect, &b) < 0) {
		free(b.items);
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	}
	if (one) {
		/* The host's first when no namespace was named. */
		size_t k = 0;

		for (size_t i = 0; i < b.n; i++)
			if (b.items[i].iface.netns[0] == '\0') {
				k = i;
				break;
			}
		if (b.n == 0) {
			free(b.items);
			return cnw_err(err, CNW_ENOENT, "interface \"%s\" not found", r->name);
		}
		if (!r->has_netns && b.n > 1 && b.items[k].iface.netns[0] != '\0') {
			free(b.items);
			return cnw_err(err, CNW_EINVAL, "interface \"%s\" is in several namespaces; "
			    "name one with ?netns=", r->name);
		}
		rc = proc_send(p, MSG_REPLY_INTERFACE, id, 0, &b.items[k], sizeof(b.items[k]), NULL);
		free(b.items);
		return rc;
	}
	/* Parts of a multi-part reply: MSG_F_MORE on all but the last. */
	size_t per = PROTO_INTERFACES_PER_MSG, off = 0;
	do {
		size_t n = b.n - off < per ? b.n - off : per;

		rc = proc_send(p, MSG_REPLY_INTERFACES, id, off + n < b.n ? MSG_F_MORE : 0,
		    b.items + off, n * sizeof(b.items[0]), NULL);
		off += n;
	} while (rc == 0 && off < b.n);
	free(b.items);
	return rc;
}

/* Drivers ------------------------------------------------------------------- */

struct inventory_uses {
	const char *name;
	uint32_t n;
};

static int
inventory_count_uses(const void *row, void *arg)
{
	const struct uplink *u = row;
	struct inventory_uses *x = arg;

	x->n += strcmp(u->driver, x->name) == 0;
	return 0;
}

static uint32_t
inventory_uplinks_of(struct cnwd *d, const char *driver)
{
	struct inventory_uses x = { driver, 0 };
	struct cnw_error err = { 0 };

	(void)uplink_row_each(d->store, inventory_count_uses, &x, &err);
	return x.n;
}

static int
inventory_driver_cmp(const void *a, const void *b)
{
	return strcmp(((const struct proto_driver *)a)->name, ((const struct proto_driver *)b)->name);
}

int
inventory_reply_drivers(struct cnwd *d, struct proc *p, uint32_t id, struct cnw_error *err)
{
	struct proto_driver *items;
	size_t n = 0, nbuiltin, cap = PROTO_DRIVERS_PER_MSG;
	struct dirent *de;
	DIR *dir;
	int rc;

	if ((items = calloc(cap, sizeof(*items))) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	for (const struct hal_driver *b; (b = hal_driver_builtin(n)) != NULL; n++) {
		snprintf(items[n].name, sizeof(items[n].name), "%s", b->name);
		snprintf(items[n].kind, sizeof(items[n].kind), "builtin");
		snprintf(items[n].signature, sizeof(items[n].signature), "builtin");
		items[n].abi = b->abi;
		items[n].uplinks = inventory_uplinks_of(d, b->name);
	}
	nbuiltin = n;
	/* Every NAME.so of the plug-in directory, checked as a start would check it. */
	if ((dir = opendir(d->cfg.plugin_dir)) != NULL) {
		while ((de = readdir(dir)) != NULL && n < cap) {
			size_t len = strlen(de->d_name);
			char name[16];
			struct sign_result res;
			struct cnw_error serr = { 0 };

			if (len <= 3 || strcmp(de->d_name + len - 3, ".so") != 0 || len - 3 >= sizeof(name))
				continue;
			memcpy(name, de->d_name, len - 3);
			name[len - 3] = '\0';
			if (!sign_name_valid(name))
				continue;
			if (sign_check(d->cfg.plugin_dir, d->cfg.trusted_keys, name, NULL, &res,
			    &serr) < 0)
				continue;
			snprintf(items[n].name, sizeof(items[n].name), "%s", name);
			snprintf(items[n].kind, sizeof(items[n].kind), "plugin");
			snprintf(items[n].signature, sizeof(items[n].signature), "%s",
			    sign_state_name(res.state));
			snprintf(items[n].key, sizeof(items[n].key), "%s", res.key);
			if (strlen(res.path) < sizeof(items[n].path))
				memcpy(items[n].path, res.path, strlen(res.path) + 1);
			snprintf(items[n].detail, sizeof(items[n].detail), "%s",
			    res.state == SIGN_VERIFIED ? "" : res.detail);
			if (res.state == SIGN_VERIFIED || res.state == SIGN_BAD_SIGNATURE)
				for (int k = 0; k < 32; k++)
					snprintf(items[n].sha256 + 2 * k, 3, "%02x", res.sha256[k]);
			items[n].size = res.size;
			items[n].abi = HAL_DRIVER_ABI;
			items[n].uplinks = inventory_uplinks_of(d, name);
			n++;
		}
		closedir(dir);
	}
	/* Built-ins first, in their order; plug-ins by name, not in directory order. */
	qsort(items + nbuiltin, n - nbuiltin, sizeof(items[0]), inventory_driver_cmp);
	rc = proc_send(p, MSG_REPLY_DRIVERS, id, 0, items, n * sizeof(items[0]), NULL);
	free(items);
	return rc;
}
