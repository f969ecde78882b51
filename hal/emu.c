/*
 * Link emulation (see emu.h): the model, the profiles, the flap pattern and
 * the queue.
 *
 * The model.  For a frame offered at time now with the direction's
 * parameters d:
 *
 *   1. Loss: a uniform draw below loss_ppm / 1e6 drops the frame (EMU_LOST);
 *      nothing else happens to it.
 *   2. Rate (if rate_kbps > 0): the link serializes one frame at a time.
 *      This frame starts at max(now, link_free) and lasts
 *      wire_len * 8 * 1e6 / rate_kbps ns.  The backlog at now, the bytes
 *      waiting for the link, is (link_free - now) * rate (0 if the link is
 *      idle); if backlog + wire_len is over the queue limit the frame is
 *      refused (EMU_OVERFLOW) and takes no time on the link.  A frame that
 *      finds the link idle is never refused by the limit: it waits for
 *      nothing.  Otherwise link_free = start + duration, and the frame
 *      arrives at the far end at link_free.  Without a rate it arrives at
 *      now.
 *      The queue limit is queue_kb KiB, or when that is 0, 100 ms at the
 *      rate but at least 64 KiB.
 *   3. Delay and jitter: arrival += delay_us + j * jitter_us, but never
 *      earlier than the arrival before the delay.  j is a normal process
 *      (mean 0, standard deviation 1) correlated in time: between two
 *      frames dt apart, j' = rho j + sqrt(1 - rho^2) N(0, 1) with
 *      rho = exp(-dt / EMU_JITTER_CORR_NS), clamped to +-2 when applied
 *      (so the spread is about 0.96 jitter_us).  Real delay variation
 *      comes from scheduling and queueing that change over tens of
 *      milliseconds, not from frame to frame: with independent samples a
 *      link that keeps its order (4.) would push every frame behind the
 *      slowest before it, and a stream denser than the jitter would see a
 *      mean delay well above the set one.  Correlated, the order rarely
 *      binds and the mean stays the set delay.
 *   4. FIFO: departure = max(arrival, the previous frame's departure); a
 *      link does not reorder.
 *   5. Slot (if slot_us > 0): the departure rounds up to the next multiple
 *      of slot_us on the absolute clock, so all frames share one slot grid
 *      and several may leave in one slot.
 *
 * The link's schedule is kept exactly: link_free is in whole nanoseconds
 * plus a remainder in units of 1 / rate_kbps ns, so each frame's duration
 * is computed from its bits and a million frames back to back end exactly
 * where total bits / rate says, with no rounding drift.  New parameters
 * (emu_queue_set) apply to frames offered afterwards; the link's schedule
 * and the last departure carry over, so queued frames keep their times and
 * later ones still leave after them (the remainder is rescaled to the new
 * rate, so not even a fraction of a nanosecond is lost).  After a rate
 * change the backlog is estimated at the new rate.
 *
 * Randomness: xoshiro256** seeded through splitmix64 from the seed, one
 * 64-bit draw for the loss (only if loss_ppm > 0, taken before the queue
 * check) and Box-Muller pairs for the jitter (only if jitter_us > 0 and the
 * frame is accepted).  Same seed and same offers at the same times: same
 * verdicts and departures.
 *
 * Memory: a byte ring of cap_bytes, mapped once, holding records
 * [header][frame] in FIFO order.  Departures never decrease, so the head is
 * always the next one due.  A record never wraps: when it does not fit
 * between the tail and the end, a skip marker goes at the tail (if a header
 * fits there) and the record is written at the start.  A frame that does
 * not fit is refused (EMU_OVERFLOW), like one over the queue limit.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "hal/emu.h"

/* Profiles ------------------------------------------------------------------ */

struct emu_profile {
	const char *name;
	uint64_t egress_kbps, ingress_kbps;
	uint32_t delay_us, jitter_us, loss_ppm, slot_us;
};

/*
 * Typical figures, not worst cases.  Delay, jitter, loss and slot are the
 * same both ways; egress is the host's upload.
 */
