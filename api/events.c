/*
 * GET /v1/events: server-sent events (text/event-stream).
 *
 * The parent pushes every event over a channel of its own (cnwd/events.h);
 * a thread of this process reads it into a ring of the last API_EVENTS_RING
 * events, and wakes the streams waiting for one.  A stream is a
 * libmicrohttpd callback response: when it has nothing to send it
 * suspends its connection (the pattern microhttpd.h prescribes for "no
 * data yet"), and the thread resumes it when an event arrives, or every
 * API_EVENTS_KEEPALIVE_MS to send a comment line (so proxies keep the
 * connection and a client that went away is noticed).
 *
 * Who sees what: the admin every event; a tenant token only the events of
 * its own tenant (the parent says which, once, when the stream opens).
 * A stream starts after the newest event, or after Last-Event-ID (or
 * ?since=ID) when the client resumes; events that fell out of the ring
 * meanwhile are announced by a comment, not silently skipped.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/api.h"
#include "lib/log.h"
#include "lib/util.h"

#define API_EVENTS_RING 1024
#define API_EVENTS_KEEPALIVE_MS 15000

struct api_stream {
	struct proto_principal who;
	uint64_t next_id;		/* the next event this stream has not considered */
	struct MHD_Connection *conn;
	int suspended;
	long long last_write_ms;
	char pending[2048];		/* formatted, not yet handed to MHD */
	size_t pending_len, pending_off;
	struct api_stream *next;	/* in the list of all streams */
};

static struct {
	pthread_mutex_t lock;
	int fd;				/* the parent's channel */
	struct proto_event ring[API_EVENTS_RING];
	uint64_t newest;		/* id of the newest event held, 0 none */
	uint64_t count;			/* events held (up to the ring's size) */
	struct api_stream *streams;
	int closing;
	pthread_t thread;
	int started;
} api_ev = { .lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1 };

int
api_events_setup(struct msg *m)
{
	if (m->fd < 0)
		return -1;
	if (api_ev.fd >= 0)
		close(api_ev.fd);
	api_ev.fd = m->fd;
	m->fd = -1;
	return 0;
}

/* With the lock: wake every suspended stream. */
static void
api_events_wake_all(void)
{
	for (struct api_stream *s = api_ev.streams; s != NULL; s = s->next) {
		if (s->suspended) {
			s->suspended = 0;
			MHD_resume_connection(s->conn);
		}
	}
}

static void
api_events_add(const struct proto_event *e)
{
	pthread_mutex_lock(&api_ev.lock);
	/* Ids come in order from one parent; a new parent starts again at 1. */
	if (e->id <= api_ev.newest)
		api_ev.count = 0;
	api_ev.ring[e->id % API_EVENTS_RING] = *e;
	api_ev.newest = e->id;
	if (api_ev.count < API_EVENTS_RING)
		api_ev.count++;
	api_events_wake_all();
	pthread_mutex_unlock(&api_ev.lock);
}

static void *
api_events_thread(void *arg)
{
	static struct msg m;
	char why[128];

	(void)arg;
	for (;;) {
		struct pollfd p = { .fd = api_ev.fd, .events = POLLIN };
		int rc = poll(&p, 1, API_EVENTS_KEEPALIVE_MS);

		if (rc < 0 && errno != EINTR)
			break;
		if (rc <= 0) {
			pthread_mutex_lock(&api_ev.lock);
			api_events_wake_all();		/* keep-alive comments */
			pthread_mutex_unlock(&api_ev.lock);
			continue;
		}
		rc = msg_recv(api_ev.fd, &m);
		if (rc == 0 || (rc < 0 && errno != EAGAIN && errno != EINTR))
			break;
		if (rc < 0)
			continue;
		if (m.fd >= 0)
			close(m.fd);
		if (msg_check(proto_types, proto_ntypes, &m, PROTO_FROM_PARENT, why, sizeof(why)) < 0 ||
		    m.hdr.type != MSG_EVENT) {
			log_warnx("events: unexpected message from the parent (%s); ignored", why);
			continue;
		}
		api_events_add((const struct proto_event *)m.data);
	}
	log_info("events: the parent's channel closed");
	return NULL;
}

void
api_events_start(void)
{
	if (api_ev.fd < 0)
		return;
	if (pthread_create(&api_ev.thread, NULL, api_events_thread, NULL) != 0) {
		log_warnx("events: cannot start the thread; GET /v1/events will have nothing");
		return;
	}
	api_ev.started = 1;
}

void
api_events_stop(void)
{
	pthread_mutex_lock(&api_ev.lock);
	api_ev.closing = 1;
	api_events_wake_all();
	pthread_mutex_unlock(&api_ev.lock);
}

/* Streams ----------------------------------------------------------------- */

static int
api_event_visible(const struct api_stream *s, const struct proto_event *e)
{
	return s->who.is_admin || (e->tenant[0] != '\0' && strcmp(e->tenant, s->who.tenant) == 0);
}

