#!/bin/bash
# Tenant networks: real namespaces made through netlink, inspected from
# inside with ip(8), routes, bad input that changes nothing (neither the
# database nor the kernel), quotas, isolation between tenants, drift repair,
# cascade, adoption after a restart, orphan removal.  TAP.
. "$(dirname "$0")/lib.sh"

INST="t$((RANDOM % 10000))n$(($$ % 100))"
INST=${INST:0:8}
at_exit netns_cleanup	# the instance's namespaces (lib.sh's netns_of_instance)

cat >"$T/cnwd.conf" <<CONF
[cnwd]
reconcile_interval = 2
CONF
cnwd_start --config "$T/cnwd.conf" --instance "$INST" || { not_ok "cnwd starts"; done_testing; exit 1; }

api POST /v1/tenants '{"name":"cams","quotas":{"networks":3}}' "$ADMIN" >/dev/null
CAMS=$(json 'j["token"]')
api POST /v1/tenants '{"name":"power"}' "$ADMIN" >/dev/null
POWER=$(json 'j["token"]')

# Create and look inside -----------------------------------------------------
code=$(api POST /v1/tenants/cams/networks '{"name":"zone3","subnet":"10.10.0.0/24","subnet6":"fd00:10::/64"}' "$ADMIN")
is "$code" 201 "POST network answers 201"
is "$(json '[j["netns"], j["gateway"], j["gateway6"], j["status"]]')" \
   "[\"$INST.cams.zone3\",\"10.10.0.1\",\"fd00:10::1\",\"ready\"]" "the reply names the namespace, gateways and status ready"
is "$(hdr Location)" /v1/tenants/cams/networks/zone3 "Location header"
NS=$INST.cams.zone3
like "$(ip netns list)" "^$NS( |$)" "ip netns list shows the namespace"
like "$(ip -n "$NS" -4 addr show dev cnw0)" "inet 10\.10\.0\.1/24" "cnw0 holds the first host address"
like "$(ip -n "$NS" -6 addr show dev cnw0)" "inet6 fd00:10::1/64" "and the IPv6 one"
like "$(ip -n "$NS" -d link show dev cnw0)" "tun type tun pi off vnet_hdr on( multi_queue off)? persist on" \
    "cnw0 is a persistent TUN device with vnet headers"
like "$(ip -n "$NS" link show dev cnw0)" "<[^>]*\bUP\b" "cnw0 is up"
like "$(ip -n "$NS" link show dev lo)" "<[^>]*\bUP\b" "lo is up"
like "$(ip -n "$NS" -4 route)" "^default dev cnw0 proto 77" "default route via cnw0"
like "$(ip -n "$NS" -6 route)" "^default dev cnw0 proto 77" "IPv6 default route via cnw0"
unlike "$(ip link show)" "cnw0" "nothing of the network is in the host namespace"

# Routes -------------------------------------------------------------------
is "$(api POST /v1/tenants/cams/networks/zone3/routes '{"prefix":"192.168.50.0/24"}' "$ADMIN")" 201 "route via the fast path: 201"
R1=$(json 'j["id"]')
is "$(json 'j["via"]')" fastpath "via defaults to fastpath"
is "$(api POST /v1/tenants/cams/networks/zone3/routes '{"prefix":"192.168.60.0/24","via":"blackhole"}' "$ADMIN")" 201 "blackhole route: 201"
is "$(api POST /v1/tenants/cams/networks/zone3/routes '{"prefix":"fd00:70::/48","via":"unreachable"}' "$ADMIN")" 201 "unreachable IPv6 route: 201"
R3=$(json 'j["id"]')
routes=$(ip -n "$NS" route; ip -n "$NS" -6 route)
like "$routes" "192\.168\.50\.0/24 dev cnw0 proto 77" "the fast-path route is in the namespace"
like "$routes" "blackhole 192\.168\.60\.0/24 proto 77" "the blackhole route is in the namespace"
like "$routes" "unreachable fd00:70::/48 .*proto 77" "the unreachable route is in the namespace"
is "$(api GET /v1/tenants/cams/networks/zone3/routes "" "$ADMIN")" 200 "GET routes: 200"
is "$(json '[r["prefix"] for r in j["items"]]')" '["192.168.50.0/24","192.168.60.0/24","fd00:70::/48"]' "the routes are listed in order"
is "$(api DELETE "/v1/tenants/cams/networks/zone3/routes/$R3" "" "$ADMIN")" 204 "DELETE route: 204"
unlike "$(ip -n "$NS" -6 route)" "fd00:70::/48" "the deleted route is gone from the namespace"
is "$(api DELETE "/v1/tenants/cams/networks/zone3/routes/$R3" "" "$ADMIN")" 404 "deleting it again: 404"

