/*
 * The data path, the parent's side; see datapath.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hal/afpacket.h"
#include "hal/sign.h"
#include "netfn/flow.h"
#include "netfn/overlay.h"
#include "netfn/pathmon.h"
#include "netfn/shm.h"
#include "netfn/steer.h"
#include "netfn/worker.h"
#include "cnwd/cnwd.h"
#include "cnwd/conf.h"
#include "cnwd/datapath.h"
#include "cnwd/events.h"
#include "cnwd/inventory.h"
#include "lib/log.h"
#include "lib/netns.h"
#include "lib/addr.h"
#include "cnwd/proc.h"
#include "lib/util.h"

#define DP_SOCKBUF (8 * 1024 * 1024)

static void datapath_path_name(struct cnwd *d, uint32_t port, uint16_t family,
    const uint8_t addr[16], uint16_t udp_port, const char *peer, const char *endpoint);
static int datapath_tenant_pushed(struct cnwd *d, int64_t id);
static void datapath_worker_uplink(struct cnwd *d, struct dp_port *dpp);
static void datapath_flow_moved(struct cnwd *d, const struct worker_move *m);
static const struct stats_segment *datapath_snapshot(struct cnwd *d);

/* Region and stats ------------------------------------------------------- */

/* A fresh region: at start and whenever the worker starts again. */
static int
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
static int
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

/* The worker ---------------------------------------------------------- */

static void datapath_worker_port(struct cnwd *d, unsigned port, uint32_t state);

/* Why an uplink's port is down, or NULL if it is up. */
static const char *
datapath_down_reason(const struct dp_port *dpp)
{
	if (!dpp->running)
		return "driver-not-running";
	if (dpp->iface_down)
		return "interface-down";
	if (dpp->kind == PORT_UDP && dpp->uplink.admin_down)
		return "admin-down";
	if (!dpp->link_up)
		return dpp->kind == PORT_UDP && dpp->uplink.flap[0] ? "flap" : "link-down";
	return NULL;
}

/*
 * Tell the worker when a port's state changes (running, its link as the
 * driver says, its interface as discovery says), and for an uplink emit
 * the event; the worker moves its traffic at once.
 */
static void
datapath_port_update(struct cnwd *d, struct dp_port *dpp)
{
	const char *why = datapath_down_reason(dpp);
	int up = why == NULL;

	if (up == dpp->up)
		return;
	dpp->up = up;
	datapath_worker_port(d, (unsigned)(dpp - d->dp.ports), up ? WORKER_PORT_UP : WORKER_PORT_DOWN);
	if (dpp->kind != PORT_UDP)
		return;
	log_notice("uplink %s: %s%s%s", dpp->name, up ? "up" : "down", up ? "" : ": ",
	    up ? "" : why);
	events_emit(d, up ? "uplink.up" : "uplink.down", "", dpp->name, "interface",
	    dpp->uplink.interface, "netns", dpp->uplink.netns, "reason", up ? "" : why, NULL);
}

int
datapath_worker_setup(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	struct shm_size r = { .size = d->dp.region_size };
	struct shm_size s = { .size = d->dp.stats_size };
	struct shm_size f = { .size = d->dp.flows_size };

	return datapath_send_fd(p, MSG_WORKER_REGION, d->dp.region_fd, &r, sizeof(r)) < 0 ||
	    datapath_send_fd(p, MSG_WORKER_STATS, d->dp.stats_fd, &s, sizeof(s)) < 0 ||
	    datapath_send_fd(p, MSG_WORKER_FLOWS, d->dp.flows_fd, &f, sizeof(f)) < 0 ? -1 : 0;
}

static void
datapath_worker_port(struct cnwd *d, unsigned port, uint32_t state)
{
	struct worker_port_cfg m = { .port = port, .kind = (uint32_t)d->dp.ports[port].kind,
		.state = state };

	if (d->dp.worker != NULL && d->dp.worker->sock >= 0)
		proc_send(d->dp.worker, MSG_WORKER_PORT, 0, 0, &m, sizeof(m), NULL);
}

static void
datapath_worker_kicks(struct cnwd *d, unsigned port)
{
	struct dp_port *dpp = &d->dp.ports[port];
	struct port_kick kd = { .port = port, .which = PORT_KICK_DRIVER };
	struct port_kick kw = { .port = port, .which = PORT_KICK_WORKER };

	if (d->dp.worker == NULL || d->dp.worker->sock < 0)
		return;
	datapath_send_fd(d->dp.worker, MSG_WORKER_KICK, dpp->kick_driver, &kd, sizeof(kd));
	datapath_send_fd(d->dp.worker, MSG_WORKER_KICK, dpp->kick_worker, &kw, sizeof(kw));
}

static int
datapath_network_msg(struct cnwd *d, const struct dp_port *tap, struct worker_net_cfg *w)
{
	const struct network *n = &tap->net;
	struct cnw_error err = { 0 };
	struct prefix p;
	struct peer peer;

	memset(w, 0, sizeof(*w));
	w->id = overlay_network_id(n->tenant, n->name);
	w->tap_port = (uint32_t)(tap - d->dp.ports);
	w->tenant = (uint32_t)n->tenant_id;
	if (prefix_parse(n->subnet, &p) == 0) {
		memcpy(w->subnet4, p.addr, 4);
		w->plen4 = (uint8_t)p.plen;
	}
	if (n->subnet6[0] != '\0' && prefix_parse(n->subnet6, &p) == 0) {
		memcpy(w->subnet6, p.addr, 16);
		w->plen6 = (uint8_t)p.plen;
		w->has6 = 1;
	}
	if (peer_row_get_id(d->store, n->peer_id, &peer, &err) <= 0)
		return -1;
	for (uint32_t i = 0; i < n->nuplinks && w->nuplinks < WORKER_NET_UPLINKS; i++) {
		const char *ep = peer_endpoint_of(&peer, n->uplinks[i]);

		for (unsigned j = 0; ep != NULL && j < PORT_MAX; j++) {
			const struct dp_port *u = &d->dp.ports[j];

			if (!u->used || u->kind != PORT_UDP || strcmp(u->uplink.name, n->uplinks[i]) != 0)
				continue;
			w->uplinks[w->nuplinks].port = j;
			if (uplink_parse_endpoint(ep, &w->uplinks[w->nuplinks].family,
			    w->uplinks[w->nuplinks].addr, &w->uplinks[w->nuplinks].udp_port) == 0) {
				datapath_path_name(d, j, w->uplinks[w->nuplinks].family,
				    w->uplinks[w->nuplinks].addr, w->uplinks[w->nuplinks].udp_port,
				    peer.name, ep);
				w->nuplinks++;
			}
		}
	}
	return 0;
}

