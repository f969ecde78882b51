/*
 * Privsep children: spawn, hand-over, supervision and restart; see proc.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/ev.h"
#include "lib/log.h"
#include "cnwd/proc.h"
#include "lib/sandbox.h"
#include "lib/util.h"

#define PROC_CHILD_FD 3
#define PROC_BACKOFF_FIRST_MS 100
#define PROC_BACKOFF_MAX_MS 30000
#define PROC_WINDOW_MS 60000

const char *
proc_state_name(enum proc_state s)
{
	static const char *const names[] = {
		[PROC_RUNNING] = "running",
		[PROC_RESTARTING] = "restarting",
		[PROC_FAILED] = "failed",
		[PROC_STOPPED] = "stopped",
	};
	return names[s];
}

static void proc_on_readable(int fd, uint32_t events, void *arg);
static void proc_restart_timer(void *arg);
static void proc_close_sock(struct proc *p);

struct proc *
proc_table_add(struct proc_table *t, const struct proc_role *role, void *arg,
    const char *label, struct cnw_error *err)
{
	const struct sandbox_policy *pol = sandbox_policy_find(role->name);
	struct proc *p = NULL;

	if (pol == NULL)
		return cnw_err(err, CNW_EINTERNAL, "role %s has no sandbox policy", role->name), NULL;
	for (unsigned i = 0; i < t->n && p == NULL; i++)
		if (t->procs[i].role == NULL)
			p = &t->procs[i];
	if (p == NULL && t->n == PROC_MAX)
		return cnw_err(err, CNW_EINTERNAL, "too many processes"), NULL;
	if (p == NULL)
		p = &t->procs[t->n++];
	memset(p, 0, sizeof(*p));
	p->role = role;
	p->policy = pol;
	p->table = t;
	p->sock = -1;
	p->state = PROC_STOPPED;
	p->arg = arg;
	snprintf(p->label, sizeof(p->label), "%s", label ? label : role->name);
	return p;
}

static void
proc_free_slot(struct proc *p)
{
	ev_timer_cancel(p->table->ev, p->restart_timer);
	free(p->filter);
	memset(p, 0, sizeof(*p));	/* role NULL: free */
	p->sock = -1;
}

void
proc_retire(struct proc *p)
{
	if (p->role == NULL)
		return;
	if (p->pid > 0) {
		p->retired = 1;
		kill(p->pid, SIGTERM);
		return;
	}
	proc_close_sock(p);
	proc_free_slot(p);
}


static void
proc_close_sock(struct proc *p)
{
	if (p->sock < 0)
		return;
	ev_del(p->table->ev, p->sock);
	close(p->sock);
	p->sock = -1;
}

int
proc_send(struct proc *p, uint32_t type, uint32_t id, uint32_t flags,
    const void *payload, size_t len, int *fd)
{
	if (p->sock < 0) {
		errno = EPIPE;
		return -1;
	}
	if (msg_send(p->sock, type, id, flags, payload, len, fd) == 0)
		return 0;
	/* A child that does not take its messages is broken: start it again. */
	log_warn("%s: send failed; killing it", p->label);
	if (p->pid > 0)
		kill(p->pid, SIGKILL);
	proc_close_sock(p);
	return -1;
}

