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
# Environment (set by `make check`, defaulted so the files also run by hand):
#   CNWD    the runtime/cnwd binary
#   CNWCTL  the api/cnwctl binary
#   SRCDIR  the top of the source tree

set -u

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${SRCDIR:=$(cd "$LIB_DIR/../.." && pwd)}"
: "${CNWD:=$SRCDIR/runtime/cnwd}"
: "${CNWCTL:=$SRCDIR/api/cnwctl}"
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

# wait_gone PID SECONDS: 0 once PID has ended.
wait_gone() {
	local pid=$1 i n=$(($2 * 20))
	for ((i = 0; i < n; i++)); do
		pid_alive "$pid" || return 0
		sleep 0.05
	done
	! pid_alive "$pid"
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

# wait_api SECONDS: until GET /v1 answers 200 (and cnwd is still alive).
wait_api() {
	local i n=$(($1 * 10)) code
	for ((i = 0; i < n; i++)); do
		if [ -n "$CNWD_PID" ] && ! pid_alive "$CNWD_PID"; then
			return 1
		fi
		if [ -S "$SOCK" ]; then
			code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' "${API_TRANSPORT[@]}" \
			    "$API_BASE/v1" 2>/dev/null)
			[ "$code" == 200 ] && return 0
		fi
		sleep 0.1
	done
	return 1
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

# wait_log ERE SECONDS: until a log line written since log_mark matches.
wait_log() {
	local i n=$(($2 * 20))
	for ((i = 0; i < n; i++)); do
		log_since | grep -Eq -- "$1" && return 0
		sleep 0.05
	done
	return 1
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

_cleanup() {
	local rc=$? pid
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
