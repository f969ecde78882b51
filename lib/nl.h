/*
 * rtnetlink helpers on libmnl: links, addresses and routes of the network
 * namespace a socket was opened in.
 *
 * Written the way libmnl's examples and OpenBGPD's kroute-linux.c do it:
 * put the header, the family header, the attributes; parse replies with
 * mnl_cb_run and an attribute callback that validates each type into a
 * table; check sequence numbers and port ids.  Every request asks for an
 * ACK, so an error comes back as the kernel's errno.  Depends on nothing of
 * the daemon but the error convention.
 */
#ifndef CNW_NL_H
#define CNW_NL_H

#include <stdint.h>

#include "lib/error.h"
#include "lib/addr.h"

/* Routes cnw installs carry this protocol number, so they are known as ours. */
#define NL_RTPROT_CNW 77

struct nl;

struct nl_route {
	struct prefix dst;
	int type;			/* RTN_UNICAST, RTN_BLACKHOLE, RTN_UNREACHABLE */
	int oif;			/* for RTN_UNICAST */
	int protocol;
};

/* A socket in the current network namespace. */
struct nl *nl_open(struct cnw_error *err);
void nl_close(struct nl *nl);

/* Links */
/* ifindex of name, 0 if there is none, -1 on error. */
int nl_link_index(struct nl *nl, const char *name, struct cnw_error *err);
int nl_link_set_up(struct nl *nl, int ifindex, struct cnw_error *err);
int nl_link_delete(struct nl *nl, int ifindex, struct cnw_error *err);
/* No IPv6 link-local address of its own (addr_gen_mode none); before it is up. */
int nl_link_set_no_ll6(struct nl *nl, int ifindex, struct cnw_error *err);
/* The largest GSO packet the device hands out (IFLA_GSO_MAX_SIZE). */
int nl_link_set_gso_max(struct nl *nl, int ifindex, uint32_t bytes, struct cnw_error *err);

/* Addresses: add or replace; list those of a link. */
int nl_addr_replace(struct nl *nl, int ifindex, const struct prefix *a, struct cnw_error *err);
typedef int (*nl_addr_fn)(const struct prefix *a, int ifindex, void *arg);
int nl_addr_each(struct nl *nl, int family, nl_addr_fn fn, void *arg, struct cnw_error *err);

/* Routes in the main table */
int nl_route_replace(struct nl *nl, const struct nl_route *r, struct cnw_error *err);
int nl_route_delete(struct nl *nl, const struct nl_route *r, struct cnw_error *err);
typedef int (*nl_route_fn)(const struct nl_route *r, void *arg);
int nl_route_each(struct nl *nl, int family, nl_route_fn fn, void *arg, struct cnw_error *err);

/*
 * A socket that hears every link, address and route change of the current
 * namespace (non-blocking).  nl_monitor_drain() reads what is queued and
 * returns how many messages there were.
 */
int nl_monitor_open(struct cnw_error *err);
int nl_monitor_drain(int fd);

#endif
