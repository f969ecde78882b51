/*
 * Discovery of network interfaces: the monitor; see discover.h, and
 * discover_int.h for the other parts.
 *
 * Events carry the whole state of a link (RTM_NEWLINK) or one address
 * (RTM_NEWADDR/DELADDR), so applying them in order always converges.
 * When the socket overflowed (ENOBUFS) some were lost: then we drop what
 * is queued, dump links and addresses on the request socket and reconcile.
 * Events queued after the drop but older than the dump are applied again
 * afterwards; since each is either a full state or an idempotent set
 * operation, replaying them ends where the kernel is (at worst a moment of
 * stale state and an extra event).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "hal/discover.h"
#include "hal/discover_int.h"
#include "lib/util.h"

/* The event socket's receive buffer, so a burst of events is not lost (discover.h). */
#define DISC_RCVBUF (4 << 20)
/* Datagrams read per disc_monitor_read(), so a storm cannot hold the caller's loop. */
#define DISC_READ_BUDGET 256
/* Dumps the kernel flags as interrupted (the set changed meanwhile) are asked again. */
#define DISC_DUMP_TRIES 5
/* How long to wait for the kernel to answer a dump. */
#define DISC_TIMEOUT_S 2

struct disc_monitor *
disc_monitor_open(const char *netns, struct cnw_error *err)
{
	static const unsigned groups[] = { RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR };
	struct timeval tv = { .tv_sec = DISC_TIMEOUT_S };
	struct disc_monitor *m;
	int fd, size = DISC_RCVBUF;

	if (netns == NULL || strlen(netns) >= sizeof(m->netns))
		return cnw_err(err, CNW_EINVAL, "discovery: namespace name too long"), NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory"), NULL;
	snprintf(m->netns, sizeof(m->netns), "%s", netns);
	m->ioc = -1;
	m->seq = (unsigned)time(NULL);

	m->ev = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (m->ev == NULL || mnl_socket_bind(m->ev, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	for (size_t k = 0; k < ARRAY_SIZE(groups); k++)
		if (mnl_socket_setsockopt(m->ev, NETLINK_ADD_MEMBERSHIP, (void *)&groups[k],
		    sizeof(groups[k])) < 0)
			goto fail;
	/* FORCE passes net.core.rmem_max (with CAP_NET_ADMIN); else we get what it allows. */
	fd = mnl_socket_get_fd(m->ev);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		goto fail;

	m->rq = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (m->rq == NULL || mnl_socket_bind(m->rq, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    setsockopt(mnl_socket_get_fd(m->rq), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
		goto fail;
	m->rq_portid = mnl_socket_get_portid(m->rq);

	if ((m->ioc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		goto fail;
	return m;
fail:
	cnw_err(err, CNW_EINTERNAL, "discovery: netlink: %s", strerror(errno));
	disc_monitor_close(m);
	return NULL;
}

void
disc_monitor_close(struct disc_monitor *m)
{
	if (m == NULL)
		return;
	if (m->ev != NULL)
		mnl_socket_close(m->ev);
	if (m->rq != NULL)
		mnl_socket_close(m->rq);
	if (m->ioc >= 0)
		close(m->ioc);
	free(m);
}

int
disc_monitor_fd(const struct disc_monitor *m)
{
	return mnl_socket_get_fd(m->ev);
}

unsigned
disc_monitor_resyncs(const struct disc_monitor *m)
{
	return m->resyncs;
}

typedef int (*disc_msg_fn)(const struct nlmsghdr *nlh, void *arg);

/*
 * Send a dump request and pass each answer to fn.  Returns 0; 1 if the
 * kernel flagged the dump as interrupted (NLM_F_DUMP_INTR: links came or
 * went while it was made, so some may be missing or twice; fn has seen it
 * all, and the caller decides), after reading it to its end so that the
 * socket stays in step; or -1.  The loop is ours
 * rather than mnl_cb_run's, which stops at the flag with the rest of the
 * dump still queued.
 */
static int
disc_dump(struct disc_monitor *m, struct nlmsghdr *nlh, disc_msg_fn fn, void *arg,
    const char *what, struct cnw_error *err)
{
	unsigned seq = nlh->nlmsg_seq;
	int intr = 0, failed = 0;

	if (mnl_socket_sendto(m->rq, nlh, nlh->nlmsg_len) < 0)
		return cnw_err(err, CNW_EINTERNAL, "discovery: %s: %s", what, strerror(errno));
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(m->rq, m->buf, sizeof(m->buf));
		const struct nlmsghdr *h = (const struct nlmsghdr *)m->buf;
		int len = (int)n;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cnw_err(err, CNW_EINTERNAL, "discovery: %s: %s", what,
			    errno == EAGAIN ? "the kernel did not answer" : strerror(errno));
		for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
			/* The rest of an earlier request that timed out */
			if (!mnl_nlmsg_portid_ok(h, m->rq_portid) || !mnl_nlmsg_seq_ok(h, seq))
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				intr = 1;
			if (h->nlmsg_type == NLMSG_DONE) {
				if (h->nlmsg_len >= mnl_nlmsg_size(sizeof(int)) &&
				    *(const int *)mnl_nlmsg_get_payload(h) < 0)
					return cnw_err(err, CNW_EINTERNAL, "discovery: %s: %s", what,
					    strerror(-*(const int *)mnl_nlmsg_get_payload(h)));
				if (failed)
					return cnw_err(err, CNW_EINTERNAL, "out of memory");
				return intr;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

				return cnw_err(err, CNW_EINTERNAL, "discovery: %s: %s", what,
				    h->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error < 0 ?
				    strerror(-e->error) : "error");
			}
			if (h->nlmsg_type < NLMSG_MIN_TYPE || failed)
				continue;
			if (fn(h, arg) < 0)
				failed = 1;
		}
	}
}

static struct nlmsghdr *
disc_request(struct disc_monitor *m, uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++m->seq;
	return nlh;
}

/* What a sync's two dumps found. */
struct disc_snap {
	const char *netns;
	struct disc_link *links;
	size_t nlinks, caplinks;
	struct disc_snap_addr {
		int ifindex;
		unsigned order;		/* the kernel's, kept through the sort */
		struct disc_addr a;
	} *addrs;
	size_t naddrs, capaddrs;
};

static int
disc_grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void **p = pp;
	size_t ncap = *cap ? *cap : 64;
	void *v;

	if (need <= *cap)
		return 0;
	while (ncap < need)
		ncap *= 2;
	if ((v = realloc(*p, ncap * size)) == NULL)
		return -1;
	*p = v;
	*cap = ncap;
	return 0;
}

static int
disc_snap_link_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct disc_snap *s = arg;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return 0;
	if (disc_grow(&s->links, &s->caplinks, s->nlinks + 1, sizeof(*s->links)) < 0)
		return -1;
	if (disc_link_parse(nlh, s->netns, &s->links[s->nlinks]) == 0)
		s->nlinks++;
	return 0;
}

static int
disc_snap_addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct disc_snap *s = arg;
	struct disc_snap_addr *sa;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return 0;
	if (disc_grow(&s->addrs, &s->capaddrs, s->naddrs + 1, sizeof(*s->addrs)) < 0)
		return -1;
	sa = &s->addrs[s->naddrs];
	if (disc_addr_parse(nlh, &sa->ifindex, &sa->a) == 0) {
		sa->order = (unsigned)s->naddrs;
		s->naddrs++;
	}
	return 0;
}

static int
disc_snap_addr_cmp(const void *a, const void *b)
{
	const struct disc_snap_addr *x = a, *y = b;

	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Both dumps; 1 if either was interrupted. */
static int
disc_snap_take(struct disc_monitor *m, struct disc_snap *s, struct cnw_error *err)
{
	struct nlmsghdr *nlh;
	int r1, r2;

	s->nlinks = s->naddrs = 0;
	nlh = disc_request(m, RTM_GETLINK);
	((struct ifinfomsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg)))->ifi_family =
	    AF_UNSPEC;
	if ((r1 = disc_dump(m, nlh, disc_snap_link_cb, s, "link dump", err)) < 0)
		return -1;
	nlh = disc_request(m, RTM_GETADDR);
	((struct ifaddrmsg *)mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg)))->ifa_family =
	    AF_UNSPEC;
	if ((r2 = disc_dump(m, nlh, disc_snap_addr_cb, s, "address dump", err)) < 0)
		return -1;
	return r1 || r2;
}

