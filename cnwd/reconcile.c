/*
 * The reconcile loop; see reconcile.h.
 */
#include <stdio.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cnwd/cnwd.h"
#include "cnwd/datapath.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/nl.h"
#include "cnwd/reconcile.h"
#include "tenants/network.h"

struct reconcile_routes {
	struct route *items;
	size_t n, cap;
};

static int
reconcile_route_collect(const void *row, void *arg)
{
	const struct route *r = row;
	struct reconcile_routes *rs = arg;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 8;
		struct route *p = realloc(rs->items, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		rs->items = p;
		rs->cap = cap;
	}
	rs->items[rs->n++] = *r;
	return 0;
}

struct reconcile_watch {
	struct reconcile_watch *next;
	struct cnwd *d;
	int64_t id;
	int fd;
};

static struct reconcile_watch *
reconcile_watch_find(struct cnwd *d, int64_t id)
{
	for (struct reconcile_watch *w = d->watches; w != NULL; w = w->next)
		if (w->id == id)
			return w;
	return NULL;
}

void
reconcile_forget(struct cnwd *d, int64_t id)
{
	for (struct reconcile_watch **pp = &d->watches; *pp != NULL; pp = &(*pp)->next) {
		struct reconcile_watch *w = *pp;

		if (w->id == id) {
			*pp = w->next;
			ev_del(d->ev, w->fd);
			close(w->fd);
			free(w);
			return;
		}
	}
}

void
reconcile_forget_all(struct cnwd *d)
{
	while (d->watches != NULL)
		reconcile_forget(d, d->watches->id);
}

static void
reconcile_on_event(int fd, uint32_t events, void *arg)
{
	struct reconcile_watch *w = arg;
	struct cnwd *d = w->d;
	int64_t id = w->id;
	struct network n;
	struct cnw_error err = { 0 };

	nl_monitor_drain(fd);
	if (reconcile_network(d, id, &n, &err) < 0) {
		if (err.kind == CNW_ENOENT)
			reconcile_forget(d, id);	/* w is gone after this */
		else
			log_warnx("network %lld: %s", (long long)id, err.msg);
	}
}

static int
reconcile_monitor_inside(void *arg, struct cnw_error *err)
{
	int *fd = arg;

	*fd = nl_monitor_open(err);
	return *fd < 0 ? -1 : 0;
}

/* The monitor of n, made on first need; NULL if it cannot be had. */
static struct reconcile_watch *
reconcile_watch(struct cnwd *d, const struct network *n)
{
	struct reconcile_watch *w = reconcile_watch_find(d, n->id);
	char name[NETWORK_NETNS_MAX];
	struct cnw_error err = { 0 };
	int fd = -1;

	if (w != NULL)
		return w;
	if (network_netns_name(d->cfg.instance, n->tenant, n->name, name, sizeof(name)) < 0 ||
	    netns_run(name, reconcile_monitor_inside, &fd, &err) < 0 ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		log_warnx("network %s.%s: no change monitor (%s); the timer still repairs it",
		    n->tenant, n->name, err.msg);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	w->d = d;
	w->id = n->id;
	w->fd = fd;
	if (ev_add(d->ev, fd, EPOLLIN, reconcile_on_event, w) < 0) {
		close(fd);
		free(w);
		return NULL;
	}
	w->next = d->watches;
	d->watches = w;
	return w;
}

/* Apply n and record what was observed. */
static int
reconcile_apply(struct cnwd *d, struct network *n, struct cnw_error *err)
{
	struct reconcile_routes rs = { 0 };
	struct cnw_error serr = { 0 };
	int rc, created = 0;

	rc = route_row_each(d->store, n->id, reconcile_route_collect, &rs, err);
	if (rc == 0)
		rc = network_apply(d->cfg.instance, n, rs.items, rs.n, &created, err);
	free(rs.items);
	/* A new namespace (the old one was removed by hand): the monitor of the
	 * old one hears nothing of it, and pins the old one. */
	if (created)
		reconcile_forget(d, n->id);
	if (rc == 0) {
		struct reconcile_watch *w = reconcile_watch(d, n);

		/* What is queued now is the echo of our own changes. */
		if (w != NULL)
			nl_monitor_drain(w->fd);
	}
	if (network_set_status(d->store, n, rc == 0 ? "ready" : "failed",
	    rc == 0 ? "" : err->msg, &serr) < 0)
		log_warnx("network %s.%s: cannot record status: %s", n->tenant, n->name, serr.msg);
	snprintf(n->status, sizeof(n->status), "%s", rc == 0 ? "ready" : "failed");
	snprintf(n->status_detail, sizeof(n->status_detail), "%.150s", rc == 0 ? "" : err->msg);
	return rc;
}

int
reconcile_network(struct cnwd *d, int64_t network_id, struct network *out,
    struct cnw_error *err)
{
	int rc = network_row_get_id(d->store, network_id, out, err);

	if (rc <= 0)
		return rc < 0 ? -1 : cnw_err(err, CNW_ENOENT, "network %lld is gone",
		    (long long)network_id);
	return reconcile_apply(d, out, err);
}

/* One pass: the rows are read first, then applied (no statement stays open). */
struct reconcile_pass {
	struct cnwd *d;
	struct network *nets;
	char (*names)[NETWORK_NETNS_MAX];	/* desired namespaces, sorted */
	size_t n, cap;
	unsigned failed, orphans;
};

static int
reconcile_collect(const void *item, void *arg)
{
	const struct network *row = item;
	struct reconcile_pass *p = arg;

	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct network *m = realloc(p->nets, cap * sizeof(*m));

		if (m == NULL)
			return -1;
		p->nets = m;
		p->cap = cap;
	}
	p->nets[p->n++] = *row;
	return 0;
}

