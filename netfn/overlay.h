/*
 * The overlay header: how a frame of a tenant network travels to the peer
 * site in a UDP datagram over one uplink (DESIGN.md, "Fast path and
 * overlay").  All fields in network byte order; 24 bytes.
 *
 *   0      version (OVERLAY_VERSION)
 *   1      type (OVERLAY_DATA, OVERLAY_PROBE)
 *   2..3   path id: which uplink of the sender it left by
 *   4..7   network id: the tenant network, the same on both sites
 *   8..11  sequence number, per path
 *   12..15 reserved, zero
 *   16..23 sender's timestamp, CLOCK_MONOTONIC nanoseconds
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
};

struct overlay_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t path;
	uint32_t network;
	uint32_t seq;
	uint32_t reserved;
	uint64_t timestamp_ns;
};

enum overlay_error {
	OVERLAY_OK = 0,
	OVERLAY_TRUNCATED,		/* shorter than the header */
	OVERLAY_BAD_VERSION,
	OVERLAY_BAD_TYPE,
	OVERLAY_BAD_RESERVED,
};

/* Write h at out (OVERLAY_HDR_LEN bytes). */
void overlay_encode(const struct overlay_hdr *h, uint8_t *out);
/* Read and check a header from len bytes at in. */
enum overlay_error overlay_decode(const uint8_t *in, size_t len, struct overlay_hdr *h);
const char *overlay_error_name(enum overlay_error e);
/* The wire id of tenant.network. */
uint32_t overlay_network_id(const char *tenant, const char *network);

#endif
