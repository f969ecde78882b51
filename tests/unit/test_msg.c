/*
 * Messages between processes: round trips over a real SOCK_SEQPACKET
 * socketpair, descriptor passing, and every way a message can be wrong:
 * truncated, oversized, header and size disagreeing, unknown type, wrong
 * sender, wrong size for its type, unterminated strings.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/msg.h"
#include "proto/proto.h"

struct pair {
	int a, b;
	struct msg m;
};

static int
setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	p->a = sv[0];
	p->b = sv[1];
	*state = p;
	return 0;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	close(p->a);
	close(p->b);
	free(p);
	return 0;
}

static int
check(struct pair *p, uint32_t from)
{
	char why[128];

	return msg_check(proto_types, proto_ntypes, &p->m, from, why, sizeof(why));
}

static void
test_roundtrip_tenant_request(void **state)
{
	struct pair *p = *state;
	struct proto_tenant_request r, *got;

	memset(&r, 0, sizeof(r));
	snprintf(r.auth.peer, sizeof(r.auth.peer), "unix uid=0 pid=1");
	snprintf(r.spec.name, sizeof(r.spec.name), "cameras");
	r.spec.quotas.flows = 42;
	r.cascade = 1;
	assert_int_equal(msg_send(p->a, MSG_TENANT_CREATE, 7, 0, &r, sizeof(r), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(p->m.hdr.type, MSG_TENANT_CREATE);
	assert_int_equal(p->m.hdr.id, 7);
	assert_int_equal(p->m.hdr.len, sizeof(r));
	assert_int_equal(p->m.fd, -1);
	assert_int_equal(check(p, PROTO_FROM_API), 0);
	got = (struct proto_tenant_request *)p->m.data;
	assert_string_equal(got->spec.name, "cameras");
	assert_int_equal(got->spec.quotas.flows, 42);
	assert_int_equal(got->cascade, 1);
}

static void
test_fd_passing_closes_senders_copy(void **state)
{
	struct pair *p = *state;
	struct proto_api_listen l;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	memset(&l, 0, sizeof(l));
	snprintf(l.name, sizeof(l.name), "test");
	assert_true(fd >= 0);
	assert_int_equal(msg_send(p->a, MSG_API_LISTEN, 0, 0, &l, sizeof(l), &fd), 0);
	assert_int_equal(fd, -1);		/* ownership moved */
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_true(p->m.fd >= 0);
	assert_true(fcntl(p->m.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(check(p, PROTO_FROM_PARENT), 0);
	close(p->m.fd);
}

static void
test_oversized_send_is_refused(void **state)
{
	struct pair *p = *state;
	char *big = calloc(1, MSG_MAX_PAYLOAD + 1);

	assert_int_equal(msg_send(p->a, MSG_LOG_LINE, 0, 0, big, MSG_MAX_PAYLOAD + 1, NULL), -1);
	assert_int_equal(errno, EMSGSIZE);
	free(big);
}

/* Raw datagrams, as a compromised peer could write them. */
static void
raw(struct pair *p, const void *buf, size_t len)
{
	assert_int_equal(send(p->a, buf, len, 0), (ssize_t)len);
}

static void
test_truncated_header(void **state)
{
	struct pair *p = *state;
	char buf[6] = { 1, 0, 0, 0, 0, 0 };

	raw(p, buf, sizeof(buf));
	assert_int_equal(msg_recv(p->b, &p->m), -1);
	assert_int_equal(errno, EBADMSG);
}

static void
test_header_claims_more_than_sent(void **state)
{
	struct pair *p = *state;
	struct {
		struct msg_hdr h;
		char payload[10];
	} buf = { { MSG_LOG_LINE, 100, 0, 0 }, { 0 } };

	raw(p, &buf, sizeof(buf));
	assert_int_equal(msg_recv(p->b, &p->m), -1);
	assert_int_equal(errno, EBADMSG);
}

static void
test_datagram_larger_than_any_message(void **state)
{
	struct pair *p = *state;
	size_t len = sizeof(struct msg_hdr) + MSG_MAX_PAYLOAD + 100;
	struct msg_hdr *h = calloc(1, len);
	int sz = 4 * 1024 * 1024;

	setsockopt(p->a, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	h->type = MSG_LOG_LINE;
	h->len = MSG_MAX_PAYLOAD + 100;
	raw(p, h, len);
	assert_int_equal(msg_recv(p->b, &p->m), -1);
	assert_int_equal(errno, EMSGSIZE);
	free(h);
	/* the channel still works for the next message */
	assert_int_equal(msg_send(p->a, MSG_CHILD_START, 1, 0, NULL, 0, NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(p->m.hdr.type, MSG_CHILD_START);
}

static void
test_end_of_file(void **state)
{
	struct pair *p = *state;

	shutdown(p->a, SHUT_WR);
	assert_int_equal(msg_recv(p->b, &p->m), 0);
}

static void
test_unknown_type(void **state)
{
	struct pair *p = *state;

	assert_int_equal(msg_send(p->a, 9999, 0, 0, NULL, 0, NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_API), -1);
}

static void
test_wrong_sender(void **state)
{
	struct pair *p = *state;
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	/* a request is an API's message; the parent never sends one */
	assert_int_equal(msg_send(p->a, MSG_TENANT_LIST, 0, 0, &r, sizeof(r), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_PARENT), -1);
	assert_int_equal(check(p, PROTO_FROM_API), 0);
}

static void
test_wrong_size_for_type(void **state)
{
	struct pair *p = *state;
	struct proto_request r;

	memset(&r, 0, sizeof(r));
	assert_int_equal(msg_send(p->a, MSG_TENANT_LIST, 0, 0, &r, sizeof(r) - 1, NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_API), -1);
	/* array replies must be whole records */
	static char two[2 * sizeof(struct tenant)];
	assert_int_equal(msg_send(p->a, MSG_REPLY_TENANTS, 0, 0, two, sizeof(struct tenant) + 3, NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_PARENT), -1);
}

static void
test_unterminated_string(void **state)
{
	struct pair *p = *state;
	struct proto_tenant_request r;

	memset(&r, 0, sizeof(r));
	memset(r.spec.name, 'a', sizeof(r.spec.name));	/* no NUL */
	assert_int_equal(msg_send(p->a, MSG_TENANT_CREATE, 0, 0, &r, sizeof(r), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_API), -1);
}

static void
test_unterminated_network_strings(void **state)
{
	struct pair *p = *state;
	struct proto_network_request n;
	struct proto_route_request r;

	memset(&n, 0, sizeof(n));
	memset(n.spec.subnet, '1', sizeof(n.spec.subnet));
	assert_int_equal(msg_send(p->a, MSG_NETWORK_CREATE, 0, 0, &n, sizeof(n), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_API), -1);
	memset(&r, 0, sizeof(r));
	memset(r.spec.via, 'x', sizeof(r.spec.via));
	assert_int_equal(msg_send(p->a, MSG_ROUTE_ADD, 0, 0, &r, sizeof(r), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_API), -1);
	r.spec.via[0] = '\0';
	assert_int_equal(msg_send(p->a, MSG_ROUTE_ADD, 0, 0, &r, sizeof(r), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_API), 0);
}

static void
test_error_status_range(void **state)
{
	struct pair *p = *state;
	struct proto_error e;

	memset(&e, 0, sizeof(e));
	e.status = 200;		/* an error must be an error */
	assert_int_equal(msg_send(p->a, MSG_REPLY_ERROR, 0, 0, &e, sizeof(e), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_PARENT), -1);
}

static void
test_tls_lengths_must_add_up(void **state)
{
	struct pair *p = *state;
	struct {
		struct proto_api_tls h;
		char pem[8];
	} t = { { 4, 5 }, "abcdefg" };

	assert_int_equal(msg_send(p->a, MSG_API_TLS, 0, 0, &t, sizeof(t), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_PARENT), -1);
	t.h.key_len = 4;
	assert_int_equal(msg_send(p->a, MSG_API_TLS, 0, 0, &t, sizeof(t), NULL), 0);
	assert_int_equal(msg_recv(p->b, &p->m), 1);
	assert_int_equal(check(p, PROTO_FROM_PARENT), 0);
}

int
main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_roundtrip_tenant_request),
		T(test_fd_passing_closes_senders_copy),
		T(test_oversized_send_is_refused),
		T(test_truncated_header),
		T(test_header_claims_more_than_sent),
		T(test_datagram_larger_than_any_message),
		T(test_end_of_file),
		T(test_unknown_type),
		T(test_wrong_sender),
		T(test_wrong_size_for_type),
		T(test_unterminated_string),
		T(test_unterminated_network_strings),
		T(test_error_status_range),
		T(test_tls_lengths_must_add_up),
	};
	return cmocka_run_group_tests_name("msg", tests, NULL, NULL);
}
