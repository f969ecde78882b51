/*
 * The afpacket driver (see afpacket.h): the overlay in Ethernet frames on
 * a host interface, through the TPACKET_V3 rings of a packet socket the
 * parent opened (hal/afpacket_open.c).
 *
 * Both rings are one mapping shared with the kernel, rx first (packet(7)).
 * Receiving reads blocks the kernel has handed over (TP_STATUS_USER) and
 * hands each back once walked: no system call at all.  Sending writes
 * frames into free tx slots, marks them TP_STATUS_SEND_REQUEST and makes
 * one sendto() for the whole burst, which the kernel answers by sending
 * every requested slot.  The socket is the pollfd: the kernel raises
 * POLLIN when a block is handed over and POLLOUT when its next tx slot is
 * free.
 *
 * The kernel is trusted, but what it wrote in the ring is still checked
 * before use (a block's lengths against the block, a frame's offsets and
 * lengths against the block's): a bug there costs a block, not a wild
 * read.  What the peer wrote, the fragment header, is not trusted at all;
 * every way it can be wrong is a counted drop.
 *
 * Datagrams larger than a frame are fragmented here (afpacket.h has the
 * header and the rule) and reassembled in a small table: AFP_SLOTS
 * datagrams at once, keyed by source MAC and datagram id, each in its own
 * buffer allocated at init, given up after AFP_REASM_MS (or when a newer
 * datagram needs the slot, oldest first).  A lost fragment costs its
 * datagram, as with IP fragments; the fast path's payload (tenant TCP)
 * recovers.  Time is judged only once the ring is drained: a datagram
 * times out when its missing fragments are nowhere, not because this
 * process was late to read them.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hal/afpacket.h"
#include "hal/host.h"
#include "lib/log.h"
#include "lib/util.h"

/* Datagrams reassembled at once. */
#define AFP_SLOTS 8
/* How long a datagram may wait for its fragments, unless "reasm_ms" says. */
#define AFP_REASM_MS 100
#define AFP_REASM_MS_MAX 60000
/* In a slot (tx) or rx frame: the slot header, then sockaddr_ll (rx) or the frame (tx). */
#define AFP_SLOT_HDR TPACKET_ALIGN(sizeof(struct tpacket3_hdr))
/*
 * Frames in an rx block follow each other at this alignment (the kernel's
 * V3_ALIGNMENT, not exported; TPACKET_ALIGNMENT is the slot header's).
 */
#define AFP_RX_ALIGN 8
/* Both headers in front of a fragment's bytes. */
#define AFP_HDRS (ETH_HLEN + AFPACKET_FRAG_HDR_LEN)
/* Frames looked at per datagram asked for: enough for the most fragmented. */
#define AFP_RX_BUDGET_PER_FRAME AFPACKET_FRAG_MAX
/* Bounds on what the arguments may ask us to map. */
#define AFP_RING_MAX (1u << 30)
#define AFP_COUNT_MAX 65536

/* A fragment header, checked (afp_rx_fragment), and where its bytes are. */
struct afp_frag {
	uint32_t idx, count, id, total;
	uint32_t fsize;			/* bytes in every fragment but the last */
	uint32_t flen;			/* in this one */
	const uint8_t *data;
};

struct afp_slot {
	int used;
	uint8_t mac[6];
	uint32_t id;
	uint32_t total;			/* the datagram's length */
	uint32_t count;			/* its fragments */
	uint32_t fsize;			/* bytes in every fragment but the last */
	uint64_t have;			/* fragments received, one bit each */
	uint32_t nhave;
	uint64_t started_ns;		/* first fragment, CLOCK_MONOTONIC */
	uint8_t *buf;			/* AFPACKET_DGRAM_MAX bytes */
};

struct hal_dev {
	int fd;
	int ifindex;
	uint8_t mac[6];			/* ours: the source of what we send */
	uint32_t mtu;
	uint64_t speed_mbps;
	uint8_t *map;			/* both rings */
	size_t maplen;

	/* Receive: the block we are at, and where in it when it is ours. */
	uint8_t *rx;
	uint32_t rx_bs, rx_bn;
	uint32_t rx_cur;
	int rx_open;
	uint32_t rx_left, rx_off, rx_lim;

	/* Transmit: slot geometry, our next slot, the room per fragment. */
	uint8_t *tx;
	uint32_t tx_bs, tx_fs, tx_fn, tx_fpb;
	uint32_t tx_head;
	uint32_t frag_room;
	uint32_t tx_id;