static const struct emu_profile emu_profiles[EMU_NPROFILES] = {
	{ "off", 0, 0, 0, 0, 0, 0 },
	/* 1000BASE-T, one LAN switch hop. */
	{ "ethernet", 1000000, 1000000, 50, 10, 0, 0 },
	/* 802.11ac, from the measurements in Ookla's and Opensignal's reports. */
	{ "wifi", 50000, 100000, 2000, 1000, 5000, 0 },
	/* Opensignal's LTE averages; the 1 ms TTI of 3GPP TS 36.211. */
	{ "lte", 10000, 30000, 20000, 5000, 1000, 1000 },
	/* 5G NSA mid-band averages; the 0.5 ms slot of numerology 1, 3GPP TS 38.211. */
	{ "5g", 50000, 200000, 8000, 2000, 500, 500 },
	/*
	 * 35,786 km altitude: ~120 ms per ground-satellite leg, two legs
	 * plus processing (ITU-T G.114).
	 */
	{ "satellite-geo", 5000, 50000, 280000, 10000, 5000, 0 },
	/* Starlink: Michel et al., "A First Look at Starlink Performance", IMC 2022. */
	{ "satellite-leo", 15000, 100000, 25000, 7000, 5000, 0 },
};

int
emu_profile_find(const char *name, struct emu_params *out)
{
	const struct emu_profile *p;
	size_t i;

	if (name == NULL)
		return -1;
	for (i = 0; i < EMU_NPROFILES; i++)
		if (strcmp(emu_profiles[i].name, name) == 0)
			break;
	if (i == EMU_NPROFILES)
		return -1;
	p = &emu_profiles[i];
	memset(out->profile, 0, sizeof(out->profile));
	if (i > 0)	/* "off" is the empty profile */
		snprintf(out->profile, sizeof(out->profile), "%s", p->name);
	memset(&out->egress, 0, sizeof(out->egress));
	memset(&out->ingress, 0, sizeof(out->ingress));
	out->egress.rate_kbps = p->egress_kbps;
	out->ingress.rate_kbps = p->ingress_kbps;
	out->egress.delay_us = out->ingress.delay_us = p->delay_us;
	out->egress.jitter_us = out->ingress.jitter_us = p->jitter_us;
	out->egress.loss_ppm = out->ingress.loss_ppm = p->loss_ppm;
	out->egress.slot_us = out->ingress.slot_us = p->slot_us;
	return 0;
}

const char *
emu_profile_name(size_t i)
{
	return i < EMU_NPROFILES ? emu_profiles[i].name : NULL;
}

/* Parameters ----------------------------------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
emu_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
emu_dir_check(const struct emu_dir *d, char *err, size_t errlen)
{
	if (d->rate_kbps > EMU_RATE_KBPS_MAX) {
		emu_err(err, errlen, "rate_kbps %llu is over %llu (100 Gbit/s)",
		    (unsigned long long)d->rate_kbps, EMU_RATE_KBPS_MAX);
		return -1;
	}
	if (d->delay_us > EMU_DELAY_US_MAX) {
		emu_err(err, errlen, "delay_us %u is over %u (10 s)", d->delay_us,
		    EMU_DELAY_US_MAX);
		return -1;
	}
	if (d->jitter_us > EMU_JITTER_US_MAX) {
		emu_err(err, errlen, "jitter_us %u is over %u (5 s)", d->jitter_us,
		    EMU_JITTER_US_MAX);
		return -1;
	}
	if (d->loss_ppm > EMU_LOSS_PPM_MAX) {
		emu_err(err, errlen, "loss_ppm %u is over %u (100%%)", d->loss_ppm,
		    EMU_LOSS_PPM_MAX);
		return -1;
	}
	if (d->slot_us > EMU_SLOT_US_MAX) {
		emu_err(err, errlen, "slot_us %u is over %u (1 s)", d->slot_us,
		    EMU_SLOT_US_MAX);
		return -1;
	}
	if (d->queue_kb > EMU_QUEUE_KB_MAX) {
		emu_err(err, errlen, "queue_kb %u is over %u (256 MiB)", d->queue_kb,
		    EMU_QUEUE_KB_MAX);
		return -1;
	}
	return 0;
}

int
emu_dir_active(const struct emu_dir *d)
{
	return d->rate_kbps != 0 || d->delay_us != 0 || d->jitter_us != 0 ||
	    d->loss_ppm != 0 || d->slot_us != 0;
}

/* Durations and the flap pattern ----------------------------------------------- */

#define EMU_DURATION_SYNTAX "a decimal number with a unit us, ms or s"

