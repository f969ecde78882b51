/*
 * The API process's main: libmicrohttpd servers on the listening sockets
 * the parent handed over, one internal thread each (the Unix socket always,
 * TCP with TLS when configured).
 *
 * Per request: collect the body (at most 1 MiB, else 413: at once when the
 * client waits for 100-continue or announces over 4 MiB, else after the
 * body, read and dropped), note the bearer token and who is on the other
 * end of the socket, route, render.  Nothing here decides what
 * a caller may do: the parent does, from the token.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "api/api.h"
#include "lib/log.h"
#include "lib/token.h"
#include "lib/util.h"

#define API_MAX_LISTENERS 2

static struct {
	int fd;
	int tls;
	char name[64];
} api_listeners[API_MAX_LISTENERS];
static unsigned api_nlisteners;
static char *api_tls_cert, *api_tls_key;

/*
 * jansson seeds its hash tables from /dev/urandom on first use; do it now,
 * while files can still be opened.
 */
void
api_child_prepare(void)
{
	json_object_seed(0);
}

int
api_child_setup(int sock, struct msg *m)
{
	if (m->hdr.type == MSG_API_LISTEN && m->fd >= 0 && api_nlisteners < API_MAX_LISTENERS) {
		const struct proto_api_listen *l = (const struct proto_api_listen *)m->data;

		api_listeners[api_nlisteners].fd = m->fd;
		api_listeners[api_nlisteners].tls = l->tls != 0;
		snprintf(api_listeners[api_nlisteners].name, 64, "%s", l->name);
		api_nlisteners++;
		m->fd = -1;		/* ours now */
		return 0;
	}
	if (m->hdr.type == MSG_API_EVENTS)
		return api_events_setup(m);
	if (m->hdr.type == MSG_API_TLS) {
		const struct proto_api_tls *t = (const struct proto_api_tls *)m->data;
		const char *pem = (const char *)m->data + sizeof(*t);

		free(api_tls_cert);
		free(api_tls_key);
		api_tls_cert = strndup(pem, t->cert_len);
		api_tls_key = strndup(pem + t->cert_len, t->key_len);
		return api_tls_cert && api_tls_key ? 0 : -1;
	}
	return -1;
}

/* Request state ------------------------------------------------------- */

struct api_conn {
	char *body;
	size_t len;
	int too_large;
	int unauthenticated;	/* body read and dropped; answer 401 */
};

static void
api_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct api_conn *c = *con_cls;

	if (c != NULL) {
		free(c->body);
		free(c);
		*con_cls = NULL;
	}
}

static enum MHD_Result
api_queue(struct MHD_Connection *conn, struct api_response *resp)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = NULL;
	size_t len = 0;

	if (resp->stream != NULL) {
		r = resp->stream;
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
		MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
		ret = MHD_queue_response(conn, resp->status, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (resp->raw != NULL) {
		text = steal_ptr(&resp->raw);
		len = resp->raw_len;
	} else if (resp->json != NULL) {
		text = api_json_dumps(resp->json, JSON_COMPACT);
		if (text != NULL) {
			len = strlen(text);
			text[len++] = '\n';	/* json_dumps leaves room: replaces the NUL */
		}
	}
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(text);
		return MHD_NO;
	}
	if (len > 0)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
		    resp->text ? "text/plain; version=0.0.4" :
		    resp->problem ? "application/problem+json" : "application/json");
	if (resp->location[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, resp->location);
	if (resp->allow[0] != '\0')
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, resp->allow);
	if (resp->status == 401)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"cnw\"");
	ret = MHD_queue_response(conn, resp->status, r);
	MHD_destroy_response(r);
	json_decref(resp->json);
	resp->json = NULL;
	return ret;
}

/* Headers and peer ---------------------------------------------------- */

static void
api_auth_token(struct MHD_Connection *conn, struct proto_auth *auth)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);

	auth->token[0] = '\0';
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return;
	h += 7;
	h += strspn(h, " ");
	/* Only a well-formed token is passed on; anything else is simply none. */
	if (token_is_wellformed(h))
		memcpy(auth->token, h, TOKEN_HEX_LEN + 1);
}

