# Shell functions the data-path benchmarks share (sourced, not run):
# iperf3 and ping figures between two namespaces, a kernel veth pair as
# the baseline, the two-site lab.  Each waits for what it needs (a server
# listening, a path answering) rather than sleeping a guessed time.
#   BENCH_HERE: the bench/ directory; BUILDDIR: the build tree.

# bench_wait SECS CMD...: until CMD succeeds; fails after SECS seconds.
bench_wait() {
	local secs=$1 end
	shift
	end=$(( ${EPOCHREALTIME/./} + secs * 1000000 ))
	until "$@"; do
		[ "${EPOCHREALTIME/./}" -ge "$end" ] && return 1
		sleep 0.05
	done
}

# bench_listening NS PORT: something listens on TCP PORT in NS.
bench_listening() {
	ip netns exec "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q .
}

# bench_iperf_server NS PORT: a one-shot iperf3 server, once it listens.
bench_iperf_server() {
	ip netns exec "$1" iperf3 -s -D -1 -p "$2" >/dev/null 2>&1
	bench_wait 5 bench_listening "$1" "$2" ||
		{ echo "bench: iperf3 -s in $1 does not listen on $2" >&2; return 1; }
}

# bench_tcp CLIENT_NS SERVER_NS SERVER_ADDR -> "Gbit/s retransmits", one
# stream for $SECS s.
bench_tcp() {
	bench_iperf_server "$2" 5301
	ip netns exec "$1" iperf3 -c "$3" -p 5301 -t "$SECS" -J 2>/dev/null |
	    python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]
print("%.2f %d" % (e["sum_received"]["bits_per_second"] / 1e9, e["sum_sent"].get("retransmits", 0)))'
}

# bench_udp64 CLIENT_NS SERVER_NS SERVER_ADDR -> 64-byte UDP datagrams per
# second received, sent as fast as iperf3 can for $SECS s.
bench_udp64() {
	bench_iperf_server "$2" 5302
	ip netns exec "$1" iperf3 -c "$3" -p 5302 -u -l 64 -b 0 -t "$SECS" -J 2>/dev/null |
	    python3 -c '
import json, sys
e = json.load(sys.stdin)["end"]["sum"]
print("%.0f" % ((e["packets"] - e["lost_packets"]) / e["seconds"]))'
}

# bench_rtt NS ADDR -> "median p99" of $PINGS pings 1 ms apart, in us.
bench_rtt() {
	ip netns exec "$1" ping -q -c 3 -i 0.01 "$2" >/dev/null
	ip netns exec "$1" ping -c "$PINGS" -i 0.001 "$2" 2>/dev/null |
	    python3 -c '
import re, statistics, sys
t = sorted(float(m.group(1)) * 1000 for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read()))
print("%.0f %.0f" % (statistics.median(t), t[int(len(t) * 0.99) - 1]))'
}

# bench_veth A B: namespaces A (10.99.0.1) and B (10.99.0.2) joined by a
# kernel veth pair: the baseline.  bench_netns_cleanup removes them.
BENCH_NETNS=()
bench_veth() {
	ip netns add "$1"; ip netns add "$2"
	BENCH_NETNS+=("$1" "$2")
	ip link add "$1-v" netns "$1" type veth peer name "$2-v" netns "$2"
	ip -n "$1" addr add 10.99.0.1/24 dev "$1-v"; ip -n "$1" link set "$1-v" up
	ip -n "$1" link set lo up
	ip -n "$2" addr add 10.99.0.2/24 dev "$2-v"; ip -n "$2" link set "$2-v" up
	ip -n "$2" link set lo up
}

bench_netns_cleanup() {
	local n

	for n in "${BENCH_NETNS[@]}"; do ip netns delete "$n" 2>/dev/null || true; done
	BENCH_NETNS=()
}

# bench_lab_start: the two-site lab (examples/lab/lab.sh, sites $LAB_EDGE
# and $LAB_GW, default edge and gw), once the cameras' networks reach each
# other across it.  bench_lab_down removes it.
bench_lab_start() {
	local e=${LAB_EDGE:-edge}

	if ! bash "$BENCH_HERE/../examples/lab/lab.sh" start >"$LAB_DIR.log" 2>&1; then
		tail -20 "$LAB_DIR.log" >&2
		return 1
	fi
	bench_wait 10 ip netns exec "$e.cameras.net" ping -q -c 1 -W 1 10.2.0.1 >/dev/null ||
		{ echo "bench: the lab's cameras do not reach each other" >&2; return 1; }
}

bench_lab_down() {
	bash "$BENCH_HERE/../examples/lab/lab.sh" down >/dev/null 2>&1 || true
	rm -f "$LAB_DIR.log"
}

# bench_ratio A B: A / B to two places.
bench_ratio() {
	python3 -c "print('%.2f' % ($1 / $2))"
}
