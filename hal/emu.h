/*
 * Link emulation in user space: rate, delay, jitter, loss, slotted access
 * and a bottleneck queue for one direction of an uplink, plus a scheduled
 * failure ("flap") of the whole link.
 *
 * It exists because the kernel's netem cannot be used where cnw runs (no
 * sch_netem in the kernel, no capabilities in the driver host), and a
 * site's behaviour over a bad uplink has to be testable all the same.  The
 * driver host (hal/host.c) keeps one queue per direction: egress holds the
 * frames it sends out of the uplink, ingress the frames it received, before
 * they reach the fast path.  A frame is copied in when it is offered and
 * taken out when it is due.
 *
 * Pure logic: the caller passes the time (CLOCK_MONOTONIC nanoseconds) in
 * every call, and the randomness comes from a seeded generator, so the same
 * seed and the same offers at the same times give the same losses and
 * delays.  The model is described at the top of hal/emu.c.  One queue is
 * used by one thread.
 */
#ifndef CNW_HAL_EMU_H
#define CNW_HAL_EMU_H

#include <stddef.h>
#include <stdint.h>

/* Parameters --------------------------------------------------------------- */

/* Bounds of emu_dir_check. */
#define EMU_RATE_KBPS_MAX 100000000ULL	/* 100 Gbit/s */
#define EMU_DELAY_US_MAX 10000000U	/* 10 s */
#define EMU_JITTER_US_MAX 5000000U	/* 5 s */
#define EMU_LOSS_PPM_MAX 1000000U	/* 100% */
#define EMU_SLOT_US_MAX 1000000U	/* 1 s */
#define EMU_QUEUE_KB_MAX 262144U	/* 256 MiB: what the driver host reserves per direction */
/* How long the delay variation (jitter) stays correlated (hal/emu.c, model step 3). */
#define EMU_JITTER_CORR_NS 50e6
/* The bottleneck queue when queue_kb is 0: 100 ms at the rate, at least this. */
#define EMU_QUEUE_MIN_BYTES 65536U

/* One direction's parameters, integer units. */
struct emu_dir {
	uint64_t rate_kbps;		/* link rate, 1000 bit/s units; 0 = not limited */
	uint32_t delay_us;		/* one-way delay added */
	uint32_t jitter_us;		/* standard deviation of a normal variation of
					   the delay, correlated over 50 ms, clamped
					   to +-2 sigma; never makes the delay
					   negative */
	uint32_t loss_ppm;		/* random loss, parts per million (1% = 10000),
					   0..1000000 */
	uint32_t slot_us;		/* slotted medium access: a frame leaves only
					   at a multiple of slot_us (LTE TTI, 5G slot);
					   0 = none */
	uint32_t queue_kb;		/* bottleneck queue in KiB (bytes waiting for
					   the link, not in flight); 0 = default: 100 ms
					   at the rate, at least 64 KiB; without a rate
					   there is no bottleneck and it is unused */
};

struct emu_params {
	char profile[16];		/* the profile these came from, "custom" when
					   changed by hand, "" = off */
	uint64_t seed;			/* of the random source; same seed, same frames
					   offered at the same times -> same losses and
					   delays */
	struct emu_dir egress;		/* the host's upload: frames sent out of the uplink */
	struct emu_dir ingress;		/* download: frames received from the uplink */
};

/* Profiles: "off", "ethernet", "wifi", "lte", "5g", "satellite-geo", "satellite-leo". */
#define EMU_NPROFILES 7

/*
 * Profiles by name (exact, lower case): fills *out (profile name set, seed
 * untouched) and returns 0; -1 if unknown.  "off" is all zero with profile
 * "".  A profile's queue_kb is 0 (the default queue).
 */
int emu_profile_find(const char *name, struct emu_params *out);
/* Iterate: the i-th profile name or NULL past the end (for error messages and man pages). */
const char *emu_profile_name(size_t i);
/*
 * Range check of one direction: 0, or -1 with a clear message in err
 * ("loss_ppm 1200000 is over 1000000 (100%)"; err may be NULL).  The bounds
 * are the EMU_*_MAX above; rate_kbps 0 means unlimited (not "nothing
 * passes"), and jitter may exceed delay (the delay is then cut at 0).
 */
int emu_dir_check(const struct emu_dir *d, char *err, size_t errlen);
/* Whether a direction changes anything (any field nonzero, queue_kb alone does not count). */
int emu_dir_active(const struct emu_dir *d);

/* Failure drill -------------------------------------------------------------- */

/* The link goes down for down_us, up for up_us, count times (0 = until changed), starting down. */
struct emu_flap {
	uint64_t down_us;		/* each outage, > 0, <= 1 hour */
	uint64_t up_us;			/* each time up between outages, > 0, <= 1 hour */
	uint32_t count;			/* outages; 0 = no end */
};

#define EMU_FLAP_MAX_US 3600000000ULL	/* 1 hour */

/*
 * "down=200ms,up=800ms" or "down=1s,up=2.5s,count=5": keys in any order,
 * each once, down and up required and > 0 and <= 1 hour; durations are a
 * decimal number with a unit us, ms or s (emu_duration_parse); count is a
 * whole number (0 = no end).  No spaces.  0, or -1 with a clear message
 * naming what is wrong; *out is written only on success.
 */
