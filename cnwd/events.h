/*
 * The parent's events: lifecycle, link changes, emulation drills (and,
 * later, steering decisions).  Each event is logged and pushed to the API
 * process over a channel of its own (a SOCK_SEQPACKET pair made at every
 * API start), which serves them as server-sent events on GET /v1/events.
 * The parent never waits for the API: a full channel drops the event
 * (counted, and the log still has it).
 */
#ifndef CNW_EVENTS_H
#define CNW_EVENTS_H

#include <stdint.h>

struct cnwd;
struct proc;

/* At an API process's start: make its channel, send it the other end. */
int events_api_channel(struct cnwd *d, struct proc *p);

/*
 * Emit an event.  tenant: "" for the admin only, else the tenant whose
 * token may see it too.  Then pairs of (key, value) strings ending with
 * NULL; a key starting with '#' marks its value as a number (the '#' is
 * not part of the key).  At most PROTO_EVENT_KVS pairs.
 */
void events_emit(struct cnwd *d, const char *type, const char *tenant, const char *object,
    ...) __attribute__((sentinel));

#endif
