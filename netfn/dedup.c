/*
 * The duplicate filter of redundant steering (see dedup.h): a bitmap
 * window behind the highest sequence number seen, as IPsec's anti-replay
 * window, because it is the structure that answers "seen before?" in O(1)
 * with a fixed 1 KiB per flow and tolerates the reordering two paths of
 * different delay produce (8192 packets: 80 ms of a 1 Gbit/s flow of
 * 1250-byte packets, more than the delay difference of two terrestrial
 * paths).
 *
 * The bitmap is indexed by seq % DEDUP_WINDOW and never shifted: advancing
 * the top only clears the bits of the sequences it passes, which a big
 * jump does by clearing the whole map, so no input costs more than one
 * pass over 1 KiB.
 */
#include <stdint.h>
#include <string.h>

#include "netfn/dedup.h"

static uint64_t *
dedup_word(struct dedup *d, uint32_t seq)
{
	return &d->bits[(seq % DEDUP_WINDOW) / 64];
}

static uint64_t
dedup_mask(uint32_t seq)
{
	return 1ULL << (seq % 64);
}

/* Clear count (< DEDUP_WINDOW) bits from position from, a word at a time. */
static void
dedup_clear(struct dedup *d, uint32_t from, uint32_t count)
{
	uint32_t bit, n;
	uint64_t mask;

	while (count > 0) {
		bit = from % 64;
		n = 64 - bit < count ? 64 - bit : count;
		mask = n == 64 ? ~0ULL : ((1ULL << n) - 1) << bit;
		*dedup_word(d, from) &= ~mask;
		from = (from + n) % DEDUP_WINDOW;
		count -= n;
	}
}

/* seq starts the window afresh: first packet, or a restarted sender. */
static int
dedup_start(struct dedup *d, uint32_t seq)
{
	memset(d->bits, 0, sizeof(d->bits));
	d->top = seq;
	d->started = 1;
	d->stale_run = 0;
	*dedup_word(d, seq) |= dedup_mask(seq);
	return 1;
}

/* seq is ahead of top by delta (1 .. 2^31 - 1). */
static int
dedup_advance(struct dedup *d, uint32_t seq, uint32_t delta)
{
	if (delta >= DEDUP_WINDOW)
		memset(d->bits, 0, sizeof(d->bits));
	else
		dedup_clear(d, (d->top + 1) % DEDUP_WINDOW, delta);
	d->top = seq;
	*dedup_word(d, seq) |= dedup_mask(seq);
	return 1;
}

void
dedup_init(struct dedup *d)
{
	memset(d, 0, sizeof(*d));
}

int
dedup_check(struct dedup *d, uint32_t seq)
{
	uint32_t ahead = seq - d->top, behind = d->top - seq;
	uint64_t *w;

	if (!d->started)
		return dedup_start(d, seq);
	/* RFC 1982: ahead if 1 .. 2^31 - 1 after top, modulo 2^32. */
	if (ahead != 0 && ahead < 1u << 31) {
		d->stale_run = 0;
		return dedup_advance(d, seq, ahead);
	}
	if (behind >= DEDUP_WINDOW) {
		if (++d->stale_run >= DEDUP_RESTART_RUN)
			return dedup_start(d, seq);
		return 0;
	}
	d->stale_run = 0;
	w = dedup_word(d, seq);
	if (*w & dedup_mask(seq))
		return 0;
	*w |= dedup_mask(seq);
	return 1;
}
