/*
 * The parent's events; see events.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cnwd/cnwd.h"
#include "cnwd/events.h"
#include "lib/log.h"
#include "proto/proto.h"

static struct {
	int fd;				/* our end of the API's channel, -1 without an API */
	uint64_t next_id;
	uint64_t dropped;
} events = { .fd = -1 };

int
events_api_channel(struct cnwd *d, struct proc *p)
{
	int sv[2], rc;

	(void)d;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0) {
		log_warn("events: socketpair");
		return -1;
	}
	/* The API reads its end blocking, in a thread of its own. */
	int fl = fcntl(sv[1], F_GETFL);
	if (fl >= 0)
		(void)fcntl(sv[1], F_SETFL, fl & ~O_NONBLOCK);
	rc = proc_send(p, MSG_API_EVENTS, 0, 0, NULL, 0, &sv[1]);
	close(sv[1]);
	if (rc < 0) {
		close(sv[0]);
		return -1;
	}
	if (events.fd >= 0)
		close(events.fd);
	events.fd = sv[0];
	return 0;
}

static int64_t
events_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
events_emit(struct cnwd *d, const char *type, const char *tenant, const char *object, ...)
{
	struct proto_event e;
	char line[512];
	size_t off;
	const char *k;
	va_list ap;

	(void)d;
	memset(&e, 0, sizeof(e));
	/*
	 * Ids start at the time of the first event, in microseconds, then
	 * count: a client that resumes with Last-Event-ID after cnwd restarted
	 * is behind every new id, not ahead of them.
	 */
	if (events.next_id == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		events.next_id = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	}
	e.id = events.next_id++;
	e.time_ms = events_now_ms();
	snprintf(e.type, sizeof(e.type), "%s", type);
	snprintf(e.tenant, sizeof(e.tenant), "%s", tenant ? tenant : "");
	snprintf(e.object, sizeof(e.object), "%s", object);
	off = (size_t)snprintf(line, sizeof(line), "event %s %s", e.type, e.object);
	va_start(ap, object);
	while ((k = va_arg(ap, const char *)) != NULL) {
		const char *v = va_arg(ap, const char *);

		if (e.nkv == PROTO_EVENT_KVS || v == NULL || v[0] == '\0')
			continue;	/* an empty value says nothing */
		e.kv[e.nkv].number = k[0] == '#';
		snprintf(e.kv[e.nkv].key, sizeof(e.kv[0].key), "%s", k + e.kv[e.nkv].number);
		snprintf(e.kv[e.nkv].value, sizeof(e.kv[0].value), "%s", v ? v : "");
		if (off < sizeof(line))
			off += (size_t)snprintf(line + off, sizeof(line) - off, " %s=%s",
			    e.kv[e.nkv].key, e.kv[e.nkv].value);
		e.nkv++;
	}
	va_end(ap);
	log_info("%s", line);
	if (events.fd < 0)
		return;
	if (msg_send(events.fd, MSG_EVENT, 0, 0, &e, sizeof(e), NULL) < 0) {
		if (errno == EAGAIN || errno == ENOBUFS) {
			if (events.dropped++ == 0)
				log_warnx("events: the API is not keeping up; events dropped");
		} else {
			close(events.fd);
			events.fd = -1;
		}
	}
}
