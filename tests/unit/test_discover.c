/*
 * Discovery (hal/discover.h) against the real kernel.
 *
 *   kinds     names and parsing; the classification rules on a fake sysfs
 *             tree (wifi by wireless/, phy80211 or DEVTYPE=wlan; cellular by
 *             DEVTYPE=wwan, a modem's driver, a bare IP device, the wwan
 *             and rmnet link kinds; ethernet by a device; and what outside
 *             the host's namespace, where sysfs says nothing, stands for it).
 *   monitor   sync (lo as loopback), then each event as ip(8) makes it:
 *             a dummy ADDED, up (STATE), MTU, IPv4 and IPv6 addresses,
 *             rename (RENAMED with the old name), REMOVED; a veth pair with
 *             ethtool's speed and duplex; overrides (satellite, exact over
 *             "*", applied to interfaces that appear or are renamed later);
 *             a bridge port leaving its bridge is not a removal; counters
 *             and rates over a veth pair; an overrun receive buffer
 *             (ENOBUFS) resynced to exactly what the kernel has; two
 *             namespaces in one table, each monitor hearing only its own.
 *
 * Each test that touches the kernel runs in a network namespace of its own
 * (unshare in setup), so whatever it leaves behind goes with it, even when
 * it fails half-way.  Set-up is done with ip(8).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/util.h"
#include "hal/discover.h"

#define EVLOG_MAX 512

/*
 * The device the tests make when any will do: dummy, or where the kernel
 * has none (CONFIG_DUMMY is not set), ifb, which behaves alike for us: a
 * link kind, a MAC address, carrier on when up, ethtool's driver name the
 * same as the kind, no speed.
 */
static const char *lone = "dummy";

struct fixture {
	struct disc_table *t;
	struct disc_monitor *m;
};

/* Every event reported, in order, since the last evlog_reset(). */
static struct {
	int n;
	struct disc_event ev[EVLOG_MAX];
} evlog;

/* Helpers ------------------------------------------------------------------ */



static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("%s: failed", cmd);
}

static void
record(const struct disc_event *ev, void *arg)
{
	if (evlog.n < EVLOG_MAX)
		evlog.ev[evlog.n++] = *ev;
}

static void
evlog_reset(void)
{
	evlog.n = 0;
}

static int
addr_parse(const char *s, struct disc_addr *a)
{
	char buf[64];
	char *slash;

	memset(a, 0, sizeof(*a));
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	a->prefixlen = (uint8_t)atoi(slash + 1);
	if (inet_pton(AF_INET, buf, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, a->addr) == 1)
		a->family = AF_INET6;
	else
		return -1;
	return 0;
}

/* 1 if i has the address "a.b.c.d/n" or "x::y/n". */
static int
has_addr(const struct disc_iface *i, const char *s)
{
	struct disc_addr a;

	assert_int_equal(addr_parse(s, &a), 0);
	for (unsigned k = 0; k < i->naddrs; k++)
		if (i->addrs[k].family == a.family && i->addrs[k].prefixlen == a.prefixlen &&
		    memcmp(i->addrs[k].addr, a.addr, a.family == AF_INET ? 4 : 16) == 0)
			return 1;
	return 0;
}

/* One round of reading, waiting up to ms for the socket. */
static int
pump(struct disc_monitor *m, struct disc_table *t, int ms)
{
	struct pollfd p = { .fd = disc_monitor_fd(m), .events = POLLIN };
	struct cnw_error err = { 0 };
	int r;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	r = disc_monitor_read(m, t, record, NULL, &err);
	if (r < 0)
		fail_msg("disc_monitor_read: %s", err.msg);
	return r;
}

/*
 * Read events until one about name, with a bit of mask, has come (and,
 * if addr is given, whose interface then has it, or with absent, lacks
 * it); 1 s at most.  Looks at the whole log since evlog_reset().
 */
static const struct disc_event *
await_addr(struct fixture *f, unsigned mask, const char *name, const char *addr, int absent)
{
	long long end = cnw_now_ms() + 1000;

	for (;;) {
		long long left;

		for (int k = 0; k < evlog.n; k++) {
			const struct disc_event *ev = &evlog.ev[k];

			if ((ev->change & mask) && strcmp(ev->iface.name, name) == 0 &&
			    (addr == NULL || has_addr(&ev->iface, addr) != absent))
				return ev;
		}
		if ((left = end - cnw_now_ms()) <= 0)
			return NULL;
		pump(f->m, f->t, (int)left);
	}
}

static const struct disc_event *
await(struct fixture *f, unsigned mask, const char *name)
{
	const struct disc_event *ev = await_addr(f, mask, name, NULL, 0);

	if (ev == NULL)
		fail_msg("no event 0x%x for %s within 1 s", mask, name);
	return ev;
}

