/*
 * The fast path's scheduler: token buckets for policing, and the egress
 * queueing discipline of a paced uplink.
 *
 * Why.  A policy's rate cap is enforced by the worker, frame by frame, with
 * a token bucket (tb_*); a tenant's bandwidth quota by one too, behind a
 * queue (netfn/shape.h).  And an uplink
 * whose capacity is known (an emulated rate, worker_uplink_cfg.shape_kbps) is
 * paced by the worker itself: if the worker pushed frames at it as fast as
 * they came, the backlog would build in a queue we do not control (the
 * driver's, the link's), first come first served, and a realtime frame
 * would wait behind a tenant's bulk transfer.  Held here instead, the
 * backlog is served by class in strict priority (realtime, interactive,
 * bulk, background: enum policy_class) and, inside a class, by deficit
 * round robin between the tenants that have frames waiting, so one tenant
 * cannot starve another that shares the uplink (sched_*).
 *
 * Pure logic: the caller passes the time (CLOCK_MONOTONIC nanoseconds) in
 * every call, so every figure is exact and testable.  Frames are buffer
 * indexes and lengths; nothing here touches their bytes.  One bucket and
 * one sched are used by one thread.  No allocation after sched_new, no
 * system call, O(1) per frame (see sched.c for the bound with frames
 * larger than the quantum).
 */
#ifndef CNW_SCHED_H
#define CNW_SCHED_H

#include <stdint.h>

/* Token bucket --------------------------------------------------------------- */

/*
 * Tokens are counted in microbits: a byte is TB_UNIT of them and a rate of
 * rate_kbps kbit/s (1000 bit/s) adds exactly rate_kbps of them per
 * nanosecond, so refills are whole numbers and a bucket never drifts, over
 * any number of takes.
 *
 * Rules:
 *   - rate_kbps 0 means no limit (like a policy's "rate 0: no cap"): every
 *     take succeeds and tb_wait_ns is 0.
 *   - A new bucket is full (burst bytes of tokens).
 *   - A frame of `bytes` conforms when the bucket holds at least
 *     min(bytes, burst) bytes of tokens; taking it removes `bytes`.  So a
 *     frame larger than the burst (a 64 KiB GSO frame through a small
 *     bucket) still passes once the bucket is full, and leaves it in debt
 *     by its excess, which the rate pays back before anything else passes:
 *     the long-run rate holds and nothing deadlocks.  Over any interval t,
 *     what passes is at most rate * t + burst, or rate * t + the largest
 *     frame if that is larger.  Burst 0 is pure pacing: each frame waits
 *     until the previous one is paid for.
 *   - A clock going backwards adds nothing (and is not remembered).
 */
#define TB_UNIT 8000000ULL		/* microbits per byte */
#define TB_BURST_MAX (1ULL << 40)	/* bytes (1 TiB); larger bursts are clamped */
#define TB_BURST_MIN_DEFAULT 65536ULL	/* tb_default_burst's floor */

struct tbucket {
	uint64_t rate_kbps;		/* 0 = unlimited */
	uint64_t burst;			/* bytes, <= TB_BURST_MAX */
	int64_t tokens;			/* microbits; < 0 = in debt (one frame over the burst) */
	uint64_t last_ns;		/* when tokens was last brought up to date */
};

/* A full bucket of burst_bytes (clamped to TB_BURST_MAX), refilled at rate_kbps. */
void tb_init(struct tbucket *b, uint64_t rate_kbps, uint64_t burst_bytes, uint64_t now);
/*
 * A live change: the tokens are brought up to now at the old rate, then
 * kept, clamped to the new burst (a debt is kept too); the new rate
 * applies from now.  From unlimited to limited the bucket starts full.
 */
void tb_set(struct tbucket *b, uint64_t rate_kbps, uint64_t burst_bytes, uint64_t now);
/* 1 and the tokens taken if the frame conforms at now (rules above); 0 and nothing taken if not. */
int tb_take(struct tbucket *b, uint32_t bytes, uint64_t now);
/*
 * 0 if a frame of `bytes` conforms at now, else the nanoseconds until it
 * will, exactly: tb_take at now + wait succeeds, at now + wait - 1 it
 * would not (if nothing else is taken meanwhile).  With a clock earlier
 * than the bucket's last_ns, counted from now all the same.
 */
uint64_t tb_wait_ns(const struct tbucket *b, uint32_t bytes, uint64_t now);
/* A policing burst: max(64 KiB, 50 ms at the rate), clamped to TB_BURST_MAX. */
uint64_t tb_default_burst(uint64_t rate_kbps);

/* Egress scheduler ------------------------------------------------------------ */

