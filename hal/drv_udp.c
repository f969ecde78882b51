/*
 * The udp driver: an uplink, a UDP socket the parent bound to one host
 * interface (AF_INET or AF_INET6), carrying the overlay to the peer site.
 *
 * One recvmmsg(2) or sendmmsg(2) per burst rather than a call per datagram:
 * on small packets the system call, not the copy, is the cost, and a burst
 * of 32 pays it once.  Each frame carries its peer's address (hal_frame
 * family/port/addr): where it came from on rx, where it goes on tx; the
 * socket is never connected, so one uplink reaches any number of peers.
 *
 * Addresses are given canonically: an IPv4 peer is AF_INET even on a
 * dual-stack AF_INET6 socket (the kernel's ::ffff:a.b.c.d is unmapped on
 * rx and mapped again on tx), so the worker compares one form.  A
 * link-local IPv6 peer is reached through the interface the socket is
 * bound to (its scope id, read at init).
 *
 * Dropped, and counted: datagrams cut short (MSG_TRUNC: larger than the
 * buffer the host gave), from an address family we do not speak, and
 * frames to an address we cannot reach or that the kernel refuses.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hal/host.h"
#include "lib/log.h"

/* Datagrams per system call; larger bursts are done in several. */
#define UDP_BATCH 64

struct hal_dev {
	int fd;
	int family;			/* of the socket */
	uint32_t scope_id;		/* of its bound address (IPv6 link-local) */
	struct hal_args args;
	uint64_t rx_dropped, tx_dropped;
	struct mmsghdr msgs[UDP_BATCH];
	struct iovec iov[UDP_BATCH];
	struct sockaddr_storage addrs[UDP_BATCH];
};

/* The socket must be a bound UDP socket of a family we speak. */
static int
udp_check_socket(int fd, int *family, uint32_t *scope, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int), alen = sizeof(ss);
	int type = 0, proto = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_DGRAM ||
	    getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &len) < 0 || proto != IPPROTO_UDP ||
	    getsockname(fd, (struct sockaddr *)&ss, &alen) < 0) {
		snprintf(err, errlen, "udp: descriptor %d is not a UDP socket", fd);
		return -1;
	}
	if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) {
		snprintf(err, errlen, "udp: socket family %d is neither IPv4 nor IPv6", ss.ss_family);
		return -1;
	}
	*family = ss.ss_family;
	*scope = ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_scope_id : 0;
	return 0;
}

static struct hal_dev *
udp_init(int fd, const char *args, char *err, size_t errlen)
{
	struct hal_dev *dev;
	struct hal_args a;
	uint32_t scope;
	int family;

	if (udp_check_socket(fd, &family, &scope, err, errlen) < 0 ||
	    hal_args_parse(args, &a, err, errlen) < 0)
		return NULL;
	if ((dev = calloc(1, sizeof(*dev))) == NULL) {
		snprintf(err, errlen, "udp: out of memory");
		return NULL;
	}
	dev->fd = fd;
	dev->family = family;
	dev->scope_id = scope;
	dev->args = a;
	return dev;
}

static int
udp_status(struct hal_dev *dev, struct hal_link *out)
{
	/* The interface's carrier is the parent's to see (netlink); the socket is usable. */
	out->up = 1;
	out->mtu = dev->args.mtu;
	out->speed_mbps = dev->args.speed_mbps;
	return 0;
}

static int
udp_pollfd(struct hal_dev *dev)
{
	return dev->fd;
}

/* Addresses ------------------------------------------------------------ */

/* A received source address into f, canonically; -1 if not IPv4 or IPv6. */
static int
udp_addr_to_frame(const struct sockaddr_storage *ss, struct hal_frame *f)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;

		f->family = AF_INET;
		f->port = s4->sin_port;
		memcpy(f->addr, &s4->sin_addr, 4);
		return 0;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

		f->port = s6->sin6_port;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			f->family = AF_INET;
			memcpy(f->addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			f->family = AF_INET6;
			memcpy(f->addr, &s6->sin6_addr, 16);
		}
		return 0;
	}
	return -1;
}

/* f's destination as a socket address of our family; its length, or 0 if unreachable. */
static socklen_t
udp_addr_from_frame(const struct hal_dev *dev, const struct hal_frame *f,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(struct sockaddr_in6));
	if (f->port == 0)
		return 0;
	if (f->family == AF_INET && dev->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = f->port;
		memcpy(&s4->sin_addr, f->addr, 4);
		return sizeof(*s4);
	}
	if (dev->family == AF_INET6 && (f->family == AF_INET || f->family == AF_INET6)) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = f->port;
		if (f->family == AF_INET) {
			s6->sin6_addr.s6_addr[10] = 0xff;	/* ::ffff:a.b.c.d */
			s6->sin6_addr.s6_addr[11] = 0xff;
			memcpy(&s6->sin6_addr.s6_addr[12], f->addr, 4);
		} else {
			memcpy(&s6->sin6_addr, f->addr, 16);
			if (IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr))
				s6->sin6_scope_id = dev->scope_id;
		}
		return sizeof(*s6);
	}
	return 0;
}

/* Receiving ------------------------------------------------------------ */

/* Errors that end a burst but not the driver (an ICMP error queued on the socket). */
static int
udp_transient_errno(int e)
{
	return e == EAGAIN || e == EWOULDBLOCK || e == EINTR || e == ECONNREFUSED ||
	    e == EHOSTUNREACH || e == ENETUNREACH || e == EHOSTDOWN || e == ENETDOWN ||
	    e == ENOBUFS || e == ENOMEM;
}

