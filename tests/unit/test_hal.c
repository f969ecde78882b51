/*
 * The HAL's data path: the built-in drivers against real kernel objects,
 * and the driver host end to end.
 *
 *   udp   two loopback UDP sockets (IPv4, IPv6, dual stack): bursts in and
 *         out, source and destination addresses, truncated datagrams
 *         dropped, frames to unreachable addresses dropped and counted taken,
 *         descriptors that are not UDP sockets refused.
 *   tap   a TUN device made and configured as the parent does (vnet header,
 *         offloads, non-blocking), in a private network namespace: a UDP
 *         datagram from a socket comes out of the driver's rx; an ICMP echo
 *         request written by the driver's tx is answered by the kernel.
 *   host  the driver host running in a child process (fork, the set-up
 *         messages over a socketpair as the parent sends them, the real
 *         loop, no sandbox) on the udp driver, with this process playing
 *         the worker on a region laid out by port_region_init: fill buffers
 *         come back on rx with their peer, tx frames go out on the wire and
 *         come back on comp, bad indexes and frames are refused, a full rx
 *         ring holds frames back without losing any, an idle driver
 *         sleeps (no CPU), a closed parent socket ends it with 0; and
 *         under the driver role's real sandbox, on udp and on tap.
 *         What a burst costs the driver is bench/hal-bench's.
 *
 * The whole program runs in a network namespace of its own (unshare at
 * start; tests run as root), so the TUN device and the sockets touch
 * nothing of the host.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "hal/host.h"
#include "netfn/port.h"
#include "netfn/shm.h"
#include "lib/log.h"
#include "lib/util.h"
#include "cnwd/roles.h"
#include "proto/proto.h"
#include "lib/sandbox.h"
#include "tests/unit/fixture_frames.h"

#define FRAME_CAP 2048

static int in_private_netns;

/* Helpers ------------------------------------------------------------------ */

/* A UDP socket bound to addr (a literal), port 0; its address in ss. */
static int
udp_bound(int family, const char *addr, struct sockaddr_storage *ss, socklen_t *len)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, addr, &s4->sin_addr), 1);
		*len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, addr, &s6->sin6_addr), 1);
		*len = sizeof(*s6);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)ss, *len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)ss, len), 0);
	return fd;
}