	/* Reassembly. */
	struct afp_slot slots[AFP_SLOTS];
	uint8_t *reasm;
	uint64_t reasm_ns;		/* the timeout */
	uint64_t now_ns;
	int now_valid;			/* now_ns read in this burst */

	struct afpacket_counters count;
};

/* Arguments ------------------------------------------------------------------ */

/* Parsed arguments: the geometry, and what was given. */
struct afp_args {
	struct afpacket_geom g;
	uint64_t speed_mbps;
	uint32_t reasm_ms;
	int have_mac;
	unsigned seen;			/* bit i: afp_keys[i] given */
};

/* The numeric keys, all required; each a uint32_t in struct afpacket_geom. */
static const struct afp_key {
	const char *name;
	uint32_t min, max;
	size_t off;
} afp_keys[] = {
	{ "mtu", AFPACKET_MTU_MIN, AFPACKET_DGRAM_MAX, offsetof(struct afpacket_geom, mtu) },
	{ "rxbs", 1, AFP_RING_MAX, offsetof(struct afpacket_geom, rx_block_size) },
	{ "rxbn", 1, AFP_COUNT_MAX, offsetof(struct afpacket_geom, rx_block_nr) },
	{ "txbs", 1, AFP_RING_MAX, offsetof(struct afpacket_geom, tx_block_size) },
	{ "txbn", 1, AFP_COUNT_MAX, offsetof(struct afpacket_geom, tx_block_nr) },
	{ "txfs", 1, AFP_RING_MAX, offsetof(struct afpacket_geom, tx_frame_size) },
	{ "txfn", 1, AFP_COUNT_MAX, offsetof(struct afpacket_geom, tx_frame_nr) },
};

#define AFP_NKEYS (sizeof(afp_keys) / sizeof(afp_keys[0]))


static int
afp_hexdigit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "xx:xx:xx:xx:xx:xx", exactly. */
static int
afp_mac_parse(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = afp_hexdigit(s[3 * i]), lo = afp_hexdigit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* One "key=value" of len bytes at s. */
static int
afp_args_one(const char *s, size_t len, struct afp_args *a, char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - s) : len, vlen = len - klen - (eq != NULL);
	uint64_t v;

	if (eq == NULL) {
		snprintf(err, errlen, "afpacket: argument \"%.*s\" is not key=value", (int)len, s);
		return -1;
	}
	for (size_t i = 0; i < AFP_NKEYS; i++) {
		const struct afp_key *k = &afp_keys[i];

		if (strlen(k->name) != klen || memcmp(s, k->name, klen) != 0)
			continue;
		if (hal_args_number(eq + 1, vlen, k->min, k->max, &v) < 0)
			break;
		*(uint32_t *)((char *)&a->g + k->off) = (uint32_t)v;
		a->seen |= 1u << i;
		return 0;
	}
	if (klen == 5 && memcmp(s, "speed", 5) == 0 &&
	    hal_args_number(eq + 1, vlen, 0, UINT32_MAX, &v) == 0) {
		a->speed_mbps = v;
		return 0;
	}
	if (klen == 8 && memcmp(s, "reasm_ms", 8) == 0 &&
	    hal_args_number(eq + 1, vlen, 1, AFP_REASM_MS_MAX, &v) == 0) {
		a->reasm_ms = (uint32_t)v;
		return 0;
	}
	if (klen == 3 && memcmp(s, "mac", 3) == 0 && afp_mac_parse(eq + 1, vlen, a->g.mac) == 0) {
		a->have_mac = 1;
		return 0;
	}
	snprintf(err, errlen, "afpacket: argument \"%.*s\": unknown key or bad value", (int)len, s);
	return -1;
}

/* The argument string afpacket_geom_args() writes (speed, reasm_ms, mac optional). */
static int
afp_args_parse(const char *args, struct afp_args *a, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	a->reasm_ms = AFP_REASM_MS;
	while (args != NULL && *args != '\0') {
		const char *comma = strchr(args, ',');
		size_t len = comma != NULL ? (size_t)(comma - args) : strlen(args);

		if (afp_args_one(args, len, a, err, errlen) < 0)
			return -1;
		args = comma != NULL ? comma + 1 : NULL;
	}
	for (size_t i = 0; i < AFP_NKEYS; i++) {
		if (!(a->seen & (1u << i))) {
			snprintf(err, errlen, "afpacket: argument %s is missing", afp_keys[i].name);
			return -1;
		}
	}
	return 0;
}

/*
 * The geometry must be one the kernel could have accepted and we can use:
 * blocks of whole pages, tx slots that tile their blocks and hold a frame
 * of AFPACKET_MTU_MIN, enough slots for the most fragmented datagram.  The
 * kernel's own check comes at mmap, which wants the exact size of its rings.
 */
