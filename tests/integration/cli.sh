#!/bin/bash
# cnwctl against a running cnwd: every command in table and JSON output,
# API errors (exit 1, "cnwctl: DETAIL" on stderr), usage errors (exit 2),
# $CNW_TOKEN and $CNW_SOCKET.
set -u
. "$(dirname "$0")/lib.sh"

# ctl, out, err, field and table_rows: lib.sh.

# raw ARGS...: cnwctl with only the given arguments (captured as ctl does).
raw() {
	"$CNWCTL" "$@" >"$T/ctl.out" 2>"$T/ctl.err" </dev/null
	RC=$?
}

cnwd_start || { not_ok "cnwd starts"; done_testing; exit 1; }
ok "cnwd starts"
version=$("$CNWD" --version | awk '{print $2}')

# version --------------------------------------------------------------------

ctl version
is "$RC:$(out)" "0:cnw $version (API v1)" "cnwctl version: cnw $version (API v1)"
ctl -o json version
is "$RC:$(json '[j["name"], j["version"], j["api_version"]]' "$T/ctl.out")" "0:[\"cnw\",\"$version\",\"v1\"]" \
    "cnwctl -o json version: the API's JSON"
raw --socket "$SOCK" --token-file "$T/nonexistent" version
is "$RC:$(out)" "0:cnw $version (API v1)" "cnwctl version needs no token"

# tenant create --------------------------------------------------------------

ctl tenant create acme --description "ACME corp" --networks 8 --flows 1000
is "$RC" 0 "tenant create: exit 0"
is "$(err)" "" "tenant create: nothing on stderr"
is "$(field name):$(field description):$(field networks):$(field bandwidth_kbps):$(field flows)" \
    "acme:ACME corp:8:-:1000" "tenant create: name, description and quotas as given or default ('-': no bandwidth cap)"
like "$(field created_at)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' "tenant create: created_at"
ACME_TOKEN=$(field token)
like "$ACME_TOKEN" '^[0-9a-f]{64}$' "tenant create: prints the token"
like "$(tail -n 1 "$T/ctl.out")" 'token.*(only once|not shown again)' "tenant create: a last line says the token is shown once"
code=$(api GET /v1/tenants/acme "" "$ACME_TOKEN")
is "$code" 200 "the printed token is acme's token"

ctl -o json tenant create beta
is "$RC" 0 "-o json tenant create: exit 0"
is "$(json '[j["name"], j["description"], j["quotas"], bool(re.fullmatch("[0-9a-f]{64}", j["token"]))]' "$T/ctl.out")" \
    '["beta","",{"bandwidth_kbps":null,"flows":65536,"networks":16},true]' \
    "-o json tenant create: the API's JSON with the token"
grep -q '^  "' "$T/ctl.out" && ok "-o json is pretty-printed" || not_ok "-o json is pretty-printed" "$(out)"

ctl tenant create gamma --bandwidth-kbps 0 --networks 0 --flows 0
is "$RC:$(field networks):$(field bandwidth_kbps):$(field flows)" "0:0:0:0" "tenant create with every quota 0"

# tenant list ----------------------------------------------------------------

api GET /v1/tenants "" "$ADMIN" >/dev/null
cp "$RESP_BODY" "$T/api-list.json"
created_of() {
	json "[t['created_at'] for t in j['items'] if t['name'] == '$1'][0]" "$T/api-list.json"
}
acme_created=$(created_of acme)
ctl tenant list
is "$RC" 0 "tenant list: exit 0"
rows=$(table_rows)
is "$(printf '%s' "$rows" | "$PY" -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))' 2>&1)" \
    '["NAME", "DESCRIPTION", "NETWORKS", "BANDWIDTH_KBPS", "FLOWS", "CREATED"]' "tenant list: the header line"
is "$rows" "[[\"NAME\", \"DESCRIPTION\", \"NETWORKS\", \"BANDWIDTH_KBPS\", \"FLOWS\", \"CREATED\"], [\"acme\", \"ACME corp\", \"8\", \"-\", \"1000\", \"$acme_created\"], [\"beta\", \"-\", \"16\", \"-\", \"65536\", \"$(created_of beta)\"], [\"gamma\", \"-\", \"0\", \"0\", \"0\", \"$(created_of gamma)\"]]" \
    "tenant list: aligned columns, one row per tenant sorted by name, '-' for an empty description"
