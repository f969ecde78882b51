/*
 * The steering decision (see steer.h for the rules): which uplink(s) a
 * flow takes, and when it moves.
 *
 * It is separate from the worker because it is policy, not plumbing: the
 * same inputs must give the same answer in a unit test and in the packet
 * loop, and the hysteresis (dwell time, improvement margins, the bound's
 * slack, the loss band) is what keeps thousands of flows from stampeding
 * between two paths whose measurements cross.  A moved flow risks
 * reordering and, for TCP, a spurious retransmission, so the bar for a
 * move is higher than the bar for a new flow's choice.
 *
 * The shape: one pass over the candidates builds bit masks (usable, after
 * the loss filter, after the bound filter); the common rules (no path,
 * new flow, DOWN, LOSS, BOUND) are decided here once, and each mode is a
 * row of a table giving how it picks and how it re-checks a flow that may
 * stay.  Adding a mode is adding a row.  A decision costs a few passes
 * over at most a handful of paths, with no allocation.
 */
#include <stdint.h>

#include "netfn/steer.h"

/* Past this, capacities are absurd; the clamp keeps capacity * weight in 64 bits. */
#define STEER_CAPACITY_MAX (1ULL << 47)

const char *const steer_reason_names[STEER_REASON_MAX] = {
	[STEER_KEEP] = "keep",
	[STEER_NEW] = "new",
	[STEER_DOWN] = "down",
	[STEER_DELAY] = "delay",
	[STEER_LOSS] = "loss",
	[STEER_BOUND] = "bound",
	[STEER_LOAD] = "load",
	[STEER_PREFERRED] = "preferred",
};

/* What one decision knows, computed once. */
struct steer_ctx {
	const struct steer_req *r;
	const struct steer_path *p;
	uint32_t n;
	int cur[2];			/* indexes of cur[] in p, -1 none or absent */
	int single;			/* cur[1] is no second port */
	int dwell;			/* the dwell since the last move has passed */
	uint64_t usable;		/* bit i: p[i] usable */
	uint64_t lossy;			/* removed by the loss filter */
	uint64_t bounded;		/* removed by the bound filter */
	uint64_t cand;			/* what is left: C */
};

struct steer_mode {
	/* Choose for a flow that needs a (new) path, in C; fills out. */
	void (*pick)(const struct steer_ctx *c, uint8_t out[2]);
	/* A flow that may stay: KEEP, or a reason with out filled. */
	int (*recheck)(const struct steer_ctx *c, uint8_t out[2]);
	int pair;			/* two ports (redundant) */
};

/* Arithmetic ------------------------------------------------------------ */

/* a * b as 128 bits, from 32-bit halves (no __int128 on 32-bit targets). */
static void
steer_mul(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
	uint64_t al = a & 0xffffffffu, ah = a >> 32;
	uint64_t bl = b & 0xffffffffu, bh = b >> 32;
	uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
	uint64_t mid = (ll >> 32) + (lh & 0xffffffffu) + (hl & 0xffffffffu);

	*lo = mid << 32 | (ll & 0xffffffffu);
	*hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
}

/* Sign of a * b - c * d, exactly. */
static int
steer_mul_cmp(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t h1, l1, h2, l2;

	steer_mul(a, b, &h1, &l1);
	steer_mul(c, d, &h2, &l2);
	if (h1 != h2)
		return h1 < h2 ? -1 : 1;
	if (l1 != l2)
		return l1 < l2 ? -1 : 1;
	return 0;
}

static uint64_t
steer_clamp(uint64_t v, uint64_t max)
{
	return v > max ? max : v;
}

/* best is better than cur by at least STEER_BETTER_PCT % and min (both >=). */
static int
steer_margin(uint64_t cur, uint64_t best, uint64_t min)
{
	uint64_t diff;

	if (best >= cur)
		return 0;
	diff = cur - best;
	return diff >= min && diff * 100 >= (uint64_t)STEER_BETTER_PCT * cur;
}

/* Candidates ------------------------------------------------------------- */

/* The bit of path i; none for -1 (no path). */
static uint64_t
steer_bit(int i)
{
	return i < 0 ? 0 : 1ULL << i;
}

static int
steer_in(uint64_t mask, int i)
{
	return i >= 0 && (mask & steer_bit(i)) != 0;
}

