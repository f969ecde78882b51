#!/bin/bash
# The REST API over curl on the Unix socket: tenant CRUD, every kind of bad
# input (status, problem details, and nothing changed), authentication and
# tenant isolation, and that no secret is stored in clear.
set -u
. "$(dirname "$0")/lib.sh"

# Bodies of exactly N bytes: {"name":"big","description":"aaaa..."}.
make_body() {
	"$PY" -c '
import sys
n = int(sys.argv[1])
head, tail = b"{\"name\":\"big\",\"description\":\"", b"\"}"
sys.stdout.buffer.write(head + b"a" * (n - len(head) - len(tail)) + tail)' "$1" >"$2"
}

sha256_upper() {
	printf '%s' "$1" | sha256sum | cut -d' ' -f1 | tr a-f A-F
}

RFC3339='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$'

cnwd_start || { not_ok "cnwd starts and answers GET /v1"; done_testing; exit 1; }
ok "cnwd starts and answers GET /v1"

# GET /v1 ------------------------------------------------------------------

code=$(api GET /v1)
is "$code" 200 "GET /v1 without a token: 200"
is "$(hdr Content-Type)" application/json "GET /v1: Content-Type application/json"
version=$("$CNWD" --version | awk '{print $2}')
is "$(json '[j.get("name"), j.get("version"), j.get("api_version")]')" \
    "[\"cnw\",\"$version\",\"v1\"]" "GET /v1: name cnw, version $version, api_version v1"

# Tenant CRUD --------------------------------------------------------------

t0=$(date -u +%s)
code=$(api POST /v1/tenants '{"name":"acme","description":"ACME corp","quotas":{"networks":4}}' "$ADMIN")
is "$code" 201 "POST /v1/tenants: 201"
is "$(hdr Location)" /v1/tenants/acme "POST: Location /v1/tenants/acme"
is "$(hdr Content-Type)" application/json "POST: Content-Type application/json"
ACME_TOKEN=$(json 'j.get("token", "")')
like "$ACME_TOKEN" '^[0-9a-f]{64}$' "POST: the reply holds a token of 64 lower-case hex"
is "$(json '[j["name"], j["description"], j["quotas"]]')" \
    '["acme","ACME corp",{"bandwidth_kbps":null,"flows":65536,"networks":4}]' \
    "POST: name, description, given quota and the defaults of the others (no bandwidth cap)"
is "$(json 'sorted(j)')" '["created_at","description","name","quotas","token","updated_at"]' \
    "POST: exactly the documented members"
created=$(json 'j["created_at"]')
like "$created" "$RFC3339" "POST: created_at is RFC 3339 UTC"
is "$(json 'j["updated_at"] == j["created_at"]')" true "POST: updated_at equals created_at"
ct=$("$PY" -c 'import calendar, sys, time; print(calendar.timegm(time.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ")))' "$created")
if [ "$ct" -ge $((t0 - 5)) ] && [ "$ct" -le $(($(date -u +%s) + 5)) ]; then
	ok "POST: created_at is now ($created)"
else
	not_ok "POST: created_at is now ($created)" "now is $(date -u +%FT%TZ)"
fi

code=$(api POST /v1/tenants '{"name":"beta"}' "$ADMIN")
is "$code" 201 "POST a second tenant with only a name: 201"
is "$(json '[j["description"], j["quotas"]]')" \
    '["",{"bandwidth_kbps":null,"flows":65536,"networks":16}]' \
    "POST with only a name: empty description, default quotas, bandwidth_kbps null (no cap)"
BETA_TOKEN=$(json 'j.get("token", "")')
[ "$BETA_TOKEN" != "$ACME_TOKEN" ] && ok "each tenant gets its own token" ||
    not_ok "each tenant gets its own token"

code=$(api GET /v1/tenants "" "$ADMIN")
is "$code" 200 "GET /v1/tenants: 200"
is "$(json '[t["name"] for t in j["items"]]')" '["acme","beta"]' "GET /v1/tenants: both, sorted by name"
is "$(json 'any("token" in t for t in j["items"])')" false "GET /v1/tenants never shows a token"
grep -q "$ACME_TOKEN" "$RESP_BODY" && not_ok "the list does not hold the token text" || ok "the list does not hold the token text"

