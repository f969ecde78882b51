/*
 * httpload — a small closed-loop HTTP/1.1 load generator for Unix sockets.
 *
 * The API benchmark (bench/api-bench.sh) needs the request rate and the
 * per-request latency of cnwd's REST API over its real Unix socket. The
 * usual tools either cannot connect to an AF_UNIX socket (wrk, ab) or spend
 * more CPU per request than the server they measure (curl in a loop), which
 * on a two-core host would measure the client instead of the server.
 * httpload keeps N keep-alive connections, each with exactly one request in
 * flight (closed loop: a connection sends its next request only when the
 * previous response is complete), drives all of them from one epoll loop in
 * one thread, times every request with CLOCK_MONOTONIC from its first byte
 * written to its last byte read, and prints one machine-readable line:
 *
 *   requests=N errors=N seconds=S rps=R mean_us=U p50_us=U p90_us=U
 *   p99_us=U max_us=U connections=N
 *
 * Responses must carry Content-Length (or be 204/304); a chunked or
 * unframed response, a malformed status line or an unsolicited byte is a
 * fatal error, because a load generator that guesses at framing produces
 * figures nobody can trust. Every non-2xx status counts as an error and the
 * first one is shown on stderr with the start of its body; a request lost
 * because the server closed its connection counts as a request and an
 * error, and a new connection takes its place. requests/errors/rps count
 * all of them; the latencies are those of the responses received. The
 * seconds run from the first request sent to the last response received
 * (with --duration, requests in flight at the deadline are completed).
 * It is a benchmark tool: it never decides pass or fail of anything.
 */
#ifndef _GNU_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* memmem, strcasecmp; the build may define it already */
#endif
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "lib/util.h"

#define HL_HEADERS_MAX      8192     /* extra request headers, all together */
#define HL_TEMPLATE_MAX     4096     /* body template; %d expands to <= 20 */
#define HL_OUT_CAP          (HL_HEADERS_MAX + 20 * HL_TEMPLATE_MAX + 1024)
#define HL_IN_INITIAL       (64 * 1024)
#define HL_RESPONSE_MAX     (64u * 1024 * 1024)
#define HL_HEAD_MAX         (64 * 1024)
#define HL_EVENTS           64

struct hl_config {
	const char *socket_path;
	const char *method;
	const char *path;
	const char *body_template;
	char headers[HL_HEADERS_MAX];   /* "Name: value\r\n" lines */
	size_t headers_len;
	unsigned connections;
	double duration_s;              /* used when requests == 0 */
	uint64_t requests;
	uint64_t seq_start;             /* first value of %d */
	double stall_timeout_s;
};

/* One keep-alive connection with at most one request in flight. */
struct hl_conn {
	int fd;
	bool busy;                      /* a request is in flight */
	bool want_out;                  /* EPOLLOUT is armed */
	char *out;
	size_t out_len, out_off;
	char *in;
	size_t in_len, in_cap;
	size_t head_len;                /* 0 until the header block is parsed */
	size_t body_len;
	int status;
	bool server_closes;             /* "Connection: close" seen */
	uint64_t started_ns;
};

struct hl_stats {
	uint64_t *lat_ns;
	size_t n, cap;
	uint64_t errors;                /* non-2xx responses and lost requests */
	uint64_t lost;                  /* requests whose connection closed */
	bool error_shown;
};

struct hl_run {
	struct hl_config cfg;
	int epfd;
	struct hl_conn *conns;
	uint64_t issued;
	uint64_t seq;
	uint64_t t0_ns, t_end_ns, deadline_ns, last_progress_ns;
	struct hl_stats stats;
};

/* ---- small helpers ---------------------------------------------------- */

static void hl_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void hl_fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("httpload: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *hl_xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		hl_fatal("out of memory (%zu bytes)", n);
	return p;
}

static void *hl_xrealloc(void *old, size_t n)
{
	void *p = realloc(old, n);

	if (p == NULL)
		hl_fatal("out of memory (%zu bytes)", n);
	return p;
}

/* ---- command line ----------------------------------------------------- */

static void hl_usage(FILE *f)
{
	fputs("usage: httpload --socket PATH [--header 'Name: value']... "
	      "[--method GET|POST|...]\n"
	      "                [--path /v1/tenants] [--body-template '{\"name\":\"b%d\"}'] "
	      "[--seq-start N]\n"
	      "                [--connections N] [--duration SEC | --requests N] "
	      "[--stall-timeout SEC]\n", f);
}

static uint64_t hl_parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "httpload: %s: expected an integer in %" PRIu64 "..%" PRIu64
			", got '%s'\n", opt, min, max, s);
		exit(2);
	}
	return v;
}