# Bad input: a clear status, nothing in the database or the kernel ----------
before_db=$(sql 'select count(*) from networks; select count(*) from routes; select count(*) from audit')
before_ns=$(netns_of_instance)
bad() {	# bad STATUS DETAIL-REGEX METHOD PATH BODY DESCRIPTION [TOKEN]
	local code
	code=$(api "$3" "$4" "$5" "${7:-$ADMIN}")
	if [ "$code" == "$1" ] && [ -z "$(problem_check "$1")" ] && json 'j["detail"]' | grep -Eq -- "$2"; then
		ok "$6: $1"
	else
		not_ok "$6: $1" "got $code: $(cat "$RESP_BODY")"
	fi
}
N=/v1/tenants/cams/networks
bad 400 "not an IPv4 prefix" POST $N '{"name":"b1","subnet":"10.10.0/24"}' "subnet that does not parse"
bad 400 "not a network address \(did you mean 10\.20\.0\.0/24\?\)" POST $N '{"name":"b1","subnet":"10.20.0.5/24"}' "subnet with host bits"
bad 400 "prefix length must be /8 to /30" POST $N '{"name":"b1","subnet":"10.20.0.0/31"}' "subnet too small"
bad 400 "prefix length must be /8 to /30" POST $N '{"name":"b1","subnet":"10.0.0.0/4"}' "subnet too large"
bad 400 "not an IPv6 prefix" POST $N '{"name":"b1","subnet":"10.20.0.0/24","subnet6":"10.30.0.0/24"}' "subnet6 that is IPv4"
bad 400 "prefix length must be /16 to /126" POST $N '{"name":"b1","subnet":"10.20.0.0/24","subnet6":"fd00:20::/127"}' "subnet6 too small"
bad 409 "overlaps 10\.10\.0\.0/24 of network \"zone3\"" POST $N '{"name":"b1","subnet":"10.10.0.128/25"}' "subnet overlapping the tenant's"
bad 409 "overlaps fd00:10::/64" POST $N '{"name":"b1","subnet":"10.20.0.0/24","subnet6":"fd00:10::/48"}' "subnet6 overlapping the tenant's"
bad 409 "already exists" POST $N '{"name":"zone3","subnet":"10.30.0.0/24"}' "duplicate network name"
bad 400 "must match" POST $N '{"name":"Zone","subnet":"10.30.0.0/24"}' "bad network name"
bad 400 "is required" POST $N '{"name":"b1"}' "missing subnet"
bad 400 "unknown field" POST $N '{"name":"b1","subnet":"10.30.0.0/24","vlan":3}' "unknown field"
bad 400 "must be a string" POST $N '{"name":"b1","subnet":24}' "subnet of the wrong type"
bad 404 "tenant \"nobody\" not found" POST /v1/tenants/nobody/networks '{"name":"b1","subnet":"10.30.0.0/24"}' "network of a missing tenant"
bad 404 "network \"nope\"" GET $N/nope "" "missing network"
bad 400 "not a prefix" POST $N/zone3/routes '{"prefix":"300.1.1.0/24"}' "route prefix that does not parse"
bad 400 "not a network address" POST $N/zone3/routes '{"prefix":"192.168.50.1/24"}' "route prefix with host bits"
bad 400 "must be one of fastpath, blackhole, unreachable" POST $N/zone3/routes '{"prefix":"192.168.80.0/24","via":"gateway"}' "unknown via"
bad 409 "already has a route to 192\.168\.50\.0/24" POST $N/zone3/routes '{"prefix":"192.168.50.0/24"}' "duplicate route"
bad 404 "route \"abc\" not found" DELETE $N/zone3/routes/abc "" "route id that is not a number"
bad 404 "tenant \"cams\" not found" GET $N/zone3 "" "another tenant's network with a tenant token" "$POWER"
is "$(sql 'select count(*) from networks; select count(*) from routes; select count(*) from audit')" "$before_db" "the database is unchanged after the bad requests"
is "$(netns_of_instance)" "$before_ns" "no namespace was made by the bad requests"