code=$(api GET /v1/tenants/acme "" "$ADMIN")
is "$code" 200 "GET /v1/tenants/acme: 200"
is "$(json '[j["name"], j["description"], j["quotas"]["networks"], j["created_at"], "token" in j]')" \
    "[\"acme\",\"ACME corp\",4,\"$created\",false]" "GET one: the tenant as created, no token"

# Timestamps are to the second: until the clock is past created_at, so that
# updated_at moves.
wait_for "the clock passes created_at ($created)" 3 clock_past "$created"
code=$(api PATCH /v1/tenants/acme '{"description":"ACME, renamed","quotas":{"flows":100}}' "$ADMIN")
is "$code" 200 "PATCH description and one quota: 200"
is "$(json '[j["name"], j["description"], j["quotas"]]')" \
    '["acme","ACME, renamed",{"bandwidth_kbps":null,"flows":100,"networks":4}]' \
    "PATCH: description and flows changed, networks and bandwidth_kbps unchanged"
is "$(json '[j["created_at"], j["updated_at"] > j["created_at"], "token" in j]')" \
    "[\"$created\",true,false]" "PATCH: created_at kept, updated_at later, no token"
code=$(api GET /v1/tenants/acme "" "$ADMIN")
is "$(json '[j["description"], j["quotas"]]')" \
    '["ACME, renamed",{"bandwidth_kbps":null,"flows":100,"networks":4}]' "GET after PATCH: the change is stored"

code=$(api PATCH /v1/tenants/acme '{"quotas":{"networks":4096,"bandwidth_kbps":100000000,"flows":16777216}}' "$ADMIN")
is "$code:$(json 'j.get("quotas")')" '200:{"bandwidth_kbps":100000000,"flows":16777216,"networks":4096}' \
    "PATCH every quota to its maximum: 200"
code=$(api PATCH /v1/tenants/acme '{"quotas":{"networks":0,"bandwidth_kbps":0,"flows":0}}' "$ADMIN")
is "$code:$(json 'j.get("quotas")')" '200:{"bandwidth_kbps":0,"flows":0,"networks":0}' \
    "PATCH every quota to 0: 200"
code=$(api PATCH /v1/tenants/acme '{}' "$ADMIN")
is "$code:$(json '[j.get("description"), j.get("quotas")]')" \
    '200:["ACME, renamed",{"bandwidth_kbps":0,"flows":0,"networks":0}]' "PATCH with {} changes nothing: 200"
code=$(api PATCH /v1/tenants/acme '{"quotas":{"bandwidth_kbps":null}}' "$ADMIN")
is "$code:$(json 'j.get("quotas")')" '200:{"bandwidth_kbps":null,"flows":0,"networks":0}' \
    "PATCH bandwidth_kbps back to null (no cap): 200"
code=$(api PATCH /v1/tenants/acme '{"quotas":{"networks":4,"bandwidth_kbps":1000000,"flows":100}}' "$ADMIN")

code=$(api POST /v1/tenants "{\"name\":\"a$(printf 'b%.0s' {1..30})\",\"description\":\"$(printf 'd%.0s' {1..255})\"}" "$ADMIN")
is "$code" 201 "POST a 31-character name and a 255-byte description: 201"
code=$(api DELETE "/v1/tenants/a$(printf 'b%.0s' {1..30})" "" "$ADMIN")
is "$code" 204 "DELETE it: 204"
code=$(api POST /v1/tenants '{"name":"utf","description":"caf\u00e9 \u2603 \ud83d\ude00"}' "$ADMIN")
is "$code:$(json 'j.get("description")')" "201:café ☃ 😀" "POST a description with multi-byte UTF-8: 201, kept as sent"
code=$(api DELETE /v1/tenants/utf "" "$ADMIN")

code=$(api DELETE /v1/tenants/beta "" "$ADMIN")
is "$code" 204 "DELETE /v1/tenants/beta: 204"
is "$(wc -c <"$RESP_BODY")" 0 "DELETE: empty body"
code=$(api GET /v1/tenants/beta "" "$ADMIN")
is "$code" 404 "GET after DELETE: 404"
is "$(problem_check 404)" "" "GET after DELETE: a not-found problem"
code=$(api GET /v1/tenants "" "$ADMIN")
is "$(json '[t["name"] for t in j["items"]]')" '["acme"]' "the list no longer holds beta"
code=$(api GET /v1/tenants "" "$BETA_TOKEN")
is "$code" 401 "the deleted tenant's token answers 401"

