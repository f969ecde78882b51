/*
 * The parent's half of the afpacket driver (see afpacket.h): open and
 * configure the packet socket, which takes CAP_NET_RAW and setsockopt, and
 * describe it to the sandboxed driver, which has neither.
 *
 * Ring sizes.  Receive: 64 blocks of 128 KiB, 8 MiB.  A block holds any
 * frame up to 64 KiB (a peer on a jumbo or veth link) and some 70 frames
 * of 1500 bytes.  TPACKET_V3 hands a block over only when it is full or
 * its timer retires it, so at a low rate every frame waits up to that
 * timer: 1 ms, the least there is, keeps an overlay probe's round trip
 * honest.  Transmit: 512 frame slots, each the next power of two above an
 * MTU-sized frame and its slot header, no larger than 16 KiB: 1 MiB at an
 * MTU of 1500, 8 MiB at most.  On a link with a larger MTU the driver cuts
 * fragments to fit the slot; the MTU only sets the ceiling.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hal/afpacket.h"
#include "lib/util.h"

#define AFP_RX_BLOCK_SIZE (128u << 10)
#define AFP_RX_BLOCK_NR 64
/* The kernel checks V3 rx "frames" only for consistency; frames vary in size. */
#define AFP_RX_FRAME_SIZE 2048
#define AFP_RX_TOV_MS 1
#define AFP_TX_FRAME_NR 512
#define AFP_TX_FRAME_MAX (16u << 10)
#define AFP_TX_BLOCK_SIZE (128u << 10)
/* Where a tx slot's frame starts: the slot header, aligned (packet(7), TPACKET_V3). */
#define AFP_TX_DATA_OFF TPACKET_ALIGN(sizeof(struct tpacket3_hdr))

static int
afp_setopt(int fd, int opt, const void *v, socklen_t len, const char *ifname, const char *what,
    struct cnw_error *err)
{
	if (setsockopt(fd, SOL_PACKET, opt, v, len) < 0)
		return cnw_err(err, CNW_EINTERNAL, "afpacket %s: %s: %s", ifname, what,
		    strerror(errno));
	return 0;
}

/* The interface's MTU and address; it must be Ethernet. */
static int
afp_ifinfo(int fd, const char *ifname, struct afpacket_geom *g, struct cnw_error *err)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		return cnw_err(err, CNW_EINTERNAL, "afpacket %s: reading the MTU: %s", ifname,
		    strerror(errno));
	if (ifr.ifr_mtu < AFPACKET_MTU_MIN)
		return cnw_err(err, CNW_EINVAL, "afpacket %s: MTU %d is below %d", ifname,
		    ifr.ifr_mtu, AFPACKET_MTU_MIN);
	g->mtu = ifr.ifr_mtu > AFPACKET_DGRAM_MAX ? AFPACKET_DGRAM_MAX : (uint32_t)ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return cnw_err(err, CNW_EINTERNAL, "afpacket %s: reading the address: %s", ifname,
		    strerror(errno));
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return cnw_err(err, CNW_EINVAL, "afpacket %s: not an Ethernet interface", ifname);
	memcpy(g->mac, ifr.ifr_hwaddr.sa_data, sizeof(g->mac));
	return 0;
}

/* Ring sizes for the interface's MTU (see the top of this file). */
static void
afp_geom_size(struct afpacket_geom *g)
{
	uint32_t need = AFP_TX_DATA_OFF + ETH_HLEN + g->mtu, fs = 2048;

	while (fs < need && fs < AFP_TX_FRAME_MAX)
		fs <<= 1;
	g->rx_block_size = AFP_RX_BLOCK_SIZE;
	g->rx_block_nr = AFP_RX_BLOCK_NR;
	g->tx_frame_size = fs;
	g->tx_frame_nr = AFP_TX_FRAME_NR;
	g->tx_block_size = AFP_TX_BLOCK_SIZE;
	g->tx_block_nr = AFP_TX_FRAME_NR / (AFP_TX_BLOCK_SIZE / fs);
}

