/*
 * The devices the parent opens for drivers, having the privileges and
 * entering the namespaces they cannot: a network's TUN device, an uplink's
 * UDP socket or AF_PACKET rings.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <string.h>
#include <unistd.h>

#include "hal/afpacket.h"
#include "cnwd/cnwd.h"
#include "cnwd/datapath_int.h"
#include "lib/addr.h"
#include "lib/netns.h"
#include "lib/tun.h"
#include "lib/util.h"

#define DP_SOCKBUF (8 * 1024 * 1024)

/* The network's device, made by the reconcile step (tenants/network_kernel.c). */
static int
datapath_open_tun(void *arg, struct cnw_error *err)
{
	/* Offloads: the kernel hands over whole TCP segments up to 64 KiB. */
	static const struct tun_opts o = {
		.flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, .nonblock = 1, .vnet_hdr = 10,
		.offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6,
	};
	int *out = arg;

	*out = tun_open(NETWORK_DEVICE, &o, err);
	return *out < 0 ? -1 : 0;
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
int
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
