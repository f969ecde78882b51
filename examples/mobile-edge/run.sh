#!/bin/bash
# Mobile edge slices: a vehicle (the edge site) and its gateway, joined by
# three emulated radio uplinks: wan1 5G, wan2 LTE and wan3 a satellite
# (LEO by default).  Three tenants are three slices, each with a network on
# both sites and a policy of its own:
#
#   telemetry  realtime,   smallest-delay   ping, 10 a second
#   video      bulk,       load-balance     iperf3 TCP, 8 streams of 2 Mbit/s
#   sensors    background, active-standby   iperf3 UDP, 16 kbit/s, LTE first,
#                                           then the satellite
#
# Then a script of events: 5G degrades (its delay goes from 8 to 60 ms), LTE
# fails, both come back.  After each step it prints where the flows are
# (cnwctl flow list) and the flow.moved events of both sites.
#
#   examples/mobile-edge/run.sh         everything, then clean up
#   examples/mobile-edge/run.sh up      set up and start the traffic; leave it running
#   examples/mobile-edge/run.sh drill   the script of events, on a running set-up
#   examples/mobile-edge/run.sh down    remove everything
#
# It builds on the two-site lab (examples/lab/lab.sh start): the sites are
# named me (edge) and mg (gateway), the state is in /tmp/cnw-mobile-edge;
# LAB_EDGE, LAB_GW and LAB_DIR change them.  ME_SATELLITE=satellite-geo
# makes wan3 a geostationary link.  Needs root, iperf3 and the built tree.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export LAB_DIR=${LAB_DIR:-/tmp/cnw-mobile-edge}
export LAB_EDGE=${LAB_EDGE:-me}
export LAB_GW=${LAB_GW:-mg}
LAB=$top/examples/lab/lab.sh
CNWCTL=${CNWCTL:-$top/cli/cnwctl}
SATELLITE=${ME_SATELLITE:-satellite-leo}
EDGE=$LAB_EDGE
GW=$LAB_GW
PORT=4789
MTU=${LAB_MTU:-65535}
SLICES=(telemetry video sensors)
SETTLE=${ME_SETTLE:-4}	# seconds to let the fast path react after each step
PIDS=$LAB_DIR/scenario.pids		# everything it starts
CLIENTS=$LAB_DIR/clients.pids		# the traffic it sends

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
log() { printf 'mobile-edge: %s\n' "$*" >&2; }

ctl() {	# ctl SITE ARGS...
	local site=$1
	shift
	"$CNWCTL" --socket "$LAB_DIR/$site/run/cnwd.sock" --token-file "$LAB_DIR/$site/state/admin.token" "$@"
}

# follow SITE: the site's events, one per line, into events.SITE (cnwctl
# itself in the background, not a subshell, so that its pid is the one kept)
follow() {
	spawn "$LAB_DIR/events.$1" "$CNWCTL" --socket "$LAB_DIR/$1/run/cnwd.sock" \
	    --token-file "$LAB_DIR/$1/state/admin.token" events
}

# show SITE ARGS...: print a cnwctl command as a person would type it, then run it.
show() {
	local site=$1
	shift
	printf '[%s]$ cnwctl %s\n' "$site" "$*"
	ctl "$site" "$@"
}

# subnet SLICE SIDE: 10.11.0.0/24 (telemetry, edge) ... 10.32.0.0/24 (sensors, gateway)
subnet() {
	local i
	case $1 in telemetry) i=1 ;; video) i=2 ;; sensors) i=3 ;; esac
	echo "10.$i$2.0.0/24"
}
gateway_of() { local s; s=$(subnet "$1" "$2"); echo "${s%.0/24}.1"; }

spawn() {	# spawn OUTFILE CMD...: run CMD in the background, keep its pid
	local out=$1
	shift
	"$@" </dev/null >"$out" 2>&1 &
	echo $! >>"$PIDS"
}
client() { spawn "$@"; tail -n 1 "$PIDS" >>"$CLIENTS"; }

# The lab has wan1 and wan2 and two demo tenants; the scenario needs a third
# uplink and a peer over all three.  A network cannot gain an uplink, nor a
# peer an endpoint, once made, so the demo tenants and the peers go and come
# back with wan3.
extend_lab() {
	local s peer side other i eps
	ip link add "$EDGE-u3" netns "lab-$EDGE" type veth peer name "$GW-u3" netns "lab-$GW"
	ip -n "lab-$EDGE" link set "$EDGE-u3" mtu "$MTU" up
	ip -n "lab-$GW" link set "$GW-u3" mtu "$MTU" up
	ip -n "lab-$EDGE" addr add 172.31.3.1/30 dev "$EDGE-u3"
	ip -n "lab-$GW" addr add 172.31.3.2/30 dev "$GW-u3"
	for side in 1 2; do
		if [ "$side" = 1 ]; then s=$EDGE peer=$GW; else s=$GW peer=$EDGE; fi
		other=$((3 - side))
		ctl "$s" tenant delete cameras --cascade >/dev/null
		ctl "$s" tenant delete utility --cascade >/dev/null
		ctl "$s" peer delete "$peer" >/dev/null
		ctl "$s" uplink create wan3 --interface "$s-u3" --netns "lab-$s" \
		    --address "172.31.3.$side:$PORT" >/dev/null
		eps=()
		for i in 1 2 3; do eps+=(--endpoint "wan$i=172.31.$i.$other:$PORT"); done
		ctl "$s" peer create "$peer" "${eps[@]}" >/dev/null
	done
}

