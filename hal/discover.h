/*
 * Discovery: the inventory of a host's network interfaces, kept current
 * from rtnetlink events, without polling.
 *
 * The parent opens one monitor per network namespace it watches (the
 * host's, and each namespace an uplink lives in), while inside that
 * namespace: a netlink socket stays bound to the namespace it was made in.
 * Every monitor feeds one table, which holds every interface of every
 * watched namespace and serves GET /v1/interfaces.
 *
 * In the parent's event loop:
 *
 *	m = disc_monitor_open(netns, err);		(inside the namespace)
 *	disc_monitor_sync(m, t, fn, arg, err);		(once: the initial dump)
 *	disc_monitor_sample(m, t, now, err);		(once, then every second)
 *	watch disc_monitor_fd(m), level-triggered; on EPOLLIN or EPOLLERR
 *	(an overrun may show as EPOLLERR alone):
 *	    disc_monitor_read(m, t, fn, arg, err);
 *	at the end: disc_monitor_close(m); disc_forget_netns(t, netns);
 *
 * None of the calls needs to be made inside the namespace again: the
 * sockets the monitor opened there keep working from anywhere.
 *
 * What each call costs, and what may block, is written beside it.
 * Measured on this 2-vCPU VM with 1001 interfaces (500 veth pairs and lo):
 * the first sync 9 ms (ethtool included), a sync that finds nothing
 * changed 4.5 ms, a sample 0.4 ms, 500 MTU events read and reported 1 ms.
 * The module is single-threaded, like the parent.
 */
#ifndef CNW_HAL_DISCOVER_H
#define CNW_HAL_DISCOVER_H

#include <stdint.h>

#include "lib/error.h"

/* Kinds of interface, as the API shows them. */
enum disc_kind {
	DISC_ETHERNET,
	DISC_WIFI,
	DISC_CELLULAR,
	DISC_SATELLITE,		/* no kernel signal: only an override gives it */
	DISC_VIRTUAL,
	DISC_LOOPBACK,
};

/* "ethernet", "wifi", "cellular", "satellite", "virtual", "loopback"; "?" if k is none. */
const char *disc_kind_name(enum disc_kind k);
/* The reverse (exact, lower case): 0, or -1 if s names no kind. */
int disc_kind_parse(const char *s, enum disc_kind *out);

#define DISC_ADDRS_MAX 16

/* An address configured on an interface. */
struct disc_addr {
	uint8_t family;			/* AF_INET or AF_INET6 */
	uint8_t prefixlen;
	uint8_t addr[16];		/* 4 bytes used for AF_INET */
};

/* Counters of IFLA_STATS64 (the kernel's, since the interface was made). */
struct disc_stats {
	uint64_t rx_packets, tx_packets;
	uint64_t rx_bytes, tx_bytes;
	uint64_t rx_errors, tx_errors;
	uint64_t rx_dropped, tx_dropped;
};

/* Rates between the last two disc_monitor_sample() calls; 0 until there are two. */
struct disc_rate {
	double rx_bps, tx_bps;		/* bits per second */
	double rx_pps, tx_pps;		/* packets per second */
};

/* One interface, as last heard from the kernel. */
struct disc_iface {
	char netns[64];			/* the monitor's label; "" = the host's */
	int ifindex;			/* unique within netns, for the interface's life */
	char name[16];			/* IFLA_IFNAME; may change (DISC_RENAMED) */
	enum disc_kind kind;		/* see disc_classify(), or the override */
	int kind_overridden;		/* 1 if kind comes from disc_override() */
	/* IFLA_INFO_KIND: "veth", "dummy", "bridge", "tun"... or "" (a real device) */
	char link_kind[16];
	char driver[32];		/* ethtool's (ETHTOOL_GDRVINFO) when the kernel knows, else "" */
	uint32_t flags;			/* IFF_* (ifi_flags) */
	char operstate[16];		/* IFLA_OPERSTATE (RFC 2863): "up", "down", "lowerlayerdown",
					   "dormant", "testing", "notpresent", "unknown" */
	int carrier;			/* IFLA_CARRIER: 1 if the device has its link */
	uint32_t mtu;
	uint8_t mac[6];			/* IFLA_ADDRESS, when it is a 6-byte, non-zero one */
	int has_mac;
	int64_t speed_mbps;		/* ethtool; -1 unknown (no support, or no link) */
	char duplex[8];			/* "full", "half", or "" unknown */
	unsigned naddrs;		/* in the order the kernel reported them */
	struct disc_addr addrs[DISC_ADDRS_MAX];	/* any beyond are not kept */
	struct disc_stats stats;	/* IFLA_STATS64, from the last link message or sample */
	struct disc_rate rate;		/* from the last two samples */
	uint64_t sampled_ns;		/* CLOCK_MONOTONIC ns when stats were read; 0 never */
};