static int
afp_geom_check(const struct afpacket_geom *g, char *err, size_t errlen)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t rx = (uint64_t)g->rx_block_size * g->rx_block_nr;
	uint64_t tx = (uint64_t)g->tx_block_size * g->tx_block_nr;
	const char *why = NULL;

	if (g->rx_block_size % page != 0 || g->tx_block_size % page != 0)
		why = "block sizes are not whole pages";
	else if (rx + tx > AFP_RING_MAX)
		why = "the rings are too large";
	else if (g->tx_frame_size % TPACKET_ALIGNMENT != 0 || g->tx_frame_size > g->tx_block_size)
		why = "the tx frame size does not fit its blocks";
	else if ((uint64_t)(g->tx_block_size / g->tx_frame_size) * g->tx_block_nr != g->tx_frame_nr)
		why = "the tx frame count does not match its blocks";
	else if (g->tx_frame_size < AFP_SLOT_HDR + ETH_HLEN + AFPACKET_MTU_MIN)
		why = "tx frames are too small for the least MTU";
	else if (g->tx_frame_nr < AFPACKET_FRAG_MAX)
		why = "too few tx frames for the largest datagram";
	if (why != NULL) {
		snprintf(err, errlen, "afpacket: bad ring geometry: %s", why);
		return -1;
	}
	return 0;
}

/* Set-up --------------------------------------------------------------------- */

static int
afp_sockopt(int fd, int level, int opt, int in, int *out)
{
	socklen_t len = sizeof(*out);

	*out = in;
	return getsockopt(fd, level, opt, out, &len) < 0 || len != sizeof(*out) ? -1 : 0;
}

/*
 * The descriptor must be what afpacket_open() made: a raw packet socket,
 * TPACKET_V3 (with the header layout we were built with), PACKET_LOSS on,
 * data at the fixed offset in tx slots, bound to an Ethernet interface for
 * our ethertype.  Its index and address come back.
 */
static int
afp_check_socket(int fd, int *ifindex, uint8_t mac[6], char *err, size_t errlen)
{
	struct sockaddr_ll sll;
	socklen_t alen = sizeof(sll);
	int type, domain, version, hdrlen, loss, hasoff;

	if (afp_sockopt(fd, SOL_SOCKET, SO_TYPE, 0, &type) < 0 || type != SOCK_RAW ||
	    afp_sockopt(fd, SOL_SOCKET, SO_DOMAIN, 0, &domain) < 0 || domain != AF_PACKET) {
		snprintf(err, errlen, "afpacket: descriptor %d is not a raw packet socket", fd);
		return -1;
	}
	if (afp_sockopt(fd, SOL_PACKET, PACKET_VERSION, 0, &version) < 0 ||
	    version != TPACKET_V3 ||
	    afp_sockopt(fd, SOL_PACKET, PACKET_HDRLEN, TPACKET_V3, &hdrlen) < 0 ||
	    hdrlen != (int)sizeof(struct tpacket3_hdr)) {
		snprintf(err, errlen, "afpacket: the socket is not set to TPACKET_V3");
		return -1;
	}
	if (afp_sockopt(fd, SOL_PACKET, PACKET_LOSS, 0, &loss) < 0 || loss != 1 ||
	    afp_sockopt(fd, SOL_PACKET, PACKET_TX_HAS_OFF, 0, &hasoff) < 0 || hasoff != 0) {
		snprintf(err, errlen, "afpacket: the socket's tx options are not ours "
		    "(PACKET_LOSS must be on, PACKET_TX_HAS_OFF off)");
		return -1;
	}
	memset(&sll, 0, sizeof(sll));
	if (getsockname(fd, (struct sockaddr *)&sll, &alen) < 0 || sll.sll_family != AF_PACKET ||
	    sll.sll_protocol != htons(AFPACKET_ETHERTYPE) || sll.sll_ifindex <= 0) {
		snprintf(err, errlen, "afpacket: the socket is not bound to an interface "
		    "for ethertype 0x%04x", AFPACKET_ETHERTYPE);
		return -1;
	}
	if (sll.sll_hatype != ARPHRD_ETHER || sll.sll_halen != 6) {
		snprintf(err, errlen, "afpacket: interface %d is not Ethernet", sll.sll_ifindex);
		return -1;
	}
	*ifindex = sll.sll_ifindex;
	memcpy(mac, sll.sll_addr, 6);
	return 0;
}

