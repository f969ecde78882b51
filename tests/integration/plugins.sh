#!/bin/bash
# Verified plug-ins: the example third-party driver (examples/drivers) is
# built against the installed header and pkg-config file (make install
# into a temporary root), signed with cnwctl driver keygen/sign, and
# carries traffic between two sites; unsigned, tampered, wrongly signed,
# a signature of the wrong length, a path outside the plug-in directory
# and unsafe permissions are each refused with 400 and a clear detail,
# and nothing is made; GET /v1/drivers shows every state; a plug-in
# tampered with after it was accepted is refused at the next start of its
# driver.  TAP.
. "$(dirname "$0")/lib.sh"

: "${BUILDDIR:=$SRCDIR}"
n=$(($$ % 100000))
lab_init "ep$n" "gp$n"	# (api() talks to the edge once it is up)

# The header and pkg-config file, installed as a vendor would find them.
DEST="$T/root"
if make -s -C "$BUILDDIR" install-cnwincludeHEADERS install-pkgconfigDATA DESTDIR="$DEST" \
    >"$T/install.out" 2>&1; then
	ok "make install puts the ABI header and cnw-driver.pc in place"
else
	not_ok "make install puts the ABI header and cnw-driver.pc in place" "$(cat "$T/install.out")"
fi
pc=$(find "$DEST" -name cnw-driver.pc | head -1)
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$DEST
like "$(pkg-config --cflags cnw-driver)" "^-I$DEST/.*include" "pkg-config --cflags cnw-driver points at the installed header"
cp -r "$SRCDIR/examples/drivers" "$T/drv"
chmod -R u+w "$T/drv"	# a distcheck source tree is read-only
if make -s -C "$T/drv" >"$T/build.out" 2>&1 && [ -f "$T/drv/udp-plain.so" ]; then
	ok "the example driver builds against them"
else
	not_ok "the example driver builds against them" "$(cat "$T/build.out")"
fi

# Keys: a vendor's, trusted; another, not.
mkdir -p "$T/keys" "$T/trusted" "$T/plugins"
check "cnwctl driver keygen" "$CNWCTL" driver keygen "$T/keys/vendor.key" "$T/keys/vendor.pub"
check "a second key pair" "$CNWCTL" driver keygen "$T/keys/other.key" "$T/keys/other.pub"
is "$(stat -c %a "$T/keys/vendor.key")" 600 "the private key is 0600"
cp "$T/keys/vendor.pub" "$T/trusted/"
install -m 0644 "$T/drv/udp-plain.so" "$T/plugins/udp-plain.so"
check "cnwctl driver sign" "$CNWCTL" driver sign --key "$T/keys/vendor.key" "$T/plugins/udp-plain.so"
is "$(stat -c %s "$T/plugins/udp-plain.so.sig")" 64 "the signature is 64 bytes"
check "cnwctl driver verify (offline)" "$CNWCTL" driver verify --keys "$T/trusted" "$T/plugins/udp-plain.so"
# The refused ones.
install -m 0644 "$T/drv/udp-plain.so" "$T/plugins/nosig.so"
install -m 0644 "$T/drv/udp-plain.so" "$T/plugins/tampered.so"
cp "$T/plugins/udp-plain.so.sig" "$T/plugins/tampered.so.sig"
printf '\x01' | dd of="$T/plugins/tampered.so" bs=1 seek=4000 conv=notrunc 2>/dev/null
install -m 0644 "$T/drv/udp-plain.so" "$T/plugins/otherkey.so"
"$CNWCTL" driver sign --key "$T/keys/other.key" "$T/plugins/otherkey.so"
install -m 0644 "$T/drv/udp-plain.so" "$T/plugins/shortsig.so"
head -c 12 "$T/plugins/udp-plain.so.sig" >"$T/plugins/shortsig.so.sig"
install -m 0664 "$T/drv/udp-plain.so" "$T/plugins/groupw.so"
"$CNWCTL" driver sign --key "$T/keys/vendor.key" "$T/plugins/groupw.so"
chmod 0664 "$T/plugins/groupw.so"
check "cnwctl driver verify refuses the tampered one" bash -c "! '$CNWCTL' driver verify --keys '$T/trusted' '$T/plugins/tampered.so'"

cat >"$T/cnwd.conf" <<CONF
[hal]
plugin_dir = $T/plugins
trusted_keys = $T/trusted
CONF
export LAB_CNWD_ARGS="--config $T/cnwd.conf"
lab_up "the lab starts with a plug-in directory and trusted keys"

api GET /v1/drivers "" "$ADMIN" >/dev/null
states=$(jfield "' '.join('%s=%s' % (x['name'], x['signature']) for x in sorted(d['items'], key=lambda x: x['name']))")
is "$states" "afpacket=builtin groupw=unsafe-permissions nosig=unsigned otherkey=bad-signature shortsig=bad-length tampered=bad-signature tap=builtin udp=builtin udp-plain=verified" \
    "GET /v1/drivers: every plug-in with its signature state"