# Quotas ----------------------------------------------------------------------
is "$(api POST $N '{"name":"zone4","subnet":"10.11.0.0/24"}' "$CAMS")" 201 "the tenant's own token creates a network"
is "$(api POST $N '{"name":"zone5","subnet":"10.12.0.0/24"}' "$CAMS")" 201 "a third network, at the quota of 3"
bad 409 "reached its quota of 3 networks" POST $N '{"name":"zone6","subnet":"10.13.0.0/24"}' "a fourth, over the quota" "$CAMS"
bad 409 "cannot go below" PATCH /v1/tenants/cams '{"quotas":{"networks":2}}' "lowering the quota below use"
is "$(api GET /v1/tenants/cams "" "$ADMIN"; json 'j["quotas"]["networks"]')" "2003" "the quota is unchanged"

# Isolation between tenants: overlapping subnets are fine across tenants ------
is "$(api POST /v1/tenants/power/networks '{"name":"grid","subnet":"10.10.0.0/24"}' "$POWER")" 201 "another tenant may use the same subnet"
PNS=$INST.power.grid
check "the other tenant's namespace exists" ip netns exec "$PNS" true
is "$(ip -n "$NS" -o link | awk -F': ' '{print $2}' | sort | tr '\n' ' ')" "cnw0 lo " "a namespace holds only its own links"
is "$(ip -n "$PNS" -o -4 addr | awk '{print $4}' | sort | tr '\n' ' ')" "10.10.0.1/24 127.0.0.1/8 " "and only its own addresses"
unlike "$(ip -n "$PNS" route)" "192\.168\.50\.0" "and none of the other tenant's routes"
is "$(ip -n "$PNS" neigh | wc -l)" 0 "and no neighbours"
is "$(api POST /v1/tenants/power/networks '{"name":"mesh","subnet":"10.30.0.0/24"}' "$POWER")" 201 "the other tenant makes a second network"
check "the other tenant's gateway 10.30.0.1 is not reachable from this one" bash -c "! ip netns exec '$NS' ping -c1 -W1 10.30.0.1"
check "and this one's gateway is not reachable from there" bash -c "! ip netns exec '$INST.power.mesh' ping -c1 -W1 10.10.0.1"
is "$(ip -n "$INST.power.mesh" -o -4 addr | awk '{print $4}' | sort | tr '\n' ' ')" "10.30.0.1/24 127.0.0.1/8 " "the other direction: only its own addresses"
is "$(api DELETE /v1/tenants/power/networks/mesh "" "$POWER")" 204 "(its second network is deleted)"

# Drift: the reconcile loop (interval 1 s here) puts back what was removed by hand
ip -n "$NS" addr del 10.10.0.1/24 dev cnw0
ip -n "$NS" route del 192.168.50.0/24
ip -n "$NS" link set cnw0 down
drift_repaired() {
	ip -n "$NS" -4 addr show dev cnw0 | grep -q 'inet 10.10.0.1/24' &&
	    ip -n "$NS" route | grep -q '^192.168.50.0/24 dev cnw0' &&
	    ip -n "$NS" link show dev cnw0 | grep -q '[<,]UP[,>]'
}
ok_drift=no
wait_until 4 drift_repaired && ok_drift=yes
is "$ok_drift" yes "an address, a route and the link state removed by hand come back at once (netlink events, well within the 2 s period)"
ip -n "$NS" route add 172.16.0.0/16 dev cnw0 proto 77
no_route() { ! ip -n "$NS" route | grep -q "$1"; }
wait_until 4 no_route 172.16.0.0	# the assertion below fails if it stays
unlike "$(ip -n "$NS" route)" "172\.16\.0\.0" "a route of cnw's protocol with no row is removed"

