/*
 * RFC 9457 problem details: every error the API answers, in one shape.
 */
#include <stdarg.h>
#include <stdio.h>

#include "api/api.h"

static const struct {
	unsigned status;
	const char *slug;
	const char *title;
} api_statuses[] = {
	{ 400, "bad-request", "Bad Request" },
	{ 401, "unauthorized", "Unauthorized" },
	{ 403, "forbidden", "Forbidden" },
	{ 404, "not-found", "Not Found" },
	{ 405, "method-not-allowed", "Method Not Allowed" },
	{ 409, "conflict", "Conflict" },
	{ 413, "payload-too-large", "Payload Too Large" },
	{ 415, "unsupported-media-type", "Unsupported Media Type" },
	{ 500, "internal", "Internal Server Error" },
	{ 503, "unavailable", "Service Unavailable" },
};

static size_t
api_status_index(unsigned status)
{
	for (size_t i = 0; i < sizeof(api_statuses) / sizeof(api_statuses[0]); i++)
		if (api_statuses[i].status == status)
			return i;
	return 8;	/* 500 */
}

const char *
api_status_title(unsigned status)
{
	return api_statuses[api_status_index(status)].title;
}

void
api_problem(struct api_response *resp, unsigned status, const char *fmt, ...)
{
	size_t i = api_status_index(status);
	char detail[512], type[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	snprintf(type, sizeof(type), "urn:cnw:problem:%s", api_statuses[i].slug);
	json_decref(resp->json);
	resp->status = api_statuses[i].status;
	resp->problem = 1;
	resp->json = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title",
	    api_statuses[i].title, "status", (int)api_statuses[i].status, "detail", detail);
}
