/*
 * The driver role (cnwd/roles.c): the child side of a driver process,
 * between the parent's messages and the driver host of hal/host.h.
 *
 * Set-up, before MSG_CHILD_START: MSG_DRIVER_CONFIG, _DEVICE, _REGION,
 * _KICK, _EMU and _PLUGIN, each checked for its size and handed to the
 * host.  Then, sandboxed, the host runs; a MSG_DRIVER_EMU while it does is
 * checked (proto/proto.h) and applied live, and what the host reports goes
 * to the parent as MSG_DRIVER_LINK and MSG_DRIVER_EMU_STATS.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cnwd/roles.h"
#include "hal/host.h"
#include "lib/log.h"
#include "lib/msg.h"
#include "netfn/shm.h"
#include "proto/proto.h"

/* A descriptor the host took is no longer the message's. */
static int
role_driver_took(struct msg *m, int rc)
{
	if (rc == 0)
		m->fd = -1;
	return rc;
}

int
role_driver_setup(int sock, struct msg *m)
{
	union {
		struct hal_config config;
		struct port_kick kick;
		struct shm_size region;
		struct hal_emu_cfg emu;
		struct hal_plugin_cfg plugin;
	} u;

	(void)sock;
	switch (m->hdr.type) {
	case MSG_DRIVER_EMU:
		if (m->hdr.len != sizeof(u.emu))
			return -1;
		memcpy(&u.emu, m->data, sizeof(u.emu));
		hal_host_set_emu(&u.emu);
		return 0;
	case MSG_DRIVER_PLUGIN:
		if (m->hdr.len != sizeof(u.plugin))
			return -1;
		memcpy(&u.plugin, m->data, sizeof(u.plugin));
		return role_driver_took(m, hal_host_set_plugin(&u.plugin, m->fd));
	case MSG_DRIVER_CONFIG:
		if (m->hdr.len != sizeof(u.config))
			return -1;
		memcpy(&u.config, m->data, sizeof(u.config));
		return hal_host_set_config(&u.config);
	case MSG_DRIVER_DEVICE:
		return role_driver_took(m, hal_host_set_device(m->fd));
	case MSG_DRIVER_REGION:
		if (m->hdr.len != sizeof(u.region))
			return -1;
		memcpy(&u.region, m->data, sizeof(u.region));
		return role_driver_took(m, hal_host_set_region(m->fd, u.region.size));
	case MSG_DRIVER_KICK:
		if (m->hdr.len != sizeof(u.kick))
			return -1;
		memcpy(&u.kick, m->data, sizeof(u.kick));
		return role_driver_took(m, hal_host_set_kick(&u.kick, m->fd));
	default:
		return -1;
	}
}

/* The parent's socket is readable: 1 when it has gone (end of file), 0 otherwise. */
static int
role_driver_parent(void *arg)
{
	static struct msg m;
	int rc = msg_recv(*(const int *)arg, &m);

	if (rc == 0 || (rc < 0 && (errno == ECONNRESET || errno == EPIPE)))
		return 1;
	if (rc < 0) {
		if (errno != EAGAIN)
			log_warn("%s: message from the parent", hal_host_name());
		return 0;
	}
	if (m.fd >= 0)
		close(m.fd);
	if (m.hdr.type == MSG_DRIVER_EMU && m.hdr.len == sizeof(struct hal_emu_cfg)) {
		struct hal_emu_cfg e;
		char why[128];

		memcpy(&e, m.data, sizeof(e));
		/* The parent checked it; a driver checks what it is sent all the same. */
		if (msg_check(proto_types, proto_ntypes, &m, PROTO_FROM_PARENT, why,
		    sizeof(why)) < 0) {
			log_warnx("%s: emulation from the parent refused: %s", hal_host_name(), why);
			return 0;
		}
		hal_host_set_emu(&e);
		return 0;
	}
	log_warnx("%s: unexpected message %u from the parent; ignored", hal_host_name(),
	    m.hdr.type);
	return 0;
}

static int
role_driver_link(void *arg, const struct hal_link_msg *l)
{
	return msg_send(*(const int *)arg, MSG_DRIVER_LINK, 0, 0, l, sizeof(*l), NULL);
}

static int
role_driver_emu_stats(void *arg, const struct hal_emu_stats *s)
{
	return msg_send(*(const int *)arg, MSG_DRIVER_EMU_STATS, 0, 0, s, sizeof(*s), NULL);
}

int
role_driver_main(int sock)
{
	const struct hal_host_calls calls = {
		.parent = role_driver_parent,
		.link = role_driver_link,
		.emu_stats = role_driver_emu_stats,
		.arg = &sock,
	};

	return hal_host_main(sock, &calls);
}