/*
 * Exact: the number is read as integer and fraction, so "0.1s" is 100000
 * us, not whatever 0.1 as a double times a million rounds to.
 */
static int
emu_duration_parse_err(const char *s, uint64_t *us, char *err, size_t errlen)
{
	uint64_t whole = 0, num = 0, den = 1, mult;
	unsigned __int128 v, f;
	const char *p = s;

	if (*p < '0' || *p > '9') {
		emu_err(err, errlen, "not %s", EMU_DURATION_SYNTAX);
		return -1;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			emu_err(err, errlen, "too large");
			return -1;
		}
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9') {
			emu_err(err, errlen, "not %s", EMU_DURATION_SYNTAX);
			return -1;
		}
		for (; *p >= '0' && *p <= '9'; p++) {
			/* Past 18 places any digit but 0 is far below 1 us. */
			if (den >= 1000000000000000000ULL) {
				if (*p != '0') {
					emu_err(err, errlen, "finer than 1 us");
					return -1;
				}
				continue;
			}
			num = num * 10 + (uint64_t)(*p - '0');
			den *= 10;
		}
	}
	if (strcmp(p, "us") == 0)
		mult = 1;
	else if (strcmp(p, "ms") == 0)
		mult = 1000;
	else if (strcmp(p, "s") == 0)
		mult = 1000000;
	else {
		if (*p == '\0')
			emu_err(err, errlen, "no unit (us, ms or s)");
		else
			emu_err(err, errlen, "unknown unit \"%.8s\" (us, ms or s)", p);
		return -1;
	}
	f = (unsigned __int128)num * mult;
	if (f % den != 0) {
		emu_err(err, errlen, "finer than 1 us");
		return -1;
	}
	v = (unsigned __int128)whole * mult + f / den;
	if (v > UINT64_MAX) {
		emu_err(err, errlen, "too large");
		return -1;
	}
	*us = (uint64_t)v;
	return 0;
}

int
emu_duration_parse(const char *s, uint64_t *us)
{
	if (s == NULL)
		return -1;
	return emu_duration_parse_err(s, us, NULL, 0);
}

/* The largest unit that keeps the value whole, so the text parses back exactly. */
static int
emu_duration_format(uint64_t us, char *buf, size_t len)
{
	if (us != 0 && us % 1000000 == 0)
		return snprintf(buf, len, "%llus", (unsigned long long)(us / 1000000));
	if (us != 0 && us % 1000 == 0)
		return snprintf(buf, len, "%llums", (unsigned long long)(us / 1000));
	return snprintf(buf, len, "%lluus", (unsigned long long)us);
}

#define EMU_FLAP_SYNTAX "down=DURATION,up=DURATION[,count=N]"

/* One of down= and up=. */
static int
emu_flap_duration(const char *key, const char *val, size_t vlen, uint64_t *us,
    char *err, size_t errlen)
{
	char buf[64], why[64];

	if (vlen >= sizeof(buf)) {
		emu_err(err, errlen, "%s: \"%.16s...\" is too long", key, val);
		return -1;
	}
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	if (emu_duration_parse_err(buf, us, why, sizeof(why)) < 0) {
		emu_err(err, errlen, "%s \"%s\": %s", key, buf, why);
		return -1;
	}
	if (*us == 0) {
		emu_err(err, errlen, "%s must be more than 0", key);
		return -1;
	}
	if (*us > EMU_FLAP_MAX_US) {
		emu_err(err, errlen, "%s \"%s\" is over 1 hour", key, buf);
		return -1;
	}
	return 0;
}

static int
emu_flap_count(const char *val, size_t vlen, uint32_t *count, char *err, size_t errlen)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < vlen; i++) {
		if (val[i] < '0' || val[i] > '9')
			break;
		n = n * 10 + (uint64_t)(val[i] - '0');
		if (n > UINT32_MAX)
			break;
	}
	if (vlen == 0 || i < vlen) {
		emu_err(err, errlen, "count \"%.*s\" is not a whole number from 0 to %u",
		    (int)(vlen < 32 ? vlen : 32), val, UINT32_MAX);
		return -1;
	}
	*count = (uint32_t)n;
	return 0;
}