/* In the child between fork and exec: only async-signal-safe calls. */
static void
proc_exec_child(const struct proc_role *role, int sock, pid_t parent)
{
	static const char self[] = "/proc/self/exe";
	char *const argv[] = { "cnwd", "--child", (char *)role->name, NULL };
	sigset_t none;
	int null;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(126);
	/*
	 * No terminal: a session of its own, and stdin/stdout on /dev/null.
	 * stderr stays (early start-up errors and sanitizer reports go there);
	 * without a controlling terminal it cannot be used to type into one.
	 */
	setsid();
	if ((null = open("/dev/null", O_RDWR)) < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		_exit(126);
	if (null > 2 && null != sock)
		close(null);
	if (sock == PROC_CHILD_FD) {
		if (fcntl(sock, F_SETFD, 0) < 0)
			_exit(126);
	} else if (dup2(sock, PROC_CHILD_FD) < 0) {
		_exit(126);
	}
	/* Nothing but the socketpair crosses: not even what cnwd itself inherited. */
	close_range(PROC_CHILD_FD + 1, ~0U, 0);
	execv(self, argv);
	_exit(127);
}

int
proc_start(struct proc *p)
{
	struct timeval tmo = { .tv_sec = 2 };
	struct cnw_error ferr = { 0 };
	pid_t parent = getpid();
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		log_warn("%s: socketpair", p->label);
		return -1;
	}
	/* A child that stops reading must not stall the parent. */
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tmo, sizeof(tmo));
	p->pid = fork();
	if (p->pid < 0) {
		log_warn("%s: fork; trying again in %d ms", p->label, PROC_BACKOFF_MAX_MS / 30);
		close(sv[0]);
		close(sv[1]);
		p->pid = 0;
		p->state = PROC_RESTARTING;
		p->restart_timer = ev_timer(p->table->ev, PROC_BACKOFF_MAX_MS / 30,
		    proc_restart_timer, p);
		return -1;
	}
	if (p->pid == 0)
		proc_exec_child(p->role, sv[1], parent);
	close(sv[1]);
	/* Built for this pid: the child may signal itself and no one else. */
	free(p->filter);
	p->filter = NULL;
	if (sandbox_filter_build(p->policy, p->pid, &p->filter, &p->filter_len, &ferr) < 0)
		log_warnx("%s: %s; it will not start", p->label, ferr.msg);
	p->sock = sv[0];
	p->state = PROC_RUNNING;
	p->started_at = (int64_t)time(NULL);
	/* Without its filter the child gets none and refuses to run (fail closed). */
	if (p->filter == NULL ||
	    ev_add(p->table->ev, p->sock, EPOLLIN, proc_on_readable, p) < 0 ||
	    proc_send(p, MSG_SANDBOX_FILTER, 0, 0, p->filter, p->filter_len, NULL) < 0 ||
	    (p->role->setup != NULL && p->role->setup(p, p->table->ctx) < 0) ||
	    proc_send(p, MSG_CHILD_START, 0, 0, NULL, 0, NULL) < 0) {
		log_warnx("%s: start-up hand-over failed", p->label);
		kill(p->pid, SIGKILL);
		proc_close_sock(p);
		return 0;	/* reaped and restarted like any other death */
	}
	log_info("%s: started, pid %d", p->label, (int)p->pid);
	if (p->role->started != NULL)
		p->role->started(p, p->table->ctx);
	return 0;
}

static void
proc_on_readable(int fd, uint32_t events, void *arg)
{
	struct proc *p = arg;
	struct msg *m = malloc(sizeof(*m));
	char why[128];
	int rc;

	if (m == NULL)
		fatal("out of memory");
	rc = msg_recv(fd, m);
	if (rc == 0 || (rc < 0 && errno != EAGAIN)) {
		if (rc < 0)
			log_warn("%s: bad message; killing it", p->label);
		if (rc < 0 && p->pid > 0)
			kill(p->pid, SIGKILL);
		proc_close_sock(p);	/* the exit itself arrives as SIGCHLD */
	} else if (rc > 0) {
		if (msg_check(proto_types, proto_ntypes, m, p->role->from_bit, why, sizeof(why)) < 0) {
			log_warnx("%s: %s; killing it", p->label, why);
			kill(p->pid, SIGKILL);
			proc_close_sock(p);
		} else {
			p->role->dispatch(p, m, p->table->ctx);
		}
		if (m->fd >= 0)
			close(m->fd);
	}
	free(m);
}