ctl -o json tenant list
is "$RC:$(json 'j' "$T/ctl.out")" "0:$(json 'j' "$T/api-list.json")" "-o json tenant list: exactly GET /v1/tenants"

# tenant show ----------------------------------------------------------------

ctl tenant show acme
is "$RC" 0 "tenant show: exit 0"
is "$(sed 's/:.*//' "$T/ctl.out" | paste -sd,)" "name,description,networks,bandwidth_kbps,flows,created_at,updated_at" \
    "tenant show: one line per field, no token"
is "$(field name):$(field description):$(field networks):$(field created_at)" "acme:ACME corp:8:$acme_created" \
    "tenant show: the values"
ctl -o json tenant show acme
api GET /v1/tenants/acme "" "$ADMIN" >/dev/null
is "$RC:$(json 'j' "$T/ctl.out")" "0:$(json 'j')" "-o json tenant show: exactly GET /v1/tenants/acme"

# tenant update --------------------------------------------------------------

ctl tenant update acme --description "ACME, new" --networks 9
is "$RC" 0 "tenant update: exit 0"
is "$(field description):$(field networks):$(field bandwidth_kbps):$(field flows):$(field created_at)" \
    "ACME, new:9:-:1000:$acme_created" "tenant update: given fields changed, the others kept"
ctl -o json tenant update acme --bandwidth-kbps 5
is "$RC:$(json '[j["description"], j["quotas"]]' "$T/ctl.out")" \
    '0:["ACME, new",{"bandwidth_kbps":5,"flows":1000,"networks":9}]' "-o json tenant update: only bandwidth_kbps changed"
ctl -o json tenant update acme --bandwidth-kbps none
is "$RC:$(json 'j["quotas"]' "$T/ctl.out")" '0:{"bandwidth_kbps":null,"flows":1000,"networks":9}' \
    "tenant update --bandwidth-kbps none: no cap again (null)"
expect_fail "tenant update --flows none (only bandwidth may be none)" 2 '^cnwctl: --flows: .none. is not a whole non-negative number$' tenant update acme --flows none
expect_fail "tenant update --bandwidth-kbps -5" 2 '^cnwctl: --bandwidth-kbps: .-5. is not a whole non-negative number or "none"$' tenant update acme --bandwidth-kbps -5
ctl tenant update acme --description ""
is "$RC:$(field description)" "0:-" "tenant update --description '' empties it"
api GET /v1/tenants/acme "" "$ADMIN" >/dev/null
is "$(json 'j["description"]')" "" "the empty description is stored"

# tenant delete --------------------------------------------------------------

ctl tenant delete beta
is "$RC:$(out)" "0:deleted tenant beta" "tenant delete: exit 0, 'deleted tenant beta'"
code=$(api GET /v1/tenants/beta "" "$ADMIN")
is "$code" 404 "the tenant is gone"
ctl -o json tenant delete gamma
is "$RC:$(out)" "0:" "-o json tenant delete: exit 0, no output"
ctl tenant delete acme --cascade
is "$RC:$(out)" "0:deleted tenant acme" "tenant delete --cascade: exit 0"
ctl tenant create acme --description "ACME again"
ACME_TOKEN=$(field token)

# process list -----------------------------------------------------------------

api_pid=$(api_child_pid)
ctl process list
is "$RC" 0 "process list: exit 0"
rows=$(table_rows)
is "$(printf '%s' "$rows" | "$PY" -c 'import json,sys; r = json.load(sys.stdin); print(json.dumps(r[0]), json.dumps([x for x in r if x[0] == "api"][0][:7]), len(r))' 2>&1)" \
    "[\"ROLE\", \"PID\", \"STATE\", \"RESTARTS\", \"CAPEFF\", \"NNP\", \"SECCOMP\", \"STARTED\"] [\"api\", \"$api_pid\", \"running\", \"0\", \"0000000000000000\", \"yes\", \"2\"] 3" \
    "process list: the api process, running, CapEff 0000000000000000, no_new_privs, seccomp 2"
