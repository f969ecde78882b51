/*
 * The driver host (see host.h): the loop of a driver process, between one
 * device and its port of the fast path's shared region; its set-up and
 * start are hal/host_setup.c.
 *
 * Per iteration: take empty buffers the worker lent on the fill ring, let
 * the driver receive into them, publish the filled ones on the rx ring;
 * take frames to send from the tx ring, let the driver send them, give the
 * buffers back on the completion ring.  Each ring has one producer and one
 * consumer (netfn/port.h); this process is the rx and comp producer and the
 * fill and tx consumer.
 *
 * Trust.  The region is shared with the worker, so nothing read from it is
 * used unchecked: the geometry (ring sizes and offsets, the pool's) is read
 * once, checked and copied into this process, and the ring indexes are
 * masked with that private copy (the "own copy of the geometry" ring.h asks
 * of a side that distrusts its peer), so no value the peer writes can make
 * us touch memory outside the region.  Every buffer index that arrives is
 * checked with pool_index_valid(), and every offset and length against the
 * buffer size.  A buffer the worker lends stays ours until we hand it back,
 * in rx or comp; we never free or allocate pool buffers (netfn/pool.h).
 *
 * Wake-ups follow netfn/port.h: when a pass finds nothing to do we spin a
 * few microseconds (an adaptive budget: doubled when spinning found work,
 * halved when it did not), then set driver_sleeping, look at the rings once
 * more, and block in poll() on the device, our eventfd and the parent's
 * socket.  After we enqueue, we write the worker's eventfd only if its
 * worker_sleeping flag is set, so a busy path makes no wake-up system call.
 *
 * Cost per burst of 32 frames of 64 bytes on this 2-vCPU VM, from
 * bench/hal-bench (which prints each figure beside its baseline in the same
 * run):
 *   udp rx  650-710 ns/frame of driver CPU, 21-23 us per burst, against
 *           500-580 ns/frame for bare recvmmsg bursts: the kernel's UDP
 *           receive is most of it, the host about 100 ns/frame;
 *   udp tx  710-760 ns/frame, 23-24 us per burst (sendmmsg on loopback also
 *           pays the receiver's softirq);
 *   host    30-55 ns/frame received and sent again, 1.0-1.8 us for a burst
 *           each way, with the system calls taken out (a null device in
 *           place of udp, measured once by hand; not in the tree).
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hal/host_impl.h"
#include "lib/log.h"
#include "lib/util.h"

/* Buffers ------------------------------------------------------------------- */

static struct pool_buf *
hal_buf(const struct hal_host *h, uint32_t idx)
{
	return (struct pool_buf *)(h->bufs + (size_t)idx * h->geom.buf_size);
}

/*
 * The buffer a frame's data lies in.  A driver may hand frames back in
 * another order than it got them (the udp driver moves dropped datagrams
 * behind the kept ones), so the host goes by the data pointer it gave.
 */
static int
hal_frame_index(const struct hal_host *h, const struct hal_frame *f, uint32_t *idx)
{
	size_t d;

	if (f->data < h->bufs)
		return -1;
	d = (size_t)(f->data - h->bufs) / h->geom.buf_size;
	if (d > UINT32_MAX || !pool_index_valid(&h->geom, (uint32_t)d))
		return -1;
	*idx = (uint32_t)d;
	return 0;
}

static void
hal_bad_index(struct hal_host *h, const char *ring, uint32_t idx)
{
	if (h->count.bad_index++ == 0)
		log_warnx("%s: buffer index %u on the %s ring is out of range; ignored",
		    h->cfg.name, idx, ring);
}

