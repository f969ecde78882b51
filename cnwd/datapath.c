/*
 * The data path, the parent's side; see datapath.h, and datapath_int.h
 * for its parts.  Here: the shared region and segments, start and stop,
 * and the sync that keeps a port per uplink and per network with a peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "netfn/overlay.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "cnwd/inventory.h"
#include "lib/log.h"
#include "lib/util.h"

/* Region and stats ------------------------------------------------------- */

/* A fresh region: at start and whenever the worker starts again. */
int
datapath_new_region(struct datapath *dp, struct cnw_error *err)
{
	struct shm r = { .fd = -1 };

	if (dp->region_fd >= 0)
		close(dp->region_fd);
	dp->region_fd = -1;
	dp->region_size = port_region_size();
	if (shm_create(&r, "region", dp->region_size, err) < 0)
		return -1;
	if (port_region_init(r.base, r.size) < 0) {
		shm_unmap(&r);
		return cnw_err(err, CNW_EINTERNAL, "cannot lay out the fast-path region");
	}
	dp->region_fd = fcntl(r.fd, F_DUPFD_CLOEXEC, 0);
	dp->region_size = r.size;
	shm_unmap(&r);
	if (dp->region_fd < 0)
		return cnw_err(err, CNW_EINTERNAL, "dup: %s", strerror(errno));
	/* The parent keeps the header only, to write which ports are which. */
	if (dp->header != NULL)
		munmap(dp->header, sizeof(*dp->header));
	dp->header = mmap(NULL, sizeof(*dp->header), PROT_READ | PROT_WRITE, MAP_SHARED,
	    dp->region_fd, 0);
	if (dp->header == MAP_FAILED) {
		dp->header = NULL;
		return cnw_err(err, CNW_EINTERNAL, "map the region's header: %s", strerror(errno));
	}
	for (unsigned i = 0; i < PORT_MAX; i++)
		dp->header->ports[i].kind = (uint32_t)dp->ports[i].kind;
	return 0;
}

static int
datapath_new_stats(struct datapath *dp, struct cnw_error *err)
{
	struct shm rw = { .fd = -1 }, ro = { .fd = -1 };
	int fd;

	if (shm_create(&rw, "stats", stats_size(), err) < 0)
		return -1;
	stats_init(rw.base);
	dp->stats_size = rw.size;
	dp->stats_fd = fcntl(rw.fd, F_DUPFD_CLOEXEC, 0);
	fd = fcntl(rw.fd, F_DUPFD_CLOEXEC, 0);
	shm_unmap(&rw);
	/* The parent only reads it; the worker writes it. */
	if (dp->stats_fd < 0 || fd < 0 || shm_map(&ro, fd, PROT_READ, err) < 0) {
		if (fd >= 0)
			close(fd);
		return cnw_err(err, CNW_EINTERNAL, "cannot map the stats segment");
	}
	dp->stats = ro.base;	/* unmapped by datapath_stop; ro's fd closed with it */
	dp->stats_map = ro;
	return 0;
}

/*
 * The flow table's memfd: the worker lays it out at each start and writes
 * it; the parent maps it read-only and lists flows from it (netfn/flow.h).
 */
static int
datapath_new_flows(struct datapath *dp, struct cnw_error *err)
{
	struct shm rw = { .fd = -1 }, ro = { .fd = -1 };
	int fd;

	if (shm_create(&rw, "flows", worker_flows_size(), err) < 0)
		return -1;
	dp->flows_size = rw.size;
	dp->flows_fd = fcntl(rw.fd, F_DUPFD_CLOEXEC, 0);
	fd = fcntl(rw.fd, F_DUPFD_CLOEXEC, 0);
	shm_unmap(&rw);
	if (dp->flows_fd < 0 || fd < 0 || shm_map(&ro, fd, PROT_READ, err) < 0) {
		if (fd >= 0)
			close(fd);
		return cnw_err(err, CNW_EINTERNAL, "cannot map the flow table");
	}
	dp->flows = ro.base;
	dp->flows_map = ro;
	return 0;
}

