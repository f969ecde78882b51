/*
 * The reconcile step of one network: make its namespace match its rows.
 *
 * Idempotent by construction: the namespace is made if missing; inside it
 * every desired object is put with "create or replace" semantics (links up,
 * NLM_F_REPLACE for addresses and routes), and routes carrying cnw's
 * protocol number that are not desired are removed.  Running it on a
 * network that is already right changes nothing; running it after a
 * crash at any point finishes the job.
 *
 * cnw0 is a TUN device (layer 3: tenant workloads need no ARP towards the
 * fast path) with IFF_VNET_HDR, so the driver that attaches later can turn
 * on GSO offloads and move large TCP segments whole.  It is persistent: it
 * outlives the descriptor that made it and waits for its driver.
 */
#include <errno.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/rtnetlink.h>

#include "lib/netns.h"
#include "lib/nl.h"
#include "lib/tun.h"
#include "lib/util.h"
#include "tenants/network.h"

struct network_apply {
	const struct network *n;
	const struct route *routes;
	size_t nroutes;
	struct nl_route want[2 + NETWORK_ROUTES_MAX];	/* defaults and rows */
	size_t nwant;
	struct nl_route stale[64];	/* ours, not wanted: deleted after the dump */
	size_t nstale;
	struct nl *nl;
	struct cnw_error *err;
};

static int
network_tun_create(struct cnw_error *err)
{
	static const struct tun_opts o = {
		.flags = IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, .persist = 1,
	};
	cleanup_close int fd = tun_open(NETWORK_DEVICE, &o, err);

	return fd < 0 ? -1 : 0;
}

/* The routes the namespace must have: defaults via cnw0, then the rows. */
static int
network_desired(struct network_apply *a, int oif, struct cnw_error *err)
{
	struct nl_route *r;

	a->nwant = 0;
	r = &a->want[a->nwant++];
	memset(r, 0, sizeof(*r));
	r->dst.family = AF_INET;
	r->type = RTN_UNICAST;
	r->oif = oif;
	if (a->n->subnet6[0] != '\0') {
		r = &a->want[a->nwant++];
		memset(r, 0, sizeof(*r));
		r->dst.family = AF_INET6;
		r->type = RTN_UNICAST;
		r->oif = oif;
	}
	for (size_t i = 0; i < a->nroutes; i++) {
		if (a->nwant == sizeof(a->want) / sizeof(a->want[0]))
			return cnw_err(err, CNW_EINTERNAL, "too many routes in network %s",
			    a->n->name);
		r = &a->want[a->nwant++];
		memset(r, 0, sizeof(*r));
		if (prefix_parse(a->routes[i].prefix, &r->dst) < 0)
			return cnw_err(err, CNW_EINTERNAL, "stored route %s does not parse",
			    a->routes[i].prefix);
		r->type = strcmp(a->routes[i].via, "blackhole") == 0 ? RTN_BLACKHOLE :
		    strcmp(a->routes[i].via, "unreachable") == 0 ? RTN_UNREACHABLE : RTN_UNICAST;
		r->oif = oif;
	}
	return 0;
}

static int
network_route_wanted(const struct network_apply *a, const struct nl_route *r)
{
	for (size_t i = 0; i < a->nwant; i++)
		if (prefix_equal(&a->want[i].dst, &r->dst) && a->want[i].type == r->type &&
		    (r->type != RTN_UNICAST || a->want[i].oif == r->oif))
			return 1;
	return 0;
}

/*
 * Note our routes that nobody wants any more.  They are deleted after the
 * dump: a request on the socket in the middle of a dump would mix replies.
 * More than fit are taken by the next pass.
 */
static int
network_route_stale(const struct nl_route *r, void *arg)
{
	struct network_apply *a = arg;

	if (r->protocol != NL_RTPROT_CNW || network_route_wanted(a, r) ||
	    a->nstale == sizeof(a->stale) / sizeof(a->stale[0]))
		return 0;
	a->stale[a->nstale++] = *r;
	return 0;
}

static int
network_routes_prune(struct network_apply *a, int family, struct cnw_error *err)
{
	a->nstale = 0;
	if (nl_route_each(a->nl, family, network_route_stale, a, err) < 0)
		return -1;
	for (size_t i = 0; i < a->nstale; i++)
		if (nl_route_delete(a->nl, &a->stale[i], err) < 0 && errno != ESRCH)
			return -1;
	return 0;
}

