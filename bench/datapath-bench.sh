#!/bin/bash
# Data-path figures (issue: shared-memory fast path), each beside its
# baselines measured in the same run on this machine:
#   - TCP throughput (iperf3, $SECS s) tenant to tenant across the two-site
#     lab, against kernel veth forwarding between two namespaces and against
#     a plain TUN-to-TUN forwarder with vnet headers (bench/tapfwd.c);
#   - small packets: 64-byte UDP datagrams per second received (iperf3 -u);
#   - round-trip latency (ping, $PINGS packets at 1 ms): median and p99,
#     and what the fast path adds over veth;
#   - the ring: ns per frame for bursts of 32 between two threads.
# Prints figures; never decides pass or fail.  Root; removes what it makes.
#   BUILDDIR=. bench/datapath-bench.sh
set -euo pipefail
BENCH_HERE=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_HERE/lib.sh"
BUILDDIR=${BUILDDIR:-$BENCH_HERE/..}
SECS=${SECS:-5}
PINGS=${PINGS:-500}
export LAB_DIR=$(mktemp -d /tmp/cnw-dpbench.XXXXXX)
export CNWD=$BUILDDIR/cnwd/cnwd CNWCTL=$BUILDDIR/cli/cnwctl
fwd=""
cleanup() {
	[ -n "$fwd" ] && kill "$fwd" 2>/dev/null
	bench_lab_down
	bench_netns_cleanup
	rm -rf "$LAB_DIR"
}
trap cleanup EXIT

# Baseline 1: kernel veth between two namespaces
bench_veth dpb-a dpb-b
read -r veth_tcp veth_rtx < <(bench_tcp dpb-a dpb-b 10.99.0.2)
veth_udp=$(bench_udp64 dpb-a dpb-b 10.99.0.2)
read -r veth_p50 veth_p99 < <(bench_rtt dpb-a 10.99.0.2)

# Baseline 2: a plain TUN-to-TUN forwarder
ip netns add dpb-c; ip netns add dpb-d
BENCH_NETNS+=(dpb-c dpb-d)
for n in c d; do
	ip -n "dpb-$n" tuntap add dev fwd0 mode tun vnet_hdr
	ip -n "dpb-$n" link set fwd0 up; ip -n "dpb-$n" link set lo up
done
ip -n dpb-c addr add 10.98.0.1/24 dev fwd0
ip -n dpb-d addr add 10.98.0.2/24 dev fwd0
"$BUILDDIR/bench/tapfwd" dpb-c dpb-d & fwd=$!
bench_wait 5 ip netns exec dpb-c ping -q -c 1 -W 1 10.98.0.2 >/dev/null
read -r tap_tcp tap_rtx < <(bench_tcp dpb-c dpb-d 10.98.0.2)
tap_udp=$(bench_udp64 dpb-c dpb-d 10.98.0.2)
read -r tap_p50 tap_p99 < <(bench_rtt dpb-c 10.98.0.2)
kill "$fwd"; fwd=""

# cnw: the two-site lab
bench_lab_start
read -r cnw_tcp cnw_rtx < <(bench_tcp edge.cameras.net gw.cameras.net 10.2.0.1)
cnw_udp=$(bench_udp64 edge.cameras.net gw.cameras.net 10.2.0.1)
read -r cnw_p50 cnw_p99 < <(bench_rtt edge.cameras.net 10.2.0.1)

ratio() { bench_ratio "$@"; }
printf '\n%-40s %12s %12s %12s %10s %10s\n' "" "kernel veth" "tun fwd" "cnw lab" "cnw/veth" "cnw/tun"
printf '%-40s %12s %12s %12s %10s %10s\n' "TCP Gbit/s (iperf3, ${SECS}s)" "$veth_tcp" "$tap_tcp" "$cnw_tcp" \
    "$(ratio "$cnw_tcp" "$veth_tcp")" "$(ratio "$cnw_tcp" "$tap_tcp")"
printf '%-40s %12s %12s %12s\n' "TCP retransmits" "$veth_rtx" "$tap_rtx" "$cnw_rtx"
printf '%-40s %12s %12s %12s %10s %10s\n' "64-byte UDP packets/s received" "$veth_udp" "$tap_udp" "$cnw_udp" \
    "$(ratio "$cnw_udp" "$veth_udp")" "$(ratio "$cnw_udp" "$tap_udp")"
printf '%-40s %12s %12s %12s\n' "ping RTT median us" "$veth_p50" "$tap_p50" "$cnw_p50"
printf '%-40s %12s %12s %12s\n' "ping RTT p99 us" "$veth_p99" "$tap_p99" "$cnw_p99"
printf 'added by the fast path per one-way trip (two sites, so two workers each way): median %d us, p99 %d us\n' \
    $(( (cnw_p50 - veth_p50) / 2 )) $(( (cnw_p99 - veth_p99) / 2 ))
"$BUILDDIR/bench/ring-bench" 2>/dev/null | grep -E "ring only|ring\+pool" || true