static void
reconcile_one(struct reconcile_pass *p, struct network *n)
{
	char was[sizeof(n->status)];
	struct cnw_error err = { 0 };

	memcpy(was, n->status, sizeof(was));
	if (reconcile_apply(p->d, n, &err) < 0) {
		/* Only a change of state is worth a line; a stuck failure would flood. */
		if (strcmp(was, "failed") != 0)
			log_warnx("network %s.%s: %s", n->tenant, n->name, err.msg);
		p->failed++;
	} else if (strcmp(was, "ready") != 0) {
		log_info("network %s.%s: ready", n->tenant, n->name);
	}
}

static int
reconcile_name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int
reconcile_orphan(const char *name, void *arg)
{
	struct reconcile_pass *p = arg;
	struct cnw_error err = { 0 };

	if (p->n > 0 &&
	    bsearch(name, p->names, p->n, sizeof(p->names[0]), reconcile_name_cmp) != NULL)
		return 0;
	if (netns_delete(name, &err) < 0)
		log_warnx("orphan namespace %s: %s", name, err.msg);
	else
		log_notice("removed orphan namespace %s (no network row)", name);
	p->orphans++;
	return 0;
}

void
reconcile_all(struct cnwd *d)
{
	struct reconcile_pass p = { .d = d };
	struct cnw_error err = { 0 };
	char prefix[CNW_INSTANCE_MAX + 2];

	if (network_row_each(d->store, 0, reconcile_collect, &p, &err) < 0 ||
	    (p.n > 0 && (p.names = calloc(p.n, sizeof(*p.names))) == NULL)) {
		/* Without the whole desired set, removing "orphans" could remove real ones. */
		log_warnx("reconcile: %s", err.msg[0] ? err.msg : "cannot list networks");
		free(p.nets);
		return;
	}
	for (size_t i = 0; i < p.n; i++) {
		reconcile_one(&p, &p.nets[i]);
		network_netns_name(d->cfg.instance, p.nets[i].tenant, p.nets[i].name, p.names[i],
		    sizeof(p.names[0]));
	}
	/* Monitors of networks whose rows are gone would pin their namespaces. */
	for (struct reconcile_watch *w = d->watches, *next; w != NULL; w = next) {
		size_t i;

		next = w->next;
		for (i = 0; i < p.n && p.nets[i].id != w->id; i++)
			;
		if (i == p.n)
			reconcile_forget(d, w->id);
	}
	if (p.n > 0)
		qsort(p.names, p.n, sizeof(p.names[0]), reconcile_name_cmp);
	snprintf(prefix, sizeof(prefix), "%s.", d->cfg.instance);
	netns_each(prefix, reconcile_orphan, &p);
	log_debug("reconcile: %zu networks, %u failed, %u orphans removed", p.n, p.failed,
	    p.orphans);
	free(p.nets);
	free(p.names);
}

static void
reconcile_tick(void *arg)
{
	struct cnwd *d = arg;

	reconcile_all(d);
	/* The data path too: a driver whose port came back (its namespace was made again). */
	datapath_sync(d);
	reconcile_start_timer(d);
}

void
reconcile_start_timer(struct cnwd *d)
{
	d->reconcile_timer = ev_timer(d->ev, (long long)d->cfg.reconcile_interval * 1000,
	    reconcile_tick, d);
}
