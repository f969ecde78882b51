#!/bin/bash
# Tenant policies and flows, over curl on the Unix socket and over cnwctl:
# create with every field and with none (the defaults and the rendering),
# the order of matching (priority, then creation), get, delete; every kind
# of bad input (400 naming the field, 409, 413), each changing nothing;
# another tenant's token (404, nothing changed) and the tenant's own; the
# cascade of a tenant's deletion; the flow list of a tenant without traffic
# and its bad queries; the uplink's scheduler fields; cnwctl policy
# add/list/show/delete and flow list in table and JSON, API errors (exit 1)
# and usage errors (exit 2).
#
# Needs root: the two uplinks the policies name are udp uplinks bound to lo
# (SO_BINDTODEVICE); they live as long as this file's cnwd, which lib.sh's
# clean-up stops whatever happens.
set -u
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root (uplinks bind to a device)"
	TAP_DONE=1
	exit 0
fi

P=/v1/tenants/acme/policies

# The state a rejected request must not change: both tenants' policies as
# the admin sees them, and the audit rows.
pol_state() {
	local code
	code=$(api GET /v1/tenants/acme/policies "" "$ADMIN")
	printf 'acme %s %s\n' "$code" "$(cat "$RESP_BODY")"
	code=$(api GET /v1/tenants/beta/policies "" "$ADMIN")
	printf 'beta %s %s\n' "$code" "$(cat "$RESP_BODY")"
	printf 'audit rows: %s\n' "$(audit_count)"
}

# reject and expect_fail: lib.sh, with pol_state as the state.
STATE=pol_state
EXPECT_STATE=pol_state

# bad DETAIL-ERE DESC BODY: a POST of BODY to acme's policies is refused
# with 400 naming what is wrong, and nothing changes.
bad() {
	DETAIL=$1 reject "$2" 400 POST "$P" "$3" "$ADMIN"
}

# ctl, out, err, field and table_rows: lib.sh.

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

cnwd_start || { not_ok "cnwd starts"; done_testing; exit 1; }
ok "cnwd starts"

# Tenants and uplinks ----------------------------------------------------------

code=$(api POST /v1/tenants '{"name":"acme","quotas":{"flows":1000}}' "$ADMIN")
ACME=$(json 'j.get("token", "")')
is "$code" 201 "tenant acme (flows quota 1000)"
code=$(api POST /v1/tenants '{"name":"beta"}' "$ADMIN")
BETA=$(json 'j.get("token", "")')
is "$code" 201 "tenant beta"
for u in wan1 wan2; do
	port=$(free_port)
	code=$(api POST /v1/uplinks "{\"name\":\"$u\",\"interface\":\"lo\",\"address\":\"127.0.0.1:$port\"}" "$ADMIN")
	is "$code" 201 "uplink $u on lo, 127.0.0.1:$port"
	[ "$code" == 201 ] || diag "$(cat "$RESP_BODY")"
done

code=$(api GET /v1/uplinks/wan1 "" "$ADMIN")
is "$code:$(json '[j.get("capacity_kbps") is None or (isinstance(j.get("capacity_kbps"), int) and j["capacity_kbps"] > 0), j.get("flows"), isinstance(j.get("paths"), list)]')" \
    '200:[true,0,true]' "GET an uplink: capacity_kbps (an integer or null), flows 0, a list of paths"
UPLINK_PATHS=$(json 'j.get("paths")')
is "$(json 'all(sorted(p) == ["endpoint","jitter_ms","loss_percent","peer","probes_answered","probes_sent","rtt_ms","state"] and (p["state"] != "unknown" or [p["rtt_ms"], p["jitter_ms"], p["loss_percent"]] == [None, None, None]) for p in j["paths"])')" \
    true "an uplink's paths have their members, no numbers while unknown"
code=$(api GET /v1/uplinks "" "$ADMIN")
is "$code:$(json '[(u["name"], "capacity_kbps" in u, u.get("flows"), isinstance(u.get("paths"), list)) for u in j["items"]]')" \
    '200:[["wan1",true,0,true],["wan2",true,0,true]]' "GET /v1/uplinks: each with capacity_kbps, flows and paths"
code=$(api GET /v1/interfaces/lo "" "$ADMIN")
is "$code:$(json 'j.get("paths", [])')" "200:$UPLINK_PATHS" \
    "GET /v1/interfaces/lo: the paths of its uplink (none: no member)"

