/*
 * Discovery's table of interfaces and its overrides; see discover_int.h
 * for its two orders.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "hal/discover.h"
#include "hal/discover_int.h"
#include "lib/util.h"

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

size_t
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
int
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

unsigned
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

void
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

size_t
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

struct disc_entry *
disc_lookup_index(const struct disc_table *t, const char *netns, int ifindex)
{
	size_t p = disc_lb_index(t->by_index, t->n, netns, ifindex);

	if (p < t->n && disc_cmp_index(t->by_index[p], netns, ifindex) == 0)
		return t->by_index[p];
	return NULL;
}

int
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

void
disc_remove(struct disc_table *t, struct disc_entry *e)
{
	disc_arr_delete(t->by_name, t->n,
	    disc_lb_name(t->by_name, t->n, e->i.netns, e->i.name, e->i.ifindex));
	disc_arr_delete(t->by_index, t->n,
	    disc_lb_index(t->by_index, t->n, e->i.netns, e->i.ifindex));
	t->n--;
	free(e);
}

void
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
void
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
	    (unsigned)kind > DISC_KIND_LAST) {
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