ctl -o json process list
is "$RC:$(json '[(p["role"], p["pid"], p["state"], p["sandbox"]["cap_eff"], p["sandbox"]["no_new_privs"], p["sandbox"]["seccomp"]) for p in j["items"] if p["role"] == "api"]' "$T/ctl.out")" \
    "0:[[\"api\",$api_pid,\"running\",\"0000000000000000\",true,2]]" "-o json process list: role api with CapEff 0"

# API errors: exit 1, "cnwctl: DETAIL" ----------------------------------------

expect_fail "tenant create of an existing name" 1 '^cnwctl: tenant "acme" already exists$' tenant create acme
expect_fail "tenant show of a missing tenant" 1 '^cnwctl: tenant "nosuch" not found$' tenant show nosuch
expect_fail "tenant update of a missing tenant" 1 '^cnwctl: tenant "nosuch" not found$' tenant update nosuch --flows 1
expect_fail "tenant delete of a missing tenant" 1 '^cnwctl: tenant "nosuch" not found$' tenant delete nosuch
expect_fail "tenant create with an invalid name" 1 '^cnwctl: tenant name must match' tenant create Bad
expect_fail "tenant create with a name holding a space" 1 '^cnwctl: tenant name must match' tenant create "a b"
expect_fail "tenant show of a name holding a space" 1 '^cnwctl: tenant "a b" not found$' tenant show "a b"
expect_fail "tenant update with a quota over its max" 1 '^cnwctl: quota networks must be between 0 and 4096' tenant update acme --networks 5000
expect_fail "tenant create with a description holding a tab" 1 '^cnwctl: description must not contain control characters' tenant create tab --description "$(printf 'a\tb')"
expect_fail "tenant create with a description of 256 bytes" 1 '^cnwctl: .*255' tenant create long --description "$(printf 'd%.0s' {1..256})"
is "$(wc -l <"$T/ctl.err")" 1 "an API error is one line on stderr"
raw --socket "$T/nonexistent.sock" --token-file "$ADMIN_TOKEN_FILE" tenant list
is "$RC" 1 "an unreachable socket: exit 1"
like "$(err)" "^cnwctl: cannot reach cnwd at $T/nonexistent.sock" "an unreachable socket: 'cnwctl: cannot reach cnwd at PATH'"
raw --socket "$SOCK" --token-file "$T/nonexistent" tenant list
is "$RC" 1 "a missing token file: exit 1"
like "$(err)" "^cnwctl: cannot read token file $T/nonexistent" "a missing token file: says so"
printf 'not a token\n' >"$T/bad.token"
raw --socket "$SOCK" --token-file "$T/bad.token" tenant list
is "$RC" 1 "a token file with a malformed token: exit 1"
printf '%s\n' "$(printf '0123456789abcdef%.0s' 1 2 3 4)" >"$T/unknown.token"
raw --socket "$SOCK" --token-file "$T/unknown.token" tenant list
is "$RC:$(err)" "1:cnwctl: unknown bearer token" "an unknown token: exit 1, 'cnwctl: unknown bearer token'"

# Usage errors: exit 2, and nothing is sent (the socket does not exist) ----------

