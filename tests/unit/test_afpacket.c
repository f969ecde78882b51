/*
 * The afpacket driver against a real veth pair (afp0, afp1; MTU 1500) in a
 * network namespace of the program's own (unshare at start; tests run as
 * root), so nothing touches the host and a failed test leaves nothing
 * behind: the namespace goes with the process.  The pair and a driver on
 * each end are made once for the group (setting a ring up and taking it
 * down cost the kernel some 100 ms a socket); each test starts with both
 * drivers drained, no datagram half reassembled, and counts from zero.
 *
 *   open     afpacket_open's geometry and argument string; interfaces it
 *            refuses (missing, not Ethernet); descriptors and arguments
 *            the driver's init refuses, leaving the descriptor open.
 *   data     datagrams both ways with the sender's MAC as their source;
 *            9000, 60000 and 65535 bytes cut into fragments (seen on the
 *            wire by a plain packet socket) and put together byte for
 *            byte; a burst of 64 in one call, in order.
 *   hostile  frames forged on a plain packet socket: every kind of bad
 *            fragment header, length or address is dropped and counted,
 *            and a good frame after them arrives; a frame padded to the
 *            Ethernet minimum is taken; datagrams larger than the buffer
 *            given are dropped.
 *   reasm    a datagram missing a fragment times out and frees its slot,
 *            not before; one whose fragments wait in the ring while the
 *            reader is late does not; a ninth datagram evicts the oldest.
 *   ring     block and frame headers in the rx ring made wrong (the ring
 *            mapped a second time, written before the driver walks it):
 *            the block is skipped and handed back, nothing read outside.
 *   tx       frames to broadcast, multicast or zero MACs or of another
 *            family are dropped, counted taken; a full tx ring (the
 *            interface down) stops the burst and the frames go once it is
 *            up; the interface deleted is fatal at link_event.
 *   sandbox  the driver echoing datagrams in a child under the driver
 *            role's real seccomp allowlist (a call outside it ends the
 *            child, naming it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
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
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "hal/afpacket.h"
#include "lib/log.h"
#include "lib/sandbox.h"
#include "tests/unit/fixture_frames.h"

#define IF_A "afp0"
#define IF_B "afp1"
#define MAC_A_STR "02:00:00:00:af:0a"
#define MAC_B_STR "02:00:00:00:af:0b"
/*
 * B, where most datagrams are reassembled, waits long for fragments, so a
 * test machine that stalls for a moment does not time out what a test
 * expects to find pending; A has the default, for the timeout's test.
 */
#define B_EXTRA ",speed=10000,reasm_ms=5000"
#define BURST 32
#define BIG_CAP (65536 + 64)
/* What a frame carries at MTU 1500 after both headers. */
#define ROOM (1500 - AFPACKET_FRAG_HDR_LEN)

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0xaf, 0x0a };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0xaf, 0x0b };

/* The two ends, made once for the group, and what a test leaves to its teardown. */
static struct pair {
	int fd[2];
	struct afpacket_geom g[2];
	struct hal_dev *dev[2];
	int raw[2];			/* forging frames out of afp0, afp1 */
	int sniff;			/* a copy of what reaches afp1 */
	pid_t child;
	int a_down;			/* a test set afp0 down */
	struct afpacket_counters base[2];	/* at the test's start */
} P;

#define A (P.dev[0])
#define B (P.dev[1])

static const struct hal_driver *const drv = &hal_driver_afpacket;

/* Helpers ------------------------------------------------------------------ */


static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Run a shell command (ip); its exit status. */
static int
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* Bytes no two datagrams of a test share: a number, then a pattern of it. */
static void
fill(uint8_t *p, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 131 + (i >> 8) + seed * 7);
	if (len >= 4) {
		uint32_t v = htonl(seed);

		memcpy(p, &v, 4);
	}
}

static void
check_fill(const uint8_t *p, uint32_t len, uint32_t seed)
{
	uint8_t *want = malloc(len ? len : 1);

	assert_non_null(want);
	fill(want, len, seed);
	assert_memory_equal(p, want, len);
	free(want);
}

/* A frame to send: len bytes of fill(seed) to mac. */
static void
frame_set(struct hal_frame *f, const uint8_t *mac, uint32_t len, uint32_t seed)
{
	assert_true(len <= f->cap);
	fill(f->data, len, seed);
	f->len = len;
	f->family = AF_PACKET;
	f->port = 0;
	memset(f->addr, 0, sizeof(f->addr));
	memcpy(f->addr, mac, 6);
}

/* Send all n, waiting for room as the host would (POLLOUT). */
static void
send_all(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	long long end = cnw_now_ms() + 1000;
	unsigned done = 0;

	while (done < n) {
		int r = drv->tx_burst(dev, f + done, n - done);
		struct pollfd p = { .fd = drv->pollfd(dev), .events = POLLOUT };

		assert_true(r >= 0);
		done += (unsigned)r;
		if (done < n) {
			assert_true(cnw_now_ms() < end);
			poll(&p, 1, 10);
		}
	}
}

/* Receive into f[0..want) within ms; how many came. */
static unsigned
recv_upto(struct hal_dev *dev, struct hal_frame *f, unsigned want, int ms)
{
	long long end = cnw_now_ms() + ms;
	unsigned have = 0;

	while (have < want && cnw_now_ms() < end) {
		struct pollfd p = { .fd = drv->pollfd(dev), .events = POLLIN };
		int r = drv->rx_burst(dev, f + have, want - have);

		assert_true(r >= 0);
		have += (unsigned)r;
		if (have < want && r == 0)
			poll(&p, 1, 5);
	}
	return have;
}

/* The driver's counters since the test began (frags_pending as it is). */
static void
counters(struct hal_dev *dev, struct afpacket_counters *c)
{
	const struct afpacket_counters *b = &P.base[dev == A ? 0 : 1];

	afpacket_counters(dev, c);
#define SINCE(field, what) c->field -= b->field;
	AFPACKET_COUNTERS(SINCE)
#undef SINCE
}

/* Run rx until the counter at off reaches want (frames that come are kept in f). */
static unsigned
rx_until(struct hal_dev *dev, struct hal_frame *f, unsigned n, size_t off, uint64_t want)
{
	long long end = cnw_now_ms() + 1000;
	struct afpacket_counters c;
	unsigned have = 0;

	for (;;) {
		counters(dev, &c);
		if (*(uint64_t *)((char *)&c + off) >= want || cnw_now_ms() >= end)
			break;
		have += recv_upto(dev, f + have, n - have, 5);
	}
	return have;
}