static int
network_address(struct nl *nl, int ifindex, const char *subnet, struct cnw_error *err)
{
	struct prefix p, gw;

	if (subnet[0] == '\0')
		return 0;
	if (prefix_parse(subnet, &p) < 0)
		return cnw_err(err, CNW_EINTERNAL, "stored subnet %s does not parse", subnet);
	prefix_host(&p, 1, &gw);
	return nl_addr_replace(nl, ifindex, &gw, err);
}

/* Runs inside the network's namespace. */
static int
network_apply_inside(void *arg, struct cnw_error *err)
{
	struct network_apply *a = arg;
	int lo, dev, created_dev, rc = -1;

	if ((a->nl = nl_open(err)) == NULL)
		return -1;
	a->err = err;
	if ((lo = nl_link_index(a->nl, "lo", err)) <= 0 || nl_link_set_up(a->nl, lo, err) < 0)
		goto out;
	if ((dev = nl_link_index(a->nl, NETWORK_DEVICE, err)) < 0)
		goto out;
	created_dev = dev == 0;
	if (dev == 0 && (network_tun_create(err) < 0 ||
	    (dev = nl_link_index(a->nl, NETWORK_DEVICE, err)) <= 0))
		goto out;
	/*
	 * A GSO segment plus the vnet and overlay headers must fit one UDP
	 * datagram (65507 bytes): cap what cnw0 hands the fast path.
	 */
	if (nl_link_set_gso_max(a->nl, dev, NETWORK_GSO_MAX, err) < 0 ||
	    /*
	     * No fe80:: of its own: its router solicitations and MLD reports
	     * would only be dropped by the fast path (their source is outside
	     * the network's subnet).  Set while the device is still down.
	     */
	    (created_dev && nl_link_set_no_ll6(a->nl, dev, err) < 0) ||
	    nl_link_set_up(a->nl, dev, err) < 0 ||
	    network_address(a->nl, dev, a->n->subnet, err) < 0 ||
	    network_address(a->nl, dev, a->n->subnet6, err) < 0 ||
	    network_desired(a, dev, err) < 0)
		goto out;
	for (size_t i = 0; i < a->nwant; i++)
		if (nl_route_replace(a->nl, &a->want[i], err) < 0)
			goto out;
	if (network_routes_prune(a, AF_INET, err) < 0 || network_routes_prune(a, AF_INET6, err) < 0)
		goto out;
	rc = 0;
out:
	nl_close(a->nl);
	return rc;
}

int
network_apply(const char *instance, const struct network *n, const struct route *routes,
    size_t nroutes, int *created, struct cnw_error *err)
{
	struct network_apply *a = calloc(1, sizeof(*a));
	char name[NETWORK_NETNS_MAX];
	int rc = -1;

	if (a == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	a->n = n;
	a->routes = routes;
	a->nroutes = nroutes;
	*created = 0;
	if (network_netns_name(instance, n->tenant, n->name, name, sizeof(name)) < 0)
		cnw_err(err, CNW_EINVAL, "namespace name too long");
	else if (netns_exists(name) || (*created = netns_create(name, err) == 0))
		rc = netns_run(name, network_apply_inside, a, err);
	free(a);
	return rc;
}

static int
network_remove_inside(void *arg, struct cnw_error *err)
{
	struct nl *nl = nl_open(err);
	int dev, rc = -1;

	if (nl == NULL)
		return -1;
	if ((dev = nl_link_index(nl, NETWORK_DEVICE, err)) >= 0)
		rc = dev == 0 ? 0 : nl_link_delete(nl, dev, err);
	nl_close(nl);
	return rc;
}

/*
 * Unmounting is enough when nothing else is in the namespace: the kernel
 * then takes it down with its devices, in the background.  A process still
 * inside would keep it alive, and cnw0 and its addresses with it: then the
 * device goes first (slow: the kernel waits out a grace period, ~30 ms).
 */
int
network_remove(const char *instance, const struct network *n, struct cnw_error *err)
{
	char name[NETWORK_NETNS_MAX];

	if (network_netns_name(instance, n->tenant, n->name, name, sizeof(name)) < 0)
		return cnw_err(err, CNW_EINVAL, "namespace name too long");
	if (netns_exists(name) && netns_in_use(name) &&
	    netns_run(name, network_remove_inside, NULL, err) < 0)
		return -1;
	return netns_delete(name, err);
}