# Create: every field, then none ------------------------------------------------

VIDEO='{"name":"video","priority":10,
 "match":{"protocol":"udp","src_prefix":"10.1.0.0/24","dst_prefix":"10.2.0.0/24",
          "src_ports":"1000-2000","dst_ports":5004,"dscp":[46,34]},
 "action":"allow","class":"realtime","steering":"load-balance","uplinks":["wan1","wan2"],
 "weights":[3,1],"rate_kbps":20000,"burst_kb":256,"max_latency_ms":50}'
code=$(api POST "$P" "$VIDEO" "$ADMIN")
cp "$RESP_BODY" "$T/video.json"
is "$code" 201 "POST a policy with every field: 201"
is "$(hdr Location)" "$P/video" "POST: Location $P/video"
is "$(hdr Content-Type)" application/json "POST: Content-Type application/json"
is "$(json 'sorted(j)')" \
    '["action","burst_kb","class","created_at","match","max_latency_ms","name","priority","rate_kbps","steering","uplinks","weights"]' \
    "POST: exactly the documented members"
is "$(json '[j["name"], j["priority"], j["action"], j["class"], j["steering"], j["uplinks"], j["weights"], j["rate_kbps"], j["burst_kb"], j["max_latency_ms"]]')" \
    '["video",10,"allow","realtime","load-balance",["wan1","wan2"],[3,1],20000,256,50]' \
    "POST: every field as given"
is "$(json 'j["match"]')" \
    '{"dscp":[34,46],"dst_ports":"5004","dst_prefix":"10.2.0.0/24","protocol":"udp","src_ports":"1000-2000","src_prefix":"10.1.0.0/24"}' \
    "POST: the match as given, ports as strings, DSCP in order"
like "$(json 'j["created_at"]')" "$RFC3339" "POST: created_at is RFC 3339 UTC"

code=$(api POST "$P" '{"name":"plain"}' "$ADMIN")
cp "$RESP_BODY" "$T/plain.json"
is "$code" 201 "POST a policy with only a name: 201"
is "$(json '[j["priority"], j["match"], j["action"], j["class"], j["steering"], j["uplinks"], "weights" in j, j["rate_kbps"], j["burst_kb"], j["max_latency_ms"]]')" \
    '[20,{},"allow","bulk","active-standby",[],false,null,null,null]' \
    "the defaults: priority 10 after the tenant's last, match all, allow, bulk, active-standby, all uplinks, no weights, no cap, no bound"

code=$(api POST "$P" '{"name":"gre","priority":300,"match":{"protocol":47}}' "$ADMIN")
is "$code:$(json 'j.get("match")')" '201:{"protocol":47}' "a protocol without a name: shown as its number"
code=$(api POST "$P" '{"name":"ping","priority":20,"match":{"protocol":"icmp"},"action":"deny"}' "$ADMIN")
is "$code:$(json '[j.get("match"), j.get("action"), j.get("uplinks")]')" '201:[{"protocol":"icmp"},"deny",[]]' \
    "icmp without ports, deny: 201"
code=$(api POST "$P" '{"name":"v6","priority":30,"match":{"dst_prefix":"fd00:2::/64","dscp":[0,63]}}' "$ADMIN")
is "$code:$(json 'j.get("match")')" '201:{"dscp":[0,63],"dst_prefix":"fd00:2::/64"}' \
    "an IPv6 prefix, DSCP 0 and 63: 201"
code=$(api POST "$P" '{"name":"whole","priority":40,"match":{"protocol":"tcp","dst_ports":"0-65535"}}' "$ADMIN")
is "$code:$(json 'j.get("match")')" '201:{"protocol":"tcp"}' "ports 0-65535 constrain nothing: not shown"

# Order: priority, then creation ------------------------------------------------

api POST "$P" '{"name":"late","priority":5}' "$ADMIN" >/dev/null
api POST "$P" '{"name":"same","priority":10}' "$ADMIN" >/dev/null
api POST "$P" '{"name":"first","priority":0}' "$ADMIN" >/dev/null
code=$(api GET "$P" "" "$ADMIN")
is "$code" 200 "GET the list: 200"
is "$(json '[p["name"] for p in j["items"]]')" \
    '["first","late","video","same","plain","ping","v6","whole","gre"]' \
    "the list is in order of priority, then of creation"
