/*
 * cnwd: the privileged supervisor.
 *
 * Start-up, in order: command line and configuration, the state directory
 * and its lock, the store (migrations), the admin token, the listening
 * sockets and TLS material, the children; then the event loop, which waits
 * on signals (SIGTERM/SIGINT stop, SIGHUP reloads, SIGCHLD reaps) and the
 * children's sockets.  The same binary, run as `cnwd --child ROLE` by the
 * parent itself, is a sandboxed child (proc.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "config.h"
#include "cnwd/cnwd.h"
#include "cnwd/inventory.h"
#include "lib/ev.h"
#include "lib/log.h"
#include "cnwd/datapath.h"
#include "cnwd/reconcile.h"
#include "lib/token.h"
#include "lib/util.h"

static void
cnwd_usage(FILE *f)
{
	fprintf(f,
	    "usage: cnwd [--config FILE] [--state-dir DIR] [--run-dir DIR] [--instance NAME]\n"
	    "            [--check] [--log-level LEVEL]\n");
}

/* Make a command-line directory absolute, so a later chdir changes nothing. */
static int
cnwd_abs_path(char *dst, size_t size, const char *arg)
{
	char cwd[PATH_MAX];

	if (arg[0] == '/')
		return snprintf(dst, size, "%s", arg) >= (int)size ? -1 : 0;
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	return snprintf(dst, size, "%s/%s", cwd, arg) >= (int)size ? -1 : 0;
}

/* Returns 0 to run, 1 for --check, or exits on a usage error. */
static int
cnwd_parse_args(struct cnwd *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "instance", required_argument, NULL, 'i' },
		{ "check", no_argument, NULL, 'k' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c, check = 0;

	snprintf(d->config_path, sizeof(d->config_path), "%s", CNW_DEFAULT_CONFIG);
	while ((c = getopt_long(argc, argv, "c:s:r:i:kl:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			snprintf(d->config_path, sizeof(d->config_path), "%s", optarg);
			d->config_must_exist = 1;
			break;
		case 's':
			if (cnwd_abs_path(d->cli.state_dir, sizeof(d->cli.state_dir), optarg) < 0)
				goto bad;
			d->cli_set |= CNWD_CLI_STATE_DIR;
			break;
		case 'r':
			if (cnwd_abs_path(d->cli.run_dir, sizeof(d->cli.run_dir), optarg) < 0)
				goto bad;
			d->cli_set |= CNWD_CLI_RUN_DIR;
			break;
		case 'i':
			if (!config_instance_ok(optarg)) {
				fprintf(stderr, "cnwd: instance \"%s\" must match ^[a-z][a-z0-9]{0,7}$\n",
				    optarg);
				exit(2);
			}
			snprintf(d->cli.instance, sizeof(d->cli.instance), "%s", optarg);
			d->cli_set |= CNWD_CLI_INSTANCE;
			break;
		case 'k':
			check = 1;
			break;
		case 'l':
			if ((d->cli.log_level = log_level_parse(optarg)) < 0) {
				fprintf(stderr, "cnwd: unknown log level \"%s\" "
				    "(debug, info, notice, warning, error)\n", optarg);
				exit(2);
			}
			d->cli_set |= CNWD_CLI_LOG_LEVEL;
			break;
		case 'h':
			cnwd_usage(stdout);
			exit(0);
		case 'V':
			printf("cnwd %s\n", PACKAGE_VERSION);
			exit(0);
		default:
			cnwd_usage(stderr);
			exit(2);
		}
	}
	if (optind != argc)
		goto bad;
	return check;
bad:
	cnwd_usage(stderr);
	exit(2);
}

/* Defaults, then the file, then the command line. */
static unsigned
cnwd_load_config(struct cnwd *d, struct cnwd_config *cfg, struct config_errors *errs)
{
	unsigned n;

	config_defaults(cfg);
	memset(errs, 0, sizeof(*errs));
	n = config_load(d->config_path, d->config_must_exist, cfg, errs);
	if (d->cli_set & CNWD_CLI_STATE_DIR)
		memcpy(cfg->state_dir, d->cli.state_dir, sizeof(cfg->state_dir));
	if (d->cli_set & CNWD_CLI_RUN_DIR)
		memcpy(cfg->run_dir, d->cli.run_dir, sizeof(cfg->run_dir));
	if (d->cli_set & CNWD_CLI_INSTANCE)
		memcpy(cfg->instance, d->cli.instance, sizeof(cfg->instance));
	if (d->cli_set & CNWD_CLI_LOG_LEVEL)
		cfg->log_level = d->cli.log_level;
	return n;
}

static int
cnwd_mkdir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST) {
		log_warn("cannot make %s", path);
		return -1;
	}
	return 0;
}

