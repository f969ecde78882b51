# Shared helpers of the integration tests; sourced by each tests/integration/*.sh.
#
# Each test file gets its own temporary directory ($T), its own cnwd
# (state in $T/state, socket in $T/run/cnwd.sock, log in $T/cnwd.log) and
# prints TAP.  An EXIT trap stops every process the file started (by pid,
# never by name: other test files may run their own cnwd at the same time),
# prints the cnwd log as diagnostics when a test failed, and removes $T.
# Failures are "not ok" lines; the exit status is 0 once the plan is printed
# and non-zero only when a file stopped early.
#
# Tests wait for conditions, never for time: wait_until polls a condition
# and fails when its time runs out (see "Waiting" below).  A plain sleep is
# left only where the time itself is the point (a rate over an interval, a
# moment that must pass), with a comment saying so.
#
# Environment (set by `make check`, defaulted so the files also run by hand):
#   CNWD    the cnwd/cnwd binary
#   CNWCTL  the cli/cnwctl binary
#   SRCDIR  the top of the source tree

set -u

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$LIB_DIR/../.." && pwd)}"
: "${CNWD:=$SRCDIR/cnwd/cnwd}"
: "${CNWCTL:=$SRCDIR/cli/cnwctl}"
export SRCDIR CNWD CNWCTL
export LC_ALL=C