int
emu_flap_parse(const char *s, struct emu_flap *out, char *err, size_t errlen)
{
	static const char *const keys[] = { "down", "up", "count" };
	struct emu_flap f = { 0, 0, 0 };
	int seen[3] = { 0, 0, 0 }, rc;
	const char *p, *item, *eq, *val;
	size_t k, klen, vlen;

	if (s == NULL || *s == '\0') {
		emu_err(err, errlen, "empty; expected %s", EMU_FLAP_SYNTAX);
		return -1;
	}
	for (p = s;; p++) {
		item = p;
		p += strcspn(p, ",");
		if (p == item) {
			emu_err(err, errlen, "empty item (a stray comma?); expected %s",
			    EMU_FLAP_SYNTAX);
			return -1;
		}
		if ((eq = memchr(item, '=', (size_t)(p - item))) == NULL) {
			emu_err(err, errlen, "\"%.*s\" is not key=value; expected %s",
			    (int)(p - item < 32 ? p - item : 32), item, EMU_FLAP_SYNTAX);
			return -1;
		}
		klen = (size_t)(eq - item);
		val = eq + 1;
		vlen = (size_t)(p - val);
		for (k = 0; k < 3; k++)
			if (strlen(keys[k]) == klen && memcmp(item, keys[k], klen) == 0)
				break;
		if (k == 3) {
			emu_err(err, errlen, "unknown key \"%.*s\" (down, up or count)",
			    (int)(klen < 32 ? klen : 32), item);
			return -1;
		}
		if (seen[k]++) {
			emu_err(err, errlen, "%s is given twice", keys[k]);
			return -1;
		}
		if (k == 2)
			rc = emu_flap_count(val, vlen, &f.count, err, errlen);
		else
			rc = emu_flap_duration(keys[k], val, vlen, k == 0 ? &f.down_us : &f.up_us,
			    err, errlen);
		if (rc < 0)
			return -1;
		if (*p == '\0')
			break;
	}
	if (!seen[0] || !seen[1]) {
		emu_err(err, errlen, "%s is missing; expected %s", seen[0] ? "up" : "down",
		    EMU_FLAP_SYNTAX);
		return -1;
	}
	*out = f;
	return 0;
}

int
emu_flap_format(const struct emu_flap *f, char *buf, size_t len)
{
	char down[32], up[32];
	int n;

	emu_duration_format(f->down_us, down, sizeof(down));
	emu_duration_format(f->up_us, up, sizeof(up));
	if (f->count != 0)
		n = snprintf(buf, len, "down=%s,up=%s,count=%u", down, up, f->count);
	else
		n = snprintf(buf, len, "down=%s,up=%s", down, up);
	if (n < 0 || (size_t)n >= len) {
		if (len > 0)
			buf[0] = '\0';
		return -1;
	}
	return n;
}

static uint64_t
emu_sat(unsigned __int128 v)
{
	return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

int
emu_flap_state(const struct emu_flap *f, uint64_t start_ns, uint64_t now_ns, uint64_t *next_ns)
{
	unsigned __int128 down = (unsigned __int128)f->down_us * 1000;
	unsigned __int128 period = down + (unsigned __int128)f->up_us * 1000;
	unsigned __int128 cycle, phase, base;
	uint64_t next;
	int up;

	if (now_ns < start_ns) {
		up = 1;
		next = f->down_us != 0 ? start_ns : UINT64_MAX;
	} else if (f->down_us == 0) {
		up = 1;
		next = UINT64_MAX;
	} else {
		cycle = (now_ns - start_ns) / period;
		phase = (now_ns - start_ns) % period;
		base = start_ns + cycle * period;
		if (f->count != 0 && cycle >= f->count) {
			up = 1;
			next = UINT64_MAX;
		} else if (phase < down) {
			up = 0;
			/* Without time up in between, the outages run together. */
			if (f->up_us == 0)
				next = f->count == 0 ? UINT64_MAX :
				    emu_sat(start_ns + (unsigned __int128)f->count * period);
			else
				next = emu_sat(base + down);
		} else {
			up = 1;
			next = f->count != 0 && cycle + 1 >= f->count ? UINT64_MAX :
			    emu_sat(base + period);
		}
	}
	if (next_ns != NULL)
		*next_ns = next;
	return up;
}

/* Random source ---------------------------------------------------------------- */

struct emu_rng {
	uint64_t s[4];
	double spare;			/* Box-Muller's second sample */
	int have_spare;
};

static uint64_t
emu_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
emu_rng_seed(struct emu_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = emu_splitmix64(&seed);
	r->have_spare = 0;
}

static uint64_t
emu_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman and Vigna). */
static uint64_t
emu_rng_next(struct emu_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = emu_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = emu_rotl(s[3], 45);
	return result;
}