/* An flock held for the process's life, with our pid in the file; -1 if taken. */
static int
cnwd_lock_file(const char *path, const char *what)
{
	char pid[32];
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_warn("cannot open %s", path);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		log_warnx("another cnwd (pid %s) is running %s", pid[0] ? pid : "?", what);
		close(fd);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, strlen(pid), 0) < 0)
		log_warn("cannot write %s", path);
	return fd;
}

/*
 * One cnwd per state directory, and one per instance name on the host: two
 * daemons with one instance name would each take the other's namespaces
 * for orphans and remove them.
 */
static int
cnwd_lock(struct cnwd *d)
{
	char path[PATH_MAX], what[PATH_MAX + 64];

	if (cnw_path_join(path, sizeof(path), d->cfg.state_dir, "cnwd.lock") < 0) {
		log_warnx("state directory path is too long");
		return -1;
	}
	snprintf(what, sizeof(what), "on %.4000s", d->cfg.state_dir);
	if ((d->lock_fd = cnwd_lock_file(path, what)) < 0)
		return -1;
	snprintf(path, sizeof(path), "/run/cnw.%s.lock", d->cfg.instance);
	snprintf(what, sizeof(what), "as instance \"%s\" on this host; give each cnwd its "
	    "own --instance", d->cfg.instance);
	return (d->instance_lock_fd = cnwd_lock_file(path, what)) < 0 ? -1 : 0;
}

/*
 * The admin token: read STATE_DIR/admin.token, or make it at first start.
 * The file is the source of truth (root-only, 0600); the database holds its
 * hash.  Made through a temporary file, so a crash leaves either no file
 * (made again next start) or a whole one.
 */
static int
cnwd_admin_token_make(const char *path, char token[static TOKEN_HEX_LEN + 1])
{
	char tmp[PATH_MAX + 8];
	int fd, ok;

	if (token_generate(token) < 0) {
		log_warnx("random generator failed");
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0) {
		log_warn("cannot write %s", tmp);
		return -1;
	}
	ok = cnw_write_all(fd, token, TOKEN_HEX_LEN) == 0 && cnw_write_all(fd, "\n", 1) == 0 &&
	    fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok || rename(tmp, path) < 0) {
		log_warn("cannot write %s", path);
		unlink(tmp);
		return -1;
	}
	log_notice("made the admin token %s", path);
	return 0;
}

static int
cnwd_admin_token_read(const char *path, char token[static TOKEN_HEX_LEN + 1])
{
	char buf[TOKEN_HEX_LEN + 2];
	struct stat sb;
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0 || fstat(fd, &sb) < 0) {
		log_warn("cannot read %s", path);
		return -1;
	}
	if ((sb.st_mode & 077) != 0 || sb.st_uid != geteuid()) {
		log_warnx("%s has mode %04o and owner %d; it must be 0600 and ours "
		    "(chmod 600 it, or delete it to make a new token)", path,
		    (unsigned)(sb.st_mode & 07777), (int)sb.st_uid);
		return -1;
	}
	n = read(fd, buf, sizeof(buf));
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	if (n != TOKEN_HEX_LEN) {
		log_warnx("%s does not hold a token (64 hex characters); delete it to make one",
		    path);
		return -1;
	}
	memcpy(token, buf, TOKEN_HEX_LEN);
	token[TOKEN_HEX_LEN] = '\0';
	OPENSSL_cleanse(buf, sizeof(buf));
	if (!token_is_wellformed(token)) {
		log_warnx("%s does not hold a token (64 hex characters); delete it to make one",
		    path);
		return -1;
	}
	return 0;
}

