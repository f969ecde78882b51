/*
 * A plain TUN-to-TUN forwarder, the baseline of bench/datapath-bench.sh:
 * two TUN devices with virtio-net headers and offloads, one in each of two
 * namespaces, and one thread that copies every frame from one to the
 * other.  What a user-space forwarder without rings, processes or an
 * overlay costs on this machine.
 *
 *   tapfwd NETNS_A NETNS_B      (the devices are "fwd0" in each; runs until killed)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int
tun_in(const char *ns)
{
	char path[256];
	int self = open("/proc/self/ns/net", O_RDONLY), nsfd, fd, hdr = 10;
	struct ifreq ifr;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	if (self < 0 || (nsfd = open(path, O_RDONLY)) < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		perror(path);
		exit(1);
	}
	fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "fwd0");
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) < 0) {
		perror("tun");
		exit(1);
	}
	if (setns(self, CLONE_NEWNET) < 0)
		exit(1);
	close(nsfd);
	close(self);
	return fd;
}

/* Move every frame waiting on from to to; frames that do not fit are dropped. */
static void
pump(int from, int to, unsigned char *buf, size_t size)
{
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(from, buf, size);

		if (n <= 0)
			return;
		(void)!write(to, buf, (size_t)n);
	}
}

int
main(int argc, char **argv)
{
	static unsigned char buf[65536 + 64];
	struct pollfd p[2];

	if (argc != 3) {
		fprintf(stderr, "usage: tapfwd NETNS_A NETNS_B\n");
		return 2;
	}
	p[0].fd = tun_in(argv[1]);
	p[1].fd = tun_in(argv[2]);
	p[0].events = p[1].events = POLLIN;
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[0].revents & POLLIN)
			pump(p[0].fd, p[1].fd, buf, sizeof(buf));
		if (p[1].revents & POLLIN)
			pump(p[1].fd, p[0].fd, buf, sizeof(buf));
	}
}