/* Wake the worker if it sleeps (netfn/port.h). */
static void
hal_kick_worker(struct hal_host *h)
{
	static const uint64_t one = 1;

	/*
	 * The fence orders the release stores of our ring heads before the
	 * load of worker_sleeping below; with the worker's own fence between
	 * setting worker_sleeping and its last look at the rings, either it
	 * sees our frames or we see its flag (a release store alone may be
	 * passed by a later load: the store-load case of Dekker's algorithm).
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&h->port->worker_sleeping, memory_order_relaxed) == 0)
		return;
	if (write(h->kick_worker, &one, sizeof(one)) < 0 && errno != EAGAIN)
		log_warn("%s: waking the worker", h->cfg.name);
	h->count.kicks++;
}

/* Emulation -------------------------------------------------------------------- */

static void hal_link_report(struct hal_host *h, const struct hal_link *l, int always);
static void hal_fill_take(struct hal_host *h);

/* The link as the parent and the worker see it: the device's, and the drills. */
void
hal_link_effective(struct hal_host *h, int always)
{
	struct hal_link l = h->real;

	if (h->emu_down)
		l.up = 0;
	hal_link_report(h, &l, always);
}

/* Admin down or down in the flap pattern at now; going down loses what is in flight. */
static void
hal_emu_drills(struct hal_host *h, uint64_t now)
{
	int down = h->emu.admin_down != 0;

	h->flap_next = UINT64_MAX;
	if (h->emu.has_flap && !down)
		down = !emu_flap_state(&h->emu.flap, h->flap_start, now, &h->flap_next);
	if (down == h->emu_down)
		return;
	h->emu_down = down;
	for (int i = 0; i < 2; i++)
		if (down && h->eq[i] != NULL)
			emu_queue_flush(h->eq[i]);
	hal_link_effective(h, 0);
}

static int
hal_emu_queued(const struct hal_host *h, int dir)
{
	return h->eq[dir] != NULL && emu_queue_next_ns(h->eq[dir]) != UINT64_MAX;
}

/*
 * New emulation and drills from the parent (at start, or live): a
 * direction turned on gets its queue; frames already queued keep their
 * departure (emu_queue_set), so a live change never reorders a flow.
 */
void
hal_emu_apply(struct hal_host *h, const struct hal_emu_cfg *e, uint64_t now)
{
	static const uint64_t ingress_salt = 0x9e3779b97f4a7c15ull;
	/* A flap pattern starts (with an outage) when it is set, not at every change. */
	int same_flap = h->have_emu && h->emu.has_flap == e->has_flap &&
	    memcmp(&h->emu.flap, &e->flap, sizeof(e->flap)) == 0;

	h->emu = *e;
	h->have_emu = 1;
	for (int i = 0; i < 2; i++) {
		const struct emu_dir *d = i == 0 ? &e->params.egress : &e->params.ingress;

		h->eon[i] = emu_dir_active(d);
		if (h->eon[i] && h->eq[i] == NULL && (h->eq[i] = emu_queue_new(HAL_EMU_MEM)) == NULL) {
			log_warn("%s: no memory for link emulation; %s passes unchanged", h->cfg.name,
			    i == 0 ? "egress" : "ingress");
			h->eon[i] = 0;
		}
		/* Each direction its own random stream, both from the one seed. */
		if (h->eq[i] != NULL)
			emu_queue_set(h->eq[i], d, e->params.seed ^ (i ? ingress_salt : 0));
	}
	if (!same_flap)
		h->flap_start = now;
	hal_emu_drills(h, now);
	h->emu_any = h->eon[0] || h->eon[1] || h->emu_down || e->has_flap ||
	    hal_emu_queued(h, 0) || hal_emu_queued(h, 1);
	if (h->emu_any)
		log_info("%s: emulation %s, link %s%s", h->cfg.name,
		    e->params.profile[0] ? e->params.profile : "off",
		    e->admin_down ? "down (drill)" : "up", e->has_flap ? ", flapping" : "");
}

/* Offer a frame to direction dir's queue, or drop it while the link is down. */
static void
hal_emu_offer(struct hal_host *h, int dir, const struct hal_frame *f, uint64_t now)
{
	struct emu_meta meta;

	if (h->emu_down)
		return;
	meta.family = f->family;
	meta.port = f->port;
	memcpy(meta.addr, f->addr, sizeof(meta.addr));
	(void)emu_queue_push(h->eq[dir], now, f->data, f->len, f->len + h->emu.wire_overhead,
	    &meta);
}

/* Whether direction dir goes through its queue now. */
static int
hal_emu_takes(const struct hal_host *h, int dir)
{
	return h->emu_down || (h->eq[dir] != NULL && (h->eon[dir] || hal_emu_queued(h, dir)));
}

/* Send the egress frames that are due; how many left. */
static int
hal_emu_tx_release(struct hal_host *h, uint64_t now)
{
	const void *data[HAL_BURST];
	uint32_t len[HAL_BURST];
	struct emu_meta meta[HAL_BURST];
	struct hal_frame f[HAL_BURST];
	unsigned n;
	int sent;

	h->emu_tx_blocked = 0;
	if (h->eq[0] == NULL || emu_queue_next_ns(h->eq[0]) > now)
		return 0;
	n = emu_queue_peek_burst(h->eq[0], now, HAL_BURST, data, len, meta);
	for (unsigned i = 0; i < n; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		f[i].data = (uint8_t *)(uintptr_t)data[i];
		f[i].len = f[i].cap = len[i];
		f[i].family = meta[i].family;
		f[i].port = meta[i].port;
		memcpy(f[i].addr, meta[i].addr, sizeof(f[i].addr));
	}
	if (n == 0)
		return 0;
	sent = h->drv->tx_burst(h->dev, f, n);
	if (sent < 0 || (unsigned)sent > n) {
		log_warnx("%s: driver %s: sending failed", h->cfg.name, h->drv->name);
		return -1;
	}
	emu_queue_pop_n(h->eq[0], (unsigned)sent);
	h->emu_tx_blocked = (unsigned)sent < n;
	return sent;
}

/* Hand the ingress frames that are due to the worker, each copied into a spare buffer. */
static int
hal_emu_rx_release(struct hal_host *h, uint64_t now)
{
	const void *data[HAL_BURST];
	uint32_t len[HAL_BURST], out[HAL_BURST];
	struct emu_meta meta[HAL_BURST];
	unsigned n, room;

	if (h->eq[1] == NULL || emu_queue_next_ns(h->eq[1]) > now)
		return 0;
	hal_fill_take(h);
	room = ring_guard_room(&h->rx, h->nspare);
	n = emu_queue_peek_burst(h->eq[1], now, room < h->nspare ? room : h->nspare, data, len,
	    meta);
	for (unsigned i = 0; i < n; i++) {
		struct pool_buf *b = hal_buf(h, h->spare[i]);

		pool_buf_reset(b);
		/* A frame came from one of these buffers: it fits one again. */
		if (len[i] > h->geom.data_size - b->off)
			len[i] = h->geom.data_size - b->off;
		memcpy(b->data + b->off, data[i], len[i]);
		b->len = len[i];
		b->peer.family = meta[i].family;
		b->peer.port = meta[i].port;
		memcpy(b->peer.addr, meta[i].addr, sizeof(b->peer.addr));
		out[i] = h->spare[i];
	}
	if (n == 0)
		return 0;
	emu_queue_pop_n(h->eq[1], n);
	memmove(h->spare, h->spare + n, (h->nspare - n) * sizeof(h->spare[0]));
	h->nspare -= n;
	(void)ring_guard_put(&h->rx, out, n);
	h->enqueued = 1;
	return (int)n;
}

/* The emulation's counters to the parent, at most once a second and only when they moved. */
static void
hal_emu_stats(struct hal_host *h, uint64_t now)
{
	struct hal_emu_stats st;
	uint64_t sum = 0;

	if (now < h->stats_next)
		return;
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 2; i++) {
		if (h->eq[i] != NULL)
			emu_queue_counters(h->eq[i], &st.dir[i]);
		sum += st.dir[i].queued + st.dir[i].sent + st.dir[i].lost + st.dir[i].overflow;
	}
	h->stats_next = now + HAL_EMU_STATS_NS;
	if (sum == h->stats_sum)
		return;
	h->stats_sum = sum;
	if (h->calls->emu_stats(h->calls->arg, &st) < 0)
		log_warn("%s: reporting the emulation's counters", h->cfg.name);
}

