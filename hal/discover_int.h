/*
 * Discovery's parts, and what they share (discover.h is its interface):
 *
 *	discover_kind.c		kinds, and the rules that classify an interface
 *	discover_table.c	the table: interfaces sorted two ways, overrides,
 *				comparing two states of an interface, reporting it
 *	discover_link.c		what the kernel says of a link (rtnetlink messages,
 *				ethtool) and applying it to the table
 *	discover.c		the monitor: its sockets, dumps, sync, reads, samples
 *
 * The table holds one entry per interface, reachable through two arrays of
 * pointers kept sorted: by (netns, name, ifindex) for the API's look-ups
 * and its ordered listing, and by (netns, ifindex) for netlink, whose
 * messages name interfaces by index.  Both are O(log n) to search and
 * O(n) memmove to change, which for a few thousand interfaces is less
 * than the system call that brought the change.  The ifindex in the name
 * order is only a tie-breaker: during a resync two entries may hold one
 * name for a moment (one renamed away, the other not yet seen as gone).
 */
#ifndef CNW_HAL_DISCOVER_INT_H
#define CNW_HAL_DISCOVER_INT_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

#include "hal/discover.h"

/* <net/if.h> stops at IFF_DYNAMIC; these come from <linux/if.h>, which clashes with it. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif
#ifndef IFF_DORMANT
#define IFF_DORMANT 0x20000
#endif

/* The flags whose change is DISC_STATE; any other is DISC_OTHER. */
#define DISC_STATE_FLAGS (IFF_UP | IFF_RUNNING | IFF_LOWER_UP | IFF_DORMANT)

/* The last of enum disc_kind, for checks. */
#define DISC_KIND_LAST DISC_LOOPBACK

/*
 * One buffer for events and dump parts.  The kernel sizes a dump's parts to
 * what we read (up to 32 KiB); a link notification is a few KB.  A message
 * larger than this is truncated, which we treat as a lost event.
 */
#define DISC_BUF_SIZE 32768

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

/* discover_table.c: interfaces */
size_t disc_addr_len(int family);
/* Index of a in i's addresses, or -1. */
int disc_addr_find(const struct disc_iface *i, const struct disc_addr *a);
/* What differs from a to b: enum disc_change bits. */
unsigned disc_diff(const struct disc_iface *a, const struct disc_iface *b);
/* Report a change to fn (if any); old_name with DISC_RENAMED, else NULL. */
void disc_emit(disc_event_fn fn, void *arg, unsigned change, const struct disc_iface *i,
    const char *old_name);

/* discover_table.c: the table */
/* The first position in the index order that does not sort before (netns, ifindex). */
size_t disc_lb_index(struct disc_entry *const *v, size_t n, const char *netns, int ifindex);
struct disc_entry *disc_lookup_index(const struct disc_table *t, const char *netns, int ifindex);
/* -1 if out of memory (e is not in the table then). */
int disc_insert(struct disc_table *t, struct disc_entry *e);
/* Out of both orders, and freed. */
void disc_remove(struct disc_table *t, struct disc_entry *e);
void disc_rename(struct disc_table *t, struct disc_entry *e, const char *name);
/* The kind: the override's if there is one, else the rules' (worked out again if classify). */
void disc_kind_set(const struct disc_table *t, struct disc_entry *e, int classify);

/* discover_link.c */
/* The first counters of struct rtnl_link_stats64. */
void disc_stats_read(const struct nlattr *a, struct disc_stats *out);
/* An RTM_NEWLINK of family AF_UNSPEC: 0, or -1 to ignore it. */
int disc_link_parse(const struct nlmsghdr *nlh, const char *netns, struct disc_link *l);
/* RTM_NEWADDR, RTM_DELADDR: 0, or -1 to ignore it. */
int disc_addr_parse(const struct nlmsghdr *nlh, int *ifindex, struct disc_addr *out);
/* Apply a message to the table and report it: events reported (0 or 1), or -1. */
int disc_apply_link(struct disc_monitor *m, struct disc_table *t, const struct disc_link *l,
    int with_addrs, disc_event_fn fn, void *arg, struct cnw_error *err);
int disc_apply_dellink(struct disc_monitor *m, struct disc_table *t, const struct nlmsghdr *nlh,
    disc_event_fn fn, void *arg);
int disc_apply_addr(struct disc_monitor *m, struct disc_table *t, const struct nlmsghdr *nlh,
    disc_event_fn fn, void *arg);

#endif
