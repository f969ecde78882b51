/*
 * The event loop: descriptors, timers in order, and a watcher removed
 * during dispatch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/ev.h"
#include "lib/util.h"

struct ctx {
	struct ev_loop *l;
	int order[8];
	int n;
	int pipe[2];
};

static void
on_timer(void *arg)
{
	struct ctx *c = arg;

	c->order[c->n] = 100 + c->n;
	c->n++;
	if (c->n == 2)
		ev_stop(c->l);
}

static void
test_timers_fire_in_order(void **state)
{
	struct ctx c = { .l = ev_new() };
	long long t0 = cnw_now_ms();

	assert_non_null(c.l);
	assert_true(ev_timer(c.l, 30, on_timer, &c) > 0);
	assert_true(ev_timer(c.l, 10, on_timer, &c) > 0);
	int id = ev_timer(c.l, 5, on_timer, &c);
	ev_timer_cancel(c.l, id);	/* cancelled: never fires */
	assert_int_equal(ev_run(c.l), 0);
	assert_int_equal(c.n, 2);
	assert_true(cnw_now_ms() - t0 >= 30);
	ev_free(c.l);
}

static void
on_readable(int fd, uint32_t events, void *arg)
{
	struct ctx *c = arg;
	char b;

	assert_int_equal(read(fd, &b, 1), 1);
	c->order[c->n++] = b;
	ev_del(c->l, fd);	/* removed while dispatching: must be safe */
	ev_stop(c->l);
}

static void
test_fd_and_removal(void **state)
{
	struct ctx c = { .l = ev_new() };

	assert_int_equal(pipe(c.pipe), 0);
	assert_int_equal(ev_add(c.l, c.pipe[0], EPOLLIN, on_readable, &c), 0);
	assert_int_equal(write(c.pipe[1], "x", 1), 1);
	assert_int_equal(ev_run(c.l), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.order[0], 'x');
	close(c.pipe[0]);
	close(c.pipe[1]);
	ev_free(c.l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_order),
		cmocka_unit_test(test_fd_and_removal),
	};
	return cmocka_run_group_tests_name("ev", tests, NULL, NULL);
}