static json_t *
api_event_json(const struct proto_event *e)
{
	char when[64];
	time_t t = (time_t)(e->time_ms / 1000);
	struct tm tm;
	json_t *data = json_object();

	gmtime_r(&t, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(e->time_ms % 1000));
	for (uint32_t i = 0; i < e->nkv && i < PROTO_EVENT_KVS; i++) {
		json_t *v = NULL;

		if (e->kv[i].number) {
			char *end;
			long long n = strtoll(e->kv[i].value, &end, 10);
			if (*end == '\0' && end != e->kv[i].value)
				v = json_integer(n);
		}
		json_object_set_new(data, e->kv[i].key, v ? v : json_string(e->kv[i].value));
	}
	json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t)e->id, "time", when,
	    "type", e->type, "object", e->object, "data", data);
	if (e->tenant[0] != '\0')
		json_object_set_new(o, "tenant", json_string(e->tenant));
	return o;
}

/* With the lock: format what the stream should send next into pending; 0 if nothing. */
static size_t
api_stream_fill(struct api_stream *s)
{
	uint64_t oldest = api_ev.newest - api_ev.count + 1;
	char *text;
	int n;

	if (s->next_id < oldest && api_ev.count > 0 && s->next_id <= api_ev.newest) {
		n = snprintf(s->pending, sizeof(s->pending), ": %" PRIu64 " events were missed "
		    "(more than %d behind)\n\n", oldest - s->next_id, API_EVENTS_RING);
		s->next_id = oldest;
		s->pending_len = (size_t)n;
		s->pending_off = 0;
		return s->pending_len;
	}
	for (; s->next_id <= api_ev.newest; s->next_id++) {
		const struct proto_event *e = &api_ev.ring[s->next_id % API_EVENTS_RING];
		json_t *o;

		if (!api_event_visible(s, e))
			continue;
		o = api_event_json(e);
		text = api_json_dumps(o, JSON_COMPACT);
		json_decref(o);
		if (text == NULL)
			continue;
		n = snprintf(s->pending, sizeof(s->pending), "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n",
		    e->id, e->type, text);
		free(text);
		if (n < 0 || (size_t)n >= sizeof(s->pending))
			continue;	/* cannot happen with the fixed sizes of an event */
		s->next_id++;
		s->pending_len = (size_t)n;
		s->pending_off = 0;
		return s->pending_len;
	}
	return 0;
}

static ssize_t
api_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_stream *s = cls;
	long long now = cnw_now_ms();
	size_t n;

	(void)pos;
	pthread_mutex_lock(&api_ev.lock);
	if (api_ev.closing) {
		pthread_mutex_unlock(&api_ev.lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (s->pending_off == s->pending_len && api_stream_fill(s) == 0 &&
	    now - s->last_write_ms >= API_EVENTS_KEEPALIVE_MS) {
		s->pending_len = (size_t)snprintf(s->pending, sizeof(s->pending), ": keep-alive\n\n");
		s->pending_off = 0;
	}
	if (s->pending_off == s->pending_len) {
		/* Nothing now: park the connection until an event (or a keep-alive) wakes it. */
		s->suspended = 1;
		MHD_suspend_connection(s->conn);
		pthread_mutex_unlock(&api_ev.lock);
		return 0;
	}
	n = s->pending_len - s->pending_off;
	if (n > max)
		n = max;
	memcpy(buf, s->pending + s->pending_off, n);
	s->pending_off += n;
	s->last_write_ms = now;
	pthread_mutex_unlock(&api_ev.lock);
	return (ssize_t)n;
}

static void
api_stream_free(void *cls)
{
	struct api_stream *s = cls;

	pthread_mutex_lock(&api_ev.lock);
	for (struct api_stream **pp = &api_ev.streams; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&api_ev.lock);
	free(s);
}

static int
api_collect_principal(const struct msg *m, void *arg)
{
	if (m->hdr.type != MSG_REPLY_PRINCIPAL)
		return -1;
	memcpy(arg, m->data, sizeof(struct proto_principal));
	return 0;
}

/* "ID": the last event the client has; -1 if malformed. */
static int
api_events_since(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end != '\0' || errno != 0)
		return -1;
	*out = n;
	return 0;
}

void
api_events(struct api_request *req, struct api_response *resp)
{
	struct proto_request r;
	struct api_stream *s;
	const char *last = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Last-Event-ID");
	const char *since = api_query_get(req, "since");
	uint64_t after = 0;
	int have_after = 0;

	if (since != NULL || last != NULL) {
		if (api_events_since(since ? since : last, &after) < 0) {
			api_problem(resp, 400, "%s must be an event id (a whole number)",
			    since ? "since" : "Last-Event-ID");
			return;
		}
		have_after = 1;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		api_problem(resp, 500, "out of memory");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	if (api_parent_call(MSG_EVENTS_OPEN, &r, sizeof(r), api_collect_principal, &s->who,
	    resp) < 0) {
		free(s);
		return;
	}
	s->conn = req->conn;
	s->last_write_ms = cnw_now_ms();
	pthread_mutex_lock(&api_ev.lock);
	s->next_id = have_after ? after + 1 : api_ev.newest + 1;
	s->next = api_ev.streams;
	api_ev.streams = s;
	pthread_mutex_unlock(&api_ev.lock);
	resp->stream = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, api_stream_read,
	    s, api_stream_free);
	if (resp->stream == NULL) {
		api_stream_free(s);
		api_problem(resp, 500, "cannot start the event stream");
		return;
	}
	/* The first bytes go out at once, so the client knows the stream is open. */
	s->pending_len = (size_t)snprintf(s->pending, sizeof(s->pending), ": cnw events\n\n");
	resp->status = 200;
}