static void
datapath_worker_network(struct cnwd *d, const struct dp_port *tap)
{
	struct worker_net_cfg w;

	if (d->dp.worker == NULL || d->dp.worker->sock < 0 || datapath_network_msg(d, tap, &w) < 0)
		return;
	if (!datapath_tenant_pushed(d, tap->net.tenant_id))
		datapath_tenant_push(d, tap->net.tenant_id);
	proc_send(d->dp.worker, MSG_WORKER_NETWORK, 0, 0, &w, sizeof(w), NULL);
}

/* After a (re)start the worker knows nothing: tell it everything. */
void
datapath_worker_started(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;

	d->dp.npushed = 0;	/* it knows no tenant */
	for (unsigned i = 0; i < PORT_MAX; i++) {
		if (!d->dp.ports[i].used)
			continue;
		datapath_worker_kicks(d, i);
		if (d->dp.ports[i].kind == PORT_UDP)
			datapath_worker_uplink(d, &d->dp.ports[i]);
		if (d->dp.ports[i].running)
			datapath_worker_port(d, i, d->dp.ports[i].up ? WORKER_PORT_UP :
			    WORKER_PORT_DOWN);
	}
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (d->dp.ports[i].used && d->dp.ports[i].kind == PORT_TAP)
			datapath_worker_network(d, &d->dp.ports[i]);
}

/* Drivers ------------------------------------------------------------- */

/* Bytes an uplink's link adds to each frame the driver sends, for the emulated rate. */
static uint32_t
datapath_wire_overhead(const struct uplink *u)
{
	if (strcmp(u->driver, "afpacket") == 0)
		return 18;			/* Ethernet header and FCS */
	return strchr(u->address, '[') != NULL ? 48 : 28;	/* IPv6 or IPv4, and UDP */
}

/* The uplink's emulation and drills to its driver: at start, and live. */
static int
datapath_send_emu(struct cnwd *d, struct dp_port *dpp)
{
	struct hal_emu_cfg e;
	char why[160];

	(void)d;
	memset(&e, 0, sizeof(e));
	e.params = dpp->uplink.emu;
	e.admin_down = dpp->uplink.admin_down;
	e.wire_overhead = datapath_wire_overhead(&dpp->uplink);
	if (dpp->uplink.flap[0] != '\0') {
		if (emu_flap_parse(dpp->uplink.flap, &e.flap, why, sizeof(why)) < 0) {
			log_warnx("uplink %s: stored flap \"%s\": %s; ignored", dpp->name,
			    dpp->uplink.flap, why);
		} else {
			e.has_flap = 1;
		}
	}
	if (dpp->proc == NULL || dpp->proc->sock < 0)
		return 0;
	return proc_send(dpp->proc, MSG_DRIVER_EMU, 0, 0, &e, sizeof(e), NULL);
}

static int
datapath_iface_match(const struct dp_port *dpp, const char *netns, const char *ifname)
{
	return dpp->used && dpp->kind == PORT_UDP && strcmp(dpp->uplink.netns, netns) == 0 &&
	    strcmp(dpp->uplink.interface, ifname) == 0;
}

void
datapath_interface_state(struct cnwd *d, const char *netns, const char *ifname, int up)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct dp_port *dpp = &d->dp.ports[i];

		if (!datapath_iface_match(dpp, netns, ifname))
			continue;
		dpp->iface_down = !up;
		datapath_port_update(d, dpp);
	}
}

void
datapath_interface_mtu(struct cnwd *d, const char *netns, const char *ifname)
{
	for (unsigned i = 0; i < PORT_MAX; i++) {
		struct dp_port *dpp = &d->dp.ports[i];

		/* afpacket's rings are sized for the MTU at start: a new MTU, a new start. */
		if (datapath_iface_match(dpp, netns, ifname) &&
		    strcmp(dpp->uplink.driver, "afpacket") == 0 && dpp->proc != NULL &&
		    dpp->proc->pid > 0) {
			log_notice("uplink %s: the MTU of %s changed; restarting its driver",
			    dpp->name, ifname);
			dpp->proc->recycled = 1;	/* not a death that counts */
			proc_restart(dpp->proc);
		}
	}
}

const char *
datapath_interface_uplink(struct cnwd *d, const char *netns, const char *ifname)
{
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (datapath_iface_match(&d->dp.ports[i], netns, ifname))
			return d->dp.ports[i].name;
	return NULL;
}

static int
datapath_open_tun(void *arg, struct cnw_error *err)
{
	int *out = arg, fd, hdr = 10;
	struct ifreq ifr;

	if ((fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0)
		return cnw_err(err, CNW_EINTERNAL, "/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", NETWORK_DEVICE);
	/* Offloads: the kernel hands over whole TCP segments up to 64 KiB. */
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		cnw_err(err, CNW_EINTERNAL, "attach to %s: %s", NETWORK_DEVICE, strerror(errno));
		close(fd);
		return -1;
	}
	*out = fd;
	return 0;
}

struct datapath_udp {
	const struct uplink *u;
	int fd;
};

static int
datapath_open_udp(void *arg, struct cnw_error *err)
{
	struct datapath_udp *x = arg;
	struct sockaddr_storage ss;
	socklen_t len;
	int buf = DP_SOCKBUF, fd;

	if (addr_endpoint_parse(x->u->address, &ss, &len) < 0)
		return cnw_err(err, CNW_EINVAL, "uplink %s: bad address", x->u->name);
	fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, x->u->interface,
	    (socklen_t)strlen(x->u->interface)) < 0 ||
	    bind(fd, (struct sockaddr *)&ss, len) < 0) {
		cnw_err(err, CNW_EINTERNAL, "uplink %s on %s at %s: %s", x->u->name, x->u->interface,
		    x->u->address, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf));
	x->fd = fd;
	return 0;
}