is "$(json 'sorted(j)')" '["items"]' "the list is {\"items\": [...]}"
code=$(api GET "$P/video" "" "$ADMIN")
is "$code" 200 "GET one: 200"
is "$(json 'j')" "$(json 'j' "$T/video.json")" "GET one: the policy as created"
is "$(api GET "$P/nosuch" "" "$ADMIN"):$(problem_check 404)" "404:" "GET a missing policy: a 404 problem"
is "$(api GET /v1/tenants/nosuch/policies "" "$ADMIN")" 404 "GET the policies of a missing tenant: 404"

# Bad input: 400 naming the field, nothing changed ---------------------------------

DETAIL='malformed JSON' reject "POST malformed JSON" 400 POST "$P" '{"name": "x",' "$ADMIN"
reject "POST an empty body" 400 POST "$P" '' "$ADMIN"
DETAIL='object' reject "POST a JSON array" 400 POST "$P" '[{"name":"x"}]' "$ADMIN"
bad 'unknown field "colour"' "an unknown field" '{"name":"x","colour":"red"}'
bad 'match\.vlan' "an unknown key in match" '{"name":"x","match":{"vlan":5}}'
bad 'required' "no name" '{"priority":1}'
bad '"name"' "name as a number" '{"name":42}'
bad 'name must match' "a name with upper case" '{"name":"Video"}'
bad '"priority"' "priority as a string" '{"name":"x","priority":"1"}'
bad '"match"' "match as a string" '{"name":"x","match":"udp"}'
bad '"uplinks"' "uplinks as a string" '{"name":"x","uplinks":"wan1"}'
bad 'uplinks\[1\]' "an uplink as a number" '{"name":"x","uplinks":["wan1",2]}'
bad '"rate_kbps"' "rate_kbps as a real" '{"name":"x","rate_kbps":1.5}'
bad '"burst_kb"' "burst_kb as a boolean" '{"name":"x","rate_kbps":100,"burst_kb":true}'
bad 'match\.dscp' "dscp as a number" '{"name":"x","match":{"dscp":46}}'
bad 'match\.protocol' "an unknown protocol name" '{"name":"x","match":{"protocol":"tcpx"}}'
bad 'match\.protocol' "protocol 256" '{"name":"x","match":{"protocol":256}}'
bad 'match\.protocol' "protocol -1" '{"name":"x","match":{"protocol":-1}}'
bad 'match\.protocol' "protocol as a boolean" '{"name":"x","match":{"protocol":true}}'
bad 'match\.dst_ports' "ports \"70000\"" '{"name":"x","match":{"protocol":"tcp","dst_ports":"70000"}}'
bad 'match\.dst_ports' "ports 70000 as a number" '{"name":"x","match":{"protocol":"tcp","dst_ports":70000}}'
bad 'match\.src_ports' "ports \"5-3\"" '{"name":"x","match":{"protocol":"udp","src_ports":"5-3"}}'
bad 'match\.src_ports' "ports \"http\"" '{"name":"x","match":{"protocol":"tcp","src_ports":"http"}}'
bad 'match\.dst_ports' "ports -1" '{"name":"x","match":{"dst_ports":-1}}'
bad 'port' "ports with icmp" '{"name":"x","match":{"protocol":"icmp","dst_ports":"80"}}'
bad 'dst_prefix' "a prefix that does not parse" '{"name":"x","match":{"dst_prefix":"10.2.0/24x"}}'
bad 'src_prefix' "a prefix length of 33" '{"name":"x","match":{"src_prefix":"10.2.0.0/33"}}'
bad 'did you mean 10\.2\.0\.0/24' "a prefix with host bits" '{"name":"x","match":{"dst_prefix":"10.2.0.5/24"}}'
bad 'prefix|famil' "prefixes of two families" '{"name":"x","match":{"src_prefix":"10.1.0.0/24","dst_prefix":"fd00::/64"}}'
bad 'match\.dscp\[0\]' "DSCP 64" '{"name":"x","match":{"dscp":[64]}}'
bad 'match\.dscp\[1\]' "DSCP -1" '{"name":"x","match":{"dscp":[1,-1]}}'
bad 'class' "an unknown class" '{"name":"x","class":"gold"}'
bad 'steering' "an unknown steering mode" '{"name":"x","steering":"random"}'
bad 'action' "an unknown action" '{"name":"x","action":"drop"}'
bad 'weights' "weights without load-balance" '{"name":"x","uplinks":["wan1","wan2"],"weights":[1,2]}'
bad 'weights' "fewer weights than uplinks" '{"name":"x","steering":"load-balance","uplinks":["wan1","wan2"],"weights":[1]}'
bad 'weights' "more weights than uplinks" '{"name":"x","steering":"load-balance","uplinks":["wan1"],"weights":[1,2]}'
bad 'weights\[0\]' "a weight of 0" '{"name":"x","steering":"load-balance","uplinks":["wan1"],"weights":[0]}'
bad 'rate_kbps' "a negative rate" '{"name":"x","rate_kbps":-1}'
bad 'rate_kbps' "a rate over 100000000" '{"name":"x","rate_kbps":100000001}'
bad 'priority' "a negative priority" '{"name":"x","priority":-1}'
bad 'priority' "priority 65536" '{"name":"x","priority":65536}'
bad 'priority' "priority 2^32 + 5 (not truncated)" '{"name":"x","priority":4294967301}'
bad 'max_latency_ms' "a negative latency bound" '{"name":"x","max_latency_ms":-5}'
bad 'burst' "burst without rate" '{"name":"x","burst_kb":64}'
bad 'deny|steering' "deny with a steering mode" '{"name":"x","action":"deny","steering":"smallest-delay"}'
bad 'deny' "deny with a rate" '{"name":"x","action":"deny","rate_kbps":100}'
bad 'deny' "deny with uplinks" '{"name":"x","action":"deny","uplinks":["wan1"]}'
bad 'redundant' "redundant over one uplink" '{"name":"x","steering":"redundant","uplinks":["wan1"]}'
bad 'burst_kb' "a burst of 0" '{"name":"x","rate_kbps":100,"burst_kb":0}'
bad 'burst_kb' "a burst over 65536" '{"name":"x","rate_kbps":100,"burst_kb":65537}'
bad 'nosuch' "an uplink that does not exist" '{"name":"x","uplinks":["wan1","nosuch"]}'
bad 'wan1|uplink' "an uplink named twice" '{"name":"x","uplinks":["wan1","wan1"]}'
bad 'uplinks' "nine uplinks" '{"name":"x","uplinks":["a","b","c","d","e","f","g","h","i"]}'
DETAIL='video|exists|taken' reject "POST a name already taken" 409 POST "$P" '{"name":"video"}' "$ADMIN"
DETAIL='video|exists|taken' reject "POST a name already taken, other fields" 409 POST "$P" '{"name":"video","priority":99,"class":"bulk"}' "$ADMIN"
"$PY" -c '
import sys
n = 1024 * 1024 + 1
head, tail = b"{\"name\":\"big\",\"match\":{\"src_prefix\":\"", b"\"}}"
sys.stdout.buffer.write(head + b"a" * (n - len(head) - len(tail)) + tail)' >"$T/big.json"
DETAIL='larger' reject "POST a body of 1 MiB + 1 byte" 413 POST "$P" "@$T/big.json" "$ADMIN"
DETAIL='JSON' reject "POST with Content-Type text/plain" 415 POST "$P" '{"name":"x"}' "$ADMIN" -H 'Content-Type: text/plain'
reject "PUT on the policies" 405 PUT "$P" '{"name":"x"}' "$ADMIN"
is "$(hdr Allow "$T/rej.headers" | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)" "GET,POST" \
    "PUT on the policies: Allow lists GET and POST"