#define RX_UNTIL(dev, f, n, field, want) \
	rx_until(dev, f, n, offsetof(struct afpacket_counters, field), want)

static void
check_from(const struct hal_frame *f, const uint8_t *mac)
{
	uint8_t want[16] = { 0 };

	memcpy(want, mac, 6);
	assert_int_equal(f->family, AF_PACKET);
	assert_int_equal(f->port, 0);
	assert_memory_equal(f->addr, want, 16);
}

/* Fixture: the veth pair, a driver on each end --------------------------- */

static struct hal_dev *
drv_open(const char *ifname, struct afpacket_geom *g, int *fd, const char *extra)
{
	struct cnw_error err = { 0 };
	char args[160], msg[256] = "";
	struct hal_dev *dev;
	int n;

	*fd = afpacket_open(ifname, g, &err);
	if (*fd < 0)
		fail_msg("afpacket_open %s: %s", ifname, err.msg);
	n = afpacket_geom_args(g, args, sizeof(args));
	assert_true(n > 0);
	snprintf(args + n, sizeof(args) - (size_t)n, "%s", extra);
	dev = drv->init(*fd, args, msg, sizeof(msg));
	if (dev == NULL)
		fail_msg("init %s: %s", ifname, msg);
	return dev;
}

static void
pair_make(const char *a, const char *a_mac, const char *b, const char *b_mac)
{
	if (sh("ip link add %s mtu 1500 address %s type veth peer name %s mtu 1500 address %s"
	    " && ip link set %s up && ip link set %s up", a, a_mac, b, b_mac, a, b) != 0)
		fail_msg("could not make the veth pair %s, %s", a, b);
}

static int
group_setup(void **state)
{
	memset(&P, 0, sizeof(P));
	P.fd[0] = P.fd[1] = P.raw[0] = P.raw[1] = P.sniff = -1;
	pair_make(IF_A, MAC_A_STR, IF_B, MAC_B_STR);
	A = drv_open(IF_A, &P.g[0], &P.fd[0], "");
	B = drv_open(IF_B, &P.g[1], &P.fd[1], B_EXTRA);
	return 0;
}

static int
group_teardown(void **state)
{
	for (int i = 0; i < 2; i++)
		if (P.dev[i] != NULL)
			drv->cleanup(P.dev[i]);	/* closes fd[i] */
	for (int i = 0; i < 2; i++)
		if (P.raw[i] >= 0)
			close(P.raw[i]);
	sh("ip link del " IF_A " 2>/dev/null");
	return 0;
}

/* Take whatever is left on rx (nothing, when the test before passed). */
static void
drain(struct hal_dev *dev)
{
	static struct hal_frame f[BURST];
	static uint8_t buf[BURST][BIG_CAP];

	for (unsigned i = 0; i < BURST; i++) {
		f[i].data = buf[i];
		f[i].cap = BIG_CAP;
	}
	while (recv_upto(dev, f, BURST, 3) > 0)
		;
}

/*
 * Each test: both ends up and drained, no datagram half reassembled (each
 * test completes what it leaves), counts from zero.
 */
static int
test_setup(void **state)
{
	if (P.a_down) {
		assert_int_equal(sh("ip link set " IF_A " up"), 0);
		P.a_down = 0;
	}
	if (B == NULL)			/* the sandbox test took it and failed */
		B = drv_open(IF_B, &P.g[1], &P.fd[1], B_EXTRA);
	for (int i = 0; i < 2; i++) {
		drain(P.dev[i]);
		afpacket_counters(P.dev[i], &P.base[i]);
		assert_int_equal(P.base[i].frags_pending, 0);
	}
	return 0;
}

static int
test_teardown(void **state)
{
	if (P.child > 0) {
		kill(P.child, SIGKILL);
		waitpid(P.child, NULL, 0);
		P.child = 0;
	}
	if (P.sniff >= 0)
		close(P.sniff);
	P.sniff = -1;
	return 0;
}

/* A plain packet socket on ifname: bound for our ethertype (sniff) or for nothing (send). */
static int
plain_socket(const char *ifname, int sniff)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = sniff ? htons(AFPACKET_ETHERTYPE) : 0,
		.sll_ifindex = (int)if_nametoindex(ifname),
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, sll.sll_protocol);
	int big = 8 << 20;

	assert_true(s >= 0);
	/* Room for every frame of a test (some hundred, of up to 1514 bytes). */
	if (sniff)
		assert_int_equal(setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return s;
}

/* Forged frames ------------------------------------------------------------- */

struct forge {
	const uint8_t *dst, *src;
	uint8_t magic, flags, idx, count;
	uint32_t id;
	uint16_t total;
	uint32_t plen;			/* payload bytes after both headers */
	uint32_t pad_to;		/* frame length, if longer (padding) */
	uint32_t cut_to;		/* frame length, if shorter (truncated) */
};

/* A good fragment header for fragment idx of a datagram: its fields preset. */
static struct forge
forge_good(uint8_t idx, uint8_t count, uint32_t id, uint16_t total)
{
	uint32_t f = (total + count - 1u) / count;
	struct forge fg = {
		.dst = mac_b, .src = mac_a, .magic = AFPACKET_FRAG_MAGIC,
		.idx = idx, .count = count, .id = id, .total = total,
	};

	fg.plen = idx + 1u < count ? f : total - (count - 1u) * f;
	return fg;
}