struct datapath_packet {
	const struct uplink *u;
	struct afpacket_geom geom;
	int fd;
};

static int
datapath_open_packet(void *arg, struct cnw_error *err)
{
	struct datapath_packet *x = arg;

	x->fd = afpacket_open(x->u->interface, &x->geom, err);
	return x->fd < 0 ? -1 : 0;
}

/* An afpacket uplink's socket and rings, and the argument string that describes them. */
static int
datapath_open_afpacket(const struct uplink *u, char *args, size_t argslen,
    struct cnw_error *err)
{
	struct datapath_packet x = { u, { 0 }, -1 };
	int rc = u->netns[0] == '\0' ? datapath_open_packet(&x, err) :
	    netns_run(u->netns, datapath_open_packet, &x, err);

	if (rc < 0)
		return -1;
	if (args != NULL && afpacket_geom_args(&x.geom, args, argslen) < 0) {
		close(x.fd);
		return cnw_err(err, CNW_EINTERNAL, "uplink %s: ring geometry does not fit", u->name);
	}
	return x.fd;
}

/* The device of a port, opened where it lives; -1 with err.  args: the driver's arguments. */
static int
datapath_open_device(struct cnwd *d, struct dp_port *dpp, char *args, size_t argslen,
    struct cnw_error *err)
{
	char ns[NETWORK_NETNS_MAX];
	struct datapath_udp x = { &dpp->uplink, -1 };
	int fd = -1;

	if (dpp->kind == PORT_UDP && strcmp(dpp->uplink.driver, "afpacket") == 0)
		return datapath_open_afpacket(&dpp->uplink, args, argslen, err);

	if (dpp->kind == PORT_TAP) {
		if (network_netns_name(d->cfg.instance, dpp->net.tenant, dpp->net.name, ns,
		    sizeof(ns)) < 0 || netns_run(ns, datapath_open_tun, &fd, err) < 0)
			return -1;
		return fd;
	}
	if (dpp->uplink.netns[0] == '\0')
		return datapath_open_udp(&x, err) < 0 ? -1 : x.fd;
	return netns_run(dpp->uplink.netns, datapath_open_udp, &x, err) < 0 ? -1 : x.fd;
}

int
datapath_uplink_check(const struct uplink *u, struct cnw_error *err)
{
	struct datapath_udp x = { u, -1 };
	int rc;

	if (strcmp(u->driver, "afpacket") == 0) {
		rc = x.fd = datapath_open_afpacket(u, NULL, 0, err);
	} else {
		rc = u->netns[0] == '\0' ? datapath_open_udp(&x, err) :
		    netns_run(u->netns, datapath_open_udp, &x, err);
	}
	if (x.fd >= 0)
		close(x.fd);
	if (rc < 0)
		err->kind = CNW_EINVAL;	/* the caller's interface or address, not our fault */
	return rc;
}

/*
 * An external driver: verified again at every start (the file may have
 * changed since the uplink was made), and handed over as the sealed copy
 * that was verified, never as a path.
 */
static int
datapath_send_plugin(struct cnwd *d, struct proc *p, struct dp_port *dpp)
{
	struct sign_result res;
	struct cnw_error err = { 0 };
	struct hal_plugin_cfg pl;
	int memfd = -1, rc;

	if (sign_check(d->cfg.plugin_dir, d->cfg.trusted_keys, dpp->uplink.driver, &memfd, &res,
	    &err) < 0) {
		log_warnx("%s: %s", p->label, err.msg);
		return -1;
	}
	if (res.state != SIGN_VERIFIED) {
		log_warnx("%s: plug-in %s refused: %s: %s", p->label, dpp->uplink.driver,
		    sign_state_name(res.state), res.detail);
		events_emit(d, "driver.refused", "", dpp->uplink.driver, "uplink", dpp->name,
		    "signature", sign_state_name(res.state), "detail", res.detail, NULL);
		if (memfd >= 0)
			close(memfd);
		return -1;
	}
	memset(&pl, 0, sizeof(pl));
	snprintf(pl.name, sizeof(pl.name), "%s", dpp->uplink.driver);
	pl.size = res.size;
	rc = proc_send(p, MSG_DRIVER_PLUGIN, 0, 0, &pl, sizeof(pl), &memfd);
	if (memfd >= 0)
		close(memfd);
	log_info("%s: plug-in %s (%llu bytes) verified by key %s", p->label, dpp->uplink.driver,
	    (unsigned long long)res.size, res.key);
	return rc;
}

int
datapath_driver_setup(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	struct dp_port *dpp = p->arg;
	unsigned port = (unsigned)(dpp - d->dp.ports);
	struct hal_config c;
	struct shm_size r = { .size = d->dp.region_size };
	struct port_kick kd = { .port = port, .which = PORT_KICK_DRIVER };
	struct port_kick kw = { .port = port, .which = PORT_KICK_WORKER };
	struct cnw_error err = { 0 };
	int dev, rc;

	memset(&c, 0, sizeof(c));
	snprintf(c.driver, sizeof(c.driver), "%s", dpp->kind == PORT_TAP ? "tap" :
	    dpp->uplink.driver);
	snprintf(c.name, sizeof(c.name), "%s", dpp->name);
	c.port = port;
	if (dpp->kind == PORT_UDP && !uplink_driver_builtin(dpp->uplink.driver) &&
	    datapath_send_plugin(d, p, dpp) < 0)
		return -1;
	if ((dev = datapath_open_device(d, dpp, c.args, sizeof(c.args), &err)) < 0) {
		log_warnx("%s: %s", p->label, err.msg);
		return -1;
	}
	rc = proc_send(p, MSG_DRIVER_CONFIG, 0, 0, &c, sizeof(c), NULL) < 0 ||
	    (dpp->kind == PORT_UDP && datapath_send_emu(d, dpp) < 0) ||
	    proc_send(p, MSG_DRIVER_DEVICE, 0, 0, NULL, 0, &dev) < 0 ||
	    datapath_send_fd(p, MSG_DRIVER_REGION, d->dp.region_fd, &r, sizeof(r)) < 0 ||
	    datapath_send_fd(p, MSG_DRIVER_KICK, dpp->kick_driver, &kd, sizeof(kd)) < 0 ||
	    datapath_send_fd(p, MSG_DRIVER_KICK, dpp->kick_worker, &kw, sizeof(kw)) < 0 ? -1 : 0;
	if (dev >= 0)
		close(dev);
	return rc;
}

