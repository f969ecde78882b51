/*
 * The API process's round trip to the parent.
 *
 * One request is in flight at a time (the parent serves them one by one in
 * any case): a mutex covers send and receive, so the listener threads (Unix
 * socket and TLS) share the socketpair safely.  Replies must carry the
 * request's id and be of a reply type from the parent; anything else means
 * the channel is broken, and the process exits to be restarted clean.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "lib/log.h"
#include "lib/util.h"

static int api_sock = -1;
static uint32_t api_next_id;
static pthread_mutex_t api_lock = PTHREAD_MUTEX_INITIALIZER;
static struct msg api_reply;		/* guarded by api_lock */

void
api_parent_init(int sock)
{
	api_sock = sock;
}

/*
 * The parent answers a cached read in some 20 us of its own work, but a
 * sleeping process takes ~40 us to be woken on another CPU of a VM: spin a
 * little for the reply before sleeping on it (bench/api-bench.sh).
 */
#define API_SPIN_US 150

static void
api_parent_spin(void)
{
	struct pollfd p = { .fd = api_sock, .events = POLLIN };
	long long until = cnw_now_us() + API_SPIN_US;

	while (poll(&p, 1, 0) == 0 && cnw_now_us() < until)
		;
}

static int
api_parent_collect(uint32_t id, api_reply_fn fn, void *arg, struct api_response *resp)
{
	char why[128];

	for (;;) {
		int rc;

		api_parent_spin();
		rc = msg_recv(api_sock, &api_reply);

		if (rc == 0) {
			/* The parent closed our channel: it is stopping. */
			api_problem(resp, 503, "cnwd is shutting down");
			_exit(0);
		}
		if (rc < 0 ||
		    msg_check(proto_types, proto_ntypes, &api_reply, PROTO_FROM_PARENT, why,
		    sizeof(why)) < 0 || api_reply.hdr.id != id)
			fatalx("broken reply from the parent (%s)", rc < 0 ? strerror(errno) : why);
		if (api_reply.fd >= 0)
			close(api_reply.fd);
		if (api_reply.hdr.type == MSG_REPLY_ERROR) {
			const struct proto_error *e = (const struct proto_error *)api_reply.data;
			api_problem(resp, (unsigned)e->status, "%s", e->detail);
			return -1;
		}
		if (fn(&api_reply, arg) < 0) {
			api_problem(resp, 500, "unexpected reply %u", api_reply.hdr.type);
			/* Drain the rest so the next request starts clean. */
			while (api_reply.hdr.flags & MSG_F_MORE)
				if (msg_recv(api_sock, &api_reply) <= 0)
					fatalx("broken reply from the parent");
			return -1;
		}
		if (!(api_reply.hdr.flags & MSG_F_MORE))
			return 0;
	}
}

int
api_parent_call(uint32_t type, const void *req, size_t len, api_reply_fn fn,
    void *arg, struct api_response *resp)
{
	uint32_t id;
	int rc;

	pthread_mutex_lock(&api_lock);
	id = ++api_next_id;
	if (msg_send(api_sock, type, id, 0, req, len, NULL) < 0) {
		pthread_mutex_unlock(&api_lock);
		api_problem(resp, 503, "cnwd did not take the request: %s", strerror(errno));
		return -1;
	}
	rc = api_parent_collect(id, fn, arg, resp);
	pthread_mutex_unlock(&api_lock);
	return rc;
}
