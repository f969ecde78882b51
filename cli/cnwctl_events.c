/*
 * cnwctl_events.c: "cnwctl events", following cnwd's event stream.
 *
 * GET /v1/events answers a server-sent event stream (text/event-stream)
 * that does not end: it is read as it comes, one line at a time (ending in
 * LF or CRLF), records ending at a blank line.  Of a record's fields only
 * "data" is used, its lines joined by LF: it holds the event's JSON, whose
 * "type" and "id" repeat the "event" and "id" fields.  Lines starting with
 * ':' are comments (the daemon's keep-alives).  Each event is printed on
 * one line and flushed, so that a pipe sees it at once; an event that is
 * not JSON is reported and skipped, and only output that cannot be written
 * stops the stream.  SIGINT ends it with exit 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cnwctl.h"

#define MAX_EVENT_BYTES		(1u << 20)	/* one line of the stream */

struct ctl_stream {
	enum ctl_format format;
	char *line;		/* the line being read, not yet ended */
	size_t len, cap;
	char *data;		/* the data lines of the record so far */
	size_t data_len;
	bool has_data;
};

static int
ctl_grow(char **buf, size_t *cap, size_t need)
{
	size_t size = *cap == 0 ? 256 : *cap;
	char *bigger;

	while (size < need)
		size *= 2;
	if (size == *cap)
		return 0;
	if ((bigger = realloc(*buf, size)) == NULL)
		return -1;
	*buf = bigger;
	*cap = size;
	return 0;
}

/* Appends a data line to the record: "data: a" and "data: b" are "a\nb". */
static int
ctl_add_data(struct ctl_stream *stream, const char *value, size_t n,
    struct cnw_error *err)
{
	size_t sep = stream->has_data ? 1 : 0;
	char *longer;

	if (stream->data_len + sep + n > MAX_EVENT_BYTES)
		return cnw_err(err, CNW_EUNAVAIL,
		    "an event from cnwd is larger than %u bytes",
		    MAX_EVENT_BYTES);
	longer = realloc(stream->data, stream->data_len + sep + n + 1);
	if (longer == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	if (sep != 0)
		longer[stream->data_len++] = '\n';
	memcpy(longer + stream->data_len, value, n);
	stream->data_len += n;
	longer[stream->data_len] = '\0';
	stream->data = longer;
	stream->has_data = true;
	return 0;
}

/* The end of a record: its event is printed and flushed. */
static int
ctl_dispatch_event(struct ctl_stream *stream, struct cnw_error *err)
{
	json_error_t jerr;
	json_t *event;
	int rc = 0;

	if (!stream->has_data)
		return 0;
	event = json_loadb(stream->data, stream->data_len, 0, &jerr);
	stream->data_len = 0;
	stream->has_data = false;
	if (event == NULL) {
		ctl_warn("cannot parse an event from cnwd: %s", jerr.text);
		return 0;
	}
	if (ctl_output_event(stdout, stream->format, event, err) < 0)
		rc = -1;
	else if (fflush(stdout) != 0)
		rc = cnw_err(err, CNW_EINTERNAL, "cannot write output: %s",
		    strerror(errno));
	json_decref(event);
	return rc;
}

/* One line, its LF removed: a field, a comment or the record's end. */
static int
ctl_stream_line(struct ctl_stream *stream, char *line, size_t n,
    struct cnw_error *err)
{
	const char *value;
	size_t name_len;

	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	if (n == 0)
		return ctl_dispatch_event(stream, err);
	if (line[0] == ':')
		return 0;
	name_len = strcspn(line, ":");
	value = line + name_len + (line[name_len] == ':');
	if (*value == ' ')
		value++;
	/* "id" and "event" say again what the data's JSON says. */
	if (name_len == 4 && strncmp(line, "data", 4) == 0)
		return ctl_add_data(stream, value, n - (size_t)(value - line),
		    err);
	return 0;
}

/* What libcurl received: split into lines, each handled as it ends. */
static int
ctl_stream_feed(void *arg, const char *chunk, size_t n,
    struct cnw_error *err)
{
	struct ctl_stream *stream = arg;
	const char *end;
	size_t part;

	while (n > 0) {
		end = memchr(chunk, '\n', n);
		part = end != NULL ? (size_t)(end - chunk) : n;
		if (stream->len + part > MAX_EVENT_BYTES)
			return cnw_err(err, CNW_EUNAVAIL,
			    "a line from cnwd is longer than %u bytes",
			    MAX_EVENT_BYTES);
		if (ctl_grow(&stream->line, &stream->cap,
		    stream->len + part + 1) != 0)
			return cnw_err(err, CNW_EINTERNAL, "out of memory");
		memcpy(stream->line + stream->len, chunk, part);
		stream->len += part;
		stream->line[stream->len] = '\0';
		if (end == NULL)
			break;
		chunk += part + 1;
		n -= part + 1;
		part = stream->len;
		stream->len = 0;
		if (ctl_stream_line(stream, stream->line, part, err) != 0)
			return -1;
	}
	return 0;
}

/*
 * GET /v1/events until SIGINT (exit 0) or until cnwd ends the stream
 * (exit 0 when it ends it cleanly, 1 when the connection breaks).
 */
int
ctl_events_follow(struct ctl_ctx *ctx, const struct ctl_command *cmd,
    int argc, char **argv, struct cnw_error *err)
{
	struct ctl_request req = { cmd->method, NULL, NULL, CTL_AUTH_BEARER,
	    "text/event-stream" };
	struct ctl_stream stream = { .format = ctx->format };
	struct ctl_reply reply = { .feed = ctl_stream_feed,
	    .feed_arg = &stream };
	struct ctl_args args = { .body = NULL };
	char *path;
	int rc;

	if ((rc = ctl_parse_args(cmd, argc, argv, &args, err)) != 0)
		return rc < 0 ? -1 : 0;
	if ((path = ctl_command_path(cmd, &args)) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	req.path = path;
	rc = ctl_api_exchange(ctx, &req, &reply, err);
	free(reply.data);
	free(stream.line);
	free(stream.data);
	free(path);
	return rc < 0 ? -1 : 0;
}