reject "PATCH a policy" 405 PATCH "$P/video" '{"priority":1}' "$ADMIN"
is "$(hdr Allow "$T/rej.headers" | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)" "DELETE,GET" \
    "PATCH a policy: Allow lists GET and DELETE"
DETAIL='foo' reject "GET the policies with an unknown query parameter" 400 GET "$P?foo=1" "" "$ADMIN"
reject "POST without a token" 401 POST "$P" '{"name":"x"}'
reject "POST a policy to a missing tenant" 404 POST /v1/tenants/nosuch/policies '{"name":"x"}' "$ADMIN"
reject "DELETE a missing policy" 404 DELETE "$P/nosuch" "" "$ADMIN"
reject "GET a policy name of 200 characters" 404 GET "$P/$(printf 'a%.0s' {1..200})" "" "$ADMIN"

# An uplink a policy names stays -------------------------------------------------

reject "DELETE an uplink a policy names" 409 DELETE /v1/uplinks/wan2 "" "$ADMIN"
is "$(api GET /v1/uplinks/wan2 "" "$ADMIN")" 200 "and the uplink is still there"

# Tenants: another's token, the tenant's own -----------------------------------------

reject "beta's token: GET acme's policies" 404 GET "$P" "" "$BETA"
reject "beta's token: GET one of acme's policies" 404 GET "$P/video" "" "$BETA"
reject "beta's token: POST a policy to acme" 404 POST "$P" '{"name":"evil"}' "$BETA"
reject "beta's token: DELETE acme's policy" 404 DELETE "$P/video" "" "$BETA"
reject "beta's token: GET acme's flows" 404 GET /v1/tenants/acme/flows "" "$BETA"
code=$(api GET /v1/tenants/acme/policies "" "$BETA")
other=$(json '[j.get("type"), j.get("status"), j.get("detail", "").replace("acme", "NAME")]')
code2=$(api GET /v1/tenants/nosuch/policies "" "$BETA")
missing=$(json '[j.get("type"), j.get("status"), j.get("detail", "").replace("nosuch", "NAME")]')
is "$code:$other" "$code2:$missing" "beta's token: acme's policies answer exactly as a missing tenant's"
is "$(api GET /v1/tenants/beta/policies "" "$BETA"):$(json 'j.get("items")')" '200:[]' \
    "beta's token: its own (empty) list"

