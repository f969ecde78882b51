/*
 * The stats segment: counters of the fast path in a memfd that the worker
 * writes and the parent maps read-only, to serve GET /metrics and the
 * counters in the API's objects.
 *
 * Consistency by a sequence counter (a seqlock): the worker makes `epoch`
 * odd, updates, makes it even again (release); a reader copies the segment
 * between two reads of an even, unchanged epoch (acquire), and retries
 * otherwise.  The worker publishes once per burst, not per packet.
 */
#ifndef CNW_STATS_H
#define CNW_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "netfn/port.h"

#define STATS_MAGIC 0x636e7753u		/* "cnwS" */
#define STATS_VERSION 1
#define STATS_MAX_NETWORKS 1024

/* Why a frame was dropped: one counter each, named once here. */
#define STATS_DROPS(X)							\
	X(truncated, "shorter than its headers")			\
	X(malformed, "an overlay header or IP packet that does not parse") \
	X(unknown_network, "an overlay frame for a network this site does not have") \
	X(spoofed, "a source address outside the sending network's subnet") \
	X(no_uplink, "no healthy uplink towards the peer")		\
	X(wrong_peer, "an overlay frame not from the network's peer over that uplink") \
	X(ring_full, "the next ring was full")

enum stats_drop {
#define STATS_DROP_ENUM(name, help) STATS_DROP_##name,
	STATS_DROPS(STATS_DROP_ENUM)
#undef STATS_DROP_ENUM
	STATS_DROP_MAX
};

struct stats_counters {
	uint64_t rx_packets, rx_bytes;	/* into the worker from this object */
	uint64_t tx_packets, tx_bytes;	/* out of the worker to this object */
	uint64_t drops;
};

struct stats_segment {
	uint32_t magic;
	uint32_t version;
	atomic_uint epoch;		/* odd while the worker writes */
	uint32_t nnetworks;		/* entries in use in networks[] */
	struct {
		uint32_t id;		/* overlay network id, 0 = free */
		uint32_t pad;
		struct stats_counters c;
	} networks[STATS_MAX_NETWORKS];
	struct stats_counters ports[PORT_MAX];
	uint64_t drops[STATS_DROP_MAX];
	uint64_t bursts;		/* worker loop iterations that moved frames */
};

size_t stats_size(void);
void stats_init(struct stats_segment *s);
/* Writer side (the worker) */
void stats_begin(struct stats_segment *s);
void stats_end(struct stats_segment *s);
/* Reader side: a consistent copy into out; -1 if the worker never let go. */
int stats_snapshot(const struct stats_segment *s, struct stats_segment *out);
extern const char *const stats_drop_names[STATS_DROP_MAX];
extern const char *const stats_drop_help[STATS_DROP_MAX];

#endif