/* Read and throw away what is queued: the dump that follows supersedes it. */
static void
disc_drain(struct disc_monitor *m)
{
	int fd = mnl_socket_get_fd(m->ev);

	/* Bounded: more than a full 4 MiB buffer's worth, and then the dump's replay covers it */
	for (int k = 0; k < 65536; k++) {
		ssize_t n = recv(fd, m->buf, sizeof(m->buf), MSG_DONTWAIT);

		if (n < 0 && errno != EINTR && errno != ENOBUFS)
			return;
	}
}

static int
disc_reconcile(struct disc_monitor *m, struct disc_table *t, struct disc_snap *s,
    disc_event_fn fn, void *arg, struct cnw_error *err)
{
	unsigned gen = ++t->gen;
	size_t k, a;
	int events = 0;

	for (k = 0; k < s->nlinks; k++) {
		struct disc_entry *e = disc_lookup_index(t, m->netns, s->links[k].i.ifindex);

		if (e != NULL)
			e->gen = gen;
	}
	/* The vanished first: a name one of them held may be another's now. */
	k = disc_lb_index(t->by_index, t->n, m->netns, INT_MIN);
	while (k < t->n && strcmp(t->by_index[k]->i.netns, m->netns) == 0) {
		struct disc_entry *e = t->by_index[k];

		if (e->gen == gen) {
			k++;
			continue;
		}
		disc_emit(fn, arg, DISC_REMOVED, &e->i, NULL);
		disc_remove(t, e);
		events++;
	}
	if (s->naddrs > 0)
		qsort(s->addrs, s->naddrs, sizeof(*s->addrs), disc_snap_addr_cmp);
	for (k = 0; k < s->nlinks; k++) {
		struct disc_link *l = &s->links[k];
		size_t lo = 0, hi = s->naddrs;
		int r;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (s->addrs[mid].ifindex < l->i.ifindex)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (a = lo; a < s->naddrs && s->addrs[a].ifindex == l->i.ifindex &&
		    l->i.naddrs < DISC_ADDRS_MAX; a++)
			l->i.addrs[l->i.naddrs++] = s->addrs[a].a;
		if ((r = disc_apply_link(m, t, l, 1, fn, arg, err)) < 0)
			return -1;
		events += r;
	}
	return events;
}

