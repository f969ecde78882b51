/*
 * The receiver's duplicate filter for redundant steering: a flow sent over
 * two paths arrives twice, and only the first copy of each sequence number
 * may be delivered.  A sliding window like IPsec's anti-replay (RFC 4303,
 * appendix A): the highest sequence seen (`top`) and one bit for each of
 * the DEDUP_WINDOW sequences up to it (bit seq % DEDUP_WINDOW).
 *
 * Semantics of dedup_check(d, seq):
 *   - the first call (after dedup_init) takes seq as the start: delivered;
 *   - seq ahead of top (serial number arithmetic, RFC 1982: 1 to 2^31 - 1
 *     ahead, across the 2^32 wrap): delivered, top = seq; the sequences
 *     skipped are forgotten (they may still come, and are then within the
 *     window if less than DEDUP_WINDOW behind the new top).  A jump of
 *     DEDUP_WINDOW or more clears the whole window at once (1 KiB), a
 *     smaller one clears only the bits it passes, a word at a time;
 *   - seq within the window (top - seq < DEDUP_WINDOW, top included):
 *     delivered if its bit is clear (reordering), dropped if set (a
 *     duplicate);
 *   - seq older than the window (DEDUP_WINDOW or more behind, including
 *     exactly 2^31 apart, which RFC 1982 leaves undefined): dropped.
 *   - Sender restart: a sender that restarts begins again from its initial
 *     sequence, which looks older than the window.  After
 *     DEDUP_RESTART_RUN (64) consecutive arrivals all older than the window
 *     (any other arrival breaks the run), the sender must have restarted:
 *     the 64th is taken as a new start (delivered, window cleared, top =
 *     its seq).  The 63 before it were dropped: the price of not letting a
 *     stray old packet reset the window.  A restart that lands ahead of top
 *     needs no detection (it is a jump); one that lands inside the window
 *     loses the sequences whose bits are still set until top passes them.
 *
 * Fixed size, no pointers; one per flow direction that is duplicated.
 */
#ifndef CNW_DEDUP_H
#define CNW_DEDUP_H

#include <stdint.h>

#define DEDUP_WINDOW 8192		/* sequences remembered behind the highest seen */
#define DEDUP_RESTART_RUN 64		/* consecutive too-old arrivals that mean a restart */

struct dedup {
	uint32_t top;			/* highest sequence seen */
	uint32_t started;		/* top is meaningful */
	uint32_t stale_run;		/* consecutive arrivals older than the window */
	uint32_t pad;
	uint64_t bits[DEDUP_WINDOW / 64];	/* bit seq % DEDUP_WINDOW: seen */
};

void dedup_init(struct dedup *d);
/* 1: first copy of seq (deliver it); 0: a duplicate, or older than the window (drop). */
int dedup_check(struct dedup *d, uint32_t seq);

#endif
