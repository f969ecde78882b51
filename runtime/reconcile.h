/*
 * The reconcile loop: drive the kernel to the desired state in the store.
 *
 * reconcile_all() runs at start and on a timer: it applies every network
 * (missing namespaces, devices, addresses and routes come back), records
 * each one's observed status, and removes orphans: namespaces under this
 * instance's prefix that have no row.  reconcile_network() applies one
 * network, after a mutation, before the API answers.
 */
#ifndef CNW_RECONCILE_H
#define CNW_RECONCILE_H

#include <stdint.h>

#include "runtime/error.h"

struct cnwd;
struct network;

void reconcile_all(struct cnwd *d);
/* Apply one network and record its status; -1 with err if it failed. */
int reconcile_network(struct cnwd *d, int64_t network_id, struct network *out,
    struct cnw_error *err);
/* Arm the periodic pass. */
void reconcile_start_timer(struct cnwd *d);

#endif
