/*
 * Buffers of the fastpath worker: the pool's free list and the cache of it
 * we keep, the fill rings we lend buffers on, and buffers back on the
 * completion rings (netfn/worker_impl.h).
 */
#include "netfn/worker_impl.h"

/*
 * Take up to n free buffers: the most recently freed first, from a small
 * stack of our own, then from the pool's free list.  The list is a ring,
 * first in first out: alone, it would send every frame through the next
 * of all 4096 buffers (272 MB), each on a page and lines no cache still
 * holds; the stack keeps the buffers in use few and hot (a mempool cache,
 * as DPDK's).  The list's positions are ours; a slot that does not name a
 * free buffer was overwritten by someone else and is skipped (that buffer
 * is lost until the worker restarts).
 */
uint32_t
worker_alloc(struct worker *w, uint32_t *idx, uint32_t n)
{
	uint32_t got = 0;

	while (got < n && w->ncached > 0) {
		idx[got] = w->cached[--w->ncached];
		w->owner[idx[got++]] = OWN_WORKER;
	}
	while (got < n && w->free_tail != w->free_head) {
		uint32_t i = w->free_ring->slots[w->free_tail++ & w->free_mask];

		if (i < w->nbufs && w->owner[i] == OWN_FREE) {
			w->owner[i] = OWN_WORKER;
			idx[got++] = i;
		} else if (w->lost++ == 0) {
			log_warnx("buffer pool: free list overwritten by someone; buffers lost");
		}
	}
	/* Only for observers (pool_free_count): release pairs with ring_count. */
	atomic_store_explicit(&w->free_ring->cons.tail, w->free_tail, memory_order_release);
	return got;
}

/* Give back buffers the worker holds; there is always room (one slot each). */
void
worker_release(struct worker *w, const uint32_t *idx, uint32_t n)
{
	uint32_t head = w->free_head;

	for (uint32_t i = 0; i < n; i++) {
		w->owner[idx[i]] = OWN_FREE;
		if (w->ncached < WORKER_CACHE_MAX)
			w->cached[w->ncached++] = idx[i];
		else
			w->free_ring->slots[w->free_head++ & w->free_mask] = idx[i];
	}
	if (w->free_head != head)
		atomic_store_explicit(&w->free_ring->prod.head, w->free_head, memory_order_release);
}

/*
 * Lend up to n buffers the worker holds to port's driver for receiving;
 * returns how many it took (the rest are still the caller's).  The caller
 * wakes the driver (worker_kick), once for all it lent.  The buffers are
 * not touched: the driver that fills one sets its header (pool_buf_reset,
 * pool.h), so its lines move to that driver's core once, not twice.
 */
static uint32_t
worker_lend_fill(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	struct worker_port *p = &w->ports[port];
	uint32_t put;

	put = ring_guard_put(&p->fill, idx, n);
	for (uint32_t i = 0; i < put; i++)
		w->owner[idx[i]] = (uint16_t)(OWN_FILL | port);
	p->nfill += put;
	return put;
}

/* Buffers back from a port: refill its fill ring first, free the rest. */
static void
worker_recycle(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	struct worker_port *p = &w->ports[port];
	uint32_t want = p->up && p->nfill < w->fill_target ? w->fill_target - p->nfill : 0;
	uint32_t lent = worker_lend_fill(w, port, idx, n < want ? n : want);

	worker_release(w, idx + lent, n - lent);
	if (lent > 0)
		worker_kick(p);
}

/* Top up an up port's fill ring to the target, in bursts, once it is a quarter short. */
void
worker_fill(struct worker *w, uint32_t port)
{
	struct worker_port *p = &w->ports[port];
	uint32_t idx[WORKER_BURST], before = p->nfill;

	if (!p->up || p->nfill + w->fill_target / 4 > w->fill_target)
		return;
	while (p->nfill < w->fill_target) {
		uint32_t want = w->fill_target - p->nfill, got, lent;

		got = worker_alloc(w, idx, want < WORKER_BURST ? want : WORKER_BURST);
		lent = worker_lend_fill(w, port, idx, got);
		worker_release(w, idx + lent, got - lent);
		if (got == 0 || lent < got)
			break;
	}
	if (p->nfill > before)
		worker_kick(p);
}

/* Buffers lent for receiving per up port: half the pool shared out, within bounds. */
void
worker_fill_retarget(struct worker *w)
{
	uint32_t nup = 0, t;

	for (uint32_t i = 0; i < w->nlisted; i++)
		nup += w->ports[w->listed[i]].up;
	t = nup > 0 ? w->nbufs / (2 * nup) : WORKER_FILL_MAX;
	w->fill_target = t < WORKER_FILL_MIN ? WORKER_FILL_MIN : t > WORKER_FILL_MAX ?
	    WORKER_FILL_MAX : t;
}

void
worker_from_comp(struct worker *w, uint32_t port, const uint32_t *idx, uint32_t n)
{
	uint32_t ok[WORKER_BURST], nok = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (worker_take(w, port, idx[i], OWN_FILL | OWN_TX))
			ok[nok++] = idx[i];
		else
			worker_bad_index(w, port, "completion", idx[i]);
	}
	worker_recycle(w, port, ok, nok);
}
