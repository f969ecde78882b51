#!/bin/bash
# cnwctl's HAL commands against a running cnwd: uplink create and set with
# emulation, flap and admin state (table and JSON), bad values (exit 1 with
# the API's detail, nothing changed), usage errors (exit 2), interface
# list/show over an interface of our own, driver list, the offline driver
# keygen/sign/verify, and events streaming an uplink.updated.
#
# Needs root, for the interface it adds in the host's namespace (a dummy,
# or a veth pair where the dummy module is missing); deleted on exit.
set -u
. "$(dirname "$0")/lib.sh"

IF="tcli$$d0"
IF_PEER="tcli$$d1"	# only when it is a veth pair
ADDR="198.51.100.$(($$ % 250 + 2))"

# ctl, out, err, field and row: lib.sh.

# The interface goes at exit, once cnwd is stopped.
hal_cleanup() {
	ip link del "$IF" 2>/dev/null
	return 0
}
at_exit hal_cleanup

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null; then
	echo "1..0 # SKIP needs root and ip(8)"
	TAP_DONE=1
	exit 0
fi

cnwd_start || { not_ok "cnwd starts"; done_testing; exit 1; }
ok "cnwd starts"

if ! ip link add "$IF" type dummy 2>/dev/null; then
	ip link add "$IF" type veth peer name "$IF_PEER" && ip link set "$IF_PEER" up
fi
ip addr add "$ADDR/32" dev "$IF" && ip link set "$IF" up
check "an interface of our own in the host's namespace: $IF" ip link show "$IF"
PORT=$(free_port)

# Events from the start: --since 0 replays what the daemon holds, so the
# stream cannot miss what happens before it is open.
"$CNWCTL" --socket "$SOCK" --token-file "$ADMIN_TOKEN_FILE" events --since 0 \
    >"$T/events.out" 2>"$T/events.err" </dev/null &
EV_PID=$!
track_pid "$EV_PID"
"$CNWCTL" --socket "$SOCK" --token-file "$ADMIN_TOKEN_FILE" -o json events --since 0 \
    >"$T/events.json" 2>"$T/events-json.err" </dev/null &
EVJ_PID=$!
track_pid "$EVJ_PID"

# uplink create with emulation, admin down and a flap ---------------------------

ctl -o json uplink create wan1 --interface "$IF" --address "$ADDR:$PORT" \
    --profile lte --seed 7 --down --flap down=200ms,up=800ms
is "$RC:$(json '[j["interface"], j["driver"], j["emulation"]["profile"], j["emulation"]["seed"], j["admin_state"], j["flap"], j["link"], j.get("link_reason")]' "$T/ctl.out")" \
    "0:[\"$IF\",\"udp\",\"lte\",7,\"down\",\"down=200ms,up=800ms\",\"down\",\"admin-down\"]" \
    "uplink create --profile lte --seed 7 --down --flap: all of them in the body"
ctl uplink list
is "$RC:$(head -n 1 "$T/ctl.out" | sed 's/   */ /g')" "0:NAME INTERFACE DRIVER LINK EMULATION ADDRESS" \
    "uplink list: the columns"
is "$(row wan1)" "wan1 $IF udp down (admin-down) lte $ADDR:$PORT" \
    "uplink list: LINK with the reason it is down, EMULATION the profile"

# uplink set: fields, directions, up, no flap -------------------------------------

ctl uplink set wan1 --up --no-flap --delay 20 --egress-delay 50 --rate unlimited \
    --ingress-rate 5000 --loss 0.5 --jitter 2.5 --slot 1 --queue 128
is "$RC" 0 "uplink set with fields of both and of one direction: exit 0"
is "$(field admin_state):$(field flap):$(field emulation)" "up:-:custom" \
    "uplink set --up --no-flap: admin up, no flap, the profile now custom"
is "$(field egress)" "rate=unlimited delay=50ms jitter=2.5ms loss=0.5% slot=1ms queue=128KiB" \
    "uplink set: egress as given (--egress-delay over --delay, --rate unlimited)"
is "$(field ingress)" "rate=5000kbit/s delay=20ms jitter=2.5ms loss=0.5% slot=1ms queue=128KiB" \
    "uplink set: ingress as given"
like "$(field egress_counters)" '^queued=[0-9]+,sent=[0-9]+,lost=[0-9]+,overflow=[0-9]+,flushed=[0-9]+$' \
    "uplink show: the emulation's counters"
ctl -o json uplink show wan1
is "$RC:$(json '[j["emulation"]["egress"], j["emulation"]["ingress"]["rate_kbps"], j["emulation"]["seed"]]' "$T/ctl.out")" \
    '0:[{"delay_ms":50.0,"jitter_ms":2.5,"loss_percent":0.5,"queue_kb":128,"rate_kbps":null,"slot_ms":1.0},5000,7]' \
    "-o json uplink show: the numbers as sent, the seed kept"

