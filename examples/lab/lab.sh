#!/bin/bash
# The two-site lab: two cnwd instances on this host, an edge site and a
# gateway, joined by two veth uplinks in namespaces of their own, with two
# tenants whose networks on one site reach their twins on the other through
# each site's fast path.  Everything it makes lives under ./_lab (or $LAB_DIR)
# and in namespaces named lab-*, edge.* and gw.*; `down` (or Ctrl-C in `up`)
# removes all of it.
#
#   examples/lab/lab.sh up        make it, print what to try, stay until Ctrl-C
#   examples/lab/lab.sh start     make it and return (for scripts and tests)
#   examples/lab/lab.sh down      remove it
#   examples/lab/lab.sh env       the variables a test sources (CNWCTL_EDGE...)
#
# LAB_EDGE and LAB_GW rename the two sites (instance names, at most 8 of
# [a-z0-9-]; the namespaces follow), so that tests can run labs of their own
# beside one another.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
LAB_DIR=${LAB_DIR:-$top/_lab}
CNWD=${CNWD:-$top/cnwd/cnwd}
CNWCTL=${CNWCTL:-$top/cli/cnwctl}
EDGE=${LAB_EDGE:-edge}
GW=${LAB_GW:-gw}
SITES=("$EDGE" "$GW")
# uplink i joins edge-u$i (172.31.i.1) and gw-u$i (172.31.i.2); jumbo MTU:
# whole 60 KB GSO segments cross in one datagram.
UPLINKS=(1 2)
MTU=${LAB_MTU:-65535}
PORT=4789

log() { printf 'lab: %s\n' "$*" >&2; }

ctl() {	# ctl SITE ARGS...
	local site=$1
	shift
	"$CNWCTL" --socket "$LAB_DIR/$site/run/cnwd.sock" --token-file "$LAB_DIR/$site/state/admin.token" "$@"
}

links_up() {
	local s i
	for s in "${SITES[@]}"; do
		ip netns add "lab-$s"
		ip -n "lab-$s" link set lo up
	done
	for i in "${UPLINKS[@]}"; do
		ip link add "$EDGE-u$i" netns "lab-$EDGE" type veth peer name "$GW-u$i" netns "lab-$GW"
		ip -n "lab-$EDGE" link set "$EDGE-u$i" mtu "$MTU" up
		ip -n "lab-$GW" link set "$GW-u$i" mtu "$MTU" up
		ip -n "lab-$EDGE" addr add "172.31.$i.1/30" dev "$EDGE-u$i"
		ip -n "lab-$GW" addr add "172.31.$i.2/30" dev "$GW-u$i"
	done
}

start_site() {	# start_site NAME
	local s=$1 i
	mkdir -p "$LAB_DIR/$s/state" "$LAB_DIR/$s/run"
	: >"$LAB_DIR/$s/cnwd.log"
	# shellcheck disable=SC2086 # LAB_CNWD_ARGS: extra words for both sites (--config FILE)
	"$CNWD" --instance "$s" --state-dir "$LAB_DIR/$s/state" --run-dir "$LAB_DIR/$s/run" \
	    ${LAB_CNWD_ARGS:-} >>"$LAB_DIR/$s/cnwd.log" 2>&1 </dev/null &
	echo $! >"$LAB_DIR/$s/pid"
	for i in $(seq 100); do
		[ -S "$LAB_DIR/$s/run/cnwd.sock" ] && ctl "$s" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	log "cnwd $s did not start; see $LAB_DIR/$s/cnwd.log"
	return 1
}

