/*
 * Packet checks of the fastpath worker: what a frame must be before a
 * tenant's kernel or a peer sees it.  Inline, because every frame goes
 * through them on the tap and udp paths (netfn/worker_impl.h).
 */
#ifndef CNW_WORKER_CHECK_H
#define CNW_WORKER_CHECK_H

#include <linux/virtio_net.h>

#include "netfn/worker_impl.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

/*
 * The IP version (4 or 6) of the packet of len bytes at ip if its header
 * is sane: version, header length, total length within the frame.  0 if not.
 */
static inline int
worker_ip_check(const uint8_t *ip, uint32_t len)
{
	uint32_t hlen;

	if (len < 20)
		return 0;
	switch (ip[0] >> 4) {
	case 4:
		hlen = (uint32_t)(ip[0] & 0x0f) * 4;
		if (hlen < 20 || hlen > len || worker_be16(ip + 2) < hlen ||
		    worker_be16(ip + 2) > len)
			return 0;
		return 4;
	case 6:
		if (len < 40 || 40u + worker_be16(ip + 4) > len)
			return 0;
		return 6;
	}
	return 0;
}

/*
 * A virtio-net header from the network, before it reaches a tenant's
 * kernel: only the flags and GSO types a TUN device produces, for the
 * IP version it carries, pointing inside the packet.  (The kernel checks
 * it too; this is the second lock.)  Little-endian, as TUN writes it.
 */
static inline int
worker_vnet_check(const uint8_t *v, uint32_t ip_len, int ipv)
{
	uint8_t flags = v[0], gso = v[1] & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
	uint32_t hdr_len = worker_le16(v + 2), gso_size = worker_le16(v + 4);
	uint32_t csum_start = worker_le16(v + 6), csum_offset = worker_le16(v + 8);

	if ((flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) != 0)
		return 0;
	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && csum_start + csum_offset + 2 > ip_len)
		return 0;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return v[1] == VIRTIO_NET_HDR_GSO_NONE;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		if (ipv != 4)
			return 0;
		break;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		if (ipv != 6)
			return 0;
		break;
	case VIRTIO_NET_HDR_GSO_UDP:
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		break;
	default:
		return 0;
	}
	return gso_size != 0 && hdr_len <= ip_len;
}

static inline int
worker_prefix_match(const uint8_t *addr, const uint8_t *prefix, unsigned plen)
{
	unsigned bytes = plen / 8, bits = plen % 8;

	if (memcmp(addr, prefix, bytes) != 0)
		return 0;
	return bits == 0 || ((addr[bytes] ^ prefix[bytes]) & (0xff00u >> bits) & 0xff) == 0;
}

/* Is the source address of this IP packet inside the network's subnet? */
static inline int
worker_source_ok(const struct worker_net *nw, const uint8_t *ip, int ipv)
{
	if (ipv == 4)
		return worker_prefix_match(ip + 12, nw->subnet4, nw->plen4);
	return nw->has6 && worker_prefix_match(ip + 8, nw->subnet6, nw->plen6);
}

/* The inner frame (vnet + IP) of an overlay frame: sane enough for a tenant's kernel? */
static inline int
worker_inner_ok(const uint8_t *p, uint32_t len)
{
	int ipv;

	if (len < WORKER_VNET_LEN + 20)
		return 0;
	ipv = worker_ip_check(p + WORKER_VNET_LEN, len - WORKER_VNET_LEN);
	return ipv != 0 && worker_vnet_check(p, len - WORKER_VNET_LEN, ipv);
}

#endif
