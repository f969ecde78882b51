/*
 * Inside the parent's answers to the API (control*.c): one call per
 * request, the replies and batches every handler uses, and the nouns.
 *
 * A noun (tenants, networks, routes, uplinks, peers, policies) is one row
 * of control_nouns[]: its request and reply types, the sizes of its
 * records, and its functions over the store.  control.c serves create,
 * list, get and delete of every noun from that row; what is a noun's own
 * (a tenant's token, the kernel's work for a network) is in its functions,
 * in control_nouns.c.  Requests that are no noun's are in control_ops.c.
 */
#ifndef CNW_CONTROL_H
#define CNW_CONTROL_H

#include "cnwd/cnwd.h"
#include "proto/proto.h"

struct control_call {
	struct cnwd *d;
	struct proc *p;
	const struct msg *m;
	struct principal who;
	char actor[160];		/* for the audit log: who, from where */
	struct cnw_error err;
};

/* A record of any noun, as the store gives it or as the API gets it. */
union control_record {
	struct tenant tenant;
	struct proto_tenant_reply tenant_reply;
	struct network network;
	struct proto_network network_view;
	struct route route;
	struct uplink uplink;
	struct peer peer;
	struct policy policy;
};

struct control_noun {
	uint32_t msg_create, msg_list, msg_get, msg_del;	/* its requests; 0: none */
	uint32_t reply_one, reply_many;		/* to create and get; parts of a list */
	size_t row_size;			/* the store's record */
	size_t one_size;			/* the reply to create and get */
	size_t size;				/* a record of a list */
	size_t per_msg;				/* records in a part of a list */
	int generation;				/* a list begins with MSG_REPLY_GENERATION */
	/* The store's work for the request; -1 with c->err. */
	int (*create)(struct control_call *c, void *out);
	int (*get)(struct control_call *c, void *out);
	int (*list)(struct control_call *c, row_each_fn fn, void *arg);
	int (*del)(struct control_call *c);	/* and all that goes with it */
	/* A stored record as the API sees it (zeroed out, one_size); NULL: a copy. */
	void (*view)(struct control_call *c, const void *row, void *out);
};

extern const struct control_noun control_nouns[];
extern const size_t control_nnouns;

/* Requests that are no noun's create, list, get or delete. */
struct control_handler {
	uint32_t type;
	int (*fn)(struct control_call *c);
};

extern const struct control_handler control_noun_ops[];	/* control_nouns.c */
extern const size_t control_noun_nops;
extern const struct control_handler control_ops[];	/* control_ops.c */
extern const size_t control_nops;

int control_reply(struct control_call *c, uint32_t type, uint32_t flags, const void *payload,
    size_t len);
/* A stored record of noun n, viewed and sent as the reply to create or get. */
int control_reply_one(struct control_call *c, const struct control_noun *n, const void *row);

/* Batches list items into as few messages as fit. */
struct control_batch;

struct control_batch *control_batch_new(struct control_call *c, uint32_t type, size_t elem,
    size_t max);
int control_batch_add(struct control_batch *b, const void *item);
/* Send the last part if the listing (rc) succeeded; free the batch. */
int control_batch_finish(struct control_batch *b, int rc);

#endif