/* Sending fds: a duplicate each time (msg_send closes what it sends). */
int
datapath_send_fd(struct proc *p, uint32_t type, int fd, const void *payload, size_t len)
{
	int copy = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;
	int rc;

	if (copy < 0)
		return -1;
	rc = proc_send(p, type, 0, 0, payload, len, &copy);
	if (copy >= 0)
		close(copy);
	return rc;
}

/* Sync ------------------------------------------------------------------ */

struct dp_port *
datapath_port_find(struct datapath *dp, int kind, int64_t id)
{
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (dp->ports[i].used && dp->ports[i].kind == kind && dp->ports[i].object_id == id)
			return &dp->ports[i];
	return NULL;
}

static struct dp_port *
datapath_port_new(struct cnwd *d, int kind, int64_t id, const char *name)
{
	const struct proc_role *role = proc_role_find("driver");
	struct cnw_error err = { 0 };
	char label[80];

	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct dp_port *dpp = &d->dp.ports[i];

		if (dpp->used)
			continue;
		memset(dpp, 0, sizeof(*dpp));
		dpp->kick_driver = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		dpp->kick_worker = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		snprintf(label, sizeof(label), "driver %s", name);
		if (dpp->kick_driver < 0 || dpp->kick_worker < 0 ||
		    (dpp->proc = proc_table_add(&d->procs, role, dpp, label, &err)) == NULL) {
			log_warnx("port for %s: %s", name, err.msg[0] ? err.msg : strerror(errno));
			if (dpp->kick_driver >= 0)
				close(dpp->kick_driver);
			if (dpp->kick_worker >= 0)
				close(dpp->kick_worker);
			return NULL;
		}
		dpp->used = 1;
		dpp->kind = kind;
		if (d->dp.header != NULL)
			d->dp.header->ports[i].kind = (uint32_t)kind;
		dpp->object_id = id;
		snprintf(dpp->name, sizeof(dpp->name), "%s", name);
		return dpp;
	}
	log_warnx("port for %s: all %d ports are in use", name, PORT_MAX);
	return NULL;
}

static void
datapath_port_free(struct cnwd *d, struct dp_port *dpp)
{
	unsigned port = (unsigned)(dpp - d->dp.ports);

	if (dpp->kind == PORT_TAP && d->dp.worker != NULL && d->dp.worker->sock >= 0) {
		struct worker_net_cfg w = { .id = overlay_network_id(dpp->net.tenant, dpp->net.name) };
		proc_send(d->dp.worker, MSG_WORKER_NETWORK_DEL, 0, 0, &w, sizeof(w), NULL);
	}
	datapath_worker_port(d, port, WORKER_PORT_RESET);
	if (dpp->proc != NULL)
		proc_retire(dpp->proc);
	close(dpp->kick_driver);
	close(dpp->kick_worker);
	if (d->dp.header != NULL)
		d->dp.header->ports[port].kind = PORT_NONE;
	memset(dpp, 0, sizeof(*dpp));
}

static int
datapath_want_uplink(const void *row, void *arg)
{
	const struct uplink *u = row;
	struct cnwd *d = arg;
	struct dp_port *dpp = datapath_port_find(&d->dp, PORT_UDP, u->id);
	uint64_t capacity;
	int changed;

	if (dpp == NULL && (dpp = datapath_port_new(d, PORT_UDP, u->id, u->name)) == NULL)
		return 0;
	dpp->iface_down = inventory_iface_state(d, u->netns, u->interface) == 0;
	changed = memcmp(&dpp->uplink.emu, &u->emu, sizeof(u->emu)) != 0 ||
	    dpp->uplink.admin_down != u->admin_down || strcmp(dpp->uplink.flap, u->flap) != 0;
	if (dpp->uplink.id == 0)
		d->dp.ports_changed = 1;	/* a new uplink's port: rules naming it */
	capacity = dpp->uplink.capacity_kbps;	/* ours (datapath_worker_uplink), not the row's */
	dpp->uplink = *u;
	dpp->uplink.capacity_kbps = capacity;
	dpp->seen = 1;
	if (changed && dpp->running)
		datapath_send_emu(d, dpp);
	if (changed || !dpp->capacity_sent)
		datapath_worker_uplink(d, dpp);
	datapath_port_update(d, dpp);
	return 0;
}

