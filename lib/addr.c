/*
 * IP prefixes and endpoints as text and bits; see addr.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "lib/addr.h"

int
prefix_parse(const char *s, struct prefix *p)
{
	char addr[64];
	const char *slash = strchr(s, '/');
	char *end;
	long plen;

	memset(p, 0, sizeof(*p));
	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr) || slash[1] < '0' ||
	    slash[1] > '9')
		return -1;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (*end != '\0' || errno != 0 || (end - slash - 1) > 3)
		return -1;
	if (inet_pton(AF_INET, addr, p->addr) == 1)
		p->family = AF_INET;
	else if (inet_pton(AF_INET6, addr, p->addr) == 1)
		p->family = AF_INET6;
	else
		return -1;
	if (plen < 0 || plen > (p->family == AF_INET ? 32 : 128))
		return -1;
	p->plen = (int)plen;
	return 0;
}

void
prefix_format(const struct prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(p->family, p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%d", a, p->plen);
}

static int
prefix_bit(const uint8_t *a, int i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

int
prefix_is_network(const struct prefix *p)
{
	int bits = p->family == AF_INET ? 32 : 128;

	for (int i = p->plen; i < bits; i++)
		if (prefix_bit(p->addr, i))
			return 0;
	return 1;
}

int
prefix_overlaps(const struct prefix *a, const struct prefix *b)
{
	int n = a->plen < b->plen ? a->plen : b->plen;

	if (a->family != b->family)
		return 0;
	for (int i = 0; i < n; i++)
		if (prefix_bit(a->addr, i) != prefix_bit(b->addr, i))
			return 0;
	return 1;
}

void
prefix_host(const struct prefix *p, unsigned n, struct prefix *out)
{
	int last = (p->family == AF_INET ? 4 : 16) - 1;
	unsigned carry = n;

	*out = *p;
	for (int i = last; i >= 0 && carry != 0; i--) {
		unsigned v = out->addr[i] + (carry & 0xff);

		out->addr[i] = (uint8_t)v;
		carry = (carry >> 8) + (v >> 8);
	}
}

int
prefix_equal(const struct prefix *a, const struct prefix *b)
{
	return a->family == b->family && a->plen == b->plen &&
	    memcmp(a->addr, b->addr, a->family == AF_INET ? 4 : 16) == 0;
}

int
addr_endpoint_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *port;
	char *end;
	unsigned long p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof(host))
			return -1;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = close + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		port = colon + 1;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 || p == 0 || p > 65535)
		return -1;
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (s[0] != '[' && inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		*len = sizeof(*in4);
		return 0;
	}
	if (s[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}