void
datapath_driver_started(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	struct dp_port *dpp = p->arg;

	dpp->running = 1;
	dpp->link_up = 1;	/* until the driver says otherwise */
	datapath_port_update(d, dpp);
}

void
datapath_child_dispatch(struct proc *p, struct msg *m, void *ctx)
{
	struct cnwd *d = ctx;

	if (m->hdr.type == MSG_LOG_LINE) {
		const struct proto_log *l = (const struct proto_log *)m->data;
		log_emit(l->level, p->label, l->line);
	} else if (m->hdr.type == MSG_DRIVER_LINK && p->arg != NULL) {
		const struct hal_link_msg *l = (const struct hal_link_msg *)m->data;
		struct dp_port *dpp = p->arg;

		dpp->link_up = l->up != 0;
		datapath_port_update(d, dpp);
	} else if (m->hdr.type == MSG_WORKER_MOVE && p == d->dp.worker) {
		datapath_flow_moved(d, (const struct worker_move *)m->data);
	} else if (m->hdr.type == MSG_DRIVER_EMU_STATS && p->arg != NULL) {
		const struct hal_emu_stats *es = (const struct hal_emu_stats *)m->data;
		struct dp_port *dpp = p->arg;

		memcpy(dpp->emu_count, es->dir, sizeof(dpp->emu_count));
	} else {
		log_warnx("%s: unexpected message %u", p->label, m->hdr.type);
	}
}

void
datapath_child_exited(struct cnwd *d, struct proc *p)
{
	if (p == d->dp.worker) {
		struct cnw_error err = { 0 };

		/* Buffers lent to drivers are lost with the pool: start over, all of it. */
		if (datapath_new_region(&d->dp, &err) < 0)
			log_warnx("fast path: %s", err.msg);
		for (unsigned i = 0; i < PORT_MAX; i++)
			if (d->dp.ports[i].used && d->dp.ports[i].proc != NULL &&
			    d->dp.ports[i].proc->pid > 0) {
				d->dp.ports[i].proc->recycled = 1;
				kill(d->dp.ports[i].proc->pid, SIGKILL);
			}
		return;
	}
	for (unsigned i = 0; i < PORT_MAX; i++) {
		if (d->dp.ports[i].used && d->dp.ports[i].proc == p) {
			d->dp.ports[i].running = 0;
			datapath_port_update(d, &d->dp.ports[i]);
			datapath_worker_port(d, i, WORKER_PORT_RESET);
		}
	}
}

/* The scheduler ----------------------------------------------------------- */

/* Remember who a probed path leads to, for the API (the worker knows only addresses). */
static void
datapath_path_name(struct cnwd *d, uint32_t port, uint16_t family, const uint8_t addr[16],
    uint16_t udp_port, const char *peer, const char *endpoint)
{
	struct datapath *dp = &d->dp;
	struct dp_path_name *n = NULL;

	for (uint32_t i = 0; i < dp->npath_names; i++) {
		struct dp_path_name *x = &dp->path_names[i];

		if (x->port == port && x->family == family && x->udp_port == udp_port &&
		    memcmp(x->addr, addr, 16) == 0) {
			n = x;
			break;
		}
	}
	if (n == NULL) {
		if (dp->npath_names == DP_PATH_NAMES)
			return;
		n = &dp->path_names[dp->npath_names++];
		n->port = port;
		n->family = family;
		n->udp_port = udp_port;
		memcpy(n->addr, addr, 16);
	}
	snprintf(n->peer, sizeof(n->peer), "%s", peer);
	snprintf(n->endpoint, sizeof(n->endpoint), "%s", endpoint);
}

static const struct dp_path_name *
datapath_path_name_of(const struct datapath *dp, const struct stats_path *sp)
{
	for (uint32_t i = 0; i < dp->npath_names; i++) {
		const struct dp_path_name *x = &dp->path_names[i];

		if (x->port == sp->port && x->family == sp->family && x->udp_port == sp->udp_port &&
		    memcmp(x->addr, sp->addr, 16) == 0)
			return x;
	}
	return NULL;
}

static int
datapath_tenant_pushed(struct cnwd *d, int64_t id)
{
	for (size_t i = 0; i < d->dp.npushed; i++)
		if (d->dp.pushed[i] == id)
			return 1;
	return 0;
}

/* The port of the uplink called name, or NULL. */
static const struct dp_port *
datapath_port_named(const struct cnwd *d, const char *name)
{
	for (unsigned j = 0; j < PORT_MAX; j++) {
		const struct dp_port *u = &d->dp.ports[j];

		if (u->used && u->kind == PORT_UDP && strcmp(u->uplink.name, name) == 0)
			return u;
	}
	return NULL;
}

struct dp_rules {
	struct cnwd *d;
	struct worker_tenant_cfg *m;
	struct cnw_error *err;
};

/* A policy compiled into the next rule, its uplinks' names made ports. */
static int
datapath_rule_add(const void *row, void *arg)
{
	const struct policy *p = row;
	struct dp_rules *rs = arg;
	struct cls_rule *r;

	if (rs->m->nrules == CLS_RULES_MAX)
		return 0;
	r = &rs->m->rules[rs->m->nrules];
	if (policy_compile(p, r, rs->err) < 0)
		return -1;
	/* A named uplink without a port (yet) is CLS_NO_PORT: it allows nothing. */
	r->nuplinks = (uint8_t)(p->nuplinks < CLS_UPLINKS_MAX ? p->nuplinks : CLS_UPLINKS_MAX);
	for (uint32_t i = 0; i < r->nuplinks; i++) {
		const struct dp_port *u = datapath_port_named(rs->d, p->uplinks[i]);

		r->uplink_port[i] = u != NULL ? (uint8_t)(u - rs->d->dp.ports) : CLS_NO_PORT;
		r->weight[i] = (uint16_t)p->weights[i];
	}
	rs->m->nrules++;
	return 0;
}

