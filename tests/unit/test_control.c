/*
 * The parent's answers to the API (cnwd/control*.c), driven as the API
 * drives them: real requests through control_api_dispatch(), replies read
 * from the other end of a socketpair and checked against the protocol's
 * table, and a real temporary store behind them.  Tenants (with their
 * generation), peers and policies go through the generic create, list,
 * get and delete of their nouns' rows.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cnwd/cnwd.h"
#include "lib/store.h"
#include "lib/token.h"
#include "proto/proto.h"
#include "tests/unit/fixture_store.h"

struct fixture {
	struct fixture_store s;
	struct cnwd *d;
	struct proc p;
	int api;			/* the API's end of the socketpair */
	uint32_t id;
	char admin[TOKEN_HEX_LEN + 1];
	struct msg *m;			/* the last reply */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct cnw_error err = { 0 };
	uint8_t hash[TOKEN_HASH_LEN];
	int sv[2];

	assert_non_null(f);
	fixture_store_open(&f->s, "control");
	assert_non_null(f->d = calloc(1, sizeof(*f->d)));
	assert_non_null(f->m = malloc(sizeof(*f->m)));
	f->d->store = f->s.st;
	snprintf(f->d->cfg.instance, sizeof(f->d->cfg.instance), "test");
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	f->p.sock = sv[0];
	f->api = sv[1];
	snprintf(f->p.label, sizeof(f->p.label), "api");
	assert_int_equal(token_generate(f->admin), 0);
	token_hash(f->admin, hash);
	assert_int_equal(store_admin_token_set(f->s.st, hash, &err), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	close(f->p.sock);
	close(f->api);
	fixture_store_close(&f->s);
	free(f->m);
	free(f->d);
	free(f);
	return 0;
}

/* A request as the API sends it: auth first, with this token. */
static void
request(struct fixture *f, uint32_t type, void *payload, size_t len, const char *token)
{
	struct msg *m = malloc(sizeof(*m));
	struct proto_auth *auth = payload;

	assert_non_null(m);
	snprintf(auth->token, sizeof(auth->token), "%s", token);
	snprintf(auth->peer, sizeof(auth->peer), "unix uid=0 pid=1");
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->hdr.type = type;
	m->hdr.len = (uint32_t)len;
	m->hdr.id = ++f->id;
	m->fd = -1;
	memcpy(m->data, payload, len);
	control_api_dispatch(&f->p, m, f->d);
	free(m);
}

/* The next reply: of this request, well-formed, of this type. */
static void
reply(struct fixture *f, uint32_t type)
{
	char why[128];

	assert_int_equal(msg_recv(f->api, f->m), 1);
	if (msg_check(proto_types, proto_ntypes, f->m, PROTO_FROM_PARENT, why, sizeof(why)) < 0)
		fail_msg("reply refused by the protocol's table: %s", why);
	assert_int_equal(f->m->hdr.id, f->id);
	if (f->m->hdr.type != type)
		fail_msg("reply of type %u (%s), not %u", f->m->hdr.type,
		    f->m->hdr.type == MSG_REPLY_ERROR ?
		    ((struct proto_error *)f->m->data)->detail : "", type);
}

static void
reply_error(struct fixture *f, int32_t status)
{
	reply(f, MSG_REPLY_ERROR);
	assert_int_equal(((struct proto_error *)f->m->data)->status, status);
}

static void
no_reply(struct fixture *f)
{
	assert_int_equal(recv(f->api, f->m->data, 1, MSG_DONTWAIT), -1);
}

static void
tenant_request(struct fixture *f, uint32_t type, const char *name, const char *token)
{
	struct proto_tenant_request r;

	memset(&r, 0, sizeof(r));
	snprintf(r.spec.name, sizeof(r.spec.name), "%s", name);
	r.cascade = 1;
	request(f, type, &r, sizeof(r), token);
}

/* A new tenant; its token in token. */
static void
make_tenant(struct fixture *f, const char *name, char token[TOKEN_HEX_LEN + 1])
{
	const struct proto_tenant_reply *r;

	tenant_request(f, MSG_TENANT_CREATE, name, f->admin);
	reply(f, MSG_REPLY_TENANT);
	r = (const struct proto_tenant_reply *)f->m->data;
	assert_string_equal(r->tenant.name, name);
	assert_true(token_is_wellformed(r->token));
	snprintf(token, TOKEN_HEX_LEN + 1, "%s", r->token);
}