/* Map both rings; the kernel refuses any size but its rings' own. */
static int
afp_map(struct hal_dev *dev, const struct afpacket_geom *g, char *err, size_t errlen)
{
	size_t rx = (size_t)g->rx_block_size * g->rx_block_nr;
	size_t tx = (size_t)g->tx_block_size * g->tx_block_nr;
	void *p;

	p = mmap(NULL, rx + tx, PROT_READ | PROT_WRITE, MAP_SHARED, dev->fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "afpacket: mapping the rings (%zu bytes): %s "
		    "(does the geometry match the socket?)", rx + tx, strerror(errno));
		return -1;
	}
	dev->map = p;
	dev->maplen = rx + tx;
	dev->rx = dev->map;
	dev->rx_bs = g->rx_block_size;
	dev->rx_bn = g->rx_block_nr;
	dev->tx = dev->map + rx;
	dev->tx_bs = g->tx_block_size;
	dev->tx_fs = g->tx_frame_size;
	dev->tx_fn = g->tx_frame_nr;
	dev->tx_fpb = g->tx_block_size / g->tx_frame_size;
	return 0;
}

static void
afp_free(struct hal_dev *dev)
{
	if (dev->map != NULL)
		munmap(dev->map, dev->maplen);
	free(dev->reasm);
	free(dev);
}

static struct hal_dev *
afp_init(int fd, const char *args, char *err, size_t errlen)
{
	struct hal_dev *dev;
	struct afp_args a;
	uint32_t carry;
	uint8_t mac[6];
	uint64_t now;
	int ifindex;

	if (afp_args_parse(args, &a, err, errlen) < 0 ||
	    afp_geom_check(&a.g, err, errlen) < 0 ||
	    afp_check_socket(fd, &ifindex, mac, err, errlen) < 0)
		return NULL;
	if ((dev = calloc(1, sizeof(*dev))) == NULL ||
	    (dev->reasm = malloc((size_t)AFP_SLOTS * AFPACKET_DGRAM_MAX)) == NULL) {
		free(dev);
		snprintf(err, errlen, "afpacket: out of memory");
		return NULL;
	}
	dev->fd = fd;
	if (afp_map(dev, &a.g, err, errlen) < 0) {
		afp_free(dev);			/* the descriptor stays the caller's */
		return NULL;
	}
	for (int i = 0; i < AFP_SLOTS; i++)
		dev->slots[i].buf = dev->reasm + (size_t)i * AFPACKET_DGRAM_MAX;
	/*
	 * The address the interface has now, from the kernel: the one in the
	 * arguments is as old as the socket.
	 */
	if (a.have_mac && memcmp(a.g.mac, mac, 6) != 0)
		log_info("afpacket: interface %d has a new address; using it", ifindex);
	dev->ifindex = ifindex;
	memcpy(dev->mac, mac, 6);
	dev->mtu = a.g.mtu;
	dev->speed_mbps = a.speed_mbps;
	dev->reasm_ns = (uint64_t)a.reasm_ms * 1000000u;
	/* What a slot holds after our headers, no more than the MTU allows. */
	carry = dev->tx_fs - AFP_SLOT_HDR - ETH_HLEN;
	if (carry > dev->mtu)
		carry = dev->mtu;
	dev->frag_room = carry - AFPACKET_FRAG_HDR_LEN;
	/*
	 * Ids start somewhere new each time, so a restarted sender does not
	 * complete a peer's stale slot from its previous life.
	 */
	now = cnw_now_ns();
	dev->tx_id = (uint32_t)(now ^ (now >> 32));
	return dev;
}

static int
afp_status(struct hal_dev *dev, struct hal_link *out)
{
	/* Carrier is the parent's to see (netlink); the socket is usable. */
	out->up = 1;
	out->mtu = dev->mtu;
	out->speed_mbps = dev->speed_mbps;
	return 0;
}

static int
afp_pollfd(struct hal_dev *dev)
{
	return dev->fd;
}

/* Reassembly ----------------------------------------------------------------- */

/* Now, read once per burst, and only when needed. */
static uint64_t
afp_now(struct hal_dev *dev)
{
	if (!dev->now_valid) {
		dev->now_ns = cnw_now_ns();
		dev->now_valid = 1;
	}
	return dev->now_ns;
}

static void
afp_slot_free(struct hal_dev *dev, struct afp_slot *s)
{
	s->used = 0;
	dev->count.frags_pending--;
}

