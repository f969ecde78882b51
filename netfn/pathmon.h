/*
 * The path monitor: what the probes of one overlay path (one uplink to the
 * peer site) say about it, as numbers the steering decision can use.  The
 * worker sends an OVERLAY_PROBE every PATH_PROBE_INTERVAL_NS on every path,
 * the peer echoes it, and this estimator turns sends, echoes and the
 * passage of time into RTT, jitter, loss and an up/dead state.
 *
 * It is pure: no clock, no I/O, no allocation.  Every function takes the
 * time `now` (CLOCK_MONOTONIC ns), so tests drive it to the nanosecond and
 * the worker keeps one struct per path in its own memory.  Time never runs
 * backwards here: a `now` earlier than a time recorded before counts as no
 * time having passed.
 *
 * The contract (what the numbers mean):
 *
 *   RTT       smoothed as TCP's SRTT (RFC 6298): the first sample sets it,
 *             then srtt += (rtt - srtt) / 8.  Kept in ns, scaled by 8, so a
 *             steady RTT is reached exactly and never overshot.  A sample
 *             is clamped to PATH_RTT_MAX_NS.
 *   jitter    EWMA of gain 1/16 of |rtt_i - rtt_{i-1}|, the raw samples
 *             (RFC 3550 section 6.4.1 applied to the RTT); 0 until the
 *             second sample.  Scaled by 16, so it too converges exactly.
 *   lost      a probe unanswered when its age reaches (>=) the loss
 *             timeout max(PATH_LOSS_MIN_NS, 2 * srtt + 4 * jitter), or
 *             whose ring slot is needed by a newer probe (PATH_WINDOW
 *             outstanding).  Its reply, should it come later, is stale: no
 *             RTT sample, refused (-1), but it proves the path alive (see
 *             state).  Probes are aged by path_tick and by path_probe_reply,
 *             so a reply's fate does not depend on when the last tick ran.
 *   loss_ppm  lost / (lost + answered) over the last PATH_WINDOW probes
 *             whose fate is known, in the order their fates became known
 *             (answered on reply, lost on timeout); 0 while none is known.
 *   state     UNKNOWN at init and after path_reset.  UP on a reply (an
 *             accepted one, or a stale one whose seq and timestamp are
 *             genuine: a late echo still proves the path carries packets).
 *             DEAD, from UP or UNKNOWN, when no reply came for
 *             max(PATH_DEAD_MIN_NS, 2 * srtt + 4 * jitter) (reached: >=)
 *             AND at least PATH_DEAD_PROBES probes were sent since the last
 *             reply; before the first RTT sample the bound is
 *             PATH_LOSS_MIN_NS instead, since an unmeasured path (a
 *             geostationary satellite answers after 600 ms) must not be
 *             declared dead before its first echo could possibly return.
 *             The time is counted from the last reply, or from init/reset.
 *             DEAD becomes UP on the next genuine reply.  Only path_tick
 *             declares a path DEAD.
 *   delay     one-way estimate srtt / 2 in microseconds, at least 1 once
 *             there is a sample (0 means "unknown").
 *   sent, answered  probes sent and replies accepted since path_est_init;
 *             path_reset keeps them (counters only grow).
 *
 * Echoes are verified: a reply is accepted only for a sequence number sent
 * among the last PATH_WINDOW, still outstanding (not answered, not lost),
 * with the very send timestamp recorded for it, at a `now` not before it.
 * Sequence numbers are 32 bits and wrap; they are compared for equality
 * only, against the slot seq % PATH_WINDOW, so wrap needs no special case.
 * path_reset does not rewind them, so echoes of probes sent before a reset
 * are refused.
 */
#ifndef CNW_PATHMON_H
#define CNW_PATHMON_H

#include <stdint.h>

#define PATH_PROBE_INTERVAL_NS (50 * 1000000ULL)	/* one probe per path every 50 ms */
#define PATH_WINDOW 64				/* loss is over the last 64 probes whose fate is known */
#define PATH_DEAD_MIN_NS (250 * 1000000ULL)
#define PATH_DEAD_PROBES 3			/* sent since the last reply before DEAD */
#define PATH_LOSS_MIN_NS (1000 * 1000000ULL)	/* floor of the loss timeout */
#define PATH_RTT_MAX_NS (60 * 1000000000ULL)	/* an RTT sample is clamped to this */

