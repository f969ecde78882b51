/*
 * The stats segment (see stats.h): the worker's counters in a memfd the
 * parent maps read-only, kept consistent with a sequence counter.
 *
 * A seqlock rather than a lock or double buffering because there is one
 * writer that must never wait (the packet loop) and readers that are rare
 * and may retry (a Prometheus scrape, an API call).  The writer's cost is
 * two stores per burst and, on x86, no fence instruction at all.
 *
 * The counters themselves are plain integers that the reader copies while
 * the writer may be changing them; the copy is thrown away unless the
 * epoch was even and unchanged around it, which is what the fences below
 * guarantee (the classic seqlock argument: Boehm, "Can seqlocks get along
 * with programming language memory models?", 2012).
 */
#include <stdatomic.h>
#include <string.h>

#include "netfn/stats.h"
#include "lib/util.h"

/* How long a reader waits for the worker to finish a burst before giving up. */
#define STATS_SNAPSHOT_TIMEOUT_NS (50 * 1000 * 1000)

const char *const stats_drop_names[STATS_DROP_MAX] = {
#define STATS_DROP_NAME(name, help) [STATS_DROP_##name] = #name,
	STATS_DROPS(STATS_DROP_NAME)
#undef STATS_DROP_NAME
};

const char *const stats_drop_help[STATS_DROP_MAX] = {
#define STATS_DROP_HELP(name, help) [STATS_DROP_##name] = help,
	STATS_DROPS(STATS_DROP_HELP)
#undef STATS_DROP_HELP
};

size_t
stats_size(void)
{
	return sizeof(struct stats_segment);
}

void
stats_init(struct stats_segment *s)
{
	memset(s, 0, sizeof(*s));
	s->magic = STATS_MAGIC;
	s->version = STATS_VERSION;
	atomic_init(&s->epoch, 0);
}

void
stats_begin(struct stats_segment *s)
{
	/* Our own counter: only the worker writes it, relaxed is enough. */
	unsigned e = atomic_load_explicit(&s->epoch, memory_order_relaxed);

	atomic_store_explicit(&s->epoch, e + 1, memory_order_relaxed);
	/*
	 * Pairs with the acquire fence in stats_snapshot: a reader that sees
	 * any counter written after this point also sees the odd epoch.
	 */
	atomic_thread_fence(memory_order_release);
}

void
stats_end(struct stats_segment *s)
{
	unsigned e = atomic_load_explicit(&s->epoch, memory_order_relaxed);

	/*
	 * Release pairs with the acquire load of the first epoch read in
	 * stats_snapshot: the counters are written before the even epoch
	 * that publishes them.
	 */
	atomic_store_explicit(&s->epoch, e + 1, memory_order_release);
}

/* One attempt: 1 if out now holds a consistent copy. */
static int
stats_try_copy(const struct stats_segment *s, struct stats_segment *out)
{
	/* Acquire pairs with the release store in stats_end. */
	unsigned before = atomic_load_explicit(&s->epoch, memory_order_acquire);
	unsigned after;

	if (before & 1)
		return 0;
	memcpy(out, s, sizeof(*out));
	/* Pairs with the release fence in stats_begin: the copy is done first. */
	atomic_thread_fence(memory_order_acquire);
	after = atomic_load_explicit(&s->epoch, memory_order_relaxed);
	return before == after;
}

int
stats_snapshot(const struct stats_segment *s, struct stats_segment *out)
{
	uint64_t deadline = cnw_now_ns() + STATS_SNAPSHOT_TIMEOUT_NS;
	unsigned tries = 0;

	if (s->magic != STATS_MAGIC || s->version != STATS_VERSION)
		return -1;
	while (!stats_try_copy(s, out)) {
		cpu_relax();
		/* The clock is read now and then, not on every pause. */
		if (++tries % 64 == 0 && cnw_now_ns() > deadline)
			return -1;
	}
	return 0;
}