/* The frame-form address (family, port, addr) of a socket address. */
static void
frame_addr(const struct sockaddr_storage *ss, struct hal_frame *f)
{
	memset(f->addr, 0, sizeof(f->addr));
	f->family = ss->ss_family;
	if (ss->ss_family == AF_INET) {
		f->port = ((const struct sockaddr_in *)ss)->sin_port;
		memcpy(f->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else {
		f->port = ((const struct sockaddr_in6 *)ss)->sin6_port;
		memcpy(f->addr, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

static void
send_numbered(int fd, const struct sockaddr_storage *to, socklen_t tolen, unsigned first,
    unsigned n, size_t size)
{
	uint8_t buf[4096];

	assert_true(size >= 4 && size <= sizeof(buf));
	for (unsigned i = 0; i < n; i++) {
		uint32_t v = htonl(first + i);

		memset(buf, (int)(first + i), size);
		memcpy(buf, &v, 4);
		assert_int_equal(sendto(fd, buf, size, 0, (const struct sockaddr *)to, tolen),
		    (ssize_t)size);
	}
}

static uint32_t
numbered(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* Wait until fd is readable (or writable); 1 if it became so within ms. */
static int
wait_fd(int fd, short events, int ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, ms) == 1;
}

/* The driver-side descriptor goes to the driver; close what init refused. */
static struct hal_dev *
driver_init(const struct hal_driver *d, int fd, const char *args)
{
	char err[256] = "";
	struct hal_dev *dev = d->init(fd, args, err, sizeof(err));

	if (dev == NULL)
		fail_msg("%s init: %s", d->name, err);
	return dev;
}

/* Arguments and the table ------------------------------------------------- */

static void
test_driver_table(void **state)
{
	assert_ptr_equal(hal_driver_find("tap"), &hal_driver_tap);
	assert_ptr_equal(hal_driver_find("udp"), &hal_driver_udp);
	assert_non_null(hal_driver_find("afpacket"));
	assert_null(hal_driver_find("udp-plain"));	/* a plug-in is never built in */
	assert_null(hal_driver_find(""));
	assert_int_equal(hal_driver_tap.abi, HAL_DRIVER_ABI);
	assert_int_equal(hal_driver_udp.abi, HAL_DRIVER_ABI);
}

static void
test_args(void **state)
{
	static const char *const bad[] = {
		"mtu", "mtu=", "mtu=x", "mtu=65536", "mtu=-1", "mtu=1500x", "speed=99999999999",
		"colour=blue", "mtu=1500,,speed=1", ",", "mtu= 1500",
	};
	struct hal_args a;
	char err[128];

	assert_int_equal(hal_args_parse("", &a, err, sizeof(err)), 0);
	assert_int_equal(a.mtu, 0);
	assert_int_equal(a.speed_mbps, 0);
	assert_int_equal(hal_args_parse("mtu=1400,speed=10000", &a, err, sizeof(err)), 0);
	assert_int_equal(a.mtu, 1400);
	assert_int_equal(a.speed_mbps, 10000);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (hal_args_parse(bad[i], &a, err, sizeof(err)) == 0)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(err[0] != '\0');
	}
}

/* udp ---------------------------------------------------------------------- */

struct udp_pair {
	int drv_fd, peer_fd;
	struct sockaddr_storage drv, peer;
	socklen_t drv_len, peer_len;
	struct hal_dev *dev;
};

static void
udp_pair_open(struct udp_pair *p, int family, const char *drv_addr, int peer_family,
    const char *peer_addr)
{
	p->drv_fd = udp_bound(family, drv_addr, &p->drv, &p->drv_len);
	p->peer_fd = udp_bound(peer_family, peer_addr, &p->peer, &p->peer_len);
	p->dev = driver_init(&hal_driver_udp, p->drv_fd, "mtu=1500,speed=100");
}

static void
udp_pair_close(struct udp_pair *p)
{
	hal_driver_udp.cleanup(p->dev);		/* closes drv_fd */
	close(p->peer_fd);
}

static void
test_udp_burst_in(void **state)
{
	struct hal_frame *f = fixture_frames_new(HAL_BURST, FRAME_CAP);
	struct hal_frame want;
	struct udp_pair p;
	struct hal_link l;
	unsigned seen = 0;

	udp_pair_open(&p, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
	assert_int_equal(hal_driver_udp.status(p.dev, &l), 0);
	assert_int_equal(l.up, 1);
	assert_int_equal(l.mtu, 1500);
	assert_int_equal(l.speed_mbps, 100);
	assert_int_equal(hal_driver_udp.pollfd(p.dev), p.drv_fd);
	assert_int_equal(hal_driver_udp.rx_burst(p.dev, f, HAL_BURST), 0);	/* nothing yet */
	send_numbered(p.peer_fd, &p.drv, p.drv_len, 0, 40, 100);
	frame_addr(&p.peer, &want);
	for (int round = 0; round < 3; round++) {
		int got = hal_driver_udp.rx_burst(p.dev, f, HAL_BURST);

		assert_int_equal(got, round == 0 ? 32 : round == 1 ? 8 : 0);
		for (int i = 0; i < got; i++, seen++) {
			assert_int_equal(f[i].len, 100);
			assert_int_equal(numbered(f[i].data), seen);
			assert_int_equal(f[i].family, AF_INET);
			assert_int_equal(f[i].port, want.port);
			assert_memory_equal(f[i].addr, want.addr, 4);
		}
	}
	assert_int_equal(seen, 40);
	udp_pair_close(&p);
	fixture_frames_free(f, HAL_BURST);
}

/*
 * A datagram larger than its frame is dropped, the frames after it move
 * down in order, and the dropped frame's buffer is left at the end, free.
 */
static void
test_udp_truncated_dropped(void **state)
{
	struct hal_frame *f = fixture_frames_new(4, 256);
	uint8_t *bufs[4];
	struct udp_pair p;
	int got;

	for (int i = 0; i < 4; i++)
		bufs[i] = f[i].data;
	udp_pair_open(&p, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
	send_numbered(p.peer_fd, &p.drv, p.drv_len, 1, 1, 100);
	send_numbered(p.peer_fd, &p.drv, p.drv_len, 2, 1, 1000);	/* too large */
	send_numbered(p.peer_fd, &p.drv, p.drv_len, 3, 1, 256);	/* just fits */
	send_numbered(p.peer_fd, &p.drv, p.drv_len, 4, 1, 257);	/* one byte too many */
	got = hal_driver_udp.rx_burst(p.dev, f, 4);
	assert_int_equal(got, 2);
	assert_int_equal(numbered(f[0].data), 1);
	assert_int_equal(f[0].len, 100);
	assert_int_equal(numbered(f[1].data), 3);
	assert_int_equal(f[1].len, 256);
	/* Every buffer is still there, once. */
	for (int i = 0; i < 4; i++) {
		int found = 0;

		for (int j = 0; j < 4; j++)
			found += f[j].data == bufs[i];
		assert_int_equal(found, 1);
	}
	/* The queue is empty now: the truncated ones were consumed, not left behind. */
	assert_int_equal(hal_driver_udp.rx_burst(p.dev, f, 4), 0);
	udp_pair_close(&p);
	fixture_frames_free(f, 4);
}

static void
test_udp_burst_out(void **state)
{
	struct hal_frame *f = fixture_frames_new(HAL_BURST, FRAME_CAP);
	uint8_t buf[FRAME_CAP];
	struct udp_pair p;

	udp_pair_open(&p, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
	for (unsigned i = 0; i < HAL_BURST; i++) {
		uint32_t v = htonl(i);

		memcpy(f[i].data, &v, 4);
		f[i].len = 64 + i;
		frame_addr(&p.peer, &f[i]);
	}
	assert_int_equal(hal_driver_udp.tx_burst(p.dev, f, HAL_BURST), HAL_BURST);
	for (unsigned i = 0; i < HAL_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(p.peer_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);

		assert_int_equal(n, 64 + i);
		assert_int_equal(numbered(buf), i);
		/* From the driver's socket. */
		assert_int_equal(((struct sockaddr_in *)&from)->sin_port,
		    ((struct sockaddr_in *)&p.drv)->sin_port);
	}
	udp_pair_close(&p);
	fixture_frames_free(f, HAL_BURST);
}

/*
 * Frames that cannot go (no address, port 0, IPv6 on an IPv4 socket, too
 * large for UDP) are dropped and counted taken; the good ones around them
 * still go, in order.
 */
static void
test_udp_unsendable_dropped(void **state)
{
	struct hal_frame *f = fixture_frames_new(6, 70000);
	uint8_t buf[FRAME_CAP];
	struct udp_pair p;

	udp_pair_open(&p, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
	for (unsigned i = 0; i < 6; i++) {
		uint32_t v = htonl(i);

		memcpy(f[i].data, &v, 4);
		f[i].len = 32;
		frame_addr(&p.peer, &f[i]);
	}
	f[1].family = 0;
	f[2].port = 0;
	f[3].family = AF_INET6;
	f[4].len = 65508;		/* one more than an IPv4 UDP datagram holds */
	assert_int_equal(hal_driver_udp.tx_burst(p.dev, f, 6), 6);
	assert_int_equal(recv(p.peer_fd, buf, sizeof(buf), 0), 32);
	assert_int_equal(numbered(buf), 0);
	assert_int_equal(recv(p.peer_fd, buf, sizeof(buf), 0), 32);
	assert_int_equal(numbered(buf), 5);
	assert_int_equal(recv(p.peer_fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	udp_pair_close(&p);
	fixture_frames_free(f, 6);
}

/* IPv6, and IPv4 peers of a dual-stack socket given as AF_INET both ways. */
static void
test_udp_ipv6_and_dual_stack(void **state)
{
	struct hal_frame *f = fixture_frames_new(2, FRAME_CAP);
	struct hal_frame want;
	uint8_t buf[64];
	struct udp_pair p;

	udp_pair_open(&p, AF_INET6, "::1", AF_INET6, "::1");
	send_numbered(p.peer_fd, &p.drv, p.drv_len, 6, 1, 60);
	assert_int_equal(hal_driver_udp.rx_burst(p.dev, f, 2), 1);
	frame_addr(&p.peer, &want);
	assert_int_equal(f[0].family, AF_INET6);
	assert_int_equal(f[0].port, want.port);
	assert_memory_equal(f[0].addr, want.addr, 16);
	f[0].len = 60;			/* echo it back */
	assert_int_equal(hal_driver_udp.tx_burst(p.dev, f, 1), 1);
	assert_int_equal(recv(p.peer_fd, buf, sizeof(buf), 0), 60);
	assert_int_equal(numbered(buf), 6);
	udp_pair_close(&p);

	udp_pair_open(&p, AF_INET6, "::", AF_INET, "127.0.0.1");
	{
		struct sockaddr_in to = {
			.sin_family = AF_INET,
			.sin_port = ((struct sockaddr_in6 *)&p.drv)->sin6_port,
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		};

		assert_int_equal(sendto(p.peer_fd, "\0\0\0\7hello", 9, 0, (struct sockaddr *)&to,
		    sizeof(to)), 9);
	}
	assert_true(wait_fd(p.drv_fd, POLLIN, 1000));
	assert_int_equal(hal_driver_udp.rx_burst(p.dev, f, 2), 1);
	frame_addr(&p.peer, &want);
	assert_int_equal(f[0].family, AF_INET);	/* not ::ffff:127.0.0.1 */
	assert_int_equal(f[0].port, want.port);
	assert_memory_equal(f[0].addr, want.addr, 4);
	assert_int_equal(hal_driver_udp.tx_burst(p.dev, f, 1), 1);
	assert_int_equal(recv(p.peer_fd, buf, sizeof(buf), 0), 9);
	assert_int_equal(numbered(buf), 7);
	udp_pair_close(&p);
	fixture_frames_free(f, 2);
}

static void
test_udp_refuses_other_descriptors(void **state)
{
	int tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), pfd[2];
	char err[256] = "";

	assert_true(tcp >= 0);
	assert_null(hal_driver_udp.init(tcp, "", err, sizeof(err)));
	assert_non_null(strstr(err, "not a UDP socket"));
	assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
	assert_null(hal_driver_udp.init(pfd[0], "", err, sizeof(err)));
	err[0] = '\0';
	{
		struct sockaddr_storage ss;
		socklen_t len;
		int u = udp_bound(AF_INET, "127.0.0.1", &ss, &len);

		assert_null(hal_driver_udp.init(u, "speed=fast", err, sizeof(err)));
		assert_non_null(strstr(err, "speed=fast"));
		close(u);
	}
	close(tcp);
	close(pfd[0]);
	close(pfd[1]);
}

/* A queued socket error raises POLLERR; link_event takes it and the link stays up. */
static void
test_udp_link_event(void **state)
{
	struct hal_frame *f = fixture_frames_new(1, FRAME_CAP);
	struct udp_pair p;
	struct hal_link l;
	int on = 1;

	udp_pair_open(&p, AF_INET, "127.0.0.1", AF_INET, "127.0.0.1");
	assert_int_equal(setsockopt(p.drv_fd, SOL_IP, IP_RECVERR, &on, sizeof(on)), 0);
	close(p.peer_fd);		/* nobody listens there now: ICMP port unreachable */
	p.peer_fd = -1;
	f[0].len = 8;
	frame_addr(&p.peer, &f[0]);
	assert_int_equal(hal_driver_udp.tx_burst(p.dev, f, 1), 1);
	assert_true(wait_fd(p.drv_fd, 0, 1000));	/* POLLERR */
	assert_int_equal(hal_driver_udp.link_event(p.dev, &l), 0);
	assert_int_equal(l.up, 1);
	hal_driver_udp.cleanup(p.dev);
	fixture_frames_free(f, 1);
}

/* tap ---------------------------------------------------------------------- */

#define TAP_NAME "cnwtest0"
#define TAP_LOCAL "10.99.0.1"		/* the kernel's side of the TUN */
#define TAP_REMOTE "10.99.0.2"		/* a host "behind" the driver */

static void
if_set_addr(int s, const char *name, unsigned long req, const char *addr)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	sin->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, addr, &sin->sin_addr), 1);
	assert_int_equal(ioctl(s, req, &ifr), 0);
}

static void
if_up(const char *name)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct ifreq ifr;

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
	ifr.ifr_flags |= IFF_UP;
	assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
	close(s);
}

/* What the parent does: a TUN with vnet headers and offloads, addressed and up. */
static int
tap_make(void)
{
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), hdr = 10, s;
	struct ifreq ifr;

	assert_true(fd >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), TAP_NAME);
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR;
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	assert_int_equal(ioctl(fd, TUNSETVNETHDRSZ, &hdr), 0);
	assert_int_equal(ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6), 0);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	if_set_addr(s, TAP_NAME, SIOCSIFADDR, TAP_LOCAL);
	if_set_addr(s, TAP_NAME, SIOCSIFNETMASK, "255.255.255.0");
	close(s);
	if_up(TAP_NAME);
	return fd;
}

static uint16_t
ip_checksum(const uint8_t *p, size_t len)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* An IPv4 header of 20 bytes at p, for proto, total length len. */
static void
ip4_header(uint8_t *p, uint8_t proto, uint16_t len, const char *src, const char *dst)
{
	uint16_t c;

	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	p[8] = 64;
	p[9] = proto;
	assert_int_equal(inet_pton(AF_INET, src, p + 12), 1);
	assert_int_equal(inet_pton(AF_INET, dst, p + 16), 1);
	c = ip_checksum(p, 20);
	p[10] = (uint8_t)(c >> 8);
	p[11] = (uint8_t)c;
}

#define ECHO_PAYLOAD "cnw echo payload 0123456789abcdef"

/* A vnet header and an ICMP echo request from TAP_REMOTE to TAP_LOCAL at p; its length. */
static uint32_t
echo_request(uint8_t *p)
{
	uint8_t *ip = p + 10, *icmp = ip + 20;
	uint16_t c;

	memset(p, 0, 10);		/* virtio_net_hdr: no checksum or GSO work */
	memset(icmp, 0, 8);
	icmp[0] = 8;			/* echo request */
	icmp[5] = 0x42;			/* id */
	icmp[7] = 1;			/* sequence */
	memcpy(icmp + 8, ECHO_PAYLOAD, 32);
	c = ip_checksum(icmp, 40);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	ip4_header(ip, IPPROTO_ICMP, 60, TAP_REMOTE, TAP_LOCAL);
	return 10 + 60;
}

/* The kernel's answer to echo_request, vnet header first. */
static void
echo_reply_check(const uint8_t *p)
{
	const uint8_t *ip = p + 10, *icmp = ip + 20;
	uint8_t want[4];

	assert_int_equal(icmp[0], 0);	/* echo reply */
	assert_int_equal(icmp[5], 0x42);
	assert_int_equal(icmp[7], 1);
	assert_memory_equal(icmp + 8, ECHO_PAYLOAD, 32);
	assert_int_equal(inet_pton(AF_INET, TAP_REMOTE, want), 1);
	assert_memory_equal(ip + 16, want, 4);
}

/*
 * Receive from the tap until a frame is an IPv4 packet of proto (the kernel
 * also sends IPv6 router solicitations and the like on a new interface);
 * the frame's index in f, or -1 after a second.
 */
static int
tap_rx_ipv4(struct hal_dev *dev, struct hal_frame *f, unsigned n, uint8_t proto)
{
	long long end = cnw_now_ms() + 1000;

	while (cnw_now_ms() < end) {
		int got;

		wait_fd(hal_driver_tap.pollfd(dev), POLLIN, 100);
		got = hal_driver_tap.rx_burst(dev, f, n);
		assert_true(got >= 0);
		for (int i = 0; i < got; i++) {
			const uint8_t *ip = f[i].data + sizeof(struct virtio_net_hdr);

			if (f[i].len >= 10 + 20 && (ip[0] >> 4) == 4 && ip[9] == proto)
				return i;
		}
	}
	return -1;
}

static int
tap_setup(void **state)
{
	if (!in_private_netns)
		return 0;
	*state = driver_init(&hal_driver_tap, tap_make(), "mtu=1500");
	return 0;
}

static int
tap_teardown(void **state)
{
	if (*state != NULL)
		hal_driver_tap.cleanup(*state);	/* closes the TUN: the interface goes */
	return 0;
}

/* A datagram sent by a socket into the TUN's subnet comes out of rx whole. */
static void
test_tap_rx_from_socket(void **state)
{
	struct hal_frame *f = fixture_frames_new(HAL_BURST, 65536 + 64);
	struct hal_dev *dev = *state;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	struct hal_link l;
	const uint8_t *ip;
	int s, i;

	if (dev == NULL)
		skip();
	assert_int_equal(hal_driver_tap.status(dev, &l), 0);
	assert_int_equal(l.up, 1);
	assert_int_equal(l.mtu, 1500);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(inet_pton(AF_INET, TAP_REMOTE, &to.sin_addr), 1);
	assert_int_equal(sendto(s, "from the kernel", 15, 0, (struct sockaddr *)&to, sizeof(to)), 15);
	i = tap_rx_ipv4(dev, f, HAL_BURST, IPPROTO_UDP);
	assert_true(i >= 0);
	assert_int_equal(f[i].len, 10 + 20 + 8 + 15);
	assert_int_equal(f[i].family, 0);
	ip = f[i].data + 10;
	assert_int_equal(ip[22] << 8 | ip[23], 9999);
	assert_memory_equal(ip + 28, "from the kernel", 15);
	close(s);
	fixture_frames_free(f, HAL_BURST);
}

/* An ICMP echo request written by tx is answered by the kernel, read by rx. */
static void
test_tap_ping_through(void **state)
{
	struct hal_frame *f = fixture_frames_new(HAL_BURST, 65536 + 64);
	struct hal_dev *dev = *state;
	int i;

	if (dev == NULL)
		skip();
	f[0].len = echo_request(f[0].data);
	assert_int_equal(hal_driver_tap.tx_burst(dev, f, 1), 1);
	i = tap_rx_ipv4(dev, f, HAL_BURST, IPPROTO_ICMP);
	assert_true(i >= 0);
	assert_int_equal(f[i].len, 10 + 60);
	echo_reply_check(f[i].data);
	fixture_frames_free(f, HAL_BURST);
}

/*
 * A malformed frame (shorter than an IP header) is refused by the kernel
 * and dropped, counted taken; a packet larger than the room given is
 * dropped on rx, not delivered cut.
 */
static void
test_tap_bad_frames_dropped(void **state)
{
	struct hal_frame *f = fixture_frames_new(2, 48);
	struct hal_dev *dev = *state;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	char big[200];
	int s;

	if (dev == NULL)
		skip();
	memset(f[0].data, 0, 48);
	f[0].len = 10 + 3;
	memset(f[1].data, 0, 48);
	f[1].len = 5;			/* not even a vnet header */
	assert_int_equal(hal_driver_tap.tx_burst(dev, f, 2), 2);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(inet_pton(AF_INET, TAP_REMOTE, &to.sin_addr), 1);
	memset(big, 'x', sizeof(big));
	assert_int_equal(sendto(s, big, sizeof(big), 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)sizeof(big));
	assert_true(wait_fd(hal_driver_tap.pollfd(dev), POLLIN, 1000));
	/* Everything queued is too large for 48 bytes: dropped, nothing delivered. */
	for (int i = 0; i < 20; i++)
		assert_int_equal(hal_driver_tap.rx_burst(dev, f, 2), 0);
	close(s);
	fixture_frames_free(f, 2);
}

static void
test_tap_refuses_other_descriptors(void **state)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	char err[256] = "";

	assert_null(hal_driver_tap.init(s, "", err, sizeof(err)));
	assert_non_null(strstr(err, "not a TUN device"));
	assert_null(hal_driver_tap.init(null, "", err, sizeof(err)));	/* blocking */
	assert_non_null(strstr(err, "O_NONBLOCK"));
	close(s);
	close(null);
}

/* The host ----------------------------------------------------------------- */

#define HOST_PORT 5

/* This process plays the parent and the worker; the child runs the host. */
struct host {
	pid_t pid;
	int sock;			/* our end of the socketpair */
	int kick_driver, kick_worker;	/* eventfds */
	struct shm shm;
	struct port_region *r;
	struct port_shm *port;
	struct pool *pool;
	struct ring *fill, *rx, *tx, *comp;
	struct udp_pair u;		/* drv_fd goes to the child */
	int tun;			/* if >= 0, the device instead of u.drv_fd */
	struct msg m;
};

/* Run the next host child in the driver role's sandbox. */
static int host_sandboxed;

/* A call outside the allowlist: say which, and exit 99. */
static void
host_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[] = "test_hal: driver made system call 000, not in its allowlist\n";
	unsigned nr = (unsigned)si->si_syscall;
	char *d = strstr(msg, "000");

	d[0] = (char)('0' + nr / 100 % 10);
	d[1] = (char)('0' + nr / 10 % 10);
	d[2] = (char)('0' + nr % 10);
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(99);
}

