/*
 * Networks and routes: the checks of their values (subnets, prefixes,
 * gateways, namespace names), with no store; see network.h.  Kept apart
 * from the rows so that the prefix fuzzer and the config checker link
 * without SQLite.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "tenants/network.h"

/* Validation ------------------------------------------------------------ */

/* Ranges no tenant subnet may touch: they mean something to every host. */
static const struct {
	const char *prefix;
	const char *why;
} network_reserved[] = {
	{ "0.0.0.0/8", "\"this network\"" },
	{ "127.0.0.0/8", "loopback" },
	{ "169.254.0.0/16", "link-local" },
	{ "224.0.0.0/4", "multicast" },
	{ "240.0.0.0/4", "reserved and broadcast" },
	{ "::/8", "loopback and unspecified" },
	{ "fe80::/10", "link-local" },
	{ "ff00::/8", "multicast" },
};

static int
network_check_reserved(const char *what, const struct prefix *p, struct cnw_error *err)
{
	struct prefix r;

	for (size_t i = 0; i < sizeof(network_reserved) / sizeof(network_reserved[0]); i++)
		if (prefix_parse(network_reserved[i].prefix, &r) == 0 &&
		    prefix_overlaps(p, &r)) {
			char s[NETWORK_CIDR_MAX];

			prefix_format(p, s, sizeof(s));
			return cnw_err(err, CNW_EINVAL, "%s %s overlaps %s, which is %s", what, s,
			    network_reserved[i].prefix, network_reserved[i].why);
		}
	return 0;
}

int
network_validate_subnet(const char *what, const char *in, int family, char *out,
    size_t outlen, struct cnw_error *err)
{
	struct prefix p, net;
	int min = family == AF_INET ? 8 : 16, max = family == AF_INET ? 30 : 126;
	char canon[NETWORK_CIDR_MAX];

	if (prefix_parse(in, &p) < 0 || p.family != family)
		return cnw_err(err, CNW_EINVAL, "%s \"%s\" is not an %s prefix like %s", what, in,
		    family == AF_INET ? "IPv4" : "IPv6",
		    family == AF_INET ? "10.10.0.0/24" : "fd00:10::/64");
	if (p.plen < min || p.plen > max)
		return cnw_err(err, CNW_EINVAL, "%s %s: the prefix length must be /%d to /%d",
		    what, in, min, max);
	if (!prefix_is_network(&p)) {
		net = p;
		for (int i = p.plen; i < (family == AF_INET ? 32 : 128); i++)
			net.addr[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
		prefix_format(&net, canon, sizeof(canon));
		return cnw_err(err, CNW_EINVAL, "%s %s is not a network address (did you mean %s?)",
		    what, in, canon);
	}
	if (network_check_reserved(what, &p, err) < 0)
		return -1;
	prefix_format(&p, out, outlen);
	return 0;
}

int
route_validate_prefix(const char *in, const struct network *n, char *out, size_t outlen,
    struct cnw_error *err)
{
	struct prefix p;

	if (prefix_parse(in, &p) < 0)
		return cnw_err(err, CNW_EINVAL,
		    "route prefix \"%s\" is not a prefix like 192.168.50.0/24 or fd00:50::/64", in);
	if (!prefix_is_network(&p))
		return cnw_err(err, CNW_EINVAL, "route prefix %s is not a network address", in);
	if (p.family == AF_INET6 && n->subnet6[0] == '\0')
		return cnw_err(err, CNW_EINVAL,
		    "network %s has no subnet6, so it cannot route IPv6 prefix %s", n->name, in);
	prefix_format(&p, out, outlen);
	/* The network's own routes belong to cnw and the kernel: never replaced. */
	if (p.plen == 0)
		return cnw_err(err, CNW_EEXIST,
		    "%s is the network's default route (via the fast path); it cannot be changed", out);
	if (strcmp(out, n->subnet) == 0 || strcmp(out, n->subnet6) == 0)
		return cnw_err(err, CNW_EEXIST, "%s is the network's own subnet", out);
	return 0;
}

int
route_validate_via(const char *via, struct cnw_error *err)
{
	if (strcmp(via, "fastpath") == 0 || strcmp(via, "blackhole") == 0 ||
	    strcmp(via, "unreachable") == 0)
		return 0;
	return cnw_err(err, CNW_EINVAL,
	    "via \"%s\" must be one of fastpath, blackhole, unreachable", via);
}

int
network_netns_name(const char *instance, const char *tenant, const char *name, char *out,
    size_t len)
{
	int n = snprintf(out, len, "%s.%s.%s", instance, tenant, name);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

void
network_gateway(const char *subnet, char *out, size_t len)
{
	struct prefix p, gw;

	out[0] = '\0';
	if (subnet[0] == '\0' || prefix_parse(subnet, &p) < 0)
		return;
	prefix_host(&p, 1, &gw);
	inet_ntop(gw.family, gw.addr, out, (socklen_t)len);
}

/* Rows ------------------------------------------------------------------ */
