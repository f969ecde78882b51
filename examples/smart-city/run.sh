#!/bin/bash
# Smart city: a street cabinet (the edge site) and the city's data centre
# (the gateway), joined by two uplinks: wan1, 40 Mbit/s up, and wan2,
# 20 Mbit/s up (both ways emulated at the cabinet).  Three tenants share
# them, each with a network on both sites:
#
#   traffic-cameras  bulk video uploads, load-balance over wan1 and wan2 by
#                    capacity (iperf3 TCP, 6 streams)
#   public-safety    realtime, redundant: every packet on both uplinks, the
#                    other site keeps the first copy (ping)
#   citizen-wifi     bulk, like the cameras, but capped by its tenant's
#                    bandwidth quota, 5 Mbit/s (iperf3 TCP, 2 streams, as
#                    hard as it can)
#
# Part 1: citizen Wi-Fi uploads alone, then with the cameras: it stays under
# its cap both times, and the cameras take the rest, spread over both
# uplinks.  Both are bulk: the quota, not a class, is what holds Wi-Fi back.
# Part 2: wan1 loses 10% of its frames both ways, with the cameras still
# uploading; public-safety sends 200 pings 10 ms apart and loses none.
# Each part ends with a check; the script fails when a check does.
#
#   examples/smart-city/run.sh        everything, then clean up
#   examples/smart-city/run.sh up     set up (servers waiting at the gateway); leave it running
#   examples/smart-city/run.sh demo   parts 1 and 2, on a running set-up
#   examples/smart-city/run.sh down   remove everything
#
# It builds on the two-site lab (examples/lab/lab.sh start): the sites are
# named sc (edge) and scg (gateway), the state is in /tmp/cnw-smart-city;
# LAB_EDGE, LAB_GW and LAB_DIR change them.  Needs root, iperf3, jq and the
# built tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export LAB_DIR=${LAB_DIR:-/tmp/cnw-smart-city}
export LAB_EDGE=${LAB_EDGE:-sc}
export LAB_GW=${LAB_GW:-scg}
LAB=$top/examples/lab/lab.sh
CNWCTL=${CNWCTL:-$top/cli/cnwctl}
EDGE=$LAB_EDGE
GW=$LAB_GW
TENANTS=(traffic-cameras public-safety citizen-wifi)
WIFI_CAP=${SC_WIFI_CAP:-5000}	# kbit/s
WAN1_RATE=40000
WAN2_RATE=20000
SECONDS_LOAD=${SC_SECONDS:-10}
PIDS=$LAB_DIR/scenario.pids
FAILED=0

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
log() { printf 'smart-city: %s\n' "$*" >&2; }

ctl() {	# ctl SITE ARGS...
	local site=$1
	shift
	"$CNWCTL" --socket "$LAB_DIR/$site/run/cnwd.sock" --token-file "$LAB_DIR/$site/state/admin.token" "$@"
}

# show SITE ARGS...: print a cnwctl command as a person would type it, then run it.
show() {
	local site=$1
	shift
	printf '[%s]$ cnwctl %s\n' "$site" "$*"
	ctl "$site" "$@"
}

# showf SITE ERE ARGS...: the same, printing only the lines of its output that match ERE.
showf() {
	local site=$1 re=$2
	shift 2
	printf '[%s]$ cnwctl %s\n' "$site" "$*"
	ctl "$site" "$@" | grep -E "$re" | sed 's/^/    /' || true
}

# subnet TENANT SIDE: 10.41.0.0/24 (traffic-cameras, edge) ... 10.62.0.0/24 (citizen-wifi, gateway)
subnet() {
	local i
	case $1 in traffic-cameras) i=4 ;; public-safety) i=5 ;; citizen-wifi) i=6 ;; esac
	echo "10.$i$2.0.0/24"
}
gateway_of() { local s; s=$(subnet "$1" "$2"); echo "${s%.0/24}.1"; }
edge_ns() { echo "$EDGE.$1.net"; }
gw_ns() { echo "$GW.$1.net"; }