static int
cnwd_admin_token(struct cnwd *d)
{
	char path[PATH_MAX], token[TOKEN_HEX_LEN + 1];
	uint8_t hash[TOKEN_HASH_LEN];
	struct cnw_error err = { 0 };
	int rc;

	if (cnw_path_join(path, sizeof(path), d->cfg.state_dir, "admin.token") < 0)
		return -1;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		rc = cnwd_admin_token_make(path, token);
	else
		rc = cnwd_admin_token_read(path, token);
	if (rc < 0)
		return -1;
	token_hash(token, hash);
	OPENSSL_cleanse(token, sizeof(token));
	if (store_admin_token_set(d->store, hash, &err) < 0) {
		log_warnx("cannot store the admin token's hash: %s", err.msg);
		return -1;
	}
	return 0;
}

static int
cnwd_listen_unix(struct cnwd *d)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (cnw_path_join(d->socket_path, sizeof(d->socket_path), d->cfg.run_dir,
	    "cnwd.sock") < 0 || strlen(d->socket_path) >= sizeof(sun.sun_path)) {
		log_warnx("socket path %s is too long", d->socket_path);
		return -1;
	}
	memcpy(sun.sun_path, d->socket_path, strlen(d->socket_path) + 1);
	/* We hold the state lock, so a socket file left here is stale. */
	unlink(d->socket_path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    chmod(d->socket_path, 0660) < 0 || listen(fd, 128) < 0) {
		log_warn("cannot listen on %s", d->socket_path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	d->unix_fd = fd;
	log_info("api: listening on %s", d->socket_path);
	return 0;
}

static int
cnwd_listen_tcp(struct cnwd *d, const struct cnwd_config *cfg, int *out)
{
	int one = 1, fd;

	*out = -1;
	if (cfg->listen[0] == '\0')
		return 0;
	fd = socket(cfg->listen_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)&cfg->listen_addr, cfg->listen_addrlen) < 0 ||
	    listen(fd, 128) < 0) {
		log_warn("cannot listen on %s", cfg->listen);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*out = fd;
	log_info("api: listening on https://%s", cfg->listen);
	return 0;
}

/* TCP listener and TLS material for cfg; on success they replace d's. */
static int
cnwd_setup_tcp(struct cnwd *d, const struct cnwd_config *cfg)
{
	struct tls_material tls = { 0 };
	struct cnw_error err = { 0 };
	int fd = -1;

	if (cfg->listen[0] != '\0' &&
	    tls_load(cfg->tls_cert, cfg->tls_key, cfg->state_dir, &tls, &err) < 0) {
		log_warnx("tls: %s", err.msg);
		return -1;
	}
	if (cnwd_listen_tcp(d, cfg, &fd) < 0) {
		tls_free(&tls);
		return -1;
	}
	if (d->tcp_fd >= 0)
		close(d->tcp_fd);
	tls_free(&d->tls);
	d->tcp_fd = fd;
	d->tls = tls;
	return 0;
}

static int
cnwd_reload_tls(struct cnwd *d, const struct cnwd_config *cfg)
{
	struct tls_material tls;
	struct cnw_error err = { 0 };

	if (tls_load(cfg->tls_cert, cfg->tls_key, cfg->state_dir, &tls, &err) < 0) {
		log_warnx("tls: %s", err.msg);
		return -1;
	}
	tls_free(&d->tls);
	d->tls = tls;
	return 0;
}

