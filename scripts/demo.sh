#!/bin/sh
# demo.sh PORTC - the main job on the bundled policies: check them, show
# where each stands, and ask them about a few packets.
set -eu
PORTC=$1
unset PORTC_PATH

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
run() { printf '$ portc %s\n' "$*"; $PORTC "$@"; }

say "check every bundled policy and the stdlib"
for f in policies/*.pol stdlib/std/*.pol stdlib/vendor/*.pol; do
	[ -f "$f" ] || continue
	run check "$f"
done
echo "all clean"

say "formatting: every file is in the canonical layout"
run fmt --check policies/*.pol stdlib/std/*.pol && echo "all formatted"

say "which rule does a packet hit? (the reference semantics)"
run query policies/branch-office.pol udp 192.0.2.130:16400 198.51.100.7:16500
echo
run query policies/branch-office.pol tcp 192.0.2.130:50000 203.0.113.80:443
echo
run query --format=json -D office=198.18.0.0/16 -D phones=198.18.1.0/24 \
	policies/branch-office.pol tcp 198.18.1.9:50000 198.51.100.7:5061

say "the Webex Calling profile at a site: a call's audio is allowed and marked EF"
run query --format=json -Wno-unenforceable -D site=198.18.0.0/16 policies/webex-calling.pol udp 198.18.1.5:8500 170.72.1.1:8500
run query -Wno-unenforceable -D site=198.18.0.0/16 policies/webex-calling.pol tcp 198.18.1.5:40000 170.72.1.1:22

say "compile it: nftables (first lines) and the counts"
run compile -t nftables --stats -Wno-unenforceable -D site=198.18.0.0/16 policies/webex-calling.pol -o build/webex-calling.nft
sed -n '1,12p' build/webex-calling.nft
run compile -t iptables --stats -Wno-unenforceable -D site=198.18.0.0/16 policies/webex-calling.pol -o build/webex-calling

say "compile it to a matching table for libportc, and ask the table"
run compile -t table --stats -Wno-unenforceable -D site=198.18.0.0/16 policies/webex-calling.pol -o build/webex-calling.ptab
run query --table build/webex-calling.ptab udp 198.18.1.5:8500 170.72.1.1:8500

say "render it as the vendor's table"
run doc -Wno-unenforceable -D site=198.18.0.0/16 policies/webex-calling.pol | sed -n '1,12p'

say "what a mistake looks like"
run check docs/examples/mistakes.pol || echo "(exit $? : the policy is rejected)"
