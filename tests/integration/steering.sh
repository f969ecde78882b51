#!/bin/bash
# The cross-layer scheduler end to end, in a two-site lab of this file's
# own (examples/lab/lab.sh with its own site names, so it runs beside the
# other labs): probes measure both uplinks (API and /metrics); a realtime
# flow under smallest-delay sits on the lowest-delay uplink, and moves
# (an event) when that uplink's delay is raised; an uplink killed under an
# active-standby stream moves the stream within the failover bound
# (300 ms); redundant steering delivers everything over an uplink losing
# 10%; a tenant capped by its bandwidth quota stays under it while another
# tenant on the same uplink gets its share; new flows over a tenant's
# flows quota are dropped and counted while other tenants are unaffected;
# a deny policy takes effect on live traffic and its removal too; on a
# paced uplink, a realtime stream passes a bulk backlog and a tenant
# sending under its share gets it all beside one flooding.  TAP.
. "$(dirname "$0")/lib.sh"

: "${OWD:=$SRCDIR/tests/tools/owd}"
n=$(($$ % 100000))
lab_init "st$n" "sg$n"	# (api() talks to the edge once it is up)

if [ ! -x "$OWD" ] || ! command -v iperf3 >/dev/null; then
	echo "Bail out! $OWD or iperf3 missing"
	TAP_DONE=1
	exit 99
fi
lab_up "the lab starts (sites $E and $G)"
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
calc() { "$PY" -c "print($1)"; }

# flows TENANT EXPR: EXPR over the tenant's flow list (d) on the edge.
flows() {
	api GET "/v1/tenants/$1/flows" "" "$ADMIN" >/dev/null
	jfield "$2"
}
# uplink_of TENANT PROTO DPORT: the uplinks of the newest such flow, sorted, comma-separated.
uplink_of() {
	flows "$1" "','.join(sorted(min([f for f in d['items'] if f['protocol'] == '$2' and f['dst_port'] == $3], key=lambda f: f['age_ms'], default={'uplinks': ['none']})['uplinks']))"
}
# has_flow TENANT PROTO DPORT: the edge has such a flow.
has_flow() {
	[ "$(uplink_of "$@")" != none ]
}
# flow_on TENANT PROTO DPORT UPLINKS: the newest such flow is on UPLINKS.
flow_on() {
	[ "$(uplink_of "$1" "$2" "$3")" == "$4" ]
}
# uplink_is NAME EXPR: EXPR over the edge's GET /v1/uplinks/NAME (d) is true.
uplink_is() {
	api GET "/v1/uplinks/$1" "" "$ADMIN" >/dev/null
	[ "$(jfield "$2")" == True ]
}
# answered NAME: the probes the edge's uplink NAME has had answered.
answered() {
	api GET "/v1/uplinks/$1" "" "$ADMIN" >/dev/null
	jfield "sum(p['probes_answered'] for p in d['paths'])"
}
# moved_event ERE: a flow.moved event on the edge's stream matches.
moved_event() {
	grep -A1 '^event: flow.moved$' "$T/events" | grep -q -- "$1"
}

# stream PORT PPS COUNT [SIZE]: owd from the edge's cameras to the gateway's, in the
# background; its result line in $T/owd.PORT once `wait $STREAM_RX` returns.
stream() {
	owd_recv "$1" "$G.cameras.net" "$T/owd.$1"
	STREAM_RX=$OWD_RX
	ip netns exec "$E.cameras.net" "$OWD" send 10.2.0.1 "$1" --pps "$2" --count "$3" --size "${4:-200}" >/dev/null &
	STREAM_TX=$!
}
# stream_wait PORT: wait for the stream to end; its result line in $R.
stream_wait() { wait "$STREAM_TX"; wait "$STREAM_RX"; R=$(tail -1 "$T/owd.$1"); }

events_open "$T/events" || not_ok "the event stream opens" "$(cat "$T/events")"

