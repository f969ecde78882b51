# netfn/: the fast path: shared memory, rings, the buffer pool, ports,
# counters, the flow table, classification, steering, the scheduler, the
# overlay and the worker's stages.
noinst_LIBRARIES += netfn/libnetfn.a
netfn_libnetfn_a_SOURCES = \
	netfn/shm.c netfn/shm.h \
	netfn/ring.h netfn/ring_guard.h \
	netfn/pool.c netfn/pool.h \
	netfn/port.c netfn/port.h \
	netfn/stats.c netfn/stats.h \
	netfn/flow.c netfn/flow.h \
	netfn/classify.c netfn/classify.h \
	netfn/overlay.c netfn/overlay.h \
	netfn/pathmon.c netfn/pathmon.h \
	netfn/steer.c netfn/steer.h \
	netfn/dedup.c netfn/dedup.h \
	netfn/sched.c netfn/sched.h \
	netfn/shape.c netfn/shape.h \
	netfn/worker.c netfn/worker.h netfn/worker_impl.h netfn/worker_check.h \
	netfn/worker_buf.c netfn/worker_count.c netfn/worker_tap.c netfn/worker_steer.c \
	netfn/worker_udp.c netfn/worker_table.c netfn/worker_main.c