int
disc_monitor_sync(struct disc_monitor *m, struct disc_table *t, disc_event_fn fn, void *arg,
    struct cnw_error *err)
{
	struct disc_snap s = { .netns = m->netns };
	int r = -1;

	m->need_sync = 0;
	disc_drain(m);
	for (int tries = 1;; tries++) {
		int intr = disc_snap_take(m, &s, err);

		if (intr < 0)
			goto out;
		if (intr == 0)
			break;
		/* Still changing: take this one, and look again at the next read. */
		if (tries == DISC_DUMP_TRIES) {
			m->need_sync = 1;
			break;
		}
	}
	r = disc_reconcile(m, t, &s, fn, arg, err);
out:
	free(s.links);
	free(s.addrs);
	return r;
}

/* One datagram of events. */
static int
disc_apply_msgs(struct disc_monitor *m, struct disc_table *t, int len, disc_event_fn fn,
    void *arg, struct cnw_error *err)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)m->buf;
	struct disc_link l;
	int events = 0, r;

	for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
		switch (h->nlmsg_type) {
		case RTM_NEWLINK:
			r = disc_link_parse(h, m->netns, &l) == 0 ?
			    disc_apply_link(m, t, &l, 0, fn, arg, err) : 0;
			break;
		case RTM_DELLINK:
			r = disc_apply_dellink(m, t, h, fn, arg);
			break;
		case RTM_NEWADDR:
		case RTM_DELADDR:
			r = disc_apply_addr(m, t, h, fn, arg);
			break;
		default:
			r = 0;
		}
		if (r < 0)
			m->need_sync = 1;	/* out of memory: the table missed this one */
		else
			events += r;
	}
	return events;
}

