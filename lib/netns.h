/*
 * Named network namespaces under /run/netns, compatible with `ip netns`
 * (after iproute2's netns_add): the directory is a shared mount point, and
 * each name is a file on which the namespace's nsfs inode is bind-mounted,
 * so it lives on without any process in it.
 *
 * The parent is single-threaded, so it enters a namespace by setns() on its
 * one thread, does its work (netlink sockets and TUN devices made there
 * belong to that namespace for good), and returns.
 */
#ifndef CNW_NETNS_H
#define CNW_NETNS_H

#include "lib/error.h"

#define NETNS_DIR "/run/netns"

/* Make a new named namespace; the caller stays where it was. */
int netns_create(const char *name, struct cnw_error *err);
/* Unmount and remove a named namespace (processes in it keep it alive). */
int netns_delete(const char *name, struct cnw_error *err);
int netns_exists(const char *name);
/* 1 if a process (other than through the name) is in the named namespace. */
int netns_in_use(const char *name);
/* Run fn inside the named namespace, then come back. */
int netns_run(const char *name, int (*fn)(void *arg, struct cnw_error *err), void *arg,
    struct cnw_error *err);
/* Call fn for each name under NETNS_DIR that starts with prefix. */
int netns_each(const char *prefix, int (*fn)(const char *name, void *arg), void *arg);

#endif
