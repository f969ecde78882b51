/*
 * The parent's side of the API process: it hands the API its listening
 * sockets and TLS material, then answers its typed requests.
 *
 * Every request is authenticated here from the bearer token it carries;
 * the API process's own checks are never trusted.  Create, list, get and
 * delete of every noun are served here from the noun's row (control.h);
 * each handler returns -1 with a cnw_error that goes back as the problem
 * the user sees.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cnwd/control.h"
#include "cnwd/events.h"
#include "lib/log.h"
#include "lib/util.h"

#include <openssl/crypto.h>

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
	if (control_send_listener(p, d->unix_fd, 0, name) < 0 || events_api_channel(d, p) < 0)
		return -1;
	if (d->tcp_fd < 0)
		return 0;
	snprintf(name, sizeof(name), "https://%.55s", d->cfg.listen);
	if (control_send_tls(p, &d->tls) < 0)
		return -1;
	return control_send_listener(p, d->tcp_fd, 1, name);
}

/* Replies ------------------------------------------------------------- */

int
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

int
control_batch_add(struct control_batch *b, const void *item)
{
	if (b->n == b->max && control_batch_flush(b, MSG_F_MORE) < 0)
		return -1;
	memcpy(b->buf + b->n * b->elem, item, b->elem);
	b->n++;
	return 0;
}

struct control_batch *
control_batch_new(struct control_call *c, uint32_t type, size_t elem, size_t max)
{
	struct control_batch *b = calloc(1, sizeof(*b));

	if (b != NULL) {
		b->call = c;
		b->type = type;
		b->elem = elem;
		b->max = max;
	}
	return b;
}

int
control_batch_finish(struct control_batch *b, int rc)
{
	if (rc == 0)
		control_batch_flush(b, 0);
	free(b);
	return rc;
}

/* Nouns: create, list, get and delete from the noun's row ---------------- */

static void
control_view(struct control_call *c, const struct control_noun *n, const void *row,
    union control_record *out)
{
	memset(out, 0, sizeof(*out));
	if (n->view != NULL)
		n->view(c, row, out);
	else
		memcpy(out, row, n->row_size);
}

int
control_reply_one(struct control_call *c, const struct control_noun *n, const void *row)
{
	union control_record v;

	control_view(c, n, row, &v);
	return control_reply(c, n->reply_one, 0, &v, n->one_size);
}

/* Create and get: the store fills a record (fn), the reply shows it. */
static int
control_noun_one(struct control_call *c, const struct control_noun *n,
    int (*fn)(struct control_call *c, void *out))
{
	union control_record r;

	if (fn(c, &r) < 0)
		return -1;
	control_reply_one(c, n, &r);
	return 0;
}

static int
control_noun_create(struct control_call *c, const struct control_noun *n)
{
	return control_noun_one(c, n, n->create);
}

static int
control_noun_get(struct control_call *c, const struct control_noun *n)
{
	return control_noun_one(c, n, n->get);
}

static int
control_noun_delete(struct control_call *c, const struct control_noun *n)
{
	if (n->del(c) < 0)
		return -1;
	control_reply(c, MSG_REPLY_DONE, 0, NULL, 0);
	return 0;
}

struct control_each {
	struct control_call *c;
	const struct control_noun *n;
	struct control_batch *b;
};

static int
control_noun_each(const void *row, void *arg)
{
	struct control_each *e = arg;
	union control_record v;

	control_view(e->c, e->n, row, &v);
	return control_batch_add(e->b, &v);
}

static int
control_noun_list(struct control_call *c, const struct control_noun *n)
{
	const struct proto_request *r = (const struct proto_request *)c->m->data;
	struct proto_generation g = { .generation = store_generation(c->d->store) };
	struct control_each e = { c, n, NULL };

	/* Authenticated already (control_api_dispatch): now, is the caller's copy current? */
	if (n->generation) {
		g.unchanged = r->generation == g.generation;
		if (control_reply(c, MSG_REPLY_GENERATION, g.unchanged ? 0 : MSG_F_MORE, &g,
		    sizeof(g)) < 0 || g.unchanged)
			return 0;
	}
	if ((e.b = control_batch_new(c, n->reply_many, n->size, n->per_msg)) == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(e.b, n->list(c, control_noun_each, &e));
}

/* Dispatch ------------------------------------------------------------- */

/* Who serves a request: a noun's generic handler, or a handler of its own. */
struct control_route {
	int (*noun_fn)(struct control_call *c, const struct control_noun *n);
	const struct control_noun *noun;
	const struct control_handler *h;
};

static const struct control_handler *
control_handler_find(const struct control_handler *table, size_t n, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].type == type)
			return &table[i];
	return NULL;
}

static int
control_route(uint32_t t, struct control_route *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < control_nnouns && t != 0; i++) {
		r->noun = &control_nouns[i];
		if (t == r->noun->msg_create)
			r->noun_fn = control_noun_create;
		else if (t == r->noun->msg_list)
			r->noun_fn = control_noun_list;
		else if (t == r->noun->msg_get)
			r->noun_fn = control_noun_get;
		else if (t == r->noun->msg_del)
			r->noun_fn = control_noun_delete;
		else
			continue;
		return 1;
	}
	if ((r->h = control_handler_find(control_noun_ops, control_noun_nops, t)) == NULL)
		r->h = control_handler_find(control_ops, control_nops, t);
	return r->h != NULL;
}

void
control_api_dispatch(struct proc *p, struct msg *m, void *ctx)
{
	struct control_call c = { .d = ctx, .p = p, .m = m };
	/* Every request payload begins with struct proto_auth (proto.h). */
	const struct proto_auth *auth = (const struct proto_auth *)m->data;
	struct control_route r;

	if (m->hdr.type == MSG_LOG_LINE) {
		const struct proto_log *l = (const struct proto_log *)m->data;
		log_emit(l->level, p->role->name, l->line);
		return;
	}
	if (!control_route(m->hdr.type, &r)) {
		log_warnx("%s: unexpected message type %u", p->label, m->hdr.type);
		return;
	}
	if (tenant_authenticate(c.d->store, auth->token, &c.who, &c.err) < 0) {
		control_reply_error(&c);
		return;
	}
	snprintf(c.actor, sizeof(c.actor), "%s%s (%s)", c.who.is_admin ? "" : "tenant:",
	    c.who.name, auth->peer);
	if ((r.noun_fn != NULL ? r.noun_fn(&c, r.noun) : r.h->fn(&c)) < 0)
		control_reply_error(&c);
}

static int
control_exit_tx(struct store *st, void *arg, struct cnw_error *err)
{
	struct proc *p = arg;

	return store_audit(st, "cnwd", "process.exit", p->label, p->last_exit, err);
}

void
control_record_exit(struct proc *p, void *ctx)
{
	struct cnwd *d = ctx;
	struct cnw_error err = { 0 };

	if (store_tx(d->store, control_exit_tx, p, &err) < 0)
		log_warnx("audit of %s exit: %s", p->label, err.msg);
	if (p != d->api)
		datapath_child_exited(d, p);
}