int
datapath_tenant_push(struct cnwd *d, int64_t tenant_id)
{
	struct datapath *dp = &d->dp;
	struct cnw_error err = { 0 };
	struct worker_tenant_cfg *m;
	struct dp_rules rs;
	struct tenant t;
	int rc = -1;

	if (dp->worker == NULL || dp->worker->sock < 0 || tenant_id <= 0 || tenant_id > UINT32_MAX)
		return 0;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	rs = (struct dp_rules){ .d = d, .m = m, .err = &err };
	if (tenant_row_get_id(d->store, tenant_id, &t, &err) <= 0 ||
	    policy_row_each(d->store, tenant_id, datapath_rule_add, &rs, &err) < 0) {
		log_warnx("tenant %lld: its policies cannot be sent to the fast path: %s",
		    (long long)tenant_id, err.msg[0] ? err.msg : "no such tenant");
		goto out;
	}
	m->id = (uint32_t)tenant_id;
	m->flows_max = t.quotas.flows;
	m->bandwidth_kbps = t.quotas.bandwidth_kbps;
	if (proc_send(dp->worker, MSG_WORKER_TENANT, 0, 0, m,
	    offsetof(struct worker_tenant_cfg, rules) + m->nrules * sizeof(struct cls_rule), NULL) < 0)
		goto out;
	if (!datapath_tenant_pushed(d, tenant_id)) {
		if (dp->npushed == dp->cappushed) {
			size_t cap = dp->cappushed ? dp->cappushed * 2 : 16;
			int64_t *n = realloc(dp->pushed, cap * sizeof(*n));

			if (n == NULL)
				goto out;
			dp->pushed = n;
			dp->cappushed = cap;
		}
		dp->pushed[dp->npushed++] = tenant_id;
	}
	rc = 0;
out:
	free(m);
	return rc;
}

void
datapath_tenant_forget(struct cnwd *d, int64_t tenant_id)
{
	struct datapath *dp = &d->dp;
	struct worker_tenant_cfg m = { .id = (uint32_t)tenant_id };

	for (size_t i = 0; i < dp->npushed; i++)
		if (dp->pushed[i] == tenant_id)
			dp->pushed[i] = dp->pushed[--dp->npushed];
	if (dp->worker != NULL && dp->worker->sock >= 0)
		proc_send(dp->worker, MSG_WORKER_TENANT_DEL, 0, 0, &m,
		    offsetof(struct worker_tenant_cfg, rules), NULL);
}

/*
 * What the scheduler needs of an uplink: its capacity (the emulated
 * egress rate, else the interface's speed) and, for an emulated rate,
 * pacing at 98% of it, so the queue (and class priority) is the worker's
 * and not the emulated link's.
 */
static void
datapath_worker_uplink(struct cnwd *d, struct dp_port *dpp)
{
	const struct uplink *u = &dpp->uplink;
	struct worker_uplink_cfg m = { .port = (uint32_t)(dpp - d->dp.ports) };
	int64_t speed;

	m.wire_overhead = datapath_wire_overhead(u);
	if (u->emu.profile[0] != '\0' && u->emu.egress.rate_kbps != 0) {
		m.capacity_kbps = u->emu.egress.rate_kbps;
		m.shape_kbps = u->emu.egress.rate_kbps * 98 / 100;
	} else if ((speed = inventory_iface_speed(d, u->netns, u->interface)) > 0) {
		m.capacity_kbps = (uint64_t)speed * 1000;
	}
	dpp->uplink.capacity_kbps = m.capacity_kbps;
	if (d->dp.worker == NULL || d->dp.worker->sock < 0)
		return;
	if (proc_send(d->dp.worker, MSG_WORKER_UPLINK, 0, 0, &m, sizeof(m), NULL) == 0)
		dpp->capacity_sent = 1;
}

static const char *
datapath_port_uplink(const struct cnwd *d, uint32_t port)
{
	if (port >= PORT_MAX || !d->dp.ports[port].used || d->dp.ports[port].kind != PORT_UDP)
		return NULL;
	return d->dp.ports[port].uplink.name;
}

/* The worker moved a flow: an event for the tenant and the admin. */
static void
datapath_flow_moved(struct cnwd *d, const struct worker_move *m)
{
	struct cnw_error err = { 0 };
	const char *from = datapath_port_uplink(d, m->from[0]);
	const char *to = datapath_port_uplink(d, m->to[0]);
	char object[256], src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], d0[16], d1[16], sup[16];
	const char *network = "";
	struct tenant t;
	int af = m->key.ipv == 6 ? AF_INET6 : AF_INET;

	if (tenant_row_get_id(d->store, m->tenant, &t, &err) <= 0)
		snprintf(t.name, sizeof(t.name), "%s", "");
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (d->dp.ports[i].used && d->dp.ports[i].kind == PORT_TAP &&
		    overlay_network_id(d->dp.ports[i].net.tenant, d->dp.ports[i].net.name) ==
		    m->network)
			network = d->dp.ports[i].net.name;
	inet_ntop(af, m->key.src, src, sizeof(src));
	inet_ntop(af, m->key.dst, dst, sizeof(dst));
	snprintf(object, sizeof(object), "%s/%u/%s:%u>%s:%u", network, m->key.proto, src,
	    m->key.sport, dst, m->key.dport);
	snprintf(d0, sizeof(d0), "%u", m->delay_us[0]);
	snprintf(d1, sizeof(d1), "%u", m->delay_us[1]);
	snprintf(sup, sizeof(sup), "%u", m->suppressed);
	events_emit(d, "flow.moved", t.name, object, "network", network,
	    "from", from != NULL ? from : "", "to", to != NULL ? to : "",
	    "reason", m->reason < STEER_REASON_MAX ? steer_reason_names[m->reason] : "unknown",
	    "#from_delay_us", d0, "#to_delay_us", d1, "#unreported_before", sup, NULL);
}

