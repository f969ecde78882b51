/*
 * The overlay header codec (see overlay.h): how a tenant frame is labelled
 * for the peer site, in network byte order, and the network id both sites
 * compute from the names alone.
 *
 * It is a file of its own because it parses bytes that come from the
 * network: anyone who can reach an uplink's UDP port can send them.  So
 * decoding checks everything the header says before anyone acts on it
 * (length, version, type, the redundancy word) and reports what was wrong as
 * a value the worker turns into a drop counter.  Byte order is done with
 * explicit shifts, not by overlaying a struct on the buffer: the frame may
 * start at any offset, and the struct has host order and padding.
 */
#include <stddef.h>
#include <stdint.h>

#include "netfn/overlay.h"

#define OVERLAY_FNV_BASIS 2166136261u
#define OVERLAY_FNV_PRIME 16777619u

static void
overlay_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
overlay_put32(uint8_t *p, uint32_t v)
{
	overlay_put16(p, (uint16_t)(v >> 16));
	overlay_put16(p + 2, (uint16_t)v);
}

static uint16_t
overlay_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
overlay_get32(const uint8_t *p)
{
	return (uint32_t)overlay_get16(p) << 16 | overlay_get16(p + 2);
}

void
overlay_encode(const struct overlay_hdr *h, uint8_t *out)
{
	out[0] = h->version;
	out[1] = h->type;
	overlay_put16(out + 2, h->path);
	overlay_put32(out + 4, h->network);
	overlay_put32(out + 8, h->seq);
	overlay_put32(out + 12, h->dup_seq);
	overlay_put32(out + 16, (uint32_t)(h->timestamp_ns >> 32));
	overlay_put32(out + 20, (uint32_t)h->timestamp_ns);
}

enum overlay_error
overlay_decode(const uint8_t *in, size_t len, struct overlay_hdr *h)
{
	if (len < OVERLAY_HDR_LEN)
		return OVERLAY_TRUNCATED;
	h->version = in[0];
	h->type = in[1];
	h->path = overlay_get16(in + 2);
	h->network = overlay_get32(in + 4);
	h->seq = overlay_get32(in + 8);
	h->dup_seq = overlay_get32(in + 12);
	h->timestamp_ns = (uint64_t)overlay_get32(in + 16) << 32 | overlay_get32(in + 20);
	if (h->version != OVERLAY_VERSION)
		return OVERLAY_BAD_VERSION;
	if (h->type < OVERLAY_DATA || h->type > OVERLAY_PROBE_REPLY)
		return OVERLAY_BAD_TYPE;
	/* Zero where it means nothing, so a later version can give it a meaning. */
	if (h->dup_seq != 0 && h->type != OVERLAY_DATA_DUP)
		return OVERLAY_BAD_RESERVED;
	return OVERLAY_OK;
}

const char *
overlay_error_name(enum overlay_error e)
{
	static const char *const names[] = {
		[OVERLAY_OK] = "ok",
		[OVERLAY_TRUNCATED] = "truncated",
		[OVERLAY_BAD_VERSION] = "bad version",
		[OVERLAY_BAD_TYPE] = "bad type",
		[OVERLAY_BAD_RESERVED] = "reserved bits set",
	};

	if ((unsigned)e >= sizeof(names) / sizeof(names[0]))
		return "unknown error";
	return names[e];
}

static uint32_t
overlay_fnv1a(uint32_t hash, const char *s)
{
	for (; *s != '\0'; s++) {
		hash ^= (uint8_t)*s;
		hash *= OVERLAY_FNV_PRIME;
	}
	return hash;
}

/* FNV-1a over "TENANT.NETWORK"; 0 means "no network" on the wire, so never 0. */
uint32_t
overlay_network_id(const char *tenant, const char *network)
{
	uint32_t hash = overlay_fnv1a(OVERLAY_FNV_BASIS, tenant);

	hash = overlay_fnv1a(hash, ".");
	hash = overlay_fnv1a(hash, network);
	return hash != 0 ? hash : 1;
}
