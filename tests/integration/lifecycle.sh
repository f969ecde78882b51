#!/bin/bash
# cnwd's life: restarts keep the state and the admin token, one cnwd per
# state directory, the API child's sandbox, its restart after kill -9,
# SIGHUP reloads (good and broken files), --check, SIGINT, and a restart
# after kill -9 of cnwd itself.
set -u
. "$(dirname "$0")/lib.sh"

CONF="$T/cnwd.conf"
printf '[cnwd]\ninstance = %s\nlog_level = info\n' "$TEST_INSTANCE" >"$CONF"

tenant_names() {
	api GET /v1/tenants "" "$ADMIN" >/dev/null
	json '[t["name"] for t in j["items"]]'
}

# The whole tenant list as the admin sees it (JSON), for before/after.
tenant_list() {
	api GET /v1/tenants "" "$ADMIN" >/dev/null
	json 'j'
}

# proc_status PID FIELD: the value of one line of /proc/PID/status.
proc_status() {
	sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" 2>/dev/null | tr -s '\t' ' '
}

# wait_new_api OLD_PID SECONDS: until the API answers from a child that is
# not OLD_PID; prints the new pid ("?" when the time ran out).
_new_api() {
	api_answers || return 1
	NEW_API=$(api_child_pid)
	[ "$NEW_API" != "$1" ] && [ "$NEW_API" != 0 ] && [ "$NEW_API" != "?" ]
}
wait_new_api() {
	NEW_API="?"
	if wait_until "$2" _new_api "$1"; then
		echo "$NEW_API"
		return 0
	fi
	echo "?"
	return 1
}

cnwd_start --config "$CONF" || { not_ok "cnwd starts"; done_testing; exit 1; }
ok "cnwd starts with --config"
FIRST_PID=$CNWD_PID
ADMIN1=$ADMIN

# Restart keeps every tenant -----------------------------------------------------

n_ok=0
for i in 1 2 3 4 5; do
	code=$(api POST /v1/tenants "{\"name\":\"t$i\",\"description\":\"tenant $i\",\"quotas\":{\"networks\":$i,\"flows\":$((i * 100))}}" "$ADMIN")
	[ "$code" == 201 ] && n_ok=$((n_ok + 1))
	# created_at differs between tenants: timestamps are to the second, so
	# the next ones wait for the clock to pass the third one's.
	[ $i -eq 3 ] && wait_for "the clock passes t3's created_at" 3 clock_past "$(json 'j["created_at"]')"
done
is "$n_ok" 5 "create 5 tenants: 201 each"
before=$(tenant_list)
child=$(api_child_pid)
if cnwd_stop TERM; then ok "SIGTERM: cnwd exits with 0"; else not_ok "SIGTERM: cnwd exits with 0" "exit $CNWD_EXIT"; fi
wait_gone "$child" 2 && ok "SIGTERM: the API child is gone" || not_ok "SIGTERM: the API child is gone" "pid $child"
[ ! -e "$SOCK" ] && ok "SIGTERM: the socket file is removed" || not_ok "SIGTERM: the socket file is removed"
# This time cnwd inherits one more descriptor (as from a careless service
# manager): its sandboxed child must not get it (checked below).
echo "not for the API child" >"$T/inherited"
exec 9<"$T/inherited"
if cnwd_start --config "$CONF"; then ok "cnwd starts again"; else not_ok "cnwd starts again"; fi
exec 9<&-
after=$(tenant_list)
is "$after" "$before" "after a restart: the same tenants, quotas, descriptions, created_at and updated_at"
is "$(json 'len(j["items"])' <(echo "$after"))" 5 "after a restart: 5 tenants"
is "$ADMIN" "$ADMIN1" "the admin token file is the same after a restart"
code=$(api GET /v1/tenants/t1 "" "$ADMIN1")
is "$code" 200 "the admin token of the first start still works"
is "$(sql "select count(*) from audit where action = 'token.admin.set'")" 1 \
    "the admin token's hash was stored once, not at every start"
is "$(stat -c %a "$ADMIN_TOKEN_FILE")" 600 "admin.token keeps mode 0600"

# One cnwd per state directory ---------------------------------------------------