static int
datapath_want_network(const void *row, void *arg)
{
	const struct network *n = row;
	struct cnwd *d = arg;
	struct dp_port *dpp;
	char name[64];

	if (n->peer_id == 0)
		return 0;
	snprintf(name, sizeof(name), "%s.%s", n->tenant, n->name);
	if ((dpp = datapath_port_find(&d->dp, PORT_TAP, n->id)) == NULL &&
	    (dpp = datapath_port_new(d, PORT_TAP, n->id, name)) == NULL)
		return 0;
	dpp->net = *n;
	dpp->seen = 1;
	return 0;
}

void
datapath_sync(struct cnwd *d)
{
	struct cnw_error err = { 0 };

	if (d->dp.worker == NULL)
		return;
	inventory_sync(d);	/* the namespaces of the uplinks are watched */
	for (unsigned i = 0; i < PORT_MAX; i++)
		d->dp.ports[i].seen = 0;
	/* Uplinks first: a network's message names their ports. */
	if (uplink_row_each(d->store, datapath_want_uplink, d, &err) < 0 ||
	    network_row_each(d->store, 0, datapath_want_network, d, &err) < 0) {
		log_warnx("fast path: %s", err.msg);
		return;
	}
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct dp_port *dpp = &d->dp.ports[i];

		if (!dpp->used)
			continue;
		if (!dpp->seen) {
			d->dp.ports_changed |= dpp->kind == PORT_UDP;
			datapath_port_free(d, dpp);
			continue;
		}
		if (dpp->proc->pid == 0 && dpp->proc->state == PROC_STOPPED) {
			datapath_worker_kicks(d, i);
			proc_start(dpp->proc);
		}
	}
	/* Uplinks came or went: the rules that name them change ports. */
	if (d->dp.ports_changed) {
		d->dp.ports_changed = 0;
		d->dp.npushed = 0;
	}
	d->dp.npath_names = 0;	/* named again below, as each network's message is made */
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (d->dp.ports[i].used && d->dp.ports[i].kind == PORT_TAP)
			datapath_worker_network(d, &d->dp.ports[i]);
}

int
datapath_start(struct cnwd *d, struct cnw_error *err)
{
	d->dp.region_fd = d->dp.stats_fd = d->dp.flows_fd = -1;
	if (datapath_new_region(&d->dp, err) < 0 || datapath_new_stats(&d->dp, err) < 0 ||
	    datapath_new_flows(&d->dp, err) < 0)
		return -1;
	d->dp.worker = proc_table_add(&d->procs, proc_role_find("worker"), NULL, "worker", err);
	if (d->dp.worker == NULL || proc_start(d->dp.worker) < 0)
		return -1;
	datapath_sync(d);
	return 0;
}

void
datapath_stop(struct cnwd *d)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		if (!d->dp.ports[i].used)
			continue;
		close(d->dp.ports[i].kick_driver);
		close(d->dp.ports[i].kick_worker);
		d->dp.ports[i].used = 0;
	}
	if (d->dp.stats != NULL)
		shm_unmap(&d->dp.stats_map);
	if (d->dp.flows != NULL)
		shm_unmap(&d->dp.flows_map);
	if (d->dp.flows_fd >= 0)
		close(d->dp.flows_fd);
	free(d->dp.pushed);
	free(d->dp.snap);
	if (d->dp.stats_fd >= 0)
		close(d->dp.stats_fd);
	if (d->dp.header != NULL)
		munmap(d->dp.header, sizeof(*d->dp.header));
	if (d->dp.region_fd >= 0)
		close(d->dp.region_fd);
}