# The timer: a namespace removed by hand (no event reaches cnwd) comes back
ip netns delete "$NS"
has_gateway() { ip -n "$NS" -4 addr show dev cnw0 2>/dev/null | grep -q 'inet 10.10.0.1/24'; }
back=no
wait_until 8 has_gateway && back=yes
is "$back" yes "a namespace deleted by hand is made again within the reconcile period"
ip -n "$NS" addr del 10.10.0.1/24 dev cnw0
wait_until 2 has_gateway	# the assertion below fails if it does not come back
like "$(ip -n "$NS" -4 addr show dev cnw0)" "inet 10\.10\.0\.1/24" "and the new namespace's changes are heard at once"

# The network's own routes are not the tenant's to replace; reserved ranges are refused
bad 409 "default route" POST $N/zone3/routes '{"prefix":"0.0.0.0/0","via":"blackhole"}' "a route replacing the default route"
bad 409 "own subnet" POST $N/zone3/routes '{"prefix":"10.10.0.0/24","via":"blackhole"}' "a route replacing the subnet's route"
bad 400 "overlaps 127\.0\.0\.0/8, which is loopback" POST /v1/tenants/power/networks '{"name":"lo","subnet":"127.1.0.0/16"}' "a loopback subnet" "$POWER"
bad 400 "multicast" POST /v1/tenants/power/networks '{"name":"mc","subnet":"224.1.0.0/16"}' "a multicast subnet" "$POWER"
bad 400 "link-local" POST /v1/tenants/power/networks '{"name":"ll","subnet":"10.40.0.0/24","subnet6":"fe80::/64"}' "a link-local subnet6" "$POWER"

# The kernel refuses: a network is taken back (500), a failed one shows why
mkdir "/run/netns/$INST.power.broken"
before_db=$(sql 'select count(*) from networks')
bad 500 "the kernel refused network broken" POST /v1/tenants/power/networks '{"name":"broken","subnet":"10.41.0.0/24"}' "a network the kernel cannot make" "$POWER"
is "$(sql 'select count(*) from networks')" "$before_db" "its row is taken back"
is "$(sql "select count(*) from audit where action = 'network.undo' and object = 'broken'")" 1 "and the undo is audited"
rmdir "/run/netns/$INST.power.broken"
ip netns delete "$PNS"; mkdir "/run/netns/$PNS"
grid_status_is() {
	api GET /v1/tenants/power/networks/grid "" "$POWER" >/dev/null
	[ "$(json 'j["status"]')" == "$1" ]
}
wait_until 8 grid_status_is failed
is "$(json 'j["status"]')" failed "a network whose namespace cannot be made again is failed"
like "$(json 'j.get("status_detail", "")')" "." "with the reason in status_detail"
rmdir "/run/netns/$PNS"
wait_until 8 grid_status_is ready
is "$(json 'j["status"]')" ready "and ready again once it can"

