#!/bin/bash
# Tenant-network provisioning figures (issue: networks in namespaces).
#
#   1. Create N networks over REST (POST /v1/tenants/T/networks, one at a
#      time over the real Unix socket), then delete them: median and p99
#      per network and the totals.  Baseline, same run: the same objects
#      (namespace, lo up, TUN cnw0 with vnet headers, address, default
#      route) made and removed by an ip(8) shell script.  Ratio = script
#      time / cnwd time (goal: at least 5).
#   2. The supervisor's memory (VmRSS) growth per network over N, and again
#      over 4*N networks: is the cost per network flat?
#
# Prints figures; never decides pass or fail.  Root, throwaway dirs, and
# everything it makes is removed on exit.
#   N=256 BUILDDIR=. bench/networks-bench.sh
set -euo pipefail
N=${N:-256}
here=$(cd "$(dirname "$0")" && pwd)
BUILDDIR=${BUILDDIR:-$here/..}
CNWD=${CNWD:-$BUILDDIR/cnwd/cnwd}
T=$(mktemp -d /tmp/cnw-nbench.XXXXXX)
INST=nb$((RANDOM % 1000))
pid=""
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	for n in $(ip netns list | awk '{print $1}' | grep -E "^($INST\.|ipb-)" || true); do
		ip netns delete "$n" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

"$CNWD" --state-dir "$T/state" --run-dir "$T/run" --instance "$INST" --log-level warning \
    2>"$T/cnwd.log" &
pid=$!
for i in $(seq 50); do [ -S "$T/run/cnwd.sock" ] && break; sleep 0.1; done
sleep 0.3

# The REST client: one persistent HTTP/1.1 connection over the Unix socket,
# timing each request (Python's overhead, ~0.1 ms, is inside the figures).
client() {
	/usr/bin/python3 - "$T/run/cnwd.sock" "$(cat "$T/state/admin.token")" "$@" <<'PY'
import http.client, json, socket, statistics, sys, time
sock, token, action, first, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
class C(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX); self.sock.connect(sock)
c = C("localhost")
h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
def req(m, p, b=None, want=(200, 201, 204)):
    c.request(m, p, body=json.dumps(b) if b is not None else None, headers=h)
    r = c.getresponse(); data = r.read()
    if r.status not in want: sys.exit("%s %s: %d %s" % (m, p, r.status, data))
if action == "tenant":
    req("POST", "/v1/tenants", {"name": "bench", "quotas": {"networks": 4096}}); sys.exit(0)
lat = []
t0 = time.perf_counter()
for i in range(first, first + count):
    s = time.perf_counter()
    if action == "create":
        req("POST", "/v1/tenants/bench/networks", {"name": "n%d" % i, "subnet": "10.%d.%d.0/24" % (i // 256, i % 256)})
    else:
        req("DELETE", "/v1/tenants/bench/networks/n%d" % i)
    lat.append((time.perf_counter() - s) * 1000)
total = time.perf_counter() - t0
lat.sort()
print("%.3f %.3f %.3f" % (statistics.median(lat), lat[min(len(lat) - 1, int(len(lat) * 0.99))], total))
PY
}

# The baseline: the same objects with ip(8), one command per object.
ip_script() {
	local action=$1 i ns
	for ((i = 0; i < N; i++)); do
		ns=ipb-$i
		if [ "$action" = create ]; then
			ip netns add "$ns"
			ip -n "$ns" link set lo up
			ip -n "$ns" tuntap add dev cnw0 mode tun vnet_hdr
			ip -n "$ns" link set cnw0 up
			ip -n "$ns" addr add "10.$((i / 256)).$((i % 256)).1/24" dev cnw0
			ip -n "$ns" route add default dev cnw0
		else
			ip netns delete "$ns"
		fi
	done
}

client tenant 0 0
rss0=$(rss_kb "$pid")
read -r c_med c_p99 c_total < <(client create 0 "$N")
rss1=$(rss_kb "$pid")
read -r d_med d_p99 d_total < <(client delete 0 "$N")

s=$(date +%s.%N); ip_script create; ip_c=$(echo "$(date +%s.%N) - $s" | bc)
s=$(date +%s.%N); ip_script delete; ip_d=$(echo "$(date +%s.%N) - $s" | bc)

# Memory at 4*N: is the cost per network flat?
M=$((N * 4))
rss2=$(rss_kb "$pid")
client create 0 "$M" >/dev/null
rss3=$(rss_kb "$pid")
client delete 0 "$M" >/dev/null

printf '\n%d networks, created then deleted one at a time (ms)\n' "$N"
printf '%-34s %10s %10s %10s\n' "" median p99 total
ms() { printf '%.1f' "$(echo "$1 * 1000" | bc -l)"; }
printf '%-34s %10s %10s %10s\n' "cnwd create (REST)" "$c_med" "$c_p99" "$(ms "$c_total")"
printf '%-34s %10s %10s %10s\n' "cnwd delete (REST)" "$d_med" "$d_p99" "$(ms "$d_total")"
printf '%-34s %10s %10s %10s\n' "ip script create" - - "$(ms "$ip_c")"
printf '%-34s %10s %10s %10s\n' "ip script delete" - - "$(ms "$ip_d")"
printf 'ratio script / cnwd: create %.1fx, delete %.1fx, both %.1fx (goal: 5x)\n' \
    "$(echo "$ip_c / $c_total" | bc -l)" "$(echo "$ip_d / $d_total" | bc -l)" \
    "$(echo "($ip_c + $ip_d) / ($c_total + $d_total)" | bc -l)"
printf 'supervisor VmRSS growth: %d KB over %d networks = %.1f KB/network; ' \
    $((rss1 - rss0)) "$N" "$(echo "($rss1 - $rss0) / $N" | bc -l)"
printf '%d KB over %d = %.1f KB/network (goal: <= 20)\n' $((rss3 - rss2)) "$M" \
    "$(echo "($rss3 - $rss2) / $M" | bc -l)"