/* Point the batch's headers at frames f[0..k). */
static void
udp_rx_prepare(struct hal_dev *dev, struct hal_frame *f, unsigned k)
{
	for (unsigned j = 0; j < k; j++) {
		struct msghdr *h = &dev->msgs[j].msg_hdr;

		dev->iov[j].iov_base = f[j].data;
		dev->iov[j].iov_len = f[j].cap;
		memset(h, 0, sizeof(*h));
		h->msg_name = &dev->addrs[j];
		h->msg_namelen = sizeof(dev->addrs[j]);
		h->msg_iov = &dev->iov[j];
		h->msg_iovlen = 1;
		dev->msgs[j].msg_len = 0;
	}
}

/*
 * Keep the r received datagrams of f[0..r) that are whole and from an
 * address we speak, moved down in order over the dropped ones (whose
 * buffers, now at the end, stay free); returns how many were kept.
 */
static unsigned
udp_rx_keep(struct hal_dev *dev, struct hal_frame *f, unsigned r)
{
	unsigned kept = 0;

	for (unsigned j = 0; j < r; j++) {
		const struct msghdr *h = &dev->msgs[j].msg_hdr;
		struct hal_frame tmp;

		if ((h->msg_flags & MSG_TRUNC) || udp_addr_to_frame(&dev->addrs[j], &f[j]) < 0) {
			dev->rx_dropped++;
			continue;
		}
		f[j].len = dev->msgs[j].msg_len;
		if (kept != j) {
			tmp = f[kept];
			f[kept] = f[j];
			f[j] = tmp;
		}
		kept++;
	}
	return kept;
}

/*
 * Frames may come back reordered: a dropped datagram's frame moves behind
 * the kept ones (the host finds each frame's buffer by its data pointer).
 * Another call only when a full batch came in, so an emptied queue costs
 * no extra EAGAIN.
 */
static int
udp_rx_burst(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	unsigned got = 0;

	while (got < n) {
		unsigned k = n - got < UDP_BATCH ? n - got : UDP_BATCH;
		int r;

		udp_rx_prepare(dev, f + got, k);
		r = recvmmsg(dev->fd, dev->msgs, k, MSG_DONTWAIT, NULL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return udp_transient_errno(errno) ? (int)got : -1;
		got += udp_rx_keep(dev, f + got, (unsigned)r);
		if ((unsigned)r < k)
			break;
	}
	return (int)got;
}

/* Sending -------------------------------------------------------------- */

/* Headers for the sendable run f[0..) up to the first unreachable frame; its length. */
static unsigned
udp_tx_prepare(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	unsigned k = 0;

	for (; k < n && k < UDP_BATCH; k++) {
		struct msghdr *h = &dev->msgs[k].msg_hdr;
		socklen_t alen = udp_addr_from_frame(dev, &f[k], &dev->addrs[k]);

		if (alen == 0)
			break;
		dev->iov[k].iov_base = f[k].data;
		dev->iov[k].iov_len = f[k].len;
		memset(h, 0, sizeof(*h));
		h->msg_name = &dev->addrs[k];
		h->msg_namelen = alen;
		h->msg_iov = &dev->iov[k];
		h->msg_iovlen = 1;
	}
	return k;
}

/*
 * sendmmsg stops at the first datagram that fails and reports only the
 * count; the next call, starting there, reports its error: EAGAIN (the
 * socket buffer is full) ends the burst and the host waits for POLLOUT;
 * any other error is that datagram's (too large, no route, refused by a
 * firewall), which is dropped, as a router drops what it cannot forward.
 */
static int
udp_tx_burst(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		unsigned k = udp_tx_prepare(dev, f + i, n - i);
		int r;

		if (k == 0) {
			dev->tx_dropped++;	/* no address we can send to */
			i++;
			continue;
		}
		r = sendmmsg(dev->fd, dev->msgs, k, MSG_DONTWAIT);
		if (r > 0) {
			i += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			break;
		} else if (r < 0 && (errno == EBADF || errno == ENOTSOCK || errno == EFAULT)) {
			return -1;
		} else {
			dev->tx_dropped++;
			i++;
		}
	}
	return (int)i;
}

/* Link ------------------------------------------------------------------ */

/*
 * A pending socket error (an ICMP error the kernel queued, and with
 * IP_RECVERR the error queue) raises POLLERR until read: take them, log
 * them, and go on; the socket stays usable.  At most a burst of queued
 * errors per call, so a flood of ICMP cannot hold the loop.
 */
static int
udp_link_event(struct hal_dev *dev, struct hal_link *out)
{
	socklen_t len = sizeof(int);
	char junk[64];
	int soerr = 0;

	if (getsockopt(dev->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0)
		log_debug("udp: socket error: %s", strerror(soerr));
	for (int i = 0; i < UDP_BATCH; i++) {
		struct iovec iov = { .iov_base = junk, .iov_len = sizeof(junk) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (recvmsg(dev->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
	}
	return udp_status(dev, out);
}

static void
udp_cleanup(struct hal_dev *dev)
{
	if (dev == NULL)
		return;
	if (dev->rx_dropped != 0 || dev->tx_dropped != 0)
		log_info("udp: dropped %llu datagrams in, %llu out",
		    (unsigned long long)dev->rx_dropped, (unsigned long long)dev->tx_dropped);
	close(dev->fd);
	free(dev);
}

const struct hal_driver hal_driver_udp = {
	.abi = HAL_DRIVER_ABI,
	.name = "udp",
	.init = udp_init,
	.enumerate = NULL,
	.status = udp_status,
	.pollfd = udp_pollfd,
	.rx_burst = udp_rx_burst,
	.tx_burst = udp_tx_burst,
	.link_event = udp_link_event,
	.cleanup = udp_cleanup,
};