# Delete, cascade, adoption, orphans -----------------------------------------
# A process inside the namespace, to keep it alive (sleep: something that
# lasts; it is killed below).
ip netns exec "$INST.cams.zone5" sleep 30 &
SLEEPER=$!
track_pid "$SLEEPER"
wait_for "a process runs inside zone5's namespace" 5 in_netns "$SLEEPER" "$INST.cams.zone5"
is "$(api DELETE $N/zone5 "" "$ADMIN")" 204 "DELETE network (a process still inside it): 204"
unlike "$(netns_of_instance)" "\.cams\.zone5$" "its namespace is gone"
unlike "$(nsenter -t "$SLEEPER" -n ip -o link 2>&1)" "cnw0" "and its device too, though a process keeps the namespace alive"
kill "$SLEEPER" 2>/dev/null
bad 409 "still has 2 networks" DELETE /v1/tenants/cams "" "deleting a tenant with networks"
cnwd_stop TERM
is "$CNWD_EXIT" 0 "cnwd stops cleanly"
like "$(netns_of_instance | tr '\n' ' ')" "cams\.zone3 .*cams\.zone4 .*power\.grid" "the networks stay while cnwd is stopped"
ip netns add "$INST.ghost.net"
ip -n "$NS" addr flush dev cnw0
cnwd_start --config "$T/cnwd.conf" --instance "$INST"
unlike "$(netns_of_instance)" "ghost" "at start, an orphan namespace with the prefix is removed"
like "$(ip -n "$NS" -4 addr show dev cnw0)" "10\.10\.0\.1/24" "at start, the adopted network is repaired"
api GET $N/zone3 "" "$ADMIN" >/dev/null
is "$(json 'j["status"]')" ready "the adopted network is ready"
is "$(api DELETE '/v1/tenants/cams?cascade=true' "" "$ADMIN")" 204 "cascade delete: 204"
is "$(netns_of_instance | grep -c '\.cams\.')" 0 "the tenant's namespaces are gone"
is "$(sql "select count(*) from networks n join tenants t on t.id = n.tenant_id where t.name = 'cams'")" 0 "and their rows"
is "$(api DELETE /v1/tenants/power/networks/grid "" "$POWER")" 204 "a tenant deletes its own network"
is "$(netns_of_instance | wc -l)" 0 "nothing of the instance remains in the kernel"

# The same through cnwctl ----------------------------------------------------
# ctl (lib.sh): output in $T/ctl.out and ctl.err (out, err), status in $RC.
# ctl_ok DESC ARGS...: ok when cnwctl exits 0, else its status and stderr.
ctl_ok() {
	local desc=$1
	shift
	if ctl "$@"; then ok "$desc"; else not_ok "$desc" "cnwctl $*: exit $RC" "$(err)"; fi
}
ctl tenant create lab
ctl network create lab west --subnet 10.50.0.0/24 --subnet6 fd00:50::/64
like "$(out; err)" "netns: +$INST\.lab\.west" "cnwctl network create shows the namespace"
ctl network list lab
like "$(out)" "^NAME +SUBNET +SUBNET6 +NETNS +STATUS" "cnwctl network list has its header"
like "$(out)" "west +10\.50\.0\.0/24 +fd00:50::/64 +$INST\.lab\.west +ready" "and the network, ready"
ctl -o json network show lab west
is "$(json 'j["gateway"]' "$T/ctl.out")" 10.50.0.1 "cnwctl -o json network show gives the gateway"
ctl route add lab west 192.168.70.0/24 --via blackhole
ctl route list lab west
like "$(out)" "192\.168\.70\.0/24 +blackhole" "cnwctl route add and list"
like "$(ip -n "$INST.lab.west" route)" "blackhole 192\.168\.70\.0/24" "the route is in the namespace"
ctl -o json route list lab west
RID=$(json 'j["items"][0]["id"]' "$T/ctl.out")
ctl_ok "cnwctl route delete" route delete lab west "$RID"
unlike "$(ip -n "$INST.lab.west" route)" "192\.168\.70\.0" "the route is gone from the namespace"
ctl exec lab west -- ip -4 addr show dev cnw0
like "$(out)" "inet 10\.50\.0\.1/24" "cnwctl exec runs a command inside the network"
ctl exec lab west -- sh -c 'exit 7'
is "$RC" 7 "cnwctl exec exits with the command's status"
ctl network create lab east --subnet 10.50.0.0/25
is "$RC" 1 "cnwctl network create of an overlapping subnet exits 1"
like "$(err)" "^cnwctl: subnet 10\.50\.0\.0/25 overlaps" "and prints the detail"
ctl_ok "cnwctl network delete" network delete lab west
is "$(netns_of_instance | wc -l)" 0 "its namespace is gone"
cnwd_stop TERM
done_testing
