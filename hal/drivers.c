/*
 * The built-in drivers, registered by table: adding a driver is adding its
 * file and one row here (as iproute2 lists its link kinds), and the parent,
 * the API's GET /v1/drivers and the driver host all find it by name.
 *
 * Also the argument string every built-in driver shares ("mtu=1500,
 * speed=1000"): what the parent knows of the link and the sandboxed driver
 * cannot ask the kernel (no ioctl, no /sys), passed in at start.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/afpacket.h"
#include "hal/host.h"
#include "lib/util.h"

static const struct hal_driver *const hal_builtin_drivers[] = {
	&hal_driver_tap,
	&hal_driver_udp,
	&hal_driver_afpacket,
};

const struct hal_driver *
hal_driver_builtin(size_t i)
{
	return i < ARRAY_SIZE(hal_builtin_drivers) ? hal_builtin_drivers[i] : NULL;
}

const struct hal_driver *
hal_driver_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(hal_builtin_drivers); i++)
		if (strcmp(hal_builtin_drivers[i]->name, name) == 0)
			return hal_builtin_drivers[i];
	return NULL;
}

int
hal_args_number(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	char buf[24], *end;
	unsigned long long v;

	if (len == 0 || len >= sizeof(buf) || s[0] < '0' || s[0] > '9')
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* One "key=value" of len bytes at s. */
static int
hal_args_one(const char *s, size_t len, struct hal_args *out, char *err, size_t errlen)
{
	const char *eq = memchr(s, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - s) : len;
	uint64_t v;

	if (eq == NULL) {
		snprintf(err, errlen, "argument \"%.*s\" is not key=value", (int)len, s);
		return -1;
	}
	if (klen == 3 && memcmp(s, "mtu", 3) == 0 &&
	    hal_args_number(eq + 1, len - klen - 1, 0, 65535, &v) == 0) {
		out->mtu = (uint32_t)v;
		return 0;
	}
	if (klen == 5 && memcmp(s, "speed", 5) == 0 &&
	    hal_args_number(eq + 1, len - klen - 1, 0, UINT32_MAX, &v) == 0) {
		out->speed_mbps = v;
		return 0;
	}
	snprintf(err, errlen, "argument \"%.*s\": unknown key or bad value "
	    "(expected mtu=0..65535 or speed=MBIT/S)", (int)len, s);
	return -1;
}

int
hal_args_parse(const char *args, struct hal_args *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	while (args != NULL && *args != '\0') {
		const char *comma = strchr(args, ',');
		size_t len = comma != NULL ? (size_t)(comma - args) : strlen(args);

		if (hal_args_one(args, len, out, err, errlen) < 0)
			return -1;
		args = comma != NULL ? comma + 1 : NULL;
	}
	return 0;
}
