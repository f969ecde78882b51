/*
 * rtnetlink on libmnl; see nl.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "lib/nl.h"

struct nl {
	struct mnl_socket *sock;
	unsigned portid;
	unsigned seq;
	char buf[32768];		/* the kernel sizes dump parts to what we read */
};

struct nl *
nl_open(struct cnw_error *err)
{
	struct nl *nl = calloc(1, sizeof(*nl));

	if (nl == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory"), NULL;
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (nl->sock == NULL || mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		cnw_err(err, CNW_EINTERNAL, "netlink: %s", strerror(errno));
		nl_close(nl);
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned)time(NULL);
	return nl;
}

void
nl_close(struct nl *nl)
{
	if (nl == NULL)
		return;
	if (nl->sock != NULL)
		mnl_socket_close(nl->sock);
	free(nl);
}

static struct nlmsghdr *
nl_request(struct nl *nl, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ++nl->seq;
	return nlh;
}

/* Send nlh and run cb over the replies until the ACK or the dump's end. */
static int
nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg, const char *what,
    struct cnw_error *err)
{
	unsigned seq = nlh->nlmsg_seq;
	int rc;

	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return cnw_err(err, CNW_EINTERNAL, "netlink %s: %s", what, strerror(errno));
	do {
		ssize_t n = mnl_socket_recvfrom(nl->sock, nl->buf, sizeof(nl->buf));

		if (n < 0)
			return cnw_err(err, CNW_EINTERNAL, "netlink %s: %s", what, strerror(errno));
		rc = mnl_cb_run(nl->buf, (size_t)n, seq, nl->portid, cb, arg);
	} while (rc == MNL_CB_OK);
	if (rc < 0) {
		int saved = errno;	/* callers test it (ENODEV, EEXIST) */

		cnw_err(err, CNW_EINTERNAL, "netlink %s: %s", what, strerror(saved));
		errno = saved;
		return -1;
	}
	return 0;
}

/* Links -------------------------------------------------------------- */

static int
nl_link_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	*(int *)arg = ifi->ifi_index;
	return MNL_CB_OK;
}

int
nl_link_index(struct nl *nl, const char *name, struct cnw_error *err)
{
	/* ACK too: a single reply then ends with it, as a dump ends with DONE */
	struct nlmsghdr *nlh = nl_request(nl, RTM_GETLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	int index = 0;

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (nl_talk(nl, nlh, nl_link_cb, &index, "get link", err) < 0) {
		if (errno == ENODEV)
			return 0;
		return -1;
	}
	return index;
}

int
nl_link_set_up(struct nl *nl, int ifindex, struct cnw_error *err)
{
	struct nlmsghdr *nlh = nl_request(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return nl_talk(nl, nlh, NULL, NULL, "set link up", err);
}

int
nl_link_delete(struct nl *nl, int ifindex, struct cnw_error *err)
{
	struct nlmsghdr *nlh = nl_request(nl, RTM_DELLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_talk(nl, nlh, NULL, NULL, "delete link", err);
}

int
nl_link_set_no_ll6(struct nl *nl, int ifindex, struct cnw_error *err)
{
	struct nlmsghdr *nlh = nl_request(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *spec, *af;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	spec = mnl_attr_nest_start(nlh, IFLA_AF_SPEC);
	af = mnl_attr_nest_start(nlh, AF_INET6);
	mnl_attr_put_u8(nlh, IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE);
	mnl_attr_nest_end(nlh, af);
	mnl_attr_nest_end(nlh, spec);
	return nl_talk(nl, nlh, NULL, NULL, "set addr_gen_mode", err);
}

int
nl_link_set_gso_max(struct nl *nl, int ifindex, uint32_t bytes, struct cnw_error *err)
{
	struct nlmsghdr *nlh = nl_request(nl, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_GSO_MAX_SIZE, bytes);
	return nl_talk(nl, nlh, NULL, NULL, "set gso_max_size", err);
}

/* Addresses ---------------------------------------------------------- */

static size_t
nl_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int
nl_addr_replace(struct nl *nl, int ifindex, const struct prefix *a, struct cnw_error *err)
{
	struct nlmsghdr *nlh = nl_request(nl, RTM_NEWADDR,
	    NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));

	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)a->plen;
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	/* No duplicate address detection: the address is ours alone. */
	ifa->ifa_flags = a->family == AF_INET6 ? IFA_F_NODAD : 0;
	mnl_attr_put(nlh, IFA_LOCAL, nl_addr_len(a->family), a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, nl_addr_len(a->family), a->addr);
	return nl_talk(nl, nlh, NULL, NULL, "add address", err);
}

struct nl_each {
	int family;
	nl_addr_fn addr_fn;
	nl_route_fn route_fn;
	void *arg;
};

/* Attribute tables: only what we read, each checked for its size. */
static int
nl_addr_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);
	uint16_t len = mnl_attr_get_payload_len(attr);

	if ((type == IFA_ADDRESS || type == IFA_LOCAL) && (len == 4 || len == 16))
		tb[type] = attr;
	return MNL_CB_OK;
}