# The radios are emulated at the edge, where they are: the edge's driver of
# each uplink applies the profile to both directions (egress: what the
# vehicle sends, ingress: what it receives), so the gateway needs none.
radios() {
	ctl "$EDGE" uplink set wan1 --profile 5g >/dev/null
	ctl "$EDGE" uplink set wan2 --profile lte >/dev/null
	ctl "$EDGE" uplink set wan3 --profile "$SATELLITE" >/dev/null
}

slices() {
	local s peer side t
	for side in 1 2; do
		if [ "$side" = 1 ]; then s=$EDGE peer=$GW; else s=$GW peer=$EDGE; fi
		for t in "${SLICES[@]}"; do
			ctl "$s" tenant create "$t" --description "$t slice" >/dev/null
			ctl "$s" network create "$t" net --subnet "$(subnet "$t" "$side")" --peer "$peer" \
			    --uplink wan1 --uplink wan2 --uplink wan3 >/dev/null
		done
		# the same policies on both sites: each steers its own direction
		ctl "$s" policy add telemetry telemetry --priority 10 --class realtime \
		    --steering smallest-delay >/dev/null
		ctl "$s" policy add video video --priority 10 --class bulk \
		    --steering load-balance >/dev/null
		ctl "$s" policy add sensors sensors --priority 10 --class background \
		    --steering active-standby --uplinks wan2,wan3 >/dev/null
	done
}

# Wait until every uplink of the edge has a measured path to the gateway.
wait_paths() {
	for _ in $(seq 50); do
		[ "$(ctl "$EDGE" -o json uplink list | jq '[.items[].paths[]? | select(.state == "up")] | length')" -ge 3 ] &&
		    return 0
		sleep 0.2
	done
	log "the paths over wan1..wan3 did not come up"
	return 1
}

traffic() {
	local t
	# events of both sites, as they happen
	follow "$EDGE"
	follow "$GW"
	# servers at the gateway
	spawn "$LAB_DIR/iperf3-video.srv" ip netns exec "$GW.video.net" iperf3 -s -p 5201
	spawn "$LAB_DIR/iperf3-sensors.srv" ip netns exec "$GW.sensors.net" iperf3 -s -p 5202
	sleep 0.5
	# the vehicle's slices
	client "$LAB_DIR/telemetry.ping" ip netns exec "$EDGE.telemetry.net" \
	    ping -i 0.1 "$(gateway_of telemetry 2)"
	client "$LAB_DIR/video.iperf3" ip netns exec "$EDGE.video.net" \
	    iperf3 -c "$(gateway_of video 2)" -p 5201 -P 8 -b 2M -t 0 -i 0 --forceflush
	# sensors last, once video's streams are placed: load-balance counts
	# every flow already on an uplink, whatever its tenant
	sleep 1
	client "$LAB_DIR/sensors.iperf3" ip netns exec "$EDGE.sensors.net" \
	    iperf3 -c "$(gateway_of sensors 2)" -p 5202 -u -b 16k -l 200 -t 0 -i 0 --forceflush
}

stop_traffic() {
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
		rm -f "$PIDS" "$CLIENTS"
	fi
	# a traffic generator of ours left in a slice's namespace (its pid file lost)
	for ns in $(ip netns list | awk '{print $1}' | grep -E "^($EDGE|$GW)\\." || true); do
		for p in $(ip netns pids "$ns" 2>/dev/null || true); do
			case $(cat "/proc/$p/comm" 2>/dev/null) in
			ping | iperf3) kill "$p" 2>/dev/null || true ;;
			esac
		done
	done
}

down() {
	stop_traffic
	"$LAB" down
}

up() {
	[ "$(id -u)" = 0 ] || { log "needs root"; exit 1; }
	command -v iperf3 >/dev/null || { log "needs iperf3"; exit 1; }
	[ -x "$CNWCTL" ] || { log "$CNWCTL is not built"; exit 1; }
	stop_traffic
	"$LAB" start
	extend_lab
	radios
	slices
	wait_paths
	traffic
	log "up: $EDGE (the vehicle) and $GW (the gateway) over wan1 (5g), wan2 (lte), wan3 ($SATELLITE)"
}