/* When the emulation next has something to do (a departure, a flap, counters); UINT64_MAX never. */
static uint64_t
hal_emu_next(struct hal_host *h)
{
	uint64_t next = h->flap_next;

	for (int i = 0; i < 2; i++)
		if (h->eq[i] != NULL && emu_queue_next_ns(h->eq[i]) < next)
			next = emu_queue_next_ns(h->eq[i]);
	if ((h->eq[0] != NULL || h->eq[1] != NULL) && h->stats_next < next)
		next = h->stats_next;
	return next;
}

/* Receive ------------------------------------------------------------------- */

/* Top up the spare buffers from the fill ring. */
static void
hal_fill_take(struct hal_host *h)
{
	uint32_t idx[HAL_BURST], got;

	if (h->nspare == HAL_BURST)
		return;
	got = ring_guard_get(&h->fill, idx, HAL_BURST - h->nspare);
	for (uint32_t i = 0; i < got; i++) {
		if (pool_index_valid(&h->geom, idx[i]))
			h->spare[h->nspare++] = idx[i];
		else
			hal_bad_index(h, "fill", idx[i]);
	}
}

/* Frames over the first n spare buffers, at each one's offset. */
static void
hal_rx_frames(struct hal_host *h, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		struct pool_buf *b = hal_buf(h, h->spare[i]);
		uint32_t off = POOL_HEADROOM;

		/*
		 * The receiving driver sets the header (netfn/worker.c lends
		 * buffers untouched): a buffer back from a send still has the
		 * offset its overlay header left, and each round trip would eat
		 * into the headroom.
		 */
		pool_buf_reset(b);
		memset(&h->rxf[i], 0, sizeof(h->rxf[i]));
		h->rxf[i].data = b->data + off;
		h->rxf[i].cap = h->geom.data_size - off;
	}
}