is "$(jfield "[x['key'] for x in d['items'] if x['name'] == 'udp-plain'][0]")" vendor "the verified one names its key"

# A third link between the sites, for the plug-in.
ip link add "$E-u3" netns "lab-$E" type veth peer name "$G-u3" netns "lab-$G"
ip -n "lab-$E" link set "$E-u3" up
ip -n "lab-$G" link set "$G-u3" up
ip -n "lab-$E" addr add 172.31.3.1/30 dev "$E-u3"
ip -n "lab-$G" addr add 172.31.3.2/30 dev "$G-u3"
refuse() {	# refuse DRIVER ERE DESC
	local code
	code=$(api POST /v1/uplinks "{\"name\": \"wan3\", \"interface\": \"$E-u3\", \"netns\": \"lab-$E\", \"address\": \"172.31.3.1:4789\", \"driver\": \"$1\"}" "$ADMIN")
	if [ "$code" == 400 ] && grep -Eq -- "$2" "$RESP_BODY"; then
		ok "400: $3"
	else
		not_ok "400: $3" "got $code: $(cat "$RESP_BODY")"
	fi
}
refuse nosig 'unsigned: .*no signature|unsigned' "an unsigned plug-in"
refuse tampered 'bad-signature' "a tampered plug-in"
refuse otherkey 'bad-signature' "a plug-in signed by an untrusted key"
refuse shortsig 'bad-length: .*12 bytes' "a signature of the wrong length"
refuse groupw 'unsafe-permissions' "a group-writable plug-in"
refuse /tmp/evil.so 'outside-plugin-dir' "a path outside the plug-in directory"
refuse nothere 'driver \\"nothere\\"' "a plug-in that does not exist"
is "$(api GET /v1/uplinks/wan3 "" "$ADMIN")" 404 "none of them made an uplink"
for p in nosig tampered otherkey shortsig groupw; do
	like "$(grep "plug-in $p refused" "$CNWD_LOG" | tail -1)" "refused: [a-z-]+: " "the log says why $p was refused"
done

# The verified one carries traffic.
code=$(api POST /v1/uplinks "{\"name\": \"wan3\", \"interface\": \"$E-u3\", \"netns\": \"lab-$E\", \"address\": \"172.31.3.1:4789\", \"driver\": \"udp-plain\"}" "$ADMIN")
is "$code" 201 "an uplink with the verified plug-in: 201"
lab_ctl "$G" uplink create wan3 --interface "$G-u3" --netns "lab-$G" --address 172.31.3.2:4789 --driver udp-plain >/dev/null
lab_ctl "$E" peer create p3 --endpoint wan3=172.31.3.2:4789 >/dev/null
lab_ctl "$G" peer create p3 --endpoint wan3=172.31.3.1:4789 >/dev/null
lab_ctl "$E" network create cameras n3 --subnet 10.5.0.0/24 --peer p3 --uplink wan3 >/dev/null
lab_ctl "$G" network create cameras n3 --subnet 10.6.0.0/24 --peer p3 --uplink wan3 >/dev/null
# link_up SITE UPLINK: SITE's UPLINK has its link up.
link_up() {
	[ "$(lab_ctl "$1" -o json uplink show "$2" | jfield "d['link']" /dev/stdin)" == up ]
}
wait_for "the plug-in's uplink wan3 is up" 5 link_up "$E" wan3
if ip netns exec "$E.cameras.n3" ping -c 5 -i 0.2 -W 2 10.6.0.1 >"$T/ping" 2>&1; then
	ok "traffic crosses over the plug-in (ping)"
else
	not_ok "traffic crosses over the plug-in (ping)" "$(cat "$T/ping")" "$(grep -i 'wan3\|plug-in' "$CNWD_LOG" | tail -20)"
fi
api GET /v1/uplinks/wan3 "" "$ADMIN" >/dev/null
like "$(jfield "d['counters']['tx_packets']")" '^[5-9]|^[1-9][0-9]' "the plug-in's uplink counts what it sent"
pid=$(lab_ctl "$E" -o json process list | "$PY" -c 'import json,sys; print([p["pid"] for p in json.load(sys.stdin)["items"] if p["name"] == "driver wan3"][0])')
like "$(grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/$pid/status | awk '{print $2}' | tr '\n' ' ')" '^0000000000000000 1 2 $' \
    "the plug-in runs sandboxed (no capabilities, no_new_privs, seccomp)"