/* Read until nothing more comes for ms. */
static void
settle(struct fixture *f, int ms)
{
	while (pump(f->m, f->t, ms) > 0)
		;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cnw_error err = { 0 };

	if (f == NULL || unshare(CLONE_NEWNET) < 0)
		return -1;
	f->t = disc_table_new();
	f->m = disc_monitor_open("", &err);
	if (f->t == NULL || f->m == NULL) {
		fprintf(stderr, "# disc_monitor_open: %s\n", err.msg);
		return -1;
	}
	evlog_reset();
	if (disc_monitor_sync(f->m, f->t, record, NULL, &err) < 0) {
		fprintf(stderr, "# disc_monitor_sync: %s\n", err.msg);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	disc_monitor_close(f->m);
	disc_table_free(f->t);
	free(f);
	return 0;
}

/* Kinds and helpers -------------------------------------------------------- */

static void
test_kind_names(void **state)
{
	static const char *const names[] = {
		"ethernet", "wifi", "cellular", "satellite", "virtual", "loopback",
	};
	enum disc_kind k;

	for (int i = 0; i < 6; i++) {
		assert_string_equal(disc_kind_name((enum disc_kind)i), names[i]);
		assert_int_equal(disc_kind_parse(names[i], &k), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(disc_kind_name((enum disc_kind)42), "?");
	assert_int_equal(disc_kind_parse("Ethernet", &k), -1);
	assert_int_equal(disc_kind_parse("", &k), -1);
	assert_int_equal(disc_kind_parse("wifi ", &k), -1);
	assert_int_equal(disc_kind_parse(NULL, &k), -1);
}

static void
test_iface_helpers(void **state)
{
	struct disc_iface i;
	const char *p[3];

	memset(&i, 0, sizeof(i));
	assert_int_equal(disc_iface_protocols(&i, p, 3), 0);
	i.has_mac = 1;
	addr_parse("192.0.2.1/24", &i.addrs[i.naddrs++]);
	addr_parse("2001:db8::1/64", &i.addrs[i.naddrs++]);
	addr_parse("198.51.100.1/24", &i.addrs[i.naddrs++]);
	assert_int_equal(disc_iface_protocols(&i, p, 3), 3);
	assert_string_equal(p[0], "ethernet");
	assert_string_equal(p[1], "ipv4");
	assert_string_equal(p[2], "ipv6");
	/* A short array: filled as far as it goes, the count is still all of them */
	p[1] = NULL;
	assert_int_equal(disc_iface_protocols(&i, p, 1), 3);
	assert_string_equal(p[0], "ethernet");
	assert_null(p[1]);
	i.has_mac = 0;
	i.naddrs = 1;
	assert_int_equal(disc_iface_protocols(&i, p, 3), 1);
	assert_string_equal(p[0], "ipv4");

	snprintf(i.operstate, sizeof(i.operstate), "up");
	assert_false(disc_iface_up(&i));	/* not IFF_UP */
	i.flags = IFF_UP;
	assert_true(disc_iface_up(&i));
	snprintf(i.operstate, sizeof(i.operstate), "lowerlayerdown");
	assert_false(disc_iface_up(&i));
	snprintf(i.operstate, sizeof(i.operstate), "unknown");
	assert_false(disc_iface_up(&i));	/* no carrier */
	i.carrier = 1;
	assert_true(disc_iface_up(&i));
	snprintf(i.operstate, sizeof(i.operstate), "dormant");
	assert_false(disc_iface_up(&i));
}

static void
mkfile(const char *root, const char *rel, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_non_null(fp = fopen(path, "w"));
	fputs(text, fp);
	fclose(fp);
}

static void
test_classify_sysfs(void **state)
{
	char root[] = "/tmp/cnw-test-discover.XXXXXX";

	assert_non_null(mkdtemp(root));
	sh("cd %s && mkdir -p class/net && cd class/net && "
	    "mkdir -p wlan0/wireless wlan0/device wlp1s0 wlx0 wwan0 usb0/device eth0/device eth1 "
	    "rawip0 veth0/wireless lte0/device && "
	    "ln -s ../../../devices/virtual/ieee80211/phy0 wlp1s0/phy80211 && "
	    "ln -s ../../../../bus/usb/drivers/qmi_wwan usb0/device/driver && "
	    "ln -s ../../../../bus/pci/drivers/e1000e eth0/device/driver && "
	    "ln -s ../../../../bus/usb/drivers/cdc_ncm lte0/device/driver", root);
	mkfile(root, "class/net/wlx0/uevent", "INTERFACE=wlx0\nIFINDEX=7\nDEVTYPE=wlan\n");
	mkfile(root, "class/net/wwan0/uevent", "DEVTYPE=wwan\nINTERFACE=wwan0\nIFINDEX=8\n");
	mkfile(root, "class/net/lte0/uevent", "DEVTYPE=wwan\nINTERFACE=lte0\n");
	mkfile(root, "class/net/eth0/uevent", "INTERFACE=eth0\nIFINDEX=2\n");
	disc_set_sysfs_root(root);

	/* The host's namespace, through sysfs */
	assert_int_equal(disc_classify("", "wlan0", ARPHRD_ETHER, "", "iwlwifi"), DISC_WIFI);
	assert_int_equal(disc_classify("", "wlp1s0", ARPHRD_ETHER, "", ""), DISC_WIFI);
	assert_int_equal(disc_classify("", "wlx0", ARPHRD_ETHER, "", ""), DISC_WIFI);
	assert_int_equal(disc_classify("", "wwan0", ARPHRD_NONE, "", ""), DISC_CELLULAR);
	assert_int_equal(disc_classify("", "usb0", ARPHRD_ETHER, "", ""), DISC_CELLULAR);
	/* cdc_ncm alone is not a modem; DEVTYPE=wwan makes it one */
	assert_int_equal(disc_classify("", "lte0", ARPHRD_ETHER, "", "cdc_ncm"), DISC_CELLULAR);
	assert_int_equal(disc_classify("", "eth0", ARPHRD_ETHER, "", "e1000e"), DISC_ETHERNET);
	/* In sysfs but no device under it: software without a link kind */
	assert_int_equal(disc_classify("", "eth1", ARPHRD_ETHER, "", "e1000e"), DISC_VIRTUAL);
	assert_int_equal(disc_classify("", "rawip0", ARPHRD_RAWIP, "", ""), DISC_CELLULAR);
	/* A link kind wins over anything sysfs says */
	assert_int_equal(disc_classify("", "veth0", ARPHRD_ETHER, "veth", "veth"), DISC_VIRTUAL);
	assert_int_equal(disc_classify("", "lo", ARPHRD_LOOPBACK, "", ""), DISC_LOOPBACK);
	assert_int_equal(disc_classify("", "wwan1", ARPHRD_NONE, "wwan", ""), DISC_CELLULAR);
	assert_int_equal(disc_classify("", "rmnet_data0", ARPHRD_RAWIP, "rmnet", ""), DISC_CELLULAR);
	assert_int_equal(disc_classify("", "tun0", ARPHRD_NONE, "tun", "tun"), DISC_VIRTUAL);
	assert_int_equal(disc_classify("", "wg0", ARPHRD_NONE, "wireguard", ""), DISC_VIRTUAL);
	/* Not in sysfs: what ethtool said stands in */
	assert_int_equal(disc_classify("", "nosys0", ARPHRD_ETHER, "", ""), DISC_VIRTUAL);
	assert_int_equal(disc_classify("", "nosys0", ARPHRD_ETHER, "", "r8169"), DISC_ETHERNET);
	/* Another namespace: sysfs is the host's, never looked at */
	assert_int_equal(disc_classify("ns1", "wlan0", ARPHRD_ETHER, "", ""), DISC_VIRTUAL);
	assert_int_equal(disc_classify("ns1", "eth0", ARPHRD_ETHER, "", "e1000e"), DISC_ETHERNET);
	assert_int_equal(disc_classify("ns1", "usb0", ARPHRD_ETHER, "", "qmi_wwan"), DISC_CELLULAR);
	assert_int_equal(disc_classify("ns1", "wwan0", ARPHRD_RAWIP, "", ""), DISC_CELLULAR);
	/* Names that are not one path component are not looked up */
	assert_int_equal(disc_classify("", "..", ARPHRD_ETHER, "", ""), DISC_VIRTUAL);
	assert_int_equal(disc_classify("", "../net/eth0", ARPHRD_ETHER, "", ""), DISC_VIRTUAL);

	disc_set_sysfs_root(NULL);
	sh("rm -rf '%s'", root);
}

/* The kernel --------------------------------------------------------------- */

static void
test_sync_loopback(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	const struct disc_event *ev;
	const struct disc_iface *i;
	const char *p[3];

	/* setup's sync */
	assert_int_equal(evlog.n, 1);
	assert_int_equal(evlog.ev[0].change, DISC_ADDED);
	assert_string_equal(evlog.ev[0].iface.name, "lo");
	assert_non_null(i = disc_find(f->t, "", "lo"));
	assert_int_equal(i->kind, DISC_LOOPBACK);
	assert_false(i->kind_overridden);
	assert_string_equal(i->link_kind, "");
	assert_int_equal(i->ifindex, 1);
	assert_false(i->has_mac);
	assert_false(disc_iface_up(i));
	assert_int_equal(i->speed_mbps, -1);
	assert_string_equal(i->duplex, "");
	assert_ptr_equal(disc_find_index(f->t, "", 1), i);
	assert_null(disc_find(f->t, "", "eth0"));
	assert_null(disc_find(f->t, "other", "lo"));
	assert_null(disc_find_index(f->t, "", 2));

	evlog_reset();
	sh("ip link set lo up");
	ev = await(f, DISC_STATE, "lo");
	assert_true(disc_iface_up(&ev->iface));
	assert_true(ev->iface.flags & IFF_UP);
	assert_non_null(await_addr(f, DISC_ADDRESS, "lo", "127.0.0.1/8", 0));
	assert_non_null(await_addr(f, DISC_ADDRESS, "lo", "::1/128", 0));
	i = disc_find(f->t, "", "lo");
	assert_int_equal(disc_iface_protocols(i, p, 3), 2);
	assert_string_equal(p[0], "ipv4");
	assert_string_equal(p[1], "ipv6");

	/* Nothing changed since: a sync finds nothing to report */
	settle(f, 50);
	evlog_reset();
	assert_int_equal(disc_monitor_sync(f->m, f->t, record, NULL, &err), 0);
	assert_int_equal(evlog.n, 0);
	assert_int_equal(disc_monitor_resyncs(f->m), 0);
}

static void
test_dummy_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	const struct disc_event *ev;
	const struct disc_iface *i;
	const char *p[3];
	int ifindex;

	evlog_reset();
	sh("ip link add d0 type %s", lone);
	ev = await(f, DISC_ADDED, "d0");
	assert_int_equal(ev->change, DISC_ADDED);
	assert_int_equal(ev->iface.kind, DISC_VIRTUAL);
	assert_string_equal(ev->iface.link_kind, lone);
	assert_string_equal(ev->iface.driver, lone);
	assert_true(ev->iface.has_mac);
	assert_int_equal(ev->iface.speed_mbps, -1);
	assert_false(disc_iface_up(&ev->iface));
	ifindex = (int)if_nametoindex("d0");
	assert_int_equal(ev->iface.ifindex, ifindex);
	assert_ptr_equal(disc_find(f->t, "", "d0"), disc_find_index(f->t, "", ifindex));

	evlog_reset();
	sh("ip link set d0 up");
	ev = await(f, DISC_STATE, "d0");
	assert_true(disc_iface_up(&ev->iface));

	evlog_reset();
	sh("ip link set d0 mtu 1400");
	ev = await(f, DISC_MTU, "d0");
	assert_int_equal(ev->iface.mtu, 1400);
	assert_false(ev->change & (DISC_STATE | DISC_ADDED | DISC_RENAMED));

	evlog_reset();
	sh("ip addr add 192.0.2.1/24 dev d0");
	ev = await_addr(f, DISC_ADDRESS, "d0", "192.0.2.1/24", 0);
	assert_non_null(ev);
	assert_int_equal(ev->change, DISC_ADDRESS);
	sh("ip addr add 2001:db8::1/64 dev d0 nodad");
	assert_non_null(await_addr(f, DISC_ADDRESS, "d0", "2001:db8::1/64", 0));
	i = disc_find(f->t, "", "d0");
	assert_true(has_addr(i, "192.0.2.1/24"));
	assert_true(has_addr(i, "2001:db8::1/64"));
	assert_int_equal(disc_iface_protocols(i, p, 3), 3);

	evlog_reset();
	sh("ip addr del 192.0.2.1/24 dev d0");
	assert_non_null(await_addr(f, DISC_ADDRESS, "d0", "192.0.2.1/24", 1));
	i = disc_find(f->t, "", "d0");
	assert_false(has_addr(i, "192.0.2.1/24"));
	assert_true(has_addr(i, "2001:db8::1/64"));

	/* The table agrees with a fresh dump */
	settle(f, 50);
	evlog_reset();
	assert_int_equal(disc_monitor_sync(f->m, f->t, record, NULL, &err), 0);

	evlog_reset();
	sh("ip link set d0 down && ip link set d0 name d1");
	ev = await(f, DISC_RENAMED, "d1");
	assert_string_equal(ev->old_name, "d0");
	assert_int_equal(ev->iface.ifindex, ifindex);
	assert_null(disc_find(f->t, "", "d0"));
	assert_non_null(i = disc_find(f->t, "", "d1"));
	assert_int_equal(i->ifindex, ifindex);
	assert_int_equal(i->mtu, 1400);

	evlog_reset();
	sh("ip link del d1");
	ev = await(f, DISC_REMOVED, "d1");
	assert_int_equal(ev->change, DISC_REMOVED);
	assert_int_equal(ev->iface.ifindex, ifindex);
	assert_null(disc_find(f->t, "", "d1"));
	assert_null(disc_find_index(f->t, "", ifindex));
}

static void
test_veth_pair(void **state)
{
	struct fixture *f = *state;
	const struct disc_event *ev;

	evlog_reset();
	sh("ip link add va type veth peer name vb");
	ev = await(f, DISC_ADDED, "va");
	assert_int_equal(ev->iface.kind, DISC_VIRTUAL);
	assert_string_equal(ev->iface.link_kind, "veth");
	assert_string_equal(ev->iface.driver, "veth");
	assert_int_equal(ev->iface.speed_mbps, 10000);
	assert_string_equal(ev->iface.duplex, "full");
	ev = await(f, DISC_ADDED, "vb");
	assert_int_equal(ev->iface.speed_mbps, 10000);
	assert_string_equal(ev->iface.duplex, "full");
	assert_string_equal(disc_find(f->t, "", "vb")->link_kind, "veth");

	/* The peer's carrier follows the other end */
	evlog_reset();
	sh("ip link set va up && ip link set vb up");
	ev = await_addr(f, DISC_STATE, "va", NULL, 0);
	assert_non_null(ev);
	settle(f, 20);
	assert_true(disc_iface_up(disc_find(f->t, "", "va")));
	assert_true(disc_find(f->t, "", "va")->carrier);
	assert_string_equal(disc_find(f->t, "", "va")->operstate, "up");
}

static void
test_override(void **state)
{
	struct fixture *f = *state;
	const struct disc_iface *i;
	const struct disc_event *ev;
	char longname[80];

	/* Refused: nothing changes */
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	errno = 0;
	assert_int_equal(disc_override(f->t, "", "", DISC_SATELLITE), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(disc_override(f->t, "", "0123456789abcdef", DISC_SATELLITE), -1);
	assert_int_equal(disc_override(f->t, longname, "lo", DISC_SATELLITE), -1);
	assert_int_equal(disc_override(f->t, "", "lo", (enum disc_kind)99), -1);
	assert_int_equal(disc_find(f->t, "", "lo")->kind, DISC_LOOPBACK);

	evlog_reset();
	sh("ip link add sat0 type %s", lone);
	await(f, DISC_ADDED, "sat0");
	assert_int_equal(disc_find(f->t, "", "sat0")->kind, DISC_VIRTUAL);

	assert_int_equal(disc_override(f->t, "*", "sat0", DISC_CELLULAR), 0);
	i = disc_find(f->t, "", "sat0");
	assert_int_equal(i->kind, DISC_CELLULAR);
	assert_true(i->kind_overridden);
	/* The namespace's own wins over "*", whichever came first */
	assert_int_equal(disc_override(f->t, "", "sat0", DISC_SATELLITE), 0);
	assert_int_equal(disc_find(f->t, "", "sat0")->kind, DISC_SATELLITE);
	assert_int_equal(disc_override(f->t, "*", "sat0", DISC_WIFI), 0);
	assert_int_equal(disc_find(f->t, "", "sat0")->kind, DISC_SATELLITE);
	assert_int_equal(disc_override(f->t, "elsewhere", "sat0", DISC_ETHERNET), 0);
	assert_int_equal(disc_find(f->t, "", "sat0")->kind, DISC_SATELLITE);
	/* Replaced */
	assert_int_equal(disc_override(f->t, "", "sat0", DISC_ETHERNET), 0);
	assert_int_equal(disc_find(f->t, "", "sat0")->kind, DISC_ETHERNET);
	assert_int_equal(disc_override(f->t, "", "sat0", DISC_SATELLITE), 0);
	assert_int_equal(disc_find(f->t, "", "sat0")->kind, DISC_SATELLITE);

	/* An interface that appears later, or is renamed to the name, gets it */
	assert_int_equal(disc_override(f->t, "", "sat1", DISC_SATELLITE), 0);
	assert_int_equal(disc_override(f->t, "", "up9", DISC_SATELLITE), 0);
	evlog_reset();
	sh("ip link add sat1 type %s && ip link add x9 type %s", lone, lone);
	ev = await(f, DISC_ADDED, "sat1");
	assert_int_equal(ev->iface.kind, DISC_SATELLITE);
	assert_true(ev->iface.kind_overridden);
	ev = await(f, DISC_ADDED, "x9");
	assert_int_equal(ev->iface.kind, DISC_VIRTUAL);
	evlog_reset();
	sh("ip link set x9 name up9");
	ev = await(f, DISC_RENAMED, "up9");
	assert_true(ev->change & DISC_OTHER);	/* the kind changed with it */
	assert_int_equal(ev->iface.kind, DISC_SATELLITE);

	disc_override_clear(f->t);
	assert_int_equal(disc_find(f->t, "", "sat0")->kind, DISC_VIRTUAL);
	assert_false(disc_find(f->t, "", "sat0")->kind_overridden);
	assert_int_equal(disc_find(f->t, "", "up9")->kind, DISC_VIRTUAL);
	assert_int_equal(disc_find(f->t, "", "lo")->kind, DISC_LOOPBACK);
}

/* A bridge tells of its ports with RTM_DELLINK of family AF_BRIDGE: not a removal. */
static void
test_bridge_port_not_removed(void **state)
{
	struct fixture *f = *state;

	evlog_reset();
	sh("ip link add br0 type bridge && ip link add p0 type %s && "
	    "ip link set p0 master br0 && ip link set p0 up && ip link set br0 up && "
	    "ip link set p0 nomaster && ip link add sentinel type %s", lone, lone);
	await(f, DISC_ADDED, "sentinel");
	for (int k = 0; k < evlog.n; k++)
		if (strcmp(evlog.ev[k].iface.name, "p0") == 0)
			assert_int_not_equal(evlog.ev[k].change, DISC_REMOVED);
	assert_non_null(disc_find(f->t, "", "p0"));
	assert_string_equal(disc_find(f->t, "", "br0")->link_kind, "bridge");
}

static void
send_frames(int ifindex, int n, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = ifindex,
		.sll_halen = 6,
		.sll_addr = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
	};
	unsigned char frame[1500] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff,	/* broadcast */
		0x02, 0, 0, 0, 0, 1,
		0x88, 0xb5,				/* local experimental */
	};
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	for (int k = 0; k < n; k++)
		assert_int_equal(sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)),
		    (ssize_t)len);
	close(fd);
}