/* Record a received frame in its buffer; its index, or -1 if the driver broke the frame. */
static int
hal_rx_record(struct hal_host *h, const struct hal_frame *f, uint32_t *idx)
{
	struct pool_buf *b;

	if (hal_frame_index(h, f, idx) < 0 || f->len > f->cap)
		return -1;
	b = hal_buf(h, *idx);
	b->len = f->len;
	b->peer.family = f->family;
	b->peer.port = f->port;
	memcpy(b->peer.addr, f->addr, sizeof(b->peer.addr));
	return 0;
}

/* Publish the got frames of rxf[0..n) on rx; the rest stay spare. */
static int
hal_rx_publish(struct hal_host *h, unsigned got, unsigned n)
{
	uint32_t out[HAL_BURST], rest[HAL_BURST];
	unsigned nrest = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t idx;

		if (i < got ? hal_rx_record(h, &h->rxf[i], &out[i]) < 0 :
		    hal_frame_index(h, &h->rxf[i], &idx) < 0) {
			log_warnx("%s: driver %s returned a frame outside its buffers",
			    h->cfg.name, h->drv->name);
			return -1;
		}
		if (i >= got)
			rest[nrest++] = idx;
	}
	for (unsigned i = n; i < h->nspare; i++)
		rest[nrest++] = h->spare[i];
	memcpy(h->spare, rest, nrest * sizeof(rest[0]));
	h->nspare = nrest;
	(void)ring_guard_put(&h->rx, out, got);
	h->enqueued |= got > 0;
	return 0;
}

/*
 * Receive into the spare buffers, no more than rx has room for (a full rx
 * ring leaves frames in the device's queue, where the kernel drops them if
 * it must: backpressure, not loss inside the fast path).
 */
