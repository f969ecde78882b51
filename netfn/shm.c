/*
 * memfd regions (see shm.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netfn/shm.h"

#define SHM_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static void *
shm_mmap(int fd, size_t size, int prot)
{
	/* Populate now: the first touch of each page is not paid per frame. */
	return mmap(NULL, size, prot, MAP_SHARED | MAP_POPULATE, fd, 0);
}

int
shm_create(struct shm *m, const char *name, size_t size, struct cnw_error *err)
{
	long page = sysconf(_SC_PAGESIZE);
	char label[64];
	int fd;

	m->base = NULL;
	m->size = 0;
	m->fd = -1;
	if (size == 0 || size > SIZE_MAX - (size_t)page)
		return cnw_err(err, CNW_EINTERNAL, "shared memory %s: bad size %zu", name, size);
	size = (size + (size_t)page - 1) / (size_t)page * (size_t)page;
	snprintf(label, sizeof(label), "cnw-%s", name);
	fd = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return cnw_err(err, CNW_EINTERNAL, "shared memory %s: memfd_create: %s", name,
			       strerror(errno));
	if (ftruncate(fd, (off_t)size) < 0) {
		cnw_err(err, CNW_EINTERNAL, "shared memory %s: cannot size to %zu bytes: %s", name,
			size, strerror(errno));
		goto fail;
	}
	if (fcntl(fd, F_ADD_SEALS, SHM_SEALS) < 0) {
		cnw_err(err, CNW_EINTERNAL, "shared memory %s: cannot seal: %s", name,
			strerror(errno));
		goto fail;
	}
	m->base = shm_mmap(fd, size, PROT_READ | PROT_WRITE);
	if (m->base == MAP_FAILED) {
		m->base = NULL;
		cnw_err(err, CNW_EINTERNAL, "shared memory %s: cannot map %zu bytes: %s", name,
			size, strerror(errno));
		goto fail;
	}
	m->size = size;
	m->fd = fd;
	return 0;
fail:
	close(fd);
	return -1;
}

int
shm_map(struct shm *m, int fd, int prot, struct cnw_error *err)
{
	struct stat st;
	int seals;
	void *base;

	m->base = NULL;
	m->size = 0;
	m->fd = -1;
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0)
		return cnw_err(err, CNW_EINTERNAL, "shared memory fd %d is not a memfd: %s", fd,
			       strerror(errno));
	if (!(seals & F_SEAL_SHRINK))
		return cnw_err(err, CNW_EINTERNAL,
			       "shared memory fd %d could shrink under us (seals 0x%x)", fd, seals);
	if (fstat(fd, &st) < 0)
		return cnw_err(err, CNW_EINTERNAL, "shared memory fd %d: fstat: %s", fd,
			       strerror(errno));
	if (st.st_size <= 0)
		return cnw_err(err, CNW_EINTERNAL, "shared memory fd %d is empty", fd);
	base = shm_mmap(fd, (size_t)st.st_size, prot);
	if (base == MAP_FAILED)
		return cnw_err(err, CNW_EINTERNAL, "shared memory fd %d: cannot map %lld bytes: %s",
			       fd, (long long)st.st_size, strerror(errno));
	m->base = base;
	m->size = (size_t)st.st_size;
	m->fd = fd;
	return 0;
}

void
shm_unmap(struct shm *m)
{
	if (m->base != NULL)
		munmap(m->base, m->size);
	if (m->fd >= 0)
		close(m->fd);
	m->base = NULL;
	m->size = 0;
	m->fd = -1;
}
