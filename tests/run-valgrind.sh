#!/bin/sh
# run-valgrind.sh BUILD - the address corpus under valgrind.
#
# libcidr is not built with ASan, so a write past one of its heap blocks
# (an address with two dozen colons once made cidr_from_str do that) is
# invisible to `make check SANITIZE=1`. valgrind sees every byte: each
# malformed address of tests/bad/ is checked, every valid spelling the
# policies use is compiled, and query endpoints go through the same parser.
set -u
B=$1
P=$B/portc
if ! command -v valgrind >/dev/null 2>&1; then
	echo "valgrind: SKIP: valgrind is not installed (apt-get install valgrind)"
	exit 0
fi
case $B in
*san*) echo "valgrind: SKIP: $B is a sanitizer build; valgrind runs on the plain one"; exit 0 ;;
esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
vg() { # expected-exit args...
	want=$1
	shift
	n=$((n + 1))
	valgrind -q --error-exitcode=99 --leak-check=no "$@" >/dev/null 2>"$tmp/err"
	rc=$?
	if [ $rc = 99 ] || grep -q '^==[0-9]*==' "$tmp/err"; then
		echo "FAIL (valgrind report): $*"
		grep '^==' "$tmp/err" | head -20
		fail=$((fail + 1))
	elif [ $rc != "$want" ]; then
		echo "FAIL (exit $rc, not $want): $*"
		head -3 "$tmp/err"
		fail=$((fail + 1))
	fi
}
for f in tests/bad/addr-*.pol; do
	vg 1 "$P" check "$f"
done
for f in policies/*.pol stdlib/vendor/*.pol; do
	vg 0 "$P" check -I stdlib "$f"
done
vg 0 "$P" compile -I stdlib -t nftables -o "$tmp/out.nft" policies/branch-office.pol
# query endpoints and -D values: the same strict parser, before libcidr
vg 2 "$P" query -I stdlib policies/branch-office.pol tcp 192.0.2.9 '[2001:db8::::::::::::::::::::::::::1]:22'
vg 2 "$P" query -I stdlib policies/branch-office.pol tcp 192.0.2.9 '2001:db8:0:0:0:0:0:0:1'
vg 0 "$P" query -I stdlib policies/branch-office.pol udp '[2001:db8::9]:40000' '[2001:db8:53::53]:53'
vg 1 "$P" check -I stdlib -D 'office=2001:db8::::::::::::::::::::::::::/64' policies/branch-office.pol
# diff: both policies through libcidr, then the product algebra
vg 1 "$P" diff docs/examples/change-old.pol docs/examples/change-new.pol
vg 0 "$P" diff -I stdlib policies/branch-office.pol policies/branch-office.pol
echo "valgrind: $n runs, $fail failed"
[ $fail = 0 ]