static int
hal_rx_step(struct hal_host *h)
{
	unsigned n, room;
	int got;

	hal_fill_take(h);
	if (h->nspare == 0)
		return 0;
	room = ring_guard_room(&h->rx, h->nspare);
	if ((n = room < h->nspare ? room : h->nspare) == 0)
		return 0;
	hal_rx_frames(h, n);
	got = h->drv->rx_burst(h->dev, h->rxf, n);
	if (got < 0 || (unsigned)got > n) {
		log_warnx("%s: driver %s: receiving failed", h->cfg.name, h->drv->name);
		return -1;
	}
	if (h->emu_any && got > 0 && hal_emu_takes(h, 1)) {
		/* Copied into the ingress queue; the buffers stay ours, spare. */
		uint64_t now = cnw_now_ns();

		for (int i = 0; i < got; i++)
			if (h->rxf[i].len <= h->rxf[i].cap)
				hal_emu_offer(h, 1, &h->rxf[i], now);
		return hal_rx_publish(h, 0, n) < 0 ? -1 : got;
	}
	return hal_rx_publish(h, (unsigned)got, n) < 0 ? -1 : got;
}

/* Transmit ------------------------------------------------------------------ */

/* The frame in buffer idx, for the driver; -1 if its offset or length lie outside it. */
static int
hal_tx_frame(struct hal_host *h, uint32_t idx, struct hal_frame *f)
{
	struct pool_buf *b = hal_buf(h, idx);
	uint32_t off = b->off, len = b->len;

	if (off >= h->geom.data_size || len > h->geom.data_size - off)
		return -1;
	f->data = b->data + off;
	f->len = f->cap = len;
	f->family = b->peer.family;
	f->port = b->peer.port;
	memcpy(f->addr, b->peer.addr, sizeof(f->addr));
	return 0;
}

/*
 * Take frames from tx, as many as comp will have room for once sent, into
 * pend; broken ones go straight into done, returned unsent.
 */
static void
hal_tx_take(struct hal_host *h, uint32_t *done, unsigned *ndone)
{
	uint32_t idx[HAL_BURST], room = ring_guard_room(&h->comp, HAL_BURST), got;

	if (room <= h->npend)
		return;
	room -= h->npend;
	got = ring_guard_get(&h->tx, idx, HAL_BURST - h->npend < room ? HAL_BURST - h->npend : room);
	for (uint32_t i = 0; i < got; i++) {
		if (!pool_index_valid(&h->geom, idx[i])) {
			hal_bad_index(h, "tx", idx[i]);
		} else if (hal_tx_frame(h, idx[i], &h->pendf[h->npend]) < 0) {
			h->count.bad_frame++;
			done[(*ndone)++] = idx[i];
		} else {
			h->pend[h->npend++] = idx[i];
		}
	}
}

/* Send what is pending; what the driver took (sent or dropped) goes back on comp. */
static int
hal_tx_step(struct hal_host *h)
{
	uint32_t done[2 * HAL_BURST];
	unsigned ndone = 0;
	int sent = 0;

	hal_tx_take(h, done, &ndone);
	if (h->emu_any && h->npend > 0 && hal_emu_takes(h, 0)) {
		/* Copied into the egress queue (or lost with the link): sent, as the worker sees it. */
		uint64_t now = cnw_now_ns();

		for (unsigned i = 0; i < h->npend; i++)
			hal_emu_offer(h, 0, &h->pendf[i], now);
		memcpy(done + ndone, h->pend, h->npend * sizeof(done[0]));
		ndone += h->npend;
		h->npend = 0;
	}
	if (h->npend > 0) {
		sent = h->drv->tx_burst(h->dev, h->pendf, h->npend);
		if (sent < 0 || (unsigned)sent > h->npend) {
			log_warnx("%s: driver %s: sending failed", h->cfg.name, h->drv->name);
			return -1;
		}
		memcpy(done + ndone, h->pend, (size_t)sent * sizeof(done[0]));
		ndone += (unsigned)sent;
		h->npend -= (unsigned)sent;
		memmove(h->pend, h->pend + sent, h->npend * sizeof(h->pend[0]));
		memmove(h->pendf, h->pendf + sent, h->npend * sizeof(h->pendf[0]));
	}
	/* Room was reserved in hal_tx_take: comp has one free slot per pending frame. */
	(void)ring_guard_put(&h->comp, done, ndone);
	h->enqueued |= ndone > 0;
	return (int)ndone;
}

