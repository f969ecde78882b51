/*
 * udp-plain: a small third-party uplink driver for cnw, built against the
 * installed driver ABI (<cnw/driver.h>, pkg-config module cnw-driver).
 *
 * It carries the overlay in UDP like the built-in `udp` driver, but one
 * datagram per system call (recvfrom/sendto), with no batching: the point
 * is to show what a plug-in is, not to be fast.  cnwd hands it the uplink's
 * bound UDP socket; it runs in the driver host's sandbox (no capabilities,
 * the driver seccomp allowlist: it may not open files or sockets of its
 * own).
 *
 * Build, sign and install (see README and cnw-drivers(7)):
 *   make
 *   cnwctl driver sign --key vendor.key udp-plain.so
 *   install -m 0644 udp-plain.so udp-plain.so.sig $(pkg-config --variable=plugindir cnw-driver)
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cnw/driver.h>

struct hal_dev {
	int fd;
	int family;
	unsigned long rx, tx, dropped;
};

static struct hal_dev *
plain_init(int fd, const char *args, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct hal_dev *d;

	(void)args;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		snprintf(err, errlen, "udp-plain: descriptor %d is not a bound UDP socket", fd);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		snprintf(err, errlen, "udp-plain: out of memory");
		return NULL;
	}
	d->fd = fd;
	d->family = ss.ss_family;
	return d;
}

static int
plain_status(struct hal_dev *d, struct hal_link *out)
{
	(void)d;
	out->up = 1;
	out->speed_mbps = 0;
	out->mtu = 0;
	return 0;
}

static int
plain_pollfd(struct hal_dev *d)
{
	return d->fd;
}

static int
plain_rx_burst(struct hal_dev *d, struct hal_frame *f, unsigned n)
{
	unsigned got = 0;

	while (got < n) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		ssize_t r = recvfrom(d->fd, f[got].data, f[got].cap, MSG_DONTWAIT | MSG_TRUNC,
		    (struct sockaddr *)&ss, &len);

		if (r < 0)
			return errno == EAGAIN || errno == EINTR ? (int)got : -1;
		if ((size_t)r > f[got].cap) {
			d->dropped++;		/* truncated: not a frame of ours */
			continue;
		}
		memset(f[got].addr, 0, sizeof(f[got].addr));
		if (ss.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

			f[got].family = AF_INET;
			f[got].port = in->sin_port;
			memcpy(f[got].addr, &in->sin_addr, 4);
		} else {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

			f[got].family = AF_INET6;
			f[got].port = in6->sin6_port;
			memcpy(f[got].addr, &in6->sin6_addr, 16);
		}
		f[got].len = (uint32_t)r;
		got++;
		d->rx++;
	}
	return (int)got;
}

static int
plain_tx_burst(struct hal_dev *d, struct hal_frame *f, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct sockaddr_storage ss;
		socklen_t len;

		memset(&ss, 0, sizeof(ss));
		if (f[i].family == AF_INET && d->family == AF_INET) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			in->sin_family = AF_INET;
			in->sin_port = f[i].port;
			memcpy(&in->sin_addr, f[i].addr, 4);
			len = sizeof(*in);
		} else if (f[i].family == AF_INET6 && d->family == AF_INET6) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			in6->sin6_family = AF_INET6;
			in6->sin6_port = f[i].port;
			memcpy(&in6->sin6_addr, f[i].addr, 16);
			len = sizeof(*in6);
		} else {
			d->dropped++;		/* nowhere to send it: taken, not sent */
			continue;
		}
		if (sendto(d->fd, f[i].data, f[i].len, MSG_DONTWAIT, (struct sockaddr *)&ss,
		    len) < 0) {
			if (errno == EAGAIN || errno == ENOBUFS)
				break;		/* the host keeps the rest and waits for POLLOUT */
			d->dropped++;		/* unreachable and the like: dropped */
			continue;
		}
		d->tx++;
	}
	return (int)i;
}

static int
plain_link_event(struct hal_dev *d, struct hal_link *out)
{
	int e = 0;
	socklen_t len = sizeof(e);

	/* A pending ICMP error (the peer's port closed): read it off, the link stays up. */
	(void)getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &e, &len);
	return plain_status(d, out);
}

static void
plain_cleanup(struct hal_dev *d)
{
	fprintf(stderr, "udp-plain: %lu received, %lu sent, %lu dropped\n", d->rx, d->tx,
	    d->dropped);
	close(d->fd);
	free(d);
}

const struct hal_driver hal_driver_entry = {
	.abi = HAL_DRIVER_ABI,
	.name = "udp-plain",
	.init = plain_init,
	.enumerate = NULL,
	.status = plain_status,
	.pollfd = plain_pollfd,
	.rx_burst = plain_rx_burst,
	.tx_burst = plain_tx_burst,
	.link_event = plain_link_event,
	.cleanup = plain_cleanup,
};