static int
afp_rings(int fd, const char *ifname, const struct afpacket_geom *g, struct cnw_error *err)
{
	struct tpacket_req3 rx = {
		.tp_block_size = g->rx_block_size,
		.tp_block_nr = g->rx_block_nr,
		.tp_frame_size = AFP_RX_FRAME_SIZE,
		.tp_frame_nr = g->rx_block_size / AFP_RX_FRAME_SIZE * g->rx_block_nr,
		.tp_retire_blk_tov = AFP_RX_TOV_MS,
	};
	/* A V3 tx ring takes no timer, private area or features: zero. */
	struct tpacket_req3 tx = {
		.tp_block_size = g->tx_block_size,
		.tp_block_nr = g->tx_block_nr,
		.tp_frame_size = g->tx_frame_size,
		.tp_frame_nr = g->tx_frame_nr,
	};
	int v3 = TPACKET_V3, one = 1;

	/*
	 * PACKET_LOSS: a slot the kernel cannot send (too long for the
	 * device, say) is dropped and freed; without it the kernel stops at
	 * that slot for good, and the driver's ring with it.
	 */
	return afp_setopt(fd, PACKET_VERSION, &v3, sizeof(v3), ifname, "TPACKET_V3", err) < 0 ||
	    afp_setopt(fd, PACKET_LOSS, &one, sizeof(one), ifname, "PACKET_LOSS", err) < 0 ||
	    afp_setopt(fd, PACKET_RX_RING, &rx, sizeof(rx), ifname, "the rx ring", err) < 0 ||
	    afp_setopt(fd, PACKET_TX_RING, &tx, sizeof(tx), ifname, "the tx ring", err) < 0 ||
	    afp_setopt(fd, PACKET_QDISC_BYPASS, &one, sizeof(one), ifname, "qdisc bypass",
	    err) < 0 ? -1 : 0;
}

int
afpacket_open(const char *ifname, struct afpacket_geom *g, struct cnw_error *err)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	cleanup_close int fd = -1;
	unsigned idx;

	memset(g, 0, sizeof(*g));
	if ((idx = if_nametoindex(ifname)) == 0 || idx > INT32_MAX)
		return cnw_err(err, CNW_ENOENT, "afpacket: no interface %s", ifname);
	/*
	 * Protocol 0 until bound: a packet socket made with a protocol
	 * receives from every interface at once, and would queue frames of
	 * other interfaces before bind narrows it.
	 */
	if ((fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)) < 0)
		return cnw_err(err, CNW_EINTERNAL, "afpacket %s: socket: %s", ifname,
		    strerror(errno));
	g->ifindex = (int)idx;
	if (afp_ifinfo(fd, ifname, g, err) < 0)
		return -1;
	afp_geom_size(g);
	if (afp_rings(fd, ifname, g, err) < 0)
		return -1;
	sll.sll_protocol = htons(AFPACKET_ETHERTYPE);
	sll.sll_ifindex = g->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return cnw_err(err, CNW_EINTERNAL, "afpacket %s: bind: %s", ifname,
		    strerror(errno));
	return steal_fd(&fd);
}

int
afpacket_geom_args(const struct afpacket_geom *g, char *buf, size_t len)
{
	const uint8_t *m = g->mac;
	int n = snprintf(buf, len, "mtu=%u,mac=%02x:%02x:%02x:%02x:%02x:%02x,"
	    "rxbs=%u,rxbn=%u,txbs=%u,txbn=%u,txfs=%u,txfn=%u", g->mtu,
	    m[0], m[1], m[2], m[3], m[4], m[5], g->rx_block_size, g->rx_block_nr,
	    g->tx_block_size, g->tx_block_nr, g->tx_frame_size, g->tx_frame_nr);

	return n < 0 || (size_t)n >= len ? -1 : n;
}
