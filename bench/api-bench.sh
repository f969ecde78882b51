#!/bin/bash
# api-bench.sh — what cnwd's REST API costs, against a bare libmicrohttpd.
#
# The figure: requests per second of GET /v1/tenants with 100 tenants, and
# the median and p99 latency of POST /v1/tenants, measured over the real
# Unix socket and the real process split of cnwd (HTTP in the unprivileged
# API child, which forwards typed messages over a socketpair to the root
# parent, which queries SQLite). Beside them, in the same run on the same
# host, the same load against bench/bare_mhd (libmicrohttpd alone, one epoll
# thread, a fixed body of the size cnwd answered), so the figure is a ratio
# cnwd/bare that says what cnwd's own work costs rather than how fast the
# machine is. The aim stated by the issue: cnwd at least half the bare
# handler's GET rate. This script prints figures; it never decides pass or
# fail, and it is not part of `make check` (it needs root and ~1 minute).
#
# usage: bench/api-bench.sh [--cnwd PATH] [--httpload PATH] [--bare PATH]
#                           [--duration SEC] [--rounds N] [--connections "1 4"]
# Binaries default to ${BUILDDIR:-.}/cnwd/cnwd, .../bench/httpload and
# .../bench/bare_mhd (env CNWD, HTTPLOAD, BARE override them). Other knobs:
# DURATION (5), ROUNDS (3, the median is reported), CONNECTIONS ("1 4"),
# TENANTS (100), POSTS (2000), LOG_LEVEL (cnwd's, default info), PIN_CPU
# and CLIENT_CPU (placement; unset: the scheduler decides, and on a VM the
# 1-connection figures then swing several-fold with where the processes
# land. PIN_CPU=N runs the servers, cnwd with its children or bare_mhd, on
# CPU N, and httpload too unless CLIENT_CPU names another CPU: all on one
# CPU leaves the CPU work per request without cross-CPU wake-ups; the
# client on another CPU models a remote caller).
set -euo pipefail

BUILDDIR=${BUILDDIR:-.}
CNWD=${CNWD:-$BUILDDIR/cnwd/cnwd}
HTTPLOAD=${HTTPLOAD:-$BUILDDIR/bench/httpload}
BARE=${BARE:-$BUILDDIR/bench/bare_mhd}
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-"1 4"}
TENANTS=${TENANTS:-100}
POSTS=${POSTS:-2000}
LOG_LEVEL=${LOG_LEVEL:-info}
PIN_CPU=${PIN_CPU:-}
CLIENT_CPU=${CLIENT_CPU:-$PIN_CPU}
pin=() pin_client=()

tmp='' sock='' token='' cnwd_pid='' bare_pid='' load_pid='' load_out='' stop_rc=''
list_size='' post_size='' p50_cnwd='' p99_cnwd='' p50_bare='' p99_bare=''

die() { echo "api-bench: $*" >&2; exit 1; }
note() { echo "api-bench: $*" >&2; }

usage() {
	sed -n 's/^# \{0,1\}//; /^usage:/,/^Binaries/p' "$0" | sed '$d'
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--cnwd) CNWD=$2; shift 2 ;;
		--httpload) HTTPLOAD=$2; shift 2 ;;
		--bare) BARE=$2; shift 2 ;;
		--duration) DURATION=$2; shift 2 ;;
		--rounds) ROUNDS=$2; shift 2 ;;
		--connections) CONNECTIONS=$2; shift 2 ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; exit 2 ;;
		esac
	done
}

# Stops one process we started (by its pid): SIGTERM, then SIGKILL after
# 10 s. Sets stop_rc to its exit status, or "killed". Not to be called in
# a subshell: only this shell can wait for its children.
stop_pid() {
	local pid=$1 i
	stop_rc=0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		stop_rc=killed
		return
	fi
	wait "$pid" 2>/dev/null || stop_rc=$?
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	for pid in $load_pid $bare_pid $cnwd_pid; do
		stop_pid "$pid"
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
	exit "$rc"
}