/* As proc_child_run does: the filter built for this pid, then ids, caps, seccomp. */
static void
host_enter_sandbox(void)
{
	struct sigaction sa = { .sa_sigaction = host_sigsys, .sa_flags = SA_SIGINFO };
	struct cnw_error err = { 0 };
	size_t len;
	void *prog;

	if (sandbox_filter_build(sandbox_policy_find("driver"), getpid(), &prog, &len, &err) < 0)
		_exit(5);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	sandbox_enter(prog, len, NULL);
	free(prog);
}

/* The child: take the set-up messages as proc_child_run does, then run. */
static void __attribute__((noreturn))
host_child(int sock)
{
	static struct msg m;

	log_init("driver", LOG_LVL_WARNING, 0);
	for (;;) {
		if (msg_recv(sock, &m) <= 0)
			_exit(3);
		if (m.hdr.type == MSG_CHILD_START)
			break;
		if (role_driver_setup(sock, &m) < 0)
			_exit(4);
	}
	hal_host_prepare();
	if (host_sandboxed)
		host_enter_sandbox();
	_exit(role_driver_main(sock));
}

static void
host_send(struct host *h, uint32_t type, const void *p, size_t len, int fd)
{
	int dup_fd = fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 0) : -1;

	assert_int_equal(msg_send(h->sock, type, 0, 0, p, len, fd >= 0 ? &dup_fd : NULL), 0);
}

