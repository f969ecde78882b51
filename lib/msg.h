/*
 * Typed, size-checked messages between cnw processes (after OpenBSD imsg).
 *
 * The transport is a SOCK_SEQPACKET socketpair: the kernel keeps message
 * boundaries, so one send is one message and a message larger than the
 * receiver's buffer is seen as truncated (MSG_TRUNC) and refused rather
 * than misread.  Every message starts with a fixed header; a file
 * descriptor may ride along (SCM_RIGHTS), and once sent the sender's copy
 * is closed and set to -1.
 *
 * The set of types, the size each may have and which peer may send it is a
 * table the user of this module supplies (struct msg_type_info); msg_check()
 * applies it.  This file knows nothing of cnwd.
 */
#ifndef CNW_MSG_H
#define CNW_MSG_H

#include <stddef.h>
#include <stdint.h>

#define MSG_MAX_PAYLOAD (64 * 1024)

struct msg_hdr {
	uint32_t type;
	uint32_t len;		/* payload bytes after this header */
	uint32_t id;		/* request id, echoed by the reply */
	uint32_t flags;		/* MSG_F_* */
};

#define MSG_F_MORE 0x1		/* more parts of the same reply follow */

struct msg {
	struct msg_hdr hdr;
	int fd;			/* received descriptor or -1; receiver owns it */
	/* aligned so payload structs can be read in place */
	uint8_t data[MSG_MAX_PAYLOAD] __attribute__((aligned(16)));
};

struct msg_type_info {
	uint32_t type;
	const char *name;
	uint32_t min, max;	/* payload size bounds */
	uint32_t elem;		/* if nonzero, (len - min) is a multiple of elem */
	uint32_t from;		/* bit mask of roles allowed to send it */
	int (*validate)(const void *payload, uint32_t len);	/* or NULL */
};

/*
 * Send one message; fd (or -1) is passed along and, if *fd was given,
 * closed and set to -1 on success.  Returns 0 or -1 with errno.
 */
int msg_send(int sock, uint32_t type, uint32_t id, uint32_t flags,
    const void *payload, size_t len, int *fd);
/*
 * Receive one message into m.  Returns 1 on a message, 0 on end of file,
 * -1 with errno: EAGAIN, EMSGSIZE (truncated or oversized), EBADMSG (header
 * and size disagree), or a socket error.
 */
int msg_recv(int sock, struct msg *m);
/* Look up a type in a table; NULL if unknown. */
const struct msg_type_info *msg_type_find(const struct msg_type_info *table,
    size_t n, uint32_t type);
/*
 * Check a received message against the table and its sender role bit:
 * 0 if acceptable, else -1 with a reason in why.
 */
int msg_check(const struct msg_type_info *table, size_t n, const struct msg *m,
    uint32_t sender_role_bit, char *why, size_t whylen);
/* 1 if a fixed char array holds a NUL-terminated string. */
int msg_str_ok(const char *s, size_t size);

#endif
