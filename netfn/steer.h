/*
 * Steering: which uplink(s) a flow leaves by, decided from what the path
 * monitor and the HAL say of each candidate path.  Pure: the caller fills
 * a steer_req (the flow's mode, current port(s), last move, and the
 * candidate paths in the policy's preference order, already only the
 * allowed ones) and gets the port(s) and the reason back.  The worker asks
 * once per new flow and again at each periodic re-check.
 *
 * Order of the rules, for every mode:
 *
 *  1. No usable candidate: out = {STEER_NONE, STEER_NONE}, STEER_DOWN if
 *     the flow had a port, else STEER_NEW.
 *  2. The candidate set C: the usable paths, then two filters that only
 *     ever remove paths when a better one remains, so C is never empty:
 *     loss   paths losing more than STEER_LOSS_BAD_PPM (5%) are removed if
 *            some usable path loses less than STEER_LOSS_GOOD_PPM (1%);
 *     bound  with max_latency_us, paths that do not meet it are removed if
 *            one in C meets it.  Only a measured delay meets a bound.
 *     Loss first: a path dropping a twentieth of the packets is broken for
 *     every kind of traffic, a latency bound is a preference.
 *  3. A new flow (cur[0] == STEER_NONE), or one whose ports do not fit the
 *     mode (a second port outside redundant mode: its policy changed):
 *     the mode's pick in C, STEER_NEW.
 *  4. A current port unusable, or not among the candidates at all (the
 *     policy or the uplinks changed): the mode's pick, STEER_DOWN, at once,
 *     whatever the dwell.  In redundant mode, either port of the pair.
 *  5. Only once STEER_DWELL_NS has passed since moved_ns (>=):
 *     LOSS   a current port was removed by the loss filter;
 *     BOUND  a current port exceeds max_latency_us * 1.1 (measured, and
 *            some path meets the bound): between the bound and 1.1 times
 *            it a flow stays, which is the hysteresis that keeps it from
 *            bouncing on a path hovering at its bound;
 *     both move to the mode's pick in C.  Then the mode's own re-check
 *     (PREFERRED, DELAY, or nothing), which waits for the dwell too, but
 *     for redundant mode's restoring of a lost second copy.
 *  Whenever the answer equals cur (as a set, in redundant mode) the
 *  reason is STEER_KEEP and out == cur exactly.
 *
 * Ranking by delay (smallest-delay and redundant): measured paths by
 * delay_us, then unmeasured ones, ties in preference order.  "Better by
 * the margins" means at least STEER_BETTER_PCT percent and at least
 * STEER_BETTER_MIN_US lower (both >=).
 *
 * Modes (the pick, then the re-check of a flow that stays eligible):
 *  active-standby  the first of C in order.  Re-check: a flow on a later
 *            path than that goes back to it (PREFERRED).
 *  smallest-delay  the best ranked of C.  Re-check: move to it (DELAY) if
 *            it beats the current path by the margins, or if the current
 *            path is unmeasured and it is measured.
 *  load-balance  the path of C minimising (flows + 1) / (capacity * weight)
 *            (capacity 0 = STEER_DEFAULT_CAPACITY_KBPS, weight 0 = 1), ties
 *            among the minimal ones broken by hash % ties.  Re-check: none
 *            (flows never move for load, only for rules 4 and 5).
 *  priority  the first of C with load_kbps < STEER_FILL_PCT % of capacity
 *            (capacity 0 = never full); if all are full, the one with the
 *            most headroom (capacity - load, kbps), ties in order.
 *            Re-check: none.
 *  redundant the two best ranked of C, out[0] the better; if C holds one
 *            path, the second is the best ranked of the other usable paths
 *            (a second copy over a poor path still beats none); a single
 *            usable path gives out[1] = STEER_NONE.  A pair's delay is the
 *            mean of its two.  Re-check: a flow with a single port gets a
 *            pair as soon as two paths are usable, without waiting for the
 *            dwell (PREFERRED: adding a copy risks nothing); after the
 *            dwell, a different pair better by the margins (DELAY; a pair
 *            with an unmeasured member is worse than any measured pair).
 *
 * STEER_LOAD is never returned: no mode moves an existing flow for load
 * (moving flows to even out load would reorder them for little gain; new
 * flows do the balancing).  It stays in the vocabulary for the worker.
 *
 * An unknown mode is steered as active-standby (the default steering).
 * Only the first STEER_PATHS_MAX candidates are looked at; a port listed
 * twice is its first entry.  Capacities past 2^47 kbps count as 2^47.
 * Arithmetic is exact (128-bit products where needed), so ties are true
 * ties.  The caller sets the flow's moved_ns to now on any answer but
 * STEER_KEEP, and keeps each path's flows count up to date.
 */
#ifndef CNW_STEER_H
#define CNW_STEER_H

#include <stdint.h>

#include "netfn/classify.h"

#define STEER_DWELL_NS (1000 * 1000000ULL)	/* a flow stays at least this long after a move, unless its path fails */
#define STEER_BETTER_PCT 20			/* smallest-delay: move only if 20% and ... */
#define STEER_BETTER_MIN_US 2000		/* ... 2 ms better */
#define STEER_FILL_PCT 90			/* priority: a path is full at 90% of its capacity */
#define STEER_BOUND_SLACK_PCT 110		/* a flow moves off a path above 110% of its bound */
#define STEER_LOSS_BAD_PPM 50000		/* above 5% a path is avoided ... */
#define STEER_LOSS_GOOD_PPM 10000		/* ... for one below 1% */
#define STEER_DEFAULT_CAPACITY_KBPS 1000000ULL	/* load-balance: unknown capacity = 1 Gbit/s */
#define STEER_PATHS_MAX 64
#define STEER_NONE 0xff

enum steer_reason {
	STEER_KEEP = 0,
	STEER_NEW,
	STEER_DOWN,
	STEER_DELAY,
	STEER_LOSS,
	STEER_BOUND,
	STEER_LOAD,
	STEER_PREFERRED,
	STEER_REASON_MAX
};

/* "keep","new","down","delay","loss","bound","load","preferred" */
extern const char *const steer_reason_names[STEER_REASON_MAX];

struct steer_path {
	uint8_t port;			/* the uplink's port (what out[] returns) */
	uint8_t usable;			/* port up and its path not DEAD */
	uint8_t measured;		/* delay_us is a measurement */
	uint8_t pad;
	uint16_t weight;		/* load-balance weight, 0 = none */
	uint32_t delay_us, jitter_us, loss_ppm;
	uint32_t flows;			/* flows on it now */
	uint64_t capacity_kbps;		/* 0 unknown */
	uint64_t load_kbps;		/* its tx rate now */
};

struct steer_req {
	uint8_t mode;			/* enum policy_steering */
	uint8_t cur[2];			/* the flow's current port(s), STEER_NONE if none (a new flow) */
	uint8_t pad;
	uint32_t max_latency_us;	/* 0 none */
	uint32_t hash;			/* the flow's hash (for ties/spreading) */
	uint64_t now, moved_ns;		/* moved_ns: the flow's last move (or creation) */
	const struct steer_path *paths;	/* the candidates in preference order */
	uint32_t n;
};

/*
 * out[0], out[1] (STEER_NONE if unused; out[1] only for redundant);
 * returns the reason (STEER_KEEP: out == cur).  If no path is usable,
 * out = {STEER_NONE, STEER_NONE} and the reason is STEER_DOWN when the
 * flow had one, else STEER_NEW.
 */
int steer_decide(const struct steer_req *r, uint8_t out[2]);

#endif
