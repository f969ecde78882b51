/*
 * The driver host's set-up (hal/host.h): what the parent sends before the
 * sandbox, a plug-in loaded, and the driver started on a checked region
 * and stopped (hal/host_impl.h).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "hal/host_impl.h"
#include "lib/log.h"
#include "lib/util.h"

struct hal_host hal_host = {
	.dev_fd = -1, .region_fd = -1, .kick_self = -1, .kick_worker = -1,
	.sock = -1, .shm = { .fd = -1 }, .plugin_fd = -1,
};

/* Set-up ------------------------------------------------------------------- */

static int
hal_take_fd(int *dst, int fd)
{
	if (fd < 0)
		return -1;
	if (*dst >= 0)
		close(*dst);
	*dst = fd;
	return 0;
}

int
hal_host_set_config(const struct hal_config *cfg)
{
	struct hal_host *h = &hal_host;
	struct hal_config c = *cfg;

	c.driver[sizeof(c.driver) - 1] = c.name[sizeof(c.name) - 1] = '\0';
	c.args[sizeof(c.args) - 1] = '\0';
	h->drv = hal_driver_find(c.driver);
	if (h->drv == NULL && (h->plugin_fd < 0 || strcmp(h->plugin_name, c.driver) != 0)) {
		log_warnx("%s: no driver \"%s\" is built in, and no plug-in of that name came",
		    c.name, c.driver);
		return -1;
	}
	if (c.port >= PORT_MAX) {
		log_warnx("%s: port %u is out of range", c.name, c.port);
		return -1;
	}
	h->cfg = c;
	h->have_config = 1;
	return 0;
}

int
hal_host_set_device(int fd)
{
	return hal_take_fd(&hal_host.dev_fd, fd);
}

int
hal_host_set_kick(const struct port_kick *k, int fd)
{
	struct hal_host *h = &hal_host;

	if (k->which == PORT_KICK_DRIVER && hal_take_fd(&h->kick_self, fd) == 0)
		h->kick_port[PORT_KICK_DRIVER] = k->port;
	else if (k->which == PORT_KICK_WORKER && hal_take_fd(&h->kick_worker, fd) == 0)
		h->kick_port[PORT_KICK_WORKER] = k->port;
	else
		return -1;
	return 0;
}

int
hal_host_set_region(int fd, uint64_t size)
{
	if (hal_take_fd(&hal_host.region_fd, fd) < 0)
		return -1;
	hal_host.region_size = size;
	return 0;
}

void
hal_host_set_emu(const struct hal_emu_cfg *e)
{
	struct hal_host *h = &hal_host;

	/* Running: applied now; at set-up, by hal_open once the driver is. */
	if (h->dev != NULL) {
		hal_emu_apply(h, e, cnw_now_ns());
		return;
	}
	h->emu = *e;
	h->have_emu = 1;
}

int
hal_host_set_plugin(const struct hal_plugin_cfg *pl, int fd)
{
	struct hal_host *h = &hal_host;

	if (hal_take_fd(&h->plugin_fd, fd) < 0)
		return -1;
	snprintf(h->plugin_name, sizeof(h->plugin_name), "%s", pl->name);
	return 0;
}

const char *
hal_host_name(void)
{
	return hal_host.cfg.name;
}

/*
 * Before the sandbox: the device and region arrive open, and the driver's
 * init uses only calls the sandbox allows.  The emulation's timers want
 * microseconds, not the default 50 us of slack.
 */
void
hal_host_prepare(void)
{
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
}

/*
 * After the privileges are gone, before the filter: an external driver is
 * loaded from the sealed copy the parent verified (/proc/self/fd/N of the
 * memfd; a process may open its own descriptors whatever its uid).  Its
 * constructors run as nobody, with no capabilities and no_new_privs; its
 * code then runs under the same filter as a built-in driver.
 */
