/*
 * Discovery: the kinds of interface, and the rules that classify one
 * (discover.h lists them in order).
 */
#include <fcntl.h>
#include <limits.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "hal/discover.h"
#include "hal/discover_int.h"
#include "lib/util.h"

/* Kinds ---------------------------------------------------------------- */

static const char *const disc_kind_names[] = {
	[DISC_ETHERNET] = "ethernet",
	[DISC_WIFI] = "wifi",
	[DISC_CELLULAR] = "cellular",
	[DISC_SATELLITE] = "satellite",
	[DISC_VIRTUAL] = "virtual",
	[DISC_LOOPBACK] = "loopback",
};
_Static_assert(ARRAY_SIZE(disc_kind_names) == DISC_KIND_LAST + 1, "a kind without a name");

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