enum path_state { PATH_UNKNOWN = 0, PATH_UP = 1, PATH_DEAD = 2 };

struct path_metrics {
	uint32_t state;			/* enum path_state */
	uint32_t rtt_us, jitter_us, loss_ppm;	/* rtt 0: no sample yet */
	uint64_t sent, answered;
};

/* The fate of one probe in the ring. */
enum path_fate {
	PATH_FATE_FREE = 0,		/* no probe, or one sent before a reset */
	PATH_FATE_OUTSTANDING,
	PATH_FATE_ANSWERED,
	PATH_FATE_LOST,
	PATH_FATE_LATE,			/* lost, then its stale reply came */
};

struct path_probe {
	uint64_t sent_ns;
	uint32_t seq;
	uint32_t fate;			/* enum path_fate */
};

#define PATH_F_SENT 0x1u		/* a probe was sent since init/reset */
#define PATH_F_RTT 0x2u			/* srtt8 holds a sample */
#define PATH_F_PREV 0x4u		/* prev_rtt_ns holds a sample (jitter) */

/* Fixed size, no pointers: it may live in shared memory. */
struct path_est {
	uint32_t state;			/* enum path_state */
	uint32_t flags;			/* PATH_F_* */
	uint32_t next_seq;		/* of the next probe */
	uint32_t since_reply;		/* probes sent since the last reply (saturates) */
	uint32_t nfates;		/* fates in `history`, at most PATH_WINDOW */
	uint32_t pad;
	uint64_t history;		/* bit i: the i-th latest known fate was a loss */
	uint64_t srtt8;			/* smoothed RTT, ns << 3 */
	uint64_t jitter16;		/* smoothed |rtt delta|, ns << 4 */
	uint64_t prev_rtt_ns;		/* the last RTT sample */
	uint64_t last_sent_ns;		/* the last probe's send time */
	uint64_t last_reply_ns;		/* the last genuine reply, or init/reset */
	uint64_t sent, answered;
	struct path_probe ring[PATH_WINDOW];	/* by seq % PATH_WINDOW */
};

/* Lifecycle ----------------------------------------------------------- */

void path_est_init(struct path_est *p, uint64_t now);
/* The port went down/up: forget the window, RTT and jitter; state UNKNOWN. */
void path_reset(struct path_est *p, uint64_t now);

/* Probing ------------------------------------------------------------- */

/* 1: send a probe now (none sent yet, or PATH_PROBE_INTERVAL_NS since the last). */
int path_probe_due(const struct path_est *p, uint64_t now);
/* Record a probe sent now; returns its sequence number (put it in the header). */
uint32_t path_probe_sent(struct path_est *p, uint64_t now);
/*
 * The echo of probe seq, carrying the send time sent_ns we put in it.
 * 0: accepted (an RTT sample, state UP).  -1: unknown, stale, duplicate,
 * or sent_ns is not what we sent (a forged echo), or now is before sent_ns.
 * A stale genuine echo returns -1 but makes the path UP (see above).
 */
int path_probe_reply(struct path_est *p, uint32_t seq, uint64_t sent_ns, uint64_t now);
/* Age outstanding probes into losses, update the state; 1 if the state changed. */
int path_tick(struct path_est *p, uint64_t now);

/* Reading ------------------------------------------------------------- */

void path_get(const struct path_est *p, struct path_metrics *out);
/* enum path_state: compare before and after path_probe_reply to see a change. */
uint32_t path_state(const struct path_est *p);
/* One-way delay estimate, srtt / 2 in us; 0 unknown. */
uint32_t path_delay_us(const struct path_est *p);
/* The current loss timeout and DEAD bound, in ns (for tests and display). */
uint64_t path_loss_timeout_ns(const struct path_est *p);
uint64_t path_dead_bound_ns(const struct path_est *p);

#endif