check_tools() {
	[ "$(id -u)" -eq 0 ] || die "cnwd needs root; run as root"
	for b in "$CNWD" "$HTTPLOAD" "$BARE"; do
		[ -x "$b" ] || die "$b: not an executable (set CNWD, HTTPLOAD, BARE or BUILDDIR)"
	done
	command -v curl >/dev/null || die "curl is needed to create the tenants"
	if [ -n "$PIN_CPU$CLIENT_CPU" ]; then
		command -v taskset >/dev/null || die "PIN_CPU/CLIENT_CPU need taskset (util-linux)"
	fi
	[ -z "$PIN_CPU" ] || pin=(taskset -c "$PIN_CPU")
	[ -z "$CLIENT_CPU" ] || pin_client=(taskset -c "$CLIENT_CPU")
}

# Value of KEY in an httpload line "requests=... rps=... p50_us=...".
field() {
	local key=$1 line=$2
	awk -v k="$key" '{ for (i = 1; i <= NF; i++) { split($i, a, "=");
		if (a[1] == k) print a[2] } }' <<<"$line"
}

median() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# Runs httpload in the background so that a signal to this script reaches
# the trap at once (a trap waits for a foreground command, not for `wait`);
# sets load_out to its one line and keeps a copy in the raw log.
load() {
	"${pin_client[@]}" "$HTTPLOAD" --socket "$sock" "$@" >"$tmp/load.out" 2>"$tmp/load.err" &
	load_pid=$!
	wait "$load_pid" || { cat "$tmp/load.err" >&2; die "httpload $* failed"; }
	load_pid=
	load_out=$(cat "$tmp/load.out")
	if [ -s "$tmp/load.err" ]; then sed 's/^/  /' "$tmp/load.err" >&2; fi
	echo "httpload ${*//$token/TOKEN}" >>"$tmp/raw"
	echo "  => $load_out" >>"$tmp/raw"
	[ "$(field errors "$load_out")" = 0 ] || note "warning: errors: $load_out"
}