static void
test_stats_sample(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	const struct disc_iface *a, *b;
	uint64_t tx0, rx0, txb0, t1, t2;

	evlog_reset();
	sh("ip link add va type veth peer name vb && ip link set va up && ip link set vb up");
	await(f, DISC_ADDED, "vb");
	settle(f, 20);

	t1 = cnw_now_ns();
	assert_int_equal(disc_monitor_sample(f->m, f->t, t1, &err), 0);
	a = disc_find(f->t, "", "va");
	b = disc_find(f->t, "", "vb");
	assert_int_equal(a->sampled_ns, t1);
	assert_true(a->rate.tx_pps == 0);	/* one sample: no rate yet */
	tx0 = a->stats.tx_packets;
	txb0 = a->stats.tx_bytes;
	rx0 = b->stats.rx_packets;

	send_frames(a->ifindex, 200, 500);
	usleep(10000);
	t2 = cnw_now_ns();
	assert_int_equal(disc_monitor_sample(f->m, f->t, t2, &err), 0);
	a = disc_find(f->t, "", "va");
	b = disc_find(f->t, "", "vb");
	assert_int_equal(a->sampled_ns, t2);
	assert_true(a->stats.tx_packets >= tx0 + 200);
	assert_true(a->stats.tx_bytes >= txb0 + 200 * 500);
	assert_true(b->stats.rx_packets >= rx0 + 200);
	assert_true(a->rate.tx_pps >= 200 / ((double)(t2 - t1) / 1e9) * 0.99);
	assert_true(a->rate.tx_bps >= a->rate.tx_pps * 500 * 8 * 0.99);
	assert_true(b->rate.rx_pps > 0);
	assert_true(b->rate.rx_bps > 0);

	/* Quiet now: the next rate is (about) nothing */
	assert_int_equal(disc_monitor_sample(f->m, f->t, t2 + 1000000000u, &err), 0);
	assert_true(disc_find(f->t, "", "va")->rate.tx_pps < 10);
}

