/*
 * Discovery of network interfaces; see discover.h.
 *
 * The table holds one entry per interface, reachable through two arrays of
 * pointers kept sorted: by (netns, name, ifindex) for the API's look-ups
 * and its ordered listing, and by (netns, ifindex) for netlink, whose
 * messages name interfaces by index.  Both are O(log n) to search and
 * O(n) memmove to change, which for a few thousand interfaces is less
 * than the system call that brought the change.  The ifindex in the name
 * order is only a tie-breaker: during a resync two entries may hold one
 * name for a moment (one renamed away, the other not yet seen as gone).
 *
 * Events carry the whole state of a link (RTM_NEWLINK) or one address
 * (RTM_NEWADDR/DELADDR), so applying them in order always converges.
 * When the socket overflowed (ENOBUFS) some were lost: then we drop what
 * is queued, dump links and addresses on the request socket and reconcile.
 * Events queued after the drop but older than the dump are applied again
 * afterwards; since each is either a full state or an idempotent set
 * operation, replaying them ends where the kernel is (at worst a moment of
 * stale state and an extra event).
 *
 * Written as lib/nl.c: libmnl to build and walk messages, attribute
 * callbacks that check each type before it is stored in a table.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include "hal/discover.h"
#include "lib/util.h"

/* <net/if.h> stops at IFF_DYNAMIC; these come from <linux/if.h>, which clashes with it. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif
#ifndef IFF_DORMANT
#define IFF_DORMANT 0x20000
#endif

/* The flags whose change is DISC_STATE; any other is DISC_OTHER. */
#define DISC_STATE_FLAGS (IFF_UP | IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT)

/*
 * One buffer for events and dump parts.  The kernel sizes a dump's parts to
 * what we read (up to 32 KiB); a link notification is a few KB.  A message
 * larger than this is truncated, which we treat as a lost event.
 */
#define DISC_BUF_SIZE 32768
#define DISC_RCVBUF (4 << 20)
/* Datagrams read per disc_monitor_read(), so a storm cannot hold the caller's loop. */
#define DISC_READ_BUDGET 256
/* Dumps the kernel flags as interrupted (the set changed meanwhile) are asked again. */
#define DISC_DUMP_TRIES 5
/* How long to wait for the kernel to answer a dump. */
#define DISC_TIMEOUT_S 2

struct disc_entry {
	struct disc_iface i;
	unsigned arphrd;		/* ifi_type, for disc_classify() */
	enum disc_kind natural;		/* disc_classify()'s, kept for when overrides change */
	unsigned gen;			/* the sync that last saw it */
	int has_base;			/* base and base_ns hold the previous sample */
	struct disc_stats base;
	uint64_t base_ns;
};

struct disc_ovr {
	char netns[64];
	char name[16];
	enum disc_kind kind;
};

struct disc_table {
	struct disc_entry **by_name;	/* netns, name, ifindex */
	struct disc_entry **by_index;	/* netns, ifindex */
	size_t n, cap;
	struct disc_ovr *ovr;		/* few, from the config: searched in order */
	size_t novr;
	unsigned gen;
};

struct disc_monitor {
	char netns[64];
	struct mnl_socket *ev;		/* events, non-blocking */
	struct mnl_socket *rq;		/* requests: dumps, blocking with a timeout */
	unsigned rq_portid;
	unsigned seq;
	int ioc;			/* AF_INET datagram socket for SIOCETHTOOL */
	unsigned resyncs;
	int need_sync;			/* the table missed something: sync at the next read */
	char buf[DISC_BUF_SIZE];
};

/* A link as a message describes it. */
struct disc_link {
	struct disc_iface i;
	unsigned arphrd;
	int has_stats;
};

/* Kinds ---------------------------------------------------------------- */

static const char *const disc_kind_names[] = {
	[DISC_ETHERNET] = "ethernet",
	[DISC_WIFI] = "wifi",
	[DISC_CELLULAR] = "cellular",
	[DISC_SATELLITE] = "satellite",
	[DISC_VIRTUAL] = "virtual",
	[DISC_LOOPBACK] = "loopback",
};