static void
api_peer(struct MHD_Connection *conn, struct proto_auth *auth)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct ucred cred;
	socklen_t len = sizeof(cred);
	char host[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr *sa;

	if (ci != NULL && getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
	    len == sizeof(cred) && cred.pid > 0) {
		snprintf(auth->peer, sizeof(auth->peer), "unix uid=%d pid=%d", (int)cred.uid,
		    (int)cred.pid);
		return;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	sa = ci ? ci->client_addr : NULL;
	if (sa != NULL && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
		snprintf(auth->peer, sizeof(auth->peer), "tcp %s:%u", host, ntohs(in->sin_port));
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
		snprintf(auth->peer, sizeof(auth->peer), "tcp [%s]:%u", host, ntohs(in6->sin6_port));
	} else {
		snprintf(auth->peer, sizeof(auth->peer), "unknown");
	}
}

/* JSON or nothing: a body of any other declared type is refused. */
static int
api_content_type_ok(struct MHD_Connection *conn)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	size_t n = strlen("application/json");

	return ct == NULL || (strncasecmp(ct, "application/json", n) == 0 &&
	    (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' '));
}

/* Query parameters, for routes.c (api.h). */

const char *
api_query_get(struct api_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct api_query_scan {
	const char *const *allowed;
	const char *unknown;
};

static enum MHD_Result
api_query_check(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct api_query_scan *s = cls;

	for (const char *const *a = s->allowed; a != NULL && *a != NULL; a++)
		if (strcmp(*a, key) == 0)
			return MHD_YES;
	s->unknown = key;
	return MHD_NO;
}

const char *
api_query_unknown(struct api_request *req, const char *const *allowed)
{
	struct api_query_scan s = { .allowed = allowed };

	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, api_query_check, &s);
	return s.unknown;
}

/* The access handler ------------------------------------------------- */

static enum MHD_Result
api_first_call(struct MHD_Connection *conn, const char *method, const char *url,
    void **con_cls)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	unsigned long long announced = cl != NULL ? strtoull(cl, NULL, 10) : 0;
	struct api_conn *c = calloc(1, sizeof(*c));
	struct api_response resp = { 0 };
	struct proto_auth auth;

	if (c == NULL)
		return MHD_NO;
	*con_cls = c;
	/*
	 * Without a well-formed token only GET /v1 is served: the body of any
	 * other request is read and dropped, never kept, and the answer is 401
	 * (read, so that the client is not cut off while still sending).
	 */
	api_auth_token(conn, &auth);
	c->unauthenticated = auth.token[0] == '\0' &&
	    !(strcmp(method, "GET") == 0 && strcmp(url, "/v1") == 0);
	if (announced > API_BODY_MAX) {
		/*
		 * A client that asked "Expect: 100-continue" has sent nothing yet,
		 * and one announcing more than API_BODY_DISCARD_MAX is not worth
		 * reading: answer at once, and MHD closes the connection.  Any
		 * other is sending its body now; closing under it could reset the
		 * connection before it reads the answer, so read and drop the
		 * body and answer 413 at its end, as for a chunked one.
		 */
		if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_EXPECT) != NULL ||
		    announced > API_BODY_DISCARD_MAX) {
			api_problem(&resp, 413, "the body is larger than %d bytes", API_BODY_MAX);
			return api_queue(conn, &resp);
		}
		c->too_large = 1;
	}
	return MHD_YES;
}

static void
api_take_body(struct api_conn *c, const char *data, size_t size)
{
	char *nb;

	if (c->too_large)
		return;
	if (c->unauthenticated) {
		c->len += size;
		c->too_large = c->len > API_BODY_MAX;
		return;
	}
	if (c->len + size > API_BODY_MAX || (nb = realloc(c->body, c->len + size + 1)) == NULL) {
		c->too_large = 1;	/* keep reading, discard, answer 413 at the end */
		free(c->body);
		c->body = NULL;
		c->len = 0;
		return;
	}
	memcpy(nb + c->len, data, size);
	c->body = nb;
	c->len += size;
	c->body[c->len] = '\0';
}