/* Give up on datagrams whose first fragment is older than the timeout. */
static void
afp_reasm_expire(struct hal_dev *dev)
{
	uint64_t now = afp_now(dev);

	for (int i = 0; i < AFP_SLOTS; i++) {
		struct afp_slot *s = &dev->slots[i];

		if (s->used && now - s->started_ns >= dev->reasm_ns) {
			afp_slot_free(dev, s);
			dev->count.frags_timeout++;
		}
	}
}

/* A slot for a new datagram: a free one, else the oldest's. */
static struct afp_slot *
afp_slot_new(struct hal_dev *dev, const uint8_t *mac, const struct afp_frag *fr)
{
	struct afp_slot *s = NULL;

	for (int i = 0; i < AFP_SLOTS && s == NULL; i++)
		if (!dev->slots[i].used)
			s = &dev->slots[i];
	if (s == NULL) {
		s = &dev->slots[0];
		for (int i = 1; i < AFP_SLOTS; i++)
			if (dev->slots[i].started_ns < s->started_ns)
				s = &dev->slots[i];
		afp_slot_free(dev, s);
		dev->count.frags_evicted++;
	}
	s->used = 1;
	memcpy(s->mac, mac, 6);
	s->id = fr->id;
	s->total = fr->total;
	s->count = fr->count;
	s->fsize = fr->fsize;
	s->have = 0;
	s->nhave = 0;
	s->started_ns = afp_now(dev);
	dev->count.frags_pending++;
	return s;
}

static struct afp_slot *
afp_slot_find(struct hal_dev *dev, const uint8_t *mac, uint32_t id)
{
	for (int i = 0; i < AFP_SLOTS; i++) {
		struct afp_slot *s = &dev->slots[i];

		if (s->used && s->id == id && memcmp(s->mac, mac, 6) == 0)
			return s;
	}
	return NULL;
}

/* Receive -------------------------------------------------------------------- */

/* A whole datagram of len bytes, already at f->data, from mac. */
static int
afp_rx_deliver(struct hal_dev *dev, struct hal_frame *f, const uint8_t *mac, uint32_t len)
{
	f->len = len;
	f->family = AF_PACKET;
	f->port = 0;
	memset(f->addr, 0, sizeof(f->addr));	/* the worker compares all 16 bytes */
	memcpy(f->addr, mac, 6);
	dev->count.rx_frames++;
	return 1;
}

/* One checked fragment of a datagram of several; 1 if it completed one into f. */
static int
afp_reasm(struct hal_dev *dev, struct hal_frame *f, const uint8_t *mac,
    const struct afp_frag *fr)
{
	struct afp_slot *s = afp_slot_find(dev, mac, fr->id);
	int got = 0;

	if (s == NULL) {
		s = afp_slot_new(dev, mac, fr);
	} else if (s->total != fr->total || s->count != fr->count) {
		dev->count.rx_dropped_bad++;
		return 0;
	}
	if (s->have & (1ull << fr->idx)) {
		dev->count.rx_dropped_dup++;
		return 0;
	}
	/* In bounds: idx * fsize + flen <= total <= AFPACKET_DGRAM_MAX (afp_rx_fragment). */
	memcpy(s->buf + (size_t)fr->idx * fr->fsize, fr->data, fr->flen);
	s->have |= 1ull << fr->idx;
	if (++s->nhave < s->count)
		return 0;
	if (s->total > f->cap) {
		dev->count.rx_dropped_big++;
	} else {
		memcpy(f->data, s->buf, s->total);
		got = afp_rx_deliver(dev, f, mac, s->total);
	}
	afp_slot_free(dev, s);
	return got;
}

/*
 * One Ethernet frame of snap bytes at p (len on the wire) from the ring:
 * check its headers, then deliver it into f (a datagram in one frame) or
 * add it to its datagram.  1 if f now holds a datagram.
 */
