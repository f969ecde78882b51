/*
 * bare_mhd — the baseline of the API benchmark: libmicrohttpd with nothing
 * behind it.
 *
 * bench/api-bench.sh reports cnwd's REST figures as a ratio against this
 * server, measured in the same run on the same host, so that the figure
 * says what cnwd's own work costs (the privilege-separated round trip from
 * the API child to the root parent, SQLite, JSON) rather than how fast the
 * machine is. To make the two comparable it is set up the way cnwd's API
 * process is: one libmicrohttpd daemon with one internal polling thread on
 * epoll (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL), listening on an
 * AF_UNIX stream socket that we create, bind and listen on ourselves and
 * hand over with MHD_OPTION_LISTEN_SOCKET. Every request, whatever its
 * method, path or body, is answered 200 with one fixed JSON body (by
 * default about the size of a 100-tenant list) built once at start. It
 * runs until SIGTERM or SIGINT, then stops the daemon, removes the socket
 * and exits 0.
 *
 * usage: bare_mhd --socket PATH [--body-size BYTES]
 */
#ifndef _GNU_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE     /* the build may define it already */
#endif
#endif
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <microhttpd.h>

#define BARE_BODY_DEFAULT   20000
#define BARE_BODY_MAX       (16 * 1024 * 1024)
#define BARE_BACKLOG        128

static void bare_usage(FILE *f)
{
	fputs("usage: bare_mhd --socket PATH [--body-size BYTES]\n", f);
}

static void bare_fatal(const char *what)
{
	fprintf(stderr, "bare_mhd: %s: %s\n", what, strerror(errno));
	exit(1);
}

static size_t bare_parse_size(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < 16 || v > BARE_BODY_MAX) {
		fprintf(stderr, "bare_mhd: --body-size: expected 16..%d, got '%s'\n",
			BARE_BODY_MAX, s);
		exit(2);
	}
	return v;
}

static void bare_parse_args(int argc, char **argv, const char **path, size_t *size)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "body-size", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*path = NULL;
	*size = BARE_BODY_DEFAULT;
	while ((c = getopt_long(argc, argv, "s:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': *path = optarg; break;
		case 'b': *size = bare_parse_size(optarg); break;
		case 'h': bare_usage(stdout); exit(0);
		default: bare_usage(stderr); exit(2);
		}
	}
	if (*path == NULL || optind != argc) {
		bare_usage(stderr);
		exit(2);
	}
}

/* A tenant-list-shaped JSON document of exactly `size` bytes: as many
 * tenant objects as fit, then blanks (valid JSON whitespace) to pad. */
static char *bare_make_body(size_t size)
{
	static const char tenant[] =
		"{\"name\":\"t%03u\",\"description\":\"benchmark tenant %03u\","
		"\"quotas\":{\"networks\":16,\"bandwidth_kbps\":1000000,\"flows\":65536},"
		"\"created_at\":\"2026-11-20T21:45:00Z\",\"updated_at\":\"2026-11-20T21:45:00Z\"}";
	char *body = malloc(size + 1), one[512];
	size_t n = 0;

	if (body == NULL)
		bare_fatal("malloc");
	n += (size_t)snprintf(body, size + 1, "{\"items\":[");
	for (unsigned i = 0;; i++) {
		int len = snprintf(one, sizeof(one), tenant, i % 1000, i % 1000);

		if (n + (size_t)len + 3 > size)
			break;
		if (i > 0)
			body[n++] = ',';
		memcpy(body + n, one, (size_t)len);
		n += (size_t)len;
	}
	memcpy(body + n, "]}", 2);
	n += 2;
	memset(body + n, ' ', size - n);
	body[size] = '\0';
	return body;
}

static int bare_listen(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bare_mhd: socket path too long: %s\n", path);
		exit(2);
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		bare_fatal("socket");
	if (unlink(path) < 0 && errno != ENOENT)
		bare_fatal("unlink");
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		bare_fatal(path);
	if (listen(fd, BARE_BACKLOG) < 0)
		bare_fatal("listen");
	return fd;
}

/* MHD calls this first with the headers (we only mark the request as
 * seen), then once per piece of body (ignored), then once with nothing
 * left: that is when the fixed response is queued. */
static enum MHD_Result bare_handle(void *cls, struct MHD_Connection *conn, const char *url,
				   const char *method, const char *version,
				   const char *upload_data, size_t *upload_data_size,
				   void **req_cls)
{
	static int seen;
	struct MHD_Response *response = cls;

	(void)url, (void)method, (void)version, (void)upload_data;
	if (*req_cls == NULL) {
		*req_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, response);
}

static struct MHD_Response *bare_make_response(size_t size)
{
	char *body = bare_make_body(size);
	struct MHD_Response *r;

	/* Built once and queued on every request: MHD reference-counts it. */
	r = MHD_create_response_from_buffer(size, body, MHD_RESPMEM_MUST_FREE);
	if (r == NULL || MHD_add_response_header(r, "Content-Type", "application/json") != MHD_YES) {
		fprintf(stderr, "bare_mhd: cannot build the response\n");
		exit(1);
	}
	return r;
}

/* Blocks SIGTERM and SIGINT before MHD starts its thread (which inherits
 * the mask), so that only sigwait() in main sees them. */
static void bare_block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		bare_fatal("sigprocmask");
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	const char *path;
	size_t size;
	sigset_t set;
	struct MHD_Response *response;
	struct MHD_Daemon *daemon;
	int fd, sig = 0;

	bare_parse_args(argc, argv, &path, &size);
	bare_block_signals(&set);
	response = bare_make_response(size);
	fd = bare_listen(path);
	daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
				  MHD_USE_ERROR_LOG, 0, NULL, NULL, bare_handle, response,
				  MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_END);
	if (daemon == NULL) {
		fprintf(stderr, "bare_mhd: MHD_start_daemon failed\n");
		unlink(path);
		return 1;
	}
	fprintf(stderr, "bare_mhd: listening on %s, %zu-byte body\n", path, size);
	while (sigwait(&set, &sig) != 0)
		;
	MHD_stop_daemon(daemon);        /* also closes fd, which it owns now */
	MHD_destroy_response(response);
	unlink(path);
	fprintf(stderr, "bare_mhd: stopped by signal %d\n", sig);
	return 0;
}