static void
host_fork(struct host *h)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	h->pid = fork();
	assert_true(h->pid >= 0);
	if (h->pid == 0) {
		close(sv[0]);
		host_child(sv[1]);
	}
	close(sv[1]);
	h->sock = sv[0];
}

/* Everything as the parent sends it; the device fd is the udp pair's. */
static void
host_send_setup(struct host *h, const char *driver, const char *args, int with_region)
{
	struct hal_config c = { .port = HOST_PORT };
	struct shm_size reg = { .size = h->shm.size };
	struct port_kick kd = { .port = HOST_PORT, .which = PORT_KICK_DRIVER };
	struct port_kick kw = { .port = HOST_PORT, .which = PORT_KICK_WORKER };

	snprintf(c.driver, sizeof(c.driver), "%s", driver);
	snprintf(c.name, sizeof(c.name), "wan-test");
	snprintf(c.args, sizeof(c.args), "%s", args);
	host_send(h, MSG_DRIVER_CONFIG, &c, sizeof(c), -1);
	host_send(h, MSG_DRIVER_DEVICE, NULL, 0, h->tun >= 0 ? h->tun : h->u.drv_fd);
	if (with_region)
		host_send(h, MSG_DRIVER_REGION, &reg, sizeof(reg), h->shm.fd);
	host_send(h, MSG_DRIVER_KICK, &kd, sizeof(kd), h->kick_driver);
	host_send(h, MSG_DRIVER_KICK, &kw, sizeof(kw), h->kick_worker);
	host_send(h, MSG_CHILD_START, NULL, 0, -1);
}