int emu_flap_parse(const char *s, struct emu_flap *out, char *err, size_t errlen);
/*
 * The canonical text of f ("down=200ms,up=800ms,count=5"; count left out
 * when 0; each duration in the largest unit that keeps it whole, so 2.5 s
 * is "2500ms"), which round-trips through emu_flap_parse.  Returns the
 * length of the text, or -1 if it does not fit in len bytes with its NUL
 * (buf is then "" if len > 0).
 */
int emu_flap_format(const struct emu_flap *f, char *buf, size_t len);
/*
 * 1 if up, 0 if down at now (the pattern started at start_ns); *next_ns =
 * when that changes (UINT64_MAX never again); next_ns may be NULL.  Before
 * start_ns the link is up and changes at start_ns.  After count outages it
 * stays up.  A pattern with down_us 0 is always up; with up_us 0 (and
 * down_us > 0) it is down for count * down_us, or for ever if count is 0.
 */
int emu_flap_state(const struct emu_flap *f, uint64_t start_ns, uint64_t now_ns, uint64_t *next_ns);
/*
 * Parse one duration ("250us", "1.5ms", "2s", "0s") into microseconds: a
 * decimal number (digits, optionally a point and more digits) and a unit.
 * 0, or -1 if it is not one, is finer than 1 us ("0.5us") or overflows.
 */
int emu_duration_parse(const char *s, uint64_t *us);

/* The engine ------------------------------------------------------------------- */

/* The frame's peer address, carried through unchanged (struct hal_frame's). */
struct emu_meta {
	uint16_t family;		/* AF_INET, AF_INET6, 0 */
	uint16_t port;			/* network byte order */
	uint8_t addr[16];
};

/* One direction's queue of copied frames (opaque). */
struct emu_queue;

/*
 * cap_bytes: memory for frames in the queue and in flight (mmap'ed,
 * MAP_NORESERVE, so untouched pages cost nothing); each frame takes its
 * length plus a 40-byte header, rounded up to 8.  NULL on failure (errno
 * set; EINVAL if cap_bytes is under 64).  A new queue has all parameters 0
 * (frames pass at once) and seed 0.
 */
struct emu_queue *emu_queue_new(size_t cap_bytes);
void emu_queue_free(struct emu_queue *q);
/*
 * New parameters (d NULL = all 0) apply to frames offered from now on;
 * frames already in the queue keep their departure times, and the next
 * frames still leave after them.  seed restarts the random source only when
 * it differs from the last one given (the first given to a new queue is 0).
 */
void emu_queue_set(struct emu_queue *q, const struct emu_dir *d, uint64_t seed);

enum emu_verdict {
	EMU_QUEUED,			/* copied; comes out at its departure time */
	EMU_LOST,			/* dropped at random (loss_ppm) */
	EMU_OVERFLOW			/* the bottleneck queue or the memory is full */
};

/*
 * Offer a frame at now: lost at random, refused when the bottleneck queue
 * (or the memory) is full, else copied with its departure time.  wire_len
 * is the frame's size on the link for the rate (the caller adds its
 * headers, e.g. len + 28 for IPv4/UDP).  meta may be NULL (zeros).  A frame
 * is refused by the queue limit only when the link is busy: one that starts
 * on an idle link at once waits for nothing, whatever its size.
 */
enum emu_verdict emu_queue_push(struct emu_queue *q, uint64_t now_ns, const void *data,
    uint32_t len, uint32_t wire_len, const struct emu_meta *meta);
/*
 * The head frame if it is due at now (departure <= now), else NULL; *len
 * and *meta are filled if not NULL.  Pointers stay valid until
 * emu_queue_pop (or emu_queue_flush, emu_queue_free); pushing more frames
 * does not move them.
 */
const void *emu_queue_peek(struct emu_queue *q, uint64_t now_ns, uint32_t *len, struct emu_meta *meta);
/* Remove the head frame, due or not, counting it as sent; nothing if empty. */
void emu_queue_pop(struct emu_queue *q);
/*
 * Up to n frames due at now, from the head, without removing them (for a
 * burst send): data[i], len[i], meta[i].  Returns how many.  The pointers
 * stay valid until the next emu_queue_push; emu_queue_pop_n(q, k) then
 * removes the first k (those the device took).
 */
unsigned emu_queue_peek_burst(struct emu_queue *q, uint64_t now_ns, unsigned n,
    const void **data, uint32_t *len, struct emu_meta *meta);
void emu_queue_pop_n(struct emu_queue *q, unsigned n);
/* Departure time of the head frame, UINT64_MAX if empty. */
uint64_t emu_queue_next_ns(const struct emu_queue *q);
/*
 * Drop everything queued (link down), counting it as lost (and flushed).
 * The link is idle afterwards: the next frame waits for no dropped one.
 */
void emu_queue_flush(struct emu_queue *q);

/*
 * Frames offered = queued + overflow + (lost - flushed); queued = sent +
 * flushed + those still in the queue.  lost includes the flushed frames
 * because, to the far end, a frame dropped by a link going down is lost.
 */
struct emu_counters {
	uint64_t queued;		/* accepted (EMU_QUEUED) */
	uint64_t sent;			/* taken out by emu_queue_pop */
	uint64_t lost;			/* EMU_LOST, plus the flushed ones */
	uint64_t overflow;		/* EMU_OVERFLOW */
	uint64_t flushed;		/* dropped by emu_queue_flush (also in lost) */
	uint64_t bytes_sent;		/* len (not wire_len) of the frames sent */
};
void emu_queue_counters(const struct emu_queue *q, struct emu_counters *out);

#endif