# Probes --------------------------------------------------------------------
paths_up() {
	api GET /v1/uplinks "" "$ADMIN" >/dev/null
	[ "$(jfield "' '.join(p['state'] for u in d['items'] for p in u['paths'])")" == "up up" ]
}
wait_until 15 paths_up	# else fails below
is "$(jfield "' '.join(u['name'] + ':' + p['peer'] + ':' + p['state'] for u in d['items'] for p in u['paths'])")" \
    "wan1:$G:up wan2:$G:up" "both uplinks' paths to the peer are probed and up"
like "$(jfield "all(0 < p['rtt_ms'] < 20 for u in d['items'] for p in u['paths'])")" True \
    "the paths have a measured RTT ($(jfield "[p['rtt_ms'] for u in d['items'] for p in u['paths']]") ms)"
api GET /metrics "" "$ADMIN" >/dev/null
like "$(grep -c '^cnw_path_rtt_seconds{uplink="wan[12]",peer="'"$G"'"}' "$RESP_BODY")" '^2$' "/metrics: cnw_path_rtt_seconds per uplink and peer"
api GET "/v1/interfaces/$E-u1?netns=lab-$E" "" "$ADMIN" >/dev/null
is "$(jfield "d['paths'][0]['state']")" up "GET /v1/interfaces shows the path metrics of its uplink"

# smallest-delay: the lowest-delay uplink, and a move when it degrades ------
lab_ctl "$E" uplink set wan1 --delay 15 >/dev/null
lab_ctl "$E" policy add cameras telemetry --protocol udp --dport 9100 --class realtime \
    --steering smallest-delay >"$T/ctl.out" 2>&1
is "$?" 0 "cnwctl policy add: a realtime smallest-delay policy"
# The probes see wan1's 15 ms (each way: an RTT of 30 ms once converged;
# half of it is well above wan2's).
wait_for "the edge's probes see wan1's delay" 10 uplink_is wan1 "all(p['state'] == 'up' and (p['rtt_ms'] or 0) >= 15 for p in d['paths'])"
stream 9100 200 1200
wait_for "the edge has the flow to port 9100" 5 has_flow cameras udp 9100
is "$(uplink_of cameras udp 9100)" wan2 "a realtime flow sits on the lowest-delay uplink (wan2; wan1 has 15 ms)"
is "$(flows cameras "[f['class'] + ' ' + f['policy'] for f in d['items'] if f['dst_port'] == 9100][0]")" \
    "realtime telemetry" "the flow is classified by the policy"
lab_ctl "$E" uplink set wan1 --delay 0 >/dev/null
lab_ctl "$E" uplink set wan2 --delay 25 >/dev/null
wait_until 10 flow_on cameras udp 9100 wan1	# else fails below
is "$(uplink_of cameras udp 9100)" wan1 "raising wan2's delay moves the flow to wan1"
stream_wait 9100
r=$R
like "$(kv "$r" lost)" '^[0-2]$' "nothing (or next to nothing) lost in the move ($(kv "$r" lost) lost)"
wait_until 5 moved_event '"from":"wan2","to":"wan1","reason":"delay"'	# else fails below
like "$(grep -A1 '^event: flow.moved$' "$T/events" | grep -c '"from":"wan2","to":"wan1","reason":"delay"')" '^[1-9]' \
    "the move is an event on /v1/events (flow.moved, from wan2 to wan1, reason delay)"
lab_ctl "$E" uplink set wan2 --delay 0 >/dev/null
lab_ctl "$E" uplink set wan1 --profile off >/dev/null
lab_ctl "$E" uplink set wan2 --profile off >/dev/null

# Failover: an uplink killed under an active-standby stream -----------------
lab_ctl "$E" policy add cameras sensors --protocol udp --dport 9200-9209 --class background \
    --steering active-standby --uplinks wan1,wan2 >/dev/null