static int
host_setup(void **state)
{
	struct host *h = calloc(1, sizeof(*h));
	struct cnw_error err = { 0 };

	assert_non_null(h);
	assert_int_equal(shm_create(&h->shm, "haltest", port_region_size(), &err), 0);
	assert_int_equal(port_region_init(h->shm.base, h->shm.size), 0);
	h->r = h->shm.base;
	h->port = &h->r->ports[HOST_PORT];
	h->port->kind = PORT_UDP;
	h->pool = port_pool(h->r);
	h->fill = port_ring(h->r, h->port->fill_off);
	h->rx = port_ring(h->r, h->port->rx_off);
	h->tx = port_ring(h->r, h->port->tx_off);
	h->comp = port_ring(h->r, h->port->comp_off);
	h->kick_driver = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->kick_worker = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	assert_true(h->kick_driver >= 0 && h->kick_worker >= 0);
	h->u.drv_fd = udp_bound(AF_INET, "127.0.0.1", &h->u.drv, &h->u.drv_len);
	h->u.peer_fd = udp_bound(AF_INET, "127.0.0.1", &h->u.peer, &h->u.peer_len);
	h->pid = -1;
	h->sock = -1;
	h->tun = -1;
	*state = h;
	return 0;
}

/* Close the parent's end and reap the child; its exit status. */
static int
host_stop(struct host *h)
{
	int status = -1;

	if (h->sock >= 0)
		close(h->sock);
	h->sock = -1;
	if (h->pid > 0) {
		long long end = cnw_now_ms() + 3000;

		while (waitpid(h->pid, &status, WNOHANG) == 0 && cnw_now_ms() < end)
			usleep(1000);
		if (cnw_now_ms() >= end) {
			kill(h->pid, SIGKILL);
			waitpid(h->pid, &status, 0);
			status = -1;
		}
	}
	h->pid = -1;
	return status;
}