usage() {
	local desc=$1 before
	shift
	before=$(audit_count)
	raw --socket "$T/nonexistent.sock" --token-file "$ADMIN_TOKEN_FILE" "$@"
	if [ "$RC" == 2 ] && [ -s "$T/ctl.err" ] && [ ! -s "$T/ctl.out" ] && [ "$(audit_count)" == "$before" ]; then
		ok "usage error, $desc: exit 2"
	else
		not_ok "usage error, $desc: exit 2" "cnwctl $*" "exit $RC" "stderr: $(err)" "stdout: $(out)"
	fi
}
usage "no command"
usage "unknown noun" frobnicate list
usage "noun without verb" tenant
usage "unknown verb" tenant frob
usage "tenant show without a name" tenant show
usage "tenant show with two names" tenant show a b
usage "tenant create without a name" tenant create --networks 1
usage "--networks abc" tenant create x --networks abc
usage "--networks -1" tenant create x --networks -1
usage "--networks 1.5" tenant create x --networks 1.5
usage "--networks ''" tenant create x --networks ""
usage "--flows 99999999999999999999" tenant create x --flows 99999999999999999999
usage "--networks without a value" tenant create x --networks
usage "an unknown option" tenant create x --bogus
usage "--cascade on show" tenant show x --cascade
usage "tenant update without a field" tenant update acme
usage "-o yaml" -o yaml tenant list
usage "an unknown global option" --frob tenant list
usage "--socket ''" --socket "" tenant list
usage "process list with an argument" process list extra
usage "version with an argument" version extra
raw --help
is "$RC" 0 "cnwctl --help: exit 0"
like "$(out)" 'usage: cnwctl' "cnwctl --help: prints the usage"
like "$(out)" 'tenant create NAME' "cnwctl --help: lists the commands"
raw tenant create --help
is "$RC:$(head -n 1 "$T/ctl.out")" "0:usage: cnwctl tenant create NAME [--description TEXT] [--networks N] [--bandwidth-kbps N|none] [--flows N]" \
    "cnwctl tenant create --help: exit 0, its usage"

# $CNW_TOKEN and $CNW_SOCKET -----------------------------------------------------
# Without --token-file, $CNW_TOKEN is the token; an explicit --token-file
# wins over it (docs/cli-and-config.md).

ctl tenant create other
CNW_TOKEN=$ACME_TOKEN raw --socket "$SOCK" -o json tenant list
is "$RC:$(json '[t["name"] for t in j["items"]]' "$T/ctl.out")" '0:["acme"]' \
    "CNW_TOKEN (a tenant's token) without --token-file: the tenant's view"
CNW_TOKEN=$ACME_TOKEN raw --socket "$SOCK" --token-file "$ADMIN_TOKEN_FILE" -o json tenant list
is "$RC:$(json '[t["name"] for t in j["items"]]' "$T/ctl.out")" '0:["acme","other"]' \
    "--token-file wins over CNW_TOKEN"
CNW_TOKEN=$ACME_TOKEN raw --socket "$SOCK" --token-file "$T/nonexistent" tenant list
is "$RC" 1 "--token-file naming a missing file wins over CNW_TOKEN: exit 1"
CNW_TOKEN=$ACME_TOKEN raw --socket "$SOCK" process list
is "$RC:$(err)" "1:cnwctl: listing processes needs the admin token" "CNW_TOKEN of a tenant: process list is refused, exit 1"
CNW_TOKEN=$ACME_TOKEN raw --socket "$SOCK" tenant delete acme
is "$RC" 1 "CNW_TOKEN of a tenant: tenant delete of its own tenant is refused, exit 1"
CNW_TOKEN=$ACME_TOKEN raw --socket "$SOCK" tenant show other
is "$RC:$(err)" '1:cnwctl: tenant "other" not found' "CNW_TOKEN of a tenant: another tenant is not found"
CNW_TOKEN=$(tr -d '\n' <"$ADMIN_TOKEN_FILE") raw --socket "$SOCK" process list
is "$RC" 0 "CNW_TOKEN holding the admin token: process list works"
CNW_TOKEN=$(printf '0123456789abcdef%.0s' 1 2 3 4) raw --socket "$SOCK" tenant list
is "$RC:$(err)" "1:cnwctl: unknown bearer token" "CNW_TOKEN unknown: exit 1"
CNW_TOKEN="not a token" raw --socket "$SOCK" tenant list
is "$RC" 1 "CNW_TOKEN malformed: exit 1"
CNW_SOCKET=$SOCK raw --token-file "$ADMIN_TOKEN_FILE" tenant show acme
is "$RC:$(field name)" "0:acme" "CNW_SOCKET names the socket"
CNW_SOCKET=$T/nonexistent.sock raw --socket "$SOCK" --token-file "$ADMIN_TOKEN_FILE" tenant show acme
is "$RC:$(field name)" "0:acme" "--socket wins over CNW_SOCKET"
ctl tenant delete other

code=$(api GET /v1/tenants "" "$ADMIN")
is "$(json '[t["name"] for t in j["items"]]')" '["acme"]' "after all this, only acme exists"

done_testing
