/*
 * Fuzz target: subnets and route prefixes as users type them.  Whatever
 * the string, network_validate_subnet() either refuses it or gives back a
 * canonical prefix that parses again to the same thing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/addr.h"
#include "tenants/network.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[96], out[NETWORK_CIDR_MAX], again[NETWORK_CIDR_MAX];
	struct cnw_error err;
	struct prefix p;
	int families[] = { AF_INET, AF_INET6 };

	if (size >= sizeof(in))
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	for (size_t i = 0; i < 2; i++) {
		if (network_validate_subnet("subnet", in, families[i], out, sizeof(out), &err) < 0)
			continue;
		if (prefix_parse(out, &p) < 0 || !prefix_is_network(&p))
			abort();
		prefix_format(&p, again, sizeof(again));
		if (strcmp(out, again) != 0)
			abort();
	}
	return 0;
}
