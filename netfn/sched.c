/*
 * The fast path's scheduler (see sched.h): token buckets, and the egress
 * queue of a paced uplink, strict priority between classes and deficit
 * round robin between the tenants of a class.
 *
 * Token bucket.  Tokens are microbits, so a rate of r kbit/s adds exactly r
 * of them per nanosecond and a byte is 8e6 of them: refills are integer
 * products, nothing is rounded, and a bucket that has run for a year
 * conforms to rate * t + burst to the bit.  The refill never multiplies
 * past the room left in the bucket (it compares the time with room / rate
 * first), so no rate, burst or clock jump can overflow.  Tokens are signed
 * because a frame larger than the burst may pass when the bucket is full
 * and leave it in debt (sched.h): the alternative, never passing such a
 * frame, deadlocks a 64 KiB GSO frame behind a small pace burst.
 *
 * The queue.  Frames live in a preallocated array of nodes, each in the
 * FIFO of its lane, a (class, tenant) pair; unused nodes form a free list.
 * A lane exists exactly while it holds frames: it is taken from a free
 * list and put in the hash (a chained table of at least twice as many
 * buckets as lanes, Fibonacci hashing of (tenant, class)) by the frame
 * that makes it non-empty, and goes back when its last frame leaves.  A
 * lane that exists is on its class's active list, the DRR round.
 *
 * DRR (Shreedhar and Varghese, 1996).  When a lane's turn comes (it
 * reaches the head of the active list) its deficit grows by the quantum;
 * it sends while its first frame fits the deficit; then it goes to the
 * tail, keeping the rest of its deficit, or, if it is empty, leaves the
 * round with its deficit reset (it is freed).  So over any time two lanes
 * of a class are both backlogged, the bytes they send differ by at most a
 * quantum and a frame, whatever their frame sizes.
 *
 * Turns are taken eagerly: as soon as a class's head lane cannot send its
 * next frame (or leaves), the turn passes on until a head lane can, so a
 * class's next frame is always the first one of its head lane, and
 * sched_next_ns is O(1) and exact.  The order is DRR's, with one
 * difference: the choice is made with the lanes present at that moment.
 * A lane arriving later takes its place at the tail as usual, but waits
 * for the frame already chosen, and that frame may be one its own turns
 * would have overtaken in plain DRR: only when the chosen lane needed
 * more than a quantum (a GSO frame), so the bound above grows by one
 * frame at most for a lane that arrives while such a frame is chosen
 * (test_first_frame_chosen).
 *
 * Cost.  A turn is O(1).  With frames up to the quantum a lane sends at
 * each of its turns, so a frame costs O(1) amortised.  Frames over the
 * quantum need several turns; when a whole round goes by without a frame
 * that fits, the empty rounds that would follow are added at once (one
 * walk over the class's lanes, class_skip), so choosing the next frame
 * never costs more than two rounds and a walk, however large the frames,
 * and a lane alone needs a single step.
 *
 * Strict priority and the pace.  sched_dequeue takes the next frame of the
 * lowest non-empty class (a bit mask finds it), and only if the pace's
 * bucket lets it go; otherwise it stops, so a large realtime frame is not
 * overtaken by smaller lower-class ones.  The DRR state is not touched by a
 * frame that does not go, so stopping and resuming changes nothing in the
 * order.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "netfn/sched.h"

#define NONE UINT32_MAX

/* Token bucket ------------------------------------------------------------------ */

static uint64_t
tb_full(const struct tbucket *b)
{
	return b->burst * TB_UNIT;
}

/* Bring b->tokens up to now. */
static void
tb_refill(struct tbucket *b, uint64_t now)
{
	uint64_t room, elapsed;

	if (now <= b->last_ns)
		return;
	elapsed = now - b->last_ns;
	b->last_ns = now;
	if (b->rate_kbps == 0) {
		b->tokens = (int64_t)tb_full(b);
		return;
	}
	if (b->tokens >= (int64_t)tb_full(b))
		return;
	/*
	 * room <= 2^40 * 8e6 + 2^32 * 8e6 < 2^63 (a full bucket plus the
	 * largest debt); elapsed * rate is computed only when it is at most
	 * room, so it neither overflows nor overfills.
	 */
	room = tb_full(b) - (uint64_t)b->tokens;
	if (elapsed > room / b->rate_kbps)
		b->tokens = (int64_t)tb_full(b);
	else
		b->tokens += (int64_t)(elapsed * b->rate_kbps);
}

