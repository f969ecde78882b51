/*
 * The fastpath worker's loop (netfn/worker.h, worker_run): passes while
 * there is work, spinning a while, then sleeping on the drivers' eventfds
 * and the parent's socket (netfn/worker_impl.h).
 */
#include <poll.h>

#include "netfn/worker_impl.h"

/*
 * Spinning before sleeping: waking a process on the other CPU costs ~40 us
 * on this class of VM (docs/decisions.md), so an idle worker keeps polling
 * for a while.  The while adapts: doubled when a sleep ended sooner than
 * the longest spin would have lasted (spinning would have caught it),
 * halved when it did not; so steady ping-pong traffic is served without
 * wake-ups and an idle worker spins 2 us per wake-up.  The parent's socket
 * is looked at every millisecond while busy (a system call per burst would
 * cost more than the burst).
 */
#define WORKER_SPIN_MIN_NS 2000
#define WORKER_SPIN_MAX_NS 64000
#define WORKER_PARENT_EVERY_NS 1000000
/* A port without a worker eventfd cannot wake us: look again this often. */
#define WORKER_NOKICK_POLL_MS 10

/* Tell every port's driver we sleep (or no longer do). */
static int
worker_set_sleeping(struct worker *w, unsigned on)
{
	int all_kick = 1;

	for (uint32_t i = 0; i < w->nlisted; i++) {
		struct worker_port *p = &w->ports[w->listed[i]];

		atomic_store_explicit(&p->shm->worker_sleeping, on, memory_order_relaxed);
		all_kick &= p->kick_worker >= 0;
	}
	return all_kick;
}

static void
worker_drain_kicks(const struct pollfd *fds, nfds_t n)
{
	uint64_t v;

	for (nfds_t i = 1; i < n; i++)
		if (fds[i].revents & POLLIN)
			(void)!read(fds[i].fd, &v, sizeof(v));
}

/* Sleep until a driver or the parent has something; -1 on a poll error. */
static int
worker_sleep(struct worker *w, int sock, uint64_t *spin_ns)
{
	struct pollfd fds[PORT_MAX + 1] = { { .fd = sock, .events = POLLIN } };
	nfds_t n = 1;
	int all_kick = worker_set_sleeping(w, 1), rc;
	uint64_t t0, slept, next;
	struct timespec ts;

	/*
	 * Pairs with each driver's fence between its enqueue and its look at
	 * worker_sleeping (port.h): either we see its frames below, or it sees
	 * our flag and writes our eventfd.
	 */
	atomic_thread_fence(memory_order_seq_cst);
	if (worker_pending(w)) {
		worker_set_sleeping(w, 0);
		return 0;
	}
	for (uint32_t i = 0; i < w->nlisted; i++)
		if (w->ports[w->listed[i]].kick_worker >= 0)
			fds[n++] = (struct pollfd){ .fd = w->ports[w->listed[i]].kick_worker,
			    .events = POLLIN };
	t0 = cnw_now_ns();
	next = worker_next_timer(w);
	if (!all_kick && next > t0 + WORKER_NOKICK_POLL_MS * 1000000ULL)
		next = t0 + WORKER_NOKICK_POLL_MS * 1000000ULL;
	if (next != UINT64_MAX) {
		uint64_t d = next > t0 ? next - t0 : 0;

		ts.tv_sec = (time_t)(d / 1000000000ULL);
		ts.tv_nsec = (long)(d % 1000000000ULL);
	}
	rc = ppoll(fds, n, next != UINT64_MAX ? &ts : NULL, NULL);
	slept = cnw_now_ns() - t0;
	worker_set_sleeping(w, 0);
	if (rc < 0 && errno != EINTR) {
		log_warn("poll");
		return -1;
	}
	if (rc > 0)
		worker_drain_kicks(fds, n);
	if (slept < WORKER_SPIN_MAX_NS)
		*spin_ns = *spin_ns * 2 > WORKER_SPIN_MAX_NS ? WORKER_SPIN_MAX_NS : *spin_ns * 2;
	else
		*spin_ns = *spin_ns / 2 < WORKER_SPIN_MIN_NS ? WORKER_SPIN_MIN_NS : *spin_ns / 2;
	return 0;
}

int
worker_run(struct worker *w, int sock, worker_parent_fn *on_parent, void *arg)
{
	uint64_t spin_ns = WORKER_SPIN_MIN_NS, last_work = 0, last_parent = 0;
	int rc, handled = 0;

	log_info("forwarding: %u buffers of %u bytes, %d ports", w->nbufs, w->data_size, PORT_MAX);
	for (;;) {
		unsigned moved = worker_poll(w);
		uint64_t now = w->now_ns;

		if (moved > 0)
			last_work = now;
		if (now - last_parent >= WORKER_PARENT_EVERY_NS) {
			last_parent = now;
			if ((rc = on_parent(arg, &handled)) <= 0)
				return rc;
		}
		/* A port that just came up needs a pass (its fill ring) before any sleep. */
		if (moved > 0 || handled) {
			handled = 0;
			continue;
		}
		if (now - last_work < spin_ns) {
			cpu_relax();
			continue;
		}
		if (worker_sleep(w, sock, &spin_ns) < 0)
			return -1;
		last_work = cnw_now_ns();
		last_parent = 0;	/* the parent may be what woke us */
	}
}
