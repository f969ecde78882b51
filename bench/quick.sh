#!/bin/bash
# The quick data-path check (under a minute): single-stream TCP and 64-byte
# UDP tenant to tenant across the two-site lab, each against kernel veth
# forwarding between two namespaces measured in the same run, as two lines
# with the ratios, so that a slower fast path shows before a release:
#   tcp  veth 41.20 Gbit/s (0 retr)  cnw 27.10 Gbit/s (12 retr)  cnw/veth 0.66
#   udp64  veth 1234567 pkt/s  cnw 654321 pkt/s  cnw/veth 0.53
# Prints figures; exits non-zero only when a figure cannot be measured.
# Root; removes what it makes.  SECS (default 4) per measurement.
#   BUILDDIR=. bench/quick.sh
set -euo pipefail
BENCH_HERE=$(cd "$(dirname "$0")" && pwd)
. "$BENCH_HERE/lib.sh"
BUILDDIR=${BUILDDIR:-$BENCH_HERE/..}
SECS=${SECS:-4}
export LAB_DIR=$(mktemp -d /tmp/cnw-quick.XXXXXX)
export CNWD=$BUILDDIR/cnwd/cnwd CNWCTL=$BUILDDIR/cli/cnwctl
# Sites and namespaces of this run's own, so that it runs beside the
# default lab and the tests' labs.
export LAB_EDGE=qe$(($$ % 100000)) LAB_GW=qg$(($$ % 100000))
cleanup() {
	bench_lab_down
	bench_netns_cleanup
	rm -rf "$LAB_DIR"
}
trap cleanup EXIT

number() { [[ $1 =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "$1" != 0 ] && [ "$1" != 0.00 ]; }
need() {	# need WHAT VALUE...: each VALUE a non-zero number, or stop
	local what=$1 v
	shift
	for v in "$@"; do
		number "$v" || { echo "quick: no figure for $what (got '$*')" >&2; exit 1; }
	done
}

bench_veth "$LAB_EDGE-a" "$LAB_EDGE-b"
read -r veth_tcp veth_rtx < <(bench_tcp "$LAB_EDGE-a" "$LAB_EDGE-b" 10.99.0.2)
veth_udp=$(bench_udp64 "$LAB_EDGE-a" "$LAB_EDGE-b" 10.99.0.2)
need "kernel veth" "$veth_tcp" "$veth_udp"

bench_lab_start
read -r cnw_tcp cnw_rtx < <(bench_tcp "$LAB_EDGE.cameras.net" "$LAB_GW.cameras.net" 10.2.0.1)
cnw_udp=$(bench_udp64 "$LAB_EDGE.cameras.net" "$LAB_GW.cameras.net" 10.2.0.1)
need "the cnw lab" "$cnw_tcp" "$cnw_udp"

printf 'tcp    veth %s Gbit/s (%s retr)  cnw %s Gbit/s (%s retr)  cnw/veth %s\n' \
    "$veth_tcp" "$veth_rtx" "$cnw_tcp" "$cnw_rtx" "$(bench_ratio "$cnw_tcp" "$veth_tcp")"
printf 'udp64  veth %s pkt/s  cnw %s pkt/s  cnw/veth %s\n' \
    "$veth_udp" "$cnw_udp" "$(bench_ratio "$cnw_udp" "$veth_udp")"
