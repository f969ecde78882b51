/*
 * The parent's side of the API process: it hands the API its listening
 * sockets and TLS material, then answers its typed requests.
 *
 * Every request is authenticated here from the bearer token it carries;
 * the API process's own checks are never trusted.  One row per request
 * type; each handler returns -1 with a cnw_error that goes back as the
 * problem the user sees.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "runtime/cnwd.h"
#include "runtime/log.h"
#include "runtime/sandbox.h"
#include "runtime/util.h"

#include <openssl/crypto.h>

struct control_call {
	struct cnwd *d;
	struct proc *p;
	const struct msg *m;
	struct principal who;
	char actor[160];		/* for the audit log: who, from where */
	struct cnw_error err;
};

static int
control_send_listener(struct proc *p, int fd, int tls, const char *name)
{
	struct proto_api_listen l;
	int copy = dup(fd);		/* the parent keeps its own across restarts */

	if (copy < 0)
		return -1;
	memset(&l, 0, sizeof(l));
	l.tls = (uint32_t)tls;
	snprintf(l.name, sizeof(l.name), "%s", name);
	if (proc_send(p, MSG_API_LISTEN, 0, 0, &l, sizeof(l), &copy) < 0) {
		if (copy >= 0)
			close(copy);
		return -1;
	}
	return 0;
}

static int
control_send_tls(struct proc *p, const struct tls_material *tls)
{
	size_t len = sizeof(struct proto_api_tls) + tls->cert_len + tls->key_len;
	cleanup_free uint8_t *buf = malloc(len);
	struct proto_api_tls h = {
		.cert_len = (uint32_t)tls->cert_len, .key_len = (uint32_t)tls->key_len,
	};
	int rc;

	if (buf == NULL)
		return -1;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), tls->cert_pem, tls->cert_len);
	memcpy(buf + sizeof(h) + tls->cert_len, tls->key_pem, tls->key_len);
	rc = proc_send(p, MSG_API_TLS, 0, 0, buf, len, NULL);
	OPENSSL_cleanse(buf, len);
	return rc;
}

int
control_api_setup(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	char name[64];

	snprintf(name, sizeof(name), "unix:%.58s", d->socket_path);
	if (control_send_listener(p, d->unix_fd, 0, name) < 0)
		return -1;
	if (d->tcp_fd < 0)
		return 0;
	snprintf(name, sizeof(name), "https://%.55s", d->cfg.listen);
	if (control_send_tls(p, &d->tls) < 0)
		return -1;
	return control_send_listener(p, d->tcp_fd, 1, name);
}

/* Replies ------------------------------------------------------------- */

static int
control_reply(struct control_call *c, uint32_t type, uint32_t flags, const void *payload,
    size_t len)
{
	return proc_send(c->p, type, c->m->hdr.id, flags, payload, len, NULL);
}

static void
control_reply_error(struct control_call *c)
{
	struct proto_error e;

	memset(&e, 0, sizeof(e));
	e.status = c->err.kind ? c->err.kind : CNW_EINTERNAL;
	snprintf(e.detail, sizeof(e.detail), "%s", c->err.msg[0] ? c->err.msg : "internal error");
	control_reply(c, MSG_REPLY_ERROR, 0, &e, sizeof(e));
}

static int
control_reply_tenant(struct control_call *c, const struct tenant *t, const char *token)
{
	struct proto_tenant_reply r;
	int rc;

	memset(&r, 0, sizeof(r));
	r.tenant = *t;
	if (token != NULL)
		snprintf(r.token, sizeof(r.token), "%s", token);
	rc = control_reply(c, MSG_REPLY_TENANT, 0, &r, sizeof(r));
	OPENSSL_cleanse(r.token, sizeof(r.token));
	return rc;
}

/* Handlers ------------------------------------------------------------ */

static const struct proto_tenant_request *
control_tenant_req(struct control_call *c)
{
	return (const struct proto_tenant_request *)c->m->data;
}

static int
control_tenant_create(struct control_call *c)
{
	struct tenant t;
	char token[TOKEN_HEX_LEN + 1];
	int rc;

	if (tenant_create(c->d->store, &c->who, c->actor, &control_tenant_req(c)->spec, &t,
	    token, &c->err) < 0)
		return -1;
	rc = control_reply_tenant(c, &t, token);
	OPENSSL_cleanse(token, sizeof(token));
	log_info("tenant %s created by %s", t.name, c->actor);
	(void)rc;	/* a failed send already restarted the API */
	return 0;
}

static int
control_tenant_get(struct control_call *c)
{
	struct tenant t;

	if (tenant_get(c->d->store, &c->who, control_tenant_req(c)->spec.name, &t, &c->err) < 0)
		return -1;
	control_reply_tenant(c, &t, NULL);
	return 0;
}

static int
control_tenant_update(struct control_call *c)
{
	struct tenant t;

	if (tenant_update(c->d->store, &c->who, c->actor, &control_tenant_req(c)->spec, &t,
	    &c->err) < 0)
		return -1;
	control_reply_tenant(c, &t, NULL);
	log_info("tenant %s changed by %s", t.name, c->actor);
	return 0;
}