const char *
disc_kind_name(enum disc_kind k)
{
	if ((unsigned)k >= ARRAY_SIZE(disc_kind_names))
		return "?";
	return disc_kind_names[k];
}

int
disc_kind_parse(const char *s, enum disc_kind *out)
{
	for (size_t k = 0; k < ARRAY_SIZE(disc_kind_names); k++)
		if (s != NULL && strcmp(s, disc_kind_names[k]) == 0) {
			*out = (enum disc_kind)k;
			return 0;
		}
	return -1;
}

/* Interfaces ----------------------------------------------------------- */

int
disc_iface_up(const struct disc_iface *i)
{
	if (!(i->flags & IFF_UP))
		return 0;
	/* lo, dummy and tun report no operstate of their own ("unknown") */
	return strcmp(i->operstate, "up") == 0 ||
	    (strcmp(i->operstate, "unknown") == 0 && i->carrier);
}

int
disc_iface_protocols(const struct disc_iface *i, const char *out[], int max)
{
	int has4 = 0, has6 = 0, n = 0;

	for (unsigned k = 0; k < i->naddrs && k < DISC_ADDRS_MAX; k++) {
		has4 |= i->addrs[k].family == AF_INET;
		has6 |= i->addrs[k].family == AF_INET6;
	}
	if (i->has_mac && n++ < max)
		out[n - 1] = "ethernet";
	if (has4 && n++ < max)
		out[n - 1] = "ipv4";
	if (has6 && n++ < max)
		out[n - 1] = "ipv6";
	return n;
}

static size_t
disc_addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static int
disc_addr_equal(const struct disc_addr *a, const struct disc_addr *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	    memcmp(a->addr, b->addr, disc_addr_len(a->family)) == 0;
}

/* Index of a in i's addresses, or -1. */
static int
disc_addr_find(const struct disc_iface *i, const struct disc_addr *a)
{
	for (unsigned k = 0; k < i->naddrs; k++)
		if (disc_addr_equal(&i->addrs[k], a))
			return (int)k;
	return -1;
}

/* The same set of addresses, in whatever order. */
static int
disc_addrs_same(const struct disc_iface *a, const struct disc_iface *b)
{
	if (a->naddrs != b->naddrs)
		return 0;
	for (unsigned k = 0; k < a->naddrs; k++)
		if (disc_addr_find(b, &a->addrs[k]) < 0)
			return 0;
	return 1;
}

static unsigned
disc_diff(const struct disc_iface *a, const struct disc_iface *b)
{
	unsigned c = 0;

	if (strcmp(a->name, b->name) != 0)
		c |= DISC_RENAMED;
	if (((a->flags ^ b->flags) & DISC_STATE_FLAGS) || strcmp(a->operstate, b->operstate) != 0 ||
	    a->carrier != b->carrier)
		c |= DISC_STATE;
	if (a->mtu != b->mtu)
		c |= DISC_MTU;
	if (!disc_addrs_same(a, b))
		c |= DISC_ADDRESS;
	if (((a->flags ^ b->flags) & ~(uint32_t)DISC_STATE_FLAGS) || a->has_mac != b->has_mac ||
	    memcmp(a->mac, b->mac, sizeof(a->mac)) != 0 || strcmp(a->link_kind, b->link_kind) != 0 ||
	    a->kind != b->kind || a->kind_overridden != b->kind_overridden ||
	    strcmp(a->driver, b->driver) != 0 || a->speed_mbps != b->speed_mbps ||
	    strcmp(a->duplex, b->duplex) != 0)
		c |= DISC_OTHER;
	return c;
}

