#!/bin/bash
# The API on TCP with TLS: the self-signed certificate made at first start
# (files, modes, logged fingerprint, reuse), requests over HTTPS, plain HTTP
# refused, the Unix socket unaffected; then a configured certificate, and
# SIGHUP changing the certificate and the port.
set -u
. "$(dirname "$0")/lib.sh"

if ! command -v openssl >/dev/null; then
	echo "1..0 # SKIP openssl is not installed"
	TAP_DONE=1
	exit 0
fi

CONF="$T/cnwd.conf"
PORT=$(free_port)

# fp FILE: the SHA-256 fingerprint of a PEM certificate, AA:BB:... upper case.
fp() {
	openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//'
}

# served_fp PORT: the fingerprint of the certificate served on 127.0.0.1:PORT.
served_fp() {
	timeout 10 openssl s_client -connect "127.0.0.1:$1" </dev/null 2>/dev/null |
	    openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/^.*=//'
}

# logged_fp: the last fingerprint cnwd logged since log_mark.
logged_fp() {
	log_since | grep -o 'fingerprint [0-9A-F:]*' | tail -n 1 | cut -d' ' -f2
}

# https [PORT] [CACERT]: point api() at TLS on 127.0.0.1:PORT.
https() {
	API_TRANSPORT=(--cacert "${2:-$T/state/tls/cert.pem}")
	API_BASE="https://127.0.0.1:${1:-$PORT}"
}

unix() {
	API_TRANSPORT=(--unix-socket "$SOCK")
	API_BASE=http://localhost
}

# tls_answers PORT: GET /v1 answers 200 over TLS on PORT (any cert).
tls_answers() {
	[ "$(curl -s -k -m 2 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$1/v1")" == 200 ]
}

tls_silent() {
	! tls_answers "$1"
}

# wait_tls PORT SECONDS: until tls_answers PORT.
wait_tls() {
	wait_until "$2" tls_answers "$1"
}

# make_cert DIR CN: a self-signed EC P-256 pair for 127.0.0.1 in DIR.
make_cert() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$1/key.pem" -out "$1/cert.pem" -days 2 -subj "/CN=$2" \
	    -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1
}

# Self-signed at first start ---------------------------------------------------------

printf '[api]\nlisten = 127.0.0.1:%s\n' "$PORT" >"$CONF"
log_mark
cnwd_start --config "$CONF" || { not_ok "cnwd starts with listen = 127.0.0.1:$PORT"; done_testing; exit 1; }
ok "cnwd starts with listen = 127.0.0.1:$PORT and no certificate"
wait_for "TLS answers on https://127.0.0.1:$PORT" 5 tls_answers "$PORT"
CERT="$T/state/tls/cert.pem"
KEY="$T/state/tls/key.pem"
[ -s "$CERT" ] && [ -s "$KEY" ] && ok "it made STATE/tls/cert.pem and key.pem" ||
    not_ok "it made STATE/tls/cert.pem and key.pem" "$(ls -la "$T/state" "$T/state/tls" 2>&1)"
is "$(stat -c %a "$KEY" 2>/dev/null)" 600 "key.pem has mode 0600"
is "$(stat -c %a "$T/state/tls" 2>/dev/null)" 700 "STATE/tls has mode 0700"
text=$(openssl x509 -in "$CERT" -noout -text 2>/dev/null)
like "$text" 'prime256v1|P-256' "the certificate is EC P-256"
like "$text" 'IP Address:127\.0\.0\.1' "the certificate names 127.0.0.1"
is "$(openssl pkey -in "$KEY" -pubout 2>/dev/null)" "$(openssl x509 -in "$CERT" -noout -pubkey 2>/dev/null)" \
    "key.pem is the certificate's key"
FP1=$(fp "$CERT")
like "$FP1" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' "openssl reads the certificate's SHA-256 fingerprint"
like "$(log_since)" 'fingerprint' "cnwd logs a fingerprint"
is "$(logged_fp)" "$FP1" "the logged fingerprint is the certificate's (openssl x509 -fingerprint -sha256)"
is "$(served_fp "$PORT")" "$FP1" "the served certificate is STATE/tls/cert.pem"

# Requests over TLS ---------------------------------------------------------------------