wait_socket() {
	local pid=$1 i
	for i in $(seq 200); do
		[ -S "$sock" ] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

# curl METHOD PATH [BODY]: prints the status, leaves the body in $tmp/resp.
api() {
	local method=$1 path=$2 body=${3-}
	local args=(-sS --max-time 10 -o "$tmp/resp" -w '%{http_code}' --unix-socket "$sock" -X "$method"
		-H "Authorization: Bearer $token")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	curl "${args[@]}" "http://localhost$path"
}

start_cnwd() {
	local i
	mkdir -p "$tmp/state" "$tmp/run"
	echo "# empty: the defaults, not the host's /etc/cnw/cnwd.conf" >"$tmp/cnwd.conf"
	sock=$tmp/run/cnwd.sock
	"${pin[@]}" "$CNWD" --config "$tmp/cnwd.conf" --state-dir "$tmp/state" --run-dir "$tmp/run" \
		--instance cnwbench --log-level "$LOG_LEVEL" >"$tmp/cnwd.log" 2>&1 &
	cnwd_pid=$!
	wait_socket "$cnwd_pid" || { tail -30 "$tmp/cnwd.log" >&2; die "cnwd did not make $sock"; }
	for i in $(seq 100); do
		[ -s "$tmp/state/admin.token" ] && break
		sleep 0.05
	done
	token=$(tr -d '\n' <"$tmp/state/admin.token")
	[ "$(api GET /v1)" = 200 ] || { tail -30 "$tmp/cnwd.log" >&2; die "GET /v1 failed"; }
	echo "cnwd and its children (pid user command):" >>"$tmp/raw"
	ps -o pid=,user=,args= --pid "$cnwd_pid" --ppid "$cnwd_pid" >>"$tmp/raw" || true
}

create_tenants() {
	local i name code
	for ((i = 0; i < TENANTS; i++)); do
		printf -v name 't%03d' "$i"
		code=$(api POST /v1/tenants "{\"name\":\"$name\",\"description\":\"benchmark tenant $i\"}")
		[ "$code" = 201 ] || die "POST /v1/tenants $name: $code $(cat "$tmp/resp")"
	done
	post_size=$(stat -c %s "$tmp/resp")
	[ "$(api GET /v1/tenants)" = 200 ] || die "GET /v1/tenants: $(cat "$tmp/resp")"
	list_size=$(stat -c %s "$tmp/resp")
	local count
	count=$(grep -o '"name"[[:space:]]*:' "$tmp/resp" | wc -l)
	[ "$count" -eq "$TENANTS" ] || die "GET /v1/tenants lists $count tenants, want $TENANTS"
}

# GET load: a warm-up, then ROUNDS runs per connection count; sets
# rps_<who>_<c> to the median rate.
get_load() {
	local who=$1 c r rates
	local auth=(--header "Authorization: Bearer $token")
	load "${auth[@]}" --path /v1/tenants --connections 4 --duration 1
	for c in $CONNECTIONS; do
		rates=()
		for ((r = 0; r < ROUNDS; r++)); do
			load "${auth[@]}" --path /v1/tenants --connections "$c" --duration "$DURATION"
			rates+=("$(field rps "$load_out")")
		done
		printf -v "rps_${who}_$c" '%s' "$(median "${rates[@]}")"
	done
}

# POST latency: 50 warm-up creations, then POSTS on one connection.
post_load() {
	local who=$1
	local auth=(--header "Authorization: Bearer $token")
	load "${auth[@]}" --method POST --path /v1/tenants --body-template '{"name":"w%d"}' \
		--requests 50
	load "${auth[@]}" --method POST --path /v1/tenants \
		--body-template '{"name":"p%d"}' --requests "$POSTS" --connections 1
	printf -v "p50_$who" '%s' "$(field p50_us "$load_out")"
	printf -v "p99_$who" '%s' "$(field p99_us "$load_out")"
}

start_bare() {
	sock=$tmp/bare.sock
	"${pin[@]}" "$BARE" --socket "$sock" --body-size "$1" 2>>"$tmp/bare.log" &
	bare_pid=$!
	wait_socket "$bare_pid" || { cat "$tmp/bare.log" >&2; die "bare_mhd did not start"; }
}

stop_bare() {
	stop_pid "$bare_pid"
	bare_pid=
	[ "$stop_rc" = 0 ] || note "warning: bare_mhd exit status $stop_rc"
}

bench_cnwd() {
	start_cnwd
	create_tenants
	get_load cnwd
	post_load cnwd
	stop_pid "$cnwd_pid"
	cnwd_pid=
	if [ "$stop_rc" != 0 ]; then
		note "warning: cnwd exit status $stop_rc on SIGTERM"
		tail -20 "$tmp/cnwd.log" >&2
	fi
}

bench_bare() {
	token=unused
	start_bare "$list_size"
	get_load bare
	stop_bare
	start_bare "$post_size"
	post_load bare
	stop_bare
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

row() { printf '%-36s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

report() {
	local c cn bn
	echo
	echo "host: $(nproc) CPUs, $(uname -r); $("$CNWD" --version 2>/dev/null | head -1 || true)"
	echo "placement: servers on CPU ${PIN_CPU:-any}, httpload on CPU ${CLIENT_CPU:-any}"
	echo "GET: median of $ROUNDS runs of ${DURATION}s, $TENANTS tenants, body $list_size bytes" \
	     "(bare: same size); POST: $POSTS requests, 1 connection, bare body $post_size bytes"
	echo
	printf '%-36s %12s %12s %8s\n' figure cnwd bare cnwd/bare
	for c in $CONNECTIONS; do
		cn=rps_cnwd_$c bn=rps_bare_$c
		row "GET /v1/tenants req/s, $c conn" "${!cn}" "${!bn}"
	done
	row "POST /v1/tenants p50 us, 1 conn" "$p50_cnwd" "$p50_bare"
	row "POST /v1/tenants p99 us, 1 conn" "$p99_cnwd" "$p99_bare"
	echo
	echo "aim (issue): cnwd GET rate >= 0.50 x bare; informational, not a pass/fail"
	echo
	echo "raw httpload lines:"
	sed 's/^/  /' "$tmp/raw"
}

main() {
	parse_args "$@"
	check_tools
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	tmp=$(mktemp -d /tmp/cnw-api-bench.XXXXXX)
	: >"$tmp/raw"
	bench_cnwd
	bench_bare
	report
}

main "$@"
