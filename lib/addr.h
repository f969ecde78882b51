/*
 * Addresses as text: prefixes ("10.0.0.0/24", "fd00::/64") parsed, printed
 * and compared, and endpoints ("192.0.2.1:4789", "[2001:db8::1]:443").
 * Pure functions with no system state: the domain (tenants/) validates
 * subnets with them and the netlink layer (lib/nl.h) installs them.
 */
#ifndef CNW_ADDR_H
#define CNW_ADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct prefix {
	int family;			/* AF_INET or AF_INET6 */
	uint8_t addr[16];
	int plen;
};

/* 0, or -1 if S is not ADDRESS/LENGTH of one family. */
int prefix_parse(const char *s, struct prefix *p);
void prefix_format(const struct prefix *p, char *buf, size_t len);
/* 1 if the host bits are zero. */
int prefix_is_network(const struct prefix *p);
/* 1 if the two prefixes (same family) share any address. */
int prefix_overlaps(const struct prefix *a, const struct prefix *b);
/* The n-th address of the prefix, with the prefix's length. */
void prefix_host(const struct prefix *p, unsigned n, struct prefix *out);
int prefix_equal(const struct prefix *a, const struct prefix *b);

/* "ADDR:PORT" or "[ADDR6]:PORT", numeric only: 0, or -1 if malformed. */
int addr_endpoint_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len);

#endif