timeout 10 "$CNWD" --state-dir "$T/state" --run-dir "$T/run" --config "$CONF" >"$T/second.log" 2>&1 </dev/null
rc=$?
is "$rc" 1 "a second cnwd on the same state directory exits with 1"
like "$(cat "$T/second.log")" "another cnwd \(pid $CNWD_PID\)" "its message names another cnwd and the first one's pid"
[ -S "$SOCK" ] && ok "the first cnwd's socket file is still there" || not_ok "the first cnwd's socket file is still there"
pid_alive "$CNWD_PID" && ok "the first cnwd still runs" || not_ok "the first cnwd still runs"
is "$(tenant_list)" "$before" "the first cnwd still serves the same tenants"
mkdir -p "$T/run2"
timeout 10 "$CNWD" --state-dir "$T/state" --run-dir "$T/run2" >"$T/second.log" 2>&1 </dev/null
is "$?" 1 "a second cnwd on the same state directory with another run directory exits with 1 too"
[ ! -e "$T/run2/cnwd.sock" ] && ok "... and makes no socket" || not_ok "... and makes no socket"
mkdir -p "$T/state3" "$T/run3"
timeout 10 "$CNWD" --state-dir "$T/state3" --run-dir "$T/run3" --instance "$TEST_INSTANCE" \
    >"$T/third.log" 2>&1 </dev/null
is "$?" 1 "a second cnwd with the same instance name (another state directory) exits with 1"
like "$(cat "$T/third.log")" "another cnwd \(pid $CNWD_PID\) is running as instance \"$TEST_INSTANCE\"" \
    "its message names the instance and the first cnwd"
[ ! -e "$T/run3/cnwd.sock" ] && ok "... and makes no socket" || not_ok "... and makes no socket"

# The API child's sandbox ----------------------------------------------------------

child=$(api_child_pid)
like "$child" '^[0-9]+$' "GET /v1/processes gives the API child's pid ($child)"
is "$(json '[(p["role"], p["state"], p["restarts"], "last_exit" in p) for p in j["items"] if p["role"] == "api"]')" '[["api","running",0,false]]' \
    "processes: one api child, running, 0 restarts, no last_exit"
is "$(json '[p["sandbox"] for p in j["items"] if p["role"] == "api"][0]')" '{"cap_eff":"0000000000000000","no_new_privs":true,"seccomp":2}' \
    "processes: the sandbox as read from /proc"
is "$(pid_ppid "$child")" "$CNWD_PID" "the API child's parent is cnwd"
is "$(proc_status "$child" CapEff)" 0000000000000000 "the API child: CapEff: 0000000000000000"
is "$(proc_status "$child" NoNewPrivs)" 1 "the API child: NoNewPrivs: 1"
is "$(proc_status "$child" Seccomp)" 2 "the API child: Seccomp: 2"
is "$(proc_status "$child" CapPrm):$(proc_status "$child" CapInh):$(proc_status "$child" CapAmb):$(proc_status "$child" CapBnd)" \
    "0000000000000000:0000000000000000:0000000000000000:0000000000000000" \
    "the API child: no permitted, inheritable, ambient or bounding capabilities"
is "$(proc_status "$child" Uid)" "65534 65534 65534 65534" "the API child runs as uid 65534 (real, effective, saved, fs)"
is "$(proc_status "$child" Gid)" "65534 65534 65534 65534" "the API child runs as gid 65534"
is "$(proc_status "$child" Groups)" "" "the API child has no supplementary groups"
fds=$(for f in /proc/"$child"/fd/*; do
	case ${f##*/} in 0 | 1 | 2) continue ;; esac
	echo "${f##*/}=$(readlink "$f")"
done 2>/dev/null | grep -v -E '=(socket|anon_inode|pipe):' | sort -u | paste -sd' ')
is "$fds" "" "the API child holds no file open beyond stdio (a descriptor cnwd inherited included)"

# kill -9 of the API child ----------------------------------------------------------

audit0=$(sql "select count(*) from audit where action = 'process.exit'")
log_mark
t0=$(now_ms)
kill -KILL "$child"
new=$(wait_new_api "$child" 5)
ms=$(($(now_ms) - t0))
if [ "$new" != "?" ] && [ "$ms" -le 2000 ]; then
	ok "kill -9 of the API child: the API answers again within 2 s (${ms} ms)"