provision() {
	local s peer side t
	# the lab's demo tenants make room for the city's
	for s in "$EDGE" "$GW"; do
		ctl "$s" tenant delete cameras --cascade >/dev/null
		ctl "$s" tenant delete utility --cascade >/dev/null
	done
	# the links, emulated at the cabinet, both ways
	ctl "$EDGE" uplink set wan1 --rate "$WAN1_RATE" --delay 5 --jitter 1 >/dev/null
	ctl "$EDGE" uplink set wan2 --rate "$WAN2_RATE" --delay 15 --jitter 3 >/dev/null
	for side in 1 2; do
		if [ "$side" = 1 ]; then s=$EDGE peer=$GW; else s=$GW peer=$EDGE; fi
		ctl "$s" tenant create traffic-cameras --description "traffic cameras" >/dev/null
		ctl "$s" tenant create public-safety --description "police, fire, ambulance" >/dev/null
		ctl "$s" tenant create citizen-wifi --description "free Wi-Fi on the street" \
		    --bandwidth-kbps "$WIFI_CAP" >/dev/null
		for t in "${TENANTS[@]}"; do
			ctl "$s" network create "$t" net --subnet "$(subnet "$t" "$side")" --peer "$peer" \
			    --uplink wan1 --uplink wan2 >/dev/null
		done
		# the same policies on both sites: each steers its own direction
		ctl "$s" policy add traffic-cameras video --priority 10 --class bulk \
		    --steering load-balance --uplinks wan1,wan2 >/dev/null
		ctl "$s" policy add public-safety critical --priority 10 --class realtime \
		    --steering redundant --uplinks wan1,wan2 >/dev/null
		ctl "$s" policy add citizen-wifi best-effort --priority 10 --class bulk \
		    --steering active-standby >/dev/null
	done
}

# Wait until both uplinks of the edge have a measured path to the gateway.
wait_paths() {
	for _ in $(seq 50); do
		[ "$(ctl "$EDGE" -o json uplink list | jq '[.items[].paths[]? | select(.state == "up")] | length')" -ge 2 ] &&
		    return 0
		sleep 0.2
	done
	log "the paths over wan1 and wan2 did not come up"
	return 1
}

spawn() {	# spawn OUTFILE CMD...: run CMD in the background, keep its pid
	local out=$1
	shift
	"$@" </dev/null >"$out" 2>&1 &
	echo $! >>"$PIDS"
}

servers() {
	spawn "$LAB_DIR/cameras.srv" ip netns exec "$(gw_ns traffic-cameras)" iperf3 -s -p 5201
	spawn "$LAB_DIR/wifi.srv" ip netns exec "$(gw_ns citizen-wifi)" iperf3 -s -p 5201
	sleep 0.3
}

stop_all() {
	local p ns pids alive
	if [ -f "$PIDS" ]; then
		pids=$(cat "$PIDS")
		for p in $pids; do kill "$p" 2>/dev/null || true; done
		for _ in $(seq 30); do
			alive=0
			for p in $pids; do kill -0 "$p" 2>/dev/null && alive=1; done
			[ "$alive" = 0 ] && break
			sleep 0.1
		done
		for p in $pids; do kill -KILL "$p" 2>/dev/null || true; done
		rm -f "$PIDS"
	fi
	# a traffic generator of ours left in a tenant's namespace (its pid file lost)
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^($EDGE|$GW)\\." || true); do
		for p in $(ip netns pids "$ns" 2>/dev/null || true); do
			case $(cat "/proc/$p/comm" 2>/dev/null) in
			ping | iperf3) kill "$p" 2>/dev/null || true ;;
			esac
		done
	done
}

down() {
	stop_all
	"$LAB" down
}