struct count {
	const char *netns;
	size_t n;
};

static int
count_netns(const struct disc_iface *i, void *arg)
{
	struct count *c = arg;

	c->n += strcmp(i->netns, c->netns) == 0;
	return 0;
}

/* Each interface of the kernel is in the table with its index, and nothing else is. */
static void
assert_table_is_kernel(struct fixture *f, const char *netns)
{
	struct if_nameindex *ni = if_nameindex(), *p;
	struct count c = { netns, 0 };
	size_t kernel = 0;

	assert_non_null(ni);
	for (p = ni; p->if_index != 0; p++, kernel++) {
		const struct disc_iface *i = disc_find(f->t, netns, p->if_name);

		if (i == NULL)
			fail_msg("%s is not in the table", p->if_name);
		assert_int_equal(i->ifindex, (int)p->if_index);
	}
	if_freenameindex(ni);
	disc_each(f->t, count_netns, &c);
	assert_int_equal(c.n, kernel);
}

static int
check_order(const struct disc_iface *i, void *arg)
{
	const struct disc_iface **prev = arg;

	if (*prev != NULL) {
		int c = strcmp((*prev)->netns, i->netns);

		if (c == 0)
			c = strcmp((*prev)->name, i->name);
		if (c >= 0)
			fail_msg("%s/%s before %s/%s", (*prev)->netns, (*prev)->name, i->netns, i->name);
	}
	*prev = i;
	return 0;
}

