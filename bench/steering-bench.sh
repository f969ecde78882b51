#!/bin/bash
# Steering figures (issue: policies, flows and steering), in the two-site
# lab with site names of its own (sbe, sbg), each beside its baseline from
# the same run:
#   1. failover: the longest gap a stream of 2000 datagram/s (tests/tools/owd)
#      sees when its uplink dies under an active-standby policy over wan1,
#      wan2: by a drill (cnwctl uplink set wan1 --down) and by the interface
#      (ip link set down), against the stream's own longest gap with no
#      failure; datagrams lost; when the flow.moved event came;
#   2. mouse flows: short TCP exchanges (connect, 2 KB each way) over wan1
#      (wifi) and wan2 (lte) whose delays a background loop keeps changing
#      so that each is sometimes the better one; smallest-delay against
#      policies pinning wan1 only and wan2 only, the three interleaved (one
#      exchange of each in turn, so they see the same links);
#   3. load-balance: iperf3 -P 8 over wan1 and wan2 each limited to $LB_RATE
#      kbit/s, against the same on wan1 only;
#   4. redundant: the loss an owd stream sees with 10% loss on wan1, a
#      redundant policy over wan1 and wan2 against active-standby on wan1;
#   5. class priority: on wan1 paced at 98% of an emulated 20 Mbit/s, the
#      one-way delay of a realtime owd stream under a bulk flood of twice
#      the rate, against a bulk stream beside it (and both on the idle link).
# Policies are made on both sites (the gateway steers the replies).  The
# sections run in the order 1, 3, 4, 5, 2: load-balance counts the flows on
# each uplink, idle ones too until they age out (30 s), so it runs before
# the mouse flows leave hundreds of them behind.
# Prints figures and a summary; never decides pass or fail.  Root; removes
# what it makes, also when interrupted.  ~2-3 minutes.
#   BUILDDIR=. bash bench/steering-bench.sh
#   ROUNDS=3 (failover rounds)  MICE=200 (exchanges per policy)
#   LB_SECS=10 LB_RATE=50000  STEP=1.5 (s between delay changes)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILDDIR=${BUILDDIR:-$here/..}
ROUNDS=${ROUNDS:-3}
MICE=${MICE:-200}
LB_SECS=${LB_SECS:-10}
LB_RATE=${LB_RATE:-50000}
STEP=${STEP:-1.5}
export LAB_DIR=$(mktemp -d /tmp/cnw-steerbench.XXXXXX)
export LAB_EDGE=sbe LAB_GW=sbg
export CNWD=$BUILDDIR/cnwd/cnwd CNWCTL=$BUILDDIR/cli/cnwctl
OWD=$BUILDDIR/tests/tools/owd
E=$LAB_EDGE G=$LAB_GW
EN=$E.cameras.net GN=$G.cameras.net
BG=()	# background processes of ours, killed by pid at the end