/* A list of tenants: its generation, and how many tenants its one part has. */
static uint32_t
list_tenants(struct fixture *f, const char *token, uint64_t known, uint64_t *generation)
{
	struct proto_request r;
	const struct proto_generation *g;

	memset(&r, 0, sizeof(r));
	r.generation = known;
	request(f, MSG_TENANT_LIST, &r, sizeof(r), token);
	reply(f, MSG_REPLY_GENERATION);
	g = (const struct proto_generation *)f->m->data;
	*generation = g->generation;
	if (g->unchanged) {
		assert_int_equal(f->m->hdr.flags, 0);
		return UINT32_MAX;
	}
	assert_int_equal(f->m->hdr.flags, MSG_F_MORE);
	reply(f, MSG_REPLY_TENANTS);
	assert_int_equal(f->m->hdr.flags, 0);
	return f->m->hdr.len / sizeof(struct tenant);
}

static void
test_tenant_create_list_get_delete(void **state)
{
	struct fixture *f = *state;
	char token[TOKEN_HEX_LEN + 1];
	const struct proto_tenant_reply *r;
	uint64_t gen, again;

	make_tenant(f, "alpha", token);
	assert_int_equal(list_tenants(f, f->admin, 0, &gen), 1);
	assert_string_equal(((const struct tenant *)f->m->data)->name, "alpha");
	/* The caller's copy is current: the generation alone, nothing after it. */
	assert_int_equal(list_tenants(f, f->admin, gen, &again), UINT32_MAX);
	assert_true(again == gen);

	tenant_request(f, MSG_TENANT_GET, "alpha", f->admin);
	reply(f, MSG_REPLY_TENANT);
	r = (const struct proto_tenant_reply *)f->m->data;
	assert_string_equal(r->tenant.name, "alpha");
	assert_string_equal(r->token, "");	/* only create shows the token */

	tenant_request(f, MSG_TENANT_DELETE, "alpha", f->admin);
	reply(f, MSG_REPLY_DONE);
	assert_int_equal(f->m->hdr.len, 0);
	assert_int_equal(list_tenants(f, f->admin, gen, &again), 0);
	assert_true(again > gen);
	tenant_request(f, MSG_TENANT_GET, "alpha", f->admin);
	reply_error(f, 404);
	no_reply(f);
}

static void
test_unknown_names_are_404(void **state)
{
	struct fixture *f = *state;
	struct proto_peer_request pr;
	struct proto_policy_request pl;
	char token[TOKEN_HEX_LEN + 1];

	tenant_request(f, MSG_TENANT_GET, "nope", f->admin);
	reply_error(f, 404);
	tenant_request(f, MSG_TENANT_DELETE, "nope", f->admin);
	reply_error(f, 404);
	memset(&pr, 0, sizeof(pr));
	snprintf(pr.spec.name, sizeof(pr.spec.name), "nope");
	request(f, MSG_PEER_GET, &pr, sizeof(pr), f->admin);
	reply_error(f, 404);
	make_tenant(f, "alpha", token);
	memset(&pl, 0, sizeof(pl));
	snprintf(pl.spec.p.tenant, sizeof(pl.spec.p.tenant), "alpha");
	snprintf(pl.spec.p.name, sizeof(pl.spec.p.name), "nope");
	request(f, MSG_POLICY_GET, &pl, sizeof(pl), f->admin);
	reply_error(f, 404);
	request(f, MSG_POLICY_DELETE, &pl, sizeof(pl), f->admin);
	reply_error(f, 404);
	no_reply(f);
}