/* Send fg (out of afp1 if it is for A, else afp0); the payload is fill(seed) at its offset. */
static void
forge_send(const struct forge *fg, uint32_t seed)
{
	static uint8_t frame[2048], whole[65536];
	uint32_t len = ETH_HLEN + AFPACKET_FRAG_HDR_LEN + fg->plen;
	uint32_t off = fg->count ? fg->idx * ((fg->total + fg->count - 1u) / fg->count) : 0;
	int out = memcmp(fg->dst, mac_a, 6) == 0;
	struct sockaddr_ll to = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(AFPACKET_ETHERTYPE),
		.sll_ifindex = (int)if_nametoindex(out ? IF_B : IF_A),
		.sll_halen = 6,
	};
	uint8_t *h = frame + ETH_HLEN;
	uint32_t id = htonl(fg->id);
	uint16_t total = htons(fg->total);

	if (P.raw[out] < 0)
		P.raw[out] = plain_socket(out ? IF_B : IF_A, 0);
	assert_true(len <= sizeof(frame) && fg->pad_to <= sizeof(frame));
	memset(frame, 0, sizeof(frame));
	memcpy(frame, fg->dst, 6);
	memcpy(frame + 6, fg->src, 6);
	frame[12] = AFPACKET_ETHERTYPE >> 8;
	frame[13] = AFPACKET_ETHERTYPE & 0xff;
	h[0] = fg->magic;
	h[1] = fg->flags;
	h[2] = fg->idx;
	h[3] = fg->count;
	memcpy(h + 4, &id, 4);
	memcpy(h + 8, &total, 2);
	fill(whole, sizeof(whole), seed);
	if (off + fg->plen <= sizeof(whole))
		memcpy(h + AFPACKET_FRAG_HDR_LEN, whole + off, fg->plen);
	if (fg->pad_to > len)
		len = fg->pad_to;
	if (fg->cut_to != 0)
		len = fg->cut_to;
	memcpy(to.sll_addr, fg->dst, 6);
	assert_int_equal(sendto(P.raw[out], frame, len, 0, (struct sockaddr *)&to, sizeof(to)),
	    (ssize_t)len);
}

/* open ---------------------------------------------------------------------- */

static void
test_open_geometry(void **state)
{
	const struct afpacket_geom *g = &P.g[0];
	struct cnw_error err = { 0 };
	struct afpacket_geom other;
	char args[128], want[128];
	struct hal_link l;

	assert_int_equal(g->mtu, 1500);
	assert_memory_equal(g->mac, mac_a, 6);
	assert_int_equal(g->ifindex, (int)if_nametoindex(IF_A));
	assert_int_equal(g->rx_block_size, 128 << 10);
	assert_int_equal(g->rx_block_nr, 64);
	assert_int_equal(g->tx_frame_size, 2048);
	assert_int_equal(g->tx_frame_nr, 512);
	assert_int_equal(g->tx_block_size * g->tx_block_nr, 2048 * 512);
	/* The argument string fits hal_config's 128 bytes with room for a speed. */
	assert_true(afpacket_geom_args(g, args, sizeof(args)) > 0);
	snprintf(want, sizeof(want), "mtu=1500,mac=" MAC_A_STR ",rxbs=131072,rxbn=64,"
	    "txbs=131072,txbn=8,txfs=2048,txfn=512");
	assert_string_equal(args, want);
	assert_true(strlen(args) + strlen(",speed=4294967295") < 128);
	assert_int_equal(afpacket_geom_args(g, args, 20), -1);

	assert_int_equal(drv->status(B, &l), 0);
	assert_int_equal(l.up, 1);
	assert_int_equal(l.mtu, 1500);
	assert_int_equal(l.speed_mbps, 10000);
	assert_int_equal(drv->pollfd(A), P.fd[0]);
	assert_string_equal(drv->name, "afpacket");
	assert_int_equal(drv->abi, HAL_DRIVER_ABI);

	assert_int_equal(afpacket_open("nosuch0", &other, &err), -1);
	assert_int_equal(err.kind, CNW_ENOENT);
	assert_int_equal(afpacket_open("lo", &other, &err), -1);
	assert_int_equal(err.kind, CNW_EINVAL);
	assert_non_null(strstr(err.msg, "Ethernet"));
}

/* init refuses, and leaves the descriptor to its caller. */
static void
test_init_refuses(void **state)
{
	static const char *const bad[] = {
		"",
		"mtu=1500",
		"colour=blue",
		"mtu=1000,mac=" MAC_A_STR ",rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512",
		"mtu=1500,mac=02:00:00:00:af,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512",
		"mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=500",
		"mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=1000,txfn=1048",
		"mtu=1500,rxbs=100000,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512",
		/* consistent, but not the socket's rings: mmap says so */
		"mtu=1500,rxbs=131072,rxbn=32,txbs=131072,txbn=8,txfs=2048,txfn=512",
		"mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512,,",
		"mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512,speed=x",
		"mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512,reasm_ms=0",
		"mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512,reasm_ms=60001",
	};
	struct afpacket_geom g;
	struct cnw_error e = { 0 };
	char err[256];
	int fd, s;

	fd = afpacket_open(IF_A, &g, &e);
	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (drv->init(fd, bad[i], err, sizeof(err)) != NULL)
			fail_msg("\"%s\" was accepted", bad[i]);
		assert_true(err[0] != '\0');
		assert_true(fcntl(fd, F_GETFD) >= 0);
	}
	/* Other descriptors: a UDP socket, a packet socket without rings. */
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_null(drv->init(s, "mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,"
	    "txfn=512", err, sizeof(err)));
	assert_non_null(strstr(err, "not a raw packet socket"));
	close(s);
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(AFPACKET_ETHERTYPE));
	assert_null(drv->init(s, "mtu=1500,rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,"
	    "txfn=512", err, sizeof(err)));
	assert_non_null(strstr(err, "TPACKET_V3"));
	close(s);
	/* The refusals did not spoil the socket: the right arguments still work. */
	assert_true(afpacket_geom_args(&g, err, sizeof(err)) > 0);
	{
		char msg[256];
		struct hal_dev *dev = drv->init(fd, err, msg, sizeof(msg));

		assert_non_null(dev);
		drv->cleanup(dev);
	}
}

/* data ---------------------------------------------------------------------- */

/* Small datagrams both ways, the largest that fits one frame among them. */
static void
test_small_both_ways(void **state)
{
	static const uint32_t sizes[] = { 1, 100, ROOM };
	struct hal_frame *tx = fixture_frames_new(3, 2048), *rx = fixture_frames_new(BURST, BIG_CAP);
	struct afpacket_counters c;

	for (unsigned i = 0; i < 3; i++)
		frame_set(&tx[i], mac_b, sizes[i], i);
	send_all(A, tx, 3);
	assert_int_equal(recv_upto(B, rx, 3, 500), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(rx[i].len, sizes[i]);
		check_fill(rx[i].data, sizes[i], i);
		check_from(&rx[i], mac_a);
	}
	for (unsigned i = 0; i < 2; i++)
		frame_set(&tx[i], mac_a, 64 + i, 10 + i);
	send_all(B, tx, 2);
	assert_int_equal(recv_upto(A, rx, 2, 500), 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(rx[i].len, 64 + i);
		check_fill(rx[i].data, 64 + i, 10 + i);
		check_from(&rx[i], mac_b);
	}
	assert_int_equal(recv_upto(A, rx, BURST, 10) + recv_upto(B, rx, BURST, 10), 0);
	counters(A, &c);
	assert_int_equal(c.tx_frames, 3);
	assert_int_equal(c.rx_frames, 2);
	counters(B, &c);
	assert_int_equal(c.rx_frames, 3);
	assert_int_equal(c.rx_dropped_bad, 0);
	assert_int_equal(c.frags_pending, 0);
	fixture_frames_free(tx, 3);
	fixture_frames_free(rx, BURST);
}