#define EMU_TWO_PI 6.283185307179586476925

/* A standard normal sample truncated to [-2, 2], by rejection. */
static double
emu_rng_normal(struct emu_rng *r)
{
	double u1, u2, m, z;

	{
		if (r->have_spare) {
			r->have_spare = 0;
			z = r->spare;
		} else {
			/* u1 in (0, 1] so the log is finite; u2 in [0, 1). */
			u1 = (double)((emu_rng_next(r) >> 11) + 1) * 0x1p-53;
			u2 = (double)(emu_rng_next(r) >> 11) * 0x1p-53;
			m = sqrt(-2.0 * log(u1));
			z = m * cos(EMU_TWO_PI * u2);
			r->spare = m * sin(EMU_TWO_PI * u2);
			r->have_spare = 1;
		}
		return z;
	}
}

/* The queue ------------------------------------------------------------------- */

/* One frame's record in the ring; the frame follows, 8-aligned. */
struct emu_rec {
	uint64_t depart_ns;
	uint32_t len;			/* EMU_REC_SKIP: the rest up to the end is unused */
	uint32_t wire_len;
	struct emu_meta meta;
};

_Static_assert(sizeof(struct emu_rec) == 40, "emu.h promises a 40-byte header");

#define EMU_REC_SKIP UINT32_MAX
#define EMU_ALIGN 8
#define EMU_CAP_MIN 64

struct emu_queue {
	struct emu_dir d;
	uint64_t seed;
	struct emu_rng rng;
	double jit;			/* the jitter process's state, in standard deviations */
	uint64_t jit_ns;		/* when it was last advanced */
	uint64_t queue_limit;		/* bottleneck bytes, from d */

	/* The link's schedule: link_free + frac / rate_kbps ns, exactly. */
	uint64_t link_free;
	uint64_t frac;
	uint64_t last_depart;

	/*
	 * The ring: records from head to tail; when wrapped, from head to the
	 * skip (marked, or too close to the end for a header) and then from 0
	 * to tail, and the free room is tail to head.
	 */
	uint8_t *mem;
	size_t cap, map_len;
	size_t head, tail;
	int wrapped;
	uint64_t nframes;

	struct emu_counters count;
};

/*
 * The jitter process at now (model, step 3): advanced from its last value
 * by the time since, in standard deviations, clamped to +-2.
 */
static double
emu_jitter(struct emu_queue *q, uint64_t now_ns)
{
	double dt = now_ns > q->jit_ns ? (double)(now_ns - q->jit_ns) : 0;
	double rho = q->jit_ns == 0 ? 0 : exp(-dt / EMU_JITTER_CORR_NS);

	q->jit = rho * q->jit + sqrt(1 - rho * rho) * emu_rng_normal(&q->rng);
	q->jit_ns = now_ns;
	return q->jit < -2 ? -2 : q->jit > 2 ? 2 : q->jit;
}

static size_t
emu_rec_size(uint32_t len)
{
	return (sizeof(struct emu_rec) + (size_t)len + EMU_ALIGN - 1) & ~(size_t)(EMU_ALIGN - 1);
}

static struct emu_rec *
emu_rec_at(const struct emu_queue *q, size_t off)
{
	return (struct emu_rec *)(void *)(q->mem + off);
}