is "$(sql "select group_concat(action, ',') from (select action from audit where object in ('acme','beta') order by id)")" \
    "tenant.create,tenant.create,tenant.update,tenant.update,tenant.update,tenant.update,tenant.update,tenant.update,tenant.delete" \
    "the audit table holds one row per change"
like "$(sql "select actor from audit where action = 'tenant.create' and object = 'acme'")" \
    '^admin \(unix uid=0 pid=[0-9]+\)$' "the audit row names the admin and the caller's uid and pid"

# Bad input: status, problem, nothing changed ---------------------------------

DETAIL='malformed JSON' reject "POST malformed JSON" 400 POST /v1/tenants '{"name": "x",' "$ADMIN"
DETAIL='malformed JSON' reject "POST a body that is not JSON" 400 POST /v1/tenants 'name=x' "$ADMIN"
reject "POST an empty body" 400 POST /v1/tenants '' "$ADMIN"
DETAIL='object' reject "POST a JSON array" 400 POST /v1/tenants '[{"name":"x"}]' "$ADMIN"
reject "POST a JSON string" 400 POST /v1/tenants '"x"' "$ADMIN"
reject "POST JSON null" 400 POST /v1/tenants 'null' "$ADMIN"
reject "POST an object and trailing garbage" 400 POST /v1/tenants '{"name":"x"} {}' "$ADMIN"
reject "POST a duplicate key" 400 POST /v1/tenants '{"name":"x","name":"y"}' "$ADMIN"
DETAIL='unknown field "colour"' reject "POST an unknown field" 400 POST /v1/tenants '{"name":"x","colour":"red"}' "$ADMIN"
DETAIL='quotas\.cpus' reject "POST a nested unknown quota field" 400 POST /v1/tenants '{"name":"x","quotas":{"networks":1,"cpus":2}}' "$ADMIN"
DETAIL='required' reject "POST without name" 400 POST /v1/tenants '{"description":"no name"}' "$ADMIN"
DETAIL='"name"' reject "POST name as a number" 400 POST /v1/tenants '{"name":42}' "$ADMIN"
reject "POST name null" 400 POST /v1/tenants '{"name":null}' "$ADMIN"
reject "POST description as a number" 400 POST /v1/tenants '{"name":"x","description":7}' "$ADMIN"
reject "POST quotas as an array" 400 POST /v1/tenants '{"name":"x","quotas":[1]}' "$ADMIN"
DETAIL='quotas\.networks' reject "POST quotas.networks as a string" 400 POST /v1/tenants '{"name":"x","quotas":{"networks":"4"}}' "$ADMIN"
DETAIL='quotas\.networks' reject "POST quotas.networks as 1.5" 400 POST /v1/tenants '{"name":"x","quotas":{"networks":1.5}}' "$ADMIN"
reject "POST quotas.networks as 2.0" 400 POST /v1/tenants '{"name":"x","quotas":{"networks":2.0}}' "$ADMIN"
DETAIL='networks' reject "POST quotas.networks negative" 400 POST /v1/tenants '{"name":"x","quotas":{"networks":-1}}' "$ADMIN"
reject "POST quotas.flows as true" 400 POST /v1/tenants '{"name":"x","quotas":{"flows":true}}' "$ADMIN"
reject "POST a quota beyond 64 bits" 400 POST /v1/tenants '{"name":"x","quotas":{"flows":99999999999999999999}}' "$ADMIN"
reject "POST a quota of -2^63" 400 POST /v1/tenants '{"name":"x","quotas":{"flows":-9223372036854775808}}' "$ADMIN"
for bad in Acme 1acme -acme "$(printf 'a%.0s' {1..32})" "" "a/b" "a b" "a_b" "a.b" "café" "acme\\n"; do
	DETAIL='name must match' reject "POST name \"$bad\"" 400 POST /v1/tenants "{\"name\":\"$bad\"}" "$ADMIN"