/* What must be in the bucket for a frame of `bytes` to pass: min(bytes, burst). */
static int64_t
tb_needed(const struct tbucket *b, uint32_t bytes)
{
	return (int64_t)((bytes < b->burst ? bytes : b->burst) * TB_UNIT);
}

void
tb_init(struct tbucket *b, uint64_t rate_kbps, uint64_t burst_bytes, uint64_t now)
{
	b->rate_kbps = rate_kbps;
	b->burst = burst_bytes < TB_BURST_MAX ? burst_bytes : TB_BURST_MAX;
	b->tokens = (int64_t)tb_full(b);
	b->last_ns = now;
}

void
tb_set(struct tbucket *b, uint64_t rate_kbps, uint64_t burst_bytes, uint64_t now)
{
	tb_refill(b, now);
	if (b->rate_kbps == 0 && rate_kbps != 0) {
		tb_init(b, rate_kbps, burst_bytes, now);
		return;
	}
	b->rate_kbps = rate_kbps;
	b->burst = burst_bytes < TB_BURST_MAX ? burst_bytes : TB_BURST_MAX;
	if (b->tokens > (int64_t)tb_full(b))
		b->tokens = (int64_t)tb_full(b);
}

int
tb_take(struct tbucket *b, uint32_t bytes, uint64_t now)
{
	if (b->rate_kbps == 0)
		return 1;
	tb_refill(b, now);
	if (b->tokens < tb_needed(b, bytes))
		return 0;
	b->tokens -= (int64_t)((uint64_t)bytes * TB_UNIT);
	return 1;
}

uint64_t
tb_wait_ns(const struct tbucket *b, uint32_t bytes, uint64_t now)
{
	struct tbucket t = *b;
	uint64_t short_by, wait;

	if (t.rate_kbps == 0)
		return 0;
	tb_refill(&t, now);
	if (t.tokens >= tb_needed(&t, bytes))
		return 0;
	/*
	 * Rounded up: at the last nanosecond the tokens are there, one
	 * before they are not.  Counted from when the tokens were last
	 * brought up to date, which is later than now if the clock went
	 * backwards.
	 */
	short_by = (uint64_t)(tb_needed(&t, bytes) - t.tokens);
	wait = short_by / t.rate_kbps + (short_by % t.rate_kbps != 0);
	if (t.last_ns > now)
		wait += t.last_ns - now;
	return wait;
}

uint64_t
tb_default_burst(uint64_t rate_kbps)
{
	uint64_t burst;

	/* 50 ms at rate_kbps * 1000 / 8 bytes/s: rate_kbps * 25 / 4 bytes. */
	if (rate_kbps > TB_BURST_MAX / 25 * 4)
		return TB_BURST_MAX;
	burst = rate_kbps * 25 / 4;
	return burst > TB_BURST_MIN_DEFAULT ? burst : TB_BURST_MIN_DEFAULT;
}

/* The queue --------------------------------------------------------------------- */

struct sched_node {
	uint32_t next;			/* in its lane's FIFO, or the free list */
	uint32_t idx;
	uint32_t len;
};

struct sched_lane {
	uint64_t deficit;		/* bytes it may still send in this turn */
	uint32_t head, tail;		/* its FIFO of nodes */
	uint32_t count;			/* frames in it; 0 = unused */
	uint64_t bytes;			/* the lengths of its frames */
	uint32_t tenant;
	uint32_t next;			/* the active list of its class, or the free list */
	uint32_t hnext;			/* its hash chain */
	uint32_t cls;
};

struct sched_class {
	uint32_t head, tail;		/* the active list (the DRR round); head's turn */
	uint32_t lanes;			/* on it */
};

struct sched {
	struct tbucket pace;
	uint32_t max_frames, max_lanes;
	uint32_t lane_max;		/* frames per lane */
	uint64_t lane_bytes;		/* bytes per lane (a lone frame always fits) */
	uint32_t backlog;		/* frames queued */
	uint32_t lanes_used;
	uint32_t free_node, free_lane;
	uint32_t active;		/* bit c: class c has frames */
	uint32_t hash_shift;		/* 64 - log2(buckets) */
	struct sched_class cls[SCHED_CLASSES];
	struct sched_lane *lane;	/* [max_lanes] */
	struct sched_node *node;	/* [max_frames] */
	uint32_t *bucket;		/* [1 << (64 - hash_shift)], a lane or NONE */
};