static int
nl_route_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(attr);
	uint16_t len = mnl_attr_get_payload_len(attr);

	if (type == RTA_DST && (len == 4 || len == 16))
		tb[type] = attr;
	else if ((type == RTA_OIF || type == RTA_TABLE) && mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
		tb[type] = attr;
	return MNL_CB_OK;
}

static int
nl_addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct nl_each *e = arg;
	const struct nlattr *at;
	struct prefix p = { .family = ifa->ifa_family, .plen = ifa->ifa_prefixlen };

	if (ifa->ifa_family != e->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), nl_addr_attr_cb, tb);
	at = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (at == NULL || mnl_attr_get_payload_len(at) != nl_addr_len(p.family))
		return MNL_CB_OK;
	memcpy(p.addr, mnl_attr_get_payload(at), nl_addr_len(p.family));
	return e->addr_fn(&p, (int)ifa->ifa_index, e->arg) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int
nl_addr_each(struct nl *nl, int family, nl_addr_fn fn, void *arg, struct cnw_error *err)
{
	struct nlmsghdr *nlh = nl_request(nl, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct nl_each e = { .family = family, .addr_fn = fn, .arg = arg };

	ifa->ifa_family = (uint8_t)family;
	return nl_talk(nl, nlh, nl_addr_cb, &e, "list addresses", err);
}

/* Routes ------------------------------------------------------------- */

static struct nlmsghdr *
nl_route_msg(struct nl *nl, uint16_t type, uint16_t flags, const struct nl_route *r)
{
	struct nlmsghdr *nlh = nl_request(nl, type, flags | NLM_F_ACK);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	rtm->rtm_family = (uint8_t)r->dst.family;
	rtm->rtm_dst_len = (uint8_t)r->dst.plen;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = NL_RTPROT_CNW;
	rtm->rtm_type = (uint8_t)r->type;
	rtm->rtm_scope = r->type == RTN_UNICAST ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
	if (r->dst.plen > 0)
		mnl_attr_put(nlh, RTA_DST, nl_addr_len(r->dst.family), r->dst.addr);
	if (r->type == RTN_UNICAST)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)r->oif);
	return nlh;
}

int
nl_route_replace(struct nl *nl, const struct nl_route *r, struct cnw_error *err)
{
	return nl_talk(nl, nl_route_msg(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, r),
	    NULL, NULL, "add route", err);
}

int
nl_route_delete(struct nl *nl, const struct nl_route *r, struct cnw_error *err)
{
	return nl_talk(nl, nl_route_msg(nl, RTM_DELROUTE, 0, r), NULL, NULL, "delete route", err);
}

static int
nl_route_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[RTA_MAX + 1] = { 0 };
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_each *e = arg;
	struct nl_route r = { .dst.family = rtm->rtm_family, .dst.plen = rtm->rtm_dst_len,
		.type = rtm->rtm_type, .protocol = rtm->rtm_protocol };
	uint32_t table = rtm->rtm_table;

	if (rtm->rtm_family != e->family)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*rtm), nl_route_attr_cb, tb);
	if (tb[RTA_TABLE] != NULL)
		table = mnl_attr_get_u32(tb[RTA_TABLE]);
	if (table != RT_TABLE_MAIN)
		return MNL_CB_OK;
	if (tb[RTA_DST] != NULL) {
		if (mnl_attr_get_payload_len(tb[RTA_DST]) != nl_addr_len(r.dst.family))
			return MNL_CB_OK;
		memcpy(r.dst.addr, mnl_attr_get_payload(tb[RTA_DST]), nl_addr_len(r.dst.family));
	}
	if (tb[RTA_OIF] != NULL)
		r.oif = (int)mnl_attr_get_u32(tb[RTA_OIF]);
	return e->route_fn(&r, e->arg) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

int
nl_route_each(struct nl *nl, int family, nl_route_fn fn, void *arg, struct cnw_error *err)
{
	struct nlmsghdr *nlh = nl_request(nl, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct nl_each e = { .family = family, .route_fn = fn, .arg = arg };

	rtm->rtm_family = (uint8_t)family;
	return nl_talk(nl, nlh, nl_route_cb, &e, "list routes", err);
}

/* Monitor ------------------------------------------------------------ */

int
nl_monitor_open(struct cnw_error *err)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR |
		    RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE,
	};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		cnw_err(err, CNW_EINTERNAL, "netlink monitor: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

int
nl_monitor_drain(int fd)
{
	char buf[8192];
	int n = 0;

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), 0);

		/* ENOBUFS: events were lost; the caller reconciles anyway. */
		if (r < 0 && errno == ENOBUFS) {
			n++;
			continue;
		}
		if (r <= 0)
			return n;
		n++;
	}
}