done
reject "POST name with an escaped NUL" 400 POST /v1/tenants '{"name":"acme\u0000x"}' "$ADMIN"
DETAIL='255' reject "POST a description of 256 bytes" 400 POST /v1/tenants "{\"name\":\"x\",\"description\":\"$(printf 'd%.0s' {1..256})\"}" "$ADMIN"
DETAIL='255' reject "POST a description of 128 two-byte characters (256 bytes)" 400 POST /v1/tenants "{\"name\":\"x\",\"description\":\"$(printf 'é%.0s' {1..128})\"}" "$ADMIN"
DETAIL='control' reject "POST a description with a tab" 400 POST /v1/tenants '{"name":"x","description":"a\tb"}' "$ADMIN"
DETAIL='control' reject "POST a description with ESC" 400 POST /v1/tenants '{"name":"x","description":"a\u001b[2Jb"}' "$ADMIN"
reject "POST a description with DEL" 400 POST /v1/tenants '{"name":"x","description":"a\u007fb"}' "$ADMIN"
reject "POST a description with a lone surrogate" 400 POST /v1/tenants '{"name":"x","description":"a\ud800b"}' "$ADMIN"
DETAIL='networks' reject "POST quotas.networks 4097" 400 POST /v1/tenants '{"name":"x","quotas":{"networks":4097}}' "$ADMIN"
DETAIL='bandwidth_kbps' reject "POST quotas.bandwidth_kbps 100000001" 400 POST /v1/tenants '{"name":"x","quotas":{"bandwidth_kbps":100000001}}' "$ADMIN"
DETAIL='or null' reject "POST quotas.bandwidth_kbps -1" 400 POST /v1/tenants '{"name":"x","quotas":{"bandwidth_kbps":-1}}' "$ADMIN"
DETAIL='integer or null' reject "POST quotas.bandwidth_kbps \"none\"" 400 POST /v1/tenants '{"name":"x","quotas":{"bandwidth_kbps":"none"}}' "$ADMIN"
DETAIL='must be an integer' reject "POST quotas.flows null (only bandwidth may be none)" 400 POST /v1/tenants '{"name":"x","quotas":{"flows":null}}' "$ADMIN"
DETAIL='flows' reject "POST quotas.flows 16777217" 400 POST /v1/tenants '{"name":"x","quotas":{"flows":16777217}}' "$ADMIN"
DETAIL='already exists' reject "POST a duplicate name" 409 POST /v1/tenants '{"name":"acme"}' "$ADMIN"
reject "POST a duplicate name with other fields" 409 POST /v1/tenants '{"name":"acme","description":"other","quotas":{"networks":1}}' "$ADMIN"

DETAIL='control' reject "PATCH a description with a control character" 400 PATCH /v1/tenants/acme '{"description":"x\u0001"}' "$ADMIN"
reject "PATCH a quota over its max" 400 PATCH /v1/tenants/acme '{"quotas":{"networks":5000}}' "$ADMIN"
reject "PATCH one good and one bad quota" 400 PATCH /v1/tenants/acme '{"quotas":{"flows":1,"networks":-1}}' "$ADMIN"
reject "PATCH an unknown field" 400 PATCH /v1/tenants/acme '{"owner":"x"}' "$ADMIN"
reject "PATCH malformed JSON" 400 PATCH /v1/tenants/acme '{' "$ADMIN"
reject "PATCH an empty body" 400 PATCH /v1/tenants/acme '' "$ADMIN"
DETAIL='name' reject "PATCH with \"name\"" 400 PATCH /v1/tenants/acme '{"name":"renamed"}' "$ADMIN"
reject "PATCH with \"name\" equal to the current one" 400 PATCH /v1/tenants/acme '{"name":"acme","description":"x"}' "$ADMIN"

DETAIL='not found' reject "GET a missing tenant" 404 GET /v1/tenants/nosuch "" "$ADMIN"
DETAIL='not found' reject "PATCH a missing tenant" 404 PATCH /v1/tenants/nosuch '{"description":"x"}' "$ADMIN"
DETAIL='not found' reject "DELETE a missing tenant" 404 DELETE /v1/tenants/nosuch "" "$ADMIN"
reject "GET a tenant name of 200 characters" 404 GET "/v1/tenants/$(printf 'a%.0s' {1..200})" "" "$ADMIN"