tls_child=$(api_child_pid)
https
code=$(api GET /v1)
is "$code:$(json 'j.get("name")')" "200:cnw" "curl --cacert cert.pem https://127.0.0.1:$PORT/v1: 200 (the certificate verifies)"
code=$(api GET /v1/tenants "" "$ADMIN")
is "$code:$(json 'j.get("items")')" "200:[]" "GET /v1/tenants with the admin token over TLS: 200"
code=$(api POST /v1/tenants '{"name":"overtls"}' "$ADMIN")
is "$code" 201 "POST /v1/tenants over TLS: 201"
like "$(sql "select actor from audit where action = 'tenant.create' and object = 'overtls'")" \
    '^admin \(tcp 127\.0\.0\.1:[0-9]+\)$' "the audit row names the TCP peer"
code=$(api GET /v1/tenants)
is "$code:$(problem_check 401)" "401:" "GET /v1/tenants over TLS without a token: 401 problem"
code=$(api GET /v1/tenants "" "$ADMIN" --cacert /dev/null)
is "$code" 000 "a client that does not trust the certificate gets no answer"
unix

code=$(curl -s -m 5 -o "$T/plain.out" -w '%{http_code}' "http://127.0.0.1:$PORT/v1" 2>/dev/null)
if [ "$code" != 200 ] && ! grep -q '"api_version"' "$T/plain.out"; then
	ok "plain HTTP on the TLS port fails (status $code)"
else
	not_ok "plain HTTP on the TLS port fails" "status $code: $(head -c 300 "$T/plain.out")"
fi
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/v1/tenants" 2>/dev/null)
[ "$code" != 200 ] && ok "plain HTTP with the admin token gets nothing either ($code)" ||
    not_ok "plain HTTP with the admin token gets nothing either" "status $code"
https
code=$(api GET /v1)
is "$code" 200 "TLS still answers after the plain HTTP attempts"
unix
code=$(api GET /v1/tenants "" "$ADMIN")
is "$code:$(json '[t["name"] for t in j["items"]]')" '200:["overtls"]' "the Unix socket still works"
is "$(api_child_pid)" "$tls_child" "the API process that served TLS is still the same (plain HTTP did not kill it)"

# Restart: the certificate is reused ----------------------------------------------------

if cnwd_stop; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit 0" "exit $CNWD_EXIT"; fi
log_mark
cnwd_start --config "$CONF" || not_ok "cnwd starts again"
wait_for "TLS answers on https://127.0.0.1:$PORT" 5 tls_answers "$PORT"
is "$(fp "$CERT")" "$FP1" "after a restart STATE/tls/cert.pem is the same certificate"
is "$(served_fp "$PORT"):$(logged_fp)" "$FP1:$FP1" "after a restart the same certificate is served and logged"
if cnwd_stop; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit 0" "exit $CNWD_EXIT"; fi

# A configured certificate --------------------------------------------------------------

make_cert "$T/mine" cnw-test-one
MYFP=$(fp "$T/mine/cert.pem")
like "$MYFP" '^([0-9A-F]{2}:){31}[0-9A-F]{2}$' "openssl made a certificate of our own"
printf '[api]\nlisten = 127.0.0.1:%s\ntls_cert = %s\ntls_key = %s\n' "$PORT" "$T/mine/cert.pem" "$T/mine/key.pem" >"$CONF"
log_mark
if cnwd_start --config "$CONF"; then ok "cnwd starts with tls_cert and tls_key"; else not_ok "cnwd starts with tls_cert and tls_key"; fi
wait_for "TLS answers on https://127.0.0.1:$PORT" 5 tls_answers "$PORT"
is "$(served_fp "$PORT")" "$MYFP" "the served certificate is the configured one"
is "$(logged_fp)" "$MYFP" "the logged fingerprint is the configured certificate's"
https "$PORT" "$T/mine/cert.pem"
code=$(api GET /v1/tenants "" "$ADMIN")
is "$code:$(json '[t["name"] for t in j["items"]]')" '200:["overtls"]' "curl --cacert (our certificate): GET /v1/tenants, 200"
unix
is "$(fp "$CERT")" "$FP1" "the self-signed certificate in STATE/tls is left alone"

# SIGHUP: a new certificate, then a new port ------------------------------------------------