static double hl_parse_seconds(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v > 0.0) || v > 86400.0) {
		fprintf(stderr, "httpload: %s: expected seconds in (0, 86400], got '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

static void hl_add_header(struct hl_config *cfg, const char *h)
{
	size_t len = strlen(h);

	if (strchr(h, ':') == NULL || strpbrk(h, "\r\n") != NULL) {
		fprintf(stderr, "httpload: --header: expected 'Name: value', got '%s'\n", h);
		exit(2);
	}
	if (cfg->headers_len + len + 3 > sizeof(cfg->headers)) {
		fprintf(stderr, "httpload: --header: too many header bytes\n");
		exit(2);
	}
	memcpy(cfg->headers + cfg->headers_len, h, len);
	memcpy(cfg->headers + cfg->headers_len + len, "\r\n", 3);
	cfg->headers_len += len + 2;
}

static void hl_check_config(const struct hl_config *cfg)
{
	struct sockaddr_un sun;

	if (cfg->socket_path == NULL) {
		hl_usage(stderr);
		exit(2);
	}
	if (strlen(cfg->socket_path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "httpload: --socket: path too long\n");
		exit(2);
	}
	if (cfg->path[0] != '/' || strpbrk(cfg->path, " \r\n") != NULL ||
	    strpbrk(cfg->method, " \r\n") != NULL || cfg->method[0] == '\0') {
		fprintf(stderr, "httpload: bad --method or --path\n");
		exit(2);
	}
	if (cfg->body_template != NULL && strlen(cfg->body_template) > HL_TEMPLATE_MAX) {
		fprintf(stderr, "httpload: --body-template: longer than %d bytes\n", HL_TEMPLATE_MAX);
		exit(2);
	}
}

static void hl_parse_args(struct hl_config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "header", required_argument, NULL, 'H' },
		{ "method", required_argument, NULL, 'm' },
		{ "path", required_argument, NULL, 'p' },
		{ "body-template", required_argument, NULL, 'b' },
		{ "seq-start", required_argument, NULL, 'S' },
		{ "connections", required_argument, NULL, 'c' },
		{ "duration", required_argument, NULL, 'd' },
		{ "requests", required_argument, NULL, 'n' },
		{ "stall-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool duration_given = false;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->method = "GET";
	cfg->path = "/v1/tenants";
	cfg->connections = 1;
	cfg->duration_s = 5.0;
	cfg->stall_timeout_s = 30.0;
	while ((c = getopt_long(argc, argv, "s:H:m:p:b:S:c:d:n:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': cfg->socket_path = optarg; break;
		case 'H': hl_add_header(cfg, optarg); break;
		case 'm': cfg->method = optarg; break;
		case 'p': cfg->path = optarg; break;
		case 'b': cfg->body_template = optarg; break;
		case 'S': cfg->seq_start = hl_parse_u64("--seq-start", optarg, 0, UINT64_MAX / 2); break;
		case 'c': cfg->connections = (unsigned)hl_parse_u64("--connections", optarg, 1, 1024); break;
		case 'd': cfg->duration_s = hl_parse_seconds("--duration", optarg); duration_given = true; break;
		case 'n': cfg->requests = hl_parse_u64("--requests", optarg, 1, 100000000); break;
		case 't': cfg->stall_timeout_s = hl_parse_seconds("--stall-timeout", optarg); break;
		case 'h': hl_usage(stdout); exit(0);
		default: hl_usage(stderr); exit(2);
		}
	}
	if (optind != argc || (duration_given && cfg->requests > 0)) {
		hl_usage(stderr);
		exit(2);
	}
	hl_check_config(cfg);
}

/* ---- requests --------------------------------------------------------- */

/* Expands "%d" to seq and "%%" to "%"; any other '%' is copied as is.
 * Done by hand rather than with snprintf(template) so that a template can
 * never be a format string. Returns the length written (<= cap-1). */
static size_t hl_render_body(const char *tmpl, uint64_t seq, char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = tmpl; *p != '\0' && n + 21 < cap; p++) {
		if (p[0] == '%' && p[1] == 'd') {
			n += (size_t)snprintf(out + n, cap - n, "%" PRIu64, seq);
			p++;
		} else if (p[0] == '%' && p[1] == '%') {
			out[n++] = '%';
			p++;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
	return n;
}

static void hl_build_request(struct hl_run *run, struct hl_conn *c)
{
	const struct hl_config *cfg = &run->cfg;
	char body[20 * HL_TEMPLATE_MAX + 32];
	size_t body_len = 0;
	int n;

	if (cfg->body_template != NULL)
		body_len = hl_render_body(cfg->body_template, run->seq++, body, sizeof(body));
	n = snprintf(c->out, HL_OUT_CAP,
		     "%s %s HTTP/1.1\r\nHost: localhost\r\n%.*s", cfg->method, cfg->path,
		     (int)cfg->headers_len, cfg->headers);
	if (cfg->body_template != NULL)
		n += snprintf(c->out + n, HL_OUT_CAP - (size_t)n,
			      "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			      body_len, body);
	else
		n += snprintf(c->out + n, HL_OUT_CAP - (size_t)n, "\r\n");
	if (n < 0 || (size_t)n >= HL_OUT_CAP)
		hl_fatal("request does not fit in %d bytes", HL_OUT_CAP);
	c->out_len = (size_t)n;
	c->out_off = 0;
}

static void hl_set_events(struct hl_run *run, struct hl_conn *c, bool want_out)
{
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == want_out)
		return;
	if (epoll_ctl(run->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		hl_fatal("epoll_ctl: %s", strerror(errno));
	c->want_out = want_out;
}

/* Writes what the socket takes; arms EPOLLOUT only after a short write. */
static void hl_flush(struct hl_run *run, struct hl_conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			hl_set_events(run, c, true);
			return;
		}
		if (w < 0 && (errno == EPIPE || errno == ECONNRESET))
			return;     /* the peer closed: EPOLLIN|EPOLLHUP reports it */
		if (w < 0)
			hl_fatal("send: %s", strerror(errno));
		c->out_off += (size_t)w;
	}
	hl_set_events(run, c, false);
}

static bool hl_may_issue(const struct hl_run *run, uint64_t now)
{
	if (run->cfg.requests > 0)
		return run->issued < run->cfg.requests;
	return now < run->deadline_ns;
}

static void hl_issue(struct hl_run *run, struct hl_conn *c, uint64_t now)
{
	hl_build_request(run, c);
	c->busy = true;
	c->head_len = 0;
	c->started_ns = now;
	run->issued++;
	hl_flush(run, c);
}

/* ---- connections ------------------------------------------------------ */

static int hl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		hl_fatal("socket: %s", strerror(errno));
	strcpy(sun.sun_path, path);     /* length checked in hl_check_config */
	/* A blocking connect: a non-blocking one to a Unix socket whose
	 * backlog is full fails with EAGAIN instead of waiting. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		hl_fatal("connect %s: %s", path, strerror(errno));
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		hl_fatal("fcntl: %s", strerror(errno));
	return fd;
}

static void hl_conn_open(struct hl_run *run, struct hl_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };

	c->fd = hl_connect(run->cfg.socket_path);
	c->want_out = false;
	c->in_len = 0;
	c->head_len = 0;
	c->busy = false;
	if (epoll_ctl(run->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		hl_fatal("epoll_ctl: %s", strerror(errno));
}

static void hl_conn_close(struct hl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);       /* close() also removes it from the epoll set */
	c->fd = -1;
	c->busy = false;
}

static void hl_conns_init(struct hl_run *run)
{
	run->conns = calloc(run->cfg.connections, sizeof(*run->conns));
	if (run->conns == NULL)
		hl_fatal("out of memory");
	for (unsigned i = 0; i < run->cfg.connections; i++) {
		struct hl_conn *c = &run->conns[i];

		c->out = hl_xmalloc(HL_OUT_CAP);
		c->in_cap = HL_IN_INITIAL;
		c->in = hl_xmalloc(c->in_cap);
		hl_conn_open(run, c);
	}
}

/* ---- responses -------------------------------------------------------- */

static bool hl_header_is(const char *line, size_t len, const char *name, const char **value)
{
	size_t nlen = strlen(name);
	const char *v;

	if (len <= nlen || line[nlen] != ':' || strncasecmp(line, name, nlen) != 0)
		return false;
	v = line + nlen + 1;
	while (v < line + len && (*v == ' ' || *v == '\t'))
		v++;
	*value = v;
	return true;
}

static void hl_parse_header_line(struct hl_conn *c, const char *line, size_t len,
				 bool *have_length)
{
	const char *v;
	char *end;

	if (hl_header_is(line, len, "Content-Length", &v)) {
		unsigned long long n = strtoull(v, &end, 10);

		if (end == v || n > HL_RESPONSE_MAX)
			hl_fatal("bad Content-Length: %.*s", (int)len, line);
		c->body_len = (size_t)n;
		*have_length = true;
	} else if (hl_header_is(line, len, "Transfer-Encoding", &v)) {
		hl_fatal("response uses Transfer-Encoding (%.*s); httpload needs Content-Length",
			 (int)len, line);
	} else if (hl_header_is(line, len, "Connection", &v)) {
		c->server_closes = strncasecmp(v, "close", 5) == 0;
	}
}

static void hl_parse_status(struct hl_conn *c, const char *line, size_t len)
{
	if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0 || line[8] != ' ' ||
	    line[9] < '1' || line[9] > '5' || line[10] < '0' || line[10] > '9' ||
	    line[11] < '0' || line[11] > '9')
		hl_fatal("malformed status line: %.*s", (int)(len > 80 ? 80 : len), line);
	c->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (c->status < 200)
		hl_fatal("interim response %d: httpload never sends Expect", c->status);
}

/* Parses the header block once it is complete; sets head_len/body_len.
 * Returns false while the block is still incomplete. */
static bool hl_parse_head(struct hl_conn *c)
{
	const char *end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
	const char *line = c->in, *eol;
	bool have_length = false;

	if (end == NULL) {
		if (c->in_len > HL_HEAD_MAX)
			hl_fatal("response header block larger than %d bytes", HL_HEAD_MAX);
		return false;
	}
	c->server_closes = false;
	c->body_len = 0;
	eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
	hl_parse_status(c, line, (size_t)(eol - line));
	for (line = eol + 2; line < end + 2; line = eol + 2) {
		eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
		hl_parse_header_line(c, line, (size_t)(eol - line), &have_length);
	}
	if (!have_length && c->status != 204 && c->status != 304)
		hl_fatal("response %d without Content-Length", c->status);
	c->head_len = (size_t)(end + 4 - c->in);
	return true;
}

static void hl_record(struct hl_run *run, struct hl_conn *c, uint64_t now)
{
	struct hl_stats *st = &run->stats;

	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 65536;
		st->lat_ns = hl_xrealloc(st->lat_ns, st->cap * sizeof(*st->lat_ns));
	}
	st->lat_ns[st->n++] = now - c->started_ns;
	if (c->status >= 200 && c->status < 300)
		return;
	st->errors++;
	if (!st->error_shown) {
		size_t show = c->body_len < 300 ? c->body_len : 300;

		fprintf(stderr, "httpload: first error: status %d: %.*s\n", c->status,
			(int)show, c->in + c->head_len);
		st->error_shown = true;
	}
}

/* Completes the response in flight if all of it has arrived. Returns
 * false while it is still incomplete. */
static bool hl_complete(struct hl_run *run, struct hl_conn *c)
{
	uint64_t now;
	size_t total;

	if (!c->busy) {
		if (c->in_len > 0)
			hl_fatal("server sent %zu bytes with no request in flight", c->in_len);
		return false;
	}
	if (c->head_len == 0 && !hl_parse_head(c))
		return false;
	total = c->head_len + c->body_len;
	if (c->in_len < total)
		return false;
	if (c->in_len > total)
		hl_fatal("server sent %zu bytes after the response", c->in_len - total);
	now = cnw_now_ns();
	hl_record(run, c, now);
	c->busy = false;
	c->in_len = 0;
	c->head_len = 0;
	run->t_end_ns = run->last_progress_ns = now;
	return true;
}

static void hl_ensure_in_space(struct hl_conn *c)
{
	size_t want = c->in_len + 16384;

	if (c->head_len > 0 && c->head_len + c->body_len + 1 > want)
		want = c->head_len + c->body_len + 1;
	if (want <= c->in_cap)
		return;
	if (want > HL_RESPONSE_MAX + HL_HEAD_MAX)
		hl_fatal("response larger than %u bytes", HL_RESPONSE_MAX);
	while (c->in_cap < want)
		c->in_cap *= 2;
	c->in = hl_xrealloc(c->in, c->in_cap);
}

/* Reads until the socket is drained. Returns false on end of file or a
 * reset; what arrived before it stays in the buffer. */
static bool hl_drain(struct hl_conn *c)
{
	for (;;) {
		ssize_t r;

		hl_ensure_in_space(c);
		r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
		if (r > 0)
			c->in_len += (size_t)r;
		else if (r < 0 && errno == EINTR)
			continue;
		else if (r < 0 && errno == EAGAIN)
			return true;
		else if (r == 0 || errno == ECONNRESET || errno == EPIPE)
			return false;
		else
			hl_fatal("recv: %s", strerror(errno));
	}
}

/* The connection ends: the server said "Connection: close", or closed.
 * A request still in flight is lost and counts as an error. A new
 * connection replaces it only if there is more to send. */
static void hl_reconnect(struct hl_run *run, struct hl_conn *c, uint64_t now)
{
	if (c->busy) {
		if (run->stats.lost++ < 3)
			fprintf(stderr, "httpload: connection lost with a request in flight\n");
		run->stats.errors++;
	}
	hl_conn_close(c);
	if (!hl_may_issue(run, now))
		return;
	hl_conn_open(run, c);
	hl_issue(run, c, now);
}

static void hl_read(struct hl_run *run, struct hl_conn *c)
{
	bool open = hl_drain(c);
	bool done = hl_complete(run, c);
	uint64_t now = cnw_now_ns();

	if (!open || (done && c->server_closes))
		hl_reconnect(run, c, now);
	else if (!c->busy && hl_may_issue(run, now))
		hl_issue(run, c, now);
}

/* ---- the loop and the report ----------------------------------------- */

static void hl_on_event(struct hl_run *run, struct hl_conn *c, uint32_t events)
{
	if (c->fd < 0)
		return;
	if ((events & EPOLLOUT) && c->busy)
		hl_flush(run, c);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		hl_read(run, c);
}

static bool hl_any_busy(const struct hl_run *run)
{
	for (unsigned i = 0; i < run->cfg.connections; i++)
		if (run->conns[i].busy)
			return true;
	return false;
}

static void hl_check_stall(const struct hl_run *run)
{
	uint64_t idle = cnw_now_ns() - run->last_progress_ns;

	if ((double)idle / 1e9 > run->cfg.stall_timeout_s)
		hl_fatal("no response for %.0f s (server stalled?)", run->cfg.stall_timeout_s);
}

static void hl_loop(struct hl_run *run)
{
	struct epoll_event events[HL_EVENTS];

	run->t0_ns = run->last_progress_ns = run->t_end_ns = cnw_now_ns();
	run->deadline_ns = run->t0_ns + (uint64_t)(run->cfg.duration_s * 1e9);
	for (unsigned i = 0; i < run->cfg.connections; i++)
		if (hl_may_issue(run, run->t0_ns))
			hl_issue(run, &run->conns[i], run->t0_ns);
	while (hl_any_busy(run)) {
		int n = epoll_wait(run->epfd, events, HL_EVENTS, 1000);

		if (n < 0 && errno != EINTR)
			hl_fatal("epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			hl_on_event(run, events[i].data.ptr, events[i].events);
		hl_check_stall(run);
	}
}

static int hl_cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of a sorted array, in microseconds. */
static uint64_t hl_percentile_us(const uint64_t *sorted, size_t n, double p)
{
	size_t rank;

	if (n == 0)
		return 0;
	rank = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return (sorted[rank - 1] + 500) / 1000;
}

static void hl_report(struct hl_run *run)
{
	struct hl_stats *st = &run->stats;
	double secs = (double)(run->t_end_ns - run->t0_ns) / 1e9;
	uint64_t requests = st->n + st->lost;
	double sum = 0;

	qsort(st->lat_ns, st->n, sizeof(*st->lat_ns), hl_cmp_u64);
	for (size_t i = 0; i < st->n; i++)
		sum += (double)st->lat_ns[i];
	printf("requests=%" PRIu64 " errors=%" PRIu64 " seconds=%.3f rps=%.1f mean_us=%.0f"
	       " p50_us=%" PRIu64 " p90_us=%" PRIu64 " p99_us=%" PRIu64 " max_us=%" PRIu64
	       " connections=%u\n",
	       requests, st->errors, secs, secs > 0 ? (double)requests / secs : 0.0,
	       st->n ? sum / (double)st->n / 1000.0 : 0.0,
	       hl_percentile_us(st->lat_ns, st->n, 50), hl_percentile_us(st->lat_ns, st->n, 90),
	       hl_percentile_us(st->lat_ns, st->n, 99), hl_percentile_us(st->lat_ns, st->n, 100),
	       run->cfg.connections);
}

static void hl_free(struct hl_run *run)
{
	for (unsigned i = 0; i < run->cfg.connections; i++) {
		hl_conn_close(&run->conns[i]);
		free(run->conns[i].out);
		free(run->conns[i].in);
	}
	free(run->conns);
	free(run->stats.lat_ns);
	close(run->epfd);
}

int main(int argc, char **argv)
{
	static struct hl_run run;

	hl_parse_args(&run.cfg, argc, argv);
	run.seq = run.cfg.seq_start;
	signal(SIGPIPE, SIG_IGN);
	run.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (run.epfd < 0)
		hl_fatal("epoll_create1: %s", strerror(errno));
	hl_conns_init(&run);
	hl_loop(&run);
	hl_report(&run);
	hl_free(&run);
	return 0;
}