up() {
	[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
	command -v iperf3 >/dev/null || { log "needs iperf3"; exit 1; }
	command -v jq >/dev/null || { log "needs jq"; exit 1; }
	[ -x "$CNWCTL" ] || { log "$CNWCTL is not built"; exit 1; }
	stop_all
	"$LAB" start
	provision
	wait_paths
	servers
	log "up: $EDGE (the cabinet) and $GW (the data centre); tenants ${TENANTS[*]}"
}

# mbps FILE: the receiver's rate of an iperf3 -J run, in Mbit/s
mbps() { printf '%.2f' "$(jq -r '.end.sum_received.bits_per_second / 1e6' "$1" 2>/dev/null || echo 0)"; }

# check OK TEXT: print a verdict; a failed one fails the run
check() {
	if [ "$1" = 1 ]; then
		printf 'CHECK ok:     %s\n' "$2"
	else
		printf 'CHECK FAILED: %s\n' "$2"
		FAILED=1
	fi
}

flows_by_uplink() {	# flows_by_uplink TENANT: how many of its busy TCP flows each uplink carries
	ctl "$EDGE" -o json flow list "$1" | jq -r '[.items[] | select(.protocol == "tcp" and .bytes > 100000 and .idle_ms < 1000) | .uplinks | join("+")] |
	    group_by(.) | map("\(length) on \(.[0])") | join(", ")'
}

part1() {
	local cams wifi alone cam_pid wifi_pid spread cap
	say "Part 1: citizen Wi-Fi uploads alone, then with the cameras"
	show "$EDGE" uplink list
	showf "$EDGE" '^(name|bandwidth_kbps):' tenant show citizen-wifi
	show "$EDGE" policy list traffic-cameras
	show "$EDGE" policy list citizen-wifi
	echo
	echo "citizen-wifi alone, 5 s ($WIFI_CAP kbit/s quota, $(((WAN1_RATE + WAN2_RATE) / 1000)) Mbit/s of links):"
	ip netns exec "$(edge_ns citizen-wifi)" iperf3 -J -c "$(gateway_of citizen-wifi 2)" \
	    -p 5201 -P 2 -t 5 >"$LAB_DIR/wifi-alone.json" 2>&1 || true
	alone=$(mbps "$LAB_DIR/wifi-alone.json")
	printf '  citizen-wifi     %6s Mbit/s\n' "$alone"
	echo
	echo "then both at once, $SECONDS_LOAD s:"
	ip netns exec "$(edge_ns traffic-cameras)" iperf3 -J -c "$(gateway_of traffic-cameras 2)" \
	    -p 5201 -P 6 -t "$SECONDS_LOAD" >"$LAB_DIR/cameras.json" 2>&1 &
	cam_pid=$!
	ip netns exec "$(edge_ns citizen-wifi)" iperf3 -J -c "$(gateway_of citizen-wifi 2)" \
	    -p 5201 -P 2 -t "$SECONDS_LOAD" >"$LAB_DIR/wifi.json" 2>&1 &
	wifi_pid=$!
	echo "$cam_pid $wifi_pid" | tr ' ' '\n' >>"$PIDS"
	sleep $((SECONDS_LOAD / 2))
	show "$EDGE" flow list traffic-cameras
	show "$EDGE" flow list citizen-wifi
	spread=$(flows_by_uplink traffic-cameras)
	wait "$cam_pid" "$wifi_pid" || true
	cams=$(mbps "$LAB_DIR/cameras.json")
	wifi=$(mbps "$LAB_DIR/wifi.json")
	echo
	echo "received at the data centre over $SECONDS_LOAD s (iperf3):"
	printf '  traffic-cameras  %6s Mbit/s  (6 TCP streams: %s)\n' "$cams" "$spread"
	printf '  citizen-wifi     %6s Mbit/s  (2 TCP streams, quota %s kbit/s)\n' "$wifi" "$WIFI_CAP"
	echo "policed by the cabinet's fast path (packets over a cap):"
	ctl "$EDGE" metrics | grep -E '^cnw_tenant_policed_total' | sed 's/^/  /' || true
	cap=$(awk -v c="$WIFI_CAP" 'BEGIN { print c / 1000 }')
	check "$(awk -v w="$alone" -v c="$cap" 'BEGIN { print (w > 0.5 * c && w <= c) ? 1 : 0 }')" \
	    "citizen-wifi alone $alone Mbit/s: under its cap of $cap Mbit/s, and near it"
	check "$(awk -v w="$wifi" -v c="$cap" 'BEGIN { print (w > 0 && w <= c) ? 1 : 0 }')" \
	    "citizen-wifi beside the cameras $wifi Mbit/s <= its cap of $cap Mbit/s"
	check "$(awk -v k="$cams" -v w="$wifi" 'BEGIN { print (k >= 3 * w && k > 10) ? 1 : 0 }')" \
	    "traffic-cameras $cams Mbit/s: the links' share Wi-Fi cannot have"
	check "$([[ $spread == *wan1* && $spread == *wan2* ]] && echo 1 || echo 0)" \
	    "traffic-cameras spread over both uplinks ($spread)"
}

part2() {
	local cam_pid ping_out lost0 lost1 dup0 dup1 tx rx loss
	say "Part 2: wan1 loses 10% of its frames, both ways"
	showf "$EDGE" '^(emulation|egress|ingress):' uplink set wan1 --loss 10
	lost0=$(ctl "$EDGE" -o json uplink show wan1 | jq '.emulation.counters.egress.lost + .emulation.counters.ingress.lost')
	dup0=$(ctl "$GW" metrics | awk '/^cnw_drops_total\{reason="duplicate"\}/ { print $2 }')
	dup0=${dup0:-0}
	# the cameras keep uploading through it
	ip netns exec "$(edge_ns traffic-cameras)" iperf3 -J -c "$(gateway_of traffic-cameras 2)" \
	    -p 5201 -P 6 -t 6 >"$LAB_DIR/cameras2.json" 2>&1 &
	cam_pid=$!
	echo "$cam_pid" >>"$PIDS"
	sleep 1
	echo "[$EDGE.public-safety.net]# ping -c 200 -i 0.01 $(gateway_of public-safety 2)"
	ping_out=$(ip netns exec "$(edge_ns public-safety)" ping -q -c 200 -i 0.01 -W 1 \
	    "$(gateway_of public-safety 2)" 2>&1 || true)
	printf '%s\n' "$ping_out" | grep -v '^$' | sed 's/^/  /'
	show "$EDGE" flow list public-safety
	wait "$cam_pid" || true
	lost1=$(ctl "$EDGE" -o json uplink show wan1 | jq '.emulation.counters.egress.lost + .emulation.counters.ingress.lost')
	dup1=$(ctl "$GW" metrics | awk '/^cnw_drops_total\{reason="duplicate"\}/ { print $2 }')
	dup1=${dup1:-0}
	echo
	echo "meanwhile:"
	printf '  wan1 dropped %s frames (its emulation counters, both ways)\n' "$((lost1 - lost0))"
	printf '  the data centre threw away %s second copies (cnw_drops_total{reason="duplicate"})\n' "$((dup1 - dup0))"
	printf '  traffic-cameras still got %s Mbit/s through\n' "$(mbps "$LAB_DIR/cameras2.json")"
	tx=$(echo "$ping_out" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
	rx=$(echo "$ping_out" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	loss=$(echo "$ping_out" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
	check "$([ "${tx:-0}" = 200 ] && [ "${rx:-0}" = 200 ] && echo 1 || echo 0)" \
	    "public-safety: ${rx:-?} of ${tx:-?} pings answered (${loss:-?}% loss) over wan1 losing 10%"
	check "$([ "$((lost1 - lost0))" -gt 0 ] && echo 1 || echo 0)" "wan1 really lost frames meanwhile"
	showf "$EDGE" '^(egress|ingress):' uplink set wan1 --loss 0
}

hints() {
	cat <<MSG

The smart city is up (state and logs in $LAB_DIR); iperf3 servers wait at
the data centre ($GW) in traffic-cameras and citizen-wifi.

  E="$CNWCTL --socket $LAB_DIR/$EDGE/run/cnwd.sock --token-file $LAB_DIR/$EDGE/state/admin.token"
  ip netns exec $EDGE.citizen-wifi.net iperf3 -c $(gateway_of citizen-wifi 2) -P 2 -t 10
  ip netns exec $EDGE.traffic-cameras.net iperf3 -c $(gateway_of traffic-cameras 2) -P 6 -t 10
  \$E flow list traffic-cameras
  \$E uplink set wan1 --loss 10
  ip netns exec $EDGE.public-safety.net ping -c 200 -i 0.01 $(gateway_of public-safety 2)
  \$E flow list public-safety
  \$E metrics | grep -E 'policed|duplicate'

  $0 demo     runs both parts
  $0 down     removes everything
MSG
}

# Flows of an earlier run count on their uplinks (load-balance places new
# flows by them) until they have been idle for 30 s; start from none.
wait_idle() {
	local n said=
	for _ in $(seq 45); do
		n=$(ctl "$EDGE" -o json uplink list | jq '[.items[].flows] | add // 0')
		[ "$n" = 0 ] && return 0
		[ -n "$said" ] || { echo "waiting for the $n flows of an earlier run to age out (30 s idle)..."; said=1; }
		sleep 1
	done
}

demo() {
	[ -S "$LAB_DIR/$EDGE/run/cnwd.sock" ] || { log "not up: run '$0 up' first"; exit 1; }
	wait_idle
	part1
	part2
	say "Result"
	if [ "$FAILED" = 0 ]; then echo "every check held"; else echo "some checks FAILED"; fi
	return "$FAILED"
}

case "${1:-all}" in
all)
	trap 'down' EXIT
	trap 'exit 130' INT TERM
	up
	demo
	;;
up)
	trap 'down' EXIT	# only if it fails on the way
	trap 'exit 130' INT TERM
	up
	trap - EXIT INT TERM
	hints
	;;
demo) demo ;;
down) down ;;
*) echo "usage: $0 [all|up|demo|down]" >&2; exit 2 ;;
esac