static void
proc_describe_exit(int status, char *buf, size_t len)
{
	if (WIFEXITED(status)) {
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		snprintf(buf, len, "killed by signal %d (%s)%s", sig, sigabbrev_np(sig) ?
		    sigabbrev_np(sig) : "?", sig == SIGSYS ?
		    ": a system call outside its seccomp allowlist" : "");
	} else {
		snprintf(buf, len, "ended with status 0x%x", status);
	}
}

static void
proc_restart_timer(void *arg)
{
	struct proc *p = arg;

	p->restart_timer = 0;
	if (p->state == PROC_RESTARTING && !p->table->stopping) {
		p->restarts++;
		proc_start(p);
	}
}

/* Deaths within the last minute, counting this one. */
static unsigned
proc_recent_deaths(struct proc *p, long long now)
{
	unsigned n = 0;

	p->deaths[p->ndeaths++ % PROC_DEATH_WINDOW] = now;
	for (unsigned i = 0; i < PROC_DEATH_WINDOW && i < p->ndeaths; i++)
		if (now - p->deaths[i] < PROC_WINDOW_MS)
			n++;
	return n;
}

static void
proc_exited(struct proc *p, int status)
{
	long long now = cnw_now_ms(), delay;
	unsigned recent;

	proc_close_sock(p);
	p->pid = 0;
	proc_describe_exit(status, p->last_exit, sizeof(p->last_exit));
	if (p->table->stopping) {
		p->state = PROC_STOPPED;
		return;
	}
	if (p->retired) {
		log_info("%s: stopped (%s)", p->label, p->last_exit);
		proc_free_slot(p);
		return;
	}
	if (p->recycled) {
		/* The parent stopped it on purpose (its worker restarted): not a death. */
		p->recycled = 0;
		p->state = PROC_RESTARTING;
		p->restart_timer = ev_timer(p->table->ev, PROC_BACKOFF_FIRST_MS, proc_restart_timer, p);
		log_info("%s: restarting with the new worker", p->label);
		if (p->table->on_exit != NULL)
			p->table->on_exit(p, p->table->ctx);
		return;
	}
	recent = proc_recent_deaths(p, now);
	if (p->role->fail_limit > 0 && recent >= (unsigned)p->role->fail_limit) {
		p->state = PROC_FAILED;
		log_warnx("%s: %s; %u deaths within a minute: marked failed, not restarted",
		    p->label, p->last_exit, recent);
	} else {
		delay = PROC_BACKOFF_FIRST_MS << (recent > 9 ? 9 : recent - 1);
		if (delay > PROC_BACKOFF_MAX_MS)
			delay = PROC_BACKOFF_MAX_MS;
		p->state = PROC_RESTARTING;
		p->restart_timer = ev_timer(p->table->ev, delay, proc_restart_timer, p);
		log_warnx("%s: %s; restarting in %lld ms", p->label, p->last_exit, delay);
	}
	if (p->table->on_exit != NULL)
		p->table->on_exit(p, p->table->ctx);
}

void
proc_reap(struct proc_table *t)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (unsigned i = 0; i < t->n; i++)
			if (t->procs[i].pid == pid)
				proc_exited(&t->procs[i], status);
	}
}

void
proc_restart(struct proc *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);	/* its death schedules the restart */
	} else if (p->state != PROC_RUNNING) {
		ev_timer_cancel(p->table->ev, p->restart_timer);
		p->restart_timer = 0;
		proc_start(p);
	}
}

static int
proc_any_alive(struct proc_table *t)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->procs[i].pid > 0)
			return 1;
	return 0;
}

void
proc_stop_all(struct proc_table *t, int timeout_ms)
{
	long long deadline = cnw_now_ms() + timeout_ms;

	t->stopping = 1;
	for (unsigned i = 0; i < t->n; i++)
		if (t->procs[i].pid > 0)
			kill(t->procs[i].pid, SIGTERM);
	while (proc_any_alive(t) && cnw_now_ms() < deadline) {
		struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		proc_reap(t);
	}
	for (unsigned i = 0; i < t->n; i++) {
		struct proc *p = &t->procs[i];

		if (p->pid > 0) {
			log_warnx("%s: did not stop; killing it", p->label);
			kill(p->pid, SIGKILL);
			waitpid(p->pid, NULL, 0);
			p->pid = 0;
		}
		proc_close_sock(p);
		free(p->filter);
		p->filter = NULL;
	}
}