# Tampered after it was accepted: refused at the next start of its driver.
printf '\x02' | dd of="$T/plugins/udp-plain.so" bs=1 seek=4000 conv=notrunc 2>/dev/null
kill -9 "$pid"
wait_until 5 file_has "$CNWD_LOG" 'plug-in udp-plain refused: bad-signature'	# else fails below
like "$(grep 'plug-in udp-plain refused' "$CNWD_LOG" | tail -1)" 'bad-signature' "a plug-in tampered with later is refused when its driver starts again"
api GET /v1/drivers "" "$ADMIN" >/dev/null
is "$(jfield "[x['signature'] for x in d['items'] if x['name'] == 'udp-plain'][0]")" bad-signature "and GET /v1/drivers shows it"

# The built-in afpacket driver: raw Ethernet (ethertype 0x88B5) on a
# 1500-byte link, the peer known by its MAC; datagrams over the MTU are
# fragmented by the driver and reassembled on the other side.
ip link add "$E-u4" netns "lab-$E" type veth peer name "$G-u4" netns "lab-$G"
ip -n "lab-$E" link set "$E-u4" up
ip -n "lab-$G" link set "$G-u4" up
mac_e=$(ip -n "lab-$E" -br link show "$E-u4" | awk '{print $3}')
mac_g=$(ip -n "lab-$G" -br link show "$G-u4" | awk '{print $3}')
is "$(api POST /v1/uplinks "{\"name\": \"wan4\", \"interface\": \"$E-u4\", \"netns\": \"lab-$E\", \"driver\": \"afpacket\", \"address\": \"10.0.0.1:1\"}" "$ADMIN")" 400 \
    "an afpacket uplink with an address: 400"
check "an afpacket uplink at the edge" lab_ctl "$E" uplink create wan4 --interface "$E-u4" --netns "lab-$E" --driver afpacket
check "and at the gateway" lab_ctl "$G" uplink create wan4 --interface "$G-u4" --netns "lab-$G" --driver afpacket
check "a peer known by its MAC" lab_ctl "$E" peer create p4 --endpoint "wan4=$mac_g"
lab_ctl "$G" peer create p4 --endpoint "wan4=$mac_e" >/dev/null
lab_ctl "$E" network create cameras n4 --subnet 10.7.0.0/24 --peer p4 --uplink wan4 >/dev/null
lab_ctl "$G" network create cameras n4 --subnet 10.8.0.0/24 --peer p4 --uplink wan4 >/dev/null
wait_for "the afpacket uplink wan4 is up" 5 link_up "$E" wan4
for size in 56 1472 8000; do
	if ip netns exec "$E.cameras.n4" ping -c 3 -i 0.2 -W 2 -s $size 10.8.0.1 >"$T/ping4" 2>&1; then
		ok "afpacket carries traffic: ping -s $size"
	else
		not_ok "afpacket carries traffic: ping -s $size" "$(cat "$T/ping4")" "$(grep -i 'wan4\|afpacket' "$CNWD_LOG" | tail -20)"
	fi
done
api GET /v1/interfaces/$E-u4?netns=lab-$E "" "$ADMIN" >/dev/null
is "$(jfield "d['uplink']")" wan4 "the interface under it names the uplink"
# Its rings are sized for the MTU: a new MTU restarts its driver, and traffic goes on.
# wan4_driver SITE: the pid of SITE's driver of wan4 when it runs, else 0.
wan4_driver() {
	lab_ctl "$1" -o json process list |
	    jfield "([p['pid'] for p in d['items'] if p.get('name') == 'driver wan4' and p['state'] == 'running'] + [0])[0]" /dev/stdin
}
# restarted SITE OLD_PID: SITE's driver of wan4 runs, with a pid other than OLD_PID.
restarted() {
	local pid
	pid=$(wan4_driver "$1")
	[ "$pid" != 0 ] && [ "$pid" != "$2" ]
}
old_e=$(wan4_driver "$E") old_g=$(wan4_driver "$G")
ip -n "lab-$E" link set "$E-u4" mtu 1400
ip -n "lab-$G" link set "$G-u4" mtu 1400
wait_until 5 file_has "$CNWD_LOG" "uplink wan4: the MTU of $E-u4 changed"	# else fails below
like "$(grep "uplink wan4: the MTU" "$CNWD_LOG" | tail -1)" "restarting its driver" "an MTU change restarts the afpacket driver"
# Both sites' drivers run again, on the new MTU.
wait_for "the edge's afpacket driver runs again" 10 restarted "$E" "$old_e"
wait_for "the gateway's afpacket driver runs again" 10 restarted "$G" "$old_g"
if ip netns exec "$E.cameras.n4" ping -c 3 -i 0.2 -W 2 -s 3000 10.8.0.1 >"$T/ping4" 2>&1; then
	ok "and traffic crosses at the new MTU"
else
	not_ok "and traffic crosses at the new MTU" "$(cat "$T/ping4")"
fi

lab_down
is "$(ip netns list | grep -cE "^($E|$G)\.|^lab-($E|$G)\$")" 0 "the lab leaves nothing behind"
done_testing