code=$(api POST "$P" '{"name":"own","priority":400,"class":"interactive"}' "$ACME")
is "$code:$(hdr Location)" "201:$P/own" "acme's token: POST a policy to acme: 201"
code=$(api GET "$P" "" "$ACME")
is "$code:$(json '[p["name"] for p in j["items"]][-1]')" "200:own" "acme's token: GET its list, the new one last"
is "$(api GET "$P/own" "" "$ACME"):$(json 'j.get("class")')" "200:interactive" "acme's token: GET its policy"
is "$(api DELETE "$P/own" "" "$ACME")" 204 "acme's token: DELETE its policy: 204"
is "$(api GET /v1/tenants/acme/flows "" "$ACME")" 200 "acme's token: GET its flows: 200"

# Delete ---------------------------------------------------------------------------

code=$(api DELETE "$P/same" "" "$ADMIN")
is "$code:$(wc -c <"$RESP_BODY")" "204:0" "DELETE a policy: 204, no body"
is "$(api GET "$P/same" "" "$ADMIN")" 404 "GET it after: 404"
is "$(api DELETE "$P/same" "" "$ADMIN")" 404 "DELETE it again: 404"
api GET "$P" "" "$ADMIN" >/dev/null
is "$(json '[p["name"] for p in j["items"]]')" \
    '["first","late","video","plain","ping","v6","whole","gre"]' "the list without it, the order kept"

# Flows -----------------------------------------------------------------------------

code=$(api GET /v1/tenants/acme/flows "" "$ADMIN")
is "$code" 200 "GET the flows of a tenant without traffic: 200"
is "$(json '[j.get("active"), j.get("limit"), j.get("dropped"), j.get("items")]')" '[0,1000,0,[]]' \
    "the flows: active 0, limit its flows quota, dropped 0, items []"
is "$(json 'sorted(j)')" '["active","dropped","items","limit"]' "the flows: exactly the documented members"
is "$(api GET '/v1/tenants/acme/flows?limit=1' "" "$ADMIN"):$(json 'j.get("items")')" '200:[]' "flows?limit=1: 200"
is "$(api GET '/v1/tenants/acme/flows?limit=1000000' "" "$ADMIN")" 200 "flows?limit=1000000: 200"
for lim in 0 1000001 -1 abc 1.5 '' 99999999999; do
	DETAIL='limit' reject "flows?limit=$lim" 400 GET "/v1/tenants/acme/flows?limit=$lim" "" "$ADMIN"
done
DETAIL='network' reject "flows?network=Bad" 400 GET '/v1/tenants/acme/flows?network=Bad' "" "$ADMIN"
DETAIL='nosuch' reject "flows?network= a network it does not have" 404 GET '/v1/tenants/acme/flows?network=nosuch' "" "$ADMIN"
DETAIL='foo' reject "flows?foo=1" 400 GET '/v1/tenants/acme/flows?foo=1' "" "$ADMIN"
reject "the flows of a missing tenant" 404 GET /v1/tenants/nosuch/flows "" "$ADMIN"
reject "POST on the flows" 405 POST /v1/tenants/acme/flows '{}' "$ADMIN"

