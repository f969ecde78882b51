/*
 * epoll and timers; see ev.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "ev.h"
#include "util.h"

#define EV_MAX_TIMERS 64
#define EV_BATCH 32

struct ev_watch {
	int fd;
	int dead;
	ev_fd_fn fn;
	void *arg;
	struct ev_watch *next;		/* all watchers, for lookup and free */
};

struct ev_timer_slot {
	int id;				/* 0: free */
	long long deadline;
	ev_timer_fn fn;
	void *arg;
};

struct ev_loop {
	int epfd;
	int stop;
	int next_timer_id;
	long long spin_us;
	struct ev_watch *watches;
	struct ev_timer_slot timers[EV_MAX_TIMERS];
};

struct ev_loop *
ev_new(void)
{
	struct ev_loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	if ((l->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

static void
ev_reap(struct ev_loop *l)
{
	struct ev_watch **pp = &l->watches;

	while (*pp != NULL) {
		struct ev_watch *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

void
ev_free(struct ev_loop *l)
{
	if (l == NULL)
		return;
	for (struct ev_watch *w = l->watches; w != NULL; w = w->next)
		w->dead = 1;
	ev_reap(l);
	close(l->epfd);
	free(l);
}

int
ev_add(struct ev_loop *l, int fd, uint32_t events, ev_fd_fn fn, void *arg)
{
	struct ev_watch *w = calloc(1, sizeof(*w));
	struct epoll_event ee = { .events = events };

	if (w == NULL)
		return -1;
	w->fd = fd;
	w->fn = fn;
	w->arg = arg;
	ee.data.ptr = w;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ee) < 0) {
		free(w);
		return -1;
	}
	w->next = l->watches;
	l->watches = w;
	return 0;
}

void
ev_del(struct ev_loop *l, int fd)
{
	for (struct ev_watch *w = l->watches; w != NULL; w = w->next) {
		if (w->fd == fd && !w->dead) {
			epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
			w->dead = 1;
			return;
		}
	}
}

int
ev_timer(struct ev_loop *l, long long ms, ev_timer_fn fn, void *arg)
{
	for (size_t i = 0; i < EV_MAX_TIMERS; i++) {
		struct ev_timer_slot *t = &l->timers[i];

		if (t->id != 0)
			continue;
		if (++l->next_timer_id <= 0)
			l->next_timer_id = 1;
		t->id = l->next_timer_id;
		t->deadline = cnw_now_ms() + ms;
		t->fn = fn;
		t->arg = arg;
		return t->id;
	}
	return -1;
}

void
ev_timer_cancel(struct ev_loop *l, int id)
{
	for (size_t i = 0; i < EV_MAX_TIMERS; i++)
		if (id > 0 && l->timers[i].id == id)
			l->timers[i].id = 0;
}

/* Milliseconds to the next timer, -1 if none. */
static int
ev_next_timeout(struct ev_loop *l)
{
	long long now = cnw_now_ms(), best = -1;

	for (size_t i = 0; i < EV_MAX_TIMERS; i++) {
		long long d;

		if (l->timers[i].id == 0)
			continue;
		d = l->timers[i].deadline - now;
		if (d < 0)
			d = 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best > 60000 ? 60000 : (int)best;
}

static void
ev_run_timers(struct ev_loop *l)
{
	long long now = cnw_now_ms();

	for (size_t i = 0; i < EV_MAX_TIMERS; i++) {
		struct ev_timer_slot *t = &l->timers[i];

		if (t->id != 0 && t->deadline <= now) {
			ev_timer_fn fn = t->fn;
			void *arg = t->arg;

			t->id = 0;	/* free before the call: fn may re-arm */
			fn(arg);
		}
	}
}

void
ev_set_spin(struct ev_loop *l, long long us)
{
	l->spin_us = us;
}

int
ev_run(struct ev_loop *l)
{
	struct epoll_event evs[EV_BATCH];
	long long last_event = 0;

	l->stop = 0;
	while (!l->stop) {
		int timeout = ev_next_timeout(l), n;

		/* Busy a moment ago: look again without sleeping, for a while. */
		if (l->spin_us > 0 && cnw_now_us() - last_event < l->spin_us)
			timeout = 0;
		n = epoll_wait(l->epfd, evs, EV_BATCH, timeout);
		if (n > 0)
			last_event = cnw_now_us();
		if (n < 0 && errno != EINTR)
			return -1;
		for (int i = 0; i < n && !l->stop; i++) {
			struct ev_watch *w = evs[i].data.ptr;

			if (!w->dead)
				w->fn(w->fd, evs[i].events, w->arg);
		}
		ev_reap(l);
		if (!l->stop)
			ev_run_timers(l);
	}
	return 0;
}

void
ev_stop(struct ev_loop *l)
{
	l->stop = 1;
}