static int
host_teardown(void **state)
{
	struct host *h = *state;

	host_stop(h);
	shm_unmap(&h->shm);
	close(h->kick_driver);
	close(h->kick_worker);
	close(h->u.drv_fd);
	close(h->u.peer_fd);
	if (h->tun >= 0)
		close(h->tun);
	free(h);
	return 0;
}

/* The link report the host sends first. */
static void
host_expect_link(struct host *h, uint32_t mtu)
{
	const struct hal_link_msg *l = (const struct hal_link_msg *)h->m.data;
	char why[128];

	assert_true(wait_fd(h->sock, POLLIN, 3000));
	assert_int_equal(msg_recv(h->sock, &h->m), 1);
	assert_int_equal(h->m.hdr.type, MSG_DRIVER_LINK);
	assert_int_equal(msg_check(proto_types, proto_ntypes, &h->m, PROTO_FROM_DRIVER, why,
	    sizeof(why)), 0);
	assert_int_equal(l->up, 1);
	assert_int_equal(l->mtu, mtu);
}

/* Lend n fresh buffers on fill (the worker's job); wake the driver if it sleeps. */
static void
host_lend(struct host *h, unsigned n)
{
	uint32_t idx[256];

	assert_true(n <= 256);
	assert_int_equal(pool_alloc_burst(h->pool, idx, n), n);
	for (unsigned i = 0; i < n; i++)
		pool_buf_reset(pool_buf(h->pool, idx[i]));
	assert_int_equal(ring_enqueue_burst(h->fill, idx, n), n);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&h->port->driver_sleeping))
		assert_int_equal(eventfd_write(h->kick_driver, 1), 0);
}

/* Give frames to send (the worker's job), waking the driver as port.h says. */
static void
host_send_tx(struct host *h, const uint32_t *idx, unsigned n)
{
	assert_int_equal(ring_enqueue_burst(h->tx, idx, n), n);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&h->port->driver_sleeping))
		assert_int_equal(eventfd_write(h->kick_driver, 1), 0);
}

/* Dequeue exactly n from ring r within a few seconds. */
static void
host_collect(struct ring *r, uint32_t *idx, unsigned n)
{
	long long end = cnw_now_ms() + 3000;
	unsigned got = 0;

	while (got < n && cnw_now_ms() < end) {
		got += ring_dequeue_burst(r, idx + got, n - got);
		if (got < n)
			usleep(100);
	}
	assert_int_equal(got, n);
}

static void
host_start(struct host *h, const char *args, uint32_t mtu)
{
	host_fork(h);
	host_send_setup(h, h->tun >= 0 ? "tap" : "udp", args, 1);
	host_expect_link(h, mtu);
}

/*
 * n datagrams from the peer arrive on rx, in order, in lent buffers, with
 * their peer; sent back on tx they leave on the wire and their buffers come
 * back on comp, in order.  The worker, asleep, is woken by its eventfd.
 */
static void
host_exchange(struct host *h, unsigned first, unsigned n)
{
	struct hal_frame want;
	uint32_t idx[64], back[64];
	uint8_t buf[256];
	uint64_t v;

	assert_true(n <= 64);
	host_lend(h, n);
	atomic_store(&h->port->worker_sleeping, 1);
	send_numbered(h->u.peer_fd, &h->u.drv, h->u.drv_len, first, n, 200);
	assert_true(wait_fd(h->kick_worker, POLLIN, 3000));
	assert_int_equal(eventfd_read(h->kick_worker, &v), 0);
	atomic_store(&h->port->worker_sleeping, 0);
	host_collect(h->rx, idx, n);
	frame_addr(&h->u.peer, &want);
	for (unsigned i = 0; i < n; i++) {
		struct pool_buf *b = pool_buf(h->pool, idx[i]);

		assert_int_equal(b->len, 200);
		assert_int_equal(b->off, POOL_HEADROOM);
		assert_int_equal(numbered(pool_buf_frame(b)), first + i);
		assert_int_equal(b->peer.family, AF_INET);
		assert_int_equal(b->peer.port, want.port);
		assert_memory_equal(b->peer.addr, want.addr, 4);
		/* Reply: the same buffer, a new payload, to where it came from. */
		memset(pool_buf_frame(b) + 4, 'r', 60);
		b->len = 64;
	}
	host_send_tx(h, idx, n);
	for (unsigned i = 0; i < n; i++) {
		assert_true(wait_fd(h->u.peer_fd, POLLIN, 3000));
		assert_int_equal(recv(h->u.peer_fd, buf, sizeof(buf), 0), 64);
		assert_int_equal(numbered(buf), first + i);
		assert_int_equal(buf[63], 'r');
	}
	host_collect(h->comp, back, n);
	assert_memory_equal(back, idx, n * sizeof(back[0]));
}

static void
test_host_rx_tx(void **state)
{
	struct host *h = *state;

	host_start(h, "mtu=1400", 1400);
	host_exchange(h, 100, 48);
	assert_int_equal(WEXITSTATUS(host_stop(h)), 0);
}

/*
 * The same under the driver role's real sandbox (lib/sandbox.c: ids
 * dropped, no capabilities, its seccomp allowlist), after sleeping idle
 * and being woken: every system call the host makes is on the list (a call
 * that is not ends the child with a message naming it).
 */