ctl -o json uplink set wan1 --profile satellite-geo --down --flap down=1s,up=2.5s,count=3
is "$RC:$(json '[j["emulation"]["profile"], j["admin_state"], j["flap"]]' "$T/ctl.out")" \
    '0:["satellite-geo","down","down=1s,up=2500ms,count=3"]' \
    "uplink set --profile --down --flap: a flap drill, the pattern as the API writes it"
ctl uplink set wan1 --profile off
is "$RC:$(field emulation):$(field egress)" "0:-:-" "uplink set --profile off: no emulation"
ctl -o json uplink set wan1 --up --no-flap --profile wifi
is "$RC:$(json '[j["emulation"]["profile"], j["admin_state"], j["flap"]]' "$T/ctl.out")" \
    '0:["wifi","up",null]' "uplink set --up --no-flap --profile wifi"

# Bad values: exit 1 with the API's detail, nothing changed ----------------------

# What uplink set may change, without the counters that move on their own.
settings() {
	"$CNWCTL" --socket "$SOCK" --token-file "$ADMIN_TOKEN_FILE" -o json uplink show wan1 >"$T/settings.json"
	json '[j["admin_state"], j["flap"], j["emulation"] and {k: v for k, v in j["emulation"].items() if k != "counters"}]' "$T/settings.json"
}
before=$(settings)
expect_fail "uplink set --delay out of range" 1 '^cnwctl: emulation\.egress\.delay_ms 99999 is out of range' \
    uplink set wan1 --delay 99999
expect_fail "uplink set --ingress-loss over 100" 1 '^cnwctl: emulation\.ingress\.loss_percent 150 is out of range' \
    uplink set wan1 --ingress-loss 150
expect_fail "uplink set --rate 0" 1 '^cnwctl: emulation\.egress\.rate_kbps 0 is out of range' \
    uplink set wan1 --rate 0
expect_fail "uplink set --delay -1" 1 '^cnwctl: emulation\.egress\.delay_ms -1 is out of range' \
    uplink set wan1 --delay -1
expect_fail "uplink set --profile of no profile" 1 '^cnwctl: emulation profile "bogus" is not one of' \
    uplink set wan1 --profile bogus
expect_fail "uplink set --flap of no pattern" 1 '^cnwctl: flap: ' \
    uplink set wan1 --flap nonsense --down
expect_fail "uplink set of a missing uplink" 1 '^cnwctl: uplink "nosuch" not found$' \
    uplink set nosuch --up
is "$(settings)" "$before" "none of the refused changes changed anything"

# Usage errors: exit 2, nothing sent -------------------------------------------------

expect_fail "uplink set with nothing to change" 2 'nothing to change' uplink set wan1
expect_fail "uplink set --delay abc" 2 "^cnwctl: --delay: 'abc' is not a number" uplink set wan1 --delay abc
expect_fail "uplink set --egress-jitter 1e3" 2 "^cnwctl: --egress-jitter: '1e3' is not a number" \
    uplink set wan1 --egress-jitter 1e3
expect_fail "uplink set --rate 1.5" 2 "^cnwctl: --rate: '1.5' is not a whole number or 'unlimited'" \
    uplink set wan1 --rate 1.5
expect_fail "uplink set --ingress-queue big" 2 "^cnwctl: --ingress-queue: 'big' is not a whole number" \
    uplink set wan1 --ingress-queue big
expect_fail "uplink set --seed x" 2 "^cnwctl: --seed: 'x' is not a whole number" uplink set wan1 --seed x
expect_fail "uplink set --up --down" 2 'conflicting --up/--down' uplink set wan1 --up --down
expect_fail "uplink set --flap --no-flap" 2 'conflicting --flap/--no-flap' \
    uplink set wan1 --flap down=1s,up=1s --no-flap
expect_fail "uplink set --profile off with a field" 2 'profile off takes no other' \
    uplink set wan1 --profile off --delay 5
expect_fail "uplink set --bogus" 2 "unrecognized option '--bogus'" uplink set wan1 --bogus
expect_fail "uplink set without a name" 2 'missing argument' uplink set --up
expect_fail "uplink create --up (create has only --down)" 2 "unrecognized option '--up'" \
    uplink create wan2 --interface "$IF" --up
expect_fail "uplink create without --interface" 2 'missing option --interface' uplink create wan2
expect_fail "interface list with an argument" 2 "unexpected argument 'x'" interface list x
expect_fail "interface show without a name" 2 'missing argument' interface show
expect_fail "events --since -1" 2 "^cnwctl: --since: '-1' is not an event id" events --since -1
expect_fail "driver of no verb" 2 "driver: unknown verb 'nosuch'" driver nosuch
is "$(settings)" "$before" "and the usage errors changed nothing"
ctl uplink set wan1 -h
is "$RC:$(head -n 1 "$T/ctl.out")" \
    "0:usage: cnwctl uplink set NAME [EMULATION OPTIONS] [--up|--down] [--flap PATTERN|--no-flap]" \
    "uplink set -h: exit 0, the usage"
