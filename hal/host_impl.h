/*
 * The driver host's insides, shared by hal/host.c (the loop: rings,
 * emulation, receive, transmit, waiting) and hal/host_setup.c (what the
 * parent sets up, and starting and stopping the driver); hal/host.h is
 * its interface.  One host per process: the driver role's.
 */
#ifndef CNW_HAL_HOST_IMPL_H
#define CNW_HAL_HOST_IMPL_H

#include <stdint.h>

#include "hal/emu.h"
#include "hal/host.h"
#include "netfn/port.h"
#include "netfn/ring_guard.h"
#include "netfn/shm.h"

/* Spin budget bounds, nanoseconds: a few microseconds, about what a wake-up costs. */
#define HAL_SPIN_MIN_NS 1000
#define HAL_SPIN_START_NS 4000
#define HAL_SPIN_MAX_NS 16000
/* Blocked on a full rx or comp ring: the worker does not wake us when it drains one. */
#define HAL_BLOCKED_POLL_MS 1
/* Look at the parent's socket and the device's errors at least this often when busy. */
#define HAL_BUSY_CHECK_STEPS 4096
/* The least room we lend a driver for one frame (a vnet header and then some). */
#define HAL_MIN_ROOM 64
/* Memory of an emulation queue per direction (reserved, touched only as used). */
#define HAL_EMU_MEM ((size_t)256 << 20)
/* How often the emulation's counters go to the parent while they change. */
#define HAL_EMU_STATS_NS 1000000000ull

#define HAL_HOST_COUNTERS(X)						\
	X(bad_index, "buffer indexes from the worker out of range (ignored)") \
	X(bad_frame, "frames to send outside their buffer (returned unsent)") \
	X(kicks, "wake-ups written to the worker")			\
	X(sleeps, "times the driver blocked")

struct hal_host {
	/* Set-up: what the parent sent. */
	struct hal_config cfg;
	int have_config;
	const struct hal_driver *drv;
	int dev_fd, region_fd, kick_self, kick_worker;
	uint32_t kick_port[2];
	uint64_t region_size;

	/* Running. */
	int sock;			/* the parent's, polled */
	const struct hal_host_calls *calls;
	struct shm shm;
	struct port_shm *port;
	struct pool geom;		/* private copy of the pool's header */
	uint8_t *bufs;			/* buffer 0, in our mapping */
	struct ring_guard fill, rx, tx, comp;
	struct hal_dev *dev;
	struct hal_link link;
	uint64_t spin_ns;
	unsigned busy_steps;

	/*
	 * Link emulation (hal/emu.h), as the parent last sent it: a queue per
	 * direction (egress 0, ingress 1), made the first time a direction is
	 * emulated; the drills (admin down, flap).  emu_any is the one test
	 * the fast path pays when nothing is emulated.
	 */
	struct hal_emu_cfg emu;
	int have_emu;
	struct emu_queue *eq[2];
	int eon[2];
	int emu_any;
	int emu_down;			/* admin down, or down in the flap pattern */
	int emu_tx_blocked;		/* due egress frames wait for room in the device */
	uint64_t flap_start, flap_next;
	uint64_t stats_next, stats_sum;
	struct hal_link real;		/* the device's link, as the driver says */

	/* An external driver: its verified copy (hal/sign.h), loaded before the filter. */
	int plugin_fd;
	char plugin_name[16];
	void *plugin;

	/* Buffers we hold: lent and empty (spare), or waiting for the device (pend). */
	uint32_t spare[HAL_BURST];
	unsigned nspare;
	uint32_t pend[HAL_BURST];
	struct hal_frame pendf[HAL_BURST];
	unsigned npend;
	struct hal_frame rxf[HAL_BURST];
	int enqueued;			/* this pass put something in rx or comp */

	struct {
#define HAL_COUNTER_FIELD(field, what) uint64_t field;
		HAL_HOST_COUNTERS(HAL_COUNTER_FIELD)
#undef HAL_COUNTER_FIELD
	} count;
};

extern struct hal_host hal_host;

/* hal/host_setup.c */
int hal_open(struct hal_host *h);
void hal_close(struct hal_host *h);

/* hal/host.c */
void hal_emu_apply(struct hal_host *h, const struct hal_emu_cfg *e, uint64_t now);
void hal_link_effective(struct hal_host *h, int always);

#endif
