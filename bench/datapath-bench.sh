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
here=$(cd "$(dirname "$0")" && pwd)
BUILDDIR=${BUILDDIR:-$here/..}
SECS=${SECS:-5}
PINGS=${PINGS:-500}
export LAB_DIR=$(mktemp -d /tmp/cnw-dpbench.XXXXXX)
export CNWD=$BUILDDIR/cnwd/cnwd CNWCTL=$BUILDDIR/cli/cnwctl
fwd=""
cleanup() {
	[ -n "$fwd" ] && kill "$fwd" 2>/dev/null
	bash "$here/../examples/lab/lab.sh" down >/dev/null 2>&1 || true
	for n in dpb-a dpb-b dpb-c dpb-d; do ip netns delete "$n" 2>/dev/null || true; done
	rm -rf "$LAB_DIR"
}
trap cleanup EXIT

tcp() {	# tcp CLIENT_NS SERVER_NS SERVER_ADDR -> Gbit/s
	ip netns exec "$2" iperf3 -s -D -1 -p 5301 >/dev/null 2>&1
	sleep 0.3
	ip netns exec "$1" iperf3 -c "$3" -p 5301 -t "$SECS" -J 2>/dev/null |
	    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))'
}

udp64() {	# udp64 CLIENT_NS SERVER_NS SERVER_ADDR -> packets/s received
	ip netns exec "$2" iperf3 -s -D -1 -p 5302 >/dev/null 2>&1
	sleep 0.3
	ip netns exec "$1" iperf3 -c "$3" -p 5302 -u -l 64 -b 0 -t "$SECS" -J 2>/dev/null |
	    python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum"]
print("%.0f" % ((e["packets"] - e["lost_packets"]) / e["seconds"]))'
}

rtt() {	# rtt NS ADDR -> "median p99" in microseconds
	ip netns exec "$1" ping -q -c 3 -i 0.01 "$2" >/dev/null
	ip netns exec "$1" ping -c "$PINGS" -i 0.001 "$2" 2>/dev/null |
	    python3 -c '
import re, statistics, sys
t = sorted(float(m.group(1)) * 1000 for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read()))
print("%.0f %.0f" % (statistics.median(t), t[int(len(t) * 0.99) - 1]))'
}

# Baseline 1: kernel veth between two namespaces
ip netns add dpb-a; ip netns add dpb-b
ip link add dpb-va netns dpb-a type veth peer name dpb-vb netns dpb-b
ip -n dpb-a addr add 10.99.0.1/24 dev dpb-va; ip -n dpb-a link set dpb-va up; ip -n dpb-a link set lo up
ip -n dpb-b addr add 10.99.0.2/24 dev dpb-vb; ip -n dpb-b link set dpb-vb up; ip -n dpb-b link set lo up
veth_tcp=$(tcp dpb-a dpb-b 10.99.0.2)
veth_udp=$(udp64 dpb-a dpb-b 10.99.0.2)
read -r veth_p50 veth_p99 < <(rtt dpb-a 10.99.0.2)

# Baseline 2: a plain TUN-to-TUN forwarder
ip netns add dpb-c; ip netns add dpb-d
for n in c d; do
	ip -n "dpb-$n" tuntap add dev fwd0 mode tun vnet_hdr
	ip -n "dpb-$n" link set fwd0 up; ip -n "dpb-$n" link set lo up
done
ip -n dpb-c addr add 10.98.0.1/24 dev fwd0
ip -n dpb-d addr add 10.98.0.2/24 dev fwd0
"$BUILDDIR/bench/tapfwd" dpb-c dpb-d & fwd=$!
sleep 0.3
tap_tcp=$(tcp dpb-c dpb-d 10.98.0.2)
tap_udp=$(udp64 dpb-c dpb-d 10.98.0.2)
read -r tap_p50 tap_p99 < <(rtt dpb-c 10.98.0.2)
kill "$fwd"; fwd=""

# cnw: the two-site lab
bash "$here/../examples/lab/lab.sh" start >/dev/null 2>&1
sleep 0.5
cnw_tcp=$(tcp edge.cameras.net gw.cameras.net 10.2.0.1)
cnw_udp=$(udp64 edge.cameras.net gw.cameras.net 10.2.0.1)
read -r cnw_p50 cnw_p99 < <(rtt edge.cameras.net 10.2.0.1)

ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
printf '\n%-40s %12s %12s %12s %10s %10s\n' "" "kernel veth" "tun fwd" "cnw lab" "cnw/veth" "cnw/tun"
printf '%-40s %12s %12s %12s %10s %10s\n' "TCP Gbit/s (iperf3, ${SECS}s)" "$veth_tcp" "$tap_tcp" "$cnw_tcp" \
    "$(ratio "$cnw_tcp" "$veth_tcp")" "$(ratio "$cnw_tcp" "$tap_tcp")"
printf '%-40s %12s %12s %12s %10s %10s\n' "64-byte UDP packets/s received" "$veth_udp" "$tap_udp" "$cnw_udp" \
    "$(ratio "$cnw_udp" "$veth_udp")" "$(ratio "$cnw_udp" "$tap_udp")"
printf '%-40s %12s %12s %12s\n' "ping RTT median us" "$veth_p50" "$tap_p50" "$cnw_p50"
printf '%-40s %12s %12s %12s\n' "ping RTT p99 us" "$veth_p99" "$tap_p99" "$cnw_p99"
printf 'added by the fast path per one-way trip (two sites, so two workers each way): median %d us, p99 %d us\n' \
    $(( (cnw_p50 - veth_p50) / 2 )) $(( (cnw_p99 - veth_p99) / 2 ))
"$BUILDDIR/bench/ring-bench" 2>/dev/null | grep -E "ring only|ring\+pool" || true
