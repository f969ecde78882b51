/*
 * The afpacket driver: an uplink that carries the overlay straight in
 * Ethernet frames on a host interface (no IP, no UDP), through an
 * AF_PACKET socket with TPACKET_V3 rings mapped for receive and transmit.
 * The peer's endpoint over such an uplink is its MAC address: hal_frame
 * family AF_PACKET, addr[0..5] the MAC, addr[6..15] zero, port 0.
 *
 * The split is the usual one (hal/driver.h): the parent, privileged and in
 * the interface's namespace, opens and configures the socket with
 * afpacket_open() and writes what the driver must know of it with
 * afpacket_geom_args(); the driver, sandboxed, gets the descriptor and that
 * string, checks what it can with getsockopt and getsockname, and maps the
 * rings.  It calls no setsockopt and no ioctl.
 *
 * On the wire, after the Ethernet header (ethertype AFPACKET_ETHERTYPE),
 * every frame carries this fragment header, even a datagram that fits one
 * frame (count 1), so the receiver never has to guess:
 *
 *   0      magic and version, AFPACKET_FRAG_MAGIC
 *   1      flags, zero (a frame with any set is dropped: reserved)
 *   2      fragment index, 0..count-1
 *   3      fragment count, 1..AFPACKET_FRAG_MAX
 *   4..7   datagram id, per sender, network byte order
 *   8..9   the whole datagram's length, network byte order, >= count
 *
 * and then the fragment's bytes.  A sender cuts a datagram of T bytes into
 * C = ceil(T / room) fragments, room being what a frame carries after both
 * headers, every one but the last of F = ceil(T / C) bytes and the last of
 * T - (C - 1) * F.  The receiver recomputes F from T and C alone, so every
 * fragment's offset and length are known from its own header and a
 * fragment of any other length is refused; the two sides' MTUs need not
 * agree.  A frame shorter than the Ethernet minimum is padded on the wire,
 * so a frame of exactly ETH_ZLEN bytes may carry more than its fragment.
 */
#ifndef CNW_HAL_AFPACKET_H
#define CNW_HAL_AFPACKET_H

#include <stddef.h>
#include <stdint.h>

#include "hal/driver.h"
#include "lib/error.h"

/* IEEE 802 local experimental ethertype 1. */
#define AFPACKET_ETHERTYPE 0x88B5

#define AFPACKET_FRAG_MAGIC 0xC1
#define AFPACKET_FRAG_HDR_LEN 10
/* Fragments per datagram: one bit each in a 64-bit map. */
#define AFPACKET_FRAG_MAX 64
/* The largest datagram (the length field's range). */
#define AFPACKET_DGRAM_MAX 65535
/*
 * The least link payload per frame the driver accepts: the IPv6 minimum,
 * at which a largest datagram still fits AFPACKET_FRAG_MAX fragments.
 */
#define AFPACKET_MTU_MIN 1280

/* What afpacket_open() configured and the driver must know. */
struct afpacket_geom {
	uint32_t rx_block_size, rx_block_nr;	/* PACKET_RX_RING (TPACKET_V3) */
	uint32_t tx_block_size, tx_block_nr;	/* PACKET_TX_RING */
	uint32_t tx_frame_size, tx_frame_nr;
	uint32_t mtu;				/* the interface's */
	int ifindex;
	uint8_t mac[6];				/* the interface's address */
};

#define AFPACKET_COUNTERS(X)						\
	X(rx_frames, "datagrams received")				\
	X(tx_frames, "datagrams sent")					\
	X(rx_dropped_bad, "frames with a malformed or inconsistent fragment header (dropped)") \
	X(rx_dropped_dup, "duplicate fragments (dropped)")		\
	X(rx_dropped_big, "datagrams larger than the buffer given (dropped)") \
	X(rx_dropped_other, "frames not sent to us: another host, a VLAN, our own (dropped)") \
	X(rx_truncated, "frames cut short by the ring (dropped)")	\
	X(rx_ring_bad, "ring blocks or frame headers out of bounds (rest of the block skipped)") \
	X(frags_timeout, "incomplete datagrams timed out")		\
	X(frags_evicted, "incomplete datagrams evicted for newer ones")	\
	X(tx_dropped, "datagrams to a non-unicast MAC or of another family (dropped)") \
	X(tx_dropped_big, "datagrams empty or over 65535 bytes (dropped)") \
	X(tx_ring_full, "bursts cut short by a full tx ring")		\
	X(tx_kick_errors, "kicks of the tx ring the kernel refused")

struct afpacket_counters {
#define AFPACKET_COUNTER_FIELD(field, what) uint64_t field;
	AFPACKET_COUNTERS(AFPACKET_COUNTER_FIELD)
#undef AFPACKET_COUNTER_FIELD
	uint32_t frags_pending;		/* datagrams being reassembled now */
};

extern const struct hal_driver hal_driver_afpacket;

/*
 * In the parent, in the interface's namespace: an AF_PACKET socket bound
 * to ifname for AFPACKET_ETHERTYPE, TPACKET_V3, both rings set, qdisc
 * bypass and PACKET_LOSS on; its geometry in g.  The descriptor, or -1.
 */
int afpacket_open(const char *ifname, struct afpacket_geom *g, struct cnw_error *err);
/*
 * The driver's argument string for g: "mtu=1500,mac=02:00:00:00:00:01,
 * rxbs=131072,rxbn=64,txbs=131072,txbn=8,txfs=2048,txfn=512" (no spaces);
 * ",speed=N" (Mbit/s, for status) and ",reasm_ms=N" (how long a datagram
 * waits for its fragments, 1..60000, default 100) may be appended.  Its
 * length, or -1 if len is too small.
 */
int afpacket_geom_args(const struct afpacket_geom *g, char *buf, size_t len);
/* A driver's counters (for tests; the driver logs them at cleanup). */
void afpacket_counters(const struct hal_dev *dev, struct afpacket_counters *out);

#endif
