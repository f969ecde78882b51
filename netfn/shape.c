/*
 * The tenant rate shaper; see shape.h for why and the rules.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netfn/shape.h"

/* Bytes in `ms` milliseconds at rate_kbps, at least min. */
static uint64_t
shape_ms_bytes(uint64_t rate_kbps, uint64_t ms, uint64_t min)
{
	uint64_t b;

	if (rate_kbps > UINT64_MAX / ms)
		return TB_BURST_MAX;
	b = rate_kbps * ms / 8;		/* kbit/s * ms = bit; / 8 = bytes */
	if (b < min)
		b = min;
	return b > TB_BURST_MAX ? TB_BURST_MAX : b;
}

int
shape_init(struct shape *s, uint32_t frames, uint64_t rate_kbps, uint64_t now)
{
	memset(s, 0, sizeof(*s));
	if (frames == 0 || frames > SHAPE_FRAMES_MAX || rate_kbps == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((s->ring = calloc(frames, sizeof(*s->ring))) == NULL)
		return -1;
	s->cap = frames;
	tb_init(&s->tb, rate_kbps, shape_ms_bytes(rate_kbps, SHAPE_BURST_MS, SHAPE_BURST_MIN), now);
	s->max_bytes = shape_ms_bytes(rate_kbps, SHAPE_QUEUE_MS, SHAPE_QUEUE_MIN);
	return 0;
}

void
shape_fini(struct shape *s)
{
	free(s->ring);
	memset(s, 0, sizeof(*s));
}

void
shape_set_rate(struct shape *s, uint64_t rate_kbps, uint64_t now)
{
	if (rate_kbps == 0 || rate_kbps == s->tb.rate_kbps)
		return;
	tb_set(&s->tb, rate_kbps, shape_ms_bytes(rate_kbps, SHAPE_BURST_MS, SHAPE_BURST_MIN), now);
	s->max_bytes = shape_ms_bytes(rate_kbps, SHAPE_QUEUE_MS, SHAPE_QUEUE_MIN);
}

enum shape_verdict
shape_offer(struct shape *s, const struct shape_frame *f, uint64_t now, int *mark)
{
	*mark = 0;
	/* Order is kept: nothing overtakes a held frame. */
	if (s->count == 0 && tb_take(&s->tb, f->len, now))
		return SHAPE_SEND;
	if (s->count == s->cap || (s->count > 0 && s->bytes + f->len > s->max_bytes))
		return SHAPE_FULL;
	*mark = s->bytes >= s->max_bytes / 2;
	s->ring[(s->head + s->count) % s->cap] = *f;
	s->count++;
	s->bytes += f->len;
	return SHAPE_HELD;
}

static void
shape_pop(struct shape *s, struct shape_frame *out)
{
	*out = s->ring[s->head];
	s->head = (s->head + 1) % s->cap;
	s->count--;
	s->bytes -= out->len;
}

uint32_t
shape_release(struct shape *s, uint64_t now, struct shape_frame *out, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && s->count > 0 && tb_take(&s->tb, s->ring[s->head].len, now))
		shape_pop(s, &out[n++]);
	return n;
}

uint64_t
shape_next_ns(const struct shape *s, uint64_t now)
{
	if (s->count == 0)
		return UINT64_MAX;
	return now + tb_wait_ns(&s->tb, s->ring[s->head].len, now);
}

uint32_t
shape_drain(struct shape *s, struct shape_frame *out, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && s->count > 0)
		shape_pop(s, &out[n++]);
	return n;
}

uint32_t
shape_wire_len(const uint8_t *vnet, uint32_t ip_len)
{
	uint32_t hdr_len = (uint32_t)vnet[2] | (uint32_t)vnet[3] << 8;
	uint32_t gso_size = (uint32_t)vnet[4] | (uint32_t)vnet[5] << 8;
	uint32_t segs;

	/* Little-endian, as TUN writes it (worker_vnet_check). */
	if ((vnet[1] & 0x7f) == 0 || gso_size == 0 || hdr_len >= ip_len)
		return ip_len;
	segs = (ip_len - hdr_len + gso_size - 1) / gso_size;
	/* Each segment after the first carries the headers again. */
	return ip_len + (segs - 1) * hdr_len;
}

int
shape_ecn_mark(uint8_t *ip, uint32_t len)
{
	uint32_t sum;
	uint16_t old, new;

	if (len < 20)
		return 0;
	switch (ip[0] >> 4) {
	case 4:
		if ((ip[1] & 3) == 0)
			return 0;
		if ((ip[1] & 3) == 3)
			return 1;
		old = (uint16_t)(ip[0] << 8 | ip[1]);
		ip[1] |= 3;
		new = (uint16_t)(ip[0] << 8 | ip[1]);
		/* HC' = ~(~HC + ~m + m'), RFC 1624 eqn. 3, one's complement sums. */
		sum = (uint16_t)~(ip[10] << 8 | ip[11]);
		sum += (uint16_t)~old;
		sum += new;
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (uint16_t)~sum;
		ip[10] = (uint8_t)(sum >> 8);
		ip[11] = (uint8_t)sum;
		return 1;
	case 6:
		if (len < 40 || (ip[1] & 0x30) == 0)
			return 0;
		ip[1] |= 0x30;	/* the traffic class's low two bits */
		return 1;
	}
	return 0;
}