# cnwctl ----------------------------------------------------------------------------

ctl policy add acme cli-a --priority 7 --protocol udp --dst 10.2.0.0/24 --dport 5000-5100 \
    --dscp 46 --class interactive --steering smallest-delay --uplinks wan1,wan2 --rate 5000 \
    --burst 128 --max-latency 40
is "$RC" 0 "cnwctl policy add with match, class, steering, uplinks, rate, burst, latency: exit 0"
is "$(field name)|$(field priority)|$(field match)|$(field action)|$(field class)|$(field steering)|$(field uplinks)|$(field rate)|$(field burst)|$(field max_latency)" \
    "cli-a|7|udp dport 5000-5100 dst 10.2.0.0/24 dscp 46|allow|interactive|smallest-delay|wan1,wan2|5000kbit/s|128KiB|40ms" \
    "cnwctl policy add: printed as show prints it"
api GET "$P/cli-a" "" "$ADMIN" >/dev/null
is "$(json '[j["match"], j["rate_kbps"], j["burst_kb"]]')" \
    '[{"dscp":[46],"dst_ports":"5000-5100","dst_prefix":"10.2.0.0/24","protocol":"udp"},5000,128]' \
    "cnwctl policy add: the API has what was given"
ctl -o json policy add acme cli-b --priority 8 --protocol 47 --action deny
is "$RC:$(json '[j["match"], j["action"], j["priority"]]' "$T/ctl.out")" '0:[{"protocol":47},"deny",8]' \
    "cnwctl -o json policy add --protocol 47 --action deny: the protocol sent as a number"
ctl policy add acme cli-c --priority 9 --steering load-balance --uplinks wan1,wan2 --weights 2,1 \
    --src fd00:1::/64 --sport 443
is "$RC:$(field match):$(field weights):$(field uplinks)" "0:sport 443 src fd00:1::/64:2,1:wan1,wan2" \
    "cnwctl policy add --weights --src --sport"
ctl policy show acme plain
is "$RC:$(field match):$(field uplinks):$(field rate):$(field burst):$(field max_latency)" "0:*:all:-:default:-" \
    "cnwctl policy show of the defaults: match *, all uplinks, no rate, default burst, no bound"
is "$(sed 's/:.*//' "$T/ctl.out" | paste -sd,)" \
    "name,priority,match,action,class,steering,uplinks,weights,rate,burst,max_latency,created_at" \
    "cnwctl policy show: the lines"

ctl policy list acme
is "$RC:$(head -n 1 "$T/ctl.out" | sed 's/   */ /g')" "0:NAME PRIO MATCH ACTION CLASS STEERING UPLINKS RATE LATENCY" \
    "cnwctl policy list: the columns"
rows=$(table_rows)
is "$(printf '%s' "$rows" | "$PY" -c 'import json,sys; print(json.dumps([r[0] for r in json.load(sys.stdin)[1:]]))')" \
    '["first", "late", "cli-a", "cli-b", "cli-c", "video", "plain", "ping", "v6", "whole", "gre"]' \
    "cnwctl policy list: in the order of matching"
is "$(printf '%s' "$rows" | "$PY" -c 'import json,sys; print(json.dumps([r for r in json.load(sys.stdin) if r[0] in ("plain", "cli-a", "video")]))')" \
    '[["cli-a", "7", "udp dport 5000-5100 dst 10.2.0.0/24 dscp 46", "allow", "interactive", "smallest-delay", "wan1,wan2", "5000kbit/s", "40ms"], ["video", "10", "udp sport 1000-2000 dport 5004 src 10.1.0.0/24 dst 10.2.0.0/24 dscp 34,46", "allow", "realtime", "load-balance", "wan1,wan2", "20000kbit/s", "50ms"], ["plain", "20", "*", "allow", "bulk", "active-standby", "all", "-", "-"]]' \
    "cnwctl policy list: the rows, MATCH as a phrase"
ctl -o json policy list acme
api GET "$P" "" "$ADMIN" >/dev/null
is "$RC:$(json 'j' "$T/ctl.out")" "0:$(json 'j')" "cnwctl -o json policy list: the API's JSON"

