/*
 * The worker role (cnwd/roles.c): the child side of the fast-path worker's
 * process, between the parent's messages and the engine of netfn/worker.h.
 *
 * Set-up, before MSG_CHILD_START: MSG_WORKER_REGION, _STATS and _FLOWS
 * bring memfds, kept until the region is mapped; KICK, PORT, NETWORK,
 * TENANT and UPLINK messages that come before it are queued and applied
 * once it is.  Then, sandboxed: the memfds mapped and checked, the worker
 * attached, and worker_run() forwarding until the parent's socket closes,
 * with every message the parent sends checked (proto/proto.h) and applied
 * by a plain call, and every flow move the worker reports sent as
 * MSG_WORKER_MOVE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cnwd/roles.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "netfn/shm.h"
#include "netfn/worker.h"
#include "proto/proto.h"

/* Set-up messages that come before the region is mapped. */
struct role_worker_queued {
	uint32_t type;
	uint32_t len;
	int fd;
	uint8_t data[sizeof(struct worker_tenant_cfg)];	/* the largest */
};

static struct {
	int region_fd, stats_fd, flows_fd;
	struct role_worker_queued *queue;
	size_t nqueue, cap;
	struct worker *w;		/* allocated by role_worker_prepare */
	struct msg *msg;
} role_worker = { .region_fd = -1, .stats_fd = -1, .flows_fd = -1 };

_Static_assert(sizeof(struct worker_tenant_cfg) >= sizeof(struct worker_net_cfg) &&
    sizeof(struct worker_tenant_cfg) >= sizeof(struct worker_uplink_cfg) &&
    sizeof(struct worker_tenant_cfg) >= sizeof(struct port_kick) &&
    sizeof(struct worker_tenant_cfg) >= sizeof(struct worker_port_cfg), "queued messages fit");

static int
role_worker_fd(int *slot, struct msg *m)
{
	const struct shm_size *r = (const struct shm_size *)m->data;

	if (m->fd < 0 || r->size == 0)
		return -1;
	if (*slot >= 0)
		close(*slot);
	*slot = m->fd;
	m->fd = -1;			/* ours now */
	return 0;
}

static int
role_worker_queue(struct msg *m)
{
	struct role_worker_queued *q;

	if (m->hdr.len > sizeof(q->data))
		return -1;
	if (role_worker.nqueue == role_worker.cap) {
		size_t cap = role_worker.cap ? role_worker.cap * 2 : 16;

		q = realloc(role_worker.queue, cap * sizeof(*q));
		if (q == NULL)
			return -1;
		role_worker.queue = q;
		role_worker.cap = cap;
	}
	q = &role_worker.queue[role_worker.nqueue++];
	q->type = m->hdr.type;
	q->len = m->hdr.len;
	q->fd = m->fd;
	m->fd = -1;
	memcpy(q->data, m->data, m->hdr.len);
	return 0;
}

int
role_worker_setup(int sock, struct msg *m)
{
	switch (m->hdr.type) {
	case MSG_WORKER_REGION:
		return role_worker_fd(&role_worker.region_fd, m);
	case MSG_WORKER_STATS:
		return role_worker_fd(&role_worker.stats_fd, m);
	case MSG_WORKER_FLOWS:
		return role_worker_fd(&role_worker.flows_fd, m);
	case MSG_WORKER_KICK:
	case MSG_WORKER_PORT:
	case MSG_WORKER_NETWORK:
	case MSG_WORKER_NETWORK_DEL:
	case MSG_WORKER_TENANT:
	case MSG_WORKER_TENANT_DEL:
	case MSG_WORKER_UPLINK:
		return role_worker_queue(m);
	}
	return -1;
}

void
role_worker_prepare(void)
{
	/* The big allocations now, so the sandboxed loop never waits on one. */
	if (role_worker.w == NULL && (role_worker.w = worker_new()) == NULL)
		fatal("worker state");
	if (role_worker.msg == NULL && (role_worker.msg = malloc(sizeof(*role_worker.msg))) == NULL)
		fatal("worker message buffer");
}

/* Apply one message from the parent (checked already); m->fd is taken if used. */
static void
role_worker_dispatch(struct worker *w, struct msg *m)
{
	const void *d = m->data;
	int rc = -1;

	switch (m->hdr.type) {
	case MSG_WORKER_KICK: {
		const struct port_kick *k = d;

		if ((rc = worker_kick_set(w, k->port, k->which, m->fd)) == 0)
			m->fd = -1;
		break;
	}
	case MSG_WORKER_PORT:
		rc = worker_port_set(w, d);
		break;
	case MSG_WORKER_NETWORK:
		rc = worker_network_set(w, d);
		break;
	case MSG_WORKER_NETWORK_DEL:
		rc = worker_network_del(w, ((const struct worker_net_cfg *)d)->id);
		break;
	case MSG_WORKER_TENANT:
		rc = worker_tenant_set(w, d);
		break;
	case MSG_WORKER_TENANT_DEL:
		rc = worker_tenant_del(w, ((const struct worker_tenant_cfg *)d)->id);
		break;
	case MSG_WORKER_UPLINK:
		rc = worker_uplink_set(w, d);
		break;
	}
	if (rc < 0)
		log_warnx("ignored a message of type %u from the parent: malformed or no room",
		    m->hdr.type);
}

