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
#define STATS_VERSION 2
#define STATS_MAX_NETWORKS 1024
#define STATS_MAX_PATHS 256		/* (uplink, peer endpoint) pairs probed */
#define STATS_MAX_TENANTS 1024

/* Why a frame was dropped: one counter each, named once here. */
#define STATS_DROPS(X)							\
	X(truncated, "shorter than its headers")			\
	X(malformed, "an overlay header or IP packet that does not parse") \
	X(unknown_network, "an overlay frame for a network this site does not have") \
	X(spoofed, "a source address outside the sending network's subnet") \
	X(no_uplink, "no healthy uplink towards the peer")		\
	X(wrong_peer, "an overlay frame not from the network's peer over that uplink") \
	X(ring_full, "the next ring was full")				\
	X(flow_quota, "a new flow over its tenant's flows quota")	\
	X(flow_table_full, "a new flow when the worker's flow table is full") \
	X(denied, "a flow a policy denies")				\
	X(policed, "over a policy's rate cap, or its tenant's bandwidth queue full") \
	X(queue_full, "the uplink's scheduler queue was full")	\
	X(duplicate, "the second copy of a redundant frame")

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

/* A path: an uplink's port to a peer's endpoint, as its probes measure it. */
struct stats_path {
	uint32_t port;			/* the uplink's port; PORT_MAX: slot free */
	uint16_t family;		/* the peer's endpoint */
	uint16_t udp_port;		/* network byte order */
	uint8_t addr[16];
	uint32_t state;			/* enum path_state (netfn/pathmon.h) */
	uint32_t rtt_us, jitter_us, loss_ppm;
	uint32_t pad;
	uint64_t sent, answered;
};

struct stats_tenant {
	uint32_t id;			/* the tenant's row id, 0 = slot free */
	uint32_t flows;			/* in the flow table now */
	uint64_t flow_drops;		/* packets of new flows over its quota */
	uint64_t policed;		/* packets over its caps */
	uint64_t denied;
};

/* Per uplink port: what the scheduler sees. */
struct stats_sched {
	uint32_t flows;			/* flows steered onto it */
	uint32_t backlog;		/* frames in its queue (paced uplinks) */
	uint64_t load_kbps;		/* its tx rate, smoothed over ~100 ms */
	uint64_t moves_in, moves_out;	/* flows moved to and from it */
	uint64_t dup_tx;		/* redundant copies sent */
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
	uint64_t flows;			/* flows in the table now */
	uint64_t flows_created, flows_expired, flow_moves, probes_tx, probes_rx;
	uint32_t npaths;		/* entries in use in paths[] (highest + 1) */
	uint32_t ntenants;		/* entries in use in tenants[] (highest + 1) */
	struct stats_path paths[STATS_MAX_PATHS];
	struct stats_tenant tenants[STATS_MAX_TENANTS];
	struct stats_sched sched[PORT_MAX];
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