/* One pass: frames moved, or -1 on a fatal error. */
static int
hal_step(struct hal_host *h)
{
	int rx, tx;

	h->enqueued = 0;
	if ((rx = hal_rx_step(h)) < 0 || (tx = hal_tx_step(h)) < 0)
		return -1;
	if (h->emu_any) {
		uint64_t now = cnw_now_ns();
		int er, et;

		if (now >= h->flap_next)
			hal_emu_drills(h, now);
		if ((er = hal_emu_rx_release(h, now)) < 0 || (et = hal_emu_tx_release(h, now)) < 0)
			return -1;
		rx += er;
		tx += et;
		hal_emu_stats(h, now);
	}
	if (h->enqueued)
		hal_kick_worker(h);
	return rx + tx;
}

/* Link and parent ------------------------------------------------------------ */

static void
hal_link_report(struct hal_host *h, const struct hal_link *l, int always)
{
	struct hal_link_msg pl = { .up = l->up != 0, .mtu = l->mtu, .speed_mbps = l->speed_mbps };

	if (!always && l->up == h->link.up && l->mtu == h->link.mtu &&
	    l->speed_mbps == h->link.speed_mbps)
		return;
	h->link = *l;
	log_info("%s: link %s", h->cfg.name, l->up ? "up" : "down");
	if (h->calls->link(h->calls->arg, &pl) < 0)
		log_warn("%s: reporting the link", h->cfg.name);
}

/* The device reported an error or hang-up; -1 if the driver says it is fatal. */
static int
hal_link_event(struct hal_host *h)
{
	struct hal_link l = h->real;
	int rc = h->drv->link_event(h->dev, &l);

	if (rc < 0)
		l.up = 0;
	h->real = l;
	hal_link_effective(h, 0);
	if (rc < 0)
		log_warnx("%s: driver %s: the device failed", h->cfg.name, h->drv->name);
	return rc < 0 ? -1 : 0;
}

/* Waiting ------------------------------------------------------------------- */

/* Frames on tx that a pass could take: room in pend, and in comp for them once sent. */
static int
hal_tx_takeable(struct hal_host *h)
{
	return h->npend < HAL_BURST && ring_guard_ready(&h->tx, 1) > 0 &&
	    ring_guard_room(&h->comp, h->npend + 1) > h->npend;
}

/* Work a pass would find in the rings (read after driver_sleeping was set). */
static int
hal_rings_pending(struct hal_host *h)
{
	if (hal_tx_takeable(h))
		return 1;
	return h->nspare == 0 && ring_guard_ready(&h->fill, 1) > 0;
}

/* Blocked on the worker draining rx or comp, which it does not signal. */
static int
hal_blocked_on_worker(struct hal_host *h)
{
	if (h->nspare > 0 && ring_guard_room(&h->rx, 1) == 0)
		return 1;
	return h->npend < HAL_BURST && ring_guard_ready(&h->tx, 1) > 0 &&
	    ring_guard_room(&h->comp, h->npend + 1) <= h->npend;
}

/*
 * poll() the device (for rx when we have buffers and room, for tx when
 * frames wait on it), our eventfd and the parent; handle what it reports.
 * 1 when the parent has gone, -1 on a fatal error, else 0.
 */