static int
steer_find(const struct steer_ctx *c, uint8_t port)
{
	uint32_t i;

	if (port == STEER_NONE)
		return -1;
	for (i = 0; i < c->n; i++)
		if (c->p[i].port == port)
			return (int)i;
	return -1;
}

static uint8_t
steer_port(const struct steer_ctx *c, int i)
{
	return i < 0 ? STEER_NONE : c->p[i].port;
}

static int
steer_meets_bound(const struct steer_path *p, uint32_t bound)
{
	return p->measured && p->delay_us <= bound;
}

/* Above bound * 1.1: far enough past it to be worth a move. */
static int
steer_exceeds_bound(const struct steer_path *p, uint32_t bound)
{
	return p->measured &&
	    (uint64_t)p->delay_us * 100 > (uint64_t)bound * STEER_BOUND_SLACK_PCT;
}

/* The masks: usable, then the loss filter, then the bound filter (steer.h). */
static void
steer_filter(struct steer_ctx *c)
{
	uint64_t good = 0, bad = 0, meets = 0;
	uint32_t i, bound = c->r->max_latency_us;

	for (i = 0; i < c->n; i++) {
		if (!c->p[i].usable)
			continue;
		c->usable |= steer_bit((int)i);
		if (c->p[i].loss_ppm < STEER_LOSS_GOOD_PPM)
			good |= steer_bit((int)i);
		if (c->p[i].loss_ppm > STEER_LOSS_BAD_PPM)
			bad |= steer_bit((int)i);
	}
	c->lossy = good ? bad : 0;
	c->cand = c->usable & ~c->lossy;
	if (bound == 0)
		return;
	for (i = 0; i < c->n; i++)
		if (steer_in(c->cand, (int)i) && steer_meets_bound(&c->p[i], bound))
			meets |= steer_bit((int)i);
	if (meets) {
		c->bounded = c->cand & ~meets;
		c->cand = meets;
	}
}

static void
steer_ctx_init(struct steer_ctx *c, const struct steer_req *r)
{
	*c = (struct steer_ctx){ .r = r, .p = r->paths, .n = r->n };
	if (c->p == NULL)
		c->n = 0;
	if (c->n > STEER_PATHS_MAX)
		c->n = STEER_PATHS_MAX;
	c->cur[0] = steer_find(c, r->cur[0]);
	c->single = r->cur[1] == STEER_NONE || r->cur[1] == r->cur[0];
	c->cur[1] = c->single ? -1 : steer_find(c, r->cur[1]);
	c->dwell = r->now >= r->moved_ns && r->now - r->moved_ns >= STEER_DWELL_NS;
	steer_filter(c);
}

static int
steer_first(uint64_t mask)
{
	return mask ? __builtin_ctzll(mask) : -1;
}

/* a ranks before b by delay: measured before unmeasured, then lower delay. */
static int
steer_ranks_before(const struct steer_path *a, const struct steer_path *b)
{
	if (a->measured != b->measured)
		return a->measured;
	return a->measured && a->delay_us < b->delay_us;
}

/* The best ranked path of mask; ties go to the earlier one. */
static int
steer_best(const struct steer_ctx *c, uint64_t mask)
{
	int i, best = -1;

	for (i = 0; i < (int)c->n; i++)
		if (steer_in(mask, i) && (best < 0 || steer_ranks_before(&c->p[i], &c->p[best])))
			best = i;
	return best;
}

/* out as a set equals cur (the flow would not move). */
static int
steer_same(const struct steer_ctx *c, const uint8_t out[2], int pair)
{
	const uint8_t *cur = c->r->cur;

	if (!pair)
		return out[0] == cur[0];
	if (c->single)
		return out[1] == STEER_NONE && out[0] == cur[0];
	return (out[0] == cur[0] && out[1] == cur[1]) || (out[0] == cur[1] && out[1] == cur[0]);
}

/* Modes: picks ------------------------------------------------------------ */

static void
steer_pick_first(const struct steer_ctx *c, uint8_t out[2])
{
	out[0] = steer_port(c, steer_first(c->cand));
}

static void
steer_pick_best(const struct steer_ctx *c, uint8_t out[2])
{
	out[0] = steer_port(c, steer_best(c, c->cand));
}

/* capacity * weight, with the defaults for unknown capacity and no weight. */
static uint64_t
steer_share(const struct steer_path *p)
{
	uint64_t cap = p->capacity_kbps ? p->capacity_kbps : STEER_DEFAULT_CAPACITY_KBPS;

	return steer_clamp(cap, STEER_CAPACITY_MAX) * (p->weight ? p->weight : 1);
}