static void
cnwd_reload(struct cnwd *d)
{
	struct cnwd_config cfg;
	struct config_errors errs;
	int api_changed;

	if (cnwd_load_config(d, &cfg, &errs) > 0) {
		log_warnx("reload: %s has errors; keeping the running configuration:\n%s",
		    d->config_path, errs.text);
		return;
	}
	if (strcmp(cfg.state_dir, d->cfg.state_dir) != 0 ||
	    strcmp(cfg.run_dir, d->cfg.run_dir) != 0 ||
	    strcmp(cfg.instance, d->cfg.instance) != 0)
		log_warnx("reload: state_dir, run_dir and instance take effect at the next start");
	api_changed = strcmp(cfg.listen, d->cfg.listen) != 0 ||
	    strcmp(cfg.tls_cert, d->cfg.tls_cert) != 0 || strcmp(cfg.tls_key, d->cfg.tls_key) != 0;
	if (api_changed && strcmp(cfg.listen, d->cfg.listen) == 0 && cfg.listen[0] != '\0') {
		/* Same address, new certificate: keep the socket (the API child holds it too). */
		if (cnwd_reload_tls(d, &cfg) < 0) {
			log_warnx("reload: keeping the running TLS certificate");
			memcpy(cfg.tls_cert, d->cfg.tls_cert, sizeof(cfg.tls_cert));
			memcpy(cfg.tls_key, d->cfg.tls_key, sizeof(cfg.tls_key));
		}
	} else if (api_changed) {
		if (d->tcp_fd >= 0)
			close(d->tcp_fd);
		d->tcp_fd = -1;
		if (cnwd_setup_tcp(d, &cfg) < 0) {
			log_warnx("reload: the new listen settings failed; TCP is off until fixed");
			cfg.listen[0] = '\0';
		}
	}
	memcpy(cfg.state_dir, d->cfg.state_dir, sizeof(cfg.state_dir));
	memcpy(cfg.run_dir, d->cfg.run_dir, sizeof(cfg.run_dir));
	memcpy(cfg.instance, d->cfg.instance, sizeof(cfg.instance));
	if (cfg.reconcile_interval != d->cfg.reconcile_interval) {
		d->cfg.reconcile_interval = cfg.reconcile_interval;
		ev_timer_cancel(d->ev, d->reconcile_timer);
		reconcile_start_timer(d);
	}
	d->cfg = cfg;
	inventory_configure(d);
	log_set_level(cfg.log_level);
	log_notice("reloaded %s (log level %s)", d->config_path, log_level_name(cfg.log_level));
	if (api_changed && d->api != NULL)
		proc_restart(d->api);
}

static void
cnwd_on_signal(int fd, uint32_t events, void *arg)
{
	struct cnwd *d = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_notice("signal %d: stopping", (int)si.ssi_signo);
			ev_stop(d->ev);
			return;
		case SIGHUP:
			cnwd_reload(d);
			break;
		case SIGCHLD:
			proc_reap(&d->procs);
			break;
		}
	}
}

static int
cnwd_signals(struct cnwd *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (d->signal_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    ev_add(d->ev, d->signal_fd, EPOLLIN, cnwd_on_signal, d) < 0) {
		log_warn("signals");
		return -1;
	}
	return 0;
}

/*
 * Each network holds a descriptor (its change monitor) and making one needs
 * a few more for a moment: take the hard limit of open files, not the soft
 * default of 1024.
 */
static void
cnwd_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cannot raise the open-file limit");
	}
}

/*
 * The data path follows the interfaces under its uplinks; the inventory
 * tells it through this, and so needs nothing of it (inventory.h).
 */
static const struct inventory_observer cnwd_datapath_observer = {
	.link = datapath_interface_state,
	.mtu = datapath_interface_mtu,
	.uplink = datapath_interface_uplink,
	.paths = datapath_uplink_paths,
};