static int
afp_rx_fragment(struct hal_dev *dev, struct hal_frame *f, const uint8_t *p, uint32_t snap,
    uint32_t len)
{
	const uint8_t *src = p + ETH_ALEN, *fh = p + ETH_HLEN;
	struct afp_frag fr;
	uint32_t avail;

	if (snap < len) {
		dev->count.rx_truncated++;
		return 0;
	}
	if (snap < AFP_HDRS || (p[12] << 8 | p[13]) != AFPACKET_ETHERTYPE ||
	    (src[0] & 1) || (src[0] | src[1] | src[2] | src[3] | src[4] | src[5]) == 0 ||
	    fh[0] != AFPACKET_FRAG_MAGIC || fh[1] != 0)
		goto bad;
	fr.idx = fh[2];
	fr.count = fh[3];
	fr.id = (uint32_t)fh[4] << 24 | (uint32_t)fh[5] << 16 | (uint32_t)fh[6] << 8 | fh[7];
	fr.total = (uint32_t)fh[8] << 8 | fh[9];
	if (fr.count == 0 || fr.count > AFPACKET_FRAG_MAX || fr.idx >= fr.count ||
	    fr.total < fr.count)
		goto bad;
	/* The sender's rule (afpacket.h): every fragment's size from total and count. */
	fr.fsize = (fr.total + fr.count - 1) / fr.count;
	if ((fr.count - 1) * fr.fsize >= fr.total)
		goto bad;		/* no sender cuts so: the last would be empty */
	fr.flen = fr.idx + 1 < fr.count ? fr.fsize : fr.total - (fr.count - 1) * fr.fsize;
	fr.data = p + AFP_HDRS;
	avail = snap - AFP_HDRS;
	/* Exactly its bytes, or more when a short frame was padded to the minimum. */
	if (avail != fr.flen && !(avail > fr.flen && snap <= ETH_ZLEN))
		goto bad;
	if (fr.count > 1)
		return afp_reasm(dev, f, src, &fr);
	if (fr.total > f->cap) {
		dev->count.rx_dropped_big++;
		return 0;
	}
	memcpy(f->data, fr.data, fr.total);
	return afp_rx_deliver(dev, f, src, fr.total);
bad:
	dev->count.rx_dropped_bad++;
	return 0;
}

/* Take the block we are at if the kernel has handed it over; 0 if not yet. */
static int
afp_rx_open(struct hal_dev *dev)
{
	struct tpacket_block_desc *bd = (void *)(dev->rx + (size_t)dev->rx_cur * dev->rx_bs);
	uint32_t n, first, len;

	/* Acquire pairs with the kernel's barrier before it sets the status. */
	if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
		return 0;
	n = bd->hdr.bh1.num_pkts;
	first = bd->hdr.bh1.offset_to_first_pkt;
	len = bd->hdr.bh1.blk_len;
	dev->rx_open = 1;
	dev->rx_left = n;
	dev->rx_off = first;
	dev->rx_lim = len;
	if (n > 0 && (len > dev->rx_bs || first < sizeof(*bd) || first > len)) {
		dev->count.rx_ring_bad++;
		dev->rx_left = 0;
	}
	return 1;
}

/* Hand the block back to the kernel and move on to the next. */
static void
afp_rx_close(struct hal_dev *dev)
{
	struct tpacket_block_desc *bd = (void *)(dev->rx + (size_t)dev->rx_cur * dev->rx_bs);

	/* Release: our reads of the block are done before the kernel may refill it. */
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
	dev->rx_open = 0;
	dev->rx_cur = dev->rx_cur + 1 < dev->rx_bn ? dev->rx_cur + 1 : 0;
}

/*
 * The next frame of the open block, checked against the block before any
 * of it is read; 1 if it gave f a datagram.  A frame header that points
 * outside the block ends the block: what follows it cannot be found.
 */
static int
afp_rx_one(struct hal_dev *dev, struct hal_frame *f)
{
	const uint8_t *blk = dev->rx + (size_t)dev->rx_cur * dev->rx_bs;
	const struct tpacket3_hdr *h;
	const struct sockaddr_ll *sll;
	uint32_t off = dev->rx_off, room, next, mac, snap, len, status;
	int got = 0;

	if (off % AFP_RX_ALIGN != 0 || off > dev->rx_lim ||
	    dev->rx_lim - off < sizeof(*h))
		goto bad;
	room = dev->rx_lim - off;
	h = (const struct tpacket3_hdr *)(blk + off);
	next = h->tp_next_offset;
	mac = h->tp_mac;
	snap = h->tp_snaplen;
	len = h->tp_len;
	status = h->tp_status;
	if (mac < AFP_SLOT_HDR + sizeof(*sll) || mac > room || snap > room - mac)
		goto bad;
	sll = (const struct sockaddr_ll *)(blk + off + AFP_SLOT_HDR);
	/*
	 * Ours only: addressed to this host (not seen in promiscuous mode,
	 * not our own going out), untagged (a VLAN is another link).
	 */
	if (sll->sll_pkttype != PACKET_HOST || (status & TP_STATUS_VLAN_VALID))
		dev->count.rx_dropped_other++;
	else
		got = afp_rx_fragment(dev, f, blk + off + mac, snap, len);
	if (--dev->rx_left > 0) {
		if (next < sizeof(*h) || next > room)
			goto bad;
		dev->rx_off = off + next;
	}
	return got;
bad:
	dev->count.rx_ring_bad++;
	dev->rx_left = 0;
	return got;
}