static void
test_tenant_token_sees_only_its_tenant(void **state)
{
	struct fixture *f = *state;
	char alpha[TOKEN_HEX_LEN + 1], beta[TOKEN_HEX_LEN + 1];
	struct proto_policy_request pl;
	uint64_t gen;

	make_tenant(f, "alpha", alpha);
	make_tenant(f, "beta", beta);
	assert_int_equal(list_tenants(f, f->admin, 0, &gen), 2);
	assert_int_equal(list_tenants(f, alpha, 0, &gen), 1);
	assert_string_equal(((const struct tenant *)f->m->data)->name, "alpha");
	tenant_request(f, MSG_TENANT_GET, "beta", alpha);
	reply_error(f, 404);			/* another's is as if it were not there */
	tenant_request(f, MSG_TENANT_DELETE, "beta", alpha);
	reply_error(f, 404);
	memset(&pl, 0, sizeof(pl));
	snprintf(pl.spec.p.tenant, sizeof(pl.spec.p.tenant), "beta");
	request(f, MSG_POLICY_LIST, &pl, sizeof(pl), alpha);
	reply_error(f, 404);
	/* Not a tenant's to ask, and a token that is nobody's. */
	tenant_request(f, MSG_TENANT_CREATE, "gamma", alpha);
	reply_error(f, 403);
	tenant_request(f, MSG_TENANT_GET, "alpha", "0123");
	reply_error(f, 401);
	no_reply(f);
}

static void
test_policy_through_its_noun(void **state)
{
	struct fixture *f = *state;
	char alpha[TOKEN_HEX_LEN + 1];
	struct proto_policy_request pl;
	const struct policy *p;

	make_tenant(f, "alpha", alpha);
	memset(&pl, 0, sizeof(pl));
	snprintf(pl.spec.p.tenant, sizeof(pl.spec.p.tenant), "alpha");
	snprintf(pl.spec.p.name, sizeof(pl.spec.p.name), "web");
	request(f, MSG_POLICY_CREATE, &pl, sizeof(pl), alpha);
	reply(f, MSG_REPLY_POLICY);
	p = (const struct policy *)f->m->data;
	assert_string_equal(p->tenant, "alpha");
	assert_string_equal(p->name, "web");
	request(f, MSG_POLICY_CREATE, &pl, sizeof(pl), alpha);
	reply_error(f, 409);

	snprintf(pl.spec.p.name, sizeof(pl.spec.p.name), "mail");
	request(f, MSG_POLICY_CREATE, &pl, sizeof(pl), alpha);
	reply(f, MSG_REPLY_POLICY);
	request(f, MSG_POLICY_LIST, &pl, sizeof(pl), alpha);
	reply(f, MSG_REPLY_POLICIES);
	assert_int_equal(f->m->hdr.flags, 0);
	assert_int_equal(f->m->hdr.len, 2 * sizeof(struct policy));

	request(f, MSG_POLICY_GET, &pl, sizeof(pl), f->admin);
	reply(f, MSG_REPLY_POLICY);
	assert_string_equal(((const struct policy *)f->m->data)->name, "mail");
	request(f, MSG_POLICY_DELETE, &pl, sizeof(pl), alpha);
	reply(f, MSG_REPLY_DONE);
	request(f, MSG_POLICY_LIST, &pl, sizeof(pl), alpha);
	reply(f, MSG_REPLY_POLICIES);
	assert_int_equal(f->m->hdr.len, sizeof(struct policy));
	no_reply(f);
}

static void
test_peers_are_the_admins(void **state)
{
	struct fixture *f = *state;
	char alpha[TOKEN_HEX_LEN + 1];
	struct proto_peer_request pr;

	make_tenant(f, "alpha", alpha);
	memset(&pr, 0, sizeof(pr));
	snprintf(pr.spec.name, sizeof(pr.spec.name), "hq");
	request(f, MSG_PEER_CREATE, &pr, sizeof(pr), alpha);
	reply_error(f, 403);
	request(f, MSG_PEER_LIST, &pr, sizeof(pr), f->admin);
	reply(f, MSG_REPLY_PEERS);
	assert_int_equal(f->m->hdr.len, 0);	/* an empty list is one empty part */
	assert_int_equal(f->m->hdr.flags, 0);
	no_reply(f);
}

static void
test_unexpected_type_gets_no_reply(void **state)
{
	struct fixture *f = *state;
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	request(f, MSG_CHILD_START, &r, sizeof(r), f->admin);
	request(f, MSG_REPLY_DONE, &r, sizeof(r), f->admin);
	no_reply(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tenant_create_list_get_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_names_are_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tenant_token_sees_only_its_tenant, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_policy_through_its_noun, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers_are_the_admins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unexpected_type_gets_no_reply, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
