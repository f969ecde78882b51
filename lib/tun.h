/*
 * A TUN device, by name, in the caller's network namespace.
 *
 * One function for the two places that need one: making a network's
 * device (persistent, so it outlives the descriptor and waits for its
 * driver) and attaching to it later for the driver (non-blocking, with a
 * virtio-net header and offloads).  The caller enters the namespace first
 * (netns_run): a TUN device is made in the namespace of the opener.
 */
#ifndef CNW_TUN_H
#define CNW_TUN_H

#include "lib/error.h"

struct tun_opts {
	short flags;			/* IFF_TUN, IFF_NO_PI, IFF_VNET_HDR... (TUNSETIFF) */
	int nonblock;			/* O_NONBLOCK on the descriptor */
	int vnet_hdr;			/* TUNSETVNETHDRSZ, when above 0 */
	unsigned offload;		/* TUNSETOFFLOAD's TUN_F_* bits, when not 0 */
	int persist;			/* TUNSETPERSIST: the device is being made */
};

/* The descriptor (close-on-exec), or -1 with err; nothing is left open on failure. */
int tun_open(const char *name, const struct tun_opts *o, struct cnw_error *err);

#endif
