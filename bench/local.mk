# Benchmarks: run on demand (make bench), never part of the tests; built
# by make check all the same, so that none of them stops compiling unseen.
BENCH_TOOLS = bench/httpload bench/bare_mhd bench/ring-bench bench/tapfwd bench/worker-bench \
	bench/flow-bench bench/hal-bench
check_PROGRAMS += $(BENCH_TOOLS)
bench_worker_bench_LDADD = $(NETFN_LIBS)
bench_tapfwd_LDADD =
bench_flow_bench_LDADD = $(NETFN_LIBS)
bench_ring_bench_LDADD = $(NETFN_LIBS)
bench_hal_bench_LDADD = $(HAL_LIBS)
bench_httpload_LDADD = $(LIB_LIBS)
bench_bare_mhd_LDADD = $(MHD_LIBS)

EXTRA_DIST += bench/api-bench.sh bench/networks-bench.sh bench/datapath-bench.sh \
	bench/emulation-bench.sh bench/steering-bench.sh bench/quick.sh bench/lib.sh

bench: cnwd/cnwd cli/cnwctl tests/tools/owd $(BENCH_TOOLS)
	./bench/ring-bench
	./bench/worker-bench
	./bench/flow-bench
	./bench/hal-bench
	BUILDDIR='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/bench/datapath-bench.sh
	BUILDDIR='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/bench/emulation-bench.sh
	BUILDDIR='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/bench/steering-bench.sh
	BUILDDIR='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/bench/api-bench.sh
	BUILDDIR='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/bench/networks-bench.sh
# Under a minute: the lab's TCP and 64-byte UDP against kernel veth, as ratios.
bench-quick: cnwd/cnwd cli/cnwctl
	BUILDDIR='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/bench/quick.sh
.PHONY: bench bench-quick
