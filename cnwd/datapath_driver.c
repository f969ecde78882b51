/*
 * The driver processes, one per port: what each gets at its start (its
 * device, the region, its eventfds, its emulation), what it says (its
 * link), and what its death or the worker's means.  Discovery's news of
 * the interfaces under uplinks arrives here too.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hal/sign.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "cnwd/events.h"
#include "lib/log.h"

/* Bytes an uplink's link adds to each frame the driver sends, for the emulated rate. */
uint32_t
datapath_wire_overhead(const struct uplink *u)
{
	if (strcmp(u->driver, "afpacket") == 0)
		return 18;			/* Ethernet header and FCS */
	return strchr(u->address, '[') != NULL ? 48 : 28;	/* IPv6 or IPv4, and UDP */
}

/* The uplink's emulation and drills to its driver: at start, and live. */
int
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
