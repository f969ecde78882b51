/*
 * Sandboxing of child processes: seccomp allowlists built in the parent,
 * privilege dropping and filter loading in the child, and reading a
 * process's sandbox state back from /proc.
 *
 * The parent compiles each role's allowlist with libseccomp into a classic
 * BPF program and sends the bytes to the child (crun's generate/apply
 * split): the child needs no libseccomp and cannot choose its own rules.
 * The child drops in this order (docs/decisions.md, "Processes"): supplementary groups, gid, uid, the
 * capability bounding set, every capability, PR_SET_NO_NEW_PRIVS, then the
 * filter.  Any step failing is fatal: a child never runs unconfined.
 */
#ifndef CNW_SANDBOX_H
#define CNW_SANDBOX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

struct sandbox_policy;

/* The policy of a role ("api"), or NULL if the role has none. */
const struct sandbox_policy *sandbox_policy_find(const char *role);
/* Compile a policy for the child self to BPF; *prog is malloc'd, *len in bytes. */
int sandbox_filter_build(const struct sandbox_policy *pol, pid_t self, void **prog,
    size_t *len, struct cnw_error *err);
/*
 * In the child: drop everything and load the filter.  Never returns on
 * error.  unprivileged (may be NULL) runs between the two: no capabilities,
 * no_new_privs, no filter yet (a driver loads its verified plug-in there).
 */
void sandbox_enter(const void *prog, size_t len, void (*unprivileged)(void));

struct sandbox_state {
	uint64_t cap_eff;
	int no_new_privs;
	int seccomp;		/* 0 off, 1 strict, 2 filter */
};

/* Read /proc/PID/status; -1 if the process is gone. */
int sandbox_read_state(pid_t pid, struct sandbox_state *out);

#endif
