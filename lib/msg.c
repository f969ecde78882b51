/*
 * Message transport over SOCK_SEQPACKET; see msg.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "msg.h"

int
msg_send(int sock, uint32_t type, uint32_t id, uint32_t flags,
    const void *payload, size_t len, int *fd)
{
	struct msg_hdr hdr = { .type = type, .len = (uint32_t)len, .id = id, .flags = flags };
	struct iovec iov[2] = {
		{ .iov_base = &hdr, .iov_len = sizeof(hdr) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} cbuf;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t n;

	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if (fd != NULL && *fd >= 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if (fd != NULL && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	return 0;
}

/* Take the descriptor out of a control message, if there is one. */
static int
msg_take_fd(struct msghdr *mh)
{
	int fd = -1;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfds = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfds; i++) {
			int got;

			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = got;
			else
				close(got);	/* one descriptor per message, no more */
		}
	}
	return fd;
}

int
msg_recv(int sock, struct msg *m)
{
	struct iovec iov[2] = {
		{ .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) },
		{ .iov_base = m->data, .iov_len = sizeof(m->data) },
	};
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cbuf;
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = cbuf.buf, .msg_controllen = sizeof(cbuf.buf),
	};
	ssize_t n;

	m->fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	m->fd = msg_take_fd(&mh);
	if (n == 0 && m->fd < 0)
		return 0;
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0)
		goto bad_size;
	if ((size_t)n < sizeof(m->hdr)) {
		errno = EBADMSG;
		goto drop;
	}
	if (m->hdr.len > MSG_MAX_PAYLOAD)
		goto bad_size;
	if ((size_t)n != sizeof(m->hdr) + m->hdr.len) {
		errno = EBADMSG;
		goto drop;
	}
	return 1;
bad_size:
	errno = EMSGSIZE;
drop:
	if (m->fd >= 0) {
		close(m->fd);
		m->fd = -1;
	}
	return -1;
}

const struct msg_type_info *
msg_type_find(const struct msg_type_info *table, size_t n, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (table[i].type == type)
			return &table[i];
	return NULL;
}

int
msg_check(const struct msg_type_info *table, size_t n, const struct msg *m,
    uint32_t sender_role_bit, char *why, size_t whylen)
{
	const struct msg_type_info *ti = msg_type_find(table, n, m->hdr.type);
	uint32_t len = m->hdr.len;

	if (ti == NULL) {
		snprintf(why, whylen, "unknown message type %u", m->hdr.type);
		return -1;
	}
	if ((ti->from & sender_role_bit) == 0) {
		snprintf(why, whylen, "%s not accepted from this sender", ti->name);
		return -1;
	}
	if (len < ti->min || len > ti->max ||
	    (ti->elem != 0 && (len - ti->min) % ti->elem != 0)) {
		snprintf(why, whylen, "%s of wrong size %u", ti->name, len);
		return -1;
	}
	if (ti->validate != NULL && ti->validate(m->data, len) < 0) {
		snprintf(why, whylen, "%s with malformed contents", ti->name);
		return -1;
	}
	return 0;
}

int
msg_str_ok(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}