static uint32_t
lane_hash(const struct sched *q, uint32_t cls, uint32_t tenant)
{
	uint64_t key = ((uint64_t)tenant << 2 | cls) + 1;

	return (uint32_t)((key * 0x9e3779b97f4a7c15ULL) >> q->hash_shift);
}

static uint32_t
lane_find(const struct sched *q, uint32_t cls, uint32_t tenant)
{
	uint32_t i;

	for (i = q->bucket[lane_hash(q, cls, tenant)]; i != NONE; i = q->lane[i].hnext)
		if (q->lane[i].tenant == tenant && q->lane[i].cls == cls)
			return i;
	return NONE;
}

/* A free lane for (cls, tenant), in the hash, not yet in the round; NONE if all are used. */
static uint32_t
lane_get(struct sched *q, uint32_t cls, uint32_t tenant)
{
	struct sched_lane *l;
	uint32_t i = q->free_lane, h;

	if (i == NONE)
		return NONE;
	l = &q->lane[i];
	q->free_lane = l->next;
	h = lane_hash(q, cls, tenant);
	l->deficit = 0;
	l->head = l->tail = NONE;
	l->count = 0;
	l->bytes = 0;
	l->tenant = tenant;
	l->cls = cls;
	l->next = NONE;
	l->hnext = q->bucket[h];
	q->bucket[h] = i;
	q->lanes_used++;
	return i;
}

/* Lane i is empty and out of the round: out of the hash and back on the free list. */
static void
lane_put(struct sched *q, uint32_t i)
{
	struct sched_lane *l = &q->lane[i];
	uint32_t *p = &q->bucket[lane_hash(q, l->cls, l->tenant)];

	while (*p != i)
		p = &q->lane[*p].hnext;
	*p = l->hnext;
	l->next = q->free_lane;
	q->free_lane = i;
	q->lanes_used--;
}

/* Take the first frame of lane l off it; its node goes back on the free list. */
static void
lane_pop(struct sched *q, struct sched_lane *l)
{
	uint32_t n = l->head;

	l->head = q->node[n].next;
	if (l->head == NONE)
		l->tail = NONE;
	l->count--;
	l->bytes -= q->node[n].len;
	q->backlog--;
	q->node[n].next = q->free_node;
	q->free_node = n;
}

/* The head lane of class c goes to the tail of the round. */
static void
class_rotate(struct sched *q, struct sched_class *c)
{
	uint32_t i = c->head;

	if (c->head == c->tail)
		return;
	c->head = q->lane[i].next;
	q->lane[i].next = NONE;
	q->lane[c->tail].next = i;
	c->tail = i;
}

/*
 * A whole round of class c went by and no lane's first frame fitted its
 * deficit (frames over the quantum).  The rounds until one does would
 * only add a quantum to every lane: add them all at once.  If the lane
 * that needs the fewest quanta needs k, k - 1 rounds are empty, and in
 * the next one the first lane (in round order) that needs k sends.
 */
static void
class_skip(struct sched *q, struct sched_class *c)
{
	struct sched_lane *l;
	uint64_t len, k, kmin = UINT64_MAX;
	uint32_t i;

	for (i = c->head; i != NONE; i = l->next) {
		l = &q->lane[i];
		len = q->node[l->head].len;
		k = (len - l->deficit + SCHED_QUANTUM - 1) / SCHED_QUANTUM;
		if (k < kmin)
			kmin = k;
	}
	for (i = c->head; i != NONE; i = l->next) {
		l = &q->lane[i];
		l->deficit += (kmin - 1) * SCHED_QUANTUM;
	}
}

/*
 * A new turn starts at the head of class c's round (not empty): the head
 * lane gets its quantum; while its first frame does not fit, the turn
 * passes to the next lane.  Afterwards the head lane's first frame is the
 * class's next frame.  At most two rounds and a walk: after a round with
 * no fit, class_skip makes the next round have one.
 */