ctl policy delete acme cli-c
is "$RC:$(out)" "0:deleted policy cli-c of tenant acme" "cnwctl policy delete"
expect_fail "cnwctl policy show of the deleted policy" 1 '^cnwctl: .*cli-c.*not found' policy show acme cli-c
expect_fail "cnwctl policy delete of a missing policy" 1 'not found' policy delete acme cli-c
expect_fail "cnwctl policy add --class gold" 1 '^cnwctl: class "gold" is not one of' \
    policy add acme bad --class gold
expect_fail "cnwctl policy add --dport 70000" 1 '^cnwctl: match\.dst_ports "70000"' \
    policy add acme bad --protocol tcp --dport 70000
expect_fail "cnwctl policy add --dscp 64" 1 '^cnwctl: match\.dscp' policy add acme bad --dscp 64
expect_fail "cnwctl policy add --weights without load-balance" 1 '^cnwctl: .*weights' \
    policy add acme bad --uplinks wan1 --weights 1
expect_fail "cnwctl policy add of a name taken" 1 '^cnwctl: ' policy add acme video
expect_fail "cnwctl policy add to a missing tenant" 1 'not found' policy add nosuch x

expect_fail "cnwctl policy add without a name" 2 'missing argument' policy add acme
expect_fail "cnwctl policy add --priority abc" 2 "^cnwctl: --priority: 'abc' is not a whole number" \
    policy add acme x --priority abc
expect_fail "cnwctl policy add --dscp 1,,2" 2 "^cnwctl: --dscp: '1,,2' has an empty item" \
    policy add acme x --dscp 1,,2
expect_fail "cnwctl policy add --weights 1,x" 2 "^cnwctl: --weights: 'x' is not a whole number" \
    policy add acme x --weights 1,x
expect_fail "cnwctl policy add --rate 1.5" 2 "^cnwctl: --rate: '1.5' is not a whole number" \
    policy add acme x --rate 1.5
expect_fail "cnwctl policy add --bogus" 2 "unrecognized option '--bogus'" policy add acme x --bogus
expect_fail "cnwctl policy add with one argument too many" 2 "unexpected argument 'y'" policy add acme x y
expect_fail "cnwctl policy list without a tenant" 2 'missing argument' policy list
expect_fail "cnwctl policy show without a name" 2 'missing argument' policy show acme
expect_fail "cnwctl policy of no verb" 2 "policy: unknown verb 'nosuch'" policy nosuch
expect_fail "cnwctl flow list without a tenant" 2 'missing argument' flow list
expect_fail "cnwctl flow list --limit x" 2 "^cnwctl: --limit: 'x' is not a whole" flow list acme --limit x
expect_fail "cnwctl flow list --bogus" 2 "unrecognized option '--bogus'" flow list acme --bogus
ctl policy add -h
is "$RC:$(head -n 1 "$T/ctl.out" | cut -c1-40)" "0:usage: cnwctl policy add TENANT NAME [--" "cnwctl policy add -h: exit 0, the usage"
if grep -q -- 'load-balance, priority, redundant' "$T/ctl.out"; then
	ok "cnwctl policy add -h: the steering modes"
else
	not_ok "cnwctl policy add -h: the steering modes" "$(out)"
fi

ctl flow list acme
is "$RC:$(head -n 1 "$T/ctl.out")" "0:flows: 0 of 1000, 0 dropped over the quota" "cnwctl flow list: the counts first"
is "$(sed -n 2p "$T/ctl.out" | sed 's/   */ /g')" "NETWORK PROTO SOURCE DESTINATION CLASS POLICY UPLINKS PACKETS BYTES KIND AGE" \
    "cnwctl flow list: then the columns"
is "$(wc -l <"$T/ctl.out")" 2 "cnwctl flow list: and no flow"
ctl -o json flow list acme --limit 5
is "$RC:$(json '[j["active"], j["limit"], j["dropped"], j["items"]]' "$T/ctl.out")" '0:[0,1000,0,[]]' \
    "cnwctl -o json flow list --limit 5: the API's JSON"
expect_fail "cnwctl flow list --limit 0" 1 '^cnwctl: query parameter limit' flow list acme --limit 0
expect_fail "cnwctl flow list of a missing tenant" 1 'not found' flow list nosuch

ctl uplink show wan1
like "$RC:$(field capacity):$(field flows)" '^0:([0-9]+kbit/s|unknown):[0-9]+$' \
    "cnwctl uplink show: capacity and flows"