/* Administratively up and running: IFF_UP and operstate "up", or "unknown" with carrier. */
int disc_iface_up(const struct disc_iface *i);
/*
 * The protocols of an interface for the API, into out[0..max): "ethernet"
 * (it has a link-layer address), "ipv4", "ipv6" (it has an address of that
 * family), in that order.  Returns how many there are (at most 3), which
 * may be more than max.
 */
int disc_iface_protocols(const struct disc_iface *i, const char *out[], int max);

/*
 * The kind the kernel's information gives an interface, overrides aside.
 * The rules, in order (the first that matches wins):
 *	arphrd ARPHRD_LOOPBACK					loopback
 *	link_kind "wwan" (the WWAN framework), "rmnet"		cellular
 *	any other link_kind (veth, dummy, bridge, bond, tun,
 *	  vxlan, macvlan, ipvlan, wireguard, vlan, gre...)	virtual
 * and, only for the host's interfaces (netns "") with
 * SYSFS/class/net/NAME present, from there:
 *	a wireless/ or phy80211 entry, or DEVTYPE=wlan in uevent	wifi
 *	DEVTYPE=wwan in uevent					cellular
 *	device/driver is a modem's: qmi_wwan, cdc_mbim, option,
 *	  huawei_cdc_ncm, sierra_net, rmnet, mhi_net, ipheth...	cellular
 * elsewhere the same driver list is checked against driver (ethtool's);
 * then, for all:
 *	arphrd ARPHRD_NONE or ARPHRD_RAWIP (a bare IP device)	cellular
 *	arphrd ARPHRD_ETHER with a device (SYSFS/class/net/NAME/device,
 *	  or outside the host's namespace a driver ethtool knows)	ethernet
 *	anything else						virtual
 */
enum disc_kind disc_classify(const char *netns, const char *name, unsigned arphrd,
    const char *link_kind, const char *driver);
/* Where sysfs is ("/sys"; NULL sets it back); for tests, a fake tree. */
void disc_set_sysfs_root(const char *root);

/* The table ---------------------------------------------------------- */

struct disc_table;			/* every interface of every watched namespace */

struct disc_table *disc_table_new(void);
void disc_table_free(struct disc_table *t);

/*
 * The kind of interface NAME in namespace netns ("" the host's, "*" any),
 * from the config, whatever the kernel says; replaces an earlier override
 * of the same netns and name.  An override of a namespace wins over one of
 * "*".  It applies at once to interfaces in the table, and to those that
 * appear or are renamed to NAME later (no event is reported for it: the
 * caller made the change).  -1 with errno EINVAL (bad name or kind) or
 * ENOMEM.
 */
int disc_override(struct disc_table *t, const char *netns, const char *name, enum disc_kind kind);
/* Forget every override (before a reloaded config sets them again). */
void disc_override_clear(struct disc_table *t);

/*
 * Call fn for each interface, ordered by netns then name (byte order).  A
 * non-zero return stops the walk and is returned.  fn must not change the
 * table.
 */
typedef int (*disc_each_fn)(const struct disc_iface *i, void *arg);
int disc_each(const struct disc_table *t, disc_each_fn fn, void *arg);
/* O(log n); NULL if there is none.  Valid until the table next changes. */
const struct disc_iface *disc_find(const struct disc_table *t, const char *netns, const char *name);
const struct disc_iface *disc_find_index(const struct disc_table *t, const char *netns, int ifindex);
/* Forget every interface of netns (the namespace is no longer watched); no events. */
void disc_forget_netns(struct disc_table *t, const char *netns);