stream 9200 2000 6000
wait_for "the edge has the flow to port 9200" 5 has_flow cameras udp 9200
is "$(uplink_of cameras udp 9200)" wan1 "an active-standby flow takes the first uplink"
lab_ctl "$E" uplink set wan1 --down >/dev/null
wait_until 5 flow_on cameras udp 9200 wan2	# else fails below
is "$(uplink_of cameras udp 9200)" wan2 "wan1 killed: the flow is on wan2"
stream_wait 9200
r=$R
gap=$(kv "$r" gap_us_max)
like "$(calc "$gap < 300000")" True "failover within the bound: the longest gap was $(calc "round($gap / 1000, 1)") ms (< 300 ms), $(kv "$r" lost) lost"
a0=$(answered wan1)
lab_ctl "$E" uplink set wan1 --up >/dev/null
# Usable again (a new flow takes the first usable uplink): a probe answered
# through it since, its path up.
wait_for "wan1 carries probes again" 10 uplink_is wan1 "d['link'] == 'up' and all(p['state'] == 'up' for p in d['paths']) and sum(p['probes_answered'] for p in d['paths']) > $a0"
stream 9201 200 200
wait_for "the edge has the flow to port 9201" 5 has_flow cameras udp 9201
is "$(uplink_of cameras udp 9201)" wan1 "wan1 back up: a flow takes it again"
stream_wait 9201
grep -A1 '^event: flow.moved$' "$T/events" | grep -q '"reason":"down"'
is "$?" 0 "the failover is an event too (reason down)"

# Redundant: 10% loss on one uplink, none seen by the application -----------
lab_ctl "$E" policy add cameras safety --protocol udp --dport 9300 --class realtime \
    --steering redundant --uplinks wan1,wan2 >/dev/null
lab_ctl "$E" uplink set wan1 --loss 10 >/dev/null
stream 9300 1000 3000
wait_for "the edge has the flow to port 9300" 5 has_flow cameras udp 9300
is "$(uplink_of cameras udp 9300)" wan1,wan2 "a redundant flow is on both uplinks"
stream_wait 9300
r=$R
is "$(kv "$r" received) $(kv "$r" lost)" "3000 0" "redundant: all 3000 datagrams delivered once, with 10% loss on wan1"
api GET /metrics "" "$ADMIN" >/dev/null
like "$(sed -n 's/^cnw_drops_total{reason="duplicate"} //p' "$RESP_BODY")" '^0$' "the edge, which sends the copies, receives none"
api GET /metrics "" "$(cat "$LAB_DIR/$G/state/admin.token")" --unix-socket "$LAB_DIR/$G/run/cnwd.sock" >/dev/null
like "$(sed -n 's/^cnw_drops_total{reason="duplicate"} //p' "$RESP_BODY")" '^[1-9]' \
    "the gateway dropped the second copies ($(sed -n 's/^cnw_drops_total{reason="duplicate"} //p' "$RESP_BODY"))"
lab_ctl "$E" uplink set wan1 --profile off >/dev/null

# A capped tenant next to an uncapped one on the same uplink ----------------
code=$(api PATCH /v1/tenants/utility '{"quotas": {"bandwidth_kbps": 5000}}' "$ADMIN")
is "$code" 200 "utility capped at 5 Mbit/s (its bandwidth quota)"
# iperf_server TENANT PORT: iperf3 -s for one test in the gateway's network
# of TENANT, in the background, once it listens.
iperf_server() {
	ip netns exec "$G.$1.net" iperf3 -s -1 -p "$2" >/dev/null 2>&1 &
	track_pid $!
	wait_for "iperf3 listens on port $2 in $G.$1.net" 10 listening "$G.$1.net" tcp "$2"
}
udp_rate() {	# udp_rate TENANT_NS_SUFFIX DST PORT -> Mbit/s received (its iperf_server up)
	ip netns exec "$E.$1.net" iperf3 -c "$2" -p "$3" -u -b 20M -l 1200 -t 3 -J 2>/dev/null |
	    "$PY" -c 'import json,sys; e=json.load(sys.stdin)["end"]["sum"]; print("%.2f" % (e["bytes"] * 8 * (1 - e["lost_percent"] / 100) / e["seconds"] / 1e6))'
}
iperf_server utility 5401
iperf_server cameras 5402
udp_rate utility 10.4.0.1 5401 >"$T/rate.utility" &
p1=$!
udp_rate cameras 10.2.0.1 5402 >"$T/rate.cameras" &
p2=$!
wait $p1 $p2
ru=$(cat "$T/rate.utility") rc=$(cat "$T/rate.cameras")
like "$(calc "0 < $ru <= 5.0 * 1.1")" True "the capped tenant stays under its cap: $ru Mbit/s of 20 offered (cap 5)"
like "$(calc "$rc >= 18")" True "the other tenant on the same uplink gets its share: $rc Mbit/s of 20"
api GET /metrics "" "$ADMIN" >/dev/null
like "$(sed -n 's/^cnw_tenant_policed_total{tenant="utility"} //p' "$RESP_BODY")" '^[1-9]' "the excess is counted as policed"
code=$(api PATCH /v1/tenants/utility '{"quotas": {"bandwidth_kbps": 0}}' "$ADMIN")
ip netns exec "$E.utility.net" ping -c 2 -i 0.2 -W 1 10.4.0.1 >/dev/null 2>&1
is "$code:$?" "200:1" "a bandwidth quota of 0 allows nothing (no magic zero)"