struct emu_queue *
emu_queue_new(size_t cap_bytes)
{
	struct emu_queue *q;
	void *m;

	if (cap_bytes < EMU_CAP_MIN) {
		errno = EINVAL;
		return NULL;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	m = mmap(NULL, cap_bytes, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		free(q);
		return NULL;
	}
	q->mem = m;
	q->map_len = cap_bytes;
	q->cap = cap_bytes & ~(size_t)(EMU_ALIGN - 1);
	emu_queue_set(q, NULL, 0);
	emu_rng_seed(&q->rng, 0);
	return q;
}

void
emu_queue_free(struct emu_queue *q)
{
	if (q == NULL)
		return;
	munmap(q->mem, q->map_len);
	free(q);
}

void
emu_queue_set(struct emu_queue *q, const struct emu_dir *d, uint64_t seed)
{
	static const struct emu_dir off;

	if (d == NULL)
		d = &off;
	/*
	 * The remainder is in units of 1 / rate ns: rescale it so the
	 * fraction of a nanosecond the link is still busy carries over (frac
	 * < old rate <= 1e8, so the product fits).
	 */
	if (d->rate_kbps != q->d.rate_kbps)
		q->frac = q->d.rate_kbps != 0 && d->rate_kbps != 0 ?
		    q->frac * d->rate_kbps / q->d.rate_kbps : 0;
	q->d = *d;
	if (d->queue_kb != 0)
		q->queue_limit = (uint64_t)d->queue_kb * 1024;
	else {
		/* 100 ms at the rate: rate_kbps * 1000 / 8 * 0.1 bytes. */
		q->queue_limit = d->rate_kbps * 25 / 2;
		if (q->queue_limit < EMU_QUEUE_MIN_BYTES)
			q->queue_limit = EMU_QUEUE_MIN_BYTES;
	}
	if (seed != q->seed) {
		q->seed = seed;
		emu_rng_seed(&q->rng, seed);
		q->jit = 0;
		q->jit_ns = 0;
	}
}

/*
 * Where a record of n bytes would go, without taking it: its offset, or -1
 * if the memory is full.  *wrap is set when it goes at 0 behind a skip.
 */
static ssize_t
emu_ring_room(const struct emu_queue *q, size_t n, int *wrap)
{
	*wrap = 0;
	if (n > q->cap)
		return -1;
	if (q->nframes == 0)
		return 0;	/* emptied rings restart at 0, see emu_queue_pop */
	if (q->wrapped)
		return q->head - q->tail >= n ? (ssize_t)q->tail : -1;
	if (q->cap - q->tail >= n)
		return (ssize_t)q->tail;
	/* Up to head, not past: tail == head while wrapped means full. */
	if (q->head >= n) {
		*wrap = 1;
		return 0;
	}
	return -1;
}

enum emu_verdict
emu_queue_push(struct emu_queue *q, uint64_t now_ns, const void *data, uint32_t len,
    uint32_t wire_len, const struct emu_meta *meta)
{
	uint64_t arrive, start, link_free, frac, depart, rate = q->d.rate_kbps;
	unsigned __int128 bits, backlog;
	struct emu_rec *rec;
	size_t n;
	ssize_t off;
	int wrap;

	/*
	 * 1. Loss: Lemire's multiply maps 64 random bits onto [0, 1e6) with a
	 * bias under 1e6 / 2^64, where a modulo would need a division.
	 */
	if (q->d.loss_ppm != 0 &&
	    (uint64_t)(((unsigned __int128)emu_rng_next(&q->rng) * 1000000) >> 64) < q->d.loss_ppm) {
		q->count.lost++;
		return EMU_LOST;
	}

	/* 2. Rate and the bottleneck queue, tentatively until the frame is known to fit. */
	link_free = q->link_free;
	frac = q->frac;
	arrive = now_ns;
	if (rate != 0) {
		if (now_ns > link_free) {
			link_free = now_ns;
			frac = 0;
		} else {
			/* Bytes still to serialize: ns * kbit/s / 8e6, remainder included. */
			backlog = ((unsigned __int128)(link_free - now_ns) * rate + frac) / 8000000;
			if (backlog != 0 && backlog + wire_len > q->queue_limit) {
				q->count.overflow++;
				return EMU_OVERFLOW;
			}
		}
		start = link_free;
		/* wire_len * 8 bits * 1e6 / rate ns, the division's remainder carried. */
		bits = (unsigned __int128)wire_len * 8 * 1000000 + frac;
		link_free = emu_sat(start + bits / rate);
		frac = (uint64_t)(bits % rate);
		arrive = link_free;
	}

	n = emu_rec_size(len);
	if (len == EMU_REC_SKIP || (off = emu_ring_room(q, n, &wrap)) < 0) {
		q->count.overflow++;
		return EMU_OVERFLOW;
	}
	q->link_free = link_free;
	q->frac = frac;

	/* 3. Delay and jitter, never earlier than the arrival before the delay. */
	depart = arrive;
	if (q->d.delay_us != 0 || q->d.jitter_us != 0) {
		int64_t add = (int64_t)q->d.delay_us * 1000;

		if (q->d.jitter_us != 0)
			add += llround(emu_jitter(q, now_ns) * (double)q->d.jitter_us * 1000.0);
		if (add > 0)
			depart = emu_sat((unsigned __int128)arrive + (uint64_t)add);
	}
	/* 4. FIFO. */
	if (depart < q->last_depart)
		depart = q->last_depart;
	/* 5. Slot, on the absolute clock. */
	if (q->d.slot_us != 0) {
		uint64_t slot = (uint64_t)q->d.slot_us * 1000;

		depart = emu_sat(((unsigned __int128)depart + slot - 1) / slot * slot);
	}
	q->last_depart = depart;

	if (wrap) {
		/* Mark the skip if a header fits before the end; else it is implied. */
		if (q->cap - q->tail >= sizeof(struct emu_rec))
			emu_rec_at(q, q->tail)->len = EMU_REC_SKIP;
		q->wrapped = 1;
	}
	if (q->nframes == 0)
		q->head = 0;
	rec = emu_rec_at(q, (size_t)off);
	rec->depart_ns = depart;
	rec->len = len;
	rec->wire_len = wire_len;
	if (meta != NULL)
		rec->meta = *meta;
	else
		memset(&rec->meta, 0, sizeof(rec->meta));
	if (len != 0)
		memcpy(rec + 1, data, len);
	q->tail = (size_t)off + n;
	q->nframes++;
	q->count.queued++;
	return EMU_QUEUED;
}

const void *
emu_queue_peek(struct emu_queue *q, uint64_t now_ns, uint32_t *len, struct emu_meta *meta)
{
	const struct emu_rec *rec;

	if (q->nframes == 0)
		return NULL;
	rec = emu_rec_at(q, q->head);
	if (rec->depart_ns > now_ns)
		return NULL;
	if (len != NULL)
		*len = rec->len;
	if (meta != NULL)
		*meta = rec->meta;
	return rec + 1;
}

void
emu_queue_pop(struct emu_queue *q)
{
	const struct emu_rec *rec;

	if (q->nframes == 0)
		return;
	rec = emu_rec_at(q, q->head);
	q->count.sent++;
	q->count.bytes_sent += rec->len;
	q->head += emu_rec_size(rec->len);
	if (--q->nframes == 0) {
		/* Start again at 0: the whole ring is one free stretch. */
		q->head = q->tail = 0;
		q->wrapped = 0;
	} else if (q->wrapped && (q->cap - q->head < sizeof(struct emu_rec) ||
	    emu_rec_at(q, q->head)->len == EMU_REC_SKIP)) {
		q->head = 0;
		q->wrapped = 0;
	}
}

unsigned
emu_queue_peek_burst(struct emu_queue *q, uint64_t now_ns, unsigned n, const void **data,
    uint32_t *len, struct emu_meta *meta)
{
	size_t pos = q->head;
	int wrapped = q->wrapped;
	uint64_t left = q->nframes;
	unsigned k = 0;

	/* The walk emu_queue_pop would make, without moving anything. */
	while (k < n && left > 0) {
		const struct emu_rec *rec = emu_rec_at(q, pos);

		if (rec->depart_ns > now_ns)
			break;
		data[k] = rec + 1;
		len[k] = rec->len;
		meta[k] = rec->meta;
		k++;
		pos += emu_rec_size(rec->len);
		if (--left > 0 && wrapped && (q->cap - pos < sizeof(struct emu_rec) ||
		    emu_rec_at(q, pos)->len == EMU_REC_SKIP)) {
			pos = 0;
			wrapped = 0;
		}
	}
	return k;
}

void
emu_queue_pop_n(struct emu_queue *q, unsigned n)
{
	while (n-- > 0)
		emu_queue_pop(q);
}

uint64_t
emu_queue_next_ns(const struct emu_queue *q)
{
	return q->nframes == 0 ? UINT64_MAX : emu_rec_at(q, q->head)->depart_ns;
}

void
emu_queue_flush(struct emu_queue *q)
{
	q->count.lost += q->nframes;
	q->count.flushed += q->nframes;
	q->nframes = 0;
	q->head = q->tail = 0;
	q->wrapped = 0;
	/* The link is down: nothing dropped holds up the frames after it. */
	q->link_free = 0;
	q->frac = 0;
	q->last_depart = 0;
}

void
emu_queue_counters(const struct emu_queue *q, struct emu_counters *out)
{
	*out = q->count;
}