/*
 * Datagrams over the MTU are cut as afpacket.h says (seen on the wire) and
 * put together byte for byte; the largest there is crosses too.
 */
static void
test_fragmented(void **state)
{
	static const uint32_t sizes[] = { ROOM + 1, 9000, 60000, AFPACKET_DGRAM_MAX };
	const unsigned n = sizeof(sizes) / sizeof(sizes[0]);
	struct hal_frame *tx = fixture_frames_new(n, BIG_CAP), *rx = fixture_frames_new(n, BIG_CAP);
	unsigned frames = 0, want_frames = 0;
	uint8_t wire[2048];
	ssize_t r;

	P.sniff = plain_socket(IF_B, 1);
	for (unsigned i = 0; i < n; i++) {
		frame_set(&tx[i], mac_b, sizes[i], 100 + i);
		want_frames += (sizes[i] + ROOM - 1) / ROOM;
	}
	send_all(A, tx, n);
	assert_int_equal(recv_upto(B, rx, n, 1000), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(rx[i].len, sizes[i]);
		check_fill(rx[i].data, sizes[i], 100 + i);
		check_from(&rx[i], mac_a);
	}
	/* The wire: 2 + 7 + 41 + 44 frames; the 9000 bytes as 6 of 1286 and one of 1284. */
	while ((r = recv(P.sniff, wire, sizeof(wire), 0)) > 0) {
		const uint8_t *h = wire + ETH_HLEN;

		assert_true(r >= ETH_HLEN + AFPACKET_FRAG_HDR_LEN);
		assert_int_equal(h[0], AFPACKET_FRAG_MAGIC);
		assert_int_equal(h[1], 0);
		if ((h[8] << 8 | h[9]) == 9000) {
			assert_int_equal(h[3], 7);
			assert_int_equal(r - ETH_HLEN - AFPACKET_FRAG_HDR_LEN, h[2] < 6 ? 1286 : 1284);
		}
		assert_true(r <= ETH_HLEN + 1500);
		frames++;
	}
	assert_int_equal(frames, want_frames);
	assert_int_equal(frames, 2 + 7 + 41 + 44);
	/* And back the other way. */
	frame_set(&tx[0], mac_a, 60000, 200);
	send_all(B, tx, 1);
	assert_int_equal(recv_upto(A, rx, 1, 1000), 1);
	assert_int_equal(rx[0].len, 60000);
	check_fill(rx[0].data, 60000, 200);
	check_from(&rx[0], mac_b);
	fixture_frames_free(tx, n);
	fixture_frames_free(rx, n);
}

/* 64 datagrams in one tx call, some of them fragmented, arrive in order. */
static void
test_burst_64(void **state)
{
	const unsigned n = 64;
	struct hal_frame *tx = fixture_frames_new(n, 4096), *rx = fixture_frames_new(n, BIG_CAP);
	struct afpacket_counters c;

	for (unsigned i = 0; i < n; i++)
		frame_set(&tx[i], mac_b, 60 + i * 53, 1000 + i);	/* 60 .. 3399 bytes */
	assert_int_equal(drv->tx_burst(A, tx, n), (int)n);
	assert_int_equal(recv_upto(B, rx, n, 1000), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(rx[i].len, 60 + i * 53);
		check_fill(rx[i].data, rx[i].len, 1000 + i);
	}
	counters(B, &c);
	assert_int_equal(c.rx_frames, n);
	assert_int_equal(c.frags_pending, 0);
	fixture_frames_free(tx, n);
	fixture_frames_free(rx, n);
}

/* hostile ------------------------------------------------------------------- */

/*
 * Every kind of bad frame is dropped and counted, none crashes or reads
 * outside its frame (run it under ASan), and a good frame after them all
 * still arrives.
 */