void
hal_host_unprivileged(void)
{
	struct hal_host *h = &hal_host;
	const struct hal_driver *drv;
	char path[64];

	if (h->plugin_fd < 0)
		return;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", h->plugin_fd);
	if ((h->plugin = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		fatalx("plug-in %s: %s", h->plugin_name, dlerror());
	if ((drv = dlsym(h->plugin, "hal_driver_entry")) == NULL)
		fatalx("plug-in %s exports no hal_driver_entry", h->plugin_name);
	if (drv->abi != HAL_DRIVER_ABI)
		fatalx("plug-in %s is built for driver ABI %u; this cnwd has %u", h->plugin_name,
		    drv->abi, HAL_DRIVER_ABI);
	if (drv->name == NULL || strcmp(drv->name, h->plugin_name) != 0)
		fatalx("plug-in %s registers a driver named \"%s\"", h->plugin_name,
		    drv->name ? drv->name : "(none)");
	if (drv->init == NULL || drv->status == NULL || drv->pollfd == NULL ||
	    drv->rx_burst == NULL || drv->tx_burst == NULL || drv->link_event == NULL ||
	    drv->cleanup == NULL)
		fatalx("plug-in %s leaves a callback of the ABI empty", h->plugin_name);
	h->drv = drv;
	close(h->plugin_fd);
	h->plugin_fd = -1;
}

/* Rings ------------------------------------------------------------------- */

/*
 * Attach to the ring at off of a region of mapped bytes, checking that it
 * lies inside and has the size the region announces; then our side of it
 * keeps its own geometry (netfn/ring_guard.h).
 */
static int
hal_ring_attach(struct ring_guard *g, void *base, size_t mapped, uint64_t off,
    uint32_t size, int producer)
{
	size_t bytes = ring_memsize(size);
	struct ring *r;

	if (bytes == 0 || off % RING_CACHE_LINE != 0 || off > mapped || bytes > mapped - off)
		return -1;
	r = (struct ring *)((char *)base + off);
	if (r->size != size || r->mask != size - 1)
		return -1;
	ring_guard_attach(g, r, size, producer);
	return 0;
}

static int
hal_setup_complete(const struct hal_host *h)
{
	const char *missing = !h->have_config ? "MSG_DRIVER_CONFIG" :
	    h->dev_fd < 0 ? "MSG_DRIVER_DEVICE" : h->region_fd < 0 ? "MSG_DRIVER_REGION" :
	    h->kick_self < 0 || h->kick_worker < 0 ? "MSG_DRIVER_KICK" : NULL;

	if (missing != NULL) {
		log_warnx("%s: set-up incomplete: no %s from the parent", h->cfg.name, missing);
		return -1;
	}
	if (h->kick_port[0] != h->cfg.port || h->kick_port[1] != h->cfg.port) {
		log_warnx("%s: wake-up descriptors are for another port", h->cfg.name);
		return -1;
	}
	return 0;
}

/*
 * The pool: checked where it lies, then its header copied and the copy
 * checked again, so nothing the worker writes later (or meanwhile) moves
 * a buffer outside the region.
 */
static int
hal_pool_attach(struct hal_host *h, uint64_t pool_off)
{
	const struct pool *p = (const struct pool *)((char *)h->shm.base + pool_off);
	const struct pool *g = &h->geom;
	size_t room;

	if (pool_off % RING_CACHE_LINE != 0 || pool_off >= h->shm.size)
		return -1;
	room = h->shm.size - pool_off;
	if (pool_check(p, room) < 0)
		return -1;
	memcpy(&h->geom, p, sizeof(h->geom));
	if (g->nbufs == 0 || g->buf_size != sizeof(struct pool_buf) + g->data_size ||
	    pool_memsize(g->nbufs, g->data_size) == 0 || g->bufs_off > room ||
	    (size_t)g->nbufs * g->buf_size > room - g->bufs_off)
		return -1;
	h->bufs = (uint8_t *)p + g->bufs_off;
	return 0;
}

static int
hal_rings_attach(struct hal_host *h, uint32_t size)
{
	uint64_t fill = h->port->fill_off, rx = h->port->rx_off;
	uint64_t tx = h->port->tx_off, comp = h->port->comp_off;
	void *base = h->shm.base;
	size_t n = h->shm.size;

	return hal_ring_attach(&h->fill, base, n, fill, size, 0) < 0 ||
	    hal_ring_attach(&h->rx, base, n, rx, size, 1) < 0 ||
	    hal_ring_attach(&h->tx, base, n, tx, size, 0) < 0 ||
	    hal_ring_attach(&h->comp, base, n, comp, size, 1) < 0 ? -1 : 0;
}

/* Map the region, check it, find our port. */
static int
hal_region_attach(struct hal_host *h)
{
	struct cnw_error err = { 0 };
	const struct port_region *r;
	uint64_t pool_off;
	uint32_t ring_size;

	if (shm_map(&h->shm, h->region_fd, PROT_READ | PROT_WRITE, &err) < 0) {
		log_warnx("%s: %s", h->cfg.name, err.msg);
		return -1;
	}
	h->region_fd = -1;		/* the mapping owns it */
	r = h->shm.base;
	if (h->shm.size < h->region_size || port_region_check(r, h->shm.size) < 0) {
		log_warnx("%s: the shared region (%zu bytes) fails its check", h->cfg.name,
		    h->shm.size);
		return -1;
	}
	/* Read once: what is checked is what is used. */
	pool_off = r->pool_off;
	ring_size = r->ring_size;
	h->port = (struct port_shm *)&r->ports[h->cfg.port];
	if (h->port->kind == PORT_NONE || hal_pool_attach(h, pool_off) < 0 ||
	    hal_rings_attach(h, ring_size) < 0) {
		log_warnx("%s: port %u of the shared region is not laid out", h->cfg.name,
		    h->cfg.port);
		return -1;
	}
	return 0;
}

int
hal_open(struct hal_host *h)
{
	char err[256] = "";
	struct hal_link l = { 0 };

	if (hal_setup_complete(h) < 0 || hal_region_attach(h) < 0)
		return -1;
	h->dev = h->drv->init(h->dev_fd, h->cfg.args, err, sizeof(err));
	if (h->dev == NULL) {
		log_warnx("%s: %s", h->cfg.name, err[0] ? err : "driver init failed");
		return -1;
	}
	h->dev_fd = -1;			/* the driver's now; its cleanup closes it */
	if (h->drv->status(h->dev, &l) < 0) {
		log_warnx("%s: driver %s: no link status", h->cfg.name, h->drv->name);
		return -1;
	}
	h->real = l;
	if (h->have_emu)
		hal_emu_apply(h, &h->emu, cnw_now_ns());
	hal_link_effective(h, 1);
	h->spin_ns = HAL_SPIN_START_NS;
	log_info("%s: driver %s on port %u", h->cfg.name, h->drv->name, h->cfg.port);
	return 0;
}

static void
hal_close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void
hal_close(struct hal_host *h)
{
#define HAL_COUNTER_LOG(field, what)					\
	if (h->count.field != 0)					\
		log_info("%s: %llu %s", h->cfg.name, (unsigned long long)h->count.field, what);
	HAL_HOST_COUNTERS(HAL_COUNTER_LOG)
#undef HAL_COUNTER_LOG
	if (h->dev != NULL)
		h->drv->cleanup(h->dev);
	h->dev = NULL;
	for (int i = 0; i < 2; i++) {
		emu_queue_free(h->eq[i]);
		h->eq[i] = NULL;
	}
	shm_unmap(&h->shm);
	h->port = NULL;
	hal_close_fd(&h->dev_fd);
	hal_close_fd(&h->region_fd);
	hal_close_fd(&h->kick_self);
	hal_close_fd(&h->kick_worker);
}