static int
control_tenant_delete(struct control_call *c)
{
	const struct proto_tenant_request *r = control_tenant_req(c);

	if (tenant_delete(c->d->store, &c->who, c->actor, r->spec.name, r->cascade != 0,
	    &c->err) < 0)
		return -1;
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	log_info("tenant %s deleted by %s", r->spec.name, c->actor);
	return 0;
}

/* Batches list items into as few messages as fit. */
struct control_batch {
	struct control_call *call;
	uint32_t type;
	size_t elem, n, max;
	uint8_t buf[MSG_MAX_PAYLOAD];
};

static int
control_batch_flush(struct control_batch *b, uint32_t flags)
{
	int rc = control_reply(b->call, b->type, flags, b->buf, b->n * b->elem);

	b->n = 0;
	return rc;
}

static int
control_batch_add(struct control_batch *b, const void *item)
{
	if (b->n == b->max && control_batch_flush(b, MSG_F_MORE) < 0)
		return -1;
	memcpy(b->buf + b->n * b->elem, item, b->elem);
	b->n++;
	return 0;
}

static int
control_tenant_each(const struct tenant *t, void *arg)
{
	return control_batch_add(arg, t);
}

static int
control_tenant_list(struct control_call *c)
{
	struct control_batch *b = calloc(1, sizeof(*b));
	int rc;

	if (b == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	b->call = c;
	b->type = MSG_REPLY_TENANTS;
	b->elem = sizeof(struct tenant);
	b->max = PROTO_TENANTS_PER_MSG;
	rc = tenant_list(c->d->store, &c->who, control_tenant_each, b, &c->err);
	if (rc == 0)
		control_batch_flush(b, 0);
	free(b);
	return rc;
}

static void
control_process_fill(const struct proc *p, struct proto_process *out)
{
	struct sandbox_state sb;

	memset(out, 0, sizeof(*out));
	snprintf(out->role, sizeof(out->role), "%s", p->role->name);
	snprintf(out->state, sizeof(out->state), "%s", proc_state_name(p->state));
	snprintf(out->last_exit, sizeof(out->last_exit), "%s", p->last_exit);
	out->pid = p->pid;
	out->restarts = p->restarts;
	out->started_at = p->started_at;
	out->seccomp = -1;		/* unknown unless read below */
	if (p->pid > 0 && sandbox_read_state(p->pid, &sb) == 0) {
		out->cap_eff = sb.cap_eff;
		out->no_new_privs = sb.no_new_privs;
		out->seccomp = sb.seccomp;
	}
}

static int
control_process_list(struct control_call *c)
{
	struct proto_process items[PROC_MAX];
	struct proc_table *t = &c->d->procs;

	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "listing processes needs the admin token");
	for (unsigned i = 0; i < t->n; i++)
		control_process_fill(&t->procs[i], &items[i]);
	control_reply(c, MSG_REPLY_PROCESSES, 0, items, t->n * sizeof(items[0]));
	return 0;
}

static const struct control_handler {
	uint32_t type;
	int (*fn)(struct control_call *c);
} control_handlers[] = {
	{ MSG_TENANT_CREATE, control_tenant_create },
	{ MSG_TENANT_LIST, control_tenant_list },
	{ MSG_TENANT_GET, control_tenant_get },
	{ MSG_TENANT_UPDATE, control_tenant_update },
	{ MSG_TENANT_DELETE, control_tenant_delete },
	{ MSG_PROCESS_LIST, control_process_list },
};

static void
control_request(struct control_call *c, const struct control_handler *h)
{
	/* Every request payload begins with struct proto_auth (proto.h). */
	const struct proto_auth *auth = (const struct proto_auth *)c->m->data;

	if (tenant_authenticate(c->d->store, auth->token, &c->who, &c->err) < 0) {
		control_reply_error(c);
		return;
	}
	snprintf(c->actor, sizeof(c->actor), "%s%s (%s)", c->who.is_admin ? "" : "tenant:",
	    c->who.name, auth->peer);
	if (h->fn(c) < 0)
		control_reply_error(c);
}

void
control_api_dispatch(struct proc *p, struct msg *m, void *ctx)
{
	struct control_call c = { .d = ctx, .p = p, .m = m };

	if (m->hdr.type == MSG_LOG_LINE) {
		const struct proto_log *l = (const struct proto_log *)m->data;
		log_emit(l->level, p->role->name, l->line);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(control_handlers); i++) {
		if (control_handlers[i].type == m->hdr.type) {
			control_request(&c, &control_handlers[i]);
			return;
		}
	}
	log_warnx("%s: unexpected message type %u", p->role->name, m->hdr.type);
}

static int
control_exit_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct proc *p = arg;

	return store_audit(st, "cnwd", "process.exit", p->role->name, p->last_exit, err);
}

void
control_record_exit(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	struct cnw_error err = { 0 };

	if (store_tx(d->store, control_exit_tx, p, &err) < 0)
		log_warnx("audit of %s exit: %s", p->role->name, err.msg);
}
