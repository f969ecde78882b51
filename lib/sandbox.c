/*
 * Seccomp allowlists, privilege dropping and sandbox read-back; see
 * sandbox.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "config.h"
#include "lib/log.h"
#include "lib/sandbox.h"
#include "lib/util.h"

/* What every sandboxed child needs: memory, time, signals, its socketpair. */
#define SANDBOX_BASE_SYSCALLS						\
	"read", "write", "readv", "writev", "close", "recvmsg", "sendmsg",	\
	"recvfrom", "sendto", "fcntl", "fstat", "newfstatat", "lseek",	\
	"mmap", "munmap", "mremap", "mprotect", "brk", "madvise",	\
	"futex", "set_robust_list", "rseq", "sched_yield",		\
	"clock_gettime", "clock_nanosleep", "nanosleep", "gettimeofday",	\
	"getpid", "gettid", "rt_sigaction", "rt_sigprocmask",		\
	"rt_sigreturn", "sigaltstack", "restart_syscall", "exit", "exit_group", \
	"getrandom", "poll", "ppoll", "epoll_create1", "epoll_ctl",	\
	"epoll_wait", "epoll_pwait", "eventfd2", "pipe2", "prlimit64", "rt_sigtimedwait",	\
	"sched_getaffinity"

struct sandbox_policy {
	const char *role;
	const char *const *syscalls;
	int threads;		/* may create threads (clone with CLONE_THREAD) */
};

/* The API process: accepts HTTP connections on sockets the parent bound. */
static const char *const sandbox_api_syscalls[] = {
	SANDBOX_BASE_SYSCALLS,
	"accept", "accept4", "shutdown", "getsockopt", "setsockopt",
	"getsockname", "getpeername", "select", "pselect6",
	NULL,
};

/*
 * ASan and UBSan need a few more calls to report an error (they read
 * /proc/self/maps and symbolize).  Only sanitizer builds, which are debug
 * builds, allow them.
 */
static const char *const sandbox_sanitizer_syscalls[] = {
	"openat", "readlink", "readlinkat", "getdents64", "prctl", "uname",
	"sched_getparam", "getppid", "ptrace", "wait4", "clone", NULL,
};

/* The fastpath worker: shared memory, eventfds and its socketpair only. */
static const char *const sandbox_worker_syscalls[] = {
	SANDBOX_BASE_SYSCALLS,
	NULL,
};

/* A driver: its device (a TUN descriptor, a UDP socket) and the same. */
static const char *const sandbox_driver_syscalls[] = {
	SANDBOX_BASE_SYSCALLS,
	"recvmmsg", "sendmmsg", "getsockname", "getsockopt",
	NULL,
};

static const struct sandbox_policy sandbox_policies[] = {
	{ "api", sandbox_api_syscalls, 1 },
	{ "worker", sandbox_worker_syscalls, 0 },
	{ "driver", sandbox_driver_syscalls, 0 },
};

const struct sandbox_policy *
sandbox_policy_find(const char *role)
{
	for (size_t i = 0; i < ARRAY_SIZE(sandbox_policies); i++)
		if (strcmp(sandbox_policies[i].role, role) == 0)
			return &sandbox_policies[i];
	return NULL;
}

static int
sandbox_allow_list(scmp_filter_ctx ctx, const char *const *names, struct cnw_error *err)
{
	for (; *names != NULL; names++) {
		int nr = seccomp_syscall_resolve_name(*names);

		if (nr == __NR_SCMP_ERROR)
			continue;	/* not on this architecture */
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0) < 0)
			return cnw_err(err, CNW_EINTERNAL, "seccomp: cannot allow %s", *names);
	}
	return 0;
}

/*
 * Threads but no processes: clone only with CLONE_THREAD; clone3 (whose
 * flags live in memory the filter cannot read) answers ENOSYS so that
 * glibc falls back to clone.  Threads may name themselves (PR_SET_NAME).
 */
static int
sandbox_allow_threads(scmp_filter_ctx ctx, struct cnw_error *err)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
	    SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
	    /* libraries name their threads; no other prctl is allowed */
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(prctl), 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME)) < 0)
		return cnw_err(err, CNW_EINTERNAL, "seccomp: cannot add thread rules");
	return 0;
}

/* Export the compiled program through a memfd (libseccomp 2.5 writes to an fd). */
static int
sandbox_export(scmp_filter_ctx ctx, void **prog, size_t *len, struct cnw_error *err)
{
	cleanup_close int fd = memfd_create("cnw-seccomp", MFD_CLOEXEC);
	struct stat sb;
	void *buf;

	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || fstat(fd, &sb) < 0 ||
	    sb.st_size <= 0 || sb.st_size % sizeof(struct sock_filter) != 0)
		return cnw_err(err, CNW_EINTERNAL, "seccomp: cannot export the filter");
	if ((buf = malloc((size_t)sb.st_size)) == NULL)
		return cnw_err(err, CNW_EINTERNAL, "out of memory");
	if (pread(fd, buf, (size_t)sb.st_size, 0) != sb.st_size) {
		free(buf);
		return cnw_err(err, CNW_EINTERNAL, "seccomp: cannot read the filter back");
	}
	*prog = buf;
	*len = (size_t)sb.st_size;
	return 0;
}

