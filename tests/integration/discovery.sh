#!/bin/bash
# Discovery: the host's interfaces in GET /v1/interfaces, kept by a netlink
# monitor (no polling): a veth pair plugged in appears within a second with
# its descriptor, changes are seen, removal is seen; each is an event on
# GET /v1/events; [interfaces] in the config sets a kind the kernel cannot
# tell (satellite); only the admin may read the inventory.  (The test
# kernel has no dummy driver; a veth pair is the hot-plugged device.)  TAP.
. "$(dirname "$0")/lib.sh"

A="dv$(($$ % 100000))a" B="dv$(($$ % 100000))b"
_links_down() { ip link del "$A" 2>/dev/null; return 0; }
at_exit _links_down
cat >"$T/cnwd.conf" <<CONF
[interfaces]
$B = satellite
CONF
cnwd_start --config "$T/cnwd.conf" || { done_testing; exit 1; }
ok "cnwd starts with an [interfaces] section"

is "$(api GET /v1/interfaces "" "$ADMIN")" 200 "GET /v1/interfaces: 200"
is "$(jfield "[i['kind'] for i in d['items'] if i['name'] == 'lo'][0]")" loopback "lo is there, kind loopback"
is "$(api GET /v1/interfaces/$A "" "$ADMIN")" 404 "an interface not yet plugged: 404"

events_open "$T/events" || not_ok "the admin's event stream opens" "$(cat "$T/events")"
t0=$(now_ms)
ip link add "$A" type veth peer name "$B"
# iface_status CODE: GET /v1/interfaces/$A answers CODE.
iface_status() { [ "$(api GET /v1/interfaces/$A "" "$ADMIN")" == "$1" ]; }
found=""
# Polled every 10 ms: the time it takes is measured.
WAIT_INTERVAL=0.01 wait_until 3 iface_status 200 && found=yes
t1=$(now_ms)
is "$found" yes "a hot-plugged veth appears in GET /v1/interfaces ($((t1 - t0)) ms)"
like "$((t1 - t0))" '^[0-9]{1,3}$' "within a second"
is "$(jfield "d['kind'], d['state'], d['mtu'], d['link_kind'], d['netns']")" "('virtual', 'down', 1500, 'veth', None)" \
    "its descriptor: kind virtual, down, MTU 1500, link kind veth, the host's namespace"
api GET /v1/interfaces/$B "" "$ADMIN" >/dev/null
is "$(jfield "d['kind'], d['kind_from_config']")" "('satellite', True)" "the config makes its peer a satellite link"
ip link set "$A" mtu 9000 up
ip link set "$B" up
ip addr add 192.0.2.77/32 dev "$A"
# iface_is EXPR VALUE: EXPR over GET /v1/interfaces/$A is VALUE.
iface_is() {
	api GET /v1/interfaces/$A "" "$ADMIN" >/dev/null
	[ "$(jfield "$1")" == "$2" ]
}
want="('up', 9000, ['192.0.2.77/32'], 10000, 'full')"
wait_until 5 iface_is "d['state'], d['mtu'], d['addresses'], d['speed_mbps'], d['duplex']" "$want"
api GET /v1/interfaces/$A "" "$ADMIN" >/dev/null
is "$(jfield "d['state'], d['mtu'], d['addresses'], d['speed_mbps'], d['duplex']")" \
    "$want" "state, MTU, address, speed and duplex follow"
like "$(jfield "' '.join(d['protocols'])")" 'ipv4' "protocols name ipv4"
ip link del "$A"
gone=""
wait_until 3 iface_status 404 && gone=yes
is "$gone" yes "a removed interface disappears"
wait_until 5 file_has "$T/events" "^data:.*interface\.removed.*\"$A\""	# the last of them; else fails below
for ev in "interface.added.*\"$A\"" "interface.changed.*\"$A\".*\"mtu\":9000" "interface.removed.*\"$A\""; do
	like "$(grep '^data:' "$T/events")" "$ev" "an event: $ev"
done
# added (2), changed (at least 3: MTU, up twice), removed (2): ids rising by one.
ids=$(grep '^id: ' "$T/events" | cut -d' ' -f2 | tr '\n' ' ')
like "$("$PY" -c 'import sys; i = [int(x) for x in sys.argv[1:]]; print(len(i) >= 7 and all(b == a + 1 for a, b in zip(i, i[1:])))' $ids)" True \
    "events carry ids, one apart ($ids)"
# Resume: Last-Event-ID replays what came after it.
first=$(grep -m1 '^id: ' "$T/events" | cut -d' ' -f2)
curl -sN --unix-socket "$SOCK" -H "Authorization: Bearer $ADMIN" -H "Last-Event-ID: $first" \
    http://localhost/v1/events >"$T/replay" &
replay=$!
track_pid "$replay"
replayed() { [ "$(grep -c '^id: ' "$T/replay")" -ge "$(($(grep -c '^id: ' "$T/events") - 1))" ]; }
wait_until 5 replayed	# else fails below
kill "$replay"
is "$(grep -c '^id: ' "$T/replay")" "$(($(grep -c '^id: ' "$T/events") - 1))" "Last-Event-ID replays the events after it"
is "$(api GET '/v1/events?since=abc' "" "$ADMIN")" 400 "since must be a number: 400"

# Who may look.
api POST /v1/tenants '{"name": "acme"}' "$ADMIN" >/dev/null
TT=$(jfield "d['token']")
is "$(api GET /v1/interfaces "" "$TT")" 403 "a tenant token may not read the interfaces: 403"
is "$(api GET /v1/drivers "" "$TT")" 403 "nor the drivers: 403"
is "$(api GET /v1/interfaces "")" 401 "no token: 401"
# A tenant's stream has its own events only.
events_open "$T/tev" "$TT" || not_ok "the tenant's event stream opens" "$(cat "$T/tev")"
ip link add "$A" type veth peer name "$B"
api POST /v1/tenants/acme/networks '{"name": "n1", "subnet": "10.77.0.0/24"}' "$TT" >/dev/null
ip link del "$A"
# Until the tenant's stream has its event and the admin's (still open) has
# the removal that came after it: by then an interface event sent to the
# tenant by mistake would be in its stream too.
tenant_caught_up() {
	file_has "$T/tev" '^event: network\.created$' &&
	    [ "$(grep -c "^data:.*interface\.removed.*\"$A\"" "$T/events")" -ge 2 ]
}
wait_until 5 tenant_caught_up	# else fails below
like "$(grep '^event:' "$T/tev" | tr '\n' ' ')" '^event: network.created $' "a tenant's stream shows its network, not the host's interfaces"
api DELETE "/v1/tenants/acme?cascade=true" "" "$ADMIN" >/dev/null

# A broken [interfaces] line stops --check with FILE:LINE.
printf '[interfaces]\neth0 = submarine\n' >"$T/bad.conf"
out=$("$CNWD" --check --config "$T/bad.conf" 2>&1)
like "$out" 'bad.conf:2: kind "submarine" of eth0 is not one of' "a bad kind: FILE:LINE and the kinds"
done_testing
