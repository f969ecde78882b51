/*
 * TUN devices; see tun.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "lib/tun.h"
#include "lib/util.h"

int
tun_open(const char *name, const struct tun_opts *o, struct cnw_error *err)
{
	cleanup_close int fd = open("/dev/net/tun",
	    O_RDWR | O_CLOEXEC | (o->nonblock ? O_NONBLOCK : 0));
	struct ifreq ifr;
	int hdr = o->vnet_hdr;

	if (fd < 0)
		return cnw_err(err, CNW_EINTERNAL, "/dev/net/tun: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = o->flags;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0 ||
	    (hdr > 0 && ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0) ||
	    (o->offload != 0 && ioctl(fd, TUNSETOFFLOAD, o->offload) < 0) ||
	    (o->persist && ioctl(fd, TUNSETPERSIST, 1) < 0))
		return cnw_err(err, CNW_EINTERNAL, "%s %s: %s", o->persist ? "make" : "attach to",
		    name, strerror(errno));
	return steal_fd(&fd);
}