static void
disc_emit(disc_event_fn fn, void *arg, unsigned change, const struct disc_iface *i,
    const char *old_name)
{
	struct disc_event ev;

	if (fn == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.change = change;
	ev.iface = *i;
	if (old_name != NULL)
		snprintf(ev.old_name, sizeof(ev.old_name), "%s", old_name);
	fn(&ev, arg);
}

/* Classification ------------------------------------------------------- */

static char disc_sysfs[PATH_MAX] = "/sys";

void
disc_set_sysfs_root(const char *root)
{
	snprintf(disc_sysfs, sizeof(disc_sysfs), "%s", root != NULL ? root : "/sys");
}

/*
 * What the rules look at.  The sysfs part is read on first use, so an
 * interface a link kind already decides costs no file system access.
 */
struct disc_probe {
	const char *netns, *name, *link_kind, *driver;
	unsigned arphrd;
	int probed;
	int sysfs;			/* SYSFS/class/net/NAME is there and describes it */
	int wireless;			/* wireless/ or phy80211 there */
	int device;			/* device there: a bus device under it */
	char devtype[32];		/* DEVTYPE= of uevent */
	char sysdriver[64];		/* basename of device/driver */
};

static int
disc_sys_path(char *buf, size_t size, const char *name, const char *entry)
{
	int n = snprintf(buf, size, "%s/class/net/%s%s%s", disc_sysfs, name, *entry ? "/" : "",
	    entry);

	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* The entry itself, not what a symbolic link points to (phy80211 and device are links). */
static int
disc_sys_exists(const char *name, const char *entry)
{
	char path[PATH_MAX];
	struct stat st;

	return disc_sys_path(path, sizeof(path), name, entry) == 0 &&
	    fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void
disc_sys_devtype(const char *name, char *out, size_t size)
{
	char path[PATH_MAX], buf[4096];
	char *line, *save = NULL;
	ssize_t n;
	int fd;

	if (disc_sys_path(path, sizeof(path), name, "uevent") < 0 ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "DEVTYPE=", 8) == 0)
			snprintf(out, size, "%s", line + 8);
}

static void
disc_sys_driver(const char *name, char *out, size_t size)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if (disc_sys_path(path, sizeof(path), name, "device/driver") < 0 ||
	    (n = readlink(path, target, sizeof(target) - 1)) <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base != NULL ? base + 1 : target;
	/* Longer than any driver we look for: leave it unknown rather than cut it */
	if (strlen(base) < size)
		memcpy(out, base, strlen(base) + 1);
}

/*
 * sysfs shows the interfaces of the namespace it was mounted from, which
 * is the host's; for another namespace a name there may be another device.
 */
static void
disc_probe_sysfs(struct disc_probe *p)
{
	const char *n = p->name;

	if (p->probed)
		return;
	p->probed = 1;
	if (strcmp(p->netns, "") != 0 || n[0] == '\0' || strchr(n, '/') != NULL ||
	    strcmp(n, ".") == 0 || strcmp(n, "..") == 0 || !disc_sys_exists(n, ""))
		return;
	p->sysfs = 1;
	p->wireless = disc_sys_exists(n, "wireless") || disc_sys_exists(n, "phy80211");
	p->device = disc_sys_exists(n, "device");
	disc_sys_devtype(n, p->devtype, sizeof(p->devtype));
	disc_sys_driver(n, p->sysdriver, sizeof(p->sysdriver));
}

/*
 * Drivers of modems that present a network device.  cdc_ncm and cdc_ether
 * are not here: USB Ethernet adapters and docks use them too, and the
 * modems among their devices are flagged by the driver (DEVTYPE=wwan).
 * ipheth is an iPhone's tethering, whose uplink is the phone's cellular one.
 */
static int
disc_modem_driver(const char *d)
{
	static const char *const modem[] = {
		"qmi_wwan", "qmi_wwan_q", "GobiNet", "cdc_mbim", "option", "huawei_cdc_ncm",
		"sierra_net", "rmnet", "mhi_net", "ipheth",
	};

	for (size_t k = 0; d != NULL && k < ARRAY_SIZE(modem); k++)
		if (strcmp(d, modem[k]) == 0)
			return 1;
	return 0;
}

static int
disc_r_loopback(struct disc_probe *p)
{
	return p->arphrd == ARPHRD_LOOPBACK;
}

/* Link kinds that are cellular data devices: the WWAN framework's (mhi, iosm, t7xx), Qualcomm's mux. */
static int
disc_r_cellular_kind(struct disc_probe *p)
{
	return strcmp(p->link_kind, "wwan") == 0 || strcmp(p->link_kind, "rmnet") == 0;
}

/* Anything made through rtnetlink with a kind is software. */
static int
disc_r_link_kind(struct disc_probe *p)
{
	return p->link_kind[0] != '\0';
}

static int
disc_r_wireless(struct disc_probe *p)
{
	disc_probe_sysfs(p);
	return p->wireless || strcmp(p->devtype, "wlan") == 0;
}

static int
disc_r_wwan(struct disc_probe *p)
{
	disc_probe_sysfs(p);
	return strcmp(p->devtype, "wwan") == 0;
}

static int
disc_r_modem_driver(struct disc_probe *p)
{
	disc_probe_sysfs(p);
	return disc_modem_driver(p->sysdriver) || disc_modem_driver(p->driver);
}

/* No link layer: a modem's raw IP device (tun and wireguard have a link kind). */
static int
disc_r_bare_ip(struct disc_probe *p)
{
	return p->arphrd == ARPHRD_NONE || p->arphrd == ARPHRD_RAWIP;
}

/* Without sysfs, a driver ethtool knows stands for the device (software has a link kind). */
static int
disc_r_ether_device(struct disc_probe *p)
{
	disc_probe_sysfs(p);
	if (p->arphrd != ARPHRD_ETHER)
		return 0;
	return p->sysfs ? p->device : p->driver[0] != '\0';
}

/* In order: the first that matches gives the kind; none, virtual. */
static const struct disc_rule {
	int (*match)(struct disc_probe *p);
	enum disc_kind kind;
} disc_rules[] = {
	{ disc_r_loopback, DISC_LOOPBACK },
	{ disc_r_cellular_kind, DISC_CELLULAR },
	{ disc_r_link_kind, DISC_VIRTUAL },
	{ disc_r_wireless, DISC_WIFI },
	{ disc_r_wwan, DISC_CELLULAR },
	{ disc_r_modem_driver, DISC_CELLULAR },
	{ disc_r_bare_ip, DISC_CELLULAR },
	{ disc_r_ether_device, DISC_ETHERNET },
};

enum disc_kind
disc_classify(const char *netns, const char *name, unsigned arphrd, const char *link_kind,
    const char *driver)
{
	struct disc_probe p = {
		.netns = netns != NULL ? netns : "",
		.name = name != NULL ? name : "",
		.link_kind = link_kind != NULL ? link_kind : "",
		.driver = driver != NULL ? driver : "",
		.arphrd = arphrd,
	};

	for (size_t k = 0; k < ARRAY_SIZE(disc_rules); k++)
		if (disc_rules[k].match(&p))
			return disc_rules[k].kind;
	return DISC_VIRTUAL;
}

/* The table ------------------------------------------------------------ */

struct disc_table *
disc_table_new(void)
{
	return calloc(1, sizeof(struct disc_table));
}

void
disc_table_free(struct disc_table *t)
{
	if (t == NULL)
		return;
	for (size_t k = 0; k < t->n; k++)
		free(t->by_name[k]);
	free(t->by_name);
	free(t->by_index);
	free(t->ovr);
	free(t);
}

/* <0, 0, >0 as the entry sorts before, with, after the key. */
static int
disc_cmp_name(const struct disc_entry *e, const char *netns, const char *name, int ifindex)
{
	int c = strcmp(e->i.netns, netns);

	if (c == 0)
		c = strcmp(e->i.name, name);
	if (c == 0)
		c = (e->i.ifindex > ifindex) - (e->i.ifindex < ifindex);
	return c;
}

static int
disc_cmp_index(const struct disc_entry *e, const char *netns, int ifindex)
{
	int c = strcmp(e->i.netns, netns);

	if (c == 0)
		c = (e->i.ifindex > ifindex) - (e->i.ifindex < ifindex);
	return c;
}

/* The first position in v[0..n) that does not sort before the key. */
static size_t
disc_lb_name(struct disc_entry *const *v, size_t n, const char *netns, const char *name,
    int ifindex)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (disc_cmp_name(v[mid], netns, name, ifindex) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static size_t
disc_lb_index(struct disc_entry *const *v, size_t n, const char *netns, int ifindex)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (disc_cmp_index(v[mid], netns, ifindex) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
disc_arr_insert(struct disc_entry **v, size_t n, size_t pos, struct disc_entry *e)
{
	memmove(&v[pos + 1], &v[pos], (n - pos) * sizeof(*v));
	v[pos] = e;
}

static void
disc_arr_delete(struct disc_entry **v, size_t n, size_t pos)
{
	memmove(&v[pos], &v[pos + 1], (n - pos - 1) * sizeof(*v));
}

static struct disc_entry *
disc_lookup_index(const struct disc_table *t, const char *netns, int ifindex)
{
	size_t p = disc_lb_index(t->by_index, t->n, netns, ifindex);

	if (p < t->n && disc_cmp_index(t->by_index[p], netns, ifindex) == 0)
		return t->by_index[p];
	return NULL;
}

static int
disc_insert(struct disc_table *t, struct disc_entry *e)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		struct disc_entry **v;

		/* Grown one at a time: cap moves only when both are. */
		if ((v = realloc(t->by_name, cap * sizeof(*v))) == NULL)
			return -1;
		t->by_name = v;
		if ((v = realloc(t->by_index, cap * sizeof(*v))) == NULL)
			return -1;
		t->by_index = v;
		t->cap = cap;
	}
	disc_arr_insert(t->by_name, t->n,
	    disc_lb_name(t->by_name, t->n, e->i.netns, e->i.name, e->i.ifindex), e);
	disc_arr_insert(t->by_index, t->n,
	    disc_lb_index(t->by_index, t->n, e->i.netns, e->i.ifindex), e);
	t->n++;
	return 0;
}

static void
disc_remove(struct disc_table *t, struct disc_entry *e)
{
	disc_arr_delete(t->by_name, t->n,
	    disc_lb_name(t->by_name, t->n, e->i.netns, e->i.name, e->i.ifindex));
	disc_arr_delete(t->by_index, t->n,
	    disc_lb_index(t->by_index, t->n, e->i.netns, e->i.ifindex));
	t->n--;
	free(e);
}

static void
disc_rename(struct disc_table *t, struct disc_entry *e, const char *name)
{
	disc_arr_delete(t->by_name, t->n,
	    disc_lb_name(t->by_name, t->n, e->i.netns, e->i.name, e->i.ifindex));
	snprintf(e->i.name, sizeof(e->i.name), "%s", name);
	disc_arr_insert(t->by_name, t->n - 1,
	    disc_lb_name(t->by_name, t->n - 1, e->i.netns, e->i.name, e->i.ifindex), e);
}

static const struct disc_ovr *
disc_ovr_find(const struct disc_table *t, const char *netns, const char *name)
{
	const struct disc_ovr *any = NULL;

	for (size_t k = 0; k < t->novr; k++) {
		if (strcmp(t->ovr[k].name, name) != 0)
			continue;
		if (strcmp(t->ovr[k].netns, netns) == 0)
			return &t->ovr[k];
		if (strcmp(t->ovr[k].netns, "*") == 0)
			any = &t->ovr[k];
	}
	return any;
}

/* The kind: the override's if there is one, else the rules' (worked out again if asked). */
static void
disc_kind_set(const struct disc_table *t, struct disc_entry *e, int classify)
{
	const struct disc_ovr *o;

	if (classify)
		e->natural = disc_classify(e->i.netns, e->i.name, e->arphrd, e->i.link_kind,
		    e->i.driver);
	o = disc_ovr_find(t, e->i.netns, e->i.name);
	e->i.kind = o != NULL ? o->kind : e->natural;
	e->i.kind_overridden = o != NULL;
}

int
disc_override(struct disc_table *t, const char *netns, const char *name, enum disc_kind kind)
{
	struct disc_ovr *o = NULL;

	if (netns == NULL || name == NULL || name[0] == '\0' ||
	    strlen(netns) >= sizeof(o->netns) || strlen(name) >= sizeof(o->name) ||
	    (unsigned)kind >= ARRAY_SIZE(disc_kind_names)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t k = 0; k < t->novr && o == NULL; k++)
		if (strcmp(t->ovr[k].netns, netns) == 0 && strcmp(t->ovr[k].name, name) == 0)
			o = &t->ovr[k];
	if (o == NULL) {
		struct disc_ovr *v = realloc(t->ovr, (t->novr + 1) * sizeof(*v));

		if (v == NULL)
			return -1;
		t->ovr = v;
		o = &t->ovr[t->novr++];
		snprintf(o->netns, sizeof(o->netns), "%s", netns);
		snprintf(o->name, sizeof(o->name), "%s", name);
	}
	o->kind = kind;
	for (size_t k = 0; k < t->n; k++)
		if (strcmp(t->by_name[k]->i.name, name) == 0)
			disc_kind_set(t, t->by_name[k], 0);
	return 0;
}

void
disc_override_clear(struct disc_table *t)
{
	free(t->ovr);
	t->ovr = NULL;
	t->novr = 0;
	for (size_t k = 0; k < t->n; k++)
		disc_kind_set(t, t->by_name[k], 0);
}

int
disc_each(const struct disc_table *t, disc_each_fn fn, void *arg)
{
	for (size_t k = 0; k < t->n; k++) {
		int r = fn(&t->by_name[k]->i, arg);

		if (r != 0)
			return r;
	}
	return 0;
}

const struct disc_iface *
disc_find(const struct disc_table *t, const char *netns, const char *name)
{
	size_t p = disc_lb_name(t->by_name, t->n, netns, name, INT_MIN);

	if (p < t->n && strcmp(t->by_name[p]->i.netns, netns) == 0 &&
	    strcmp(t->by_name[p]->i.name, name) == 0)
		return &t->by_name[p]->i;
	return NULL;
}

const struct disc_iface *
disc_find_index(const struct disc_table *t, const char *netns, int ifindex)
{
	struct disc_entry *e = disc_lookup_index(t, netns, ifindex);

	return e != NULL ? &e->i : NULL;
}

/* Both orders keep a namespace's entries together: cut the run out of each. */
void
disc_forget_netns(struct disc_table *t, const char *netns)
{
	size_t lo = disc_lb_index(t->by_index, t->n, netns, INT_MIN), hi = lo, nlo, k;

	while (hi < t->n && strcmp(t->by_index[hi]->i.netns, netns) == 0)
		hi++;
	if (hi == lo)
		return;
	/* Found in both before anything is freed: the searches read the entries */
	nlo = disc_lb_name(t->by_name, t->n, netns, "", INT_MIN);
	for (k = lo; k < hi; k++)
		free(t->by_index[k]);
	memmove(&t->by_index[lo], &t->by_index[hi], (t->n - hi) * sizeof(*t->by_index));
	memmove(&t->by_name[nlo], &t->by_name[nlo + (hi - lo)],
	    (t->n - nlo - (hi - lo)) * sizeof(*t->by_name));
	t->n -= hi - lo;
}

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
static void
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

static uint64_t
disc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
static int
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
		l->i.sampled_ns = disc_now_ns();
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
static int
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
static int
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

static int
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

static int
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

/* The monitor ---------------------------------------------------------- */

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
