/*
 * The tap driver: a tenant network's cnw0, a TUN device the parent opened
 * and configured (IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, a 10-byte vnet
 * header, checksum and TSO offloads, O_NONBLOCK) in the network's namespace.
 *
 * Every frame is a struct virtio_net_hdr followed by an IP packet.  With
 * the offloads on, the kernel hands over whole TCP segments of up to 64 KiB
 * with the header saying how to cut them, and takes them back the same
 * way, so a large transfer costs one read and one write per 64 KiB instead
 * of per 1500 bytes: that is what lets tenant TCP run near kernel speed
 * through the fast path.  The header travels untouched to the peer site's
 * tap, which does the segmentation (or the receiving stack takes it whole).
 *
 * The device is used with read(2) and write(2) only: the TUN queue has no
 * batch call, and the sandbox allows no ioctl, so everything that needs one
 * (creating, offloads, MTU) was done by the parent and the MTU, if the
 * parent wants it reported, comes in the arguments ("mtu=1500").
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/host.h"
#include "lib/log.h"

/* sizeof(struct virtio_net_hdr): TUNSETVNETHDRSZ as the parent set it. */
#define TAP_VNET_HDR_LEN 10

struct hal_dev {
	int fd;
	struct hal_args args;
	uint64_t rx_dropped;		/* shorter than a vnet header, or possibly cut */
	uint64_t tx_dropped;		/* refused by the kernel (bad header, down) */
};

static struct hal_dev *
tap_init(int fd, const char *args, char *err, size_t errlen)
{
	struct hal_dev *dev;
	struct stat st;
	int fl;

	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode)) {
		snprintf(err, errlen, "tap: descriptor %d is not a TUN device", fd);
		return NULL;
	}
	if ((fl = fcntl(fd, F_GETFL)) < 0 || !(fl & O_NONBLOCK)) {
		snprintf(err, errlen, "tap: the TUN device was not opened O_NONBLOCK");
		return NULL;
	}
	if ((dev = calloc(1, sizeof(*dev))) == NULL) {
		snprintf(err, errlen, "tap: out of memory");
		return NULL;
	}
	if (hal_args_parse(args, &dev->args, err, errlen) < 0) {
		free(dev);
		return NULL;
	}
	dev->fd = fd;
	return dev;
}

static int
tap_status(struct hal_dev *dev, struct hal_link *out)
{
	/* A TUN device carries as long as it is open: its queue is ours. */
	out->up = 1;
	out->mtu = dev->args.mtu;
	out->speed_mbps = dev->args.speed_mbps;
	return 0;
}

static int
tap_pollfd(struct hal_dev *dev)
{
	return dev->fd;
}

/*
 * The TUN device is gone (deleted under us: EBADFD) or we are broken:
 * nothing to resume.  Anything else is about one frame (EINVAL: a GSO type
 * the vnet header cannot express; EIO: written while the interface is
 * down), which is dropped.
 */
static int
tap_fatal_errno(int e)
{
	return e == EBADFD || e == EBADF || e == EFAULT;
}

/*
 * One read per frame until the queue is empty or n are filled.  A read that
 * fills the whole room may have been cut (TUN truncates silently), so it is
 * dropped: the host gives 64 KiB and more, larger than any GSO frame, so
 * this only happens with a host giving small buffers.  At most 2n reads, so
 * a flood of bad frames cannot hold the loop.
 */
static int
tap_rx_burst(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	unsigned got = 0, tries = 0;

	while (got < n && tries++ < 2 * n) {
		ssize_t r = read(dev->fd, f[got].data, f[got].cap);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (tap_fatal_errno(errno))
				return -1;
			dev->rx_dropped++;
			continue;
		}
		if (r < TAP_VNET_HDR_LEN || (size_t)r >= f[got].cap) {
			dev->rx_dropped++;
			continue;
		}
		f[got].len = (uint32_t)r;
		f[got].family = 0;
		got++;
	}
	return (int)got;
}

/* One write per frame; a frame the kernel refuses is dropped and counted taken. */
static int
tap_tx_burst(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		ssize_t w = write(dev->fd, f[i].data, f[i].len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (w < 0 && tap_fatal_errno(errno))
			return -1;
		if (w < 0)
			dev->tx_dropped++;
		i++;
	}
	return (int)i;
}

/*
 * TUN reports an error only when its interface was deleted under us (the
 * queue is detached and every read fails EBADFD): down, and fatal, so the
 * parent, which will make it again, restarts us on the new one.
 */
static int
tap_link_event(struct hal_dev *dev, struct hal_link *out)
{
	tap_status(dev, out);
	out->up = 0;
	return -1;
}

static void
tap_cleanup(struct hal_dev *dev)
{
	if (dev == NULL)
		return;
	if (dev->rx_dropped != 0 || dev->tx_dropped != 0)
		log_info("tap: dropped %llu frames in, %llu out",
		    (unsigned long long)dev->rx_dropped, (unsigned long long)dev->tx_dropped);
	close(dev->fd);
	free(dev);
}

const struct hal_driver hal_driver_tap = {
	.abi = HAL_DRIVER_ABI,
	.name = "tap",
	.init = tap_init,
	.enumerate = NULL,
	.status = tap_status,
	.pollfd = tap_pollfd,
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.link_event = tap_link_event,
	.cleanup = tap_cleanup,
};