static void
test_hostile_frames(void **state)
{
	/* Each of these is dropped as bad: a fragment header, length or source no sender makes. */
	static const struct bad_frame {
		const char *what;
		uint8_t idx, count;
		uint16_t total;
		enum { BAD_NONE, BAD_MAGIC, BAD_FLAGS, BAD_COUNT, BAD_INDEX, BAD_TOTAL, BAD_PLEN,
		    BAD_CUT, BAD_SRC } how;
		uint32_t v;
	} bad[] = {
		{ "another magic", 0, 1, 100, BAD_MAGIC, 0xC2 },
		{ "a flag set", 0, 1, 100, BAD_FLAGS, 0x80 },
		{ "count 0", 0, 1, 100, BAD_COUNT, 0 },
		{ "count over the most", 0, 65, 65000, BAD_NONE, 0 },
		{ "index >= count", 0, 2, 2900, BAD_INDEX, 2 },
		{ "total < count", 0, 2, 2900, BAD_TOTAL, 1 },
		{ "5 bytes in 4 (no sender cuts so)", 0, 4, 5, BAD_NONE, 0 },
		{ "a byte short", 0, 1, 100, BAD_PLEN, 99 },
		{ "a byte long", 0, 1, 100, BAD_PLEN, 101 },
		{ "not its index's length", 0, 2, 2900, BAD_PLEN, 1000 },
		{ "the last a byte short", 1, 2, 2900, BAD_PLEN, 1449 },
		{ "a total it does not carry", 0, 1, 65535, BAD_PLEN, 1000 },
		{ "long, and too long to be padding", 0, 1, 10, BAD_PLEN, 50 },
		{ "cut in the fragment header", 0, 1, 100, BAD_CUT, ETH_HLEN + 5 },
		{ "the Ethernet header alone", 0, 1, 100, BAD_CUT, ETH_HLEN },
		{ "a multicast source", 0, 1, 100, BAD_SRC, 1 },
		{ "a zero source", 0, 1, 100, BAD_SRC, 0 },
	};
	static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t zero[6] = { 0 };
	static const uint8_t stranger[6] = { 0x02, 0, 0, 0, 0, 0x99 };
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct hal_frame *rx = fixture_frames_new(BURST, BIG_CAP);
	unsigned nbad = sizeof(bad) / sizeof(bad[0]);
	struct afpacket_counters c;
	struct forge fg;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_frame *b = &bad[i];
		uint32_t id = 1 + (uint32_t)i;

		fg = forge_good(b->idx, b->count, id, b->total);
		switch (b->how) {
		case BAD_MAGIC: fg.magic = (uint8_t)b->v; break;
		case BAD_FLAGS: fg.flags = (uint8_t)b->v; break;
		case BAD_COUNT: fg.count = (uint8_t)b->v; break;
		case BAD_INDEX: fg.idx = (uint8_t)b->v; break;
		case BAD_TOTAL: fg.total = (uint16_t)b->v; break;
		case BAD_PLEN: fg.plen = b->v; break;
		case BAD_CUT: fg.cut_to = b->v; break;
		case BAD_SRC: fg.src = b->v ? mcast : zero; break;
		case BAD_NONE: break;
		}
		forge_send(&fg, id);
		RX_UNTIL(B, rx, BURST, rx_dropped_bad, i + 1);
		counters(B, &c);
		if (c.rx_dropped_bad != i + 1 || c.rx_frames != 0 || c.frags_pending != 0)
			fail_msg("%s: not dropped as bad", b->what);
	}
	/* One datagram, two stories of its size: the second fragment is refused. */
	fg = forge_good(0, 2, 18, 2900);
	forge_send(&fg, 18);
	fg = forge_good(1, 2, 18, 2902);
	forge_send(&fg, 18);
	nbad++;
	/* A fragment twice. */
	fg = forge_good(0, 2, 19, 2900);
	forge_send(&fg, 19);
	forge_send(&fg, 19);
	/* Not addressed to us: another host's (seen on a veth), broadcast. */
	fg = forge_good(0, 1, 20, 100);
	fg.dst = stranger;
	forge_send(&fg, 20);
	fg.dst = bcast;
	forge_send(&fg, 20);
	/* Good: a short one padded to the Ethernet minimum, then a plain one. */
	fg = forge_good(0, 1, 22, 10);
	fg.pad_to = ETH_ZLEN;
	forge_send(&fg, 22);
	fg = forge_good(0, 1, 23, 500);
	forge_send(&fg, 23);

	assert_int_equal(RX_UNTIL(B, rx, BURST, rx_frames, 2), 2);
	assert_int_equal(rx[0].len, 10);
	check_fill(rx[0].data, 10, 22);
	check_from(&rx[0], mac_a);
	assert_int_equal(rx[1].len, 500);
	check_fill(rx[1].data, 500, 23);
	counters(B, &c);
	assert_int_equal(c.rx_dropped_bad, nbad);
	assert_int_equal(c.rx_dropped_dup, 1);
	assert_int_equal(c.rx_dropped_other, 2);
	assert_int_equal(c.rx_truncated, 0);
	assert_int_equal(c.rx_ring_bad, 0);
	assert_int_equal(c.frags_pending, 2);	/* ids 18 and 19, each one short */
	/* Their right second fragments complete them, unspoilt by the refused ones. */
	fg = forge_good(1, 2, 18, 2900);
	forge_send(&fg, 18);
	fg = forge_good(1, 2, 19, 2900);
	forge_send(&fg, 19);
	assert_int_equal(RX_UNTIL(B, rx, BURST, rx_frames, 4), 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(rx[i].len, 2900);
		check_fill(rx[i].data, 2900, 18 + i);
	}
	/* The driver's own traffic is unharmed. */
	frame_set(&rx[0], mac_b, 3000, 24);
	send_all(A, rx, 1);
	assert_int_equal(recv_upto(B, rx + 1, 1, 500), 1);
	check_fill(rx[1].data, 3000, 24);
	counters(B, &c);
	assert_int_equal(c.frags_pending, 0);
	assert_int_equal(c.rx_dropped_bad, nbad);
	fixture_frames_free(rx, BURST);
}

/* A datagram larger than the buffer rx is given is dropped whole, never cut. */
static void
test_oversize_dropped(void **state)
{
	struct hal_frame *tx = fixture_frames_new(3, BIG_CAP), *rx = fixture_frames_new(BURST, 1024);
	struct afpacket_counters c;

	frame_set(&tx[0], mac_b, 1400, 1);	/* one frame, over the 1024 given */
	frame_set(&tx[1], mac_b, 9000, 2);	/* fragments */
	frame_set(&tx[2], mac_b, 1024, 3);	/* just fits */
	send_all(A, tx, 3);
	assert_int_equal(RX_UNTIL(B, rx, BURST, rx_frames, 1), 1);
	assert_int_equal(rx[0].len, 1024);
	check_fill(rx[0].data, 1024, 3);
	counters(B, &c);
	assert_int_equal(c.rx_dropped_big, 2);
	assert_int_equal(c.frags_pending, 0);	/* the slot was freed */
	fixture_frames_free(tx, 3);
	fixture_frames_free(rx, BURST);
}

/* reasm --------------------------------------------------------------------- */

/* Fragment idx of a datagram for A, from B. */
static struct forge
forge_to_a(uint8_t idx, uint8_t count, uint32_t id, uint16_t total)
{
	struct forge fg = forge_good(idx, count, id, total);

	fg.dst = mac_a;
	fg.src = mac_b;
	return fg;
}

/*
 * A datagram missing a fragment gives up its slot after the timeout (A's:
 * the default 100 ms), not before; a whole set after it still completes,
 * and so does one whose fragments we were slow to read.
 */