static enum MHD_Result
api_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct api_conn *c = *con_cls;
	struct api_request req;
	struct api_response resp = { 0 };

	if (c == NULL)
		return api_first_call(conn, method, url, con_cls);
	if (*upload_data_size > 0) {
		api_take_body(c, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (c->too_large) {
		api_problem(&resp, 413, "the body is larger than %d bytes", API_BODY_MAX);
		return api_queue(conn, &resp);
	}
	if (c->unauthenticated) {
		api_problem(&resp, 401, "a bearer token is needed (Authorization: Bearer TOKEN)");
		return api_queue(conn, &resp);
	}
	if (c->len > 0 && !api_content_type_ok(conn)) {
		api_problem(&resp, 415, "the body must be JSON (Content-Type: application/json)");
		return api_queue(conn, &resp);
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.conn = conn;
	req.body = c->body;
	req.body_len = c->len;
	api_auth_token(conn, &req.auth);
	api_peer(conn, &req.auth);
	api_route_request(&req, &resp);
	return api_queue(conn, &resp);
}

static void
api_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("microhttpd: %s", line);
}

static struct MHD_Daemon *
api_start_listener(unsigned i)
{
	/* ITC: so that MHD_quiesce_daemon() can stop the thread's accept (below). */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	struct MHD_Daemon *d;

	if (api_listeners[i].tls) {
		if (api_tls_cert == NULL) {
			log_warnx("%s: TLS requested without a certificate", api_listeners[i].name);
			return NULL;
		}
		d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, api_access, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
		    MHD_OPTION_LISTEN_SOCKET, api_listeners[i].fd,
		    MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		    MHD_OPTION_HTTPS_MEM_CERT, api_tls_cert,
		    MHD_OPTION_HTTPS_MEM_KEY, api_tls_key,
		    MHD_OPTION_END);
	} else {
		d = MHD_start_daemon(flags, 0, NULL, NULL, api_access, NULL,
		    MHD_OPTION_EXTERNAL_LOGGER, api_mhd_log, NULL,
		    MHD_OPTION_LISTEN_SOCKET, api_listeners[i].fd,
		    MHD_OPTION_NOTIFY_COMPLETED, api_completed, NULL,
		    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
		    MHD_OPTION_END);
	}
	if (d == NULL) {
		/* The Unix socket's API must not die with a bad TLS listener. */
		if (api_listeners[i].tls) {
			log_warnx("%s: cannot start the HTTPS server; serving without it",
			    api_listeners[i].name);
			return NULL;
		}
		fatalx("%s: cannot start the HTTP server", api_listeners[i].name);
	}
	log_info("serving %s", api_listeners[i].name);
	return d;
}

int
api_child_main(int sock)
{
	struct MHD_Daemon *daemons[API_MAX_LISTENERS];
	sigset_t set;
	int sig;

	if (api_nlisteners == 0)
		fatalx("no listening socket from the parent");
	api_parent_init(sock);
	/* Block before the server threads start, so they inherit the mask. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	api_events_start();
	for (unsigned i = 0; i < api_nlisteners; i++)
		daemons[i] = api_start_listener(i);
	sigdelset(&set, SIGPIPE);
	do
		sig = 0, sigwait(&set, &sig);
	while (sig != SIGTERM && sig != SIGINT);
	/*
	 * The listening sockets are the parent's, shared with the next API
	 * process: quiesce first so that MHD_stop_daemon() does not shut them
	 * down (shutdown(2) acts on the socket, not on our descriptor).
	 */
	/* Event streams end first: a suspended connection would hold MHD_stop_daemon(). */
	api_events_stop();
	for (unsigned i = 0; i < api_nlisteners; i++) {
		if (daemons[i] == NULL)
			continue;
		MHD_quiesce_daemon(daemons[i]);
		MHD_stop_daemon(daemons[i]);
	}
	return 0;
}
