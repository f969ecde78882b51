/*
 * Shared-memory regions for the fast path: an anonymous memfd, sized once
 * and sealed, mapped by the process that makes it and by the one it is
 * sent to (the worker and its drivers; later the stats segment, which the
 * parent maps read-only).
 *
 * A memfd rather than a file or SysV segment because it has no name anyone
 * else can open: the only way in is the descriptor, which the parent passes
 * over a socketpair, so who shares what is explicit.  The seals exist for
 * the receiver: a region that can no longer shrink cannot make a reader
 * fault (SIGBUS) past its end, and shm_map refuses one that could.
 */
#ifndef CNW_SHM_H
#define CNW_SHM_H

#include <stddef.h>

#include "lib/error.h"

struct shm {
	void *base;			/* NULL when not mapped */
	size_t size;			/* bytes mapped, a multiple of the page size */
	int fd;				/* the memfd, -1 when none */
};

/*
 * Make a memfd of at least size bytes (rounded up to whole pages), sealed
 * against shrinking, growing and further sealing, and map it read-write,
 * zero-filled and populated (no page fault in the fast path later).  name
 * only labels it in /proc/PID/fd ("memfd:cnw-NAME").  0, or -1 with err.
 */
int shm_create(struct shm *m, const char *name, size_t size, struct cnw_error *err);
/*
 * Map a region another process made, from its descriptor: prot is
 * PROT_READ or PROT_READ | PROT_WRITE.  It must be a memfd sealed against
 * shrinking.  On success m owns fd (shm_unmap closes it); on failure the
 * caller still does.  0, or -1 with err.
 */
int shm_map(struct shm *m, int fd, int prot, struct cnw_error *err);
/* Unmap and close; harmless after a failed shm_create/shm_map or twice. */
void shm_unmap(struct shm *m);

/* A region's size, sent with its memfd (the receiver maps this many bytes). */
struct shm_size {
	uint64_t size;			/* bytes to map */
};

#endif