child=$(api_child_pid)
make_cert "$T/mine2" cnw-test-two
MYFP2=$(fp "$T/mine2/cert.pem")
printf '[api]\nlisten = 127.0.0.1:%s\ntls_cert = %s\ntls_key = %s\n' "$PORT" "$T/mine2/cert.pem" "$T/mine2/key.pem" >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_for "cnwd logs the reload" 3 log_has reloaded
if wait_log 'api: started, pid [0-9]+' 5 && ! log_since | grep -q "api: started, pid $child\$"; then
	ok "SIGHUP with a new certificate restarts the API process"
else
	not_ok "SIGHUP with a new certificate restarts the API process" "$(log_since)"
fi
wait_for "TLS answers on https://127.0.0.1:$PORT" 5 tls_answers "$PORT"
got=$(served_fp "$PORT")
if [ "$got" == "$MYFP2" ]; then
	ok "SIGHUP with a new tls_cert/tls_key: the new certificate is served on the same port"
else
	not_ok "SIGHUP with a new tls_cert/tls_key: the new certificate is served on the same port" \
	    "served: '${got}'" "wanted: $MYFP2" "log: $(log_since)"
fi
unix
code=$(api GET /v1 "")
is "$code" 200 "the Unix socket works after the reload"

PORT2=$(free_port)
printf '[api]\nlisten = 127.0.0.1:%s\ntls_cert = %s\ntls_key = %s\n' "$PORT2" "$T/mine2/cert.pem" "$T/mine2/key.pem" >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_for "cnwd logs the reload" 3 log_has reloaded
if wait_tls "$PORT2" 5 && [ "$(served_fp "$PORT2")" == "$MYFP2" ]; then
	ok "SIGHUP with a new listen port: TLS is served on the new port"
else
	not_ok "SIGHUP with a new listen port: TLS is served on the new port" "log: $(log_since)"
fi
# The old port closes with the API child that held it.
wait_until 3 tls_silent "$PORT"
code=$(curl -s -k -m 3 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT/v1")
[ "$code" != 200 ] && ok "the old port no longer answers" || not_ok "the old port no longer answers" "status $code"

printf '[cnwd]\nlog_level = info\n' >"$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_for "cnwd logs the reload" 3 log_has reloaded
wait_until 3 tls_silent "$PORT2"
code=$(curl -s -k -m 3 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$PORT2/v1")
[ "$code" != 200 ] && ok "SIGHUP without listen: TCP is off" || not_ok "SIGHUP without listen: TCP is off" "status $code"
code=$(api GET /v1/tenants "" "$ADMIN")
is "$code" 200 "the Unix socket still works"

# A key that is not the certificate's: refused by --check and by a reload.
printf 'not a key\n' >"$T/garbage.pem"
printf '[api]\nlisten = 127.0.0.1:%s\ntls_cert = %s\ntls_key = %s\n' "$PORT2" "$T/mine2/cert.pem" "$T/garbage.pem" >"$T/badkey.conf"
out=$("$CNWD" --check --config "$T/badkey.conf" 2>&1)
is "$?" 1 "--check with a tls_key that is not a key: exit 1"
like "$out" "^$T/badkey.conf:4: $T/garbage.pem is not a PEM private key" "and it says which line and why"
printf '[api]\nlisten = 127.0.0.1:%s\ntls_cert = %s\ntls_key = %s\n' "$PORT2" "$T/mine2/cert.pem" "$T/mine/key.pem" >"$T/wrongkey.conf"
out=$("$CNWD" --check --config "$T/wrongkey.conf" 2>&1)
like "$out" "is not the key of $T/mine2/cert.pem" "--check with the key of another certificate says so"
cp "$T/badkey.conf" "$CONF"
log_mark
kill -HUP "$CNWD_PID"
wait_log 'keeping the running configuration' 3 && ok "SIGHUP to a bad key keeps the running configuration" ||
    not_ok "SIGHUP to a bad key keeps the running configuration" "$(log_since)"
# (Nothing to wait for: that line ends the reload, which restarts nothing.)
is "$(api GET /v1/tenants "" "$ADMIN")" 200 "and the Unix socket's API keeps answering"
if cnwd_stop; then ok "SIGTERM: exit 0"; else not_ok "SIGTERM: exit 0" "exit $CNWD_EXIT"; fi

done_testing
