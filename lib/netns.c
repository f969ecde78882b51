/*
 * Named network namespaces; see netns.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "lib/log.h"
#include "lib/netns.h"
#include "lib/util.h"

static int
netns_path(char *buf, size_t len, const char *name, struct cnw_error *err)
{
	if (strchr(name, '/') != NULL || name[0] == '.' ||
	    cnw_path_join(buf, len, NETNS_DIR, name) < 0)
		return cnw_err(err, CNW_EINVAL, "bad namespace name \"%s\"", name);
	return 0;
}

/*
 * /run/netns must be a shared mount point so that the bind mounts made in
 * it propagate to every mount namespace (ip netns does the same).
 */
static int
netns_prepare_dir(struct cnw_error *err)
{
	static int done;

	if (done)
		return 0;
	if (mkdir(NETNS_DIR, 0755) < 0 && errno != EEXIST)
		return cnw_err(err, CNW_EINTERNAL, "%s: %s", NETNS_DIR, strerror(errno));
	if (mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL ||
		    mount(NETNS_DIR, NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0 ||
		    mount("", NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
			return cnw_err(err, CNW_EINTERNAL, "make %s a shared mount: %s",
			    NETNS_DIR, strerror(errno));
	}
	done = 1;
	return 0;
}

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

/* A name is a namespace only once the bind mount is there: a crash between
 * making the file and mounting on it leaves a plain empty file. */
int
netns_exists(const char *name)
{
	char path[PATH_MAX];
	struct statfs sf;

	return netns_path(path, sizeof(path), name, NULL) == 0 && statfs(path, &sf) == 0 &&
	    sf.f_type == NSFS_MAGIC;
}

/* Leave the current namespace for a new one, pin it at path, come back. */
static int
netns_pin_new(const char *path, struct cnw_error *err)
{
	cleanup_close int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (self < 0)
		return cnw_err(err, CNW_EINTERNAL, "open own namespace: %s", strerror(errno));
	if (unshare(CLONE_NEWNET) < 0)
		return cnw_err(err, CNW_EINTERNAL, "unshare: %s", strerror(errno));
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
		rc = cnw_err(err, CNW_EINTERNAL, "bind %s: %s", path, strerror(errno));
	if (setns(self, CLONE_NEWNET) < 0)
		fatal("cannot return to the host network namespace");
	return rc;
}

int
netns_create(const char *name, struct cnw_error *err)
{
	char path[PATH_MAX];
	int fd;

	if (netns_path(path, sizeof(path), name, err) < 0 || netns_prepare_dir(err) < 0)
		return -1;
	/* A file left by a crash before its mount is not a namespace: start over. */
	if (!netns_exists(name))
		unlink(path);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return cnw_err(err, errno == EEXIST ? CNW_EEXIST : CNW_EINTERNAL,
		    "create %s: %s", path, strerror(errno));
	close(fd);
	if (netns_pin_new(path, err) < 0) {
		unlink(path);
		return -1;
	}
	return 0;
}

int
netns_delete(const char *name, struct cnw_error *err)
{
	char path[PATH_MAX];

	if (netns_path(path, sizeof(path), name, err) < 0)
		return -1;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return cnw_err(err, CNW_EINTERNAL, "unmount %s: %s", path, strerror(errno));
	if (unlink(path) < 0 && errno != ENOENT)
		return cnw_err(err, CNW_EINTERNAL, "remove %s: %s", path, strerror(errno));
	return 0;
}

int
netns_in_use(const char *name)
{
	char path[PATH_MAX], link[64];
	struct stat ns, sb;
	struct dirent *de;
	DIR *d;
	int used = 0;

	if (netns_path(path, sizeof(path), name, NULL) < 0 || stat(path, &ns) < 0 ||
	    (d = opendir("/proc")) == NULL)
		return 0;
	while (!used && (de = readdir(d)) != NULL) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%.20s/ns/net", de->d_name);
		used = stat(link, &sb) == 0 && sb.st_ino == ns.st_ino && sb.st_dev == ns.st_dev;
	}
	closedir(d);
	return used;
}

int
netns_run(const char *name, int (*fn)(void *arg, struct cnw_error *err), void *arg,
    struct cnw_error *err)
{
	char path[PATH_MAX];
	cleanup_close int self = -1;
	cleanup_close int target = -1;
	int rc;

	if (netns_path(path, sizeof(path), name, err) < 0)
		return -1;
	if ((self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC)) < 0 ||
	    (target = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return cnw_err(err, CNW_EINTERNAL, "open %s: %s", path, strerror(errno));
	if (setns(target, CLONE_NEWNET) < 0)
		return cnw_err(err, CNW_EINTERNAL, "enter %s: %s", path, strerror(errno));
	rc = fn(arg, err);
	if (setns(self, CLONE_NEWNET) < 0)
		fatal("cannot return to the host network namespace");
	return rc;
}

int
netns_each(const char *prefix, int (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(NETNS_DIR);
	struct dirent *de;
	size_t plen = strlen(prefix);
	int rc = 0;

	if (d == NULL)
		return errno == ENOENT ? 0 : -1;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, plen) == 0)
			rc = fn(de->d_name, arg);
	closedir(d);
	return rc;
}