/*
 * Walk handed-over blocks until n datagrams are out or the ring is empty.
 * A block is handed back as soon as it is walked; one left half-walked
 * (n reached) is taken up where it stopped next time.  At most
 * AFP_RX_BUDGET_PER_FRAME frames per datagram asked for are looked at, so
 * a flood of fragments or junk cannot hold the loop.  Timeouts only when
 * the ring is empty (see the top of this file).
 */
static int
afp_rx_burst(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	unsigned got = 0, budget = n * AFP_RX_BUDGET_PER_FRAME;
	int drained = 0;

	dev->now_valid = 0;
	while (got < n && budget > 0) {
		if (!dev->rx_open && !afp_rx_open(dev)) {
			drained = 1;
			break;
		}
		if (dev->rx_left > 0) {
			got += (unsigned)afp_rx_one(dev, &f[got]);
			budget--;
		}
		if (dev->rx_left == 0)
			afp_rx_close(dev);
	}
	if (drained && dev->count.frags_pending > 0)
		afp_reasm_expire(dev);
	return (int)got;
}

/* Transmit ------------------------------------------------------------------- */

static uint8_t *
afp_tx_slot(const struct hal_dev *dev, uint32_t i)
{
	return dev->tx + (size_t)(i / dev->tx_fpb) * dev->tx_bs + (size_t)(i % dev->tx_fpb) * dev->tx_fs;
}

/*
 * Are the k slots from our head free?  The kernel frees slots as their
 * frames leave, not always in order, so each is looked at.  *waiting is
 * set when a slot still waits for the kernel to take it (a kick the kernel
 * answered with ENOBUFS leaves them so).
 */
static int
afp_tx_room(const struct hal_dev *dev, uint32_t k, int *waiting)
{
	for (uint32_t i = 0, at = dev->tx_head; i < k; i++, at = at + 1 < dev->tx_fn ? at + 1 : 0) {
		struct tpacket3_hdr *h = (struct tpacket3_hdr *)afp_tx_slot(dev, at);
		/* Acquire pairs with the kernel freeing the slot: its reads of it are done. */
		uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

		if (st != TP_STATUS_AVAILABLE) {
			if (st & TP_STATUS_SEND_REQUEST)
				*waiting = 1;
			return 0;
		}
	}
	return 1;
}

