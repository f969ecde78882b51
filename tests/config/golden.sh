#!/bin/bash
# Config golden files (after bgpd's regress): for each cases/NAME.conf,
# `cnwd --check --config` must print exactly cases/NAME.ok (with @FILE@ for
# the file's path) and exit 0 for "configuration OK", 1 otherwise.  TAP out.
set -u
here=$(cd "$(dirname "$0")" && pwd)
cnwd=${CNWD:-$here/../../cnwd/cnwd}
n=0 failed=0
cases=("$here"/cases/*.conf)
echo "1..$(( ${#cases[@]} + 1 ))"
for conf in "${cases[@]}"; do
	name=$(basename "$conf" .conf)
	want=$(sed "s|@FILE@|$conf|g" "$here/cases/$name.ok")
	got=$("$cnwd" --check --config "$conf" 2>&1)
	rc=$?
	expect_rc=1
	[ "$want" = "configuration OK" ] && expect_rc=0
	n=$((n + 1))
	if [ "$got" = "$want" ] && [ $rc -eq $expect_rc ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name (exit $rc, expected $expect_rc)"
		diff <(echo "$want") <(echo "$got") | sed 's/^/# /'
		failed=1
	fi
done
# A named config that does not exist is an error; the default one may be absent.
n=$((n + 1))
out=$("$cnwd" --check --config /nonexistent/cnwd.conf 2>&1)
if [ $? -eq 1 ] && [ "$out" = "/nonexistent/cnwd.conf: No such file or directory" ]; then
	echo "ok $n - missing named config"
else
	echo "not ok $n - missing named config: $out"
	failed=1
fi
exit 0