/*
 * Calls allowed only with certain arguments: signals to itself (a child
 * runs as a shared uid, and must not signal others of it), and the two
 * ioctls sockets need (no terminal ioctl such as TIOCSTI).
 */
static int
sandbox_allow_narrow(scmp_filter_ctx ctx, pid_t self, struct cnw_error *err)
{
	if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONBIO)) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
	    SCMP_A1(SCMP_CMP_EQ, FIONREAD)) < 0)
		return cnw_err(err, CNW_EINTERNAL, "seccomp: cannot add the narrow rules");
	return 0;
}

int
sandbox_filter_build(const struct sandbox_policy *pol, pid_t self, void **prog, size_t *len,
    struct cnw_error *err)
{
	/*
	 * TRAP, not KILL: the call is refused either way, but SIGSYS lets the
	 * child say which call it was before it dies (proc.c).
	 */
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int rc = -1;

	if (ctx == NULL)
		return cnw_err(err, CNW_EINTERNAL, "seccomp: init failed");
	if (sandbox_allow_list(ctx, pol->syscalls, err) < 0 ||
	    sandbox_allow_narrow(ctx, self, err) < 0)
		goto out;
#ifdef CNW_SANITIZERS
	if (sandbox_allow_list(ctx, sandbox_sanitizer_syscalls, err) < 0)
		goto out;
#else
	(void)sandbox_sanitizer_syscalls;
#endif
	if (pol->threads && sandbox_allow_threads(ctx, err) < 0)
		goto out;
#ifndef CNW_SANITIZERS
	/*
	 * Opening a file is refused, not trapped: glibc's malloc reads
	 * /proc/sys/vm/overcommit_memory when it shrinks a thread's heap and
	 * copes with a refusal.  Nothing is opened either way.
	 */
	if (seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0) < 0 ||
	    seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0) < 0) {
		cnw_err(err, CNW_EINTERNAL, "seccomp: cannot add the open rule");
		goto out;
	}
#endif
	rc = sandbox_export(ctx, prog, len, err);
out:
	seccomp_release(ctx);
	return rc;
}

static void
sandbox_drop_ids(void)
{
	struct passwd *pw = getpwnam("nobody");
	uid_t uid = pw ? pw->pw_uid : 65534;
	gid_t gid = pw ? pw->pw_gid : 65534;

	/* Keep the permitted set across setresuid so the bounding set can go next. */
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fatal("sandbox: PR_SET_KEEPCAPS");
	if (setgroups(0, NULL) < 0)
		fatal("sandbox: setgroups");
	if (setresgid(gid, gid, gid) < 0)
		fatal("sandbox: setresgid");
	if (setresuid(uid, uid, uid) < 0)
		fatal("sandbox: setresuid");
}

static void
sandbox_drop_caps(void)
{
	cap_value_t setpcap = CAP_SETPCAP;
	cap_t caps = cap_get_proc();

	/* Dropping the bounding set needs CAP_SETPCAP effective for a moment. */
	if (caps == NULL ||
	    cap_set_flag(caps, CAP_EFFECTIVE, 1, &setpcap, CAP_SET) < 0 ||
	    cap_set_proc(caps) < 0)
		fatal("sandbox: raise CAP_SETPCAP");
	for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			fatal("sandbox: drop capability %d from the bounding set", c);
	if (cap_clear(caps) < 0 || cap_set_proc(caps) < 0)
		fatal("sandbox: clear capabilities");
	cap_free(caps);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		fatal("sandbox: clear ambient capabilities");
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fatal("sandbox: PR_SET_KEEPCAPS off");
}

void
sandbox_enter(const void *prog, size_t len, void (*unprivileged)(void))
{
	struct sock_fprog fprog = {
		.len = (unsigned short)(len / sizeof(struct sock_filter)),
		.filter = (struct sock_filter *)prog,
	};

	if (prog == NULL || len == 0 || len % sizeof(struct sock_filter) != 0 ||
	    len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		fatalx("sandbox: no valid seccomp filter; refusing to run unconfined");
	sandbox_drop_ids();
	sandbox_drop_caps();
	/* A change of credentials clears the parent-death signal: set it again. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		fatal("sandbox: PR_SET_PDEATHSIG");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fatal("sandbox: PR_SET_NO_NEW_PRIVS");
	if (unprivileged != NULL)
		unprivileged();
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog) != 0)
		fatal("sandbox: load seccomp filter");
}

int
sandbox_read_state(pid_t pid, struct sandbox_state *out)
{
	char path[64], line[256];
	FILE *f;
	int seen = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "re")) == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long long v;

		if (sscanf(line, "CapEff: %llx", &v) == 1)
			out->cap_eff = v, seen |= 1;
		else if (sscanf(line, "NoNewPrivs: %llu", &v) == 1)
			out->no_new_privs = (int)v, seen |= 2;
		else if (sscanf(line, "Seccomp: %llu", &v) == 1)
			out->seccomp = (int)v, seen |= 4;
	}
	fclose(f);
	return seen == 7 ? 0 : -1;
}