reject "PUT /v1/tenants" 405 PUT /v1/tenants '{"name":"x"}' "$ADMIN"
is "$(hdr Allow "$T/rej.headers" | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)" "GET,POST" "PUT /v1/tenants: Allow lists GET and POST"
reject "DELETE /v1/tenants" 405 DELETE /v1/tenants "" "$ADMIN"
is "$(hdr Allow "$T/rej.headers" | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)" "GET,POST" "DELETE /v1/tenants: Allow lists GET and POST"
reject "POST /v1/processes" 405 POST /v1/processes '{}' "$ADMIN"
is "$(hdr Allow "$T/rej.headers")" "GET" "POST /v1/processes: Allow: GET"
reject "PUT /v1/tenants/acme" 405 PUT /v1/tenants/acme '{"description":"x"}' "$ADMIN"
is "$(hdr Allow "$T/rej.headers" | tr -d ' ' | tr ',' '\n' | sort | paste -sd,)" "DELETE,GET,PATCH" "PUT /v1/tenants/acme: Allow lists GET, PATCH and DELETE"
reject "POST /v1" 405 POST /v1 '{}' "$ADMIN"
is "$(hdr Allow "$T/rej.headers")" "GET" "POST /v1: Allow: GET"

reject "GET an unknown route" 404 GET /v1/nosuch "" "$ADMIN"
reject "GET /v2" 404 GET /v2 "" "$ADMIN"
reject "GET below a tenant" 404 GET /v1/tenants/acme/nosuch "" "$ADMIN"
reject "POST an unknown route" 404 POST /v1/nosuch '{"name":"x"}' "$ADMIN"

api_pid_before=$(api_child_pid)
make_body $((1024 * 1024 + 1)) "$T/big.json"
DETAIL='larger' reject "POST a body of 1 MiB + 1 byte (Content-Length)" 413 POST /v1/tenants "@$T/big.json" "$ADMIN"
DETAIL='larger' reject "POST a body of 1 MiB + 1 byte (Content-Length, no Expect)" 413 POST /v1/tenants "@$T/big.json" "$ADMIN" -H 'Expect:'
DETAIL='larger' reject "POST a body of 1 MiB + 1 byte (chunked)" 413 POST /v1/tenants "@$T/big.json" "$ADMIN" -H 'Transfer-Encoding: chunked'
make_body $((3 * 1024 * 1024)) "$T/big3.json"
reject "POST a body of 3 MiB (chunked)" 413 POST /v1/tenants "@$T/big3.json" "$ADMIN" -H 'Transfer-Encoding: chunked'
reject "PATCH a body of 1 MiB + 1 byte" 413 PATCH /v1/tenants/acme "@$T/big.json" "$ADMIN"
make_body $((1024 * 1024)) "$T/max.json"
DETAIL='description' reject "POST a body of exactly 1 MiB (read whole; its description is too long)" 400 POST /v1/tenants "@$T/max.json" "$ADMIN"
code=$(api GET /v1 "")
is "$code" 200 "the API still answers after the large bodies"
got="" want=""
for size in 65536 262144 524288 1048576; do
	make_body "$size" "$T/anon.json"
	got="$got $size:$(api POST /v1/tenants "@$T/anon.json")"
	want="$want $size:401"
	wait_api 10
done
is "$got" "$want" "POSTs of 64 KiB, 256 KiB, 512 KiB and 1 MiB without a token each answer 401"
api_pid_after=$(api_child_pid)
is "$api_pid_after:$(json '[p["restarts"] for p in j["items"] if p["role"] == "api"][0]')" "$api_pid_before:0" \
    "large bodies (64 KiB to 3 MiB, with and without a token) do not kill the API process (same pid, 0 restarts)"
[ "$api_pid_after" != "$api_pid_before" ] && diag "$(grep -E 'api: (killed|exited)' "$CNWD_LOG")"

DETAIL='JSON' reject "POST with Content-Type text/plain" 415 POST /v1/tenants '{"name":"plain"}' "$ADMIN" -H 'Content-Type: text/plain'
reject "POST with Content-Type application/jsonx" 415 POST /v1/tenants '{"name":"plain"}' "$ADMIN" -H 'Content-Type: application/jsonx'
reject "POST with Content-Type application/x-www-form-urlencoded" 415 POST /v1/tenants '{"name":"plain"}' "$ADMIN" -H 'Content-Type: application/x-www-form-urlencoded'
reject "PATCH with Content-Type text/plain" 415 PATCH /v1/tenants/acme '{"description":"plain"}' "$ADMIN" -H 'Content-Type: text/plain'
code=$(api POST /v1/tenants '{"name":"charset"}' "$ADMIN" -H 'Content-Type: application/json; charset=utf-8')
is "$code" 201 "POST with Content-Type application/json; charset=utf-8: 201"
code=$(api POST /v1/tenants '{"name":"notype"}' "$ADMIN" -H 'Content-Type:')
is "$code" 201 "POST without a Content-Type: 201"
api DELETE /v1/tenants/charset "" "$ADMIN" >/dev/null
api DELETE /v1/tenants/notype "" "$ADMIN" >/dev/null