static void
test_overrun_resync(void **state)
{
	struct fixture *f = *state;
	const struct disc_iface *prev = NULL, *i;
	char batch[] = "/tmp/cnw-test-discover-batch.XXXXXX";
	int fd = mkstemp(batch), sz;
	FILE *fp;
	int removed_gone = 0;

	assert_true(fd >= 0);
	evlog_reset();
	sh("ip link add keep0 type %s && ip link add gone0 type %s && "
	    "ip link add ren0 type %s", lone, lone, lone);
	await(f, DISC_ADDED, "ren0");
	settle(f, 20);

	/* The smallest buffer the kernel allows: a couple of messages */
	sz = 0;
	assert_int_equal(setsockopt(disc_monitor_fd(f->m), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
	assert_non_null(fp = fdopen(fd, "w"));
	for (int k = 0; k < 40; k++)
		fprintf(fp, "link add x%d type %s\n", k, lone);
	fprintf(fp, "link set keep0 mtu 1300\nlink del gone0\nlink set ren0 name ren1\n"
	    "link set x5 up\nlink set lo up\n");
	fclose(fp);
	sh("ip -batch %s", batch);
	unlink(batch);
	sz = 1 << 20;
	assert_int_equal(setsockopt(disc_monitor_fd(f->m), SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);

	evlog_reset();
	settle(f, 50);
	assert_int_equal(disc_monitor_resyncs(f->m), 1);
	assert_table_is_kernel(f, "");
	assert_int_equal(disc_find(f->t, "", "keep0")->mtu, 1300);
	assert_null(disc_find(f->t, "", "gone0"));
	assert_null(disc_find(f->t, "", "ren0"));
	assert_non_null(disc_find(f->t, "", "ren1"));
	assert_true(disc_iface_up(disc_find(f->t, "", "x5")));
	assert_true(disc_iface_up(i = disc_find(f->t, "", "lo")));
	assert_true(has_addr(i, "127.0.0.1/8"));
	disc_each(f->t, check_order, &prev);
	for (int k = 0; k < evlog.n; k++)
		removed_gone += evlog.ev[k].change == DISC_REMOVED &&
		    strcmp(evlog.ev[k].iface.name, "gone0") == 0;
	assert_int_equal(removed_gone, 1);

	/* And it goes on hearing events */
	evlog_reset();
	sh("ip link del x0 && ip link set x7 name x77");
	await(f, DISC_REMOVED, "x0");
	assert_string_equal(await(f, DISC_RENAMED, "x77")->old_name, "x7");
	assert_table_is_kernel(f, "");
	prev = NULL;
	disc_each(f->t, check_order, &prev);
}

struct collect {
	int n;
	char names[16][80];
};

static int
collect(const struct disc_iface *i, void *arg)
{
	struct collect *c = arg;

	if (c->n < 16)
		snprintf(c->names[c->n++], sizeof(c->names[0]), "%s/%s", i->netns, i->name);
	return 0;
}

static int
stop_at_second(const struct disc_iface *i, void *arg)
{
	return ++*(int *)arg == 2 ? 7 : 0;
}

static void
test_two_namespaces(void **state)
{
	struct fixture *f = *state;
	struct cnw_error err = { 0 };
	struct disc_monitor *m2;
	struct collect c = { 0 };
	const struct disc_event *ev;
	int home, peer, calls = 0;

	assert_true((home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	assert_true((peer = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) >= 0);
	sh("ip link add b1 type %s && ip link add b0 type %s", lone, lone);
	assert_non_null(m2 = disc_monitor_open("peer", &err));
	assert_int_equal(setns(home, CLONE_NEWNET), 0);

	/* Synced from outside its namespace: the sockets stay where they were made */
	evlog_reset();
	assert_int_equal(disc_monitor_sync(m2, f->t, record, NULL, &err), 3);
	assert_string_equal(disc_find(f->t, "peer", "b0")->link_kind, lone);
	assert_int_equal(disc_find(f->t, "peer", "lo")->ifindex, 1);
	assert_int_equal(disc_find(f->t, "", "lo")->ifindex, 1);
	assert_string_equal(disc_find_index(f->t, "peer", 1)->netns, "peer");

	/* Each hears its own namespace only */
	evlog_reset();
	sh("ip link add a0 type %s", lone);
	await(f, DISC_ADDED, "a0");
	assert_int_equal(pump(m2, f->t, 50), 0);
	assert_null(disc_find(f->t, "peer", "a0"));
	assert_int_equal(setns(peer, CLONE_NEWNET), 0);
	sh("ip link add b2 type veth peer name b3");
	assert_int_equal(setns(home, CLONE_NEWNET), 0);
	evlog_reset();
	while (evlog.n < 2 && pump(m2, f->t, 1000) > 0)
		;
	assert_int_equal(evlog.n, 2);
	ev = &evlog.ev[0];
	assert_int_equal(ev->change, DISC_ADDED);
	assert_string_equal(ev->iface.netns, "peer");
	/* ethtool asked in the peer's namespace too, though we are home now */
	assert_string_equal(ev->iface.driver, "veth");
	assert_int_equal(ev->iface.speed_mbps, 10000);
	assert_null(disc_find(f->t, "", "b2"));
	assert_null(disc_find(f->t, "", "b3"));
	assert_int_equal(disc_monitor_sample(m2, f->t, 42, &err), 0);
	assert_int_equal(disc_find(f->t, "peer", "b0")->sampled_ns, 42);
	assert_int_not_equal(disc_find(f->t, "", "a0")->sampled_ns, 42);

	disc_each(f->t, collect, &c);
	assert_int_equal(c.n, 7);
	assert_string_equal(c.names[0], "/a0");
	assert_string_equal(c.names[1], "/lo");
	assert_string_equal(c.names[2], "peer/b0");
	assert_string_equal(c.names[3], "peer/b1");
	assert_string_equal(c.names[4], "peer/b2");
	assert_string_equal(c.names[5], "peer/b3");
	assert_string_equal(c.names[6], "peer/lo");
	assert_int_equal(disc_each(f->t, stop_at_second, &calls), 7);
	assert_int_equal(calls, 2);

	/* Forgetting the first namespace leaves the next whole, and a sync brings it back */
	disc_forget_netns(f->t, "");
	assert_null(disc_find(f->t, "", "lo"));
	assert_null(disc_find_index(f->t, "", 1));
	memset(&c, 0, sizeof(c));
	disc_each(f->t, collect, &c);
	assert_int_equal(c.n, 5);
	assert_string_equal(c.names[0], "peer/b0");
	assert_string_equal(c.names[4], "peer/lo");
	evlog_reset();
	assert_int_equal(disc_monitor_sync(f->m, f->t, record, NULL, &err), 2);
	assert_int_equal(evlog.ev[0].change, DISC_ADDED);
	assert_non_null(disc_find(f->t, "", "a0"));
	assert_non_null(disc_find_index(f->t, "", 1));

	disc_monitor_close(m2);
	disc_forget_netns(f->t, "peer");
	memset(&c, 0, sizeof(c));
	disc_each(f->t, collect, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.names[1], "/lo");
	assert_null(disc_find(f->t, "peer", "b0"));
	assert_null(disc_find_index(f->t, "peer", 1));
	disc_forget_netns(f->t, "nothing");
	assert_non_null(disc_find(f->t, "", "a0"));
	close(peer);
	close(home);
}

int
main(void)
{
#define T(fn) cmocka_unit_test(fn)
#define K(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_kind_names),
		T(test_iface_helpers),
		T(test_classify_sysfs),
		K(test_sync_loopback),
		K(test_dummy_lifecycle),
		K(test_veth_pair),
		K(test_override),
		K(test_bridge_port_not_removed),
		K(test_stats_sample),
		K(test_overrun_resync),
		K(test_two_namespaces),
	};

	/* Every kernel test makes a namespace of its own; without the right, none can run. */
	if (unshare(CLONE_NEWNET) < 0) {
		printf("1..0 # SKIP unshare(CLONE_NEWNET): %s\n", strerror(errno));
		return 0;
	}
	if (system("ip link add cnwprobe0 type dummy 2>/dev/null") != 0)
		lone = "ifb";
	return cmocka_run_group_tests_name("discover", tests, NULL, NULL);
}
