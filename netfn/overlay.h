/*
 * The overlay header: how a frame of a tenant network travels to the peer
 * site in a UDP datagram over one uplink (docs/decisions.md, "The data
 * path").  All fields in network byte order; 24 bytes.
 *
 *   0      version (OVERLAY_VERSION)
 *   1      type (enum overlay_type)
 *   2..3   path id: which uplink of the sender it left by
 *   4..7   network id: the tenant network, the same on both sites (0 in probes)
 *   8..11  sequence number, per path (a probe's own number in probes and replies)
 *   12..15 redundancy sequence: OVERLAY_DATA_DUP only, zero in every other type
 *   16..23 sender's timestamp, CLOCK_MONOTONIC nanoseconds
 *
 * Types:
 *   DATA       a tenant frame (vnet header + IP packet) follows
 *   PROBE      a path probe, nothing follows; the receiver answers it at
 *              once over the uplink it came by, to where it came from
 *   DATA_DUP   a tenant frame sent on two paths (steering `redundant`): the
 *              redundancy sequence, per network and sender, lets the
 *              receiver deliver the first copy and drop the second
 *   PROBE_REPLY the probe's header echoed (seq, path, timestamp) with this
 *              type: the prober's RTT is its clock now minus the timestamp
 *
 * The network id is the same on both sites without coordination: FNV-1a
 * (32 bits) of "TENANT.NETWORK" (overlay_network_id), so a network and its
 * peer network have the same name and id; two networks of one site whose
 * ids collide are refused at creation.
 */
#ifndef CNW_OVERLAY_H
#define CNW_OVERLAY_H

#include <stddef.h>
#include <stdint.h>

#define OVERLAY_VERSION 1
#define OVERLAY_HDR_LEN 24

enum overlay_type {
	OVERLAY_DATA = 1,
	OVERLAY_PROBE = 2,
	OVERLAY_DATA_DUP = 3,
	OVERLAY_PROBE_REPLY = 4,
};

struct overlay_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t path;
	uint32_t network;
	uint32_t seq;
	uint32_t dup_seq;		/* OVERLAY_DATA_DUP only */
	uint64_t timestamp_ns;
};

enum overlay_error {
	OVERLAY_OK = 0,
	OVERLAY_TRUNCATED,		/* shorter than the header */
	OVERLAY_BAD_VERSION,
	OVERLAY_BAD_TYPE,
	OVERLAY_BAD_RESERVED,		/* a redundancy sequence outside DATA_DUP */
};

/* Write h at out (OVERLAY_HDR_LEN bytes). */
void overlay_encode(const struct overlay_hdr *h, uint8_t *out);
/* Read and check a header from len bytes at in. */
enum overlay_error overlay_decode(const uint8_t *in, size_t len, struct overlay_hdr *h);
const char *overlay_error_name(enum overlay_error e);
/* The wire id of tenant.network. */
uint32_t overlay_network_id(const char *tenant, const char *network);

#endif
