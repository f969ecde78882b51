/*
 * The path monitor (see pathmon.h): RTT, jitter, loss and liveness of one
 * overlay path from its probes and their echoes.
 *
 * It exists apart from the worker so that what the steering decision sees
 * is defined by a documented contract and tested to the nanosecond with an
 * injected clock, rather than emerging from the packet loop's timing.  It
 * is also the code that handles echoes, which come from the network: an
 * echo is believed only if its sequence number is one we sent recently and
 * still await, and it carries back the exact timestamp we sent.  A forged
 * or replayed echo can therefore neither invent an RTT nor revive a dead
 * path, unless its sender saw the probe (and then the path works).
 *
 * Integer arithmetic only, the way TCP keeps its SRTT: the averages are
 * held scaled (srtt by 8, jitter by 16) so that the EWMA steps are exact
 * shifts and a steady input is reached exactly instead of approached.
 */
#include <stdint.h>
#include <string.h>

#include "netfn/pathmon.h"

#define PATH_SRTT_SHIFT 3		/* gain 1/8 */
#define PATH_JITTER_SHIFT 4		/* gain 1/16 */

/* Time since then; 0 if now is before it (time never runs backwards here). */
static uint64_t
path_elapsed(uint64_t then, uint64_t now)
{
	return now > then ? now - then : 0;
}

static uint64_t
path_srtt_ns(const struct path_est *p)
{
	return p->srtt8 >> PATH_SRTT_SHIFT;
}

static uint64_t
path_jitter_ns(const struct path_est *p)
{
	return p->jitter16 >> PATH_JITTER_SHIFT;
}

/* 2 * srtt + 4 * jitter: both are at most PATH_RTT_MAX_NS, no overflow. */
static uint64_t
path_spread_ns(const struct path_est *p)
{
	return 2 * path_srtt_ns(p) + 4 * path_jitter_ns(p);
}

uint64_t
path_loss_timeout_ns(const struct path_est *p)
{
	uint64_t spread;

	if (!(p->flags & PATH_F_RTT))
		return PATH_LOSS_MIN_NS;
	spread = path_spread_ns(p);
	return spread > PATH_LOSS_MIN_NS ? spread : PATH_LOSS_MIN_NS;
}

uint64_t
path_dead_bound_ns(const struct path_est *p)
{
	uint64_t spread;

	/* Unmeasured: give a slow path the time its first echo needs. */
	if (!(p->flags & PATH_F_RTT))
		return PATH_LOSS_MIN_NS;
	spread = path_spread_ns(p);
	return spread > PATH_DEAD_MIN_NS ? spread : PATH_DEAD_MIN_NS;
}

/* One more probe whose fate is known; the window keeps the latest 64. */
static void
path_fate_record(struct path_est *p, int lost)
{
	p->history = p->history << 1 | (lost ? 1 : 0);
	if (p->nfates < PATH_WINDOW)
		p->nfates++;
}

/*
 * Outstanding probes as old as the loss timeout are lost.  Oldest first,
 * so fates enter the window in the order the probes were sent.  Only the
 * last PATH_WINDOW sequence numbers can be outstanding (an older one's slot
 * was taken by a newer probe, which counted it lost).
 */
static void
path_age(struct path_est *p, uint64_t now)
{
	uint64_t timeout = path_loss_timeout_ns(p);
	struct path_probe *slot;
	uint32_t k, seq;

	for (k = PATH_WINDOW; k > 0; k--) {
		seq = p->next_seq - k;
		slot = &p->ring[seq % PATH_WINDOW];
		if (slot->fate != PATH_FATE_OUTSTANDING || slot->seq != seq)
			continue;
		if (path_elapsed(slot->sent_ns, now) < timeout)
			continue;
		slot->fate = PATH_FATE_LOST;
		path_fate_record(p, 1);
	}
}

/* An RTT sample: TCP's SRTT, and RFC 3550's jitter over raw samples. */
static void
path_sample(struct path_est *p, uint64_t rtt)
{
	uint64_t d;

	if (rtt > PATH_RTT_MAX_NS)
		rtt = PATH_RTT_MAX_NS;
	if (!(p->flags & PATH_F_RTT)) {
		p->srtt8 = rtt << PATH_SRTT_SHIFT;
		p->flags |= PATH_F_RTT;
	} else
		p->srtt8 = p->srtt8 - (p->srtt8 >> PATH_SRTT_SHIFT) + rtt;
	if (p->flags & PATH_F_PREV) {
		d = rtt > p->prev_rtt_ns ? rtt - p->prev_rtt_ns : p->prev_rtt_ns - rtt;
		p->jitter16 = p->jitter16 - (p->jitter16 >> PATH_JITTER_SHIFT) + d;
	}
	p->prev_rtt_ns = rtt;
	p->flags |= PATH_F_PREV;
}