cleanup() {
	local p
	save
	for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "$LAB_DIR"/*.pid; do
		[ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
	done
	bash "$here/../examples/lab/lab.sh" down >/dev/null 2>&1 || true
	rm -rf "$LAB_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for f in "$OWD" "$CNWD" "$CNWCTL"; do
	[ -x "$f" ] || { echo "steering-bench: $f is not built" >&2; exit 1; }
done
command -v iperf3 >/dev/null || { echo "steering-bench: needs iperf3" >&2; exit 1; }

ctl() {	local s=$1; shift
	"$CNWCTL" --socket "$LAB_DIR/$s/run/cnwd.sock" --token-file "$LAB_DIR/$s/state/admin.token" "$@"; }
py() { python3 -c "print($1)"; }
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
now_ms() { date +%s%3N; }
ready() { for _ in $(seq 100); do grep -q ready "$1" 2>/dev/null && return 0; sleep 0.02; done; }
# SAVE=DIR keeps the raw results (owd lines, mouse times, events) there.
save() { [ -n "${SAVE:-}" ] && mkdir -p "$SAVE" && cp -r "$LAB_DIR"/{fo.*,red.*,mice.json,delays,events,split.*} "$SAVE"/ 2>/dev/null; return 0; }
# uplink NAME PYTHON-EXPR: a value of the edge's GET /v1/uplinks/NAME (as u)
uplink() { ctl "$E" -o json uplink show "$1" | python3 -c "import json,sys; u=json.load(sys.stdin); print($2)"; }
# flow_on PORT: the edge's uplink(s) of the flow to 10.2.0.1:PORT ("-" if none)
flow_on() {
	ctl "$E" -o json flow list cameras --limit 100000 | python3 -c "
import json, sys
f = [','.join(x['uplinks']) or 'none' for x in json.load(sys.stdin)['items'] if x['dst_port'] == $1]
print(f[0] if f else '-')"
}
# emu NAME ARGS...: cnwctl uplink set on the edge (both directions), quietly
emu() { ctl "$E" uplink set "$@" >/dev/null; }
# policy NAME ARGS...: the same policy on both sites, the gateway's
# matching the replies (--dport at the edge is --sport at the gateway).
policy() {
	local name=$1 gwargs=() a
	shift
	for a in "$@"; do
		case $a in --dport) gwargs+=(--sport) ;; *) gwargs+=("$a") ;; esac
	done
	ctl "$E" policy add cameras "$name" "$@" >/dev/null
	ctl "$G" policy add cameras "$name" "${gwargs[@]}" >/dev/null
}
# wait_wan1_up: until the edge's wan1 is up and its path answers probes (10 s at most)
wait_wan1_up() {
	for _ in $(seq 100); do
		[ "$(uplink wan1 "u['link'] + ' ' + (u['paths'][0]['state'] if u['paths'] else '-')")" == "up up" ] &&
		    return 0
		sleep 0.1
	done
	echo "  (wan1 did not come back up in 10 s)"
}
# the time of the first flow.moved event of the flow to 10.2.0.1:PORT after T0 (ms), and its reason
moved_after() {
	python3 - "$LAB_DIR/events" "$1" "$2" <<'EOF'
import json, sys, datetime
port, t0 = sys.argv[2], int(sys.argv[3])
for line in open(sys.argv[1], errors="replace"):
    if not line.startswith("data: "):
        continue
    try:
        ev = json.loads(line[6:])
    except ValueError:
        continue
    if ev.get("type") != "flow.moved" or not ev.get("object", "").endswith(">10.2.0.1:" + port):
        continue
    t = datetime.datetime.strptime(ev["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() * 1000
    if t + 2 >= t0:
        d = ev["data"]
        print("%.0f %s %s>%s" % (t - t0, d["reason"], d["from"], d["to"]))
        sys.exit(0)
print("- none -")
EOF
}

bash "$here/../examples/lab/lab.sh" start >"$LAB_DIR/lab.out" 2>&1 ||
    { cat "$LAB_DIR/lab.out" >&2; exit 1; }
curl -sN --unix-socket "$LAB_DIR/$E/run/cnwd.sock" \
    -H "Authorization: Bearer $(cat "$LAB_DIR/$E/state/admin.token")" \
    http://localhost/v1/events >"$LAB_DIR/events" 2>/dev/null &
BG+=($!)
echo "steering-bench: lab $E/$G in $LAB_DIR; $(nproc) CPUs, shared (other labs may run: figures are noisy)"
sleep 1

# 1. Failover -------------------------------------------------------------------
echo "== 1. failover: owd 2000 datagram/s, 3 s, active-standby over wan1,wan2; wan1 dies 1 s in =="
policy fo --protocol udp --dport 9000-9999 --class realtime --steering active-standby --uplinks wan1,wan2
declare -A GAPS LOST MOVED
PORT=9000
fo_round() {	# fo_round none|drill|iface
	local how=$1 out before after t0 mv r
	PORT=$((PORT + 1))
	out=$LAB_DIR/fo.$PORT
	ip netns exec "$GN" "$OWD" recv $PORT --timeout-ms 20000 --overhead 90 >"$out" &
	local rp=$!
	BG+=($rp)
	ready "$out"
	ip netns exec "$EN" "$OWD" send 10.2.0.1 $PORT --pps 2000 --count 6000 --size 200 &
	local sp=$!
	BG+=($sp)
	sleep 1
	before=$(flow_on $PORT)
	t0=$(now_ms)
	case $how in
	drill) emu wan1 --down ;;
	iface) ip -n "lab-$E" link set "$E-u1" down ;;
	esac
	sleep 0.3
	after=$(flow_on $PORT)
	wait $sp
	wait $rp
	r=$(tail -1 "$out")
	mv="-"
	[ "$how" != none ] && mv=$(moved_after $PORT "$t0")
	case $how in
	drill) emu wan1 --up ;;
	iface) ip -n "lab-$E" link set "$E-u1" up ;;
	esac
	[ "$how" != none ] && wait_wan1_up
	GAPS[$how]="${GAPS[$how]:-} $(kv "$r" gap_us_max)"
	LOST[$how]="${LOST[$how]:-} $(kv "$r" lost)"
	if [ "$mv" != - ]; then
		read -r ms why fromto <<<"$mv"
		[ "$ms" != - ] && MOVED[$how]="${MOVED[$how]:-} $((ms * 1000))"
		mv="$ms ms after the kill, reason $why ($fromto)"
	fi
	printf '  %-6s flow on %-5s -> %-5s  longest gap %8.1f ms  lost %5s of 6000  flow.moved: %s\n' \
	    "$how" "$before" "$after" "$(py "$(kv "$r" gap_us_max) / 1000")" "$(kv "$r" lost)" "$mv"
}
for _ in $(seq "$ROUNDS"); do
	fo_round none
	fo_round drill
	fo_round iface
done
# med LIST -> median, max (of numbers in us) as "MED MAX" in ms
medmax() { python3 -c "import statistics,sys; v=[float(x)/1000 for x in sys.argv[1:]]; print('%.1f %.1f' % (statistics.median(v), max(v)))" $1; }
read -r fo_base fo_base_max < <(medmax "${GAPS[none]}")
read -r fo_drill fo_drill_max < <(medmax "${GAPS[drill]}")
read -r fo_iface fo_iface_max < <(medmax "${GAPS[iface]}")
lostmed() { python3 -c "import statistics,sys; print('%g' % statistics.median(int(x) for x in sys.argv[1:]))" $1; }
fo_lost_base=$(lostmed "${LOST[none]}") fo_lost_drill=$(lostmed "${LOST[drill]}") fo_lost_iface=$(lostmed "${LOST[iface]}")
fo_mv_drill=$(medmax "${MOVED[drill]:-}" 2>/dev/null | cut -d' ' -f1) || fo_mv_drill=-
fo_mv_iface=$(medmax "${MOVED[iface]:-}" 2>/dev/null | cut -d' ' -f1) || fo_mv_iface=-
echo "  median of $ROUNDS: no failure $fo_base ms (lost $fo_lost_base); drill $fo_drill ms (max $fo_drill_max, lost $fo_lost_drill);" \
    "interface $fo_iface ms (max $fo_iface_max, lost $fo_lost_iface)"

# 3. load-balance ---------------------------------------------------------------
echo "== 3. load-balance: iperf3 -P 8, ${LB_SECS}s, wan1 and wan2 each ${LB_RATE} kbit/s =="
emu wan1 --profile off
emu wan2 --profile off
emu wan1 --rate "$LB_RATE"
emu wan2 --rate "$LB_RATE"
policy lb --protocol tcp --dport 5301 --class bulk --steering load-balance --uplinks wan1,wan2
policy lb-w1 --protocol tcp --dport 5302 --class bulk --steering active-standby --uplinks wan1
# iperf PORT -> Mbit/s received; also the data flows' uplinks halfway ($LAB_DIR/split.PORT)
iperf() {
	ip netns exec "$GN" iperf3 -s -D -1 -p "$1" -I "$LAB_DIR/iperf.$1.pid" >/dev/null 2>&1
	sleep 0.3
	(
		sleep "$(py "$LB_SECS / 2")"
		ctl "$E" -o json flow list cameras --limit 100000 | python3 -c "
import collections, json, sys
c = collections.Counter(','.join(f['uplinks']) for f in json.load(sys.stdin)['items']
                        if f['dst_port'] == $1 and f['bytes'] > 1000000)
print(' '.join('%s:%d' % kv for kv in sorted(c.items())) or 'none')" >"$LAB_DIR/split.$1"
	) &
	local qp=$!
	ip netns exec "$EN" iperf3 -c 10.2.0.1 -p "$1" -P 8 -t "$LB_SECS" -J 2>/dev/null |
	    python3 -c 'import json,sys; print("%.1f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e6))'
	wait $qp
}
# Load-balance counts the flows on each uplink, idle ones too (until they age out):
echo "  flows the edge counts on each uplink before load-balance: $(ctl "$E" -o json uplink list | python3 -c "
import json, sys
print(', '.join('%s %d' % (u['name'], u['flows']) for u in json.load(sys.stdin)['items']))")"
lb_both=$(iperf 5301)
lb_one=$(iperf 5302)
echo "  wan1 only:               $lb_one Mbit/s (big flows per uplink: $(cat "$LAB_DIR/split.5302"))"
echo "  load-balance wan1,wan2:  $lb_both Mbit/s (big flows per uplink: $(cat "$LAB_DIR/split.5301"))" \
    "= $(py "round($lb_both / $lb_one, 2)") x wan1 only"

# 4. redundant --------------------------------------------------------------------
echo "== 4. redundant: owd 2000 datagram/s, 4000, with 10% loss on wan1 (both ways) =="
emu wan1 --profile off
emu wan2 --profile off
emu wan1 --loss 10
policy red --protocol udp --dport 10001 --class realtime --steering redundant --uplinks wan1,wan2
policy as-w1 --protocol udp --dport 10002 --class realtime --steering active-standby --uplinks wan1
sleep 1
stream() {	# stream PORT -> owd's line
	local out=$LAB_DIR/red.$1 rp sp
	ip netns exec "$GN" "$OWD" recv "$1" --timeout-ms 20000 --overhead 90 >"$out" &
	rp=$!
	ready "$out"
	ip netns exec "$EN" "$OWD" send 10.2.0.1 "$1" --pps 2000 --count 4000 --size 200 &
	sp=$!
	sleep 1
	flow_on "$1" >"$out.on"
	wait $sp
	wait $rp
	tail -1 "$out"
}
r_as=$(stream 10002)
r_red=$(stream 10001)
loss_as=$(py "round(100.0 * $(kv "$r_as" lost) / 4000, 2)")
loss_red=$(py "round(100.0 * $(kv "$r_red" lost) / 4000, 2)")
echo "  active-standby wan1: lost $(kv "$r_as" lost) of 4000 ($loss_as%), on $(cat "$LAB_DIR/red.10002.on")"
echo "  redundant wan1,wan2: lost $(kv "$r_red" lost) of 4000 ($loss_red%), received $(kv "$r_red" received)" \
    "(above 4000: duplicates reached the app), on $(cat "$LAB_DIR/red.10001.on"); reordered $(kv "$r_red" reordered)"
echo "  wan1's path as probes see it: loss $(uplink wan1 "u['paths'][0]['loss_percent']")%"

# 5. Class priority -----------------------------------------------------------------
echo "== 5. class priority: wan1 paced (egress 20 Mbit/s), a bulk UDP flood of 40 Mbit/s beside two owd streams =="
emu wan1 --profile off
emu wan2 --profile off
emu wan1 --egress-rate 20000
policy prio-rt --protocol udp --dport 10101 --class realtime --uplinks wan1
policy prio-bk --protocol udp --dport 10102-10110 --class bulk --uplinks wan1
sleep 1
# prio_run FLOOD(0|1) -> "RT_MED BK_MED RT_P99" one-way delays in ms of the realtime and bulk streams
PPORT=10100
prio_run() {
	local fp=0 rt bk
	if [ "$1" == 1 ]; then
		ip netns exec "$GN" iperf3 -s -1 -p 10110 >/dev/null 2>&1 &
		BG+=($!)
		sleep 0.3
		ip netns exec "$EN" iperf3 -c 10.2.0.1 -p 10110 -u -b 40M -l 1200 -t 6 >/dev/null 2>&1 &
		fp=$!
		BG+=($fp)
		sleep 1
	fi
	ip netns exec "$GN" "$OWD" recv 10101 --timeout-ms 20000 --overhead 90 >"$LAB_DIR/prio.rt" &
	local r1=$!
	ip netns exec "$GN" "$OWD" recv 10102 --timeout-ms 20000 --overhead 90 >"$LAB_DIR/prio.bk" &
	local r2=$!
	ready "$LAB_DIR/prio.rt"
	ready "$LAB_DIR/prio.bk"
	ip netns exec "$EN" "$OWD" send 10.2.0.1 10101 --pps 100 --count 400 --size 200 >/dev/null &
	local s1=$!
	ip netns exec "$EN" "$OWD" send 10.2.0.1 10102 --pps 100 --count 400 --size 200 >/dev/null
	wait $s1 $r1 $r2
	[ "$fp" != 0 ] && { wait $fp || true; }
	rt=$(tail -1 "$LAB_DIR/prio.rt") bk=$(tail -1 "$LAB_DIR/prio.bk")
	echo "$(py "round($(kv "$rt" delay_us_med) / 1000, 2)") $(py "round($(kv "$bk" delay_us_med) / 1000, 2)")" \
	    "$(py "round($(kv "$rt" delay_us_p99) / 1000, 2)") $(kv "$rt" lost) $(kv "$bk" lost)"
}
read -r pr_idle_rt pr_idle_bk _ _ _ < <(prio_run 0)
read -r pr_rt pr_bk pr_rt99 pr_rt_lost pr_bk_lost < <(prio_run 1)
echo "  idle link:       realtime median ${pr_idle_rt} ms, bulk ${pr_idle_bk} ms (one way)"
echo "  under the flood: realtime median ${pr_rt} ms (p99 ${pr_rt99}, lost ${pr_rt_lost} of 400)," \
    "bulk ${pr_bk} ms (lost ${pr_bk_lost} of 400: the flood's lane is full)"
emu wan1 --profile off

# 2. Mouse flows ----------------------------------------------------------------
echo "== 2. mouse flows: TCP connect + 2 KB each way, wan1 wifi / wan2 lte, delays changing every ${STEP}s =="
cat >"$LAB_DIR/mice.py" <<'EOF'
# mice.py serve PORT... | mice.py run HOST N PORT...: short TCP exchanges,
# each a new connection sending 2 KB and reading a 2 KB reply; run prints
# the completion times (ms) per port as JSON, one exchange per port in
# turn (rotating the order), so every port sees the same moments.
import json, socket, sys, threading, time
SIZE = 2048

def readn(c, n):
    got = 0
    while got < n:
        b = c.recv(n - got)
        if not b:
            break
        got += len(b)
    return got

def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.listen(128)
    while True:
        c, _ = s.accept()
        try:
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.settimeout(10)
            if readn(c, SIZE) == SIZE:
                c.sendall(b"r" * SIZE)
        except OSError:
            pass
        c.close()

if sys.argv[1] == "serve":
    for p in sys.argv[2:]:
        threading.Thread(target=serve, args=(int(p),), daemon=True).start()
    time.sleep(0.2)
    print("ready", flush=True)
    threading.Event().wait()
host, n, ports = sys.argv[2], int(sys.argv[3]), [int(p) for p in sys.argv[4:]]
times = {p: [] for p in ports}
fails = {p: 0 for p in ports}
for i in range(n):
    for j in range(len(ports)):
        p = ports[(i + j) % len(ports)]
        t0 = time.monotonic()
        try:
            c = socket.create_connection((host, p), timeout=10)
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.sendall(b"q" * SIZE)
            ok = readn(c, SIZE) == SIZE
            t1 = time.monotonic()
            c.close()
        except OSError:
            ok = False
        if ok:
            times[p].append((t1 - t0) * 1000)
        else:
            fails[p] += 1
print(json.dumps({"times": times, "fails": fails}))
EOF
emu wan1 --profile wifi
emu wan2 --profile lte
policy mice-sd --protocol tcp --dport 5201 --class interactive --steering smallest-delay --uplinks wan1,wan2
policy mice-w1 --protocol tcp --dport 5202 --class interactive --steering active-standby --uplinks wan1
policy mice-w2 --protocol tcp --dport 5203 --class interactive --steering active-standby --uplinks wan2
ip netns exec "$GN" python3 "$LAB_DIR/mice.py" serve 5201 5202 5203 >"$LAB_DIR/mice.srv" 2>&1 &
BG+=($!)
ready "$LAB_DIR/mice.srv"
# One-way delays in ms, wan1 and wan2 in opposite phase (a triangle over 8
# steps): each link is the better one half of the time, equal twice a cycle.
SCHED="3:37 10:30 20:20 30:10 37:3 30:10 20:20 10:30"
(
	trap 'exit 0' TERM
	while :; do
		for s in $SCHED; do
			emu wan1 --delay "${s%:*}" || true
			emu wan2 --delay "${s#*:}" || true
			echo "$(now_ms) ${s%:*} ${s#*:}" >>"$LAB_DIR/delays"
			sleep "$STEP" &
			wait $! || true
		done
	done
) &
delays_pid=$!
BG+=($delays_pid)
sleep 2	# the paths' RTT follow the first setting
rtts() { ctl "$E" -o json uplink list | python3 -c "
import json, sys
print(' '.join('%s rtt %s ms' % (u['name'], u['paths'][0]['rtt_ms'] if u['paths'] else '-') for u in json.load(sys.stdin)['items']))"; }
echo "  paths now: $(rtts) (delays set: $(tail -1 "$LAB_DIR/delays" | cut -d' ' -f2-))"
mice_t0=$(now_ms)
ip netns exec "$EN" python3 "$LAB_DIR/mice.py" run 10.2.0.1 "$MICE" 5201 5202 5203 >"$LAB_DIR/mice.json"
mice_secs=$(py "round(($(now_ms) - $mice_t0) / 1000, 1)")
kill "$delays_pid" 2>/dev/null || true
wait "$delays_pid" 2>/dev/null || true
mice_moves=$(grep -c '"type":"flow.moved".*:520[123]"' "$LAB_DIR/events" || true)
read -r sd_p50 sd_p90 sd_mean sd_max w1_p50 w1_p90 w1_mean w1_max w2_p50 w2_p90 w2_mean w2_max mice_fails < <(python3 - "$LAB_DIR/mice.json" <<'EOF'
import json, statistics, sys
d = json.load(open(sys.argv[1]))
out = []
for p in ("5201", "5202", "5203"):
    t = sorted(d["times"][p]) or [float("nan")]
    out += ["%.1f" % statistics.median(t), "%.1f" % t[max(0, int(len(t) * 0.9) - 1)],
            "%.1f" % statistics.mean(t), "%.1f" % t[-1]]
out.append("%d/%d/%d" % tuple(d["fails"][p] for p in ("5201", "5202", "5203")))
print(" ".join(out))
EOF
)
best() { py "min($1, $2)"; }
b_p50=$(best "$w1_p50" "$w2_p50") b_p90=$(best "$w1_p90" "$w2_p90") b_mean=$(best "$w1_mean" "$w2_mean")
printf '  %-26s %10s %10s %10s %10s\n' "completion ms ($MICE each)" median p90 mean max
printf '  %-26s %10s %10s %10s %10s\n' "wan1 only (wifi)" "$w1_p50" "$w1_p90" "$w1_mean" "$w1_max"
printf '  %-26s %10s %10s %10s %10s\n' "wan2 only (lte)" "$w2_p50" "$w2_p90" "$w2_mean" "$w2_max"
printf '  %-26s %10s %10s %10s %10s\n' "smallest-delay" "$sd_p50" "$sd_p90" "$sd_mean" "$sd_max"
printf '  %-26s %10s %10s %10s\n' "ratio to the better single" "$(py "'%.2f' % ($sd_p50 / $b_p50)")" \
    "$(py "'%.2f' % ($sd_p90 / $b_p90)")" "$(py "'%.2f' % ($sd_mean / $b_mean)")"
echo "  ($mice_secs s; failed exchanges sd/wan1/wan2: $mice_fails; flow.moved events of these flows: $mice_moves)"

# Summary -------------------------------------------------------------------------
ratio() { py "'%.2f' % ($1 / $2) if $2 else 'n/a'"; }
echo
echo "== summary (ratios against the baseline of this run) =="
printf '%-44s %12s %14s %8s   %s\n' figure cnw baseline ratio aim
printf '%-44s %12s %14s %8s   %s\n' "failover gap, drill (ms, median of $ROUNDS)" "$fo_drill" "$fo_base" \
    "$(ratio "$fo_drill" "$fo_base")" "< 300 ms; baseline: no failure"
printf '%-44s %12s %14s %8s   %s\n' "failover gap, interface down (ms)" "$fo_iface" "$fo_base" \
    "$(ratio "$fo_iface" "$fo_base")" "< 300 ms"
printf '%-44s %12s %14s %8s   %s\n' "failover: flow.moved event after, drill / if" "$fo_mv_drill / $fo_mv_iface" \
    "" "" "ms from the kill command (event times: 1 ms)"
printf '%-44s %12s %14s %8s   %s\n' "failover datagrams lost, drill / interface" "$fo_lost_drill / $fo_lost_iface" \
    "$fo_lost_base" "" "(2 per ms of gap)"
printf '%-44s %12s %14s %8s   %s\n' "mice median ms, smallest-delay" "$sd_p50" "$b_p50" \
    "$(ratio "$sd_p50" "$b_p50")" "<= 0.70; baseline: better of wan1/wan2 only"
printf '%-44s %12s %14s %8s   %s\n' "mice p90 ms, smallest-delay" "$sd_p90" "$b_p90" \
    "$(ratio "$sd_p90" "$b_p90")" "<= 0.70"
printf '%-44s %12s %14s %8s   %s\n' "load-balance Mbit/s (2 x $((LB_RATE / 1000)) Mbit/s)" "$lb_both" "$lb_one" \
    "$(ratio "$lb_both" "$lb_one")" "~2; baseline: wan1 only"
printf '%-44s %12s %14s %8s   %s\n' "loss % with 10% on wan1, redundant" "$loss_red" "$loss_as" \
    "$(ratio "$loss_red" "$loss_as")" "~0; baseline: active-standby on wan1"
printf '%-44s %12s %14s %8s   %s\n' "one-way ms under a 2x flood, realtime" "$pr_rt" "$pr_bk" \
    "$(ratio "$pr_rt" "$pr_bk")" "small; baseline: a bulk stream beside it (idle: $pr_idle_rt)"