DETAIL='foo' reject "GET /v1/tenants?foo=1" 400 GET '/v1/tenants?foo=1' "" "$ADMIN"
reject "GET /v1/tenants/acme?cascade=true (not a parameter of GET)" 400 GET '/v1/tenants/acme?cascade=true' "" "$ADMIN"
reject "DELETE with an unknown query parameter" 400 DELETE '/v1/tenants/acme?force=true' "" "$ADMIN"
DETAIL='cascade' reject "DELETE ?cascade=maybe" 400 DELETE '/v1/tenants/acme?cascade=maybe' "" "$ADMIN"
reject "DELETE ?cascade= (empty)" 400 DELETE '/v1/tenants/acme?cascade=' "" "$ADMIN"
reject "DELETE ?cascade=1" 400 DELETE '/v1/tenants/acme?cascade=1' "" "$ADMIN"

# Authentication -------------------------------------------------------------

NOWHERE=$(printf '0123456789abcdef%.0s' 1 2 3 4)
reject "GET /v1/tenants without a token" 401 GET /v1/tenants
is "$(hdr WWW-Authenticate "$T/rej.headers")" 'Bearer realm="cnw"' "401 without a token: WWW-Authenticate: Bearer realm=\"cnw\""
reject "POST /v1/tenants without a token" 401 POST /v1/tenants '{"name":"anon"}'
reject "GET /v1/processes without a token" 401 GET /v1/processes
reject "DELETE a tenant without a token" 401 DELETE /v1/tenants/acme
DETAIL='unknown' reject "GET /v1/tenants with an unknown 64-hex token" 401 GET /v1/tenants "" "$NOWHERE"
is "$(hdr WWW-Authenticate "$T/rej.headers")" 'Bearer realm="cnw"' "401 with an unknown token: WWW-Authenticate"
reject "POST /v1/tenants with an unknown token" 401 POST /v1/tenants '{"name":"anon"}' "$NOWHERE"
reject "GET with a malformed token (short)" 401 GET /v1/tenants "" "abc"
is "$(hdr WWW-Authenticate "$T/rej.headers")" 'Bearer realm="cnw"' "401 with a malformed token: WWW-Authenticate"
reject "GET with the admin token in upper case" 401 GET /v1/tenants "" "$(printf '%s' "$ADMIN" | tr a-f A-F)"
reject "GET with the admin token and one more character" 401 GET /v1/tenants "" "${ADMIN}0"
reject "GET with the admin token less its last character" 401 GET /v1/tenants "" "${ADMIN%?}"
reject "GET with the admin token as Basic credentials" 401 GET /v1/tenants "" "" -H "Authorization: Basic $ADMIN"
reject "DELETE with the admin token after a space" 401 DELETE /v1/tenants/acme "" "" -H "Authorization: Bearer$ADMIN"
code=$(api GET /v1/tenants "" "" -H "Authorization: bearer $ADMIN")
is "$code" 200 "the scheme name is case-insensitive (bearer): 200"

# Tenant isolation -------------------------------------------------------------

