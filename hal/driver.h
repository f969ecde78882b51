/*
 * The driver ABI of cnw's hardware abstraction layer, version 1.
 *
 * A driver moves frames between one device and memory; nothing else.  The
 * driver host (hal/host.c, the sandboxed process cnwd runs per interface)
 * owns everything around it: the shared region, the rings to the fastpath
 * worker, wake-ups, the sandbox.  A driver is a struct of callbacks,
 * registered by name; built-in drivers are compiled in (hal/drivers.c),
 * external ones (.so) export `hal_driver_entry` and are loaded only when
 * their detached Ed25519 signature verifies.  This header is installed as
 * <cnw/driver.h> (pkg-config module cnw-driver) and depends on nothing.
 *
 * The device arrives open: the parent, which has the privileges, opens the
 * TUN device or binds the UDP socket in the right namespace and hands the
 * descriptor over; the driver never opens anything.  All callbacks run in
 * the sandbox (no capabilities, seccomp), in one thread.
 */
#ifndef CNW_HAL_DRIVER_H
#define CNW_HAL_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#define HAL_DRIVER_ABI 1

/* One frame to fill (rx) or to send (tx). */
struct hal_frame {
	uint8_t *data;			/* rx: where to write; tx: what to send */
	uint32_t len;			/* rx: set by the driver; tx: given */
	uint32_t cap;			/* rx: room at data */
	/* Peer address (udp): tx destination, rx source. */
	uint16_t family;		/* AF_INET, AF_INET6, AF_PACKET (a MAC in addr), 0 */
	uint16_t port;			/* network byte order */
	uint8_t addr[16];
};

struct hal_link {
	int up;				/* carrier/usable */
	uint64_t speed_mbps;		/* 0 if unknown */
	uint32_t mtu;
};

struct hal_dev;				/* a driver's private state */

struct hal_driver {
	uint32_t abi;			/* HAL_DRIVER_ABI */
	const char *name;		/* "tap", "udp", "afpacket", a plug-in's name */
	/* Take the device fd (and a driver-specific argument string). */
	struct hal_dev *(*init)(int fd, const char *args, char *err, size_t errlen);
	/* Descriptors this driver can serve, for discovery ("cnw0"); may be NULL. */
	int (*enumerate)(char names[][16], int max);
	int (*status)(struct hal_dev *dev, struct hal_link *out);
	/* The descriptor to wait on for rx readiness. */
	int (*pollfd)(struct hal_dev *dev);
	/* Receive up to n frames; returns how many, 0 if none, -1 on a fatal error. */
	int (*rx_burst)(struct hal_dev *dev, struct hal_frame *f, unsigned n);
	/* Send up to n frames; returns how many were taken (sent or dropped), -1 fatal. */
	int (*tx_burst)(struct hal_dev *dev, struct hal_frame *f, unsigned n);
	/* Called when pollfd reports an error or hang-up; returns the link state. */
	int (*link_event)(struct hal_dev *dev, struct hal_link *out);
	void (*cleanup)(struct hal_dev *dev);
};

/*
 * An external driver (a plug-in, NAME.so) exports its struct under this
 * name, with .name equal to NAME:
 *
 *	const struct hal_driver hal_driver_entry = { .abi = HAL_DRIVER_ABI, ... };
 *
 * It is loaded only when NAME.so.sig verifies against a trusted key, into
 * the sandboxed driver host, after its privileges are gone (cnw-drivers(7)).
 * Every callback but enumerate must be set.
 */
#endif