static int
hal_poll(struct hal_host *h, int64_t timeout_ns)
{
	struct pollfd pfd[3] = {
		{ .fd = h->drv->pollfd(h->dev) },
		{ .fd = h->kick_self, .events = POLLIN },
		{ .fd = h->sock, .events = POLLIN },
	};
	uint64_t v;

	if (h->nspare > 0 && ring_guard_room(&h->rx, 1) > 0)
		pfd[0].events |= POLLIN;
	struct timespec ts = { (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };

	if (h->npend > 0 || h->emu_tx_blocked)
		pfd[0].events |= POLLOUT;
	if (ppoll(pfd, 3, timeout_ns < 0 ? NULL : &ts, NULL) < 0) {
		if (errno == EINTR)
			return 0;
		log_warn("%s: poll", h->cfg.name);
		return -1;
	}
	if ((pfd[1].revents & POLLIN) && read(h->kick_self, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("%s: reading the wake-up", h->cfg.name);
	if ((pfd[0].revents | pfd[1].revents | pfd[2].revents) & POLLNVAL) {
		log_warnx("%s: poll: a descriptor is not open", h->cfg.name);
		return -1;
	}
	if ((pfd[0].revents & (POLLERR | POLLHUP)) && hal_link_event(h) < 0)
		return -1;
	if (pfd[2].revents & (POLLIN | POLLHUP | POLLERR))
		return h->calls->parent(h->calls->arg);
	return 0;
}

/* Sleep until the device, the worker or the parent has something (netfn/port.h). */
static int
hal_sleep(struct hal_host *h)
{
	int rc;

	atomic_store_explicit(&h->port->driver_sleeping, 1, memory_order_relaxed);
	/*
	 * The fence orders the flag's store before our last look at the
	 * rings: with the worker's fence between its enqueue and its load of
	 * driver_sleeping, either we see its frames now or it sees the flag
	 * and writes our eventfd.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (hal_rings_pending(h)) {
		atomic_store_explicit(&h->port->driver_sleeping, 0, memory_order_relaxed);
		return 0;
	}
	int64_t timeout = hal_blocked_on_worker(h) ? HAL_BLOCKED_POLL_MS * 1000000ll : -1;

	if (h->emu_any) {
		/* Wake for the next departure, flap or report of the emulation. */
		uint64_t next = hal_emu_next(h), now = cnw_now_ns();

		if (next != UINT64_MAX) {
			int64_t wait = next > now ? (int64_t)(next - now) : 0;

			if (timeout < 0 || wait < timeout)
				timeout = wait;
		}
	}
	h->count.sleeps++;
	rc = hal_poll(h, timeout);
	atomic_store_explicit(&h->port->driver_sleeping, 0, memory_order_relaxed);
	return rc;
}

/*
 * Passes over the rings and the device for up to the spin budget; frames
 * moved, or -1.  The budget adapts: a spin that found work was worth it
 * (twice as long next time, up to HAL_SPIN_MAX_NS); one that did not was
 * CPU for nothing (half, down to HAL_SPIN_MIN_NS).
 */
static int
hal_spin(struct hal_host *h)
{
	uint64_t start = cnw_now_ns();
	int work;

	do
		work = hal_step(h);
	while (work == 0 && cnw_spin(start, h->spin_ns));
	if (work > 0 && h->spin_ns < HAL_SPIN_MAX_NS)
		h->spin_ns *= 2;
	else if (work == 0 && h->spin_ns > HAL_SPIN_MIN_NS)
		h->spin_ns /= 2;
	return work;
}

static int
hal_run(struct hal_host *h)
{
	for (;;) {
		int work = hal_step(h), rc = 0;

		if (work == 0)
			work = hal_spin(h);
		if (work < 0)
			return 1;
		if (work == 0) {
			h->busy_steps = 0;
			rc = hal_sleep(h);
		} else if (++h->busy_steps >= HAL_BUSY_CHECK_STEPS) {
			/* A path that never idles still hears the parent. */
			h->busy_steps = 0;
			rc = hal_poll(h, 0);
			if (h->emu_any)
				h->emu_any = h->eon[0] || h->eon[1] || h->emu_down ||
				    h->emu.has_flap || hal_emu_queued(h, 0) || hal_emu_queued(h, 1);
		}
		if (rc != 0)
			return rc > 0 ? 0 : 1;
	}
}

int
hal_host_main(int sock, const struct hal_host_calls *calls)
{
	struct hal_host *h = &hal_host;
	int rc = 1;

	h->sock = sock;
	h->calls = calls;
	if (hal_open(h) == 0)
		rc = hal_run(h);
	hal_close(h);
	return rc;
}
