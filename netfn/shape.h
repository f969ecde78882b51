/*
 * A rate shaper: a bounded FIFO released by a token bucket, for a tenant's
 * bandwidth quota.
 *
 * Why.  A policer drops what is over the rate at once.  Against a 64 KiB
 * GSO frame that is a whole window's worth of segments lost together, and
 * single-stream TCP settles at about 30% of the rate (issue 12: 0.3 Gbit/s
 * of a 1 Gbit/s quota).  Held here instead and released at the rate, the
 * excess is a delay TCP can measure; a frame is dropped only when the queue
 * is full, and an ECN-capable one is marked Congestion Experienced before
 * that (from half the bound), so an ECN sender slows down without a loss.
 *
 * Pure logic, like sched.h: the caller passes the time, frames are buffer
 * indexes and their wire sizes, nothing here touches their bytes except
 * shape_ecn_mark.  No allocation after shape_init, O(1) per frame.
 */
#ifndef CNW_SHAPE_H
#define CNW_SHAPE_H

#include <stdint.h>

#include "netfn/sched.h"

/*
 * The bucket: 5 ms at the rate, and at least two 64 KiB GSO frames.  A
 * frame conforms when the bucket holds min(frame, burst); were the burst
 * under the frame, the frame would wait for a full bucket and every
 * nanosecond the worker then takes to come round would be rate lost
 * (1.1% at 100 Mbit/s with 64 KiB frames polled every 100 us).
 */
#define SHAPE_BURST_MS 5
#define SHAPE_BURST_MIN (2 * 65536ULL)
#define SHAPE_QUEUE_MS 50		/* the queue: 50 ms at the rate, */
#define SHAPE_QUEUE_MIN (256 * 1024ULL)	/* at least 256 KiB (a few GSO frames) */
#define SHAPE_FRAMES_MAX 4096		/* shape_init's bound */

/* One held frame: its buffer, the uplink port and class it goes to, its wire size. */
struct shape_frame {
	uint32_t idx;
	uint32_t port;
	uint32_t len;			/* what the bucket counts */
	uint32_t cls;
};

struct shape {
	struct tbucket tb;
	struct shape_frame *ring;	/* cap entries */
	uint32_t cap, head, count;
	uint64_t bytes;			/* queued */
	uint64_t max_bytes;		/* the bound; a lone frame always fits */
};

/* Ring memory for `frames` entries (<= SHAPE_FRAMES_MAX), rate rate_kbps (> 0); -1 and errno if not. */
int shape_init(struct shape *s, uint32_t frames, uint64_t rate_kbps, uint64_t now);
/* Frees the ring; the frames still held are the caller's (shape_drain first). */
void shape_fini(struct shape *s);
/* A live change of rate: the tokens and the frames held are kept; the bound follows the rate. */
void shape_set_rate(struct shape *s, uint64_t rate_kbps, uint64_t now);

enum shape_verdict {
	SHAPE_SEND,			/* conforms and nothing is waiting: send it now (tokens taken) */
	SHAPE_HELD,			/* queued; shape_release gives it back */
	SHAPE_FULL,			/* the queue is full: the caller drops it */
};
/*
 * Offer a frame.  *mark is set to 1 if the frame is held with the queue
 * past half its bound (the caller marks it CE if it is ECN-capable), else 0.
 */
enum shape_verdict shape_offer(struct shape *s, const struct shape_frame *f, uint64_t now,
    int *mark);
/* The held frames that may leave at now, oldest first, at most max; returns how many. */
uint32_t shape_release(struct shape *s, uint64_t now, struct shape_frame *out, uint32_t max);
/* When the oldest held frame may leave: UINT64_MAX if none is held, else >= now (now: at once). */
uint64_t shape_next_ns(const struct shape *s, uint64_t now);
/* Take held frames out whatever the rate (a reset, a tenant removed); call until it returns 0. */
uint32_t shape_drain(struct shape *s, struct shape_frame *out, uint32_t max);

/* The frame's bytes on the wire, a GSO frame as the IP packets it will be cut into. */
uint32_t shape_wire_len(const uint8_t *vnet, uint32_t ip_len);
/*
 * Mark an IPv4 or IPv6 packet Congestion Experienced if it is
 * ECN-capable (ECT(0) or ECT(1)); the IPv4 header checksum is fixed
 * (RFC 1624).  1 if it carries CE now, 0 if it is not ECN-capable
 * (untouched).
 */
int shape_ecn_mark(uint8_t *ip, uint32_t len);

#endif