/* A genuine echo: the path carries packets now. */
static void
path_alive(struct path_est *p, uint64_t now)
{
	p->state = PATH_UP;
	p->last_reply_ns = now;
	p->since_reply = 0;
}

void
path_est_init(struct path_est *p, uint64_t now)
{
	memset(p, 0, sizeof(*p));
	p->state = PATH_UNKNOWN;
	p->last_reply_ns = now;
}

void
path_reset(struct path_est *p, uint64_t now)
{
	/* Counters only grow; the sequence goes on so old echoes stay unknown. */
	uint64_t sent = p->sent, answered = p->answered;
	uint32_t next_seq = p->next_seq;

	path_est_init(p, now);
	p->sent = sent;
	p->answered = answered;
	p->next_seq = next_seq;
}

int
path_probe_due(const struct path_est *p, uint64_t now)
{
	if (!(p->flags & PATH_F_SENT))
		return 1;
	return path_elapsed(p->last_sent_ns, now) >= PATH_PROBE_INTERVAL_NS;
}

uint32_t
path_probe_sent(struct path_est *p, uint64_t now)
{
	uint32_t seq = p->next_seq++;
	struct path_probe *slot = &p->ring[seq % PATH_WINDOW];

	/* PATH_WINDOW probes unanswered: the oldest has waited long enough. */
	if (slot->fate == PATH_FATE_OUTSTANDING)
		path_fate_record(p, 1);
	slot->sent_ns = now;
	slot->seq = seq;
	slot->fate = PATH_FATE_OUTSTANDING;
	p->last_sent_ns = now;
	p->flags |= PATH_F_SENT;
	p->sent++;
	if (p->since_reply < UINT32_MAX)
		p->since_reply++;
	return seq;
}

int
path_probe_reply(struct path_est *p, uint32_t seq, uint64_t sent_ns, uint64_t now)
{
	struct path_probe *slot = &p->ring[seq % PATH_WINDOW];

	/* Decide first what is lost by now, so the tick's timing does not matter. */
	path_age(p, now);
	if (slot->fate == PATH_FATE_FREE || slot->seq != seq)
		return -1;
	/* Not the timestamp we sent, or an echo before its probe: forged. */
	if (slot->sent_ns != sent_ns || now < sent_ns)
		return -1;
	switch (slot->fate) {
	case PATH_FATE_OUTSTANDING:
		slot->fate = PATH_FATE_ANSWERED;
		path_fate_record(p, 0);
		p->answered++;
		path_sample(p, now - sent_ns);
		path_alive(p, now);
		return 0;
	case PATH_FATE_LOST:
		/* Stale: no sample, it stays lost, but the path works. */
		slot->fate = PATH_FATE_LATE;
		path_alive(p, now);
		return -1;
	default:
		return -1;		/* a duplicate */
	}
}

int
path_tick(struct path_est *p, uint64_t now)
{
	uint32_t was = p->state;

	path_age(p, now);
	if (p->state != PATH_DEAD && p->since_reply >= PATH_DEAD_PROBES &&
	    path_elapsed(p->last_reply_ns, now) >= path_dead_bound_ns(p))
		p->state = PATH_DEAD;
	return p->state != was;
}

/* A duration in ns as us, at least 1 when there is one (0 means unknown). */
static uint32_t
path_us(uint64_t ns)
{
	uint64_t us = ns / 1000;

	if (us == 0)
		return 1;
	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

void
path_get(const struct path_est *p, struct path_metrics *out)
{
	memset(out, 0, sizeof(*out));
	out->state = p->state;
	if (p->flags & PATH_F_RTT)
		out->rtt_us = path_us(path_srtt_ns(p));
	out->jitter_us = (uint32_t)(path_jitter_ns(p) / 1000);
	if (p->nfates > 0)
		out->loss_ppm = (uint32_t)((uint64_t)__builtin_popcountll(p->history) *
		    1000000 / p->nfates);
	out->sent = p->sent;
	out->answered = p->answered;
}

uint32_t
path_state(const struct path_est *p)
{
	return p->state;
}

uint32_t
path_delay_us(const struct path_est *p)
{
	if (!(p->flags & PATH_F_RTT))
		return 0;
	return path_us(path_srtt_ns(p) / 2);
}