/* Child side --------------------------------------------------------- */

static void
proc_child_log_sink(int level, const char *line, void *arg)
{
	struct proto_log msg;

	memset(&msg, 0, sizeof(msg));
	msg.level = level;
	snprintf(msg.line, sizeof(msg.line), "%s", line);
	/* Best effort: a log line never stops the child. */
	(void)msg_send(*(int *)arg, MSG_LOG_LINE, 0, 0, &msg, sizeof(msg), NULL);
}

/* Async-signal-safe decimal. */
static char *
proc_utoa(char *end, unsigned long v)
{
	*--end = '\0';
	do
		*--end = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	return end;
}

/*
 * A call outside the allowlist: tell the parent which one, then die of the
 * signal so the exit says so too.  Only async-signal-safe calls, all on
 * the allowlist.
 */
static void
proc_child_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char pre[] = "seccomp: system call ";
	static const char post[] = " is not in the allowlist; exiting";
	static struct proto_log msg;
	char num[24], *n = proc_utoa(num + sizeof(num), (unsigned long)si->si_syscall);
	size_t off = 0;

	memcpy(msg.line, pre, sizeof(pre) - 1);
	off = sizeof(pre) - 1;
	memcpy(msg.line + off, n, strlen(n));
	off += strlen(n);
	memcpy(msg.line + off, post, sizeof(post));
	msg.level = LOG_LVL_ERROR;
	(void)msg_send(PROC_CHILD_FD, MSG_LOG_LINE, 0, 0, &msg, sizeof(msg), NULL);
	signal(SIGSYS, SIG_DFL);
	raise(SIGSYS);
}

void
proc_child_run(const char *role_name)
{
	static int sock = PROC_CHILD_FD;
	const struct proc_role *role = proc_role_find(role_name);
	struct msg *m = malloc(sizeof(*m));
	void *filter = NULL;
	size_t filter_len = 0;
	struct stat sb;
	char why[128];

	if (role == NULL || m == NULL || fstat(sock, &sb) < 0 || !S_ISSOCK(sb.st_mode)) {
		fprintf(stderr, "cnwd: --child is started by cnwd itself, not by hand\n");
		exit(2);
	}
	log_init(role->name, LOG_LVL_DEBUG, 0);
	log_set_sink(proc_child_log_sink, &sock);
	for (;;) {
		int rc = msg_recv(sock, m);

		if (rc <= 0)
			fatalx("set-up from the parent ended early");
		if (msg_check(proto_types, proto_ntypes, m, PROTO_FROM_PARENT, why, sizeof(why)) < 0)
			fatalx("set-up: %s", why);
		if (m->hdr.type == MSG_CHILD_START)
			break;
		if (m->hdr.type == MSG_SANDBOX_FILTER) {
			free(filter);
			if ((filter = malloc(m->hdr.len)) == NULL)
				fatal("out of memory");
			memcpy(filter, m->data, m->hdr.len);
			filter_len = m->hdr.len;
		} else if (role->child_setup(sock, m) < 0) {
			fatalx("set-up: unexpected %u", m->hdr.type);
		}
	}
	free(m);
	/* glibc reads /etc/localtime at the first time conversion: do it now. */
	tzset();
	struct sigaction sa = { .sa_sigaction = proc_child_sigsys, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
	if (role->child_prepare != NULL)
		role->child_prepare();
	sandbox_enter(filter, filter_len, role->child_unprivileged);
	free(filter);
	/* _exit: a sandboxed child runs no exit handlers (nothing to flush). */
	_exit(role->child_main(sock));
}