code=$(api POST /v1/tenants '{"name":"ta","description":"tenant A"}' "$ADMIN")
TA=$(json 'j.get("token", "")')
code=$(api POST /v1/tenants '{"name":"tb","description":"tenant B"}' "$ADMIN")
TB=$(json 'j.get("token", "")')
code=$(api GET /v1/tenants "" "$TA")
is "$code:$(json '[t["name"] for t in j["items"]]')" '200:["ta"]' "tenant A: GET /v1/tenants lists only A"
code=$(api GET /v1/tenants/ta "" "$TA")
is "$code:$(json 'j.get("name")')" "200:ta" "tenant A: GET /v1/tenants/ta: 200"
is "$(json '"token" in j')" false "tenant A: its own tenant without a token"
code=$(api GET /v1/tenants/tb "" "$TA")
other=$(json '[j.get("type"), j.get("title"), j.get("status"), j.get("detail", "").replace("tb", "NAME")]')
code2=$(api GET /v1/tenants/tz "" "$TA")
missing=$(json '[j.get("type"), j.get("title"), j.get("status"), j.get("detail", "").replace("tz", "NAME")]')
is "$code" 404 "tenant A: GET /v1/tenants/tb: 404"
is "$code2:$other" "404:$missing" "tenant A: another tenant answers exactly as a missing one"
reject "tenant A: PATCH B" 404 PATCH /v1/tenants/tb '{"description":"mine now"}' "$TA"
reject "tenant A: DELETE B" 404 DELETE /v1/tenants/tb "" "$TA"
reject "tenant A: PATCH A" 403 PATCH /v1/tenants/ta '{"quotas":{"networks":4096}}' "$TA"
reject "tenant A: DELETE A" 403 DELETE /v1/tenants/ta "" "$TA"
reject "tenant A: POST /v1/tenants" 403 POST /v1/tenants '{"name":"tc"}' "$TA"
reject "tenant A: POST /v1/tenants with B's name" 403 POST /v1/tenants '{"name":"tb"}' "$TA"
reject "tenant A: GET /v1/processes" 403 GET /v1/processes "" "$TA"
code=$(api GET /v1/tenants/tb "" "$TB")
is "$code:$(json 'j.get("description")')" "200:tenant B" "tenant B still sees itself"
code=$(api DELETE /v1/tenants/ta "" "$ADMIN")
is "$code" 204 "the admin deletes A: 204"
reject "tenant A's token after A is deleted: GET /v1/tenants" 401 GET /v1/tenants "" "$TA"
reject "tenant A's token after A is deleted: GET /v1/tenants/ta" 401 GET /v1/tenants/ta "" "$TA"
code=$(api POST /v1/tenants '{"name":"ta"}' "$ADMIN")
is "$code" 201 "a new tenant named A: 201"
TA2=$(json 'j.get("token", "")')
[ "$TA2" != "$TA" ] && ok "the new A has a new token" || not_ok "the new A has a new token"
reject "the old A's token does not work for the new A" 401 GET /v1/tenants/ta "" "$TA"
is "$(sql "select count(*) from tokens where kind = 'tenant' and tenant_id not in (select id from tenants)")" 0 \
    "no token row outlives its tenant"

# Secrets -----------------------------------------------------------------------

sql 'pragma wal_checkpoint(passive)' >/dev/null
found=0
for tok in "$ADMIN" "$ACME_TOKEN" "$BETA_TOKEN" "$TA" "$TB" "$TA2"; do
	n=$(cat "$T/state"/cnw.db* | grep -a -c "$tok")
	[ "$n" -ne 0 ] && { found=1; diag "a token appears $n times in cnw.db*"; }
done
[ $found -eq 0 ] && ok "no token is in the database files (cnw.db, -wal, -shm) in clear" ||
    not_ok "no token is in the database files (cnw.db, -wal, -shm) in clear" "$(ls -la "$T/state")"
ls "$T/state"/cnw.db-wal >/dev/null 2>&1 && ok "the database is in WAL mode (cnw.db-wal exists)" ||
    not_ok "the database is in WAL mode (cnw.db-wal exists)"
found=0
for tok in "$ADMIN" "$ACME_TOKEN" "$TA" "$TB" "$TA2"; do
	grep -q "$tok" "$CNWD_LOG" && found=1
done
[ $found -eq 0 ] && ok "no token is in the cnwd log" || not_ok "no token is in the cnwd log"
is "$(stat -c %a "$ADMIN_TOKEN_FILE")" 600 "admin.token has mode 0600"
is "$(stat -c %a "$T/state")" 700 "the state directory has mode 0700"
like "$(cat "$ADMIN_TOKEN_FILE")" '^[0-9a-f]{64}$' "admin.token holds 64 lower-case hex"
is "$(sql "select hex(hash) from tokens where kind = 'admin'")" "$(sha256_upper "$ADMIN")" \
    "the database holds the SHA-256 of the admin token"
is "$(sql "select hex(k.hash) from tokens k join tenants t on t.id = k.tenant_id where t.name = 'tb'")" \
    "$(sha256_upper "$TB")" "the database holds the SHA-256 of tenant B's token"
is "$(sql "select count(*) from tokens")" 4 "one token row per tenant and one for the admin"

done_testing