/* Events ------------------------------------------------------------- */

/* What changed; a bit mask, several at once in one event. */
enum disc_change {
	DISC_ADDED = 1,			/* alone */
	DISC_REMOVED = 2,		/* alone; iface is as it was last */
	DISC_STATE = 4,			/* IFF_UP/RUNNING/LOWER_UP/DORMANT, operstate, carrier */
	DISC_MTU = 8,
	DISC_ADDRESS = 16,		/* addrs[] */
	DISC_RENAMED = 32,		/* old_name has the name before */
	DISC_OTHER = 64,		/* other flags, MAC, kind, driver, speed, duplex */
};

struct disc_event {
	unsigned change;		/* enum disc_change bits */
	struct disc_iface iface;	/* as it is now (for DISC_REMOVED: was) */
	char old_name[16];		/* with DISC_RENAMED, else "" */
};

/* Called as each change is applied to the table; it may read the table, not change it. */
typedef void (*disc_event_fn)(const struct disc_event *ev, void *arg);

/* The monitor -------------------------------------------------------- */

struct disc_monitor;			/* the netlink sockets of one namespace */

/*
 * Open a monitor in the current namespace; netns is the label its
 * interfaces get in the table ("" for the host's).  It holds three
 * descriptors: the event socket (RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR,
 * RTNLGRP_IPV6_IFADDR; non-blocking; a 4 MiB receive buffer by
 * SO_RCVBUFFORCE, else as much of it as SO_RCVBUF allows), a netlink
 * socket for dumps, and an AF_INET datagram socket for ethtool ioctls (an
 * ioctl acts in the namespace of the socket it is made on).  The sockets
 * pin the namespace until disc_monitor_close().
 */
struct disc_monitor *disc_monitor_open(const char *netns, struct cnw_error *err);
void disc_monitor_close(struct disc_monitor *m);
/* The event socket, to poll for POLLIN. */
int disc_monitor_fd(const struct disc_monitor *m);
/* How many times events were lost (ENOBUFS, or a truncated message) and a dump made up for them. */
unsigned disc_monitor_resyncs(const struct disc_monitor *m);

/*
 * Make the table's interfaces of this namespace what the kernel has now:
 * discard queued events, dump links and addresses, and reconcile: vanished
 * interfaces REMOVED first, then new ones ADDED (with their addresses) and
 * changed ones reported, one event per interface.  Called once after
 * open; disc_monitor_read() calls it itself after lost events.  Returns
 * the number of events reported, or -1.
 *
 * Cost: two dumps (about 1.5 KB of messages per link), and per new
 * interface, or one whose state changed, 2-4 ethtool ioctls (each takes
 * the kernel's RTNL lock; a NIC's driver may ask its PHY) and for the
 * host's, 5-6 sysfs look-ups.  It waits for the kernel's answers (at most
 * 2 s each, then fails).
 */
int disc_monitor_sync(struct disc_monitor *m, struct disc_table *t, disc_event_fn fn, void *arg,
    struct cnw_error *err);

/*
 * The event socket is readable: read what is pending (at most 256
 * datagrams a call, so a storm of events cannot hold the caller's loop;
 * the socket stays readable if more is left), apply each message to the
 * table and report it.  When events were lost (ENOBUFS), resync as
 * disc_monitor_sync() does.  Never blocks, except in that resync's dumps.
 * Returns the number of events reported, or -1.
 */
int disc_monitor_read(struct disc_monitor *m, struct disc_table *t, disc_event_fn fn, void *arg,
    struct cnw_error *err);

/*
 * Read every interface's counters (one RTM_GETSTATS dump, about 250 bytes
 * per link), update stats, and the rates from the previous sample; no
 * events.  now_ns is CLOCK_MONOTONIC in nanoseconds.  The parent calls it
 * once a second.
 */
int disc_monitor_sample(struct disc_monitor *m, struct disc_table *t, uint64_t now_ns,
    struct cnw_error *err);

#endif