static void
test_reasm_timeout(void **state)
{
	struct hal_frame *rx = fixture_frames_new(BURST, BIG_CAP);
	struct afpacket_counters c;
	long long sent = cnw_now_ms();
	struct forge fg;

	for (uint8_t i = 0; i < 4; i++) {
		if (i == 2)
			continue;
		fg = forge_to_a(i, 4, 500, 4000);
		forge_send(&fg, 500);
	}
	RX_UNTIL(A, rx, BURST, frags_pending, 1);
	recv_upto(A, rx, BURST, 10);		/* all three taken */
	counters(A, &c);
	/* Not timed out yet, unless this machine stalled us for most of the timeout. */
	if (cnw_now_ms() - sent < 80) {
		assert_int_equal(c.frags_pending, 1);
		assert_int_equal(c.frags_timeout, 0);
	} else {
		fprintf(stderr, "# slow: %lld ms to take three fragments; "
		    "not checking the early side\n", cnw_now_ms() - sent);
	}
	usleep(120 * 1000);
	assert_int_equal(drv->rx_burst(A, rx, BURST), 0);
	counters(A, &c);
	assert_int_equal(c.frags_timeout, 1);
	assert_int_equal(c.frags_pending, 0);
	assert_int_equal(c.rx_frames, 0);
	/* A whole set, out of order, still completes. */
	for (int i = 3; i >= 0; i--) {
		fg = forge_to_a((uint8_t)i, 4, 501, 4000);
		forge_send(&fg, 501);
	}
	assert_int_equal(RX_UNTIL(A, rx, BURST, rx_frames, 1), 1);
	assert_int_equal(rx[0].len, 4000);
	check_fill(rx[0].data, 4000, 501);
	check_from(&rx[0], mac_b);
	/*
	 * We are late, not the fragments: they wait in the ring while we do
	 * not read it for longer than the timeout, and still complete.
	 */
	fg = forge_to_a(0, 4, 502, 4000);
	forge_send(&fg, 502);
	RX_UNTIL(A, rx, BURST, frags_pending, 1);
	for (uint8_t i = 1; i < 4; i++) {
		fg = forge_to_a(i, 4, 502, 4000);
		forge_send(&fg, 502);
	}
	usleep(150 * 1000);
	assert_int_equal(drv->rx_burst(A, rx, BURST), 1);
	check_fill(rx[0].data, 4000, 502);
	counters(A, &c);
	assert_int_equal(c.frags_timeout, 1);
	assert_int_equal(c.frags_pending, 0);
	fixture_frames_free(rx, BURST);
}

/* A ninth datagram in progress evicts the oldest. */
static void
test_reasm_eviction(void **state)
{
	struct hal_frame *rx = fixture_frames_new(BURST, BIG_CAP);
	struct afpacket_counters c;
	struct forge fg;

	for (uint32_t id = 600; id < 609; id++) {
		fg = forge_good(0, 2, id, 2900);
		forge_send(&fg, id);
		if (id == 600)
			RX_UNTIL(B, rx, BURST, frags_pending, 1);	/* so that 600 is the oldest */
	}
	RX_UNTIL(B, rx, BURST, frags_evicted, 1);
	counters(B, &c);
	assert_int_equal(c.frags_evicted, 1);
	assert_int_equal(c.frags_pending, 8);
	/* 601 is still there: its second fragment completes it. */
	fg = forge_good(1, 2, 601, 2900);
	forge_send(&fg, 601);
	assert_int_equal(RX_UNTIL(B, rx, BURST, rx_frames, 1), 1);
	assert_int_equal(rx[0].len, 2900);
	check_fill(rx[0].data, 2900, 601);
	/* 600 is not: its second fragment starts a slot of its own and completes nothing. */
	fg = forge_good(1, 2, 600, 2900);
	forge_send(&fg, 600);
	RX_UNTIL(B, rx, BURST, frags_pending, 8);
	assert_int_equal(recv_upto(B, rx, BURST, 20), 0);
	counters(B, &c);
	assert_int_equal(c.rx_frames, 1);
	assert_int_equal(c.frags_evicted, 1);
	assert_int_equal(c.frags_pending, 8);
	/* The first fragments of the rest complete them all. */
	for (uint32_t id = 600; id < 609; id++) {
		if (id == 601)
			continue;
		fg = forge_good(id == 600 ? 0 : 1, 2, id, 2900);
		forge_send(&fg, id);
	}
	assert_int_equal(RX_UNTIL(B, rx, BURST, rx_frames, 9), 8);
	for (unsigned i = 0; i < 8; i++)
		check_fill(rx[i].data, 2900, 600 + i + (i > 0));
	counters(B, &c);
	assert_int_equal(c.frags_pending, 0);
	assert_int_equal(c.frags_evicted, 1);
	fixture_frames_free(rx, BURST);
}

/* ring ---------------------------------------------------------------------- */

/*
 * Send one datagram to B and find the block it lands in once the kernel
 * hands it over (the driver walks nothing until rx_burst is called).
 */
static struct tpacket_block_desc *
ring_block(uint8_t *ring, uint32_t seed)
{
	const struct afpacket_geom *g = &P.g[1];
	struct hal_frame *tx = fixture_frames_new(1, 512);
	long long end = cnw_now_ms() + 500;

	frame_set(&tx[0], mac_b, 200, seed);
	send_all(A, tx, 1);
	fixture_frames_free(tx, 1);
	while (cnw_now_ms() < end) {
		for (uint32_t b = 0; b < g->rx_block_nr; b++) {
			struct tpacket_block_desc *bd =
			    (void *)(ring + (size_t)b * g->rx_block_size);

			if ((__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) &
			    TP_STATUS_USER) && bd->hdr.bh1.num_pkts > 0)
				return bd;
		}
		usleep(500);
	}
	fail_msg("no block was handed over");
	return NULL;
}