# paths: the edge's view of each uplink: its emulation and its measured path.
paths() {
	ctl "$EDGE" -o json uplink list | jq -r '.items[] | "  \(.name) \(.emulation.profile // "-") link=\(.link)\(if .link_reason then "(" + .link_reason + ")" else "" end) flows=\(.flows) " +
	    ((.paths[0] // {}) | "rtt=\(.rtt_ms // "-")ms loss=\(.loss_percent // "-")% path=\(.state // "-")")'
}

flows() {
	local t
	for t in "${SLICES[@]}"; do
		show "$EDGE" flow list "$t"
	done
}

# moved SINCE_EDGE SINCE_GW: the uplink and flow.moved events of both sites
# after those line numbers.
moved() {
	local s from line
	for s in "$EDGE" "$GW"; do
		if [ "$s" = "$EDGE" ]; then from=$1; else from=$2; fi
		tail -n +"$((from + 1))" "$LAB_DIR/events.$s" | grep -E ' (flow\.moved|uplink\.(up|down)) ' |
		    while IFS= read -r line; do printf '  %-3s %s\n' "$s" "$line"; done || true
	done
}

lines() { wc -l <"$LAB_DIR/events.$1"; }

# step TITLE -- CMD...: one event of the script, then what it did.
step() {
	local title=$1 e g
	shift 2
	say "$title"
	e=$(lines "$EDGE")
	g=$(lines "$GW")
	while [ $# -gt 0 ]; do
		printf '[%s]$ cnwctl %s\n' "$EDGE" "$1"
		# shellcheck disable=SC2086 # the command is a list of words
		ctl "$EDGE" $1 | grep -E '^(emulation|link|admin_state|egress):' | sed 's/^/    /' || true
		shift
	done
	sleep "$SETTLE"
	echo "uplinks (edge), as the probes see them:"
	paths
	flows
	echo "flow.moved and uplink events since the step (both sites):"
	moved "$e" "$g"
	echo "telemetry ping now: $(grep 'time=' "$LAB_DIR/telemetry.ping" | tail -n 3 | sed 's/.*time=//' | paste -sd' ')"
}

drill() {
	[ -S "$LAB_DIR/$EDGE/run/cnwd.sock" ] || { log "not up: run '$0 up' first"; exit 1; }
	sleep 2
	say "Start: telemetry on the lowest delay, video spread by capacity, sensors on LTE"
	echo "uplinks (edge), as the probes see them:"
	paths
	flows
	step "1. 5G degrades: its delay goes from 8 ms to 60 ms each way" -- \
	    "uplink set wan1 --delay 60"
	step "2. LTE fails (a drill: the link drops everything, both ways)" -- \
	    "uplink set wan2 --down"
	step "3. Both come back" -- \
	    "uplink set wan2 --up" "uplink set wan1 --profile 5g"
}

# quote FILE ERE: the last line of FILE matching ERE, indented (nothing if none)
quote() { grep -E "$2" "$1" 2>/dev/null | tail -n 1 | sed 's/^/  /' || true; }

summary() {
	local p
	say "Summary"
	# SIGINT: the clients print their totals, and the servers the receivers'
	while read -r p; do kill -INT "$p" 2>/dev/null || true; done <"$CLIENTS"
	sleep 1.5
	echo "telemetry (ping, 10/s, through every step):"
	quote "$LAB_DIR/telemetry.ping" 'packets transmitted'
	quote "$LAB_DIR/telemetry.ping" '^rtt'
	echo "video (iperf3 TCP, 8 x 2 Mbit/s; sent at the edge, received at the gateway):"
	quote "$LAB_DIR/video.iperf3" 'SUM.*sender'
	quote "$LAB_DIR/iperf3-video.srv" 'SUM.*receiver'
	echo "sensors (iperf3 UDP, 16 kbit/s, received at the gateway: jitter, lost/total):"
	quote "$LAB_DIR/iperf3-sensors.srv" 'receiver'
	echo "flow moves (edge site, by reason):"
	{ grep ' flow\.moved ' "$LAB_DIR/events.$EDGE" || true; } | sed -n 's/.*reason=\([a-z]*\).*/\1/p' |
	    sort | uniq -c | sed 's/^/  /'
}

hints() {
	cat <<MSG

The mobile edge is up (state and logs in $LAB_DIR); traffic runs in every slice.

  E="$CNWCTL --socket $LAB_DIR/$EDGE/run/cnwd.sock --token-file $LAB_DIR/$EDGE/state/admin.token"
  \$E uplink list
  \$E flow list telemetry          # and video, sensors
  \$E events                       # flow.moved as it happens
  \$E uplink set wan1 --delay 60   # 5G degrades: telemetry leaves it
  \$E uplink set wan2 --down       # LTE fails: sensors go to the satellite
  \$E uplink set wan2 --up; \$E uplink set wan1 --profile 5g
  tail -f $LAB_DIR/telemetry.ping

  $0 drill    plays the script of events
  $0 down     removes everything
MSG
}

case "${1:-all}" in
all)
	trap 'down' EXIT
	trap 'exit 130' INT TERM
	up
	drill
	summary
	;;
up)
	trap 'down' EXIT	# only if it fails on the way
	trap 'exit 130' INT TERM
	up
	trap - EXIT INT TERM
	hints
	;;
drill) drill ;;
down) down ;;
*) echo "usage: $0 [all|up|drill|down]" >&2; exit 2 ;;
esac
