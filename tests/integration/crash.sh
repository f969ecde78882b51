#!/bin/bash
# Crash safety: provisioning runs concurrently (two creators, one deleter)
# while cnwd is killed with SIGKILL at a random moment; after each restart,
# every network the API answered 201 for exists exactly as stored (row and
# namespace, status ready), every network answered 204 for is gone, and no
# namespace with the instance's prefix is left without its row.  20 rounds.
. "$(dirname "$0")/lib.sh"

ROUNDS=${CRASH_ROUNDS:-20}
INST="k$((RANDOM % 1000))c$(($$ % 100))"
INST=${INST:0:8}
at_exit netns_cleanup	# the instance's namespaces (lib.sh's netns_of_instance)

start() { cnwd_start --instance "$INST"; }
start || { not_ok "cnwd starts"; done_testing; exit 1; }
api POST /v1/tenants '{"name":"fleet","quotas":{"networks":4096}}' "$ADMIN" >/dev/null
: >"$T/created" ; : >"$T/deleted" ; : >"$T/deleting"

# creator ROUND K: networks rRkKnI with subnets 10.R.(K*100+I).0/24
creator() {
	local r=$1 k=$2 i code
	for ((i = 0; i < 25; i++)); do
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		    -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
		    -d "{\"name\":\"r${r}k${k}n${i}\",\"subnet\":\"10.$r.$((k * 100 + i)).0/24\"}" \
		    http://localhost/v1/tenants/fleet/networks)
		case $code in
		201) echo "r${r}k${k}n${i}" >>"$T/created" ;;
		000) return ;;		# cnwd is gone
		esac
	done
}

# deleter: removes networks created in earlier rounds
deleter() {
	local n code
	for n in $(shuf -n 20 "$T/created.before" 2>/dev/null); do
		grep -qx "$n" "$T/deleted" && continue
		# A delete cut short by the kill may or may not have happened.
		echo "$n" >>"$T/deleting"
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		    -H "Authorization: Bearer $ADMIN" -X DELETE \
		    "http://localhost/v1/tenants/fleet/networks/$n")
		case $code in
		204) echo "$n" >>"$T/deleted" ;;
		000) return ;;
		esac
	done
}

for ((round = 1; round <= ROUNDS; round++)); do
	cp "$T/created" "$T/created.before"
	creator "$round" 1 & p1=$!
	creator "$round" 2 & p2=$!
	deleter & p3=$!
	# Not a synchronisation: the kill lands at a random moment (0.1 to
	# 0.59 s into the round), wherever the creators and the deleter are.
	sleep "0.$((RANDOM % 5 + 1))$((RANDOM % 10))"
	cnwd_stop KILL
	wait "$p1" "$p2" "$p3" 2>/dev/null
	if ! start; then
		not_ok "round $round: cnwd restarts after SIGKILL"
		break
	fi
	code=$(api GET /v1/tenants/fleet/networks "" "$ADMIN")
	json '"\n".join(sorted(n["name"] for n in j["items"]))' >"$T/rows"
	json '"\n".join(sorted(n["netns"] for n in j["items"]))' >"$T/rows.netns"
	notready=$(json '",".join(n["name"] for n in j["items"] if n["status"] != "ready")')
	problems=()
	[ "$code" == 200 ] || problems+=("GET networks answered $code")
	# Sets, compared with comm: created and not (maybe) deleted must be rows
	# and namespaces; deleted must not be rows.
	netns_of_instance | sed "s/^$INST\.fleet\.//" >"$T/kernel"
	comm -23 <(sort -u "$T/created") <(sort -u "$T/deleting") >"$T/must"
	lost=$(comm -23 "$T/must" "$T/rows" | tr '\n' ' ')
	nons=$(comm -23 "$T/must" "$T/kernel" | tr '\n' ' ')
	back=$(comm -12 <(sort -u "$T/deleted") "$T/rows" | tr '\n' ' ')
	[ -n "$lost" ] && problems+=("answered 201 but lost: $lost")
	[ -n "$nons" ] && problems+=("no namespace for: $nons")
	[ -n "$back" ] && problems+=("answered 204 but still there: $back")
	# "exactly as stored": a sample of the kept networks, looked at from inside
	for n in $(shuf -n 5 "$T/must" 2>/dev/null); do
		sub=$(sql "select subnet from networks where name = '$n'")
		gw=${sub%.0/24}.1/24
		ip -n "$INST.fleet.$n" -4 addr show dev cnw0 2>/dev/null | grep -q "inet $gw " ||
		    problems+=("$n: cnw0 lacks $gw")
		ip -n "$INST.fleet.$n" route 2>/dev/null | grep -q '^default dev cnw0 proto 77' ||
		    problems+=("$n: no default route via cnw0")
	done
	orphans=$(comm -13 "$T/rows.netns" <(netns_of_instance))
	[ -n "$orphans" ] && problems+=("namespaces without a row: $orphans")
	[ -n "$notready" ] && problems+=("not ready: $notready")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "round $round: $(wc -l <"$T/rows") networks, all answered ones kept, no orphan"
	else
		not_ok "round $round" "${problems[@]}"
	fi
done
is "$(sql 'PRAGMA integrity_check')" ok "the database is intact"
is "$(sql 'PRAGMA foreign_key_check' | wc -l)" 0 "no row points at nothing"
is "$(api DELETE '/v1/tenants/fleet?cascade=true' "" "$ADMIN" -m 120)" 204 "cascade delete of the fleet (hundreds of networks: each device deletion waits for the kernel)"
is "$(netns_of_instance | wc -l)" 0 "nothing of the instance remains in the kernel"
cnwd_stop TERM
done_testing