int
disc_monitor_read(struct disc_monitor *m, struct disc_table *t, disc_event_fn fn, void *arg,
    struct cnw_error *err)
{
	int fd = mnl_socket_get_fd(m->ev), events = 0, r;

	for (int k = 0; k < DISC_READ_BUDGET && !m->need_sync; k++) {
		struct sockaddr_nl sa;
		struct iovec iov = { .iov_base = m->buf, .iov_len = sizeof(m->buf) };
		struct msghdr msg = {
			.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1,
		};
		ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if ((n < 0 && errno == ENOBUFS) || (n >= 0 && (msg.msg_flags & MSG_TRUNC))) {
			m->resyncs++;
			m->need_sync = 1;
			break;
		}
		if (n < 0)
			return cnw_err(err, CNW_EINTERNAL, "discovery: netlink: %s", strerror(errno));
		/* Only the kernel speaks on these groups; anything else is not an event. */
		if (sa.nl_pid != 0)
			continue;
		events += disc_apply_msgs(m, t, (int)n, fn, arg, err);
	}
	if (m->need_sync) {
		if ((r = disc_monitor_sync(m, t, fn, arg, err)) < 0)
			return -1;
		events += r;
	}
	return events;
}

struct disc_sample {
	struct disc_monitor *m;
	struct disc_table *t;
	uint64_t now;
};

static double
disc_per_s(uint64_t now, uint64_t before, double s)
{
	/* A counter that went back was reset (a driver re-probed): no rate this time */
	return now >= before ? (double)(now - before) / s : 0;
}

static int
disc_sample_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct disc_sample *s = arg;
	const struct if_stats_msg *ism = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct disc_entry *e;

	if (nlh->nlmsg_type != RTM_NEWSTATS || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ism)) ||
	    (e = disc_lookup_index(s->t, s->m->netns, (int)ism->ifindex)) == NULL)
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(*ism)) {
		struct disc_stats *c = &e->i.stats, *b = &e->base;

		if (mnl_attr_get_type(a) != IFLA_STATS_LINK_64 ||
		    mnl_attr_get_payload_len(a) < 8 * sizeof(uint64_t))
			continue;
		disc_stats_read(a, c);
		e->i.sampled_ns = s->now;
		if (e->has_base && s->now > e->base_ns) {
			double dt = (double)(s->now - e->base_ns) / 1e9;

			e->i.rate.rx_bps = 8 * disc_per_s(c->rx_bytes, b->rx_bytes, dt);
			e->i.rate.tx_bps = 8 * disc_per_s(c->tx_bytes, b->tx_bytes, dt);
			e->i.rate.rx_pps = disc_per_s(c->rx_packets, b->rx_packets, dt);
			e->i.rate.tx_pps = disc_per_s(c->tx_packets, b->tx_packets, dt);
		}
		e->base = *c;
		e->base_ns = s->now;
		e->has_base = 1;
		break;
	}
	return 0;
}

/*
 * RTM_GETSTATS (Linux 4.7) asked for IFLA_STATS_LINK_64 alone: about 250
 * bytes a link, against about 1.5 KB for the whole link a RTM_GETLINK dump
 * would send, every second.
 */
int
disc_monitor_sample(struct disc_monitor *m, struct disc_table *t, uint64_t now_ns,
    struct cnw_error *err)
{
	struct disc_sample s = { .m = m, .t = t, .now = now_ns };
	struct nlmsghdr *nlh = disc_request(m, RTM_GETSTATS);
	struct if_stats_msg *ism = mnl_nlmsg_put_extra_header(nlh, sizeof(*ism));

	ism->family = AF_UNSPEC;
	ism->filter_mask = IFLA_STATS_FILTER_BIT(IFLA_STATS_LINK_64);
	/* An interrupted dump still gave every link it reached its own counters */
	return disc_dump(m, nlh, disc_sample_cb, &s, "stats dump", err) < 0 ? -1 : 0;
}