grep -q -- '--egress-rate' "$T/ctl.out" && ok "uplink set -h: what EMULATION OPTIONS are" ||
    not_ok "uplink set -h: what EMULATION OPTIONS are" "$(out)"

# interface list / show ----------------------------------------------------------------

ctl interface list
is "$RC:$(head -n 1 "$T/ctl.out" | sed 's/   */ /g')" "0:NAME NETNS KIND STATE SPEED MTU ADDRESSES UPLINK" \
    "interface list: the columns"
like "$(row "$IF")" "^$IF - [a-z]+ up [-0-9a-z ]+ [0-9]+ ([^ ]*,)?$ADDR/32(,[^ ]*)? wan1\$" \
    "interface list: our interface, the host's (NETNS -), up, its address, its uplink"
ctl interface list --netns host
like "$RC:$(row "$IF")" "^0:$IF - " "interface list --netns host: ours is the host's"
ctl -o json interface list --netns host
is "$RC:$(json "[(i['netns'], i['uplink'], '$ADDR/32' in i['addresses']) for i in j['items'] if i['name'] == '$IF']" "$T/ctl.out")" \
    '0:[[null,"wan1",true]]' "-o json interface list: the API's JSON"
ctl interface show "$IF"
is "$RC:$(field name):$(field netns):$(field uplink)" "0:$IF:-:wan1" "interface show: name, netns, uplink"
like "$(field rx_rate)" '^[0-9]+ bit/s, [0-9]+\.[0-9] packets/s$' "interface show: rates in bit/s and packets/s"
like "$(field tx_packets)" '^[0-9]+$' "interface show: the counters"
expect_fail "interface show of a missing interface" 1 '^cnwctl: interface "nosuch0" not found$' \
    interface show nosuch0

# driver list and the offline driver commands ------------------------------------------

ctl driver list
is "$RC:$(head -n 1 "$T/ctl.out" | sed 's/   */ /g')" "0:NAME KIND SIGNATURE KEY UPLINKS" "driver list: the columns"
is "$(row udp)" "udp builtin builtin - 1" "driver list: udp, built in, used by one uplink"
ctl -o json driver list
is "$RC:$(json '[d["uplinks"] for d in j["items"] if d["name"] == "udp"]' "$T/ctl.out")" "0:[1]" \
    "-o json driver list: the API's JSON"

mkdir "$T/sign"
printf 'not really a plug-in\n' >"$T/sign/drv.so"
(
	cd "$T/sign" || exit 1
	# No daemon, no token: these never reach for either.
	unset CNW_TOKEN
	export CNW_SOCKET="$T/nonexistent.sock"
	"$CNWCTL" --token-file "$T/nonexistent" driver keygen site.key site.pub &&
	    "$CNWCTL" driver sign --key site.key drv.so &&
	    "$CNWCTL" driver verify --key site.pub drv.so
) >"$T/sign.out" 2>&1
is "$?:$(cat "$T/sign.out")" "0:drv.so: verified by key site" \
    "driver keygen, sign, verify: offline, no socket, no token"
printf 'tampered\n' >>"$T/sign/drv.so"
(cd "$T/sign" && "$CNWCTL" driver verify --key site.pub drv.so) >"$T/sign.out" 2>"$T/sign.err"
like "$?:$(cat "$T/sign.err")" '^1:drv\.so: bad-signature: ' "driver verify of a changed file: exit 1, bad-signature"

# events -----------------------------------------------------------------------------

ctl uplink set wan1 --profile 5g --seed 11
is "$RC" 0 "uplink set for an event"
# The assertions below fail too when the line does not come.
wait_until 3 file_has "$T/events.out" ' uplink\.updated wan1 .*emulation=5g' ||
    diag "no uplink.updated line in cnwctl events within 3 s"
like "$(grep ' uplink\.updated wan1 .*emulation=5g' "$T/events.out")" \
    '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z uplink\.updated wan1 ([a-z_]+=[^ ]+ ?)+$' \
    "events: an uplink.updated line within 3 s, TIME TYPE OBJECT key=value"
like "$(grep -c ' uplink\.created wan1 ' "$T/events.out")" '^1$' "events --since 0: the uplink.created from before"
wait_until 3 file_has "$T/events.json" '"emulation":"5g"' ||
    diag "no uplink.updated line in cnwctl -o json events within 3 s"
is "$(grep '"emulation":"5g"' "$T/events.json" | "$PY" -c 'import json,sys; e = json.loads(sys.stdin.readline()); print(e["type"], e["object"], e["data"]["emulation"], isinstance(e["id"], int))')" \
    "uplink.updated wan1 5g True" "-o json events: one JSON event per line"
kill -INT "$EV_PID"
wait "$EV_PID"
is "$?:$(cat "$T/events.err")" "0:" "events: SIGINT ends it with exit 0, nothing on stderr"
kill -INT "$EVJ_PID"
wait "$EVJ_PID"
is "$?" 0 "-o json events: SIGINT ends it with exit 0"

ctl uplink delete wan1
is "$RC:$(out)" "0:deleted uplink wan1" "uplink delete"

done_testing
