/*
 * What the parent says of itself: GET /v1/processes (its process table,
 * each child's sandbox) and GET /metrics (Prometheus text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

static json_t *
api_process_json(const void *rec)
{
	const struct proto_process *p = rec;
	json_t *o = json_pack("{s:s, s:s, s:i, s:s, s:I}", "role", p->role, "name", p->name,
	    "pid", (int)p->pid, "state", p->state, "restarts", (json_int_t)p->restarts);
	char cap[17];

	if (p->started_at > 0)
		json_object_set_new(o, "started_at", api_time(p->started_at));
	if (p->last_exit[0] != '\0')
		json_object_set_new(o, "last_exit", json_string(p->last_exit));
	if (p->seccomp >= 0) {
		snprintf(cap, sizeof(cap), "%016llx", (unsigned long long)p->cap_eff);
		json_object_set_new(o, "sandbox", json_pack("{s:s, s:b, s:i}", "cap_eff", cap,
		    "no_new_privs", p->no_new_privs, "seccomp", (int)p->seccomp));
	}
	return o;
}

const struct api_kind api_process_kind = {
	.req_size = sizeof(struct proto_request),
	.msg = { [API_LIST] = MSG_PROCESS_LIST },
	.many = { MSG_REPLY_PROCESSES, sizeof(struct proto_process), api_process_json },
};

struct api_text {
	char *buf;
	size_t len;
};

static int
api_collect_text(const struct msg *m, void *arg)
{
	struct api_text *t = arg;
	char *nb;

	if (m->hdr.type != MSG_REPLY_TEXT || (nb = realloc(t->buf, t->len + m->hdr.len + 1)) == NULL)
		return -1;
	memcpy(nb + t->len, m->data, m->hdr.len);
	t->buf = nb;
	t->len += m->hdr.len;
	return 0;
}

void
api_metrics(struct api_request *req, struct api_response *resp)
{
	struct proto_request r;
	struct api_text t = { 0 };

	memset(&r, 0, sizeof(r));
	r.auth = req->auth;
	if (api_parent_call(MSG_METRICS_GET, &r, sizeof(r), api_collect_text, &t, resp) < 0) {
		free(t.buf);
		return;
	}
	resp->status = 200;
	resp->raw = t.buf ? t.buf : strdup("");
	resp->raw_len = t.len;
	resp->text = 1;
}