uint32_t
datapath_uplink_paths(struct cnwd *d, const char *uplink, struct uplink_path *out, uint32_t max)
{
	const struct stats_segment *s = datapath_snapshot(d);
	uint32_t n = 0;

	if (s == NULL)
		return 0;
	for (uint32_t i = 0; i < s->npaths && i < STATS_MAX_PATHS && n < max; i++) {
		const struct stats_path *sp = &s->paths[i];
		const char *name = datapath_port_uplink(d, sp->port);
		const struct dp_path_name *pn;
		struct uplink_path *o = &out[n];

		if (name == NULL || strcmp(name, uplink) != 0)
			continue;
		memset(o, 0, sizeof(*o));
		if ((pn = datapath_path_name_of(&d->dp, sp)) != NULL) {
			snprintf(o->peer, sizeof(o->peer), "%s", pn->peer);
			snprintf(o->endpoint, sizeof(o->endpoint), "%s", pn->endpoint);
		}
		snprintf(o->state, sizeof(o->state), "%s", sp->state == PATH_UP ? "up" :
		    sp->state == PATH_DEAD ? "dead" : "unknown");
		o->rtt_us = sp->rtt_us;
		o->jitter_us = sp->jitter_us;
		o->loss_ppm = sp->loss_ppm;
		o->probes_sent = sp->sent;
		o->probes_answered = sp->answered;
		n++;
	}
	return n;
}

/* Flows ------------------------------------------------------------------ */

struct dp_policy_name {
	int64_t id;
	char name[TENANT_NAME_MAX + 1];
};

struct dp_policy_names {
	struct dp_policy_name items[CLS_RULES_MAX];
	uint32_t n;
};

static int
datapath_policy_name_add(const void *row, void *arg)
{
	const struct policy *p = row;
	struct dp_policy_names *pn = arg;

	if (pn->n < CLS_RULES_MAX) {
		pn->items[pn->n].id = p->id;
		snprintf(pn->items[pn->n].name, sizeof(pn->items[0].name), "%s", p->name);
		pn->n++;
	}
	return 0;
}

static const char *
datapath_policy_name(const struct dp_policy_names *pn, uint32_t id)
{
	for (uint32_t i = 0; i < pn->n; i++)
		if (pn->items[i].id == id)
			return pn->items[i].name;
	return "";
}

/* The network of a flow's slot: the tap port whose network has the slot's id. */
static const struct network *
datapath_flow_network(struct cnwd *d, const struct stats_segment *s, uint16_t slot)
{
	uint32_t id;

	if (slot >= STATS_MAX_NETWORKS || (id = s->networks[slot].id) == 0)
		return NULL;
	for (unsigned i = 0; i < PORT_MAX; i++)
		if (d->dp.ports[i].used && d->dp.ports[i].kind == PORT_TAP &&
		    overlay_network_id(d->dp.ports[i].net.tenant, d->dp.ports[i].net.name) == id)
			return &d->dp.ports[i].net;
	return NULL;
}

static void
datapath_flow_render(struct cnwd *d, const struct flow *f, const struct network *n,
    const struct dp_policy_names *pn, uint64_t now, struct proto_flow *o)
{
	int af = f->key.ipv == 6 ? AF_INET6 : AF_INET;

	memset(o, 0, sizeof(*o));
	snprintf(o->network, sizeof(o->network), "%s", n->name);
	snprintf(o->policy, sizeof(o->policy), "%s", datapath_policy_name(pn, f->policy));
	for (int i = 0; i < 2; i++) {
		const char *u = datapath_port_uplink(d, f->port[i]);

		snprintf(o->uplinks[i], sizeof(o->uplinks[i]), "%s", u != NULL ? u : "");
	}
	inet_ntop(af, f->key.src, o->src, sizeof(o->src));
	inet_ntop(af, f->key.dst, o->dst, sizeof(o->dst));
	o->sport = f->key.sport;
	o->dport = f->key.dport;
	o->protocol = f->key.proto;
	o->dscp = f->dscp;
	o->action = f->action < POLICY_ACTION_MAX ? f->action : POLICY_ALLOW;
	o->class = f->class < POLICY_CLASS_MAX ? f->class : CLS_DEFAULT_CLASS;
	o->steering = f->steering < STEER_MAX ? f->steering : CLS_DEFAULT_STEERING;
	o->elephant = f->elephant != 0;
	o->moves = f->moves;
	o->packets = f->packets;
	o->bytes = f->bytes;
	o->age_ms = now > f->first_ns ? (int64_t)((now - f->first_ns) / 1000000) : 0;
	o->idle_ms = now > f->last_ns ? (int64_t)((now - f->last_ns) / 1000000) : 0;
}

