# Tests ----------------------------------------------------------------
# Unit tests link the layers they test (LDADD: everything, unless a test
# names a lower layer); sources default to tests/unit/NAME.c.
AM_CPPFLAGS += -DSRCDIR='"$(abs_top_srcdir)"'

UNIT_TESTS = \
	tests/unit/test_store tests/unit/test_validate tests/unit/test_token \
	tests/unit/test_msg tests/unit/test_config tests/unit/test_openapi tests/unit/test_ev \
	tests/unit/test_ring tests/unit/test_overlay tests/unit/test_worker tests/unit/test_hal \
	tests/unit/test_emu tests/unit/test_sign tests/unit/test_discover tests/unit/test_afpacket \
	tests/unit/test_flow tests/unit/test_classify tests/unit/test_pathmon \
	tests/unit/test_steer tests/unit/test_sched tests/unit/test_shape tests/unit/test_policy tests/unit/test_datapath \
	tests/unit/test_control tests/unit/test_reconcile tests/unit/test_json
UNIT_LDADD = $(CMOCKA_LIBS)
LDADD += $(CMOCKA_LIBS)

# Tests of one lower layer link only that layer and the ones below it.
tests_unit_test_ring_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_ev_LDADD = $(LIB_LIBS) $(UNIT_LDADD)
tests_unit_test_token_LDADD = $(LIB_LIBS) $(UNIT_LDADD)
tests_unit_test_flow_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_classify_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_pathmon_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_steer_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_sched_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_shape_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_overlay_LDADD = $(NETFN_LIBS) $(UNIT_LDADD)
tests_unit_test_emu_LDADD = $(HAL_LIBS) $(UNIT_LDADD)
tests_unit_test_sign_SOURCES = tests/unit/test_sign.c cli/cnwctl_driver.c

# Tests of the store's rows share a temporary store (fixture_store.c).
FIXTURE_STORE = tests/unit/fixture_store.c tests/unit/fixture_store.h
tests_unit_test_store_SOURCES = tests/unit/test_store.c $(FIXTURE_STORE)
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c $(FIXTURE_STORE)
tests_unit_test_control_SOURCES = tests/unit/test_control.c $(FIXTURE_STORE)
tests_unit_test_reconcile_SOURCES = tests/unit/test_reconcile.c $(FIXTURE_STORE)
tests_unit_test_datapath_SOURCES = tests/unit/test_datapath.c $(FIXTURE_STORE)
# Tests of the drivers share their frames (fixture_frames.c).
FIXTURE_FRAMES = tests/unit/fixture_frames.c tests/unit/fixture_frames.h
tests_unit_test_hal_SOURCES = tests/unit/test_hal.c $(FIXTURE_FRAMES)
tests_unit_test_afpacket_SOURCES = tests/unit/test_afpacket.c $(FIXTURE_FRAMES)

# Fuzz targets, run over a seeded corpus in make check; make fuzz runs them
# under libFuzzer (clang) for FUZZ_SECONDS each.
FUZZ_TARGETS = msg json prefix
FUZZ_CHECKS = tests/fuzz/fuzz_msg tests/fuzz/fuzz_json tests/fuzz/fuzz_prefix
tests_fuzz_fuzz_msg_SOURCES = tests/fuzz/fuzz_msg.c tests/fuzz/run_corpus.c
tests_fuzz_fuzz_msg_CPPFLAGS = $(AM_CPPFLAGS) -DCORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus"' \
	-DFUZZ_NAME='"msg"'
tests_fuzz_fuzz_msg_LDADD = $(PROTO_LIBS)
tests_fuzz_fuzz_json_SOURCES = tests/fuzz/fuzz_json.c tests/fuzz/run_corpus.c
tests_fuzz_fuzz_json_CPPFLAGS = $(AM_CPPFLAGS) -DCORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus"' \
	-DFUZZ_NAME='"json"'
tests_fuzz_fuzz_prefix_SOURCES = tests/fuzz/fuzz_prefix.c tests/fuzz/run_corpus.c
tests_fuzz_fuzz_prefix_CPPFLAGS = $(AM_CPPFLAGS) -DCORPUS_DIR='"$(abs_top_srcdir)/tests/fuzz/corpus"' \
	-DFUZZ_NAME='"prefix"'
tests_fuzz_fuzz_prefix_LDADD = tests/fuzz/libfuzzprefix.a $(LIB_LIBS)
# The prefix fuzzer needs the subnet checks and nothing of the store.
check_LIBRARIES = tests/fuzz/libfuzzprefix.a
tests_fuzz_libfuzzprefix_a_SOURCES = tenants/network_check.c
UNIT_TESTS += $(FUZZ_CHECKS)

# The layer check: no folder uses one above it (tests/layers.sh).
LAYER_CHECK = tests/layers.sh
EXTRA_DIST += $(LAYER_CHECK)

# Tools the integration tests use (not tests themselves).
TEST_TOOLS = tests/tools/owd
tests_tools_owd_LDADD = -lm
check_PROGRAMS += $(UNIT_TESTS) $(TEST_TOOLS)

