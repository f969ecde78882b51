/*
 * The driver host: the child side of role "driver", one sandboxed process
 * per interface, moving frames between a device (through a driver of
 * hal/driver.h) and its port of the fast path's shared region
 * (netfn/port.h).
 *
 * It exists so that a driver is nothing but a device: the host receives the
 * descriptors from the parent, maps and checks the region, lends the
 * driver's rx buffers from the fill ring, returns sent buffers on the
 * completion ring, validates every buffer index the worker hands over, and
 * does the wake-up protocol (spin, sleeping flag, eventfd), so every driver
 * gets them right by construction.
 *
 * The host is an engine of plain calls (below); its role, which takes the
 * parent's messages and calls it, is cnwd/role_driver.c.
 *
 * Set-up (before the sandbox), from the parent, each in its own message:
 *   MSG_DRIVER_CONFIG  which driver, its port, name and arguments
 *   MSG_DRIVER_DEVICE  fd: the open device (taken over by the driver)
 *   MSG_DRIVER_REGION  fd: the worker's region memfd
 *   MSG_DRIVER_KICK    fd: an eventfd, PORT_KICK_DRIVER (we block on it)
 *                      or PORT_KICK_WORKER (we write it to wake the worker)
 *   MSG_DRIVER_EMU     an uplink's link emulation and drills (also live)
 *   MSG_DRIVER_PLUGIN  fd: the sealed, verified copy of an external driver
 * To the parent: MSG_DRIVER_LINK at start and whenever the link changes
 * (the device's, or an emulated drill's), MSG_DRIVER_EMU_STATS while
 * emulating.
 * The process ends with status 0 when the parent closes its socket, 1 on a
 * fatal error (the parent restarts it).
 */
#ifndef CNW_HAL_HOST_H
#define CNW_HAL_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "hal/driver.h"
#include "hal/emu.h"
#include "netfn/port.h"

/* Frames per burst: what the host asks of the driver and of each ring. */
#define HAL_BURST 32

/* For the built-in drivers (hal/drivers.c) -------------------------------- */

/* Built-in drivers, by name; NULL if unknown. */
const struct hal_driver *hal_driver_find(const char *name);
/* The i-th built-in driver, NULL past the end. */
const struct hal_driver *hal_driver_builtin(size_t i);

extern const struct hal_driver hal_driver_tap;
extern const struct hal_driver hal_driver_udp;

/* What every built-in driver accepts in its argument string. */
struct hal_args {
	uint32_t mtu;			/* "mtu=1500"; 0 when not given */
	uint64_t speed_mbps;		/* "speed=1000"; 0 when not given */
};

/* A decimal in [min, max] filling the len bytes at s; -1 otherwise. */
int hal_args_number(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Parse "key=value,key=value" (keys mtu and speed, decimal); "" is all
 * defaults.  0, or -1 with a message in err naming what is wrong.
 */
int hal_args_parse(const char *args, struct hal_args *out, char *err, size_t errlen);

/* What the parent and a driver tell each other (MSG_DRIVER_*) ------------ */

struct hal_config {
	char driver[16];		/* "tap", "udp", "afpacket", a plug-in */
	char name[64];			/* what it serves: "cams.zone3", "wan1" */
	char args[256];			/* driver-specific */
	uint32_t port;			/* its port in the region */
	uint32_t pad;
};

struct hal_link_msg {
	uint32_t up;
	uint32_t mtu;
	uint64_t speed_mbps;
};

struct hal_emu_cfg {
	struct emu_params params;
	uint32_t admin_down;
	uint32_t has_flap;
	struct emu_flap flap;		/* starts (down) when received */
	uint32_t wire_overhead;		/* bytes the link adds per frame, for the rate */
	uint32_t pad;
};

struct hal_emu_stats {
	struct emu_counters dir[2];	/* egress, ingress */
};

struct hal_plugin_cfg {
	char name[16];			/* the driver it must register */
	uint64_t size;			/* bytes in the memfd */
};

/* The host ------------------------------------------------------------------ */

/*
 * Set-up, before hal_host_main, each from its message: 0, or -1 if it is
 * refused (a descriptor is the host's on 0, still the caller's on -1).
 */
int hal_host_set_config(const struct hal_config *c);
int hal_host_set_device(int fd);
int hal_host_set_region(int fd, uint64_t size);
int hal_host_set_kick(const struct port_kick *k, int fd);
int hal_host_set_plugin(const struct hal_plugin_cfg *p, int fd);
/* An uplink's emulation and drills: kept at set-up, applied at once while running. */
void hal_host_set_emu(const struct hal_emu_cfg *e);
/* Before the sandbox: timer slack for the emulation's timers. */
void hal_host_prepare(void);
/* Privileges dropped, filter not yet loaded: load a verified plug-in. */
void hal_host_unprivileged(void);
/* What it serves ("wan1"), for messages. */
const char *hal_host_name(void);

/* How the running host reaches its parent; each returns as described. */
struct hal_host_calls {
	/* sock is readable: 1 when the parent has gone, else 0 */
	int (*parent)(void *arg);
	/* the link changed (MSG_DRIVER_LINK): 0, or -1 with errno */
	int (*link)(void *arg, const struct hal_link_msg *l);
	/* the emulation's counters moved (MSG_DRIVER_EMU_STATS): 0, or -1 with errno */
	int (*emu_stats)(void *arg, const struct hal_emu_stats *s);
	void *arg;
};

/*
 * Sandboxed: map, check, start the driver and move frames until the parent
 * has gone (0) or on a fatal error (1); sock is the parent's, polled.
 */
int hal_host_main(int sock, const struct hal_host_calls *calls);

#endif