static int
cnwd_start(struct cnwd *d)
{
	struct cnw_error err = { 0 };
	char db[PATH_MAX];

	umask(077);
	cnwd_raise_nofile();
	/* umask would make the run dir 0700; the socket's own mode (0660) guards it. */
	if (cnwd_mkdir(d->cfg.state_dir, 0700) < 0 || cnwd_mkdir(d->cfg.run_dir, 0755) < 0 ||
	    chmod(d->cfg.run_dir, 0755) < 0 || cnwd_lock(d) < 0)
		return -1;
	if (cnw_path_join(db, sizeof(db), d->cfg.state_dir, "cnw.db") < 0)
		return -1;
	if (store_open(db, &d->store, &err) < 0) {
		log_warnx("%s", err.msg);
		return -1;
	}
	if (cnwd_admin_token(d) < 0 || cnwd_listen_unix(d) < 0 || cnwd_setup_tcp(d, &d->cfg) < 0)
		return -1;
	if ((d->ev = ev_new()) == NULL || cnwd_signals(d) < 0)
		return -1;
	/* A busy API client gets its next answer without a wake-up (see ev.h). */
	ev_set_spin(d->ev, 200);
	/* Converge before anyone can ask: the API sees the kernel as stored. */
	reconcile_all(d);
	reconcile_start_timer(d);
	d->procs.ev = d->ev;
	d->procs.ctx = d;
	d->procs.on_exit = control_record_exit;
	if ((d->api = proc_table_add(&d->procs, proc_role_find("api"), NULL, "api", &err)) == NULL ||
	    proc_start(d->api) < 0) {
		log_warnx("%s", err.msg[0] ? err.msg : "cannot start the API process");
		return -1;
	}
	inventory_observe(&cnwd_datapath_observer);
	if (inventory_start(d, &err) < 0) {
		log_warnx("discovery: %s", err.msg);
		return -1;
	}
	if (datapath_start(d, &err) < 0) {
		log_warnx("fast path: %s", err.msg);
		return -1;
	}
	log_notice("cnwd %s running: state %s, instance %s", PACKAGE_VERSION, d->cfg.state_dir,
	    d->cfg.instance);
	return 0;
}

static void
cnwd_shutdown(struct cnwd *d)
{
	proc_stop_all(&d->procs, 2000);
	datapath_stop(d);
	if (d->ev != NULL)
		inventory_stop(d);
	if (d->ev != NULL)
		reconcile_forget_all(d);
	if (d->unix_fd >= 0) {
		close(d->unix_fd);
		unlink(d->socket_path);
	}
	if (d->tcp_fd >= 0)
		close(d->tcp_fd);
	tls_free(&d->tls);
	store_close(d->store);
	ev_free(d->ev);
	if (d->signal_fd >= 0)
		close(d->signal_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	if (d->instance_lock_fd >= 0)
		close(d->instance_lock_fd);
}

int
main(int argc, char **argv)
{
	static struct cnwd d = { .lock_fd = -1, .instance_lock_fd = -1, .signal_fd = -1,
		.unix_fd = -1, .tcp_fd = -1, .dp = { .region_fd = -1, .stats_fd = -1 } };
	struct config_errors errs;
	int check, rc;

	if (argc == 3 && strcmp(argv[1], "--child") == 0)
		proc_child_run(argv[2]);
	check = cnwd_parse_args(&d, argc, argv);
	if (cnwd_load_config(&d, &d.cfg, &errs) > 0) {
		fputs(errs.text, stderr);
		return 1;
	}
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	log_init("parent", d.cfg.log_level, !isatty(STDERR_FILENO));
	if (geteuid() != 0)
		log_warnx("not running as root: creating network namespaces and sandboxing "
		    "children will fail");
	rc = cnwd_start(&d) == 0 && ev_run(d.ev) == 0 ? 0 : 1;
	cnwd_shutdown(&d);
	log_notice("stopped");
	return rc;
}
