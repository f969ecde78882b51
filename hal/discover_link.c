/*
 * What the kernel says of a link: its rtnetlink messages (parsed as
 * lib/nl.c does, libmnl and attribute callbacks that check each type
 * before it is stored in a table) and ethtool; and each applied to the
 * table, with its event.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "hal/discover.h"
#include "hal/discover_int.h"
#include "lib/util.h"

/* ethtool -------------------------------------------------------------- */

/*
 * Speed, duplex and (with drvinfo) driver of i, by name, on the monitor's
 * AF_INET socket.  Nothing is changed if the name no longer belongs to
 * i's index when we are done (renamed meanwhile: the rename's event will
 * ask again).
 */
static void
disc_ethtool(const struct disc_monitor *m, struct disc_iface *i, int drvinfo)
{
	struct {
		struct ethtool_link_settings s;
		uint32_t masks[3 * SCHAR_MAX];	/* supported, advertised, lp_advertised */
	} ls;
	struct ethtool_cmd cmd;
	struct ethtool_drvinfo di;
	struct ifreq ifr;
	uint32_t speed = 0;
	uint8_t duplex = DUPLEX_UNKNOWN;
	int got = 0;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->name);

	/* The handshake: asked with 0 words, the kernel answers how many it wants, negated. */
	memset(&ls, 0, sizeof(ls));
	ls.s.cmd = ETHTOOL_GLINKSETTINGS;
	ifr.ifr_data = (void *)&ls;
	if (ioctl(m->ioc, SIOCETHTOOL, &ifr) == 0 && ls.s.link_mode_masks_nwords < 0) {
		int8_t nwords = (int8_t)-ls.s.link_mode_masks_nwords;

		memset(&ls, 0, sizeof(ls));
		ls.s.cmd = ETHTOOL_GLINKSETTINGS;
		ls.s.link_mode_masks_nwords = nwords;
		ifr.ifr_data = (void *)&ls;
		if (ioctl(m->ioc, SIOCETHTOOL, &ifr) == 0 && ls.s.link_mode_masks_nwords == nwords) {
			speed = ls.s.speed;
			duplex = ls.s.duplex;
			got = 1;
		}
	}
	if (!got) {
		/* Kernels before 4.6 */
		memset(&cmd, 0, sizeof(cmd));
		cmd.cmd = ETHTOOL_GSET;
		ifr.ifr_data = (void *)&cmd;
		if (ioctl(m->ioc, SIOCETHTOOL, &ifr) == 0) {
			speed = ethtool_cmd_speed(&cmd);
			duplex = cmd.duplex;
		}
	}
	memset(&di, 0, sizeof(di));
	if (drvinfo) {
		di.cmd = ETHTOOL_GDRVINFO;
		ifr.ifr_data = (void *)&di;
		if (ioctl(m->ioc, SIOCETHTOOL, &ifr) < 0)
			memset(&di, 0, sizeof(di));
	}

	ifr.ifr_ifindex = 0;
	if (ioctl(m->ioc, SIOCGIFINDEX, &ifr) < 0 || ifr.ifr_ifindex != i->ifindex)
		return;
	i->speed_mbps = speed == 0 || speed == (uint32_t)SPEED_UNKNOWN || speed > INT32_MAX ?
	    -1 : (int64_t)speed;
	snprintf(i->duplex, sizeof(i->duplex), "%s",
	    duplex == DUPLEX_FULL ? "full" : duplex == DUPLEX_HALF ? "half" : "");
	if (drvinfo)
		snprintf(i->driver, sizeof(i->driver), "%.*s", (int)sizeof(di.driver), di.driver);
}

/* Messages ------------------------------------------------------------- */

static void
disc_attr_str(const struct nlattr *a, char *dst, size_t size)
{
	const char *s = mnl_attr_get_payload(a);
	size_t len = strnlen(s, mnl_attr_get_payload_len(a));

	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static int
disc_link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	int ok;

	switch (type) {
	case IFLA_IFNAME:
		ok = mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0;
		break;
	case IFLA_MTU:
		ok = mnl_attr_validate(a, MNL_TYPE_U32) == 0;
		break;
	case IFLA_OPERSTATE:
	case IFLA_CARRIER:
		ok = mnl_attr_validate(a, MNL_TYPE_U8) == 0;
		break;
	case IFLA_ADDRESS:
		ok = 1;
		break;
	case IFLA_STATS64:
		ok = mnl_attr_get_payload_len(a) >= 8 * sizeof(uint64_t);
		break;
	case IFLA_LINKINFO:
		ok = mnl_attr_validate(a, MNL_TYPE_NESTED) == 0;
		break;
	default:
		ok = 0;
	}
	if (ok)
		tb[type] = a;
	return MNL_CB_OK;
}