static void
test_host_sandboxed(void **state)
{
	struct host *h = *state;
	struct sandbox_state st;
	int status;

	if (sandbox_policy_find("driver") == NULL)
		skip();
	host_sandboxed = 1;
	host_start(h, "", 0);
	host_sandboxed = 0;
	assert_int_equal(sandbox_read_state(h->pid, &st), 0);
	assert_int_equal(st.seccomp, 2);
	assert_int_equal(st.no_new_privs, 1);
	assert_int_equal(st.cap_eff, 0);
	host_exchange(h, 1, 32);
	usleep(50000);			/* idle: spin, then sleep in poll */
	assert_int_equal(atomic_load(&h->port->driver_sleeping), 1);
	host_exchange(h, 33, 32);	/* woken by the device, then by a kick */
	status = host_stop(h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* Dequeue what rx holds (up to max), checking each frame is the next in sequence. */
static unsigned
host_drain_in_order(struct host *h, uint32_t *idx, unsigned max, unsigned *next)
{
	unsigned n = 0, got;

	while (n < max && (got = ring_dequeue_burst(h->rx, idx + n, max - n)) > 0)
		n += got;
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(numbered(pool_buf_frame(pool_buf(h->pool, idx[i]))), (*next)++);
	return n;
}

static void
host_wait_rx_count(struct host *h, uint32_t want)
{
	long long end = cnw_now_ms() + 3000;

	while (ring_count(h->rx) < want && cnw_now_ms() < end)
		usleep(500);
	assert_int_equal(ring_count(h->rx), want);
}

/*
 * The first IPv4 frame of proto to arrive on rx; frames of anything else
 * (a new interface's IPv6 chatter) go back on fill.
 */
static struct pool_buf *
host_rx_ipv4(struct host *h, uint8_t proto)
{
	long long end = cnw_now_ms() + 3000;
	uint32_t idx;

	while (cnw_now_ms() < end) {
		struct pool_buf *b;
		const uint8_t *ip;

		if (ring_dequeue_burst(h->rx, &idx, 1) == 0) {
			usleep(200);
			continue;
		}
		b = pool_buf(h->pool, idx);
		ip = pool_buf_frame(b) + 10;
		if (b->len >= 10 + 20 && (ip[0] >> 4) == 4 && ip[9] == proto)
			return b;
		pool_buf_reset(b);
		assert_int_equal(ring_enqueue_burst(h->fill, &idx, 1), 1);
	}
	fail_msg("no IPv4 frame of protocol %u on rx", proto);
	return NULL;
}

/*
 * The host on the tap driver, sandboxed: a datagram a socket sends into
 * the TUN's subnet arrives on rx (no peer address: family 0); an echo
 * request sent on tx is answered by the kernel, and the answer arrives.
 */
static void
test_host_tap_sandboxed(void **state)
{
	struct host *h = *state;
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9999) };
	struct pool_buf *b;
	uint32_t idx, back;
	int s;

	if (!in_private_netns || sandbox_policy_find("driver") == NULL)
		skip();
	h->tun = tap_make();
	h->port->kind = PORT_TAP;
	host_sandboxed = 1;
	host_start(h, "mtu=1500", 1500);
	host_sandboxed = 0;
	close(h->tun);			/* the child holds the TUN now */
	h->tun = -1;
	host_lend(h, 64);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_int_equal(inet_pton(AF_INET, TAP_REMOTE, &to.sin_addr), 1);
	assert_int_equal(sendto(s, "to the tap", 10, 0, (struct sockaddr *)&to, sizeof(to)), 10);
	close(s);
	b = host_rx_ipv4(h, IPPROTO_UDP);
	assert_int_equal(b->len, 10 + 20 + 8 + 10);
	assert_int_equal(b->peer.family, 0);
	assert_memory_equal(pool_buf_frame(b) + 10 + 28, "to the tap", 10);
	assert_int_equal(pool_alloc_burst(h->pool, &idx, 1), 1);
	b = pool_buf(h->pool, idx);
	pool_buf_reset(b);
	b->len = echo_request(pool_buf_frame(b));
	host_send_tx(h, &idx, 1);
	host_collect(h->comp, &back, 1);
	assert_int_equal(back, idx);
	echo_reply_check(pool_buf_frame(host_rx_ipv4(h, IPPROTO_ICMP)));
	assert_int_equal(WEXITSTATUS(host_stop(h)), 0);
}

/*
 * The worker falls behind: rx fills up and the driver stops reading its
 * device (the datagrams wait in the socket), holding its spare buffers.
 * The worker drains rx without a wake-up (none is defined for that) and the
 * driver, polling at HAL_BLOCKED_POLL_MS while blocked, carries on: every
 * datagram arrives once, in order.
 */
static void
test_host_rx_backpressure(void **state)
{
	struct host *h = *state;
	const unsigned total = PORT_RING_SIZE + 76;
	int big = 64 << 20;
	uint32_t *idx = calloc(PORT_RING_SIZE, sizeof(*idx));
	unsigned next = 0, n;

	assert_non_null(idx);
	assert_int_equal(setsockopt(h->u.drv_fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)), 0);
	host_start(h, "", 0);
	for (unsigned i = 0; i < PORT_RING_SIZE; i += 256)
		host_lend(h, 256);
	send_numbered(h->u.peer_fd, &h->u.drv, h->u.drv_len, 0, total, 64);
	host_wait_rx_count(h, PORT_RING_SIZE);
	host_lend(h, 64);		/* taken as spare; rx has no room for them */
	usleep(20000);
	assert_int_equal(ring_count(h->rx), PORT_RING_SIZE);
	n = host_drain_in_order(h, idx, PORT_RING_SIZE, &next);
	assert_int_equal(n, PORT_RING_SIZE);
	host_wait_rx_count(h, 64);	/* no kick: the driver looked by itself */
	for (unsigned i = 0; i < n; i++)
		pool_buf_reset(pool_buf(h->pool, idx[i]));
	assert_int_equal(ring_enqueue_burst(h->fill, idx, n), n);
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&h->port->driver_sleeping))
		assert_int_equal(eventfd_write(h->kick_driver, 1), 0);
	host_wait_rx_count(h, 76);
	assert_int_equal(host_drain_in_order(h, idx, PORT_RING_SIZE, &next), 76);
	assert_int_equal(next, total);
	free(idx);
	assert_int_equal(WEXITSTATUS(host_stop(h)), 0);
}

/*
 * A tx index outside the pool is ignored (never returned, never sent); a
 * frame whose offset and length leave its buffer is returned on comp
 * unsent; the good frames after them still go.
 */
