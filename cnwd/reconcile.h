/*
 * The reconcile loop: drive the kernel to the desired state in the store.
 *
 * reconcile_all() runs at start and on a timer: it applies every network
 * (missing namespaces, devices, addresses and routes come back), records
 * each one's observed status, and removes orphans: namespaces under this
 * instance's prefix that have no row.  reconcile_network() applies one
 * network, after a mutation, before the API answers.  Each ready network
 * also has a netlink monitor in its namespace: a change made there by
 * anyone else (an address deleted by hand) reconciles that network at once.
 * The events of cnw's own changes are drained right after it makes them:
 * the kernel queues them before it acknowledges the request.
 */
#ifndef CNW_RECONCILE_H
#define CNW_RECONCILE_H

#include <stdint.h>

#include "lib/error.h"

struct cnwd;
struct network;

void reconcile_all(struct cnwd *d);
/* Apply one network and record its status; -1 with err if it failed. */
int reconcile_network(struct cnwd *d, int64_t network_id, struct network *out,
    struct cnw_error *err);
/* Stop watching a network that is being removed (its monitor pins the namespace). */
void reconcile_forget(struct cnwd *d, int64_t network_id);
/* Close every monitor (shutdown). */
void reconcile_forget_all(struct cnwd *d);
/* Arm the periodic pass. */
void reconcile_start_timer(struct cnwd *d);

#endif