static int
disc_linkinfo_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) == 0)
		tb[IFLA_INFO_KIND] = a;
	return MNL_CB_OK;
}

/* The first counters of struct rtnl_link_stats64, which may be longer in newer kernels. */
void
disc_stats_read(const struct nlattr *a, struct disc_stats *out)
{
	struct rtnl_link_stats64 s;
	size_t len = mnl_attr_get_payload_len(a);

	memset(&s, 0, sizeof(s));
	memcpy(&s, mnl_attr_get_payload(a), len < sizeof(s) ? len : sizeof(s));
	out->rx_packets = s.rx_packets;
	out->tx_packets = s.tx_packets;
	out->rx_bytes = s.rx_bytes;
	out->tx_bytes = s.tx_bytes;
	out->rx_errors = s.rx_errors;
	out->tx_errors = s.tx_errors;
	out->rx_dropped = s.rx_dropped;
	out->tx_dropped = s.tx_dropped;
}


/* RFC 2863 states, in IF_OPER_* order (<linux/if.h>). */
static const char *const disc_operstates[] = {
	"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up",
};

/*
 * An RTM_NEWLINK of family AF_UNSPEC: 0, or -1 to ignore it.  The bridge
 * sends RTM_NEWLINK and RTM_DELLINK of family AF_BRIDGE about its ports
 * on the same group; those are not the interface coming or going.
 */
int
disc_link_parse(const struct nlmsghdr *nlh, const char *netns, struct disc_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct nlattr *info[IFLA_INFO_MAX + 1] = { 0 };
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) || ifi->ifi_family != AF_UNSPEC ||
	    ifi->ifi_index <= 0)
		return -1;
	if (mnl_attr_parse(nlh, sizeof(*ifi), disc_link_attr_cb, tb) < 0 || tb[IFLA_IFNAME] == NULL)
		return -1;
	memset(l, 0, sizeof(*l));
	snprintf(l->i.netns, sizeof(l->i.netns), "%s", netns);
	l->i.ifindex = ifi->ifi_index;
	l->arphrd = ifi->ifi_type;
	l->i.flags = ifi->ifi_flags;
	disc_attr_str(tb[IFLA_IFNAME], l->i.name, sizeof(l->i.name));
	if (tb[IFLA_MTU] != NULL)
		l->i.mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	snprintf(l->i.operstate, sizeof(l->i.operstate), "%s", "unknown");
	if (tb[IFLA_OPERSTATE] != NULL &&
	    mnl_attr_get_u8(tb[IFLA_OPERSTATE]) < ARRAY_SIZE(disc_operstates))
		snprintf(l->i.operstate, sizeof(l->i.operstate), "%s",
		    disc_operstates[mnl_attr_get_u8(tb[IFLA_OPERSTATE])]);
	l->i.carrier = tb[IFLA_CARRIER] != NULL ? mnl_attr_get_u8(tb[IFLA_CARRIER]) != 0 :
	    (ifi->ifi_flags & IFF_LOWER_UP) != 0;
	if (tb[IFLA_ADDRESS] != NULL && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6) {
		static const uint8_t zero[6];

		memcpy(l->i.mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
		/* lo's is all zeros: no link layer to speak of */
		l->i.has_mac = memcmp(l->i.mac, zero, 6) != 0;
	}
	if (tb[IFLA_LINKINFO] != NULL &&
	    mnl_attr_parse_nested(tb[IFLA_LINKINFO], disc_linkinfo_attr_cb, info) >= 0 &&
	    info[IFLA_INFO_KIND] != NULL)
		disc_attr_str(info[IFLA_INFO_KIND], l->i.link_kind, sizeof(l->i.link_kind));
	if (tb[IFLA_STATS64] != NULL) {
		disc_stats_read(tb[IFLA_STATS64], &l->i.stats);
		l->i.sampled_ns = cnw_now_ns();
		l->has_stats = 1;
	}
	l->i.speed_mbps = -1;
	return 0;
}

static int
disc_addr_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);
	uint16_t len = mnl_attr_get_payload_len(a);

	if ((type == IFA_ADDRESS || type == IFA_LOCAL) && (len == 4 || len == 16))
		tb[type] = a;
	return MNL_CB_OK;
}

/* RTM_NEWADDR, RTM_DELADDR: IFA_LOCAL is ours on a point-to-point link (IFA_ADDRESS the peer's). */
int
disc_addr_parse(const struct nlmsghdr *nlh, int *ifindex, struct disc_addr *out)
{
	const struct nlattr *tb[IFA_MAX + 1] = { 0 };
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *at;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)) ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return -1;
	if (mnl_attr_parse(nlh, sizeof(*ifa), disc_addr_attr_cb, tb) < 0)
		return -1;
	at = tb[IFA_LOCAL] != NULL ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (at == NULL || mnl_attr_get_payload_len(at) != disc_addr_len(ifa->ifa_family))
		return -1;
	memset(out, 0, sizeof(*out));
	out->family = ifa->ifa_family;
	out->prefixlen = ifa->ifa_prefixlen;
	memcpy(out->addr, mnl_attr_get_payload(at), disc_addr_len(ifa->ifa_family));
	*ifindex = (int)ifa->ifa_index;
	return 0;
}