# The flows quota -------------------------------------------------------------
code=$(api PATCH /v1/tenants/utility '{"quotas": {"flows": 3, "bandwidth_kbps": null}}' "$ADMIN")
is "$code" 200 "utility's flows quota lowered to 3"
for p in $(seq 7001 7010); do
	ip netns exec "$E.utility.net" bash -c "echo x >/dev/udp/10.4.0.1/$p" 2>/dev/null
done
quota_counted() {
	api GET /v1/tenants/utility/flows "" "$ADMIN" >/dev/null
	[ "$(jfield "(d['active'] <= 3, d['limit'], d['dropped'] >= 7 - d['active'] + 3)")" == "(True, 3, True)" ]
}
wait_until 5 quota_counted	# else fails below
api GET /v1/tenants/utility/flows "" "$ADMIN" >/dev/null
like "$(jfield "(d['active'] <= 3, d['limit'], d['dropped'] >= 7 - d['active'] + 3)")" '^\(True, 3, True\)$' \
    "new flows over the quota are dropped and counted (active $(jfield "d['active']"), dropped $(jfield "d['dropped']"))"
api GET /metrics "" "$ADMIN" >/dev/null
like "$(sed -n 's/^cnw_drops_total{reason="flow_quota"} //p' "$RESP_BODY")" '^[1-9]' "/metrics: drops for flow_quota"
ip netns exec "$E.cameras.net" ping -c 3 -i 0.1 -W 1 10.2.0.1 >/dev/null
is "$?" 0 "another tenant is unaffected (cameras' ping goes through)"

# Deny, live -----------------------------------------------------------------
code=$(api PATCH /v1/tenants/utility '{"quotas": {"flows": 65536}}' "$ADMIN")
lab_ctl "$E" policy add utility no-ping --protocol icmp --action deny >/dev/null
ip netns exec "$E.utility.net" ping -c 2 -i 0.2 -W 1 10.4.0.1 >/dev/null 2>&1
is "$?" 1 "a deny policy stops the matching traffic at once"
# Earlier pings left allowed ICMP flows (another echo id) until they age out:
# the newest one is the ping the policy stopped.
is "$(flows utility "min([f for f in d['items'] if f['protocol'] == 'icmp'], key=lambda f: f['age_ms'])['action']")" deny "the newest ICMP flow shows action deny"
lab_ctl "$E" policy delete utility no-ping >/dev/null
ip netns exec "$E.utility.net" ping -c 2 -i 0.2 -W 1 10.4.0.1 >/dev/null 2>&1
is "$?" 0 "deleting it lets the same flow through again (no restart)"