/* Sign of (flows_a + 1) / share_a - (flows_b + 1) / share_b. */
static int
steer_load_cmp(const struct steer_path *a, const struct steer_path *b)
{
	return steer_mul_cmp((uint64_t)a->flows + 1, steer_share(b),
	    (uint64_t)b->flows + 1, steer_share(a));
}

static void
steer_pick_least_loaded(const struct steer_ctx *c, uint8_t out[2])
{
	int i, min = -1;
	uint32_t ties = 0, k;

	for (i = 0; i < (int)c->n; i++) {
		if (!steer_in(c->cand, i))
			continue;
		if (min < 0 || steer_load_cmp(&c->p[i], &c->p[min]) < 0) {
			min = i;
			ties = 1;
		} else if (steer_load_cmp(&c->p[i], &c->p[min]) == 0)
			ties++;
	}
	/* Equal paths: the hash spreads flows over them instead of piling on the first. */
	k = ties ? c->r->hash % ties : 0;
	for (i = min; i < (int)c->n; i++)
		if (steer_in(c->cand, i) && steer_load_cmp(&c->p[i], &c->p[min]) == 0 && k-- == 0)
			break;
	out[0] = steer_port(c, i < (int)c->n ? i : min);
}

static int
steer_full(const struct steer_path *p)
{
	if (p->capacity_kbps == 0)
		return 0;
	return steer_mul_cmp(p->load_kbps, 100, p->capacity_kbps, STEER_FILL_PCT) >= 0;
}

/* a has more headroom (capacity - load, negative when overloaded) than b; exact. */
static int
steer_roomier(const struct steer_path *a, const struct steer_path *b)
{
	int a_room = a->capacity_kbps >= a->load_kbps, b_room = b->capacity_kbps >= b->load_kbps;
	uint64_t a_mag = a_room ? a->capacity_kbps - a->load_kbps : a->load_kbps - a->capacity_kbps;
	uint64_t b_mag = b_room ? b->capacity_kbps - b->load_kbps : b->load_kbps - b->capacity_kbps;

	if (a_room != b_room)
		return a_room;
	return a_room ? a_mag > b_mag : a_mag < b_mag;
}

static void
steer_pick_priority(const struct steer_ctx *c, uint8_t out[2])
{
	int i, roomiest = -1;

	for (i = 0; i < (int)c->n; i++) {
		if (!steer_in(c->cand, i))
			continue;
		if (!steer_full(&c->p[i])) {
			out[0] = steer_port(c, i);
			return;
		}
		if (roomiest < 0 || steer_roomier(&c->p[i], &c->p[roomiest]))
			roomiest = i;
	}
	out[0] = steer_port(c, roomiest);
}

static void
steer_pick_pair(const struct steer_ctx *c, uint8_t out[2])
{
	int first = steer_best(c, c->cand);
	int second = steer_best(c, c->cand & ~steer_bit(first));

	/* C held one path: a copy over a poorer usable path beats no copy. */
	if (second < 0)
		second = steer_best(c, c->usable & ~steer_bit(first));
	out[0] = steer_port(c, first);
	out[1] = steer_port(c, second);
}

/* Modes: re-checks --------------------------------------------------------- */

static int
steer_recheck_none(const struct steer_ctx *c, uint8_t out[2])
{
	(void)c;
	(void)out;
	return STEER_KEEP;
}

/* Active-standby: back to the first path once it is a candidate again. */
static int
steer_recheck_preferred(const struct steer_ctx *c, uint8_t out[2])
{
	int first = steer_first(c->cand);

	if (!c->dwell || first >= c->cur[0])
		return STEER_KEEP;
	out[0] = steer_port(c, first);
	return STEER_PREFERRED;
}

static int
steer_recheck_delay(const struct steer_ctx *c, uint8_t out[2])
{
	int best = steer_best(c, c->cand);
	const struct steer_path *b = &c->p[best], *cur = &c->p[c->cur[0]];

	if (!c->dwell || best == c->cur[0] || !b->measured)
		return STEER_KEEP;
	if (cur->measured && !steer_margin(cur->delay_us, b->delay_us, STEER_BETTER_MIN_US))
		return STEER_KEEP;
	out[0] = b->port;
	return STEER_DELAY;
}

