#!/bin/bash
# A tenant's bandwidth quota is shaped, not policed (issue 12), end to end
# in a two-site lab of this file's own: single-stream TCP (iperf3 between
# the tenants' namespaces) through a tenant capped at 100 Mbit/s gets at
# least 90 Mbit/s with few retransmits; two tenants capped at 50 and 100
# Mbit/s sharing one uplink each get at least 90% of their cap; a tenant
# with no cap gets what the path gives, before a cap and after it is taken
# away (null).  TAP.
. "$(dirname "$0")/lib.sh"

n=$(($$ % 100000))
lab_init "sh$n" "sj$n"

if ! command -v iperf3 >/dev/null; then
	echo "Bail out! iperf3 missing"
	TAP_DONE=1
	exit 99
fi
lab_up "the lab starts (sites $E and $G)"
calc() { "$PY" -c "print($1)"; }

# iperf_server TENANT PORT: iperf3 -s for one test in the gateway's network of TENANT.
iperf_server() {
	ip netns exec "$G.$1.net" iperf3 -s -1 -p "$2" >/dev/null 2>&1 &
	track_pid $!
	wait_for "iperf3 listens on port $2 in $G.$1.net" 10 listening "$G.$1.net" tcp "$2"
}
# tcp TENANT DST PORT SECONDS OUT: one TCP stream from the edge, the first
# second left out; OUT gets "Mbit/s retransmits segments".
tcp() {
	ip netns exec "$E.$1.net" iperf3 -c "$2" -p "$3" -t "$4" -O 1 -J 2>/dev/null |
	    "$PY" -c '
import json, sys
e = json.load(sys.stdin)["end"]
r = e["sum_received"]
s = e["sum_sent"]
print("%.1f %d %d" % (r["bits_per_second"] / 1e6, s.get("retransmits", 0), s["bytes"] / 1448))' >"$5"
}
cap() {	# cap TENANT KBPS|null
	is "$(api PATCH "/v1/tenants/$1" "{\"quotas\": {\"bandwidth_kbps\": $2}}" "$ADMIN")" 200 \
	    "$1: bandwidth_kbps $2"
}
word() { awk -v i="$2" '{print $i}' "$1"; }

# No cap: what the path gives ---------------------------------------------
api GET /v1/tenants/cameras "" "$ADMIN" >/dev/null
is "$(jfield "d['quotas']['bandwidth_kbps']")" None "a tenant created without a cap has none (null)"
iperf_server cameras 5501
tcp cameras 10.2.0.1 5501 3 "$T/free"
free=$(word "$T/free" 1)
like "$(calc "${free:-0} > 150")" True "no cap: single-stream TCP gets what the path gives ($free Mbit/s)"

# One tenant capped at 100 Mbit/s -------------------------------------------
cap cameras 100000
iperf_server cameras 5502
tcp cameras 10.2.0.1 5502 4 "$T/c100"
read -r g rt segs <"$T/c100"
like "$(calc "90 <= ${g:-0} <= 100 * 1.03")" True \
    "capped at 100 Mbit/s: single-stream TCP gets $g Mbit/s (>= 90)"
like "$(calc "${rt:-1000000} <= 0.01 * ${segs:-0}")" True \
    "capped at 100 Mbit/s: few retransmits ($rt of $segs segments)"

# Two tenants capped at 50 and 100 Mbit/s on one uplink ---------------------
cap cameras 50000
cap utility 100000
iperf_server cameras 5503
iperf_server utility 5504
tcp cameras 10.2.0.1 5503 4 "$T/two.c" &
p1=$!
tcp utility 10.4.0.1 5504 4 "$T/two.u" &
p2=$!
wait $p1 $p2
gc=$(word "$T/two.c" 1) gu=$(word "$T/two.u" 1)
like "$(calc "45 <= ${gc:-0} <= 50 * 1.03")" True "two tenants: the one capped at 50 Mbit/s gets $gc"
like "$(calc "90 <= ${gu:-0} <= 100 * 1.03")" True "two tenants: the one capped at 100 Mbit/s gets $gu"

# The cap taken away: the path again ----------------------------------------
cap cameras null
iperf_server cameras 5505
tcp cameras 10.2.0.1 5505 3 "$T/free2"
free2=$(word "$T/free2" 1)
like "$(calc "${free2:-0} > 150")" True "cap set back to null: TCP gets what the path gives again ($free2 Mbit/s)"
api GET /metrics "" "$ADMIN" >/dev/null
ok "figures: no cap $free, cap 100: $g (retransmits $rt), caps 50+100: $gc + $gu, null again: $free2 Mbit/s"

done_testing