/* Fragment idx of count of f, fsize bytes each but the last, into the head slot. */
static void
afp_tx_put(struct hal_dev *dev, const struct hal_frame *f, uint32_t idx, uint32_t count,
    uint32_t fsize)
{
	uint8_t *slot = afp_tx_slot(dev, dev->tx_head);
	struct tpacket3_hdr *h = (struct tpacket3_hdr *)slot;
	uint8_t *p = slot + AFP_SLOT_HDR, *fh = p + ETH_HLEN;
	uint32_t off = idx * fsize, flen = idx + 1 < count ? fsize : f->len - off;

	memcpy(p, f->addr, ETH_ALEN);
	memcpy(p + ETH_ALEN, dev->mac, ETH_ALEN);
	p[12] = AFPACKET_ETHERTYPE >> 8;
	p[13] = AFPACKET_ETHERTYPE & 0xff;
	fh[0] = AFPACKET_FRAG_MAGIC;
	fh[1] = 0;
	fh[2] = (uint8_t)idx;
	fh[3] = (uint8_t)count;
	fh[4] = (uint8_t)(dev->tx_id >> 24);
	fh[5] = (uint8_t)(dev->tx_id >> 16);
	fh[6] = (uint8_t)(dev->tx_id >> 8);
	fh[7] = (uint8_t)dev->tx_id;
	fh[8] = (uint8_t)(f->len >> 8);
	fh[9] = (uint8_t)f->len;
	memcpy(p + AFP_HDRS, f->data + off, flen);
	h->tp_next_offset = 0;
	h->tp_len = AFP_HDRS + flen;
	/* Release pairs with the kernel's read of the status: the frame is written first. */
	__atomic_store_n(&h->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
	dev->tx_head = dev->tx_head + 1 < dev->tx_fn ? dev->tx_head + 1 : 0;
}

/*
 * Have the kernel send every requested slot.  EAGAIN or ENOBUFS (the
 * device's queue is full) leaves the rest requested, sent at the next
 * kick; ENETDOWN or ENXIO (down, or gone: link_event tells which) drops
 * nothing either.  None of those ends the driver.
 */
static int
afp_tx_kick(struct hal_dev *dev)
{
	while (sendto(dev->fd, NULL, 0, MSG_DONTWAIT, NULL, 0) < 0) {
		if (errno == EINTR)
			continue;
		if (errno == EBADF || errno == ENOTSOCK || errno == EFAULT)
			return -1;
		if (dev->count.tx_kick_errors++ == 0)
			log_debug("afpacket: sending: %s", strerror(errno));
		break;
	}
	return 0;
}

static int
afp_unicast(const uint8_t *a)
{
	return !(a[0] & 1) && (a[0] | a[1] | a[2] | a[3] | a[4] | a[5]) != 0;
}

/*
 * Each datagram goes whole or not at all: when the ring has no room for
 * all its fragments the burst stops there (the host waits for POLLOUT and
 * offers it again).  Datagrams we cannot send are dropped, counted taken.
 */
static int
afp_tx_burst(struct hal_dev *dev, struct hal_frame *f, unsigned n)
{
	unsigned i, queued = 0;
	int waiting = 0;

	for (i = 0; i < n; i++) {
		uint32_t count, fsize;

		if (f[i].family != AF_PACKET || !afp_unicast(f[i].addr)) {
			dev->count.tx_dropped++;
			continue;
		}
		if (f[i].len == 0 || f[i].len > AFPACKET_DGRAM_MAX) {
			dev->count.tx_dropped_big++;
			continue;
		}
		count = (f[i].len + dev->frag_room - 1) / dev->frag_room;
		fsize = (f[i].len + count - 1) / count;
		if (!afp_tx_room(dev, count, &waiting)) {
			dev->count.tx_ring_full++;
			break;
		}
		for (uint32_t k = 0; k < count; k++)
			afp_tx_put(dev, &f[i], k, count, fsize);
		dev->tx_id++;
		dev->count.tx_frames++;
		queued++;
	}
	if ((queued > 0 || waiting) && afp_tx_kick(dev) < 0)
		return -1;
	return (int)i;
}

/* Link ----------------------------------------------------------------------- */

/*
 * The kernel raises an error on the socket when the interface goes down
 * (ENETDOWN; it carries on when it is up again) or is deleted, which
 * unbinds the socket for good: fatal, so the parent opens a new one.
 * A changed address is taken up.
 */
static int
afp_link_event(struct hal_dev *dev, struct hal_link *out)
{
	struct sockaddr_ll sll;
	socklen_t len = sizeof(int), alen = sizeof(sll);
	int soerr = 0;

	if (getsockopt(dev->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0)
		log_debug("afpacket: socket error: %s", strerror(soerr));
	memset(&sll, 0, sizeof(sll));
	if (getsockname(dev->fd, (struct sockaddr *)&sll, &alen) < 0 ||
	    sll.sll_ifindex != dev->ifindex) {
		log_warnx("afpacket: interface %d is gone", dev->ifindex);
		afp_status(dev, out);
		out->up = 0;
		return -1;
	}
	if (sll.sll_halen == 6 && memcmp(sll.sll_addr, dev->mac, 6) != 0) {
		memcpy(dev->mac, sll.sll_addr, 6);
		log_info("afpacket: interface %d has a new address", dev->ifindex);
	}
	return afp_status(dev, out);
}

void
afpacket_counters(const struct hal_dev *dev, struct afpacket_counters *out)
{
	*out = dev->count;
}

static void
afp_cleanup(struct hal_dev *dev)
{
	struct tpacket_stats_v3 st;
	socklen_t len = sizeof(st);

	if (dev == NULL)
		return;
#define AFP_COUNTER_LOG(field, what)					\
	if (dev->count.field != 0)					\
		log_info("afpacket: %llu %s", (unsigned long long)dev->count.field, what);
	AFPACKET_COUNTERS(AFP_COUNTER_LOG)
#undef AFP_COUNTER_LOG
	/* The kernel's own: frames it found no free block for. */
	if (getsockopt(dev->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0 && st.tp_drops != 0)
		log_info("afpacket: %u frames dropped by the kernel (rx ring full)", st.tp_drops);
	close(dev->fd);
	afp_free(dev);
}

const struct hal_driver hal_driver_afpacket = {
	.abi = HAL_DRIVER_ABI,
	.name = "afpacket",
	.init = afp_init,
	.enumerate = NULL,
	.status = afp_status,
	.pollfd = afp_pollfd,
	.rx_burst = afp_rx_burst,
	.tx_burst = afp_tx_burst,
	.link_event = afp_link_event,
	.cleanup = afp_cleanup,
};