# python3 parses JSON for the tests; the system one starts fastest (a pyenv
# shim costs ~0.1 s a call, and the tests make hundreds).
if [ -z "${PY:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
fi

# A Unix socket path must fit in 108 bytes: fall back to /tmp for a long $TMPDIR.
_tmp_base=${TMPDIR:-/tmp}
[ "${#_tmp_base}" -gt 40 ] && _tmp_base=/tmp
T=$(mktemp -d "$_tmp_base/cnw-it.XXXXXX") || { echo "Bail out! mktemp failed"; exit 99; }

SOCK="$T/run/cnwd.sock"
TEST_INSTANCE="i$(($$ % 10000000))"
CNWD_LOG="$T/cnwd.log"
ADMIN_TOKEN_FILE="$T/state/admin.token"
RESP_BODY="$T/resp.body"
RESP_HEADERS="$T/resp.headers"
: >"$CNWD_LOG"

# How api() reaches cnwd: the Unix socket unless a test points it at TLS.
API_TRANSPORT=(--unix-socket "$SOCK")
API_BASE=http://localhost

TAP_N=0
TAP_FAILED=0
TAP_DONE=0
CNWD_PID=""
CNWD_EXIT=""
CNWD_PIDS=()		# every cnwd we started and did not reap yet
OTHER_PIDS=()		# other background helpers (track_pid)
LOG_MARK=0

# TAP ---------------------------------------------------------------------

diag() {
	local line
	for line in "$@"; do
		printf '%s\n' "$line" | sed 's/^/# /'
	done
}

ok() {
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

# not_ok DESC [DIAGNOSTIC...]
not_ok() {
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	shift
	[ $# -gt 0 ] && diag "$@"
	return 0
}

# check DESC CMD [ARGS...]: ok when the command succeeds; its output is
# shown as diagnostics when it fails.
check() {
	local desc=$1
	shift
	if "$@" >"$T/check.out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc" "failed: $*"
		[ -s "$T/check.out" ] && diag "$(head -c 4000 "$T/check.out")"
	fi
	return 0
}

# is GOT EXPECTED DESC
is() {
	if [ "$1" == "$2" ]; then
		ok "$3"
	else
		not_ok "$3" "expected: $2" "     got: $1"
	fi
}

# like GOT ERE DESC
like() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		ok "$3"
	else
		not_ok "$3" "expected to match: $2" "                got: $1"
	fi
}

# unlike GOT ERE DESC
unlike() {
	if printf '%s' "$1" | grep -Eq -- "$2"; then
		not_ok "$3" "expected not to match: $2" "                    got: $1"
	else
		ok "$3"
	fi
}

done_testing() {
	echo "1..$TAP_N"
	TAP_DONE=1
}

# Waiting -----------------------------------------------------------------
#
# wait_until SECONDS CMD [ARGS...]: run CMD (a command or a function of the
# test, its output as it prints it) until it succeeds, every
# $WAIT_INTERVAL seconds (0.05), for at most SECONDS (a whole or decimal
# number: 5, 0.5).  Status 0 as soon as CMD succeeds; 1 when the time ran
# out, CMD having failed one last time at the deadline.  The caller decides
# what a time-out means: a not_ok with a diagnostic (wait_for does that), or
# the assertion that follows and checks the same condition.
#
# wait_for DESC SECONDS CMD [ARGS...]: wait_until, and a not_ok "DESC" with
# the command when the time runs out.  Nothing is printed when the
# condition comes true: it is a synchronisation, not a test of its own, so
# a passing run has the same TAP lines as before.
#
# Built on it: wait_gone (a process ended), wait_api (GET /v1 answers),
# wait_log (a log line), events_open (an event stream is open).

: "${WAIT_INTERVAL:=0.05}"

# _usecs SECONDS: SECONDS (5, 0.5, 1.25) in microseconds, in $_USECS
# (no subshell: the waits are in tight loops).
_usecs() {
	local s=$1 i f=000000
	i=${s%%.*}
	if [[ $s == *.* ]]; then
		f=${s#*.}000000
		f=${f:0:6}
	fi
	_USECS=$((10#${i:-0} * 1000000 + 10#$f))
}

wait_until() {
	local deadline now
	_usecs "$1"
	shift
	now=${EPOCHREALTIME/./}
	deadline=$((now + _USECS))
	while :; do
		"$@" && return 0
		now=${EPOCHREALTIME/./}
		[ "$now" -ge "$deadline" ] && return 1
		sleep "$WAIT_INTERVAL"
	done
}

wait_for() {
	local desc=$1 secs=$2
	shift 2
	wait_until "$secs" "$@" && return 0
	not_ok "$desc" "timed out after $secs s waiting for: $*"
	return 1
}

# Conditions for wait_until ---------------------------------------------------

# file_has FILE ERE: a line of FILE (which may not exist yet) matches.
file_has() {
	grep -Eq -- "$2" "$1" 2>/dev/null
}

# listening NETNS tcp|udp PORT: a socket in network namespace NETNS ("-":
# this one) listens on (TCP) or is bound to (UDP) PORT.
listening() {
	local -a ns_exec=()
	[ "$1" != - ] && ns_exec=(ip netns exec "$1")
	case $2 in
	tcp) "${ns_exec[@]}" ss -Hltn "sport = :$3" 2>/dev/null | grep -q . ;;
	udp) "${ns_exec[@]}" ss -Hlun "sport = :$3" 2>/dev/null | grep -q . ;;
	*) return 2 ;;
	esac
}

# in_netns PID NETNS: process PID runs in the named network namespace.
in_netns() {
	local a b
	a=$(stat -L -c %i "/proc/$1/ns/net" 2>/dev/null) || return 1
	b=$(stat -L -c %i "/run/netns/$2" 2>/dev/null) || return 1
	[ "$a" == "$b" ]
}

# sig_taken PID SIGNAL: PID has no SIGNAL pending any more (a process that
# reads its signals from a signalfd has read it, and acted on it before its
# event loop looks at anything else).  True too when PID is gone.
sig_taken() {
	local n mask
	n=$(kill -l "$2") || return 2
	for mask in $(sed -n 's/^\(ShdPnd\|SigPnd\):[[:space:]]*//p' "/proc/$1/status" 2>/dev/null); do
		(((16#$mask >> (n - 1)) & 1)) && return 1
	done
	return 0
}

# clock_past TIME: the UTC clock reads a later second than TIME (the API's
# 2026-01-02T03:04:05Z): what is stamped from now on is stamped later.
clock_past() {
	[[ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$1" ]]
}

# Processes ---------------------------------------------------------------

# Alive and not a zombie (kill -0 succeeds on a zombie).
pid_alive() {
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$st" ] && [ "$st" != Z ]
}

# Parent pid of PID, from /proc/PID/stat (the field after the state).
pid_ppid() {
	sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2
}

# Direct children of PID.
pid_children() {
	local f p
	for f in /proc/[0-9]*/stat; do
		p=$(sed 's/^.*) //' "$f" 2>/dev/null | cut -d' ' -f2) || continue
		[ "$p" == "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
	done
	return 0
}

pid_gone() {
	! pid_alive "$1"
}

# wait_gone PID SECONDS: 0 once PID has ended.
wait_gone() {
	wait_until "$2" pid_gone "$1"
}

track_pid() {
	OTHER_PIDS+=("$1")
}

_forget_cnwd() {
	local p keep=()
	for p in "${CNWD_PIDS[@]}"; do
		[ "$p" != "$1" ] && keep+=("$p")
	done
	CNWD_PIDS=("${keep[@]}")
}

# now_ms: wall clock in milliseconds.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# cnwd -------------------------------------------------------------------

# api_answers: $SOCK is there and GET /v1 answers 200 (over API_TRANSPORT).
api_answers() {
	[ -S "$SOCK" ] && [ "$(curl -s -m 1 -o /dev/null -w '%{http_code}' "${API_TRANSPORT[@]}" \
	    "$API_BASE/v1" 2>/dev/null)" == 200 ]
}

_cnwd_dead() {
	[ -n "$CNWD_PID" ] && ! pid_alive "$CNWD_PID"
}

_api_up_or_cnwd_dead() {
	_cnwd_dead || api_answers
}

# wait_api SECONDS: until GET /v1 answers 200; 1 at once if cnwd ($CNWD_PID) died.
wait_api() {
	wait_until "$1" _api_up_or_cnwd_dead && ! _cnwd_dead
}

# cnwd_start [ARGS...]: start cnwd in the background on $T's dirs, wait up
# to 5 s for the socket and for GET /v1.  Sets CNWD_PID and ADMIN.
cnwd_start() {
	local -a args=("$@")
	local a prev="" conf=""
	for a in "$@"; do
		[ "$prev" == --config ] && conf=$a
		prev=$a
	done
	# Every test file its own instance name (one host may run several cnwd),
	# unless the test names one, on the command line or in its config.
	case " $* " in
	*" --instance "*) ;;
	*) if [ -z "$conf" ] || ! grep -q '^instance' "$conf"; then
		args+=(--instance "$TEST_INSTANCE")
	   fi ;;
	esac
	echo "=== cnwd_start $(date +%T.%N) ${args[*]}" >>"$CNWD_LOG"
	"$CNWD" --state-dir "$T/state" --run-dir "$T/run" "${args[@]}" >>"$CNWD_LOG" 2>&1 </dev/null &
	CNWD_PID=$!
	CNWD_PIDS+=("$CNWD_PID")
	if ! wait_api 5; then
		diag "cnwd (pid $CNWD_PID) did not answer GET /v1 within 5 s"
		return 1
	fi
	ADMIN=$(tr -d '\n' <"$ADMIN_TOKEN_FILE" 2>/dev/null)
	return 0
}

# cnwd_stop [SIGNAL]: signal cnwd (TERM by default), wait up to 10 s for it
# to end, reap it.  Sets CNWD_EXIT; returns 0 only if it exited with 0.
cnwd_stop() {
	local sig=${1:-TERM} pid=$CNWD_PID
	if [ -z "$pid" ]; then
		CNWD_EXIT=none
		return 1
	fi
	kill -s "$sig" "$pid" 2>/dev/null
	if ! wait_gone "$pid" 10; then
		diag "cnwd (pid $pid) did not stop within 10 s of SIG$sig; killing it"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	CNWD_EXIT=$?
	_forget_cnwd "$pid"
	CNWD_PID=""
	echo "=== cnwd_stop SIG$sig: exit $CNWD_EXIT" >>"$CNWD_LOG"
	[ "$CNWD_EXIT" -eq 0 ]
}

# Log lines from now on: log_mark, then log_since / wait_log.
log_mark() {
	LOG_MARK=$(wc -l <"$CNWD_LOG")
}

log_since() {
	tail -n +$((LOG_MARK + 1)) "$CNWD_LOG"
}

log_has() {
	log_since | grep -Eq -- "$1"
}

# wait_log ERE SECONDS: until a log line written since log_mark matches.
wait_log() {
	wait_until "$2" log_has "$1"
}

# HTTP --------------------------------------------------------------------

# api METHOD PATH [BODY] [TOKEN] [CURL ARGS...]
# Prints the HTTP status (000 when there was no answer).  The body goes to
# $RESP_BODY, the headers to $RESP_HEADERS.  BODY "@FILE" sends a file; a
# body is sent as application/json unless CURL ARGS name a Content-Type.
api() {
	local method=$1 path=$2 body=${3-} token=${4-}
	local -a args
	shift $(($# < 4 ? $# : 4))
	args=(-s -m 10 -o "$RESP_BODY" -D "$RESP_HEADERS" -w '%{http_code}' -X "$method")
	if [ -n "$body" ]; then
		if [ "${body:0:1}" == @ ]; then
			args+=(--data-binary "$body")
		else
			printf '%s' "$body" >"$T/req.body"
			args+=(--data-binary "@$T/req.body")
		fi
		case " $* " in
		*[Cc]ontent-[Tt]ype:*) ;;
		*) args+=(-H 'Content-Type: application/json') ;;
		esac
	fi
	[ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
	: >"$RESP_BODY"
	: >"$RESP_HEADERS"
	curl "${args[@]}" "${API_TRANSPORT[@]}" "$@" "$API_BASE$path" 2>"$T/curl.err"
	return 0
}

# hdr NAME [FILE]: the value of a header of the last response (its final
# block: a 100 Continue comes before it).
hdr() {
	awk -v name="$1" '
		BEGIN { name = tolower(name) }
		{ sub(/\r$/, "") }
		/^HTTP\// { v = ""; found = 0; next }
		{
			i = index($0, ":")
			if (i > 0 && tolower(substr($0, 1, i - 1)) == name && !found) {
				v = substr($0, i + 1); sub(/^[ \t]+/, "", v); found = 1
			}
		}
		END { printf "%s", v }' "${2:-$RESP_HEADERS}"
}

# json EXPR [FILE]: evaluate a Python expression over j, the parsed JSON of
# FILE (default: the last response body).  Strings print raw, anything else
# as compact JSON with sorted keys.  Prints <...> and fails on bad JSON.
json() {
	"$PY" - "$1" "${2:-$RESP_BODY}" <<'EOF'
import json, re, sys
expr, path = sys.argv[1], sys.argv[2]
try:
    with open(path, 'rb') as f:
        j = json.load(f)
except Exception as e:
    print("<invalid JSON: %s>" % e)
    sys.exit(1)
try:
    v = eval(expr, {"j": j, "re": re, "json": json})
except Exception as e:
    print("<%s: %s>" % (type(e).__name__, e))
    sys.exit(1)
print(v if isinstance(v, str) else json.dumps(v, sort_keys=True, separators=(",", ":")))
EOF
}

# problem_check STATUS: empty output when the last response is an RFC 9457
# problem of STATUS (content type, type, title, status, non-empty detail),
# else what is wrong.
problem_check() {
	local ct
	ct=$(hdr Content-Type)
	[ "$ct" == application/problem+json ] ||
	    echo "Content-Type is '$ct', not application/problem+json"
	"$PY" - "$1" "$RESP_BODY" <<'EOF'
import json, sys
status, path = int(sys.argv[1]), sys.argv[2]
slugs = {400: ("bad-request", "Bad Request"), 401: ("unauthorized", "Unauthorized"),
         403: ("forbidden", "Forbidden"), 404: ("not-found", "Not Found"),
         405: ("method-not-allowed", "Method Not Allowed"), 409: ("conflict", "Conflict"),
         413: ("payload-too-large", "Payload Too Large"),
         415: ("unsupported-media-type", "Unsupported Media Type"),
         500: ("internal", "Internal Server Error"), 503: ("unavailable", "Service Unavailable")}
try:
    j = json.load(open(path, 'rb'))
except Exception as e:
    print("body is not JSON: %s" % e)
    sys.exit(0)
if not isinstance(j, dict):
    print("body is not an object")
    sys.exit(0)
slug, title = slugs[status]
if j.get("type") != "urn:cnw:problem:" + slug:
    print("type is %r, not %r" % (j.get("type"), "urn:cnw:problem:" + slug))
if j.get("title") != title:
    print("title is %r, not %r" % (j.get("title"), title))
if j.get("status") != status or type(j.get("status")) is not int:
    print("status member is %r, not %d" % (j.get("status"), status))
if not isinstance(j.get("detail"), str) or not j.get("detail"):
    print("detail is %r" % (j.get("detail"),))
extra = set(j) - {"type", "title", "status", "detail", "instance"}
if extra:
    print("unexpected members %s" % sorted(extra))
EOF
}

# The state, as a test sees it: the admin's tenant list and the audit rows.
# reject DESC STATUS METHOD PATH [BODY] [TOKEN] [CURL ARGS...]
# One test: the request answers STATUS with a problem document, and the
# state ($STATE, a function: state_snapshot unless a file sets another) did
# not change.  $DETAIL, when set, is an ERE the problem's detail must
# match.  The reply stays in $T/rej.*.
STATE=state_snapshot
reject() {
	local desc=$1 want=$2 before after code problems detail
	local -a errs=()
	shift 2
	before=$("$STATE")
	code=$(api "$@")
	cp "$RESP_BODY" "$T/rej.body"
	cp "$RESP_HEADERS" "$T/rej.headers"
	[ "$code" == "$want" ] || errs+=("status $code, expected $want")
	problems=$(problem_check "$want")
	[ -n "$problems" ] && errs+=("$problems")
	if [ -n "${DETAIL:-}" ]; then
		detail=$(json 'j.get("detail")' "$T/rej.body")
		printf '%s' "$detail" | grep -Eq -- "$DETAIL" ||
		    errs+=("detail '$detail' does not match /$DETAIL/")
	fi
	after=$("$STATE")
	[ "$before" == "$after" ] || errs+=("the state changed" "before: $before" "after:  $after")
	if [ ${#errs[@]} -eq 0 ]; then
		ok "$desc: $want, nothing changed"
	else
		not_ok "$desc: $want, nothing changed" "${errs[@]}" \
		    "request: $1 $2 ${3:0:200}" "reply: $(head -c 600 "$T/rej.body")"
	fi
}

# expect_fail DESC STATUS STDERR-ERE ARGS... (via ctl): exit STATUS, stderr
# matching, nothing on stdout; with $EXPECT_STATE set (a function), what it
# prints is the same before and after ("nothing changed").
EXPECT_STATE=""
expect_fail() {
	local desc=$1 want=$2 re=$3 before="" after="" what=""
	shift 3
	[ -n "$EXPECT_STATE" ] && before=$("$EXPECT_STATE") && what=", nothing changed"
	ctl "$@"
	[ -n "$EXPECT_STATE" ] && after=$("$EXPECT_STATE")
	if [ "$RC" == "$want" ] && err | grep -Eq -- "$re" && [ ! -s "$T/ctl.out" ] &&
	    [ "$before" == "$after" ]; then
		ok "$desc: exit $want$what"
	else
		not_ok "$desc: exit $want$what" "cnwctl $*" "exit $RC" "stderr: $(err)" \
		    "stdout: $(out)" "stderr should match: $re" "before: $before" "after:  $after"
	fi
}

state_snapshot() {
	local code
	code=$(api GET /v1/tenants "" "$ADMIN")
	printf '%s\n' "$code"
	cat "$RESP_BODY"
	printf 'audit rows: %s\n' "$(audit_count)"
}

audit_count() {
	sqlite3 -cmd '.timeout 5000' "$T/state/cnw.db" 'select count(*) from audit'
}

sql() {
	sqlite3 -cmd '.timeout 5000' "$T/state/cnw.db" "$1"
}

# The pid of the API child, from GET /v1/processes.
api_child_pid() {
	local code
	code=$(api GET /v1/processes "" "$ADMIN")
	[ "$code" == 200 ] || { echo "?"; return 1; }
	json '[p["pid"] for p in j["items"] if p["role"] == "api"][0]'
}

# A free TCP port on loopback (bound and released: a small race, no more).
free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# events_open FILE [TOKEN]: GET /v1/events (with TOKEN, else the admin's)
# into FILE in the background (stopped at exit), and wait until the stream
# is open: cnwd sends a first comment line at once, and from then on every
# event reaches the stream.  1 when it did not open within 5 s.
events_open() {
	curl -sN "${API_TRANSPORT[@]}" -H "Authorization: Bearer ${2:-$ADMIN}" \
	    "$API_BASE/v1/events" >"$1" 2>/dev/null &
	track_pid $!
	wait_until 5 file_has "$1" '^: cnw events'
}

# jfield EXPR [FILE]: a Python expression over d, the parsed JSON of FILE
# (default: the last response body; /dev/stdin reads a pipe), printed as
# Python prints it: True, None, ('a', 1).  (json, above, prints JSON.)
jfield() {
	"$PY" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" \
	    "${2:-$RESP_BODY}" "$1"
}

# cnwctl ------------------------------------------------------------------

# ctl ARGS...: cnwctl on this file's cnwd ($SOCK) with the admin token
# file.  Its output goes to $T/ctl.out and $T/ctl.err (out, err), its exit
# status to $RC and is ctl's own.
ctl() {
	"$CNWCTL" --socket "$SOCK" --token-file "$ADMIN_TOKEN_FILE" "$@" >"$T/ctl.out" 2>"$T/ctl.err" </dev/null
	RC=$?
	return $RC
}

out() { cat "$T/ctl.out"; }
err() { cat "$T/ctl.err"; }

# field LABEL: the value of a "label: value" line of the last ctl output
# (cnwctl's show and create print one such line per field).
field() {
	sed -n "s/^$1: //p" "$T/ctl.out"
}

# row NAME: the line of the last ctl output (a table) whose first column is
# NAME, its columns separated by single spaces.
row() {
	awk -v n="$1" '$1 == n' "$T/ctl.out" | sed 's/   */ /g'
}

# table_rows: the last ctl output parsed as a table (columns start where
# the header's words start, every row aligned to them) as JSON:
# [[header...], [row...], ...], or <misaligned ...>.
table_rows() {
	"$PY" - "$T/ctl.out" <<'EOF'
import json, re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
if lines and lines[-1] == "":
    lines.pop()
if not lines:
    print("<empty output>")
    sys.exit(1)
header = lines[0]
starts = [m.start() for m in re.finditer(r"\S+", header)]
rows = []
for ln in lines:
    for i, s in enumerate(starts):
        if i > 0 and (len(ln) <= s or ln[s - 1] != " " or ln[s] == " "):
            print("<misaligned: column %d of %r>" % (i, ln))
            sys.exit(1)
    cells = [ln[s:(starts[i + 1] if i + 1 < len(starts) else None)].strip()
             for i, s in enumerate(starts)]
    rows.append(cells)
print(json.dumps(rows, ensure_ascii=False))
EOF
}

# Namespaces of an instance -----------------------------------------------

# netns_of_instance: the network namespaces of instance $INST, sorted.
netns_of_instance() {
	ip netns list | awk '{print $1}' | grep -E "^${INST}\." | sort
}

# netns_cleanup: remove them (at_exit netns_cleanup, in a file whose cnwd
# makes tenant networks: cnwd leaves them in place when it stops).
netns_cleanup() {
	local n
	for n in $(netns_of_instance); do ip netns delete "$n" 2>/dev/null; done
	return 0
}

# The two-site lab --------------------------------------------------------
#
# examples/lab/lab.sh: two cnwd (an edge and a gateway site) joined by two
# veth uplinks, two tenants with a network on each site.
#
# lab_init [EDGE GW]: this file's lab, its sites named EDGE and GW (instance
# names, at most 8 of [a-z0-9-], so that labs run side by side; none:
# lab.sh's edge and gw), its state in $T/lab.  Sets LAB, LAB_DIR, LAB_EDGE,
# LAB_GW, E and G; the lab is taken down at exit.  LAB_CNWD_ARGS, when
# set, are more arguments for both cnwd (--config FILE).
#
# lab_up DESC: start it; ok DESC.  api() then talks to the edge's cnwd
# (SOCK, ADMIN, API_TRANSPORT) and a failed file shows the edge's log
# (CNWD_LOG).  When it does not start: not_ok "the lab starts" with
# lab.sh's output and the edge's log, and the file ends there.
#
# lab_down: take it down (processes, namespaces, state; twice is harmless).
#
# lab_ctl SITE ARGS...: cnwctl on SITE's cnwd with its admin token, its
# output as cnwctl prints it.

lab_init() {
	LAB="$SRCDIR/examples/lab/lab.sh"
	export LAB_DIR="$T/lab"
	if [ $# -ge 2 ]; then
		export LAB_EDGE=$1 LAB_GW=$2
	fi
	E=${LAB_EDGE:-edge} G=${LAB_GW:-gw}
	at_exit lab_down
}

lab_up() {
	if ! bash "$LAB" start >"$T/lab.out" 2>&1; then
		not_ok "the lab starts" "$(tail -20 "$T/lab.out")" "$(tail -40 "$LAB_DIR/$E/cnwd.log" 2>/dev/null)"
		done_testing
		exit 1
	fi
	ok "$1"
	CNWD_LOG="$LAB_DIR/$E/cnwd.log"
	ADMIN=$(cat "$LAB_DIR/$E/state/admin.token")
	SOCK="$LAB_DIR/$E/run/cnwd.sock"
	API_TRANSPORT=(--unix-socket "$SOCK")
	API_BASE=http://localhost
}

lab_down() {
	bash "$LAB" down >/dev/null 2>&1
	return 0
}

lab_ctl() {
	local s=$1
	shift
	"$CNWCTL" --socket "$LAB_DIR/$s/run/cnwd.sock" --token-file "$LAB_DIR/$s/state/admin.token" "$@"
}

# owd_recv PORT NETNS FILE [TIMEOUT_MS]: the receiver of tests/tools/owd
# ($OWD) on PORT in NETNS, its output in FILE, in the background (its pid
# in $OWD_RX), once it is ready (bound: a not_ok after 5 s otherwise).
owd_recv() {
	ip netns exec "$2" "$OWD" recv "$1" --timeout-ms "${4:-30000}" --overhead 90 >"$3" &
	OWD_RX=$!
	wait_for "owd recv on port $1 is ready" 5 file_has "$3" '^ready$'
}

# Clean-up -----------------------------------------------------------------

_stop_pid() {
	local pid=$1 kids
	pid_alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kids=$(pid_children "$pid")
	kill -TERM "$pid" 2>/dev/null
	wait_gone "$pid" 3 || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	for pid in $kids; do
		wait_gone "$pid" 1 || kill -KILL "$pid" 2>/dev/null
	done
	return 0
}

# at_exit CMD [ARGS...]: run CMD at exit, after the processes are stopped
# and the log shown (a lab's log goes with the lab), latest first; the
# file's exit status is kept.
AT_EXIT=()
at_exit() {
	AT_EXIT+=("$(printf '%q ' "$@")")
}

_cleanup() {
	local rc=$? pid i
	trap - EXIT INT TERM HUP
	for pid in "${CNWD_PIDS[@]}" "${OTHER_PIDS[@]}"; do
		_stop_pid "$pid"
	done
	if [ "$TAP_DONE" -eq 0 ]; then
		not_ok "the test file ran to its end (it stopped early, status $rc)"
		echo "1..$TAP_N"
	fi
	if [ "$TAP_FAILED" -gt 0 ] && [ -s "$CNWD_LOG" ]; then
		diag "---- cnwd log ----"
		diag "$(tail -n 300 "$CNWD_LOG")"
	fi
	for ((i = ${#AT_EXIT[@]} - 1; i >= 0; i--)); do
		eval "${AT_EXIT[i]}"
	done
	rm -rf "$T"
	# Failures are reported in TAP, so that the totals count test cases: a
	# file that ran to its end exits 0 (as tests/config/golden.sh does).
	[ "$TAP_DONE" -eq 1 ] && [ "$rc" -eq 0 ] && exit 0
	[ "$rc" -ne 0 ] && exit "$rc"
	exit 1
}
trap _cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

for _tool in curl sqlite3 "$PY"; do
	if ! command -v "$_tool" >/dev/null; then
		echo "1..0 # SKIP $_tool is not installed"
		TAP_DONE=1
		exit 0
	fi
done
if [ ! -x "$CNWD" ] || [ ! -x "$CNWCTL" ]; then
	echo "Bail out! $CNWD or $CNWCTL is not built"
	TAP_DONE=1
	exit 99
fi