else
	not_ok "kill -9 of the API child: the API answers again within 2 s" "new pid $new after ${ms} ms"
fi
api GET /v1/processes "" "$ADMIN" >/dev/null
is "$(json '[(p["state"], p["restarts"] >= 1, p["pid"] == '"${new//[!0-9]/0}"') for p in j["items"] if p["role"] == "api"]')" '[["running",true,true]]' \
    "processes: running again with a new pid, restarts >= 1"
like "$(json 'j["items"][0].get("last_exit", "")')" 'signal 9' "processes: last_exit mentions signal 9"
is "$(json 'j["items"][0]["sandbox"]')" '{"cap_eff":"0000000000000000","no_new_privs":true,"seccomp":2}' \
    "processes: the new child is sandboxed too"
is "$(proc_status "$new" CapEff):$(proc_status "$new" NoNewPrivs):$(proc_status "$new" Seccomp)" "0000000000000000:1:2" \
    "/proc of the new child: CapEff 0, NoNewPrivs 1, Seccomp 2"
is "$(sql "select count(*) from audit where action = 'process.exit'")" $((audit0 + 1)) "the audit table has one more process.exit row"
like "$(sql "select actor || '|' || object || '|' || detail from audit where action = 'process.exit' order by id desc limit 1")" \
    '^cnwd\|api\|.*signal 9' "the process.exit row: actor cnwd, object api, detail with signal 9"
wait_log 'api: .*signal 9' 1 && ok "the death is logged" || not_ok "the death is logged" "$(log_since)"
is "$(tenant_list)" "$before" "the tenants are unchanged"

got=""
for i in 1 2 3; do
	old=$(api_child_pid)
	kill -KILL "$old" 2>/dev/null
	new=$(wait_new_api "$old" 8)
	got="$got $new"
done
if [[ "$got" != *"?"* ]]; then
	ok "three kill -9 in a row: the API comes back each time (pids$got)"
else
	not_ok "three kill -9 in a row: the API comes back each time" "pids$got"
fi
api GET /v1/processes "" "$ADMIN" >/dev/null
is "$(json '[(p["state"], p["restarts"] >= 4) for p in j["items"] if p["role"] == "api"]')" '[["running",true]]' \
    "processes: running, restarts >= 4"
is "$(sql "select count(*) from audit where action = 'process.exit'")" $((audit0 + 4)) "four process.exit rows"
code=$(api POST /v1/tenants '{"name":"after-kills"}' "$ADMIN")
is "$code" 201 "the API works after the kills"
api DELETE /v1/tenants/after-kills "" "$ADMIN" >/dev/null

# SIGHUP --------------------------------------------------------------------------

printf '[cnwd]\ninstance = %s\nlog_level = debug\n' "$TEST_INSTANCE" >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_log "reloaded $CONF \(log level debug\)" 3 && ok "SIGHUP: 'reloaded FILE (log level debug)' is logged" ||
    not_ok "SIGHUP: 'reloaded FILE (log level debug)' is logged" "$(log_since)"

printf '[cnwd]\ninstance = %s\nlog_level = warning\n' "$TEST_INSTANCE" >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
# At level warning the reload itself is not logged: cnwd has reloaded once it
# has read the signal (its signalfd, then the reload, before anything else).
wait_for "cnwd takes the SIGHUP" 3 sig_taken "$CNWD_PID" HUP
api POST /v1/tenants '{"name":"quiet"}' "$ADMIN" >/dev/null
# cnwd logs a creation just after its reply: whether it did is known once a
# later line is in the log.  That line: a reload it refuses (a warning,
# logged at this level; the running configuration stays as it is).
printf '[cnwd]\ninstance = %s\nlog_level = warning\nthis line is broken\n' "$TEST_INSTANCE" >"$CONF"
kill -HUP "$CNWD_PID"
wait_log 'keeping the running configuration' 3 || diag "no line after the POST within 3 s"
if log_since | grep -q 'tenant quiet created'; then
	not_ok "SIGHUP to log_level warning: info lines stop at once" "$(log_since)"
else
	ok "SIGHUP to log_level warning: info lines stop at once"
fi

printf '[cnwd]\ninstance = %s\nlog_level = info\n' "$TEST_INSTANCE" >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_log "reloaded $CONF \(log level info\)" 3 && ok "SIGHUP back to info: logged" ||
    not_ok "SIGHUP back to info: logged" "$(log_since)"

printf '[cnwd]\ninstance = %s\nlog_level = warning\nthis line is broken\n' "$TEST_INSTANCE" >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_log "$CONF:4: " 3 && ok "SIGHUP with a broken line: the error is logged as FILE:LINE ($CONF:4)" ||
    not_ok "SIGHUP with a broken line: the error is logged as FILE:LINE ($CONF:4)" "$(log_since)"
like "$(log_since)" 'keeping the running configuration' "SIGHUP with a broken line: says the running configuration stays"
pid_alive "$CNWD_PID" && ok "SIGHUP with a broken line: cnwd keeps running" || not_ok "SIGHUP with a broken line: cnwd keeps running"
code=$(api POST /v1/tenants '{"name":"loud"}' "$ADMIN")
is "$code" 201 "SIGHUP with a broken line: the API still works"
wait_log 'tenant loud created' 3 && ok "SIGHUP with a broken line: its log_level was not applied (info lines still logged)" ||
    not_ok "SIGHUP with a broken line: its log_level was not applied (info lines still logged)" "$(log_since)"
printf '[cnwd]\nlog_level = info\ninstance = other\n' >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_log 'next start' 3 && ok "SIGHUP changing instance: a warning says it takes effect at the next start" ||
    not_ok "SIGHUP changing instance: a warning says it takes effect at the next start" "$(log_since)"
is "$(tenant_names)" '["loud","quiet","t1","t2","t3","t4","t5"]' "SIGHUP changing instance: cnwd still serves its state"
printf '[cnwd]\ninstance = %s\nlog_level = info\n' "$TEST_INSTANCE" >"$CONF"
kill -HUP "$CNWD_PID"
api DELETE /v1/tenants/quiet "" "$ADMIN" >/dev/null
api DELETE /v1/tenants/loud "" "$ADMIN" >/dev/null

# --check ---------------------------------------------------------------------------

printf '# a comment\n; another\n[cnwd]\nlog_level = debug\ninstance = edge1\nstate_dir = /var/lib/cnw\n\n[api]\nlisten = 127.0.0.1:8443\n' >"$T/good.conf"
out=$("$CNWD" --check --config "$T/good.conf" 2>&1)
is "$?:$out" "0:configuration OK" "--check on a good file: exit 0, 'configuration OK'"
check_bad() {	# DESC EXPECTED-FILE:LINE CONTENT
	printf "$3" >"$T/bad.conf"
	out=$("$CNWD" --check --config "$T/bad.conf" 2>"$T/check.err")
	rc=$?
	if [ "$rc" == 1 ] && grep -q "^$T/bad.conf:$2: " "$T/check.err" && [ -z "$out" ]; then
		ok "--check, $1: exit 1, '$2:' in the message"
	else
		not_ok "--check, $1: exit 1, 'bad.conf:$2:' in the message" "exit $rc" "stdout: $out" "stderr: $(cat "$T/check.err")"
	fi
}
check_bad "a line that is not key = value" 2 '[cnwd]\nthis is broken\nlog_level = info\n'
check_bad "an unknown key" 3 '[cnwd]\nlog_level = info\ncolour = red\n'
check_bad "a key in an unknown section (reported at the section's line)" 1 '[frob]\nkey = value\n'
printf '[cnwd]\nlog_level = info\n[frob]\n' >"$T/bad.conf"
out=$("$CNWD" --check --config "$T/bad.conf" 2>"$T/check.err")
rc=$?
if [ "$rc" == 1 ] && grep -Eq "^$T/bad.conf:[0-9]+: .*frob" "$T/check.err"; then
	ok "--check, an unknown section without keys: exit 1, FILE:LINE naming it"
else
	not_ok "--check, an unknown section without keys: exit 1, FILE:LINE naming it" "exit $rc" "stdout: $out" "stderr: $(cat "$T/check.err")"
fi
check_bad "a bad log level" 2 '[cnwd]\nlog_level = chatty\n'
check_bad "a bad instance" 2 '[cnwd]\ninstance = Edge_1\n'
check_bad "a relative path" 3 '[cnwd]\n\nstate_dir = var/lib/cnw\n'
check_bad "a key given twice" 3 '[cnwd]\nlog_level = info\nlog_level = debug\n'
check_bad "a bad listen port" 2 '[api]\nlisten = 127.0.0.1:70000\n'
check_bad "a listen without a port" 2 '[api]\nlisten = 127.0.0.1\n'
check_bad "tls_cert without tls_key" 2 "[api]\ntls_cert = $T/good.conf\n"
check_bad "an unreadable tls_key" 3 "[api]\ntls_cert = $T/good.conf\ntls_key = $T/nonexistent.pem\n"
printf '[cnwd]\nlog_level = chatty\nfrob = 1\n' >"$T/bad.conf"
"$CNWD" --check --config "$T/bad.conf" >/dev/null 2>"$T/check.err"
is "$?:$(grep -c "^$T/bad.conf:[23]: " "$T/check.err")" "1:2" "--check reports every error, each with its FILE:LINE"
"$CNWD" --check --config "$T/nonexistent.conf" >/dev/null 2>"$T/check.err"
is "$?" 1 "--check on a missing --config file: exit 1"
"$CNWD" --bogus >/dev/null 2>&1
is "$?" 2 "an unknown option: exit 2"

# SIGINT -------------------------------------------------------------------------------

before=$(tenant_list)
child=$(api_child_pid)
if cnwd_stop INT; then ok "SIGINT: cnwd exits with 0"; else not_ok "SIGINT: cnwd exits with 0" "exit $CNWD_EXIT"; fi
[ ! -e "$SOCK" ] && ok "SIGINT: the socket file is removed" || not_ok "SIGINT: the socket file is removed"
wait_gone "$child" 2 && ok "SIGINT: the API child is gone" || not_ok "SIGINT: the API child is gone"
like "$(tail -n 3 "$CNWD_LOG")" 'stopped' "SIGINT: 'stopped' is logged"

# kill -9 of cnwd itself, then a restart on the same directories -----------------------

if cnwd_start --config "$CONF"; then ok "cnwd starts after SIGINT"; else not_ok "cnwd starts after SIGINT"; fi
is "$(tenant_list)" "$before" "after SIGINT and a start: the same tenants"
child=$(api_child_pid)
code=$(api POST /v1/tenants '{"name":"last","description":"made just before kill -9"}' "$ADMIN")
is "$code" 201 "a tenant made just before kill -9: 201"
before=$(tenant_list)
cnwd_stop KILL
is "$CNWD_EXIT" 137 "kill -9 of cnwd: killed (status 137)"
wait_gone "$child" 2 && ok "kill -9 of cnwd: its API child dies with it" || not_ok "kill -9 of cnwd: its API child dies with it" "pid $child"
[ -S "$SOCK" ] && ok "kill -9 of cnwd leaves a stale socket file (the restart must cope)" ||
    ok "kill -9 of cnwd: no socket file left # SKIP nothing stale to cope with"
if cnwd_start --config "$CONF"; then
	ok "cnwd starts on the same directories after kill -9 (stale socket, lock released)"
else
	not_ok "cnwd starts on the same directories after kill -9 (stale socket, lock released)"
fi
is "$(tenant_list)" "$before" "after kill -9 and a restart: every tenant is still there, the last one included"
is "$(sql 'pragma integrity_check')" ok "the database passes integrity_check"
is "$ADMIN" "$ADMIN1" "the admin token is still the same"
code=$(api GET /v1/processes "" "$ADMIN")
is "$code:$(json '[(p["role"], p["state"], p["restarts"]) for p in j["items"] if p["role"] == "api"]')" '200:[["api","running",0]]' \
    "after the restart: a fresh API child, 0 restarts"
if cnwd_stop TERM; then ok "the last SIGTERM: exit 0"; else not_ok "the last SIGTERM: exit 0" "exit $CNWD_EXIT"; fi

done_testing