static void
class_turn(struct sched *q, struct sched_class *c)
{
	struct sched_lane *l;
	uint32_t turns = 0;

	for (;;) {
		l = &q->lane[c->head];
		l->deficit += SCHED_QUANTUM;
		if (q->node[l->head].len <= l->deficit)
			return;
		class_rotate(q, c);
		if (++turns == c->lanes)
			class_skip(q, c);
	}
}

/*
 * The first frame of class c's head lane was taken.  Keep the invariant:
 * an empty lane leaves the round (and the next turn starts), a lane whose
 * next frame does not fit what is left of its deficit ends its turn.
 */
static void
class_after_pop(struct sched *q, uint32_t ci)
{
	struct sched_class *c = &q->cls[ci];
	uint32_t i = c->head;
	struct sched_lane *l = &q->lane[i];

	if (l->count == 0) {
		c->lanes--;
		c->head = l->next;
		if (c->head == NONE) {
			c->tail = NONE;
			q->active &= ~(1U << ci);
		}
		lane_put(q, i);
		if (c->head != NONE)
			class_turn(q, c);
		return;
	}
	if (q->node[l->head].len > l->deficit) {
		class_rotate(q, c);
		class_turn(q, c);
	}
}

struct sched *
sched_new(uint32_t max_frames, uint32_t max_lanes)
{
	struct sched *q;
	uint32_t i, bits;

	if (max_frames == 0 || max_frames > SCHED_FRAMES_MAX ||
	    max_lanes == 0 || max_lanes > SCHED_LANES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (max_lanes > max_frames)
		max_lanes = max_frames;
	/* At least twice as many buckets as lanes: chains of about one. */
	for (bits = 1; (1U << bits) < 2 * max_lanes; bits++)
		;
	if ((q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	q->lane = calloc(max_lanes, sizeof(*q->lane));
	q->node = calloc(max_frames, sizeof(*q->node));
	q->bucket = calloc((size_t)1 << bits, sizeof(*q->bucket));
	if (q->lane == NULL || q->node == NULL || q->bucket == NULL) {
		sched_free(q);
		errno = ENOMEM;
		return NULL;
	}
	q->max_frames = max_frames;
	q->max_lanes = max_lanes;
	q->lane_max = max_frames / 2 > 0 ? max_frames / 2 : 1;
	q->lane_bytes = UINT64_MAX;
	q->hash_shift = 64 - bits;
	for (i = 0; i < max_frames; i++)
		q->node[i].next = i + 1 < max_frames ? i + 1 : NONE;
	for (i = 0; i < max_lanes; i++)
		q->lane[i].next = i + 1 < max_lanes ? i + 1 : NONE;
	for (i = 0; i < (1U << bits); i++)
		q->bucket[i] = NONE;
	for (i = 0; i < SCHED_CLASSES; i++)
		q->cls[i].head = q->cls[i].tail = NONE;
	tb_init(&q->pace, 0, 0, 0);
	return q;
}

void
sched_free(struct sched *q)
{
	if (q == NULL)
		return;
	free(q->lane);
	free(q->node);
	free(q->bucket);
	free(q);
}

void
sched_set_rate(struct sched *q, uint64_t rate_kbps, uint64_t now)
{
	/* SCHED_PACE_BURST_MS at the rate: rate_kbps * 1000 / 8 / 1000 bytes a millisecond. */
	uint64_t burst = rate_kbps / 8 * SCHED_PACE_BURST_MS;

	if (burst < SCHED_PACE_BURST_MIN)
		burst = SCHED_PACE_BURST_MIN;
	tb_set(&q->pace, rate_kbps, burst, now);
}

void
sched_set_lane_bytes(struct sched *q, uint64_t bytes)
{
	q->lane_bytes = bytes == 0 ? UINT64_MAX : bytes;
}

/* Whether lane i (NONE: not there yet) is at its limits for a frame of len bytes. */
static int
lane_full(const struct sched *q, uint32_t i, uint32_t len)
{
	const struct sched_lane *l;

	if (i == NONE)
		return 0;
	l = &q->lane[i];
	return l->count >= q->lane_max || (l->count > 0 && l->bytes + len > q->lane_bytes);
}

int
sched_enqueue(struct sched *q, uint32_t cls, uint32_t tenant, uint32_t idx, uint32_t len)
{
	struct sched_class *c;
	struct sched_lane *l;
	uint32_t i, n;

	if (cls >= SCHED_CLASSES || q->free_node == NONE)
		return -1;
	if ((i = lane_find(q, cls, tenant)) == NONE) {
		if ((i = lane_get(q, cls, tenant)) == NONE)
			return -1;
	} else if (lane_full(q, i, len))
		return -1;
	l = &q->lane[i];

	n = q->free_node;
	q->free_node = q->node[n].next;
	q->node[n].next = NONE;
	q->node[n].idx = idx;
	q->node[n].len = len;
	if (l->tail == NONE)
		l->head = n;
	else
		q->node[l->tail].next = n;
	l->tail = n;
	l->count++;
	l->bytes += len;
	q->backlog++;
	if (l->count > 1)
		return 0;

	/* A new lane joins the round at its tail; if the round was empty, its turn starts. */
	c = &q->cls[cls];
	c->lanes++;
	if (c->head == NONE) {
		c->head = c->tail = i;
		q->active |= 1U << cls;
		class_turn(q, c);
	} else {
		q->lane[c->tail].next = i;
		c->tail = i;
	}
	return 0;
}

int
sched_evict(struct sched *q, uint32_t cls, uint32_t tenant, uint32_t len, uint32_t *idx)
{
	uint32_t own, vc, vi;
	const struct sched_lane *v;

	if (cls >= SCHED_CLASSES || q->active == 0)
		return 0;
	own = lane_find(q, cls, tenant);
	if (lane_full(q, own, len))
		return 0;
	/* The lowest class queued, and the lane whose turn it is there. */
	vc = 31 - (uint32_t)__builtin_clz(q->active);
	vi = q->cls[vc].head;
	v = &q->lane[vi];
	if (vc < cls)
		return 0;
	if (vc == cls && (vi == own || v->count <= (own == NONE ? 0 : q->lane[own].count) + 1))
		return 0;
	/* A new lane needs a free one: only there if the victim's lane empties. */
	if (own == NONE && q->free_lane == NONE && v->count > 1)
		return 0;
	/*
	 * Its first frame goes, unsent: the deficit it was chosen with stays
	 * (the lane did not use its turn), and the round moves on as if it
	 * had been sent.
	 */
	*idx = q->node[v->head].idx;
	lane_pop(q, &q->lane[vi]);
	class_after_pop(q, vc);
	return 1;
}

uint32_t
sched_dequeue(struct sched *q, uint64_t now, uint32_t *idx, uint32_t *len, uint32_t max)
{
	struct sched_lane *l;
	struct sched_node *f;
	uint32_t n = 0, ci;

	while (n < max && q->active != 0) {
		ci = (uint32_t)__builtin_ctz(q->active);
		l = &q->lane[q->cls[ci].head];
		f = &q->node[l->head];
		if (!tb_take(&q->pace, f->len, now))
			break;
		idx[n] = f->idx;
		len[n] = f->len;
		n++;
		l->deficit -= f->len;
		lane_pop(q, l);
		class_after_pop(q, ci);
	}
	return n;
}

uint64_t
sched_next_ns(const struct sched *q, uint64_t now)
{
	const struct sched_lane *l;
	uint64_t wait;

	if (q->active == 0)
		return UINT64_MAX;
	l = &q->lane[q->cls[__builtin_ctz(q->active)].head];
	wait = tb_wait_ns(&q->pace, q->node[l->head].len, now);
	return wait > UINT64_MAX - now ? UINT64_MAX : now + wait;
}

uint32_t
sched_backlog(const struct sched *q)
{
	return q->backlog;
}

uint32_t
sched_lanes(const struct sched *q)
{
	return q->lanes_used;
}

uint32_t
sched_drain(struct sched *q, uint32_t *idx, uint32_t max)
{
	struct sched_lane *l;
	uint32_t n = 0, ci;

	/* In the order they would have left, minus the pace: nothing depends on it. */
	while (n < max && q->active != 0) {
		ci = (uint32_t)__builtin_ctz(q->active);
		l = &q->lane[q->cls[ci].head];
		idx[n++] = q->node[l->head].idx;
		l->deficit -= q->node[l->head].len;
		lane_pop(q, l);
		class_after_pop(q, ci);
	}
	return n;
}