static void
test_host_refuses_bad_tx(void **state)
{
	struct host *h = *state;
	uint32_t idx[3], back[3], tx[4];
	uint8_t buf[64];

	host_start(h, "", 0);
	assert_int_equal(pool_alloc_burst(h->pool, idx, 3), 3);
	for (unsigned i = 0; i < 3; i++) {
		struct pool_buf *b = pool_buf(h->pool, idx[i]);
		uint32_t n = htonl(i);

		pool_buf_reset(b);
		memcpy(pool_buf_frame(b), &n, 4);
		b->len = 16;
		b->peer.family = AF_INET;
		b->peer.port = ((struct sockaddr_in *)&h->u.peer)->sin_port;
		memcpy(b->peer.addr, &((struct sockaddr_in *)&h->u.peer)->sin_addr, 4);
	}
	pool_buf(h->pool, idx[1])->len = h->pool->data_size;	/* off + len > data_size */
	tx[0] = h->pool->nbufs + 7;
	tx[1] = idx[0];
	tx[2] = idx[1];
	tx[3] = idx[2];
	host_send_tx(h, tx, 4);
	/* The broken frame first (returned as found), then the two sent. */
	host_collect(h->comp, back, 3);
	assert_int_equal(back[0], idx[1]);
	assert_int_equal(back[1], idx[0]);
	assert_int_equal(back[2], idx[2]);
	assert_true(wait_fd(h->u.peer_fd, POLLIN, 3000));
	assert_int_equal(recv(h->u.peer_fd, buf, sizeof(buf), 0), 16);
	assert_int_equal(numbered(buf), 0);
	assert_int_equal(recv(h->u.peer_fd, buf, sizeof(buf), 0), 16);
	assert_int_equal(numbered(buf), 2);
	usleep(20000);
	assert_int_equal(recv(h->u.peer_fd, buf, sizeof(buf), MSG_DONTWAIT), -1);
	assert_int_equal(ring_dequeue_burst(h->comp, back, 3), 0);
	assert_int_equal(WEXITSTATUS(host_stop(h)), 0);
}

/* CPU time a process has run, in nanoseconds (/proc/PID/schedstat). */
static unsigned long long
proc_cpu_ns(pid_t pid)
{
	unsigned long long ns = 0;
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	assert_non_null(f = fopen(path, "r"));
	assert_int_equal(fscanf(f, "%llu", &ns), 1);
	fclose(f);
	return ns;
}

/* With nothing to do the driver sets driver_sleeping and uses no CPU. */
static void
test_host_idle_sleeps(void **state)
{
	struct host *h = *state;
	unsigned long long before;
	long long end;

	host_start(h, "", 0);
	host_lend(h, 32);
	end = cnw_now_ms() + 3000;
	while (!atomic_load(&h->port->driver_sleeping) && cnw_now_ms() < end)
		usleep(1000);
	assert_int_equal(atomic_load(&h->port->driver_sleeping), 1);
	before = proc_cpu_ns(h->pid);
	usleep(300000);
	/* Under a millisecond in 300: asleep, not spinning. */
	assert_true(proc_cpu_ns(h->pid) - before < 1000000);
	/* And a datagram still wakes it (the device, not a kick). */
	send_numbered(h->u.peer_fd, &h->u.drv, h->u.drv_len, 1, 1, 40);
	{
		uint32_t idx;

		host_collect(h->rx, &idx, 1);
		assert_int_equal(pool_buf(h->pool, idx)->len, 40);
	}
	assert_int_equal(WEXITSTATUS(host_stop(h)), 0);
}

/* Set-up without a region: the host says so and exits 1. */
static void
test_host_incomplete_setup_fails(void **state)
{
	struct host *h = *state;
	int status;

	host_fork(h);
	host_send_setup(h, "udp", "", 0);
	status = host_stop(h);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

/* Set-up messages that are not the driver's, or name an unknown driver, are refused. */
static void
test_host_setup_refuses(void **state)
{
	static struct msg m;
	struct hal_config c = { .port = 1 };

	memset(&m.hdr, 0, sizeof(m.hdr));
	m.fd = -1;
	m.hdr.type = MSG_API_LISTEN;
	assert_int_equal(role_driver_setup(-1, &m), -1);
	m.hdr.type = MSG_DRIVER_CONFIG;
	m.hdr.len = sizeof(c);
	snprintf(c.driver, sizeof(c.driver), "nosuch");
	memcpy(m.data, &c, sizeof(c));
	assert_int_equal(role_driver_setup(-1, &m), -1);
	snprintf(c.driver, sizeof(c.driver), "udp");
	c.port = PORT_MAX;
	memcpy(m.data, &c, sizeof(c));
	assert_int_equal(role_driver_setup(-1, &m), -1);
	m.hdr.type = MSG_DRIVER_DEVICE;	/* no descriptor */
	m.hdr.len = 0;
	assert_int_equal(role_driver_setup(-1, &m), -1);
}

/* Main --------------------------------------------------------------------- */

/* A network namespace of our own, with its loopback up. */
static void
enter_private_netns(void)
{
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "# unshare(CLONE_NEWNET): %s; tap tests skipped\n", strerror(errno));
		return;
	}
	in_private_netns = 1;
	if_up("lo");
}

int
main(void)
{
#define T(fn) cmocka_unit_test(fn)
#define TAP(fn) cmocka_unit_test_setup_teardown(fn, tap_setup, tap_teardown)
#define HOST(fn) cmocka_unit_test_setup_teardown(fn, host_setup, host_teardown)
	const struct CMUnitTest tests[] = {
		T(test_driver_table),
		T(test_args),
		T(test_udp_burst_in),
		T(test_udp_truncated_dropped),
		T(test_udp_burst_out),
		T(test_udp_unsendable_dropped),
		T(test_udp_ipv6_and_dual_stack),
		T(test_udp_refuses_other_descriptors),
		T(test_udp_link_event),
		TAP(test_tap_rx_from_socket),
		TAP(test_tap_ping_through),
		TAP(test_tap_bad_frames_dropped),
		T(test_tap_refuses_other_descriptors),
		HOST(test_host_rx_tx),
		HOST(test_host_sandboxed),
		HOST(test_host_tap_sandboxed),
		HOST(test_host_rx_backpressure),
		HOST(test_host_refuses_bad_tx),
		HOST(test_host_idle_sleeps),
		HOST(test_host_incomplete_setup_fails),
		T(test_host_setup_refuses),
	};

	log_init("test_hal", LOG_LVL_ERROR, 0);
	signal(SIGPIPE, SIG_IGN);
	enter_private_netns();
	return cmocka_run_group_tests_name("hal", tests, NULL, NULL);
}
