/*
 * cnwctl_http.c: one REST request to cnwd and its reply.
 *
 * libcurl speaks HTTP over cnwd's Unix socket (CURLOPT_UNIX_SOCKET_PATH);
 * the host part of the URL is never resolved.  A request carries the
 * bearer token unless it is GET /v1, waits at most REQUEST_TIMEOUT_S, and
 * its reply is collected up to MAX_REPLY_BYTES.  An error reply is an
 * RFC 9457 problem: its "detail" is what the user reads.  A stream (the
 * events) has no time limit; its body goes to the caller as it comes, and
 * SIGINT ends it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli/cnwctl.h"

#define REQUEST_TIMEOUT_S	30L
#define MAX_REPLY_BYTES		(64u << 20)

/* SIGINT during a stream: it ends, and cnwctl exits 0. */
static volatile sig_atomic_t ctl_interrupted;

static void
ctl_on_interrupt(int sig)
{
	(void)sig;
	ctl_interrupted = 1;
}

/* Whether the headers are in and say 2xx: the body is then the stream. */
static bool
ctl_reply_succeeded(const struct ctl_reply *reply)
{
	long status = 0;

	curl_easy_getinfo(reply->curl, CURLINFO_RESPONSE_CODE, &status);
	return status / 100 == 2;
}

static size_t
ctl_collect_reply(char *chunk, size_t size, size_t nmemb, void *userdata)
{
	struct ctl_reply *reply = userdata;
	size_t n = size * nmemb;
	char *grown;

	if (reply->feed != NULL && ctl_reply_succeeded(reply))
		return reply->feed(reply->feed_arg, chunk, n,
		    &reply->stream_err) == 0 ? n : 0;
	if (n > MAX_REPLY_BYTES - reply->len) {
		reply->too_large = true;
		return 0;
	}
	if ((grown = realloc(reply->data, reply->len + n + 1)) == NULL)
		return 0;
	memcpy(grown + reply->len, chunk, n);
	reply->len += n;
	grown[reply->len] = '\0';
	reply->data = grown;
	return n;
}

/* Appends "NAME: VALUE"; returns -1 when memory runs out. */
static int
ctl_add_header(struct curl_slist **headers, const char *name,
    const char *value)
{
	struct curl_slist *longer;
	char *line;

	if (asprintf(&line, "%s:%s%s", name, *value != '\0' ? " " : "",
	    value) < 0)
		return -1;
	longer = curl_slist_append(*headers, line);
	free(line);
	if (longer == NULL)
		return -1;
	*headers = longer;
	return 0;
}

/* Returns -1 when memory runs out; *HEADERS is freed by the caller. */
static int
ctl_build_headers(const struct ctl_ctx *ctx, const struct ctl_request *req,
    struct curl_slist **headers)
{
	char *auth;
	int rc;

	if (ctl_add_header(headers, "Accept", req->accept != NULL ?
	    req->accept : "application/json") < 0)
		return -1;
	/* Bodies are tiny; never wait for a 100-continue. */
	if (ctl_add_header(headers, "Expect", "") < 0)
		return -1;
	if (req->body != NULL &&
	    ctl_add_header(headers, "Content-Type", "application/json") < 0)
		return -1;
	if (req->auth != CTL_AUTH_BEARER)
		return 0;
	if (asprintf(&auth, "Bearer %s", ctx->token) < 0)
		return -1;
	rc = ctl_add_header(headers, "Authorization", auth);
	free(auth);
	return rc;
}

/*
 * libcurl calls this now and then while a transfer runs, and again as soon
 * as a signal interrupts its wait: the way out of a stream on SIGINT.
 */
static int
ctl_check_interrupt(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	(void)arg;
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return ctl_interrupted ? 1 : 0;
}

/* The options of the transfer; a stream (FEED) has no time limit. */
static CURLcode
ctl_setup(CURL *curl, const struct ctl_ctx *ctx, const char *url,
    const char *method, const char *payload, struct curl_slist *headers,
    struct ctl_reply *reply)
{
	bool stream = reply->feed != NULL;
	CURLcode res;

	if ((res = curl_easy_setopt(curl, CURLOPT_URL, url)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH,
	    ctx->socket_path)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST,
	    method)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_TIMEOUT,
	    stream ? 0L : REQUEST_TIMEOUT_S)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_USERAGENT,
	    "cnwctl")) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_HTTPHEADER,
	    headers)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION,
	    ctl_collect_reply)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_WRITEDATA,
	    reply)) != CURLE_OK)
		return res;
	if (payload != NULL &&
	    ((res = curl_easy_setopt(curl, CURLOPT_POSTFIELDS,
	    payload)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
	    (curl_off_t)strlen(payload))) != CURLE_OK))
		return res;
	if (stream &&
	    ((res = curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION,
	    ctl_check_interrupt)) != CURLE_OK ||
	    (res = curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L)) != CURLE_OK))
		return res;
	return CURLE_OK;
}

static int
ctl_transport_error(const struct ctl_ctx *ctx, CURL *curl, CURLcode res,
    const struct ctl_reply *reply, struct cnw_error *err)
{
	long os_errno = 0;

	if (reply->too_large)
		return cnw_err(err, CNW_EUNAVAIL,
		    "reply from cnwd is larger than %u bytes", MAX_REPLY_BYTES);
	if (res == CURLE_OPERATION_TIMEDOUT)
		return cnw_err(err, CNW_EUNAVAIL,
		    "cnwd at %s did not answer within %ld s", ctx->socket_path,
		    REQUEST_TIMEOUT_S);
	if (reply->feed != NULL && ctl_reply_succeeded(reply))
		return cnw_err(err, CNW_EUNAVAIL,
		    "the stream from cnwd at %s broke: %s", ctx->socket_path,
		    curl_easy_strerror(res));
	/* The errno says why better than curl's "localhost port 80" text. */
	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
	if (os_errno != 0)
		return cnw_err(err, CNW_EUNAVAIL,
		    "cannot reach cnwd at %s: %s (%s)", ctx->socket_path,
		    curl_easy_strerror(res), strerror((int)os_errno));
	return cnw_err(err, CNW_EUNAVAIL, "cannot reach cnwd at %s: %s",
	    ctx->socket_path, curl_easy_strerror(res));
}