static int
steer_pair_measured(const struct steer_ctx *c, int a, int b)
{
	return c->p[a].measured && c->p[b].measured;
}

/* Sum of the pair's delays: the mean, times two. */
static uint64_t
steer_pair_delay(const struct steer_ctx *c, int a, int b)
{
	return (uint64_t)c->p[a].delay_us + c->p[b].delay_us;
}

static int
steer_recheck_pair(const struct steer_ctx *c, uint8_t out[2])
{
	int a, b;

	steer_pick_pair(c, out);
	if (steer_same(c, out, 1))
		return STEER_KEEP;
	/* Redundancy lost and back: restore it at once, a copy risks nothing. */
	if (c->single)
		return out[1] != STEER_NONE ? STEER_PREFERRED : STEER_KEEP;
	a = steer_find(c, out[0]);
	b = steer_find(c, out[1]);
	if (!c->dwell || b < 0 || !steer_pair_measured(c, a, b))
		return STEER_KEEP;
	if (!steer_pair_measured(c, c->cur[0], c->cur[1]))
		return STEER_DELAY;
	if (!steer_margin(steer_pair_delay(c, c->cur[0], c->cur[1]), steer_pair_delay(c, a, b),
	    2 * STEER_BETTER_MIN_US))
		return STEER_KEEP;
	return STEER_DELAY;
}

static const struct steer_mode steer_modes[STEER_MAX] = {
	[STEER_ACTIVE_STANDBY] = { steer_pick_first, steer_recheck_preferred, 0 },
	[STEER_SMALLEST_DELAY] = { steer_pick_best, steer_recheck_delay, 0 },
	[STEER_LOAD_BALANCE] = { steer_pick_least_loaded, steer_recheck_none, 0 },
	[STEER_PRIORITY] = { steer_pick_priority, steer_recheck_none, 0 },
	[STEER_REDUNDANT] = { steer_pick_pair, steer_recheck_pair, 1 },
};

/* The decision ------------------------------------------------------------- */

static int
steer_cur_usable(const struct steer_ctx *c, int pair)
{
	if (!steer_in(c->usable, c->cur[0]))
		return 0;
	return !pair || c->single || steer_in(c->usable, c->cur[1]);
}

/* Rule 5's common part: LOSS or BOUND for a current port, else KEEP. */
static int
steer_degraded(const struct steer_ctx *c, int pair)
{
	int k, i;

	for (k = 0; k < (pair && !c->single ? 2 : 1); k++) {
		i = c->cur[k];
		if (steer_in(c->lossy, i))
			return STEER_LOSS;
		if (steer_in(c->bounded, i) && steer_exceeds_bound(&c->p[i], c->r->max_latency_us))
			return STEER_BOUND;
	}
	return STEER_KEEP;
}

/* A reason's answer in out: KEEP (and out = cur exactly) if it is no move. */
static int
steer_settle(const struct steer_ctx *c, const struct steer_mode *m, int reason, uint8_t out[2])
{
	if (reason != STEER_KEEP && !steer_same(c, out, m->pair))
		return reason;
	out[0] = c->r->cur[0];
	out[1] = m->pair ? c->r->cur[1] : STEER_NONE;
	return STEER_KEEP;
}

int
steer_decide(const struct steer_req *r, uint8_t out[2])
{
	const struct steer_mode *m = &steer_modes[r->mode < STEER_MAX ? r->mode : STEER_ACTIVE_STANDBY];
	struct steer_ctx c;
	int reason;

	steer_ctx_init(&c, r);
	out[0] = out[1] = STEER_NONE;
	if (c.usable == 0)
		return r->cur[0] != STEER_NONE ? STEER_DOWN : STEER_NEW;
	if (r->cur[0] == STEER_NONE || (!m->pair && r->cur[1] != STEER_NONE)) {
		m->pick(&c, out);
		return STEER_NEW;
	}
	if (!steer_cur_usable(&c, m->pair)) {
		m->pick(&c, out);
		return steer_settle(&c, m, STEER_DOWN, out);
	}
	if (c.dwell && (reason = steer_degraded(&c, m->pair)) != STEER_KEEP) {
		m->pick(&c, out);
		if (!steer_same(&c, out, m->pair))
			return reason;
		out[0] = out[1] = STEER_NONE;
	}
	return steer_settle(&c, m, m->recheck(&c, out), out);
}