int
datapath_flows(struct cnwd *d, const struct tenant *t, const char *network, uint32_t limit,
    int (*summary)(const struct proto_flow_summary *s, void *arg),
    int (*fn)(const struct proto_flow *f, void *arg), void *arg, struct cnw_error *err)
{
	const struct flow_table *ft = d->dp.flows;
	struct proto_flow_summary sum = { .limit = t->quotas.flows };
	const struct stats_segment *s;
	struct dp_policy_names *pn;
	struct proto_flow *o;
	struct timespec ts;
	uint64_t now;
	int rc = 0;

	uint32_t nslots;

	d->dp.snap_ms = 0;	/* the counts as they are now */
	if ((s = datapath_snapshot(d)) == NULL || ft == NULL ||
	    flow_table_check(ft, d->dp.flows_size) < 0)
		return cnw_err(err, CNW_EINTERNAL, "the fast path's flow table is not readable");
	/* The size as checked: the worker could change the header after the check. */
	nslots = ft->nslots;
	if (flow_table_size(nslots) == 0 || flow_table_size(nslots) > d->dp.flows_size)
		return cnw_err(err, CNW_EINTERNAL, "the fast path's flow table is not readable");
	for (uint32_t i = 0; i < s->ntenants && i < STATS_MAX_TENANTS; i++)
		if (s->tenants[i].id == (uint32_t)t->id) {
			sum.active = s->tenants[i].flows;
			sum.dropped = s->tenants[i].flow_drops;
		}
	pn = calloc(1, sizeof(*pn));
	o = malloc(sizeof(*o));
	if (pn == NULL || o == NULL) {
		free(pn);
		free(o);
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	}
	if (policy_row_each(d->store, t->id, datapath_policy_name_add, pn, err) < 0) {
		rc = -1;
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	/* Count what will be listed first: the summary goes before the flows. */
	for (int pass = 0; pass < 2 && rc == 0; pass++) {
		uint64_t listed = 0;

		for (uint32_t i = 0; i < nslots && (limit == 0 || listed < limit); i++) {
			struct flow f;
			const struct network *n;

			if (flow_read(ft, i, &f) != 1 || f.tenant != (uint32_t)t->id ||
			    (n = datapath_flow_network(d, s, f.key.net)) == NULL ||
			    (network[0] != '\0' && strcmp(n->name, network) != 0))
				continue;
			listed++;
			if (pass == 1) {
				datapath_flow_render(d, &f, n, pn, now, o);
				if ((rc = fn(o, arg)) < 0)
					break;
			}
		}
		if (pass == 0) {
			sum.listed = listed;
			rc = summary(&sum, arg);
		}
	}
out:
	free(pn);
	free(o);
	return rc;
}

/* Sync ------------------------------------------------------------------ */

static struct dp_port *
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

/* Observed state for the API --------------------------------------------- */

/*
 * A consistent copy of the counters, taken at most every 100 ms: a list of
 * a thousand networks reads one copy (some 50 KB), not a thousand.
 */
#define DP_SNAPSHOT_MS 100

static const struct stats_segment *
datapath_snapshot(struct cnwd *d)
{
	struct datapath *dp = &d->dp;
	long long now = cnw_now_ms();

	if (dp->stats == NULL)
		return NULL;
	if (dp->snap == NULL && (dp->snap = malloc(sizeof(*dp->snap))) == NULL)
		return NULL;
	if (dp->snap_ms == 0 || now - dp->snap_ms >= DP_SNAPSHOT_MS) {
		if (stats_snapshot(dp->stats, dp->snap) < 0)
			return NULL;
		dp->snap_ms = now;
	}
	return dp->snap;
}

/* The counters of a port; -1 if there is no port or no snapshot. */
static int
datapath_port_counters(struct cnwd *d, const struct dp_port *dpp, struct stats_counters *out)
{
	const struct stats_segment *s;

	if (dpp == NULL || (s = datapath_snapshot(d)) == NULL)
		return -1;
	*out = s->ports[dpp - d->dp.ports];
	return 0;
}

int
datapath_uplink_state(struct cnwd *d, struct uplink *u)
{
	struct dp_port *dpp = datapath_port_find(&d->dp, PORT_UDP, u->id);
	struct stats_counters c;

	snprintf(u->state, sizeof(u->state), "%s", dpp && dpp->proc ?
	    proc_state_name(dpp->proc->state) : "none");
	const char *why = dpp == NULL ? "no-port" : dpp->up ? NULL : datapath_down_reason(dpp);

	u->link_up = dpp != NULL && dpp->up;
	snprintf(u->link_reason, sizeof(u->link_reason), "%s", why != NULL ? why : "");
	if (dpp != NULL)
		memcpy(u->emu_count, dpp->emu_count, sizeof(u->emu_count));
	if (datapath_port_counters(d, dpp, &c) < 0)
		return -1;
	u->capacity_kbps = dpp->uplink.capacity_kbps;
	u->flows = d->dp.snap->sched[dpp - d->dp.ports].flows;
	u->npaths = datapath_uplink_paths(d, u->name, u->paths, UPLINK_PATHS_MAX);
	u->rx_packets = c.rx_packets;
	u->rx_bytes = c.rx_bytes;
	u->tx_packets = c.tx_packets;
	u->tx_bytes = c.tx_bytes;
	u->drops = c.drops;
	return 0;
}

int
datapath_network_counters(struct cnwd *d, int64_t network_id, struct stats_counters *out)
{
	return datapath_port_counters(d, datapath_port_find(&d->dp, PORT_TAP, network_id), out);
}

/* Prometheus text ------------------------------------------------------- */

struct dp_text {
	char *buf;
	size_t len, cap;
};

static void
dp_printf(struct dp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
dp_printf(struct dp_text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			t->len += (size_t)n;
			return;
		}
		size_t cap = t->cap ? t->cap * 2 : 8192;
		while (cap - t->len <= (size_t)n)
			cap *= 2;
		char *nb = realloc(t->buf, cap);
		if (nb == NULL)
			return;
		t->buf = nb;
		t->cap = cap;
	}
}

static void
dp_counter(struct dp_text *t, const char *metric, const char *labels, uint64_t v)
{
	if (labels[0] == '\0')
		dp_printf(t, "%s %llu\n", metric, (unsigned long long)v);
	else
		dp_printf(t, "%s{%s} %llu\n", metric, labels, (unsigned long long)v);
}

static void
dp_counters(struct dp_text *t, const char *prefix, const char *labels,
    const struct stats_counters *c)
{
	char m[96];

	snprintf(m, sizeof(m), "%s_rx_packets_total", prefix);
	dp_counter(t, m, labels, c->rx_packets);
	snprintf(m, sizeof(m), "%s_rx_bytes_total", prefix);
	dp_counter(t, m, labels, c->rx_bytes);
	snprintf(m, sizeof(m), "%s_tx_packets_total", prefix);
	dp_counter(t, m, labels, c->tx_packets);
	snprintf(m, sizeof(m), "%s_tx_bytes_total", prefix);
	dp_counter(t, m, labels, c->tx_bytes);
	snprintf(m, sizeof(m), "%s_drops_total", prefix);
	dp_counter(t, m, labels, c->drops);
}

static void
dp_gauge(struct dp_text *t, const char *metric, const char *labels, double v)
{
	dp_printf(t, "%s{%s} %.9g\n", metric, labels, v);
}