# Class priority and DRR on a paced uplink -------------------------------------
# wan1 at 20 Mbit/s out: the edge paces it at 98% and holds the backlog
# itself, by class (strict priority) and, in a class, by tenant (DRR).
lab_ctl "$E" uplink set wan1 --egress-rate 20000 >/dev/null
lab_ctl "$E" policy add cameras rt-wan1 --protocol udp --dport 9400 --class realtime --uplinks wan1 >/dev/null
lab_ctl "$E" policy add cameras bulk-wan1 --protocol udp --dport 5500-5599 --class bulk --uplinks wan1 >/dev/null
lab_ctl "$E" policy add cameras bulk-probe --protocol udp --dport 9401 --class bulk --uplinks wan1 >/dev/null
lab_ctl "$E" policy add utility bulk-wan1 --protocol udp --dport 5500-5599 --class bulk --uplinks wan1 >/dev/null
# flood TENANT DST PORT MBIT: iperf3 UDP for 4 s in the background; Mbit/s received in $T/rate.PORT.
flood() {
	iperf_server "$1" "$3"
	ip netns exec "$E.$1.net" iperf3 -c "$2" -p "$3" -u -b "${4}M" -l 1200 -t 4 -J 2>/dev/null |
	    "$PY" -c 'import json,sys; e=json.load(sys.stdin)["end"]["sum"]; print("%.2f" % (e["bytes"] * 8 * (1 - e["lost_percent"] / 100) / e["seconds"] / 1e6))' >"$T/rate.$3" &
	FLOOD=$!
}
# queue_full: the edge's drops for a full queue.
queue_full() {
	api GET /metrics "" "$ADMIN" >/dev/null
	sed -n 's/^cnw_drops_total{reason="queue_full"} //p' "$RESP_BODY"
}
qf0=$(queue_full)
# backlogged: the flood fills wan1's queue at the edge (it drops for it).
backlogged() {
	awk -v a="$(queue_full)" -v b="$qf0" 'BEGIN { exit !(a + 0 > b + 0) }'
}
# Realtime against bulk, under a bulk flood of twice the link.
flood cameras 10.2.0.1 5501 40
wait_for "the bulk flood backs up wan1's queue at the edge" 10 backlogged
owd_recv 9400 "$G.cameras.net" "$T/owd.9400"
rrx=$OWD_RX
owd_recv 9401 "$G.cameras.net" "$T/owd.9401"
brx=$OWD_RX
ip netns exec "$E.cameras.net" "$OWD" send 10.2.0.1 9400 --pps 100 --count 200 --size 200 >/dev/null &
rtx=$!
ip netns exec "$E.cameras.net" "$OWD" send 10.2.0.1 9401 --pps 100 --count 200 --size 200 >/dev/null
wait $rtx $rrx $brx $FLOOD
rt=$(kv "$(tail -1 "$T/owd.9400")" delay_us_med) bk=$(kv "$(tail -1 "$T/owd.9401")" delay_us_med)
like "$(calc "$bk > 10000 and $rt < $bk / 3")" True \
    "a realtime stream passes the bulk backlog: median one-way delay $(calc "round($rt / 1000, 1)") ms, bulk beside it $(calc "round($bk / 1000, 1)") ms"
# iperf3 counts its 1200-byte payloads; each is 1294 bytes on wan1 (inner
# headers, the overlay's 24, outer IPv4 and UDP): 19.6 Mbit/s carries 18.18.
# The floor is 80% of it: on a busy two-core machine (make check runs labs
# side by side) the sender and the worker stall for tens of milliseconds,
# which the 50 ms lane does not always ride out (91% seen under CI with 20 ms).
like "$(calc "0.8 * 18.18 <= $(cat "$T/rate.5501") <= 1.03 * 18.18")" True \
    "the paced uplink still carries its rate: $(cat "$T/rate.5501") Mbit/s of payload, 18.18 at the pace (19.6 of 20 Mbit/s)"
# Two tenants in one class: one floods at twice the link, the other sends
# 30% of it; DRR gives the second all it sends (first-come-first-served
# would leave it about a seventh of the link).
flood utility 10.4.0.1 5511 40
fu=$FLOOD
flood cameras 10.2.0.1 5512 6
wait $fu $FLOOD
ru=$(cat "$T/rate.5511") rc=$(cat "$T/rate.5512")
like "$(calc "$rc >= 5.4 and $ru >= 12")" True \
    "one tenant cannot starve another: $rc Mbit/s of 6 sent beside a flood of 40 ($ru Mbit/s through)"
api GET /metrics "" "$ADMIN" >/dev/null
like "$(sed -n 's/^cnw_drops_total{reason="queue_full"} //p' "$RESP_BODY")" '^[1-9]' "the excess is dropped at the edge's queue (queue_full)"
lab_ctl "$E" uplink set wan1 --profile off >/dev/null

done_testing