static struct tpacket3_hdr *
ring_first(struct tpacket_block_desc *bd)
{
	return (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
}

enum ring_harm {
	HARM_BLK_LEN,			/* the block longer than a block */
	HARM_FIRST,			/* the first frame past the block's end */
	HARM_FIRST_ODD,			/* the first frame misaligned */
	HARM_MAC_FAR,			/* the frame's data past the block's end */
	HARM_MAC_NEAR,			/* the frame's data over its own header */
	HARM_SNAPLEN,			/* more bytes than the block has */
	/* The first frame good, then: */
	HARM_NEXT_FAR,			/* a second frame past the block's end */
	HARM_NUM_PKTS,			/* frames that are not there */
	HARM_MAX
};

static void
ring_harm(struct tpacket_block_desc *bd, enum ring_harm h, uint32_t bs)
{
	struct tpacket3_hdr *t = ring_first(bd);

	switch (h) {
	case HARM_BLK_LEN:
		bd->hdr.bh1.blk_len = bs + 1;
		break;
	case HARM_FIRST:
		bd->hdr.bh1.offset_to_first_pkt = bs - 8;
		break;
	case HARM_FIRST_ODD:
		bd->hdr.bh1.offset_to_first_pkt += 1;
		break;
	case HARM_MAC_FAR:
		t->tp_mac = 0xfff0;
		break;
	case HARM_MAC_NEAR:
		t->tp_mac = 8;
		break;
	case HARM_SNAPLEN:
		t->tp_snaplen = 0x7fffffff;
		t->tp_len = 0x7fffffff;
		break;
	case HARM_NEXT_FAR:
		bd->hdr.bh1.num_pkts = 2;
		t->tp_next_offset = bs;
		break;
	case HARM_NUM_PKTS:
		bd->hdr.bh1.num_pkts = 1000;
		break;
	case HARM_MAX:
		break;
	}
}

static void
test_ring_corrupt(void **state)
{
	const struct afpacket_geom *g = &P.g[1];
	size_t len = (size_t)g->rx_block_size * g->rx_block_nr +
	    (size_t)g->tx_block_size * g->tx_block_nr;
	struct hal_frame *rx = fixture_frames_new(BURST, BIG_CAP);
	struct afpacket_counters c;
	uint8_t *ring;

	ring = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, P.fd[1], 0);
	assert_true(ring != MAP_FAILED);
	for (int h = 0; h < HARM_MAX; h++) {
		struct tpacket_block_desc *bd = ring_block(ring, 700 + (uint32_t)h);
		int got;

		ring_harm(bd, (enum ring_harm)h, g->rx_block_size);
		got = drv->rx_burst(B, rx, BURST);
		/* Only a good first frame gets out, and then the block is given up. */
		if (got != (h == HARM_NEXT_FAR || h == HARM_NUM_PKTS))
			fail_msg("harm %d: %d datagrams came out", h, got);
		if (got == 1)
			check_fill(rx[0].data, 200, 700 + (uint32_t)h);
		counters(B, &c);
		if (c.rx_ring_bad != (uint64_t)h + 1)
			fail_msg("harm %d: %llu blocks counted bad", h,
			    (unsigned long long)c.rx_ring_bad);
		/* Handed back: the kernel may fill it again. */
		assert_int_equal(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE),
		    TP_STATUS_KERNEL);
	}
	/* Blocks after them are walked as ever. */
	frame_set(&rx[0], mac_b, 9000, 799);
	send_all(A, rx, 1);
	assert_int_equal(recv_upto(B, rx + 1, 1, 500), 1);
	check_fill(rx[1].data, 9000, 799);
	counters(B, &c);
	assert_int_equal(c.rx_frames, 3);
	assert_int_equal(c.rx_dropped_bad, 0);
	munmap(ring, len);
	fixture_frames_free(rx, BURST);
}

/* tx ------------------------------------------------------------------------ */

/* Frames the driver cannot send are dropped, counted taken; the good one goes. */
static void
test_tx_drops(void **state)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t mcast4[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint8_t mcast6[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	static const uint8_t zero[6] = { 0 };
	struct hal_frame *tx = fixture_frames_new(8, BIG_CAP), *rx = fixture_frames_new(BURST, BIG_CAP);
	struct afpacket_counters c;

	frame_set(&tx[0], mac_b, 100, 1);
	tx[0].family = AF_INET;
	frame_set(&tx[1], mac_b, 100, 2);
	tx[1].family = 0;
	frame_set(&tx[2], bcast, 100, 3);
	frame_set(&tx[3], mcast4, 100, 4);
	frame_set(&tx[4], mcast6, 100, 5);
	frame_set(&tx[5], zero, 100, 6);
	frame_set(&tx[6], mac_b, 0, 7);
	frame_set(&tx[7], mac_b, 100, 8);
	assert_int_equal(drv->tx_burst(A, tx, 8), 8);
	tx[0].len = AFPACKET_DGRAM_MAX + 1;
	tx[0].family = AF_PACKET;
	assert_int_equal(drv->tx_burst(A, tx, 1), 1);
	counters(A, &c);
	assert_int_equal(c.tx_dropped, 6);
	assert_int_equal(c.tx_dropped_big, 2);
	assert_int_equal(c.tx_frames, 1);
	assert_int_equal(recv_upto(B, rx, BURST, 50), 1);
	check_fill(rx[0].data, 100, 8);
	fixture_frames_free(tx, 8);
	fixture_frames_free(rx, BURST);
}

/*
 * With the interface down the kernel takes nothing: the ring fills, the
 * burst stops there, and the device's error is a link event, not fatal.
 * Up again, the next call kicks the waiting frames out, and every
 * datagram arrives once, in order.
 */
static void
test_tx_ring_full(void **state)
{
	const unsigned n = 600;
	struct hal_frame *tx = fixture_frames_new(n, 128), *rx = fixture_frames_new(BURST, BIG_CAP);
	struct afpacket_counters c;
	struct pollfd p = { .fd = P.fd[0], .events = POLLIN };
	struct hal_link l;
	unsigned got = 0;
	int r;

	for (unsigned i = 0; i < n; i++)
		frame_set(&tx[i], mac_b, 100, i);
	assert_int_equal(sh("ip link set " IF_A " down"), 0);
	P.a_down = 1;
	r = drv->tx_burst(A, tx, n);
	assert_int_equal(r, 512);
	assert_int_equal(drv->tx_burst(A, tx + r, n - (unsigned)r), 0);
	counters(A, &c);
	assert_true(c.tx_ring_full >= 1);
	assert_true(c.tx_kick_errors >= 1);
	assert_int_equal(poll(&p, 1, 100), 1);
	assert_true(p.revents & POLLERR);
	assert_int_equal(drv->link_event(A, &l), 0);
	assert_int_equal(l.up, 1);
	assert_int_equal(poll(&p, 1, 0), 0);	/* the error was read */
	assert_int_equal(sh("ip link set " IF_A " up"), 0);
	P.a_down = 0;
	send_all(A, tx + r, n - (unsigned)r);
	while (got < n) {
		unsigned k = recv_upto(B, rx, n - got < BURST ? n - got : BURST, 500);

		assert_true(k > 0);
		for (unsigned i = 0; i < k; i++, got++)
			check_fill(rx[i].data, 100, got);
	}
	assert_int_equal(recv_upto(B, rx, BURST, 20), 0);
	fixture_frames_free(tx, n);
	fixture_frames_free(rx, BURST);
}

/* The interface deleted under the driver (a pair of its own): link_event says it is fatal. */
static void
test_link_gone(void **state)
{
	struct afpacket_geom g;
	struct hal_link l;
	struct hal_dev *dev;
	struct pollfd p = { .events = POLLIN };

	pair_make("afp2", "02:00:00:00:af:0c", "afp3", "02:00:00:00:af:0d");
	dev = drv_open("afp2", &g, &p.fd, "");
	assert_int_equal(drv->link_event(dev, &l), 0);	/* nothing wrong yet */
	assert_int_equal(l.up, 1);
	assert_int_equal(sh("ip link del afp2"), 0);
	assert_int_equal(poll(&p, 1, 500), 1);
	assert_true(p.revents & POLLERR);
	assert_int_equal(drv->link_event(dev, &l), -1);
	assert_int_equal(l.up, 0);
	drv->cleanup(dev);
}

/* sandbox ------------------------------------------------------------------- */

/* A call outside the allowlist: say which, and exit 99. */
static void
child_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[] = "test_afpacket: driver made system call 000, not in its allowlist\n";
	unsigned nr = (unsigned)si->si_syscall;
	char *d = strstr(msg, "000");

	d[0] = (char)('0' + nr / 100 % 10);
	d[1] = (char)('0' + nr / 10 % 10);
	d[2] = (char)('0' + nr % 10);
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(99);
}