RC=0
CNW_TOKEN=$ACME "$CNWCTL" --socket "$SOCK" policy list acme >"$T/ctl.out" 2>"$T/ctl.err" </dev/null || RC=$?
is "$RC:$(table_rows | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)) - 1)')" "0:10" \
    "CNW_TOKEN=acme's token cnwctl policy list acme: its policies"
RC=0
CNW_TOKEN=$BETA "$CNWCTL" --socket "$SOCK" policy list acme >"$T/ctl.out" 2>"$T/ctl.err" </dev/null || RC=$?
like "$RC:$(err)" '^1:cnwctl: .*not found' "CNW_TOKEN=beta's token cnwctl policy list acme: exit 1, not found"

# Defaults and canonical forms, in beta ----------------------------------------------

B=/v1/tenants/beta/policies
code=$(api POST "$B" '{"name":"b1"}' "$ADMIN")
is "$code:$(json 'j.get("priority")')" "201:100" "a tenant's first policy without a priority: 100"
api POST "$B" '{"name":"b2","priority":500}' "$ADMIN" >/dev/null
code=$(api POST "$B" '{"name":"b3"}' "$ADMIN")
is "$code:$(json 'j.get("priority")')" "201:510" "the next without a priority: 10 after the highest, so last"
code=$(api POST "$B" '{"name":"b4","priority":0,"match":{"src_prefix":"10.1.0.7","dst_prefix":"0.0.0.0/0"}}' "$ADMIN")
is "$code:$(json 'j.get("match")')" '201:{"dst_prefix":"0.0.0.0/0","src_prefix":"10.1.0.7/32"}' \
    "an address alone is that host (/32), /0 is any"
code=$(api POST "$B" '{"name":"b5","match":{"dst_prefix":"FD00:0002:0000::/64","protocol":"udplite","dst_ports":"9"}}' "$ADMIN")
is "$code:$(json 'j.get("match")')" '201:{"dst_ports":"9","dst_prefix":"fd00:2::/64","protocol":"udplite"}' \
    "an IPv6 prefix in canonical form; udplite has ports"
code=$(api POST "$B" '{"name":"b6","steering":"redundant","uplinks":["wan1","wan2"],"rate_kbps":0,"max_latency_ms":0}' "$ADMIN")
is "$code:$(json '[j.get("steering"), j.get("rate_kbps"), j.get("max_latency_ms")]')" '201:["redundant",null,null]' \
    "redundant over two uplinks; a rate and a bound of 0 are none"
api GET "$B" "" "$ADMIN" >/dev/null
is "$(json '[(p["name"], p["priority"]) for p in j["items"]]')" \
    '[["b4",0],["b1",100],["b2",500],["b3",510],["b5",520],["b6",530]]' "beta's policies in order"
is "$(api DELETE "$B/b6" "" "$ADMIN")" 204 "delete the one naming both uplinks"

# Cascade ---------------------------------------------------------------------------

n_before=$(api GET "$P" "" "$ADMIN" >/dev/null; json 'len(j["items"])')
if [ "$n_before" -gt 0 ] 2>/dev/null; then
	ok "acme has $n_before policies before it is deleted"
else
	not_ok "acme has policies before it is deleted" "$n_before"
fi
is "$(api DELETE '/v1/tenants/acme?cascade=true' "" "$ADMIN")" 204 "DELETE acme ?cascade=true: 204"
is "$(api GET "$P" "" "$ADMIN")" 404 "its policies are gone with it: 404"
is "$(api GET "$P" "" "$ACME")" 401 "its token is gone: 401"
is "$(api DELETE /v1/uplinks/wan2 "" "$ADMIN")" 204 "the uplink its policies named may go now: 204"
api POST /v1/tenants '{"name":"acme"}' "$ADMIN" >/dev/null
is "$(api GET "$P" "" "$ADMIN"):$(json 'j.get("items")')" '200:[]' "a new acme starts without policies"
is "$(api POST "$P" '{"name":"video"}' "$ADMIN")" 201 "and may reuse a name the old one had"
is "$(api GET /v1/tenants/beta/policies "" "$ADMIN"):$(json '[p["name"] for p in j["items"]]')" \
    '200:["b4","b1","b2","b3","b5"]' "beta's policies were not touched"

done_testing