/* The scheduler's figures: paths as probed, uplinks' load, tenants' flows. */
static void
datapath_metrics_sched(struct cnwd *d, const struct stats_segment *s, struct dp_text *t)
{
	char labels[200];

	dp_printf(t, "# HELP cnw_path_rtt_seconds Smoothed round-trip time of a path "
	    "(an uplink to a peer), from probes.\n# TYPE cnw_path_rtt_seconds gauge\n"
	    "# HELP cnw_path_jitter_seconds Smoothed variation of the path's RTT.\n"
	    "# TYPE cnw_path_jitter_seconds gauge\n"
	    "# HELP cnw_path_loss_ratio Probes lost over the last 64.\n"
	    "# TYPE cnw_path_loss_ratio gauge\n"
	    "# HELP cnw_path_up 1 if the path answers its probes.\n# TYPE cnw_path_up gauge\n");
	for (uint32_t i = 0; i < s->npaths && i < STATS_MAX_PATHS; i++) {
		const struct stats_path *sp = &s->paths[i];
		const char *u = datapath_port_uplink(d, sp->port);
		const struct dp_path_name *pn = datapath_path_name_of(&d->dp, sp);

		if (u == NULL)
			continue;
		snprintf(labels, sizeof(labels), "uplink=\"%s\",peer=\"%s\"", u,
		    pn != NULL ? pn->peer : "");
		dp_gauge(t, "cnw_path_up", labels, sp->state == PATH_UP);
		if (sp->state == PATH_UNKNOWN)
			continue;
		dp_gauge(t, "cnw_path_rtt_seconds", labels, sp->rtt_us / 1e6);
		dp_gauge(t, "cnw_path_jitter_seconds", labels, sp->jitter_us / 1e6);
		dp_gauge(t, "cnw_path_loss_ratio", labels, sp->loss_ppm / 1e6);
	}
	dp_printf(t, "# HELP cnw_uplink_flows Flows steered onto an uplink now.\n"
	    "# TYPE cnw_uplink_flows gauge\n"
	    "# HELP cnw_uplink_load_bits_per_second An uplink's tx rate, smoothed.\n"
	    "# TYPE cnw_uplink_load_bits_per_second gauge\n");
	for (unsigned i = 0; i < PORT_MAX; i++) {
		const char *u = datapath_port_uplink(d, i);

		if (u == NULL)
			continue;
		snprintf(labels, sizeof(labels), "uplink=\"%s\"", u);
		dp_gauge(t, "cnw_uplink_flows", labels, s->sched[i].flows);
		dp_gauge(t, "cnw_uplink_load_bits_per_second", labels, s->sched[i].load_kbps * 1e3);
		dp_counter(t, "cnw_uplink_flow_moves_in_total", labels, s->sched[i].moves_in);
		dp_counter(t, "cnw_uplink_redundant_copies_total", labels, s->sched[i].dup_tx);
	}
	dp_printf(t, "# HELP cnw_tenant_flows A tenant's flows in the fast path now.\n"
	    "# TYPE cnw_tenant_flows gauge\n");
	for (uint32_t i = 0; i < s->ntenants && i < STATS_MAX_TENANTS; i++) {
		const struct stats_tenant *st = &s->tenants[i];
		struct cnw_error err = { 0 };
		struct tenant tn;

		if (st->id == 0 || tenant_row_get_id(d->store, st->id, &tn, &err) <= 0)
			continue;
		snprintf(labels, sizeof(labels), "tenant=\"%s\"", tn.name);
		dp_gauge(t, "cnw_tenant_flows", labels, st->flows);
		dp_counter(t, "cnw_tenant_flow_quota_drops_total", labels, st->flow_drops);
		dp_counter(t, "cnw_tenant_policed_total", labels, st->policed);
		dp_counter(t, "cnw_tenant_denied_total", labels, st->denied);
	}
	dp_counter(t, "cnw_flows", "", s->flows);
	dp_counter(t, "cnw_flows_created_total", "", s->flows_created);
	dp_counter(t, "cnw_flows_expired_total", "", s->flows_expired);
	dp_counter(t, "cnw_flow_moves_total", "", s->flow_moves);
	dp_counter(t, "cnw_probes_sent_total", "", s->probes_tx);
	dp_counter(t, "cnw_probes_answered_total", "", s->probes_rx);
}

char *
datapath_metrics(struct cnwd *d, size_t *len)
{
	const struct stats_segment *s;
	struct dp_text t = { 0 };
	char labels[160];

	/* A scrape wants the counters as they are now, not a cached copy. */
	d->dp.snap_ms = 0;
	if ((s = datapath_snapshot(d)) == NULL)
		return NULL;
	dp_printf(&t, "# HELP cnw_drops_total Frames the fast path dropped, by reason.\n"
	    "# TYPE cnw_drops_total counter\n");
	for (unsigned i = 0; i < STATS_DROP_MAX; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", stats_drop_names[i]);
		dp_counter(&t, "cnw_drops_total", labels, s->drops[i]);
	}
	dp_printf(&t, "# HELP cnw_uplink_rx_packets_total Per uplink and network: packets, "
	    "bytes and drops into and out of the fast path.\n");
	for (unsigned i = 0; i < PORT_MAX; i++) {
		const struct dp_port *p = &d->dp.ports[i];

		if (!p->used)
			continue;
		if (p->kind == PORT_UDP)
			snprintf(labels, sizeof(labels), "uplink=\"%s\"", p->uplink.name);
		else
			snprintf(labels, sizeof(labels), "tenant=\"%s\",network=\"%s\"", p->net.tenant,
			    p->net.name);
		dp_counters(&t, p->kind == PORT_UDP ? "cnw_uplink" : "cnw_network", labels,
		    &s->ports[i]);
	}
	dp_printf(&t, "# HELP cnw_process_restarts_total Restarts of each cnwd child.\n"
	    "# TYPE cnw_process_restarts_total counter\n");
	for (unsigned i = 0; i < d->procs.n; i++) {
		const struct proc *p = &d->procs.procs[i];

		if (p->role == NULL)
			continue;
		snprintf(labels, sizeof(labels), "process=\"%s\"", p->label);
		dp_counter(&t, "cnw_process_restarts_total", labels, p->restarts);
	}
	dp_counter(&t, "cnw_worker_bursts_total", "", s->bursts);
	datapath_metrics_sched(d, s, &t);
	*len = t.len;
	return t.buf;
}