/*
 * The child: the driver role's sandbox, then the driver on fd, echoing
 * what it receives to where it came from until it has echoed want.  No
 * cmocka here: exit codes say what failed.
 */
static void __attribute__((noreturn))
child_echo(int fd, const char *args, unsigned want)
{
	struct sigaction sa = { .sa_sigaction = child_sigsys, .sa_flags = SA_SIGINFO };
	struct cnw_error err = { 0 };
	static struct hal_frame f[BURST];
	char msg[256];
	struct hal_dev *dev;
	unsigned echoed = 0;
	long long end;
	size_t len = 0;
	void *prog = NULL;

	log_init("driver", LOG_LVL_WARNING, 0);
	if (sandbox_filter_build(sandbox_policy_find("driver"), getpid(), &prog, &len, &err) < 0)
		_exit(5);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	sandbox_enter(prog, len, NULL);
	free(prog);
	for (unsigned i = 0; i < BURST; i++) {
		if ((f[i].data = malloc(BIG_CAP)) == NULL)
			_exit(6);
		f[i].cap = BIG_CAP;
	}
	if ((dev = drv->init(fd, args, msg, sizeof(msg))) == NULL) {
		fprintf(stderr, "test_afpacket: sandboxed init: %s\n", msg);
		_exit(7);
	}
	end = cnw_now_ms() + 2000;
	while (echoed < want && cnw_now_ms() < end) {
		struct pollfd p = { .fd = drv->pollfd(dev), .events = POLLIN };
		int got, sent = 0;

		poll(&p, 1, 10);
		if ((got = drv->rx_burst(dev, f, BURST)) < 0)
			_exit(8);
		while (sent < got) {
			int r = drv->tx_burst(dev, f + sent, (unsigned)(got - sent));

			if (r < 0)
				_exit(9);
			sent += r;
		}
		echoed += (unsigned)got;
	}
	drv->cleanup(dev);
	_exit(echoed == want ? 0 : 10);
}

static void
test_sandboxed_echo(void **state)
{
	static const uint32_t sizes[] = { 100, 9000, 60000 };
	const unsigned n = sizeof(sizes) / sizeof(sizes[0]);
	struct hal_frame *tx = fixture_frames_new(n, BIG_CAP), *rx = fixture_frames_new(n, BIG_CAP);
	struct cnw_error err = { 0 };
	struct sandbox_state st;
	char args[160];
	int fd, status;

	if (sandbox_policy_find("driver") == NULL)
		skip();
	/* A fresh socket for B, as the parent opens one per driver start. */
	drv->cleanup(B);
	B = NULL;
	fd = afpacket_open(IF_B, &P.g[1], &err);
	assert_true(fd >= 0);
	assert_true(afpacket_geom_args(&P.g[1], args, sizeof(args)) > 0);
	P.child = fork();
	assert_true(P.child >= 0);
	if (P.child == 0)
		child_echo(fd, args, n);
	close(fd);
	for (long long end = cnw_now_ms() + 1000;; usleep(1000)) {
		assert_int_equal(sandbox_read_state(P.child, &st), 0);
		if (st.seccomp == 2 || cnw_now_ms() >= end)
			break;
	}
	assert_int_equal(st.seccomp, 2);
	assert_int_equal(st.cap_eff, 0);
	for (unsigned i = 0; i < n; i++)
		frame_set(&tx[i], mac_b, sizes[i], 300 + i);
	send_all(A, tx, n);
	assert_int_equal(recv_upto(A, rx, n, 2000), n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(rx[i].len, sizes[i]);
		check_fill(rx[i].data, sizes[i], 300 + i);
		check_from(&rx[i], mac_b);
	}
	assert_int_equal(waitpid(P.child, &status, 0), P.child);
	P.child = 0;
	if (WIFSIGNALED(status))
		fail_msg("the sandboxed driver died of signal %d", WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	B = drv_open(IF_B, &P.g[1], &P.fd[1], B_EXTRA);
	fixture_frames_free(tx, n);
	fixture_frames_free(rx, n);
}

/* Main --------------------------------------------------------------------- */

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, test_setup, test_teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_geometry),
		T(test_init_refuses),
		T(test_small_both_ways),
		T(test_fragmented),
		T(test_burst_64),
		T(test_hostile_frames),
		T(test_oversize_dropped),
		T(test_reasm_timeout),
		T(test_reasm_eviction),
		T(test_ring_corrupt),
		T(test_tx_drops),
		T(test_tx_ring_full),
		T(test_link_gone),
		T(test_sandboxed_echo),
	};

	log_init("test_afpacket", LOG_LVL_ERROR, 0);
	signal(SIGPIPE, SIG_IGN);
	/* A namespace of our own: the veth pair goes with the process, whatever happens. */
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "# unshare(CLONE_NEWNET): %s; skipped (needs root)\n",
		    strerror(errno));
		return 77;
	}
	return cmocka_run_group_tests_name("afpacket", tests, group_setup, group_teardown);
}