#define SCHED_CLASSES 4			/* enum policy_class: 0 = realtime first */
#define SCHED_QUANTUM 1514		/* DRR quantum, bytes */
#define SCHED_PACE_BURST_MIN (2 * SCHED_QUANTUM)	/* bytes */
#define SCHED_PACE_BURST_MS 5		/* the pace's burst, in milliseconds at the rate */
#define SCHED_FRAMES_MAX (1U << 24)	/* sched_new's bounds */
#define SCHED_LANES_MAX (1U << 20)

/* One per paced uplink (opaque). */
struct sched;

/*
 * A scheduler for at most max_frames queued frames in at most max_lanes
 * lanes (a lane is one tenant's queue in one class; it exists while it
 * holds frames, so max_lanes is clamped to max_frames).  Each lane holds at
 * most max_frames / 2 frames (at least 1), and no byte limit until
 * sched_set_lane_bytes.  A new one is not paced (rate 0: frames leave as
 * soon as they are asked for, still in class and DRR order).  NULL with
 * errno EINVAL if a bound is 0 or over SCHED_*_MAX, ENOMEM if memory is
 * short.
 */
struct sched *sched_new(uint32_t max_frames, uint32_t max_lanes);
/* Frees q (NULL is fine); the frames still queued are the caller's to free (sched_drain first). */
void sched_free(struct sched *q);
/*
 * The pace, a token bucket at rate_kbps with a burst of max(2 * 1514
 * bytes, SCHED_PACE_BURST_MS at the rate); 0 = not paced.  A live change
 * keeps the tokens (tb_set).
 *
 * The burst is what the link's own queue may receive beyond its rate:
 * after the worker was kept off the CPU (a busy host) the tokens it
 * gathered meanwhile are sent at once, up to the burst, instead of being
 * lost (a 1 ms burst lost a fifth of a 300 Mbit/s link on a busy
 * two-core host).  It is also the most a realtime frame can find queued
 * ahead of it in the link.
 */
void sched_set_rate(struct sched *q, uint64_t rate_kbps, uint64_t now);
/*
 * The most bytes a lane holds (0 = no limit, the default): a frame that
 * would take its lane over it is refused, except into an empty lane (a
 * lone frame always fits, whatever its size).  Lanes over a new, lower
 * limit keep their frames and take no more until they are under it.  The
 * worker sets a time's worth at the rate, so a tenant's backlog in a class
 * is a delay, not a frame count.
 */
void sched_set_lane_bytes(struct sched *q, uint64_t bytes);
/*
 * Queue the frame in buffer idx, len bytes on the wire (what the pace and
 * DRR count), for tenant `tenant` (any value) in class cls.  0, or -1 if
 * it is not queued (the caller drops it, or makes room with sched_evict
 * and tries again): all max_frames are queued, the tenant's lane in this
 * class is at its limits, all lanes are in use and this would need a new
 * one, or cls >= SCHED_CLASSES.
 */
int sched_enqueue(struct sched *q, uint32_t cls, uint32_t tenant, uint32_t idx, uint32_t len);
/*
 * Make room for a frame of len bytes for (cls, tenant) that sched_enqueue
 * refused: the oldest frame of the lane whose turn it is in the lowest
 * class queued goes, if that class is lower than cls, or if it is cls
 * and that lane (another tenant's) holds more than one frame more than
 * the tenant's own.  1 and its buffer index in *idx (the caller frees
 * it, a drop); 0 if nothing may go for this frame, or if it would be
 * refused all the same (its lane is at its limits, or it needs a lane and
 * none would be freed).  O(1).  So a realtime frame is never dropped for
 * lack of room while bulk ones wait, and a tenant that fills the queue
 * gives way to one that has less in it.
 */
int sched_evict(struct sched *q, uint32_t cls, uint32_t tenant, uint32_t len, uint32_t *idx);
/*
 * The frames that may leave at now, at most max, into idx[] and len[] in
 * the order they leave: the lowest class with frames first (strict
 * priority), DRR between the tenants of a class, each frame only if the
 * pace lets it go (a frame the pace holds back holds back everything
 * behind it, lower classes included).  Returns how many.
 */
uint32_t sched_dequeue(struct sched *q, uint64_t now, uint32_t *idx, uint32_t *len, uint32_t max);
/*
 * When the next frame may leave: UINT64_MAX if nothing is queued, now if
 * one may leave now, else the exact nanosecond (sched_dequeue at that time
 * returns it, one nanosecond before it returns nothing), as long as
 * nothing of a higher class is queued meanwhile.
 */
uint64_t sched_next_ns(const struct sched *q, uint64_t now);
/* Frames queued. */
uint32_t sched_backlog(const struct sched *q);
/* Lanes in use (lanes with frames). */
uint32_t sched_lanes(const struct sched *q);
/*
 * Take out queued frames whatever the pace (a port reset, or before
 * sched_free): at most max indexes into idx[]; returns how many.  Call
 * until it returns 0.  The pace is left as it is.
 */
uint32_t sched_drain(struct sched *q, uint32_t *idx, uint32_t max);

#endif