static void
role_worker_replay(struct worker *w, struct msg *m)
{
	for (size_t i = 0; i < role_worker.nqueue; i++) {
		struct role_worker_queued *q = &role_worker.queue[i];

		m->hdr.type = q->type;
		m->hdr.len = q->len;
		m->fd = q->fd;
		q->fd = -1;
		memcpy(m->data, q->data, q->len);
		role_worker_dispatch(w, m);
		if (m->fd >= 0)
			close(m->fd);
	}
	role_worker.nqueue = 0;
}

/*
 * Everything the parent has sent: 1 to go on (*handled says whether there
 * was anything), 0 on its end of file, -1 on error.
 */
static int
role_worker_parent(void *arg, int *handled)
{
	struct worker *w = role_worker.w;
	struct msg *m = role_worker.msg;
	int sock = *(const int *)arg;
	char why[128];

	for (*handled = 0;; *handled = 1) {
		int rc = msg_recv(sock, m);

		if (rc == 0)
			return 0;
		if (rc < 0)
			return errno == EAGAIN ? 1 : -1;
		if (msg_check(proto_types, proto_ntypes, m, PROTO_FROM_PARENT, why, sizeof(why)) < 0) {
			log_warnx("from the parent: %s", why);
			if (m->fd >= 0)
				close(m->fd);
			return -1;
		}
		role_worker_dispatch(w, m);
		if (m->fd >= 0)
			close(m->fd);
	}
}

/* A flow move the worker reports: an event for the parent. */
static int
role_worker_move(void *arg, const struct worker_move *m)
{
	return msg_send(*(const int *)arg, MSG_WORKER_MOVE, 0, 0, m, sizeof(*m), NULL);
}

/* Map a memfd the parent sent; the descriptor is the mapping's (or closed) after. */
static int
role_worker_map(struct shm *m, int *fd, const char *what)
{
	struct cnw_error err = { 0 };

	if (*fd < 0) {
		log_warnx("no %s from the parent", what);
		return -1;
	}
	if (shm_map(m, *fd, PROT_READ | PROT_WRITE, &err) < 0) {
		log_warnx("%s: %s", what, err.msg);
		close(*fd);
		*fd = -1;
		return -1;
	}
	*fd = -1;
	return 0;
}

static void
role_worker_release(struct shm *region, struct shm *stats)
{
	for (size_t i = 0; i < role_worker.nqueue; i++)
		if (role_worker.queue[i].fd >= 0)
			close(role_worker.queue[i].fd);
	free(role_worker.queue);
	role_worker.queue = NULL;
	role_worker.nqueue = role_worker.cap = 0;
	worker_free(role_worker.w);
	role_worker.w = NULL;
	free(role_worker.msg);
	role_worker.msg = NULL;
	shm_unmap(region);
	shm_unmap(stats);
}

int
role_worker_main(int sock)
{
	struct shm region = { .fd = -1 }, stats = { .fd = -1 }, flows = { .fd = -1 };
	int flags, rc = 1;

	role_worker_prepare();
	if (role_worker_map(&region, &role_worker.region_fd, "region") < 0 ||
	    role_worker_map(&stats, &role_worker.stats_fd, "stats segment") < 0 ||
	    role_worker_map(&flows, &role_worker.flows_fd, "flow table") < 0)
		goto out;
	/* The flow table in the parent's memfd, so it lists flows without asking us. */
	if (worker_flows_attach(role_worker.w, flows.base, flows.size) < 0) {
		log_warnx("flow table of %zu bytes, %zu needed", flows.size, worker_flows_size());
		goto out;
	}
	worker_set_report(role_worker.w, role_worker_move, &sock);
	if (stats.size < stats_size()) {
		log_warnx("stats segment of %zu bytes, %zu needed", stats.size, stats_size());
		goto out;
	}
	/* The memfd is fresh: the worker is its only writer and lays it out. */
	stats_init(stats.base);
	if (worker_attach(role_worker.w, region.base, region.size, stats.base, stats.size) < 0) {
		log_warnx("the region does not have the layout this worker expects");
		goto out;
	}
	if ((flags = fcntl(sock, F_GETFL)) < 0 || fcntl(sock, F_SETFL, flags | O_NONBLOCK) < 0) {
		log_warn("socket");
		goto out;
	}
	role_worker_replay(role_worker.w, role_worker.msg);
	rc = worker_run(role_worker.w, sock, role_worker_parent, &sock) == 0 ? 0 : 1;
out:
	role_worker_release(&region, &stats);
	shm_unmap(&flows);
	return rc;
}
