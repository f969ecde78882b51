/*
 * A small event loop: file descriptors on epoll, and one-shot timers.
 *
 * It exists so that the parent's loop (signals, children's sockets,
 * restart backoff, later netlink and reconcile timers) reads as a list of
 * registrations rather than a hand-rolled poll loop.  Depends on nothing of
 * the daemon (after Redis's ae.c).  A watcher removed while events are being
 * dispatched is freed only after the batch, so no callback sees a dangling
 * watcher.
 */
#ifndef CNW_EV_H
#define CNW_EV_H

#include <stdint.h>

struct ev_loop;
typedef void (*ev_fd_fn)(int fd, uint32_t events, void *arg);
typedef void (*ev_timer_fn)(void *arg);

struct ev_loop *ev_new(void);
void ev_free(struct ev_loop *l);
/* Watch fd for events (EPOLLIN...); -1 with errno on failure. */
int ev_add(struct ev_loop *l, int fd, uint32_t events, ev_fd_fn fn, void *arg);
void ev_del(struct ev_loop *l, int fd);
/* Call fn once, ms milliseconds from now; returns an id > 0, or -1. */
int ev_timer(struct ev_loop *l, long long ms, ev_timer_fn fn, void *arg);
void ev_timer_cancel(struct ev_loop *l, int id);
/*
 * Adaptive spin: after an event, poll without sleeping for up to us
 * microseconds before blocking again, so a quick follow-up (the next
 * request of a busy client) does not pay for a wake-up.  0 (the default)
 * never spins; an idle loop always sleeps.
 */
void ev_set_spin(struct ev_loop *l, long long us);
/* Run until ev_stop(); returns 0, or -1 if epoll failed. */
int ev_run(struct ev_loop *l);
void ev_stop(struct ev_loop *l);

#endif