/* Applying ------------------------------------------------------------- */

/*
 * A link as the kernel describes it now; with_addrs when l carries the
 * addresses too (a dump), else they are kept.  Returns the number of
 * events reported (0 or 1), or -1.
 */
int
disc_apply_link(struct disc_monitor *m, struct disc_table *t, const struct disc_link *l,
    int with_addrs, disc_event_fn fn, void *arg, struct cnw_error *err)
{
	struct disc_entry *e = disc_lookup_index(t, m->netns, l->i.ifindex);
	struct disc_iface old;
	unsigned change;
	int renamed;

	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return cnw_err(err, CNW_EINTERNAL, "out of memory");
		e->i = l->i;
		e->arphrd = l->arphrd;
		e->gen = t->gen;
		disc_ethtool(m, &e->i, 1);
		disc_kind_set(t, e, 1);
		if (disc_insert(t, e) < 0) {
			free(e);
			return cnw_err(err, CNW_EINTERNAL, "out of memory");
		}
		disc_emit(fn, arg, DISC_ADDED, &e->i, NULL);
		return 1;
	}

	old = e->i;
	renamed = strcmp(old.name, l->i.name) != 0;
	if (renamed)
		disc_rename(t, e, l->i.name);
	e->i.flags = l->i.flags;
	memcpy(e->i.operstate, l->i.operstate, sizeof(e->i.operstate));
	e->i.carrier = l->i.carrier;
	e->i.mtu = l->i.mtu;
	memcpy(e->i.mac, l->i.mac, sizeof(e->i.mac));
	e->i.has_mac = l->i.has_mac;
	memcpy(e->i.link_kind, l->i.link_kind, sizeof(e->i.link_kind));
	if (l->has_stats) {
		e->i.stats = l->i.stats;
		e->i.sampled_ns = l->i.sampled_ns;
	}
	if (with_addrs) {
		e->i.naddrs = l->i.naddrs;
		memcpy(e->i.addrs, l->i.addrs, sizeof(e->i.addrs));
	}
	/* A link that comes up may have negotiated another speed. */
	if (renamed || (disc_diff(&old, &e->i) & DISC_STATE))
		disc_ethtool(m, &e->i, renamed);
	if (renamed || e->arphrd != l->arphrd || strcmp(old.link_kind, e->i.link_kind) != 0) {
		e->arphrd = l->arphrd;
		disc_kind_set(t, e, 1);
	}
	change = disc_diff(&old, &e->i);
	if (change == 0)
		return 0;
	disc_emit(fn, arg, change, &e->i, renamed ? old.name : NULL);
	return 1;
}

int
disc_apply_dellink(struct disc_monitor *m, struct disc_table *t, const struct nlmsghdr *nlh,
    disc_event_fn fn, void *arg)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct disc_entry *e;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)) || ifi->ifi_family != AF_UNSPEC ||
	    (e = disc_lookup_index(t, m->netns, ifi->ifi_index)) == NULL)
		return 0;
	disc_emit(fn, arg, DISC_REMOVED, &e->i, NULL);
	disc_remove(t, e);
	return 1;
}

int
disc_apply_addr(struct disc_monitor *m, struct disc_table *t, const struct nlmsghdr *nlh,
    disc_event_fn fn, void *arg)
{
	struct disc_addr a;
	struct disc_entry *e;
	int ifindex, pos;

	/* An address of a link we have not heard of: its RTM_NEWLINK, or a resync, comes. */
	if (disc_addr_parse(nlh, &ifindex, &a) < 0 ||
	    (e = disc_lookup_index(t, m->netns, ifindex)) == NULL)
		return 0;
	pos = disc_addr_find(&e->i, &a);
	if (nlh->nlmsg_type == RTM_NEWADDR) {
		/* Known already: a flags update (DAD done, deprecated) */
		if (pos >= 0 || e->i.naddrs >= DISC_ADDRS_MAX)
			return 0;
		e->i.addrs[e->i.naddrs++] = a;
	} else {
		if (pos < 0)
			return 0;
		memmove(&e->i.addrs[pos], &e->i.addrs[pos + 1],
		    (e->i.naddrs - (unsigned)pos - 1) * sizeof(e->i.addrs[0]));
		e->i.naddrs--;
		memset(&e->i.addrs[e->i.naddrs], 0, sizeof(e->i.addrs[0]));
	}
	disc_emit(fn, arg, DISC_ADDRESS, &e->i, NULL);
	return 1;
}
