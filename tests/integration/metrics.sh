#!/bin/bash
# What cnwd shows to tools, in a two-site lab of this file's own
# (examples/lab/lab.sh with its own site names): a live /metrics, with
# uplinks, networks, tenants, flows and probed paths in it, passes
# promtool check metrics (Prometheus's own linter: HELP and TYPE for
# every family, a family in one piece, names by its conventions); and the
# API's JSON shows reals as a person would write them (0.1, not
# 0.10000000000000001), in a single object and in a list.  TAP.
. "$(dirname "$0")/lib.sh"

n=$(($$ % 100000))
lab_init "me$n" "mg$n"	# (api() talks to the edge once it is up)

if ! command -v promtool >/dev/null; then
	echo "Bail out! promtool missing (Debian: apt-get install prometheus)"
	TAP_DONE=1
	exit 99
fi

# The linter itself must be able to fail: a family without HELP.
printf '# TYPE cnw_x_total counter\ncnw_x_total 1\n' >"$T/bad.prom"
if promtool check metrics <"$T/bad.prom" >"$T/bad.out" 2>&1; then
	not_ok "promtool complains about a family without HELP" "$(cat "$T/bad.out")"
else
	ok "promtool complains about a family without HELP"
fi

lab_up "the lab starts (sites $E and $G)"

# Traffic, so that flows and tenants are in the counters, and probes
# answered, so that the paths have their RTT, jitter and loss.
paths_up() {
	api GET /v1/uplinks/wan1 "" "$ADMIN" >/dev/null
	[ "$(json 'any(p["state"] == "up" for p in j["paths"])')" == true ]
}
wait_for "wan1's paths answer probes" 15 paths_up
if ip netns exec "$E.cameras.net" ping -c 3 -i 0.2 -W 2 10.2.0.1 >"$T/ping.out" 2>&1; then
	ok "the cameras' networks reach each other (flows in the fast path)"
else
	not_ok "the cameras' networks reach each other (flows in the fast path)" "$(cat "$T/ping.out")"
fi

code=$(api GET /metrics "" "$ADMIN")
is "$code" 200 "GET /metrics"
for m in cnw_flows cnw_flow_moves_total cnw_path_rtt_seconds cnw_tenant_flows \
    cnw_network_rx_packets_total cnw_uplink_tx_bytes_total; do
	like "$(grep -c "^$m[ {]" "$RESP_BODY")" '^[1-9]' "/metrics has samples of $m"
done
if promtool check metrics <"$RESP_BODY" >"$T/lint.out" 2>&1 && [ ! -s "$T/lint.out" ]; then
	ok "promtool check metrics passes over a live /metrics"
else
	not_ok "promtool check metrics passes over a live /metrics" "$(cat "$T/lint.out")"
fi
# The same without promtool: a family's samples follow its HELP and TYPE.
awk '
	/^# HELP / { help[$3] = 1; next }
	/^# TYPE / { type[$3] = 1; cur = $3; next }
	/^#/ { next }
	{
		name = $1; sub(/\{.*/, "", name)
		if (!(name in help) || !(name in type)) print "no HELP or TYPE: " name
		else if (name != cur) print "out of its family: " name
	}' "$RESP_BODY" >"$T/families.out"
is "$(cat "$T/families.out")" "" "every sample of /metrics follows its family's HELP and TYPE"

# JSON numbers: 0.1% loss and 0.3 ms of delay are stored as parts per
# million and microseconds and come back as doubles that print, at 17
# digits, as 0.10000000000000001 and 0.29999999999999999.
code=$(api PATCH /v1/uplinks/wan1 '{"emulation": {"egress": {"loss_percent": 0.1, "delay_ms": 0.3}}}' "$ADMIN")
is "$code" 200 "PATCH wan1: 0.1% loss, 0.3 ms delay"
for what in "GET /v1/uplinks/wan1" "GET /v1/uplinks"; do
	api ${what% *} "${what#* }" "" "$ADMIN" >/dev/null
	like "$(grep -o '"loss_percent":[^,}]*' "$RESP_BODY" | head -1)" '^"loss_percent":0\.1$' \
	    "$what: \"loss_percent\":0.1 in the raw body"
	like "$(grep -o '"delay_ms":0\.[^,}]*' "$RESP_BODY" | head -1)" '^"delay_ms":0\.3$' \
	    "$what: \"delay_ms\":0.3 in the raw body"
	unlike "$(cat "$RESP_BODY")" '[0-9]\.[0-9]*0000000000|[0-9]\.[0-9]*9999999999' \
	    "$what: no real with a tail of float noise"
done

done_testing