provision() {	# provision SITE PEER SIDE(1 edge, 2 gw)
	local s=$1 peer=$2 side=$3 other i eps=()
	other=$((3 - side))
	for i in "${UPLINKS[@]}"; do
		ctl "$s" uplink create "wan$i" --interface "$s-u$i" --netns "lab-$s" \
		    --address "172.31.$i.$side:$PORT" >/dev/null
		eps+=(--endpoint "wan$i=172.31.$i.$other:$PORT")
	done
	ctl "$s" peer create "$peer" "${eps[@]}" >/dev/null
	# cameras: 10.1.0.0/24 at the edge, 10.2.0.0/24 at the gateway; utility: 10.3/10.4
	ctl "$s" tenant create cameras --description "traffic cameras" >/dev/null
	ctl "$s" tenant create utility --description "meters" >/dev/null
	ctl "$s" network create cameras net --subnet "10.$side.0.0/24" --peer "$peer" \
	    --uplink wan1 --uplink wan2 >/dev/null
	ctl "$s" network create utility net --subnet "10.$((side + 2)).0.0/24" --peer "$peer" \
	    --uplink wan1 --uplink wan2 >/dev/null
}

down() {
	local s n
	for s in "${SITES[@]}"; do
		if [ -f "$LAB_DIR/$s/pid" ]; then
			kill "$(cat "$LAB_DIR/$s/pid")" 2>/dev/null || true
		fi
	done
	for s in "${SITES[@]}"; do
		[ -f "$LAB_DIR/$s/pid" ] || continue
		for n in $(seq 50); do kill -0 "$(cat "$LAB_DIR/$s/pid")" 2>/dev/null || break; sleep 0.1; done
		rm -f "$LAB_DIR/$s/pid"
	done
	# cnwd leaves tenant networks in place when it stops (by design); the lab does not.
	for n in $(ip netns list | awk '{print $1}' | grep -E "^($EDGE|$GW)\\.|^lab-($EDGE|$GW)\$" || true); do
		ip netns delete "$n" 2>/dev/null || true
	done
	rm -rf "$LAB_DIR"
}

start() {
	local b
	for b in "$CNWD" "$CNWCTL"; do
		[ -x "$b" ] || { log "$b is not built (make, or set CNWD and CNWCTL)"; exit 1; }
	done
	down
	mkdir -p "$LAB_DIR"
	links_up
	start_site "$EDGE"
	start_site "$GW"
	provision "$EDGE" "$GW" 1
	provision "$GW" "$EDGE" 2
	log "up: $EDGE and $GW joined by wan1 and wan2"
}

try() {
	cat <<MSG

The two-site lab is up (state and logs in $LAB_DIR).

  # a camera at the edge (10.1.0.1) pings its twin network at the gateway:
  ip netns exec edge.cameras.net ping -c 3 10.2.0.1
  # TCP across the fast path and the uplinks:
  ip netns exec gw.cameras.net iperf3 -s -D
  ip netns exec edge.cameras.net iperf3 -c 10.2.0.1 -t 5
  # the other tenant cannot reach the cameras:
  ip netns exec edge.utility.net ping -c 1 -W 1 10.2.0.1
  # what each site sees:
  $CNWCTL --socket $LAB_DIR/edge/run/cnwd.sock --token-file $LAB_DIR/edge/state/admin.token uplink list
  $CNWCTL --socket $LAB_DIR/edge/run/cnwd.sock --token-file $LAB_DIR/edge/state/admin.token process list
  curl -s --unix-socket $LAB_DIR/edge/run/cnwd.sock -H "Authorization: Bearer \$(cat $LAB_DIR/edge/state/admin.token)" http://localhost/metrics

Ctrl-C tears everything down.
MSG
}

case "${1:-up}" in
up)
	trap 'echo; down; exit 0' INT TERM
	start
	try
	while :; do sleep 3600 & wait $!; done
	;;
start) start ;;
down) down ;;
env)
	for s in "${SITES[@]}"; do
		echo "SOCK_${s^^}=$LAB_DIR/$s/run/cnwd.sock"
		echo "TOKEN_FILE_${s^^}=$LAB_DIR/$s/state/admin.token"
	done
	;;
*) echo "usage: $0 [up|start|down|env]" >&2; exit 2 ;;
esac