# The libFuzzer builds (clang): fuzz-build compiles them, make check runs
# it when clang is there (so that they cannot stop compiling unseen), and
# make fuzz runs each over its corpus for FUZZ_SECONDS.  Each links the
# sources of what it fuzzes, instrumented, not the gcc-built libraries;
# they are built afresh each time (their headers are no prerequisites, and
# a stale binary would hide a change that breaks them).
FUZZ_SECONDS = 30
FUZZ_CLANG = clang
FUZZ_CC = $(FUZZ_CLANG) -fsanitize=fuzzer,address,undefined -g -O1 -std=gnu11 -D_GNU_SOURCE \
	-I$(top_srcdir) -I$(top_builddir) $(MHD_CFLAGS) $(JANSSON_CFLAGS) $(SQLITE_CFLAGS)
FUZZ_LIBS = $(JANSSON_LIBS) $(SQLITE_LIBS) $(MNL_LIBS) $(CRYPTO_LIBS)
FUZZ_MSG_SRC = $(top_srcdir)/tests/fuzz/fuzz_msg.c $(top_srcdir)/lib/msg.c \
	$(top_srcdir)/proto/proto.c $(top_srcdir)/hal/emu.c
FUZZ_JSON_SRC = $(top_srcdir)/tests/fuzz/fuzz_json.c $(top_srcdir)/api/json.c \
	$(top_srcdir)/api/problem.c
FUZZ_PREFIX_SRC = $(top_srcdir)/tests/fuzz/fuzz_prefix.c $(top_srcdir)/lib/addr.c \
	$(top_srcdir)/tenants/network_check.c $(top_srcdir)/lib/error.c
fuzz-out/msg: $(FUZZ_MSG_SRC) fuzz-always
	@mkdir -p fuzz-out
	$(AM_V_CCLD)$(FUZZ_CC) -o $@ $(FUZZ_MSG_SRC) $(FUZZ_LIBS)
fuzz-out/json: $(FUZZ_JSON_SRC) fuzz-always
	@mkdir -p fuzz-out
	$(AM_V_CCLD)$(FUZZ_CC) -o $@ $(FUZZ_JSON_SRC) $(FUZZ_LIBS)
fuzz-out/prefix: $(FUZZ_PREFIX_SRC) fuzz-always
	@mkdir -p fuzz-out
	$(AM_V_CCLD)$(FUZZ_CC) -o $@ $(FUZZ_PREFIX_SRC) $(FUZZ_LIBS)
fuzz-build: fuzz-out/msg fuzz-out/json fuzz-out/prefix
fuzz: fuzz-build
	for t in $(FUZZ_TARGETS); do \
	    mkdir -p fuzz-out/$$t.corpus; \
	    fuzz-out/$$t -max_total_time=$(FUZZ_SECONDS) fuzz-out/$$t.corpus \
	        $(top_srcdir)/tests/fuzz/corpus/$$t || exit 1; \
	done
# Without clang, say so rather than fail: the corpus runs above still test
# the targets' code under gcc.
check-local:
	@if command -v $(FUZZ_CLANG) >/dev/null 2>&1; then \
	    $(MAKE) $(AM_MAKEFLAGS) fuzz-build; \
	else \
	    echo "check: $(FUZZ_CLANG) missing: the libFuzzer builds (make fuzz-build) not checked"; \
	fi
clean-local:
	rm -rf fuzz-out
fuzz-always:
.PHONY: fuzz fuzz-build fuzz-always

# emulation.sh last: see EMULATION_LOG below.
OTHER_INTEGRATION_TESTS = tests/integration/api.sh tests/integration/cli.sh \
	tests/integration/networks.sh tests/integration/crash.sh tests/integration/datapath.sh \
	tests/integration/lifecycle.sh tests/integration/tls.sh \
	tests/integration/plugins.sh tests/integration/discovery.sh tests/integration/cnwctl_hal.sh \
	tests/integration/steering.sh tests/integration/shaping.sh tests/integration/policies.sh \
	tests/integration/metrics.sh
INTEGRATION_TESTS = $(OTHER_INTEGRATION_TESTS) tests/integration/emulation.sh
CONFIG_TESTS = tests/config/golden.sh

# emulation.sh measures delays of a few hundred microseconds: under make -j
# it runs alone, after every other test, since beside the lab tests that
# push traffic and the unit tests that spin threads on both cores its wifi
# delays came out 0.7-0.9 ms high.  (So make check TESTS=emulation.sh runs
# the others first when their logs are stale: run the script directly.)
EMULATION_LOG = tests/integration/emulation.sh.log
$(EMULATION_LOG): $(LAYER_CHECK:=.log) $(UNIT_TESTS:=.log) $(CONFIG_TESTS:=.log) \
	$(OTHER_INTEGRATION_TESTS:=.log)

TESTS += $(LAYER_CHECK) $(UNIT_TESTS) $(CONFIG_TESTS) $(INTEGRATION_TESTS)

# Every test speaks TAP, so the totals count test cases, not programs.
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = \
	CMOCKA_MESSAGE_OUTPUT=TAP; export CMOCKA_MESSAGE_OUTPUT; \
	CNWD='$(abs_top_builddir)/cnwd/cnwd'; export CNWD; \
	CNWCTL='$(abs_top_builddir)/cli/cnwctl'; export CNWCTL; \
	OWD='$(abs_top_builddir)/tests/tools/owd'; export OWD; \
	BUILDDIR='$(abs_top_builddir)'; export BUILDDIR; \
	SRCDIR='$(abs_top_srcdir)'; export SRCDIR;

EXTRA_DIST += tests/integration/lib.sh $(INTEGRATION_TESTS) $(CONFIG_TESTS) tests/config/cases \
	tests/fuzz/corpus
