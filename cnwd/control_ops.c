/*
 * The parent's answers to the API's requests that are no noun's: the
 * processes, the metrics, the interfaces and drivers the inventory knows,
 * the events stream's principal, and a tenant's flows.
 */
#include <stdio.h>
#include <string.h>

#include "cnwd/control.h"
#include "cnwd/inventory.h"
#include "lib/sandbox.h"
#include "lib/util.h"

/* Prometheus text, in as many parts as it takes. */
static int
control_metrics(struct control_call *c)
{
	size_t len = 0, off = 0;
	char *text;

	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "metrics need the admin token");
	if ((text = datapath_metrics(c->d, &len)) == NULL)
		return cnw_err(&c->err, CNW_EUNAVAIL, "the fast path's counters are not available");
	do {
		size_t n = len - off > MSG_MAX_PAYLOAD ? MSG_MAX_PAYLOAD : len - off;

		if (control_reply(c, MSG_REPLY_TEXT, off + n < len ? MSG_F_MORE : 0, text + off, n) < 0)
			break;
		off += n;
	} while (off < len);
	free(text);
	return 0;
}

static void
control_process_fill(const struct proc *p, struct proto_process *out)
{
	struct sandbox_state sb;

	memset(out, 0, sizeof(*out));
	snprintf(out->role, sizeof(out->role), "%s", p->role->name);
	snprintf(out->name, sizeof(out->name), "%s", p->label);
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
	unsigned n = 0;

	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "listing processes needs the admin token");
	for (unsigned i = 0; i < t->n; i++)
		if (t->procs[i].role != NULL)
			control_process_fill(&t->procs[i], &items[n++]);
	control_reply(c, MSG_REPLY_PROCESSES, 0, items, n * sizeof(items[0]));
	return 0;
}

/* Interfaces, drivers, events ------------------------------------------------ */

static int
control_interfaces(struct control_call *c, int one)
{
	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "reading interfaces needs the admin token");
	return inventory_reply_interfaces(c->d, c->p, c->m->hdr.id,
	    (const struct proto_interface_request *)c->m->data, one, &c->err);
}

static int
control_interface_list(struct control_call *c)
{
	return control_interfaces(c, 0);
}

static int
control_interface_get(struct control_call *c)
{
	return control_interfaces(c, 1);
}

static int
control_driver_list(struct control_call *c)
{
	if (!c->who.is_admin)
		return cnw_err(&c->err, CNW_EPERM, "listing drivers needs the admin token");
	return inventory_reply_drivers(c->d, c->p, c->m->hdr.id, &c->err);
}

/* Who a stream of events is for: the API filters by it. */
static int
control_events_open(struct control_call *c)
{
	struct proto_principal pr;

	memset(&pr, 0, sizeof(pr));
	pr.is_admin = c->who.is_admin != 0;
	if (!c->who.is_admin)
		snprintf(pr.tenant, sizeof(pr.tenant), "%s", c->who.name);
	return control_reply(c, MSG_REPLY_PRINCIPAL, 0, &pr, sizeof(pr));
}

/* Flows ------------------------------------------------------------------- */

struct control_flows {
	struct control_call *c;
	struct control_batch *b;
};

static int
control_flow_summary(const struct proto_flow_summary *s, void *arg)
{
	struct control_flows *f = arg;

	return control_reply(f->c, MSG_REPLY_FLOW_SUMMARY, MSG_F_MORE, s, sizeof(*s));
}

static int
control_flow_each(const struct proto_flow *fl, void *arg)
{
	return control_batch_add(((struct control_flows *)arg)->b, fl);
}

static int
control_flow_list(struct control_call *c)
{
	const struct proto_flow_request *r = (const struct proto_flow_request *)c->m->data;
	struct control_flows f = { .c = c };
	struct network n;
	struct tenant t;

	if (tenant_get(c->d->store, &c->who, r->tenant, &t, &c->err) < 0 ||
	    (r->network[0] != '\0' &&
	    network_get(c->d->store, &c->who, r->tenant, r->network, &n, &c->err) < 0))
		return -1;
	if ((f.b = control_batch_new(c, MSG_REPLY_FLOWS, sizeof(struct proto_flow),
	    PROTO_FLOWS_PER_MSG)) == NULL)
		return cnw_err(&c->err, CNW_EINTERNAL, "out of memory");
	return control_batch_finish(f.b, datapath_flows(c->d, &t, r->network, r->limit,
	    control_flow_summary, control_flow_each, &f, &c->err));
}

const struct control_handler control_ops[] = {
	{ MSG_PROCESS_LIST, control_process_list },
	{ MSG_METRICS_GET, control_metrics },
	{ MSG_INTERFACE_LIST, control_interface_list },
	{ MSG_INTERFACE_GET, control_interface_get },
	{ MSG_DRIVER_LIST, control_driver_list },
	{ MSG_EVENTS_OPEN, control_events_open },
	{ MSG_FLOW_LIST, control_flow_list },
};

const size_t control_nops = ARRAY_SIZE(control_ops);