/* 1 when SIGINT ended a stream; a stream's own error is the feed's. */
static int
ctl_perform(const struct ctl_ctx *ctx, CURL *curl, struct ctl_reply *reply,
    struct cnw_error *err)
{
	CURLcode res = curl_easy_perform(curl);

	if (res == CURLE_ABORTED_BY_CALLBACK && ctl_interrupted)
		return 1;
	if (res == CURLE_WRITE_ERROR && reply->feed != NULL &&
	    ctl_reply_succeeded(reply)) {
		*err = reply->stream_err;
		return -1;
	}
	if (res != CURLE_OK)
		return ctl_transport_error(ctx, curl, res, reply, err);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply->status);
	return 0;
}

/* No SA_RESTART: the signal must cut libcurl's wait short. */
static int
ctl_catch_interrupt(struct cnw_error *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = ctl_on_interrupt;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, NULL) != 0)
		return cnw_err(err, CNW_EINTERNAL, "cannot catch SIGINT: %s",
		    strerror(errno));
	return 0;
}

/* Sends REQ and collects the raw reply. */
static int
ctl_send(const struct ctl_ctx *ctx, const struct ctl_request *req,
    struct ctl_reply *reply, struct cnw_error *err)
{
	struct curl_slist *headers = NULL;
	char *payload = NULL, *url = NULL;
	CURL *curl;
	int rc;

	if (asprintf(&url, "http://localhost%s", req->path) < 0)
		url = NULL;
	if ((curl = curl_easy_init()) == NULL || url == NULL ||
	    ctl_build_headers(ctx, req, &headers) < 0 ||
	    (req->body != NULL &&
	    (payload = json_dumps(req->body, JSON_COMPACT)) == NULL))
		rc = cnw_err(err, CNW_EINTERNAL, "out of memory");
	else if (ctl_setup(curl, ctx, url, req->method, payload, headers,
	    reply) != CURLE_OK)
		rc = cnw_err(err, CNW_EINTERNAL, "cannot set up libcurl");
	else {
		reply->curl = curl;
		rc = ctl_perform(ctx, curl, reply, err);
		reply->curl = NULL;
	}
	curl_easy_cleanup(curl);
	curl_slist_free_all(headers);
	free(payload);
	free(url);
	return rc;
}

/* An error reply: its problem detail, else its title. */
static int
ctl_problem(const struct ctl_reply *reply, struct cnw_error *err)
{
	json_t *problem = json_loadb(reply->data != NULL ? reply->data : "",
	    reply->len, 0, NULL);
	const char *detail, *title;
	int rc;

	detail = json_string_value(json_object_get(problem, "detail"));
	title = json_string_value(json_object_get(problem, "title"));
	if (detail != NULL && *detail != '\0')
		rc = cnw_err(err, CNW_EUNAVAIL, "%s", detail);
	else if (title != NULL && *title != '\0')
		rc = cnw_err(err, CNW_EUNAVAIL, "%s", title);
	else
		rc = cnw_err(err, CNW_EUNAVAIL, "cnwd answered HTTP %ld",
		    reply->status);
	json_decref(problem);
	return rc;
}

/*
 * Sends one request: 0 with the raw 2xx reply in *REPLY, whatever its
 * content type; for a stream, 1 when SIGINT ended it; -1 with ERR filled
 * (for an error reply, its problem detail).  The caller frees reply->data.
 */
int
ctl_api_exchange(struct ctl_ctx *ctx, const struct ctl_request *req,
    struct ctl_reply *reply, struct cnw_error *err)
{
	int rc;

	if (req->auth == CTL_AUTH_BEARER && ctl_token_load(ctx, err) < 0)
		return -1;
	if (reply->feed != NULL && ctl_catch_interrupt(err) < 0)
		return -1;
	if ((rc = ctl_send(ctx, req, reply, err)) != 0)
		return rc;
	if (reply->status / 100 != 2)
		return ctl_problem(reply, err);
	return 0;
}

/*
 * Sends one request: 0 with the reply's JSON in *JSON (NULL for an empty
 * reply, a 204), or -1 with ERR filled.
 */
int
ctl_api_call(struct ctl_ctx *ctx, const struct ctl_request *req,
    json_t **json, struct cnw_error *err)
{
	struct ctl_reply reply = { 0 };
	json_error_t jerr;
	int rc;

	*json = NULL;
	if ((rc = ctl_api_exchange(ctx, req, &reply, err)) == 0 &&
	    reply.len > 0 &&
	    (*json = json_loadb(reply.data, reply.len, 0, &jerr)) == NULL)
		rc = cnw_err(err, CNW_EUNAVAIL,
		    "cannot parse the reply of cnwd: %s", jerr.text);
	free(reply.data);
	return rc;
}

/* TEXT escaped for a URL: one path segment or one query value. */
char *
ctl_escape(const char *text)
{
	return curl_easy_escape(NULL, text, 0);
}

void
ctl_escape_free(char *escaped)
{
	curl_free(escaped);
}
